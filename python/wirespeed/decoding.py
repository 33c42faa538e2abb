"""Streaming content decoding, a layer above the parser (docs/decoding.md).

The parser yields the body bytes as they came on the wire; a
:class:`ContentDecoder` built from the response's ``Content-Encoding`` turns
those pieces into the representation.  It never sees HTTP framing, so the raw
stream stays available to whoever wants it.

Strategy: the codings named by the header form a chain of stages, decoded in
the reverse of the order they were applied (RFC 9110 §8.4).  Output is
*pulled*: each call asks the last stage for at most ``max_output`` bytes,
which asks the stage before it for input only when it has none left, down to
the compressed bytes the caller fed.  No stage ever holds more than one
bounded piece of decoded data, so a compression bomb inflates one piece per
call and only as fast as the consumer drains it.  Compressed input is kept
(copied when it must outlive the call) until it is consumed; it is never
expanded ahead of demand.

Contract:

- ``decode(data)`` returns at most ``max_output`` decoded bytes; the input not
  yet decoded stays inside.  ``decode()`` (no data) returns the next piece;
  ``b""`` means everything fed so far is decoded.
- ``flush()`` at the end of the body returns the next piece likewise and, once
  everything is out, checks that every stream ended: ``b""`` then means the
  body is complete.  A truncated or corrupt stream, or bytes after the end of
  a stream, raise :class:`ContentDecodingError`.
- ``feed(data)`` and ``finish()`` are the same as iterators of pieces.
- After an error the decoder is broken: every later call raises it again.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Iterator
from types import ModuleType

from .errors import ContentDecodingError, UnsupportedContentEncoding

# Content decoding (wirespeed.decoding, docs/decoding.md).
#: Most decoded bytes one ``ContentDecoder.decode()`` / ``flush()`` call
#: returns.  256 KiB is what asyncio reads per ``recv``: a decoded piece is
#: never bigger than a raw read, so a compression bomb inflates one bounded
#: piece at a time and only as fast as the consumer pulls.
DECODE_MAX_OUTPUT = 256 * 1024
#: Most gzip members (RFC 1952 §2.2 allows concatenated members) or zstd
#: frames (RFC 8878 §3.1) in one body.  Real servers send one; the cap bounds
#: the work a body of tiny empty members can cause.
DECODE_MAX_MEMBERS = 64
#: Most codings stacked in one Content-Encoding value (urllib3 caps the chain
#: at 5 too): each stage holds a bounded buffer and a decompressor window.
DECODE_MAX_CODINGS = 5
#: Largest zstd window accepted: RFC 9659 §3 limits the window of the ``zstd``
#: content coding to 8 MB, which bounds the decoder's memory.
ZSTD_MAX_WINDOW = 8 * 1024 * 1024

__all__ = ["ContentDecoder", "available_codings", "accept_encoding"]


def _optional(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(name)
    except ImportError:  # an optional extra
        return None


# Imported once here, never on the hot path; tests set them to None to
# stand for an installation without the extra.
_brotli = _optional("brotli")
_zstd = _optional("zstandard")

_Buffer = bytes | bytearray | memoryview


class _Stage:
    """One coding: takes compressed bytes, hands out decoded pieces on demand."""

    name = ""

    def __init__(self) -> None:
        self.seen_input = False
        self._carry: bytes | memoryview = b""  # decoded bytes produced past the limit

    def push(self, data: bytes) -> None:
        """Give compressed bytes; only called when ``pull`` returned ``b""``."""
        raise NotImplementedError

    def pull(self, limit: int) -> bytes:
        """At most ``limit`` decoded bytes; ``b""`` when all input is consumed."""
        if self._carry:
            return self._cut(self._carry, limit)
        return self._cut(self._produce(limit), limit)

    def close(self) -> None:
        """End of input, after ``pull`` returned ``b""``: raise unless the stream ended."""
        raise NotImplementedError

    def _produce(self, limit: int) -> bytes:
        raise NotImplementedError

    def _cut(self, out: bytes | memoryview, limit: int) -> bytes:
        # brotli's output limit is a growth threshold, not a hard cap, and the
        # identity stage passes input through whole: keep the excess here.
        if len(out) > limit:
            view = memoryview(out)
            self._carry = view[limit:]
            return bytes(view[:limit])
        self._carry = b""
        return bytes(out)

    def _fail(self, what: str, offset: int) -> ContentDecodingError:
        return ContentDecodingError(f"{self.name}: {what} at compressed offset {offset}")


class _Identity(_Stage):
    name = "identity"

    def __init__(self) -> None:
        super().__init__()
        self._pending = b""

    def push(self, data: bytes) -> None:
        self._pending = data

    def _produce(self, limit: int) -> bytes:
        out, self._pending = self._pending, b""
        return out

    def close(self) -> None:
        pass


class _Zlib(_Stage):
    """gzip (RFC 1952, members counted), zlib-wrapped or raw deflate (RFC 1950/1951)."""

    def __init__(self, name: str, max_members: int) -> None:
        super().__init__()
        self.name = name
        self._max_members = max_members
        self._members = 0
        self._tail = b""  # compressed bytes not yet given to zlib
        self._offset = 0  # compressed bytes given to zlib so far
        self._d: zlib._Decompress | None = None

    def push(self, data: bytes) -> None:
        self._tail = self._tail + data if self._tail else data

    def _start(self) -> bool:
        """Open the next stream on ``_tail``; False when more bytes are needed to choose."""
        if self.name == "gzip":
            self._members += 1
            if self._members > self._max_members:
                raise self._fail(f"more than {self._max_members} gzip members", self._offset)
            wbits = 16 + zlib.MAX_WBITS
        else:
            # deflate is zlib-wrapped per RFC 9110 §8.4.1.2, but servers send raw
            # deflate too; browsers tell them apart by the zlib header (RFC 1950 §2.2).
            if len(self._tail) < 2:
                return False
            cmf, flg = self._tail[0], self._tail[1]
            wrapped = cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0
            wbits = zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS
        self._d = zlib.decompressobj(wbits)
        return True

    def _produce(self, limit: int) -> bytes:
        while self._tail or (self._d is not None and not self._d.eof):
            d = self._d
            if d is None or d.eof:
                if d is not None and self.name != "gzip":
                    raise self._fail("bytes after the end of the stream", self._offset)
                if not self._start():
                    return b""
                d = self._d
                assert d is not None
            before = len(self._tail)
            try:
                out = d.decompress(self._tail, limit)
            except zlib.error as exc:
                where = "bytes after the last member" if self._members > 1 else str(exc)
                raise self._fail(where, self._offset) from None
            self._tail = d.unconsumed_tail or d.unused_data
            self._offset += before - len(self._tail)
            if out:
                return out
            if not d.eof and not self._tail:
                # Nothing held back: zlib emits what it can when output room is left.
                return b""
        return b""

    def close(self) -> None:
        if self._tail:  # an undecided deflate prefix
            raise self._fail("truncated stream", self._offset + len(self._tail))
        if self._d is not None and not self._d.eof:
            raise self._fail("truncated stream", self._offset)


class _Brotli(_Stage):
    """br (RFC 7932) with the decoder's own output limit (brotli >= 1.2)."""

    name = "br"

    def __init__(self) -> None:
        super().__init__()
        assert _brotli is not None
        self._error = _brotli.error
        self._d = _brotli.Decompressor()
        self._pending = b""
        self._offset = 0

    def push(self, data: bytes) -> None:
        self._pending = self._pending + data if self._pending else data

    def _produce(self, limit: int) -> bytes:
        d = self._d
        try:
            while not d.is_finished():
                # New input only once the decoder took the last; an empty call
                # drains the output it holds back past the limit.
                data = b""
                if self._pending and d.can_accept_more_data():
                    data, self._pending = self._pending, b""
                    self._offset += len(data)
                out: bytes = d.process(data, output_buffer_limit=limit)
                if out:
                    return out
                if not data:
                    return b""
        except self._error:
            raise self._fail("corrupt stream", self._offset) from None
        if self._pending:
            raise self._fail("bytes after the end of the stream", self._offset)
        return b""

    def close(self) -> None:
        if not self._d.is_finished():
            raise self._fail("truncated stream", self._offset)


class _Zstd(_Stage):
    """zstd (RFC 8878), given to the decompressor one block at a time.

    ``zstandard``'s streaming decompressor has no output limit, but a block
    decodes to at most 128 KiB (RFC 8878 §3.1.1.2.3): feeding input up to the
    end of one block per call bounds each call's output by that.  To find the
    block ends, the frame layout is followed here (§3.1.1 frames, §3.1.2
    skippable frames, which are dropped); the decompressor checks the rest.
    """

    name = "zstd"
    _MAGIC = 0xFD2FB528
    _SKIPPABLE = 0x184D2A50  # any low nibble (§3.1.2)
    # Fields collected whole before deciding what follows them.
    _FIELDS = frozenset({"magic", "skip-size", "descriptor", "block"})

    def __init__(self, max_members: int) -> None:
        super().__init__()
        assert _zstd is not None
        self._error = _zstd.ZstdError
        self._dctx = _zstd.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        self._d: object = None
        self._max_members = max_members
        self._members = 0
        self._tail = memoryview(b"")
        self._offset = 0
        # What the next `_need` bytes are; `_head` collects a field.
        self._state = "magic"
        self._need = 4
        self._head = b""
        self._checksum = 0
        self._last = False

    def push(self, data: bytes) -> None:
        self._tail = memoryview(bytes(self._tail) + data if self._tail else data)

    def _take(self) -> list[memoryview | bytes]:
        """Frame bytes for the decompressor, up to the end of one block at most."""
        out: list[memoryview | bytes] = []
        while self._tail:
            n = min(self._need, len(self._tail))
            piece, self._tail = self._tail[:n], self._tail[n:]
            self._offset += n
            self._need -= n
            state = self._state
            if state in self._FIELDS:
                self._head += piece
                if not self._need:
                    field, self._head = self._head, b""
                    if self._field(state, field, out):
                        return out
            else:  # frame header rest, block data, checksum, or skipped bytes
                if state != "skip":
                    out.append(piece)
                if not self._need and self._after(state):
                    return out
        return out

    def _field(self, state: str, field: bytes, out: list[memoryview | bytes]) -> bool:
        """Act on a complete field; True when a block just ended."""
        if state == "magic":
            self._members += 1
            if self._members > self._max_members:
                raise self._fail(f"more than {self._max_members} frames", self._offset - 4)
            magic = int.from_bytes(field, "little")
            if magic & 0xFFFFFFF0 == self._SKIPPABLE:
                self._state, self._need = "skip-size", 4
                return False
            if magic != self._MAGIC:
                what = "bytes after the last frame" if self._members > 1 else "not a zstd frame"
                raise self._fail(what, self._offset - 4)
            self._d = self._dctx.decompressobj()
            self._state, self._need = "descriptor", 1
        elif state == "skip-size":
            self._state, self._need = "skip", int.from_bytes(field, "little")
            if not self._need:
                self._state, self._need = "magic", 4
            return False
        elif state == "descriptor":
            fhd = field[0]
            single = fhd & 0x20
            size = (0 if single else 1) + (0, 1, 2, 4)[fhd & 3] + ((0, 2, 4, 8)[fhd >> 6] or (1 if single else 0))
            self._checksum = 4 if fhd & 0x04 else 0
            self._state, self._need = ("header", size) if size else ("block", 3)
        else:  # block header: last flag, type, size (§3.1.1.2.2)
            word = int.from_bytes(field, "little")
            self._last = bool(word & 1)
            self._state, self._need = "data", 1 if (word >> 1) & 3 == 1 else word >> 3
            if not self._need:
                out.append(field)
                return self._after("data")
        out.append(field)
        return False

    def _after(self, state: str) -> bool:
        """A pass-through unit ended; True when it was a block."""
        if state == "header":
            self._state, self._need = "block", 3
            return False
        if state == "data" and not self._last:
            self._state, self._need = "block", 3
        elif state == "data" and self._checksum:
            self._state, self._need = "checksum", self._checksum
        else:
            self._state, self._need = "magic", 4
        return state == "data"

    def _produce(self, limit: int) -> bytes:
        try:
            while self._tail:
                pieces = self._take()
                if pieces:
                    out: bytes = self._d.decompress(b"".join(pieces))  # type: ignore[attr-defined]
                    if out:
                        return out
        except self._error:
            raise self._fail("corrupt stream", self._offset) from None
        return b""

    def close(self) -> None:
        if self._state != "magic" or self._need != 4:
            raise self._fail("truncated stream", self._offset)


def available_codings() -> tuple[str, ...]:
    """The codings this installation decodes, best first (``br``/``zstd`` need their packages)."""
    names = []
    if _zstd is not None:
        names.append("zstd")
    if _brotli is not None and _brotli_bounded():
        names.append("br")
    return (*names, "gzip", "deflate")


def accept_encoding() -> str:
    """An ``Accept-Encoding`` value naming every coding :func:`available_codings` lists."""
    return ", ".join(available_codings())


def _brotli_bounded() -> bool:
    # The output limit of Decompressor.process arrived in brotli 1.2.
    return _brotli is not None and hasattr(_brotli.Decompressor, "can_accept_more_data")


def _stage(coding: str, max_members: int) -> _Stage | None:
    name = coding.lower()
    if name == "identity":
        return None
    if name in ("gzip", "x-gzip"):
        return _Zlib("gzip", max_members)
    if name == "deflate":
        return _Zlib("deflate", max_members)
    if name == "br" and _brotli_bounded():
        return _Brotli()
    if name == "zstd" and _zstd is not None:
        return _Zstd(max_members)
    if name in ("br", "zstd"):
        package = "brotli>=1.2" if name == "br" else "zstandard"
        raise UnsupportedContentEncoding(f"content coding {coding!r} needs the {package} package", coding)
    raise UnsupportedContentEncoding(f"unknown content coding {coding!r}", coding)


class ContentDecoder:
    """Decodes one body whose ``Content-Encoding`` is ``content_encoding``.

    ``content_encoding`` is the field value (``str`` or ``bytes``; several
    fields joined with commas); ``None`` or ``""`` means identity.  Raises
    :class:`UnsupportedContentEncoding` for an unknown or unavailable coding
    or more than ``DECODE_MAX_CODINGS`` of them.
    """

    def __init__(
        self,
        content_encoding: str | bytes | None,
        *,
        max_output: int = DECODE_MAX_OUTPUT,
        max_members: int = DECODE_MAX_MEMBERS,
    ) -> None:
        if isinstance(content_encoding, bytes):
            content_encoding = content_encoding.decode("latin-1")
        # RFC 9110 §5.6.1: a comma list; empty elements are ignored.
        codings = [c.strip(" \t") for c in (content_encoding or "").split(",")]
        codings = [c for c in codings if c]
        if len(codings) > DECODE_MAX_CODINGS:
            raise UnsupportedContentEncoding(
                f"{len(codings)} content codings stacked, at most {DECODE_MAX_CODINGS} are decoded"
            )
        if max_output < 1:
            raise ValueError("max_output must be positive")
        # Applied in header order, so undone in reverse (RFC 9110 §8.4).
        stages = [s for s in (_stage(c, max_members) for c in reversed(codings)) if s is not None]
        self.codings: tuple[str, ...] = tuple(s.name for s in reversed(stages))
        self.max_output = max_output
        self._stages: list[_Stage] = stages or [_Identity()]
        self._input: bytes = b""
        self._ended = False
        self._done = False
        self._error: ContentDecodingError | None = None
        #: Compressed bytes fed so far, and decoded bytes handed out so far.
        self.bytes_in = 0
        self.bytes_out = 0

    def decode(self, data: _Buffer = b"") -> bytes:
        """Feed ``data`` (may be empty) and return at most ``max_output`` decoded bytes."""
        if data:
            if self._ended:
                raise ContentDecodingError("decode() after flush(): the body already ended")
            # The caller's buffer may be reused after we return: keep a copy.
            self._input = self._input + bytes(data) if self._input else bytes(data)
            self.bytes_in += len(data)
        return self._next()

    def flush(self) -> bytes:
        """The body ended: return the next piece, or ``b""`` once it is all out and checked."""
        self._ended = True
        out = self._next()
        if not out and not self._done and self._error is None:
            try:
                for stage in self._stages:
                    if stage.seen_input:  # an empty body decodes to nothing
                        stage.close()
            except ContentDecodingError as exc:
                self._error = exc
                raise
            self._done = True
        return out

    def feed(self, data: _Buffer) -> Iterator[bytes]:
        """Feed ``data`` and yield its decoded pieces, each at most ``max_output`` bytes."""
        piece = self.decode(data)
        while piece:
            yield piece
            piece = self.decode()

    def finish(self) -> Iterator[bytes]:
        """End of body: yield the remaining pieces, then check the streams ended."""
        piece = self.flush()
        while piece:
            yield piece
            piece = self.flush()

    @property
    def done(self) -> bool:
        """True once ``flush()`` returned ``b""``: the body was complete."""
        return self._done

    def _next(self) -> bytes:
        if self._error is not None:
            raise self._error
        try:
            out = self._pull(len(self._stages) - 1)
        except ContentDecodingError as exc:
            self._error = exc
            raise
        self.bytes_out += len(out)
        return out

    def _pull(self, index: int) -> bytes:
        stage = self._stages[index]
        while True:
            out = stage.pull(self.max_output)
            if out:
                return out
            if index == 0:
                source, self._input = self._input, b""
            else:
                source = self._pull(index - 1)
            if not source:
                return b""
            stage.seen_input = True
            stage.push(source)
