# cython: language_level=3, freethreading_compatible=True
"""The C twin of the client's connection protocol (``wirespeed.client._connection``).

Same contract, fields, methods and errors as the Python twin, whose module
docstring says why the protocol is shaped as it is; this file is that class
with its fields in a C struct (and ``loop.time`` kept bound, ``_time``).
Why it is hand-written: past the wire layer, the connection's callbacks were
the largest share of a small request's CPU that ran as Python bytecode (``buffer_updated``, the whole-response fast
path, the hand-over of the response, the end of the message and ``begin``:
about 300 bytecodes and six Python frames per request, with every field read
a descriptor lookup).  Here they are C functions reading struct fields.

The class is :class:`ConnectionCore`; the client's ``CConnection`` is it
with ``FlowControl`` and ``asyncio.BufferedProtocol`` mixed in (a ``cdef
class`` cannot derive from Python classes; asyncio and uvloop recognise a
buffered protocol by ``isinstance``).  Methods the rest of the client calls
are ``def``; the calls among the callbacks are ``cdef`` (no lookup, no
argument tuple), each under the Python twin's name with a ``_c`` suffix.
"""

from cpython.object cimport PyObject, PyObject_Call, PyTypeObject
from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_New
from cpython.ref cimport Py_DECREF, Py_INCREF, Py_XDECREF

import asyncio
import socket
import sys
import weakref
from collections import deque

from wirespeed.errors import (
    ClientConnectionError,
    ClientPayloadError,
    HttpParserError,
    IncompleteMessage,
    ReadTimeout,
    ResponseProtocolError,
    ServerDisconnectedError,
    TotalTimeout,
)
from wirespeed.wire import FlowControl

from asyncio import InvalidStateError as _InvalidStateError

# time.monotonic's clock, read in C (no call through the module): the pool's idle times
from cpython.time cimport monotonic
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.memoryview cimport PyMemoryView_GET_BUFFER

__all__ = ["ConnectionCore", "PARKED_BUFFERS", "Pool", "RawPieces", "READ_BUFFER_MAX", "READ_BUFFER_SIZE",
           "RECV_LOWAT", "RECV_LOWAT_WAIT"]

# Same values as the Python twins (``_connection.READ_BUFFER_SIZE`` / ``READ_BUFFER_MAX`` /
# ``RECV_LOWAT`` / ``RECV_LOWAT_WAIT``, ``_pool.PARKED_BUFFERS``); a test holds them equal.
READ_BUFFER_SIZE = 64 * 1024
READ_BUFFER_MAX = 512 * 1024
RECV_LOWAT = READ_BUFFER_MAX * 3 // 4
RECV_LOWAT_WAIT = 0.1
PARKED_BUFFERS = 2

cdef Py_ssize_t _SMALL = READ_BUFFER_SIZE
cdef Py_ssize_t _LARGE = READ_BUFFER_MAX
cdef Py_ssize_t _LOWAT = RECV_LOWAT
cdef double _LOWAT_WAIT = RECV_LOWAT_WAIT
cdef int _SOL_SOCKET = socket.SOL_SOCKET
cdef int _SO_RCVLOWAT = getattr(socket, "SO_RCVLOWAT", 0)
cdef double INF = float("inf")
# Body pieces the C parser gives as bytes rather than memoryview slices of the read buffer
# (Wire.parser_calls' feed_view): the connection copies every piece to bytes anyway but one
# that fills at least a quarter of the buffer, which it may take whole (_take_whole_c).
cdef Py_ssize_t _COPY_UNDER = READ_BUFFER_SIZE // 4

include "_slots.pxi"

cdef extern from "Python.h":
    ctypedef PyObject *(*allocfunc)(PyTypeObject *, Py_ssize_t) noexcept
    ctypedef object (*newfunc)(PyTypeObject *, object, PyObject *)
    ctypedef struct _TypeSlots "PyTypeObject":
        allocfunc tp_alloc
        newfunc tp_new

cdef object _flow_init = FlowControl.__init__
cdef object _flow_lost = FlowControl.connection_lost

include "_wire_calls.pxi"
include "_plain_api.pxi"


# -- the response, built in C ------------------------------------------------------------
#
# Building a ClientResponse through its Python __init__ (a class call, a frame, 24 slot
# stores) was a tenth of a small request's CPU.  For the class itself (not a subclass a
# caller gave as response_class, whose __init__ must run) the fields are written here
# straight into the slots Python made for them: the offsets are read once from the
# class's member descriptors.  ``_RESPONSE_FIELDS`` is every slot __init__ sets, in the
# order of the values below; a test builds a response both ways and compares each slot.

_RESPONSE_FIELDS = (
    "method", "url", "status", "reason", "version", "_head", "content_length", "_keep_alive",
    "_conn", "_pieces", "_buffered", "_complete", "_exc", "_waiter", "_body", "_decoder", "_coding_checked",
    "_auto_decompress", "_content", "history", "trailers", "_loop", "_fed",
)
cdef enum:
    N_FIELDS = 23
cdef Py_ssize_t _offsets[N_FIELDS]
cdef object _response_class = None   # ClientResponse once its offsets are known


cdef bint _learn_response_class() except -1:
    """Read the slot offsets of ClientResponse (the client's own class, imported on first use)."""
    global _response_class
    from wirespeed.client._response import ClientResponse

    if len(_RESPONSE_FIELDS) != N_FIELDS or set(ClientResponse.__slots__) - {"__weakref__"} != set(_RESPONSE_FIELDS):
        raise RuntimeError("ClientResponse's slots and the C twin's response fields differ")
    _slot_offsets(ClientResponse, _RESPONSE_FIELDS, _offsets)
    from wirespeed.client._response import HIGH_WATER, LOW_WATER

    global _high_water, _low_water
    _high_water = HIGH_WATER
    _low_water = LOW_WATER
    _response_class = ClientResponse
    return 0


cdef inline void _put(object obj, int i, object value) noexcept:
    """Store ``value`` in slot ``i`` of a response (a new reference replaces the old one)."""
    cdef PyObject **slot = <PyObject **>((<char *><PyObject *>obj) + _offsets[i])
    cdef PyObject *old = slot[0]
    Py_INCREF(value)
    slot[0] = <PyObject *>value
    Py_XDECREF(old)


cdef object _EMPTY_TUPLE = ()


# asyncio.Future(loop=loop) is what the stock loops' create_future() make (asyncio's
# BaseEventLoop and uvloop's Loop); for those the connection makes it with one class call,
# without the method call and the keyword dict it builds each time (about 500
# instructions of a small request).  Any other loop's create_future is called.
cdef object _Future = asyncio.Future


cdef dict _future_kwargs(loop):
    make = getattr(type(loop), "create_future", None)
    if make is asyncio.BaseEventLoop.create_future:
        return {"loop": loop}
    uvloop = sys.modules.get("uvloop")
    if uvloop is not None and make is getattr(uvloop.Loop, "create_future", None):
        return {"loop": loop}
    return None


cdef inline object _new_deque():
    """``deque()``: its type's tp_new alone makes an empty, unbounded one (what tp_init
    would make of no arguments), without the class call and its argument parsing."""
    return (<_TypeSlots *>deque).tp_new(<PyTypeObject *>deque, _EMPTY_TUPLE, NULL)


cdef inline bytes _copy(object piece):
    """``bytes(piece)`` for a body piece (a memoryview of single bytes from the parser),
    without the class call."""
    cdef Py_buffer *b = PyMemoryView_GET_BUFFER(piece)
    if b.ndim != 1 or b.itemsize != 1 or (b.strides != NULL and b.strides[0] != 1):
        return bytes(piece)
    return PyBytes_FromStringAndSize(<const char *>b.buf, b.len)


cdef object _new_response(type cls, method, url, head, conn, auto_decompress, loop, pieces, whole):
    """What ``ClientResponse(method, url, head, conn)`` makes, without calling it; its body's
    pieces in ``pieces`` (a new deque when None).  ``whole``: the body of a response that came
    whole with its head (else None), kept as what ``read()`` returns unless it is to be decoded."""
    cdef PyObject *raw = (<_TypeSlots *>cls).tp_alloc(<PyTypeObject *>cls, 0)
    if raw == NULL:
        raise MemoryError()
    resp = <object>raw
    Py_DECREF(resp)   # tp_alloc's reference; the cast took its own
    cdef HeadFacts f
    _put(resp, 0, method)
    _put(resp, 1, url)
    if type(head) is _CHead:
        _facts(head, &f)
        _put(resp, 2, f.status)
        _put(resp, 3, <object>f.reason)
        _put(resp, 4, <object>f.version)
        _put(resp, 6, <object>f.content_length)
        _put(resp, 7, True if f.keep_alive else False)
        if f.has_coding and auto_decompress:
            whole = None
    else:
        if whole is not None and auto_decompress and head.content_encoding is not None:
            whole = None
        _put(resp, 2, head.status)
        _put(resp, 3, head.reason)
        _put(resp, 4, head.version)
        _put(resp, 6, head.content_length)
        _put(resp, 7, head.keep_alive)
    _put(resp, 5, head)
    _put(resp, 8, conn)
    _put(resp, 9, _new_deque() if pieces is None else pieces)
    _put(resp, 10, 0)
    _put(resp, 11, False)
    _put(resp, 12, None)
    _put(resp, 13, None)
    _put(resp, 14, whole)
    _put(resp, 15, None)
    _put(resp, 16, False)
    _put(resp, 17, auto_decompress)
    _put(resp, 18, None)
    _put(resp, 19, _EMPTY_TUPLE)
    _put(resp, 20, None)
    _put(resp, 21, loop)
    _put(resp, 22, 0)
    return resp


def _build_response(ConnectionCore conn, head):
    """The C twin's way of building a response for ``head`` on ``conn`` (for the test that
    compares it with ClientResponse's own __init__, slot by slot)."""
    return conn._response(head)


cdef class ConnectionCore   # defined below; the pool's unit reads its fields


include "_pool.pxi"
include "_pieces.pxi"


cdef class ConnectionCore:
    """The fields and callbacks of a pooled HTTP/1.1 connection (see the Python twin)."""

    cdef public object _loop, _pool, key, _wire, _parser, _head_type, _end_type, writer_type
    cdef public object _receive_type, _rbuf, transport, waiter, response, _method, _url, _session
    cdef public object continue_waiter, _timer, _read_timeout, _time, _small, _lowat_sock
    cdef dict _future_kw        # {"loop": loop} when the loop's create_future is a stock one
    cdef object _rview          # _rbuf.view, kept: read on every read, changed only here
    cdef object _resp_session, _resp_cls, _auto_decompress   # read from the session once
    cdef public Py_ssize_t _rsize, requests, received, _lowat
    cdef public bint closed, in_use, pooled, reading_paused, reusable, sending, tunneling, _interim, _streaming
    cdef public double idle_since, _timer_at, _deadline, _read_deadline, _lowat_deadline

    def __init__(self, pool, key, wire, loop):
        _flow_init(self)
        self._loop = loop
        self._future_kw = _future_kwargs(loop)
        self._time = loop.time
        self._pool = pool
        self.key = key
        self._wire = wire
        self._parser = wire.ResponseParser()
        self._head_type = wire.ResponseHead
        self._end_type = wire.MessageEnd
        self.writer_type = wire.StreamWriter
        self._receive_type = wire.ReceiveBuffer
        self._use_buffer_c(_SMALL)
        self._small = self._rbuf
        self._streaming = False
        self.transport = None
        self.closed = False
        self.in_use = False
        self.pooled = False
        self.requests = 0
        self.idle_since = 0.0
        self.reading_paused = False
        self.reusable = True
        self.sending = False
        self.tunneling = False
        self.waiter = None
        self.response = None
        self._method = "GET"
        self._url = None
        self._session = None
        self.received = 0
        self._interim = False
        self.continue_waiter = None
        self._timer = None
        self._timer_at = INF
        self._deadline = INF
        self._read_timeout = None
        self._read_deadline = INF
        self._lowat_sock = None
        self._lowat = 1
        self._lowat_deadline = INF

    # -- asyncio callbacks ----------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
            if _SO_RCVLOWAT and transport.get_extra_info("ssl_object") is None:
                self._lowat_sock = sock

    cdef _use_buffer_c(self, Py_ssize_t size):
        self._rbuf = self._receive_type(size)
        self._rview = self._rbuf.view
        self._rsize = size

    def _use_buffer(self, Py_ssize_t size):
        self._use_buffer_c(size)

    cdef _grow_c(self):
        rbuf = self._pool.take_buffer()
        if rbuf is None:
            rbuf = self._receive_type(_LARGE)
        self._rbuf = rbuf
        self._rview = rbuf.view
        self._rsize = _LARGE

    def _grow(self):
        self._grow_c()

    cdef _shrink_c(self):
        self._pool.park_buffer(self._rbuf)
        self._rbuf = self._small
        self._rview = self._small.view
        self._rsize = _SMALL

    def _shrink(self):
        self._shrink_c()

    cdef _response(self, head, pieces=None, whole=None):
        """A response to this exchange for ``head``: built in C for ClientResponse itself,
        its pieces in ``pieces`` when given (a response that came whole: a list, and its
        body in ``whole``)."""
        session = self._session
        if session is not self._resp_session:
            # a connection serves one session: its response class and auto_decompress, once
            self._resp_cls = session._response_class
            self._auto_decompress = session._auto_decompress
            self._resp_session = session
        cls = self._resp_cls
        if _response_class is None:
            _learn_response_class()
        if cls is _response_class:
            return _new_response(cls, self._method, self._url, head, self, self._auto_decompress, self._loop,
                                 pieces, whole)
        return cls(self._method, self._url, head, self)

    def get_buffer(self, sizehint):
        return self._rview

    def buffer_updated(self, Py_ssize_t nbytes):
        if self.waiter is None and self.response is None:
            self._abort_c()
            return
        self.received += nbytes
        if self._read_timeout is not None:
            self._read_deadline = self._time() + self._read_timeout
        rbuf = self._rbuf
        cdef Py_ssize_t size = self._rsize
        cdef PyObject *perr_p = NULL
        parser = self._parser
        try:
            if type(parser) is _CParser:
                events = _pc.feed_view(parser, self._rview, nbytes, _COPY_UNDER, &perr_p)
            else:
                events = parser.feed(rbuf.view[:nbytes] if nbytes != size else rbuf.view)
        except HttpParserError as exc:
            self._fail_c(ResponseProtocolError(f"malformed response: {exc}", method=self._method, url=self._url),
                         exc)
            return
        if events:
            if self.response is None and self._whole_c(events):
                pass
            elif (len(events) <= 2 and (4 if self._streaming else 2) * nbytes >= size
                  and self._take_whole_c(events, rbuf, nbytes)):
                pass
            else:
                self._dispatch_c(events)
        if nbytes == size and size < _LARGE:
            self._grow_c()
        if self._lowat_sock is not None and (self._lowat > 1 or (nbytes >= _SMALL and self._rsize == _LARGE)):
            self._tune_lowat_c()
        if type(parser) is _CParser:
            if perr_p == NULL:
                return
            perr = <object>perr_p
        else:
            perr = parser.error
        if perr is not None and not self.closed:
            self._fail_c(ResponseProtocolError(f"malformed response: {perr}", method=self._method, url=self._url),
                         perr)

    def _take_whole(self, events, rbuf, Py_ssize_t nbytes):
        return self._take_whole_c(events, rbuf, nbytes)

    def _tune_lowat(self):
        self._tune_lowat_c()

    cdef _tune_lowat_c(self):
        cdef Py_ssize_t want = 1
        ref = self.response
        resp = ref() if ref is not None else None
        if resp is not None and self._rsize == _LARGE and not self.closed:
            length = resp.content_length
            if length is not None and length - resp._fed >= _LOWAT:
                want = _LOWAT
        if want > 1:
            wait = self._read_timeout
            self._lowat_deadline = self._time() + (_LOWAT_WAIT if wait is None or wait >= 2 * _LOWAT_WAIT
                                                   else <double>wait / 2)
            if self._lowat == 1:
                self._arm_c(self._lowat_deadline)
        if want != self._lowat:
            self._set_lowat_c(want)

    def _set_lowat(self, Py_ssize_t want):
        self._set_lowat_c(want)

    cdef _set_lowat_c(self, Py_ssize_t want):
        cdef bint up
        try:
            self._lowat_sock.setsockopt(_SOL_SOCKET, _SO_RCVLOWAT, want)
        except OSError as exc:
            self._lowat_sock = None
            up = self._lowat > 1
            self._lowat = 1
            self._lowat_deadline = INF
            if up:
                self.reusable = False
                if self.waiter is not None or self.response is not None:
                    self._fail_c(ClientConnectionError("the socket's receive low-water mark could not be lowered",
                                                       method=self._method, url=self._url), exc)
        else:
            self._lowat = want
            if want == 1:
                self._lowat_deadline = INF

    cdef bint _take_whole_c(self, list events, rbuf, Py_ssize_t nbytes) except -1:
        first = events[0]
        ref = self.response
        resp = ref() if ref is not None else None
        if (resp is None or type(first) is not memoryview or first.nbytes != nbytes
                or (len(events) == 2 and type(events[1]) is not self._end_type)):
            return False
        del first
        del events[0]
        _piece_c(resp, rbuf.take(nbytes))
        if rbuf is self._rbuf:
            self._rview = rbuf.view   # take() gave the buffer new storage and a new view
        if events:
            self._dispatch_c(events)
        return True

    def eof_received(self):
        return False

    def connection_lost(self, exc):
        _flow_lost(self, exc)
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.waiter is not None or self.response is not None:
            try:
                events = self._parser.feed_eof()
            except IncompleteMessage as perr:
                self._lost_mid_message(exc, perr)
            except HttpParserError as perr:
                self._fail_c(ResponseProtocolError(f"malformed response: {perr}", method=self._method,
                                                   url=self._url), perr)
            else:
                if events:
                    self._dispatch_c(events)
                if self.waiter is not None or self.response is not None:
                    self._lost_mid_message(exc, None)
        self._pool.lost(self)

    # -- an exchange ------------------------------------------------------------------

    def begin(self, session, method, url, double deadline, read_timeout):
        return self._begin_c(session, method, url, deadline, read_timeout)

    cdef object _begin_c(self, session, method, url, double deadline, read_timeout):
        self.requests += 1
        self._session = session
        self._method = method
        self._url = url
        self._streaming = False
        self.received = 0
        parser = self._parser
        if type(parser) is _CParser:
            _pc.set_method(parser, method)
        elif method != parser.method:
            parser.method = method
        kw = self._future_kw
        if kw is not None:
            waiter = self.waiter = PyObject_Call(_Future, _EMPTY_TUPLE, kw)
        else:
            waiter = self.waiter = self._loop.create_future()
        self._deadline = deadline
        self._read_timeout = read_timeout
        if read_timeout is not None:
            self._read_deadline = self._time() + read_timeout
            self._arm_c(min(deadline, self._read_deadline))
        elif deadline < self._timer_at:
            self._arm_c(deadline)
        return waiter

    def _dispatch(self, events):
        self._dispatch_c(events)

    cdef _dispatch_c(self, list events):
        if self.response is None and self._whole_c(events):
            return
        ref = self.response
        resp = ref() if ref is not None else None
        head_type = self._head_type
        cdef bint ended = False
        for ev in events:
            if ended:
                self.reusable = False
                break
            kind = type(ev)
            if kind is bytes:
                if resp is not None:
                    _piece_c(resp, ev)
            elif kind is memoryview:
                if resp is not None:
                    _piece_c(resp, _copy(ev))
            elif kind is head_type:
                status = ev.status
                if status < 200 and status != 101:
                    self._interim = True
                    cw = self.continue_waiter
                    if cw is not None and not cw.done():
                        cw.set_result(status)
                    continue
                resp = self._response(ev)
                self.response = weakref.ref(resp, self._response_dropped)
            elif self._interim:
                self._interim = False
            else:
                ended = True
                if resp is not None:
                    resp._end(ev)
                self.response = None
        if self.waiter is not None and resp is not None:
            self._hand_over_c(resp)
        if ended:
            self._message_done_c(resp)

    def _whole(self, events):
        return self._whole_c(events)

    cdef bint _whole_c(self, list events) except -1:
        cdef Py_ssize_t n = len(events)
        if n == 3:
            head = events[0]
            body = events[1]
            end = events[2]
            if type(body) is memoryview:
                body = _copy(body)
            elif type(body) is not bytes:
                return False
        elif n == 2:
            head = events[0]
            end = events[1]
            body = None
        else:
            return False
        if (type(head) is not self._head_type or type(end) is not self._end_type or _head_status(head) < 200
                or self._interim):
            return False
        # A whole response's pieces are a list (one piece or none, never added to): a deque
        # and its block of 64 slots cost about 700 instructions more to make and free.
        if body is not None:
            resp = self._response(head, [body], body)
        else:
            resp = self._response(head, [], b"")
        if type(resp) is _response_class:
            # built here: its slots are written as _new_response writes them
            if body is not None:
                _put(resp, F_BUFFERED, len(body))
                _put(resp, F_FED, len(body))
            # What ClientResponse._end does, inlined, as in the Python twin.
            _put(resp, F_COMPLETE, True)
            _put(resp, F_TRAILERS, end.trailers)
            _put(resp, F_CONN, None)
        else:
            if body is not None:
                resp._pieces.append(body)
                resp._buffered = resp._fed = len(body)
            if not resp._auto_decompress or head.content_encoding is None:
                resp._body = body if body is not None else b""
            resp._complete = True
            resp.trailers = end.trailers
            resp._conn = None
        if self.waiter is not None:
            self._hand_over_c(resp)
        self._message_done_c(resp)
        return True

    def _hand_over(self, resp):
        self._hand_over_c(resp)

    cdef _hand_over_c(self, resp):
        waiter = self.waiter
        self.waiter = None
        cw = self.continue_waiter
        if cw is not None and not cw.done():
            cw.set_result(resp.status)
        if waiter is not None:
            # what ``if not waiter.done(): waiter.set_result(resp)`` does, without the probe
            # (a waiter cancelled with its request refuses the result, and is left as it is)
            try:
                waiter.set_result(resp)
            except _InvalidStateError:
                pass

    def _message_done(self, resp):
        self._message_done_c(resp)

    cdef _message_done_c(self, resp):
        self._read_timeout = None
        if self.tunneling:
            return
        if self.reading_paused:
            self.resume_reading()
        if self._lowat > 1:
            self._set_lowat_c(1)
        if resp is None:
            keep = False
        elif type(resp) is _response_class:
            keep = _get(resp, F_KEEP_ALIVE)
        else:
            keep = resp._keep_alive
        if (keep and self.reusable and not self.sending
                and self.continue_waiter is None and self._parser_idle() and not self.closed):
            if self._rsize != _SMALL:
                self._shrink_c()
            pool = self._pool
            if type(pool) is Pool:
                (<Pool>pool)._release_c(self)
            else:
                pool.release(self)
        else:
            self._abort_c()

    cdef inline bint _parser_idle(self) except -1:
        parser = self._parser
        if type(parser) is _CParser:
            return _pc.idle(parser)
        return parser.idle

    def tunneled(self):
        self.tunneling = False
        self.requests = 0
        self._lowat_sock = None
        self._parser = self._wire.ResponseParser()

    # -- failures ---------------------------------------------------------------------

    def _lost_mid_message(self, exc, perr):
        if self.waiter is not None:
            err = ServerDisconnectedError(
                "the server closed the connection before the response head" if not self.received
                else "the server closed the connection inside the response head",
                method=self._method, url=self._url)
            err.nothing_received = not self.received
        else:
            err = ClientPayloadError(f"the response body ended early: {perr or 'connection lost'}",
                                     method=self._method, url=self._url)
        self._fail_c(err, perr or exc)

    def _fail(self, err, cause=None):
        self._fail_c(err, cause)

    cdef _fail_c(self, err, cause):
        if cause is not None:
            err.__cause__ = cause
        waiter, ref = self.waiter, self.response
        resp = ref() if ref is not None else None
        self.waiter = self.response = None
        cw = self.continue_waiter
        if cw is not None and not cw.done():
            cw.set_exception(err)
        if waiter is not None and not waiter.done():
            waiter.set_exception(err)
        elif resp is not None:
            resp._set_exception(err)
        self._abort_c()

    def _abort(self):
        self._abort_c()

    cdef _abort_c(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._timer_at = INF
        t = self.transport
        if t is not None and not self.closed:
            self.closed = True
            t.abort()
        self.closed = True
        self._pool.lost(self)

    def close(self):
        waiter, ref = self.waiter, self.response
        resp = ref() if ref is not None else None
        self.waiter = self.response = None
        if waiter is not None and not waiter.done():
            waiter.cancel()
        if resp is not None:
            resp._set_exception(ClientPayloadError("the response was closed before its end",
                                                   method=self._method, url=self._url))
        self._abort_c()

    def _response_dropped(self, ref):
        if ref is not self.response or self.closed:
            return
        self.waiter = self.response = None
        try:
            self._abort_c()
        except Exception:
            pass

    def session_closed(self):
        if self.waiter is not None or self.response is not None:
            self._fail_c(ClientConnectionError("the session was closed", method=self._method, url=self._url),
                         None)
        else:
            self._abort_c()

    # -- timeouts ---------------------------------------------------------------------

    def _arm(self, double when):
        self._arm_c(when)

    cdef _arm_c(self, double when):
        if when < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_at(when, self._on_timer)
            self._timer_at = when

    def _on_timer(self):
        self._timer = None
        self._timer_at = INF
        if self.waiter is None and self.response is None:
            return
        cdef double now = self._time()
        if now >= self._deadline:
            self._fail_c(TotalTimeout("the request took longer than its total timeout",
                                      method=self._method, url=self._url), None)
        elif now >= self._lowat_deadline:
            self._set_lowat_c(1)
            self._arm_c(min(self._deadline, self._read_deadline))
        elif now >= self._read_deadline:
            self._fail_c(ReadTimeout("no response bytes within the read timeout", method=self._method,
                                     url=self._url), None)
        else:
            self._arm_c(min(self._deadline, self._read_deadline, self._lowat_deadline))

    # -- read backpressure (called by the response) -------------------------------------

    def raw_pieces(self, reader):
        """What ``reader.iter_any()`` returns for a body with no decoder (``RawPieces``);
        its pieces are dropped as they go, so reads of a quarter of the buffer are taken
        whole from now on, as in the Python twin."""
        self._streaming = True
        return RawPieces(reader)

    def pause_reading(self):
        if not self.reading_paused and self.transport is not None and not self.closed:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self):
        if self.reading_paused and self.transport is not None and not self.closed:
            self.reading_paused = False
            self.transport.resume_reading()


# -- the plain path's calls ---------------------------------------------------------------
#
# What the C twin of ``session.get()`` (src/client/_context.pyx) asks of the pool and a
# connection for a request without options, as C functions it reaches through the
# _PLAIN_API capsule (src/client/_plain_api.pxi): taking the idle connection and
# beginning the exchange, then writing the head (and a body of bytes).  Through Python
# these were seven calls and attribute reads per request, each a lookup and an argument
# parse; the Python twin's session makes the same calls in _exchange.

cdef object _plain_take(object pool, object key, object session, object method, object url, object total,
                        object read_timeout, PlainStart *out):
    """The idle connection for ``key``, its exchange begun (the deadline ``total`` from now); or None."""
    cdef ConnectionCore conn
    if type(pool) is not Pool:
        return _NO_API
    found = (<Pool>pool)._take_idle_c(key)
    if found is None:
        return None
    conn = <ConnectionCore>found   # the pool's stacks hold ConnectionCore only
    out.reused = conn.requests > 0
    out.deadline = INF if total is None else conn._time() + <double>total
    conn._begin_c(session, method, url, out.deadline, read_timeout)
    out.waiter = <PyObject *>conn.waiter   # held by the connection
    return conn


cdef object _plain_send(object conn, object method, object target, object items, object body):
    """Write the head and the body (bytes or None) on a connection _plain_take gave."""
    cdef ConnectionCore c = <ConnectionCore>conn
    if c.writer_type is _CWriter and _wc.write_small(c.transport, method, target, items, body):
        return None
    writer = c.writer_type(c.transport, c)
    writer.write_request_headers(method, target, items)
    if body is None:
        writer.set_eof()
    else:
        writer.write_eof(body)
    return None


cdef object _NO_API = object()   # _plain_take: not this module's pool (never with the C twins)
cdef PlainAPI _plain_api
_plain_api.take = _plain_take
_plain_api.send = _plain_send
_plain_api.no_api = <PyObject *>_NO_API
_PLAIN_API = PyCapsule_New(<void *>&_plain_api, PLAIN_API_NAME, NULL)
