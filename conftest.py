"""Root conftest: ``pytest --benchmark`` (and ``--benchmark-only``), and ``--run-slow``.

pytest-benchmark has no ``--benchmark`` flag of its own.  With it, pytest
collects the benchmarks under ``bench/`` (ours and the peers, grouped so each
group prints side by side) instead of the tests; without it, a plain
``pytest`` runs the tests and leaves the benchmarks out.

``--benchmark-only`` is pytest-benchmark's own flag ("run only the
benchmarks"); users of the plugin expect it to run them, so it selects
``bench/`` the same way instead of skipping every test under ``tests/``.
Paths named on the command line win in both cases.

Tests marked ``slow`` (minutes each: the packaging checks of
``tests/package/test_dist.py``, which build and install distributions in fresh
virtualenvs, and the biggest downloads) are deselected unless ``--run-slow`` is
given or the ``-m`` expression names ``slow``; ``.ci/run`` runs them all.
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
    parser.addoption(
        "--run-slow",
        action="store_true",
        default=False,
        help="also run the tests marked slow (building and installing the distributions: make check-dist)",
    )


def _paths_were_named(config: pytest.Config) -> bool:
    if config.args_source != pytest.Config.ArgsSource.TESTPATHS:
        return not (config.args == ["tests"] or config.args == [str(config.rootpath / "tests")])
    return False


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--benchmark") or config.getoption("benchmark_only", False):
        # Run bench/ unless the user named paths; group and sort for a side-by-side table.
        if not _paths_were_named(config):
            config.args[:] = [str(config.rootpath / "bench")]
        config.option.benchmark_group_by = "group"
        config.option.benchmark_sort = "mean"
        config.option.benchmark_columns = ["min", "mean", "median", "ops", "rounds"]
    else:
        config.option.benchmark_skip = True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow") or "slow" in (config.getoption("markexpr") or ""):
        return
    slow = [item for item in items if item.get_closest_marker("slow")]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if not item.get_closest_marker("slow")]
