"""RetryMiddleware: send a request again after a transient failure, with backoff.

Strategy:

- what is retried: a response whose status is in ``statuses`` (429 and the
  5xx statuses that mean "try later"), or an exception of ``exceptions``
  (the connection failed or was lost, connecting or waiting for the head
  timed out), for the methods in ``methods`` only: the idempotent ones
  (RFC 9110 §9.2.2) unless ``retry_all_methods=True``;
- at most ``attempts`` sends in all (the first one included); the last
  response is returned as it is, the last exception raised as it is;
- between sends, a wait: the response's ``Retry-After`` (seconds or an
  HTTP-date, RFC 9110 §10.2.3) capped at ``retry_after_max``, else
  exponential backoff with full jitter: ``random() * min(backoff_cap,
  backoff_base * 2 ** (n - 1))`` before the n-th retry (the AWS
  architecture blog's "full jitter", which spreads clients that failed
  together);
- no retry whose wait would end past the total timeout (the request's
  ``timeout.total``, else the session's), counted from the first send: the
  last answer is returned instead;
- a response that is dropped is released first (``await resp.release()``:
  a small known rest is drained so the connection is reused, anything else
  closes it; never an unbounded read);
- a body that was a one-shot stream cannot be sent again: the retry raises
  :class:`wirespeed.InvalidRequest` rather than send it empty.  A seekable
  file is rewound.

``random`` and ``sleep`` are parameters so tests can make the waits
deterministic and instant.
"""

from __future__ import annotations

import asyncio
import email.utils
import random as _random
import time
from collections.abc import Awaitable, Callable, Collection
from datetime import timezone

from ..client import ClientHandler, ClientRequest, ClientResponse
from ..errors import ClientConnectionError, ConnectTimeout, ProxyError, ReadTimeout
from ._common import IDEMPOTENT_METHODS, cannot_resend, rewind

__all__ = ["RetryMiddleware", "RETRY_STATUSES", "RETRY_EXCEPTIONS"]

#: 429 Too Many Requests (RFC 6585 §4) and the 5xx answers that mean "not now":
#: 500 (often transient behind a load balancer), 502, 503, 504.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: The connection failed or was lost, or the head did not come in time.
RETRY_EXCEPTIONS: tuple[type[BaseException], ...] = (ClientConnectionError, ConnectTimeout, ReadTimeout)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or HTTP-date), or None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)   # an HTTP-date is always GMT
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class RetryMiddleware:
    """Retry idempotent requests on 429/5xx and connection failures, with jittered exponential backoff.

    ``attempts``: sends in all, the first included.  ``statuses`` and
    ``exceptions``: what is retried.  ``methods`` (idempotent ones by
    default) or ``retry_all_methods=True``: which requests.
    ``backoff_base``, ``backoff_cap``: seconds of the exponential backoff.
    ``retry_after``: honour ``Retry-After``, at most ``retry_after_max``
    seconds.  ``random`` (a float in [0, 1)) and ``sleep``: for tests.
    """

    def __init__(
        self,
        attempts: int = 3,
        *,
        statuses: Collection[int] = RETRY_STATUSES,
        exceptions: tuple[type[BaseException], ...] = RETRY_EXCEPTIONS,
        methods: Collection[str] = IDEMPOTENT_METHODS,
        retry_all_methods: bool = False,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        retry_after: bool = True,
        retry_after_max: float = 120.0,
        random: Callable[[], float] = _random.random,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise ValueError(f"attempts must be an int >= 1, not {attempts!r}")
        for name, value in (("backoff_base", backoff_base), ("backoff_cap", backoff_cap),
                            ("retry_after_max", retry_after_max)):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, not {value!r}")
        self.attempts = attempts
        self.statuses = frozenset(statuses)
        self.exceptions = tuple(exceptions)
        self.methods = frozenset(m.upper() for m in methods)
        self.retry_all_methods = retry_all_methods
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.retry_after = retry_after
        self.retry_after_max = retry_after_max
        self._random = random
        self._sleep = sleep

    def backoff(self, retry: int) -> float:
        """The wait before the ``retry``-th retry (1-based): full jitter over a capped exponential."""
        return self._random() * min(self.backoff_cap, self.backoff_base * 2.0 ** (retry - 1))

    def _wait_for(self, resp: ClientResponse | None, retry: int) -> float:
        if resp is not None and self.retry_after:
            after = parse_retry_after(resp.headers.get("Retry-After"))
            if after is not None:
                return min(after, self.retry_after_max)
        return self.backoff(retry)

    async def __call__(self, request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        if not (self.retry_all_methods or request.method in self.methods) or self.attempts == 1:
            return await handler(request)
        loop = asyncio.get_running_loop()
        # The budget is the request's total timeout, which counts from the start of the whole
        # request (an earlier redirect hop or middleware included), not from this middleware.
        started = request.started
        if started is None:
            started = loop.time()
        attempt = 1
        while True:
            try:
                resp = await handler(request)
            except self.exceptions as exc:
                if attempt >= self.attempts or (isinstance(exc, ProxyError) and exc.status == 407):
                    raise
                wait = self._wait_for(None, attempt)
                if not self._in_budget(request, loop.time() - started + wait):
                    raise
                if not rewind(request):
                    raise cannot_resend(request, f"retrying after {type(exc).__name__}") from exc
                await self._sleep(wait)
                attempt += 1
                continue
            if resp.status not in self.statuses or attempt >= self.attempts:
                return resp
            wait = self._wait_for(resp, attempt)
            if not self._in_budget(request, loop.time() - started + wait):
                return resp
            await resp.release()
            if not rewind(request):
                raise cannot_resend(request, f"retrying after a {resp.status} response")
            await self._sleep(wait)
            attempt += 1

    @staticmethod
    def _in_budget(request: ClientRequest, elapsed_after_wait: float) -> bool:
        timeout = request.timeout if request.timeout is not None else request.session.timeout
        return timeout.total is None or elapsed_after_wait < timeout.total

    def __repr__(self) -> str:
        return (f"RetryMiddleware(attempts={self.attempts}, statuses={sorted(self.statuses)}, "
                f"backoff_base={self.backoff_base}, backoff_cap={self.backoff_cap})")
