"""A head's fields after the parse, on both twins (docs/parser.md, "Events").

The C twin keeps a head's names and a copy of its value bytes and builds
``headers`` on first use; these tests hold that to the Python twin's eager map:
the map is the same however late it is read (the input overwritten, the parser
gone or on to the next message), read twice it is one object, and the two facts
read without it (``has_set_cookie``, ``content_encoding``) say what the map says.
"""

from __future__ import annotations

import gc

import pytest

from wirespeed.errors import BadContentLength, InvalidHeader
from wirespeed.wire import Wire

OK = b"HTTP/1.1 200 OK\r\n"
FIELDS = (
    b"Server: origin\r\n"
    b"Set-Cookie: a=1; Path=/\r\n"
    b"X-Learned-Name: learned\r\n"
    b"X-Fold: one\r\n  two\r\n\tthree\r\n"
    b"Content-Encoding: gzip\r\n"
    b"content-encoding: br\r\n"
    b"X-Empty:\r\n"
    b"X-Text: caf\xc3\xa9 \xff\r\n"
    b"set-cookie: b=2\r\n"
    b"Content-Length: 2\r\n"
)
EXPECTED = [
    ("Server", "origin"),
    ("Set-Cookie", "a=1; Path=/"),
    ("X-Learned-Name", "learned"),
    ("X-Fold", "one two three"),
    ("Content-Encoding", "gzip"),
    ("content-encoding", "br"),
    ("X-Empty", ""),
    ("X-Text", "caf\u00e9 \udcff"),
    ("set-cookie", "b=2"),
    ("Content-Length", "2"),
]


def _head(wire_impl: Wire, data: bytes | bytearray, **kw: object) -> object:
    events = wire_impl.ResponseParser("GET", **kw).feed(data)
    assert type(events[0]) is wire_impl.ResponseHead
    return events[0]


def test_the_map_read_late_is_the_map_of_the_bytes_parsed(wire_impl: Wire) -> None:
    data = bytearray(OK + FIELDS + b"\r\nhi")
    parser = wire_impl.ResponseParser("GET")
    events = parser.feed(data)
    head = events[0]
    del events
    data[:] = b"\x00" * len(data)        # the input buffer reused for something else
    parser.feed(OK + b"Other: x\r\nContent-Length: 0\r\n\r\n")   # the parser on to the next message
    del parser
    gc.collect()
    assert list(head.headers.items()) == EXPECTED
    assert head.headers is head.headers
    assert head.raw_headers[3] == (b"X-Fold", b"one two three")
    assert head.raw_headers[7] == (b"X-Text", b"caf\xc3\xa9 \xff")


def test_set_cookie_and_content_encoding_say_what_the_map_says(wire_impl: Wire) -> None:
    head = _head(wire_impl, OK + FIELDS + b"\r\nhi")
    assert head.has_set_cookie is True
    assert head.content_encoding == "gzip"   # the first field, as headers.get() gives
    assert head.content_encoding == head.headers.get("Content-Encoding")

    plain = _head(wire_impl, OK + b"Server: x\r\nContent-Length: 0\r\n\r\n")
    assert plain.has_set_cookie is False
    assert plain.content_encoding is None
    assert list(plain.headers.items()) == [("Server", "x"), ("Content-Length", "0")]


@pytest.mark.parametrize("name", [b"Set-Cookie", b"set-cookie", b"SET-COOKIE", b"sEt-CoOkIe"])
def test_set_cookie_is_found_in_any_spelling(wire_impl: Wire, name: bytes) -> None:
    head = _head(wire_impl, OK + name + b": k=v\r\nContent-Length: 0\r\n\r\n")
    assert head.has_set_cookie is True
    assert head.headers.getall("Set-Cookie") == ["k=v"]


@pytest.mark.parametrize(("fields", "coding"), [
    (b"Content-Encoding: \r\n", ""),                          # present and empty is not absent
    (b"CONTENT-ENCODING: deflate\r\n", "deflate"),
    (b"Content-Encoding: gzip,\r\n br\r\n", "gzip, br"),       # a folded value, unfolded
    (b"X-Content-Encoding: gzip\r\n", None),
    (b"Content-Encodings: gzip\r\n", None),
])
def test_content_encoding_is_the_first_fields_value(wire_impl: Wire, fields: bytes, coding: str | None) -> None:
    head = _head(wire_impl, OK + fields + b"Content-Length: 0\r\n\r\n")
    assert head.content_encoding == coding
    assert head.headers.get("Content-Encoding") == coding


def test_every_head_of_a_stream_keeps_its_own_fields(wire_impl: Wire) -> None:
    parser = wire_impl.ResponseParser("GET")
    stream = b"".join(OK + b"X-N: %d\r\nX-Learned-%d: v\r\nContent-Length: 1\r\n\r\n%d" % (i, i, i % 10)
                      for i in range(40))
    heads = []
    for i in range(0, len(stream), 7):   # split across feeds: heads carried between calls
        heads += [e for e in parser.feed(stream[i:i + 7]) if type(e) is wire_impl.ResponseHead]
    assert len(heads) == 40
    for i, head in enumerate(reversed(heads)):
        n = 39 - i
        assert list(head.headers.items()) == [("X-N", str(n)), (f"X-Learned-{n}", "v"), ("Content-Length", "1")]


def test_a_head_without_fields_has_an_empty_map(wire_impl: Wire) -> None:
    head = _head(wire_impl, b"HTTP/1.1 204 No Content\r\n\r\n")
    assert len(head.headers) == 0
    assert head.has_set_cookie is False
    assert head.content_encoding is None


def test_a_field_refused_after_others_leaves_no_head(wire_impl: Wire) -> None:
    parser = wire_impl.ResponseParser("GET")
    with pytest.raises(BadContentLength):
        parser.feed(OK + b"Server: a\r\nSet-Cookie: x=1\r\nX-A: b\r\nContent-Length: 1x\r\n\r\n")
    strict = wire_impl.ResponseParser("GET", strict=True)
    with pytest.raises(InvalidHeader):
        strict.feed(OK + b"Set-Cookie: x=1\r\nServer: a\r\nServer: b\r\nContent-Length: 0\r\n\r\n")
