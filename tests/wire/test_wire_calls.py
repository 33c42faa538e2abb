"""The C wire twin's C calls (``Wire.parser_calls``, ``Wire.writer_calls``) do what the Python calls do.

The client's C twins feed the C parser and write a small request through
tables of C functions the wire layer exports as capsules
(``src/_parser_calls.pxi``, ``src/_writer_calls.pxi``), not through the
parser's and the writer's Python methods.  Each call promises to be one of
those methods without its overhead, so each is held here to the method it
stands for, on the twin the fixture gives: feeding a long memoryview's first
``n`` bytes gives what feeding those ``n`` bytes gives (every conformance case,
every split, and the errors), and a small request written without a writer
is the bytes and the errors a writer gives.  The calls are reached from Python
through ctypes, as C code reaches them.
"""

from __future__ import annotations

import ctypes
import json
from pathlib import Path
from typing import Any

import pytest

from support.parsing import Result, error_facts, run, splits
from wirespeed.errors import HeaderValidationError, HttpParserError, TransportError, WriterStateError
from wirespeed.testing import RecordingTransport
from wirespeed.wire import Wire, load

try:
    C_WIRE: Wire | None = load("c")
except ImportError:   # no C twin here: nothing exports the calls (CI builds it and checks so)
    C_WIRE = None

needs_c = pytest.mark.skipif(C_WIRE is None, reason="the C twin is not built: it alone exports C calls")

_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = ctypes.c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]

# PYFUNCTYPE: called with the GIL held, and an exception the call sets is raised here.
_FEED = ctypes.PYFUNCTYPE(ctypes.py_object, ctypes.py_object, ctypes.py_object, ctypes.c_ssize_t,
                          ctypes.c_ssize_t, ctypes.POINTER(ctypes.c_void_p))
_IDLE = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object)
_SET_METHOD = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.py_object)
_WRITE_SMALL = ctypes.PYFUNCTYPE(ctypes.c_int, *[ctypes.py_object] * 5)


class _HeadFacts(ctypes.Structure):
    _fields_ = [("status", ctypes.c_int), ("keep_alive", ctypes.c_int), ("has_set_cookie", ctypes.c_int),
                ("has_coding", ctypes.c_int), ("reason", ctypes.c_void_p), ("version", ctypes.c_void_p),
                ("content_length", ctypes.c_void_p)]


_HEAD_FACTS = ctypes.PYFUNCTYPE(None, ctypes.py_object, ctypes.POINTER(_HeadFacts))


class _ParserCalls(ctypes.Structure):
    _fields_ = [("head_facts", _HEAD_FACTS), ("feed_view", _FEED), ("idle", _IDLE),
                ("set_method", _SET_METHOD)]


class _WriterCalls(ctypes.Structure):
    _fields_ = [("write_small", _WRITE_SMALL)]


def _parser_calls() -> _ParserCalls:
    assert C_WIRE is not None
    address = _get_pointer(C_WIRE.parser_calls, b"wirespeed.wire._parser_c._PARSER_CALLS")
    return _ParserCalls.from_address(address)


def _writer_calls() -> _WriterCalls:
    assert C_WIRE is not None
    address = _get_pointer(C_WIRE.writer_calls, b"wirespeed.wire._writer_c._WRITER_CALLS")
    return _WriterCalls.from_address(address)


def feed_view(parser: Any, view: memoryview, n: int, copy_under: int = 0) -> tuple[list[Any], Any]:
    """The events, and the parser's error after (None or the error object)."""
    error = ctypes.c_void_p()
    events = _parser_calls().feed_view(parser, view, n, copy_under, ctypes.byref(error))
    pending = None if not error.value else ctypes.cast(error, ctypes.py_object).value
    return events, pending


def test_the_python_twin_exports_no_calls() -> None:
    python = load("python")
    assert python.parser_calls is None and python.writer_calls is None
    if C_WIRE is not None:
        assert C_WIRE.parser_calls is not None and C_WIRE.writer_calls is not None


# -- feed_view ---------------------------------------------------------------------------


_CASES = json.loads((Path(__file__).resolve().parents[1] / "support" / "data" / "conformance_responses.json")
                    .read_text(encoding="utf-8"))["cases"]


def _fed_as_views(copy_under: int) -> Any:
    """A ``support.parsing.run`` feed: each chunk given to the C parser's feed_view as the first
    bytes of a longer buffer whose tail is junk a parser must never read."""
    def feed(p: Any, chunk: Any) -> tuple[list[Any], Any]:
        raw = bytes(chunk)
        view = memoryview(bytearray(raw + b"\r\n\r\nHTTP/1.1 500 junk\r\n\r\n"))
        events, pending = feed_view(p, view, len(raw), copy_under)
        assert pending is p.error
        return events, view

    return feed


def _summary(r: Result) -> tuple[Any, ...]:
    return r.messages, error_facts(r.error), r.done, r.unconsumed


@needs_c
@pytest.mark.parametrize("copy_under", [0, 1, 6, 1 << 20])
@pytest.mark.parametrize("how", ["whole", "bytewise", "random"])
@pytest.mark.parametrize("strict", [False, True])
def test_feed_view_gives_what_feed_gives(wire_impl: Wire, strict: bool, how: str, copy_under: int) -> None:
    compared = 0
    for case in _CASES:
        data = case["input"].encode("latin-1")
        method = case.get("method", "GET")
        eof = bool(case.get("eof", False))
        for chunks in splits(data, how):
            want = run(wire_impl, chunks, method=method, strict=strict, eof=eof)
            got = run(C_WIRE, chunks, method=method, strict=strict, eof=eof,  # type: ignore[arg-type]
                      feed=_fed_as_views(copy_under), copied_under=copy_under)
            assert _summary(got) == _summary(want), case["id"]
            compared += 1
    assert compared >= len(_CASES) > 40


@needs_c
def test_feed_view_body_pieces_are_slices_of_the_view_within_n(wire_impl: Wire) -> None:
    # a read-until-close body fed from the start of a longer view: the piece ends at n
    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
    ours = C_WIRE.ResponseParser()   # type: ignore[union-attr]
    theirs = wire_impl.ResponseParser()
    buf = bytearray(head + b"x" * 64)
    events, _ = feed_view(ours, memoryview(buf), len(head))
    assert [type(e) for e in events] == [C_WIRE.ResponseHead]   # type: ignore[union-attr]
    theirs.feed(bytes(buf[:len(head)]))
    buf[:10] = b"0123456789"
    events, _ = feed_view(ours, memoryview(buf), 10)
    assert [bytes(e) for e in events] == [bytes(e) for e in theirs.feed(b"0123456789")] == [b"0123456789"]
    assert events[0].obj is buf
    # a Content-Length body: the piece stops at the length, inside n
    ours = C_WIRE.ResponseParser()   # type: ignore[union-attr]
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    events, _ = feed_view(ours, memoryview(bytearray(data + b"JUNK")), len(data) - 2)
    assert bytes(events[1]) == b"hel"
    assert [bytes(e) for e in wire_impl.ResponseParser().feed(data[:-2])[1:]] == [b"hel"]


@needs_c
def test_feed_view_copies_short_pieces_only_in_that_call(wire_impl: Wire) -> None:
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
    ours = C_WIRE.ResponseParser()   # type: ignore[union-attr]
    events, _ = feed_view(ours, memoryview(bytearray(data)), len(data) - 4, copy_under=7)
    assert type(events[1]) is bytes and events[1] == b"012345"   # 6 bytes: under 7
    events, _ = feed_view(ours, memoryview(bytearray(b"6789")), 4, copy_under=4)
    assert type(events[0]) is memoryview and bytes(events[0]) == b"6789"   # 4 bytes: not under 4
    # feed() after it slices again, also after a feed_view that raised
    with pytest.raises(HttpParserError):
        feed_view(C_WIRE.ResponseParser(), memoryview(bytearray(b"HTTP/1.1 2x0 OK\r\n\r\n")), 19,   # type: ignore[union-attr]
                  copy_under=100)
    again = C_WIRE.ResponseParser()   # type: ignore[union-attr]
    feed_view(again, memoryview(bytearray(data[:-10])), len(data) - 10, copy_under=100)
    assert [type(e) for e in again.feed(data[-10:])] == [memoryview, C_WIRE.MessageEnd]   # type: ignore[union-attr]
    # a read-until-close piece, short and long
    close = C_WIRE.ResponseParser()   # type: ignore[union-attr]
    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
    feed_view(close, memoryview(bytearray(head)), len(head))
    short, _ = feed_view(close, memoryview(bytearray(b"abcXX")), 3, copy_under=4)
    long, _ = feed_view(close, memoryview(bytearray(b"abcdefXX")), 6, copy_under=4)
    assert short == [b"abc"] and [bytes(e) for e in long] == [b"abcdef"] and type(long[0]) is memoryview
    theirs = wire_impl.ResponseParser()
    theirs.feed(head)
    assert [bytes(e) for e in theirs.feed(b"abc") + theirs.feed(b"abcdef")] == [b"abc", b"abcdef"]


@needs_c
def test_feed_view_errors(wire_impl: Wire) -> None:
    p = C_WIRE.ResponseParser()   # type: ignore[union-attr]
    view = memoryview(bytearray(b"HTTP/1.1 200 OK\r\n\r\n"))
    for n in (-1, len(view) + 1):
        with pytest.raises(ValueError):
            feed_view(p, view, n)
    with pytest.raises(TypeError):
        feed_view(p, b"HTTP/1.1 200 OK\r\n\r\n", 5)   # type: ignore[arg-type]
    with pytest.raises(ValueError):
        feed_view(p, memoryview(bytearray(8)).cast("I"), 1)
    with pytest.raises(ValueError):
        feed_view(p, memoryview(bytearray(64))[::2], 4)
    assert p.idle   # nothing of the refused calls was taken
    # a malformed head: the same error class and offset as feed(), kept and raised again
    bad = b"HTTP/1.1 2x0 OK\r\n\r\n"
    with pytest.raises(HttpParserError) as ours:
        feed_view(p, memoryview(bytearray(bad + b"more")), len(bad))
    with pytest.raises(HttpParserError) as theirs:
        wire_impl.ResponseParser().feed(bad)
    assert error_facts(ours.value) == error_facts(theirs.value)
    assert p.error is ours.value
    with pytest.raises(HttpParserError) as again:
        feed_view(p, memoryview(bytearray(b"HTTP")), 4)
    assert again.value is ours.value
    # events then an error in one feed: the events come back, the error is pending
    two = b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 2x0 OK\r\n\r\n"
    q = C_WIRE.ResponseParser()   # type: ignore[union-attr]
    events, pending = feed_view(q, memoryview(bytearray(two)), len(two))
    assert len(events) == 2 and pending is q.error is not None
    other = wire_impl.ResponseParser()
    assert len(other.feed(two)) == 2 and error_facts(other.error) == error_facts(pending)


@needs_c
def test_idle_and_set_method(wire_impl: Wire) -> None:
    calls = _parser_calls()
    ours = C_WIRE.ResponseParser()   # type: ignore[union-attr]
    theirs = wire_impl.ResponseParser()
    steps = [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", b"o", b"k", b"\r\n", b"HTTP/1.1 204 No\r\n\r\n"]
    assert calls.idle(ours) == theirs.idle == 1
    for step in steps:
        feed_view(ours, memoryview(bytearray(step)), len(step))
        theirs.feed(step)
        assert calls.idle(ours) == int(theirs.idle) == int(ours.idle)
    assert calls.set_method(ours, "HEAD") == 0 and ours.method == "HEAD"
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"
    events, _ = feed_view(ours, memoryview(bytearray(head)), len(head))
    theirs.method = "HEAD"
    assert len(events) == len(theirs.feed(head)) == 2   # no body after a HEAD's head
    with pytest.raises(TypeError) as ours_error:
        calls.set_method(ours, b"GET")
    with pytest.raises(TypeError) as theirs_error:
        theirs.method = b"GET"
    assert str(ours_error.value) == str(theirs_error.value)
    assert ours.method == "HEAD"


def _borrowed(address: int | None) -> Any:
    """The object a borrowed PyObject pointer points at (the head holds it)."""
    return ctypes.cast(address, ctypes.py_object).value


@needs_c
@pytest.mark.parametrize("fields", [
    b"Content-Length: 2\r\n",
    b"Content-Length: 0\r\nConnection: close\r\nSet-Cookie: a=1\r\n",
    b"Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n",
    b"Content-Encoding:\r\nContent-Length: 0\r\n",
    b"content-encoding: br, gzip\r\nset-cookie: b=2\r\nContent-Length: 0\r\n",
    b"Content-Encodings: gzip\r\nContent-Length: 0\r\n",
], ids=["length", "close-cookie", "chunked-gzip", "empty-coding", "lower-case", "near-miss"])
def test_head_facts_are_the_heads_attributes(wire_impl: Wire, fields: bytes) -> None:
    """What the client reads of a head through the call is what the head's attributes say, and
    ``has_coding`` is ``content_encoding is not None`` on the fixture's twin."""
    data = b"HTTP/1.1 200 Fine\r\n" + fields + b"\r\n"
    (head, *_), _ = feed_view(C_WIRE.ResponseParser(), memoryview(bytearray(data)), len(data))  # type: ignore[union-attr]
    theirs = wire_impl.ResponseParser().feed(data)[0]
    facts = _HeadFacts()
    _parser_calls().head_facts(head, ctypes.byref(facts))
    assert (facts.status, bool(facts.keep_alive), bool(facts.has_set_cookie)) == (
        theirs.status, theirs.keep_alive, theirs.has_set_cookie)
    assert bool(facts.has_coding) is (theirs.content_encoding is not None)
    assert (_borrowed(facts.reason), _borrowed(facts.version), _borrowed(facts.content_length)) == (
        theirs.reason, theirs.version, theirs.content_length)


# -- write_small -------------------------------------------------------------------------

FIELDS = (("Host", "example.test"), ("User-Agent", "t/1"), ("Accept", "*/*"))


def _by_writer(wire_impl: Wire, method: Any, target: Any, fields: Any, body: Any) -> list[tuple[str, bytes]]:
    transport = RecordingTransport()
    w = wire_impl.StreamWriter(transport)
    w.write_request_headers(method, target, fields)
    if body is None:
        w.set_eof()
    else:
        w.write_eof(body)
    return transport.as_bytes()


def _by_call(method: Any, target: Any, fields: Any, body: Any, transport: Any = None) -> tuple[int, Any]:
    transport = transport or RecordingTransport()
    done = _writer_calls().write_small(transport, method, target, fields, body)
    return done, transport


@needs_c
@pytest.mark.parametrize("body", [None, b"", b"x" * 100, b"y" * 3900])
def test_write_small_writes_what_a_writer_writes(wire_impl: Wire, body: bytes | None) -> None:
    fields_list = [FIELDS, list(FIELDS), (("Host", "h"), ("Content-Length", str(len(body or b""))))]
    for fields in fields_list:
        for _ in range(2):   # the second time from the head built the first time, for the tuples
            done, transport = _by_call("POST", "/p?q=1", fields, body)
            assert done == 1
            assert transport.as_bytes() == _by_writer(wire_impl, "POST", "/p?q=1", fields, body)
            assert len(transport.calls) == 1 and transport.calls[0][0] == "write"


@needs_c
def test_write_small_leaves_a_large_or_other_body_to_a_writer() -> None:
    for body in (b"z" * 4096, b"z" * 70000, bytearray(b"abc"), memoryview(b"abc"), "text"):
        done, transport = _by_call("POST", "/", FIELDS, body)
        assert done == 0 and transport.calls == []


@needs_c
def test_write_small_errors_are_a_writers(wire_impl: Wire) -> None:
    cases = [
        ("GE T", "/", FIELDS),
        ("GET", "/a b", FIELDS),
        ("GET", "/#frag", FIELDS),
        ("GET", "", FIELDS),
        ("GET", "/", (("Bad Name", "v"),)),
        ("GET", "/", (("Name", "v\r\nInjected: 1"),)),
        (1, "/", FIELDS),
    ]
    for method, target, fields in cases:
        with pytest.raises(Exception) as ours:
            _by_call(method, target, fields, None)
        with pytest.raises(Exception) as theirs:
            _by_writer(wire_impl, method, target, fields, None)
        assert type(ours.value) is type(theirs.value), (method, target, fields)
        assert str(ours.value) == str(theirs.value)
        assert isinstance(ours.value, (HeaderValidationError, TypeError))
    # nothing was written for any of them
    done, transport = _by_call("GET", "/", FIELDS, None)
    assert done == 1 and len(transport.calls) == 1


@needs_c
def test_write_small_on_a_closing_transport(wire_impl: Wire) -> None:
    for body in (None, b"abc"):
        transport = RecordingTransport()
        transport.closing = True
        with pytest.raises(TransportError) as ours:
            _by_call("GET", "/", FIELDS, body, transport)
        assert transport.calls == []
        other = RecordingTransport()
        other.closing = True
        w = wire_impl.StreamWriter(other)
        w.write_request_headers("GET", "/", FIELDS)
        with pytest.raises(TransportError) as theirs:
            w.set_eof() if body is None else w.write_eof(body)
        assert str(ours.value) == str(theirs.value)


@needs_c
def test_write_small_takes_no_writer_state() -> None:
    # each call is a whole request: a second one is not "a second head"
    for _ in range(3):
        done, _transport = _by_call("GET", "/", FIELDS, None)
        assert done == 1
    w = C_WIRE.StreamWriter(RecordingTransport())   # type: ignore[union-attr]
    w.write_request_headers("GET", "/", FIELDS)
    with pytest.raises(WriterStateError):
        w.write_request_headers("GET", "/", FIELDS)
