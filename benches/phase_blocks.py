#!/usr/bin/env python3
"""Phasing in numbers, the same way for any VCF (varstream's, WhatsHap's): heterozygous PASS
calls of the first sample (multi-allelic ones included), how many are phased (`|`), blocks
(phase sets of at least two phased calls) and the N50 of their spans (first to last phased
call, inclusive). A phased call without PS counts in one block per contig (VCF's default).

Usage: phase_blocks.py CALLS.vcf[.gz]   prints: het_calls phased blocks block_n50
"""
import gzip
import sys
from collections import defaultdict


def main():
    path = sys.argv[1]
    opener = gzip.open if path.endswith(".gz") else open
    het = phased = 0
    blocks = defaultdict(list)
    with opener(path, "rt") as f:
        for line in f:
            if line.startswith("#"):
                continue
            col = line.rstrip("\n").split("\t")
            if col[6] not in ("PASS", "."):
                continue
            fmt = dict(zip(col[8].split(":"), col[9].split(":")))
            gt = fmt.get("GT", ".")
            alleles = gt.replace("|", "/").split("/")
            if len(alleles) != 2 or "." in alleles or alleles[0] == alleles[1]:
                continue
            het += 1
            if "|" in gt:
                phased += 1
                blocks[(col[0], fmt.get("PS", "."))].append(int(col[1]))
    spans = sorted((max(p) - min(p) + 1 for p in blocks.values() if len(p) >= 2), reverse=True)
    total, acc, n50 = sum(spans), 0, 0
    for s in spans:
        acc += s
        if 2 * acc >= total:
            n50 = s
            break
    print(het, phased, len(spans), n50)


if __name__ == "__main__":
    main()
