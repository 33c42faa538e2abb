"""The exception hierarchy, shared by both twins and the client.

Every error wirespeed raises on purpose derives from :class:`WirespeedError`,
and falls in one of three families, so a user can catch by intent::

    WirespeedError
    ├── RemoteProtocolError          the peer sent something that is not acceptable
    │   ├── HttpParserError          ... bytes that are not HTTP/1.x (leaves below)
    │   └── ContentDecodingError     ... a body whose Content-Encoding cannot be decoded
    │       └── UnsupportedContentEncoding
    ├── LocalProtocolError           the caller asked for something the wire layer refuses
    │   ├── HeaderValidationError    (also ValueError) a start line or header allowing injection
    │   ├── BodyTypeError            (also TypeError) a body piece that is not contiguous bytes
    │   ├── WriterStateError         (also RuntimeError) the writer used out of order
    │   └── UnsupportedCompression   (also ValueError) a compression the writer cannot produce
    ├── TransportError               (also ConnectionError) the connection went away under the writer
    └── ClientError                  the client's branch: each carries the request's method and URL
        ├── InvalidURL               (also ValueError)
        ├── InvalidRequest           (also ValueError) a method, header or body that cannot be sent
        ├── ClientConnectionError    (also ConnectionError)
        │   ├── ConnectError         could not connect (DNS, refused, TLS handshake)
        │   ├── ProxyError           the proxy refused (407, a failed CONNECT)
        │   └── ServerDisconnectedError   the server closed before the response ended
        ├── ResponseProtocolError    the response broke the protocol (wraps an HttpParserError)
        ├── ClientPayloadError       the body could not be read to its end (wraps the cause)
        ├── ClientResponseError      a 4xx/5xx status under raise_for_status
        │   ├── TooManyRedirects     more redirects than max_redirects
        │   └── InvalidRedirect      a Location that cannot be followed
        └── TimeoutError             (also asyncio.TimeoutError)
            ├── ConnectTimeout, PoolTimeout, ReadTimeout, TotalTimeout

The wire-layer leaves keep their standard-library bases so code written
against ``ValueError`` or ``ConnectionError`` still catches them.  Both twins
raise these very classes: a test may compare ``type(exc)``.  Client errors
wrap a wire error as ``__cause__``; a wire error never reaches the caller of
the client bare.
"""

from __future__ import annotations

import asyncio

__all__ = [
    "WirespeedError",
    "RemoteProtocolError",
    "LocalProtocolError",
    "BodyTypeError",
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
    "UnsupportedCompression",
    "HeaderValidationError",
    "WriterStateError",
    "TransportError",
    "ClientError",
    "InvalidURL",
    "InvalidRequest",
    "ClientConnectionError",
    "ConnectError",
    "ProxyError",
    "ServerDisconnectedError",
    "ResponseProtocolError",
    "ClientPayloadError",
    "ClientResponseError",
    "TooManyRedirects",
    "InvalidRedirect",
    "TimeoutError",
    "ConnectTimeout",
    "PoolTimeout",
    "ReadTimeout",
    "TotalTimeout",
]


class WirespeedError(Exception):
    """Root of every error wirespeed raises on purpose."""


class RemoteProtocolError(WirespeedError):
    """The peer sent something that is not acceptable (h11's RemoteProtocolError)."""


class LocalProtocolError(WirespeedError):
    """The caller asked for something the wire layer refuses (h11's LocalProtocolError)."""


class HttpParserError(RemoteProtocolError):
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


class ContentDecodingError(RemoteProtocolError):
    """A body with a Content-Encoding could not be decoded."""


class HeaderValidationError(LocalProtocolError, ValueError):
    """A start line or header refused by the writer before any byte was written."""


class WriterStateError(LocalProtocolError, RuntimeError):
    """The writer was used out of order (headers twice, body before headers, write after EOF...)."""


class TransportError(WirespeedError, ConnectionError):
    """The connection was lost or reset while writing or waiting to drain."""


class UnsupportedCompression(LocalProtocolError, ValueError):
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



class BodyTypeError(LocalProtocolError, TypeError):
    """The writer was given a body piece that is not a C-contiguous bytes-like object."""


# -- the client's branch ------------------------------------------------------------


class ClientError(WirespeedError):
    """Root of the client's errors.

    ``method`` and ``url`` name the request (``None`` when the error is not
    tied to one); the wire-layer error that caused it, if any, is
    ``__cause__``.
    """

    def __init__(self, message: str = "", *, method: str | None = None, url: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url

    def __str__(self) -> str:
        if self.method is None and self.url is None:
            return self.message
        return f"{self.message} ({self.method} {self.url})"


class InvalidURL(ClientError, ValueError):
    """The URL cannot be requested: no scheme or host, an unsupported scheme, or bad bytes."""


class InvalidRequest(ClientError, ValueError):
    """The request cannot be sent as given: a method that is not a token, a header
    with a control byte, a body of an unsupported type; nothing was sent.
    ``__cause__`` is the wire layer's error when it was the writer that refused."""


class ClientConnectionError(ClientError, ConnectionError):
    """The connection to the server failed or was lost."""


class ConnectError(ClientConnectionError):
    """Could not connect: name resolution, a refused or unreachable address, or the TLS handshake."""


class ProxyError(ClientConnectionError):
    """The proxy refused the request: ``407 Proxy Authentication Required``, or a
    CONNECT answered with anything but 2xx.  ``status`` is the proxy's status."""

    def __init__(self, message: str = "", *, method: str | None = None, url: object = None, status: int = 0) -> None:
        super().__init__(message, method=method, url=url)
        self.status = status


class ServerDisconnectedError(ClientConnectionError):
    """The server closed the connection before the response was complete."""


class ResponseProtocolError(ClientError):
    """The server's response broke HTTP/1.1 framing or syntax; ``__cause__`` is the parser's error."""


class ClientPayloadError(ClientError):
    """The response body could not be read to its end (truncated, or it failed to decode)."""


class ClientResponseError(ClientError):
    """A response with a 4xx or 5xx status, raised by ``raise_for_status``.

    ``status``, ``reason`` and ``headers`` are the response's.
    """

    def __init__(
        self,
        message: str = "",
        *,
        method: str | None = None,
        url: object = None,
        status: int = 0,
        reason: str = "",
        headers: object = None,
    ) -> None:
        super().__init__(message, method=method, url=url)
        self.status = status
        self.reason = reason
        self.headers = headers


class TooManyRedirects(ClientResponseError):
    """A redirect chain longer than ``max_redirects``; ``history`` holds the responses followed."""

    history: tuple[object, ...] = ()


class InvalidRedirect(ClientResponseError):
    """A redirect that cannot be followed: a missing or malformed ``Location``, a
    scheme that is not http(s), an https to http hop not allowed, or a body that
    cannot be sent again for a 307/308."""


class TimeoutError(ClientError, asyncio.TimeoutError):  # noqa: A001 - the name users expect
    """A client timeout; also an ``asyncio.TimeoutError`` so existing handlers catch it."""


class ConnectTimeout(TimeoutError):
    """Connecting (resolution, TCP and TLS handshakes) took longer than ``timeout.connect``."""


class PoolTimeout(TimeoutError):
    """No connection of the pool became free within ``timeout.pool``."""


class ReadTimeout(TimeoutError):
    """No byte of the response arrived within ``timeout.read`` of the previous one."""


class TotalTimeout(TimeoutError):
    """The whole request, body included, took longer than ``timeout.total``."""
