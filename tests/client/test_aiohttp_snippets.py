"""aiohttp's client quickstart, run as written and then renamed to wirespeed: both must see the same thing.

Each snippet below is the code of aiohttp's client quickstart
(docs.aiohttp.org, "Client Quickstart" and "Advanced Client Usage"), with
``http://httpbin.org`` replaced by ``BASE``, a local aiohttp.web app that
answers like httpbin.  The wirespeed version is *not* written by hand: it is
the same text with the replacements of ``RENAMES`` applied, in order, and
nothing else.  Every rename must be listed in ``docs/migrating.md`` (checked
below), so the test proves that the table there is enough to port these
snippets.  Each snippet ``print``s what it observes; the printed lines of
the aiohttp run and of the wirespeed run must be equal.

Differences that the renames cannot express (``max_redirects`` counts
differently, ``filter_cookies`` returns a dict) are in docs/migrating.md and
not used here.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import re
import socket
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import wirespeed
from support.forward_proxy import ForwardProxy
from wirespeed.wire import Wire

DOC = Path(__file__).resolve().parents[2] / "docs" / "migrating.md"


@dataclass(frozen=True)
class Rename:
    """A replacement applied to the aiohttp text; ``old`` and ``new`` are how docs/migrating.md lists it."""

    pattern: str     # a regular expression
    replacement: str
    old: str
    new: str


#: The whole port, applied in this order.  The last rule is the one for names that are the same.
RENAMES = [
    Rename(r"\bimport aiohttp\b", "import wirespeed", "import aiohttp", "import wirespeed"),
    Rename(r"connector=aiohttp\.TCPConnector\(([^()]*)\)", r"\1",
           "connector=aiohttp.TCPConnector(limit=", "ClientSession(limit="),
    Rename(r"aiohttp\.BasicAuth\(([^()]*)\)", r"(\1)", "proxy_auth=aiohttp.BasicAuth(", "proxy_auth=("),
    Rename(r"\bsock_connect=", "connect=", "sock_connect=", "connect="),
    Rename(r"\bsock_read=", "read=", "sock_read=", "read="),
    Rename(r"\baiohttp\.(ClientConnectorError|ClientSSLError)\b", "wirespeed.ConnectError",
           "aiohttp.ClientConnectorError", "wirespeed.ConnectError"),
    Rename(r"\baiohttp\.ServerTimeoutError\b", "(wirespeed.ConnectTimeout, wirespeed.ReadTimeout)",
           "aiohttp.ServerTimeoutError", "(wirespeed.ConnectTimeout, wirespeed.ReadTimeout)"),
    Rename(r"\baiohttp\.ClientHttpProxyError\b", "wirespeed.ProxyError",
           "aiohttp.ClientHttpProxyError", "wirespeed.ProxyError"),
    Rename(r"\baiohttp\.ContentTypeError\b", "wirespeed.ClientResponseError",
           "aiohttp.ContentTypeError", "wirespeed.ClientResponseError"),
    Rename(r"\baiohttp\.", "wirespeed.", "aiohttp.X", "wirespeed.X"),
]


def port(text: str) -> str:
    """The aiohttp snippet ``text`` renamed to wirespeed by ``RENAMES``."""
    for rule in RENAMES:
        text = re.sub(rule.pattern, rule.replacement, text)
    return text


# --------------------------------------------------------------------------- the snippets, as aiohttp documents them

SNIPPETS = {
    "get": """
import aiohttp

async def main():
    async with aiohttp.ClientSession() as session:
        async with session.get(BASE + '/get') as resp:
            print(resp.status)
            print(await resp.text())
""",
    "params": """
import aiohttp

async def main():
    async with aiohttp.ClientSession() as session:
        params = {'key1': 'value1', 'key2': 'value2'}
        async with session.get(BASE + '/get', params=params) as resp:
            print(str(resp.url))
        params = [('key', 'value1'), ('key', 'value2')]
        async with session.get(BASE + '/get', params=params) as r:
            print(str(r.url))
        async with session.get(BASE + '/get', params='key=value+1') as r:
            print(str(r.url))
            print(await r.json())
""",
    "post-json": """
import aiohttp

async def main():
    async with aiohttp.ClientSession() as session:
        async with session.post(BASE + '/post', json={'test': 'object'}) as resp:
            print(resp.status)
            print(await resp.json())
""",
    "post-form": """
import aiohttp

async def main():
    payload = {'key1': 'value1', 'key2': 'value2'}
    async with aiohttp.ClientSession() as session:
        async with session.post(BASE + '/post', data=payload) as resp:
            print(await resp.text())
""",
    "post-multipart": """
import aiohttp

async def main():
    path = TMP / 'report.xls'
    path.write_bytes(b'spreadsheet ' * 1000)
    url = BASE + '/post'
    data = aiohttp.FormData()
    data.add_field('file',
                   open(path, 'rb'),
                   filename='report.xls',
                   content_type='application/vnd.ms-excel')
    data.add_field('note', 'quarterly')
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=data) as resp:
            print(await resp.json())
""",
    "streaming-upload": """
import aiohttp

async def file_sender(file_name=None):
    with open(file_name, 'rb') as f:
        chunk = f.read(64*1024)
        while chunk:
            yield chunk
            chunk = f.read(64*1024)

async def main():
    path = TMP / 'huge_file'
    path.write_bytes(bytes(range(256)) * 2000)
    async with aiohttp.ClientSession() as session:
        async with session.post(BASE + '/post', data=file_sender(file_name=path)) as resp:
            print(await resp.text())
""",
    "custom-headers": """
import aiohttp

async def main():
    headers = {"Authorization": "Basic bG9naW46cGFzcw=="}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(BASE + '/headers') as r:
            print(await r.json())
        url = BASE + '/post'
        payload = b'GIF89a\\x01\\x00\\x01\\x00\\x00\\xff\\x00,\\x00\\x00\\x00\\x00\\x01\\x00\\x01\\x00\\x00\\x02\\x00;'
        headers = {'content-type': 'image/gif'}
        async with session.post(url, data=payload, headers=headers) as r:
            print(await r.json())
""",
    "streaming-download": """
import aiohttp

async def main():
    filename = TMP / 'download.bin'
    chunk_size = 4096
    async with aiohttp.ClientSession() as session:
        async with session.get(BASE + '/stream-bytes/300000') as resp:
            print(await resp.content.read(10))
            with open(filename, 'wb') as fd:
                async for chunk in resp.content.iter_chunked(chunk_size):
                    fd.write(chunk)
    print(filename.stat().st_size, sha256(filename.read_bytes()))
""",
    "timeouts": """
import asyncio
import aiohttp

async def main():
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.get(BASE + '/get') as resp:
            print(resp.status)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=5, sock_read=0.3)
        try:
            async with session.get(BASE + '/delay/2', timeout=timeout) as resp:
                print(await resp.text())
        except asyncio.TimeoutError:
            print('timed out')
        try:
            async with session.get(BASE + '/delay/2', timeout=aiohttp.ClientTimeout(total=0.3)) as resp:
                print(await resp.text())
        except asyncio.TimeoutError:
            print('timed out')
""",
    "cookies": """
import aiohttp

async def main():
    url = BASE + '/cookies'
    cookies = {'cookies_are': 'working'}
    async with aiohttp.ClientSession(cookies=cookies) as session:
        async with session.get(url) as resp:
            assert await resp.json() == {
               "cookies": {"cookies_are": "working"}}
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(BASE + '/cookies/set?k1=v1') as resp:
            print(await resp.json())
        print(len(session.cookie_jar))
        async with session.get(url, cookies={'k2': 'v2'}) as resp:
            print(await resp.json())
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        async with session.get(BASE + '/cookies/set?k1=v1') as resp:
            print(await resp.json())
""",
    "redirects": """
import aiohttp

async def main():
    async with aiohttp.ClientSession() as session:
        async with session.get(BASE + '/redirect/2') as resp:
            print(resp.status, str(resp.url))
            print([(r.status, str(r.url)) for r in resp.history])
        async with session.get(BASE + '/redirect/1', allow_redirects=False) as resp:
            print(resp.status, resp.headers['Location'], resp.history)
        try:
            async with session.get(BASE + '/redirect/5', max_redirects=2) as resp:
                print(resp.status)
        except aiohttp.TooManyRedirects:
            print('too many redirects')
""",
    "errors": """
import aiohttp

async def main():
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        try:
            async with session.get(BASE + '/status/404') as resp:
                print(resp.status)
        except aiohttp.ClientResponseError as e:
            print('error', e.status)
    async with aiohttp.ClientSession() as session:
        async with session.get(BASE + '/status/500') as resp:
            print(resp.ok)
            try:
                resp.raise_for_status()
            except aiohttp.ClientResponseError as e:
                print('error', e.status)
        try:
            await session.get(NOWHERE)
        except aiohttp.ClientConnectorError:
            print('cannot connect')
        except aiohttp.ClientError:
            print('another client error')
""",
    "connector-limits-and-base-url": """
import asyncio
import aiohttp

async def fetch(session, i):
    async with session.get('/get', params={'i': i}) as resp:
        return (await resp.json())['args']

async def main():
    async with aiohttp.ClientSession(BASE, connector=aiohttp.TCPConnector(limit=2, limit_per_host=2)) as session:
        print(await asyncio.gather(*(fetch(session, i) for i in range(6))))
""",
    "proxy": """
import aiohttp

async def main():
    async with aiohttp.ClientSession() as session:
        async with session.get(BASE + '/get', proxy=PROXY_WITH_CREDENTIALS) as resp:
            print(resp.status, (await resp.json())['via'])
""",
}


def test_every_rename_is_listed_in_docs_migrating_md() -> None:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    for rule in RENAMES:
        # ``new`` must be on the line besides ``old`` ("connect=" is inside "sock_connect=")
        assert any(rule.old in line and rule.new in line.replace(rule.old, "") for line in lines), (
            f"docs/migrating.md has no line listing {rule.old!r} -> {rule.new!r}")


def test_every_name_a_rename_gives_exists() -> None:
    for rule in RENAMES:
        for used in re.findall(r"\bwirespeed\.(\w+)", rule.replacement):
            assert hasattr(wirespeed, used), f"wirespeed.{used} does not exist"


def test_the_generic_rename_covers_only_names_wirespeed_has() -> None:
    doc = DOC.read_text(encoding="utf-8")
    (row,) = [line for line in doc.splitlines() if line.startswith("| `aiohttp.X` for ")]
    for name in re.findall(r"`(\w+)`", row.split("|")[1]):
        assert hasattr(wirespeed, name), f"docs/migrating.md lists wirespeed.{name}, which does not exist"


@pytest.mark.parametrize("name", SNIPPETS)
def test_the_port_is_only_renames_and_every_name_exists(name: str) -> None:
    ported = port(SNIPPETS[name])
    assert "aiohttp" not in ported
    for used in re.findall(r"\bwirespeed\.(\w+)", ported):
        assert hasattr(wirespeed, used), f"wirespeed.{used} does not exist"


# --------------------------------------------------------------------------- the local httpbin


def _stream_bytes(n: int) -> bytes:
    return bytes(i * 7 % 251 for i in range(n))


def httpbin() -> web.Application:
    """The httpbin routes the snippets use, answering only what both clients send alike."""

    async def get(request: web.Request) -> web.Response:
        return web.json_response({"args": dict(request.query), "url": str(request.url),
                                  "via": request.headers.get("Via")})

    async def post(request: web.Request) -> web.Response:
        doc: dict[str, Any] = {"content_type": request.content_type, "form": {}, "files": {}, "json": None}
        if request.content_type == "application/json":
            doc["json"] = await request.json()
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    body = value.file.read()
                    doc["files"][key] = [value.filename, value.content_type, len(body),
                                         hashlib.sha256(body).hexdigest()]
                else:
                    doc["form"][key] = value
        else:
            body = await request.read()
            doc["data"] = [len(body), hashlib.sha256(body).hexdigest()]
        return web.json_response(doc)

    async def headers(request: web.Request) -> web.Response:
        return web.json_response({"headers": {k: v for k, v in request.headers.items()
                                              if k.lower() in ("authorization", "content-type", "cookie")}})

    async def cookies(request: web.Request) -> web.Response:
        return web.json_response({"cookies": dict(request.cookies)})

    async def cookies_set(request: web.Request) -> web.Response:
        response = web.Response(status=302, headers={"Location": "/cookies"})
        for key, value in request.query.items():
            response.set_cookie(key, value, path="/")
        return response

    async def redirect(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        return web.Response(status=302, headers={"Location": f"/redirect/{n - 1}" if n > 1 else "/get"})

    async def stream_bytes(request: web.Request) -> web.StreamResponse:
        data = _stream_bytes(int(request.match_info["n"]))
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(0, len(data), 10_000):
            await response.write(data[i:i + 10_000])
        await response.write_eof()
        return response

    async def delay(request: web.Request) -> web.Response:
        await asyncio.sleep(float(request.match_info["s"]))
        return web.json_response({"delayed": True})

    async def status(request: web.Request) -> web.Response:
        return web.Response(status=int(request.match_info["code"]))

    app = web.Application()
    app.router.add_get("/get", get)
    app.router.add_post("/post", post)
    app.router.add_get("/headers", headers)
    app.router.add_get("/cookies", cookies)
    app.router.add_get("/cookies/set", cookies_set)
    app.router.add_get("/redirect/{n}", redirect)
    app.router.add_get("/stream-bytes/{n}", stream_bytes)
    app.router.add_get("/delay/{s}", delay)
    app.router.add_get("/status/{code}", status)
    return app


@asynccontextmanager
async def serving() -> AsyncIterator[str]:
    runner = web.AppRunner(httpbin())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_snippet(text: str, name: str, base: str, tmp: Path, proxy: str) -> list[str]:
    """Execute ``text`` and return what it printed, one string per ``print`` call."""
    printed: list[str] = []
    tmp.mkdir()
    namespace: dict[str, Any] = {
        "__name__": f"snippet_{name}",
        "BASE": base,
        "TMP": tmp,
        "NOWHERE": f"http://127.0.0.1:{closed_port()}/",
        "PROXY_WITH_CREDENTIALS": proxy,
        "sha256": lambda data: hashlib.sha256(data).hexdigest(),
        "print": lambda *args: printed.append(" ".join(str(a) for a in args)),
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        exec(compile(text, f"<{name}>", "exec"), namespace)
        await namespace["main"]()
        namespace.clear()
        gc.collect()
    # A file the snippet handed over and never closed itself (aiohttp closes what it was given to send).
    printed += [f"left open: {Path(m[1]).name}" for w in caught if issubclass(w.category, ResourceWarning)
                and (m := re.search(r"unclosed file .*name='([^']*)'", str(w.message)))]
    return printed


@pytest.mark.parametrize("name", SNIPPETS)
def test_the_snippet_sees_the_same_with_aiohttp_and_with_wirespeed(wire_impl: Wire, run: Any, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch,
                                                                   name: str) -> None:
    # The ported text names no twin: the session takes the default one, made this test's twin here.
    monkeypatch.setattr(wirespeed.wire, "default", lambda: wire_impl)

    async def main() -> None:
        async with serving() as base, ForwardProxy(auth=("user", "pass")) as proxy:
            proxy_url = str(proxy.url.with_user("user").with_password("pass"))
            with_aiohttp = await run_snippet(SNIPPETS[name], name, base, tmp_path / "aiohttp", proxy_url)
            with_wirespeed = await run_snippet(port(SNIPPETS[name]), name, base, tmp_path / "wirespeed", proxy_url)
            assert with_aiohttp, "the snippet printed nothing"
            assert with_wirespeed == with_aiohttp
            if name == "proxy":
                assert [r.status for r in proxy.requests] == [200, 200]

    run(main())
