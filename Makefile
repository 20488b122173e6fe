# Two commands matter: `make demo` and `make test`. Both bootstrap .venv themselves from
# constraints.txt (the exact versions the tests passed with), so a fresh clone needs only
# python3 (>= 3.11) and network access to the package index.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)

.PHONY: setup test lint typecheck unit demo bench regenerate clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(UV) pip install --python $(PY) --quiet -c constraints.txt -e ".[dev]"
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

lint: setup
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m ruff format --check src tests benchmarks examples

typecheck: setup
	$(PY) -m mypy

unit: setup
	$(PY) -m pytest -n 2 -q

test: lint typecheck unit

regenerate: setup
	MLCOMPILE_REGENERATE=1 $(PY) -m pytest -q -k golden tests

demo: setup
	$(PY) -m mlcompile.demo

bench: setup
	$(PY) benchmarks/run.py

clean:
	rm -rf build .mlcompile .pytest_cache .mypy_cache .ruff_cache
