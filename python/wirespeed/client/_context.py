"""What ``session.get(...)`` returns: awaitable for the response, or an async context manager.

``await session.get(url)`` gives the response; ``async with session.get(url) as r``
gives it too, and on leaving closes a response whose body was not all read
(its connection closes: never pooled mid-message).  A response read to its
end, or whose body came with its head, has already let its connection go.

Two twins: :class:`RequestContext` here, and the C one (``src/client/_context.pyx``),
which drives the request's coroutine itself instead of through two more
coroutines.  ``wirespeed.client._twins`` pairs them with the wire twins.

:func:`plain` is what a request without options (``session.get(url)``, or with
``data=`` bytes and nothing else) returns.
Here it is the request's coroutine in a context; the C twin sends such a request
itself when the session has nothing for it to do (no middleware, auth, cookie to
send, proxy, new URL or idle connection to wait for), and hands everything else
to the same coroutine, so both twins behave as this one does.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._response import ClientResponse

__all__ = ["RequestContext", "plain"]


class RequestContext:
    """The request in flight: ``await`` it, or use it with ``async with``."""

    __slots__ = ("_coro", "_resp")

    def __init__(self, coro: Any) -> None:
        self._coro = coro
        self._resp: ClientResponse | None = None

    def __await__(self) -> Generator[Any, None, ClientResponse]:
        return self._coro.__await__()  # type: ignore[no-any-return]

    # A coroutine's three methods, so that ``asyncio.create_task(session.get(url))`` takes it,
    # as it takes aiohttp's (both twins are registered as ``collections.abc.Coroutine``).
    def send(self, value: Any) -> Any:
        return self._coro.send(value)

    def throw(self, *args: Any) -> Any:
        return self._coro.throw(*args)

    def close(self) -> None:
        self._coro.close()

    async def __aenter__(self) -> ClientResponse:
        resp: ClientResponse = await self._coro
        self._resp = resp
        return resp

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        resp = self._resp
        if resp is not None and (resp._conn is not None or resp._pieces):
            resp.close()   # the body is not all read: the connection closes, what is left goes


def plain(session: Any, method: str, url: Any, data: bytes | None = None) -> RequestContext:
    """``session.request(method, url)`` without options, or with ``data=`` bytes only."""
    return RequestContext(session._request(method, url) if data is None else session._request(method, url, data=data))


# A coroutine for asyncio (create_task), as aiohttp's is; the C twin is registered beside it.
Coroutine.register(RequestContext)
