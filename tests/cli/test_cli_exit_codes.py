"""The exit codes of ``python -m wirespeed`` (the table of docs/cli.md), one cause each."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_kit import clean_env, command

from support.client_apps import SMALL
from support.servers import free_port


@contextlib.contextmanager
def raw_server(reply: bytes) -> Iterator[str]:
    """A server on 127.0.0.1 that reads a request head, sends ``reply`` and closes; its URL."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:  # the accept timeout too
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                with contextlib.suppress(OSError):
                    while b"\r\n\r\n" not in data:
                        piece = conn.recv(65536)
                        if not piece:
                            break
                        data += piece
                    conn.sendall(reply)

    thread = threading.Thread(target=serve, name="raw-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()


def test_ok(cli: Any, server: Any) -> None:
    assert cli(server.url("/small")).returncode == 0


def test_a_4xx_or_5xx_without_fail_is_a_success(cli: Any, server: Any) -> None:
    done = cli(server.url("/status/503"))
    assert (done.returncode, done.stdout) == (0, b"status 503")


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("-d", "a", "--json", "{}", "URL"),
        ("--form", "a=1", "URL", "b=2"),
        ("-H", "no colon", "URL"),
        ("-H", ": no name", "URL"),
        ("-d", "@/nonexistent/file", "URL"),
        ("--form", "f@/nonexistent/file", "URL"),
        ("--form", "novalue", "URL"),
        ("--json", "{not json", "URL"),
        ("URL", "n:=nope"),
        ("URL", "justaword"),
        ("-u", "nocolon", "URL"),
        ("-u", "a:b", "--digest", "a:b", "URL"),
        ("--timeout", "abc", "URL"),
        ("--timeout", "0", "URL"),
        ("--retry", "-1", "URL"),
        ("-I", "POST", "URL"),
        ("-X", "PUT", "POST", "URL"),
        ("--fail", "--fail-with-body", "URL"),
        ("--keep-partial", "URL"),
        ("--no-such-option", "URL"),
        ("ftp://127.0.0.1/file",),
        ("-X", "BAD METHOD", "URL"),
        ("-H", "X-Bad: a\x01b", "URL"),
    ],
)
def test_usage_errors_exit_1(cli: Any, server: Any, args: tuple[str, ...]) -> None:
    done = cli(*(server.url("/small") if a == "URL" else a for a in args))
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == b"" and done.stderr.startswith(("usage:", "wirespeed:"))
    assert "Traceback" not in done.stderr


def test_a_refused_connection_exits_2(cli: Any) -> None:
    done = cli(f"http://127.0.0.1:{free_port()}/")
    assert done.returncode == 2 and "could not connect" in done.stderr
    assert cli("-s", f"http://127.0.0.1:{free_port()}/").stderr == ""


def test_an_unresolvable_name_exits_2(cli: Any) -> None:
    assert cli("--connect-timeout", "5", "http://name.invalid/").returncode == 2


def test_a_timeout_exits_3(cli: Any, server: Any) -> None:
    start = time.monotonic()
    done = cli("--timeout", "0.5", server.url("/slow?delay=5"))
    assert done.returncode == 3 and re.match(r"wirespeed: timed out: \w", done.stderr)
    assert time.monotonic() - start < 4.5


def test_a_timeout_mid_body_exits_3_and_leaves_no_file(cli: Any, server: Any, tmp_path: Path) -> None:
    done = cli("--timeout", "0.7", "-o", str(tmp_path / "f"), server.url("/slow?delay=5&body=1"))
    assert done.returncode == 3
    assert os.listdir(tmp_path) == []


def test_fail_exits_4_without_the_body(cli: Any, server: Any, tmp_path: Path) -> None:
    done = cli("--fail", server.url("/status/404"))
    assert (done.returncode, done.stdout) == (4, b"")
    assert "HTTP error 404" in done.stderr
    done = cli("-f", "-o", str(tmp_path / "f"), server.url("/status/500"))
    assert done.returncode == 4 and os.listdir(tmp_path) == []
    done = cli("--fail-with-body", server.url("/status/404"))
    assert (done.returncode, done.stdout) == (4, b"status 404")
    assert cli("--fail", server.url("/status/204")).returncode == 0
    assert cli("--fail", server.url("/redirect/302")).returncode == 0


def test_fail_still_shows_the_head_with_include(cli: Any, server: Any) -> None:
    done = cli("-f", "-i", server.url("/status/404"))
    assert done.returncode == 4 and done.stdout.startswith(b"HTTP/1.1 404 Not Found\r\n")
    assert done.stdout.endswith(b"\r\n\r\n")


@pytest.mark.parametrize(
    "reply",
    [
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ],
    ids=["garbage", "bad-length", "bad-chunk"],
)
def test_a_malformed_response_exits_5(cli: Any, reply: bytes) -> None:
    with raw_server(reply) as url:
        done = cli(url)
    assert done.returncode == 5, done.stderr
    assert "bad response" in done.stderr and "Traceback" not in done.stderr


def test_a_truncated_body_exits_5_and_leaves_no_file(cli: Any, tmp_path: Path) -> None:
    with raw_server(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789") as url:
        done = cli(url)
        assert (done.returncode, done.stdout) == (5, b"0123456789")
        done = cli("-o", str(tmp_path / "f"), url)
        assert done.returncode == 5 and os.listdir(tmp_path) == []
        done = cli("-o", str(tmp_path / "f"), "--keep-partial", url)
        assert done.returncode == 5 and (tmp_path / "f").read_bytes() == b"0123456789"
        assert "kept 10 bytes" in done.stderr


def test_a_server_that_closes_without_answering_exits_5(cli: Any) -> None:
    with raw_server(b"") as url:
        done = cli(url)
    assert done.returncode == 5 and "disconnected" in done.stderr


def test_too_many_redirects_exits_6(cli: Any, server: Any) -> None:
    assert cli("-L", "--max-redirs", "1", server.url("/chain/2")).returncode == 6
    done = cli("-L", server.url("/redirect/302?to=ftp://example.com/"))   # a Location that cannot be followed
    assert done.returncode == 6


def test_an_output_that_cannot_be_written_exits_7(cli: Any, server: Any, tmp_path: Path) -> None:
    done = cli("-o", str(tmp_path / "missing" / "f"), server.url("/small"))
    assert done.returncode == 7 and "cannot write" in done.stderr
    done = cli("-o", str(tmp_path), server.url("/small"))   # a directory
    assert done.returncode == 7


def test_a_closed_stdout_exits_7_quietly(server: Any) -> None:
    child = subprocess.Popen(command(server.url("/stream?size=20000000")), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=clean_env())
    assert child.stdout is not None and child.stderr is not None
    assert len(child.stdout.read(10)) == 10
    child.stdout.close()   # as `| head -c 10` does
    rc = child.wait(timeout=30)
    err = child.stderr.read().decode()
    child.stderr.close()
    assert rc == 7 and err == ""


def test_the_stdout_of_a_success_is_exact(cli: Any, server: Any) -> None:
    assert cli(server.url("/small")).stdout == SMALL


@pytest.mark.parametrize(
    ("path", "args", "code"),
    [("/small", (), 0), ("/status/404", ("--fail",), 4), ("/slow?delay=5", ("--timeout", "0.3"), 3),
     ("/slow?delay=5&body=1", ("--timeout", "0.5", "-o", "{tmp}/f"), 3), ("/stream?size=300000", ("-o", "{tmp}/g"), 0)],
)
def test_nothing_is_left_open_in_development_mode(server: Any, tmp_path: Path, path: str, args: tuple[str, ...],
                                                   code: int) -> None:
    # -X dev: asyncio's debug mode and ResourceWarning shown; -W error: any warning is an error
    argv = [sys.executable, "-X", "dev", "-W", "error", "-m", "wirespeed",
            *(a.format(tmp=tmp_path) for a in args), server.url(path)]
    done = subprocess.run(argv, capture_output=True, env=clean_env(), timeout=30)
    err = done.stderr.decode()
    assert done.returncode == code, err
    assert "Warning" not in err and "Exception ignored" not in err and "Traceback" not in err
