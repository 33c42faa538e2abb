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

Path 3 writes to the socket behind the transport's back; the connection's
owner switches it off with ``StreamWriter(..., direct_writes=False)``, and then
every byte goes through ``transport.write``/``writelines``.

What gains nothing from C is not written here: the argument, version, status
and body-type checks, the compressor and ``drain()`` are the Python functions
of ``wirespeed.wire._writer_shared``, bound once below and run by both twins;
every error text comes from ``wirespeed.wire._messages``.  This module keeps
the hot path: the head's serialiser and checks, framing, coalescing, writev.
"""

cimport cython
from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize, PyBytes_GET_SIZE
from cpython.dict cimport PyDict_CheckExact, PyDict_Next
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyObject
from cpython.pycapsule cimport PyCapsule_New
from cpython.tuple cimport PyTuple_CheckExact, PyTuple_GET_ITEM, PyTuple_GET_SIZE
from libc.errno cimport EAGAIN, EINTR, errno
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

# Eight bytes of a field value checked at once for a byte below 0x20 or 0x7F.
cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>
    /* Nonzero when one of the 8 bytes at p is below 0x20 or is 0x7F.  The answer is
       exact for the word as a whole (a subtraction's borrow only marks bytes above
       one that already matched), so HTAB answers yes too: the caller checks again. */
    static inline int ws_ctl8(const char *p) {
        const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
        uint64_t x, y;
        memcpy(&x, p, 8);
        y = x ^ (0x7F * ones);
        return ((((x - 0x20 * ones) & ~x) | ((y - ones) & ~y)) & highs) != 0;
    }
    """
    int ws_ctl8(const char* p) nogil

# Python collaborators, bound once.
import os
import sys
from asyncio.trsock import TransportSocket

import multidict

from wirespeed.errors import HeaderValidationError, TransportError, WriterStateError
from wirespeed.wire._constants import COALESCE_LIMIT, DRAIN_LIMIT, FORBIDDEN_TRAILERS
from wirespeed.wire._flow import writelines_ignores_flow_control
from wirespeed.wire._messages import (
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
    W_WRITEV_FAILED,
)
from wirespeed.wire import _writer_shared

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
cdef object CIMULTIDICT = multidict.CIMultiDict
cdef object MULTIDICT = multidict.MultiDict
cdef object CIMULTIDICTPROXY = multidict.CIMultiDictProxy
cdef object MULTIDICTPROXY = multidict.MultiDictProxy

# multidict 7's C API (its capsule, multidict_capi.h): MultiDict_ForEach walks the
# items and calls a C visitor per (key, value), with no items view, iterator or
# pair tuple.  Used when the capsule is there (API version 1 or later, multidict
# 7.0+) and its four types are the very classes above: not with multidict 6, nor
# with multidict's pure-Python build, which take items() instead.
cdef extern from *:
    """
    typedef int (*ws_md_visitor)(void *user_data, PyObject *identity, Py_hash_t hash,
                                 PyObject *key, PyObject *value);

    /* The head of multidict's MultiDict_CAPI (multidict_capi_struct.h, API
       version 1).  Fields are only ever appended to that struct, so a newer
       multidict keeps this prefix; only the type getters and ForEach are read. */
    typedef struct {
        int api_version;
        void *state;
        void *istr_get_type;
        void *istr_from_unicode;
        void *get_version;
        PyTypeObject *(*md_type)(void *state);
        PyTypeObject *(*ci_type)(void *state);
        PyTypeObject *(*proxy_type)(void *state);
        PyTypeObject *(*ci_proxy_type)(void *state);
        void *md_new;
        void *ci_new;
        void *proxy_new;
        void *ci_proxy_new;
        void *size;
        void *contains;
        void *get_item;
        void *add;
        void *clear;
        void *del_item;
        void *pop;
        void *set_default;
        void *set_item;
        Py_ssize_t (*for_each)(void *state, PyObject *self, PyObject *key,
                               ws_md_visitor visitor, void *user_data);
    } ws_wmd_capi_t;

    static ws_wmd_capi_t *ws_wmd_capi = NULL;

    static int ws_wmd_same(PyTypeObject *(*get)(void *), void *state, PyObject *expected) {
        PyTypeObject *t = get(state);
        int same = t != NULL && (PyObject *)t == expected;
        Py_XDECREF(t);
        return same;
    }

    /* 1 once ForEach is bound: the capsule exists, has version 1 or later, and
       its types are md, ci, proxy and ci_proxy; else 0, with no error set. */
    static int ws_wmd_load(PyObject *md, PyObject *ci, PyObject *proxy, PyObject *ci_proxy) {
        ws_wmd_capi_t *capi = (ws_wmd_capi_t *)PyCapsule_Import("multidict._multidict.CAPI", 0);
        int same;
        if (capi == NULL) {
            PyErr_Clear();
            return 0;
        }
        if (capi->api_version < 1) {
            return 0;
        }
        same = (ws_wmd_same(capi->md_type, capi->state, md)
                && ws_wmd_same(capi->ci_type, capi->state, ci)
                && ws_wmd_same(capi->proxy_type, capi->state, proxy)
                && ws_wmd_same(capi->ci_proxy_type, capi->state, ci_proxy));
        PyErr_Clear();
        if (same) {
            ws_wmd_capi = capi;
        }
        return same;
    }

    #define ws_wmd_foreach(md, visitor, user_data) \
        (ws_wmd_capi->for_each(ws_wmd_capi->state, (md), NULL, (visitor), (user_data)))
    """
    ctypedef int (*ws_md_visitor)(void* user_data, PyObject* identity, Py_hash_t hash,
                                  PyObject* key, PyObject* value) except -1
    bint ws_wmd_load(object md, object ci, object proxy, object ci_proxy)
    Py_ssize_t ws_wmd_foreach(object md, ws_md_visitor visitor, void* user_data) except -1

# True: a known multidict's items are walked through multidict's C API
cdef bint MD_FOREACH = ws_wmd_load(MULTIDICT, CIMULTIDICT, MULTIDICTPROXY, CIMULTIDICTPROXY)
cdef bytes CRLF = b"\r\n"
cdef str TRAILER = "trailer"   # the label of trailer fields, compared by identity in _field
cdef str HEADER = "header"
# Labels passed on the hot path: C statics, not module lookups (see _where).
cdef str WHERE_START_LINE = W_WHERE_START_LINE
cdef str WHERE_METHOD = W_WHERE_METHOD
cdef str WHERE_TARGET = W_WHERE_TARGET
cdef str WHERE_REASON = W_WHERE_REASON
cdef bytes LAST_CHUNK = b"0\r\n\r\n"
cdef const char* HEXDIGITS = b"0123456789abcdef"
cdef bytes HTTP11 = b"HTTP/1.1"
cdef tuple V11 = (1, 1)       # the default version, recognised by identity

# The last request head built from a tuple of (str, str) pairs: a client sends the same
# header tuple (its per-origin cache) with the same method and target request after
# request, and the head it serialised and checked is reused as it is.  The tuple is held,
# so its identity cannot pass to another object; it and its pairs are immutable.
cdef tuple _last_fields = None
cdef str _last_method = None
cdef str _last_target = None
cdef bytes _last_head = None


cdef bint _plain_pairs(tuple fields):
    """Every field an exact tuple of two exact str: nothing in it can change later."""
    for pair in fields:
        if type(pair) is not tuple or len(<tuple>pair) != 2:
            return False
        if type((<tuple>pair)[0]) is not str or type((<tuple>pair)[1]) is not str:
            return False
    return True

# The shared checks (wirespeed.wire._writer_shared), called off the hot path.
cdef object _shared_arguments = _writer_shared.arguments
cdef object _shared_body = _writer_shared.body
cdef object _shared_compressor = _writer_shared.compressor
cdef object _shared_status = _writer_shared.status_code
cdef object _shared_version = _writer_shared.version_line
# The defaults, recognised by identity: a writer built with them skips the check.
cdef object DEFAULT_COALESCE = COALESCE_LIMIT
cdef object DEFAULT_DRAIN = DRAIN_LIMIT
cdef Py_ssize_t C_COALESCE_LIMIT = COALESCE_LIMIT
cdef Py_ssize_t C_DRAIN_LIMIT = DRAIN_LIMIT


# -- a growable output buffer that starts on the caller's stack --------------

cdef struct Buf:
    char* data
    Py_ssize_t length
    Py_ssize_t capacity
    bint on_heap


cdef int buf_grow(Buf* b, Py_ssize_t n) except -1:
    """Make room for ``n`` more bytes: move to (a larger) heap buffer."""
    cdef Py_ssize_t cap = 2 * (b.length + n)
    cdef char* fresh = <char*>PyMem_Malloc(cap)
    if fresh == NULL:
        raise MemoryError()
    memcpy(fresh, b.data, b.length)
    if b.on_heap:
        PyMem_Free(b.data)
    b.data = fresh
    b.capacity = cap
    b.on_heap = True
    return 0


cdef inline int buf_append(Buf* b, const char* p, Py_ssize_t n) except -1:
    if b.length + n > b.capacity:
        buf_grow(b, n)
    memcpy(b.data + b.length, p, n)
    b.length += n
    return 0


# -- validation --------------------------------------------------------------

cdef str _where(int kind, str label, Py_ssize_t index, const char* np, Py_ssize_t nn):
    """Where a refused byte was, in the Python twin's words (built on the error path only)."""
    if kind == 0:
        return label
    if kind == 1:
        return W_WHERE_NAME.format(label, index)
    return W_WHERE_VALUE.format(label, PyBytes_FromStringAndSize(np, nn).decode("ascii"))


cdef inline int _text(object o, const char** p, Py_ssize_t* n,
                      int kind, str label, Py_ssize_t index,
                      const char* np, Py_ssize_t nn) except -1:
    """Borrow the bytes of a str (UTF-8) or bytes; refuse anything else and lone surrogates."""
    # The common case inline; a call of the whole function cost about 25 instructions a field.
    if PyUnicode_Check(o) and PyUnicode_IS_ASCII(o):
        p[0] = <const char*>PyUnicode_DATA(o)
        n[0] = PyUnicode_GET_LENGTH(o)
        return 0
    return _text_other(o, p, n, kind, label, index, np, nn)


cdef int _text_other(object o, const char** p, Py_ssize_t* n,
                     int kind, str label, Py_ssize_t index,
                     const char* np, Py_ssize_t nn) except -1:
    """``_text`` of anything but an ASCII str."""
    if PyUnicode_Check(o):
        try:
            p[0] = PyUnicode_AsUTF8AndSize(o, n)
        except UnicodeEncodeError as exc:
            start = exc.start
            raise HeaderValidationError(
                W_SURROGATE.format(code=ord(o[start]), index=start, where=_where(kind, label, index, np, nn))
            ) from None
        return 0
    if PyBytes_Check(o):
        p[0] = PyBytes_AS_STRING(o)
        n[0] = PyBytes_GET_SIZE(o)
        return 0
    raise HeaderValidationError(
        W_NOT_TEXT.format(where=_where(kind, label, index, np, nn), type=type(o).__name__)
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
                W_CONTROL_BYTE.format(byte=p[i], offset=i, where=_where(kind, label, index, np, nn))
            )
    return 0


cdef int _check_token(const unsigned char* p, Py_ssize_t n, str where) except -1:
    # RFC 9110 §5.6.2: token = 1*tchar.
    cdef Py_ssize_t i
    if n == 0:
        raise HeaderValidationError(W_EMPTY.format(where=where))
    for i in range(n):
        if not CLS[p[i]] & TCHAR:
            raise HeaderValidationError(W_NOT_TOKEN.format(byte=p[i], offset=i, where=where))
    return 0


cdef inline bint _maybe_ctl(const char* p, Py_ssize_t n) noexcept nogil:
    """False when no byte of ``p[:n]`` is a control (``CTL``); True when one may be (HTAB too, from 8 bytes)."""
    cdef Py_ssize_t i = 0
    if n < 8:
        for i in range(n):
            if CLS[<unsigned char>p[i]] & CTL:
                return True
        return False
    # Eight bytes a step, the last step overlapping: about a quarter of the instructions of a byte loop.
    while i + 8 < n:
        if ws_ctl8(p + i):
            return True
        i += 8
    return ws_ctl8(p + n - 8)


cdef int _field(Buf* b, object name, object value, Py_ssize_t index, str label) except -1:
    """Append ``name: value CRLF`` after checking both."""
    cdef const char* np
    cdef const char* vp
    cdef char* out
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
    if _maybe_ctl(vp, vn):
        _check_ctl(<const unsigned char*>vp, vn, 2, label, index, np, nn)
    # One room check and four copies for the whole field line.
    if b.length + nn + vn + 4 > b.capacity:
        buf_grow(b, nn + vn + 4)
    out = b.data + b.length
    memcpy(out, np, nn)
    out[nn] = b":"
    out[nn + 1] = b" "
    memcpy(out + nn + 2, vp, vn)
    out[nn + 2 + vn] = b"\r"
    out[nn + 3 + vn] = b"\n"
    b.length += nn + vn + 4
    return 0


cdef int _check_trailer_name(const char* np, Py_ssize_t nn, Py_ssize_t index) except -1:
    # RFC 9110 §6.5.1: framing, routing, authentication, ... fields never go in a trailer.
    name = PyBytes_FromStringAndSize(np, nn).decode("ascii")
    if name.lower() in FORBIDDEN_TRAILERS:
        raise HeaderValidationError(W_FORBIDDEN_TRAILER.format(index=index, name=name))
    return 0


cdef struct FieldWalk:
    Buf* b
    Py_ssize_t index
    PyObject* label


cdef int _visit_field(void* user_data, PyObject* identity, Py_hash_t hash,
                      PyObject* key, PyObject* value) except -1:
    """multidict's ForEach visitor: one field; 1 to go on, -1 with the error set to stop."""
    cdef FieldWalk* walk = <FieldWalk*>user_data
    _field(walk.b, <object>key, <object>value, walk.index, <str>walk.label)
    walk.index += 1
    return 1


cdef int _fields(Buf* b, object headers, str label) except -1:
    """Append every field of a dict, a multidict (``.items()``) or a sequence of pairs."""
    cdef Py_ssize_t pos = 0, index = 0
    cdef FieldWalk walk
    cdef PyObject* key
    cdef PyObject* val
    if PyDict_CheckExact(headers):
        while PyDict_Next(headers, &pos, &key, &val):
            _field(b, <object>key, <object>val, index, label)
            index += 1
        return 0
    kind = type(headers)
    # Four pointer compares: a frozenset lookup here cost about 100 instructions a head.
    if kind is CIMULTIDICT or kind is MULTIDICT or kind is CIMULTIDICTPROXY or kind is MULTIDICTPROXY:
        if MD_FOREACH:
            walk.b = b
            walk.index = 0
            walk.label = <PyObject*>label
            ws_wmd_foreach(headers, _visit_field, &walk)
            return 0
        fields = headers.items()
    else:
        items = getattr(headers, "items", None)
        try:
            fields = iter(items() if callable(items) else headers)
        except TypeError:
            raise HeaderValidationError(W_NOT_FIELDS.format(kind=label, type=type(headers).__name__)) from None
    for item in fields:
        if PyTuple_CheckExact(item) and PyTuple_GET_SIZE(item) == 2:
            _field(b, <object>PyTuple_GET_ITEM(item, 0), <object>PyTuple_GET_ITEM(item, 1), index, label)
        else:
            try:
                name, value = item
            except (TypeError, ValueError):
                raise HeaderValidationError(W_NOT_PAIR.format(kind=label, index=index)) from None
            _field(b, name, value, index, label)
        index += 1
    return 0


cdef bytes _serialize_block(const char** parts, Py_ssize_t* lens, int count, object fields, str label):
    """The ``parts`` of the first line(s) + the fields + CRLF, built in a stack buffer (heap if it grows)."""
    cdef char stack[STACK_HEAD]
    cdef Buf b
    cdef int i
    b.data = stack
    b.length = 0
    b.capacity = STACK_HEAD
    b.on_heap = False
    try:
        for i in range(count):
            buf_append(&b, parts[i], lens[i])
        _fields(&b, fields, label)
        buf_append(&b, "\r\n", 2)
        return PyBytes_FromStringAndSize(b.data, b.length)
    finally:
        if b.on_heap:
            PyMem_Free(b.data)


cdef bytes _serialize_head(object start_line, object headers):
    """The start line, validated, and the header fields (RFC 9112 §2.1)."""
    cdef const char* parts[2]
    cdef Py_ssize_t lens[2]
    _text(start_line, &parts[0], &lens[0], 0, WHERE_START_LINE, 0, NULL, 0)
    if lens[0] == 0:
        raise HeaderValidationError(W_EMPTY.format(where=W_WHERE_START_LINE))
    _check_ctl(<const unsigned char*>parts[0], lens[0], 0, WHERE_START_LINE, 0, NULL, 0)
    parts[1] = "\r\n"
    lens[1] = 2
    # parts[0] borrows from start_line, which the caller keeps alive.
    return _serialize_block(parts, lens, 2, headers, HEADER)


cdef bytes _serialize_trailers(object trailers):
    """``0 CRLF`` + trailer fields + ``CRLF`` (RFC 9112 §7.1.2)."""
    cdef const char* parts[1]
    cdef Py_ssize_t lens[1]
    parts[0] = "0\r\n"
    lens[0] = 3
    return _serialize_block(parts, lens, 1, trailers, TRAILER)


cdef inline object _body(object data):
    """A body piece as the transport may take it (``_writer_shared.body``; bytes and bytearray inline)."""
    if PyBytes_CheckExact(data) or type(data) is bytearray:
        return data
    return _shared_body(data)


cdef Py_ssize_t _nbytes(object data) except -1:
    cdef Py_buffer view
    if PyBytes_CheckExact(data):
        return PyBytes_GET_SIZE(data)
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    n = view.len
    PyBuffer_Release(&view)
    return n


cdef inline Py_ssize_t _put_size_line(char* out, size_t size) noexcept nogil:
    """Write ``size`` in lower-case hex and CRLF at ``out`` (room for 18 bytes); return the length."""
    # RFC 9112 §7.1: chunk-size = 1*HEXDIG, then CRLF (we send no extensions).
    # By hand: snprintf("%zx") cost about 800 instructions per chunk.
    cdef Py_ssize_t digits = 1, i
    cdef size_t rest = size >> 4
    while rest:
        digits += 1
        rest >>= 4
    for i in range(digits - 1, -1, -1):
        out[i] = HEXDIGITS[size & 15]
        size >>= 4
    out[digits] = b"\r"
    out[digits + 1] = b"\n"
    return digits + 2


cdef bytes _size_line(Py_ssize_t size):
    cdef char tmp[24]
    return PyBytes_FromStringAndSize(tmp, _put_size_line(tmp, <size_t>size))


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


include "_writer_calls.pxi"


cdef bytes _request_head(object method, object target, object headers, object version, int state):
    """A request head, checked (``state``: the writer's; a second head is refused after
    the start line's checks, before the fields')."""
    global _last_fields, _last_method, _last_target, _last_head
    cdef const char* parts[6]
    cdef Py_ssize_t lens[6]
    cdef const char* tp
    cdef Py_ssize_t tn, i
    cdef bytes version_line, head
    if (headers is _last_fields and version is V11 and state == NEW and type(method) is str
            and type(target) is str and (method is _last_method or method == _last_method)
            and (target is _last_target or target == _last_target)):
        return _last_head
    _text(method, &parts[0], &lens[0], 0, WHERE_METHOD, 0, NULL, 0)
    _check_token(<const unsigned char*>parts[0], lens[0], WHERE_METHOD)
    _text(target, &tp, &tn, 0, WHERE_TARGET, 0, NULL, 0)
    if tn == 0:
        raise HeaderValidationError(W_EMPTY.format(where=W_WHERE_TARGET))
    # RFC 9112 §3.2: the request-target holds no whitespace, controls or obs-text.
    for i in range(tn):
        if not CLS[<unsigned char>tp[i]] & TARGET:
            if tp[i] == b"#":
                raise HeaderValidationError(W_TARGET_FRAGMENT.format(offset=i))
            raise HeaderValidationError(W_TARGET_BYTE.format(byte=<unsigned char>tp[i], offset=i))
    version_line = HTTP11 if version is V11 else _shared_version(version)
    if state != NEW:
        raise WriterStateError(W_HEAD_TWICE)
    # The line's parts are checked (a token, visible ASCII, a known version): no
    # start-line check and no line object, the head is built from them in place.
    parts[1] = " "
    lens[1] = 1
    parts[2] = tp
    lens[2] = tn
    parts[3] = " "
    lens[3] = 1
    parts[4] = PyBytes_AS_STRING(version_line)
    lens[4] = PyBytes_GET_SIZE(version_line)
    parts[5] = "\r\n"
    lens[5] = 2
    head = _serialize_block(parts, lens, 6, headers, HEADER)
    if (type(headers) is tuple and version is V11 and type(method) is str and type(target) is str
            and _plain_pairs(<tuple>headers)):
        _last_fields = <tuple>headers
        _last_method = <str>method
        _last_target = <str>target
        _last_head = head
    return head


# -- the C calls (src/_writer_calls.pxi) --------------------------------------

cdef int _write_small(object transport, object method, object target, object headers, object body) except -1:
    """``StreamWriter(transport)``, ``write_request_headers(method, target, headers)``, then
    ``write_eof(body)`` (bytes) or ``set_eof()`` (None), without the writer: 1 when written,
    0 (nothing done) for a body of another type or when head and body together pass the
    coalesce limit."""
    cdef Py_ssize_t head_len, size, total
    if body is not None and type(body) is not bytes:
        return 0
    head = _request_head(method, target, headers, V11, NEW)
    head_len = PyBytes_GET_SIZE(head)
    size = 0 if body is None else PyBytes_GET_SIZE(body)
    total = head_len + size
    if size and total > C_COALESCE_LIMIT:
        return 0
    if transport.is_closing():
        raise TransportError(W_CLOSING.format(total))
    if size == 0:
        transport.write(head)
        return 1
    transport.write(_joined(head, head_len, body, size))
    return 1


cdef inline bytes _joined(bytes head, Py_ssize_t head_len, bytes body, Py_ssize_t size):
    """``head + body`` as two copies into one new bytes (``+`` costs a number-protocol dispatch)."""
    joined = PyBytes_FromStringAndSize(NULL, head_len + size)
    memcpy(PyBytes_AS_STRING(joined), PyBytes_AS_STRING(head), head_len)
    memcpy(PyBytes_AS_STRING(joined) + head_len, PyBytes_AS_STRING(body), size)
    return joined


cdef WriterCalls _calls
_calls.write_small = _write_small
_WRITER_CALLS = PyCapsule_New(<void *>&_calls, WRITER_CALLS_NAME, NULL)


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
    cdef int _fd            # socket fd for the writev path; -2 not looked up yet, -1 none or switched off
    cdef bytes _head
    cdef object _compressor

    def __init__(self, transport, protocol=None, *,
                 coalesce_limit=DEFAULT_COALESCE, drain_limit=DEFAULT_DRAIN, direct_writes=True):
        self.transport = transport
        self.protocol = protocol
        self._writelines_safe = WRITELINES_SAFE
        if coalesce_limit is DEFAULT_COALESCE and drain_limit is DEFAULT_DRAIN and direct_writes is True:
            # The defaults, known good: no call, no conversion (a writer is built per message).
            self._coalesce_limit = C_COALESCE_LIMIT
            self._drain_limit = C_DRAIN_LIMIT
            self._fd = -2
            return
        coalesce_limit, drain_limit, direct_writes = _shared_arguments(coalesce_limit, drain_limit, direct_writes)
        self._coalesce_limit = coalesce_limit
        self._drain_limit = drain_limit
        # -1: never look for a socket, every byte goes through the transport.
        self._fd = -2 if direct_writes else -1

    # -- head -----------------------------------------------------------------

    def write_headers(self, start_line, headers=()):
        """Validate and buffer the start line (without CRLF) and the headers."""
        if self._state != NEW:
            raise WriterStateError(W_HEAD_TWICE)
        self._head = _serialize_head(start_line, headers)
        self._head_len = PyBytes_GET_SIZE(self._head)
        self._state = HEAD_BUFFERED

    def write_request_headers(self, method, target, headers=(), version=V11):
        """Buffer a request head: ``method`` must be a token, ``target`` visible ASCII."""
        self._head = _request_head(method, target, headers, version, self._state)
        self._head_len = PyBytes_GET_SIZE(self._head)
        self._state = HEAD_BUFFERED

    def write_response_headers(self, status, reason, headers=(), version=V11):
        """Buffer a response head: ``status`` a three-digit int, ``reason`` free of controls."""
        cdef const char* rp
        cdef Py_ssize_t rn
        status = _shared_status(status)
        _text(reason, &rp, &rn, 0, WHERE_REASON, 0, NULL, 0)
        line = ((HTTP11 if version is V11 else _shared_version(version)) + b" %d " % status
                + PyBytes_FromStringAndSize(rp, rn))
        self.write_headers(line, headers)

    def send_headers(self):
        """Send the buffered head now (``Expect: 100-continue``, upgrades); idempotent."""
        if self._state == NEW:
            raise WriterStateError(W_BEFORE_HEAD.format("send_headers"))
        if self._state == HEAD_BUFFERED:
            self._state = BODY
            head = self._head
            self._head = None
            self._send([head], self._head_len)

    # -- body framing ---------------------------------------------------------

    cdef int _check_no_body_yet(self, str what) except -1:
        if self._state == DONE or self._body_started:
            raise WriterStateError(W_AFTER_BODY.format(what))
        return 0

    def enable_chunking(self):
        """Frame the body with chunked transfer coding; the caller's headers must say so."""
        self._check_no_body_yet("enable_chunking")
        self._chunked = True

    def enable_compression(self, encoding="deflate"):
        """Compress the body with ``gzip`` or ``deflate`` (zlib format, RFC 9110 §8.4.1.2)."""
        self._check_no_body_yet("enable_compression")
        self._compressor = _shared_compressor(encoding)

    # -- body -----------------------------------------------------------------

    def write(self, data):
        """Send a piece of the body (head first, in the same call, if still buffered)."""
        cdef int state = self._state
        cdef Py_ssize_t size, head_len = 0
        if state == NEW:
            raise WriterStateError(W_BEFORE_HEAD.format("write"))
        if state == DONE:
            raise WriterStateError(W_AFTER_END.format("write"))
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
        elif not self._chunked:
            self._send_one(data, size, 0)
            return
        self._send_body(head, data, size, head_len)

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
                self._send_one(_joined(head_only, head_len, last, size), head_len + size, head_len)
            else:
                self._send([head_only, last], head_len)
            return
        if (state == BODY and trailers is None and self._chunked and self._compressor is None
                and PyBytes_CheckExact(last) and PyBytes_GET_SIZE(last) == 0):
            # The common end of a chunked body: the terminator alone (the head went out before).
            self._state = DONE
            self._send_one(LAST_CHUNK, PyBytes_GET_SIZE(LAST_CHUNK), 0)
            return
        if state == NEW:
            raise WriterStateError(W_BEFORE_HEAD.format("write_eof"))
        if state == DONE:
            raise WriterStateError(W_AFTER_END.format("write_eof"))
        if trailers is not None:
            if not self._chunked:
                raise WriterStateError(W_TRAILERS_NOT_CHUNKED)
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
            raise WriterStateError(W_BEFORE_HEAD.format("set_eof"))
        if self._state == DONE:
            raise WriterStateError(W_AFTER_END.format("set_eof"))
        if self._chunked or self._compressor is not None:
            raise WriterStateError(W_SET_EOF_FRAMED)
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
                raise TransportError(W_CLOSING.format(total))
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
                raise TransportError(W_CLOSING.format(total))
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

    cdef int _send_body(self, object head, object data, Py_ssize_t size, Py_ssize_t head_len) except -1:
        """``_send([head,] [size line,] data [, CRLF])``; a small total is joined without the list or temporaries."""
        cdef char line[24]
        cdef Py_ssize_t line_len = 0, head_size = 0, total
        cdef Py_buffer view
        cdef bint held = False
        cdef const char* p
        cdef char* out
        if self._chunked:
            line_len = _put_size_line(line, <size_t>size)
        if head is not None:
            head_size = PyBytes_GET_SIZE(head)
        total = head_size + line_len + size + (2 if self._chunked else 0)
        if total > self._coalesce_limit:
            if head is None:
                pieces = [PyBytes_FromStringAndSize(line, line_len), data, CRLF]
            elif self._chunked:
                pieces = [head, PyBytes_FromStringAndSize(line, line_len), data, CRLF]
            else:
                pieces = [head, data]
            return self._send(pieces, head_len)
        transport = self.transport
        if PyBytes_CheckExact(data):
            p = PyBytes_AS_STRING(data)
        else:
            PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
            held = True
            p = <const char*>view.buf
        try:
            if transport.is_closing():
                raise TransportError(W_CLOSING.format(total))
            self._count(total, head_len)
            joined = PyBytes_FromStringAndSize(NULL, total)
            out = PyBytes_AS_STRING(joined)
            if head_size:
                memcpy(out, PyBytes_AS_STRING(head), head_size)
                out += head_size
            memcpy(out, line, line_len)
            out += line_len
            memcpy(out, p, size)
            if self._chunked:
                out[size] = b"\r"
                out[size + 1] = b"\n"
            transport.write(joined)
        finally:
            if held:
                PyBuffer_Release(&view)
        return 0

    cdef int _send_one(self, object data, Py_ssize_t total, Py_ssize_t head_len) except -1:
        """``_send([data])`` when the size is known: no list, no buffer lookup."""
        transport = self.transport
        if transport.is_closing():
            raise TransportError(W_CLOSING.format(total))
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
                W_WRITEV_FAILED.format(total, err, os.strerror(err))
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

    def _drain_due(self):
        """True (and the count reset) once more than ``drain_limit`` bytes went out since the last wait."""
        if self.buffer_size > self._drain_limit:
            self.buffer_size = 0
            return True
        return False

    # ``await drain()``: the shared coroutine function itself, as on the Python twin.
    drain = _writer_shared.drain
