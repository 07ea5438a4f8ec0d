#!/usr/bin/env python3
"""Predicted against observed hom-ref error of a gVCF's reference blocks, by GQ band.

Reads a gVCF written with one band per GQ value (`--gvcf-gq-bands 1,2,...,99`, so each
block's GQ is the GQ of every base in it), the truth VCF of a simulated genome and a BED of
regions where that truth is complete. For every base of a reference block inside the BED:

  observed  = truth variants whose POS lies in a reference block / bases in blocks
  predicted = mean over those bases of 10^(-GQ/10)  (GQ's own meaning: flat prior)
  with prior = the same evidence with a prior probability THETA that a base is not
               homozygous reference: odds = THETA / (2 (1 - THETA)) * flat odds

Only the standard library is used. Prints a Markdown table (and a TSV with --tsv).

Usage: gvcf_calibration.py --truth TRUTH.vcf.gz --bed BED [--bed BED...] GVCF [GVCF...]
                           [--bands 1,3,5,10,...] [--tsv]
Several BEDs are intersected (e.g. the simulated region and the truth's confident regions);
several gVCFs of the same genome (e.g. three depths) are summed into one table.
"""
import argparse
import bisect
import gzip
import math
import sys

# GATK's default heterozygosity (SNVs 1e-3; indels 1.25e-4 add little): the prior the
# "with prior" column uses. Not fitted to any data set.
THETA = 1e-3


def read_bed(path):
    by_contig = {}
    with open(path) as f:
        for line in f:
            if not line.strip() or line.startswith(("#", "track", "browser")):
                continue
            c, s, e = line.split("\t")[:3]
            by_contig.setdefault(c, []).append((int(s), int(e)))
    merged = {}
    for c, ivs in by_contig.items():
        ivs.sort()
        out = []
        for s, e in ivs:
            if out and s <= out[-1][1]:
                out[-1][1] = max(out[-1][1], e)
            else:
                out.append([s, e])
        merged[c] = out
    return merged


def intersect(a, b):
    out = {}
    for c, ivs in a.items():
        res = []
        for s, e in ivs:
            for s2, e2 in b.get(c, []):
                lo, hi = max(s, s2), min(e, e2)
                if lo < hi:
                    res.append([lo, hi])
        out[c] = res
    return out


def overlap(bed, contig, start, end):
    """Bases of [start, end) (0-based) inside the BED."""
    ivs = bed.get(contig, [])
    i = bisect.bisect_right(ivs, [start, float("inf")]) - 1
    i = max(i, 0)
    n = 0
    while i < len(ivs) and ivs[i][0] < end:
        s, e = max(ivs[i][0], start), min(ivs[i][1], end)
        if s < e:
            n += e - s
        i += 1
    return n


def inside(bed, contig, pos):
    return overlap(bed, contig, pos, pos + 1) == 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gvcf", nargs="+")
    ap.add_argument("--truth", required=True)
    ap.add_argument("--bed", action="append", required=True)
    ap.add_argument("--bands", default="1,3,5,10,20,30,40,50,60,70,80,90,99",
                    help="exclusive upper bounds of the table's GQ bands")
    ap.add_argument("--tsv", action="store_true")
    a = ap.parse_args()
    bounds = [int(x) for x in a.bands.split(",")]
    bed = read_bed(a.bed[0])
    for other in a.bed[1:]:
        bed = intersect(bed, read_bed(other))

    nb = len(bounds) + 1
    bases = [0] * nb
    pred = [0.0] * nb
    prior = [0.0] * nb
    errors = [0] * nb
    in_records = 0
    total = 0
    truth = []
    with gzip.open(a.truth, "rt") as f:
        for line in f:
            if line.startswith("#"):
                continue
            t = line.split("\t", 5)
            contig, pos = t[0], int(t[1]) - 1
            if inside(bed, contig, pos):
                truth.append((contig, pos))
    for gvcf in a.gvcf:
        # Reference blocks: (start, end, gq) per contig, sorted.
        blocks = {}
        with gzip.open(gvcf, "rt") as f:
            for line in f:
                if line.startswith("#"):
                    continue
                t = line.rstrip("\n").split("\t")
                if t[4] != "<*>":
                    continue
                info = dict(kv.split("=", 1) for kv in t[7].split(";") if "=" in kv)
                start, end = int(t[1]) - 1, int(info["END"])
                fmt = dict(zip(t[8].split(":"), t[9].split(":")))
                blocks.setdefault(t[0], []).append((start, end, int(fmt["GQ"])))
        for v in blocks.values():
            v.sort()
        for contig, v in blocks.items():
            for s, e, gq in v:
                n = overlap(bed, contig, s, e)
                if n == 0:
                    continue
                b = bisect.bisect_right(bounds, gq)
                p = min(10 ** (-gq / 10), 1.0 - 1e-12)
                odds = THETA / (2 * (1 - THETA)) * p / (1 - p)
                bases[b] += n
                pred[b] += n * p
                prior[b] += n * odds / (1 + odds)
        for contig, pos in truth:
            total += 1
            v = blocks.get(contig, [])
            i = bisect.bisect_right(v, (pos, float("inf"), 0)) - 1
            if i >= 0 and v[i][0] <= pos < v[i][1]:
                errors[bisect.bisect_right(bounds, v[i][2])] += 1
            else:
                in_records += 1

    labels = []
    lo = 0
    for b in bounds + [100]:
        labels.append(f"{lo}-{b - 1}" if b - 1 > lo else f"{lo}")
        lo = b
    rows = []
    for i in range(nb):
        if bases[i] == 0:
            continue
        obs = errors[i] / bases[i]
        rows.append((labels[i], bases[i], errors[i], obs, pred[i] / bases[i],
                     prior[i] / bases[i]))
    if a.tsv:
        print("gq_band\tbases\ttruth_in_blocks\tobserved\tpredicted_flat\tpredicted_prior")
        for r in rows:
            print("\t".join([r[0], str(r[1]), str(r[2])] + [f"{x:.3g}" for x in r[3:]]))
        return

    def phred(x):
        return "-" if x <= 0 else f"{-10 * math.log10(x):.1f}"

    print(f"{len(a.gvcf)} gVCF(s); truth variants in the BED, summed over them: {total}; "
          f"in variant records: {in_records}; in reference blocks: {sum(errors)}; "
          f"block bases in the BED: {sum(bases):,}")
    print()
    print("| GQ band | bases | truth variants in blocks | observed error (Phred) | "
          "predicted, GQ (Phred) | predicted, prior 1e-3 (Phred) |")
    print("|---|---|---|---|---|---|")
    for lab, n, k, obs, p, q in rows:
        print(f"| {lab} | {n:,} | {k} | {obs:.2g} ({phred(obs)}) | {p:.2g} ({phred(p)}) | "
              f"{q:.2g} ({phred(q)}) |")


if __name__ == "__main__":
    sys.exit(main())
