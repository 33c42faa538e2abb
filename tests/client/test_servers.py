"""The client tests' servers, checked with aiohttp's client: a wrong server would make every client test wrong.

These run on asyncio's default loop only and need no wirespeed client.  Each
route of ``tests/support/client_apps.py`` answers what the client tests
expect, on both apps; the TLS app sends its certificate and records SNI; the
fault server runs its scripts and records what it reads; ``backlog_full``
makes a connect hang.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import socket
import ssl
import zlib
from typing import Any

import aiohttp
import pytest

from support import fault_server
from support.client_apps import CHARSET_TEXT, HINTS_BODY, HTTP10_BODY, JSON_DOC, SMALL, TEXT, compressed, stream_body
from support.client_kit import PARAMS_CASES, App, TLSApp, run_on
from support.fault_server import FaultServer, chunked, response, serve

MiB = 1024 * 1024


def run(aw: Any) -> Any:
    return run_on("asyncio", aw)


async def get(session: aiohttp.ClientSession, url: str, **kw: Any) -> tuple[aiohttp.ClientResponse, bytes]:
    async with session.get(url, **kw) as r:
        return r, await r.read()


# --------------------------------------------------------------------------- the two apps


def test_app_small_has_a_length(app: App) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            r, body = await get(s, app.url("/small"))
            assert r.status == 200 and body == SMALL
            assert r.headers["Content-Length"] == str(len(SMALL))

    run(main())


def test_app_echo_reports_the_request(app: App) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            async with s.put(app.url("/echo?a=1&b=x%20y&a=2"), data=b"\x00body\xff", headers={"X-Test": "v"}) as r:
                doc = await r.json()
        assert doc["method"] == "PUT" and doc["path"] == "/echo"
        assert doc["query_string"] == "a=1&b=x%20y&a=2"
        assert doc["query"] == [["a", "1"], ["b", "x y"], ["a", "2"]]
        assert ["x-test", "v"] in [[k.lower(), v] for k, v in doc["headers"]]
        assert doc["body"].encode("latin-1") == b"\x00body\xff" and doc["length"] == 6

    run(main())


@pytest.mark.parametrize(("suffix", "params", "query"), [c[1:] for c in PARAMS_CASES], ids=[c[0] for c in PARAMS_CASES])
def test_params_table_is_what_aiohttp_sends(aiohttp_app: App, suffix: str, params: Any, query: str) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            async with s.get(aiohttp_app.url(suffix), params=params) as r:
                assert (await r.json())["query_string"] == query

    run(main())


@pytest.mark.parametrize("code", [201, 204, 404, 500])
def test_app_status(app: App, code: int) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            r, body = await get(s, app.url(f"/status/{code}"))
            assert r.status == code
            assert body == (b"" if code == 204 else f"status {code}".encode())

    run(main())


def test_app_chunked_has_no_length(app: App) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            r, body = await get(s, app.url("/chunked?pieces=3&size=5"))
            assert r.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in r.headers
            assert body == b"aaaaabbbbbccccc"

    run(main())


def test_app_stream_is_the_pattern_with_a_length(app: App) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            size = 3 * MiB + 17
            r, body = await get(s, app.url(f"/stream?size={size}"))
            assert r.content_length == size and body == stream_body(size)

    run(main())


def test_app_slow_waits(app: App) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession() as s:
            start = loop.time()
            async with s.get(app.url("/slow?delay=0.5&body=1")) as r:
                head_at = loop.time() - start
                await r.read()
            body_at = loop.time() - start
            assert head_at < 0.4 and body_at >= 0.5
            start = loop.time()
            await get(s, app.url("/slow?delay=0.3"))
            assert loop.time() - start >= 0.3

    run(main())


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_app_compressed_bodies(app: App, coding: str) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession(auto_decompress=False) as s:
            r, body = await get(s, app.url(f"/{coding}"))
            assert r.headers["Content-Encoding"] == coding and body == compressed(coding)
        assert {"gzip": gzip.decompress, "deflate": zlib.decompress}.get(coding, lambda b: TEXT)(body) == TEXT
        assert len(body) < len(TEXT) // 4

    run(main())


def test_app_json_and_text(app: App) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            async with s.get(app.url("/json")) as r:
                assert await r.json() == JSON_DOC
            r, body = await get(s, app.url("/text?charset=latin-1"))
            assert r.headers["Content-Type"] == "text/plain; charset=latin-1" and body == CHARSET_TEXT.encode("latin-1")
            r, body = await get(s, app.url("/text?encode=utf-16"))
            assert r.headers["Content-Type"] == "text/plain" and body == CHARSET_TEXT.encode("utf-16")

    run(main())


def test_app_form_parses_urlencoded_and_multipart(app: App) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            async with s.post(app.url("/form"), data={"a": "1", "b": "caf\u00e9"}) as r:
                assert await r.json() == {"fields": {"a": "1", "b": "caf\u00e9"}, "files": {}}
            form = aiohttp.FormData()
            form.add_field("name", "value")
            form.add_field("upload", b"\x00" * 1000, filename="zeros.bin", content_type="application/octet-stream")
            async with s.post(app.url("/form"), data=form) as r:
                doc = await r.json()
        assert doc["fields"] == {"name": "value"}
        assert doc["files"]["upload"] == {"filename": "zeros.bin", "content_type": "application/octet-stream",
                                          "size": 1000, "sha256": hashlib.sha256(b"\x00" * 1000).hexdigest()}

    run(main())


def test_app_expect_continue_and_rejections(app: App) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            async with s.post(app.url("/expect"), data=b"x" * 1000, expect100=True) as r:
                doc = await r.json()
                assert r.status == 200 and doc["expect"] == "100-continue" and doc["length"] == 1000
            for code in (417, 413):
                async with s.post(app.url(f"/expect/{code}"), data=b"x" * 1000, expect100=True) as r:
                    assert r.status == code and r.headers["Connection"] == "close"

    run(main())


def test_app_count_numbers_connections(app: App) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            docs = []
            for _ in range(3):
                async with s.get(app.url("/count")) as r:
                    docs.append(await r.json())
        async with aiohttp.ClientSession() as s2:
            async with s2.get(app.url("/count")) as r:
                other = await r.json()
        assert [d["requests"] for d in docs] == [1, 2, 3]
        assert len({d["connection"] for d in docs}) == 1
        assert other["requests"] == 1 and other["connection"] != docs[0]["connection"]

    run(main())


def test_app_close_closes(app: App) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            r, body = await get(s, app.url("/close"))
            assert r.headers["Connection"] == "close" and body == b"closing"

    run(main())


def test_aiohttp_app_http10_and_hints(aiohttp_app: App) -> None:
    async def main() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", aiohttp_app.port)
        writer.write(b"GET /http10 HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = await reader.read()  # the server closes
        writer.close()
        assert raw.startswith(b"HTTP/1.0 200 OK\r\n") and raw.endswith(b"\r\n\r\n" + HTTP10_BODY)
        reader, writer = await asyncio.open_connection("127.0.0.1", aiohttp_app.port)
        writer.write(b"GET /hints HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = await reader.read()
        writer.close()
        assert raw.startswith(b"HTTP/1.1 103 Early Hints\r\n") and raw.endswith(HINTS_BODY)

    run(main())


# --------------------------------------------------------------------------- TLS


def test_tls_app_needs_its_ca_and_records_sni(tls_app: TLSApp) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                await get(s, tls_app.url("/small"))
        async with aiohttp.ClientSession() as s:
            async with s.get(tls_app.url("/sni"), ssl=tls_app.trusting_context()) as r:
                assert await r.json() == {"server_name": "localhost"}

    run(main())


# --------------------------------------------------------------------------- nginx


def test_nginx_serves_the_document_root(nginx: App) -> None:
    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            r, body = await get(s, nginx.url("/small.txt"))
            assert r.status == 200 and body == b"hello from the interop document root\n"

    run(main())


# --------------------------------------------------------------------------- the fault server


def test_fault_server_serves_and_records(fault: FaultServer) -> None:
    fault.script = serve(response(200, b"one"), response(200, b"two"), then="keep")

    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            for expected in (b"one", b"two"):
                _, body = await get(s, fault.url("/x"))
                assert body == expected
        await fault.finished()
        assert fault.accepted == 1
        assert fault.received(0).count(b"GET /x HTTP/1.1\r\n") == 2
        assert [r.target for r in fault.requests()] == ["/x", "/x"]

    run(main())


def test_fault_server_scripts_per_connection_and_chunked(fault: FaultServer) -> None:
    fault.script = [serve(response(200, chunked(b"ab", b"cd"), [("Transfer-Encoding", "chunked")])),
                    serve(response(200, b"second"))]

    async def main() -> None:
        async with aiohttp.ClientSession() as s:
            _, body = await get(s, fault.url())
            assert body == b"abcd"
            await asyncio.sleep(0.05)  # let the client see the close
            _, body = await get(s, fault.url())
            assert body == b"second"
        await fault.finished()
        assert fault.accepted == 2

    run(main())


def test_fault_server_reset_is_a_reset(fault: FaultServer) -> None:
    fault.script = fault_server.reset_at_once

    async def main() -> None:
        # The RST may even beat the client's own view of the handshake.
        with pytest.raises(ConnectionResetError):
            reader, writer = await asyncio.open_connection("127.0.0.1", fault.port)
            try:
                writer.write(b"x")
                await reader.read()
                await writer.drain()
            finally:
                writer.close()
        await fault.finished()
        assert fault.accepted == 1

    run(main())


def test_fault_server_reads_a_chunked_upload(fault: FaultServer) -> None:
    fault.script = serve(response(200, b"ok"))

    async def main() -> None:
        async def pieces() -> Any:
            for i in range(3):
                yield b"%d" % i * 10

        async with aiohttp.ClientSession() as s:
            async with s.post(fault.url("/up"), data=pieces()) as r:
                assert await r.read() == b"ok"
        await fault.finished()
        (request,) = fault.requests()
        assert request.header("transfer-encoding") == "chunked"
        assert request.body == b"0" * 10 + b"1" * 10 + b"2" * 10

    run(main())


def test_backlog_full_makes_connect_hang() -> None:
    with fault_server.backlog_full() as address:
        sock = socket.socket()
        sock.settimeout(0.3)
        with pytest.raises(socket.timeout):
            sock.connect(address)
        sock.close()


def test_ssl_default_context_does_not_trust_trustme(tls_app: TLSApp) -> None:
    with socket.create_connection(("127.0.0.1", tls_app.port), timeout=5) as raw:
        with pytest.raises(ssl.SSLCertVerificationError):
            ssl.create_default_context().wrap_socket(raw, server_hostname="localhost")


def test_json_doc_is_not_ascii() -> None:
    assert not json.dumps(JSON_DOC, ensure_ascii=False).isascii()
