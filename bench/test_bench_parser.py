"""Response parser benchmarks: wirespeed's twins against the peers, side by side.

Each group is one input, parsed by every parser in the same run, so the figures
are ratios on one machine: (a) a small JSON response with 12 headers, (b) the
same with a chunked body in 3 chunks, (c) a 304 with 25 CDN-style headers,
(d) a 64 KiB body, (e) 100 pipelined copies of (a) in one buffer.

Every parser is reused across messages, as on a keep-alive connection, and is
made to deliver what a client needs: status, reason, headers and body.
wirespeed materialises the headers as a CIMultiDictProxy (as aiohttp does);
httptools gets minimal collecting callbacks (raw name/value pairs, no mapping);
h11 must send a (pre-built) request per response, since a client connection
refuses a response it did not ask for, so its figures include that cost.

Run: ``.venv/bin/python -m pytest --benchmark bench/test_bench_parser.py``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import h11
import httptools
import pytest
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http_parser import HttpResponseParserC, HttpResponseParserPy

from wirespeed import wire

JSON_BODY = b'{"ok":true,"items":[1,2,3]}'
SMALL_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Date: Tue, 01 Dec 2026 04:31:01 GMT\r\n"
    b"Server: nginx/1.25.3\r\n"
    b"Content-Type: application/json; charset=utf-8\r\n"
    b"%s\r\n"
    b"Connection: keep-alive\r\n"
    b"Cache-Control: no-cache, private\r\n"
    b"Vary: Accept-Encoding\r\n"
    b"X-Request-Id: 7f3a9c2e-1b4d-4e8f-9a6b-2c5d8e1f0a3b\r\n"
    b'ETag: "33a64df551425fcc55e4d42a148795d9f25f89d4"\r\n'
    b"Strict-Transport-Security: max-age=31536000\r\n"
    b"X-Frame-Options: DENY\r\n"
    b"Access-Control-Allow-Origin: *\r\n"
    b"\r\n"
)
SMALL = SMALL_HEAD % b"Content-Length: 27" + JSON_BODY
CHUNKED = SMALL_HEAD % b"Transfer-Encoding: chunked" + (
    b"9\r\n" + JSON_BODY[:9] + b"\r\n" + b"9\r\n" + JSON_BODY[9:18] + b"\r\n" + b"9\r\n" + JSON_BODY[18:] + b"\r\n0\r\n\r\n"
)
NOT_MODIFIED = (
    b"HTTP/1.1 304 Not Modified\r\n"
    b"Date: Tue, 01 Dec 2026 04:31:01 GMT\r\n"
    b"Server: cloudflare\r\n"
    b"Connection: keep-alive\r\n"
    b'ETag: W/"5e15153d-120f"\r\n'
    b"Last-Modified: Tue, 07 Jan 2020 20:09:01 GMT\r\n"
    b"Expires: Thu, 31 Dec 2026 04:31:01 GMT\r\n"
    b"Cache-Control: public, max-age=2592000\r\n"
    b"Age: 86314\r\n"
    b"Vary: Accept-Encoding\r\n"
    b"Accept-Ranges: bytes\r\n"
    b"CF-Cache-Status: HIT\r\n"
    b"CF-RAY: 8f2a1b3c4d5e6f70-FRA\r\n"
    b"Alt-Svc: h3=\":443\"; ma=86400\r\n"
    b"X-Cache: HIT, HIT\r\n"
    b"X-Cache-Hits: 3, 12\r\n"
    b"X-Served-By: cache-fra-etou8220048-FRA, cache-ams21058-AMS\r\n"
    b"X-Timer: S1733027461.123456,VS0,VE0\r\n"
    b"Via: 1.1 varnish, 1.1 varnish\r\n"
    b"X-Amz-Cf-Pop: FRA56-P5\r\n"
    b"X-Amz-Cf-Id: 7Jc9Zq0m1r5vXwQeH3bK2nL8pT4sYdAfGiUoE6cR==\r\n"
    b"Strict-Transport-Security: max-age=31536000; includeSubDomains; preload\r\n"
    b"X-Content-Type-Options: nosniff\r\n"
    b"Access-Control-Allow-Origin: *\r\n"
    b"Timing-Allow-Origin: *\r\n"
    b"Report-To: {\"group\":\"cf-nel\",\"max_age\":604800}\r\n"
    b"\r\n"
)
BIG_BODY = b"x" * 65536
BIG = (
    b"HTTP/1.1 200 OK\r\n"
    b"Date: Tue, 01 Dec 2026 04:31:01 GMT\r\n"
    b"Server: nginx/1.25.3\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Content-Length: 65536\r\n"
    b"\r\n" + BIG_BODY
)
PIPELINED = SMALL * 100

# group -> (bytes fed at once, responses in it, body bytes of each)
CASES = {
    "a-small-json": (SMALL, 1, len(JSON_BODY)),
    "b-chunked-3": (CHUNKED, 1, len(JSON_BODY)),
    "c-304-cdn-25-headers": (NOT_MODIFIED, 1, 0),
    "d-64KiB-body": (BIG, 1, len(BIG_BODY)),
    "e-pipelined-100": (PIPELINED, 100, len(JSON_BODY)),
}

Runner = Callable[[], Any]


def _wirespeed(implementation: str) -> Callable[[bytes, int], tuple[Runner, Callable[[], list[tuple[int, int]]]]]:
    def make(data: bytes, count: int) -> tuple[Runner, Callable[[], list[tuple[int, int]]]]:
        twin = wire.load(implementation)
        parser = twin.ResponseParser("GET")
        head_type, end_type = twin.ResponseHead, twin.MessageEnd

        def run() -> list[Any]:
            return parser.feed(data)  # type: ignore[no-any-return]

        def check() -> list[tuple[int, int]]:
            out: list[tuple[int, int]] = []
            status = size = 0
            for event in run():
                if type(event) is head_type:
                    status, size = event.status, 0
                    assert event.headers["content-type" if status == 200 else "etag"]
                elif type(event) is end_type:
                    out.append((status, size))
                else:
                    size += len(event)
            return out

        return run, check

    return make


def _aiohttp(parser_class: type) -> Callable[[bytes, int], tuple[Runner, Callable[[], list[tuple[int, int]]]]]:
    def make(data: bytes, count: int) -> tuple[Runner, Callable[[], list[tuple[int, int]]]]:
        loop = _LOOP
        parser = parser_class(BaseProtocol(loop), loop, 2**20, max_line_size=8190, max_field_size=8190)

        def run() -> Any:
            return parser.feed_data(data)[0]

        def check() -> list[tuple[int, int]]:
            out = []
            for message, payload in run():
                assert message.headers["content-type" if message.code == 200 else "etag"]
                out.append((message.code, payload.total_bytes))
            return out

        return run, check

    return make


class _Collector:
    """httptools callbacks that keep what a client needs, nothing more."""

    __slots__ = ("parser", "reason", "headers", "body", "messages")

    def __init__(self) -> None:
        self.parser: Any = None
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.messages: list[tuple[int, bytes, list[tuple[bytes, bytes]], list[bytes]]] = []

    def on_status(self, reason: bytes) -> None:
        self.reason = reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.messages.append((self.parser.get_status_code(), self.reason, self.headers, self.body))
        self.headers = []
        self.body = []


def _httptools(data: bytes, count: int) -> tuple[Runner, Callable[[], list[tuple[int, int]]]]:
    collector = _Collector()
    parser = httptools.HttpResponseParser(collector)
    collector.parser = parser

    def run() -> Any:
        collector.messages = []
        parser.feed_data(data)
        return collector.messages

    def check() -> list[tuple[int, int]]:
        return [(status, sum(map(len, body))) for status, _, _, body in run()]

    return run, check


_REQUEST = h11.Request(method="GET", target="/", headers=[("Host", "example.com")])
_EOM = h11.EndOfMessage()


def _h11(data: bytes, count: int) -> tuple[Runner, Callable[[], list[tuple[int, int]]]]:
    conn = h11.Connection(h11.CLIENT)

    def run() -> list[tuple[int, int]]:
        out = []
        conn.send(_REQUEST)
        conn.send(_EOM)
        conn.receive_data(data)
        status = size = 0
        while True:
            event: Any = conn.next_event()
            kind = type(event)
            if kind is h11.Response:
                status, size = event.status_code, 0
            elif kind is h11.Data:
                size += len(event.data)
            elif kind is h11.EndOfMessage:
                out.append((status, size))
                conn.start_next_cycle()
                if len(out) == count:
                    return out
                conn.send(_REQUEST)
                conn.send(_EOM)
            else:
                raise AssertionError(f"h11 stopped at {event!r}")

    return run, run


PARSERS = {
    "wirespeed-c": _wirespeed("c"),
    "wirespeed-python": _wirespeed("python"),
    "aiohttp-c": _aiohttp(HttpResponseParserC),
    "aiohttp-python": _aiohttp(HttpResponseParserPy),
    "httptools": _httptools,
    "h11": _h11,
}

_LOOP: Any = None


@pytest.fixture(scope="module", autouse=True)
def _loop() -> Iterator[None]:
    """aiohttp's parser feeds a StreamReader, which wants an event loop."""
    global _LOOP
    _LOOP = asyncio.new_event_loop()
    yield
    _LOOP.close()
    _LOOP = None


@pytest.mark.parametrize("parser", list(PARSERS))
@pytest.mark.parametrize("case", list(CASES))
def test_parse_response(benchmark: Any, case: str, parser: str) -> None:
    data, count, body = CASES[case]
    run, check = PARSERS[parser](data, count)
    status = 304 if case.startswith("c") else 200
    # what each parser delivers is checked once, then the same call is timed
    assert check() == [(status, body)] * count
    benchmark.group = case
    benchmark(run)
