"""How many feeds or requests go into one timed round of the wire benchmarks.

Every contender's round is made to last about ``ROUND_SECONDS``, whatever
the contender's speed.  On a shared machine a round is interrupted now and
then by other work; a long round is interrupted more often than a short one,
so with a fixed count per round the median of a fast contender's short rounds
leaves the interruptions out while the median of a slow contender's long
rounds keeps them, and the ratio between them grows with the load.  With
rounds of equal length both medians see the same share of interruptions, and
the round's fixed cost (``loop.run_until_complete``) is the same small share
of every contender's round.
"""

from __future__ import annotations

import time
from collections.abc import Callable

#: 2 ms: long enough that the round's fixed cost (about 12 µs here) is under 1 %,
#: short enough that most rounds of every contender run uninterrupted.
ROUND_SECONDS = 0.002


def unit_seconds(run: Callable[[int], None], seconds: float = ROUND_SECONDS, tries: int = 9) -> float:
    """Seconds per unit (feed, request) of ``run``, from the fastest of ``tries`` rounds.

    The count doubles until a round takes half of ``seconds``; the fastest of
    ``tries`` rounds of that count then sets the rate.  The fastest, because a
    calibration taken while the machine is busy would give a small count, and
    a small count makes the round's fixed cost a large share.
    """
    n = 1
    while True:
        start = time.perf_counter()
        run(n)
        if time.perf_counter() - start >= seconds / 2 or n >= 1 << 20:
            break
        n *= 2
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        run(n)
        best = min(best, time.perf_counter() - start)
    return best / n


def calibrate(run: Callable[[int], None], seconds: float = ROUND_SECONDS) -> int:
    """How many units (feeds, requests) make a round of about ``seconds``; at least 1."""
    return max(1, round(seconds / unit_seconds(run, seconds)))
