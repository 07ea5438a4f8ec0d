#!/usr/bin/env python3
"""Rewrite a depth-gated pair (train.py --gate-onnx) so that each network sees only the examples
whose gate weight is not 0 for it.

The exported pair computes g = clamp((HI - depth) / (HI - LO), 0, 1) per example and returns
g * P(trained) + (1 - g) * P(teacher), running BOTH networks on every example: ONNX Runtime
computes the whole graph whatever outputs are asked for (checked: asking for one branch's
softmax took as long as the blend). At 30x almost every example has g = 0, so half of the
inference was thrown away (benches/results/callgrind.md: 125 M -> 250 M instructions).

The rewrite keeps the gate and the blend and puts a Compress (rows with g > 0, resp. g < 1) in
front of each network and a ScatterND (back into a zero [N, 3]) after it. A row a network
skips contributes 0 * 0 instead of 0 * p, so every output is bit-for-bit the original's; this
script checks that on random batches (all-high, all-low, mixed depths) before writing.

Each network's rows also get one extra row (a copy of the batch's first example) appended
after the Compress and dropped again before the ScatterND, so no network ever runs on zero
rows. The CPU kernels handle empty tensors, but ONNX Runtime's CUDA BiasSoftmax (the fused
Add + Softmax at the end of each network) launches a grid of zero blocks and fails with
"cudaErrorInvalidValue" whenever every example of a batch goes to one network, which at
30x is nearly every batch (measured on an H200, benches/results/gpu.md). Outputs stay
bit-identical: each row's result does not depend on the other rows.

    .venv/bin/python scripts/route_gate.py IN.onnx OUT.onnx [SIDECAR.json]
IN and OUT may be the same file. With SIDECAR (the model's .json), its sha256 and onnx_bytes are
set to OUT's and architecture.gate.routed records the exported graph's.
Needs onnx and onnxruntime (scripts/setup.sh puts both in .venv).
"""
import hashlib
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

GATE = "/Clip_output_0"            # g, [N, 1]
SHARED = "/model/Transpose_output_0"  # the input as both networks read it
TRAINED_OUT = "/Softmax_output_0"  # P(trained), [N, 3]
TEACHER_OUT = "/Softmax_1_output_0"  # P(teacher), [N, 3]


def consumers(graph, name):
    return [n for n in graph.node if name in n.input]


def route(model):
    g = model.graph
    names = {o for n in g.node for o in n.output}
    for need in (GATE, SHARED, TRAINED_OUT, TEACHER_OUT):
        if need not in names:
            sys.exit(f"route_gate: {need} not in the graph: not a gated pair from train.py --gate-onnx")
    first = consumers(g, SHARED)
    by_branch = {"/model/": [n for n in first if n.output[0].startswith("/model/") and n.op_type == "Conv"],
                 "/teacher/": [n for n in first if n.output[0].startswith("/teacher/")]}
    if any(len(v) != 1 for v in by_branch.values()):
        sys.exit(f"route_gate: expected one first Conv per network, got {[(k, len(v)) for k, v in by_branch.items()]}")

    new = []
    c = lambda name, value: new.append(helper.make_node(
        "Constant", [], [name], value=helper.make_tensor(name, TensorProto.INT64, [len(value)], value)))
    f = lambda name, value: new.append(helper.make_node(
        "Constant", [], [name], value=helper.make_tensor(name, TensorProto.FLOAT, [], [value])))
    c("/route/axis1", [1])
    f("/route/zero", 0.0)
    f("/route/one", 1.0)
    new.append(helper.make_node("Squeeze", [GATE, "/route/axis1"], ["/route/g"]))
    new.append(helper.make_node("Greater", ["/route/g", "/route/zero"], ["/route/need_trained"]))
    new.append(helper.make_node("Less", ["/route/g", "/route/one"], ["/route/need_teacher"]))
    # Zero [N, 3] to scatter each network's rows into.
    new.append(helper.make_node("Shape", ["input"], ["/route/in_shape"], start=0, end=1))
    c("/route/three", [3])
    new.append(helper.make_node("Concat", ["/route/in_shape", "/route/three"], ["/route/out_shape"], axis=0))
    new.append(helper.make_node("ConstantOfShape", ["/route/out_shape"], ["/route/zeros"],
                                value=helper.make_tensor("z", TensorProto.FLOAT, [1], [0.0])))
    # The padding row (see the docstring): the batch's first example, [1, ...].
    c("/route/start0", [0])
    c("/route/end1", [1])
    c("/route/drop_last", [-1])
    c("/route/axis0", [0])
    new.append(helper.make_node("Slice", [SHARED, "/route/start0", "/route/end1", "/route/axis0"],
                                ["/route/pad_row"]))
    renames = {}
    for prefix, mask, out in (("/model/", "/route/need_trained", TRAINED_OUT),
                              ("/teacher/", "/route/need_teacher", TEACHER_OUT)):
        tag = "trained" if prefix == "/model/" else "teacher"
        rows = f"/route/{tag}_rows"
        padded = f"/route/{tag}_rows_padded"
        new.append(helper.make_node("Compress", [SHARED, mask], [rows], axis=0))
        new.append(helper.make_node("Concat", [rows, "/route/pad_row"], [padded], axis=0))
        conv = by_branch[prefix][0]
        conv.input[0] = padded
        new.append(helper.make_node("NonZero", [mask], [f"/route/{tag}_nz"]))
        new.append(helper.make_node("Transpose", [f"/route/{tag}_nz"], [f"/route/{tag}_idx"], perm=[1, 0]))
        unpadded = f"/route/{tag}_out"
        new.append(helper.make_node("Slice", [out, "/route/start0", "/route/drop_last", "/route/axis0"],
                                    [unpadded]))
        full = f"/route/{tag}_full"
        new.append(helper.make_node("ScatterND", ["/route/zeros", f"/route/{tag}_idx", unpadded], [full]))
        renames[out] = full
    # The blend reads the scattered outputs.
    for n in g.node:
        if n.output[0] in renames.values():
            continue
        for i, name in enumerate(n.input):
            if name in renames and not n.output[0].startswith(("/model/", "/teacher/")):
                n.input[i] = renames[name]
    nodes = list(g.node) + new
    del g.node[:]
    g.node.extend(_topological(nodes, {i.name for i in g.input} | {i.name for i in g.initializer}))
    onnx.checker.check_model(model)
    return model


def _topological(nodes, available):
    """Nodes in an order where each comes after the producers of its inputs (stable otherwise)."""
    done, order, pending = set(available), [], list(nodes)
    while pending:
        ready = [n for n in pending if all(i == "" or i in done for i in n.input)]
        if not ready:
            sys.exit("route_gate: the rewritten graph has a cycle or a missing input")
        for n in ready:
            order.append(n)
            done.update(n.output)
        pending = [n for n in pending if n not in ready]
    return order


def check(original_bytes, routed_bytes, depth_col):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    a = ort.InferenceSession(original_bytes, so, providers=["CPUExecutionProvider"])
    b = ort.InferenceSession(routed_bytes, so, providers=["CPUExecutionProvider"])
    shape = a.get_inputs()[0].shape  # [batch, positions, channels]
    positions, channels = shape[1], shape[2]
    rng = np.random.default_rng(1)
    x = rng.random((64, positions, channels), dtype=np.float32)
    # The depth channel at the centre decides g; set it to 0-40 reads, some exactly on the bounds.
    cases = {"mixed": np.arange(64) % 41, "all high": np.full(64, 30), "all low": np.full(64, 5),
             "bounds": np.array([12, 16] * 32), "one row": np.array([14])}
    for label, reads in cases.items():
        xi = x[: len(reads)].copy()
        xi[:, positions // 2, depth_col] = reads.astype(np.float32) / 100
        pa = a.run(["probs"], {"input": xi})[0]
        pb = b.run(["probs"], {"input": xi})[0]
        if not np.array_equal(pa, pb):
            sys.exit(f"route_gate: outputs differ ({label}): max |diff| {np.abs(pa - pb).max()}")
        print(f"route_gate: {label}: {len(reads)} rows identical", file=sys.stderr)


def depth_channel(m):
    """The input channel the gate reads: the start of the Slice after its Gather of the centre
    position (train.py's make_gated_wrapper)."""
    const = {n.output[0]: n for n in m.graph.node if n.op_type == "Constant"}
    for n in m.graph.node:
        if n.op_type == "Slice" and n.input[0].startswith("/Gather"):
            return int(onnx.numpy_helper.to_array(const[n.input[1]].attribute[0].t)[0])
    sys.exit("route_gate: no gate Slice on the input")


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    original = open(sys.argv[1], "rb").read()
    exported = onnx.load_from_string(original)
    depth_col = depth_channel(exported)
    data = route(exported).SerializeToString()
    check(original, data, depth_col)
    with open(sys.argv[2], "wb") as fh:
        fh.write(data)
    print(f"route_gate: wrote {sys.argv[2]}", file=sys.stderr)
    if len(sys.argv) == 4:
        with open(sys.argv[3]) as fh:
            side = json.load(fh)
        side["architecture"]["gate"]["routed"] = {
            "script": "scripts/route_gate.py",
            "why": "each network runs only on the examples whose gate weight is not 0 for it "
                   "(Compress before, ScatterND after), plus one padding row so that no network "
                   "runs on zero rows (ONNX Runtime's CUDA BiasSoftmax fails on them); outputs "
                   "bit-identical to the exported pair, checked by the script",
            "exported_sha256": hashlib.sha256(original).hexdigest(),
            "exported_bytes": len(original),
        }
        side["sha256"] = hashlib.sha256(data).hexdigest()
        side["onnx_bytes"] = len(data)
        with open(sys.argv[3], "w") as fh:
            fh.write(json.dumps(side, indent=2) + "\n")
        print(f"route_gate: updated {sys.argv[3]}", file=sys.stderr)


if __name__ == "__main__":
    main()
