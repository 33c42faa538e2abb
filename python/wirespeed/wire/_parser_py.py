"""The pure-Python twin of the HTTP/1.x response parser (contract: docs/parser.md).

Twin of ``src/_parser.pyx``: the state machine and the public classes live here,
and this is the module the switch (``wirespeed.wire``) imports.  The rest is split
along the C twin's seams, one module per ``.pxi`` unit, named after it:

=============================  ===============================================
Python twin                    C twin
=============================  ===============================================
``_parser_py``                 ``src/_parser.pyx`` (state machine, classes)
``_parser_py_block``           ``src/_parser_block.pxi`` (scanning heads/fields)
``_parser_py_build``           ``src/_parser_build.pxi`` (objects, framing)
``_parser_py_chunk``           ``src/_parser_chunk.pxi`` (chunk-size lines)
``_parser_py_tables``          ``src/_parser_tables.pxi`` (byte classes, names)
=============================  ===============================================

(``src/_parser_multidict.pxi``, the C twin's recycling of the pairs it fills a
CIMultiDict with, has no Python twin: the Python twin builds a plain list.)

Strategy.  The parser is a small state machine over the stream.  Bodies are never
scanned: a Content-Length body, chunk data and a read-until-close body leave as
``memoryview`` slices of the object given to :meth:`ResponseParser.feed`.
Everything else is read as lines (``_parser_py_block``), judged as soon as the bytes
allow, which is what makes every split of the input give the same events and the
same error at the same offset.

Errors are typed (``wirespeed.errors``) and carry the offset counted from the first
byte ever fed.  An error found after events were completed in the same call is kept
and raised by the next call.
"""

from __future__ import annotations

import operator
import sys
import threading
from threading import get_ident
from typing import Any

from ..errors import BadChunk, BadStatusLine, HttpParserError, IncompleteMessage, LineTooLong
from . import _messages as msg
from ._constants import MAX_FIELD_SIZE, MAX_HEADERS, MAX_LINE_SIZE, MAX_UNCONSUMED
from ._parser_py_block import _fast_head, _lines
from ._parser_py_build import _END, MessageEnd, ResponseHead, _end_message
from ._parser_py_tables import (
    _BODY_EOF,
    _BODY_LENGTH,
    _CHUNK_CRLF,
    _CHUNK_DATA,
    _CHUNK_SIMPLE,
    _CHUNK_SIZE,
    _CR,
    _CR_CR,
    _DONE,
    _HEAD,
    _LENIENT_VALUE,
    _LF,
    _LINE_ENDS,
    _STRICT_VALUE,
    _TRAILERS,
    _Field,
)

__all__ = ["ResponseParser", "ResponseHead", "MessageEnd"]

#: Taken once per parser, by the first feed() (one thread per parser: docs/parser.md).
_CLAIM = threading.Lock()


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


class ResponseParser:
    """Incremental HTTP/1.x response parser; see docs/parser.md for the contract."""

    def __init__(self, method: str = "GET", *, strict: bool = False,
                 max_line_size: int = MAX_LINE_SIZE, max_field_size: int = MAX_FIELD_SIZE,
                 max_headers: int = MAX_HEADERS) -> None:
        self._owner: int | None = None  # the thread that first fed this parser
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
        self._unconsumed = bytearray()  # appended to by every feed() once done (_keep)
        self._upgraded = False     # done by an upgrade: unconsumed keeps every byte
        self._fed = 0              # bytes fed so far: the offset of the next byte
        self._state = _HEAD
        self._pending = bytearray()  # the current partial line (line states only)
        self._pending_off = 0
        self._pending_raw_cap = max(max_line_size, max_field_size) + 2
        self._field_raw = bytearray()  # the lines of the field being read (slow path)
        self._version = (1, 1)
        self._status = 0
        self._reason = ""
        self._learned: dict[str, str] = {}  # names outside the known ones (_header_names)
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
        self._lead = 0              # bytes of empty lines before this status line
        self._idle_cr = False       # they end with a CR whose LF has not come yet

    # -- public surface ---------------------------------------------------------------

    @property
    def method(self) -> str:
        """The request method the next response answers (compared exactly)."""
        return self._method

    @method.setter
    def method(self, value: str) -> None:
        if self._owner is not None and self._owner != get_ident():
            raise RuntimeError(msg.ARG_OTHER_THREAD)
        # bytes here would silently never equal "HEAD": the client would wait for a body.
        if not isinstance(value, str):
            raise TypeError(msg.ARG_METHOD_NOT_STR.format(type(value).__name__))
        self._method = value

    @property
    def idle(self) -> bool:
        """True between messages with nothing fed since the last one ended (docs/parser.md)."""
        return (self._state == _HEAD and not self._status_seen and not self._pending and self._lead == 0
                and not self._idle_cr and self._error is None and not self._done)

    @property
    def done(self) -> bool:
        return self._done

    @property
    def unconsumed(self) -> bytes:
        """Bytes after the last message once done: every one after an upgrade, else
        the first ``MAX_UNCONSUMED`` (docs/parser.md)."""
        return bytes(self._unconsumed)

    def _keep(self, data: Any, start: int, end: int) -> None:
        if not self._upgraded:
            end = min(end, start + MAX_UNCONSUMED - len(self._unconsumed))
        if end > start:
            self._unconsumed += data[start:end]

    @property
    def error(self) -> HttpParserError | None:
        return self._error

    def _same_thread(self) -> None:
        """One thread per parser (docs/parser.md, "Threads"): the first to feed owns it."""
        me = get_ident()
        if self._owner != me:
            if self._owner is None:
                with _CLAIM:  # two first feeds cannot both win
                    if self._owner is None:
                        self._owner = me
            if self._owner != me:
                raise RuntimeError(msg.ARG_OTHER_THREAD)

    def feed(self, data: bytes | bytearray | memoryview) -> list[Any]:
        if self._owner != get_ident():
            self._same_thread()
        if self._error is not None:
            raise self._error
        if type(data) is not bytes and type(data) is not bytearray:
            data = _byte_view(data)
        n = len(data)
        if self._done:
            self._fed += n
            self._keep(data, 0, n)
            return []
        base = self._fed
        self._fed = base + n
        events: list[Any] = []
        try:
            pos = self._run(data, n, base, events)
            if pos < n:  # done before the end of this buffer
                self._keep(data, pos, n)
        except HttpParserError as exc:
            self._error = exc
            self._state = _DONE
            if events:
                return events
            raise
        return events

    def feed_eof(self) -> list[Any]:
        if self._owner != get_ident():
            self._same_thread()
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

    def _empty_lines(self, data: Any, pos: int, n: int, base: int) -> int:
        """Skip empty lines before a status line, lenient mode (RFC 9112 §2.2).

        Their bytes count against ``max_line_size`` together, so a peer cannot keep
        the parser busy with them for ever; a run of them is consumed by two regular
        expressions (a byte class, then a literal), not line by line.  Strict mode
        rejects them in ``_parser_py_block``.
        """
        start = pos
        if self._idle_cr:  # a CR ended the last feed: only its LF may follow
            if data[pos] != _LF:
                raise BadStatusLine(msg.BARE_CR_BEFORE_STATUS, base + pos - 1, _CR)
            self._idle_cr = False
            pos += 1
        m = _LINE_ENDS.match(data, pos)  # a run of CR and LF bytes
        end = m.end() if m is not None else pos
        # The first bare CR of the run: one followed by CR, or by a byte after the run.
        m = _CR_CR.search(data, pos, end)
        bare = m.start() if m is not None else -1
        if bare < 0 and end > pos and data[end - 1] == _CR and end < n:
            bare = end - 1
        # Bytes are counted up to the bare CR: the byte after it is an error first.
        counted = bare + 1 if bare >= 0 else end
        lead = self._lead + counted - start
        if lead > self._max_line:
            at = start + self._max_line - self._lead
            raise LineTooLong(msg.EMPTY_LINES_TOO_LONG.format(self._max_line), base + at, data[at])
        if bare >= 0:
            raise BadStatusLine(msg.BARE_CR_BEFORE_STATUS, base + bare, _CR)
        self._lead = lead
        self._idle_cr = end > pos and data[end - 1] == _CR  # its LF has not come yet
        return end

    def _run(self, data: Any, n: int, base: int, events: list[Any]) -> int:
        pos = 0
        view = None
        while pos < n:
            state = self._state
            if state == _HEAD:
                if not self._pending and not self._status_seen and not self._strict:
                    if self._idle_cr or data[pos] == _CR or data[pos] == _LF:
                        pos = self._empty_lines(data, pos, n, base)
                        continue
                    new = _fast_head(self, data, pos, base, events)
                    if new >= 0:
                        pos = new
                        continue
                pos = _lines(self, data, pos, n, base, events)
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
                        _end_message(self, _END, events)
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
                    pos = _lines(self, data, pos, n, base, events)
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
                        _end_message(self, _END, events)
            elif state == _CHUNK_SIZE or state == _TRAILERS:
                pos = _lines(self, data, pos, n, base, events)
            else:  # _DONE
                return pos
        return pos


# feed_eof() inside a message: what was cut short, by state (_BODY_EOF and _DONE never raise)
_EOF_MESSAGES = {
    _HEAD: msg.EOF_IN_HEAD, _BODY_LENGTH: msg.EOF_IN_BODY, _CHUNK_SIZE: msg.EOF_IN_CHUNKED,
    _CHUNK_DATA: msg.EOF_IN_CHUNKED, _CHUNK_CRLF: msg.EOF_IN_CHUNKED, _TRAILERS: msg.EOF_IN_TRAILERS,
}
