"""``pytest --benchmark`` is how users are told to benchmark wirespeed: the root
conftest adds the flag (pytest-benchmark alone rejects it).  With it, the
benchmarks under bench/ run with their peers, grouped; without it, a plain
``pytest`` leaves bench/ out.  pytest-benchmark's own ``--benchmark-only``
does what its users expect: it runs bench/, not a suite of skipped tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: One small group, few short rounds: the flags are under test, not the figures.
QUICK = ["-k", "test_small_get", "--benchmark-min-rounds=3", "--benchmark-max-time=0.01", "--benchmark-warmup=off"]


def pytest_run(*args: str) -> subprocess.CompletedProcess[str]:
    # Not a worker of this run's pytest-xdist: pytest-benchmark would disable itself.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )


def benchmark_report(tmp_path: Path, *args: str) -> dict[str, Any]:
    report = tmp_path / "bench.json"
    result = pytest_run(*args, *QUICK, f"--benchmark-json={report}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert report.exists(), result.stdout[-3000:]
    data: dict[str, Any] = json.loads(report.read_text())
    return data


@pytest.mark.c_extension  # the group compares the C twin with the others
def test_benchmark_flag_runs_one_group_with_its_peers(tmp_path: Path) -> None:
    data = benchmark_report(tmp_path, "--benchmark", "bench/test_bench_writer.py")
    groups = {b["group"] for b in data["benchmarks"]}
    assert groups == {"writer: small GET"}
    names = " ".join(b["name"] for b in data["benchmarks"])
    for contender in ("c", "python", "aiohttp", "h11"):
        assert contender in names, names


@pytest.mark.c_extension
def test_benchmark_only_without_paths_runs_the_benchmarks(tmp_path: Path) -> None:
    data = benchmark_report(tmp_path, "--benchmark-only")
    assert data["benchmarks"], "no benchmark ran"
    assert {b["group"] for b in data["benchmarks"]} == {"writer: small GET"}
    assert all(b["fullname"].startswith("bench/") for b in data["benchmarks"])


@pytest.mark.parametrize("flag", ["--benchmark", "--benchmark-only"])
def test_benchmark_flags_collect_bench_and_not_the_tests(flag: str) -> None:
    result = pytest_run(flag, "--collect-only", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "bench/test_bench_writer.py::" in result.stdout
    assert "tests/" not in result.stdout


def test_plain_pytest_leaves_benchmarks_out() -> None:
    result = pytest_run("--collect-only", "-q")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tests/package/test_switch.py" in result.stdout
    assert "bench/" not in result.stdout
