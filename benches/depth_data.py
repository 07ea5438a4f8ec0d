#!/usr/bin/env python3
"""Deterministic deep-coverage data for benches/depth_memory.sh (standard library only).

Writes, into --out:
  ref.fa      three random contigs:
                chrM    16,569 bp, chrM-like: GC 44%, a few homopolymers, 20 planted variants;
                chr30x  200,000 bp, 40 planted variants (the 30x baseline);
                chrPile 100,000 bp, 8 planted SNVs, two of them in the pile-up locus;
  truth.tsv   the planted variants: contig, 1-based pos, ref, alt (VCF style, indels
              left-aligned with their anchor base), genotype (0/1 or 1/1);
  layout.tsv  contig, length, depth, and the pile-up locus;
and SAM on stdout (header, then unsorted records; the caller pipes it into samtools sort):
  chrM at 5,000x, chr30x at 30x, chrPile at 30x plus 30,000 read pairs stacked over one ~1 kb
  locus (every pair has exactly one read over the locus centre, so it reaches 30,000x there).

Reads are 2 x 150 bp proper pairs (fragment ~350 +- 50 bp), MAPQ 60, drawn from the two
haplotypes (1/1 variants on both, 0/1 on the second), aligned exactly where they came from:
reads that cross a planted indel carry it in their CIGAR (insertion bases at a read end are
soft-clipped). Base errors are substitutions at 0.1% per base; base qualities come from 64
fixed per-read profiles (Q~36 falling towards the 3' end). No MD/NM tags.

Everything is fixed by --seed (default 20261129); the same seed gives byte-identical output.
benches/depth_memory.sh keys its cache on this file's checksum, so any change here regenerates.

Usage: depth_data.py --out DIR [--seed N] | samtools sort -o DIR/reads.bam -
"""
import argparse
import bisect
import os
import random
import sys

READ_LEN = 150
FRAG_MEAN, FRAG_SD, FRAG_MIN, FRAG_MAX = 350, 50, 200, 600
BASE_ERROR = 0.001
MAPQ = 60
BASES = "ACGT"

# name, length, depth, planted (snv, ins, del, homopolymer del), homopolymers
CONTIGS = [
    ("chrM", 16569, 5000, (13, 3, 3, 1), 8),
    ("chr30x", 200000, 30, (28, 6, 6, 0), 10),
    ("chrPile", 100000, 30, (8, 0, 0, 0), 0),
]
PILE_CONTIG = "chrPile"
PILE_CENTRE = 50500  # 0-based; the locus is about PILE_CENTRE-500 .. PILE_CENTRE+500
PILE_PAIRS = 30000
PILE_SNVS = ((-40, "0/1"), (60, "1/1"))  # offsets from the centre of the SNVs planted there


def random_sequence(rng, length, gc=0.44):
    at, cg = (1 - gc) / 2, gc / 2
    return rng.choices(BASES, weights=(at, cg, cg, at), k=length)


def add_homopolymers(rng, seq, n):
    """Overwrite n stretches with runs of one base, 7-13 bp; returns their [start, end)."""
    runs = []
    while len(runs) < n:
        length = rng.randint(7, 13)
        start = rng.randrange(500, len(seq) - 500)
        if any(start < e + 200 and s < start + length + 200 for s, e in runs):
            continue
        base = rng.choice(BASES)
        # The bases either side must differ from the run, so the run has exactly this length.
        if seq[start - 1] == base or seq[start + length] == base:
            continue
        seq[start:start + length] = [base] * length
        runs.append((start, start + length))
    return sorted(runs)


def shiftable(seq, p, ref, alt):
    """True if an indel anchored at 0-based p could be written further left or right."""
    if len(ref) > len(alt):  # deletion of ref[1:]
        k = len(ref) - 1
        return seq[p] == seq[p + k] or seq[p + 1] == seq[p + k + 1]
    ins = alt[1:]
    return ins[-1] == seq[p] or ins[0] == seq[p + 1]


def plant(rng, name, seq, counts, runs, fixed=()):
    """Planted variants as (0-based anchor, ref, alt, gt), sorted and >= 60 bp apart."""
    n_snv, n_ins, n_del, n_hdel = counts
    taken = [(p - 60, p + 60) for p, _, _, _ in fixed]
    avoid = [(s - 15, e + 15) for s, e in runs]
    out = list(fixed)

    def free(p, span):
        return not any(p < e and s < p + span for s, e in taken + avoid)

    def gt():
        # chrM is mostly homoplasmic: two in three hom-alt there, one in two elsewhere.
        return "1/1" if rng.random() < (2 / 3 if name == "chrM" else 0.5) else "0/1"

    # One-base deletions in homopolymers, written left-aligned (anchored before the run), as
    # in chrM's poly-C tracts.
    for s, e in runs[:n_hdel]:
        p = s - 1
        out.append((p, seq[p] + seq[s], seq[p], "1/1"))
        taken.append((p - 60, e + 60))
    for kind, n in (("snv", n_snv), ("ins", n_ins), ("del", n_del)):
        placed = 0
        while placed < n:
            p = rng.randrange(300, len(seq) - 300)
            if kind == "snv":
                ref = seq[p]
                alt = rng.choice([b for b in BASES if b != ref])
            elif kind == "ins":
                ins = "".join(rng.choices(BASES, k=rng.randint(1, 6)))
                ref, alt = seq[p], seq[p] + ins
            else:
                k = rng.randint(1, 10)
                ref, alt = "".join(seq[p:p + k + 1]), seq[p]
            if not free(p, len(ref) + 1) or (kind != "snv" and shiftable(seq, p, ref, alt)):
                continue
            out.append((p, ref, alt, gt()))
            taken.append((p - 60, p + len(ref) + 60))
            placed += 1
    return sorted(out)


def haplotype(seq, variants, which):
    """Haplotype sequence (str), its reference position per base (-1: inserted), and the
    sorted haplotype indices where that mapping is not reference position + 1."""
    parts, refpos = [], []
    at = 0
    for p, ref, alt, gt in variants:
        if which == 0 and gt == "0/1":
            continue
        parts.append("".join(seq[at:p]))
        refpos.extend(range(at, p))
        parts.append(alt)
        if len(alt) >= len(ref):  # SNV or insertion: alt[0] sits on p (or replaces it)
            refpos.append(p)
            refpos.extend([-1] * (len(alt) - 1))
        else:  # deletion: anchor kept, ref[1:] skipped
            refpos.append(p)
        at = p + len(ref)
    parts.append("".join(seq[at:]))
    refpos.extend(range(at, len(seq)))
    hap = "".join(parts)
    irregular = [j for j in range(1, len(refpos))
                 if refpos[j] == -1 or refpos[j] != refpos[j - 1] + 1]
    return hap, refpos, irregular


def alignment(refpos, irregular, a):
    """(1-based POS, CIGAR, reference span) of the haplotype read [a, a + READ_LEN)."""
    b = a + READ_LEN
    i = bisect.bisect_right(irregular, a)
    if refpos[a] != -1 and (i == len(irregular) or irregular[i] >= b):
        return refpos[a] + 1, "%dM" % READ_LEN, READ_LEN
    ops = []

    def op(c, n=1):
        if ops and ops[-1][0] == c:
            ops[-1][1] += n
        else:
            ops.append([c, n])

    first = last = None
    for j in range(a, b):
        r = refpos[j]
        if r == -1:
            op("S" if first is None else "I")
            continue
        if first is None:
            first = r
        elif r != last + 1:
            op("D", r - last - 1)
        op("M")
        last = r
    # Inserted bases at the read's end become a soft clip.
    if ops[-1][0] == "I":
        ops[-1][0] = "S"
    return first + 1, "".join("%d%s" % (n, c) for c, n in ops), last - first + 1


class Reads:
    def __init__(self, rng, out):
        self.rng = rng
        self.out = out
        self.buf = []
        # P(k errors in a read), k = 0..4; more than 4 at 0.1% per base is negligible.
        probs, p = [], (1 - BASE_ERROR) ** READ_LEN
        for k in range(5):
            probs.append(p)
            p = p * (READ_LEN - k) / (k + 1) * BASE_ERROR / (1 - BASE_ERROR)
        self.error_cdf = [sum(probs[:k + 1]) for k in range(5)]
        self.quals = []
        for _ in range(64):
            q = [max(2, min(41, round(rng.gauss(36 - 10 * (i / READ_LEN) ** 3, 2.5))))
                 for i in range(READ_LEN)]
            self.quals.append("".join(chr(33 + x) for x in q))

    def errors(self, s):
        u = self.rng.random()
        if u <= self.error_cdf[0]:
            return s
        k = next((k for k, c in enumerate(self.error_cdf) if u <= c), 4)
        s = list(s)
        for i in self.rng.sample(range(READ_LEN), k):
            s[i] = self.rng.choice([b for b in BASES if b != s[i]])
        return "".join(s)

    def pair(self, name, contig, hap, a_left, frag):
        """Emit one proper pair from haplotype hap = (seq, refpos, irregular), fragment
        [a_left, a_left + frag) in haplotype coordinates."""
        seq, refpos, irregular = hap
        a_right = a_left + frag - READ_LEN
        lpos, lcig, lspan = alignment(refpos, irregular, a_left)
        rpos, rcig, rspan = alignment(refpos, irregular, a_right)
        tlen = rpos + rspan - lpos
        # Which mate is read 1 (forward strand) alternates at random, as in real libraries.
        if self.rng.random() < 0.5:
            lflag, rflag = 99, 147
        else:
            lflag, rflag = 163, 83
        rg = "RG:Z:bench"
        q = self.quals
        self.buf.append("%s\t%d\t%s\t%d\t%d\t%s\t=\t%d\t%d\t%s\t%s\t%s\n" % (
            name, lflag, contig, lpos, MAPQ, lcig, rpos, tlen,
            self.errors(seq[a_left:a_left + READ_LEN]), q[self.rng.randrange(64)], rg))
        self.buf.append("%s\t%d\t%s\t%d\t%d\t%s\t=\t%d\t%d\t%s\t%s\t%s\n" % (
            name, rflag, contig, rpos, MAPQ, rcig, lpos, -tlen,
            self.errors(seq[a_right:a_right + READ_LEN]), q[self.rng.randrange(64)], rg))
        if len(self.buf) >= 20000:
            self.flush()

    def flush(self):
        self.out.write("".join(self.buf))
        self.buf = []

    def fragment_length(self):
        return max(FRAG_MIN, min(FRAG_MAX, round(self.rng.gauss(FRAG_MEAN, FRAG_SD))))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=20261129)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(args.seed)

    genomes = []
    for name, length, depth, counts, n_runs in CONTIGS:
        seq = random_sequence(rng, length)
        runs = add_homopolymers(rng, seq, n_runs)
        fixed = []
        if name == PILE_CONTIG:
            for off, gt in PILE_SNVS:
                p = PILE_CENTRE + off
                fixed.append((p, seq[p], rng.choice([b for b in BASES if b != seq[p]]), gt))
            counts = (counts[0] - len(fixed),) + counts[1:]
        variants = plant(rng, name, seq, counts, runs, fixed)
        genomes.append((name, length, depth, seq, variants))

    with open(os.path.join(args.out, "ref.fa"), "w") as f:
        for name, _, _, seq, _ in genomes:
            s = "".join(seq)
            f.write(">%s\n" % name)
            f.write("".join(s[i:i + 60] + "\n" for i in range(0, len(s), 60)))
    with open(os.path.join(args.out, "truth.tsv"), "w") as f:
        f.write("#contig\tpos\tref\talt\tgt\n")
        for name, _, _, _, variants in genomes:
            for p, ref, alt, gt in variants:
                f.write("%s\t%d\t%s\t%s\t%s\n" % (name, p + 1, ref, alt, gt))
    with open(os.path.join(args.out, "layout.tsv"), "w") as f:
        f.write("#contig\tlength\tdepth\tnote\n")
        for name, length, depth, _, _ in genomes:
            note = ""
            if name == PILE_CONTIG:
                note = "plus %d pairs over %d-%d (1-based), %dx at %d" % (
                    PILE_PAIRS, PILE_CENTRE - 499 + 1, PILE_CENTRE + 500 + 1, PILE_PAIRS,
                    PILE_CENTRE + 1)
            f.write("%s\t%d\t%d\t%s\n" % (name, length, depth, note))

    out = sys.stdout
    out.write("@HD\tVN:1.6\tSO:unsorted\n")
    for name, length, _, _, _ in genomes:
        out.write("@SQ\tSN:%s\tLN:%d\n" % (name, length))
    out.write("@RG\tID:bench\tSM:bench\tPL:ILLUMINA\n")
    out.write("@PG\tID:depth_data\tPN:depth_data.py\tCL:depth_data.py --seed %d\n" % args.seed)

    reads = Reads(rng, out)
    for ci, (name, length, depth, seq, variants) in enumerate(genomes):
        haps = [haplotype(seq, variants, w) for w in (0, 1)]
        pairs = round(depth * length / (2 * READ_LEN))
        for i in range(pairs):
            hap = haps[rng.getrandbits(1)]
            frag = reads.fragment_length()
            a = rng.randrange(0, len(hap[0]) - frag + 1)
            reads.pair("c%d.%d" % (ci, i), name, hap, a, frag)
        if name == PILE_CONTIG:
            # chrPile has only SNVs, so haplotype and reference coordinates agree. Each pair
            # has exactly one read over the centre (fragments >= 300 bp, so the mates do not
            # overlap), offset uniformly; the pairs span centre-499 .. centre+500.
            for i in range(PILE_PAIRS):
                hap = haps[rng.getrandbits(1)]
                frag = rng.randint(2 * READ_LEN, 500)
                o = rng.randrange(READ_LEN)
                if rng.random() < 0.5:
                    a = PILE_CENTRE - o
                else:
                    a = PILE_CENTRE - o + READ_LEN - frag
                reads.pair("p.%d" % i, name, hap, a, frag)
    reads.flush()


if __name__ == "__main__":
    main()
