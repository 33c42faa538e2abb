# Reading a Python class's slots from C, at offsets learnt from its member
# descriptors (both client C twins include this unit).  The connection writes a
# ClientResponse's slots this way; what ``session.get()`` returns reads the
# session's, its target's and the response's.  Why: through getattr each read or
# write is a descriptor lookup, about 150 instructions, and a small request made
# some forty of them.

from types import MemberDescriptorType

cdef extern from "Python.h":
    ctypedef struct PyMemberDef:
        Py_ssize_t offset
        int type
    ctypedef struct PyMemberDescrObject:
        PyMemberDef *d_member
    int T_OBJECT_EX


cdef int _slot_offsets(type cls, tuple names, Py_ssize_t *out) except -1:
    """out[i] = the offset of the object slot ``names[i]`` of ``cls``; RuntimeError if one is not."""
    cdef PyMemberDescrObject *descr
    for i, name in enumerate(names):
        member = cls.__dict__.get(name)
        if type(member) is not MemberDescriptorType:
            raise RuntimeError(f"{cls.__name__}.{name} is not a slot")
        descr = <PyMemberDescrObject *>member
        if descr.d_member.type != T_OBJECT_EX:
            raise RuntimeError(f"{cls.__name__}.{name} is not an object slot")
        out[i] = descr.d_member.offset
    return 0
