"""Constants shared by both twins of the wire layer.

One module so that a limit is never written twice: the C twin reads the
defaults from here at import time, the Python twin imports them directly,
and every one is also a constructor argument so tests can drive both twins.
"""

from __future__ import annotations

# Parser limits (DESIGN.md; the same defaults as aiohttp and llhttp-based servers).
#: Longest start line (status line) in bytes, line end excluded.
MAX_LINE_SIZE = 8190
#: Longest single header or trailer field (name, colon, value) in bytes, line end excluded.
MAX_FIELD_SIZE = 8190
#: Most header fields plus trailer fields in one message.
MAX_HEADERS = 128

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
