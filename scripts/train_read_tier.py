#!/usr/bin/env python3
"""Train the read-level second tier (issue 25; rule and results: benches/results/read_tier.md).

Input per example (one flat vector, crates/core/src/read_tensors.rs `TIER_INPUT_LEN`):
  the first tier's three probabilities (hom_ref, het, hom_alt), the pileup example
  [33 x 36] and the read rows [32 reads x 33 positions x 11 channels].
Output: probs [batch, 3].

The network is a correction of the first tier: logits = log(first-tier probs) + f(pileup,
rows), with f's last layer starting at zero, so an untrained tier repeats the first and
training only has to learn where the reads say more than the counts. f sees each read
through two 1-D convolutions along the window (shared by all reads: what one read carries
together), pools the reads (masked mean and max, so their order and number do not matter)
and joins a small dense view of the pileup example.

The first tier's probabilities are computed here with onnxruntime from the pileup examples
and FIRST_TIER (default models/varstream-v4.onnx), exactly as `varstream call` computes them.

A GPU is used when torch sees one (`--device auto`); the export is always on the CPU.

Checkpoint and resume: OUT/NAME.ckpt.pt is written after every epoch (model, optimiser,
epoch, best validation loss); `--resume` continues from it, so a run that cannot finish in
one sitting loses at most one epoch.

Usage:
  .venv-train/bin/python scripts/train_read_tier.py --examples work/readtier/examples/*/ \\
      --out-dir work/readtier/model --name varstream-reads-v1 [--epochs 6] [--resume]
"""
import argparse
import glob
import hashlib
import json
import os
import sys
import time

import numpy as np

WINDOW, CHANNELS = 33, 36
ROWS, RCH = 32, 11
GRID = 64.0
PILEUP_LEN = WINDOW * CHANNELS
ROWS_LEN = ROWS * WINDOW * RCH
INPUT_LEN = 3 + PILEUP_LEN + ROWS_LEN
ONNX_OPSET = 17


def load(dirs):
    xs, rs, ys, pos = [], [], [], []
    for d in dirs:
        for xf in sorted(glob.glob(os.path.join(d, "shard-*.x.npy"))):
            stem = xf[: -len(".x.npy")]
            if not os.path.exists(stem + ".r.npy"):
                sys.exit(f"{stem}.r.npy missing: make-examples was run without --read-tensors")
            xs.append(np.load(xf))
            rs.append(np.load(stem + ".r.npy"))
            ys.append(np.load(stem + ".y.npy"))
            with open(stem + ".meta.tsv") as f:
                next(f)
                pos.append(np.array([int(line.split("\t")[2]) for line in f], dtype=np.int64))
    return np.concatenate(xs), np.concatenate(rs), np.concatenate(ys), np.concatenate(pos)


def first_tier_probs(model, x):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    s = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])
    name = s.get_inputs()[0].name
    out = [s.run(None, {name: x[i : i + 4096]})[0] for i in range(0, len(x), 4096)]
    return np.concatenate(out).astype(np.float32)


def build(torch, pileup_branch=True, dropout=0.0, channels=32, kernel=5):
    nn = torch.nn

    class ReadTier(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv1d(RCH, channels, kernel, padding=kernel // 2), nn.ReLU(),
                nn.Conv1d(channels, channels, kernel, padding=kernel // 2), nn.ReLU(),
            )
            self.pileup_branch = pileup_branch
            self.pile = nn.Sequential(nn.Linear(PILEUP_LEN, 64), nn.ReLU()) if pileup_branch else None
            width = channels * 4 + (64 if pileup_branch else 0) + 3 + 1
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(width, 64), nn.ReLU(), nn.Linear(64, 3))
            nn.init.zeros_(self.head[3].weight)
            nn.init.zeros_(self.head[3].bias)

        def forward(self, v):
            n = v.shape[0]
            p = v[:, 0:3]
            pile = v[:, 3 : 3 + PILEUP_LEN]
            rows = v[:, 3 + PILEUP_LEN :].reshape(n * ROWS, WINDOW, RCH).transpose(1, 2)
            present = (rows.abs().sum(dim=(1, 2)) > 0).float().reshape(n, ROWS, 1)
            h = self.conv(rows)  # [n*R, channels, W]
            per_read = torch.cat([h[:, :, WINDOW // 2], h.amax(dim=2)], dim=1).reshape(n, ROWS, 2 * channels)
            count = present.sum(dim=1)  # [n, 1]
            mean = (per_read * present).sum(dim=1) / count.clamp(min=1.0)
            mx = (per_read * present - (1.0 - present) * 1e4).amax(dim=1) * (count > 0).float()
            logp = torch.log(p.clamp(min=1e-7))
            parts = [mean, mx] + ([self.pile(pile)] if self.pileup_branch else []) + [logp, count / ROWS]
            feats = torch.cat(parts, dim=1)
            return logp + self.head(feats)

    class Exported(nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, v):
            return torch.softmax(self.m(v), dim=-1)

    return ReadTier, Exported


def assemble(torch, p, x, r, idx):
    n = len(idx)
    v = torch.empty(n, INPUT_LEN)
    v[:, 0:3] = torch.from_numpy(p[idx])
    v[:, 3 : 3 + PILEUP_LEN] = torch.from_numpy(x[idx].reshape(n, -1))
    v[:, 3 + PILEUP_LEN :] = torch.from_numpy(r[idx].reshape(n, -1).astype(np.float32) / GRID)
    return v


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--examples", nargs="+", required=True)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--name", default="varstream-reads-v1")
    ap.add_argument("--first-tier", default=os.path.join(os.path.dirname(__file__), "..", "models", "varstream-v4.onnx"))
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--device", default="auto", help="auto (cuda when torch sees a GPU), cpu or cuda")
    ap.add_argument("--no-pileup-branch", action="store_true",
                    help="the correction sees the rows and the first-tier probabilities only")
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--conv-channels", type=int, default=32)
    ap.add_argument("--kernel", type=int, default=5)
    a = ap.parse_args()
    import torch

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out_dir, exist_ok=True)
    t0 = time.time()
    x, r, y, pos = load(a.examples)
    p = first_tier_probs(a.first_tier, x)
    val = (pos // 100000) % 10 == 0
    tr_idx, va_idx = np.where(~val)[0], np.where(val)[0]
    print(f"{len(y)} examples ({np.bincount(y, minlength=3).tolist()}), {len(tr_idx)} train, "
          f"{len(va_idx)} validation; loaded in {time.time() - t0:.0f} s", flush=True)
    first_nll = float(-np.log(np.clip(p[va_idx, y[va_idx]], 1e-7, 1)).mean())
    first_acc = float((p[va_idx].argmax(1) == y[va_idx]).mean())
    print(f"first tier on validation: loss {first_nll:.5f} accuracy {first_acc:.5f}", flush=True)

    dev = torch.device("cuda" if a.device == "auto" and torch.cuda.is_available() else
                       ("cpu" if a.device == "auto" else a.device))
    print(f"training on {dev}", flush=True)
    ReadTier, Exported = build(torch, not a.no_pileup_branch, a.dropout, a.conv_channels, a.kernel)
    model = ReadTier().to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    ckpt = os.path.join(a.out_dir, a.name + ".ckpt.pt")
    best_path = os.path.join(a.out_dir, a.name + ".best.pt")
    start, best, log = 0, float("inf"), []
    if a.resume and os.path.exists(ckpt):
        c = torch.load(ckpt, map_location=dev)
        model.load_state_dict(c["model"])
        opt.load_state_dict(c["opt"])
        start, best, log = c["epoch"], c["best"], c["log"]
        rng = np.random.default_rng(a.seed + start)
        print(f"resumed after epoch {start} (best validation loss {best:.5f})", flush=True)
    yt = torch.from_numpy(y)
    for epoch in range(start, a.epochs):
        t1 = time.time()
        model.train()
        order = rng.permutation(tr_idx)
        total = 0.0
        for b in range(0, len(order), a.batch):
            idx = np.sort(order[b : b + a.batch])
            v = assemble(torch, p, x, r, idx).to(dev)
            loss = torch.nn.functional.cross_entropy(model(v), yt[idx].to(dev))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        model.eval()
        with torch.no_grad():
            logits = torch.cat([model(assemble(torch, p, x, r, va_idx[b : b + 2048]).to(dev)).cpu() for b in range(0, len(va_idx), 2048)])
        vloss = float(torch.nn.functional.cross_entropy(logits, yt[va_idx]))
        vacc = float((logits.argmax(1) == yt[va_idx]).float().mean())
        row = {"epoch": epoch + 1, "train_loss": total / len(order), "val_loss": vloss, "val_acc": vacc,
               "first_tier_val_loss": first_nll, "first_tier_val_acc": first_acc, "seconds": round(time.time() - t1)}
        log.append(row)
        print(json.dumps(row), flush=True)
        if vloss < best:
            best = vloss
            torch.save(model.state_dict(), best_path)
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch + 1, "best": best, "log": log}, ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)

    model.load_state_dict(torch.load(best_path, map_location=dev))
    model = model.cpu()
    model.eval()
    onnx_path = os.path.join(a.out_dir, a.name + ".onnx")
    torch.onnx.export(Exported(model), (torch.zeros(2, INPUT_LEN),), onnx_path, input_names=["input"],
                      output_names=["probs"], dynamic_axes={"input": {0: "batch"}, "probs": {0: "batch"}},
                      opset_version=ONNX_OPSET, do_constant_folding=True, dynamo=False)
    with open(onnx_path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    with open(a.first_tier, "rb") as f:
        first_sha = hashlib.sha256(f.read()).hexdigest()
    spec = json.load(open(os.path.join(a.examples[0], "examples.json")))
    best_row = min(log, key=lambda row: row["val_loss"])
    side = {
        "name": a.name,
        "sha256": sha,
        "tier": "read",
        "tensor": {k: spec[k] for k in ("tensor_version", "window", "channels", "shape", "encoding")},
        "read_tensors": spec["read_tensors"],
        "first_tier": {"name": os.path.basename(a.first_tier)[: -len(".onnx")], "sha256": first_sha},
        "training": {"examples": [os.path.abspath(d) for d in a.examples], "n_examples": int(len(y)),
                     "validation": "examples whose position lies in a 100 kb block with (pos // 100000) % 10 == 0",
                     "epochs": a.epochs, "lr": a.lr, "weight_decay": a.weight_decay, "dropout": a.dropout,
                     "pileup_branch": not a.no_pileup_branch, "conv_channels": a.conv_channels,
                     "kernel": a.kernel, "batch": a.batch, "seed": a.seed, "best_epoch": best_row["epoch"],
                     "log": log},
    }
    with open(os.path.join(a.out_dir, a.name + ".json"), "w") as f:
        json.dump(side, f, indent=1)
    print(f"wrote {onnx_path} (best epoch {best_row['epoch']}, validation loss {best_row['val_loss']:.5f}, "
          f"first tier {first_nll:.5f})", flush=True)


if __name__ == "__main__":
    main()
