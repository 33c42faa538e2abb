"""Time the wire benchmarks with the contenders interleaved, round by round.

``pytest --benchmark`` times one contender after another: each gets its own
second or so of the machine.  On a machine shared with other work the load
changes from one second to the next, and the ratios of a group then move with
it (on a 2-core machine at a load of 6, the same group's ratios moved by 2-3x
between three runs).  This runs the very same rounds (``make_round`` of
``bench/test_bench_parser.py`` and ``bench/test_bench_writer.py``) but takes
one round of every contender in turn, in a shuffled order, cycle after cycle,
so every contender is timed under the same load.  Every contender's round of
a case lasts about as long (``bench/_rounds.py`` says why): ``--round-ms``,
or one unit of the slowest contender if that is longer (a feed of 100
pipelined responses to h11).

The whole measurement is repeated ``--runs`` times, each with its own
calibration.  For each case it prints the median time per response or request
of wirespeed's C twin, and for every contender the ratio of its median to the
C twin's (lower is faster): the median over the runs, with the lowest and
highest run in brackets.  A narrow bracket is a figure the load did not move.

    .venv/bin/python bench/interleaved.py                # every case: 3 runs of 600 cycles
    .venv/bin/python bench/interleaved.py --runs 1 --cycles 1000 writer get
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import test_bench_parser as parser_bench  # noqa: E402
import test_bench_writer as writer_bench  # noqa: E402
from _rounds import unit_seconds  # noqa: E402

BASE = "wirespeed-c"
KINDS = {
    "parser": (parser_bench, list(parser_bench.PARSERS), list(parser_bench.CASES), "response"),
    "writer": (writer_bench, list(writer_bench.CONTESTANTS), list(writer_bench.CASES), "request"),
}


def measure(
    kind: str, case: str, contenders: list[str], cycles: int, seconds: float, seed: int = 0
) -> dict[str, float]:
    """Median seconds per response (parser) or request (writer) of each contender, interleaved."""
    module = KINDS[kind][0]
    unit = module.CASES[case][1] if kind == "parser" else 1
    loop = asyncio.new_event_loop()
    try:
        runs = {who: module.make_round(who, case, loop)[0] for who in contenders}
        rates = {who: unit_seconds(run, seconds) for who, run in runs.items()}
        length = max(seconds, *rates.values())
        counts = {who: max(1, round(length / rate)) for who, rate in rates.items()}
        samples: dict[str, list[float]] = {who: [] for who in contenders}
        order = list(contenders)
        rng = random.Random(seed)
        gc.collect()
        for _ in range(cycles):
            rng.shuffle(order)
            for who in order:
                run, n = runs[who], counts[who]
                start = time.perf_counter()
                run(n)
                samples[who].append((time.perf_counter() - start) / (n * unit))
        return {who: statistics.median(values) for who, values in samples.items()}
    finally:
        loop.close()


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cycles", type=int, default=600)
    ap.add_argument("--round-ms", type=float, default=0.5, help="shortest round of a contender")
    ap.add_argument("kind", nargs="?", choices=list(KINDS))
    ap.add_argument("case", nargs="?")
    args = ap.parse_args(argv)
    for kind in [args.kind] if args.kind else list(KINDS):
        _, contenders, cases, unit = KINDS[kind]
        print(f"\n{kind}: median per {unit} as a multiple of {BASE}, the median of {args.runs} runs "
              f"[lowest-highest run], {args.cycles} interleaved cycles each")
        print("| case | " + " | ".join(contenders) + " |")
        print("|---|" + "---:|" * len(contenders))
        for case in [args.case] if args.case else cases:
            medians = [
                measure(kind, case, contenders, args.cycles, args.round_ms / 1000, seed) for seed in range(args.runs)
            ]
            cells = [f"**1.0** ({statistics.median(m[BASE] for m in medians) * 1e6:.2f} µs)"]
            for who in contenders[1:] if contenders[0] == BASE else contenders:
                ratios = [m[who] / m[BASE] for m in medians]
                cells.append(f"{statistics.median(ratios):.2f} [{min(ratios):.2f}-{max(ratios):.2f}]")
            print(f"| {case} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
