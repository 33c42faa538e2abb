"""The client benchmark harness still runs: a tiny run of it, so CI keeps it working.

``bench/`` is not collected by a plain ``pytest``; this runs the standalone
entry point at 1% scale on three contenders and checks that it produced a
table with a figure for each (the figures themselves are the benchmark's
business, not a test's).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_client_benchmark_harness_runs_at_tiny_scale(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "client_bench.py"), "--scale", "0.01", "--repeat", "1",
         "--contenders", "aiohttp,bare,wirespeed-c,wirespeed-py", "--loops", "asyncio", "--workloads", "seq",
         "--no-strace", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    table = (tmp_path / "client.md").read_text()
    for name in ("wirespeed C", "wirespeed Python", "aiohttp", "bare protocol"):
        assert f"| {name} | asyncio |" in table, name
    data = json.loads((tmp_path / "client.json").read_text())
    assert data
