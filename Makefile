# Two commands matter: `make demo` and `make test`. Both bootstrap .venv themselves from
# constraints.txt (the exact versions the tests passed with), so a fresh clone needs only
# python3 (>= 3.11) and network access to the package index. An older Python is refused before
# .venv is made, and a .venv an older Python left behind is replaced (and removed by `make clean`).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | sha256sum | cut -c1-12)

# True when interpreter $(1) runs and is Python 3.11 or newer.
supported = v=$$($(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) && printf '3.11\n%s\n' "$$v" | sort -V -C

.PHONY: setup test lint typecheck unit demo bench regenerate clean

$(STAMP): pyproject.toml constraints.txt
	@$(call supported,$(PYTHON)) || { echo "mlcompile needs Python 3.11 or newer, and $(PYTHON) is $${v:-not runnable}: run make PYTHON=python3.11 (or newer)" >&2; exit 1; }
	@if [ -e $(VENV) ] && ! { $(call supported,$(PY)); }; then echo "removing $(VENV): its Python is missing or older than 3.11" >&2; rm -rf $(VENV); fi
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	# Bytecode at install: each step process imports its framework afresh, scikit-learn from
	# source takes three times as long, and with PYTHONDONTWRITEBYTECODE nothing writes it later.
	$(UV) pip install --python $(PY) --quiet --compile-bytecode -c constraints.txt -e ".[dev]"
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
	@if [ -e $(VENV) ] && ! { $(call supported,$(PY)); }; then echo "removing $(VENV): its Python is missing or older than 3.11" >&2; rm -rf $(VENV); fi
