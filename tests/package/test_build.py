"""The build: the C twins are optional at install, required under CI.

Each test copies the build inputs into a temp dir and runs ``setup.py
build_ext --inplace`` there with a compiler that always fails (``CC=false``),
so the real tree is untouched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def build_tree(tmp_path: Path) -> Path:
    for name in ("setup.py", "pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("*.c", "*.so"))
    shutil.copytree(
        ROOT / "python", tmp_path / "python", ignore=shutil.ignore_patterns("*.so", "*.c", "__pycache__")
    )
    return tmp_path


def build(tree: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("CI", "CIBUILDWHEEL", "WIRESPEED_NO_EXTENSIONS")}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"],
        cwd=tree,
        env=full_env,
        capture_output=True,
        text=True,
    )


def built_modules(tree: Path) -> list[str]:
    return sorted(p.name.split(".")[0] for p in (tree / "python" / "wirespeed").glob("*.so"))


def test_failed_compile_falls_back_to_python_twin_and_says_so(build_tree: Path) -> None:
    result = build(build_tree, CC="false", LDSHARED="false")
    assert result.returncode == 0, result.stderr
    assert "installing the pure-Python twin" in result.stderr
    assert built_modules(build_tree) == []
    probe = subprocess.run(
        [sys.executable, "-c", "import wirespeed.wire as w; print(w.IMPLEMENTATION)"],
        cwd=build_tree / "python",
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.strip() == "python"


@pytest.mark.parametrize("env", [{"CI": "true"}, {"CIBUILDWHEEL": "1"}], ids=["CI", "CIBUILDWHEEL"])
def test_failed_compile_is_an_error_under_ci(build_tree: Path, env: dict[str, str]) -> None:
    result = build(build_tree, CC="false", LDSHARED="false", **env)
    assert result.returncode != 0
    assert "CI requires the C twin" in result.stderr


def test_no_extensions_env_skips_the_compile(build_tree: Path) -> None:
    result = build(build_tree, WIRESPEED_NO_EXTENSIONS="1", CC="false")
    assert result.returncode == 0, result.stderr
    assert "WIRESPEED_NO_EXTENSIONS is set" in result.stderr
    assert built_modules(build_tree) == []
