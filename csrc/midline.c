/* The lines of a debugger transcript that hold a word the scanner's
 * mid-line tests ask for (analysis/text/events.py: _midline_lines, whose
 * pure-Python form is the reference this must equal, checked by
 * tests/test_native.py).  One pass over the characters instead of one
 * str.find pass per word: a text of Chinese prose is stored two bytes a
 * character, and eleven such passes cost more than the regex scan of the
 * line starts.
 *
 * A word "holds" in a piece of a line: the line's characters cut every
 * MAX_LINE from its start; the line is noted, and the piece when it is not
 * the line's first.  A word of the stop-code test ("ode", "ODE", "代码")
 * notes a piece only where that test says so (_says_stop_code). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The mid-line words (events._MIDLINE_WORDS), as code points. */
typedef struct { const Py_UCS4 *w; Py_ssize_t n; int stop_code; } Word;
static const Py_UCS4 W0[] = {',', ' ', '{'};
static const Py_UCS4 W1[] = {'O','w','n','i','n','g',' ','P','r','o','c','e','s','s'};
static const Py_UCS4 W2[] = {'n','a','b','l','e',' ','t','o'};
static const Py_UCS4 W3[] = {'c','o','u','l','d',' ','n','o','t',' ','b','e',' ','l','o','a','d','e','d'};
static const Py_UCS4 W4[] = {'t',' ','f','a','u','l','t'};
static const Py_UCS4 W5[] = {'f','o','l','l','o','w','i','n','g',' ','m','o','d','u','l','e'};
static const Py_UCS4 W6[] = {'o','d','e'};
static const Py_UCS4 W7[] = {'O','D','E'};
static const Py_UCS4 W8[] = {0x4EE3, 0x7801};  /* 代码 */
static const Word WORDS[] = {
    {W0, 3, 0}, {W1, 14, 0}, {W2, 8, 0}, {W3, 19, 0}, {W4, 7, 0}, {W5, 16, 0},
    {W6, 3, 1}, {W7, 3, 1}, {W8, 2, 1},
};
#define NWORDS ((int)(sizeof(WORDS) / sizeof(WORDS[0])))

/* What stands before the "0x" of a code in prose (events._PROSE_HEX). */
static inline int prose_before(Py_UCS4 c) {
    return c == 'k' || c == 'K' || c == 'e' || c == 'E' || c == 0x7801 || c == 0x212A || c == ' ' || c == ':'
           || c == 0xFF1A;
}

static Py_UCS4 ascii_lower(Py_UCS4 c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

/* text[at:] starts with the n code points of w (case folded to ASCII lower
 * case when fold is set: no other character lowers to an ASCII letter). */
static inline int starts(int kind, const void *data, Py_ssize_t at, Py_ssize_t end, const Py_UCS4 *w, Py_ssize_t n,
                  int fold) {
    if (end - at < n)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, at + i);
        if ((fold ? ascii_lower(c) : c) != w[i])
            return 0;
    }
    return 1;
}

static int holds(int kind, const void *data, Py_ssize_t a, Py_ssize_t b, const Py_UCS4 *w, Py_ssize_t n, int fold) {
    for (Py_ssize_t i = a; i + n <= b; i++)
        if (starts(kind, data, i, b, w, n, fold))
            return 1;
    return 0;
}

/* events._says_stop_code of text[a:b]. */
static int says_stop_code(int kind, const void *data, Py_ssize_t a, Py_ssize_t b) {
    static const Py_UCS4 code[] = {'c','o','d','e'}, Code[] = {'C','o','d','e'}, CODE[] = {'C','O','D','E'};
    static const Py_UCS4 daima[] = {0x4EE3, 0x7801};
    static const Py_UCS4 stop_code[] = {'s','t','o','p',' ','c','o','d','e'}, stopcode[] = {'s','t','o','p','c','o','d','e'};
    static const Py_UCS4 tingzhi[] = {0x505C, 0x6B62, 0x4EE3, 0x7801}, zhongzhi[] = {0x7EC8, 0x6B62, 0x4EE3, 0x7801};
    if (!(holds(kind, data, a, b, code, 4, 0) || holds(kind, data, a, b, Code, 4, 0)
          || holds(kind, data, a, b, daima, 2, 0) || holds(kind, data, a, b, CODE, 4, 0)))
        return 0;
    return holds(kind, data, a, b, stop_code, 9, 1) || holds(kind, data, a, b, stopcode, 8, 1)
           || holds(kind, data, a, b, tingzhi, 4, 0) || holds(kind, data, a, b, zhongzhi, 4, 0);
}

/* For each pair of ASCII characters, the words that start with it (bit i:
 * WORDS[i]; bit 15: the "0x" of a prose code); filled at import.  Every
 * word has two characters at least, so a pair settles most places at once. */
static unsigned short PAIRS[128][128];
#define PROSE_BIT (1u << 15)
static Py_UCS4 LEAST_WIDE = 0x110000;  /* the least first character of a word that is not ASCII */

static void fill_pairs(void) {
    for (int i = 0; i < NWORDS; i++) {
        if (WORDS[i].w[0] < 128 && WORDS[i].w[1] < 128)
            PAIRS[WORDS[i].w[0]][WORDS[i].w[1]] |= (unsigned short)(1u << i);
        else if (WORDS[i].w[0] >= 128 && WORDS[i].w[0] < LEAST_WIDE)
            LEAST_WIDE = WORDS[i].w[0];
    }
    PAIRS['0']['x'] |= PROSE_BIT;
    PAIRS['0']['X'] |= PROSE_BIT;
}

/* The words that may start at a character outside the table. */
static inline unsigned wide_opens(Py_UCS4 c) {
    unsigned mask = 0;
    for (int i = 0; i < NWORDS; i++)
        if (WORDS[i].w[0] == c)
            mask |= 1u << i;
    return mask;
}

/* The scan, made once for each way a str stores its characters (the kind
 * a constant in each, so that reading a character is one load). */
static inline __attribute__((always_inline)) PyObject *
scan(int kind, const void *data, Py_ssize_t len, Py_ssize_t a, Py_ssize_t b, Py_ssize_t max_line) {
    PyObject *found = PyList_New(0), *pieces = PyDict_New();
    if (!found || !pieces)
        goto fail;
    PyObject *first = PyLong_FromSsize_t(a);
    if (!first || PyList_Append(found, first) < 0) { Py_XDECREF(first); goto fail; }
    Py_DECREF(first);
    Py_ssize_t last_noted = a;      /* the last line put in found */
    Py_ssize_t line = a;            /* the start of the line p is in */
    Py_ssize_t tested = -1;         /* the piece whose stop-code test failed */
    for (Py_ssize_t p = a; p < b; p++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, p);
        if (c == '\n') {
            line = p + 1;
            continue;
        }
        if (p + 1 >= b)
            continue;  /* no word fits */
        Py_UCS4 d = PyUnicode_READ(kind, data, p + 1);
        unsigned mask = (c < 128 && d < 128) ? PAIRS[c][d] : (c >= LEAST_WIDE ? wide_opens(c) : 0);
        if (!mask)
            continue;
        int note = 0, stop_test = 0;
        if ((mask & PROSE_BIT) && p > 0 && prose_before(PyUnicode_READ(kind, data, p - 1)))
            note = 1;
        for (int i = 0; i < NWORDS && !note; i++) {
            if (!(mask & (1u << i)) || !starts(kind, data, p, b, WORDS[i].w, WORDS[i].n, 0))
                continue;
            if (WORDS[i].stop_code)
                stop_test = 1;
            else
                note = 1;
        }
        if (!note && !stop_test)
            continue;
        Py_ssize_t piece = line + (p - line) / max_line * max_line;
        if (!note && tested == piece)
            continue;
        /* Where the piece ends: its line's end, or MAX_LINE on. */
        Py_ssize_t limit = piece + max_line, end = -1;
        for (Py_ssize_t q = p; q < (limit < len ? limit : len); q++)
            if (PyUnicode_READ(kind, data, q) == '\n') { end = q; break; }
        if (end < 0)
            end = limit;
        if (!note) {
            if (!says_stop_code(kind, data, piece, end < len ? end : len)) {
                tested = piece;
                continue;
            }
        }
        if (line != last_noted) {
            PyObject *v = PyLong_FromSsize_t(line);
            if (!v || PyList_Append(found, v) < 0) { Py_XDECREF(v); goto fail; }
            Py_DECREF(v);
            last_noted = line;
        }
        if (piece != line) {
            PyObject *key = PyLong_FromSsize_t(line), *value = PyLong_FromSsize_t(piece);
            PyObject *set = key ? PyDict_GetItemWithError(pieces, key) : NULL;
            int bad = !key || !value || (!set && PyErr_Occurred());
            if (!bad && !set) {
                set = PySet_New(NULL);
                bad = !set || PyDict_SetItem(pieces, key, set) < 0;
                Py_XDECREF(set);  /* the dict holds it */
            }
            bad = bad || PySet_Add(set, value) < 0;
            Py_XDECREF(key);
            Py_XDECREF(value);
            if (bad) goto fail;
        }
        /* The piece is noted: nothing more in it can add to what is found. */
        p = end - 1;  /* the loop reads on from the piece's end (its line end, if it has one) */
    }
    return Py_BuildValue("(NN)", found, pieces);
fail:
    Py_XDECREF(found);
    Py_XDECREF(pieces);
    return NULL;
}

static PyObject *midline_lines(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_ssize_t a, b, max_line;
    if (!PyArg_ParseTuple(args, "Unnn", &text, &a, &b, &max_line))
        return NULL;
    if (max_line <= 0) {
        PyErr_SetString(PyExc_ValueError, "max_line must be positive");
        return NULL;
    }
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    if (a < 0) a = 0;
    if (b > len) b = len;
    /* A piece longer than the text is the whole line: past len + 1 nothing
     * changes, and piece + max_line below could overflow. */
    if (max_line > len + 1) max_line = len + 1;
    const void *data = PyUnicode_DATA(text);
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: return scan(PyUnicode_1BYTE_KIND, data, len, a, b, max_line);
    case PyUnicode_2BYTE_KIND: return scan(PyUnicode_2BYTE_KIND, data, len, a, b, max_line);
    default: return scan(PyUnicode_4BYTE_KIND, data, len, a, b, max_line);
    }
}

static PyMethodDef METHODS[] = {
    {"midline_lines", midline_lines, METH_VARARGS,
     "midline_lines(text, a, b, max_line) -> (line starts, {line: piece starts}): events._midline_lines."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "analysis._midline", NULL, -1, METHODS};

/* WORDS and STOP_CODE_WORDS: what this was compiled with, which the tests
 * hold to events._MIDLINE_WORDS and events._STOP_CODE_WORDS. */
PyMODINIT_FUNC PyInit__midline(void) {
    fill_pairs();
    PyObject *m = PyModule_Create(&MODULE), *words = PyTuple_New(NWORDS), *stop = PySet_New(NULL);
    if (!m || !words || !stop)
        goto fail;
    for (int i = 0; i < NWORDS; i++) {
        PyObject *w = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, WORDS[i].w, WORDS[i].n);
        if (!w || (WORDS[i].stop_code && PySet_Add(stop, w) < 0)) { Py_XDECREF(w); goto fail; }
        PyTuple_SET_ITEM(words, i, w);
    }
    if (PyModule_AddObject(m, "WORDS", words) < 0)
        goto fail;
    words = NULL;
    if (PyModule_AddObject(m, "STOP_CODE_WORDS", stop) < 0)
        goto fail;
    return m;
fail:
    Py_XDECREF(words);
    Py_XDECREF(stop);
    Py_XDECREF(m);
    return NULL;
}
