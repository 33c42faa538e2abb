"""The built-in middlewares of ``wirespeed.middlewares``, option by option, against real servers.

- RetryMiddleware: against the fault server (it counts connections and
  requests, and sees whether a dropped body was read) and the aiohttp app's
  ``/flaky`` route; waits are recorded by an injected ``sleep`` and made
  deterministic by an injected ``random``;
- DigestAuthMiddleware: MD5 against Apache's mod_auth_digest
  (``support.servers.apache_digest``; Apache implements neither SHA-256, nor
  ``-sess``, nor ``auth-int``), every algorithm and qop against the aiohttp
  app's RFC 7616 route (``support.client_apps.DigestServer``, itself checked
  with aiohttp's own DigestAuthMiddleware), the RFC's worked examples, the
  challenge parser on its own;
- BasicAuthMiddleware, BearerTokenMiddleware: the app's ``/basic`` and
  ``/bearer/{token}``; credentials never reach another origin (a second
  server, or a redirect to it);
- LoggingMiddleware: the records, through ``caplog``.

A ``Sends`` middleware placed innermost records what each send carried and
what came back, so a test sees retries and authentication rounds as the
wire saw them.  Tests run on both wire twins and, where cheap, both loops.
"""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import io
import logging
import os
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import wirespeed
from support import servers
from support.client_apps import AUTH_USERS, DIGEST_ALGORITHMS
from support.client_kit import App, assert_no_new_tasks, assert_settled, live_tasks, run_on, within
from support.fault_server import Conn, FaultLoop, FaultServer, response, serve
from support.servers import free_port
from wirespeed import ClientHandler, ClientRequest, ClientResponse, ClientSession, ClientTimeout
from wirespeed.middlewares import (
    BasicAuthMiddleware,
    BearerTokenMiddleware,
    DigestAuthMiddleware,
    LoggingMiddleware,
    RetryMiddleware,
)
from wirespeed.middlewares._digest import compute_response, parse_challenges
from wirespeed.middlewares._retry import parse_retry_after
from wirespeed.wire import Wire

KiB = 1024
MiB = 1024 * KiB
OK = response(200, b"ok")
UNAVAILABLE = response(503, b"try later")


class Sends:
    """An innermost middleware: ``(method, path, Authorization, status)`` of every send."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, str | None, int]] = []

    async def __call__(self, request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        auth = request.headers.get("Authorization")
        resp = await handler(request)
        self.log.append((request.method, request.url.path_qs, auth, resp.status))
        return resp

    @property
    def statuses(self) -> list[int]:
        return [s for *_, s in self.log]

    @property
    def auth(self) -> list[str | None]:
        return [a for _, _, a, _ in self.log]


class Sleeps:
    """An injected ``sleep`` that records the waits and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def retry(sleeps: Sleeps, **kwargs: Any) -> RetryMiddleware:
    """A RetryMiddleware whose waits are the full backoff (``random() == 1``) and instant."""
    kwargs.setdefault("random", lambda: 1.0)
    return RetryMiddleware(sleep=sleeps, **kwargs)


async def pieces(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def params(doc: str) -> dict[str, str]:
    """The auth-params of one Digest Authorization value."""
    ((scheme, found),) = parse_challenges([doc])
    assert scheme == "digest"
    return found


# =========================================================================== RetryMiddleware


def test_retries_of_a_small_503_reuse_one_connection(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = serve(UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, then="keep")

    async def main() -> None:
        sleeps = Sleeps()
        async with ClientSession(wire=wire_impl, middlewares=(retry(sleeps, backoff_base=0.1),)) as s:
            async with s.get(fault.url()) as r:
                assert r.status == 503 and await r.read() == b"try later"   # the last answer, as it is
            assert sleeps.waits == [0.1, 0.2]
            assert_settled(s.stats, idle=1)
        await fault.finished()
        assert fault.accepted == 1 and len(fault.requests()) == 3

    run(main())


def test_retry_until_the_app_answers_on_one_connection(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        sleeps = Sleeps()
        key = os.urandom(6).hex()
        async with ClientSession(wire=wire_impl, middlewares=(retry(sleeps, attempts=4),)) as s:
            async with s.get(aiohttp_app.url(f"/flaky/{key}/2")) as r:
                doc = await r.json()
            assert r.status == 200 and doc["attempt"] == 3
            assert doc["requests"] >= 3   # the two 503s and this answer, on one connection
            assert s.stats.opened == 1 and len(sleeps.waits) == 2

    run(main())


def big_503(kind: str, size: int, progress: list[tuple[int, bool]]) -> Any:
    """A 503 with a ``size``-byte body (``kind == "large"``) or an endless chunked one, written until the
    client leaves; ``progress`` gets (body bytes the server handed to its socket, whether the client
    closed the connection before the server was done)."""

    async def script(conn: Conn) -> None:
        await conn.read_request()
        block = b"z" * (64 * KiB)
        sent = 0
        cut = False
        try:
            if kind == "large":
                await conn.send(response(503, b"", [("Content-Length", str(size))], length=False))
                while sent < size:
                    await conn.send(block)
                    sent += len(block)
            else:
                await conn.send(response(503, b"", [("Transfer-Encoding", "chunked")], length=False))
                while True:
                    await conn.send(b"%x\r\n%s\r\n" % (len(block), block))
                    sent += len(block)
        except (ConnectionError, OSError):
            cut = True
        finally:
            progress.append((sent, cut))

    return script


@pytest.mark.parametrize("kind", ["large", "endless"])
def test_retries_of_a_large_or_endless_503_close_without_reading_the_body(
    wire_impl: Wire, run: Any, fault: FaultServer, kind: str
) -> None:
    size = 10 * MiB
    progress: list[tuple[int, bool]] = []
    fault.script = big_503(kind, size, progress)

    async def main() -> None:
        sleeps = Sleeps()
        async with ClientSession(wire=wire_impl, middlewares=(retry(sleeps, backoff_base=0.01),)) as s:
            started = time.monotonic()
            async with await within(s.get(fault.url()), 5, "three sends of a large 503") as r:
                assert r.status == 503
                assert time.monotonic() - started < 2   # no drain of the dropped bodies
                assert s.stats.closed == 2 and s.stats.in_use == 1
            assert_settled(s.stats, idle=0)
            assert s.stats.opened == 3 and s.stats.closed == 3
        await fault.finished()
        assert fault.accepted == 3 and len(progress) == 3
        # Each time the client closed the connection while the server was still writing the body.
        assert all(cut and sent < size for sent, cut in progress), progress

    run(main())


def test_retry_of_a_one_shot_stream_raises_instead_of_sending_it_empty(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    fault.script = serve(UNAVAILABLE, OK, then="keep")

    async def main() -> None:
        sleeps = Sleeps()
        async with ClientSession(wire=wire_impl, middlewares=(retry(sleeps),)) as s:
            with pytest.raises(wirespeed.InvalidRequest, match="cannot be sent again"):
                await s.put(fault.url(), data=pieces(b"streamed ", b"once"))
            assert_settled(s.stats, idle=1)
            assert sleeps.waits == []
        await fault.finished()
        (request,) = fault.requests()
        assert request.body == b"streamed once"

    run(main())


def test_retry_sends_a_seekable_file_again_from_its_start(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = serve(UNAVAILABLE, OK, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(retry(Sleeps()),)) as s:
            f = io.BytesIO(b"head of the file, then the rest")
            f.seek(8)
            assert await (await s.put(fault.url(), data=f)).read() == b"ok"
        await fault.finished()
        assert [r.body for r in fault.requests()] == [b"the file, then the rest"] * 2

    run(main())


@pytest.mark.parametrize(
    ("method", "options", "sends"),
    [
        ("GET", {}, 3),
        ("PUT", {}, 3),
        ("DELETE", {}, 3),
        ("POST", {}, 1),
        ("PATCH", {}, 1),
        ("POST", {"retry_all_methods": True}, 3),
        ("POST", {"methods": {"post"}}, 3),
        ("GET", {"methods": {"POST"}}, 1),
        ("GET", {"attempts": 1}, 1),
        ("GET", {"attempts": 2}, 2),
    ],
    ids=lambda v: str(v) if not isinstance(v, dict) else ",".join(f"{k}={v[k]}" for k in v) or "defaults",
)
def test_retry_methods_and_attempts(
    wire_impl: Wire, run: Any, fault: FaultServer, method: str, options: dict[str, Any], sends: int
) -> None:
    fault.script = serve(UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(retry(Sleeps(), **options),)) as s:
            async with s.request(method, fault.url(), data=b"x") as r:
                assert r.status == 503
        await fault.finished()
        assert len(fault.requests()) == sends

    run(main())


@pytest.mark.parametrize(("statuses", "answer", "sends"), [(None, 500, 2), (None, 429, 2), (None, 501, 1),
                                                           (None, 404, 1), ({418}, 418, 2), ({418}, 503, 1)])
def test_retry_statuses(
    wire_impl: Wire, run: Any, fault: FaultServer, statuses: set[int] | None, answer: int, sends: int
) -> None:
    fault.script = serve(response(answer, b"no"), OK, then="keep")

    async def main() -> None:
        mw = retry(Sleeps()) if statuses is None else retry(Sleeps(), statuses=statuses)
        async with ClientSession(wire=wire_impl, middlewares=(mw,)) as s:
            async with s.get(fault.url()) as r:
                assert r.status == (200 if sends == 2 else answer)
        await fault.finished()
        assert len(fault.requests()) == sends

    run(main())


async def read_then_close(conn: Conn) -> None:
    """Read a request, then close without answering."""
    await conn.read_request()
    await conn.close()


def test_retry_after_a_lost_connection(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = [read_then_close, read_then_close, serve(OK, then="keep")]

    async def main() -> None:
        sleeps = Sleeps()
        async with ClientSession(wire=wire_impl, middlewares=(retry(sleeps, backoff_base=1),)) as s:
            assert await (await s.get(fault.url())).read() == b"ok"
            assert sleeps.waits == [1, 2]
        assert fault.accepted == 3

    run(main())


@pytest.mark.parametrize("options", [{"attempts": 2}, {"exceptions": ()}], ids=["attempts-spent", "not-listed"])
def test_retry_raises_the_last_exception_unchanged(
    wire_impl: Wire, run: Any, fault: FaultServer, options: dict[str, Any]
) -> None:
    fault.script = read_then_close
    seen: list[BaseException] = []

    async def watch(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        try:
            return await handler(request)
        except BaseException as exc:
            seen.append(exc)
            raise

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(retry(Sleeps(), **options), watch)) as s:
            with pytest.raises(wirespeed.ServerDisconnectedError) as info:
                await s.get(fault.url())
            assert info.value is seen[-1]
            assert len(seen) == options.get("attempts", 1)
            assert_settled(s.stats, idle=0)

    run(main())


def test_retry_after_a_refused_connection_then_gives_up(wire_impl: Wire, run: Any) -> None:
    port = free_port()   # nothing listens there

    async def main() -> None:
        sleeps = Sleeps()
        async with ClientSession(wire=wire_impl, middlewares=(retry(sleeps, attempts=3, backoff_base=0.5),)) as s:
            with pytest.raises(wirespeed.ConnectError):
                await s.get(f"http://127.0.0.1:{port}/")
            assert sleeps.waits == [0.5, 1.0]

    run(main())


def test_retry_passes_other_exceptions_through_unchanged(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    raised = KeyError("not a transient failure")
    calls = 0

    async def fail(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        nonlocal calls
        calls += 1
        raise raised

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(retry(Sleeps()), fail)) as s:
            with pytest.raises(KeyError) as info:
                await s.get(fault.url())
            assert info.value is raised and calls == 1

    run(main())


def http_date(seconds_from_now: float) -> str:
    return email.utils.format_datetime(datetime.now(timezone.utc) + timedelta(seconds=seconds_from_now), usegmt=True)


@pytest.mark.parametrize(
    ("retry_after", "options", "wait"),
    [
        ("7", {}, 7.0),
        ("0", {}, 0.0),
        ("600", {"retry_after_max": 10}, 10.0),
        ("7", {"retry_after": False}, 0.5),   # ignored: the backoff instead
        ("soon", {}, 0.5),                    # unusable: the backoff instead
        ("in-30s", {"retry_after_max": 10}, 10.0),
        ("30s-ago", {}, 0.0),
    ],
)
def test_retry_after_seconds_or_http_date(
    wire_impl: Wire, run: Any, fault: FaultServer, retry_after: str, options: dict[str, Any], wait: float
) -> None:
    value = {"in-30s": http_date(30), "30s-ago": http_date(-30)}.get(retry_after, retry_after)
    fault.script = serve(response(503, b"later", [("Retry-After", value)]), OK, then="keep")

    async def main() -> None:
        sleeps = Sleeps()
        async with ClientSession(wire=wire_impl, middlewares=(retry(sleeps, backoff_base=0.5, **options),)) as s:
            assert await (await s.get(fault.url())).read() == b"ok"
        assert sleeps.waits == [wait]

    run(main())


def test_parse_retry_after() -> None:
    now = 1_800_000_000.0
    date = email.utils.formatdate(now + 120, usegmt=True)
    assert parse_retry_after(date, now=now) == 120.0
    assert parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now=now) == 0.0   # RFC 9110's example, long past
    assert parse_retry_after(" 15 ", now=now) == 15.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("-5") is None
    assert parse_retry_after("1.5") is None
    assert parse_retry_after("") is None


def test_backoff_is_capped_exponential_with_full_jitter() -> None:
    draws = iter([1.0, 1.0, 1.0, 1.0, 0.5, 0.0])
    mw = RetryMiddleware(backoff_base=1.0, backoff_cap=3.0, random=lambda: next(draws))
    assert [mw.backoff(n) for n in range(1, 7)] == [1.0, 2.0, 3.0, 3.0, 1.5, 0.0]
    jittered = RetryMiddleware(backoff_base=2.0, backoff_cap=100.0)
    waits = [jittered.backoff(3) for _ in range(200)]
    assert all(0 <= w <= 8.0 for w in waits) and len(set(waits)) > 100   # spread over [0, base * 2**2]


@pytest.mark.parametrize("bad", [{"attempts": 0}, {"attempts": True}, {"backoff_base": -1}, {"retry_after_max": -1}])
def test_retry_refuses_bad_options(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        RetryMiddleware(**bad)


@pytest.mark.parametrize(
    ("session_total", "request_total", "retry_after", "sends"),
    [(2.0, None, None, 1), (2.0, 100.0, None, 2), (None, None, None, 2), (100.0, None, "60", 2),
     (30.0, None, "60", 1)],
    ids=["backoff-past-the-session-total", "the-requests-total-wins", "no-total", "retry-after-within",
         "retry-after-past-the-total"],
)
def test_retry_stops_when_the_wait_would_pass_the_total_timeout(
    wire_impl: Wire, run: Any, fault: FaultServer, session_total: float | None, request_total: float | None,
    retry_after: str | None, sends: int
) -> None:
    headers = [("Retry-After", retry_after)] if retry_after else []
    fault.script = serve(response(503, b"later", headers), OK, then="keep")

    async def main() -> None:
        sleeps = Sleeps()
        mw = retry(sleeps, backoff_base=5.0)
        async with ClientSession(wire=wire_impl, middlewares=(mw,), timeout=ClientTimeout(total=session_total)) as s:
            timeout = ClientTimeout(total=request_total) if request_total else None
            async with s.get(fault.url(), timeout=timeout) as r:
                assert r.status == (503 if sends == 1 else 200)
            assert len(sleeps.waits) == sends - 1
        await fault.finished()
        assert len(fault.requests()) == sends

    run(main())


def test_retry_counts_its_budget_from_the_start_of_the_request(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    # 0.6 s pass in an outer middleware before the retry middleware first sends; its 0.5 s
    # backoff would end past the total of 1 s counted from the start of the request, so the
    # 503 is the answer (counted from its own first send it would have waited and sent again).
    fault.script = serve(UNAVAILABLE, then="keep")
    sleeps = Sleeps()

    async def slow_start(request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        assert request.started is not None
        await asyncio.sleep(0.6)
        return await handler(request)

    async def main() -> None:
        mw = retry(sleeps, backoff_base=0.5, retry_after=False)
        async with ClientSession(wire=wire_impl, middlewares=(slow_start, mw),
                                 timeout=ClientTimeout(total=1.0)) as s:
            loop = asyncio.get_running_loop()
            before = loop.time()
            async with s.get(fault.url()) as r:
                assert r.status == 503
            assert sleeps.waits == []
            assert 0.55 < loop.time() - before < 1.0
        assert len(fault.requests()) == 1

    run(main())


def test_cancelling_during_the_backoff_leaves_nothing_behind(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = serve(UNAVAILABLE, then="keep")

    async def main() -> None:
        before = live_tasks()
        mw = RetryMiddleware(backoff_base=60, random=lambda: 1)
        async with ClientSession(wire=wire_impl, middlewares=(mw,)) as s:
            task = asyncio.ensure_future(s.get(fault.url()))
            while not fault.requests():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert_settled(s.stats, idle=1)   # the small 503 was released: its connection is kept
        await assert_no_new_tasks(before)

    run(main())


def test_retry_then_raise_for_status(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = serve(UNAVAILABLE, UNAVAILABLE, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(retry(Sleeps(), attempts=2),),
                                 raise_for_status=True) as s:
            with pytest.raises(wirespeed.ClientResponseError) as info:
                await s.get(fault.url())
            assert info.value.status == 503
            assert_settled(s.stats)
        await fault.finished()
        assert len(fault.requests()) == 2

    run(main())


# =========================================================================== Digest: the parser and the RFC's examples


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (['Digest realm="a, b", nonce="n", qop="auth,auth-int"'],
         [("digest", {"realm": "a, b", "nonce": "n", "qop": "auth,auth-int"})]),
        (['Basic realm="x", Digest realm="y", nonce=abc, algorithm=SHA-256'],
         [("basic", {"realm": "x"}), ("digest", {"realm": "y", "nonce": "abc", "algorithm": "SHA-256"})]),
        (['Digest realm="r", nonce="n"', 'Digest realm="r2", nonce="m"'],
         [("digest", {"realm": "r", "nonce": "n"}), ("digest", {"realm": "r2", "nonce": "m"})]),
        (['Digest realm="say \\"hi\\"", nonce="a\\\\b"'], [("digest", {"realm": 'say "hi"', "nonce": "a\\b"})]),
        (["Negotiate YIIabc==, Digest REALM = r , Nonce=n"],
         [("negotiate", {"": "YIIabc=="}), ("digest", {"realm": "r", "nonce": "n"})]),
        (['Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'],
         [("newauth", {"realm": "apps", "type": "1", "title": 'Login to "apps"'}), ("basic", {"realm": "simple"})]),
        (["Bearer"], [("bearer", {})]),
        (['Digest realm="unterminated'], [("digest", {"realm": "unterminated"})]),
        (["", " , "], []),
    ],
    ids=["quoted-comma", "two-schemes", "two-headers", "escapes", "token68-and-spaces", "rfc9110-example",
         "bare-scheme", "unterminated", "empty"],
)
def test_parse_challenges(headers: list[str], expected: list[tuple[str, dict[str, str]]]) -> None:
    assert parse_challenges(headers) == expected


RFC7616 = {
    "user": "Mufasa", "realm": "http-auth@example.org", "password": "Circle of Life",
    "nonce": "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", "nc": "00000001",
    "cnonce": "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", "qop": "auth", "method": "GET", "uri": "/dir/index.html",
}


@pytest.mark.parametrize(("algorithm", "expected"), [
    ("MD5", "8ca523f5e9506fed4657c9700eebdbec"),
    ("SHA-256", "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"),
])
def test_the_worked_examples_of_rfc7616(algorithm: str, expected: str) -> None:
    assert compute_response(algorithm, **RFC7616) == expected   # RFC 7616 §3.9.1


def test_the_response_of_each_variant_follows_its_formula() -> None:
    def h(name: str, text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    a = dict(RFC7616)
    ha1 = h("sha256", "Mufasa:http-auth@example.org:Circle of Life")
    sess = h("sha256", f"{ha1}:{a['nonce']}:{a['cnonce']}")
    ha2_int = h("sha256", f"GET:/dir/index.html:{h('sha256', 'body')}")
    assert compute_response("SHA-256-sess", **a) == h(
        "sha256", f"{sess}:{a['nonce']}:00000001:{a['cnonce']}:auth:{h('sha256', 'GET:/dir/index.html')}")
    assert compute_response("SHA-256", **{**a, "qop": "auth-int"}, body=b"body") == h(
        "sha256", f"{ha1}:{a['nonce']}:00000001:{a['cnonce']}:auth-int:{ha2_int}")
    assert compute_response("SHA-256", **{**a, "qop": None}) == h(   # RFC 2069, no qop
        "sha256", f"{ha1}:{a['nonce']}:{h('sha256', 'GET:/dir/index.html')}")
    with pytest.raises(ValueError):
        compute_response("SHA3-256", **a)


# =========================================================================== Digest against Apache (MD5)

IN_CI = os.environ.get("WIRESPEED_REQUIRE_SERVERS", "") not in ("", "0")


@pytest.fixture(scope="module")
def apache_digest() -> Iterator[App]:
    if shutil.which("apache2") is None and not os.path.exists("/usr/sbin/apache2"):
        if IN_CI:
            pytest.fail("apache2 is not installed (WIRESPEED_REQUIRE_SERVERS=1: .ci/run installs it)")
        pytest.skip("apache2 is not installed (Debian package apache2)")
    with servers.apache_digest() as server:
        yield App("apache-digest", server)


def apache_mw(password: str = servers.APACHE_DIGEST_PASSWORD) -> DigestAuthMiddleware:
    return DigestAuthMiddleware(servers.APACHE_DIGEST_USER, password)


def test_digest_md5_against_apache_then_preemptive_in_its_domain(
    wire_impl: Wire, run: Any, apache_digest: App
) -> None:
    async def main() -> None:
        sends = Sends()
        async with ClientSession(apache_digest.base, wire=wire_impl, middlewares=(apache_mw(), sends)) as s:
            async with s.get("/private/secret.txt") as r:
                assert r.status == 200 and await r.read() == b"the private area\n"
            assert sends.statuses == [401, 200] and sends.auth[0] is None
            first = params(sends.auth[1] or "")
            assert (first["algorithm"], first["qop"], first["nc"], first["uri"]) == ("MD5", "auth", "00000001",
                                                                                    "/private/secret.txt")
            sends.log.clear()
            async with s.get("/private/secret.txt") as r:   # the same space: no round trip
                assert r.status == 200
            async with s.post("/cgi/echo", data=b"x" * 1000) as r:   # /cgi/ is in the challenge's domain
                assert (await r.json())["length"] == 1000
            assert sends.statuses == [200, 200]
            assert [params(a or "")["nc"] for a in sends.auth] == ["00000002", "00000003"]
            sends.log.clear()
            async with s.get("/small.txt") as r:   # outside the domain: no credentials
                assert r.status == 200
            assert sends.auth == [None]
            assert_settled(s.stats, idle=1)

    run(main())


def test_digest_with_a_wrong_password_returns_the_401(wire_impl: Wire, run: Any, apache_digest: App) -> None:
    async def main() -> None:
        sends = Sends()
        async with ClientSession(apache_digest.base, wire=wire_impl,
                                 middlewares=(apache_mw("not the password"), sends)) as s:
            for _ in range(2):
                async with s.get("/private/secret.txt") as r:
                    assert r.status == 401
            # each time: asked, answered once, refused; the refused challenge is not reused
            assert sends.statuses == [401, 401, 401, 401] and sends.auth[0] is None and sends.auth[2] is None

    run(main())


def test_digest_without_qop_against_apache(wire_impl: Wire, run: Any, apache_digest: App) -> None:
    async def main() -> None:
        sends = Sends()
        async with ClientSession(apache_digest.base, wire=wire_impl, middlewares=(apache_mw(), sends)) as s:
            async with s.get("/noqop/secret.txt") as r:
                assert r.status == 200 and await r.read() == b"RFC 2069 digest\n"
            assert "qop" not in params(sends.auth[1] or "") and "nc" not in params(sends.auth[1] or "")

    run(main())


def test_digest_answers_apaches_stale_nonce_once(wire_impl: Wire, apache_digest: App) -> None:
    # Waits out the nonce's lifetime: one loop only.
    async def main() -> None:
        sends = Sends()
        async with ClientSession(apache_digest.base, wire=wire_impl, middlewares=(apache_mw(), sends)) as s:
            async with s.get("/short/secret.txt") as r:
                assert r.status == 200
            await asyncio.sleep(servers.APACHE_DIGEST_SHORT_NONCE + 1.1)
            sends.log.clear()
            async with s.get("/short/secret.txt") as r:
                assert r.status == 200 and await r.read() == b"a short-lived nonce\n"
            assert sends.statuses == [401, 200]
            old, new = (params(a or "") for a in sends.auth)
            assert old["nonce"] != new["nonce"] and new["nc"] == "00000001"

    run_on("asyncio", main())


def test_digest_of_a_stream_body_cannot_answer_a_challenge(wire_impl: Wire, run: Any, apache_digest: App) -> None:
    async def main() -> None:
        async with ClientSession(apache_digest.base, wire=wire_impl, middlewares=(apache_mw(),)) as s:
            with pytest.raises(wirespeed.InvalidRequest, match="Digest challenge"):
                await s.post("/cgi/echo", data=pieces(b"a stream"))
            async with s.post("/cgi/echo", data=pieces(b"now the challenge is known")) as r:   # preemptive
                assert (await r.json())["length"] == len(b"now the challenge is known")
            assert_settled(s.stats)

    run(main())


# =========================================================================== Digest against the RFC 7616 route

ALGORITHMS = [f"{a}{sess}" for a in DIGEST_ALGORITHMS for sess in ("", "-sess")]
MUFASA = "Mufasa"


def digest_mw(user: str = MUFASA, **kwargs: Any) -> DigestAuthMiddleware:
    return DigestAuthMiddleware(user, AUTH_USERS[user], **kwargs)


@pytest.mark.parametrize("qop", ["auth", "auth-int"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_digest_algorithms_and_qops(wire_impl: Wire, run: Any, aiohttp_app: App, algorithm: str, qop: str) -> None:
    async def main() -> None:
        sends = Sends()
        url = aiohttp_app.url(f"/digest/{algorithm}/{qop}/doc?x=1%202")
        async with ClientSession(wire=wire_impl, middlewares=(digest_mw(), sends)) as s:
            for body in (b"the body, hashed with auth-int", b"another body"):
                async with s.post(url, data=body) as r:
                    doc = await r.json()
                assert r.status == 200 and doc["user"] == MUFASA and doc["length"] == len(body)
            assert sends.statuses == [401, 200, 200]   # the second request preemptive
            sent = params(sends.auth[2] or "")
            assert (sent["algorithm"], sent["qop"], sent["nc"]) == (algorithm, qop, "00000002")
            assert sent["uri"] == f"/digest/{algorithm}/{qop}/doc?x=1%202"
            assert "opaque" in sent and len(sent["cnonce"]) == 32

    run(main())


@pytest.mark.parametrize(("prefer", "chosen"), [(False, "auth"), (True, "auth-int")])
def test_digest_qop_choice_when_both_are_offered(
    wire_impl: Wire, run: Any, aiohttp_app: App, prefer: bool, chosen: str
) -> None:
    async def main() -> None:
        sends = Sends()
        async with ClientSession(wire=wire_impl, middlewares=(digest_mw(prefer_auth_int=prefer), sends)) as s:
            async with s.put(aiohttp_app.url("/digest/SHA-256/both/x"), data=b"body") as r:
                assert r.status == 200
            assert params(sends.auth[1] or "")["qop"] == chosen

    run(main())


def test_digest_without_qop(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(digest_mw(),)) as s:
            async with s.get(aiohttp_app.url("/digest/SHA-256/none/x")) as r:
                assert r.status == 200

    run(main())


@pytest.mark.parametrize("userhash", [False, True])
@pytest.mark.parametrize("user", ["Mufasa", "J\u00e4s\u00f8n Doe"])
def test_digest_user_names_and_userhash(
    wire_impl: Wire, run: Any, aiohttp_app: App, user: str, userhash: bool
) -> None:
    async def main() -> None:
        sends = Sends()
        query = "?userhash=1" if userhash else ""
        async with ClientSession(wire=wire_impl, middlewares=(digest_mw(user), sends)) as s:
            async with s.get(aiohttp_app.url(f"/digest/SHA-256/auth/x{query}")) as r:
                assert r.status == 200 and (await r.json())["user"] == user
        sent = params(sends.auth[1] or "")
        if userhash:
            assert sent["userhash"] == "true" and len(sent["username"]) == 64 and user not in str(sends.auth[1])
        elif user.isascii():
            assert sent["username"] == user
        else:
            assert sent["username*"] == "UTF-8''J%C3%A4s%C3%B8n%20Doe" and "username" not in sent

    run(main())


def test_digest_answers_a_stale_nonce_once_with_the_new_one(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        sends = Sends()
        url = aiohttp_app.url("/digest/MD5/auth/x?uses=1")   # each nonce authorises one request
        async with ClientSession(wire=wire_impl, middlewares=(digest_mw(), sends)) as s:
            for _ in range(3):
                async with s.get(url) as r:
                    assert r.status == 200
        # asked and answered; then, twice: the used-up nonce sent, stale, answered with the new one
        assert sends.statuses == [401, 200, 401, 200, 401, 200]
        assert sends.auth[0] is None and all(sends.auth[1:])

    run(main())


def test_digest_takes_the_next_nonce(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        sends = Sends()
        url = aiohttp_app.url("/digest/SHA-256/auth/x?nextnonce=1")
        async with ClientSession(wire=wire_impl, middlewares=(digest_mw(), sends)) as s:
            for _ in range(3):
                async with s.get(url) as r:
                    assert r.status == 200
        assert sends.statuses == [401, 200, 200, 200]
        nonces = [params(a or "")["nonce"] for a in sends.auth[1:]]
        assert len(set(nonces)) == 3 and all(params(a or "")["nc"] == "00000001" for a in sends.auth[1:])

    run(main())


def test_digest_auth_int_with_a_stream_body_is_a_clear_error(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        url = aiohttp_app.url("/digest/SHA-256/auth-int/x")
        async with ClientSession(wire=wire_impl, middlewares=(digest_mw(),)) as s:
            with pytest.raises(wirespeed.InvalidRequest, match="auth-int"):
                await s.put(url, data=pieces(b"a stream"))
            assert (await s.put(url, data=b"bytes")).status == 200
            with pytest.raises(wirespeed.InvalidRequest, match="auth-int"):   # refused before it is sent
                await s.put(url, data=pieces(b"a stream"))
            assert_settled(s.stats)

    run(main())


def test_digest_picks_the_first_challenge_it_supports(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    challenges = [("WWW-Authenticate", 'Digest realm="r", nonce="n1", algorithm=SHA3-512, qop="auth"'),
                  ("WWW-Authenticate", 'Basic realm="r", Digest realm="r", nonce="n2", algorithm=SHA-256, '
                                       'qop="auth", Digest realm="r", nonce="n3", algorithm=MD5, qop="auth"')]
    fault.script = serve(response(401, b"", challenges), OK, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(digest_mw(),)) as s:
            assert (await s.get(fault.url("/x"))).status == 200
        await fault.finished()
        first, second = fault.requests()
        sent = params(second.header("Authorization") or "")
        assert (sent["nonce"], sent["algorithm"]) == ("n2", "SHA-256")
        assert sent["response"] == compute_response("SHA-256", MUFASA, "r", AUTH_USERS[MUFASA], "n2", sent["nc"],
                                                    sent["cnonce"], "auth", "GET", "/x")

    run(main())


def test_digest_returns_a_challenge_it_cannot_answer(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = serve(response(401, b"", [("WWW-Authenticate", 'Digest realm="r", nonce="n", algorithm=SHA3')]),
                         response(401, b"", [("WWW-Authenticate", 'Digest realm="r", nonce="n", qop="auth-conf"')]),
                         response(401, b"", [("WWW-Authenticate", 'Basic realm="r"')]), then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(digest_mw(),)) as s:
            for _ in range(3):
                assert (await s.get(fault.url())).status == 401
        await fault.finished()
        assert [r.header("Authorization") for r in fault.requests()] == [None] * 3

    run(main())


def digest_401() -> bytes:
    return response(401, b"", [("WWW-Authenticate", 'Digest realm="r", nonce="n", qop="auth"')])


def test_digest_never_answers_another_origin(
    wire_impl: Wire, run: Any, fault: FaultServer, fault_loop: FaultLoop, aiohttp_app: App
) -> None:
    other = FaultServer(fault_loop, serve(digest_401(), digest_401(), then="keep")).start()
    try:
        fault.script = serve(response(302, b"", [("Location", other.url("/elsewhere"))]), then="keep")

        async def main() -> None:
            bound = digest_mw(origin=aiohttp_app.base)
            first_seen = digest_mw()
            async with ClientSession(wire=wire_impl) as s:
                assert (await s.get(other.url("/direct"), middlewares=(bound,))).status == 401
                assert (await s.get(fault.url("/start"), middlewares=(first_seen,))).status == 401
            await other.finished()
            assert [r.header("Authorization") for r in other.requests()] == [None, None]

        run(main())
    finally:
        other.close()


def test_the_rfc7616_route_agrees_with_aiohttps_digest_middleware(aiohttp_app: App) -> None:
    # The server side the tests above rely on, checked by an implementation that is not ours.
    import aiohttp

    async def main() -> None:
        mw = aiohttp.DigestAuthMiddleware(MUFASA, AUTH_USERS[MUFASA])
        async with aiohttp.ClientSession(middlewares=(mw,)) as s:
            for algorithm in ("MD5", "MD5-sess", "SHA-256", "SHA-256-sess"):
                async with s.post(aiohttp_app.url(f"/digest/{algorithm}/auth/x"), data=b"body") as r:
                    assert r.status == 200, (algorithm, await r.text())

    run_on("asyncio", main())


# =========================================================================== Basic


@pytest.mark.parametrize("user", ["Mufasa", "J\u00e4s\u00f8n Doe"])
def test_basic_sends_credentials_to_its_origin(wire_impl: Wire, run: Any, aiohttp_app: App, user: str) -> None:
    async def main() -> None:
        sends = Sends()
        async with ClientSession(wire=wire_impl, middlewares=(BasicAuthMiddleware(user, AUTH_USERS[user]),
                                                              sends)) as s:
            for _ in range(2):
                async with s.get(aiohttp_app.url("/basic")) as r:
                    assert r.status == 200 and (await r.json())["user"] == user
        assert sends.statuses == [200, 200]   # preemptive: no 401 first

    run(main())


def test_basic_credentials_never_reach_another_origin(
    wire_impl: Wire, run: Any, fault: FaultServer, fault_loop: FaultLoop, aiohttp_app: App
) -> None:
    other = FaultServer(fault_loop, serve(OK, OK, OK, then="keep")).start()
    try:
        fault.script = serve(OK, response(302, b"", [("Location", other.url("/landing"))]), then="keep")

        async def main() -> None:
            bound = BasicAuthMiddleware(MUFASA, "pw", origin=aiohttp_app.base)
            first_seen = BasicAuthMiddleware(MUFASA, "pw")
            async with ClientSession(wire=wire_impl) as s:
                await (await s.get(other.url("/given-origin"), middlewares=(bound,))).read()
                await (await s.get(fault.url("/binds"), middlewares=(first_seen,))).read()
                await (await s.get(other.url("/not-bound"), middlewares=(first_seen,))).read()
                await (await s.get(fault.url("/redirects"), middlewares=(first_seen,))).read()
            await other.finished()
            assert fault.requests()[0].header("Authorization") == "Basic TXVmYXNhOnB3"
            assert [r.header("Authorization") for r in other.requests()] == [None, None, None]

        run(main())
    finally:
        other.close()


def test_basic_refuses_a_colon_in_the_user_and_hides_the_password() -> None:
    with pytest.raises(ValueError):
        BasicAuthMiddleware("a:b", "pw")
    assert "secret" not in repr(BasicAuthMiddleware("user", "secret"))


# =========================================================================== Bearer


class Refresher:
    """A refresh coroutine: hands out ``tokens`` in order, after ``delay`` seconds; counts its calls."""

    def __init__(self, *tokens: str, delay: float = 0.0, error: BaseException | None = None) -> None:
        self.tokens = list(tokens)
        self.delay = delay
        self.error = error
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.tokens.pop(0)


def test_bearer_sends_the_token(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(BearerTokenMiddleware("tok-1"),)) as s:
            async with s.get(aiohttp_app.url("/bearer/tok-1")) as r:
                assert r.status == 200 and (await r.json())["token"] == "tok-1"
            assert (await s.get(aiohttp_app.url("/bearer/other"))).status == 401   # no refresh: the 401 as is

    run(main())


def test_bearer_refreshes_once_on_a_401(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        sends = Sends()
        refresh = Refresher("new")
        mw = BearerTokenMiddleware("old", refresh=refresh)
        async with ClientSession(wire=wire_impl, middlewares=(mw, sends)) as s:
            for _ in range(2):
                async with s.post(aiohttp_app.url("/bearer/new"), data=b"body") as r:
                    assert r.status == 200 and (await r.json())["length"] == 4
        assert sends.auth == ["Bearer old", "Bearer new", "Bearer new"] and sends.statuses == [401, 200, 200]
        assert refresh.calls == 1 and mw.refreshes == 1 and mw.token == "new"

    run(main())


def test_bearer_refresh_is_single_flight(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        refresh = Refresher("fresh", delay=0.05)
        async with ClientSession(wire=wire_impl, middlewares=(BearerTokenMiddleware("expired", refresh=refresh),)) as s:

            async def one() -> int:
                async with s.get(aiohttp_app.url("/bearer/fresh")) as r:
                    await r.read()
                    return r.status

            statuses = await within(asyncio.gather(*(one() for _ in range(20))), 10, "20 requests")
            assert statuses == [200] * 20
            assert_settled(s.stats)
        assert refresh.calls == 1

    run(main())


def test_bearer_returns_a_second_401(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        sends = Sends()
        refresh = Refresher("still-wrong")
        async with ClientSession(wire=wire_impl, middlewares=(BearerTokenMiddleware("old", refresh=refresh),
                                                              sends)) as s:
            assert (await s.get(aiohttp_app.url("/bearer/right"))).status == 401
        assert sends.statuses == [401, 401] and refresh.calls == 1

    run(main())


def test_bearer_refresh_failure_reaches_the_caller_and_the_next_401_tries_again(
    wire_impl: Wire, run: Any, aiohttp_app: App
) -> None:
    async def main() -> None:
        failure = RuntimeError("the token endpoint is down")
        refresh = Refresher(error=failure)
        async with ClientSession(wire=wire_impl, middlewares=(BearerTokenMiddleware("old", refresh=refresh),)) as s:
            for calls in (1, 2):
                with pytest.raises(RuntimeError) as info:
                    await s.get(aiohttp_app.url("/bearer/new"))
                assert info.value is failure and refresh.calls == calls
            assert_settled(s.stats)

    run(main())


def test_bearer_without_a_token_refreshes_first(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        sends = Sends()
        refresh = Refresher("first")
        async with ClientSession(wire=wire_impl, middlewares=(BearerTokenMiddleware(refresh=refresh), sends)) as s:
            assert (await s.get(aiohttp_app.url("/bearer/first"))).status == 200
        assert sends.statuses == [200] and refresh.calls == 1

    run(main())


def test_bearer_token_never_reaches_another_origin(
    wire_impl: Wire, run: Any, fault: FaultServer, aiohttp_app: App
) -> None:
    fault.script = serve(response(401, b""), then="keep")

    async def main() -> None:
        refresh = Refresher("new")
        mw = BearerTokenMiddleware("tok", refresh=refresh, origin=aiohttp_app.base)
        async with ClientSession(wire=wire_impl, middlewares=(mw,)) as s:
            assert (await s.get(fault.url())).status == 401
        await fault.finished()
        assert fault.requests()[0].header("Authorization") is None and refresh.calls == 0

    run(main())


def test_bearer_with_a_one_shot_stream_after_a_401(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        refresh = Refresher("new")
        async with ClientSession(wire=wire_impl, middlewares=(BearerTokenMiddleware("old", refresh=refresh),)) as s:
            with pytest.raises(wirespeed.InvalidRequest, match="refreshed token"):
                await s.put(aiohttp_app.url("/bearer/new"), data=pieces(b"once"))
            assert (await s.put(aiohttp_app.url("/bearer/new"), data=pieces(b"now"))).status == 200
        assert refresh.calls == 1

    run(main())


def test_bearer_needs_a_token_or_a_refresh() -> None:
    with pytest.raises(ValueError):
        BearerTokenMiddleware()


# =========================================================================== Logging


def test_logging_records_method_url_status_and_duration(
    wire_impl: Wire, run: Any, aiohttp_app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="wirespeed.client")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(LoggingMiddleware(),)) as s:
            await (await s.get(aiohttp_app.url("/small?a=1"))).read()
            await (await s.post(aiohttp_app.url("/status/404"))).read()

    run(main())
    ok, missing = caplog.records
    assert ok.name == "wirespeed.client" and ok.levelno == logging.INFO
    assert ok.getMessage().startswith(f"GET {aiohttp_app.url('/small?a=1')} -> 200 OK (")
    assert ok.getMessage().endswith(" ms)")
    assert (ok.method, ok.url, ok.status) == ("GET", aiohttp_app.url("/small?a=1"), 200)  # type: ignore[attr-defined]
    assert 0 < ok.duration < 5  # type: ignore[attr-defined]
    assert missing.getMessage().startswith(f"POST {aiohttp_app.url('/status/404')} -> 404 Not Found")


def test_logging_to_a_given_logger_and_level_and_a_failure(
    wire_impl: Wire, run: Any, caplog: pytest.LogCaptureFixture
) -> None:
    logger = logging.getLogger("tests.http")
    caplog.set_level(logging.DEBUG, logger="tests.http")
    port = free_port()

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(LoggingMiddleware(logger, logging.DEBUG),)) as s:
            with pytest.raises(wirespeed.ConnectError):
                await s.get(f"http://user:secret@127.0.0.1:{port}/x")

    run(main())
    (record,) = caplog.records
    assert record.name == "tests.http" and record.levelno == logging.WARNING   # failures: WARNING at least
    message = record.getMessage()
    # URL credentials become Basic auth and leave the URL (docs/client.md): neither part is logged
    assert message.startswith(f"GET http://127.0.0.1:{port}/x failed after ") and "ConnectError" in message
    assert "secret" not in message and "user" not in message


def test_logging_disabled_logs_nothing(wire_impl: Wire, run: Any, aiohttp_app: App,
                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="wirespeed.client")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(LoggingMiddleware(),)) as s:
            await (await s.get(aiohttp_app.url("/small"))).read()

    run(main())
    assert caplog.records == []


def test_logging_innermost_sees_every_send(wire_impl: Wire, run: Any, fault: FaultServer,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="wirespeed.client")
    fault.script = serve(UNAVAILABLE, OK, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(retry(Sleeps()), LoggingMiddleware())) as s:
            await (await s.get(fault.url())).read()

    run(main())
    assert [r.status for r in caplog.records] == [503, 200]  # type: ignore[attr-defined]

