"""Response parser benchmarks: wirespeed's twins against the peers, each driven as its client drives it.

Each group is one input, parsed by every contender in the same run, so the
figures are ratios on one machine: (a) a small JSON response with 12 headers,
(b) the same with a chunked body in 3 chunks, (c) a 304 with 25 CDN-style
headers, (d) a 64 KiB body, (e) 100 pipelined copies of (a) in one buffer.

A parser's work is not over when ``feed()`` returns: a client still walks
what it got and hands out a response.  So every contender here does, per
response, what its own client does with the result:

- it is reused across messages, as on a keep-alive connection;
- it delivers the status, the headers as a case-insensitive multidict of
  ``str`` (and the raw pairs), and the keep-alive verdict;
- the caller reads the status and two headers (``Content-Type``, ``ETag``);
- the body becomes the one ``bytes`` object a client hands out.

Each contender's driver mirrors its client's calls; the comment beside it
names the file and line (aiohttp 3.14.5, httpcore 1.0.9 as installed).
httptools has no client of its own: its callbacks build what aiohttp's own
llhttp callbacks build (``aiohttp/_http_parser.pyx``): decoded pairs into a
CIMultiDict, the raw pairs, the body pieces joined.  ``httptools-raw`` is a
reference below what a client hands out: raw byte pairs and a scan for the
two headers, no decoding, no mapping.

Every contender runs the same way: a round is ``loop.run_until_complete`` of
one coroutine that awaits one ``receive()`` coroutine per ``feed()``, on a
real asyncio event loop, with as many feeds in a round as make every
contender's round last about as long (``bench/_rounds.py`` says why).
``bench/table.py`` divides each round by the responses in it.

Run: ``.venv/bin/python -m pytest --benchmark bench/test_bench_parser.py``;
instruction counts: ``bench/callgrind.py`` (docs/parser.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import h11
import httptools
import pytest
from aiohttp.client_exceptions import ClientPayloadError
from aiohttp.client_proto import ResponseHandler
from aiohttp.helpers import EMPTY_BODY_STATUS_CODES
from aiohttp.http_parser import HttpResponseParserC, HttpResponseParserPy
from aiohttp.streams import EMPTY_PAYLOAD
from multidict import CIMultiDict, CIMultiDictProxy

from _rounds import calibrate
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
    b"9\r\n" + JSON_BODY[:9] + b"\r\n"
    + b"9\r\n" + JSON_BODY[9:18] + b"\r\n"
    + b"9\r\n" + JSON_BODY[18:] + b"\r\n0\r\n\r\n"
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

# case -> (bytes fed at once, responses in them, body of each)
CASES: dict[str, tuple[bytes, int, bytes]] = {
    "a-small-json": (SMALL, 1, JSON_BODY),
    "b-chunked-3": (CHUNKED, 1, JSON_BODY),
    "c-304-cdn-25-headers": (NOT_MODIFIED, 1, b""),
    "d-64KiB-body": (BIG, 1, BIG_BODY),
    "e-pipelined-100": (PIPELINED, 100, JSON_BODY),
}


# What a client hands out per response, reduced to what the check compares:
# (status, Content-Type, ETag, body).  Headers a response lacks read as None.
Response = tuple[int, "str | None", "str | None", bytes]
Receive = Callable[[], Coroutine[Any, Any, list[Response]]]


def expected(case: str) -> list[Response]:
    data, count, body = CASES[case]
    if case.startswith("c"):
        return [(304, None, 'W/"5e15153d-120f"', b"")] * count
    etag = '"33a64df551425fcc55e4d42a148795d9f25f89d4"' if body is JSON_BODY else None
    ctype = "application/json; charset=utf-8" if body is JSON_BODY else "application/octet-stream"
    return [(200, ctype, etag, body)] * count


# -- the contenders: each returns receive(), one feed() of ``data`` and its responses -------


def _wirespeed(implementation: str) -> Callable[[bytes, asyncio.AbstractEventLoop], Receive]:
    def make(data: bytes, loop: asyncio.AbstractEventLoop) -> Receive:
        twin = wire.load(implementation)  # type: ignore[arg-type]
        parser = twin.ResponseParser("GET")
        head_type, end_type = twin.ResponseHead, twin.MessageEnd

        async def receive() -> list[Response]:
            out: list[Response] = []
            head: Any = None
            pieces: list[Any] = []
            for event in parser.feed(data):
                kind = type(event)
                if kind is head_type:
                    head, pieces = event, []
                elif kind is end_type:
                    headers = head.headers
                    # body pieces are memoryviews of ``data``: the bytes handed out are a copy
                    out.append((head.status, headers.get("Content-Type"), headers.get("ETag"), b"".join(pieces)))
                else:
                    pieces.append(event)
            # the client's test before the connection goes back to the pool (docs/parser.md)
            if not parser.idle:
                raise AssertionError("the connection would not be reused")
            return out

        return receive

    return make


def _aiohttp(parser_class: type) -> Callable[[bytes, asyncio.AbstractEventLoop], Receive]:
    def make(data: bytes, loop: asyncio.AbstractEventLoop) -> Receive:
        protocol = ResponseHandler(loop)
        # the client's parser, built with the client's arguments:
        # aiohttp 3.14.5 client_proto.py:266 (ResponseHandler.set_response_params)
        parser = parser_class(
            protocol,
            loop,
            2**16,  # read_bufsize: helpers.DEFAULT_CHUNK_SIZE
            timer=None,
            payload_exception=ClientPayloadError,
            response_with_body=True,
            read_until_eof=False,
            auto_decompress=True,
            max_line_size=8190,
            max_field_size=8190,
            max_headers=128,
        )

        async def receive() -> list[Response]:
            out: list[Response] = []
            # client_proto.py:359 ResponseHandler.data_received
            messages, upgraded, tail = parser.feed_data(data)
            assert not upgraded
            for message, payload in messages:
                # client_proto.py:384-392: should_close, EMPTY_PAYLOAD for bodiless statuses
                if message.should_close:
                    raise AssertionError("the connection would not be reused")
                if message.code in EMPTY_BODY_STATUS_CODES:
                    payload = EMPTY_PAYLOAD
                # client_reqrep.py:766-775 ClientResponse.start: status, headers, content
                headers = message.headers
                # client_reqrep.py:902 ClientResponse.read: await self.content.read()
                body = await payload.read()
                out.append((message.code, headers.get("Content-Type"), headers.get("ETag"), body))
            return out

        return receive

    return make


class _HttptoolsClient:
    """httptools callbacks that build what aiohttp's llhttp callbacks build.

    aiohttp 3.14.5 ``_http_parser.pyx:450-512`` (``_process_header``,
    ``_on_headers_complete``): each name and value decoded as UTF-8 with
    surrogateescape, the pairs into ``CIMultiDictProxy(CIMultiDict(...))``,
    the raw pairs into a tuple; ``:945-954`` (``cb_on_body``): each body piece
    as ``bytes``, handed to the payload, which joins them on read.
    """

    __slots__ = ("parser", "reason", "raw", "status", "headers", "raw_headers", "keep_alive", "pieces", "out")

    def __init__(self) -> None:
        self.parser: Any = None
        self.reason = ""
        self.raw: list[tuple[bytes, bytes]] = []
        self.status = 0
        self.headers: Any = None
        self.raw_headers: tuple[tuple[bytes, bytes], ...] = ()
        self.keep_alive = True
        self.pieces: list[bytes] = []
        self.out: list[Response] = []

    def on_status(self, reason: bytes) -> None:
        self.reason = reason.decode("utf-8", "surrogateescape")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self.parser
        self.status = parser.get_status_code()
        self.keep_alive = parser.should_keep_alive()
        self.raw_headers = tuple(self.raw)
        self.headers = CIMultiDictProxy(
            CIMultiDict(
                [(n.decode("utf-8", "surrogateescape"), v.decode("utf-8", "surrogateescape")) for n, v in self.raw]
            )
        )

    def on_body(self, body: bytes) -> None:
        self.pieces.append(body)

    def on_message_complete(self) -> None:
        headers = self.headers
        self.out.append((self.status, headers.get("Content-Type"), headers.get("ETag"), b"".join(self.pieces)))
        self.raw = []
        self.pieces = []


class _HttptoolsRawClient:
    """httptools callbacks that keep the raw pairs only: less than a client hands out, for reference.

    No decoding and no mapping: the two headers are found by a scan of the
    pairs, as for h11.  The gap to ``_HttptoolsClient`` is what building the
    multidict costs from Python callbacks.
    """

    __slots__ = ("parser", "raw", "status", "keep_alive", "pieces", "out")

    def __init__(self) -> None:
        self.parser: Any = None
        self.raw: list[tuple[bytes, bytes]] = []
        self.status = 0
        self.keep_alive = True
        self.pieces: list[bytes] = []
        self.out: list[Response] = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self.raw.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.pieces.append(body)

    def on_message_complete(self) -> None:
        ctype = etag = None
        for name, value in self.raw:
            lname = name.lower()
            if lname == b"content-type":
                ctype = value.decode("latin-1")
            elif lname == b"etag":
                etag = value.decode("latin-1")
        self.out.append((self.status, ctype, etag, b"".join(self.pieces)))
        self.raw = []
        self.pieces = []


def _httptools(client_class: type) -> Callable[[bytes, asyncio.AbstractEventLoop], Receive]:
    def make(data: bytes, loop: asyncio.AbstractEventLoop) -> Receive:
        client = client_class()
        parser = httptools.HttpResponseParser(client)
        client.parser = parser

        async def receive() -> list[Response]:
            out: list[Response] = []
            client.out = out
            parser.feed_data(data)
            if not client.keep_alive:
                raise AssertionError("the connection would not be reused")
            return out

        return receive

    return make


_REQUEST = h11.Request(method="GET", target="/", headers=[("Host", "example.com")])
_EOM = h11.EndOfMessage()


def _h11(data: bytes, loop: asyncio.AbstractEventLoop) -> Receive:
    # h11 refuses a response it did not see a request for, so, as httpcore
    # does, each response is preceded by sending its (pre-built) request; that
    # cost is h11's.  httpcore 1.0.9 _async/http11.py: _send_event (:163-166),
    # _receive_response_headers (:170-194, raw_items), _receive_response_body
    # (:196-207, bytes(event.data)), _receive_event (:209-236, next_event and
    # receive_data), _response_closed (:245, start_next_cycle).
    conn = h11.Connection(h11.CLIENT)
    conn.send(_REQUEST)
    conn.send(_EOM)

    async def receive() -> list[Response]:
        out: list[Response] = []
        conn.receive_data(data)
        while True:
            event: Any = conn.next_event()
            if event is h11.NEED_DATA:
                return out
            kind = type(event)
            if kind is h11.Response:
                status, pieces, ctype, etag = event.status_code, [], None, None
                for name, value in event.headers.raw_items():
                    lname = name.lower()
                    if lname == b"content-type":
                        ctype = value.decode("latin-1")
                    elif lname == b"etag":
                        etag = value.decode("latin-1")
            elif kind is h11.Data:
                pieces.append(bytes(event.data))
            elif kind is h11.EndOfMessage:
                out.append((status, ctype, etag, b"".join(pieces)))
                conn.start_next_cycle()
                conn.send(_REQUEST)
                conn.send(_EOM)
            else:
                raise AssertionError(f"h11 stopped at {event!r}")

    return receive


PARSERS: dict[str, Callable[[bytes, asyncio.AbstractEventLoop], Receive]] = {
    "wirespeed-c": _wirespeed("c"),
    "wirespeed-python": _wirespeed("python"),
    "aiohttp-c": _aiohttp(HttpResponseParserC),
    "aiohttp-python": _aiohttp(HttpResponseParserPy),
    "httptools": _httptools(_HttptoolsClient),
    "httptools-raw": _httptools(_HttptoolsRawClient),
    "h11": _h11,
}


def _floor(data: bytes, loop: asyncio.AbstractEventLoop) -> Receive:
    """No parser: hands out prebuilt responses.  What the harness itself costs (bench/callgrind.py)."""
    case = next(name for name, spec in CASES.items() if spec[0] is data)
    responses = expected(case)

    async def receive() -> list[Response]:
        return list(responses)

    return receive


def make_round(parser: str, case: str, loop: asyncio.AbstractEventLoop) -> tuple[Callable[[int], None], Receive]:
    """``run(n)``: one round, ``n`` feeds of the case's input on ``loop``; and the bare ``receive``.

    ``parser`` is one of ``PARSERS`` or ``"floor"`` (the harness alone).
    """
    receive = (_floor if parser == "floor" else PARSERS[parser])(CASES[case][0], loop)

    async def feeds(n: int) -> None:
        for _ in range(n):
            await receive()

    def run(n: int) -> None:
        loop.run_until_complete(feeds(n))

    return run, receive


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.mark.parametrize("parser", list(PARSERS))
@pytest.mark.parametrize("case", list(CASES))
def test_parse_response(benchmark: Any, loop: asyncio.AbstractEventLoop, case: str, parser: str) -> None:
    run, receive = make_round(parser, case, loop)
    # what each contender hands out is checked twice (the second time on a reused parser), then timed
    for _ in range(2):
        assert loop.run_until_complete(receive()) == expected(case)
    feeds = calibrate(run)
    benchmark.group = f"parser: {case}"
    benchmark.extra_info["per_round"] = feeds * CASES[case][1]
    benchmark.extra_info["unit"] = "response"
    benchmark(run, feeds)
