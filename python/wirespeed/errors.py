"""The exception hierarchy, shared by both twins and the client.

Every error wirespeed raises on purpose derives from :class:`WirespeedError`,
so a user can catch by intent:

- :class:`HttpParserError` and its leaves: the peer sent bytes that are not
  HTTP/1.x as the parser contract accepts it.  Each carries the ``offset`` of
  the offending byte in the stream fed so far and the ``byte`` itself.
- :class:`ContentDecodingError`: a compressed body could not be decoded;
  :class:`UnsupportedContentEncoding` below it when the coding is unknown or
  its package is not installed (raised before any byte is decoded).
- :class:`UnsupportedContentCoding`: the writer was asked to compress with a
  coding it cannot produce (also a ``ValueError``).
- :class:`HeaderValidationError`: the writer refused to serialise a start line
  or header that would allow injection (also a ``ValueError``).
- :class:`WriterStateError`: the writer was used out of order (also a
  ``RuntimeError``).
- :class:`TransportError`: the connection was lost while writing or waiting to
  drain (also a ``ConnectionError``).

Both twins raise these very classes: a test may compare ``type(exc)``.
"""

from __future__ import annotations

__all__ = [
    "WirespeedError",
    "HttpParserError",
    "BadStatusLine",
    "InvalidHeader",
    "InvalidLineEnding",
    "LineTooLong",
    "TooManyHeaders",
    "BadContentLength",
    "BadTransferEncoding",
    "BadChunk",
    "IncompleteMessage",
    "ContentDecodingError",
    "UnsupportedContentEncoding",
    "UnsupportedContentCoding",
    "HeaderValidationError",
    "WriterStateError",
    "TransportError",
]


class WirespeedError(Exception):
    """Root of every error wirespeed raises on purpose."""


class HttpParserError(WirespeedError):
    """The input is not an HTTP/1.x message the parser accepts.

    ``offset`` is the position of the offending byte counted from the first
    byte ever fed to the parser (``None`` when the error is not tied to one
    byte, e.g. at end of stream); ``byte`` is that byte as an ``int`` or
    ``None``.
    """

    def __init__(self, message: str, offset: int | None = None, byte: int | None = None) -> None:
        self.message = message
        self.offset = offset
        self.byte = byte
        super().__init__(message, offset, byte)

    def __str__(self) -> str:
        where = ""
        if self.offset is not None:
            where = f" at offset {self.offset}"
        if self.byte is not None:
            where += f" (byte 0x{self.byte:02x})"
        return f"{self.message}{where}"


class BadStatusLine(HttpParserError):
    """The status line (or request line) is malformed."""


class InvalidHeader(HttpParserError):
    """A header or trailer field is malformed (bad name, bad byte, obs-fold in strict mode...)."""


class InvalidLineEnding(HttpParserError):
    """A line ended with something other than CRLF where CRLF is required (strict mode, or a bare CR)."""


class LineTooLong(HttpParserError):
    """The start line or a header field exceeds its configured limit."""


class TooManyHeaders(HttpParserError):
    """Headers plus trailers exceed the configured count."""


class BadContentLength(HttpParserError):
    """Content-Length is not digits only, overflows, or conflicts with another value."""


class BadTransferEncoding(HttpParserError):
    """Transfer-Encoding is malformed or is combined with Content-Length."""


class BadChunk(HttpParserError):
    """A chunk size line, chunk extension or the CRLF after chunk data is malformed."""


class IncompleteMessage(HttpParserError):
    """The stream ended before the message did.

    ``received`` is the number of body bytes that arrived, ``expected`` the
    declared length when one was known.
    """

    def __init__(
        self,
        message: str,
        offset: int | None = None,
        byte: int | None = None,
        received: int = 0,
        expected: int | None = None,
    ) -> None:
        super().__init__(message, offset, byte)
        self.received = received
        self.expected = expected


class ContentDecodingError(WirespeedError):
    """A body with a Content-Encoding could not be decoded."""


class HeaderValidationError(WirespeedError, ValueError):
    """A start line or header refused by the writer before any byte was written."""


class WriterStateError(WirespeedError, RuntimeError):
    """The writer was used out of order (headers twice, body before headers, write after EOF...)."""


class TransportError(WirespeedError, ConnectionError):
    """The connection was lost or reset while writing or waiting to drain."""


class UnsupportedContentCoding(WirespeedError, ValueError):
    """The writer was asked for a content coding it cannot produce (only gzip and deflate)."""


class UnsupportedContentEncoding(ContentDecodingError):
    """A Content-Encoding names a coding that is unknown or whose package is not installed.

    Raised when the decoder is built, before any byte is decoded, so the
    caller can pass the raw body through instead.  ``coding`` is the
    offending coding as it appeared in the header (``None`` when the chain
    is too long).
    """

    def __init__(self, message: str, coding: str | None = None) -> None:
        super().__init__(message)
        self.coding = coding



class BodyTypeError(WirespeedError, TypeError):
    """The writer was given a body piece that is not a C-contiguous bytes-like object."""


__all__.append("BodyTypeError")
