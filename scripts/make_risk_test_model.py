#!/usr/bin/env python3
"""Build a second risk model for `varstream score risk` tests: a logistic regression written
directly as an ONNX graph (MatMul, Add, Sigmoid), with a sidecar of the same contract as the
shipped demonstration model but other features, another order, other scaling and another
coding of sex, so tests can compute its probabilities by hand.

Input  "x": float32 [batch, 5]: age, PGS000001 AVG, expression of SYNTH0003, the effect of
             target T1 track gc, sex (F = 1, M = 0), each scaled as the sidecar says.
Output "p": float32 [batch, 1] = sigmoid(x . weights + bias).

Usage: python3 scripts/make_risk_test_model.py OUT_DIR [--weights w1,...,w5] [--bias b]
Writes OUT_DIR/risk_test_model.onnx and OUT_DIR/risk_test_model.json.
Needs the `onnx` and `numpy` packages only (scripts/setup.sh puts them in .venv).
"""
import argparse
import hashlib
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

FEATURES = [
    {"name": "age", "source": "covariate", "column": "age", "center": 50.0, "scale": 10.0,
     "missing": {"action": "impute", "value": 50.0}},
    {"name": "prs_avg", "source": "prs", "score_id": "PGS000001", "value": "AVG",
     "center": 0.02, "scale": 0.01, "missing": {"action": "refuse"}},
    {"name": "expr3", "source": "expression", "gene": "SYNTH0003", "center": 1.0, "scale": 1.0,
     "missing": {"action": "impute", "value": 0.0}},
    {"name": "effect_t1", "source": "effects", "target_id": "T1", "track": "gc",
     "center": 0.0, "scale": 2.0, "missing": {"action": "impute", "value": 0.0}},
    {"name": "sex_female", "source": "covariate", "column": "sex", "levels": {"F": 1.0, "M": 0.0},
     "missing": {"action": "refuse"}},
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out_dir")
    ap.add_argument("--weights", default="0.3,0.8,-0.5,0.2,0.4")
    ap.add_argument("--bias", type=float, default=-1.0)
    args = ap.parse_args()
    w = np.array([float(v) for v in args.weights.split(",")], dtype=np.float32)[:, None]
    assert w.shape[0] == len(FEATURES), "one weight per feature"
    n = len(FEATURES)
    os.makedirs(args.out_dir, exist_ok=True)
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "w"], ["xw"]),
            helper.make_node("Add", ["xw", "b"], ["logit"]),
            helper.make_node("Sigmoid", ["logit"], ["p"]),
        ],
        "varstream_risk_test",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", n])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, ["batch", 1])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array([args.bias], np.float32), "b")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="varstream-tests")
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = os.path.join(args.out_dir, "risk_test_model.onnx")
    onnx.save(model, path)
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    calibration = {"data": "none (a test model)", "n": 0, "cases": 0, "auc": 0.5, "slope": 1.0,
                   "intercept": 0.0, "caveat": "A test model: its probabilities mean nothing."}
    sidecar = {
        "format": "varstream-risk-model",
        "format_version": 1,
        "name": "risk-test-logistic",
        "sha256": digest,
        "trait": {"id": "test_trait", "name": "test trait", "horizon": "5 years"},
        "features": FEATURES,
        "training": {"cohort": "none: coefficients given on the command line"},
        "calibration": calibration,
    }
    with open(os.path.join(args.out_dir, "risk_test_model.json"), "w") as f:
        json.dump(sidecar, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
