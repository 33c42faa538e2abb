"""Proxy settings and netrc credentials from the environment (``trust_env=True``).

Each test sets the process environment with ``monkeypatch`` (every proxy
variable of the machine running the tests is removed first), so what is
tested is what a session would read from ``os.environ``.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from yarl import URL

from wirespeed.client._proxies import EnvProxies, ProxyInfo, netrc_auth, proxy_for

VARIABLES = ["http_proxy", "https_proxy", "all_proxy", "no_proxy", "REQUEST_METHOD", "NETRC"]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))   # no ~/.netrc of the machine's
    (tmp_path / "home").mkdir()
    return monkeypatch


def basic(credentials: str) -> str:
    return "Basic " + base64.b64encode(credentials.encode()).decode()


def proxy_url(url: str) -> str | None:
    found = proxy_for(url)
    return None if found is None else str(found.url)


# --------------------------------------------------------------------------- which variable


def test_no_variable_means_no_proxy() -> None:
    assert proxy_for("http://example.com/") is None
    assert not EnvProxies()


@pytest.mark.parametrize("env, url, expected", [
    ({"http_proxy": "http://p:1"}, "http://e.com/", "http://p:1"),
    ({"http_proxy": "http://p:1"}, "https://e.com/", None),
    ({"https_proxy": "http://p:2"}, "https://e.com/", "http://p:2"),
    ({"https_proxy": "http://p:2"}, "http://e.com/", None),
    ({"all_proxy": "http://p:3"}, "http://e.com/", "http://p:3"),
    ({"all_proxy": "http://p:3"}, "https://e.com/", "http://p:3"),
    ({"all_proxy": "http://p:3", "https_proxy": "http://p:2"}, "https://e.com/", "http://p:2"),
    ({"HTTP_PROXY": "http://P:1"}, "http://e.com/", "http://p:1"),
    ({"HTTPS_PROXY": "http://P:2"}, "https://e.com/", "http://p:2"),
    ({"ALL_PROXY": "http://P:3"}, "https://e.com/", "http://p:3"),
], ids=["http", "http-not-for-https", "https", "https-not-for-http", "all-for-http", "all-for-https",
        "scheme-over-all", "upper-http", "upper-https", "upper-all"])
def test_variable_for_the_scheme(clean_env: pytest.MonkeyPatch, env: dict[str, str], url: str,
                                 expected: str | None) -> None:
    for name, value in env.items():
        clean_env.setenv(name, value)
    assert proxy_url(url) == expected


def test_lower_case_wins(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("https_proxy", "http://lower:1")
    clean_env.setenv("HTTPS_PROXY", "http://upper:1")
    assert proxy_url("https://e.com/") == "http://lower:1"


def test_empty_lower_case_counts_as_unset(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("https_proxy", "")
    clean_env.setenv("HTTPS_PROXY", "http://upper:1")
    assert proxy_url("https://e.com/") == "http://upper:1"


def test_upper_case_http_proxy_ignored_under_cgi(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HTTP_PROXY", "http://from-a-request-header:1")
    clean_env.setenv("REQUEST_METHOD", "GET")
    assert proxy_for("http://e.com/") is None
    clean_env.setenv("http_proxy", "http://set-by-the-admin:1")
    assert proxy_url("http://e.com/") == "http://set-by-the-admin:1"


# --------------------------------------------------------------------------- the proxy URL


@pytest.mark.parametrize("value, url, auth", [
    ("proxy:3128", "http://proxy:3128", None),
    ("http://proxy", "http://proxy", None),
    ("https://proxy:8443", "https://proxy:8443", None),
    ("http://proxy:3128/", "http://proxy:3128", None),
    ("http://user:pass@proxy:3128", "http://proxy:3128", basic("user:pass")),
    ("http://us%40er:p%3Ass%20w@proxy:3128", "http://proxy:3128", basic("us@er:p:ss w")),
    ("http://user@proxy:3128", "http://proxy:3128", basic("user:")),
    ("http://j%C3%BCrgen:%C3%A9t%C3%A9@proxy", "http://proxy", basic("jürgen:été")),
    ("http://[::1]:3128", "http://[::1]:3128", None),
    ("  http://proxy:3128  ", "http://proxy:3128", None),
], ids=["no-scheme", "no-port", "https-proxy", "path-dropped", "credentials", "percent-encoded-credentials",
        "user-only", "utf8-credentials", "ipv6-proxy", "spaces"])
def test_proxy_url_and_credentials(clean_env: pytest.MonkeyPatch, value: str, url: str, auth: str | None) -> None:
    clean_env.setenv("http_proxy", value)
    assert proxy_for("http://e.com/") == ProxyInfo(URL(url), auth)


def test_proxy_url_has_no_credentials_left() -> None:
    info = proxy_for("http://e.com/", {"http_proxy": "http://user:secret@proxy:3128"})
    assert info is not None and "secret" not in str(info.url) and info.url.user is None


@pytest.mark.parametrize("value", ["socks5://proxy:1080", "http://", "http://proxy:notaport"],
                         ids=["socks", "no-host", "bad-port"])
def test_unusable_proxy_is_ignored_and_reported(clean_env: pytest.MonkeyPatch, value: str) -> None:
    clean_env.setenv("ALL_PROXY", value)
    proxies = EnvProxies()
    assert proxies.proxy_for("http://e.com/") is None
    assert [name for name, _ in proxies.ignored] == ["ALL_PROXY"]


def test_unusable_scheme_variable_falls_back_to_all_proxy(clean_env: pytest.MonkeyPatch) -> None:
    # A broken https_proxy is reported; the request then goes through all_proxy, as if https_proxy were unset.
    clean_env.setenv("https_proxy", "socks5://p:1")
    clean_env.setenv("all_proxy", "http://all:1")
    proxies = EnvProxies()
    assert str(proxies.proxy_for("https://e.com/").url) == "http://all:1"  # type: ignore[union-attr]
    assert [name for name, _ in proxies.ignored] == ["https_proxy"]


# --------------------------------------------------------------------------- no_proxy


NO_PROXY_CASES = [
    # (no_proxy, request URL, goes direct)
    ("*", "http://anything.example/", True),
    ("example.com", "http://example.com/", True),
    ("example.com", "http://www.example.com/", True),
    ("example.com", "http://notexample.com/", False),
    ("example.com", "http://example.com.evil.org/", False),
    (".example.com", "http://example.com/", True),
    (".example.com", "http://a.b.example.com/", True),
    ("*.example.com", "http://a.example.com/", True),
    ("EXAMPLE.com", "http://www.Example.COM/", True),
    ("example.com.", "http://www.example.com./", True),
    ("other.org, example.com", "http://example.com/", True),
    ("other.org example.com", "http://example.com/", True),
    ("other.org,,example.com ,", "http://example.com/", True),
    ("localhost", "http://localhost:8080/", True),
    ("localhost", "http://127.0.0.1/", False),          # names are not resolved
    ("10.0.0.0/8", "http://10.20.30.40/", True),
    ("10.0.0.0/8", "http://11.0.0.1/", False),
    ("10.0.0.0/8", "http://ten.example/", False),
    ("192.168.1.7", "http://192.168.1.7/", True),
    ("192.168.1.7", "http://192.168.1.8/", False),
    ("192.168.1.7/24", "http://192.168.1.200/", True),  # host bits in a block are allowed
    ("example.com:8080", "http://example.com:8080/", True),
    ("example.com:8080", "http://example.com/", False),
    ("example.com:443", "https://example.com/", True),  # the default port counts
    ("10.1.2.3:8080", "http://10.1.2.3:8080/", True),
    ("10.1.2.3:8080", "http://10.1.2.3:8081/", False),
    ("::1", "http://[::1]:8080/", True),
    ("[::1]", "http://[::1]/", True),
    ("[::1]:8080", "http://[::1]:8080/", True),
    ("[::1]:8080", "http://[::1]:9090/", False),
    ("fd00::/8", "http://[fd12:3456::1]/", True),
    ("fd00::/8", "http://[fe80::1]/", False),
    ("2001:db8::/32", "http://[2001:db8:1::5]/", True),
    ("", "http://example.com/", False),
]


@pytest.mark.parametrize("no_proxy, url, direct", NO_PROXY_CASES,
                         ids=[f"{n or 'empty'}->{u}" for n, u, _ in NO_PROXY_CASES])
def test_no_proxy(clean_env: pytest.MonkeyPatch, no_proxy: str, url: str, direct: bool) -> None:
    clean_env.setenv("all_proxy", "http://proxy:3128")
    clean_env.setenv("no_proxy", no_proxy)
    assert (proxy_for(url) is None) is direct


def test_lower_case_no_proxy_wins(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("http_proxy", "http://proxy:3128")
    clean_env.setenv("no_proxy", "a.example")
    clean_env.setenv("NO_PROXY", "b.example")
    assert proxy_for("http://a.example/") is None
    assert proxy_for("http://b.example/") is not None


def test_upper_case_no_proxy_alone(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HTTP_PROXY", "http://proxy:3128")
    clean_env.setenv("NO_PROXY", "b.example")
    assert proxy_for("http://b.example/") is None


def test_entries_not_understood_are_reported(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("http_proxy", "http://proxy:3128")
    clean_env.setenv("NO_PROXY", "host:port, 10.0.0.0/99, [::1, ok.example")
    proxies = EnvProxies()
    assert sorted(reason for _, reason in proxies.ignored) == [
        "entry '10.0.0.0/99' is not understood", "entry '[::1' is not understood",
        "entry 'host:port' is not understood"]
    assert proxies.proxy_for("http://ok.example/") is None


def test_env_proxies_is_a_snapshot(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("http_proxy", "http://before:1")
    proxies = EnvProxies()
    clean_env.setenv("http_proxy", "http://after:1")
    assert str(proxies.proxy_for("http://e.com/").url) == "http://before:1"  # type: ignore[union-attr]
    assert proxy_url("http://e.com/") == "http://after:1"


# --------------------------------------------------------------------------- netrc


NETRC = """\
machine api.example.com login alice password s3cr3t
machine other.example.com
    login bob
    password "pass word"
default login anon password guest
"""


def test_netrc_from_the_netrc_variable(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "my-netrc"
    path.write_text(NETRC)
    clean_env.setenv("NETRC", str(path))
    assert netrc_auth("api.example.com") == ("alice", "s3cr3t")
    assert netrc_auth("other.example.com") == ("bob", "pass word")
    assert netrc_auth("unknown.example.com") == ("anon", "guest")


def test_netrc_from_home(tmp_path: Path) -> None:
    (tmp_path / "home" / ".netrc").write_text("machine h.example login u password p\n")
    assert netrc_auth("h.example") == ("u", "p")
    assert netrc_auth("x.example") is None


def test_netrc_from_home_need_not_be_private(tmp_path: Path) -> None:
    path = tmp_path / "home" / ".netrc"
    path.write_text("machine h.example login u password p\n")
    path.chmod(0o644)
    assert netrc_auth("h.example") == ("u", "p")


def test_no_netrc_file(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert netrc_auth("h.example") is None
    clean_env.setenv("NETRC", str(tmp_path / "missing"))
    assert netrc_auth("h.example") is None


def test_unparseable_netrc_gives_nothing(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "bad"
    path.write_text("machine h.example login u frobnicate p\n")
    clean_env.setenv("NETRC", str(path))
    assert netrc_auth("h.example") is None


def test_netrc_environ_argument(tmp_path: Path) -> None:
    path = tmp_path / "n"
    path.write_text("machine h.example login u password p\n")
    assert netrc_auth("h.example", {"NETRC": str(path)}) == ("u", "p")
