#!/usr/bin/env python3
"""Per-read indel error rate at homozygous-reference positions, by the tandem repeat that
starts after the position: what `ref_confidence::indel_error_phred` was fitted to.

Reads `samtools mpileup -B -Q 0 -q 5 -f REF -r REGION BAM` output and the truth VCF of the
simulated genome. Positions within 15 bp of a truth variant are left out. For each position:
the longest repeat (motif of 1-4 bases, at least two copies) starting at the next base, and
the reads with an insertion or deletion anchored there (`+n`/`-n` in the pileup). Prints
(motif, length in bases for homopolymers / copies otherwise, reads, indels, rate).

Usage: samtools mpileup -B -Q 0 -q 5 -f REF -r chr20:6500500-6999500 reads.bam > p.txt
       indel_error_rates.py p.txt truth.vcf.gz
"""
import collections
import gzip
import re
import sys


def main():
    pileup, truth = sys.argv[1], sys.argv[2]
    near = set()
    with gzip.open(truth, "rt") as f:
        for line in f:
            if line.startswith("#"):
                continue
            t = line.split("\t")
            start = int(t[1])
            for x in range(start - 15, start + len(t[3]) + 15):
                near.add(x)
    rows = [line.rstrip("\n").split("\t") for line in open(pileup)]
    ref = {int(r[1]): r[2].upper() for r in rows}

    def repeat_after(p):
        best = (1, 1)
        for unit in range(1, 5):
            motif = [ref.get(p + 1 + i) for i in range(unit)]
            if None in motif:
                continue
            n = 0
            while ref.get(p + 1 + n) == motif[n % unit]:
                n += 1
            if n >= 2 * unit and n > best[1]:
                best = (unit, n)
        return best

    stats = collections.defaultdict(lambda: [0, 0])
    for r in rows:
        p = int(r[1])
        if p in near:
            continue
        unit, n = repeat_after(p)
        key = ("hp", min(n, 20)) if unit == 1 else (f"{unit}bp", min(n // unit, 10))
        stats[key][0] += int(r[3])
        stats[key][1] += len(re.findall(r"[+-][0-9]+", r[4]))
    print("motif\tlength_or_copies\treads\tindels\trate")
    for k in sorted(stats):
        d, i = stats[k]
        print(f"{k[0]}\t{k[1]}\t{d}\t{i}\t{i / d:.2e}" if d else f"{k[0]}\t{k[1]}\t0\t0\t-")


if __name__ == "__main__":
    main()
