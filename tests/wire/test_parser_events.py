"""Behaviour of the response parser around its events (docs/parser.md), on both twins.

The table in tests/wire/test_parser.py checks what comes out of every input; these tests
check the call-level contract: deferred errors, a broken parser staying broken,
offsets across calls, zero-copy body pieces, ``done``/``unconsumed``, ``method``,
``feed_eof()``, and that a body is passed through rather than held.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from multidict import CIMultiDictProxy

from wirespeed.errors import BadChunk, BadStatusLine, HttpParserError, IncompleteMessage, InvalidHeader
from wirespeed.wire import Wire
from wirespeed.wire._constants import MAX_UNCONSUMED
from wirespeed.wire._header_names import KNOWN_KEYS, LEARN_MAX
from wirespeed.wire._messages import ARG_OTHER_THREAD

OK = b"HTTP/1.1 200 OK\r\n"
CL0 = b"Content-Length: 0\r\n"


def test_events_before_the_bad_byte_come_first_and_the_error_next(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    events = p.feed(OK + b"Content-Length: 2\r\n\r\nokGARBAGE\r\n")
    assert [type(e) for e in events] == [wire_impl.ResponseHead, memoryview, wire_impl.MessageEnd]
    assert bytes(events[1]) == b"ok"
    err = p.error
    assert isinstance(err, BadStatusLine)
    assert err.offset == len(OK + b"Content-Length: 2\r\n\r\nok")
    assert err.byte == ord("G")
    with pytest.raises(BadStatusLine) as raised:
        p.feed(b"HTTP/1.1 200 OK\r\n")
    assert raised.value is err


def test_a_broken_parser_stays_broken(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    with pytest.raises(InvalidHeader) as first:
        p.feed(OK + b"X A: 1\r\n")
    assert p.error is first.value
    for call in (lambda: p.feed(b"\r\n"), p.feed_eof, lambda: p.feed(OK + b"Content-Length: 0\r\n\r\n")):
        with pytest.raises(InvalidHeader) as again:
            call()
        assert again.value is first.value


def test_error_without_earlier_events_is_raised_at_once(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    with pytest.raises(BadStatusLine) as raised:
        p.feed(b"ICY 200 OK\r\n\r\n")
    assert raised.value.offset == 0
    assert raised.value.byte == ord("I")
    assert "offset 0" in str(raised.value)
    assert raised.value.message


def test_body_bytes_before_a_chunk_error_are_delivered(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    data = OK + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcX"
    events = p.feed(data)
    assert [type(e) for e in events] == [wire_impl.ResponseHead, memoryview]
    assert bytes(events[1]) == b"abc"
    assert isinstance(p.error, BadChunk)
    assert p.error.offset == len(data) - 1
    with pytest.raises(BadChunk):
        p.feed_eof()


def test_offsets_count_from_the_first_byte_ever_fed(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    first = OK + b"Content-Length: 0\r\n\r\n"
    assert len(p.feed(first)) == 2
    p.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(InvalidHeader) as raised:
        p.feed(b"Bad Name: 1\r\n")
    assert raised.value.offset == len(first) + len(OK) + 3


def test_body_piece_is_a_view_of_the_fed_buffer(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    p.feed(OK + b"Content-Length: 8\r\n\r\n")
    buf = bytearray(b"abcdefgh")
    (piece,) = p.feed(buf)[:1]
    assert piece.obj is buf
    buf[0:1] = b"Z"  # a view sees the caller's buffer: no copy was made
    assert bytes(piece) == b"Zbcdefgh"


def test_memoryview_input_gives_views_of_the_same_object(wire_impl: Wire) -> None:
    backing = bytearray(OK + b"Content-Length: 3\r\n\r\nxyz")
    p = wire_impl.ResponseParser("GET")
    events = p.feed(memoryview(backing))
    assert events[1].obj is backing
    assert bytes(events[1]) == b"xyz"


@pytest.mark.parametrize("framing", [b"Content-Length: 5\r\n", b"Connection: close\r\n"])
def test_a_piece_of_a_fed_memoryview_outlives_its_release(wire_impl: Wire, framing: bytes) -> None:
    # A piece that is all of what was fed is still a view of its own, never the caller's
    # memoryview object: the caller may release that one when feed() returns.
    p = wire_impl.ResponseParser("GET")
    p.feed(OK + framing + b"\r\n")
    backing = bytearray(b"abcde")
    with memoryview(backing) as fed:
        (piece,) = p.feed(fed)[:1]
        assert piece is not fed
    assert bytes(piece) == b"abcde" and piece.obj is backing


def test_a_body_is_passed_through_not_held(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    size, step = 1 << 20, 1 << 16
    assert len(p.feed(OK + b"Content-Length: %d\r\n\r\n" % size)) == 1
    for i in range(size // step):
        events = p.feed(bytes(step))
        assert len(events[0]) == step  # each call hands its whole input straight back
        assert len(events) == (2 if i == size // step - 1 else 1)


def test_chunked_body_is_passed_through_per_feed(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    p.feed(OK + b"Transfer-Encoding: chunked\r\n\r\n100000\r\n")
    for _ in range(16):
        (piece,) = p.feed(bytes(1 << 16))
        assert len(piece) == 1 << 16
    events = p.feed(b"\r\n0\r\n\r\n")
    assert [type(e) for e in events] == [wire_impl.MessageEnd]


def test_upgrade_hands_back_everything_after_the_head(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    events = p.feed(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81")
    assert events[0].upgrade and events[0].status == 101
    assert isinstance(events[1], wire_impl.MessageEnd)
    assert p.done and p.unconsumed == b"\x81"
    assert p.feed(bytearray(b"\x05hello")) == []
    assert p.feed(memoryview(b"!")) == []
    assert p.unconsumed == b"\x81\x05hello!"
    assert p.feed_eof() == []
    assert p.error is None


#: 1 MiB that follows the last message, in 4 KiB reads and one more odd piece.
_FOLLOWING = [bytes([i % 251]) * 4096 for i in range(256)] + [b"tail"]


@pytest.mark.parametrize(("method", "head"), [
    ("GET", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"),
    ("CONNECT", b"HTTP/1.1 200 Connection established\r\n\r\n"),
], ids=["101", "connect"])
def test_an_upgrade_keeps_every_following_byte(wire_impl: Wire, method: str, head: bytes) -> None:
    """The caller hands these bytes to the new protocol: none may be dropped."""
    p = wire_impl.ResponseParser(method)
    p.feed(head + b"first")
    for piece in _FOLLOWING:
        assert p.feed(piece) == []
    assert p.unconsumed == b"first" + b"".join(_FOLLOWING)


@pytest.mark.parametrize("how", ["connection-close", "feed-eof"])
def test_bytes_after_a_last_message_are_kept_up_to_a_cap(wire_impl: Wire, how: str) -> None:
    """After Connection: close (or feed_eof) nothing more is parsed: unconsumed keeps the
    first MAX_UNCONSUMED bytes, enough to see what followed, and a peer that goes on
    sending does not grow it."""
    p = wire_impl.ResponseParser("GET")
    if how == "connection-close":
        p.feed(OK + b"Connection: close\r\n" + CL0 + b"\r\n" + b"first")
        first = b"first"
    else:
        p.feed(OK + CL0 + b"\r\n")
        assert p.feed_eof() == []
        first = b""
    assert p.done
    for piece in _FOLLOWING:
        assert p.feed(memoryview(piece)) == []
    assert p.unconsumed == (first + b"".join(_FOLLOWING))[:MAX_UNCONSUMED]
    assert len(p.unconsumed) == MAX_UNCONSUMED and p.error is None and p.feed_eof() == []


def test_the_cap_applies_to_what_followed_in_the_same_feed(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    garbage = b"x" * (MAX_UNCONSUMED + 10)
    assert len(p.feed(OK + b"Connection: close\r\n" + CL0 + b"\r\n" + garbage)) == 2
    assert p.unconsumed == garbage[:MAX_UNCONSUMED]


def test_method_is_read_per_message(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("HEAD")
    assert p.method == "HEAD"
    events = p.feed(OK + b"Content-Length: 5\r\n\r\n")
    assert events[0].content_length == 5 and isinstance(events[1], wire_impl.MessageEnd)
    p.method = "GET"
    events = p.feed(OK + b"Content-Length: 5\r\n\r\nhello")
    assert bytes(events[1]) == b"hello"


def test_feed_eof_ends_a_read_until_close_body(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    events = p.feed(OK + b"\r\nabc")
    assert events[0].keep_alive is False and events[0].content_length is None
    assert not p.done
    assert [type(e) for e in p.feed_eof()] == [wire_impl.MessageEnd]
    assert p.done
    assert p.feed_eof() == []


def test_feed_eof_between_messages_returns_nothing(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    assert p.feed_eof() == []
    p = wire_impl.ResponseParser("GET")
    p.feed(OK + b"Content-Length: 0\r\n\r\n")
    assert p.feed_eof() == []
    assert p.error is None


def test_truncated_body_reports_received_and_expected(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    p.feed(OK + b"Content-Length: 10\r\n\r\n")
    p.feed(b"abc")
    p.feed(b"de")
    with pytest.raises(IncompleteMessage) as raised:
        p.feed_eof()
    assert (raised.value.received, raised.value.expected) == (5, 10)
    assert raised.value.byte is None
    assert isinstance(raised.value, HttpParserError)


def test_headers_are_a_case_insensitive_multidict_of_str(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    head = p.feed(OK + b"Set-Cookie: a=1\r\nset-cookie: b=2\r\nX-T: \xc3\xa9\xff\r\nContent-Length: 0\r\n\r\n")[0]
    assert isinstance(head.headers, CIMultiDictProxy)
    assert head.headers.getall("SET-COOKIE") == ["a=1", "b=2"]
    assert [k for k, _ in head.headers.items()] == ["Set-Cookie", "set-cookie", "X-T", "Content-Length"]
    assert head.headers["x-t"].encode("utf-8", "surrogateescape") == b"\xc3\xa9\xff"
    assert head.raw_headers == ((b"Set-Cookie", b"a=1"), (b"set-cookie", b"b=2"),
                                (b"X-T", b"\xc3\xa9\xff"), (b"Content-Length", b"0"))
    assert all(type(n) is bytes and type(v) is bytes for n, v in head.raw_headers)


def test_trailers_arrive_on_the_end(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    events = p.feed(OK + b"Transfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nX-Sum: 1\r\n\r\n")
    end = events[-1]
    assert isinstance(end, wire_impl.MessageEnd)
    assert isinstance(end.trailers, CIMultiDictProxy)
    assert end.trailers["x-sum"] == "1" and end.raw_trailers == ((b"X-Sum", b"1"),)


def test_limits_are_constructor_arguments(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET", strict=True, max_line_size=100, max_field_size=100, max_headers=1)
    with pytest.raises(HttpParserError) as raised:
        p.feed(OK + b"A: 1\r\nB: 2\r\n\r\n")
    assert type(raised.value).__name__ == "TooManyHeaders"
    assert raised.value.offset == len(OK) + 6


def _keys(p: Any, head: bytes, bytewise: bool) -> list[str]:
    """The header keys of one response fed whole (the fast path) or byte by byte."""
    events: list[Any] = []
    for piece in ([head[i:i + 1] for i in range(len(head))] if bytewise else [head]):
        events += p.feed(piece)
    return list(events[0].headers.keys())


@pytest.mark.parametrize("bytewise", [False, True], ids=["whole", "bytewise"])
def test_header_name_keys_follow_the_one_cache_policy(wire_impl: Wire, bytewise: bool) -> None:
    """docs/parser.md, "Header names": known names are the shared istr objects, other
    names are learnt per parser up to LEARN_MAX (one istr kept for each), then made
    afresh per head; the same on both twins.  (A CIMultiDict hands out every key as
    an istr, so what tells a cached key is its identity across heads.)"""
    p = wire_impl.ResponseParser("GET")
    head = OK + b"Date: d\r\ncontent-length: 0\r\nCONTENT-TYPE: t\r\nX-Mine: 1\r\n\r\n"
    date, cl, upper, other = _keys(p, head, bytewise)
    assert date is KNOWN_KEYS["Date"] and cl is KNOWN_KEYS["content-length"]
    assert upper == "CONTENT-TYPE" and "CONTENT-TYPE" not in KNOWN_KEYS and other == "X-Mine"
    again = _keys(p, OK + b"X-Mine: 2\r\nCONTENT-TYPE: u\r\nContent-Length: 0\r\n\r\n", bytewise)
    assert again[0] is other and again[1] is upper  # learnt once, kept by this parser
    # two learnt so far; fill up to LEARN_MAX, then a new name is made per head
    fill = b"".join(b"X-%d: v\r\n" % i for i in range(LEARN_MAX - 2))
    first = _keys(p, OK + fill + b"X-Late: v\r\nContent-Length: 0\r\n\r\n", bytewise)
    second = _keys(p, OK + fill + b"X-Late: v\r\nContent-Length: 0\r\n\r\n", bytewise)
    assert all(a is b for a, b in zip(first[:-2], second[:-2], strict=True))
    assert first[-2] == second[-2] == "X-Late" and first[-2] is not second[-2]
    assert first[-1] is second[-1] is KNOWN_KEYS["Content-Length"]  # never crowded out
    fresh = wire_impl.ResponseParser("GET")
    late = [_keys(fresh, OK + b"X-Late: v\r\n" + CL0 + b"\r\n", bytewise)[0] for _ in range(2)]
    assert late[0] is late[1]  # per parser: another connection learns afresh


def test_trailer_names_follow_the_same_policy(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    events = p.feed(OK + b"Transfer-Encoding: chunked\r\n\r\n0\r\nServer-Timing: a\r\nX-Sum: 1\r\n\r\n")
    timing, other = events[-1].trailers.keys()
    assert timing is KNOWN_KEYS["Server-Timing"]
    events = p.feed(OK + b"Transfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 2\r\n\r\n")
    assert next(iter(events[-1].trailers.keys())) is other


def _in_thread(call: Any) -> BaseException | None:
    """Run ``call`` in a new thread; what it raised, or None."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # handed back to the test
            raised.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return raised[0] if raised else None


def test_a_parser_belongs_to_the_thread_that_first_fed_it(wire_impl: Wire) -> None:
    """docs/parser.md, "Threads": concurrent feeds would race on the parser's state on a
    free-threaded build, so any thread but the owner gets a RuntimeError, the same text
    on both twins, and the parser is left as it was."""
    p = wire_impl.ResponseParser("GET")
    assert p.feed(OK + b"Content-Length: 2\r\n\r\no")[0].status == 200
    for call in (lambda: p.feed(b"k"), p.feed_eof, lambda: setattr(p, "method", "HEAD")):
        raised = _in_thread(call)
        assert type(raised) is RuntimeError and str(raised) == ARG_OTHER_THREAD
    assert p.method == "GET" and p.error is None
    assert [bytes(e) if type(e) is memoryview else type(e) for e in p.feed(b"k")] == [b"k", wire_impl.MessageEnd]


def test_the_owner_is_the_first_thread_to_feed_not_the_creator(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser("GET")
    p.method = "HEAD"  # before any feed, any thread may set it
    events: list[Any] = []
    assert _in_thread(lambda: events.extend(p.feed(OK + b"Content-Length: 5\r\n\r\n"))) is None
    assert [type(e) for e in events] == [wire_impl.ResponseHead, wire_impl.MessageEnd]
    with pytest.raises(RuntimeError):
        p.feed(OK + CL0 + b"\r\n")
