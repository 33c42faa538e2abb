"""Proxy and credential settings from the environment, for a session with ``trust_env=True``.

Nothing here opens a connection: the module turns ``http_proxy``,
``https_proxy``, ``all_proxy``, ``no_proxy`` and ``.netrc`` into answers to
two questions the client asks per request, *which proxy for this URL?*
(:func:`proxy_for`, or :class:`EnvProxies` read once per session) and *what
login for this host?* (:func:`netrc_auth`).

The rules are curl's where tools disagree, and each choice is documented here:

- **Which variable.** An ``http`` URL uses ``http_proxy``, an ``https`` URL
  ``https_proxy``; either falls back to ``all_proxy``.  Each name is read in
  lower case first and the lower-case one wins, as curl does (and Python's
  ``urllib``); an empty value counts as unset.  Upper-case ``HTTP_PROXY`` is
  ignored when ``REQUEST_METHOD`` is set: in a CGI program a client's
  ``Proxy:`` request header arrives as ``HTTP_PROXY`` ("httpoxy",
  CVE-2016-5385), and Python's ``urllib`` and Go skip it there too.  (curl
  never reads upper-case ``HTTP_PROXY`` at all.)
- **The proxy URL.** A value without a scheme is ``http://``, as curl reads
  it.  Only ``http`` and ``https`` proxies are used; another scheme
  (``socks5://``) is not a proxy this client can speak, so the variable is
  ignored and reported in :attr:`EnvProxies.ignored` rather than sending the
  request some other way than asked.  A missing port is the scheme's default
  (80/443), as Python's HTTP clients take it; curl alone assumes 1080.
  Credentials in the URL (``http://user:pa%40ss@proxy:3128``) are
  percent-decoded and become a ``Proxy-Authorization: Basic`` value, UTF-8
  encoded (RFC 7617 §2.1's ``charset="UTF-8"``); the proxy URL given back has
  no userinfo, so it can be logged.
- **no_proxy** (lower case wins over ``NO_PROXY``) is a list separated by
  commas or white space of: ``*`` (no proxy at all); a host name, which
  matches that name and every name under it, with or without a leading
  ``.`` (``example.com`` and ``.example.com`` both match ``example.com`` and
  ``www.example.com``, not ``notexample.com``), as curl and Python's
  ``urllib`` do (Go's ``.example.com`` leaves out ``example.com`` itself), and
  ``*.example.com`` is read as ``.example.com``; an IP address or a CIDR block
  (``10.0.0.0/8``, ``fd00::/8``), matched against IP-address hosts only
  (names are not resolved); and any of these with a port (``host:8080``,
  ``[::1]:8080``, ``10.1.2.3:443``), which then applies to that port only.
  Names compare case-insensitively and without a trailing dot.
- **netrc** is read from ``$NETRC``, else ``~/.netrc`` (``~/_netrc`` too, the
  Windows name curl reads); a missing or unparseable file means no
  credentials.  The stdlib ``netrc`` parser is used; it is given the path
  explicitly, so its check that the file is private to its owner (made only
  for the default path) does not apply, as curl does not check either.
"""

from __future__ import annotations

import ipaddress
import netrc
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from yarl import URL

from ._urls import encode_basic

__all__ = ["EnvProxies", "ProxyInfo", "netrc_auth", "proxy_for"]

_PROXY_SCHEMES = frozenset({"http", "https"})
_SCHEME_VARIABLES = {"http": "http_proxy", "https": "https_proxy"}
_SEPARATORS = re.compile(r"[,\s]+")
_PORT = re.compile(r"[0-9]{1,5}\Z")

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class ProxyInfo:
    """The proxy of one request: its URL (no userinfo), and the ``Proxy-Authorization`` value if any."""

    url: URL
    auth: str | None = None


def _getenv(environ: Mapping[str, str], name: str) -> tuple[str, str] | None:
    """(variable, value) of ``name``, lower case first; an empty value is unset."""
    value = environ.get(name)
    if value:
        return name, value
    upper = name.upper()
    if upper == "HTTP_PROXY" and "REQUEST_METHOD" in environ:
        return None   # httpoxy: under CGI, HTTP_PROXY may come from a request header
    value = environ.get(upper)
    return (upper, value) if value else None


def parse_proxy_url(value: str) -> ProxyInfo:
    """A proxy variable's value as a :class:`ProxyInfo`; ValueError if it cannot be used."""
    value = value.strip()
    if "://" not in value:
        value = "http://" + value
    try:
        url = URL(value)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if url.scheme not in _PROXY_SCHEMES:
        raise ValueError(f"a {url.scheme!r} proxy is not supported (only http and https)")
    if not url.raw_host:
        raise ValueError("the proxy URL has no host")
    try:
        url.port  # noqa: B018 - yarl raises here on a port that is not a number
    except ValueError as exc:
        raise ValueError(f"bad port: {exc}") from None
    auth = None
    if url.user is not None or url.password is not None:
        auth = encode_basic(url.user or "", url.password or "")
    return ProxyInfo(url.origin(), auth)


# --------------------------------------------------------------------------- no_proxy


@dataclass(slots=True)
class NoProxy:
    """A parsed ``no_proxy`` list: which hosts (and ports) go direct."""

    everything: bool = False
    domains: list[tuple[str, int | None]] = field(default_factory=list)
    networks: list[tuple[_Network, int | None]] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, value: str) -> NoProxy:
        rules = cls()
        for entry in _SEPARATORS.split(value.strip().lower()):
            if entry:
                rules._add(entry)
        return rules

    def _add(self, entry: str) -> None:
        if entry == "*":
            self.everything = True
            return
        host, port = entry, None
        if entry.startswith("["):               # [v6], [v6]:port, [v6]/bits
            close = entry.find("]")
            if close == -1:
                self.ignored.append(entry)
                return
            host, rest = entry[1:close], entry[close + 1:]
            if rest.startswith(":") and _PORT.match(rest[1:]):
                port = int(rest[1:])
            elif rest.startswith("/"):
                host += rest
            elif rest:
                self.ignored.append(entry)
                return
        elif entry.count(":") == 1:               # name:port or v4:port (a bare v6 has two or more)
            host, _, p = entry.partition(":")
            if not _PORT.match(p):
                self.ignored.append(entry)
                return
            port = int(p)
        try:
            self.networks.append((ipaddress.ip_network(host, strict=False), port))
            return
        except ValueError:
            if "/" in host or ":" in host:
                self.ignored.append(entry)
                return
        if host.startswith("*."):
            host = host[1:]
        host = host.lstrip(".").rstrip(".")
        if host:
            self.domains.append((host, port))
        else:
            self.ignored.append(entry)

    def matches(self, host: str, port: int | None) -> bool:
        """True if a request to ``host`` (yarl's ``raw_host``) on ``port`` goes direct."""
        if self.everything:
            return True
        host = host.lower().rstrip(".")
        if self.networks and (":" in host or host[-1:].isdigit()):
            try:
                address = ipaddress.ip_address(host.partition("%")[0])
            except ValueError:
                pass
            else:
                return any(address in net and (p is None or p == port) for net, p in self.networks)
        for domain, p in self.domains:
            if (p is None or p == port) and (host == domain or host.endswith("." + domain)):
                return True
        return False


# --------------------------------------------------------------------------- proxies


class EnvProxies:
    """The environment's proxy settings, read once (a session reads them when it starts)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        #: Variables not used, with the reason: ``[("ALL_PROXY", "a 'socks5' proxy is not supported ...")]``.
        self.ignored: list[tuple[str, str]] = []
        self._by_scheme: dict[str, ProxyInfo | None] = {}
        fallback = self._read(env, "all_proxy")
        for scheme, name in _SCHEME_VARIABLES.items():
            found = self._read(env, name)
            self._by_scheme[scheme] = found if found is not None else fallback
        no_proxy = _getenv(env, "no_proxy")
        self.no_proxy = NoProxy.parse(no_proxy[1]) if no_proxy else NoProxy()
        for entry in self.no_proxy.ignored:
            self.ignored.append((no_proxy[0] if no_proxy else "no_proxy", f"entry {entry!r} is not understood"))

    def _read(self, env: Mapping[str, str], name: str) -> ProxyInfo | None:
        found = _getenv(env, name)
        if found is None:
            return None
        variable, value = found
        try:
            return parse_proxy_url(value)
        except ValueError as exc:
            self.ignored.append((variable, str(exc)))
            return None

    def __bool__(self) -> bool:
        """False when no proxy is set: a session can skip the lookup per request."""
        return any(p is not None for p in self._by_scheme.values())

    def proxy_for(self, url: URL | str) -> ProxyInfo | None:
        """The proxy of a request to ``url``, or None to connect directly."""
        url = URL(url)
        proxy = self._by_scheme.get(url.scheme)
        if proxy is None:
            return None
        host = url.raw_host
        if not host or self.no_proxy.matches(host, url.port):
            return None
        return proxy


def proxy_for(url: URL | str, environ: Mapping[str, str] | None = None) -> ProxyInfo | None:
    """The proxy the environment names for ``url`` (read now), or None to connect directly."""
    return EnvProxies(environ).proxy_for(url)


# --------------------------------------------------------------------------- netrc


def _netrc_path(env: Mapping[str, str]) -> Path | None:
    named = env.get("NETRC")
    if named:
        return Path(named).expanduser()
    try:
        home = Path.home()
    except RuntimeError:   # no home directory can be determined
        return None
    for name in (".netrc", "_netrc"):
        if (home / name).is_file():
            return home / name
    return None


def netrc_auth(host: str, environ: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """(login, password) for ``host`` from the netrc file (its ``default`` entry too), or None."""
    path = _netrc_path(os.environ if environ is None else environ)
    if path is None:
        return None
    try:
        entry = netrc.netrc(str(path)).authenticators(host)
    except (OSError, netrc.NetrcParseError):
        return None
    if entry is None:
        return None
    login, _, password = entry
    if not login and not password:
        return None
    return login or "", password or ""
