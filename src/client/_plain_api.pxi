# The calls the C twin of ``session.get()`` (_context.pyx) makes into the pool and the
# connection (_connection.pyx) for a request without options: C functions, reached
# through the _PLAIN_API capsule of wirespeed.client._connection_c.  Both modules
# include this unit, so the table is one declaration.

from cpython.object cimport PyObject

cdef struct PlainStart:
    bint reused         # the connection carried a request before
    double deadline     # the total timeout's deadline, on the loop's clock (inf: none)
    PyObject *waiter    # the future of the response (borrowed: the connection holds it)

cdef struct PlainAPI:
    # The idle connection for key with its exchange begun, None when there is none, or
    # no_api when the pool is not the C twin's.
    object (*take)(object pool, object key, object session, object method, object url, object total,
                   object read_timeout, PlainStart *out)
    # Write the head and the body (bytes or None) on a connection take gave.
    object (*send)(object conn, object method, object target, object items, object body)
    PyObject *no_api

cdef const char *PLAIN_API_NAME = "wirespeed.client._connection_c._PLAIN_API"
