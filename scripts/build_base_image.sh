#!/usr/bin/env bash
# The Python base image the Dockerfiles start from (python:3.11-slim), for machines that cannot
# reach an image registry: built from Debian packages instead of pulled.
#
#   sudo bash scripts/build_base_image.sh            # no-op when the image is already there
#   BASE_IMAGE=python:3.11-slim DEBIAN_SUITE=bookworm sudo -E bash scripts/build_base_image.sh
#
# Order: the image exists locally -> done; `docker pull` works -> done; otherwise debootstrap a
# minimal Debian (python3, python3-venv, python3-pip, ca-certificates), copy this machine's CA
# certificates in (so pip in a build trusts the same TLS proxy or private index this machine does),
# and `docker import` it under BASE_IMAGE. The Dockerfiles stay standard: they only need `python`
# with venv and pip, which Debian's python3 (3.11 in bookworm, 3.13 in trixie) provides.
# Needs root, debootstrap and Debian's package mirror (DEBIAN_MIRROR).
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-python:3.11-slim}"
DEBIAN_SUITE="${DEBIAN_SUITE:-$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")}"
DEBIAN_SUITE="${DEBIAN_SUITE:-bookworm}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
HOST_CA_BUNDLE="${HOST_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
PULL_TIMEOUT_S="${PULL_TIMEOUT_S:-60}"

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "build_base_image: $BASE_IMAGE is already here"
  exit 0
fi
if timeout "$PULL_TIMEOUT_S" docker pull "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "build_base_image: pulled $BASE_IMAGE"
  exit 0
fi
echo "build_base_image: cannot pull $BASE_IMAGE; building it from Debian $DEBIAN_SUITE packages"
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "build_base_image: debootstrap is missing (run scripts/install_docker_host.sh as root)" >&2
  exit 1
fi

rootfs="$(mktemp -d /var/tmp/rc-base.XXXXXX)"
trap 'rm -rf "$rootfs"' EXIT
# python-is-python3 gives `python`, the command every Dockerfile (like the official image) uses.
debootstrap --variant=minbase \
  --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
  "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR" >/dev/null
if [[ -s "$HOST_CA_BUNDLE" ]]; then
  cp "$HOST_CA_BUNDLE" "$rootfs/etc/ssl/certs/ca-certificates.crt"
fi
# What the official slim image leaves out too: package caches, lists, docs, man pages, locales.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* \
  "$rootfs"/usr/share/locale/* "$rootfs"/var/log/*.log "$rootfs"/var/cache/debconf/*-old
find "$rootfs/usr/lib" -name __pycache__ -type d -prune -exec rm -rf {} +

version="$(chroot "$rootfs" python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
echo "build_base_image: Debian $DEBIAN_SUITE ships Python $version"
if ! chroot "$rootfs" python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "build_base_image: ReadCrumbs needs Python 3.11 or newer" >&2
  exit 1
fi

tar -C "$rootfs" -c . | docker import \
  --change 'ENV LANG=C.UTF-8' \
  --change 'CMD ["python3"]' \
  --change "LABEL org.readcrumbs.base=debootstrap-$DEBIAN_SUITE org.readcrumbs.python=$version" \
  - "$BASE_IMAGE" >/dev/null
echo "build_base_image: $BASE_IMAGE built ($(docker image inspect -f '{{.Size}}' "$BASE_IMAGE") bytes)"
