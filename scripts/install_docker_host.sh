#!/usr/bin/env bash
# What `make docker-test` needs on a Debian or Ubuntu host, from the distribution's packages:
# the Docker engine (docker.io: dockerd, containerd, runc and a CLI), debootstrap (for the base
# image when no registry is reachable: scripts/build_base_image.sh), Chromium (screenshots) and a
# colour emoji font, without which Chromium draws the apps' emoji (📚, 👍, 👎) as empty boxes.
# Run as root; installs only what is missing, so running it again is quick.
set -euo pipefail

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
dpkg -s fonts-noto-color-emoji >/dev/null 2>&1 || missing+=(fonts-noto-color-emoji)
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install_docker_host: dockerd, debootstrap, chromium and an emoji font are installed"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install_docker_host: needs root to install ${missing[*]}" >&2
  exit 1
fi
echo "install_docker_host: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
