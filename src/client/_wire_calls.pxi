# The C wire twin's calls, for the client's C twins (both include this unit).
#
# A head or parser of the C parser's own types is read and fed through the
# parser's _PARSER_CALLS capsule (src/_parser_calls.pxi, Wire.parser_calls):
# one C call instead of an attribute read through a descriptor or a method
# call.  Any other is used through its attributes (there is none with the C
# twins, which go with the C parser, but a type is checked, never assumed).
# A small request without options is written through the C writer's
# _WRITER_CALLS (src/_writer_calls.pxi, Wire.writer_calls) when the
# connection's writer type is the C writer's.

include "../_parser_calls.pxi"
include "../_writer_calls.pxi"

cdef ParserCalls *_pc = NULL
cdef WriterCalls *_wc = NULL
cdef type _CWriter = None
cdef type _CHead = None
cdef type _CParser = None
try:
    from wirespeed.wire import load as _load_wire
    _c_wire = _load_wire("c")
except ImportError:   # not built: the module including this is not used either
    pass
else:
    _pc = <ParserCalls *>PyCapsule_GetPointer(_c_wire.parser_calls, PARSER_CALLS_NAME)
    _CHead = _c_wire.ResponseHead
    _CParser = _c_wire.ResponseParser
    _wc = <WriterCalls *>PyCapsule_GetPointer(_c_wire.writer_calls, WRITER_CALLS_NAME)
    _CWriter = _c_wire.StreamWriter


cdef inline void _facts(head, HeadFacts *out) noexcept:
    _pc.head_facts(head, out)


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
