# The C parser's calls for C code above the wire layer, in one capsule.
#
# The C parser (wirespeed.wire._parser_c) exports a table of C functions as a
# capsule, _PARSER_CALLS, which wirespeed.wire.load publishes as
# Wire.parser_calls.  The client's C twins (src/client/) take it once and call
# these for a parser or head of the C parser's own types (checked by identity,
# never assumed) instead of going through Python: an attribute read through a
# descriptor is about 130 instructions, a method call with its argument parse
# several hundred, and a small response had about a dozen of each
# (docs/design.md).  Both modules include this file, so the table is one
# declaration.

from cpython.object cimport PyObject

cdef struct HeadFacts:
    int status
    int keep_alive
    int has_set_cookie
    int has_coding              # a Content-Encoding field: head.content_encoding is not None
    PyObject *reason            # borrowed: the head holds them
    PyObject *version
    PyObject *content_length

cdef struct ParserCalls:
    # A head's facts (status, reason, version, length, keep-alive, Set-Cookie, Content-Encoding).
    void (*head_facts)(object head, HeadFacts *out) noexcept
    # ``parser.feed(view[:n])`` without the slice: ``view`` a one-dimensional memoryview
    # of single bytes, 0 <= n <= its length (checked: ValueError).  Body pieces are
    # slices of ``view``, as they would be of ``view[:n]``, but for pieces shorter than
    # ``copy_under`` bytes, which come as bytes (a caller that copies small pieces anyway
    # saves the slice: 0 for none).  Then the parser's error
    # (``parser.error``, borrowed; NULL for None) goes to ``*error``; what feed() raises,
    # it raises.
    object (*feed_view)(object parser, object view, Py_ssize_t n, Py_ssize_t copy_under, PyObject **error)
    # ``parser.idle``
    int (*idle)(object parser) noexcept
    # ``parser.method = method`` when it is not already equal (0, or -1 with an exception)
    int (*set_method)(object parser, object method) except -1

cdef const char *PARSER_CALLS_NAME = "wirespeed.wire._parser_c._PARSER_CALLS"
