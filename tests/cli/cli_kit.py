"""What the command-line tests share: a local server, the CLI in a subprocess.

``server`` is ``tests/support/client_apps.py``'s aiohttp app (its routes:
``/small``, ``/echo``, ``/status/{code}``, ``/stream``, ``/slow``, ``/form``,
``/redirect/{code}``, ``/chain/{n}``, ``/digest/...``, ``/basic``,
``/flaky/...``) plus the routes of this file, served on 127.0.0.1 by a loop
in a daemon thread of the test process, over plain HTTP and over TLS (a
``trustme`` certificate the CLI does not trust):

- ``/cli/raw`` (any method): the request body back, byte for byte;
- ``/cli/drip?size=N&piece=P&delay=D``: ``N`` bytes of the ``/stream`` body
  with Content-Length, ``P`` bytes every ``D`` seconds;
- ``/cli/gzip?size=N``: the ``/stream`` body gzip-compressed.

``run_cli(*args)`` (the ``cli`` fixture) runs ``python -m wirespeed`` with the test's interpreter and
returns the finished process (stdout bytes, stderr text); the proxy
variables of the environment are removed so a machine's proxy settings
never reach the local server.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import importlib.util
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.client_apps import aiohttp_app, stream_body

#: A CLI run that takes longer than this has hung.
RUN_TIMEOUT = 30.0
PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
    env.pop("COLUMNS", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def command(*args: str) -> list[str]:
    """The CLI with warnings as errors (an unclosed file or socket would show on stderr)."""
    return [sys.executable, "-W", "error", "-m", "wirespeed", *args]


def run_cli(*args: str, input: bytes | None = None, timeout: float = RUN_TIMEOUT,
        env: dict[str, str] | None = None, cwd: str | Path | None = None) -> subprocess.CompletedProcess[Any]:
    """``python -m wirespeed ARGS``: stdout as bytes, stderr as text."""
    done = subprocess.run(command(*args), input=input if input is not None else b"", capture_output=True,
                          timeout=timeout, env=env if env is not None else clean_env(), cwd=cwd)
    done.stderr = done.stderr.decode("utf-8", "replace")
    return done


@dataclass
class Server:
    port: int
    tls_port: int

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def tls_url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.tls_port}{path}"


def _app() -> Any:
    from aiohttp import web

    app = aiohttp_app()

    async def raw(request: web.Request) -> web.StreamResponse:
        return web.Response(body=await request.read(), content_type="application/octet-stream")

    async def drip(request: web.Request) -> web.StreamResponse:
        size, piece = int(request.query["size"]), int(request.query.get("piece", "65536"))
        delay = float(request.query.get("delay", "0.05"))
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        response.content_length = size
        await response.prepare(request)
        body = stream_body(size)
        for start in range(0, size, piece):
            await response.write(body[start:start + piece])
            await asyncio.sleep(delay)
        await response.write_eof()
        return response

    async def gzipped(request: web.Request) -> web.StreamResponse:
        data = gzip.compress(stream_body(int(request.query["size"])), mtime=0)
        return web.Response(body=data, headers={"Content-Encoding": "gzip",
                                                "Content-Type": "application/octet-stream"})

    app.router.add_route("*", "/cli/raw", raw)
    app.router.add_get("/cli/drip", drip)
    app.router.add_get("/cli/gzip", gzipped)
    return app


def _tls_context(workdir: Path) -> ssl.SSLContext:
    import trustme

    cert = trustme.CA().issue_cert("127.0.0.1", "localhost")
    chain, key = workdir / "chain.pem", workdir / "key.pem"
    chain.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(key))
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(chain), str(key))
    return ctx


@contextlib.contextmanager
def serving() -> Iterator[Server]:
    from aiohttp import web

    if importlib.util.find_spec("trustme") is None:
        pytest.skip("trustme is not installed (the test extra of pyproject.toml)")
    workdir = Path(tempfile.mkdtemp(prefix="wirespeed-cli-"))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="cli-server", daemon=True)
    thread.start()
    runner = web.AppRunner(_app(), access_log=None, shutdown_timeout=1.0)

    async def start() -> Server:
        await runner.setup()
        plain = web.TCPSite(runner, "127.0.0.1", 0)
        await plain.start()
        tls = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=_tls_context(workdir))
        await tls.start()
        ports = [addr[1] for addr in runner.addresses]
        return Server(ports[0], ports[1])

    try:
        yield asyncio.run_coroutine_threadsafe(start(), loop).result(timeout=20)
    finally:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        shutil.rmtree(workdir, ignore_errors=True)
