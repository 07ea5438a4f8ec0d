#!/usr/bin/env python3
"""Simulated long reads for the long-read speed and memory benchmark (benches/long_reads.sh).

Writes OUT/ref.fa (a random contig `chrS` of --length bases, with .fai by samtools) and
OUT/reads.sam: reads of --read-length bases (fixed, so runs at two lengths differ only in
length) at --depth x from a diploid genome with a het SNV every 1 kb and a hom one every 5 kb,
with HiFi-like errors (--errors hifi: about 1 in 1,000 bases, substitutions and 1 bp indels)
or ONT-like ones (--errors ont: 1 % substitutions, and a homopolymer of 3 or more read one base
short or long with probability 0.15, ONT's dominant error). The CIGAR is exact; every read
MAPQ 60, Q30 bases; the read group names the platform as its tools write it. Deterministic
for a --seed.

With --het-haplotypes random each het SNV lies on a haplotype drawn at random (by default all
lie on the first), for phasing (benches/phasing.sh); OUT/truth.vcf then gives the phased truth.

Usage: long_read_data.py OUT --length 1000000 --read-length 20000 --depth 30 [--errors hifi]
       [--seed 1] [--het-haplotypes first|random]
"""
import argparse
import os
import random
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--length", type=int, default=1_000_000)
    ap.add_argument("--read-length", type=int, default=20_000)
    ap.add_argument("--depth", type=float, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--errors", choices=["hifi", "ont"], default="hifi")
    ap.add_argument("--het-haplotypes", choices=["first", "random"], default="first")
    a = ap.parse_args()
    if a.read_length > a.length or a.read_length < 100:
        sys.exit("long_read_data.py: --read-length must be 100 to --length")
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    ref = "".join(rng.choice("ACGT") for _ in range(a.length))
    with open(os.path.join(a.out, "ref.fa"), "w") as f:
        f.write(">chrS\n")
        for i in range(0, a.length, 80):
            f.write(ref[i:i + 80] + "\n")
    other = {"A": "C", "C": "G", "G": "T", "T": "A"}
    haps = [list(ref), list(ref)]
    # Its own generator: the reads stay those of --het-haplotypes first.
    hap_rng = random.Random(a.seed + 1_000)
    truth = []
    for p in range(500, a.length - 500, 1000):
        if p % 5000 == 500:
            haps[0][p] = haps[1][p] = other[ref[p]]
            truth.append((p, "1|1"))
        else:
            h = hap_rng.randrange(2) if a.het_haplotypes == "random" else 0
            haps[h][p] = other[ref[p]]
            truth.append((p, "1|0" if h == 0 else "0|1"))
    haps = ["".join(h) for h in haps]
    with open(os.path.join(a.out, "truth.vcf"), "w") as f:
        f.write("##fileformat=VCFv4.2\n")
        f.write(f"##contig=<ID=chrS,length={a.length}>\n")
        f.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
        f.write('##FORMAT=<ID=PS,Number=1,Type=Integer,Description="Phase set">\n')
        f.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tSIM\n")
        for p, gt in truth:
            f.write(f"chrS\t{p + 1}\t.\t{ref[p]}\t{other[ref[p]]}\t.\tPASS\t.\tGT:PS\t{gt}:1\n")
    n_reads = int(a.depth * a.length / a.read_length)
    with open(os.path.join(a.out, "reads.sam"), "w") as f:
        f.write(f"@HD\tVN:1.6\tSO:unsorted\n@SQ\tSN:chrS\tLN:{a.length}\n")
        if a.errors == "hifi":
            f.write("@RG\tID:rg1\tSM:SIM\tPL:PACBIO\tDS:READTYPE=CCS\n")
        else:
            f.write("@RG\tID:rg1\tSM:SIM\tPL:ONT\t"
                    "DS:basecall_model=dna_r10.4.1_e8.2_400bps_hac@v5.0.0\n")
        for n in range(n_reads):
            hap = haps[n % 2]
            start = rng.randrange(0, a.length - a.read_length + 1)
            seq, cigar = [], []

            def op(c, k=1):
                if cigar and cigar[-1][0] == c:
                    cigar[-1][1] += k
                else:
                    cigar.append([c, k])

            p = start
            while p < start + a.read_length:
                if a.errors == "ont":
                    run = 1
                    while p + run < start + a.read_length and hap[p + run] == hap[p]:
                        run += 1
                    if run >= 3 and (p == start or hap[p - 1] != hap[p]) and rng.random() < 0.15:
                        # The run read one base short (a deletion at its end) or long.
                        seq.extend(hap[p:p + run - 1])
                        op("M", run - 1)
                        if rng.random() < 0.5:
                            op("D")
                        else:
                            seq.append(hap[p])
                            op("M")
                            seq.append(hap[p])
                            op("I")
                        p += run
                        continue
                    if rng.random() < 0.01:
                        seq.append(other[hap[p]])
                    else:
                        seq.append(hap[p])
                    op("M")
                    p += 1
                    continue
                r = rng.random()
                if r < 0.0003:  # deletion
                    op("D")
                elif r < 0.0006:  # insertion after the base
                    seq.append(hap[p])
                    op("M")
                    seq.append(rng.choice("ACGT"))
                    op("I")
                elif r < 0.001:  # substitution
                    seq.append(other[hap[p]])
                    op("M")
                else:
                    seq.append(hap[p])
                    op("M")
                p += 1
            # A CIGAR may not start or end with a deletion.
            while cigar and cigar[0][0] == "D":
                start += cigar[0][1]
                cigar.pop(0)
            while cigar and cigar[-1][0] == "D":
                cigar.pop()
            s = "".join(seq)
            flag = 16 if n % 2 else 0
            f.write(f"sim{n}\t{flag}\tchrS\t{start + 1}\t60\t"
                    + "".join(f"{k}{c}" for c, k in cigar)
                    + f"\t*\t0\t0\t{s}\t{'?' * len(s)}\tRG:Z:rg1\n")


if __name__ == "__main__":
    main()
