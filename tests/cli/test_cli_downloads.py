"""Downloads with ``python -m wirespeed``: the progress bar on a terminal, Ctrl-C, memory, streaming."""

from __future__ import annotations

import fcntl
import importlib.util
import os
import pty
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

import pytest
from cli_kit import RUN_TIMEOUT, clean_env, command

from support.client_apps import stream_body

MiB = 1024 * 1024

needs_tqdm = pytest.mark.skipif(importlib.util.find_spec("tqdm") is None,
                                reason="tqdm is not installed (the cli extra of pyproject.toml)")


def run_on_pty(args: list[str], columns: int = 0) -> tuple[int, str]:
    """Run ``args`` with a pseudo-terminal as stderr (of ``columns`` columns, 0: no size
    reported); its exit code and what it wrote there."""
    master, slave = pty.openpty()
    if columns:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    child = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave,
                             env=clean_env())
    os.close(slave)
    out = bytearray()
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer of the terminal has closed it
                break
            if not data:
                break
            out += data
    finally:
        os.close(master)
    return child.wait(timeout=RUN_TIMEOUT), out.decode("utf-8", "replace")


@needs_tqdm
@pytest.mark.parametrize("columns", [0, 100], ids=["no-size", "100-columns"])
def test_the_progress_bar_is_drawn_on_a_terminal(server: Any, tmp_path: Path, columns: int) -> None:
    target = tmp_path / "big.bin"
    rc, text = run_on_pty(command("-o", str(target), server.url("/cli/drip?size=2097152&piece=262144&delay=0.05")),
                          columns)
    assert rc == 0, text
    assert target.read_bytes() == stream_body(2 * MiB)
    # size, rate and ETA: "big.bin: 100%|#####| 2.00M/2.00M [00:00<00:00, 4.1MB/s]"
    assert "big.bin:" in text and "100%" in text and "2.00M/2.00M" in text
    assert "B/s]" in text and "<00:0" in text
    assert "\r" in text   # redrawn in place


@needs_tqdm
def test_a_body_of_unknown_length_shows_size_and_rate(server: Any, tmp_path: Path) -> None:
    rc, text = run_on_pty(command("-o", str(tmp_path / "c.bin"), server.url("/chunked?pieces=40&size=50000")))
    assert rc == 0
    assert "c.bin:" in text and "B/s]" in text and "%" not in text


def test_no_bar_when_stderr_is_a_pipe_or_silent(cli: Any, server: Any, tmp_path: Path) -> None:
    done = cli("-o", str(tmp_path / "f"), server.url("/stream?size=1000000"))
    assert (done.returncode, done.stderr) == (0, "")
    rc, text = run_on_pty(command("-s", "-o", str(tmp_path / "g"), server.url("/stream?size=1000000")))
    assert (rc, text) == (0, "")


def test_no_bar_without_tqdm(server: Any, tmp_path: Path) -> None:
    program = ("import sys; sys.modules['tqdm'] = None; from wirespeed.cli import main; "
               "sys.exit(main(sys.argv[1:]))")
    target = tmp_path / "f"
    rc, text = run_on_pty([sys.executable, "-c", program, "-o", str(target), server.url("/stream?size=1000000")])
    assert (rc, text) == (0, "")
    assert target.read_bytes() == stream_body(1_000_000)


# -- Ctrl-C -----------------------------------------------------------------------------------

SLOW = "/cli/drip?size=16777216&piece=65536&delay=0.05"   # 16 MiB over about 13 s


def _interruptible() -> None:
    """In the child before exec: SIGINT at its default disposition and unblocked.  Both an
    ignored SIGINT and a blocked one survive exec, and Python leaves an ignored one ignored:
    a child started from a test process that inherited either would never see the Ctrl-C
    the test sends (and finish its download, exit status 0)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGINT])


def start_then_interrupt(args: list[str], directory: Path) -> tuple[int, str]:
    """Start a download into ``directory``, wait until its temp file holds bytes, SIGINT it."""
    child = subprocess.Popen(command(*args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=clean_env(), preexec_fn=_interruptible)
    deadline = time.monotonic() + RUN_TIMEOUT
    try:
        while not any(p.stat().st_size > 0 for p in directory.iterdir()):
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "no bytes arrived"
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=RUN_TIMEOUT)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    return child.returncode, err.decode()


def test_ctrl_c_exits_130_and_leaves_no_file(server: Any, tmp_path: Path) -> None:
    rc, err = start_then_interrupt(["-o", str(tmp_path / "big.bin"), server.url(SLOW)], tmp_path)
    assert rc == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_with_keep_partial_keeps_what_arrived(server: Any, tmp_path: Path) -> None:
    target = tmp_path / "big.bin"
    rc, err = start_then_interrupt(["--keep-partial", "-o", str(target), server.url(SLOW)], tmp_path)
    assert rc == 130, err
    assert [p.name for p in tmp_path.iterdir()] == ["big.bin"]
    kept = target.read_bytes()
    assert 0 < len(kept) < 16 * MiB
    assert kept == stream_body(len(kept))
    assert f"kept {len(kept)} bytes" in err


def test_ctrl_c_while_writing_to_stdout_exits_130(server: Any) -> None:
    child = subprocess.Popen(command(server.url(SLOW)), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=clean_env(), preexec_fn=_interruptible)
    assert child.stdout is not None
    try:
        assert child.stdout.read(1000) == stream_body(1000)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=RUN_TIMEOUT)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130 and "Traceback" not in err.decode()


# -- streaming and memory ---------------------------------------------------------------------


def test_a_trickling_body_is_written_as_it_arrives(server: Any) -> None:
    # 3 pieces of 10 bytes, 1 s apart: the first is on stdout long before the last is sent
    child = subprocess.Popen(command(server.url("/cli/drip?size=30&piece=10&delay=1")), stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=clean_env())
    assert child.stdout is not None
    start = time.monotonic()
    first = child.stdout.read1(100)
    elapsed = time.monotonic() - start
    rest = child.stdout.read()
    child.stdout.close()
    assert child.wait(timeout=RUN_TIMEOUT) == 0
    assert first + rest == stream_body(30)
    assert elapsed < time.monotonic() - start - 1.0   # the first piece came a second or more before the end


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss in KiB is Linux's")
@pytest.mark.parametrize("to_file", [False, True], ids=["stdout", "file"])
def test_a_large_download_runs_in_bounded_memory(server: Any, tmp_path: Path, to_file: bool) -> None:
    program = ("import resource, sys; from wirespeed.cli import main; rc = main(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)")

    def peak_kib(size: int) -> int:
        out = ["-o", str(tmp_path / f"f{size}")] if to_file else []
        done = subprocess.run([sys.executable, "-c", program, *out, server.url(f"/stream?size={size}")],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=clean_env(),
                              timeout=120, check=True)
        return int(done.stderr.decode().split()[-1])

    small = peak_kib(1000)
    large = peak_kib(96 * MiB)
    assert large - small < 24 * 1024, (small, large)   # KiB: far below the 96 MiB that went through
