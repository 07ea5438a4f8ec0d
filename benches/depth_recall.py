#!/usr/bin/env python3
"""Recall of planted variants in one region of a varstream VCF (benches/depth_memory.sh).

A planted variant (truth.tsv from benches/depth_data.py) is found when a record at the same
position, after trimming REF/ALT to their minimal form, has it among its ALTs and a genotype
that carries that ALT. Also counted: found with the planted genotype (0/1 vs 1/1), and other
non-reference calls in the region (false positives: the data has no other variants).

Prints one tab-separated line: found planted gt_match other; on stderr, what was missed or
found with the other genotype.
Usage: depth_recall.py TRUTH.tsv OUT.vcf.gz CONTIG:START-END
"""
import gzip
import re
import sys


def minimal(pos, ref, alt):
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt


def main():
    truth_path, vcf_path, region = sys.argv[1:4]
    m = re.fullmatch(r"([^:]+):([\d,]+)-([\d,]+)", region)
    contig, start, end = m.group(1), int(m.group(2).replace(",", "")), int(m.group(3).replace(",", ""))
    truth = {}
    with open(truth_path) as f:
        for line in f:
            if line.startswith("#"):
                continue
            c, pos, ref, alt, gt = line.split()
            if c == contig and start <= int(pos) <= end:
                truth[(c,) + minimal(int(pos), ref, alt)] = gt
    found, gt_match, other, wrong_gt = set(), 0, 0, []
    with gzip.open(vcf_path, "rt") as f:
        for line in f:
            if line.startswith("#"):
                continue
            col = line.rstrip("\n").split("\t")
            c, pos, ref, alts = col[0], int(col[1]), col[3], col[4].split(",")
            if c != contig or not start <= pos <= end:
                continue
            keys = col[8].split(":")
            gt = col[9].split(":")[keys.index("GT")] if "GT" in keys else "."
            called = [int(a) for a in re.split(r"[/|]", gt) if a not in (".", "0")]
            for i in sorted(set(called)):
                key = (c,) + minimal(pos, ref, alts[i - 1])
                if key in truth:
                    found.add(key)
                    dosage = called.count(i)
                    if (dosage == 2) == (truth[key] == "1/1"):
                        gt_match += 1
                    else:
                        wrong_gt.append("wrong GT: %s:%d %s>%s (%s) called %s" % (key + (truth[key], gt)))
                else:
                    other += 1
    for key in sorted(set(truth) - found):
        print("missed: %s:%d %s>%s (%s)" % (key + (truth[key],)), file=sys.stderr)
    for line in wrong_gt:
        print(line, file=sys.stderr)
    print("%d\t%d\t%d\t%d" % (len(found), len(truth), gt_match, other))


if __name__ == "__main__":
    main()
