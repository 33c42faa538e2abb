"""The test forward proxy (``support.forward_proxy``) checked with aiohttp's client, a known-good proxy client.

Before the proxy can judge wirespeed's client, it must itself be right: an
http origin is reached with an absolute-form request, an https origin
through a CONNECT tunnel (TLS from the client to the origin, certificate
from a throwaway ``trustme`` CA), ``Proxy-Authorization`` stops at the proxy,
and a missing one gets ``407``.  The origins are aiohttp.web apps on
127.0.0.1, in the test's own loop, as is the proxy.
"""

from __future__ import annotations

import asyncio
import hashlib
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from support.forward_proxy import ForwardProxy, proxy_in_thread

BIG = bytes(range(256)) * 4096   # 1 MiB, more than one relay chunk


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.json_response({
        "method": request.method,
        "path_qs": request.raw_path,
        "headers": [[n, v] for n, v in request.headers.items()],
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "body_length": len(body),
    })


async def big(request: web.Request) -> web.Response:
    return web.Response(body=BIG)


@asynccontextmanager
async def origin(ssl_context: ssl.SSLContext | None = None) -> AsyncIterator[URL]:
    app = web.Application()
    app.router.add_route("*", "/echo", echo)
    app.router.add_get("/big", big)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ssl_context)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield URL.build(scheme="https" if ssl_context else "http", host="127.0.0.1", port=port)
    finally:
        await runner.cleanup()


@pytest.fixture(scope="module")
def ca() -> Any:
    trustme = pytest.importorskip("trustme")
    return trustme.CA()


@pytest.fixture
def server_tls(ca: Any) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(ctx)
    return ctx


@pytest.fixture
def client_tls(ca: Any) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(ctx)
    return ctx


def header_names(echoed: dict[str, Any]) -> set[str]:
    return {n.lower() for n, _ in echoed["headers"]}


# --------------------------------------------------------------------------- http origins: absolute-form


def test_http_request_is_forwarded_in_origin_form(run: Any) -> None:
    async def main() -> None:
        async with origin() as base, ForwardProxy() as proxy, aiohttp.ClientSession() as client:
            async with client.get(base / "echo" % {"x": "1"}, proxy=str(proxy.url)) as resp:
                assert resp.status == 200
                echoed = await resp.json()
            (record,) = proxy.requests
            assert (record.method, record.target, record.version) == ("GET", f"{base}/echo?x=1", "HTTP/1.1")
            assert record.status == 200 and not record.is_connect
            assert echoed["path_qs"] == "/echo?x=1"
            assert "via" in header_names(echoed)
            assert record.forwarded_headers is not None and record.forwarded_headers["Connection"] == "close"
            assert resp.headers["Connection"] == "close"

    run(main())


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_request_body_is_relayed(run: Any, framing: str) -> None:
    payload = bytes(range(256)) * 1000

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(0, len(payload), 10_000):
            yield payload[i:i + 10_000]

    async def main() -> None:
        async with origin() as base, ForwardProxy() as proxy, aiohttp.ClientSession() as client:
            data: Any = payload if framing == "content-length" else chunks()
            async with client.post(base / "echo", data=data, proxy=str(proxy.url)) as resp:
                echoed = await resp.json()
            assert echoed["body_length"] == len(payload)
            assert echoed["body_sha256"] == hashlib.sha256(payload).hexdigest()
            sent = proxy.requests[0].headers
            assert ("Transfer-Encoding" in sent) is (framing == "chunked")

    run(main())


def test_large_response_is_relayed_intact(run: Any) -> None:
    async def main() -> None:
        async with origin() as base, ForwardProxy() as proxy, aiohttp.ClientSession() as client:
            async with client.get(base / "big", proxy=str(proxy.url)) as resp:
                assert await resp.read() == BIG

    run(main())


def test_proxy_authorization_reaches_the_proxy_not_the_origin(run: Any) -> None:
    async def main() -> None:
        async with origin() as base, ForwardProxy(auth=("user", "pa:ss")) as proxy, \
                aiohttp.ClientSession() as client:
            async with client.get(base / "echo", proxy=proxy.url.with_user("user").with_password("pa:ss")) as resp:
                assert resp.status == 200
                echoed = await resp.json()
            (record,) = proxy.requests
            assert record.headers["Proxy-Authorization"] == aiohttp.encode_basic_auth("user", "pa:ss")
            assert "proxy-authorization" not in header_names(echoed)
            assert record.forwarded_headers is not None and "Proxy-Authorization" not in record.forwarded_headers

    run(main())


@pytest.mark.parametrize("password", [None, "wrong"], ids=["missing", "wrong"])
def test_http_request_without_the_right_credentials_gets_407(run: Any, password: str | None) -> None:
    async def main() -> None:
        async with origin() as base, ForwardProxy(auth=("user", "pass")) as proxy, \
                aiohttp.ClientSession() as client:
            proxy_url = proxy.url if password is None else proxy.url.with_user("user").with_password(password)
            async with client.get(base / "echo", proxy=proxy_url) as resp:
                assert resp.status == 407
                assert resp.headers["Proxy-Authenticate"] == 'Basic realm="test"'
            assert [r.status for r in proxy.requests] == [407]

    run(main())


def test_unreachable_origin_gets_502(run: Any) -> None:
    async def main() -> None:
        async with origin() as base:
            gone = base   # the port is free again once the origin has stopped
        async with ForwardProxy() as proxy, aiohttp.ClientSession() as client:
            async with client.get(gone / "echo", proxy=str(proxy.url)) as resp:
                assert resp.status == 502

    run(main())


def test_origin_form_request_gets_400(run: Any) -> None:
    async def main() -> None:
        async with ForwardProxy() as proxy:
            reader, writer = await asyncio.open_connection(proxy.host, proxy.port)
            writer.write(b"GET /not-a-proxy-request HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = await reader.read()
            writer.close()
            await writer.wait_closed()
            assert answer.startswith(b"HTTP/1.1 400 ")
            assert proxy.requests[0].target == "/not-a-proxy-request"

    run(main())


# --------------------------------------------------------------------------- https origins: CONNECT


def test_https_request_goes_through_a_connect_tunnel(run: Any, server_tls: ssl.SSLContext,
                                                     client_tls: ssl.SSLContext) -> None:
    async def main() -> None:
        async with origin(server_tls) as base, ForwardProxy() as proxy, aiohttp.ClientSession() as client:
            async with client.get(base / "echo" % {"q": "tls"}, proxy=str(proxy.url), ssl=client_tls) as resp:
                assert resp.status == 200
                echoed = await resp.json()
            async with client.get(base / "big", proxy=str(proxy.url), ssl=client_tls) as resp:
                assert await resp.read() == BIG
            assert [r.method for r in proxy.requests] == ["CONNECT"] * len(proxy.requests)
            assert {r.target for r in proxy.requests} == {f"127.0.0.1:{base.port}"}
            assert all(r.status == 200 for r in proxy.requests)
            assert echoed["path_qs"] == "/echo?q=tls"   # the path only ever travelled inside TLS
            assert "via" not in header_names(echoed)

    run(main())


def test_connect_carries_proxy_authorization_and_the_tunnel_does_not(run: Any, server_tls: ssl.SSLContext,
                                                                    client_tls: ssl.SSLContext) -> None:
    async def main() -> None:
        async with origin(server_tls) as base, ForwardProxy(auth=("u", "p")) as proxy, \
                aiohttp.ClientSession() as client:
            async with client.get(base / "echo", proxy=str(proxy.url.with_user("u").with_password("p")),
                                  ssl=client_tls) as resp:
                echoed = await resp.json()
            (record,) = proxy.requests
            assert record.is_connect and record.headers["Proxy-Authorization"] == aiohttp.encode_basic_auth("u", "p")
            assert "proxy-authorization" not in header_names(echoed)

    run(main())


def test_connect_without_credentials_gets_407(run: Any, server_tls: ssl.SSLContext,
                                              client_tls: ssl.SSLContext) -> None:
    async def main() -> None:
        async with origin(server_tls) as base, ForwardProxy(auth=("u", "p")) as proxy, \
                aiohttp.ClientSession() as client:
            with pytest.raises(aiohttp.ClientHttpProxyError) as caught:
                await client.get(base / "echo", proxy=str(proxy.url), ssl=client_tls)
            assert caught.value.status == 407
            assert [(r.method, r.status) for r in proxy.requests] == [("CONNECT", 407)]

    run(main())


def test_connect_to_an_unreachable_origin_gets_502(run: Any, client_tls: ssl.SSLContext) -> None:
    async def main() -> None:
        async with origin() as base:
            gone = base.with_scheme("https")
        async with ForwardProxy() as proxy, aiohttp.ClientSession() as client:
            with pytest.raises(aiohttp.ClientHttpProxyError) as caught:
                await client.get(gone / "echo", proxy=str(proxy.url), ssl=client_tls)
            assert caught.value.status == 502

    run(main())


# --------------------------------------------------------------------------- in a thread


@pytest.fixture
def threaded_proxy() -> Iterator[ForwardProxy]:
    with proxy_in_thread() as proxy:
        yield proxy


def test_proxy_in_a_thread_serves_another_loop(run: Any, threaded_proxy: ForwardProxy) -> None:
    async def main() -> None:
        async with origin() as base, aiohttp.ClientSession() as client:
            for _ in range(2):
                async with client.get(base / "echo", proxy=str(threaded_proxy.url)) as resp:
                    assert resp.status == 200
        assert [r.method for r in threaded_proxy.requests] == ["GET", "GET"]
        assert threaded_proxy.connections == 2   # one request per connection: Connection: close

    run(main())
