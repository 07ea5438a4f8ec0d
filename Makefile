# The two commands a new user needs: `make demo` and `make test`. Both install what is
# missing first (scripts/setup.sh: apt packages, .venv with onnxruntime).
SHELL := /bin/bash
VARSTREAM_DATA ?= $(abspath ../shared/data)
export VARSTREAM_DATA
BIN := target/release/varstream
DEMO := work/demo

.PHONY: setup setup-workflows build demo test bench bench-depth model clean-demo

setup:
	@bash scripts/setup.sh

# Snakemake and MultiQC into .venv, for workflows/ and tests/workflows.rs.
setup-workflows: setup
	@bash scripts/setup.sh workflows

build: setup
	cargo build --release

# Simulate a small diploid genome with known variants, call it, and score the calls.
demo: build
	@bash scripts/demo.sh

# The workflow tools (about 2 minutes of downloads into a fresh .venv) install while the tests
# build, instead of before.
test: setup
	@mkdir -p work
	@bash scripts/setup.sh workflows > work/setup-workflows.log 2>&1 & tools=$$!; \
	cargo test --release --no-run; built=$$?; \
	wait $$tools; got=$$?; cat work/setup-workflows.log >&2; \
	[ $$got -eq 0 ] || { echo "make: scripts/setup.sh workflows failed (above)" >&2; exit 1; }; \
	[ $$built -eq 0 ] || exit 1; \
	cargo test --release -- --test-threads=2

bench: build
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
