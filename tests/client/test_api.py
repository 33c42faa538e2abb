"""The client's API against real servers: requests, bodies of each kind, params, headers, decoding.

Every test runs on both wire twins (``wire_impl``), both loops (``run``) and,
where it takes ``app``, against both the aiohttp and the uvicorn app of
``tests/support/client_apps.py``, whose ``/echo`` tells what arrived.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from multidict import CIMultiDictProxy
from yarl import URL

import wirespeed
from support.client_apps import CHARSET_TEXT, JSON_DOC, SMALL, TEXT, compressed, stream_body
from support.client_kit import PARAMS_CASES, App, assert_settled, within
from wirespeed import ClientSession, ClientTimeout
from wirespeed.wire import Wire

MiB = 1024 * 1024


def header_values(doc: dict[str, Any], name: str) -> list[str]:
    """Every value of ``name`` in an ``/echo`` document, in order."""
    return [v for k, v in doc["headers"] if k.lower() == name.lower()]


# --------------------------------------------------------------------------- the response


def test_small_get_exposes_status_reason_version_headers_url(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/small")) as r:
                assert (r.status, r.reason, r.version, r.ok) == (200, "OK", (1, 1), True)
                assert isinstance(r.headers, CIMultiDictProxy)
                assert r.headers["content-length"] == r.headers["Content-Length"] == str(len(SMALL))
                assert r.content_length == len(SMALL)
                # the fields as bytes, in wire order: built on first use, the same each time
                raw = r.raw_headers
                assert raw is r.raw_headers
                assert [(k.decode(), v.decode()) for k, v in raw] == list(r.headers.items())
                assert (b"content-length", str(len(SMALL)).encode()) in [(k.lower(), v) for k, v in raw]
                assert isinstance(r.url, URL) and r.url == URL(app.url("/small"))
                assert await r.read() == SMALL
                assert await r.read() == SMALL  # read twice: the same bytes
                assert await r.text() == SMALL.decode()
            assert_settled(s.stats, idle=1)

    run(main())


def test_response_content_type_charset_and_encoding(wire_impl: Wire, run: Any, app: App) -> None:
    """aiohttp's conveniences: the media type without parameters, the charset, the encoding text() uses."""
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/text"), params={"charset": "ISO-8859-1"}) as r:
                assert (r.content_type, r.charset, r.get_encoding()) == ("text/plain", "ISO-8859-1", "ISO-8859-1")
                assert await r.text() == CHARSET_TEXT
            async with s.get(app.url("/text")) as r:
                assert (r.content_type, r.charset, r.get_encoding()) == ("text/plain", None, "utf-8")
            async with s.get(app.url("/json")) as r:
                assert r.content_type == "application/json"

    run(main())


def test_response_cookies_url_host_and_closed(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            url = str(URL(app.url("/set-cookie")).with_query(
                [("cookie", "a=1; Path=/"), ("cookie", "b=two; Max-Age=60"), ("cookie", "broken")]))
            async with s.get(url + "#part") as r:
                assert {k: m.value for k, m in r.cookies.items()} == {"a": "1", "b": "two"}
                assert r.cookies["b"]["max-age"] == "60"
                assert r.real_url == r.url and r.url.fragment == "part"
                assert r.host == "127.0.0.1"
                await r.read()
                assert r.closed   # the body is all here: the connection is back in the pool
            async with s.get(app.url("/stream"), params={"size": 1 << 20}) as r:
                assert not r.closed   # still reading
                await r.read()
                assert r.closed

    run(main())


def test_response_awaited_without_async_with_is_read_and_frees_its_connection(
    wire_impl: Wire, run: Any, app: App
) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            r = await s.get(app.url("/small"))
            assert await r.read() == SMALL
            assert_settled(s.stats, idle=1)
            r = await s.get(app.url(f"/stream?size={MiB}"))  # a body too big to come with the head
            assert await r.read() == stream_body(MiB)
            assert_settled(s.stats, idle=1)
            assert s.stats.opened == 1

    run(main())


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
def test_method_shortcuts_send_their_method(wire_impl: Wire, run: Any, aiohttp_app: App, method: str) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with getattr(s, method)(aiohttp_app.url("/echo")) as r:
                doc = await r.json()
        assert doc["method"] == method.upper()
        assert doc["length"] == 0
        if method in ("post", "put", "patch"):
            assert header_values(doc, "content-length") == ["0"]

    run(main())


def test_request_takes_any_token_as_method(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.request("REPORT", aiohttp_app.url("/echo")) as r:
                assert (await r.json())["method"] == "REPORT"

    run(main())


def test_head_has_no_body_and_keeps_the_connection(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.head(app.url("/small")) as r:
                assert r.status == 200 and r.content_length == len(SMALL)
                assert await r.read() == b""
            async with s.get(app.url("/small")) as r:
                assert await r.read() == SMALL
            assert s.stats.opened == 1
            assert_settled(s.stats, idle=1)

    run(main())


@pytest.mark.parametrize("code", [201, 204, 404, 503])
def test_status_codes_and_ok(wire_impl: Wire, run: Any, app: App, code: int) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url(f"/status/{code}")) as r:
                assert r.status == code and r.ok is (code < 400)
                assert await r.read() == (b"" if code == 204 else f"status {code}".encode())
                if code < 400:
                    r.raise_for_status()
                else:
                    with pytest.raises(wirespeed.ClientResponseError) as info:
                        r.raise_for_status()
                    assert info.value.status == code
                    assert info.value.method == "GET" and str(info.value.url) == app.url(f"/status/{code}")
            assert_settled(s.stats, idle=1)

    run(main())


def test_raise_for_status_session_raises_and_frees_the_connection(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, raise_for_status=True) as s:
            with pytest.raises(wirespeed.ClientResponseError) as info:
                await s.get(app.url("/status/404"))
            assert info.value.status == 404
            assert isinstance(info.value, wirespeed.ClientError)
            async with s.get(app.url("/small")) as r:  # a 2xx passes
                assert await r.read() == SMALL
            async with s.get(app.url("/status/500"), raise_for_status=False) as r:  # per request
                assert r.status == 500
            assert_settled(s.stats)

    run(main())


def test_base_url_joins_relative_urls(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(aiohttp_app.base, wire=wire_impl) as s:
            async with s.get("/small") as r:
                assert await r.read() == SMALL and r.url == URL(aiohttp_app.url("/small"))

    run(main())


def test_one_off_request_returns_a_read_response(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        r = await wirespeed.request("GET", app.url("/small"), wire=wire_impl)
        assert r.status == 200
        assert await r.read() == SMALL
        r = await wirespeed.request("POST", app.url("/echo"), json={"a": 1}, wire=wire_impl)
        assert json.loads((await r.json())["body"]) == {"a": 1}

    run(main())  # the run fixture also checks that no task of the session is left


# --------------------------------------------------------------------------- params and headers


@pytest.mark.parametrize(("suffix", "params", "query"), [c[1:] for c in PARAMS_CASES], ids=[c[0] for c in PARAMS_CASES])
def test_params_are_merged_and_encoded_as_aiohttp_does(
    wire_impl: Wire, run: Any, aiohttp_app: App, suffix: str, params: Any, query: str
) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(aiohttp_app.url(suffix), params=params) as r:
                doc = await r.json()
        assert doc["query_string"] == query
        assert str(r.url).endswith("?" + query)

    run(main())


def test_session_and_request_headers_merge_request_wins(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        headers = {"X-Session": "s", "X-Both": "from-session"}
        async with ClientSession(headers=headers, wire=wire_impl) as s:
            async with s.get(app.url("/echo"), headers={"x-both": "from-request", "X-Request": "r"}) as r:
                doc = await r.json()
            async with s.get(app.url("/echo")) as r:
                plain = await r.json()
        assert header_values(doc, "X-Session") == ["s"]
        assert header_values(doc, "X-Both") == ["from-request"]
        assert header_values(doc, "X-Request") == ["r"]
        assert header_values(plain, "X-Both") == ["from-session"]
        assert header_values(plain, "Host") == [f"127.0.0.1:{app.port}"]
        assert len(header_values(plain, "User-Agent")) == 1

    run(main())


@pytest.mark.parametrize("body", [None, b"payload"], ids=["get", "post"])
def test_a_host_among_the_session_headers_is_the_one_host_sent(wire_impl: Wire, run: Any, app: App,
                                                                body: bytes | None) -> None:
    """Never two Host fields (RFC 9112 §3.2: a server answers 400): the session's replaces the URL's,
    the request's replaces the session's."""
    async def main() -> None:
        async with ClientSession(headers={"host": "session.test"}, wire=wire_impl) as s:
            async with s.request("POST" if body else "GET", app.url("/echo"), data=body) as r:
                plain = await r.json()
            async with s.get(app.url("/echo"), headers={"Host": "request.test"}) as r:
                given = await r.json()
        assert header_values(plain, "Host") == ["session.test"]
        assert header_values(given, "Host") == ["request.test"]
        if body:
            assert header_values(plain, "Content-Length") == [str(len(body))]

    run(main())


def test_bodies_of_lengths_seen_before_and_new_each_send_their_own_length(wire_impl: Wire, run: Any,
                                                                            app: App) -> None:
    """The header list of a body length is kept per origin: the same length again, another
    length, a JSON body and a body-less request in between each send what they are."""
    from wirespeed.client._urls import TARGET_CACHE_SIZE

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            for body in (b"abc", b"x" * 100, b"abc", b"", b"x" * 100):
                async with s.post(app.url("/echo"), data=body) as r:
                    doc = await r.json()
                assert header_values(doc, "Content-Length") == [str(len(body))]
                assert header_values(doc, "Content-Type") == [] and doc["body"] == body.decode()
                async with s.post(app.url("/echo"), json=[len(body)]) as r:
                    doc = await r.json()
                assert header_values(doc, "Content-Type") == ["application/json"]
                assert header_values(doc, "Content-Length") == [str(len(doc["body"]))]
                async with s.get(app.url("/echo")) as r:
                    doc = await r.json()
                assert header_values(doc, "Content-Length") == []
            for n in range(TARGET_CACHE_SIZE + 10):   # many lengths: the cache stays bounded
                s._head_items(s._target(app.url("/echo"), None), None, None, n, "POST", False, False)
            assert len(s._heads) <= TARGET_CACHE_SIZE

    run(main())


def test_session_defaults_for_framing_fields_are_not_sent_twice(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(headers={"Content-Type": "text/x-session"}, wire=wire_impl) as s:
            async with s.post(app.url("/echo"), json={"a": 1}) as r:
                doc = await r.json()
        assert header_values(doc, "Content-Type") == ["text/x-session"]
        assert len(header_values(doc, "Content-Length")) == 1 and doc["body"] == "{\"a\":1}"

    run(main())


def test_repeated_header_names_are_all_sent_in_order(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            headers = [("X-Multi", "1"), ("X-Other", "o"), ("X-Multi", "2")]
            async with s.get(aiohttp_app.url("/echo"), headers=headers) as r:
                doc = await r.json()
        assert header_values(doc, "X-Multi") == ["1", "2"]

    run(main())


def test_accept_encoding_offers_what_can_be_decoded(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(aiohttp_app.url("/echo")) as r:
                doc = await r.json()
        (value,) = header_values(doc, "Accept-Encoding")
        offered = {c.strip().split(";")[0] for c in value.split(",")}
        assert {"gzip", "deflate"} <= offered
        assert set(wirespeed.available_codings()) >= offered - {"identity"}

    run(main())


# --------------------------------------------------------------------------- request bodies


async def _pieces() -> AsyncIterator[bytes]:
    for i in range(5):
        yield bytes([0x30 + i]) * 1000


def _file(tmp: str) -> Any:
    path = os.path.join(tmp, "upload.bin")
    with open(path, "wb") as f:
        f.write(stream_body(300_000))
    return open(path, "rb")


# id -> (make the request kwargs from a temp dir, expected body, expected Content-Type or None, framing)
BODIES: dict[str, tuple[Callable[[str], dict[str, Any]], bytes, str | None, str]] = {
    "bytes": (lambda tmp: {"data": b"raw\x00bytes\xff"}, b"raw\x00bytes\xff", None, "length"),
    "bytearray": (lambda tmp: {"data": bytearray(b"abc")}, b"abc", None, "length"),
    "memoryview": (lambda tmp: {"data": memoryview(b"xabcx")[1:4]}, b"abc", None, "length"),
    "large-bytes": (lambda tmp: {"data": stream_body(3 * MiB)}, stream_body(3 * MiB), None, "length"),
    "str": (lambda tmp: {"data": "caf\u00e9"}, "caf\u00e9".encode(), "text/plain; charset=utf-8", "length"),
    "json": (lambda tmp: {"json": {"a": [1, 2], "b": "\u00e9"}}, None, "application/json", "length"),  # type: ignore[dict-item]
    "form-dict": (lambda tmp: {"data": {"a": "1", "b": "x y"}}, b"a=1&b=x+y",
                  "application/x-www-form-urlencoded", "length"),
    "form-pairs": (lambda tmp: {"data": [("a", "1"), ("a", "2")]}, b"a=1&a=2",
                   "application/x-www-form-urlencoded", "length"),
    "async-iterator": (lambda tmp: {"data": _pieces()}, b"".join(bytes([0x30 + i]) * 1000 for i in range(5)),
                       None, "chunked"),
    "file": (lambda tmp: {"data": _file(tmp)}, stream_body(300_000), None, "length"),
}


@pytest.mark.parametrize("kind", list(BODIES))
def test_post_body_kinds_arrive_whole_with_their_framing(wire_impl: Wire, run: Any, app: App, kind: str) -> None:
    make, expected, ctype, framing = BODIES[kind]

    async def main() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            kwargs = make(tmp)
            try:
                async with ClientSession(wire=wire_impl) as s:
                    async with s.post(app.url("/echo"), **kwargs) as r:
                        doc = await r.json()
            finally:
                if hasattr(kwargs.get("data"), "close"):
                    kwargs["data"].close()
        body = doc["body"].encode("latin-1")
        if kind == "json":
            assert json.loads(body) == {"a": [1, 2], "b": "\u00e9"}
        else:
            assert doc["length"] == len(expected) and body == expected
        assert header_values(doc, "Content-Type") == ([ctype] if ctype else [])
        if framing == "length":
            assert header_values(doc, "Content-Length") == [str(len(body))]
            assert header_values(doc, "Transfer-Encoding") == []
        else:
            assert header_values(doc, "Transfer-Encoding") == ["chunked"]
            assert header_values(doc, "Content-Length") == []

    run(main())


def test_form_urlencoded_is_parsed_by_the_server(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.post(app.url("/form"), data={"a": "1", "b": "caf\u00e9 & co"}) as r:
                assert await r.json() == {"fields": {"a": "1", "b": "caf\u00e9 & co"}, "files": {}}

    run(main())


def test_formdata_sends_fields_and_files_as_multipart(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        blob = stream_body(200_000)
        with tempfile.TemporaryDirectory() as tmp:
            with _file(tmp) as f:
                form = wirespeed.FormData()
                form.add_field("name", "value")
                form.add_field("text", "caf\u00e9")
                form.add_field("blob", blob, filename="blob.bin", content_type="application/octet-stream")
                form.add_field("file", f, filename="upload.bin")
                async with ClientSession(wire=wire_impl) as s:
                    async with s.post(app.url("/form"), data=form) as r:
                        doc = await r.json()
        assert doc["fields"] == {"name": "value", "text": "caf\u00e9"}
        assert doc["files"]["blob"] == {"filename": "blob.bin", "content_type": "application/octet-stream",
                                        "size": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
        assert doc["files"]["file"]["filename"] == "upload.bin"
        assert doc["files"]["file"]["size"] == 300_000

    run(main())


async def _pass(request: Any, handler: Any) -> Any:
    return await handler(request)


@pytest.mark.parametrize("middlewares", [(), (_pass,)], ids=["no-middleware", "middleware"])
def test_formdata_files_are_closed_when_the_request_fails(wire_impl: Wire, run: Any, middlewares: Any) -> None:
    """However the request ends, the files of its form are closed: here it never connects."""
    import socket

    with socket.socket() as probe:   # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    async def main() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            with _file(tmp) as f:
                form = wirespeed.FormData()
                form.add_field("file", f, filename="upload.bin")
                async with ClientSession(wire=wire_impl, middlewares=middlewares) as s:
                    with pytest.raises(wirespeed.ClientConnectionError):
                        await s.post(f"http://127.0.0.1:{port}/form", data=form)
                    assert f.closed
                    assert_settled(s.stats)

    run(main())


def test_formdata_files_are_closed_when_the_request_is_refused_before_sending(wire_impl: Wire, run: Any) -> None:
    async def main() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            with _file(tmp) as f:
                form = wirespeed.FormData()
                form.add_field("file", f, filename="upload.bin")
                async with ClientSession(wire=wire_impl) as s:
                    with pytest.raises(wirespeed.InvalidURL):
                        await s.post("ftp://127.0.0.1/form", data=form)
                    assert f.closed

    run(main())


def test_session_settings_read_back_as_aiohttp_names_them() -> None:
    s = ClientSession(raise_for_status=True, auto_decompress=False, trust_env=True)
    assert (s.raise_for_status, s.auto_decompress, s.trust_env, s.auth) == (True, False, True, None)
    d = ClientSession()
    assert (d.raise_for_status, d.auto_decompress, d.trust_env) == (False, True, False)


def test_a_cookie_jar_of_another_type_is_refused() -> None:
    with pytest.raises(TypeError, match="cookie_jar must be a CookieJar"):
        ClientSession(cookie_jar={})  # type: ignore[arg-type]


def test_bytesio_body_is_sent_with_its_length(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.put(app.url("/echo"), data=io.BytesIO(b"in memory file")) as r:
                doc = await r.json()
        assert doc["body"] == "in memory file" and header_values(doc, "Content-Length") == ["14"]

    run(main())


def test_expect_100_continue_against_real_servers(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.post(app.url("/expect"), data=b"x" * 5000, expect100=True) as r:
                doc = await r.json()
            assert r.status == 200 and doc["expect"] == "100-continue" and doc["length"] == 5000
            for code in (417, 413):
                async with s.post(app.url(f"/expect/{code}"), data=b"y" * 5000, expect100=True) as r:
                    assert r.status == code
            async with s.get(app.url("/small")) as r:  # the session goes on
                assert await r.read() == SMALL
            assert_settled(s.stats, idle=1)

    run(main())


# --------------------------------------------------------------------------- response bodies


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_compressed_bodies_are_decoded(wire_impl: Wire, run: Any, app: App, coding: str) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url(f"/{coding}")) as r:
                assert r.headers["Content-Encoding"] == coding
                assert await r.read() == TEXT
            async with s.get(app.url(f"/{coding}")) as r:
                pieces = [p async for p in r.content.iter_chunked(1000)]
            assert b"".join(pieces) == TEXT and all(len(p) == 1000 for p in pieces[:-1])
            assert_settled(s.stats, idle=1)

    run(main())


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_auto_decompress_false_gives_the_raw_body(wire_impl: Wire, run: Any, app: App, coding: str) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, auto_decompress=False) as s:
            async with s.get(app.url(f"/{coding}")) as r:
                assert r.headers["Content-Encoding"] == coding
                assert await r.read() == compressed(coding)

    run(main())


@pytest.mark.parametrize("charset", ["utf-8", "latin-1", "utf-16", "cp1252"])
def test_text_uses_the_declared_charset(wire_impl: Wire, run: Any, aiohttp_app: App, charset: str) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(aiohttp_app.url(f"/text?charset={charset}")) as r:
                assert await r.text() == CHARSET_TEXT

    run(main())


def test_text_without_charset_falls_back_to_utf8(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/text?encode=utf-8")) as r:
                assert await r.text() == CHARSET_TEXT
            async with s.get(app.url("/text?encode=latin-1")) as r:
                # Not UTF-8 and not declared: decoded as UTF-8 with replacement, not guessed.
                assert await r.text() == CHARSET_TEXT.encode("latin-1").decode("utf-8", "replace")
            async with s.get(app.url("/text?encode=latin-1")) as r:
                assert await r.text(encoding="latin-1") == CHARSET_TEXT

    run(main())


def test_json_decodes_the_body(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/json")) as r:
                assert await r.json() == JSON_DOC

    run(main())


def test_content_iter_chunked_gives_pieces_of_at_most_the_asked_size(wire_impl: Wire, run: Any, app: App) -> None:
    # aiohttp's iter_chunked(n) is read(n) until the end: at most n bytes, as they arrive
    size = 2 * MiB + 123

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url(f"/stream?size={size}")) as r:
                pieces = [p async for p in r.content.iter_chunked(10_000)]
        assert b"".join(pieces) == stream_body(size)
        assert all(0 < len(p) <= 10_000 for p in pieces)
        assert len(pieces) >= size // 10_000

    run(main())


def test_content_iter_any_and_read_n(wire_impl: Wire, run: Any, app: App) -> None:
    size = MiB + 7

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url(f"/stream?size={size}")) as r:
                pieces = [p async for p in r.content.iter_any()]
            assert b"".join(pieces) == stream_body(size) and all(pieces)
            async with s.get(app.url(f"/stream?size={size}")) as r:
                got = bytearray()
                while piece := await r.content.read(3000):
                    assert len(piece) <= 3000
                    got += piece
                assert got == stream_body(size)
                assert await r.content.read(10) == b""
            assert_settled(s.stats, idle=1)

    run(main())


def test_chunked_response_body(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/chunked?pieces=200&size=1000")) as r:
                assert r.content_length is None and r.headers["Transfer-Encoding"] == "chunked"
                body = await r.read()
        assert body == b"".join(bytes([0x61 + i % 26]) * 1000 for i in range(200))

    run(main())


def test_per_request_timeout_overrides_the_session(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, timeout=ClientTimeout(total=0.1)) as s:
            async with s.get(app.url("/slow?delay=0.2"), timeout=ClientTimeout(total=5)) as r:
                assert r.status == 200 and await r.read()
            with pytest.raises(wirespeed.TotalTimeout):
                async with s.get(app.url("/slow?delay=0.2")) as r:
                    await r.read()
            assert_settled(s.stats)

    run(main())


def test_nginx_static_files_and_gzip(wire_impl: Wire, run: Any, nginx: App) -> None:
    from support.servers import FILES

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            for name in ("small.txt", "big.bin", "text.txt"):
                r = await within(s.get(nginx.url(f"/{name}")), what=f"GET /{name}")
                assert await within(r.read(), what=f"reading /{name}") == FILES[name]
                if name == "text.txt":
                    assert r.headers.get("Content-Encoding") == "gzip"
            async with s.get(nginx.url("/empty")) as r:
                assert r.status == 204 and await r.read() == b""
            assert s.stats.opened == 1
            assert_settled(s.stats, idle=1)

    run(main())
