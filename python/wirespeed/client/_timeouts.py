"""Client timeouts: what each one bounds, and their defaults.

=========  ==========================================================  =======
name       bounds                                                      default
=========  ==========================================================  =======
total      the whole request: pool wait, connect, send, head and body  300 s
connect    name resolution, TCP and TLS handshakes of a new connection  30 s
pool       waiting for a free connection when the pool is at its limit  None
read       the gap between two reads of the response (head and body)   None
=========  ==========================================================  =======

The defaults are aiohttp's (``total=300``, ``sock_connect=30``).  ``None``
means unbounded.  Each expiry raises its own subclass of
:class:`wirespeed.TimeoutError`, which is also an ``asyncio.TimeoutError``.

Once a request holds a connection, total and read are enforced by one timer
per connection that is re-armed lazily (a deadline is a float; the timer is
rescheduled only when it fires early), not by a timer created and cancelled
per request.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ClientTimeout", "DEFAULT_TIMEOUT"]


@dataclass(frozen=True)
class ClientTimeout:
    """Timeouts of a session or of one request, in seconds (``None``: unbounded)."""

    total: float | None = 300.0
    connect: float | None = 30.0
    pool: float | None = None
    read: float | None = None

    def __post_init__(self) -> None:
        for name in ("total", "connect", "pool", "read"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise ValueError(f"timeout {name} must be a positive number or None, not {value!r}")


DEFAULT_TIMEOUT = ClientTimeout()
