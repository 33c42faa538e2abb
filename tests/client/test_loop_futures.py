"""The future a request waits on is the event loop's: ``loop.create_future()``'s kind, on its loop.

The C connection makes asyncio's own Future itself when the loop's
``create_future`` is a stock one (asyncio's or uvloop's, which both make
``asyncio.Future(loop=loop)``), and calls ``create_future`` for any other
loop, which may make futures of its own kind.  Both twins, both stock loops,
and a loop with a ``create_future`` of its own.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest

from support.client_kit import App
from wirespeed import ClientSession
from wirespeed.wire import Wire


async def _waiter_while_in_flight(wire_impl: Wire, app: App) -> tuple[Any, Any]:
    """The connection's waiter while a slow response is awaited, and the response's body."""
    async with ClientSession(wire=wire_impl) as s:
        async with s.get(app.url("/small")) as r:   # a connection to find
            await r.read()
        task = asyncio.ensure_future(s.get(app.url("/slow?delay=0.3")))
        (conn,) = s._pool._conns
        for _ in range(100):
            if conn.waiter is not None:
                break
            await asyncio.sleep(0.01)
        waiter = conn.waiter
        async with await task as r:
            body = await r.read()
        return waiter, body


def test_a_stock_loop_gives_asyncio_futures_on_itself(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        waiter, body = await _waiter_while_in_flight(wire_impl, app)
        assert type(waiter) is asyncio.Future
        assert waiter.get_loop() is asyncio.get_running_loop()
        assert waiter.done() and body

    run(main())


class _OwnFuture(asyncio.Future):   # type: ignore[type-arg]
    pass


class _LoopWithOwnFutures(asyncio.SelectorEventLoop):   # type: ignore[misc,name-defined]
    made = 0

    def create_future(self) -> asyncio.Future[Any]:
        type(self).made += 1
        return _OwnFuture(loop=self)


@pytest.mark.skipif(sys.platform == "win32", reason="a selector loop of its own")
def test_a_loop_with_its_own_create_future_is_asked(wire_impl: Wire, app: App) -> None:
    loop = _LoopWithOwnFutures()
    try:
        _LoopWithOwnFutures.made = 0
        waiter, body = loop.run_until_complete(_waiter_while_in_flight(wire_impl, app))
    finally:
        loop.close()
    assert type(waiter) is _OwnFuture
    assert body and _LoopWithOwnFutures.made >= 2
