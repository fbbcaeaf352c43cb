# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-slow test-all test-install lint format bench demo serve browser redis clean

# (Re)install when .venv is missing or older than pyproject.toml.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## install newswatch and its dependencies into .venv

run: $(STAMP) ## start the daemon on the default config and the embedded SQLite archive
	@$(BIN)/newswatch run

# The suite runs in parallel (pytest-xdist) in two tiers. `make test` is the quick tier: every
# test not marked `slow`, mostly in-process and CPU-bound, so one worker per core (2 here); it
# includes two real cluster workers on a real redis-server (tests/cluster/test_cluster.py).
# `make test-slow` is the rest: tests that launch real newswatch processes, daemons, crawls, the
# cluster's redis and workers, the browser; they mostly wait on I/O, so more workers than cores
# help. A test that launches `newswatch` (the run_newswatch fixture) is marked slow by
# tests/conftest.py; others carry @pytest.mark.slow. CI runs both tiers and the install test
# (`make test-all`). loadgroup keeps an xdist_group (a module whose fixture crawls) on one worker.
TEST_WORKERS ?= 2
SLOW_WORKERS ?= 4

test: $(STAMP) redis ## lint and run the quick tests (everything not marked slow)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup -m "not slow and not install" $(PYTEST_ARGS)

test-slow: $(STAMP) browser redis ## run the slow tests: real processes, daemons, the cluster, the browser
	$(BIN)/pytest -n $(SLOW_WORKERS) --dist loadgroup -m "slow and not install" $(PYTEST_ARGS)

test-all: test test-slow test-install ## every test: what CI runs

test-install: $(STAMP) ## build the wheel, pip install it into a fresh venv, run the demo from it
	$(BIN)/pytest tests/install

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## run every benchmark and write bench/RESULTS.md
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

demo: $(STAMP) ## one offline cycle against a bundled sample site
	@$(BIN)/newswatch demo

serve: $(STAMP) ## browse the archive in Datasette (ARCHIVE=PATH: another one, e.g. a demo's --keep DIR)
	@$(BIN)/newswatch serve $(if $(ARCHIVE),--archive $(ARCHIVE)) $(SERVE_ARGS)

# The browser test (tests/serve/test_browser.py) drives the Debian package's headless Chromium
# through Playwright; Playwright's own browser download is never used.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser: ## install Chromium (Debian package) for the browser test when it is missing
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The cluster tests (tests/cluster/) start a real redis-server of their own (Debian package).
redis: ## install redis-server (Debian package) for the cluster tests when it is missing
	@command -v redis-server >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
