"""The connection pool: idle stacks per origin, limits, a fair FIFO wait.

Keys are ``(scheme, host, port, tls settings, proxy)``: connections of
different keys never mix.  Each key has a stack of idle connections (the
most recently used is taken first: it is the least likely to have been
closed by the server).  ``limit`` bounds all connections (idle, in use and
being opened), ``limit_per_host`` those of one key; ``0`` means unbounded.
A request that finds no idle connection and no free slot waits in one FIFO
queue; a freed slot or a released connection goes to the first waiter it can
serve, so no request starves behind later ones.

Idle connections expire ``keepalive_timeout`` seconds after their last use
(checked when taken, and by one lazily re-armed timer per pool).  Idle times
are read from ``time.monotonic``, the clock asyncio's loop reads too, called
directly: ``loop.time()`` is a Python method on asyncio's loop, and the pool
reads the clock twice per request.

The pool also keeps the large read buffers of ended downloads, at most
``PARKED_BUFFERS`` of them (:meth:`Pool.park_buffer`): a connection whose
response streamed in through a large buffer goes back to its small one, and
the next download on any connection of the session reads into warm memory
instead of freshly mapped pages (a page fault per 4 KiB the kernel writes).
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass
from time import monotonic
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._connection import Connection

__all__ = ["PARKED_BUFFERS", "Pool", "PoolStats"]

#: Large read buffers a pool keeps for the next download (each at most
#: READ_BUFFER_MAX bytes plus the ReceiveBuffer's two spares: 1.5 MiB).
PARKED_BUFFERS = 2


@dataclass(frozen=True)
class PoolStats:
    """Connection counts of a session's pool at one moment."""

    idle: int
    in_use: int
    connecting: int
    waiting: int
    opened: int
    closed: int


class _Waiter:
    __slots__ = ("key", "future")

    def __init__(self, key: Any, future: asyncio.Future[Connection | None]) -> None:
        self.key = key
        self.future = future


class Pool:
    def __init__(self, loop: asyncio.AbstractEventLoop, limit: int, limit_per_host: int,
                 keepalive_timeout: float) -> None:
        for name, value in (("limit", limit), ("limit_per_host", limit_per_host)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, not {value!r}")
        self._loop = loop
        self.limit = limit
        self.limit_per_host = limit_per_host
        self.keepalive_timeout = keepalive_timeout
        self._idle: dict[Any, list[Connection]] = {}
        self._per_key: dict[Any, int] = {}   # open or opening connections per key
        self._total = 0                       # open or opening connections
        self._in_use = 0
        self._connecting = 0
        self._waiters: deque[_Waiter] = deque()
        self._opened = 0
        self._closed_count = 0
        self._sweeper: asyncio.TimerHandle | None = None
        self._conns: set[Connection] = set()   # every open connection, idle or in use
        self._buffers: list[Any] = []          # parked large read buffers (park_buffer)
        self.closed = False

    # -- taking -------------------------------------------------------------------------

    def take_idle(self, key: Any) -> Connection | None:
        """An idle connection of ``key`` checked out, or None (no wait, no connect)."""
        stack = self._idle.get(key)
        if not stack:
            return None
        expiry = monotonic() - self.keepalive_timeout
        while stack:
            conn = stack.pop()
            if conn.closed or conn.idle_since < expiry or conn.transport is None or conn.transport.is_closing():
                conn._abort()
                continue
            conn.in_use = True
            self._in_use += 1
            return conn
        return None

    def _has_slot(self, key: Any) -> bool:
        if self.limit and self._total >= self.limit:
            return False
        return not (self.limit_per_host and self._per_key.get(key, 0) >= self.limit_per_host)

    def reserve(self, key: Any) -> bool:
        """Take a slot to open a connection of ``key`` if one is free now.

        A request never overtakes an earlier waiter for the same key.
        """
        for w in self._waiters:
            if w.key == key:
                return False
        if self._has_slot(key) or self._evict_idle_for(key):
            self._count_slot(key)
            return True
        return False

    def _count_slot(self, key: Any) -> None:
        self._total += 1
        self._per_key[key] = self._per_key.get(key, 0) + 1
        self._connecting += 1

    def _evict_idle_for(self, key: Any) -> bool:
        """At the total limit, close an idle connection of another key to make room."""
        if not self.limit or self._total < self.limit:
            return False
        if self.limit_per_host and self._per_key.get(key, 0) >= self.limit_per_host:
            return False
        for other, stack in self._idle.items():
            if other != key and stack:
                stack[0]._abort()   # the oldest idle one
                return self._has_slot(key)
        return False

    async def wait(self, key: Any) -> Connection | None:
        """Wait in the FIFO queue: a connection handed over, or None for a reserved slot."""
        fut: asyncio.Future[Connection | None] = self._loop.create_future()
        w = _Waiter(key, fut)
        self._waiters.append(w)
        try:
            return await fut
        except BaseException:
            if fut.done() and not fut.cancelled():
                # Handed something at the moment we were cancelled: give it back.
                got = fut.result()
                if got is None:
                    self.unreserve(key)
                else:
                    self.release(got)
            else:
                try:
                    self._waiters.remove(w)
                except ValueError:
                    pass
            raise

    def connected(self, conn: Connection) -> None:
        """A reserved slot became an open connection, checked out."""
        self._connecting -= 1
        self._opened += 1
        conn.pooled = True
        self._conns.add(conn)
        conn.in_use = True
        self._in_use += 1

    def unreserve(self, key: Any) -> None:
        """Connecting failed or was abandoned: give the slot back."""
        self._connecting -= 1
        self._forget_slot(key)

    def _forget_slot(self, key: Any) -> None:
        self._total -= 1
        n = self._per_key[key] - 1
        if n:
            self._per_key[key] = n
        else:
            del self._per_key[key]
        self._wake()

    # -- giving back ----------------------------------------------------------------------

    def release(self, conn: Connection) -> None:
        """A connection whose response ended cleanly: to a waiter or to the idle stack."""
        if not conn.in_use or conn.closed:
            return
        if self.closed:
            conn._abort()
            return
        if self._waiters:
            for w in self._waiters:
                if w.key == conn.key and not w.future.done():
                    self._waiters.remove(w)
                    w.future.set_result(conn)   # stays in use: handed over
                    return
        conn.in_use = False
        self._in_use -= 1
        conn.idle_since = monotonic()
        stack = self._idle.get(conn.key)
        if stack is None:
            stack = self._idle[conn.key] = []
        stack.append(conn)
        if self._sweeper is None:
            self._sweeper = self._loop.call_later(self.keepalive_timeout, self._sweep)
        if self._waiters:
            self._wake()

    def park_buffer(self, rbuf: Any) -> None:
        """Keep a large read buffer a connection is done with, for the next download."""
        if not self.closed and len(self._buffers) < PARKED_BUFFERS:
            self._buffers.append(rbuf)

    def take_buffer(self) -> Any:
        """A parked large read buffer, or None."""
        buffers = self._buffers
        return buffers.pop() if buffers else None

    def lost(self, conn: Connection) -> None:
        """A connection closed (by either side): forget it, once."""
        if not conn.pooled:
            return   # still connecting: the reserved slot is given back by unreserve()
        conn.pooled = False
        self._conns.discard(conn)
        if conn.in_use:
            conn.in_use = False
            self._in_use -= 1
        else:
            stack = self._idle.get(conn.key)
            if stack and conn in stack:
                stack.remove(conn)
                if not stack:
                    del self._idle[conn.key]
        self._closed_count += 1
        self._forget_slot(conn.key)

    def _wake(self) -> None:
        """Give free slots to the waiters they can serve, first come first served."""
        for w in list(self._waiters):
            if w.future.done():
                self._waiters.remove(w)
                continue
            if self._has_slot(w.key) or self._evict_idle_for(w.key):
                self._waiters.remove(w)
                self._count_slot(w.key)
                w.future.set_result(None)
            elif self.limit and self._total >= self.limit:
                break   # nothing left for anyone

    def _sweep(self) -> None:
        self._sweeper = None
        expiry = monotonic() - self.keepalive_timeout
        for stack in list(self._idle.values()):
            for conn in [c for c in stack if c.idle_since <= expiry]:
                conn._abort()
        if any(self._idle.values()):
            self._sweeper = self._loop.call_later(self.keepalive_timeout, self._sweep)

    # -- the whole pool ---------------------------------------------------------------------

    def stats(self) -> PoolStats:
        return PoolStats(
            idle=sum(len(s) for s in self._idle.values()),
            in_use=self._in_use,
            connecting=self._connecting,
            waiting=sum(1 for w in self._waiters if not w.future.done()),
            opened=self._opened,
            closed=self._closed_count,
        )

    def close(self) -> None:
        self.closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for conn in list(self._conns):
            conn.session_closed()   # requests in flight fail with a ClientError
        self._idle.clear()
        self._buffers.clear()
        for w in self._waiters:
            if not w.future.done():
                w.future.cancel()
        self._waiters.clear()

