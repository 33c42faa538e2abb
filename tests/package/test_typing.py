"""Types are part of the API: mypy --strict passes on the package, and each
C module's ``.pyi`` stub matches the compiled module (mypy's stubtest), so
the stubs cannot drift from the twins they describe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_mypy_strict_passes_on_the_package() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.c_extension
@pytest.mark.parametrize("module", ["wirespeed.wire._writer_c", "wirespeed.wire._parser_c",
                                    "wirespeed.wire._receive_c", "wirespeed.client._connection_c",
                                    "wirespeed.client._context_c"])
def test_stub_matches_the_c_module(module: str) -> None:
    allowlist = str(ROOT / "tests" / "stubtest-allowlist.txt")
    result = run("mypy.stubtest", module, "--allowlist", allowlist, "--ignore-unused-allowlist")
    assert result.returncode == 0, result.stdout + result.stderr
