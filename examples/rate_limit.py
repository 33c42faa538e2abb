"""Client-side rate limiting as a middleware: a token bucket per origin.

Each origin gets a bucket of ``burst`` tokens that refills at ``rate`` tokens
a second; a request takes one token, waiting for it if the bucket is empty.
Waiters are served in arrival order (the bucket's lock is FIFO), so a burst
of concurrent requests leaves at the configured pace instead of all at once,
and a server's ``429 Too Many Requests`` is avoided rather than retried.

Put it *inside* a RetryMiddleware (listed after it), so retries are paced too.

Run it: ``python examples/rate_limit.py`` (20 concurrent requests at 50 a
second with a burst of 5 take about 0.3 s).
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web  # only for the local server this example talks to

import wirespeed
from wirespeed import ClientHandler, ClientRequest, ClientResponse


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self) -> None:
        async with self.lock:   # one waiter at a time, in order of arrival
            while True:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


class RateLimiter:
    def __init__(self, rate: float, burst: int = 1) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[tuple[str, str | None, int | None], TokenBucket] = {}

    async def __call__(self, request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        url = request.url
        key = (url.scheme, url.host, url.port)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst)
        await bucket.take()
        return await handler(request)


async def main() -> None:
    arrivals: list[float] = []

    async def api(request: web.Request) -> web.Response:
        arrivals.append(time.monotonic())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/api", api)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/api"

    async with wirespeed.ClientSession(middlewares=(RateLimiter(rate=50, burst=5),)) as session:

        async def one() -> int:
            async with session.get(url) as r:
                await r.read()
                return r.status

        started = time.monotonic()
        statuses = await asyncio.gather(*(one() for _ in range(20)))
        elapsed = time.monotonic() - started
    await runner.cleanup()

    assert statuses == [200] * 20
    # 5 at once, then 15 more at 50 a second: at least 0.3 s (a little slack for the clock)
    assert elapsed >= 0.28, elapsed
    print(f"20 requests at 50/s with a burst of 5 took {elapsed:.2f} s")
    print(f"the server saw them over {arrivals[-1] - arrivals[0]:.2f} s")


if __name__ == "__main__":
    asyncio.run(main())
