"""The line scanner of the Python parser: a head (status line and fields) or a trailer section.

Twin of ``src/_parser_block.pxi``.  Two ways through a head:

- the fast path (:func:`_fast_head`): when a whole head sits in one ``feed()`` buffer,
  uses CRLF line ends and nothing the lenient mode has to forgive, one regular
  expression validates it and a split builds it.  Anything unusual (or strict mode)
  takes the slow path from the same position, so the fast path never decides an error;
- the slow path (:func:`_lines`): line by line, keeping only the current partial line
  between calls.  Each line is judged in the order docs/parser.md prescribes (kind at
  its first byte, limits at the first byte past them, syntax once its LF has arrived;
  field semantics are ``_parser_py_build``'s, when the section is complete), which is
  what makes every split of the input give the same events and the same error at the
  same offset.  Chunk-size lines go through the same machinery to ``_parser_py_chunk``.

The functions take the parser as ``self``, as the C twin's ``cdef`` functions do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy

from ..errors import BadStatusLine, InvalidHeader, InvalidLineEnding, LineTooLong, TooManyHeaders
from . import _messages as msg
from ._header_names import KNOWN_KEYS
from ._parser_py_build import _connection_tokens, _deliver_head, _finish_head, _finish_trailers
from ._parser_py_chunk import _chunk_size_line
from ._parser_py_tables import (
    _CHUNK_SIZE,
    _CR,
    _DIGIT,
    _FAST_HEAD,
    _FIELD_NAME,
    _HEAD,
    _HEAD_END_RE,
    _HT,
    _LENIENT_VALUE,
    _LF,
    _LF_RE,
    _SP,
    _STATUS_LENIENT,
    _STATUS_STRICT,
    _STRICT_VALUE,
    _TCHAR,
    _VERSIONS,
    _Field,
    _name_key,
    _text,
)

if TYPE_CHECKING:
    from ._parser_py import ResponseParser


def _lines(self: ResponseParser, data: Any, pos: int, n: int, base: int, events: list[Any]) -> int:
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
            _partial(self, self._pending, self._pending_off)
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
            _head_line(self, line, off, events)
        elif state == _CHUNK_SIZE:
            _chunk_size_line(self, line, off)
        else:
            _field_line(self, line, off, events, head=False)
        if self._state != state or self._done:
            return pos
        if state == _HEAD and not self._status_seen:
            return pos  # a message ended: the state machine skips empty lines before the next


def _partial(self: ResponseParser, line: bytearray, off: int) -> None:
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
        if first == _CR:  # strict mode only: lenient mode skips empty lines before this
            raise BadStatusLine(msg.EMPTY_LINE_BEFORE_STATUS, off, first)
        if known > self._max_line:
            raise LineTooLong(msg.STATUS_LINE_TOO_LONG.format(self._max_line), off + self._max_line,
                          line[self._max_line])
        return
    if first == _CR:
        if len(line) > 1:
            raise InvalidHeader(msg.BARE_CR_AT_LINE_START, off, first)
        return
    if first == _SP or first == _HT:
        field = _continuation_target(self, off, first)
        size = off - field.name_off + known
        if size > self._max_field:
            raise LineTooLong(msg.FIELD_TOO_LONG.format(self._max_field), field.name_off + self._max_field,
                              _field_byte(self, field, self._max_field, line, off))
        return
    if self._nfields + 1 > self._max_headers:
        raise TooManyHeaders(msg.TOO_MANY_FIELDS.format(self._max_headers), off, first)
    if known > self._max_field:
        raise LineTooLong(msg.FIELD_TOO_LONG.format(self._max_field), off + self._max_field, line[self._max_field])


def _continuation_target(self: ResponseParser, off: int, first: int) -> _Field:
    if not self._fields:
        raise InvalidHeader(msg.WHITESPACE_BEFORE_FIELD, off, first)
    if self._strict:
        raise InvalidHeader(msg.OBS_FOLD, off, first)
    return self._fields[-1]


def _field_byte(self: ResponseParser, field: _Field, index: int, line: bytes | bytearray, line_off: int) -> int:
    """The byte ``index`` bytes into a folded field, which may lie in an earlier line."""
    pos = field.name_off + index
    if pos >= line_off:
        return line[pos - line_off]
    return self._field_raw[pos - field.name_off]


def _head_line(self: ResponseParser, line: bytes, off: int, events: list[Any]) -> None:
    if not self._status_seen:
        _status_line(self, line, off)
        return
    _field_line(self, line, off, events, head=True)


def _status_line(self: ResponseParser, line: bytes, off: int) -> None:
    first = line[0]
    if first == _CR or first == _LF:  # strict mode only: lenient mode skips empty lines before this
        raise BadStatusLine(msg.EMPTY_LINE_BEFORE_STATUS, off, first)
    content = line[:-2] if line[-2:] == b"\r\n" else line[:-1]
    if len(content) > self._max_line:
        raise LineTooLong(msg.STATUS_LINE_TOO_LONG.format(self._max_line), off + self._max_line,
                          line[self._max_line])
    m = (_STATUS_STRICT if self._strict else _STATUS_LENIENT).fullmatch(content)
    if m is None:
        at, why = _status_error(content, self._strict)
        raise BadStatusLine(why, off + at, line[at])
    _line_end(self, line, off, content, msg.STATUS_BARE_LF)
    minor, status, reason = m.groups()
    self._version = _VERSIONS.get(minor) or (1, int(minor))
    self._status = int(status)
    self._reason = _text(reason) if reason else ""
    self._status_seen = True
    self._fields = []


def _line_end(self: ResponseParser, line: bytes, off: int, content: bytes, why: str) -> None:
    if self._strict and len(line) == len(content) + 1:
        raise InvalidLineEnding(why, off + len(content), _LF)


def _field_line(self: ResponseParser, line: bytes, off: int, events: list[Any], head: bool) -> None:
    first = line[0]
    if first == _LF or line == b"\r\n":
        if first == _LF and self._strict:
            raise InvalidLineEnding(msg.EMPTY_LINE_BARE_LF, off, _LF)
        if head:
            _finish_head(self, events)
        else:
            _finish_trailers(self, events)
        return
    if first == _CR:
        raise InvalidHeader(msg.BARE_CR_AT_LINE_START, off, first)
    content = line[:-2] if line[-2:] == b"\r\n" else line[:-1]
    if first == _SP or first == _HT:
        field = _continuation_target(self, off, first)
        size = off - field.name_off + len(content)
        if size > self._max_field:
            raise LineTooLong(msg.FIELD_TOO_LONG.format(self._max_field), field.name_off + self._max_field,
                              _field_byte(self, field, self._max_field, line, off))
        bad = _first_bad(content, 1, self._value_ok)
        if bad >= 0:
            raise InvalidHeader(msg.FIELD_VALUE_BYTE, off + bad, content[bad])
        _line_end(self, line, off, content, msg.FIELD_BARE_LF)
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
    _line_end(self, line, off, content, msg.FIELD_BARE_LF)
    value = content[start:]
    stripped = value.lstrip(b" \t")
    value_off = off + start + len(value) - len(stripped)
    self._nfields += 1
    self._fields.append(_Field(content[:start - 1], stripped.rstrip(b" \t"), off, value_off,
                               line[value_off - off]))
    self._field_raw = bytearray(line)


def _fast_head(self: ResponseParser, data: Any, pos: int, base: int, events: list[Any]) -> int:
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
    known = KNOWN_KEYS
    learned = self._learned
    for line in fields.decode("utf-8", "surrogateescape").split("\r\n")[:-1]:
        name, _, value = line.partition(":")
        pairs.append((known.get(name) or _name_key(learned, name), value.strip(" \t")))
    md = CIMultiDict(pairs)
    length = None
    chunked = False
    lengths = md.getall("Content-Length", None)
    codings = md.getall("Transfer-Encoding", None)
    if codings is not None:
        coding = codings[0]
        if lengths is not None or len(codings) != 1 or not coding.isascii() or coding.lower() != "chunked":
            # conflicts, lists and other codings: the slow path judges them (on bytes:
            # "chun\u212aed" lowers to "chunked" as str, but it is no token)
            return -1
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
    _deliver_head(self, CIMultiDictProxy(md), fields, length, chunked, close, keep, events)
    return end + 4


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
