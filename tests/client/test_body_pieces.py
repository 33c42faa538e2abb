"""A streamed body: ``iter_any()``'s raw pieces on both connection twins, and the large
read buffers a session keeps for its next download.

The C connection answers ``iter_any()`` on a body with no decoder with its own
iterator (``RawPieces``); the Python one with ``StreamReader._iter_raw``.  Both
are held here to the same pieces, errors, cancellation and mixing with
``read(n)``.  A connection that read a body through a large buffer gives it to
the pool at the end of the response (``Pool.park_buffer``), at most
``PARKED_BUFFERS`` of them, and the next download reads into one of those.
"""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest

import wirespeed
from support.client_apps import stream_block
from support.client_kit import App, assert_settled
from support.fault_server import Conn, FaultServer, response, serve
from wirespeed import ClientSession
from wirespeed.client import _connection, _pool, _response
from wirespeed.client._response import ClientResponse
from wirespeed.wire import Wire

KiB = 1024
MiB = 1024 * KiB
OK = response(200, b"ok")


def _expected(size: int) -> str:
    return hashlib.sha256(stream_block(0, size)).hexdigest()


# --------------------------------------------------------------------------- the parked buffers


@pytest.mark.c_extension
def test_the_twins_park_the_same_number_of_buffers() -> None:
    from wirespeed.client import _connection_c

    assert _pool.PARKED_BUFFERS >= 1
    assert _connection_c.PARKED_BUFFERS == _pool.PARKED_BUFFERS


def test_a_download_reads_into_the_buffer_the_previous_one_left(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/stream?size=3000000")) as r:
                # Read late: the connection pauses at the high-water mark, the socket fills, and
                # the reads after that fill the small buffer (a download's sign), however the
                # server's writes happen to be cut.
                await asyncio.sleep(0.05)
                assert len(await r.read()) == 3000000
            pool = s._pool   # made with the first request
            (conn,) = pool._conns
            # back on its small buffer; the large one is the pool's now
            assert conn._rsize == _connection.READ_BUFFER_SIZE and conn._rbuf is conn._small
            (parked,) = pool._buffers
            assert parked.size == _connection.READ_BUFFER_MAX
            async with s.get(app.url("/stream?size=3000000")) as r:
                assert r._conn is conn
                await asyncio.sleep(0.05)
                got, checked = 0, False
                async for piece in r.content.iter_any():
                    got += len(piece)
                    # the buffer a read goes into is always the current buffer's view (the C
                    # twin keeps it, renewed when a piece takes the buffer's storage)
                    assert conn.get_buffer(-1) is conn._rbuf.view
                    if got > MiB and not checked:
                        # past its small buffer, the connection reads into the parked one
                        assert conn._rbuf is parked and not pool._buffers
                        checked = True
                assert got == 3000000 and checked
            assert pool._buffers == [parked]
            # a small response never takes it
            async with s.get(app.url("/small")) as r:
                await r.read()
            assert pool._buffers == [parked] and conn._rbuf is conn._small
            assert conn.get_buffer(-1) is conn._rbuf.view
        assert pool._buffers == []   # closing the session lets them go

    run(main())


def test_a_session_parks_at_most_parked_buffers(wire_impl: Wire, run: Any, app: App) -> None:
    n = _pool.PARKED_BUFFERS + 2
    body_size = MiB + _response.HIGH_WATER + _connection.READ_BUFFER_MAX + MiB
    grown: list[Any] = []
    all_grown = asyncio.Event()

    async def one(s: ClientSession) -> int:
        # large enough that its end cannot have arrived when a MiB of it has been taken
        # (the connection buffers at most HIGH_WATER and one read more)
        async with s.get(app.url(f"/stream?size={body_size}")) as r:
            await asyncio.sleep(0.05)   # read late, so that the reads fill the small buffer
            size, noted = 0, False
            async for piece in r.content.iter_any():
                size += len(piece)
                if size > MiB and not noted:
                    # every download reads into a large buffer before any of them ends
                    noted = True
                    assert r._conn is not None and r._conn._rsize == _connection.READ_BUFFER_MAX
                    grown.append(r._conn)
                    if len(grown) == n:
                        all_grown.set()
                    await all_grown.wait()
            return size

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            assert await asyncio.gather(*(one(s) for _ in range(n))) == [body_size] * n
            assert len(s._pool._conns) == n
            assert len(s._pool._buffers) == _pool.PARKED_BUFFERS
            assert len({id(b) for b in s._pool._buffers}) == _pool.PARKED_BUFFERS
            assert_settled(s.stats, idle=n)

    run(main())


def test_a_closed_pool_parks_nothing(wire_impl: Wire) -> None:
    from wirespeed.client._twins import client_twins

    pool = client_twins(wire_impl).pool(None, 0, 0, 15.0)
    rbuf = wire_impl.ReceiveBuffer(_connection.READ_BUFFER_MAX)
    pool.park_buffer(rbuf)
    assert pool.take_buffer() is rbuf and pool.take_buffer() is None
    pool.close()
    pool.park_buffer(rbuf)
    assert pool.take_buffer() is None


# --------------------------------------------------------------------------- iter_any's raw pieces


def test_iter_any_on_a_raw_body_is_the_connection_twins_own(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/stream?size=1000000")) as r:
                it = r.content.iter_any()
                if wire_impl.IMPLEMENTATION == "c":
                    assert type(it).__name__ == "RawPieces"
                else:
                    assert type(it).__name__ == "async_generator"
                h, size = hashlib.sha256(), 0
                async for piece in it:
                    assert type(piece) is bytes and piece
                    h.update(piece)
                    size += len(piece)
                assert (size, h.hexdigest()) == (1000000, _expected(1000000))
                assert r.content.at_eof()
                # at the end the iterator stays ended
                with pytest.raises(StopAsyncIteration):
                    await it.__anext__()
                await it.aclose()
            assert_settled(s.stats, idle=1)

    run(main())


def test_iter_any_after_the_body_ended_or_on_a_subclass_is_the_python_loop(wire_impl: Wire, run: Any,
                                                                          app: App) -> None:
    class Noted(ClientResponse):
        __slots__ = ()

    class Session(ClientSession):
        _response_class = Noted

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/small")) as r:
                while r._conn is not None:   # until the whole body is in (one read, or a few)
                    await asyncio.sleep(0.01)
                it = r.content.iter_any()
                assert type(it).__name__ == "async_generator"
                pieces = [p async for p in it]
            async with s.get(app.url("/small")) as again:
                assert b"".join(pieces) == await again.read() != b""
        async with Session(wire=wire_impl) as s:
            async with s.get(app.url("/stream?size=500000")) as r:
                assert isinstance(r, Noted)
                it = r.content.iter_any()
                assert type(it).__name__ == "async_generator"
                assert sum([len(p) async for p in it]) == 500000

    run(main())


def test_read_n_and_iter_any_share_what_is_left(wire_impl: Wire, run: Any, app: App) -> None:
    """A piece ``read(n)`` cut is what the next ``iter_any()`` step gives first."""

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/stream?size=700000")) as r:
                got = [await r.content.read(10)]
                async for piece in r.content.iter_any():
                    got.append(piece)
                    if len(got) == 2:
                        got.append(await r.content.read(7))
                body = b"".join(got)
                assert len(body) == 700000 and body == stream_block(0, 700000)

    run(main())


# 300 KiB: past the small buffer, the large one reads; 2 MiB of 8: the socket's receive
# low-water mark is up when the server closes (test_recv_lowat.py), and the close still wakes it
@pytest.mark.parametrize("sent", [300 * KiB, 2 * MiB + 1000], ids=["large-buffer", "under-the-mark"])
def test_iter_any_over_a_truncated_body_raises_payload_error(wire_impl: Wire, run: Any, fault: FaultServer,
                                                             sent: int) -> None:
    head = response(200, headers=[("Content-Length", str(4 * sent))], length=False)

    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(head + b"x" * sent)
        await asyncio.sleep(0.05)
        await conn.close()

    fault.script = [script, serve(OK, then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            got = 0
            async with s.get(fault.url("/t")) as r:
                with pytest.raises(wirespeed.ClientPayloadError) as info:
                    async for piece in r.content.iter_any():
                        got += len(piece)
            assert got == sent   # every byte that came, then the error
            assert info.value.method == "GET"
            assert_settled(s.stats, idle=0)
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"

    run(main())


def test_a_consumer_cancelled_while_it_waits_for_a_piece_closes_the_connection(
    wire_impl: Wire, run: Any, fault: FaultServer
) -> None:
    head = response(200, headers=[("Content-Length", str(MiB))], length=False)
    stalled = asyncio.Event()

    async def script(conn: Conn) -> None:
        await conn.read_request()
        await conn.send(head + b"y" * 1000)
        stalled.set()
        await asyncio.sleep(5)   # then nothing: the consumer waits for its next piece

    fault.script = [script, serve(OK, then="keep")]

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            seen: list[int] = []

            async def consume() -> None:
                async with s.get(fault.url("/t")) as r:
                    async for piece in r.content.iter_any():
                        seen.append(len(piece))

            task = asyncio.create_task(consume())
            while not seen:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert seen == [1000]
            assert_settled(s.stats, idle=0)
            assert s.stats.closed == 1
            async with s.get(fault.url()) as r:
                assert await r.read() == b"ok"

    run(main())


@pytest.mark.c_extension
def test_raw_pieces_without_am_send_gives_the_same_answers(run: Any, app: App) -> None:
    """``__next__``, what ``await`` falls back to without am_send: a future to wait on, the
    piece as StopIteration's value, StopAsyncIteration at the end."""
    from wirespeed import wire

    async def main() -> None:
        async with ClientSession(wire=wire.load("c")) as s:
            async with s.get(app.url("/stream?size=600000")) as r:
                it = r.content.iter_any()
                assert type(it).__name__ == "RawPieces"
                size = 0
                while True:
                    step = it.__anext__().__await__()
                    try:
                        out = step.__next__()
                    except StopIteration as stop:
                        size += len(stop.value)
                        continue
                    except StopAsyncIteration:
                        break
                    assert isinstance(out, asyncio.Future) and out._asyncio_future_blocking
                    out._asyncio_future_blocking = False
                    await out
                assert size == 600000

    run(main())


@pytest.mark.c_extension
def test_raw_pieces_refuses_a_response_subclass() -> None:
    from wirespeed.client._connection_c import RawPieces

    class Noted(ClientResponse):
        __slots__ = ()

    class Reader:
        _resp = Noted.__new__(Noted)
        _rest = b""

    with pytest.raises(TypeError, match="ClientResponse itself"):
        RawPieces(Reader())


def test_a_streamed_body_marks_its_connection_until_the_next_request(wire_impl: Wire, run: Any, app: App) -> None:
    """``iter_any()`` tells the connection its pieces are dropped as they go (so it takes
    reads of a quarter of its buffer whole); the next request starts unmarked."""

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/stream?size=1500000")) as r:
                conn = r._conn
                assert conn is not None and not conn._streaming
                it = r.content.iter_any()
                assert conn._streaming
                assert sum([len(p) async for p in it]) == 1500000
            async with s.get(app.url("/stream?size=1500000")) as r:
                assert r._conn is conn and not conn._streaming
                assert await r.read() == stream_block(0, 1500000)

    run(main())


def test_iter_any_over_a_chunked_body(wire_impl: Wire, run: Any, app: App) -> None:
    """Chunked framing: several body events per read, copied out piece by piece."""
    pieces, size = 300, 5000

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url(f"/chunked?pieces={pieces}&size={size}")) as r:
                assert r.content_length is None
                it = r.content.iter_any()
                if wire_impl.IMPLEMENTATION == "c":
                    assert type(it).__name__ == "RawPieces"
                body = b"".join([p async for p in it])
            assert body == b"".join(bytes([0x61 + i % 26]) * size for i in range(pieces))
            assert_settled(s.stats, idle=1)

    run(main())


def test_iter_any_over_a_compressed_body_is_decoded_by_the_python_loop(wire_impl: Wire, run: Any,
                                                                       app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/gzip")) as whole:
                expected = await whole.read()
            async with s.get(app.url("/gzip")) as r:
                it = r.content.iter_any()
                assert type(it).__name__ == "async_generator"
                assert b"".join([p async for p in it]) == expected != b""
        async with ClientSession(wire=wire_impl, auto_decompress=False) as s:
            async with s.get(app.url("/gzip")) as r:
                raw = b"".join([p async for p in r.content.iter_any()])
                assert raw[:2] == b"\x1f\x8b"   # the gzip member as it came

    run(main())


def test_read_n_over_large_pieces_gives_bytes_and_the_exact_body(wire_impl: Wire, run: Any, app: App) -> None:
    """read(n) far below the piece size: what it leaves of a piece is a view, not a copy,
    and every read, and iter_any() after it, still hands out bytes."""
    size = 3 * MiB + 17

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url(f"/stream?size={size}")) as r:
                await asyncio.sleep(0.05)   # the reads fill the large buffer
                got: list[bytes] = []
                while sum(map(len, got)) < size // 2:
                    piece = await r.content.read(1000)
                    assert type(piece) is bytes and 0 < len(piece) <= 1000
                    got.append(piece)
                async for piece in r.content.iter_any():
                    assert type(piece) is bytes
                    got.append(piece)
                body = b"".join(got)
                assert len(body) == size and body == stream_block(0, size)
            async with s.get(app.url(f"/stream?size={size}")) as r:
                rest = await r.content.read(5)
                assert type(rest) is bytes and rest == stream_block(0, 5)
                assert type(await r.content.readany()) is bytes
                tail = await r.read()
                assert type(tail) is bytes
            assert s.stats.opened == 1

    run(main())


# --------------------------------------------------------------------------- a body that came whole


def _serve_whole(fault: FaultServer, size: int, count: int) -> bytes:
    """Script ``count`` responses of a ``size``-byte body on one kept-alive connection, each
    sent with its head in one send; the body."""
    body = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    fault.script = [serve(*[response(200, body)] * count, then="keep")]
    return body


@pytest.mark.parametrize("size", [0, 1, 27, 5000])
def test_a_body_that_came_with_its_head_reads_alike_every_way(wire_impl: Wire, run: Any, fault: FaultServer,
                                                              size: int) -> None:
    # One send: head and body arrive in one read, the response is complete when handed over
    # (the C connection keeps such a body's piece in a list, not a deque).
    body = _serve_whole(fault, size, 6)

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            url = fault.url()
            async with s.get(url) as r:
                assert r._complete and r._conn is None
                assert await r.read() == body and await r.read() == body
            async with s.get(url) as r:
                assert b"".join([p async for p in r.content.iter_any()]) == body
                assert await r.content.read() == b""
            async with s.get(url) as r:
                got = [p async for p in r.content.iter_chunked(4)]
                assert b"".join(got) == body and all(len(p) <= 4 for p in got)
            async with s.get(url) as r:
                parts = []
                while part := await r.content.read(3):
                    parts.append(part)
                assert b"".join(parts) == body and all(len(p) <= 3 for p in parts)
            async with s.get(url) as r:
                first = await r.content.readany()
                assert first == body[:len(first)]
                assert first + await r.content.read() == body
            async with s.get(url) as r:
                r.close()
                assert await r.content.read() == b""
            assert s.stats.opened == 1

    run(main())


@pytest.mark.parametrize("size", [0, 1, 27, 5000])
def test_read_and_the_stream_never_both_have_a_body_that_came_whole(wire_impl: Wire, run: Any, fault: FaultServer,
                                                                    size: int) -> None:
    """Such a body is kept for read() from the start, and as the one piece a stream takes:
    after read() the stream is at its end; after part of it went as a stream, read() gives the
    rest (as aiohttp's read() does); after close() there is nothing; read() twice is the same."""
    body = _serve_whole(fault, size, 6)

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            url = fault.url()
            async with s.get(url) as r:
                assert await r.read() == body
                assert await r.content.read() == b""
                assert [p async for p in r.content.iter_any()] == []
                assert r.content.at_eof()
                assert await r.read() == body
            async with s.get(url) as r:
                head = await r.content.read(3)
                assert head == body[:3]
                assert await r.read() == body[3:]
                assert await r.read() == body[3:]
                assert await r.content.read() == b""
            async with s.get(url) as r:
                assert b"".join([p async for p in r.content.iter_chunked(4)]) == body
                assert await r.read() == b""
            async with s.get(url) as r:
                r.close()
                assert await r.read() == b""
            async with s.get(url) as r:
                assert await r.read() == body
                r.close()
                assert await r.read() == body   # read before: kept
            async with s.get(url) as r:
                pass   # left unread: closed on the way out
            assert await r.read() == b""
            assert s.stats.opened == 1

    run(main())


def test_a_compressed_body_that_came_whole_is_read_decoded_or_raw(wire_impl: Wire, run: Any, app: App) -> None:
    """A body with a Content-Encoding is not kept for read() as it came: read() decodes it,
    unless the session said auto_decompress=False."""
    import gzip

    from support.client_apps import TEXT

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/gzip")) as r:
                assert await r.read() == TEXT
                assert await r.read() == TEXT
        async with ClientSession(wire=wire_impl, auto_decompress=False) as s:
            async with s.get(app.url("/gzip")) as r:
                raw = await r.read()
                assert gzip.decompress(raw) == TEXT
                assert await r.content.read() == b""

    run(main())


_STEPS = ("read", "read3", "readany", "close")


@pytest.mark.parametrize("size", [0, 5, 5000])
def test_every_mix_of_read_and_the_stream_gives_each_byte_at_most_once(wire_impl: Wire, run: Any,
                                                                       fault: FaultServer, size: int) -> None:
    """Every sequence of up to three steps (read(), content.read(3), readany(), close()), then
    read(): what the stream steps and the first read() give, in order, is a prefix of the body,
    never a byte twice; with no close() before it, the final read() has given the whole body;
    and a second read() gives what the first did."""
    import itertools

    sequences = [seq for n in range(4) for seq in itertools.product(_STEPS, repeat=n)]
    body = _serve_whole(fault, size, len(sequences))

    async def one(s: ClientSession, steps: tuple[str, ...]) -> None:
        async with s.get(fault.url()) as r:
            given: list[bytes] = []
            first_read: bytes | None = None
            closed = False
            for step in (*steps, "read"):
                if step == "close":
                    r.close()
                    closed = True
                    continue
                if step == "read":
                    got = await r.read()
                    if first_read is None:
                        first_read = got
                        given.append(got)
                    else:
                        assert got == first_read, steps
                    continue
                got = await (r.content.read(3) if step == "read3" else r.content.readany())
                assert type(got) is bytes
                given.append(got)
            delivered = b"".join(given)
            assert body.startswith(delivered), steps
            if not closed:
                assert delivered == body, steps

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            for steps in sequences:
                await one(s, steps)
            assert s.stats.opened == 1

    run(main())
