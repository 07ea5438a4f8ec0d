#!/usr/bin/env python3
"""Write a fitted calibration (scripts/calibrate.py fit's JSON) and the LowQual threshold into a
model's sidecar `calling` block, keeping what training chose for the record.

    scripts/set_calling.py SIDECAR.json CALIBRATION.json --min-qual Q [--why TEXT]
                           [--min-alt-reads N]
    scripts/set_calling.py SIDECAR.json --min-alt-reads N     (only that key)

`calling.min_qual` is what `varstream call` uses (Q); the fitted threshold is kept under
`min_qual_fitted` with TEXT saying why it is or is not the one used. `calling.min_alt_reads`
(issue 13) is the fewest reads an allele needs to become a candidate, what the model was
trained with (build_lowdepth.sh MIN_ALT_READS); absent = 2. It is kept when the calibration is
rewritten. Only the standard library.
"""
import argparse
import json
import os


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sidecar")
    ap.add_argument("calibration", nargs="?")
    ap.add_argument("--min-qual", type=float)
    ap.add_argument("--min-alt-reads", type=int)
    ap.add_argument("--why", default="")
    a = ap.parse_args()
    if (a.calibration is None) != (a.min_qual is None):
        ap.error("CALIBRATION and --min-qual go together")
    if a.calibration is None and a.min_alt_reads is None:
        ap.error("nothing to write: give CALIBRATION --min-qual Q and/or --min-alt-reads N")
    if a.min_alt_reads is not None and a.min_alt_reads < 1:
        ap.error("--min-alt-reads must be at least 1")
    with open(a.sidecar) as fh:
        side = json.load(fh)
    if a.calibration is None:
        side.setdefault("calling", {})["min_alt_reads"] = a.min_alt_reads
        write(a.sidecar, side)
        return
    with open(a.calibration) as fh:
        cal = json.load(fh)
    old = side.get("calling", {})
    at_training = old.get("min_qual_at_training", {k: v for k, v in old.items() if k != "calibration"})
    side["calling"] = {
        "min_qual": a.min_qual,
        "min_qual_at_training": at_training,
        "calibration": {k: cal[k] for k in ("method", "fitted_on", "rule", "snv_bands", "indel_bands", "ceilings") if k in cal},
        "min_qual_fitted": {"min_qual": cal["min_qual"], "rule": cal["min_qual_rule"] + " (scripts/calibrate.py)"},
        "min_qual_rule": f"{a.min_qual:g}" + (f": {a.why}" if a.why else ""),
    }
    if a.why:
        side["calling"]["min_qual_fitted"]["why_not_used" if a.min_qual != cal["min_qual"] else "why"] = a.why
    min_alt_reads = a.min_alt_reads if a.min_alt_reads is not None else old.get("min_alt_reads")
    if min_alt_reads is not None:
        side["calling"]["min_alt_reads"] = min_alt_reads
    write(a.sidecar, side)


def write(path, side):
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(side, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
