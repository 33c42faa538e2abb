"""The content-decoding layer (docs/decoding.md): round trips, caps, bombs, bad streams.

Decoding is pure Python over zlib / brotli / zstandard, the same for both
twins of the wire layer, so these tests take no ``wire_impl``.
"""

from __future__ import annotations

import gzip
import random
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import brotli
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from wirespeed import decoding
from wirespeed.decoding import (
    DECODE_MAX_CODINGS,
    DECODE_MAX_MEMBERS,
    DECODE_MAX_OUTPUT,
    ContentDecoder,
    accept_encoding,
    available_codings,
)
from wirespeed.errors import ContentDecodingError, UnsupportedContentEncoding

MiB = 1 << 20


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


def zstd_stream(data: bytes) -> bytes:
    # Streaming output: no content size in the header, several blocks.
    c = zstandard.ZstdCompressor(write_checksum=True).compressobj()
    return c.compress(data) + c.flush()


#: case -> compressor; header_name(case) is the coding it is labelled with.
COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib.compress,
    "deflate-raw": raw_deflate,
    "br": brotli.compress,
    "zstd": zstandard.ZstdCompressor().compress,
    "zstd-stream": zstd_stream,
    "identity": lambda data: data,
}


def header_name(case: str) -> str:
    return case.split("-")[0] if case in ("deflate-raw", "zstd-stream") else case


def encode(codings: list[str], data: bytes) -> bytes:
    """Apply ``codings`` in header order, as a server does."""
    for coding in codings:
        data = COMPRESSORS[coding](data)
    return data


def decode_in_pieces(decoder: ContentDecoder, body: bytes, cuts: list[int]) -> list[bytes]:
    """Feed ``body`` cut at ``cuts`` and drain after each piece; return every output piece."""
    pieces: list[bytes] = []
    start = 0
    for end in [*sorted(cuts), len(body)]:
        pieces.extend(decoder.feed(body[start:end]))
        start = max(start, end)
    pieces.extend(decoder.finish())
    return pieces


def decode_all(header: str, body: bytes, *, step: int = 4096, **kw: int) -> bytes:
    decoder = ContentDecoder(header, **kw)
    return b"".join(decode_in_pieces(decoder, body, list(range(step, len(body), step))))


def sample(seed: int, size: int) -> bytes:
    """Half random, half repetitive: exercises stored and compressed blocks."""
    rnd = random.Random(seed)
    return rnd.randbytes(size // 2) + bytes(rnd.choice(b"ab\n") for _ in range(size - size // 2))


# -- round trips -------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(COMPRESSORS))
@settings(deadline=None, max_examples=40)
@given(data=st.binary(max_size=3000) | st.builds(sample, st.integers(0, 99), st.integers(0, 70000)),
       cuts=st.lists(st.integers(0, 100_000), max_size=12),
       max_output=st.sampled_from([1, 7, 4096, DECODE_MAX_OUTPUT]))
def test_round_trip_in_any_split(case: str, data: bytes, cuts: list[int], max_output: int) -> None:
    body = encode([case], data)
    decoder = ContentDecoder(header_name(case), max_output=max_output)
    pieces = decode_in_pieces(decoder, body, [c % (len(body) + 1) for c in cuts])
    assert b"".join(pieces) == data
    assert all(0 < len(p) <= max_output for p in pieces)
    assert decoder.done
    assert (decoder.bytes_in, decoder.bytes_out) == (len(body), len(data))


STACKS = [
    ["gzip", "br"],
    ["br", "gzip"],
    ["deflate", "zstd", "gzip"],
    ["deflate-raw", "x-gzip"],
    ["identity", "gzip", "identity"],
    ["zstd-stream", "zstd", "br", "deflate", "gzip"],
]


@pytest.mark.parametrize("stack", STACKS, ids=[",".join(s) for s in STACKS])
@settings(deadline=None, max_examples=15)
@given(seed=st.integers(0, 999), size=st.integers(0, 200_000), step=st.integers(1, 5000))
def test_stacked_codings_decode_in_reverse_order(stack: list[str], seed: int, size: int, step: int) -> None:
    data = sample(seed, size)
    header = ", ".join(header_name(c) for c in stack)
    assert decode_all(header, encode(stack, data), step=step, max_output=10_000) == data


def test_codings_are_case_insensitive_and_empty_elements_ignored() -> None:
    decoder = ContentDecoder(b" GZip ,, BR\t")
    assert decoder.codings == ("gzip", "br")
    body = brotli.compress(gzip.compress(b"hello"))
    assert b"".join(decoder.feed(body)) + b"".join(decoder.finish()) == b"hello"


@pytest.mark.parametrize("header", [None, "", "identity", " , identity,"])
def test_identity_passes_bytes_through_in_capped_pieces(header: str | None) -> None:
    decoder = ContentDecoder(header, max_output=1000)
    assert decoder.codings == ()
    pieces = decode_in_pieces(decoder, b"x" * 4500, [10])
    assert [len(p) for p in pieces] == [10, 1000, 1000, 1000, 1000, 490]


@pytest.mark.parametrize("case", sorted(COMPRESSORS))
def test_an_empty_body_decodes_to_nothing(case: str) -> None:
    decoder = ContentDecoder(header_name(case))
    assert list(decoder.finish()) == []
    assert decoder.done


def test_a_fed_buffer_may_be_reused_by_the_caller() -> None:
    body = gzip.compress(sample(1, 50_000))
    buf = bytearray(body)
    decoder = ContentDecoder("gzip", max_output=100)
    first = decoder.decode(memoryview(buf))
    buf[:] = b"\0" * len(buf)  # the parser's read buffer is refilled
    rest = b"".join(decoder.feed(b"")) + b"".join(decoder.finish())
    assert first + rest == sample(1, 50_000)


def test_pending_output_drains_at_flush() -> None:
    decoder = ContentDecoder("gzip", max_output=1000)
    assert len(decoder.decode(gzip.compress(b"z" * 5000))) == 1000
    assert [len(p) for p in decoder.finish()] == [1000] * 4


# -- members -----------------------------------------------------------------


def test_concatenated_gzip_members_decode_as_one_body() -> None:
    body = b"".join(gzip.compress(b"part%d " % i) for i in range(5))
    assert decode_all("gzip", body, step=3) == b"part0 part1 part2 part3 part4 "


def test_gzip_members_beyond_the_cap_are_an_error() -> None:
    body = gzip.compress(b"a") * DECODE_MAX_MEMBERS
    assert decode_all("gzip", body) == b"a" * DECODE_MAX_MEMBERS
    with pytest.raises(ContentDecodingError, match=f"more than {DECODE_MAX_MEMBERS} gzip members"):
        decode_all("gzip", body + gzip.compress(b""))


def test_member_cap_is_a_parameter() -> None:
    assert decode_all("gzip", gzip.compress(b"a") * 3, max_members=3) == b"aaa"
    with pytest.raises(ContentDecodingError, match="more than 2 gzip members"):
        decode_all("gzip", gzip.compress(b"a") * 3, max_members=2)


def skippable_frame(payload: bytes) -> bytes:
    return (0x184D2A5E).to_bytes(4, "little") + len(payload).to_bytes(4, "little") + payload


def test_zstd_frames_and_skippable_frames() -> None:
    c = zstandard.ZstdCompressor()
    body = c.compress(b"one ") + skippable_frame(b"ignored") + zstd_stream(b"two") + skippable_frame(b"")
    assert decode_all("zstd", body, step=1) == b"one two"
    with pytest.raises(ContentDecodingError, match="more than 3 frames"):
        decode_all("zstd", body, max_members=3)


# -- bad streams -------------------------------------------------------------

PAYLOAD = sample(7, 40_000)
BAD = [
    ("gzip", gzip.compress(PAYLOAD)[:-1], "truncated"),
    ("gzip", gzip.compress(PAYLOAD)[:5], "truncated"),
    ("gzip", gzip.compress(PAYLOAD)[:-8] + b"\0\0\0\0" + gzip.compress(PAYLOAD)[-4:], "gzip: .* at compressed offset"),
    ("gzip", gzip.compress(PAYLOAD) + b"trailing garbage", "bytes after the last member"),
    ("gzip", b"not gzip at all", "gzip: .*header"),
    ("deflate", zlib.compress(PAYLOAD)[:-3], "truncated"),
    ("deflate", zlib.compress(PAYLOAD) + b"!", "bytes after the end of the stream"),
    ("deflate", raw_deflate(PAYLOAD) + b"\0", "bytes after the end of the stream"),
    ("deflate", b"x", "truncated"),
    ("br", brotli.compress(PAYLOAD, quality=5)[:-2], "truncated"),
    ("br", brotli.compress(PAYLOAD, quality=5) + b"\0", "bytes after the end|corrupt"),
    ("br", b"\xff" * 50, "corrupt"),
    ("zstd", zstd_stream(PAYLOAD)[:-1], "truncated"),
    ("zstd", zstd_stream(PAYLOAD)[:-5] + b"\0\0\0\0\0", "corrupt"),
    ("zstd", zstd_stream(PAYLOAD) + b"junk", "bytes after the last frame"),
    ("zstd", zstd_stream(PAYLOAD) + b"\x28\xb5", "truncated"),
    ("zstd", b"plain text body", "not a zstd frame"),
    ("gzip, br", brotli.compress(gzip.compress(PAYLOAD)[:-1], quality=5), "gzip: truncated"),
]


@pytest.mark.parametrize("step", [1, 997, 1 << 30], ids=["byte", "pieces", "whole"])
@pytest.mark.parametrize(("header", "body", "match"), BAD, ids=[f"{h}-{i}" for i, (h, _, _) in enumerate(BAD)])
def test_bad_streams_raise_a_typed_error(header: str, body: bytes, match: str, step: int) -> None:
    with pytest.raises(ContentDecodingError, match=match):
        decode_all(header, body, step=step)


def test_an_error_sticks() -> None:
    decoder = ContentDecoder("gzip")
    with pytest.raises(ContentDecodingError) as first:
        decoder.decode(b"definitely not gzip")
    with pytest.raises(ContentDecodingError) as again:
        decoder.decode()
    assert again.value is first.value
    with pytest.raises(ContentDecodingError):
        list(decoder.finish())


def test_data_after_flush_is_refused() -> None:
    decoder = ContentDecoder("gzip")
    assert list(decoder.feed(gzip.compress(b"x"))) == [b"x"]
    assert list(decoder.finish()) == [] and decoder.done
    with pytest.raises(ContentDecodingError, match="after flush"):
        decoder.decode(b"more")


# -- unknown and unavailable codings -----------------------------------------


@pytest.mark.parametrize("header", ["compress", "x-compress", "gzip, snappy", "chunked", "gzip;q=1"])
def test_unknown_codings_raise_at_construction(header: str) -> None:
    with pytest.raises(UnsupportedContentEncoding) as info:
        ContentDecoder(header)
    assert info.value.coding is not None and info.value.coding in header
    assert repr(info.value.coding) in str(info.value)


@pytest.mark.parametrize(("module", "coding"), [("_brotli", "br"), ("_zstd", "zstd")])
def test_a_coding_whose_package_is_missing_is_unsupported(
    monkeypatch: pytest.MonkeyPatch, module: str, coding: str
) -> None:
    assert coding in available_codings()
    monkeypatch.setattr(decoding, module, None)
    with pytest.raises(UnsupportedContentEncoding, match="package") as info:
        ContentDecoder(f"gzip, {coding}")
    assert info.value.coding == coding
    assert coding not in available_codings() and coding not in accept_encoding()


def test_too_many_stacked_codings_are_unsupported() -> None:
    ContentDecoder(", ".join(["gzip"] * DECODE_MAX_CODINGS))
    with pytest.raises(UnsupportedContentEncoding, match="stacked"):
        ContentDecoder(", ".join(["gzip"] * (DECODE_MAX_CODINGS + 1)))


def test_accept_encoding_lists_what_is_decodable() -> None:
    assert accept_encoding() == "zstd, br, gzip, deflate"
    for coding in available_codings():
        ContentDecoder(coding)


# -- bombs -------------------------------------------------------------------


def gzip_zeros(size_mib: int) -> bytes:
    """gzip of ``size_mib`` MiB of zeros, built without compressing them all.

    A full flush empties the compressor's window, so every later MiB
    compresses to the same bytes: compress one, repeat it, and write the
    gzip header and trailer (RFC 1952 §2.3) around the raw deflate data.
    """
    zeros = bytes(MiB)
    c = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush()
    crc = 0
    for _ in range(size_mib):
        crc = zlib.crc32(zeros, crc)
    head = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = crc.to_bytes(4, "little") + (size_mib * MiB % 2**32).to_bytes(4, "little")
    return head + first + again * (size_mib - 1) + end + trailer


def zstd_zeros(size_mib: int) -> bytes:
    c = zstandard.ZstdCompressor(level=1).compressobj()
    zeros = bytes(MiB)
    return b"".join([*(c.compress(zeros) for _ in range(size_mib)), c.flush()])


def brotli_zeros(size_mib: int) -> bytes:
    c = brotli.Compressor(quality=1)
    zeros = bytes(MiB)
    return b"".join([*(c.process(zeros) for _ in range(size_mib)), c.finish()])


def chunks(body: bytes, size: int) -> Iterator[bytes]:
    return (body[i : i + size] for i in range(0, len(body), size))


def drain_bomb(header: str, body: bytes, feed_size: int) -> tuple[int, int, int]:
    """Decode ``body`` fed ``feed_size`` bytes at a time, keeping nothing.

    Returns (decoded bytes, largest piece, traced peak of Python memory).
    """
    decoder = ContentDecoder(header)
    total = largest = 0
    tracemalloc.start()
    try:
        for chunk in chunks(body, feed_size):
            for piece in decoder.feed(chunk):
                total += len(piece)
                largest = max(largest, len(piece))
            del chunk
        for piece in decoder.finish():
            total += len(piece)
            largest = max(largest, len(piece))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return total, largest, peak


#: Python memory a decoding run may peak at, whatever the body inflates to:
#: per stage, the piece being handed out and the library's growing output buffer, plus
#: the compressed input piece and its copies (docs/decoding.md, "Memory").
def memory_bound(stages: int, feed_size: int) -> int:
    return stages * 4 * DECODE_MAX_OUTPUT + 4 * feed_size + 256 * 1024


def test_gzip_bomb_of_one_gib_inflates_one_capped_piece_at_a_time() -> None:
    body = gzip_zeros(1024)
    assert len(body) < 1.1 * MiB
    total, largest, peak = drain_bomb("gzip", body, 64 * 1024)
    assert total == 1024 * MiB
    assert largest == DECODE_MAX_OUTPUT
    assert peak < memory_bound(1, 64 * 1024)


@pytest.mark.parametrize(
    ("header", "build", "stages"),
    [
        ("zstd", zstd_zeros, 1),
        ("br", brotli_zeros, 1),
        ("gzip, gzip", lambda n: gzip.compress(gzip_zeros(n)), 2),
        ("zstd, br", lambda n: brotli.compress(zstd_zeros(n)), 2),
    ],
    ids=["zstd", "br", "gzip-gzip", "zstd-br"],
)
def test_other_bombs_stay_within_the_cap(header: str, build: Callable[[int], bytes], stages: int) -> None:
    body = build(256)
    total, largest, peak = drain_bomb(header, body, 16 * 1024)
    assert total == 256 * MiB
    assert largest <= DECODE_MAX_OUTPUT
    assert peak < memory_bound(stages, 16 * 1024)


def test_zstd_rle_blocks_never_outgrow_the_cap() -> None:
    # Hand-made frame of 128 KiB RLE blocks, 4 bytes each (RFC 8878 §3.1.1.2):
    # the densest zstd there is.
    blocks = 2000
    rle = ((128 * 1024) << 3 | 1 << 1).to_bytes(3, "little") + b"\0"
    last = ((128 * 1024) << 3 | 1 << 1 | 1).to_bytes(3, "little") + b"\0"
    frame = (0xFD2FB528).to_bytes(4, "little") + bytes([0x00, 0x50]) + rle * (blocks - 1) + last
    total, largest, peak = drain_bomb("zstd", frame, len(frame))
    assert total == blocks * 128 * 1024
    assert largest <= DECODE_MAX_OUTPUT
    assert peak < memory_bound(1, len(frame))


def test_a_caller_that_stops_pulling_stops_the_inflation() -> None:
    decoder = ContentDecoder("gzip")
    body = gzip_zeros(64)
    assert len(decoder.decode(body)) == DECODE_MAX_OUTPUT
    assert decoder.bytes_out == DECODE_MAX_OUTPUT  # nothing decoded ahead of demand


# -- where the bad bytes are: the offset in a ContentDecodingError ---------------------
#
# The gzip and zlib containers are read by the decoder itself, so an error in
# a header or trailer names the offset of the field at fault, whatever the
# split; inside the deflate data the offset is where the failing call's input
# started (docs/decoding.md, "Errors").

GZ = gzip.compress(PAYLOAD)
ZL = zlib.compress(PAYLOAD)


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


def gzip_member(data: bytes, *, flags: int = 0, extra: bytes = b"", name: bytes = b"", comment: bytes = b"",
                hcrc: int | None = None) -> bytes:
    """A gzip member with the optional header fields of RFC 1952 §2.3.1."""
    header = b"\x1f\x8b\x08" + bytes([flags]) + b"\0\0\0\0\0\xff"
    if flags & 0x04:
        header += len(extra).to_bytes(2, "little") + extra
    if flags & 0x08:
        header += name + b"\0"
    if flags & 0x10:
        header += comment + b"\0"
    if flags & 0x02:
        header += (zlib.crc32(header) & 0xFFFF if hcrc is None else hcrc).to_bytes(2, "little")
    trailer = zlib.crc32(data).to_bytes(4, "little") + (len(data) & 0xFFFFFFFF).to_bytes(4, "little")
    return header + raw_deflate(data) + trailer


STEPS = pytest.mark.parametrize("step", [1, 997, 1 << 30], ids=["byte", "pieces", "whole"])


def error_of(header: str, body: bytes, step: int) -> str:
    with pytest.raises(ContentDecodingError) as info:
        decode_all(header, body, step=step)
    return str(info.value)


@STEPS
@pytest.mark.parametrize(
    ("header", "body", "message"),
    [
        pytest.param("gzip", flip(GZ, len(GZ) - 8), f"gzip: gzip trailer: CRC-32 does not match the data at compressed offset {len(GZ) - 8}", id="gzip-crc"),
        pytest.param("gzip", flip(GZ, len(GZ) - 1), f"gzip: gzip trailer: ISIZE does not match the data's length at compressed offset {len(GZ) - 4}", id="gzip-isize"),
        pytest.param("gzip", GZ + flip(GZ, len(GZ) - 6), f"gzip: gzip trailer: CRC-32 does not match the data at compressed offset {2 * len(GZ) - 8}", id="second-member-crc"),
        pytest.param("deflate", flip(ZL, len(ZL) - 2), f"deflate: zlib trailer: Adler-32 does not match the data at compressed offset {len(ZL) - 4}", id="zlib-adler"),
        pytest.param("gzip", b"\x1f\x8c" + GZ[2:], "gzip: not a gzip header (magic) at compressed offset 1", id="magic"),
        pytest.param("gzip", GZ[:2] + b"\x07" + GZ[3:], "gzip: gzip header: compression method 7 is not deflate at compressed offset 2", id="method"),
        pytest.param("gzip", GZ[:3] + b"\x20" + GZ[4:], "gzip: gzip header: reserved flag bits set at compressed offset 3", id="reserved-flag"),
        pytest.param("gzip", GZ + b"\x1f\x8b\x09", f"gzip: gzip header: compression method 9 is not deflate at compressed offset {len(GZ) + 2}", id="second-member-method"),
        pytest.param("gzip", GZ + b"junk", f"gzip: bytes after the last member at compressed offset {len(GZ)}", id="junk-after-member"),
        pytest.param("deflate", ZL + b"!", f"deflate: bytes after the end of the stream at compressed offset {len(ZL)}", id="junk-after-zlib"),
        pytest.param("deflate", ZL[:1] + bytes([ZL[1] | 0x20]) + ZL[2:], None, id="fdict"),
        pytest.param("gzip", gzip_member(b"x", flags=0x02, hcrc=0), "gzip: gzip header: header CRC (FHCRC) mismatch at compressed offset 10", id="fhcrc"),
        pytest.param("gzip", GZ[:-3], f"gzip: truncated stream at compressed offset {len(GZ) - 3}", id="truncated-trailer"),
    ],
)
def test_the_error_names_the_offset_of_the_field_at_fault(header: str, body: bytes, message: str | None, step: int) -> None:
    if message is None:  # FDICT: a valid zlib header (FCHECK fixed up) asking for a preset dictionary
        cmf, flg = body[0], body[1] & ~0x1F
        flg |= 31 - ((cmf << 8 | flg) % 31)
        body = bytes([cmf, flg]) + body[2:]
        message = "deflate: zlib stream with a preset dictionary (FDICT) at compressed offset 1"
    assert error_of(header, body, step) == message


def test_a_bad_crc_fed_in_one_piece_is_reported_at_the_trailer() -> None:
    # It used to say "compressed offset 0": where the failing call's input began.
    body = gzip.compress(b"hello world")
    bad = body[:-8] + bytes([body[-8] ^ 1]) + body[-7:]
    decoder = ContentDecoder("gzip")
    with pytest.raises(ContentDecodingError, match=rf"CRC-32 .* at compressed offset {len(body) - 8}$"):
        decoder.decode(bad)
        decoder.flush()


@STEPS
def test_inside_the_deflate_data_the_offset_is_where_the_failing_input_began(step: int) -> None:
    # 0xff starts a block of reserved type 3 (RFC 1951 §3.2.3): bad from its first byte.
    body = GZ[:10] + b"\xff" * 20
    message = error_of("gzip", body, step)
    assert message.startswith("gzip: invalid deflate data (") and "invalid block type" in message
    # Whole or in pieces the input of the failing call starts at the deflate data (offset 10).
    assert message.endswith("at compressed offset 10")


@STEPS
@pytest.mark.parametrize(
    "flags", [0x02, 0x04, 0x08, 0x10, 0x1E], ids=["fhcrc", "fextra", "fname", "fcomment", "all"]
)
def test_gzip_headers_with_optional_fields_decode_in_any_split(flags: int, step: int) -> None:
    member = gzip_member(PAYLOAD, flags=flags, extra=b"AB\x02\x00xy", name=b"payload.bin", comment=b"made for a test")
    assert decode_all("gzip", member + gzip.compress(b"tail"), step=step) == PAYLOAD + b"tail"


@STEPS
def test_a_bad_zstd_checksum_is_found_in_the_checksum_bytes(step: int) -> None:
    body = zstd_stream(PAYLOAD)
    bad = body[:-4] + bytes([body[-4] ^ 1]) + body[-3:]
    message = error_of("zstd", bad, step)
    offset = int(message.rsplit(" ", 1)[1])
    assert message.startswith("zstd: corrupt stream at compressed offset")
    # The checksum's bytes are the failing call's input: whole, from its first byte;
    # byte by byte, the last one, whose arrival completes the check.
    assert len(body) - 4 <= offset < len(body)
