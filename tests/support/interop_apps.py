"""The Python servers the interop tests talk to: an aiohttp app and an ASGI app for uvicorn.

Run as a script in a subprocess by ``tests/support/servers.py``::

    python tests/support/interop_apps.py aiohttp PORT DOCROOT
    python tests/support/interop_apps.py uvicorn PORT DOCROOT httptools|h11

Both apps serve the same routes, so one test table drives both:

- ``/static/<name>``: a file of DOCROOT, with ETag, ``If-None-Match`` (304),
  a single ``Range`` (206) and HEAD;
- ``/stream?pieces=N&size=S``: N pieces of S bytes each, chunked (no length);
- ``/gzip/<name>``: the file gzip-compressed while it streams, chunked;
- ``/close``: a small body and ``Connection: close``;
- ``/empty``: 204;
- ``/echo`` (POST): reads the whole request body and answers its length
  and SHA-256 as JSON (a chunked request too); a request with
  ``Expect: 100-continue`` is answered 100 first, by the server itself;
- ``/hints`` (aiohttp only): an interim ``103 Early Hints`` before the 200.

They listen on 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zlib
from pathlib import Path
from typing import Any

#: Bytes read from a file per streamed piece (the size asyncio reads per recv).
READ_SIZE = 256 * 1024


def file_etag(path: Path) -> str:
    st = path.stat()
    return f'"{st.st_size:x}-{st.st_mtime_ns:x}"'


def parse_range(value: str, size: int) -> tuple[int, int] | None:
    """One ``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` range (RFC 9110 §14.1.2), end exclusive; None if unusable."""
    if not value.startswith("bytes=") or "," in value:
        return None
    first, _, last = value[len("bytes="):].strip().partition("-")
    try:
        if first == "":
            start, end = max(size - int(last), 0), size
        else:
            start = int(first)
            end = min(int(last) + 1, size) if last else size
    except ValueError:
        return None
    if start >= end:
        return None
    return start, end


def digest(body: bytes) -> bytes:
    return json.dumps({"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}).encode()


def gzip_pieces(path: Path) -> Any:
    """The file gzip-compressed (RFC 1952) piece by piece, as a streaming server does."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    with path.open("rb") as f:
        while block := f.read(READ_SIZE):
            out = compressor.compress(block)
            if out:
                yield out
    yield compressor.flush()


# --------------------------------------------------------------------------- aiohttp


def aiohttp_app(root: Path) -> Any:
    from aiohttp import web

    def static_file(request: web.Request) -> Path:
        path = (root / request.match_info["name"]).resolve()
        if path.parent != root or not path.is_file():
            raise web.HTTPNotFound()
        return path

    async def static(request: web.Request) -> web.StreamResponse:
        path = static_file(request)
        etag = file_etag(path)
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        data = path.read_bytes()
        headers = {"ETag": etag, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        rng = parse_range(request.headers.get("Range", ""), len(data))
        if rng is not None:
            start, end = rng
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
            return web.Response(status=206, body=data[start:end], headers=headers)
        return web.Response(body=data, headers=headers)

    async def stream(request: web.Request) -> web.StreamResponse:
        pieces, size = int(request.query["pieces"]), int(request.query["size"])
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for i in range(pieces):
            await response.write(bytes([0x61 + i % 26]) * size)
        await response.write_eof()
        return response

    async def gzip(request: web.Request) -> web.StreamResponse:
        path = static_file(request)
        response = web.StreamResponse(headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for out in gzip_pieces(path):
            await response.write(out)
        await response.write_eof()
        return response

    async def close(request: web.Request) -> web.StreamResponse:
        response = web.Response(text="closing")
        response.force_close()
        return response

    async def empty(request: web.Request) -> web.StreamResponse:
        return web.Response(status=204)

    async def echo(request: web.Request) -> web.StreamResponse:
        return web.Response(body=digest(await request.read()), content_type="application/json")

    async def hints(request: web.Request) -> web.StreamResponse:
        # aiohttp has no API for 1xx other than 100; its own expect handler
        # writes the interim head through the request's writer, as this does.
        await request.writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </static/small.txt>; rel=preload\r\n\r\n")
        return web.Response(text="after hints")

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_get("/static/{name}", static)
    app.router.add_get("/stream", stream)
    app.router.add_get("/gzip/{name}", gzip)
    app.router.add_get("/close", close)
    app.router.add_get("/empty", empty)
    app.router.add_post("/echo", echo)
    app.router.add_get("/hints", hints)
    return app


# --------------------------------------------------------------------------- ASGI (uvicorn)


def asgi_app(root: Path) -> Any:
    async def read_body(receive: Any) -> bytes:
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                return bytes(body)

    async def respond(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def stream_out(send: Any, status: int, headers: list[tuple[bytes, bytes]], pieces: Any) -> None:
        # No content-length: uvicorn frames the body with chunked coding.
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for piece in pieces:
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def static(scope: Any, send: Any, name: str) -> None:
        path = (root / name).resolve()
        if path.parent != root or not path.is_file():
            await respond(send, 404, [(b"content-type", b"text/plain")], b"not found")
            return
        request_headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        etag = file_etag(path)
        if request_headers.get("if-none-match") == etag:
            await respond(send, 304, [(b"etag", etag.encode())])
            return
        data = path.read_bytes()
        headers = [
            (b"etag", etag.encode()), (b"accept-ranges", b"bytes"), (b"content-type", b"application/octet-stream")
        ]
        status = 200
        rng = parse_range(request_headers.get("range", ""), len(data))
        if rng is not None:
            start, end = rng
            headers.append((b"content-range", f"bytes {start}-{end - 1}/{len(data)}".encode()))
            status, data = 206, data[start:end]
        headers.append((b"content-length", str(len(data)).encode()))
        # uvicorn drops the body of a HEAD response itself, keeping the length.
        await respond(send, status, headers, data)

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
        query = dict(part.split("=", 1) for part in scope["query_string"].decode().split("&") if "=" in part)
        if path.startswith("/static/") and method in ("GET", "HEAD"):
            await static(scope, send, path[len("/static/"):])
        elif path == "/stream":
            pieces, size = int(query["pieces"]), int(query["size"])
            await stream_out(send, 200, [], (bytes([0x61 + i % 26]) * size for i in range(pieces)))
        elif path.startswith("/gzip/"):
            target = (root / path[len("/gzip/"):]).resolve()
            headers = [(b"content-encoding", b"gzip"), (b"content-type", b"text/plain")]
            await stream_out(send, 200, headers, gzip_pieces(target))
        elif path == "/close":
            await respond(send, 200, [(b"connection", b"close"), (b"content-length", b"7")], b"closing")
        elif path == "/empty":
            await respond(send, 204, [])
        elif path == "/echo" and method == "POST":
            body = digest(await read_body(receive))
            fields = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await respond(send, 200, fields, body)
        else:
            await respond(send, 404, [(b"content-type", b"text/plain"), (b"content-length", b"9")], b"not found")

    return app


def main(argv: list[str]) -> None:
    kind, port, root = argv[0], int(argv[1]), Path(argv[2]).resolve()
    if kind == "aiohttp":
        from aiohttp import web

        web.run_app(aiohttp_app(root), host="127.0.0.1", port=port, print=None, access_log=None)
    elif kind == "uvicorn":
        import uvicorn

        # uvicorn has two HTTP/1.1 implementations that write differently; argv names one.
        uvicorn.run(asgi_app(root), host="127.0.0.1", port=port, http=argv[3], log_level="warning", lifespan="on")
    else:
        raise SystemExit(f"unknown server kind {kind!r}")


if __name__ == "__main__":
    os.chdir(Path(__file__).resolve().parent)
    main(sys.argv[1:])
