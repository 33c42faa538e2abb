"""Leak check for both writer twins: memory flat over many messages, in a subprocess.

Each round drives every path that allocates in the C twin: a head that fits
the stack buffer and one that moves to the heap, chunked bodies with
trailers, compression, borrowed buffers, the gated piecewise path, and
errors raised halfway through a head (the heap buffer must still be freed).
``tracemalloc`` sees ``PyMem_Malloc``, so memory still held after many
rounds is a leak.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wirespeed.wire import Wire

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import gc, sys, tracemalloc
    from wirespeed import wire
    from wirespeed.errors import HeaderValidationError

    impl = wire.load(sys.argv[1])
    impl.writer_module.WRITELINES_SAFE = False  # also the piecewise path

    class T:
        def write(self, data): pass
        def writelines(self, data): pass
        def is_closing(self): return False
        def get_extra_info(self, name, default=None): return default
        def get_write_buffer_size(self): return 0

    small = {"Host": "example.com", "Accept": "*/*"}
    big = [("X-F%d" % i, "v" * 100) for i in range(60)]
    bad_late = big + [("X-Bad", "\\ud800")]
    body = bytearray(b"b" * 20000)

    def one_round():
        t = T()
        w = impl.StreamWriter(t)
        w.write_headers("GET / HTTP/1.1", small)
        w.write_eof()
        w = impl.StreamWriter(t)
        w.write_request_headers("POST", "/x", big)
        w.enable_chunking()
        w.write(memoryview(body))
        w.write_eof(b"tail", trailers=big)
        w = impl.StreamWriter(t)
        w.write_response_headers(200, "OK", small)
        w.enable_compression("gzip")
        w.write(b"z" * 1000)
        w.write_eof(b"z" * 1000)
        for headers in (bad_late, [("X", "a\\r\\nb")], [("bad name", "v")]):
            try:
                impl.StreamWriter(t).write_headers("GET / HTTP/1.1", headers)
            except HeaderValidationError:
                pass

    for _ in range(200):
        one_round()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(3000):
        one_round()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    print(after - before)
    """
)


@pytest.mark.leak
def test_writer_memory_is_flat_over_many_messages(wire_impl: Wire) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "python"))
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, wire_impl.IMPLEMENTATION],
        capture_output=True, text=True, env=env, timeout=300, check=True,
    )
    grown = int(out.stdout.strip())
    # One leaked head per round would be over 3000 * 6 KiB; allow a few KiB of caches.
    assert grown < 64 * 1024, f"{grown} bytes still held after 3000 rounds"
