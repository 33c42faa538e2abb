"""Stub for the C StreamWriter twin; the Python twin (``_writer_py``) has the same surface."""

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, Union, final

from typing_extensions import Buffer, TypeAlias

_Text: TypeAlias = Union[str, bytes]
_Headers: TypeAlias = Union[Mapping[Any, Any], Iterable[tuple[_Text, _Text]]]

class _WaitWritable(Protocol):
    async def wait_writable(self) -> None: ...

__all__ = ["StreamWriter", "WRITELINES_SAFE"]

WRITELINES_SAFE: bool
COALESCE_LIMIT: int
DRAIN_LIMIT: int

@final
class StreamWriter:
    transport: Any
    protocol: _WaitWritable | None
    @property
    def headers_length(self) -> int: ...
    @property
    def body_length(self) -> int: ...
    @property
    def buffer_size(self) -> int: ...
    def __init__(
        self,
        transport: Any,
        protocol: _WaitWritable | None = None,
        *,
        coalesce_limit: int = ...,
        drain_limit: int = ...,
        direct_writes: bool = True,
    ) -> None: ...
    def write_headers(self, start_line: _Text, headers: _Headers = ()) -> None: ...
    def write_request_headers(
        self, method: _Text, target: _Text, headers: _Headers = (), version: tuple[int, int] = (1, 1)
    ) -> None: ...
    def write_response_headers(
        self, status: int, reason: _Text, headers: _Headers = (), version: tuple[int, int] = (1, 1)
    ) -> None: ...
    def send_headers(self) -> None: ...
    def enable_chunking(self) -> None: ...
    def enable_compression(self, encoding: str = "deflate") -> None: ...
    def write(self, data: Buffer) -> None: ...
    def write_eof(self, last: Buffer = b"", trailers: _Headers | None = None) -> None: ...
    def set_eof(self) -> None: ...
    async def drain(self) -> None: ...
