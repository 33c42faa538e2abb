"""The client benchmark's contenders and workloads; run as a child process.

Each contender is an async context manager that opens one client (session,
pool limit ``LIMIT``) against the embedded server and yields three
coroutine functions, written as a user of that client would write them:

- ``get()``   GET /small, read the whole body, return it;
- ``post()``  POST /small with a 100-byte body, read the response body, return it;
- ``big()``   GET /big (10 MiB), stream the body and discard it, return its length.

The workloads (``WORKLOADS``) drive those through one client:

- ``seq``   sequential GETs on one keep-alive connection;
- ``conc``  GETs from 64 concurrent tasks sharing the client;
- ``post``  sequential 100-byte POSTs;
- ``big``   sequential 10 MiB downloads.

``bare`` is the limit: an asyncio Protocol per connection that writes canned
request bytes and counts the bytes of the known response, with no parsing;
an idle-connection stack stands in for a pool.

Run as ``python bench/client_contenders.py CONTENDER LOOP WORKLOAD COUNT URL``:
it warms up (connections open, first-call costs paid, every answer checked),
then times COUNT requests and prints one JSON line: wall seconds, client CPU
seconds (user and sys from ``getrusage(RUSAGE_SELF)``, so every thread of the
process counts: pyreqwest does its I/O on its own threads) and the server's
CPU seconds over the same span.  With ``--calls`` it counts the Python calls
per request instead (``sys.setprofile``), a figure no load on the machine moves.  A contender that cannot run prints
``{"skip": reason}`` and exits 0 (wirespeed's client before it exists:
"not built yet").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import client_server  # noqa: E402

LIMIT = 100  # pool limit for every contender (>= the 64 concurrent tasks)
CONCURRENCY = 64
POST_BODY = b"x" * 100

WORKLOADS = {
    "seq": "sequential GET, one connection",
    "conc": f"GET from {CONCURRENCY} tasks",
    "post": "sequential 100-byte POST",
    "big": "10 MiB download",
}


class Skip(Exception):
    """This contender cannot run here; the message says why."""


@dataclass
class Ops:
    get: Callable[[], Awaitable[Any]]
    post: Callable[[], Awaitable[Any]]
    big: Callable[[], Awaitable[Any]]
    note: str = ""


Contender = Callable[[str], Any]  # base URL -> async context manager yielding Ops


def _need(module: str) -> Any:
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as exc:
        raise Skip(f"{module.split('.')[0]} not installed") from exc


# -- wirespeed (aiohttp's shape) --------------------------------------------------------------


def wirespeed_contender(impl: str) -> Contender:
    @asynccontextmanager
    async def open_client(base: str) -> AsyncIterator[Ops]:
        import wirespeed

        if not hasattr(wirespeed, "ClientSession"):
            raise Skip("not built yet")
        try:
            wire = wirespeed.wire.load(impl)
        except ImportError as exc:
            raise Skip(f"the {impl} twin is not built") from exc
        small, big_url = base + "/small", base + "/big"
        async with wirespeed.ClientSession(wire=wire, limit=LIMIT) as s:

            async def get() -> bytes:
                async with s.get(small) as r:
                    return await r.read()

            async def post() -> bytes:
                async with s.post(small, data=POST_BODY) as r:
                    return await r.read()

            async def big() -> int:
                async with s.get(big_url) as r:
                    content = getattr(r, "content", None)
                    if content is None or not hasattr(content, "iter_any"):
                        return len(await r.read())
                    n = 0
                    async for chunk in content.iter_any():
                        n += len(chunk)
                    return n

            yield Ops(get, post, big)

    return open_client


# -- the peers ----------------------------------------------------------------------------------


@asynccontextmanager
async def aiohttp_client(base: str) -> AsyncIterator[Ops]:
    aiohttp = _need("aiohttp")
    small, big_url = base + "/small", base + "/big"
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=LIMIT)) as s:

        async def get() -> bytes:
            async with s.get(small) as r:
                return await r.read()

        async def post() -> bytes:
            async with s.post(small, data=POST_BODY) as r:
                return await r.read()

        async def big() -> int:
            async with s.get(big_url) as r:
                n = 0
                async for chunk in r.content.iter_any():
                    n += len(chunk)
                return n

        yield Ops(get, post, big)


@asynccontextmanager
async def httpx_client(base: str) -> AsyncIterator[Ops]:
    httpx = _need("httpx")
    small, big_url = base + "/small", base + "/big"
    limits = httpx.Limits(max_connections=LIMIT, max_keepalive_connections=LIMIT)
    async with httpx.AsyncClient(limits=limits) as c:

        async def get() -> bytes:
            return (await c.get(small)).content

        async def post() -> bytes:
            return (await c.post(small, content=POST_BODY)).content

        async def big() -> int:
            async with c.stream("GET", big_url) as r:
                n = 0
                async for chunk in r.aiter_raw():
                    n += len(chunk)
                return n

        yield Ops(get, post, big)


@asynccontextmanager
async def pyreqwest_client(base: str) -> AsyncIterator[Ops]:
    client_mod = _need("pyreqwest.client")
    small, big_url = base + "/small", base + "/big"
    async with client_mod.ClientBuilder().max_connections(LIMIT).build() as c:

        async def get() -> Any:
            r = await c.get(small).build().send()
            return await r.bytes()

        async def post() -> Any:
            r = await c.post(small).body_bytes(POST_BODY).build().send()
            return await r.bytes()

        async def big() -> int:
            async with c.get(big_url).build_streamed() as r:
                reader = r.body_reader
                n = 0
                while (chunk := await reader.read_chunk()) is not None:
                    n += len(chunk)
                return n

        yield Ops(get, post, big)


@asynccontextmanager
async def aiosonic_client(base: str) -> AsyncIterator[Ops]:
    aiosonic = _need("aiosonic")
    from aiosonic.connectors import TCPConnector
    from aiosonic.pools import PoolConfig

    small, big_url = base + "/small", base + "/big"
    # No recycling after 1000 requests (its default): one connection for the sequential runs.
    connector = TCPConnector(pool_configs={":default": PoolConfig(size=LIMIT, max_conn_requests=None)})
    async with aiosonic.HTTPClient(connector=connector) as c:

        async def get() -> bytes:
            return await (await c.get(small)).content()

        async def post() -> bytes:
            return await (await c.post(small, data=POST_BODY)).content()

        async def big() -> int:
            async with c.stream("GET", big_url) as r:
                n = 0
                async for chunk in r.read_chunks():
                    n += len(chunk)
                return n

        try:
            yield Ops(get, post, big)
        finally:
            await connector.cleanup()


# -- the limit: canned bytes out, a byte count in -----------------------------------------------


class _BareConnection(asyncio.Protocol):
    __slots__ = ("transport", "need", "waiter")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.waiter: asyncio.Future[None] | None = None
        self.need = 0

    def data_received(self, data: bytes) -> None:
        self.need -= len(data)
        if self.need <= 0:
            self.waiter.set_result(None)  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc or ConnectionError("closed"))


@asynccontextmanager
async def bare_client(base: str) -> AsyncIterator[Ops]:
    loop = asyncio.get_running_loop()
    host, port = base.removeprefix("http://").split(":")
    head = b"Host: %s:%s\r\nUser-Agent: bare\r\nAccept: */*\r\n" % (host.encode(), port.encode())
    raw_get = b"GET /small HTTP/1.1\r\n" + head + b"\r\n"
    raw_post = b"POST /small HTTP/1.1\r\n" + head + b"Content-Length: 100\r\n\r\n" + POST_BODY
    raw_big = b"GET /big HTTP/1.1\r\n" + head + b"\r\n"
    small_len, big_len = len(client_server.SMALL_RESPONSE), client_server.BIG_RESPONSE_SIZE
    idle: list[_BareConnection] = []
    every: list[_BareConnection] = []

    async def exchange(raw: bytes, expect: int) -> int:
        if idle:
            conn = idle.pop()
        else:
            _, conn = await loop.create_connection(_BareConnection, host, int(port))
            every.append(conn)
        conn.need = expect
        conn.waiter = waiter = loop.create_future()
        conn.transport.write(raw)
        await waiter
        idle.append(conn)
        return expect

    async def get() -> int:
        return await exchange(raw_get, small_len)

    async def post() -> int:
        return await exchange(raw_post, small_len)

    async def big() -> int:
        return await exchange(raw_big, big_len) - len(client_server.BIG_HEAD)

    try:
        yield Ops(get, post, big, note="no parsing")
    finally:
        for conn in every:
            conn.transport.close()


CONTENDERS: dict[str, Contender] = {
    "wirespeed-c": wirespeed_contender("c"),
    "wirespeed-py": wirespeed_contender("python"),
    "aiohttp": aiohttp_client,
    "httpx": httpx_client,
    "pyreqwest": pyreqwest_client,
    "aiosonic": aiosonic_client,
    "bare": bare_client,
}
LOOPS = ("asyncio", "uvloop")


# -- workloads ----------------------------------------------------------------------------------


async def _sequential(op: Callable[[], Awaitable[Any]], n: int) -> None:
    for _ in range(n):
        await op()


async def _concurrent(op: Callable[[], Awaitable[Any]], n: int) -> None:
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            await op()

    await asyncio.gather(*[worker() for _ in range(CONCURRENCY)])


def _check(workload: str, ops: Ops, answer: Any) -> None:
    if workload == "big":
        ok = answer == client_server.BIG_SIZE
    elif ops.note == "no parsing":
        ok = answer == len(client_server.SMALL_RESPONSE)
    else:
        ok = bytes(answer) == client_server.JSON_BODY
    if not ok:
        raise AssertionError(f"{workload}: unexpected answer {answer!r:.200}")


async def count_calls(run: Callable[..., Awaitable[None]], op: Callable[[], Awaitable[Any]], count: int) -> dict[str, Any]:
    """Python-level calls per request, counted with sys.setprofile on this thread.

    ``py`` counts Python function calls and coroutine resumptions, ``c`` calls
    of C functions from Python.  The counts do not depend on the machine or its
    load, unlike the timings (a Rust or C client's own work is not counted).
    """
    seen = {"call": 0, "c_call": 0}

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event in seen:
            seen[event] += 1

    sys.setprofile(profile)
    try:
        await run(op, count)
    finally:
        sys.setprofile(None)
    return {"count": count, "py_calls": seen["call"] / count, "c_calls": seen["c_call"] / count}


async def measure(contender: str, workload: str, count: int, base: str, warmup: int | None, calls: bool = False) -> dict[str, Any]:
    port = int(base.rsplit(":", 1)[1])
    try:
        async with CONTENDERS[contender](base) as ops:
            op = {"seq": ops.get, "conc": ops.get, "post": ops.post, "big": ops.big}[workload]
            run = _concurrent if workload == "conc" else _sequential
            _check(workload, ops, await op())
            if warmup is None:
                warmup = {"conc": max(4 * CONCURRENCY, count // 10), "big": 1}.get(workload, max(50, count // 10))
            await run(op, warmup)
            _check(workload, ops, await op())
            if calls:
                return await count_calls(run, op, count)
            server_cpu0, server_req0, server_conn0 = client_server.stats(port)
            ru0 = resource.getrusage(resource.RUSAGE_SELF)
            t0 = time.perf_counter()
            await run(op, count)
            wall = time.perf_counter() - t0
            ru1 = resource.getrusage(resource.RUSAGE_SELF)
            server_cpu1, server_req1, server_conn1 = client_server.stats(port)
    except Skip as exc:
        return {"skip": str(exc)}
    served = server_req1 - server_req0 - 1  # less the second stats request
    if served != count:
        raise AssertionError(f"the server answered {served} requests, expected {count}")
    return {
        "count": count,
        "wall": wall,
        "user": ru1.ru_utime - ru0.ru_utime,
        "sys": ru1.ru_stime - ru0.ru_stime,
        "cpu": (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime),
        "server_cpu": server_cpu1 - server_cpu0,
        "connections": server_conn0 - 1,  # opened by the client before timing (less the stats one)
        "new_connections": server_conn1 - server_conn0 - 1,  # less the second stats connection
        "note": ops.note,
    }


def run_in_loop(loop_name: str, coro: Any) -> Any:
    if loop_name == "uvloop":
        try:
            import uvloop
        except ImportError:
            coro.close()
            return {"skip": "uvloop not installed"}
        return uvloop.run(coro)
    return asyncio.run(coro)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("contender", choices=sorted(CONTENDERS))
    p.add_argument("loop", choices=LOOPS)
    p.add_argument("workload", choices=sorted(WORKLOADS))
    p.add_argument("count", type=int)
    p.add_argument("url", help="the server, http://127.0.0.1:<port>")
    p.add_argument("--warmup", type=int, default=None, help="requests before timing (default: a tenth of count)")
    p.add_argument("--calls", action="store_true", help="count Python calls per request instead of timing")
    a = p.parse_args(argv)
    result = run_in_loop(a.loop, measure(a.contender, a.workload, a.count, a.url, a.warmup, a.calls))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
