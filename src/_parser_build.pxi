# Finishing a block: the framing decision, and the Python objects of its fields.
# A head's fields are judged in wire order from the raw value bytes (framing
# facts: Content-Length, Transfer-Encoding, Connection; and the two the client
# reads of every response: Set-Cookie present, Content-Encoding present), and
# kept as names, spans and a copy of the value bytes: its CIMultiDict (a str
# per value, most of a small response's parsing cost) is built on the first
# read of ResponseHead.headers, which many responses never have.  A trailer
# section's map is built at once (filled as _parser_multidict.pxi says).

cdef extern from "Python.h":
    void _incref "Py_INCREF"(PyObject *o)

cdef inline object _name_key(ResponseParser self, const unsigned char *p, Py_ssize_t n, int *kind):
    cdef size_t h = _name_hash(p, n)
    cdef NameEntry *e = _name_slot(GLOBAL_NAMES, GLOBAL_SLOTS - 1, p, n, h)
    if e.key != NULL:
        kind[0] = e.kind
        return <object>e.key
    if self._names == NULL:
        self._names = <NameEntry *>PyMem_Calloc(LEARN_SLOTS, sizeof(NameEntry))
        if self._names == NULL:
            raise MemoryError()
    e = _name_slot(self._names, LEARN_SLOTS - 1, p, n, h)
    if e.key != NULL:
        kind[0] = e.kind
        return <object>e.key
    name = _text(p, n, False)  # a token: ASCII
    if self._nlearned >= LEARN_MAX:
        kind[0] = _name_kind(p, n)
        return name
    key = _istr(name)
    _name_store(e, p, n, key)
    self._nlearned += 1
    kind[0] = e.kind
    return key


cdef object _unfolded(const unsigned char *buf, Py_ssize_t start, Py_ssize_t end):
    """The value of a folded field (buf[start:end]): its lines OWS-trimmed, joined by one SP."""
    cdef Py_ssize_t i = start, j, s, e
    out = bytearray()
    while i <= end:
        j = i
        while j < end and buf[j] != LF:
            j += 1
        s = i
        e = j
        if e > s and buf[e - 1] == CR and j < end:
            e -= 1
        while s < e and (buf[s] == SP or buf[s] == HT):
            s += 1
        while e > s and (buf[e - 1] == SP or buf[e - 1] == HT):
            e -= 1
        if out and e > s:
            out.append(SP)
        out += PyBytes_FromStringAndSize(<const char *>buf + s, e - s)
        i = j + 1
    return bytes(out)


# Content-Length = 1*DIGIT   (RFC 9110 §8.6), at most 2**63-1.  A list of values
# ("4, 4": a repeated field combined upstream) is read as
#   1*DIGIT *( OWS "," OWS 1*DIGIT )
# checked whole first; then each value in wire order must equal the first one
# (as a number), and in strict mode there must be only one (docs/parser.md).
cdef long long _content_length(const unsigned char *p, Py_ssize_t n, long long off, int term,
                               long long cl, bint strict) except -2:
    """Validate the value p[0:n] and fold it into ``cl`` (-1: no value yet); return the length."""
    cdef long long v = 0, first = -1
    cdef Py_ssize_t i = 0, s, comma = 0
    cdef int d
    cdef bint listed = False
    if n == 0:
        _raise_at(_BadContentLength, CL_EMPTY, off, term)
    # the common case: the first value, digits only, not too large
    while i < n and 48 <= p[i] <= 57 and i < 18:
        v = v * 10 + (p[i] - 48)
        i += 1
    if i == n and cl < 0:
        return v
    i = 0
    while True:
        s = i
        v = 0
        while i < n:
            d = p[i] - 48
            if d < 0 or d > 9:
                break
            if v > (MAX_LENGTH - d) // 10:
                _raise_at(_BadContentLength, CL_TOO_LARGE, off + i, p[i])
            v = v * 10 + d
            i += 1
        if i == s:  # a value expected; at the end of the value, the trailing comma is at fault
            if i == n:
                i = comma
            _raise_at(_BadContentLength, CL_NOT_DIGITS, off + i, p[i])
        if first < 0:
            first = v
        while i < n and (p[i] == SP or p[i] == HT):
            i += 1
        if i == n:
            break
        if p[i] != 44:  # ","
            _raise_at(_BadContentLength, CL_NOT_DIGITS, off + i, p[i])
        listed = True
        comma = i
        i += 1
        while i < n and (p[i] == SP or p[i] == HT):
            i += 1
    if cl < 0 and not listed:
        return first
    # more than one value: compare them in wire order
    i = 0
    while i < n:
        s = i
        v = 0
        while i < n and 48 <= p[i] <= 57:
            v = v * 10 + (p[i] - 48)
            i += 1
        if cl >= 0:
            if v != cl:
                _raise_at(_BadContentLength, CL_CONFLICT, off + s, p[s])
            if strict:
                _raise_at(_BadContentLength, CL_REPEATED, off + s, p[s])
        cl = v
        while i < n and not (48 <= p[i] <= 57):
            i += 1
    return cl


# Transfer-Encoding = #transfer-coding   (RFC 9112 §6.1, RFC 9110 §10.1.4)
# transfer-coding = token *( OWS ";" OWS transfer-parameter ); empty list
# elements are ignored (RFC 9110 §5.6.1) but a value needs one element.
# `state` carries across fields: bit 1 a coding was seen, bit 2 the last
# coding is chunked, bit 4 chunked was seen.
cdef int _transfer_codings(const unsigned char *p, Py_ssize_t n, long long off, int term, int state) except -1:
    cdef Py_ssize_t i = 0, s, e, t, name_end
    cdef bint any_here = False
    while i <= n:
        s = i
        while i < n and p[i] != 44:  # ","
            i += 1
        e = i
        i += 1
        while s < e and (p[s] == SP or p[s] == HT):
            s += 1
        while e > s and (p[e - 1] == SP or p[e - 1] == HT):
            e -= 1
        if s == e:
            continue
        t = s
        while t < e and TCHAR[p[t]]:
            t += 1
        name_end = t
        while t < e and (p[t] == SP or p[t] == HT):
            t += 1
        if name_end == s or (t < e and p[t] != 59):  # ";" starts the parameters
            _raise_at(_BadTransferEncoding, TE_NOT_TOKEN, off + t, p[t])
        any_here = True
        if _ieq(p + s, name_end - s, "chunked", 7):
            if state & 4:
                _raise_at(_BadTransferEncoding, TE_CHUNKED_TWICE, off + s, p[s])
            state |= 4 | 2
        else:
            state &= ~2
        state |= 1
    if not any_here:
        _raise_at(_BadTransferEncoding, TE_EMPTY, off, p[0] if n else term)
    return state


# Connection = #connection-option   (RFC 9110 §7.6.1); bit 1: close, bit 2: keep-alive
cdef int _connection_options(const unsigned char *p, Py_ssize_t n) noexcept:
    cdef Py_ssize_t i = 0, s, e
    cdef int found = 0
    while i < n:
        s = i
        while i < n and p[i] != 44:
            i += 1
        e = i
        i += 1
        while s < e and (p[s] == SP or p[s] == HT):
            s += 1
        while e > s and (p[e - 1] == SP or p[e - 1] == HT):
            e -= 1
        if _ieq(p + s, e - s, "close", 5):
            found |= 1
        elif _ieq(p + s, e - s, "keep-alive", 10):
            found |= 2
    return found


cdef int _check_singleton(ResponseParser self, const unsigned char *buf, Field *f, int kind,
                          unsigned int *singletons) except -1:
    """Strict mode: a field that may appear once (SINGLETON_HEADERS) appears once."""
    if singletons[0] & (1u << (kind - KIND_SINGLETON)):
        _raise_at(_InvalidHeader, REPEATED_SINGLETON.format(_text(buf + f.start, f.name_end - f.start, False)),
                  self._blk_base + f.start, buf[f.start])
    singletons[0] |= 1u << (kind - KIND_SINGLETON)
    return 0


cdef int _head_fields(ResponseParser self, ResponseHead head, const unsigned char *buf, int *framing,
                      long long *length) except -1:
    """Judge a head's fields in wire order and keep them on ``head`` for its map (built later)."""
    cdef Py_ssize_t i, nf = self._nf, lo = 0, hi = 0
    cdef Field *f
    cdef HeadField *hf
    cdef PyObject *kp
    cdef int kind = 0, te = 0, conn = 0
    cdef unsigned int singletons = 0
    cdef long long cl = -1, base = self._blk_base
    cdef Py_ssize_t cl_at = -1, te_at = -1
    cdef const unsigned char *vp
    cdef Py_ssize_t vn
    cdef char *mem
    if nf:
        # one allocation: the spans, then a copy of the bytes from the first value to the last
        lo = self._fields[0].value_start
        hi = self._fields[nf - 1].value_end
        mem = <char *>PyMem_Malloc(nf * sizeof(HeadField) + (hi - lo))
        if mem == NULL:
            raise MemoryError()
        head._fields = <HeadField *>mem
        head._values = <const unsigned char *>(mem + nf * sizeof(HeadField))
        memcpy(mem + nf * sizeof(HeadField), buf + lo, hi - lo)
    for i in range(nf):
        f = &self._fields[i]
        if f.name != NULL:
            kp = f.name.key
            kind = f.name.kind
            _incref(kp)
        else:
            key = _name_key(self, buf + f.start, f.name_end - f.start, &kind)
            kp = <PyObject *>key
            _incref(kp)
        hf = &head._fields[i]
        hf.key = kp
        hf.value_start = f.value_start - lo
        hf.value_end = f.value_end - lo
        hf.folded = f.folded
        hf.nonascii = f.nonascii
        head._nf = i + 1   # what the head releases if a later field is refused
        if kind == KIND_OTHER:
            continue
        if kind >= KIND_SINGLETON:
            if self.strict:
                _check_singleton(self, buf, f, kind, &singletons)
            continue
        if kind == KIND_SET_COOKIE:
            head.has_set_cookie = True
            continue
        if kind == KIND_CE:
            head._has_ce = True
            continue
        # framing fields: a fold, then the value, then a conflict, then TE with CL
        vp = buf + f.value_start
        vn = f.value_end - f.value_start
        if kind == KIND_CL:
            if f.folded:
                _raise_at(_BadContentLength, CL_FOLDED, base + f.fold_start, buf[f.fold_start])
            cl = _content_length(vp, vn, base + f.value_start, buf[f.value_start], cl, self.strict)
            if te_at >= 0:
                _raise_at(_BadTransferEncoding, CL_AFTER_TE, base + f.start, buf[f.start])
            cl_at = i
        elif kind == KIND_TE:
            if f.folded:
                _raise_at(_BadTransferEncoding, TE_FOLDED, base + f.fold_start, buf[f.fold_start])
            te = _transfer_codings(vp, vn, base + f.value_start, buf[f.value_start], te)
            if cl_at >= 0:
                _raise_at(_BadTransferEncoding, TE_AFTER_CL, base + f.start, buf[f.start])
            te_at = i
        elif kind == KIND_CONN:
            if f.folded:
                raw = _unfolded(buf, f.value_start, f.value_end)
                conn |= _connection_options(<const unsigned char *>PyBytes_AS_STRING(raw), len(raw))
            else:
                conn |= _connection_options(vp, vn)
    framing[0] = te | (conn << 4)
    length[0] = cl
    return 0


cdef object _build_headers(ResponseHead head):
    """The head's CIMultiDictProxy, from the names and value spans it kept; then drop those."""
    cdef Py_ssize_t i, n = head._nf
    cdef HeadField *hf
    cdef const unsigned char *vals = head._values
    cdef list items = None
    if MD_CAPI:
        md = ws_md_new(n)
    else:
        items = []
    for i in range(n):
        hf = &head._fields[i]
        if hf.folded:
            raw = _unfolded(vals, hf.value_start, hf.value_end)
            value = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(raw), len(raw), "surrogateescape")
        else:
            value = _text(vals + hf.value_start, hf.value_end - hf.value_start, hf.nonascii)
        if MD_CAPI:
            ws_md_add(md, <object>hf.key, value)
        else:
            items.append((<object>hf.key, value))
    _drop_fields(head)
    if MD_CAPI:
        return ws_md_proxy(md)
    return _CIMultiDictProxy(_CIMultiDict(items))


cdef void _drop_fields(ResponseHead head) noexcept:
    """Release what a head kept for its map: the names' references and the one allocation."""
    cdef Py_ssize_t i
    cdef HeadField *fields = head._fields
    if fields == NULL:
        return
    head._fields = NULL
    head._values = NULL
    for i in range(head._nf):
        Py_DecRef(fields[i].key)
    head._nf = 0
    PyMem_Free(fields)


cdef object _fields_map(ResponseParser self, const unsigned char *buf):
    """Build the CIMultiDictProxy of a trailer section's fields."""
    cdef Py_ssize_t i
    cdef Field *f
    cdef int kind = 0
    cdef unsigned int singletons = 0
    cdef list items = None
    if MD_CAPI:
        md = ws_md_new(self._nf)
    else:
        items = _list_new(self._nf)
    for i in range(self._nf):
        f = &self._fields[i]
        if f.name != NULL:
            key = <object>f.name.key
            kind = f.name.kind
        else:
            key = _name_key(self, buf + f.start, f.name_end - f.start, &kind)
        if f.folded:
            raw = _unfolded(buf, f.value_start, f.value_end)
            value = PyUnicode_DecodeUTF8(PyBytes_AS_STRING(raw), len(raw), "surrogateescape")
        else:
            value = _text(buf + f.value_start, f.value_end - f.value_start, f.nonascii)
        if MD_CAPI:
            ws_md_add(md, key, value)
        else:
            _put_pair(self._pool, items, i, key, value)
        if kind >= KIND_SINGLETON and self.strict:
            _check_singleton(self, buf, f, kind, &singletons)
    if MD_CAPI:
        return ws_md_proxy(md)
    md = _CIMultiDict(items)
    items = None
    _release_values(self._pool, self._nf)
    return _CIMultiDictProxy(md)


cdef int _complete_block(ResponseParser self, list events, const unsigned char *buf, Py_ssize_t r) except -1:
    if self._state == ST_HEAD:
        return _complete_head(self, events, buf)
    return _complete_trailers(self, events, buf)


cdef int _complete_trailers(ResponseParser self, list events, const unsigned char *buf) except -1:
    cdef MessageEnd end
    if self._nf == 0:
        events.append(_EMPTY_END)
    else:
        end = MessageEnd.__new__(MessageEnd)
        end.trailers = _fields_map(self, buf)
        events.append(end)
    _message_done(self)
    return 0


cdef int _complete_head(ResponseParser self, list events, const unsigned char *buf) except -1:
    cdef ResponseHead head = ResponseHead.__new__(ResponseHead)
    cdef int framing = 0, status = self._status
    cdef long long cl = -1
    cdef bint chunked, upgrade, no_body, close
    _head_fields(self, head, buf, &framing, &cl)
    head.status = status
    if self._minor == 1:
        head.version = _V11
    elif self._minor == 0:
        head.version = _V10
    else:
        head.version = (1, self._minor)
    if (self._reason_end - self._reason_start == 2 and buf[self._reason_start] == 79
            and buf[self._reason_start + 1] == 75):
        head.reason = "OK"
    else:
        head.reason = _text(buf + self._reason_start, self._reason_end - self._reason_start, self._reason_nonascii)
    # RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive"
    close = (framing >> 4) & 1
    if self._minor == 0:
        head.keep_alive = not close and (framing >> 4) & 2
    else:
        head.keep_alive = not close
    chunked = (framing & 2) != 0
    head.content_length = cl if cl >= 0 else None
    upgrade = status == 101 or (self._is_connect and 200 <= status < 300)
    no_body = self._is_head or (100 <= status < 200) or status == 204 or status == 304
    self._received = 0
    self._expected = head.content_length
    if upgrade:
        # RFC 9112 §6.3 (2): the connection now carries another protocol
        head.upgrade = True
        self._upgraded = True
        events.append(head)
        events.append(_EMPTY_END)
        self._state = ST_DONE
        return 0
    if no_body:
        # RFC 9112 §6.3 (1): HEAD, 1xx, 204, 304 end at the empty line
        events.append(head)
        events.append(_EMPTY_END)
        if status < 200:
            self._state = ST_IDLE  # interim: the final response follows
        else:
            self._keep_alive = head.keep_alive
            _message_done(self)
        return 0
    if framing & 1:
        if chunked:
            head.chunked = True
            # RFC 9112 §6.1: chunked is only understood by 1.1; a 1.0 peer closes
            if self._minor == 0:
                head.keep_alive = False
            self._state = ST_CHUNK_LINE
        else:
            # RFC 9112 §6.3 (4): a final coding other than chunked: read until close
            head.keep_alive = False
            self._state = ST_UNTIL_CLOSE
    elif cl >= 0:
        self._remaining = cl
        self._state = ST_BODY_CL
    else:
        head.keep_alive = False
        self._state = ST_UNTIL_CLOSE
    self._keep_alive = head.keep_alive
    events.append(head)
    if self._state == ST_BODY_CL and cl == 0:
        events.append(_EMPTY_END)
        _message_done(self)
    return 0


cdef int _message_done(ResponseParser self) noexcept:
    self._state = ST_IDLE if self._keep_alive else ST_DONE
    return 0
