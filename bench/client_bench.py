"""Client benchmarks: wirespeed's ClientSession beside its peers, on a local server.

Run ``python bench/client_bench.py`` (or ``python -m bench.client_bench``;
``--help`` for the options); ``make bench`` runs the same through
``bench/test_bench_client.py``, one test per workload.  Results go to
``bench/results/client.md``, ``client.json`` and ``client.png``.

What is measured:

- contenders (``bench/client_contenders.py``): wirespeed's ClientSession on
  its C and Python wire twins, aiohttp, httpx, pyreqwest (Rust, its own I/O
  threads), aiosonic (pure Python), and the limit: a bare asyncio Protocol
  that writes canned requests and counts the bytes of the known response;
  each on the default asyncio loop and on uvloop, all with a pool limit of 100;
- workloads: 5,000 sequential GETs on one connection (``seq``), 20,000 GETs
  from 64 tasks through one client (``conc``), 5,000 sequential 100-byte
  POSTs (``post``), 20 downloads of 10 MiB streamed and discarded (``big``);
  ``--scale`` or ``WIRESPEED_BENCH_SCALE`` multiplies the counts (0.1 for a
  quick run); httpx, an order of magnitude slower, runs a quarter of them
  (every figure is per request);
- each run is a fresh client process against a fresh server process
  (``bench/client_server.py``, uvloop, canned responses) on 127.0.0.1; the
  client warms up (connections open, answers checked), then times the
  requests: client CPU (``getrusage(RUSAGE_SELF)`` user + sys, so every
  thread counts), wall time, and the server's CPU over the same span;
- runs are repeated (``--repeat``, 3 by default) round-robin over the
  contenders, so a noisy neighbour hits all of them alike, and the median is
  reported; ratios are to aiohttp and to the bare protocol on the same loop;
- write-type syscalls per small POST: each contender's POST workload under
  ``strace -f -yy`` at two lengths, the difference divided by the difference
  in requests, on the socket to the server (and in total);
- Python calls per request (``sys.setprofile``: Python calls and coroutine
  resumptions, and C functions called from Python) in one more run per
  contender, loop and small-request workload: unlike the timings, no load on
  the machine moves them.

A contender that cannot run is a line in the table with the reason:
wirespeed's before ``wirespeed.ClientSession`` exists reads "not built yet";
a missing package reads "... not installed".
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import client_contenders  # noqa: E402
import client_report  # noqa: E402
import client_server  # noqa: E402

RESULTS = HERE / "results"
CONTENDERS = list(client_contenders.CONTENDERS)
LOOPS = list(client_contenders.LOOPS)
WORKLOADS = list(client_report.WORKLOAD_TITLES)
COUNTS = {"seq": 5000, "conc": 20000, "post": 5000, "big": 20}
MINIMUM = {"seq": 50, "conc": 4 * client_contenders.CONCURRENCY, "post": 50, "big": 2}
SLOW = {"httpx": 0.25}  # share of the count a slow contender runs
STRACE_COUNTS = (100, 400)  # POSTs in the two strace runs
# Seconds for one client run: httpx's 5,000 concurrent GETs take about 20, 22 downloads
# of 10 MiB at most 2.  A run that times out is not repeated (a hang is a finding, not noise).
RUN_TIMEOUT = {"big": 60}
RUN_TIMEOUT_DEFAULT = 180
PACKAGES = ("aiohttp", "httpx", "pyreqwest", "aiosonic", "uvloop", "wirespeed")


def last_line(text: str) -> str:
    lines = str(text).strip().splitlines()
    return lines[-1] if lines else ""


def env_scale() -> float:
    return float(os.environ.get("WIRESPEED_BENCH_SCALE", "1"))


def count_for(workload: str, contender: str, scale: float) -> int:
    n = COUNTS[workload] * scale * SLOW.get(contender, 1.0)
    return max(MINIMUM[workload], round(n))


def run_one(contender: str, loop: str, workload: str, count: int, extra: Iterable[str] = (), prefix: Iterable[str] = ()) -> dict[str, Any]:
    """One client process against one server process; the child's JSON, or ``error``."""
    import json

    timeout = RUN_TIMEOUT.get(workload, RUN_TIMEOUT_DEFAULT)
    with client_server.start() as server:
        cmd = [*prefix, sys.executable, str(HERE / "client_contenders.py"), contender, loop, workload, str(count), server.url, *extra]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {"error": f"timed out after {timeout} s", "timeout": True, "port": server.port}
    lines = p.stdout.strip().splitlines()
    if p.returncode != 0 or not lines:
        return {"error": (p.stderr or p.stdout).strip()[-2000:] or f"exit {p.returncode}", "port": server.port}
    result: dict[str, Any] = json.loads(lines[-1])
    result["port"] = server.port
    return result


_WRITE_CALL = re.compile(r"\b(write|writev|sendmsg|sendto)\(")


def count_writes(contender: str, loop: str) -> tuple[float, float] | str:
    """Write-type syscalls per small POST: (on the socket to the server, in total), or why not."""
    strace = shutil.which("strace")
    if strace is None:
        return "strace not installed"
    counts = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in STRACE_COUNTS:
            log = Path(tmp) / f"strace-{n}.log"
            result = run_one(
                contender, loop, "post", n, extra=("--warmup", "20"),
                prefix=(strace, "-f", "-qq", "-yy", "-e", "trace=write,writev,sendmsg,sendto", "-o", str(log)),
            )
            if "skip" in result or "error" in result:
                return str(result.get("skip") or result.get("error"))
            calls = [line for line in log.read_text(errors="replace").splitlines() if _WRITE_CALL.search(line)]
            to_server = [line for line in calls if f"->127.0.0.1:{result['port']}]" in line]
            counts.append((len(to_server), len(calls)))
    (s1, a1), (s2, a2) = counts
    span = STRACE_COUNTS[1] - STRACE_COUNTS[0]
    return (s2 - s1) / span, (a2 - a1) / span


CALLS_COUNT = 500  # requests whose Python calls are counted (not for the downloads)


def count_calls(contender: str, loop: str, workload: str) -> dict[str, Any]:
    """Python calls per request in one more run, or why not (``skip``/``error``)."""
    return run_one(contender, loop, workload, CALLS_COUNT, extra=("--warmup", "50", "--calls"))


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the repeated runs of one contender on one loop.

    A skip (not installed, not built yet) stands for the contender; failed
    runs are kept as ``errors`` beside the medians of the runs that worked,
    or alone when none did.
    """
    for r in runs:
        if "skip" in r:
            return {"skip": r["skip"]}
    errors = [r["error"] for r in runs if "error" in r]
    good = [r for r in runs if "error" not in r]
    if not good:
        return {"error": errors[-1], "errors": errors}
    per = lambda key: statistics.median(r[key] / r["count"] * 1e6 for r in good)  # noqa: E731
    summary = {
        "count": good[0]["count"],
        "cpu_us": per("cpu"),
        "user_us": per("user"),
        "sys_us": per("sys"),
        "server_cpu_us": per("server_cpu"),
        "rps": statistics.median(r["count"] / r["wall"] for r in good),
        "server_busy": statistics.median(r["server_cpu"] / r["wall"] for r in good),
        "connections": max(r["connections"] for r in good),
        "new_connections": max(r["new_connections"] for r in good),
        "runs": [{k: r[k] for k in ("count", "wall", "cpu", "user", "sys", "server_cpu", "connections", "new_connections")} for r in good],
    }
    if errors:
        summary["errors"] = errors
    return summary


def run_workload(
    workload: str,
    contenders: list[str] = CONTENDERS,
    loops: list[str] = LOOPS,
    scale: float | None = None,
    repeat: int = 3,
    strace: bool = True,
    progress: Callable[[str], None] | None = None,
    calls: bool = True,
) -> dict[str, Any]:
    """Every contender on every loop, ``repeat`` times round-robin; one workload's section."""
    scale = env_scale() if scale is None else scale
    say = progress or (lambda _line: None)
    runs: dict[tuple[str, str], list[dict[str, Any]]] = {(lp, c): [] for lp in loops for c in contenders}
    for i in range(repeat):
        for loop in loops:
            for c in contenders:
                if any("skip" in r or r.get("timeout") for r in runs[(loop, c)]):
                    continue
                r = run_one(c, loop, workload, count_for(workload, c, scale))
                runs[(loop, c)].append(r)
                if "skip" in r or "error" in r:
                    say(f"  {workload:4} {loop:7} {c:13} run {i + 1}/{repeat}: {r.get('skip') or 'error: ' + last_line(r['error'])}")
                else:
                    say(f"  {workload:4} {loop:7} {c:13} run {i + 1}/{repeat}: {r['cpu'] / r['count'] * 1e6:9.1f} µs CPU/request, {r['count'] / r['wall']:9,.0f} requests/s")
    results: dict[str, dict[str, Any]] = {lp: {} for lp in loops}
    for (loop, c), rs in runs.items():
        results[loop][c] = summarise(rs)
        if calls and workload != "big" and "cpu_us" in results[loop][c]:
            n = count_calls(c, loop, workload)
            if "py_calls" in n:
                results[loop][c]["py_calls"], results[loop][c]["c_calls"] = n["py_calls"], n["c_calls"]
        if strace and workload == "post" and "cpu_us" in results[loop][c]:
            w = count_writes(c, loop)
            if isinstance(w, str):
                say(f"  post {loop:7} {c:13} writes not counted: {last_line(w)}")
            else:
                results[loop][c]["writes"], results[loop][c]["all_writes"] = w
                say(f"  post {loop:7} {c:13} {w[0]:.2f} writes/POST to the server ({w[1]:.2f} in all)")
    return {
        "meta": {
            "count": COUNTS[workload] if scale == 1 else count_for(workload, "", scale),
            "counts": {c: count_for(workload, c, scale) for c in contenders},
            "scale": scale,
            "repeat": repeat,
            "when": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        },
        "results": results,
    }


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def meta() -> dict[str, Any]:
    versions = {n: v for n in PACKAGES if (v := _version(n))}
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "versions": versions,
    }


def merge(sections: dict[str, dict[str, Any]], out: Path = RESULTS) -> dict[str, Any]:
    """Put new workload sections into the results under ``out`` (others kept); write them; return them."""
    import json

    path = out / "client.json"
    data: dict[str, Any] = {"workloads": {}}
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except ValueError:
            pass
    data["meta"] = meta()
    data.setdefault("workloads", {}).update(sections)
    client_report.write(data, out)
    return data


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Client benchmarks: wirespeed's ClientSession beside its peers.")
    p.add_argument("--contenders", default=",".join(CONTENDERS), help=f"comma-separated, from {','.join(CONTENDERS)}")
    p.add_argument("--loops", default=",".join(LOOPS), help="comma-separated: asyncio,uvloop")
    p.add_argument("--workloads", default=",".join(WORKLOADS), help=f"comma-separated, from {','.join(WORKLOADS)}")
    p.add_argument("--scale", type=float, default=None, help="multiply the request counts (default: WIRESPEED_BENCH_SCALE or 1)")
    p.add_argument("--repeat", type=int, default=3, help="runs per contender and loop; the median is reported")
    p.add_argument("--no-strace", action="store_true", help="do not count write syscalls per POST")
    p.add_argument("--no-calls", action="store_true", help="do not count Python calls per request")
    p.add_argument("--out", type=Path, default=RESULTS, help="where client.md/json/png go (default bench/results)")
    a = p.parse_args(argv)

    def pick(value: str, allowed: list[str], what: str) -> list[str]:
        chosen = [v for v in value.split(",") if v]
        bad = [v for v in chosen if v not in allowed]
        if bad:
            p.error(f"unknown {what}: {', '.join(bad)} (choose from {', '.join(allowed)})")
        return chosen

    contenders = pick(a.contenders, CONTENDERS, "contender")
    loops = pick(a.loops, LOOPS, "loop")
    workloads = pick(a.workloads, WORKLOADS, "workload")
    sections = {}
    for w in workloads:
        print(f"== {client_report.WORKLOAD_TITLES[w]}", flush=True)
        sections[w] = run_workload(w, contenders, loops, a.scale, a.repeat, not a.no_strace, progress=lambda s: print(s, flush=True), calls=not a.no_calls)
        print(client_report.workload_table(w, sections[w]), flush=True)
    merge(sections, a.out)
    print()
    print(client_report.summary_table({"workloads": sections}))
    print(f"\nwritten: {', '.join(str(p) for p in sorted((a.out).glob('client.*')))}")
    failed = [f"{w}/{lp}/{c}" for w, s in sections.items() for lp, res in s["results"].items() for c, e in res.items() if "error" in e]
    if failed:
        print("errors: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
