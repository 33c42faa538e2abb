"""Built-in client middlewares: retries, authentication, logging.

Each is an ``async def mw(request, handler)``-shaped object for
``ClientSession(middlewares=(...))`` or a request's ``middlewares=``
(docs/middlewares.md has the contract, docs/cookbook.md recipes):

- :class:`RetryMiddleware`: idempotent requests again after 429/5xx or a
  failed connection, exponential backoff with full jitter, ``Retry-After``,
  within the total timeout;
- :class:`DigestAuthMiddleware`: RFC 7616 Digest (MD5, SHA-256,
  SHA-512-256, their ``-sess`` forms; qop ``auth`` and ``auth-int``);
- :class:`BasicAuthMiddleware`: RFC 7617 Basic;
- :class:`BearerTokenMiddleware`: RFC 6750 bearer tokens, refreshed once on
  a 401, one refresh for many requests;
- :class:`LoggingMiddleware`: method, URL, status and duration through
  :mod:`logging`.

The authentication middlewares bind their credentials to one origin.  Order
matters: the first listed is the outermost, so ``(RetryMiddleware(),
DigestAuthMiddleware(...))`` retries whole authenticated exchanges, and a
``LoggingMiddleware`` listed last logs every send.
"""

from __future__ import annotations

from ._auth import BasicAuthMiddleware, BearerTokenMiddleware
from ._digest import DigestAuthMiddleware
from ._logging import LoggingMiddleware
from ._retry import RETRY_EXCEPTIONS, RETRY_STATUSES, RetryMiddleware

__all__ = [
    "BasicAuthMiddleware",
    "BearerTokenMiddleware",
    "DigestAuthMiddleware",
    "LoggingMiddleware",
    "RETRY_EXCEPTIONS",
    "RETRY_STATUSES",
    "RetryMiddleware",
]
