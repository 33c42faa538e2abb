"""Every Python block of README.md and docs/*.md runs as written, on each twin.

A block is a fenced code block whose fence says ``python``; it is executed
whole, in a fresh namespace, as a script would run it (its own imports, its
own ``asyncio.run`` and loopback server where it needs them).  A block that is
deliberately not runnable (a shell command, output, a grammar) says so with
another fence language, and every fence names one.

Each block runs once per twin of the wire layer: the names a block can import
the wire layer by (``wirespeed.StreamWriter``, ``wirespeed.wire.ResponseParser``,
..., ``wirespeed.wire.default()`` which the client uses) are pointed at the
twin under test while it runs, so what the docs show holds for both.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest

import wirespeed
from wirespeed import wire
from wirespeed.wire import Wire

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\S*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)
#: The names by which a block reaches the live twin.
TWINNED = ["StreamWriter", "ResponseParser", "ResponseHead", "MessageEnd", "IMPLEMENTATION"]


class Block(NamedTuple):
    path: Path
    line: int
    language: str
    code: str

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks() -> list[Block]:
    found = []
    for path in DOCUMENTS:
        text = path.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(Block(path, line, match.group(1), match.group(2)))
    return found


PYTHON_BLOCKS = [block for block in blocks() if block.language == "python"]


def test_the_docs_have_python_blocks() -> None:
    names = {block.path.name for block in PYTHON_BLOCKS}
    assert {"README.md", "writer.md", "parser.md", "decoding.md", "errors.md", "design.md"} <= names
    # the guides: each shows its subject as a program against a local server
    guides = {"quickstart.md", "client.md", "connections.md", "streaming.md", "middlewares.md", "cookbook.md",
              "wire.md", "migrating.md"}
    assert guides <= names


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_fence_names_its_language(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    # Opening fences alternate with closing ones; an opening fence must say what it holds.
    fences = re.findall(r"^```(\S*)", text, re.M)
    assert len(fences) % 2 == 0, "a fence is not closed"
    unnamed = [i for i, language in enumerate(fences[::2]) if not language]
    assert unnamed == [], f"opening fences #{unnamed} have no language (python, sh, text...)"


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda block: block.id)
def test_python_block_runs(block: Block, wire_impl: Wire, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TWINNED:
        value = getattr(wire_impl, name)
        monkeypatch.setattr(wirespeed, name, value)
        monkeypatch.setattr(wire, name, value)
    monkeypatch.setattr(wire, "default", lambda: wire_impl)
    namespace = {"__name__": "__main__", "__file__": str(block.path)}
    # Line numbers in a traceback are the document's own.
    code = compile("\n" * block.line + block.code, str(block.path), "exec")
    exec(code, namespace)


def _tables(text: str) -> list[str]:
    return re.findall(r"(?:^\|.*\|\n)+", text, re.M)


def test_the_benchmarks_page_shows_the_readme_tables() -> None:
    """The wire tables appear in both README.md and docs/benchmarks.md: one set of figures."""
    readme = _tables((ROOT / "README.md").read_text(encoding="utf-8"))
    page = _tables((ROOT / "docs" / "benchmarks.md").read_text(encoding="utf-8"))
    wire_tables = [t for t in readme if t.startswith("| case | wirespeed C")]
    assert len(wire_tables) == 2   # parsing, writing
    for table in wire_tables:
        assert table in page
