"""BasicAuthMiddleware and BearerTokenMiddleware: credentials for one origin.

Both set ``Authorization`` on requests to their origin only (given as
``origin=``, else the origin of the first request they see), so a request or
redirect to another host, port or scheme never carries the credentials.

Basic (RFC 7617) is sent with every request to the origin; the user-id and
password are encoded in UTF-8 (the ``charset="UTF-8"`` of §2.1), and a
user-id may not contain a colon.

Bearer (RFC 6750) sends the current token.  On a 401 from the origin the
token is refreshed by the ``refresh`` coroutine and the request is sent once
more; a second 401 is returned as it is.  Refreshing is single-flight: the
requests that got a 401 for the same token wait for one refresh call, and a
request whose token was already replaced by someone else's refresh is simply
sent again with the new one.  A refresh that raises fails the requests
waiting for it; the next 401 tries again.  Without ``token`` the first
request refreshes first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from yarl import URL

from ..client import BasicAuth, ClientHandler, ClientRequest, ClientResponse
from ._common import OriginBinding, cannot_resend, rewind

__all__ = ["BasicAuthMiddleware", "BearerTokenMiddleware"]


class BasicAuthMiddleware:
    """``Authorization: Basic`` on every request to one origin.

    ``origin``: where the credentials may go (``"https://host:port"``); by
    default the origin of the first request this middleware sees.
    """

    def __init__(self, user: str, password: str, *, origin: str | URL | None = None) -> None:
        if ":" in user:
            raise ValueError("a Basic user-id cannot contain ':' (RFC 7617 §2)")
        self._header = BasicAuth(user, password).encode()
        self._origin = OriginBinding(origin)

    async def __call__(self, request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        if self._origin.allows(request.url):
            request.headers["Authorization"] = self._header
        return await handler(request)

    def __repr__(self) -> str:
        return f"BasicAuthMiddleware(origin={self._origin.origin})"   # never the credentials


class BearerTokenMiddleware:
    """``Authorization: Bearer <token>`` for one origin, refreshed once on a 401.

    ``token``: the first token (``None``: ask ``refresh`` first).
    ``refresh``: ``async def refresh() -> str``, a new token; without it a
    401 is returned as it is.  ``origin``: as for :class:`BasicAuthMiddleware`.
    The refresh runs in the task of the request that needs it; a request
    that needs a token for its own origin (a login endpoint) makes it with
    ``middlewares=()``.
    """

    def __init__(self, token: str | None = None, *, refresh: Callable[[], Awaitable[str]] | None = None,
                 origin: str | URL | None = None) -> None:
        if token is None and refresh is None:
            raise ValueError("BearerTokenMiddleware needs a token, a refresh coroutine, or both")
        self._token = token
        self._refresh = refresh
        self._origin = OriginBinding(origin)
        self._lock: asyncio.Lock | None = None
        #: how many times ``refresh`` was called (for monitoring)
        self.refreshes = 0

    @property
    def token(self) -> str | None:
        return self._token

    async def _renew(self, stale: str | None) -> str:
        """A token other than ``stale``: the one another request already got, or a fresh one (one call at a time)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._token is not None and self._token != stale:
                return self._token
            assert self._refresh is not None
            self.refreshes += 1
            token = await self._refresh()
            if not isinstance(token, str) or not token:
                raise TypeError(f"the refresh coroutine must return a non-empty str, not {token!r}")
            self._token = token
            return token

    async def __call__(self, request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        if not self._origin.allows(request.url):
            return await handler(request)
        token = self._token
        if token is None:
            token = await self._renew(None)
        request.headers["Authorization"] = f"Bearer {token}"
        resp = await handler(request)
        if resp.status != 401 or self._refresh is None:
            return resp
        await resp.release()
        token = await self._renew(token)
        if not rewind(request):
            raise cannot_resend(request, "sending it again with a refreshed token after a 401")
        request.headers["Authorization"] = f"Bearer {token}"
        return await handler(request)

    def __repr__(self) -> str:
        return f"BearerTokenMiddleware(origin={self._origin.origin}, refreshes={self.refreshes})"
