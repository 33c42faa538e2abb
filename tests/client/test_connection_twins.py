"""The connection protocol's two twins: which one a session uses, and that they agree.

Every other client test runs on both wire twins through the ``wire_impl``
fixture, and a session pairs its connection twin with its wire twin (C with
C, Python with Python), so the whole client suite holds the two connection
twins to one behaviour.  These tests pin the pairing itself.
"""

from __future__ import annotations

import inspect
import os
from typing import Any

import pytest

from wirespeed import wire
from wirespeed.client import _connection
from wirespeed.client._connection import CConnection, Connection, connection_type
from wirespeed.wire import Wire

IN_CI = os.environ.get("CI", "").lower() == "true" or os.environ.get("CIBUILDWHEEL") == "1"


@pytest.mark.skipif(not IN_CI, reason="only CI (CI=true) requires the C twins to be built")
def test_the_c_connection_is_built_in_ci() -> None:
    assert CConnection is not None
    assert connection_type(wire.load("c")) is CConnection


def test_a_session_pairs_the_connection_twin_with_the_wire_twin(wire_impl: Wire, run: Any, app: Any) -> None:
    import wirespeed

    async def main() -> type:
        async with wirespeed.ClientSession(wire=wire_impl) as s:
            async with s.get(app.url("/small")) as r:
                await r.read()
                seen = type(r._head) is wire_impl.ResponseHead
            (conn,) = s._pool._conns
            assert seen
            return type(conn)

    kind = run(main())
    if wire_impl.IMPLEMENTATION == "c":
        assert kind is CConnection is not None
    else:
        assert kind is Connection


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


def test_no_extensions_pairs_every_wire_with_the_python_connection() -> None:
    import subprocess
    import sys

    code = ("import wirespeed.wire as w; from wirespeed.client._connection import connection_type, CConnection;"
            "print(CConnection, connection_type(w.default()).__name__)")
    env = {k: v for k, v in os.environ.items() if k != "WIRESPEED_NO_EXTENSIONS"}
    env["WIRESPEED_NO_EXTENSIONS"] = "1"
    out = subprocess.run([sys.executable, "-W", "error", "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["None", "Connection"]
