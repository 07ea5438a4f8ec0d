#!/usr/bin/env python3
"""The share of examples a two-tier model (scripts/combine_models.py tiers) settles with its fast
model, on `varstream make-examples` output, read from the combined graph itself: the tiers graph
is rebuilt with its `settled` output (combine_models.py --share-output) and run on every example.
Also the genotype error of each side on the rows it decides (labels from the examples' y.npy).

    .venv/bin/python scripts/tier_share.py FAST.onnx SLOW.onnx DIR... [--threshold 0.99]

make-examples uses call's candidate thresholds (same defaults), so its examples are the call's
inside the confident regions (plus one per alt pair at multi-allelic sites, as in call).
"""
import argparse
import glob
import os
import sys

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from combine_models import combine, session  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("fast")
    ap.add_argument("slow")
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--threshold", type=float, default=0.99)
    args = ap.parse_args()
    fast, slow = onnx.load(args.fast), onnx.load(args.slow)
    tiers = session(combine("tiers", fast, slow, args.threshold, True).SerializeToString())
    fast_s, slow_s = session(open(args.fast, "rb").read()), session(open(args.slow, "rb").read())
    print("set\texamples\tsettled\tshare\terr_fast_on_settled\terr_slow_on_settled\terr_slow_on_rest\terr_tiers\terr_slow_all")
    for d in args.dirs:
        xs = [np.load(p) for p in sorted(glob.glob(os.path.join(d, "shard-*.x.npy")))]
        ys = [np.load(p) for p in sorted(glob.glob(os.path.join(d, "shard-*.y.npy")))]
        x, y = np.concatenate(xs).astype(np.float32), np.concatenate(ys)
        probs, settled = [], []
        for i in range(0, len(x), 512):  # call's default --batch-size
            p, s = tiers.run(None, {"input": x[i:i + 512]})
            probs.append(p)
            settled.append(s)
        p, s = np.concatenate(probs), np.concatenate(settled)
        pf = np.concatenate([fast_s.run(None, {"input": x[i:i + 512]})[0] for i in range(0, len(x), 512)])
        ps = np.concatenate([slow_s.run(None, {"input": x[i:i + 512]})[0] for i in range(0, len(x), 512)])
        if not np.array_equal(s, pf.max(axis=1) >= np.float32(args.threshold)):
            sys.exit(f"tier_share: settled mask of the graph differs from the fast model's ({d})")
        err = lambda q, m: float((q[m].argmax(1) != y[m]).mean()) if m.any() else float("nan")
        name = os.path.basename(os.path.normpath(d))
        print(f"{name}\t{len(x)}\t{int(s.sum())}\t{s.mean():.4f}\t{err(pf, s):.4f}\t{err(ps, s):.4f}\t"
              f"{err(ps, ~s):.4f}\t{err(p, np.ones_like(s)):.4f}\t{err(ps, np.ones_like(s)):.4f}")


if __name__ == "__main__":
    main()
