# ReadCrumbs front door. Every target installs what it needs into .venv, idempotently.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
EXTRAS := aws,experiments,backend,frontend,monitoring,dev
PORT ?= 8000
FRONTEND_PORT ?= 8501
MONITORING_PORT ?= 8502
SHOT_PORT ?= 8799

.PHONY: install install-spark test lint format train train-spark tune leaderboard serve frontend monitoring screenshots simulate retrain run aws-bootstrap docker-lint bench bench-train bench-api bench-model bench-dashboard bench-load bench-titles bench-blend clean help

help:  ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-installs only when the project's requirements or its C kernels change (the editable install
# compiles readcrumbs/_item_weights.c and _factors.c next to their sources).
KERNELS := readcrumbs/_item_weights.c readcrumbs/_factors.c readcrumbs/_kernel.h
$(STAMP): pyproject.toml constraints.txt $(KERNELS) | $(PY)
	$(PIP) install --quiet --upgrade pip setuptools wheel
	$(PIP) install --quiet -c constraints.txt -e ".[$(EXTRAS)]"
	touch $(STAMP)

SPARK_STAMP := $(VENV)/.installed-spark
# pyspark (~500 MB) only for Spark training, its tests and the engine bench; never in serving images.
$(SPARK_STAMP): $(STAMP)
	$(PIP) install --quiet -c constraints.txt -e ".[$(EXTRAS),spark]"
	touch $(SPARK_STAMP)

install: $(STAMP)  ## Install the project and its tools into .venv

install-spark: $(SPARK_STAMP)  ## Install pyspark for the Spark training engine (needs Java 17+)

test: $(SPARK_STAMP)  ## Run the test suite (Spark tests included)
	$(PY) -m pytest

lint: $(STAMP)  ## ruff, mypy, Docker checks, secret scan, dependency audit
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy readcrumbs backend experiments frontend monitoring scripts bench
	bash scripts/lint_docker.sh
	$(PY) -m scripts.secret_scan
	$(PY) -m scripts.dependency_audit

format: $(STAMP)  ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

train: $(STAMP)  ## data -> train -> evaluate -> register -> promote
	$(PY) -m experiments.pipeline

tune: $(STAMP)  ## Grid-search hyper-parameters on a validation split
	$(PY) -m experiments.tune

leaderboard: $(STAMP)  ## Measure every [leaderboard.*] variant (validation + held-out) into experiments/README.md
	$(PY) -m experiments.leaderboard

serve: $(STAMP)  ## Run the backend on $$PORT
	$(PY) -m backend --port $(PORT)

run: $(STAMP)  ## Train a model if there is none, then serve API :8000, readers' app :8501, dashboard :8502
	$(PY) -m scripts.run

SIMULATE_ARGS ?=
retrain: $(STAMP)  ## Retrain from feedback: data + feedback -> train -> evaluate -> register -> challenger
	$(PY) -m experiments.retrain

simulate: $(STAMP)  ## Simulated held-out readers through the API at READCRUMBS_API_URL (start `make run` first); prints the ground truth
	$(PY) -m experiments.simulate $(SIMULATE_ARGS)

aws-bootstrap: $(STAMP)  ## Create the S3 bucket + DynamoDB tables named by the registry/events URLs
	$(PY) -m scripts.aws_bootstrap

docker-lint: $(STAMP)  ## hadolint + compose config (no Docker engine needed)
	bash scripts/lint_docker.sh

# Builds every image and runs both compose stacks on a Docker engine: the one that answers, else a
# private dockerd it starts and stops (needs root and scripts/install_docker_host.sh's packages).
.PHONY: docker-test
docker-test: $(STAMP)  ## Build every image, run the local and aws compose stacks, smoke-test them
	PY=$(PY) bash scripts/docker_test.sh

frontend: $(STAMP)  ## Run the readers' app on $$FRONTEND_PORT (backend at READCRUMBS_API_URL)
	$(PY) -m streamlit run frontend/app.py --server.port $(FRONTEND_PORT) --server.address 127.0.0.1 \
	  --server.headless true --browser.gatherUsageStats false

screenshots: $(STAMP)  ## PNGs of the readers' app (favourites, genre start, after a 👎) -> docs/screenshots/
	$(PY) -m backend --host 127.0.0.1 --port $(SHOT_PORT) & backend=$$!; \
	shot="$(PY) -m frontend.screenshot --api-url http://127.0.0.1:$(SHOT_PORT) --wait-s 120"; \
	$$shot --out docs/screenshots/readers-app.png \
	  && $$shot --books "" --search "" --genres fantasy --out docs/screenshots/readers-app-genres.png \
	  && $$shot --books "" --search "" --genres fantasy --dislike 0 --out docs/screenshots/readers-app-after-a-vote.png; \
	status=$$?; kill $$backend; wait $$backend; exit $$status

monitoring: $(STAMP)  ## Run the operators' dashboard on $$MONITORING_PORT
	$(PY) -m streamlit run monitoring/app.py --server.port $(MONITORING_PORT) --server.address 127.0.0.1 \
	  --server.headless true --browser.gatherUsageStats false

bench: bench-train bench-api bench-model bench-blend bench-dashboard bench-load bench-titles  ## Every benchmark

train-spark: $(SPARK_STAMP)  ## ALS on Spark MLlib (READCRUMBS_SPARK_MASTER, default local[*]) -> evaluate -> register
	$(PY) -m experiments.spark_als

bench-train: $(SPARK_STAMP)  ## Wall time and peak memory of each training stage; implicit vs Spark ALS
	$(PY) -m bench.train
	# Both engines at the same, smaller size: Spark ALS at the production 512 factors takes tens of
	# minutes on 2 cores, which says nothing more about the comparison.
	$(PY) -m bench.train_spark --factors 64 --iterations 10

bench-api: $(STAMP)  ## /predict (1 and 2 workers) judged against a canned endpoint (wrk when installed): req/s, p50/p99, cold start, RSS, fav3 via API; fails if an answer went unlogged; the cost of READCRUMBS_EVENT_DURABLE
	$(PY) -m bench.api
	$(PY) -m bench.durability

bench-model: $(STAMP)  ## The in-process model path (3 favourites, k = 10, reasons) per registered model type: median and p99
	$(PY) -m bench.model_path

BENCH_LOAD_ARGS ?=
bench-load: $(STAMP)  ## 5 min at 80% of max throughput with feedback: req/s, p50/p99, errors, records written vs answered; then the normal mix beside a hostile one
	$(PY) -m bench.load $(BENCH_LOAD_ARGS)
	$(PY) -m bench.hostile

bench-blend: $(STAMP)  ## score_reader per registered version and per blend part (median, p99) against the 0.3 ms blend budget
	$(PY) -m bench.blend_path

BENCH_TITLES_ARGS ?=
bench-titles: $(STAMP)  ## Title resolution on a seeded labelled set: right/wrong/unknown and latency per form
	$(PY) -m bench.titles $(BENCH_TITLES_ARGS)

bench-dashboard: $(STAMP)  ## Dashboard load + compute time over 1,000,000 predictions
	$(PY) -m bench.dashboard

clean:  ## Remove local state, caches and the virtualenv
	rm -rf var $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis wandb build readcrumbs/*.so
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
