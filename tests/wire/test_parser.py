"""The response parser contract (docs/parser.md), as a table, on both twins.

Every case runs on the ``c`` and ``python`` twins through ``wire_impl``, and is fed
whole, byte by byte and in seeded random splits, as ``bytes``, ``bytearray`` and
``memoryview`` pieces; every feeding must give the expected messages (body pieces of
a message joined) and the same error class, offset and byte, and the same text: ``str(exc)``
on either twin and in every feeding equals the Python twin's for the whole input (the
messages live in one module both twins use), a few cases pin that text exactly, and every
template of that module is checked against literal text written here (LITERAL_MESSAGES).

Where docs/parser.md was silent or open, the section "Precise rules both twins follow"
was added to it (when an error is detected and which one wins, exact offsets, obs-fold
joining, folded framing fields, ``chunked`` for bodiless messages, trailers, feed_eof);
the cases below encode those rules.
"""

from __future__ import annotations

import array
import re
from dataclasses import dataclass
from typing import Any

import pytest

from support.parsing import SPLITS, error_facts, run, splits
from wirespeed import wire
from wirespeed.errors import (
    BadChunk,
    BadContentLength,
    BadStatusLine,
    BadTransferEncoding,
    IncompleteMessage,
    InvalidHeader,
    InvalidLineEnding,
    LineTooLong,
    TooManyHeaders,
)
from wirespeed.wire import Wire
from wirespeed.wire import _messages as _parser_messages

# -- the table ----------------------------------------------------------------------


@dataclass
class Case:
    id: str
    data: bytes
    messages: list[dict[str, Any]]
    error: tuple[Any, ...] | None
    method: str
    strict: bool
    eof: bool
    unconsumed: bytes | None
    limits: dict[str, int] | None
    text: str | None


CASES: list[Case] = []


def M(status: int = 200, body: bytes = b"", **fields: Any) -> dict[str, Any]:
    """An expected message: only the fields given (plus status, body, complete) are compared."""
    return {"status": status, "body": body, "complete": True, **fields}


def case(id: str, data: bytes, *messages: dict[str, Any], err: tuple[Any, ...] | None = None,
         method: str = "GET", mode: str = "any", eof: bool = False, unconsumed: bytes | None = None,
         limits: dict[str, int] | None = None, text: str | None = None) -> None:
    """Add a case; ``err`` is (class, where[, received, expected]), where = offset,
    (marker, delta) for ``data.index(marker) + delta``, or "end" for the end of the input;
    ``text`` is the exact ``str()`` of that error."""
    error = None
    if err is not None:
        cls, where, *extra = err
        if where == "end":
            offset, byte = len(data), None
        else:
            offset = where if isinstance(where, int) else data.index(where[0]) + where[1]
            byte = data[offset]
        error = (cls, offset, byte, *extra)
    for strict in {"any": (False, True), "lenient": (False,), "strict": (True,)}[mode]:
        suffix = "" if mode != "any" else ("-strict" if strict else "-lenient")
        CASES.append(Case(id + suffix, data, list(messages), error, method, strict, eof, unconsumed, limits, text))


OK = b"HTTP/1.1 200 OK\r\n"
CL0 = b"Content-Length: 0\r\n"
TE = b"Transfer-Encoding: chunked\r\n"

# Status line (RFC 9112 §4)
case("status-basic", OK + CL0 + b"\r\n", M(version=(1, 1), reason="OK", keep_alive=True, headers=[("Content-Length", "0")]))
case("status-http10", b"HTTP/1.0 200 OK\r\n" + CL0 + b"\r\n", M(version=(1, 0), keep_alive=False))
case("status-empty-reason", b"HTTP/1.1 200 \r\n" + CL0 + b"\r\n", M(reason=""))
case("status-no-reason", b"HTTP/1.1 200\r\n" + CL0 + b"\r\n", M(reason=""))
case("status-reason-spaces-kept", b"HTTP/1.1 404 Not  Found \r\n" + CL0 + b"\r\n", M(404, reason="Not  Found "))
case("status-reason-htab", b"HTTP/1.1 200 O\tK\r\n" + CL0 + b"\r\n", M(reason="O\tK"))
case("status-reason-utf8", b"HTTP/1.1 200 \xc3\x9cberall\r\n" + CL0 + b"\r\n", M(reason="\u00dcberall"))
case("status-reason-obs-text", b"HTTP/1.1 200 \xff\r\n" + CL0 + b"\r\n", M(reason="\udcff"))
case("status-reason-control-lenient", b"HTTP/1.1 200 O\x01K\r\n" + CL0 + b"\r\n", M(reason="O\x01K"), mode="lenient")
case("status-reason-control-strict", b"HTTP/1.1 200 O\x01K\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 14), mode="strict")
case("status-reason-del-strict", b"HTTP/1.1 200 O\x7fK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 14), mode="strict")
case("status-reason-nul", b"HTTP/1.1 200 O\x00K\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 14))
case("status-reason-bare-cr", b"HTTP/1.1 200 O\rK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 14))
case("status-two-digits", b"HTTP/1.1 20 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 11))
case("status-four-digits", b"HTTP/1.1 2000 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 12))
case("status-letters", b"HTTP/1.1 2x0 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 10))
case("status-below-100", b"HTTP/1.1 099 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 9))
case("status-two-spaces", b"HTTP/1.1  200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 9))
case("status-htab-separator", b"HTTP/1.1\t200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 8))
case("status-no-status", b"HTTP/1.1\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 8))
case("status-status-then-cr", b"HTTP/1.1 20\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 11))
case("status-999", b"HTTP/1.1 999 Odd\r\n" + CL0 + b"\r\n", M(999))
case("version-2", b"HTTP/2.0 200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 5))
case("version-0.9", b"HTTP/0.9 200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 5))
case("version-minor-2-lenient", b"HTTP/1.2 200 OK\r\n" + CL0 + b"\r\n", M(version=(1, 2), keep_alive=True), mode="lenient")
case("version-minor-2-strict", b"HTTP/1.2 200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 7), mode="strict")
case("version-letter", b"HTTP/1.x 200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 7))
case("version-comma", b"HTTP/1,1 200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 6))
case("version-lowercase", b"http/1.1 200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 0))
case("not-http", b"ICY 200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 0))
case("status-bare-lf-lenient", b"HTTP/1.1 200 OK\n" + CL0 + b"\r\n", M(), mode="lenient")
case("status-bare-lf-strict", b"HTTP/1.1 200 OK\n" + CL0 + b"\r\n", err=(InvalidLineEnding, 15), mode="strict")
case("leading-empty-lines-lenient", b"\r\n\n\r\n" + OK + CL0 + b"\r\n", M(), mode="lenient")
case("leading-empty-line-strict", b"\r\n" + OK + CL0 + b"\r\n", err=(BadStatusLine, 0), mode="strict")
case("leading-bare-lf-strict", b"\n" + OK + CL0 + b"\r\n", err=(BadStatusLine, 0), mode="strict")
case("leading-bare-cr", b"\rHTTP/1.1 200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 0))
case("first-field-line-whitespace", OK + b" X: a\r\n" + CL0 + b"\r\n", err=(InvalidHeader, 17))
case("eof-after-leading-empty-lines", b"\r\n\r\n", eof=True, mode="lenient", unconsumed=b"")
case("eof-before-anything", b"", eof=True, unconsumed=b"")
case("eof-in-status-line", b"HTTP/1.1 2", eof=True, err=(IncompleteMessage, "end", 0, None))
case("eof-in-head", OK + b"Content-Length: 5\r\n", eof=True, err=(IncompleteMessage, "end", 0, None))
case("eof-in-head-after-bad-cl", OK + b"Content-Length: x\r\n", eof=True, err=(IncompleteMessage, "end", 0, None))

# Header and trailer fields (RFC 9110 §5, RFC 9112 §5)
case("ows-trimmed", OK + b"X-A:   spaced value \t\r\n" + CL0 + b"\r\n",
     M(headers=[("X-A", "spaced value"), ("Content-Length", "0")],
       raw_headers=((b"X-A", b"spaced value"), (b"Content-Length", b"0"))))
case("empty-value", OK + b"X-Empty:\r\nX-Blank:  \r\n" + CL0 + b"\r\n",
     M(headers=[("X-Empty", ""), ("X-Blank", ""), ("Content-Length", "0")]))
case("no-space-after-colon", OK + b"X-A:b\r\n" + CL0 + b"\r\n", M(headers=[("X-A", "b"), ("Content-Length", "0")]))
case("colon-in-value", OK + b"X-A: a:b: c\r\n" + CL0 + b"\r\n", M(headers=[("X-A", "a:b: c"), ("Content-Length", "0")]))
case("names-as-on-the-wire", OK + b"content-TYPE: x\r\nX-y: 1\r\n" + CL0 + b"\r\n",
     M(headers=[("content-TYPE", "x"), ("X-y", "1"), ("Content-Length", "0")]))
case("value-utf8-and-obs-text", OK + b"X-A: \xc3\xa9\xff\r\n" + CL0 + b"\r\n",
     M(headers=[("X-A", "\u00e9\udcff"), ("Content-Length", "0")], raw_headers=((b"X-A", b"\xc3\xa9\xff"), (b"Content-Length", b"0"))))
case("value-htab-inside", OK + b"X-A: a\tb\r\n" + CL0 + b"\r\n", M(headers=[("X-A", "a\tb"), ("Content-Length", "0")]))
case("obs-fold-lenient", OK + b"X-Long: part1\r\n  part2\r\n\tpart3 \r\n" + CL0 + b"\r\n",
     M(headers=[("X-Long", "part1 part2 part3"), ("Content-Length", "0")],
       raw_headers=((b"X-Long", b"part1 part2 part3"), (b"Content-Length", b"0"))), mode="lenient")
case("obs-fold-empty-first-value", OK + b"X-A:\r\n b\r\n" + CL0 + b"\r\n",
     M(headers=[("X-A", "b"), ("Content-Length", "0")]), mode="lenient")
case("obs-fold-blank-continuation", OK + b"X-A: a\r\n   \r\n" + CL0 + b"\r\n",
     M(headers=[("X-A", "a"), ("Content-Length", "0")]), mode="lenient")
case("obs-fold-bare-lf-lenient", OK + b"X-A: a\n b\n" + CL0 + b"\n", M(headers=[("X-A", "a b"), ("Content-Length", "0")]), mode="lenient")
case("obs-fold-strict", OK + b"X-Long: part1\r\n  part2\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"  part2", 0)), mode="strict")
case("obs-fold-nul", OK + b"X-A: a\r\n b\x00\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"\x00", 0)), mode="lenient")
case("obs-fold-content-length", OK + b"Content-Length: 1\r\n 2\r\n\r\nab", err=(BadContentLength, (b"\r\n 2", 2)), mode="lenient")
case("obs-fold-transfer-encoding", OK + b"Transfer-Encoding:\r\n chunked\r\n\r\n",
     err=(BadTransferEncoding, (b" chunked", 0)), mode="lenient")
case("bare-lf-lenient", b"HTTP/1.1 200 OK\nContent-Length: 2\n\nok", M(body=b"ok"), mode="lenient")
case("bare-lf-mixed-lenient", OK + b"Content-Length: 2\n\r\nok", M(body=b"ok"), mode="lenient")
case("bare-lf-field-strict", OK + b"Content-Length: 2\n\r\nok", err=(InvalidLineEnding, (b"2\n", 1)), mode="strict")
case("bare-lf-end-strict", OK + b"Content-Length: 2\r\n\nok", err=(InvalidLineEnding, (b"\n\nok", 1)), mode="strict")
case("bare-cr-in-value", OK + b"X-A: a\rb\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"\rb", 0)))
case("bare-cr-line-start", OK + b"\rX-A: a\r\n" + CL0 + b"\r\n", err=(InvalidHeader, 17))
case("bare-cr-before-end", OK + CL0 + b"\r\r\n", err=(InvalidHeader, (b"\r\r\n", 0)))
case("cr-cr-lf-line-end", OK + b"X-A: a\r\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"\r\r\n", 0)))
case("nul-in-value", OK + b"X-A: a\x00b\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"\x00", 0)))
case("nul-in-name", OK + b"X\x00A: b\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"\x00", 0)))
case("control-in-value-lenient", OK + b"X-A: a\x01b\x7f\r\n" + CL0 + b"\r\n",
     M(headers=[("X-A", "a\x01b\x7f"), ("Content-Length", "0")]), mode="lenient")
case("control-in-value-strict", OK + b"X-A: a\x01b\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"\x01", 0)), mode="strict")
case("del-in-value-strict", OK + b"X-A: ab\x7f\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"\x7f", 0)), mode="strict")
case("space-in-name", OK + b"X A: b\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b" A:", 0)))
case("space-before-colon", OK + b"Content-Length : 0\r\n\r\n", err=(InvalidHeader, (b" :", 0)))
case("tab-before-colon", OK + b"X-A\t: 0\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"\t:", 0)))
case("quote-in-name", OK + b"X\"A: b\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"\"A", 0)))
case("obs-text-in-name", OK + b"X\xc3\xa9: b\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"\xc3", 0)))
case("empty-name", OK + b": b\r\n" + CL0 + b"\r\n", err=(InvalidHeader, 17))
case("no-colon", OK + b"X-A\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"\r\nContent", 0)))
case("no-colon-bare-lf", OK + b"X-A\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"\nContent", 0)), mode="lenient")
case("repeated-server-lenient", OK + b"Server: a\r\nServer: b\r\n" + CL0 + b"\r\n",
     M(headers=[("Server", "a"), ("Server", "b"), ("Content-Length", "0")]), mode="lenient")
case("repeated-server-strict", OK + b"Server: a\r\nserver: b\r\n" + CL0 + b"\r\n", err=(InvalidHeader, (b"server", 0)), mode="strict")
case("repeated-content-type-strict", OK + b"Content-Type: a\r\nX: 1\r\nContent-Type: b\r\n" + CL0 + b"\r\n",
     err=(InvalidHeader, (b"Content-Type: b", 0)), mode="strict")
case("repeated-set-cookie-strict", OK + b"Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n" + CL0 + b"\r\n",
     M(headers=[("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), ("Content-Length", "0")]), mode="strict")
case("syntax-before-semantics", OK + b"Content-Length: x\r\nX A: 1\r\n\r\n", err=(InvalidHeader, (b" A:", 0)))
case("first-bad-field-wins", OK + b"Content-Length: 1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
     err=(BadContentLength, (b"2\r\nTransfer", 0)))

# Framing: Content-Length (RFC 9110 §8.6, RFC 9112 §6.3)
case("cl-basic", OK + b"Content-Length: 5\r\n\r\nhello", M(body=b"hello", content_length=5, chunked=False, keep_alive=True))
case("cl-zero", OK + CL0 + b"\r\n", M(content_length=0))
case("cl-leading-zeros", OK + b"Content-Length: 003\r\n\r\nabc", M(body=b"abc", content_length=3))
# Repeated values, as repeated fields or as a list in one (RFC 9110 §5.3: the same thing),
# get the same answer: equal ones are one length in lenient mode, an error in strict mode
case("cl-repeated-same-lenient", OK + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", M(body=b"abc", content_length=3),
     mode="lenient")
case("cl-repeated-same-strict", OK + b"Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", err=(BadContentLength, (b"3\r\n\r\n", 0)),
     mode="strict")
case("cl-repeated-numerically-equal-lenient", OK + b"Content-Length: 03\r\nContent-Length: 3\r\n\r\nabc",
     M(body=b"abc", content_length=3), mode="lenient")
case("cl-list-same-lenient", OK + b"Content-Length: 3, 3\r\n\r\nabc", M(body=b"abc", content_length=3), mode="lenient")
case("cl-list-same-strict", OK + b"Content-Length: 3, 3\r\n\r\nabc", err=(BadContentLength, (b"3\r\n\r\n", 0)), mode="strict")
case("cl-list-numerically-equal-ows-lenient", OK + b"Content-Length: 03 ,\t3,3\r\n\r\nabc", M(body=b"abc", content_length=3),
     mode="lenient")
case("cl-list-and-field-lenient", OK + b"Content-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc", M(body=b"abc", content_length=3),
     mode="lenient")
case("cl-list-conflict", OK + b"Content-Length: 3, 4\r\n\r\nabc", err=(BadContentLength, (b"4\r\n", 0)))
case("cl-list-conflict-across-fields", OK + b"Content-Length: 4\r\nContent-Length: 4, 5\r\n\r\nabcd",
     err=(BadContentLength, (b"5\r\n", 0)), mode="lenient")
case("cl-list-value-before-conflict", OK + b"Content-Length: 4, 5, x\r\n\r\nabcd", err=(BadContentLength, (b"x\r\n", 0)))
case("cl-list-empty-element", OK + b"Content-Length: 3,,3\r\n\r\nabc", err=(BadContentLength, (b",3\r", 0)))
case("cl-list-trailing-comma", OK + b"Content-Length: 3, \r\n\r\nabc", err=(BadContentLength, (b", \r", 0)))
case("cl-list-leading-comma", OK + b"Content-Length: ,3\r\n\r\nabc", err=(BadContentLength, (b",3", 0)))
case("cl-list-overflow", OK + b"Content-Length: 3, 9223372036854775808\r\n\r\nabc", err=(BadContentLength, (b"808\r\n", 2)))
case("cl-ows", OK + b"Content-Length: \t 3 \r\n\r\nabc", M(body=b"abc", content_length=3))
case("cl-conflict", OK + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", err=(BadContentLength, (b"4\r\n", 0)))
case("cl-plus", OK + b"Content-Length: +3\r\n\r\nabc", err=(BadContentLength, (b"+", 0)))
case("cl-minus", OK + b"Content-Length: -1\r\n\r\n", err=(BadContentLength, (b"-1", 0)))
case("cl-hex", OK + b"Content-Length: 0x10\r\n\r\n", err=(BadContentLength, (b"x10", 0)))
case("cl-space-inside", OK + b"Content-Length: 3 4\r\n\r\n", err=(BadContentLength, (b"4\r\n", 0)))  # OWS may precede a comma
case("cl-empty", OK + b"Content-Length:\r\n\r\n", err=(BadContentLength, (b"\r\n\r\n", 0)))
case("cl-empty-ows", OK + b"Content-Length:  \r\n\r\n", err=(BadContentLength, (b"\r\n\r\n", 0)))
case("cl-max", OK + b"Content-Length: 9223372036854775807\r\n\r\nab",
     M(body=b"ab", content_length=2**63 - 1, complete=False))
case("cl-overflow-by-one", OK + b"Content-Length: 9223372036854775808\r\n\r\n", err=(BadContentLength, (b"808\r\n", 2)))
case("cl-huge", OK + b"Content-Length: 99999999999999999999999999\r\n\r\n", err=(BadContentLength, (b"9999", 18)))
case("cl-huge-leading-zeros-ok", OK + b"Content-Length: 0000000000000000000000001\r\n\r\nx", M(body=b"x", content_length=1))
case("cl-truncated", OK + b"Content-Length: 10\r\n\r\nabc", M(body=b"abc", complete=False), eof=True,
     err=(IncompleteMessage, "end", 3, 10))
case("cl-body-split-no-eof", OK + b"Content-Length: 10\r\n\r\nabc", M(body=b"abc", complete=False))

# Framing: Transfer-Encoding (RFC 9112 §6.1, §6.3)
case("te-and-cl", OK + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
     err=(BadTransferEncoding, (b"Transfer", 0)))
case("cl-after-te", OK + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
     err=(BadTransferEncoding, (b"Content-Length", 0)))
case("te-chunked", OK + TE + b"\r\n5\r\nhello\r\n0\r\n\r\n", M(body=b"hello", chunked=True, content_length=None, keep_alive=True))
case("te-case-insensitive", OK + b"Transfer-Encoding: Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", M(body=b"x", chunked=True))
case("te-list-chunked-last", OK + b"Transfer-Encoding: gzip, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", M(body=b"x", chunked=True))
case("te-two-fields-chunked-last", OK + b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n",
     M(body=b"x", chunked=True))
case("te-empty-elements", OK + b"Transfer-Encoding: ,gzip,, chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", M(body=b"x", chunked=True))
case("te-parameters", OK + b"Transfer-Encoding: gzip;q=1 , chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n", M(body=b"x", chunked=True))
case("te-chunked-not-last", OK + b"Transfer-Encoding: chunked, gzip\r\n\r\nrawbytes", M(body=b"rawbytes", chunked=False, keep_alive=False),
     eof=True, unconsumed=b"")
case("te-identity-until-close", OK + b"Transfer-Encoding: identity\r\n\r\nraw", M(body=b"raw", chunked=False, keep_alive=False), eof=True)
case("te-chunked-twice", OK + b"Transfer-Encoding: chunked, chunked\r\n\r\n", err=(BadTransferEncoding, (b"chunked\r\n\r\n", 0)))
case("te-chunked-twice-fields", OK + TE + b"Transfer-Encoding: gzip, CHUNKED\r\n\r\n", err=(BadTransferEncoding, (b"CHUNKED", 0)))
case("te-empty", OK + b"Transfer-Encoding:\r\n\r\n", err=(BadTransferEncoding, (b"\r\n\r\n", 0)))
case("te-no-element", OK + b"Transfer-Encoding: , ,\r\n\r\n", err=(BadTransferEncoding, (b", ,", 0)))
case("te-not-token", OK + b"Transfer-Encoding: chu nked\r\n\r\n", err=(BadTransferEncoding, (b"nked", 0)))
case("te-quoted", OK + b"Transfer-Encoding: \"chunked\"\r\n\r\n", err=(BadTransferEncoding, (b"\"chunked", 0)))
case("te-http10-chunked", b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n" + TE + b"\r\n1\r\nx\r\n0\r\n\r\n",
     M(body=b"x", chunked=True, keep_alive=False), unconsumed=b"")
case("te-and-cl-on-head", OK + b"Content-Length: 3\r\n" + TE + b"\r\n", method="HEAD", err=(BadTransferEncoding, (b"Transfer", 0)))

# Chunked bodies (RFC 9112 §7.1)
case("chunked-two-chunks", OK + TE + b"\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", M(body=b"hello world", trailers=[]))
case("chunked-upper-hex", OK + TE + b"\r\nA\r\n0123456789\r\n0\r\n\r\n", M(body=b"0123456789"))
case("chunked-lower-hex-leading-zeros", OK + TE + b"\r\n000a\r\n0123456789\r\n000\r\n\r\n", M(body=b"0123456789"))
case("chunked-empty", OK + TE + b"\r\n0\r\n\r\n", M(body=b""))
case("chunked-ext", OK + TE + b"\r\n3;name=value\r\nabc\r\n0\r\n\r\n", M(body=b"abc"))
case("chunked-ext-name-only", OK + TE + b"\r\n3;name\r\nabc\r\n0;last\r\n\r\n", M(body=b"abc"))
case("chunked-ext-bws", OK + TE + b"\r\n3; a = b ;c\t;d=\"x\"\r\nabc\r\n0\r\n\r\n", M(body=b"abc"))
case("chunked-ext-quoted", OK + TE + b"\r\n3;a=\"b c;d=e\"\r\nabc\r\n0\r\n\r\n", M(body=b"abc"))
case("chunked-ext-quoted-pair", OK + TE + b"\r\n3;a=\"x\\\"y\\\\\"\r\nabc\r\n0\r\n\r\n", M(body=b"abc"))
case("chunked-ext-empty-name", OK + TE + b"\r\n2;\r\nab\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b";\r\nab", 1)))
case("chunked-ext-empty-value", OK + TE + b"\r\n2;a=\r\nab\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"=\r\nab", 1)))
case("chunked-ext-unbalanced-quote", OK + TE + b"\r\n2;a=\"x\r\nab\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"x\r\nab", 1)))
case("chunked-ext-lf", OK + TE + b"\r\n3;a=\nb\r\nabc\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"\nb\r\n", 0)))
case("chunked-ext-lf-in-quotes", OK + TE + b"\r\n3;a=\"x\ny\"\r\nabc\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"\ny\"", 0)))
case("chunked-ext-trailing-space", OK + TE + b"\r\n2;a=b \r\nab\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b" \r\nab", 1)))
case("chunked-ext-bad-token", OK + TE + b"\r\n2;a b\r\nab\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"b\r\nab", 0)))
case("chunked-ext-nul-in-quotes", OK + TE + b"\r\n2;a=\"\x00\"\r\nab\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"\x00", 0)))
case("chunked-size-space-after", OK + TE + b"\r\n2 \r\nab\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b" \r\nab", 0)))
case("chunked-size-tab-then-ext", OK + TE + b"\r\n2\t;a\r\nab\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"\t;a", 0)))
case("chunked-size-space-before", OK + TE + b"\r\n 2\r\nab\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b" 2\r\n", 0)))
case("chunked-size-sign", OK + TE + b"\r\n+3\r\nabc\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"+3", 0)))
case("chunked-size-minus", OK + TE + b"\r\n-3\r\nabc\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"-3", 0)))
case("chunked-size-0x", OK + TE + b"\r\n0x3\r\nabc\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"x3", 0)))
case("chunked-size-empty", OK + TE + b"\r\n\r\nabc\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"\r\nabc", 0)))
case("chunked-size-overflow", OK + TE + b"\r\nFFFFFFFFFFFFFFFFFFFF\r\nabc\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"FFFF", 15)))
case("chunked-size-2-63", OK + TE + b"\r\n8000000000000000\r\nabc\r\n", M(complete=False), err=(BadChunk, (b"8000", 15)))
case("chunked-size-max", OK + TE + b"\r\n7fffffffffffffff\r\nabc", M(body=b"abc", complete=False))
case("chunked-size-bare-lf", OK + TE + b"\r\n3\nabc\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"\nabc", 0)))
case("chunked-size-nul-before-bare-lf", OK + TE + b"\r\n3;a\x00\nabc\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"\x00", 0)))
case("chunked-size-bare-cr", OK + TE + b"\r\n3\rx\r\nabc\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"\rx", 0)))
case("chunked-missing-crlf-after-data", OK + TE + b"\r\n3\r\nabcX\r\n0\r\n\r\n", M(body=b"abc", complete=False),
     err=(BadChunk, (b"X\r\n", 0)))
case("chunked-cr-then-junk-after-data", OK + TE + b"\r\n3\r\nabc\rX\n0\r\n\r\n", M(body=b"abc", complete=False),
     err=(BadChunk, (b"X\n0", 0)))
case("chunked-lf-only-after-data", OK + TE + b"\r\n3\r\nabc\n0\r\n\r\n", M(body=b"abc", complete=False),
     err=(BadChunk, (b"\n0\r\n", 0)))
case("chunked-trailers", OK + TE + b"\r\n3\r\nabc\r\n0\r\nX-Checksum: 42\r\nX-B:  two \r\n\r\n",
     M(body=b"abc", trailers=[("X-Checksum", "42"), ("X-B", "two")], raw_trailers=((b"X-Checksum", b"42"), (b"X-B", b"two"))))
case("chunked-trailer-cl-is-just-a-field", OK + TE + b"\r\n3\r\nabc\r\n0\r\nContent-Length: 9\r\n\r\n",
     M(body=b"abc", trailers=[("Content-Length", "9")]))
case("chunked-trailer-fold-lenient", OK + TE + b"\r\n0\r\nX-T: a\r\n b\r\n\r\n", M(trailers=[("X-T", "a b")]), mode="lenient")
case("chunked-trailer-fold-strict", OK + TE + b"\r\n0\r\nX-T: a\r\n b\r\n\r\n", M(complete=False), err=(InvalidHeader, (b" b\r\n", 0)), mode="strict")
case("chunked-trailer-first-line-whitespace", OK + TE + b"\r\n0\r\n X: a\r\n\r\n", M(complete=False), err=(InvalidHeader, (b" X:", 0)))
case("chunked-trailer-bad-name", OK + TE + b"\r\n0\r\nX T: a\r\n\r\n", M(complete=False), err=(InvalidHeader, (b" T:", 0)))
case("chunked-trailer-bare-lf-lenient", OK + TE + b"\r\n1\r\nx\r\n0\r\nX-T: 1\n\n", M(body=b"x", trailers=[("X-T", "1")]), mode="lenient")
case("chunked-trailer-bare-lf-strict", OK + TE + b"\r\n1\r\nx\r\n0\r\nX-T: 1\n\r\n", M(body=b"x", complete=False),
     err=(InvalidLineEnding, (b"1\n\r\n", 1)), mode="strict")
case("chunked-end-bare-lf-strict", OK + TE + b"\r\n1\r\nx\r\n0\r\n\n", M(body=b"x", complete=False),
     err=(InvalidLineEnding, len(OK + TE + b"\r\n1\r\nx\r\n0\r\n")), mode="strict")
case("chunked-trailer-repeated-date-strict", OK + TE + b"\r\n0\r\nDate: a\r\nDate: b\r\n\r\n", M(complete=False),
     err=(InvalidHeader, (b"Date: b", 0)), mode="strict")
case("chunked-trailer-repeated-date-lenient", OK + TE + b"\r\n0\r\nDate: a\r\nDate: b\r\n\r\n",
     M(trailers=[("Date", "a"), ("Date", "b")]), mode="lenient")
case("chunked-truncated-in-data", OK + TE + b"\r\n5\r\nhel", M(body=b"hel", complete=False), eof=True,
     err=(IncompleteMessage, "end", 3, None))
case("chunked-truncated-in-size", OK + TE + b"\r\n5\r\nhello\r\n0", M(body=b"hello", complete=False), eof=True,
     err=(IncompleteMessage, "end", 5, None))
case("chunked-truncated-in-trailers", OK + TE + b"\r\n0\r\nX: 1\r\n", M(complete=False), eof=True,
     err=(IncompleteMessage, "end", 0, None))

# Messages without a body; interim; upgrades (RFC 9112 §6.3 items 1-2)
case("head-with-cl", OK + b"Content-Length: 100\r\n\r\n", M(content_length=100, keep_alive=True, chunked=False), method="HEAD")
case("head-with-te", OK + TE + b"\r\n", M(chunked=False), method="HEAD")
case("head-then-next", OK + b"Content-Length: 4\r\n\r\n" + OK + b"Content-Length: 1\r\n\r\n", M(content_length=4),
     M(content_length=1),
     method="HEAD")
case("head-bad-cl", OK + b"Content-Length: x\r\n\r\n", method="HEAD", err=(BadContentLength, (b"x\r\n", 0)))
case("head-method-case-sensitive", OK + b"Content-Length: 2\r\n\r\nok", M(body=b"ok"), method="head")
case("status-204-with-cl", b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n" + OK + b"Content-Length: 1\r\n\r\nx",
     M(204, content_length=5), M(body=b"x"))
case("status-304-with-cl", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"a\"\r\n\r\n", M(304, content_length=50, keep_alive=True))
case("status-304-chunked-declared", b"HTTP/1.1 304 Not Modified\r\n" + TE + b"\r\n", M(304, chunked=False))
case("status-204-no-framing-keeps-alive", b"HTTP/1.1 204 No Content\r\n\r\n", M(204, keep_alive=True))
case("interim-100", b"HTTP/1.1 100 Continue\r\n\r\n" + OK + b"Content-Length: 2\r\n\r\nok",
     M(100, reason="Continue", headers=[], trailers=[]), M(body=b"ok"), method="POST")
case("interim-103-then-200", b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" + OK + CL0 + b"\r\n",
     M(103, headers=[("Link", "</a.css>; rel=preload")]), M())
case("interim-two", b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n" + OK + CL0 + b"\r\n", M(100), M(102), M())
case("interim-close-does-not-end", b"HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n" + OK + b"Content-Length: 1\r\n\r\nx",
     M(100, keep_alive=False), M(body=b"x"))
case("interim-http10", b"HTTP/1.0 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", M(100), M(body=b"x"),
     unconsumed=b"")
case("upgrade-101", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello",
     M(101, upgrade=True, keep_alive=True, chunked=False), unconsumed=b"\x81\x05hello")
case("upgrade-101-nothing-after", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n", M(101, upgrade=True), unconsumed=b"")
case("upgrade-101-ignores-cl", b"HTTP/1.1 101 Switching Protocols\r\nContent-Length: 3\r\n\r\nabcdef",
     M(101, upgrade=True, content_length=3), unconsumed=b"abcdef")
case("connect-200", b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01", M(upgrade=True), method="CONNECT",
     unconsumed=b"\x16\x03\x01")
case("connect-200-with-cl", OK + b"Content-Length: 5\r\n\r\nhello", M(upgrade=True, content_length=5), method="CONNECT",
     unconsumed=b"hello")
case("connect-407-has-body", b"HTTP/1.1 407 Proxy Auth\r\nContent-Length: 2\r\n\r\nno", M(407, body=b"no", upgrade=False),
     method="CONNECT")
case("connect-lowercase-is-not-connect", OK + b"Content-Length: 2\r\n\r\nok", M(body=b"ok", upgrade=False), method="connect")

# Read until close (RFC 9112 §6.3 item 8)
case("until-close", OK + b"Server: x\r\n\r\nall the rest", M(body=b"all the rest", keep_alive=False, content_length=None),
     eof=True, unconsumed=b"")
case("until-close-empty", OK + b"\r\n", M(keep_alive=False), eof=True)
case("until-close-no-eof", OK + b"\r\nsome", M(body=b"some", complete=False))
case("until-close-keep-alive-header", OK + b"Connection: keep-alive\r\n\r\nbody", M(body=b"body", keep_alive=False), eof=True)

# Pipelining, Connection: close and what follows
case("pipelined-3", OK + b"Content-Length: 1\r\n\r\na" + b"HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb"
     + OK + TE + b"\r\n1\r\nc\r\n0\r\n\r\n", M(body=b"a"), M(404, body=b"b"), M(body=b"c"))
case("pipelined-empty-line-between-lenient", OK + CL0 + b"\r\n\r\n" + OK + CL0 + b"\r\n", M(), M(), mode="lenient")
case("pipelined-empty-line-between-strict", OK + CL0 + b"\r\n\r\n" + OK + CL0 + b"\r\n", M(),
     err=(BadStatusLine, len(OK + CL0 + b"\r\n")), mode="strict")
case("close-then-garbage", OK + b"Connection: close\r\nContent-Length: 2\r\n\r\nokGARBAGE\r\n\r\n",
     M(body=b"ok", keep_alive=False), unconsumed=b"GARBAGE\r\n\r\n")
case("close-then-response", OK + b"Connection: close\r\n" + CL0 + b"\r\n" + OK + CL0 + b"\r\n",
     M(keep_alive=False), unconsumed=OK + CL0 + b"\r\n")
case("keep-alive-then-garbage", OK + b"Content-Length: 2\r\n\r\nokGARBAGE\r\n", M(body=b"ok"), err=(BadStatusLine, (b"GARBAGE", 0)))
case("keep-alive-then-garbage-no-lf", OK + b"Content-Length: 2\r\n\r\nokGARB", M(body=b"ok"))
case("error-offset-in-second-message", OK + CL0 + b"\r\n" + OK + b"X A: 1\r\n\r\n", M(), err=(InvalidHeader, (b" A:", 0)))
case("http10-close-then-garbage", b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nxyz", M(body=b"x", keep_alive=False), unconsumed=b"yz")

# Keep-alive (RFC 9112 §9.3)
for _id, _version, _conn, _expect in [
    ("11-default", b"1.1", b"", True),
    ("11-close", b"1.1", b"Connection: close\r\n", False),
    ("11-close-uppercase", b"1.1", b"Connection: CLOSE\r\n", False),
    ("11-close-in-list", b"1.1", b"Connection: Keep-Alive , close\r\n", False),
    ("11-close-second-field", b"1.1", b"Connection: keep-alive\r\nConnection: close\r\n", False),
    ("11-upgrade-token", b"1.1", b"Connection: upgrade\r\n", True),
    ("11-closed-is-not-close", b"1.1", b"Connection: closed\r\n", True),
    ("10-default", b"1.0", b"", False),
    ("10-keep-alive", b"1.0", b"Connection: keep-alive\r\n", True),
    ("10-keep-alive-mixed-case-ows", b"1.0", b"Connection:  Keep-Alive \r\n", True),
    ("10-keep-alive-and-close", b"1.0", b"Connection: keep-alive, close\r\n", False),
    ("10-keep-alive-in-list", b"1.0", b"Connection: foo,keep-alive\r\n", True),
]:
    case(f"keep-alive-{_id}", b"HTTP/" + _version + b" 200 OK\r\n" + _conn + b"Content-Length: 1\r\n\r\nx",
         M(body=b"x", keep_alive=_expect), unconsumed=None if _expect else b"")

# Limits (docs/parser.md, Limits), small limits so every split stays quick, and the defaults
_SMALL = {"max_line_size": 20, "max_field_size": 16, "max_headers": 3}
_SMALL_TE = {"max_line_size": 20, "max_field_size": 26, "max_headers": 3}  # room for Transfer-Encoding: chunked
case("limit-status-line-at", b"HTTP/1.1 200 " + b"R" * 7 + b"\r\n" + CL0[:0] + b"\r\n", M(keep_alive=False), limits=_SMALL, eof=True)
case("limit-status-line-past", b"HTTP/1.1 200 " + b"R" * 8 + b"\r\n\r\n", err=(LineTooLong, 20), limits=_SMALL)
# Empty lines before a status line (lenient) count against max_line_size together, per message
_LEAD_OK = b"HTTP/1.1 200 OK\r\n" + b"Content-Length: 0\r\n\r\n"
case("limit-empty-lines-at", b"\r\n" * 9 + b"\n\n" + _LEAD_OK, M(), limits={"max_line_size": 20}, mode="lenient")
case("limit-empty-lines-past", b"\r\n" * 10 + b"\n" + _LEAD_OK, err=(LineTooLong, 20), limits={"max_line_size": 20}, mode="lenient",
     text="more than 20 bytes of empty lines before the status line at offset 20 (byte 0x0a)")
case("limit-empty-lines-cr-past-then-junk", b"\r\n" * 10 + b"\rX", err=(LineTooLong, 20), limits={"max_line_size": 20}, mode="lenient")
case("limit-empty-lines-bare-cr-before-limit", b"\r\n" * 9 + b"\rX", err=(BadStatusLine, 18), limits={"max_line_size": 20},
     mode="lenient")
case("limit-empty-lines-per-message", (b"\r\n" * 10 + _LEAD_OK) * 2, M(), M(), limits={"max_line_size": 20}, mode="lenient")
case("limit-empty-lines-zero", b"\n" + _LEAD_OK, err=(LineTooLong, 0), limits={"max_line_size": 0}, mode="lenient")
case("limit-empty-lines-strict-is-a-bad-status-line", b"\r\n" * 30 + _LEAD_OK, err=(BadStatusLine, 0), limits={"max_line_size": 20},
     mode="strict")
case("limit-status-line-cr-at-limit-then-junk", b"HTTP/1.1 200 " + b"R" * 7 + b"\rX\r\n\r\n", err=(LineTooLong, 20), limits=_SMALL)
case("limit-status-line-bare-lf-at", b"HTTP/1.1 200 " + b"R" * 7 + b"\n\n", M(keep_alive=False), limits=_SMALL, eof=True, mode="lenient")
case("limit-status-line-past-beats-syntax", b"HTTP/1.1 2x0 " + b"R" * 8 + b"\r\n\r\n", err=(LineTooLong, 20), limits=_SMALL)
case("limit-field-at", OK + b"X-A: " + b"v" * 11 + b"\r\n\r\n", M(keep_alive=False), limits=_SMALL, eof=True)
case("limit-field-past", OK + b"X-A: " + b"v" * 12 + b"\r\n\r\n", err=(LineTooLong, 17 + 16), limits=_SMALL)
case("limit-field-trailing-ows-counts", OK + b"X-A: " + b"v" * 10 + b"  \r\n\r\n", err=(LineTooLong, 17 + 16), limits=_SMALL)
case("limit-field-past-beats-bad-byte", OK + b"X A: " + b"v" * 12 + b"\r\n\r\n", err=(LineTooLong, 17 + 16), limits=_SMALL)
case("limit-field-no-lf-yet", OK + b"X-A: " + b"v" * 12, err=(LineTooLong, 17 + 16), limits=_SMALL)
case("limit-folded-field-at", OK + b"X-A: vvvv\r\n vvvv\r\n\r\n", M(headers=[("X-A", "vvvv vvvv")], keep_alive=False),
     limits=_SMALL, eof=True, mode="lenient")
case("limit-folded-field-past", OK + b"X-A: vvvv\r\n vvvvv\r\n\r\n", err=(LineTooLong, 17 + 16), limits=_SMALL, mode="lenient")
case("limit-folded-field-past-in-line-end", OK + b"X-A: vvvvvvvvvvv\r\n v\r\n\r\n", err=(LineTooLong, 17 + 16),
     limits=_SMALL, mode="lenient")
case("limit-count-at", OK + b"A: 1\r\nB: 2\r\nC: 3\r\n\r\n", M(keep_alive=False), limits=_SMALL, eof=True)
case("limit-count-past", OK + b"A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", err=(TooManyHeaders, (b"D: 4", 0)), limits=_SMALL)
case("limit-count-past-first-byte", OK + b"A: 1\r\nB: 2\r\nC: 3\r\nD", err=(TooManyHeaders, (b"D", 0)), limits=_SMALL)
case("limit-count-continuations-not-counted", OK + b"A: 1\r\n 1\r\nB: 2\r\n 2\r\nC: 3\r\n\r\n", M(keep_alive=False),
     limits=_SMALL, eof=True, mode="lenient")
case("limit-count-with-trailers-at", OK + TE + b"B: 2\r\n\r\n0\r\nT: 1\r\n\r\n", M(trailers=[("T", "1")]), limits=_SMALL_TE)
case("limit-count-with-trailers-past", OK + TE + b"B: 2\r\n\r\n0\r\nT: 1\r\nU: 2\r\n\r\n", M(complete=False),
     err=(TooManyHeaders, (b"U: 2", 0)), limits=_SMALL_TE)
case("limit-trailer-field-at", OK + TE + b"\r\n0\r\nT: " + b"t" * 23 + b"\r\n\r\n", M(trailers=[("T", "t" * 23)]),
     limits=_SMALL_TE)
case("limit-trailer-field-past", OK + TE + b"\r\n0\r\nT: " + b"t" * 24 + b"\r\n\r\n", M(complete=False),
     err=(LineTooLong, (b"T: ", 26)), limits=_SMALL_TE)
case("limit-chunk-line-at", OK + TE + b"\r\n1;" + b"a" * 18 + b"\r\nx\r\n0\r\n\r\n", M(body=b"x"), limits=_SMALL_TE)
case("limit-chunk-line-past", OK + TE + b"\r\n1;" + b"a" * 19 + b"\r\nx\r\n0\r\n\r\n", M(complete=False),
     err=(LineTooLong, (b"1;a", 20)), limits=_SMALL_TE)
case("limit-chunk-line-zeros-past", OK + TE + b"\r\n" + b"0" * 21 + b"1\r\nx\r\n0\r\n\r\n", M(complete=False),
     err=(LineTooLong, (b"0000", 20)), limits=_SMALL_TE)
case("limit-default-status-line-at", b"HTTP/1.1 200 " + b"R" * (8190 - 13) + b"\r\n" + CL0 + b"\r\n", M())
case("limit-default-status-line-past", b"HTTP/1.1 200 " + b"R" * (8191 - 13) + b"\r\n" + CL0 + b"\r\n", err=(LineTooLong, 8190))
case("limit-default-field-at", OK + b"X: " + b"v" * (8190 - 3) + b"\r\n" + CL0 + b"\r\n", M())
case("limit-default-field-past", OK + b"X: " + b"v" * (8191 - 3) + b"\r\n" + CL0 + b"\r\n", err=(LineTooLong, 17 + 8190))
case("limit-default-head-over-8190-lines-under", OK + b"A: " + b"a" * 5000 + b"\r\nB: " + b"b" * 5000 + b"\r\n" + CL0 + b"\r\n",
     M(headers=[("A", "a" * 5000), ("B", "b" * 5000), ("Content-Length", "0")]))
case("limit-default-count-at", OK + b"".join(b"X%d: v\r\n" % i for i in range(127)) + CL0 + b"\r\n", M())
case("limit-default-count-past", OK + b"".join(b"X%d: v\r\n" % i for i in range(128)) + CL0 + b"\r\n",
     err=(TooManyHeaders, (b"Content-Length", 0)))


# Found by an adversarial review against RFC 9110/9112, llhttp's and aiohttp's response
# cases; each pins a decision of docs/parser.md that no case above held
case("adv-status-two-sp-before-reason", b"HTTP/1.1 200  OK\r\n" + CL0 + b"\r\n", M(reason=" OK"))
case("adv-status-tab-after-status", b"HTTP/1.1 200\tOK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 12))
case("adv-status-1000", b"HTTP/1.1 1000 X\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 12))
case("adv-status-minor-two-digits", b"HTTP/1.10 200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 8))
case("adv-status-reason-obs-text-strict", b"HTTP/1.1 200 \x80\xff\r\n" + CL0 + b"\r\n", M(reason="\udc80\udcff"), mode="strict")
case("adv-status-cr-cr-lf", b"HTTP/1.1 200 OK\r\r\n\r\n", err=(BadStatusLine, 15))
case("adv-field-name-obs-text", OK + b"X\xffY: v\r\n" + CL0 + b"\r\n", err=(InvalidHeader, 18))
case("adv-field-value-cr-cr-lf", OK + b"X: a\r\r\n" + CL0 + b"\r\n", err=(InvalidHeader, 21))
case("adv-field-value-only-ows", OK + b"X: \t \r\n" + CL0 + b"\r\n", M(headers=[("X", ""), ("Content-Length", "0")],
     raw_headers=((b"X", b""), (b"Content-Length", b"0"))))
case("adv-fold-connection-lenient", OK + b"Connection: keep-alive\r\n close\r\n" + CL0 + b"\r\n",
     M(headers=[("Connection", "keep-alive close"), ("Content-Length", "0")], keep_alive=True), mode="lenient")
case("adv-cl-2-63-minus-1", OK + b"Content-Length: 9223372036854775807\r\n\r\nab",
     M(body=b"ab", content_length=2**63 - 1, complete=False))
case("adv-cl-2-63", OK + b"Content-Length: 9223372036854775808\r\n\r\n", err=(BadContentLength, (b"808\r", 2)))
case("adv-cl-many-leading-zeros", OK + b"Content-Length: " + b"0" * 40 + b"3\r\n\r\nabc", M(body=b"abc", content_length=3))
case("adv-cl-non-ascii-digit", OK + "Content-Length: \u0663\r\n\r\n".encode(), err=(BadContentLength, 33))
case("adv-cl-bad-on-204", b"HTTP/1.1 204 No Content\r\nContent-Length: abc\r\n\r\n", err=(BadContentLength, (b"abc", 0)))
case("adv-te-and-cl-on-1xx", b"HTTP/1.1 103 EH\r\n" + TE + CL0 + b"\r\n", err=(BadTransferEncoding, (b"Content-Length", 0)))
case("adv-te-and-cl-on-101", b"HTTP/1.1 101 S\r\n" + TE + CL0 + b"\r\n", err=(BadTransferEncoding, (b"Content-Length", 0)))
case("adv-te-chunkedchunked", OK + b"Transfer-Encoding: chunkedchunked\r\n\r\n2\r\nOK\r\n0\r\n\r\n",
     M(body=b"2\r\nOK\r\n0\r\n\r\n", chunked=False, keep_alive=False), eof=True)
case("adv-te-chunked-then-identity-fields", OK + TE + b"Transfer-Encoding: identity\r\n\r\nWorld",
     M(body=b"World", chunked=False, keep_alive=False), eof=True)
case("adv-te-chunked-empty-parameter", OK + b"Transfer-Encoding: chunked;\r\n\r\n1\r\nx\r\n0\r\n\r\n", M(body=b"x", chunked=True))
case("adv-te-quoted-parameter-with-comma", OK + b'Transfer-Encoding: foo;a="x,chunked", chunked\r\n\r\n',
     err=(BadTransferEncoding, (b'", chunked', 0)))
case("adv-te-on-304-no-body", b"HTTP/1.1 304 NM\r\n" + TE + b"\r\n" + OK + CL0 + b"\r\n", M(304, chunked=False), M())
case("adv-connect-204-is-a-tunnel", b"HTTP/1.1 204 NC\r\n\r\nTUNNEL", M(204, upgrade=True), method="CONNECT", unconsumed=b"TUNNEL")
case("adv-connect-interim-then-200", b"HTTP/1.1 100 C\r\n\r\n" + OK + b"\r\nT", M(100, upgrade=False), M(upgrade=True),
     method="CONNECT", unconsumed=b"T")
case("adv-101-without-upgrade-field", b"HTTP/1.1 101 Switching\r\n\r\nWS", M(101, upgrade=True), unconsumed=b"WS")
case("adv-101-to-head", b"HTTP/1.1 101 S\r\n\r\nrest", M(101, upgrade=True), method="HEAD", unconsumed=b"rest")
case("adv-head-until-close-is-bodiless", OK + b"\r\n" + OK + CL0 + b"\r\n", M(keep_alive=True), M(), method="HEAD")
case("adv-trailer-connection-close-ignored", OK + TE + b"\r\n0\r\nConnection: close\r\n\r\n" + OK + CL0 + b"\r\n",
     M(keep_alive=True, trailers=[("Connection", "close")]), M())
case("adv-chunk-ext-quoted-pair-obs-text", OK + TE + b"\r\n1;n=\"\\\x80\"\r\nx\r\n0\r\n\r\n", M(body=b"x"))
case("adv-chunk-ext-quoted-pair-del", OK + TE + b"\r\n1;n=\"\\\x7f\"\r\nx\r\n0\r\n\r\n", M(complete=False),
     err=(BadChunk, (b"\x7f", 0)))
case("adv-chunk-ext-empty-quoted", OK + TE + b"\r\n1;n=\"\"\r\nx\r\n0\r\n\r\n", M(body=b"x"))
case("adv-chunk-ext-escaped-cr", OK + TE + b"\r\n1;n=\"\\\r\nx\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"\r\nx", 0)))
case("adv-chunk-ext-after-quoted", OK + TE + b"\r\n1;n=\"b\"c\r\nx\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b"c\r\nx", 0)))
case("adv-chunk-ext-trailing-semicolon", OK + TE + b"\r\n1;a;\r\nx\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, (b";\r\nx", 1)))
case("adv-chunk-empty-line-between-chunks", OK + TE + b"\r\n1\r\nx\r\n\r\n0\r\n\r\n", M(body=b"x", complete=False),
     err=(BadChunk, (b"\r\n0\r\n", 0)))
case("adv-chunk-last-chunk-data-is-a-field", OK + TE + b"\r\n0\r\nx\r\n\r\n", M(complete=False), err=(InvalidHeader, (b"x\r\n\r\n", 1)))
case("adv-chunk-eof-after-last-chunk-cr", OK + TE + b"\r\n0\r\n\r", M(complete=False), eof=True,
     err=(IncompleteMessage, "end", 0, None))
case("adv-chunk-junk-after-message", OK + TE + b"\r\n0\r\n\r\nJUNK\r\n", M(), err=(BadStatusLine, (b"JUNK", 0)))
case("adv-many-leading-empty-lines", b"\r\n" * 3000 + OK + CL0 + b"\r\n", M(), mode="lenient")
case("adv-leading-lf-then-crlf", b"\n\r\n" + OK + CL0 + b"\r\n", M(), mode="lenient")
case("adv-1xx-junk-without-lf-waits", b"HTTP/1.1 100 Continue\r\n\r\nxyz", M(100))
# Tokens are ASCII (RFC 9110 §5.6.2): a non-ASCII look-alike that str case mapping turns
# into an ASCII letter ("\u212a" KELVIN SIGN lowers to "k") makes no token, fed whole or split
case("adv-te-kelvin-sign", OK + "Transfer-Encoding: chun\u212aed\r\n\r\n1\r\nx\r\n0\r\n\r\n".encode(),
     err=(BadTransferEncoding, (b"\xe2\x84\xaa", 0)))
case("adv-te-kelvin-sign-in-list", OK + "Transfer-Encoding: gzip, CHUN\u212aED\r\n\r\n".encode(),
     err=(BadTransferEncoding, (b"\xe2\x84\xaa", 0)))
case("adv-connection-kelvin-keep-alive-http10", b"HTTP/1.0 200 OK\r\n" + "Connection: \u212aeep-alive\r\n".encode() + CL0 + b"\r\n",
     M(keep_alive=False, headers=[("Connection", "\u212aeep-alive"), ("Content-Length", "0")]))
case("adv-connection-dotless-i-keep-alive-http10", b"HTTP/1.0 200 OK\r\n" + "Connection: keep-al\u0131ve\r\n".encode() + CL0 + b"\r\n",
     M(keep_alive=False))
case("adv-connection-long-s-close", OK + "Connection: clo\u017fe\r\n".encode() + CL0 + b"\r\n", M(keep_alive=True))
case("adv-cl-fullwidth-digit", OK + "Content-Length: \uff13\r\n\r\nabc".encode(), err=(BadContentLength, (b"\xef", 0)))


# The exact text of representative errors, the same on both twins: the message names
# what was wrong, HttpParserError.__str__ appends where and which byte
case("text-chunk-size-bare-lf", OK + TE + b"\r\n0\n\n", M(complete=False), err=(BadChunk, 48),
     text="chunk-size line ends with a bare LF at offset 48 (byte 0x0a)")
case("text-status-not-http", b"http/1.1 200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 0),
     text="status line does not start with HTTP/ at offset 0 (byte 0x68)")
case("text-major-version", b"HTTP/2.0 200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 5),
     text="HTTP major version is not 1 at offset 5 (byte 0x32)")
case("text-minor-version-strict", b"HTTP/1.2 200 OK\r\n" + CL0 + b"\r\n", err=(BadStatusLine, 7), mode="strict",
     text="HTTP minor version other than 0 or 1 (strict mode) at offset 7 (byte 0x32)")
case("text-field-without-colon", OK + b"X\r\n\r\n", err=(InvalidHeader, 18),
     text="field line without a colon at offset 18 (byte 0x0d)")
case("text-field-name-empty", OK + b": x\r\n\r\n", err=(InvalidHeader, 17),
     text="empty field name at offset 17 (byte 0x3a)")
case("text-field-name-byte", OK + b"X A: 1\r\n\r\n", err=(InvalidHeader, 18),
     text="invalid byte in a field name at offset 18 (byte 0x20)")
case("text-repeated-singleton-strict", OK + b"Server: a\r\nServer: b\r\n\r\n", err=(InvalidHeader, 28), mode="strict",
     text="repeated Server field (strict mode) at offset 28 (byte 0x53)")
case("text-too-many-fields", OK + b"A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", err=(TooManyHeaders, 35), limits=_SMALL,
     text="more than 3 header and trailer fields at offset 35 (byte 0x44)")
case("text-status-line-too-long", b"HTTP/1.1 200 " + b"R" * 8 + b"\r\n\r\n", err=(LineTooLong, 20), limits=_SMALL,
     text="status line longer than 20 bytes at offset 20 (byte 0x52)")
case("text-cl-conflict", OK + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", err=(BadContentLength, 52),
     text="conflicting Content-Length values at offset 52 (byte 0x34)")
case("text-chunk-ext-unclosed", OK + TE + b"\r\n2;a=\"x\r\nab\r\n0\r\n\r\n", M(complete=False), err=(BadChunk, 53),
     text="quoted string not closed before the line end at offset 53 (byte 0x0d)")
case("text-eof-in-body", OK + b"Content-Length: 10\r\n\r\nabc", M(body=b"abc", complete=False), eof=True,
     err=(IncompleteMessage, "end", 3, 10), text="the stream ended before the Content-Length body was complete at offset 42")
case("text-eof-in-trailers", OK + TE + b"\r\n0\r\nT: 1\r\n", M(complete=False), eof=True,
     err=(IncompleteMessage, "end", 0, None), text="the stream ended inside the trailer section at offset 56")


#: The twin whose message for an input every twin and every feeding must repeat; the
#: Python twin is always importable, so the ``python`` run needs no compiled module.
REFERENCE = wire.load("python")


@pytest.mark.parametrize("how", SPLITS)
@pytest.mark.parametrize("c", CASES, ids=[c.id for c in CASES])
def test_table(wire_impl: Wire, c: Case, how: str) -> None:
    text = c.text
    if c.error is not None and text is None:  # the reference: the Python twin, fed whole
        text = str(run(REFERENCE, [c.data], method=c.method, strict=c.strict, eof=c.eof, limits=c.limits).error)
    for chunks in splits(c.data, how):
        out = run(wire_impl, chunks, method=c.method, strict=c.strict, eof=c.eof, limits=c.limits)
        assert error_facts(out.error) == c.error, [type(x).__name__ for x in chunks]
        assert (None if out.error is None else str(out.error)) == text, [type(x).__name__ for x in chunks]
        got = [{k: m[k] for k in want} for m, want in zip(out.messages, c.messages, strict=False)]  # lengths: next line
        assert got == c.messages
        assert len(out.messages) == len(c.messages)
        if c.unconsumed is not None:
            assert out.done
            assert out.unconsumed == c.unconsumed


def _shape(template: str) -> re.Pattern[str]:
    return re.compile(re.escape(template).replace(r"\{\}", ".+"))


#: Every parser text of the shared module, written out here and not read from it: the
#: module is what both twins raise, so comparing a twin with the module alone would
#: pass whatever the module said.  A change of wording is made in both places.
LITERAL_MESSAGES = {
    "EOF_IN_HEAD": "the stream ended inside a response head",
    "EOF_IN_BODY": "the stream ended before the Content-Length body was complete",
    "EOF_IN_CHUNKED": "the stream ended inside a chunked body",
    "EOF_IN_TRAILERS": "the stream ended inside the trailer section",
    "BARE_CR_BEFORE_STATUS": "bare CR before the status line",
    "EMPTY_LINE_BEFORE_STATUS": "empty line before the status line (strict mode)",
    "EMPTY_LINES_TOO_LONG": "more than {} bytes of empty lines before the status line",
    "STATUS_LINE_TOO_LONG": "status line longer than {} bytes",
    "STATUS_NOT_HTTP": "status line does not start with HTTP/",
    "MAJOR_VERSION": "HTTP major version is not 1",
    "VERSION_DOT": "expected '.' in the HTTP version",
    "MINOR_NOT_DIGIT": "expected a digit for the HTTP minor version",
    "MINOR_VERSION": "HTTP minor version other than 0 or 1 (strict mode)",
    "SP_AFTER_VERSION": "expected one SP after the HTTP version",
    "STATUS_CODE": "status code is not three digits 100-999",
    "REASON_CONTROL": "control byte in the reason phrase",
    "STATUS_BARE_LF": "status line ends with a bare LF (strict mode)",
    "TOO_MANY_FIELDS": "more than {} header and trailer fields",
    "FIELD_TOO_LONG": "field longer than {} bytes",
    "BARE_CR_AT_LINE_START": "bare CR at the start of a field line",
    "WHITESPACE_BEFORE_FIELD": "whitespace at the start of the first field line",
    "OBS_FOLD": "obs-fold continuation line (strict mode)",
    "FIELD_NO_COLON": "field line without a colon",
    "FIELD_NAME_EMPTY": "empty field name",
    "FIELD_NAME_BYTE": "invalid byte in a field name",
    "FIELD_VALUE_BYTE": "invalid byte in a field value",
    "FIELD_BARE_LF": "field line ends with a bare LF (strict mode)",
    "EMPTY_LINE_BARE_LF": "empty line ends with a bare LF (strict mode)",
    "REPEATED_SINGLETON": "repeated {} field (strict mode)",
    "CL_EMPTY": "empty Content-Length",
    "CL_NOT_DIGITS": "Content-Length is not digits only",
    "CL_TOO_LARGE": "Content-Length above 2**63-1",
    "CL_FOLDED": "folded Content-Length",
    "CL_CONFLICT": "conflicting Content-Length values",
    "CL_REPEATED": "Content-Length given more than once (strict mode)",
    "CL_AFTER_TE": "Content-Length with Transfer-Encoding",
    "TE_AFTER_CL": "Transfer-Encoding with Content-Length",
    "TE_FOLDED": "folded Transfer-Encoding",
    "TE_NOT_TOKEN": "transfer coding is not a token",
    "TE_CHUNKED_TWICE": "chunked applied twice",
    "TE_EMPTY": "Transfer-Encoding without a coding",
    "CHUNK_LINE_TOO_LONG": "chunk-size line longer than {} bytes",
    "CHUNK_SIZE_NOT_HEX": "chunk size is not hex digits",
    "CHUNK_SIZE_TOO_LARGE": "chunk size above 2**63-1",
    "CHUNK_SIZE_END": "chunk size followed by something other than ';' or CRLF",
    "CHUNK_EXT_NAME": "expected a token for the chunk extension name",
    "CHUNK_EXT_VALUE": "expected a token or a quoted string for the chunk extension value",
    "CHUNK_EXT_END": "expected ';' or CRLF after a chunk extension",
    "CHUNK_EXT_QUOTED_BYTE": "invalid byte in a quoted chunk extension value",
    "CHUNK_EXT_UNCLOSED": "quoted string not closed before the line end",
    "CHUNK_BARE_LF": "chunk-size line ends with a bare LF",
    "CHUNK_DATA_CRLF": "chunk data not followed by CRLF",
    "ARG_LIMIT_NEGATIVE": "{} must be 0 or more",
    "ARG_LIMIT_TOO_LARGE": "{} must be at most sys.maxsize",
    "ARG_NOT_BYTES": "feed() needs a bytes-like object, not {}",
    "ARG_NOT_CONTIGUOUS": "feed() needs a C-contiguous buffer",
    "ARG_METHOD_NOT_STR": "method must be a str such as 'HEAD', not {}",
    "ARG_OTHER_THREAD": "a ResponseParser belongs to the thread that first fed it; call it from that thread only",
}

# ARG_* texts are argument errors (builtin exceptions), pinned by test_argument_errors;
# W_* texts are the writer's (docs/writer.md) and R_* the receive buffer's
# (tests/wire/test_receive.py pins them), which share the module
SHARED_MESSAGES = {name: text for name, text in vars(_parser_messages).items()
                   if name.isupper() and not name.startswith(("ARG_", "W_", "R_"))}


def test_the_shared_messages_are_the_literal_texts() -> None:
    module = {name: text for name, text in vars(_parser_messages).items()
              if name.isupper() and not name.startswith(("W_", "R_"))}
    assert module == LITERAL_MESSAGES


def test_every_raised_text_is_a_literal_one(wire_impl: Wire) -> None:
    """What each error case raises, on this twin, is one of the literal templates."""
    literal = [_shape(text) for name, text in LITERAL_MESSAGES.items() if not name.startswith("ARG_")]
    for c in CASES:
        if c.error is not None:
            out = run(wire_impl, [c.data], method=c.method, strict=c.strict, eof=c.eof, limits=c.limits)
            assert out.error is not None
            assert any(shape.fullmatch(out.error.message) for shape in literal), (c.id, out.error.message)


def test_every_shared_message_is_raised_by_some_case(wire_impl: Wire) -> None:
    """The table reaches every message of the shared module on this twin: none is dead,
    and each has a case whose text the table holds equal across twins and feedings."""
    raised = set()
    for c in CASES:
        if c.error is not None:
            out = run(wire_impl, [c.data], method=c.method, strict=c.strict, eof=c.eof, limits=c.limits)
            assert out.error is not None
            raised.add(out.error.message)
    missing = [name for name, text in SHARED_MESSAGES.items()
               if not any(_shape(text).fullmatch(message) for message in raised)]
    assert missing == []


def test_argument_errors(wire_impl: Wire) -> None:
    """Bad arguments raise the same builtin exception with the same shared text on both
    twins, before any byte is read (a negative limit once let the C twin read before its
    buffer)."""
    parser = wire_impl.ResponseParser
    for name in ("max_line_size", "max_field_size", "max_headers"):
        with pytest.raises(ValueError) as info:
            parser("GET", **{name: -1})
        assert str(info.value) == LITERAL_MESSAGES["ARG_LIMIT_NEGATIVE"].format(name)
        with pytest.raises(OverflowError) as over:
            parser("GET", **{name: 2**63})
        assert str(over.value) == LITERAL_MESSAGES["ARG_LIMIT_TOO_LARGE"].format(name)
        with pytest.raises(TypeError):
            parser("GET", **{name: 8190.0})
        assert parser("GET", **{name: 2**63 - 1}).feed(OK + CL0 + b"\r\n")[0].status == 200
    for bad in ("HTTP/1.1 200 OK\r\n", 5, None):
        for done in (False, True):
            p = parser("GET")
            if done:
                p.feed_eof()
            with pytest.raises(TypeError) as typ:
                p.feed(bad)
            assert str(typ.value) == LITERAL_MESSAGES["ARG_NOT_BYTES"].format(type(bad).__name__)
            assert p.error is None and p.unconsumed == b""
    strided = memoryview(b"HHTTTTPP//11..11  220000  OOKK\r\r\n\n")[::2]
    for done in (False, True):
        p = parser("GET")
        if done:
            p.feed_eof()
        with pytest.raises(BufferError) as buf:
            p.feed(strided)
        assert str(buf.value) == LITERAL_MESSAGES["ARG_NOT_CONTIGUOUS"]
        assert p.error is None and p.unconsumed == b""


@pytest.mark.parametrize("bad", [b"HEAD", None, 1], ids=["bytes", "None", "int"])
def test_method_must_be_str(wire_impl: Wire, bad: object) -> None:
    """A bytes method would never equal "HEAD", so a HEAD response would wait for a body."""
    with pytest.raises(TypeError) as info:
        wire_impl.ResponseParser(bad)
    assert str(info.value) == LITERAL_MESSAGES["ARG_METHOD_NOT_STR"].format(type(bad).__name__)
    p = wire_impl.ResponseParser("HEAD")
    with pytest.raises(TypeError):
        p.method = bad
    assert p.method == "HEAD"  # unchanged: a HEAD response still has no body
    (head, end) = p.feed(OK + b"Content-Length: 5\r\n\r\n")
    assert head.content_length == 5 and isinstance(end, wire_impl.MessageEnd)


def test_wide_items_are_fed_as_bytes(wire_impl: Wire) -> None:
    """A contiguous buffer of wider items is its bytes: offsets and pieces count bytes."""
    data = OK + b"Content-Length: 5\r\n\r\nhello\n"  # strict: an empty line before a status line
    wide = array.array("H")
    wide.frombytes(data)
    p = wire_impl.ResponseParser("GET", strict=True)
    events = p.feed(memoryview(wide))
    assert [bytes(e) for e in events if type(e) is memoryview] == [b"hello"]
    assert p.error is not None and p.error.offset == len(data) - 1 and p.error.byte == ord("\n")
    p = wire_impl.ResponseParser("GET")
    p.feed(OK + b"Connection: close\r\n" + CL0 + b"\r\n")
    for _ in range(3):
        assert p.feed(memoryview(wide)) == []
    assert p.unconsumed == data * 3
