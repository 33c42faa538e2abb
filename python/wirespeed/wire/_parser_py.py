"""The pure-Python twin of the HTTP/1.x response parser (contract: docs/parser.md).

Strategy.  The parser is a small state machine over the stream.  Bodies are never
scanned: a Content-Length body, chunk data and a read-until-close body leave as
``memoryview`` slices of the object given to :meth:`ResponseParser.feed`.

Everything else is read as lines, and there are two ways through a head:

- the fast path: when a whole head sits in one ``feed()`` buffer, uses CRLF line ends
  and nothing the lenient mode has to forgive, one regular expression validates it
  and a split builds it.  Anything unusual (or strict mode) takes the slow path from
  the same position, so the fast path never decides an error;
- the slow path: line by line, keeping only the current partial line between calls.
  Each line is judged in the order docs/parser.md prescribes (kind at its first byte,
  limits at the first byte past them, syntax once its LF has arrived, field semantics
  when the section is complete), which is what makes every split of the input give
  the same events and the same error at the same offset.

Errors are typed (``wirespeed.errors``) and carry the offset counted from the first
byte ever fed.  An error found after events were completed in the same call is kept
and raised by the next call.
"""

from __future__ import annotations

import operator
import re
import sys
from typing import Any, Callable

from multidict import CIMultiDict, CIMultiDictProxy, istr

from . import _messages as msg
from ._constants import MAX_FIELD_SIZE, MAX_HEADERS, MAX_LINE_SIZE, SINGLETON_HEADERS
from ..errors import (
    BadChunk,
    BadContentLength,
    BadStatusLine,
    BadTransferEncoding,
    HttpParserError,
    IncompleteMessage,
    InvalidHeader,
    InvalidLineEnding,
    LineTooLong,
    TooManyHeaders,
)

__all__ = ["ResponseParser", "ResponseHead", "MessageEnd"]

#: Largest Content-Length or chunk size accepted (docs/parser.md: 2**63-1).
MAX_LENGTH = 2**63 - 1

# RFC 9110 §5.6.2: tchar.
_TCHAR_CLASS = rb"!#$%&'*+\-.^_`|~0-9A-Za-z"
_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_HEXDIG = frozenset(b"0123456789abcdefABCDEF")
_DIGIT = frozenset(b"0123456789")
# field-value bytes (RFC 9110 §5.5): VCHAR, obs-text, SP, HTAB; lenient adds the
# controls other than NUL, CR and LF.
_STRICT_VALUE = frozenset(range(0x20, 0x7F)) | frozenset(range(0x80, 0x100)) | {0x09}
_LENIENT_VALUE = frozenset(range(0x100)) - {0x00, 0x0D, 0x0A}
# RFC 9110 §5.6.4 qdtext and quoted-pair bytes.
_QDTEXT = frozenset({0x09, 0x20, 0x21}) | frozenset(range(0x23, 0x5C)) | frozenset(range(0x5D, 0x7F)) | frozenset(range(0x80, 0x100))
_QPAIR = frozenset({0x09, 0x20}) | frozenset(range(0x21, 0x7F)) | frozenset(range(0x80, 0x100))
_CR, _LF, _SP, _HT = 0x0D, 0x0A, 0x20, 0x09

# The fast path: a whole head with CRLF line ends and nothing lenient mode forgives.
_FAST_HEAD = re.compile(
    rb"HTTP/1\.([01]) ([1-9][0-9][0-9])(?: ([\t\x20-\x7e\x80-\xff]*))?\r\n"
    rb"((?:[" + _TCHAR_CLASS + rb"]+:[\t\x20-\x7e\x80-\xff]*\r\n)*)"
)
# Status line content (line end removed), RFC 9112 §4.
_STATUS_LENIENT = re.compile(rb"HTTP/1\.([0-9]) ([1-9][0-9][0-9])(?: ([^\x00\r\n]*))?")
_STATUS_STRICT = re.compile(rb"HTTP/1\.([01]) ([1-9][0-9][0-9])(?: ([\t\x20-\x7e\x80-\xff]*))?")
_FIELD_NAME = re.compile(rb"[" + _TCHAR_CLASS + rb"]+:")
_CHUNK_SIMPLE = re.compile(rb"([0-9A-Fa-f]{1,15})\r\n")

_VERSIONS = {b"0": (1, 0), b"1": (1, 1)}
_EMPTY_MAP: CIMultiDictProxy[str] = CIMultiDictProxy(CIMultiDict())

# Header names as spelled on the wire -> istr, so CIMultiDict skips folding their case.
_COMMON_NAMES = (
    "Date Server Content-Type Content-Length Connection Cache-Control Vary ETag Expires "
    "Last-Modified Location Set-Cookie Transfer-Encoding Content-Encoding Keep-Alive Age "
    "Accept-Ranges Access-Control-Allow-Origin Strict-Transport-Security X-Frame-Options "
    "X-Content-Type-Options X-Request-Id Content-Security-Policy Referrer-Policy Via Pragma "
    "Alt-Svc X-Cache Upgrade Link Content-Disposition Content-Language Trailer "
    "Access-Control-Allow-Credentials Access-Control-Allow-Headers Access-Control-Allow-Methods "
    "Access-Control-Expose-Headers X-XSS-Protection WWW-Authenticate Retry-After Content-Range"
).split()
_NAMES: dict[str, istr] = {}
for _n in _COMMON_NAMES:
    for _spelling in (_n, _n.lower()):
        _NAMES[_spelling] = istr(_spelling)
#: Names learnt at run time stop being cached past this many (a peer must not grow it).
_NAME_CACHE_MAX = 512

# Parser states.
_HEAD, _BODY_LENGTH, _BODY_EOF, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILERS, _DONE = range(8)


class ResponseHead:
    """The head of one response (docs/parser.md, Events)."""

    __slots__ = (
        "version", "status", "reason", "headers", "_raw",
        "keep_alive", "chunked", "content_length", "upgrade",
    )

    def __init__(self, version: tuple[int, int], status: int, reason: str,
                 headers: CIMultiDictProxy[str], raw: Any, keep_alive: bool,
                 chunked: bool, content_length: int | None, upgrade: bool) -> None:
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self._raw = raw  # a tuple of pairs, or the CRLF-terminated field block (fast path)
        self.keep_alive = keep_alive
        self.chunked = chunked
        self.content_length = content_length
        self.upgrade = upgrade

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


def _limit(name: str, value: Any) -> int:
    """A size limit as an int in 0..sys.maxsize (the C twin stores a Py_ssize_t)."""
    limit: int = operator.index(value)
    if limit < 0:
        raise ValueError(msg.ARG_LIMIT_NEGATIVE.format(name))
    if limit > sys.maxsize:
        raise OverflowError(msg.ARG_LIMIT_TOO_LARGE.format(name))
    return limit


def _byte_view(data: Any) -> memoryview:
    """``data`` as a flat memoryview of bytes over the same object (no copy)."""
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError(msg.ARG_NOT_BYTES.format(type(data).__name__)) from None
    if not view.c_contiguous:
        raise BufferError(msg.ARG_NOT_CONTIGUOUS)
    return view.cast("B")


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _name(raw: bytes) -> str:
    text = raw.decode("ascii")  # a token: ASCII only
    cached = _NAMES.get(text)
    if cached is not None:
        return cached
    if len(_NAMES) < _NAME_CACHE_MAX:
        cached = _NAMES[text] = istr(text)
        return cached
    return text


def _connection_tokens(values: list[str] | None) -> tuple[bool, bool]:
    """(close, keep-alive) from the Connection fields (comma lists, OWS, any case)."""
    close = keep = False
    if values:
        for value in values:
            for token in value.split(","):
                token = token.strip(" \t").lower()
                if token == "close":
                    close = True
                elif token == "keep-alive":
                    keep = True
    return close, keep


class _Field:
    """One field as the slow path records it, with the offsets its errors need."""

    __slots__ = ("name", "value", "name_off", "value_off", "value_byte", "fold_off", "fold_byte")

    def __init__(self, name: bytes, value: bytes, name_off: int, value_off: int, value_byte: int) -> None:
        self.name = name
        self.value = value
        self.name_off = name_off
        self.value_off = value_off    # first byte after the colon and OWS (the line end if empty)
        self.value_byte = value_byte  # the byte there
        self.fold_off = -1            # first byte of the first continuation line, -1 when unfolded
        self.fold_byte = 0


class ResponseParser:
    """Incremental HTTP/1.x response parser; see docs/parser.md for the contract."""

    def __init__(self, method: str = "GET", *, strict: bool = False,
                 max_line_size: int = MAX_LINE_SIZE, max_field_size: int = MAX_FIELD_SIZE,
                 max_headers: int = MAX_HEADERS) -> None:
        self.method = method
        self._strict = bool(strict)
        self._max_line = max_line_size = _limit("max_line_size", max_line_size)
        self._max_field = max_field_size = _limit("max_field_size", max_field_size)
        self._max_headers = _limit("max_headers", max_headers)
        # a head no longer than this cannot hold a line over either limit
        self._fast_max = min(max_line_size, max_field_size)
        self._value_ok = _STRICT_VALUE if strict else _LENIENT_VALUE
        self._error: HttpParserError | None = None
        self._done = False
        self._unconsumed = bytearray()  # appended to by every feed() once done
        self._fed = 0              # bytes fed so far: the offset of the next byte
        self._state = _HEAD
        self._pending = bytearray()  # the current partial line (line states only)
        self._pending_off = 0
        self._pending_raw_cap = max(max_line_size, max_field_size) + 2
        self._field_raw = bytearray()  # the lines of the field being read (slow path)
        self._version = (1, 1)
        self._status = 0
        self._reason = ""
        self._reset_message()

    def _reset_message(self) -> None:
        self._status_seen = False   # the status line of this message has been read
        self._fields: list[_Field] = []
        self._nfields = 0           # header plus trailer fields of this message
        self._remaining = 0
        self._received = 0
        self._expected: int | None = None
        self._keep_alive = True
        self._crlf = 0

    # -- public surface ---------------------------------------------------------------

    @property
    def method(self) -> str:
        """The request method the next response answers (compared exactly)."""
        return self._method

    @method.setter
    def method(self, value: str) -> None:
        # bytes here would silently never equal "HEAD": the client would wait for a body.
        if not isinstance(value, str):
            raise TypeError(msg.ARG_METHOD_NOT_STR.format(type(value).__name__))
        self._method = value

    @property
    def done(self) -> bool:
        return self._done

    @property
    def unconsumed(self) -> bytes:
        return bytes(self._unconsumed)

    @property
    def error(self) -> HttpParserError | None:
        return self._error

    def feed(self, data: bytes | bytearray | memoryview) -> list[Any]:
        if self._error is not None:
            raise self._error
        if type(data) is not bytes and type(data) is not bytearray:
            data = _byte_view(data)
        n = len(data)
        if self._done:
            self._fed += n
            self._unconsumed += data
            return []
        base = self._fed
        self._fed = base + n
        events: list[Any] = []
        try:
            pos = self._run(data, n, base, events)
            if pos < n:  # done before the end of this buffer
                self._unconsumed += data[pos:]
        except HttpParserError as exc:
            self._error = exc
            self._state = _DONE
            if events:
                return events
            raise
        return events

    def feed_eof(self) -> list[Any]:
        if self._error is not None:
            raise self._error
        if self._done:
            return []
        state = self._state
        self._done = True
        if state == _BODY_EOF:
            self._state = _DONE
            return [_END]
        if state == _HEAD and not self._status_seen and bytes(self._pending) in (b"", b"\r"):
            self._state = _DONE
            return []
        self._error = IncompleteMessage(
            _EOF_MESSAGES[state],
            self._fed, None, self._received, self._expected)
        self._state = _DONE
        raise self._error

    # -- the machine ---------------------------------------------------------------

    def _run(self, data: Any, n: int, base: int, events: list[Any]) -> int:
        pos = 0
        view = None
        while pos < n:
            state = self._state
            if state == _HEAD:
                if not self._pending and not self._status_seen and not self._strict:
                    new = self._fast_head(data, pos, base, events)
                    if new >= 0:
                        pos = new
                        continue
                pos = self._lines(data, pos, n, base, events)
            elif state == _BODY_LENGTH or state == _CHUNK_DATA:
                take = n - pos
                rem = self._remaining
                if take > rem:
                    take = rem
                if view is None:
                    view = data if type(data) is memoryview else memoryview(data)
                events.append(view[pos:pos + take])
                pos += take
                self._received += take
                rem -= take
                self._remaining = rem
                if rem == 0:
                    if state == _BODY_LENGTH:
                        self._end_message(_END, events)
                    else:
                        self._state = _CHUNK_CRLF
                        self._crlf = 0
            elif state == _BODY_EOF:
                if view is None:
                    view = data if type(data) is memoryview else memoryview(data)
                events.append(view[pos:n])
                self._received += n - pos
                pos = n
            elif state == _CHUNK_CRLF:
                # RFC 9112 §7.1: chunk-data is followed by exactly CRLF, in both modes.
                if not self._crlf and data[pos:pos + 2] == b"\r\n":
                    pos += 2
                    self._state = _CHUNK_SIZE
                    continue
                byte = data[pos]
                want = _LF if self._crlf else _CR
                if byte != want:
                    raise BadChunk(msg.CHUNK_DATA_CRLF, base + pos, byte)
                pos += 1
                if self._crlf:
                    self._state = _CHUNK_SIZE
                else:
                    self._crlf = 1
            elif state == _CHUNK_SIZE and not self._pending and type(data) is not memoryview:
                # the common chunk-size line, whole in this buffer: no line machinery
                lf = data.find(b"\n", pos)
                m = _CHUNK_SIMPLE.fullmatch(data, pos, lf + 1) if lf >= 0 and lf - pos <= self._max_line else None
                if m is None:
                    pos = self._lines(data, pos, n, base, events)
                    continue
                size = int(m.group(1), 16)
                pos = lf + 1
                if size:
                    self._remaining = size
                    self._state = _CHUNK_DATA
                else:
                    self._state = _TRAILERS
                    self._fields = []
                    if data[pos:pos + 2] == b"\r\n":  # no trailers: the message ends here
                        pos += 2
                        self._end_message(_END, events)
            elif state == _CHUNK_SIZE or state == _TRAILERS:
                pos = self._lines(data, pos, n, base, events)
            else:  # _DONE
                return pos
        return pos

    def _lines(self, data: Any, pos: int, n: int, base: int, events: list[Any]) -> int:
        """Feed complete lines to the line handler; keep a trailing partial line."""
        find: Callable[[bytes, int], int]
        if type(data) is memoryview:
            def find(sub: bytes, start: int) -> int:
                m = _LF_RE.search(data, start)
                return -1 if m is None else m.start()
        else:
            find = data.find
        state = self._state
        while True:
            lf = find(b"\n", pos)
            if lf < 0:
                if pos >= n:
                    return n
                if not self._pending:
                    self._pending_off = base + pos
                room = self._pending_raw_cap - len(self._pending)
                self._pending += data[pos:n if n - pos <= room else pos + room]
                self._partial(self._pending, self._pending_off)
                return n
            if self._pending:
                self._pending += data[pos:lf + 1]
                line = bytes(self._pending)
                off = self._pending_off
                self._pending.clear()
            else:
                line = data[pos:lf + 1]
                if type(line) is not bytes:
                    line = bytes(line)
                off = base + pos
            pos = lf + 1
            if state == _HEAD:
                self._head_line(line, off, events)
            elif state == _CHUNK_SIZE:
                self._chunk_size_line(line, off, events)
            else:
                self._trailer_line(line, off, events)
            if self._state != state:
                return pos
            if self._done:
                return pos

    # -- line kinds and limits, judged as soon as the bytes allow (docs/parser.md) ----

    def _partial(self, line: bytearray, off: int) -> None:
        """Checks on an incomplete line: its kind by its first byte, and its limit."""
        state = self._state
        first = line[0]
        # a CR not (yet) known to start a line end does not count as content
        known = len(line) - 1 if line[-1] == _CR else len(line)
        if state == _CHUNK_SIZE:
            if known > self._max_line:
                raise LineTooLong(msg.CHUNK_LINE_TOO_LONG.format(self._max_line), off + self._max_line,
                                  line[self._max_line])
            return
        if state == _HEAD and not self._status_seen:
            if first == _CR:
                if self._strict:
                    raise BadStatusLine(msg.EMPTY_LINE_BEFORE_STATUS, off, first)
                if len(line) > 1:
                    raise BadStatusLine(msg.BARE_CR_BEFORE_STATUS, off, first)
                return
            if known > self._max_line:
                raise LineTooLong(msg.STATUS_LINE_TOO_LONG.format(self._max_line), off + self._max_line,
                              line[self._max_line])
            return
        if first == _CR:
            if len(line) > 1:
                raise InvalidHeader(msg.BARE_CR_AT_LINE_START, off, first)
            return
        if first == _SP or first == _HT:
            field = self._continuation_target(off, first)
            size = off - field.name_off + known
            if size > self._max_field:
                raise LineTooLong(msg.FIELD_TOO_LONG.format(self._max_field), field.name_off + self._max_field,
                                  self._field_byte(field, self._max_field, line, off))
            return
        if self._nfields + 1 > self._max_headers:
            raise TooManyHeaders(msg.TOO_MANY_FIELDS.format(self._max_headers), off, first)
        if known > self._max_field:
            raise LineTooLong(msg.FIELD_TOO_LONG.format(self._max_field), off + self._max_field, line[self._max_field])

    def _continuation_target(self, off: int, first: int) -> _Field:
        if not self._fields:
            raise InvalidHeader(msg.WHITESPACE_BEFORE_FIELD, off, first)
        if self._strict:
            raise InvalidHeader(msg.OBS_FOLD, off, first)
        return self._fields[-1]

    def _field_byte(self, field: _Field, index: int, line: bytes | bytearray, line_off: int) -> int:
        """The byte ``index`` bytes into a folded field, which may lie in an earlier line."""
        pos = field.name_off + index
        if pos >= line_off:
            return line[pos - line_off]
        return self._field_raw[pos - field.name_off]

    # -- the head ---------------------------------------------------------------------

    def _head_line(self, line: bytes, off: int, events: list[Any]) -> None:
        if not self._status_seen:
            self._status_line(line, off)
            return
        self._field_line(line, off, events, head=True)

    def _status_line(self, line: bytes, off: int) -> None:
        first = line[0]
        if first == _CR or first == _LF:
            if self._strict:
                raise BadStatusLine(msg.EMPTY_LINE_BEFORE_STATUS, off, first)
            if line == b"\r\n" or line == b"\n":
                return  # RFC 9112 §2.2: a leading empty line may be ignored
            raise BadStatusLine(msg.BARE_CR_BEFORE_STATUS, off, first)
        content = line[:-2] if line[-2:] == b"\r\n" else line[:-1]
        if len(content) > self._max_line:
            raise LineTooLong(msg.STATUS_LINE_TOO_LONG.format(self._max_line), off + self._max_line,
                              line[self._max_line])
        m = (_STATUS_STRICT if self._strict else _STATUS_LENIENT).fullmatch(content)
        if m is None:
            at, why = _status_error(content, self._strict)
            raise BadStatusLine(why, off + at, line[at])
        self._line_end(line, off, content, msg.STATUS_BARE_LF)
        minor, status, reason = m.groups()
        self._version = _VERSIONS.get(minor) or (1, int(minor))
        self._status = int(status)
        self._reason = _text(reason) if reason else ""
        self._status_seen = True
        self._fields = []

    def _line_end(self, line: bytes, off: int, content: bytes, why: str) -> None:
        if self._strict and len(line) == len(content) + 1:
            raise InvalidLineEnding(why, off + len(content), _LF)

    def _field_line(self, line: bytes, off: int, events: list[Any], head: bool) -> None:
        first = line[0]
        if first == _LF or line == b"\r\n":
            if first == _LF and self._strict:
                raise InvalidLineEnding(msg.EMPTY_LINE_BARE_LF, off, _LF)
            if head:
                self._finish_head(events)
            else:
                self._finish_trailers(events)
            return
        if first == _CR:
            raise InvalidHeader(msg.BARE_CR_AT_LINE_START, off, first)
        content = line[:-2] if line[-2:] == b"\r\n" else line[:-1]
        if first == _SP or first == _HT:
            field = self._continuation_target(off, first)
            size = off - field.name_off + len(content)
            if size > self._max_field:
                raise LineTooLong(msg.FIELD_TOO_LONG.format(self._max_field), field.name_off + self._max_field,
                                  self._field_byte(field, self._max_field, line, off))
            bad = _first_bad(content, 1, self._value_ok)
            if bad >= 0:
                raise InvalidHeader(msg.FIELD_VALUE_BYTE, off + bad, content[bad])
            self._line_end(line, off, content, msg.FIELD_BARE_LF)
            piece = content.strip(b" \t")
            if piece:
                field.value = field.value + b" " + piece if field.value else piece
            if field.fold_off < 0:
                field.fold_off = off
                field.fold_byte = first
            self._field_raw += line
            return
        if self._nfields + 1 > self._max_headers:
            raise TooManyHeaders(msg.TOO_MANY_FIELDS.format(self._max_headers), off, first)
        if len(content) > self._max_field:
            raise LineTooLong(msg.FIELD_TOO_LONG.format(self._max_field), off + self._max_field, line[self._max_field])
        m = _FIELD_NAME.match(content)
        if m is None:
            at = 0
            while at < len(content) and content[at] in _TCHAR:
                at += 1
            if at == len(content):
                why = msg.FIELD_NO_COLON
            elif at == 0 and content[0] == 0x3A:  # ":"
                why = msg.FIELD_NAME_EMPTY
            else:
                why = msg.FIELD_NAME_BYTE
            raise InvalidHeader(why, off + at, line[at])
        start = m.end()
        bad = _first_bad(content, start, self._value_ok)
        if bad >= 0:
            raise InvalidHeader(msg.FIELD_VALUE_BYTE, off + bad, content[bad])
        self._line_end(line, off, content, msg.FIELD_BARE_LF)
        value = content[start:]
        stripped = value.lstrip(b" \t")
        value_off = off + start + len(value) - len(stripped)
        self._nfields += 1
        self._fields.append(_Field(content[:start - 1], stripped.rstrip(b" \t"), off, value_off,
                                   line[value_off - off]))
        self._field_raw = bytearray(line)

    def _fast_head(self, data: Any, pos: int, base: int, events: list[Any]) -> int:
        """A whole, plain head in this buffer: build it in one go, or return -1."""
        if type(data) is memoryview:
            m = _HEAD_END_RE.search(data, pos)
            end = -1 if m is None else m.start()
        else:
            end = data.find(b"\r\n\r\n", pos)
        if end < 0:
            return -1
        block = data[pos:end + 2]
        if type(block) is not bytes:
            block = bytes(block)
        if end + 4 - pos > self._fast_max and max(map(len, block.split(b"\r\n"))) > self._fast_max:
            return -1  # some line may be over its limit: the slow path says which
        m = _FAST_HEAD.fullmatch(block)
        if m is None:
            return -1
        minor, status, reason, fields = m.groups()
        nfields = fields.count(b"\r\n")
        if nfields > self._max_headers:
            return -1
        pairs = []
        names = _NAMES
        for line in fields.decode("utf-8", "surrogateescape").split("\r\n")[:-1]:
            name, _, value = line.partition(":")
            pairs.append((names.get(name) or name, value.strip(" \t")))
        md = CIMultiDict(pairs)
        length = None
        chunked = False
        lengths = md.getall("Content-Length", None)
        codings = md.getall("Transfer-Encoding", None)
        if codings is not None:
            if lengths is not None or len(codings) != 1 or codings[0].lower() != "chunked":
                return -1  # conflicts, lists and other codings: the slow path judges them
            chunked = True
        elif lengths is not None:
            value = lengths[0]
            if len(value) > 18 or not value.isdigit() or not value.isascii():
                return -1
            for other in lengths:
                if other != value:
                    return -1
            length = int(value)
        self._nfields = nfields
        self._version = _VERSIONS[minor]
        self._status = int(status)
        self._reason = _text(reason) if reason else ""
        close, keep = _connection_tokens(md.getall("Connection", None))
        self._deliver_head(CIMultiDictProxy(md), fields, length, chunked, close, keep, events)
        return end + 4

    def _finish_head(self, events: list[Any]) -> None:
        """The empty line ended the head: judge the fields in wire order, then deliver."""
        strict = self._strict
        seen: set[str] = set()
        length: int | None = None
        length_seen = te_seen = chunked_seen = False
        last_coding = b""
        for f in self._fields:
            lname = f.name.lower()
            if strict:
                self._check_singleton(f, lname, seen)
            if lname == b"content-length":
                if f.fold_off >= 0:
                    raise BadContentLength(msg.CL_FOLDED, f.fold_off, f.fold_byte)
                value = _content_length(f)
                if length is not None and value != length:
                    raise BadContentLength(msg.CL_CONFLICT, f.value_off, f.value[0])
                if te_seen:
                    raise BadTransferEncoding(msg.CL_AFTER_TE, f.name_off, f.name[0])
                length = value
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
        md = CIMultiDict([(_name(f.name), _text(f.value)) for f in self._fields])
        close, keep = _connection_tokens(md.getall("Connection", None))
        chunked = te_seen and last_coding == b"chunked"
        if te_seen and not chunked:
            length = -1  # read until close, whatever else was declared
        self._fields = []
        self._deliver_head(CIMultiDictProxy(md), raw, length, chunked, close, keep, events)

    def _check_singleton(self, f: _Field, lname: bytes, seen: set[str]) -> None:
        key = lname.decode("ascii")
        if key in SINGLETON_HEADERS:
            if key in seen:
                raise InvalidHeader(msg.REPEATED_SINGLETON.format(f.name.decode("ascii")), f.name_off, f.name[0])
            seen.add(key)

    def _deliver_head(self, headers: CIMultiDictProxy[str], raw: Any, length: int | None,
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
            self._done = True
            self._state = _DONE
        elif no_body:
            events.append(_END)
            if status < 200:  # interim: the final response follows
                self._reset_message()
                self._state = _HEAD
            else:
                self._finish()
        elif chunked:
            self._state = _CHUNK_SIZE
        elif length is None or until_close:
            self._state = _BODY_EOF
        elif length == 0:
            self._end_message(_END, events)
        else:
            self._remaining = length
            self._state = _BODY_LENGTH

    def _end_message(self, end: MessageEnd, events: list[Any]) -> None:
        events.append(end)
        self._finish()

    def _finish(self) -> None:
        if self._keep_alive:
            self._reset_message()
            self._state = _HEAD
        else:
            self._done = True
            self._state = _DONE

    # -- chunked (RFC 9112 §7.1) -------------------------------------------------------

    def _chunk_size_line(self, line: bytes, off: int, events: list[Any]) -> None:
        m = _CHUNK_SIMPLE.fullmatch(line)
        if m is not None and len(line) - 2 <= self._max_line:
            size = int(m.group(1), 16)
        else:
            crlf = line[-2:] == b"\r\n"
            content = line[:-2] if crlf else line[:-1]
            if len(content) > self._max_line:
                raise LineTooLong(msg.CHUNK_LINE_TOO_LONG.format(self._max_line), off + self._max_line,
                                  line[self._max_line])
            size = _chunk_line(content, off, line)  # a bad byte comes before the bad line end
            if not crlf:  # framing: no lenient line ends here
                raise BadChunk(msg.CHUNK_BARE_LF, off + len(content), _LF)
        if size == 0:
            self._state = _TRAILERS
            self._fields = []
        else:
            self._remaining = size
            self._state = _CHUNK_DATA

    def _trailer_line(self, line: bytes, off: int, events: list[Any]) -> None:
        self._field_line(line, off, events, head=False)

    def _finish_trailers(self, events: list[Any]) -> None:
        fields = self._fields
        if not fields:
            self._end_message(_END, events)
            return
        if self._strict:
            seen: set[str] = set()
            for f in fields:
                self._check_singleton(f, f.name.lower(), seen)
        raw = tuple((f.name, f.value) for f in fields)
        md = CIMultiDict([(_name(f.name), _text(f.value)) for f in fields])
        self._fields = []
        self._end_message(MessageEnd(CIMultiDictProxy(md), raw), events)


_LF_RE = re.compile(b"\n")
_HEAD_END_RE = re.compile(b"\r\n\r\n")
# feed_eof() inside a message: what was cut short, by state (_BODY_EOF and _DONE never raise)
_EOF_MESSAGES = {
    _HEAD: msg.EOF_IN_HEAD, _BODY_LENGTH: msg.EOF_IN_BODY, _CHUNK_SIZE: msg.EOF_IN_CHUNKED,
    _CHUNK_DATA: msg.EOF_IN_CHUNKED, _CHUNK_CRLF: msg.EOF_IN_CHUNKED, _TRAILERS: msg.EOF_IN_TRAILERS,
}


def _first_bad(content: bytes, start: int, ok: frozenset[int]) -> int:
    """Index of the first byte from ``start`` not in ``ok``, or -1."""
    for i in range(start, len(content)):
        if content[i] not in ok:
            return i
    return -1


# Which part of the version each byte of "HTTP/1." is, for the message naming it.
_VERSION_PARTS = (msg.STATUS_NOT_HTTP,) * 5 + (msg.MAJOR_VERSION, msg.VERSION_DOT)


def _status_error(content: bytes, strict: bool) -> tuple[int, str]:
    """Index of the first byte of a status line that breaks RFC 9112 §4 (may be
    len(content)), and the message naming what is wrong there."""
    n = len(content)
    for i, want in enumerate(b"HTTP/1."):
        if i >= n or content[i] != want:
            return i, _VERSION_PARTS[i]
    if n <= 7 or content[7] not in _DIGIT:
        return 7, msg.MINOR_NOT_DIGIT
    if strict and content[7] not in b"01":
        return 7, msg.MINOR_VERSION
    if n <= 8 or content[8] != _SP:
        return 8, msg.SP_AFTER_VERSION
    if n <= 9 or content[9] not in b"123456789":
        return 9, msg.STATUS_CODE
    for i in (10, 11):
        if n <= i or content[i] not in _DIGIT:
            return i, msg.STATUS_CODE
    if n == 12 or content[12] != _SP:
        return 12, msg.STATUS_CODE  # n == 12 is not reached: a bare status matches
    ok = _STRICT_VALUE if strict else _LENIENT_VALUE
    bad = _first_bad(content, 13, ok)
    return (bad, msg.REASON_CONTROL) if bad >= 0 else (n, msg.REASON_CONTROL)


def _content_length(f: _Field) -> int:
    """RFC 9110 §8.6: Content-Length = 1*DIGIT, at most 2**63-1."""
    value = f.value
    if not value:
        raise BadContentLength(msg.CL_EMPTY, f.value_off, f.value_byte)
    total = 0
    for i, byte in enumerate(value):
        if byte not in _DIGIT:
            raise BadContentLength(msg.CL_NOT_DIGITS, f.value_off + i, byte)
        total = total * 10 + byte - 0x30
        if total > MAX_LENGTH:
            raise BadContentLength(msg.CL_TOO_LARGE, f.value_off + i, byte)
    return total


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


def _chunk_line(content: bytes, off: int, line: bytes) -> int:
    """chunk-size [ chunk-ext ] (RFC 9112 §7.1.1), CR removed; returns the size."""
    n = len(content)

    def fail(i: int, why: str) -> BadChunk:
        return BadChunk(why, off + i, line[i])

    size = 0
    i = 0
    while i < n and content[i] in _HEXDIG:
        size = size * 16 + int(content[i:i + 1], 16)
        if size > MAX_LENGTH:
            raise fail(i, msg.CHUNK_SIZE_TOO_LARGE)
        i += 1
    if i == 0:
        raise fail(0, msg.CHUNK_SIZE_NOT_HEX)
    if i < n and content[i] != 0x3B:
        raise fail(i, msg.CHUNK_SIZE_END)
    # chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    while i < n:
        while i < n and content[i] in b" \t":
            i += 1
        if i >= n or content[i] != 0x3B:
            raise fail(i, msg.CHUNK_EXT_END)
        i += 1
        while i < n and content[i] in b" \t":
            i += 1
        j = i
        while i < n and content[i] in _TCHAR:
            i += 1
        if i == j:
            raise fail(i, msg.CHUNK_EXT_NAME)
        k = i
        while k < n and content[k] in b" \t":
            k += 1
        if k < n and content[k] == 0x3D:  # "="
            i = k + 1
            while i < n and content[i] in b" \t":
                i += 1
            if i < n and content[i] == 0x22:  # quoted-string
                i += 1
                while True:
                    if i >= n:
                        raise fail(i, msg.CHUNK_EXT_UNCLOSED)
                    byte = content[i]
                    if byte == 0x22:
                        i += 1
                        break
                    if byte == 0x5C:
                        if i + 1 >= n:
                            raise fail(i + 1, msg.CHUNK_EXT_UNCLOSED)
                        if content[i + 1] not in _QPAIR:
                            raise fail(i + 1, msg.CHUNK_EXT_QUOTED_BYTE)
                        i += 2
                    elif byte in _QDTEXT:
                        i += 1
                    else:
                        raise fail(i, msg.CHUNK_EXT_QUOTED_BYTE)
            else:
                j = i
                while i < n and content[i] in _TCHAR:
                    i += 1
                if i == j:
                    raise fail(i, msg.CHUNK_EXT_VALUE)
    return size
