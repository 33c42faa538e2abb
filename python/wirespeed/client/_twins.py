"""The switch for the client's own twins, as ``wirespeed.wire`` is for the wire layer.

Three pieces of the client's hot path are written twice, in Cython under
``src/client/`` and in Python here (docs/design.md):

=======================  =================================  ==========================
piece                    C twin                             Python twin
=======================  =================================  ==========================
connection protocol      ``_connection_c.ConnectionCore``   ``_connection.Connection``
pool                     ``_connection_c.Pool``             ``_pool.Pool``
what ``get()`` returns   ``_context_c.RequestContext``      ``_context.RequestContext``
a request without        ``_context_c.plain``               ``_context.plain``
options (``get(url)``)
=======================  =================================  ==========================

One more piece is the class's, not a session's: ``ClientSession.get`` and the
other request methods.  With the C twins built, :func:`install_methods` makes
``_context_c``'s functions the class's methods; they make a request without
options on a session of the C twins themselves, and hand everything else
(every request of a session of the Python twins) to the class's own Python
methods, which they keep.  Without the C twins the class keeps its own.

A session takes the set that goes with its wire twin (:func:`client_twins`):
the C set with the C wire twin when it is built, the Python set otherwise and
always when ``WIRESPEED_NO_EXTENSIONS`` is set.  So every client test, which
runs on both wire twins, holds both sets to one behaviour.  This module is the
only place that chooses.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from dataclasses import dataclass

from ..wire import NO_EXTENSIONS, FlowControl, Wire
from ._connection import Connection
from ._context import RequestContext, plain
from ._pool import Pool

__all__ = ["C", "PYTHON", "ClientTwins", "client_twins", "install_methods"]


@dataclass(frozen=True)
class ClientTwins:
    """One twin of each piece: what a session builds its connections, pool and requests from."""

    connection: type[Connection]
    pool: type[Pool]
    context: type[RequestContext]
    plain: Callable[..., RequestContext]


PYTHON = ClientTwins(Connection, Pool, RequestContext, plain)

#: The C set, or None where it is not built (no compiler) or WIRESPEED_NO_EXTENSIONS is set.
C: ClientTwins | None = None
if not NO_EXTENSIONS:
    try:
        from ._connection_c import ConnectionCore as _ConnectionCore
        from ._connection_c import Pool as _CPool
        from ._context_c import RequestContext as _CRequestContext
        from ._context_c import plain as _cplain
    except ImportError:   # not built: the Python twins only
        pass
    else:
        class CConnection(_ConnectionCore, FlowControl, asyncio.BufferedProtocol):
            """A pooled HTTP/1.1 connection, the C twin: ``ConnectionCore`` with the mixins
            the Python twin has (a ``cdef class`` cannot derive from Python classes; asyncio
            and uvloop recognise a buffered protocol by ``isinstance``)."""

        Coroutine.register(_CRequestContext)   # asyncio.create_task takes it, as the Python twin
        C = ClientTwins(CConnection, _CPool, _CRequestContext, _cplain)  # type: ignore[arg-type]


def install_methods(cls: type) -> None:
    """Give ``cls`` (ClientSession) the C twins' request methods when they are built."""
    if C is not None:
        from ._context_c import install_methods as _install

        _install(cls)


def client_twins(wire: Wire) -> ClientTwins:
    """The set that goes with a wire twin: C with C (when built), Python with Python."""
    if wire.IMPLEMENTATION == "c" and C is not None:
        return C
    return PYTHON
