"""Bad arguments to a session or a request are refused at once, with a typed error, before any I/O."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import wirespeed
from wirespeed import ClientSession, ClientTimeout
from wirespeed.wire import Wire

BAD_SESSIONS = {
    "negative-limit": ({"limit": -1}, ValueError),
    "bool-limit": ({"limit": True}, ValueError),
    "float-limit-per-host": ({"limit_per_host": 1.5}, ValueError),
    "keepalive-none": ({"keepalive_timeout": None}, ValueError),
    "keepalive-negative": ({"keepalive_timeout": -1}, ValueError),
    "keepalive-nan": ({"keepalive_timeout": float("nan")}, ValueError),
    "keepalive-str": ({"keepalive_timeout": "15"}, ValueError),
    "timeout-not-a-ClientTimeout": ({"timeout": 5}, TypeError),
    "ssl-a-string": ({"ssl": "yes"}, TypeError),
    "proxy-not-a-url": ({"proxy": "socks5://127.0.0.1:1080"}, wirespeed.InvalidRequest),
}


@pytest.mark.parametrize("case", list(BAD_SESSIONS), ids=list(BAD_SESSIONS))
def test_bad_session_arguments_are_refused(wire_impl: Wire, case: str) -> None:
    kwargs, error = BAD_SESSIONS[case]
    with pytest.raises(error):
        ClientSession(wire=wire_impl, **kwargs)


@pytest.mark.parametrize("field", ["total", "connect", "pool", "read"])
@pytest.mark.parametrize("value", [0, -1, True, "1"], ids=["zero", "negative", "bool", "str"])
def test_bad_timeouts_are_refused(field: str, value: Any) -> None:
    with pytest.raises(ValueError):
        ClientTimeout(**{field: value})


def test_content_with_data_is_refused_before_anything_is_sent(wire_impl: Wire, run: Any) -> None:
    async def main() -> None:
        async with ClientSession(wire=wire_impl) as s:
            for kwargs in ({"content": b"a", "data": b"b"}, {"content": b"a", "json": {}}):
                with pytest.raises(wirespeed.InvalidRequest) as info:
                    await s.post("http://127.0.0.1:9/x", **kwargs)
                assert info.value.method == "POST"
            with pytest.raises(wirespeed.InvalidRequest):
                await s.post("http://127.0.0.1:9/x", data=object())
            assert s.stats.opened == 0   # refused before a connection was even tried

    run(main())


@pytest.mark.parametrize("seconds", [0, float("inf")], ids=["zero", "forever"])
def test_keepalive_timeout_edges_are_accepted_and_work(wire_impl: Wire, run: Any, app: Any, seconds: float) -> None:
    """0: an idle connection has expired by the time it would be taken; inf: it never expires."""
    from support.client_apps import SMALL

    async def main() -> None:
        async with ClientSession(wire=wire_impl, keepalive_timeout=seconds) as s:
            for _ in range(3):
                async with s.get(app.url("/small")) as r:
                    assert await r.read() == SMALL
                await asyncio.sleep(0.02)   # past a coarse clock's tick
            stats = s.stats
            assert stats.in_use == 0
            assert stats.opened == (3 if seconds == 0 else 1), stats

    run(main())
