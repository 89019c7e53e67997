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
 * html.unescape, where a "&#13;" is a "\r" that clean keeps). */
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

static PyObject *pass(PyObject *text, int lines) {
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "a str is required, not %.100s", Py_TYPE(text)->tp_name);
        return NULL;
    }
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

static PyObject *fold(PyObject *self, PyObject *text) { return pass(text, 1); }
static PyObject *replace(PyObject *self, PyObject *text) { return pass(text, 0); }

static PyMethodDef METHODS[] = {
    {"fold", fold, METH_O, "fold(text) -> str: clean._fold_py (CR line ends and _REPLACE, in one pass)."},
    {"replace", replace, METH_O, "replace(text) -> str: clean._replace_all_py (_REPLACE alone)."},
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
