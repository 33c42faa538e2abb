"""The client's C twins (connection protocol, pool; the request context has its own file):
which one a session uses, and that they agree.

Every other client test runs on both wire twins through the ``wire_impl``
fixture, and a session pairs each client twin with its wire twin (C with C,
Python with Python), so the whole client suite holds the twins to one
behaviour.  These tests pin the pairing itself, the shared surface, and the
bad arguments each twin refuses alike.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import pytest

from wirespeed import wire
from wirespeed.client import _connection
from wirespeed.client._connection import Connection
from wirespeed.client._pool import Pool
from wirespeed.client._twins import PYTHON, C, client_twins
from wirespeed.wire import Wire

IN_CI = os.environ.get("CI", "").lower() == "true" or os.environ.get("CIBUILDWHEEL") == "1"
CConnection = C.connection if C is not None else None
CPool = C.pool if C is not None else None


@pytest.mark.skipif(not IN_CI, reason="only CI (CI=true) requires the C twins to be built")
def test_the_c_connection_is_built_in_ci() -> None:
    assert C is not None
    assert client_twins(wire.load("c")) is C
    assert client_twins(wire.load("python")) is PYTHON


def test_a_session_pairs_the_connection_twin_with_the_wire_twin(wire_impl: Wire, run: Any, app: Any) -> None:
    import wirespeed

    async def main() -> tuple[type, type]:
        async with wirespeed.ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/small")) as r:
                await r.read()
                seen = type(r._head) is wire_impl.ResponseHead
            (conn,) = s._pool._conns
            assert seen
            return type(conn), type(s._pool)

    kind, pool = run(main())
    if wire_impl.IMPLEMENTATION == "c":
        assert kind is CConnection is not None
        assert pool is CPool is not None
    else:
        assert kind is Connection
        assert pool is Pool


@pytest.mark.c_extension
def test_the_twins_share_buffer_sizes_and_surface() -> None:
    from wirespeed.client import _connection_c

    assert _connection_c.READ_BUFFER_SIZE == _connection.READ_BUFFER_SIZE
    assert _connection_c.READ_BUFFER_MAX == _connection.READ_BUFFER_MAX
    assert CConnection is not None

    def surface(cls: type) -> set[str]:
        return {name for name, _ in inspect.getmembers(cls) if not name.startswith("__")}

    # The Python twin's slots are its fields: the C twin has each as a field too.
    missing = surface(Connection) - surface(CConnection)
    assert not missing, missing
    assert set(Connection.__slots__) <= surface(CConnection)
    for cls in (Connection, CConnection):
        assert issubclass(cls, wire.FlowControl)


@pytest.mark.c_extension
def test_the_pool_twins_share_their_surface() -> None:
    assert CPool is not None
    public = {name for name in dir(Pool) if not name.startswith("__") and not name.startswith("_")}
    assert public <= set(dir(CPool)), public - set(dir(CPool))
    for loop_free in (Pool, CPool):
        pool = loop_free(None, 3, 1, 15.0)
        assert (pool.limit, pool.limit_per_host, pool.keepalive_timeout, pool.closed) == (3, 1, 15.0, False)
        assert pool.take_idle(("http", "h", 80)) is None
        assert pool.reserve(("http", "h", 80)) is True
        assert pool.reserve(("http", "h", 80)) is False   # one per host
        pool.unreserve(("http", "h", 80))
        assert pool.reserve(("http", "h", 80)) is True
        stats = pool.stats()
        assert (stats.connecting, stats.idle, stats.in_use, stats.waiting) == (1, 0, 0, 0)


@pytest.mark.parametrize("limits", [(-1, 0), (True, 0), (0, 1.5), (0, "2")], ids=["negative", "bool", "float", "str"])
def test_both_pool_twins_refuse_bad_limits_alike(wire_impl: Wire, limits: tuple[Any, Any]) -> None:
    with pytest.raises(ValueError, match="must be an int >= 0") as info:
        client_twins(wire_impl).pool(None, *limits, 15.0)
    with pytest.raises(ValueError) as other:
        Pool(None, *limits, 15.0)
    assert str(info.value) == str(other.value)


def test_no_extensions_pairs_every_wire_with_the_python_connection() -> None:
    import subprocess
    import sys

    code = ("import wirespeed.wire as w; from wirespeed.client._twins import C, PYTHON, client_twins;"
            "t = client_twins(w.default());"
            "print(C, t is PYTHON, t.connection.__name__, t.pool.__name__, t.context.__name__)")
    env = {k: v for k, v in os.environ.items() if k != "WIRESPEED_NO_EXTENSIONS"}
    env["WIRESPEED_NO_EXTENSIONS"] = "1"
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["None", "True", "Connection", "Pool", "RequestContext"]


# --------------------------------------------------------------------------- responses built in C


@pytest.mark.c_extension
def test_a_response_built_in_c_equals_one_built_by_its_init(run: Any, app: Any) -> None:
    """The C connection writes ClientResponse's slots itself: every slot as __init__ sets it."""
    import wirespeed
    from wirespeed.client import _connection_c
    from wirespeed.client._response import ClientResponse

    fields = [n for n in ClientResponse.__slots__ if n != "__weakref__"]

    async def main() -> None:
        async with wirespeed.ClientSession(wire=wire.load("c")) as s:
            async with s.get(app.url("/stream?size=2000000")) as r:
                conn = r._conn   # still reading: the response holds its connection
                assert conn is not None
                by_init = ClientResponse(r.method, r.url, r._head, conn)
                in_c = _connection_c._build_response(conn, r._head)
                assert type(in_c) is ClientResponse
                for name in fields:
                    a, b = getattr(by_init, name), getattr(in_c, name)
                    if name == "_pieces":
                        assert type(a) is type(b) and not a and not b and a is not b
                    elif name in ("_conn", "_head", "headers", "_loop", "url"):
                        assert a is b, name
                    else:
                        assert (type(a), a) == (type(b), b), name
                await r.read()

    run(main())


def test_a_response_class_of_a_session_subclass_is_built_by_its_own_init(wire_impl: Wire, run: Any, app: Any) -> None:
    """Only ClientResponse itself is built in C: another response class has its __init__ run."""
    import wirespeed
    from wirespeed.client._response import ClientResponse

    made = []

    class Noted(ClientResponse):
        __slots__ = ("note",)

        def __init__(self, *args: Any) -> None:
            super().__init__(*args)
            self.note = "seen"
            made.append(self)

    class Session(wirespeed.ClientSession):
        _response_class = Noted

    async def main() -> None:
        async with Session(wire=wire_impl) as s:
            async with s.get(app.url("/small")) as r:
                assert isinstance(r, Noted) and r.note == "seen"
                assert await r.read()
            async with s.get(app.url("/stream?size=300000")) as r:
                assert isinstance(r, Noted) and len(await r.read()) == 300000

    run(main())
    assert len(made) == 2


# --------------------------------------------------------------------------- the request methods

_METHODS = ("request", "get", "post", "put", "patch", "delete", "head", "options")


def test_the_request_methods_are_the_c_twins_when_built() -> None:
    """With the C twins built, ClientSession's request methods are ``_context_c``'s, named and
    documented as the class's own; without them, the class's own Python methods."""
    import wirespeed

    for name in _METHODS:
        method = getattr(wirespeed.ClientSession, name)
        assert method.__name__ == name and method.__qualname__ == f"ClientSession.{name}"
        assert method.__module__ == "wirespeed.client._session"
        params = list(inspect.signature(method).parameters)
        assert params == (["self", "method", "url", "kwargs"] if name == "request" else ["self", "url", "kwargs"])
        if C is not None:
            from wirespeed.client import _context_c

            assert method is getattr(_context_c, f"session_{name}")
        else:
            assert inspect.isfunction(method)


def test_no_extensions_leaves_the_python_request_methods() -> None:
    import subprocess
    import sys

    code = ("import inspect, wirespeed;"
            f"print(all(inspect.isfunction(getattr(wirespeed.ClientSession, n)) for n in {_METHODS!r}))")
    env = {k: v for k, v in os.environ.items() if k != "WIRESPEED_NO_EXTENSIONS"}
    env["WIRESPEED_NO_EXTENSIONS"] = "1"
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True"]


@pytest.mark.parametrize("name", _METHODS)
def test_a_request_method_called_on_what_is_not_a_session_fails_as_the_python_method(name: str) -> None:
    import wirespeed

    method = getattr(wirespeed.ClientSession, name)
    args = ("GET", "http://127.0.0.1:9/") if name == "request" else ("http://127.0.0.1:9/",)
    for kwargs in ({}, {"data": b"x"}, {"headers": {"A": "1"}}):
        with pytest.raises(AttributeError):
            method(object(), *args, **kwargs)


def _sent(name: str, kwargs: dict[str, Any]) -> tuple[str, str]:
    """The method and body the request made by ``name`` with ``kwargs`` should carry."""
    method = "PATCH" if name == "request" else name.upper()
    body = kwargs.get("data", b"")
    return method, body.decode("latin-1") if isinstance(body, bytes) else body


@pytest.mark.parametrize("kwargs", [{}, {"data": b"body"}, {"headers": {"X-Extra": "1"}},
                                    {"data": b"b", "params": {"q": "1"}}],
                         ids=["none", "data-bytes", "headers", "data-and-params"])
@pytest.mark.parametrize("name", _METHODS)
def test_every_request_method_sends_what_it_says(wire_impl: Wire, run: Any, app: Any, name: str,
                                                 kwargs: dict[str, Any]) -> None:
    """Each method, on both twins, first on a cold and then on a warm session (the C twin's own
    path): the method, body, extra header and query arrive as given."""
    import json

    import wirespeed

    if name in ("get", "delete", "head", "options") and "data" in kwargs:
        kwargs = {k: v for k, v in kwargs.items() if k != "data"}

    async def main() -> None:
        async with wirespeed.ClientSession(wire=wire_impl) as s:
            for _ in range(2):
                if name == "request":
                    ctx = s.request("PATCH", app.url("/echo"), **kwargs)
                else:
                    ctx = getattr(s, name)(app.url("/echo"), **kwargs)
                async with ctx as r:
                    assert r.status == 200
                    if name == "head":
                        assert await r.read() == b""
                        continue
                    doc = json.loads(await r.read())
                method, body = _sent(name, kwargs)
                assert (doc["method"], doc["body"]) == (method, body)
                names = [(k.lower(), v) for k, v in doc["headers"]]
                assert (("x-extra", "1") in names) is ("headers" in kwargs)
                assert doc["query"] == ([["q", "1"]] if "params" in kwargs else [])
            assert s.stats.opened == 1

    run(main())
