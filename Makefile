# Mend: two commands. `make demo` runs a demo clinic; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
BIN := $(VENV)/bin
DEMO_ENV := MEND_ENV=demo MEND_VAR_DIR=$(CURDIR)/var

.PHONY: demo test bench serve lint format typecheck screenshots clean help

help:
	@echo "make demo   - create a virtualenv, load the demo clinics on SQLite and serve http://127.0.0.1:$(PORT)"
	@echo "make test   - install test dependencies, lint, run every test on SQLite (and PostgreSQL when present)"
	@echo "make bench  - seed data at scale and measure pages and API calls"

# Mend itself is installed with its dependencies, so a package missing from pyproject.toml fails
# here rather than in a clinic; the pins (installed first, then as constraints) keep every version.
$(BIN)/mend: requirements/base.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/base.txt
	$(BIN)/python -m pip install --quiet -c requirements/base.txt -e .
	touch $(BIN)/mend

$(VENV)/.test-deps: $(BIN)/mend requirements/test.txt
	$(BIN)/python -m pip install --quiet -r requirements/test.txt
	touch $@

demo: $(BIN)/mend
	$(DEMO_ENV) $(BIN)/mend migrate --noinput -v 0
	$(DEMO_ENV) $(BIN)/mend collectstatic --noinput -v 0
	$(DEMO_ENV) $(BIN)/mend demo
	$(DEMO_ENV) $(BIN)/mend serve --port $(PORT)

serve: $(BIN)/mend
	$(DEMO_ENV) $(BIN)/mend serve --port $(PORT)

test: $(VENV)/.test-deps
	VENV=$(VENV) scripts/test.sh

bench: $(VENV)/.test-deps
	MEND_ENV=demo $(BIN)/python -m mend bench
	MEND_ENV=demo $(BIN)/python -m mend bench_billing_reports

lint: $(VENV)/.test-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.test-deps
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# mypy's Django plugin loads the settings: the test profile needs no keys, and an in-memory
# database means loading them creates nothing under var/.
typecheck: $(VENV)/.test-deps
	MEND_ENV=test DATABASE_URL=sqlite://:memory: $(BIN)/mypy

screenshots: $(VENV)/.test-deps
	$(BIN)/python scripts/screenshots.py --base-url http://127.0.0.1:$(PORT) --out docs/screenshots

clean:
	rm -rf $(VENV) var build src/*.egg-info
