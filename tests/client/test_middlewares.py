"""The middleware contract: ``async def mw(request, handler) -> response`` on a session or a request.

Each test is one rule of docs/middlewares.md: the first listed middleware is
the outermost; a request's ``middlewares=`` replaces the session's and ``()``
runs none; a middleware may change the request, call the handler again, or
make requests of its own through ``request.session`` (with
``middlewares=()``, so the chain does not recurse); the chain runs again for
each redirect hop; whatever a middleware drops, or a chain that fails or is
cancelled leaves behind, ends up closed, with nothing checked out of the pool
and no task alive; exceptions reach the caller as they were raised; a body
that cannot be sent again is refused (``InvalidRequest``), never sent empty.

Servers: the aiohttp app (``/echo``, ``/count``, ``/small``) and the fault
server, which counts connections and records every byte, so reuse and
closing are seen from the server's side.  Every test runs on both wire twins
and both event loops.  The examples under ``examples/`` run here too.
"""

from __future__ import annotations

import asyncio
import io
import runpy
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

import wirespeed
from support.client_apps import SMALL
from support.client_kit import App, assert_no_new_tasks, assert_settled, eventually, live_tasks, within
from support.fault_server import Conn, FaultLoop, FaultServer, response, serve
from support.servers import free_port
from wirespeed import ClientHandler, ClientRequest, ClientResponse, ClientSession, ClientTimeout
from wirespeed.wire import Wire

ROOT = Path(__file__).resolve().parents[2]
KiB = 1024
MiB = 1024 * KiB
OK = response(200, b"ok")


def recorder(log: list[str], name: str) -> Any:
    """A pass-through middleware that logs ``name>`` on the way in and ``<name`` on the way out."""

    async def mw(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        log.append(f"{name}>")
        resp = await handler(request)
        log.append(f"<{name}")
        return resp

    return mw


async def echoed(resp: ClientResponse) -> dict[str, Any]:
    doc: dict[str, Any] = await resp.json()
    return doc


def header(doc: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in doc["headers"] if k.lower() == name.lower()]


# --------------------------------------------------------------------------- the chain


def test_the_first_listed_middleware_is_the_outermost(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        log: list[str] = []
        mws = (recorder(log, "a"), recorder(log, "b"), recorder(log, "c"))
        async with ClientSession(wire=wire_impl, middlewares=mws) as s:
            async with s.get(aiohttp_app.url("/small")) as r:
                assert await r.read() == SMALL
        assert log == ["a>", "b>", "c>", "<c", "<b", "<a"]

    run(main())


def test_a_middleware_sees_the_request_and_its_session(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    seen: list[ClientRequest] = []

    async def look(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        seen.append(request)
        resp = await handler(request)
        assert resp.status == 200
        return resp

    async def main() -> None:
        async with ClientSession(aiohttp_app.base, wire=wire_impl, middlewares=[look]) as s:
            r = await s.post("/echo", params={"q": "1"}, headers={"X-Mine": "yes"}, json={"n": 1},
                             timeout=ClientTimeout(total=9))
            await r.read()
            (request,) = seen
            assert request.session is s
            assert request.method == "POST"
            assert str(request.url) == aiohttp_app.url("/echo?q=1")   # joined to base_url, params merged
            assert request.headers["X-Mine"] == "yes"
            assert request.headers["Content-Type"] == "application/json"
            assert "User-Agent" not in request.headers     # the session's defaults are added when sent
            assert request.body == b'{"n":1}'
            assert request.timeout == ClientTimeout(total=9)

    run(main())


def test_a_requests_middlewares_replace_the_sessions(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        log: list[str] = []
        async with ClientSession(wire=wire_impl, middlewares=(recorder(log, "session"),)) as s:
            await (await s.get(aiohttp_app.url("/small"), middlewares=(recorder(log, "request"),))).read()
            assert log == ["request>", "<request"]
            log.clear()
            await (await s.get(aiohttp_app.url("/small"))).read()
            assert log == ["session>", "<session"]

    run(main())


@pytest.mark.parametrize("empty", [(), []], ids=["tuple", "list"])
def test_an_empty_middlewares_runs_none(wire_impl: Wire, run: Any, aiohttp_app: App, empty: Any) -> None:
    async def main() -> None:
        log: list[str] = []
        async with ClientSession(wire=wire_impl, middlewares=(recorder(log, "session"),)) as s:
            async with s.get(aiohttp_app.url("/small"), middlewares=empty) as r:
                assert await r.read() == SMALL
        assert log == []

    run(main())


def test_a_middleware_may_change_method_url_headers_and_body(wire_impl: Wire, run: Any, app: App) -> None:
    async def rewrite(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        request.method = "PUT"
        request.url = request.url.with_path("/echo").with_query({"rewritten": "1"})
        request.headers["X-Added"] = "by the middleware"
        del request.headers["X-Removed"]
        request.body = b"new body"
        return await handler(request)

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(rewrite,)) as s:
            r = await s.post(app.url("/elsewhere"), headers={"X-Removed": "1"}, data=b"old")
            doc = await echoed(r)
        assert (doc["method"], doc["path"], doc["query_string"]) == ("PUT", "/echo", "rewritten=1")
        assert header(doc, "X-Added") == ["by the middleware"] and header(doc, "X-Removed") == []
        assert doc["body"] == "new body" and header(doc, "Content-Length") == ["8"]

    run(main())


def test_a_request_a_middleware_builds_itself_is_sent_as_built(wire_impl: Wire, run: Any, app: App) -> None:
    async def replace(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        own = ClientRequest(request.session, "PUT", URL(app.url("/echo")), CIMultiDict({"X-Own": "1"}), b"mine")
        return await handler(own)

    async def main() -> None:
        async with ClientSession(wire=wire_impl, timeout=ClientTimeout(total=5), middlewares=(replace,)) as s:
            doc = await echoed(await s.get(app.url("/elsewhere")))
        assert (doc["method"], doc["path"], doc["body"]) == ("PUT", "/echo", "mine")
        assert header(doc, "X-Own") == ["1"]

    run(main())


def test_request_options_pass_through_the_chain(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        options: list[dict[str, Any]] = []

        async def look(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
            options.append(dict(request.options))
            return await handler(request)

        async with ClientSession(wire=wire_impl, middlewares=(look,)) as s:
            doc = await echoed(await s.get(aiohttp_app.url("/echo"), cookies={"c": "1"}))
        assert options[0]["cookies"] == {"c": "1"}
        assert header(doc, "Cookie") == ["c=1"]

    run(main())


def test_a_timeout_set_by_a_middleware_applies(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = serve(then="stall")   # reads nothing, answers nothing

    async def shorten(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        request.timeout = ClientTimeout(total=0.2)
        return await handler(request)

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(shorten,)) as s:
            with pytest.raises(wirespeed.TotalTimeout):
                await within(s.get(fault.url()), 3, "a request with the middleware's timeout")
            assert_settled(s.stats, idle=0)

    run(main())


def slow_answers(count: int, delay: float, then: Any = None) -> Any:
    """A script: ``count`` requests on one connection, each answered after ``delay`` s by ``then(i)`` (200 ok)."""

    async def script(conn: Conn) -> None:
        for i in range(count):
            await conn.read_request()
            await asyncio.sleep(delay)
            await conn.send(OK if then is None else then(i))
        await conn.stall()

    return script


def test_the_total_timeout_covers_every_send_of_a_middleware(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    # aiohttp starts one timer per request, around the chain: a middleware's second and third
    # sends run on what is left of the total, not on a fresh one each.
    fault.script = slow_answers(3, 0.5)

    async def thrice(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        for _ in range(2):
            await (await handler(request)).release()
        return await handler(request)

    async def main() -> None:
        async with ClientSession(wire=wire_impl, timeout=ClientTimeout(total=1.0), middlewares=(thrice,)) as s:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(wirespeed.TotalTimeout):
                await within(s.get(fault.url()), 3, "three sends of 0.5 s each under a total of 1 s")
            assert loop.time() - started < 1.4
            assert_settled(s.stats)

    run(main())


def test_the_total_timeout_covers_every_redirect_hop_through_a_chain(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    # As without middlewares (test_redirects): the total runs from the first send to the end of the last hop.
    fault.script = slow_answers(3, 0.5, lambda i: redirect_to(f"/hop{i + 1}") if i < 2 else response(200, b"late"))
    hops: list[str] = []

    async def look(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        hops.append(request.url.path)
        return await handler(request)

    async def main() -> None:
        # The hops answer at 0.5, 1.0 and 1.5 s: a total of 1.2 s ends the third.
        async with ClientSession(wire=wire_impl, timeout=ClientTimeout(total=1.2), middlewares=(look,)) as s:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(wirespeed.TotalTimeout):
                async with s.get(fault.url("/hop0")) as r:
                    await within(r.read(), 3, "three hops of 0.5 s each under a total of 1.2 s")
            assert loop.time() - started < 1.45
            assert hops == ["/hop0", "/hop1", "/hop2"]
            assert_settled(s.stats)

    run(main())


def test_a_timeout_set_by_a_middleware_counts_from_the_start_of_the_request(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    fault.script = slow_answers(2, 0.4)

    async def twice_then_shorten(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        await (await handler(request)).release()          # 0.4 s of the session's total
        request.timeout = ClientTimeout(total=0.6)        # 0.2 s left of it: the second send takes 0.4 s
        return await handler(request)

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(twice_then_shorten,)) as s:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(wirespeed.TotalTimeout):
                await within(s.get(fault.url()), 3, "a second send past the middleware's total")
            assert 0.5 < loop.time() - started < 0.75
            assert_settled(s.stats)

    run(main())


# --------------------------------------------------------------------------- sub-requests


def test_a_sub_request_with_no_middlewares_does_not_run_the_chain_again(
    wire_impl: Wire, run: Any, aiohttp_app: App
) -> None:
    calls: list[str] = []

    async def token_from_the_server(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        calls.append(str(request.url))
        async with request.session.get(aiohttp_app.url("/count"), middlewares=()) as sub:
            request.headers["X-Sub"] = str((await sub.json())["requests"])
        return await handler(request)

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(token_from_the_server,), limit=1) as s:
            for _ in range(3):
                doc = await within(echoed(await s.get(aiohttp_app.url("/echo"))), what="a request with a sub-request")
                assert header(doc, "X-Sub")
            assert calls == [aiohttp_app.url("/echo")] * 3   # one call per request: the sub-requests skipped it
            assert_settled(s.stats, idle=1)   # limit=1: the sub-request's connection was free again

    run(main())


def test_a_middleware_without_the_opt_out_recurses_and_the_caller_sees_it(
    wire_impl: Wire, run: Any, aiohttp_app: App
) -> None:
    # The documented trap: a sub-request that keeps the session's middlewares runs this one again.
    depth = 0

    async def careless(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        nonlocal depth
        depth += 1
        if depth > 3:
            raise RecursionError("the middleware called itself through its own sub-request")
        async with request.session.get(aiohttp_app.url("/small")) as sub:
            await sub.read()
        return await handler(request)

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(careless,)) as s:
            with pytest.raises(RecursionError):
                await s.get(aiohttp_app.url("/small"))
            assert_settled(s.stats)

    run(main())


# --------------------------------------------------------------------------- redirects


def redirect_to(location: str) -> bytes:
    return response(302, b"moved", [("Location", location)])


def test_the_chain_runs_again_for_each_redirect_hop(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = serve(redirect_to("/second"), redirect_to("/third"), OK, then="keep")

    async def main() -> None:
        seen: list[str] = []

        async def look(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
            seen.append(request.url.path)
            return await handler(request)

        async with ClientSession(wire=wire_impl, middlewares=(look,)) as s:
            async with s.get(fault.url("/first")) as r:
                assert await r.read() == b"ok"
                assert [h.status for h in r.history] == [302, 302]
            assert seen == ["/first", "/second", "/third"]
        await fault.finished()
        assert fault.accepted == 1

    run(main())


def test_origin_bound_session_headers_do_not_follow_a_redirect_to_another_origin_through_a_chain(
    wire_impl: Wire, run: Any, fault: FaultServer, fault_loop: FaultLoop
) -> None:
    # Without middlewares the session's Authorization and Cookie headers stay on their origin
    # (test_redirects); the same must hold when the request goes through a chain.
    other = FaultServer(fault_loop, serve(OK)).start()
    try:
        fault.script = serve(redirect_to(other.url("/landing")))

        async def passthrough(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
            return await handler(request)

        async def main() -> None:
            async with ClientSession(wire=wire_impl, headers={"Authorization": "secret", "Cookie": "a=1"},
                                     middlewares=(passthrough,)) as s:
                async with s.get(fault.url("/start")) as r:
                    assert await r.read() == b"ok"
            await other.finished()
            first, = fault.requests()
            landing, = other.requests()
            assert first.header("Authorization") == "secret"
            assert landing.header("Authorization") is None and landing.header("Cookie") is None

        run(main())
    finally:
        other.close()


# --------------------------------------------------------------------------- what a middleware drops


def unfinished(size: int = 1 * MiB, sent: int = 1000) -> Any:
    """A script: a head announcing ``size`` bytes, ``sent`` of them, then silence until the client leaves."""

    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(response(200, b"", [("Content-Length", str(size))], length=False) + b"x" * sent)
        await conn.stall()

    return script


def test_a_response_a_middleware_drops_is_closed(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = [unfinished(), serve(OK, then="keep")]

    async def second_opinion(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        await handler(request)   # dropped: neither read, released nor closed
        return await handler(request)

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(second_opinion,)) as s:
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
            assert_settled(s.stats, idle=1)
            assert s.stats.closed == 1
            await eventually(lambda: fault.connections[0].eof, what="the dropped response's connection closed")
        assert fault.accepted == 2

    run(main())


class Boom(Exception):
    pass


def test_a_chain_that_raises_closes_the_responses_it_got(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = unfinished()

    async def look_then_fail(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        await handler(request)
        raise Boom("the middleware gave up")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(look_then_fail,)) as s:
            with pytest.raises(Boom):
                await s.get(fault.url())
            assert_settled(s.stats, idle=0)
            await eventually(lambda: fault.connections[0].eof, what="the connection closed")

    run(main())


# --------------------------------------------------------------------------- exceptions and cancellation


def test_an_exception_of_a_middleware_reaches_the_caller_unchanged(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    raised = Boom("from the middleware")

    async def fail(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        raise raised

    async def main() -> None:
        log: list[str] = []
        async with ClientSession(wire=wire_impl, middlewares=(recorder(log, "outer"), fail)) as s:
            with pytest.raises(Boom) as info:
                await s.get(aiohttp_app.url("/small"))
            assert info.value is raised and info.value.__cause__ is None
            assert log == ["outer>"]
            assert_settled(s.stats)

    run(main())


def test_an_exception_of_the_request_passes_through_the_chain_unchanged(wire_impl: Wire, run: Any) -> None:
    port = free_port()   # nothing listens there
    seen: list[BaseException] = []

    async def watch(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        try:
            return await handler(request)
        except BaseException as exc:
            seen.append(exc)
            raise

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(watch, watch)) as s:
            with pytest.raises(wirespeed.ConnectError) as info:
                await s.get(f"http://127.0.0.1:{port}/")
            assert seen == [info.value, info.value]
            assert isinstance(info.value.__cause__, OSError)

    run(main())


@pytest.mark.parametrize("where", ["before-the-handler", "waiting-for-the-head", "holding-a-response"])
def test_cancelling_mid_chain_leaves_nothing_checked_out(
    wire_impl: Wire, run: Any, fault: FaultServer, where: str
) -> None:
    fault.script = unfinished() if where == "holding-a-response" else serve(then="stall")

    async def main() -> None:
        inside = asyncio.Event()

        async def slow(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
            if where == "before-the-handler":
                inside.set()
                await asyncio.sleep(3600)
            resp = await handler(request)
            inside.set()
            await asyncio.sleep(3600)
            return resp

        async def mark(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
            if where == "waiting-for-the-head":
                inside.set()
            return await handler(request)

        before = live_tasks()
        async with ClientSession(wire=wire_impl, middlewares=(slow, mark)) as s:
            task = asyncio.ensure_future(s.get(fault.url()))
            await within(inside.wait(), what="reaching the phase")
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert_settled(s.stats, idle=0)
            if where != "before-the-handler":
                assert s.stats.closed == 1
                await eventually(lambda: fault.connections[0].eof, what="the server sees the connection closed")
        await assert_no_new_tasks(before)

    run(main())


# --------------------------------------------------------------------------- bodies sent again


async def pieces(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def twice(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
    """Send the request, release the answer, send it again."""
    first = await handler(request)
    await first.release()
    return await handler(request)


def test_a_consumed_stream_is_refused_on_a_second_send_not_sent_empty(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    fault.script = serve(OK, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(twice,)) as s:
            with pytest.raises(wirespeed.InvalidRequest, match="only once"):
                await s.put(fault.url(), data=pieces(b"first ", b"piece"))
            assert_settled(s.stats, idle=1)
        await fault.finished()
        (request,) = fault.requests()   # one request, with the whole body; nothing else was sent
        assert request.body == b"first piece"

    run(main())


def test_bytes_are_sent_again_by_a_second_handler_call(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = serve(OK, OK, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(twice,)) as s:
            assert await (await s.put(fault.url(), data=b"payload")).read() == b"ok"
        await fault.finished()
        assert [r.body for r in fault.requests()] == [b"payload", b"payload"]
        assert fault.accepted == 1

    run(main())


def test_a_seekable_file_is_sent_again_by_a_second_handler_call(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    # A redirect replays a seekable file (the refusal's own message says a retry "needs bytes or a
    # seekable file"); a middleware's second call should be able to do the same.
    fault.script = serve(OK, OK, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(twice,)) as s:
            assert await (await s.put(fault.url(), data=io.BytesIO(b"file payload"))).read() == b"ok"
        await fault.finished()
        assert [r.body for r in fault.requests()] == [b"file payload", b"file payload"]

    run(main())


# --------------------------------------------------------------------------- the examples


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "examples").glob("*.py")))
def test_example_runs(name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    path = ROOT / "examples" / name
    monkeypatch.setattr(sys, "argv", [str(path)])
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out.strip(), f"{name} printed nothing"


# --------------------------------------------------------------------------- the guide's programs


def guide_blocks() -> list[tuple[str, str]]:
    import re

    return [
        (f"docs/{name} block {index}", block)
        for name in ("middlewares.md", "cookbook.md")
        for index, block in enumerate(
            re.findall(r"```python\n(.*?)```", (ROOT / "docs" / name).read_text(encoding="utf-8"), re.S)
        )
    ]


@pytest.mark.parametrize("index", range(len(guide_blocks())))
def test_docs_middlewares_block_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    where, block = guide_blocks()[index]
    exec(compile(block, where, "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out.strip()
