"""StreamWriter on real loopback connections: the writev path, partial writes, errors, TLS, syscalls.

A real asyncio server on 127.0.0.1 receives what the writer sends; the
client transport's ``write``/``writelines`` are wrapped to count calls (they
still do their work).  The C twin takes its ``writev(2)`` fast path on a
plain TCP socket with an empty transport buffer; these tests show it does,
that an unsent remainder and ``EAGAIN`` are handed to the transport without
loss, that a reset peer raises ``TransportError``, that a TLS transport
(which also answers ``get_extra_info('socket')``) never is written around,
and that with ``direct_writes=False`` every byte goes through the transport.
The strace test counts write-type syscalls of one small POST per twin.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from wirespeed.errors import TransportError
from wirespeed.wire import Wire
from wirespeed.wire._flow import FlowControl

KiB = 1024
MiB = 1024 * KiB
IN_CI = os.environ.get("WIRESPEED_REQUIRE_SERVERS", "") not in ("", "0")  # .ci/run sets it; CI=true alone does not
ROOT = Path(__file__).resolve().parents[2]


class Sink(asyncio.Protocol):
    """Server side: keeps every byte; can start with reading paused (a slow reader)."""

    def __init__(self, paused: bool = False) -> None:
        self.data = bytearray()
        self.paused = paused
        self.transport: Any = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        if self.paused:
            transport.pause_reading()

    def data_received(self, data: bytes) -> None:
        self.data += data

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    async def wait_for(self, size: int) -> bytes:
        while len(self.data) < size:
            await asyncio.sleep(0.001)
        return bytes(self.data)


class Client(FlowControl, asyncio.Protocol):
    """Client side: the flow-control helper, and a note of whether writing was ever paused."""

    def __init__(self) -> None:
        FlowControl.__init__(self)
        self.was_paused = False

    def pause_writing(self) -> None:
        self.was_paused = True
        FlowControl.pause_writing(self)

    def data_received(self, data: bytes) -> None:
        pass


class Spy:
    """Counts a transport's write/writelines calls, the types they carried and their bytes."""

    def __init__(self, transport: Any) -> None:
        self.writes: list[Any] = []
        self.writelines: list[list[Any]] = []
        self.size = 0
        inside = False  # asyncio's writelines may call write: count the caller's calls only
        write, writelines = transport.write, transport.writelines

        def spy_write(data: Any) -> None:
            if not inside:
                self.writes.append(type(data))
                self.size += memoryview(data).nbytes
            write(data)

        def spy_writelines(pieces: Any) -> None:
            nonlocal inside
            pieces = list(pieces)
            self.writelines.append([type(p) for p in pieces])
            self.size += sum(memoryview(p).nbytes for p in pieces)
            inside = True
            try:
                writelines(pieces)
            finally:
                inside = False

        transport.write = spy_write
        transport.writelines = spy_writelines


async def connect(
    sink: Sink, server_ssl: ssl.SSLContext | None = None, client_ssl: ssl.SSLContext | None = None
) -> tuple[Any, Client, Any]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: sink, "127.0.0.1", 0, ssl=server_ssl)
    port = server.sockets[0].getsockname()[1]
    transport, client = await loop.create_connection(Client, "127.0.0.1", port, ssl=client_ssl)
    return transport, client, server


async def close(transport: Any, server: Any, sink: Sink) -> None:
    transport.close()
    server.close()
    await server.wait_closed()
    await asyncio.wait_for(sink.closed, 10)
    # CPython 3.10's TLS transport warns at collection unless closed by its
    # owner too, even after connection_lost.
    sink.transport.close()


def request(size: int) -> tuple[bytes, bytes]:
    head_line = "POST /upload HTTP/1.1"
    body = os.urandom(size)
    expected = f"{head_line}\r\nContent-Length: {size}\r\n\r\n".encode() + body
    return body, expected


def test_small_post_on_loopback_is_one_transport_write(wire_impl: Wire) -> None:
    async def main() -> None:
        sink = Sink()
        transport, client, server = await connect(sink)
        spy = Spy(transport)
        body, expected = request(200)
        writer = wire_impl.StreamWriter(transport, client)
        writer.write_headers("POST /upload HTTP/1.1", {"Content-Length": "200"})
        writer.write_eof(body)
        await writer.drain()
        assert await sink.wait_for(len(expected)) == expected
        assert (spy.writes, spy.writelines) == ([bytes], [])
        await close(transport, server, sink)

    asyncio.run(main())


def test_large_body_takes_writev_on_plain_tcp(wire_impl: Wire) -> None:
    async def main() -> None:
        sink = Sink()
        transport, client, server = await connect(sink)
        spy = Spy(transport)
        body, expected = request(256 * KiB)
        writer = wire_impl.StreamWriter(transport, client)
        writer.write_headers("POST /upload HTTP/1.1", {"Content-Length": str(len(body))})
        writer.write_eof(body)
        await writer.drain()
        received = await sink.wait_for(len(expected))
        assert hashlib.sha256(received).digest() == hashlib.sha256(expected).digest()
        if wire_impl.IMPLEMENTATION == "c":
            # writev took what the socket accepted; at most the remainder went to write().
            assert spy.writelines == []
            assert spy.writes in ([], [memoryview], [memoryview, bytes])
        elif wire_impl.writer_module.WRITELINES_SAFE:
            assert spy.writelines == [[bytes, bytes]]
        else:  # CVE-affected CPython: head and body through write(), the body uncopied
            assert (spy.writelines, spy.writes) == ([], [bytes, bytes])
        await close(transport, server, sink)

    asyncio.run(main())


@pytest.mark.parametrize("size", [256 * KiB, 8 * MiB], ids=["256KiB", "8MiB-slow-reader"])
def test_direct_writes_off_sends_every_byte_through_the_transport(wire_impl: Wire, size: int) -> None:
    """``direct_writes=False``: no writev around the transport, even on plain TCP with an empty buffer."""

    async def main() -> None:
        sink = Sink(paused=size > MiB)
        transport, client, server = await connect(sink)
        assert transport.get_extra_info("ssl_object") is None  # the case the fast path is for
        spy = Spy(transport)
        body, expected = request(size)
        writer = wire_impl.StreamWriter(transport, client, direct_writes=False)
        writer.write_headers("POST /upload HTTP/1.1", {"Content-Length": str(len(body))})
        writer.write_eof(body)
        # Every byte went to the transport, in the calls a transport-only writer makes.
        assert spy.size == len(expected)
        if wire_impl.writer_module.WRITELINES_SAFE:
            assert (spy.writelines, spy.writes) == ([[bytes, bytes]], [])
        else:
            assert (spy.writelines, spy.writes) == ([], [bytes, bytes])
        drain = asyncio.ensure_future(writer.drain())
        if sink.paused:
            for _ in range(20):
                await asyncio.sleep(0)
            assert client.was_paused and not drain.done()  # the transport's flow control holds
            sink.transport.resume_reading()
        await asyncio.wait_for(drain, 30)
        received = await sink.wait_for(len(expected))
        assert hashlib.sha256(received).digest() == hashlib.sha256(expected).digest()
        await close(transport, server, sink)

    asyncio.run(main())


def test_partial_writev_to_a_slow_reader_loses_nothing(wire_impl: Wire) -> None:
    async def main() -> None:
        sink = Sink(paused=True)
        transport, client, server = await connect(sink)
        transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * KiB)
        spy = Spy(transport)
        body, expected = request(8 * MiB)
        writer = wire_impl.StreamWriter(transport, client)
        writer.write_headers("POST /upload HTTP/1.1", {"Content-Length": str(len(body))})
        writer.write_eof(body)
        drain = asyncio.ensure_future(writer.drain())
        for _ in range(20):
            await asyncio.sleep(0)
        assert client.was_paused and not drain.done()  # flow control holds the producer
        sink.transport.resume_reading()
        await asyncio.wait_for(drain, 30)
        received = await sink.wait_for(len(expected))
        assert hashlib.sha256(received).digest() == hashlib.sha256(expected).digest()
        if wire_impl.IMPLEMENTATION == "c":
            assert spy.writelines == []
            assert spy.writes[0] is memoryview  # the partly sent body, sliced not copied
        await close(transport, server, sink)

    asyncio.run(main())


def test_eagain_hands_everything_to_the_transport(wire_impl: Wire) -> None:
    async def main() -> None:
        sink = Sink(paused=True)
        transport, client, server = await connect(sink)
        # Fill the socket behind the transport's back so its buffer stays empty.
        raw = socket.socket(fileno=os.dup(transport.get_extra_info("socket").fileno()))
        raw.setblocking(False)
        filler = 0
        try:
            while True:
                filler += raw.send(b"f" * (64 * KiB))
        except BlockingIOError:
            pass
        finally:
            os.close(raw.detach())
        assert transport.get_write_buffer_size() == 0
        spy = Spy(transport)
        body, expected = request(64 * KiB)
        writer = wire_impl.StreamWriter(transport, client)
        writer.write_headers("POST /upload HTTP/1.1", {"Content-Length": str(len(body))})
        writer.write_eof(body)
        if wire_impl.writer_module.WRITELINES_SAFE:
            assert spy.writelines == [[bytes, bytes]]
        else:
            assert (spy.writelines, spy.writes) == ([], [bytes, bytes])
        sink.transport.resume_reading()
        received = await sink.wait_for(filler + len(expected))
        assert received[filler:] == expected
        await close(transport, server, sink)

    asyncio.run(main())


@pytest.mark.parametrize("size", [100, 256 * KiB], ids=["small", "large"])
def test_reset_by_peer_raises_transport_error(wire_impl: Wire, size: int) -> None:
    """The peer resets the connection; the writer learns before the loop does."""
    listener = socket.create_server(("127.0.0.1", 0))
    connected, gone = threading.Event(), threading.Event()

    def reset_on_accept() -> None:
        conn, _ = listener.accept()
        connected.wait(10)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()  # RST
        gone.set()

    thread = threading.Thread(target=reset_on_accept)
    thread.start()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        transport, client = await loop.create_connection(Client, *listener.getsockname())
        connected.set()
        gone.wait(10)
        time.sleep(0.05)  # let the RST arrive while the loop does not run
        writer = wire_impl.StreamWriter(transport, client, drain_limit=0)
        writer.write_headers("POST / HTTP/1.1", {"Content-Length": str(size)})
        with pytest.raises(TransportError) as info:
            writer.write_eof(b"x" * size)
            await asyncio.sleep(0)  # the transport notices the error it swallowed
            await writer.drain()
        if wire_impl.IMPLEMENTATION == "c" and size > wire_impl.writer_module.COALESCE_LIMIT:
            assert isinstance(info.value.__cause__, OSError)
            assert info.value.__cause__.errno in (errno.EPIPE, errno.ECONNRESET)
        transport.close()
        await asyncio.sleep(0)

    try:
        asyncio.run(main())
    finally:
        connected.set()
        thread.join()
        listener.close()


@pytest.fixture(scope="module")
def tls_contexts() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    trustme = pytest.importorskip("trustme", reason="trustme (test extra) makes the test certificate")
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    client_ctx = ssl.create_default_context()
    ca.configure_trust(client_ctx)
    return server_ctx, client_ctx


def test_tls_transport_is_never_written_around(
    wire_impl: Wire, tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext]
) -> None:
    server_ctx, client_ctx = tls_contexts

    async def main() -> None:
        sink = Sink()
        transport, client, server = await connect(sink, server_ctx, client_ctx)
        # The trap: a TLS transport also hands out the raw TCP socket.
        assert transport.get_extra_info("socket") is not None
        assert transport.get_extra_info("ssl_object") is not None
        spy = Spy(transport)
        body, expected = request(1 * MiB)
        writer = wire_impl.StreamWriter(transport, client)
        writer.write_headers("POST /upload HTTP/1.1", {"Content-Length": str(len(body))})
        writer.write_eof(body)
        await writer.drain()
        received = await sink.wait_for(len(expected))
        assert hashlib.sha256(received).digest() == hashlib.sha256(expected).digest()
        assert len(spy.writes) + len(spy.writelines) >= 1  # everything went through TLS
        if wire_impl.writer_module.WRITELINES_SAFE:
            assert spy.writelines == [[bytes, bytes]]
        else:
            assert (spy.writelines, spy.writes) == ([], [bytes, bytes])
        await close(transport, server, sink)

    asyncio.run(main())


# -- syscalls --------------------------------------------------------------------

STRACE_SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from wirespeed import wire

    impl = wire.load(sys.argv[1])

    class Sink(asyncio.Protocol):
        def __init__(self):
            self.got = bytearray()
            self.done = asyncio.get_running_loop().create_future()
        def data_received(self, data):
            self.got += data
            if len(self.got) >= int(sys.argv[2]) and not self.done.done():
                self.done.set_result(bytes(self.got))

    async def main():
        loop = asyncio.get_running_loop()
        sink = Sink()
        server = await loop.create_server(lambda: sink, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        transport, _ = await loop.create_connection(asyncio.Protocol, "127.0.0.1", port)
        fd = transport.get_extra_info("socket").fileno()
        size = int(sys.argv[3])
        writer = impl.StreamWriter(transport)
        writer.write_request_headers("POST", "/submit", {"Host": "127.0.0.1", "Content-Length": str(size)})
        writer.write_eof(b"x" * size)
        got = await sink.done
        transport.close()
        server.close()
        await server.wait_closed()
        print(fd, len(got))

    asyncio.run(main())
    """
)
def head_for(size: int) -> bytes:
    return b"POST /submit HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n\r\n" % size


def strace_post(impl: str, size: int, tmp_path: Path) -> list[str]:
    """Run one POST under strace; return the write-type syscalls on the client socket."""
    strace = shutil.which("strace")
    if strace is None:
        if IN_CI:
            pytest.fail("strace is required under CI (.ci/run installs it)")
        pytest.skip("strace is not installed: cannot count syscalls (install strace to run this test)")
    script = tmp_path / "post.py"
    script.write_text(STRACE_SCRIPT)
    log = tmp_path / "strace.log"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    total = len(head_for(size)) + size
    out = subprocess.run(
        [strace, "-f", "-qq", "-e", "trace=write,writev,sendmsg,sendto", "-o", str(log),
         sys.executable, str(script), impl, str(total), str(size)],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )
    fd, received = map(int, out.stdout.split())
    assert received == total
    return [
        line for line in log.read_text().splitlines()
        if any(f"{name}({fd}," in line for name in ("write", "writev", "sendmsg", "sendto"))
    ]


def test_small_post_is_one_write_syscall(wire_impl: Wire, tmp_path: Path) -> None:
    calls = strace_post(wire_impl.IMPLEMENTATION, 200, tmp_path)
    assert len(calls) == 1, calls
    assert calls[0].rstrip().endswith(f"= {len(head_for(200)) + 200}")


def test_large_post_starts_with_one_writev_of_head_and_body(wire_impl: Wire, tmp_path: Path) -> None:
    """C twin: head and a 200 KB body in one writev of two iovecs (the body not copied)."""
    calls = strace_post(wire_impl.IMPLEMENTATION, 200_000, tmp_path)
    if wire_impl.IMPLEMENTATION == "c":
        assert calls[0].split("(", 1)[0].split()[-1] == "writev", calls
        assert f"iov_len={len(head_for(200_000))}}}, {{" in calls[0] and "iov_len=200000}], 2)" in calls[0]
    else:
        assert "writev" not in calls[0]  # writelines: join+send (3.11) or sendmsg (3.12+)


class Proxy:
    """Forwards everything to a uvloop transport (whose methods cannot be patched) and counts writes."""

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self.writes: list[type] = []
        self.writelines_calls: list[list[type]] = []

    def write(self, data: Any) -> None:
        self.writes.append(type(data))
        self._transport.write(data)

    def writelines(self, pieces: Any) -> None:
        pieces = list(pieces)
        self.writelines_calls.append([type(p) for p in pieces])
        self._transport.writelines(pieces)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def test_uvloop_takes_writelines_and_delivers_every_byte(wire_impl: Wire) -> None:
    """uvloop's socket wrapper is not asyncio's: no writev around it, and every byte arrives."""
    uvloop = pytest.importorskip("uvloop", reason="uvloop (test extra) is not installed")

    async def main() -> None:
        sink = Sink()
        raw_transport, client, server = await connect(sink)
        assert type(raw_transport.get_extra_info("socket")).__module__.startswith("uvloop")
        transport = Proxy(raw_transport)
        writer = wire_impl.StreamWriter(transport, client)
        body, expected = request(1 * MiB)
        writer.write_headers("POST /upload HTTP/1.1", {"Content-Length": str(len(body))})
        writer.write_eof(body)
        await asyncio.wait_for(writer.drain(), 10)
        received = await asyncio.wait_for(sink.wait_for(len(expected)), 10)
        assert hashlib.sha256(received).digest() == hashlib.sha256(expected).digest()
        if wire_impl.writer_module.WRITELINES_SAFE:
            assert (transport.writelines_calls, transport.writes) == ([[bytes, bytes]], [])
        else:
            assert (transport.writelines_calls, transport.writes) == ([], [bytes, bytes])
        raw_transport.close()
        server.close()

    loop = uvloop.new_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(main(), 20))
    finally:
        loop.close()
