"""The error messages of the wire layer: the response parser's, then the writer's.

Each piece's twins raise exactly these texts.  The writer's are in their own
section at the end of this file (``W_*``); what follows describes the parser's.

The C twin (``src/_parser.pyx``, which binds each name once at import) and the
Python twin (``_parser_py.py``) raise exactly these texts, so ``str(exc)`` is
the same whichever twin is live.  A message names what was wrong; the offset
and the offending byte are appended by ``HttpParserError.__str__``.  A message
ending in "(strict mode)" is an error only ``strict=True`` raises.  The few
templates (``{}``) are filled with ``str.format`` when the error is raised,
never on the path that parses a valid message.

Each group is in stream order: the end of the stream, lines before the status
line, the status line, field lines, framing fields, chunked framing.
"""

from __future__ import annotations

# -- the end of the stream (IncompleteMessage) -----------------------------------
EOF_IN_HEAD = "the stream ended inside a response head"
EOF_IN_BODY = "the stream ended before the Content-Length body was complete"
EOF_IN_CHUNKED = "the stream ended inside a chunked body"
EOF_IN_TRAILERS = "the stream ended inside the trailer section"

# -- before the status line (RFC 9112 §2.2) --------------------------------------
BARE_CR_BEFORE_STATUS = "bare CR before the status line"
EMPTY_LINE_BEFORE_STATUS = "empty line before the status line (strict mode)"
EMPTY_LINES_TOO_LONG = "more than {} bytes of empty lines before the status line"

# -- the status line (RFC 9112 §4) -----------------------------------------------
STATUS_LINE_TOO_LONG = "status line longer than {} bytes"
STATUS_NOT_HTTP = "status line does not start with HTTP/"
MAJOR_VERSION = "HTTP major version is not 1"
VERSION_DOT = "expected '.' in the HTTP version"
MINOR_NOT_DIGIT = "expected a digit for the HTTP minor version"
MINOR_VERSION = "HTTP minor version other than 0 or 1 (strict mode)"
SP_AFTER_VERSION = "expected one SP after the HTTP version"
STATUS_CODE = "status code is not three digits 100-999"
REASON_CONTROL = "control byte in the reason phrase"
STATUS_BARE_LF = "status line ends with a bare LF (strict mode)"

# -- field lines, header and trailer sections (RFC 9112 §5) ----------------------
TOO_MANY_FIELDS = "more than {} header and trailer fields"
FIELD_TOO_LONG = "field longer than {} bytes"
BARE_CR_AT_LINE_START = "bare CR at the start of a field line"
WHITESPACE_BEFORE_FIELD = "whitespace at the start of the first field line"
OBS_FOLD = "obs-fold continuation line (strict mode)"
FIELD_NO_COLON = "field line without a colon"
FIELD_NAME_EMPTY = "empty field name"
FIELD_NAME_BYTE = "invalid byte in a field name"
FIELD_VALUE_BYTE = "invalid byte in a field value"
FIELD_BARE_LF = "field line ends with a bare LF (strict mode)"
EMPTY_LINE_BARE_LF = "empty line ends with a bare LF (strict mode)"
REPEATED_SINGLETON = "repeated {} field (strict mode)"

# -- Content-Length (RFC 9110 §8.6) and Transfer-Encoding (RFC 9112 §6.1) --------
CL_EMPTY = "empty Content-Length"
CL_NOT_DIGITS = "Content-Length is not digits only"
CL_TOO_LARGE = "Content-Length above 2**63-1"
CL_FOLDED = "folded Content-Length"
CL_CONFLICT = "conflicting Content-Length values"
CL_REPEATED = "Content-Length given more than once (strict mode)"
CL_AFTER_TE = "Content-Length with Transfer-Encoding"
TE_AFTER_CL = "Transfer-Encoding with Content-Length"
TE_FOLDED = "folded Transfer-Encoding"
TE_NOT_TOKEN = "transfer coding is not a token"
TE_CHUNKED_TWICE = "chunked applied twice"
TE_EMPTY = "Transfer-Encoding without a coding"

# -- chunked framing (RFC 9112 §7.1) ---------------------------------------------
CHUNK_LINE_TOO_LONG = "chunk-size line longer than {} bytes"
CHUNK_SIZE_NOT_HEX = "chunk size is not hex digits"
CHUNK_SIZE_TOO_LARGE = "chunk size above 2**63-1"
CHUNK_SIZE_END = "chunk size followed by something other than ';' or CRLF"
CHUNK_EXT_NAME = "expected a token for the chunk extension name"
CHUNK_EXT_VALUE = "expected a token or a quoted string for the chunk extension value"
CHUNK_EXT_END = "expected ';' or CRLF after a chunk extension"
CHUNK_EXT_QUOTED_BYTE = "invalid byte in a quoted chunk extension value"
CHUNK_EXT_UNCLOSED = "quoted string not closed before the line end"
CHUNK_BARE_LF = "chunk-size line ends with a bare LF"
CHUNK_DATA_CRLF = "chunk data not followed by CRLF"

# -- arguments: not parse errors, raised as the builtin exception named ----------
# (ValueError / OverflowError from the constructor, TypeError / BufferError from
# feed(); both twins check these before touching any byte)
ARG_LIMIT_NEGATIVE = "{} must be 0 or more"
ARG_LIMIT_TOO_LARGE = "{} must be at most sys.maxsize"
ARG_NOT_BYTES = "feed() needs a bytes-like object, not {}"
ARG_NOT_CONTIGUOUS = "feed() needs a C-contiguous buffer"
ARG_METHOD_NOT_STR = "method must be a str such as 'HEAD', not {}"
#: RuntimeError: one thread per parser (docs/parser.md, "Threads")
ARG_OTHER_THREAD = "a ResponseParser belongs to the thread that first fed it; call it from that thread only"


# ==============================================================================
# The writer (StreamWriter, docs/writer.md): every text both twins raise.
#
# ``src/_fastwriter.pyx`` and ``_writer_py.py`` (and ``_writer_shared.py``,
# the code they share) format these with ``str.format`` on the error path
# only.  A ``W_WHERE_*`` text names a place; it fills the ``{where}`` of
# another message ("control byte 0x0d at offset 1 in the value of header 'X-A'").
# ==============================================================================

# -- where a refused byte was -----------------------------------------------------
W_WHERE_START_LINE = "the start line"
W_WHERE_METHOD = "the method"
W_WHERE_TARGET = "the request target"
W_WHERE_REASON = "the reason phrase"
#: kind ("header" or "trailer"), index of the field
W_WHERE_NAME = "{} name #{}"
#: kind, the field's name as a str
W_WHERE_VALUE = "the value of {} {!r}"

# -- the head and trailers (HeaderValidationError; RFC 9110 §5.5, §5.6.2, RFC 9112 §3.2)
W_NOT_TEXT = "{where} must be str or bytes, not {type}"
W_SURROGATE = "lone surrogate U+{code:04X} at index {index} in {where}"
W_CONTROL_BYTE = "control byte 0x{byte:02x} at offset {offset} in {where}"
W_EMPTY = "{where} is empty"
W_NOT_TOKEN = "byte 0x{byte:02x} at offset {offset} in {where} is not a token character"
W_NOT_FIELDS = "{kind}s must be a mapping or an iterable of (name, value) pairs, not {type}"
W_NOT_PAIR = "{kind} #{index} is not a (name, value) pair"
W_FORBIDDEN_TRAILER = "trailer #{index} {name!r} is not allowed in a trailer section (RFC 9110 §6.5.1)"
W_TARGET_BYTE = "byte 0x{byte:02x} at offset {offset} in the request target is not visible ASCII"
W_TARGET_FRAGMENT = "byte 0x23 at offset {offset} in the request target starts a fragment, which is never sent"
W_VERSION = "the HTTP version must be (1, 0) or (1, 1), not {!r}"
W_STATUS = "the status code must be an int in 100-999, not {!r}"

# -- body pieces (BodyTypeError) ----------------------------------------------------
W_BODY_TYPE = "the body must be a bytes-like object, not {}"
W_BODY_STRIDED = "the body must be C-contiguous: this {} is not"

# -- order of calls (WriterStateError) ----------------------------------------------
W_HEAD_TWICE = "write_headers() called twice: the head was already written"
#: the call, e.g. "write()"
W_BEFORE_HEAD = "{}() before write_headers()"
W_AFTER_END = "{}() after the end of the message"
W_AFTER_BODY = "{}() after the body started"
W_TRAILERS_NOT_CHUNKED = "trailers need chunked transfer coding (enable_chunking())"
W_SET_EOF_FRAMED = "set_eof() would drop the chunked terminator or compressed data: use write_eof()"

# -- compression (UnsupportedCompression) -------------------------------------------
W_COMPRESSION = "cannot compress with {!r}: only 'gzip' and 'deflate'"

# -- the transport (TransportError) -------------------------------------------------
W_CLOSING = "cannot write {} bytes: the transport is closing"
W_WRITEV_FAILED = "writev() of {} bytes failed: [Errno {}] {}"
W_DRAIN_CLOSING = "the transport is closing: data written may not be delivered"
#: ": <the exception's repr>", or W_LOST_NO_EXC
W_LOST = "the connection was lost while writing{}"
W_LOST_NO_EXC = " (closed by the peer or locally)"

# -- constructor arguments: TypeError / ValueError, raised before the writer exists -
#: the argument's name, the type given
W_ARG_NOT_INT = "{} must be an int, not {}"
W_ARG_NEGATIVE = "{} must be 0 or more, not {}"
#: the argument's name, the maximum (``_writer_shared.MAX_LIMIT``), the value given
W_ARG_TOO_LARGE = "{} must be at most sys.maxsize ({}), not {}"
W_ARG_NOT_BOOL = "{} must be True or False, not {!r}"

# -- the receive buffer (TypeError / ValueError) ------------------------------------
#: the size given
R_SIZE = "a ReceiveBuffer's size must be a positive int, not {!r}"
#: the size given (OverflowError)
R_SIZE_LARGE = "a ReceiveBuffer's size must be at most sys.maxsize, not {!r}"
#: the count given, the buffer's size
R_TAKE_RANGE = "take() needs an int from 0 to the buffer's size ({1}), not {0!r}"
