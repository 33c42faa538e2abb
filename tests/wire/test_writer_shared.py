"""What the writer twins share lives once: ``_writer_shared`` and the ``W_*`` texts of ``_messages``.

The behaviour itself (same class, same text on both twins) is tested case by
case in the other writer tests; these check the structure that keeps it so:
``drain`` is one function object, no writer source spells an error text of
its own, and every writer text is used.
"""

from __future__ import annotations

import re
from pathlib import Path

from wirespeed.wire import Wire, _messages, _writer_shared

ROOT = Path(__file__).resolve().parents[2]
WRITER_SOURCES = [
    ROOT / "src" / "_fastwriter.pyx",
    ROOT / "python" / "wirespeed" / "wire" / "_writer_py.py",
    ROOT / "python" / "wirespeed" / "wire" / "_writer_shared.py",
    ROOT / "python" / "wirespeed" / "wire" / "_flow.py",
]


def test_drain_is_the_shared_coroutine_on_both_twins(wire_impl: Wire) -> None:
    assert wire_impl.StreamWriter.drain is _writer_shared.drain


def test_no_writer_source_spells_an_error_text_of_its_own() -> None:
    # A text in a raise would be a second copy that can drift from the other twin's.
    for path in WRITER_SOURCES:
        source = path.read_text(encoding="utf-8")
        literal = re.findall(r"raise \w+\(\s*[rbf]*[\"'][^\n]*", source)
        assert literal == [], f"{path.name}: {literal}"


def test_every_writer_text_is_used() -> None:
    sources = "\n".join(path.read_text(encoding="utf-8") for path in WRITER_SOURCES)
    names = [name for name in vars(_messages) if name.startswith("W_")]
    assert len(names) > 30
    unused = [name for name in names if not re.search(rf"\b{name}\b", sources)]
    assert unused == []
