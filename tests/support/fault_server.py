"""A scripted raw-socket server for the client's failure tests: it misbehaves on purpose.

Real servers answer correctly; the client must also survive servers that do
not.  A :class:`FaultServer` listens on 127.0.0.1 and runs one *script* per
accepted connection: an ``async def script(conn)`` that reads from and writes
to a :class:`Conn` (raw bytes, no HTTP library), so a test says exactly what
goes on the wire: respond then close, reset, truncate, stall, drip, send
garbage after a response, close a kept-alive connection between requests,
answer early while the client is still sending, interim 1xx responses,
read-until-close bodies...

Every byte the server reads is recorded per connection (``conn.received``),
and ``server.accepted`` counts connections, so a test can assert what the
client sent, and on how many connections.  A script reads only what it asks
for (the kernel's buffers apart), so a client that keeps sending meets
backpressure; scripts that must see everything the client sends end with
``read_until_eof`` or ``stall``.

The servers run on their own event loop in a daemon thread
(:class:`FaultLoop`, one per test session), not on the loop under test: the
client's loop (asyncio's or uvloop's) has only the client's tasks, a client
that blocks its loop cannot stall the server, and a test may compare
``asyncio.all_tasks()`` before and after.  From the test's loop,
``await server.finished()`` waits for every script to end; the fixture closes
the listener and every connection at teardown.

:func:`backlog_full` is the local stand-in for an unroutable address: a
listening socket that never accepts, whose one-slot queue is already full, so
a new connection's SYN is dropped and ``connect()`` hangs until it times out.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import select
import socket
import struct
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

#: How long a test waits for the scripts to end before it is a failure.
FINISH_TIMEOUT = 10.0
#: How long a read in a script may wait by default (a script never blocks a run forever).
READ_TIMEOUT = 10.0

Script = Callable[["Conn"], Awaitable[None]]


class FaultLoop:
    """An asyncio event loop running in a daemon thread, for the fault servers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="fault-server-loop", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> FaultLoop:
        self.thread.start()
        return self

    def submit(self, coro: Awaitable[Any]) -> concurrent.futures.Future[Any]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)  # type: ignore[arg-type]

    def call(self, coro: Awaitable[Any], timeout: float = FINISH_TIMEOUT) -> Any:
        """Run ``coro`` on the server loop and wait for it from a thread (not from a running loop)."""
        return self.submit(coro).result(timeout)

    def stop(self) -> None:
        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            self.call(cancel_all(), timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()


@dataclass
class Request:
    """A request as the server read it: raw head, parsed start line and fields, the body."""

    head: bytes
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


class Conn:
    """One accepted connection, as a script sees it.  Everything read is appended to ``received``."""

    def __init__(self, index: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.index = index
        self.reader = reader
        self.writer = writer
        self.received = bytearray()
        self.sent = bytearray()
        self.eof = False  # the client closed its side (a read returned b"")
        self.requests: list[Request] = []

    # -- reading

    async def _timed(self, aw: Awaitable[Any], timeout: float | None) -> Any:
        return await asyncio.wait_for(aw, READ_TIMEOUT if timeout is None else timeout)

    async def read(self, n: int = 65536, timeout: float | None = None) -> bytes:
        """Up to ``n`` bytes; ``b""`` at EOF."""
        data = await self._timed(self.reader.read(n), timeout)
        if not data:
            self.eof = True
        self.received += data
        return data

    async def read_exactly(self, n: int, timeout: float | None = None) -> bytes:
        try:
            data = await self._timed(self.reader.readexactly(n), timeout)
        except asyncio.IncompleteReadError as exc:
            self.received += exc.partial
            self.eof = True
            raise
        self.received += data
        return data

    async def read_head(self, timeout: float | None = None) -> bytes:
        """A request head, up to and including the blank line."""
        try:
            data = await self._timed(self.reader.readuntil(b"\r\n\r\n"), timeout)
        except asyncio.IncompleteReadError as exc:
            self.received += exc.partial
            self.eof = True
            raise
        self.received += data
        return data

    async def read_request(self, timeout: float | None = None) -> Request:
        """A whole request: the head, then a Content-Length or chunked body (no trailers kept)."""
        head = await self.read_head(timeout)
        lines = head.decode("latin-1").split("\r\n")
        method, target, version = lines[0].split(" ", 2)
        headers = []
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers.append((name, value.strip()))
        request = Request(head, method, target, version, headers)
        if (request.header("transfer-encoding") or "").lower() == "chunked":
            request.body = await self._read_chunked(timeout)
        elif request.header("content-length"):
            request.body = await self.read_exactly(int(request.header("content-length") or 0), timeout)
        self.requests.append(request)
        return request

    async def _read_chunked(self, timeout: float | None) -> bytes:
        body = bytearray()
        while True:
            line = await self._timed(self.reader.readuntil(b"\r\n"), timeout)
            self.received += line
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while (line := await self._timed(self.reader.readuntil(b"\r\n"), timeout)) != b"\r\n":
                    self.received += line  # a trailer field
                self.received += line
                return bytes(body)
            body += await self.read_exactly(size + 2, timeout)
            del body[-2:]

    async def read_until_eof(self, timeout: float | None = None) -> bytes:
        """Everything until the client closes its side; stops quietly after ``timeout`` (None: READ_TIMEOUT)."""
        out = bytearray()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (READ_TIMEOUT if timeout is None else timeout)
        while True:
            left = deadline - loop.time()
            if left <= 0:
                return bytes(out)
            try:
                data = await self.read(256 * 1024, timeout=left)
            except (asyncio.TimeoutError, ConnectionError):
                return bytes(out)
            if not data:
                return bytes(out)
            out += data

    async def stall(self) -> None:
        """Never answer; keep recording what arrives until the client goes away (or the test ends)."""
        while not self.eof:
            try:
                if not await self.read(256 * 1024, timeout=3600):
                    return
            except ConnectionError:
                return

    # -- writing

    def write(self, data: bytes) -> None:
        self.sent += data
        self.writer.write(data)

    async def send(self, data: bytes) -> None:
        """Write and wait for the kernel to take it (a client that does not read makes this wait)."""
        self.write(data)
        await self.writer.drain()

    async def drip(self, data: bytes, *, step: int = 1, delay: float = 0.01) -> None:
        """``data`` ``step`` bytes at a time, ``delay`` seconds apart."""
        for i in range(0, len(data), step):
            await self.send(data[i:i + step])
            await asyncio.sleep(delay)

    # -- ending

    async def close(self) -> None:
        """A graceful close: what was written is sent, then FIN."""
        if self.writer.is_closing():
            return
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()

    def shutdown_write(self) -> None:
        """Half-close: FIN after what was written; the server may keep reading."""
        if self.writer.can_write_eof():
            self.writer.write_eof()

    def reset(self) -> None:
        """An abortive close: RST instead of FIN (SO_LINGER with a zero timeout)."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


ScriptSpec = Script | Sequence[Script]


@dataclass
class FaultServer:
    """A listener on 127.0.0.1 whose connection ``i`` runs ``script[i]`` (or ``script`` for all)."""

    fault_loop: FaultLoop
    script: ScriptSpec | None = None
    port: int = 0
    connections: list[Conn] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    _server: asyncio.AbstractServer | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _gate: asyncio.Event | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def accepted(self) -> int:
        """How many connections the server has accepted."""
        return len(self.connections)

    def received(self, index: int | None = None) -> bytes:
        """What connection ``index`` sent (every connection's bytes, in order, when None)."""
        if index is None:
            return b"".join(bytes(c.received) for c in self.connections)
        return bytes(self.connections[index].received)

    def requests(self) -> list[Request]:
        """Every request a script read with ``read_request``, in order of connections."""
        return [r for c in self.connections for r in c.requests]

    def _script_for(self, index: int) -> Script | None:
        if self.script is None or callable(self.script):
            return self.script  # type: ignore[return-value]
        return self.script[index] if index < len(self.script) else None

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(len(self.connections), reader, writer)
        self.connections.append(conn)
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            script = self._script_for(conn.index)
            if script is not None:
                await script(conn)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away: that is what many tests do
        except asyncio.CancelledError:
            # Only the teardown cancels a script.  Ending quietly keeps asyncio's
            # stream callback from logging the cancelled task as an error.
            return
        except BaseException as exc:  # a broken script must not pass silently
            self.errors.append(exc)
        finally:
            self._tasks.discard(task)
            if not writer.is_closing():
                writer.close()

    async def wait_gate(self) -> None:
        """In a script: wait until the test calls :meth:`open_gate`."""
        assert self._gate is not None
        await self._gate.wait()

    def open_gate(self) -> None:
        """From the test (any thread): let scripts waiting in :meth:`wait_gate` go on."""
        assert self._gate is not None
        self.fault_loop.loop.call_soon_threadsafe(self._gate.set)

    async def _start(self) -> None:
        self._gate = asyncio.Event()
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def start(self) -> FaultServer:
        self.fault_loop.call(self._start())
        return self

    async def _wait(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._tasks:
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"fault server scripts still running after {timeout}s")
            await asyncio.wait(set(self._tasks), timeout=left)

    async def finished(self, timeout: float = FINISH_TIMEOUT) -> None:
        """From the test's loop: wait until every script that started has ended; re-raise a script's error."""
        await asyncio.wrap_future(self.fault_loop.submit(self._wait(timeout)))
        self.check()

    def check(self) -> None:
        if self.errors:
            raise AssertionError(f"a fault server script failed: {self.errors[0]!r}") from self.errors[0]

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=2)
        for conn in self.connections:
            conn.writer.transport.abort()

    def close(self) -> None:
        self.fault_loop.call(self._close())


# --------------------------------------------------------------------------- responses and canned scripts


def response(
    status: int = 200,
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (),
    *,
    reason: str | None = None,
    version: str = "HTTP/1.1",
    length: bool = True,
) -> bytes:
    """A raw response; ``length`` adds ``Content-Length`` for ``body`` (unless headers already frame it)."""
    reasons = {100: "Continue", 103: "Early Hints", 200: "OK", 204: "No Content", 404: "Not Found",
               413: "Content Too Large", 417: "Expectation Failed", 500: "Internal Server Error"}
    lines = [f"{version} {status} {reasons.get(status, 'Status') if reason is None else reason}"]
    names = {name.lower() for name, _ in headers}
    if length and status >= 200 and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def chunked(*pieces: bytes, trailers: Sequence[tuple[str, str]] = ()) -> bytes:
    """``pieces`` in chunked coding, with the last chunk and optional trailers."""
    out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p)
    return out + b"0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in trailers) + b"\r\n"


Reply = bytes | Callable[[Request], bytes]


def serve(*responses: Reply, then: str = "close") -> Script:
    """Read a request, send the next response, for each response; then ``close``, ``reset``, ``stall`` or ``keep``.

    A response is raw bytes, or a function of the request that returns them
    (to answer HEAD without a body, say).  ``keep`` waits for the client to
    close (recording whatever else it sends).
    """
    if then not in ("close", "reset", "stall", "keep"):
        raise ValueError(then)

    async def script(conn: Conn) -> None:
        for reply in responses:
            request = await conn.read_request()
            await conn.send(reply if isinstance(reply, bytes) else reply(request))
        if then == "reset":
            conn.reset()
        elif then in ("stall", "keep"):
            await conn.stall()
        else:
            await conn.close()

    return script


def ok(body: bytes = b"ok") -> Callable[[Request], bytes]:
    """200 with ``body``; to a HEAD request the same head without the body."""

    def reply(request: Request) -> bytes:
        data = response(200, body)
        return data[: len(data) - len(body)] if request.method == "HEAD" else data

    return reply


async def close_at_once(conn: Conn) -> None:
    """Close right after accepting, before reading anything."""
    await conn.close()


async def reset_at_once(conn: Conn) -> None:
    conn.reset()


async def stall(conn: Conn) -> None:
    """Accept and never answer."""
    await conn.stall()


# --------------------------------------------------------------------------- a connect that hangs, locally


@contextlib.contextmanager
def backlog_full() -> Iterator[tuple[str, int]]:
    """(host, port) of a listener that never accepts and whose queue is full: ``connect()`` there hangs.

    Linux keeps ``backlog + 1`` completed connections waiting for accept();
    with backlog 0 one connection fills the queue and the SYN of any further
    one is dropped (``tcp_abort_on_overflow`` is 0 by default), so the
    client's SYN is retransmitted until its connect timeout.  No packet
    leaves the machine, unlike the usual unroutable address.
    """
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        address = listener.getsockname()
        for _ in range(8):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            fillers.append(sock)
            sock.connect_ex(address)
            _, writable, _ = select.select([], [sock], [], 0.2)
            if not writable:
                break  # this SYN was dropped: the queue is full
        else:
            raise RuntimeError("could not fill the accept queue of a backlog-0 listener")
        yield address[0], address[1]
    finally:
        for sock in fillers:
            sock.close()
        listener.close()
