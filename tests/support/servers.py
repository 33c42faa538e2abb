"""Start and stop the real HTTP servers of the interop tests, each in its own temp dir.

Every server listens on 127.0.0.1 only, on a port picked free by the kernel,
with its config, document root, logs, pid file and temp paths under one
directory made for it.  A server runs under ``tests/support/supervise.py`` in its own
process group (a new session), so stopping it reaches the workers it forked:
SIGTERM to the group, then SIGKILL if it has not exited in time.  The
supervisor does that when its stdin pipe from this process closes, so the
servers go away even if the test process is killed outright.  ``running(...)``
is a context manager, so a server is stopped even when a test or the start
itself fails.

The document root holds the same files for every server (``FILES``); the
Python apps of ``tests/support/interop_apps.py`` serve them under ``/static/``, nginx
and Apache at ``/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

KiB = 1024
MiB = 1024 * KiB

HERE = Path(__file__).resolve().parent
APACHE_MODULES = Path("/usr/lib/apache2/modules")
#: How long a server may take to accept connections (a cold Python import of aiohttp is the slowest).
START_TIMEOUT = 20.0
#: How long a stopped server may take to exit before it is killed.
STOP_TIMEOUT = 5.0


def _files() -> dict[str, bytes]:
    rng = random.Random(20261201)
    words = [b"alpha", b"bravo", b"charlie", b"delta", b"echo", b"foxtrot", b"golf", b"hotel"]
    text = b" ".join(rng.choice(words) for _ in range(200_000))  # about 1.2 MiB, compressible
    return {
        "small.txt": b"hello from the interop document root\n",
        "big.bin": rng.randbytes(4 * MiB),  # incompressible, so no server shrinks it
        "text.txt": text,
    }


#: name -> content of the document root shared by every server.
FILES = _files()


@dataclass
class Server:
    """A running server: where it listens, how its paths are spelled, what it supports."""

    name: str
    port: int
    workdir: Path
    static_prefix: str  # "" (nginx, Apache) or "/static" (the Python apps)
    gzip_prefix: str  # a file under this prefix comes gzip-compressed and chunked (Accept-Encoding: gzip)
    echo_path: str | None = None  # POST here returns {"length", "sha256"} of the request body
    process: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def static(self, name: str) -> str:
        return f"{self.static_prefix}/{name}"

    def gzipped(self, name: str) -> str:
        return f"{self.gzip_prefix}/{name}"

    def logs(self) -> str:
        """The tail of every log in the work dir, for a failure message."""
        out = []
        for path in sorted(self.workdir.glob("*.log")):
            text = path.read_text(errors="replace")[-3000:]
            out.append(f"--- {path.name}\n{text}")
        return "\n".join(out)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_workdir(name: str) -> Path:
    """A fresh directory with the document root, readable by an unprivileged worker (Apache's ``nobody``)."""
    workdir = Path(tempfile.mkdtemp(prefix=f"wirespeed-{name}-"))
    workdir.chmod(0o755)
    docroot = workdir / "www"
    docroot.mkdir(mode=0o755)
    for fname, data in FILES.items():
        path = docroot / fname
        path.write_bytes(data)
        path.chmod(0o644)
    return workdir


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Close the supervisor's pipe (it stops the group), SIGKILL the group as a backstop; always reaped."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        process.wait(STOP_TIMEOUT + 2)
    except subprocess.TimeoutExpired:
        pass
    # Workers may outlive the leader; the group id is the supervisor's pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextlib.contextmanager
def running(server: Server, argv: list[str], env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start ``argv``, wait until ``server.port`` accepts, yield, stop; the work dir is removed at the end."""
    log = (server.workdir / "stdio.log").open("wb")
    supervised = [sys.executable, "-I", str(HERE / "supervise.py"), str(STOP_TIMEOUT), *argv]
    process = subprocess.Popen(
        supervised, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
        cwd=server.workdir, env=env, start_new_session=True,
    )
    server.process = process
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _listening(server.port):
            if process.poll() is not None:
                raise RuntimeError(f"{server.name} exited with {process.returncode} at start\n{server.logs()}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{server.name} did not listen on {server.host} in {START_TIMEOUT}s\n{server.logs()}"
                )
            time.sleep(0.05)
        yield server
    finally:
        _stop(process)
        log.close()
        shutil.rmtree(server.workdir, ignore_errors=True)


# --------------------------------------------------------------------------- nginx


def nginx_config(server: Server) -> str:
    w = server.workdir
    # `user` only means something to a root master; as root, workers stay root
    # so that they can read the work dir whatever its owner.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""
{user}
worker_processes 1;
pid {w}/nginx.pid;
error_log {w}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {w}/access.log;
    client_body_temp_path {w}/client_body;
    proxy_temp_path {w}/proxy;
    fastcgi_temp_path {w}/fastcgi;
    uwsgi_temp_path {w}/uwsgi;
    scgi_temp_path {w}/scgi;
    types {{ text/plain txt; application/octet-stream bin; }}
    default_type application/octet-stream;
    sendfile on;
    keepalive_requests 1000;
    client_max_body_size 64m;
    server {{
        listen 127.0.0.1:{server.port};
        server_name localhost;
        root {w}/www;
        gzip on;
        gzip_types text/plain;
        gzip_min_length 0;
        location = /empty {{
            return 204;
        }}
        location /upload/ {{
            # WebDAV PUT stores the request body, so an upload can be read back.
            dav_methods PUT;
            create_full_put_path on;
        }}
    }}
}}
"""


@contextlib.contextmanager
def nginx() -> Iterator[Server]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    workdir = make_workdir("nginx")
    server = Server("nginx", free_port(), workdir, "", "")
    (workdir / "nginx.conf").write_text(nginx_config(server))
    argv = [binary, "-p", str(workdir), "-e", str(workdir / "error.log"), "-c", str(workdir / "nginx.conf"),
            "-g", "daemon off;"]
    with running(server, argv) as s:
        yield s


# --------------------------------------------------------------------------- Apache httpd

APACHE_MODULE_NAMES = ["mpm_prefork", "authz_core", "mime", "dir", "alias", "filter", "deflate", "headers", "cgi"]

CGI_ECHO = r"""#!/bin/sh
# Answers the length and SHA-256 of the request body.  Apache has removed any
# chunked framing and closes stdin after the last byte.  Plain sh and
# coreutils: the CGI runs as an unprivileged user that may not reach the venv.
f=$(mktemp) || exit 1
cat > "$f"
len=$(($(wc -c < "$f")))
sum=$(sha256sum "$f" | cut -d' ' -f1)
rm -f "$f"
body="{\"length\": $len, \"sha256\": \"$sum\"}"
printf 'Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s' "${#body}" "$body"
"""


def _apache_base(server: Server, modules: list[str], workers: tuple[int, int, int], www: str = "") -> str:
    """The configuration both Apache fixtures share: paths in the workdir, loopback, prefork
    ``workers`` (start, max spare, max), the document root and the CGI directory."""
    w = server.workdir
    loads = "\n".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in modules)
    user = "User nobody\nGroup nogroup" if os.geteuid() == 0 else ""
    start, spare, most = workers
    return f"""
ServerRoot "{w}"
DefaultRuntimeDir "{w}"
PidFile "{w}/httpd.pid"
ErrorLog "{w}/error.log"
LogLevel warn
Listen 127.0.0.1:{server.port}
ServerName 127.0.0.1
{loads}
{user}
StartServers {start}
MinSpareServers 1
MaxSpareServers {spare}
MaxRequestWorkers {most}
KeepAlive On
MaxKeepAliveRequests 1000
KeepAliveTimeout 5
TypesConfig "{w}/mime.types"
DocumentRoot "{w}/www"
<Directory "/">
    Require all denied
</Directory>
<Directory "{w}/www">
    Require all granted{www}
</Directory>
ScriptAlias /cgi/ "{w}/cgi/"
<Directory "{w}/cgi">
    Require all granted
</Directory>
"""


def apache_config(server: Server) -> str:
    return _apache_base(server, APACHE_MODULE_NAMES, (2, 4, 16), "\n    SetOutputFilter DEFLATE")


def _prepare_apache(workdir: Path) -> None:
    """What every Apache fixture needs in its workdir besides its config: mime types and the echo CGI."""
    (workdir / "mime.types").write_text("text/plain txt\napplication/octet-stream bin\n")
    cgi = workdir / "cgi"
    cgi.mkdir(mode=0o755)
    (cgi / "echo").write_text(CGI_ECHO)
    (cgi / "echo").chmod(0o755)


@contextlib.contextmanager
def _run_apache(server: Server, config: str) -> Iterator[Server]:
    binary = shutil.which("apache2") or "/usr/sbin/apache2"
    (server.workdir / "httpd.conf").write_text(config)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C"}
    with running(server, [binary, "-f", str(server.workdir / "httpd.conf"), "-DFOREGROUND"], env=env) as s:
        yield s


@contextlib.contextmanager
def apache() -> Iterator[Server]:
    workdir = make_workdir("apache")
    server = Server("apache", free_port(), workdir, "", "", echo_path="/cgi/echo")
    _prepare_apache(workdir)
    with _run_apache(server, apache_config(server)) as s:
        yield s


# --------------------------------------------------------------------------- Apache httpd with mod_auth_digest

#: The one user of the Digest fixture's htdigest file, and its realm.
APACHE_DIGEST_USER = "Mufasa"
APACHE_DIGEST_PASSWORD = "Circle of Life"
APACHE_DIGEST_REALM = "wirespeed digest"
APACHE_DIGEST_MODULES = ["mpm_prefork", "authz_core", "authz_user", "authn_core", "authn_file", "auth_digest",
                         "mime", "dir", "alias", "cgi"]
#: Seconds a nonce of ``/short/`` lives before Apache answers ``stale=true``.
APACHE_DIGEST_SHORT_NONCE = 1
#: name -> (location, extra directives, body of the file ``secret.txt`` served there).
APACHE_DIGEST_AREAS = {
    "private": ("/private/", 'AuthDigestDomain "/private/" "/cgi/"', b"the private area\n"),
    "short": ("/short/", f'AuthDigestDomain "/short/"\n    AuthDigestNonceLifetime {APACHE_DIGEST_SHORT_NONCE}',
              b"a short-lived nonce\n"),
    "noqop": ("/noqop/", 'AuthDigestDomain "/noqop/"\n    AuthDigestQop none', b"RFC 2069 digest\n"),
}


def htdigest_line(user: str, realm: str, password: str) -> str:
    """A line of an ``htdigest`` file: ``user:realm:MD5(user:realm:password)``."""
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    return f"{user}:{realm}:{ha1}\n"


def apache_digest_config(server: Server) -> str:
    """Apache with Digest (MD5, qop=auth; ``/noqop/``: no qop) over ``/private/``, ``/cgi/``, ``/short/``.

    mod_auth_digest implements neither ``MD5-sess`` (its config check says so),
    SHA-256 nor ``qop=auth-int``: those are tested against the aiohttp app.
    """
    w = server.workdir
    auth = f"""AuthType Digest
    AuthName "{APACHE_DIGEST_REALM}"
    AuthDigestProvider file
    AuthUserFile "{w}/htdigest"
    Require valid-user"""
    areas = "\n".join(f"""<Location "{location}">
    {auth}
    {extra}
</Location>""" for location, extra, _ in APACHE_DIGEST_AREAS.values())
    return _apache_base(server, APACHE_DIGEST_MODULES, (1, 2, 8)) + f"""
<Location "/cgi/">
    {auth}
    AuthDigestDomain "/private/" "/cgi/"
</Location>
{areas}
"""


@contextlib.contextmanager
def apache_digest() -> Iterator[Server]:
    """Apache with mod_auth_digest: ``/private/secret.txt``, ``/short/secret.txt``, ``/noqop/secret.txt``
    and the body-digest CGI at ``/cgi/echo`` need Digest credentials (``APACHE_DIGEST_USER``); the
    document root's files (``/small.txt``...) do not."""
    workdir = make_workdir("apache-digest")
    server = Server("apache-digest", free_port(), workdir, "", "", echo_path="/cgi/echo")
    _prepare_apache(workdir)
    for name, (_, _, body) in APACHE_DIGEST_AREAS.items():
        area = workdir / "www" / name
        area.mkdir(mode=0o755)
        (area / "secret.txt").write_bytes(body)
        (area / "secret.txt").chmod(0o644)
    (workdir / "htdigest").write_text(htdigest_line(APACHE_DIGEST_USER, APACHE_DIGEST_REALM, APACHE_DIGEST_PASSWORD))
    (workdir / "htdigest").chmod(0o644)
    with _run_apache(server, apache_digest_config(server)) as s:
        yield s


# --------------------------------------------------------------------------- the Python apps


@contextlib.contextmanager
def python_app(kind: str, http: str = "") -> Iterator[Server]:
    """``kind`` is ``aiohttp`` or ``uvicorn``; for uvicorn, ``http`` picks ``httptools`` or ``h11``."""
    name = f"{kind}-{http}" if http else kind
    workdir = make_workdir(name)
    server = Server(name, free_port(), workdir, "/static", "/gzip", echo_path="/echo")
    argv = [sys.executable, "-X", "utf8", str(HERE / "interop_apps.py"), kind, str(server.port), str(workdir / "www")]
    with running(server, [*argv, http] if http else argv) as s:
        yield s


# --------------------------------------------------------------------------- the client tests' apps


@contextlib.contextmanager
def client_app(kind: str, tls: tuple[Path, Path] | None = None) -> Iterator[Server]:
    """``kind`` is ``aiohttp`` or ``uvicorn`` (httptools), serving ``tests/support/client_apps.py``'s routes.

    ``tls`` is a (certificate chain, private key) pair of PEM files: the
    aiohttp app then serves HTTPS.
    """
    name = f"client-{kind}{'-tls' if tls else ''}"
    workdir = Path(tempfile.mkdtemp(prefix=f"wirespeed-{name}-"))
    server = Server(name, free_port(), workdir, "", "")
    argv = [sys.executable, "-X", "utf8", str(HERE / "client_apps.py"), kind, str(server.port)]
    if tls is not None:
        argv += [str(tls[0]), str(tls[1])]
    with running(server, argv) as s:
        yield s
