# Two commands set everything up on a fresh machine:
#   make demo   — builds the sample city, imports it, prints the inventory (embedded SQLite)
#   make test   — lint, type-check and the test suite (SQLite, and PostgreSQL when reachable)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

# The OpenStack test cloud lives outside the checkout: MariaDB runs as `mysql` and must reach its
# state dir, and one venv (~700 MB) serves every clone on the machine.
TESTCLOUD_STATE ?= /var/tmp/shangyun-testcloud
TESTCLOUD_VENV  ?= /var/tmp/shangyun-testcloud-venv

.PHONY: demo test lint typecheck pytest browser bench clean testcloud testcloud-stop lock

# Dependencies come from the lock files (every version pinned, every file hashed); the project itself
# is installed on top without resolving anything again.
$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# Re-pin after changing dependencies in pyproject.toml (pip-tools; existing pins are kept unless
# UPGRADE=--upgrade). requirements.lock (the container's) is constrained to the dev lock's versions.
LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: $(STAMP)
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile $(LOCK_FLAGS) $(UPGRADE) --extra dev -o requirements-dev.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) -c requirements-dev.lock -o requirements.lock pyproject.toml

demo: $(STAMP)
	$(BIN)/shangyun demo

lint: $(STAMP)
	$(BIN)/ruff check .
	PATH=$(abspath $(BIN)):$$PATH $(BIN)/ansible-lint --offline -q playbooks collectors/ansible

typecheck: $(STAMP)
	$(BIN)/mypy .

pytest: $(STAMP) browser
	$(BIN)/pytest -n 2 --durations=25

# The dashboard's browser tests use Debian's Chromium; installed here when missing and possible (root
# with apt-get), otherwise those tests skip with the reason.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        echo "installing Chromium for the browser tests (Debian packages)"; \
	        export DEBIAN_FRONTEND=noninteractive; \
	        pkgs="chromium chromium-driver fonts-wqy-microhei"; \
	        apt-get install -y -qq --no-install-recommends $$pkgs >/dev/null 2>&1 \
	            || { apt-get update -qq && apt-get install -y -qq --no-install-recommends $$pkgs >/dev/null; }; \
	    else echo "no Chromium and no way to install it: the browser tests will skip"; fi; \
	fi

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/python -m bench.import_bench
	$(BIN)/python -m bench.planner_bench
	$(BIN)/python -m bench.rebalance_bench

testcloud:
	OSTC_STATE_DIR=$(TESTCLOUD_STATE) OSTC_VENV=$(TESTCLOUD_VENV) bash testcloud/start.sh >/dev/null
	@echo "test cloud up: $(TESTCLOUD_STATE)/clouds.yaml, cloud 'testcloud'; stop with 'make testcloud-stop'"

testcloud-stop:
	OSTC_STATE_DIR=$(TESTCLOUD_STATE) bash testcloud/stop.sh

clean:
	rm -rf $(VENV) shangyun.db shangyun.db-wal shangyun.db-shm demo-estate .mypy_cache .ruff_cache .pytest_cache
