"""The socket's receive low-water mark while a long body streams in (``RECV_LOWAT``).

While at least ``RECV_LOWAT`` bytes of a body with a known length are still to
come and the reads are large (the data arrives faster than the loop wakes),
a connection sets the socket's ``SO_RCVLOWAT`` to ``RECV_LOWAT``: the loop is
woken once that much has arrived instead of once per segment.  The mark must
never make the client wait for bytes that will not come, nor hold back bytes
that did: it is taken down when less than it remains, when the message ends
(a pooled socket has no mark up), when the connection tunnels, and when
``RECV_LOWAT_WAIT`` (or half the read timeout) passes without a read.  Under
TLS the bytes in the socket are not the body's, and no mark is set.  A server
that closes while the mark is up: ``test_body_pieces.py``'s truncated-body
test, ``under-the-mark``.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

import wirespeed
from support.client_apps import stream_block
from support.client_kit import App, TLSApp, assert_settled
from support.fault_server import Conn, FaultServer, response
from wirespeed import ClientSession, ClientTimeout
from wirespeed.client import _connection
from wirespeed.wire import Wire

pytestmark = pytest.mark.skipif(not hasattr(socket, "SO_RCVLOWAT"), reason="the platform has no SO_RCVLOWAT")

KiB = 1024
MiB = 1024 * KiB
OK = response(200, b"ok")


async def _then_ok(conn: Conn) -> None:
    """The next request on the same connection: answered, then the connection is kept."""
    await conn.read_request()
    await conn.send(OK)
    await conn.read_until_eof()


def _mark(sock: Any) -> int:
    return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT))


@pytest.mark.c_extension
def test_the_twins_agree_on_the_mark() -> None:
    from wirespeed.client import _connection_c
    assert _connection_c.RECV_LOWAT == _connection.RECV_LOWAT
    assert _connection_c.RECV_LOWAT_WAIT == _connection.RECV_LOWAT_WAIT
    assert _connection.RECV_LOWAT < _connection.READ_BUFFER_MAX


@pytest.mark.parametrize("reader", ["iter_any", "read"])
def test_a_long_body_raises_the_mark_and_a_pooled_socket_has_none(
    wire_impl: Wire, run: Any, app: App, reader: str
) -> None:
    size = 8 * MiB

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url(f"/stream?size={size}")) as r:
                conn = r._conn
                sock = conn.transport.get_extra_info("socket")
                await asyncio.sleep(0.05)   # read late: the first reads fill the buffers
                marks = set()
                if reader == "iter_any":
                    got = 0
                    async for piece in r.content.iter_any():
                        assert piece == stream_block(got, len(piece))
                        got += len(piece)
                        marks.add(_mark(sock))
                    assert got == size
                else:
                    reading = asyncio.ensure_future(r.read())
                    while not reading.done():   # once per turn of the loop, between reads
                        marks.add(_mark(sock))
                        await asyncio.sleep(0)
                    body = reading.result()
                    assert len(body) == size and body[-4096:] == stream_block(size - 4096, 4096)
            assert _connection.RECV_LOWAT in marks
            assert _mark(sock) == 1 and conn._lowat == 1   # back in the pool without a mark
            assert_settled(s.stats, idle=1)
            async with s.get(app.url("/small")) as r:   # the same connection, a small response
                assert r._conn is None or r._conn is conn
                assert len(await r.read()) > 0
            assert s.stats.opened == 1

    run(main())


def test_a_body_without_a_length_sets_no_mark(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/chunked?pieces=64&size=65536")) as r:
                sock = r._conn.transport.get_extra_info("socket")
                await asyncio.sleep(0.05)
                got = 0
                async for piece in r.content.iter_any():
                    got += len(piece)
                    assert _mark(sock) == 1
                assert got == 64 * 65536

    run(main())


def test_the_mark_comes_down_for_the_tail(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    """Less than the mark left: it comes down, and the tail, sent long after, arrives."""
    rest = _connection.RECV_LOWAT // 2
    length = 2 * MiB + rest
    head = response(200, headers=[("Content-Length", str(length))], length=False)

    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(head + b"a" * (2 * MiB))
        await asyncio.sleep(0.3)
        await conn.send(b"b" * rest)
        await _then_ok(conn)

    fault.script = [script]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url("/t")) as r:
                await asyncio.sleep(0.05)
                body = await asyncio.wait_for(r.read(), 5)
            assert body == b"a" * (2 * MiB) + b"b" * rest
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
            assert s.stats.opened == 1

    run(main())


@pytest.mark.parametrize("read_timeout", [None, 0.5])
def test_bytes_below_the_mark_are_not_held_back(
    wire_impl: Wire, run: Any, fault: FaultServer, read_timeout: float | None
) -> None:
    """A fast start, then a drip far below the mark: each drop reaches the consumer
    while more than the mark is still to come (and no read timeout fires)."""
    drop, drops = 4 * KiB, 8
    length = 2 * MiB + drops * drop + 2 * MiB
    head = response(200, headers=[("Content-Length", str(length))], length=False)
    seen = asyncio.Event()   # set on the client's loop, waited for on the server's by polling
    progress: list[int] = []

    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(head + b"a" * (2 * MiB))
        for _ in range(drops):
            await asyncio.sleep(0.2)
            await conn.send(b"d" * drop)
        for _ in range(500):   # the consumer has every drop before the rest is sent
            if seen.is_set():
                break
            await asyncio.sleep(0.01)
        await conn.send(b"z" * (2 * MiB))
        await _then_ok(conn)

    fault.script = [script]

    async def main() -> None:
        options = {"timeout": ClientTimeout(read=read_timeout)} if read_timeout else {}
        async with ClientSession(wire=wire_impl, **options) as s:
            async with s.get(fault.url("/t")) as r:
                conn = r._conn
                await asyncio.sleep(0.05)
                got, peak = 0, 1
                async for piece in r.content.iter_any():
                    got += len(piece)
                    progress.append(got)
                    peak = max(peak, conn._lowat)
                    if got >= 2 * MiB + drops * drop:
                        seen.set()
            assert got == length
            assert peak == _connection.RECV_LOWAT   # the drip came while the mark was up
            # each drop arrived on its own, long before the rest was sent
            assert sum(1 for n in progress if 2 * MiB < n <= 2 * MiB + drops * drop) >= drops // 2
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"
            assert s.stats.opened == 1

    run(main())


def test_tls_sets_no_mark(wire_impl: Wire, run: Any, tls_app: TLSApp) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, ssl=tls_app.trusting_context()) as s:
            async with s.get(tls_app.url("/stream?size=4000000")) as r:
                conn = r._conn
                assert conn._lowat_sock is None
                assert len(await r.read()) == 4000000
                assert conn._lowat == 1

    run(main())


class _RefusingSocket:
    def setsockopt(self, *args: Any) -> None:
        raise OSError("refused")


def test_a_mark_that_cannot_come_down_fails_the_exchange(wire_impl: Wire, run: Any, app: App) -> None:
    """Bytes below a mark that stays up might never be read: the exchange fails at once
    instead of hanging, and the connection closes."""

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            size = 16 * MiB
            async with s.get(app.url(f"/stream?size={size}")) as r:
                conn = r._conn
                await asyncio.sleep(0.05)
                got = 0
                async for piece in r.content.iter_any():
                    got += len(piece)
                    if conn._lowat > 1 and got < size // 2:   # far from the end: the mark must come down
                        conn._lowat_sock = _RefusingSocket()
                        break
                else:
                    pytest.fail("the mark never went up")
                # the consumer stops: reading pauses, the mark is due to come down within RECV_LOWAT_WAIT
                await asyncio.sleep(5 * _connection.RECV_LOWAT_WAIT)
                with pytest.raises(wirespeed.ClientConnectionError) as info:
                    await r.read()
                assert isinstance(info.value.__cause__, OSError)
            assert conn._lowat == 1 and conn._lowat_sock is None
            assert conn.closed and not conn.reusable
            assert_settled(s.stats, idle=0)
            async with s.get(app.url("/small")) as r:
                assert len(await r.read()) > 0
            assert s.stats.opened == 2

    run(main())
