#!/usr/bin/env python3
"""Train a varstream genotyping model and export it to ONNX + JSON sidecar.

Input: one or more directories written by `varstream make-examples`, each with
  examples.json             tensor description (window, channels, shape, labels, sources)
  shard-NNNNN.x.npy         float32 [N, window, C]   (already normalised by Rust)
  shard-NNNNN.y.npy         int64   [N]  0/1/2 = copies of the candidate ALT in truth
  shard-NNNNN.meta.tsv      source chrom pos ref alt label depth  (one row per example)

Output (in --out-dir, default <repo>/models):
  NAME.onnx                 input "input" [batch, window, C] float32,
                            output "probs" [batch, 3] softmax (hom_ref, het, hom_alt)
  NAME.json                 sidecar (tensor description, architecture, training, metrics, sha256)
  NAME.train_log.tsv        per-epoch losses / accuracy

The validation split is by genome position (whole blocks of the genome are held
out for every source), never by random rows: neighbouring candidates share reads.

Needs the training venv (scripts/setup_train_env.sh): torch, onnx, numpy.
The exported model is checked against onnxruntime (this interpreter if it has
it, else <repo>/.venv/bin/python) and the run fails if they disagree.

Example:
  .venv-train/bin/python scripts/train.py --examples ex/HG001 ex/HG002 \
      --name genotyper-cnn-v1 --epochs 15
"""
from __future__ import annotations

import argparse
import csv
import datetime as _dt
import glob
import hashlib
import json
import math
import os
import random
import shlex
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LABELS = ["hom_ref", "het", "hom_alt"]
META_COLUMNS = ["source", "chrom", "pos", "ref", "alt", "label", "depth"]
SIDECAR_FORMAT = "varstream-genotyper"
ONNX_OPSET = 17
ORT_ATOL = 1e-5


def log(msg: str) -> None:
    print(f"[train {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def die(msg: str) -> None:
    print(f"train.py: error: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


class Dataset:
    """All examples of all --examples directories, in memory."""

    def __init__(self) -> None:
        self.tensor: dict | None = None  # tensor_version, window, channels, shape
        self.dirs: list[dict] = []  # per directory: path, sources, n
        self.x: np.ndarray | None = None  # float32 [N, W, C]
        self.y: np.ndarray | None = None  # int64 [N]
        self.source_idx: np.ndarray | None = None  # int32 [N] into self.source_names
        self.chrom_idx: np.ndarray | None = None  # int32 [N] into self.chrom_names
        self.pos: np.ndarray | None = None  # int64 [N], 1-based
        self.is_snv: np.ndarray | None = None  # bool [N]
        self.depth: np.ndarray | None = None  # int64 [N]
        self.source_names: list[str] = []
        self.chrom_names: list[str] = []


def _tensor_desc(meta: dict, path: str) -> dict:
    for key in ("tensor_version", "window", "channels", "shape", "labels"):
        if key not in meta:
            die(f"{path}: missing key {key!r}")
    window, channels, shape = meta["window"], meta["channels"], meta["shape"]
    if list(shape) != [window, len(channels)]:
        die(f"{path}: shape {shape} disagrees with window {window} and {len(channels)} channels")
    if list(meta["labels"]) != LABELS:
        die(f"{path}: labels {meta['labels']} != {LABELS}")
    desc = {
        "tensor_version": meta["tensor_version"],
        "window": window,
        "channels": list(channels),
        "shape": list(shape),
    }
    if "encoding" in meta:  # how Rust scales the channels; carried into the sidecar
        desc["encoding"] = meta["encoding"]
    return desc


def load_examples(dirs: list[str]) -> Dataset:
    ds = Dataset()
    shard_plan = []  # (dir, prefix, n)
    for d in dirs:
        jpath = os.path.join(d, "examples.json")
        if not os.path.isfile(jpath):
            die(f"{d}: no examples.json")
        with open(jpath) as fh:
            meta = json.load(fh)
        desc = _tensor_desc(meta, jpath)
        if ds.tensor is None:
            ds.tensor = desc
        elif desc != ds.tensor:
            die(f"{jpath}: tensor description differs from {dirs[0]}: {desc} vs {ds.tensor}")
        xs = sorted(glob.glob(os.path.join(d, "shard-*.x.npy")))
        if not xs:
            die(f"{d}: no shard-*.x.npy files")
        n_dir = 0
        for xp in xs:
            prefix = xp[: -len(".x.npy")]
            for suffix in (".y.npy", ".meta.tsv"):
                if not os.path.isfile(prefix + suffix):
                    die(f"{prefix}{suffix} missing")
            xm = np.load(xp, mmap_mode="r")
            if xm.dtype != np.float32 or list(xm.shape[1:]) != ds.tensor["shape"]:
                die(f"{xp}: dtype {xm.dtype} shape {xm.shape}, expected float32 [N, {ds.tensor['shape']}]")
            shard_plan.append((prefix, xm.shape[0]))
            n_dir += xm.shape[0]
            del xm
        ds.dirs.append({"path": os.path.abspath(d), "sources": meta.get("sources", []), "n": n_dir})

    n = sum(k for _, k in shard_plan)
    if n == 0:
        die("no examples")
    w, c = ds.tensor["shape"]
    log(f"loading {n} examples from {len(shard_plan)} shards ({n * w * c * 4 / 2**20:.1f} MiB)")
    ds.x = np.empty((n, w, c), dtype=np.float32)
    ds.y = np.empty(n, dtype=np.int64)
    ds.source_idx = np.empty(n, dtype=np.int32)
    ds.chrom_idx = np.empty(n, dtype=np.int32)
    ds.pos = np.empty(n, dtype=np.int64)
    ds.is_snv = np.empty(n, dtype=bool)
    ds.depth = np.empty(n, dtype=np.int64)
    sources: dict[str, int] = {}
    chroms: dict[str, int] = {}
    at = 0
    for prefix, k in shard_plan:
        x = np.load(prefix + ".x.npy")
        y = np.load(prefix + ".y.npy")
        if y.shape != (k,) or not np.issubdtype(y.dtype, np.integer):
            die(f"{prefix}.y.npy: dtype {y.dtype} shape {y.shape}, expected int [{k}]")
        if ((y < 0) | (y > 2)).any():
            die(f"{prefix}.y.npy: labels outside 0..2")
        if not np.isfinite(x).all():
            die(f"{prefix}.x.npy: non-finite values")
        ds.x[at : at + k] = x
        ds.y[at : at + k] = y
        with open(prefix + ".meta.tsv", newline="") as fh:
            rd = csv.reader(fh, delimiter="\t")
            header = next(rd, None)
            if header is None or header[: len(META_COLUMNS)] != META_COLUMNS:
                die(f"{prefix}.meta.tsv: header {header}, expected {META_COLUMNS}")
            i = at
            for row in rd:
                if not row:
                    continue
                if i >= at + k:
                    die(f"{prefix}.meta.tsv: more rows than the {k} examples")
                src, chrom, pos, ref, alt, label, depth = row[:7]
                ds.source_idx[i] = sources.setdefault(src, len(sources))
                ds.chrom_idx[i] = chroms.setdefault(chrom, len(chroms))
                ds.pos[i] = int(pos)
                ds.is_snv[i] = len(ref) == 1 and len(alt) == 1
                ds.depth[i] = int(depth)
                if int(label) != y[i - at]:
                    die(f"{prefix}.meta.tsv row {i - at + 1}: label {label} != y {y[i - at]}")
                i += 1
            if i != at + k:
                die(f"{prefix}.meta.tsv: {i - at} rows for {k} examples")
        at += k
        del x, y
    ds.source_names = list(sources)
    ds.chrom_names = list(chroms)
    return ds


def split_mask(ds: Dataset, args) -> tuple[np.ndarray, str]:
    """Boolean mask of validation examples, and the rule as text.

    Whole genome blocks are held out for every source, so the same locus of two
    samples never lands on both sides."""
    if args.val_chroms:
        held = set(args.val_chroms.split(","))
        chrom_held = np.array([c in held for c in ds.chrom_names], dtype=bool)
        mask = chrom_held[ds.chrom_idx] if len(chrom_held) else np.zeros(len(ds.y), bool)
        rule = f"chrom in {{{','.join(sorted(held))}}}"
    else:
        mask = (ds.pos // args.val_block_size) % args.val_block_mod == args.val_block_rem
        rule = f"(pos // {args.val_block_size}) % {args.val_block_mod} == {args.val_block_rem}"
    return mask, rule


# ---------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------


def _prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": p, "recall": r, "f1": f}


def compute_metrics(y: np.ndarray, pred: np.ndarray, is_snv: np.ndarray) -> dict:
    y = np.asarray(y)
    pred = np.asarray(pred)
    cm = np.zeros((3, 3), dtype=np.int64)
    np.add.at(cm, (y, pred), 1)
    out = {
        "n": int(len(y)),
        "accuracy": float((y == pred).mean()) if len(y) else 0.0,
        "confusion_matrix": {
            "rows": "truth",
            "cols": "predicted",
            "labels": LABELS,
            "counts": cm.tolist(),
        },
        "per_class": {},
    }
    for k, name in enumerate(LABELS):
        tp = int(cm[k, k])
        out["per_class"][name] = {
            "n_truth": int(cm[k].sum()),
            "precision": float(tp / cm[:, k].sum()) if cm[:, k].sum() else 0.0,
            "recall": float(tp / cm[k].sum()) if cm[k].sum() else 0.0,
        }
    for kind, sel in (("snv", is_snv), ("indel", ~is_snv), ("all", np.ones_like(is_snv))):
        t, p = y[sel] > 0, pred[sel] > 0
        tp = int((t & p).sum())
        m = _prf(tp, int((~t & p).sum()), int((t & ~p).sum()))
        both = t & p
        # genotype concordance: of the true-positive calls, how many have the right genotype
        m["genotype_concordance"] = float((y[sel][both] == pred[sel][both]).mean()) if tp else 0.0
        m["n"] = int(sel.sum())
        out[kind] = m
    # also: exact genotype agreement over every site that is non-ref in truth or call
    nonref = (y > 0) | (pred > 0)
    out["nonref_genotype_concordance"] = float((y[nonref] == pred[nonref]).mean()) if nonref.any() else 0.0
    out["definitions"] = {
        "call": "predicted label > 0",
        "snv": "len(ref) == len(alt) == 1; indel = every other candidate",
        "genotype_concordance": "fraction of TP calls (truth>0 and pred>0) with pred == truth",
        "nonref_genotype_concordance": "fraction of sites with truth>0 or pred>0 where pred == truth",
    }
    return out


def choose_min_qual(y: np.ndarray, probs: np.ndarray) -> dict:
    """The QUAL (= -10 log10 P(0 copies)) under which non-reference calls become LowQual,
    chosen on held-out simulated blocks only: the smallest integer threshold with the best
    example-level F1. The evaluation window never takes part."""
    qual = -10.0 * np.log10(np.clip(probs[:, 0], 1e-10, 1.0))
    called = probs.argmax(1) > 0
    truth = y > 0
    best = (-1.0, 0)
    for t in range(0, 31):
        c = called & (qual >= t)
        tp = int((c & truth).sum()); fp = int((c & ~truth).sum()); fn = int((~c & truth).sum())
        f1 = 2 * tp / max(1, 2 * tp + fp + fn)
        if f1 > best[0] + 1e-12:
            best = (f1, t)
    return {"min_qual": float(best[1]), "val_f1": best[0],
            "rule": "smallest integer QUAL in 0..30 maximising example-level F1 on the validation blocks"}


def metrics_summary(m: dict) -> str:
    return (
        f"acc {m['accuracy']:.4f} | SNV P {m['snv']['precision']:.4f} R {m['snv']['recall']:.4f} "
        f"F1 {m['snv']['f1']:.4f} GC {m['snv']['genotype_concordance']:.4f} | INDEL P "
        f"{m['indel']['precision']:.4f} R {m['indel']['recall']:.4f} F1 {m['indel']['f1']:.4f} "
        f"GC {m['indel']['genotype_concordance']:.4f}"
    )


# ---------------------------------------------------------------------------
# Models (torch imported lazily so --help works without it)
# ---------------------------------------------------------------------------


def build_model(torch, arch: str, window: int, n_channels: int, hp: dict):
    nn = torch.nn
    center = window // 2

    class ResBlock(nn.Module):
        def __init__(self, width: int, dilation: int):
            super().__init__()
            self.c1 = nn.Conv1d(width, width, 3, padding=dilation, dilation=dilation, bias=False)
            self.b1 = nn.BatchNorm1d(width)
            self.c2 = nn.Conv1d(width, width, 3, padding=dilation, dilation=dilation, bias=False)
            self.b2 = nn.BatchNorm1d(width)

        def forward(self, x):
            h = torch.relu(self.b1(self.c1(x)))
            return torch.relu(x + self.b2(self.c2(h)))

    class Head(nn.Module):
        def __init__(self, in_dim: int, fc: int, dropout: float):
            super().__init__()
            self.fc = nn.Linear(in_dim, fc)
            self.drop = nn.Dropout(dropout)
            self.out = nn.Linear(fc, len(LABELS))

        def forward(self, x):
            return self.out(self.drop(torch.relu(self.fc(x))))

    class CNN(nn.Module):
        """[B, W, C] -> Conv1d stem, residual blocks (dilations), then
        concat(center-position features, max-pool over positions) -> FC -> 3 logits."""

        def __init__(self):
            super().__init__()
            w = hp["width"]
            self.stem = nn.Sequential(
                nn.Conv1d(n_channels, w, 3, padding=1, bias=False), nn.BatchNorm1d(w), nn.ReLU()
            )
            self.blocks = nn.Sequential(*[ResBlock(w, d) for d in hp["dilations"]])
            self.head = Head(2 * w, hp["fc"], hp["dropout"])

        def forward(self, x):
            h = self.blocks(self.stem(x.transpose(1, 2)))  # [B, w, W]
            feats = torch.cat([h[:, :, center], h.amax(dim=2)], dim=1)
            return self.head(feats)

    class GRU(nn.Module):
        """[B, W, C] -> Linear projection -> Bi-GRU over positions ->
        concat(center output, max-pool over positions) -> FC -> 3 logits."""

        def __init__(self):
            super().__init__()
            w = hp["width"]
            self.proj = nn.Sequential(nn.Linear(n_channels, w), nn.ReLU())
            self.gru = nn.GRU(w, hp["hidden"], num_layers=hp["layers"], batch_first=True, bidirectional=True)
            self.head = Head(4 * hp["hidden"], hp["fc"], hp["dropout"])

        def forward(self, x):
            h, _ = self.gru(self.proj(x))  # [B, W, 2*hidden]
            feats = torch.cat([h[:, center, :], h.amax(dim=1)], dim=1)
            return self.head(feats)

    if arch == "cnn":
        return CNN()
    if arch == "gru":
        return GRU()
    raise ValueError(arch)


def load_init_onnx(torch, model, path: str, tensor: dict, hp: dict) -> dict:
    """Copies an exported cnn's weights into `model` (see --init-onnx). The export folds each
    BatchNorm into the Conv before it (conv weight and bias), so each BN becomes identity
    (running mean 0, running var 1 - eps, scale 1) with the folded bias as its shift. Returns
    what was loaded, for the sidecar."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(path)
    props = {p.key: p.value for p in m.metadata_props}
    if props.get("tensor_version") != str(tensor["tensor_version"]) or props.get("channels") != ",".join(tensor["channels"]):
        die(f"{path}: tensor {props.get('tensor_version')} / channels differ from the examples'")
    inits = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    conv_nodes = [n for n in m.graph.node if n.op_type == "Conv"]
    convs = [model.stem[0]] + [c for blk in model.blocks for c in (blk.c1, blk.c2)]
    bns = [model.stem[1]] + [b for blk in model.blocks for b in (blk.b1, blk.b2)]
    if len(conv_nodes) != len(convs):
        die(f"{path}: {len(conv_nodes)} Conv nodes, the cnn has {len(convs)} (--width/--dilations must match)")
    with torch.no_grad():
        for node, conv, bn in zip(conv_nodes, convs, bns):
            w, b = inits[node.input[1]], inits[node.input[2]]
            dil = [a.ints for a in node.attribute if a.name == "dilations"]
            if tuple(w.shape) != tuple(conv.weight.shape) or (dil and list(dil[0]) != list(conv.dilation)):
                die(f"{path}: Conv {node.name} {w.shape} dilation {dil}, model {tuple(conv.weight.shape)} {conv.dilation}")
            conv.weight.copy_(torch.from_numpy(w.copy()))
            bn.weight.fill_(1.0)
            bn.bias.copy_(torch.from_numpy(b.copy()))
            bn.running_mean.zero_()
            bn.running_var.fill_(1.0 - bn.eps)
        for name in ("fc", "out"):
            lin = getattr(model.head, name)
            for part in ("weight", "bias"):
                arr = inits.get(f"model.head.{name}.{part}")
                if arr is None or tuple(arr.shape) != tuple(getattr(lin, part).shape):
                    die(f"{path}: model.head.{name}.{part} missing or of another shape")
                getattr(lin, part).copy_(torch.from_numpy(arr.copy()))
    with open(path, "rb") as fh:
        sha = hashlib.sha256(fh.read()).hexdigest()
    return {"onnx": os.path.abspath(path), "name": props.get("name"), "sha256": sha,
            "logit_bias": inits["logit_bias"].tolist() if "logit_bias" in inits else None}


def make_gated_wrapper(torch, model, logit_bias, teacher, teacher_bias, ch_depth: int, center: int, lo: float, hi: float):
    """Depth-gated pair (see --gate-onnx): g = clamp((HI - depth) / (HI - LO), 0, 1),
    probs = g * softmax(model + bias) + (1 - g) * softmax(teacher + teacher_bias)."""

    class Gated(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.teacher = teacher
            self.register_buffer("logit_bias", torch.tensor(logit_bias, dtype=torch.float32))
            self.register_buffer("teacher_bias", torch.tensor(teacher_bias, dtype=torch.float32))

        def forward(self, x):
            depth = x[:, center, ch_depth : ch_depth + 1] * 100.0
            g = torch.clamp((hi - depth) / (hi - lo), 0.0, 1.0)
            p = torch.softmax(self.model(x) + self.logit_bias, dim=-1)
            q = torch.softmax(self.teacher(x) + self.teacher_bias, dim=-1)
            return g * p + (1.0 - g) * q

    return Gated()


def make_export_wrapper(torch, model, logit_bias):
    """Model + prior correction + softmax, which is what goes into the ONNX file."""

    class Exported(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            self.register_buffer("logit_bias", torch.tensor(logit_bias, dtype=torch.float32))

        def forward(self, x):
            return torch.softmax(self.model(x) + self.logit_bias, dim=-1)

    return Exported()


# ---------------------------------------------------------------------------
# ONNX export and onnxruntime check
# ---------------------------------------------------------------------------

ORT_SNIPPET = r"""
import sys, json, numpy as np, onnxruntime as ort
model, xin, out = sys.argv[1], sys.argv[2], sys.argv[3]
so = ort.SessionOptions(); so.intra_op_num_threads = 1; so.inter_op_num_threads = 1
s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
x = np.load(xin)
info = {
    "ort_version": ort.__version__,
    "inputs": [[i.name, list(i.shape), i.type] for i in s.get_inputs()],
    "outputs": [[o.name, list(o.shape), o.type] for o in s.get_outputs()],
}
full = s.run(["probs"], {"input": x})[0]
# dynamic batch axis: single rows and an odd-sized batch must give the same answers
one = np.concatenate([s.run(["probs"], {"input": x[i:i+1]})[0] for i in range(min(len(x), 4))])
odd = s.run(["probs"], {"input": x[:7]})[0]
np.savez(out, full=full, one=one, odd=odd)
print(json.dumps(info))
"""


def find_ort_python(args) -> str | None:
    """None means: onnxruntime is importable here."""
    if args.ort_python:
        return args.ort_python
    try:
        import onnxruntime  # noqa: F401

        return None
    except ImportError:
        pass
    cand = os.path.join(REPO_ROOT, ".venv", "bin", "python")
    if os.path.isfile(cand):
        return cand
    die("onnxruntime not importable and no <repo>/.venv/bin/python; pass --ort-python")
    return None


def run_ort(onnx_path: str, x: np.ndarray, ort_python: str | None) -> tuple[dict, dict]:
    with tempfile.TemporaryDirectory() as td:
        xin = os.path.join(td, "x.npy")
        out = os.path.join(td, "out.npz")
        np.save(xin, np.ascontiguousarray(x, dtype=np.float32))
        py = ort_python or sys.executable
        r = subprocess.run([py, "-c", ORT_SNIPPET, onnx_path, xin, out], capture_output=True, text=True)
        if r.returncode != 0:
            die(f"onnxruntime check failed ({py}):\n{r.stderr}")
        info = json.loads(r.stdout.strip().splitlines()[-1])
        with np.load(out) as z:
            res = {k: z[k] for k in z.files}
    return info, res


def export_onnx(torch, wrapper, onnx_path: str, window: int, n_channels: int, meta_props: dict) -> list[str]:
    import onnx

    wrapper.eval()
    dummy = torch.zeros(2, window, n_channels, dtype=torch.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.onnx.export(
            wrapper,
            (dummy,),
            onnx_path,
            input_names=["input"],
            output_names=["probs"],
            dynamic_axes={"input": {0: "batch"}, "probs": {0: "batch"}},
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
    msgs = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m, full_check=True)
    del m.metadata_props[:]
    for k, v in meta_props.items():
        p = m.metadata_props.add()
        p.key, p.value = k, v
    m.doc_string = "varstream genotyper: input [batch, window, channels] -> probs [batch, 3] (hom_ref, het, hom_alt)"
    onnx.save(m, onnx_path)
    return msgs


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------


def class_weights(counts: np.ndarray, mode: str) -> np.ndarray:
    counts = np.maximum(counts.astype(np.float64), 1.0)
    if mode == "none":
        w = np.ones(3)
    elif mode == "balanced":
        w = counts.sum() / (3 * counts)
    elif mode == "sqrt":
        w = np.sqrt(counts.sum() / (3 * counts))
    else:
        raise ValueError(mode)
    return w / (w * counts).sum() * counts.sum()  # mean weight over the training rows = 1


def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        description="Train a varstream genotyping model and export ONNX + JSON sidecar.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    ap.add_argument("--examples", nargs="+", required=True, metavar="DIR", help="make-examples output directories")
    ap.add_argument("--name", default=None, help="model name (file stem); default genotyper-ARCH")
    ap.add_argument("--version", default="0.1.0", help="model version written to the sidecar")
    ap.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "models"))
    ap.add_argument("--arch", choices=["cnn", "gru"], default="cnn")
    ap.add_argument("--width", type=int, default=64, help="conv channels (cnn) / input projection (gru)")
    ap.add_argument("--dilations", default="1,2", help="cnn: one residual block per dilation")
    ap.add_argument("--hidden", type=int, default=64, help="gru: hidden size per direction")
    ap.add_argument("--gru-layers", type=int, default=1)
    ap.add_argument("--fc", type=int, default=128)
    ap.add_argument("--dropout", type=float, default=0.3)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--patience", type=int, default=4, help="early stop after this many epochs without val-loss gain")
    ap.add_argument("--batch-size", type=int, default=512)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--warmup-frac", type=float, default=0.03, help="linear warm-up, then cosine decay")
    ap.add_argument(
        "--class-weight",
        choices=["none", "sqrt", "balanced"],
        default="sqrt",
        help="loss weights from training class counts; the exported model adds -log(weight) to the logits "
        "so its probabilities stay calibrated to the training class mix",
    )
    ap.add_argument("--augment-quality", type=float, default=0.0,
                    help="domain randomisation of the quality summaries: each training example's mean_mapq "
                         "channel is scaled by U(1-a, 1) and mean_baseq by U(1-a/2, 1) (0 = off). Simulated reads "
                         "aligned to a few Mb are almost all MAPQ 60 with few low-quality bases, so without this "
                         "the model learns simulator-specific quality levels instead of the evidence")
    ap.add_argument("--multi-allelic-repeat", type=int, default=1,
                    help="show training examples from sites with several candidate alleles this many times per epoch (1 = off)")
    ap.add_argument("--augment-noise", type=float, default=0.0, help="sigma of Gaussian noise added to train inputs (0 = off)")
    ap.add_argument("--val-block-size", type=int, default=100_000)
    ap.add_argument("--val-block-mod", type=int, default=10)
    ap.add_argument("--val-block-rem", type=int, default=0)
    ap.add_argument("--val-chroms", default=None, help="comma list: hold out whole chromosomes instead of blocks")
    ap.add_argument("--init-onnx", default=None, metavar="ONNX",
                    help="fine-tune: start from this exported model's weights (same tensor and cnn architecture; "
                         "its BatchNorm is folded into the convolutions, so the BN layers start as identity "
                         "with the folded shift and keep those statistics: they stay in eval mode)")
    ap.add_argument("--distill-onnx", default=None, metavar="ONNX",
                    help="teacher: an exported cnn (loaded as --init-onnx does); examples whose depth (meta.tsv) is "
                         ">= --distill-min-depth learn the teacher's probabilities as well as their labels")
    ap.add_argument("--distill-min-depth", type=int, default=20)
    ap.add_argument("--distill-weight", type=float, default=0.9,
                    help="share of the loss of an example at or above --distill-min-depth that is the KL divergence "
                         "from the teacher's probabilities (the rest is the usual weighted cross-entropy)")
    ap.add_argument("--gate-onnx", default=None, metavar="ONNX",
                    help="export a depth-gated pair: the probabilities of the trained model where the centre "
                         "position's read depth is <= LO of --gate-depth, those of this exported cnn (frozen) at >= HI, "
                         "linearly mixed between; depth from the tensor's `depth` channel (reads/100)")
    ap.add_argument("--gate-depth", default="12,16", metavar="LO,HI")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ort-python", default=None, help="python with onnxruntime (default: this one or <repo>/.venv)")
    ap.add_argument("--max-onnx-bytes", type=int, default=2 * 2**20)
    args = ap.parse_args(argv)
    if args.val_block_size <= 0 or args.val_block_mod <= 0 or not 0 <= args.val_block_rem < args.val_block_mod:
        ap.error("need --val-block-size > 0, --val-block-mod > 0, 0 <= --val-block-rem < --val-block-mod")
    if args.name is None:
        args.name = f"genotyper-{args.arch}"
    if not args.name or "/" in args.name or args.name.startswith("."):
        ap.error("--name must be a plain file stem")
    args.dilations = [int(d) for d in args.dilations.split(",") if d]
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    command = shlex.join([sys.executable] + (sys.argv if argv is None else [sys.argv[0]] + list(argv)))
    import torch

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    ort_python = find_ort_python(args)

    ds = load_examples(args.examples)
    tensor = ds.tensor
    window, n_channels = tensor["shape"]
    if args.augment_quality > 0:
        for need in ("mean_mapq", "mean_baseq"):
            if need not in tensor["channels"]:
                die(f"--augment-quality needs a {need} channel")
    ch_mapq = tensor["channels"].index("mean_mapq") if "mean_mapq" in tensor["channels"] else -1
    ch_baseq = tensor["channels"].index("mean_baseq") if "mean_baseq" in tensor["channels"] else -1
    val_mask, val_rule = split_mask(ds, args)
    tr_idx = np.flatnonzero(~val_mask)
    va_idx = np.flatnonzero(val_mask)
    if len(tr_idx) == 0 or len(va_idx) == 0:
        die(f"validation rule {val_rule!r} leaves {len(tr_idx)} training and {len(va_idx)} validation examples")
    n_multi = 0
    if args.multi_allelic_repeat > 1:
        # Sites with several candidate alleles (true 1/2 genotypes, or a variant plus stutter)
        # are a few percent of examples, yet the genotype of such a site is a product over its
        # alleles' answers; seeing them more often teaches the model what another allele's
        # reads mean. Only training examples are repeated, never validation ones.
        key = (ds.source_idx.astype(np.int64) << 48) | (ds.chrom_idx.astype(np.int64) << 40) | ds.pos
        _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        multi = counts[inverse] >= 2
        extra = tr_idx[multi[tr_idx]]
        n_multi = int(len(extra))
        tr_idx = np.concatenate([tr_idx] + [extra] * (args.multi_allelic_repeat - 1))
        log(f"multi-allelic sites: {n_multi} training examples, each seen {args.multi_allelic_repeat}x")
    tr_counts = np.bincount(ds.y[tr_idx], minlength=3)
    va_counts = np.bincount(ds.y[va_idx], minlength=3)
    log(f"train {len(tr_idx)} {dict(zip(LABELS, tr_counts.tolist()))}; val {len(va_idx)} "
        f"{dict(zip(LABELS, va_counts.tolist()))}; rule {val_rule}")

    weights = class_weights(tr_counts, args.class_weight)
    logit_bias = (-np.log(weights)).astype(np.float32)
    log(f"class weights {np.round(weights, 4).tolist()} (logit bias in export {np.round(logit_bias, 4).tolist()})")

    hp = {
        "width": args.width,
        "dilations": args.dilations,
        "hidden": args.hidden,
        "layers": args.gru_layers,
        "fc": args.fc,
        "dropout": args.dropout,
    }
    model = build_model(torch, args.arch, window, n_channels, hp)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"arch {args.arch}: {n_params} parameters")
    init = None
    if args.init_onnx:
        if args.arch != "cnn":
            die("--init-onnx needs --arch cnn")
        init = load_init_onnx(torch, model, args.init_onnx, tensor, hp)
        log(f"initialised from {args.init_onnx} (sha256 {init['sha256'][:12]}...); BatchNorm frozen")

    X = torch.from_numpy(ds.x)
    Y = torch.from_numpy(ds.y)
    distill = None
    if args.distill_onnx:
        # Teacher probabilities of every example, once (on the un-augmented tensors).
        teacher = build_model(torch, "cnn", window, n_channels, hp)
        t_info = load_init_onnx(torch, teacher, args.distill_onnx, tensor, hp)
        t_bias = torch.tensor(t_info["logit_bias"], dtype=torch.float32)
        teacher.eval()
        with torch.no_grad():
            TP = torch.cat([torch.softmax(teacher(X[s : s + 4096]) + t_bias, dim=-1) for s in range(0, len(X), 4096)])
        A = torch.from_numpy(np.where(ds.depth >= args.distill_min_depth, args.distill_weight, 0.0).astype(np.float32))
        distill = {"teacher": t_info, "min_depth": args.distill_min_depth, "weight": args.distill_weight,
                   "n_distilled": int((ds.depth >= args.distill_min_depth).sum())}
        log(f"distilling {args.distill_onnx} on {distill['n_distilled']} examples with depth >= "
            f"{args.distill_min_depth} (weight {args.distill_weight})")
    w_t = torch.tensor(weights, dtype=torch.float32)
    bias_t = torch.tensor(logit_bias, dtype=torch.float32)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    steps_per_epoch = math.ceil(len(tr_idx) / args.batch_size)
    total = steps_per_epoch * args.epochs
    warm = max(1, int(args.warmup_frac * total))

    def lr_at(step):
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warm) / max(1, total - warm))))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    def evaluate(idx):
        """Unweighted NLL of the (prior-corrected) exported probabilities, and probs."""
        model.eval()
        probs, loss_sum = [], 0.0
        with torch.no_grad():
            for s in range(0, len(idx), 4096):
                b = torch.from_numpy(idx[s : s + 4096])
                logits = model(X[b]) + bias_t
                loss_sum += torch.nn.functional.cross_entropy(logits, Y[b], reduction="sum").item()
                probs.append(torch.softmax(logits, dim=-1).numpy())
        return loss_sum / len(idx), np.concatenate(probs)

    os.makedirs(args.out_dir, exist_ok=True)
    log_path = os.path.join(args.out_dir, f"{args.name}.train_log.tsv")
    log_rows = []
    best = (float("inf"), -1, None)
    since_best = 0
    epochs_run = 0
    t0 = time.time()
    for epoch in range(1, args.epochs + 1):
        te = time.time()
        model.train()
        if init is not None:  # folded BN: keep the identity statistics (see --init-onnx)
            for mod in model.modules():
                if isinstance(mod, torch.nn.BatchNorm1d):
                    mod.eval()
        perm = tr_idx[rng.permutation(len(tr_idx))]
        tl_sum, tl_n = 0.0, 0
        for s in range(0, len(perm), args.batch_size):
            b = torch.from_numpy(perm[s : s + args.batch_size])
            if len(b) < 2:  # BatchNorm needs >1 row
                continue
            xb, yb = X[b], Y[b]
            if args.augment_quality > 0:
                a = args.augment_quality
                n_b = xb.shape[0]
                mq = 1 - a * torch.rand((n_b, 1), generator=gen)
                bq = 1 - (a / 2) * torch.rand((n_b, 1), generator=gen)
                xb = xb.clone()
                xb[:, :, ch_mapq] = xb[:, :, ch_mapq] * mq
                xb[:, :, ch_baseq] = xb[:, :, ch_baseq] * bq
            if args.augment_noise > 0:
                xb = xb + args.augment_noise * torch.randn(xb.shape, generator=gen)
            if distill is None:
                loss = torch.nn.functional.cross_entropy(model(xb), yb, weight=w_t)
            else:
                logits = model(xb)
                ce = torch.nn.functional.cross_entropy(logits, yb, weight=w_t, reduction="none")
                # KL(teacher || student), on the prior-corrected probabilities the export writes.
                lp = torch.log_softmax(logits + bias_t, dim=-1)
                tp = TP[b]
                kl = (tp * (torch.log(tp.clamp_min(1e-12)) - lp)).sum(1)
                a = A[b]
                loss = ((1 - a) * ce).sum() / w_t[yb].sum() + (a * kl).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            tl_sum += loss.item() * len(b)
            tl_n += len(b)
        train_loss = tl_sum / max(1, tl_n)
        val_loss, val_probs = evaluate(va_idx)
        val_acc = float((val_probs.argmax(1) == ds.y[va_idx]).mean())
        epochs_run = epoch
        log_rows.append((epoch, train_loss, val_loss, val_acc, sched.get_last_lr()[0], time.time() - te))
        improved = val_loss < best[0] - 1e-6
        log(f"epoch {epoch:3d} train {train_loss:.5f} val {val_loss:.5f} acc {val_acc:.4f} "
            f"({time.time() - te:.1f}s){' *' if improved else ''}")
        if improved:
            best = (val_loss, epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
            since_best = 0
        else:
            since_best += 1
            if since_best >= args.patience:
                log(f"early stop: no val-loss gain for {args.patience} epochs")
                break
    with open(log_path, "w") as fh:
        fh.write("epoch\ttrain_loss\tval_loss\tval_acc\tlr\tseconds\n")
        for r in log_rows:
            fh.write(f"{r[0]}\t{r[1]:.6f}\t{r[2]:.6f}\t{r[3]:.6f}\t{r[4]:.6g}\t{r[5]:.1f}\n")

    if best[2] is None:
        die("validation loss never finite; nothing to export")
    model.load_state_dict(best[2])
    model.eval()
    val_loss, val_probs = evaluate(va_idx)
    pred = val_probs.argmax(1)
    metrics = compute_metrics(ds.y[va_idx], pred, ds.is_snv[va_idx])
    metrics["val_loss"] = val_loss
    metrics["best_epoch"] = best[1]
    log(f"best epoch {best[1]}: val loss {val_loss:.5f} | {metrics_summary(metrics)}")
    calling = choose_min_qual(ds.y[va_idx], val_probs)
    log(f"LowQual threshold chosen on validation blocks: QUAL >= {calling['min_qual']} (F1 {calling['val_f1']:.4f})")

    # ---- export ------------------------------------------------------------
    onnx_path = os.path.join(args.out_dir, f"{args.name}.onnx")
    json_path = os.path.join(args.out_dir, f"{args.name}.json")
    tmp_onnx = onnx_path + ".tmp"
    gate = None
    if args.gate_onnx:
        lo, hi = (float(v) for v in args.gate_depth.split(","))
        if not 0 <= lo < hi:
            die("--gate-depth needs 0 <= LO < HI")
        g_teacher = build_model(torch, "cnn", window, n_channels, hp)
        g_info = load_init_onnx(torch, g_teacher, args.gate_onnx, tensor, hp)
        g_teacher.eval()
        wrapper = make_gated_wrapper(torch, model, logit_bias, g_teacher, g_info["logit_bias"],
                                     tensor["channels"].index("depth"), window // 2, lo, hi)
        gate = {"teacher": g_info, "depth_lo": lo, "depth_hi": hi,
                "rule": "probs = g*trained + (1-g)*teacher, g = clamp((HI - depth)/(HI - LO), 0, 1), "
                        "depth = reads at the centre position (tensor channel `depth` * 100)"}
        with torch.no_grad():
            gp = np.concatenate([wrapper(X[torch.from_numpy(va_idx[s : s + 4096])]).numpy()
                                 for s in range(0, len(va_idx), 4096)])
        gate["metrics"] = compute_metrics(ds.y[va_idx], gp.argmax(1), ds.is_snv[va_idx])
        log(f"gated export (depth {lo:g}..{hi:g}) on validation: {metrics_summary(gate['metrics'])}")
    else:
        wrapper = make_export_wrapper(torch, model, logit_bias)
    meta_props = {
        "varstream_format": SIDECAR_FORMAT,
        "name": args.name,
        "version": args.version,
        "tensor_version": str(tensor["tensor_version"]),
        "window": str(window),
        "channels": ",".join(tensor["channels"]),
        "outputs": ",".join(LABELS),
    }
    try:
        export_warnings = export_onnx(torch, wrapper, tmp_onnx, window, n_channels, meta_props)
        for m in export_warnings:
            log(f"export warning: {m}")
        size = os.path.getsize(tmp_onnx)
        if size > args.max_onnx_bytes:
            die(f"ONNX is {size} bytes > --max-onnx-bytes {args.max_onnx_bytes}")

        # onnxruntime must reproduce torch on held-out examples
        check_idx = va_idx[:64]
        with torch.no_grad():
            ref = wrapper(X[torch.from_numpy(check_idx)]).numpy()
        info, res = run_ort(tmp_onnx, ds.x[check_idx], ort_python)
        want_in = [["input", ["batch", window, n_channels], "tensor(float)"]]
        want_out = [["probs", ["batch", 3], "tensor(float)"]]
        if info["inputs"] != want_in or info["outputs"] != want_out:
            die(f"ONNX signature {info['inputs']} -> {info['outputs']}, expected {want_in} -> {want_out}")
        diffs = {
            "batch": float(np.abs(res["full"] - ref).max()),
            "single_rows": float(np.abs(res["one"] - ref[: len(res["one"])]).max()),
            "batch_of_7": float(np.abs(res["odd"] - ref[: len(res["odd"])]).max()),
        }
        max_diff = max(diffs.values())
        log(f"onnxruntime {info['ort_version']} vs torch on {len(check_idx)} val examples: max |diff| {max_diff:.2e} {diffs}")
        if not max_diff <= ORT_ATOL:
            die(f"onnxruntime output differs from torch by {max_diff:.3e} > {ORT_ATOL}")
        os.replace(tmp_onnx, onnx_path)
    finally:
        if os.path.exists(tmp_onnx):
            os.unlink(tmp_onnx)
    with open(onnx_path, "rb") as fh:
        sha = hashlib.sha256(fh.read()).hexdigest()

    import onnx

    arch_desc = {"arch": args.arch, "n_params": int(n_params), "center_index": window // 2, "opset": ONNX_OPSET}
    if args.arch == "cnn":
        arch_desc.update(
            description="Conv1d(C,w,3)-BN-ReLU stem, residual blocks [Conv-BN-ReLU-Conv-BN]+skip, "
            "concat(center features, max-pool) -> FC-ReLU-dropout -> 3 logits -> softmax",
            width=args.width, dilations=args.dilations, fc=args.fc, dropout=args.dropout,
        )
    else:
        arch_desc.update(
            description="Linear(C,w)-ReLU, Bi-GRU over positions, concat(center output, max-pool) "
            "-> FC-ReLU-dropout -> 3 logits -> softmax",
            width=args.width, hidden=args.hidden, layers=args.gru_layers, fc=args.fc, dropout=args.dropout,
        )
    arch_desc["logit_bias"] = [float(v) for v in logit_bias]
    if gate is not None:
        arch_desc["gate"] = gate
        arch_desc["description"] = "depth-gated pair of cnns, each " + arch_desc["description"]

    sources = []
    for d in ds.dirs:
        for s in d["sources"]:
            sources.append(dict(s, examples_dir=d["path"]))
    n_by_source = np.bincount(ds.source_idx, minlength=len(ds.source_names))
    sidecar = {
        "name": args.name,
        "version": args.version,
        "format": SIDECAR_FORMAT,
        "tensor": dict(tensor),  # tensor_version, window, channels, shape (+ encoding if given)
        "input_name": "input",
        "output_name": "probs",
        "outputs": LABELS,
        "architecture": arch_desc,
        "training": {
            "data": sources,
            "examples_dirs": [{"path": d["path"], "n": d["n"]} for d in ds.dirs],
            "n_by_source": {n: int(c) for n, c in zip(ds.source_names, n_by_source)},
            "n_train": int(len(tr_idx)),
            "n_val": int(len(va_idx)),
            "train_class_counts": dict(zip(LABELS, map(int, tr_counts))),
            "val_class_counts": dict(zip(LABELS, map(int, va_counts))),
            "val_rule": val_rule,
            "epochs": epochs_run,
            "max_epochs": args.epochs,
            "best_epoch": best[1],
            "batch_size": args.batch_size,
            "optimizer": {"name": "AdamW", "lr": args.lr, "weight_decay": args.weight_decay,
                          "schedule": f"linear warm-up {args.warmup_frac} then cosine, per step"},
            "class_weight": {"mode": args.class_weight, "weights": [float(v) for v in weights]},
            "init_onnx": init,
            "distill": distill,
            "augment_noise": args.augment_noise,
            "augment_quality": args.augment_quality,
            "multi_allelic_repeat": args.multi_allelic_repeat,
            "multi_allelic_train_examples": n_multi,
            "seed": args.seed,
            "threads": args.threads,
            "torch_version": torch.__version__,
            "onnx_version": onnx.__version__,
            "numpy_version": np.__version__,
            "seconds": round(time.time() - t0, 1),
            "command": command,
        },
        "metrics": metrics,
        "calling": calling,
        "onnx_check": {"onnxruntime_version": info["ort_version"], "n": int(len(check_idx)),
                       "max_abs_diff": max_diff, "atol": ORT_ATOL, "export_warnings": export_warnings},
        "onnx_bytes": os.path.getsize(onnx_path),
        "sha256": sha,
        "created": _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
    }
    with open(json_path + ".tmp", "w") as fh:
        json.dump(sidecar, fh, indent=2)
        fh.write("\n")
    os.replace(json_path + ".tmp", json_path)
    log(f"wrote {onnx_path} ({sidecar['onnx_bytes']} bytes, sha256 {sha[:12]}...), {json_path}, {log_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
