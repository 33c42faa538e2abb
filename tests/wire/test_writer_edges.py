"""StreamWriter edge cases: body types, status and trailer rules, misuse, odd transports.

Every test runs on both twins through ``wire_impl``.  The common thread: a
refused call raises a typed error from ``wirespeed.errors`` before the
transport sees a byte, and leaves the writer as it was (the same call with
good input then works).  The writer never reads the headers it serialises,
so Content-Length is not policed (docs/writer.md, "What the writer does not
check").
"""

from __future__ import annotations

import array
import asyncio
import gc
import http
import mmap
import socket
import zlib
from typing import Any

import pytest

from wirespeed.errors import BodyTypeError, HeaderValidationError, TransportError, WriterStateError
from wirespeed.testing import RecordingTransport
from wirespeed.wire import Wire
from wirespeed.wire._flow import FlowControl

HEAD = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"


def make(wire_impl: Wire, **kw: Any) -> tuple[Any, RecordingTransport]:
    transport = RecordingTransport()
    return wire_impl.StreamWriter(transport, **kw), transport


def chunked(wire_impl: Wire, **kw: Any) -> tuple[Any, RecordingTransport]:
    w, t = make(wire_impl, **kw)
    w.write_headers("POST / HTTP/1.1", {"Transfer-Encoding": "chunked"})
    w.enable_chunking()
    return w, t


# -- body pieces ---------------------------------------------------------------------


NOT_BODIES = [
    pytest.param("text", "the body must be a bytes-like object, not str", id="str"),
    pytest.param(5, "the body must be a bytes-like object, not int", id="int"),
    pytest.param(None, "the body must be a bytes-like object, not NoneType", id="none"),
    pytest.param(memoryview(b"abcdef")[::2], "the body must be C-contiguous: this memoryview is not", id="strided"),
]


@pytest.mark.parametrize(("data", "message"), NOT_BODIES)
@pytest.mark.parametrize("framing", ["plain", "chunked", "gzip"])
@pytest.mark.parametrize("call", ["write", "write_eof"])
def test_a_bad_body_is_refused_and_the_writer_stays_usable(
    wire_impl: Wire, data: Any, message: str, framing: str, call: str
) -> None:
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1")
    if framing == "chunked":
        w.enable_chunking()
    elif framing == "gzip":
        w.enable_compression("gzip")
    with pytest.raises(BodyTypeError) as info:
        getattr(w, call)(data)
    assert str(info.value) == message
    assert isinstance(info.value, TypeError)
    assert t.calls == []
    assert (w.headers_length, w.body_length) == (0, 0)
    # Nothing changed: chunking may still be switched on and the message ends normally.
    w.enable_chunking()
    w.write_eof(b"ok")
    out = t.data
    assert out.startswith(b"POST / HTTP/1.1\r\n\r\n")
    if framing != "gzip":
        assert out.endswith(b"2\r\nok\r\n0\r\n\r\n")


def test_a_strided_body_after_the_head_went_out_writes_nothing(wire_impl: Wire) -> None:
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1")
    w.send_headers()
    with pytest.raises(BodyTypeError):
        w.write(memoryview(bytearray(b"abcdef"))[::2])
    assert len(t.calls) == 1  # the head only
    w.write_eof(b"ace")
    assert t.data == b"POST / HTTP/1.1\r\n\r\nace"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(array.array("I", [1, 2, 3]), id="array-I"),
        pytest.param(memoryview(array.array("H", [1, 2, 3])), id="memoryview-H"),
        pytest.param(memoryview(bytes(range(12))).cast("B", (3, 4)), id="memoryview-2d"),
        pytest.param(array.array("B", range(12)), id="array-B"),
    ],
)
def test_other_buffers_reach_the_transport_as_byte_views(wire_impl: Wire, data: Any) -> None:
    """A transport slices what it could not send by bytes: a view of 4-byte items would be cut mid-item."""
    w, t = make(wire_impl, coalesce_limit=0)
    w.write_headers("POST / HTTP/1.1")
    w.send_headers()
    w.write(data)
    kind, piece = t.calls[-1]
    assert kind == "write"
    assert type(piece) is memoryview
    assert (piece.format, piece.itemsize, piece.ndim) == ("B", 1, 1)
    assert piece.nbytes == len(piece) == memoryview(data).nbytes
    assert bytes(piece) == bytes(memoryview(data))
    assert w.body_length == memoryview(data).nbytes


@pytest.mark.parametrize("framing", ["plain", "chunked"])
@pytest.mark.parametrize(
    "last",
    [
        pytest.param(bytearray(b"tail"), id="bytearray"),
        pytest.param(memoryview(b"tail"), id="memoryview"),
        pytest.param(memoryview(b"xtailx")[1:5], id="memoryview-slice"),
        pytest.param(memoryview(array.array("B", b"tail")), id="array-view"),
    ],
)
def test_write_eof_takes_any_contiguous_buffer(
    wire_impl: Wire, monkeypatch: pytest.MonkeyPatch, last: Any, framing: str
) -> None:
    monkeypatch.setattr(wire_impl.writer_module, "WRITELINES_SAFE", True)  # one call even on 3.12.0-3.12.8
    for limit in (0, 4096):  # as separate pieces and joined
        w, t = make(wire_impl, coalesce_limit=limit)
        w.write_headers("POST / HTTP/1.1")
        if framing == "chunked":
            w.enable_chunking()
            w.write_eof(last)
            assert t.data == b"POST / HTTP/1.1\r\n\r\n4\r\ntail\r\n0\r\n\r\n"
        else:
            w.write_eof(last)
            assert t.data == b"POST / HTTP/1.1\r\n\r\ntail"
        assert len(t.calls) == 1


def test_a_chunk_over_4_gib_gets_the_right_size_line(
    wire_impl: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The size line is not truncated to 32 bits; the (lazily mapped) payload is never touched."""
    monkeypatch.setattr(wire_impl.writer_module, "WRITELINES_SAFE", True)
    size = 2**32 + 1
    try:
        huge = mmap.mmap(-1, size)
    except (OSError, OverflowError, ValueError) as exc:
        pytest.skip(f"cannot map {size} bytes here: {exc}")
    try:
        w, t = chunked(wire_impl)
        w.send_headers()
        w.write(huge)
        kind, pieces = t.calls[-1]
        assert kind == "writelines"
        assert pieces[0] == b"100000001\r\n"
        assert memoryview(pieces[1]).nbytes == size
        assert pieces[2] == b"\r\n"
        assert w.body_length == size + len(b"100000001\r\n\r\n")
        del pieces, kind
        t.calls.clear()
    finally:
        gc.collect()
        huge.close()


def test_many_small_writes_are_one_chunk_each(wire_impl: Wire) -> None:
    w, t = chunked(wire_impl)
    w.send_headers()
    for i in range(50):
        w.write(b"x" * (i % 3))  # every third write is empty: a no-op, not a terminator
    w.write_eof()
    body = t.data[len(HEAD) :]
    assert body == (b"1\r\nx\r\n" + b"2\r\nxx\r\n") * 16 + b"1\r\nx\r\n" + b"0\r\n\r\n"
    assert len(t.calls) == 1 + 33 + 1


@pytest.mark.parametrize("empty", [b"", bytearray(), memoryview(b""), array.array("B")], ids=type)
def test_empty_pieces_of_every_type_are_no_ops(wire_impl: Wire, empty: Any) -> None:
    w, t = chunked(wire_impl)
    w.write(empty)
    assert t.calls == []
    w.write_eof(empty)
    assert t.as_bytes() == [("write", HEAD + b"0\r\n\r\n")]


# -- status lines ------------------------------------------------------------------


def test_an_http_status_enum_is_a_status(wire_impl: Wire) -> None:
    w, t = make(wire_impl)
    status = http.HTTPStatus.NOT_FOUND
    w.write_response_headers(status, status.phrase, {"Content-Length": "0"})
    w.write_eof()
    assert t.data == b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def test_http_1_0_status_line(wire_impl: Wire) -> None:
    w, t = make(wire_impl)
    w.write_response_headers(200, b"OK", (), (1, 0))
    w.set_eof()
    assert t.data == b"HTTP/1.0 200 OK\r\n\r\n"


@pytest.mark.parametrize(
    ("method", "target"),
    [("get", "/"), ("CONNECT", "example.com:443"), ("OPTIONS", "*"), ("GET", "http://example.com/a?b=c")],
)
def test_every_request_target_form_and_a_lower_case_method(
    wire_impl: Wire, method: str, target: str
) -> None:
    w, t = make(wire_impl)
    w.write_request_headers(method, target, {"Host": "example.com"})
    w.write_eof()
    assert t.data == f"{method} {target} HTTP/1.1\r\nHost: example.com\r\n\r\n".encode()


# -- headers and trailers ----------------------------------------------------------


@pytest.mark.parametrize("headers", [None, 5, object()], ids=["none", "int", "object"])
def test_headers_that_are_not_fields_are_refused(wire_impl: Wire, headers: Any) -> None:
    w, t = make(wire_impl)
    with pytest.raises(HeaderValidationError) as info:
        w.write_headers("GET / HTTP/1.1", headers)
    assert str(info.value) == (
        f"headers must be a mapping or an iterable of (name, value) pairs, not {type(headers).__name__}"
    )
    w.write_headers("GET / HTTP/1.1", {})  # still usable
    assert t.calls == []


def test_whitespace_around_a_value_goes_out_as_given(wire_impl: Wire) -> None:
    """Like aiohttp: recipients strip OWS around a value (RFC 9110 §5.5); HTAB inside is allowed."""
    w, t = make(wire_impl)
    w.write_headers("GET / HTTP/1.1", [("X-A", " a\tb "), ("X-B", ""), ("X-C", "\t")])
    w.write_eof()
    assert t.data == b"GET / HTTP/1.1\r\nX-A:  a\tb \r\nX-B: \r\nX-C: \t\r\n\r\n"


@pytest.mark.parametrize(
    "name", ["Content-Length", "transfer-encoding", "TRAILER", "Host", "Authorization", "Set-Cookie",
             "Content-Encoding", "Content-Type", "Cache-Control", "TE", b"Content-Length"]
)
def test_a_trailer_field_rfc_9110_forbids_is_refused(wire_impl: Wire, name: Any) -> None:
    w, t = chunked(wire_impl)
    w.write(b"data")
    with pytest.raises(HeaderValidationError) as info:
        w.write_eof(trailers=[("X-Ok", "1"), (name, "1")])
    text = name.decode() if isinstance(name, bytes) else name
    assert str(info.value) == f"trailer #1 {text!r} is not allowed in a trailer section (RFC 9110 §6.5.1)"
    assert len(t.calls) == 1  # head and the first chunk; no terminator
    w.write_eof(trailers={"X-Checksum": "abc", "Server-Timing": "db;dur=5"})
    assert t.data == HEAD + b"4\r\ndata\r\n0\r\nX-Checksum: abc\r\nServer-Timing: db;dur=5\r\n\r\n"


def test_compression_chunking_and_trailers_together(wire_impl: Wire) -> None:
    w, t = chunked(wire_impl)
    w.enable_compression("gzip")
    payload = bytes(range(256)) * 64
    w.write(payload[:5000])
    w.write(payload[5000:])
    w.write_eof(b"end", trailers={"X-Sum": "1"})
    data = t.data
    assert data.startswith(HEAD)
    body, size, rest = bytearray(), None, data[len(HEAD) :]
    while True:  # de-chunk
        line, rest = rest.split(b"\r\n", 1)
        size = int(line, 16)
        if size == 0:
            break
        body += rest[:size]
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]
    assert rest == b"X-Sum: 1\r\n\r\n"
    assert zlib.decompress(bytes(body), wbits=31) == payload + b"end"


def test_the_writer_does_not_police_content_length(wire_impl: Wire) -> None:
    """The headers are the caller's: a body longer or shorter than declared goes out as written."""
    for body in (b"toolong", b"", b"x"):
        w, t = make(wire_impl)
        w.write_headers("POST / HTTP/1.1", {"Content-Length": "3"})
        w.write_eof(body)
        assert t.data == b"POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n" + body


# -- the state machine ---------------------------------------------------------------


def test_send_headers_after_the_end_is_a_no_op(wire_impl: Wire) -> None:
    w, t = make(wire_impl)
    w.write_headers("GET / HTTP/1.1")
    w.write_eof()
    w.send_headers()
    assert len(t.calls) == 1


@pytest.mark.parametrize(
    "call",
    [("write", b"x"), ("write", b""), ("write_eof",), ("set_eof",), ("enable_chunking",),
     ("enable_compression", "gzip"), ("write_headers", "GET / HTTP/1.1")],
    ids=lambda c: c[0] + ("-empty" if c[1:] == (b"",) else ""),
)
@pytest.mark.parametrize("end", ["write_eof", "set_eof"])
def test_every_call_after_the_end_is_refused(wire_impl: Wire, call: tuple[Any, ...], end: str) -> None:
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1")
    getattr(w, end)()
    with pytest.raises(WriterStateError):
        getattr(w, call[0])(*call[1:])
    assert len(t.calls) == 1


def test_a_refused_head_leaves_the_writer_new(wire_impl: Wire) -> None:
    w, t = make(wire_impl)
    with pytest.raises(HeaderValidationError):
        w.write_headers("GET / HTTP/1.1", {"X": "a\r\nb"})
    with pytest.raises(WriterStateError):
        w.write(b"x")
    w.write_headers("GET / HTTP/1.1", {"X": "a"})
    w.write_eof()
    assert t.data == b"GET / HTTP/1.1\r\nX: a\r\n\r\n"


def test_closing_mid_message_raises_and_the_writer_stays_dead(wire_impl: Wire) -> None:
    w, t = chunked(wire_impl)
    w.write(b"one")
    t.closing = True
    for _ in range(2):
        with pytest.raises(TransportError):
            w.write(b"two")
    with pytest.raises(TransportError):
        w.write_eof()
    assert t.data == HEAD + b"3\r\none\r\n"


def test_an_exception_from_the_transport_propagates_unchanged(wire_impl: Wire) -> None:
    class Broken(RecordingTransport):
        def write(self, data: Any) -> None:
            raise RuntimeError("transport is broken")

    w = wire_impl.StreamWriter(Broken())
    w.write_headers("GET / HTTP/1.1")
    with pytest.raises(RuntimeError, match="transport is broken"):
        w.write_eof()
    with pytest.raises(WriterStateError):  # the message is over: the caller closes the connection
        w.write_eof()


def test_a_socket_that_is_not_asyncios_wrapper_is_never_written_to(
    wire_impl: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only asyncio's own TransportSocket is trusted for the writev path; a raw socket is not."""
    monkeypatch.setattr(wire_impl.writer_module, "WRITELINES_SAFE", True)
    a, b = socket.socketpair()
    try:
        a.setblocking(False)
        b.setblocking(False)

        class Odd(RecordingTransport):
            def get_extra_info(self, name: str, default: Any = None) -> Any:
                return a if name == "socket" else default

        t = Odd()
        w = wire_impl.StreamWriter(t)
        w.write_headers("POST / HTTP/1.1")
        w.write_eof(b"x" * 10_000)
        assert [kind for kind, _ in t.calls] == ["writelines"]
        with pytest.raises(BlockingIOError):
            b.recv(1)
    finally:
        a.close()
        b.close()


# -- flow control ------------------------------------------------------------------


class Flow(FlowControl):
    """A protocol whose __init__ forgets FlowControl.__init__."""

    def __init__(self) -> None:
        self.other = True


def test_flow_control_works_without_its_init() -> None:
    async def main() -> None:
        flow = Flow()
        await flow.wait_writable()
        flow.pause_writing()
        waiter = asyncio.ensure_future(flow.wait_writable())
        await asyncio.sleep(0)
        assert not waiter.done()
        flow.resume_writing()
        await waiter
        flow.pause_writing()
        waiter = asyncio.ensure_future(flow.wait_writable())
        await asyncio.sleep(0)
        flow.connection_lost(None)
        with pytest.raises(TransportError):
            await waiter

    asyncio.run(main())


def test_drain_without_a_protocol_returns(wire_impl: Wire) -> None:
    w, t = chunked(wire_impl, drain_limit=0)
    w.write(b"x" * 100)
    asyncio.run(w.drain())
    assert w.buffer_size == 0
    t.closing = True
    with pytest.raises(TransportError):
        asyncio.run(w.drain())


def test_drain_limit_zero_waits_after_any_byte(wire_impl: Wire) -> None:
    async def main() -> None:
        flow = FlowControl()
        w, _ = chunked(wire_impl, drain_limit=0)
        w.protocol = flow
        flow.pause_writing()
        await w.drain()  # nothing written yet: no wait
        w.write(b"x")
        drain = asyncio.ensure_future(w.drain())
        await asyncio.sleep(0)
        assert not drain.done()
        flow.resume_writing()
        await drain

    asyncio.run(main())


def test_many_drains_one_cancelled_the_rest_released_then_lost(wire_impl: Wire) -> None:
    async def main() -> None:
        flow = FlowControl()
        writers = []
        for _ in range(100):
            w, _ = chunked(wire_impl, drain_limit=0)
            w.protocol = flow
            w.write(b"x")
            writers.append(w)
        flow.pause_writing()
        drains = [asyncio.ensure_future(w.drain()) for w in writers]
        await asyncio.sleep(0)
        assert len(flow._waiters) == 100
        drains[0].cancel()
        await asyncio.sleep(0)
        assert len(flow._waiters) == 99  # the cancelled waiter left nothing behind
        flow.resume_writing()
        await asyncio.gather(*drains[1:])
        assert not flow._waiters
        # Paused again, then the connection goes: every waiter raises, none hangs.
        for w in writers:
            w.write(b"y")
        flow.pause_writing()
        drains = [asyncio.ensure_future(w.drain()) for w in writers]
        await asyncio.sleep(0)
        flow.connection_lost(ConnectionResetError("reset"))
        results = await asyncio.wait_for(asyncio.gather(*drains, return_exceptions=True), 5)
        assert all(type(r) is TransportError for r in results)
        assert not flow._waiters

    asyncio.run(main())


@pytest.mark.parametrize("gate_open", [True, False])
@pytest.mark.parametrize("last", [b"", bytearray(), memoryview(b"")], ids=type)
def test_ending_with_nothing_never_writes_nothing(
    wire_impl: Wire, monkeypatch: pytest.MonkeyPatch, gate_open: bool, last: Any
) -> None:
    """With a zero coalesce limit on a CVE-affected CPython, the head once wrote itself and then b""."""
    monkeypatch.setattr(wire_impl.writer_module, "WRITELINES_SAFE", gate_open)
    w, t = make(wire_impl, coalesce_limit=0)
    w.write_headers("GET / HTTP/1.1")
    w.write_eof(last)
    assert t.as_bytes() == [("write", b"GET / HTTP/1.1\r\n\r\n")]
