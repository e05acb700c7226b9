#!/usr/bin/env bash
# Build the gate's container image, ws-gate:<version> and ws-gate:latest, from its wheel
# ws_gate-<version>-py3-none-any.whl, on a machine that reaches no container registry:
#   - ws-gate-runtime:bookworm, a Debian base with nginx-light, chromium and python3, from Debian's packages
#     (debootstrap, then docker import; see debootstrap.sh), built once;
#   - the wheels of requirements.txt, the lock, downloaded here into a wheelhouse kept in .venv/image-build/
#     (IMAGE_CACHE), downloaded again only when requirements.txt changes, since containers reach no PyPI;
#   - image/Dockerfile, which installs both into the venv /opt/ws-gate, leaving the wheelhouse out of the image.
# Usage (from anywhere): docker/build-image.sh dist/ws_gate-<version>-py3-none-any.whl
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
# shellcheck source-path=SCRIPTDIR source=debootstrap.sh
. "$HERE/debootstrap.sh"

RUNTIME_IMAGE=${RUNTIME_IMAGE:-ws-gate-runtime:bookworm}
IMAGE=${IMAGE:-ws-gate}
CACHE=${IMAGE_CACHE:-$ROOT/.venv/image-build}
WHEELHOUSE=$CACHE/wheelhouse
# debootstrap installs no Recommends and picks no provider of a virtual package: dbus-x11 provides the session bus
# that chromium's GTK (dconf-service) depends on, and libatomic1 is needed by Playwright's own Node.js binary.
RUNTIME_PACKAGES=nginx-light,chromium,fonts-liberation,dbus-x11,libatomic1,python3,python3-venv,ca-certificates
# debootstrap takes about three minutes; this only stops a hung mirror from hanging the build.
RUNTIME_LIMIT=${RUNTIME_LIMIT:-900}
if [ -z "${PYTHON:-}" ]; then
    PYTHON=python3
    [ ! -x "$ROOT/.venv/bin/python" ] || PYTHON=$ROOT/.venv/bin/python
fi

if [ $# != 1 ]; then
    echo "usage: docker/build-image.sh dist/ws_gate-<version>-py3-none-any.whl" >&2
    exit 2
fi
WHEEL=$1
if ! [[ $(basename "$WHEEL") =~ ^ws_gate-([^-]+)-py3-none-any\.whl$ ]]; then
    echo "build-image: $WHEEL is not named ws_gate-<version>-py3-none-any.whl" >&2
    exit 2
fi
VERSION=${BASH_REMATCH[1]}
# A Docker tag takes no "+": a local version 1.0.0+g1234 is tagged 1.0.0-g1234.
TAG=${VERSION//+/-}
if [ ! -f "$WHEEL" ]; then
    echo "build-image: no wheel at $WHEEL" >&2
    exit 2
fi
if ! docker info >/dev/null 2>&1; then
    echo "build-image: no Docker engine answers (docker info failed)" >&2
    exit 2
fi

download_wheels() {
    if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
        echo "build-image: $PYTHON has no pip: set PYTHON, or run make prerequisites for .venv" >&2
        exit 2
    fi
    echo "build-image: downloading the wheels of requirements.txt into $WHEELHOUSE"
    rm -rf "$WHEELHOUSE"
    # For the runtime's Python (Debian 12's 3.11) on this machine's platform.
    "$PYTHON" -m pip download --quiet --disable-pip-version-check --only-binary=:all: --python-version 3.11 \
        -d "$WHEELHOUSE" -r "$ROOT/requirements.txt"
    # Copied last: it marks a complete download for this requirements.txt.
    cp "$ROOT/requirements.txt" "$WHEELHOUSE/requirements.txt"
}

if ! docker image inspect "$RUNTIME_IMAGE" >/dev/null 2>&1; then
    debootstrap_image build-image "$RUNTIME_IMAGE" "$RUNTIME_PACKAGES" "about three minutes" "$RUNTIME_LIMIT" \
        --change "LABEL ws-gate.image=runtime"
fi
cmp -s "$ROOT/requirements.txt" "$WHEELHOUSE/requirements.txt" || download_wheels

# The build context: the wheelhouse and this wheel alone.
rm -rf "$CACHE/dist"
mkdir -p "$CACHE/dist"
cp "$WHEEL" "$CACHE/dist/"
echo "build-image: building $IMAGE:$TAG from $(basename "$WHEEL") (log: $CACHE/build.log)"
if ! docker build --file "$HERE/image/Dockerfile" --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE" \
    --build-arg "VERSION=$VERSION" --tag "$IMAGE:$TAG" --tag "$IMAGE:latest" "$CACHE" >"$CACHE/build.log" 2>&1; then
    tail -20 "$CACHE/build.log" >&2
    echo "build-image: docker build failed (log: $CACHE/build.log)" >&2
    exit 1
fi
echo "build-image: $IMAGE:$TAG built, also tagged $IMAGE:latest"
