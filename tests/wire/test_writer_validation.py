"""Header injection: every refused input raises before any byte reaches the transport.

The rule (RFC 9110 §5.5, §5.6.2; RFC 9112 §3.2): header names are tokens; the
start line, names and values hold no control byte but HTAB (0x00-0x08,
0x0A-0x1F, 0x7F) and no lone surrogate; methods are tokens; request targets
are visible ASCII.  Both twins raise the same class with the same message,
which names the byte and where it was.
"""

from __future__ import annotations

from typing import Any

import pytest

from wirespeed.errors import HeaderValidationError, WriterStateError
from wirespeed.testing import CountingTransport
from wirespeed.wire import Wire

CONTROLS = [*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F]


def refuse(wire_impl: Wire, call: str, *args: Any, message: str) -> None:
    """``call(*args)`` raises HeaderValidationError(message) and nothing is ever written."""
    t = CountingTransport()
    w = wire_impl.StreamWriter(t)
    with pytest.raises(HeaderValidationError) as info:
        getattr(w, call)(*args)
    assert str(info.value) == message
    assert type(info.value) is HeaderValidationError
    # The writer holds nothing: a later end of message still writes nothing.
    with pytest.raises(WriterStateError):
        w.write_eof()
    assert t.calls == 0


@pytest.mark.parametrize("byte", CONTROLS, ids=lambda b: f"0x{b:02x}")
@pytest.mark.parametrize("as_bytes", [False, True], ids=["str", "bytes"])
def test_control_byte_in_value_is_refused(wire_impl: Wire, byte: int, as_bytes: bool) -> None:
    value: Any = "a" + chr(byte) + "b"
    if as_bytes:
        value = value.encode("latin-1")
    refuse(
        wire_impl,
        "write_headers",
        "GET / HTTP/1.1",
        [("Host", "example.com"), ("X-Evil", value)],
        message=f"control byte 0x{byte:02x} at offset 1 in the value of header 'X-Evil'",
    )


@pytest.mark.parametrize("byte", [0x00, 0x08, 0x0A, 0x0D, 0x1F, 0x7F], ids=lambda b: f"0x{b:02x}")
@pytest.mark.parametrize("length", [8, 9, 16, 17, 40])
def test_control_byte_anywhere_in_a_long_value_is_refused(wire_impl: Wire, byte: int, length: int) -> None:
    # Values of 8 bytes and more are scanned a word at a time by the C twin: every offset, both ends.
    for offset in range(length):
        value = bytearray(b"\t \x80v" * length)[:length]
        value[offset] = byte
        refuse(
            wire_impl,
            "write_headers",
            "GET / HTTP/1.1",
            [("X-Long", bytes(value))],
            message=f"control byte 0x{byte:02x} at offset {offset} in the value of header 'X-Long'",
        )


def test_htab_space_and_obs_text_fill_a_long_value(wire_impl: Wire) -> None:
    t = CountingTransport()
    w = wire_impl.StreamWriter(t)
    value = bytes([0x09, 0x20, 0x7E, 0x80, 0xFF, 0x21]) * 7
    w.write_headers("GET / HTTP/1.1", [("X-A", value), ("X-B", value[:9])])
    w.write_eof()
    assert t.calls == 1


@pytest.mark.parametrize("byte", CONTROLS, ids=lambda b: f"0x{b:02x}")
def test_control_byte_in_start_line_is_refused(wire_impl: Wire, byte: int) -> None:
    line = "GET /" + chr(byte) + " HTTP/1.1"
    refuse(wire_impl, "write_headers", line, {}, message=f"control byte 0x{byte:02x} at offset 5 in the start line")


@pytest.mark.parametrize("byte", [*CONTROLS, 0x09, 0x20, *b'"(),/:;<=>?@[\\]{}', 0x80, 0xFF], ids=lambda b: f"0x{b:02x}")
def test_non_token_byte_in_name_is_refused(wire_impl: Wire, byte: int) -> None:
    refuse(
        wire_impl,
        "write_headers",
        "GET / HTTP/1.1",
        [("Host", "h"), (b"X-" + bytes([byte]), "v")],
        message=f"byte 0x{byte:02x} at offset 2 in header name #1 is not a token character",
    )


INJECTIONS = [
    pytest.param(
        ("GET / HTTP/1.1", {"X-A": "1\r\nInjected: yes"}),
        "control byte 0x0d at offset 1 in the value of header 'X-A'",
        id="crlf-in-value",
    ),
    pytest.param(
        ("GET / HTTP/1.1", {"X-A": "1\nInjected: yes"}),
        "control byte 0x0a at offset 1 in the value of header 'X-A'",
        id="bare-lf-in-value",
    ),
    pytest.param(
        ("GET / HTTP/1.1\r\nInjected: yes", {}),
        "control byte 0x0d at offset 14 in the start line",
        id="crlf-in-start-line",
    ),
    pytest.param(
        ("GET / HTTP/1.1", {"X-A\r\nInjected": "yes"}),
        "byte 0x0d at offset 3 in header name #0 is not a token character",
        id="crlf-in-name",
    ),
    pytest.param(
        ("GET / HTTP/1.1", {"Host: evil.example\r\nX": "y"}),
        "byte 0x3a at offset 4 in header name #0 is not a token character",
        id="colon-in-name",
    ),
    pytest.param(
        ("GET / HTTP/1.1", {"X A": "1"}),
        "byte 0x20 at offset 1 in header name #0 is not a token character",
        id="space-in-name",
    ),
    pytest.param(("GET / HTTP/1.1", {"": "1"}), "header name #0 is empty", id="empty-name"),
    pytest.param(
        ("GET / HTTP/1.1", {"X-\u00e9": "1"}),
        "byte 0xc3 at offset 2 in header name #0 is not a token character",
        id="non-ascii-name",
    ),
    pytest.param(
        ("GET /\ud800 HTTP/1.1", {}),
        "lone surrogate U+D800 at index 5 in the start line",
        id="surrogate-in-start-line",
    ),
    pytest.param(
        ("GET / HTTP/1.1", {"X-\udfff": "1"}),
        "lone surrogate U+DFFF at index 2 in header name #0",
        id="surrogate-in-name",
    ),
    pytest.param(
        ("GET / HTTP/1.1", [("A", "ok"), ("X-A", "caf\u00e9\udc80")]),
        "lone surrogate U+DC80 at index 4 in the value of header 'X-A'",
        id="surrogate-in-value",
    ),
    pytest.param(
        ("GET / HTTP/1.1", [("X-A", 1)]),
        "the value of header 'X-A' must be str or bytes, not int",
        id="int-value",
    ),
    pytest.param(
        ("GET / HTTP/1.1", [(None, "1")]),
        "header name #0 must be str or bytes, not NoneType",
        id="none-name",
    ),
    pytest.param(
        ("GET / HTTP/1.1", [("A", "1"), ("B",)]),
        "header #1 is not a (name, value) pair",
        id="not-a-pair",
    ),
    pytest.param(("", {}), "the start line is empty", id="empty-start-line"),
    pytest.param((42, {}), "the start line must be str or bytes, not int", id="int-start-line"),
]


@pytest.mark.parametrize(("args", "message"), INJECTIONS)
def test_header_injection_is_refused(wire_impl: Wire, args: tuple[Any, ...], message: str) -> None:
    refuse(wire_impl, "write_headers", *args, message=message)


def test_a_later_valid_header_does_not_hide_an_earlier_bad_one(wire_impl: Wire) -> None:
    # Names are cached once proven tokens; a value is checked every time.
    ok = wire_impl.StreamWriter(CountingTransport())
    ok.write_headers("GET / HTTP/1.1", {"X-Cached": "fine"})
    refuse(
        wire_impl,
        "write_headers",
        "GET / HTTP/1.1",
        {"X-Cached": "bad\x00"},
        message="control byte 0x00 at offset 3 in the value of header 'X-Cached'",
    )


REQUEST_LINES = [
    pytest.param(("G T", "/"), "byte 0x20 at offset 1 in the method is not a token character", id="space-in-method"),
    pytest.param(("GET\r\n", "/"), "byte 0x0d at offset 3 in the method is not a token character", id="crlf-in-method"),
    pytest.param(("", "/"), "the method is empty", id="empty-method"),
    pytest.param(("GE\u00c9", "/"), "byte 0xc3 at offset 2 in the method is not a token character", id="non-ascii-method"),
    pytest.param(("GET", "/a b"), "byte 0x20 at offset 2 in the request target is not visible ASCII", id="space-in-target"),
    pytest.param(("GET", "/a\tb"), "byte 0x09 at offset 2 in the request target is not visible ASCII", id="tab-in-target"),
    pytest.param(
        ("GET", "/\r\nHost: x"), "byte 0x0d at offset 1 in the request target is not visible ASCII", id="crlf-in-target"
    ),
    pytest.param(("GET", b"/\x7f"), "byte 0x7f at offset 1 in the request target is not visible ASCII", id="del-in-target"),
    pytest.param(("GET", "/\u00e9"), "byte 0xc3 at offset 1 in the request target is not visible ASCII", id="non-ascii-target"),
    pytest.param(("GET", ""), "the request target is empty", id="empty-target"),
    pytest.param(("GET", "/\ud800"), "lone surrogate U+D800 at index 1 in the request target", id="surrogate-target"),
    pytest.param(("GET", "/", {}, (1, 10)), "the HTTP version must be (1, 0) or (1, 1), not (1, 10)", id="bad-version"),
    pytest.param(("GET", "/", {}, (2, 0)), "the HTTP version must be (1, 0) or (1, 1), not (2, 0)", id="http-2"),
    pytest.param(("GET", "/", {}, (0, 9)), "the HTTP version must be (1, 0) or (1, 1), not (0, 9)", id="http-0.9"),
    pytest.param(("GET", "/", {}, (True, 1)), "the HTTP version must be (1, 0) or (1, 1), not (True, 1)", id="bool-version"),
    pytest.param(("GET", "/", {}, (1.0, 1)), "the HTTP version must be (1, 0) or (1, 1), not (1.0, 1)", id="float-version"),
    pytest.param(("GET", "/", {}, "1.1"), "the HTTP version must be (1, 0) or (1, 1), not '1.1'", id="str-version"),
    pytest.param(
        ("GET", "/a#frag"), "byte 0x23 at offset 2 in the request target starts a fragment, which is never sent",
        id="fragment-in-target",
    ),
    pytest.param(("GET", "#"), "byte 0x23 at offset 0 in the request target starts a fragment, which is never sent",
                 id="fragment-only-target"),
]


@pytest.mark.parametrize(("args", "message"), REQUEST_LINES)
def test_bad_method_or_target_is_refused(wire_impl: Wire, args: tuple[Any, ...], message: str) -> None:
    refuse(wire_impl, "write_request_headers", *args, message=message)


STATUS_LINES = [
    pytest.param((99, "Low"), "the status code must be an int in 100-999, not 99", id="status-low"),
    pytest.param(("200", "OK"), "the status code must be an int in 100-999, not '200'", id="status-str"),
    pytest.param((1000, "Big"), "the status code must be an int in 100-999, not 1000", id="status-high"),
    pytest.param((True, "OK"), "the status code must be an int in 100-999, not True", id="status-bool"),
    pytest.param((200.0, "OK"), "the status code must be an int in 100-999, not 200.0", id="status-float"),
    pytest.param((None, "OK"), "the status code must be an int in 100-999, not None", id="status-none"),
    pytest.param((200, "OK", {}, (2, 0)), "the HTTP version must be (1, 0) or (1, 1), not (2, 0)", id="response-http-2"),
    pytest.param((200, "OK\r\nX: y"), "control byte 0x0d at offset 15 in the start line", id="crlf-in-reason"),
    pytest.param((200, "O\ud800"), "lone surrogate U+D800 at index 1 in the reason phrase", id="surrogate-in-reason"),
]


@pytest.mark.parametrize(("args", "message"), STATUS_LINES)
def test_bad_status_line_is_refused(wire_impl: Wire, args: tuple[Any, ...], message: str) -> None:
    refuse(wire_impl, "write_response_headers", *args, message=message)


def test_htab_and_obs_text_are_allowed(wire_impl: Wire) -> None:
    t = CountingTransport()
    w = wire_impl.StreamWriter(t)
    w.write_response_headers(200, "O\tK", [(b"X-A", b"\tv\x80\xff ")])
    w.write_eof()
    assert t.calls == 1


def test_bad_trailer_is_refused_before_anything_is_written(wire_impl: Wire) -> None:
    t = CountingTransport()
    w = wire_impl.StreamWriter(t)
    w.write_headers("POST / HTTP/1.1", {"Transfer-Encoding": "chunked"})
    w.enable_chunking()
    with pytest.raises(HeaderValidationError) as info:
        w.write_eof(b"data", trailers={"X-T": "1\r\n\r\nGET /smuggled HTTP/1.1"})
    assert str(info.value) == "control byte 0x0d at offset 1 in the value of trailer 'X-T'"
    assert t.calls == 0
