"""The cookie jar against RFC 6265: what Set-Cookie lines store and what Cookie headers they give.

Most cases are one table: a sequence of (URL, Set-Cookie line) a server
sent, a request URL, and the Cookie header the jar must produce for it.
The rest are behaviours a table cannot show: expiry on a clock the test
moves, the public suffix list, IP hosts, the caller's own cookies, saving
and loading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http.cookies import Morsel, SimpleCookie
from pathlib import Path

import pytest
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from wirespeed.client._cookies import (
    MAX_AGE_CAP,
    MAX_COOKIES_PER_DOMAIN,
    CookieJar,
    DummyCookieJar,
    parse_cookie_date,
)

NOW = 1_700_000_000.0  # 2023-11-14T22:13:20Z
PAST = "Thu, 01 Jan 1970 00:00:00 GMT"
FUTURE = "Fri, 01 Jan 2100 00:00:00 GMT"


class Clock:
    """Wall-clock seconds that only the test moves."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def jar_with(*sets: tuple[str, str], unsafe: bool = False, clock: Clock | None = None) -> CookieJar:
    jar = CookieJar(unsafe=unsafe, clock=clock or Clock())
    for url, line in sets:
        jar.update_from_response(CIMultiDictProxy(CIMultiDict([("Set-Cookie", line)])), URL(url))
    return jar


@dataclass
class Case:
    id: str
    sets: list[tuple[str, str]]
    request: str
    expected: str | None


E = "http://example.com"
W = "http://www.example.com"
S = "https://example.com"

CASES = [
    # host-only and Domain (§5.3 steps 5-6, §5.1.3)
    Case("host-only-to-its-host", [(E + "/", "a=1")], E + "/", "a=1"),
    Case("host-only-not-to-a-subdomain", [(E + "/", "a=1")], W + "/", None),
    Case("domain-cookie-to-a-subdomain", [(W + "/", "a=1; Domain=example.com")], "http://x.y.example.com/", "a=1"),
    Case("domain-cookie-to-the-domain-itself", [(W + "/", "a=1; Domain=example.com")], E + "/", "a=1"),
    Case("leading-dot-of-domain-ignored", [(W + "/", "a=1; Domain=.example.com")], "http://x.example.com/", "a=1"),
    Case("domain-is-case-insensitive", [(W + "/", "a=1; DOMAIN=Example.COM")], E + "/", "a=1"),
    Case("domain-not-matching-the-host-refused", [(E + "/", "a=1; Domain=other.com")], "http://other.com/", None),
    Case("domain-of-a-sibling-refused", [("http://a.example.com/", "a=1; Domain=b.example.com")],
         "http://b.example.com/", None),
    Case("domain-not-on-a-label-boundary-refused", [(E + "/", "a=1; Domain=ample.com")], "http://ample.com/", None),
    Case("domain-cookie-not-to-a-lookalike", [(E + "/", "a=1; Domain=example.com")], "http://notexample.com/", None),
    Case("empty-domain-attribute-ignored", [(E + "/", "a=1; Domain=")], W + "/", None),
    Case("idn-domain-attribute", [("http://www.xn--e1afmkfd.xn--p1ai/", "a=1; Domain=пример.рф")],
         "http://xn--e1afmkfd.xn--p1ai/", "a=1"),
    Case("idn-request-host", [("http://www.xn--e1afmkfd.xn--p1ai/", "a=1; Domain=пример.рф")],
         "http://пример.рф/", "a=1"),
    # public suffixes
    Case("icann-suffix-refused", [("http://www.example.co.uk/", "a=1; Domain=co.uk")], "http://other.co.uk/", None),
    Case("icann-suffix-refused-for-the-setter-too", [("http://www.example.co.uk/", "a=1; Domain=co.uk")],
         "http://www.example.co.uk/", None),
    Case("private-suffix-refused", [("http://me.github.io/", "a=1; Domain=github.io")], "http://you.github.io/", None),
    Case("under-a-private-suffix-accepted", [("http://a.me.github.io/", "a=1; Domain=me.github.io")],
         "http://b.me.github.io/", "a=1"),
    Case("tld-refused", [(E + "/", "a=1; Domain=com")], "http://other.com/", None),
    Case("suffix-equal-to-the-host-is-host-only", [("http://github.io/", "a=1; Domain=github.io")],
         "http://github.io/", "a=1"),
    Case("suffix-equal-to-the-host-not-to-subdomains", [("http://github.io/", "a=1; Domain=github.io")],
         "http://me.github.io/", None),
    # Path (§5.1.4, §5.2.4)
    Case("default-path-sent-below-it", [(E + "/docs/page", "a=1")], E + "/docs/other", "a=1"),
    Case("default-path-sent-to-itself", [(E + "/docs/page", "a=1")], E + "/docs", "a=1"),
    Case("default-path-not-above", [(E + "/docs/page", "a=1")], E + "/", None),
    Case("default-path-not-to-a-longer-name", [(E + "/docs/page", "a=1")], E + "/docsx", None),
    Case("default-path-of-a-top-level-page", [(E + "/page", "a=1")], E + "/other", "a=1"),
    Case("default-path-ignores-the-query", [(E + "/a/b?x=/y/z", "a=1")], E + "/a/c", "a=1"),
    Case("path-attribute", [(E + "/", "a=1; Path=/api")], E + "/api/v1", "a=1"),
    Case("path-attribute-not-a-prefix-of-a-name", [(E + "/", "a=1; Path=/api")], E + "/apix", None),
    Case("path-with-slash-not-to-the-bare-path", [(E + "/", "a=1; Path=/api/")], E + "/api", None),
    Case("path-with-slash-below", [(E + "/", "a=1; Path=/api/")], E + "/api/x", "a=1"),
    Case("relative-path-attribute-means-default", [(E + "/x/y", "a=1; Path=api")], E + "/x/z", "a=1"),
    Case("relative-path-attribute-not-at-root", [(E + "/x/y", "a=1; Path=api")], E + "/", None),
    Case("path-is-case-sensitive", [(E + "/", "a=1; Path=/API")], E + "/api", None),
    # order (§5.4 step 2): longer paths first, then earlier creation
    Case("longer-path-first", [(E + "/", "a=1; Path=/"), (E + "/", "b=2; Path=/docs")], E + "/docs/x", "b=2; a=1"),
    Case("earlier-creation-first", [(E + "/", "b=2"), (E + "/", "a=1")], E + "/", "b=2; a=1"),
    Case("replacement-keeps-its-place", [(E + "/", "a=1"), (E + "/", "b=2"), (E + "/", "a=3")], E + "/", "a=3; b=2"),
    Case("same-name-two-paths-both-sent", [(E + "/", "a=1; Path=/"), (E + "/", "a=2; Path=/x")], E + "/x",
         "a=2; a=1"),
    Case("host-only-and-domain-are-two-cookies", [(E + "/", "a=1"), (E + "/", "a=2; Domain=example.com")], E + "/",
         "a=1; a=2"),
    # Secure (RFC 6265bis §5.7 step 8 and 16)
    Case("secure-sent-over-https", [(S + "/", "a=1; Secure")], S + "/", "a=1"),
    Case("secure-not-sent-over-http", [(S + "/", "a=1; Secure")], E + "/", None),
    Case("secure-from-http-refused", [(E + "/", "a=1; Secure")], S + "/", None),
    Case("secure-on-http-localhost", [("http://localhost:8080/", "a=1; Secure")], "http://localhost:8080/", "a=1"),
    Case("secure-on-a-localhost-subdomain", [("http://app.localhost/", "a=1; Secure")], "http://app.localhost/",
         "a=1"),
    Case("insecure-origin-cannot-overwrite-secure", [(S + "/", "a=1; Secure"), (E + "/", "a=2")], S + "/", "a=1"),
    Case("insecure-origin-cannot-shadow-secure", [(S + "/", "a=1; Secure; Path=/"), (E + "/", "a=2; Path=/x")],
         E + "/x", None),
    Case("secure-origin-may-replace-secure", [(S + "/", "a=1; Secure"), (S + "/", "a=2")], E + "/", "a=2"),
    Case("httponly-and-samesite-do-not-restrict", [(E + "/", "a=1; HttpOnly; SameSite=Strict")], E + "/", "a=1"),
    # name prefixes (RFC 6265bis §4.1.3)
    Case("secure-prefix-without-secure-refused", [(S + "/", "__Secure-a=1")], S + "/", None),
    Case("secure-prefix-with-secure", [(S + "/", "__Secure-a=1; Secure")], S + "/", "__Secure-a=1"),
    Case("secure-prefix-any-case", [(S + "/", "__SECURE-a=1")], S + "/", None),
    Case("host-prefix", [(S + "/x/y", "__Host-a=1; Secure; Path=/")], S + "/", "__Host-a=1"),
    Case("host-prefix-with-domain-refused", [(S + "/", "__Host-a=1; Secure; Path=/; Domain=example.com")],
         S + "/", None),
    Case("host-prefix-without-path-refused", [(S + "/", "__Host-a=1; Secure")], S + "/", None),
    Case("host-prefix-other-path-refused", [(S + "/", "__Host-a=1; Secure; Path=/x")], S + "/x", None),
    Case("host-prefix-without-secure-refused", [(S + "/", "__Host-a=1; Path=/")], S + "/", None),
    # expiry (§5.3 step 3)
    Case("max-age-wins-over-a-past-expires", [(E + "/", f"a=1; Expires={PAST}; Max-Age=100")], E + "/", "a=1"),
    Case("max-age-wins-whatever-the-order", [(E + "/", f"a=1; Max-Age=0; Expires={FUTURE}")], E + "/", None),
    Case("max-age-zero-deletes", [(E + "/", "a=1"), (E + "/", "a=; Max-Age=0")], E + "/", None),
    Case("negative-max-age-deletes", [(E + "/", "a=1"), (E + "/", "a=; Max-Age=-1")], E + "/", None),
    Case("past-expires-deletes", [(E + "/", "a=1"), (E + "/", f"a=; Expires={PAST}")], E + "/", None),
    Case("delete-needs-the-same-path", [(E + "/", "a=1; Path=/"), (E + "/x/", "a=; Max-Age=0")], E + "/", "a=1"),
    Case("invalid-max-age-ignored", [(E + "/", f"a=1; Max-Age=1e3; Expires={PAST}")], E + "/", None),
    Case("last-max-age-wins", [(E + "/", "a=1; Max-Age=0; Max-Age=10")], E + "/", "a=1"),
    Case("future-expires-kept", [(E + "/", f"a=1; Expires={FUTURE}")], E + "/", "a=1"),
    Case("unparseable-expires-is-a-session-cookie", [(E + "/", "a=1; Expires=tomorrow")], E + "/", "a=1"),
    # parsing (§5.2)
    Case("value-with-space-kept", [(E + "/", "a=1 2")], E + "/", "a=1 2"),
    Case("quotes-kept", [(E + "/", 'a="q"')], E + "/", 'a="q"'),
    Case("value-with-equals", [(E + "/", "a=b=c")], E + "/", "a=b=c"),
    Case("whitespace-trimmed", [(E + "/", " a = 1 ;Path = /x ")], E + "/x", "a=1"),
    Case("empty-value", [(E + "/", "a=")], E + "/", "a="),
    Case("unknown-attributes-ignored", [(E + "/", "a=1; Partitioned; Foo=[x]; Priority=High")], E + "/", "a=1"),
    Case("no-equals-ignored", [(E + "/", "abc")], E + "/", None),
    Case("empty-name-ignored", [(E + "/", "=abc")], E + "/", None),
    Case("control-character-refuses-the-line", [(E + "/", "a=1\x01")], E + "/", None),
    Case("control-character-in-an-attribute-refuses", [(E + "/", "a=1; Path=/\x7f")], E + "/", None),
    Case("tab-allowed", [(E + "/", "a=1\t; Path=/")], E + "/", "a=1"),
    Case("oversized-cookie-refused", [(E + "/", "a=" + "x" * 4096)], E + "/", None),
    Case("oversized-attribute-ignored", [(E + "/x/", "a=1; Path=/" + "p" * 1024)], E + "/x/", "a=1"),
    # IP-address hosts (aiohttp's unsafe rule)
    Case("ip-host-sets-nothing", [("http://127.0.0.1/", "a=1")], "http://127.0.0.1/", None),
    Case("ipv6-host-sets-nothing", [("http://[::1]/", "a=1")], "http://[::1]/", None),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_set_cookie_lines_give_cookie_header(case: Case) -> None:
    jar = jar_with(*case.sets)
    assert jar.header_for(URL(case.request)) == case.expected


@pytest.mark.parametrize("line", [
    "a=1; Domain=example.com",
    "a=1; Domain=127.0.0.1",
    "a=1; Path=/",
])
def test_ip_host_with_unsafe_keeps_cookies_to_that_address_only(line: str) -> None:
    jar = jar_with(("http://127.0.0.1:8080/", line), unsafe=True)
    if "example.com" in line:
        assert len(jar) == 0
        return
    assert jar.header_for("http://127.0.0.1:9999/") == "a=1"   # cookies ignore ports (RFC 6265 §8.5)
    assert jar.header_for("http://127.0.0.2/") is None
    assert jar.header_for("http://localhost/") is None


def test_ipv6_host_with_unsafe() -> None:
    jar = jar_with(("http://[::1]/", "a=1"), unsafe=True)
    assert jar.header_for("http://[::1]/x") == "a=1"
    assert jar.header_for("http://[::2]/x") is None


def test_secure_cookie_on_loopback_ip_with_unsafe() -> None:
    jar = jar_with(("http://127.0.0.1/", "a=1; Secure"), unsafe=True)
    assert jar.header_for("http://127.0.0.1/") == "a=1"


def test_treat_as_secure_origin() -> None:
    jar = CookieJar(treat_as_secure_origin=["http://test.internal:8080"], clock=Clock())
    jar.update_from_response(CIMultiDictProxy(CIMultiDict({"Set-Cookie": "a=1; Secure"})),
                             URL("http://test.internal:8080/"))
    assert jar.header_for("http://test.internal:8080/") == "a=1"
    assert jar.header_for("http://test.internal:8081/") is None


def test_every_set_cookie_of_a_response_is_stored() -> None:
    headers = CIMultiDictProxy(CIMultiDict([("Set-Cookie", "a=1"), ("Content-Type", "text/plain"),
                                            ("set-cookie", "b=2; Path=/x"), ("SET-COOKIE", "bad")]))
    jar = CookieJar(clock=Clock())
    jar.update_from_response(headers, URL("http://example.com/"))
    assert len(jar) == 2
    assert jar.header_for("http://example.com/x/y") == "b=2; a=1"


def test_filter_cookies_gives_the_more_specific_of_one_name() -> None:
    jar = jar_with((E + "/", "a=1; Path=/"), (E + "/", "a=2; Path=/x"), (E + "/", "b=3"))
    assert jar.filter_cookies(E + "/x/y") == {"a": "2", "b": "3"}
    assert list(jar.filter_cookies(E + "/x/y")) == ["a", "b"]
    assert jar.filter_cookies(E + "/") == {"a": "1", "b": "3"}


# --------------------------------------------------------------------------- expiry


def test_max_age_expires_on_the_clock() -> None:
    clock = Clock()
    jar = jar_with((E + "/", "a=1; Max-Age=60"), (E + "/", "b=2"), clock=clock)
    clock.now = NOW + 59.9
    assert jar.header_for(E + "/") == "a=1; b=2"
    clock.now = NOW + 60
    assert jar.header_for(E + "/") == "b=2"
    assert len(jar) == 1   # the lookup removed the expired one


def test_expires_is_an_absolute_date() -> None:
    clock = Clock(parse_cookie_date("Wed, 01 Jan 2031 00:00:00 GMT") - 10)   # type: ignore[operator]
    jar = jar_with((E + "/", "a=1; Expires=Wed, 01 Jan 2031 00:00:00 GMT"), clock=clock)
    assert jar.header_for(E + "/") == "a=1"
    clock.now += 10
    assert jar.header_for(E + "/") is None


def test_expiry_is_capped_at_400_days() -> None:
    clock = Clock()
    jar = jar_with((E + "/", f"a=1; Expires={FUTURE}"), (E + "/", "b=1; Max-Age=999999999999"), clock=clock)
    assert {c.expires for c in jar} == {NOW + MAX_AGE_CAP}


def test_session_cookie_never_expires() -> None:
    clock = Clock()
    jar = jar_with((E + "/", "a=1"), clock=clock)
    clock.now += 10 * MAX_AGE_CAP
    assert jar.header_for(E + "/") == "a=1"
    assert [c.persistent for c in jar] == [False]


def test_replacing_keeps_the_creation_time() -> None:
    clock = Clock()
    jar = jar_with((E + "/", "a=1"), clock=clock)
    clock.now += 5
    jar.update_cookies({"a": "2"}, URL(E + "/"))
    (cookie,) = jar
    assert (cookie.value, cookie.creation, cookie.last_access) == ("2", NOW, NOW + 5)


@pytest.mark.parametrize("text, expected", [
    ("Wed, 09 Jun 2021 10:18:14 GMT", "2021-06-09 10:18:14"),
    ("Wednesday, 09-Jun-21 10:18:14 GMT", "2021-06-09 10:18:14"),
    ("Wed Jun  9 10:18:14 2021", "2021-06-09 10:18:14"),
    ("09 jun 2021 10:18:14", "2021-06-09 10:18:14"),
    ("Thu, 01-Jan-70 00:00:01 GMT", "1970-01-01 00:00:01"),
    ("Sat, 01-Jan-69 00:00:00 GMT", "2069-01-01 00:00:00"),
    ("Wed, 9 June 2021 1:2:3 GMT", "2021-06-09 01:02:03"),
    ("Wed, 09 Jun 2021 10:18:14GMT+02", "2021-06-09 10:18:14"),
    ("Mon, 29 Feb 2021 00:00:00 GMT", None),   # not a leap year
    ("Wed, 09 Jun 1600 10:18:14 GMT", None),   # before 1601
    ("Wed, 09 Jun 2021 24:00:00 GMT", None),
    ("Wed, 32 Jun 2021 10:18:14 GMT", None),
    ("Wed, 09 Jun 2021 GMT", None),            # no time
    ("Wed, 09 2021 10:18:14 GMT", None),       # no month
    ("tomorrow", None),
    ("", None),
])
def test_cookie_dates_parse_as_rfc_6265_section_5_1_1(text: str, expected: str | None) -> None:
    import datetime

    got = parse_cookie_date(text)
    if expected is None:
        assert got is None
    else:
        assert got == datetime.datetime.fromisoformat(expected + "+00:00").timestamp()


# --------------------------------------------------------------------------- the caller's cookies


def test_shared_cookies_go_to_every_host() -> None:
    jar = CookieJar(clock=Clock())
    jar.update_cookies({"token": "abc"})
    for url in (E + "/", "http://127.0.0.1:8080/x", "https://[::1]/", "http://other.org/deep/path"):
        assert jar.header_for(url) == "token=abc"


def test_caller_cookies_as_pairs_with_a_response_url_are_host_only() -> None:
    jar = CookieJar(clock=Clock())
    jar.update_cookies([("a", "1"), ("b", "2")], response_url="http://example.com/x/y")
    assert jar.header_for(E + "/x/z") == "a=1; b=2"
    assert jar.header_for(W + "/x/z") is None
    assert jar.header_for(E + "/") is None   # default-path of /x/y is /x


def test_caller_value_is_quoted_as_simplecookie_quotes() -> None:
    jar = CookieJar(clock=Clock())
    jar.update_cookies({"a": "x y;z"})
    assert jar.header_for(E + "/") == r'a="x y\073z"'


@pytest.mark.parametrize("name", ["a;b", "a b", "a=b", "a\r\nSet-Cookie"])
def test_caller_cookie_with_an_illegal_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        CookieJar().update_cookies({name: "1"})


def test_morsel_attributes_are_honoured() -> None:
    sc: SimpleCookie = SimpleCookie()
    sc["a"] = "1"
    sc["a"]["path"] = "/api"
    sc["a"]["secure"] = True
    sc["b"] = "2"
    sc["b"]["domain"] = "example.com"
    jar = CookieJar(clock=Clock())
    jar.update_cookies(sc, URL("https://www.example.com/"))
    assert jar.header_for("https://www.example.com/api/x") == "a=1; b=2"
    assert jar.header_for("http://www.example.com/api/x") == "b=2"
    assert jar.header_for("https://other.example.com/") == "b=2"


def test_morsel_max_age_zero_deletes() -> None:
    jar = jar_with((E + "/", "a=1"))
    m: Morsel[str] = Morsel()
    m.set("a", "", "")
    m["max-age"] = 0
    jar.update_cookies({"a": m}, URL(E + "/"))
    assert len(jar) == 0


# --------------------------------------------------------------------------- the jar as a container


def test_empty_jar_is_false_and_answers_none() -> None:
    jar = CookieJar()
    assert not jar and len(jar) == 0 and list(jar) == []
    assert jar.header_for(E + "/") is None and jar.filter_cookies(E + "/") == {}


def test_suffix_list_is_loaded_only_for_a_domain_attribute() -> None:
    import subprocess
    import sys

    code = ("import sys; from wirespeed.client._cookies import CookieJar; j = CookieJar();"
            "j.update_cookies({'a': '1'}, 'http://x.example.com/'); j.header_for('http://x.example.com/');"
            "assert 'publicsuffixlist' not in sys.modules, 'loaded'")
    subprocess.run([sys.executable, "-I", "-W", "error", "-c", code], check=True)


def test_iteration_gives_the_stored_fields() -> None:
    jar = jar_with((S + "/a/b", "x=1; HttpOnly; SameSite=lax; Secure; Domain=example.com"))
    (c,) = jar
    assert (c.name, c.value, c.domain, c.path, c.host_only, c.secure, c.http_only, c.same_site, c.expires) == (
        "x", "1", "example.com", "/a", False, True, True, "Lax", None)


def test_clear_with_a_predicate_and_clear_domain() -> None:
    jar = jar_with((E + "/", "a=1"), (W + "/", "b=2"), ("http://example.org/", "c=3"), (E + "/", "d=4"))
    jar.clear(lambda c: c.name == "d")
    assert sorted(c.name for c in jar) == ["a", "b", "c"]
    jar.clear_domain(".Example.com")
    assert [c.name for c in jar] == ["c"]
    jar.clear()
    assert len(jar) == 0


def test_least_recently_used_cookie_of_a_full_domain_is_evicted() -> None:
    clock = Clock()
    jar = CookieJar(clock=clock)
    for i in range(MAX_COOKIES_PER_DOMAIN):
        clock.now += 1
        jar.update_cookies({f"c{i}": "v"}, URL(E + "/"))
    clock.now += 1
    jar.filter_cookies(E + "/")          # every cookie used now...
    clock.now += 1
    jar.update_cookies({"c0": "w"}, URL(E + "/"))   # ...and c0 again later
    clock.now += 1
    jar.update_cookies({"new": "v"}, URL(E + "/"))
    names = {c.name for c in jar}
    assert len(names) == MAX_COOKIES_PER_DOMAIN and "new" in names and "c0" in names and "c1" not in names


def test_dummy_jar_keeps_nothing(tmp_path: Path) -> None:
    jar = DummyCookieJar()
    jar.update_cookies({"a": "1"})
    jar.update_from_response(CIMultiDictProxy(CIMultiDict({"Set-Cookie": "a=1"})), URL(E + "/"))
    jar.save(tmp_path / "x")
    assert not jar and list(jar) == [] and jar.header_for(E + "/") is None and jar.filter_cookies(E) == {}
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- save and load


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    clock = Clock()
    jar = jar_with(
        (S + "/docs/x", "a=1; Secure; HttpOnly; SameSite=Strict"),
        (W + "/", "b=2; Domain=example.com; Max-Age=3600"),
        (S + "/", "__Host-c=3; Secure; Path=/"),
        (E + "/", 'd="q 1"'),
        clock=clock,
    )
    jar.update_cookies({"shared": "s"})
    path = tmp_path / "cookies.json"
    jar.save(path)
    assert json.loads(path.read_text())["version"] == 1
    again = CookieJar(clock=clock)
    again.load(path)
    assert list(again) == list(jar)
    for url in (S + "/docs/y", W + "/", E + "/docs/", "http://127.0.0.1/"):
        assert again.header_for(url) == jar.header_for(url)


def test_load_drops_expired_and_replaces_the_content(tmp_path: Path) -> None:
    clock = Clock()
    jar = jar_with((E + "/", "a=1; Max-Age=10"), (E + "/", "b=2"), clock=clock)
    path = tmp_path / "cookies.json"
    jar.save(path)
    later = jar_with((E + "/", "z=9"), clock=Clock(NOW + 10))
    later.load(path)
    assert later.header_for(E + "/") == "b=2"


@pytest.mark.parametrize("content", [
    '{"version": 2, "cookies": []}',
    '[]',
    '{"version": 1, "cookies": [{"name": "a"}]}',
    ('{"version": 1, "cookies": [{"name": "a", "value": "x\\r\\ny", "domain": "e.com", "path": "/",'
     ' "host_only": true, "secure": false, "http_only": false, "same_site": null, "expires": null,'
     ' "creation": 1, "last_access": 1}]}'),
], ids=["other-version", "not-an-object", "missing-fields", "control-characters"])
def test_load_refuses_a_malformed_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "cookies.json"
    path.write_text(content)
    with pytest.raises(ValueError):
        CookieJar().load(path)
