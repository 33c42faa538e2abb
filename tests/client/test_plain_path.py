"""A request without options (``session.get(url)``), on both client twins.

The C twin sends such a request itself when the session has nothing else to do
for it (``src/client/_context.pyx``, ``plain``) and hands everything else to the
session's ``_request`` coroutine, which the Python twin always runs.  These
tests count the calls of ``_request`` to know which path a request took, and
hold both twins to one behaviour on every branch the C path has: a second send
after a kept-alive connection closed, a redirect, ``raise_for_status``, cookies
set and then sent, a timeout, cancellation, ``close()`` and ``throw()`` while
the response is awaited.
"""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import pytest

from support.client_apps import SMALL
from support.client_kit import App, assert_settled
from support.fault_server import Conn, FaultServer, ok, response, serve
from wirespeed import ClientSession, ClientTimeout, CookieJar
from wirespeed.client._session import ClientSession as SessionClass
from wirespeed.errors import ClientError, ClientResponseError, ServerDisconnectedError, TotalTimeout
from wirespeed.middlewares import RetryMiddleware
from wirespeed.wire import Wire


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every call of ``ClientSession._request``: (method, url)."""
    seen: list[tuple[str, Any]] = []
    original = SessionClass._request

    def counted(self: Any, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append((method, url))
        return original(self, method, url, *args, **kwargs)

    monkeypatch.setattr(SessionClass, "_request", counted)
    return seen


def _c(wire_impl: Wire) -> bool:
    return wire_impl.IMPLEMENTATION == "c"


def test_a_request_on_a_warm_session_is_sent_without_the_coroutine_by_the_c_twin(
        wire_impl: Wire, run: Any, app: App, calls: list[tuple[str, Any]]) -> None:
    url = app.url("/count")

    async def main() -> list[Any]:
        async with ClientSession(wire=wire_impl) as s:
            docs = []
            for method in ("GET", "GET", "GET", "POST", "POST", "DELETE"):
                async with s.request(method, url) as r:
                    assert r.status == 200
                    docs.append(await r.json())
            assert s.stats.opened == 1
            assert_settled(s.stats, idle=1)
            return docs

    docs = run(main())
    assert [d["requests"] for d in docs] == [1, 2, 3, 4, 5, 6]
    # cold session, then a POST's first head (Content-Length: 0): the coroutine; the rest not, in C
    assert len(calls) == (2 if _c(wire_impl) else 6)


@pytest.mark.parametrize("case", ["middleware", "auth", "cookie", "proxy", "trust_env"])
def test_a_session_with_something_to_do_runs_the_coroutine(
        wire_impl: Wire, run: Any, aiohttp_app: App, calls: list[tuple[str, Any]],
        case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    small = aiohttp_app.url("/small")
    kwargs: dict[str, Any] = {}
    if case == "middleware":
        kwargs["middlewares"] = (RetryMiddleware(),)
    elif case == "auth":
        kwargs["auth"] = ("user", "pass")
        kwargs["base_url"] = aiohttp_app.url("/")
    elif case == "cookie":
        kwargs["cookies"] = {"a": "1"}
    elif case == "proxy":
        kwargs["proxy"] = aiohttp_app.url("/")   # absolute-form targets: the app answers them as paths
    else:
        kwargs["trust_env"] = True
        for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "NETRC"):
            monkeypatch.delenv(name, raising=False)

    async def main() -> None:
        async with ClientSession(wire=wire_impl, **kwargs) as s:
            for _ in range(3):
                async with s.get(small) as r:
                    assert await r.read() == SMALL
            assert_settled(s.stats, idle=1)

    run(main())
    assert len(calls) == 3


@pytest.mark.parametrize("case", ["new-url", "busy"])
def test_a_new_url_or_no_idle_connection_runs_the_coroutine(
        wire_impl: Wire, run: Any, aiohttp_app: App, calls: list[tuple[str, Any]], case: str) -> None:
    small = aiohttp_app.url("/small")

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(small) as r:
                assert await r.read() == SMALL
            if case == "new-url":
                for url in (small, small + "?new"):
                    async with s.get(url) as r:
                        assert await r.read() == SMALL
            else:
                # the first takes the one idle connection, the second finds none and opens one
                rs = await asyncio.gather(s.get(small), s.get(small))
                assert [await r.read() for r in rs] == [SMALL, SMALL]
                assert s.stats.opened == 2

    run(main())
    assert len(calls) == (2 if _c(wire_impl) else 3)


def test_a_closed_session_refuses_a_plain_request(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        s = ClientSession(wire=wire_impl)
        async with s.get(aiohttp_app.url("/small")) as r:
            assert await r.read() == SMALL
        await s.close()
        with pytest.raises(ClientError, match="closed"):
            await s.get(aiohttp_app.url("/small"))

    run(main())


async def _answer_then_stall(conn: Conn) -> None:
    """Answer one request, then read the next and never answer it."""
    await conn.read_request()
    await conn.send(response(200, b"ok"))
    await conn.read_request()
    await conn.stall()


async def _cancel_once_sent(s: ClientSession, fault: FaultServer, nth: int) -> None:
    """GET the fault server in a task, cancel it once the server has its ``nth`` request,
    and see the task end cancelled."""
    task = asyncio.ensure_future(s.get(fault.url("/")))
    while len(fault.requests()) < nth:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def _answer_then_close_on(n: int) -> Any:
    """Answer ``n`` requests, then read one more and close without a byte."""

    async def script(conn: Conn) -> None:
        for _ in range(n):
            await conn.read_request()
            await conn.send(response(200, b"ok"))
        await conn.read_request()
        await conn.close()

    return script


@pytest.mark.parametrize(("method", "data"), [("GET", None), ("POST", None), ("PUT", b"payload"),
                                              ("POST", b"payload")])
def test_a_kept_alive_connection_closed_unanswered_is_sent_again_once_when_idempotent(
        wire_impl: Wire, run: Any, fault: FaultServer, calls: list[tuple[str, Any]], method: str,
        data: bytes | None) -> None:
    fault.script = [_answer_then_close_on(2), serve(ok(), then="keep")]
    kwargs = {} if data is None else {"data": data}

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            for _ in range(2):
                async with s.request(method, fault.url("/"), **kwargs) as r:
                    assert await r.read() == b"ok"
            if method == "POST":
                with pytest.raises(ServerDisconnectedError) as raised:
                    await s.request(method, fault.url("/"), **kwargs)
                assert raised.value.method == "POST"
                assert fault.accepted == 1
            else:
                async with s.request(method, fault.url("/"), **kwargs) as r:
                    assert await r.read() == b"ok"
                assert fault.accepted == 2
            assert_settled(s.stats)

    run(main())
    assert len(calls) == (1 if _c(wire_impl) else 3)
    assert [r.body for r in fault.requests()] == [data or b""] * (3 if method == "POST" else 4)


@pytest.mark.parametrize("data", [b"x" * 100, b""])
def test_a_body_of_bytes_alone_is_plain_too(
        wire_impl: Wire, run: Any, app: App, calls: list[tuple[str, Any]], data: bytes) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            for method in ("POST", "POST", "PUT", "PUT", "PATCH", "PATCH"):
                async with s.request(method, app.url("/echo"), data=data) as r:
                    doc = await r.json()
                assert doc["method"] == method and doc["length"] == len(data)
                assert dict((k.lower(), v) for k, v in doc["headers"])["content-length"] == str(len(data))
            async with s.post(app.url("/echo"), data=data) as r:
                assert (await r.json())["length"] == len(data)
            async with s.post(app.url("/echo"), data=data, headers={"X-A": "1"}) as r:   # not plain: options
                assert (await r.json())["length"] == len(data)
            assert s.stats.opened == 1

    run(main())
    # the first (a new URL; its head, of this length, serves every method after it), and the one with options
    assert len(calls) == (2 if _c(wire_impl) else 8)


def test_a_body_of_bytes_follows_a_307_with_its_body(
        wire_impl: Wire, run: Any, app: App, calls: list[tuple[str, Any]]) -> None:
    url = app.url("/redirect/307?to=/echo")

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            for _ in range(2):
                async with s.post(url, data=b"body") as r:
                    doc = await r.json()
                assert r.status == 200 and len(r.history) == 1
                assert doc["method"] == "POST" and doc["body"] == "body"

    run(main())


def test_a_plain_request_follows_redirects_and_updates_the_jar(
        wire_impl: Wire, run: Any, app: App, calls: list[tuple[str, Any]]) -> None:
    redirect = app.url("/redirect/302?to=/chain/0&cookie=seen%3D1%3B%20Path%3D%2F")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, cookie_jar=CookieJar(unsafe=True)) as s:   # an IP host
            async with s.get(redirect) as r:   # cold: the coroutine
                await r.read()
            s.cookie_jar.clear()
            async with s.get(redirect) as r:   # warm: C sends it, the session follows
                doc = json.loads(await r.read())
                assert r.status == 200 and len(r.history) == 1
            assert doc["cookie"] == "seen=1"   # the jar was updated before the hop
            assert len(s.cookie_jar) == 1

    run(main())


def test_set_cookie_on_a_plain_request_is_sent_on_the_next(
        wire_impl: Wire, run: Any, app: App, calls: list[tuple[str, Any]]) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, cookie_jar=CookieJar(unsafe=True)) as s:
            for _ in range(2):
                async with s.get(app.url("/count")) as r:
                    await r.read()
            async with s.get(app.url("/set-cookie?cookie=k%3Dv")) as r:
                await r.read()
            async with s.get(app.url("/set-cookie?cookie=k%3Dv")) as r:   # warm URL, jar not empty
                await r.read()
            async with s.get(app.url("/echo")) as r:
                doc = await r.json()
            assert dict((k.lower(), v) for k, v in doc["headers"])["cookie"] == "k=v"

    run(main())


def test_raise_for_status_on_a_plain_request(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, raise_for_status=True) as s:
            for _ in range(2):
                async with s.get(app.url("/small")) as r:
                    await r.read()
            for _ in range(2):
                with pytest.raises(ClientResponseError) as raised:
                    await s.get(app.url("/status/404"))
                assert raised.value.status == 404
            assert_settled(s.stats)

    run(main())


def test_a_timeout_and_a_cancel_while_the_response_is_awaited(
        wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = [_answer_then_stall, _answer_then_stall, serve(ok(), ok(), then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl, timeout=ClientTimeout(total=0.3)) as s:
            async with s.get(fault.url("/")) as r:
                assert await r.read() == b"ok"
            with pytest.raises(TotalTimeout):
                await s.get(fault.url("/"))
            async with s.get(fault.url("/")) as r:   # a new connection: the first was closed
                assert await r.read() == b"ok"
            await _cancel_once_sent(s, fault, 4)
            for _ in range(2):
                async with s.get(fault.url("/")) as r:
                    assert await r.read() == b"ok"
            assert fault.accepted == 3
            assert s.stats.closed == 2
            assert_settled(s.stats, idle=1)

    run(main())


@pytest.mark.parametrize("how", ["close", "throw", "collect"])
def test_a_context_ended_while_awaiting_its_response_closes_its_connection(
        wire_impl: Wire, run: Any, fault: FaultServer, how: str) -> None:
    fault.script = _answer_then_stall

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url("/")) as r:
                assert await r.read() == b"ok"
            ctx = s.get(fault.url("/"))
            waiter = ctx.send(None)   # sent: what it yields is the future of its response
            assert isinstance(waiter, asyncio.Future) and not waiter.done()
            while len(fault.requests()) < 2:
                await asyncio.sleep(0.01)
            if how == "close":
                ctx.close()
            elif how == "throw":
                with pytest.raises(KeyError):
                    ctx.throw(KeyError("thrown"))
            else:
                del ctx
                gc.collect()
            assert s.stats.closed == 1 and s.stats.in_use == 0
            assert waiter.cancelled() or waiter.done()

    run(main())


@pytest.mark.parametrize("how", ["cancel", "total", "read", "wait_for", "asyncio-timeout"])
def test_a_plain_request_interrupted_on_a_reused_connection_leaves_the_session_usable(
        wire_impl: Wire, run: Any, fault: FaultServer, calls: list[tuple[str, Any]], how: str) -> None:
    """The head never comes on the kept-alive connection: each way of giving up closes it."""
    fault.script = [_answer_then_stall, serve(ok(), then="keep")]
    timeout = {"total": ClientTimeout(total=0.3), "read": ClientTimeout(total=None, read=0.3)}.get(
        how, ClientTimeout(total=None))

    async def main() -> None:
        async with ClientSession(wire=wire_impl, timeout=timeout) as s:
            async with s.get(fault.url("/")) as r:
                assert await r.read() == b"ok"
            before = len(calls)
            if how in ("total", "read"):
                with pytest.raises(asyncio.TimeoutError) as raised:
                    await s.get(fault.url("/"))
                assert type(raised.value).__name__ == ("TotalTimeout" if how == "total" else "ReadTimeout")
            elif how == "wait_for":
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(s.get(fault.url("/")), 0.3)
            elif how == "asyncio-timeout":
                if not hasattr(asyncio, "timeout"):
                    pytest.skip("asyncio.timeout is Python 3.11+")
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.3):
                        async with s.get(fault.url("/")) as r:
                            await r.read()
            else:
                await _cancel_once_sent(s, fault, 2)
            assert len(calls) - before == (0 if _c(wire_impl) else 1)   # the C twin sent it itself
            assert s.stats.closed == 1
            assert_settled(s.stats, idle=0)
            async with s.get(fault.url("/")) as r:   # a new connection
                assert await r.read() == b"ok"
            assert fault.accepted == 2
            assert_settled(s.stats, idle=1)

    run(main())


def test_a_response_that_comes_after_its_future_was_cancelled_is_dropped_quietly(
        wire_impl: Wire, run: Any, app: App) -> None:
    """Task.cancel() cancels the awaited future at once, and the task is thrown into later: a
    response read in between finds a done future.  Neither twin raises in the read callback
    (the loop's handler sees nothing), the request ends cancelled, and the session goes on."""
    async def main() -> None:
        loop = asyncio.get_running_loop()
        errors: list[dict[str, Any]] = []
        loop.set_exception_handler(lambda _, context: errors.append(context))
        async with ClientSession(wire=wire_impl) as s:
            for _ in range(2):
                async with s.get(app.url("/small")) as r:
                    assert await r.read() == SMALL
            ctx = s.get(app.url("/small"))
            waiter = ctx.send(None)   # sent; what a task would wait on
            waiter.cancel()           # what Task.cancel() does first
            for _ in range(50):       # the response is read meanwhile
                await asyncio.sleep(0.01)
                if s.stats.in_use == 0:
                    break
            assert s.stats.in_use == 0   # the response ended: its connection went back
            with pytest.raises(asyncio.CancelledError):
                ctx.throw(asyncio.CancelledError())
            async with s.get(app.url("/small")) as r:
                assert await r.read() == SMALL
            assert_settled(s.stats)
        assert errors == []

    run(main())


def test_each_session_keeps_its_own_timeouts_in_turn(wire_impl: Wire, run: Any, fault: FaultServer,
                                                     aiohttp_app: App, calls: list[tuple[str, Any]]) -> None:
    # The C twin keeps the values of the last ClientTimeout it read: a plain request of one
    # session after another's must use its own, however they alternate.
    fault.script = [_answer_then_stall]
    quick, slow = ClientTimeout(total=0.3), ClientTimeout(total=None, read=None)

    async def main() -> None:
        async with ClientSession(wire=wire_impl, timeout=quick) as a, \
                ClientSession(wire=wire_impl, timeout=slow) as b:
            async with a.get(fault.url("/")) as r:
                assert await r.read() == b"ok"
            slow_url = aiohttp_app.url("/slow?delay=0.5")
            for _ in range(2):   # the first warms b; the second is plain
                async with b.get(slow_url) as r:   # longer than a's total: b has none
                    assert await r.read()
            before = len(calls)
            with pytest.raises(TotalTimeout):
                await a.get(fault.url("/"))   # stalls: a's total, not b's none
            async with b.get(slow_url) as r:
                assert await r.read()
            assert len(calls) - before == (0 if _c(wire_impl) else 2)   # all plain on the C twin

    run(main())
