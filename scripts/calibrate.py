#!/usr/bin/env python3
"""Fit varstream's GQ/QUAL calibration and LowQual threshold, and tabulate predicted against
observed genotype error by GQ band.

    scripts/calibrate.py fit   MANIFEST VCF_DIR        # cal_* sets, called with --no-calibration
    scripts/calibrate.py table MANIFEST VCF_DIR        # depth_* sets, called with calibration

MANIFEST is scripts/simulate_training.sh's manifest.tsv (name, ref, bam, truth, bed, ...);
VCF_DIR holds NAME.vcf.gz for each set. Only the standard library is used.

The rules, fixed before any fit was run:
- Calibration: for each kind of site (only SNV candidates, or an indel candidate) and depth
  band (DP < 8, 8-12, 13-19, 20-39, >= 40), the power a in post' ~ post^a (temperature
  scaling of the genotype posteriors, from the VCF's PL) that minimises the negative
  log-likelihood of the true genotype over every record of the cal_* sets of that kind and
  band, on a grid 0.50, 0.55, ..., 6.00. (First version, one power per band for all sites:
  rejected after its table showed confident indel errors, not re-fitted on the table sets.)
- LowQual: the smallest integer QUAL in 0..50 maximising F1 of non-reference calls over the
  cal_* sets after calibration.
- A record's true genotype: the truth's copies of each of its alleles at its position (allele
  pairs trimmed to minimal form on both sides); a record whose position holds a truth allele
  it does not list is wrong whatever it says. Records outside the set's BED are ignored.
  (First version: "whose REF span holds" — it counted a RefCall deletion as wrong for SNVs
  that other records call inside its span.)
"""
import gzip
import json
import math
import sys
from collections import defaultdict

BANDS = [8, 13, 20, 40, None]
GRID = [0.5 + 0.05 * i for i in range(111)]


def trim(pos, ref, alt):
    """Minimal representation: drop the shared suffix, then the shared prefix (keep 1 base)."""
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt


def gt_alleles(gt):
    return [int(a) for a in gt.replace("|", "/").split("/") if a != "."]


def read_bed(path):
    out = defaultdict(list)
    with open(path) as f:
        for line in f:
            c, s, e = line.split()[:3]
            out[c].append((int(s), int(e)))
    return out


def inside(bed, c, pos1):
    return any(s < pos1 <= e for s, e in bed.get(c, ()))


def read_truth(path):
    """(contig, pos) -> {(ref, alt): copies} after trimming each pair."""
    truth = defaultdict(dict)
    with gzip.open(path, "rt") as f:
        for line in f:
            if line.startswith("#"):
                continue
            t = line.rstrip("\n").split("\t")
            alts = t[4].split(",")
            fmt = t[8].split(":")
            gt = gt_alleles(t[9].split(":")[fmt.index("GT")])
            for i, alt in enumerate(alts, 1):
                copies = gt.count(i)
                if copies:
                    p, r, a = trim(int(t[1]), t[3], alt)
                    truth[(t[0], p)][(r, a)] = copies
    return truth


def records(path, bed, truth):
    """Each record inside the BED: (dp, pl, gt index, true index or None, qual, called ALT truth)."""
    out = []
    with gzip.open(path, "rt") as f:
        for line in f:
            if line.startswith("#"):
                continue
            t = line.rstrip("\n").split("\t")
            c, pos = t[0], int(t[1])
            if not inside(bed, c, pos):
                continue
            fmt = t[8].split(":")
            vals = dict(zip(fmt, t[9].split(":")))
            alts = t[4].split(",")
            n = len(alts) + 1
            called = gt_alleles(vals["GT"])
            ploidy = len(called)
            # Truth copies of each listed ALT; any truth allele here that is not listed.
            copies = [0] * n
            listed = set()
            for i, alt in enumerate(alts, 1):
                p, r, a = trim(pos, t[3], alt)
                listed.add((p, r, a))
                copies[i] = truth.get((c, p), {}).get((r, a), 0)
            anchors = {p for p, _, _ in listed}
            unlisted = any(
                (p, r, a) not in listed for p in anchors for (r, a) in truth.get((c, p), {})
            )
            genos = genotypes(n, ploidy)
            true_gt = None
            if not unlisted:
                want = sorted(a for a in range(1, n) for _ in range(min(copies[a], ploidy)))
                want = [0] * (ploidy - len(want)) + want
                if len(want) == ploidy:
                    true_gt = genos.index(tuple(sorted(want)))
            pl = [int(x) for x in vals["PL"].split(",")]
            out.append(
                {
                    "dp": int(vals["DP"]),
                    "pl": pl,
                    "gt": genos.index(tuple(sorted(called))),
                    "true": true_gt,
                    "qual": float(t[5]),
                    "gq": int(vals["GQ"]),
                    "nonref": any(a > 0 for a in called),
                    "tp": any(copies[a] > 0 for a in set(called) if a > 0),
                    "indel": any(len(a) != len(t[3]) or len(a) > 1 for a in alts),
                }
            )
    return out


def genotypes(n, ploidy):
    if ploidy == 1:
        return [(a,) for a in range(n)]
    return [(j, k) for k in range(n) for j in range(k + 1)]


def band_of(dp):
    for i, b in enumerate(BANDS):
        if b is None or dp < b:
            return i


def log_post(pl, a):
    """log posteriors after raising to power a (PL = -10 log10 p, relative)."""
    x = [-a * p * math.log(10) / 10 for p in pl]
    m = max(x)
    z = m + math.log(sum(math.exp(v - m) for v in x))
    return [v - z for v in x]


def load(manifest, vcf_dir, prefix):
    sets = []
    with open(manifest) as f:
        next(f)
        for line in f:
            name, ref, bam, truth, bed = line.rstrip("\n").split("\t")[:5]
            if name.startswith(prefix):
                recs = records(f"{vcf_dir}/{name}.vcf.gz", read_bed(bed), read_truth(truth))
                n_truth = sum(
                    1
                    for (c, p), d in read_truth(truth).items()
                    if inside(read_bed(bed), c, p)
                    for _ in d
                )
                sets.append((name, recs, n_truth))
    return sets


def fit(manifest, vcf_dir):
    sets = load(manifest, vcf_dir, "cal_")
    recs = [r for _, rs, _ in sets for r in rs if r["true"] is not None]
    fitted = {}
    for kind in ("snv", "indel"):
        bands = []
        for i, bound in enumerate(BANDS):
            rs = [r for r in recs if band_of(r["dp"]) == i and r["indel"] == (kind == "indel")]
            best = min(GRID, key=lambda a: -sum(log_post(r["pl"], a)[r["true"]] for r in rs))
            nll1 = -sum(log_post(r["pl"], 1.0)[r["true"]] for r in rs)
            nll = -sum(log_post(r["pl"], best)[r["true"]] for r in rs)
            print(f"{kind} DP<{bound}: {len(rs)} records, power {best:.2f}, NLL {nll1:.1f} -> {nll:.1f}", file=sys.stderr)
            bands.append({"max_dp": bound, "power": round(best, 2), "records": len(rs)})
        fitted[kind] = bands

    # LowQual: QUAL after calibration is -10 log10 P(0/0) from the calibrated PL.
    def qual_after(r):
        a = fitted["indel" if r["indel"] else "snv"][band_of(r["dp"])]["power"]
        lp = log_post(r["pl"], a)
        return -10 * lp[0] / math.log(10)
    all_recs = [r for _, rs, _ in sets for r in rs]
    n_truth = sum(n for _, _, n in sets)
    best_q, best_f1 = 0, -1.0
    for q in range(0, 51):
        tp = sum(1 for r in all_recs if r["nonref"] and r["tp"] and qual_after(r) >= q)
        fp = sum(1 for r in all_recs if r["nonref"] and not r["tp"] and qual_after(r) >= q)
        f1 = 2 * tp / (tp + fp + n_truth) if tp + fp + n_truth else 0
        if f1 > best_f1 + 1e-12:
            best_q, best_f1 = q, f1
    print(f"LowQual: QUAL < {best_q} (F1 {best_f1:.4f} over {n_truth} truth alleles)", file=sys.stderr)
    json.dump(
        {
            "method": "genotype posteriors raised to a power per DP band (temperature scaling), from PL",
            "fitted_on": [name for name, _, _ in sets],
            "rule": "per band, the power on a 0.05 grid in 0.5..6 minimising the NLL of the true genotype (scripts/calibrate.py)",
            "snv_bands": fitted["snv"],
            "indel_bands": fitted["indel"],
            "min_qual": best_q,
            "min_qual_rule": "smallest integer QUAL in 0..50 maximising F1 of non-reference calls over the fitted sets",
        },
        sys.stdout,
        indent=1,
    )
    print()


GQ_BANDS = [(0, 10), (10, 20), (20, 30), (30, 40), (40, 50), (50, 60), (60, 99), (99, 100)]


def table(manifest, vcf_dir):
    sets = load(manifest, vcf_dir, "depth_")
    print("| set | GQ band | calls | predicted error | observed error | observed / predicted |")
    print("|---|---|---|---|---|---|")
    pooled = defaultdict(lambda: [0, 0.0, 0])
    for name, recs, _ in sets + [("all depth_* sets", None, 0)]:
        rows = pooled if recs is None else defaultdict(lambda: [0, 0.0, 0])
        if recs is not None:
            for r in recs:
                b = next(i for i, (lo, hi) in enumerate(GQ_BANDS) if lo <= r["gq"] < hi)
                wrong = r["true"] is None or r["true"] != r["gt"]
                for tgt in (rows, pooled):
                    tgt[b][0] += 1
                    tgt[b][1] += 10 ** (-r["gq"] / 10)
                    tgt[b][2] += wrong
        for b, (lo, hi) in enumerate(GQ_BANDS):
            n, pred, obs = rows[b]
            if n == 0:
                continue
            p, o = pred / n, obs / n
            ratio = f"{o / p:.2f}" if p > 0 else "-"
            label = "99" if lo == 99 else f"{lo}-{hi - 1}"
            print(f"| {name} | {label} | {n} | {p:.2e} | {o:.2e} ({obs}) | {ratio} |")


if __name__ == "__main__":
    cmd, manifest, vcf_dir = sys.argv[1:4]
    {"fit": fit, "table": table}[cmd](manifest, vcf_dir)
