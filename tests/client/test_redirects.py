"""Redirects against real servers: what is followed, with which method and body, and what never crosses origins.

The apps of ``tests/support/client_apps.py`` redirect on request
(``/redirect/{code}?to=...``, ``/paths/...?to=...``, ``/chain/{n}``) and tell
what arrived (``/echo``, ``/paths/...``, ``/chain/0``); the fault server is
used where the raw bytes of each hop matter (what the request line carries,
what a converted request still announces).  Every test runs on both wire
twins and both loops.

Expected behaviour, with its source:

- 301/302 turn POST into GET without body, 303 anything but HEAD, 307/308
  keep the method and the body (RFC 9110 §15.4); a body that cannot be sent
  again is refused (``InvalidRedirect``), never sent empty (aiohttp 3.14 does
  the same with ``ClientPayloadError``);
- ``max_redirects`` redirects are followed, one more raises
  ``TooManyRedirects`` with every response in ``history`` (httpx's count);
- ``Authorization``, ``Cookie`` and ``Proxy-Authorization`` of the caller
  (request and session headers) never reach another origin, even when the
  chain comes back (RFC 9110 §15.4, aiohttp and httpx strip them too);
- an https page never sends the client to plain http unless allowed;
- a ``Location`` is resolved against the URL that answered it (RFC 3986
  §5.2), the fragment carried over when it has none (RFC 9110 §10.2.2) and
  never sent; a control character or a non-http(s) scheme is refused;
- ``timeout.total`` bounds the request as the caller made it, redirects
  included (aiohttp: "timeout is cumulative for all request operations").
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

import wirespeed
from support.client_apps import SMALL
from support.client_kit import App, TLSApp, assert_settled
from support.fault_server import Conn, FaultServer, ok, response, serve
from wirespeed import ClientSession, ClientTimeout
from wirespeed.wire import Wire

PAYLOAD = b'{"n":1}'


def redirect_url(app: App | FaultServer, to: str, code: int = 302, **query: Any) -> str:
    """``/redirect/{code}`` of ``app`` answering ``Location: to``."""
    return str(URL(app.url(f"/redirect/{code}")).with_query(to=to, **query))


def header_values(doc: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in doc["headers"] if k.lower() == name.lower()]


def header_names(doc: dict[str, Any]) -> set[str]:
    return {k.lower() for k, _ in doc["headers"]}


# --------------------------------------------------------------------------- following and history


def test_redirects_are_followed_by_default_and_history_holds_each_hop(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/chain/3")) as r:
                doc = await r.json()
                assert r.status == 200 and r.url == URL(app.url("/chain/0"))
                assert [h.status for h in r.history] == [302, 302, 302]
                assert [str(h.url) for h in r.history] == [app.url(f"/chain/{n}") for n in (3, 2, 1)]
                assert [h.headers["Location"] for h in r.history] == ["/chain/2", "/chain/1", "/chain/0"]
                assert r not in r.history
            assert doc["method"] == "GET"
            # Four requests, all on the one connection the session opened (counted by the server).
            assert doc["requests"] == 4
            assert s.stats.opened == 1
            assert_settled(s.stats, idle=1)

    run(main())


def test_allow_redirects_false_returns_the_redirect_itself(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(redirect_url(app, "/echo"), allow_redirects=False) as r:
                assert r.status == 302 and r.headers["Location"] == "/echo"
                assert r.history == ()
                assert await r.read() == b"status 302"
            async with s.get(app.url("/count")) as r:   # nothing else was requested on the connection
                assert (await r.json())["requests"] == 1
            assert_settled(s.stats, idle=1)

    run(main())


def test_a_redirect_status_without_location_is_the_final_response(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/redirect/302")) as r:
                assert r.status == 302 and "Location" not in r.headers
                assert await r.read() == b"status 302"
            assert_settled(s.stats, idle=1)

    run(main())


@pytest.mark.parametrize("code", [300, 304, 305, 306, 399])
def test_other_3xx_statuses_are_not_followed(wire_impl: Wire, run: Any, aiohttp_app: App, code: int) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(redirect_url(aiohttp_app, "/echo", code)) as r:
                assert r.status == code and r.headers["Location"] == "/echo" and r.history == ()
                await r.read()
            assert_settled(s.stats)

    run(main())


def test_raise_for_status_applies_to_the_final_response(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, raise_for_status=True) as s:
            with pytest.raises(wirespeed.ClientResponseError) as info:
                await s.get(redirect_url(aiohttp_app, "/status/404"))
            assert info.value.status == 404 and str(info.value.url) == aiohttp_app.url("/status/404")
            assert not isinstance(info.value, (wirespeed.TooManyRedirects, wirespeed.InvalidRedirect))
            async with s.get(redirect_url(aiohttp_app, "/small", code=301)) as r:   # a 3xx is not an error
                assert await r.read() == SMALL and [h.status for h in r.history] == [301]
            assert_settled(s.stats)

    run(main())


# --------------------------------------------------------------------------- methods and bodies

#: (status, method, method after the hop, body kept); RFC 9110 §15.4.2-§15.4.9.
METHOD_CASES = [
    (301, "POST", "GET", False),
    (302, "POST", "GET", False),
    (303, "POST", "GET", False),
    (303, "PUT", "GET", False),
    (303, "DELETE", "GET", False),
    (307, "POST", "POST", True),
    (308, "POST", "POST", True),
    (307, "PUT", "PUT", True),
    (308, "PATCH", "PATCH", True),
    (301, "PUT", "PUT", True),
    (302, "PATCH", "PATCH", True),
    (302, "DELETE", "DELETE", True),
]


@pytest.mark.parametrize("code, method, after, kept", METHOD_CASES,
                         ids=[f"{c}-{m}" for c, m, _, _ in METHOD_CASES])
def test_method_and_body_after_each_redirect_status(wire_impl: Wire, run: Any, app: App, code: int, method: str,
                                                    after: str, kept: bool) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.request(method, redirect_url(app, "/echo", code), json={"n": 1}) as r:
                doc = await r.json()
                assert [h.status for h in r.history] == [code]
            assert doc["method"] == after
            if kept:
                assert doc["body"].encode() == PAYLOAD
                assert header_values(doc, "content-type") == ["application/json"]
                assert header_values(doc, "content-length") == [str(len(PAYLOAD))]
            else:
                # The body is gone, and so is everything that described it.
                assert doc["length"] == 0
                assert not header_names(doc) & {"content-type", "content-length", "transfer-encoding"}
            assert s.stats.opened == 1
            assert_settled(s.stats, idle=1)

    run(main())


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_head_stays_head(wire_impl: Wire, run: Any, fault: FaultServer, code: int) -> None:
    fault.script = serve(response(code, headers=[("Location", "/next")]), ok(b"done"), then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.head(fault.url("/start")) as r:
                assert r.status == 200 and await r.read() == b""
        await fault.finished()
        assert [(q.method, q.target) for q in fault.requests()] == [("HEAD", "/start"), ("HEAD", "/next")]

    run(main())


def test_a_caller_content_length_does_not_follow_a_post_turned_get(wire_impl: Wire, run: Any,
                                                                     fault: FaultServer) -> None:
    """aiohttp drops the caller's Content-Length when the body is dropped; a GET announcing 5 bytes it never
    sends would make the server wait for them."""
    heads: list[bytes] = []

    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(response(302, headers=[("Location", "/next")]))
        heads.append(await conn.read_head())
        await conn.send(response(200, b"done"))
        await conn.stall()

    fault.script = script

    async def main() -> None:
        async with ClientSession(wire=wire_impl, timeout=ClientTimeout(total=5)) as s:
            async with s.post(fault.url("/start"), data=b"hello", headers={"Content-Length": "5"}) as r:
                assert r.status == 200 and await r.read() == b"done"
        await fault.finished()
        (head,) = heads
        assert head.startswith(b"GET /next ")
        assert b"content-length" not in head.lower()

    run(main())


@pytest.mark.parametrize("code", [307, 308])
@pytest.mark.parametrize("kind", ["file", "bytesio"])
def test_a_seekable_file_body_is_sent_again(wire_impl: Wire, run: Any, aiohttp_app: App, tmp_path: Path,
                                            code: int, kind: str) -> None:
    payload = os.urandom(300 * 1024)   # several file pieces
    path = tmp_path / "body.bin"
    path.write_bytes(payload)

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            with path.open("rb") if kind == "file" else io.BytesIO(payload) as f:
                async with s.post(redirect_url(aiohttp_app, "/echo", code), data=f) as r:
                    doc = await r.json()
            assert doc["method"] == "POST"
            assert doc["length"] == len(payload) and doc["sha256"] == hashlib.sha256(payload).hexdigest()
            assert header_values(doc, "content-length") == [str(len(payload))]
            assert_settled(s.stats)

    run(main())


@pytest.mark.parametrize("code", [307, 308])
def test_a_form_data_body_of_fields_and_seekable_files_is_sent_again(wire_impl: Wire, run: Any, app: App,
                                                                     tmp_path: Path, code: int) -> None:
    """aiohttp sends such a FormData again on 307/308; its parts are bytes, text and files that can seek."""
    on_disk = os.urandom(100_000)
    path = tmp_path / "part.bin"
    path.write_bytes(on_disk)

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            with path.open("rb") as f:
                form = wirespeed.FormData()
                form.add_field("text", "caf\u00e9")
                form.add_field("raw", b"\x00\x01")
                form.add_field("memory", io.BytesIO(b"in memory"), filename="memory.txt", content_type="text/plain")
                form.add_field("disk", f, filename="part.bin")
                async with s.post(redirect_url(app, "/form", code), data=form) as r:
                    assert [h.status for h in r.history] == [code]
                    doc = await r.json()
            assert doc["fields"] == {"text": "caf\u00e9", "raw": "\x00\x01"}
            assert doc["files"]["memory"]["size"] == len(b"in memory")
            assert doc["files"]["disk"] == {"filename": "part.bin", "content_type": "application/octet-stream",
                                            "size": len(on_disk), "sha256": hashlib.sha256(on_disk).hexdigest()}

    run(main())


async def _pieces(payload: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(payload), 1000):
        yield payload[i:i + 1000]


@pytest.mark.parametrize("code, method", [(307, "POST"), (308, "PUT"), (302, "PUT"), (301, "PATCH")])
@pytest.mark.parametrize("body", ["async-iterator", "pipe", "form-with-a-pipe"])
def test_a_body_that_cannot_be_sent_again_refuses_the_redirect(wire_impl: Wire, run: Any, fault: FaultServer,
                                                                code: int, method: str, body: str) -> None:
    payload = b"x" * 5000
    fault.script = serve(response(code, headers=[("Location", "/next")]), ok(), then="keep")

    async def main() -> None:
        pipe = None
        if body == "async-iterator":
            data: Any = _pieces(payload)
        else:
            rfd, wfd = os.pipe()
            os.write(wfd, payload)
            os.close(wfd)
            pipe = open(rfd, "rb", buffering=0)   # noqa: SIM115 - closed below
            data = pipe
            if body == "form-with-a-pipe":
                data = wirespeed.FormData()
                data.add_field("pipe", pipe, filename="pipe.bin")
        try:
            async with ClientSession(wire=wire_impl) as s:
                with pytest.raises(wirespeed.InvalidRedirect) as info:
                    await s.request(method, fault.url("/start"), data=data)
                assert info.value.status == code
                assert isinstance(info.value, wirespeed.ClientResponseError)
                assert_settled(s.stats)
        finally:
            if pipe is not None:
                pipe.close()
        await fault.finished()
        # The body was sent once, in full; no second request went anywhere, empty or not.
        (only,) = fault.requests()
        assert only.method == method
        assert only.body == payload if body != "form-with-a-pipe" else payload in only.body
        assert fault.accepted == 1 and fault.received().count(method.encode() + b" ") == 1

    run(main())


def test_303_drops_an_async_iterator_body_without_needing_it_again(wire_impl: Wire, run: Any,
                                                                    aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.post(redirect_url(aiohttp_app, "/echo", 303), data=_pieces(b"y" * 3000)) as r:
                doc = await r.json()
            assert doc["method"] == "GET" and doc["length"] == 0
            assert "transfer-encoding" not in header_names(doc)

    run(main())


def test_307_chain_sends_the_body_on_every_hop_over_one_connection(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.put(app.url("/chain/4?code=307"), data=b"z" * 20000) as r:
                doc = await r.json()
                assert [h.status for h in r.history] == [307] * 4
            assert (doc["method"], doc["length"], doc["requests"]) == ("PUT", 20000, 5)
            assert s.stats.opened == 1

    run(main())


# --------------------------------------------------------------------------- how many


def test_ten_redirects_are_followed_by_default_and_the_eleventh_raises(wire_impl: Wire, run: Any,
                                                                       aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(aiohttp_app.url("/chain/10")) as r:
                assert len(r.history) == 10 and (await r.json())["requests"] == 11
            with pytest.raises(wirespeed.TooManyRedirects) as info:
                await s.get(aiohttp_app.url("/chain/11"))
            err = info.value
            assert isinstance(err, wirespeed.ClientResponseError) and err.status == 302
            assert len(err.history) == 11 and all(h.status == 302 for h in err.history)
            assert [str(h.url) for h in err.history] == [aiohttp_app.url(f"/chain/{n}") for n in range(11, 0, -1)]
            assert_settled(s.stats)
            async with s.get(aiohttp_app.url("/small")) as r:   # the session goes on
                assert await r.read() == SMALL

    run(main())


def test_max_redirects_of_the_session_and_of_one_request(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, max_redirects=2) as s:
            async with s.get(app.url("/chain/2")) as r:
                assert len(r.history) == 2
            with pytest.raises(wirespeed.TooManyRedirects) as info:
                await s.get(app.url("/chain/3"))
            assert len(info.value.history) == 3
            async with s.get(app.url("/chain/3"), max_redirects=3) as r:   # the request's own limit wins
                assert len(r.history) == 3
            with pytest.raises(wirespeed.TooManyRedirects) as info:
                await s.get(app.url("/chain/1"), max_redirects=0)
            assert len(info.value.history) == 1
            assert_settled(s.stats)

    run(main())


def test_a_redirect_loop_stops_after_max_redirects_plus_one_requests(wire_impl: Wire, run: Any,
                                                                     fault: FaultServer) -> None:
    loop_reply = response(302, b"again", [("Location", "/loop")])
    fault.script = serve(*[loop_reply] * 4, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, max_redirects=3) as s:
            with pytest.raises(wirespeed.TooManyRedirects) as info:
                await s.get(fault.url("/loop"))
            assert len(info.value.history) == 4
            assert_settled(s.stats, idle=1)
        await fault.finished()
        assert fault.accepted == 1 and len(fault.requests()) == 4

    run(main())


def test_total_timeout_bounds_the_whole_chain(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    async def slow_hops(conn: Conn) -> None:
        for i in range(3):
            await conn.read_request()
            await asyncio.sleep(0.5)
            await conn.send(response(302, headers=[("Location", f"/hop{i + 1}")]) if i < 2 else response(200, b"late"))
        await conn.stall()

    fault.script = slow_hops

    async def main() -> None:
        # Each hop takes 0.5 s, the chain 1.5 s: a total of 1 s must end it.
        async with ClientSession(wire=wire_impl, timeout=ClientTimeout(total=1.0)) as s:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(wirespeed.TimeoutError):
                async with s.get(fault.url("/hop0")) as r:
                    await r.read()
            assert loop.time() - started < 1.4

    run(main())


# --------------------------------------------------------------------------- credentials and origins

CREDENTIALS = {"Authorization": "Bearer secret", "Cookie": "sid=secret", "Proxy-Authorization": "Basic c2VjcmV0"}


def other_origin(kind: str, aiohttp_app: App, tls_app: TLSApp, fault: FaultServer) -> str:
    """A URL on another origin than ``http://127.0.0.1:{aiohttp_app.port}``: host, port or scheme differ."""
    if kind == "host":
        return f"http://localhost:{aiohttp_app.port}/echo"
    if kind == "port":
        return fault.url("/echo")
    return f"https://127.0.0.1:{tls_app.port}/echo"


@pytest.mark.parametrize("where", ["request", "session"])
@pytest.mark.parametrize("kind", ["host", "port", "scheme"])
def test_credentials_never_reach_another_origin(wire_impl: Wire, run: Any, aiohttp_app: App, tls_app: TLSApp,
                                                fault: FaultServer, kind: str, where: str) -> None:
    fault.script = serve(ok(b"{}"), then="keep")
    given = {**CREDENTIALS, "X-Other": "kept"}

    async def main() -> None:
        session_headers = given if where == "session" else None
        request_headers = given if where == "request" else None
        async with ClientSession(wire=wire_impl, headers=session_headers, ssl=tls_app.trusting_context()) as s:
            target = other_origin(kind, aiohttp_app, tls_app, fault)
            async with s.get(redirect_url(aiohttp_app, target), headers=request_headers) as r:
                assert r.status == 200 and r.url == URL(target)
                body = json.loads(await r.read())
        if kind == "port":
            await fault.finished()
            (q,) = fault.requests()
            names = {k.lower() for k, _ in q.headers}
            other = q.header("X-Other")
        else:
            names = header_names(body)
            other = header_values(body, "X-Other")[0]
        assert not names & {"authorization", "cookie", "proxy-authorization"}, names
        assert other == "kept"

    run(main())


@pytest.mark.parametrize("where", ["request", "session"])
def test_credentials_follow_a_redirect_within_the_origin(wire_impl: Wire, run: Any, app: App, where: str) -> None:
    async def main() -> None:
        kwargs = {"headers": CREDENTIALS}
        async with ClientSession(wire=wire_impl, **(kwargs if where == "session" else {})) as s:
            async with s.get(app.url("/paths/a/b?to=/echo"), **(kwargs if where == "request" else {})) as r:
                doc = await r.json()
        for name, value in CREDENTIALS.items():
            assert header_values(doc, name) == [value]

    run(main())


@pytest.mark.parametrize("where", ["request", "session"])
def test_credentials_stay_off_once_the_chain_left_the_origin_even_when_it_comes_back(
        wire_impl: Wire, run: Any, aiohttp_app: App, where: str) -> None:
    async def main() -> None:
        home = aiohttp_app.url("/echo")
        away = redirect_url(aiohttp_app, home).replace("127.0.0.1", "localhost", 1)
        kwargs = {"headers": CREDENTIALS}
        async with ClientSession(wire=wire_impl, **(kwargs if where == "session" else {})) as s:
            async with s.get(redirect_url(aiohttp_app, away), **(kwargs if where == "request" else {})) as r:
                assert r.url == URL(home) and len(r.history) == 2
                doc = await r.json()
        assert not header_names(doc) & {"authorization", "cookie", "proxy-authorization"}

    run(main())


def test_https_to_http_is_refused(wire_impl: Wire, run: Any, tls_app: TLSApp, fault: FaultServer) -> None:
    fault.script = serve(ok(), then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, ssl=tls_app.trusting_context()) as s:
            with pytest.raises(wirespeed.InvalidRedirect) as info:
                await s.get(redirect_url(tls_app, fault.url("/plain")))
            assert info.value.status == 302
            assert_settled(s.stats, idle=1)
        assert fault.accepted == 0

    run(main())


def test_https_to_http_with_allow_insecure_redirects(wire_impl: Wire, run: Any, tls_app: TLSApp,
                                                     aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, ssl=tls_app.trusting_context(),
                                 allow_insecure_redirects=True) as s:
            async with s.get(redirect_url(tls_app, aiohttp_app.url("/echo")), headers=CREDENTIALS) as r:
                assert r.url.scheme == "http" and [h.url.scheme for h in r.history] == ["https"]
                doc = await r.json()
        assert not header_names(doc) & {"authorization", "cookie", "proxy-authorization"}

    run(main())


def test_http_to_https_is_followed_and_back_to_http_is_refused(wire_impl: Wire, run: Any, aiohttp_app: App,
                                                               tls_app: TLSApp) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, ssl=tls_app.trusting_context()) as s:
            async with s.get(redirect_url(aiohttp_app, tls_app.url("/small"))) as r:
                assert r.url.scheme == "https" and await r.read() == SMALL
            down = redirect_url(tls_app, aiohttp_app.url("/small"))
            with pytest.raises(wirespeed.InvalidRedirect):
                await s.get(redirect_url(aiohttp_app, down))
            assert_settled(s.stats)

    run(main())


# --------------------------------------------------------------------------- the Location

#: (Location answered at /paths/a/b, the path that must arrive, the query that must arrive)
RELATIVE_CASES = [
    ("c", "/paths/a/c", ""),
    ("../c", "/paths/c", ""),
    ("./", "/paths/a/", ""),
    ("/paths/x/y", "/paths/x/y", ""),
    ("c?k=v&k=w", "/paths/a/c", "k=v&k=w"),
    ("?q=1", "/paths/a/b", "q=1"),
    ("./c/../d", "/paths/a/d", ""),
]


@pytest.mark.parametrize("location, path, query", RELATIVE_CASES, ids=[c[0] for c in RELATIVE_CASES])
def test_a_relative_location_is_resolved_against_the_url_that_answered(wire_impl: Wire, run: Any, app: App,
                                                                       location: str, path: str, query: str) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            start = str(URL(app.url("/paths/a/b")).with_query(to=location))
            async with s.get(start) as r:
                doc = await r.json()
                assert r.url == URL(app.url(path + (f"?{query}" if query else "")))
        assert doc["path"] == path and doc["query_string"] == query

    run(main())


def test_relative_locations_resolve_hop_by_hop(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        second = str(URL("/paths/x/y").with_query(to="z"))   # answers "z": relative to /paths/x/y
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(str(URL(app.url("/paths/a/b")).with_query(to=second))) as r:
                doc = await r.json()
        assert doc["path"] == "/paths/x/z"

    run(main())


def test_a_scheme_relative_location_keeps_the_scheme(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(redirect_url(aiohttp_app, f"//localhost:{aiohttp_app.port}/small")) as r:
                assert r.url == URL(f"http://localhost:{aiohttp_app.port}/small") and await r.read() == SMALL

    run(main())


def test_a_non_ascii_location_is_percent_encoded(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(redirect_url(aiohttp_app, "/paths/caf\u00e9")) as r:
                doc = await r.json()
        assert doc["target"] == "/paths/caf%C3%A9" and doc["path"] == "/paths/caf\u00e9"

    run(main())


@pytest.mark.parametrize("start, location, final_fragment", [
    ("/start#frag", "/next", "frag"),
    ("/start#frag", "/next#own", "own"),
    ("/start", "/next#own", "own"),
    ("/start#frag", "/next?q=1", "frag"),
], ids=["carried", "replaced", "given-by-location", "carried-past-a-query"])
def test_the_fragment_is_carried_over_and_never_sent(wire_impl: Wire, run: Any, fault: FaultServer, start: str,
                                                     location: str, final_fragment: str) -> None:
    fault.script = serve(response(302, headers=[("Location", location)]), ok(), then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url(start)) as r:
                assert r.status == 200 and await r.read() == b"ok"
                assert r.url.fragment == final_fragment
                assert r.url.path == "/next"
                assert r.history[0].url == URL(fault.url(start))
        await fault.finished()
        assert [q.target for q in fault.requests()] == ["/start", location.partition("#")[0]]
        assert b"#" not in fault.received()

    run(main())


@pytest.mark.parametrize("location", ["/x\x01y", "/x\x7f", "/a\tb", "/\x1b[31m", "http://127.0.0.1\x00/"],
                         ids=["soh", "del", "tab", "escape", "nul"])
def test_a_location_with_a_control_character_is_refused(wire_impl: Wire, run: Any, fault: FaultServer,
                                                         location: str) -> None:
    fault.script = serve(response(302, headers=[("Location", location)]), ok(), then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            with pytest.raises((wirespeed.InvalidRedirect, wirespeed.ResponseProtocolError)):
                await s.get(fault.url("/start"))
            assert_settled(s.stats)
        await fault.finished()
        assert len(fault.requests()) == 1 and fault.accepted == 1

    run(main())


@pytest.mark.parametrize("location", [
    "ftp://127.0.0.1/file", "file:///etc/passwd", "javascript:alert(1)", "data:text/plain,hi",
    "mailto:someone@example.com", "ws://127.0.0.1/socket", "gopher://127.0.0.1:70/",
])
def test_a_location_that_is_not_http_is_refused(wire_impl: Wire, run: Any, aiohttp_app: App, location: str) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            with pytest.raises(wirespeed.InvalidRedirect) as info:
                await s.get(redirect_url(aiohttp_app, location))
            assert info.value.status == 302
            assert_settled(s.stats, idle=1)
            async with s.get(aiohttp_app.url("/count")) as r:
                assert (await r.json())["requests"] == 1   # the refused redirect sent nothing

    run(main())


# --------------------------------------------------------------------------- connections


@pytest.mark.parametrize("size", [0, 10_000, 300_000], ids=["empty", "small", "large"])
def test_the_body_of_a_redirect_is_released(wire_impl: Wire, run: Any, app: App, size: int) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(redirect_url(app, "/small", size=size)) as r:
                assert await r.read() == SMALL
            assert_settled(s.stats, idle=1)
            if size <= 10_000:
                assert s.stats.opened == 1

    run(main())


def test_a_redirect_that_closes_its_connection_is_followed_on_a_new_one(wire_impl: Wire, run: Any,
                                                                         fault: FaultServer) -> None:
    fault.script = [serve(response(302, headers=[("Location", "/next"), ("Connection", "close")])),
                    serve(ok(b"second"), then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url("/first")) as r:
                assert await r.read() == b"second"
            assert s.stats.opened == 2
        await fault.finished()
        assert fault.accepted == 2

    run(main())


def test_a_redirect_whose_body_ends_with_the_connection_is_followed(wire_impl: Wire, run: Any,
                                                                     fault: FaultServer) -> None:
    fault.script = [serve(response(302, b"read until close", [("Location", "/next")], length=False)),
                    serve(ok(b"second"), then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url("/first")) as r:
                assert await r.read() == b"second" and r.history[0].status == 302
            assert_settled(s.stats, idle=1)
        await fault.finished()
        assert fault.accepted == 2

    run(main())


def test_hops_between_two_origins_reuse_each_origins_connection(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        back = aiohttp_app.url("/count")
        # 127.0.0.1 -> localhost -> 127.0.0.1 -> localhost -> 127.0.0.1/count
        inner = redirect_url(aiohttp_app, back).replace("127.0.0.1", "localhost", 1)
        middle = redirect_url(aiohttp_app, inner)
        outer = redirect_url(aiohttp_app, middle).replace("127.0.0.1", "localhost", 1)
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(redirect_url(aiohttp_app, outer)) as r:
                doc = await r.json()
                assert [h.url.host for h in r.history] == ["127.0.0.1", "localhost", "127.0.0.1", "localhost"]
            assert doc["requests"] == 1
            assert s.stats.opened == 2   # one connection per origin, each reused when the chain comes back
            assert_settled(s.stats, idle=2)

    run(main())
