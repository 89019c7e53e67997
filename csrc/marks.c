/* The first place of each of many words in a text's folded bytes, in one
 * pass (analysis/marks.py: the report readers' gates ask for 50 to 90
 * words of every text, and one bytes.find pass each cost more than the
 * baseline scan of the whole text).  The pure-Python twin, the reference
 * tests/test_native.py holds this to, is ``[data.find(w) for w in words]``
 * (analysis.marks._first_places_py).
 *
 * A Finder is made once for a set of words of two bytes or more.  Its
 * table says, for each pair of bytes, which words start with it (a bit set
 * of the pairs first, 8 KiB, so that most places are settled by one load
 * that stays in the cache), and the scan compares those words at that
 * place.  It stops once every word is found. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define MAX_WORDS 65535  /* word numbers are 16 bits, 0 meaning none */

typedef struct {
    PyObject_HEAD
    PyObject *words;          /* the tuple of bytes it was made with */
    Py_ssize_t count;
    const char **text;        /* each word's bytes (held by ``words``) */
    Py_ssize_t *size;
    uint16_t *next;           /* the next word (number + 1) of the same first pair */
    uint16_t head[65536];     /* the first word (number + 1) of each pair */
    uint64_t pairs[1024];     /* bit p: head[p] is not 0 */
} Finder;

static void finder_dealloc(Finder *self) {
    Py_XDECREF(self->words);
    PyMem_Free(self->text);
    PyMem_Free(self->size);
    PyMem_Free(self->next);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int finder_init(Finder *self, PyObject *args, PyObject *kwds) {
    PyObject *words;
    static char *kwlist[] = {"words", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!", kwlist, &PyTuple_Type, &words))
        return -1;
    if (self->words) {
        PyErr_SetString(PyExc_TypeError, "a Finder is made once");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(words);
    if (n > MAX_WORDS) {
        PyErr_SetString(PyExc_ValueError, "too many words");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *w = PyTuple_GET_ITEM(words, i);
        if (!PyBytes_CheckExact(w) || PyBytes_GET_SIZE(w) < 2) {
            PyErr_SetString(PyExc_ValueError, "each word is bytes of two bytes or more");
            return -1;
        }
    }
    /* A Finder whose making failed can be made again (__init__ called once
     * more): each failed try leaked the three arrays it had allocated before
     * it looked at the words (a megabyte for 60,000 words).  The words are
     * now looked at first, and what a try that ran out of memory left is
     * let go of here. */
    PyMem_Free(self->text);
    PyMem_Free(self->size);
    PyMem_Free(self->next);
    self->text = PyMem_Calloc(n ? n : 1, sizeof(const char *));
    self->size = PyMem_Calloc(n ? n : 1, sizeof(Py_ssize_t));
    self->next = PyMem_Calloc(n ? n : 1, sizeof(uint16_t));
    if (!self->text || !self->size || !self->next) {
        PyErr_NoMemory();
        return -1;
    }
    /* Chained in reverse, so that each pair's words are compared in the
     * order given. */
    for (Py_ssize_t i = n - 1; i >= 0; i--) {
        PyObject *w = PyTuple_GET_ITEM(words, i);
        const unsigned char *s = (const unsigned char *)PyBytes_AS_STRING(w);
        unsigned pair = s[0] | (unsigned)s[1] << 8;
        self->text[i] = (const char *)s;
        self->size[i] = PyBytes_GET_SIZE(w);
        self->next[i] = self->head[pair];
        self->head[pair] = (uint16_t)(i + 1);
        self->pairs[pair >> 6] |= (uint64_t)1 << (pair & 63);
    }
    Py_INCREF(words);
    self->words = words;
    self->count = n;
    return 0;
}

static PyObject *finder_first(Finder *self, PyObject *arg) {
    if (!self->words) {
        PyErr_SetString(PyExc_TypeError, "Finder not made");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const unsigned char *d = view.buf;
    Py_ssize_t len = view.len, n = self->count, left = n;
    Py_ssize_t *place = PyMem_Malloc((n ? n : 1) * sizeof(Py_ssize_t));
    if (!place) {
        PyBuffer_Release(&view);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++)
        place[i] = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; left && i + 1 < len; i++) {
        unsigned pair = d[i] | (unsigned)d[i + 1] << 8;
        if (!(self->pairs[pair >> 6] >> (pair & 63) & 1))
            continue;
        for (unsigned h = self->head[pair]; h; h = self->next[h - 1]) {
            Py_ssize_t w = h - 1, size = self->size[w];
            if (place[w] < 0 && len - i >= size && memcmp(d + i + 2, self->text[w] + 2, size - 2) == 0) {
                place[w] = i;
                left--;
            }
        }
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    PyObject *out = PyTuple_New(n);
    for (Py_ssize_t i = 0; out && i < n; i++) {
        PyObject *v = PyLong_FromSsize_t(place[i]);
        if (!v) {
            Py_CLEAR(out);
            break;
        }
        PyTuple_SET_ITEM(out, i, v);
    }
    PyMem_Free(place);
    return out;
}

static PyObject *finder_words(Finder *self, void *closure) {
    (void)closure;
    if (!self->words)
        Py_RETURN_NONE;
    Py_INCREF(self->words);
    return self->words;
}

static PyMethodDef FINDER_METHODS[] = {
    {"first", (PyCFunction)finder_first, METH_O,
     "first(data) -> tuple: the first place of each word in data (a bytes-like object), -1 where it is not."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef FINDER_GETSET[] = {
    {"words", (getter)finder_words, NULL, "the words, as given", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject FINDER_TYPE = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "analysis._marks.Finder",
    .tp_basicsize = sizeof(Finder),
    .tp_dealloc = (destructor)finder_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Finder(words: tuple[bytes, ...]): the first places of all of them in one pass (.first(data)).",
    .tp_methods = FINDER_METHODS,
    .tp_getset = FINDER_GETSET,
    .tp_init = (initproc)finder_init,
    .tp_new = PyType_GenericNew,
};

/* label_lines(low, leads, pairs, after) -> list: the starts of the lines
 * of the folded bytes low (0, and each place after a b"\n") that a
 * folded_label_pattern may match, for label_begins to ask the pattern of
 * each (its scan tried the pattern after every line break).  A line is
 * passed over when its first byte is not one of leads (the pattern's first
 * look ahead), or when, past its ASCII blanks and colons, the next byte is
 * ASCII and neither opens a label there nor is one of after (what may
 * follow the blanks of the pattern's further alternative).  A label opens
 * there when the pair of that byte and the next is one of pairs (the first
 * two bytes of a label, as the folded copy holds them): 2, or 1 when the
 * pair of the next two is one of thirds too (the second and third bytes of
 * a label whose first three are ASCII letters).  Any byte of another
 * character may be a blank or a letter of a label: such a line is one to
 * ask.  leads and after: 256 bytes, pairs and thirds 65,536 (first byte *
 * 256 + second). */
static PyObject *label_lines(PyObject *self, PyObject *args) {
    Py_buffer low, leads, pairs, thirds, after;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*", &low, &leads, &pairs, &thirds, &after))
        return NULL;
    PyObject *out = NULL;
    if (leads.len != 256 || pairs.len != 65536 || thirds.len != 65536 || after.len != 256) {
        PyErr_SetString(PyExc_ValueError, "leads and after of 256 bytes, pairs and thirds of 65536");
        goto done;
    }
    const unsigned char *d = low.buf, *lead = leads.buf, *pair = pairs.buf, *third = thirds.buf, *then = after.buf;
    Py_ssize_t n = low.len, q = 0;
    out = PyList_New(0);
    while (out && q < n) {
        if (lead[d[q]]) {
            Py_ssize_t r = q;
            /* the ASCII blanks of analysis.reports.common.BLANKS, and the colon */
            while (r < n && (d[r] == ' ' || d[r] == ':' || (d[r] >= '\t' && d[r] <= '\r' && d[r] != '\n')
                             || (d[r] >= 0x1c && d[r] <= 0x1f)))
                r++;
            unsigned char opens = r + 1 < n ? pair[d[r] * 256 + d[r + 1]] : 0;
            if (opens == 1)
                opens = r + 2 < n && third[d[r + 1] * 256 + d[r + 2]];
            if (r < n && (d[r] >= 0x80 || then[d[r]] || opens)) {
                PyObject *at = PyLong_FromSsize_t(q);
                if (!at || PyList_Append(out, at) < 0)
                    Py_CLEAR(out);
                Py_XDECREF(at);
            }
        }
        const unsigned char *nl = memchr(d + q, '\n', n - q);
        if (!nl)
            break;
        q = nl - d + 1;
    }
done:
    PyBuffer_Release(&low);
    PyBuffer_Release(&leads);
    PyBuffer_Release(&pairs);
    PyBuffer_Release(&thirds);
    PyBuffer_Release(&after);
    return out;
}

static PyMethodDef METHODS[] = {
    {"label_lines", label_lines, METH_VARARGS,
     "label_lines(low, leads, pairs, thirds, after) -> list: the line starts a folded label pattern may match."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "analysis._marks", NULL, -1, METHODS};

PyMODINIT_FUNC PyInit__marks(void) {
    if (PyType_Ready(&FINDER_TYPE) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&MODULE);
    if (!m)
        return NULL;
    Py_INCREF(&FINDER_TYPE);
    if (PyModule_AddObject(m, "Finder", (PyObject *)&FINDER_TYPE) < 0) {
        Py_DECREF(&FINDER_TYPE);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
