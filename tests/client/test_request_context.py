"""What ``session.get(...)`` returns, on both twins: awaited, used with ``async with``, cancelled.

The C twin drives the request's coroutine through its own ``am_send`` slot and
keeps the response for ``__aexit__``; the Python twin awaits it in
``__aenter__``.  These tests hold the two to one behaviour, including the
paths the C twin takes only now and then: ``send``/``__next__`` when a tracer
is set, ``throw`` when the task is cancelled, and a coroutine awaited twice.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from typing import Any

import pytest

from support.client_apps import SMALL
from support.client_kit import App, assert_settled
from wirespeed import ClientSession, ReadTimeout
from wirespeed.client._context import RequestContext
from wirespeed.client._twins import C, client_twins
from wirespeed.wire import Wire


def test_a_session_pairs_the_context_twin_with_the_wire_twin(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> type:
        async with ClientSession(wire=wire_impl) as s:
            ctx = s.get(app.url("/small"))
            assert inspect.isawaitable(ctx)
            async with ctx as r:
                assert await r.read() == SMALL
            return type(ctx)

    kind = run(main())
    assert kind is client_twins(wire_impl).context
    if wire_impl.IMPLEMENTATION == "c":
        assert C is not None and kind is C.context and kind is not RequestContext
    else:
        assert kind is RequestContext


def test_async_with_gives_the_response_and_closes_an_unread_one(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/small")) as r:
                assert r.status == 200
            # left unread: closed, what was left went; its connection is pooled if the body had
            # arrived whole, closed if not (uvicorn may send head and body apart): nothing in use
            assert r.closed
            assert_settled(s.stats)
            async with s.get(app.url("/stream?size=4000000")) as r:
                first = await r.content.read(10)
                assert len(first) == 10
            assert r.closed
            stats = s.stats
            # the one connection carried the partly read response: closed, not pooled
            assert_settled(stats, idle=0)
            assert stats.opened == stats.closed >= 1

    run(main())


def test_awaiting_gives_the_response(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            r = await s.get(app.url("/small"))
            assert await r.read() == SMALL
            # the same through the futures machinery
            r2 = await asyncio.ensure_future(s.get(app.url("/small")))
            rs = await asyncio.gather(s.get(app.url("/small")), s.get(app.url("/small")))
            for x in (r2, *rs):
                assert await x.read() == SMALL

    run(main())


def test_a_task_can_be_made_of_it_as_of_aiohttps(wire_impl: Wire, run: Any, app: App) -> None:
    """``asyncio.create_task(session.get(url))`` works (aiohttp's context is a Coroutine too)."""
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            ctx = s.get(app.url("/small"))
            assert asyncio.iscoroutine(ctx)
            tasks = [asyncio.create_task(s.get(app.url("/small"))) for _ in range(3)]
            for r in await asyncio.gather(*tasks):
                assert await r.read() == SMALL
            r = await asyncio.create_task(ctx)
            assert await r.read() == SMALL
            slow = asyncio.create_task(s.get(app.url("/slow?delay=5")))
            await asyncio.sleep(0.1)
            slow.cancel()   # thrown into the request through the context
            with pytest.raises(asyncio.CancelledError):
                await slow
            assert_settled(s.stats)

    run(main())


def test_an_error_reaches_the_caller_and_async_with_body_never_runs(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            entered = False
            with pytest.raises(ReadTimeout):
                async with s.get(app.url("/slow?delay=5"), timeout=_timeout(read=0.1)):
                    entered = True
            assert not entered
            assert_settled(s.stats)
            async with s.get(app.url("/small")) as r:   # the session goes on
                assert await r.read() == SMALL

    run(main())


def test_cancelling_the_task_throws_into_the_request(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async def use() -> None:
                async with s.get(app.url("/slow?delay=5")):
                    raise AssertionError("never entered")

            task = asyncio.ensure_future(use())
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert_settled(s.stats)
            async with s.get(app.url("/small")) as r:
                assert await r.read() == SMALL

    run(main())


def test_a_context_awaited_twice_is_refused(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            ctx = s.get(app.url("/small"))
            r = await ctx
            assert await r.read() == SMALL
            with pytest.raises(RuntimeError, match="cannot reuse already awaited coroutine"):
                await ctx

    run(main())


def test_under_a_tracer_the_response_still_comes_back(wire_impl: Wire, run: Any, app: App) -> None:
    """With a trace function set, ``await`` resumes through ``send`` (C twin): same results."""
    def tracer(frame: Any, event: str, arg: Any) -> Any:
        return None

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            sys.settrace(tracer)
            try:
                async with s.get(app.url("/small")) as r:
                    body = await r.read()
                r2 = await s.get(app.url("/small"))
            finally:
                sys.settrace(None)
            assert body == SMALL and await r2.read() == SMALL
            assert_settled(s.stats, idle=1)

    run(main())


def _timeout(**kw: Any) -> Any:
    from wirespeed import ClientTimeout

    return ClientTimeout(**kw)


def test_a_context_closed_unawaited_sends_nothing_and_warns_nothing(wire_impl: Wire, run: Any, app: App) -> None:
    """``close()`` ends the request's coroutine before it ran: no request, no warning; a
    value sent into it before it started is refused as a coroutine refuses it."""
    import gc
    import warnings

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                ctx = s.get(app.url("/small"))
                ctx.close()
                del ctx
                gc.collect()
            assert [w for w in seen if issubclass(w.category, RuntimeWarning)] == []
            ctx = s.get(app.url("/small"))
            with pytest.raises(TypeError, match="non-None value"):
                ctx.send(1)
            ctx.close()
            assert s.stats.opened == 0   # nothing was sent
            async with s.get(app.url("/small")) as r:
                assert await r.read() == SMALL

    run(main())


@pytest.mark.parametrize("args", [
    (ValueError("x"),),
    (ValueError,),
    (ValueError, "x"),
    (ValueError, ("x", 2)),
    (ValueError, ValueError("x")),
], ids=["instance", "class", "class-value", "class-args", "class-instance"])
def test_throw_before_it_started_raises_what_a_coroutine_raises(wire_impl: Wire, run: Any, app: App,
                                                                args: tuple[Any, ...]) -> None:
    """Thrown into before its first send, a context raises what the request's coroutine would
    (an exception, or a class with its value made into one), sends nothing, and is spent after."""
    import warnings

    async def unstarted() -> None:
        return None

    def outcome(aw: Any) -> tuple[type, tuple[Any, ...], list[type]]:
        """What throw(*args) raises, and the categories of what it warns (the (type, value)
        form is deprecated from 3.12 on)."""
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            with pytest.raises(BaseException) as raised:
                aw.throw(*args)
        return type(raised.value), raised.value.args, [w.category for w in seen]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/small")) as r:   # warm: the C twin's plain path
                await r.read()
            ctx = s.get(app.url("/small"))
            assert outcome(ctx) == outcome(unstarted())
            with pytest.raises(RuntimeError, match="cannot reuse already awaited coroutine"):
                await ctx
            with pytest.raises(RuntimeError, match="cannot reuse already awaited coroutine"):
                ctx.throw(KeyError)
            assert_settled(s.stats, idle=1)   # its connection stays idle: nothing was sent
            assert s.stats.opened == 1

    run(main())


@pytest.mark.parametrize("args", [(1,), (KeyError("k"), "value")], ids=["not-an-exception", "instance-value"])
def test_throw_of_what_is_not_an_exception_leaves_it_unstarted(wire_impl: Wire, run: Any, app: App,
                                                               args: tuple[Any, ...]) -> None:
    import warnings

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/small")) as r:
                await r.read()
            ctx = s.get(app.url("/small"))
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                with pytest.raises(TypeError):
                    ctx.throw(*args)
            # the (type, value) form warns from 3.12 on, as a coroutine's throw() does
            deprecated = len(args) > 1 and sys.version_info >= (3, 12)
            assert [w.category for w in seen] == ([DeprecationWarning] if deprecated else [])
            async with ctx as r:   # refused arguments leave it unstarted, as a coroutine
                assert await r.read() == SMALL

    run(main())
