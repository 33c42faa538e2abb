"""The release: one version source, a changelog entry for it, and the shape of the workflow.

GitHub's runners cannot be run here, so .github/workflows/release.yml is checked
for what a run depends on: the jobs come in the order sdist, then wheels built
from that sdist, then publishing; publishing happens only on a pushed ``v*`` tag,
with an OIDC token (trusted publishing) and no stored secret; the wheel runners
cover every platform and arch of ``[tool.cibuildwheel]``.  ``make release-check``
validates every workflow against GitHub's schema (check-jsonschema) and runs the
dry run itself: ``python -m build``, then ``twine check --strict``.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path
from typing import Any

import pytest

import wirespeed

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - 3.10
    import tomli as tomllib

yaml = pytest.importorskip("yaml", reason="PyYAML comes with the docs and release extras")

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def source_version() -> str:
    """``__version__`` as the source spells it, read without importing (as setuptools does)."""
    tree = ast.parse((ROOT / "python" / "wirespeed" / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__version__" for t in node.targets):
            assert isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            return node.value.value
    raise AssertionError("no __version__ in wirespeed/__init__.py")


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    # YAML 1.1 reads the bare key `on` as True.
    data["on"] = data.pop(True, data.get("on"))
    return data


# -- one version -------------------------------------------------------------------------


def test_the_version_has_one_source() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project
    assert "version" in project["dynamic"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "wirespeed.__version__"}
    assert wirespeed.__version__ == source_version()


def test_the_version_is_a_pep440_release_or_pre_release() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?", wirespeed.__version__)


def test_the_installed_metadata_names_the_same_version() -> None:
    from importlib.metadata import version

    assert version("wirespeed") == wirespeed.__version__, "reinstall: pip install -e ."


def test_the_changelog_has_an_entry_for_the_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", text, flags=re.M)
    assert headings[0] == "Unreleased"
    assert headings[1] == wirespeed.__version__, "the newest entry is the version being released"


# -- the workflow -----------------------------------------------------------------------


def test_release_runs_on_version_tags_and_as_a_dry_run(workflow: dict[str, Any]) -> None:
    on = workflow["on"]
    assert on["push"] == {"tags": ["v*"]}
    assert "workflow_dispatch" in on and "pull_request" in on
    assert workflow["permissions"] == {"contents": "read"}  # nothing more, except where a job asks


def test_wheels_are_built_from_the_sdist(workflow: dict[str, Any]) -> None:
    jobs = workflow["jobs"]
    assert list(jobs) == ["sdist", "wheels", "publish"]
    assert jobs["wheels"]["needs"] == "sdist"
    steps = jobs["wheels"]["steps"]
    assert not any(str(s.get("uses", "")).startswith("actions/checkout") for s in steps), "no checkout: the sdist only"
    (cibw,) = [s for s in steps if str(s.get("uses", "")).startswith("pypa/cibuildwheel@")]
    assert cibw["with"]["package-dir"] == "sdist/${{ needs.sdist.outputs.file }}"
    major = cibw["uses"].split("@v", 1)[1].split(".")[0]
    assert major == "4"
    sdist_steps = "\n".join(str(s.get("run", "")) for s in jobs["sdist"]["steps"])
    assert "python -m build --sdist" in sdist_steps and "twine check --strict" in sdist_steps


def test_the_tag_must_match_the_version_and_the_changelog(workflow: dict[str, Any]) -> None:
    (guard,) = [s for s in workflow["jobs"]["sdist"]["steps"] if "GITHUB_REF_NAME" in str(s.get("run", ""))]
    assert guard["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert "__version__" in guard["run"] and "CHANGELOG.md" in guard["run"]


def test_publishing_is_trusted_and_only_on_tags(workflow: dict[str, Any]) -> None:
    publish = workflow["jobs"]["publish"]
    assert publish["needs"] == ["sdist", "wheels"]
    assert publish["if"] == "github.event_name == 'push' && startsWith(github.ref, 'refs/tags/v')"
    assert publish["permissions"] == {"id-token": "write"}
    assert publish["environment"]["name"] == "pypi"
    uses = [str(s.get("uses", "")) for s in publish["steps"]]
    assert uses[-1] == "pypa/gh-action-pypi-publish@release/v1"
    assert "secrets." not in WORKFLOW.read_text(encoding="utf-8"), "trusted publishing needs no token"


def test_the_wheel_runners_cover_the_cibuildwheel_matrix(workflow: dict[str, Any]) -> None:
    include = workflow["jobs"]["wheels"]["strategy"]["matrix"]["include"]
    platform_of = {"ubuntu": "linux", "macos": "macos", "windows": "windows"}
    covered: dict[str, set[str]] = {}
    for row in include:
        platform = platform_of[row["os"].split("-")[0]]
        covered.setdefault(platform, set()).add(row["archs"])
    cibw = PYPROJECT["tool"]["cibuildwheel"]
    assert covered == {p: set(cibw[p]["archs"]) for p in ("linux", "macos", "windows")}
    # One native runner per arch: an arm64 runner for aarch64, an Intel one for macOS x86_64.
    runner = {(r["os"], r["archs"]) for r in include}
    assert ("ubuntu-24.04-arm", "aarch64") in runner and ("macos-15-intel", "x86_64") in runner
