"""Fixtures of the command-line tests (``cli_kit`` has what they are built on).

- ``server``: the local aiohttp server of ``cli_kit.serving``, once per session;
- ``cli``: ``cli_kit.run_cli``, ``python -m wirespeed ARGS`` in a subprocess.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cli_kit import Server, run_cli, serving


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    with serving() as s:
        yield s


@pytest.fixture
def cli() -> Any:
    return run_cli
