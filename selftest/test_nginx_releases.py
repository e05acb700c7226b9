"""Debian's nginx releases, fetched into the user's cache and run through their own loader: each is that release's
binary with that release's libraries, and each behaves as that release does where the versions differ."""

import io
import shutil
import socket
import subprocess
import threading
from pathlib import Path

import pytest

from ws_gate import processes
from ws_gate.errors import GateSetupError
from ws_gate.nginx import release_images, releases
from ws_gate.nginx.binary import NginxBinary, machine_nginx
from ws_gate.nginx.release_images import debian_build, release_image
from ws_gate.nginx.runtime import write_main_conf
from ws_gate.timeouts import LONG
from ws_gate.tls import mint

BY_FAMILY = {release.family: release for release in releases.RELEASES}
EACH_RELEASE = [pytest.param(r.family, id=f"{r.family}-{r.suite}") for r in releases.RELEASES]
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there

# `ssl on;` was made obsolete in 1.15.0 and removed in 1.25.1; `http2 on;` came with 1.25.1; nginx 1.29.7 made
# HTTP/1.1 (and keepalive) the default towards upstreams.
SSL_ON = [
    pytest.param("1.22", 0, 'the "ssl" directive is deprecated', id="1.22-bookworm-warns"),
    pytest.param("1.26", 1, '[emerg] unknown directive "ssl"', id="1.26-trixie-refuses"),
    pytest.param("1.30", 1, '[emerg] unknown directive "ssl"', id="1.30-sid-refuses"),
]
HTTP2_ON = [
    pytest.param("1.22", 1, '[emerg] unknown directive "http2"', id="1.22-bookworm-refuses"),
    pytest.param("1.26", 0, "test is successful", id="1.26-trixie-accepts"),
    pytest.param("1.30", 0, "test is successful", id="1.30-sid-accepts"),
]
UPSTREAM_PROTOCOL = [
    pytest.param("1.22", "HTTP/1.0", id="1.22-bookworm-http1.0"),
    pytest.param("1.26", "HTTP/1.0", id="1.26-trixie-http1.0"),
    pytest.param("1.30", "HTTP/1.1", id="1.30-sid-http1.1"),
]


@pytest.fixture(scope="module")
def release_nginx() -> dict[str, NginxBinary]:
    """Each release's binary, by family, from the user's cache (fetched there the first time)."""
    found = {}
    for family in BY_FAMILY:
        try:
            found[family] = releases.release_binary(family, say=lambda line: None)
        except GateSetupError as error:
            found[family] = error
    return found


def nginx_of(release_nginx: dict, family: str) -> NginxBinary:
    """The release's binary; a skip only when it is not in the cache and cannot be fetched."""
    binary = release_nginx[family]
    if isinstance(binary, GateSetupError):
        if (releases.cache_root(BY_FAMILY[family]) / releases.MARKER).is_file():
            pytest.fail(f"Debian {BY_FAMILY[family].suite}'s nginx is cached but does not run: {binary}")
        pytest.skip(f"Debian {BY_FAMILY[family].suite}'s nginx cannot be had here: {binary}")
    return binary


def nginx_t(binary: NginxBinary, prefix: Path, site: str) -> subprocess.CompletedProcess:
    conf = write_main_conf(prefix, site)
    command = binary.command("-t", "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf))
    return subprocess.run(command, capture_output=True, text=True, timeout=LONG)


def tls_site(tmp_path: Path, directives: str) -> str:
    tls = mint(tmp_path, ["localhost"])
    return (
        f"server {{ {directives} server_name localhost;\n"
        f"  ssl_certificate {tls.certificate}; ssl_certificate_key {tls.key};\n"
        "  location / { return 204; } }\n"
    )


@pytest.mark.parametrize("family", EACH_RELEASE)
def test_each_release_runs_its_own_nginx_with_its_own_libraries(release_nginx, family, tmp_path):
    """A started release reports its version and maps no shared library from outside its own root."""
    binary = nginx_of(release_nginx, family)
    port = processes.free_port()
    conf = write_main_conf(tmp_path, f"server {{ listen 127.0.0.1:{port}; location / {{ return 204; }} }}\n")
    log = tmp_path / "nginx.log"
    nginx = processes.spawn(binary.command("-p", str(tmp_path), "-c", str(conf)), log)
    try:
        processes.wait_for_port("127.0.0.1", port, nginx, binary.label, log)
        mapped = {line.split()[-1] for line in Path(f"/proc/{nginx.pid}/maps").read_text().splitlines()}
    finally:
        processes.stop(nginx)
    libraries = sorted(path for path in mapped if ".so" in path)
    root = releases.cache_root(BY_FAMILY[family])
    assert binary.version == BY_FAMILY[family].version
    assert binary.label == f"nginx {binary.version}, Debian {BY_FAMILY[family].suite}"
    assert [path for path in libraries if not path.startswith(f"{root}/")] == [], binary.label
    assert any("libssl.so.3" in path for path in libraries), libraries


@pytest.mark.parametrize(("family", "status", "message"), SSL_ON)
def test_ssl_on_is_refused_from_1_25_1(release_nginx, family, status, message, tmp_path):
    """`listen 443; ssl on;` loads with a warning on 1.22 and is an unknown directive on 1.26 and 1.30."""
    site = tls_site(tmp_path, f"listen 127.0.0.1:{processes.free_port()}; ssl on;")
    result = nginx_t(nginx_of(release_nginx, family), tmp_path, site)
    assert (result.returncode, message in result.stderr) == (status, True), result.stderr


@pytest.mark.parametrize(("family", "status", "message"), HTTP2_ON)
def test_http2_on_is_known_from_1_25_1(release_nginx, family, status, message, tmp_path):
    """`listen 443 ssl; http2 on;` is an unknown directive on 1.22 and loads on 1.26 and 1.30."""
    site = tls_site(tmp_path, f"listen 127.0.0.1:{processes.free_port()} ssl; http2 on;")
    result = nginx_t(nginx_of(release_nginx, family), tmp_path, site)
    assert (result.returncode, message in result.stderr) == (status, True), result.stderr


@pytest.mark.parametrize(("family", "protocol"), UPSTREAM_PROTOCOL)
def test_upstream_protocol_without_proxy_http_version(release_nginx, family, protocol, tmp_path):
    """A location with Upgrade and Connection but no proxy_http_version reaches the backend as HTTP/1.0 before
    1.29.7 and as HTTP/1.1 from it."""
    binary = nginx_of(release_nginx, family)
    backend, seen = recording_backend()
    port = processes.free_port()
    site = (
        f"server {{ listen 127.0.0.1:{port};\n"
        f"  location /ws/realtime {{ proxy_pass http://127.0.0.1:{backend.getsockname()[1]};\n"
        '    proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; } }\n'
    )
    conf = write_main_conf(tmp_path, site)
    log = tmp_path / "nginx.log"
    nginx = processes.spawn(binary.command("-p", str(tmp_path), "-c", str(conf)), log)
    try:
        processes.wait_for_port("127.0.0.1", port, nginx, binary.label, log)
        with socket.create_connection(("127.0.0.1", port), timeout=LONG) as client:
            client.sendall(
                b"GET /ws/realtime HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
            )
            client.recv(1024)
    finally:
        processes.stop(nginx)
        backend.close()
    assert seen == [f"GET /ws/realtime {protocol}"], binary.label


def recording_backend() -> tuple[socket.socket, list[str]]:
    """A loopback backend that records the request line of the one request it answers (204)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(LONG)
    seen: list[str] = []

    def answer() -> None:
        with server.accept()[0] as conn:
            conn.settimeout(LONG)
            request = b""
            while b"\r\n\r\n" not in request and (chunk := conn.recv(4096)):
                request += chunk
            seen.append(request.split(b"\r\n", 1)[0].decode())
            conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    return server, seen


def test_warm_release_is_taken_from_the_cache_without_the_mirror(release_nginx, monkeypatch):
    """A second resolution of a cached release reaches no mirror at all."""
    binary = nginx_of(release_nginx, "1.30")
    monkeypatch.setenv("DEBIAN_MIRROR", UNREACHABLE)
    assert releases.release_binary("1.30.6", say=pytest.fail) == binary


def test_incomplete_root_is_never_used(release_nginx, tmp_path, monkeypatch):
    """A root without its marker (a run killed while unpacking) is fetched again, and the leftover temporary
    folder of that run is removed; offline, that is one line saying what to do."""
    cached = nginx_of(release_nginx, "1.30")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("DEBIAN_MIRROR", UNREACHABLE)
    root = releases.cache_root(BY_FAMILY["1.30"])
    shutil.copytree(cached.path.parents[2], root, symlinks=True, ignore=shutil.ignore_patterns(releases.MARKER))
    leftover = root.parent / ".sid.abc.tmp"
    leftover.mkdir()
    with pytest.raises(GateSetupError, match=rf"^cannot fetch {UNREACHABLE}/dists/sid/InRelease .*DEBIAN_MIRROR"):
        releases.release_binary("1.30", say=lambda line: None)
    assert (leftover.exists(), (root / "usr/sbin/nginx").is_file()) == (False, True)


@pytest.mark.parametrize("version", ["1.24", "1.30.5", "latest"])
def test_unknown_version_names_the_releases(version):
    """A version Debian does not ship in bookworm, trixie or sid is one line listing those it does, and the option
    that takes any other nginx."""
    listed = r"choose one of 1\.22 \(1\.22\.1, Debian bookworm\), 1\.26 .*sid\), or give that nginx itself with "
    listed += r"--nginx-bin PATH$"
    with pytest.raises(GateSetupError, match=listed):
        releases.release_binary(version, say=pytest.fail)


def test_no_mirror_is_a_setup_error(tmp_path, monkeypatch):
    """Without DEBIAN_MIRROR and apt sources, the mirror to fetch from is named as what is missing."""
    monkeypatch.delenv("DEBIAN_MIRROR", raising=False)
    with pytest.raises(GateSetupError, match="set DEBIAN_MIRROR"):
        releases.mirror(tmp_path / "debian.sources")


def test_given_binary_reads_its_version():
    """--nginx-bin: the machine's nginx is taken with the version its -V prints."""
    nginx = machine_nginx() or pytest.skip("no nginx on this machine (apt-get install nginx-light)")
    assert releases.given_binary(str(nginx.path)).label == f"nginx {nginx.version}, --nginx-bin {nginx.path}"


@pytest.mark.parametrize("path", ["/bin/true", "/nonexistent/nginx"])
def test_given_binary_that_is_not_nginx_is_a_setup_error(path):
    """--nginx-bin naming something that is not a runnable nginx is one line, not a traceback."""
    with pytest.raises(GateSetupError, match=rf"^--nginx-bin {path} (is not a working nginx|does not run)"):
        releases.given_binary(path)


@pytest.mark.parametrize("family", EACH_RELEASE)
def test_release_image_holds_the_build_the_local_stack_runs(release_nginx, requires_docker, family):
    """The Docker stack's base for a release has the same Debian build of nginx as the local stack's cache."""
    nginx_of(release_nginx, family)  # the local build to compare with
    local = releases.cache_root(BY_FAMILY[family])
    image = release_image(family, requires_docker, say=lambda line: None)
    assert debian_build(requires_docker, image) == (local / releases.MARKER).read_text().strip(), image


def test_release_image_is_not_built_again_when_it_is_there(requires_docker):
    """A second call for a built release image builds nothing and says nothing."""
    release_image("1.30", requires_docker, say=lambda line: None)
    assert release_image("1.30.6", requires_docker, say=pytest.fail) == "ws-gate-nginx-base:sid"


def test_release_image_for_other_packages_is_built_again(requires_docker, monkeypatch):
    """An image labelled with another package list is built again: here from an unreachable mirror, which fails
    in one line naming the build script."""
    release_image("1.30", requires_docker, say=lambda line: None)
    stale = "ws-gate-nginx-base-selftest:sid"
    dockerfile = b"FROM ws-gate-nginx-base:sid\nLABEL ws-gate.nginx-packages=nginx-light\n"
    requires_docker.images.build(fileobj=io.BytesIO(dockerfile), tag=stale, rm=True)
    monkeypatch.setattr(release_images, "image_name", lambda release: stale)
    monkeypatch.setenv("DEBIAN_MIRROR", UNREACHABLE)
    said: list[str] = []
    try:
        with pytest.raises(GateSetupError, match=r"^build-nginx-release\.sh failed \(exit 1\), building " + stale):
            release_image("1.30", requires_docker, said.append)
    finally:
        requires_docker.images.remove(stale, force=True)
    rebuilding = f"docker: building {stale} again (it was built for nginx-light): Debian sid's nginx 1.30.6, 1 to 2 min"
    assert said == [rebuilding]
