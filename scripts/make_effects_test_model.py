#!/usr/bin/env python3
"""Build the tiny sequence model used by `varstream score effects` tests.

Input  "seq":    float32 [batch, 8, 4], one-hot DNA (channels A, C, G, T).
Output "tracks": float32 [batch, 2]
  track "gc"       = number of C or G bases in the window,
  track "a_weight" = sum over positions i (0-based) of (i + 1) * [base i is A].
Both are one MatMul over the flattened window, so tests can compute expected values by hand.

Usage: python3 scripts/make_effects_test_model.py [OUT_DIR]   (default tests/data/scores)
Needs the `onnx` and `numpy` packages only (no torch).
"""
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

L, C = 8, 4
TRACKS = ["gc", "a_weight"]


def weights() -> np.ndarray:
    w = np.zeros((L * C, len(TRACKS)), dtype=np.float32)
    for i in range(L):
        w[i * C + 1, 0] = 1.0  # C
        w[i * C + 2, 0] = 1.0  # G
        w[i * C + 0, 1] = float(i + 1)  # A, position-weighted
    return w


def main() -> None:
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join("tests", "data", "scores")
    os.makedirs(out_dir, exist_ok=True)
    inp = helper.make_tensor_value_info("seq", TensorProto.FLOAT, ["batch", L, C])
    out = helper.make_tensor_value_info("tracks", TensorProto.FLOAT, ["batch", len(TRACKS)])
    shape = numpy_helper.from_array(np.array([-1, L * C], dtype=np.int64), "flat_shape")
    w = numpy_helper.from_array(weights(), "w")
    nodes = [
        helper.make_node("Reshape", ["seq", "flat_shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["tracks"]),
    ]
    graph = helper.make_graph(nodes, "varstream_effects_test", [inp], [out], [shape, w])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="varstream-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out_dir, "effects_test_model.onnx"))
    sidecar = {
        "name": "varstream effects test model (GC count, position-weighted A count)",
        "window": L,
        "alphabet": "ACGT",
        "unknown_value": 0.0,
        "layout": "NLC",
        "strand": "target",
        "tracks": TRACKS,
        "input_name": "seq",
        "output_name": "tracks",
        "batch_size": 3,
    }
    with open(os.path.join(out_dir, "effects_test_model.json"), "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
