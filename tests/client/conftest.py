"""Fixtures of the client tests: the loops, the real servers, the fault server.

Every client test runs on both twins of the wire layer (``wire_impl``, from
``tests/conftest.py``: pass ``wire=wire_impl`` to the session) and on both
event loops: the ``run`` fixture is parametrised over asyncio's default loop
and uvloop (ids ``asyncio`` and ``uvloop``) and runs a coroutine on a fresh
loop of that kind.  ``run`` also fails a test that hangs (``TEST_TIMEOUT``)
and one that leaves a task running once its coroutine has returned (every
session is closed by then, so nothing of the client may be alive).

Servers, each started once per session on 127.0.0.1 and stopped at the end:

- ``aiohttp_app`` and ``uvicorn_app``: ``tests/support/client_apps.py`` in a
  subprocess (``app`` is parametrised over both, ids ``aiohttp``/``uvicorn``);
- ``tls_app``: the aiohttp app over TLS with a certificate from a throwaway
  ``trustme`` CA, for ``localhost`` and ``127.0.0.1``;
- ``nginx``: ``tests/support/servers.py``'s nginx (skipped when not
  installed, a failure under ``WIRESPEED_REQUIRE_SERVERS=1``, as ``.ci/run`` sets);
- ``fault``: a fresh :class:`support.fault_server.FaultServer` per test, on
  the session's server thread.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from support import servers
from support.client_kit import TEST_TIMEOUT, App, TLSApp, run_on
from support.fault_server import FaultLoop, FaultServer

T = TypeVar("T")

IN_CI = os.environ.get("WIRESPEED_REQUIRE_SERVERS", "") not in ("", "0")  # .ci/run sets it; CI=true alone does not

LOOPS = [pytest.param("asyncio", id="asyncio"), pytest.param("uvloop", id="uvloop")]


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} (WIRESPEED_REQUIRE_SERVERS=1: .ci/run installs it, so this is a failure)")
    pytest.skip(what)


Runner = Callable[..., Any]


@pytest.fixture(params=LOOPS)
def run(request: pytest.FixtureRequest) -> Runner:
    """``run(coro)`` runs a coroutine on a fresh loop of this parameter's kind and returns its result."""
    kind = request.param
    if kind == "uvloop" and importlib.util.find_spec("uvloop") is None:
        _missing("uvloop is not installed (the test extra of pyproject.toml)")

    def runner(aw: Awaitable[T], *, limit: float = TEST_TIMEOUT, check_tasks: bool = True) -> T:
        return run_on(kind, aw, limit=limit, check_tasks=check_tasks)

    return runner


# --------------------------------------------------------------------------- the apps


@pytest.fixture(scope="session")
def aiohttp_app() -> Iterator[App]:
    with servers.client_app("aiohttp") as server:
        yield App("aiohttp", server)


@pytest.fixture(scope="session")
def uvicorn_app() -> Iterator[App]:
    for module in ("uvicorn", "httptools"):
        if importlib.util.find_spec(module) is None:
            _missing(f"{module} is not installed (the test extra of pyproject.toml)")
    with servers.client_app("uvicorn") as server:
        yield App("uvicorn", server)


@pytest.fixture(params=["aiohttp", "uvicorn"])
def app(request: pytest.FixtureRequest) -> App:
    """One of the two Python apps; the session fixture starts it once."""
    found: App = request.getfixturevalue(f"{request.param}_app")
    return found.alive()


@pytest.fixture(scope="session")
def tls_app() -> Iterator[TLSApp]:
    if importlib.util.find_spec("trustme") is None:
        _missing("trustme is not installed (the test extra of pyproject.toml)")
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    keys = Path(tempfile.mkdtemp(prefix="wirespeed-client-tls-"))
    try:
        chain, key = keys / "chain.pem", keys / "key.pem"
        for blob in cert.cert_chain_pems:
            with chain.open("ab") as f:
                f.write(blob.bytes())
        cert.private_key_pem.write_to_path(str(key))
        with servers.client_app("aiohttp", tls=(chain, key)) as server:
            yield TLSApp("aiohttp-tls", server, scheme="https", hostname="localhost", ca=ca)
    finally:
        shutil.rmtree(keys, ignore_errors=True)


@pytest.fixture(scope="session")
def nginx() -> Iterator[App]:
    if shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"):
        _missing("nginx is not installed (Debian package nginx)")
    with servers.nginx() as server:
        yield App("nginx", server)


# --------------------------------------------------------------------------- the fault server


@pytest.fixture(scope="session")
def fault_loop() -> Iterator[FaultLoop]:
    loop = FaultLoop().start()
    try:
        yield loop
    finally:
        loop.stop()


@pytest.fixture
def fault(fault_loop: FaultLoop) -> Iterator[FaultServer]:
    """A fresh fault server for this test; set ``fault.script`` before the client connects."""
    server = FaultServer(fault_loop).start()
    try:
        yield server
    finally:
        server.close()
    server.check()
