# Byte classes, text decoding and the header-name cache of the C parser.
# Included by _parser.pyx; everything here is module-level and read-only once
# the module is imported (safe without the GIL on free-threaded builds).

cdef extern from "Python.h":
    object PyUnicode_New(Py_ssize_t size, Py_UCS4 maxchar)
    void *PyUnicode_DATA(object o)
    object PyUnicode_DecodeUTF8(const char *s, Py_ssize_t size, const char *errors)
    object PyBytes_FromStringAndSize(const char *v, Py_ssize_t n)
    char *PyBytes_AS_STRING(object o)

cdef enum:
    CR = 13
    LF = 10
    SP = 32
    HT = 9

# tchar (RFC 9110 §5.6.2): "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-"
# / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
cdef unsigned char TCHAR[256]
# field-value bytes (RFC 9110 §5.5): 0 = VCHAR, obs-text, SP, HTAB;
# 1 = a control other than CR, LF, NUL (lenient mode tolerates it);
# 2 = NUL, CR, LF (never inside a value or a reason phrase)
cdef unsigned char VCLASS[256]
# HEXDIG value, or -1
cdef signed char HEXVAL[256]
# ASCII lower-casing for case-insensitive compares of names and tokens
cdef unsigned char LOWER[256]


cdef void _init_tables() noexcept:
    cdef int i
    for i in range(256):
        TCHAR[i] = 0
        VCLASS[i] = 0
        HEXVAL[i] = -1
        LOWER[i] = i
        if i < 0x20 or i == 0x7F:
            VCLASS[i] = 1
        if 48 <= i <= 57:
            TCHAR[i] = 1
            HEXVAL[i] = i - 48
        elif 65 <= i <= 90:
            TCHAR[i] = 1
            LOWER[i] = i + 32
            if i <= 70:
                HEXVAL[i] = i - 55
        elif 97 <= i <= 122:
            TCHAR[i] = 1
            if i <= 102:
                HEXVAL[i] = i - 87
    for i in b"!#$%&'*+-.^_`|~":
        TCHAR[i] = 1
    VCLASS[HT] = 0
    VCLASS[0] = 2
    VCLASS[CR] = 2
    VCLASS[LF] = 2


_init_tables()


cdef inline object _text(const unsigned char *p, Py_ssize_t n, bint nonascii):
    """Bytes -> str as UTF-8 with surrogateescape; ASCII is copied straight in."""
    if n == 0:
        return ""
    if nonascii:
        return PyUnicode_DecodeUTF8(<const char *>p, n, "surrogateescape")
    s = PyUnicode_New(n, 127)
    memcpy(PyUnicode_DATA(s), p, n)
    return s


cdef inline bint _ieq(const unsigned char *p, Py_ssize_t n, const char *lower, Py_ssize_t m) noexcept:
    """Case-insensitive compare of raw bytes with a lower-case ASCII literal."""
    cdef Py_ssize_t i
    if n != m:
        return False
    for i in range(n):
        if LOWER[p[i]] != <unsigned char>lower[i]:
            return False
    return True


# --- header names -----------------------------------------------------------
# The name objects are most of the cost of a head, so names are cached by
# their raw bytes exactly as sent (keys must keep the wire spelling), by the
# policy both twins share (wirespeed.wire._header_names): a read-only table of
# the known names built at import from that module's istr objects, and a small
# table per parser that learns the first LEARN_MAX other names its server sends.
# Past that, a name is decoded to a plain str per head.

cdef struct NameEntry:
    # A cached header name: the raw bytes as sent, and what they map to.
    Py_ssize_t length
    const char *raw         # points into `key_bytes`
    PyObject *key_bytes     # bytes, owned reference
    PyObject *key           # istr (or str), owned reference
    int kind                # framing role (KIND_*) or singleton bit


cdef struct Field:
    # One header or trailer field, as offsets into the block being scanned.
    Py_ssize_t start        # first byte of the name
    Py_ssize_t name_end     # the colon
    Py_ssize_t value_start  # first byte of the value after OWS
    Py_ssize_t value_end    # end of the value (OWS trimmed unless folded)
    int folded              # continuation lines follow (value_end is their end)
    Py_ssize_t fold_start   # first byte of the first continuation line
    int nonascii            # an obs-text byte is in the value
    NameEntry *name         # the cached name these bytes are, found while scanning, or NULL


cdef struct HeadField:
    # One field of a head whose map is not built yet (ResponseHead.headers builds it):
    # its name object and where its value is in the head's copy of the value bytes.
    PyObject *key           # owned reference
    Py_ssize_t value_start
    Py_ssize_t value_end
    int folded
    int nonascii


cdef enum:
    KIND_OTHER = 0
    KIND_CL = 1
    KIND_TE = 2
    KIND_CONN = 3
    KIND_SET_COOKIE = 4     # not framing: noted on the head (has_set_cookie)
    KIND_CE = 5             # not framing: noted on the head (content_encoding)
    KIND_SINGLETON = 8      # + the index in _SINGLETONS
    GLOBAL_SLOTS = 1024     # power of two, at most half full

cdef NameEntry GLOBAL_NAMES[GLOBAL_SLOTS]
# Names one parser learns (wirespeed.wire._header_names.LEARN_MAX, the policy both
# twins follow), in a table of LEARN_SLOTS entries: a power of two, at most half full.
cdef Py_ssize_t LEARN_MAX = _header_names.LEARN_MAX
cdef Py_ssize_t LEARN_SLOTS = 2
while LEARN_SLOTS < 2 * LEARN_MAX:
    LEARN_SLOTS *= 2

_SINGLETONS = sorted(_SINGLETON_HEADERS)
_KINDS = {b"content-length": KIND_CL, b"transfer-encoding": KIND_TE, b"connection": KIND_CONN,
          b"set-cookie": KIND_SET_COOKIE, b"content-encoding": KIND_CE}
for _i, _n in enumerate(_SINGLETONS):
    _KINDS[_n.encode("ascii")] = KIND_SINGLETON + _i

cdef inline size_t _name_hash(const unsigned char *p, Py_ssize_t n) noexcept:
    # length, both ends and the middle tell common names apart; probing does the rest
    return <size_t>n * 131 + <size_t>p[0] * 31 + <size_t>p[n - 1] * 7 + <size_t>p[n >> 1] * 3 + p[(n - 1) >> 1]


cdef inline bint _same_bytes(const char *a, const unsigned char *b, Py_ssize_t n) noexcept:
    """a[0:n] == b[0:n] for a short n (a header name), in words instead of a memcmp call."""
    cdef uint64_t x, y
    cdef uint32_t u, v
    cdef Py_ssize_t i = 0
    if n >= 8:
        while n - i > 8:
            memcpy(&x, a + i, 8)
            memcpy(&y, b + i, 8)
            if x != y:
                return False
            i += 8
        memcpy(&x, a + n - 8, 8)  # the last eight, overlapping what was compared
        memcpy(&y, b + n - 8, 8)
        return x == y
    if n >= 4:
        memcpy(&u, a, 4)
        memcpy(&v, b, 4)
        if u != v:
            return False
        memcpy(&u, a + n - 4, 4)
        memcpy(&v, b + n - 4, 4)
        return u == v
    while i < n:
        if <unsigned char>a[i] != b[i]:
            return False
        i += 1
    return True


cdef inline NameEntry *_name_slot(NameEntry *table, size_t mask, const unsigned char *p,
                                  Py_ssize_t n, size_t h) noexcept:
    """The entry holding these bytes, or the empty slot where they would go."""
    cdef size_t i = h & mask
    cdef NameEntry *e
    while True:
        e = &table[i]
        if e.key == NULL or (e.length == n and _same_bytes(e.raw, p, n)):
            return e
        i = (i + 1) & mask


cdef int _name_kind(const unsigned char *p, Py_ssize_t n) except -1:
    lowered = PyBytes_FromStringAndSize(<const char *>p, n).lower()
    return _KINDS.get(lowered, KIND_OTHER)


cdef int _name_store(NameEntry *e, const unsigned char *p, Py_ssize_t n, object key) except -1:
    raw = PyBytes_FromStringAndSize(<const char *>p, n)
    e.kind = _name_kind(p, n)
    e.length = n
    e.raw = PyBytes_AS_STRING(raw)
    Py_INCREF(raw)
    e.key_bytes = <PyObject *>raw
    Py_INCREF(key)
    e.key = <PyObject *>key
    return 0


cdef void _init_names() except *:
    """GLOBAL_NAMES from the known names both twins share, keyed by their raw bytes."""
    cdef bytes raw
    cdef const unsigned char *p
    cdef NameEntry *e
    known = _header_names.KNOWN_KEYS
    if 2 * len(known) > GLOBAL_SLOTS:
        raise RuntimeError("GLOBAL_SLOTS is too small for _header_names.KNOWN_NAMES")
    for spelling, key in known.items():
        raw = spelling.encode("ascii")
        p = <const unsigned char *>PyBytes_AS_STRING(raw)
        e = _name_slot(GLOBAL_NAMES, GLOBAL_SLOTS - 1, p, len(raw), _name_hash(p, len(raw)))
        if e.key == NULL:
            _name_store(e, p, len(raw), key)


_init_names()
