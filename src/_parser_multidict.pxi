# Filling a CIMultiDict from C.  ``CIMultiDict.add`` is a METH_FASTCALL |
# METH_KEYWORDS method descriptor; calling its C function directly skips the
# argument tuple, the bound method and the vectorcall dispatch per field.  Any
# other shape (another multidict build, the pure-Python multidict) falls back
# to an ordinary call of the same unbound method.

cdef extern from "Python.h":
    ctypedef struct PyMethodDef:
        const char *ml_name
        void *ml_meth
        int ml_flags
    ctypedef struct PyMethodDescrObject:
        PyMethodDef *d_method
    int METH_FASTCALL
    int METH_KEYWORDS
    void Py_DecRef(PyObject *o)

ctypedef PyObject *(*_fastcall_kw)(PyObject *, PyObject *const *, Py_ssize_t, PyObject *)

cdef _fastcall_kw _md_add_fn = NULL
if type(_md_add) is type(str.join):
    if (<PyMethodDescrObject *><PyObject *>_md_add).d_method.ml_flags == METH_FASTCALL | METH_KEYWORDS:
        _md_add_fn = <_fastcall_kw>(<PyMethodDescrObject *><PyObject *>_md_add).d_method.ml_meth


cdef inline int _add(object md, object key, object value) except -1:
    cdef PyObject *args[2]
    cdef PyObject *r
    if _md_add_fn == NULL:
        _md_add(md, key, value)
        return 0
    args[0] = <PyObject *>key
    args[1] = <PyObject *>value
    r = _md_add_fn(<PyObject *>md, args, 2, NULL)
    if r == NULL:
        return -1
    Py_DecRef(r)
    return 0


# Building the CIMultiDict from a list of pairs lets it size its table once,
# about twice as fast as one `add` per field.  The 2-tuples come from a
# per-parser pool and are refilled in place when nothing else holds them (the
# pool's reference is the only one), as CPython's zip() recycles its result.

cdef extern from "Python.h":
    Py_ssize_t _refcnt "Py_REFCNT"(PyObject *o)
    PyObject *_tuple_item "PyTuple_GET_ITEM"(PyObject *t, Py_ssize_t i)
    void _tuple_set "PyTuple_SET_ITEM"(PyObject *t, Py_ssize_t i, PyObject *v)
    PyObject *_list_item "PyList_GET_ITEM"(PyObject *l, Py_ssize_t i)
    void _list_set "PyList_SET_ITEM"(PyObject *l, Py_ssize_t i, PyObject *v)
    Py_ssize_t _list_size "PyList_GET_SIZE"(PyObject *l)
    object _list_new "PyList_New"(Py_ssize_t n)
    void Py_IncRef(PyObject *o)


cdef inline int _put_pair(list pool, list items, Py_ssize_t i, object key, object value) except -1:
    """items[i] = (key, value), recycling pool[i] when only the pool holds it."""
    cdef PyObject *t
    cdef PyObject *old_key
    cdef PyObject *old_value
    if i < _list_size(<PyObject *>pool):
        t = _list_item(<PyObject *>pool, i)
        if _refcnt(t) == 1:
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
