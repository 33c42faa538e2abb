"""DigestAuthMiddleware: HTTP Digest access authentication (RFC 7616).

Strategy:

- a request to the bound origin is sent as it is, unless an earlier
  challenge covers its URL (same origin, a path under the challenge's
  ``domain`` or, without one, under the directory of the URL that was
  challenged, as RFC 7617 §2.2 lets Basic clients do): then it carries an
  ``Authorization`` computed from that challenge at once (preemptive, with
  the next nonce count), which saves a round trip per request;
- a 401 with a Digest challenge the middleware can answer is answered once:
  the 401 is released, the request sent again with ``Authorization``.  A
  second 401 is returned as it is (wrong credentials), and the remembered
  challenge is forgotten;
- ``stale=true`` (RFC 7616 §3.3: the nonce expired, the credentials were
  right) is answered once more with the new nonce;
- ``Authentication-Info: nextnonce=...`` (§3.5) on a success replaces the
  nonce for the next request;
- several challenges (one header or several): the first one the middleware
  supports wins, as the server lists them by preference (§3.7);
- algorithms: ``MD5``, ``SHA-256`` and ``SHA-512-256`` (where hashlib has
  it), each also ``-sess``; ``qop``: ``auth`` (preferred when offered,
  ``prefer_auth_int=True`` turns that round) and ``auth-int``, which hashes
  the body: bytes only, a stream body raises ``InvalidRequest``; a challenge
  without ``qop`` gets the RFC 2069 response;
- ``userhash=true`` sends ``H(user:realm)`` instead of the user name; a
  user name that is not ASCII goes as ``username*`` (RFC 8187) otherwise;
- a new client nonce (128 random bits) for every request; the nonce count
  per server nonce goes up by one with each request that uses it;
- the credentials go to one origin only (``origin=``, or the origin of the
  first request): a challenge from any other origin, a redirect target
  included, is returned unanswered.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote

from yarl import URL

from ..client import ClientHandler, ClientRequest, ClientResponse
from ..errors import InvalidRequest
from ._common import OriginBinding, cannot_resend, origin_of, rewind

__all__ = ["DigestAuthMiddleware", "parse_challenges", "compute_response", "ALGORITHMS"]

#: RFC 7616 §3.2 algorithm names (upper-cased) -> hashlib names; SHA-512-256 only where OpenSSL has it.
ALGORITHMS: dict[str, str] = {"MD5": "md5", "SHA-256": "sha256"}
if "sha512_256" in hashlib.algorithms_available:
    ALGORITHMS["SHA-512-256"] = "sha512_256"

_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_TOKEN68 = frozenset("-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_OWS = " \t"

# -- parsing: WWW-Authenticate = #challenge, challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
# (RFC 9110 §11.6.1); auth-param = token BWS "=" BWS ( token / quoted-string ).


def _skip(s: str, i: int, chars: str) -> int:
    while i < len(s) and s[i] in chars:
        i += 1
    return i


def _token(s: str, i: int, allowed: frozenset[str] = _TCHAR) -> int:
    while i < len(s) and s[i] in allowed:
        i += 1
    return i


def _value(s: str, i: int) -> tuple[str, int]:
    """A token or a quoted-string (unescaped) at ``i``, and where it ends."""
    if i < len(s) and s[i] == '"':
        out = []
        i += 1
        while i < len(s):
            c = s[i]
            if c == "\\" and i + 1 < len(s):
                out.append(s[i + 1])
                i += 2
            elif c == '"':
                return "".join(out), i + 1
            else:
                out.append(c)
                i += 1
        return "".join(out), i   # unterminated: the rest
    j = _token(s, i)
    return s[i:j], j


def _params(s: str, i: int, into: dict[str, str]) -> int:
    """auth-params from ``i`` into ``into`` (first of a name wins); stops before a new challenge."""
    while i < len(s):
        j = _skip(s, i, _OWS + ",")
        k = _token(s, j)
        m = _skip(s, k, _OWS)
        if k == j or m >= len(s) or s[m] != "=":
            return j   # not a name=value: the next challenge's scheme (or junk) starts here
        value, i = _value(s, _skip(s, m + 1, _OWS))
        into.setdefault(s[j:k].lower(), value)
        i = _skip(s, i, _OWS)
        if i < len(s) and s[i] != ",":
            # junk after a value: skip to the next comma
            while i < len(s) and s[i] != ",":
                i += 1
    return i


def parse_challenges(values: Iterable[str]) -> list[tuple[str, dict[str, str]]]:
    """``(scheme lower-cased, {param lower-cased: value})`` for every challenge of the header values.

    A token68 challenge (``Negotiate abc==``) is kept with ``{"": token68}``.
    """
    found: list[tuple[str, dict[str, str]]] = []
    for s in values:
        i = 0
        while i < len(s):
            i = _skip(s, i, _OWS + ",")
            j = _token(s, i)
            if j == i:
                i += 1   # a byte that starts nothing: skip it
                continue
            scheme = s[i:j].lower()
            params: dict[str, str] = {}
            found.append((scheme, params))
            k = _skip(s, j, _OWS)
            t = _token(s, k, _TOKEN68)
            e = t
            while e < len(s) and s[e] == "=":
                e += 1
            after = _skip(s, e, _OWS)
            if t > k and (after >= len(s) or s[after] == ","):
                params[""] = s[k:e]   # token68: a word (and its padding) alone up to a comma or the end
                i = after
                continue
            i = _params(s, k, params)
    return found


# -- the response value (RFC 7616 §3.4.1)


def compute_response(algorithm: str, user: str, realm: str, password: str, nonce: str, nc: str, cnonce: str,
                     qop: str | None, method: str, uri: str, body: bytes | None = None) -> str:
    """The ``response`` value: ``algorithm`` is an RFC name (``SHA-256-sess``...), ``qop`` None for RFC 2069."""
    name = algorithm.upper()
    sess = name.endswith("-SESS")
    base = name[:-5] if sess else name
    hash_name = ALGORITHMS.get(base)
    if hash_name is None:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")

    def h(text: str | bytes) -> str:
        data = text.encode("utf-8") if isinstance(text, str) else text
        return hashlib.new(hash_name, data).hexdigest()

    ha1 = h(f"{user}:{realm}:{password}")
    if sess:
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    a2 = f"{method}:{uri}"
    if qop == "auth-int":
        a2 += ":" + h(body or b"")
    ha2 = h(a2)
    if qop is None:
        return h(f"{ha1}:{nonce}:{ha2}")
    return h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(eq=False)
class _Challenge:
    """One Digest challenge the middleware can answer, and the nonce count of its nonce."""

    realm: str
    nonce: str
    algorithm: str    # as the server spelled it
    hash_name: str
    sess: bool
    qops: tuple[str, ...]   # the offered qop values we support, lower-cased; () for RFC 2069
    opaque: str | None
    userhash: bool
    stale: bool
    domain: tuple[str, ...]
    nc: int = 0

    @classmethod
    def of(cls, params: dict[str, str]) -> _Challenge | None:
        realm, nonce = params.get("realm"), params.get("nonce")
        if realm is None or not nonce:
            return None
        algorithm = params.get("algorithm", "MD5")
        name = algorithm.upper()
        sess = name.endswith("-SESS")
        hash_name = ALGORITHMS.get(name[:-5] if sess else name)
        if hash_name is None:
            return None
        qops: tuple[str, ...] = ()
        if "qop" in params:
            offered = [q.strip().lower() for q in params["qop"].split(",")]
            qops = tuple(q for q in offered if q in ("auth", "auth-int"))
            if not qops:
                return None   # only qop values we do not know
        elif sess:
            return None   # -sess needs a cnonce, which only goes with a qop
        return cls(realm, nonce, algorithm, hash_name, sess, qops, params.get("opaque"),
                   params.get("userhash", "").lower() == "true", params.get("stale", "").lower() == "true",
                   tuple(params.get("domain", "").split()))

    def hash(self, text: str) -> str:
        return hashlib.new(self.hash_name, text.encode("utf-8")).hexdigest()


@dataclass(eq=False)
class _Space:
    """A protection space on the bound origin: path prefixes, and the challenge that covers them."""

    realm: str
    prefixes: tuple[str, ...]
    challenge: _Challenge = field(repr=False)


class DigestAuthMiddleware:
    """Answer Digest challenges (RFC 7616) of one origin; reuse them for later requests of their space.

    ``origin``: where the credentials may go (``"https://host:port"``);
    by default the origin of the first request.  ``prefer_auth_int``: when
    the server offers both qop values, hash the body too (``auth-int``).
    """

    def __init__(self, user: str, password: str, *, origin: str | URL | None = None,
                 prefer_auth_int: bool = False) -> None:
        self._user = user
        self._password = password
        self._origin = OriginBinding(origin)
        self._prefer_auth_int = prefer_auth_int
        self._spaces: dict[tuple[str, tuple[str, ...]], _Space] = {}

    # -- protection spaces

    def _space_for(self, url: URL) -> _Space | None:
        path = url.raw_path or "/"
        best: _Space | None = None
        best_len = -1
        for space in self._spaces.values():
            for prefix in space.prefixes:
                if path.startswith(prefix) and len(prefix) > best_len:
                    best, best_len = space, len(prefix)
        return best

    def _remember(self, url: URL, ch: _Challenge) -> None:
        prefixes = []
        mine = self._origin.origin
        for uri in ch.domain:
            try:
                u = url.join(URL(uri))
                if origin_of(u) == mine:
                    prefixes.append(u.raw_path or "/")
            except ValueError:
                continue
        if not prefixes:
            path = url.raw_path or "/"
            prefixes.append(path[: path.rfind("/") + 1] or "/")
        key = (ch.realm, tuple(sorted(set(prefixes))))
        self._spaces[key] = _Space(ch.realm, key[1], ch)

    def _forget(self, ch: _Challenge) -> None:
        for key, space in list(self._spaces.items()):
            if space.challenge is ch:
                del self._spaces[key]

    # -- challenges and answers

    def _pick(self, resp: ClientResponse) -> _Challenge | None:
        for scheme, params in parse_challenges(resp.headers.getall("WWW-Authenticate", ())):
            if scheme == "digest":
                ch = _Challenge.of(params)
                if ch is not None:
                    return ch
        return None

    def _authorize(self, request: ClientRequest, ch: _Challenge) -> None:
        if not ch.qops:
            qop = None
        elif self._prefer_auth_int and "auth-int" in ch.qops or "auth" not in ch.qops:
            qop = "auth-int"
        else:
            qop = "auth"
        body = request.body
        if qop == "auth-int" and body is not None and not isinstance(body, bytes):
            raise InvalidRequest("Digest qop=auth-int hashes the request body, and a streamed body cannot be "
                                 "hashed before it is sent: pass the body as bytes", method=request.method,
                                 url=request.url)
        ch.nc += 1
        nc = f"{ch.nc:08x}"
        cnonce = secrets.token_hex(16)   # 128 random bits, new for every request
        uri = request.url.raw_path_qs or "/"
        response = compute_response(ch.algorithm, self._user, ch.realm, self._password, ch.nonce, nc, cnonce,
                                    qop, request.method, uri, body)
        if ch.userhash:
            user = f"username={_quoted(ch.hash(f'{self._user}:{ch.realm}'))}"
        elif self._user.isascii() and self._user.isprintable():
            user = f"username={_quoted(self._user)}"
        else:
            user = "username*=UTF-8''" + quote(self._user, safe="")
        parts = [user, f"realm={_quoted(ch.realm)}", f"nonce={_quoted(ch.nonce)}", f"uri={_quoted(uri)}",
                 f"algorithm={ch.algorithm}", f"response={_quoted(response)}"]
        if ch.opaque is not None:
            parts.append(f"opaque={_quoted(ch.opaque)}")
        if qop is not None:
            parts += [f"qop={qop}", f"nc={nc}", f"cnonce={_quoted(cnonce)}"]
        if ch.userhash:
            parts.append("userhash=true")
        request.headers["Authorization"] = "Digest " + ", ".join(parts)

    @staticmethod
    def _next_nonce(resp: ClientResponse, ch: _Challenge) -> None:
        info = resp.headers.get("Authentication-Info")
        if not info:
            return
        params: dict[str, str] = {}
        _params(info, 0, params)
        nextnonce = params.get("nextnonce")
        if nextnonce and nextnonce != ch.nonce:
            ch.nonce, ch.nc = nextnonce, 0

    async def __call__(self, request: ClientRequest, handler: ClientHandler) -> ClientResponse:
        if not self._origin.allows(request.url):
            return await handler(request)
        used: _Challenge | None = None
        space = self._space_for(request.url)
        if space is not None:
            used = space.challenge
            self._authorize(request, used)
        resp = await handler(request)
        answered = stale_retried = False
        while resp.status == 401:
            ch = self._pick(resp)
            if ch is None:
                break
            if ch.stale and used is not None and not stale_retried:
                stale_retried = True
            elif not answered:
                answered = True
            else:
                if used is not None:
                    self._forget(used)   # answered and refused: the credentials are wrong
                return resp
            self._remember(request.url, ch)
            await resp.release()
            if not rewind(request):
                raise cannot_resend(request, "answering a Digest challenge")
            used = ch
            self._authorize(request, ch)
            resp = await handler(request)
        if used is not None and resp.status != 401:
            self._next_nonce(resp, used)
        return resp

    def __repr__(self) -> str:
        return f"DigestAuthMiddleware(origin={self._origin.origin}, spaces={len(self._spaces)})"
