"""wirespeed: a fast, correct asyncio HTTP/1.1 wire layer.

The public surface is re-exported here; modules with a leading underscore are
private.  ``wirespeed.wire.IMPLEMENTATION`` tells which twin is live.
"""

from __future__ import annotations

from .errors import (
    BadChunk,
    BadContentLength,
    BadStatusLine,
    BadTransferEncoding,
    ContentDecodingError,
    HeaderValidationError,
    HttpParserError,
    IncompleteMessage,
    InvalidHeader,
    InvalidLineEnding,
    LineTooLong,
    TooManyHeaders,
    TransportError,
    WirespeedError,
    WriterStateError,
)
from .wire import IMPLEMENTATION, MessageEnd, ResponseHead, ResponseParser, StreamWriter

__version__ = "0.1.0.dev0"

__all__ = [
    "IMPLEMENTATION",
    "BadChunk",
    "BadContentLength",
    "BadStatusLine",
    "BadTransferEncoding",
    "ContentDecodingError",
    "HeaderValidationError",
    "HttpParserError",
    "IncompleteMessage",
    "InvalidHeader",
    "InvalidLineEnding",
    "LineTooLong",
    "MessageEnd",
    "ResponseHead",
    "ResponseParser",
    "StreamWriter",
    "TooManyHeaders",
    "TransportError",
    "WirespeedError",
    "WriterStateError",
]
