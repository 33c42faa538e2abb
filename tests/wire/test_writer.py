"""StreamWriter against a recording transport: calls, bytes, counters, misuse.

Every test runs on both twins through ``wire_impl``.  The transport records
each call (``write`` / ``writelines``) with the objects it was given, so the
tests can count calls and check that large bodies are passed through, not
copied.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy, istr

from wirespeed.errors import HeaderValidationError, TransportError, UnsupportedCompression, WriterStateError
from wirespeed.testing import RecordingTransport
from wirespeed.wire import Wire

MiB = 1024 * 1024


HEADERS = CIMultiDict(
    [
        ("Host", "example.com"),
        ("User-Agent", "wirespeed"),
        ("Accept", "*/*"),
        ("Accept-Encoding", "gzip"),
        ("Connection", "keep-alive"),
    ]
)
HEAD = (
    b"GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: wirespeed\r\nAccept: */*\r\n"
    b"Accept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n"
)


@pytest.fixture
def fixed_cpython(wire_impl: Wire, monkeypatch: pytest.MonkeyPatch) -> Wire:
    """The twin as on a CPython whose writelines honours flow control (the gate open).

    On 3.12.0-3.12.8 / 3.13.0-3.13.1 the gate is closed by default and a large
    message is written piecewise instead (tests/wire/test_flow_control.py).
    """
    monkeypatch.setattr(wire_impl.writer_module, "WRITELINES_SAFE", True)
    return wire_impl


def make(wire_impl: Wire, **kw: Any) -> tuple[Any, RecordingTransport]:
    transport = RecordingTransport()
    return wire_impl.StreamWriter(transport, **kw), transport


MULTIDICT_KINDS: dict[str, Callable[[list[tuple[Any, Any]]], Any]] = {
    "CIMultiDict": CIMultiDict,
    "MultiDict": MultiDict,
    "CIMultiDictProxy": lambda items: CIMultiDictProxy(CIMultiDict(items)),
    "MultiDictProxy": lambda items: MultiDictProxy(MultiDict(items)),
}


@pytest.mark.parametrize("kind", list(MULTIDICT_KINDS))
def test_multidict_fields_are_written_as_the_same_pairs(wire_impl: Wire, kind: str) -> None:
    # Each multidict type (walked through multidict's C API by the C twin when it can) gives
    # what its pairs give: every item, repeats and order kept, istr keys as written.
    items: list[tuple[Any, Any]] = [("Host", "h"), (istr("X-Id"), b"1"), ("host", "again"), ("Accept", "*/*")]
    headers = MULTIDICT_KINDS[kind](items)
    w, t = make(wire_impl)
    w.write_request_headers("GET", "/", headers)
    w.write_eof()
    w2, t2 = make(wire_impl)
    w2.write_request_headers("GET", "/", items)
    w2.write_eof()
    assert t.data == t2.data == b"GET / HTTP/1.1\r\nHost: h\r\nX-Id: 1\r\nhost: again\r\nAccept: */*\r\n\r\n"


@pytest.mark.parametrize("kind", list(MULTIDICT_KINDS))
def test_a_bad_multidict_field_is_reported_as_in_pairs(wire_impl: Wire, kind: str) -> None:
    items: list[tuple[Any, Any]] = [("A", "1"), ("B", "2"), ("C", "3\r\nX: y"), ("D", "4")]
    for fields in (MULTIDICT_KINDS[kind](items), MULTIDICT_KINDS[kind]([*items[:2], ("bad name", "v")])):
        w, t = make(wire_impl)
        with pytest.raises(HeaderValidationError) as info:
            w.write_request_headers("GET", "/", fields)
        w2, _ = make(wire_impl)
        with pytest.raises(HeaderValidationError) as info2:
            w2.write_request_headers("GET", "/", list(fields.items()))
        assert str(info.value) == str(info2.value)
        assert t.calls == []
    # The writer is still unused: a head can follow.
    w.write_request_headers("GET", "/", MULTIDICT_KINDS[kind](items[:2]))


# -- one transport call per small message --------------------------------------


def test_get_without_body_is_one_transport_call(wire_impl: Wire) -> None:
    w, t = make(wire_impl)
    w.write_headers("GET / HTTP/1.1", HEADERS)
    assert t.calls == []  # buffered
    w.write_eof()
    assert t.calls == [("write", HEAD)]


def test_small_post_via_write_eof_is_one_transport_call(wire_impl: Wire) -> None:
    w, t = make(wire_impl)
    w.write_headers("POST /form HTTP/1.1", {"Content-Length": "200"})
    w.write_eof(b"x" * 200)
    assert len(t.calls) == 1 and t.calls[0][0] == "write"
    assert t.data == b"POST /form HTTP/1.1\r\nContent-Length: 200\r\n\r\n" + b"x" * 200


def test_write_then_write_eof_is_one_call_for_head_and_body(wire_impl: Wire) -> None:
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1", {"Content-Length": "5"})
    w.write(b"hello")
    assert len(t.calls) == 1
    w.write_eof()
    assert len(t.calls) == 1  # nothing left to send
    assert t.data == b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"


def test_small_chunked_body_with_eof_is_one_call(wire_impl: Wire) -> None:
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1", {"Transfer-Encoding": "chunked"})
    w.enable_chunking()
    w.write_eof(b"hello")
    assert len(t.calls) == 1
    assert t.data == b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"


def test_one_mib_body_is_one_vectored_call_passing_the_body_through(fixed_cpython: Wire) -> None:
    wire_impl = fixed_cpython
    body = b"b" * MiB
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1", {"Content-Length": str(MiB)})
    w.write_eof(body)
    assert len(t.calls) == 1
    kind, pieces = t.calls[0]
    assert kind == "writelines"
    assert pieces[1] is body
    assert len(pieces) == 2


def test_large_chunk_is_framed_without_copying(fixed_cpython: Wire) -> None:
    wire_impl = fixed_cpython
    body = bytearray(b"c" * MiB)
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1", {"Transfer-Encoding": "chunked"})
    w.enable_chunking()
    w.write(body)
    kind, pieces = t.calls[0]
    assert kind == "writelines" and len(t.calls) == 1
    assert pieces[2] is body
    assert [bytes(p) for p in pieces[1:2] + pieces[3:]] == [b"100000\r\n", b"\r\n"]


def test_large_body_after_the_head_went_out_is_the_object_itself(wire_impl: Wire) -> None:
    body = memoryview(b"m" * MiB)
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1")
    w.send_headers()
    w.write(body)
    assert t.calls[1] == ("write", body) and t.calls[1][1] is body


def test_coalesce_limit_is_a_constructor_knob(fixed_cpython: Wire) -> None:
    wire_impl = fixed_cpython
    w, t = make(wire_impl, coalesce_limit=10)
    w.write_headers("POST / HTTP/1.1")
    w.write_eof(b"body")
    assert [kind for kind, _ in t.calls] == ["writelines"]
    w, t = make(wire_impl, coalesce_limit=10 * MiB)
    w.write_headers("POST / HTTP/1.1")
    w.write_eof(b"b" * MiB)
    assert [kind for kind, _ in t.calls] == ["write"]


def test_writing_empty_bytes_is_a_no_op(wire_impl: Wire) -> None:
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1", {"Transfer-Encoding": "chunked"})
    w.enable_chunking()
    w.write(b"")
    w.write(memoryview(b""))
    assert t.calls == []
    w.write(b"a")
    w.write(b"")
    w.write_eof()
    assert t.data.endswith(b"\r\n\r\n1\r\na\r\n0\r\n\r\n")


# -- byte-exact output, the same for both twins --------------------------------


def _drive(w: Any, steps: list[tuple[str, tuple[Any, ...], dict[str, Any]]]) -> None:
    for name, args, kwargs in steps:
        getattr(w, name)(*args, **kwargs)


def step(name: str, *args: Any, **kwargs: Any) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
    return (name, args, kwargs)


OUTPUT_TABLE = [
    pytest.param(
        [step("write_request_headers", "GET", "/a?b=c", {"Host": "h"}), step("write_eof")],
        b"GET /a?b=c HTTP/1.1\r\nHost: h\r\n\r\n",
        id="request-helper",
    ),
    pytest.param(
        [step("write_request_headers", b"OPTIONS", b"*", [], version=(1, 0)), step("write_eof")],
        b"OPTIONS * HTTP/1.0\r\n\r\n",
        id="request-helper-bytes-http10",
    ),
    pytest.param(
        [step("write_response_headers", 404, "Not Found", [("Content-Length", "3")]), step("write_eof", b"nope"[:3])],
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnop",
        id="response-helper",
    ),
    pytest.param(
        [step("write_response_headers", 200, "", ()), step("set_eof")],
        b"HTTP/1.1 200 \r\n\r\n",
        id="empty-reason-set-eof",
    ),
    pytest.param(
        [step("write_headers", "GET / HTTP/1.1", [(b"X-Raw", b"\xff\tok"), ("x-dup", "1"), ("x-dup", "2")]), step("write_eof")],
        b"GET / HTTP/1.1\r\nX-Raw: \xff\tok\r\nx-dup: 1\r\nx-dup: 2\r\n\r\n",
        id="bytes-obs-text-htab-duplicates",
    ),
    pytest.param(
        [step("write_headers", "GET / HTTP/1.1", CIMultiDict([("A", "1"), ("a", "2")])), step("write_eof")],
        b"GET / HTTP/1.1\r\nA: 1\r\na: 2\r\n\r\n",
        id="multidict-keeps-case-and-order",
    ),
    pytest.param(
        [step("write_headers", "GET / HTTP/1.1", {"X-Utf8": "caf\u00e9 \u2603"}), step("write_eof")],
        b"GET / HTTP/1.1\r\nX-Utf8: caf\xc3\xa9 \xe2\x98\x83\r\n\r\n",
        id="str-values-are-utf8",
    ),
    pytest.param(
        [
            step("write_headers", "POST / HTTP/1.1", {"Transfer-Encoding": "chunked"}),
            step("enable_chunking"),
            step("write", b"ab"),
            step("write", bytearray(b"c" * 17)),
            step("write_eof", b"", trailers={"X-Sum": "abc"}),
        ],
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n11\r\n" + b"c" * 17 + b"\r\n0\r\nX-Sum: abc\r\n\r\n",
        id="chunked-trailers",
    ),
    pytest.param(
        [
            step("write_headers", "POST / HTTP/1.1", {"Transfer-Encoding": "chunked"}),
            step("enable_chunking"),
            step("send_headers"),
            step("send_headers"),
            step("write_eof", b"last", trailers=[(b"T", b"1"), ("U", "2")]),
        ],
        b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nlast\r\n0\r\nT: 1\r\nU: 2\r\n\r\n",
        id="send-headers-then-last-chunk-with-trailers",
    ),
    pytest.param(
        [step("write_headers", b"HTTP/1.1 101 Switching Protocols", {"Upgrade": "websocket"}), step("send_headers"), step("write", b"\x81\x00")],
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00",
        id="upgrade-then-raw-bytes",
    ),
    pytest.param(
        [step("write_headers", "PUT / HTTP/1.1", ()), step("write", memoryview(b"0123456789")[2:5]), step("write_eof", b"!")],
        b"PUT / HTTP/1.1\r\n\r\n234!",
        id="memoryview-slices",
    ),
]


@pytest.mark.parametrize(("steps", "expected"), OUTPUT_TABLE)
def test_output_is_byte_exact(wire_impl: Wire, steps: Any, expected: bytes) -> None:
    w, t = make(wire_impl)
    _drive(w, steps)
    assert t.data == expected
    assert w.headers_length + w.body_length == len(expected)


# -- counters ------------------------------------------------------------------


def test_counters_split_head_and_body(wire_impl: Wire) -> None:
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1", {"Transfer-Encoding": "chunked"})
    w.enable_chunking()
    assert (w.headers_length, w.body_length) == (0, 0)  # buffered, not written
    w.write(b"abc")
    head_len = len(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert w.headers_length == head_len
    assert w.body_length == len(b"3\r\nabc\r\n")
    w.write_eof()
    assert w.body_length == len(b"3\r\nabc\r\n0\r\n\r\n")
    assert w.buffer_size == len(t.data)


# -- compression -----------------------------------------------------------------


def _dechunk(body: bytes) -> bytes:
    out = b""
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            assert body == b"\r\n"
            return out
        out += body[:size]
        assert body[size : size + 2] == b"\r\n"
        body = body[size + 2 :]


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "length"])
@pytest.mark.parametrize("size", [10, 100_000], ids=["small", "large"])
def test_compressed_body_round_trips(
    wire_impl: Wire, encoding: str, chunked: bool, size: int
) -> None:
    payload = bytes(range(256)) * (size // 256) + b"tail" * 3
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1", {"Content-Encoding": encoding})
    w.enable_compression(encoding)
    if chunked:
        w.enable_chunking()
    w.write(payload[: size // 2])
    w.write_eof(payload[size // 2 :])
    head, _, body = t.data.partition(b"\r\n\r\n")
    if chunked:
        body = _dechunk(body)
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
    assert zlib.decompress(body, wbits) == payload
    if size == 10:
        assert len(t.calls) == 1  # head, compressed body and terminator coalesced


def test_unknown_compression_is_refused(wire_impl: Wire) -> None:
    w, _ = make(wire_impl)
    with pytest.raises(UnsupportedCompression, match="'br'"):
        w.enable_compression("br")


# -- misuse ----------------------------------------------------------------------

MISUSE = [
    pytest.param([], "write", "write() before write_headers()", id="write-before-headers"),
    pytest.param([], "write_eof", "write_eof() before write_headers()", id="eof-before-headers"),
    pytest.param([], "send_headers", "send_headers() before write_headers()", id="send-before-headers"),
    pytest.param([], "set_eof", "set_eof() before write_headers()", id="set-eof-before-headers"),
    pytest.param(["write_headers"], "write_headers", "called twice", id="headers-twice"),
    pytest.param(["write_headers", "write_eof"], "write", "after the end", id="write-after-eof"),
    pytest.param(["write_headers", "write_eof"], "write_eof", "after the end", id="eof-twice"),
    pytest.param(["write_headers", "set_eof"], "write_eof", "after the end", id="eof-after-set-eof"),
    pytest.param(["write_headers", "write_eof"], "set_eof", "after the end", id="set-eof-after-eof"),
    pytest.param(["write_headers", "write"], "enable_chunking", "after the body started", id="chunking-late"),
    pytest.param(["write_headers", "write"], "enable_compression", "after the body started", id="compression-late"),
    pytest.param(["write_headers", "enable_chunking"], "set_eof", "use write_eof", id="set-eof-chunked"),
    pytest.param(["write_headers"], "trailers", "need chunked", id="trailers-without-chunking"),
]


@pytest.mark.parametrize(("before", "call", "message"), MISUSE)
def test_misuse_raises_writer_state_error(
    wire_impl: Wire, before: list[str], call: str, message: str
) -> None:
    w, t = make(wire_impl)
    args = {"write_headers": ("GET / HTTP/1.1", {}), "write": (b"x",), "write_eof": (), "set_eof": ()}
    for name in before:
        getattr(w, name)(*args.get(name, ()))
    sent = list(t.calls)
    with pytest.raises(WriterStateError, match=message.replace("(", r"\(").replace(")", r"\)")):
        if call == "trailers":
            w.write_eof(b"", trailers={"X": "1"})
        else:
            getattr(w, call)(*args.get(call, ()))
    assert t.calls == sent


def test_write_to_closing_transport_raises_instead_of_dropping(wire_impl: Wire) -> None:
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1")
    t.closing = True
    with pytest.raises(TransportError, match="closing"):
        w.write(b"data")
    assert t.calls == []


@pytest.mark.parametrize("size", [10, MiB], ids=["small", "large"])
def test_write_eof_to_closing_transport_raises(wire_impl: Wire, size: int) -> None:
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1")
    t.closing = True
    with pytest.raises(TransportError, match=f"cannot write {size + 19} bytes"):
        w.write_eof(b"x" * size)
    assert t.calls == []


def test_write_refuses_str(wire_impl: Wire) -> None:
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1")
    with pytest.raises(TypeError):
        w.write("text")  # type: ignore[arg-type]
    assert t.calls == []


# -- large heads and borrowed buffers -----------------------------------------------


def test_a_head_larger_than_the_stack_buffer_is_exact(wire_impl: Wire) -> None:
    fields = [(f"X-Field-{i}", "v" * 100 + str(i)) for i in range(100)]
    w, t = make(wire_impl)
    w.write_headers("POST / HTTP/1.1", fields)
    w.enable_chunking()
    w.write_eof(b"x", trailers=fields)
    block = b"".join(b"%s: %s\r\n" % (n.encode(), v.encode()) for n, v in fields)
    assert t.data == b"POST / HTTP/1.1\r\n" + block + b"\r\n1\r\nx\r\n0\r\n" + block + b"\r\n"
    assert w.headers_length == len(b"POST / HTTP/1.1\r\n" + block + b"\r\n")


@pytest.mark.parametrize("size", [10, MiB], ids=["coalesced", "vectored"])
def test_borrowed_buffers_are_released(fixed_cpython: Wire, size: int) -> None:
    """A bytearray body can be resized again once write() returns: no buffer export is kept."""
    body = bytearray(b"r" * size)
    w, t = make(fixed_cpython)
    w.write_headers("POST / HTTP/1.1")
    w.write(body)
    w.write_eof(body)
    body.extend(b"more")  # BufferError if an export leaked
    body.clear()
    assert len(t.calls) == 2
