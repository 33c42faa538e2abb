"""Client middlewares: ``async def mw(request, handler) -> response``.

A middleware sees a :class:`ClientRequest` it may change (method, URL,
headers, body, timeout) before it calls ``handler(request)``, which runs the
rest of the chain and then sends the request.  It may call the handler more
than once (to retry, to re-authenticate); a body that cannot be sent again (a
consumed stream or async iterator) raises ``InvalidRequest`` on the second
send instead of going out empty.  ``request.session`` is the session, for
requests of the middleware's own: those pass ``middlewares=()`` and so never
run the chain again.

The chain runs the session's ``middlewares`` or the request's own (which
replace them; ``()`` runs none); the first listed is the outermost.  With no
middleware nothing of this module runs.  The session prepares a request once
(target, encoded body, start time) and hands it to the first middleware with
the rest of the chain, which it builds once for its own middlewares; the
last handler sends the request as the middlewares left it, without preparing
it again.  Each redirect hop runs the chain again.  The total timeout counts
from the start of the request for every send and every hop.

Whatever the chain does, no connection stays checked out: a response that a
middleware dropped without releasing it, or every response if the chain
raised or was cancelled, is closed when the chain returns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict
from yarl import URL

if TYPE_CHECKING:
    from ._response import ClientResponse
    from ._session import ClientSession
    from ._timeouts import ClientTimeout

__all__ = ["ClientHandler", "ClientMiddleware", "ClientRequest", "chain", "close_sent", "sent"]


class ClientRequest:
    """A request on its way through the middleware chain.

    ``body`` is what will be sent: ``None``, ``bytes`` or a stream (from
    ``data=``/``json=``, already encoded; the Content-Type it implies is in
    ``headers``).  ``headers`` holds the caller's headers only; the session's
    defaults are added when the request is sent, and a name set here
    replaces the default of that name.

    The session prepares a request once: the parsed target, the encoded body
    and the start of the whole request (the total timeout counts from it) are
    kept here, and the final handler sends them as they are unless a
    middleware changed them.
    ``headers`` and ``options`` are built the first time a middleware looks.
    """

    __slots__ = ("method", "url", "body", "timeout", "ssl", "session", "_headers", "_options", "_target",
                 "_foreign", "_started", "_sent")

    def __init__(self, session: ClientSession, method: str, url: URL, headers: CIMultiDict[str] | None = None,
                 body: Any = None, timeout: ClientTimeout | None = None, ssl: Any = None,
                 options: dict[str, Any] | None = None) -> None:
        # The session does not come through here: it sets the same fields one by one (see
        # ClientSession._request), which costs half as much as a call of __init__.
        self.session = session
        self.method = method
        self.url = url
        self.body = body
        self.timeout = timeout
        self.ssl = ssl
        #: the caller's headers (with the body's Content-Type), or None for none yet: built when first read
        self._headers = headers
        #: (cookies, proxy, proxy_auth, expect100) as given, until ``options`` is first read: then that dict
        self._options: tuple[Any, Any, Any, bool] | dict[str, Any] = (
            (None, None, None, False) if options is None else options)
        self._target: Any = None    # the parsed URL, reused while ``url`` is the one it was parsed from
        self._foreign = False       # a redirect hop to another origin: origin-bound fields stay behind
        self._started: float | None = None   # loop time the request started at: the total counts from it
        self._sent: ClientResponse | list[ClientResponse] | None = None   # what the chain got: one, or a list

    @property
    def headers(self) -> CIMultiDict[str]:
        """The caller's headers (a ``CIMultiDict``), changed in place or replaced."""
        headers = self._headers
        if headers is None:
            headers = self._headers = CIMultiDict()
        return headers

    @headers.setter
    def headers(self, value: CIMultiDict[str]) -> None:
        self._headers = value

    @property
    def started(self) -> float | None:
        """The loop time (``loop.time()``) the whole request started at: its total timeout counts
        from here, across every send, retry and redirect hop.  ``None`` for a request a middleware
        built itself, until it is sent."""
        return self._started

    @property
    def options(self) -> dict[str, Any]:
        """The other keywords of the request (``cookies``, ``proxy``, ``proxy_auth``, ``expect100``), as given."""
        options = self._options
        if type(options) is tuple:
            cookies, proxy, proxy_auth, expect100 = options
            options = self._options = {"cookies": cookies, "proxy": proxy, "proxy_auth": proxy_auth,
                                       "expect100": expect100}
        return options  # type: ignore[return-value]

    @options.setter
    def options(self, value: dict[str, Any]) -> None:
        self._options = value

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


def chain(middlewares: Sequence[ClientMiddleware], final: ClientHandler) -> ClientHandler:
    """The handler that runs ``middlewares`` (the first listed outermost), then ``final``.

    It holds nothing of a request: a session builds the chain of its own middlewares once.
    """
    handler = final
    for mw in reversed(middlewares):
        handler = _Link(mw, handler)
    return handler


def sent(request: ClientRequest, response: ClientResponse) -> None:
    """Note a response the chain got for ``request``."""
    got = request._sent
    if got is None:
        request._sent = response   # the usual case: one send, no list
    elif isinstance(got, list):
        got.append(response)
    else:
        request._sent = [got, response]


def close_sent(request: ClientRequest, kept: ClientResponse | None = None) -> None:
    """Close every response the chain got for ``request`` but ``kept``: none stays holding a connection."""
    got = request._sent
    responses = got if isinstance(got, list) else [] if got is None else [got]
    for response in responses:
        if response is not kept:
            response.close()
