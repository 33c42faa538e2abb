"""A request head built from the same header tuple again is the same bytes, and never stale.

A client sends one header tuple per origin (its cache) with the same method
and target, request after request; the C writer keeps the last head it built
from a tuple of exact ``(str, str)`` pairs and reuses it when the same tuple
comes again with an equal method and target.  Nothing of that may show: each
twin writes exactly what the fields say at the time of the call, a misuse
still raises, and fields that could have changed since (a list, a mutable
pair, a str subclass) are serialised afresh every time.
"""

from __future__ import annotations

from typing import Any

import pytest
from multidict import istr

from wirespeed.errors import HeaderValidationError, WriterStateError
from wirespeed.testing import RecordingTransport
from wirespeed.wire import Wire


def head(wire_impl: Wire, method: Any, target: Any, fields: Any, **kw: Any) -> bytes:
    transport = RecordingTransport()
    w = wire_impl.StreamWriter(transport)
    w.write_request_headers(method, target, fields, **kw)
    w.set_eof()
    return transport.data


def expected(method: str, target: str, pairs: Any, version: str = "1.1") -> bytes:
    lines = [f"{method} {target} HTTP/{version}"] + [f"{k}: {v}" for k, v in pairs]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


FIELDS = (("Host", "example.test"), ("User-Agent", "t/1"), ("Accept", "*/*"))


def test_the_same_tuple_again_gives_the_same_head(wire_impl: Wire) -> None:
    for _ in range(3):
        assert head(wire_impl, "GET", "/a", FIELDS) == expected("GET", "/a", FIELDS)


def test_another_method_target_or_version_with_the_same_tuple(wire_impl: Wire) -> None:
    assert head(wire_impl, "GET", "/a", FIELDS) == expected("GET", "/a", FIELDS)
    assert head(wire_impl, "POST", "/a", FIELDS) == expected("POST", "/a", FIELDS)
    assert head(wire_impl, "POST", "/b?x=1", FIELDS) == expected("POST", "/b?x=1", FIELDS)
    assert head(wire_impl, "POST", "/b?x=1", FIELDS, version=(1, 0)) == expected("POST", "/b?x=1", FIELDS, "1.0")
    assert head(wire_impl, b"POST", b"/b?x=1", FIELDS) == expected("POST", "/b?x=1", FIELDS)
    # equal, not identical, method and target strings
    method, target = "".join(["PO", "ST"]), "".join(["/b", "?x=1"])
    assert head(wire_impl, method, target, FIELDS) == expected("POST", "/b?x=1", FIELDS)


def test_an_equal_but_different_tuple(wire_impl: Wire) -> None:
    other = tuple(FIELDS)[:2] + (("Accept", "text/plain"),)
    assert head(wire_impl, "GET", "/", FIELDS) == expected("GET", "/", FIELDS)
    assert head(wire_impl, "GET", "/", other) == expected("GET", "/", other)
    assert head(wire_impl, "GET", "/", FIELDS) == expected("GET", "/", FIELDS)


def test_mutable_fields_are_serialised_every_time(wire_impl: Wire) -> None:
    pair = ["X-Count", "1"]
    fields: Any = (("Host", "h"), pair)
    assert head(wire_impl, "GET", "/", fields) == expected("GET", "/", [("Host", "h"), ("X-Count", "1")])
    pair[1] = "2"
    assert head(wire_impl, "GET", "/", fields) == expected("GET", "/", [("Host", "h"), ("X-Count", "2")])
    listed = [("Host", "h")]
    assert head(wire_impl, "GET", "/", listed) == expected("GET", "/", listed)
    listed.append(("X-More", "yes"))
    assert head(wire_impl, "GET", "/", listed) == expected("GET", "/", listed)


class _Shifting(str):
    """A str subclass whose text is what it is when encoded, not when first seen."""


def test_str_subclasses_are_serialised_every_time(wire_impl: Wire) -> None:
    fields = (("Host", "h"), (istr("X-Name"), "v"))
    for _ in range(2):
        assert head(wire_impl, "GET", "/", fields) == expected("GET", "/", [("Host", "h"), ("X-Name", "v")])
    method = _Shifting("GET")
    assert head(wire_impl, method, "/", FIELDS) == expected("GET", "/", FIELDS)
    assert head(wire_impl, method, "/", FIELDS) == expected("GET", "/", FIELDS)


def test_a_head_twice_is_still_refused(wire_impl: Wire) -> None:
    head(wire_impl, "GET", "/a", FIELDS)   # the tuple's head is now the last one built
    w = wire_impl.StreamWriter(RecordingTransport())
    w.write_request_headers("GET", "/a", FIELDS)
    with pytest.raises(WriterStateError):
        w.write_request_headers("GET", "/a", FIELDS)


def test_bad_fields_in_a_tuple_are_refused_every_time(wire_impl: Wire) -> None:
    bad = (("Host", "h"), ("X-Bad", "a\r\nInjected: 1"))
    for _ in range(2):
        with pytest.raises(HeaderValidationError):
            head(wire_impl, "GET", "/", bad)
    assert head(wire_impl, "GET", "/", FIELDS) == expected("GET", "/", FIELDS)
    for method, target in (("G ET", "/"), ("GET", "/a b"), ("GET", "")):
        with pytest.raises(HeaderValidationError):
            head(wire_impl, method, target, FIELDS)
