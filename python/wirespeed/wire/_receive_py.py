"""The Python ReceiveBuffer twin: where a ``BufferedProtocol`` reads a response.

Contract (both twins; docs/parser.md, "Receiving into a ReceiveBuffer"):

- ``ReceiveBuffer(size)``: ``size`` bytes to read into (a positive int).
  ``view`` is a writable memoryview of all of them, the object an asyncio
  ``BufferedProtocol.get_buffer()`` returns; it stays the same object until
  ``take()``.
- ``take(n)``: the first ``n`` bytes read into ``view`` (``0 <= n <= size``),
  as a new ``bytes`` the caller owns; the buffer then starts afresh, with a
  new ``view``.  What is later read into the buffer never changes a ``bytes``
  already taken.  The caller must drop every slice of the old ``view`` (the
  parser's body pieces included) before the next read.
- A wrong size or count raises ``TypeError`` or ``ValueError`` with the same
  text in both twins.

This twin copies on ``take()`` and keeps its storage.  The C twin
(``src/_receive.pyx``) reads into the storage of a ``bytes`` object no one
else can see and hands that object over, so a body read is copied only once,
by the kernel.
"""

from __future__ import annotations

import sys

from ._messages import R_SIZE, R_SIZE_LARGE, R_TAKE_RANGE

__all__ = ["ReceiveBuffer"]


def _checked_size(size: object) -> int:
    if not isinstance(size, int) or isinstance(size, bool):
        raise TypeError(R_SIZE.format(size))
    if size <= 0:
        raise ValueError(R_SIZE.format(size))
    if size > sys.maxsize:
        raise OverflowError(R_SIZE_LARGE.format(size))
    return size


class ReceiveBuffer:
    """A read buffer whose filled part becomes ``bytes`` (here by a copy)."""

    __slots__ = ("_buf", "view")

    def __init__(self, size: int) -> None:
        self._buf = bytearray(_checked_size(size))
        self.view = memoryview(self._buf)

    @property
    def size(self) -> int:
        return len(self._buf)

    def take(self, n: int) -> bytes:
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(R_TAKE_RANGE.format(n, len(self._buf)))
        if not 0 <= n <= len(self._buf):
            raise ValueError(R_TAKE_RANGE.format(n, len(self._buf)))
        old = self.view
        data = bytes(old[:n])
        # A new view, and the old one released when nothing holds it, as in the C twin.
        self.view = memoryview(self._buf)
        try:
            old.release()
        except BufferError:
            pass
        return data
