"""The switch between the twins (wirespeed.wire) and the build that feeds it.

These are the only tests that import twin modules by name: they check that
the C twin is preferred by default, that ``WIRESPEED_NO_EXTENSIONS`` is
honoured at import time, that every module imports alone with warnings as
errors, and that under CI the C twin was built and is the live one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import wirespeed
from wirespeed import wire

IN_CI = os.environ.get("CI", "").lower() == "true" or os.environ.get("CIBUILDWHEEL") == "1"

def _python_modules() -> list[str]:
    """Every module of the package written in Python, found on disk so none is forgotten."""
    root = Path(wirespeed.__file__).resolve().parent
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


PUBLIC_MODULES = _python_modules()
C_MODULES = ["wirespeed.wire._writer_c", "wirespeed.wire._parser_c", "wirespeed.wire._receive_c",
             "wirespeed.client._connection_c", "wirespeed.client._context_c"]


def run_python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh isolated interpreter with warnings as errors; return stdout."""
    full_env = {k: v for k, v in os.environ.items() if k != "WIRESPEED_NO_EXTENSIONS"}
    full_env.update(env)
    out = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        env=full_env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@pytest.mark.skipif(not IN_CI, reason="only CI (CI=true) requires the C twin to be built")
def test_c_twin_is_live_in_ci() -> None:
    assert wire.IMPLEMENTATION == "c"
    assert wirespeed.IMPLEMENTATION == "c"


@pytest.mark.c_extension
def test_c_twin_is_preferred_by_default() -> None:
    assert run_python("import wirespeed.wire as w; print(w.IMPLEMENTATION)") == "c"


def test_no_extensions_env_forces_python_twin() -> None:
    code = "import wirespeed.wire as w; print(w.IMPLEMENTATION, w.StreamWriter.__module__, w.ResponseParser.__module__)"
    assert run_python(code, WIRESPEED_NO_EXTENSIONS="1").split() == [
        "python",
        "wirespeed.wire._writer_py",
        "wirespeed.wire._parser_py",
    ]


def test_no_extensions_zero_means_unset() -> None:
    expected = "c" if IN_CI else wire.IMPLEMENTATION
    assert run_python("import wirespeed.wire as w; print(w.IMPLEMENTATION)", WIRESPEED_NO_EXTENSIONS="0") == expected


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_module_imports_alone_with_warnings_as_errors(module: str) -> None:
    assert run_python(f"import {module}; print('ok')") == "ok"


@pytest.mark.c_extension
@pytest.mark.parametrize("module", C_MODULES)
def test_c_module_imports_alone_with_warnings_as_errors(module: str) -> None:
    assert run_python(f"import {module}; print('ok')") == "ok"


def test_fixture_twins_are_distinct(wire_impl) -> None:
    twin = wire.load(wire_impl.IMPLEMENTATION)
    assert twin.StreamWriter is wire_impl.StreamWriter
    other = wire.load("python")
    if wire_impl.IMPLEMENTATION == "c":
        assert wire_impl.StreamWriter is not other.StreamWriter
        assert wire_impl.ResponseParser is not other.ResponseParser
    else:
        assert wire_impl.StreamWriter is other.StreamWriter


def test_top_level_exports_are_the_live_twin() -> None:
    assert wirespeed.StreamWriter is wire.StreamWriter
    assert wirespeed.ResponseParser is wire.ResponseParser
    for name in wirespeed.__all__:
        assert hasattr(wirespeed, name), name


@pytest.mark.parametrize(
    ("require", "outcome"),
    [("", "1 skipped"), ("1", "1 failed")],
    ids=["CI-alone-skips", "WIRESPEED_REQUIRE_SERVERS-fails"],
)
def test_missing_strace_fails_only_when_servers_are_required(tmp_path: Path, require: str, outcome: str) -> None:
    """CI=true alone (GitHub sets it everywhere, cibuildwheel's test step too) does not
    make a missing server or strace a failure; WIRESPEED_REQUIRE_SERVERS=1 (.ci/run) does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "WIRESPEED_"))}
    env.update(CI="true", PATH=str(tmp_path), WIRESPEED_REQUIRE_SERVERS=require)  # no strace on PATH
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q",
         "tests/wire/test_writer_socket.py::test_small_post_is_one_write_syscall[python]"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )
    assert outcome in result.stdout, result.stdout[-3000:] + result.stderr[-3000:]
