# ReadCrumbs front door. Every target installs what it needs into .venv, idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
EXTRAS := aws,experiments,backend,frontend,monitoring,dev
PORT ?= 8000

.PHONY: install install-spark test lint format train tune serve frontend monitoring run bench bench-train bench-api clean help

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-installs only when the project's requirements change.
$(STAMP): pyproject.toml constraints.txt | $(PY)
	$(PIP) install --quiet --upgrade pip setuptools wheel
	$(PIP) install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

install: $(STAMP)  ## Install the project and its tools into .venv

test: $(STAMP)  ## Run the test suite
	$(PY) -m pytest

lint: $(STAMP)  ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy readcrumbs backend experiments frontend monitoring

format: $(STAMP)  ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

train: $(STAMP)  ## data -> train -> evaluate -> register -> promote
	$(PY) -m experiments.pipeline

tune: $(STAMP)  ## Grid-search hyper-parameters on a validation split
	$(PY) -m experiments.tune

serve: $(STAMP)  ## Run the backend on $$PORT
	$(PY) -m backend --port $(PORT)

bench: bench-train  ## Every benchmark

bench-train: $(STAMP)  ## Wall time and peak memory of each training stage
	$(PY) -m bench.train

clean:  ## Remove local state, caches and the virtualenv
	rm -rf var $(VENV) .pytest_cache .mypy_cache .ruff_cache wandb
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
