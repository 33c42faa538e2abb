"""Chunk-size lines (RFC 9112 §7.1) of the Python parser, always strict: they are framing.

Twin of ``src/_parser_chunk.pxi``::

    chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    chunk-size     = 1*HEXDIG
    chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
    chunk-ext-val  = token / quoted-string

A line is parsed once its LF has arrived (the line machinery of ``_parser_py_block``
carries a partial line and checks it against ``max_line_size`` as it grows).  The
common line, hex digits and CRLF whole in one buffer, is read by the state machine
in ``_parser_py`` without this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import BadChunk, LineTooLong
from . import _messages as msg
from ._parser_py_tables import (
    _CHUNK_DATA,
    _CHUNK_SIMPLE,
    _HEXDIG,
    _LF,
    _QDTEXT,
    _QPAIR,
    _TCHAR,
    _TRAILERS,
    MAX_LENGTH,
)

if TYPE_CHECKING:
    from ._parser_py import ResponseParser


def _chunk_size_line(self: ResponseParser, line: bytes, off: int) -> None:
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
