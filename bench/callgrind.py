"""Instruction counts for the wire benchmarks, under ``valgrind --tool=callgrind``.

Timings on a shared machine vary from run to run; the instructions a case
executes do not.  This script runs the very rounds the pytest benchmarks time
(``make_round`` of ``bench/test_bench_parser.py`` and
``bench/test_bench_writer.py``: the same drivers, the same event loop) under
callgrind and prints instructions per response or per request.

How a count is taken: one Python process per contender runs its cases.  For
each case it warms up with a round outside the measurement, then runs a round
of ``N1`` and a round of ``N2`` feeds (or requests), each through
``operator.call``, which nothing else in these rounds calls (``sys.call_tracing``
on CPython 3.10, which has no ``operator.call``).  callgrind counts only inside
that C function (``--collect-atstart=no --toggle-collect=_operator_call``) and
writes one dump per call (``--dump-after=_operator_call``), whose ``totals:``
line is read here.  The
difference between the two rounds, divided by ``N2 - N1``, is the cost of one
feed or request with the round's fixed cost (``run_until_complete``) taken
out; a parser feed of several responses is divided by the responses in it.
``PYTHONHASHSEED=0`` makes repeated runs give the same counts.

Usage (from the repository root)::

    .venv/bin/python bench/callgrind.py                   # the headline cases, every contender
    .venv/bin/python bench/callgrind.py --all             # every case
    .venv/bin/python bench/callgrind.py parser a-small-json wirespeed-c aiohttp-c
    .venv/bin/python bench/callgrind.py --profile writer get wirespeed-c   # where the instructions go

``--profile`` keeps the dump of one case's larger round and prints where its
instructions go, per request or response: by shared object (the C twin's
module, libpython, multidict, libc...) and by function, self cost, Cython's
names for the twin's own functions.  It reads the dump itself; the file is
also left for ``callgrind_annotate`` or KCachegrind.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

# the cases the README's headline compares
HEADLINE = {"parser": ["a-small-json"], "writer": ["get", "post"]}
# rounds of N1 and N2 (feeds or requests), per case; the first N1 warms up
ROUNDS = {
    "parser": {"a-small-json": (20, 220), "b-chunked-3": (20, 220), "c-304-cdn-25-headers": (20, 220),
               "d-64KiB-body": (2, 12), "e-pipelined-100": (1, 5)},
    "writer": {"get": (20, 220), "post": (20, 220), "chunked": (5, 45)},
}
# the C function a measured round is called through, and how to call through it
if sys.version_info >= (3, 11):
    import operator

    TOGGLE = "_operator_call"

    def through(run: Callable[[int], None], n: int) -> None:
        operator.call(run, n)

else:
    TOGGLE = "sys_call_tracing"

    def through(run: Callable[[int], None], n: int) -> None:
        sys.call_tracing(run, (n,))


_TOTALS = re.compile(rb"^(?:totals|summary): (\d+)", re.M)


def _module(kind: str) -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    import test_bench_parser
    import test_bench_writer

    return test_bench_parser if kind == "parser" else test_bench_writer


def contenders(kind: str) -> list[str]:
    """Every contender, then ``floor``: the same rounds with no parser or writer, the harness alone."""
    module = _module(kind)
    return [*(module.PARSERS if kind == "parser" else module.CONTESTANTS), "floor"]


def cases(kind: str) -> list[str]:
    module = _module(kind)
    return list(module.CASES)


def per_round_unit(kind: str, case: str) -> int:
    """Responses per feed (parser) or 1 (writer): what one unit of N holds."""
    if kind == "parser":
        return int(_module(kind).CASES[case][1])
    return 1


def child(kind: str, contender: str, names: list[str]) -> None:
    """Run under callgrind: per case, a warm-up round, then rounds of N1 and N2 through ``TOGGLE``."""
    import asyncio

    module = _module(kind)
    loop = asyncio.new_event_loop()
    for case in names:
        run = module.make_round(contender, case, loop)[0]
        n1, n2 = ROUNDS[kind][case]
        run(n1)
        through(run, n1)
        through(run, n2)
    loop.close()


def measure(kind: str, contender: str, names: list[str], keep: Path | None = None) -> dict[str, float]:
    """Instructions per response (parser) or per request (writer), for each case in ``names``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        # the wire layer on PYTHONPATH (bench/snapshot.py), else the working tree's
        env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=os.environ.get("PYTHONPATH") or str(ROOT / "python"))
        cmd = [
            "valgrind", "--tool=callgrind", "--collect-atstart=no",
            f"--toggle-collect={TOGGLE}", f"--dump-after={TOGGLE}",
            "--compress-strings=no", "--compress-pos=no",
            f"--callgrind-out-file={out}",
            sys.executable, __file__, "--child", kind, contender, *names,
        ]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=ROOT)
        if result.returncode:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{result.stderr[-4000:]}")
        # one dump per measured round, numbered from 1 in call order
        dumps = sorted(Path(tmp).glob("callgrind.out.*"), key=lambda p: int(p.suffix[1:]))
        totals = [int(_TOTALS.search(p.read_bytes()).group(1)) for p in dumps]  # type: ignore[union-attr]
        if len(totals) < 2 * len(names):
            raise SystemExit(f"expected {2 * len(names)} dumps, got {len(totals)}")
        counts = {}
        for i, case in enumerate(names):
            n1, n2 = ROUNDS[kind][case]
            first, second = totals[2 * i], totals[2 * i + 1]
            counts[case] = (second - first) / (n2 - n1) / per_round_unit(kind, case)
        if keep is not None:
            keep.write_bytes(dumps[2 * len(names) - 1].read_bytes())
        return counts


def costs(path: Path) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Self instructions by function and by shared object, and inclusive instructions by function, in one dump.

    A cost line belongs to the current ``fn=`` unless it follows a ``calls=``
    line, in which case it is the inclusive cost of that call, counted to the
    callee (``cfn=``, in ``cob=`` or the caller's object).  Functions are
    keyed ``name  [object]``; a name callgrind marks as recursive (``'2``)
    counts apart.
    """
    by_fn: dict[str, int] = {}
    by_ob: dict[str, int] = {}
    inclusive: dict[str, int] = {}
    ob = fn = cob = cfn = "???"
    after_call = False
    for raw in path.read_text(errors="replace").splitlines():
        if not raw or raw[0] == "#":
            continue
        head = raw[0]
        if head.isdigit() or head in "+-*":
            cost = int(raw.split()[1])
            if after_call:
                key = f"{cfn}  [{os.path.basename(cob)}]"
                inclusive[key] = inclusive.get(key, 0) + cost
                after_call = False
                cob = ob  # a call without cob= is into the caller's object
                continue
            name = os.path.basename(ob)
            key = f"{fn}  [{name}]"
            by_fn[key] = by_fn.get(key, 0) + cost
            by_ob[name] = by_ob.get(name, 0) + cost
        elif raw.startswith("ob="):
            ob = cob = raw[3:]
        elif raw.startswith("fn="):
            fn = raw[3:]
            cob = ob
        elif raw.startswith("cob="):
            cob = raw[4:]
        elif raw.startswith("cfn="):
            cfn = raw[4:]
        elif raw.startswith("calls="):
            after_call = True
    return by_fn, by_ob, inclusive


def print_profile(path: Path, units: int, top: int = 30) -> None:
    by_fn, by_ob, inclusive = costs(path)
    total = sum(by_ob.values())
    print(f"\n{total:,} instructions in the dump, {total / units:,.0f} per unit with the round's fixed cost;")
    print("by shared object (self):")
    for name, cost in sorted(by_ob.items(), key=lambda kv: -kv[1]):
        if cost * 200 >= total:
            print(f"  {cost / units:9,.0f}  {100 * cost / total:5.1f}%  {name}")
    print("functions of the extension modules, inclusive (a call with everything it calls):")
    for name, cost in sorted(inclusive.items(), key=lambda kv: -kv[1]):
        ob = name.rsplit("[", 1)[-1]
        if ".cpython-" in ob and "'" not in name and cost * 200 >= total:
            print(f"  {cost / units:9,.0f}  {100 * cost / total:5.1f}%  {name}")
    print(f"by function (self), the top {top}:")
    for name, cost in sorted(by_fn.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {cost / units:9,.0f}  {100 * cost / total:5.1f}%  {name}")


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--child":
        child(argv[1], argv[2], argv[3:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="every case, not only the headline ones")
    parser.add_argument("--profile", action="store_true", help="per-function breakdown of one case and contender")
    parser.add_argument("kind", nargs="?", choices=["parser", "writer"])
    parser.add_argument("case", nargs="?")
    parser.add_argument("contenders", nargs="*")
    args = parser.parse_args(argv)

    if args.profile:
        if not (args.kind and args.case and len(args.contenders) == 1):
            parser.error("--profile takes: parser|writer CASE CONTENDER")
        keep = Path(tempfile.gettempdir()) / f"callgrind.{args.kind}.{args.case}.{args.contenders[0]}.out"
        count = measure(args.kind, args.contenders[0], [args.case], keep)[args.case]
        print(f"{args.kind} {args.case} {args.contenders[0]}: {count:,.0f} instructions per unit")
        n2 = ROUNDS[args.kind][args.case][1]
        print(f"dump of the round of {n2}: {keep}")
        print_profile(keep, n2 * per_round_unit(args.kind, args.case))
        return

    kinds = [args.kind] if args.kind else ["parser", "writer"]
    for kind in kinds:
        names = [args.case] if args.case else (cases(kind) if args.all else HEADLINE[kind])
        who = args.contenders or contenders(kind)
        table = {c: measure(kind, c, names) for c in who}
        unit = "response" if kind == "parser" else "request"
        base = who[0]
        print(f"\n{kind}: instructions per {unit} (ratio to {base})")
        print("| case | " + " | ".join(who) + " |")
        print("|---|" + "---:|" * len(who))
        for case in names:
            cells = [f"{table[c][case]:,.0f} ({table[c][case] / table[base][case]:.2f})" for c in who]
            print(f"| {case} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1:])
