"""What the gate knows of nginx that depends on its version, in one table, and the defaults it relies on. Every
entry names the line of nginx's CHANGES or source it rests on. Other modules ask by feature
(`version.has(HTTP_1_1_UPSTREAM_DEFAULT)`), never by a version number."""

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Version:
    """An nginx release, as `nginx -v` or --nginx-version writes it: 1.22.1."""

    parts: tuple[int, ...]

    @classmethod
    def parse(cls, text: str) -> "Version":
        return cls(tuple(int(part) for part in text.split(".")))

    def __str__(self) -> str:
        return ".".join(map(str, self.parts))

    def has(self, feature: "Feature") -> bool:
        return (feature.since is None or self >= feature.since) and (feature.until is None or self < feature.until)


@dataclass(frozen=True)
class Feature:
    """A behaviour nginx has from release `since` (None: always) up to, not including, release `until`."""

    what: str
    source: str  # the CHANGES entry it rests on
    since: Version | None = None
    until: Version | None = None


HTTP_1_1_UPSTREAM_DEFAULT = Feature(
    "proxy_http_version defaults to 1.1, with keepalive to upstreams",
    "CHANGES 1.29.7: upstream keepalive is enabled by default, and proxy_http_version defaults to 1.1",
    since=Version.parse("1.29.7"),
)
SSL_DIRECTIVE = Feature(
    "the `ssl on;` directive",
    'CHANGES 1.15.0: the "ssl" directive is deprecated; CHANGES 1.25.1: the "ssl" directive was removed',
    until=Version.parse("1.25.1"),
)
LISTEN_SSL = Feature(
    "the `ssl` parameter of listen",
    'CHANGES 0.7.14: the "listen" directive supports the "ssl" parameter',
    since=Version.parse("0.7.14"),
)
HTTP2_DIRECTIVE = Feature(
    "the `http2 on;` directive (before it: `listen ... http2`)",
    'CHANGES 1.25.1: the "http2" directive, which enables HTTP/2 per server; the "http2" parameter of listen is '
    "deprecated",
    since=Version.parse("1.25.1"),
)
HTTP3_DIRECTIVES = Feature(
    "HTTP/3 and QUIC: the http3, quic_retry and quic_gso directives",
    "CHANGES 1.25.0: experimental HTTP/3 support",
    since=Version.parse("1.25.0"),
)
# Directives an older nginx under test does not know, by the feature that brought them.
DIRECTIVE_FEATURES = {
    "http2": HTTP2_DIRECTIVE,
    "http3": HTTP3_DIRECTIVES,
    "quic_retry": HTTP3_DIRECTIVES,
    "quic_gso": HTTP3_DIRECTIVES,
}

# nginx's defaults the gate relies on, in seconds (ngx_http_proxy_module: proxy_read_timeout 60s, proxy_send_timeout
# 60s; ngx_http_core_module: send_timeout 60s).
PROXY_READ_TIMEOUT = 60.0
PROXY_SEND_TIMEOUT = 60.0
SEND_TIMEOUT = 60.0


def parse(text: str | None) -> Version | None:
    """The version --nginx-version or `nginx -v` gives; None when unknown."""
    return Version.parse(text) if text else None


def has(version: Version | None, feature: Feature) -> bool:
    """Whether `version` has `feature`; an unknown version (None) is judged as the oldest nginx the gate meets,
    so a check never relies on a behaviour the production nginx may lack."""
    return version.has(feature) if version is not None else feature.since is None
