# cython: language_level=3, freethreading_compatible=True
"""The C ReceiveBuffer twin: a read buffer whose filled part becomes ``bytes`` without a copy.

Same contract, names and errors as the Python twin
(``wirespeed.wire._receive_py``; docs/parser.md).  Why it is hand-written: a
download's body arrives in reads of up to 256 KiB, and the plain way (read
into a ``bytearray``, then ``bytes(piece)`` for the response) copies every
body byte a second time into a freshly allocated block.  A fresh block of
that size is usually fresh memory too: the C allocator returns it to the
kernel when the consumer drops the piece and takes it back for the next one,
one page fault per 4 KiB.  Copy and faults were over half the client's CPU
for a 10 MiB download.

So the buffer *is* the storage of a ``bytes`` object that no Python code can
reach: ``view`` is a writable memoryview over that storage
(``PyMemoryView_FromMemory``, which holds no reference to the ``bytes``), the
transport reads into it, and ``take(n)`` shrinks the object to ``n`` bytes in
place and hands it over.  The next read goes into another object: one of the
last ``SPARES`` full-size objects handed over, once its consumer has dropped
it (this buffer holds the only reference again, so no one can see it being
written), else a new one.  A steady download thus cycles through the same few
blocks of warm memory.

Why this is sound: a ``bytes`` object may be filled and resized by C code as
long as it is not shared (CPython's own ``sock.recv`` fills one the same way);
the object is referenced by this buffer alone whenever it is written, and its
cached hash is reset before it is reused.  The old ``view`` is released when
no export of it remains; one that is still exported (uvloop holds the buffer
while it calls ``buffer_updated``) points at memory the caller must no longer
use, as the contract says: asyncio's and uvloop's transports, plain and TLS,
write into the buffer only before ``buffer_updated``.

Threads: a buffer belongs to one connection, read in one thread.  ``take()``
runs under a critical section (a per-object lock on free-threaded builds,
nothing with the GIL), so two threads taking at once get two different
objects, never one storage twice; what a transport writes into ``view`` is
the caller's to order before ``take()``.
"""

cimport cython

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from cpython.object cimport PyObject
from cpython.ref cimport Py_INCREF, Py_XDECREF

import sys

from wirespeed.wire._messages import R_SIZE, R_SIZE_LARGE, R_TAKE_RANGE

cdef extern from "Python.h":
    object PyMemoryView_FromMemory(char *mem, Py_ssize_t size, int flags)
    int PyBUF_WRITE
    int _PyBytes_Resize(PyObject **bytes, Py_ssize_t newsize) except -1

cdef extern from *:
    """
    /* Is this reference the only one?  On a free-threaded build a reference
       count of 1 does not prove it; CPython 3.14 has the call that does. */
    static inline int ws_only_reference(PyObject *o) {
    #if defined(Py_GIL_DISABLED) && PY_VERSION_HEX >= 0x030E0000
        return PyUnstable_Object_IsUniquelyReferenced(o);
    #else
        return Py_REFCNT(o) == 1;
    #endif
    }

    /* A bytes object about to be rewritten forgets the hash it may have cached
       (the field is deprecated for readers, not gone). */
    #if defined(__GNUC__) || defined(__clang__)
    #pragma GCC diagnostic push
    #pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    #elif defined(_MSC_VER)
    #pragma warning(push)
    #pragma warning(disable: 4996)
    #endif
    static inline void ws_forget_hash(PyObject *o) {
        ((PyBytesObject *)o)->ob_shash = -1;
    }

    /* The length a bytes object shows, inside the block it was allocated with: a
       bytes object is its size field, its bytes and a NUL after them.  Shrinking
       only the field keeps the block (free() needs no size) for reuse. */
    static inline void ws_set_length(PyObject *o, Py_ssize_t n) {
        Py_SET_SIZE(o, n);
        ((PyBytesObject *)o)->ob_sval[n] = 0;
    }
    #if defined(__GNUC__) || defined(__clang__)
    #pragma GCC diagnostic pop
    #elif defined(_MSC_VER)
    #pragma warning(pop)
    #endif
    """
    bint ws_only_reference(PyObject *o)
    void ws_forget_hash(PyObject *o)
    void ws_set_length(PyObject *o, Py_ssize_t n)

__all__ = ["ReceiveBuffer", "SPARES"]

#: Objects handed over and kept for reuse once their consumer drops them: a
#: download that reads each piece before the next arrives cycles through two.
#: At most SPARES * size bytes stay allocated for that.
SPARES = 2


cdef class ReceiveBuffer:
    """A read buffer whose filled part becomes ``bytes`` without a copy."""

    cdef object _storage      # a bytes object only this buffer references
    cdef Py_ssize_t _size
    cdef list _spares         # full-size objects handed over, oldest first
    cdef public object view   # writable memoryview over _storage's bytes

    def __init__(self, size):
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(R_SIZE.format(size))
        if size <= 0:
            raise ValueError(R_SIZE.format(size))
        if size > sys.maxsize:
            raise OverflowError(R_SIZE_LARGE.format(size))
        self._size = size
        self._spares = []
        self._fresh()

    cdef int _fresh(self) except -1:
        """The next storage: a spare no one else holds any more, else a new object."""
        cdef Py_ssize_t i
        cdef PyObject *o
        storage = None
        for i in range(PyList_GET_SIZE(self._spares)):
            o = PyList_GET_ITEM(self._spares, i)
            if ws_only_reference(o):   # the list's reference is the only one
                storage = <object>o
                del self._spares[i]
                ws_forget_hash(<PyObject *>storage)
                ws_set_length(<PyObject *>storage, self._size)   # its whole block again
                break
        if storage is None:
            storage = PyBytes_FromStringAndSize(NULL, self._size)
        self._storage = storage
        self.view = PyMemoryView_FromMemory(PyBytes_AS_STRING(storage), self._size, PyBUF_WRITE)
        return 0

    @property
    def size(self):
        return self._size

    def take(self, n):
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(R_TAKE_RANGE.format(n, self._size))
        if not 0 <= n <= self._size:
            raise ValueError(R_TAKE_RANGE.format(n, self._size))
        with cython.critical_section(self):
            return self._take(n)

    cdef object _take(self, Py_ssize_t count):
        cdef object old_view = self.view
        cdef object data = self._storage
        cdef PyObject *raw
        self._storage = None
        self.view = None
        try:
            old_view.release()
        except BufferError:
            pass  # exported by the transport for the length of buffer_updated
        del old_view
        if not ws_only_reference(<PyObject *>data):  # pragma: no cover - nothing else can hold it
            data = PyBytes_FromStringAndSize(PyBytes_AS_STRING(data), count)
        elif 4 * count >= self._size:
            # A good part of the block: it is handed over as it is, only its length set,
            # and kept as a spare.  A read that did not fill the buffer (asyncio's one recv
            # per wake-up, often 64 or 128 KiB of a 256 KiB buffer; the last piece of a
            # body) then reuses warm memory too, where a resize and a new block cost a page
            # fault per 4 KiB the kernel writes.  While the consumer holds the piece, its
            # block is at most four times its length (the caller decides what it takes).
            if count != self._size:
                ws_set_length(<PyObject *>data, count)
            self._fresh()   # first, so that a spare the consumer dropped is the one reused
            if PyList_GET_SIZE(self._spares) >= SPARES:
                del self._spares[0]
            self._spares.append(data)
            return data
        else:
            # The one reference moves into raw for the resize and comes back.
            raw = <PyObject *>data
            Py_INCREF(data)
            data = None
            try:
                _PyBytes_Resize(&raw, count)
            except BaseException:
                # raw was freed and set to NULL; the next read needs a buffer all the same
                self._fresh()
                raise
            data = <object>raw
            Py_XDECREF(raw)
        self._fresh()
        return data
