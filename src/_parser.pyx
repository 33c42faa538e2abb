# cython: language_level=3, freethreading_compatible=True
"""The C twin of the HTTP/1.x response parser (contract: docs/parser.md).

Strategy: ``feed()`` borrows the input's buffer once and runs a state machine
over it with pointer loops (memchr for line ends, 256-byte tables for byte
classes).  A head arriving whole is scanned in place; one split across feeds
is carried in a small buffer, one line at a time, and resumes at its first
incomplete line.  No Python object is made while scanning: the head's objects
(a cached ``istr`` per name, a ``str`` per value, one CIMultiDict) are built
once its empty line has arrived, and the framing facts are read from the raw
bytes at that moment.  Body pieces are slices of one memoryview of the input.
The pure-Python twin (``wirespeed.wire._parser_py``) behaves identically.
"""

cimport cython
from cpython.object cimport PyObject
from cpython.pycapsule cimport PyCapsule_New
from libc.stdint cimport uint32_t, uint64_t
from cpython.mem cimport PyMem_Calloc, PyMem_Free, PyMem_Malloc, PyMem_Realloc
from cpython.ref cimport Py_INCREF
from cpython.buffer cimport PyBUF_SIMPLE, PyObject_CheckBuffer, PyObject_GetBuffer, PyBuffer_Release
from cpython.memoryview cimport PyMemoryView_FromObject, PyMemoryView_GET_BUFFER
from libc.string cimport memchr, memcpy

# --- Python collaborators, bound once (C globals: no lookup on hot paths) ---
from cpython.pyport cimport PY_SSIZE_T_MAX
from operator import index as _index

import multidict
from wirespeed import errors as _errors_module
from wirespeed.wire import _constants, _header_names, _messages

cdef object _CIMultiDict = multidict.CIMultiDict
cdef object _CIMultiDictProxy = multidict.CIMultiDictProxy
cdef object _istr = multidict.istr
cdef object _CONTENT_ENCODING = multidict.istr("Content-Encoding")

cdef object _HttpParserError = _errors_module.HttpParserError
cdef object _BadStatusLine = _errors_module.BadStatusLine
cdef object _InvalidHeader = _errors_module.InvalidHeader
cdef object _InvalidLineEnding = _errors_module.InvalidLineEnding
cdef object _LineTooLong = _errors_module.LineTooLong
cdef object _TooManyHeaders = _errors_module.TooManyHeaders
cdef object _BadContentLength = _errors_module.BadContentLength
cdef object _BadTransferEncoding = _errors_module.BadTransferEncoding
cdef object _BadChunk = _errors_module.BadChunk
cdef object _IncompleteMessage = _errors_module.IncompleteMessage

_MAX_LINE_SIZE = _constants.MAX_LINE_SIZE
_MAX_FIELD_SIZE = _constants.MAX_FIELD_SIZE
_MAX_HEADERS = _constants.MAX_HEADERS
cdef Py_ssize_t MAX_UNCONSUMED = _constants.MAX_UNCONSUMED
_SINGLETON_HEADERS = _constants.SINGLETON_HEADERS
# error messages: the same text in both twins (wirespeed.wire._messages.py)
cdef str EOF_IN_HEAD = _messages.EOF_IN_HEAD
cdef str EOF_IN_BODY = _messages.EOF_IN_BODY
cdef str EOF_IN_CHUNKED = _messages.EOF_IN_CHUNKED
cdef str EOF_IN_TRAILERS = _messages.EOF_IN_TRAILERS
cdef str BARE_CR_BEFORE_STATUS = _messages.BARE_CR_BEFORE_STATUS
cdef str EMPTY_LINE_BEFORE_STATUS = _messages.EMPTY_LINE_BEFORE_STATUS
cdef str EMPTY_LINES_TOO_LONG = _messages.EMPTY_LINES_TOO_LONG
cdef str STATUS_LINE_TOO_LONG = _messages.STATUS_LINE_TOO_LONG
cdef str STATUS_NOT_HTTP = _messages.STATUS_NOT_HTTP
cdef str MAJOR_VERSION = _messages.MAJOR_VERSION
cdef str VERSION_DOT = _messages.VERSION_DOT
cdef str MINOR_NOT_DIGIT = _messages.MINOR_NOT_DIGIT
cdef str MINOR_VERSION = _messages.MINOR_VERSION
cdef str SP_AFTER_VERSION = _messages.SP_AFTER_VERSION
cdef str STATUS_CODE = _messages.STATUS_CODE
cdef str REASON_CONTROL = _messages.REASON_CONTROL
cdef str STATUS_BARE_LF = _messages.STATUS_BARE_LF
cdef str TOO_MANY_FIELDS = _messages.TOO_MANY_FIELDS
cdef str FIELD_TOO_LONG = _messages.FIELD_TOO_LONG
cdef str BARE_CR_AT_LINE_START = _messages.BARE_CR_AT_LINE_START
cdef str WHITESPACE_BEFORE_FIELD = _messages.WHITESPACE_BEFORE_FIELD
cdef str OBS_FOLD = _messages.OBS_FOLD
cdef str FIELD_NO_COLON = _messages.FIELD_NO_COLON
cdef str FIELD_NAME_EMPTY = _messages.FIELD_NAME_EMPTY
cdef str FIELD_NAME_BYTE = _messages.FIELD_NAME_BYTE
cdef str FIELD_VALUE_BYTE = _messages.FIELD_VALUE_BYTE
cdef str FIELD_BARE_LF = _messages.FIELD_BARE_LF
cdef str EMPTY_LINE_BARE_LF = _messages.EMPTY_LINE_BARE_LF
cdef str REPEATED_SINGLETON = _messages.REPEATED_SINGLETON
cdef str CL_EMPTY = _messages.CL_EMPTY
cdef str CL_NOT_DIGITS = _messages.CL_NOT_DIGITS
cdef str CL_TOO_LARGE = _messages.CL_TOO_LARGE
cdef str CL_FOLDED = _messages.CL_FOLDED
cdef str CL_CONFLICT = _messages.CL_CONFLICT
cdef str CL_REPEATED = _messages.CL_REPEATED
cdef str CL_AFTER_TE = _messages.CL_AFTER_TE
cdef str TE_AFTER_CL = _messages.TE_AFTER_CL
cdef str TE_FOLDED = _messages.TE_FOLDED
cdef str TE_NOT_TOKEN = _messages.TE_NOT_TOKEN
cdef str TE_CHUNKED_TWICE = _messages.TE_CHUNKED_TWICE
cdef str TE_EMPTY = _messages.TE_EMPTY
cdef str CHUNK_LINE_TOO_LONG = _messages.CHUNK_LINE_TOO_LONG
cdef str CHUNK_SIZE_NOT_HEX = _messages.CHUNK_SIZE_NOT_HEX
cdef str CHUNK_SIZE_TOO_LARGE = _messages.CHUNK_SIZE_TOO_LARGE
cdef str CHUNK_SIZE_END = _messages.CHUNK_SIZE_END
cdef str CHUNK_EXT_NAME = _messages.CHUNK_EXT_NAME
cdef str CHUNK_EXT_VALUE = _messages.CHUNK_EXT_VALUE
cdef str CHUNK_EXT_END = _messages.CHUNK_EXT_END
cdef str CHUNK_EXT_QUOTED_BYTE = _messages.CHUNK_EXT_QUOTED_BYTE
cdef str CHUNK_EXT_UNCLOSED = _messages.CHUNK_EXT_UNCLOSED
cdef str CHUNK_BARE_LF = _messages.CHUNK_BARE_LF
cdef str CHUNK_DATA_CRLF = _messages.CHUNK_DATA_CRLF
cdef str ARG_LIMIT_NEGATIVE = _messages.ARG_LIMIT_NEGATIVE
cdef str ARG_LIMIT_TOO_LARGE = _messages.ARG_LIMIT_TOO_LARGE
cdef str ARG_NOT_BYTES = _messages.ARG_NOT_BYTES
cdef str ARG_NOT_CONTIGUOUS = _messages.ARG_NOT_CONTIGUOUS
cdef str ARG_METHOD_NOT_STR = _messages.ARG_METHOD_NOT_STR
cdef str ARG_OTHER_THREAD = _messages.ARG_OTHER_THREAD

cdef extern from "pythread.h":
    unsigned long PyThread_get_thread_ident()

cdef extern from *:
    """
    #ifdef Py_GIL_DISABLED
    #define WS_FREE_THREADED 1
    #else
    #define WS_FREE_THREADED 0
    #endif
    """
    const bint WS_FREE_THREADED
# ---------------------------------------------------------------------------

cdef tuple _V11 = (1, 1)
cdef tuple _V10 = (1, 0)
# Largest Content-Length or chunk size (docs/parser.md: 2**63-1)
cdef long long MAX_LENGTH = 0x7FFFFFFFFFFFFFFF

__all__ = ("ResponseParser", "ResponseHead", "MessageEnd")

cdef enum:
    ST_IDLE = 0         # between messages (leading empty lines)
    ST_HEAD = 1         # status line and header fields
    ST_BODY_CL = 2      # Content-Length body
    ST_CHUNK_LINE = 3   # chunk-size line
    ST_CHUNK_DATA = 4
    ST_CHUNK_CR = 5     # the CRLF after chunk data
    ST_CHUNK_LF = 6
    ST_TRAILERS = 7     # trailer section
    ST_UNTIL_CLOSE = 8  # body delimited by the end of the connection
    ST_DONE = 9         # no further message on this connection
    ST_ERROR = 10

include "_parser_tables.pxi"
include "_parser_multidict.pxi"
include "_parser_calls.pxi"


cdef class ResponseHead:
    """A response's status line and header section (docs/parser.md, "Events").

    ``headers`` is built on first use.  Most responses are read for their
    status and body only, and the map (a str per value, one CIMultiDict) was
    most of a small response's parsing cost, so the head keeps the field
    names, a copy of the value bytes and their spans (``_fields``), and builds
    the map from them the first time anyone asks.  What the client needs of
    every response is read while the framing is: ``has_set_cookie`` and
    whether there is a ``content_encoding`` to look up.
    """

    cdef readonly tuple version
    cdef readonly int status
    cdef readonly str reason
    cdef object _headers
    cdef readonly bint keep_alive
    cdef readonly bint chunked
    cdef readonly object content_length
    cdef readonly bint upgrade
    cdef readonly bint has_set_cookie
    cdef bint _has_ce
    cdef object _raw
    # the map not built yet: _nf fields, their values in _values (one allocation with them)
    cdef HeadField *_fields
    cdef Py_ssize_t _nf
    cdef const unsigned char *_values

    def __dealloc__(self):
        _drop_fields(self)

    @property
    def headers(self):
        """The header fields (CIMultiDictProxy), in wire order; built on first use."""
        # under a critical section (nothing with the GIL): a head may be shared between
        # threads, and on a free-threaded build two first reads would race on the spans
        with cython.critical_section(self):
            if self._headers is None:
                self._headers = _build_headers(self)
            return self._headers

    @property
    def content_encoding(self):
        """The first Content-Encoding field's value, or None (without building ``headers``
        when there is none)."""
        if not self._has_ce:
            return None
        return self.headers.get(_CONTENT_ENCODING)

    @property
    def raw_headers(self):
        """(name, value) bytes in wire order, derived once from ``headers``.

        The text was decoded with surrogateescape, so encoding gives back the
        exact bytes; ``headers`` keeps every field in wire order.
        """
        # built on first use, under a critical section: a head may be shared between
        # threads, and on a free-threaded build two first reads would race on _raw
        headers = self.headers   # its own critical section, taken before this one
        with cython.critical_section(self):
            if self._raw is None:
                self._raw = _raw_pairs(headers)
            return self._raw

    def __repr__(self):
        return (
            f"<ResponseHead HTTP/{self.version[0]}.{self.version[1]} {self.status} {self.reason!r} "
            f"headers={list(self.headers.items())!r} keep_alive={self.keep_alive} chunked={self.chunked} "
            f"content_length={self.content_length} upgrade={self.upgrade}>"
        )


cdef void _head_facts(object head, HeadFacts *out) noexcept:
    """The facts of a head of this module's ResponseHead type (src/_parser_calls.pxi)."""
    cdef ResponseHead h = <ResponseHead>head
    out.status = h.status
    out.keep_alive = h.keep_alive
    out.has_set_cookie = h.has_set_cookie
    out.has_coding = h._has_ce
    out.reason = <PyObject *>h.reason
    out.version = <PyObject *>h.version
    out.content_length = <PyObject *>h.content_length


cdef class MessageEnd:
    """The end of a message, with its trailer fields (usually none)."""

    cdef readonly object trailers
    cdef object _raw

    @property
    def raw_trailers(self):
        """(name, value) bytes of the trailer fields in wire order."""
        with cython.critical_section(self):  # as ResponseHead.raw_headers
            if self._raw is None:
                self._raw = _raw_pairs(self.trailers)
            return self._raw

    def __repr__(self):
        return f"<MessageEnd trailers={list(self.trailers.items())!r}>"


cdef tuple _raw_pairs(object fields):
    return tuple(
        [(k.encode("utf-8", "surrogateescape"), v.encode("utf-8", "surrogateescape")) for k, v in fields.items()]
    )


cdef object _EMPTY_TRAILERS = _CIMultiDictProxy(_CIMultiDict())
cdef MessageEnd _EMPTY_END = MessageEnd.__new__(MessageEnd)
_EMPTY_END.trailers = _EMPTY_TRAILERS
_EMPTY_END._raw = ()

include "_parser_block.pxi"
include "_parser_build.pxi"
include "_parser_chunk.pxi"


cdef Py_ssize_t _limit(str name, object value) except -1:
    """A size limit as a Py_ssize_t in 0..sys.maxsize, checked as the Python twin does."""
    value = _index(value)
    if value < 0:
        raise ValueError(ARG_LIMIT_NEGATIVE.format(name))
    if value > PY_SSIZE_T_MAX:
        raise OverflowError(ARG_LIMIT_TOO_LARGE.format(name))
    return value


cdef int _get_bytes(object data, Py_buffer *view) except -1:
    """A simple (flat, C-contiguous) byte view of ``data``, or the shared TypeError/BufferError."""
    if not PyObject_CheckBuffer(data):
        raise TypeError(ARG_NOT_BYTES.format(type(data).__name__))
    try:
        PyObject_GetBuffer(data, view, PyBUF_SIMPLE)
    except BufferError:
        raise BufferError(ARG_NOT_CONTIGUOUS) from None
    return 0


cdef class ResponseParser:
    """Incremental HTTP/1.x response parser: ``feed()`` bytes, get events."""

    cdef object _method
    cdef unsigned long _owner        # the thread that first fed this parser
    cdef bint _owned                 # ... once there is one
    cdef bint _is_head
    cdef bint _is_connect
    cdef bint strict
    cdef Py_ssize_t max_line_size
    cdef Py_ssize_t max_field_size
    cdef Py_ssize_t max_headers

    cdef int _state
    cdef long long _fed              # bytes fed before the current feed()
    cdef object _error
    cdef bytearray _unconsumed
    cdef bint _upgraded              # done by an upgrade: unconsumed keeps every byte
    cdef bint _idle_cr               # a CR arrived between messages, its LF not yet
    cdef Py_ssize_t _lead            # bytes of empty lines before this status line
    cdef bint _eof                   # feed_eof() was called
    cdef Py_ssize_t _copy_under      # during a feed_view(): pieces shorter than this are bytes

    # the block (head or trailer section) being scanned
    cdef unsigned char *_blk         # partial block carried across feeds
    cdef Py_ssize_t _blk_len
    cdef Py_ssize_t _blk_cap
    cdef long long _blk_base         # stream offset of the block's first byte
    cdef Py_ssize_t _hs_pos          # resume point: start of the first unscanned line
    cdef Py_ssize_t _hs_lf_from      # the line at _hs_pos has no LF before this: memchr resumes here
    cdef int _hs_phase               # status line or fields
    cdef Field *_fields
    cdef Py_ssize_t _nf              # fields in this block
    cdef Py_ssize_t _fcap
    cdef Py_ssize_t _count           # header plus trailer fields of this message

    # the status line, as scanned
    cdef int _minor
    cdef int _status
    cdef Py_ssize_t _reason_start
    cdef Py_ssize_t _reason_end
    cdef bint _reason_nonascii

    # the message being read
    cdef long long _remaining        # Content-Length or chunk bytes still to come
    cdef long long _received         # body bytes of this message so far
    cdef object _expected            # declared Content-Length or None
    cdef bint _keep_alive

    # learned header names (per parser: no shared mutable state between threads)
    cdef NameEntry *_names
    cdef list _pool                  # (name, value) tuples recycled between heads
    cdef Py_ssize_t _nlearned

    def __cinit__(self):
        self._method = "GET"
        self._unconsumed = bytearray()
        self._pool = []

    def __init__(self, method="GET", *, strict=False, max_line_size=_MAX_LINE_SIZE,
                 max_field_size=_MAX_FIELD_SIZE, max_headers=_MAX_HEADERS):
        self.method = method
        self.strict = strict
        self.max_line_size = _limit("max_line_size", max_line_size)
        self.max_field_size = _limit("max_field_size", max_field_size)
        self.max_headers = _limit("max_headers", max_headers)
        self._state = ST_IDLE

    def __dealloc__(self):
        cdef Py_ssize_t i
        PyMem_Free(self._blk)
        PyMem_Free(self._fields)
        if self._names != NULL:
            for i in range(LEARN_SLOTS):
                if self._names[i].key != NULL:
                    Py_DecRef(self._names[i].key)
                    Py_DecRef(self._names[i].key_bytes)
            PyMem_Free(self._names)

    @property
    def method(self):
        """The request method the next response answers (compared exactly)."""
        return self._method

    @method.setter
    def method(self, value):
        # bytes here would silently never equal "HEAD": the client would wait for a body.
        _same_thread(self, False)
        if not isinstance(value, str):
            raise TypeError(ARG_METHOD_NOT_STR.format(type(value).__name__))
        self._method = value
        self._is_head = value == "HEAD"
        self._is_connect = value == "CONNECT"

    @property
    def idle(self):
        """True between messages with nothing fed since the last one ended (docs/parser.md)."""
        return _idle_of(self) != 0

    @property
    def done(self):
        """True once no further response may be parsed on this connection."""
        return self._state == ST_DONE or self._eof

    @property
    def unconsumed(self):
        """Bytes after the last message once done: every one after an upgrade, else
        the first MAX_UNCONSUMED (docs/parser.md)."""
        return bytes(self._unconsumed)

    @property
    def error(self):
        """The HttpParserError waiting to be raised, or None."""
        return self._error

    def feed(self, data):
        """Parse ``data`` (bytes, bytearray or memoryview); return the events."""
        cdef Py_buffer view
        _same_thread(self, True)
        if self._error is not None:
            raise self._error
        _get_bytes(data, &view)
        try:
            return _feed(self, data, <const unsigned char *>view.buf, view.len)
        finally:
            PyBuffer_Release(&view)

    def feed_eof(self):
        """The peer closed the connection: end a read-until-close body or raise."""
        cdef int st = self._state
        _same_thread(self, True)
        if self._error is not None:
            raise self._error
        self._eof = True
        if st == ST_IDLE or st == ST_DONE:
            self._state = ST_DONE
            return []
        if st == ST_UNTIL_CLOSE:
            self._state = ST_DONE
            return [_EMPTY_END]
        if st == ST_HEAD:
            what = EOF_IN_HEAD
        elif st == ST_BODY_CL:
            what = EOF_IN_BODY
        elif st == ST_TRAILERS:
            what = EOF_IN_TRAILERS
        else:
            what = EOF_IN_CHUNKED
        self._error = _IncompleteMessage(what, self._fed, None, self._received, self._expected)
        self._state = ST_ERROR
        raise self._error


# One thread per parser (docs/parser.md, "Threads").  A parser's state (the carry
# buffer, the field array, the learnt names, the recycled pairs) is unguarded:
# concurrent feed() calls on a free-threaded build would race on it, and a lock
# per call would cost every caller for a use nobody needs.  So the thread that
# first feeds a parser owns it and any other thread gets a RuntimeError.  The
# claim is made under a critical section (a per-object lock on free-threaded
# builds, nothing with the GIL), so two first feeds cannot both win.  With the
# GIL the owner's own calls skip it: the GIL orders the claim before them.
cdef inline int _same_thread(ResponseParser self, bint claim) except -1:
    if not WS_FREE_THREADED and self._owned and self._owner == PyThread_get_thread_ident():
        return 0
    return _claim(self, claim)


cdef int _claim(ResponseParser self, bint claim) except -1:
    cdef unsigned long me = PyThread_get_thread_ident()
    cdef bint mine
    with cython.critical_section(self):
        if not self._owned and claim:
            self._owner = me
            self._owned = True
        mine = not self._owned or self._owner == me
    if not mine:
        raise RuntimeError(ARG_OTHER_THREAD)
    return 0


cdef list _feed(ResponseParser self, object data, const unsigned char *buf, Py_ssize_t n):
    """feed()'s work, once its checks are made: ``buf`` holds ``n`` bytes of ``data``."""
    cdef list events
    if self._state == ST_DONE:
        try:
            _keep_unconsumed(self, buf, n)
        finally:
            self._fed += n
        return []
    events = []
    try:
        _run(self, events, data, buf, n)
    except _HttpParserError as exc:
        self._error = exc
        self._state = ST_ERROR
        if not events:
            raise
    finally:
        self._fed += n
    return events


# -- the C calls (src/_parser_calls.pxi) --------------------------------------

cdef object _feed_view(object parser, object view, Py_ssize_t n, Py_ssize_t copy_under, PyObject **error):
    """``parser.feed(view[:n])`` without the slice, pieces shorter than ``copy_under`` copied
    to bytes (src/_parser_calls.pxi)."""
    cdef ResponseParser self = <ResponseParser>parser
    cdef Py_buffer *b
    if type(view) is not memoryview:
        raise TypeError(ARG_NOT_BYTES.format(type(view).__name__))
    b = PyMemoryView_GET_BUFFER(view)
    if b.itemsize != 1 or b.ndim != 1 or b.strides[0] != 1 or n < 0 or n > b.len:
        raise ValueError("feed_view wants a flat memoryview of bytes and a count within it")
    _same_thread(self, True)
    if self._error is not None:
        raise self._error
    self._copy_under = copy_under
    try:
        events = _feed(self, view, <const unsigned char *>b.buf, n)
    finally:
        self._copy_under = 0
    error[0] = NULL if self._error is None else <PyObject *>self._error
    return events


cdef int _idle_of(object parser) noexcept:
    cdef ResponseParser self = <ResponseParser>parser
    return (self._state == ST_IDLE and self._lead == 0 and not self._idle_cr
            and self._error is None and not self._eof)


cdef int _set_method(object parser, object method) except -1:
    cdef ResponseParser self = <ResponseParser>parser
    if method is not self._method and method != self._method:
        self.method = method
    return 0


cdef ParserCalls _calls
_calls.head_facts = _head_facts
_calls.feed_view = _feed_view
_calls.idle = _idle_of
_calls.set_method = _set_method
_PARSER_CALLS = PyCapsule_New(<void *>&_calls, PARSER_CALLS_NAME, NULL)


cdef int _keep_unconsumed(ResponseParser self, const unsigned char *p, Py_ssize_t n) except -1:
    """Append bytes fed after the last message: all after an upgrade, else up to MAX_UNCONSUMED."""
    if not self._upgraded:
        if len(self._unconsumed) + n > MAX_UNCONSUMED:
            n = MAX_UNCONSUMED - len(self._unconsumed)
        if n <= 0:
            return 0
    self._unconsumed += PyBytes_FromStringAndSize(<const char *>p, n)
    return 0


cdef object _pieces(object data):
    """One memoryview of the fed object, in bytes, to slice body pieces from (a flat
    memoryview of single bytes is one already)."""
    cdef Py_buffer *given
    if type(data) is memoryview:
        given = PyMemoryView_GET_BUFFER(data)
        if given.itemsize == 1 and given.ndim == 1:
            return data
    mv = PyMemoryView_FromObject(data)
    cdef Py_buffer *view = PyMemoryView_GET_BUFFER(mv)
    if view.itemsize != 1 or view.ndim != 1:
        mv = mv.cast("B")
    return mv


cdef object _add_piece(ResponseParser self, list events, object data, object mv, const unsigned char *buf,
                       Py_ssize_t start, Py_ssize_t end):
    """Append the body piece buf[start:end]: bytes when shorter than a feed_view's bound, else
    a view of the fed object (``mv``, made by the first piece of a feed and returned for the
    next).  A piece is never the object fed itself, which its owner may release."""
    if end - start < self._copy_under:
        events.append(PyBytes_FromStringAndSize(<const char *>buf + start, end - start))
        return mv
    if mv is None:
        mv = _pieces(data)
    # the whole of a view made here goes as it is; a part, or the fed view, is sliced
    if start == 0 and mv is not data and PyMemoryView_GET_BUFFER(mv).len == end:
        events.append(mv)
    else:
        events.append(mv[start:end])
    return mv


cdef int _run(ResponseParser self, list events, object data, const unsigned char *buf,
              Py_ssize_t n) except -1:
    cdef Py_ssize_t pos = 0, take
    cdef unsigned char c
    cdef object mv = None
    while pos < n:
        st = self._state
        if st == ST_HEAD or st == ST_TRAILERS:
            pos = _feed_block(self, events, buf, n, pos)
        elif st == ST_BODY_CL or st == ST_CHUNK_DATA:
            take = n - pos if n - pos < self._remaining else <Py_ssize_t>self._remaining
            mv = _add_piece(self, events, data, mv, buf, pos, pos + take)
            pos += take
            self._remaining -= take
            self._received += take
            if self._remaining == 0:
                if st == ST_CHUNK_DATA:
                    self._state = ST_CHUNK_CR
                else:
                    events.append(_EMPTY_END)
                    _message_done(self)
        elif st == ST_CHUNK_LINE:
            pos = _feed_chunk_line(self, buf, n, pos)
        elif st == ST_CHUNK_CR or st == ST_CHUNK_LF:
            # chunk-data CRLF, exactly (RFC 9112 §7.1)
            c = buf[pos]
            if c != (CR if st == ST_CHUNK_CR else LF):
                _raise_at(_BadChunk, CHUNK_DATA_CRLF, self._fed + pos, c)
            pos += 1
            self._state = ST_CHUNK_LF if st == ST_CHUNK_CR else ST_CHUNK_LINE
        elif st == ST_IDLE:
            pos = _idle(self, buf, n, pos)
        elif st == ST_UNTIL_CLOSE:
            mv = _add_piece(self, events, data, mv, buf, pos, n)
            self._received += n - pos
            pos = n
        else:  # ST_DONE: the rest belongs to whatever follows this connection's last message
            _keep_unconsumed(self, buf + pos, n - pos)
            pos = n
    return 0


# Between messages: lenient mode skips empty lines (CRLF or bare LF) before a
# status line, as RFC 9112 §2.2 allows; strict mode rejects them.  Their bytes
# count against max_line_size together, so a peer cannot keep a parser busy
# with them forever (docs/parser.md, "Limits").
cdef Py_ssize_t _idle(ResponseParser self, const unsigned char *buf, Py_ssize_t n, Py_ssize_t pos) except -1:
    cdef unsigned char c
    while pos < n:
        c = buf[pos]
        if self._idle_cr:
            if c != LF:
                _raise_at(_BadStatusLine, BARE_CR_BEFORE_STATUS, self._fed + pos - 1, CR)
            self._idle_cr = False
        elif c == LF or c == CR:
            if self.strict:
                _raise_at(_BadStatusLine, EMPTY_LINE_BEFORE_STATUS, self._fed + pos, c)
            self._idle_cr = c == CR
        else:
            self._lead = 0
            self._state = ST_HEAD
            self._count = 0
            self._received = 0
            self._expected = None
            _start_block(self, self._fed + pos, PHASE_STATUS)
            return pos
        if self._lead >= self.max_line_size:
            _raise_at(_LineTooLong, EMPTY_LINES_TOO_LONG.format(self.max_line_size), self._fed + pos, c)
        self._lead += 1
        pos += 1
    return pos
