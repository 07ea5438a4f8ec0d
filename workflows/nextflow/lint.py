#!/usr/bin/env python3
"""Checks the Nextflow module and subworkflow in this folder without Nextflow.

Nextflow itself cannot run here: its launcher (PyPI `nextflow`) downloads the Nextflow jar
from the internet on first use, and this project's machines reach only package registries.
So this script checks what it can:

  * shape (always): each module under modules/local/varstream/ has the nf-core form --
    `tag`, `label`, `when: task.ext.when == null || task.ext.when`, `task.ext.args` and
    `task.ext.prefix` in both `script:` and `stub:`, a `tuple val("${task.process}"),
    val(TOOL), eval(CMD), topic: versions, emit: versions_TOOL` output for each tool, and
    a meta.yml (where there is one) naming the same inputs, outputs and eval commands.
    VARSTREAM_CALL takes exactly `tuple val(meta), path(reads), path(index),
    path(intervals)`, `tuple val(meta2), path(fasta)`, `tuple val(meta3), path(fai)`,
    passes `--threads ${task.cpus}`, and emits `${prefix}.vcf.gz` and its `.tbi`. The
    subworkflow's and main.nf's includes name files and processes that exist, and every
    .nf file's braces, brackets and parentheses balance.
  * execution (--run): the `script:` and `stub:` blocks are rendered as Nextflow would
    render them for given inputs (a small subset of Groovy: names, `a ?: b`, `c ? a : b`,
    string literals with `${...}`), then run with `bash -ue` in a task folder holding the
    staged inputs, as Nextflow runs them; every declared output must then exist and every
    `eval` version command must print a version. The scripts run in the order the
    subworkflow runs them: shards, one call per BED, gather (given the VCFs out of order).
    The gathered VCF's path is printed last as `gathered: PATH`.

Usage: lint.py [--run --varstream BIN --fasta FA --reads BAM [--bed BED] [--shards N]
                --workdir DIR]
Exit status 0 when every check passes; each failure is printed as `lint: FILE: message`.
"""
import argparse
import glob
import os
import random
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MODULES = os.path.join(HERE, "modules", "local", "varstream")
SUBWORKFLOW = os.path.join(HERE, "subworkflows", "local", "varstream_scatter_gather", "main.nf")
ENTRY = os.path.join(HERE, "main.nf")

FAILURES = []


def fail(path, msg):
    FAILURES.append(f"lint: {os.path.relpath(path, HERE)}: {msg}")


def norm(s):
    """Whitespace-normalised text."""
    return re.sub(r"\s+", " ", s).strip()


# ---------------------------------------------------------------- parsing a process

def strip_comments(text):
    """The text without // and /* */ comments (outside string literals)."""
    out, i, n = [], 0, len(text)
    quote = None
    while i < n:
        c = text[i]
        if quote:
            if text.startswith(quote, i):
                out.append(quote)
                i += len(quote)
                quote = None
                continue
            if c == "\\" and i + 1 < n:
                out.append(text[i : i + 2])
                i += 2
                continue
            out.append(c)
            i += 1
            continue
        if text.startswith('"""', i) or text.startswith("'''", i):
            quote = text[i : i + 3]
            out.append(quote)
            i += 3
        elif c in "\"'":
            quote = c
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            while i < n and text[i] != "\n":
                i += 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def balanced(path, text):
    """Braces, brackets and parentheses balance outside strings."""
    text = strip_comments(text)
    text = re.sub(r'"""[\s\S]*?"""', '""', text)
    text = re.sub(r'"(\\.|[^"\\\n])*"', '""', text)
    text = re.sub(r"'(\\.|[^'\\\n])*'", "''", text)
    stack = []
    pairs = {")": "(", "]": "[", "}": "{"}
    for lineno, line in enumerate(text.split("\n"), 1):
        for c in line:
            if c in "([{":
                stack.append((c, lineno))
            elif c in ")]}":
                if not stack or stack[-1][0] != pairs[c]:
                    fail(path, f"line {lineno}: unbalanced {c!r}")
                    return
                stack.pop()
    if stack:
        fail(path, f"line {stack[-1][1]}: {stack[-1][0]!r} never closed")


SECTIONS = ("input", "output", "when", "script", "stub")


def parse_process(path):
    """(name, {section: text}) of the one process in a module file."""
    text = strip_comments(open(path).read())
    m = re.search(r"^process\s+(\w+)\s*\{", text, re.M)
    if not m:
        fail(path, "no `process NAME {`")
        return None, {}
    body = text[m.end() :]
    # Section labels sit alone on their line; split the body at them.
    parts = re.split(r"^\s*(" + "|".join(SECTIONS) + r"):\s*$", body, flags=re.M)
    sections = {"head": parts[0]}
    for label, content in zip(parts[1::2], parts[2::2]):
        sections[label] = content
    if len(parts) > 1:
        # The process's closing brace ends the last section.
        last = parts[-2]
        sections[last] = sections[last][: sections[last].rstrip().rfind("}")]
    return m.group(1), sections


# ---------------------------------------------------------------- a little Groovy

TOKEN = re.compile(
    r'\s*(?:(?P<tq>""")|(?P<dq>"(?:\\.|[^"\\])*")|(?P<sq>\'(?:\\.|[^\'\\])*\')'
    r"|(?P<op>\?:|\?|:|\(|\)|\[|\]|,)|(?P<name>[A-Za-z_][\w.]*))"
)


def tokenize(expr):
    pos, out = 0, []
    expr = expr.strip()
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise ValueError(f"cannot read Groovy expression {expr!r} at {expr[pos:]!r}")
        kind = m.lastgroup
        out.append((kind, m.group(kind)))
        pos = m.end()
    return out


def truthy(v):
    return v not in (None, "", [], 0, False)


def to_text(v):
    if v is None:
        raise ValueError("null interpolated into the script")
    if isinstance(v, list):
        return " ".join(to_text(x) for x in v)
    return str(v)


def interpolate(s, env):
    """A GString: `${expr}` and `$name.name` replaced, `\\$` kept as `$`."""
    out, i = [], 0
    while i < len(s):
        if s.startswith("\\$", i):
            out.append("$")
            i += 2
        elif s.startswith("\\\\", i):
            out.append("\\")
            i += 2
        elif s.startswith('\\"', i):
            out.append('"')
            i += 2
        elif s.startswith("${", i):
            end = s.index("}", i)
            out.append(to_text(evaluate(s[i + 2 : end], env)))
            i = end + 1
        elif s[i] == "$" and i + 1 < len(s) and (s[i + 1].isalpha() or s[i + 1] == "_"):
            m = re.match(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", s[i + 1 :])
            out.append(to_text(lookup(m.group(0), env)))
            i += 1 + m.end()
        else:
            out.append(s[i])
            i += 1
    return "".join(out)


def lookup(name, env):
    if name in env:
        return env[name]
    head, _, rest = name.partition(".")
    if head in env and rest:
        v = env[head]
        if rest == "baseName":
            return os.path.basename(v).rsplit(".", 1)[0]
        if rest == "name":
            return os.path.basename(v)
    if name.startswith("task.ext."):
        return None  # unset ext values are null in Nextflow
    raise ValueError(f"unknown name {name!r}")


def evaluate(expr, env):
    toks = tokenize(expr)
    pos = [0]

    def peek():
        return toks[pos[0]] if pos[0] < len(toks) else (None, None)

    def take():
        t = peek()
        pos[0] += 1
        return t

    def primary():
        kind, val = take()
        if kind == "dq":
            return interpolate(val[1:-1], env)
        if kind == "sq":
            return val[1:-1]
        if kind == "name":
            literals = {"null": None, "true": True, "false": False}
            return literals[val] if val in literals else lookup(val, env)
        if val == "(":
            v = elvis()
            assert take()[1] == ")", f"missing ) in {expr!r}"
            return v
        if val == "[":
            items = []
            while peek()[1] != "]":
                items.append(elvis())
                if peek()[1] == ",":
                    take()
            take()
            return items
        raise ValueError(f"unexpected {val!r} in {expr!r}")

    def ternary():
        c = primary()
        if peek()[1] == "?":
            take()
            a = elvis()
            assert take()[1] == ":", f"missing : in {expr!r}"
            b = elvis()
            return a if truthy(c) else b
        return c

    def elvis():
        a = ternary()
        if peek()[1] == "?:":
            take()
            b = elvis()
            return a if truthy(a) else b
        return a

    v = elvis()
    if pos[0] != len(toks):
        raise ValueError(f"trailing {toks[pos[0]:]} in {expr!r}")
    return v


def render(block, env):
    """Run a script/stub block's `def` lines in `env`, then render its triple-quoted script."""
    m = re.search(r'"""([\s\S]*?)"""', block)
    if not m:
        raise ValueError('no """ script """')
    for line in block[: m.start()].splitlines():
        line = line.strip()
        if not line:
            continue
        a = re.match(r"(?:def\s+)?([A-Za-z_]\w*)\s*=\s*(.+)$", line)
        if not a:
            raise ValueError(f"cannot render the line {line!r}")
        env[a.group(1)] = evaluate(a.group(2), env)
    return interpolate(m.group(1), env)


# ---------------------------------------------------------------- shape checks

VERSION_RE = re.compile(
    r'tuple\s+val\(\s*"\$\{task\.process\}"\s*\)\s*,\s*val\(\s*\'(\w+)\'\s*\)\s*,\s*'
    r'eval\(\s*"((?:\\.|[^"\\])*)"\s*\)\s*,\s*(?:topic:\s*versions\s*,\s*emit:\s*(\w+)|'
    r"emit:\s*(\w+)\s*,\s*topic:\s*versions)"
)


def outputs_of(sections):
    """[(kind, pattern or eval, emit)] of a process's output section."""
    out = []
    for line in sections.get("output", "").splitlines():
        line = line.strip()
        if not line:
            continue
        v = VERSION_RE.search(line)
        if v:
            out.append(("eval", v.group(2).replace('\\"', '"'), v.group(3) or v.group(4), v.group(1)))
            continue
        p = re.search(r'path\(\s*"([^"]+)"\s*\)\s*,\s*emit:\s*(\w+)', line)
        if p:
            out.append(("path", p.group(1), p.group(2), None))
            continue
        out.append(("unknown", line, None, None))
    return out


def check_module(path):
    name, sec = parse_process(path)
    if not name:
        return None
    head = sec["head"]
    if not re.search(r'^\s*tag\s+"\$\{meta\.id\}"', head, re.M):
        fail(path, 'no `tag "${meta.id}"`')
    if not re.search(r"^\s*label\s+'process_\w+'", head, re.M):
        fail(path, "no `label 'process_...'`")
    for s in SECTIONS:
        if s not in sec:
            fail(path, f"no `{s}:` section")
    if norm(sec.get("when", "")) != "task.ext.when == null || task.ext.when":
        fail(path, "`when:` must be `task.ext.when == null || task.ext.when`")
    for s in ("script", "stub"):
        block = sec.get(s, "")
        if "task.ext.args" not in block:
            fail(path, f"`{s}:` does not use task.ext.args")
        if "task.ext.prefix" not in block:
            fail(path, f"`{s}:` does not use task.ext.prefix")
    outs = outputs_of(sec)
    for kind, text, _, _ in outs:
        if kind == "unknown":
            fail(path, f"output line not understood: {text}")
    versions = [o for o in outs if o[0] == "eval"]
    if not versions:
        fail(path, "no versions tuple on `topic: versions` with an eval() command")
    for _, cmd, emit, tool in versions:
        if emit != f"versions_{tool}":
            fail(path, f"versions of {tool} emitted as {emit}, not versions_{tool}")
    if "versions.yml" in open(path).read():
        fail(path, "writes versions.yml: versions go on the `versions` topic instead")
    meta = os.path.join(os.path.dirname(path), "meta.yml")
    if os.path.exists(meta):
        text = open(meta).read()
        inputs = re.findall(r"path\((\w+)(?:,[^)]*)?\)|val\((\w+)\)", sec.get("input", ""))
        for a, b in inputs:
            if not re.search(rf"^\s*-\s*(?:-\s*)?{a or b}:", text, re.M):
                fail(meta, f"input {a or b} is not described")
        for kind, text_, emit, tool in outs:
            if emit and not re.search(rf"^\s*{emit}:", text, re.M):
                fail(meta, f"output {emit} is not described")
            if kind == "eval" and text_ not in text:
                fail(meta, f"eval command {text_!r} differs from main.nf")
        if not re.search(r"^topics:\s*\n\s+versions:", text, re.M):
            fail(meta, "no `topics: versions:`")
    return name, sec, outs


def check_call_module(path, sec, outs):
    want = [
        "tuple val(meta), path(reads), path(index), path(intervals)",
        "tuple val(meta2), path(fasta)",
        "tuple val(meta3), path(fai)",
    ]
    got = [norm(l) for l in sec.get("input", "").splitlines() if l.strip()]
    if got != want:
        fail(path, f"inputs are {got}, want {want}")
    paths = {emit: p for kind, p, emit, _ in outs if kind == "path"}
    if paths.get("vcf") != "${prefix}.vcf.gz" or paths.get("tbi") != "${prefix}.vcf.gz.tbi":
        fail(path, f"outputs must be vcf ${{prefix}}.vcf.gz and tbi ${{prefix}}.vcf.gz.tbi: {paths}")
    if not re.search(r"--threads \$\{task\.cpus\}", sec.get("script", "")):
        fail(path, "threads do not come from task.cpus (`--threads ${task.cpus}`)")


def check_includes(path):
    text = strip_comments(open(path).read())
    for procs, rel in re.findall(r"include\s*\{([^}]*)\}\s*from\s*'([^']+)'", text):
        target = os.path.normpath(os.path.join(os.path.dirname(path), rel))
        target = target if target.endswith(".nf") else target + ".nf"
        if not os.path.exists(target):
            fail(path, f"include {rel} names no file")
            continue
        defined = re.findall(r"^(?:process|workflow)\s+(\w+)", open(target).read(), re.M)
        for p in re.split(r"[;\s]+", procs.strip()):
            if p and p not in defined:
                fail(path, f"{p} is not defined in {rel}")
            elif p and not re.search(rf"\b{p}\s*\(", text):
                fail(path, f"{p} is included but never called")


def check_subworkflow(path):
    text = strip_comments(open(path).read())
    for s in ("take:", "main:", "emit:"):
        if s not in text:
            fail(path, f"no `{s}`")
    for e in ("vcf", "tbi"):
        if not re.search(rf"^\s*{e}\s*=", text.split("emit:", 1)[-1], re.M):
            fail(path, f"emits no {e}")


# ---------------------------------------------------------------- running the blocks

def run_task(path, block_name, sec, outs, env, staged, workdir, label, path_env):
    """Render and run one block in a fresh task folder; return {emit: [files]}."""
    task = os.path.join(workdir, label)
    shutil.rmtree(task, ignore_errors=True)
    os.makedirs(task)
    for f in staged:
        os.symlink(os.path.abspath(f), os.path.join(task, os.path.basename(f)))
    env = dict(env)
    try:
        script = render(sec[block_name], env)
    except (ValueError, AssertionError, KeyError) as e:
        fail(path, f"{block_name}: cannot render: {e}")
        return {}
    with open(os.path.join(task, ".command.sh"), "w") as f:
        f.write(script)
    r = subprocess.run(
        ["bash", "-ue", ".command.sh"], cwd=task, env=path_env, capture_output=True, text=True
    )
    if r.returncode != 0:
        fail(path, f"{block_name} ({label}) exited {r.returncode}: {r.stderr.strip()[-2000:]}")
        return {}
    got = {}
    for kind, pattern, emit, tool in outs:
        if kind == "path":
            files = sorted(glob.glob(os.path.join(task, interpolate(pattern, env))))
            if not files:
                fail(path, f"{block_name} ({label}) made no {pattern} (emit {emit})")
            got[emit] = files
        elif kind == "eval":
            v = subprocess.run(
                ["bash", "-c", pattern], cwd=task, env=path_env, capture_output=True, text=True
            )
            if v.returncode != 0 or not v.stdout.strip() or "\n" in v.stdout.strip():
                fail(path, f"version command {pattern!r} printed {v.stdout!r} {v.stderr!r}")
            got[emit] = v.stdout.strip()
    return got


def run_all(args, modules):
    path_env = dict(os.environ)
    path_env["PATH"] = os.path.dirname(os.path.abspath(args.varstream)) + os.pathsep + path_env["PATH"]
    if os.path.basename(args.varstream) != "varstream":
        fail(args.varstream, "the binary must be named varstream (the modules call it so)")
    workdir = os.path.abspath(args.workdir)
    os.makedirs(workdir, exist_ok=True)
    index = args.reads + (".crai" if args.reads.endswith(".cram") else ".bai")
    base = {
        "task.cpus": 2,
        "task.ext.args": None,
        "task.ext.prefix": None,
        "meta.id": "S",
        "reads": os.path.basename(args.reads),
        "index": os.path.basename(index),
        "fasta": os.path.basename(args.fasta),
        "fai": os.path.basename(args.fasta) + ".fai",
        "intervals": os.path.basename(args.bed) if args.bed else [],
        "count": args.shards,
    }
    inputs = [args.reads, index, args.fasta, args.fasta + ".fai"] + ([args.bed] if args.bed else [])
    # Every stub makes every declared output.
    for name, (path, sec, outs) in modules.items():
        env = dict(base, **{"task.process": name, "vcfs": ["a.vcf.gz", "b.vcf.gz"]})
        run_task(path, "stub", sec, outs, env, inputs, workdir, f"{name}.stub", path_env)
    # The scripts, as the subworkflow chains them.
    path, sec, outs = modules["VARSTREAM_SHARDS"]
    got = run_task(path, "script", sec, outs, dict(base, **{"task.process": "VARSTREAM_SHARDS"}),
                   inputs, workdir, "shards", path_env)
    beds = got.get("beds", [])
    vcfs = []
    path, sec, outs = modules["VARSTREAM_CALL"]
    for bed in beds:
        stem = os.path.basename(bed).rsplit(".", 1)[0]
        env = dict(base, **{"task.process": "VARSTREAM_CALL", "meta.id": f"S.{stem}",
                            "intervals": os.path.basename(bed)})
        got = run_task(path, "script", sec, outs, env, inputs[:4] + [bed], workdir,
                       f"call.{stem}", path_env)
        vcfs.extend(got.get("vcf", []))
    if not beds or len(vcfs) != len(beds):
        fail(path, f"{len(beds)} BED files gave {len(vcfs)} VCFs")
        return
    # Nextflow gathers in completion order: the gather script must put them in order itself.
    shuffled = vcfs[:]
    random.Random(1).shuffle(shuffled)
    if len(shuffled) > 1 and shuffled == vcfs:
        shuffled.reverse()
    path, sec, outs = modules["VARSTREAM_GATHER"]
    env = dict(base, **{"task.process": "VARSTREAM_GATHER",
                        "vcfs": [os.path.basename(v) for v in shuffled]})
    got = run_task(path, "script", sec, outs, env, shuffled, workdir, "gather", path_env)
    for v in got.get("vcf", []):
        print(f"gathered: {v}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", action="store_true", help="also render and run the blocks")
    ap.add_argument("--varstream")
    ap.add_argument("--fasta")
    ap.add_argument("--reads")
    ap.add_argument("--bed")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--workdir")
    args = ap.parse_args()

    for f in sorted(glob.glob(os.path.join(HERE, "**", "*.nf"), recursive=True)):
        balanced(f, open(f).read())
    modules = {}
    for f in sorted(glob.glob(os.path.join(MODULES, "*", "main.nf"))):
        r = check_module(f)
        if r:
            modules[r[0]] = (f, r[1], r[2])
    for want in ("VARSTREAM_CALL", "VARSTREAM_SHARDS", "VARSTREAM_GATHER"):
        if want not in modules:
            fail(MODULES, f"no module defines {want}")
    if "VARSTREAM_CALL" in modules:
        check_call_module(*modules["VARSTREAM_CALL"])
    check_subworkflow(SUBWORKFLOW)
    check_includes(SUBWORKFLOW)
    check_includes(ENTRY)
    if args.run and not FAILURES:
        missing = [o for o in ("varstream", "fasta", "reads", "workdir") if not getattr(args, o)]
        if missing:
            ap.error("--run needs " + ", ".join("--" + m for m in missing))
        run_all(args, modules)
    for f in FAILURES:
        print(f, file=sys.stderr)
    checked = "shape" + (" and execution" if args.run else "")
    print(f"lint: {len(modules)} modules, {checked}: {len(FAILURES)} problem(s)", file=sys.stderr)
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
