"""What the built-in middlewares share: origins, sending a body again, releasing a dropped response.

An *origin* is ``(scheme, host, port)`` with the default port filled in
(RFC 6454): credentials are bound to one, so a redirect to another host, port
or scheme never carries them.  A middleware built without ``origin=`` binds
to the origin of the first request it sees.

A request body is ``None``, ``bytes`` or a stream (see
:class:`wirespeed.ClientRequest`).  A stream that was sent is *used*; it can
be sent again only if it can *replay* (a seekable file), which gives a fresh
stream from the same start.  :func:`rewind` does that before a second send,
and says when the body cannot go again, so a middleware raises a clear
:class:`wirespeed.InvalidRequest` instead of sending an empty body.
"""

from __future__ import annotations

from typing import Any

from yarl import URL

from ..client import ClientRequest
from ..errors import InvalidRequest

__all__ = ["IDEMPOTENT_METHODS", "Origin", "OriginBinding", "origin_of", "rewind", "cannot_resend"]

#: RFC 9110 §9.2.2: the methods whose repetition has the effect of one request.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})

Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: URL | str) -> Origin:
    """``(scheme, host, port)`` of an absolute http(s) URL, lower-cased, the default port filled in."""
    u = URL(url) if isinstance(url, str) else url
    scheme = (u.scheme or "").lower()
    host = (u.raw_host or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        raise ValueError(f"an origin needs an absolute http(s) URL with a host, not {str(u)!r}")
    port = u.port if u.port is not None else _DEFAULT_PORTS[scheme]
    return scheme, host, port


class OriginBinding:
    """The one origin a middleware's credentials may go to: given, or the first request's."""

    __slots__ = ("origin",)

    def __init__(self, origin: str | URL | None) -> None:
        self.origin: Origin | None = origin_of(origin) if origin is not None else None

    def allows(self, url: URL) -> bool:
        """True when ``url`` is on the bound origin (binding it now if nothing was bound yet)."""
        try:
            theirs = origin_of(url)
        except ValueError:
            return False
        if self.origin is None:
            self.origin = theirs
            return True
        return theirs == self.origin


def rewind(request: ClientRequest) -> bool:
    """Make ``request.body`` sendable again; False when it is a used stream that cannot replay."""
    body: Any = request.body
    if body is None or isinstance(body, bytes) or not getattr(body, "used", False):
        return True
    replay = getattr(body, "replay", None)
    fresh = replay() if replay is not None else None
    if fresh is None:
        return False
    request.body = fresh
    return True


def cannot_resend(request: ClientRequest, why: str) -> InvalidRequest:
    """The error for a request that must be sent again (``why``) but whose body was a one-shot stream."""
    return InvalidRequest(f"{why}, but the request body was a stream that cannot be sent again "
                          "(pass bytes or a seekable file to allow it)", method=request.method, url=request.url)
