"""Servers that misbehave, and requests the client must refuse: the error classes, what reached the wire.

Each server here is a script of the fault server, which records every byte it
read per connection: a test can assert what the client sent (nothing at all
for a refused request; no body after a final status to ``Expect:
100-continue``), and on how many connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

import wirespeed
from support.client_kit import assert_settled, within
from support.fault_server import Conn, FaultServer, chunked, close_at_once, ok, reset_at_once, response, serve
from support.servers import free_port
from wirespeed import ClientSession
from wirespeed.wire import Wire

KiB = 1024
MiB = 1024 * KiB
OK = response(200, b"ok")


# --------------------------------------------------------------------------- broken responses


def _truncating(raw: bytes, how: str) -> Any:
    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(raw)
        await asyncio.sleep(0.05)
        if how == "rst":
            conn.reset()
        else:
            await conn.close()

    return script


TRUNCATED = {
    "length-fin": (response(200, headers=[("Content-Length", "100")], length=False) + b"x" * 50, "fin"),
    "length-rst": (response(200, headers=[("Content-Length", "100")], length=False) + b"x" * 50, "rst"),
    "chunked-fin": (response(200, headers=[("Transfer-Encoding", "chunked")], length=False) + b"5\r\nhello\r\n", "fin"),
    "chunked-mid-chunk": (response(200, headers=[("Transfer-Encoding", "chunked")], length=False) + b"a\r\nhel", "fin"),
}


@pytest.mark.parametrize("case", list(TRUNCATED))
def test_truncated_body_raises_payload_error_and_the_session_goes_on(
    wire_impl: Wire, run: Any, fault: FaultServer, case: str
) -> None:
    raw, how = TRUNCATED[case]
    fault.script = [_truncating(raw, how), serve(OK, then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url("/t")) as r:
                assert r.status == 200
                with pytest.raises(wirespeed.ClientPayloadError) as info:
                    await r.read()
            assert info.value.method == "GET" and str(info.value.url) == fault.url("/t")
            assert_settled(s.stats, idle=0)
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
            assert s.stats.closed == 1

    run(main())


@pytest.mark.parametrize("script", [close_at_once, reset_at_once], ids=["fin", "rst"])
def test_server_gone_right_after_accepting_is_a_disconnect(
    wire_impl: Wire, run: Any, fault: FaultServer, script: Any
) -> None:
    fault.script = [script, serve(OK, then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            with pytest.raises(wirespeed.ClientConnectionError):
                await s.get(fault.url())
            assert_settled(s.stats, idle=0)
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
        await fault.finished()
        assert fault.accepted == 2

    run(main())


@pytest.mark.parametrize("how", ["fin", "rst"])
def test_server_gone_inside_the_head_is_a_disconnect(wire_impl: Wire, run: Any, fault: FaultServer, how: str) -> None:
    fault.script = _truncating(b"HTTP/1.1 200 OK\r\nContent-Le", how)

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            with pytest.raises(wirespeed.ServerDisconnectedError):
                await s.get(fault.url())
            assert_settled(s.stats, idle=0)

    run(main())


MALFORMED = {
    "not-http": b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    "bad-status-code": b"HTTP/1.1 2OO OK\r\nContent-Length: 0\r\n\r\n",
    "space-before-colon": b"HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok",
    "two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!",
    "bad-chunk-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_response_raises_protocol_error_with_the_parser_error_as_cause(
    wire_impl: Wire, run: Any, fault: FaultServer, case: str
) -> None:
    fault.script = [serve(MALFORMED[case], then="keep"), serve(OK, then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            with pytest.raises((wirespeed.ResponseProtocolError, wirespeed.ClientPayloadError)) as info:
                async with s.get(fault.url()) as r:
                    await within(r.read(), what="reading a malformed body")
            assert isinstance(info.value.__cause__, wirespeed.HttpParserError), repr(info.value.__cause__)
            assert_settled(s.stats, idle=0)
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
        await fault.finished()
        assert fault.accepted == 2

    run(main())


def test_response_dripped_one_byte_at_a_time(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    raw = response(200, b"dripped body", [("X-Slow", "yes")]) + response(200, b"second")

    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.drip(raw[: len(raw) - len(response(200, b"second"))], delay=0.001)
        await conn.read_request()
        await conn.drip(response(200, b"second"), step=3, delay=0.001)
        await conn.stall()

    fault.script = script

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url()) as r:
                assert r.headers["X-Slow"] == "yes" and await r.read() == b"dripped body"
            async with s.get(fault.url()) as r:
                assert await r.read() == b"second"
            assert s.stats.opened == 1

    run(main())


def test_a_response_without_content_type_is_octet_stream(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = serve(ok(b"raw"), then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url()) as r:
                assert "Content-Type" not in r.headers
                assert (r.content_type, r.charset, r.get_encoding()) == ("application/octet-stream", None, "utf-8")
                assert len(r.cookies) == 0 and await r.read() == b"raw"

    run(main())


def test_chunked_response_with_trailers_and_extensions(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    body = chunked(b"hello ", b"world", trailers=[("X-Checksum", "abc")]).replace(b"6\r\n", b"6;ext=1\r\n", 1)
    fault.script = serve(response(200, body, [("Transfer-Encoding", "chunked")]), OK, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url()) as r:
                assert await r.read() == b"hello world"
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
            assert s.stats.opened == 1

    run(main())


def test_head_response_with_a_length_has_no_body_and_keeps_the_connection(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    head = response(200, headers=[("Content-Length", "5000")], length=False)
    fault.script = serve(head, response(204), response(304, headers=[("ETag", '"x"')], length=False), OK, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.head(fault.url()) as r:
                assert r.content_length == 5000 and await r.read() == b""
            for status in (204, 304):
                async with s.get(fault.url()) as r:
                    assert r.status == status and await r.read() == b""
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
            assert s.stats.opened == 1
        await fault.finished()
        assert fault.accepted == 1

    run(main())


def test_connection_refused_is_a_connect_error(wire_impl: Wire, run: Any) -> None:
    port = free_port()  # nothing listens there

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            with pytest.raises(wirespeed.ConnectError) as info:
                await s.get(f"http://127.0.0.1:{port}/")
            assert isinstance(info.value.__cause__, OSError)
            assert isinstance(info.value, wirespeed.ClientConnectionError)
            assert_settled(s.stats, idle=0)
            assert s.stats.opened == 0

    run(main())


# --------------------------------------------------------------------------- what the client refuses to send

BAD_REQUESTS = {
    "cr-lf-in-method": {"method": "GET\r\nX-Injected: 1\r\n\r\nGET", "path": "/"},
    "space-in-method": {"method": "GE T", "path": "/"},
    "empty-method": {"method": "", "path": "/"},
    "cr-lf-in-path": {"path": "/a\r\nX-Injected: 1"},
    "lf-in-path": {"path": "/a\nb"},
    "cr-in-query": {"path": "/a?b=\rc"},
    "nul-in-path": {"path": "/a\x00b"},
    "cr-lf-in-header-value": {"headers": {"X-Ok": "v\r\nX-Injected: 1"}},
    "lf-in-header-value": {"headers": {"X-Ok": "v\nw"}},
    "nul-in-header-value": {"headers": {"X-Ok": "v\x00w"}},
    "cr-lf-in-header-name": {"headers": {"X-Bad\r\nX-Injected": "1"}},
    "space-in-header-name": {"headers": {"Bad Name": "1"}},
    "colon-in-header-name": {"headers": {"Bad:Name": "1"}},
    "empty-header-name": {"headers": {"": "1"}},
    "cr-lf-in-session-header": {"session_headers": {"X-S": "a\r\nX-Injected: 1"}},
}
REFUSALS = (wirespeed.InvalidURL, wirespeed.InvalidRequest, wirespeed.LocalProtocolError)


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_request_with_cr_lf_or_bad_bytes_is_refused_before_any_byte_is_sent(
    wire_impl: Wire, run: Any, fault: FaultServer, case: str
) -> None:
    bad = BAD_REQUESTS[case]
    fault.script = serve(OK, then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, headers=bad.get("session_headers")) as s:
            with pytest.raises(REFUSALS) as info:
                async with s.request(bad.get("method", "GET"), fault.url(bad.get("path", "/")),
                                     headers=bad.get("headers")) as r:
                    await r.read()
            assert isinstance(info.value, (ValueError, wirespeed.LocalProtocolError))
            assert_settled(s.stats)
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url("/good")) as r:  # the server is fine; a good request gets through
                assert await r.read() == b"ok"
        await fault.finished()
        # The only bytes the server ever read are the good request's head.
        assert [r.target for r in fault.requests()] == ["/good"]
        assert b"Injected" not in fault.received()
        assert fault.received() == fault.requests()[0].head

    run(main())


def test_url_without_host_or_with_an_unsupported_scheme_is_invalid(wire_impl: Wire, run: Any) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            for url in ("/relative/without/base", "ftp://127.0.0.1/x", "http:///nohost", "nonsense"):
                with pytest.raises(wirespeed.InvalidURL) as info:
                    await s.get(url)
                assert isinstance(info.value, ValueError)

    run(main())


# --------------------------------------------------------------------------- early answers while sending


async def _big_stream(counter: list[int], pieces: int) -> AsyncIterator[bytes]:
    for _ in range(pieces):
        counter[0] += 1
        yield b"u" * (64 * KiB)


@pytest.mark.parametrize("body", ["bytes", "stream"])
def test_early_413_while_sending_a_large_body_is_the_answer(
    wire_impl: Wire, run: Any, fault: FaultServer, body: str
) -> None:
    total_pieces = 1024  # 64 MiB: far more than the kernel buffers between client and server

    async def script(conn: Conn) -> None:
        await conn.read_head()
        await conn.send(response(413, b"too large", [("Connection", "close")]))
        await asyncio.sleep(0.3)  # not reading: the client's writes back up
        await conn.read_until_eof(timeout=5)  # then see the client close

    fault.script = [script, serve(OK, then="keep")]

    async def main() -> None:
        pulled = [0]
        data: Any = b"u" * (64 * KiB * total_pieces) if body == "bytes" else _big_stream(pulled, total_pieces)
        async with ClientSession(wire=wire_impl) as s:
            async with s.post(fault.url("/upload"), data=data) as r:
                assert r.status == 413 and await r.read() == b"too large"
            assert_settled(s.stats, idle=0)
            assert s.stats.closed == 1
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
        await fault.finished()
        upload = fault.connections[0]
        assert upload.eof  # the client closed the connection
        assert len(upload.received) < 64 * KiB * total_pieces // 2  # and stopped sending long before the end
        if body == "stream":
            assert pulled[0] < total_pieces // 2

    run(main())


# --------------------------------------------------------------------------- Expect: 100-continue


@pytest.mark.parametrize("status", [417, 413, 401])
def test_final_status_to_expect_continue_means_no_body_is_sent(
    wire_impl: Wire, run: Any, fault: FaultServer, status: int
) -> None:
    async def script(conn: Conn) -> None:
        await conn.read_head()
        await conn.send(response(status, b"no thanks"))  # keep-alive: the server would read on
        await conn.read_until_eof(timeout=1.5)  # record whatever else comes

    fault.script = [script, serve(OK, then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.post(fault.url("/up"), data=b"B" * 100_000, expect100=True) as r:
                assert r.status == status and await r.read() == b"no thanks"
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
        await fault.finished()
        first = fault.connections[0]
        head = bytes(first.received).split(b"\r\n\r\n")[0] + b"\r\n\r\n"
        assert b"\r\nExpect: 100-continue\r\n" in head
        assert b"\r\nContent-Length: 100000\r\n" in head
        assert bytes(first.received) == head  # not one byte of the body
        assert first.eof  # and the connection was closed, not reused
        assert fault.accepted == 2

    run(main())


def test_expect_continue_sends_the_body_after_100(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    async def script(conn: Conn) -> None:
        head = await conn.read_head()
        assert b"Expect: 100-continue" in head
        await asyncio.sleep(0.05)
        assert not conn.reader._buffer  # nothing of the body came before the 100  # type: ignore[attr-defined]
        await conn.send(response(100, length=False))
        body = await conn.read_exactly(100_000)
        await conn.send(response(200, b"got %d" % len(body)))
        await conn.stall()

    fault.script = script

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.post(fault.url("/up"), data=b"B" * 100_000, expect100=True) as r:
                assert r.status == 200 and await r.read() == b"got 100000"
        await fault.finished()

    run(main())


def test_expect_continue_sends_the_body_anyway_when_the_server_says_nothing(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    async def script(conn: Conn) -> None:
        await conn.read_head()
        body = await conn.read_exactly(5000)  # waits for the client to give up waiting for 100
        await conn.send(response(200, b"got %d" % len(body)))
        await conn.stall()

    fault.script = script

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.post(fault.url("/up"), data=b"B" * 5000, expect100=True) as r:
                assert await r.read() == b"got 5000"

    run(main())
