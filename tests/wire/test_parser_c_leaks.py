"""The parser keeps no memory per message: no leaked reference, buffer or cache entry.

Each check runs in a fresh interpreter (so other tests' objects do not blur the
figures): a workload of good, split, erroring and upgraded responses runs once
to warm every cache and pool, then many more times; memory traced by
``tracemalloc`` (every PyMem/PyObject allocation, which is where the C twin keeps
its carry buffer, field spans and learned names) and the number of live objects
must stay where the warm-up left them.  A leaked reference per message, an
unreleased buffer or a carry buffer that is never freed shows up as growth
proportional to the message count, far above the allowance.
"""

from __future__ import annotations

import textwrap

import pytest

from support.leaks import run_workload
from wirespeed.wire import Wire

WARMUP = 200
ROUNDS = 1000

# One round of the workload; `twin` is the namespace wire.load() returns.
WORKLOAD = textwrap.dedent(
    r"""
    import gc, json, sys, tracemalloc
    from wirespeed import wire
    from wirespeed.errors import HttpParserError

    twin = wire.load(sys.argv[1])
    Parser = twin.ResponseParser
    HEAD = (b"HTTP/1.1 200 OK\r\nServer: leak-check\r\nX-Custom-%d: v\r\n"
            b"Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
    GOOD = [HEAD % i for i in range(8)]
    CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"3;ext=\"q\"\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n")
    FOLDED = b"HTTP/1.0 200 OK\nX-Long: a\n  b\nConnection: keep-alive\nContent-Length: 1\n\nx"
    UPGRADE = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello"
    BAD = [
        b"ICY 200 OK\r\n\r\n",                                        # bad status line
        b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",                    # invalid header
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * 200 + b"\r\n\r\n",        # field too long
        b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",             # bad content length
        b"HTTP/1.1 200 OK\r\nServer: a\r\nX-New-%d: b\r\nContent-Length: 1x\r\n\r\n" % 7,  # after kept fields
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",  # bad chunk
        GOOD[0] + b"garbage\r\n\r\n",                                 # error after a message
    ]

    def drain(parser, data, pieces):
        # feed in `pieces` parts, then end the stream; collect what a client keeps
        out = []
        step = max(1, len(data) // pieces)
        try:
            for i in range(0, len(data), step):
                out += parser.feed(data[i:i + step])
            out += parser.feed_eof()
        except HttpParserError as exc:
            out.append(exc)
        for event in out:
            if isinstance(event, twin.ResponseHead):
                event.raw_headers, event.headers.get("server")
            elif isinstance(event, twin.MessageEnd):
                event.raw_trailers
            elif isinstance(event, memoryview):
                bytes(event)
        return out

    def one_round():
        reused = Parser(max_field_size=100)
        for data in GOOD:
            reused.feed(data)   # heads whose fields are never read: the C twin never builds their map
        drain(reused, b"".join(GOOD), 3)
        drain(Parser(), CHUNKED, 7)
        drain(Parser(), bytearray(FOLDED), 1)
        drain(Parser(), memoryview(CHUNKED), len(CHUNKED))
        upgraded = Parser()
        drain(upgraded, UPGRADE, 2)
        upgraded.unconsumed
        for data in BAD:
            drain(Parser(max_field_size=100), data, 1)
            drain(Parser(max_field_size=100), data, len(data))

    tracemalloc.start()
    for _ in range(int(sys.argv[2])):
        one_round()
    gc.collect()
    before_bytes = tracemalloc.get_traced_memory()[0]
    before_objects = len(gc.get_objects())
    for _ in range(int(sys.argv[3])):
        one_round()
    gc.collect()
    after_bytes = tracemalloc.get_traced_memory()[0]
    after_objects = len(gc.get_objects())
    print(json.dumps({"bytes": after_bytes - before_bytes, "objects": after_objects - before_objects}))
    """
)


def measure(implementation: str, workload: str = WORKLOAD) -> dict[str, int]:
    return run_workload(workload, implementation, WARMUP, ROUNDS)


@pytest.mark.leak
def test_parsing_many_messages_does_not_grow_memory(wire_impl: Wire) -> None:
    growth = measure(wire_impl.IMPLEMENTATION)
    # one leaked 2-tuple or str per round would already be ~50 KB over 1000 rounds
    assert growth["bytes"] < 32 * 1024, growth
    assert growth["objects"] < 50, growth


@pytest.mark.leak
def test_a_leak_of_one_object_per_round_would_be_caught(wire_impl: Wire) -> None:
    """The measurement is sensitive: the same workload keeping one list per round fails it."""
    leaky = WORKLOAD.replace("def one_round():", "KEPT = []\ndef one_round():\n    KEPT.append([])")
    growth = measure(wire_impl.IMPLEMENTATION, leaky)
    assert growth["objects"] >= ROUNDS, growth
    assert growth["bytes"] >= 32 * 1024, growth
