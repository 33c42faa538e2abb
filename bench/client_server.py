"""The embedded HTTP/1.1 server the client benchmarks talk to.

A keep-alive server on 127.0.0.1 that does as little as possible per request,
so that it is never what a client waits on: an asyncio Protocol (on uvloop
when installed) that splits requests on CRLFCRLF, skips a POST's
Content-Length body (or a chunked one, up to its last chunk) and answers
canned bytes:

- ``GET /small`` and ``POST /small``: 200 with 13 typical headers and a
  27-byte JSON body (the parser benchmarks' small response);
- ``GET /big``: 200 with a 10 MiB body (``BIG_SIZE``), written from one
  preallocated buffer;
- ``GET /__stats``: the server's own CPU time (user + sys, seconds), the
  number of requests it answered and of connections it accepted, so a client
  run can tell how busy the server was while it was timed and whether the
  client kept its connections.

It runs in its own process (``start()``; or ``python bench/client_server.py``,
which prints ``PORT <n>`` and serves until stdin closes), so its CPU is not
counted in the client's.  The constants below are what the contenders and the
bare-protocol limit expect to read back.
"""

from __future__ import annotations

import asyncio
import os
import resource
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

JSON_BODY = b'{"ok":true,"items":[1,2,3]}'
SMALL_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Date: Tue, 01 Dec 2026 04:31:01 GMT\r\n"
    b"Server: nginx/1.25.3\r\n"
    b"Content-Type: application/json; charset=utf-8\r\n"
    b"Content-Length: %d\r\n"
    b"Connection: keep-alive\r\n"
    b"Cache-Control: no-cache, private\r\n"
    b"Vary: Accept-Encoding\r\n"
    b"X-Request-Id: 7f3a9c2e-1b4d-4e8f-9a6b-2c5d8e1f0a3b\r\n"
    b'ETag: "33a64df551425fcc55e4d42a148795d9f25f89d4"\r\n'
    b"Strict-Transport-Security: max-age=31536000\r\n"
    b"X-Frame-Options: DENY\r\n"
    b"Access-Control-Allow-Origin: *\r\n"
    b"\r\n"
) % len(JSON_BODY) + JSON_BODY

BIG_SIZE = 10 * 1024 * 1024
BIG_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Date: Tue, 01 Dec 2026 04:31:01 GMT\r\n"
    b"Server: nginx/1.25.3\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Content-Length: %d\r\n"
    b"Connection: keep-alive\r\n"
    b"\r\n"
) % BIG_SIZE
BIG_RESPONSE_SIZE = len(BIG_HEAD) + BIG_SIZE
_BIG_BODY = memoryview(bytes(range(256)) * (BIG_SIZE // 256))

NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n"

_CONTENT_LENGTH = b"\r\ncontent-length:"
_CHUNKED = b"\r\ntransfer-encoding: chunked"
_LAST_CHUNK = b"\r\n0\r\n\r\n"


class _State:
    requests = 0
    connections = 0


def _stats_response() -> bytes:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    body = b"%.6f %d %d" % (ru.ru_utime + ru.ru_stime, _State.requests, _State.connections)
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n%s" % (len(body), body)


class BenchServer(asyncio.Protocol):
    """One connection: requests are split on CRLFCRLF, answered in order."""

    __slots__ = ("transport", "buf")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buf = b""
        _State.connections += 1

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        pos = 0
        out = []
        while True:
            end = buf.find(b"\r\n\r\n", pos)
            if end < 0:
                break
            head_end = end + 4
            if buf.startswith(b"GET ", pos):
                body_end = head_end
            else:
                # A request with a body (POST): Content-Length or chunked.
                head = buf[pos:head_end].lower()
                i = head.find(_CONTENT_LENGTH)
                if i >= 0:
                    j = head.index(b"\r\n", i + 2)
                    body_end = head_end + int(head[i + len(_CONTENT_LENGTH) : j])
                elif _CHUNKED in head:
                    k = buf.find(_LAST_CHUNK, head_end - 2)
                    if k < 0:
                        break
                    body_end = k + len(_LAST_CHUNK)
                else:
                    body_end = head_end
                if body_end > len(buf):
                    break
            sp = buf.index(b" ", pos)
            target = buf[sp + 1 : buf.index(b" ", sp + 1)]
            _State.requests += 1
            if target == b"/small":
                out.append(SMALL_RESPONSE)
            elif target == b"/big":
                out.append(BIG_HEAD)
                out.append(_BIG_BODY)
            elif target == b"/__stats":
                out.append(_stats_response())
            else:
                out.append(NOT_FOUND)
            pos = body_end
        self.buf = buf[pos:] if pos < len(buf) else b""
        if len(out) == 1:
            self.transport.write(out[0])
        elif out:
            self.transport.writelines(out)


def serve(port: int = 0) -> None:
    """Serve on 127.0.0.1:port until stdin reaches EOF; print ``PORT <n>`` once listening."""
    try:
        import uvloop

        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(1024)
    server = loop.run_until_complete(loop.create_server(BenchServer, sock=sock, backlog=1024))
    stop = loop.create_future()

    def stdin_readable() -> None:
        if not os.read(sys.stdin.fileno(), 1024) and not stop.done():
            stop.set_result(None)

    loop.add_reader(sys.stdin.fileno(), stdin_readable)
    print(f"PORT {sock.getsockname()[1]}", flush=True)
    try:
        loop.run_until_complete(stop)
    finally:
        server.close()
        loop.close()


@dataclass
class Server:
    """A running server process: ``url`` is ``http://127.0.0.1:<port>``."""

    process: subprocess.Popen[str]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def start() -> Iterator[Server]:
    """Start a server in a child process; stop it on exit."""
    process = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        yield Server(process, int(line.split()[1]))
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def stats(port: int) -> tuple[float, int, int]:
    """The server's CPU seconds, requests and connections so far (one blocking request)."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET /__stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += s.recv(4096)
    cpu, requests, connections = body.split()
    return float(cpu), int(requests), int(connections)


if __name__ == "__main__":
    serve(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
