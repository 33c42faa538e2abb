"""Building a finished head's or trailer section's objects, and the framing decision.

Twin of ``src/_parser_build.pxi``.  The events themselves (:class:`ResponseHead`,
:class:`MessageEnd`) are defined here, where they are built, and exported by
``_parser_py``.  The fields of a section are judged in wire order once its empty
line has arrived (docs/parser.md, "When an error is detected"): a fold in a framing
field, then the value, then a conflict with an earlier Content-Length, then
Transfer-Encoding with Content-Length; then RFC 9112 §6.3 decides the framing.
The functions take the parser as ``self``, as the C twin's ``cdef`` functions do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy, istr

from ..errors import BadContentLength, BadTransferEncoding, InvalidHeader
from . import _messages as msg
from ._constants import SINGLETON_HEADERS
from ._parser_py_tables import (
    _BODY_EOF,
    _BODY_LENGTH,
    _CHUNK_SIZE,
    _DIGIT,
    _DONE,
    _HEAD,
    _TCHAR,
    MAX_LENGTH,
    _Field,
    _name,
    _text,
)

if TYPE_CHECKING:
    from ._parser_py import ResponseParser

_EMPTY_MAP: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())
_SET_COOKIE = istr("Set-Cookie")
_CONTENT_ENCODING = istr("Content-Encoding")


class ResponseHead:
    """The head of one response (docs/parser.md, Events)."""

    __slots__ = (
        "version", "status", "reason", "headers", "_raw",
        "keep_alive", "chunked", "content_length", "upgrade", "has_set_cookie", "content_encoding",
    )

    def __init__(self, version: tuple[int, int], status: int, reason: str,
                 headers: CIMultiDictProxy[str], raw: Any, keep_alive: bool,
                 chunked: bool, content_length: int | None, upgrade: bool) -> None:
        # The C twin builds ``headers`` on first use and knows these two without it;
        # here the map is built anyway, and they are read from it.
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self._raw = raw  # a tuple of pairs, or the CRLF-terminated field block (fast path)
        self.keep_alive = keep_alive
        self.chunked = chunked
        self.content_length = content_length
        self.upgrade = upgrade
        self.has_set_cookie: bool = _SET_COOKIE in headers
        self.content_encoding: str | None = headers.get(_CONTENT_ENCODING)

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        raw = self._raw
        if type(raw) is bytes:  # built on first use: most clients never ask
            pairs = []
            for line in raw.split(b"\r\n")[:-1]:
                name, _, value = line.partition(b":")
                pairs.append((name, value.strip(b" \t")))
            raw = self._raw = tuple(pairs)
        return raw  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return (f"<ResponseHead HTTP/{self.version[0]}.{self.version[1]} {self.status} {self.reason!r} "
                f"headers={list(self.headers.items())!r} keep_alive={self.keep_alive} chunked={self.chunked} "
                f"content_length={self.content_length} upgrade={self.upgrade}>")


class MessageEnd:
    """The end of one response, with its trailers (empty when there were none)."""

    __slots__ = ("trailers", "raw_trailers")

    def __init__(self, trailers: CIMultiDictProxy[str], raw_trailers: tuple[tuple[bytes, bytes], ...]) -> None:
        self.trailers = trailers
        self.raw_trailers = raw_trailers

    def __repr__(self) -> str:
        return f"<MessageEnd trailers={list(self.trailers.items())!r}>"


# Immutable, so one instance serves every message without trailers.
_END = MessageEnd(_EMPTY_MAP, ())


def _connection_tokens(values: list[str] | None) -> tuple[bool, bool]:
    """(close, keep-alive) from the Connection fields (comma lists, OWS, ASCII case).

    Tokens are ASCII (RFC 9110 §5.6.2): str.lower() would also fold non-ASCII
    look-alikes ("\u212a", KELVIN SIGN, lowers to "k"), which the C twin's byte
    compare never matches, so a token that is not ASCII is no token here.
    """
    close = keep = False
    if values:
        for value in values:
            for token in value.split(","):
                token = token.strip(" \t")
                if not token.isascii():
                    continue
                token = token.lower()
                if token == "close":
                    close = True
                elif token == "keep-alive":
                    keep = True
    return close, keep


def _finish_head(self: ResponseParser, events: list[Any]) -> None:
    """The empty line ended the head: judge the fields in wire order, then deliver."""
    strict = self._strict
    seen: set[str] = set()
    length: int | None = None
    length_seen = te_seen = chunked_seen = False
    last_coding = b""
    for f in self._fields:
        lname = f.name.lower()
        if strict:
            _check_singleton(self, f, lname, seen)
        if lname == b"content-length":
            if f.fold_off >= 0:
                raise BadContentLength(msg.CL_FOLDED, f.fold_off, f.fold_byte)
            length = _content_length(f, length, strict)
            if te_seen:
                raise BadTransferEncoding(msg.CL_AFTER_TE, f.name_off, f.name[0])
            length_seen = True
        elif lname == b"transfer-encoding":
            if f.fold_off >= 0:
                raise BadTransferEncoding(msg.TE_FOLDED, f.fold_off, f.fold_byte)
            chunked_seen, last = _codings(f, chunked_seen)
            if length_seen:
                raise BadTransferEncoding(msg.TE_AFTER_CL, f.name_off, f.name[0])
            te_seen = True
            last_coding = last
    raw = tuple((f.name, f.value) for f in self._fields)
    md = CIMultiDict([(_name(self._learned, f.name), _text(f.value)) for f in self._fields])
    close, keep = _connection_tokens(md.getall("Connection", None))
    chunked = te_seen and last_coding == b"chunked"
    if te_seen and not chunked:
        length = -1  # read until close, whatever else was declared
    self._fields = []
    _deliver_head(self, CIMultiDictProxy(md), raw, length, chunked, close, keep, events)


def _check_singleton(self: ResponseParser, f: _Field, lname: bytes, seen: set[str]) -> None:
    key = lname.decode("ascii")
    if key in SINGLETON_HEADERS:
        if key in seen:
            raise InvalidHeader(msg.REPEATED_SINGLETON.format(f.name.decode("ascii")), f.name_off, f.name[0])
        seen.add(key)


def _deliver_head(self: ResponseParser, headers: CIMultiDictProxy[str], raw: Any, length: int | None,
                  chunked: bool, close: bool, keep: bool, events: list[Any]) -> None:
    """Apply RFC 9112 §6.3 framing in the documented order and emit the head."""
    status = self._status
    version = self._version
    until_close = length == -1
    declared = None if until_close else length
    if version == (1, 0):
        keep_alive = keep and not close
    else:
        keep_alive = not close
    method = self._method
    upgrade = status == 101 or (method == "CONNECT" and 200 <= status < 300)
    no_body = method == "HEAD" or status < 200 or status == 204 or status == 304
    if no_body or upgrade:
        chunked = False
    elif chunked:
        if version == (1, 0):
            keep_alive = False
    elif length is None or until_close:
        keep_alive = False
    events.append(ResponseHead(version, status, self._reason, headers, raw,
                               keep_alive, chunked, declared, upgrade))
    self._keep_alive = keep_alive
    self._expected = declared
    self._received = 0
    if upgrade:  # the connection now carries another protocol
        events.append(_END)
        self._upgraded = True
        self._done = True
        self._state = _DONE
    elif no_body:
        events.append(_END)
        if status < 200:  # interim: the final response follows
            self._reset_message()
            self._state = _HEAD
        else:
            _finish(self)
    elif chunked:
        self._state = _CHUNK_SIZE
    elif length is None or until_close:
        self._state = _BODY_EOF
    elif length == 0:
        _end_message(self, _END, events)
    else:
        self._remaining = length
        self._state = _BODY_LENGTH


def _end_message(self: ResponseParser, end: MessageEnd, events: list[Any]) -> None:
    events.append(end)
    _finish(self)


def _finish(self: ResponseParser) -> None:
    if self._keep_alive:
        self._reset_message()
        self._state = _HEAD
    else:
        self._done = True
        self._state = _DONE


def _finish_trailers(self: ResponseParser, events: list[Any]) -> None:
    fields = self._fields
    if not fields:
        _end_message(self, _END, events)
        return
    if self._strict:
        seen: set[str] = set()
        for f in fields:
            _check_singleton(self, f, f.name.lower(), seen)
    raw = tuple((f.name, f.value) for f in fields)
    md = CIMultiDict([(_name(self._learned, f.name), _text(f.value)) for f in fields])
    self._fields = []
    _end_message(self, MessageEnd(CIMultiDictProxy(md), raw), events)


def _content_length(f: _Field, length: int | None, strict: bool) -> int:
    """RFC 9110 §8.6: Content-Length = 1*DIGIT, at most 2**63-1; returns the length.

    ``length`` is the value of the Content-Length fields before this one (None if
    none).  A list of values ("4, 4": a repeated field combined upstream) is read as
    ``1*DIGIT *( OWS "," OWS 1*DIGIT )``, the value checked whole first; then each
    value in wire order must equal the first one (as a number), and in strict mode
    there must be only one (docs/parser.md, Framing).
    """
    value = f.value
    n = len(value)
    if not n:
        raise BadContentLength(msg.CL_EMPTY, f.value_off, f.value_byte)
    off = f.value_off
    starts = []  # (where each value starts, the value)
    i = comma = 0
    while True:
        start = i
        total = 0
        while i < n and value[i] in _DIGIT:
            total = total * 10 + value[i] - 0x30
            if total > MAX_LENGTH:
                raise BadContentLength(msg.CL_TOO_LARGE, off + i, value[i])
            i += 1
        if i == start:  # a value expected; at the end of the value, the trailing comma is at fault
            at = i if i < n else comma
            raise BadContentLength(msg.CL_NOT_DIGITS, off + at, value[at])
        starts.append((start, total))
        while i < n and value[i] in b" \t":
            i += 1
        if i == n:
            break
        if value[i] != 0x2C:  # ","
            raise BadContentLength(msg.CL_NOT_DIGITS, off + i, value[i])
        comma = i
        i += 1
        while i < n and value[i] in b" \t":
            i += 1
    for start, total in starts:
        if length is not None:
            if total != length:
                raise BadContentLength(msg.CL_CONFLICT, off + start, value[start])
            if strict:
                raise BadContentLength(msg.CL_REPEATED, off + start, value[start])
        length = total
    assert length is not None
    return length


def _codings(f: _Field, chunked_seen: bool) -> tuple[bool, bytes]:
    """RFC 9112 §6.1 / RFC 9110 §5.6.1: a list of transfer codings; returns the last one."""
    value = f.value
    n = len(value)
    last = b""
    any_element = False
    i = 0
    while i <= n:
        comma = value.find(b",", i)
        if comma < 0:
            comma = n
        j = i
        while j < comma and value[j] in b" \t":
            j += 1
        if j < comma:
            any_element = True
            k = j
            while k < comma and value[k] in _TCHAR:
                k += 1
            if k == j:
                raise BadTransferEncoding(msg.TE_NOT_TOKEN, f.value_off + j, value[j])
            q = k
            while q < comma and value[q] in b" \t":
                q += 1
            if q < comma and value[q] != 0x3B:  # ";" starts parameters
                raise BadTransferEncoding(msg.TE_NOT_TOKEN, f.value_off + q, value[q])
            last = value[j:k].lower()
            if last == b"chunked":
                if chunked_seen:
                    raise BadTransferEncoding(msg.TE_CHUNKED_TWICE, f.value_off + j, value[j])
                chunked_seen = True
        i = comma + 1
    if not any_element:
        raise BadTransferEncoding(msg.TE_EMPTY, f.value_off, f.value_byte)
    return chunked_seen, last

