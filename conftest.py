"""Root conftest: adds ``pytest --benchmark``.

pytest-benchmark has no ``--benchmark`` flag of its own.  With it, pytest
collects the benchmarks under ``bench/`` (ours and the peers, grouped so each
group prints side by side) instead of the tests; without it, a plain
``pytest`` runs the tests and leaves the benchmarks out.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--benchmark",
        action="store_true",
        default=False,
        help="run the benchmarks under bench/ (wirespeed's twins and the peers) instead of the tests",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--benchmark"):
        # Run bench/ unless the user named paths; group and sort for a side-by-side table.
        if not config.args or config.args == [str(config.rootpath / "tests")] or config.args == ["tests"]:
            config.args[:] = [str(config.rootpath / "bench")]
        config.option.benchmark_group_by = "group"
        config.option.benchmark_sort = "mean"
        config.option.benchmark_columns = ["min", "mean", "median", "ops", "rounds"]
    else:
        config.option.benchmark_skip = True
