#!/usr/bin/env python3
"""Write a fitted calibration (scripts/calibrate.py fit's JSON) and the LowQual threshold into a
model's sidecar `calling` block, keeping what training chose for the record.

    scripts/set_calling.py SIDECAR.json CALIBRATION.json --min-qual Q [--why TEXT]

`calling.min_qual` is what `varstream call` uses (Q); the fitted threshold is kept under
`min_qual_fitted` with TEXT saying why it is or is not the one used. Only the standard library.
"""
import argparse
import json
import os


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sidecar")
    ap.add_argument("calibration")
    ap.add_argument("--min-qual", type=float, required=True)
    ap.add_argument("--why", default="")
    a = ap.parse_args()
    with open(a.sidecar) as fh:
        side = json.load(fh)
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
    tmp = a.sidecar + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(side, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, a.sidecar)


if __name__ == "__main__":
    main()
