# cython: language_level=3, freethreading_compatible=True
"""The C twin of what ``session.get(...)`` returns (``wirespeed.client._context``).

Same contract as the Python twin: awaitable for the response, or an async
context manager that closes a response left before the end of its body.
Why it is hand-written: in Python, ``async with session.get(url) as r``
costs two more coroutines per request (``__aenter__`` and ``__aexit__``) and
a wrapper object for ``__await__``, and the request's coroutine is resumed
through them on every wake-up: about a tenth of a small request's CPU.
Here the object is its own awaitable: its ``am_send`` slot drives the
request's coroutine with ``PyIter_Send`` and keeps the response that
coroutine returns (no StopIteration is raised on the way), so
``__aenter__`` is the object itself and ``__aexit__`` returns an awaitable
that is already done.
"""

from cpython.object cimport PyObject
from cpython.ref cimport Py_DECREF

__all__ = ["RequestContext"]

cdef extern from "Python.h":
    ctypedef enum PySendResult:
        PYGEN_RETURN
        PYGEN_ERROR
        PYGEN_NEXT
    ctypedef PySendResult (*sendfunc)(PyObject *, PyObject *, PyObject **) noexcept
    ctypedef struct PyAsyncMethods:
        sendfunc am_send
    ctypedef struct PyTypeObject:
        PyAsyncMethods *tp_as_async
    PySendResult PyIter_Send(PyObject *iterator, PyObject *arg, PyObject **presult) noexcept

# An exhausted iterator: what ``__aexit__``'s awaitable hands to ``await``, which ends at once.
cdef object _EMPTY = iter(())


cdef class _Done:
    """An awaitable that is already done (``await`` gives None)."""

    def __await__(self):
        return _EMPTY


cdef _Done _DONE = _Done()


cdef int raise_current() except -1:
    """Hand the exception PyIter_Send left set on to Cython's error handling."""
    return -1


cdef class RequestContext:
    """The request in flight: ``await`` it, or use it with ``async with``."""

    cdef object _coro
    cdef readonly object _resp

    def __cinit__(self, coro):
        self._coro = coro
        self._resp = None

    def __await__(self):
        return self

    def __iter__(self):
        return self

    def __next__(self):
        # Reached only when ``await`` cannot use am_send (a tracer is set, say); the
        # return value comes back through StopIteration then.
        return self.send(None)

    def send(self, value):
        cdef PyObject *result = NULL
        cdef PySendResult how = PyIter_Send(<PyObject *>self._coro, <PyObject *>value, &result)
        if how == PYGEN_ERROR:
            raise_current()
        out = <object>result
        Py_DECREF(out)   # PyIter_Send gave a new reference; the cast took another
        if how == PYGEN_RETURN:
            self._resp = out
            raise StopIteration(out)
        return out

    def throw(self, *args):
        try:
            return self._coro.throw(*args)
        except StopIteration as stop:
            self._resp = stop.value
            raise

    def close(self):
        return self._coro.close()

    def __aenter__(self):
        return self

    def __aexit__(self, et, e, tb):
        resp = self._resp
        if resp is not None and (resp._conn is not None or resp._pieces):
            resp.close()   # the body is not all read: the connection closes, what is left goes
        return _DONE


cdef PySendResult _am_send(PyObject *self, PyObject *arg, PyObject **presult) noexcept:
    """``await``'s way in (the am_send slot): the coroutine's result is kept, no StopIteration is made."""
    cdef PySendResult how = PyIter_Send(<PyObject *>(<RequestContext>self)._coro, arg, presult)
    if how == PYGEN_RETURN:
        (<RequestContext>self)._resp = <object>presult[0]
    return how


# Cython gives the type an async slot table (it has __await__) but no am_send: fill it in.
(<PyTypeObject *>RequestContext).tp_as_async.am_send = _am_send
