"""The Docker stack's nginx for a Debian release: the base image ws-gate-nginx-base:<suite>, Debian's own nginx
package on that suite, built as the offline base is (debootstrap, then docker import: docker/build-nginx-release.sh),
once, and again when its package list changes. docker/nginx/Dockerfile is built on it (its BASE_IMAGE)."""

import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors

from ws_gate import processes
from ws_gate.errors import GateSetupError
from ws_gate.layout import DOCKER
from ws_gate.nginx import releases
from ws_gate.timeouts import UNIT

BUILD_SCRIPT = DOCKER / "build-nginx-release.sh"
PACKAGES = "nginx"  # the binary and the libraries it loads, as on the local stack; the rest is minbase
PACKAGES_LABEL = "ws-gate.nginx-packages"
# debootstrap takes one to two minutes; this only stops a hung mirror from hanging the gate.
BUILD_LIMIT = 600 * UNIT
LOCKS = Path(tempfile.gettempdir())


def image_name(release: releases.Release) -> str:
    return f"ws-gate-nginx-base:{release.suite}"


def release_image(version: str, client: docker.DockerClient, say: Callable[[str], None]) -> str:
    """The base image of the Debian release `version` names, built unless it is here for PACKAGES; its nginx is
    checked to be that release's."""
    release = releases.find(version)
    image = image_name(release)
    with processes.exclusive(LOCKS / f"ws-gate-nginx-base-{release.suite}.lock", BUILD_LIMIT):
        built = _labels(client, image).get(PACKAGES_LABEL)
        if built != PACKAGES:
            if why := _impossible(image):
                raise GateSetupError(why)
            again = f" again (it was built for {built})" if built else ""
            say(f"docker: building {image}{again}: Debian {release.suite}'s nginx {release.version}, 1 to 2 min")
            started = time.monotonic()
            _build(release, image)
            say(f"docker: {image} built in {time.monotonic() - started:.0f} s")
    _check_version(client, image, release)
    return image


def _labels(client: docker.DockerClient, image: str) -> dict[str, str]:
    try:
        return client.images.get(image).labels or {}
    except docker.errors.ImageNotFound:
        return {}


def _impossible(image: str) -> str | None:
    """Why `image` cannot be built here, as one line saying what to do; None when it can."""
    if os.geteuid() != 0:
        return f"building {image} runs debootstrap, which needs root: run the gate as root, or use --stack local"
    if shutil.which("debootstrap") is None and shutil.which("apt-get") is None:
        return f"building {image} needs debootstrap: apt-get install debootstrap, or use --stack local"
    releases.mirror()  # no mirror known: its own GateSetupError
    return None


def _build(release: releases.Release, image: str) -> None:
    with tempfile.TemporaryFile("w+") as log:
        # A session of its own: its debootstrap goes with it on a timeout or when the gate is interrupted.
        script = subprocess.Popen(
            [str(BUILD_SCRIPT), release.suite, image, PACKAGES],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = script.wait(BUILD_LIMIT)
        except subprocess.TimeoutExpired:
            code = None
        finally:  # the script's trap removes the half-built root on SIGTERM
            processes.stop(script)
        log.seek(0)
        output = log.read()
    if code != 0:
        cause = f"did not finish in {BUILD_LIMIT:.0f} s" if code is None else f"failed (exit {code})"
        raise GateSetupError(processes.with_tail(f"{BUILD_SCRIPT.name} {cause}, building {image}", output))


def debian_build(client: docker.DockerClient, image: str) -> str:
    """The Debian version of the nginx package in `image` (1.30.6-2), read from its dpkg database: a container is
    created, never started (the output of a short-lived one can be lost), and removed."""
    container = client.containers.create(image, ["nginx", "-v"])
    try:
        chunks, _ = container.get_archive("/var/lib/dpkg/status")
        with tarfile.open(fileobj=io.BytesIO(b"".join(chunks))) as archive:
            status = archive.extractfile("status").read().decode()
    finally:
        container.remove(force=True)
    found = re.search(r"^Package: nginx\n(?:\S.*\n)*?Version: (\S+)$", status, re.M)
    return found[1] if found else ""


def _check_version(client: docker.DockerClient, image: str, release: releases.Release) -> None:
    built = debian_build(client, image)
    if not built.startswith(f"{release.version}-"):
        raise GateSetupError(
            f"{image} holds nginx {built or 'not at all'}, not {release.version}: docker image rm {image} and run again"
        )
