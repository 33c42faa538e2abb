"""Stub of the C response parser twin (src/_parser.pyx); the same API as ``_parser_py``."""

from typing import Any

from multidict import CIMultiDictProxy
from typing_extensions import disjoint_base

from ..errors import HttpParserError

__all__ = ("ResponseParser", "ResponseHead", "MessageEnd")

@disjoint_base
class ResponseHead:
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

@disjoint_base
class MessageEnd:
    @property
    def trailers(self) -> CIMultiDictProxy[str]: ...
    @property
    def raw_trailers(self) -> tuple[tuple[bytes, bytes], ...]: ...

@disjoint_base
class ResponseParser:
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
    def feed(self, data: bytes | bytearray | memoryview) -> list[Any]: ...
    def feed_eof(self) -> list[Any]: ...
