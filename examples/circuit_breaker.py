"""A circuit breaker as a client middleware: stop calling a server that keeps failing.

Per origin, the breaker counts consecutive failures (a 5xx answer, a failed
connection, a timeout).  After ``failures`` of them it *opens*: requests to
that origin fail at once with :class:`CircuitOpen`, nothing is sent.  After
``reset_after`` seconds it lets one request through (*half-open*): success
closes the circuit, failure opens it again for another ``reset_after``.
While the trial request is in flight, the others still fail fast.

Run it: ``python examples/circuit_breaker.py`` (a local aiohttp server plays
a backend that fails for a while, then recovers).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from aiohttp import web  # only for the local server this example talks to

import wirespeed
from wirespeed import ClientHandler, ClientRequest, ClientResponse


class CircuitOpen(wirespeed.ClientError):
    """The circuit of this origin is open: the request was not sent."""


@dataclass
class _Circuit:
    failures: int = 0
    opened_at: float | None = None   # None: closed
    trial: bool = False              # a half-open trial request is in flight


class CircuitBreaker:
    def __init__(self, failures: int = 5, reset_after: float = 30.0) -> None:
        self.failures = failures
        self.reset_after = reset_after
        self._circuits: dict[tuple[str, str | None, int | None], _Circuit] = {}

    def state(self, url: str) -> str:
        from yarl import URL

        u = URL(url)
        c = self._circuits.get((u.scheme, u.host, u.port))
        if c is None or c.opened_at is None:
            return "closed"
        return "half-open" if time.monotonic() - c.opened_at >= self.reset_after else "open"

    async def __call__(self, request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        url = request.url
        c = self._circuits.setdefault((url.scheme, url.host, url.port), _Circuit())
        trial = False
        if c.opened_at is not None:
            if time.monotonic() - c.opened_at < self.reset_after or c.trial:
                raise CircuitOpen("the circuit is open: the server failed too often", method=request.method, url=url)
            c.trial = trial = True   # half-open: this request decides
        try:
            resp = await handler(request)
        except (wirespeed.ClientConnectionError, wirespeed.TimeoutError):
            self._failed(c)
            raise
        finally:
            if trial:
                c.trial = False
        if resp.status >= 500:
            self._failed(c)
        else:
            c.failures, c.opened_at = 0, None
        return resp

    def _failed(self, c: _Circuit) -> None:
        c.failures += 1
        if c.failures >= self.failures or c.opened_at is not None:
            c.opened_at = time.monotonic()


async def main() -> None:
    hits = 0
    healthy = False

    async def backend(request: web.Request) -> web.Response:
        nonlocal hits
        hits += 1
        return web.Response(text="fine") if healthy else web.Response(status=503, text="down")

    app = web.Application()
    app.router.add_get("/api", backend)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/api"

    breaker = CircuitBreaker(failures=3, reset_after=0.2)
    async with wirespeed.ClientSession(middlewares=(breaker,)) as session:
        for _ in range(3):
            async with session.get(url) as r:
                print("backend answered", r.status)
        print("after 3 failures the circuit is", breaker.state(url))
        for _ in range(10):
            try:
                await session.get(url)
            except CircuitOpen:
                pass
        assert hits == 3, hits   # ten requests failed fast: none reached the backend
        print("10 requests failed fast; the backend saw", hits, "requests")

        await asyncio.sleep(0.25)
        healthy = True
        print("after reset_after the circuit is", breaker.state(url))
        async with session.get(url) as r:
            print("the trial request:", r.status, await r.text())
        print("and the circuit is", breaker.state(url))
        assert breaker.state(url) == "closed" and hits == 4
    await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
