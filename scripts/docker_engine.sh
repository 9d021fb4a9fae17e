#!/usr/bin/env bash
# A Docker engine for `make docker-test` (and by hand), on machines where none runs as a service.
#
#   source scripts/docker_engine.sh && engine_up     # sets DOCKER_HOST; starts dockerd if none answers
#   engine_down                                      # stops dockerd only if engine_up started it
#   bash scripts/docker_engine.sh up|down|status     # the same from a shell (prints DOCKER_HOST)
#
# The private engine runs without touching the host's network (no iptables rules, no docker0
# bridge), so containers and builds use the host network (docker-compose.hostnet.yml) and the
# classic builder (DOCKER_BUILDKIT=0: BuildKit's frontend would be pulled from a registry).
# Its state lives in its own data-root, so it never mixes with a system engine's images.
# Needs root and Debian's docker.io (scripts/install_docker_host.sh installs it).

RC_DOCKER_DATA="${RC_DOCKER_DATA:-/var/lib/readcrumbs-docker}"
RC_DOCKER_EXEC="${RC_DOCKER_EXEC:-/run/rc-docker}"
RC_DOCKER_SOCK="${RC_DOCKER_SOCK:-/run/rc-docker.sock}"
RC_DOCKER_PID="${RC_DOCKER_PID:-/run/rc-docker.pid}"
RC_DOCKER_LOG="${RC_DOCKER_LOG:-/var/log/rc-dockerd.log}"
RC_ENGINE_STARTED=0

_engine_answers() {  # true when the docker CLI reaches an engine at the current DOCKER_HOST
  timeout 10 docker info >/dev/null 2>&1
}

engine_up() {
  export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0
  if _engine_answers; then
    echo "docker_engine: using the engine at ${DOCKER_HOST:-the default socket}"
    return 0
  fi
  # A private engine left from an earlier run (not ours to stop): reuse it.
  export DOCKER_HOST="unix://$RC_DOCKER_SOCK"
  if _engine_answers; then
    echo "docker_engine: using the private engine already at $DOCKER_HOST"
    return 0
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    echo "docker_engine: no engine answers and dockerd is not installed" \
      "(run scripts/install_docker_host.sh as root)" >&2
    return 1
  fi
  mkdir -p "$RC_DOCKER_DATA" "$RC_DOCKER_EXEC" "$(dirname "$RC_DOCKER_LOG")"
  echo "docker_engine: starting dockerd at $DOCKER_HOST (data in $RC_DOCKER_DATA, log $RC_DOCKER_LOG)"
  dockerd --iptables=false --ip6tables=false --bridge=none \
    --data-root "$RC_DOCKER_DATA" --exec-root "$RC_DOCKER_EXEC" \
    --host "$DOCKER_HOST" --pidfile "$RC_DOCKER_PID" >>"$RC_DOCKER_LOG" 2>&1 &
  RC_ENGINE_STARTED=1
  for _ in $(seq 60); do
    if _engine_answers; then
      echo "docker_engine: up"
      return 0
    fi
    sleep 1
  done
  echo "docker_engine: dockerd did not answer within 60 s; the end of its log:" >&2
  tail -20 "$RC_DOCKER_LOG" >&2
  engine_down
  return 1
}

engine_down() {  # stops the engine only when this shell started it
  if [[ "$RC_ENGINE_STARTED" != 1 ]]; then
    return 0
  fi
  local pid
  pid="$(cat "$RC_DOCKER_PID" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    echo "docker_engine: stopping dockerd ($pid)"
    kill "$pid"
    for _ in $(seq 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
  fi
  RC_ENGINE_STARTED=0
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -euo pipefail
  case "${1:-status}" in
    up)
      engine_up
      # Started from a shell that exits at once: leave it running and say where it is.
      RC_ENGINE_STARTED=0
      echo "export DOCKER_HOST=$DOCKER_HOST"
      ;;
    down)
      RC_ENGINE_STARTED=1
      engine_down
      ;;
    status)
      if _engine_answers || DOCKER_HOST="unix://$RC_DOCKER_SOCK" _engine_answers; then
        echo "docker_engine: an engine answers"
      else
        echo "docker_engine: no engine answers"
        exit 1
      fi
      ;;
    *)
      echo "usage: $0 up|down|status" >&2
      exit 2
      ;;
  esac
fi
