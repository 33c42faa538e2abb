"""From what the caller passed as a URL to what a request needs to be sent.

A :class:`Target` holds, computed once, everything per URL that the hot path
needs: the ``yarl.URL`` for the response, the pool key, the request target
and the ``Host`` value.  Targets of ``str`` URLs without ``params`` are kept in
a small cache per session, so a client that requests the same URLs again
(the common case) parses none of them twice.
"""

from __future__ import annotations

import base64
from typing import Any, NamedTuple

from yarl import URL

from ..errors import InvalidRequest, InvalidURL

__all__ = ["BasicAuth", "Target", "basic_auth", "encode_basic", "make_target", "TARGET_CACHE_SIZE"]

#: URLs kept parsed per session; the cache is cleared when full (a client
#: that walks more distinct URLs than this pays the parse, nothing worse).
TARGET_CACHE_SIZE = 512

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Control bytes are refused before yarl sees the string: yarl drops CR and LF
# silently, which would send a different URL from the one asked for.
_CONTROL = frozenset(chr(c) for c in (*range(0x20), 0x7F))


class BasicAuth(NamedTuple):
    """Credentials for HTTP Basic authentication (RFC 7617), aiohttp's ``BasicAuth`` shape.

    ``encoding`` is how ``login`` and ``password`` become bytes: UTF-8 here, as RFC 7617
    §2.1 recommends and httpx does (aiohttp's default is latin-1; pass it to match).
    """

    login: str
    password: str = ""
    encoding: str = "utf-8"

    def encode(self) -> str:
        """The ``Authorization`` value, ``Basic <base64 of login:password>`` (aiohttp's ``encode()``)."""
        return encode_basic(self.login, self.password, self.encoding)


def encode_basic(login: str, password: str, encoding: str = "utf-8") -> str:
    """``Basic <base64 of login:password>``: every Basic credential the client sends is made here
    (URL and proxy credentials, ``.netrc``, ``auth=``, ``BasicAuthMiddleware``)."""
    return "Basic " + base64.b64encode(f"{login}:{password}".encode(encoding)).decode("ascii")


def basic_auth(auth: Any) -> str:
    """The ``Authorization`` value of ``auth``: a ``(login, password)`` pair or a ``BasicAuth``
    (aiohttp's too: any tuple of login, password and encoding)."""
    if not isinstance(auth, tuple) or len(auth) not in (2, 3) or not all(isinstance(x, str) for x in auth):
        raise InvalidRequest(f"auth must be a (login, password) pair of str or a BasicAuth, not {auth!r}"
                             if isinstance(auth, tuple) else
                             f"auth must be a (login, password) pair of str or a BasicAuth, not {type(auth).__name__}")
    login, password = auth[0], auth[1]
    encoding = auth[2] if len(auth) == 3 else "utf-8"
    if ":" in login:
        raise InvalidRequest("a Basic auth login cannot contain ':' (RFC 7617 §2)")
    try:
        return encode_basic(login, password, encoding)
    except (UnicodeEncodeError, LookupError) as exc:
        raise InvalidRequest(f"the credentials cannot be encoded as {encoding}: {exc}") from exc


class Target:
    """One URL, ready to request."""

    __slots__ = ("url", "scheme", "host", "port", "is_tls", "target", "host_header", "auth", "key")

    def __init__(self, url: URL) -> None:
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise InvalidURL(f"unsupported URL scheme {scheme!r}" if scheme else "URL has no scheme", url=url)
        host = url.raw_host
        if not host:
            raise InvalidURL("URL has no host", url=url)
        port = url.port
        if port is None:
            port = _DEFAULT_PORTS[scheme]
        self.auth: str | None = None
        if url.raw_user is not None or url.raw_password is not None:
            # Credentials in the URL become Basic auth and leave the URL, as aiohttp and
            # httpx do: userinfo is never sent in a target (RFC 9110 §4.2.4).
            self.auth = encode_basic(url.user or "", url.password or "")
            url = url.with_user(None)
        self.url = url  # the fragment is kept for the caller, never sent
        self.scheme = scheme
        self.host = host
        self.port = port
        self.is_tls = scheme == "https"
        self.target = url.raw_path_qs or "/"
        self.host_header = url.host_port_subcomponent or host
        #: the pool key of a request without a proxy (https adds its TLS settings to it)
        self.key = (scheme, host, port)


def make_target(url: Any, base_url: URL | None, params: Any) -> Target:
    """Parse ``url`` (``str`` or ``yarl.URL``), join it to ``base_url``, merge ``params``."""
    if isinstance(url, str):
        if not _CONTROL.isdisjoint(url):
            raise InvalidURL("URL contains a control character", url=url)
        try:
            u = URL(url)
        except (ValueError, TypeError) as exc:
            raise InvalidURL(f"URL cannot be parsed: {exc}", url=url) from exc
    elif isinstance(url, URL):
        u = url
    else:
        raise InvalidURL(f"URL must be a str or yarl.URL, not {type(url).__name__}", url=url)
    if base_url is not None and not u.is_absolute():
        u = base_url.join(u)
    if params:
        try:
            u = u.extend_query(params)
        except (TypeError, ValueError) as exc:
            raise InvalidURL(f"bad params: {exc}", url=u) from exc
    if not _CONTROL.isdisjoint(u.raw_path_qs):
        raise InvalidURL("URL contains a control character", url=u)
    return Target(u)
