"""Tables and the chart of the client benchmarks.

The input is the results dictionary of ``client_bench`` (also what
``bench/results/client.json`` holds)::

    {"meta": {...},
     "workloads": {WORKLOAD: {"meta": {...},
                              "results": {LOOP: {CONTENDER: {...}}}}}}

where each contender's entry has either ``skip`` (a reason), ``error``, or the
medians over the repeated runs: ``cpu_us`` (client CPU per request, all
threads, user + sys), ``user_us``, ``sys_us``, ``rps`` (requests per wall
second), ``server_cpu_us``, ``server_busy`` (server CPU / wall), ``runs``
(each run's raw figures) and, for the POST workload, ``writes`` (write-type
syscalls per POST on the socket to the server) and ``all_writes`` (every
write-type syscall of the process per POST, wake-ups included).

Ratios are to aiohttp and to the bare protocol on the same loop in the same
run, on CPU per request: lower is better.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

LABELS = {
    "wirespeed-c": "wirespeed C",
    "wirespeed-py": "wirespeed Python",
    "aiohttp": "aiohttp",
    "httpx": "httpx",
    "pyreqwest": "pyreqwest",
    "aiosonic": "aiosonic",
    "bare": "bare protocol",
}
ORDER = list(LABELS)
LOOP_LABELS = {"asyncio": "default asyncio loop", "uvloop": "uvloop"}
WORKLOAD_TITLES = {
    "seq": "sequential GET, one connection",
    "conc": "GET from 64 concurrent tasks",
    "post": "sequential 100-byte POST",
    "big": "10 MiB download",
}
SERVER_BUSY_WARN = 0.8  # server CPU / wall above this: the server may be what the client waits on


def _ordered(names: Any) -> list[str]:
    return sorted(names, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))


def ratio(results: dict[str, Any], contender: str, reference: str) -> float | None:
    a, b = results.get(contender, {}), results.get(reference, {})
    if "cpu_us" not in a or "cpu_us" not in b or not b["cpu_us"]:
        return None
    return float(a["cpu_us"] / b["cpu_us"])


def _cpu(us: float) -> str:
    if us >= 10_000:
        return f"{us / 1000:.1f} ms"
    if us >= 1000:
        return f"{us / 1000:.2f} ms"
    return f"{us:.1f} µs"


def _num(x: float | None, bold: bool = False) -> str:
    if x is None:
        return "–"
    s = f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"
    return f"**{s}**" if bold else s


def _last_line(text: Any) -> str:
    lines = str(text).strip().splitlines()
    return lines[-1][:160].replace("|", "\\|") if lines else "?"


def _status(entry: dict[str, Any]) -> str | None:
    """Why a contender has no figures (skipped, or every run failed), else None."""
    if "skip" in entry:
        return str(entry["skip"])
    if "error" in entry:
        return "error: " + _last_line(entry["error"])
    return None


def _failed(entry: dict[str, Any]) -> str:
    """A mark for figures some of whose runs failed."""
    errors = entry.get("errors")
    if not errors or "error" in entry:
        return ""
    return f" ⚠ {len(errors)} of {len(errors) + len(entry.get('runs', []))} runs failed: {_last_line(errors[-1])}"


def summary_table(data: dict[str, Any]) -> str:
    """One matrix: CPU per request as a ratio to aiohttp on the same loop, every workload."""
    workloads = [w for w in WORKLOAD_TITLES if w in data["workloads"]]
    lines = [
        "| contender | loop | " + " | ".join(WORKLOAD_TITLES[w] for w in workloads) + " |",
        "|---|---|" + "---:|" * len(workloads),
    ]
    loops = [lp for lp in LOOP_LABELS if any(lp in data["workloads"][w]["results"] for w in workloads)]
    for loop in loops:
        names = _ordered({c for w in workloads for c in data["workloads"][w]["results"].get(loop, {})})
        for c in names:
            cells = []
            for w in workloads:
                res = data["workloads"][w]["results"].get(loop, {})
                entry = res.get(c)
                if entry is None:
                    cells.append("–")
                elif "skip" in entry:
                    cells.append(str(entry["skip"]))
                elif "error" in entry:
                    cells.append("failed ⚠")
                elif c == "aiohttp":
                    cells.append(f"1.00 ({_cpu(entry['cpu_us'])})" + (" ⚠" if entry.get("errors") else ""))
                else:
                    cells.append(_num(ratio(res, c, "aiohttp"), bold=c.startswith("wirespeed")) + (" ⚠" if entry.get("errors") else ""))
            lines.append(f"| {LABELS.get(c, c)} | {loop} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def workload_table(workload: str, section: dict[str, Any]) -> str:
    """Every figure of one workload: one row per contender and loop."""
    post = workload == "post"
    calls = any("py_calls" in e for res in section["results"].values() for e in res.values())
    head = "| contender | loop | CPU / request | user / sys | × aiohttp | × bare | requests/s | server CPU / request | server busy |"
    rule = "|---|---|---:|---:|---:|---:|---:|---:|---:|"
    if calls:
        head += " Python calls / request |"
        rule += "---:|"
    if post:
        head += " writes / POST |"
        rule += "---:|"
    lines = [head, rule]
    for loop in [lp for lp in LOOP_LABELS if lp in section["results"]]:
        res = section["results"][loop]
        for c in _ordered(res):
            entry = res[c]
            status = _status(entry)
            if status:
                lines.append(f"| {LABELS.get(c, c)} | {loop} | {status} |" + " |" * (7 + post + calls))
                continue
            busy = entry["server_busy"]
            busy_s = f"{busy:.0%}" + (" ⚠" if busy > SERVER_BUSY_WARN else "")
            user_share = entry["user_us"] / entry["cpu_us"] if entry["cpu_us"] else 0
            conns = entry.get("new_connections") or 0
            reconnects = f" ({conns:,} new connections while timed)" if conns > 0 else ""
            row = (
                f"| {LABELS.get(c, c)}{reconnects}{_failed(entry)} | {loop} | {_cpu(entry['cpu_us'])} | {user_share:.0%} / {1 - user_share:.0%} "
                f"| {_num(ratio(res, c, 'aiohttp'))} | {_num(ratio(res, c, 'bare'))} "
                f"| {entry['rps']:,.0f} | {_cpu(entry['server_cpu_us'])} | {busy_s} |"
            )
            if calls:
                py, cc = entry.get("py_calls"), entry.get("c_calls")
                row += " – |" if py is None else f" {py + cc:.0f} ({py:.0f} + {cc:.0f}) |"
            if post:
                w, a = entry.get("writes"), entry.get("all_writes")
                row += " – |" if w is None else f" {w:.2f} ({a:.2f}) |"
            lines.append(row)
    return "\n".join(lines)


def markdown(data: dict[str, Any]) -> str:
    meta = data["meta"]
    out = [
        "# Client benchmarks",
        "",
        "Written by `python bench/client_bench.py` (also run by `make bench`); see the module",
        "docstring of `bench/client_bench.py` for what is measured and how.",
        "",
        f"Python {meta.get('python', '?')}, {meta.get('cpus', '?')} CPUs; "
        + ", ".join(f"{k} {v}" for k, v in sorted(meta.get("versions", {}).items())),
        "",
        "Each figure is the median of the repeated runs; each run is its own client process",
        "against its own server process.  CPU is the client process's user + sys time",
        "(every thread) over the timed requests.  Ratios are CPU per request relative to",
        "aiohttp, or to the bare protocol, on the same event loop: lower is better.  The",
        "user / sys split is the kernel's sampled one (the sum is exact).",
        "",
        "Ratios to the bare protocol move from machine to machine more than ratios between",
        "clients: the bare protocol's cost is mostly system calls, a client's mostly Python, and",
        "the price of one against the other differs between machines and with their load.  The",
        "Python calls per request (in the tables below) are the same everywhere.",
        "",
        "## CPU per request, relative to aiohttp on the same loop",
        "",
        summary_table(data),
        "",
    ]
    for w in [w for w in WORKLOAD_TITLES if w in data["workloads"]]:
        section = data["workloads"][w]
        m = section["meta"]
        out += [
            f"## {WORKLOAD_TITLES[w]}",
            "",
            f"{m['count']:,} requests per run (scale {m['scale']:g}"
            + (f"; {', '.join(f'{c} {n:,}' for c, n in m.get('counts', {}).items() if n != m['count'])}" if any(n != m['count'] for n in m.get('counts', {}).values()) else "")
            + f"), median of {m['repeat']} runs, measured {m['when']}.",
            "",
            workload_table(w, section),
            "",
        ]
        if w == "post":
            out += [
                "writes / POST: write-type syscalls (write, writev, sendmsg, sendto) per POST on the",
                "socket to the server, counted with `strace -f` as the difference between two runs",
                "of different lengths; in brackets every write-type syscall of the process per POST,",
                "the loop's and runtime's wake-ups included.",
                "",
            ]
    out += [
        "Python calls / request: Python function calls and coroutine resumptions plus C functions",
        "called from Python, per request, counted with `sys.setprofile` in a separate run of 500",
        "requests (in brackets: the two parts).  No load on the machine moves them; a Rust or C",
        "client's own work is not in them.",
        "",
        "server busy: the server process's CPU time over the client's wall time; near 100% the",
        "server, not the client, would set the pace (marked ⚠).  A ⚠ beside a ratio or a",
        "contender: some of its runs failed (the workload's table says how), the figures are",
        "the medians of the others.  Every client keeps its connections open: a contender that",
        "opened new ones while timed (after the warm-up had opened them) says how many.",
        "",
    ]
    return "\n".join(out)


def _short_status(entry: dict[str, Any]) -> str:
    if "skip" in entry:
        return str(entry["skip"])
    if "error" in entry:
        return "failed"
    return "–"


def chart(data: dict[str, Any], path: Path) -> bool:
    """Bars of CPU per request relative to aiohttp: one panel per workload, both loops side by side."""
    try:
        import matplotlib
    except ImportError:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        workloads = [w for w in WORKLOAD_TITLES if w in data["workloads"]]
        cols = 2 if len(workloads) > 1 else 1
        rows = math.ceil(len(workloads) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(6.2 * cols, 4.4 * rows), squeeze=False)
        colours = {"asyncio": "#4c72b0", "uvloop": "#dd8452"}
        every = [
            r
            for w in workloads
            for res in data["workloads"][w]["results"].values()
            for c in res
            if (r := ratio(res, c, "aiohttp")) is not None
        ]
        lo = min(every + [1.0]) * 0.5
        hi = max(every + [1.0]) * 2.5
        for k, w in enumerate(workloads):
            ax = axes[k // cols][k % cols]
            results = data["workloads"][w]["results"]
            loops = [lp for lp in LOOP_LABELS if lp in results]
            names = _ordered({c for lp in loops for c in results[lp]})
            width = 0.8 / max(1, len(loops))
            for i, loop in enumerate(loops):
                for x, c in enumerate(names):
                    entry = results[loop].get(c, {})
                    r = ratio(results[loop], c, "aiohttp")
                    pos = x - 0.4 + width * (i + 0.5)
                    if r is None:
                        ax.text(pos, lo * 1.15, _short_status(entry), rotation=90, ha="center", va="bottom", fontsize=7, color="grey")
                        continue
                    ax.bar(pos, r, width, color=colours[loop], label=LOOP_LABELS[loop] if x == 0 else None,
                           hatch="//" if entry.get("errors") else None, edgecolor="white", linewidth=0.5)
                    ax.text(pos, r * 1.06, f"{r:.2f}" if r < 10 else f"{r:.0f}", ha="center", va="bottom", fontsize=6.5)
            ax.set_yscale("log")
            ax.set_ylim(lo, hi)
            ax.axhline(1.0, color="black", linewidth=0.8)
            ax.set_xticks(range(len(names)))
            ax.set_xticklabels([LABELS.get(c, c) for c in names], rotation=30, ha="right", fontsize=8)
            ref = ", ".join(
                f"{_cpu(results[lp]['aiohttp']['cpu_us'])} on {lp}" for lp in loops if "cpu_us" in results[lp].get("aiohttp", {})
            )
            ax.set_title(f"{WORKLOAD_TITLES[w]}\n(aiohttp: {ref} per request)" if ref else WORKLOAD_TITLES[w], fontsize=9)
            ax.grid(axis="y", alpha=0.3, which="both")
            if k % cols == 0:
                ax.set_ylabel("client CPU per request\n× aiohttp on the same loop", fontsize=8)
        for k in range(len(workloads), rows * cols):
            axes[k // cols][k % cols].set_visible(False)
        handles, labels = axes[0][0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="upper right", fontsize=8, ncol=len(handles))
        fig.suptitle("HTTP/1.1 clients, local keep-alive server: client CPU per request (lower is better)", fontsize=11, x=0.02, ha="left")
        fig.tight_layout(rect=(0, 0, 1, 0.95))
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
        plt.close(fig)
    return True


def write(data: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write client.json, client.md and client.png under ``out``; return what was written."""
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    p = out / "client.json"
    p.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    written["json"] = p
    p = out / "client.md"
    p.write_text(markdown(data))
    written["md"] = p
    p = out / "client.png"
    if chart(data, p):
        written["png"] = p
    return written
