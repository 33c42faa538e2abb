"""ClientSession: requests over a pool of HTTP/1.1 connections.

The shape is aiohttp's (``async with ClientSession() as s: async with
s.get(url) as r: ...``); differences are listed in docs/client.md.

The hot path (an idle pooled connection, a URL seen before, a ``bytes`` or
empty body) is two ``async def`` frames per request: ``_request`` prepares
the request once and follows redirects, ``_exchange`` sends it and awaits its
head; the same ``_exchange``, bound to the session, is the last handler of a
middleware chain, so a middleware adds its own frame and nothing else.  The
target and the header list of an origin are cached, the connection is taken from its
origin's idle stack, the request head and body leave in one transport call,
and the request awaits one future that the connection completes, usually
with the whole body already there.  Everything else (connecting, waiting for
the pool, streamed bodies, ``Expect: 100-continue``, retries) is on slower
paths that the hot one only branches to.
"""

from __future__ import annotations

import asyncio
import ssl as _ssl
from collections.abc import Mapping, Sequence
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .. import wire as _wire
from ..decoding import accept_encoding
from ..errors import (
    ClientError,
    ConnectError,
    ConnectTimeout,
    InvalidRedirect,
    InvalidRequest,
    LocalProtocolError,
    PoolTimeout,
    ProxyError,
    ServerDisconnectedError,
    TooManyRedirects,
    TotalTimeout,
    TransportError,
)
from ._body import FormData, Stream, encode_body
from ._connect import Resolver, make_ssl_context, open_connection
from ._connection import Connection
from ._context import RequestContext
from ._cookies import CookieJar, DummyCookieJar
from ._middleware import ClientMiddleware, ClientRequest, chain, close_sent, sent
from ._pool import Pool, PoolStats
from ._proxies import EnvProxies, ProxyInfo, netrc_auth, parse_proxy_url
from ._response import ClientResponse
from ._timeouts import DEFAULT_TIMEOUT, ClientTimeout
from ._twins import client_twins, install_methods
from ._urls import TARGET_CACHE_SIZE, Target, basic_auth, encode_basic, make_target

__all__ = ["ClientSession", "request", "EXPECT_CONTINUE_TIMEOUT", "IDEMPOTENT_METHODS"]

_INF = float("inf")
#: Methods retried once when a reused connection fails before any response
#: byte (RFC 9110 §9.2.2: idempotent methods may be repeated).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
#: Seconds to wait for ``100 Continue`` before sending the body anyway (RFC 9110
#: §10.1.1 lets a client proceed after a while; curl waits 1 s).
EXPECT_CONTINUE_TIMEOUT = 1.0
#: Methods whose empty body is still announced with ``Content-Length: 0``.
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_USER_AGENT = "wirespeed/0.1"
#: Statuses that are followed (RFC 9110 §15.4); 300 and 304 are not redirects to follow.
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
#: Most redirects followed by default (aiohttp's and httpx's figure is 10 and 20; 10 here).
MAX_REDIRECTS = 10
#: Fields of the caller's that never cross to another origin (RFC 9110 §15.4: a
#: user agent must not leak credentials across origins).
_ORIGIN_BOUND = ("Authorization", "Cookie", "Proxy-Authorization")
#: Fields describing a request body, dropped with it when a redirect turns the request into a GET.
_CONTENT_FIELDS = ("Content-Length", "Content-Type", "Content-Encoding", "Content-Language",
                   "Content-Location", "Transfer-Encoding", "Expect")


class ClientSession:
    """A pool of connections and the defaults of the requests made through it."""

    _response_class = ClientResponse

    # Slots: the hot path reads a dozen of these per request.  As a plain instance past 30
    # attributes, CPython 3.11 stops sharing the instance dict's keys and every read becomes a
    # dict lookup (measured: 800 instructions more per request at 31 attributes).
    __slots__ = (
        "_allow_insecure_redirects", "_auth", "_auth_given", "_auth_origin", "_auto_decompress", "_base_url",
        "_closed", "_cookie_jar", "_default_host", "_default_items", "_default_names", "_default_rest",
        "_env_proxies", "_headers", "_heads", "_keepalive_timeout", "_limit", "_limit_per_host", "_loop",
        "_max_redirects", "_methods", "_middlewares", "_netrc", "_pool", "_proxy", "_raise_for_status",
        "_resolver", "_rest", "_context", "_plain", "_twins", "_ssl", "_ssl_context", "_targets", "_timeout",
        "_trust_env", "_wire", "__weakref__",
    )

    def __init__(
        self,
        base_url: str | URL | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: ClientTimeout = DEFAULT_TIMEOUT,
        limit: int = 100,
        limit_per_host: int = 0,
        raise_for_status: bool = False,
        auto_decompress: bool = True,
        ssl: Any = None,
        keepalive_timeout: float = 15.0,
        max_redirects: int = MAX_REDIRECTS,
        allow_insecure_redirects: bool = False,
        cookie_jar: CookieJar | DummyCookieJar | None = None,
        cookies: Any = None,
        proxy: str | URL | None = None,
        proxy_auth: tuple[str, str] | None = None,
        trust_env: bool = False,
        auth: Any = None,
        middlewares: tuple[ClientMiddleware, ...] | list[ClientMiddleware] = (),
        wire: _wire.Wire | None = None,
    ) -> None:
        if not isinstance(timeout, ClientTimeout):
            raise TypeError(f"timeout must be a ClientTimeout, not {type(timeout).__name__}")
        self._base_url = URL(base_url) if base_url is not None else None
        self._timeout = timeout
        self._raise_for_status = raise_for_status
        self._max_redirects = max_redirects
        if cookie_jar is not None and not isinstance(cookie_jar, (CookieJar, DummyCookieJar)):
            raise TypeError(f"cookie_jar must be a CookieJar or a DummyCookieJar, not {type(cookie_jar).__name__}")
        self._cookie_jar = cookie_jar if cookie_jar is not None else CookieJar()
        if cookies:
            self._cookie_jar.update_cookies(cookies)
        self._proxy = _proxy_info(proxy, proxy_auth)
        self._trust_env = trust_env
        #: the Authorization of ``auth=``: sent when a request has none of its own, only to the
        #: origin of ``base_url`` when there is one (aiohttp's rule), never after a hop elsewhere
        self._auth = None if auth is None else basic_auth(auth)
        self._auth_given = auth
        self._auth_origin = None if auth is None or self._base_url is None else Target(self._base_url).key
        self._middlewares = tuple(middlewares)
        #: what the session's first middleware is handed: the rest of its chain, built once
        #: (and only with middlewares: it holds the session's bound method, a cycle)
        self._rest: Any = chain(self._middlewares[1:], self._exchange) if self._middlewares else None
        self._env_proxies = EnvProxies() if trust_env else None
        self._netrc: dict[str, str | None] = {}
        self._allow_insecure_redirects = allow_insecure_redirects
        self._auto_decompress = auto_decompress
        if ssl is not None and not isinstance(ssl, (bool, _ssl.SSLContext)):
            raise TypeError(f"ssl must be None, a bool or an ssl.SSLContext, not {type(ssl).__name__}")
        self._ssl = ssl
        self._ssl_context: Any = None
        self._wire = wire if wire is not None else _wire.default()
        self._twins = client_twins(self._wire)
        self._context = self._twins.context   # read by every request: one attribute, not two
        self._plain = self._twins.plain       # ... and by every request without options
        defaults = CIMultiDict({"User-Agent": _USER_AGENT, "Accept": "*/*", "Accept-Encoding": accept_encoding()})
        if headers:
            for name in CIMultiDict(headers).keys():
                defaults.popall(name, None)
            defaults.extend(headers)
        if self._auth is not None and "Authorization" in defaults:
            raise InvalidRequest("auth= cannot be combined with an Authorization header")
        self._headers = CIMultiDictProxy(defaults)
        self._default_items = list(defaults.items())
        #: a Host among the defaults replaces the URL's, once: never two Host fields (RFC 9112 §3.2)
        self._default_host: str | None = defaults.get("Host")
        # exact str names (CIMultiDict gives istr): an all-str tuple is what the C writer reuses
        self._default_rest = [(str(k), v) for k, v in self._default_items if k.lower() != "host"]
        self._default_names = frozenset(k.lower() for k in defaults.keys())
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._keepalive_timeout = keepalive_timeout
        for name, value in (("limit", limit), ("limit_per_host", limit_per_host)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, not {value!r}")
        if (isinstance(keepalive_timeout, bool) or not isinstance(keepalive_timeout, (int, float))
                or not keepalive_timeout >= 0):
            raise ValueError(f"keepalive_timeout must be a number of seconds >= 0, not {keepalive_timeout!r}")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pool: Pool | None = None
        self._resolver: Resolver | None = None
        self._targets: dict[str, Target] = {}
        # per origin (its Host), and per (origin, Content-Type, Content-Length) for bodies
        self._heads: dict[Any, tuple[tuple[str, str], ...]] = {}
        self._methods = set(IDEMPOTENT_METHODS | _BODY_METHODS | {"PATCH", "CONNECT"})
        self._closed = False

    # -- public ---------------------------------------------------------------------------

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        """The default headers of every request (read-only)."""
        return self._headers

    @property
    def timeout(self) -> ClientTimeout:
        return self._timeout

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def wire(self) -> _wire.Wire:
        """The twin of the wire layer this session drives."""
        return self._wire

    @property
    def cookie_jar(self) -> CookieJar | DummyCookieJar:
        return self._cookie_jar

    @property
    def auth(self) -> Any:
        """The ``auth=`` the session was made with (None for none)."""
        return self._auth_given

    @property
    def auto_decompress(self) -> bool:
        return self._auto_decompress

    @property
    def raise_for_status(self) -> bool:
        return self._raise_for_status

    @property
    def trust_env(self) -> bool:
        return self._trust_env

    @property
    def stats(self) -> PoolStats:
        if self._pool is None:
            return PoolStats(0, 0, 0, 0, 0, 0)
        return self._pool.stats()

    # Without keywords, the request is the twins' ``plain`` one (the C twin sends it itself when
    # it can, _context.plain); and _request is never called with an empty ``**kwargs``: unpacking
    # even an empty dict into its 20 parameters costs more than the branch.
    def request(self, method: str, url: str | URL, **kwargs: Any) -> RequestContext:
        if not kwargs:
            return self._plain(self, method, url)
        if len(kwargs) == 1 and type(kwargs.get("data")) is bytes:
            return self._plain(self, method, url, kwargs["data"])
        return self._context(self._request(method, url, **kwargs))

    def get(self, url: str | URL, **kwargs: Any) -> RequestContext:
        return self._context(self._request("GET", url, **kwargs)) if kwargs else self._plain(self, "GET", url)

    def post(self, url: str | URL, **kwargs: Any) -> RequestContext:
        if not kwargs:
            return self._plain(self, "POST", url)
        if len(kwargs) == 1 and type(kwargs.get("data")) is bytes:   # a body of bytes is plain too
            return self._plain(self, "POST", url, kwargs["data"])
        return self._context(self._request("POST", url, **kwargs))

    def put(self, url: str | URL, **kwargs: Any) -> RequestContext:
        if not kwargs:
            return self._plain(self, "PUT", url)
        if len(kwargs) == 1 and type(kwargs.get("data")) is bytes:   # a body of bytes is plain too
            return self._plain(self, "PUT", url, kwargs["data"])
        return self._context(self._request("PUT", url, **kwargs))

    def patch(self, url: str | URL, **kwargs: Any) -> RequestContext:
        if not kwargs:
            return self._plain(self, "PATCH", url)
        if len(kwargs) == 1 and type(kwargs.get("data")) is bytes:   # a body of bytes is plain too
            return self._plain(self, "PATCH", url, kwargs["data"])
        return self._context(self._request("PATCH", url, **kwargs))

    def delete(self, url: str | URL, **kwargs: Any) -> RequestContext:
        return self._context(self._request("DELETE", url, **kwargs)) if kwargs else self._plain(self, "DELETE", url)

    def head(self, url: str | URL, **kwargs: Any) -> RequestContext:
        return self._context(self._request("HEAD", url, **kwargs)) if kwargs else self._plain(self, "HEAD", url)

    def options(self, url: str | URL, **kwargs: Any) -> RequestContext:
        return self._context(self._request("OPTIONS", url, **kwargs)) if kwargs else self._plain(self, "OPTIONS", url)

    async def close(self) -> None:
        """Close every connection; requests in flight fail."""
        self._closed = True
        if self._pool is not None:
            self._pool.close()

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the request -------------------------------------------------------------------------

    def _bind(self) -> asyncio.AbstractEventLoop:
        # Asking for the running loop is a getpid() syscall on CPython 3.10/3.11:
        # once per session, not per request.
        loop = self._loop = asyncio.get_running_loop()
        self._pool = self._twins.pool(loop, self._limit, self._limit_per_host, self._keepalive_timeout)
        self._resolver = Resolver(loop)
        return loop

    def _ready(self, method: str, url: Any, chained: bool) -> asyncio.AbstractEventLoop:
        """The loop of a session not bound yet, or closed: a closed one refuses to send.

        A request through a chain is refused when the chain sends it (``_exchange``), so its
        middlewares see it first.
        """
        if not self._closed:
            return self._bind()
        if not chained:
            raise ClientError("the session is closed", method=method, url=url)
        return self._loop or asyncio.get_running_loop()

    def _target(self, url: Any, params: Any) -> Target:
        if params is None and type(url) is str:
            t = self._targets.get(url)
            if t is None:
                t = make_target(url, self._base_url, None)
                if len(self._targets) >= TARGET_CACHE_SIZE:
                    self._targets.clear()
                self._targets[url] = t
            return t
        return make_target(url, self._base_url, params)

    def _body(self, method: str, t: Target, data: Any, json: Any, content: Any) -> tuple[Any, str | None]:
        """The encoded body and its default Content-Type; errors name the request."""
        if content is not None:
            if data is not None or json is not None:
                raise InvalidRequest("content= cannot be combined with data= or json=", method=method, url=t.url)
            data = content
        if data is None and json is None:
            return None, None
        try:
            return encode_body(data, json)
        except InvalidRequest as exc:
            exc.method, exc.url = method, t.url
            raise

    def _check_method(self, method: Any) -> None:
        if not isinstance(method, str) or not method or not _TCHAR.issuperset(method):
            raise InvalidRequest(f"method must be a token, not {method!r}", method=str(method))
        if len(self._methods) < 64:
            self._methods.add(method)

    def _head_items(self, t: Target, headers: Any, ctype: str | None, length: int | None,
                    method: str, chunked: bool, expect: bool) -> Sequence[tuple[str, str]]:
        """The request's header list: Host, the session's defaults, the caller's, framing."""
        if headers is None:
            # The session's fields only: a list per origin, built once, copied when framing is added.
            # Tuples: the C writer reuses the head it built from the same tuple last time.
            cached = self._heads.get(t.host_header)
            if cached is None:
                cached = (("Host", self._default_host or t.host_header), *self._default_rest)
                if len(self._heads) >= TARGET_CACHE_SIZE:
                    self._heads.clear()
                self._heads[t.host_header] = cached
            if ctype is None and length is None and not chunked and not expect:
                return cached
            names = self._default_names
            items = list(cached)
            if ctype is not None and "content-type" not in names:
                items.append(("Content-Type", ctype))
            if chunked:
                if "transfer-encoding" not in names:
                    items.append(("Transfer-Encoding", "chunked"))
            elif length is not None and "content-length" not in names:
                items.append(("Content-Length", str(length)))
            if expect and "expect" not in names:
                items.append(("Expect", "100-continue"))
            if not chunked and not expect:
                # A body of a length seen before (the same POST again): the same list next time.
                if len(self._heads) >= TARGET_CACHE_SIZE:
                    self._heads.clear()
                self._heads[(t.host_header, ctype, length)] = cached = tuple(items)
                return cached
            return items
        merged = CIMultiDict(self._default_items)
        if headers:
            given = CIMultiDict(headers)
            for name in given.keys():
                merged.popall(name, None)
            merged.extend(given)
        items = list(merged.items())
        if "Host" not in merged:
            items.insert(0, ("Host", t.host_header))
        if ctype is not None and "Content-Type" not in merged:
            items.append(("Content-Type", ctype))
        if chunked:
            if "Transfer-Encoding" not in merged:
                items.append(("Transfer-Encoding", "chunked"))
        elif length is not None and "Content-Length" not in merged:
            items.append(("Content-Length", str(length)))
        if expect and "Expect" not in merged:
            items.append(("Expect", "100-continue"))
        return items

    # The parameters are positional-or-keyword on purpose, though every caller names them: CPython
    # fills a missing positional default from a tuple, a keyword-only one by a dict lookup each
    # (about 0.2 µs per request for these 19).  The public methods take ``**kwargs`` only.
    async def _request(
        self,
        method: str,
        url: str | URL,
        params: Any = None,
        headers: Any = None,
        data: Any = None,
        json: Any = None,
        content: Any = None,
        timeout: ClientTimeout | None = None,
        ssl: Any = None,
        raise_for_status: bool | None = None,
        expect100: bool = False,
        allow_redirects: bool = True,
        max_redirects: int | None = None,
        cookies: Any = None,
        proxy: str | URL | None = None,
        proxy_auth: tuple[str, str] | None = None,
        middlewares: tuple[ClientMiddleware, ...] | list[ClientMiddleware] | None = None,
        auth: Any = None,
        _foreign: bool = False,
        _started: float | None = None,
    ) -> ClientResponse:
        """A whole request: prepared once, sent (through the middlewares, if any), redirects followed."""
        mws = self._middlewares if middlewares is None else middlewares
        loop = self._loop
        if loop is None or self._closed:
            loop = self._ready(method, url, bool(mws))
        body: bytes | Stream | None
        ctype: str | None
        resp: ClientResponse
        try:
            # The target cache looked up here, not in a call: one Python call fewer per request.
            t = self._targets.get(url) if params is None and type(url) is str else None
            if t is None:
                t = self._target(url, params)
            if auth is not None:
                headers = _with_request_auth(headers, auth, method, t)
            if method not in self._methods:
                self._check_method(method)
            if data is None and json is None and content is None:
                body, ctype = None, None
            elif type(data) is bytes and json is None and content is None:
                body, ctype = data, None   # what encode_body gives bytes, without its two calls
            else:
                body, ctype = self._body(method, t, data, json, content)
            if not mws:
                timeouts = timeout if timeout is not None else self._timeout
                total = timeouts.total
                if total is None:
                    deadline = _INF
                elif _started is None:
                    deadline = loop.time() + total
                else:
                    deadline = _started + total   # a redirect hop: the total covers the whole request
                resp = await self._exchange(None, method, t, body, ctype, headers, timeouts, deadline, ssl,
                                            expect100, cookies, proxy, proxy_auth, _foreign)
                if allow_redirects and resp.status in _REDIRECTS:
                    if _started is None and total is not None:
                        _started = deadline - total
                    resp = await self._follow(resp, t.url, method, body, ctype, headers, timeout, ssl, expect100,
                                              max_redirects if max_redirects is not None else self._max_redirects,
                                              (), {"cookies": cookies, "proxy": proxy, "proxy_auth": proxy_auth},
                                              _started)
            else:
                # Prepared once: the chain's last handler (``_exchange``) sends these pieces as
                # they are, unless a middleware changed them.
                started = loop.time() if _started is None else _started
                if headers is None and ctype is None:
                    hdrs: CIMultiDict[str] | None = None
                else:
                    hdrs = CIMultiDict(headers) if headers else CIMultiDict()
                    if ctype is not None and "Content-Type" not in hdrs:
                        hdrs["Content-Type"] = ctype
                # Field by field: a class call through __init__ costs twice as much.
                request = _PreparedRequest()
                request.session = self
                request.method = method
                request.url = t.url
                request.body = body
                request.timeout = timeout
                request.ssl = ssl
                request._headers = hdrs
                request._options = (cookies, proxy, proxy_auth, expect100)
                request._target = t
                request._foreign = _foreign
                request._started = started
                request._sent = None
                try:
                    resp = await mws[0](request, self._rest if mws is self._middlewares
                                        else chain(mws[1:], self._exchange))
                except BaseException:
                    close_sent(request)
                    raise
                if request._sent is not resp:
                    close_sent(request, resp)   # dropped by a middleware: never left holding a connection
                if allow_redirects and resp.status in _REDIRECTS:
                    cookies, proxy, proxy_auth, _ = _options(request)
                    resp = await self._follow(resp, request.url, request.method, request.body, None,
                                              request._headers, request.timeout, request.ssl, expect100,
                                              max_redirects if max_redirects is not None else self._max_redirects,
                                              tuple(mws), {"cookies": cookies, "proxy": proxy,
                                                           "proxy_auth": proxy_auth}, started)
        finally:
            # A form's files are the caller's to give, and this request's to close, however it ends.
            if data is not None or content is not None:
                form = data if content is None else content
                if isinstance(form, FormData):
                    form.close()
        rfs = raise_for_status if raise_for_status is not None else self._raise_for_status
        if rfs and resp.status >= 400:
            resp.close()
            resp.raise_for_status()
        return resp

    async def _exchange(self, chained: ClientRequest | None, method: str = "GET", t: Any = None,
                        body: bytes | Stream | None = None, ctype: str | None = None, headers: Any = None,
                        timeouts: Any = None, deadline: float = _INF, ssl: Any = None, expect100: bool = False,
                        cookies: Any = None, proxy: str | URL | None = None,
                        proxy_auth: tuple[str, str] | None = None, foreign: bool = False,
                        retried: bool = False) -> ClientResponse:
        """One send of a prepared request on a pooled connection, and its response's head.

        Called with every argument for a request without middlewares.  As the bound
        method ``self._exchange`` it is also the last handler of every middleware
        chain, called with the request alone (``chained``): it sends what the session
        prepared, as the middlewares left it, and notes the responses on the request.
        Being the handler itself, it adds no frame to the chain.
        """
        if chained is not None:
            method = chained.method
            url = chained.url
            if self._closed:
                raise ClientError("the session is closed", method=method, url=url)
            t = chained._target
            if t is None or url is not t.url:
                t = self._target(url, None)
            if method not in self._methods:
                self._check_method(method)
            body = chained.body
            if body is not None and type(body) is not bytes:
                if type(body) is not Stream:
                    body, ctype = self._body(method, t, body, None, None)   # set by a middleware, not encoded yet
                elif body.used:
                    body = chained.body = body.replay() or body   # a seekable file rewinds; else refused below
            headers = chained._headers or None   # with the body's Content-Type, if any
            options = chained._options
            cookies, proxy, proxy_auth, expect100 = options if type(options) is tuple else _options(chained)
            timeout = chained.timeout
            timeouts = timeout if timeout is not None else self._timeout
            total = timeouts.total
            if total is not None:
                started = chained._started
                if started is None:   # a request a middleware built itself: its total starts now
                    started = chained._started = self._loop.time()  # type: ignore[union-attr]
                deadline = started + total   # every send of the chain: the total covers the whole request
            ssl = chained.ssl
            foreign = chained._foreign
        if type(body) is Stream and body.used:
            # Refused before a connection is taken: nothing is written, nothing is closed.
            raise InvalidRequest("a streamed request body can be sent only once (it was consumed by an "
                                 "earlier send: a retry or redirect needs bytes or a seekable file)",
                                 method=method, url=t.url)
        chunked = False
        if body is None:
            length = 0 if method in _BODY_METHODS else None
        elif type(body) is bytes:
            length = len(body)
        else:
            length = body.length  # type: ignore[union-attr]
            chunked = length is None
        if headers is None and ctype is None and length is None and not chunked and not expect100:
            items = self._heads.get(t.host_header) or self._head_items(t, None, None, None, method, False, False)
        elif headers is None and not chunked and not expect100:
            items = (self._heads.get((t.host_header, ctype, length))
                     or self._head_items(t, None, ctype, length, method, False, False))
        else:
            items = self._head_items(t, headers, ctype, length, method, chunked, expect100)
        if foreign:
            items = [(k, v) for k, v in items if k.title() not in _ORIGIN_BOUND]
        if t.auth is not None and not foreign:
            items = _with_auth(items, t.auth)
        elif self._auth is not None and not foreign and (
                self._auth_origin is None or self._auth_origin == t.key):
            items = _with_auth(items, self._auth)
        jar = self._cookie_jar
        if jar._count or cookies:
            items = self._with_cookies(items, t.url, cookies)
        if self._trust_env:
            items = self._with_netrc(items, t)
        target = t.target
        px = self._proxy if proxy is None else _proxy_info(proxy, proxy_auth)
        if px is None and self._env_proxies:
            px = self._env_proxies.proxy_for(t.url)
        if px is None:
            if t.is_tls:
                key: Any = (t.scheme, t.host, t.port, ssl if ssl is not None else self._ssl)
            else:
                key = t.key
        elif t.is_tls:
            # a tunnel per origin: its connections carry that origin's TLS, never another's
            key = ("https", t.host, t.port, ssl if ssl is not None else self._ssl, px.url, px.auth)
        else:
            # absolute-form requests: one set of connections to the proxy for every http origin
            key = ("http", px.url, px.auth)
            target = str(t.url.with_fragment(None))
            if px.auth is not None:
                items = [*items, ("Proxy-Authorization", px.auth)]
        pool = self._pool
        assert pool is not None
        while True:
            conn = pool.take_idle(key)
            if conn is None:
                conn = await self._acquire(key, t, ssl, timeouts, deadline, method, px)
            reused = conn.requests > 0
            waiter = conn.begin(self, method, t.url, deadline, timeouts.read)
            try:
                writer = conn.writer_type(conn.transport, conn)
                try:
                    writer.write_request_headers(method, target, items)
                except LocalProtocolError as exc:
                    raise InvalidRequest(f"the request cannot be sent: {exc}", method=method, url=t.url) from exc
                if body is None:
                    writer.set_eof()
                elif type(body) is bytes and not expect100:
                    writer.write_eof(body)
                else:
                    await self._send_body(conn, writer, body, chunked, expect100, method, t)
                resp = await waiter
            except BaseException as exc:
                early = self._failed(exc, conn, waiter, reused and not retried, method, t, body)
                if early is None:
                    retried = True
                    continue
                resp = early
            break
        if jar is not None and resp._head.has_set_cookie:
            jar.update_from_response(resp.headers, t.url)
        if resp.status == 407 and px is not None:
            resp.close()
            raise ProxyError("the proxy requires authentication (407)", method=method, url=t.url, status=407)
        if chained is not None:
            if chained._sent is None:
                chained._sent = resp
            else:
                sent(chained, resp)
        return resp

    def _failed(self, exc: BaseException, conn: Connection, waiter: asyncio.Future[ClientResponse],
                retry: bool, method: str, t: Target, body: Any) -> ClientResponse | None:
        """What an exception while a request was in flight on ``conn`` means: raised as it is
        or in its place; None when the request goes again (``retry``: the first send on a
        reused connection); or the response that came before the connection went (an early 413).
        """
        replayable = body is None or type(body) is bytes
        if isinstance(exc, ServerDisconnectedError):
            if retry and getattr(exc, "nothing_received", False) and method in IDEMPOTENT_METHODS and replayable:
                return None
            raise exc
        if isinstance(exc, TransportError):
            if waiter.done() and not waiter.cancelled():
                failed = waiter.exception()
                if failed is None:
                    # The response came before the connection went (an early 413):
                    # it is the answer, and the connection is already closed.
                    return waiter.result()
                conn.close()
                raise failed from exc   # a timeout or protocol error ended the exchange
            conn.close()
            if retry and method in IDEMPOTENT_METHODS and replayable:
                return None
            raise ServerDisconnectedError(f"the connection was lost while sending: {exc}",
                                          method=method, url=t.url) from exc
        # Cancelled, timed out or refused while in flight: the connection's
        # state is unknown, so it is closed, never pooled.
        conn.close()
        raise exc

    async def _plain_rest(self, resp: ClientResponse | None, method: str, t: Target, timeouts: ClientTimeout,
                          deadline: float, body: bytes | None) -> ClientResponse:
        """The rest of a request without options that the C twin sent (``_context_c.plain``):
        the second send (``resp`` None: its first, on a reused connection, met a closed one),
        then what ``_request`` does after ``_exchange``: redirects and raise_for_status."""
        if resp is None:
            resp = await self._exchange(None, method, t, body, None, None, timeouts, deadline, None, False,
                                        None, None, None, False, True)
        if resp.status in _REDIRECTS:
            total = timeouts.total
            resp = await self._follow(resp, t.url, method, body, None, None, None, None, False, self._max_redirects,
                                      (), {"cookies": None, "proxy": None, "proxy_auth": None},
                                      None if total is None else deadline - total)
        if self._raise_for_status and resp.status >= 400:
            resp.close()
            resp.raise_for_status()
        return resp

    async def _follow(self, resp: ClientResponse, first: URL, method: str, body: Any, ctype: str | None,
                      headers: Any, timeout: ClientTimeout | None, ssl: Any, expect100: bool, max_redirects: int,
                      middlewares: tuple[ClientMiddleware, ...], options: dict[str, Any],
                      started: float | None) -> ClientResponse:
        """Follow redirects from ``resp``: each hop a request of its own through the pool (and the chain).

        The total timeout runs from the first request to the end of the last hop.
        """
        history: list[ClientResponse] = []
        url = first
        foreign = False
        while resp.status in _REDIRECTS:
            history.append(resp)
            location = resp.headers.get("Location")
            if location is None:
                break   # a redirect status without a target is the final answer
            if len(history) > max_redirects:
                await resp.release()
                err = TooManyRedirects(f"more than {max_redirects} redirects", method=method, url=url,
                                       status=resp.status, reason=resp.reason, headers=resp.headers)
                err.history = tuple(history)
                raise err
            next_url = self._redirect_target(resp, url, location, method)
            status = resp.status
            if status == 303 and method != "HEAD" or status in (301, 302) and method == "POST":
                method, body, ctype = ("GET" if status == 303 or method == "POST" else method), None, None
                if headers:
                    headers = _without(headers, _CONTENT_FIELDS)   # the body is gone, and what described it
            elif body is not None and type(body) is not bytes:
                replay = body.replay()
                if replay is None:
                    await resp.release()
                    raise InvalidRedirect(f"a {status} redirect needs the request body again, and it was "
                                          "a stream that cannot be replayed", method=method, url=url,
                                          status=status, reason=resp.reason, headers=resp.headers)
                body = replay
            if (next_url.scheme, next_url.host, next_url.port) != (first.scheme, first.host, first.port):
                foreign = True   # once another origin, always: credentials never follow
            if foreign and headers:
                headers = _without(headers, _ORIGIN_BOUND)
            if foreign and options.get("cookies"):
                options = {**options, "cookies": None}   # the caller's cookies= are the first origin's
            if body is not None and ctype is not None:
                # a kept body keeps the Content-Type it was sent with (json=, data=dict ...)
                given = CIMultiDict(headers) if headers else CIMultiDict()
                if "Content-Type" not in given:
                    given["Content-Type"] = ctype
                headers = given
            await resp.release()
            resp = await self._request(method, next_url, headers=headers, data=body, timeout=timeout,
                                       ssl=ssl, expect100=expect100 and body is not None,
                                       raise_for_status=False, allow_redirects=False, _foreign=foreign,
                                       middlewares=middlewares, _started=started, **options)
            url = next_url
        resp.history = tuple(history)
        return resp

    def _redirect_target(self, resp: ClientResponse, url: URL, location: str, method: str) -> URL:
        """The URL a ``Location`` names, resolved against ``url``; refused when unsafe or malformed."""
        def refuse(why: str) -> InvalidRedirect:
            return InvalidRedirect(f"cannot follow the redirect: {why}", method=method, url=url,
                                   status=resp.status, reason=resp.reason, headers=resp.headers)
        try:
            location.encode("utf-8")
        except UnicodeEncodeError:
            raise refuse("Location is not valid UTF-8") from None
        if any(c < " " or c == "\x7f" for c in location):
            raise refuse("Location contains a control character")
        try:
            next_url = url.join(URL(location))
        except (ValueError, TypeError) as exc:
            raise refuse(f"Location cannot be parsed: {exc}") from exc
        if next_url.scheme not in ("http", "https") or not next_url.raw_host:
            raise refuse(f"Location {location!r} is not an http(s) URL with a host")
        if url.scheme == "https" and next_url.scheme == "http" and not self._allow_insecure_redirects:
            raise refuse("an https to http redirect (allow_insecure_redirects=True allows it)")
        if not next_url.raw_fragment and url.raw_fragment:
            next_url = next_url.with_fragment(url.fragment)   # RFC 9110 §10.2.2
        return next_url

    async def _send_body(self, conn: Connection, writer: Any, body: Any, chunked: bool, expect100: bool,
                         method: str, t: Target) -> None:
        """A body that is streamed, or held back for ``100 Continue``."""
        if chunked:
            writer.enable_chunking()
        if expect100:
            cw = conn.continue_waiter = conn._loop.create_future()
            writer.send_headers()
            try:
                status = await asyncio.wait_for(asyncio.shield(cw), EXPECT_CONTINUE_TIMEOUT)
            except asyncio.TimeoutError:
                status = 100   # no answer: send the body anyway (RFC 9110 §10.1.1)
            finally:
                conn.continue_waiter = None
            if status != 100:
                # A final status came first: the body is never sent, and the
                # connection cannot carry another request (the server may wait for it).
                conn.reusable = False
                return
        if type(body) is bytes:
            writer.write_eof(body)
            return
        conn.sending = True
        try:
            async for piece in body:
                if conn.waiter is None or conn.closed:
                    # The response (an early 413, say) arrived while sending:
                    # stop; the connection is not reused.
                    conn.reusable = False
                    return
                writer.write(piece)
                await writer.drain()
            writer.write_eof()
        finally:
            conn.sending = False

    async def _acquire(self, key: Any, t: Target, ssl: Any, timeouts: ClientTimeout, deadline: float,
                       method: str, proxy: ProxyInfo | None) -> Connection:
        """A connection of ``key``: wait for the pool, or open one."""
        pool = self._pool
        loop = self._loop
        assert pool is not None and loop is not None
        if not pool.reserve(key):
            wait_for = timeouts.pool
            total_left = deadline - loop.time()
            limit = min(wait_for if wait_for is not None else _INF, total_left)
            try:
                if limit == _INF:
                    got = await pool.wait(key)
                else:
                    got = await asyncio.wait_for(pool.wait(key), max(limit, 0))
            except asyncio.TimeoutError:
                cls = TotalTimeout if total_left <= (wait_for if wait_for is not None else _INF) else PoolTimeout
                raise cls("no connection became free in time", method=method, url=t.url) from None
            if got is not None:
                return got
        # a slot is reserved: open a connection
        try:
            conn = await self._open(key, t, ssl, timeouts, deadline, method, proxy)
        except BaseException:
            pool.unreserve(key)
            raise
        if conn.closed:
            # The server closed it before it could be used (a close right after accept).
            pool.unreserve(key)
            raise ServerDisconnectedError("the server closed the connection as soon as it was opened",
                                          method=method, url=t.url)
        pool.connected(conn)
        return conn

    async def _open(self, key: Any, t: Target, ssl: Any, timeouts: ClientTimeout, deadline: float,
                    method: str, proxy: ProxyInfo | None = None) -> Connection:
        loop = self._loop
        pool = self._pool
        resolver = self._resolver
        assert loop is not None and pool is not None and resolver is not None
        ssl_context = None
        if t.is_tls:
            if ssl is None:
                if self._ssl_context is None:
                    self._ssl_context = make_ssl_context(self._ssl)
                ssl_context = self._ssl_context
            else:
                ssl_context = make_ssl_context(ssl)
        wire = self._wire
        conn_type = self._twins.connection

        def factory() -> Connection:
            return conn_type(pool, key, wire, loop)

        connect = timeouts.connect
        total_left = deadline - loop.time()
        limit = min(connect if connect is not None else _INF, total_left)
        if proxy is None:
            coro = self._connect(factory, t.host, t.port, ssl_context)
        else:
            coro = self._connect_proxy(factory, t, ssl_context, proxy, deadline, timeouts.read)
        try:
            if limit == _INF:
                conn = await coro
            else:
                conn = await asyncio.wait_for(coro, max(limit, 0))
        except asyncio.TimeoutError:
            cls = TotalTimeout if total_left <= (connect if connect is not None else _INF) else ConnectTimeout
            raise cls(f"connecting to {t.host}:{t.port} took too long", method=method, url=t.url) from None
        except ClientError:
            raise
        except (OSError, ValueError) as exc:
            raise ConnectError(f"cannot connect to {t.host}:{t.port}: {exc}", method=method, url=t.url) from exc
        return conn

    async def _connect(self, factory: Any, host: str, port: int, ssl_context: Any) -> Connection:
        assert self._loop is not None and self._resolver is not None
        _, conn = await open_connection(self._loop, self._resolver, factory, host, port, ssl_context)
        return conn  # type: ignore[no-any-return]

    async def _connect_proxy(self, factory: Any, t: Target, ssl_context: Any, proxy: ProxyInfo,
                             deadline: float, read_timeout: float | None) -> Connection:
        """A connection through ``proxy``: plain for http, a CONNECT tunnel then TLS for https."""
        loop = self._loop
        assert loop is not None
        purl = proxy.url
        if purl.scheme != "http":
            raise ConnectError("only http:// proxies are supported", method="CONNECT", url=purl)
        conn = await self._connect(factory, purl.raw_host or "", purl.port or 80, None)
        if not t.is_tls:
            return conn
        hh = t.host_header   # "host", "host:port", "[v6]" or "[v6]:port"
        has_port = not hh.endswith("]") and hh.rpartition(":")[2].isdigit() and ":" in hh
        authority = hh if has_port else f"{hh}:{t.port}"
        try:
            waiter = conn.begin(self, "CONNECT", purl, deadline, read_timeout)
            conn.tunneling = True
            writer = conn.writer_type(conn.transport, conn)
            head = [("Host", authority)]
            if proxy.auth is not None:
                head.append(("Proxy-Authorization", proxy.auth))
            writer.write_request_headers("CONNECT", authority, head)
            writer.set_eof()
            resp = await waiter
            if not 200 <= resp.status < 300:
                raise ProxyError(f"the proxy refused the tunnel: {resp.status} {resp.reason}",
                                 method="CONNECT", url=t.url, status=resp.status)
            conn.tunneled()
            transport = await loop.start_tls(conn.transport, conn, ssl_context, server_hostname=t.host)  # type: ignore[arg-type]
            if transport is None:
                raise ConnectError("TLS through the proxy tunnel failed", method="CONNECT", url=t.url)
            conn.transport = transport
        except BaseException:
            conn.close()
            raise
        return conn

    def _with_cookies(self, items: Sequence[tuple[str, str]], url: URL, cookies: Any) -> Sequence[tuple[str, str]]:
        """``items`` with the Cookie the jar (and ``cookies=``) give for ``url``, unless the caller set one."""
        for name, _ in items:
            if name.lower() == "cookie":
                return items
        if cookies:
            found = self._cookie_jar.filter_cookies(url)
            extra = CookieJar(unsafe=True)
            extra.update_cookies(cookies)
            found.update(extra.filter_cookies(url))
            value = "; ".join(f"{k}={v}" for k, v in found.items()) or None
        else:
            value = self._cookie_jar.header_for(url)
        return [*items, ("Cookie", value)] if value else items

    def _with_netrc(self, items: Sequence[tuple[str, str]], t: Target) -> Sequence[tuple[str, str]]:
        """With ``trust_env``, Basic credentials from .netrc when the caller gave none."""
        for name, _ in items:
            if name.lower() == "authorization":
                return items
        host = t.host
        if host not in self._netrc:
            found = netrc_auth(host)
            self._netrc[host] = None if found is None else encode_basic(found[0], found[1])
        value = self._netrc[host]
        return [*items, ("Authorization", value)] if value else items


install_methods(ClientSession)   # the C twins' request methods, when built (_twins)


class _PreparedRequest(ClientRequest):
    """A ``ClientRequest`` the session fills field by field: made without a Python ``__init__``
    (``object``'s own), half the cost of ``object.__new__(ClientRequest)`` called from Python."""

    __slots__ = ()
    __init__ = object.__init__


#: What ``ClientRequest.options`` may hold.
_OPTIONS = frozenset({"cookies", "proxy", "proxy_auth", "expect100"})


def _options(request: ClientRequest) -> tuple[Any, Any, Any, bool]:
    """(cookies, proxy, proxy_auth, expect100) of ``request``, as a middleware may have changed them."""
    options = request._options
    if type(options) is tuple:
        return options
    if not isinstance(options, Mapping):
        raise TypeError(f"request options must be a mapping, not {type(options).__name__}")
    unknown = options.keys() - _OPTIONS
    if unknown:
        raise TypeError(f"unknown request options: {', '.join(sorted(map(str, unknown)))}")
    return (options.get("cookies"), options.get("proxy"), options.get("proxy_auth"),
            bool(options.get("expect100", False)))


def _without(headers: Any, names: tuple[str, ...]) -> CIMultiDict[str]:
    """A copy of ``headers`` without the fields ``names``."""
    kept: CIMultiDict[str] = CIMultiDict(headers)
    for name in names:
        kept.popall(name, None)
    return kept


def _with_request_auth(headers: Any, auth: Any, method: str, t: Target) -> CIMultiDict[str]:
    """The request's headers with the Authorization of its ``auth=``; refused beside another one."""
    merged: CIMultiDict[str] = CIMultiDict(headers) if headers else CIMultiDict()
    if "Authorization" in merged:
        raise InvalidRequest("auth= cannot be combined with an Authorization header", method=method, url=t.url)
    if t.auth is not None:
        raise InvalidRequest("auth= cannot be combined with credentials in the URL", method=method, url=t.url)
    try:
        merged["Authorization"] = basic_auth(auth)
    except InvalidRequest as exc:
        exc.method, exc.url = method, t.url
        raise
    return merged


def _with_auth(items: Sequence[tuple[str, str]], value: str) -> Sequence[tuple[str, str]]:
    """``items`` with an Authorization from the URL's credentials, unless the caller gave one."""
    for name, _ in items:
        if name.lower() == "authorization":
            return items
    return [*items, ("Authorization", value)]


def _proxy_info(proxy: str | URL | None, auth: tuple[str, str] | None) -> ProxyInfo | None:
    if proxy is None:
        return None
    try:
        info = parse_proxy_url(str(proxy))
    except ValueError as exc:
        raise InvalidRequest(f"bad proxy URL: {exc}", url=proxy) from None
    if auth is not None:
        info = ProxyInfo(info.url, encode_basic(auth[0], auth[1]))
    return info


async def request(method: str, url: str | URL, **kwargs: Any) -> ClientResponse:
    """One request in a session of its own; the response comes back read (``await r.read()`` is free)."""
    session_kwargs = {k: kwargs.pop(k) for k in ("timeout", "wire", "auto_decompress", "ssl") if k in kwargs}
    async with ClientSession(**session_kwargs) as session:
        resp = await session._request(method, url, **kwargs)
        await resp.read()
        return resp

