/*
 * accord.ledger._canon: RFC 8785 (JSON Canonicalization Scheme) bytes of plain JSON data, in C.
 *
 *   canonical(value) -> bytes | None
 *
 * gives the canonical JSON of value when it is made only of exact dict (str keys), list, str,
 * int with |i| <= 2**53 - 1, bool and None, and None for anything else: floats (ECMAScript
 * number formatting is left to the rfc8785 library), bigger ints, tuples, subclasses of any of
 * these types, non-str keys, strings with a lone surrogate (they have no UTF-8 form). The caller,
 * accord/ledger/entries.py, then takes its slower paths, which decide what such input gives.
 *
 * The bytes are those of RFC 8785 section 3.2: no whitespace; strings as ECMAScript's
 * JSON.stringify writes them (only '"', '\\' and U+0000..U+001F escaped, the latter as \b \t
 * \n \f \r or \u00xx with lower-case hex; everything else, U+007F and U+2028 included, as raw
 * UTF-8); integers in plain decimal; object members sorted by their keys' UTF-16 code units.
 * Keys outside the BMP are handled, not refused: UTF-8 byte order is code point order, which
 * differs from UTF-16 order only where a character U+E000..U+FFFF meets one above U+FFFF (in
 * UTF-16 the latter starts with a surrogate, D800..DBFF, so it sorts first); the comparison
 * corrects exactly that case.
 *
 * Nesting is guarded by Py_EnterRecursiveCall, the interpreter's own recursion limit, as the
 * json module's C encoder is: too deep a value raises RecursionError, as json.dumps would, and
 * so does a value that contains itself.
 *
 * No Python code runs while a value is encoded (only exact built-in types are read, and no
 * object that could start the garbage collector is allocated), but the keys, values and list
 * items being written are held by strong references all the same.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define MAX_SAFE_INT 9007199254740991LL /* 2**53 - 1 */
#define STACK_BUFFER 4096
#define INSERTION_SORT_MAX 16

/* One object member while its object is written: the key's UTF-8 and the value. */
typedef struct {
    const char *key;
    Py_ssize_t size;
    PyObject *key_obj; /* strong reference */
    PyObject *value;   /* strong reference */
} member;

typedef struct {
    char *buf;
    Py_ssize_t len;
    Py_ssize_t cap;
    int on_heap;
    /* The members of every object being written, innermost last: one array for the whole call,
     * so an object costs no allocation of its own. Indexed, not pointed into: it may move. */
    member *members;
    Py_ssize_t top;
    Py_ssize_t members_cap;
} encoder;

/* Results of the writers: written, not plain JSON (the caller returns None), or an exception. */
enum { OK = 0, NOT_PLAIN = 1, FAILED = -1 };

static int
reserve(encoder *e, Py_ssize_t extra)
{
    if (e->cap - e->len >= extra) {
        return OK;
    }
    Py_ssize_t cap = e->cap;
    while (cap - e->len < extra) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return FAILED;
        }
        cap *= 2;
    }
    char *buf;
    if (e->on_heap) {
        buf = PyMem_Realloc(e->buf, (size_t)cap);
    }
    else {
        buf = PyMem_Malloc((size_t)cap);
        if (buf != NULL) {
            memcpy(buf, e->buf, (size_t)e->len);
        }
    }
    if (buf == NULL) {
        PyErr_NoMemory();
        return FAILED;
    }
    e->buf = buf;
    e->cap = cap;
    e->on_heap = 1;
    return OK;
}

static inline int
put(encoder *e, const char *data, Py_ssize_t size)
{
    if (reserve(e, size) != OK) {
        return FAILED;
    }
    memcpy(e->buf + e->len, data, (size_t)size);
    e->len += size;
    return OK;
}

static inline int
put_char(encoder *e, char c)
{
    if (e->len == e->cap && reserve(e, 1) != OK) {
        return FAILED;
    }
    e->buf[e->len++] = c;
    return OK;
}

/* 1 for the bytes a JSON string must escape: '"', '\\' and U+0000..U+001F. UTF-8 lead and
 * continuation bytes are all >= 0x80, so scanning bytes finds exactly these characters. */
static const unsigned char ESCAPE[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    /* 0x60..0xFF: none */
};

static int
put_string(encoder *e, const char *s, Py_ssize_t size)
{
    static const char hex[] = "0123456789abcdef";
    /* Worst case: every byte becomes \u00xx. */
    if (size > (PY_SSIZE_T_MAX - 2) / 6 || reserve(e, 6 * size + 2) != OK) {
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        return FAILED;
    }
    char *out = e->buf + e->len;
    *out++ = '"';
    Py_ssize_t run = 0; /* start of the bytes not yet copied */
    for (Py_ssize_t i = 0; i < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!ESCAPE[c]) {
            continue;
        }
        memcpy(out, s + run, (size_t)(i - run));
        out += i - run;
        run = i + 1;
        *out++ = '\\';
        switch (c) {
        case '"': *out++ = '"'; break;
        case '\\': *out++ = '\\'; break;
        case '\b': *out++ = 'b'; break;
        case '\t': *out++ = 't'; break;
        case '\n': *out++ = 'n'; break;
        case '\f': *out++ = 'f'; break;
        case '\r': *out++ = 'r'; break;
        default:
            *out++ = 'u';
            *out++ = '0';
            *out++ = '0';
            *out++ = hex[c >> 4];
            *out++ = hex[c & 0xF];
        }
    }
    memcpy(out, s + run, (size_t)(size - run));
    out += size - run;
    *out++ = '"';
    e->len = out - e->buf;
    return OK;
}

/* The UTF-8 of an exact str, or NULL with NOT_PLAIN (a lone surrogate) or FAILED in *status. */
static const char *
utf8_of(PyObject *s, Py_ssize_t *size, int *status)
{
    const char *data = PyUnicode_AsUTF8AndSize(s, size);
    if (data != NULL) {
        return data;
    }
    if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        PyErr_Clear();
        *status = NOT_PLAIN;
    }
    else {
        *status = FAILED;
    }
    return NULL;
}

static int
put_int(encoder *e, PyObject *value)
{
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow) {
        return NOT_PLAIN;
    }
    if (v == -1 && PyErr_Occurred()) {
        return FAILED;
    }
    if (v > MAX_SAFE_INT || v < -MAX_SAFE_INT) {
        return NOT_PLAIN;
    }
    char digits[24];
    char *end = digits + sizeof digits;
    char *p = end;
    unsigned long long u = v < 0 ? (unsigned long long)(-v) : (unsigned long long)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0) {
        *--p = '-';
    }
    return put(e, p, end - p);
}

/* Order two keys by their UTF-16 code units, given their UTF-8 bytes. */
static int
key_order(const member *a, const member *b)
{
    Py_ssize_t n = a->size < b->size ? a->size : b->size;
    const unsigned char *x = (const unsigned char *)a->key;
    const unsigned char *y = (const unsigned char *)b->key;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char p = x[i], q = y[i];
        if (p == q) {
            continue;
        }
        /* The keys agree up to here, so p and q are both lead bytes or both continuation
         * bytes of characters of the same length. Only lead bytes 0xEE..0xEF (U+E000..U+FFFF)
         * against 0xF0..0xF4 (above U+FFFF, a surrogate pair in UTF-16) order differently. */
        if (p >= 0xF0 && (q == 0xEE || q == 0xEF)) {
            return -1;
        }
        if (q >= 0xF0 && (p == 0xEE || p == 0xEF)) {
            return 1;
        }
        return p < q ? -1 : 1;
    }
    return a->size < b->size ? -1 : a->size > b->size ? 1 : 0;
}

static int
key_order_qsort(const void *a, const void *b)
{
    return key_order((const member *)a, (const member *)b);
}

static int encode(encoder *e, PyObject *value);

static void
release_members(encoder *e, Py_ssize_t base)
{
    for (Py_ssize_t i = base; i < e->top; i++) {
        Py_DECREF(e->members[i].key_obj);
        Py_DECREF(e->members[i].value);
    }
    e->top = base;
}

static int
encode_dict(encoder *e, PyObject *dict)
{
    Py_ssize_t n = PyDict_GET_SIZE(dict);
    if (n == 0) {
        return put(e, "{}", 2);
    }
    Py_ssize_t base = e->top;
    if (e->members_cap - base < n) {
        Py_ssize_t cap = e->members_cap ? e->members_cap : 32;
        while (cap - base < n) {
            cap *= 2;
        }
        member *grown = PyMem_Realloc(e->members, (size_t)cap * sizeof(member));
        if (grown == NULL) {
            PyErr_NoMemory();
            return FAILED;
        }
        e->members = grown;
        e->members_cap = cap;
    }
    int status = OK;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        if (!PyUnicode_CheckExact(key)) {
            status = NOT_PLAIN;
            break;
        }
        member *m = &e->members[e->top];
        m->key = utf8_of(key, &m->size, &status);
        if (m->key == NULL) {
            break;
        }
        Py_INCREF(key);
        Py_INCREF(value);
        m->key_obj = key;
        m->value = value;
        e->top++;
    }
    if (status == OK && e->top - base != n) {
        /* Unreachable: nothing here runs Python code that could resize the dict. */
        PyErr_SetString(PyExc_RuntimeError, "dictionary changed size during canonicalisation");
        status = FAILED;
    }
    if (status != OK) {
        release_members(e, base);
        return status;
    }
    member *ms = e->members + base;
    if (n <= INSERTION_SORT_MAX) {
        for (Py_ssize_t i = 1; i < n; i++) {
            member m = ms[i];
            Py_ssize_t j = i;
            while (j > 0 && key_order(&ms[j - 1], &m) > 0) {
                ms[j] = ms[j - 1];
                j--;
            }
            ms[j] = m;
        }
    }
    else {
        qsort(ms, (size_t)n, sizeof(member), key_order_qsort);
    }
    status = put_char(e, '{');
    for (Py_ssize_t i = 0; status == OK && i < n; i++) {
        /* Re-read: writing a nested object may have moved the array. */
        member *m = &e->members[base + i];
        if (i > 0) {
            status = put_char(e, ',');
        }
        if (status == OK) {
            status = put_string(e, m->key, m->size);
        }
        if (status == OK) {
            status = put_char(e, ':');
        }
        if (status == OK) {
            status = encode(e, e->members[base + i].value);
        }
    }
    if (status == OK) {
        status = put_char(e, '}');
    }
    release_members(e, base);
    return status;
}

static int
encode_list(encoder *e, PyObject *list)
{
    if (PyList_GET_SIZE(list) == 0) {
        return put(e, "[]", 2);
    }
    int status = put_char(e, '[');
    for (Py_ssize_t i = 0; status == OK && i < PyList_GET_SIZE(list); i++) {
        if (i > 0 && put_char(e, ',') != OK) {
            return FAILED;
        }
        PyObject *item = PyList_GET_ITEM(list, i);
        Py_INCREF(item);
        status = encode(e, item);
        Py_DECREF(item);
    }
    if (status == OK) {
        status = put_char(e, ']');
    }
    return status;
}

static int
encode(encoder *e, PyObject *value)
{
    PyTypeObject *type = Py_TYPE(value);
    if (type == &PyUnicode_Type) {
        Py_ssize_t size;
        int status = OK;
        const char *s = utf8_of(value, &size, &status);
        return s == NULL ? status : put_string(e, s, size);
    }
    if (type == &PyDict_Type || type == &PyList_Type) {
        if (Py_EnterRecursiveCall(" while canonicalising JSON")) {
            return FAILED;
        }
        int status = type == &PyDict_Type ? encode_dict(e, value) : encode_list(e, value);
        Py_LeaveRecursiveCall();
        return status;
    }
    if (type == &PyLong_Type) {
        return put_int(e, value);
    }
    if (value == Py_None) {
        return put(e, "null", 4);
    }
    if (value == Py_True) {
        return put(e, "true", 4);
    }
    if (value == Py_False) {
        return put(e, "false", 5);
    }
    return NOT_PLAIN;
}

static PyObject *
canonical(PyObject *module, PyObject *value)
{
    (void)module;
    char stack[STACK_BUFFER];
    encoder e = {stack, 0, STACK_BUFFER, 0, NULL, 0, 0};
    int status = encode(&e, value);
    PyObject *result = NULL;
    if (status == OK) {
        result = PyBytes_FromStringAndSize(e.buf, e.len);
    }
    else if (status == NOT_PLAIN) {
        result = Py_NewRef(Py_None);
    }
    if (e.on_heap) {
        PyMem_Free(e.buf);
    }
    PyMem_Free(e.members);
    return result;
}

PyDoc_STRVAR(canonical_doc,
"canonical(value, /)\n--\n\n"
"The RFC 8785 canonical JSON of value, or None unless value is made only of exact dict\n"
"(str keys), list, str (no lone surrogates), int within +-(2**53 - 1), bool and None.\n"
"Raises RecursionError for a value nested too deeply.");

static PyMethodDef methods[] = {
    {"canonical", canonical, METH_O, canonical_doc},
    {NULL, NULL, 0, NULL},
};

static PyModuleDef_Slot slots[] = {
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "accord.ledger._canon",
    .m_doc = "RFC 8785 canonical JSON of plain JSON data (see entries.canonical_json).",
    .m_size = 0,
    .m_methods = methods,
    .m_slots = slots,
};

PyMODINIT_FUNC
PyInit__canon(void)
{
    return PyModuleDef_Init(&module_def);
}
