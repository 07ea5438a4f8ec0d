#!/usr/bin/env python3
"""Simulate long reads (PacBio HiFi, ONT) from haplotype FASTAs with an error profile measured
on real reads by scripts/longread_profile.py (issue 21, long-read models).

pbsim (v1) has no homopolymer errors, the dominant long-read error; this simulator is built
around them. The template (a slice of one haplotype, either strand) is cut into homopolymer runs
(a single base is a run of length 1); each run's length changes by d with the probability
measured for its reference length (runs >= 12 share one bin, and sparse bins are pooled with
their longer neighbours until they hold >= 200 observed runs). Then every base is substituted
with the measured substitution rate, and a random base unlike its neighbours is inserted after
a base with the measured non-homopolymer insertion rate. Base qualities are drawn from the
measured histograms: substituted bases from the substituted bases' histogram, bases of a run
that grew or shrank and inserted bases from the inserted bases' histogram, the rest from the
matching bases'. Read lengths are drawn from the real reads' lengths (x uniform 0.8-1.2).
Depth is per haplotype: --depth / 2 from each FASTA. Deterministic for a --seed.

Usage: simulate_long_reads.py --profile P.json --depth 30 --seed 1 -o reads.fq hap1.fa hap2.fa
"""
import argparse
import json
import sys

import numpy as np

COMP = str.maketrans("ACGTN", "TGCAN")
BASES = np.frombuffer(b"ACGT", dtype=np.uint8)


def read_fasta(path):
    seq = []
    name = None
    for line in open(path):
        if line.startswith(">"):
            if name is not None:
                break
            name = line[1:].split()[0]
        else:
            seq.append(line.strip())
    return name, "".join(seq).upper()


def hp_tables(profile, max_l=12, min_n=200):
    """Per run length 1..max_l: (deltas, probabilities), sparse bins pooled upward."""
    hp = profile["hp"]
    counts = {}
    for L in range(1, max_l + 1):
        c = hp.get(str(L), {"n": 0, "delta": {}})
        counts[L] = (c["n"], {int(d): v for d, v in c["delta"].items()})
    tables = {}
    for L in range(1, max_l + 1):
        n, d = counts[L]
        pooled = dict(d)
        k = L + 1
        while n < min_n and k <= max_l:
            n2, d2 = counts[k]
            n += n2
            for kk, v in d2.items():
                pooled[kk] = pooled.get(kk, 0) + v
            k += 1
        k = L - 1
        while n < min_n and k >= 1:  # nothing longer left: borrow shorter runs
            n2, d2 = counts[k]
            n += n2
            for kk, v in d2.items():
                pooled[kk] = pooled.get(kk, 0) + v
            k -= 1
        ds = np.array(sorted(pooled), dtype=np.int64)
        ps = np.array([pooled[x] for x in ds], dtype=np.float64)
        ps /= ps.sum()
        tables[L] = (ds, ps)
    return tables


def qual_sampler(hist):
    h = np.array(hist, dtype=np.float64)
    if h.sum() == 0:
        h[20] = 1
    return h / h.sum()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("haps", nargs="+")
    ap.add_argument("--profile", required=True)
    ap.add_argument("--depth", type=float, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--name-prefix", default="")
    ap.add_argument("-o", "--out", required=True)
    a = ap.parse_args()
    prof = json.load(open(a.profile))
    rng = np.random.default_rng(a.seed)
    tables = hp_tables(prof)
    max_l = 12
    q_match = qual_sampler(prof["qual"]["match"])
    q_sub = qual_sampler(prof["qual"]["sub"])
    q_ins = qual_sampler(prof["qual"]["ins"])
    qvals = np.arange(len(q_match))
    lengths = np.array(prof["read_lengths"], dtype=np.int64)
    lengths = lengths[lengths >= 1000]
    sub_rate = prof["sub_rate"]
    ins_rate = prof["ins_other_rate"]
    n_bases = n_reads = 0
    n_hp = n_sub = n_ins = 0
    with open(a.out, "w") as out:
        for h, path in enumerate(a.haps, start=1):
            _, seq = read_fasta(path)
            arr = np.frombuffer(seq.encode(), dtype=np.uint8)
            G = len(arr)
            target = a.depth / len(a.haps) * G
            made = 0
            k = 0
            while made < target:
                L = int(rng.choice(lengths) * rng.uniform(0.8, 1.2))
                L = min(L, G)
                start = int(rng.integers(0, G - L + 1))
                t = arr[start:start + L]
                if (t == ord("N")).mean() > 0.1:
                    continue
                # runs
                brk = np.flatnonzero(t[1:] != t[:-1]) + 1
                rs = np.concatenate(([0], brk))
                rl = np.diff(np.concatenate((rs, [L])))
                rb = t[rs]
                newl = rl.copy()
                bucket = np.minimum(rl, max_l)
                changed = np.zeros(len(rl), dtype=bool)
                for Lb in np.unique(bucket):
                    idx = np.flatnonzero(bucket == Lb)
                    ds, ps = tables[int(Lb)]
                    d = rng.choice(ds, size=len(idx), p=ps)
                    newl[idx] = np.maximum(0, rl[idx] + d)
                    changed[idx] = d != 0
                n_hp += int(changed.sum())
                read = np.repeat(rb, newl)
                chg = np.repeat(changed, newl)
                q = rng.choice(qvals, size=len(read), p=q_match)
                nq = int(chg.sum())
                if nq:
                    q[chg] = rng.choice(qvals, size=nq, p=q_ins)
                # substitutions
                sub = rng.random(len(read)) < sub_rate
                ns = int(sub.sum())
                if ns:
                    off = rng.integers(1, 4, size=ns)
                    cur = np.searchsorted(BASES, read[sub])
                    read[sub] = BASES[(cur + off) % 4]
                    q[sub] = rng.choice(qvals, size=ns, p=q_sub)
                n_sub += ns
                # non-homopolymer insertions: a base unlike both neighbours, after position i
                ins_at = np.flatnonzero(rng.random(len(read) - 1) < ins_rate)
                if len(ins_at):
                    new_b = []
                    for i in ins_at:
                        opts = [b for b in BASES if b != read[i] and b != read[i + 1]]
                        new_b.append(opts[int(rng.integers(0, len(opts)))])
                    read = np.insert(read, ins_at + 1, np.array(new_b, dtype=np.uint8))
                    q = np.insert(q, ins_at + 1, rng.choice(qvals, size=len(ins_at), p=q_ins))
                n_ins += len(ins_at)
                s = read.tobytes().decode()
                qs = (np.minimum(q, 93) + 33).astype(np.uint8).tobytes().decode()
                if rng.random() < 0.5:
                    s = s.translate(COMP)[::-1]
                    qs = qs[::-1]
                k += 1
                out.write(f"@{a.name_prefix}hap{h}-r{k}\n{s}\n+\n{qs}\n")
                made += L
                n_bases += len(s)
                n_reads += 1
    print(f"simulate_long_reads: {n_reads} reads, {n_bases} bases; {n_hp} run-length errors, "
          f"{n_sub} substitutions, {n_ins} other insertions", file=sys.stderr)


if __name__ == "__main__":
    main()
