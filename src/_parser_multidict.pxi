# Filling a CIMultiDict from C.  Building it from a list of pairs lets it
# size its table once, about twice as fast as one `add` call per field.  The
# 2-tuples come from a per-parser pool and are refilled in place when nothing
# else holds them (the pool's reference is the only one), as CPython's zip()
# recycles its result tuple; multidict copies the items out, never keeps the
# tuple.  After the build the values are dropped from the pool, so an idle
# parser does not keep the last head's text alive.
#
# "Nothing else holds them" is WS_UNIQUE.  With the GIL it is a refcount of 1.
# On a free-threaded build a refcount is split between the owning thread and
# the others, and only PyUnstable_Object_IsUniquelyReferenced (3.14+) tells an
# object private to this thread; 3.13t has no such test, so there a tuple is
# never reused (a new one per field, as a plain list of pairs would be).

cdef extern from *:
    """
    #if defined(Py_GIL_DISABLED)
    #  if PY_VERSION_HEX >= 0x030E0000
    #    define WS_UNIQUE(o) PyUnstable_Object_IsUniquelyReferenced(o)
    #  else
    #    define WS_UNIQUE(o) 0
    #  endif
    #else
    #  define WS_UNIQUE(o) (Py_REFCNT(o) == 1)
    #endif
    """
    bint WS_UNIQUE(PyObject *o)


cdef extern from "Python.h":
    PyObject *_tuple_item "PyTuple_GET_ITEM"(PyObject *t, Py_ssize_t i)
    void _tuple_set "PyTuple_SET_ITEM"(PyObject *t, Py_ssize_t i, PyObject *v)
    PyObject *_list_item "PyList_GET_ITEM"(PyObject *l, Py_ssize_t i)
    void _list_set "PyList_SET_ITEM"(PyObject *l, Py_ssize_t i, PyObject *v)
    Py_ssize_t _list_size "PyList_GET_SIZE"(PyObject *l)
    object _list_new "PyList_New"(Py_ssize_t n)
    void Py_IncRef(PyObject *o)
    void Py_DecRef(PyObject *o)


cdef inline int _put_pair(list pool, list items, Py_ssize_t i, object key, object value) except -1:
    """items[i] = (key, value), recycling pool[i] when only the pool holds it."""
    cdef PyObject *t
    cdef PyObject *old_key
    cdef PyObject *old_value
    if i < _list_size(<PyObject *>pool):
        t = _list_item(<PyObject *>pool, i)
        if WS_UNIQUE(t):
            old_key = _tuple_item(t, 0)
            old_value = _tuple_item(t, 1)
            Py_IncRef(<PyObject *>key)
            Py_IncRef(<PyObject *>value)
            _tuple_set(t, 0, <PyObject *>key)
            _tuple_set(t, 1, <PyObject *>value)
            Py_DecRef(old_key)
            Py_DecRef(old_value)
        else:
            pool[i] = (key, value)
            t = _list_item(<PyObject *>pool, i)
    else:
        pool.append((key, value))
        t = _list_item(<PyObject *>pool, i)
    Py_IncRef(t)
    _list_set(<PyObject *>items, i, t)
    return 0


cdef inline void _release_values(list pool, Py_ssize_t n) noexcept:
    """Replace the values of pool[:n] by None once the multidict holds them."""
    cdef Py_ssize_t i
    cdef PyObject *t
    cdef PyObject *old_value
    for i in range(n):
        t = _list_item(<PyObject *>pool, i)
        if WS_UNIQUE(t):
            old_value = _tuple_item(t, 1)
            Py_IncRef(<PyObject *>None)
            _tuple_set(t, 1, <PyObject *>None)
            Py_DecRef(old_value)
