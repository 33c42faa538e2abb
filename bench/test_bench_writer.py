"""Writer benchmarks: wirespeed's twins against aiohttp's StreamWriter and h11.

Run with ``.venv/bin/python -m pytest --benchmark bench/test_bench_writer.py``.

Each group serialises and writes one message onto a counting transport, with
a writer created per request and headers given as a 5-item CIMultiDict, so
the figures are per request as a client pays them:

- ``writer: small GET``       head only;
- ``writer: 200-byte POST``   head and a 200-byte body given at EOF;
- ``writer: chunked POST``    head, ten 1 KiB chunks, the terminator.

aiohttp's writer is async (``write_headers``/``write``/``write_eof`` are
coroutines that never suspend here); it is driven with ``coro.send(None)``,
the cheapest way to run a coroutine that completes at once, and it needs a
protocol and a loop: an ``aiohttp.base_protocol.BaseProtocol`` whose
transport is the counting one.

The ``writer: coalesce N`` groups measure the coalescing threshold
(docs/writer.md): the same POST with an N-byte body through a real loopback
socket, joined into one buffer (``join``) or sent as pieces (``vectored``:
the C twin's writev, the Python twin's writelines).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from multidict import CIMultiDict

from wirespeed import wire
from wirespeed.testing import CountingTransport

HEADERS = CIMultiDict(
    [
        ("Host", "example.com"),
        ("User-Agent", "wirespeed/0.1"),
        ("Accept", "*/*"),
        ("Accept-Encoding", "gzip, deflate"),
        ("Connection", "keep-alive"),
    ]
)
POST_HEADERS = CIMultiDict(HEADERS, **{"Content-Length": "200"})
CHUNKED_HEADERS = CIMultiDict(HEADERS, **{"Transfer-Encoding": "chunked"})
BODY_200 = b"p" * 200
CHUNK = b"c" * 1024


def _run(coro: Any) -> None:
    try:
        coro.send(None)
    except StopIteration:
        return
    raise AssertionError("the coroutine suspended")


# -- the contestants: each returns (get, post, chunked) closures over one transport --------


def wirespeed_cases(impl: str, t: CountingTransport) -> tuple[Callable[[], None], ...]:
    try:
        StreamWriter = wire.load(impl).StreamWriter
    except ImportError:
        pytest.fail(f"the {impl} twin is not built")

    def get() -> None:
        w = StreamWriter(t)
        w.write_headers("GET /index.html HTTP/1.1", HEADERS)
        w.write_eof()

    def post() -> None:
        w = StreamWriter(t)
        w.write_headers("POST /submit HTTP/1.1", POST_HEADERS)
        w.write_eof(BODY_200)

    def chunked() -> None:
        w = StreamWriter(t)
        w.write_headers("POST /upload HTTP/1.1", CHUNKED_HEADERS)
        w.enable_chunking()
        for _ in range(10):
            w.write(CHUNK)
        w.write_eof()

    return get, post, chunked


def aiohttp_cases(t: CountingTransport) -> tuple[Callable[[], None], ...]:
    from aiohttp import http_writer
    from aiohttp.base_protocol import BaseProtocol

    assert http_writer._serialize_headers is getattr(http_writer, "_c_serialize_headers", None), (
        "aiohttp's C header serialiser is not in use"
    )
    loop = asyncio.new_event_loop()
    protocol = BaseProtocol(loop)
    protocol.transport = t  # type: ignore[assignment]
    StreamWriter = http_writer.StreamWriter

    def get() -> None:
        w = StreamWriter(protocol, loop)
        _run(w.write_headers("GET /index.html HTTP/1.1", HEADERS))
        _run(w.write_eof())

    def post() -> None:
        w = StreamWriter(protocol, loop)
        _run(w.write_headers("POST /submit HTTP/1.1", POST_HEADERS))
        _run(w.write_eof(BODY_200))

    def chunked() -> None:
        w = StreamWriter(protocol, loop)
        w.enable_chunking()
        _run(w.write_headers("POST /upload HTTP/1.1", CHUNKED_HEADERS))
        for _ in range(10):
            _run(w.write(CHUNK))
        _run(w.write_eof())

    get.close_loop = loop.close  # type: ignore[attr-defined]
    return get, post, chunked


def h11_cases(t: CountingTransport) -> tuple[Callable[[], None], ...]:
    import h11

    get_headers = list(HEADERS.items())
    post_headers = list(POST_HEADERS.items())
    chunked_headers = list(CHUNKED_HEADERS.items())

    def get() -> None:
        c = h11.Connection(h11.CLIENT)
        t.write(c.send(h11.Request(method="GET", target="/index.html", headers=get_headers)))
        c.send(h11.EndOfMessage())

    def post() -> None:
        c = h11.Connection(h11.CLIENT)
        t.write(c.send(h11.Request(method="POST", target="/submit", headers=post_headers)))
        t.write(c.send(h11.Data(data=BODY_200)))
        c.send(h11.EndOfMessage())

    def chunked() -> None:
        c = h11.Connection(h11.CLIENT)
        t.write(c.send(h11.Request(method="POST", target="/upload", headers=chunked_headers)))
        for _ in range(10):
            t.write(c.send(h11.Data(data=CHUNK)))
        t.write(c.send(h11.EndOfMessage()))

    return get, post, chunked


CONTESTANTS = ["wirespeed-c", "wirespeed-python", "aiohttp", "h11"]


@pytest.fixture(params=CONTESTANTS)
def cases(request: pytest.FixtureRequest) -> Iterator[tuple[Callable[[], None], ...]]:
    t = CountingTransport()
    name = request.param
    if name.startswith("wirespeed-"):
        yield wirespeed_cases(name.split("-")[1], t)
    elif name == "aiohttp":
        fns = aiohttp_cases(t)
        yield fns
        fns[0].close_loop()  # type: ignore[attr-defined]
    else:
        yield h11_cases(t)


@pytest.mark.benchmark(group="writer: small GET")
def test_small_get(benchmark: Any, cases: tuple[Callable[[], None], ...]) -> None:
    benchmark(cases[0])


@pytest.mark.benchmark(group="writer: 200-byte POST")
def test_post_200(benchmark: Any, cases: tuple[Callable[[], None], ...]) -> None:
    benchmark(cases[1])


@pytest.mark.benchmark(group="writer: chunked POST (10 x 1 KiB)")
def test_chunked_post(benchmark: Any, cases: tuple[Callable[[], None], ...]) -> None:
    benchmark(cases[2])


# -- the coalescing threshold ----------------------------------------------------------------


class Loopback:
    """A client transport on 127.0.0.1 with a thread that reads and discards everything."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        listener = socket.create_server(("127.0.0.1", 0))
        client = socket.create_connection(listener.getsockname())
        self.peer, _ = listener.accept()
        listener.close()
        self.reader = threading.Thread(target=self._discard, daemon=True)
        self.reader.start()
        self.transport, _ = self.loop.run_until_complete(
            self.loop.create_connection(asyncio.Protocol, sock=client)
        )

    def _discard(self) -> None:
        while self.peer.recv(1 << 20):
            pass

    def settle(self) -> None:
        """Let the loop flush the transport when the socket was full (rare)."""
        while self.transport.get_write_buffer_size():
            self.loop.run_until_complete(asyncio.sleep(0.0005))

    def close(self) -> None:
        self.transport.close()
        self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()
        self.reader.join()
        self.peer.close()


@pytest.fixture(scope="module")
def loopback() -> Iterator[Loopback]:
    lb = Loopback()
    yield lb
    lb.close()


COALESCE_SIZES = [1024, 2048, 4096, 8192, 16384, 65536]


@pytest.mark.parametrize("impl", ["c", "python"])
@pytest.mark.parametrize("path", ["join", "vectored"])
@pytest.mark.parametrize("size", COALESCE_SIZES)
def test_coalesce(benchmark: Any, loopback: Loopback, impl: str, path: str, size: int) -> None:
    benchmark.group = f"writer: coalesce {size} B body on loopback"
    StreamWriter = wire.load(impl).StreamWriter
    limit = 1 << 30 if path == "join" else 0
    body = b"v" * size
    headers = CIMultiDict(HEADERS, **{"Content-Length": str(size)})
    transport = loopback.transport

    def post() -> None:
        w = StreamWriter(transport, coalesce_limit=limit)
        w.write_headers("POST /upload HTTP/1.1", headers)
        w.write_eof(body)
        loopback.settle()

    benchmark(post)


def main(argv: list[str]) -> None:
    """``python bench/test_bench_writer.py {c,python,aiohttp,h11} {get,post,chunked} N``: run one case N times.

    For instruction counts, which do not vary between runs the way timings do:
    run under ``valgrind --tool=callgrind`` with two values of N and divide
    the difference in instructions by the difference in N (docs/writer.md).
    """
    who, case, n = argv[0], argv[1], int(argv[2])
    t = CountingTransport()
    if who == "aiohttp":
        fns = aiohttp_cases(t)
    elif who == "h11":
        fns = h11_cases(t)
    else:
        fns = wirespeed_cases(who, t)
    fn = fns[["get", "post", "chunked"].index(case)]
    for _ in range(n):
        fn()


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
