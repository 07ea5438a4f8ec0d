#!/usr/bin/env python3
"""Fit varstream's GQ/QUAL calibration and LowQual threshold, and tabulate predicted against
observed genotype error by GQ band.

    scripts/calibrate.py fit   MANIFEST VCF_DIR        # cal* sets, called with --no-calibration
    scripts/calibrate.py table MANIFEST VCF_DIR [PREFIX]   # PREFIX* sets (default depth_),
                                                           # called with calibration

MANIFEST is scripts/simulate_training.sh's manifest.tsv (name, ref, bam, truth, bed, ...);
VCF_DIR holds NAME.vcf.gz for each set. Only the standard library is used.

Fourth version (2026-12-07, issue 25 item 3; written before any fit of it was run):
- Step 1 as the third version's, but a power per kind, depth band AND class of the called
  genotype (hom-ref, het, hom-alt: the class of the best genotype, which no power changes),
  minimising the NLL of the true genotype over that cell's records, on the same grid. A cell
  with fewer than 50 records of known true genotype takes its kind and band's power fitted
  over every class (the third version's). The sidecar keeps each band's all-class `power`
  and adds `class_powers` {ref, het, hom}.
- Why: one power per band is a compromise between classes. At 20-39 reads an SNV hom-alt
  call that every read supports reaches only GQ ~30 (PL 0/1 ~29), while the sets hold no
  wrong one; the het calls of the same band are what holds the power near 1.
- Step 2 (ceilings) and LowQual: as the third version, on step 1's output.
- Adoption, fixed now: the fourth version replaces the third if (a) on the fitting sets'
  own table (`table ... cal`, pooled, called with the new calibration) no GQ band of 100
  calls or more is over-confident, i.e. has the lower end of its 95 % interval of
  observed / predicted errors above 1, and (b) the median GQ of hom-alt SNV calls at DP >= 20
  with no REF read (AD) is at least 50 on the fitting sets. The held-out depth_* sets' table
  is reported afterwards whatever it shows and is not used to choose; if (a) or (b) fails,
  the third version stays and the result is written down.

Outcome of the fourth version (fit and table run 2026-12-07 after the rule above): (a) holds
(no band of 100 calls or more over-confident on the fitting sets), (b) fails: the median GQ of
the 570 clear hom-alt SNV calls fell from 28 to 22. With power 6 at 20-39 reads the one
wrong call among them (calb 30x chr20:165,108 C>T called 1/1 on 15 of 21 reads, where the
truth is C>CAT,T 2/1: the 6 insertion reads belong to no listed allele) landed in the GQ
100-149 bin, and pooling adjacent violators put a ceiling of 22.5 over every hom-alt SNV
bin from 20 to 149. The third version stayed.

Fifth version (2026-12-07, written after the fourth's outcome above and before any fit of
it was run):
- Step 1 as the fourth version's.
- Step 2 as before, but the ceilings are fitted and applied separately for records whose
  reads the record's alleles do not explain: DP - sum(AD) > max(1, DP / 10) (reads of an
  allele the record does not list, such as the insertion above). Why: such a call's
  genotype can miss an allele the model was not asked about, whatever the model's
  confidence in the alleles it was; calls whose every read is explained should not carry
  the ceiling those set. The sidecar's `ceilings` gains `snv_unexplained` and
  `indel_unexplained` (same shape as `snv` / `indel`); without them every record uses
  `snv` / `indel`.
- Adoption, fixed now: as the fourth's, (a) and (b) on the fitting sets; the held-out depth_*
  and fresh_* tables are reported afterwards whatever they show and not used to choose.

Outcome of the fifth version (fit and tables run 2026-12-07 after the rule above): (a) and
(b) hold on the fitting sets (no band over-confident; clear hom-alt SNV median GQ 99, 567 of
570 at >= 50): adopted, and written into varstream-v4's sidecar. Reported after the choice
(benches/results/calibration.md): the held-out depth_* sets keep the third version's two
wrong calls in bands of under 100 calls (GQ 54 and 88); the fresh_* sets get one
over-confident wrong call at 30x and 60x (a TCCA-repeat deletion called 1/1, GQ 46 and 99)
that the third version put at GQ 30-39: the indel hom-alt power 6.0 at 20-39 reads was fitted
on 79 records with no error.

Sixth version (2026-12-07, third session; written before any fit of it was run):
- Step 1 as the fifth version's, except that a class cell in which no record's genotype is
  wrong takes the smaller of its own fitted power and its kind and band's all-class power.
  Why: with no wrong record the NLL falls monotonically in the power, so the fit runs to the
  grid's end (6.0) whatever the cell's size: an extrapolation, not a measurement. The fifth
  version's indel hom-alt cell at 20-39 reads (79 records, no error) is such a cell. This
  rule was prompted by the fresh_* sets' over-confident TCCA-repeat deletion (fifth version's
  outcome above), so the fresh_* table is no longer an independent check of it: it is
  reported, and the held-out depth_* table stays the independent one.
- Step 2 (ceilings, apart for unexplained reads) and LowQual: as the fifth version's, on
  step 1's output.
- Adoption, fixed now: as the fifth's, (a) and (b) on the fitting sets; the depth_* and
  fresh_* tables are reported afterwards whatever they show and not used to choose; if (a)
  or (b) fails, the fifth version stays.

Outcome of the sixth version (fit and fitting-set table run 2026-12-07 after the rule above):
(a) holds (no band of 100 calls or more over-confident), (b) fails: the clear hom-alt SNV
median GQ fell from 99 to 25 (79 of 570 at >= 50). The SNV hom-alt cell at 20-39 reads has
no wrong record of known genotype either (493 records; its one wrong call, chr20:165,108,
has a truth allele it does not list, so the power fit never sees it), and was capped at the
band's 0.95. The fifth version stayed.

Seventh version (2026-12-07, written after the sixth's outcome and before any fit of it):
- Step 1 as the fifth version's, except that a class cell with no wrong record of known
  genotype and fewer than 300 such records takes the smaller of its own fitted power and its
  band's all-class power. Why: issue 25 allows clear calls a high GQ "where the observed
  error is zero in hundreds of calls"; under 300 records a zero says too little (the rule
  of three: an error rate up to 1 %) for a power fitted to the grid's end. The indel hom-alt
  cell at 20-39 reads (79 records) is capped; the SNV hom-alt cell there (493) is not. The
  same caveat on the fresh_* sets as the sixth's.
- Step 2 and LowQual as the fifth's; adoption as the sixth's: (a) and (b) on the fitting
  sets, depth_* and fresh_* reported afterwards; the fifth stays if (a) or (b) fails.

The rules of the third version, fixed before any fit was run (2026-11-29; the earlier two
are kept below it):
- Fitting sets: the cal_* sets (chr20:4.9-5.5 Mb, 2x101, 6x-60x) and the calb_* sets (the
  benchmark simulation's reads, 2x150 with collapsed paralogs, over chr20:0.10-0.99 Mb and
  8.91-9.19 Mb, which no training, cal_*, depth_* or holdout set covers, less each paralog
  segment +-600 bp; downsampled to 6x, 10x, 15x, and the full 30x). `fit` reads every set of
  MANIFEST whose name starts with "cal".
- Step 1, as before: for each kind of site (only SNV candidates, or an indel candidate) and
  depth band (DP < 8, 8-12, 13-19, 20-39, >= 40), the power a in post' ~ post^a minimising
  the negative log-likelihood of the true genotype, on a grid 0.50, 0.55, ..., 6.00.
- Step 2, ceilings: for each kind and class of called genotype (hom-ref, het, hom-alt), the
  records are binned by their GQ after step 1 (uncapped: -10 log10 of the other genotypes'
  mass; bins from 0, 10, 20, 30, 40, 50, 60, 80, 100, 150), each bin's share of wrong
  genotypes is made non-increasing in GQ by pooling adjacent violators (isotonic regression,
  weighted by records), and a bin whose pooled share r is above 0 gets the ceiling
  -10 log10 r (at least 3.01, so the called genotype keeps half the mass): a call there whose
  GQ is higher keeps its genotype, and its other genotypes'
  posteriors are scaled up together so that GQ equals the ceiling. A bin with no wrong
  genotype gets no ceiling (what the sets can check stops near 1/records; the model's own
  GQ stands above that). Why: temperature scaling cannot lower a sure call's confidence
  without lowering every call's, and the second version's table showed confidently wrong
  indels (docs/models.md).
- LowQual: the integer t in 0..50 maximising, over the fitting sets together,
  F1_GT = 2 * correct / (calls + truth alleles), where calls are non-reference records with
  QUAL >= t (QUAL after both steps) and correct are those whose genotype is the true one;
  the smallest such t. This replaces the second version's F1 of non-reference calls, which
  ignored genotypes.
- A record's true genotype: as in the second version (below).

Second version (the shipped calibration until the third):
- Calibration: for each kind of site (only SNV candidates, or an indel candidate) and depth
  band (DP < 8, 8-12, 13-19, 20-39, >= 40), the power a in post' ~ post^a (temperature
  scaling of the genotype posteriors, from the VCF's PL) that minimises the negative
  log-likelihood of the true genotype over every record of the cal_* sets of that kind and
  band, on a grid 0.50, 0.55, ..., 6.00. (First version, one power per band for all sites:
  rejected after its table showed confident indel errors, not re-fitted on the table sets.)
- LowQual: the smallest integer QUAL in 0..50 maximising F1 of non-reference calls over the
  cal_* sets after calibration.
- A record's true genotype: the truth's copies of each of its alleles at its position (allele
  pairs trimmed to minimal form on both sides); a record whose position holds a truth allele
  it does not list is wrong whatever it says. Records outside the set's BED are ignored.
  (First version: "whose REF span holds" — it counted a RefCall deletion as wrong for SNVs
  that other records call inside its span.)
"""
import gzip
import json
import math
import statistics
import sys
from collections import defaultdict

BANDS = [8, 13, 20, 40, None]
GRID = [0.5 + 0.05 * i for i in range(111)]


def trim(pos, ref, alt):
    """Minimal representation: drop the shared suffix, then the shared prefix (keep 1 base)."""
    while len(ref) > 1 and len(alt) > 1 and ref[-1] == alt[-1]:
        ref, alt = ref[:-1], alt[:-1]
    while len(ref) > 1 and len(alt) > 1 and ref[0] == alt[0]:
        ref, alt, pos = ref[1:], alt[1:], pos + 1
    return pos, ref, alt


def gt_alleles(gt):
    return [int(a) for a in gt.replace("|", "/").split("/") if a != "."]


def read_bed(path):
    out = defaultdict(list)
    with open(path) as f:
        for line in f:
            c, s, e = line.split()[:3]
            out[c].append((int(s), int(e)))
    return out


def inside(bed, c, pos1):
    return any(s < pos1 <= e for s, e in bed.get(c, ()))


def read_truth(path):
    """(contig, pos) -> {(ref, alt): copies} after trimming each pair."""
    truth = defaultdict(dict)
    with gzip.open(path, "rt") as f:
        for line in f:
            if line.startswith("#"):
                continue
            t = line.rstrip("\n").split("\t")
            alts = t[4].split(",")
            fmt = t[8].split(":")
            gt = gt_alleles(t[9].split(":")[fmt.index("GT")])
            for i, alt in enumerate(alts, 1):
                copies = gt.count(i)
                if copies:
                    p, r, a = trim(int(t[1]), t[3], alt)
                    truth[(t[0], p)][(r, a)] = copies
    return truth


def records(path, bed, truth):
    """Each record inside the BED: (dp, pl, gt index, true index or None, qual, called ALT truth)."""
    out = []
    with gzip.open(path, "rt") as f:
        for line in f:
            if line.startswith("#"):
                continue
            t = line.rstrip("\n").split("\t")
            c, pos = t[0], int(t[1])
            if not inside(bed, c, pos):
                continue
            fmt = t[8].split(":")
            vals = dict(zip(fmt, t[9].split(":")))
            alts = t[4].split(",")
            n = len(alts) + 1
            called = gt_alleles(vals["GT"])
            ploidy = len(called)
            # Truth copies of each listed ALT; any truth allele here that is not listed.
            copies = [0] * n
            listed = set()
            for i, alt in enumerate(alts, 1):
                p, r, a = trim(pos, t[3], alt)
                listed.add((p, r, a))
                copies[i] = truth.get((c, p), {}).get((r, a), 0)
            anchors = {p for p, _, _ in listed}
            unlisted = any(
                (p, r, a) not in listed for p in anchors for (r, a) in truth.get((c, p), {})
            )
            genos = genotypes(n, ploidy)
            true_gt = None
            if not unlisted:
                want = sorted(a for a in range(1, n) for _ in range(min(copies[a], ploidy)))
                want = [0] * (ploidy - len(want)) + want
                if len(want) == ploidy:
                    true_gt = genos.index(tuple(sorted(want)))
            pl = [int(x) for x in vals["PL"].split(",")]
            out.append(
                {
                    "dp": int(vals["DP"]),
                    "pl": pl,
                    "gt": genos.index(tuple(sorted(called))),
                    "true": true_gt,
                    "qual": float(t[5]),
                    "gq": int(vals["GQ"]),
                    "nonref": any(a > 0 for a in called),
                    "cls": "ref" if not any(called) else ("hom" if len(set(called)) == 1 else "het"),
                    "tp": any(copies[a] > 0 for a in set(called) if a > 0),
                    "indel": any(len(a) != len(t[3]) or len(a) > 1 for a in alts),
                    "ref_ad": int(vals["AD"].split(",")[0]) if vals.get("AD", ".")[0] != "." else None,
                    "unexplained": unexplained(int(vals["DP"]), vals.get("AD", ".")),
                }
            )
    return out


def unexplained(dp, ad):
    """Fifth version: the record's alleles leave reads unexplained, DP - sum(AD) > max(1, DP/10)
    (the same rule as varstream's genotypes::unexplained_reads)."""
    total = sum(int(x) for x in ad.split(",") if x != ".")
    return dp - total > max(1, dp / 10)


def genotypes(n, ploidy):
    if ploidy == 1:
        return [(a,) for a in range(n)]
    return [(j, k) for k in range(n) for j in range(k + 1)]


def band_of(dp):
    for i, b in enumerate(BANDS):
        if b is None or dp < b:
            return i


def log_post(pl, a):
    """log posteriors after raising to power a (PL = -10 log10 p, relative)."""
    x = [-a * p * math.log(10) / 10 for p in pl]
    m = max(x)
    z = m + math.log(sum(math.exp(v - m) for v in x))
    return [v - z for v in x]


def load(manifest, vcf_dir, prefix):
    sets = []
    with open(manifest) as f:
        next(f)
        for line in f:
            name, ref, bam, truth, bed = line.rstrip("\n").split("\t")[:5]
            if name.startswith(prefix):
                regions, alleles = read_bed(bed), read_truth(truth)
                recs = records(f"{vcf_dir}/{name}.vcf.gz", regions, alleles)
                n_truth = sum(len(d) for (c, p), d in alleles.items() if inside(regions, c, p))
                sets.append((name, recs, n_truth))
    return sets


CLASSES = ("ref", "het", "hom")
# Fourth version: a class with fewer records of known truth in a band keeps the band's power.
MIN_CLASS_RECORDS = 50
# Seventh version: a class cell without a wrong record keeps a power above its band's only
# with at least this many records of known genotype.
MIN_ERRORLESS_RECORDS = 300
GQ_BINS = [0, 10, 20, 30, 40, 50, 60, 80, 100, 150]


def gq_uncapped(lp, best):
    """-10 log10 of the mass of every genotype but `best`, from log posteriors."""
    other = sum(math.exp(v) for i, v in enumerate(lp) if i != best)
    return float("inf") if other <= 0 else -10 * math.log10(other)


def bin_of(gq):
    return max(i for i, lo in enumerate(GQ_BINS) if gq >= lo)


def isotonic_down(counts):
    """Pool adjacent violators: [(wrong, n)] -> shares non-increasing along the list."""
    blocks = []  # [wrong, n, number of bins]
    for w, n in counts:
        blocks.append([w, n, 1])
        while len(blocks) > 1 and blocks[-1][1] and blocks[-2][1] and (
            blocks[-1][0] / blocks[-1][1] > blocks[-2][0] / blocks[-2][1]
        ):
            w2, n2, k2 = blocks.pop()
            blocks[-1][0] += w2
            blocks[-1][1] += n2
            blocks[-1][2] += k2
        if len(blocks) > 1 and blocks[-2][1] == 0:  # an empty bin joins the next
            w2, n2, k2 = blocks.pop()
            blocks[-1][0] += w2
            blocks[-1][1] += n2
            blocks[-1][2] += k2
    out = []
    for w, n, k in blocks:
        out += [w / n if n else 0.0] * k
    return out


def apply_ceiling(lp, best, ceiling):
    """Scale the other genotypes' posteriors so that GQ is `ceiling` (log posteriors in/out)."""
    if ceiling is None:
        return lp
    gq = gq_uncapped(lp, best)
    if gq <= ceiling:
        return lp
    target = 10 ** (-ceiling / 10)
    other = sum(math.exp(v) for i, v in enumerate(lp) if i != best)
    k = len(lp) - 1
    out = []
    for i, v in enumerate(lp):
        if i == best:
            out.append(math.log1p(-target))
        elif other > 0:
            out.append(v + math.log(target / other))
        else:
            out.append(math.log(target / k))
    return out


class Fitted:
    def __init__(self, powers, ceilings):
        self.powers = powers  # kind -> [{"max_dp", "power", "records"}]
        self.ceilings = ceilings  # kind -> class -> [{"min_gq", "ceiling", ...}]

    def power(self, r):
        band = self.powers["indel" if r["indel"] else "snv"][band_of(r["dp"])]
        return band.get("class_powers", {}).get(r["cls"], band["power"])

    def ceiling(self, r, gq):
        kind = ("indel" if r["indel"] else "snv") + ("_unexplained" if r["unexplained"] else "")
        bins = self.ceilings[kind][r["cls"]]
        return bins[bin_of(gq)]["ceiling"]

    def log_post(self, r, with_ceiling=True):
        lp = log_post(r["pl"], self.power(r))
        if with_ceiling:
            lp = apply_ceiling(lp, r["gt"], self.ceiling(r, gq_uncapped(lp, r["gt"])))
        return lp


def fit(manifest, vcf_dir, prefix="cal"):
    sets = load(manifest, vcf_dir, prefix)
    recs = [r for _, rs, _ in sets for r in rs]
    known = [r for r in recs if r["true"] is not None]
    powers = {}
    for kind in ("snv", "indel"):
        bands = []
        for i, bound in enumerate(BANDS):
            rs = [r for r in known if band_of(r["dp"]) == i and r["indel"] == (kind == "indel")]
            best = min(GRID, key=lambda a: -sum(log_post(r["pl"], a)[r["true"]] for r in rs))
            nll1 = -sum(log_post(r["pl"], 1.0)[r["true"]] for r in rs)
            nll = -sum(log_post(r["pl"], best)[r["true"]] for r in rs)
            print(f"{kind} DP<{bound}: {len(rs)} records, power {best:.2f}, NLL {nll1:.1f} -> {nll:.1f}", file=sys.stderr)
            band = {"max_dp": bound, "power": round(best, 2), "records": len(rs)}
            # Fourth version: a power per class of called genotype where the cell has records
            # enough; the band's all-class power where not.
            class_powers, class_records = {}, {}
            for cls in CLASSES:
                cs = [r for r in rs if r["cls"] == cls]
                class_records[cls] = len(cs)
                if len(cs) < MIN_CLASS_RECORDS:
                    class_powers[cls] = round(best, 2)
                    continue
                b = min(GRID, key=lambda a: -sum(log_post(r["pl"], a)[r["true"]] for r in cs))
                wrong = sum(r["true"] != r["gt"] for r in cs)
                # Sixth version: without a wrong record the fit only extrapolates; no more
                # confident than the band's all-class power.
                # Seventh version: unless the cell holds hundreds of records.
                if wrong == 0 and len(cs) < MIN_ERRORLESS_RECORDS:
                    b = min(b, best)
                class_powers[cls] = round(b, 2)
                print(f"  {cls}: {len(cs)} records, {wrong} wrong, power {b:.2f}", file=sys.stderr)
            band["class_powers"] = class_powers
            band["class_records"] = class_records
            bands.append(band)
        powers[kind] = bands
    step1 = Fitted(powers, None)
    ceilings = {}
    # Fifth version: records whose reads their alleles leave unexplained have ceilings of
    # their own.
    for kind in ("snv", "indel", "snv_unexplained", "indel_unexplained"):
        ceilings[kind] = {}
        for cls in CLASSES:
            counts = [[0, 0] for _ in GQ_BINS]
            for r in recs:
                if r["indel"] != kind.startswith("indel") or r["cls"] != cls:
                    continue
                if r["unexplained"] != kind.endswith("_unexplained"):
                    continue
                b = bin_of(gq_uncapped(step1.log_post(r, with_ceiling=False), r["gt"]))
                counts[b][0] += r["true"] is None or r["true"] != r["gt"]
                counts[b][1] += 1
            shares = isotonic_down(counts)
            bins = []
            for lo, (w, n), s in zip(GQ_BINS, counts, shares):
                # Not below 3.01: the called genotype keeps at least half the mass (a share of
                # wrong calls above one half cannot be said without changing the call).
                ceiling = max(round(-10 * math.log10(s), 2), 3.01) if s > 0 else None
                bins.append({"min_gq": lo, "ceiling": ceiling, "records": n, "wrong": w})
            print(f"{kind} {cls}: " + " ".join(f"{b['min_gq']}:{b['wrong']}/{b['records']}->{b['ceiling']}" for b in bins), file=sys.stderr)
            ceilings[kind][cls] = bins
    fitted = Fitted(powers, ceilings)

    # LowQual: QUAL after calibration is -10 log10 P(0/0).
    quals = [(-10 * fitted.log_post(r)[0] / math.log(10), r["true"] == r["gt"]) for r in recs if r["nonref"]]
    n_truth = sum(n for _, _, n in sets)
    best_q, best_f1 = 0, -1.0
    for q in range(0, 51):
        calls = sum(1 for qual, _ in quals if qual >= q)
        correct = sum(1 for qual, ok in quals if qual >= q and ok)
        f1 = 2 * correct / (calls + n_truth) if calls + n_truth else 0
        print(f"LowQual {q}: F1_GT {f1:.5f}", file=sys.stderr)
        if f1 > best_f1 + 1e-12:
            best_q, best_f1 = q, f1
    print(f"LowQual: QUAL < {best_q} (F1_GT {best_f1:.5f} over {n_truth} truth alleles)", file=sys.stderr)
    json.dump(
        {
            "method": "genotype posteriors raised to a power per kind of site, DP band and "
            "called genotype class (temperature scaling), then a GQ ceiling per kind, called "
            "genotype class and GQ bin (isotonic regression of the observed error), from PL",
            "fitted_on": [name for name, _, _ in sets],
            "rule": "scripts/calibrate.py, seventh version: powers on a 0.05 grid in 0.5..6 "
            "minimising the NLL of the true genotype, per kind, DP band and class of called "
            "genotype (a class with under 50 records keeps the band's all-class power; one "
            "with no wrong record and under 300 records at most that power); "
            "ceilings -10 log10 of the pooled-adjacent-violators share of wrong genotypes per "
            "GQ bin (none where it is 0), apart for records whose alleles leave reads "
            "unexplained (DP - sum AD > max(1, DP/10))",
            "snv_bands": powers["snv"],
            "indel_bands": powers["indel"],
            "ceilings": ceilings,
            "min_qual": best_q,
            "min_qual_rule": "smallest integer QUAL in 0..50 maximising F1_GT "
            "(2 correct / (calls + truth alleles)) over the fitted sets",
        },
        sys.stdout,
        indent=1,
    )
    print()


GQ_BANDS = [(0, 10), (10, 20), (20, 30), (30, 40), (40, 50), (50, 60), (60, 99), (99, 100)]


def poisson_interval(k, level=0.95):
    """Exact (Garwood) interval for a Poisson mean from k observed events, by bisection."""
    def cdf(k, mu):  # P(X <= k)
        term, total = math.exp(-mu), math.exp(-mu)
        for i in range(1, k + 1):
            term *= mu / i
            total += term
        return total

    def solve(f, lo, hi):
        for _ in range(200):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) else (lo, mid)
        return (lo + hi) / 2

    a = (1 - level) / 2
    low = 0.0 if k == 0 else solve(lambda mu: 1 - cdf(k - 1, mu) < a, 0.0, k + 1.0)
    high = solve(lambda mu: cdf(k, mu) > a, k, 10.0 * k + 10.0)
    return low, high


def table(manifest, vcf_dir, prefix="depth_"):
    """Predicted against observed genotype error by GQ band: each set, then all pooled. The
    interval is the exact 95% Poisson interval of the observed errors over the expected."""
    sets = load(manifest, vcf_dir, prefix)
    print("| set | GQ band | calls | predicted error | observed error | expected errors | observed / predicted (95% interval) |")
    print("|---|---|---|---|---|---|---|")
    pooled = defaultdict(lambda: [0, 0.0, 0])
    for name, recs, _ in sets + [(f"all {prefix}* sets", None, 0)]:
        rows = pooled if recs is None else defaultdict(lambda: [0, 0.0, 0])
        if recs is not None:
            for r in recs:
                b = next(i for i, (lo, hi) in enumerate(GQ_BANDS) if lo <= r["gq"] < hi)
                wrong = r["true"] is None or r["true"] != r["gt"]
                for tgt in (rows, pooled):
                    tgt[b][0] += 1
                    tgt[b][1] += 10 ** (-r["gq"] / 10)
                    tgt[b][2] += wrong
        for b, (lo, hi) in enumerate(GQ_BANDS):
            n, pred, obs = rows[b]
            if n == 0:
                continue
            p, o = pred / n, obs / n
            lo_k, hi_k = poisson_interval(obs)
            ratio = f"{o / p:.2f} ({lo_k / pred:.2g}-{hi_k / pred:.2g})" if p > 0 else "-"
            label = "99" if lo == 99 else f"{lo}-{hi - 1}"
            print(f"| {name} | {label} | {n} | {p:.2e} | {o:.2e} ({obs}) | {pred:.3g} | {ratio} |")
    # Clear hom-alt SNVs (issue 25): calls 1/1 of an SNV at DP >= 20 with no REF read.
    clear = sorted(
        r["gq"] for _, recs, _ in sets for r in recs
        if r["cls"] == "hom" and not r["indel"] and r["dp"] >= 20 and r["ref_ad"] == 0
    )
    if clear:
        wrong = sum(
            1 for _, recs, _ in sets for r in recs
            if r["cls"] == "hom" and not r["indel"] and r["dp"] >= 20 and r["ref_ad"] == 0
            and (r["true"] is None or r["true"] != r["gt"])
        )
        print(
            f"\nClear hom-alt SNVs (DP >= 20, no REF read): {len(clear)} calls, {wrong} wrong, "
            f"median GQ {statistics.median(clear)}, GQ >= 50: {sum(g >= 50 for g in clear)}"
        )


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] not in ("fit", "table"):
        print("usage: calibrate.py fit|table MANIFEST VCF_DIR [PREFIX]", file=sys.stderr)
        sys.exit(2)
    cmd, manifest, vcf_dir = sys.argv[1:4]
    try:
        {"fit": fit, "table": table}[cmd](manifest, vcf_dir, *sys.argv[4:5])
    except (FileNotFoundError, KeyError, ValueError) as e:  # a missing VCF, a VCF without PL/GQ
        print(f"calibrate.py {cmd}: {manifest}, {vcf_dir}: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(2)
