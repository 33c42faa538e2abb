"""Requests through a forward proxy, and proxy settings and credentials from the environment (``trust_env``).

The proxy is ``tests/support/forward_proxy.py`` on the test's own loop (it
records each request it received, what it forwarded and what it answered);
the origins are the apps of ``tests/support/client_apps.py``, plain and TLS
(a throwaway trustme CA).  What is expected:

- an http origin is reached with an absolute-form request to the proxy, an
  https origin through ``CONNECT host:port`` and then TLS with the origin
  (RFC 9112 §3.2.2, RFC 9110 §9.3.6);
- proxy credentials (from the proxy URL or ``proxy_auth``) go to the proxy
  as ``Proxy-Authorization`` and never to the origin; a proxy's 407 is
  ``ProxyError`` with ``status == 407``, for both kinds;
- proxied and direct connections, and connections through two proxies,
  never share a pool slot;
- with ``trust_env=True`` (only then) ``HTTP_PROXY``/``HTTPS_PROXY``/
  ``NO_PROXY`` choose the proxy and ``.netrc`` (``$NETRC``) gives Basic
  credentials per host.

Every test runs on both wire twins and both loops.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from yarl import URL

import wirespeed
from support.client_apps import SMALL
from support.client_kit import App, TLSApp, assert_settled
from support.forward_proxy import ForwardProxy
from wirespeed import ClientSession
from wirespeed.wire import Wire

USER, PASSWORD = "user", "pa:ss w\u00f6rd"
ENV_VARIABLES = ["http_proxy", "https_proxy", "all_proxy", "no_proxy", "REQUEST_METHOD", "NETRC"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No proxy variable or netrc of the machine running the tests reaches a session."""
    for name in ENV_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return monkeypatch


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


def with_credentials(proxy: ForwardProxy, user: str = USER, password: str = PASSWORD) -> str:
    """The proxy's URL with percent-encoded credentials in it."""
    return str(proxy.url.with_user(user).with_password(password))


def header_names(doc: dict[str, Any]) -> set[str]:
    return {k.lower() for k, _ in doc["headers"]}


# --------------------------------------------------------------------------- http origins


@pytest.mark.parametrize("credentials", ["in-the-url", "proxy_auth"])
@pytest.mark.parametrize("where", ["session", "request"])
def test_an_http_origin_is_reached_in_absolute_form(wire_impl: Wire, run: Any, app: App, where: str,
                                                    credentials: str) -> None:
    async def main() -> None:
        async with ForwardProxy(auth=(USER, PASSWORD)) as proxy:
            if credentials == "in-the-url":
                given: dict[str, Any] = {"proxy": with_credentials(proxy)}
            else:
                given = {"proxy": str(proxy.url), "proxy_auth": (USER, PASSWORD)}
            async with ClientSession(wire=wire_impl, **(given if where == "session" else {})) as s:
                url = app.url("/echo?x=1")
                async with s.get(url, **(given if where == "request" else {})) as r:
                    assert r.status == 200 and r.url == URL(url)
                    doc = await r.json()
                assert_settled(s.stats)
            (record,) = proxy.requests
            assert (record.method, record.target, record.status) == ("GET", url, 200)
            assert record.headers["Proxy-Authorization"] == basic(USER, PASSWORD)
            assert record.headers["Host"] == f"127.0.0.1:{app.port}"
            assert doc["target"] == "/echo?x=1"
            assert "proxy-authorization" not in header_names(doc) and "via" in header_names(doc)

    run(main())


def test_a_proxy_without_credentials_gets_no_proxy_authorization(wire_impl: Wire, run: Any,
                                                                 aiohttp_app: App) -> None:
    async def main() -> None:
        async with ForwardProxy() as proxy, ClientSession(wire=wire_impl, proxy=str(proxy.url)) as s:
            async with s.post(aiohttp_app.url("/echo"), data=b"x" * 100_000) as r:
                doc = await r.json()
            assert doc["length"] == 100_000
            (record,) = proxy.requests
            assert "Proxy-Authorization" not in record.headers

    run(main())


def test_the_fragment_is_not_sent_to_the_proxy(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ForwardProxy() as proxy, ClientSession(wire=wire_impl, proxy=str(proxy.url)) as s:
            async with s.get(aiohttp_app.url("/echo?q=1#section")) as r:
                assert r.url.fragment == "section"
                assert (await r.json())["target"] == "/echo?q=1"
            assert [p.target for p in proxy.requests] == [aiohttp_app.url("/echo?q=1")]

    run(main())


def test_credentials_in_the_url_never_reach_the_proxy_in_the_target(wire_impl: Wire, run: Any,
                                                                     aiohttp_app: App) -> None:
    """RFC 9110 §4.2.4: a sender MUST NOT generate userinfo in a target URI (aiohttp strips it too)."""

    async def main() -> None:
        async with ForwardProxy() as proxy, ClientSession(wire=wire_impl, proxy=str(proxy.url)) as s:
            async with s.get(f"http://someone:secret@127.0.0.1:{aiohttp_app.port}/echo") as r:
                assert r.status == 200
            (record,) = proxy.requests
            assert record.target == aiohttp_app.url("/echo")
            assert "secret" not in record.target and "@" not in record.target

    run(main())


@pytest.mark.parametrize("password", [None, "wrong"], ids=["missing", "wrong"])
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_proxy_407_is_proxy_error(wire_impl: Wire, run: Any, aiohttp_app: App, tls_app: TLSApp, scheme: str,
                                    password: str | None) -> None:
    async def main() -> None:
        async with ForwardProxy(auth=(USER, PASSWORD)) as proxy:
            url = with_credentials(proxy, USER, password) if password else str(proxy.url)
            origin = aiohttp_app if scheme == "http" else tls_app
            async with ClientSession(wire=wire_impl, proxy=url, ssl=tls_app.trusting_context()) as s:
                with pytest.raises(wirespeed.ProxyError) as info:
                    await s.get(origin.url("/echo"))
                assert info.value.status == 407
                assert isinstance(info.value, wirespeed.ClientConnectionError)
                assert_settled(s.stats, idle=0)
            (record,) = proxy.requests
            assert record.status == 407 and record.is_connect is (scheme == "https")
            assert record.forwarded_headers is None   # nothing reached the origin

    run(main())


def test_per_request_proxy_carries_every_redirect_hop(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ForwardProxy(auth=(USER, PASSWORD)) as proxy, ClientSession(wire=wire_impl) as s:
            start = str(URL(aiohttp_app.url("/redirect/302")).with_query(to="/echo"))
            async with s.get(start, proxy=with_credentials(proxy)) as r:
                assert r.status == 200 and len(r.history) == 1
            assert [p.target for p in proxy.requests] == [start, aiohttp_app.url("/echo")]
            assert all(p.status in (200, 302) for p in proxy.requests)

    run(main())


def test_proxy_credentials_follow_a_redirect_to_another_origin(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    """The caller's Authorization stays behind on another origin; the proxy's credentials are the proxy's."""

    async def main() -> None:
        async with ForwardProxy(auth=(USER, PASSWORD)) as proxy, \
                ClientSession(wire=wire_impl, proxy=with_credentials(proxy)) as s:
            there = f"http://localhost:{aiohttp_app.port}/echo"
            start = str(URL(aiohttp_app.url("/redirect/302")).with_query(to=there))
            async with s.get(start, headers={"Authorization": "Bearer origin-only"}) as r:
                assert r.url == URL(there)
                doc = await r.json()
            assert [p.status for p in proxy.requests] == [302, 200]
            assert all(p.headers["Proxy-Authorization"] == basic(USER, PASSWORD) for p in proxy.requests)
            assert not header_names(doc) & {"authorization", "proxy-authorization"}

    run(main())


@pytest.mark.parametrize("proxy", ["ftp://127.0.0.1:21", "http://", "http://127.0.0.1:notaport"],
                         ids=["scheme", "no-host", "port"])
def test_a_proxy_url_that_cannot_be_used_is_refused_before_anything_is_sent(wire_impl: Wire, run: Any,
                                                                           aiohttp_app: App, proxy: str) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            with pytest.raises(wirespeed.InvalidRequest):
                await s.get(aiohttp_app.url("/count"), proxy=proxy)
            async with s.get(aiohttp_app.url("/count")) as r:
                assert (await r.json())["requests"] == 1
        with pytest.raises(wirespeed.InvalidRequest):
            ClientSession(wire=wire_impl, proxy=proxy)

    run(main())


# --------------------------------------------------------------------------- https origins


@pytest.mark.parametrize("where", ["session", "request"])
def test_an_https_origin_is_reached_through_a_connect_tunnel(wire_impl: Wire, run: Any, tls_app: TLSApp,
                                                             where: str) -> None:
    payload = bytes(range(256)) * 4096   # 1 MiB each way

    async def main() -> None:
        async with ForwardProxy(auth=(USER, PASSWORD)) as proxy:
            given = {"proxy": str(proxy.url), "proxy_auth": (USER, PASSWORD)}
            async with ClientSession(wire=wire_impl, ssl=tls_app.trusting_context(),
                                     **(given if where == "session" else {})) as s:
                per_request = given if where == "request" else {}
                async with s.get(tls_app.url("/sni"), **per_request) as r:
                    assert await r.json() == {"server_name": "localhost"}   # TLS is with the origin
                async with s.post(tls_app.url("/echo"), data=payload, **per_request) as r:
                    doc = await r.json()
                assert doc["sha256"] == hashlib.sha256(payload).hexdigest()
                assert not header_names(doc) & {"proxy-authorization", "via"}
                assert s.stats.opened == 1   # the tunnel is kept and reused
                assert_settled(s.stats, idle=1)
            (record,) = proxy.requests
            assert (record.method, record.target, record.status) == ("CONNECT", f"localhost:{tls_app.port}", 200)
            assert record.headers["Host"] == f"localhost:{tls_app.port}"
            assert record.headers["Proxy-Authorization"] == basic(USER, PASSWORD)

    run(main())


def test_the_origins_credentials_and_cookies_stay_inside_the_tunnel(wire_impl: Wire, run: Any,
                                                                    tls_app: TLSApp) -> None:
    async def main() -> None:
        async with ForwardProxy() as proxy, ClientSession(wire=wire_impl, proxy=str(proxy.url),
                                                          ssl=tls_app.trusting_context(),
                                                          headers={"Authorization": "Bearer origin"}) as s:
            await s.get(tls_app.url("/set-cookie?cookie=sid%3D1%3B%20Path%3D%2F"))
            async with s.get(tls_app.url("/echo"), headers={"X-Origin-Only": "1"}) as r:
                doc = await r.json()
            names = {k.lower() for k, _ in doc["headers"]}
            assert {"authorization", "cookie", "x-origin-only"} <= names
            (record,) = proxy.requests   # one tunnel, both requests inside it
            assert not {n.lower() for n in record.headers} & {"authorization", "cookie", "x-origin-only"}

    run(main())


def test_the_tunnel_verifies_the_origins_certificate(wire_impl: Wire, run: Any, tls_app: TLSApp) -> None:
    async def main() -> None:
        async with ForwardProxy() as proxy, ClientSession(wire=wire_impl, proxy=str(proxy.url)) as s:
            with pytest.raises(wirespeed.ConnectError):   # the system store does not know the test CA
                await s.get(tls_app.url("/small"))
            assert_settled(s.stats, idle=0)
            assert [p.status for p in proxy.requests] == [200]

    run(main())


def test_a_connect_the_proxy_cannot_complete_is_proxy_error(wire_impl: Wire, run: Any, tls_app: TLSApp) -> None:
    async def main() -> None:
        async with ForwardProxy() as proxy, ClientSession(wire=wire_impl, proxy=str(proxy.url)) as s:
            closed = ForwardProxy()
            await closed.start()
            port = closed.port
            await closed.close()   # nothing listens there now: the proxy answers 502
            with pytest.raises(wirespeed.ProxyError) as info:
                await s.get(f"https://127.0.0.1:{port}/small")
            assert info.value.status == 502
            assert_settled(s.stats, idle=0)

    run(main())


# --------------------------------------------------------------------------- pool slots


def test_direct_and_proxied_http_never_share_a_connection(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ForwardProxy() as proxy, ClientSession(wire=wire_impl) as s:
            async def count(**kwargs: Any) -> dict[str, Any]:
                async with s.get(aiohttp_app.url("/count"), **kwargs) as r:
                    return await r.json()   # type: ignore[no-any-return]

            direct = await count()
            proxied = await count(proxy=str(proxy.url))    # not on the idle direct connection
            assert proxy.connections == 1 and proxied["connection"] != direct["connection"]
            again = await count()                          # back on the direct one
            assert again == {"connection": direct["connection"], "requests": 2}
            await count(proxy=str(proxy.url))
            after = await count()
            assert after == {"connection": direct["connection"], "requests": 3}
            assert proxy.connections == 2

    run(main())


def test_direct_and_tunneled_https_never_share_a_connection(wire_impl: Wire, run: Any, tls_app: TLSApp) -> None:
    async def main() -> None:
        async with ForwardProxy() as proxy, ClientSession(wire=wire_impl, ssl=tls_app.trusting_context()) as s:
            async def count(**kwargs: Any) -> dict[str, Any]:
                async with s.get(tls_app.url("/count"), **kwargs) as r:
                    return await r.json()   # type: ignore[no-any-return]

            tunneled = await count(proxy=str(proxy.url))
            direct = await count()                         # its own connection, counted by the server
            assert direct["connection"] != tunneled["connection"] and direct["requests"] == 1
            assert await count(proxy=str(proxy.url)) == {"connection": tunneled["connection"], "requests": 2}
            assert await count() == {"connection": direct["connection"], "requests": 2}
            assert proxy.connections == 1 and len(proxy.requests) == 1
            assert s.stats.opened == 2
            assert_settled(s.stats, idle=2)

    run(main())


def test_tunnels_through_two_proxies_or_two_logins_are_not_shared(wire_impl: Wire, run: Any,
                                                                  tls_app: TLSApp) -> None:
    async def main() -> None:
        async with ForwardProxy() as first, ForwardProxy() as second, \
                ClientSession(wire=wire_impl, ssl=tls_app.trusting_context()) as s:
            for proxy, auth in [(first, None), (second, None), (first, ("a", "1")), (first, ("b", "2")),
                                (first, None), (second, None)]:
                async with s.get(tls_app.url("/small"), proxy=str(proxy.url), proxy_auth=auth) as r:
                    assert await r.read() == SMALL
            # one tunnel per (proxy, credentials): 3 through the first, 1 through the second
            assert (first.connections, second.connections) == (3, 1)
            assert [p.headers.get("Proxy-Authorization") for p in first.requests] == [
                None, basic("a", "1"), basic("b", "2")]

    run(main())


# --------------------------------------------------------------------------- trust_env


@pytest.mark.parametrize("trust_env", [True, False])
def test_http_proxy_from_the_environment(wire_impl: Wire, run: Any, aiohttp_app: App,
                                         clean_env: pytest.MonkeyPatch, trust_env: bool) -> None:
    async def main() -> None:
        async with ForwardProxy(auth=(USER, PASSWORD)) as proxy:
            clean_env.setenv("HTTP_PROXY", with_credentials(proxy))
            async with ClientSession(wire=wire_impl, trust_env=trust_env) as s:
                async with s.get(aiohttp_app.url("/echo")) as r:
                    doc = await r.json()
            assert len(proxy.requests) == (1 if trust_env else 0)
            assert ("via" in header_names(doc)) is trust_env
            if trust_env:
                assert proxy.requests[0].headers["Proxy-Authorization"] == basic(USER, PASSWORD)

    run(main())


@pytest.mark.parametrize("trust_env", [True, False])
def test_https_proxy_from_the_environment(wire_impl: Wire, run: Any, tls_app: TLSApp,
                                          clean_env: pytest.MonkeyPatch, trust_env: bool) -> None:
    async def main() -> None:
        async with ForwardProxy() as proxy:
            clean_env.setenv("HTTPS_PROXY", str(proxy.url))
            clean_env.setenv("HTTP_PROXY", "http://127.0.0.1:9")   # not for https URLs
            async with ClientSession(wire=wire_impl, trust_env=trust_env, ssl=tls_app.trusting_context()) as s:
                async with s.get(tls_app.url("/small")) as r:
                    assert await r.read() == SMALL
            assert [p.method for p in proxy.requests] == (["CONNECT"] if trust_env else [])

    run(main())


@pytest.mark.parametrize("no_proxy, proxied", [
    ("127.0.0.1", False), ("localhost", True), ("*", False), ("127.0.0.0/8", False), ("example.com, 127.0.0.1", False),
], ids=["the-ip", "another-name", "star", "cidr", "list"])
def test_no_proxy_from_the_environment(wire_impl: Wire, run: Any, aiohttp_app: App, clean_env: pytest.MonkeyPatch,
                                       no_proxy: str, proxied: bool) -> None:
    async def main() -> None:
        async with ForwardProxy() as proxy:
            clean_env.setenv("HTTP_PROXY", str(proxy.url))
            clean_env.setenv("NO_PROXY", no_proxy)
            async with ClientSession(wire=wire_impl, trust_env=True) as s:
                async with s.get(aiohttp_app.url("/small")) as r:
                    assert await r.read() == SMALL
            assert len(proxy.requests) == (1 if proxied else 0)

    run(main())


def test_no_proxy_with_a_port_applies_to_that_port_only(wire_impl: Wire, run: Any, aiohttp_app: App,
                                                        clean_env: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        async with ForwardProxy() as proxy:
            clean_env.setenv("HTTP_PROXY", str(proxy.url))
            clean_env.setenv("NO_PROXY", f"127.0.0.1:{aiohttp_app.port}")
            async with ClientSession(wire=wire_impl, trust_env=True) as s:
                await s.get(aiohttp_app.url("/small"))
                await s.get(f"http://localhost:{aiohttp_app.port}/small")
            assert [p.target for p in proxy.requests] == [f"http://localhost:{aiohttp_app.port}/small"]

    run(main())


def test_the_environment_proxy_is_chosen_per_redirect_hop(wire_impl: Wire, run: Any, aiohttp_app: App,
                                                          tls_app: TLSApp, clean_env: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        async with ForwardProxy() as proxy:
            clean_env.setenv("HTTP_PROXY", str(proxy.url))   # http URLs only: the https hop goes direct
            async with ClientSession(wire=wire_impl, trust_env=True, ssl=tls_app.trusting_context()) as s:
                start = str(URL(aiohttp_app.url("/redirect/302")).with_query(to=tls_app.url("/small")))
                async with s.get(start) as r:
                    assert await r.read() == SMALL and r.url.scheme == "https"
            assert [p.target for p in proxy.requests] == [start]

    run(main())


def test_an_explicit_proxy_wins_over_the_environment(wire_impl: Wire, run: Any, aiohttp_app: App,
                                                     clean_env: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        async with ForwardProxy() as from_env, ForwardProxy() as explicit:
            clean_env.setenv("HTTP_PROXY", str(from_env.url))
            async with ClientSession(wire=wire_impl, trust_env=True, proxy=str(explicit.url)) as s:
                await s.get(aiohttp_app.url("/small"))
            async with ClientSession(wire=wire_impl, trust_env=True) as s:
                await s.get(aiohttp_app.url("/small"), proxy=str(explicit.url))
            assert (len(from_env.requests), len(explicit.requests)) == (0, 2)

    run(main())


def test_an_unsupported_proxy_scheme_in_the_environment_is_ignored(wire_impl: Wire, run: Any, aiohttp_app: App,
                                                                   clean_env: pytest.MonkeyPatch) -> None:
    async def main() -> None:
        clean_env.setenv("HTTP_PROXY", "socks5://127.0.0.1:9")
        async with ClientSession(wire=wire_impl, trust_env=True) as s:
            async with s.get(aiohttp_app.url("/small")) as r:
                assert await r.read() == SMALL

    run(main())


def write_netrc(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def echoed(doc: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in doc["headers"] if k.lower() == name.lower()]


@pytest.mark.parametrize("trust_env", [True, False])
def test_netrc_credentials_from_the_environment(wire_impl: Wire, run: Any, aiohttp_app: App, tmp_path: Path,
                                                clean_env: pytest.MonkeyPatch, trust_env: bool) -> None:
    netrc = write_netrc(tmp_path / "netrc", "machine 127.0.0.1 login alice password s3cret\n")
    clean_env.setenv("NETRC", str(netrc))

    async def main() -> None:
        async with ClientSession(wire=wire_impl, trust_env=trust_env) as s:
            async with s.get(aiohttp_app.url("/echo")) as r:
                doc = await r.json()
            assert echoed(doc, "Authorization") == ([basic("alice", "s3cret")] if trust_env else [])
            async with s.get(aiohttp_app.url("/echo"), headers={"Authorization": "Bearer mine"}) as r:
                assert echoed(await r.json(), "Authorization") == ["Bearer mine"]   # the caller's wins

    run(main())


def test_netrc_credentials_are_per_host_across_a_redirect(wire_impl: Wire, run: Any, aiohttp_app: App,
                                                          tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    netrc = write_netrc(tmp_path / "netrc", "machine 127.0.0.1 login alice password one\n"
                                            "machine localhost login bob password two\n")
    clean_env.setenv("NETRC", str(netrc))

    async def main() -> None:
        async with ClientSession(wire=wire_impl, trust_env=True) as s:
            there = f"http://localhost:{aiohttp_app.port}/echo"
            async with s.get(str(URL(aiohttp_app.url("/redirect/302")).with_query(to=there))) as r:
                doc = json.loads(await r.read())
            assert echoed(doc, "Authorization") == [basic("bob", "two")]   # localhost's, never 127.0.0.1's

    run(main())


def test_netrc_default_entry(wire_impl: Wire, run: Any, aiohttp_app: App, tmp_path: Path,
                             clean_env: pytest.MonkeyPatch) -> None:
    netrc = write_netrc(tmp_path / "netrc", "machine example.com login x password y\ndefault login any password z\n")
    clean_env.setenv("NETRC", str(netrc))

    async def main() -> None:
        async with ClientSession(wire=wire_impl, trust_env=True) as s:
            async with s.get(aiohttp_app.url("/echo")) as r:
                assert echoed(await r.json(), "Authorization") == [basic("any", "z")]

    run(main())
