#!/usr/bin/env bash
# Build what the Docker stack needs on a machine that reaches no container registry:
#   - ws-gate-base:bookworm, a Debian base with nginx-light and python3, from Debian's packages
#     (debootstrap, then docker import), for both the Nginx and the stub images;
#   - the stub's wheels in docker/trading-stub/wheels/, since PyPI is out of reach inside containers.
# Each is skipped when already there (the wheels: unless requirements.txt changed). The Debian
# mirror is this machine's own: DEBIAN_MIRROR, else the first URIs: line of its apt sources.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=debootstrap.sh
. "$HERE/debootstrap.sh"

BASE_IMAGE=${BASE_IMAGE:-ws-gate-base:bookworm}
STUB=$HERE/trading-stub
WHEELS=$STUB/wheels
PYTHON=${PYTHON:-python3}

build_base() {
    debootstrap_image build-base "$BASE_IMAGE" nginx-light,python3,python3-pip,ca-certificates "about a minute" 0
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
