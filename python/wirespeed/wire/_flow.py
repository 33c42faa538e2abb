"""Protocol-side flow control shared by both writer twins.

asyncio tells a protocol when its transport's write buffer passes the
high-water mark (``pause_writing``), when it falls below the low-water mark
again (``resume_writing``) and when the connection is gone
(``connection_lost``).  :class:`FlowControl` records those three facts and
lets any number of writers wait for the transport to become writable:

- :meth:`FlowControl.wait_writable` returns at once while writing is not
  paused, waits while it is, and raises :class:`~wirespeed.errors.TransportError`
  once the connection is lost (waiters parked before the loss are woken with
  that error; nothing waits forever).
- It is a mixin: ``class Proto(FlowControl, asyncio.Protocol)`` gets the three
  callbacks; a protocol that needs its own ``connection_lost`` calls
  ``FlowControl.connection_lost(self, exc)`` from it.

``StreamWriter.drain()`` (both twins) calls ``wait_writable()`` on the object
given as ``protocol``; any object with that one coroutine method will do.

This module also holds the CPython version gate for ``transport.writelines``
(CVE-2024-12254), so both twins decide it the same way.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from ..errors import TransportError
from ._messages import W_LOST, W_LOST_NO_EXC

__all__ = ["FlowControl", "writelines_ignores_flow_control"]


def writelines_ignores_flow_control(version_info: Any) -> bool:
    """True on the CPython releases whose ``writelines`` never pauses the protocol.

    ``_SelectorSocketTransport.writelines`` gained a fast path in 3.12.0 that
    skipped ``_maybe_pause_protocol()``: a producer writing through it is never
    told to stop, and memory grows without bound (CVE-2024-12254).  The fix
    shipped in 3.12.9 and 3.13.2; 3.11 and older never had the fast path.
    """
    v = tuple(version_info[:3])
    return (3, 12, 0) <= v < (3, 12, 9) or (3, 13, 0) <= v < (3, 13, 2)


class FlowControl:
    """Tracks pause/resume/lost for a protocol and parks writers while paused."""

    # No __slots__: this is a mixin for asyncio.Protocol subclasses, which have a __dict__.
    # Class-level defaults: a subclass whose __init__ forgets to call ours still works.
    _paused = False
    _lost = False
    _lost_exc: BaseException | None = None
    _waiters: deque[asyncio.Future[None]] | None = None

    def __init__(self) -> None:
        self._paused = False
        self._lost = False
        self._lost_exc = None
        self._waiters = deque()

    @property
    def writing_paused(self) -> bool:
        """True between ``pause_writing()`` and ``resume_writing()``."""
        return self._paused

    @property
    def connection_is_lost(self) -> bool:
        """True once ``connection_lost()`` was called."""
        return self._lost

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake()

    def connection_lost(self, exc: BaseException | None) -> None:
        self._lost = True
        self._lost_exc = exc
        self._wake()

    def _wake(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def _raise_lost(self) -> None:
        exc = self._lost_exc
        reason = f": {exc!r}" if exc is not None else W_LOST_NO_EXC
        raise TransportError(W_LOST.format(reason)) from exc

    async def wait_writable(self) -> None:
        """Return when the transport accepts more data; raise if the connection is lost."""
        if self._lost:
            self._raise_lost()
        while self._paused:
            waiters = self._waiters
            if waiters is None:
                waiters = self._waiters = deque()
            waiter = asyncio.get_running_loop().create_future()
            waiters.append(waiter)
            try:
                await waiter
            finally:
                # A cancelled waiter must not stay in the queue.
                try:
                    waiters.remove(waiter)
                except ValueError:
                    pass
            if self._lost:
                self._raise_lost()
