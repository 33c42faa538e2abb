"""wirespeed: a fast, correct asyncio HTTP/1.1 wire layer.

The public surface is re-exported here; modules with a leading underscore are
private.  ``wirespeed.wire.IMPLEMENTATION`` tells which twin is live.
"""

from __future__ import annotations

from .wire import FlowControl
from .decoding import ContentDecoder, accept_encoding, available_codings
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
    UnsupportedContentCoding,
    UnsupportedContentEncoding,
    WirespeedError,
    WriterStateError,
)
from .wire import IMPLEMENTATION, MessageEnd, ResponseHead, ResponseParser, StreamWriter

__version__ = "0.1.0.dev0"

__all__ = [
    "IMPLEMENTATION",
    "accept_encoding",
    "available_codings",
    "BadChunk",
    "BadContentLength",
    "BadStatusLine",
    "BadTransferEncoding",
    "ContentDecoder",
    "ContentDecodingError",
    "FlowControl",
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
    "UnsupportedContentCoding",
    "UnsupportedContentEncoding",
    "WirespeedError",
    "WriterStateError",
]
