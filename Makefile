# make demo : set up .venv and run the synthetic reproduction of the paper (the main job)
# make test : set up .venv and run ruff + pytest
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.secgan-installed
DEMO_OUT ?= runs/demo
# pytest workers: the suite is mostly single-threaded (one training or subprocess at a time), so one
# worker per core roughly halves it on a 2-core machine; TEST_WORKERS=0 runs it in one process
TEST_WORKERS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: setup demo test lint browser clean

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[dev,photos,web]'
	touch $(STAMP)

setup: $(STAMP)

# Debian's Chromium for the browser test (Playwright drives /usr/bin/chromium; no browser download).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "warning: chromium could not be installed; the browser test will be skipped"; }

lint: setup
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

test: setup browser lint
	$(PY) -m pytest -q -n $(TEST_WORKERS) --durations=15

demo: setup
	$(VENV)/bin/secgan reproduce --preset demo --out $(DEMO_OUT)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache .ruff_cache
