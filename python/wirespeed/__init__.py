"""wirespeed: a fast, correct asyncio HTTP/1.1 library.

The public surface is re-exported here; modules with a leading underscore are
private.  ``wirespeed.wire.IMPLEMENTATION`` tells which twin of the wire
layer is live.  Every public exception of :mod:`wirespeed.errors` is
importable from here.
"""

from __future__ import annotations

from . import errors as _errors
from .client import (
    BasicAuth,
    ClientHandler,
    ClientMiddleware,
    ClientRequest,
    ClientResponse,
    ClientSession,
    ClientTimeout,
    Cookie,
    CookieJar,
    DummyCookieJar,
    FormData,
    PoolStats,
    StreamReader,
    request,
)
from .decoding import ContentDecoder, accept_encoding, available_codings
from .errors import *  # noqa: F403 - every public exception, listed in errors.__all__
from .middlewares import (
    BasicAuthMiddleware,
    BearerTokenMiddleware,
    DigestAuthMiddleware,
    LoggingMiddleware,
    RetryMiddleware,
)
from .wire import IMPLEMENTATION, FlowControl, MessageEnd, ResponseHead, ResponseParser, StreamWriter

__version__ = "0.1.0.dev0"

__all__ = [
    "IMPLEMENTATION",
    "BasicAuthMiddleware",
    "BearerTokenMiddleware",
    "DigestAuthMiddleware",
    "LoggingMiddleware",
    "RetryMiddleware",
    "BasicAuth",
    "ClientHandler",
    "ClientMiddleware",
    "ClientRequest",
    "ClientResponse",
    "ClientSession",
    "ClientTimeout",
    "Cookie",
    "CookieJar",
    "DummyCookieJar",
    "FormData",
    "PoolStats",
    "StreamReader",
    "request",
    "ContentDecoder",
    "FlowControl",
    "MessageEnd",
    "ResponseHead",
    "ResponseParser",
    "StreamWriter",
    "accept_encoding",
    "available_codings",
    *_errors.__all__,
]
