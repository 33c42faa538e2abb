# cython: language_level=3, freethreading_compatible=True
"""The C twin of what ``session.get(...)`` returns (``wirespeed.client._context``).

Same contract as the Python twin: awaitable for the response, or an async
context manager that closes a response left before the end of its body.
Why it is hand-written: in Python, ``async with session.get(url) as r``
costs two more coroutines per request (``__aenter__`` and ``__aexit__``) and
a wrapper object for ``__await__``, and the request's coroutine is resumed
through them on every wake-up: about a tenth of a small request's CPU.
Here the object is its own awaitable: its ``am_send`` slot drives the
request's coroutine with ``PyIter_Send`` and keeps the response that
coroutine returns (no StopIteration is raised on the way), so
``__aenter__`` is the object itself and ``__aexit__`` returns an awaitable
that is already done.

``plain(session, method, url, data=None)`` is what a request without
options (``session.get(url)``, or with ``data=`` bytes and nothing else)
returns.  When the session has nothing for the request to do beyond sending
it (no middleware, auth, cookie to send, proxy or ``trust_env``; a URL,
method and header list it has seen; an idle connection for the origin), the
object sends it itself on its first ``send`` (through the connection
module's C functions, src/client/_plain_api.pxi), awaits the connection's
future, and updates the cookie jar: what ``_request`` and ``_exchange`` do
for such a request, without their two frames.  Everything else is handed to the session's Python code: the
request's coroutine when any of those is missing (nothing has been done
then), ``_failed`` for an exception in flight, ``_plain_rest`` for a second
send, redirects and ``raise_for_status``; so the Python twin, which always
runs the coroutine, is the reference.
"""

from cpython.exc cimport PyErr_WarnEx
from cpython.object cimport PyObject
from cpython.pycapsule cimport PyCapsule_GetPointer
from cpython.ref cimport Py_DECREF, Py_INCREF

import sys

__all__ = ["RequestContext", "install_methods", "plain"]

cdef extern from "Python.h":
    ctypedef enum PySendResult:
        PYGEN_RETURN
        PYGEN_ERROR
        PYGEN_NEXT
    ctypedef PySendResult (*sendfunc)(PyObject *, PyObject *, PyObject **) noexcept
    ctypedef PyObject *(*unaryfunc)(PyObject *) noexcept
    ctypedef struct PyAsyncMethods:
        unaryfunc am_await
        sendfunc am_send
    ctypedef struct PyTypeObject:
        PyAsyncMethods *tp_as_async
    PySendResult PyIter_Send(PyObject *iterator, PyObject *arg, PyObject **presult) noexcept
    void PyErr_SetObject(object type, object value) noexcept
    PyTypeObject *Py_TYPE(object o) noexcept

# An exhausted iterator: what ``__aexit__``'s awaitable hands to ``await``, which ends at once.
cdef object _EMPTY = iter(())


cdef class _Done:
    """An awaitable that is already done (``await`` gives None)."""

    def __await__(self):
        return _EMPTY


cdef _Done _DONE = _Done()


cdef int raise_current() except -1:
    """Hand the exception PyIter_Send left set on to Cython's error handling."""
    return -1


# What the plain path reads of the session's module, bound on its first request
# (wirespeed.client._session imports this module's twin table: not at import).
cdef object _REDIRECTS = None
cdef object _BODY_METHODS = None
cdef object _LocalProtocolError = None
cdef object _InvalidRequest = None
cdef type _Session = None
cdef type _Target = None
cdef type _ClientTimeout = None
cdef double _INF = float("inf")

# The session's, the target's and the response's fields are read straight from their
# slots (src/client/_slots.pxi): the plain path reads about twenty per request.
include "_slots.pxi"

_SESSION_FIELDS = ("_loop", "_closed", "_middlewares", "_auth", "_trust_env", "_proxy", "_methods", "_targets",
                   "_cookie_jar", "_heads", "_ssl", "_pool", "_timeout", "_raise_for_status", "_plain")
cdef enum:
    S_LOOP, S_CLOSED, S_MIDDLEWARES, S_AUTH, S_TRUST_ENV, S_PROXY, S_METHODS, S_TARGETS
    S_COOKIE_JAR, S_HEADS, S_SSL, S_POOL, S_TIMEOUT, S_RAISE_FOR_STATUS, S_PLAIN, S_N
_TARGET_FIELDS = ("url", "scheme", "host", "port", "is_tls", "target", "host_header", "auth", "key")
cdef enum:
    T_URL, T_SCHEME, T_HOST, T_PORT, T_IS_TLS, T_TARGET, T_HOST_HEADER, T_AUTH, T_KEY, T_N
_RESPONSE_FIELDS = ("status", "_head", "_conn", "_pieces")
cdef enum:
    R_STATUS, R_HEAD, R_CONN, R_PIECES, R_N
cdef Py_ssize_t _s_off[S_N]
cdef Py_ssize_t _t_off[T_N]
cdef Py_ssize_t _r_off[R_N]
cdef type _Response = None

include "_wire_calls.pxi"
include "_plain_api.pxi"

# the pool's and the connection's calls for the plain path (src/client/_plain_api.pxi)
from wirespeed.client import _connection_c
cdef PlainAPI *_api = <PlainAPI *>PyCapsule_GetPointer(_connection_c._PLAIN_API, PLAIN_API_NAME)


cdef inline object _slot(object obj, Py_ssize_t offset):
    """The object in a slot (an instance of the class the offset was learnt from)."""
    cdef PyObject *value = (<PyObject **>((<char *><PyObject *>obj) + offset))[0]
    if value == NULL:
        return _unset_slot()   # out of line: this stays small enough to inline
    return <object>value


cdef object _unset_slot():
    raise AttributeError("a slot the C twin reads is not set")


cdef int _learn_response() except -1:
    global _Response
    from wirespeed.client._response import ClientResponse
    _slot_offsets(ClientResponse, _RESPONSE_FIELDS, _r_off)
    _Response = ClientResponse
    return 0


cdef int _learn_session() except -1:
    global _REDIRECTS, _BODY_METHODS, _LocalProtocolError, _InvalidRequest, _Session, _Target, _ClientTimeout
    from wirespeed.client import _session, _timeouts, _urls
    from wirespeed.errors import InvalidRequest, LocalProtocolError
    _slot_offsets(_session.ClientSession, _SESSION_FIELDS, _s_off)
    _slot_offsets(_urls.Target, _TARGET_FIELDS, _t_off)
    _learn_response()
    _BODY_METHODS = _session._BODY_METHODS
    _LocalProtocolError = LocalProtocolError
    _InvalidRequest = InvalidRequest
    _Session = _session.ClientSession
    _Target = _urls.Target
    _ClientTimeout = _timeouts.ClientTimeout
    _REDIRECTS = _session._REDIRECTS
    return 0


# The last session timeouts read, and their total and read: a ClientTimeout is frozen, so
# one seen again (by identity: it is held here) has the same values.  Another class's are
# read every time.
cdef object _UNSEEN = object()
cdef object _last_timeouts = _UNSEEN
cdef object _last_total = None
cdef object _last_read = None


cdef int _learn_timeouts(timeouts) except -1:
    global _last_timeouts, _last_total, _last_read
    total = timeouts.total
    read = timeouts.read
    _last_timeouts = timeouts if type(timeouts) is _ClientTimeout else _UNSEEN
    _last_total = total
    _last_read = read
    return 0


cdef enum:
    PLAIN_START = 1     # not sent yet
    PLAIN_WAIT = 2      # sent; awaiting the connection's future (_it is its iterator)
    PLAIN_DONE = 3      # returned or raised


cdef class RequestContext:
    """The request in flight: ``await`` it, or use it with ``async with``."""

    cdef object _coro
    cdef readonly object _resp
    # a plain request (see plain()) while the C twin drives it itself; 0 once _coro does
    cdef int _plain
    cdef object _session, _method, _url, _t, _items, _conn, _waiter, _it, _timeouts
    cdef bytes _body
    cdef double _deadline
    cdef bint _reused

    def __cinit__(self, coro):
        self._coro = coro
        self._resp = None

    def __await__(self):
        return self

    def __iter__(self):
        return self

    def __next__(self):
        # Reached only when ``await`` cannot use am_send (a tracer is set, say); the
        # return value comes back through StopIteration then.
        return self.send(None)

    def send(self, value):
        cdef PyObject *result = NULL
        cdef PySendResult how = _am_send(<PyObject *>self, <PyObject *>value, &result)
        if how == PYGEN_ERROR:
            raise_current()
        out = <object>result
        Py_DECREF(out)   # PyIter_Send gave a new reference; the cast took another
        if how == PYGEN_RETURN:
            raise StopIteration(out)
        return out

    def throw(self, *args):
        if self._plain:
            return self._plain_throw(args)
        try:
            return self._coro.throw(*args)
        except StopIteration as stop:
            self._resp = stop.value
            raise

    def close(self):
        if self._plain:
            if self._plain == PLAIN_WAIT:
                # a coroutine closed at its ``await`` closes the connection (_exchange's rule)
                self._plain = PLAIN_DONE
                self._conn.close()
            self._plain = PLAIN_DONE
            return None
        return self._coro.close()

    def __aenter__(self):
        return self

    def __aexit__(self, et, e, tb):
        resp = self._resp
        if resp is None:
            return _DONE
        if _Response is None:
            _learn_response()
        if isinstance(resp, _Response):
            unread = _slot(resp, _r_off[R_CONN]) is not None or _slot(resp, _r_off[R_PIECES])
        else:
            unread = resp._conn is not None or resp._pieces
        if unread:
            resp.close()   # the body is not all read: the connection closes, what is left goes
        return _DONE

    def __del__(self):
        # dropped while awaiting its response: a suspended coroutine is closed when
        # collected, and _exchange closes the connection then
        if self._plain == PLAIN_WAIT:
            self._plain = PLAIN_DONE
            self._conn.close()

    # -- the plain path --------------------------------------------------------------

    cdef object _plain_step(self, value, bint *finished):
        """One send into a plain request: what it yields, or its response (``finished``)."""
        cdef PyObject *result = NULL
        cdef PySendResult how
        if self._plain == PLAIN_START:
            if value is not None:
                raise TypeError("can't send non-None value to a just-started coroutine")
            if not self._start():
                return None
            try:
                self._send_head()
            except BaseException as exc:
                return self._plain_failed(exc, finished)
            value = None
        elif self._plain == PLAIN_DONE:
            raise RuntimeError("cannot reuse already awaited coroutine")
        how = PyIter_Send(<PyObject *>self._it, <PyObject *>value, &result)
        if how == PYGEN_ERROR:
            return self._plain_failed(_take_raised(), finished)
        out = <object>result
        Py_DECREF(out)
        if how == PYGEN_NEXT:
            return out
        return self._plain_done(out, finished)

    cdef bint _start(self) except -1:
        """Send the request if the session has nothing else to do for it; else hand it to
        the session's coroutine (``_coro``) with nothing done.  True when sent."""
        session = self._session
        method = self._method
        url = self._url
        if _REDIRECTS is None:
            _learn_session()
        if not isinstance(session, _Session) or type(url) is not str:
            return self._hand_over()
        loop = _slot(session, _s_off[S_LOOP])
        if (loop is None or _slot(session, _s_off[S_CLOSED]) or _slot(session, _s_off[S_MIDDLEWARES])
                or _slot(session, _s_off[S_AUTH]) is not None or _slot(session, _s_off[S_TRUST_ENV])
                or _slot(session, _s_off[S_PROXY]) is not None or method not in _slot(session, _s_off[S_METHODS])):
            return self._hand_over()
        cdef dict targets = _slot(session, _s_off[S_TARGETS])
        t = targets.get(url)
        if (type(t) is not _Target or _slot(t, _t_off[T_AUTH]) is not None
                or _slot(session, _s_off[S_COOKIE_JAR])._count):
            return self._hand_over()
        cdef dict heads = _slot(session, _s_off[S_HEADS])
        host_header = _slot(t, _t_off[T_HOST_HEADER])
        body = self._body
        if body is not None:
            items = heads.get((host_header, None, len(body)))
        else:
            # "GET" (what session.get passes: one interned object) is no body method, at once
            items = heads.get((host_header, None, 0) if method is not "GET" and method in _BODY_METHODS
                              else host_header)
        if items is None:
            return self._hand_over()
        self._items = items
        if _slot(t, _t_off[T_IS_TLS]):
            key = (_slot(t, _t_off[T_SCHEME]), _slot(t, _t_off[T_HOST]), _slot(t, _t_off[T_PORT]),
                   _slot(session, _s_off[S_SSL]))
        else:
            key = _slot(t, _t_off[T_KEY])
        timeouts = _slot(session, _s_off[S_TIMEOUT])
        if timeouts is not _last_timeouts:
            _learn_timeouts(timeouts)
        cdef PlainStart started
        conn = _api.take(_slot(session, _s_off[S_POOL]), key, session, method, _slot(t, _t_off[T_URL]),
                         _last_total, _last_read, &started)
        if conn is None or <PyObject *>conn == _api.no_api:
            return self._hand_over()
        self._deadline = started.deadline
        self._reused = started.reused
        self._t = t
        self._timeouts = timeouts
        self._conn = conn
        self._waiter = <object>started.waiter
        self._plain = PLAIN_WAIT
        return True

    cdef int _send_head(self) except -1:
        """The head and the body (bytes or none): one transport call; then await the response."""
        t = self._t
        items = self._items
        self._items = None
        try:
            _api.send(self._conn, self._method, _slot(t, _t_off[T_TARGET]), items, self._body)
        except _LocalProtocolError as exc:
            raise _InvalidRequest(f"the request cannot be sent: {exc}", method=self._method, url=t.url) from exc
        self._it = _await(self._waiter)
        return 0

    cdef bint _hand_over(self) except -1:
        """The session's own coroutine runs this request, from the start."""
        self._plain = 0
        if self._body is None:
            self._coro = self._session._request(self._method, self._url)
        else:
            self._coro = self._session._request(self._method, self._url, data=self._body)
        return False

    cdef object _plain_failed(self, exc, bint *finished):
        """An exception while the request was in flight: the session decides (``_failed``)."""
        self._it = None
        try:
            early = self._session._failed(exc, self._conn, self._waiter, self._reused, self._method, self._t,
                                          self._body)
        except BaseException:
            self._plain = PLAIN_DONE
            raise
        if early is not None:
            return self._plain_done(early, finished)
        # a second send, on another connection: the session's coroutine does it
        self._plain = 0
        self._coro = self._session._plain_rest(None, self._method, self._t, self._timeouts, self._deadline,
                                               self._body)
        return _NOT_DONE

    cdef object _plain_done(self, resp, bint *finished):
        """The response came: the jar, then redirects or raise_for_status as ``_request`` does."""
        session = self._session
        self._it = None
        self._plain = PLAIN_DONE
        self._conn = self._waiter = None   # the response holds what it needs
        if isinstance(resp, _Response):
            status = _slot(resp, _r_off[R_STATUS])
            cookie = _sets_cookie(_slot(resp, _r_off[R_HEAD]))
        else:
            status = resp.status
            cookie = resp._head.has_set_cookie
        if cookie:
            _slot(session, _s_off[S_COOKIE_JAR]).update_from_response(resp.headers, self._t.url)
        if 300 <= status <= 308 and status in _REDIRECTS:
            self._plain = 0
            self._coro = session._plain_rest(resp, self._method, self._t, self._timeouts, self._deadline,
                                             self._body)
            return _NOT_DONE
        if _slot(session, _s_off[S_RAISE_FOR_STATUS]) and status >= 400:
            resp.close()
            resp.raise_for_status()
        finished[0] = True
        self._resp = resp
        return resp

    cdef object _plain_throw(self, tuple args):
        cdef bint finished = False
        if self._plain == PLAIN_DONE:
            raise RuntimeError("cannot reuse already awaited coroutine")
        if self._plain == PLAIN_START:
            exc = _thrown(args)   # arguments refused leave it unstarted, as a coroutine
            self._plain = PLAIN_DONE   # thrown into before it started: it never sends
            raise exc
        try:
            out = self._it.throw(*args)
        except BaseException as exc:
            out = self._plain_failed(exc, &finished)
            if out is _NOT_DONE:
                return self.send(None)
            if finished:
                raise StopIteration(out)
        return out


cdef object _await(fut):
    """``fut.__await__()``, through the type's am_await slot when it has one (asyncio's futures)."""
    cdef PyObject *it
    cdef PyAsyncMethods *am = Py_TYPE(fut).tp_as_async
    if am == NULL or am.am_await == NULL:
        return fut.__await__()
    it = am.am_await(<PyObject *>fut)
    if it == NULL:
        raise_current()
    out = <object>it
    Py_DECREF(out)   # am_await gave a new reference; the cast took another
    return out


# what a plain step returns when it handed the request to the session's coroutine
cdef object _NOT_DONE = object()


cdef object _take_raised():
    """The exception PyIter_Send left set, taken (the error indicator cleared)."""
    try:
        raise_current()
    except BaseException as exc:
        return exc


cdef bint _WARN_THROW_FORM = sys.version_info >= (3, 12)


cdef object _thrown(tuple args):
    """The exception ``throw(*args)`` raises: an exception, or an exception class with its
    value (an instance, the arguments or one argument); TypeError for anything else."""
    if not 1 <= len(args) <= 3:
        raise TypeError(f"throw expected at most 3 arguments, got {len(args)}")
    if len(args) > 1 and _WARN_THROW_FORM:
        # what a coroutine's throw() warns from 3.12 on (given a value or a traceback at all)
        PyErr_WarnEx(DeprecationWarning, "the (type, exc, tb) signature of throw() is deprecated, "
                     "use the single-arg signature instead.", 1)
    typ = args[0]
    val = args[1] if len(args) > 1 else None
    tb = args[2] if len(args) > 2 else None
    if isinstance(typ, BaseException):
        if val is not None:
            raise TypeError("instance exception may not have a separate value")
        exc = typ
    elif isinstance(typ, type) and issubclass(typ, BaseException):
        if isinstance(val, typ):
            exc = val
        elif val is None:
            exc = typ()
        elif type(val) is tuple:
            exc = typ(*val)
        else:
            exc = typ(val)
    else:
        raise TypeError("exceptions must be classes or instances deriving from BaseException, "
                        f"not {type(typ).__name__}")
    if tb is not None:
        exc = exc.with_traceback(tb)
    return exc


def plain(session, method, url, bytes data=None):
    """``session.request(method, url)`` without options, or with ``data=`` bytes only
    (see the module's docstring)."""
    return _new_plain(session, method, url, data)


cdef RequestContext _new_plain(session, method, url, bytes data):
    cdef RequestContext ctx = RequestContext.__new__(RequestContext, None)
    ctx._plain = PLAIN_START
    ctx._session = session
    ctx._method = method
    ctx._url = url
    ctx._body = data
    return ctx


cdef object _PLAIN = plain


# -- the session's request methods ---------------------------------------------------------
#
# ``ClientSession.get`` and the other request methods, put on the class by install_methods()
# when the C twins are built: what the class's own Python methods do, without their Python
# frame (about 600 instructions of a small request).  A request without
# options (or with ``data=`` bytes only, for the methods that take a body) on a session of the
# C twins is made here, as ``plain()``; anything else goes to the class's own Python method,
# kept by install_methods(), so a session of the Python twins runs the Python twins' code.

_METHOD_NAMES = ("request", "get", "post", "put", "patch", "delete", "head", "options")
cdef dict _own = {}   # the class's own Python methods, by name, kept by install_methods()


cdef inline bint _c_session(self) except -1:
    """True for a session whose requests without options are this module's plain()."""
    if _Session is None:
        _learn_session()
    return isinstance(self, _Session) and _slot(self, _s_off[S_PLAIN]) is _PLAIN


cdef object _plain_for(self, method, url, dict kwargs, bint takes_body):
    """plain() for a request this module makes itself (a session of the C twins, no options or,
    for a method that takes a body, ``data=`` bytes only); else None."""
    if not _c_session(self):
        return None
    if not kwargs:
        return _new_plain(self, method, url, None)
    if takes_body and len(kwargs) == 1:
        data = kwargs.get("data")
        if type(data) is bytes:
            return _new_plain(self, method, url, data)
    return None


def session_request(self, method, url, **kwargs):
    ctx = _plain_for(self, method, url, kwargs, True)
    return ctx if ctx is not None else _own["request"](self, method, url, **kwargs)


def session_get(self, url, **kwargs):
    ctx = _plain_for(self, "GET", url, kwargs, False)
    return ctx if ctx is not None else _own["get"](self, url, **kwargs)


def session_post(self, url, **kwargs):
    ctx = _plain_for(self, "POST", url, kwargs, True)
    return ctx if ctx is not None else _own["post"](self, url, **kwargs)


def session_put(self, url, **kwargs):
    ctx = _plain_for(self, "PUT", url, kwargs, True)
    return ctx if ctx is not None else _own["put"](self, url, **kwargs)


def session_patch(self, url, **kwargs):
    ctx = _plain_for(self, "PATCH", url, kwargs, True)
    return ctx if ctx is not None else _own["patch"](self, url, **kwargs)


def session_delete(self, url, **kwargs):
    ctx = _plain_for(self, "DELETE", url, kwargs, False)
    return ctx if ctx is not None else _own["delete"](self, url, **kwargs)


def session_head(self, url, **kwargs):
    ctx = _plain_for(self, "HEAD", url, kwargs, False)
    return ctx if ctx is not None else _own["head"](self, url, **kwargs)


def session_options(self, url, **kwargs):
    ctx = _plain_for(self, "OPTIONS", url, kwargs, False)
    return ctx if ctx is not None else _own["options"](self, url, **kwargs)


def install_methods(cls):
    """Make this module's ``session_<name>`` functions ``cls``'s request methods (``cls``:
    ClientSession, whose own Python methods are kept for what these do not do themselves);
    each takes the name, docstring and module of the method it replaces."""
    ours = globals()
    for name in _METHOD_NAMES:
        own = _own[name] = cls.__dict__[name]
        function = ours[f"session_{name}"]
        function.__name__ = name
        function.__qualname__ = f"{cls.__qualname__}.{name}"
        function.__module__ = cls.__module__
        function.__doc__ = own.__doc__
        setattr(cls, name, function)


cdef PySendResult _am_send(PyObject *self, PyObject *arg, PyObject **presult) noexcept:
    """``await``'s way in (the am_send slot): the coroutine's result is kept, no StopIteration is made."""
    cdef RequestContext ctx = <RequestContext>self
    cdef bint finished = False
    cdef PySendResult how
    if ctx._plain:
        try:
            out = ctx._plain_step(<object>arg, &finished)
        except BaseException as exc:
            PyErr_SetObject(type(exc), exc)   # set again for the caller: its traceback goes with it
            return PYGEN_ERROR
        if ctx._plain:
            Py_INCREF(out)
            presult[0] = <PyObject *>out
            return PYGEN_RETURN if finished else PYGEN_NEXT
        arg = <PyObject *>None   # handed to the session's coroutine: it starts
    how = PyIter_Send(<PyObject *>ctx._coro, arg, presult)
    if how == PYGEN_RETURN:
        ctx._resp = <object>presult[0]
    return how


# Cython gives the type an async slot table (it has __await__) but no am_send: fill it in.
(<PyTypeObject *>RequestContext).tp_as_async.am_send = _am_send
