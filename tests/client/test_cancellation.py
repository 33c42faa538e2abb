"""Cancellation and timeouts, phase by phase: the session survives, the pool stays consistent.

The matrix: each phase of a request (connecting, waiting for the pool,
sending the body, waiting for the head, reading the body) is interrupted in
each way that applies: the task is cancelled, the client's own timeout fires,
an outer ``asyncio.wait_for`` gives up, and, once there is a response, the
caller leaves ``async with`` early.  After each, the same session must make a
request that succeeds, ``s.stats`` must show nothing in use or waiting and
the interrupted connection closed (not idle), the server must see that
connection closed, and no asyncio task may be left alive.

Each phase is staged with the fault server on 127.0.0.1 (connecting uses
``backlog_full``, a local listener whose queue is full so the SYN is
dropped), and the follow-up request goes to a fault-server connection that
answers normally.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import wirespeed
from support.client_kit import App, assert_no_new_tasks, assert_settled, eventually, live_tasks
from support.fault_server import Conn, FaultServer, backlog_full, response, serve
from wirespeed import ClientSession, ClientTimeout
from wirespeed.wire import Wire

KiB = 1024
OK = response(200, b"ok")
#: How long a test lets a phase run before it interrupts it.
SETTLE = 0.15
#: The client's own timeouts in these tests.
SHORT = 0.2


class Staged:
    """One phase staged: the session's timeout, the URL to request, what is sent, what to check after."""

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.url = url
        self.kwargs = kwargs
        self.pulled = 0


async def _endless_body(staged: Staged) -> AsyncIterator[bytes]:
    while True:
        staged.pulled += 1
        yield b"b" * (64 * KiB)


def _stage(phase: str, fault: FaultServer, target: str | None) -> tuple[Staged, dict[str, Any], type[Exception]]:
    """The request that gets stuck in ``phase``, the ClientTimeout that fires there, and its class."""
    if phase == "connect":
        assert target is not None
        return Staged(target), {"connect": SHORT}, wirespeed.ConnectTimeout
    if phase == "pool":
        return Staged(fault.url("/second")), {"pool": SHORT}, wirespeed.PoolTimeout
    if phase == "send":
        staged = Staged(fault.url("/upload"))
        staged.kwargs["data"] = _endless_body(staged)
        return staged, {"total": SETTLE + SHORT}, wirespeed.TotalTimeout
    if phase == "head":
        return Staged(fault.url("/head")), {"read": SHORT}, wirespeed.ReadTimeout
    if phase == "body":
        return Staged(fault.url("/body")), {"read": SHORT}, wirespeed.ReadTimeout
    raise ValueError(phase)


def _scripts(phase: str, fault: FaultServer) -> list[Any]:
    """Connection 0 gets stuck in ``phase`` (in ``pool``: it is the held one); the last one answers."""

    async def hold(conn: Conn) -> None:  # a response whose body never ends: the pool's only slot stays taken
        await conn.read_request()
        await conn.send(response(200, headers=[("Content-Length", "1000")], length=False) + b"x" * 10)
        await conn.stall()

    async def no_reading(conn: Conn) -> None:  # read the head only, then let the client's send block
        await conn.read_head()
        await fault.wait_gate()
        await conn.read_until_eof(timeout=5)

    async def no_answer(conn: Conn) -> None:
        await conn.read_request()
        await conn.stall()

    answer = serve(OK, OK, then="keep")
    first = {"connect": None, "pool": hold, "send": no_reading, "head": no_answer, "body": hold}[phase]
    return [answer] if first is None else [first, answer]


PHASES = ["connect", "pool", "send", "head", "body"]
#: Leaving ``async with`` early is possible only once there is a response: in the body phase.
MATRIX = [(p, h) for p in PHASES for h in ("cancel", "client-timeout", "wait_for")] + [("body", "exit-async-with")]


@pytest.mark.parametrize(("phase", "how"), MATRIX, ids=[f"{p}-{h}" for p, h in MATRIX])
def test_interrupted_phase_leaves_the_session_usable(
    wire_impl: Wire, run: Any, fault: FaultServer, phase: str, how: str
) -> None:
    fault.script = _scripts(phase, fault)

    async def main(target: str | None) -> None:
        staged, timeout_kwargs, timeout_class = _stage(phase, fault, target)
        limits: dict[str, Any] = {"total": None, "connect": None}
        if how == "client-timeout":
            limits.update(timeout_kwargs)
        session_timeout = ClientTimeout(**limits)
        before = live_tasks()
        async with ClientSession(wire=wire_impl, limit=1 if phase == "pool" else 100, timeout=session_timeout) as s:
            held = None
            if phase == "pool":
                held = await s.get(fault.url("/held"))  # checked out until closed below
                assert s.stats.in_use == 1

            async def stuck() -> None:
                async with s.post(staged.url, **staged.kwargs) if "data" in staged.kwargs \
                        else s.get(staged.url, **staged.kwargs) as r:
                    if how == "exit-async-with":
                        await r.content.read(5)
                        return  # leaves async with mid-body
                    await r.read()

            if how == "cancel":
                task = asyncio.ensure_future(stuck())
                await asyncio.sleep(SETTLE)
                if phase == "send":
                    await eventually(lambda: staged.pulled > 0, what="the body being pulled")
                if phase == "pool":
                    assert s.stats.waiting == 1
                assert not task.done(), task
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
            elif how == "client-timeout":
                with pytest.raises(timeout_class) as info:
                    await stuck()
                assert isinstance(info.value, asyncio.TimeoutError) and isinstance(info.value, wirespeed.TimeoutError)
            elif how == "wait_for":
                with pytest.raises(asyncio.TimeoutError) as info:
                    await asyncio.wait_for(stuck(), SETTLE)
                assert not isinstance(info.value, wirespeed.ClientError)  # wait_for's own, not the client's
            else:
                await stuck()

            if held is not None:
                held.close()
            fault.open_gate()
            assert_settled(s.stats, idle=0)
            assert s.stats.closed == (0 if phase == "connect" else 1)
            async with s.get(fault.url("/after")) as r:  # the same session goes on
                assert await r.read() == b"ok"
            assert_settled(s.stats, idle=1)
        await fault.finished()  # every stuck script saw its connection closed by the client
        await assert_no_new_tasks(before)
        if phase == "send":
            (upload,) = [c for c in fault.connections if c.received.startswith(b"POST /upload ")]
            assert upload.eof

    if phase == "connect":
        with backlog_full() as (host, port):
            run(main(f"http://{host}:{port}/"))
    else:
        run(main(None))


# --------------------------------------------------------------------------- each timeout raises its class


def test_connect_timeout(wire_impl: Wire, run: Any) -> None:
    async def main(url: str) -> None:
        loop = asyncio.get_running_loop()
        async with ClientSession(wire=wire_impl, timeout=ClientTimeout(connect=SHORT)) as s:
            start = loop.time()
            with pytest.raises(wirespeed.ConnectTimeout) as info:
                await s.get(url)
            assert SHORT * 0.9 <= loop.time() - start < SHORT + 1.0
            assert info.value.method == "GET" and str(info.value.url) == url
            assert s.stats.opened == 0 and s.stats.connecting == 0
            assert_settled(s.stats)

    with backlog_full() as (host, port):
        run(main(f"http://{host}:{port}/x"))


def test_pool_timeout_while_the_only_connection_is_held(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, limit=1, timeout=ClientTimeout(pool=SHORT)) as s:
            async with s.get(app.url("/stream?size=4000000")) as held:
                with pytest.raises(wirespeed.PoolTimeout):
                    await s.get(app.url("/small"))
                assert s.stats.waiting == 0 and s.stats.in_use == 1
                await held.read()
            async with s.get(app.url("/small")) as r:
                # read to its end: uvicorn may send the body after the head, and leaving
                # `async with` before the end closes the connection (docs/client.md)
                assert r.status == 200 and await r.read()
            assert_settled(s.stats, idle=1)

    run(main())


def test_pool_timeout_with_limit_per_host(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, limit_per_host=1, timeout=ClientTimeout(pool=SHORT)) as s:
            held = await s.get(app.url("/slow?delay=0.5&body=1"))
            with pytest.raises(wirespeed.PoolTimeout):
                await s.get(app.url("/small"))
            held.close()
            async with s.get(app.url("/small")) as r:
                assert r.status == 200 and await r.read()   # to its end (uvicorn may send head and body apart)

    run(main())


@pytest.mark.parametrize("where", ["head", "body"])
def test_read_timeout_on_a_stalled_server(wire_impl: Wire, run: Any, fault: FaultServer, where: str) -> None:
    async def script(conn: Conn) -> None:
        await conn.read_request()
        if where == "body":
            await conn.send(response(200, headers=[("Content-Length", "100")], length=False) + b"x" * 10)
        await conn.stall()

    fault.script = script

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with ClientSession(wire=wire_impl, timeout=ClientTimeout(read=SHORT)) as s:
            start = loop.time()
            with pytest.raises(wirespeed.ReadTimeout) as info:
                async with s.get(fault.url()) as r:
                    assert where == "body" and r.status == 200
                    await r.read()
            assert SHORT * 0.9 <= loop.time() - start < SHORT + 1.0
            assert isinstance(info.value, asyncio.TimeoutError)
            assert_settled(s.stats, idle=0)
        await fault.finished()

    run(main())


def test_read_timeout_is_between_reads_not_for_the_whole_body(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(response(200, headers=[("Content-Length", "20")], length=False))
        await conn.drip(b"x" * 20, delay=0.03)  # 0.6 s in all, never SHORT without a byte
        await conn.stall()

    fault.script = script

    async def main() -> None:
        async with ClientSession(wire=wire_impl, timeout=ClientTimeout(read=SHORT)) as s:
            async with s.get(fault.url()) as r:
                assert await r.read() == b"x" * 20

    run(main())


def test_total_timeout_covers_a_body_that_keeps_dripping(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(response(200, headers=[("Content-Length", "1000")], length=False))
        await conn.drip(b"x" * 1000, delay=0.02)
        await conn.stall()

    fault.script = script

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with ClientSession(wire=wire_impl, timeout=ClientTimeout(total=0.4, read=SHORT)) as s:
            start = loop.time()
            with pytest.raises(wirespeed.TotalTimeout):
                async with s.get(fault.url()) as r:
                    await r.read()
            assert 0.35 <= loop.time() - start < 1.5
            assert_settled(s.stats, idle=0)
        await fault.finished()

    run(main())


def test_total_timeout_on_a_slow_real_server(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, timeout=ClientTimeout(total=SHORT)) as s:
            with pytest.raises(wirespeed.TotalTimeout):
                await s.get(app.url("/slow?delay=1"))
            async with s.get(app.url("/small")) as r:
                assert r.status == 200 and await r.read()   # to its end (uvicorn may send head and body apart)
            assert s.stats.closed == 1
            assert_settled(s.stats, idle=1)

    run(main())


# --------------------------------------------------------------------------- many at once


def test_cancelling_many_concurrent_requests_leaves_nothing_behind(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        before = live_tasks()
        async with ClientSession(wire=wire_impl, limit=4) as s:
            tasks = [asyncio.ensure_future(s.get(app.url("/slow?delay=2"))) for _ in range(12)]
            await eventually(lambda: s.stats.in_use == 4, what="4 connections in use")
            assert s.stats.waiting == 8
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(isinstance(r, asyncio.CancelledError) for r in results)
            assert_settled(s.stats, idle=0)
            assert s.stats.closed == 4
            responses = await asyncio.gather(*(s.get(app.url("/small")) for _ in range(8)))
            # each read to its end: a response whose body came after its head holds its connection until then
            assert all([await r.read() for r in responses])
            assert_settled(s.stats, idle=4)
        await assert_no_new_tasks(before)

    run(main())


def test_closing_the_session_with_requests_in_flight_fails_them(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = serve(then="stall")

    async def main() -> None:
        before = live_tasks()
        s = ClientSession(wire=wire_impl)
        task = asyncio.ensure_future(s.get(fault.url()))
        await asyncio.sleep(SETTLE)
        await s.close()
        done, _ = await asyncio.wait({task}, timeout=1)
        try:
            assert done, "a request in flight still waits 1 s after its session closed"
            assert isinstance(task.exception(), wirespeed.ClientError), task.exception()
        finally:
            task.cancel()
            await asyncio.wait({task})
        assert s.closed
        with pytest.raises(wirespeed.ClientError):
            await s.get(fault.url())
        await fault.finished()  # the client closed the connection
        await assert_no_new_tasks(before)

    run(main())
