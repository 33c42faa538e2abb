"""Constants shared by both twins of the wire layer.

One module so that a limit is never written twice: the C twin reads the
defaults from here at import time, the Python twin imports them directly,
and every one is also a constructor argument so tests can drive both twins.
"""

from __future__ import annotations

# Parser limits (docs/design.md, docs/parser.md "Limits"; the same defaults as
# aiohttp and llhttp-based servers).
#: Longest start line (status line) in bytes, line end excluded.
MAX_LINE_SIZE = 8190
#: Longest single header or trailer field (name, colon, value) in bytes, line end excluded.
MAX_FIELD_SIZE = 8190
#: Most header fields plus trailer fields in one message.
MAX_HEADERS = 128

#: Bytes after the last message that ``ResponseParser.unconsumed`` keeps once the
#: parser is done without an upgrade (``Connection: close``, or after ``feed_eof()``):
#: they are never parsed, and a peer that goes on sending must not grow memory.  One
#: asyncio high-water mark (64 KiB) is plenty to see what followed.  After an upgrade
#: every byte is kept: it belongs to the new protocol (docs/parser.md).
MAX_UNCONSUMED = 0x10000

#: Response fields that may appear once only (RFC 9110 defines each as a
#: singleton, not a list).  Lenient mode accepts repeats, since real servers
#: send e.g. two ``Server`` fields; strict mode rejects them.  Lower-case.
SINGLETON_HEADERS = frozenset(
    {
        "age",
        "content-location",
        "content-range",
        "content-type",
        "date",
        "etag",
        "expires",
        "last-modified",
        "location",
        "retry-after",
        "server",
    }
)

# Writer (docs/writer.md).
#: Bodies whose head + framing + payload total at most this many bytes are
#: joined into one buffer and written with one ``transport.write``; larger
#: ones go out as one vectored write without copying the payload.  Measured
#: with ``bench/test_bench_writer.py`` group ``coalesce`` (docs/writer.md,
#: "Coalescing threshold"): below it, copying is cheaper than the vectored path.
COALESCE_LIMIT = 4096
#: ``StreamWriter.drain()`` waits for a paused transport only once more than
#: this many bytes were written since the last drain: asyncio's default
#: high-water mark (64 KiB), the same figure aiohttp's writer uses.
DRAIN_LIMIT = 0x10000

# Writer: trailer fields (docs/writer.md, "Trailers").
#: Fields a sender must not put in a trailer section (RFC 9110 §6.5.1): message
#: framing, routing, request modifiers (controls, conditionals, range),
#: authentication, response control data and content processing.  The writer
#: refuses them (compared in lower case) before the last chunk is written.
FORBIDDEN_TRAILERS = frozenset({
    "transfer-encoding", "content-length", "trailer",
    "host",
    "cache-control", "expect", "max-forwards", "pragma", "range", "te",
    "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "if-range",
    "authorization", "proxy-authorization", "www-authenticate", "proxy-authenticate",
    "cookie", "set-cookie",
    "age", "expires", "date", "location", "retry-after", "vary", "warning",
    "content-encoding", "content-type", "content-range",
})
