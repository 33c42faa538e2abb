"""``auth=`` on a session and on a request: HTTP Basic credentials, aiohttp's rules.

- A request's ``auth=`` becomes its ``Authorization``; beside an Authorization
  header or credentials in the URL it is refused (``InvalidRequest``, a
  ``ValueError``, as aiohttp raises), before anything is sent.
- A session's ``auth=`` is sent with every request that has no Authorization
  of its own (a header, ``auth=`` or URL credentials win), and only to the
  origin of ``base_url`` when the session has one.
- Neither crosses to another origin on a redirect.
"""

from __future__ import annotations

import base64
import warnings
from typing import Any

import aiohttp
import pytest
from yarl import URL

import wirespeed
from support.client_kit import App, assert_settled
from wirespeed import BasicAuth, ClientSession
from wirespeed.wire import Wire


def basic(login: str, password: str, encoding: str = "utf-8") -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode(encoding)).decode("ascii")


def authorization(doc: dict[str, Any]) -> list[str]:
    return [v for k, v in doc["headers"] if k.lower() == "authorization"]


async def echo(s: ClientSession, url: str, **kwargs: Any) -> dict[str, Any]:
    async with s.get(url, **kwargs) as r:
        assert r.status == 200
        doc: dict[str, Any] = await r.json()
        return doc


@pytest.mark.parametrize("auth, expected", [
    (("user", "pa55"), basic("user", "pa55")),
    (("j\u00fcrgen", "p\u00e4ss"), basic("j\u00fcrgen", "p\u00e4ss")),             # UTF-8 by default (RFC 7617)
    (BasicAuth("user", "pa55"), basic("user", "pa55")),
    (BasicAuth("j\u00fcrgen", "x", "latin-1"), basic("j\u00fcrgen", "x", "latin-1")),
    ("aiohttp", basic("j\u00fcrgen", "x", "latin-1")),   # aiohttp's own BasicAuth, with its encoding
], ids=["pair", "pair-utf8", "basicauth", "basicauth-latin1", "aiohttp-basicauth"])
def test_request_auth_is_sent_as_basic_authorization(wire_impl: Wire, run: Any, app: App, auth: Any,
                                                     expected: str) -> None:
    if auth == "aiohttp":
        with warnings.catch_warnings():   # aiohttp 3.14 deprecates it; code being ported still passes one
            warnings.simplefilter("ignore", DeprecationWarning)
            auth = aiohttp.BasicAuth("j\u00fcrgen", "x")

    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            assert authorization(await echo(s, app.url("/echo"), auth=auth)) == [expected]
            assert authorization(await echo(s, app.url("/echo"))) == []   # the next request has none

    run(main())


def test_session_auth_is_sent_unless_the_request_has_its_own(wire_impl: Wire, run: Any, app: App) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl, auth=("s", "1")) as s:
            assert s.auth == ("s", "1")
            assert authorization(await echo(s, app.url("/echo"))) == [basic("s", "1")]
            assert authorization(await echo(s, app.url("/echo"), auth=("r", "2"))) == [basic("r", "2")]
            assert authorization(await echo(s, app.url("/echo"), headers={"Authorization": "Bearer t"})) == [
                "Bearer t"]
            url = str(URL(app.url("/echo")).with_user("u").with_password("3"))
            assert authorization(await echo(s, url)) == [basic("u", "3")]
            assert_settled(s.stats, idle=1)

    run(main())


def test_session_auth_with_base_url_goes_to_that_origin_only(wire_impl: Wire, run: Any, aiohttp_app: App) -> None:
    async def main() -> None:
        base = f"http://127.0.0.1:{aiohttp_app.port}/"
        async with ClientSession(base, wire=wire_impl, auth=("s", "1")) as s:
            assert authorization(await echo(s, "/echo")) == [basic("s", "1")]
            other = f"http://localhost:{aiohttp_app.port}/echo"   # the same server, another origin
            assert authorization(await echo(s, other)) == []

    run(main())


@pytest.mark.parametrize("where", ["request", "session"])
def test_auth_never_follows_a_redirect_to_another_origin(wire_impl: Wire, run: Any, aiohttp_app: App,
                                                         where: str) -> None:
    async def main() -> None:
        away = f"http://localhost:{aiohttp_app.port}/echo"
        hop = str(URL(aiohttp_app.url("/redirect/302")).with_query(to=away))
        same = str(URL(aiohttp_app.url("/redirect/302")).with_query(to="/echo"))
        kwargs = {"auth": ("user", "secret")}
        async with ClientSession(wire=wire_impl, **(kwargs if where == "session" else {})) as s:
            req = kwargs if where == "request" else {}
            assert authorization(await echo(s, same, **req)) == [basic("user", "secret")]
            assert authorization(await echo(s, hop, **req)) == []

    run(main())


@pytest.mark.parametrize("kwargs, url_credentials, message", [
    ({"headers": {"authorization": "Bearer t"}}, False, "Authorization header"),
    ({}, True, "credentials in the URL"),
], ids=["with-header", "with-url-credentials"])
def test_request_auth_beside_other_credentials_is_refused(wire_impl: Wire, run: Any, app: App,
                                                          kwargs: dict[str, Any], url_credentials: bool,
                                                          message: str) -> None:
    async def main() -> None:
        url = URL(app.url("/echo"))
        if url_credentials:
            url = url.with_user("u").with_password("p")
        async with ClientSession(wire=wire_impl) as s:
            with pytest.raises(wirespeed.InvalidRequest, match=message) as info:
                await s.get(url, auth=("user", "pw"), **kwargs)
            assert isinstance(info.value, ValueError) and info.value.method == "GET"
            assert s.stats.opened == 0   # refused before a connection was asked for

    run(main())


@pytest.mark.parametrize("auth, message", [
    ("user:pw", "pair of str or a BasicAuth, not str"),
    (("user",), "pair of str"),
    (("user", 5), "pair of str"),
    (("us:er", "pw"), "cannot contain ':'"),
    (BasicAuth("user", "\u20ac", "latin-1"), "cannot be encoded as latin-1"),
    (BasicAuth("user", "pw", "no-such-codec"), "cannot be encoded"),
], ids=["str", "one", "not-str", "colon", "unencodable", "unknown-encoding"])
def test_bad_auth_is_refused_with_a_typed_error(auth: Any, message: str) -> None:
    with pytest.raises(wirespeed.InvalidRequest, match=message):
        ClientSession(auth=auth)


@pytest.mark.parametrize("auth", [("us:er", "pw"), ["user", "pw"], BasicAuth("user", "\u20ac", "ascii")],
                         ids=["colon", "list", "unencodable"])
def test_bad_request_auth_is_refused_naming_the_request_before_anything_is_sent(wire_impl: Wire, run: Any,
                                                                                 app: App, auth: Any) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            with pytest.raises(wirespeed.InvalidRequest) as info:
                await s.post(app.url("/echo"), data=b"x", auth=auth)
            assert info.value.method == "POST" and str(info.value.url) == app.url("/echo")
            assert s.stats.opened == 0

    run(main())


def test_basic_auth_encodes_as_aiohttps_does() -> None:
    assert BasicAuth("user", "pa55").encode() == basic("user", "pa55")
    assert BasicAuth("j\u00fcrgen", "x", "latin-1").encode() == basic("j\u00fcrgen", "x", "latin-1")


def test_session_auth_beside_a_session_authorization_header_is_refused() -> None:
    with pytest.raises(wirespeed.InvalidRequest, match="Authorization header"):
        ClientSession(auth=("u", "p"), headers={"Authorization": "Bearer t"})


def test_a_middleware_sees_the_request_auth_as_its_authorization_header(wire_impl: Wire, run: Any,
                                                                         app: App) -> None:
    seen: list[str | None] = []

    async def look(request: wirespeed.ClientRequest, handler: wirespeed.ClientHandler) -> Any:
        seen.append(request.headers.get("Authorization"))
        return await handler(request)

    async def main() -> None:
        async with ClientSession(wire=wire_impl, middlewares=(look,)) as s:
            assert authorization(await echo(s, app.url("/echo"), auth=("u", "p"))) == [basic("u", "p")]
        assert seen == [basic("u", "p")]

    run(main())
