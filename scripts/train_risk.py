#!/usr/bin/env python3
"""Train varstream's demonstration risk model on a synthetic cohort and export it for
`varstream score risk` (ONNX + JSON sidecar).

Everything here is simulated; the model predicts a synthetic trait and says nothing about
any disease. It exists to show, and to test, the contract a real model must follow.

The cohort:
  * genotypes (Hardy-Weinberg, seeded allele frequencies) at the 77 variants of the PGS
    Catalog score PGS000001 (tests/data/scores/PGS000001_hmPOS_GRCh37.txt.gz) and at the
    cis-eQTL variants of 4 synthetic genes, whose PredictDB-style weights this script writes
    as a SQLite database (so `varstream score expression` predicts their expression);
  * age (40-75) and sex;
  * features computed the way varstream computes them: the PRS as `score prs` does (SUM of
    weight x effect-allele copies over the rows it matches: palindromic A/T and C/G SNPs are
    excluded, as pgsc_calc does), predicted expression as `score expression` does;
  * a liability-threshold phenotype: liability = sqrt(h_score) z(PRS) + sqrt(h_expr) z(E) +
    sqrt(h_cov) z(C) + sqrt(1 - h_score - h_expr - h_cov) noise, where E is a non-linear
    function of the predicted expression (one gene acts only above its mean, one differently
    by sex) and C of age and sex; cases are the individuals whose liability exceeds the
    threshold that gives the stated prevalence.

The models (the seeds' shape: a small MLP with a sigmoid output, in the graph):
  * demo-risk-v1: PRS + 4 genes + age + sex -> probability;
  * demo-risk-v1-no-prs: the same without the PRS, the sub-model the sidecar falls back to
    when the PRS is missing (a FAIL score);
  * baseline (not exported): logistic regression on the PRS alone.
Each is scored on a held-out part of the cohort: AUC, calibration slope and intercept, a
reliability table (deciles of predicted risk) and an SVG reliability plot.

Outputs (--out-dir, default models/): NAME.onnx, NAME-no-prs.onnx, NAME.json (the sidecar),
NAME.eqtl.db (the synthetic PredictDB weights), NAME.train_log.json; docs/NAME.reliability.svg;
and test fixtures in --fixtures (default tests/data/risk/): a 24-sample held-out VCF, its
covariates and the features and probabilities PyTorch computed for them.

Needs the training venv (scripts/setup_train_env.sh: torch, onnx, numpy) and, for the
onnxruntime check, .venv (scripts/setup.sh).
Usage: .venv-train/bin/python scripts/train_risk.py [--seed 1] [--n 40000]
"""
import argparse
import gzip
import hashlib
import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PGS_FILE = os.path.join("tests", "data", "scores", "PGS000001_hmPOS_GRCh37.txt.gz")
PGS_ID = "PGS000001"
ONNX_OPSET = 17
ORT_ATOL = 1e-5

# Variance of the liability explained by each part (the rest is noise).
H_SCORE, H_EXPR, H_COV = 0.15, 0.10, 0.10
PREVALENCE = 0.10
N_GENES = 4
EQTL_CHROM, EQTL_FROM = "20", 30_000_000  # GRCh37 chr20:30 Mb, far from 9.9-10.2 Mb
HIDDEN = (16, 8)


def log(msg: str) -> None:
    print(f"train_risk: {msg}", file=sys.stderr, flush=True)


def sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


# ---------------------------------------------------------------------------
# The synthetic cohort
# ---------------------------------------------------------------------------

COMPLEMENT = {"A": "T", "T": "A", "C": "G", "G": "C"}


def read_pgs(path: str):
    """Rows of a harmonized PGS Catalog file: chrom, pos, effect, other, weight."""
    rows, cols = [], None
    with gzip.open(path, "rt") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            fields = line.rstrip("\n").split("\t")
            if cols is None:
                cols = {c: i for i, c in enumerate(fields)}
                continue
            rows.append(
                dict(
                    chrom=fields[cols["hm_chr"]],
                    pos=int(fields[cols["hm_pos"]]),
                    effect=fields[cols["effect_allele"]],
                    other=fields[cols["other_allele"]],
                    weight=float(fields[cols["effect_weight"]]),
                )
            )
    return rows


def palindromic(a: str, b: str) -> bool:
    return len(a) == 1 and len(b) == 1 and COMPLEMENT.get(a) == b


def synthetic_genes(rng):
    """4 genes with 4-7 cis variants each: (gene, genename, [(pos, ref, alt, eff, weight)])."""
    genes, pos = [], EQTL_FROM
    for g in range(N_GENES):
        variants = []
        for k in range(int(rng.integers(4, 8))):
            pos += int(rng.integers(500, 5000))
            ref, alt = rng.choice(list("ACGT"), 2, replace=False)
            # One variant per gene has the REF as its effect allele (the swapped case).
            eff = ref if k == 1 else alt
            variants.append((pos, str(ref), str(alt), str(eff), float(rng.normal(0, 0.6))))
        genes.append((f"SYNTH{g + 1:04d}", f"DEMO_GENE_{g + 1}", variants))
        pos += 200_000
    return genes


def simulate(n: int, rng, pgs_rows, genes):
    """Genotypes, features and the phenotype of n individuals."""
    pgs_af = rng.uniform(0.05, 0.95, len(pgs_rows))
    # Effect-allele copies at each PGS variant (the VCF writes REF = other, ALT = effect).
    g_pgs = rng.binomial(2, pgs_af, (n, len(pgs_rows))).astype(np.int8)
    scored = np.array([not palindromic(r["effect"], r["other"]) for r in pgs_rows])
    w = np.array([r["weight"] for r in pgs_rows])
    prs = (g_pgs[:, scored] * w[scored]).sum(1)
    g_eqtl, expr = [], []
    for _, _, variants in genes:
        af = rng.uniform(0.1, 0.9, len(variants))
        alt_copies = rng.binomial(2, af, (n, len(variants))).astype(np.int8)
        g_eqtl.append(alt_copies)
        e = np.zeros(n)
        for j, (_, ref, alt, eff, weight) in enumerate(variants):
            copies = alt_copies[:, j] if eff == alt else 2 - alt_copies[:, j]
            e += weight * copies
        expr.append(e)
    expr = np.stack(expr, 1)
    age = rng.integers(40, 76, n).astype(np.float64)
    male = rng.random(n) < 0.5

    def z(x):
        return (x - x.mean()) / x.std()

    ez = np.stack([z(expr[:, k]) for k in range(N_GENES)], 1)
    e_part = (
        0.6 * ez[:, 0]
        + 0.7 * np.maximum(ez[:, 1], 0.0)
        - 0.4 * ez[:, 2]
        + 0.5 * ez[:, 3] * np.where(male, 1.0, -0.5)
    )
    c_part = 0.06 * (age - 57.5) + 0.002 * (age - 57.5) ** 2 + 0.4 * male
    liability = (
        math.sqrt(H_SCORE) * z(prs)
        + math.sqrt(H_EXPR) * z(e_part)
        + math.sqrt(H_COV) * z(c_part)
        + math.sqrt(1 - H_SCORE - H_EXPR - H_COV) * rng.standard_normal(n)
    )
    threshold = float(np.quantile(liability, 1 - PREVALENCE))
    y = (liability > threshold).astype(np.float32)
    return dict(
        g_pgs=g_pgs, g_eqtl=g_eqtl, prs=prs, expr=expr, age=age, male=male, y=y,
        threshold=threshold,
    )


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def auc(y, p) -> float:
    """Area under the ROC curve (Mann-Whitney, ties as half)."""
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    sp = p[order]
    i = 0
    while i < len(sp):
        j = i
        while j + 1 < len(sp) and sp[j + 1] == sp[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    n1 = y.sum()
    n0 = len(y) - n1
    return float((ranks[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def logit(p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def logistic_fit(x, y, offset=None, iters=50):
    """Newton-Raphson logistic regression of y on the columns of x (plus an intercept)."""
    X = np.column_stack([np.ones(len(y)), x]) if x is not None else np.ones((len(y), 1))
    off = np.zeros(len(y)) if offset is None else offset
    b = np.zeros(X.shape[1])
    for _ in range(iters):
        mu = 1 / (1 + np.exp(-(X @ b + off)))
        grad = X.T @ (y - mu)
        hess = X.T @ (X * (mu * (1 - mu))[:, None])
        step = np.linalg.solve(hess, grad)
        b += step
        if np.abs(step).max() < 1e-10:
            break
    return b


def calibration(y, p, data: str, caveat: str) -> dict:
    lp = logit(p)
    slope = logistic_fit(lp, y)[1]
    intercept = logistic_fit(None, y, offset=lp)[0]
    edges = np.quantile(p, np.linspace(0, 1, 11))
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, 9)
    table = []
    for k in range(10):
        m = bins == k
        if m.any():
            table.append([round(float(p[m].mean()), 4), round(float(y[m].mean()), 4), int(m.sum())])
    return dict(
        data=data,
        n=int(len(y)),
        cases=int(y.sum()),
        auc=round(auc(y, p), 4),
        slope=round(float(slope), 4),
        intercept=round(float(intercept), 4),
        reliability=table,
        caveat=caveat,
    )


# ---------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------


def make_mlp(torch, n_in: int):
    nn = torch.nn
    return nn.Sequential(
        nn.Linear(n_in, HIDDEN[0]),
        nn.ReLU(),
        nn.Linear(HIDDEN[0], HIDDEN[1]),
        nn.ReLU(),
        nn.Linear(HIDDEN[1], 1),
        nn.Sigmoid(),
    )


def train_mlp(torch, x_tr, y_tr, x_va, y_va, seed: int, epochs: int):
    torch.manual_seed(seed)
    model = make_mlp(torch, x_tr.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    loss_fn = torch.nn.BCELoss()
    xt, yt = torch.from_numpy(x_tr), torch.from_numpy(y_tr)[:, None]
    xv, yv = torch.from_numpy(x_va), torch.from_numpy(y_va)[:, None]
    gen = torch.Generator().manual_seed(seed)
    best, best_state, best_epoch = float("inf"), None, -1
    for epoch in range(epochs):
        model.train()
        for idx in torch.randperm(len(xt), generator=gen).split(256):
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            v = loss_fn(model(xv), yv).item()
        if v < best - 1e-6:
            best, best_epoch = v, epoch
            best_state = {k: t.clone() for k, t in model.state_dict().items()}
    model.load_state_dict(best_state)
    model.eval()
    log(f"  best validation loss {best:.5f} at epoch {best_epoch + 1}/{epochs}")
    return model, best_epoch + 1, best


def export_onnx(torch, model, n_in: int, path: str, doc: str) -> None:
    import onnx

    dummy = torch.zeros(2, n_in, dtype=torch.float32)
    torch.onnx.export(
        model,
        (dummy,),
        path,
        input_names=["features"],
        output_names=["probability"],
        dynamic_axes={"features": {0: "batch"}, "probability": {0: "batch"}},
        opset_version=ONNX_OPSET,
        do_constant_folding=True,
        dynamo=False,
    )
    m = onnx.load(path)
    onnx.checker.check_model(m, full_check=True)
    del m.metadata_props[:]
    m.doc_string = doc
    m.producer_name = "varstream scripts/train_risk.py"
    onnx.save(m, path)


ORT_SNIPPET = r"""
import sys, numpy as np, onnxruntime as ort
so = ort.SessionOptions(); so.intra_op_num_threads = 1
s = ort.InferenceSession(sys.argv[1], so, providers=["CPUExecutionProvider"])
x = np.load(sys.argv[2])
np.save(sys.argv[3], s.run(None, {s.get_inputs()[0].name: x})[0])
"""


def ort_predict(path: str, x: np.ndarray) -> np.ndarray:
    py = os.path.join(REPO_ROOT, ".venv", "bin", "python")
    with tempfile.TemporaryDirectory() as td:
        xin, out = os.path.join(td, "x.npy"), os.path.join(td, "y.npy")
        np.save(xin, x.astype(np.float32))
        r = subprocess.run([py, "-c", ORT_SNIPPET, path, xin, out], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"train_risk: onnxruntime check failed ({py}):\n{r.stderr}")
        return np.load(out)[:, 0]


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def write_predictdb(path: str, genes) -> None:
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.executescript(
        'CREATE TABLE weights (gene TEXT, rsid TEXT, varID TEXT, ref_allele TEXT, eff_allele TEXT, weight DOUBLE);'
        'CREATE TABLE extra (gene TEXT, genename TEXT, "n.snps.in.model" INTEGER, "pred.perf.R2" DOUBLE, "pred.perf.pval" DOUBLE, "pred.perf.qval" DOUBLE);'
    )
    for gene, name, variants in genes:
        for j, (pos, ref, alt, eff, weight) in enumerate(variants):
            # PredictDB's ref_allele is the non-effect allele: the ALT when the effect is REF.
            other = alt if eff == ref else ref
            db.execute(
                "INSERT INTO weights VALUES (?, ?, ?, ?, ?, ?)",
                (gene, f"{gene}_v{j + 1}", f"chr{EQTL_CHROM}_{pos}_{ref}_{alt}_b37", other, eff, weight),
            )
        db.execute("INSERT INTO extra VALUES (?, ?, ?, NULL, NULL, NULL)", (gene, name, len(variants)))
    db.commit()
    db.execute("VACUUM")
    db.close()


def write_vcf(path: str, samples, cohort, rows, pgs_rows, genes) -> None:
    """A VCF of the chosen individuals: every PGS and eQTL site, REF = other allele."""
    records = []
    for j, r in enumerate(pgs_rows):
        records.append((r["chrom"], r["pos"], r["other"], r["effect"], cohort["g_pgs"][rows, j]))
    for g, (_, _, variants) in enumerate(genes):
        for j, (pos, ref, alt, _, _) in enumerate(variants):
            records.append((EQTL_CHROM, pos, ref, alt, cohort["g_eqtl"][g][rows, j]))
    chroms = sorted({c for c, *_ in records}, key=lambda c: int(c))
    records.sort(key=lambda r: (chroms.index(r[0]), r[1]))
    gt = {0: "0/0", 1: "0/1", 2: "1/1"}
    with open(path, "w") as f:
        f.write("##fileformat=VCFv4.2\n##source=varstream scripts/train_risk.py (synthetic)\n")
        for c in chroms:
            f.write(f"##contig=<ID={c}>\n")
        f.write('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n')
        f.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(samples) + "\n")
        for c, pos, ref, alt, g in records:
            f.write(f"{c}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT\t" + "\t".join(gt[int(x)] for x in g) + "\n")


def reliability_svg(path: str, curves) -> None:
    """Predicted against observed risk per decile, one polyline per model, and the diagonal."""
    size, pad = 320, 40
    top = max(max(max(p, o) for p, o, _ in c["reliability"]) for _, c, _ in curves)
    top = math.ceil(top * 10) / 10
    sx = lambda v: pad + v / top * (size - 2 * pad)  # noqa: E731
    sy = lambda v: size - pad - v / top * (size - 2 * pad)  # noqa: E731
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size + 170}" height="{size}" '
        'font-family="sans-serif" font-size="11">',
        f'<rect width="{size + 170}" height="{size}" fill="white"/>',
        f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(top)}" y2="{sy(top)}" stroke="#999" stroke-dasharray="4 3"/>',
        f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(top)}" y2="{sy(0)}" stroke="black"/>',
        f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(0)}" y2="{sy(top)}" stroke="black"/>',
    ]
    for k in range(0, int(round(top * 10)) + 1):
        v = k / 10
        out.append(f'<text x="{sx(v)}" y="{sy(0) + 14}" text-anchor="middle">{v:.1f}</text>')
        out.append(f'<text x="{sx(0) - 5}" y="{sy(v) + 4}" text-anchor="end">{v:.1f}</text>')
    out.append(f'<text x="{size / 2}" y="{size - 6}" text-anchor="middle">mean predicted risk (decile)</text>')
    out.append(
        f'<text x="12" y="{size / 2}" text-anchor="middle" transform="rotate(-90 12 {size / 2})">observed fraction of cases</text>'
    )
    for i, (label, cal, colour) in enumerate(curves):
        pts = " ".join(f"{sx(p):.1f},{sy(o):.1f}" for p, o, _ in cal["reliability"])
        out.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
        for p, o, _ in cal["reliability"]:
            out.append(f'<circle cx="{sx(p):.1f}" cy="{sy(o):.1f}" r="2.5" fill="{colour}"/>')
        y = 30 + 34 * i
        out.append(f'<line x1="{size + 5}" y1="{y}" x2="{size + 25}" y2="{y}" stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{size + 30}" y="{y + 4}">{label}</text>')
        out.append(
            f'<text x="{size + 30}" y="{y + 17}" fill="#555">AUC {cal["auc"]:.3f}, slope {cal["slope"]:.2f}</text>'
        )
    out.append("</svg>\n")
    with open(path, "w") as f:
        f.write("\n".join(out))


# ---------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=40_000, help="cohort size (70%% train, 10%% validation, 20%% held out)")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--name", default="demo-risk-v1")
    ap.add_argument("--out-dir", default="models")
    ap.add_argument("--fixtures", default=os.path.join("tests", "data", "risk"))
    ap.add_argument("--docs", default="docs")
    args = ap.parse_args()
    os.chdir(REPO_ROOT)
    import torch

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(args.seed)
    pgs_rows = read_pgs(PGS_FILE)
    genes = synthetic_genes(rng)
    log(f"simulating {args.n} individuals: {len(pgs_rows)} PGS variants, {N_GENES} genes")
    c = simulate(args.n, rng, pgs_rows, genes)
    perm = rng.permutation(args.n)
    n_tr, n_va = int(0.7 * args.n), int(0.1 * args.n)
    tr, va, te = perm[:n_tr], perm[n_tr : n_tr + n_va], perm[n_tr + n_va :]
    gene_ids = [g for g, _, _ in genes]

    # Features on their raw scale, then the scaling the sidecar states (training-set moments).
    raw = np.column_stack([c["prs"], c["expr"], c["age"], c["male"].astype(np.float64)])
    names = [f"prs_{PGS_ID}"] + [f"expr_{g}" for g in gene_ids] + ["age", "sex"]
    center = raw[tr].mean(0)
    scale = raw[tr].std(0)
    center[-1], scale[-1] = 0.5, 0.5  # sex: F = 0, M = 1 -> -1 / +1
    center = np.round(center, 6)
    scale = np.round(scale, 6)
    x = ((raw - center) / scale).astype(np.float32)
    y = c["y"]

    caveat = (
        "Demonstration only: trained and calibrated on a simulated cohort whose phenotype is "
        "synthetic. The probability means nothing for a real person; a real model must be "
        "calibrated in the population it is used in."
    )
    held = f"held-out 20% of a synthetic cohort of {args.n} (seed {args.seed})"
    os.makedirs(args.out_dir, exist_ok=True)
    os.makedirs(args.fixtures, exist_ok=True)
    results, exported = {}, {}
    specs = [
        (args.name, list(range(len(names)))),
        (f"{args.name}-no-prs", list(range(1, len(names)))),
    ]
    for model_name, cols in specs:
        log(f"training {model_name} on {len(cols)} features")
        model, epoch, val_loss = train_mlp(torch, x[tr][:, cols], y[tr], x[va][:, cols], y[va], args.seed, args.epochs)
        with torch.no_grad():
            p_te = model(torch.from_numpy(x[te][:, cols]))[:, 0].numpy().astype(np.float64)
        path = os.path.join(args.out_dir, f"{model_name}.onnx")
        export_onnx(
            torch, model, len(cols), path,
            f"varstream demonstration risk model {model_name}: features [batch, {len(cols)}] -> "
            "probability [batch, 1] of a synthetic trait (see its JSON sidecar)",
        )
        p_ort = ort_predict(path, x[te][:, cols])
        diff = float(np.abs(p_ort - p_te).max())
        log(f"  onnxruntime vs torch on {len(te)} held-out rows: max |diff| {diff:.2e}")
        if diff > ORT_ATOL:
            sys.exit(f"train_risk: onnxruntime differs from torch by {diff}")
        results[model_name] = calibration(y[te], p_te, held, caveat)
        results[model_name]["training"] = dict(best_epoch=epoch, validation_loss=round(val_loss, 5))
        exported[model_name] = (model, cols, path)
        r = results[model_name]
        log(f"  held-out AUC {r['auc']:.4f}, slope {r['slope']:.3f}, intercept {r['intercept']:.3f}")

    # Baseline: logistic regression on the (scaled) PRS alone.
    b = logistic_fit(x[tr][:, 0].astype(np.float64), y[tr].astype(np.float64))
    p_base = 1 / (1 + np.exp(-(b[0] + b[1] * x[te][:, 0])))
    base = calibration(y[te], p_base, held, caveat)
    base["model"] = "logistic regression on the PRS alone (intercept %.4f, slope %.4f)" % (b[0], b[1])
    log(f"baseline PRS alone: AUC {base['auc']:.4f}, slope {base['slope']:.3f}, intercept {base['intercept']:.3f}")

    db_path = os.path.join(args.out_dir, f"{args.name}.eqtl.db")
    write_predictdb(db_path, genes)
    features = []
    for i, n in enumerate(names):
        f = dict(name=n)
        if i == 0:
            f.update(source="prs", score_id=PGS_ID, value="SUM",
                     description="PGS000001 (77 breast-cancer SNPs, Mavaddat 2015) SUM as `score prs` writes it; here only a source of synthetic genetic liability")
            f["missing"] = dict(action="submodel")
        elif n.startswith("expr_"):
            g = gene_ids[i - 1]
            f.update(source="expression", gene=g, model=f"{args.name}.eqtl",
                     description=f"predicted expression of synthetic gene {g} from {args.name}.eqtl.db")
            f["missing"] = dict(action="impute", value=float(center[i]))
        elif n == "age":
            f.update(source="covariate", column="age", description="age in years at the start of the horizon")
            f["missing"] = dict(action="refuse")
        else:
            f.update(source="covariate", column="sex", levels={"F": 0.0, "M": 1.0})
            f["missing"] = dict(action="refuse")
        f["center"], f["scale"] = float(center[i]), float(scale[i])
        # Field order as documented.
        features.append({k: f[k] for k in ["name", "source", "description", "score_id", "value", "gene", "model", "column", "levels", "center", "scale", "missing"] if k in f})

    main_name, sub_name = specs[0][0], specs[1][0]
    strip = lambda r: {k: v for k, v in r.items() if k != "training"}  # noqa: E731
    main_cal = strip(results[main_name])
    main_cal["baseline"] = base
    sidecar = {
        "format": "varstream-risk-model",
        "format_version": 1,
        "name": main_name,
        "sha256": sha256(exported[main_name][2]),
        "trait": {
            "id": "demo_synthetic_trait",
            "name": "synthetic demonstration trait (not a disease)",
            "horizon": "10 years",
            "definition": "simulated liability above the threshold that gives 10% prevalence; the "
            "simulation has no time axis, the horizon is a label a real model would state",
        },
        "features": features,
        "submodels": [
            {
                "name": sub_name,
                "file": os.path.basename(exported[sub_name][2]),
                "sha256": sha256(exported[sub_name][2]),
                "features": [names[i] for i in exported[sub_name][1]],
                "calibration": strip(results[sub_name]),
            }
        ],
        "training": {
            "cohort": f"synthetic cohort of {args.n} simulated individuals (scripts/train_risk.py, seed {args.seed}); no real person",
            "details": {
                "script": "scripts/train_risk.py",
                "seed": args.seed,
                "n_train": len(tr),
                "n_validation": len(va),
                "n_held_out": len(te),
                "prevalence": PREVALENCE,
                "liability_variance": {"score": H_SCORE, "expression": H_EXPR, "covariates": H_COV,
                                       "noise": round(1 - H_SCORE - H_EXPR - H_COV, 4)},
                "pgs_file": {"path": PGS_FILE, "sha256": sha256(PGS_FILE),
                             "scored_rows": int(sum(not palindromic(r["effect"], r["other"]) for r in pgs_rows)),
                             "rows": len(pgs_rows)},
                "eqtl_weights": os.path.basename(db_path),
                "architecture": f"MLP {len(names)}-{HIDDEN[0]}-{HIDDEN[1]}-1, ReLU, sigmoid output in the graph",
                "optimiser": f"Adam lr 3e-3, weight decay 1e-4, batch 256, {args.epochs} epochs, best validation loss kept",
                "torch": torch.__version__,
                "epochs_kept": {k: v["training"]["best_epoch"] for k, v in results.items()},
            },
        },
        "calibration": main_cal,
        "notes": "Demonstration model on synthetic data. Real risk models are brought by the user "
        "and must carry a sidecar of this format (docs/scores.md).",
    }
    side_path = os.path.join(args.out_dir, f"{main_name}.json")
    with open(side_path, "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")
    svg = os.path.join(args.docs, f"{main_name}.reliability.svg")
    reliability_svg(
        svg,
        [
            (main_name, results[main_name], "#1f5fa8"),
            (sub_name, results[sub_name], "#d9822b"),
            ("PRS alone", base, "#3a9a3a"),
        ],
    )

    # Test fixtures: 24 held-out individuals as a VCF, their covariates, and what PyTorch
    # computed for them (features before scaling and both models' probabilities).
    pick = np.sort(te[:24])
    samples = [f"D{k + 1:02d}" for k in range(len(pick))]
    write_vcf(os.path.join(args.fixtures, "demo_cohort.vcf"), samples, c, pick, pgs_rows, genes)
    with open(os.path.join(args.fixtures, "demo_cohort.covariates.tsv"), "w") as f:
        f.write("sample\tage\tsex\n")
        for s, i in zip(samples, pick):
            f.write(f"{s}\t{int(c['age'][i])}\t{'M' if c['male'][i] else 'F'}\n")
    probs = {}
    for model_name, (model, cols, _) in exported.items():
        with torch.no_grad():
            probs[model_name] = model(torch.from_numpy(x[pick][:, cols]))[:, 0].numpy()
    with open(os.path.join(args.fixtures, "demo_cohort.expected.tsv"), "w") as f:
        f.write("sample\t" + "\t".join(names) + f"\tprobability\tprobability_no_prs\n")
        for k, (s, i) in enumerate(zip(samples, pick)):
            vals = [repr(float(v)) for v in raw[i]]
            f.write(f"{s}\t" + "\t".join(vals) + f"\t{float(probs[main_name][k])!r}\t{float(probs[sub_name][k])!r}\n")

    train_log = {
        "models": results,
        "baseline_prs_alone": base,
        "outputs": {k: {"path": v[2], "sha256": sha256(v[2]), "bytes": os.path.getsize(v[2])} for k, v in exported.items()},
    }
    with open(os.path.join(args.out_dir, f"{main_name}.train_log.json"), "w") as f:
        json.dump(train_log, f, indent=2)
        f.write("\n")
    print("| model | features | held-out AUC | calibration slope | calibration intercept |")
    print("|---|---|---|---|---|")
    for label, r, nf in [(main_name, results[main_name], len(names)), (sub_name, results[sub_name], len(names) - 1), ("PRS alone (logistic regression)", base, 1)]:
        print(f"| {label} | {nf} | {r['auc']:.4f} | {r['slope']:.3f} | {r['intercept']:.3f} |")


if __name__ == "__main__":
    main()
