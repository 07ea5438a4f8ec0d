#!/usr/bin/env python3
"""Build a read-tier model whose output tests can predict (tests/it/read_tier.rs).

Input "input": float32 [batch, TIER_INPUT_LEN] (the first tier's 3 probabilities, the pileup
example, the read rows; crates/core/src/read_tensors.rs). Output "probs": [batch, 3] =
input[:, 0:3] permuted by --order: "0,1,2" repeats the first tier, "2,1,0" swaps hom_ref and
hom_alt. The sidecar is what `varstream call --read-model` checks: tier "read", the read-row
spec, and the sha256 of the first-tier model given (--first-tier, default
models/varstream-v4.onnx; --first-tier-sha to write another).

Usage: python3 scripts/make_read_tier_test_model.py OUT.onnx --input-len N --rows-spec JSON
       [--order 0,1,2] [--first-tier PATH | --first-tier-sha HEX]
Needs the `onnx` and `numpy` packages only (no torch).
"""
import argparse
import hashlib
import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--input-len", type=int, required=True)
    ap.add_argument("--rows-spec", required=True, help="examples.json 'read_tensors' block (JSON text)")
    ap.add_argument("--tensor-spec", required=True, help="examples.json pileup tensor block (JSON text)")
    ap.add_argument("--order", default="0,1,2")
    ap.add_argument("--first-tier", default="models/varstream-v4.onnx")
    ap.add_argument("--first-tier-sha")
    a = ap.parse_args()
    order = [int(k) for k in a.order.split(",")]
    w = np.zeros((a.input_len, 3), dtype=np.float32)
    for out_col, in_col in enumerate(order):
        w[in_col, out_col] = 1.0
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", a.input_len])
    out = helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", 3])
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["input", "w"], ["probs"])],
        "read_tier_test",
        [inp],
        [out],
        [numpy_helper.from_array(w, "w")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, a.out)
    sha = hashlib.sha256(open(a.out, "rb").read()).hexdigest()
    first = a.first_tier_sha or hashlib.sha256(open(a.first_tier, "rb").read()).hexdigest()
    side = {
        "name": "read-tier-test-" + a.order.replace(",", ""),
        "sha256": sha,
        "tier": "read",
        "tensor": json.loads(a.tensor_spec),
        "read_tensors": json.loads(a.rows_spec),
        "first_tier": {"name": "varstream-v4", "sha256": first},
    }
    with open(a.out[: -len(".onnx")] + ".json", "w") as f:
        json.dump(side, f, indent=1)


if __name__ == "__main__":
    main()
