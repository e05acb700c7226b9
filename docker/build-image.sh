#!/usr/bin/env bash
# Build the gate's container image, ws-gate:<version> and ws-gate:latest, from its wheel
# ws_gate-<version>-py3-none-any.whl, on a machine that reaches no container registry:
#   - ws-gate-runtime:bookworm, a Debian base with nginx-light, chromium, tini and python3, from Debian's packages
#     (debootstrap, then docker import; see debootstrap.sh), labelled with RUNTIME_PACKAGES and built again only
#     when they change;
#   - the wheels of requirements.txt, the lock, from the wheelhouse `make wheelhouse` downloads into .venv/wheelhouse/
#     (WHEELHOUSE), since containers reach no PyPI;
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
WHEELHOUSE=${WHEELHOUSE:-$ROOT/.venv/wheelhouse}
# debootstrap installs no Recommends and picks no provider of a virtual package: dbus-x11 provides the session bus
# that chromium's GTK (dconf-service) depends on, and libatomic1 is needed by Playwright's own Node.js binary.
# tini is the image's PID 1 (image/Dockerfile says why).
RUNTIME_PACKAGES=nginx-light,chromium,fonts-liberation,dbus-x11,libatomic1,tini,python3,python3-venv,ca-certificates
# debootstrap takes about three minutes; this only stops a hung mirror from hanging the build.
RUNTIME_LIMIT=${RUNTIME_LIMIT:-900}
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

# The wheelhouse holds a copy of the requirements.txt it was downloaded for, which the Dockerfile installs.
if ! cmp -s "$ROOT/requirements.txt" "$WHEELHOUSE/requirements.txt"; then
    echo "build-image: no wheelhouse for requirements.txt in $WHEELHOUSE: make wheelhouse downloads it" >&2
    exit 2
fi

build_runtime() {
    debootstrap_image build-image "$RUNTIME_IMAGE" "$RUNTIME_PACKAGES" "about three minutes" "$RUNTIME_LIMIT" \
        --change "LABEL ws-gate.image=runtime ws-gate.runtime-packages=$RUNTIME_PACKAGES"
}

# The runtime is reused only when its label says it holds exactly RUNTIME_PACKAGES.
if ! BUILT_PACKAGES=$(docker image inspect --format '{{index .Config.Labels "ws-gate.runtime-packages"}}' \
    "$RUNTIME_IMAGE" 2>/dev/null); then
    build_runtime
elif [ "$BUILT_PACKAGES" != "$RUNTIME_PACKAGES" ]; then
    echo "build-image: $RUNTIME_IMAGE was built for other packages (${BUILT_PACKAGES:-unlabelled}): building it again"
    build_runtime
fi

# The build context: the wheelhouse and this wheel alone.
rm -rf "$CACHE/dist" "$CACHE/wheelhouse"
mkdir -p "$CACHE/dist"
cp "$WHEEL" "$CACHE/dist/"
cp -al "$WHEELHOUSE" "$CACHE/wheelhouse" 2>/dev/null || cp -a "$WHEELHOUSE" "$CACHE/wheelhouse"
echo "build-image: building $IMAGE:$TAG from $(basename "$WHEEL") (log: $CACHE/build.log)"
if ! docker build --file "$HERE/image/Dockerfile" --build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE" \
    --build-arg "VERSION=$VERSION" --tag "$IMAGE:$TAG" --tag "$IMAGE:latest" "$CACHE" >"$CACHE/build.log" 2>&1; then
    tail -20 "$CACHE/build.log" >&2
    echo "build-image: docker build failed (log: $CACHE/build.log)" >&2
    exit 1
fi
echo "build-image: $IMAGE:$TAG built, also tagged $IMAGE:latest"
