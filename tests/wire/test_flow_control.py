"""Flow control: drain waits while the transport is paused, and the CVE-2024-12254 gate.

``wirespeed.wire._flow.FlowControl`` is the protocol-side helper; the writer's
``drain()`` asks it (any object with ``wait_writable()``) once more than
``drain_limit`` bytes went out since the last drain.  On CPython releases
whose ``writelines`` never pauses the protocol, the writer must not use it:
the gate is the module attribute ``WRITELINES_SAFE`` of each twin, patched
here.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from wirespeed.errors import TransportError
from wirespeed.wire import Wire
from wirespeed.wire._flow import FlowControl, writelines_ignores_flow_control

KiB = 1024
MiB = 1024 * KiB


class PausingTransport:
    """Buffers everything (the peer never reads) and behaves like asyncio's selector transport
    on a CVE-affected CPython: ``write`` pauses the protocol above the high-water mark,
    ``writelines`` buffers without ever pausing it."""

    HIGH_WATER = 64 * KiB

    def __init__(self, protocol: FlowControl) -> None:
        self.protocol = protocol
        self.buffered = 0
        self.writes: list[Any] = []
        self.writelines_calls: list[list[Any]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.writes.append(data)
        self.buffered += memoryview(data).nbytes
        if self.buffered > self.HIGH_WATER and not self.protocol.writing_paused:
            self.protocol.pause_writing()

    def writelines(self, pieces: Any) -> None:
        pieces = list(pieces)
        self.writelines_calls.append(pieces)
        self.buffered += sum(memoryview(p).nbytes for p in pieces)

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def get_write_buffer_size(self) -> int:
        return self.buffered


def setup(wire_impl: Wire, **kw: Any) -> tuple[Any, FlowControl, PausingTransport]:
    flow = FlowControl()
    transport = PausingTransport(flow)
    writer = wire_impl.StreamWriter(transport, flow, **kw)
    writer.write_headers("POST / HTTP/1.1", {"Transfer-Encoding": "chunked"})
    writer.enable_chunking()
    return writer, flow, transport


async def spin(n: int = 20) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


# -- drain -----------------------------------------------------------------------


def test_pause_makes_drain_wait_and_resume_releases_it(wire_impl: Wire) -> None:
    async def main() -> None:
        writer, flow, _ = setup(wire_impl, drain_limit=100)
        writer.write(b"x" * 200)
        flow.pause_writing()
        drain = asyncio.ensure_future(writer.drain())
        await spin()
        assert not drain.done()
        flow.resume_writing()
        await spin()
        assert drain.done() and drain.result() is None

    asyncio.run(main())


def test_drain_below_the_limit_does_not_wait(wire_impl: Wire) -> None:
    async def main() -> None:
        writer, flow, _ = setup(wire_impl, drain_limit=1000)
        writer.write(b"x" * 10)
        flow.pause_writing()
        await asyncio.wait_for(writer.drain(), 5)  # returns at once; the limit bounds the growth
        assert writer.buffer_size == len(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\na\r\nxxxxxxxxxx\r\n")

    asyncio.run(main())


def test_drain_resets_the_count_once_it_waited(wire_impl: Wire) -> None:
    async def main() -> None:
        writer, flow, _ = setup(wire_impl, drain_limit=100)
        writer.write(b"x" * 200)
        await writer.drain()
        assert writer.buffer_size == 0

    asyncio.run(main())


def test_connection_loss_while_waiting_raises(wire_impl: Wire) -> None:
    async def main() -> None:
        writer, flow, _ = setup(wire_impl, drain_limit=100)
        writer.write(b"x" * 200)
        flow.pause_writing()
        drain = asyncio.ensure_future(writer.drain())
        await spin()
        cause = ConnectionResetError(104, "reset by peer")
        flow.connection_lost(cause)
        with pytest.raises(TransportError, match="lost") as info:
            await drain
        assert info.value.__cause__ is cause

    asyncio.run(main())


def test_drain_after_connection_loss_raises_at_once(wire_impl: Wire) -> None:
    async def main() -> None:
        writer, flow, _ = setup(wire_impl, drain_limit=100)
        writer.write(b"x" * 200)
        flow.connection_lost(None)
        with pytest.raises(TransportError, match="lost"):
            await writer.drain()

    asyncio.run(main())


def test_drain_on_a_closing_transport_raises(wire_impl: Wire) -> None:
    async def main() -> None:
        writer, flow, transport = setup(wire_impl)
        writer.write(b"x")
        transport.closing = True
        with pytest.raises(TransportError, match="closing"):
            await writer.drain()

    asyncio.run(main())


def test_cancelled_drain_leaves_no_waiter(wire_impl: Wire) -> None:
    async def main() -> None:
        writer, flow, _ = setup(wire_impl, drain_limit=100)
        writer.write(b"x" * 200)
        flow.pause_writing()
        drain = asyncio.ensure_future(writer.drain())
        await spin()
        drain.cancel()
        await spin()
        assert drain.cancelled()
        assert len(flow._waiters) == 0

    asyncio.run(main())


def test_every_waiter_is_released_by_one_resume() -> None:
    async def main() -> None:
        flow = FlowControl()
        flow.pause_writing()
        waiters = [asyncio.ensure_future(flow.wait_writable()) for _ in range(3)]
        await spin()
        assert not any(w.done() for w in waiters)
        flow.resume_writing()
        await asyncio.gather(*waiters)

    asyncio.run(main())


def test_pause_again_before_a_waiter_runs_keeps_it_waiting() -> None:
    async def main() -> None:
        flow = FlowControl()
        flow.pause_writing()
        waiter = asyncio.ensure_future(flow.wait_writable())
        await spin()
        flow.resume_writing()
        flow.pause_writing()
        await spin()
        assert not waiter.done()
        flow.resume_writing()
        await waiter

    asyncio.run(main())


# -- the CVE-2024-12254 gate -----------------------------------------------------

VERSIONS = [
    ((3, 10, 14), False),
    ((3, 11, 9), False),
    ((3, 12, 0), True),
    ((3, 12, 1), True),
    ((3, 12, 8), True),
    ((3, 12, 9), False),
    ((3, 13, 0), True),
    ((3, 13, 1), True),
    ((3, 13, 2), False),
    ((3, 14, 0), False),
]


@pytest.mark.parametrize(
    ("version", "affected"), VERSIONS, ids=lambda v: ".".join(map(str, v)) if isinstance(v, tuple) else str(v)
)
def test_writelines_gate_knows_the_affected_releases(version: tuple[int, int, int], affected: bool) -> None:
    assert writelines_ignores_flow_control((*version, "final", 0)) is affected


def test_both_twins_read_the_same_gate(wire_impl: Wire) -> None:
    import sys

    assert wire_impl.writer_module.WRITELINES_SAFE is (not writelines_ignores_flow_control(sys.version_info))


@pytest.fixture
def bad_cpython(wire_impl: Wire, monkeypatch: pytest.MonkeyPatch) -> Wire:
    """The twin as it behaves on a CVE-affected CPython."""
    monkeypatch.setattr(wire_impl.writer_module, "WRITELINES_SAFE", False)
    return wire_impl


def test_gated_writer_never_calls_writelines(bad_cpython: Wire) -> None:
    writer, _, transport = setup(bad_cpython)
    big = b"B" * MiB
    writer.write(b"small")
    writer.write(big)
    writer.write_eof(bytearray(b"L" * (100 * KiB)), trailers={"X-T": "1"})
    assert transport.writelines_calls == []
    # Large payloads still pass through uncopied; the small framing around them is joined.
    assert any(w is big for w in transport.writes)
    data = b"".join(bytes(w) for w in transport.writes)
    assert data.endswith(b"\r\n0\r\nX-T: 1\r\n\r\n")
    assert b"100000\r\n" + big + b"\r\n" in data


def test_gated_producer_is_held_by_flow_control(bad_cpython: Wire) -> None:
    """A producer that writes and drains in a loop stops near the high-water mark."""

    async def main() -> None:
        writer, flow, transport = setup(bad_cpython)
        block = b"p" * (256 * KiB)

        async def produce() -> None:
            for _ in range(100):
                writer.write(block)
                await writer.drain()

        task = asyncio.ensure_future(produce())
        await spin(50)
        assert not task.done()  # parked in drain: the peer reads nothing
        assert flow.writing_paused
        assert transport.buffered <= 2 * len(block)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_ungated_writelines_on_a_bad_cpython_would_grow_without_bound(
    wire_impl: Wire, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hazard the gate exists for: the same producer through a writelines that never pauses."""
    monkeypatch.setattr(wire_impl.writer_module, "WRITELINES_SAFE", True)

    async def main() -> int:
        writer, _, transport = setup(wire_impl)
        block = b"p" * (256 * KiB)
        for _ in range(20):
            writer.write(block)
            await writer.drain()
        return transport.buffered

    assert asyncio.run(main()) > 20 * 256 * KiB
