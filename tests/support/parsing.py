"""Feeding a parser twin and summarising what it gave, for the wire tests.

``run`` feeds chunks (then EOF if asked) and returns a :class:`Result` of
everything a caller can observe; ``splits`` gives the ways one input is fed
(whole, byte by byte, seeded random splits, over bytes, bytearray and
memoryview).  Used by the parser table and the conformance runner.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from wirespeed.errors import HttpParserError, IncompleteMessage
from wirespeed.wire import Wire


@dataclass
class Result:
    """Everything a caller can observe after feeding one input."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    error: HttpParserError | None = None
    done: bool = False
    unconsumed: bytes = b""


def _take(impl: Wire, events: list[Any], fed: Any, messages: list[dict[str, Any]], copied_under: int = 0) -> None:
    """Add ``events`` to ``messages``; body pieces are slices of ``fed``, but for pieces shorter
    than ``copied_under`` bytes, which may come as bytes (the C parser's feed_view call)."""
    assert type(events) is list
    for ev in events:
        if isinstance(ev, impl.ResponseHead):
            assert not messages or messages[-1]["complete"], "a head inside an unfinished message"
            messages.append({
                "version": ev.version, "status": ev.status, "reason": ev.reason,
                "headers": list(ev.headers.items()), "raw_headers": tuple(ev.raw_headers),
                "keep_alive": ev.keep_alive, "chunked": ev.chunked,
                "content_length": ev.content_length, "upgrade": ev.upgrade,
                "body": b"", "trailers": [], "raw_trailers": (), "complete": False,
            })
        elif isinstance(ev, impl.MessageEnd):
            assert messages and not messages[-1]["complete"], "an end without a head"
            messages[-1]["trailers"] = list(ev.trailers.items())
            messages[-1]["raw_trailers"] = tuple(ev.raw_trailers)
            messages[-1]["complete"] = True
        elif type(ev) is bytes and copied_under:
            assert 0 < len(ev) < copied_under, f"a copied piece of {len(ev)} bytes"
            assert messages and not messages[-1]["complete"], "a body piece outside a message"
            messages[-1]["body"] += ev
        else:
            assert type(ev) is memoryview, f"unexpected event {ev!r}"
            assert len(ev) > 0, "empty body piece"
            assert len(ev) >= copied_under, "a short piece not copied"
            # a slice of what was fed, never a copy
            assert ev.obj is (fed.obj if type(fed) is memoryview else fed)
            assert messages and not messages[-1]["complete"], "a body piece outside a message"
            messages[-1]["body"] += bytes(ev)


#: How a chunk is fed: (parser, chunk) -> (events, the object their body pieces view).
Feed = Callable[[Any, Any], tuple[list[Any], Any]]


def run(impl: Wire, chunks: list[Any], *, method: str = "GET", strict: bool = False,
        eof: bool = False, limits: dict[str, int] | None = None, feed: Feed | None = None,
        copied_under: int = 0) -> Result:
    """Feed ``chunks`` (then EOF if asked) and summarise; a pending error counts as raised.

    ``feed`` replaces ``parser.feed(chunk)`` (the C parser's feed_view call, say), and
    ``copied_under`` allows body pieces shorter than that as bytes (see ``_take``)."""
    p = impl.ResponseParser(method, strict=strict, **(limits or {}))
    out = Result()
    try:
        for chunk in chunks:
            events, fed = feed(p, chunk) if feed is not None else (p.feed(chunk), chunk)
            _take(impl, events, fed, out.messages, copied_under)
        if p.error is None and eof:
            _take(impl, p.feed_eof(), None, out.messages)
    except HttpParserError as exc:
        out.error = exc
        assert p.error is exc
    if out.error is None and p.error is not None:
        out.error = p.error
    out.done = p.done
    out.unconsumed = bytes(p.unconsumed)
    return out


def error_facts(exc: HttpParserError | None) -> tuple[Any, ...] | None:
    if exc is None:
        return None
    facts: tuple[Any, ...] = (type(exc), exc.offset, exc.byte)
    if isinstance(exc, IncompleteMessage):
        facts += (exc.received, exc.expected)
    return facts


_KINDS: tuple[Callable[[bytes], Any], ...] = (bytes, bytearray, memoryview)
SPLITS = ["whole", "bytewise", "random"]


def splits(data: bytes, how: str) -> Iterator[list[Any]]:
    """The ways one input is fed: whole, byte by byte, seeded random splits; all input types."""
    if how == "whole":
        for kind in _KINDS:
            yield [kind(data)]
    elif how == "bytewise":
        yield [_KINDS[i % 3](data[i:i + 1]) for i in range(len(data))]
    else:
        for seed in range(4):
            rng = random.Random(seed * 7919 + len(data))
            n = min(len(data) - 1, rng.randint(1, 8))
            cuts = sorted(rng.sample(range(1, len(data)), n)) if n > 0 else []
            bounds = [0, *cuts, len(data)]
            yield [rng.choice(_KINDS)(data[a:b]) for a, b in itertools.pairwise(bounds)]
