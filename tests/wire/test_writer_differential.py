"""The twins agree: random messages, random misuse, same transport calls and same errors.

hypothesis draws a start line, header fields (str or bytes, tokens or not,
with control bytes and lone surrogates mixed in), a body plan (chunked or
not, compression, writes of random sizes, trailers) and a coalescing limit;
both twins run the plan against recording transports.  The records (call
kind and bytes of every transport call) and any exception (class and
message) must be identical.  Needs both twins, so it carries the
``c_extension`` mark like the C half of ``wire_impl``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wirespeed import wire
from wirespeed.testing import RecordingTransport

pytestmark = pytest.mark.c_extension


# Mostly valid characters, with every kind of trouble mixed in at low rates.
_text_chars = st.one_of(
    st.sampled_from("abcXYZ019-_.!~ /:;\t\u00e9\u2603"),
    st.sampled_from("\r\n\x00\x01\x1f\x7f\ud800\udfff"),
)
_text = st.text(_text_chars, max_size=12)
_token = st.text(st.sampled_from("abcXYZ019-_.!~"), min_size=1, max_size=10)
_name = st.one_of(_token, _token.map(str.encode), _text, _text.map(lambda s: s.encode("utf-8", "surrogatepass")))
_value = st.one_of(
    _text.filter(lambda s: s.isprintable()),
    _text,
    _text.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.binary(max_size=8),
)
_fields = st.lists(st.tuples(_name, _value), max_size=6)
_headers = st.one_of(_fields, _fields.map(dict), st.just([("A",)]))
_start = st.one_of(
    st.sampled_from(["GET / HTTP/1.1", "HTTP/1.1 200 OK", b"POST /x HTTP/1.0"]), _text
)
_body = st.one_of(st.binary(max_size=64), st.integers(0, 20_000).map(lambda n: b"z" * n))

_step = st.one_of(
    st.tuples(st.just("write"), _body),
    st.tuples(st.just("send_headers")),
    st.tuples(st.just("enable_chunking")),
    st.tuples(st.just("enable_compression"), st.sampled_from(["gzip", "deflate", "br"])),
    st.tuples(st.just("write_eof"), _body, st.one_of(st.none(), _fields)),
    st.tuples(st.just("set_eof")),
    st.tuples(st.just("write_headers"), _start, _headers),
)

_head = st.one_of(
    st.tuples(st.just("write_headers"), _start, _headers),
    st.tuples(
        st.just("write_request_headers"), st.one_of(_token, _text), st.one_of(st.just("/p?q=1"), _text), _headers
    ),
    st.tuples(st.just("write_response_headers"), st.one_of(st.integers(0, 1200), st.just("200")), _text, _headers),
)


def run(impl: str, limit: int, head: tuple[Any, ...], steps: list[tuple[Any, ...]]) -> list[Any]:
    transport = RecordingTransport()
    writer = wire.load(impl).StreamWriter(transport, coalesce_limit=limit)
    outcome: list[Any] = []
    for name, *args in [head, *steps]:
        if name == "write_eof":
            args = [args[0]] if args[1] is None else [args[0], args[1]]
        try:
            getattr(writer, name)(*args)
            outcome.append("ok")
        except Exception as exc:  # compared, class and message, across the twins
            outcome.append((type(exc), str(exc)))
    return [outcome, transport.as_bytes(), writer.headers_length, writer.body_length]


@settings(max_examples=4 * settings().max_examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    limit=st.sampled_from([0, 64, 4096, 1 << 20]),
    head=_head,
    steps=st.lists(_step, max_size=6),
)
def test_twins_write_the_same_bytes_and_raise_the_same_errors(
    limit: int, head: tuple[Any, ...], steps: list[tuple[Any, ...]]
) -> None:
    # Compressed output is comparable too: both twins drive the same zlib module.
    assert run("c", limit, head, steps) == run("python", limit, head, steps)
