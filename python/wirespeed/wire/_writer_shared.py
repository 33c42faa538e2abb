"""The StreamWriter code both twins run: the checks that gain nothing from C.

The C twin (``src/_fastwriter.pyx``) imports this module once at load and
calls it; the Python twin (``_writer_py.py``) calls the same functions.  So
what lives here is written once and behaves the same on both twins, to the
exception class and the text (``_messages.W_*``):

- :func:`arguments`: the constructor's keyword arguments;
- :func:`version_line` and :func:`status_code`: the HTTP version and the
  status code of a start line;
- :func:`body`: what a body piece may be (bytes-like, C-contiguous) and the
  flat byte view the transport is given;
- :func:`compressor`: the content codings the writer can produce;
- :func:`drain`: ``StreamWriter.drain`` itself, the very function object on
  both classes.

What stays in each twin is the hot path: serialising and checking the head,
framing, coalescing and the transport calls (and, in C, ``writev``).  Each
twin calls in here only off that path: the C twin handles ``bytes`` and
``bytearray`` pieces and the default arguments inline and calls :func:`body`
and :func:`arguments` for anything else.
"""

from __future__ import annotations

import sys
import zlib
from typing import Any, Protocol

from ..errors import BodyTypeError, HeaderValidationError, TransportError, UnsupportedCompression
from ._messages import (
    W_ARG_NEGATIVE,
    W_ARG_NOT_BOOL,
    W_ARG_NOT_INT,
    W_ARG_TOO_LARGE,
    W_BODY_STRIDED,
    W_BODY_TYPE,
    W_COMPRESSION,
    W_DRAIN_CLOSING,
    W_STATUS,
    W_VERSION,
)

__all__ = ["MAX_LIMIT", "arguments", "body", "compressor", "drain", "status_code", "version_line"]

#: Largest ``coalesce_limit`` and ``drain_limit``: the largest size the C twin
#: holds (``Py_ssize_t``), 2**63-1 on 64-bit platforms.  A limit that large
#: means "always": always join, never wait.
MAX_LIMIT = sys.maxsize

#: A body piece as the transport is given it.
Piece = bytes | bytearray | memoryview


def arguments(coalesce_limit: Any, drain_limit: Any, direct_writes: Any) -> tuple[int, int, bool]:
    """The constructor's keywords checked: two ints in 0..MAX_LIMIT and a bool.

    ``bool`` is not a limit (``True`` would mean 1 byte); an int subclass such
    as an ``IntEnum`` is taken as its value.  ``TypeError`` for a wrong type,
    ``ValueError`` for a value out of range, before the writer exists.
    """
    limits = []
    for name, value in (("coalesce_limit", coalesce_limit), ("drain_limit", drain_limit)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(W_ARG_NOT_INT.format(name, type(value).__name__))
        value = int(value)
        if value < 0:
            raise ValueError(W_ARG_NEGATIVE.format(name, value))
        if value > MAX_LIMIT:
            raise ValueError(W_ARG_TOO_LARGE.format(name, MAX_LIMIT, value))
        limits.append(value)
    if direct_writes is not True and direct_writes is not False:
        raise TypeError(W_ARG_NOT_BOOL.format("direct_writes", direct_writes))
    return limits[0], limits[1], direct_writes


def version_line(version: Any) -> bytes:
    """``b"HTTP/1.0"`` or ``b"HTTP/1.1"``: the only versions this framing (RFC 9112) belongs to."""
    try:
        major, minor = version
        if type(major) is int and type(minor) is int and major == 1 and (minor == 0 or minor == 1):
            return b"HTTP/1.0" if minor == 0 else b"HTTP/1.1"
    except (TypeError, ValueError):
        pass
    raise HeaderValidationError(W_VERSION.format(version))


def status_code(status: Any) -> int:
    """An int (or an IntEnum such as ``http.HTTPStatus``, not a bool) in 100-999, as a plain int."""
    if type(status) is not int:
        if not isinstance(status, int) or isinstance(status, bool):
            raise HeaderValidationError(W_STATUS.format(status))
        status = int(status)
    code: int = status
    if not 100 <= code <= 999:
        raise HeaderValidationError(W_STATUS.format(code))
    return code


def body(data: Any) -> Piece:
    """The body piece as the transport may take it: bytes, bytearray or a flat byte memoryview.

    Any other buffer becomes a memoryview cast to unsigned bytes, so sizes
    and the transport's slicing after a partial send count bytes, not items.
    A non-contiguous buffer or a non-buffer is refused before anything changes.
    """
    if type(data) is bytes or type(data) is bytearray:
        return data
    try:
        view = memoryview(data)
    except TypeError:
        raise BodyTypeError(W_BODY_TYPE.format(type(data).__name__)) from None
    if not view.c_contiguous:
        raise BodyTypeError(W_BODY_STRIDED.format(type(data).__name__))
    if type(data) is memoryview and view.itemsize == 1 and view.ndim == 1:
        return data
    return view.cast("B")


def compressor(encoding: Any) -> Any:
    """A fresh compressor for ``gzip`` or ``deflate`` (the zlib format, RFC 9110 §8.4.1.2)."""
    if encoding == "gzip":
        return zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.compressobj(wbits=zlib.MAX_WBITS)
    raise UnsupportedCompression(W_COMPRESSION.format(encoding))


class _Drainable(Protocol):
    """What :func:`drain` needs of a writer (both twins have it)."""

    @property
    def transport(self) -> Any: ...
    @property
    def protocol(self) -> Any: ...
    def _drain_due(self) -> bool: ...


async def drain(self: _Drainable) -> None:
    """Wait while writing is paused, once more than ``drain_limit`` bytes went out since the last drain.

    Raises ``TransportError`` when the connection was lost (from the
    protocol's ``wait_writable()``) or the transport is closing.
    """
    # _drain_due() resets the count when it says yes: of several drains of
    # one writer at once, only the first waits (docs/writer.md).
    if self._drain_due():
        protocol = self.protocol
        if protocol is not None:
            await protocol.wait_writable()
    if self.transport.is_closing():
        raise TransportError(W_DRAIN_CLOSING)
