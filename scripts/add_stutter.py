#!/usr/bin/env python3
"""Adds PCR/sequencing "stutter" (+-1 repeat-unit length errors) to simulated reads.

Why: ART (`art_illumina -ss HS25`) draws indel errors uniformly along the read, so its
reads are unrealistically clean in homopolymers and short tandem repeats (STRs). In real
Illumina data the polymerase slips in repeats (during library PCR and during cluster
amplification / sequencing), so a fraction of the reads covering a long homopolymer or
STR show the run one unit shorter or longer. A caller trained only on ART reads never
sees these low-fraction, non-variant indel candidates and calls them as variants. The
truth VCF is unchanged by this script: stutter is read error, not variation.

Model (per read, per repeat run found in that read's sequence):
  * homopolymer run of length L >= --hp-min (5):
        p(L) = min(--hp-cap, --hp-a * exp(--hp-b * (L - --hp-min)))
    defaults a=0.002, b=0.35, cap=0.25:
        L=5: 0.20%   L=8: 0.57%   L=10: 1.15%   L=12: 2.3%   L=13: 3.3%
        L=15: 6.6%   L=18: 19%    L>=19: 25% (cap)
    This follows the shape of published Illumina homopolymer error profiles: the
    indel error rate is negligible below ~6-8 bp and grows roughly exponentially with
    run length (Ross et al. 2013, Genome Biol 14:R51; Laehnemann et al. 2016, Brief
    Bioinform 17:154; Minoche et al. 2011, Genome Biol 12:R112), reaching several
    percent of reads for 12-15 bp runs and tens of percent for >= 20 bp runs in
    PCR-amplified libraries.
  * STR with unit 2 or 3 bp (not a homopolymer) and >= --str-min-copies (4) copies, total
    repeat length T bases (unit * whole copies):
        p(T) = min(--str-cap, --str-a * exp(--str-b * (T - 8)))
    defaults a=0.001, b=0.2, cap=0.15:
        T=8 (4x2): 0.10%   T=12: 0.22%   T=16: 0.50%   T=20: 1.1%   T=24: 2.5%
        T=30: 8.1%   T>=33: 15% (cap)
    i.e. per base of repeat length STRs stutter less than homopolymers (smaller
    coefficient), in line with the stutter models of STR callers (lobSTR, HipSTR)
    where dinucleotide stutter of a few percent appears only at ~10+ copies.
  * An event is a deletion of one unit with probability --del-frac (0.6), otherwise an
    insertion of one unit (deletions are the more frequent stutter product).
  * Optional, off by default (so existing data sets rebuild byte-identically):
    --two-unit-frac F makes an event two units long with probability F (runs of at least
    three units only); --str4 also treats 4 bp-unit STRs (>= --str-min-copies copies) like
    2/3 bp ones. PCR-amplified libraries show -2/+2 unit stutter at a fraction of the -1
    rate, and tetranucleotide STRs stutter too (HipSTR's and GangSTR's stutter models);
    the "strong" preset of simulate_training.sh turns both on with doubled rates.

Read handling:
  * Runs are detected on the read as sequenced (both mates are processed independently,
    each in its own file; detection is strand-symmetric). Runs truncated by the read end
    are taken at their observed length. Overlapping runs: the earlier-starting (then the
    longer) one is kept, so at most one event touches any base.
  * Insertion: one unit is duplicated at the end of the run (its qualities duplicated
    with it); the read is then trimmed back to its original length at the 3' end, as a
    sequencer reads a fixed number of cycles.
  * Deletion: one unit (and its qualities) is removed; the read becomes `unit` bases
    shorter (bwa mem handles variable-length reads).
  * Quality and sequence always stay the same length. Names and '+' lines are copied.

Deterministic: the same --seed and input give the same output.
Usage: add_stutter.py --seed N -i in.fq[.gz] -o out.fq[.gz] [--summary FILE]
"""
import argparse
import gzip
import math
import random
import re
import sys


def open_in(path):
    if path == "-":
        return sys.stdin.buffer
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")
    return open(path, "rb", buffering=1 << 20)


def open_out(path):
    if path == "-":
        return sys.stdout.buffer
    if path.endswith(".gz"):
        return gzip.open(path, "wb", compresslevel=3)
    return open(path, "wb", buffering=1 << 20)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="See the module docstring for the model.")
    ap.add_argument("-i", "--input", required=True, help="FASTQ (plain or gzip), '-' = stdin")
    ap.add_argument("-o", "--output", required=True, help="FASTQ (.gz = gzip), '-' = stdout")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--hp-min", type=int, default=5, help="minimum homopolymer length (5)")
    ap.add_argument("--hp-a", type=float, default=0.002, help="homopolymer rate at hp-min (0.002)")
    ap.add_argument("--hp-b", type=float, default=0.35, help="homopolymer exponent per base (0.35)")
    ap.add_argument("--hp-cap", type=float, default=0.25, help="homopolymer rate cap (0.25)")
    ap.add_argument("--str-min-copies", type=int, default=4, help="minimum STR copies (4)")
    ap.add_argument("--str-a", type=float, default=0.001, help="STR rate at 8 bp total (0.001)")
    ap.add_argument("--str-b", type=float, default=0.2, help="STR exponent per base (0.2)")
    ap.add_argument("--str-cap", type=float, default=0.15, help="STR rate cap (0.15)")
    ap.add_argument("--del-frac", type=float, default=0.6, help="fraction of events that are deletions (0.6)")
    ap.add_argument("--two-unit-frac", type=float, default=0.0,
                    help="fraction of events that are two units long (0 = off)")
    ap.add_argument("--str4", action="store_true", help="also stutter 4 bp-unit STRs")
    ap.add_argument("--summary", help="also write the summary (key=value lines) here")
    args = ap.parse_args()
    if args.hp_min < 2:
        ap.error("--hp-min must be >= 2")
    if args.str_min_copies < 2:
        ap.error("--str-min-copies must be >= 2")

    rng = random.Random(args.seed)
    rand = rng.random

    # Probability tables by run length (reads are short; extend lazily if longer).
    def hp_p(L):
        return min(args.hp_cap, args.hp_a * math.exp(args.hp_b * (L - args.hp_min)))

    def str_p(T):
        return min(args.str_cap, args.str_a * math.exp(args.str_b * (T - 8)))

    MAXL = 1024
    hp_tab = [hp_p(L) if L >= args.hp_min else 0.0 for L in range(MAXL)]
    str_tab = [str_p(T) for T in range(MAXL)]

    hp_re = re.compile(rb"([ACGT])\1{%d,}" % (args.hp_min - 1))
    c = args.str_min_copies - 1
    # A unit of 2/3 bases that is not itself a homopolymer (AA, AAA are homopolymers).
    str2_re = re.compile(rb"(?!(.)\1)([ACGT]{2})\2{%d,}" % c)
    str3_re = re.compile(rb"(?!(.)\1\1)([ACGT]{3})\2{%d,}" % c)
    # A 4 bp unit that is neither a homopolymer nor a repeated 2 bp unit (ACAC is an STR2).
    str4_re = re.compile(rb"(?!(.)\1\1\1)(?!(..)\2)([ACGT]{4})\3{%d,}" % c)
    two_unit = args.two_unit_frac

    del_frac = args.del_frac
    kinds = ("hp", "str2", "str3") + (("str4",) if args.str4 else ())
    counts = {k + sfx: 0 for k in kinds for sfx in ("_ins", "_del")}
    runs_seen = {k: 0 for k in kinds}
    n_reads = 0
    n_changed = 0
    n_bases_in = 0
    n_bases_out = 0

    fin = open_in(args.input)
    fout = open_out(args.output)
    write = fout.write
    readline = fin.readline
    while True:
        name = readline()
        if not name:
            break
        seq = readline().rstrip(b"\r\n")
        plus = readline()
        qual = readline().rstrip(b"\r\n")
        if not plus.startswith(b"+") or len(seq) != len(qual) or not name.startswith(b"@"):
            sys.exit("add_stutter: malformed FASTQ record near read %d (%r)" % (n_reads + 1, name[:60]))
        n_reads += 1
        orig_len = len(seq)
        n_bases_in += orig_len

        # Candidate runs: (start, end, unit, kind)
        runs = []
        for m in hp_re.finditer(seq):
            runs.append((m.start(), m.end(), 1, "hp"))
        # STR matches that overlap a homopolymer or each other are resolved by the
        # overlap filter below.
        for m in str2_re.finditer(seq):
            runs.append((m.start(), m.end(), 2, "str2"))
        for m in str3_re.finditer(seq):
            runs.append((m.start(), m.end(), 3, "str3"))
        if args.str4:
            for m in str4_re.finditer(seq):
                runs.append((m.start(), m.end(), 4, "str4"))

        if runs:
            if len(runs) > 1:
                runs.sort(key=lambda r: (r[0], -(r[1] - r[0])))
            events = []
            last_end = -1
            for s, e, unit, kind in runs:
                if s < last_end:
                    continue
                last_end = e
                runs_seen[kind] += 1
                L = e - s
                if L >= MAXL:
                    L = MAXL - 1
                p = hp_tab[L] if unit == 1 else str_tab[L]
                if rand() < p:
                    is_del = rand() < del_frac
                    # Drawn only when enabled, so default runs keep their random stream.
                    if two_unit > 0 and rand() < two_unit and L >= 3 * unit:
                        unit *= 2
                    events.append((s, e, unit, kind, is_del))
            if events:
                n_changed += 1
                # Right to left, so earlier coordinates stay valid.
                for s, e, unit, kind, is_del in reversed(events):
                    if is_del:
                        seq = seq[:e - unit] + seq[e:]
                        qual = qual[:e - unit] + qual[e:]
                        counts[kind + "_del"] += 1
                    else:
                        seq = seq[:e] + seq[e - unit:e] + seq[e:]
                        qual = qual[:e] + qual[e - unit:e] + qual[e:]
                        counts[kind + "_ins"] += 1
                if len(seq) > orig_len:
                    seq = seq[:orig_len]
                    qual = qual[:orig_len]
        n_bases_out += len(seq)
        write(name)
        write(seq)
        write(b"\n")
        write(plus)
        write(qual)
        write(b"\n")

    if fout is not sys.stdout.buffer:
        fout.close()

    lines = [
        "input=%s" % args.input,
        "seed=%d" % args.seed,
        "params=hp_min=%d hp_a=%g hp_b=%g hp_cap=%g str_units=%s str_min_copies=%d str_a=%g str_b=%g str_cap=%g del_frac=%g%s"
        % (args.hp_min, args.hp_a, args.hp_b, args.hp_cap, "2,3,4" if args.str4 else "2,3",
           args.str_min_copies, args.str_a, args.str_b, args.str_cap, args.del_frac,
           " two_unit_frac=%g" % two_unit if two_unit > 0 else ""),
        "reads=%d" % n_reads,
        "reads_changed=%d" % n_changed,
        "bases_in=%d" % n_bases_in,
        "bases_out=%d" % n_bases_out,
        " ".join("runs_%s=%d" % (k, v) for k, v in runs_seen.items()),
        " ".join("%s=%d" % (k, v) for k, v in counts.items()),
    ]
    text = "\n".join(lines) + "\n"
    sys.stderr.write("".join("add_stutter: %s\n" % l for l in lines))
    if args.summary:
        with open(args.summary, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
