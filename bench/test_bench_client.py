"""Client benchmarks under ``pytest --benchmark``: one test per workload.

Each test runs every contender (wirespeed's ClientSession on both wire twins,
aiohttp, httpx, pyreqwest, aiosonic and the bare-protocol limit) on the
default asyncio loop and on uvloop, each run in its own client process
against its own server process, repeated round-robin; it prints the
workload's table and merges it into ``bench/results/client.md``,
``client.json`` and ``client.png``.  What is measured and how:
``bench/client_bench.py``.

pytest-benchmark's timer cannot give these figures (CPU time per request of
another process, all its threads counted): each test hands the whole run to
``benchmark.pedantic`` once, so its row in pytest-benchmark's table is the
wall time of the whole workload, and the test runs (or is skipped) with the
other benchmarks under ``--benchmark``, ``--benchmark-only`` and
``--benchmark-skip``.  The per-request figures are in the printed table, in
the files above and in the row's ``extra_info``.

Run: ``.venv/bin/python -m pytest --benchmark bench/test_bench_client.py``
(``-k seq`` for one workload).  Environment: ``WIRESPEED_BENCH_SCALE``
multiplies the request counts (0.1 for a quick run), ``WIRESPEED_BENCH_REPEAT``
sets the runs per contender (3), ``WIRESPEED_BENCH_CONTENDERS`` and
``WIRESPEED_BENCH_LOOPS`` narrow the field (comma-separated).  The same from
the command line: ``python bench/client_bench.py --help``.

A contender that cannot run is a line in the table (wirespeed's "not built
yet", a peer "not installed").  A wirespeed run that fails fails its test
after the results are written; a peer's failure is only reported.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

import client_bench
import client_report


def _env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    chosen = [v for v in value.split(",") if v]
    unknown = [v for v in chosen if v not in default]
    if unknown:
        pytest.fail(f"{name}: unknown {', '.join(unknown)} (choose from {', '.join(default)})")
    return chosen


@pytest.mark.parametrize("workload", client_bench.WORKLOADS)
def test_client(workload: str, benchmark: Any, capsys: pytest.CaptureFixture[str]) -> None:
    contenders = _env_list("WIRESPEED_BENCH_CONTENDERS", client_bench.CONTENDERS)
    loops = _env_list("WIRESPEED_BENCH_LOOPS", client_bench.LOOPS)
    repeat = int(os.environ.get("WIRESPEED_BENCH_REPEAT", "3"))

    def say(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    say(f"\n== client: {client_report.WORKLOAD_TITLES[workload]} (scale {client_bench.env_scale():g}, {repeat} runs each)")
    benchmark.group = f"client: {workload} (the whole run; per request: bench/results/client.md)"
    section = benchmark.pedantic(
        client_bench.run_workload, args=(workload, contenders, loops),
        kwargs={"repeat": repeat, "progress": say}, rounds=1, iterations=1,
    )
    client_bench.merge({workload: section})
    benchmark.extra_info["client"] = {
        loop: {c: {k: v for k, v in e.items() if k not in ("runs", "errors")} for c, e in res.items()}
        for loop, res in section["results"].items()
    }
    say(client_report.workload_table(workload, section))

    failed = {
        f"{loop}/{c}": client_report._last_line(entry.get("error") or entry["errors"][-1])
        for loop, res in section["results"].items()
        for c, entry in res.items()
        if "error" in entry or "errors" in entry
    }
    if failed:
        say("failed runs: " + "; ".join(f"{k}: {v}" for k, v in failed.items()))
    ours = {k: v for k, v in failed.items() if k.split("/")[1].startswith("wirespeed")}
    assert not ours, f"wirespeed's client failed: {ours}"
