"""The error tree holds: exported, documented, in its families, and picklable.

``wirespeed.errors`` is the one place errors are defined; everything in it is
importable from ``wirespeed``, and every exception ``wirespeed`` exports is
named in ``docs/errors.md``.  The families are the contract a handler relies
on: what the peer sent is a ``RemoteProtocolError``, what the caller asked is
a ``LocalProtocolError``, a client timeout is an ``asyncio.TimeoutError``.
Errors cross process boundaries (pickle) with their attributes.
"""

from __future__ import annotations

import asyncio
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import wirespeed
from wirespeed import errors
from wirespeed.errors import (
    BadChunk,
    BodyTypeError,
    ClientError,
    ClientResponseError,
    HeaderValidationError,
    HttpParserError,
    IncompleteMessage,
    LocalProtocolError,
    ReadTimeout,
    RemoteProtocolError,
    TransportError,
    UnsupportedCompression,
    UnsupportedContentEncoding,
    WirespeedError,
    WriterStateError,
)
from wirespeed.testing import RecordingTransport
from wirespeed.wire import Wire

ROOT = Path(__file__).resolve().parents[2]
ERRORS_DOC = ROOT / "docs" / "errors.md"


def defined() -> list[type[BaseException]]:
    """Every exception class whose home is wirespeed.errors."""
    return [
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__ == errors.__name__
    ]


def exported() -> list[str]:
    """The names of every exception class wirespeed exports."""
    return [
        name
        for name in wirespeed.__all__
        if isinstance(getattr(wirespeed, name), type) and issubclass(getattr(wirespeed, name), BaseException)
    ]


# -- exported and documented ---------------------------------------------------


def test_errors_all_lists_every_exception_defined_there() -> None:
    assert sorted(cls.__name__ for cls in defined()) == sorted(errors.__all__)


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_is_exported_from_wirespeed(name: str) -> None:
    assert getattr(wirespeed, name) is getattr(errors, name)
    assert name in wirespeed.__all__


def test_every_exception_defined_in_errors_is_exported() -> None:
    assert {cls.__name__ for cls in defined()} <= set(wirespeed.__all__)


def test_every_exported_exception_is_documented_by_name() -> None:
    docs = "\n".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").glob("*.md")))
    missing = [name for name in exported() if f"`{name}`" not in docs]
    assert missing == []


def test_the_errors_page_names_every_error_and_draws_the_whole_tree() -> None:
    text = ERRORS_DOC.read_text(encoding="utf-8")
    tree = text.split("```text\n", 1)[1].split("```", 1)[0]
    drawn = set(re.findall(r"[├└]── (\w+)", tree)) | {tree.split("\n", 1)[0].strip()}
    assert drawn == set(errors.__all__)
    missing = [name for name in errors.__all__ if f"`{name}`" not in text]
    assert missing == []


@pytest.mark.parametrize("cls", defined(), ids=lambda cls: cls.__name__)
def test_every_error_has_a_docstring_and_the_root(cls: type[BaseException]) -> None:
    assert cls.__doc__ and cls.__doc__.strip()
    assert issubclass(cls, WirespeedError)


# -- the families ------------------------------------------------------------------

WRITER_CALLER_ERRORS = [HeaderValidationError, BodyTypeError, WriterStateError, UnsupportedCompression]


def test_every_parser_error_is_a_remote_protocol_error() -> None:
    leaves = [cls for cls in defined() if issubclass(cls, HttpParserError)]
    assert len(leaves) >= 10  # the base and its leaves
    for cls in leaves:
        assert issubclass(cls, RemoteProtocolError) and not issubclass(cls, LocalProtocolError)


@pytest.mark.parametrize(
    ("cls", "stdlib"),
    [(HeaderValidationError, ValueError), (BodyTypeError, TypeError), (WriterStateError, RuntimeError),
     (UnsupportedCompression, ValueError)],
    ids=lambda x: x.__name__,
)
def test_every_writer_caller_error_is_a_local_protocol_error(cls: type[Exception], stdlib: type[Exception]) -> None:
    assert issubclass(cls, LocalProtocolError) and not issubclass(cls, RemoteProtocolError)
    assert issubclass(cls, stdlib)


def test_the_families_do_not_overlap() -> None:
    for cls in defined():
        roots = (RemoteProtocolError, LocalProtocolError, TransportError, ClientError)
        families = [f for f in roots if issubclass(cls, f)]
        assert len(families) <= 1, (cls, families)
    assert issubclass(TransportError, ConnectionError)


def test_every_timeout_is_an_asyncio_timeout_and_a_client_error() -> None:
    timeouts = [cls for cls in defined() if issubclass(cls, errors.TimeoutError)]
    names = {"TimeoutError", "ConnectTimeout", "PoolTimeout", "ReadTimeout", "TotalTimeout"}
    assert {cls.__name__ for cls in timeouts} >= names
    for cls in timeouts:
        assert issubclass(cls, asyncio.TimeoutError) and issubclass(cls, ClientError)
    with pytest.raises(asyncio.TimeoutError):
        raise ReadTimeout("no byte", method="GET", url="http://example.org/")


def test_what_the_parser_raises_is_caught_as_remote(wire_impl: Wire) -> None:
    parser = wire_impl.ResponseParser()
    with pytest.raises(RemoteProtocolError) as info:
        parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
    assert type(info.value).__name__ == "BadContentLength"


MISUSE: list[tuple[type[Exception], Callable[[Any], None]]] = [
    (HeaderValidationError, lambda w: w.write_headers("GET / HTTP/1.1", {"X": "a\nb"})),
    (BodyTypeError, lambda w: (w.write_headers("POST / HTTP/1.1"), w.write("text"))),
    (WriterStateError, lambda w: w.write(b"body before head")),
    (UnsupportedCompression, lambda w: w.enable_compression("br")),
]


@pytest.mark.parametrize(("cls", "misuse"), MISUSE, ids=[cls.__name__ for cls, _ in MISUSE])
def test_what_the_writer_refuses_is_caught_as_local(
    wire_impl: Wire, cls: type[Exception], misuse: Callable[[Any], None]
) -> None:
    transport = RecordingTransport()
    writer = wire_impl.StreamWriter(transport)
    with pytest.raises(LocalProtocolError) as info:
        misuse(writer)
    assert type(info.value) is cls
    assert transport.calls == []


# -- pickle and str --------------------------------------------------------------

LEAVES: list[tuple[BaseException, str]] = [
    (BadChunk("chunk size is not hex digits", 57, 0x67), "chunk size is not hex digits at offset 57 (byte 0x67)"),
    (
        IncompleteMessage("the stream ended inside a chunked body", 90, None, received=12, expected=None),
        "the stream ended inside a chunked body at offset 90",
    ),
    (HeaderValidationError("control byte 0x0a at offset 1 in the value of header 'X'"),
     "control byte 0x0a at offset 1 in the value of header 'X'"),
    (UnsupportedContentEncoding("content coding 'br' needs the brotli>=1.2 package", "br"),
     "content coding 'br' needs the brotli>=1.2 package"),
    (ClientResponseError("404 Not Found", method="GET", url="http://example.org/x", status=404, reason="Not Found"),
     "404 Not Found (GET http://example.org/x)"),
    (ReadTimeout("no response bytes within the read timeout", method="POST", url="http://example.org/"),
     "no response bytes within the read timeout (POST http://example.org/)"),
    (TransportError("cannot write 10 bytes: the transport is closing"),
     "cannot write 10 bytes: the transport is closing"),
]


@pytest.mark.parametrize(("exc", "text"), LEAVES, ids=[type(exc).__name__ for exc, _ in LEAVES])
def test_a_leaf_survives_pickle_with_its_attributes_and_text(exc: BaseException, text: str) -> None:
    assert str(exc) == text
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is type(exc)
    assert str(copy) == text
    assert copy.args == exc.args
    assert vars(copy) == vars(exc)


def test_a_raised_parser_error_survives_pickle(wire_impl: Wire) -> None:
    parser = wire_impl.ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    with pytest.raises(IncompleteMessage) as info:
        parser.feed_eof()
    copy = pickle.loads(pickle.dumps(info.value))
    assert (type(copy), str(copy), copy.offset, copy.byte, copy.received, copy.expected) == (
        IncompleteMessage, str(info.value), info.value.offset, None, 3, 10,
    )
