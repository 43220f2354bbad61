# Suiren — the whole set-up is `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432

.PHONY: run test bench lint i18n postgres browser clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

## run: the main job on the embedded SQLite default, in ./demo/: migrate, seed a demo world once
## (logins in demo/demo-logins.json), serve the portal and the API on 127.0.0.1:8000
run: $(STAMP)
	@mkdir -p demo
	cd demo && ../$(VENV)/bin/suiren serve --demo

## test: the whole suite (SQLite and PostgreSQL) on every core, then its 15 slowest tests; the
## browser tests' screenshots are kept in test-artifacts/screenshots (or $SUIREN_TEST_ARTIFACTS)
ARTIFACTS ?= test-artifacts/screenshots
## one more test worker than cores: a worker waiting on PostgreSQL, a subprocess or a browser
## leaves its core to another (2 cores, 2 workers: 65% of the CPU used over a run)
TEST_WORKERS ?= $(shell echo $$(( $$(nproc) + 1 )))
test: $(STAMP) postgres browser
	SUIREN_TEST_ARTIFACTS="$${SUIREN_TEST_ARTIFACTS:-$(ARTIFACTS)}" \
	  $(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=15

## bench: benchmarks with ratios against their anchors (never part of `make test`)
bench: $(STAMP) postgres
	$(PY) -m benchmarks

## lint: ruff (check and format), import-linter (the pure core imports no framework) and mypy on the core
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

## i18n: extract the portal's msgids (babel.cfg) and update locale/zh_CN and locale/en; it fails
## while a Chinese entry is empty or fuzzy (translate it in the .po; nothing is compiled)
i18n: $(STAMP)
	$(PY) -m suiren.portal.catalogs babel.cfg

## postgres: make sure the local PostgreSQL answers (start it if it is installed and down)
postgres:
	@if command -v pg_isready >/dev/null && ! pg_isready -q -h $(PG_HOST) -p $(PG_PORT); then \
	  if [ -d /etc/postgresql ]; then \
	    pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql | head -n1) main start || true; \
	    for i in $$(seq 1 30); do pg_isready -q -h $(PG_HOST) -p $(PG_PORT) && break; sleep 1; done; \
	  fi; \
	fi

## browser: Debian's Chromium and a Chinese font for the portal's browser tests (Playwright drives
## /usr/bin/chromium and never downloads one); installed once, quietly, with apt-get update only
## if the first try fails; the tests fail, never skip, when it is still missing
BROWSER_PACKAGES := chromium fonts-wqy-microhei
browser:
	@if [ ! -x /usr/bin/chromium ] || { command -v dpkg >/dev/null && ! dpkg -s fonts-wqy-microhei >/dev/null 2>&1; }; then \
	  echo "installing $(BROWSER_PACKAGES) for the browser tests"; \
	  sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
	  export DEBIAN_FRONTEND=noninteractive; \
	  $$sudo apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null 2>&1 \
	    || { $$sudo apt-get update -qq >/dev/null && $$sudo apt-get install -y -qq $(BROWSER_PACKAGES) >/dev/null; } \
	    || echo "could not install $(BROWSER_PACKAGES): the browser tests will fail" >&2; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache suiren.db demo test-artifacts
