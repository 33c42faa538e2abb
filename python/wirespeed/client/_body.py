"""Request bodies: what the caller passes, turned into bytes or a stream of pieces.

=====================================  ================================  =========================
caller passes                          sent as                           Content-Type (if unset)
=====================================  ================================  =========================
``json=obj``                           ``json.dumps`` UTF-8, with length  ``application/json``
``data=bytes/bytearray/memoryview``    as is, with length                 none
``data=str``                           UTF-8, with length                 ``text/plain; charset=utf-8``
``data=dict`` or pairs                 form-urlencoded, with length       ``application/x-www-form-urlencoded``
``data=FormData(...)``                 multipart/form-data (streamed)     ``multipart/form-data; boundary=...``
``data=<binary file object>``          streamed; length from ``fstat``    none
``data=<async iterable of bytes>``     streamed, chunked                  none
=====================================  ================================  =========================

A body is either ``bytes`` (sent with the head in one transport call when
small) or a :class:`Stream`: an async iterator of pieces with a length when
it is known (``Content-Length``) and chunked framing otherwise.  A stream can
be sent once; a redirect or retry that needs it again gets ``None`` from
:meth:`Stream.replay` for iterators and a fresh stream for files that can seek.
"""

from __future__ import annotations

import io
import json as _json
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from ..errors import InvalidRequest

__all__ = ["FormData", "Stream", "encode_body", "FILE_CHUNK"]

#: Pieces read from a file object at a time: large enough that the per-piece
#: cost (a writer call and a drain check) is negligible, small enough that a
#: paused transport holds little.
FILE_CHUNK = 64 * 1024


class Stream:
    """A body sent in pieces: ``length`` is its size when known, else ``None`` (chunked)."""

    __slots__ = ("_source", "length", "_factory", "_used")

    def __init__(self, source: AsyncIterator[bytes], length: int | None, factory: Any = None) -> None:
        self._source = source
        self.length = length
        self._factory = factory
        self._used = False

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._used:
            raise InvalidRequest("a streamed request body can be sent only once")
        self._used = True
        return self._source

    @property
    def used(self) -> bool:
        """True once the body was iterated: it cannot be sent again."""
        return self._used

    def replay(self) -> Stream | None:
        """A fresh stream of the same body, or None when it cannot be read again."""
        if self._factory is None:
            return None
        return self._factory()  # type: ignore[no-any-return]


async def _iterate(source: AsyncIterable[Any]) -> AsyncIterator[bytes]:
    async for piece in source:
        if isinstance(piece, str):
            piece = piece.encode("utf-8")
        elif not isinstance(piece, (bytes, bytearray, memoryview)):
            raise InvalidRequest(f"a body iterator yielded {type(piece).__name__}, not bytes")
        if piece:
            yield piece


async def _read_file(f: Any, remaining: int | None) -> AsyncIterator[bytes]:
    while True:
        size = FILE_CHUNK if remaining is None else min(FILE_CHUNK, remaining)
        if size == 0:
            return
        piece = f.read(size)
        if isinstance(piece, str):
            piece = piece.encode("utf-8")
        if not piece:
            return
        if remaining is not None:
            remaining -= len(piece)
        yield piece


def _file_stream(f: Any) -> Stream:
    length: int | None = None
    start: int | None = None
    try:
        start = f.tell()
        length = os.fstat(f.fileno()).st_size - start
    except (AttributeError, OSError, io.UnsupportedOperation):
        try:
            if start is not None and f.seekable():
                length = f.seek(0, os.SEEK_END) - start
                f.seek(start)
        except (AttributeError, OSError, io.UnsupportedOperation):
            length = None

    def again() -> Stream | None:
        if start is None:
            return None
        try:
            f.seek(start)
        except (AttributeError, OSError, io.UnsupportedOperation):
            return None
        return _file_stream(f)

    return Stream(_read_file(f, length), length, again if start is not None else None)


class FormData:
    """A multipart/form-data body (RFC 7578): fields and files.

    ``add_field(name, value, filename=None, content_type=None)``: ``value`` is
    ``str``, ``bytes`` or a binary file object (read when the body is sent).
    """

    def __init__(self, fields: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
        self.boundary = uuid.uuid4().hex
        self._parts: list[tuple[str, Any, str | None, str | None]] = []
        items = fields.items() if isinstance(fields, Mapping) else fields
        for name, value in items:
            self.add_field(name, value)

    def add_field(self, name: str, value: Any, *, filename: str | None = None, content_type: str | None = None) -> None:
        if filename is None and hasattr(value, "read"):
            filename = os.path.basename(str(getattr(value, "name", name)))
        self._parts.append((name, value, filename, content_type))

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def _part_head(self, name: str, filename: str | None, content_type: str | None) -> bytes:
        def quote(s: str) -> str:
            return s.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "%0D").replace("\n", "%0A")

        disposition = f'form-data; name="{quote(name)}"'
        if filename is not None:
            disposition += f'; filename="{quote(filename)}"'
            content_type = content_type or "application/octet-stream"
        lines = [f"--{self.boundary}", f"Content-Disposition: {disposition}"]
        if content_type:
            lines.append(f"Content-Type: {content_type}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def _files(self) -> list[Any]:
        return [value for _, value, _, _ in self._parts if hasattr(value, "read")]

    def close(self) -> None:
        """Close the file objects given as parts (aiohttp closes them once the request ends)."""
        for f in self._files():
            close = getattr(f, "close", None)
            if close is not None:
                close()

    def _stream(self) -> Stream:
        # Sizes are known unless a file's is not: then the body is chunked.
        starts: list[tuple[Any, int]] = []
        for f in self._files():
            try:
                starts.append((f, f.tell()))
            except (AttributeError, OSError, io.UnsupportedOperation):
                starts = []
                break
        replayable = len(starts) == len(self._files())
        pieces: list[Any] = []
        length: int | None = 0
        for name, value, filename, ctype in self._parts:
            pieces.append(self._part_head(name, filename, ctype))
            if isinstance(value, str):
                value = value.encode("utf-8")
            if isinstance(value, (bytes, bytearray, memoryview)):
                pieces.append(bytes(value))
            elif hasattr(value, "read"):
                stream = _file_stream(value)
                pieces.append(stream)
                if stream.length is None:
                    length = None
                elif length is not None:
                    length += stream.length
            else:
                pieces.append(str(value).encode("utf-8"))
            pieces.append(b"\r\n")
        pieces.append(f"--{self.boundary}--\r\n".encode("ascii"))
        if length is not None:
            length += sum(len(p) for p in pieces if isinstance(p, bytes))

        async def gen() -> AsyncIterator[bytes]:
            for p in pieces:
                if isinstance(p, Stream):
                    async for chunk in p:
                        yield chunk
                else:
                    yield p

        def again() -> Stream | None:
            # Every file part rewound to where it started, or no replay at all.
            try:
                for f, start in starts:
                    f.seek(start)
            except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
                return None
            return self._stream()

        return Stream(gen(), length, again if replayable else None)


def encode_body(data: Any, json: Any) -> tuple[bytes | Stream | None, str | None]:
    """The body to send and its default Content-Type, from ``data=`` / ``json=``."""
    if json is not None:
        if data is not None:
            raise InvalidRequest("data= and json= cannot both be given")
        return _json.dumps(json, separators=(",", ":")).encode("utf-8"), "application/json"
    if data is None:
        return None, None
    if isinstance(data, bytes):
        return data, None
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data), None
    if isinstance(data, str):
        return data.encode("utf-8"), "text/plain; charset=utf-8"
    if isinstance(data, FormData):
        return data._stream(), data.content_type
    if isinstance(data, Mapping) or (isinstance(data, (list, tuple)) and all(isinstance(x, tuple) for x in data)):
        items = data.items() if isinstance(data, Mapping) else data
        return urlencode(list(items), doseq=True).encode("ascii"), "application/x-www-form-urlencoded"
    if isinstance(data, Stream):
        return data, None
    if hasattr(data, "read"):
        return _file_stream(data), None
    if hasattr(data, "__aiter__"):
        return Stream(_iterate(data), None), None
    raise InvalidRequest(f"unsupported body type {type(data).__name__}")
