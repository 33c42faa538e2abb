"""Fuzz the content decoder with atheris: any coding chain and any bytes either
decode, in pieces never above the cap, or raise ``ContentDecodingError``.

    python fuzz/fuzz_decoding.py -max_len=4096 -runs=1000000 [corpus_dir]
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from wirespeed.decoding import ContentDecoder
    from wirespeed.errors import ContentDecodingError

CODINGS = ["gzip", "x-gzip", "deflate", "br", "zstd", "identity"]
CAP = 4096


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    chain = ", ".join(fdp.PickValueInList(CODINGS) for _ in range(fdp.ConsumeIntInRange(1, 3)))
    step = fdp.ConsumeIntInRange(1, 512)
    body = fdp.ConsumeBytes(fdp.remaining_bytes())
    decoder = ContentDecoder(chain, max_output=CAP)
    try:
        for start in range(0, len(body), step):
            for piece in decoder.feed(body[start : start + step]):
                assert 0 < len(piece) <= CAP
        for piece in decoder.finish():
            assert 0 < len(piece) <= CAP
    except ContentDecodingError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
