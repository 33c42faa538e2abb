"""Cookies through a session, against real servers: what the jar keeps, and what each request sends.

The jar's own rules (parsing, domains, paths, expiry) are unit-tested in
``test_cookies.py``; here they are checked end to end: ``Set-Cookie`` from the
apps' ``/set-cookie`` and ``/redirect`` routes and from every redirect hop,
the ``Cookie`` header as ``/echo`` and ``/paths/...`` received it.  The apps
listen on 127.0.0.1; ``localhost`` names the same server as another host,
and one the default jar accepts (an IP address host needs
``CookieJar(unsafe=True)``, as in aiohttp).  Every test runs on both wire
twins and both loops.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from yarl import URL

import wirespeed
from support.client_kit import App, TLSApp, assert_settled
from support.fault_server import FaultServer, ok, response, serve
from wirespeed import ClientSession, CookieJar, DummyCookieJar
from wirespeed.wire import Wire


def on_localhost(app: App, path: str) -> str:
    return f"http://localhost:{app.port}{path}"


def set_cookie_url(base: str, *lines: str, path: str = "/set-cookie", **query: Any) -> str:
    return str(URL(base + path).with_query(cookie=list(lines), **query))


async def cookie_sent(s: ClientSession, url: str, **kwargs: Any) -> str | None:
    """The Cookie header ``url`` (an echo route) received; None when there was none."""
    async with s.get(url, **kwargs) as r:
        doc = await r.json()
    values = [v for k, v in doc["headers"] if k.lower() == "cookie"]
    assert len(values) <= 1, values
    return values[0] if values else None


# --------------------------------------------------------------------------- storing and sending


def test_set_cookie_is_stored_and_sent_back(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(set_cookie_url(on_localhost(app, ""), "a=1", "b=two; Path=/; HttpOnly")) as r:
                assert r.status == 200 and r.headers.getall("Set-Cookie") == ["a=1", "b=two; Path=/; HttpOnly"]
            assert sorted((c.name, c.value, c.domain) for c in s.cookie_jar) == [
                ("a", "1", "localhost"), ("b", "two", "localhost")]
            assert await cookie_sent(s, on_localhost(app, "/echo")) == "a=1; b=two"
            assert_settled(s.stats, idle=1)

    run(main())


def test_an_ip_address_host_needs_an_unsafe_jar(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            await s.get(set_cookie_url(aiohttp_app.base, "a=1"))
            assert len(s.cookie_jar) == 0
            assert await cookie_sent(s, aiohttp_app.url("/echo")) is None
        async with ClientSession(wire=wire_impl, cookie_jar=CookieJar(unsafe=True)) as s:
            await s.get(set_cookie_url(aiohttp_app.base, "a=1"))
            assert await cookie_sent(s, aiohttp_app.url("/echo")) == "a=1"
            # host-only: the cookie of 127.0.0.1 is not the cookie of localhost
            assert await cookie_sent(s, on_localhost(aiohttp_app, "/echo")) is None

    run(main())


def test_a_jar_given_to_the_session_is_the_one_used(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        jar = CookieJar()
        jar.update_cookies({"pre": "loaded"}, URL(on_localhost(aiohttp_app, "/")))
        async with ClientSession(wire=wire_impl, cookie_jar=jar) as s:
            assert s.cookie_jar is jar
            assert await cookie_sent(s, on_localhost(aiohttp_app, "/echo")) == "pre=loaded"
            await s.get(set_cookie_url(on_localhost(aiohttp_app, ""), "new=1"))
        assert {c.name for c in jar} == {"pre", "new"}   # the caller's jar outlives the session

    run(main())


def test_dummy_cookie_jar_keeps_nothing(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, cookie_jar=DummyCookieJar(), cookies={"s": "1"}) as s:
            await s.get(set_cookie_url(on_localhost(aiohttp_app, ""), "a=1"))
            assert len(s.cookie_jar) == 0
            assert await cookie_sent(s, on_localhost(aiohttp_app, "/echo")) is None
            # cookies= of one request still go with that request (aiohttp's rule too)
            assert await cookie_sent(s, on_localhost(aiohttp_app, "/echo"), cookies={"r": "2"}) == "r=2"

    run(main())


def test_session_cookies_go_to_every_host(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, cookies={"s": "1", "t": "two"}) as s:
            assert await cookie_sent(s, aiohttp_app.url("/echo")) == "s=1; t=two"   # an IP host too
            assert await cookie_sent(s, on_localhost(aiohttp_app, "/echo")) == "s=1; t=two"

    run(main())


def test_request_cookies_win_over_the_jar_and_are_not_kept(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, cookies={"a": "1", "b": "1"}) as s:
            sent = await cookie_sent(s, aiohttp_app.url("/echo"), cookies={"a": "2", "c": "3"})
            assert sent is not None
            assert sorted(sent.split("; ")) == ["a=2", "b=1", "c=3"]
            assert await cookie_sent(s, aiohttp_app.url("/echo")) == "a=1; b=1"
            assert sorted(c.name for c in s.cookie_jar) == ["a", "b"]

    run(main())


@pytest.mark.parametrize("where", ["request", "session"])
def test_an_explicit_cookie_header_wins_over_the_jar(wire_impl: Wire, run: Any, aiohttp_app: App,
                                                    where: str) -> None:
    async def main() -> None:
        given = {"Cookie": "mine=1"}
        async with ClientSession(wire=wire_impl, headers=given if where == "session" else None) as s:
            await s.get(set_cookie_url(on_localhost(aiohttp_app, ""), "jar=1"))
            assert len(s.cookie_jar) == 1
            kwargs = {"headers": given} if where == "request" else {}
            assert await cookie_sent(s, on_localhost(aiohttp_app, "/echo"), **kwargs) == "mine=1"

    run(main())


def test_max_age_zero_removes_a_cookie(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        base = on_localhost(aiohttp_app, "")
        async with ClientSession(wire=wire_impl) as s:
            await s.get(set_cookie_url(base, "a=1", "b=2"))
            await s.get(set_cookie_url(base, "a=gone; Max-Age=0"))
            assert await cookie_sent(s, base + "/echo") == "b=2"
            await s.get(set_cookie_url(base, "b=3"))   # replaced, not added
            assert await cookie_sent(s, base + "/echo") == "b=3"

    run(main())


def test_the_path_of_a_cookie_decides_where_it_goes(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        base = on_localhost(app, "")
        async with ClientSession(wire=wire_impl) as s:
            await s.get(set_cookie_url(base, "p=1; Path=/paths/a"))
            # set by /paths/x/y without a Path: its default path is /paths/x (RFC 6265 §5.1.4)
            await s.get(set_cookie_url(base, "d=1", path="/paths/x/y", to="/small"))
            for path, expected in [("/paths/a", "p=1"), ("/paths/a/b", "p=1"), ("/paths/b", None),
                                   ("/paths/ab", None), ("/paths/x/z", "d=1"), ("/paths/x", "d=1"),
                                   ("/paths/xy", None), ("/echo", None)]:
                assert await cookie_sent(s, base + path) == expected, path

    run(main())


def test_a_domain_that_is_not_the_hosts_is_refused(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        base = on_localhost(aiohttp_app, "")
        async with ClientSession(wire=wire_impl) as s:
            await s.get(set_cookie_url(base, "x=1; Domain=example.com", "y=1; Domain=localhost"))
            assert [(c.name, c.domain) for c in s.cookie_jar] == [("y", "localhost")]
            assert await cookie_sent(s, base + "/echo") == "y=1"

    run(main())


def test_a_secure_cookie_from_https_is_sent_over_https(wire_impl: Wire, run: Any, tls_app: TLSApp) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, ssl=tls_app.trusting_context()) as s:
            await s.get(set_cookie_url(tls_app.base, "sec=1; Secure", "__Host-h=1; Secure; Path=/"))
            assert sorted((c.name, c.secure) for c in s.cookie_jar) == [("__Host-h", True), ("sec", True)]
            assert await cookie_sent(s, tls_app.url("/echo")) == "sec=1; __Host-h=1"

    run(main())


# --------------------------------------------------------------------------- redirects


def test_set_cookie_of_every_redirect_hop_is_kept(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(on_localhost(app, "/chain/3?cookies=1")) as r:
                doc = await r.json()
                assert len(r.history) == 3
            assert doc["cookie"] == "hop3=1; hop2=1; hop1=1"
            assert sorted(c.name for c in s.cookie_jar) == ["hop1", "hop2", "hop3"]

    run(main())


def test_each_hop_sends_the_cookies_the_hops_before_it_set(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = serve(
        response(302, headers=[("Location", "/2"), ("Set-Cookie", "a=1")]),
        response(302, headers=[("Location", "/3"), ("Set-Cookie", "b=2; Path=/")]),
        ok(b"done"), then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl, cookie_jar=CookieJar(unsafe=True)) as s:
            async with s.get(fault.url("/1")) as r:
                assert await r.read() == b"done"
        await fault.finished()
        assert [q.header("Cookie") for q in fault.requests()] == [None, "a=1", "a=1; b=2"]

    run(main())


def test_set_cookie_of_a_redirect_not_followed_is_kept(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        base = on_localhost(aiohttp_app, "")
        async with ClientSession(wire=wire_impl) as s:
            url = set_cookie_url(base, "r=1; Path=/", path="/redirect/302", to="/echo")
            async with s.get(url, allow_redirects=False) as r:
                assert r.status == 302
            assert await cookie_sent(s, base + "/echo") == "r=1"

    run(main())


def test_a_cookie_set_on_a_hop_stays_with_its_host(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, cookie_jar=CookieJar(unsafe=True)) as s:
            # 127.0.0.1 sets ip=1 and sends the client to localhost, which sets name=1 and comes back.
            back = set_cookie_url(on_localhost(aiohttp_app, ""), "name=1; Path=/", path="/redirect/302",
                                  to=aiohttp_app.url("/echo"))
            start = set_cookie_url(aiohttp_app.base, "ip=1; Path=/", path="/redirect/302", to=back)
            async with s.get(start) as r:
                doc = await r.json()
            assert [v for k, v in doc["headers"] if k.lower() == "cookie"] == ["ip=1"]
            assert await cookie_sent(s, on_localhost(aiohttp_app, "/echo")) == "name=1"

    run(main())


def test_request_cookies_go_with_every_hop_within_the_origin(wire_impl: Wire, run: Any, fault: FaultServer) -> None:
    fault.script = serve(response(302, headers=[("Location", "/2")]), ok(), then="keep")

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            async with s.get(fault.url("/1"), cookies={"r": "1"}) as r:
                assert r.status == 200
        await fault.finished()
        assert [q.header("Cookie") for q in fault.requests()] == ["r=1", "r=1"]

    run(main())


def test_request_cookies_do_not_follow_a_redirect_to_another_origin(wire_impl: Wire, run: Any,
                                                                    aiohttp_app: App) -> None:
    """aiohttp (3.14) drops ``cookies=`` with the Cookie header when a redirect leaves the origin."""

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            start = str(URL(aiohttp_app.url("/redirect/302")).with_query(to=on_localhost(aiohttp_app, "/echo")))
            async with s.get(start, cookies={"r": "1"}) as r:
                doc = json.loads(await r.read())
                assert r.url.host == "localhost"
            assert [v for k, v in doc["headers"] if k.lower() == "cookie"] == []

    run(main())


def test_jar_cookies_of_the_new_host_are_sent_after_a_cross_origin_hop(wire_impl: Wire, run: Any,
                                                                        aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            await s.get(set_cookie_url(on_localhost(aiohttp_app, ""), "there=1"))
            start = str(URL(aiohttp_app.url("/redirect/302")).with_query(to=on_localhost(aiohttp_app, "/echo")))
            async with s.get(start, headers={"Cookie": "mine=1"}) as r:
                doc = await r.json()
            # the caller's Cookie header stays behind; the jar's cookie for localhost is localhost's own
            assert [v for k, v in doc["headers"] if k.lower() == "cookie"] == ["there=1"]

    run(main())


def test_cookies_are_kept_from_a_chain_that_ends_in_too_many_redirects(wire_impl: Wire, run: Any,
                                                                       aiohttp_app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, max_redirects=1) as s:
            with pytest.raises(wirespeed.TooManyRedirects):
                await s.get(on_localhost(aiohttp_app, "/chain/3?cookies=1"))
            assert sorted(c.name for c in s.cookie_jar) == ["hop2", "hop3"]
            assert_settled(s.stats)

    run(main())
