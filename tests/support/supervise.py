"""Run a test server so that it cannot outlive the test run, however the run ends.

    python tests/support/supervise.py STOP_TIMEOUT COMMAND [ARG...]

Started by ``tests/support/servers.py`` with a pipe on stdin, as the leader of a new
process group.  It starts COMMAND in that group and waits.  When stdin
reaches EOF (the test process closed the pipe, or died, even by SIGKILL, and
the kernel closed it), it sends SIGTERM to the whole group (the server and
every worker it forked), then SIGKILL after STOP_TIMEOUT seconds.  If the
server exits by itself first, the supervisor exits with its status, so a
server that fails at start is seen at once.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time


def stop_group(timeout: float, server: subprocess.Popen[bytes]) -> None:
    # The group includes this process: ignore the polite signal, not the last one.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.killpg(0, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.killpg(0, signal.SIGKILL)


def main(argv: list[str]) -> int:
    timeout, command = float(argv[0]), argv[1:]
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL)
    with selectors.DefaultSelector() as selector:
        selector.register(sys.stdin.fileno(), selectors.EVENT_READ)
        while server.poll() is None:
            # Anything readable on the pipe is its EOF: the test side never writes.
            if selector.select(0.1) and not os.read(sys.stdin.fileno(), 1):
                stop_group(timeout, server)
    return server.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
