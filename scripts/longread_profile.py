#!/usr/bin/env python3
"""Measure a long-read error profile from a real BAM against its reference, for
scripts/simulate_long_reads.py (issue 21, long-read models).

Only primary alignments with MAPQ >= 20, only reference positions inside the confident BED and
more than 10 bp from any truth variant (so true variants are not counted as errors). The
reference is cut into homopolymer runs (a run of length 1 is a single base); for every run the
read spans, the read's run length minus the reference's (insertions of the run's base next to
it or inside it, deletions inside it) is one observation of that run length's length error.
Other errors: substitutions (per aligned base) and insertions of a base unlike both neighbours
(per reference base). Base qualities are histogrammed separately for matching, substituted and
inserted bases. Read lengths are the query lengths (soft clips included).

Run-length errors are over-dispersed between sites (some contexts attract errors in many
reads): "hp_site_var" is the variance of a per-site rate multiplier of mean 1, estimated by
moments over runs spanned by >= 5 reads.

Writes JSON: {"platform", "source", "reads", "aligned_bases", "sub_rate", "ins_other_rate",
"hp_site_var",
"hp": {L: {"n": runs, "delta": {d: count}}}, "qual": {"match": [...], "sub": [...], "ins":
[...]}, "read_lengths": [...]}.

Usage: longread_profile.py BAM REF.fa.gz TRUTH.vcf.gz CONFIDENT.bed --platform hifi -o out.json
Needs samtools and bcftools on PATH; numpy.
"""
import argparse
import json
import re
import subprocess
import sys
from collections import Counter, defaultdict

import numpy as np

CIG = re.compile(r"(\d+)([MIDNSHP=X])")


def read_bed(path):
    out = []
    for line in open(path):
        f = line.split()
        if len(f) >= 3:
            out.append((f[0], int(f[1]), int(f[2])))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bam")
    ap.add_argument("ref")
    ap.add_argument("truth")
    ap.add_argument("bed")
    ap.add_argument("--platform", required=True)
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--min-mapq", type=int, default=20)
    a = ap.parse_args()

    bed = read_bed(a.bed)
    chrom = bed[0][0]
    lo = min(b[1] for b in bed)
    hi = max(b[2] for b in bed)
    pad = 60000
    s0 = max(0, lo - pad)
    seq = subprocess.run(["samtools", "faidx", a.ref, f"{chrom}:{s0 + 1}-{hi + pad}"],
                         check=True, capture_output=True, text=True).stdout
    ref = "".join(seq.split("\n")[1:]).upper()
    n = len(ref)
    ok = np.zeros(n, dtype=bool)
    for c, s, e in bed:
        ok[max(0, s - s0):max(0, e - s0)] = True
    truth = subprocess.run(["bcftools", "query", "-f", "%POS\t%REF\n", a.truth],
                           check=True, capture_output=True, text=True).stdout.split("\n")
    for line in truth:
        if not line:
            continue
        p, r = line.split("\t")
        p = int(p) - 1 - s0
        ok[max(0, p - 10):max(0, p + len(r) + 10)] = False
    # runs
    run_id = np.zeros(n, dtype=np.int64)
    starts = [0]
    for i in range(1, n):
        if ref[i] != ref[i - 1]:
            starts.append(i)
    starts = np.array(starts)
    lens = np.diff(np.append(starts, n))
    for k, (s, L) in enumerate(zip(starts, lens)):
        run_id[s:s + L] = k
    run_ok = np.array([ok[s:s + L].all() and ref[s] != "N" for s, L in zip(starts, lens)])

    sam = subprocess.Popen(["samtools", "view", "-F", "0x904", "-q", str(a.min_mapq), a.bam,
                            f"{chrom}:{lo + 1}-{hi}"], stdout=subprocess.PIPE, text=True)
    hp = defaultdict(Counter)
    hp_n = Counter()
    run_reads = np.zeros(len(starts), dtype=np.int64)  # reads spanning each run
    run_errs = np.zeros(len(starts), dtype=np.int64)  # of which with a length error
    qual = {"match": Counter(), "sub": Counter(), "ins": Counter()}
    n_sub = n_match = n_ins_other = n_refbases = 0
    lengths = []
    n_reads = 0
    for line in sam.stdout:
        f = line.split("\t", 11)
        pos = int(f[3]) - 1 - s0
        cig = CIG.findall(f[5])
        rseq = f[9]
        q = f[10]
        lengths.append(len(rseq))
        n_reads += 1
        delta = Counter()  # run index -> length change
        spanned_first = None
        rp, qp = pos, 0
        for ln, op in cig:
            ln = int(ln)
            if op in "M=X":
                for k in range(ln):
                    r = rp + k
                    if 0 <= r < n and ok[r]:
                        b = rseq[qp + k]
                        qq = ord(q[qp + k]) - 33 if q != "*" else 0
                        if b == ref[r]:
                            n_match += 1
                            qual["match"][qq] += 1
                        else:
                            n_sub += 1
                            qual["sub"][qq] += 1
                if spanned_first is None:
                    spanned_first = rp
                rp += ln
                qp += ln
            elif op == "I":
                ins = rseq[qp:qp + ln]
                # attribute to the run on the left or right when the inserted bases are its base
                left = rp - 1
                right = rp
                tgt = None
                if 0 <= left < n and set(ins) == {ref[left]}:
                    tgt = run_id[left]
                elif 0 <= right < n and set(ins) == {ref[right]}:
                    tgt = run_id[right]
                if tgt is not None:
                    delta[tgt] += ln
                elif 0 <= left < n and ok[left]:
                    n_ins_other += 1
                for k in range(ln):
                    if 0 <= left < n and ok[left] and q != "*":
                        qual["ins"][ord(q[qp + k]) - 33] += 1
                qp += ln
            elif op in "DN":
                for k in range(ln):
                    r = rp + k
                    if 0 <= r < n:
                        delta[run_id[r]] -= 1
                if spanned_first is None:
                    spanned_first = rp
                rp += ln
            elif op == "S":
                qp += ln
        end = rp
        if spanned_first is None:
            continue
        # runs fully inside the alignment, not its first/last run
        first = run_id[max(0, spanned_first)] + 1 if spanned_first < n else None
        last = run_id[min(n - 1, end - 1)] - 1
        if first is None:
            continue
        for k in range(first, last + 1):
            if not run_ok[k]:
                continue
            L = int(min(lens[k], 12))
            hp_n[L] += 1
            d = int(delta.get(k, 0))
            hp[L][d] += 1
            run_reads[k] += 1
            run_errs[k] += d != 0
            n_refbases += int(lens[k])
    sam.wait()
    tot_aligned = n_match + n_sub
    # Over-dispersion of run-length errors between sites: real errors concentrate in some
    # contexts. With a per-site multiplier M of mean 1 on the run's error rate p_L, a run seen by
    # n reads has Var(k) = n p (1-p) + n (n-1) p^2 Var(M); Var(M) is estimated by moments over
    # every run seen by >= 5 reads, p_L being the run length's pooled rate.
    p_l = {L: sum(v for d, v in hp[L].items() if d != 0) / hp_n[L] for L in hp_n}
    num = den = 0.0
    for k in np.flatnonzero((run_reads >= 5) & run_ok):
        L = int(min(lens[k], 12))
        p = p_l.get(L, 0.0)
        nn = run_reads[k]
        num += (run_errs[k] - nn * p) ** 2 - nn * p * (1 - p)
        den += nn * (nn - 1) * p * p
    var_m = max(0.0, num / den) if den > 0 else 0.0
    out = {
        "platform": a.platform,
        "source": {"bam": a.bam, "ref": a.ref, "truth": a.truth, "bed": a.bed,
                   "min_mapq": a.min_mapq, "excluded": "truth variants +-10 bp"},
        "reads": n_reads,
        "aligned_bases": tot_aligned,
        "ref_bases_in_runs": n_refbases,
        "sub_rate": n_sub / max(1, tot_aligned),
        "ins_other_rate": n_ins_other / max(1, n_refbases),
        "hp_site_var": var_m,
        "hp": {str(L): {"n": hp_n[L], "delta": {str(d): c for d, c in sorted(hp[L].items())}}
               for L in sorted(hp_n)},
        "qual": {k: [v.get(i, 0) for i in range(94)] for k, v in qual.items()},
        "read_lengths": sorted(lengths),
    }
    with open(a.out, "w") as fh:
        json.dump(out, fh, indent=1)
    # summary
    print(f"{a.platform}: {n_reads} reads, {tot_aligned} aligned bases, sub {out['sub_rate']:.5f}, "
          f"non-HP ins {out['ins_other_rate']:.5f} per ref base, run-length error site variance "
          f"{var_m:.3f}", file=sys.stderr)
    for L in sorted(hp_n):
        c = hp[L]
        err = sum(v for d, v in c.items() if d != 0) / hp_n[L]
        plus = sum(v for d, v in c.items() if d > 0) / hp_n[L]
        minus = sum(v for d, v in c.items() if d < 0) / hp_n[L]
        print(f"  run length {L:>2}{'+' if L == 12 else ' '}: {hp_n[L]:>8} runs, length error {err:.5f} "
              f"(+{plus:.5f} / -{minus:.5f})", file=sys.stderr)
    for k in qual:
        v = qual[k]
        tot = sum(v.values())
        if tot:
            mean = sum(i * c for i, c in v.items()) / tot
            print(f"  qual {k}: n={tot} mean {mean:.1f}", file=sys.stderr)


if __name__ == "__main__":
    main()
