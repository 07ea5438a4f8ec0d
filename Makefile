# The two commands a new user needs: `make demo` and `make test`. Both install what is
# missing first (scripts/setup.sh: apt packages, .venv with onnxruntime).
SHELL := /bin/bash
VARSTREAM_DATA ?= $(abspath ../shared/data)
export VARSTREAM_DATA
BIN := target/release/varstream
DEMO := work/demo

PREFIX ?= $(HOME)/.local
ORT_LIB = $(firstword $(wildcard .venv/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.1.31.1))

.PHONY: setup setup-workflows build demo test install bench bench-depth model clean-demo

setup:
	@bash scripts/setup.sh

# Snakemake and MultiQC into .venv, for workflows/ and tests/it/workflows.rs.
setup-workflows: setup
	@bash scripts/setup.sh workflows

build: setup
	cargo build --release

# Simulate a small diploid genome with known variants (from the slice in data/demo/), call it,
# and score the calls. Its tools and data are checked before the release build.
demo: setup
	@bash scripts/demo.sh --check
	cargo build --release
	@bash scripts/demo.sh

# The release binary into $(PREFIX)/bin and ONNX Runtime's library into $(PREFIX)/lib, where the
# binary looks for it (../lib beside its folder): `make install PREFIX=/opt/varstream`.
install: build
	@test -n "$(ORT_LIB)" || { echo "install: libonnxruntime.so.1.31.1 not found in .venv (run make setup)" >&2; exit 1; }
	install -D -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/varstream
	install -D -m 644 $(ORT_LIB) $(DESTDIR)$(PREFIX)/lib/libonnxruntime.so.1.31.1
	@echo "installed $(DESTDIR)$(PREFIX)/bin/varstream (ONNX Runtime: $(DESTDIR)$(PREFIX)/lib/libonnxruntime.so.1.31.1)"

# The workflow tools (about 2 minutes of downloads into a fresh .venv) install while the tests
# build, instead of before.
test: setup
	@test -d "$(VARSTREAM_DATA)/na12878_chr20" || echo "make test: no real data at $(VARSTREAM_DATA) (set VARSTREAM_DATA): the tests in tests/it/real_data.rs will pass as skipped (they fail under CI=true)"
	@mkdir -p work
	@bash scripts/setup.sh workflows > work/setup-workflows.log 2>&1 & tools=$$!; \
	cargo test --release --no-run; built=$$?; \
	wait $$tools; got=$$?; cat work/setup-workflows.log >&2; \
	[ $$got -eq 0 ] || { echo "make: scripts/setup.sh workflows failed (above)" >&2; exit 1; }; \
	[ $$built -eq 0 ] || exit 1; \
	cargo test --release -- --test-threads=2

# Genome-scale speed and memory (10 Mb simulated 30x, 1 Mb, the dev BAM) against bcftools and
# freebayes; builds its data on the first run (work/bench/, about 40 minutes); then the dev-set
# and extreme-depth benchmarks. Not in CI: it takes over an hour on 2 cores.
bench: build
	@bash benches/genome_scale.sh
	@bash benches/bench.sh
	@bash benches/depth_memory.sh

# Peak memory and wall time at 5,000x and 30,000x against 30x (generated data, no ../shared).
bench-depth: build
	@bash benches/depth_memory.sh

# Retrain the shipped model's recipe from scratch into work/model/ (MODEL_DIR=models replaces the
# shipped one; needs scripts/setup_train_env.sh; not in CI).
model: build
	bash scripts/install_sim_deps.sh
	bash scripts/setup_train_env.sh
	bash scripts/build_model.sh

clean-demo:
	rm -rf $(DEMO)
