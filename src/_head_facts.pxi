# What the C client reads of every response head, in one C call.
#
# The C parser (wirespeed.wire._parser_c) exports _head_facts through a capsule,
# _HEAD_FACTS; the client's C twins (src/client/) import it once and call it for
# a head of the C parser's ResponseHead type (checked by identity), instead of
# reading six attributes through their descriptors: about 130 instructions each,
# and a small response had about a dozen such reads (docs/design.md).  Both
# modules include this file, so the struct is one declaration.

from cpython.object cimport PyObject

cdef struct HeadFacts:
    int status
    int keep_alive
    int has_set_cookie
    PyObject *reason            # borrowed: the head holds them
    PyObject *version
    PyObject *content_length

ctypedef void (*head_facts_fn)(object head, HeadFacts *out) noexcept

cdef const char *HEAD_FACTS_NAME = "wirespeed.wire._parser_c._HEAD_FACTS"
