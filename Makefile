# Suiren — the whole set-up is `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432

.PHONY: run test bench lint postgres clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

## run: the main job on the embedded SQLite default
run: $(STAMP)
	$(VENV)/bin/suiren demo

## test: the whole suite (SQLite and PostgreSQL) on every core, then its 15 slowest tests
test: $(STAMP) postgres
	$(PY) -m pytest -n auto --dist worksteal --durations=15

## bench: benchmarks with ratios against their anchors (never part of `make test`)
bench: $(STAMP) postgres
	$(PY) -m benchmarks

## lint: ruff (check and format), import-linter (the pure core imports no framework) and mypy on the core
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

## postgres: make sure the local PostgreSQL answers (start it if it is installed and down)
postgres:
	@if command -v pg_isready >/dev/null && ! pg_isready -q -h $(PG_HOST) -p $(PG_PORT); then \
	  if [ -d /etc/postgresql ]; then \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start || true; \
	    for i in $$(seq 1 30); do pg_isready -q -h $(PG_HOST) -p $(PG_PORT) && break; sleep 1; done; \
	  fi; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache suiren.db
