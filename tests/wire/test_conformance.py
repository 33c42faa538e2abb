"""The shared response-parsing conformance cases, through both twins.

The cases are read from ``../shared/conformance/responses.json`` next to the repository
when it is there (the canonical, possibly newer set), and from
``tests/support/data/conformance_responses.json`` (a copy kept in the repository, so a fresh
clone has them); a case id in both runs once, from the shared file.  Set
``WIRESPEED_CONFORMANCE=/path/to/cases.json`` to run another file of the same format
as well.  Format: ``../shared/conformance/README.md``.  Each case runs
in each mode it names (``any`` means both), fed whole, byte by byte and in seeded
random splits; the messages must match field by field, or the parser must raise its
typed error (at the latest at ``feed_eof()`` when the case closes the stream).  The case
file says only ``"error"``; which class each error case must raise is decided here, by
its category with a few cases named, and a new error case nobody mapped fails.

Two cases contradict the contract: ``duplicate-server`` and ``cl-repeated-same`` are
marked ``mode: any`` and expect acceptance, while docs/parser.md rejects a repeated
``Server`` (docs/design.md: syntax real servers get wrong is rejected in strict mode) and
a repeated ``Content-Length`` (RFC 9110 §8.6 allows either answer; the contract treats a
repeated Content-Length as a framing matter) in strict mode.  Their strict runs are
expected failures, kept visible rather than skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from support.parsing import SPLITS, run, splits
from wirespeed.errors import (
    BadChunk,
    BadContentLength,
    BadStatusLine,
    BadTransferEncoding,
    HttpParserError,
    IncompleteMessage,
    InvalidHeader,
    InvalidLineEnding,
    LineTooLong,
    TooManyHeaders,
)
from wirespeed.wire import Wire

_HERE = Path(__file__).resolve().parent
_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "responses.json"
_SOURCES = [
    *([Path(os.environ["WIRESPEED_CONFORMANCE"])] if os.environ.get("WIRESPEED_CONFORMANCE") else []),
    _SHARED,
    _HERE.parent / "support" / "data" / "conformance_responses.json",
]


def _load_cases() -> list[dict[str, Any]]:
    """Every case of every source present, the first source winning for a repeated id."""
    cases: dict[str, dict[str, Any]] = {}
    for path in _SOURCES:
        if not path.exists():
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["format"] == 1, f"{path}: unknown format {data['format']!r}"
        for case in data["cases"]:
            cases.setdefault(case["id"], case)
    return list(cases.values())


_CASES = _load_cases()

# (case id, strict) pairs whose expectation contradicts docs/parser.md, with the reason.
_CONTRADICTS_CONTRACT = {
    ("duplicate-server", True): "strict mode rejects a repeated Server field (docs/design.md, docs/parser.md)",
    ("cl-repeated-same", True): "strict mode rejects a repeated Content-Length, even an equal one (docs/parser.md)",
}


#: The error class a rejected case must raise, by the case file's category ...
_ERROR_BY_CATEGORY: dict[str, type[HttpParserError]] = {
    "status-line": BadStatusLine,
    "headers": InvalidHeader,
    "line-endings": InvalidLineEnding,
    "content-length": BadContentLength,
    "smuggling": BadTransferEncoding,  # Transfer-Encoding with Content-Length
    "chunked": BadChunk,
}
#: ... and by case where the category does not say it (docs/parser.md, "End of stream", "Limits").
_ERROR_BY_ID: dict[str, type[HttpParserError]] = {
    "cl-truncated": IncompleteMessage,
    "chunked-truncated": IncompleteMessage,
    "header-too-long": LineTooLong,
    "too-many-headers": TooManyHeaders,
}


def _expected_error(case: dict[str, Any]) -> type[HttpParserError]:
    cls = _ERROR_BY_ID.get(case["id"]) or _ERROR_BY_CATEGORY.get(case["category"])
    assert cls is not None, f"no error class decided for {case['id']} ({case['category']}): add it above"
    return cls


def _params() -> list[Any]:
    params = []
    for c in _CASES:
        modes = {"any": (False, True), "lenient": (False,), "strict": (True,)}[c["mode"]]
        for strict in modes:
            for how in SPLITS:
                marks = []
                why = _CONTRADICTS_CONTRACT.get((c["id"], strict))
                if why:
                    marks.append(pytest.mark.xfail(reason=why, strict=True))
                params.append(pytest.param(c, strict, how, marks=marks,
                                           id=f"{c['id']}-{'strict' if strict else 'lenient'}-{how}"))
    return params


def _as_expected(message: dict[str, Any]) -> dict[str, Any]:
    """A parsed message in the case file's terms (text as latin-1 of the wire bytes)."""
    major, minor = message["version"]
    return {
        "version": f"{major}.{minor}",
        "status": message["status"],
        "reason": message["reason"].encode("utf-8", "surrogateescape").decode("latin-1"),
        "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in message["raw_headers"]],
        "body": message["body"].decode("latin-1"),
        "keep_alive": message["keep_alive"],
        "upgrade": message["upgrade"],
    }


@pytest.mark.parametrize(("c", "strict", "how"), _params())
def test_conformance(wire_impl: Wire, c: dict[str, Any], strict: bool, how: str) -> None:
    data = c["input"].encode("latin-1")
    for chunks in splits(data, how):
        out = run(wire_impl, chunks, method=c["method"], strict=strict, eof=c["eof"])
        if c["expect"] == "error":
            assert out.error is not None, "the parser accepted a case that must be rejected"
            assert type(out.error) is _expected_error(c), out.error
            continue
        assert out.error is None, f"unexpected {out.error!r}"
        assert all(m["complete"] for m in out.messages)
        assert [_as_expected(m) for m in out.messages] == c["expect"]


def test_the_cases_were_found() -> None:
    assert len(_CASES) >= 50


def test_every_error_case_has_a_decided_class() -> None:
    for c in _CASES:
        if c["expect"] == "error":
            _expected_error(c)
