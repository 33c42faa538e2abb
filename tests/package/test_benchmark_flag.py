"""``pytest --benchmark`` is how users are told to benchmark wirespeed: the root
conftest adds the flag (pytest-benchmark alone rejects it).  With it, the
benchmarks under bench/ run with their peers, grouped; without it, a plain
``pytest`` leaves bench/ out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.c_extension  # the group compares the C twin with the others
def test_benchmark_flag_runs_one_group_with_its_peers(tmp_path: Path) -> None:
    report = tmp_path / "bench.json"
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "--benchmark", "-p", "no:cacheprovider",
            "bench/test_bench_writer.py", "-k", "test_small_get",
            "--benchmark-min-rounds=3", "--benchmark-max-time=0.01", "--benchmark-warmup=off",
            f"--benchmark-json={report}",
        ],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads(report.read_text())
    groups = {b["group"] for b in data["benchmarks"]}
    assert groups == {"writer: small GET"}
    names = " ".join(b["name"] for b in data["benchmarks"])
    for contender in ("c", "python", "aiohttp", "h11"):
        assert contender in names, names


def test_plain_pytest_leaves_benchmarks_out() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tests/package/test_switch.py" in result.stdout
    assert "bench/" not in result.stdout
