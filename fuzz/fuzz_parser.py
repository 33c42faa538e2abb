"""Fuzz the two response parser twins against each other with atheris.

Each input picks parser options and cut points, then the rest is the stream:
both twins are fed the same pieces and must give the same outcome (events,
error class/offset/byte and its text ``str(exc)``, ``done``, ``unconsumed``), and nothing but an
``HttpParserError`` may escape either.  Python code is instrumented for
coverage; the C twin is exercised as a black box.

    python fuzz/fuzz_parser.py -max_len=4096 -runs=1000000 [corpus_dir]
"""

from __future__ import annotations

import itertools
import sys
import types
from typing import Any

import atheris

with atheris.instrument_imports():
    from wirespeed import wire
    from wirespeed.errors import HttpParserError, IncompleteMessage

    # load() imports the twins: inside the block, so the Python one is instrumented.
    TWINS = (wire.load("c"), wire.load("python"))
METHODS = ["GET", "HEAD", "CONNECT", "head"]


def outcome(impl: types.SimpleNamespace, chunks: list[bytes], options: dict[str, Any]) -> tuple[Any, ...]:
    parser = impl.ResponseParser(**options)
    events: list[Any] = []

    def collect(batch: list[Any]) -> None:
        for ev in batch:
            if isinstance(ev, impl.ResponseHead):
                events.append(("head", tuple(ev.version), ev.status, ev.reason, tuple(ev.headers.items()),
                               tuple(map(tuple, ev.raw_headers)), ev.keep_alive, ev.chunked,
                               ev.content_length, ev.upgrade))
            elif isinstance(ev, impl.MessageEnd):
                events.append(("end", tuple(ev.trailers.items()), tuple(map(tuple, ev.raw_trailers))))
            elif events and events[-1][0] == "body":  # piece boundaries follow the cuts
                events[-1] = ("body", events[-1][1] + bytes(ev))
            else:
                events.append(("body", bytes(ev)))

    try:
        for chunk in chunks:
            collect(parser.feed(chunk))
        collect(parser.feed_eof())
    except HttpParserError as exc:
        error: tuple[Any, ...] = (type(exc).__name__, exc.offset, exc.byte)
        if isinstance(exc, IncompleteMessage):
            error += (exc.received, exc.expected)
        error += (str(exc),)  # the messages are shared: the text agrees too
        return (events, error)
    return (events, None, parser.done, bytes(parser.unconsumed))


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    options: dict[str, Any] = {"method": fdp.PickValueInList(METHODS), "strict": fdp.ConsumeBool()}
    if fdp.ConsumeBool():
        options["max_line_size"] = fdp.ConsumeIntInRange(1, 80)
        options["max_field_size"] = fdp.ConsumeIntInRange(1, 80)
        options["max_headers"] = fdp.ConsumeIntInRange(0, 8)
    cuts = sorted(fdp.ConsumeIntInRange(0, 4096) for _ in range(fdp.ConsumeIntInRange(0, 8)))
    stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    bounds = [0, *(min(c, len(stream)) for c in cuts), len(stream)]
    chunks = [stream[a:b] for a, b in itertools.pairwise(bounds)]
    c, py = (outcome(twin, chunks, options) for twin in TWINS)
    if c != py:
        raise AssertionError(f"twins differ on {stream!r} cut at {cuts} with {options}:\nC:      {c}\nPython: {py}")


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
