# Filling a CIMultiDict from C.
#
# multidict 7 publishes a C API in a capsule (multidict_capi.h): a CIMultiDict
# made with room for every field, then one C `add` per field, with no pair
# tuple, no list and no Python call in between.  It is used when the capsule is
# there and its types are the very `multidict.CIMultiDict` and
# `CIMultiDictProxy` (not with multidict 6, nor with its pure-Python build).
#
# Otherwise the multidict is built from a list of pairs, which lets it
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


cdef extern from *:
    """
    /* The head of multidict's MultiDict_CAPI (multidict_capi_struct.h, API
       version 1).  Fields are only ever appended to that struct, so a newer
       multidict keeps this prefix; only the fields up to `add` are read. */
    typedef struct {
        int api_version;
        void *state;
        void *istr_get_type;
        void *istr_from_unicode;
        void *get_version;
        void *md_type;
        PyTypeObject *(*ci_type)(void *state);
        void *proxy_type;
        PyTypeObject *(*ci_proxy_type)(void *state);
        void *md_new;
        PyObject *(*ci_new)(void *state, Py_ssize_t prealloc_size);
        void *proxy_new;
        PyObject *(*ci_proxy_new)(void *state, PyObject *arg);
        void *size;
        void *contains;
        void *get_item;
        int (*add)(void *state, PyObject *self, PyObject *key, PyObject *value);
    } ws_md_capi_t;

    static ws_md_capi_t *ws_md_capi = NULL;

    /* 1 once the C API is bound: the capsule exists, has version 1 or later,
       and its types are `ci` and `ci_proxy`; else 0, with no error set. */
    static int ws_md_capi_load(PyObject *ci, PyObject *ci_proxy) {
        ws_md_capi_t *capi = (ws_md_capi_t *)PyCapsule_Import("multidict._multidict.CAPI", 0);
        PyTypeObject *t1, *t2;
        int same;
        if (capi == NULL) {
            PyErr_Clear();
            return 0;
        }
        if (capi->api_version < 1) {
            return 0;
        }
        t1 = capi->ci_type(capi->state);
        t2 = capi->ci_proxy_type(capi->state);
        same = t1 != NULL && t2 != NULL && (PyObject *)t1 == ci && (PyObject *)t2 == ci_proxy;
        Py_XDECREF(t1);
        Py_XDECREF(t2);
        PyErr_Clear();
        if (same) {
            ws_md_capi = capi;
        }
        return same;
    }

    #define ws_md_new(n) (ws_md_capi->ci_new(ws_md_capi->state, (n)))
    #define ws_md_add(md, k, v) (ws_md_capi->add(ws_md_capi->state, (md), (k), (v)))
    #define ws_md_proxy(md) (ws_md_capi->ci_proxy_new(ws_md_capi->state, (md)))
    """
    bint ws_md_capi_load(object ci, object ci_proxy)
    object ws_md_new(Py_ssize_t n)
    int ws_md_add(object md, object key, object value) except -1
    object ws_md_proxy(object md)


# True: fill through multidict's C API; False: from a list of recycled pairs
cdef bint MD_CAPI = ws_md_capi_load(_CIMultiDict, _CIMultiDictProxy)


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
