"""One HTTP/1.1 connection: an asyncio BufferedProtocol that feeds the parser directly.

Strategy (why it is shaped this way):

- asyncio's plain ``Protocol`` hands every read to ``data_received`` as a
  fresh ``bytes`` (a 256 KiB allocation per read); as a ``BufferedProtocol``
  the connection reads into the wire layer's ``ReceiveBuffer`` and hands the
  filled part to the parser as a memoryview.  Body pieces the parser returns
  are slices of that buffer.  A read that is all body and at least half the
  buffer (a download) is taken whole as the response's ``bytes``: the C twin
  hands over the buffer's own storage, so those bytes are copied once, by the
  kernel.  For a body streamed through ``iter_any()`` (``raw_pieces``), whose
  consumer drops each piece as it goes, a quarter of the buffer is enough:
  asyncio reads once per wake-up, often 64 or 128 KiB of a 256 KiB buffer.
  Smaller pieces are copied out before the next read.
- One parser per connection, reused across messages; one ``StreamWriter``
  per request (a small C object).  No stream object sits between the socket
  and the response: a response whose body arrived with its head completes the
  request's one future with the body already joined, and the connection goes
  back to the pool at that moment, before the caller even resumes.
- Timeouts use one timer per connection, re-armed lazily: a request sets
  float deadlines; the timer is rescheduled only when it fires before the
  deadline it serves.  No timer is created or cancelled per request.
- The connection holds its response weakly (the response holds the
  connection): a response the caller drops before its end is collected, and
  the weak reference's callback closes the connection, so it never keeps a
  pool slot.  A response that ended first costs nothing when it goes: the
  connection let go of the reference at the end.
- Reuse is decided here and only here, at the end of a message: the head said
  keep-alive, and the parser is ``idle`` (no error, not done, and not one byte
  fed after the message, not even an empty line).  Anything else closes the
  connection; bytes arriving while no request is in flight close it too.
"""

from __future__ import annotations

import asyncio
import socket
import weakref
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from ..errors import (
    ClientConnectionError,
    ClientPayloadError,
    HttpParserError,
    IncompleteMessage,
    ReadTimeout,
    ResponseProtocolError,
    ServerDisconnectedError,
    TotalTimeout,
)
from ..wire import FlowControl, Wire

if TYPE_CHECKING:
    from ._pool import Pool
    from ._response import ClientResponse, StreamReader

__all__ = ["Connection", "READ_BUFFER_MAX", "READ_BUFFER_SIZE", "RECV_LOWAT", "RECV_LOWAT_WAIT"]

#: Bytes read per ``recv`` into the connection's own buffer at first: 64 KiB
#: holds a typical response whole.
READ_BUFFER_SIZE = 64 * 1024
#: A read that fills the buffer means a body is streaming in: the connection
#: reads into a large buffer of this size for the rest of the response.  At
#: its end the large buffer goes to the pool (``Pool.park_buffer``) for the
#: next download, and the connection reads into its small one again.
READ_BUFFER_MAX = 512 * 1024
#: While a body with a known length streams in (reads of 64 KiB and more into
#: the large buffer) and at least this much of it is still to come, the
#: socket's ``SO_RCVLOWAT`` is set to it: the loop is woken when that much has
#: arrived, not for every segment.  A 10 MiB download then costs about 22
#: reads and wake-ups instead of 50, about 30% less CPU on either loop
#: (docs/streaming.md).  Plain TCP only: under TLS the bytes in the socket are
#: not the body's.
RECV_LOWAT = READ_BUFFER_MAX * 3 // 4
#: A mark left up this long after a read (or half the read timeout, if that is
#: shorter) is taken down, so bytes below it wait at most that long.
RECV_LOWAT_WAIT = 0.1
_SO_RCVLOWAT = getattr(socket, "SO_RCVLOWAT", 0)

_INF = float("inf")


class Connection(FlowControl, asyncio.BufferedProtocol):
    """A pooled HTTP/1.1 connection (the pool and the session are its only users)."""

    # Slots for its own fields (FlowControl's four stay in a small dict): as dict attributes,
    # past 30 of them CPython 3.11 stops sharing the dict's keys and every read on the hot
    # path becomes a dict lookup.
    __slots__ = (
        "_deadline", "_end_type", "_head_type", "_interim", "_loop", "_lowat", "_lowat_deadline", "_lowat_sock",
        "_method", "_parser", "_pool", "_rbuf",
        "_read_deadline", "_read_timeout", "_receive_type", "_rsize", "_session", "_small", "_streaming", "_timer",
        "_timer_at", "_url", "_wire", "closed", "continue_waiter", "idle_since", "in_use", "key", "pooled",
        "reading_paused", "received", "requests", "response", "reusable", "sending", "transport", "tunneling",
        "waiter", "writer_type",
    )

    def __init__(self, pool: Pool, key: Any, wire: Wire, loop: asyncio.AbstractEventLoop) -> None:
        FlowControl.__init__(self)
        self._loop = loop
        self._pool = pool
        self.key = key
        self._wire = wire
        self._parser = wire.ResponseParser()
        self._head_type = wire.ResponseHead
        self._end_type = wire.MessageEnd
        self.writer_type = wire.StreamWriter
        self._receive_type = wire.ReceiveBuffer
        self._use_buffer(READ_BUFFER_SIZE)
        self._small = self._rbuf   # the small buffer, kept while a large one is in use
        self._streaming = False    # the response's body is read through raw_pieces()
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.in_use = False      # checked out of the pool
        self.pooled = False      # counted by the pool (from Pool.connected() on)
        self.requests = 0        # requests sent on this connection
        self.idle_since = 0.0
        self.reading_paused = False
        self.reusable = True     # False once an exchange left it in an unknown state
        self.sending = False     # a streamed request body is being sent
        self.tunneling = False   # a CONNECT to a proxy is in flight
        # the exchange in flight
        self.waiter: asyncio.Future[ClientResponse] | None = None
        # weakly: a response dropped before its end closes this connection (_response_dropped)
        self.response: weakref.ref[ClientResponse] | None = None
        self._method = "GET"
        self._url: Any = None
        self._session: Any = None
        self.received = 0        # response bytes of this exchange
        self._interim = False    # inside a 1xx message
        self.continue_waiter: asyncio.Future[int] | None = None
        # the lazily re-armed timer
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = _INF
        self._deadline = _INF
        self._read_timeout: float | None = None
        self._read_deadline = _INF
        # the socket's receive low-water mark (RECV_LOWAT): the socket, if plain TCP; the mark; when it comes down
        self._lowat_sock: Any = None
        self._lowat = 1
        self._lowat_deadline = _INF

    # -- asyncio callbacks ----------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:  # pragma: no cover - platform quirk
                pass
            if _SO_RCVLOWAT and transport.get_extra_info("ssl_object") is None:
                self._lowat_sock = sock

    def _use_buffer(self, size: int) -> None:
        """Read into a new buffer of ``size`` bytes (kept beside it: asked for on every read)."""
        self._rbuf = self._receive_type(size)
        self._rsize = size

    def _grow(self) -> None:
        """Read into a large buffer: one the pool parked, else a new one."""
        rbuf = self._pool.take_buffer()
        if rbuf is None:
            rbuf = self._receive_type(READ_BUFFER_MAX)
        self._rbuf = rbuf
        self._rsize = READ_BUFFER_MAX

    def _shrink(self) -> None:
        """Back to the small buffer; the large one goes to the pool for the next download."""
        self._pool.park_buffer(self._rbuf)
        self._rbuf = self._small
        self._rsize = READ_BUFFER_SIZE

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._rbuf.view

    def buffer_updated(self, nbytes: int) -> None:
        if self.waiter is None and self.response is None:
            # Bytes while no request is in flight are not a response to anything.
            self._abort()
            return
        self.received += nbytes
        if self._read_timeout is not None:
            self._read_deadline = self._loop.time() + self._read_timeout
        rbuf = self._rbuf
        size = self._rsize
        try:
            events = self._parser.feed(rbuf.view[:nbytes] if nbytes != size else rbuf.view)
        except HttpParserError as exc:
            self._fail(ResponseProtocolError(f"malformed response: {exc}", method=self._method, url=self._url), exc)
            return
        if events:
            if self.response is None and self._whole(events):
                pass   # the common small response, whole in this read
            elif (len(events) <= 2 and (4 if self._streaming else 2) * nbytes >= size
                  and self._take_whole(events, rbuf, nbytes)):
                pass
            else:
                self._dispatch(events)
        if nbytes == size and size < READ_BUFFER_MAX:
            # A body is streaming in: a large buffer (one the pool kept, warm, if it has one).
            self._grow()
        if self._lowat_sock is not None and (self._lowat > 1 or (nbytes >= READ_BUFFER_SIZE
                                                                 and self._rsize == READ_BUFFER_MAX)):
            self._tune_lowat()
        perr = self._parser.error
        if perr is not None and not self.closed:
            # An error after events it let through: they were delivered; the rest fails now
            # (waiting for more bytes would only wait for the server's next move).
            self._fail(ResponseProtocolError(f"malformed response: {perr}", method=self._method, url=self._url), perr)

    def _tune_lowat(self) -> None:
        """Raise the socket's receive low-water mark while at least RECV_LOWAT of a body is
        still to come, and take it down otherwise (what is left may be less than the mark)."""
        want = 1
        ref = self.response
        resp = ref() if ref is not None else None
        if resp is not None and self._rsize == READ_BUFFER_MAX and not self.closed:
            length = resp.content_length
            if length is not None and length - resp._fed >= RECV_LOWAT:
                want = RECV_LOWAT
        if want > 1:
            wait = self._read_timeout
            self._lowat_deadline = self._loop.time() + (RECV_LOWAT_WAIT if wait is None or wait >= 2 * RECV_LOWAT_WAIT
                                                        else wait / 2)
            if self._lowat == 1:
                self._arm(self._lowat_deadline)
        if want != self._lowat:
            self._set_lowat(want)

    def _set_lowat(self, want: int) -> None:
        """The mark on the socket; a mark down (``1``) has no deadline."""
        try:
            self._lowat_sock.setsockopt(socket.SOL_SOCKET, _SO_RCVLOWAT, want)
        except OSError as exc:
            self._lowat_sock = None
            up = self._lowat > 1
            self._lowat = 1
            self._lowat_deadline = _INF
            if up:
                # A mark that would not come down: bytes below it might never be read.
                self.reusable = False
                if self.waiter is not None or self.response is not None:
                    self._fail(ClientConnectionError("the socket's receive low-water mark could not be lowered",
                                                     method=self._method, url=self._url), exc)
        else:
            self._lowat = want
            if want == 1:
                self._lowat_deadline = _INF

    def _take_whole(self, events: list[Any], rbuf: Any, nbytes: int) -> bool:
        """A read that is all body, and much of it: hand it over whole, without a copy
        (and the end of the message after it, when the read ends the body)."""
        first = events[0]
        ref = self.response
        resp = ref() if ref is not None else None
        if (resp is None or type(first) is not memoryview or first.nbytes != nbytes
                or (len(events) == 2 and type(events[1]) is not self._end_type)):
            return False
        del first
        del events[0]   # the parser's slice of the buffer goes first
        resp._piece(rbuf.take(nbytes))
        if events:
            self._dispatch(events)
        return True

    def eof_received(self) -> bool:
        return False  # let the transport close; connection_lost finishes the exchange

    def connection_lost(self, exc: BaseException | None) -> None:
        FlowControl.connection_lost(self, exc)
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.waiter is not None or self.response is not None:
            try:
                events = self._parser.feed_eof()
            except IncompleteMessage as perr:
                self._lost_mid_message(exc, perr)
            except HttpParserError as perr:
                self._fail(ResponseProtocolError(f"malformed response: {perr}", method=self._method,
                                                 url=self._url), perr)
            else:
                if events:
                    self._dispatch(events)
                if self.waiter is not None or self.response is not None:
                    self._lost_mid_message(exc, None)
        self._pool.lost(self)

    # -- an exchange ------------------------------------------------------------------

    def begin(self, session: Any, method: str, url: Any, deadline: float,
              read_timeout: float | None) -> asyncio.Future[ClientResponse]:
        """Prepare for one request: its future, the parser's method, the deadlines."""
        self.requests += 1
        self._session = session
        self._method = method
        self._url = url
        self._streaming = False
        self.received = 0
        if method != self._parser.method:
            self._parser.method = method
        waiter = self.waiter = self._loop.create_future()
        self._deadline = deadline
        self._read_timeout = read_timeout
        if read_timeout is not None:
            self._read_deadline = self._loop.time() + read_timeout
            self._arm(min(deadline, self._read_deadline))
        elif deadline < self._timer_at:   # the timer, if any, fires before this deadline: left alone
            self._arm(deadline)
        return waiter

    def _dispatch(self, events: list[Any]) -> None:
        if self.response is None and self._whole(events):
            return
        ref = self.response
        resp = ref() if ref is not None else None
        head_type = self._head_type
        ended = False
        for ev in events:
            if ended:
                # Something followed the end of the response in the same read:
                # the connection cannot be trusted for another request.
                self.reusable = False
                break
            kind = type(ev)
            if kind is memoryview:
                if resp is not None:
                    resp._piece(bytes(ev))
            elif kind is head_type:
                status = ev.status
                if status < 200 and status != 101:
                    self._interim = True
                    cw = self.continue_waiter
                    if cw is not None and not cw.done():
                        cw.set_result(status)
                    continue
                resp = self._session._response_class(self._method, self._url, ev, self)
                # The callback runs only if the caller drops the response while this reference
                # is still held, that is before the end of its body.
                self.response = weakref.ref(resp, self._response_dropped)
            elif self._interim:
                self._interim = False
            else:
                ended = True
                if resp is not None:
                    resp._end(ev)
                self.response = None
        if self.waiter is not None and resp is not None:
            self._hand_over(resp)
        if ended:
            self._message_done(resp)

    def _whole(self, events: list[Any]) -> bool:
        """A whole final response in one read (head, body, end; or head, end): the common small
        case, on a fast path.

        The response is complete before anyone sees it: no weak reference, no piece-by-piece
        feeding, the body kept as the one piece ``read()`` returns.
        """
        n = len(events)
        if n == 3:
            head, body, end = events
            if type(body) is not memoryview:
                return False
        elif n == 2:
            head, end = events
            body = None
        else:
            return False
        if (type(head) is not self._head_type or type(end) is not self._end_type or head.status < 200
                or self._interim):
            return False
        resp = self._session._response_class(self._method, self._url, head, self)
        if body is not None:
            data = bytes(body)
            del body   # the parser's slice of the read buffer goes at once
            resp._pieces.append(data)
            resp._buffered = resp._fed = len(data)
        else:
            data = b""
        if not resp._auto_decompress or head.content_encoding is None:
            resp._body = data   # what read() returns, at once (ClientResponse.read)
        # What ClientResponse._end does, inlined: one Python call fewer on every small request.
        resp._complete = True
        resp.trailers = end.trailers
        resp._conn = None
        if self.waiter is not None:
            self._hand_over(resp)
        self._message_done(resp)
        return True

    def _hand_over(self, resp: ClientResponse) -> None:
        """The response's head is here: the request awaiting it (and a 100-continue wait) resume."""
        waiter = self.waiter
        self.waiter = None
        cw = self.continue_waiter
        if cw is not None and not cw.done():
            cw.set_result(resp.status)
        if waiter is not None and not waiter.done():
            waiter.set_result(resp)

    def _message_done(self, resp: ClientResponse | None) -> None:
        # The deadlines stay as they are: the timer ignores a connection with no exchange in
        # flight, and the next begin() sets them again.
        self._read_timeout = None
        if self.tunneling:
            return   # the session decides: TLS through the tunnel, or close
        if self.reading_paused:
            # The end can arrive in the read that paused it; the next exchange must read.
            self.resume_reading()
        if self._lowat > 1:
            self._set_lowat(1)   # a body that ended early; a pooled socket has no mark up
        parser = self._parser
        if (resp is not None and resp._keep_alive and self.reusable and not self.sending
                and self.continue_waiter is None and parser.idle and not self.closed):
            if self._rsize != READ_BUFFER_SIZE:
                # An idle connection keeps the small buffer; a download grows it again.
                self._shrink()
            self._pool.release(self)
        else:
            self._abort()

    def tunneled(self) -> None:
        """The proxy opened the tunnel: the next bytes are the origin's, to a fresh parser."""
        self.tunneling = False
        self.requests = 0
        self._parser = self._wire.ResponseParser()
        self._lowat_sock = None   # TLS to the origin may follow: the socket's bytes are not the body's

    # -- failures ---------------------------------------------------------------------

    def _lost_mid_message(self, exc: BaseException | None, perr: HttpParserError | None) -> None:
        if self.waiter is not None:
            err: Exception = ServerDisconnectedError(
                "the server closed the connection before the response head" if not self.received
                else "the server closed the connection inside the response head",
                method=self._method, url=self._url)
            err.nothing_received = not self.received  # type: ignore[attr-defined]
        else:
            err = ClientPayloadError(f"the response body ended early: {perr or 'connection lost'}",
                                     method=self._method, url=self._url)
        self._fail(err, perr or exc)

    def _fail(self, err: Exception, cause: BaseException | None = None) -> None:
        """End the exchange with ``err`` and close the connection."""
        if cause is not None:
            err.__cause__ = cause
        waiter, ref = self.waiter, self.response
        resp = ref() if ref is not None else None
        self.waiter = self.response = None
        cw = self.continue_waiter
        if cw is not None and not cw.done():
            cw.set_exception(err)
        if waiter is not None and not waiter.done():
            waiter.set_exception(err)
        elif resp is not None:
            resp._set_exception(err)
        self._abort()

    def _abort(self) -> None:
        """Close now; the pool forgets this connection once (its slot frees)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
            self._timer_at = _INF
        t = self.transport
        if t is not None and not self.closed:
            self.closed = True
            t.abort()
        self.closed = True
        self._pool.lost(self)

    def close(self) -> None:
        """Abandon any exchange in flight and close (cancellation, early exit)."""
        waiter, ref = self.waiter, self.response
        resp = ref() if ref is not None else None
        self.waiter = self.response = None
        if waiter is not None and not waiter.done():
            waiter.cancel()
        if resp is not None:
            resp._set_exception(ClientPayloadError("the response was closed before its end",
                                                   method=self._method, url=self._url))
        self._abort()

    def _response_dropped(self, ref: weakref.ref[ClientResponse]) -> None:
        """The caller let go of the response before its end: nobody reads the rest, so close."""
        if ref is not self.response or self.closed:
            return
        self.waiter = self.response = None
        try:
            self._abort()
        except Exception:  # the loop may be closed already  # noqa: BLE001
            pass

    def session_closed(self) -> None:
        """The session closed: an exchange in flight fails, the connection closes."""
        if self.waiter is not None or self.response is not None:
            self._fail(ClientConnectionError("the session was closed", method=self._method, url=self._url))
        else:
            self._abort()

    # -- timeouts ---------------------------------------------------------------------

    def _arm(self, when: float) -> None:
        if when < self._timer_at:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = self._loop.call_at(when, self._on_timer)
            self._timer_at = when

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = _INF
        if self.waiter is None and self.response is None:
            return
        now = self._loop.time()
        if now >= self._deadline:
            self._fail(TotalTimeout("the request took longer than its total timeout",
                                    method=self._method, url=self._url))
        elif now >= self._lowat_deadline:   # a mark is up (its deadline is infinite otherwise)
            self._set_lowat(1)   # bytes below the mark may be waiting: they are let in now
            self._arm(min(self._deadline, self._read_deadline))
        elif now >= self._read_deadline:
            self._fail(ReadTimeout("no response bytes within the read timeout", method=self._method, url=self._url))
        else:
            self._arm(min(self._deadline, self._read_deadline, self._lowat_deadline))

    # -- read backpressure (called by the response) -------------------------------------

    def raw_pieces(self, reader: StreamReader) -> AsyncIterator[bytes]:
        """What ``reader.iter_any()`` returns for a body with no decoder (the C twin's is
        ``RawPieces``).  Its pieces are dropped as they go: reads of a quarter of the
        buffer are taken whole from now on (``buffer_updated``)."""
        self._streaming = True
        return reader._iter_raw()

    def pause_reading(self) -> None:
        if not self.reading_paused and self.transport is not None and not self.closed:
            self.reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.reading_paused and self.transport is not None and not self.closed:
            self.reading_paused = False
            self.transport.resume_reading()

