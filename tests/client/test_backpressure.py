"""Backpressure both ways: a slow reader holds a bounded buffer, a slow server slows the upload.

A download read slowly must not pile up in memory: the client stops reading
from the socket when its buffer is full, so the server's sends wait.  The
buffered peak is measured with ``tracemalloc`` while the body is read with
pauses; during each pause a client without backpressure would take in
everything loopback can carry (hundreds of MiB per second).  Nothing of the
response is special to the test: it is an ordinary ``/stream`` body.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import pytest

from support.client_apps import stream_block
from support.client_kit import App, assert_settled
from support.fault_server import Conn, FaultServer, response
from wirespeed import ClientSession
from wirespeed.wire import Wire

KiB = 1024
MiB = 1024 * KiB
#: Most a slow download may hold at once: the client's own buffers are a few
#: hundred KiB; this leaves room for the loop's and the decoder's, and is still
#: far below what one pause would let in without backpressure.
PEAK_BOUND = 8 * MiB


async def _read_slowly(app: App, wire: Wire, size: int, pause_every: int, pause: float) -> tuple[int, int]:
    """(bytes read, traced peak) of reading ``/stream?size=size`` with a pause every ``pause_every`` bytes."""
    async with ClientSession(wire=wire) as s:
        async with s.get(app.url(f"/stream?size={size}")) as r:
            tracemalloc.start()
            try:
                base = tracemalloc.get_traced_memory()[0]
                got, next_pause = 0, pause_every
                async for piece in r.content.iter_any():
                    # Byte i is i % 256: check where each piece starts without keeping the body.
                    assert piece[:16] == stream_block(got, min(16, len(piece)))
                    got += len(piece)
                    if got >= next_pause:
                        next_pause += pause_every
                        await asyncio.sleep(pause)
                peak = tracemalloc.get_traced_memory()[1] - base
            finally:
                tracemalloc.stop()
        assert_settled(s.stats, idle=1)
    return got, peak


def test_slow_reader_of_a_32_mib_download_holds_a_bounded_buffer(wire_impl: Wire, run: Any, app: App) -> None:
    size = 32 * MiB

    async def main() -> None:
        got, peak = await _read_slowly(app, wire_impl, size, pause_every=8 * MiB, pause=0.1)
        assert got == size
        assert peak < PEAK_BOUND, f"{peak / MiB:.1f} MiB buffered at the peak"

    run(main())


@pytest.mark.slow
def test_slow_reader_of_a_256_mib_download_holds_a_bounded_buffer(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    size = 256 * MiB

    async def main() -> None:
        got, peak = await _read_slowly(aiohttp_app, wire_impl, size, pause_every=8 * MiB, pause=0.05)
        assert got == size
        assert peak < PEAK_BOUND, f"{peak / MiB:.1f} MiB buffered at the peak"

    run(main(), limit=120)


def test_streamed_upload_waits_for_a_server_that_does_not_read(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    pulled = [0]

    async def endless() -> AsyncIterator[bytes]:
        while True:
            pulled[0] += 1
            yield b"p" * (64 * KiB)

    async def script(conn: Conn) -> None:
        await conn.read_head()
        await fault.wait_gate()
        await conn.send(response(200, b"done", [("Connection", "close")]))
        await conn.read_until_eof(timeout=5)

    fault.script = script

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            task = asyncio.ensure_future(s.post(fault.url("/up"), data=endless()))
            await asyncio.sleep(0.3)
            first = pulled[0]
            await asyncio.sleep(0.3)
            # The iterator is no longer pulled: the client waits for the socket to drain.
            assert pulled[0] == first
            assert first * 64 * KiB < 64 * MiB, f"{first} pieces taken from a server that reads nothing"
            fault.open_gate()
            r = await asyncio.wait_for(task, 5)
            assert r.status == 200 and await r.read() == b"done"
        await fault.finished()

    run(main())
