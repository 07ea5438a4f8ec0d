#!/usr/bin/env python3
"""Simulate long reads (PacBio HiFi, ONT) from haplotype FASTAs with an error profile measured
on real reads by scripts/longread_profile.py (issue 21, long-read models).

pbsim (v1) has no homopolymer errors, the dominant long-read error; this simulator is built
around them. The template (a slice of one haplotype, either strand) is cut into homopolymer runs
(a single base is a run of length 1); each run's length changes with the error probability
measured for its reference length (runs >= 12 share one bin, and sparse bins are pooled with
their longer neighbours until they hold >= 200 observed runs) times a per-site multiplier (mean
1, the profile's measured between-site variance, a fixed function of the run's sequence
context, so errors concentrate at the same sites in every read as real ones do), by a change d
drawn from the measured non-zero changes. Then every base is substituted
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
    """Per run length 1..max_l: (error probability, non-zero deltas, their probabilities),
    sparse bins pooled with their longer (then shorter) neighbours until >= min_n runs."""
    hp = profile["hp"]
    counts = {}
    for L in range(1, max_l + 1):
        c = hp.get(str(L), {"n": 0, "delta": {}})
        counts[L] = (c["n"], {int(d): v for d, v in c["delta"].items()})
    tables = {}
    for L in range(1, max_l + 1):
        n, d = counts[L]
        pooled = dict(d)
        for k in list(range(L + 1, max_l + 1)) + list(range(L - 1, 0, -1)):
            if n >= min_n:
                break
            n2, d2 = counts[k]
            n += n2
            for kk, v in d2.items():
                pooled[kk] = pooled.get(kk, 0) + v
        err = sum(v for x, v in pooled.items() if x != 0)
        ds = np.array(sorted(x for x in pooled if x != 0), dtype=np.int64)
        ps = np.array([pooled[x] for x in ds], dtype=np.float64)
        if len(ds) == 0:
            ds, ps = np.array([1]), np.array([1.0])
        tables[L] = (err / max(1, n), ds, ps / ps.sum())
    return tables


def splitmix64(x):
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)).astype(np.uint64)
        x = ((x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)).astype(np.uint64)
        x = ((x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)).astype(np.uint64)
        return x ^ (x >> np.uint64(31))


def site_multiplier(arr, rs, rl, var):
    """A per-run error-rate multiplier of mean 1 and variance `var` (lognormal), a fixed
    function of the run's base, length and 6 bp on each side: the same context gets the same
    multiplier on both haplotypes and in every data set, as systematic errors do."""
    if var <= 0:
        return np.ones(len(rs))
    code = np.zeros(256, dtype=np.uint64)
    for i, b in enumerate(b"ACGT"):
        code[b] = i
    c = code[arr]
    k = 6
    km = np.zeros(len(arr) + 1, dtype=np.uint64)
    # km[i] = 6-mer starting at i (zero-padded past the end)
    pad = np.concatenate((c, np.zeros(k, dtype=np.uint64)))
    for j in range(k):
        km[:len(arr)] = (km[:len(arr)] << np.uint64(2)) | pad[j:j + len(arr)]
    left = km[np.clip(rs - k, 0, len(arr))]
    right = km[np.clip(rs + rl, 0, len(arr))]
    key = (((left << np.uint64(12)) | right) << np.uint64(6)) | (c[rs] << np.uint64(4)) | np.minimum(rl, 15).astype(np.uint64)
    u1 = (splitmix64(key) >> np.uint64(11)).astype(np.float64) / 2.0**53
    u2 = (splitmix64(key ^ np.uint64(0x5DEECE66D)) >> np.uint64(11)).astype(np.float64) / 2.0**53
    z = np.sqrt(-2 * np.log(np.maximum(u1, 1e-300))) * np.cos(2 * np.pi * u2)
    s2 = np.log1p(var)
    return np.exp(np.sqrt(s2) * z - s2 / 2)


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
    ap.add_argument("--site-var", type=float, default=None,
                    help="variance of the per-site run-length error multiplier (default: the profile's)")
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
    site_var = prof.get("hp_site_var", 0.0) if a.site_var is None else a.site_var
    sub_rate = prof["sub_rate"]
    ins_rate = prof["ins_other_rate"]
    n_bases = n_reads = 0
    n_hp = n_sub = n_ins = 0
    with open(a.out, "w") as out:
        for h, path in enumerate(a.haps, start=1):
            _, seq = read_fasta(path)
            arr = np.frombuffer(seq.encode(), dtype=np.uint8)
            G = len(arr)
            brk = np.flatnonzero(arr[1:] != arr[:-1]) + 1
            hrs = np.concatenate(([0], brk))
            hrl = np.diff(np.concatenate((hrs, [G])))
            hrb = arr[hrs]
            bucket_all = np.minimum(hrl, max_l)
            p_err = np.array([0.0] + [tables[x][0] for x in range(1, max_l + 1)])[bucket_all]
            p_run = np.minimum(0.9, p_err * site_multiplier(arr, hrs, hrl, site_var))
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
                i0 = int(np.searchsorted(hrs, start, side="right") - 1)
                i1 = int(np.searchsorted(hrs, start + L - 1, side="right") - 1)
                rl = hrl[i0:i1 + 1].copy()
                rl[0] -= start - hrs[i0]
                rl[-1] = (start + L) - hrs[i1] if i1 > i0 else L
                rb = hrb[i0:i1 + 1]
                changed = rng.random(len(rl)) < p_run[i0:i1 + 1]
                bucket = np.minimum(rl, max_l)
                newl = rl.copy()
                for Lb in np.unique(bucket[changed]):
                    idx = np.flatnonzero(changed & (bucket == Lb))
                    _, ds, ps = tables[int(Lb)]
                    newl[idx] = np.maximum(0, rl[idx] + rng.choice(ds, size=len(idx), p=ps))
                changed &= newl != rl
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
