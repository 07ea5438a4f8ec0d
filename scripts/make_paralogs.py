#!/usr/bin/env python3
"""Makes diverged copies of random segments of a region: the "collapsed paralog" artifact.

Why: reads aligned to a reference that lacks one copy of a segmental duplication (or a
copy-number gain of a diverged paralog) pile up on the copy that is present. Their
paralogous sequence variants (PSVs) then look like low-fraction SNVs and indels, often in
clusters, on reads that carry several other mismatches; in real Illumina data they are a
main source of false-positive calls outside GIAB's confident regions. Reads simulated only
from the sample's two haplotypes never show this, so a model trained on them calls PSVs.
The segments written here are simulated as one extra copy (half the diploid depth) and
aligned with the sample's reads; the truth VCF is unchanged, since PSVs are not variants of
the locus.

Model: non-overlapping segments of --min-len..--max-len bp (uniform) are drawn until
--fraction of the region is covered (segments with N are skipped). Each gets a divergence d
~ U(--div-min, --div-max): every base is substituted with probability d, and a 1-3 bp
insertion or deletion starts at a base with probability d / 10 (paralogs differ mostly by
substitutions). Segments come from the reference sequence, not from the haplotypes, so the
sample's own variants are not copied into the paralog (its true hets show ~1/3 allele
fraction there, as in real duplications).

Deterministic: the same --seed and input give the same output.
Usage: make_paralogs.py --seed N --fasta region.fa --out paralogs.fa [--summary FILE]
"""
import argparse
import random
import sys


def read_fasta(path):
    seq = []
    with open(path) as fh:
        header = fh.readline()
        if not header.startswith(">"):
            sys.exit(f"make_paralogs: {path}: not a FASTA file")
        for line in fh:
            if line.startswith(">"):
                sys.exit(f"make_paralogs: {path}: expected one record")
            seq.append(line.strip().upper())
    return "".join(seq)


def mutate(seq, d, rng):
    out = []
    n_sub = n_ins = n_del = 0
    i = 0
    while i < len(seq):
        b = seq[i]
        if rng.random() < d / 10:
            k = rng.randint(1, 3)
            if rng.random() < 0.5:
                out.append(b)
                out.append("".join(rng.choice("ACGT") for _ in range(k)))
                n_ins += 1
            else:
                out.append(b)
                i += k
                n_del += 1
            i += 1
            continue
        if rng.random() < d:
            b = rng.choice([c for c in "ACGT" if c != b])
            n_sub += 1
        out.append(b)
        i += 1
    return "".join(out), n_sub, n_ins, n_del


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--fasta", required=True, help="region FASTA (one record)")
    ap.add_argument("--out", required=True, help="paralog FASTA (one record per segment)")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--offset", type=int, default=1, help="1-based position of the region's first base (names only)")
    ap.add_argument("--fraction", type=float, default=0.15, help="share of the region covered (0.15)")
    ap.add_argument("--min-len", type=int, default=2000)
    ap.add_argument("--max-len", type=int, default=8000)
    ap.add_argument("--div-min", type=float, default=0.005)
    ap.add_argument("--div-max", type=float, default=0.03)
    ap.add_argument("--summary", help="also write the summary (key=value lines) here")
    args = ap.parse_args()
    if not (0 < args.fraction < 0.5 and 0 < args.min_len <= args.max_len and 0 <= args.div_min <= args.div_max < 0.2):
        ap.error("need 0 < fraction < 0.5, 0 < min-len <= max-len, 0 <= div-min <= div-max < 0.2")
    rng = random.Random(args.seed)
    region = read_fasta(args.fasta)
    n = len(region)
    if n < 2 * args.max_len:
        sys.exit(f"make_paralogs: region of {n} bp is too short for {args.max_len} bp segments")
    taken = []
    covered = 0
    tries = 0
    while covered < args.fraction * n and tries < 10_000:
        tries += 1
        L = rng.randint(args.min_len, args.max_len)
        s = rng.randrange(0, n - L)
        if any(s < e and t < s + L for t, e in taken) or "N" in region[s : s + L]:
            continue
        taken.append((s, s + L))
        covered += L
    taken.sort()
    totals = [0, 0, 0]
    with open(args.out, "w") as fh:
        for k, (s, e) in enumerate(taken):
            d = rng.uniform(args.div_min, args.div_max)
            seq, *counts = mutate(region[s:e], d, rng)
            totals = [a + b for a, b in zip(totals, counts)]
            fh.write(f">paralog{k}_{args.offset + s}_{args.offset + e - 1}_d{d:.4f}\n")
            for i in range(0, len(seq), 60):
                fh.write(seq[i : i + 60] + "\n")
    lines = [
        f"seed={args.seed}",
        f"params=fraction={args.fraction} len={args.min_len}-{args.max_len} div={args.div_min}-{args.div_max}",
        f"segments={len(taken)}",
        f"segment_bp={covered}",
        f"region_bp={n}",
        f"psv_substitutions={totals[0]} psv_insertions={totals[1]} psv_deletions={totals[2]}",
    ]
    text = "\n".join(lines) + "\n"
    sys.stderr.write("".join(f"make_paralogs: {l}\n" for l in lines))
    if args.summary:
        with open(args.summary, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
