#!/usr/bin/env python3
"""Combine two genotyping models (same input, same output) into one ONNX graph that the Rust
caller loads as it loads either of them (issue 13: a recurrent model beside the CNN).

    .venv/bin/python scripts/combine_models.py ensemble FAST.onnx SLOW.onnx OUT.onnx --name NAME
    .venv/bin/python scripts/combine_models.py tiers FAST.onnx SLOW.onnx OUT.onnx --name NAME \
        [--threshold 0.99]

  ensemble  probs = (P(fast) + P(slow)) / 2; both networks run on every example.
  tiers     FAST runs on every example; an example whose max FAST probability is >= the
            threshold keeps FAST's probabilities, the others go to SLOW only: a Compress picks
            those rows in front of SLOW and a ScatterND writes SLOW's output over FAST's rows
            (as scripts/route_gate.py routes v4's pair), so SLOW runs only on the unsettled rows.
            With --share-output the graph also returns `settled` (bool [N]), for measuring the
            share of examples FAST settles; the shipped graph returns only `probs`.

FAST and SLOW each keep their own names under a `fast/` and `slow/` prefix; the graph's only
input is theirs (`input`, [N, 33, 36]) and its only output `probs` ([N, 3], hom_ref/het/hom_alt),
as the sidecars' input_name/output_name say. Before writing, the script checks the combined
graph against a numpy reference computed from the two models run separately, on random batches
(including one where every row is settled and one where none is) and, with --examples DIR
(make-examples output: shard-*.x.npy), on real examples.

The sidecar OUT.json is SLOW's sidecar (tensor, calling: calibration and min_qual) with name,
architecture, sha256 and onnx_bytes replaced; architecture.components holds both models'
architectures and FAST's training block.
Needs onnx and onnxruntime (scripts/setup.sh puts both in .venv).
"""
import argparse
import glob
import hashlib
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

IN, OUT = "input", "probs"


def prefixed(model, prefix, input_name):
    """The graph's nodes and initializers with every name but the graph input prefixed, and the
    graph input renamed to `input_name` (so the caller can feed it a subset of rows)."""
    g = model.graph
    if [i.name for i in g.input] != [IN] or [o.name for o in g.output] != [OUT]:
        sys.exit(f"combine_models: expected input {IN!r} and output {OUT!r}, got "
                 f"{[i.name for i in g.input]} -> {[o.name for o in g.output]}")
    if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for n in g.node for a in n.attribute):
        sys.exit("combine_models: graphs with subgraphs are not handled")

    def rn(name):
        if name == "":
            return name
        return input_name if name == IN else prefix + name

    nodes = []
    for n in g.node:
        m = onnx.NodeProto()
        m.CopyFrom(n)
        m.name = prefix + n.name if n.name else ""
        m.input[:] = [rn(x) for x in n.input]
        m.output[:] = [rn(x) for x in n.output]
        nodes.append(m)
    inits = []
    for t in g.initializer:
        u = onnx.TensorProto()
        u.CopyFrom(t)
        u.name = rn(t.name)
        inits.append(u)
    return nodes, inits, prefix + OUT


def const_f(name, value):
    return helper.make_node("Constant", [], [name], value=helper.make_tensor(name, TensorProto.FLOAT, [], [value]))


def combine(mode, fast, slow, threshold, share_output):
    opsets = {o.domain: o.version for o in fast.opset_import}
    for o in slow.opset_import:
        if opsets.get(o.domain, o.version) != o.version:
            sys.exit(f"combine_models: opset differs for domain {o.domain!r}")
        opsets[o.domain] = o.version
    f_nodes, f_inits, f_out = prefixed(fast, "fast/", IN)
    nodes, inits = list(f_nodes), list(f_inits)
    outputs = [helper.make_tensor_value_info(OUT, TensorProto.FLOAT, ["batch", 3])]
    if mode == "ensemble":
        s_nodes, s_inits, s_out = prefixed(slow, "slow/", IN)
        nodes += s_nodes
        inits += s_inits
        nodes += [const_f("/combine/half", 0.5),
                  helper.make_node("Add", [f_out, s_out], ["/combine/sum"]),
                  helper.make_node("Mul", ["/combine/sum", "/combine/half"], [OUT])]
    elif mode == "tiers":
        # SLOW's rows get one padding row (the batch's first example), dropped again before the
        # ScatterND: with every row settled SLOW would otherwise run on zero rows, which ONNX
        # Runtime's CUDA BiasSoftmax cannot (scripts/route_gate.py says more).
        rows, padded = "/combine/slow_rows", "/combine/slow_rows_padded"
        s_nodes, s_inits, s_out = prefixed(slow, "slow/", padded)
        ints = lambda name, v: helper.make_node("Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [1], [v]))
        nodes += [const_f("/combine/threshold", threshold),
                  helper.make_node("ReduceMax", [f_out], ["/combine/fast_max"], axes=[1], keepdims=0),
                  helper.make_node("GreaterOrEqual", ["/combine/fast_max", "/combine/threshold"], ["/combine/settled"]),
                  helper.make_node("Not", ["/combine/settled"], ["/combine/unsettled"]),
                  helper.make_node("Compress", [IN, "/combine/unsettled"], [rows], axis=0),
                  ints("/combine/start0", 0), ints("/combine/end1", 1), ints("/combine/drop_last", -1),
                  ints("/combine/axis0", 0),
                  helper.make_node("Slice", [IN, "/combine/start0", "/combine/end1", "/combine/axis0"], ["/combine/pad_row"]),
                  helper.make_node("Concat", [rows, "/combine/pad_row"], [padded], axis=0)]
        nodes += s_nodes
        inits += s_inits
        nodes += [helper.make_node("Slice", [s_out, "/combine/start0", "/combine/drop_last", "/combine/axis0"], ["/combine/slow_out"]),
                  helper.make_node("NonZero", ["/combine/unsettled"], ["/combine/nz"]),
                  helper.make_node("Transpose", ["/combine/nz"], ["/combine/idx"], perm=[1, 0]),
                  helper.make_node("ScatterND", [f_out, "/combine/idx", "/combine/slow_out"], [OUT])]
        if share_output:
            nodes.append(helper.make_node("Identity", ["/combine/settled"], ["settled"]))
            outputs.append(helper.make_tensor_value_info("settled", TensorProto.BOOL, ["batch"]))
    else:
        sys.exit(f"combine_models: unknown mode {mode}")
    graph = helper.make_graph(nodes, f"combined-{mode}", [fast.graph.input[0]], outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()])
    model.ir_version = max(fast.ir_version, slow.ir_version)
    onnx.checker.check_model(model, full_check=True)
    return model


def session(data):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    return ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])


def reference(mode, threshold, pf, ps):
    if mode == "ensemble":
        return (pf + ps) * np.float32(0.5)
    keep = pf.max(axis=1) >= np.float32(threshold)
    return np.where(keep[:, None], pf, ps), keep


def check(mode, threshold, fast_bytes, slow_bytes, combined_bytes, batches):
    f, s, c = session(fast_bytes), session(slow_bytes), session(combined_bytes)
    for label, x in batches:
        pf = f.run([OUT], {IN: x})[0]
        ps = s.run([OUT], {IN: x})[0]
        got = c.run(None, {IN: x})
        ref = reference(mode, threshold, pf, ps)
        if mode == "tiers":
            ref, keep = ref
            if len(got) > 1 and not np.array_equal(got[1], keep):
                sys.exit(f"combine_models: settled mask differs ({label})")
            note = f", {int(keep.sum())} settled by the fast model"
        else:
            note = ""
        diff = float(np.abs(got[0] - ref).max()) if len(x) else 0.0
        # The slow network sees a subset of rows in the tiers graph: row-wise identical math, but
        # ORT may pick other kernels for another batch size, so allow float rounding.
        if diff > 1e-5:
            sys.exit(f"combine_models: outputs differ from the reference ({label}): max |diff| {diff}")
        print(f"combine_models: {label}: {len(x)} rows, max |diff| {diff:.2e}{note}", file=sys.stderr)


def test_batches(examples, n_real):
    rng = np.random.default_rng(1)
    x = rng.random((64, 33, 36), dtype=np.float32)
    out = [("random", x), ("one row", x[:1])]
    for d in examples or []:
        shards = sorted(glob.glob(os.path.join(d, "shard-*.x.npy")))
        if not shards:
            sys.exit(f"combine_models: no shard-*.x.npy in {d}")
        real = np.load(shards[0], mmap_mode="r")
        idx = np.sort(rng.choice(len(real), size=min(n_real, len(real)), replace=False))
        out.append((f"real {os.path.basename(os.path.normpath(d))}", np.ascontiguousarray(real[idx], dtype=np.float32)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["ensemble", "tiers"])
    ap.add_argument("fast")
    ap.add_argument("slow")
    ap.add_argument("out")
    ap.add_argument("--name", required=True, help="model name written to the sidecar")
    ap.add_argument("--threshold", type=float, default=0.99, help="tiers: min max-probability for the fast model to settle")
    ap.add_argument("--share-output", action="store_true", help="tiers: also output `settled` (for measuring, not shipping)")
    ap.add_argument("--examples", nargs="*", metavar="DIR", help="make-examples dirs to check real batches from")
    ap.add_argument("--n-real", type=int, default=2000)
    args = ap.parse_args()

    fast_bytes, slow_bytes = open(args.fast, "rb").read(), open(args.slow, "rb").read()
    fast, slow = onnx.load_from_string(fast_bytes), onnx.load_from_string(slow_bytes)
    model = combine(args.mode, fast, slow, args.threshold, args.share_output)
    data = model.SerializeToString()
    batches = test_batches(args.examples, args.n_real)
    check(args.mode, args.threshold, fast_bytes, slow_bytes, data, batches)
    if args.mode == "tiers":
        # Every row settled (the slow network gets 0 rows) and none settled.
        for label, th in (("all settled", 0.0), ("none settled", 1.01)):
            m = combine("tiers", fast, slow, th, True)
            check("tiers", th, fast_bytes, slow_bytes, m.SerializeToString(), batches[:1])
            print(f"combine_models: ({label}: threshold {th})", file=sys.stderr)
    with open(args.out, "wb") as fh:
        fh.write(data)
    print(f"combine_models: wrote {args.out} ({len(data)} bytes)", file=sys.stderr)

    side_of = lambda p: json.load(open(os.path.splitext(p)[0] + ".json"))
    fs, ss = side_of(args.fast), side_of(args.slow)
    for k in ("input_name", "output_name", "outputs"):
        if fs.get(k) != ss.get(k):
            sys.exit(f"combine_models: sidecars differ in {k}: {fs.get(k)} vs {ss.get(k)}")
    if fs["tensor"] != ss["tensor"]:
        sys.exit("combine_models: sidecars differ in tensor")
    side = dict(ss)
    side["name"] = args.name
    rule = ("probs = (P(fast) + P(slow)) / 2, both on every example" if args.mode == "ensemble" else
            f"fast on every example; rows with max P(fast) >= {args.threshold} keep P(fast), the others get "
            "P(slow), slow run only on those rows (Compress before, ScatterND after)")
    side["architecture"] = {
        "arch": args.mode,
        "n_params": int(fs["architecture"]["n_params"]) + int(ss["architecture"]["n_params"]),
        "opset": ss["architecture"].get("opset"),
        "description": f"{args.mode} of {fs['name']} (fast) and {ss['name']} (slow): {rule}",
        "rule": rule,
        **({"threshold": args.threshold} if args.mode == "tiers" else {}),
        "script": "scripts/combine_models.py",
        "components": {
            "fast": {"name": fs["name"], "sha256": fs["sha256"], "architecture": fs["architecture"],
                     "training": fs.get("training"), "metrics": fs.get("metrics")},
            "slow": {"name": ss["name"], "sha256": ss["sha256"], "architecture": ss["architecture"]},
        },
    }
    side["sha256"] = hashlib.sha256(data).hexdigest()
    side["onnx_bytes"] = len(data)
    side.pop("onnx_check", None)
    out_side = os.path.splitext(args.out)[0] + ".json"
    with open(out_side, "w") as fh:
        fh.write(json.dumps(side, indent=2) + "\n")
    print(f"combine_models: wrote {out_side}", file=sys.stderr)


if __name__ == "__main__":
    main()
