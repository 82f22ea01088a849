# MioCommerce Payments: `make help` lists the targets.
SHELL := /bin/bash
VENV := .venv/bin
export REFLEX_TELEMETRY_ENABLED := false
export REFLEX_CHECK_LATEST_VERSION := false

.DEFAULT_GOAL := help
.PHONY: help setup run run-cluster test test-unit test-postgres lint format lock bench bench-payments bench-pay bench-scale clean

help: ## Show this help
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

setup: ## Install Python packages (.venv) and bun (.tools); quick when done before
	@./devtools/bootstrap.sh

run: setup ## Run the app with demo data on http://localhost:$${PORT:-3000} (SQLite, Stripe emulator)
	@$(VENV)/python -m devtools.stack run

run-cluster: ## Production layout on this machine: PostgreSQL, Redis, nginx on :$${PORT:-8080}, 2 app instances, 2 consumers
	@./devtools/bootstrap.sh --cluster
	@$(VENV)/python -m devtools.cluster run

test: ## Set up, lint, then run every test on SQLite (the cluster's tests need PostgreSQL and Redis)
	@./devtools/bootstrap.sh --browser --cluster
	@$(MAKE) --no-print-directory lint
	@$(VENV)/python -m pytest

test-postgres: ## The whole suite again on PostgreSQL ($$TEST_DATABASE_URL, default the local test db)
	@./devtools/bootstrap.sh --browser --cluster
	@TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
		$(VENV)/python -m pytest

lint: ## ruff check and ruff format --check
	@$(VENV)/ruff check .
	@$(VENV)/ruff format --check .

format: ## Apply ruff's formatting and safe fixes
	@$(VENV)/ruff format .
	@$(VENV)/ruff check --fix .

lock: ## Re-pin requirements.lock from pyproject.toml in a clean virtualenv
	@rm -rf .lockvenv && python3 -m venv .lockvenv && .lockvenv/bin/pip install -q ".[dev]"
	@{ echo '# Exact versions for pip; regenerate with `make lock` after changing pyproject.toml.'; \
		.lockvenv/bin/pip freeze --exclude mioapp; } > requirements.lock && rm -rf .lockvenv build *.egg-info

bench: setup ## Customer search, list and page at 100,000 and 1,000,000 customers (SQLite, then PostgreSQL), Payments on 1,000,000 payments, the pay page, then scale-out
	@$(VENV)/python -m devtools.bench
	@$(VENV)/python -m devtools.bench --database-url $${BENCH_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/mioapp_bench}
	@$(MAKE) --no-print-directory bench-payments
	@$(MAKE) --no-print-directory bench-pay
	@$(MAKE) --no-print-directory bench-scale

bench-payments: ## The Payments page's queries (p50/p95) and CSV export on 1,000,000 payments (SQLite; BENCH_DATABASE_URL for another)
	@$(VENV)/python -m devtools.bench_payments $${BENCH_DATABASE_URL:+--database-url "$$BENCH_DATABASE_URL"}

bench-pay: ## The pay page on an emulated phone (Chromium, 4x CPU, slow 4G): requests, bytes, ready time
	@./devtools/bootstrap.sh --browser
	@$(VENV)/python -m devtools.bench_pay_page

bench-scale: ## Scale-out ratios on PostgreSQL + Redis: frozen Stripe, charge vs raw Stripe, idle pages, webhooks, 2 vs 1 workers
	@./devtools/bootstrap.sh --cluster
	@$(VENV)/python -m devtools.bench_scale

clean: ## Remove local data, build output and installed tools
	rm -rf .data .web .states .venv .tools .pytest_cache .ruff_cache
