"""The HTTP/1.1 client: sessions, a connection pool, requests and responses.

Built only on the public names of :mod:`wirespeed.wire` (a :class:`~wirespeed.wire.Wire`
bundle chosen per session), :mod:`wirespeed.errors` and :mod:`wirespeed.decoding`;
it never parses or serialises HTTP itself.  Modules:

- ``_session``: :class:`ClientSession`, the request path, :func:`request`;
- ``_pool``: idle stacks per origin, limits, the FIFO wait;
- ``_connection``: one ``asyncio.BufferedProtocol`` per connection feeding the parser;
- ``_connect``: name resolution, Happy Eyeballs, TLS;
- ``_response``: :class:`ClientResponse` and its body stream;
- ``_middleware``: the middleware chain and :class:`ClientRequest`;
- ``_body``: request bodies (bytes, text, JSON, forms, multipart, files, iterators);
- ``_urls``: URL to request target, with a per-session cache;
- ``_cookies``: the cookie jar (RFC 6265);
- ``_proxies``: proxy settings from the environment and ``.netrc`` (``trust_env=True``);
- ``_timeouts``: :class:`ClientTimeout`.
"""

from __future__ import annotations

from ._body import FormData
from ._cookies import Cookie, CookieJar, DummyCookieJar
from ._middleware import ClientHandler, ClientMiddleware, ClientRequest
from ._pool import PoolStats
from ._response import ClientResponse, StreamReader
from ._session import ClientSession, request
from ._timeouts import ClientTimeout
from ._urls import BasicAuth

__all__ = [
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
]
