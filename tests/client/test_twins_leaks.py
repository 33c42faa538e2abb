"""The client's C twins keep no memory per request: no leaked reference, response or buffer.

The C connection writes a response's slots itself, the C request context
drives a coroutine through ``PyIter_Send`` and keeps its result, and the C
pool hands connections back and forth: each is reference counting by hand.
As for the parser (``tests/wire/test_parser_c_leaks.py``), each check runs in
a fresh interpreter against a server of its own: a workload of small GETs
(``async with``, awaited, as a task), POSTs, a streamed body left early and a
request cancelled in flight runs to warm every cache, then many more times;
memory traced by ``tracemalloc`` and the number of live objects must stay
where the warm-up left them.
"""

from __future__ import annotations

import textwrap

import pytest

from support.leaks import run_workload
from wirespeed.wire import Wire

WARMUP = 40
ROUNDS = 200

WORKLOAD = textwrap.dedent(
    r"""
    import asyncio, gc, json, sys, tracemalloc
    import wirespeed
    from wirespeed import wire

    SMALL = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello"
    BIG = b"x" * (1024 * 1024)
    BIG_HEAD = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BIG)

    OPEN = [0]   # the server's connections still open

    async def serve(reader, writer):
        OPEN[0] += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET /big"):
                    writer.write(BIG_HEAD)
                    writer.write(BIG)
                elif head.startswith(b"GET /slow"):
                    await reader.read()   # no answer: until the client gives up and closes
                else:
                    writer.write(SMALL)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            OPEN[0] -= 1

    async def main():
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        url = "http://127.0.0.1:%d" % server.sockets[0].getsockname()[1]
        twin = wire.load(sys.argv[1])
        async with wirespeed.ClientSession(wire=twin) as s:
            async def one_round():
                async with s.get(url + "/small") as r:
                    await r.read()
                r = await s.get(url + "/small")
                await r.text()
                r = await asyncio.create_task(s.get(url + "/small"))
                await r.read()
                async with s.post(url + "/small", data=b"x" * 100) as r:
                    await r.read()
                async with s.get(url + "/big") as r:
                    await r.content.read(10)      # left early: the connection closes
                async with s.get(url + "/big") as r:
                    async for _ in r.content.iter_any():
                        pass
                task = asyncio.ensure_future(s.get(url + "/slow"))
                await asyncio.sleep(0.001)
                task.cancel()                      # cancelled in flight: closed, never pooled
                try:
                    await task
                except asyncio.CancelledError:
                    pass

            async def settle():
                # the server's side of every connection the client closed has ended
                for _ in range(400):
                    if OPEN[0] == s.stats.idle:
                        break
                    await asyncio.sleep(0.005)

            tracemalloc.start()
            for _ in range(int(sys.argv[2])):
                await one_round()
            await settle()
            gc.collect()
            before_bytes = tracemalloc.get_traced_memory()[0]
            before_objects = len(gc.get_objects())
            for _ in range(int(sys.argv[3])):
                await one_round()
            await settle()
            gc.collect()
            after_bytes = tracemalloc.get_traced_memory()[0]
            after_objects = len(gc.get_objects())
            stats = s.stats
        server.close()
        await server.wait_closed()
        print(json.dumps({"bytes": after_bytes - before_bytes, "objects": after_objects - before_objects,
                          "in_use": stats.in_use, "opened": stats.opened}))

    asyncio.run(main())
    """
)


def measure(implementation: str, workload: str = WORKLOAD) -> dict[str, int]:
    return run_workload(workload, implementation, WARMUP, ROUNDS)


@pytest.mark.leak
def test_many_requests_do_not_grow_memory(wire_impl: Wire) -> None:
    growth = measure(wire_impl.IMPLEMENTATION)
    assert growth["in_use"] == 0, growth
    # one leaked response, coroutine or tuple per round would be ~200 objects and tens of KB
    assert growth["objects"] < 50, growth
    assert growth["bytes"] < 32 * 1024, growth


@pytest.mark.leak
def test_a_leak_of_one_object_per_round_would_be_caught(wire_impl: Wire) -> None:
    """The measurement is sensitive: the same workload keeping one response per round fails it."""
    marker = "        async def one_round():\n"
    assert marker in WORKLOAD
    keep = "            kept.append(await s.get(url + '/small'))\n"
    leaky = WORKLOAD.replace(marker, "        kept = []\n\n" + marker + keep)
    growth = measure(wire_impl.IMPLEMENTATION, leaky)
    assert growth["objects"] >= ROUNDS, growth
    assert growth["bytes"] >= 32 * 1024, growth
