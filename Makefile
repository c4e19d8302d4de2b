# Developer and CI entry points. GNU make; recipes run with /bin/sh.
# The venv is created on first use from the pinned lock (requirements/dev.txt) and refreshed when the
# lock or pyproject.toml changes (stamp file .venv/.installed).

SHELL := /bin/sh
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAM := $(BIN)/sam
CONFIG_ENV ?= default
# checkov has a venv of its own: its pins (boto3/botocore 1.35, packaging 23) conflict with aws-sam-cli's.
CHECKOV_VENV := $(VENV)/checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# mutmut has a venv of its own too: it needs click>=8.4.2 (aws-sam-cli pins 8.1), and the tests there must import
# the mutated copy of the domain package, not the editable install of the dev venv.
MUTATION_VENV := $(VENV)/mutation
MUTATION_STAMP := $(MUTATION_VENV)/.installed
# make flaky: how many whole-suite runs in random order.
RUNS ?= 20
# make pytest and make flaky spread the suite over a worker process per logical CPU (pytest-xdist), a test file
# per worker at a time (its module fixtures are set up once); WORKERS=0 runs it all in one process.
WORKERS ?= logical
PYTEST_WORKERS := -n $(WORKERS) --dist loadfile

# SAM CLI: no telemetry, and a region so validate/lint work offline. (SAM still does a weekly,
# 5-second, failure-tolerant PyPI version check after build/validate; there is no switch for it.)
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1
# layers/dependencies/Makefile installs the Lambda wheels with this pip (sam build runs make in a
# scratch directory, hence the absolute path).
export PIP := $(CURDIR)/$(BIN)/python -m pip
export PIP_DISABLE_PIP_VERSION_CHECK := 1

# The web app (web/): npm installs the pinned lock (web/package-lock.json), esbuild bundles it into web/dist.
WEB_STAMP := web/node_modules/.package-lock.json
WEB_DIST := web/dist/index.html
WEB_SOURCES := $(wildcard web/src/* web/public/*) web/build.mjs web/package.json
# The browser tests (tests/e2e) drive Debian's chromium through Playwright (never a downloaded browser).
CHROMIUM ?= $(firstword $(wildcard /usr/lib/chromium/chromium) $(shell command -v chromium chromium-browser 2>/dev/null))
export CHROMIUM

# The venv is made with $(PYTHON): refuse an older one here, in one line, rather than fail later in pip or a test.
ifeq ($(wildcard $(BIN)/python),)
PYTHON_CHECK := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2], sys.version_info >= (3, 11))' 2>/dev/null)
ifeq ($(PYTHON_CHECK),)
$(error $(PYTHON) not found: install Python 3.11 or newer (apt-get install python3), or name one with make PYTHON=/path/to/python3.12)
endif
ifneq ($(word 2,$(PYTHON_CHECK)),True)
$(error $(PYTHON) is Python $(word 1,$(PYTHON_CHECK)), and 3.11 or newer is needed: install one (apt-get install python3.12) and name it with make PYTHON=python3.12)
endif
endif

.PHONY: help venv run reset test lint pytest typecheck validate security build web browser format bench mutation flaky deploy openapi events clean distclean

help:
	@echo "make run        the API and web app on http://127.0.0.1:$${PORT:-3000}/ with a demo clinic; data kept in .local/ (FRESH=1: the demo seed again)"
	@echo "make reset      forget the data make run kept in .local/ (the next run starts from the demo seed)"
	@echo "make test       lint, typecheck, pytest, validate, security, build: what CI runs"
	@echo "make lint       ruff check and ruff format --check"
	@echo "make format     ruff format, then ruff check --fix"
	@echo "make typecheck  mypy on the domain package (layers/clinic/clinic)"
	@echo "make pytest     the whole pytest suite (unit, HTTP against the local API, browser), a worker per CPU"
	@echo "make validate   sam validate --lint and cfn-lint on template.yaml"
	@echo "make security   cfn-lint serverless rules and checkov on template.yaml"
	@echo "make build      sam build (and the web app into web/dist)"
	@echo "make web        build the web app into web/dist only"
	@echo "make browser    check that Chromium is there for the browser tests"
	@echo "make bench      benchmarks (bench/run.py; never part of test)"
	@echo "make openapi    regenerate docs/openapi.json from the models and template"
	@echo "make events     regenerate events/, a sample event for every function (sam local invoke -e)"
	@echo "make mutation   mutation score of the domain's decision modules (bench/mutation.md; not part of test)"
	@echo "make flaky      the whole pytest suite RUNS=20 times in random order, stopping at the first failure"
	@echo "make deploy     sam build && sam deploy, then upload web/dist (CONFIG_ENV=prod for production)"
	@echo "make venv       create .venv from the pinned lock (every target does it on first use)"
	@echo "make clean      remove build output and caches"
	@echo "make distclean  clean, and remove .venv and web/node_modules"
	@echo "make help       this list"

venv: $(STAMP)

$(STAMP): requirements/dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# FRESH=1 (from the command line, exported by make) starts from the demo seed instead of the kept data.
run: $(STAMP) $(WEB_DIST)
	$(BIN)/python -m local.server

reset: $(STAMP)
	$(BIN)/python -m local.server reset

# web/dist: rebuilt when a source or the lock changes (make run, make build and make pytest need it).
web: $(WEB_DIST)

$(WEB_DIST): $(WEB_STAMP) $(WEB_SOURCES)
	cd web && node build.mjs

$(WEB_STAMP): web/package-lock.json web/package.json
	@command -v npm >/dev/null || { echo "web/ needs Node.js 18+ and npm: apt-get install -y nodejs npm" >&2; exit 1; }
	cd web && npm ci --no-audit --no-fund
	touch $@

browser:
	@test -n "$(CHROMIUM)" || { echo "tests/e2e need Chromium: apt-get install -y chromium (Debian/Ubuntu; .ci/run does it), or CHROMIUM=/path/to/chrome make test" >&2; exit 1; }

# Each step is its own recipe line, so the first failure stops make with a non-zero status.
test: $(STAMP)
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory pytest
	$(MAKE) --no-print-directory validate
	$(MAKE) --no-print-directory security
	$(MAKE) --no-print-directory build

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

pytest: $(STAMP) $(WEB_STAMP) browser
	$(BIN)/pytest $(PYTEST_WORKERS)

typecheck: $(STAMP)
	$(BIN)/mypy layers/clinic/clinic

validate: $(STAMP)
	$(SAM) validate --lint --region $(AWS_DEFAULT_REGION)
	$(BIN)/cfn-lint template.yaml

# cfn-lint with the serverless rules, and checkov; suppressions are justified in template.yaml (resource
# Metadata) or, for checks skipped for every function alike, in .checkov.yaml.
security: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/cfn-lint template.yaml --append-rules cfn_lint_serverless.rules
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --config-file .checkov.yaml

$(CHECKOV_STAMP): requirements/checkov.txt $(STAMP)
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements/checkov.txt
	touch $@

build: $(STAMP) $(WEB_DIST)
	$(SAM) build

# Mutation testing (mutmut) of the decision modules against the fast unit tests: bench/mutation.py.
mutation: $(STAMP) $(MUTATION_STAMP)
	$(MUTATION_VENV)/bin/python bench/mutation.py

$(MUTATION_STAMP): requirements/mutation.txt
	test -x $(MUTATION_VENV)/bin/python || $(PYTHON) -m venv $(MUTATION_VENV)
	$(MUTATION_VENV)/bin/python -m pip install --quiet --require-hashes -r requirements/mutation.txt
	touch $@

# The whole suite RUNS times, each in a new random order (pytest-randomly, off in `make pytest`); stops at the
# first failing run and prints the seed that replays its order.
flaky: $(STAMP) $(WEB_STAMP) browser
	@i=1; while [ $$i -le $(RUNS) ]; do \
		seed=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' '); \
		echo "== run $$i of $(RUNS): $(BIN)/pytest $(PYTEST_WORKERS) -p randomly --randomly-seed=$$seed"; \
		$(BIN)/pytest $(PYTEST_WORKERS) -p randomly --randomly-seed=$$seed || { \
			echo "run $$i of $(RUNS) failed; replay it with: $(BIN)/pytest $(PYTEST_WORKERS) -p randomly --randomly-seed=$$seed" >&2; exit 1; }; \
		i=$$((i + 1)); \
	done; echo "$(RUNS) runs in random order passed"

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP) $(WEB_STAMP) browser
	@command -v valgrind >/dev/null || { echo "make bench counts instructions with valgrind: apt-get install -y valgrind"; exit 1; }
	$(BIN)/python bench/run.py
	$(BIN)/python -m bench.local_data

# The stack first (its outputs name the bucket), then the app's files into the bucket.
deploy: $(STAMP) $(WEB_DIST)
	$(SAM) build
	$(SAM) deploy --config-env $(CONFIG_ENV)
	$(BIN)/python -m local.publish_web --config-env $(CONFIG_ENV)

openapi: $(STAMP)
	$(BIN)/python -m tools.openapi

# events/: a sample event for every function (sam local invoke <Function> -e events/<Function>.json).
events: $(STAMP)
	$(BIN)/python -m tools.sample_events

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache .mypy_cache .hypothesis web/dist build/mutation
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(VENV) web/node_modules
