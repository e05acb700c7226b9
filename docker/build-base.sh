#!/usr/bin/env bash
# Build what the Docker stack needs on a machine that reaches no container registry:
#   - ws-gate-base:bookworm, a Debian base with nginx-light and python3, from Debian's packages
#     (debootstrap, then docker import), for both the Nginx and the stub images;
#   - the stub's wheels in docker/trading-stub/wheels/, since PyPI is out of reach inside containers.
# Each is skipped when already there (the wheels: unless requirements.txt changed). The Debian
# mirror is this machine's own: DEBIAN_MIRROR, else the first URIs: line of its apt sources.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)

BASE_IMAGE=${BASE_IMAGE:-ws-gate-base:bookworm}
SOURCES=/etc/apt/sources.list.d/debian.sources
STUB=$HERE/trading-stub
WHEELS=$STUB/wheels
PYTHON=${PYTHON:-python3}

build_base() {
    local mirror
    mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/ { print $2; exit }' "$SOURCES" 2>/dev/null || true)}
    if [ -z "$mirror" ]; then
        echo "build-base: no Debian mirror: set DEBIAN_MIRROR or add a URIs: line to $SOURCES" >&2
        exit 2
    fi
    if ! command -v debootstrap >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "build-base: installing Debian's debootstrap"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
        else
            echo "build-base: debootstrap not found: sudo apt-get install debootstrap" >&2
            exit 2
        fi
    fi
    ROOTFS=$(mktemp -d /tmp/ws-gate-rootfs.XXXXXX)
    trap 'rm -rf "$ROOTFS" "$ROOTFS.log"' EXIT
    echo "build-base: debootstrap bookworm into $ROOTFS (about a minute)"
    debootstrap --variant=minbase --include=nginx-light,python3,python3-pip,ca-certificates \
        bookworm "$ROOTFS" "$mirror" >"$ROOTFS.log" 2>&1 || { tail -20 "$ROOTFS.log" >&2; exit 1; }
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
    tar -C "$ROOTFS" -c . | docker import - "$BASE_IMAGE" >/dev/null
    echo "build-base: $BASE_IMAGE built"
}

download_wheels() {
    echo "build-base: downloading the stub's wheels into $WHEELS"
    rm -rf "$WHEELS"
    "$PYTHON" -m pip download --quiet --disable-pip-version-check --only-binary=:all: --python-version 3.11 \
        -d "$WHEELS" -r "$STUB/requirements.txt"
    touch "$WHEELS/.downloaded"
}

docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || build_base
[ "$WHEELS/.downloaded" -nt "$STUB/requirements.txt" ] || download_wheels
