# Chunk-size lines (RFC 9112 §7.1), always strict: they are framing.
#   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
#   chunk-size     = 1*HEXDIG
#   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
#   chunk-ext-val  = token / quoted-string
# A line is parsed once its LF has arrived (a partial line is carried in the
# block buffer, checked against max_line_size as it grows).

cdef inline Py_ssize_t _bws(const unsigned char *line, Py_ssize_t i, Py_ssize_t ce) noexcept:
    while i < ce and (line[i] == SP or line[i] == HT):
        i += 1
    return i


# quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE   (RFC 9110 §5.6.4)
# qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
cdef Py_ssize_t _quoted(const unsigned char *line, Py_ssize_t i, Py_ssize_t ce, long long base) except -1:
    cdef unsigned char c
    i += 1
    while True:
        if i >= ce:
            return _raise_at(_BadChunk, CHUNK_EXT_UNCLOSED, base + i, line[i])
        c = line[i]
        if c == 34:  # DQUOTE
            return i + 1
        if c == 92:  # quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
            i += 1
            if i >= ce:
                return _raise_at(_BadChunk, CHUNK_EXT_UNCLOSED, base + i, line[i])
            c = line[i]
            if not (c == HT or c >= 0x20) or c == 0x7F:
                return _raise_at(_BadChunk, CHUNK_EXT_QUOTED_BYTE, base + i, c)
        elif not (c == HT or c >= 0x20) or c == 0x7F:
            return _raise_at(_BadChunk, CHUNK_EXT_QUOTED_BYTE, base + i, c)
        i += 1


cdef int _chunk_extensions(const unsigned char *line, Py_ssize_t i, Py_ssize_t ce, long long base) except -1:
    """Validate line[i:ce], which starts at a ";".  BWS is consumed greedily, so
    whitespace must be followed by ";" or "=" (trailing BWS is reported at the line end)."""
    cdef Py_ssize_t t
    while i < ce:
        # line[i] is ";"
        i = _bws(line, i + 1, ce)
        t = i
        while i < ce and TCHAR[line[i]]:
            i += 1
        if i == t:
            return _raise_at(_BadChunk, CHUNK_EXT_NAME, base + i, line[i])
        t = i
        i = _bws(line, i, ce)
        if i < ce and line[i] == 61:  # "="
            i = _bws(line, i + 1, ce)
            if i < ce and line[i] == 34:
                i = _quoted(line, i, ce, base)
            else:
                t = i
                while i < ce and TCHAR[line[i]]:
                    i += 1
                if i == t:
                    return _raise_at(_BadChunk, CHUNK_EXT_VALUE, base + i, line[i])
            t = i
            i = _bws(line, i, ce)
        if (i < ce and line[i] != 59) or (i == ce and i != t):  # ";"
            return _raise_at(_BadChunk, CHUNK_EXT_END, base + i, line[i])
    return 0


cdef int _chunk_size_line(ResponseParser self, const unsigned char *line, Py_ssize_t e) except -1:
    """Parse line[0:e] (line[e] is its LF); set the next state."""
    cdef long long base = self._blk_base, size = 0
    cdef Py_ssize_t ce = _content_end(line, 0, e), i = 0
    cdef int d
    if ce > self.max_line_size:
        return _raise_at(_LineTooLong, CHUNK_LINE_TOO_LONG.format(self.max_line_size),
                         base + self.max_line_size, line[self.max_line_size])
    while i < ce:
        d = HEXVAL[line[i]]
        if d < 0:
            break
        if size > (MAX_LENGTH - d) >> 4:
            return _raise_at(_BadChunk, CHUNK_SIZE_TOO_LARGE, base + i, line[i])
        size = size * 16 + d
        i += 1
    if i == 0:
        return _raise_at(_BadChunk, CHUNK_SIZE_NOT_HEX, base, line[0])
    if i < ce:
        if line[i] != 59:
            return _raise_at(_BadChunk, CHUNK_SIZE_END, base + i, line[i])
        _chunk_extensions(line, i, ce, base)
    if ce == e:
        return _raise_at(_BadChunk, CHUNK_BARE_LF, base + e, LF)
    if size == 0:
        self._state = ST_TRAILERS
    else:
        self._remaining = size
        self._state = ST_CHUNK_DATA
    return 0


cdef Py_ssize_t _feed_chunk_line(ResponseParser self, const unsigned char *buf, Py_ssize_t n,
                                 Py_ssize_t pos) except -1:
    cdef const unsigned char *lf = <const unsigned char *>memchr(buf + pos, LF, n - pos)
    cdef Py_ssize_t take
    if self._blk_len == 0:
        self._blk_base = self._fed + pos
        if lf != NULL:
            _chunk_size_line(self, buf + pos, lf - buf - pos)
            pos = lf - buf + 1
        else:
            if _partial_len(buf, pos, n) > self.max_line_size:
                _raise_at(_LineTooLong, CHUNK_LINE_TOO_LONG.format(self.max_line_size),
                          self._blk_base + self.max_line_size,
                          buf[pos + self.max_line_size])
            _blk_append(self, buf + pos, n - pos)
            return n
    else:
        take = (lf - buf) + 1 - pos if lf != NULL else n - pos
        _blk_append(self, buf + pos, take)
        pos += take
        if lf == NULL:
            if _partial_len(self._blk, 0, self._blk_len) > self.max_line_size:
                _raise_at(_LineTooLong, CHUNK_LINE_TOO_LONG.format(self.max_line_size),
                          self._blk_base + self.max_line_size,
                          self._blk[self.max_line_size])
            return pos
        _chunk_size_line(self, self._blk, self._blk_len - 1)
        _blk_release(self)
    if self._state == ST_TRAILERS:
        _start_block(self, self._fed + pos, PHASE_FIELDS)
    return pos
