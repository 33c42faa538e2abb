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
import struct
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
# Stream trailers: gzip's CRC32 and ISIZE (RFC 1952 §2.3.1), zlib's ADLER32 (RFC 1950 §2.2).
_GZIP_TRAILER = struct.Struct("<II")
_ZLIB_TRAILER = struct.Struct(">I")


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
    """gzip members (RFC 1952), zlib streams (RFC 1950) or raw deflate (RFC 1951).

    zlib can read the gzip and zlib containers itself, but then a bad
    checksum is only "incorrect data check", with no way to tell which bytes
    were read before it failed.  So the containers are read here, byte by
    byte as they arrive, and zlib inflates the raw deflate data only: every
    error in a header or trailer names the offset of the very field that is
    wrong (the CRC-32 or ISIZE of a gzip trailer, the Adler-32 of a zlib
    one), and the checksums are computed here over the output as it is
    handed out.  Inside the deflate data zlib does not say how far it read:
    there the offset is the first byte of the input the failing call was
    given, and the bad bytes are at or after it.
    """

    _GZIP_MAGIC = b"\x1f\x8b"
    # The first 4 bytes of nearly every gzip member: magic, CM deflate, no flags.
    _GZIP_PLAIN = b"\x1f\x8b\x08\x00"
    # RFC 1952 §2.3.1: FLG bits.
    _FHCRC, _FEXTRA, _FNAME, _FCOMMENT, _FRESERVED = 0x02, 0x04, 0x08, 0x10, 0xE0

    def __init__(self, name: str, max_members: int) -> None:
        super().__init__()
        self.name = name
        self._max_members = max_members
        self._members = 0
        self._tail = b""  # compressed bytes not yet consumed
        self._offset = 0  # compressed bytes consumed so far (framing and deflate data)
        self._d: zlib._Decompress | None = None
        #: "start" (before a gzip member or a deflate stream), "fixed" /
        #: "extra-len" / "extra" / "name" / "comment" / "hcrc" (gzip header
        #: fields), "data" (deflate), "trailer", "done" (a zlib or raw deflate
        #: stream ended: nothing may follow).
        self._state = "start"
        self._field = b""  # a fixed-size field being collected
        self._need = 0  # bytes of it still missing, or of FEXTRA to skip
        self._flags = 0
        self._hcrc = 0  # CRC-32 of the gzip header so far (FHCRC)
        self._check = 0  # CRC-32 (gzip) or Adler-32 (zlib) of the output so far
        self._size = 0  # output bytes of this member, for ISIZE
        self._trailer = 0  # trailer bytes: 8 (gzip), 4 (zlib), 0 (raw)

    def push(self, data: bytes) -> None:
        self._tail = self._tail + data if self._tail else data

    def _take(self, n: int) -> bytes:
        """The next ``n`` bytes of ``_tail`` (fewer if it is shorter), consumed."""
        piece, self._tail = self._tail[:n], self._tail[n:]
        self._offset += len(piece)
        return piece

    def _collect(self, size: int, header: bool = True) -> bytes | None:
        """A fixed-size field, once all its bytes arrived; ``None`` until then.

        The bytes so far are in ``_field``; a ``header`` field counts towards
        the gzip header's CRC (FHCRC).
        """
        if not self._need and not self._field:
            self._need = size
        piece = self._take(self._need)
        self._need -= len(piece)
        if header:
            self._hcrc = zlib.crc32(piece, self._hcrc)
        self._field += piece
        if self._need:
            return None
        field, self._field = self._field, b""
        return field

    def _check_fixed(self, field: bytes, start: int) -> None:
        """ID1 ID2 CM FLG of a gzip header (RFC 1952 §2.3), as far as they arrived."""
        for i, byte in enumerate(field[:2]):
            if byte != self._GZIP_MAGIC[i]:
                what = "bytes after the last member" if self._members > 1 else "not a gzip header (magic)"
                raise self._fail(what, start + i)
        if len(field) > 2 and field[2] != 8:
            raise self._fail(f"gzip header: compression method {field[2]} is not deflate", start + 2)
        if len(field) > 3 and field[3] & self._FRESERVED:
            raise self._fail("gzip header: reserved flag bits set", start + 3)

    def _start(self) -> bool:
        """Begin the next stream on ``_tail``; False when more bytes are needed to choose."""
        if self.name == "gzip":
            self._members += 1
            if self._members > self._max_members:
                raise self._fail(f"more than {self._max_members} gzip members", self._offset)
            self._trailer = 8
            self._check = 0  # zlib.crc32(b"")
            tail = self._tail
            if len(tail) >= 10 and tail[:4] == self._GZIP_PLAIN:
                # The usual header, whole: nothing optional, nothing more to check.
                self._tail = tail[10:]
                self._offset += 10
                self._state, self._size = "data", 0
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
            else:
                self._state, self._hcrc = "fixed", 0
            return True
        # deflate is zlib-wrapped per RFC 9110 §8.4.1.2, but servers send raw
        # deflate too; browsers tell them apart by the zlib header (RFC 1950 §2.2).
        if len(self._tail) < 2:
            return False
        cmf, flg = self._tail[0], self._tail[1]
        if cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf << 8 | flg) % 31 == 0:
            if flg & 0x20:
                raise self._fail("zlib stream with a preset dictionary (FDICT)", self._offset + 1)
            self._take(2)
            self._trailer = 4
            self._check = 1  # zlib.adler32(b"")
        self._begin_data()
        return True

    def _begin_data(self) -> None:
        self._state, self._size = "data", 0
        self._d = zlib.decompressobj(-zlib.MAX_WBITS)

    def _gzip_header(self) -> bool:
        """Read gzip header fields from ``_tail``; True once the header is complete."""
        while self._tail:
            state = self._state
            if state == "fixed":  # ID1 ID2 CM FLG MTIME(4) XFL OS
                start = self._offset - len(self._field)
                field = self._collect(10)
                self._check_fixed(self._field if field is None else field, start)
                if field is None:
                    return False
                self._flags = field[3]
                self._state = "extra-len"
            elif state == "extra-len":
                if self._flags & self._FEXTRA:
                    field = self._collect(2)
                    if field is None:
                        return False
                    self._need = int.from_bytes(field, "little")
                    self._state = "extra"
                else:
                    self._state = "name"
            elif state == "extra":
                skipped = self._take(self._need)
                self._hcrc = zlib.crc32(skipped, self._hcrc)
                self._need -= len(skipped)
                if self._need:
                    return False
                self._state = "name"
            elif state in ("name", "comment"):
                flag = self._FNAME if state == "name" else self._FCOMMENT
                if self._flags & flag:
                    end = self._tail.find(b"\0")
                    skipped = self._take(len(self._tail) if end < 0 else end + 1)
                    self._hcrc = zlib.crc32(skipped, self._hcrc)
                    if end < 0:
                        return False
                self._state = "comment" if state == "name" else "hcrc"
            elif state == "hcrc":
                if self._flags & self._FHCRC:
                    expected = self._hcrc & 0xFFFF
                    start = self._offset - len(self._field)
                    field = self._collect(2, header=False)
                    if field is None:
                        return False
                    if int.from_bytes(field, "little") != expected:
                        raise self._fail("gzip header: header CRC (FHCRC) mismatch", start)
                self._begin_data()
                return True
        return False

    def _end_stream(self, field: bytes) -> None:
        """Check the trailer just read (``_trailer`` bytes, ending at ``_offset``)."""
        start = self._offset - self._trailer
        if self._trailer == 8:  # gzip, RFC 1952 §2.3.1: CRC32 then ISIZE, little-endian
            crc, isize = _GZIP_TRAILER.unpack(field)
            if crc != self._check:
                raise self._fail("gzip trailer: CRC-32 does not match the data", start)
            if isize != self._size & 0xFFFFFFFF:
                raise self._fail("gzip trailer: ISIZE does not match the data's length", start + 4)
            self._state = "start"  # another member may follow (RFC 1952 §2.2)
        else:  # zlib, RFC 1950 §2.2: ADLER32, big-endian
            if _ZLIB_TRAILER.unpack(field)[0] != self._check:
                raise self._fail("zlib trailer: Adler-32 does not match the data", start)
            self._state = "done"

    def _produce(self, limit: int) -> bytes:
        while True:
            d = self._d
            if d is not None:  # in the deflate data: nearly every call
                tail = self._tail
                try:
                    out = d.decompress(tail, limit)
                except zlib.error as exc:
                    raise self._fail(f"invalid deflate data ({exc})", self._offset) from None
                rest = d.unconsumed_tail or d.unused_data
                self._offset += len(tail) - len(rest)
                self._tail = rest
                if out:
                    self._size += len(out)
                    if self._trailer == 8:
                        self._check = zlib.crc32(out, self._check)
                    elif self._trailer:
                        self._check = zlib.adler32(out, self._check)
                if d.eof:
                    self._d = None
                    self._state = "trailer" if self._trailer else "done"
                elif not out and not rest:
                    # Nothing held back: zlib emits what it can when output room is left.
                    return b""
                if out:
                    return out
                continue
            tail = self._tail
            if not tail:
                return b""
            state = self._state
            if state == "trailer":
                n = self._trailer
                if not self._field and len(tail) >= n:  # whole: the usual case
                    field: bytes | None = tail[:n]
                    self._tail = tail[n:]
                    self._offset += n
                else:
                    field = self._collect(n, header=False)
                    if field is None:
                        return b""
                assert field is not None
                self._end_stream(field)
            elif state == "start":
                if not self._start():
                    return b""
            elif state == "done":
                raise self._fail("bytes after the end of the stream", self._offset)
            elif not self._gzip_header():
                return b""

    def close(self) -> None:
        if self._state in ("start", "done") and not self._tail:
            return
        if self._state == "start" and self.name == "gzip":
            return  # the last member ended; nothing more came
        # An undecided deflate prefix, a header, deflate data or a trailer cut short.
        raise self._fail("truncated stream", self._offset + len(self._tail))


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
        self._given = 0  # where the input last given to the decoder started

    def push(self, data: bytes) -> None:
        self._pending = self._pending + data if self._pending else data

    def _produce(self, limit: int) -> bytes:
        d = self._d
        try:
            while not d.is_finished():
                # New input only once the decoder took the last (so an error is
                # always in the last input given); an empty call drains the
                # output it holds back past the limit.
                data = b""
                if self._pending and d.can_accept_more_data():
                    data, self._pending = self._pending, b""
                    self._given = self._offset
                    self._offset += len(data)
                out: bytes = d.process(data, output_buffer_limit=limit)
                if out:
                    return out
                if not data:
                    return b""
        except self._error:
            raise self._fail("corrupt stream", self._given) from None
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
        start = self._offset
        try:
            while self._tail:
                start = self._offset  # at most one block is given per call: the bad bits are after this
                pieces = self._take()
                if pieces:
                    out: bytes = self._d.decompress(b"".join(pieces))  # type: ignore[attr-defined]
                    if out:
                        return out
        except self._error:
            raise self._fail("corrupt stream", start) from None
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
