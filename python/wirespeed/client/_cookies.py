"""Cookie jars: what a response's ``Set-Cookie`` lines store, what a request's ``Cookie`` header sends.

The strategy is RFC 6265's three algorithms, each in its own section below:
parsing one ``Set-Cookie`` line (§5.2, with the lenient date parser of
§5.1.1), storing the result (§5.3), and choosing the cookies of a request
(§5.4).  Where RFC 6265bis (the revision browsers now implement) adds a rule
a client needs, it is followed and named: control characters refuse a line,
size limits, the 400-day cap on expiry, ``Secure`` only from a secure
origin, secure cookies left alone by insecure origins, and the ``__Secure-``
and ``__Host-`` name prefixes.

Choices, with their reasons:

- **Each Set-Cookie line is parsed here, not by** ``http.cookies.SimpleCookie``.
  SimpleCookie parses a *server's* ``Cookie`` header and is strict where
  §5.2 is lenient: one attribute it does not know (``Partitioned``), a space
  in a value (``a=1 2``) or in ``Path`` drops the whole line; an unknown
  ``name=value`` attribute becomes a second cookie; it strips the quotes of
  a quoted value, which RFC 6265 keeps as part of the value.  SimpleCookie
  *is* used for the caller's own cookies (``update_cookies``): it checks
  their names and quotes a value that is not a cookie-octet string, as
  aiohttp does, and a ``Morsel``'s attributes are honoured.
- **Public suffixes** (``co.uk``, and private ones such as ``github.io``)
  come from the ``publicsuffixlist`` package, which ships the list in its
  wheel: nothing is fetched.  It is loaded on the first ``Domain``
  attribute (about 0.2 s), never for a jar that stays empty.  Unknown
  top-level names are public suffixes (the list's implicit ``*`` rule).
- **Secure origins** are ``https``/``wss`` URLs and, as Chrome (89+) and
  Firefox (75+) treat them, the loopback hosts ``localhost``,
  ``*.localhost``, ``127.0.0.0/8`` and ``::1`` over plain ``http``: a test
  server on ``http://localhost`` can set and receive ``Secure`` cookies.
  More origins can be named with ``treat_as_secure_origin`` (aiohttp's name).
- **HttpOnly and SameSite are stored, not enforced**: they restrict what a
  browser's scripts and cross-site requests see, and a client without
  scripts or sites has nothing to restrict.  They are kept so that a saved
  jar, or a caller inspecting it, sees them.
- **IP-address hosts** neither set nor receive cookies unless
  ``CookieJar(unsafe=True)`` (aiohttp's rule); cookies the caller adds with no
  response URL are *shared* and go to every host, IP or not.
- **A cookie is identified by name, domain, path and host-only flag**
  (RFC 6265bis: a host-only ``a`` and a ``Domain=`` ``a`` are two cookies).
- **Expiry**: ``Max-Age`` wins over ``Expires``; a ``Max-Age`` of zero or
  less, or an ``Expires`` in the past, deletes the stored cookie; expired
  cookies are removed when a lookup meets them.  The clock is a parameter
  (wall-clock seconds, ``time.time`` by default), so tests can move it.

An empty jar is cheap: ``len(jar)`` is a counter, and ``header_for`` returns
at once; the client asks ``if jar:`` before anything else.
"""

from __future__ import annotations

import calendar
import functools
import ipaddress
import itertools
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.cookies import BaseCookie, CookieError, Morsel, SimpleCookie
from pathlib import Path
from typing import TYPE_CHECKING, Any

from multidict import MultiMapping
from yarl import URL

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList

__all__ = ["MAX_AGE_CAP", "MAX_COOKIES", "MAX_COOKIES_PER_DOMAIN", "Cookie", "CookieJar", "DummyCookieJar"]

#: Longest name plus value kept (RFC 6265bis §5.6 step 8; browsers' limit).
MAX_NAME_VALUE_SIZE = 4096
#: Longest attribute value honoured; a longer one is ignored (RFC 6265bis §5.6).
MAX_ATTRIBUTE_VALUE_SIZE = 1024
#: Expiry is capped at 400 days from now (RFC 6265bis §5.5; Chrome since 104).
MAX_AGE_CAP = 400 * 24 * 3600
#: Cookies kept per domain and in all: RFC 6265 §6.1 asks a user agent to keep
#: at least 50 per domain and 3000 in all; past that the least recently used go.
MAX_COOKIES_PER_DOMAIN = 50
MAX_COOKIES = 3000
#: Version of the JSON written by ``save``.
_FORMAT_VERSION = 1

_SECURE_SCHEMES = frozenset({"https", "wss"})
# RFC 6265bis §5.6 step 1: a CTL other than HTAB refuses the whole line.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_WSP = " \t"
_SAME_SITE = {"strict": "Strict", "lax": "Lax", "none": "None"}
_MAX_AGE_RE = re.compile(r"-?[0-9]+\Z")

CookieValue = str | Morsel[str]
CookiesArg = Mapping[str, CookieValue] | Iterable[tuple[str, CookieValue]] | BaseCookie[str]
_NO_URL = URL()


@dataclass(slots=True)
class Cookie:
    """One stored cookie (RFC 6265 §5.3's fields); what iterating a jar yields."""

    name: str
    value: str
    domain: str          # lower-case, ASCII (punycode); "" for a shared cookie
    path: str
    host_only: bool      # sent to ``domain`` exactly, not to its subdomains
    secure: bool
    http_only: bool
    same_site: str | None  # "Strict", "Lax", "None", or None when not given
    expires: float | None  # wall-clock seconds; None for a session cookie
    creation: float
    last_access: float
    seq: int = field(default=0, repr=False, compare=False)  # orders equal creation times

    @property
    def persistent(self) -> bool:
        return self.expires is not None


# --------------------------------------------------------------------------- §5.1.1 dates

# delimiter = %x09 / %x20-2F / %x3B-40 / %x5B-60 / %x7B-7E
_DATE_DELIMITERS = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
# hms-time = time-field ":" time-field ":" time-field ; time-field = 1*2DIGIT
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[^0-9].*)?\Z", re.DOTALL)
# day-of-month = 1*2DIGIT ( non-digit *OCTET )
_DAY_RE = re.compile(r"([0-9]{1,2})(?:[^0-9].*)?\Z", re.DOTALL)
# year = 2*4DIGIT ( non-digit *OCTET )
_YEAR_RE = re.compile(r"([0-9]{2,4})(?:[^0-9].*)?\Z", re.DOTALL)
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"), 1)}


def parse_cookie_date(text: str) -> float | None:
    """Seconds since the epoch of a cookie date (RFC 6265 §5.1.1), or None if it is not one.

    The algorithm takes the first token that looks like a time, a day, a
    month and a year, in that order of trial, from tokens split at the
    delimiters: so ``Wed, 09 Jun 2021 10:18:14 GMT``, ``Wednesday,
    09-Jun-21 10:18:14 GMT`` and ``Wed Jun  9 10:18:14 2021`` all parse.
    """
    hms: tuple[int, int, int] | None = None
    day = month = year = None
    for token in _DATE_DELIMITERS.split(text):
        if not token:
            continue
        if hms is None and (m := _TIME_RE.match(token)):
            hms = (int(m[1]), int(m[2]), int(m[3]))
        elif day is None and (m := _DAY_RE.match(token)):
            day = int(m[1])
        elif month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS[token[:3].lower()]
        elif year is None and (m := _YEAR_RE.match(token)):
            year = int(m[1])
    if hms is None or day is None or month is None or year is None:
        return None
    if 70 <= year <= 99:
        year += 1900
    elif 0 <= year <= 69:
        year += 2000
    hour, minute, second = hms
    if year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return float(calendar.timegm((year, month, day, hour, minute, second)))


# --------------------------------------------------------------------------- §5.2 parsing


@dataclass(slots=True)
class _Parsed:
    """A Set-Cookie line's name, value and the attributes §5.2 keeps (the last of each wins)."""

    name: str
    value: str
    expires: float | None = None
    max_age: int | None = None
    domain: str | None = None
    path: str | None = None       # None: the default-path applies
    path_given: bool = False      # a Path attribute was present (the __Host- rule)
    secure: bool = False
    http_only: bool = False
    same_site: str | None = None


def _apply_attribute(p: _Parsed, name: str, value: str) -> None:
    """One cookie-av of §5.2.1-§5.2.6 (and SameSite, RFC 6265bis §5.6.7); unknown ones are ignored."""
    if len(value) > MAX_ATTRIBUTE_VALUE_SIZE:
        return
    name = name.lower()
    if name == "expires":
        when = parse_cookie_date(value)
        if when is not None:
            p.expires = when
    elif name == "max-age":
        # The first character a DIGIT or "-", the rest DIGITs; else the attribute is ignored.
        if _MAX_AGE_RE.match(value):
            p.max_age = int(value)
    elif name == "domain":
        if value:
            p.domain = value[1:].lower() if value[0] == "." else value.lower()
    elif name == "path":
        p.path_given = True
        p.path = value if value[:1] == "/" else None
    elif name == "secure":
        p.secure = True
    elif name == "httponly":
        p.http_only = True
    elif name == "samesite":
        p.same_site = _SAME_SITE.get(value.lower(), p.same_site)


def parse_set_cookie(line: str) -> _Parsed | None:
    """A Set-Cookie line parsed by RFC 6265 §5.2, or None if the line is ignored.

    set-cookie-string = name-value-pair *( ";" unparsed-attribute )
    A line without "=" in its first part, or with an empty name, is ignored
    (RFC 6265; RFC 6265bis would keep it as a nameless cookie).
    """
    if _CONTROL_RE.search(line):
        return None
    pair, _, attributes = line.partition(";")
    name, eq, value = pair.partition("=")
    if not eq:
        return None
    name = name.strip(_WSP)
    value = value.strip(_WSP)
    if not name or len(name) + len(value) > MAX_NAME_VALUE_SIZE:
        return None
    p = _Parsed(name, value)
    if attributes:
        for av in attributes.split(";"):
            av_name, _, av_value = av.partition("=")
            _apply_attribute(p, av_name.strip(_WSP), av_value.strip(_WSP))
    return p


def _from_morsel(name: str, morsel: Morsel[str]) -> _Parsed:
    """A Morsel given by the caller, with the attributes it sets."""
    p = _Parsed(name, morsel.coded_value)
    for key in ("expires", "max-age", "domain", "path", "samesite"):
        v = morsel[key]
        if key == "expires" and isinstance(v, (int, float)) and not isinstance(v, bool):
            key, v = "max-age", str(int(v))   # SimpleCookie's "seconds from now" form
        if v not in ("", None):
            _apply_attribute(p, key, str(v))
    for flag in ("secure", "httponly"):
        if morsel[flag]:
            _apply_attribute(p, flag, "")
    return p


def _from_caller(name: str, value: CookieValue) -> _Parsed:
    if isinstance(value, Morsel):
        return _from_morsel(name, value)
    jar: SimpleCookie = SimpleCookie()
    try:
        jar[name] = value
    except CookieError as exc:
        raise ValueError(f"cannot send cookie {name!r}: {exc}") from None
    return _Parsed(name, jar[name].coded_value)


# --------------------------------------------------------------------------- hosts and paths


@functools.lru_cache(maxsize=1)
def _suffix_list() -> PublicSuffixList:
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def is_public_suffix(domain: str) -> bool:
    """True for ``co.uk``, ``github.io``, ``com``: names under which anyone may register."""
    return bool(_suffix_list().is_public(domain))


def _is_ip(host: str) -> bool:
    if ":" in host:
        return True  # yarl gives IPv6 hosts without brackets; a hostname has no ":"
    if not host[-1:].isdigit():
        return False
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    if not _is_ip(host):
        return False
    try:
        return ipaddress.ip_address(host.partition("%")[0]).is_loopback
    except ValueError:
        return False


def domain_match(host: str, domain: str) -> bool:
    """RFC 6265 §5.1.3: ``host`` is ``domain`` or a name under it (never for an IP address)."""
    if host == domain:
        return True
    return host.endswith(domain) and host[-len(domain) - 1] == "." and not _is_ip(host)


def default_path(request_path: str) -> str:
    """RFC 6265 §5.1.4: the request path up to, not including, its right-most "/"."""
    if request_path[:1] != "/":
        return "/"
    cut = request_path.rfind("/")
    return request_path[:cut] if cut > 0 else "/"


def path_match(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 §5.1.4: the cookie's path is the request's, or a "/"-bounded prefix of it."""
    if request_path == cookie_path:
        return True
    if not request_path.startswith(cookie_path):
        return False
    return cookie_path[-1:] == "/" or request_path[len(cookie_path)] == "/"


def _candidate_domains(host: str) -> Iterator[str]:
    """``host`` and each name it is under: a.b.c, b.c, c."""
    yield host
    i = host.find(".")
    while i != -1:
        yield host[i + 1:]
        i = host.find(".", i + 1)


# --------------------------------------------------------------------------- the jar


class CookieJar:
    """Cookies kept across requests, as a user agent keeps them (RFC 6265).

    ``unsafe=True`` lets IP-address hosts set and receive cookies.
    ``treat_as_secure_origin`` names more origins (``"http://test:8080"``)
    that count as secure beside https and loopback.  ``clock`` gives
    wall-clock seconds (``time.time``), for expiry.
    """

    def __init__(self, *, unsafe: bool = False, treat_as_secure_origin: Iterable[str | URL] = (),
                 clock: Callable[[], float] = time.time) -> None:
        self._unsafe = unsafe
        self._secure_origins = frozenset(URL(o).origin() for o in treat_as_secure_origin)
        self._clock = clock
        # domain -> (name, path, host_only) -> cookie
        self._domains: dict[str, dict[tuple[str, str, bool], Cookie]] = {}
        self._count = 0
        self._seq = itertools.count()

    # -- sizes -----------------------------------------------------------------------------

    def __len__(self) -> int:
        """Cookies stored, counting expired ones no lookup has removed yet."""
        return self._count

    def __iter__(self) -> Iterator[Cookie]:
        self._purge_expired(self._clock())
        return iter([c for bucket in self._domains.values() for c in bucket.values()])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} with {self._count} cookies>"

    # -- storing ---------------------------------------------------------------------------

    def update_from_response(self, headers: MultiMapping[str], url: URL) -> None:
        """Store every ``Set-Cookie`` of a response to ``url``."""
        lines = headers.getall("Set-Cookie", ())
        if not lines:
            return
        now = self._clock()
        for line in lines:
            parsed = parse_set_cookie(line)
            if parsed is not None:
                self._store(parsed, url, now)

    def update_cookies(self, cookies: CookiesArg, response_url: URL | str = _NO_URL) -> None:
        """Store cookies the caller gives: a mapping or pairs of name to ``str`` or ``Morsel``.

        With ``response_url``, each is stored as if that URL had set it;
        without, it is *shared*: sent to every host (aiohttp's rule), on the
        paths and schemes its ``Morsel`` attributes allow.
        """
        url = URL(response_url)
        items = cookies.items() if isinstance(cookies, Mapping) else cookies
        now = self._clock()
        for name, value in items:
            self._store(_from_caller(name, value), url if url.raw_host else None, now)

    def _is_secure_origin(self, url: URL, host: str) -> bool:
        if url.scheme in _SECURE_SCHEMES or _is_loopback(host):
            return True
        return bool(self._secure_origins) and url.origin() in self._secure_origins

    def _store(self, p: _Parsed, url: URL | None, now: float) -> None:
        """RFC 6265 §5.3 (with RFC 6265bis §5.7's additions) for one parsed cookie."""
        host: str | None = None
        secure_origin = True
        request_path = "/"
        if url is not None:
            host = (url.raw_host or "").lower()
            if not host or (not self._unsafe and _is_ip(host)):
                return
            secure_origin = self._is_secure_origin(url, host)
            request_path = url.raw_path or "/"
            if p.secure and not secure_origin:
                return  # RFC 6265bis §5.7 step 8: only a secure origin sets Secure
        expires: float | None = None
        if p.max_age is not None:
            expires = now + p.max_age if p.max_age > 0 else float("-inf")
        elif p.expires is not None:
            expires = p.expires
        if expires is not None:
            expires = min(expires, now + MAX_AGE_CAP)

        domain = p.domain
        if domain is not None and not domain.isascii():
            try:
                domain = domain.encode("idna").decode("ascii")
            except UnicodeError:
                return
        if host is None:
            host_only, domain = False, domain or ""
        elif domain:
            if domain != host and not _is_ip(host) and is_public_suffix(domain):
                return  # §5.3 step 5: a public suffix other than the host itself
            if not domain_match(host, domain):
                return
            host_only = domain == host and not _is_ip(host) and is_public_suffix(domain)
            if host_only:
                domain = host   # §5.3 step 5: the host is itself a public suffix
        else:
            host_only, domain = True, host
        path = p.path if p.path is not None else default_path(request_path)

        # Name prefixes (RFC 6265bis §4.1.3), compared case-insensitively as browsers now do.
        lname = p.name[:9].lower()
        if lname == "__secure-" and not p.secure:
            return
        if lname[:7] == "__host-" and not (p.secure and host_only and p.path_given and path == "/"):
            return

        if host is not None and not p.secure and not secure_origin and self._shadows_secure(p.name, domain, path):
            return

        bucket = self._domains.get(domain)
        key = (p.name, path, host_only)
        old = bucket.get(key) if bucket is not None else None
        if expires is not None and expires <= now:
            if old is not None:
                self._remove(domain, key)
            return
        if bucket is None:
            bucket = self._domains[domain] = {}
        cookie = Cookie(p.name, p.value, domain, path, host_only, p.secure, p.http_only, p.same_site,
                        expires, old.creation if old else now, now, old.seq if old else next(self._seq))
        bucket[key] = cookie
        if old is None:
            self._count += 1
            self._evict(domain, now)

    def _shadows_secure(self, name: str, domain: str, path: str) -> bool:
        """RFC 6265bis §5.7 step 16: an insecure origin may not overwrite or shadow a Secure cookie."""
        for d, bucket in self._domains.items():
            if not (domain_match(domain, d) or domain_match(d, domain)):
                continue
            for c in bucket.values():
                if c.secure and c.name == name and path_match(path, c.path):
                    return True
        return False

    def _remove(self, domain: str, key: tuple[str, str, bool]) -> None:
        bucket = self._domains[domain]
        del bucket[key]
        self._count -= 1
        if not bucket:
            del self._domains[domain]

    def _evict(self, domain: str, now: float) -> None:
        """Keep within the limits: expired cookies go first, then the least recently used."""
        bucket = self._domains[domain]
        if len(bucket) > MAX_COOKIES_PER_DOMAIN:
            self._purge_expired(now)
            bucket = self._domains.get(domain, {})
            excess = len(bucket) - MAX_COOKIES_PER_DOMAIN
            for c in sorted(bucket.values(), key=lambda c: (c.last_access, c.seq))[:max(excess, 0)]:
                self._remove(domain, (c.name, c.path, c.host_only))
        if self._count > MAX_COOKIES:
            self._purge_expired(now)
            excess = self._count - MAX_COOKIES
            if excess > 0:
                every = sorted(self, key=lambda c: (c.last_access, c.seq))
                for c in every[:excess]:
                    self._remove(c.domain, (c.name, c.path, c.host_only))

    def _purge_expired(self, now: float) -> None:
        for domain, bucket in list(self._domains.items()):
            for key, c in list(bucket.items()):
                if c.expires is not None and c.expires <= now:
                    self._remove(domain, key)

    # -- sending ---------------------------------------------------------------------------

    def _matching(self, url: URL) -> list[Cookie]:
        """RFC 6265 §5.4: the cookies of a request to ``url``, most specific path first, then oldest."""
        host = (url.raw_host or "").lower()
        if not host:
            return []
        now = self._clock()
        secure = self._is_secure_origin(url, host)
        request_path = url.raw_path or "/"
        if _is_ip(host):
            domains: Iterable[str] = (host, "") if self._unsafe else ("",)
        else:
            domains = itertools.chain(_candidate_domains(host), ("",))
        found: list[Cookie] = []
        expired: list[Cookie] = []
        for d in domains:
            bucket = self._domains.get(d)
            if not bucket:
                continue
            for c in bucket.values():
                if c.expires is not None and c.expires <= now:
                    expired.append(c)
                elif (c.host_only and d != host) or (c.secure and not secure) or not path_match(request_path, c.path):
                    continue
                else:
                    found.append(c)
        for c in expired:
            self._remove(c.domain, (c.name, c.path, c.host_only))
        found.sort(key=lambda c: (-len(c.path), c.creation, c.seq))
        for c in found:
            c.last_access = now
        return found

    def filter_cookies(self, url: URL | str) -> dict[str, str]:
        """Name to value of the cookies to send to ``url``; of two with one name, the more specific."""
        if not self._count:
            return {}
        out: dict[str, str] = {}
        for c in self._matching(URL(url)):
            out.setdefault(c.name, c.value)
        return out

    def header_for(self, url: URL | str) -> str | None:
        """The ``Cookie`` header value for a request to ``url``, or None when no cookie applies."""
        if not self._count:
            return None
        found = self._matching(url if isinstance(url, URL) else URL(url))
        if not found:
            return None
        return "; ".join([f"{c.name}={c.value}" for c in found])

    # -- clearing --------------------------------------------------------------------------

    def clear(self, predicate: Callable[[Cookie], bool] | None = None) -> None:
        """Remove every cookie, or those ``predicate`` accepts; expired ones go too."""
        if predicate is None:
            self._domains.clear()
            self._count = 0
            return
        self._purge_expired(self._clock())
        for c in list(self):
            if predicate(c):
                self._remove(c.domain, (c.name, c.path, c.host_only))

    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and of every name under it."""
        domain = domain.lower().lstrip(".")
        self.clear(lambda c: domain_match(c.domain, domain))

    # -- persistence -----------------------------------------------------------------------

    def save(self, file_path: str | os.PathLike[str]) -> None:
        """Write the cookies (session ones too) as JSON, replacing the file atomically."""
        path = Path(file_path)
        records = [
            {"name": c.name, "value": c.value, "domain": c.domain, "path": c.path, "host_only": c.host_only,
             "secure": c.secure, "http_only": c.http_only, "same_site": c.same_site, "expires": c.expires,
             "creation": c.creation, "last_access": c.last_access}
            for c in sorted(self, key=lambda c: (c.creation, c.seq))
        ]
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps({"version": _FORMAT_VERSION, "cookies": records}, indent=1), encoding="utf-8")
        os.replace(tmp, path)

    def load(self, file_path: str | os.PathLike[str]) -> None:
        """Replace the jar's cookies with those ``save`` wrote; expired ones are dropped."""
        data = json.loads(Path(file_path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != _FORMAT_VERSION:
            raise ValueError(f"{file_path}: not a cookie file of version {_FORMAT_VERSION}")
        loaded = [_cookie_from_record(r) for r in data.get("cookies", [])]
        now = self._clock()
        self.clear()
        for c in sorted(loaded, key=lambda c: c.creation):
            if c.expires is not None and c.expires <= now:
                continue
            c.seq = next(self._seq)
            bucket = self._domains.setdefault(c.domain, {})
            if (c.name, c.path, c.host_only) not in bucket:
                self._count += 1
            bucket[(c.name, c.path, c.host_only)] = c


def _cookie_from_record(r: Any) -> Cookie:
    try:
        fields = (r["name"], r["value"], r["domain"], r["path"])
        flags = (r["host_only"], r["secure"], r["http_only"])
        same_site, expires = r["same_site"], r["expires"]
        times = (r["creation"], r["last_access"])
    except (TypeError, KeyError) as exc:
        raise ValueError(f"a cookie record lacks {exc}") from None
    ok = (all(isinstance(f, str) for f in fields) and all(isinstance(f, bool) for f in flags)
          and (same_site is None or same_site in _SAME_SITE.values())
          and (expires is None or isinstance(expires, (int, float)))
          and all(isinstance(t, (int, float)) for t in times))
    if not ok or _CONTROL_RE.search(fields[0] + fields[1]):
        raise ValueError(f"a cookie record is malformed: {r!r}")
    return Cookie(*fields, *flags, same_site, None if expires is None else float(expires),
                  float(times[0]), float(times[1]))


class DummyCookieJar:
    """A jar that keeps nothing: pass it to turn cookies off (aiohttp's name)."""

    #: what a session reads instead of calling ``len()`` per request
    _count = 0

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Cookie]:
        return iter(())

    def update_from_response(self, headers: MultiMapping[str], url: URL) -> None:
        pass

    def update_cookies(self, cookies: CookiesArg, response_url: URL | str = _NO_URL) -> None:
        pass

    def filter_cookies(self, url: URL | str) -> dict[str, str]:
        return {}

    def header_for(self, url: URL | str) -> str | None:
        return None

    def clear(self, predicate: Callable[[Cookie], bool] | None = None) -> None:
        pass

    def clear_domain(self, domain: str) -> None:
        pass

    def save(self, file_path: str | os.PathLike[str]) -> None:
        pass

    def load(self, file_path: str | os.PathLike[str]) -> None:
        pass
