"""Print the wire benchmarks' tables from a pytest-benchmark JSON report.

pytest-benchmark times rounds; the parser and writer benchmarks put several
responses or requests in a round (``extra_info["per_round"]``).  This turns
a report into the README's tables: the median per response or request of
each contender, as a multiple of wirespeed's C twin (lower is faster), with
the C twin's own median in µs.  Given several reports (runs of the same
benchmarks), each figure is the median of the runs' medians: on a shared
machine one run's load spike then moves no figure.

    .venv/bin/python -m pytest --benchmark bench/test_bench_parser.py bench/test_bench_writer.py \\
        --benchmark-json=bench-1.json
    .venv/bin/python bench/table.py bench-1.json [bench-2.json ...]
"""

from __future__ import annotations

import json
import statistics
import sys
from importlib import metadata

BASE = "wirespeed-c"
PEERS = ["aiohttp", "httptools", "h11", "multidict"]


def contender(bench: dict) -> str | None:  # type: ignore[type-arg]
    params = bench.get("params") or {}
    return params.get("parser") or params.get("contender")


def main(paths: list[str]) -> None:
    runs: dict[str, dict[str, list[float]]] = {}
    units: dict[str, str] = {}
    for path in paths:
        with open(path) as f:
            report = json.load(f)
        for bench in report["benchmarks"]:
            who = contender(bench)
            per_round = bench.get("extra_info", {}).get("per_round")
            if who is None or not per_round:
                continue
            runs.setdefault(bench["group"], {}).setdefault(who, []).append(bench["stats"]["median"] / per_round)
            units[bench["group"]] = bench["extra_info"].get("unit", "round")
    groups = {g: {c: statistics.median(v) for c, v in row.items()} for g, row in runs.items()}
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in PEERS)
    python = report["machine_info"]["python_version"]
    print(f"CPython {python}, {versions}; {len(paths)} run(s), the last {report['datetime']}")
    for kind in ("parser", "writer"):
        names = [g for g in groups if g.startswith(kind)]
        if not names:
            continue
        order = sorted(groups[names[0]], key=lambda c: (c != BASE, groups[names[0]][c]))
        print(f"\n{kind}: median per {units[names[0]]}, as a multiple of {BASE}")
        print("| group | " + " | ".join(order) + " |")
        print("|---|" + "---:|" * len(order))
        for group in names:
            row = groups[group]
            base = row[BASE]
            cells = [
                f"**1.0** ({base * 1e6:.2f} µs)" if c == BASE else f"{row[c] / base:.2f}" if c in row else "-"
                for c in order
            ]
            print(f"| {group} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:] or ["bench.json"])
