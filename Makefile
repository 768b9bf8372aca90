# Servicebook: the two commands are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgres://postgres@127.0.0.1:5432
PG_DB := servicebook_ci_$(shell date +%s)_$$$$
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest-xdist processes for the suites (auto: one per CPU; 0: none)
WORKERS ?= auto

.PHONY: run test lint test-sqlite test-postgres test-browser bench clean chromium nginx

# uv installs the same pins as pip in a third of the time; pip takes over if uv cannot run here.
INSTALL = $(BIN)/python -m uv pip install --quiet --python $(BIN)/python
PIP = $(BIN)/python -m pip install --quiet

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(PIP) uv || true
	@$(INSTALL) -e . || $(PIP) -e .
	@touch $@

$(VENV)/.dev-installed: pyproject.toml $(VENV)/.installed
	@$(INSTALL) -e ".[dev]" || $(PIP) -e ".[dev]"
	@touch $@

var/secret_key:
	@mkdir -p var
	@$(BIN)/python -c "import secrets; print(secrets.token_urlsafe(50))" > $@

## make run: install, migrate, load the demo provider, print the logins, serve on :8000 with one
## background worker beside the web server (imports and closes started from the pages); Ctrl-C
## stops both
run: $(VENV)/.installed var/secret_key
	@SECRET_KEY="$$(cat var/secret_key)" $(BIN)/servicebook demo
	@echo "Open http://$(HOST):$(PORT)/ and sign in with one of the logins above (Ctrl-C stops)."
	@export SECRET_KEY="$$(cat var/secret_key)"; \
	export SERVICEBOOK_BASE_URL="$${SERVICEBOOK_BASE_URL:-http://$(HOST):$(PORT)}"; \
	$(BIN)/servicebook worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null; exit 0' INT TERM EXIT; \
	$(BIN)/servicebook serve --host $(HOST) --port $(PORT)

## make test: every check: lint, migrations, the suite on SQLite and PostgreSQL, the browser tests
## (the SQLite suite and the browser tests share one demo database, built once: tests/demo_db.py)
test: $(VENV)/.dev-installed
	@$(MAKE) --no-print-directory lint
	@snapshots=$$(mktemp -d); trap 'rm -rf "$$snapshots"' EXIT; \
	export SERVICEBOOK_TEST_SNAPSHOTS="$$snapshots"; \
	$(MAKE) --no-print-directory test-sqlite && \
	$(MAKE) --no-print-directory test-postgres && \
	$(MAKE) --no-print-directory test-browser
	@echo "make test: all checks passed (SQLite, PostgreSQL, browser)."

lint: $(VENV)/.dev-installed
	@echo "== ruff"
	@$(BIN)/ruff check src tests benchmarks
	@$(BIN)/ruff format --check src tests benchmarks
	@echo "== import-linter (the layers and ports of docs/architecture.md)"
	@$(BIN)/lint-imports --no-cache
	@echo "== mypy (core, policy, ports, kernels)"
	@DEBUG=1 $(BIN)/mypy
	@echo "== makemigrations --check"
	@DEBUG=1 SERVICEBOOK_VAR_DIR=$$(mktemp -d) $(BIN)/servicebook manage makemigrations --check --dry-run

test-sqlite: $(VENV)/.dev-installed
	@echo "== test suite on SQLite ($(WORKERS) pytest-xdist workers)"
	@DEBUG=1 $(BIN)/pytest -q -m "not browser" -p no:cacheprovider -n $(WORKERS)

# The tests that use no database ran on SQLite: here only those that do (--database-tests-only).
test-postgres: $(VENV)/.dev-installed nginx
	@echo "== test suite on PostgreSQL ($(PG_URL)): the tests that use the database"
	@DEBUG=1 DATABASE_URL="$(PG_URL)/$(PG_DB)" $(BIN)/pytest -q -m "not browser" -p no:cacheprovider \
	  --create-db --database-tests-only -n $(WORKERS)

test-browser: $(VENV)/.dev-installed chromium
	@echo "== browser tests (Playwright + Chromium)"
	@DEBUG=1 $(BIN)/pytest -q -m browser -p no:cacheprovider tests/browser

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium package (once)"; \
	  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
	  || { echo "make test: cannot install chromium (needs root and Debian's apt)"; exit 1; }; }

# nginx: the reverse proxy of the two-web-process test (tests/test_serve.py, docs/operations.md)
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
	  echo "installing Debian's nginx-light package (once)"; \
	  (apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null) \
	  || { echo "make test: cannot install nginx (needs root and Debian's apt)"; exit 1; }; }

## make bench: the benchmark scripts, each printing one JSON object
bench: $(VENV)/.installed
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python $$script; done

clean:
	rm -rf $(VENV) var build dist src/*.egg-info .pytest_cache .ruff_cache tests/browser/screenshots
