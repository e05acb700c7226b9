#!/usr/bin/env bash
# Build what the Docker stack needs on a machine that reaches no container registry:
#   - ws-gate-base:bookworm, a Debian base with nginx-light and python3, from Debian's packages
#     (debootstrap, then docker import), for both the Nginx and the stub images;
#   - the stub's wheels, since PyPI is out of reach inside containers, in STUB_WHEELS (by default the user's
#     cache, $XDG_CACHE_HOME/ws-gate/stub-wheels, as the gate has it): not beside the stub, since this folder
#     may be an installed, read-only package. The gate adds them to the stub's build context.
# Each is skipped when already there (the wheels: unless requirements.txt changed). The Debian
# mirror is this machine's own: DEBIAN_MIRROR, else the first URIs: line of its apt sources.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=debootstrap.sh
. "$HERE/debootstrap.sh"

BASE_IMAGE=${BASE_IMAGE:-ws-gate-base:bookworm}
STUB=$HERE/trading-stub
case ${XDG_CACHE_HOME:-} in
    /*) CACHE_HOME=$XDG_CACHE_HOME ;;
    *) CACHE_HOME=$HOME/.cache ;; # unset, empty or relative, which XDG says to ignore
esac
WHEELS=${STUB_WHEELS:-$CACHE_HOME/ws-gate/stub-wheels}
PYTHON=${PYTHON:-python3}

build_base() {
    debootstrap_image build-base "$BASE_IMAGE" nginx-light,python3,python3-pip,ca-certificates "about a minute" 0
}

# The copy of requirements.txt, made last, marks a complete download for exactly those requirements (checkouts of
# other versions share the cache). Only what this wrote is removed: STUB_WHEELS may name any folder.
download_wheels() {
    echo "build-base: downloading the stub's wheels into $WHEELS"
    mkdir -p "$WHEELS"
    rm -f "$WHEELS"/*.whl "$WHEELS/requirements.txt"
    "$PYTHON" -m pip download --quiet --disable-pip-version-check --only-binary=:all: --python-version 3.11 \
        -d "$WHEELS" -r "$STUB/requirements.txt"
    cp "$STUB/requirements.txt" "$WHEELS/requirements.txt"
}

docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 || build_base
cmp -s "$STUB/requirements.txt" "$WHEELS/requirements.txt" || download_wheels
