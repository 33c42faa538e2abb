"""ReceiveBuffer: what a connection reads into, and the bytes it takes out (both twins).

The C twin hands over the storage of the buffer itself and reuses the objects
of takes of at least a quarter of the buffer once their consumer has dropped them
(a shorter take is given only its length, in the block it came in); none of
that may be visible: a ``bytes`` taken never changes, its length, hash and
content are its own, and what a socket delivers is what comes out.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import tracemalloc
from typing import Any

import pytest

from wirespeed.wire import Wire

SIZE = 64 * 1024


def pattern(i: int, n: int) -> bytes:
    return bytes([(i * 7 + k) % 251 for k in range(256)]) * (n // 256) + bytes(n % 256)


def test_take_returns_what_was_read(wire_impl: Wire) -> None:
    buf = wire_impl.ReceiveBuffer(SIZE)
    assert buf.size == SIZE
    for n in (SIZE, 1, SIZE // 2, 0, SIZE - 1, SIZE):
        data = pattern(n, n)
        buf.view[:n] = data
        taken = buf.take(n)
        assert type(taken) is bytes
        assert taken == data


def test_each_take_gives_a_new_view(wire_impl: Wire) -> None:
    buf = wire_impl.ReceiveBuffer(16)
    first = buf.view
    assert isinstance(first, memoryview) and not first.readonly and first.nbytes == 16
    buf.take(16)
    assert buf.view is not first
    assert buf.view.nbytes == 16


def test_bytes_taken_never_change_while_held(wire_impl: Wire) -> None:
    buf = wire_impl.ReceiveBuffer(SIZE)
    held = []
    for i in range(12):
        buf.view[:] = pattern(i, SIZE)
        held.append(buf.take(SIZE))
    for i, data in enumerate(held):
        assert data == pattern(i, SIZE)


def test_dropped_bytes_may_be_reused_but_never_show_it(wire_impl: Wire) -> None:
    """The consumer drops each piece before the next read, as a download loop does."""
    buf = wire_impl.ReceiveBuffer(SIZE)
    seen = {}
    for i in range(20):
        buf.view[:] = pattern(i, SIZE)
        data = buf.take(SIZE)
        assert data == pattern(i, SIZE)
        # A hash cached on a reused object would be the old content's.
        assert hash(data) == hash(pattern(i, SIZE))
        seen[data] = i          # usable as a key, by content
        assert seen[pattern(i, SIZE)] == i
        del seen[data]
        del data


def test_held_pieces_survive_reuse_of_dropped_ones(wire_impl: Wire) -> None:
    buf = wire_impl.ReceiveBuffer(SIZE)
    kept = {}
    for i in range(30):
        buf.view[:] = pattern(i, SIZE)
        data = buf.take(SIZE)
        if i % 3 == 0:
            kept[i] = data
    for i, data in kept.items():
        assert data == pattern(i, SIZE)


@pytest.mark.parametrize("n", [SIZE // 4, SIZE // 4 + 1, SIZE // 2, SIZE // 2 + 1, SIZE - 1, SIZE * 3 // 4])
def test_partial_takes_reused_never_show_it(wire_impl: Wire, n: int) -> None:
    """Reads that fill most but not all of the buffer (asyncio's one recv per wake-up)."""
    buf = wire_impl.ReceiveBuffer(SIZE)
    held = {}
    for i in range(24):
        buf.view[:] = pattern(i + 100, SIZE)          # the whole block written: the tail is stale
        buf.view[:n] = pattern(i, n)
        data = buf.take(n)
        assert len(data) == n and data == pattern(i, n)
        assert hash(data) == hash(pattern(i, n))
        assert data[-1:] == pattern(i, n)[-1:] and data + b"!" == pattern(i, n) + b"!"
        if i % 5 == 0:
            held[i] = data
        del data
    for i, data in held.items():
        assert data == pattern(i, n) and len(data) == n
    # A number parsed from a taken piece ends where the piece ends (its NUL is in place).
    buf.view[:] = b"9" * SIZE
    buf.view[:n] = b" " * (n - 3) + b"1.5"
    assert float(buf.take(n)) == 1.5


def test_a_short_take_leaves_a_full_buffer(wire_impl: Wire) -> None:
    buf = wire_impl.ReceiveBuffer(SIZE)
    buf.view[:10] = b"0123456789"
    assert buf.take(10) == b"0123456789"
    assert buf.size == SIZE and buf.view.nbytes == SIZE
    buf.view[:] = pattern(3, SIZE)
    assert buf.take(SIZE) == pattern(3, SIZE)


@pytest.mark.parametrize("count", [
    lambda i: SIZE if i % 4 else SIZE // 3,   # full reads, and a short one now and then
    lambda i: SIZE * 3 // 5 + i % 7,          # reads of most of the buffer (asyncio's)
], ids=["full-and-short", "partial"])
def test_steady_reads_keep_memory_bounded(wire_impl: Wire, count: Any) -> None:
    buf = wire_impl.ReceiveBuffer(SIZE)
    gc.collect()
    tracemalloc.start()
    try:
        for i in range(500):
            buf.view[:4] = i.to_bytes(4, "big")
            data = buf.take(count(i))
            assert data[:4] == i.to_bytes(4, "big")
            del data
        current, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert current < 4 * SIZE   # the buffer and its spares, not one object per read


@pytest.mark.c_extension
def test_the_c_twin_cycles_through_its_spares_for_partial_reads() -> None:
    """What the reuse is for: a download's blocks stay the same few, warm ones."""
    from wirespeed import wire

    buf = wire.load("c").ReceiveBuffer(SIZE)
    blocks = set()
    for i in range(40):
        data = buf.take(SIZE * 2 // 3 + i)
        blocks.add(id(data))
        del data
    assert len(blocks) <= 3


@pytest.mark.parametrize(
    ("size", "error", "text"),
    [
        (0, ValueError, "a ReceiveBuffer's size must be a positive int, not 0"),
        (-5, ValueError, "a ReceiveBuffer's size must be a positive int, not -5"),
        (True, TypeError, "a ReceiveBuffer's size must be a positive int, not True"),
        (1.5, TypeError, "a ReceiveBuffer's size must be a positive int, not 1.5"),
        ("64", TypeError, "a ReceiveBuffer's size must be a positive int, not '64'"),
        (2**70, OverflowError, f"a ReceiveBuffer's size must be at most sys.maxsize, not {2**70}"),
    ],
)
def test_a_bad_size_is_refused(wire_impl: Wire, size: object, error: type[Exception], text: str) -> None:
    with pytest.raises(error) as info:
        wire_impl.ReceiveBuffer(size)  # type: ignore[arg-type]
    assert str(info.value) == text


@pytest.mark.parametrize(
    ("n", "error"),
    [(-1, ValueError), (17, ValueError), (True, TypeError), (2.0, TypeError), (None, TypeError)],
)
def test_a_bad_count_is_refused_and_the_buffer_still_works(wire_impl: Wire, n: object,
                                                           error: type[Exception]) -> None:
    buf = wire_impl.ReceiveBuffer(16)
    buf.view[:3] = b"abc"
    with pytest.raises(error) as info:
        buf.take(n)  # type: ignore[arg-type]
    assert str(info.value) == f"take() needs an int from 0 to the buffer's size (16), not {n!r}"
    assert buf.take(3) == b"abc"


class _Reader(asyncio.BufferedProtocol):
    """What a connection does: read into the buffer, take each read whole."""

    def __init__(self, wire: Wire, done: asyncio.Future[bytes]) -> None:
        self.buf = wire.ReceiveBuffer(SIZE)
        self.pieces: list[bytes] = []
        self.done = done

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buf.view

    def buffer_updated(self, nbytes: int) -> None:
        self.pieces.append(self.buf.take(nbytes))
        if len(self.pieces) % 2:
            self.pieces[-1] = bytes(self.pieces[-1])   # some dropped at once, some kept

    def eof_received(self) -> bool:
        self.done.set_result(b"".join(self.pieces))
        return False


async def _read_through(wire: Wire, payload: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    a, b = socket.socketpair()
    b.setblocking(False)
    done: asyncio.Future[bytes] = loop.create_future()
    transport, _ = await loop.connect_accepted_socket(lambda: _Reader(wire, done), a)
    try:
        await loop.sock_sendall(b, payload)
        b.shutdown(socket.SHUT_WR)
        return await asyncio.wait_for(done, 10)
    finally:
        transport.close()
        b.close()


@pytest.mark.parametrize("loop_name", ["asyncio", "uvloop"])
def test_a_socket_stream_arrives_intact(wire_impl: Wire, loop_name: str) -> None:
    payload = b"".join(pattern(i, 4096) for i in range(1024))   # 4 MiB
    if loop_name == "uvloop":
        uvloop = pytest.importorskip("uvloop")
        got = uvloop.run(_read_through(wire_impl, payload))
    else:
        got = asyncio.run(_read_through(wire_impl, payload))
    assert len(got) == len(payload)
    assert got == payload
