"""A small HTTP forward proxy for the client's proxy tests, recording what it is asked.

It does what a client needs of a proxy (RFC 9112 §3.2.2, RFC 9110 §9.3.6),
and nothing more:

- an absolute-form request (``GET http://host:port/path HTTP/1.1``) is sent
  to the origin in origin-form (``GET /path``) with the hop-by-hop headers
  removed (``Connection`` and the names it lists, ``Keep-Alive``,
  ``Proxy-Authorization``, ``Proxy-Connection``, ``TE``, ``Trailer``,
  ``Upgrade``), ``Connection: close`` and a ``Via`` added, and the request
  body relayed as it came (``Content-Length`` or chunked).  The response is
  relayed byte for byte after its head, whose ``Connection`` becomes
  ``close``: one request per client connection (keep-alive is not offered);
- ``CONNECT host:port`` opens a TCP connection to the origin, answers
  ``200`` and then relays bytes both ways until both sides have closed;
- with ``auth=(user, password)``, a request without the matching
  ``Proxy-Authorization: Basic`` gets ``407`` with
  ``Proxy-Authenticate: Basic realm="test"``;
- an origin that cannot be reached gets ``502``; a request that is not
  absolute-form ``http://`` or ``CONNECT`` gets ``400``.

Every request is recorded in ``proxy.requests`` as a :class:`ProxiedRequest`:
its request line, the headers the proxy received, the headers it forwarded
(absolute-form only) and the status it answered or relayed, so a test can
assert the target form, that ``Proxy-Authorization`` reached the proxy and
not the origin, and that an ``https`` URL went through ``CONNECT``.

Two ways to run it, both on 127.0.0.1 on a free port:
``async with ForwardProxy() as proxy:`` on the running loop (the test's
own), or ``with proxy_in_thread() as proxy:`` on a loop in a daemon thread,
for a fixture that outlives one test's loop.  The request head is parsed
here by hand on purpose: the proxy must not share a parser with the client
it tests.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from multidict import CIMultiDict
from yarl import URL

__all__ = ["HEAD_LIMIT", "ForwardProxy", "ProxiedRequest", "proxy_in_thread"]

#: Longest request or response head read (the client's own limit is larger than any test needs).
HEAD_LIMIT = 64 * 1024
#: Bytes moved per read when relaying.
RELAY_CHUNK = 64 * 1024
#: Seconds to wait for a connection to the origin.
CONNECT_TIMEOUT = 10.0

_HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-authorization", "proxy-connection",
                         "proxy-authenticate", "te", "trailer", "upgrade"})
_VIA = "1.1 wirespeed-test-proxy"
_REASONS = {200: "Connection established", 400: "Bad Request", 407: "Proxy Authentication Required",
            502: "Bad Gateway"}


@dataclass
class ProxiedRequest:
    """One request the proxy received."""

    method: str
    target: str
    version: str
    headers: CIMultiDict[str]                      # as received from the client
    forwarded_headers: CIMultiDict[str] | None = None  # as sent to the origin (absolute-form only)
    status: int | None = None                      # what the proxy answered, or the origin's status

    @property
    def is_connect(self) -> bool:
        return self.method == "CONNECT"


class _Refused(Exception):
    def __init__(self, status: int, extra: list[tuple[str, str]] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.extra = extra or []


def _parse_head(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    """The start line and the header fields of a head ending in CRLF CRLF."""
    lines = head.decode("latin-1").split("\r\n")[:-2]
    fields = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise _Refused(400)
        fields.append((name, value.strip(" \t")))
    return lines[0], fields


def _serialise(start: str, fields: list[tuple[str, str]]) -> bytes:
    return "".join([start, "\r\n", *(f"{n}: {v}\r\n" for n, v in fields), "\r\n"]).encode("latin-1")


async def _relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until end of stream, then half-close the other side."""
    while data := await reader.read(RELAY_CHUNK):
        writer.write(data)
        await writer.drain()
    if writer.can_write_eof():
        with contextlib.suppress(OSError):
            writer.write_eof()


async def _relay_body(fields: CIMultiDict[str], reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy a request body framed by Content-Length or chunked coding (RFC 9112 §6-7)."""
    if "chunked" in fields.get("Transfer-Encoding", "").lower():
        while True:
            size_line = await reader.readuntil(b"\r\n")
            writer.write(size_line)
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while (trailer := await reader.readuntil(b"\r\n")) != b"\r\n":
                    writer.write(trailer)
                writer.write(b"\r\n")
                return
            writer.write(await reader.readexactly(size + 2))
            await writer.drain()
    length = int(fields.get("Content-Length", "0"))
    while length:
        data = await reader.read(min(length, RELAY_CHUNK))
        if not data:
            raise asyncio.IncompleteReadError(b"", length)
        writer.write(data)
        length -= len(data)
        await writer.drain()


class ForwardProxy:
    """The proxy; ``url`` is where clients reach it once started."""

    def __init__(self, *, auth: tuple[str, str] | None = None, host: str = "127.0.0.1") -> None:
        self.auth = auth
        self.host = host
        self.port = 0
        self.requests: list[ProxiedRequest] = []
        self.connections = 0
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def url(self) -> URL:
        return URL.build(scheme="http", host=self.host, port=self.port)

    # -- life --------------------------------------------------------------------------------

    async def start(self) -> ForwardProxy:
        self._server = await asyncio.start_server(self._handle, self.host, 0, limit=HEAD_LIMIT)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> ForwardProxy:
        return await self.start()

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.close()

    # -- one client connection ---------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        record: ProxiedRequest | None = None
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            start, fields = _parse_head(head)
            method, _, rest = start.partition(" ")
            target, _, version = rest.partition(" ")
            record = ProxiedRequest(method, target, version, CIMultiDict(fields))
            self.requests.append(record)
            if not version.startswith("HTTP/1.") or not target:
                raise _Refused(400)
            self._check_auth(record)
            if method == "CONNECT":
                await self._tunnel(record, reader, writer)
            elif target.lower().startswith("http://"):
                await self._forward(record, reader, writer)
            else:
                raise _Refused(400)
        except _Refused as refused:
            if record is not None:
                record.status = refused.status
            fields_out = [*refused.extra, ("Content-Length", "0"), ("Connection", "close")]
            with contextlib.suppress(OSError):
                writer.write(_serialise(f"HTTP/1.1 {refused.status} {_REASONS[refused.status]}", fields_out))
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass   # the client went away or sent something this proxy does not speak
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._tasks.discard(task)

    def _check_auth(self, record: ProxiedRequest) -> None:
        if self.auth is None:
            return
        scheme, _, token = record.headers.get("Proxy-Authorization", "").partition(" ")
        try:
            given = base64.b64decode(token.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            given = None
        if scheme.lower() != "basic" or given != f"{self.auth[0]}:{self.auth[1]}":
            raise _Refused(407, [("Proxy-Authenticate", 'Basic realm="test"')])

    async def _open(self, host: str, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        try:
            return await asyncio.wait_for(asyncio.open_connection(host, port, limit=HEAD_LIMIT), CONNECT_TIMEOUT)
        except (OSError, asyncio.TimeoutError):
            raise _Refused(502) from None

    async def _tunnel(self, record: ProxiedRequest, reader: asyncio.StreamReader,
                      writer: asyncio.StreamWriter) -> None:
        """CONNECT host:port (RFC 9110 §9.3.6): 200, then bytes both ways."""
        host, colon, port = record.target.rpartition(":")
        if not colon or not port.isdigit() or not host:
            raise _Refused(400)
        o_reader, o_writer = await self._open(host.strip("[]"), int(port))
        try:
            record.status = 200
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await writer.drain()
            relays = [asyncio.ensure_future(_relay(reader, o_writer)), asyncio.ensure_future(_relay(o_reader, writer))]
            try:
                await asyncio.gather(*relays)
            finally:
                for relay in relays:
                    relay.cancel()
                await asyncio.gather(*relays, return_exceptions=True)
        finally:
            o_writer.close()

    async def _forward(self, record: ProxiedRequest, reader: asyncio.StreamReader,
                       writer: asyncio.StreamWriter) -> None:
        """An absolute-form request, sent on in origin-form; the response relayed."""
        url = URL(record.target)
        if not url.raw_host:
            raise _Refused(400)
        listed = {t.strip().lower() for t in record.headers.get("Connection", "").split(",")}
        out = CIMultiDict((n, v) for n, v in record.headers.items() if n.lower() not in _HOP_BY_HOP | listed)
        if "Host" not in out:
            out["Host"] = url.host_port_subcomponent or url.raw_host
        out.add("Via", _VIA)
        out["Connection"] = "close"
        record.forwarded_headers = out
        o_reader, o_writer = await self._open(url.raw_host, url.port or 80)
        try:
            o_writer.write(_serialise(f"{record.method} {url.raw_path_qs or '/'} {record.version}", list(out.items())))
            await _relay_body(record.headers, reader, o_writer)
            await o_writer.drain()
            while True:
                start, fields = _parse_head(await o_reader.readuntil(b"\r\n\r\n"))
                status = int(start.split(" ", 2)[1])
                if 100 <= status < 200 and status != 101:
                    writer.write(_serialise(start, fields))   # interim: relayed as it is
                    continue
                break
            record.status = status
            fields = [(n, v) for n, v in fields if n.lower() not in ("connection", "keep-alive")]
            writer.write(_serialise(start, [*fields, ("Connection", "close")]))
            await writer.drain()
            await _relay(o_reader, writer)
        finally:
            o_writer.close()


@contextlib.contextmanager
def proxy_in_thread(*, auth: tuple[str, str] | None = None) -> Iterator[ForwardProxy]:
    """A :class:`ForwardProxy` running on its own loop in a daemon thread until the block ends."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="forward-proxy", daemon=True)
    thread.start()
    proxy = ForwardProxy(auth=auth)
    try:
        asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(timeout=10)
        yield proxy
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(proxy.close(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()

