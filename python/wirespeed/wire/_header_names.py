"""The header names both parser twins know, and the one name-cache policy they follow.

Both twins key a head's ``CIMultiDict`` by the field name as spelled on the wire.
A plain ``str`` key has its case folded by the multidict on insertion; an ``istr``
carries its folded form, so a 12-field head is filled about three times faster from
``istr`` keys (0.67 us against 1.90 us with multidict 7.2, measured with ``timeit``
on ``CIMultiDict(pairs)``).  Making an ``istr`` costs more than a ``str``, so it
pays only for a name that comes again.  Hence the policy, the same in both twins:

1. **Known names** (:data:`KNOWN_NAMES`, each in the spelling listed and in lower
   case, the two spellings servers and HTTP/2 gateways send): one ``istr`` each,
   made here at import (:data:`KNOWN_KEYS`) and used by both twins, so a known name
   is the very same object whichever twin parsed it.  Never mutated after import,
   so sharing it between threads needs no lock.
2. **Other names**: each parser learns the first :data:`LEARN_MAX` distinct
   spellings it meets and keeps one ``istr`` for each (a server repeats its own
   names on every response of a connection, and a parser serves one connection).
   Per parser, not global: the names come from the peer, so one peer cannot fill
   or evict what another connection uses, and nothing mutable is shared between
   threads.
3. **Past that**: a plain ``str`` per field per head.  Correct, only slower; a peer
   sending endless distinct names cannot grow memory.

A spelling other than the two listed (``CONTENT-TYPE``) is an "other name".
The C twin (``src/_parser_tables.pxi``) builds its hash table of raw name bytes from
:data:`KNOWN_KEYS` at import; the Python twin (``_parser_py_tables``) looks names up
in it directly.
"""

from __future__ import annotations

from multidict import istr

__all__ = ["KNOWN_NAMES", "KNOWN_KEYS", "LEARN_MAX"]

#: Response header names common in the wild (browsers' and CDNs' responses), as a
#: server spells them; a few common variants (``Etag``, ``X-Request-ID``) listed too.
KNOWN_NAMES: tuple[str, ...] = (
    "Accept-Ranges", "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
    "Access-Control-Allow-Methods", "Access-Control-Allow-Origin", "Access-Control-Expose-Headers",
    "Access-Control-Max-Age", "Age", "Allow", "Alt-Svc", "Cache-Control", "CF-Cache-Status",
    "CF-RAY", "Connection", "Content-Disposition", "Content-Encoding", "Content-Language",
    "Content-Length", "Content-Location", "Content-Range", "Content-Security-Policy",
    "Content-Type", "Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy", "Date", "ETag",
    "Etag", "Expires", "Keep-Alive", "Last-Modified", "Link", "Location", "NEL",
    "Permissions-Policy", "Pragma", "Proxy-Authenticate", "Referrer-Policy", "Report-To",
    "Retry-After", "Server", "Server-Timing", "Set-Cookie", "Strict-Transport-Security",
    "Timing-Allow-Origin", "Trailer", "Transfer-Encoding", "Upgrade", "Vary", "Via",
    "WWW-Authenticate", "Warning", "X-Amz-Cf-Id", "X-Amz-Cf-Pop", "X-Cache", "X-Cache-Hits",
    "X-Content-Type-Options", "X-Frame-Options", "X-Powered-By", "X-Request-Id", "X-Request-ID",
    "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-Served-By", "X-Timer",
    "X-XSS-Protection",
)

#: The most names outside :data:`KNOWN_KEYS` one parser keeps an ``istr`` for.  A
#: connection's server sends a few dozen distinct names at most; 64 leaves room.
LEARN_MAX = 64

#: Every cached spelling (as listed, and lower case) -> its one ``istr``.
KNOWN_KEYS: dict[str, istr] = {}
for _name in KNOWN_NAMES:
    for _spelling in (_name, _name.lower()):
        KNOWN_KEYS.setdefault(_spelling, istr(_spelling))
del _name, _spelling
