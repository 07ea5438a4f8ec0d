#!/usr/bin/env python3
"""How many of varstream's records a second, read-level tier would see (issue 25, item 2), and
how many of today's genotype errors lie among them, under a routing rule fixed before this
script was first run (2026-12-07):

A record goes to the second tier if any of:
  1. GQ < 30 (the pileup model is unsure: P(wrong) above 1/1000);
  2. DP < 15 (low depth);
  3. it lists more than one ALT, or leaves reads unexplained (DP - sum AD > max(1, DP/10):
     reads of an allele it does not list), as calibrate.py's fifth version defines it;
  4. an ALT is an indel inside a tandem repeat of the reference: a homopolymer of >= 5 bases
     or a 2-6 bp unit repeated >= 3 times, covering the base after the indel's anchor.

Errors are counted as scripts/calibrate.py counts them (a record whose genotype is not the
truth's, or whose position holds a truth allele it does not list), over every record inside
each set's BED, RefCall included; truth alleles no record lists (false negatives of candidate
generation) are counted apart, as the second tier could not see them either.

    python3 scripts/tier_routing.py MANIFEST VCF_DIR PREFIX

MANIFEST as scripts/simulate_training.sh writes it; VCF_DIR/NAME.vcf.gz the calls of each set
whose name starts with PREFIX. Standard library only (the reference FASTA is read whole per
contig, so keep to the small simulated references).
"""
import gzip
import os
import sys
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import calibrate  # noqa: E402


def read_fasta(path):
    seqs, name, parts = {}, None, []
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        for line in f:
            if line.startswith(">"):
                if name:
                    seqs[name] = "".join(parts).upper()
                name, parts = line[1:].split()[0], []
            else:
                parts.append(line.strip())
    if name:
        seqs[name] = "".join(parts).upper()
    return seqs


def in_repeat(seq, i):
    """Whether 0-based position i lies in a homopolymer >= 5 or a 2-6 bp unit repeated >= 3x."""
    for unit in range(1, 7):
        need = 5 if unit == 1 else 3 * unit
        for start in range(max(0, i - need - unit), i + 1):
            motif = seq[start:start + unit]
            if len(motif) < unit or "N" in motif:
                continue
            end = start
            while seq[end:end + unit] == motif:
                end += unit
            # Partial copy at the end counts as repeat too.
            while end < len(seq) and seq[end] == motif[(end - start) % unit]:
                end += 1
            if end - start >= need and start <= i < end:
                return True
    return False


REASONS = ("GQ < 30", "DP < 15", "multi-allelic or unexplained reads", "indel in a repeat")


def route(rec, seq):
    """The first of the rule's reasons that sends the record to the second tier, or None."""
    t = rec["fields"]
    vals = rec["vals"]
    dp = int(vals["DP"])
    alts = t[4].split(",")
    if int(vals["GQ"]) < 30:
        return REASONS[0]
    if dp < 15:
        return REASONS[1]
    if len(alts) > 1 or calibrate.unexplained(dp, vals.get("AD", ".")):
        return REASONS[2]
    pos0 = int(t[1]) - 1
    for alt in alts:
        if len(alt) != len(t[3]) and in_repeat(seq, pos0 + 1):
            return REASONS[3]
    return None


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    manifest, vcf_dir, prefix = sys.argv[1:]
    print("| set | records | routed | share routed | wrong genotypes | of them routed | truth alleles no record lists |")
    print("|---|---|---|---|---|---|---|")
    totals = defaultdict(int)
    # (first reason, non-reference call) -> [records, wrong]
    by_reason = defaultdict(lambda: [0, 0])
    refs = {}
    with open(manifest) as f:
        next(f)
        for line in f:
            name, ref, _bam, truth, bed = line.rstrip("\n").split("\t")[:5]
            if not name.startswith(prefix):
                continue
            if ref not in refs:
                refs[ref] = read_fasta(ref)
            seqs = refs[ref]
            regions, alleles = calibrate.read_bed(bed), calibrate.read_truth(truth)
            recs = calibrate.records(f"{vcf_dir}/{name}.vcf.gz", regions, alleles)
            # records() keeps no fields; read them again in the same order.
            raw = []
            with gzip.open(f"{vcf_dir}/{name}.vcf.gz", "rt") as v:
                for l in v:
                    if l.startswith("#"):
                        continue
                    t = l.rstrip("\n").split("\t")
                    if calibrate.inside(regions, t[0], int(t[1])):
                        raw.append({"fields": t, "vals": dict(zip(t[8].split(":"), t[9].split(":")))})
            assert len(raw) == len(recs)
            n = routed = wrong = wrong_routed = 0
            listed = set()
            for r, x in zip(recs, raw):
                t = x["fields"]
                for alt in t[4].split(","):
                    listed.add((t[0],) + calibrate.trim(int(t[1]), t[3], alt))
                why = route(x, seqs[t[0]])
                go = why is not None
                bad = r["true"] is None or r["true"] != r["gt"]
                if go:
                    by_reason[(why, r["cls"] != "ref")][0] += 1
                    by_reason[(why, r["cls"] != "ref")][1] += bad
                n += 1
                routed += go
                wrong += bad
                wrong_routed += bad and go
            missed = sum(
                1
                for (c, p), d in alleles.items()
                if calibrate.inside(regions, c, p)
                for (r_, a) in d
                if (c, p, r_, a) not in listed
            )
            print(f"| {name} | {n} | {routed} | {routed / n:.3f} | {wrong} | {wrong_routed} | {missed} |")
            for k, v in (("n", n), ("routed", routed), ("wrong", wrong), ("wrong_routed", wrong_routed), ("missed", missed)):
                totals[k] += v
    t = totals
    if t["n"]:
        print(f"| all | {t['n']} | {t['routed']} | {t['routed'] / t['n']:.3f} | {t['wrong']} | {t['wrong_routed']} | {t['missed']} |")
    print("\n| first reason routed | RefCall records (wrong) | non-reference records (wrong) |")
    print("|---|---|---|")
    for why in REASONS:
        ref, alt = by_reason[(why, False)], by_reason[(why, True)]
        print(f"| {why} | {ref[0]} ({ref[1]}) | {alt[0]} ({alt[1]}) |")


if __name__ == "__main__":
    main()
