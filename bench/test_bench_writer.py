"""Writer benchmarks: wirespeed's twins against aiohttp's StreamWriter and h11, each driven as its client drives it.

Run with ``.venv/bin/python -m pytest --benchmark bench/test_bench_writer.py``;
instruction counts: ``bench/callgrind.py`` (docs/writer.md).

Each group writes one request onto a counting transport, with a writer
created per request and headers given as a 5-item CIMultiDict, so the figures
are per request as a client pays them:

- ``writer: small GET``       head only;
- ``writer: 200-byte POST``   head and a 200-byte body;
- ``writer: chunked POST (10 x 1 KiB)``   head, ten 1 KiB chunks, the terminator.

Every contender is driven through the calls its own client makes, in a
coroutine per request (the comment beside each driver names the file and
line it mirrors; aiohttp 3.14.5 and httpcore 1.0.9 as installed):

- aiohttp: ``StreamWriter(protocol, loop)``, the status line formatted as
  its client formats it, ``await write_headers()``, then ``set_eof()`` for a
  body-less request, or ``await write(body)`` per piece and ``await write_eof()``;
- wirespeed: ``write_request_headers()``, then ``write_eof()`` for a GET, or
  ``write_eof(body)`` / ``write(piece)`` and ``await drain()`` after a body
  (the writer's only flow-control check, where aiohttp checks inside ``write``);
- h11: one ``Connection`` per request (it takes a new request only after a
  response), each event sent as httpcore sends it, its bytes to the transport.

Every contender runs the same way: a round is ``loop.run_until_complete`` of
one coroutine that awaits ``N`` request coroutines on a real asyncio event
loop, with ``N`` chosen per contender so that every contender's round lasts
about as long (``bench/_rounds.py`` says why); ``bench/table.py`` divides
each round by its ``N``.

The ``writer: coalesce N`` groups measure the coalescing threshold
(docs/writer.md): the same POST with an N-byte body through a real loopback
socket, joined into one buffer (``join``) or sent as pieces (``vectored``:
the C twin's writev, the Python twin's writelines).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
from multidict import CIMultiDict

from _rounds import calibrate
from wirespeed import wire
from wirespeed.testing import CountingTransport
from wirespeed.wire import FlowControl

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
CHUNKS = [b"c" * 1024] * 10

Request = Callable[[], Coroutine[Any, Any, None]]
CASES = ["get", "post", "chunked"]
# bytes each case puts on the wire, the same for every contender
EXPECTED_BYTES = {"get": 143, "post": 361, "chunked": 10483}


# -- the contenders: each returns (get, post, chunked) request coroutines over one transport --


def wirespeed_cases(impl: str, t: CountingTransport, loop: asyncio.AbstractEventLoop) -> tuple[Request, ...]:
    try:
        StreamWriter = wire.load(impl).StreamWriter  # type: ignore[arg-type]  # noqa: N806
    except ImportError:
        pytest.fail(f"the {impl} twin is not built")
    protocol = FlowControl()

    async def get() -> None:
        w = StreamWriter(t, protocol)
        w.write_request_headers("GET", "/index.html", HEADERS)
        w.write_eof()  # head alone: one transport call, nothing to wait for

    async def post() -> None:
        w = StreamWriter(t, protocol)
        w.write_request_headers("POST", "/submit", POST_HEADERS)
        w.write_eof(BODY_200)  # head and body: one transport call
        await w.drain()

    async def chunked() -> None:
        w = StreamWriter(t, protocol)
        w.write_request_headers("POST", "/upload", CHUNKED_HEADERS)
        w.enable_chunking()
        for chunk in CHUNKS:
            w.write(chunk)
            await w.drain()
        w.write_eof()
        await w.drain()

    return get, post, chunked


def aiohttp_cases(t: CountingTransport, loop: asyncio.AbstractEventLoop) -> tuple[Request, ...]:
    from aiohttp import http_writer
    from aiohttp.client_proto import ResponseHandler
    from aiohttp.http import HttpVersion11

    assert http_writer._serialize_headers is getattr(http_writer, "_c_serialize_headers", None), (
        "aiohttp's C header serialiser is not in use"
    )
    protocol = ResponseHandler(loop)  # the client's protocol; the writer reads .transport and ._paused
    protocol.transport = t  # type: ignore[assignment]
    StreamWriter = http_writer.StreamWriter  # noqa: N806
    v = HttpVersion11

    # aiohttp 3.14.5 aiohttp/client_reqrep.py, ClientRequest.send (:1643) and write_bytes (:1538)
    async def get() -> None:
        w = StreamWriter(protocol, loop, on_chunk_sent=None, on_headers_sent=None)  # :1659
        status_line = f"GET /index.html HTTP/{v.major}.{v.minor}"  # :1700
        await w.write_headers(status_line, HEADERS)  # :1703
        w.set_eof()  # :1732, no body: the head alone, no write_eof

    async def post() -> None:
        w = StreamWriter(protocol, loop, on_chunk_sent=None, on_headers_sent=None)  # :1659
        status_line = f"POST /submit HTTP/{v.major}.{v.minor}"  # :1700
        await w.write_headers(status_line, POST_HEADERS)  # :1703
        # write_bytes :1593 -> payload.py:415 BytesPayload.write_with_length -> writer.write
        await w.write(BODY_200)
        await w.write_eof()  # :1621

    async def chunked() -> None:
        w = StreamWriter(protocol, loop, on_chunk_sent=None, on_headers_sent=None)  # :1659
        w.enable_chunking()  # :1678
        status_line = f"POST /upload HTTP/{v.major}.{v.minor}"  # :1700
        await w.write_headers(status_line, CHUNKED_HEADERS)  # :1703
        # write_bytes :1593 -> payload.py:1055 AsyncIterablePayload.write_with_length: one write per chunk
        for chunk in CHUNKS:
            await w.write(chunk)
        await w.write_eof()  # :1621

    return get, post, chunked


def h11_cases(t: CountingTransport, loop: asyncio.AbstractEventLoop) -> tuple[Request, ...]:
    import h11

    get_headers = list(HEADERS.items())
    post_headers = list(POST_HEADERS.items())
    chunked_headers = list(CHUNKED_HEADERS.items())

    # httpcore 1.0.9 httpcore/_async/http11.py: _send_request_headers (:139-150),
    # _send_request_body (:152-161), _send_event (:163-166)
    async def send_event(c: h11.Connection, event: Any) -> None:
        data = c.send(event)
        if data is not None:
            t.write(data)

    async def get() -> None:
        c = h11.Connection(h11.CLIENT)
        await send_event(c, h11.Request(method="GET", target="/index.html", headers=get_headers))
        await send_event(c, h11.EndOfMessage())

    async def post() -> None:
        c = h11.Connection(h11.CLIENT)
        await send_event(c, h11.Request(method="POST", target="/submit", headers=post_headers))
        await send_event(c, h11.Data(data=BODY_200))
        await send_event(c, h11.EndOfMessage())

    async def chunked() -> None:
        c = h11.Connection(h11.CLIENT)
        await send_event(c, h11.Request(method="POST", target="/upload", headers=chunked_headers))
        for chunk in CHUNKS:
            await send_event(c, h11.Data(data=chunk))
        await send_event(c, h11.EndOfMessage())

    return get, post, chunked


CONTESTANTS = ["wirespeed-c", "wirespeed-python", "aiohttp", "h11"]


def floor_cases(t: CountingTransport, loop: asyncio.AbstractEventLoop) -> tuple[Request, ...]:
    """No writer: the request's bytes, prebuilt, to the transport.  What the harness itself costs."""
    import h11

    def wire_bytes(headers: Any, target: str, events: list[Any]) -> list[bytes]:
        c = h11.Connection(h11.CLIENT)
        out = [c.send(h11.Request(method="POST" if events else "GET", target=target, headers=list(headers.items())))]
        return out + [c.send(e) for e in events] + [c.send(h11.EndOfMessage())]

    get_bytes = b"".join(wire_bytes(HEADERS, "/index.html", []))
    post_bytes = b"".join(wire_bytes(POST_HEADERS, "/submit", [h11.Data(data=BODY_200)]))
    pieces = wire_bytes(CHUNKED_HEADERS, "/upload", [h11.Data(data=c) for c in CHUNKS])
    chunked_pieces = [pieces[0] + pieces[1], *pieces[2:-1], pieces[-1]]

    async def get() -> None:
        t.write(get_bytes)

    async def post() -> None:
        t.write(post_bytes)

    async def chunked() -> None:
        for piece in chunked_pieces:
            t.write(piece)

    return get, post, chunked


def contender_cases(name: str, t: CountingTransport, loop: asyncio.AbstractEventLoop) -> tuple[Request, ...]:
    """The request coroutines of one of ``CONTESTANTS``, or of ``"floor"`` (the harness alone)."""
    if name == "floor":
        return floor_cases(t, loop)
    if name.startswith("wirespeed-"):
        return wirespeed_cases(name.split("-")[1], t, loop)
    if name == "aiohttp":
        return aiohttp_cases(t, loop)
    if name == "h11":
        return h11_cases(t, loop)
    raise ValueError(name)


def make_round(
    name: str, case: str, loop: asyncio.AbstractEventLoop
) -> tuple[Callable[[int], None], CountingTransport]:
    """``run(n)``: one round, ``n`` requests of ``case`` by ``name`` on ``loop``; and the transport."""
    t = CountingTransport()
    request = contender_cases(name, t, loop)[CASES.index(case)]

    async def requests(n: int) -> None:
        for _ in range(n):
            await request()

    def run(n: int) -> None:
        loop.run_until_complete(requests(n))

    return run, t


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(params=CONTESTANTS)
def contender(request: pytest.FixtureRequest) -> str:
    return request.param  # type: ignore[no-any-return]


def _bench(benchmark: Any, loop: asyncio.AbstractEventLoop, name: str, case: str) -> None:
    run, t = make_round(name, case, loop)
    run(1)  # every byte of one request reaches the transport before the timing starts
    assert t.size == EXPECTED_BYTES[case], (name, case, t.size)
    n = calibrate(run)
    benchmark.extra_info["per_round"] = n
    benchmark.extra_info["unit"] = "request"
    benchmark(run, n)


@pytest.mark.benchmark(group="writer: small GET")
def test_small_get(benchmark: Any, loop: asyncio.AbstractEventLoop, contender: str) -> None:
    _bench(benchmark, loop, contender, "get")


@pytest.mark.benchmark(group="writer: 200-byte POST")
def test_post_200(benchmark: Any, loop: asyncio.AbstractEventLoop, contender: str) -> None:
    _bench(benchmark, loop, contender, "post")


@pytest.mark.benchmark(group="writer: chunked POST (10 x 1 KiB)")
def test_chunked_post(benchmark: Any, loop: asyncio.AbstractEventLoop, contender: str) -> None:
    _bench(benchmark, loop, contender, "chunked")


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
    StreamWriter = wire.load(impl).StreamWriter  # type: ignore[arg-type]
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


