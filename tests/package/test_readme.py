"""The README's parser example runs as written, on both twins."""

from __future__ import annotations

import re
from pathlib import Path

from wirespeed.wire import Wire

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_readme_parser_example_runs(wire_impl: Wire) -> None:
    (block,) = [b for b in python_blocks() if "ResponseParser(" in b]
    code = block.replace("from wirespeed import MessageEnd, ResponseHead, ResponseParser\n", "")
    exec(
        compile(code, str(README), "exec"),
        {
            "ResponseParser": wire_impl.ResponseParser,
            "ResponseHead": wire_impl.ResponseHead,
            "MessageEnd": wire_impl.MessageEnd,
        },
    )
