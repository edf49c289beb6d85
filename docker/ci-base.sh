#!/usr/bin/env bash
# Bootstraps the CI stand-in for the Dockerfile's Python base image from Debian's own packages, where no
# registry image can be pulled: `debootstrap --variant=minbase` of the release plus Debian's python3.11,
# imported with `podman import`, then a thin layer that puts a venv's python and pip first on PATH, as
# python:3.11-slim has them in /usr/local/bin. Prints the image name on stdout.
# The rootfs tarball is cached under $PIYASA_CI_CACHE (CI runs on this machine), keyed by release and
# package list; delete the file to refresh it.
set -euo pipefail

RELEASE="${PIYASA_CI_RELEASE:-bookworm}"
MIRROR="${PIYASA_CI_MIRROR:-http://deb.debian.org/debian}"
CACHE="${PIYASA_CI_CACHE:-/var/cache/piyasa-ci}"
# python3-distutils provides python3.11-distutils, which python3.11-venv needs; debootstrap does not resolve virtual packages.
PACKAGES="python3.11,python3.11-venv,python3-distutils,ca-certificates"
KEY="$(printf '%s %s' "$RELEASE" "$PACKAGES" | sha256sum | cut -c1-12)"
TARBALL="${CACHE}/debian-${RELEASE}-minbase-${KEY}.tar"
ROOTFS_IMAGE="localhost/piyasa-ci-debian:${RELEASE}-${KEY}"
PYTHON_IMAGE="localhost/piyasa-ci-python:3.11-${RELEASE}-${KEY}"

log() { echo "ci-base: $*" >&2; }

mkdir -p "$CACHE"
if [ ! -s "$TARBALL" ]; then
    work="$(mktemp -d "${CACHE}/rootfs.XXXXXX")"
    trap 'rm -rf "$work"' EXIT
    log "debootstrap --variant=minbase $RELEASE (+ $PACKAGES) from $MIRROR"
    started=$(date +%s)
    # The .deb files are kept too, so a refresh downloads only what changed.
    mkdir -p "$CACHE/debs"
    debootstrap --variant=minbase --cache-dir="$CACHE/debs" --include="$PACKAGES" "$RELEASE" "$work/root" "$MIRROR" \
        >"$work/log" 2>&1 || {
        tail -20 "$work/log" >&2
        tail -40 "$work/root/debootstrap/debootstrap.log" >&2 2>/dev/null || true
        exit 1
    }
    # Package caches and lists are not part of a base image.
    rm -rf "$work/root/var/cache/apt/archives/"*.deb "$work/root/var/lib/apt/lists/"*
    tar -C "$work/root" --numeric-owner -cf "$TARBALL.part" .
    mv "$TARBALL.part" "$TARBALL"
    log "rootfs cached: $TARBALL ($(du -h "$TARBALL" | cut -f1), $(($(date +%s) - started))s)"
else
    log "rootfs from cache: $TARBALL"
fi

if ! podman image exists "$ROOTFS_IMAGE"; then
    podman import --change 'CMD ["/bin/bash"]' "$TARBALL" "$ROOTFS_IMAGE" >/dev/null
fi
if ! podman image exists "$PYTHON_IMAGE"; then
    context="$(mktemp -d)"
    cat >"$context/Containerfile" <<CONTAINERFILE
FROM ${ROOTFS_IMAGE}
# The python:3.11-slim layout the Dockerfile expects: python and pip on PATH, installs go to a prefix
# outside Debian's own /usr/lib/python3 (PEP 668 keeps pip out of that).
RUN python3.11 -m venv /usr/local/python && /usr/local/python/bin/python -m pip --version
ENV PATH=/usr/local/python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8
CMD ["python3"]
CONTAINERFILE
    podman build --quiet --format docker --network host -t "$PYTHON_IMAGE" "$context" >/dev/null
    rm -rf "$context"
fi
echo "$PYTHON_IMAGE"
