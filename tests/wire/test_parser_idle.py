"""``ResponseParser.idle``: nothing fed since the last message ended.

A client may hand a connection to the next request only when the parser is
idle: bytes after a response (a partial head, garbage, even an empty line)
belong to no request and must never reach the next one.
"""

from __future__ import annotations

import pytest

from wirespeed.errors import HttpParserError
from wirespeed.wire import Wire

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
CLOSE = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
CHUNKED = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"

AFTER = {
    "nothing": (b"", True),
    "an-empty-line": (b"\r\n", False),
    "a-bare-lf": (b"\n", False),
    "one-byte-of-a-head": (b"H", False),
    "half-a-status-line": (b"HTTP/1.1 2", False),
    "garbage": (b"xyz", False),
    "a-whole-second-response": (OK, True),
}


def test_a_new_parser_is_idle(wire_impl: Wire) -> None:
    assert wire_impl.ResponseParser().idle


@pytest.mark.parametrize("tail", list(AFTER), ids=list(AFTER))
@pytest.mark.parametrize("first", [OK, CHUNKED], ids=["content-length", "chunked"])
def test_idle_after_a_message_only_when_nothing_followed(wire_impl: Wire, first: bytes, tail: str) -> None:
    data, expected = AFTER[tail]
    whole = wire_impl.ResponseParser()
    whole.feed(first + data)
    split = wire_impl.ResponseParser()
    for i in range(len(first + data)):
        split.feed((first + data)[i:i + 1])
    assert whole.idle is expected
    assert split.idle is expected


def test_not_idle_inside_a_message(wire_impl: Wire) -> None:
    for cut in range(1, len(CHUNKED)):
        p = wire_impl.ResponseParser()
        p.feed(CHUNKED[:cut])
        assert not p.idle, cut


def test_not_idle_once_done_or_broken(wire_impl: Wire) -> None:
    p = wire_impl.ResponseParser()
    p.feed(CLOSE)
    assert p.done and not p.idle
    p = wire_impl.ResponseParser(strict=True)
    p.feed(OK + b"\r\n")  # the message is delivered, the error held for the next call
    assert isinstance(p.error, HttpParserError) and not p.idle
    p = wire_impl.ResponseParser()
    p.feed(OK)
    assert p.feed_eof() == [] and not p.idle
