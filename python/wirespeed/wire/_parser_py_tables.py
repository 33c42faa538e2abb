"""Byte classes, patterns, text decoding and the header-name cache of the Python parser.

Twin of ``src/_parser_tables.pxi`` (the C twin's 256-byte tables, ``_text`` and its
name tables).  Everything here is built at import and read-only afterwards; the
known header names come from ``_header_names``, shared with the C twin, and the
names a parser learns are kept by that parser.  Also here, because every unit of
the Python twin needs them: the parser's states (the C twin's ``ST_*`` enum in
``src/_parser.pyx``) and :class:`_Field` (the C twin's ``Field`` struct).
"""

from __future__ import annotations

import re

from multidict import istr

from ._header_names import KNOWN_KEYS, LEARN_MAX

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
_QDTEXT = (frozenset({0x09, 0x20, 0x21}) | frozenset(range(0x23, 0x5C)) | frozenset(range(0x5D, 0x7F))
           | frozenset(range(0x80, 0x100)))
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
_LF_RE = re.compile(b"\n")
# Empty lines before a status line: a run of line-end bytes, then any "\r\r" in it (a
# byte class and a literal: re repeats a group like (?:\r?\n)* 20 times slower).
_LINE_ENDS = re.compile(b"[\r\n]*")
_CR_CR = re.compile(b"\r\r")
_HEAD_END_RE = re.compile(b"\r\n\r\n")

_VERSIONS = {b"0": (1, 0), b"1": (1, 1)}

# Parser states.
_HEAD, _BODY_LENGTH, _BODY_EOF, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILERS, _DONE = range(8)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


# Header names: the policy of ``_header_names`` (known names shared, others learnt per parser).
def _name_key(learned: dict[str, str], text: str) -> str:
    """The multidict key for a field name (a token, so ASCII text)."""
    key: str | None = KNOWN_KEYS.get(text)
    if key is not None:
        return key
    key = learned.get(text)
    if key is not None:
        return key
    if len(learned) < LEARN_MAX:
        key = learned[text] = istr(text)
        return key
    return text


def _name(learned: dict[str, str], raw: bytes) -> str:
    return _name_key(learned, raw.decode("ascii"))


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
