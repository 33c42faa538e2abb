"""The Python servers the client tests talk to: an aiohttp app and an ASGI app for uvicorn.

Run as a script in a subprocess by ``tests/support/servers.py``::

    python tests/support/client_apps.py aiohttp PORT [CERTFILE KEYFILE]
    python tests/support/client_apps.py uvicorn PORT

With a certificate the aiohttp app serves TLS, and records the name each
handshake asked for (SNI) for ``/sni``.  Both apps listen on 127.0.0.1 only
and serve the same routes, so one test table drives both:

- ``/small``: a short body with Content-Length (``SMALL``);
- ``/echo`` (any method): the request as JSON: method, path (decoded),
  target and query string (raw, as sent), the query as pairs, the headers as pairs (in arrival order), the
  body (latin-1 text), its length and SHA-256;
- ``/status/{code}``: that status, with a short body unless 1xx/204/304;
- ``/chunked?pieces=N&size=S``: N pieces of S bytes, chunked (no length);
- ``/stream?size=N``: N bytes with Content-Length, produced lazily block by
  block (``stream_block``), so a slow reader makes the server's writes wait;
  byte ``i`` of the body is ``i % 256``;
- ``/slow?delay=D``: sleeps D seconds, then answers; with ``&body=1`` it sends
  the head and the first half of the body at once and the rest after D;
- ``/gzip``, ``/deflate`` (zlib format, RFC 9110 §8.4.1.2), ``/br``: ``TEXT``
  compressed, with Content-Encoding and Content-Length;
- ``/json``: ``JSON_DOC``;
- ``/text?charset=C``: ``CHARSET_TEXT`` encoded in C, declared in
  Content-Type; ``/text?encode=C``: encoded in C, no charset declared;
- ``/form`` (POST): parses a urlencoded or multipart body and answers
  ``{"fields": {name: value}, "files": {name: {filename, size, sha256,
  content_type}}}``;
- ``/expect`` (POST): a body announced with ``Expect: 100-continue`` is
  answered 100 by the server itself, then the body's digest;
  ``/expect/417`` and ``/expect/413`` answer that final status at once,
  without reading the body (``Connection: close``);
- ``/close``: a small body and ``Connection: close``;
- ``/count``: ``{"connection": id, "requests": n}``: which TCP connection
  carried the request (numbered from 1 in order of first request) and how many
  requests it has carried, this one included;
- ``/redirect/{code}`` (any method): reads and discards the request body,
  then answers ``code`` with ``Location: <to>`` when the query has ``to``
  (none otherwise), one ``Set-Cookie`` line per ``cookie`` value, and a body
  of ``size`` bytes (``status {code}`` by default); ``/set-cookie`` is the
  same with status 200;
- ``/paths/{anything}`` (any method): the ``/echo`` document for any path
  under ``/paths/``; with ``to`` in the query, the ``/redirect`` answer with
  status ``code`` (302 by default), so relative ``Location`` values have a
  path to resolve against;
- ``/chain/{n}`` (any method): counted like ``/count``; while ``n > 0`` it
  redirects with ``code`` (302 by default) to ``/chain/{n-1}`` keeping the
  query (``cookies=1``: each hop also sets ``hop{n}=1``); ``/chain/0``
  answers ``{"connection", "requests", "method", "cookie", "length"}``: the
  connection's count, the method, the ``Cookie`` header and the body length
  that arrived at the end of the chain;
- aiohttp only: ``/http10`` (a raw ``HTTP/1.0`` response with
  Content-Length, then the server closes), ``/hints`` (``103 Early Hints``
  before the 200), ``/sni`` (TLS: the server name of this connection's
  handshake).
- aiohttp only, for the middleware tests: ``/digest/{algorithm}/{qop}/{name}``
  (the server side of RFC 7616 Digest, ``DigestServer``: ``algorithm`` one
  of ``DIGEST_ALGORITHMS``, ``qop`` ``auth``, ``auth-int``, ``both`` or
  ``none``; query flags ``userhash=1``, ``uses=N`` (a nonce is stale after N
  successes), ``nextnonce=1`` (``Authentication-Info`` with a new nonce));
  ``/basic`` (Basic, RFC 7617); ``/bearer/{token}`` (200 only for ``Bearer
  {token}``, 401 otherwise); each answers 200 with ``{"user" or "token",
  "method", "uri", "length", "sha256"}`` of the request; the users are
  ``AUTH_USERS``; ``/flaky/{key}/{failures}``: 503 (``size`` bytes of body,
  ``Retry-After: retry_after`` when given) for the first ``failures``
  requests of ``key``, then 200 with ``{"connection", "requests",
  "attempt"}``.

The constants are imported by the tests, so expectations are not copies.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import functools
import gzip
import hashlib
import json
import os
import sys
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

SMALL = b"a small response body\n"
#: Compressible, and long enough that the compressed form is much shorter.
TEXT = b"".join(b"line %05d: wirespeed decodes what the server compressed\n" % i for i in range(2000))
JSON_DOC: dict[str, Any] = {
    "name": "wirespeed", "numbers": [1, 2, 3], "nested": {"ok": True}, "text": "caf\u00e9 \u2603"
}
#: Encodable in latin-1, cp1252, utf-8 and utf-16, and not ASCII.
CHARSET_TEXT = "Gr\u00fc\u00dfe aus K\u00f6ln, caf\u00e9 cr\u00e8me"
#: Bytes per write of ``/stream`` (a multiple of 256, so every block is the same).
STREAM_BLOCK = 64 * 1024
HTTP10_BODY = b"an HTTP/1.0 response\n"
HINTS_BODY = b"after hints"


def stream_block(offset: int, size: int) -> bytes:
    """``size`` bytes of the ``/stream`` body from ``offset`` (byte ``i`` is ``i % 256``)."""
    start = offset % 256
    reps = (start + size) // 256 + 1
    return (bytes(range(256)) * reps)[start:start + size]


def stream_body(size: int) -> bytes:
    return stream_block(0, size)


@functools.cache
def compressed(coding: str) -> bytes:
    """``TEXT`` in ``coding``, computed once per process."""
    if coding == "gzip":
        return gzip.compress(TEXT, mtime=0)
    if coding == "deflate":
        return zlib.compress(TEXT)
    if coding == "br":
        import brotli

        return bytes(brotli.compress(TEXT, quality=5))  # the default, 11, takes ~0.3 s here
    raise ValueError(coding)


def digest(body: bytes) -> dict[str, Any]:
    return {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}


def echo_document(method: str, path: str, target: str, headers: list[tuple[str, str]], body: bytes) -> bytes:
    query_string = target.partition("?")[2]
    doc = {
        "method": method,
        "path": path,
        "target": target,
        "query_string": query_string,
        "query": [list(p) for p in parse_qsl(query_string, keep_blank_values=True)],
        "headers": [list(h) for h in headers],
        "body": body.decode("latin-1"),
        **digest(body),
    }
    return json.dumps(doc).encode()


def parse_form(content_type: str, body: bytes) -> dict[str, Any]:
    """A urlencoded or multipart/form-data body as ``{"fields": ..., "files": ...}`` (the ASGI app's parser)."""
    fields: dict[str, str] = {}
    files: dict[str, Any] = {}
    if content_type.startswith("application/x-www-form-urlencoded"):
        fields.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    elif content_type.startswith("multipart/form-data"):
        raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is None:
                fields[str(name)] = payload.decode(part.get_content_charset() or "utf-8")
            else:
                files[str(name)] = {"filename": filename, "content_type": part.get_content_type(), **_size(payload)}
    return {"fields": fields, "files": files}


def _size(payload: bytes) -> dict[str, Any]:
    return {"size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}


class ConnectionCounter:
    """Numbers TCP connections in order of their first request and counts each one's requests.

    A key names one connection for the life of the server: the aiohttp app's holds the
    connection's protocol object itself, the ASGI app's uvicorn's transport, each kept alive
    here, because a peer address and an ``id()`` can both come back for a later connection in
    a long run."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.counts: dict[Any, int] = {}

    def hit(self, key: Any) -> bytes:
        if key not in self.ids:
            self.ids[key] = len(self.ids) + 1
            self.counts[key] = 0
        self.counts[key] += 1
        return json.dumps({"connection": self.ids[key], "requests": self.counts[key]}).encode()


def redirect_reply(code: int, raw_query: str) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of ``/redirect/{code}``, ``/set-cookie`` and ``/paths/...?to=``."""
    headers = [("Content-Type", "text/plain")]
    body = f"status {code}".encode()
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        if name == "to":
            headers.append(("Location", value))
        elif name == "cookie":
            headers.append(("Set-Cookie", value))
        elif name == "size":
            body = b"r" * int(value)
    return code, headers, body


def chain_reply(n: int, raw_query: str, counted: bytes, method: str, cookie: str | None,
                length: int) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of ``/chain/{n}``; ``counted`` is the connection counter's document."""
    query = dict(parse_qsl(raw_query, keep_blank_values=True))
    if n <= 0:
        doc = {**json.loads(counted), "method": method, "cookie": cookie, "length": length}
        return 200, [("Content-Type", "application/json")], json.dumps(doc).encode()
    headers = [("Content-Type", "text/plain"),
               ("Location", f"/chain/{n - 1}" + (f"?{raw_query}" if raw_query else ""))]
    if query.get("cookies"):
        headers.append(("Set-Cookie", f"hop{n}=1; Path=/"))
    code = int(query.get("code", "302"))
    return code, headers, f"hop {n}".encode()


# --------------------------------------------------------------------------- aiohttp


def aiohttp_app(sni_names: dict[int, str | None] | None = None) -> Any:
    from aiohttp import web

    counter = ConnectionCounter()

    async def small(request: web.Request) -> web.StreamResponse:
        return web.Response(body=SMALL, content_type="text/plain")

    async def echo(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        raw = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.raw_headers]
        doc = echo_document(request.method, request.path, request.raw_path, raw, body)
        return web.Response(body=doc, content_type="application/json")

    async def status(request: web.Request) -> web.StreamResponse:
        code = int(request.match_info["code"])
        if code < 200 or code in (204, 304):
            return web.Response(status=code)
        return web.Response(status=code, text=f"status {code}")

    async def chunked(request: web.Request) -> web.StreamResponse:
        pieces, size = int(request.query.get("pieces", "4")), int(request.query.get("size", "10"))
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(pieces):
            await response.write(bytes([0x61 + i % 26]) * size)
        await response.write_eof()
        return response

    async def stream(request: web.Request) -> web.StreamResponse:
        size = int(request.query["size"])
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = size
        await response.prepare(request)
        block = stream_block(0, STREAM_BLOCK)
        sent = 0
        while sent < size:
            n = min(STREAM_BLOCK, size - sent)
            await response.write(block if n == STREAM_BLOCK else block[:n])
            sent += n
        await response.write_eof()
        return response

    async def slow(request: web.Request) -> web.StreamResponse:
        delay = float(request.query.get("delay", "1"))
        body = b"slow response body\n" * 4
        if request.query.get("body"):
            response = web.StreamResponse(headers={"Content-Type": "text/plain"})
            response.content_length = len(body)
            await response.prepare(request)
            await response.write(body[: len(body) // 2])
            await asyncio.sleep(delay)
            await response.write(body[len(body) // 2:])
            await response.write_eof()
            return response
        await asyncio.sleep(delay)
        return web.Response(body=body, content_type="text/plain")

    def encoded(coding: str) -> Any:
        data = compressed(coding)

        async def handler(request: web.Request) -> web.StreamResponse:
            return web.Response(body=data, headers={"Content-Encoding": coding, "Content-Type": "text/plain"})

        return handler

    async def json_doc(request: web.Request) -> web.StreamResponse:
        return web.Response(body=json.dumps(JSON_DOC).encode(), content_type="application/json")

    async def text(request: web.Request) -> web.StreamResponse:
        declared = request.query.get("charset")
        charset = declared or request.query.get("encode", "utf-8")
        ctype = f"text/plain; charset={declared}" if declared else "text/plain"
        return web.Response(body=CHARSET_TEXT.encode(charset), headers={"Content-Type": ctype})

    async def form(request: web.Request) -> web.StreamResponse:
        data = await request.post()
        fields: dict[str, str] = {}
        files: dict[str, Any] = {}
        for name, value in data.items():
            if isinstance(value, web.FileField):
                payload = value.file.read()
                files[name] = {"filename": value.filename, "content_type": value.content_type, **_size(payload)}
            else:
                fields[name] = str(value)
        body = json.dumps({"fields": fields, "files": files}).encode()
        return web.Response(body=body, content_type="application/json")

    async def expect(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        doc = {"expect": request.headers.get("Expect"), **digest(body)}
        return web.Response(body=json.dumps(doc).encode(), content_type="application/json")

    def reject(code: int) -> Any:
        async def expect_handler(request: web.Request) -> web.StreamResponse:
            # Returned from the expect handler, this is the final response and the body is never read.
            response = web.Response(status=code, text=f"rejected with {code}")
            response.force_close()
            return response

        return expect_handler

    async def rejected(request: web.Request) -> web.StreamResponse:
        # Reached only without Expect: 100-continue; still does not read the body.
        code = int(request.path.rsplit("/", 1)[1])
        response = web.Response(status=code, text=f"rejected with {code}")
        response.force_close()
        return response

    async def close(request: web.Request) -> web.StreamResponse:
        response = web.Response(text="closing")
        response.force_close()
        return response

    async def count(request: web.Request) -> web.StreamResponse:
        key = (request.transport.get_extra_info("peername") if request.transport else None, request.protocol)
        return web.Response(body=counter.hit(key), content_type="application/json")

    async def http10(request: web.Request) -> web.StreamResponse:
        # aiohttp answers in the request's version; this response is written raw.
        transport = request.transport
        assert transport is not None
        transport.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s"
                        % (len(HTTP10_BODY), HTTP10_BODY))
        request.protocol.force_close()
        transport.close()
        raise web.HTTPNoContent()  # never written: the transport is closing

    async def hints(request: web.Request) -> web.StreamResponse:
        await request.writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </small>; rel=preload\r\n\r\n")
        return web.Response(body=HINTS_BODY, content_type="text/plain")

    async def sni(request: web.Request) -> web.StreamResponse:
        ssl_object = request.transport.get_extra_info("ssl_object") if request.transport else None
        name = None if sni_names is None or ssl_object is None else sni_names.get(id(ssl_object))
        return web.Response(body=json.dumps({"server_name": name}).encode(), content_type="application/json")

    def reply(parts: tuple[int, list[tuple[str, str]], bytes]) -> web.Response:
        code, headers, body = parts
        response = web.Response(status=code, body=body)
        for name, value in headers:
            response.headers.add(name, value)
        return response

    async def redirect(request: web.Request) -> web.StreamResponse:
        await request.read()
        return reply(redirect_reply(int(request.match_info["code"]), request.rel_url.raw_query_string))

    async def set_cookie(request: web.Request) -> web.StreamResponse:
        await request.read()
        return reply(redirect_reply(200, request.rel_url.raw_query_string))

    async def paths(request: web.Request) -> web.StreamResponse:
        if "to" in request.query:
            await request.read()
            code = int(request.query.get("code", "302"))
            return reply(redirect_reply(code, request.rel_url.raw_query_string))
        return await echo(request)

    async def chain(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        key = (request.transport.get_extra_info("peername") if request.transport else None, request.protocol)
        return reply(chain_reply(int(request.match_info["n"]), request.rel_url.raw_query_string, counter.hit(key),
                                 request.method, request.headers.get("Cookie"), len(body)))

    app = web.Application(client_max_size=256 * 1024 * 1024)
    add_middleware_routes(app, counter)
    app.router.add_get("/small", small)
    app.router.add_route("*", "/echo", echo)
    app.router.add_route("*", "/status/{code}", status)
    app.router.add_get("/chunked", chunked)
    app.router.add_get("/stream", stream)
    app.router.add_get("/slow", slow)
    for coding in ("gzip", "deflate", "br"):
        app.router.add_get(f"/{coding}", encoded(coding))
    app.router.add_get("/json", json_doc)
    app.router.add_get("/text", text)
    app.router.add_post("/form", form)
    app.router.add_post("/expect", expect)
    for code in (417, 413):
        app.router.add_post(f"/expect/{code}", rejected, expect_handler=reject(code))
    app.router.add_get("/close", close)
    app.router.add_route("*", "/count", count)
    app.router.add_get("/http10", http10)
    app.router.add_get("/hints", hints)
    app.router.add_get("/sni", sni)
    app.router.add_route("*", "/redirect/{code}", redirect)
    app.router.add_route("*", "/set-cookie", set_cookie)
    app.router.add_route("*", "/paths/{tail:.*}", paths)
    app.router.add_route("*", "/chain/{n}", chain)
    return app


def tls_context(certfile: str, keyfile: str, sni_names: dict[int, str | None]) -> Any:
    import ssl

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(certfile, keyfile)

    def remember(ssl_object: Any, server_name: str | None, context: Any) -> None:
        sni_names[id(ssl_object)] = server_name

    ctx.sni_callback = remember
    return ctx


# --------------------------------------------------------------------------- the middleware tests' routes (aiohttp)

#: user -> password for ``/digest``, ``/basic`` (the RFC 7616 examples' users: one ASCII, one not).
AUTH_USERS = {"Mufasa": "Circle of Life", "J\u00e4s\u00f8n Doe": "Secret, or not?"}
DIGEST_REALM = "wirespeed@127.0.0.1"
#: RFC 7616 algorithm -> hashlib name (SHA-512-256 where OpenSSL has it); each also as ``-sess``.
DIGEST_ALGORITHMS = {"MD5": "md5", "SHA-256": "sha256",
                     **({"SHA-512-256": "sha512_256"} if "sha512_256" in hashlib.algorithms_available else {})}
_QOPS = {"auth": "auth", "auth-int": "auth-int", "both": "auth,auth-int", "none": None}


def parse_auth_params(text: str) -> dict[str, str]:
    """``name=value`` pairs of an Authorization value after its scheme (quoted values unescaped)."""
    import re

    found: dict[str, str] = {}
    for m in re.finditer(r'([A-Za-z0-9_*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))', text):
        quoted, bare = m.group(2), m.group(3)
        found.setdefault(m.group(1).lower(), re.sub(r"\\(.)", r"\1", quoted) if quoted is not None else bare)
    return found


class DigestServer:
    """The server side of RFC 7616, kept apart from the client's code: challenges, and checks of answers.

    Nonces are random, remembered with the nonce counts already seen (a
    replayed count is refused) and how many requests they authorised.
    """

    def __init__(self) -> None:
        self.nonces: dict[str, tuple[int, set[str]]] = {}
        self.opaque = os.urandom(8).hex()

    def new_nonce(self) -> str:
        import secrets

        nonce = secrets.token_urlsafe(24)
        self.nonces[nonce] = (0, set())
        return nonce

    def challenge(self, algorithm: str, qop: str, userhash: bool, stale: bool = False) -> str:
        parts = [f'realm="{DIGEST_REALM}"']
        if _QOPS[qop] is not None:
            parts.append(f'qop="{_QOPS[qop]}"')
        parts += [f"algorithm={algorithm}", f'nonce="{self.new_nonce()}"', f'opaque="{self.opaque}"', "charset=UTF-8"]
        if userhash:
            parts.append("userhash=true")
        if stale:
            parts.append("stale=true")
        return "Digest " + ", ".join(parts)

    @staticmethod
    def h(algorithm: str, data: bytes) -> str:
        return hashlib.new(DIGEST_ALGORITHMS[algorithm.upper().removesuffix("-SESS")], data).hexdigest()

    def check(self, authorization: str, method: str, uri: str, body: bytes, algorithm: str, qop: str,
              userhash: bool, uses: int) -> tuple[str, str]:
        """``("ok", user)``, ``("stale", why)`` or ``("refused", why)``."""
        from urllib.parse import unquote

        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() != "digest":
            return "refused", "not Digest"
        p = parse_auth_params(rest)
        nonce = p.get("nonce", "")
        if nonce not in self.nonces:
            return "refused", "unknown nonce"
        if p.get("realm") != DIGEST_REALM or p.get("opaque") != self.opaque or p.get("uri") != uri:
            return "refused", f"realm, opaque or uri differ (uri {p.get('uri')!r}, request {uri!r})"
        if p.get("algorithm", "MD5").upper() != algorithm.upper():
            return "refused", "another algorithm"

        def h(text: str | bytes) -> str:
            return self.h(algorithm, text.encode("utf-8") if isinstance(text, str) else text)

        if userhash:
            if p.get("userhash") != "true":
                return "refused", "userhash=true was asked for"
            users = [u for u in AUTH_USERS if h(f"{u}:{DIGEST_REALM}") == p.get("username")]
        elif "username*" in p:
            charset, _, encoded = p["username*"].partition("''")
            users = [unquote(encoded, encoding=charset or "utf-8")]
        else:
            users = [p.get("username", "")]
        user = users[0] if users else ""
        if user not in AUTH_USERS:
            return "refused", "unknown user"
        offered = (_QOPS[qop] or "").split(",")
        chosen = p.get("qop")
        if (chosen is None) != (_QOPS[qop] is None) or (chosen is not None and chosen not in offered):
            return "refused", f"qop {chosen!r} was not offered"
        nc, cnonce = p.get("nc", ""), p.get("cnonce", "")
        count, seen = self.nonces[nonce]
        if chosen is not None and (nc in seen or len(nc) != 8 or not cnonce):
            return "refused", "a replayed or malformed nonce count"
        ha1 = h(f"{user}:{DIGEST_REALM}:{AUTH_USERS[user]}")
        if algorithm.upper().endswith("-SESS"):
            ha1 = h(f"{ha1}:{nonce}:{cnonce}")
        ha2 = h(f"{method}:{uri}" + (f":{h(body)}" if chosen == "auth-int" else ""))
        expected = h(f"{ha1}:{nonce}:{nc}:{cnonce}:{chosen}:{ha2}") if chosen else h(f"{ha1}:{nonce}:{ha2}")
        if p.get("response") != expected:
            return "refused", "wrong response"
        if uses and count >= uses:
            return "stale", "the nonce is used up"
        seen.add(nc)
        self.nonces[nonce] = (count + 1, seen)
        return "ok", user

    def info(self, algorithm: str) -> str:
        """``Authentication-Info`` with a fresh ``nextnonce`` (RFC 7616 §3.5; ``rspauth`` left out)."""
        return f'nextnonce="{self.new_nonce()}"'


def add_middleware_routes(app: Any, counter: ConnectionCounter) -> None:
    """``/digest/...``, ``/basic``, ``/bearer/{token}`` and ``/flaky/...`` on the aiohttp app."""
    import base64

    from aiohttp import web

    digest_server = DigestServer()
    flaky_counts: dict[str, int] = {}

    def granted(request: web.Request, body: bytes, **who: str) -> web.Response:
        doc = {**who, "method": request.method, "uri": request.raw_path, **digest(body)}
        return web.Response(body=json.dumps(doc).encode(), content_type="application/json")

    async def digest_route(request: web.Request) -> web.StreamResponse:
        algorithm, qop = request.match_info["algorithm"], request.match_info["qop"]
        if algorithm.upper().removesuffix("-SESS") not in DIGEST_ALGORITHMS or qop not in _QOPS:
            raise web.HTTPNotFound()
        body = await request.read()
        userhash = request.query.get("userhash") == "1"
        stale = False
        authorization = request.headers.get("Authorization")
        if authorization:
            outcome, detail = digest_server.check(authorization, request.method, request.raw_path, body, algorithm,
                                                  qop, userhash, int(request.query.get("uses", "0")))
            if outcome == "ok":
                response = granted(request, body, user=detail)
                if request.query.get("nextnonce") == "1":
                    response.headers["Authentication-Info"] = digest_server.info(algorithm)
                return response
            stale = outcome == "stale"
        return web.Response(status=401, text="digest required",
                            headers={"WWW-Authenticate": digest_server.challenge(algorithm, qop, userhash, stale)})

    async def basic_route(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "basic":
            user, _, password = base64.b64decode(token).decode("utf-8").partition(":")
            if AUTH_USERS.get(user) == password:
                return granted(request, body, user=user)
        return web.Response(status=401, text="basic required",
                            headers={"WWW-Authenticate": f'Basic realm="{DIGEST_REALM}", charset="UTF-8"'})

    async def bearer_route(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        token = request.match_info["token"]
        if request.headers.get("Authorization") == f"Bearer {token}":
            return granted(request, body, token=token)
        return web.Response(status=401, text="token required",
                            headers={"WWW-Authenticate": 'Bearer realm="wirespeed", error="invalid_token"'})

    async def flaky_route(request: web.Request) -> web.StreamResponse:
        await request.read()
        key, failures = request.match_info["key"], int(request.match_info["failures"])
        attempt = flaky_counts[key] = flaky_counts.get(key, 0) + 1
        peer = (request.transport.get_extra_info("peername") if request.transport else None, request.protocol)
        counted = counter.hit(peer)
        if attempt <= failures:
            headers = {"Retry-After": request.query["retry_after"]} if "retry_after" in request.query else {}
            return web.Response(status=503, body=b"u" * int(request.query.get("size", "11")), headers=headers)
        doc = {**json.loads(counted), "attempt": attempt}
        return web.Response(body=json.dumps(doc).encode(), content_type="application/json")

    app.router.add_route("*", "/digest/{algorithm}/{qop}/{name}", digest_route)
    app.router.add_route("*", "/basic", basic_route)
    app.router.add_route("*", "/bearer/{token}", bearer_route)
    app.router.add_route("*", "/flaky/{key}/{failures}", flaky_route)


# --------------------------------------------------------------------------- ASGI (uvicorn)


def _asgi_connection(scope: Any, send: Any) -> Any:
    """What names one connection to the ASGI app: uvicorn's transport for it, held by the request
    cycle whose ``send`` this is (kept alive by the counter, so never confused with a later one);
    the peer address only if that is not there (a peer port comes back in a long run)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    return transport if transport is not None else tuple(scope["client"])


def asgi_app() -> Any:
    counter = ConnectionCounter()

    async def read_body(receive: Any) -> bytes:
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return bytes(body)
            body += message.get("body", b"")
            if not message.get("more_body", False):
                return bytes(body)

    async def respond(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> None:
        if status >= 200 and status not in (204, 304):
            headers = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def respond_parts(send: Any, parts: tuple[int, list[tuple[str, str]], bytes]) -> None:
        code, fields, body = parts
        await respond(send, code, [(k.lower().encode("latin-1"), v.encode("utf-8")) for k, v in fields], body)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path, method = scope["path"], scope["method"]
        query_string = scope["query_string"].decode("latin-1")
        query = dict(parse_qsl(query_string, keep_blank_values=True))
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        lower = {k.lower(): v for k, v in headers}
        text_plain = [(b"content-type", b"text/plain")]
        json_type = [(b"content-type", b"application/json")]

        if path == "/small":
            await respond(send, 200, text_plain, SMALL)
        elif path == "/echo":
            body = await read_body(receive)
            raw_path = scope.get("raw_path") or path.encode()
            target = raw_path.decode("latin-1") + ("?" + query_string if query_string else "")
            await respond(send, 200, json_type, echo_document(method, path, target, headers, body))
        elif path.startswith("/status/"):
            code = int(path[len("/status/"):])
            body = b"" if code < 200 or code in (204, 304) else f"status {code}".encode()
            await respond(send, code, text_plain, body)
        elif path == "/chunked":
            pieces, size = int(query.get("pieces", "4")), int(query.get("size", "10"))
            # No content-length: uvicorn frames the body with chunked coding.
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/octet-stream")]})
            for i in range(pieces):
                await send({"type": "http.response.body", "body": bytes([0x61 + i % 26]) * size, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        elif path == "/stream":
            size = int(query["size"])
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"application/octet-stream"), (b"content-length", str(size).encode())]})
            block = stream_block(0, STREAM_BLOCK)
            sent = 0
            while sent < size:
                n = min(STREAM_BLOCK, size - sent)
                sent += n
                await send({"type": "http.response.body", "body": block if n == STREAM_BLOCK else block[:n],
                            "more_body": sent < size})
            if size == 0:
                await send({"type": "http.response.body", "body": b""})
        elif path == "/slow":
            delay = float(query.get("delay", "1"))
            body = b"slow response body\n" * 4
            if query.get("body"):
                await send({"type": "http.response.start", "status": 200, "headers": [
                    *text_plain, (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True})
                await asyncio.sleep(delay)
                await send({"type": "http.response.body", "body": body[len(body) // 2:]})
            else:
                await asyncio.sleep(delay)
                await respond(send, 200, text_plain, body)
        elif path in ("/gzip", "/deflate", "/br"):
            coding = path[1:]
            await respond(send, 200, [*text_plain, (b"content-encoding", coding.encode())], compressed(coding))
        elif path == "/json":
            await respond(send, 200, json_type, json.dumps(JSON_DOC).encode())
        elif path == "/text":
            declared = query.get("charset")
            charset = declared or query.get("encode", "utf-8")
            ctype = f"text/plain; charset={declared}" if declared else "text/plain"
            await respond(send, 200, [(b"content-type", ctype.encode())], CHARSET_TEXT.encode(charset))
        elif path == "/form" and method == "POST":
            body = await read_body(receive)
            doc = parse_form(lower.get("content-type", ""), body)
            await respond(send, 200, json_type, json.dumps(doc).encode())
        elif path == "/expect" and method == "POST":
            # uvicorn sends 100 Continue itself on the first receive().
            body = await read_body(receive)
            doc = {"expect": lower.get("expect"), **digest(body)}
            await respond(send, 200, json_type, json.dumps(doc).encode())
        elif path in ("/expect/417", "/expect/413") and method == "POST":
            code = int(path.rsplit("/", 1)[1])
            await respond(send, code, [*text_plain, (b"connection", b"close")], f"rejected with {code}".encode())
        elif path == "/close":
            await respond(send, 200, [*text_plain, (b"connection", b"close")], b"closing")
        elif path == "/count":
            await respond(send, 200, json_type, counter.hit(_asgi_connection(scope, send)))
        elif path.startswith("/redirect/") or path == "/set-cookie" or (path.startswith("/paths/") and "to" in query):
            await read_body(receive)
            if path == "/set-cookie":
                code = 200
            elif path.startswith("/paths/"):
                code = int(query.get("code", "302"))
            else:
                code = int(path[len("/redirect/"):])
            await respond_parts(send, redirect_reply(code, query_string))
        elif path.startswith("/paths/"):
            body = await read_body(receive)
            raw_path = scope.get("raw_path") or path.encode()
            target = raw_path.decode("latin-1") + ("?" + query_string if query_string else "")
            await respond(send, 200, json_type, echo_document(method, path, target, headers, body))
        elif path.startswith("/chain/"):
            body = await read_body(receive)
            counted = counter.hit(_asgi_connection(scope, send))
            await respond_parts(send, chain_reply(int(path[len("/chain/"):]), query_string, counted, method,
                                                  lower.get("cookie"), len(body)))
        else:
            await respond(send, 404, text_plain, b"not found")

    return app


def main(argv: list[str]) -> None:
    kind, port = argv[0], int(argv[1])
    if kind == "aiohttp":
        from aiohttp import web

        sni_names: dict[int, str | None] = {}
        ssl_context = tls_context(argv[2], argv[3], sni_names) if len(argv) > 2 else None
        web.run_app(aiohttp_app(sni_names), host="127.0.0.1", port=port, ssl_context=ssl_context,
                    print=None, access_log=None, shutdown_timeout=1.0)
    elif kind == "uvicorn":
        import uvicorn

        uvicorn.run(asgi_app(), host="127.0.0.1", port=port, http="httptools", log_level="warning",
                    lifespan="on", timeout_graceful_shutdown=1)
    else:
        raise SystemExit(f"unknown server kind {kind!r}")


if __name__ == "__main__":
    os.chdir(Path(__file__).resolve().parent)
    main(sys.argv[1:])
