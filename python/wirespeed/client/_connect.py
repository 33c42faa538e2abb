"""Opening connections: name resolution with a small TTL cache, Happy Eyeballs, TLS.

- Resolution goes through ``loop.getaddrinfo`` (the system resolver in a
  thread); answers are cached per (host, port) for ``DNS_TTL`` seconds, and
  concurrent lookups of one name share one query.
- Connecting tries the addresses with Happy Eyeballs (RFC 8305) through
  ``aiohappyeyeballs``, as aiohttp does: IPv6 and IPv4 interleaved, the next
  attempt started after ``HAPPY_EYEBALLS_DELAY`` without waiting for the
  previous one to fail.
- TLS: ``ssl=None``/``True`` verifies against the system store
  (``ssl.create_default_context()``, made once per session); ``False``
  disables verification; an ``ssl.SSLContext`` is used as given.  SNI is the
  URL's host (unless it is an IP address).
"""

from __future__ import annotations

import asyncio
import socket
import ssl as _ssl
from typing import Any

import aiohappyeyeballs

__all__ = ["Resolver", "make_ssl_context", "open_connection", "DNS_TTL", "HAPPY_EYEBALLS_DELAY"]

#: Seconds a resolved address list is reused (aiohttp's default is 10).
DNS_TTL = 10.0
#: RFC 8305 §8 recommends 250 ms between connection attempts.
HAPPY_EYEBALLS_DELAY = 0.25


class Resolver:
    """``getaddrinfo`` with a TTL cache and one query in flight per name."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ttl: float = DNS_TTL) -> None:
        self._loop = loop
        self._ttl = ttl
        self._cache: dict[tuple[str, int], tuple[float, list[Any]]] = {}
        self._pending: dict[tuple[str, int], asyncio.Future[list[Any]]] = {}

    async def resolve(self, host: str, port: int) -> list[Any]:
        key = (host, port)
        hit = self._cache.get(key)
        if hit is not None and hit[0] > self._loop.time():
            return hit[1]
        pending = self._pending.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        fut: asyncio.Future[list[Any]] = self._loop.create_future()
        self._pending[key] = fut
        try:
            infos = await self._loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except BaseException as exc:
            if not fut.done():
                fut.set_exception(exc if isinstance(exc, Exception) else asyncio.CancelledError())
                fut.exception()  # retrieved: nobody else may be waiting
            raise
        else:
            self._cache[key] = (self._loop.time() + self._ttl, infos)
            if not fut.done():
                fut.set_result(infos)
            return infos
        finally:
            del self._pending[key]


def make_ssl_context(ssl: Any) -> _ssl.SSLContext | None:
    """The context for https URLs from the session's or request's ``ssl=``."""
    if ssl is None or ssl is True:
        return _ssl.create_default_context()
    if ssl is False:
        ctx = _ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = _ssl.CERT_NONE
        return ctx
    if isinstance(ssl, _ssl.SSLContext):
        return ssl
    raise TypeError(f"ssl must be None, a bool or an ssl.SSLContext, not {type(ssl).__name__}")


async def open_connection(
    loop: asyncio.AbstractEventLoop,
    resolver: Resolver,
    protocol_factory: Any,
    host: str,
    port: int,
    ssl_context: _ssl.SSLContext | None,
) -> tuple[Any, Any]:
    """Resolve, connect with Happy Eyeballs, and start TLS when asked; OSError/ssl errors propagate."""
    infos = await resolver.resolve(host, port)
    if not infos:
        raise OSError(f"no address for {host}")
    sock = await aiohappyeyeballs.start_connection(
        infos, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY, interleave=1, loop=loop
    )
    try:
        # For an IP address ssl verifies the address and sends no SNI (RFC 6066 §3).
        return await loop.create_connection(
            protocol_factory, sock=sock, ssl=ssl_context, server_hostname=host if ssl_context is not None else None
        )
    except BaseException:
        sock.close()
        raise
