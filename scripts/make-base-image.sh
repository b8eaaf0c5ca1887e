#!/usr/bin/env bash
# Creates the Docker base image (default debian:bookworm-slim) from Debian packages, for machines
# where no image registry is reachable. On a machine with a registry this script is not needed:
# `docker build` pulls the real base image.
#
# Usage: scripts/make-base-image.sh [TAG]
# Needs root (debootstrap) and Debian's package mirror. Takes about 30-60 s.
set -euo pipefail

tag="${1:-debian:bookworm-slim}"
suite="${SUITE:-bookworm}"

if docker image inspect "$tag" >/dev/null 2>&1; then
  echo "base image $tag already exists"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "make-base-image: debootstrap needs root; run: sudo $0 $tag" >&2
  exit 1
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "make-base-image: installing debootstrap from Debian packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

dir=$(mktemp -d /tmp/locktest-base.XXXXXX)
trap 'rm -rf "$dir"' EXIT

mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  # Reuse the mirror this machine's apt already uses, so the script works behind the same proxy.
  mirror=$(grep -hoE '^(deb|URIs:) +\S*(https?://[^ ]+)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
    | grep -oE 'https?://[^ ]+' | grep -v security | head -n1 || true)
fi
mirror="${mirror:-http://deb.debian.org/debian}"

echo "make-base-image: debootstrap $suite from $mirror (minbase)"
debootstrap --variant=minbase "$suite" "$dir" "$mirror" >"$dir.log" 2>&1 || {
  echo "make-base-image: debootstrap failed; last lines of its log:" >&2
  tail -n 20 "$dir.log" >&2
  rm -f "$dir.log"
  exit 1
}
rm -f "$dir.log"
# Keep the image small and its apt usable inside builds.
rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
tar -C "$dir" -c . | docker import - "$tag" >/dev/null
echo "make-base-image: created $tag"
