"""The wire layer against real HTTP servers on loopback: nginx, Apache httpd, aiohttp, uvicorn.

Each server is started by a session fixture (``tests/support/servers.py``) on
127.0.0.1 with its own config and document root in a temp dir, and stopped at
teardown; uvicorn runs twice, once with each of its HTTP implementations
(httptools and h11).  Every request is written by the twin's ``StreamWriter``
(with ``FlowControl`` as the protocol) and every response parsed by the twin's
``ResponseParser``; the ``wire_impl`` fixture runs each case on both twins,
and the ``strict`` fixture in both parser modes: what real servers send must
pass strict mode too.

Every ``feed()`` is checked for the zero-copy contract: each body piece is a
``memoryview`` of the very bytes object fed, and a feed releases at most its
own length of body, so the parser never holds more than one feed's worth.

Outside CI a missing server is skipped with the reason; under ``CI=true`` it
is a failure, since ``.ci/run`` installs nginx and apache2.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
from collections import deque
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from support import servers
from support.servers import FILES, KiB, MiB, Server
from wirespeed import ContentDecoder, FlowControl
from wirespeed.wire import Wire

IN_CI = os.environ.get("WIRESPEED_REQUIRE_SERVERS", "") not in ("", "0")  # .ci/run sets it; CI=true alone does not
#: Seconds any single read may wait for the server; a hang fails instead of blocking the suite.
READ_TIMEOUT = 10.0
#: The only address a test connects to.
LOOPBACK = "127.0.0.1"

PYTHON_APPS = ["aiohttp", "uvicorn_httptools", "uvicorn_h11"]
ALL = ["nginx", "apache", *PYTHON_APPS]
#: Servers that take a request body: the Python apps and Apache (a CGI) echo its digest, nginx stores a PUT.
UPLOAD = ALL
#: Servers that send ``100 Continue`` before reading a body announced with ``Expect: 100-continue``
#: (nginx for a PUT it stores, Apache for its CGI).
CONTINUE = ALL


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} (CI=true: .ci/run installs it, so this is a failure)")
    pytest.skip(what)


def _binary(name: str, package: str) -> None:
    if shutil.which(name) is None and not os.path.exists(f"/usr/sbin/{name}"):
        _missing(f"{name} is not installed (Debian package {package})")


@pytest.fixture(scope="session")
def nginx_server() -> Iterator[Server]:
    _binary("nginx", "nginx")
    with servers.nginx() as server:
        yield server


@pytest.fixture(scope="session")
def apache_server() -> Iterator[Server]:
    _binary("apache2", "apache2")
    if not servers.APACHE_MODULES.is_dir():
        _missing(f"Apache modules are not in {servers.APACHE_MODULES} (Debian package apache2)")
    with servers.apache() as server:
        yield server


@pytest.fixture(scope="session")
def aiohttp_server() -> Iterator[Server]:
    with servers.python_app("aiohttp") as server:
        yield server


def _uvicorn(http: str) -> Iterator[Server]:
    if importlib.util.find_spec("uvicorn") is None:
        _missing("uvicorn is not installed (the test extra of pyproject.toml)")
    if importlib.util.find_spec(http) is None:
        _missing(f"{http}, uvicorn's HTTP implementation, is not installed (the test extra of pyproject.toml)")
    with servers.python_app("uvicorn", http) as server:
        yield server


@pytest.fixture(scope="session")
def uvicorn_httptools_server() -> Iterator[Server]:
    yield from _uvicorn("httptools")


@pytest.fixture(scope="session")
def uvicorn_h11_server() -> Iterator[Server]:
    yield from _uvicorn("h11")


@pytest.fixture(params=[False, True], ids=["lenient", "strict"])
def strict(request: pytest.FixtureRequest) -> bool:
    """The parser's mode: what real servers send must parse in strict mode too."""
    return bool(request.param)


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Server:
    """The server named by the indirect parameter; its session fixture starts it once."""
    srv: Server = request.getfixturevalue(f"{request.param}_server")
    assert srv.process is not None and srv.process.poll() is None, f"{srv.name} died\n{srv.logs()}"
    return srv


def on(names: list[str]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize("server", names, indirect=True)


# --------------------------------------------------------------------------- the client side


class Protocol(FlowControl, asyncio.Protocol):
    """Queues what arrives; ``None`` marks the end of the stream."""

    def __init__(self) -> None:
        FlowControl.__init__(self)
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.lost = asyncio.get_running_loop().create_future()

    def data_received(self, data: bytes) -> None:
        self.queue.put_nowait(data)

    def eof_received(self) -> bool:
        self.queue.put_nowait(None)
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        FlowControl.connection_lost(self, exc)
        self.queue.put_nowait(None)
        if not self.lost.done():
            self.lost.set_result(None)


@dataclass
class Message:
    """One parsed response: its head, its body, how it arrived."""

    head: Any
    end: Any = None
    body: bytearray = field(default_factory=bytearray)
    pieces: int = 0


@dataclass
class Feed:
    """One ``feed()``: the bytes fed and the body bytes it released."""

    size: int
    body: int


class Batch:
    """A transport stand-in that only collects, so several writers' requests leave in one write."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: Any) -> None:
        self.data += data

    def writelines(self, pieces: Any) -> None:
        for piece in pieces:
            self.data += piece

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default


class Client:
    """One connection: writes with the twin's StreamWriter, parses with the twin's ResponseParser."""

    def __init__(
        self, wire: Wire, server: Server, transport: Any, protocol: Protocol, strict: bool
    ) -> None:
        self.wire = wire
        self.server = server
        self.transport = transport
        self.protocol = protocol
        self.parser = wire.ResponseParser("GET", strict=strict)
        self.events: deque[Any] = deque()
        self.feeds: list[Feed] = []
        self.interim: list[Message] = []  # the 1xx messages before the last final response
        self.eof = False

    def writer(self, transport: Any = None) -> Any:
        return self.wire.StreamWriter(transport or self.transport, self.protocol)

    def head(self, method: str, target: str, headers: Sequence[tuple[str, str]] = (), transport: Any = None) -> Any:
        """A writer with the request head buffered (Host first)."""
        writer = self.writer(transport)
        writer.write_request_headers(method, target, [("Host", self.server.host), *headers])
        return writer

    async def request(
        self, method: str, target: str, headers: Sequence[tuple[str, str]] = (), body: bytes = b""
    ) -> Message:
        """Send one request (a body with Content-Length, via ``write_eof``) and parse its final response."""
        if body:
            headers = [*headers, ("Content-Length", str(len(body)))]
        writer = self.head(method, target, headers)
        writer.write_eof(body)
        await writer.drain()
        return await self.response(method)

    async def _fill(self) -> None:
        data = await asyncio.wait_for(self.protocol.queue.get(), READ_TIMEOUT)
        if data is None:
            self.eof = True
            self.events.extend(self.parser.feed_eof())
            return
        events = self.parser.feed(data)
        released = 0
        for event in events:
            if isinstance(event, memoryview):
                # Zero copy: a piece is a view of the very object fed, never empty.
                assert event.obj is data and len(event) > 0
                released += len(event)
        assert released <= len(data)
        self.feeds.append(Feed(len(data), released))
        self.events.extend(events)

    async def event(self) -> Any:
        while not self.events:
            if self.eof:
                raise AssertionError(f"{self.server.name} closed the connection mid-response")
            await self._fill()
        return self.events.popleft()

    async def message(self) -> Message:
        """The next message, interim or final."""
        head = await self.event()
        assert isinstance(head, self.wire.ResponseHead), head
        msg = Message(head)
        while True:
            event = await self.event()
            if isinstance(event, self.wire.MessageEnd):
                msg.end = event
                return msg
            assert isinstance(event, memoryview), event
            msg.body += event
            msg.pieces += 1

    async def response(self, method: str = "GET") -> Message:
        """The final response to a ``method`` request; interim 1xx heads are collected in ``interim``."""
        self.parser.method = method
        self.interim = []
        while True:
            msg = await self.message()
            if msg.head.status >= 200:
                return msg
            assert not msg.body
            self.interim.append(msg)

    async def until_eof(self) -> None:
        while not self.eof:
            await self._fill()


@contextlib.asynccontextmanager
async def connect(wire: Wire, server: Server, strict: bool) -> AsyncIterator[Client]:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_connection(Protocol, LOOPBACK, server.port)
    client = Client(wire, server, transport, protocol, strict)
    try:
        yield client
    finally:
        transport.close()
        await asyncio.wait_for(protocol.lost, READ_TIMEOUT)


def run(coro: Any) -> None:
    asyncio.run(coro)


def digest(body: bytes) -> dict[str, Any]:
    return {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}


# --------------------------------------------------------------------------- static files


@on(ALL)
def test_get_small_file(wire_impl: Wire, server: Server, strict: bool) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            r = await c.request("GET", server.static("small.txt"))
            assert r.head.status == 200 and r.head.version == (1, 1)
            assert r.head.content_length == len(FILES["small.txt"]) and not r.head.chunked
            assert bytes(r.body) == FILES["small.txt"]
            assert r.end.trailers == {} and r.head.keep_alive and not c.parser.done

    run(main())


@on(ALL)
def test_get_multi_mib_file_arrives_in_many_views_of_the_fed_data(
    wire_impl: Wire, server: Server, strict: bool
) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            r = await c.request("GET", server.static("big.bin"))
            assert r.head.status == 200 and r.head.content_length == 4 * MiB
            assert bytes(r.body) == FILES["big.bin"]
            assert r.pieces >= 4  # asyncio reads at most 256 KiB per recv
            # Past the feed that held the head, every feed released all of its
            # bytes as body at once: the parser held nothing back.
            body_feeds = [f for f in c.feeds if f.body][1:]
            assert len(body_feeds) == r.pieces - 1
            assert all(f.body == f.size for f in body_feeds)
            assert sum(f.body for f in c.feeds) == 4 * MiB

    run(main())


@on(ALL)
def test_head_has_no_body_though_content_length_is_set(
    wire_impl: Wire, server: Server, strict: bool
) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            r = await c.request("HEAD", server.static("big.bin"))
            assert r.head.status == 200 and r.head.content_length == 4 * MiB
            assert r.pieces == 0 and not r.body
            # Had the parser waited for 4 MiB, this second response would never come.
            after = await c.request("GET", server.static("small.txt"))
            assert bytes(after.body) == FILES["small.txt"]

    run(main())


@on(ALL)
def test_conditional_get_with_the_etag_gives_304(
    wire_impl: Wire, server: Server, strict: bool
) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            first = await c.request("GET", server.static("small.txt"))
            etag = first.head.headers["ETag"]
            r = await c.request("GET", server.static("small.txt"), [("If-None-Match", etag)])
            assert r.head.status == 304 and r.pieces == 0 and r.head.keep_alive
            assert r.head.headers["ETag"] == etag
            again = await c.request("GET", server.static("small.txt"))
            assert again.head.status == 200 and bytes(again.body) == FILES["small.txt"]

    run(main())


@on(ALL)
def test_missing_file_gives_404_and_the_connection_goes_on(
    wire_impl: Wire, server: Server, strict: bool
) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            r = await c.request("GET", server.static("missing.txt"))
            assert r.head.status == 404 and r.end is not None
            if r.head.content_length is not None:
                assert len(r.body) == r.head.content_length
            assert r.head.keep_alive and not c.parser.done
            after = await c.request("GET", server.static("small.txt"))
            assert after.head.status == 200

    run(main())


@on(ALL)
def test_range_request_gives_206(wire_impl: Wire, server: Server, strict: bool) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            r = await c.request("GET", server.static("big.bin"), [("Range", "bytes=1000-70999")])
            assert r.head.status == 206
            assert r.head.headers["Content-Range"] == f"bytes 1000-70999/{4 * MiB}"
            assert bytes(r.body) == FILES["big.bin"][1000:71000]

    run(main())


@on(ALL)
def test_gzip_response_decodes_to_the_file(
    wire_impl: Wire, server: Server, strict: bool
) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            r = await c.request("GET", server.gzipped("text.txt"), [("Accept-Encoding", "gzip")])
            assert r.head.status == 200
            assert r.head.headers["Content-Encoding"] == "gzip"
            # Compressed on the fly, so the length is unknown in advance.
            assert r.head.chunked and r.head.content_length is None
            assert len(r.body) < len(FILES["text.txt"]) // 2
            decoder = ContentDecoder(r.head.headers["Content-Encoding"])
            decoded = bytearray()
            for piece in decoder.feed(r.body):
                decoded += piece
            for piece in decoder.finish():
                decoded += piece
            assert decoder.done and bytes(decoded) == FILES["text.txt"]

    run(main())


# --------------------------------------------------------------------------- connection management


@on(ALL)
def test_keep_alive_several_requests_on_one_connection(
    wire_impl: Wire, server: Server, strict: bool
) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            names = ["small.txt", "text.txt", "small.txt", "big.bin", "small.txt"]
            for name in names:
                r = await c.request("GET", server.static(name))
                assert r.head.status == 200 and bytes(r.body) == FILES[name]
                assert r.head.keep_alive and not c.parser.done and c.parser.error is None
            assert not c.eof

    run(main())


@on(ALL)
def test_three_pipelined_requests_in_one_write(
    wire_impl: Wire, server: Server, strict: bool
) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            batch = Batch()
            targets = [server.static("small.txt"), server.static("missing.txt"), server.static("text.txt")]
            for target in targets:
                c.head("GET", target, transport=batch).write_eof()
            c.transport.write(bytes(batch.data))
            responses = [await c.message() for _ in targets]
            assert [r.head.status for r in responses] == [200, 404, 200]
            assert bytes(responses[0].body) == FILES["small.txt"]
            assert bytes(responses[2].body) == FILES["text.txt"]
            assert all(r.head.keep_alive for r in responses) and not c.parser.done

    run(main())


@on(ALL)
def test_connection_close_request_makes_the_server_close(
    wire_impl: Wire, server: Server, strict: bool
) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            r = await c.request("GET", server.static("small.txt"), [("Connection", "close")])
            assert r.head.status == 200 and bytes(r.body) == FILES["small.txt"]
            assert not r.head.keep_alive and c.parser.done
            await c.until_eof()
            assert c.parser.feed_eof() == []
            assert c.parser.unconsumed == b""

    run(main())


@on(PYTHON_APPS)
def test_server_chosen_close(wire_impl: Wire, server: Server, strict: bool) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            r = await c.request("GET", "/close")
            assert r.head.status == 200 and bytes(r.body) == b"closing"
            assert not r.head.keep_alive and c.parser.done
            await c.until_eof()
            assert c.parser.feed_eof() == [] and c.parser.unconsumed == b""

    run(main())


@on(PYTHON_APPS)
def test_chunked_streaming_response(wire_impl: Wire, server: Server, strict: bool) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            r = await c.request("GET", "/stream?pieces=40&size=10000")
            assert r.head.status == 200 and r.head.chunked and r.head.content_length is None
            assert bytes(r.body) == b"".join(bytes([0x61 + i % 26]) * 10000 for i in range(40))
            assert r.end.trailers == {} and r.head.keep_alive
            again = await c.request("GET", "/stream?pieces=1&size=5")
            assert bytes(again.body) == b"aaaaa"

    run(main())


@on(["nginx", *PYTHON_APPS])
def test_204_has_no_body(wire_impl: Wire, server: Server, strict: bool) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            r = await c.request("GET", "/empty")
            assert r.head.status == 204 and r.pieces == 0 and r.head.keep_alive
            after = await c.request("GET", server.static("small.txt"))
            assert bytes(after.body) == FILES["small.txt"]

    run(main())


@on(["aiohttp"])
def test_interim_103_then_the_final_response(
    wire_impl: Wire, server: Server, strict: bool
) -> None:
    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            r = await c.request("GET", "/hints")
            assert [m.head.status for m in c.interim] == [103]
            assert c.interim[0].head.headers["Link"] == "</static/small.txt>; rel=preload"
            assert r.head.status == 200 and bytes(r.body) == b"after hints"

    run(main())


# --------------------------------------------------------------------------- request bodies


async def upload(c: Client, name: str, send: Any) -> None:
    """Send a body with ``send(client, method, target)`` and check that the server got exactly ``FILES[name]``.

    The Python apps and Apache's CGI answer the body's digest; nginx stores a
    PUT (WebDAV) and the test reads it back.
    """
    body = FILES[name]
    server = c.server
    if server.echo_path is not None:
        await send(c, "POST", server.echo_path)
        r = await c.response("POST")
        assert r.head.status == 200, bytes(r.body)
        assert json.loads(bytes(r.body)) == digest(body)
    else:
        target = f"/upload/{c.wire.IMPLEMENTATION}-{os.urandom(4).hex()}-{name}"
        await send(c, "PUT", target)
        r = await c.response("PUT")
        assert r.head.status in (201, 204), bytes(r.body)
        back = await c.request("GET", target)
        assert back.head.status == 200 and bytes(back.body) == body


@on(UPLOAD)
def test_post_with_a_body_via_write_eof(
    wire_impl: Wire, server: Server, strict: bool
) -> None:
    async def send(c: Client, method: str, target: str) -> None:
        body = FILES["big.bin"]
        writer = c.head(method, target, [("Content-Length", str(len(body)))])
        writer.write_eof(body)
        await writer.drain()

    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            await upload(c, "big.bin", send)

    run(main())


@on(UPLOAD)
def test_chunked_post_via_enable_chunking(
    wire_impl: Wire, server: Server, strict: bool
) -> None:
    async def send(c: Client, method: str, target: str) -> None:
        body = FILES["text.txt"]
        writer = c.head(method, target, [("Transfer-Encoding", "chunked")])
        writer.enable_chunking()
        for start in range(0, len(body), 64 * KiB):
            writer.write(body[start:start + 64 * KiB])
            await writer.drain()
        writer.write_eof()
        await writer.drain()

    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            await upload(c, "text.txt", send)

    run(main())


@on(CONTINUE)
def test_expect_100_continue_interim_head_then_the_final_response(
    wire_impl: Wire, server: Server, strict: bool
) -> None:
    async def send(c: Client, method: str, target: str) -> None:
        body = FILES["small.txt"]
        writer = c.head(method, target, [("Content-Length", str(len(body))), ("Expect", "100-continue")])
        writer.send_headers()
        await writer.drain()
        # The server asks for the body before it gets a byte of it.
        c.parser.method = method
        interim = await c.message()
        assert interim.head.status == 100 and interim.pieces == 0 and interim.end is not None
        assert not c.parser.done
        writer.write_eof(body)
        await writer.drain()

    async def main() -> None:
        async with connect(wire_impl, server, strict) as c:
            await upload(c, "small.txt", send)

    run(main())
