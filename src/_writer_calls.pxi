# The C writer's calls for C code above the wire layer, in one capsule.
#
# The C writer (wirespeed.wire._writer_c) exports a table of C functions as a
# capsule, _WRITER_CALLS, which wirespeed.wire.load publishes as
# Wire.writer_calls.  The client's C twin of a request without options
# (src/client/) writes its request through it: a StreamWriter built per
# request, its two method calls and its release were about 1,500 instructions
# of a small request.  Both modules include this file, so the table is one
# declaration.

cdef struct WriterCalls:
    # What ``w = StreamWriter(transport); w.write_request_headers(method, target, headers)``
    # then ``w.write_eof(body)`` (bytes) or ``w.set_eof()`` (None) do, without the writer:
    # the same checks, errors and head reuse, one transport.write.  1 when written; 0, with
    # nothing done, for a body that is not bytes or None, or when a body and the head
    # together pass the coalesce limit (a writer sends those).
    int (*write_small)(object transport, object method, object target, object headers, object body) except -1

cdef const char *WRITER_CALLS_NAME = "wirespeed.wire._writer_c._WRITER_CALLS"
