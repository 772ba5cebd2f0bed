# Portico — every target sets up what it needs itself (a fresh clone needs only python3 and make).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_WORKERS ?= auto
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run serve test test-sqlite test-pg test-api-schema e2e bench check lint format migrate demo worker clean system-deps browser-deps idp-deps

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# System tools some tests drive for real (oathtool for TOTP, pdftotext for PDFs).
system-deps:
	@bash scripts/system-deps.sh

browser-deps:
	@bash scripts/system-deps.sh --browser

# The SSO tests' OpenID Connect provider (Node.js, oidc-provider; tests/oidc_idp.py starts it).
IDP_DIR := tests/idp/oidc
IDP_STAMP := $(IDP_DIR)/node_modules/.portico-installed

$(IDP_STAMP): $(IDP_DIR)/package-lock.json
	npm ci --no-audit --no-fund --prefix $(IDP_DIR)
	@touch $(IDP_STAMP)

idp-deps: $(IDP_STAMP)

migrate: $(STAMP)
	PORTICO_DEMO=true $(BIN)/python manage.py migrate --noinput

demo: migrate
	PORTICO_DEMO=true $(BIN)/python manage.py demo --port $(PORT)

## make run: set up, migrate, load the demo and serve it on http://127.0.0.1:$(PORT) (SQLite by default)
run: $(STAMP)
	@$(MAKE) --no-print-directory idp-deps >/dev/null 2>&1 || echo "(the single sign-on demo is off: npm could not install tests/idp/oidc)"
	@PORTICO_DEMO=true $(BIN)/python manage.py migrate --noinput
	@PORTICO_DEMO=true $(BIN)/python manage.py collectstatic --noinput -v0
	@PORTICO_DEMO=true PORTICO_PUBLIC_PORT=$(PORT) $(BIN)/python manage.py demo --port $(PORT)
	@echo "Serving on port $(PORT) with a background worker: open a portal address above (http://127.0.0.1:$(PORT)/ lists them). Ctrl-C stops."
	@PORTICO_DEMO=true PORTICO_PUBLIC_PORT=$(PORT) BIN=$(BIN) PORT=$(PORT) exec bash scripts/serve.sh

worker: $(STAMP)
	PORTICO_DEMO=true $(BIN)/portico worker

## make test: the suite on SQLite, then again on PostgreSQL when one is reachable
test: $(STAMP) system-deps idp-deps
	@$(MAKE) --no-print-directory test-sqlite
	@if $(BIN)/python scripts/pg_reachable.py "$(TEST_DATABASE_URL)"; then \
		$(MAKE) --no-print-directory test-pg; \
	else \
		echo "== PostgreSQL at $(TEST_DATABASE_URL) is not reachable: ran SQLite only =="; \
		if [ "$$CI" = "true" ]; then echo "CI requires PostgreSQL"; exit 1; fi; \
	fi

test-sqlite: $(STAMP) idp-deps
	@echo "== pytest on SQLite =="
	env -u DATABASE_URL -u TEST_DATABASE_URL $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not e2e and not postgres" $(PYTEST_ARGS)

test-pg: $(STAMP) idp-deps
	@echo "== pytest on PostgreSQL ($(TEST_DATABASE_URL)) =="
	DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/pytest -n $(PYTEST_WORKERS) -m "not e2e" $(PYTEST_ARGS)

## make e2e: real-browser tests (Playwright driving Debian's Chromium) with axe checks
e2e: $(STAMP) browser-deps system-deps idp-deps
	@echo "== browser tests (Chromium, axe) =="
	env -u DATABASE_URL $(BIN)/pytest -p no:xdist -m e2e tests/e2e $(PYTEST_ARGS)

## make test-api-schema: schemathesis against the API's OpenAPI with a larger budget (make test runs 2 examples per operation)
API_SCHEMA_EXAMPLES ?= 100
test-api-schema: $(STAMP)
	API_SCHEMA_EXAMPLES=$(API_SCHEMA_EXAMPLES) $(BIN)/pytest -n $(PYTEST_WORKERS) tests/api/test_schema.py $(PYTEST_ARGS)

## make bench: benchmarks with printed figures (never part of make test)
# BENCH_SUBSCRIPTIONS: the bill run's size (make bench BENCH_SUBSCRIPTIONS=5000 for a quick run)
BENCH_SUBSCRIPTIONS ?= 50000
bench: $(STAMP) system-deps
	$(BIN)/python -m bench.run --subscriptions $(BENCH_SUBSCRIPTIONS) $(BENCH_ARGS)

## make check: lint, format, the layers (import-linter, see pyproject.toml) and migrations up to date
check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	PYTHONPATH=src $(BIN)/lint-imports --no-cache
	PORTICO_DEMO=true $(BIN)/python manage.py makemigrations --check --dry-run

lint: check

format: $(STAMP)
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

clean:
	rm -rf $(VENV) var build *.egg-info src/*.egg-info
