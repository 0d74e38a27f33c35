# Helpline: `make run` brings the product up on the embedded default; `make test` runs every test from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install system-packages unit chaos fuzz bench lowest clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# `make run` needs only the runtime dependencies (the wheel's own); the test extras come with `make test`.
RUN_STAMP := $(VENV)/.installed-run
$(RUN_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/helpline migrate
	$(BIN)/helpline up

# Debian's packages the tests run for real: Chromium (browser tests; Playwright's own download does not work here),
# HAProxy (the load balancer in front of two gateways, tests/deploy/) and Redis Sentinel.
SYSTEM_PACKAGES := chromium haproxy redis-sentinel
system-packages:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/sbin/haproxy ] || [ ! -x /usr/bin/redis-sentinel ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q $(SYSTEM_PACKAGES) >/dev/null) || echo "$(SYSTEM_PACKAGES) could not be installed"; \
	  else echo "$(SYSTEM_PACKAGES): some missing and apt-get not usable: their tests will skip (fail under CI=true)"; fi; \
	fi

# The dependency rule (import-linter contracts in pyproject.toml), lint and types (config in pyproject.toml).
lint: install
	@! git grep -nE '^(<<<<<<<|>>>>>>>)( |$$)' -- . ':!*.venv*' || (echo "merge conflict markers left in the files above"; exit 1)
	$(BIN)/lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: install system-packages lint
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

unit: install
	$(BIN)/python -m pytest -q tests/unit

chaos: install
	HELPLINE_CHAOS=full $(BIN)/python -m pytest -q tests/chaos tests/scaleout/test_redis_cluster.py

fuzz: install
	HELPLINE_FUZZ=full $(BIN)/python -m pytest -q tests/fuzz tests/integrations/test_schemathesis.py

# The suite's core with every runtime dependency at its declared lower bound (pyproject.toml), in its own venv:
# the bounds are versions the code was seen to work with (tests/deploy/lower_bounds.py writes the constraints).
LOWEST := .venv-lowest
lowest: install
	test -x $(LOWEST)/bin/python || $(PYTHON) -m venv $(LOWEST)
	$(BIN)/python -m tests.deploy.lower_bounds > $(LOWEST)/constraints.txt
	$(LOWEST)/bin/pip install -q -c $(LOWEST)/constraints.txt -e '.[test]'
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider tests/unit tests/integration tests/help tests/bus $(PYTEST_ARGS)

# The benchmark has its own environment (the peers are not the project's dependencies); not part of `make test`.
BENCH_BIN := bench/.venv/bin
$(BENCH_BIN)/.installed: bench/requirements.txt
	$(PYTHON) -m venv bench/.venv
	$(BENCH_BIN)/pip install -q -r bench/requirements.txt
	touch $@

bench: install $(BENCH_BIN)/.installed
	$(BENCH_BIN)/python -m bench $(if $(QUICK),--quick,) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(LOWEST) helpline.db status.db test-output
