# shellcheck shell=bash
# Sourced by build-base.sh, build-image.sh and build-nginx-release.sh: a Debian image from Debian's packages, for a
# machine that reaches no container registry. The suite is DEBIAN_SUITE, bookworm unless set. The Debian mirror is
# this machine's own: DEBIAN_MIRROR, else the first URIs: line of its apt sources.

DEBIAN_SOURCES=/etc/apt/sources.list.d/debian.sources

# debootstrap_image WHO IMAGE PACKAGES DURATION LIMIT [IMPORT_OPTION...]
# debootstrap DEBIAN_SUITE (minbase and the comma-separated PACKAGES), then `docker import` it as IMAGE with the
# IMPORT_OPTIONs. WHO starts each line said; DURATION is how long the line announces; LIMIT bounds debootstrap
# in seconds, 0 leaving the bound to the caller. Any failure ends the script.
debootstrap_image() {
    local who=$1 image=$2 packages=$3 duration=$4 limit=$5 suite=${DEBIAN_SUITE:-bookworm} mirror code=0
    shift 5
    mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/ { print $2; exit }' "$DEBIAN_SOURCES" 2>/dev/null || true)}
    if [ -z "$mirror" ]; then
        echo "$who: no Debian mirror: set DEBIAN_MIRROR or add a URIs: line to $DEBIAN_SOURCES" >&2
        exit 2
    fi
    if ! command -v debootstrap >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "$who: installing Debian's debootstrap"
            apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
        else
            echo "$who: debootstrap not found: sudo apt-get install debootstrap" >&2
            exit 2
        fi
    fi
    ROOTFS=$(mktemp -d /tmp/ws-gate-rootfs.XXXXXX)
    trap 'rm -rf "$ROOTFS" "$ROOTFS.log"' EXIT
    echo "$who: debootstrap $suite into $ROOTFS ($duration)"
    bounded "$limit" debootstrap --variant=minbase --include="$packages" \
        "$suite" "$ROOTFS" "$mirror" >"$ROOTFS.log" 2>&1 || code=$?
    if [ "$code" != 0 ]; then
        tail -20 "$ROOTFS.log" >&2
        if [ "$limit" != 0 ] && [ "$code" = 124 ]; then
            echo "$who: debootstrap did not finish in $limit s (DEBIAN_MIRROR=$mirror)" >&2
        fi
        exit 1
    fi
    rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/lib/apt/lists/*
    tar -C "$ROOTFS" -c . | docker import "$@" - "$image" >/dev/null
    echo "$who: $image built"
}

# bounded LIMIT COMMAND...: run COMMAND; after LIMIT seconds (exit 124), or when this script gets INT or TERM,
# stop it and every process it started. LIMIT 0 runs COMMAND as it is.
bounded() {
    local limit=$1 code=0
    shift
    if [ "$limit" = 0 ]; then
        "$@"
        return
    fi
    # timeout leads a process group of its own and signals all of it (debootstrap's dpkg and wget too), so the
    # script's own signals do not reach it: the traps pass them on, once the wait below is interrupted.
    timeout --kill-after=10 "$limit" "$@" &
    BOUNDED_PID=$!
    trap 'stop_bounded 130' INT
    trap 'stop_bounded 143' TERM
    wait "$BOUNDED_PID" || code=$?
    trap - INT TERM
    return "$code"
}

stop_bounded() {
    kill -TERM "$BOUNDED_PID" 2>/dev/null || true
    wait "$BOUNDED_PID" || true
    exit "$1"
}
