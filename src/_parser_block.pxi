# The block scanner: a head (status line and header fields) or a trailer
# section, scanned line by line over one contiguous region that starts at the
# block's first byte.  The region is the fed buffer itself when the block
# arrives whole (the common case: no copy), else the parser's carry buffer,
# extended one line at a time.  Scanning resumes at the first line not yet
# complete; only limits are checked on a partial line (docs/parser.md,
# "Limits"), the syntax of a line when its LF has arrived.  A partial line is
# not rescanned from its start on every feed: the search for its LF resumes
# where the last one stopped (_hs_lf_from), so a line fed byte by byte costs
# O(its length), not O(length squared).  Field spans are
# offsets into the region; the Python objects are built once, at its end.

cdef enum:
    PHASE_STATUS = 0
    PHASE_FIELDS = 1


cdef inline Py_ssize_t _content_end(const unsigned char *buf, Py_ssize_t start, Py_ssize_t lf) noexcept:
    """End of a line's content: before its CRLF or bare LF."""
    if lf > start and buf[lf - 1] == CR:
        return lf - 1
    return lf


cdef inline Py_ssize_t _partial_len(const unsigned char *buf, Py_ssize_t start, Py_ssize_t n) noexcept:
    """Content bytes of a line without its LF yet (a trailing CR may be its line end)."""
    if n > start and buf[n - 1] == CR:
        return n - 1 - start
    return n - start


cdef int _raise_at(object cls, str what, long long offset, int byte) except -1:
    """Raise ``cls`` naming the offending byte (-1: none, the stream ended)."""
    raise cls(what, offset, byte if byte >= 0 else None)


# status-line = HTTP-version SP status-code [ SP [ reason-phrase ] ]   (RFC 9112 §4)
# HTTP-version = "HTTP/" DIGIT "." DIGIT; reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
cdef int _status_line(ResponseParser self, const unsigned char *buf, Py_ssize_t ce, Py_ssize_t e) except -1:
    cdef long long base = self._blk_base
    cdef Py_ssize_t i
    cdef unsigned char c, cls
    cdef int acc = 0
    for i in range(5):
        if i >= ce or buf[i] != b"HTTP/"[i]:
            return _raise_at(_BadStatusLine, STATUS_NOT_HTTP, base + i, buf[i])
    if ce <= 5 or buf[5] != 49:  # "1"
        return _raise_at(_BadStatusLine, MAJOR_VERSION, base + 5, buf[5])
    if ce <= 6 or buf[6] != 46:  # "."
        return _raise_at(_BadStatusLine, VERSION_DOT, base + 6, buf[6])
    if ce <= 7 or not (48 <= buf[7] <= 57):
        return _raise_at(_BadStatusLine, MINOR_NOT_DIGIT, base + 7, buf[7])
    if self.strict and buf[7] > 49:
        return _raise_at(_BadStatusLine, MINOR_VERSION, base + 7, buf[7])
    self._minor = buf[7] - 48
    if ce <= 8 or buf[8] != SP:
        return _raise_at(_BadStatusLine, SP_AFTER_VERSION, base + 8, buf[8])
    for i in range(9, 12):
        if i >= ce or not (48 <= buf[i] <= 57) or (i == 9 and buf[i] == 48):
            return _raise_at(_BadStatusLine, STATUS_CODE, base + i, buf[i])
    self._status = (buf[9] - 48) * 100 + (buf[10] - 48) * 10 + (buf[11] - 48)
    self._reason_start = self._reason_end = 12
    if ce > 12:
        if buf[12] != SP:
            return _raise_at(_BadStatusLine, STATUS_CODE, base + 12, buf[12])
        for i in range(13, ce):
            c = buf[i]
            cls = VCLASS[c]
            if cls and (cls == 2 or self.strict):
                return _raise_at(_BadStatusLine, REASON_CONTROL, base + i, c)
            acc |= c
        self._reason_start = 13
        self._reason_end = ce
    self._reason_nonascii = acc >= 0x80
    if ce == e and self.strict:
        return _raise_at(_InvalidLineEnding, STATUS_BARE_LF, base + e, LF)
    return 0


cdef int _grow_fields(ResponseParser self) except -1:
    cdef Py_ssize_t cap = self._fcap * 2 if self._fcap else 16
    cdef Field *grown = <Field *>PyMem_Realloc(self._fields, cap * sizeof(Field))
    if grown == NULL:
        raise MemoryError()
    self._fields = grown
    self._fcap = cap
    return 0


cdef inline Field *_new_field(ResponseParser self) except NULL:
    if self._nf == self._fcap:
        _grow_fields(self)
    self._nf += 1
    return &self._fields[self._nf - 1]


# Value bytes of a field or continuation line: VCHAR / obs-text / SP / HTAB
# (RFC 9110 §5.5); other controls but NUL/CR only in lenient mode.
cdef int _check_value(ResponseParser self, const unsigned char *buf, Py_ssize_t s, Py_ssize_t e) except -1:
    """Validate buf[s:e]; return 1 when it holds obs-text, else 0."""
    cdef Py_ssize_t i = s
    cdef unsigned char c, cls
    cdef unsigned int acc = 0
    while i < e:
        i = _printable_run(buf, i, e)
        if i == e:
            break
        c = buf[i]
        i += 1
        cls = VCLASS[c]
        if cls and (cls == 2 or self.strict):
            return _raise_at(_InvalidHeader, FIELD_VALUE_BYTE, self._blk_base + i - 1, c)
        acc |= c
    return acc >= 0x80


# field-line = field-name ":" OWS field-value OWS   (RFC 9112 §5)
cdef int _field_line(ResponseParser self, const unsigned char *buf, Py_ssize_t s,
                     Py_ssize_t ce, Py_ssize_t e) except -1:
    cdef long long base = self._blk_base
    cdef Py_ssize_t p = s, vs, ve
    cdef Field *f
    while p < ce and TCHAR[buf[p]]:
        p += 1
    if p == ce:
        return _raise_at(_InvalidHeader, FIELD_NO_COLON, base + p, buf[p])
    if buf[p] != 58:  # ":"
        return _raise_at(_InvalidHeader, FIELD_NAME_BYTE, base + p, buf[p])
    if p == s:
        return _raise_at(_InvalidHeader, FIELD_NAME_EMPTY, base + p, buf[p])
    f = _new_field(self)
    f.start = s
    f.name_end = p
    p += 1
    while p < ce and (buf[p] == SP or buf[p] == HT):
        p += 1
    vs = p
    ve = ce
    while ve > vs and (buf[ve - 1] == SP or buf[ve - 1] == HT):
        ve -= 1
    f.value_start = vs
    f.value_end = ve
    f.folded = 0
    f.fold_start = 0
    f.name = NULL
    f.nonascii = _check_value(self, buf, vs, ve)
    if ce == e and self.strict:
        return _raise_at(_InvalidLineEnding, FIELD_BARE_LF, base + e, LF)
    return 0


# obs-fold = OWS CRLF RWS   (RFC 9112 §5.2): lenient mode joins the lines
cdef int _continuation(ResponseParser self, const unsigned char *buf, Py_ssize_t s,
                       Py_ssize_t ce, Py_ssize_t e) except -1:
    cdef Field *f = &self._fields[self._nf - 1]
    if _check_value(self, buf, s, ce):
        f.nonascii = 1
    if not f.folded:
        f.fold_start = s
    f.folded = 1
    f.value_end = ce
    return 0


cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define WS_CTZ64(x) __builtin_ctzll(x)
    #else
    static int WS_CTZ64(unsigned long long x) { int n = 0; while (!(x & 1)) { x >>= 1; n++; } return n; }
    #endif
    #if (defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) \
        || defined(_M_X64) || defined(_M_IX86) || defined(_M_ARM64)
    #define WS_LITTLE_ENDIAN 1
    #else
    #define WS_LITTLE_ENDIAN 0
    #endif
    """
    int WS_CTZ64(uint64_t x) nogil
    const int WS_LITTLE_ENDIAN


cdef inline Py_ssize_t _printable_run(const unsigned char *buf, Py_ssize_t i, Py_ssize_t e) noexcept:
    """The end of the run of printable ASCII (0x20-0x7E) bytes starting at buf[i], before e.

    Eight bytes at a time: a lane's high bit is set in `bad` when its byte is
    >= 0x80, < 0x20 (the subtraction borrows) or 0x7F (the xor zeroes it).  A
    borrow can only flag lanes above a truly flagged one, so the lowest flag is
    exact; on little-endian machines it is the byte at the lowest address.
    """
    cdef uint64_t w, bad
    while e - i >= 8:
        memcpy(&w, buf + i, 8)
        bad = (w | (w - 0x2020202020202020ULL) | ((w ^ 0x7F7F7F7F7F7F7F7FULL) - 0x0101010101010101ULL)) \
            & 0x8080808080808080ULL
        if bad:
            if WS_LITTLE_ENDIAN:
                return i + (WS_CTZ64(bad) >> 3)
            break
        i += 8
    while i < e and 0x20 <= buf[i] < 0x7F:
        i += 1
    return i


cdef inline Py_ssize_t _find_colon(const unsigned char *buf, Py_ssize_t i, Py_ssize_t e) noexcept:
    """The first ":" in buf[i:e], or e.

    Eight bytes at a time: after an xor with ":" in every lane, a lane that was
    ":" is zero, and (v - 0x01..) & ~v flags it (a borrow can only flag lanes
    above a zero one, so the lowest flag is exact).
    """
    cdef uint64_t w, hit
    while e - i >= 8:
        memcpy(&w, buf + i, 8)
        w ^= 0x3A3A3A3A3A3A3A3AULL
        hit = (w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL
        if hit:
            if WS_LITTLE_ENDIAN:
                return i + (WS_CTZ64(hit) >> 3)
            break
        i += 8
    while i < e and buf[i] != 58:
        i += 1
    return i


cdef inline NameEntry *_known_name(ResponseParser self, const unsigned char *p, Py_ssize_t n) noexcept:
    """The cached name (known or learnt) spelt exactly p[0:n], or NULL."""
    cdef size_t h = _name_hash(p, n)
    cdef NameEntry *e = _name_slot(GLOBAL_NAMES, GLOBAL_SLOTS - 1, p, n, h)
    if e.key != NULL:
        return e
    if self._names != NULL:
        e = _name_slot(self._names, LEARN_SLOTS - 1, p, n, h)
        if e.key != NULL:
            return e
    return NULL


# The common field line, in one pass: token ":" OWS printable-ASCII value CRLF,
# complete in the region and within max_field_size.  Such a line has nothing
# to report; anything else (obs-text, HTAB or a control in the value, a bare
# LF, a line not complete yet, a limit) goes through the general path in _scan.
# The name is looked up in the name caches here: every cached name is a token,
# so a name found there needs no byte-by-byte tchar check, and the build
# takes its key from the field without a second lookup.
cdef inline Py_ssize_t _plain_field(ResponseParser self, const unsigned char *buf, Py_ssize_t s,
                                    Py_ssize_t n) except -1:
    """Record the field line at s and return the start of the next line, or 0."""
    cdef Py_ssize_t p, vs, ve, ce
    cdef Field *f
    cdef NameEntry *name
    p = _find_colon(buf, s, n)
    if p == s or p >= n:
        return 0
    name = _known_name(self, buf + s, p - s)
    if name == NULL:
        vs = s
        while vs < p and TCHAR[buf[vs]]:
            vs += 1
        if vs < p:
            return 0
    vs = p + 1
    while vs < n and (buf[vs] == SP or buf[vs] == HT):
        vs += 1
    ve = _printable_run(buf, vs, n)
    if ve + 1 >= n or buf[ve] != CR or buf[ve + 1] != LF or ve - s > self.max_field_size:
        return 0
    f = _new_field(self)
    f.start = s
    f.name_end = p
    f.value_start = vs
    ce = ve
    while ve > vs and buf[ve - 1] == SP:
        ve -= 1
    f.value_end = ve
    f.folded = 0
    f.fold_start = 0
    f.nonascii = 0
    f.name = name
    return ce + 2


cdef Py_ssize_t _scan(ResponseParser self, const unsigned char *buf, Py_ssize_t n) except -2:
    """Scan the block buf[0:n] from the resume point.

    Returns the length of the block once its empty line has arrived, or -1
    when more bytes are needed (the resume point is saved).
    """
    cdef Py_ssize_t pos = self._hs_pos, e, ce, start, lf_from
    cdef const unsigned char *lf
    cdef unsigned char c
    cdef long long base = self._blk_base
    if self._hs_phase == PHASE_STATUS:
        lf = <const unsigned char *>memchr(buf + self._hs_lf_from, LF, n - self._hs_lf_from)
        if lf == NULL:
            if _partial_len(buf, 0, n) > self.max_line_size:
                _raise_at(_LineTooLong, STATUS_LINE_TOO_LONG.format(self.max_line_size),
                          base + self.max_line_size, buf[self.max_line_size])
            self._hs_lf_from = n
            return -1
        e = lf - buf
        ce = _content_end(buf, 0, e)
        if ce > self.max_line_size:
            _raise_at(_LineTooLong, STATUS_LINE_TOO_LONG.format(self.max_line_size),
                      base + self.max_line_size, buf[self.max_line_size])
        _status_line(self, buf, ce, e)
        pos = e + 1
        self._hs_phase = PHASE_FIELDS
    while True:
        self._hs_pos = pos
        if pos >= n:
            return -1
        c = buf[pos]
        # the empty line: CRLF, or a bare LF (lenient)
        if c == LF:
            if self.strict:
                _raise_at(_InvalidLineEnding, EMPTY_LINE_BARE_LF, base + pos, LF)
            return pos + 1
        if c == CR:
            if pos + 1 >= n:
                return -1
            if buf[pos + 1] == LF:
                return pos + 2
            _raise_at(_InvalidHeader, BARE_CR_AT_LINE_START, base + pos, CR)
        if c == SP or c == HT:
            # a continuation of the field above; its length counts in that field
            if self._nf == 0:
                _raise_at(_InvalidHeader, WHITESPACE_BEFORE_FIELD, base + pos, c)
            if self.strict:
                _raise_at(_InvalidHeader, OBS_FOLD, base + pos, c)
            start = self._fields[self._nf - 1].start
        else:
            if self._count >= self.max_headers:
                _raise_at(_TooManyHeaders, TOO_MANY_FIELDS.format(self.max_headers), base + pos, c)
            # a line seen partial before is known to need the general path
            if self._hs_lf_from <= pos:
                e = _plain_field(self, buf, pos, n)
                if e > 0:
                    self._count += 1
                    pos = e
                    continue
            start = pos
        lf_from = self._hs_lf_from if self._hs_lf_from > pos else pos
        lf = <const unsigned char *>memchr(buf + lf_from, LF, n - lf_from)
        if lf == NULL:
            if _partial_len(buf, start, n) > self.max_field_size:
                _raise_at(_LineTooLong, FIELD_TOO_LONG.format(self.max_field_size), base + start + self.max_field_size,
                          buf[start + self.max_field_size])
            self._hs_lf_from = n
            return -1
        e = lf - buf
        ce = _content_end(buf, pos, e)
        if ce - start > self.max_field_size:
            _raise_at(_LineTooLong, FIELD_TOO_LONG.format(self.max_field_size), base + start + self.max_field_size,
                      buf[start + self.max_field_size])
        if start == pos:
            _field_line(self, buf, pos, ce, e)
            self._count += 1
        else:
            _continuation(self, buf, pos, ce, e)
        pos = e + 1


cdef int _blk_append(ResponseParser self, const unsigned char *p, Py_ssize_t n) except -1:
    cdef Py_ssize_t cap
    cdef unsigned char *grown
    if self._blk_len + n > self._blk_cap:
        cap = max(self._blk_cap * 2, self._blk_len + n, 256)
        grown = <unsigned char *>PyMem_Realloc(self._blk, cap)
        if grown == NULL:
            raise MemoryError()
        self._blk = grown
        self._blk_cap = cap
    memcpy(self._blk + self._blk_len, p, n)
    self._blk_len += n
    return 0


cdef enum:
    # A carry buffer grown past this by one large head is freed once the head
    # is parsed, so an idle connection does not keep it.
    KEEP_CARRY = 16384


cdef void _blk_release(ResponseParser self) noexcept:
    self._blk_len = 0
    if self._blk_cap > KEEP_CARRY:
        PyMem_Free(self._blk)
        self._blk = NULL
        self._blk_cap = 0


cdef int _start_block(ResponseParser self, long long offset, int phase) noexcept:
    self._blk_base = offset
    self._blk_len = 0
    self._hs_pos = 0
    self._hs_lf_from = 0
    self._hs_phase = phase
    self._nf = 0
    return 0


cdef Py_ssize_t _feed_block(ResponseParser self, list events, const unsigned char *buf,
                            Py_ssize_t n, Py_ssize_t pos) except -1:
    """Advance the head or trailer block with buf[pos:n]; return the new position."""
    cdef Py_ssize_t r, take
    cdef const unsigned char *lf
    if self._blk_len == 0:
        r = _scan(self, buf + pos, n - pos)
        if r >= 0:
            _complete_block(self, events, buf + pos, r)
            return pos + r
        _blk_append(self, buf + pos, n - pos)
        return n
    # carried over: append line by line so the block never holds bytes past its end
    while pos < n:
        lf = <const unsigned char *>memchr(buf + pos, LF, n - pos)
        take = (lf - buf) + 1 - pos if lf != NULL else n - pos
        _blk_append(self, buf + pos, take)
        pos += take
        r = _scan(self, self._blk, self._blk_len)
        if r >= 0:
            _complete_block(self, events, self._blk, r)
            _blk_release(self)
            return pos
    return pos
