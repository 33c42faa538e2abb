# The C twin of ``StreamReader.iter_any()``'s loop over raw body pieces (the Python twin is
# ``StreamReader._iter_raw``), and of ``ClientResponse._piece``: a unit of
# ``_connection.pyx`` (included there), as they read and write the response's slots
# at the offsets ``_learn_response_class`` found.  Why it is hand-written: a download
# streamed with ``async for piece in r.content.iter_any()`` wakes its consumer once per
# read (about 40 times per 10 MiB); in Python each wake-up resumed an async generator
# and called ``_pop`` and ``_wait``, and each read called ``_piece``: some 130 bytecodes
# and five frames per read.  Here the iterator is its own awaitable: its ``am_send`` slot
# returns the next piece (no StopIteration is made), or the future to wait on.
#
# Only for ClientResponse itself: a subclass a caller gave as ``response_class`` may
# have its own ``_piece`` or ``_pop``, so its body goes through the Python methods.

cdef extern from "Python.h":
    ctypedef enum PySendResult:
        PYGEN_RETURN
        PYGEN_ERROR
        PYGEN_NEXT
    ctypedef PySendResult (*sendfunc)(PyObject *, PyObject *, PyObject **) noexcept
    ctypedef struct PyAsyncMethods:
        sendfunc am_send
    ctypedef struct _AsyncSlots "PyTypeObject":
        PyAsyncMethods *tp_as_async
    void PyErr_SetNone(object exc)
    void PyErr_SetObject(object exc, object value)

# the response's slots read and written here, by their place in _RESPONSE_FIELDS
cdef int F_CONN = _RESPONSE_FIELDS.index("_conn")
cdef int F_PIECES = _RESPONSE_FIELDS.index("_pieces")
cdef int F_BUFFERED = _RESPONSE_FIELDS.index("_buffered")
cdef int F_COMPLETE = _RESPONSE_FIELDS.index("_complete")
cdef int F_EXC = _RESPONSE_FIELDS.index("_exc")
cdef int F_WAITER = _RESPONSE_FIELDS.index("_waiter")
cdef int F_LOOP = _RESPONSE_FIELDS.index("_loop")
cdef int F_FED = _RESPONSE_FIELDS.index("_fed")
cdef int F_TRAILERS = _RESPONSE_FIELDS.index("trailers")
cdef int F_KEEP_ALIVE = _RESPONSE_FIELDS.index("_keep_alive")
cdef int F_BODY = _RESPONSE_FIELDS.index("_body")

cdef Py_ssize_t _high_water = 0   # _response.HIGH_WATER and LOW_WATER, read with the offsets
cdef Py_ssize_t _low_water = 0


cdef inline object _get(object obj, int i):
    """Slot ``i`` of a response (every one is set when it is built)."""
    return <object>(<PyObject **>((<char *><PyObject *>obj) + _offsets[i]))[0]


cdef _piece_c(resp, data):
    """``resp._piece(data)``: a body piece for the response's reader."""
    if type(resp) is not _response_class:
        resp._piece(data)
        return
    _get(resp, F_PIECES).append(data)
    cdef Py_ssize_t n = len(data)
    cdef Py_ssize_t buffered = <Py_ssize_t>_get(resp, F_BUFFERED) + n
    _put(resp, F_BUFFERED, buffered)
    _put(resp, F_FED, <Py_ssize_t>_get(resp, F_FED) + n)
    if buffered > _high_water:
        conn = _get(resp, F_CONN)
        if conn is not None:
            conn.pause_reading()
    w = _get(resp, F_WAITER)
    if w is not None:
        _put(resp, F_WAITER, None)
        if not w.done():
            w.set_result(None)


cdef class RawPieces:
    """``async for piece in r.content.iter_any()`` over a body with no decoder."""

    cdef object _reader, _resp

    def __cinit__(self, reader):
        resp = reader._resp
        if _response_class is None:
            _learn_response_class()
        if type(resp) is not _response_class:
            raise TypeError("RawPieces serves ClientResponse itself, not a subclass")
        self._reader = reader
        self._resp = resp

    cdef object _poll(self):
        """The next piece; None at the end; else the future to wait on (what ``_pop``
        and ``_wait`` do in the Python twin)."""
        reader = self._reader
        rest = reader._rest
        if rest:
            reader._rest = b""
            return rest if type(rest) is bytes else bytes(rest)
        resp = self._resp
        pieces = _get(resp, F_PIECES)
        cdef Py_ssize_t buffered
        if pieces:
            # a deque; a list of one piece for a response that came whole (_whole_c)
            data = pieces.popleft() if type(pieces) is not list else (<list>pieces).pop(0)
            _put(resp, F_BODY, None)   # a body kept whole for read() is no longer whole (_pop)
            buffered = <Py_ssize_t>_get(resp, F_BUFFERED) - len(data)
            _put(resp, F_BUFFERED, buffered)
            conn = _get(resp, F_CONN)
            if conn is not None and buffered < _low_water and conn.reading_paused:
                conn.resume_reading()
            return data if data else None
        if _get(resp, F_COMPLETE):
            return None
        exc = _get(resp, F_EXC)
        if exc is not None:
            raise exc
        waiter = _get(resp, F_LOOP).create_future()
        _put(resp, F_WAITER, waiter)
        waiter._asyncio_future_blocking = True
        return waiter

    def __aiter__(self):
        return self

    def __anext__(self):
        return self

    def __await__(self):
        return self

    def __iter__(self):
        return self

    def __next__(self):
        # Reached only when ``await`` cannot use am_send (a tracer is set, say).
        out = self._poll()
        if out is None:
            raise StopAsyncIteration
        if type(out) is bytes:
            raise StopIteration(out)
        return out

    async def aclose(self):
        """What an async generator has (``contextlib.aclosing``): nothing to close here."""


cdef PySendResult _pieces_send(PyObject *self, PyObject *arg, PyObject **presult) noexcept:
    """``await``'s way in (the am_send slot): a piece is returned without a StopIteration."""
    cdef object out
    try:
        out = (<RawPieces>self)._poll()
    except BaseException as exc:
        PyErr_SetObject(type(exc), exc)
        return PYGEN_ERROR
    if out is None:
        PyErr_SetNone(StopAsyncIteration)
        return PYGEN_ERROR
    Py_INCREF(out)
    presult[0] = <PyObject *>out
    return PYGEN_RETURN if type(out) is bytes else PYGEN_NEXT


# Cython gives the type an async slot table (it has __await__) but no am_send: fill it in.
(<_AsyncSlots *>RawPieces).tp_as_async.am_send = _pieces_send
