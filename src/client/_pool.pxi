# The C twin of the connection pool (``wirespeed.client._pool.Pool``), a unit of
# ``_connection.pyx`` (included there): same contract, fields, methods and errors as the
# Python twin, whose module docstring describes the pool.  Why it is hand-written: every
# request takes a connection from its origin's idle stack and gives it back at the end of
# the response; in Python those two calls were about 100 bytecodes and two frames per
# request.  Here they are C functions over the pool's fields and the C connection's, both
# in structs: one compiled module, so each reads the other's fields directly.


cdef object _NO_KEY = object()   # Pool._hot_key when no stack is kept


cdef class _Waiter:
    cdef public object key, future

    def __cinit__(self, key, future):
        self.key = key
        self.future = future


cdef class Pool:
    """Idle stacks per key, limits and a fair FIFO wait (see the Python twin)."""

    cdef public object _loop, _per_key, _waiters, _sweeper, _conns, _buffers
    cdef public dict _idle   # typed: its get() on the hot path is a C call, not a method lookup
    # The last key whose stack was looked up, and that stack: a request's key is its target's
    # tuple, the same object each time, and a tuple's hash is not cached (two hashes of three
    # fields per request).  Forgotten whenever a stack leaves _idle.
    cdef object _hot_key
    cdef list _hot_stack
    cdef public Py_ssize_t limit, limit_per_host, _total, _in_use, _connecting, _opened, _closed_count
    cdef public double keepalive_timeout
    cdef public bint closed

    def __init__(self, loop, limit, limit_per_host, keepalive_timeout):
        for name, value in (("limit", limit), ("limit_per_host", limit_per_host)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, not {value!r}")
        self._loop = loop
        self.limit = limit
        self.limit_per_host = limit_per_host
        self.keepalive_timeout = keepalive_timeout
        self._idle = {}
        self._hot_key = _NO_KEY
        self._hot_stack = None
        self._per_key = {}
        self._total = 0
        self._in_use = 0
        self._connecting = 0
        self._waiters = deque()
        self._opened = 0
        self._closed_count = 0
        self._sweeper = None
        self._conns = set()
        self._buffers = []
        self.closed = False

    # -- taking -------------------------------------------------------------------------

    def take_idle(self, key):
        return self._take_idle_c(key)

    cdef inline object _stack_of(self, key):
        """``self._idle.get(key)``, the last key's stack without a lookup."""
        if key is self._hot_key:
            return self._hot_stack
        stack = self._idle.get(key)
        if stack is not None:
            self._hot_key = key
            self._hot_stack = stack
        return stack

    cdef inline void _forget_stacks(self) noexcept:
        self._hot_key = _NO_KEY
        self._hot_stack = None

    cdef object _take_idle_c(self, key):
        cdef list stack = self._stack_of(key)
        if not stack:
            return None
        cdef double expiry = monotonic() - self.keepalive_timeout
        cdef ConnectionCore conn
        while stack:
            conn = <ConnectionCore?>stack.pop()
            if conn.closed or conn.idle_since < expiry or conn.transport is None or conn.transport.is_closing():
                conn._abort_c()
                continue
            conn.in_use = True
            self._in_use += 1
            return conn
        return None

    cdef bint _has_slot(self, key) except -1:
        if self.limit and self._total >= self.limit:
            return False
        return not (self.limit_per_host and self._per_key.get(key, 0) >= self.limit_per_host)

    def reserve(self, key):
        for w in self._waiters:
            if (<_Waiter>w).key == key:
                return False
        if self._has_slot(key) or self._evict_idle_for(key):
            self._count_slot(key)
            return True
        return False

    cdef _count_slot(self, key):
        self._total += 1
        self._per_key[key] = self._per_key.get(key, 0) + 1
        self._connecting += 1

    cdef bint _evict_idle_for(self, key) except -1:
        if not self.limit or self._total < self.limit:
            return False
        if self.limit_per_host and self._per_key.get(key, 0) >= self.limit_per_host:
            return False
        for other, stack in self._idle.items():
            if other != key and stack:
                stack[0]._abort()
                return self._has_slot(key)
        return False

    async def wait(self, key):
        fut = self._loop.create_future()
        w = _Waiter(key, fut)
        self._waiters.append(w)
        try:
            return await fut
        except BaseException:
            if fut.done() and not fut.cancelled():
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

    def connected(self, conn):
        self._connecting -= 1
        self._opened += 1
        conn.pooled = True
        self._conns.add(conn)
        conn.in_use = True
        self._in_use += 1

    def unreserve(self, key):
        self._connecting -= 1
        self._forget_slot(key)

    cdef _forget_slot(self, key):
        self._total -= 1
        n = self._per_key[key] - 1
        if n:
            self._per_key[key] = n
        else:
            del self._per_key[key]
        self._wake()

    # -- giving back ----------------------------------------------------------------------

    def release(self, conn):
        self._release_c(<ConnectionCore?>conn)

    cdef _release_c(self, ConnectionCore conn):
        if not conn.in_use or conn.closed:
            return
        if self.closed:
            conn._abort_c()
            return
        cdef _Waiter w
        if self._waiters:
            for w in self._waiters:
                if w.key == conn.key and not w.future.done():
                    self._waiters.remove(w)
                    w.future.set_result(conn)
                    return
        conn.in_use = False
        self._in_use -= 1
        conn.idle_since = monotonic()
        key = conn.key
        stack = self._stack_of(key)
        if stack is None:
            stack = self._idle[key] = []
        stack.append(conn)
        if self._sweeper is None:
            self._sweeper = self._loop.call_later(self.keepalive_timeout, self._sweep)
        if self._waiters:
            self._wake()

    def park_buffer(self, rbuf):
        if not self.closed and len(self._buffers) < PARKED_BUFFERS:
            self._buffers.append(rbuf)

    def take_buffer(self):
        buffers = self._buffers
        return buffers.pop() if buffers else None

    def lost(self, conn):
        if not conn.pooled:
            return
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
                    self._forget_stacks()
        self._closed_count += 1
        self._forget_slot(conn.key)

    cdef _wake(self):
        cdef _Waiter w
        for w in list(self._waiters):
            if w.future.done():
                self._waiters.remove(w)
                continue
            if self._has_slot(w.key) or self._evict_idle_for(w.key):
                self._waiters.remove(w)
                self._count_slot(w.key)
                w.future.set_result(None)
            elif self.limit and self._total >= self.limit:
                break

    def _sweep(self):
        self._sweeper = None
        cdef double expiry = monotonic() - self.keepalive_timeout
        for stack in list(self._idle.values()):
            for conn in [c for c in stack if c.idle_since <= expiry]:
                conn._abort()
        if any(self._idle.values()):
            self._sweeper = self._loop.call_later(self.keepalive_timeout, self._sweep)

    # -- the whole pool ---------------------------------------------------------------------

    def stats(self):
        from wirespeed.client._pool import PoolStats   # beside the Python twin; not on a hot path

        return PoolStats(
            idle=sum(len(s) for s in self._idle.values()),
            in_use=self._in_use,
            connecting=self._connecting,
            waiting=sum(1 for w in self._waiters if not w.future.done()),
            opened=self._opened,
            closed=self._closed_count,
        )

    def close(self):
        self.closed = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        for conn in list(self._conns):
            conn.session_closed()
        self._idle.clear()
        self._forget_stacks()
        self._buffers.clear()
        for w in self._waiters:
            if not w.future.done():
                w.future.cancel()
        self._waiters.clear()
