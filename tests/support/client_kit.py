"""What the client tests share besides fixtures: loops, addresses of the apps, common checks.

``run_on(kind, coro)`` runs a coroutine on a fresh loop of ``kind``
(``asyncio`` or ``uvloop``) and closes it, as ``asyncio.run`` does, on 3.10
too; it fails a test that hangs and one that leaves a task running.
``App``/``TLSApp`` spell a running app's URLs.  ``PARAMS_CASES`` is the
query encoding aiohttp produces; ``assert_no_new_tasks`` and
``assert_settled`` are the checks every cancellation test ends with.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from support.servers import Server

T = TypeVar("T")

#: A client test that runs longer than this is hung: it is cancelled and fails.
TEST_TIMEOUT = 20.0


def new_loop(kind: str) -> asyncio.AbstractEventLoop:
    if kind == "uvloop":
        import uvloop

        return uvloop.new_event_loop()
    return asyncio.new_event_loop()


async def _leftover_tasks(settle: float = 0.5) -> list[asyncio.Task[Any]]:
    """Tasks other than the current one still running after ``settle`` seconds of grace."""
    me = asyncio.current_task()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settle
    while True:
        left = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        if not left or loop.time() > deadline:
            return left
        await asyncio.sleep(0.01)


async def _guarded(aw: Awaitable[T], limit: float, check_tasks: bool) -> T:
    task = asyncio.ensure_future(aw)
    done, _ = await asyncio.wait({task}, timeout=limit)
    if not done:
        task.cancel()
        await asyncio.wait({task}, timeout=5)
        raise AssertionError(f"the test did not finish within {limit}s")
    result = task.result()
    if check_tasks:
        left = await _leftover_tasks()
        assert not left, f"tasks still running after the test returned: {left}"
    return result


def run_on(kind: str, aw: Awaitable[T], *, limit: float = TEST_TIMEOUT, check_tasks: bool = True) -> T:
    """Run ``aw`` on a fresh loop of ``kind`` and close the loop, as ``asyncio.run`` does."""
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=lambda: new_loop(kind)) as runner:
            return runner.run(_guarded(aw, limit, check_tasks))
    loop = new_loop(kind)  # 3.10: what asyncio.Runner does, by hand
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(_guarded(aw, limit, check_tasks))
    finally:
        try:
            tasks = asyncio.all_tasks(loop)
            for task in tasks:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


@dataclass(frozen=True)
class App:
    """A running app and how to spell its URLs."""

    name: str
    server: Server
    scheme: str = "http"
    hostname: str = "127.0.0.1"

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def base(self) -> str:
        return f"{self.scheme}://{self.hostname}:{self.server.port}"

    def url(self, path: str = "/") -> str:
        return self.base + path

    def alive(self) -> App:
        process = self.server.process
        assert process is not None and process.poll() is None, f"{self.name} died\n{self.server.logs()}"
        return self


@dataclass(frozen=True)
class TLSApp(App):
    ca: Any = None  # the trustme.CA that signed the server's certificate

    def trusting_context(self) -> ssl.SSLContext:
        """A client context that verifies, and trusts the throwaway CA."""
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        self.ca.configure_trust(ctx)
        return ctx


# --------------------------------------------------------------------------- shared expectations and checks

#: (id, url suffix, params, the query string aiohttp sends): checked against aiohttp's own
#: client in tests/client/test_servers.py, so the table is aiohttp's behaviour, not a guess.
PARAMS_CASES = [
    ("space-as-plus", "/echo", {"b": "x y"}, "b=x+y"),
    ("pairs-repeat-a-name", "/echo", [("a", "1"), ("a", "2")], "a=1&a=2"),
    ("reserved-and-non-ascii", "/echo", {"q": "\u00e9/&=+?"}, "q=%C3%A9/%26%3D%2B?"),
    ("numbers", "/echo", {"n": 1, "f": 1.5}, "n=1&f=1.5"),
    ("a-string", "/echo", "x=1&y=2", "x=1&y=2"),
    ("empty-value", "/echo", {"e": ""}, "e="),
    ("merged-with-the-url-query", "/echo?a=1", {"a": "2", "b": "3"}, "a=1&a=2&b=3"),
    ("a-sequence-value", "/echo?z=0", {"k": ["v1", "v2"]}, "z=0&k=v1&k=v2"),
]


async def within(aw: Awaitable[T], seconds: float = 3.0, what: str = "the call") -> T:
    """``aw``, or an AssertionError naming ``what`` if it has not finished in ``seconds`` (a hang, not a timeout)."""
    task = asyncio.ensure_future(aw)
    done, _ = await asyncio.wait({task}, timeout=seconds)
    if not done:
        task.cancel()
        await asyncio.wait({task})
        raise AssertionError(f"{what} hung: still waiting after {seconds}s")
    return task.result()


async def eventually(condition: Callable[[], bool], seconds: float = 3.0, what: str = "the condition") -> None:
    """Poll ``condition`` until it holds; an AssertionError naming ``what`` after ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"{what} did not hold within {seconds}s")
        await asyncio.sleep(0.01)


def live_tasks() -> set[asyncio.Task[Any]]:
    """The tasks of the running loop that have not finished."""
    return {t for t in asyncio.all_tasks() if not t.done()}


async def assert_no_new_tasks(before: set[asyncio.Task[Any]], settle: float = 0.5) -> None:
    """No task is alive now that was not alive at ``before`` (after ``settle`` seconds of grace)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settle
    while True:
        new = live_tasks() - before
        if not new:
            return
        if loop.time() > deadline:
            raise AssertionError(f"tasks left alive: {new}")
        await asyncio.sleep(0.01)


def assert_settled(stats: Any, *, idle: int | None = None) -> None:
    """Nothing checked out, nobody waiting; ``idle`` pooled connections when given."""
    assert stats.in_use == 0, stats
    assert stats.waiting == 0, stats
    if idle is not None:
        assert stats.idle == idle, stats
