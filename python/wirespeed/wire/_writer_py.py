"""The pure-Python StreamWriter twin: serialise an HTTP/1.1 message onto a transport.

Contract (docs/writer.md; the C twin ``wirespeed.wire._writer_c`` is identical):

- ``write_headers()`` validates and serialises the head and *buffers* it.  The
  first ``write()``, ``write_eof()`` or ``set_eof()`` sends head and body in ONE
  transport call; ``send_headers()`` sends the head now (idempotent).
- Every start line, name and value is checked before anything is written:
  names are tokens (RFC 9110 §5.6.2); control bytes other than HTAB
  (0x00-0x08, 0x0A-0x1F, 0x7F) and lone surrogates raise
  :class:`~wirespeed.errors.HeaderValidationError`.
- Chunked framing (``enable_chunking()``) adds a size line and a CRLF around
  the payload as separate pieces: the payload is never copied to frame it.
- Optional gzip/deflate (``enable_compression()``); the compressor's flush
  leaves with the last chunk and the terminator.
- Body pieces are bytes, bytearray or any C-contiguous buffer; the last is
  handed on as a flat unsigned-byte memoryview (``_body``).  Anything else
  raises :class:`~wirespeed.errors.BodyTypeError` before the writer changes.

Write paths, chosen per transport call from the pieces of that call:

1. one piece: ``transport.write(piece)``, the object itself;
2. total at most ``coalesce_limit``: ``transport.write(b"".join(pieces))``;
3. otherwise ``transport.writelines(pieces)``, each piece passed through;
4. unless ``WRITELINES_SAFE`` is false (CPython 3.12.0-3.12.8 and
   3.13.0-3.13.1, CVE-2024-12254: ``writelines`` never pauses the protocol):
   runs of small pieces are joined and each large piece is written alone,
   all with ``transport.write``, which does apply flow control.

The C twin adds one path before 3 and 4: a direct ``writev(2)`` on a plain TCP
socket whose transport buffer is empty.  Before every call the transport is
checked: a closing transport raises :class:`~wirespeed.errors.TransportError`
rather than dropping the data.

What needs no speed is shared with the C twin in ``_writer_shared`` (argument,
version, status and body-type checks, the compressor, ``drain()``), and every
error text is in ``_messages``: this module is the Python twin's hot path.
"""

from __future__ import annotations

import sys
from typing import Any

import multidict

from ..errors import HeaderValidationError, TransportError, WriterStateError
from . import _writer_shared
from ._constants import COALESCE_LIMIT, DRAIN_LIMIT, FORBIDDEN_TRAILERS
from ._flow import writelines_ignores_flow_control
from ._messages import (
    W_AFTER_BODY,
    W_AFTER_END,
    W_BEFORE_HEAD,
    W_CLOSING,
    W_CONTROL_BYTE,
    W_EMPTY,
    W_FORBIDDEN_TRAILER,
    W_HEAD_TWICE,
    W_NOT_FIELDS,
    W_NOT_PAIR,
    W_NOT_TEXT,
    W_NOT_TOKEN,
    W_SET_EOF_FRAMED,
    W_SURROGATE,
    W_TARGET_BYTE,
    W_TARGET_FRAGMENT,
    W_TRAILERS_NOT_CHUNKED,
    W_WHERE_METHOD,
    W_WHERE_NAME,
    W_WHERE_REASON,
    W_WHERE_START_LINE,
    W_WHERE_TARGET,
    W_WHERE_VALUE,
)
from ._writer_shared import body as _body
from ._writer_shared import compressor as _compressor
from ._writer_shared import status_code as _status
from ._writer_shared import version_line as _version

__all__ = ["StreamWriter", "WRITELINES_SAFE"]

#: False on the CPython releases whose ``writelines`` ignores flow control.
#: Read by each StreamWriter at construction, so a test can patch it here.
WRITELINES_SAFE = not writelines_ignores_flow_control(sys.version_info)

# Writer states.
_NEW, _HEAD_BUFFERED, _BODY, _DONE = 0, 1, 2, 3

# RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" /
# "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
_TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
# RFC 9110 §5.5: field values (and the start line) may hold HTAB, SP, VCHAR and
# obs-text; every other control byte is refused.
_CTL = bytes([*range(0x00, 0x09), *range(0x0A, 0x20), 0x7F])
_CTL_SET = frozenset(_CTL)
# RFC 9112 §3.2: a request-target is visible ASCII only (no SP, no control, no obs-text).
# "#" starts a fragment, which is never part of a request-target (RFC 9112 §3.2,
# RFC 9110 §4.2.5): refused with its own message below.
_TARGET_OK = frozenset(range(0x21, 0x7F)) - {0x23}
_NOT_TARGET = bytes(b for b in range(256) if b not in _TARGET_OK)

# Names already proven to be tokens (bounded: a cache, not a log of every name seen).
_GOOD_NAMES: set[Any] = set()
_GOOD_NAMES_MAX = 512

_CRLF = b"\r\n"
_COLON_JOIN = ": ".join
# Mappings whose len() is their number of items and whose items() are (name, value) pairs.
_FAST_MAPPINGS = frozenset({dict, multidict.CIMultiDict, multidict.MultiDict,
                            multidict.CIMultiDictProxy, multidict.MultiDictProxy})
_LAST_CHUNK = b"0\r\n\r\n"


def _encode(obj: Any, where: str) -> bytes:
    """UTF-8 bytes of a str or the bytes themselves; anything else is refused."""
    if isinstance(obj, str):
        try:
            return obj.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise HeaderValidationError(
                W_SURROGATE.format(code=ord(obj[exc.start]), index=exc.start, where=where)
            ) from None
    if isinstance(obj, bytes):
        return obj
    raise HeaderValidationError(W_NOT_TEXT.format(where=where, type=type(obj).__name__))


def _check_ctl(data: bytes, where: str) -> None:
    if len(data.translate(None, _CTL)) != len(data):
        for i, b in enumerate(data):
            if b in _CTL_SET:
                raise HeaderValidationError(W_CONTROL_BYTE.format(byte=b, offset=i, where=where))


def _check_token(data: bytes, where: str) -> None:
    if not data:
        raise HeaderValidationError(W_EMPTY.format(where=where))
    for i, b in enumerate(data):
        if b not in _TCHAR:
            raise HeaderValidationError(W_NOT_TOKEN.format(byte=b, offset=i, where=where))


def _fields(headers: Any, kind: str) -> bytes:
    """Serialise header (or trailer) fields, one ``name: value\\r\\n`` each, checking every byte."""
    items = getattr(headers, "items", None)
    try:
        fields = iter(items() if callable(items) else headers)
    except TypeError:
        raise HeaderValidationError(W_NOT_FIELDS.format(kind=kind, type=type(headers).__name__)) from None
    out: list[bytes] = []
    for k, item in enumerate(fields):
        try:
            name, value = item
        except (TypeError, ValueError):
            raise HeaderValidationError(W_NOT_PAIR.format(kind=kind, index=k)) from None
        where = W_WHERE_NAME.format(kind, k)
        bname = _encode(name, where)
        _check_token(bname, where)
        if kind == "trailer" and bname.lower().decode("ascii") in FORBIDDEN_TRAILERS:
            raise HeaderValidationError(W_FORBIDDEN_TRAILER.format(index=k, name=bname.decode("ascii")))
        where = W_WHERE_VALUE.format(kind, bname.decode("ascii"))
        bvalue = _encode(value, where)
        _check_ctl(bvalue, where)
        out += (bname, b": ", bvalue, _CRLF)
        if len(_GOOD_NAMES) < _GOOD_NAMES_MAX and isinstance(name, str):
            _GOOD_NAMES.add(name)
    return b"".join(out)


def _serialize_head_checked(start_line: Any, headers: Any) -> bytes:
    """The reference serialiser: checks field by field, raises on the first bad byte."""
    line = _encode(start_line, W_WHERE_START_LINE)
    if not line:
        raise HeaderValidationError(W_EMPTY.format(where=W_WHERE_START_LINE))
    _check_ctl(line, W_WHERE_START_LINE)
    return line + _CRLF + _fields(headers, "header") + _CRLF


def _serialize_head(start_line: Any, headers: Any) -> bytes:
    """Serialise start line and headers; fast path for all-str input with known names.

    The fast path (a dict or multidict of str, every name already proven a
    token) joins everything as str, encodes once and counts the control bytes
    at C speed: exactly the CR LF pairs it put there itself, two per line, or
    the input held one.  Anything unusual takes the reference path, which
    raises the precise error.
    """
    if type(start_line) is str and type(headers) in _FAST_MAPPINGS and _GOOD_NAMES.issuperset(headers.keys()):
        try:
            data = "\r\n".join([start_line, *map(_COLON_JOIN, headers.items()), "\r\n"]).encode()
        except (TypeError, UnicodeEncodeError):
            pass
        else:
            if len(data.translate(None, _CTL)) == len(data) - 2 * (len(headers) + 2) and start_line:
                return data
    return _serialize_head_checked(start_line, headers)


def _write_piecewise(transport: Any, pieces: Any, limit: int) -> None:
    """Flow-controlled writes without writelines: join runs of small pieces, large ones alone."""
    run: list[Any] = []
    for piece in pieces:
        size = _nbytes(piece)
        if not size:
            continue  # never a write of nothing
        if size > limit:
            if run:
                transport.write(run[0] if len(run) == 1 else b"".join(run))
                run = []
            transport.write(piece)
        else:
            run.append(piece)
    if run:
        transport.write(run[0] if len(run) == 1 else b"".join(run))


def _nbytes(data: Any) -> int:
    """Bytes in a piece: every piece is bytes, bytearray or a flat byte memoryview (see ``_body``)."""
    return len(data)


class StreamWriter:
    """Writes one HTTP/1.1 message (head and body) to an asyncio transport."""

    __slots__ = (
        "transport",
        "protocol",
        "headers_length",
        "body_length",
        "buffer_size",
        "_coalesce_limit",
        "_drain_limit",
        "_writelines_safe",
        "_state",
        "_head",
        "_chunked",
        "_compressor",
        "_plain",
        "_head_len",
        "_body_started",
    )

    def __init__(
        self,
        transport: Any,
        protocol: Any = None,
        *,
        coalesce_limit: int = COALESCE_LIMIT,
        drain_limit: int = DRAIN_LIMIT,
        direct_writes: bool = True,
    ) -> None:
        if coalesce_limit is not COALESCE_LIMIT or drain_limit is not DRAIN_LIMIT or direct_writes is not True:
            # Checked as the C twin checks them; direct_writes is then unused:
            # this twin always writes through the transport.
            coalesce_limit, drain_limit, _ = _writer_shared.arguments(coalesce_limit, drain_limit, direct_writes)
        self.transport = transport
        self.protocol = protocol
        self.headers_length = 0
        self.body_length = 0
        self.buffer_size = 0
        self._coalesce_limit = coalesce_limit
        self._drain_limit = drain_limit
        self._writelines_safe = WRITELINES_SAFE
        self._state = _NEW
        self._head: bytes | None = None
        self._chunked = False
        self._compressor: Any = None
        self._plain = True  # neither chunked nor compressed
        self._head_len = 0  # the head alone, without body bytes held with it
        self._body_started = False

    # -- head ---------------------------------------------------------------

    def write_headers(self, start_line: str | bytes, headers: Any = ()) -> None:
        """Validate and buffer the start line (without CRLF) and the headers."""
        if self._state != _NEW:
            raise WriterStateError(W_HEAD_TWICE)
        self._head = head = _serialize_head(start_line, headers)
        self._head_len = len(head)
        self._state = _HEAD_BUFFERED

    def write_request_headers(
        self, method: str | bytes, target: str | bytes, headers: Any = (), version: Any = (1, 1)
    ) -> None:
        """Buffer a request head: ``method`` must be a token, ``target`` visible ASCII."""
        bmethod = _encode(method, W_WHERE_METHOD)
        _check_token(bmethod, W_WHERE_METHOD)
        btarget = _encode(target, W_WHERE_TARGET)
        if not btarget:
            raise HeaderValidationError(W_EMPTY.format(where=W_WHERE_TARGET))
        if len(btarget.translate(None, _NOT_TARGET)) != len(btarget):
            for i, b in enumerate(btarget):
                if b not in _TARGET_OK:
                    raise HeaderValidationError(
                        W_TARGET_BYTE.format(byte=b, offset=i) if b != 0x23 else W_TARGET_FRAGMENT.format(offset=i)
                    )
        line = b"%s %s %s" % (bmethod, btarget, _version(version))
        # The parts are proven ASCII: a str start line keeps write_headers() on its fast path.
        self.write_headers(line.decode("ascii"), headers)

    def write_response_headers(
        self, status: int, reason: str | bytes, headers: Any = (), version: Any = (1, 1)
    ) -> None:
        """Buffer a response head: ``status`` a three-digit int, ``reason`` free of controls."""
        status = _status(status)
        breason = _encode(reason, W_WHERE_REASON)
        line = b"%s %d %s" % (_version(version), status, breason)
        self.write_headers(line if type(reason) is bytes else line.decode("utf-8"), headers)

    def send_headers(self) -> None:
        """Send the buffered head now (``Expect: 100-continue``, upgrades); idempotent."""
        if self._state == _NEW:
            raise WriterStateError(W_BEFORE_HEAD.format("send_headers"))
        if self._state == _HEAD_BUFFERED:
            self._state = _BODY
            head = self._head
            self._head = None
            self._send([head], self._head_len)

    # -- body framing -------------------------------------------------------

    def _check_no_body_yet(self, what: str) -> None:
        if self._state == _DONE or self._body_started:
            raise WriterStateError(W_AFTER_BODY.format(what))

    def enable_chunking(self) -> None:
        """Frame the body with chunked transfer coding; the caller's headers must say so."""
        self._check_no_body_yet("enable_chunking")
        self._chunked = True
        self._plain = False

    def enable_compression(self, encoding: str = "deflate") -> None:
        """Compress the body with ``gzip`` or ``deflate`` (zlib format, RFC 9110 §8.4.1.2)."""
        self._check_no_body_yet("enable_compression")
        self._compressor = _compressor(encoding)
        self._plain = False

    # -- body ---------------------------------------------------------------

    def write(self, data: Any) -> None:
        """Send a piece of the body (head first, in the same call, if still buffered)."""
        state = self._state
        if state == _HEAD_BUFFERED or state == _BODY:
            pass
        elif state == _NEW:
            raise WriterStateError(W_BEFORE_HEAD.format("write"))
        else:
            raise WriterStateError(W_AFTER_END.format("write"))
        data = _body(data)
        head = self._head
        if self._compressor is not None:
            self._body_started = True
            data = self._compressor.compress(data)
            if head is not None and len(head) + _nbytes(data) + 12 <= self._coalesce_limit:
                # Compressed output trickles out in small pieces (gzip's header
                # first): hold it with the buffered head until there is more.
                if data:
                    self._head = head + (b"%x\r\n%s\r\n" % (len(data), data) if self._chunked else data)
                return
        size = _nbytes(data)
        if not size:
            return
        self._body_started = True
        if head is not None:
            self._head = None
            self._state = _BODY
            pieces = [head, data]
        else:
            pieces = [data]
        if self._chunked:
            pieces[-1:] = [b"%x\r\n" % size, data, _CRLF]
        self._send(pieces, self._head_len if head is not None else 0)

    def write_eof(self, last: Any = b"", trailers: Any = None) -> None:
        """End the message: the last piece, the chunked terminator and trailers, in one call."""
        if self._state == _HEAD_BUFFERED and trailers is None and self._plain and type(last) is bytes:
            # The common end of a small message: head and body (if any) in one write.
            self._state = _DONE
            head = self._head
            self._head = None
            assert head is not None
            if not last:
                self._send_one(head, len(head))
            elif len(last) + len(head) <= self._coalesce_limit:
                self._send_one(head + last, len(head))
            else:
                self._send([head, last], len(head))
            return
        state = self._state
        if state == _NEW:
            raise WriterStateError(W_BEFORE_HEAD.format("write_eof"))
        if state == _DONE:
            raise WriterStateError(W_AFTER_END.format("write_eof"))
        if trailers is not None:
            if not self._chunked:
                raise WriterStateError(W_TRAILERS_NOT_CHUNKED)
            tail = b"0\r\n" + _fields(trailers, "trailer") + _CRLF
        else:
            tail = _LAST_CHUNK
        last = _body(last)
        body = [last] if _nbytes(last) else []
        compressor = self._compressor
        if compressor is not None:
            body = [p for p in (compressor.compress(last), compressor.flush()) if p]
        self._state = _DONE
        head = self._head
        self._head = None
        pieces = [head] if head is not None else []
        if self._chunked:
            size = 0
            for piece in body:
                size += _nbytes(piece)
            if size:
                pieces.append(b"%x\r\n" % size)
                pieces += body
                pieces.append(_CRLF + tail)
            else:
                pieces.append(tail)
        else:
            pieces += body
        if pieces:
            self._send(pieces, self._head_len if head is not None else 0)

    def set_eof(self) -> None:
        """End a message whose end the stream does not mark (no body framing): sends the head if buffered."""
        state = self._state
        if state == _NEW:
            raise WriterStateError(W_BEFORE_HEAD.format("set_eof"))
        if state == _DONE:
            raise WriterStateError(W_AFTER_END.format("set_eof"))
        if self._chunked or self._compressor is not None:
            raise WriterStateError(W_SET_EOF_FRAMED)
        self._state = _DONE
        head = self._head
        if head is not None:
            self._head = None
            self._send([head], len(head))

    # -- output -------------------------------------------------------------

    def _send_one(self, data: bytes, head_len: int) -> None:
        """``_send([data])`` for bytes, without the loop."""
        transport = self.transport
        if transport.is_closing():
            raise TransportError(W_CLOSING.format(len(data)))
        self.headers_length += head_len
        self.body_length += len(data) - head_len
        self.buffer_size += len(data)
        transport.write(data)

    def _send(self, pieces: list[Any], head_len: int) -> None:
        """One transport call for ``pieces`` (see the module docstring for the paths)."""
        total = 0
        for piece in pieces:
            total += _nbytes(piece)
        transport = self.transport
        if transport.is_closing():
            raise TransportError(W_CLOSING.format(total))
        self.headers_length += head_len
        self.body_length += total - head_len
        self.buffer_size += total
        if len(pieces) == 1:
            transport.write(pieces[0])
        elif total <= self._coalesce_limit:
            transport.write(b"".join(pieces))
        elif self._writelines_safe:
            transport.writelines(pieces)
        else:
            _write_piecewise(transport, pieces, self._coalesce_limit)

    def _drain_due(self) -> bool:
        """True (and the count reset) once more than ``drain_limit`` bytes went out since the last wait."""
        if self.buffer_size > self._drain_limit:
            self.buffer_size = 0
            return True
        return False

    #: ``await drain()``: the shared coroutine (``_writer_shared.drain``), on both twins.
    drain = _writer_shared.drain
