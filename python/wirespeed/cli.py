"""The command line: ``python -m wirespeed [METHOD] URL [ITEM ...]``, in the spirit of curl and httpie.

One request through a :class:`wirespeed.ClientSession`; the response body is
streamed to stdout (or to ``-o FILE``) as bytes, chunk by chunk, so a download
of any size runs in bounded memory.  ``docs/cli.md`` has the options, the exit
codes and examples.  This module sits above the client and uses only the
public names of :mod:`wirespeed`.

The progress bar of ``-o FILE`` is drawn by ``tqdm`` when it is installed (the
``cli`` extra) and stderr is a terminal; without it there is no bar and
everything else works the same.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import enum
import importlib
import json
import mimetypes
import os
import re
import secrets
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO, NoReturn

import wirespeed
from wirespeed import (
    BasicAuthMiddleware,
    ClientConnectionError,
    ClientError,
    ClientMiddleware,
    ClientPayloadError,
    ClientResponse,
    ClientSession,
    ClientTimeout,
    DigestAuthMiddleware,
    FormData,
    InvalidRedirect,
    InvalidRequest,
    InvalidURL,
    LocalProtocolError,
    ResponseProtocolError,
    RetryMiddleware,
    ServerDisconnectedError,
    StreamWriter,
    TooManyRedirects,
)

__all__ = ["Exit", "main"]

PROG = "wirespeed"
#: Most bytes taken from the response stream per write to the output.
CHUNK = 64 * 1024
#: The session's own limit on a redirect chain, also the default of ``--max-redirs``.
MAX_REDIRS = 10
#: Seconds allowed for resolving and connecting (TCP and TLS), the library's default.
CONNECT_TIMEOUT = 30.0


class Exit(enum.IntEnum):
    """The exit codes a script can rely on (docs/cli.md has the table)."""

    OK = 0
    USAGE = 1  # bad options or arguments, an unreadable input file, an invalid URL or header
    CONNECT = 2  # could not connect: name resolution, refused, TLS handshake, the proxy refused
    TIMEOUT = 3  # --timeout or --connect-timeout expired
    HTTP = 4  # a 4xx or 5xx status under --fail or --fail-with-body
    PROTOCOL = 5  # a malformed or truncated response, or the server closed mid-response
    REDIRECT = 6  # more redirects than --max-redirs, or a Location that cannot be followed
    WRITE = 7  # the output (stdout or -o FILE) could not be written
    INTERRUPTED = 130  # SIGINT (Ctrl-C): 128 + 2, as a shell reports it


class UsageError(Exception):
    """The command line cannot be run as given."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        usage=f"{PROG} [OPTIONS] [METHOD] URL [ITEM ...]",
        description="Send one request and write the response body to stdout, as bytes.",
        epilog="ITEM: key=value (a JSON string) or key:=json (a raw JSON value); "
        "items make a JSON object the body.  Exit codes: 0 ok, 1 usage, 2 connect, 3 timeout, "
        "4 HTTP error (--fail), 5 protocol, 6 redirect, 7 write, 130 interrupted.",
    )
    add = parser.add_argument
    add("words", nargs="*", metavar="[METHOD] URL [ITEM]", help=argparse.SUPPRESS)
    add("-X", "--request", metavar="METHOD", help="the method, sent as given (default GET, or POST with a body)")
    add("-H", "--header", action="append", default=[], metavar="'NAME: VALUE'",
        help="a request header (repeatable; replaces a default header of the same name)")
    body = parser.add_argument_group("request body (one of)")
    body.add_argument("-d", "--data", metavar="DATA",
                      help="a raw body: DATA as UTF-8, @FILE the file's bytes (streamed), @- stdin's bytes")
    body.add_argument("--json", metavar="JSON", help="a JSON body: JSON text, @FILE or @-; checked, sent compact")
    body.add_argument("-F", "--form", action="append", default=[], metavar="NAME=VALUE|NAME@PATH",
                      help="a multipart/form-data field or file (repeatable); NAME=@PATH is a file too")
    out = parser.add_argument_group("output")
    out.add_argument("-o", "--output", metavar="FILE",
                     help="write the body to FILE (a temp file renamed at the end), with a progress bar "
                     "on stderr when it is a terminal; '-' is stdout")
    out.add_argument("--keep-partial", action="store_true",
                     help="with -o: keep what arrived in FILE when the download fails or is interrupted")
    out.add_argument("-i", "--include", action="store_true", help="write the response head before the body")
    out.add_argument("-I", "--head", action="store_true", help="send HEAD and write the response head")
    out.add_argument("-s", "--silent", action="store_true", help="no progress bar, no error messages")
    out.add_argument("-S", "--show-error", action="store_true", help="with -s: still print error messages")
    out.add_argument("-f", "--fail", action="store_true",
                     help="exit 4 on a 4xx/5xx status, without writing the body")
    out.add_argument("--fail-with-body", action="store_true", help="exit 4 on a 4xx/5xx status, body written")
    conn = parser.add_argument_group("connection")
    conn.add_argument("--timeout", type=_seconds, metavar="SECONDS",
                      help="bound the whole request, body included (default: none)")
    conn.add_argument("--connect-timeout", type=_seconds, default=CONNECT_TIMEOUT, metavar="SECONDS",
                      help=f"bound resolving and connecting (default {CONNECT_TIMEOUT:g})")
    conn.add_argument("--retry", type=_count, default=0, metavar="N",
                      help="retry N times after a 429/500/502/503/504 or a failed connection "
                      "(idempotent methods), with backoff and Retry-After")
    conn.add_argument("-u", "--user", metavar="USER:PASSWORD", help="Basic authentication")
    conn.add_argument("--digest", metavar="USER:PASSWORD", help="Digest authentication (RFC 7616)")
    conn.add_argument("-k", "--insecure", action="store_true", help="do not verify the server's certificate")
    conn.add_argument("-x", "--http-proxy", "--proxy", dest="proxy", metavar="URL",
                      help="send through this http:// proxy (credentials in the URL)")
    conn.add_argument("--no-env", action="store_true",
                      help="ignore HTTP_PROXY, HTTPS_PROXY, NO_PROXY and .netrc")
    conn.add_argument("-L", "--location", action="store_true", help="follow redirects (default: do not)")
    conn.add_argument("--max-redirs", type=_count, default=MAX_REDIRS, metavar="N",
                      help=f"with -L: at most N redirects (default {MAX_REDIRS})")
    parser.add_argument("--version", action="version",
                        version=f"{PROG} {wirespeed.__version__} (wire: {wirespeed.IMPLEMENTATION})")
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


# -- from the command line to a request -----------------------------------------------------

_METHOD = re.compile(r"[A-Za-z]+")
#: ``key=value`` or ``key:=json``: a key without ``/``, ``?``, ``:`` or ``=`` (so no URL matches).
_ITEM = re.compile(r"([^=/?:@]+)(:?)=(.*)", re.S)


@dataclass
class Plan:
    """What the command line asks for, checked and read, before anything is sent."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    data: Any = None
    json_body: Any = None
    has_json: bool = False
    opened: list[IO[bytes]] = field(default_factory=list)

    @property
    def has_body(self) -> bool:
        return self.data is not None or self.has_json

    def close(self) -> None:
        for f in self.opened:
            f.close()


def _split_words(words: Sequence[str]) -> tuple[str | None, str, list[str]]:
    """``[METHOD] URL [ITEM ...]``: the first word is a method when it is letters only and
    the word after it is not an item (so ``localhost a=1`` is a URL and an item)."""
    if not words:
        raise UsageError("a URL is required")
    if len(words) >= 2 and _METHOD.fullmatch(words[0]) and not _ITEM.fullmatch(words[1]):
        method, url, items = words[0].upper(), words[1], list(words[2:])
    else:
        method, url, items = None, words[0], list(words[1:])
    for item in items:
        if not _ITEM.fullmatch(item):
            raise UsageError(f"not an item (key=value or key:=json): {item!r}")
    return method, url, items


def _read_source(spec: str, what: str, opened: list[IO[bytes]], stream: bool) -> Any:
    """``@-`` is stdin's bytes, ``@FILE`` the file (an open file when ``stream``, else its
    bytes), anything else the text itself as UTF-8."""
    if not spec.startswith("@"):
        return spec.encode("utf-8")
    path = spec[1:]
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        if stream:
            f = open(path, "rb")  # noqa: SIM115 - closed by Plan.close once the request has ended
            opened.append(f)
            return f
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise UsageError(f"{what}: cannot read {path!r}: {exc.strerror or exc}") from None


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or name != name.strip():
        raise UsageError(f"not a header ('Name: value'): {text!r}")
    return name, value.strip()


def _credentials(text: str, option: str) -> tuple[str, str]:
    user, sep, password = text.partition(":")
    if not sep or not user:
        raise UsageError(f"{option} needs USER:PASSWORD, not {text!r}")
    return user, password


def _form(specs: Sequence[str], opened: list[IO[bytes]]) -> FormData:
    form = FormData()
    for spec in specs:
        eq, at = spec.find("="), spec.find("@")
        if eq > 0 and (at < 0 or eq < at):  # NAME=VALUE, or NAME=@PATH (curl's spelling of a file)
            name, value = spec[:eq], spec[eq + 1:]
            if not value.startswith("@"):
                form.add_field(name, value)
                continue
            path = value[1:]
        elif at > 0:  # NAME@PATH (httpie's)
            name, path = spec[:at], spec[at + 1:]
        else:
            raise UsageError(f"not a form field (NAME=VALUE or NAME@PATH): {spec!r}")
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed by Plan.close once the request has ended
        except OSError as exc:
            raise UsageError(f"--form: cannot read {path!r}: {exc.strerror or exc}") from None
        opened.append(f)
        ctype = mimetypes.guess_type(path)[0] or "application/octet-stream"
        form.add_field(name, f, filename=os.path.basename(path), content_type=ctype)
    return form


def plan(opts: argparse.Namespace) -> Plan:
    """Check the options and read the body sources; raises :class:`UsageError`."""
    method, url, items = _split_words(opts.words)
    if method is not None and opts.request is not None:
        raise UsageError("give the method once: as a word or with -X")
    method = method if method is not None else opts.request
    if "://" not in url:
        url = "http://" + url  # curl's and httpie's default scheme
    if opts.head:
        if method is not None and method != "HEAD":
            raise UsageError(f"-I sends HEAD, not {method}")
        method = "HEAD"
    if opts.fail and opts.fail_with_body:
        raise UsageError("give one of --fail and --fail-with-body")
    if opts.user and opts.digest:
        raise UsageError("give one of -u and --digest")
    for value, option in ((opts.user, "-u"), (opts.digest, "--digest")):
        if value is not None:
            _credentials(value, option)
    if opts.keep_partial and (opts.output is None or opts.output == "-"):
        raise UsageError("--keep-partial goes with -o FILE")
    sources = [name for name, given in (("-d", opts.data is not None), ("--json", opts.json is not None),
                                        ("--form", bool(opts.form)), ("items", bool(items))) if given]
    if len(sources) > 1:
        raise UsageError(f"one request body only, not {' and '.join(sources)}")
    headers = [_header(h) for h in opts.header]
    p = Plan(method or "GET", url, headers)
    try:
        if opts.data is not None:
            p.data = _read_source(opts.data, "-d", p.opened, stream=True)
        elif opts.json is not None:
            text = _read_source(opts.json, "--json", p.opened, stream=False)
            p.json_body, p.has_json = _loads(text, "--json"), True
        elif opts.form:
            p.data = _form(opts.form, p.opened)
        elif items:
            doc: dict[str, Any] = {}
            for item in items:
                match = _ITEM.fullmatch(item)
                assert match is not None
                key, raw, value = match.groups()
                doc[key] = _loads(value.encode("utf-8"), f"item {key}") if raw else value
            p.json_body, p.has_json = doc, True
    except BaseException:
        p.close()
        raise
    if p.has_json and not any(name.lower() == "accept" for name, _ in headers):
        p.headers.append(("Accept", "application/json, */*;q=0.5"))
    if method is None and p.has_body:
        p.method = "POST"
    return p


def _loads(data: bytes, what: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise UsageError(f"{what}: not JSON: {exc}") from None


# -- output -----------------------------------------------------------------------------------


class _FileSink:
    """``-o FILE``: bytes go to a temp file beside FILE, renamed to FILE once the body has
    ended; on failure or interrupt the temp file is removed, or renamed with ``keep``."""

    def __init__(self, path: str, keep: bool) -> None:
        self.path = path
        self.keep = keep
        directory, name = os.path.split(os.path.abspath(path))
        if os.path.isdir(path):
            raise IsADirectoryError(21, "is a directory", path)
        self.temp = os.path.join(directory, f".{name}.{secrets.token_hex(4)}.part")
        # 0o666 and O_EXCL: the umask applies as to any new file, and nothing is overwritten but FILE
        fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        self.file: BinaryIO = os.fdopen(fd, "wb")
        self.written = 0

    def write(self, data: bytes) -> None:
        self.file.write(data)
        self.written += len(data)

    def commit(self) -> None:
        self.file.close()
        os.replace(self.temp, self.path)

    def abort(self) -> bool:
        """Close and remove the temp file, or keep it as FILE; True when it was kept."""
        with contextlib.suppress(OSError):
            self.file.close()
        try:
            if self.keep:
                os.replace(self.temp, self.path)
                return True
            os.unlink(self.temp)
        except OSError:
            pass
        return False


class _StdoutSink:
    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def write(self, data: bytes) -> None:
        self.stream.write(data)
        self.stream.flush()  # a body that trickles (a log, events) shows as it comes


def _load_tqdm() -> Any:
    """``tqdm.tqdm``, or None when the package is not installed (no progress bar then)."""
    try:
        return importlib.import_module("tqdm").tqdm
    except ImportError:
        return None


class _Progress:
    """A progress bar on stderr: bytes so far, of how many when known, rate and ETA."""

    def __init__(self, total: int | None, name: str, stderr: IO[str]) -> None:
        self.bar: Any = None
        tqdm = _load_tqdm()
        if tqdm is not None:
            try:
                size = os.get_terminal_size(stderr.fileno())
            except (OSError, ValueError, AttributeError):
                size = os.terminal_size((0, 0))
            # a terminal that reports no size (a bare pseudo-terminal) gets 80x24: tqdm draws
            # nothing on a terminal of 0 rows
            shape: dict[str, Any] = {"dynamic_ncols": True} if size.columns > 0 and size.lines > 0 \
                else {"ncols": 80, "nrows": 24}
            self.bar = tqdm(total=total, desc=name, unit="B", unit_scale=True, unit_divisor=1024,
                            file=stderr, leave=True, **shape)

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class _Sink:
    """A transport that keeps what is written: the wire layer serialises the head for ``-i``."""

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: Any) -> None:
        self.data += data

    def writelines(self, pieces: Any) -> None:
        for piece in pieces:
            self.data += piece

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def get_write_buffer_size(self) -> int:
        return 0


def _head_bytes(response: ClientResponse) -> bytes:
    """The status line and header fields as they came (names in their case), as curl's ``-i``.

    The wire layer's writer serialises them (HTTP syntax lives there); a head it
    refuses to write (a version other than 1.0/1.1, a control byte a lenient
    parse let through) is shown one field per line instead.
    """
    sink = _Sink()
    try:
        writer = StreamWriter(sink, direct_writes=False)
        writer.write_response_headers(response.status, response.reason, response.raw_headers, response.version)
        writer.set_eof()
        return bytes(sink.data)
    except (LocalProtocolError, ValueError, TypeError):
        major, minor = response.version
        lines = [f"HTTP/{major}.{minor} {response.status} {response.reason}".encode("latin-1", "replace")]
        lines += [bytes(name) + b": " + bytes(value) for name, value in response.raw_headers]
        return b"\n".join(lines) + b"\n\n"


def _body_total(response: ClientResponse) -> int | None:
    """The body's length as it will be written: unknown when a Content-Encoding is decoded."""
    coding = response.headers.get("Content-Encoding", "identity").strip().lower()
    return response.content_length if coding in ("", "identity") else None


# -- running ----------------------------------------------------------------------------------


@dataclass
class _Context:
    opts: argparse.Namespace
    stdout: BinaryIO
    stderr: IO[str]

    def say(self, message: str) -> None:
        if not self.opts.silent or self.opts.show_error:
            print(f"{PROG}: {message}", file=self.stderr, flush=True)


def _middlewares(opts: argparse.Namespace) -> tuple[ClientMiddleware, ...]:
    chain: list[ClientMiddleware] = []
    if opts.retry:
        chain.append(RetryMiddleware(attempts=opts.retry + 1))  # curl's --retry N: N more tries
    if opts.user is not None:
        chain.append(BasicAuthMiddleware(*_credentials(opts.user, "-u")))
    if opts.digest is not None:
        chain.append(DigestAuthMiddleware(*_credentials(opts.digest, "--digest")))
    return tuple(chain)


async def _run(ctx: _Context, p: Plan) -> int:
    opts = ctx.opts
    session = ClientSession(
        timeout=ClientTimeout(total=opts.timeout, connect=opts.connect_timeout),
        max_redirects=opts.max_redirs,
        ssl=False if opts.insecure else None,
        proxy=opts.proxy,
        trust_env=not opts.no_env,
        middlewares=_middlewares(opts),
    )
    kwargs: dict[str, Any] = {"headers": p.headers, "allow_redirects": opts.location}
    if p.has_json:
        kwargs["json"] = p.json_body
    elif p.data is not None:
        kwargs["data"] = p.data
    async with session, session.request(p.method, p.url, **kwargs) as response:
        if opts.include or opts.head:
            for r in (*response.history, response):
                ctx.stdout.write(_head_bytes(r))
            ctx.stdout.flush()
        failed = (opts.fail or opts.fail_with_body) and response.status >= 400
        if failed:
            ctx.say(f"HTTP error {response.status} {response.reason} ({p.method} {response.url})")
            if opts.fail:
                return Exit.HTTP
        if p.method != "HEAD":
            await _write_body(ctx, response)
        return Exit.HTTP if failed else Exit.OK


async def _bounded(ctx: _Context, p: Plan) -> int:
    """``_run`` within ``--timeout``: the session bounds each send (and a redirect chain) by
    it; this bounds the whole command, retries and their waits included."""
    if ctx.opts.timeout is None:
        return await _run(ctx, p)
    return await asyncio.wait_for(_run(ctx, p), ctx.opts.timeout)


async def _write_body(ctx: _Context, response: ClientResponse) -> None:
    opts = ctx.opts
    if opts.output is None or opts.output == "-":
        sink = _StdoutSink(ctx.stdout)
        async for chunk in _pieces(response):
            sink.write(chunk)
        return
    try:
        file_sink = _FileSink(opts.output, opts.keep_partial)
    except OSError as exc:
        raise _WriteError(f"cannot write {opts.output!r}: {exc.strerror or exc}") from exc
    show = not opts.silent and ctx.stderr.isatty()
    progress = _Progress(_body_total(response), os.path.basename(opts.output), ctx.stderr) if show else None
    try:
        async for chunk in _pieces(response):
            try:
                file_sink.write(chunk)
            except OSError as exc:
                raise _WriteError(f"cannot write {opts.output!r}: {exc.strerror or exc}") from exc
            if progress is not None:
                progress.update(len(chunk))
        try:
            file_sink.commit()
        except OSError as exc:
            raise _WriteError(f"cannot write {opts.output!r}: {exc.strerror or exc}") from exc
    except BaseException:
        if progress is not None:
            progress.close()
            progress = None
        if file_sink.abort():
            ctx.say(f"kept {file_sink.written} bytes, an incomplete body, in {opts.output!r}")
        raise
    finally:
        if progress is not None:
            progress.close()


async def _pieces(response: ClientResponse) -> AsyncIterator[bytes]:
    """The body as it arrives, at most ``CHUNK`` bytes a piece (aiohttp's ``iter_chunked``:
    ``read(n)`` does not wait for ``n`` bytes, so a body that trickles is written as it comes,
    and what arrived before an error is written before the error is raised)."""
    while True:
        piece = await response.content.read(CHUNK)
        if not piece:
            return
        yield piece


class _WriteError(Exception):
    """The output could not be written (the message says which and why)."""


def _exit_for(exc: BaseException) -> tuple[int, str]:
    """The exit code of an error, and the message printed for it."""
    if isinstance(exc, _WriteError):
        return Exit.WRITE, str(exc)
    if isinstance(exc, (InvalidURL, InvalidRequest)):
        return Exit.USAGE, f"cannot send: {exc}"
    if isinstance(exc, asyncio.TimeoutError):  # wirespeed.TimeoutError and its kinds are these too
        return Exit.TIMEOUT, f"timed out: {str(exc) or 'the request took longer than --timeout'}"
    if isinstance(exc, (TooManyRedirects, InvalidRedirect)):
        return Exit.REDIRECT, f"redirect: {exc}"
    if isinstance(exc, ServerDisconnectedError):
        return Exit.PROTOCOL, f"server disconnected: {exc}"
    if isinstance(exc, ClientConnectionError):  # ConnectError, ProxyError
        return Exit.CONNECT, f"could not connect: {exc}"
    if isinstance(exc, (ResponseProtocolError, ClientPayloadError)):
        return Exit.PROTOCOL, f"bad response: {exc}"
    if isinstance(exc, ClientError):
        return Exit.PROTOCOL, str(exc)
    if isinstance(exc, BrokenPipeError):
        return Exit.WRITE, ""  # stdout closed early (`| head`): no message, as the shell expects
    if isinstance(exc, OSError):
        return Exit.WRITE, f"cannot write the output: {exc.strerror or exc}"
    raise exc


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (``sys.argv[1:]`` by default); returns the exit code."""
    parser = build_parser()
    stderr = sys.stderr
    silent = False
    try:
        try:
            opts = parser.parse_intermixed_args(argv)
            silent = opts.silent and not opts.show_error
            p = plan(opts)
        except UsageError as exc:
            stderr.write(parser.format_usage())
            print(f"{PROG}: error: {exc}", file=stderr)
            return Exit.USAGE
        except SystemExit as exc:  # --help, --version
            return exc.code if isinstance(exc.code, int) else Exit.OK
        ctx = _Context(opts, sys.stdout.buffer, stderr)
        try:
            return asyncio.run(_bounded(ctx, p))
        except Exception as exc:
            code, message = _exit_for(exc)
            if message:
                ctx.say(message)
            if code == Exit.WRITE and not isinstance(exc, _WriteError):
                _quiet_stdout()
            return code
        finally:
            p.close()
    except KeyboardInterrupt:
        if not silent:
            print(f"\n{PROG}: interrupted", file=stderr, flush=True)
        return Exit.INTERRUPTED


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so flushing it at exit does not fail again (Python's
    advice for a closed pipe)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
