"""The typed interface of the wire layer: what both twins' classes satisfy.

These are structural types (``typing.Protocol``): the C twin's ``cdef``
classes and the Python twin's classes are unrelated by inheritance, yet each
satisfies these, and a test checks both twins against them
(``tests/wire/test_interface.py``).  Code above the wire layer is typed
against these names, never against one twin's classes.
"""

from __future__ import annotations

from typing import Any, Protocol

from multidict import CIMultiDictProxy

from ..errors import HttpParserError

__all__ = ["EndEvent", "Event", "HeadEvent", "ParserProtocol", "ReceiveBufferProtocol", "WriterProtocol"]


class HeadEvent(Protocol):
    """A response head: the first event of every message ``feed()`` returns."""

    @property
    def version(self) -> tuple[int, int]: ...
    @property
    def status(self) -> int: ...
    @property
    def reason(self) -> str: ...
    @property
    def headers(self) -> CIMultiDictProxy[str]: ...
    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]: ...
    @property
    def keep_alive(self) -> bool: ...
    @property
    def chunked(self) -> bool: ...
    @property
    def content_length(self) -> int | None: ...
    @property
    def upgrade(self) -> bool: ...
    @property
    def has_set_cookie(self) -> bool:
        """A Set-Cookie field is in ``headers`` (known without building them)."""
    @property
    def content_encoding(self) -> str | None:
        """The first Content-Encoding field's value, or None (``headers.get("Content-Encoding")``)."""


class EndEvent(Protocol):
    """The end of a message, with its trailers (empty unless chunked with trailers)."""

    @property
    def trailers(self) -> CIMultiDictProxy[str]: ...
    @property
    def raw_trailers(self) -> tuple[tuple[bytes, bytes], ...]: ...


#: What ``feed()`` and ``feed_eof()`` return a list of: a head, body pieces
#: (``memoryview`` slices of the input, not copies), then an end.
Event = HeadEvent | memoryview | EndEvent


class ParserProtocol(Protocol):
    """An incremental response parser (docs/parser.md)."""

    method: str

    def __init__(
        self,
        method: str = "GET",
        *,
        strict: bool = False,
        max_line_size: int = ...,
        max_field_size: int = ...,
        max_headers: int = ...,
    ) -> None: ...
    @property
    def idle(self) -> bool: ...
    @property
    def done(self) -> bool: ...
    @property
    def unconsumed(self) -> bytes: ...
    @property
    def error(self) -> HttpParserError | None: ...
    def feed(self, data: bytes | bytearray | memoryview) -> list[Event]: ...
    def feed_eof(self) -> list[Event]: ...


class WriterProtocol(Protocol):
    """A StreamWriter (docs/writer.md)."""

    transport: Any

    @property
    def headers_length(self) -> int: ...
    @property
    def body_length(self) -> int: ...
    @property
    def buffer_size(self) -> int: ...
    def __init__(
        self,
        transport: Any,
        protocol: Any = None,
        *,
        coalesce_limit: int = ...,
        drain_limit: int = ...,
        direct_writes: bool = True,
    ) -> None: ...
    def write_headers(self, start_line: str | bytes, headers: Any = ()) -> None: ...
    def write_request_headers(
        self, method: str | bytes, target: str | bytes, headers: Any = (), version: tuple[int, int] = (1, 1)
    ) -> None: ...
    def write_response_headers(
        self, status: int, reason: str | bytes, headers: Any = (), version: tuple[int, int] = (1, 1)
    ) -> None: ...
    def send_headers(self) -> None: ...
    def enable_chunking(self) -> None: ...
    def enable_compression(self, encoding: str = "deflate") -> None: ...
    def write(self, data: Any) -> None: ...
    def write_eof(self, last: Any = b"", trailers: Any = None) -> None: ...
    def set_eof(self) -> None: ...
    async def drain(self) -> None: ...


class ReceiveBufferProtocol(Protocol):
    """Where a connection reads: ``view`` to read into, ``take(n)`` for what was read, as ``bytes``."""

    view: memoryview

    def __init__(self, size: int) -> None: ...
    @property
    def size(self) -> int: ...
    def take(self, n: int) -> bytes: ...
