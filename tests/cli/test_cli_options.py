"""Each option of ``python -m wirespeed``, end to end against the local server."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from support.client_apps import AUTH_USERS, SMALL, stream_body
from support.forward_proxy import proxy_in_thread

USER, PASSWORD = "Mufasa", AUTH_USERS["Mufasa"]


def echo(done: Any) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    doc: dict[str, Any] = json.loads(done.stdout)
    return doc


def header(doc: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in doc["headers"] if k.lower() == name.lower()]


# -- method and URL ---------------------------------------------------------------------------


def test_get_writes_the_body_to_stdout(cli: Any, server: Any) -> None:
    done = cli(server.url("/small"))
    assert (done.returncode, done.stdout, done.stderr) == (0, SMALL, "")


def test_the_scheme_defaults_to_http(cli: Any, server: Any) -> None:
    assert cli(f"127.0.0.1:{server.port}/small").stdout == SMALL


@pytest.mark.parametrize(
    ("before", "after", "method"),
    [
        ((), (), "GET"),
        ((), ("-d", "x"), "POST"),
        ((), ("--json", "{}"), "POST"),
        ((), ("a=1",), "POST"),
        ((), ("--form", "a=1"), "POST"),
        (("PUT",), (), "PUT"),
        (("delete",), (), "DELETE"),
        (("PATCH",), ("-d", "x"), "PATCH"),
        (("-X", "OPTIONS"), (), "OPTIONS"),
        (("-X", "PUT", "-d", "x"), (), "PUT"),
        (("-d", "x", "PUT"), (), "PUT"),   # options and words intermixed
    ],
)
def test_the_method(cli: Any, server: Any, before: tuple[str, ...], after: tuple[str, ...], method: str) -> None:
    assert echo(cli(*before, server.url("/echo"), *after))["method"] == method


def test_head_shows_the_response_head(cli: Any, server: Any) -> None:
    done = cli("-I", server.url("/small"))
    assert done.returncode == 0
    head = done.stdout.decode("latin-1")
    assert head.startswith("HTTP/1.1 200 OK\r\n") and head.endswith("\r\n\r\n")
    assert f"Content-Length: {len(SMALL)}\r\n" in head
    assert SMALL not in done.stdout


def test_include_writes_the_head_then_the_body(cli: Any, server: Any) -> None:
    done = cli("-i", server.url("/small"))
    head, sep, body = done.stdout.partition(b"\r\n\r\n")
    assert sep and body == SMALL
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nContent-Type: text/plain" in head


# -- headers and bodies -----------------------------------------------------------------------


def test_headers_repeat_and_replace_defaults(cli: Any, server: Any) -> None:
    doc = echo(cli("-H", "X-One: 1", "-H", "X-One: 2", "-H", "User-Agent: tester/1", "-H", "X-Empty:",
                   server.url("/echo")))
    assert header(doc, "X-One") == ["1", "2"]
    assert header(doc, "User-Agent") == ["tester/1"]
    assert header(doc, "X-Empty") == [""]


def test_data_is_sent_as_given(cli: Any, server: Any) -> None:
    doc = echo(cli("-d", "caf\u00e9=1&b=2", server.url("/echo")))
    assert doc["body"].encode("latin-1") == "caf\u00e9=1&b=2".encode()
    assert header(doc, "Content-Type") == []   # a raw body: only what -H says


def test_data_from_a_file_is_streamed_byte_exact(cli: Any, server: Any, tmp_path: Path) -> None:
    payload = os.urandom(300_000) + bytes(range(256))
    (tmp_path / "in.bin").write_bytes(payload)
    done = cli("-d", f"@{tmp_path / 'in.bin'}", "-H", "Content-Type: application/octet-stream", server.url("/cli/raw"))
    assert done.returncode == 0 and done.stdout == payload


def test_stdin_to_stdout_round_trips_binary(cli: Any, server: Any) -> None:
    payload = bytes(range(256)) * 1000 + b"\r\n\x00\x1a\xff" + os.urandom(70_000)
    done = cli("-d", "@-", server.url("/cli/raw"), input=payload)
    assert done.returncode == 0, done.stderr
    assert done.stdout == payload


def test_an_empty_body_is_a_post_with_length_zero(cli: Any, server: Any) -> None:
    doc = echo(cli("-d", "", server.url("/echo")))
    assert doc["method"] == "POST" and doc["length"] == 0 and header(doc, "Content-Length") == ["0"]


def test_json_text_file_and_items(cli: Any, server: Any, tmp_path: Path) -> None:
    doc = echo(cli("--json", '{"a": [1, 2], "b": null}', server.url("/echo")))
    assert json.loads(doc["body"]) == {"a": [1, 2], "b": None}
    assert header(doc, "Content-Type") == ["application/json"]
    assert header(doc, "Accept") == ["application/json, */*;q=0.5"]
    (tmp_path / "doc.json").write_text('{"from": "file"}')
    doc = echo(cli("--json", f"@{tmp_path / 'doc.json'}", server.url("/echo")))
    assert json.loads(doc["body"]) == {"from": "file"}
    doc = echo(cli(server.url("/echo"), "name=wire", "n:=3", "flags:=[true]", "-H", "Accept: text/plain"))
    assert json.loads(doc["body"]) == {"name": "wire", "n": 3, "flags": [True]}
    assert header(doc, "Accept") == ["text/plain"]


def test_form_fields_and_files(cli: Any, server: Any, tmp_path: Path) -> None:
    payload = os.urandom(100_000)
    (tmp_path / "photo.png").write_bytes(payload)
    (tmp_path / "notes.txt").write_text("notes")
    done = cli("--form", "title=a b", "--form", f"image@{tmp_path / 'photo.png'}",
               "-F", f"notes=@{tmp_path / 'notes.txt'}", server.url("/form"))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["fields"] == {"title": "a b"}
    image = doc["files"]["image"]
    assert image["filename"] == "photo.png" and image["content_type"] == "image/png"
    assert image["sha256"] == hashlib.sha256(payload).hexdigest()
    assert doc["files"]["notes"]["filename"] == "notes.txt" and doc["files"]["notes"]["size"] == 5


# -- redirects --------------------------------------------------------------------------------


def test_redirects_are_not_followed_by_default(cli: Any, server: Any) -> None:
    done = cli("-i", server.url("/redirect/302?to=/small"))
    assert done.returncode == 0
    assert done.stdout.startswith(b"HTTP/1.1 302 Found\r\n") and done.stdout.endswith(b"status 302")


def test_location_follows_and_shows_every_head(cli: Any, server: Any) -> None:
    done = cli("-L", server.url("/redirect/302?to=/small"))
    assert (done.returncode, done.stdout) == (0, SMALL)
    done = cli("-L", "-i", server.url("/chain/2"))
    heads = done.stdout.split(b"\r\n\r\n")
    assert [h.split(b"\r\n")[0] for h in heads[:3]] == [b"HTTP/1.1 302 Found"] * 2 + [b"HTTP/1.1 200 OK"]
    assert json.loads(heads[3])["method"] == "GET"


def test_max_redirs(cli: Any, server: Any) -> None:
    assert cli("-L", "--max-redirs", "3", server.url("/chain/3")).returncode == 0
    done = cli("-L", "--max-redirs", "2", server.url("/chain/3"))
    assert done.returncode == 6 and "redirect" in done.stderr


# -- authentication, retries, proxies, TLS ----------------------------------------------------


def test_basic_auth(cli: Any, server: Any) -> None:
    assert cli(server.url("/basic")).stdout == b"basic required"
    doc = echo(cli("-u", f"{USER}:{PASSWORD}", server.url("/basic")))
    assert doc["user"] == USER


@pytest.mark.parametrize("route", ["/digest/MD5/auth/x", "/digest/SHA-256/auth-int/x"])
def test_digest_auth(cli: Any, server: Any, route: str) -> None:
    assert cli("--fail", server.url(route)).returncode == 4
    doc = echo(cli("--digest", f"{USER}:{PASSWORD}", server.url(route), "-d", "body"))
    assert doc["user"] == USER and doc["length"] == 4


def test_retry(cli: Any, server: Any) -> None:
    done = cli("--retry", "2", server.url("/flaky/cli-retry-a/2?retry_after=0"))
    assert json.loads(done.stdout)["attempt"] == 3
    done = cli("--retry", "1", "--fail", server.url("/flaky/cli-retry-b/2?retry_after=0"))
    assert done.returncode == 4 and "503" in done.stderr
    done = cli("--fail", server.url("/flaky/cli-retry-c/1?retry_after=0"))   # no --retry: one try
    assert done.returncode == 4


def test_http_proxy(cli: Any, server: Any) -> None:
    with proxy_in_thread(auth=("pu", "pw")) as proxy:
        done = cli("--http-proxy", f"http://pu:pw@127.0.0.1:{proxy.url.port}", server.url("/small"))
        assert (done.returncode, done.stdout) == (0, SMALL)
        assert [(r.method, r.target, r.status) for r in proxy.requests] == [("GET", server.url("/small"), 200)]
        done = cli("-x", str(proxy.url), server.url("/small"))   # no credentials: 407
        assert done.returncode == 2 and "407" in done.stderr


def test_the_environment_proxy_is_used_unless_no_env(cli: Any, server: Any) -> None:
    from cli_kit import clean_env

    with proxy_in_thread() as proxy:
        env = clean_env(HTTP_PROXY=str(proxy.url))
        assert cli(server.url("/small"), env=env).stdout == SMALL
        assert len(proxy.requests) == 1
        assert cli("--no-env", server.url("/small"), env=env).stdout == SMALL
        assert len(proxy.requests) == 1


def test_insecure(cli: Any, server: Any) -> None:
    done = cli(server.tls_url("/small"))
    assert done.returncode == 2 and "certificate" in done.stderr.lower()
    done = cli("--insecure", server.tls_url("/small"))
    assert (done.returncode, done.stdout) == (0, SMALL)
    assert cli("-k", server.tls_url("/small")).stdout == SMALL


# -- output -----------------------------------------------------------------------------------


def test_silent_and_show_error(cli: Any, server: Any) -> None:
    done = cli("-s", "--fail", server.url("/status/404"))
    assert (done.returncode, done.stdout, done.stderr) == (4, b"", "")
    done = cli("-sS", "--fail", server.url("/status/404"))
    assert done.returncode == 4 and "404" in done.stderr


def test_a_decoded_body_is_written_decoded(cli: Any, server: Any) -> None:
    done = cli(server.url("/cli/gzip?size=300000"))
    assert done.stdout == stream_body(300_000)


def test_output_to_a_file(cli: Any, server: Any, tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    done = cli("-o", str(target), server.url("/stream?size=1000000"))
    assert (done.returncode, done.stdout, done.stderr) == (0, b"", "")   # stderr is a pipe: no bar
    assert target.read_bytes() == stream_body(1_000_000)
    assert os.listdir(tmp_path) == ["out.bin"]
    assert target.stat().st_mode & 0o777 == 0o666 & ~_umask()
    done = cli("-o", "-", server.url("/small"))
    assert done.stdout == SMALL


def test_output_replaces_an_existing_file_only_when_done(cli: Any, server: Any, tmp_path: Path) -> None:
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    assert cli("--fail", "-o", str(target), server.url("/status/500")).returncode == 4
    assert target.read_bytes() == b"old"
    assert cli("-o", str(target), server.url("/small")).returncode == 0
    assert target.read_bytes() == SMALL


def test_include_with_output_puts_the_head_on_stdout(cli: Any, server: Any, tmp_path: Path) -> None:
    done = cli("-i", "-o", str(tmp_path / "f"), server.url("/small"))
    assert done.stdout.startswith(b"HTTP/1.1 200 OK\r\n") and done.stdout.endswith(b"\r\n\r\n")
    assert (tmp_path / "f").read_bytes() == SMALL


def test_version_and_help(cli: Any) -> None:
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.decode().startswith("wirespeed 0.")
    done = cli("--help")
    assert done.returncode == 0 and b"--max-redirs" in done.stdout


def test_basic_credentials_stay_on_their_origin(cli: Any, server: Any) -> None:
    # a redirect to another origin (the TLS port) goes without the Authorization header
    target = server.tls_url("/echo")
    doc = echo(cli("-k", "-L", "-u", f"{USER}:{PASSWORD}", server.url(f"/redirect/302?to={target}")))
    assert header(doc, "Authorization") == []
    doc = echo(cli("-u", f"{USER}:{PASSWORD}", server.url("/echo")))
    assert header(doc, "Authorization") == ["Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
