"""Running a leak check's workload in a fresh interpreter (tests/*/test_*_leaks.py).

A workload is a script that takes the twin's name, the warm-up rounds and the
measured rounds as its arguments and prints one JSON object of the growth it
measured; a fresh interpreter keeps other tests' objects out of the figures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any


def run_workload(workload: str, implementation: str, warmup: int, rounds: int) -> dict[str, Any]:
    """Run ``workload`` with warnings as errors and the twin given (never forced to Python)."""
    env = {k: v for k, v in os.environ.items() if k != "WIRESPEED_NO_EXTENSIONS"}
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", workload, implementation, str(warmup), str(rounds)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)  # type: ignore[no-any-return]
