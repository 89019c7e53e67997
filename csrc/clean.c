/* The character passes of clean (analysis/text/clean.py), whose pure-Python
 * forms are the reference these must equal (tests/test_native.py holds the
 * whole clean on these to the whole clean on the twins).
 *
 * fold(text): the first pass, _fold_py: "\r\n" and then a lone "\r" made
 * "\n", and each character of _REPLACE made its replacement.  In Python
 * that is two str.replace passes and a regex sub that calls back to Python
 * for each character replaced, over a text nearly always stored two bytes a
 * character (Chinese prose, NBSP); here it is one read to size the result
 * and one to write it.  One pass equals the three in turn because no
 * replacement makes a "\r" or a character of _REPLACE, and "\r\n" cannot
 * overlap itself: a "\r" becomes "\n" unless the text's next character is
 * "\n" (then it goes), whatever the next character becomes.
 *
 * replace(text): the replacements alone, _replace_all_py (after
 * html.unescape, where a "&#13;" is a "\r" that clean keeps).
 *
 * unquote_unbold(text): _unquote_unbold_py, e-mail quote markers taken off
 * the line starts (_QUOTE_FIRST, _QUOTE) and then runs of exactly two
 * stars (_BOLD), in one pass: two regex subs (and a copy of the text
 * after the first line's markers) over a text of banners of stars.  One
 * pass equals the two in turn because the markers taken off hold no star
 * and are between a line's start and what follows them: a run of stars
 * has the same neighbours after the first pass as before it. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* clean._REPLACE, as code points; the tests hold REPLACE (the module's
 * tuple of these) to it. */
typedef struct { Py_UCS4 old; Py_UCS4 new[2]; int n; } Replacement;
static const Replacement TABLE[] = {
    {0x200B, {0}, 0}, {0x200C, {0}, 0}, {0x200D, {0}, 0}, {0x2060, {0}, 0}, {0xFEFF, {0}, 0}, {0x00AD, {0}, 0},
    {0x00A0, {' '}, 1}, {0x3000, {' '}, 1}, {'\t', {' '}, 1}, {0x2007, {' '}, 1}, {0x202F, {' '}, 1},
    {0xFF1A, {':', ' '}, 2}, {0xFF0C, {',', ' '}, 2}, {0xFF08, {' ', '('}, 2}, {0xFF09, {')', ' '}, 2},
    {0xFF01, {'!'}, 1},
};
#define NTABLE ((int)(sizeof(TABLE) / sizeof(TABLE[0])))

/* For each character of the Basic Multilingual Plane, whether the passes
 * look at it (a character of TABLE, or "\r"): one bit, so that the 8 KB
 * stay in the cache and the common character is one load and a test.  No
 * character of TABLE lies outside the plane.  Filled at import. */
static uint32_t MARKED[0x10000 / 32];
static signed char WHICH_LOW[256];  /* TABLE's index of a character below 256, or -1 */

static void fill_marks(void) {
    for (int c = 0; c < 256; c++)
        WHICH_LOW[c] = -1;
    for (int i = 0; i < NTABLE; i++) {
        MARKED[TABLE[i].old >> 5] |= 1u << (TABLE[i].old & 31);
        if (TABLE[i].old < 256)
            WHICH_LOW[TABLE[i].old] = (signed char)i;
    }
    MARKED['\r' >> 5] |= 1u << ('\r' & 31);
}

static inline int marked(Py_UCS4 c) { return c < 0x10000 && (MARKED[c >> 5] >> (c & 31)) & 1; }

static inline const Replacement *replacement(Py_UCS4 c) {
    if (c < 256)
        return WHICH_LOW[c] >= 0 ? &TABLE[WHICH_LOW[c]] : NULL;
    for (int i = 0; i < NTABLE; i++)
        if (TABLE[i].old == c)
            return &TABLE[i];
    return NULL;
}

/* What the character at p becomes: n characters (0..2) put in out.  The
 * caller asks only for a marked character. */
static inline int becomes(int kind, const void *data, Py_ssize_t len, Py_ssize_t p, Py_UCS4 c, int lines, Py_UCS4 out[2]) {
    if (c == '\r') {
        if (!lines) {
            out[0] = c;
            return 1;
        }
        if (p + 1 < len && PyUnicode_READ(kind, data, p + 1) == '\n')
            return 0;
        out[0] = '\n';
        return 1;
    }
    const Replacement *r = replacement(c);
    if (!r) {  /* not reached: every marked character but "\r" is in TABLE */
        out[0] = c;
        return 1;
    }
    for (int i = 0; i < r->n; i++)
        out[i] = r->new[i];
    return r->n;
}

/* The first read: the result's length and (an upper bound of) its greatest
 * character, the OR of them all, which needs the same kind as the greatest
 * one does (the bounds 128, 256 and 65536 are powers of two) so that the
 * result is made in its canonical kind.  Returns whether anything changes. */
static inline __attribute__((always_inline)) int
measure(int kind, const void *data, Py_ssize_t len, int lines, Py_ssize_t *out_len, Py_UCS4 *out_or) {
    Py_ssize_t n = 0;
    Py_UCS4 all = 0;
    int changed = 0;
    for (Py_ssize_t p = 0; p < len; p++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, p);
        if (!marked(c)) {
            all |= c;
            n++;
            continue;
        }
        Py_UCS4 out[2];
        int k = becomes(kind, data, len, p, c, lines, out);
        if (!(k == 1 && out[0] == c))
            changed = 1;
        for (int i = 0; i < k; i++)
            all |= out[i];
        n += k;
    }
    *out_len = n;
    *out_or = all;
    return changed;
}

/* The second read: the characters written in the result's kind. */
static inline __attribute__((always_inline)) void
fill(int kind, const void *data, Py_ssize_t len, int lines, int out_kind, void *out_data) {
    Py_ssize_t n = 0;
    for (Py_ssize_t p = 0; p < len; p++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, p);
        if (!marked(c)) {
            PyUnicode_WRITE(out_kind, out_data, n, c);
            n++;
            continue;
        }
        Py_UCS4 out[2];
        int k = becomes(kind, data, len, p, c, lines, out);
        for (int i = 0; i < k; i++, n++)
            PyUnicode_WRITE(out_kind, out_data, n, out[i]);
    }
}

/* A str made by the C API's deprecated PyUnicode_FromUnicode(NULL, n) is
 * not "ready" before Python 3.12: its length reads 0 and its data NULL
 * until PyUnicode_READY makes them (PyArg_Parse's "U" does it; these take
 * their argument as it is), and the passes returned "" for it.  From 3.12
 * every str is ready (and the macro deprecated). */
static int is_str(PyObject *text) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "a str is required, not %.100s", Py_TYPE(text)->tp_name);
        return 0;
    }
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(text) < 0)
        return 0;
#endif
    return 1;
}

static PyObject *pass(PyObject *text, int lines) {
    if (!is_str(text))
        return NULL;
    Py_ssize_t len = PyUnicode_GET_LENGTH(text), n;
    if (len > PY_SSIZE_T_MAX / 2) {  /* every character becomes two at most */
        PyErr_NoMemory();
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_UCS4 all;
    int changed;
    switch (kind) {
    case PyUnicode_1BYTE_KIND: changed = measure(PyUnicode_1BYTE_KIND, data, len, lines, &n, &all); break;
    case PyUnicode_2BYTE_KIND: changed = measure(PyUnicode_2BYTE_KIND, data, len, lines, &n, &all); break;
    default: changed = measure(PyUnicode_4BYTE_KIND, data, len, lines, &n, &all); break;
    }
    if (!changed)  /* the text itself, as a str (a subclass is copied, as str.replace would) */
        return PyUnicode_Substring(text, 0, len);
    PyObject *result = PyUnicode_New(n, all > 0x10FFFF ? 0x10FFFF : all);
    if (!result)
        return NULL;
    int out_kind = PyUnicode_KIND(result);
    void *out_data = PyUnicode_DATA(result);
    /* The result is never wider than the text (every character written is
     * one of the text's or ASCII), and a text stored four bytes a character
     * keeps the kind: what needs it is a character beyond the Basic
     * Multilingual Plane, which none of TABLE is (this is checked, not
     * assumed: a narrower result written four bytes wide would overrun). */
    if (kind == PyUnicode_1BYTE_KIND)
        fill(PyUnicode_1BYTE_KIND, data, len, lines, PyUnicode_1BYTE_KIND, out_data);
    else if (kind == PyUnicode_2BYTE_KIND && out_kind == PyUnicode_2BYTE_KIND)
        fill(PyUnicode_2BYTE_KIND, data, len, lines, PyUnicode_2BYTE_KIND, out_data);
    else if (kind == PyUnicode_2BYTE_KIND)
        fill(PyUnicode_2BYTE_KIND, data, len, lines, PyUnicode_1BYTE_KIND, out_data);
    else if (out_kind == PyUnicode_4BYTE_KIND)
        fill(PyUnicode_4BYTE_KIND, data, len, lines, PyUnicode_4BYTE_KIND, out_data);
    else {
        Py_DECREF(result);
        PyErr_SetString(PyExc_SystemError, "analysis._clean: a four-byte text became narrower");
        return NULL;
    }
    return result;
}

/* The line start at p (the text's start, or just after a "\n"): where the
 * quote markers there end, p if there are none.  "[ ]*+(?:>[ ]?)++": the
 * blanks, then at least one ">" (each with one blank after it). */
static inline __attribute__((always_inline)) Py_ssize_t
after_markers(int kind, const void *data, Py_ssize_t len, Py_ssize_t p) {
    Py_ssize_t q = p;
    while (q < len && PyUnicode_READ(kind, data, q) == ' ')
        q++;
    if (q >= len || PyUnicode_READ(kind, data, q) != '>')
        return p;
    while (q < len && PyUnicode_READ(kind, data, q) == '>') {
        q++;
        if (q < len && PyUnicode_READ(kind, data, q) == ' ')
            q++;
    }
    return q;
}

/* The text without its markers and its two-star runs: the pieces between
 * what goes copied whole, into a result made at the first cut (a text
 * that loses nothing is returned as it is, having only been read).  Only
 * ASCII characters go: the result needs the text's kind (its greatest
 * character stays, or it was ASCII). */
static inline __attribute__((always_inline)) PyObject *
unquote_unbold_kind(PyObject *text, int kind, const void *data, Py_ssize_t len) {
    PyObject *result = NULL;
    char *out = NULL;
    Py_ssize_t n = 0;    /* characters written */
    Py_ssize_t kept = 0; /* where the piece not yet copied starts */
#define CUT(from, to)                                                                      \
    do {                                                                                   \
        if (!result) {                                                                     \
            result = PyUnicode_New(len, PyUnicode_MAX_CHAR_VALUE(text));                   \
            if (!result)                                                                   \
                return NULL;                                                               \
            out = PyUnicode_DATA(result);                                                  \
        }                                                                                  \
        memcpy(out + n * kind, (const char *)data + kept * kind, (size_t)((from) - kept) * kind); \
        n += (from) - kept;                                                                \
        kept = (to);                                                                       \
    } while (0)
    Py_ssize_t p = after_markers(kind, data, len, 0);
    if (p > 0)
        CUT(0, p);
    while (p < len) {
        Py_UCS4 c = PyUnicode_READ(kind, data, p);
        if (c == '\n') {
            Py_ssize_t q = after_markers(kind, data, len, p + 1);
            if (q > p + 1)
                CUT(p + 1, q);
            p = q;
        } else if (c == '*') {
            Py_ssize_t run = p;
            while (p < len && PyUnicode_READ(kind, data, p) == '*')
                p++;
            if (p - run == 2)
                CUT(run, p);
        } else {
            p++;
        }
    }
#undef CUT
    if (!result)  /* nothing went: the text itself, as a str */
        return PyUnicode_Substring(text, 0, len);
    memcpy(out + n * kind, (const char *)data + kept * kind, (size_t)(len - kept) * kind);
    n += len - kept;
    if (PyUnicode_Resize(&result, n) < 0)
        return NULL;  /* the result was released */
    return result;
}

static PyObject *unquote_unbold(PyObject *self, PyObject *text) {
    if (!is_str(text))
        return NULL;
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    const void *data = PyUnicode_DATA(text);
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: return unquote_unbold_kind(text, PyUnicode_1BYTE_KIND, data, len);
    case PyUnicode_2BYTE_KIND: return unquote_unbold_kind(text, PyUnicode_2BYTE_KIND, data, len);
    default: return unquote_unbold_kind(text, PyUnicode_4BYTE_KIND, data, len);
    }
}

static PyObject *fold(PyObject *self, PyObject *text) { return pass(text, 1); }
static PyObject *replace(PyObject *self, PyObject *text) { return pass(text, 0); }

static PyMethodDef METHODS[] = {
    {"fold", fold, METH_O, "fold(text) -> str: clean._fold_py (CR line ends and _REPLACE, in one pass)."},
    {"replace", replace, METH_O, "replace(text) -> str: clean._replace_all_py (_REPLACE alone)."},
    {"unquote_unbold", unquote_unbold, METH_O,
     "unquote_unbold(text) -> str: clean._unquote_unbold_py (quote markers, then two-star runs)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "analysis._clean", NULL, -1, METHODS};

/* REPLACE: the table this was compiled with, as clean._REPLACE's pairs. */
PyMODINIT_FUNC PyInit__clean(void) {
    fill_marks();
    PyObject *m = PyModule_Create(&MODULE), *table = PyTuple_New(NTABLE);
    if (!m || !table)
        goto fail;
    for (int i = 0; i < NTABLE; i++) {
        PyObject *pair = Py_BuildValue("(NN)", PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, &TABLE[i].old, 1),
                                       PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, TABLE[i].new, TABLE[i].n));
        if (!pair)
            goto fail;
        PyTuple_SET_ITEM(table, i, pair);
    }
    if (PyModule_AddObject(m, "REPLACE", table) < 0)
        goto fail;
    return m;
fail:
    Py_XDECREF(table);
    Py_XDECREF(m);
    return NULL;
}
