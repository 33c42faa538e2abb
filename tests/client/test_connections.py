"""Connections: reused when it is safe, closed when it is not, retried only when the method allows.

The apps' ``/count`` tells which TCP connection carried a request; the fault
server counts connections (``fault.accepted``) and records every byte each
one carried, so these tests see reuse from the server's side, not from the
client's own bookkeeping.
"""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

import wirespeed
from support.client_apps import HINTS_BODY, HTTP10_BODY, SMALL, stream_body
from support.client_kit import App, assert_settled, eventually, within
from support.fault_server import Conn, FaultServer, ok, response, serve
from wirespeed import ClientSession
from wirespeed.wire import Wire

KiB = 1024
MiB = 1024 * KiB
OK = response(200, b"ok")


async def count(s: ClientSession, app: App, method: str = "GET") -> tuple[int, int]:
    """(connection id, requests it carried) as the app saw them."""
    async with s.request(method, app.url("/count"), data=b"x" if method == "POST" else None) as r:
        doc = await r.json()
    return doc["connection"], doc["requests"]


# --------------------------------------------------------------------------- reuse


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sequential_small_requests_use_one_connection(wire_impl: Wire, run: Any, app: App, method: str) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            seen = [await count(s, app, method) for _ in range(10)]
            assert len({conn for conn, _ in seen}) == 1
            assert [n for _, n in seen] == list(range(1, 11))
            assert s.stats.opened == 1 and s.stats.closed == 0
            assert_settled(s.stats, idle=1)

    run(main())


@pytest.mark.parametrize("path", ["/chunked?pieces=100&size=1000", f"/stream?size={2 * MiB}", "/gzip", "/status/204"])
def test_connection_is_reused_after_each_kind_of_complete_body(wire_impl: Wire, run: Any, app: App, path: str) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            first = await count(s, app)
            async with s.get(app.url(path)) as r:
                await r.read()
            assert await count(s, app) == (first[0], 2)  # /count counts only itself
            assert_settled(s.stats, idle=1)

    run(main())


@pytest.mark.parametrize("size", [300 * KiB, 1 * MiB])
def test_connection_is_reused_after_a_body_that_filled_the_read_buffer(
    wire_impl: Wire, run: Any, fault: FaultServer, size: int
) -> None:
    body = stream_body(size)
    fault.script = serve(response(200, body), OK, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url()) as r:
                await asyncio.sleep(0.2)  # the whole body arrives before the caller reads: reading pauses
                assert await within(r.read(), what="reading the first body") == body
            r = await within(s.get(fault.url()), what="the request after it")
            assert await r.read() == b"ok"
        await fault.finished()
        assert fault.accepted == 1

    run(main())


def test_exiting_async_with_after_a_complete_small_body_keeps_the_connection(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    # Head and body in one write: the body is complete when the caller gets the response.
    fault.script = serve(response(200, b"small body"), OK, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url()):
                pass  # not read, but complete
            assert_settled(s.stats, idle=1)
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
        await fault.finished()
        assert fault.accepted == 1

    run(main())


def test_concurrent_requests_open_at_most_limit_connections(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, limit=2) as s:
            peak = 0

            async def one() -> bytes:
                nonlocal peak
                async with s.get(app.url("/slow?delay=0.05")) as r:
                    peak = max(peak, s.stats.in_use)
                    return await r.read()

            bodies = await asyncio.gather(*(one() for _ in range(6)))
            assert len(set(bodies)) == 1
            assert s.stats.opened == 2 and peak <= 2
            assert_settled(s.stats, idle=2)

    run(main())


def test_limit_per_host_bounds_one_origin(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, limit_per_host=1) as s:

            async def one() -> bytes:
                async with s.get(app.url("/slow?delay=0.02")) as r:
                    return await r.read()

            await asyncio.gather(*(one() for _ in range(4)))
            assert s.stats.opened == 1
            ids = {await count(s, app) for _ in range(2)}
            assert len({conn for conn, _ in ids}) == 1

    run(main())


# --------------------------------------------------------------------------- not reused


def test_connection_close_response_means_a_new_connection_next_time(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            first = await count(s, app)
            async with s.get(app.url("/close")) as r:
                assert await r.read() == b"closing"
            conn, n = await count(s, app)
            assert conn != first[0] and n == 1
            assert s.stats.opened == 2 and s.stats.closed == 1
            assert_settled(s.stats, idle=1)

    run(main())


def test_http10_response_from_aiohttp_is_not_reused(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            first = await count(s, aiohttp_app)
            async with s.get(aiohttp_app.url("/http10")) as r:
                assert r.version == (1, 0) and await r.read() == HTTP10_BODY
            conn, n = await count(s, aiohttp_app)
            assert conn != first[0] and n == 1

    run(main())


def test_http10_response_with_a_length_is_not_reused_even_if_the_server_stays(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    fault.script = [serve(response(200, b"ten bytes!", version="HTTP/1.0"), then="keep"), serve(OK, then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url("/a")) as r:
                assert r.version == (1, 0) and await r.read() == b"ten bytes!"
            async with s.get(fault.url("/b")) as r:
                assert await r.read() == b"ok"
            assert_settled(s.stats, idle=1)
        await fault.finished()
        assert fault.accepted == 2
        assert [len(c.requests) for c in fault.connections] == [1, 1]
        assert fault.received(0) == fault.connections[0].requests[0].head  # nothing more came on the first

    run(main())


def test_read_until_close_body(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    body = stream_body(300 * KiB)

    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(response(200, headers=[("Connection", "close")], length=False))
        for i in range(0, len(body), 50 * KiB):
            await conn.send(body[i:i + 50 * KiB])
            await asyncio.sleep(0.005)
        await conn.close()

    fault.script = [script, serve(OK, then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url()) as r:
                assert r.content_length is None
                assert await r.read() == body
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
            assert s.stats.opened == 2 and s.stats.closed == 1
        await fault.finished()
        assert fault.accepted == 2

    run(main())


def test_interim_1xx_responses_are_skipped_and_the_connection_reused(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    interim = response(100, length=False) + response(103, headers=[("Link", "</s.css>; rel=preload")], length=False)
    fault.script = serve(interim + response(200, b"final", [("X-Final", "yes")]), interim + OK, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url()) as r:
                assert (r.status, r.headers["X-Final"], await r.read()) == (200, "yes", b"final")
                assert "Link" not in r.headers
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
        await fault.finished()
        assert fault.accepted == 1

    run(main())


def test_early_hints_from_aiohttp(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(aiohttp_app.url("/hints")) as r:
                assert r.status == 200 and await r.read() == HINTS_BODY

    run(main())


@pytest.mark.parametrize("when", ["in-the-same-write", "after-a-pause", "a-partial-head-in-the-same-write",
                                  "an-empty-line-in-the-same-write"])
def test_garbage_after_a_complete_response_never_reaches_the_next_request(
    wire_impl: Wire, run: Any, fault: FaultServer, when: str
) -> None:
    garbage = response(200, b"GARBAGE")  # it even looks like a response
    if when == "a-partial-head-in-the-same-write":
        garbage, when = b"HTTP/1.1 2", "in-the-same-write"  # no event: only the parser's idle tells
    elif when == "an-empty-line-in-the-same-write":
        garbage, when = b"\r\n", "in-the-same-write"

    async def script(conn: Conn) -> None:
        await conn.read_request()
        if when == "in-the-same-write":
            await conn.send(response(200, b"first") + garbage)
        else:
            await conn.send(response(200, b"first"))
            await asyncio.sleep(0.1)
            await conn.send(garbage)
        await conn.stall()

    fault.script = [script, serve(response(200, b"second"), then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url()) as r:
                assert await r.read() == b"first"
            await asyncio.sleep(0.2)
            async with s.get(fault.url()) as r:
                assert await r.read() == b"second"
            assert s.stats.closed == 1
            assert_settled(s.stats, idle=1)
        await fault.finished()
        assert fault.accepted == 2
        assert len(fault.connections[0].requests) == 1
        assert fault.received(0) == fault.connections[0].requests[0].head

    run(main())


def test_an_idle_connection_expires_after_keepalive_timeout(wire_impl: Wire, run: Any, app: App) -> None:
    """Reused within ``keepalive_timeout``; closed by the pool once idle longer, and the next request opens one."""
    async def main() -> None:
        async with ClientSession(wire=wire_impl, keepalive_timeout=0.5) as s:
            async with s.get(app.url("/small")) as r:
                await r.read()
            await asyncio.sleep(0.05)
            async with s.get(app.url("/small")) as r:
                await r.read()
            assert s.stats.opened == 1 and s.stats.idle == 1
            await asyncio.sleep(1.5)   # the sweeper runs 0.5 s after the first release, then every 0.5 s
            assert s.stats.idle == 0 and s.stats.closed == 1
            async with s.get(app.url("/small")) as r:
                assert await r.read() == SMALL
            assert s.stats.opened == 2
            assert_settled(s.stats, idle=1)

    run(main())


def test_an_idle_connection_past_keepalive_timeout_is_not_taken_before_the_sweep(
    wire_impl: Wire, run: Any, app: App
) -> None:
    """A connection idle past its time is closed when a request would take it, sweeper or not."""
    async def main() -> None:
        async with ClientSession(wire=wire_impl, keepalive_timeout=0.2) as s:
            async with s.get(app.url("/small")) as r:
                await r.read()
            pool = s._pool
            assert pool is not None and pool._sweeper is not None
            pool._sweeper.cancel()   # only the check on taking is left
            pool._sweeper = None
            await asyncio.sleep(0.35)
            assert s.stats.idle == 1
            async with s.get(app.url("/small")) as r:
                assert await r.read() == SMALL
            assert s.stats.opened == 2 and s.stats.closed == 1

    run(main())


def test_idle_connection_the_server_closed_is_not_reused_even_for_post(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    fault.script = [serve(OK, then="close"), serve(response(200, b"fresh"), then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
            await asyncio.sleep(0.1)  # the FIN arrives while the connection is idle
            async with s.post(fault.url(), data=b"payload") as r:
                assert await r.read() == b"fresh"
        await fault.finished()
        assert fault.accepted == 2
        assert fault.connections[1].requests[0].body == b"payload"

    run(main())


# --------------------------------------------------------------------------- retry of a kept-alive connection


def _dies_on_second_request(how: str) -> Any:
    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(OK)
        await conn.read_request()  # the reused connection carries the request...
        if how == "rst":
            conn.reset()  # ...and dies before any response byte
        else:
            await conn.close()

    return script


RETRIED = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]
NOT_RETRIED = ["POST", "PATCH"]


@pytest.mark.parametrize("how", ["fin", "rst"])
@pytest.mark.parametrize("method", RETRIED + NOT_RETRIED)
def test_kept_alive_connection_lost_before_the_response_is_retried_only_for_idempotent_methods(
    wire_impl: Wire, run: Any, fault: FaultServer, method: str, how: str
) -> None:
    fault.script = [_dies_on_second_request(how), serve(ok(b"retried"), ok(b"after"), then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url("/first")) as r:
                assert await r.read() == b"ok"
            if method in RETRIED:
                async with s.request(method, fault.url("/second"), data=b"body" if method == "PUT" else None) as r:
                    assert r.status == 200
                    assert await r.read() == (b"" if method == "HEAD" else b"retried")
            else:
                with pytest.raises(wirespeed.ServerDisconnectedError) as info:
                    await s.request(method, fault.url("/second"), data=b"body")
                assert info.value.method == method and isinstance(info.value, wirespeed.ClientConnectionError)
            async with s.get(fault.url("/third")) as r:  # the session goes on
                assert await r.read() in (b"after", b"retried")
            assert_settled(s.stats, idle=1)
        await fault.finished()
        assert fault.accepted == 2
        second = [r for r in fault.requests() if r.target == "/second"]
        if method in RETRIED:
            assert len(second) == 2 and second[0].method == second[1].method == method
            assert second[0].body == second[1].body
        else:
            assert len(second) == 1

    run(main())


def test_retry_happens_once(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    async def dies(conn: Conn) -> None:
        await conn.read_request()
        await conn.close()

    fault.script = [_dies_on_second_request("fin"), dies, dies]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url()) as r:
                await r.read()
            with pytest.raises(wirespeed.ServerDisconnectedError):
                await s.get(fault.url("/again"))
            assert_settled(s.stats)
        await fault.finished()
        assert fault.accepted == 2

    run(main())


def test_fresh_connection_lost_before_the_response_is_not_retried(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    async def dies(conn: Conn) -> None:
        await conn.read_request()
        await conn.close()

    fault.script = [dies, serve(OK)]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            with pytest.raises(wirespeed.ServerDisconnectedError):
                await s.get(fault.url())
            assert_settled(s.stats, idle=0)
        await fault.finished()
        assert fault.accepted == 1

    run(main())


# --------------------------------------------------------------------------- release()


def test_release_drains_a_small_known_rest_and_reuses_the_connection(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    rest = stream_body(40 * KiB)

    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(response(200, headers=[("Content-Length", str(10 + len(rest)))], length=False) + b"0123456789")
        await asyncio.sleep(0.1)  # the rest arrives after the caller gave up on the body
        await conn.send(rest)
        await conn.read_request()
        await conn.send(OK)
        await conn.stall()

    fault.script = script

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            r = await s.get(fault.url())
            assert await r.content.read(5) == b"01234"
            await r.release()
            assert_settled(s.stats, idle=1)
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
            assert s.stats.opened == 1
        await fault.finished()
        assert fault.accepted == 1

    run(main())


@pytest.mark.parametrize("framing", ["large-length", "chunked", "until-close"])
def test_release_closes_instead_of_reading_a_large_or_unknown_rest(
    wire_impl: Wire, run: Any, fault: FaultServer, framing: str
) -> None:
    heads = {
        "large-length": response(200, headers=[("Content-Length", str(100 * MiB))], length=False),
        "chunked": response(200, headers=[("Transfer-Encoding", "chunked")], length=False),
        "until-close": response(200, headers=[("Connection", "close")], length=False),
    }

    def piece(data: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(data), data) if framing == "chunked" else data

    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(heads[framing] + piece(b"y" * 1000))
        # An endless body: a client that reads it to keep the connection never returns.
        while not conn.writer.is_closing():
            await conn.send(piece(b"z" * 64 * KiB))
            await asyncio.sleep(0.001)

    fault.script = [script, serve(OK, then="keep")]

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with ClientSession(wire=wire_impl) as s:
            r = await s.get(fault.url())
            await r.content.read(1)
            start = loop.time()
            await r.release()
            assert loop.time() - start < 0.5
            assert_settled(s.stats, idle=0)
            assert s.stats.closed == 1
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
        await fault.finished()
        assert fault.accepted == 2

    run(main())


def test_release_gives_up_on_a_small_rest_that_does_not_come(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(response(200, headers=[("Content-Length", "1000")], length=False) + b"only ten b")
        await conn.stall()

    fault.script = [script, serve(OK, then="keep")]

    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with ClientSession(wire=wire_impl) as s:
            r = await s.get(fault.url())
            start = loop.time()
            await r.release()
            assert loop.time() - start < 3.0  # a short deadline, not the read timeout (none here)
            assert_settled(s.stats, idle=0)
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
        await fault.finished()
        assert fault.accepted == 2

    run(main())


def test_close_mid_body_closes_the_connection(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            r = await s.get(app.url(f"/stream?size={8 * MiB}"))
            assert len(await r.content.read(1000)) > 0
            r.close()
            assert s.stats.closed == 1
            assert_settled(s.stats, idle=0)
            async with s.get(app.url("/small")) as r:
                assert await r.read() == SMALL
            assert s.stats.opened == 2

    run(main())


def test_leaving_async_with_mid_body_closes_the_connection(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url(f"/stream?size={8 * MiB}")) as r:
                await r.content.read(1000)
            assert s.stats.closed == 1
            assert_settled(s.stats, idle=0)
            async with s.get(app.url("/small")) as r:
                assert await r.read() == SMALL
            assert s.stats.opened == 2

    run(main())


@pytest.mark.parametrize("touched", ["head-only", "content-read", "iterated"])
def test_a_response_dropped_before_its_end_frees_its_pool_slot(wire_impl: Wire, run: Any, app: App,
                                                               touched: str) -> None:
    # As with aiohttp, a response the caller lets go of without closing it gives its
    # connection up when it is collected: closed (the rest of the body is unread), never
    # pooled, and never holding the slot of a session with limit=1.
    async def main() -> None:
        async with ClientSession(wire=wire_impl, limit=1,
                                 timeout=wirespeed.ClientTimeout(total=10, pool=2)) as s:
            r = await s.get(app.url(f"/stream?size={8 * MiB}"))
            if touched == "content-read":
                assert len(await r.content.read(1000)) > 0
            elif touched == "iterated":
                async for _ in r.content.iter_any():
                    break
            assert s.stats.in_use == 1
            del r
            # Collected soon, not at once: the loop's handle that resumed this task holds the
            # request's finished future (and so the response) until the task yields, an async
            # generator left by `break` is closed by the loop a step later, and a response whose
            # stream was opened is in a reference cycle with it, which the collector breaks.
            await eventually(lambda: gc.collect() >= 0 and s.stats.closed == 1, what="the dropped response closed")
            assert_settled(s.stats, idle=0)
            async with s.get(app.url("/small")) as r2:
                assert await r2.read() == SMALL
            assert s.stats.opened == 2
            assert_settled(s.stats, idle=1)

    run(main())


def test_idle_connections_of_two_origins_in_turn_and_after_their_stack_went(wire_impl: Wire, run: Any,
                                                                            aiohttp_app: App, uvicorn_app: App) -> None:
    # Each origin keeps its own idle stack; the pool remembers the last one it looked up.
    # Alternate between two origins, then lose every idle connection of one (its stack leaves
    # the pool) and go on: each origin must still get its own connection, reused.
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            a, b = aiohttp_app, uvicorn_app
            seen = {a.name: set(), b.name: set()}
            for app in (a, b, a, a, b, b, b, a):   # a last: its stack is the one remembered
                seen[app.name].add((await count(s, app))[0])
            assert all(len(ids) == 1 for ids in seen.values())
            assert s.stats.opened == 2
            (idle_a,) = [c for c in s._pool._conns if c.key == s._targets[a.url("/count")].key]
            idle_a.transport.close()
            await eventually(lambda: s.stats.closed == 1)
            first = (await count(s, a))[0]
            assert first not in seen[a.name]
            assert [(await count(s, a))[0] for _ in range(3)] == [first] * 3
            assert (await count(s, b))[0] in seen[b.name]
            assert s.stats.opened == 3 and s.stats.closed == 1
            assert_settled(s.stats, idle=2)

    run(main())
