"""LoggingMiddleware: one log record per request sent through it.

The record says the method, the URL (without a password it may carry), the
status and reason, and the time until the response's head arrived (the body
is the caller's to read).  A request that fails is logged with the
exception's class and message at ``WARNING`` at least, and the exception is
raised on unchanged.  The same facts ride on the record as ``extra``
attributes (``method``, ``url``, ``status``, ``duration``), for structured
handlers.  Nothing is formatted unless the logger is enabled for the level.

Placed first (outermost) it logs each call once; placed last (innermost) it
logs every send, retries and authentication rounds included.
"""

from __future__ import annotations

import logging
import time

from ..client import ClientHandler, ClientRequest, ClientResponse
from ..errors import ClientError

__all__ = ["LoggingMiddleware"]


class LoggingMiddleware:
    """Log method, URL, status and duration of each request through :mod:`logging`."""

    def __init__(self, logger: logging.Logger | None = None, level: int = logging.INFO) -> None:
        self.logger = logger if logger is not None else logging.getLogger("wirespeed.client")
        self.level = level

    async def __call__(self, request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        logger, level = self.logger, self.level
        failure_level = max(level, logging.WARNING)
        if not logger.isEnabledFor(failure_level):   # failure_level >= level: nothing would be logged
            return await handler(request)
        method = request.method
        started = time.perf_counter()
        try:
            resp = await handler(request)
        except Exception as exc:
            if logger.isEnabledFor(failure_level):
                ms = (time.perf_counter() - started) * 1000.0
                url = str(request.url.with_password(None)) if request.url.password else str(request.url)
                # A ClientError's str() repeats the URL as given, password included: its message alone.
                detail = exc.message if isinstance(exc, ClientError) else str(exc)
                logger.log(failure_level, "%s %s failed after %.1f ms: %s: %s", method, url, ms,
                           type(exc).__name__, detail,
                           extra={"method": method, "url": url, "status": None, "duration": ms / 1000.0})
            raise
        if logger.isEnabledFor(level):
            ms = (time.perf_counter() - started) * 1000.0
            url = str(request.url.with_password(None)) if request.url.password else str(request.url)
            logger.log(level, "%s %s -> %d %s (%.1f ms)", method, url, resp.status, resp.reason, ms,
                       extra={"method": method, "url": url, "status": resp.status, "duration": ms / 1000.0})
        return resp

    def __repr__(self) -> str:
        return f"LoggingMiddleware(logger={self.logger.name!r}, level={logging.getLevelName(self.level)})"
