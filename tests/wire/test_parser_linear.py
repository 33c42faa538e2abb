"""The parser's work grows linearly with its input, however it is split (docs/parser.md, "Limits").

- The C twin resumes the search for a partial line's end where the last feed left it:
  a long field fed byte by byte costs the same per byte as a short one.  This is
  counted, not timed: instructions under callgrind (valgrind), one run, the two
  feedings told apart by the C-level function each runs under.
- Empty lines before a status line are bounded by ``max_line_size`` and skipped in
  bulk: megabytes of CRLF are rejected at the right byte, on both twins.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from wirespeed.errors import LineTooLong
from wirespeed.wire import Wire, _messages

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

# Feed 16 KiB of one field value byte by byte to one parser (one 16 KiB line), under
# map(), and the same bytes to eight parsers (eight 2 KiB lines), under filter(): the
# inclusive cost of map_next and filter_next (libpython functions) is each feeding's.
_SCRIPT = textwrap.dedent("""
    from collections import deque
    from wirespeed.wire import load

    Parser = load("c").ResponseParser
    TOTAL = 16384

    def parsers_and_pieces(count):
        work = []
        for _ in range(count):
            p = Parser("GET", max_field_size=1 << 20)
            p.feed(b"HTTP/1.1 200 OK\\r\\n")
            data = b"X: " + b"a" * (TOTAL // count)
            work.append((p, [data[i:i + 1] for i in range(len(data))]))
        return work

    one, eight = parsers_and_pieces(1), parsers_and_pieces(8)
    for p, pieces in one:
        deque(map(p.feed, pieces), 0)
    for p, pieces in eight:
        deque(filter(p.feed, pieces), 0)  # feed() returns [] here: filter() keeps nothing
""")


def _inclusive(annotated: str, function: str) -> int:
    match = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\S*:" + function + r"\b", annotated, re.M)
    assert match, f"{function} not in the callgrind profile"
    return int(match.group(1).replace(",", ""))


@pytest.mark.c_extension
@pytest.mark.skipif(shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None,
                    reason="counting instructions needs valgrind (callgrind)")
def test_c_twin_scans_a_line_fed_byte_by_byte_once(tmp_path: Path) -> None:
    """Each feed of a partial line once rescanned it from its start (265 ns per byte
    at 2 KB, 7.5 us at 32 KB).  One 16 KiB line must cost what eight 2 KiB lines do."""
    script = tmp_path / "feed.py"
    script.write_text(_SCRIPT)
    out = tmp_path / "callgrind.out"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, str(script)],
                   env=env, check=True, capture_output=True)
    annotated = subprocess.run(["callgrind_annotate", "--inclusive=yes", str(out)],
                               check=True, capture_output=True, text=True).stdout
    one_line, eight_lines = _inclusive(annotated, "map_next"), _inclusive(annotated, "filter_next")
    # linear: equal within noise; the quadratic scan cost 3x as much for the one line
    assert one_line < 1.1 * eight_lines, (one_line, eight_lines)


@pytest.mark.parametrize("piece", [None, 65536], ids=["whole", "64KiB-pieces"])
def test_megabytes_of_empty_lines_are_rejected_at_the_limit(wire_impl: Wire, piece: int | None) -> None:
    """10 MB of CRLF before a status line: LineTooLong at the first byte past
    max_line_size, without reading on (it once took the Python twin seconds per 10 MB)."""
    data = b"\r\n" * 5_000_000
    p = wire_impl.ResponseParser("GET")
    with pytest.raises(LineTooLong) as raised:
        for start in range(0, len(data), piece or len(data)):
            p.feed(data[start:start + (piece or len(data))])
    assert (raised.value.offset, raised.value.byte) == (8190, 0x0D)
    assert raised.value.message == _messages.EMPTY_LINES_TOO_LONG.format(8190)


def test_megabytes_of_empty_lines_within_a_raised_limit_are_skipped(wire_impl: Wire) -> None:
    lead = b"\r\n" * 5_000_000 + b"\n"
    p = wire_impl.ResponseParser("GET", max_line_size=len(lead))
    assert [type(e).__name__ for e in p.feed(lead + OK)] == ["ResponseHead", "MessageEnd"]
    p = wire_impl.ResponseParser("GET", max_line_size=len(lead) - 1)
    with pytest.raises(LineTooLong) as raised:
        p.feed(lead + OK)
    assert raised.value.offset == len(lead) - 1
