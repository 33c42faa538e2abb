# Reading a response head from the client's C twins (both include this unit).
#
# The C parser's heads are read through its _HEAD_FACTS capsule
# (src/_head_facts.pxi): one C call instead of an attribute read through a
# descriptor per field.  Any other head is read through its attributes (there is
# none with the C twins, which go with the C parser, but a head is checked by
# type, never assumed).

include "../_head_facts.pxi"

cdef head_facts_fn _facts = NULL
cdef type _CHead = None
try:
    from wirespeed.wire import load as _load_wire
    _c_wire = _load_wire("c")
except ImportError:   # not built: the module including this is not used either
    pass
else:
    _facts = <head_facts_fn>PyCapsule_GetPointer(_c_wire.head_facts, HEAD_FACTS_NAME)
    _CHead = _c_wire.ResponseHead


cdef inline int _head_status(head) except -1:
    cdef HeadFacts f
    if type(head) is _CHead:
        _facts(head, &f)
        return f.status
    return head.status


cdef inline bint _sets_cookie(head) except -1:
    cdef HeadFacts f
    if type(head) is _CHead:
        _facts(head, &f)
        return f.has_set_cookie
    return head.has_set_cookie
