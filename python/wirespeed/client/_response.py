"""The response: its head at once, its body in memory or as a bounded stream.

A response whose body arrived with its head (the common small case) is
complete when the caller gets it: ``read()`` returns the joined bytes and
the connection is already back in the pool.  Otherwise the connection feeds
body pieces as they arrive; at most ``high_water`` bytes of undelivered body
are kept before reading from the socket pauses, and reading resumes when the
consumer has taken the buffer below ``low_water``.  Decoding
(``Content-Encoding``) happens as the consumer pulls, through
:class:`wirespeed.ContentDecoder`, so a compressed body never inflates ahead
of demand.

Text (``text()``): the ``charset`` parameter of Content-Type; failing that
UTF-8, with undecodable bytes replaced (httpx's choice; aiohttp guesses with
a detector instead).
"""

from __future__ import annotations

import asyncio
import json as _json
from collections import deque
from collections.abc import AsyncIterator
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDictProxy

from ..decoding import ContentDecoder
from ..errors import ClientPayloadError, ClientResponseError, ContentDecodingError, UnsupportedContentEncoding

if TYPE_CHECKING:
    from ._connection import Connection

__all__ = ["ClientResponse", "StreamReader", "HIGH_WATER", "LOW_WATER", "DRAIN_CAP", "DRAIN_DEADLINE"]

#: Undelivered body bytes buffered before reading from the socket pauses: as
#: much as one read of the connection's large buffer (``READ_BUFFER_MAX``), so
#: a consumer that keeps up never pauses it (a pause and a resume cost two
#: changes to the loop's selector, two syscalls).
HIGH_WATER = 512 * 1024
#: Reading resumes once the consumer has taken the buffer below this.
LOW_WATER = 128 * 1024
#: ``release()`` reads the rest of a body to keep its connection only when the
#: rest has a known length of at most this many bytes ...
DRAIN_CAP = 64 * 1024
#: ... and arrives within this many seconds; otherwise the connection closes.
DRAIN_DEADLINE = 1.0


def _charset(content_type: str | None) -> str | None:
    if not content_type:
        return None
    for param in content_type.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"') or None
    return None


class ClientResponse:
    """A response to one request (aiohttp's ClientResponse shape)."""

    __slots__ = (
        "method", "url", "status", "reason", "version", "_head", "content_length",
        "_keep_alive", "_conn", "_pieces", "_buffered", "_complete", "_exc", "_waiter", "_body",
        "_decoder", "_coding_checked", "_auto_decompress", "_content", "history", "trailers", "_loop", "_fed",
        "__weakref__",   # the connection holds its response weakly
    )

    def __init__(self, method: str, url: Any, head: Any, conn: Connection) -> None:
        self.method = method
        self.url = url
        self.status: int = head.status
        self.reason: str = head.reason
        self.version: tuple[int, int] = head.version
        self._head = head   # headers and raw_headers come from it on first use: most callers never ask
        self.content_length: int | None = head.content_length
        self._keep_alive: bool = head.keep_alive
        self._conn: Connection | None = conn
        self._pieces: deque[bytes] | list[bytes] = deque()
        self._buffered = 0
        self._complete = False
        self._exc: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._body: bytes | None = None
        self._decoder: ContentDecoder | None = None
        self._coding_checked = False
        self._auto_decompress = conn._session._auto_decompress
        self._content: StreamReader | None = None
        self.history: tuple[ClientResponse, ...] = ()
        self.trailers: Any = None
        self._loop = conn._loop
        self._fed = 0

    # -- fed by the connection ------------------------------------------------------

    def _piece(self, data: bytes) -> None:
        self._pieces.append(data)
        n = len(data)
        self._buffered += n
        self._fed += n
        if self._buffered > HIGH_WATER and self._conn is not None:
            self._conn.pause_reading()
        w = self._waiter
        if w is not None:
            self._waiter = None
            if not w.done():
                w.set_result(None)

    def _end(self, end: Any) -> None:
        self._complete = True
        self.trailers = end.trailers
        self._conn = None
        w = self._waiter
        if w is not None:
            self._waiter = None
            if not w.done():
                w.set_result(None)

    def _set_exception(self, exc: BaseException) -> None:
        if self._complete:
            return
        self._exc = exc
        self._conn = None
        w = self._waiter
        if w is not None:
            self._waiter = None
            if not w.done():
                w.set_result(None)

    # -- reading ----------------------------------------------------------------------

    def _pop(self) -> bytes | None:
        """The next raw body piece if one is here, ``b""`` at the end, or None: await ``_wait()``, ask again."""
        pieces = self._pieces
        if pieces:
            # a deque; a list for a response that came whole with its head (the C connection
            # builds it so: one piece, never added to)
            data = pieces.popleft() if isinstance(pieces, deque) else pieces.pop(0)
            self._body = None   # a body kept whole for read() is no longer whole
            self._buffered -= len(data)
            conn = self._conn
            if conn is not None and conn.reading_paused and self._buffered < LOW_WATER:
                conn.resume_reading()
            return data
        if self._complete:
            return b""
        if self._exc is not None:
            raise self._exc
        return None

    def _wait(self) -> asyncio.Future[None]:
        """The future the connection completes with the next piece, the end or an error."""
        waiter = self._waiter = self._loop.create_future()
        return waiter

    async def _next_raw(self) -> bytes:
        """The next raw body piece, or ``b""`` at the end."""
        while True:
            data = self._pop()
            if data is not None:
                return data
            try:
                await self._wait()
            except asyncio.CancelledError:
                self._waiter = None
                raise

    def _raw(self) -> bool:
        """True when the body is delivered as it arrives: no decoder (looked up once, not per piece)."""
        if not self._coding_checked:
            self._coding_checked = True
            self._decoder = self._make_decoder()
        return self._decoder is None

    def _make_decoder(self) -> ContentDecoder | None:
        coding = self._head.content_encoding
        if not coding or not self._auto_decompress:
            return None
        try:
            return ContentDecoder(coding)
        except UnsupportedContentEncoding:
            return None  # passed through raw, as aiohttp does

    async def _next(self) -> bytes:
        """The next decoded body piece, or ``b""`` at the end."""
        decoder = self._decoder
        if decoder is None:
            if self._coding_checked or self._raw():
                return await self._next_raw()
            decoder = self._decoder
            assert decoder is not None
        try:
            out = decoder.decode()
            while not out:
                raw = await self._next_raw()
                if not raw:
                    return decoder.flush()
                out = decoder.decode(raw)
            return out
        except ContentDecodingError as exc:
            raise ClientPayloadError(f"the response body could not be decoded: {exc}",
                                     method=self.method, url=self.url) from exc

    async def read(self) -> bytes:
        """The whole body (decoded unless ``auto_decompress=False``)."""
        body = self._body
        if body is not None:
            # Read before, or a body that came whole with its head and needs no decoding: the
            # connection keeps it here from the start, and also as the one piece a stream
            # would take; reading it here takes that piece (and a stream taking it first
            # forgets this, _pop), so read() and the stream never both have it.
            if self._pieces:
                self._pieces.clear()
                self._buffered = 0
            return body
        # What a stream's read(n) left over comes first: after part of the body was read as a
        # stream, read() gives the rest of it (as aiohttp's read(), which reads the stream).
        content = self._content
        rest = b""
        if content is not None and content._rest:
            rest = bytes(content._rest)
            content._rest = b""
        if self._complete and self._exc is None and (
                not self._auto_decompress or self._head.content_encoding is None):
            pieces = self._pieces
            body = pieces[0] if len(pieces) == 1 and not rest else rest + b"".join(pieces)
            pieces.clear()
            self._buffered = 0
            self._body = body
            return body
        chunks = [rest] if rest else []
        while True:
            piece = await self._next()
            if not piece:
                break
            chunks.append(piece)
        self._body = b"".join(chunks)
        return self._body

    async def text(self, encoding: str | None = None, errors: str = "replace") -> str:
        body = await self.read()
        charset = encoding or _charset(self.headers.get("Content-Type")) or "utf-8"
        try:
            return body.decode(charset, errors)
        except LookupError:
            return body.decode("utf-8", errors)

    async def json(self, *, loads: Any = _json.loads, content_type: str | None = "application/json") -> Any:
        body = await self.read()
        if content_type is not None:
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if not (ctype == content_type or ctype.endswith("+json")):
                raise ClientResponseError(f"attempt to decode JSON with unexpected mimetype: {ctype or 'none'}",
                                          method=self.method, url=self.url, status=self.status,
                                          reason=self.reason, headers=self.headers)
        return loads(body)

    @property
    def content_type(self) -> str:
        """The media type of Content-Type, lower case, without parameters; ``application/octet-stream``
        when there is none (RFC 9110 §8.3, aiohttp's ``content_type``)."""
        value = self.headers.get("Content-Type")
        if not value:
            return "application/octet-stream"
        return value.split(";", 1)[0].strip().lower() or "application/octet-stream"

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of Content-Type, or None."""
        return _charset(self.headers.get("Content-Type"))

    def get_encoding(self) -> str:
        """The encoding ``text()`` uses: ``charset``, else UTF-8 (no detection; see docs/client.md)."""
        return self.charset or "utf-8"

    @property
    def cookies(self) -> SimpleCookie:
        """The cookies this response set (its ``Set-Cookie`` fields), as aiohttp's ``cookies``.

        The session's jar has them too, with the RFC 6265 rules applied; a field that
        ``http.cookies`` cannot parse is left out here.
        """
        jar: SimpleCookie = SimpleCookie()
        for value in self.headers.getall("Set-Cookie", ()):
            try:
                jar.load(value)
            except CookieError:
                continue
        return jar

    @property
    def real_url(self) -> Any:
        """The URL asked for (aiohttp's ``real_url``): the same as ``url``, which keeps its fragment here."""
        return self.url

    @property
    def host(self) -> str | None:
        """The host of ``url``."""
        return self.url.host  # type: ignore[no-any-return]

    @property
    def closed(self) -> bool:
        """True once the response no longer holds a connection: its body ended, or it was closed."""
        return self._conn is None

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The header fields (CIMultiDictProxy), in wire order.

        The head builds them on first use (the C twin's parser keeps them as bytes until then).
        """
        headers: CIMultiDictProxy[str] = self._head.headers
        return headers

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        """(name, value) bytes of the header fields in wire order (aiohttp's ``raw_headers``)."""
        raw: tuple[tuple[bytes, bytes], ...] = self._head.raw_headers
        return raw

    @property
    def content(self) -> StreamReader:
        """The body as a stream (aiohttp's ``response.content``)."""
        c = self._content
        if c is None:
            c = self._content = StreamReader(self)
        return c

    # -- status and lifetime -----------------------------------------------------------

    @property
    def ok(self) -> bool:
        return self.status < 400

    def raise_for_status(self) -> None:
        if self.status >= 400:
            raise ClientResponseError(f"{self.status} {self.reason}", method=self.method, url=self.url,
                                      status=self.status, reason=self.reason, headers=self.headers)

    @property
    def complete(self) -> bool:
        """True once the whole body has arrived (the connection is no longer held)."""
        return self._complete

    def close(self) -> None:
        """Stop reading: an unfinished body closes its connection (never pooled mid-message)."""
        conn = self._conn
        if conn is not None:
            self._conn = None
            conn.close()
        if self._pieces:
            self._pieces.clear()
            self._body = None   # a body kept whole for read() goes with its piece
        self._buffered = 0

    async def release(self) -> None:
        """Give the connection back: drain a small known rest, else close it.

        The rest is read only when its length is known and at most
        ``DRAIN_CAP`` bytes, and only for ``DRAIN_DEADLINE`` seconds: an
        unbounded or slow body is never read just to keep a connection.
        """
        conn = self._conn
        if conn is None:
            return
        remaining = None
        if self.content_length is not None:
            remaining = self.content_length - self._fed
        if remaining is None or remaining > DRAIN_CAP:
            self.close()
            return
        try:
            await asyncio.wait_for(self._drain(), DRAIN_DEADLINE)
        except (asyncio.TimeoutError, ClientPayloadError):
            self.close()
        except BaseException:
            self.close()
            raise
        self._pieces.clear()

    async def _drain(self) -> None:
        while await self._next_raw():
            pass

    def __repr__(self) -> str:
        return f"<ClientResponse {self.status} {self.reason} {self.method} {self.url}>"

    async def __aenter__(self) -> ClientResponse:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class StreamReader:
    """The body as a stream: aiohttp's ``read(n)``, ``iter_chunked(n)``, ``iter_any()``."""

    __slots__ = ("_resp", "_rest")

    def __init__(self, resp: ClientResponse) -> None:
        self._resp = resp
        # What read(n) left of a piece: a memoryview over it, so that reading a large piece
        # n bytes at a time copies each byte once, not the rest of the piece at every call.
        self._rest: bytes | memoryview = b""

    async def _take(self) -> bytes:
        if self._rest:
            data, self._rest = self._rest, b""
            return bytes(data)
        return await self._resp._next()

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (``-1``: everything left); ``b""`` at the end."""
        if n < 0:
            parts: list[bytes] = []
            while True:
                data = await self._take()
                if not data:
                    return b"".join(parts)
                parts.append(data)
        if n == 0:
            return b""
        rest = self._rest
        if rest:
            if len(rest) > n:
                self._rest = rest[n:]
                return bytes(rest[:n])
            self._rest = b""
            return bytes(rest)
        data = await self._resp._next()
        if len(data) > n:
            self._rest = memoryview(data)[n:]
            return data[:n]
        return data

    async def readany(self) -> bytes:
        return await self._take()

    async def readexactly(self, n: int) -> bytes:
        parts: list[bytes] = []
        need = n
        while need:
            data = await self.read(need)
            if not data:
                raise asyncio.IncompleteReadError(b"".join(parts), n)
            parts.append(data)
            need -= len(data)
        return b"".join(parts)

    def iter_any(self) -> AsyncIterator[bytes]:
        """Each piece as it arrives (decoded, unless the session said ``auto_decompress=False``)."""
        resp = self._resp
        if not resp._raw():
            return self._iter_decoded()
        conn = resp._conn
        if conn is not None and type(resp) is ClientResponse:
            # The connection's twin: the C one loops in C (RawPieces), the Python one here.
            return conn.raw_pieces(self)
        return self._iter_raw()

    async def _iter_decoded(self) -> AsyncIterator[bytes]:
        while True:
            data = await self._take()
            if not data:
                return
            yield data

    async def _iter_raw(self) -> AsyncIterator[bytes]:
        """Raw pieces as they arrive: ``_next_raw`` inlined, so that each wait for the network
        resumes this one frame, not the three of _take, _next and _next_raw (a 10 MiB download
        waits about 50 times)."""
        resp = self._resp
        while True:
            if self._rest:
                data, self._rest = self._rest, b""
                yield bytes(data)
                continue
            piece = resp._pop()
            if piece is None:
                try:
                    await resp._wait()
                except asyncio.CancelledError:
                    resp._waiter = None
                    raise
                continue
            if not piece:
                return
            yield piece

    async def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        """Pieces of at most ``n`` bytes, as they arrive (aiohttp's: ``read(n)`` until the end)."""
        if n <= 0:
            raise ValueError(f"iter_chunked needs a positive size, not {n}")
        while True:
            data = await self.read(n)
            if not data:
                return
            yield data

    def at_eof(self) -> bool:
        r = self._resp
        return r._complete and not r._pieces and not self._rest

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.iter_any()
