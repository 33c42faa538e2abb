"""Client middlewares: ``async def mw(request, handler) -> response``.

A middleware sees a :class:`ClientRequest` it may change (method, URL,
headers, body, timeout) before it calls ``handler(request)``, which runs the
rest of the chain and then sends the request.  It may call the handler more
than once (to retry, to re-authenticate); a body that cannot be sent again (a
consumed stream or async iterator) raises ``InvalidRequest`` on the second
send instead of going out empty.  ``request.session`` is the session, for
requests of the middleware's own: those pass ``middlewares=()`` and so never
run the chain again.

The chain is built per request from the session's ``middlewares`` or the
request's own (which replace them; ``()`` runs none); the first listed is the
outermost.  With no middleware nothing of this module runs; with one, the
middleware is called with the final handler directly.  Each redirect hop runs
the chain again.

Whatever the chain does, no connection stays checked out: a response that a
middleware dropped without releasing it, or every response if the chain
raised or was cancelled, is closed when the chain returns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict
from yarl import URL

if TYPE_CHECKING:
    from ._response import ClientResponse
    from ._session import ClientSession
    from ._timeouts import ClientTimeout

__all__ = ["ClientHandler", "ClientMiddleware", "ClientRequest"]


class ClientRequest:
    """A request on its way through the middleware chain.

    ``body`` is what will be sent: ``None``, ``bytes`` or a stream (from
    ``data=``/``json=``, already encoded; the Content-Type it implies is in
    ``headers``).  ``headers`` holds the caller's headers only; the session's
    defaults are added when the request is sent, and a name set here
    replaces the default of that name.
    """

    __slots__ = ("method", "url", "headers", "body", "timeout", "ssl", "session", "options", "_sent")

    def __init__(self, session: ClientSession, method: str, url: URL, headers: CIMultiDict[str], body: Any,
                 timeout: ClientTimeout | None, ssl: Any, options: dict[str, Any]) -> None:
        self.session = session
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.ssl = ssl
        #: the other keywords of the request (``cookies``, ``proxy``, ``expect100`` ...), passed on as given
        self.options = options
        self._sent: list[ClientResponse] = []

    def __repr__(self) -> str:
        return f"<ClientRequest {self.method} {self.url}>"


ClientHandler = Callable[[ClientRequest], Awaitable["ClientResponse"]]
ClientMiddleware = Callable[[ClientRequest, ClientHandler], Awaitable["ClientResponse"]]


class _Link:
    """One middleware bound to the rest of the chain."""

    __slots__ = ("mw", "rest")

    def __init__(self, mw: ClientMiddleware, rest: ClientHandler) -> None:
        self.mw = mw
        self.rest = rest

    def __call__(self, request: ClientRequest) -> Awaitable[ClientResponse]:
        return self.mw(request, self.rest)


async def run_chain(middlewares: tuple[ClientMiddleware, ...], request: ClientRequest,
                    final: ClientHandler) -> ClientResponse:
    """Run ``request`` through ``middlewares`` to ``final``; close every response not returned."""
    if len(middlewares) == 1:
        handler: Any = None
        call = middlewares[0](request, final)
    else:
        handler = final
        for mw in reversed(middlewares[1:]):
            handler = _Link(mw, handler)
        call = middlewares[0](request, handler)
    try:
        resp = await call
    except BaseException:
        for sent in request._sent:
            sent.close()
        raise
    for sent in request._sent:
        if sent is not resp:
            sent.close()   # dropped by a middleware: never left holding a connection
    return resp
