"""What a client middleware costs per request: 0, 1 and 5 pass-through middlewares, wirespeed beside aiohttp.

Run: ``.venv/bin/python -m pytest --benchmark bench/test_bench_middlewares.py``
(``-s`` is not needed: the table is printed through capsys).  Or as a
script: ``python bench/test_bench_middlewares.py`` (``--help``).

What is measured.  One child process per event loop (asyncio, uvloop) runs,
against the embedded keep-alive server of ``bench/client_server.py`` in a
process of its own, one session per contender and configuration, each on one
connection:

- ``wirespeed`` with 0, 1 and 5 pass-through middlewares
  (``async def mw(request, handler): return await handler(request)``);
- ``aiohttp`` (3.12+: ``ClientSession(middlewares=...)``) with the same;
- ``wirespeed, before middlewares``: the client package as it was in the
  commit before ``client/_middleware.py`` was added (read from git and loaded
  beside the live one as ``wirespeed._bench_prev_client``; it drives the same
  live wire layer), with no middleware: what a session without the feature
  costs.

Each round times ``ROUND`` sequential ``GET /small`` (read to the end) of one
session and configuration as the child's CPU time (user + sys); rounds go
round-robin over all of them, so a noisy neighbour on this shared machine
hits every configuration alike; each figure is the median over the rounds.
Reported, per loop: CPU per request of each configuration; for each client
the cost of the first middleware (``t1 - t0``: entering the chain at all), of
each further one (``(t5 - t1) / 4``) and the mean of five (``(t5 - t0) /
5``); the ratios of wirespeed's to aiohttp's (goal: at most 1); and wirespeed
with no middleware over wirespeed before the feature (goal: 1.00 within
noise).  ``WIRESPEED_BENCH_SCALE`` multiplies the rounds.

Instructions.  Timings of a microsecond or two drown in the noise of a
shared machine; ``python bench/test_bench_middlewares.py --instructions``
counts instead, under ``valgrind --tool=callgrind`` (asyncio loop,
``PYTHONHASHSEED=0``, the cyclic collector off): one process per contender,
configuration and length runs ``COUNT_ROUNDS`` sequential requests, and the
difference between the two lengths, divided by the difference in requests,
is one request with the process's fixed cost taken out.  Reported as above:
per request, the first middleware, each further one.

A benchmark reports; it does not assert speed.  The test fails only if a
wirespeed configuration could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import client_server  # noqa: E402

#: Requests per timed round: about 10-30 ms of CPU, long enough for the clock, short enough
#: that most rounds run uninterrupted.
ROUND = 200
#: Rounds per configuration at scale 1.
ROUNDS = 40
WARMUP = 100
MIDDLEWARES = (0, 1, 5)
LOOPS = ("asyncio", "uvloop")
CHILD_TIMEOUT = 600
PREV_PACKAGE = "wirespeed._bench_prev_client"


# --------------------------------------------------------------------------- the child: timed rounds


async def passthrough(request: Any, handler: Any) -> Any:
    return await handler(request)


def prev_client_source() -> Path | str:
    """A temp dir holding ``wirespeed/client/`` of the commit before middlewares, or why there is none."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout

    try:
        added = git("log", "--diff-filter=A", "--format=%H", "-1", "--", "python/wirespeed/client/_middleware.py")
        commit = added.strip()
        if not commit:
            return "no commit adds python/wirespeed/client/_middleware.py"
        names = git("ls-tree", "--name-only", f"{commit}^", "python/wirespeed/client/").split()
        out = Path(tempfile.mkdtemp(prefix="wirespeed-prev-client-"))
        for name in names:
            if name.endswith(".py"):
                (out / Path(name).name).write_text(git("show", f"{commit}^:{name}"))
        return out
    except (OSError, subprocess.CalledProcessError) as exc:
        return f"git unavailable: {exc}"


def load_prev_client(path: str) -> Any:
    """The old client package as ``wirespeed._bench_prev_client`` (its ``..`` imports reach the live wirespeed)."""
    import importlib.util

    import wirespeed

    spec = importlib.util.spec_from_file_location(PREV_PACKAGE, os.path.join(path, "__init__.py"),
                                                  submodule_search_locations=[path])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[PREV_PACKAGE] = module
    spec.loader.exec_module(module)
    assert wirespeed is not None
    return module


async def open_contenders(url: str, prev: str | None) -> tuple[dict[str, Callable[[], Awaitable[None]]], list[Any],
                                                               dict[str, str]]:
    """name -> one request (GET /small, read to the end); the sessions to close; names that cannot run -> why."""
    import aiohttp

    import wirespeed

    ops: dict[str, Callable[[], Awaitable[None]]] = {}
    sessions: list[Any] = []
    skipped: dict[str, str] = {}
    small = url + "/small"

    def wirespeed_op(s: Any) -> Callable[[], Awaitable[None]]:
        async def get() -> None:
            async with s.get(small) as r:
                await r.read()
        return get

    def aiohttp_op(s: Any) -> Callable[[], Awaitable[None]]:
        async def get() -> None:
            async with s.get(small) as r:
                await r.read()
        return get

    for k in MIDDLEWARES:
        s = wirespeed.ClientSession(middlewares=(passthrough,) * k)
        sessions.append(s)
        ops[f"wirespeed/{k}"] = wirespeed_op(s)
    for k in MIDDLEWARES:
        if k and not hasattr(aiohttp, "ClientMiddlewareType"):
            skipped[f"aiohttp/{k}"] = f"aiohttp {aiohttp.__version__} has no middlewares (3.12+)"
            continue
        a = aiohttp.ClientSession(middlewares=(passthrough,) * k) if k else aiohttp.ClientSession()
        sessions.append(a)
        ops[f"aiohttp/{k}"] = aiohttp_op(a)
    if prev is None:
        skipped["wirespeed-prev/0"] = "no previous client"
    else:
        try:
            old = load_prev_client(prev)
            s = old.ClientSession()
            sessions.append(s)
            ops["wirespeed-prev/0"] = wirespeed_op(s)
        except Exception as exc:  # noqa: BLE001 - reported, not fatal: the baseline is optional
            skipped["wirespeed-prev/0"] = f"the previous client does not load: {exc!r}"
    return ops, sessions, skipped


async def child_main(url: str, rounds: int, prev: str | None) -> dict[str, Any]:
    ops, sessions, skipped = await open_contenders(url, prev)
    failed: dict[str, str] = {}
    for name, op in list(ops.items()):
        try:
            for _ in range(WARMUP):
                await op()
        except Exception as exc:  # noqa: BLE001 - a contender that fails is reported
            failed[name] = repr(exc)
            del ops[name]
    times: dict[str, list[float]] = {name: [] for name in ops}
    for _ in range(rounds):
        for name, op in ops.items():
            gc.collect()
            start = time.process_time()
            for _ in range(ROUND):
                await op()
            times[name].append((time.process_time() - start) / ROUND)
    for s in sessions:
        await s.close()
    medians = {name: statistics.median(ts) for name, ts in times.items()}
    return {"per_request": medians, "skipped": skipped, "failed": failed}


def child(loop: str, url: str, rounds: int, prev: str | None) -> None:
    if loop == "uvloop":
        import uvloop

        new_loop: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    else:
        new_loop = asyncio.new_event_loop
    event_loop = new_loop()
    try:
        result = event_loop.run_until_complete(child_main(url, rounds, prev))
    finally:
        event_loop.close()
    print(json.dumps(result))


# --------------------------------------------------------------------------- instructions, under callgrind

#: Requests in the shorter and the longer counted run of a configuration.
COUNT_ROUNDS = (100, 600)


def count_child(name: str, k: int, n: int, url: str, prev: str | None) -> None:
    """``n`` sequential GET /small on one connection of ``name`` with ``k`` middlewares (asyncio, no gc)."""
    if name == "aiohttp":
        import aiohttp as client
    elif name == "wirespeed-prev":
        assert prev is not None
        client = load_prev_client(prev)
    else:
        import wirespeed as client

    async def main() -> None:
        session = client.ClientSession(middlewares=(passthrough,) * k) if k else client.ClientSession()
        for _ in range(n):
            async with session.get(url + "/small") as r:
                await r.read()
        await session.close()

    gc.disable()
    asyncio.run(main())


def instructions(progress: Callable[[str], None] = print) -> str:
    """Instructions per request of each configuration, and per middleware, as a table."""
    import re

    prev = prev_client_source()
    configs = [("wirespeed", k) for k in MIDDLEWARES] + [("aiohttp", k) for k in MIDDLEWARES]
    if isinstance(prev, Path):
        configs.append(("wirespeed-prev", 0))
    counts: dict[str, float] = {}
    try:
        with client_server.start() as server:
            for name, k in configs:
                total = []
                for n in COUNT_ROUNDS:
                    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                           __file__, "--count-child", name, str(k), str(n), server.url]
                    if isinstance(prev, Path):
                        cmd.append(str(prev))
                    p = subprocess.run(cmd, capture_output=True, text=True, timeout=CHILD_TIMEOUT,
                                       env={**os.environ, "PYTHONHASHSEED": "0"})
                    found = re.search(r"Collected : (\d+)", p.stderr)
                    if p.returncode != 0 or found is None:
                        raise RuntimeError(f"{name}/{k}: {p.stderr.strip()[-1000:]}")
                    total.append(int(found.group(1)))
                counts[f"{name}/{k}"] = (total[1] - total[0]) / (COUNT_ROUNDS[1] - COUNT_ROUNDS[0])
                progress(f"  {name}, {k} mw: {counts[f'{name}/{k}']:,.0f}")
    finally:
        if isinstance(prev, Path):
            import shutil

            shutil.rmtree(prev, ignore_errors=True)
    lines = [f"Middleware overhead: instructions per sequential GET /small (callgrind, asyncio, "
             f"{COUNT_ROUNDS[1]} - {COUNT_ROUNDS[0]} requests)", "",
             "| configuration | instructions |", "|---|---:|"]
    lines += [f"| {name} | {value:,.0f} |" for name, value in counts.items()]
    s = summary({"per_request": counts})
    lines += ["", "| per middleware | wirespeed | aiohttp | wirespeed / aiohttp |", "|---|---:|---:|---:|"]
    for key, what in (("first", "the first, t1 - t0"), ("further", "each further one, (t5 - t1) / 4"),
                      ("mean5", "per middleware of 5, (t5 - t0) / 5")):
        w, a = s[f"wirespeed_{key}"], s[f"aiohttp_{key}"]
        lines.append(f"| {what} | {w:,.0f} | {a:,.0f} | {ratio(w, a)} |" if w is not None and a is not None
                     else f"| {what} | - | - | - |")
    lines.append(f"| wirespeed 0 mw / before middlewares | {ratio(s['wirespeed_0'], s['wirespeed_prev_0'])} | | |")
    return "\n".join(lines)


# --------------------------------------------------------------------------- the parent: one child per loop


def run_loop(loop: str, rounds: int, prev: Path | str) -> dict[str, Any]:
    with client_server.start() as server:
        cmd = [sys.executable, __file__, "--child", loop, server.url, str(rounds)]
        if isinstance(prev, Path):
            cmd.append(str(prev))
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    lines = p.stdout.strip().splitlines()
    if p.returncode != 0 or not lines:
        return {"error": (p.stderr or p.stdout).strip()[-2000:] or f"exit {p.returncode}"}
    result: dict[str, Any] = json.loads(lines[-1])
    if isinstance(prev, str):
        result["skipped"]["wirespeed-prev/0"] = prev
    return result


def us(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e6:.1f} µs"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b <= 0:
        return "-"
    return f"{a / b:.2f}"


def summary(result: dict[str, Any]) -> dict[str, float | None]:
    t = result.get("per_request", {})

    def cost(client: str, a: int, b: int) -> float | None:
        """CPU per middleware between ``a`` and ``b`` middlewares: ``(t_b - t_a) / (b - a)``."""
        if f"{client}/{a}" not in t or f"{client}/{b}" not in t:
            return None
        return float(t[f"{client}/{b}"] - t[f"{client}/{a}"]) / (b - a)

    return {
        "wirespeed_first": cost("wirespeed", 0, 1), "aiohttp_first": cost("aiohttp", 0, 1),
        "wirespeed_further": cost("wirespeed", 1, 5), "aiohttp_further": cost("aiohttp", 1, 5),
        "wirespeed_mean5": cost("wirespeed", 0, 5), "aiohttp_mean5": cost("aiohttp", 0, 5),
        "wirespeed_0": t.get("wirespeed/0"), "wirespeed_prev_0": t.get("wirespeed-prev/0"),
    }


def report(results: dict[str, dict[str, Any]], rounds: int) -> str:
    lines = [f"Middleware overhead: median CPU per sequential GET /small over {rounds} rounds of {ROUND} "
             "requests per configuration (client process, user + sys)", ""]
    names = [f"wirespeed/{k}" for k in MIDDLEWARES] + ["wirespeed-prev/0"] + [f"aiohttp/{k}" for k in MIDDLEWARES]
    lines.append("| configuration | " + " | ".join(results) + " |")
    lines.append("|---|" + "---:|" * len(results))
    for name in names:
        cells = []
        for res in results.values():
            if "error" in res:
                cells.append("failed")
            elif name in res["per_request"]:
                cells.append(us(res["per_request"][name]))
            else:
                cells.append("skipped" if name in res.get("skipped", {}) else "failed")
        label = {"wirespeed-prev/0": "wirespeed before middlewares, 0"}.get(name, name.replace("/", ", ") + " mw")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += ["", "| per loop | " + " | ".join(results) + " |", "|---|" + "---:|" * len(results)]
    sums = {loop: summary(res) for loop, res in results.items()}
    def cell(text: Callable[[float | None, float | None], str], a: str, b: str | None = None) -> Callable[..., str]:
        return lambda s: text(s[a], s[b]) if b is not None else us(s[a])

    rows: list[tuple[str, Callable[..., str]]] = []
    for key, what in (("first", "the first middleware, t1 - t0"), ("further", "each further one, (t5 - t1) / 4"),
                      ("mean5", "per middleware of 5, (t5 - t0) / 5")):
        rows += [
            (f"wirespeed: {what}", cell(ratio, f"wirespeed_{key}")),
            (f"aiohttp: {what}", cell(ratio, f"aiohttp_{key}")),
            (f"wirespeed / aiohttp, {what.split(',')[0]} (goal <= 1)",
             cell(ratio, f"wirespeed_{key}", f"aiohttp_{key}")),
        ]
    rows.append(("wirespeed 0 mw / before middlewares (goal 1.00)", cell(ratio, "wirespeed_0", "wirespeed_prev_0")))
    for label, show in rows:
        lines.append(f"| {label} | " + " | ".join(show(sums[loop]) for loop in results) + " |")
    notes = []
    for loop, res in results.items():
        if "error" in res:
            notes.append(f"{loop}: failed: {res['error'].splitlines()[-1] if res['error'] else ''}")
        for name, why in {**res.get("skipped", {}), **res.get("failed", {})}.items():
            notes.append(f"{loop}: {name}: {why}")
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    return "\n".join(lines)


def run(loops: tuple[str, ...] = LOOPS, scale: float | None = None,
        progress: Callable[[str], None] = print) -> tuple[dict[str, dict[str, Any]], str]:
    scale = float(os.environ.get("WIRESPEED_BENCH_SCALE", "1")) if scale is None else scale
    rounds = max(5, round(ROUNDS * scale))
    prev = prev_client_source()
    results: dict[str, dict[str, Any]] = {}
    try:
        for loop in loops:
            progress(f"  {loop}: {rounds} rounds ...")
            results[loop] = run_loop(loop, rounds, prev)
    finally:
        if isinstance(prev, Path):
            import shutil

            shutil.rmtree(prev, ignore_errors=True)
    return results, report(results, rounds)


def test_middleware_overhead(capsys: Any) -> None:
    def say(line: str) -> None:
        with capsys.disabled():
            print(line, flush=True)

    say("\n== client middlewares: overhead per request")
    results, table = run(progress=say)
    say(table)
    broken = {loop: res.get("error") or {k: v for k, v in res.get("failed", {}).items() if k.startswith("wirespeed/")}
              for loop, res in results.items()}
    assert not any(broken.values()), f"wirespeed's configurations failed: {broken}"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        loop, url, rounds = sys.argv[2], sys.argv[3], int(sys.argv[4])
        child(loop, url, rounds, sys.argv[5] if len(sys.argv) > 5 else None)
    elif len(sys.argv) > 1 and sys.argv[1] == "--count-child":
        count_child(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5],
                    sys.argv[6] if len(sys.argv) > 6 else None)
    else:
        parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        parser.add_argument("--scale", type=float, default=None, help="multiplies the rounds (0.2 for a quick run)")
        parser.add_argument("--loops", default=",".join(LOOPS), help="comma-separated: asyncio,uvloop")
        parser.add_argument("--instructions", action="store_true",
                            help="count instructions under callgrind instead of timing (asyncio only)")
        args = parser.parse_args()
        if args.instructions:
            print(instructions())
        else:
            _, text = run(tuple(x for x in args.loops.split(",") if x), args.scale)
            print(text)
