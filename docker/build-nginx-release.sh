#!/usr/bin/env bash
# Build IMAGE, the base of the Docker stack's nginx image for one Debian release, on a machine that reaches no
# container registry: debootstrap SUITE (minbase and the comma-separated PACKAGES, nginx's own Debian build), then
# docker import, labelled with PACKAGES so that the gate builds it again when they change (see debootstrap.sh).
# Usage: docker/build-nginx-release.sh SUITE IMAGE PACKAGES, e.g. sid ws-gate-nginx-base:sid nginx
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=debootstrap.sh
. "$HERE/debootstrap.sh"

if [ $# != 3 ]; then
    echo "usage: docker/build-nginx-release.sh SUITE IMAGE PACKAGES" >&2
    exit 2
fi
# debootstrap takes one to two minutes; this only stops a hung mirror from hanging the build.
DEBIAN_SUITE=$1 debootstrap_image build-nginx-release "$2" "$3" "one to two minutes" "${RELEASE_LIMIT:-600}" \
    --change "LABEL ws-gate.image=nginx-release ws-gate.suite=$1 ws-gate.nginx-packages=$3"
