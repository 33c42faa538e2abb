"""The command line read into a request, in process (no server, no subprocess), and docs/cli.md
kept true to the parser: every option and exit code documented, every example parses."""

from __future__ import annotations

import io
import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from wirespeed import FormData
from wirespeed.cli import Exit, UsageError, build_parser, main, plan

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def planned(*args: str) -> Any:
    return plan(build_parser().parse_intermixed_args(list(args)))


@pytest.mark.parametrize(
    ("args", "method", "url"),
    [
        (("example.com",), "GET", "http://example.com"),
        (("GET", "example.com"), "GET", "http://example.com"),
        (("post", "https://example.com/x"), "POST", "https://example.com/x"),
        (("localhost", "a=1"), "POST", "http://localhost"),   # a word before an item is the URL
        (("localhost:8080/?q=1",), "GET", "http://localhost:8080/?q=1"),
        (("PUT", "localhost", "a=1"), "PUT", "http://localhost"),
        (("GET", "http://h/?a=1"), "GET", "http://h/?a=1"),
        (("-X", "purge", "h"), "purge", "http://h"),   # -X is sent as written
        (("-I", "h"), "HEAD", "http://h"),
        (("-I", "head", "h"), "HEAD", "http://h"),
        (("h", "-d", ""), "POST", "http://h"),
    ],
)
def test_method_and_url(args: tuple[str, ...], method: str, url: str) -> None:
    p = planned(*args)
    assert (p.method, p.url) == (method, url)


def test_items_make_a_json_object() -> None:
    p = planned("h", "name=wire", "n:=3", "obj:={\"a\": [1]}", "empty=", "eq=a=b")
    assert p.has_json and p.json_body == {"name": "wire", "n": 3, "obj": {"a": [1]}, "empty": "", "eq": "a=b"}
    assert ("Accept", "application/json, */*;q=0.5") in p.headers


def test_headers_keep_order_and_values() -> None:
    p = planned("h", "-H", "A: 1", "-H", "b:2 ", "-H", "A: x: y")
    assert p.headers == [("A", "1"), ("b", "2"), ("A", "x: y")]


def test_data_file_is_an_open_file_closed_by_the_plan(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"abc")
    p = planned("h", "-d", f"@{tmp_path / 'f'}")
    assert p.data.read() == b"abc"
    p.close()
    assert p.data.closed


def test_form_fields_and_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    p = planned("h", "-F", "x=1", "-F", f"f@{tmp_path / 'a.txt'}", "-F", f"g=@{tmp_path / 'a.txt'}",
                "-F", "mail=a@b")
    assert isinstance(p.data, FormData) and p.method == "POST"
    assert len(p.opened) == 2
    p.close()


@pytest.mark.parametrize(
    "args",
    [(), ("h", "a=1", "--json", "{}"), ("h", "-d", "x", "-F", "a=1"), ("h.com", "a"), ("h", "-H", "nocolon"),
     ("h", "-u", "user"), ("h", "--json", "[1,"), ("-X", "GET", "GET", "h")],
)
def test_usage_errors(args: tuple[str, ...]) -> None:
    with pytest.raises(UsageError):
        planned(*args)


def test_main_returns_the_usage_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--json", "{", "h"]) == Exit.USAGE
    err = capsys.readouterr().err
    assert err.startswith("usage: wirespeed") and "not JSON" in err
    assert main(["--version"]) == Exit.OK


def test_stdin_is_read_for_data(monkeypatch: pytest.MonkeyPatch) -> None:
    class Stdin:
        buffer = io.BytesIO(b"\x00\xff bytes")

    monkeypatch.setattr("sys.stdin", Stdin)
    assert planned("h", "-d", "@-").data == b"\x00\xff bytes"


# -- docs/cli.md ------------------------------------------------------------------------------


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def table_rows(heading: str) -> list[list[str]]:
    section = doc_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|") and not line.startswith("|---")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[1:]]


def test_every_option_is_in_the_options_table() -> None:
    documented = " ".join(row[0] for row in table_rows("Options"))
    for action in build_parser()._actions:
        for option in action.option_strings:
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", documented), option


def test_the_exit_code_table_is_the_enum() -> None:
    assert [int(row[0]) for row in table_rows("Exit codes")] == [int(code) for code in Exit]


def test_docs_have_no_python_blocks_to_run() -> None:
    # the page is about a shell command: its examples are ```sh and ```text blocks; a ```python
    # block here would need a test that runs it
    assert "```python" not in doc_text()


def examples() -> list[list[str]]:
    found = []
    for block in re.findall(r"```(?:sh|text)\n(.*?)```", doc_text(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.removeprefix("$ ").strip()
            start = line.find("python -m wirespeed")
            if start < 0 or line.startswith("#") or "[OPTIONS]" in line:
                continue
            words = shlex.split(line[start:].split(";")[0])
            cut = next((i for i, w in enumerate(words) if w in ("|", ">", "<", "&&", ";", "then")), len(words))
            found.append(words[3:cut])
    return found


def test_the_docs_have_examples() -> None:
    assert len(examples()) >= 10


@pytest.mark.parametrize("words", examples(), ids=lambda w: " ".join(w)[:60])
def test_every_example_parses(words: list[str]) -> None:
    opts = build_parser().parse_intermixed_args(words)
    opts.data = None if opts.data and opts.data.startswith("@") and opts.data != "@-" else opts.data
    opts.json = "{}" if opts.json and opts.json.startswith("@") else opts.json
    opts.form = [f for f in opts.form if "@" not in f]   # files the examples name do not exist here
    if opts.data == "@-":
        opts.data = "stdin"
    p = plan(opts)
    assert p.url.startswith(("http://", "https://"))
    p.close()
