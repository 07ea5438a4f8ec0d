"""End-to-end smoke test of scripts/train.py on synthetic make-examples output.

NOT run in CI: it needs torch (the training venv, scripts/setup_train_env.sh).
Run it by hand:

    .venv-train/bin/python scripts/tests/test_train_smoke.py        # no pytest needed
    .venv-train/bin/python -m pytest scripts/tests/test_train_smoke.py   # if pytest is installed

Under an interpreter without torch the tests skip. The onnxruntime check uses
onnxruntime from this interpreter if present, else <repo>/.venv/bin/python.

It writes fake examples (label = copies of ALT, signalled by one channel's
value at the centre position plus noise) into a temp dir, trains a few epochs
with --arch cnn and --arch gru, and checks the ONNX + sidecar + train log, and
that the model loads in onnxruntime and predicts well above chance.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:  # collected by a bare interpreter: every test skips
    np = None

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TRAIN = os.path.join(REPO, "scripts", "train.py")
WINDOW = 33
CHANNELS = (
    ["depth", "ref_fwd", "ref_rev", "alt_fwd", "alt_rev", "alt_frac", "other_frac", "del_frac", "ins_frac"]
    + [f"mapq_bin{i}" for i in range(4)]
    + [f"baseq_bin{i}" for i in range(4)]
    + ["is_candidate", "ref_A", "ref_C", "ref_G", "ref_T", "homopolymer", "softclip_frac", "strand_bias"]
)
assert len(CHANNELS) == 25
ALT_FRAC = CHANNELS.index("alt_frac")


def have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def skip_without_torch():
    if not have_torch():
        import pytest

        pytest.skip("needs torch: run with .venv-train/bin/python (scripts/setup_train_env.sh)")


def ort_python() -> str:
    try:
        import onnxruntime  # noqa: F401

        return sys.executable
    except ImportError:
        return os.path.join(REPO, ".venv", "bin", "python")


def make_fake_examples(out_dir: str, source: str, n_shards: int, n_per_shard: int, seed: int,
                       channels=CHANNELS, window=WINDOW, noise=0.12) -> None:
    """Write a make-examples-like directory. Label 0/1/2 shows as alt_frac ~0/0.5/1 at the centre."""
    rng = np.random.default_rng(seed)
    os.makedirs(out_dir, exist_ok=True)
    c = len(channels)
    alt_frac = channels.index("alt_frac") if "alt_frac" in channels else 0
    centre = window // 2
    for s in range(n_shards):
        n = n_per_shard
        y = rng.choice(3, size=n, p=[0.45, 0.35, 0.20]).astype(np.int64)
        x = (0.3 * rng.standard_normal((n, window, c))).astype(np.float32)
        signal = np.array([0.03, 0.5, 0.97])[y] + noise * rng.standard_normal(n)
        x[:, centre, alt_frac] = np.clip(signal, 0, 1)
        x[:, centre - 1, alt_frac] += 0.3 * (y == 2)  # a little context signal
        chrom = rng.choice(["chr1", "chr2", "chrX"], size=n)
        pos = rng.integers(1, 3_000_000, size=n)
        indel = rng.random(n) < 0.3
        np.save(os.path.join(out_dir, f"shard-{s:05d}.x.npy"), x)
        np.save(os.path.join(out_dir, f"shard-{s:05d}.y.npy"), y)
        with open(os.path.join(out_dir, f"shard-{s:05d}.meta.tsv"), "w") as fh:
            fh.write("source\tchrom\tpos\tref\talt\tlabel\tdepth\n")
            for i in range(n):
                ref, alt = ("AT", "A") if indel[i] else ("C", "T")
                fh.write(f"{source}\t{chrom[i]}\t{pos[i]}\t{ref}\t{alt}\t{y[i]}\t{rng.integers(10, 60)}\n")
    meta = {
        "tensor_version": 1,
        "window": window,
        "channels": list(channels),
        "shape": [window, c],
        "encoding": "fake: alt_frac carries the label",
        "labels": ["hom_ref", "het", "hom_alt"],
        "sources": [{"name": source, "bam": f"/data/{source}.bam", "truth": f"/data/{source}.vcf.gz",
                     "regions": f"/data/{source}.bed"}],
    }
    with open(os.path.join(out_dir, "examples.json"), "w") as fh:
        json.dump(meta, fh, indent=2)


def run_train(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, TRAIN] + args, capture_output=True, text=True)


def check_model(models: str, name: str, ex_dirs: list[str], arch: str) -> dict:
    onnx_path = os.path.join(models, f"{name}.onnx")
    side = json.load(open(os.path.join(models, f"{name}.json")))
    assert side["format"] == "varstream-genotyper"
    assert side["name"] == name
    assert side["input_name"] == "input" and side["output_name"] == "probs"
    assert side["outputs"] == ["hom_ref", "het", "hom_alt"]
    assert side["tensor"] == {"tensor_version": 1, "window": WINDOW, "channels": CHANNELS, "shape": [WINDOW, 25],
                              "encoding": "fake: alt_frac carries the label"}
    assert side["architecture"]["arch"] == arch
    assert 0 < side["architecture"]["n_params"] < 200_000
    tr = side["training"]
    assert tr["n_train"] > 0 and tr["n_val"] > 0
    assert tr["val_rule"] == "(pos // 100000) % 10 == 0"
    assert [d["name"] for d in tr["data"]] == ["HG001", "HG002"]
    assert all("regions" in d for d in tr["data"])
    assert "train.py" in tr["command"] and tr["torch_version"]
    assert side["sha256"] == hashlib.sha256(open(onnx_path, "rb").read()).hexdigest()
    assert os.path.getsize(onnx_path) < 2 * 2**20
    assert side["onnx_check"]["max_abs_diff"] <= 1e-5
    m = side["metrics"]
    for k in ("accuracy", "confusion_matrix", "snv", "indel"):
        assert k in m
    for k in ("precision", "recall", "f1", "genotype_concordance"):
        assert k in m["snv"] and k in m["indel"]
    assert m["accuracy"] > 0.85, m["accuracy"]
    assert sum(map(sum, m["confusion_matrix"]["counts"])) == tr["n_val"]

    rows = open(os.path.join(models, f"{name}.train_log.tsv")).read().splitlines()
    assert rows[0].split("\t")[:4] == ["epoch", "train_loss", "val_loss", "val_acc"]
    assert len(rows) - 1 == tr["epochs"]

    # independent onnxruntime load + predict on fresh examples of the same generator
    probe = os.path.join(os.path.dirname(models), "probe")
    make_fake_examples(probe, "PROBE", 1, 500, seed=99)
    code = (
        "import sys, json, numpy as np, onnxruntime as ort\n"
        "s = ort.InferenceSession(sys.argv[1], providers=['CPUExecutionProvider'])\n"
        "x = np.load(sys.argv[2]); y = np.load(sys.argv[3])\n"
        "p = s.run(['probs'], {'input': x})[0]\n"
        "assert p.shape == (len(x), 3), p.shape\n"
        "assert np.allclose(p.sum(1), 1, atol=1e-5)\n"
        "print(json.dumps({'acc': float((p.argmax(1) == y).mean()),"
        " 'meta': s.get_modelmeta().custom_metadata_map}))\n"
    )
    r = subprocess.run([ort_python(), "-c", code, onnx_path, os.path.join(probe, "shard-00000.x.npy"),
                        os.path.join(probe, "shard-00000.y.npy")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["acc"] > 0.85, out
    assert out["meta"]["channels"] == ",".join(CHANNELS)
    assert out["meta"]["name"] == name
    return side


def _train_and_check(arch: str, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as td:
        d1, d2 = os.path.join(td, "ex1"), os.path.join(td, "ex2")
        make_fake_examples(d1, "HG001", 2, 1500, seed=1)
        make_fake_examples(d2, "HG002", 1, 1500, seed=2)
        models = os.path.join(td, "models")
        name = f"smoke-{arch}"
        r = run_train(["--examples", d1, d2, "--out-dir", models, "--name", name, "--arch", arch,
                       "--seed", "7", "--threads", "2", "--ort-python", ort_python()] + extra)
        sys.stderr.write(r.stderr)
        assert r.returncode == 0, r.stderr
        return check_model(models, name, [d1, d2], arch)


def test_train_cnn_end_to_end():
    skip_without_torch()
    side = _train_and_check("cnn", ["--epochs", "4", "--batch-size", "64"])
    print(f"cnn: n_params {side['architecture']['n_params']} val acc {side['metrics']['accuracy']:.4f}")


def test_train_gru_end_to_end():
    skip_without_torch()
    side = _train_and_check("gru", ["--epochs", "3", "--batch-size", "64"])
    print(f"gru: n_params {side['architecture']['n_params']} val acc {side['metrics']['accuracy']:.4f}")


def test_init_and_gate():
    """--init-onnx + --gate-onnx (varstream-v4's recipe): the exported pair must give the
    fine-tuned network's probabilities at <= LO reads, the gate model's at >= HI, and their
    mean half-way; training is deterministic, so the gated run's network is the ungated run's."""
    skip_without_torch()
    with tempfile.TemporaryDirectory() as td:
        d1 = os.path.join(td, "ex1")
        make_fake_examples(d1, "HG001", 1, 1500, seed=1)
        models = os.path.join(td, "models")
        base = ["--examples", d1, "--out-dir", models, "--arch", "cnn", "--threads", "1",
                "--batch-size", "64", "--epochs", "2", "--ort-python", ort_python()]
        a = os.path.join(models, "a.onnx")
        for name, extra in (("a", ["--seed", "1"]),
                            ("b", ["--seed", "3", "--init-onnx", a]),
                            ("g", ["--seed", "3", "--init-onnx", a, "--gate-onnx", a, "--gate-depth", "12,16"])):
            r = run_train(base + ["--name", name] + extra)
            assert r.returncode == 0, r.stderr
        side = json.load(open(os.path.join(models, "g.json")))
        assert side["architecture"]["gate"]["depth_lo"] == 12 and side["architecture"]["gate"]["depth_hi"] == 16
        assert side["training"]["init_onnx"]["sha256"] == hashlib.sha256(open(a, "rb").read()).hexdigest()
        probe = os.path.join(td, "probe")
        make_fake_examples(probe, "PROBE", 1, 300, seed=5)
        x = np.load(os.path.join(probe, "shard-00000.x.npy"))
        depth = CHANNELS.index("depth")
        for reads in (5, 14, 30):
            x[:, WINDOW // 2, depth] = reads / 100
            np.save(os.path.join(probe, f"x{reads}.npy"), x)
        code = (
            "import sys, json, numpy as np, onnxruntime as ort\n"
            "d = sys.argv[1]; out = {}\n"
            "for m in 'abg':\n"
            "    s = ort.InferenceSession(f'{d}/{m}.onnx', providers=['CPUExecutionProvider'])\n"
            "    for r in (5, 14, 30):\n"
            "        out[f'{m}{r}'] = s.run(['probs'], {'input': np.load(f'{sys.argv[2]}/x{r}.npy')})[0].tolist()\n"
            "print(json.dumps(out))\n"
        )
        r = subprocess.run([ort_python(), "-c", code, models, probe], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        p = {k: np.array(v) for k, v in json.loads(r.stdout).items()}
        assert np.abs(p["a5"] - p["b5"]).max() > 1e-3  # fine-tuning changed something
        assert np.allclose(p["g5"], p["b5"], atol=1e-5)
        assert np.allclose(p["g30"], p["a30"], atol=1e-5)
        assert np.allclose(p["g14"], 0.5 * (p["a14"] + p["b14"]), atol=1e-5)


def test_rejects_mismatched_channels():
    skip_without_torch()
    with tempfile.TemporaryDirectory() as td:
        d1, d2 = os.path.join(td, "ex1"), os.path.join(td, "ex2")
        make_fake_examples(d1, "HG001", 1, 50, seed=1)
        make_fake_examples(d2, "HG002", 1, 50, seed=2, channels=CHANNELS[:-1])
        r = run_train(["--examples", d1, d2, "--out-dir", os.path.join(td, "m"), "--epochs", "1"])
        assert r.returncode == 1
        assert "tensor description differs" in r.stderr
        assert not os.path.exists(os.path.join(td, "m"))


if __name__ == "__main__":
    if not have_torch():
        sys.exit("needs torch: run with .venv-train/bin/python (scripts/setup_train_env.sh)")
    tests = [test_rejects_mismatched_channels, test_train_cnn_end_to_end, test_train_gru_end_to_end,
             test_init_and_gate]
    failed = 0
    for t in tests:
        try:
            t()
            print(f"PASS {t.__name__}")
        except Exception as e:  # noqa: BLE001
            failed += 1
            print(f"FAIL {t.__name__}: {e!r}")
    print(f"{len(tests) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
