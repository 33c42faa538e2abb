# cython: language_level=3, freethreading_compatible=True
"""The C StreamWriter twin: serialise an HTTP/1.1 message onto a transport.

Same contract, names, errors and transport calls as the Python twin
(``wirespeed.wire._writer_py``; docs/writer.md).  The head is serialised and
validated in one pass into a stack buffer; body pieces are borrowed through
the buffer protocol and never copied except to coalesce a small message.
Body pieces other than bytes/bytearray become flat unsigned-byte memoryviews
(``_body``); strided buffers and non-buffers raise ``BodyTypeError`` first.

Write paths, chosen per transport call from the pieces of that call:

1. one piece: ``transport.write(piece)``, the object itself;
2. total at most ``coalesce_limit``: the pieces are copied into one new
   ``bytes`` and written with one ``transport.write``;
3. writev fast path: the transport is plain TCP (``get_extra_info('ssl_object')``
   is None and ``get_extra_info('socket')`` is asyncio's own socket wrapper, so
   neither TLS nor uvloop), its write buffer is empty and it is not closing:
   one ``writev(2)`` on the socket for all pieces.  An unsent remainder goes to
   ``transport.write()`` piece by piece (the first one sliced, never copied);
   ``EAGAIN``/``EINTR`` hands everything to path 4; ``EPIPE``,
   ``ECONNRESET`` and any other error raise ``TransportError``;
4. ``transport.writelines(pieces)`` with every piece passed through;
5. unless ``WRITELINES_SAFE`` is false (CPython 3.12.0-3.12.8, 3.13.0-3.13.1,
   CVE-2024-12254: ``writelines`` never pauses the protocol): runs of small
   pieces joined, large pieces alone, all through ``transport.write``.

``WRITELINES_SAFE`` is an ordinary module attribute read by each writer at
construction, so a test can patch it here as in the Python twin.
"""

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_CheckExact, PyDict_Next
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject
from cpython.tuple cimport PyTuple_CheckExact, PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.errno cimport EAGAIN, EINTR, errno
from libc.stdio cimport snprintf
from libc.string cimport memcpy

cdef extern from "Python.h":
    bint PyUnicode_Check(object o)
    bint PyBytes_Check(object o)
    bint PyBytes_CheckExact(object o)
    bint PyUnicode_IS_ASCII(object o)
    void* PyUnicode_DATA(object o)
    Py_ssize_t PyUnicode_GET_LENGTH(object o)
    const char* PyUnicode_AsUTF8AndSize(object o, Py_ssize_t* size) except NULL

# writev(2) where the platform has it; elsewhere the fast path is never taken.
cdef extern from *:
    """
    #include <errno.h>
    #if defined(_WIN32)
    struct ws_iovec { void *iov_base; size_t iov_len; };
    static Py_ssize_t ws_writev(int fd, struct ws_iovec *iov, int n) {
        (void)fd; (void)iov; (void)n; errno = ENOSYS; return -1;
    }
    #define WS_HAVE_WRITEV 0
    #else
    #include <sys/uio.h>
    #define ws_iovec iovec
    static Py_ssize_t ws_writev(int fd, struct iovec *iov, int n) { return writev(fd, iov, n); }
    #define WS_HAVE_WRITEV 1
    #endif
    """
    struct ws_iovec:
        void* iov_base
        size_t iov_len
    Py_ssize_t ws_writev(int fd, ws_iovec* iov, int n) nogil
    const int WS_HAVE_WRITEV
    const int EWOULDBLOCK

# Python collaborators, bound once.
import os
import sys
import zlib
from asyncio.trsock import TransportSocket

import multidict

from wirespeed.wire._constants import COALESCE_LIMIT, DRAIN_LIMIT, FORBIDDEN_TRAILERS
from wirespeed.wire._flow import writelines_ignores_flow_control
from wirespeed.errors import (
    BodyTypeError,
    HeaderValidationError,
    TransportError,
    UnsupportedCompression,
    WriterStateError,
)

__all__ = ["StreamWriter", "WRITELINES_SAFE"]

#: False on the CPython releases whose ``writelines`` ignores flow control.
WRITELINES_SAFE = not writelines_ignores_flow_control(sys.version_info)

cdef enum:
    MAX_PIECES = 8      # a transport call never has more than 5 pieces (head, size, 2 body, tail)
    STACK_HEAD = 2048   # most heads fit; larger ones move to the heap

cdef enum:
    NEW = 0
    HEAD_BUFFERED = 1
    BODY = 2
    DONE = 3

# Byte classes, one table.
cdef enum:
    CTL = 1      # RFC 9110 §5.5: controls refused in values and the start line (all but HTAB)
    TCHAR = 2    # RFC 9110 §5.6.2: tchar, the bytes of a token
    TARGET = 4   # RFC 9112 §3.2: visible ASCII but "#" (a fragment is never sent), the bytes of a request-target

cdef unsigned char CLS[256]


cdef void _init_classes():
    cdef int b
    for b in range(256):
        CLS[b] = 0
        if b < 0x20 and b != 0x09 or b == 0x7F:
            CLS[b] |= CTL
        if 0x21 <= b <= 0x7E and b != 0x23:
            CLS[b] |= TARGET
    for b in b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz":
        CLS[b] |= TCHAR


_init_classes()

# Their items() are the (name, value) pairs; called without the getattr of the general case.
cdef frozenset MULTIDICTS = frozenset({multidict.CIMultiDict, multidict.MultiDict,
                                       multidict.CIMultiDictProxy, multidict.MultiDictProxy})
cdef bytes CRLF = b"\r\n"
cdef str TRAILER = "trailer"   # the label of trailer fields, compared by identity in _field
cdef bytes LAST_CHUNK = b"0\r\n\r\n"


# -- a growable output buffer that starts on the caller's stack --------------

cdef struct Buf:
    char* data
    Py_ssize_t length
    Py_ssize_t capacity
    bint on_heap


cdef int buf_append(Buf* b, const char* p, Py_ssize_t n) except -1:
    cdef Py_ssize_t cap
    cdef char* fresh
    if b.length + n > b.capacity:
        cap = 2 * (b.length + n)
        fresh = <char*>PyMem_Malloc(cap)
        if fresh == NULL:
            raise MemoryError()
        memcpy(fresh, b.data, b.length)
        if b.on_heap:
            PyMem_Free(b.data)
        b.data = fresh
        b.capacity = cap
        b.on_heap = True
    memcpy(b.data + b.length, p, n)
    b.length += n
    return 0


# -- validation --------------------------------------------------------------

cdef str _where(int kind, str label, Py_ssize_t index, const char* np, Py_ssize_t nn):
    """Where a refused byte was, in the Python twin's words (built on the error path only)."""
    if kind == 0:
        return label
    if kind == 1:
        return f"{label} name #{index}"
    return f"the value of {label} {PyBytes_FromStringAndSize(np, nn).decode('ascii')!r}"


cdef int _text(object o, const char** p, Py_ssize_t* n,
               int kind, str label, Py_ssize_t index,
               const char* np, Py_ssize_t nn) except -1:
    """Borrow the bytes of a str (UTF-8) or bytes; refuse anything else and lone surrogates."""
    if PyUnicode_Check(o):
        if PyUnicode_IS_ASCII(o):
            p[0] = <const char*>PyUnicode_DATA(o)
            n[0] = PyUnicode_GET_LENGTH(o)
            return 0
        try:
            p[0] = PyUnicode_AsUTF8AndSize(o, n)
        except UnicodeEncodeError as exc:
            start = exc.start
            raise HeaderValidationError(
                f"lone surrogate U+{ord(o[start]):04X} at index {start} in "
                f"{_where(kind, label, index, np, nn)}"
            ) from None
        return 0
    if PyBytes_Check(o):
        p[0] = PyBytes_AS_STRING(o)
        n[0] = PyBytes_GET_SIZE(o)
        return 0
    raise HeaderValidationError(
        f"{_where(kind, label, index, np, nn)} must be str or bytes, not {type(o).__name__}"
    )


cdef int _check_ctl(const unsigned char* p, Py_ssize_t n,
                    int kind, str label, Py_ssize_t index,
               const char* np, Py_ssize_t nn) except -1:
    # RFC 9110 §5.5: field-value = *( VCHAR / obs-text / SP / HTAB ); the start
    # line is held to the same rule.  Any other control byte is an injection.
    cdef Py_ssize_t i
    for i in range(n):
        if CLS[p[i]] & CTL:
            raise HeaderValidationError(
                f"control byte 0x{p[i]:02x} at offset {i} in {_where(kind, label, index, np, nn)}"
            )
    return 0


cdef int _check_token(const unsigned char* p, Py_ssize_t n, str where) except -1:
    # RFC 9110 §5.6.2: token = 1*tchar.
    cdef Py_ssize_t i
    if n == 0:
        raise HeaderValidationError(f"{where} is empty")
    for i in range(n):
        if not CLS[p[i]] & TCHAR:
            raise HeaderValidationError(
                f"byte 0x{p[i]:02x} at offset {i} in {where} is not a token character"
            )
    return 0


cdef int _field(Buf* b, object name, object value, Py_ssize_t index, str label) except -1:
    """Append ``name: value CRLF`` after checking both."""
    cdef const char* np
    cdef const char* vp
    cdef Py_ssize_t nn, vn, i
    _text(name, &np, &nn, 1, label, index, NULL, 0)
    # RFC 9110 §5.6.2: field-name = token.
    if nn == 0:
        _check_token(<const unsigned char*>np, nn, _where(1, label, index, NULL, 0))
    for i in range(nn):
        if not CLS[<unsigned char>np[i]] & TCHAR:
            _check_token(<const unsigned char*>np, nn, _where(1, label, index, NULL, 0))
    if label is TRAILER:  # identity, not ==: a string compare per field cost ~7% of a small GET
        _check_trailer_name(np, nn, index)
    _text(value, &vp, &vn, 2, label, index, np, nn)
    for i in range(vn):
        if CLS[<unsigned char>vp[i]] & CTL:
            _check_ctl(<const unsigned char*>vp, vn, 2, label, index, np, nn)
    buf_append(b, np, nn)
    buf_append(b, ": ", 2)
    buf_append(b, vp, vn)
    buf_append(b, "\r\n", 2)
    return 0


cdef int _check_trailer_name(const char* np, Py_ssize_t nn, Py_ssize_t index) except -1:
    # RFC 9110 §6.5.1: framing, routing, authentication, ... fields never go in a trailer.
    name = PyBytes_FromStringAndSize(np, nn).decode("ascii")
    if name.lower() in FORBIDDEN_TRAILERS:
        raise HeaderValidationError(
            f"trailer #{index} {name!r} is not allowed in a trailer section (RFC 9110 §6.5.1)"
        )
    return 0


cdef int _fields(Buf* b, object headers, str label) except -1:
    """Append every field of a dict, a multidict (``.items()``) or a sequence of pairs."""
    cdef Py_ssize_t pos = 0, index = 0
    cdef PyObject* key
    cdef PyObject* val
    if PyDict_CheckExact(headers):
        while PyDict_Next(headers, &pos, &key, &val):
            _field(b, <object>key, <object>val, index, label)
            index += 1
        return 0
    if type(headers) in MULTIDICTS:
        fields = headers.items()
    else:
        items = getattr(headers, "items", None)
        try:
            fields = iter(items() if callable(items) else headers)
        except TypeError:
            raise HeaderValidationError(
                f"{label}s must be a mapping or an iterable of (name, value) pairs, not {type(headers).__name__}"
            ) from None
    for item in fields:
        if PyTuple_CheckExact(item) and PyTuple_GET_SIZE(item) == 2:
            _field(b, <object>PyTuple_GET_ITEM(item, 0), <object>PyTuple_GET_ITEM(item, 1), index, label)
        else:
            try:
                name, value = item
            except (TypeError, ValueError):
                raise HeaderValidationError(f"{label} #{index} is not a (name, value) pair") from None
            _field(b, name, value, index, label)
        index += 1
    return 0


cdef bytes _serialize_block(const char* first, Py_ssize_t n, bint add_crlf, object fields, str label):
    """``first`` [+ CRLF] + the fields + CRLF, built in a stack buffer (heap if it grows)."""
    cdef char stack[STACK_HEAD]
    cdef Buf b
    b.data = stack
    b.length = 0
    b.capacity = STACK_HEAD
    b.on_heap = False
    try:
        buf_append(&b, first, n)
        if add_crlf:
            buf_append(&b, "\r\n", 2)
        _fields(&b, fields, label)
        buf_append(&b, "\r\n", 2)
        return PyBytes_FromStringAndSize(b.data, b.length)
    finally:
        if b.on_heap:
            PyMem_Free(b.data)


cdef bytes _serialize_head(object start_line, object headers):
    """The start line, validated, and the header fields (RFC 9112 §2.1)."""
    cdef const char* p
    cdef Py_ssize_t n
    _text(start_line, &p, &n, 0, "the start line", 0, NULL, 0)
    if n == 0:
        raise HeaderValidationError("the start line is empty")
    _check_ctl(<const unsigned char*>p, n, 0, "the start line", 0, NULL, 0)
    # p borrows from start_line, which the caller keeps alive.
    return _serialize_block(p, n, True, headers, "header")


cdef bytes _serialize_trailers(object trailers):
    """``0 CRLF`` + trailer fields + ``CRLF`` (RFC 9112 §7.1.2)."""
    return _serialize_block("0\r\n", 3, False, trailers, TRAILER)


cdef str _version(object version):
    """HTTP/1.0 or HTTP/1.1: the only versions this framing (RFC 9112) belongs to."""
    try:
        major, minor = version
        if type(major) is int and type(minor) is int and major == 1 and (minor == 0 or minor == 1):
            return "HTTP/1.0" if minor == 0 else "HTTP/1.1"
    except (TypeError, ValueError):
        pass
    raise HeaderValidationError(f"the HTTP version must be (1, 0) or (1, 1), not {version!r}")


cdef object _status(object status):
    """An int (or IntEnum such as ``http.HTTPStatus``, not a bool) in 100-999, as a plain int."""
    if type(status) is not int:
        if not isinstance(status, int) or isinstance(status, bool):
            raise HeaderValidationError(f"the status code must be an int in 100-999, not {status!r}")
        status = int(status)
    if not 100 <= status <= 999:
        raise HeaderValidationError(f"the status code must be an int in 100-999, not {status!r}")
    return status


cdef object _body(object data):
    """The body piece as the transport may take it: bytes, bytearray or a flat byte memoryview.

    Any other buffer becomes a memoryview cast to unsigned bytes, so sizes
    and the transport's slicing after a partial send count bytes, not items.
    A non-contiguous buffer or a non-buffer is refused before anything changes.
    """
    if PyBytes_CheckExact(data) or type(data) is bytearray:
        return data
    try:
        view = memoryview(data)
    except TypeError:
        raise BodyTypeError(f"the body must be a bytes-like object, not {type(data).__name__}") from None
    if not view.c_contiguous:
        raise BodyTypeError(f"the body must be C-contiguous: this {type(data).__name__} is not")
    if type(data) is memoryview and view.itemsize == 1 and view.ndim == 1:
        return data
    return view.cast("B")


cdef Py_ssize_t _nbytes(object data) except -1:
    cdef Py_buffer view
    if PyBytes_CheckExact(data):
        return PyBytes_GET_SIZE(data)
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    n = view.len
    PyBuffer_Release(&view)
    return n


cdef bytes _size_line(Py_ssize_t size):
    # RFC 9112 §7.1: chunk-size = 1*HEXDIG, then CRLF (we send no extensions).
    cdef char tmp[24]
    cdef int n = snprintf(tmp, sizeof(tmp), "%zx\r\n", <size_t>size)
    return PyBytes_FromStringAndSize(tmp, n)


cdef int _write_run(object transport, list pieces, Py_ssize_t* lens, Py_ssize_t start, Py_ssize_t end) except -1:
    """One write for the small pieces ``start:end``; none when they hold no byte."""
    cdef Py_ssize_t i, total = 0
    for i in range(start, end):
        total += lens[i]
    if total == 0:
        return 0
    if end - start == 1:
        transport.write(<object>PyList_GET_ITEM(pieces, start))
    else:
        transport.write(b"".join(pieces[start:end]))
    return 0


cdef int _write_piecewise(object transport, list pieces, Py_ssize_t* lens,
                          Py_ssize_t limit) except -1:
    """Flow-controlled writes without writelines: join runs of small pieces, large ones alone."""
    cdef Py_ssize_t i, run = 0, n = PyList_GET_SIZE(pieces)
    for i in range(n):
        if lens[i] > limit:
            _write_run(transport, pieces, lens, run, i)
            transport.write(<object>PyList_GET_ITEM(pieces, i))
            run = i + 1
    _write_run(transport, pieces, lens, run, n)
    return 0


@cython.final
@cython.auto_pickle(False)
cdef class StreamWriter:
    """Writes one HTTP/1.1 message (head and body) to an asyncio transport."""

    cdef public object transport
    cdef public object protocol
    cdef readonly Py_ssize_t headers_length
    cdef readonly Py_ssize_t body_length
    cdef readonly Py_ssize_t buffer_size
    cdef Py_ssize_t _coalesce_limit
    cdef Py_ssize_t _drain_limit
    cdef bint _writelines_safe
    cdef bint _chunked
    cdef bint _body_started
    cdef Py_ssize_t _head_len   # the head alone, without body bytes held with it
    cdef int _state
    cdef int _fd            # socket fd for the writev path; -2 not looked up yet, -1 none
    cdef bytes _head
    cdef object _compressor

    def __init__(self, transport, protocol=None, *,
                 Py_ssize_t coalesce_limit=COALESCE_LIMIT,
                 Py_ssize_t drain_limit=DRAIN_LIMIT):
        self.transport = transport
        self.protocol = protocol
        self._coalesce_limit = coalesce_limit
        self._drain_limit = drain_limit
        self._writelines_safe = WRITELINES_SAFE
        self._fd = -2

    # -- head -----------------------------------------------------------------

    def write_headers(self, start_line, headers=()):
        """Validate and buffer the start line (without CRLF) and the headers."""
        if self._state != NEW:
            raise WriterStateError("write_headers() called twice: the head was already written")
        self._head = _serialize_head(start_line, headers)
        self._head_len = PyBytes_GET_SIZE(self._head)
        self._state = HEAD_BUFFERED

    def write_request_headers(self, method, target, headers=(), version=(1, 1)):
        """Buffer a request head: ``method`` must be a token, ``target`` visible ASCII."""
        cdef const char* mp
        cdef const char* tp
        cdef Py_ssize_t mn, tn, i
        _text(method, &mp, &mn, 0, "the method", 0, NULL, 0)
        _check_token(<const unsigned char*>mp, mn, "the method")
        _text(target, &tp, &tn, 0, "the request target", 0, NULL, 0)
        if tn == 0:
            raise HeaderValidationError("the request target is empty")
        # RFC 9112 §3.2: the request-target holds no whitespace, controls or obs-text.
        for i in range(tn):
            if not CLS[<unsigned char>tp[i]] & TARGET:
                if tp[i] == b"#":
                    raise HeaderValidationError(
                        f"byte 0x23 at offset {i} in the request target starts a fragment, which is never sent"
                    )
                raise HeaderValidationError(
                    f"byte 0x{<unsigned char>tp[i]:02x} at offset {i} in the request target "
                    f"is not visible ASCII"
                )
        line = (PyBytes_FromStringAndSize(mp, mn) + b" " + PyBytes_FromStringAndSize(tp, tn)
                + b" " + _version(version).encode("ascii"))
        self.write_headers(line, headers)

    def write_response_headers(self, status, reason, headers=(), version=(1, 1)):
        """Buffer a response head: ``status`` a three-digit int, ``reason`` free of controls."""
        cdef const char* rp
        cdef Py_ssize_t rn
        status = _status(status)
        _text(reason, &rp, &rn, 0, "the reason phrase", 0, NULL, 0)
        line = (_version(version).encode("ascii") + b" %d " % status
                + PyBytes_FromStringAndSize(rp, rn))
        self.write_headers(line, headers)

    def send_headers(self):
        """Send the buffered head now (``Expect: 100-continue``, upgrades); idempotent."""
        if self._state == NEW:
            raise WriterStateError("send_headers() before write_headers()")
        if self._state == HEAD_BUFFERED:
            self._state = BODY
            head = self._head
            self._head = None
            self._send([head], self._head_len)

    # -- body framing ---------------------------------------------------------

    cdef int _check_no_body_yet(self, str what) except -1:
        if self._state == DONE or self._body_started:
            raise WriterStateError(f"{what} after the body started")
        return 0

    def enable_chunking(self):
        """Frame the body with chunked transfer coding; the caller's headers must say so."""
        self._check_no_body_yet("enable_chunking()")
        self._chunked = True

    def enable_compression(self, encoding="deflate"):
        """Compress the body with ``gzip`` or ``deflate`` (zlib format, RFC 9110 §8.4.1.2)."""
        self._check_no_body_yet("enable_compression()")
        if encoding == "gzip":
            self._compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._compressor = zlib.compressobj(wbits=zlib.MAX_WBITS)
        else:
            raise UnsupportedCompression(f"cannot compress with {encoding!r}: only 'gzip' and 'deflate'")

    # -- body -----------------------------------------------------------------

    def write(self, data):
        """Send a piece of the body (head first, in the same call, if still buffered)."""
        cdef int state = self._state
        cdef Py_ssize_t size, head_len = 0
        if state == NEW:
            raise WriterStateError("write() before write_headers()")
        if state == DONE:
            raise WriterStateError("write() after the end of the message")
        data = _body(data)
        head = self._head
        if self._compressor is not None:
            self._body_started = True
            data = self._compressor.compress(data)
            size = PyBytes_GET_SIZE(data)
            if head is not None and PyBytes_GET_SIZE(head) + size + 12 <= self._coalesce_limit:
                # Compressed output trickles out in small pieces (gzip's header
                # first): hold it with the buffered head until there is more.
                if size:
                    self._head = head + (_size_line(size) + data + CRLF if self._chunked else data)
                return
        size = _nbytes(data)
        if size == 0:
            return
        self._body_started = True
        if head is not None:
            self._head = None
            self._state = BODY
            head_len = self._head_len
            if self._chunked:
                pieces = [head, _size_line(size), data, CRLF]
            else:
                pieces = [head, data]
        elif self._chunked:
            pieces = [_size_line(size), data, CRLF]
        else:
            pieces = [data]
        self._send(pieces, head_len)

    def write_eof(self, last=b"", trailers=None):
        """End the message: the last piece, the chunked terminator and trailers, in one call."""
        cdef int state = self._state
        cdef Py_ssize_t size = 0, head_len = 0
        cdef bytes head_only
        if (state == HEAD_BUFFERED and trailers is None and not self._chunked
                and self._compressor is None and PyBytes_CheckExact(last)):
            # The common end of a small message: head and body (if any) in one write.
            self._state = DONE
            head_only = self._head
            self._head = None
            head_len = self._head_len
            size = PyBytes_GET_SIZE(last)
            if size == 0:
                self._send_one(head_only, head_len, head_len)
            elif head_len + size <= self._coalesce_limit:
                self._send_one(head_only + <bytes>last, head_len + size, head_len)
            else:
                self._send([head_only, last], head_len)
            return
        if state == NEW:
            raise WriterStateError("write_eof() before write_headers()")
        if state == DONE:
            raise WriterStateError("write_eof() after the end of the message")
        if trailers is not None:
            if not self._chunked:
                raise WriterStateError("trailers need chunked transfer coding (enable_chunking())")
            tail = _serialize_trailers(trailers)
        else:
            tail = LAST_CHUNK
        last = _body(last)
        compressor = self._compressor
        if compressor is not None:
            body = [p for p in (compressor.compress(last), compressor.flush()) if p]
        elif _nbytes(last):
            body = [last]
        else:
            body = []
        self._state = DONE
        head = self._head
        self._head = None
        if head is not None:
            head_len = self._head_len
            pieces = [head]
        else:
            pieces = []
        if self._chunked:
            for piece in body:
                size += _nbytes(piece)
            if size:
                pieces.append(_size_line(size))
                pieces += body
                pieces.append(CRLF + tail)
            else:
                pieces.append(tail)
        else:
            pieces += body
        if pieces:
            self._send(pieces, head_len)

    def set_eof(self):
        """End a message whose end the stream does not mark (no body framing): sends the head if buffered."""
        if self._state == NEW:
            raise WriterStateError("set_eof() before write_headers()")
        if self._state == DONE:
            raise WriterStateError("set_eof() after the end of the message")
        if self._chunked or self._compressor is not None:
            raise WriterStateError("set_eof() would drop the chunked terminator or compressed data: use write_eof()")
        self._state = DONE
        head = self._head
        if head is not None:
            self._head = None
            self._send([head], len(head))

    # -- output ---------------------------------------------------------------

    cdef int _send(self, list pieces, Py_ssize_t head_len) except -1:
        """One transport call for ``pieces`` (see the module docstring for the paths)."""
        cdef Py_ssize_t n = PyList_GET_SIZE(pieces)
        cdef Py_buffer views[MAX_PIECES]
        cdef const char* ptrs[MAX_PIECES]
        cdef Py_ssize_t lens[MAX_PIECES]
        cdef bint held[MAX_PIECES]
        cdef Py_ssize_t i, total = 0, got = 0
        cdef PyObject* piece
        cdef char* out
        transport = self.transport
        if n == 1:
            # One piece (a head alone, a large body after the head): pass it through.
            total = _nbytes(<object>PyList_GET_ITEM(pieces, 0))
            if transport.is_closing():
                raise TransportError(f"cannot write {total} bytes: the transport is closing")
            self._count(total, head_len)
            transport.write(<object>PyList_GET_ITEM(pieces, 0))
            return 0
        for i in range(n):
            held[i] = False
        try:
            for i in range(n):
                piece = PyList_GET_ITEM(pieces, i)
                if PyBytes_CheckExact(<object>piece):
                    ptrs[i] = PyBytes_AS_STRING(<object>piece)
                    lens[i] = PyBytes_GET_SIZE(<object>piece)
                else:
                    PyObject_GetBuffer(<object>piece, &views[i], PyBUF_SIMPLE)
                    held[i] = True
                    ptrs[i] = <const char*>views[i].buf
                    lens[i] = views[i].len
                total += lens[i]
            if transport.is_closing():
                raise TransportError(f"cannot write {total} bytes: the transport is closing")
            self._count(total, head_len)
            if total <= self._coalesce_limit:
                joined = PyBytes_FromStringAndSize(NULL, total)
                out = PyBytes_AS_STRING(joined)
                for i in range(n):
                    memcpy(out + got, ptrs[i], lens[i])
                    got += lens[i]
                transport.write(joined)
                return 0
            if WS_HAVE_WRITEV and self._writev(transport, pieces, ptrs, lens, n, total):
                return 0
            if self._writelines_safe:
                transport.writelines(pieces)
            else:
                _write_piecewise(transport, pieces, lens, self._coalesce_limit)
            return 0
        finally:
            for i in range(n):
                if held[i]:
                    PyBuffer_Release(&views[i])

    cdef int _send_one(self, object data, Py_ssize_t total, Py_ssize_t head_len) except -1:
        """``_send([data])`` when the size is known: no list, no buffer lookup."""
        transport = self.transport
        if transport.is_closing():
            raise TransportError(f"cannot write {total} bytes: the transport is closing")
        self._count(total, head_len)
        transport.write(data)
        return 0

    cdef inline void _count(self, Py_ssize_t total, Py_ssize_t head_len):
        self.headers_length += head_len
        self.body_length += total - head_len
        self.buffer_size += total

    cdef int _socket_fd(self, object transport) except -2:
        """The fd of a plain asyncio TCP socket, or -1 (TLS, uvloop, pipes, fakes)."""
        if transport.get_extra_info("ssl_object") is not None:
            return -1
        sock = transport.get_extra_info("socket")
        if type(sock) is not TransportSocket:
            return -1
        return sock.fileno()

    cdef bint _writev(self, object transport, list pieces, const char** ptrs,
                      Py_ssize_t* lens, Py_ssize_t n, Py_ssize_t total) except -1:
        """The fast path: True when the pieces were written (or handed on), False to fall back."""
        cdef ws_iovec iov[MAX_PIECES]
        cdef Py_ssize_t i, sent
        cdef int fd = self._fd, err
        if fd == -2:
            fd = self._fd = self._socket_fd(transport)
        if fd < 0 or transport.get_write_buffer_size() != 0:
            return False
        for i in range(n):
            iov[i].iov_base = <void*>ptrs[i]
            iov[i].iov_len = <size_t>lens[i]
        with nogil:
            sent = ws_writev(fd, iov, <int>n)
            err = errno
        if sent < 0:
            if err == EAGAIN or err == EWOULDBLOCK or err == EINTR:
                return False
            raise TransportError(
                f"writev() of {total} bytes failed: [Errno {err}] {os.strerror(err)}"
            ) from OSError(err, os.strerror(err))
        # Hand the unsent remainder to the transport, which buffers it and
        # applies flow control; the partly sent piece is sliced, not copied.
        for i in range(n):
            if sent >= lens[i]:
                sent -= lens[i]
                continue
            piece = <object>PyList_GET_ITEM(pieces, i)
            if sent:
                transport.write(memoryview(piece).cast("B")[sent:])
                sent = 0
            else:
                transport.write(piece)
        return True

    async def drain(self):
        """Wait while writing is paused, once more than ``drain_limit`` bytes went out since the last drain.

        Raises ``TransportError`` when the connection was lost (from the
        protocol's ``wait_writable()``) or the transport is closing.
        """
        if self.buffer_size > self._drain_limit:
            self.buffer_size = 0
            protocol = self.protocol
            if protocol is not None:
                await protocol.wait_writable()
        if self.transport.is_closing():
            raise TransportError("the transport is closing: data written may not be delivered")
