#!/usr/bin/env python3
"""How high can ALL F1_GT go on a simulated set, for any caller that sees the same reads?

An upper bound, generous on purpose, from the reads alone. Per truth allele (normalised,
multi-allelic sites split):
  - SNVs: the reads are counted with `bcftools mpileup -a AD -Q 0 -q 0 -B` at the truth
    positions (every base, every mapping quality). An SNV with no read showing it cannot be
    called: a false negative. A het SNV whose every read shows the ALT (no REF read, at
    least one ALT read) is called hom-alt by any caller that weighs its evidence: the data
    are 0.5^n as likely under het as under hom-alt, and hets are not 2^n times as common.
    That is a genotype error. Every other SNV is assumed called with the right genotype.
  - Indels, and both alleles of a site where the truth has two ALT alleles, are all assumed
    called with the right genotype (mpileup's indel counts are too rough to judge them).
Two bounds are given. "1read": an SNV with one ALT read counts as called. "2reads": it needs
two, or one of at most two reads. Why: a lone ALT base at Q30 among n reads is a het with odds
about prior * 0.5^n / 10^-3 = 0.67 * 0.5^n for a prior of 1e-3 het SNVs per base, below 1
for any n; even at Q40 (10^-4) the odds reach 1 only for n <= 2. So no caller weighing
evidence calls it, and calling every such site would also call thousands of errors
(scripts: benches/results/onealt.md measured 547 false positives at 6x).
No false positives other than genotype errors are counted; a genotype error counts as one FP
and one FN, as in eval_vcf.sh. A real caller does worse: it does not know which sites are
variants, and one read is rarely enough to call one. What the bound leaves out: a het in
phase with a nearby het on the same reads could, in principle, be genotyped from the link.

    benches/depth_ceiling.py MANIFEST.tsv [NAME...]   (manifest: name ref bam truth bed ...)
Prints one TSV row per set: the misses and genotype errors behind each bound, and the bound
for ALL and for SNVs alone (the SNVs judged here; eval_vcf.sh's decomposition may count a few
differently).
"""
import shlex
import subprocess
import sys
import tempfile


def die(msg):
    """Bad input: one line, exit 2 (as varstream)."""
    print(f"depth_ceiling: {msg}", file=sys.stderr)
    sys.exit(2)


def sh(cmd):
    """stdout of a bash pipeline; pipefail, so a failing bcftools is an error, not no records."""
    r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True)
    if r.returncode:
        die(f"exit {r.returncode} from: {cmd}")
    return r.stdout


def records(vcf_text):
    for line in vcf_text.splitlines():
        if not line.startswith("#"):
            yield line.split("\t")


def bound(ref, bam, truth, bed):
    ref, bam, truth, bed = map(shlex.quote, (ref, bam, truth, bed))
    tnorm = sh(f"bcftools view -T {bed} {truth} | bcftools norm -m-any -f {ref} 2>/dev/null")
    truth_alleles, per_pos = {}, {}
    for f in records(tnorm):
        gt = f[9].split(":")[0].replace("|", "/").split("/")
        alt_copies = sum(1 for g in gt if g == "1")
        if alt_copies:
            truth_alleles[(f[0], f[1], f[3], f[4])] = alt_copies
            per_pos[(f[0], f[1])] = per_pos.get((f[0], f[1]), 0) + 1
    snvs = [k for k in truth_alleles if len(k[2]) == 1 and len(k[3]) == 1 and per_pos[k[:2]] == 1]
    with tempfile.NamedTemporaryFile("w", suffix=".tsv") as sites:
        sites.write("".join(f"{c}\t{p}\n" for c, p, _, _ in snvs))
        sites.flush()
        pile = sh(f"bcftools mpileup -f {ref} -T {sites.name} -a AD -B -Q 0 -q 0 -d 100000 "
                  f"-I -Ou {bam} 2>/dev/null | bcftools norm -m-any 2>/dev/null")
    counts = {}
    for f in records(pile):
        fmt = f[8].split(":")
        ad = f[9].split(":")[fmt.index("AD")].split(",")
        counts[(f[0], f[1], f[3], f[4])] = (int(ad[0]), int(ad[1]) if len(ad) > 1 else 0)
    n = len(truth_alleles)
    row = {"truth_alleles": n, "snvs_judged": len(snvs)}
    for label, callable_ in (("1read", lambda r, a: a >= 1),
                             ("2reads", lambda r, a: a >= 2 or (a == 1 and r + a <= 2))):
        missed = gt_wrong = 0
        for key in snvs:
            r, a = counts.get(key, (0, 0))
            if not callable_(r, a):
                missed += 1
            elif r == 0 and truth_alleles[key] == 1:
                gt_wrong += 1
        row[f"snv_missed_{label}"] = missed
        row[f"het_snv_no_ref_{label}"] = gt_wrong
        row[f"ceiling_ALL_F1_GT_{label}"] = f1(n - missed - gt_wrong, gt_wrong, missed + gt_wrong)
        snv_tp = len(snvs) - missed - gt_wrong
        row[f"ceiling_SNV_F1_GT_{label}"] = f1(snv_tp, gt_wrong, missed + gt_wrong)
    return row


def f1(tp, fp, fn):
    return f"{2 * tp / (2 * tp + fp + fn):.4f}"


def main():
    if len(sys.argv) < 2:
        die("usage: benches/depth_ceiling.py MANIFEST.tsv [NAME...]")
    want = set(sys.argv[2:])
    header = None
    try:
        lines = open(sys.argv[1]).read().splitlines()[1:]
    except OSError as e:
        die(f"cannot read {sys.argv[1]}: {e.strerror}")
    for line in lines:
        name, ref, bam, truth, bed = line.split("\t")[:5]
        if want and name not in want:
            continue
        row = bound(ref, bam, truth, bed)
        if header is None:
            header = list(row)
            print("\t".join(["set"] + header))
        print("\t".join([name] + [str(row[k]) for k in header]), flush=True)


if __name__ == "__main__":
    main()
