/* The WinDbg reader's walk over line starts, in C (analysis/text/events.py:
 * Scanner._run, whose loop over _LINE_START.finditer is the pure-Python
 * twin and the reference: tests/test_native.py and tests/test_text_gates.py
 * hold the two to the same events).
 *
 * Per line it settles one of three things:
 *   - the line says nothing any branch of _LINE_START could take (most
 *     prose, empty lines, lines of another script): passed over;
 *   - the line is an !analyze field ("MODULE_NAME: x") or a plain frame
 *     line, exactly as the pattern's first and fifth branches read them:
 *     its event is made here and appended to the scanner's list;
 *   - anything else: the walk stops there and the Python reader matches
 *     the line with _LINE_START and reads it as before.
 * The first test only passes over a line when no branch can match it
 * (a conservative test of each branch's first characters); the field and
 * frame readings are exact, or the line is left to Python.
 *
 * Events and frames are made without running their dataclasses' __init__
 * (the slots are filled in the order the classes declare them): their
 * constructors were a third of the time of a frame line. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <string.h>

/* What setup() is given (the reader's own tables, so that the two readers
 * cannot disagree on them). */
static PyTypeObject *EVENT_TYPE, *FRAME_TYPE;
static Py_ssize_t EVENT_SLOTS[3];  /* pos, kind, value */
static Py_ssize_t FRAME_SLOTS[8];  /* module, function, offset, index, child_sp, return_address, address, args */
static PyObject *FIELDS;           /* dict: field name -> the same str */
static PyObject *VALUE_NEXT;       /* set of the fields whose empty value is on the next line */
static PyObject *OPENING;          /* tuple of the opening words (case as written) */
static PyObject *KIND_FIELD, *KIND_FRAME;
static Py_ssize_t MAX_LINE = 2048, MAX_VALUE = 512;

/* What the walk makes of a line: passed over; left to Python's match of
 * the line pattern; read here; left to Python's long way (Scanner._read),
 * the line being none of the shapes the pattern reads whole. */
enum { SKIP = 0, STOP = 1, TAKEN = 2, LONG = 3 };

#define READ(i) PyUnicode_READ(kind, data, (i))

static inline int is_hex(Py_UCS4 c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static inline int is_upper(Py_UCS4 c) { return c >= 'A' && c <= 'Z'; }
static inline int is_alpha(Py_UCS4 c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
/* The re module's \w and \d on str patterns. */
static inline int is_word(Py_UCS4 c) {
    if (c < 128)  /* (the database's answer for ASCII, without its lookup) */
        return c == '_' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z');
    return Py_UNICODE_ISALNUM(c);
}
static inline int is_decimal(Py_UCS4 c) { return c < 128 ? c >= '0' && c <= '9' : Py_UNICODE_ISDECIMAL(c); }

/* A slot of a dataclass(slots=True) instance, by its name. */
static int slot_offset(PyTypeObject *type, const char *name, Py_ssize_t *offset) {
    for (PyTypeObject *t = type; t; t = t->tp_base) {
        PyMemberDef *m = t->tp_members;
        for (; m && m->name; m++)
            if (strcmp(m->name, name) == 0 && m->type == T_OBJECT_EX) {
                *offset = m->offset;
                return 0;
            }
    }
    PyErr_Format(PyExc_TypeError, "%s has no slot %s", type->tp_name, name);
    return -1;
}

/* An instance of type with its slots set to values (references stolen;
 * NULL in values: an error already raised, the instance is not made). */
static PyObject *make(PyTypeObject *type, const Py_ssize_t *offsets, PyObject **values, int n) {
    int bad = 0;
    for (int i = 0; i < n; i++)
        bad |= values[i] == NULL;
    PyObject *obj = bad ? NULL : type->tp_alloc(type, 0);
    if (!obj) {
        for (int i = 0; i < n; i++)
            Py_XDECREF(values[i]);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        *(PyObject **)((char *)obj + offsets[i]) = values[i];
    return obj;
}

/* int(text[a:b], 16) of ASCII hex digits. */
static PyObject *hex_int(int kind, const void *data, Py_ssize_t a, Py_ssize_t b) {
    if (b - a <= 16) {  /* 64 bits: the addresses and arguments of a 64-bit stack */
        unsigned long long v = 0;
        for (Py_ssize_t i = a; i < b; i++) {
            Py_UCS4 c = READ(i);
            v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        return PyLong_FromUnsignedLongLong(v);
    }
    char buf[64], *s = b - a < (Py_ssize_t)sizeof buf ? buf : PyMem_Malloc(b - a + 1);
    if (!s)
        return PyErr_NoMemory();
    for (Py_ssize_t i = a; i < b; i++)
        s[i - a] = (char)READ(i);
    s[b - a] = 0;
    PyObject *v = PyLong_FromString(s, NULL, 16);
    if (s != buf)
        PyMem_Free(s);
    return v;
}

/* ---- the plain frame (stack.PLAIN_FRAME_BODY), with its backtracking ----
 * Every run of blanks and of digits in the pattern is possessive; what is
 * left to try again is the return address (there or not), how many of the
 * two argument groups there are, and inside a group its leading colon, how
 * many of its three further words and its trailing colon, in the order
 * the regex engine tries them (the longest first). */
typedef struct {
    int kind;
    const void *data;
    Py_ssize_t end;  /* the line's end (a line break or the walk's stop) */
} Line;

#define LREAD(L, i) PyUnicode_READ((L)->kind, (L)->data, (i))

static inline Py_ssize_t blanks(const Line *L, Py_ssize_t p) {
    while (p < L->end && LREAD(L, p) == ' ')
        p++;
    return p;
}

/* HEX{8,17}+ at p: where it ends, or -1. */
static inline Py_ssize_t word(const Line *L, Py_ssize_t p) {
    Py_ssize_t q = p;
    while (q < L->end && q - p < 17 && is_hex(LREAD(L, q)))
        q++;
    return q - p >= 8 ? q : -1;
}

/* [ ]++WORD at p: where it ends, or -1. */
static inline Py_ssize_t blank_word(const Line *L, Py_ssize_t p) {
    if (p >= L->end || LREAD(L, p) != ' ')
        return -1;
    return word(L, blanks(L, p));
}

/* Where MODULE_START[\w.$~-]*+ (without "~": [\w.$-]*+) matched at a
 * ends, within b; -1: no match. */
static Py_ssize_t module_end(int kind, const void *data, Py_ssize_t a, Py_ssize_t b, int tilde) {
    if (a >= b)
        return -1;
    Py_UCS4 c0 = READ(a);
    Py_ssize_t q = a + 1;
    if (c0 >= '0' && c0 <= '9') {
        /* (?!0[xX])[0-9][0-9a-fA-F]*+[g-zG-Z_] */
        if (c0 == '0' && q < b && (READ(q) | 0x20) == 'x')
            return -1;
        while (q < b && is_hex(READ(q)))
            q++;
        if (q >= b)
            return -1;
        Py_UCS4 g = READ(q);
        if (!((g >= 'g' && g <= 'z') || (g >= 'G' && g <= 'Z') || g == '_'))
            return -1;
        q++;
    } else if (!(is_alpha(c0) || c0 == '_')) {
        return -1;
    }
    for (; q < b; q++) {
        Py_UCS4 c = READ(q);
        if (!(is_word(c) || c == '.' || c == '$' || c == '-' || (tilde && c == '~')))
            break;
    }
    return q;
}

typedef struct {
    Py_ssize_t mod_a, mod_b, fn_a, fn_b, off_a, off_b;
} Site;

/* [ ]++(?=[\w.$~-]*+[!+])(MODULE_START[\w.$~-]*+)(?:!([A-Za-z_?@$][\w@?$]*+))?
 * (?:\+0x(HEX++))?[ ]*+(?![^\n]) at p. */
static int site(const Line *L, Py_ssize_t p, Site *s) {
    if (p >= L->end || LREAD(L, p) != ' ')
        return 0;
    Py_ssize_t m = blanks(L, p), q = m;
    for (; q < L->end; q++) {
        Py_UCS4 c = LREAD(L, q);
        if (!(is_word(c) || c == '.' || c == '$' || c == '~' || c == '-'))
            break;
    }
    if (q >= L->end)
        return 0;
    Py_UCS4 after = LREAD(L, q);
    if (after != '!' && after != '+')
        return 0;
    if (m >= q || module_end(L->kind, L->data, m, q, 1) != q)  /* MODULE_START, and the run is the name */
        return 0;
    s->mod_a = m;
    s->mod_b = q;
    s->fn_a = s->fn_b = s->off_a = s->off_b = -1;
    Py_ssize_t r = q;
    if (after == '!') {
        if (r + 1 >= L->end)
            return 0;
        Py_UCS4 f = LREAD(L, r + 1);
        if (!(is_alpha(f) || f == '_' || f == '?' || f == '@' || f == '$'))
            return 0;  /* without the function the "!" stays, and no line ends at it */
        s->fn_a = r + 1;
        r += 2;
        while (r < L->end) {
            Py_UCS4 c = LREAD(L, r);
            if (!(is_word(c) || c == '@' || c == '?' || c == '$'))
                break;
            r++;
        }
        s->fn_b = r;
    }
    if (r + 3 < L->end && LREAD(L, r) == '+' && LREAD(L, r + 1) == '0' && LREAD(L, r + 2) == 'x'
        && is_hex(LREAD(L, r + 3))) {
        s->off_a = r + 3;
        r += 3;
        while (r < L->end && is_hex(LREAD(L, r)))
            r++;
        s->off_b = r;
    }
    r = blanks(L, r);
    return r == L->end;
}

typedef struct {
    Py_ssize_t idx_a, idx_b, sp_a, sp_b, ret_a, ret_b, args_a, args_b;
    Site site;
} Plain;

/* One argument group at p, its way number ``way`` in the order the engine
 * tries them: where it ends, or -1 when there is no such way.
 * [ ]++(?::[ ]*+)?WORD(?:[ ]++WORD){0,3}(?:[ ]*+:)? */
static Py_ssize_t group_way(const Line *L, Py_ssize_t p, int way) {
    if (p >= L->end || LREAD(L, p) != ' ')
        return -1;
    Py_ssize_t a = blanks(L, p);
    /* ways: colon (with, without) x further words (3..0) x trailing colon (with, without) */
    int n = 0;
    for (int colon = 1; colon >= 0; colon--) {
        Py_ssize_t c = a;
        if (colon) {
            if (c >= L->end || LREAD(L, c) != ':')
                continue;
            c = blanks(L, c + 1);
        }
        Py_ssize_t w = word(L, c);
        if (w < 0)
            continue;
        Py_ssize_t ends[4] = {w, -1, -1, -1};
        int got = 0;
        while (got < 3) {
            Py_ssize_t nx = blank_word(L, ends[got]);
            if (nx < 0)
                break;
            ends[++got] = nx;
        }
        for (int k = got; k >= 0; k--) {
            Py_ssize_t e = ends[k], t = blanks(L, e);
            if (t < L->end && LREAD(L, t) == ':') {
                if (n++ == way)
                    return t + 1;
            }
            if (n++ == way)
                return e;
        }
    }
    return -1;
}

/* FRAME_ADDR_BODY's call site on one line, [ ]++(?!HEX++(?:[ ]|$))([^\s:(].*+)$
 * at p: anything to the line's end that does not open with a number alone
 * (nor a blank, a colon or a parenthesis); its start in mod_a. */
static int any_site(const Line *L, Py_ssize_t p, Site *s) {
    if (p >= L->end || LREAD(L, p) != ' ')
        return 0;
    Py_ssize_t m = blanks(L, p), h = m;
    if (m >= L->end)
        return 0;
    while (h < L->end && is_hex(LREAD(L, h)))
        h++;
    if (h > m && (h == L->end || LREAD(L, h) == ' '))
        return 0;
    Py_UCS4 c = LREAD(L, m);
    if (Py_UNICODE_ISSPACE(c) || c == ':' || c == '(')
        return 0;
    s->mod_a = m;
    s->mod_b = s->fn_a = s->fn_b = s->off_a = s->off_b = -1;
    return 1;
}

/* The argument groups from p (count done so far), then the site (a plain
 * one, or with ``any`` FRAME_ADDR_BODY's): the first way, in the engine's
 * order, that reaches the line's end. */
static int args_then_site(const Line *L, Py_ssize_t p, int count, Plain *f, int any) {
    if (count < 2) {
        for (int way = 0;; way++) {
            Py_ssize_t q = group_way(L, p, way);
            if (q < 0)
                break;
            if (args_then_site(L, q, count + 1, f, any))
                return 1;
        }
    }
    if (any ? any_site(L, p, &f->site) : site(L, p, &f->site)) {
        f->args_b = p;  /* the groups' text ends where the site starts */
        return 1;
    }
    return 0;
}

/* The numbers of a frame line at p, then its site (``any``: as
 * FRAME_ADDR_BODY takes it, else as PLAIN_FRAME_BODY does). */
static inline __attribute__((always_inline)) int frame_numbers(const Line *L, Py_ssize_t p, Plain *f, int any) {
    for (int with_idx = 1; with_idx >= 0; with_idx--) {
        Py_ssize_t a = p;
        f->idx_a = f->idx_b = -1;
        if (with_idx) {
            Py_ssize_t h = p;
            while (h < L->end && h - p < 5 && is_hex(LREAD(L, h)))
                h++;
            if (h - p < 2 || h - p > 4 || h >= L->end || LREAD(L, h) != ' ')
                continue;
            f->idx_a = p;
            f->idx_b = h;
            a = blanks(L, h);
        }
        Py_ssize_t sp = word(L, a);
        if (sp < 0)
            continue;
        f->sp_a = a;
        f->sp_b = sp;
        for (int with_ret = 1; with_ret >= 0; with_ret--) {
            Py_ssize_t r = sp;
            f->ret_a = f->ret_b = -1;
            if (with_ret) {
                r = blank_word(L, sp);
                if (r < 0)
                    continue;
                f->ret_b = r;
                f->ret_a = r;
                while (f->ret_a > sp && is_hex(LREAD(L, f->ret_a - 1)))
                    f->ret_a--;
            }
            f->args_a = r;
            f->args_b = -1;
            if (args_then_site(L, r, 0, f, any))
                return 1;
        }
    }
    return 0;
}

/* PLAIN_FRAME_BODY at p (the line's first character that is not a blank). */
static int plain_frame(const Line *L, Py_ssize_t p, Plain *f) {
    if (p + 1 >= L->end || !is_hex(LREAD(L, p)) || !is_hex(LREAD(L, p + 1)))
        return 0;
    Py_ssize_t q = p;
    while (q < L->end) {
        Py_UCS4 c = LREAD(L, q);
        if (c == '!' || c == '+')
            break;
        q++;
    }
    if (q >= L->end)
        return 0;
    return frame_numbers(L, p, f, 0);
}

/* ---- which branches of _LINE_START may match (the conservative test) ---- */

/* text[p:] starts with the str w (case folded to ASCII lower case where
 * fold is set: a character outside ASCII then counts as a match, since the
 * engine's case-insensitive comparison lets a few of them stand for ASCII
 * letters, the Kelvin sign for "k"). */
static int starts_with(int kind, const void *data, Py_ssize_t p, Py_ssize_t end, PyObject *w, int fold) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(w);
    int wkind = PyUnicode_KIND(w);
    const void *wdata = PyUnicode_DATA(w);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (p + i >= end)
            return 0;
        Py_UCS4 c = READ(p + i), x = PyUnicode_READ(wkind, wdata, i);
        if (fold) {
            if (c >= 128)
                return 1;
            if (c >= 'A' && c <= 'Z')
                c += 32;
        }
        if (c != x)
            return 0;
    }
    return 1;
}

static PyObject *LM_REST;     /* tuple: the lm detail labels after their first letter, lower case */
static PyObject *LM_FIRST;    /* str: each label's first letter, lower case */
static PyObject *DUMP_WORDS;    /* tuple: the dump kinds' first words with their blank */
static PyObject *DUMP_SECONDS;  /* tuple: for each, a word that may follow it (lower case) */

/* The opening words by their first character (all are ASCII): a line of
 * prose is compared with the few that start as it does, not with all. */
#define MAX_OPENING 256
typedef struct {
    unsigned short at[128][2];  /* first index and count in order (a count may be MAX_OPENING) */
    Py_ssize_t order[MAX_OPENING];
} OpeningIndex;
static OpeningIndex OPENING_INDEX;

/* The index of the opening words (a tuple of str that are not empty),
 * made into *ix; -1 (and nothing of the module's changed) when they are
 * not all ASCII or too many. */
static int index_opening(PyObject *opening, OpeningIndex *ix) {
    Py_ssize_t n = PyTuple_GET_SIZE(opening), k = 0;
    if (n > MAX_OPENING) {
        PyErr_SetString(PyExc_ValueError, "too many opening words");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyUnicode_READ_CHAR(PyTuple_GET_ITEM(opening, i), 0) >= 128) {
            PyErr_SetString(PyExc_ValueError, "the opening words are ASCII");
            return -1;
        }
    for (int c = 0; c < 128; c++) {
        ix->at[c][0] = (unsigned short)k;
        for (Py_ssize_t i = 0; i < n; i++)
            if (PyUnicode_READ_CHAR(PyTuple_GET_ITEM(opening, i), 0) == (Py_UCS4)c)
                ix->order[k++] = i;
        ix->at[c][1] = (unsigned short)(k - ix->at[c][0]);
    }
    return 0;
}

static int starts_with_opening(int kind, const void *data, Py_ssize_t p, Py_ssize_t e, Py_UCS4 c) {
    if (c >= 128)
        return 0;
    for (int i = OPENING_INDEX.at[c][0], end = i + OPENING_INDEX.at[c][1]; i < end; i++)
        if (starts_with(kind, data, p, e, PyTuple_GET_ITEM(OPENING, OPENING_INDEX.order[i]), 0))
            return 1;
    return 0;
}

/* A line that may open with an lm detail's label (any case; a character
 * outside ASCII counts as one that may be of it): may_match's test. */
static int lm_label_at(int kind, const void *data, Py_ssize_t p, Py_ssize_t e, Py_UCS4 c) {
    if (!is_alpha(c))
        return 0;
    Py_UCS4 l = c | 0x20;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(LM_REST); i++)
        if (PyUnicode_READ_CHAR(LM_FIRST, i) == l && starts_with(kind, data, p + 1, e, PyTuple_GET_ITEM(LM_REST, i), 1))
            return 1;
    return 0;
}

/* Whether some branch other than those read here may match the line whose
 * first character that is not a blank is c, at p: 0 none, 2 the numbers
 * branch (whose look at the next line the pattern makes), 1 another. */
static int may_match(int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e, Py_UCS4 c) {
    if (c == '*' || c == '#') {
        for (Py_ssize_t q = p + 1; q < e; q++) {
            Py_UCS4 d = READ(q);
            if (d != '*' && d != '#' && d != ' ')
                return 1;
        }
        return 0;
    }
    /* numbers: a line of hex digits, blanks and colons alone */
    if (is_hex(c) || c == ':') {
        Py_ssize_t q = p;
        while (q < e) {
            Py_UCS4 d = READ(q);
            if (!(is_hex(d) || d == ' ' || d == ':'))
                break;
            q++;
        }
        if (q == e)
            return 2;
    }
    /* (?:HEX{2,4}[ ]++)?(?:HEX{8}|[\w.$-]++(?:!|\+0x)), from p and past a short number */
    Py_ssize_t from[2] = {p, -1};
    {
        Py_ssize_t h = p;
        while (h < e && h - p < 5 && is_hex(READ(h)))
            h++;
        if (h - p >= 2 && h - p <= 4 && h < e && READ(h) == ' ') {
            while (h < e && READ(h) == ' ')
                h++;
            from[1] = h;
        }
    }
    for (int i = 0; i < 2; i++) {
        Py_ssize_t a = from[i];
        if (a < 0)
            continue;
        Py_ssize_t h = a;
        while (h < e && h - a < 8 && is_hex(READ(h)))
            h++;
        if (h - a == 8)
            return 1;
        Py_ssize_t q = a;
        while (q < e) {
            Py_UCS4 d = READ(q);
            if (!(is_word(d) || d == '.' || d == '$' || d == '-'))
                break;
            q++;
        }
        if (q > a && q < e) {
            Py_UCS4 d = READ(q);
            if (d == '!' || (d == '+' && q + 2 < e && READ(q + 1) == '0' && READ(q + 2) == 'x'))
                return 1;
        }
    }
    /* [0-9]\d*+: */
    if (c >= '0' && c <= '9') {
        Py_ssize_t q = p + 1;
        while (q < e && is_decimal(READ(q)))
            q++;
        if (q < e && READ(q) == ':')
            return 1;
    }
    if (is_upper(c)) {
        /* a bug check's name: [A-Z][A-Z0-9]*+_[A-Z0-9_]*+(?: \(|[ *]*+(?:(?![^\n])|(?<=[^\n]{MAX_LINE}))) */
        Py_ssize_t q = p + 1;
        while (q < e && (is_upper(READ(q)) || (READ(q) >= '0' && READ(q) <= '9')))
            q++;
        if (q < e && READ(q) == '_') {
            while (q < e && (is_upper(READ(q)) || (READ(q) >= '0' && READ(q) <= '9') || READ(q) == '_'))
                q++;
            if (q + 1 < e && READ(q) == ' ' && READ(q + 1) == '(')
                return 1;
            while (q < e && (READ(q) == ' ' || READ(q) == '*'))
                q++;
            if (q == e || q - s >= MAX_LINE)
                return 1;
        }
        /* a dump kind: its first word, then one of its second (in any case) */
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(DUMP_WORDS); i++) {
            PyObject *first = PyTuple_GET_ITEM(DUMP_WORDS, i);
            if (starts_with(kind, data, p, e, first, 0)
                && starts_with(kind, data, p + PyUnicode_GET_LENGTH(first), e, PyTuple_GET_ITEM(DUMP_SECONDS, i), 1))
                return 1;
        }
    }
    /* the opening words, Key, Arg, THREAD, start */
    if (starts_with_opening(kind, data, p, e, c))
        return 1;
    /* lm details: [lL](?i:oaded symbol image file) and the others */
    return lm_label_at(kind, data, p, e, c);
}

/* ---- one line ---- */

static PyObject *NOT_MODULES;  /* tuple: the names that are no module, lower case */

static PyObject *event(Py_ssize_t pos, PyObject *kind_name, PyObject *value) {
    PyObject *values[3] = {PyLong_FromSsize_t(pos), kind_name, value};
    Py_INCREF(kind_name);
    return make(EVENT_TYPE, EVENT_SLOTS, values, 3);
}

static inline PyObject *or_none(PyObject *v) {
    if (v)
        return v;
    Py_RETURN_NONE;
}

static inline Py_ssize_t find_break(int kind, const void *data, Py_ssize_t from, Py_ssize_t stop) {
    if (kind == PyUnicode_1BYTE_KIND) {
        const char *hit = from < stop ? memchr((const char *)data + from, '\n', stop - from) : NULL;
        return hit ? hit - (const char *)data : -1;
    }
    /* Wider characters: memchr for the byte of "\n", then the character
     * that byte is in (a character of another code may hold it too). */
    Py_ssize_t size = kind == PyUnicode_2BYTE_KIND ? 2 : 4;
    const char *base = data;
    for (Py_ssize_t i = from; i < stop;) {
        const char *hit = memchr(base + i * size, '\n', (size_t)((stop - i) * size));
        if (!hit)
            return -1;
        Py_ssize_t at = (hit - base) / size;
        if (PyUnicode_READ(kind, data, at) == '\n')
            return at;
        i = at + 1;
    }
    return -1;
}

/* text[a:b] stripped (str.strip()), cut to its first MAX_VALUE characters. */
static PyObject *stripped_value(PyObject *text, int kind, const void *data, Py_ssize_t a, Py_ssize_t b) {
    while (a < b && Py_UNICODE_ISSPACE(READ(a)))
        a++;
    while (b > a && Py_UNICODE_ISSPACE(READ(b - 1)))
        b--;
    if (b - a > MAX_VALUE)
        b = a + MAX_VALUE;
    return PyUnicode_Substring(text, a, b);
}

/* The event at s of kind_name whose value is (first, second): first
 * borrowed, second (NULL: an error already raised) stolen. */
static PyObject *pair_event(Py_ssize_t s, PyObject *kind_name, PyObject *first, PyObject *second) {
    if (!second)
        return NULL;
    PyObject *pair = PyTuple_Pack(2, first, second);
    Py_DECREF(second);
    return pair ? event(s, kind_name, pair) : NULL;
}

/* Where Scanner.line_from(j) ends: the line at j, cut at MAX_LINE
 * characters (j itself past the text: an empty line). */
static Py_ssize_t line_from_end(int kind, const void *data, Py_ssize_t j, Py_ssize_t n) {
    if (j >= n)
        return j;
    Py_ssize_t lim = n - j > MAX_LINE ? j + MAX_LINE : n;
    Py_ssize_t end = find_break(kind, data, j, lim);
    return end >= 0 ? end : lim;
}

/* The field line at s (its first character not a blank at p, its end e):
 * TAKEN (*made: its event), STOP, or SKIP when the field branch does not
 * match.  -1: an error. */
static int field_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e,
                      PyObject **made) {
    Py_ssize_t q = p;
    while (q < e) {
        Py_UCS4 c = READ(q);
        if (!(is_upper(c) || (c >= '0' && c <= '9') || c == '_'))
            break;
        q++;
    }
    if (q >= e || READ(q) != ':' || q == p)
        return SKIP;
    PyObject *probe = PyUnicode_Substring(text, p, q);
    if (!probe)
        return -1;
    PyObject *name = PyDict_GetItemWithError(FIELDS, probe);  /* borrowed */
    Py_DECREF(probe);
    if (!name)
        return PyErr_Occurred() ? -1 : SKIP;
    if (e - s > MAX_LINE)
        return STOP;  /* the long way reads it in pieces */
    Py_ssize_t va = q + 1;
    while (va < e && READ(va) == ' ')
        va++;
    while (va < e && Py_UNICODE_ISSPACE(READ(va)))
        va++;
    Py_ssize_t vb = e;
    while (vb > va && Py_UNICODE_ISSPACE(READ(vb - 1)))
        vb--;
    if (va == vb) {
        int next = PySet_Contains(VALUE_NEXT, name);
        if (next < 0)
            return -1;
        if (next) {
            /* "FAULTING_IP:\nnt!KiPageFault+260": the value is the next line,
             * as _take reads it (line_from past the line's end, which is not
             * taken: it is read as a line of its own too) */
            va = e + 1;
            vb = line_from_end(kind, data, va, PyUnicode_GET_LENGTH(text));
        }
    }
    *made = pair_event(s, KIND_FIELD, name, stripped_value(text, kind, data, va, vb));
    return *made ? TAKEN : -1;
}

static int not_a_module(int kind, const void *data, Py_ssize_t a, Py_ssize_t b) {
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(NOT_MODULES); i++) {
        PyObject *w = PyTuple_GET_ITEM(NOT_MODULES, i);
        if (PyUnicode_GET_LENGTH(w) == b - a && starts_with(kind, data, a, b, w, 1))
            return 1;
    }
    return 0;
}

/* The numbers of the argument groups: _ADDR.findall(args), HEX{8,17}. */
static PyObject *numbers(int kind, const void *data, Py_ssize_t a, Py_ssize_t b) {
    PyObject *list = PyList_New(0);
    Py_ssize_t i = a;
    while (list && i < b) {
        Py_ssize_t j = i;
        while (j < b && j - i < 17 && is_hex(READ(j)))
            j++;
        if (j - i >= 8) {
            PyObject *v = hex_int(kind, data, i, j);
            if (!v || PyList_Append(list, v) < 0)
                Py_CLEAR(list);
            Py_XDECREF(v);
            i = j;
        } else {
            i++;
        }
    }
    if (!list)
        return NULL;
    PyObject *t = PyList_AsTuple(list);
    Py_DECREF(list);
    return t;
}

/* The plain frame line at s: TAKEN (*made: its event, or NULL for a name
 * that is no module), STOP, or SKIP when the frame branch does not match. */
static int frame_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e,
                      PyObject **made) {
    Line L = {kind, data, e};
    Plain f;
    if (e - s > MAX_LINE)
        return STOP;  /* frame or not, the Python reader's (the long way reads it in pieces) */
    if (!plain_frame(&L, p, &f))
        return SKIP;
    for (Py_ssize_t i = f.site.mod_a; i < f.site.mod_b; i++)
        if (READ(i) >= 128)
            return STOP;  /* str.lower() of other characters is the Python reader's */
    *made = NULL;
    if (not_a_module(kind, data, f.site.mod_a, f.site.mod_b))
        return TAKEN;
    int has_ret = f.ret_a >= 0;
    PyObject *values[8] = {
        PyUnicode_Substring(text, f.site.mod_a, f.site.mod_b),
        f.site.fn_a >= 0 ? PyUnicode_Substring(text, f.site.fn_a, f.site.fn_b) : or_none(NULL),
        f.site.off_a >= 0 ? hex_int(kind, data, f.site.off_a, f.site.off_b) : or_none(NULL),
        f.idx_a >= 0 ? hex_int(kind, data, f.idx_a, f.idx_b) : or_none(NULL),
        has_ret ? hex_int(kind, data, f.sp_a, f.sp_b) : or_none(NULL),
        has_ret ? hex_int(kind, data, f.ret_a, f.ret_b) : hex_int(kind, data, f.sp_a, f.sp_b),
        or_none(NULL),
        f.args_b > f.args_a ? numbers(kind, data, f.args_a, f.args_b) : or_none(NULL),
    };
    PyObject *frame = make(FRAME_TYPE, FRAME_SLOTS, values, 8);
    if (!frame)
        return -1;
    *made = event(s, KIND_FRAME, frame);
    return *made ? TAKEN : -1;
}


static PyObject *KEYS_READ;  /* tuple: the "Key : name" names read the long way (lower case) */
static PyObject *KIND_ARG, *KIND_BAD_ARG;

static PyObject *KIND_FIELD_BUCKET, *KIND_FIELD_HASH, *KIND_FIELD_CODE;  /* the field names _key gives */

/* text[p:] starts with the C string w, as written. */
static int opens_with(int kind, const void *data, Py_ssize_t p, Py_ssize_t e, const char *w) {
    Py_ssize_t n = (Py_ssize_t)strlen(w);
    if (e - p < n)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (READ(p + i) != (Py_UCS4)w[i])
            return 0;
    return 1;
}

/* text[p:] starts with the ASCII C string w (lower case) in any case of its letters. */
static int opens_with_any_case(int kind, const void *data, Py_ssize_t p, Py_ssize_t e, const char *w) {
    Py_ssize_t n = (Py_ssize_t)strlen(w);
    if (e - p < n)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = READ(p + i);
        if (c >= 'A' && c <= 'Z')
            c += 32;
        if (c != (Py_UCS4)w[i])
            return 0;
    }
    return 1;
}

/* A "Key : name" line whose value is a fact (_KEYS_READ, its name at
 * text[na:nb], of ASCII letters, digits, "_" and "."): what _key makes of
 * it the long way.  The next line is looked at as peek() has it; when it
 * is "Value: ..." (_VALUE), it is taken with the key, and its value
 * (stripped, MAX_VALUE characters) is the failure bucket's or hash's, or
 * the bug check's code when _hex reads a number in it.  _hex is read here
 * only when what it strips down to is empty or hex digits alone (int()
 * takes more: signs, blanks, "_" between digits, other scripts' digits);
 * a value of anything else, and a name this does not know, go to Python
 * (STOP).  TAKEN: *made the event or NULL (no fact), *next past the lines taken. */
static int key_fact(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t na, Py_ssize_t nb,
                    Py_ssize_t e, PyObject **made, Py_ssize_t *next) {
    static const struct { const char *key; int which; } KEYS[] = {  /* which: 0 the code, 1 the bucket, 2 the hash */
        {"bugcheck.code.legacyapi", 0}, {"bugcheck.code.targetmodel", 0}, {"bugcheck.code.kibugcheckdata", 0},
        {"failure.bucket", 1}, {"failure.hash", 2},
    };
    int which = -1;
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0] && which < 0; i++)
        if ((Py_ssize_t)strlen(KEYS[i].key) == nb - na && opens_with_any_case(kind, data, na, nb, KEYS[i].key))
            which = KEYS[i].which;
    if (which < 0)
        return STOP;
    /* _VALUE, [ ]*+Value:[ ]*+(.*+)$, on the next line as peek() cuts it */
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), j = e + 1, pe = line_from_end(kind, data, j, n), v = j;
    while (v < pe && READ(v) == ' ')
        v++;
    if (!opens_with(kind, data, v, pe, "Value:")) {
        *next = e + 1;
        return TAKEN;  /* no Value line: the key says nothing */
    }
    v += 6;
    while (v < pe && READ(v) == ' ')
        v++;
    Py_ssize_t after = find_break(kind, data, j, n);  /* take_next */
    PyObject *value = stripped_value(text, kind, data, v, pe);
    if (!value)
        return -1;
    PyObject *name = which == 1 ? KIND_FIELD_BUCKET : which == 2 ? KIND_FIELD_HASH : KIND_FIELD_CODE;
    if (which == 0) {
        /* _hex(value) is not None: value.strip().rstrip(",").replace("`", ""), its "0x" off, int(..., 16) */
        Py_ssize_t len = PyUnicode_GET_LENGTH(value), b = len;
        int vkind = PyUnicode_KIND(value);
        const void *vdata = PyUnicode_DATA(value);
        while (b > 0 && PyUnicode_READ(vkind, vdata, b - 1) == ',')
            b--;
        /* t: value[:b] without its backticks; "0x" at t's start is dropped */
        Py_UCS4 first[2] = {0, 0};
        Py_ssize_t k = 0;
        for (Py_ssize_t i = 0; i < b && k < 2; i++) {
            Py_UCS4 c = PyUnicode_READ(vkind, vdata, i);
            if (c != '`')
                first[k++] = c;
        }
        Py_ssize_t skip = k == 2 && first[0] == '0' && (first[1] == 'x' || first[1] == 'X') ? 2 : 0, digits = 0;
        int hex = 1;
        k = 0;
        for (Py_ssize_t i = 0; i < b && hex; i++) {
            Py_UCS4 c = PyUnicode_READ(vkind, vdata, i);
            if (c == '`' || k++ < skip)
                continue;
            hex = is_hex(c);
            digits++;
        }
        if (!hex) {
            Py_DECREF(value);
            return STOP;  /* int() decides */
        }
        if (!digits) {
            Py_DECREF(value);
            *next = (after >= 0 ? after : n) + 1;
            return TAKEN;  /* nothing left of it: _hex gives None, no fact */
        }
        /* value.lower().removeprefix("0x") (ASCII: digits, commas, backticks, "0x") */
        PyObject *low = PyObject_CallMethod(value, "lower", NULL);
        Py_DECREF(value);
        if (!low)
            return -1;
        if (PyUnicode_GET_LENGTH(low) >= 2 && PyUnicode_READ_CHAR(low, 0) == '0' && PyUnicode_READ_CHAR(low, 1) == 'x') {
            value = PyUnicode_Substring(low, 2, PyUnicode_GET_LENGTH(low));
            Py_DECREF(low);
            if (!value)
                return -1;
        } else {
            value = low;
        }
    }
    *made = pair_event(s, KIND_FIELD, name, value);
    if (!*made)
        return -1;
    *next = (after >= 0 ? after : n) + 1;
    return TAKEN;
}

/* The key branch: Key[ ]++:[ ]*+([\w.]++)[ ]*+(?![^\n]) and whether a
 * "Value:" line follows; as Scanner._take reads it, a key whose value is
 * no fact is passed over with its Value line (*next: past them). */
static int key_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e, Py_ssize_t stop,
                    PyObject **made, Py_ssize_t *next) {
    if (e - p < 3 || READ(p) != 'K' || READ(p + 1) != 'e' || READ(p + 2) != 'y')
        return SKIP;
    Py_ssize_t q = p + 3;
    if (q >= e || READ(q) != ' ')
        return SKIP;
    while (q < e && READ(q) == ' ')
        q++;
    if (q >= e || READ(q) != ':')
        return SKIP;
    q++;
    while (q < e && READ(q) == ' ')
        q++;
    Py_ssize_t na = q;
    int wide = 0;
    while (q < e && (is_word(READ(q)) || READ(q) == '.')) {
        wide |= READ(q) >= 128;
        q++;
    }
    if (q == na)
        return SKIP;
    Py_ssize_t nb = q;
    while (q < e && READ(q) == ' ')
        q++;
    if (q != e)
        return SKIP;  /* the name is all the line holds */
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    if (!(e + 1 < stop || stop >= n) || e - s > MAX_LINE || wide)
        return STOP;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(KEYS_READ); i++) {
        PyObject *w = PyTuple_GET_ITEM(KEYS_READ, i);
        if (PyUnicode_GET_LENGTH(w) == nb - na && starts_with(kind, data, na, nb, w, 1))
            return key_fact(text, kind, data, s, na, nb, e, made, next);  /* its value is a fact */
    }
    *next = e + 1;
    /* (?=\n[ ]{0,MAX_LINE - 6}+Value:()): the Value line goes with it */
    if (e < stop) {
        Py_ssize_t v = e + 1, k = 0;
        while (v < stop && READ(v) == ' ' && k <= MAX_LINE - 6) {
            v++;
            k++;
        }
        static const char VALUE[] = "Value:";
        int value = k <= MAX_LINE - 6 && v + 6 <= stop;
        for (int i = 0; value && i < 6; i++)
            value = READ(v + i) == (Py_UCS4)VALUE[i];
        if (value) {
            Py_ssize_t end = find_break(kind, data, e + 1, n);
            *next = (end >= 0 ? end : n) + 1;
        }
    }
    return TAKEN;
}

/* " ".join(text[a:b].split()) */
static PyObject *single_blanks(int kind, const void *data, Py_ssize_t a, Py_ssize_t b) {
    Py_UCS4 *buf = PyMem_Malloc((b - a + 1) * sizeof(Py_UCS4));
    if (!buf)
        return PyErr_NoMemory();
    Py_ssize_t n = 0;
    int gap = 0;
    for (Py_ssize_t i = a; i < b; i++) {
        Py_UCS4 c = READ(i);
        if (Py_UNICODE_ISSPACE(c)) {
            gap = n > 0;
            continue;
        }
        if (gap) {
            buf[n++] = ' ';
            gap = 0;
        }
        buf[n++] = c;
    }
    PyObject *out = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, n);
    PyMem_Free(buf);
    return out;
}

/* The arg branch: Arg([1-4]): (HEX++)\b(?:,? ?([^\n]*+))?(?=\n(?![ ]{3})[\s\S]),
 * made as _arg_event makes it. */
/* "Arg1: " and a number at p, a word's end after it: where its digits are
 * (*da, *db) and where its meaning starts (*ma, past ",? ?"); 0 when the
 * line does not open so. */
static int arg_head(int kind, const void *data, Py_ssize_t p, Py_ssize_t e, Py_ssize_t *da, Py_ssize_t *db,
                    Py_ssize_t *ma) {
    if (e - p < 7 || READ(p) != 'A' || READ(p + 1) != 'r' || READ(p + 2) != 'g' || READ(p + 3) < '1' || READ(p + 3) > '4'
        || READ(p + 4) != ':' || READ(p + 5) != ' ' || !is_hex(READ(p + 6)))
        return 0;
    Py_ssize_t b = p + 6;
    while (b < e && is_hex(READ(b)))
        b++;
    if (b < e && is_word(READ(b)))
        return 0;  /* \b */
    *da = p + 6;
    *db = b;
    if (b < e && READ(b) == ',')
        b++;
    if (b < e && READ(b) == ' ')
        b++;
    *ma = b;
    return 1;
}

/* _arg_event's event at s for the argument of the line at p whose digits
 * are text[da:db] and whose meaning is ``meaning`` (blanks made single;
 * stolen, NULL: an error already raised): bad_arg, (number, digits[:64]),
 * when no 64-bit value holds them. */
static int arg_event(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t da,
                     Py_ssize_t db, PyObject *meaning, PyObject **made) {
    if (!meaning)
        return -1;
    Py_ssize_t lead = da;
    while (lead < db - 1 && READ(lead) == '0')
        lead++;
    long number = READ(p + 3) - '0';
    PyObject *pair;
    if (db - lead > 16) {
        Py_DECREF(meaning);
        pair = Py_BuildValue("(lN)", number, PyUnicode_Substring(text, da, db - da > 64 ? da + 64 : db));
        *made = pair ? event(s, KIND_BAD_ARG, pair) : NULL;
    } else {
        pair = Py_BuildValue("(lNN)", number, hex_int(kind, data, da, db), meaning);
        *made = pair ? event(s, KIND_ARG, pair) : NULL;
    }
    return *made ? TAKEN : -1;
}

static int arg_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e, Py_ssize_t stop,
                    PyObject **made) {
    Py_ssize_t da, db, ma;
    if (!arg_head(kind, data, p, e, &da, &db, &ma))
        return SKIP;
    /* the next line is there and does not go on with the meaning */
    if (!(e < stop && e + 1 < stop))
        return SKIP;
    if (e + 3 < stop && READ(e + 1) == ' ' && READ(e + 2) == ' ' && READ(e + 3) == ' ')
        return SKIP;
    if (e - s > MAX_LINE)
        return STOP;
    Py_ssize_t mb = e - ma > MAX_VALUE ? ma + MAX_VALUE : e;
    return arg_event(text, kind, data, s, p, da, db, single_blanks(kind, data, ma, mb), made);
}

static PyObject *KIND_NAME_CODE, *KIND_CAUSED_BY, *KIND_BUGCHECK;

/* _MODULE_NAME.fullmatch(text[a:b]) */
static int module_name(int kind, const void *data, Py_ssize_t a, Py_ssize_t b) {
    return module_end(kind, data, a, b, 1) == b;
}

/* HEX++\b at q, within b: where the digits end, or -1. */
static Py_ssize_t hex_bounded(int kind, const void *data, Py_ssize_t q, Py_ssize_t b) {
    Py_ssize_t h = q;
    while (h < b && is_hex(READ(h)))
        h++;
    return h > q && (h == b || !is_word(READ(h))) ? h : -1;
}

/* stack.parse_site's site written with blanks, text[a:b]: _SITE_SPACED
 * ("VSApiNt VSSwapShortTable+0x136d": module, function, offset) or else
 * _SITE_NEG ("nt -0x10": the module alone).  0: neither (no frame). */
static int spaced_site(int kind, const void *data, Py_ssize_t a, Py_ssize_t b, Py_ssize_t *mod_b,
                       Py_ssize_t *fn_a, Py_ssize_t *fn_b, Py_ssize_t *off_a, Py_ssize_t *off_b) {
    Py_ssize_t me = module_end(kind, data, a, b, 0), q = me;
    if (me < 0 || q >= b || READ(q) != ' ')
        return 0;
    while (q < b && READ(q) == ' ')
        q++;
    *mod_b = me;
    *fn_a = *fn_b = *off_a = *off_b = -1;
    if (q < b) {
        /* (?P<fn>[A-Za-z_?@$][\w@?$:<>~]*+)\+(?:0x)?(?P<off>HEX++)\b */
        Py_UCS4 f = READ(q);
        if (is_alpha(f) || f == '_' || f == '?' || f == '@' || f == '$') {
            Py_ssize_t r = q + 1;
            while (r < b) {
                Py_UCS4 c = READ(r);
                if (!(is_word(c) || c == '@' || c == '?' || c == '$' || c == ':' || c == '<' || c == '>' || c == '~'))
                    break;
                r++;
            }
            if (r < b && READ(r) == '+') {
                Py_ssize_t d = r + 1, h = -1;
                if (d + 1 < b && READ(d) == '0' && READ(d + 1) == 'x')
                    h = hex_bounded(kind, data, d + 2, b);
                if (h >= 0)
                    d += 2;
                else
                    h = hex_bounded(kind, data, d, b);
                if (h >= 0) {
                    *fn_a = q;
                    *fn_b = r;
                    *off_a = d;
                    *off_b = h;
                    return 1;
                }
            }
        }
        /* [ ]++-0x(HEX++)\b */
        if (q + 2 < b && READ(q) == '-' && READ(q + 1) == '0' && READ(q + 2) == 'x' && hex_bounded(kind, data, q + 3, b) >= 0)
            return 1;
    }
    return 0;
}

static int all_hex(int kind, const void *data, Py_ssize_t a, Py_ssize_t b) {
    for (Py_ssize_t q = a; q < b; q++)
        if (!is_hex(READ(q)))
            return 0;
    return b > a;
}

/* stack.parse_site of the site text[a:b] (stripped, and cut at its first
 * blank when a trailer follows: ``trailer`` 1; -1 when it is written with
 * blanks, 0 when it has none): FRAME with its parts in parts (module,
 * function, offset, address: new references or NULL), TAKEN when it is no
 * frame, LONG when the Python reader must say (the catalog knows a bare
 * name; str.lower() of other characters), -1 on an error. */
enum { FRAME = 4 };
static int parse_site_at(PyObject *text, int kind, const void *data, Py_ssize_t a, Py_ssize_t b, int trailer,
                         PyObject *parts[4]) {
    PyObject *module = NULL, *function = NULL, *offset = NULL, *address = NULL;
    if (trailer < 0) {
        Py_ssize_t mb, fa, fb, oa, ob;
        if (!spaced_site(kind, data, a, b, &mb, &fa, &fb, &oa, &ob))
            return TAKEN;  /* no frame */
        module = PyUnicode_Substring(text, a, mb);
        if (!module)
            return -1;
        if (fa >= 0) {
            function = PyUnicode_Substring(text, fa, fb);
            offset = hex_int(kind, data, oa, ob);
            if (!function || !offset) {
                Py_DECREF(module);
                Py_XDECREF(function);
                Py_XDECREF(offset);
                return -1;
            }
        }
    } else if (b - a >= 2 && READ(a) == '0' && (READ(a + 1) == 'x' || READ(a + 1) == 'X')) {
        if (!all_hex(kind, data, a + 2, b))
            return TAKEN;  /* no frame */
        address = hex_int(kind, data, a + 2, b);
        if (!address)
            return -1;
    } else {
        Py_ssize_t bang = -1, plus = -1;
        for (Py_ssize_t q = a; q < b; q++) {
            if (READ(q) == '!' && bang < 0)
                bang = q;
            if (READ(q) == '+')
                plus = q;
        }
        Py_ssize_t oa = -1;
        if (plus > bang) {
            Py_ssize_t d = plus + 1;
            if (b - d >= 2 && READ(d) == '0' && (READ(d + 1) == 'x' || READ(d + 1) == 'X'))
                d += 2;
            if (all_hex(kind, data, d, b)) {
                oa = d;
                offset = hex_int(kind, data, d, b);
                if (!offset)
                    return -1;
            }
        }
        Py_ssize_t cut = oa >= 0 ? plus : b, mb = bang > a ? bang : cut;
        for (Py_ssize_t q = a; q < mb; q++)
            if (READ(q) >= 128) {
                Py_XDECREF(offset);
                return LONG;  /* str.lower() of other characters is the Python reader's */
            }
        if (!module_name(kind, data, a, mb) || not_a_module(kind, data, a, mb)) {
            Py_XDECREF(offset);
            return TAKEN;  /* no frame */
        }
        int has_function = bang > a && cut > bang + 1;
        if (!has_function && !offset) {
            /* a bare name: with a trailer no frame, else the catalog says (Python) */
            return trailer ? TAKEN : LONG;
        }
        module = PyUnicode_Substring(text, a, mb);
        function = has_function ? PyUnicode_Substring(text, bang + 1, cut) : NULL;
        if (!module || (has_function && !function)) {
            Py_XDECREF(module);
            Py_XDECREF(offset);
            return -1;
        }
    }
    parts[0] = module;
    parts[1] = function;
    parts[2] = offset;
    parts[3] = address;
    return FRAME;
}

/* A frame line the plain frame is not (a call site with a trailer, a C++
 * name, a bare address), and the disassembly line next to it: what the long
 * way's _hex_line makes of it, when that is settled without the catalog or
 * another pattern.  The line opens with a word of hex digits (so _read's
 * test of a number holds, and none of _lower_line's words can open it:
 * each of _LM_DETAIL's has a letter past f in its first two), holds no ">"
 * or "(" (_PROMPT and _LM are not tried) and is not numbers alone.  Then
 * _FRAME (FRAME_ADDR_BODY, on the line alone) is walked as the plain frame
 * is, with its own site, and the site read as stack.parse_site reads it:
 * TAKEN with its frame, or with none (_frame handles the line either way;
 * a site written with blanks is read as _SITE_SPACED and _SITE_NEG read it).
 * No match: a line that opens with a digit or a small letter says nothing
 * (TAKEN, no event), unless it is a line of a mid-line word (``other``),
 * which _midline reads, when each further pattern _hex_line tries fails:
 * with a "." (_BARE_MODULE) or a "(" (_LM), its first two words are not
 * both numbers of 8 to 17 hex digits; with a "!" or "+0x" (_site_line:
 * _INSTRUCTION, _FRAME_SITE, each a call site alone, after a short number
 * at most), it holds three words or more.  (_PROMPT, tried with a ">",
 * fails on a line of a hex number first: it wants a digit's ":" or "kd".)
 * A frame line with a "(" or a ">" is LONG (its site is read as
 * parse_site reads one without them); any other is LONG. */
static int addr_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e,
                     int other, PyObject **made) {
    Py_ssize_t w = p;
    while (w < e && READ(w) != ' ')
        w++;
    if (w - p < 2 || !all_hex(kind, data, p, w))
        return LONG;
    int numbers_only = 1, dot_or_paren = 0, site_mark = 0, prompt_mark = 0, words = 0;
    for (Py_ssize_t q = p; q < e; q++) {
        Py_UCS4 c = READ(q);
        if (!(is_hex(c) || c == ' ' || c == ':'))
            numbers_only = 0;
        if (c == '.' || c == '(')
            dot_or_paren = 1;
        else if (c == '>')
            prompt_mark = 1;
        else if (c == '!' || (c == '+' && q + 2 < e && READ(q + 1) == '0' && READ(q + 2) == 'x'))
            site_mark = 1;
        if (c != ' ' && (q == p || READ(q - 1) == ' '))
            words++;
    }
    if (numbers_only)
        return LONG;
    Line L = {kind, data, e};
    Plain f;
    if (!frame_numbers(&L, p, &f, 1)) {
        Py_UCS4 c = READ(p);
        if (other || (c >= 'A' && c <= 'F'))
            return LONG;
        if (dot_or_paren) {
            /* _LM and _BARE_MODULE: [ ]*+(HEX{8,17})[ ]++(HEX{8,17})[ ]++ */
            Py_ssize_t a = w, b;
            while (a < e && READ(a) == ' ')
                a++;
            b = a;
            while (b < e && is_hex(READ(b)))
                b++;
            if (w - p >= 8 && w - p <= 17 && a > w && b - a >= 8 && b - a <= 17 && b < e && READ(b) == ' ')
                return LONG;
        }
        if (site_mark && words < 3)
            return LONG;
        return TAKEN;
    }
    if (dot_or_paren || prompt_mark) {
        for (Py_ssize_t q = p; q < e; q++)
            if (READ(q) == '(' || READ(q) == '>')
                return LONG;
    }
    /* parse_site(text[a:b]): stripped (it opens with no blank; no "(" to take off its end) */
    Py_ssize_t a = f.site.mod_a, b = e;
    while (b > a && Py_UNICODE_ISSPACE(READ(b - 1)))
        b--;
    int trailer = 0;
    for (Py_ssize_t q = a; q < b; q++)
        if (READ(q) == ' ') {
            Py_ssize_t r = q;
            while (r < b && Py_UNICODE_ISSPACE(READ(r)))
                r++;
            if (r < b && (READ(r) == '[' || READ(r) == '<')) {
                b = q;  /* [file @ line], <...>: the site is its first word */
                trailer = 1;
            } else {
                trailer = -1;  /* a site written with blanks */
            }
            break;
        }
    *made = NULL;
    PyObject *parts[4];
    int r = parse_site_at(text, kind, data, a, b, trailer, parts);
    if (r != FRAME)
        return r;
    int has_ret = f.ret_a >= 0;
    PyObject *values[8] = {
        or_none(parts[0]),
        or_none(parts[1]),
        or_none(parts[2]),
        f.idx_a >= 0 ? hex_int(kind, data, f.idx_a, f.idx_b) : or_none(NULL),
        has_ret ? hex_int(kind, data, f.sp_a, f.sp_b) : or_none(NULL),
        has_ret ? hex_int(kind, data, f.ret_a, f.ret_b) : hex_int(kind, data, f.sp_a, f.sp_b),
        or_none(parts[3]),
        f.args_b > f.args_a ? numbers(kind, data, f.args_a, f.args_b) : or_none(NULL),
    };
    PyObject *frame = make(FRAME_TYPE, FRAME_SLOTS, values, 8);
    if (!frame)
        return -1;
    *made = event(s, KIND_FRAME, frame);
    return *made ? TAKEN : -1;
}

/* hex digits from a, 1 to 8 of them, then ")": (HEX{1,8})\) ; *b: where
 * the digits end. */
static int hex_then_paren(int kind, const void *data, Py_ssize_t a, Py_ssize_t e, Py_ssize_t *b) {
    Py_ssize_t q = a;
    while (q < e && q - a <= 8 && is_hex(READ(q)))
        q++;
    if (q == a || q - a > 8 || q >= e || READ(q) != ')')
        return 0;
    *b = q;
    return 1;
}

/* What the long way (Scanner._read) makes of the two commonest lines it is
 * sent, read here when a line is exactly of their shape; LONG otherwise.
 *   - A bug check's name and code, "DRIVER_IRQL_NOT_LESS_OR_EQUAL (d1)":
 *     _upper_line's _NAME_CODE, [A-Z][A-Z0-9_]{3,80} \((?:0x)?(HEX{1,8})\)[ *]*+$.
 *     Only a name holding a "_": before _NAME_CODE, _upper_line looks the
 *     line's first word up in its tables of words (none of which holds a
 *     "_", tests/test_native.py), and tries _NAME_CODE only on a line with
 *     a "_"; _FIELD cannot match (the name is followed by a blank), and
 *     _read's test of a number first fails on a word with a "_".
 *   - "Probably caused by : x": _UPPER_WORDS["Probably"], _CAUSED_BY,
 *     Probably caused by ?: ?(.++)$, its value stripped (_FIELD cannot
 *     match a line whose second letter is small).
 * Either way the line is handled, so _read looks for nothing mid-line; a
 * line holding a mid-line word never reaches the walk (it stops before). */
static PyObject *KIND_BANNER, *KIND_PROMPT;

/* The ASCII word w in text[a:b]. */
static int holds(int kind, const void *data, Py_ssize_t a, Py_ssize_t b, const char *w) {
    Py_ssize_t n = (Py_ssize_t)strlen(w);
    for (Py_ssize_t q = a; q + n <= b; q++) {
        Py_ssize_t i = 0;
        while (i < n && READ(q + i) == (Py_UCS4)w[i])
            i++;
        if (i == n)
            return 1;
    }
    return 0;
}

/* A line of stars or hashes with more in it (the walk passes over those
 * of stars, hashes and blanks alone): _star_line's reading.  A banner
 * ("*   Bugcheck Analysis   *") is one whatever else the line holds; a
 * line of hashes whose first other characters are a capital letter and a
 * capital, a digit or "_" may be a bug check's name (_NAME_CODE, _NAME_ONLY), and one with "Fatal System
 * Error" a bug check: LONG.  Any other says nothing (TAKEN), unless it is
 * a line of a mid-line word (``other``), which _midline reads. */
static int star_line(int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e, Py_UCS4 c, int other,
                     PyObject **made) {
    if (holds(kind, data, p, e, "ugcheck Analysis") || holds(kind, data, p, e, "UGCHECK ANALYSIS")) {
        Py_INCREF(Py_None);
        *made = event(s, KIND_BANNER, Py_None);
        return *made ? TAKEN : -1;
    }
    if (c == '#') {
        Py_ssize_t q = p;
        while (q < e && (READ(q) == ' ' || READ(q) == '#' || READ(q) == '*'))
            q++;
        /* both names go on with a capital, a digit or "_" ([A-Z][A-Z0-9_]{3,80}, [A-Z][A-Z0-9]++) */
        if (q + 1 < e && is_upper(READ(q)) && (is_upper(READ(q + 1)) || (READ(q + 1) >= '0' && READ(q + 1) <= '9')
                                               || READ(q + 1) == '_'))
            return LONG;
    }
    if (other || holds(kind, data, p, e, "Fatal System Error"))
        return LONG;
    return TAKEN;
}

/* The event of the line at s whose value is text[a:b] stripped (str.strip()). */
static int stripped_event(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t a, Py_ssize_t b,
                          PyObject *kind_name, PyObject **made) {
    while (a < b && Py_UNICODE_ISSPACE(READ(a)))
        a++;
    while (b > a && Py_UNICODE_ISSPACE(READ(b - 1)))
        b--;
    PyObject *value = PyUnicode_Substring(text, a, b);
    *made = value ? event(s, kind_name, value) : NULL;
    return *made ? TAKEN : -1;
}

/* A prompt, "0: kd> !analyze -v": _PROMPT, [ ]*+(?:\d++: )?(?:l?kd|\d++:\d++(?::\w++)?)> ?(.*+)$,
 * its command stripped (what _hex_line and _lower_line make of a line
 * opening with a digit, "kd" or "lkd" that has a ">": the first thing each
 * tries).  LONG: no prompt. */
static int prompt_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e,
                       PyObject **made) {
    Py_ssize_t starts[2] = {-1, p};
    {
        Py_ssize_t q = p;
        while (q < e && is_decimal(READ(q)))
            q++;
        if (q > p && q + 1 < e && READ(q) == ':' && READ(q + 1) == ' ')
            starts[0] = q + 2;
    }
    for (int i = 0; i < 2; i++) {
        Py_ssize_t q = starts[i], gt[2] = {-1, -1};
        if (q < 0)
            continue;
        if (q + 2 < e && READ(q) == 'l' && READ(q + 1) == 'k' && READ(q + 2) == 'd')
            gt[0] = q + 3;
        else if (q + 1 < e && READ(q) == 'k' && READ(q + 1) == 'd')
            gt[0] = q + 2;
        else {
            Py_ssize_t d = q;
            while (d < e && is_decimal(READ(d)))
                d++;
            if (d == q || d >= e || READ(d) != ':')
                continue;
            Py_ssize_t d2 = d + 1;
            while (d2 < e && is_decimal(READ(d2)))
                d2++;
            if (d2 == d + 1)
                continue;
            gt[1] = d2;  /* without the (?::\w++) */
            if (d2 + 1 < e && READ(d2) == ':' && is_word(READ(d2 + 1))) {
                Py_ssize_t w = d2 + 1;
                while (w < e && is_word(READ(w)))
                    w++;
                gt[0] = w;
            }
        }
        for (int k = 0; k < 2; k++) {
            Py_ssize_t g = gt[k];
            if (g < 0 || g >= e || READ(g) != '>')
                continue;
            return stripped_event(text, kind, data, s, g + 1, e, KIND_PROMPT, made);
        }
    }
    return LONG;
}

/* "Probably caused by : x" (see long_way_line). */
static int caused_by_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e,
                          PyObject **made) {
    static const char CAUSED[] = "Probably caused by";
    Py_ssize_t q = p, n = (Py_ssize_t)sizeof CAUSED - 1;
    if (e - p < n)
        return LONG;
    for (Py_ssize_t i = 0; i < n; i++)
        if (READ(p + i) != (Py_UCS4)CAUSED[i])
            return LONG;
    q = p + n;
    if (q < e && READ(q) == ' ')
        q++;
    if (q >= e || READ(q) != ':')
        return LONG;
    q++;  /* " ?(.++)": at least one character, and the value is stripped either way */
    if (q >= e)
        return LONG;
    return stripped_event(text, kind, data, s, q, e, KIND_CAUSED_BY, made);
}

/* "DRIVER_IRQL_NOT_LESS_OR_EQUAL (d1)" (see long_way_line). */
static int name_code_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e,
                          PyObject **made) {
    Py_ssize_t q = p + 1;
    int under = 0;
    while (q < e && (is_upper(READ(q)) || (READ(q) >= '0' && READ(q) <= '9') || READ(q) == '_')) {
        under |= READ(q) == '_';
        q++;
    }
    if (!under || q - p < 4 || q - p > 81 || q + 1 >= e || READ(q) != ' ' || READ(q + 1) != '(')
        return LONG;
    Py_ssize_t h = q + 2, ha, hb;
    if (h + 1 < e && READ(h) == '0' && READ(h + 1) == 'x' && hex_then_paren(kind, data, h + 2, e, &hb))
        ha = h + 2;
    else if (hex_then_paren(kind, data, h, e, &hb))
        ha = h;
    else
        return LONG;
    Py_ssize_t t = hb + 1;
    while (t < e && (READ(t) == ' ' || READ(t) == '*'))
        t++;
    if (t != e)
        return LONG;
    PyObject *pair = Py_BuildValue("(NN)", PyUnicode_Substring(text, p, q), hex_int(kind, data, ha, hb));
    *made = pair ? event(s, KIND_NAME_CODE, pair) : NULL;
    return *made ? TAKEN : -1;
}

static PyObject *KIND_INSTRUCTION;

/* A call site alone on its line ("nt!KeBugCheckEx+0x107", a frame of kc;
 * "nt!DbgBreakPointWithStatus:", where an instruction is), opening with a
 * letter: what _site_line makes of it, _INSTRUCTION and then
 * _FRAME_SITE (without a frame number) read as the patterns do and the
 * site as parse_site reads it.  _site_line is what such a line comes to:
 * it is no field (the module is followed by "!" or "+"), none of
 * _upper_line's words or names, and no number (_read's test of one fails
 * on its "!" or "+0x"); _lower_line's prompt, lm header and lm detail
 * cannot be it (no ">", not "start", and an lm detail's label would be
 * followed by a blank or a colon).  TAKEN (with the instruction, the
 * frame, or nothing: _site_line handles the line), or LONG. */
static int site_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e,
                     PyObject **made) {
    Py_ssize_t w = p;
    while (w < e && !Py_UNICODE_ISSPACE(READ(w)))
        w++;
    for (Py_ssize_t q = w; q < e; q++)
        if (READ(q) != ' ')
            return LONG;  /* one word, then blanks */
    if (holds(kind, data, p, w, ">") || holds(kind, data, p, w, "start"))
        return LONG;
    Py_ssize_t me = module_end(kind, data, p, w, 0), end, q;
    if (me < 0 || me >= w)
        return LONG;
    if (READ(me) == '!') {
        q = me + 1;  /* [^\s:]++ (the word holds no blank) */
        while (q < w && READ(q) != ':')
            q++;
        if (q == me + 1)
            return LONG;
    } else if (me + 3 < w && READ(me + 1) == '0' && READ(me + 2) == 'x' && READ(me) == '+' && is_hex(READ(me + 3))) {
        q = me + 3;  /* \+0xHEX++ */
        while (q < w && is_hex(READ(q)))
            q++;
    } else {
        return LONG;
    }
    if (q == w - 1 && READ(q) == ':') {  /* _INSTRUCTION: the site, ":" and the line's end */
        PyObject *site = PyUnicode_Substring(text, p, q);
        *made = site ? event(s, KIND_INSTRUCTION, site) : NULL;
        return *made ? TAKEN : -1;
    }
    if (q != w)
        return LONG;  /* neither pattern matches */
    end = w;
    while (end > p && READ(end - 1) == '(')  /* parse_site: kP opens the parameter list on the frame line */
        end--;
    *made = NULL;
    if (end == p)
        return TAKEN;
    PyObject *parts[4];
    int r = parse_site_at(text, kind, data, p, end, 0, parts);
    if (r != FRAME)
        return r;
    PyObject *values[8] = {
        or_none(parts[0]), or_none(parts[1]), or_none(parts[2]), or_none(NULL),
        or_none(NULL), or_none(NULL), or_none(parts[3]), or_none(NULL),
    };
    PyObject *frame = make(FRAME_TYPE, FRAME_SLOTS, values, 8);
    if (!frame)
        return -1;
    *made = event(s, KIND_FRAME, frame);
    return *made ? TAKEN : -1;
}

static PyObject *KIND_LM_DETAIL;
static PyObject *LM_WORDS;  /* tuple: the first words _upper_line reads an lm detail after (_LM_DETAIL_WORDS) */

/* text[a:b] (ASCII) equals the lower-case str w in any case of its letters. */
static int ascii_fold_equal(int kind, const void *data, Py_ssize_t a, Py_ssize_t b, PyObject *w) {
    if (PyUnicode_GET_LENGTH(w) != b - a)
        return 0;
    for (Py_ssize_t i = a; i < b; i++) {
        Py_UCS4 c = READ(i);
        if (c >= 128)
            return 0;
        if (c >= 'A' && c <= 'Z')
            c += 32;
        if (c != PyUnicode_READ_CHAR(w, i - a))
            return 0;
    }
    return 1;
}

/* An lm detail, "    Image name: srvnet.sys": what _upper_line makes of a
 * line whose first word (up to a blank, as str.split() has it) is one of
 * _LM_DETAIL_WORDS, as written: none is a field (each has a small letter
 * second, which _FIELD refuses) or a word _UPPER_WORDS holds, so that
 * _lm_detail reads it: _LM_DETAIL, [ ]*+(label)[ ]*+:[ ]*+(.*+)$ in any
 * case, its label lowered and its value stripped (MAX_VALUE characters).
 * Read here when the label is in ASCII letters (the engine lets a few
 * other characters stand for some of them in any case); no label is the
 * start of another, so only one can match.  LONG: any other line. */
static int lm_detail_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e,
                          PyObject **made) {
    Py_ssize_t q = p;
    while (q < e && !Py_UNICODE_ISSPACE(READ(q)))
        q++;
    int listed = 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(LM_WORDS) && !listed; i++) {
        PyObject *w = PyTuple_GET_ITEM(LM_WORDS, i);
        listed = PyUnicode_GET_LENGTH(w) == q - p && starts_with(kind, data, p, q, w, 0);
    }
    if (!listed)
        return LONG;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(LM_REST); i++) {
        PyObject *rest = PyTuple_GET_ITEM(LM_REST, i);
        Py_ssize_t b = p + 1 + PyUnicode_GET_LENGTH(rest);
        Py_UCS4 c = READ(p);
        if (b > e || (c | 0x20) != PyUnicode_READ_CHAR(LM_FIRST, i) || !ascii_fold_equal(kind, data, p + 1, b, rest))
            continue;
        Py_ssize_t v = b;
        while (v < e && READ(v) == ' ')
            v++;
        if (v >= e || READ(v) != ':')
            return LONG;  /* (no other label starts the line) */
        v++;
        while (v < e && READ(v) == ' ')
            v++;
        PyObject *written = PyUnicode_Substring(text, p, b);  /* m[1].lower() */
        PyObject *label = written ? PyObject_CallMethod(written, "lower", NULL) : NULL;
        Py_XDECREF(written);
        if (!label)
            return -1;
        *made = pair_event(s, KIND_LM_DETAIL, label, stripped_value(text, kind, data, v, e));
        Py_DECREF(label);
        return *made ? TAKEN : -1;
    }
    return LONG;
}

static PyObject *KIND_SESSION, *KIND_UPTIME, *KIND_LOADING, *KIND_BUILT_BY, *KIND_KERNEL_VERSION, *KIND_DUMP_KIND;

/* "Windows 10 Kernel Version 19041 MP (8 procs) Free x64": _KERNEL_VERSION,
 * [ ]*+(Windows[\w .]{0,100}?) Kernel Version (\d{4,5})(.*+)$, whose event
 * is (its name stripped, the build, the rest).  The name is the shortest
 * that " Kernel Version " and four digits follow; digits of other scripts
 * (which \d and int() take) are left to Python. */
static int kernel_version(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e,
                          PyObject **made) {
    static const char MID[] = " Kernel Version ";
    Py_ssize_t a = p + 7;  /* past "Windows" */
    for (Py_ssize_t k = 0; k <= 100 && a + k <= e; k++) {
        Py_ssize_t v = a + k;
        if (opens_with(kind, data, v, e, MID)) {
            Py_ssize_t d = v + (Py_ssize_t)sizeof MID - 1, q = d;
            while (q < e && q - d < 5 && is_decimal(READ(q))) {
                if (READ(q) < '0' || READ(q) > '9')
                    return LONG;
                q++;
            }
            if (q - d >= 4) {
                Py_ssize_t na = p, nb = v;
                while (na < nb && Py_UNICODE_ISSPACE(READ(na)))
                    na++;
                while (nb > na && Py_UNICODE_ISSPACE(READ(nb - 1)))
                    nb--;
                PyObject *name = PyUnicode_Substring(text, na, nb);
                long number = 0;
                for (Py_ssize_t i = d; i < q; i++)
                    number = number * 10 + (long)(READ(i) - '0');
                PyObject *build = PyLong_FromLong(number);
                PyObject *rest = PyUnicode_Substring(text, q, e);
                PyObject *value = name && build && rest ? PyTuple_Pack(3, name, build, rest) : NULL;
                Py_XDECREF(name);
                Py_XDECREF(build);
                Py_XDECREF(rest);
                *made = value ? event(s, KIND_KERNEL_VERSION, value) : NULL;
                return *made ? TAKEN : -1;
            }
        }
        if (v >= e)
            break;
        Py_UCS4 c = READ(v);
        if (!(is_word(c) || c == ' ' || c == '.'))
            break;
    }
    return LONG;
}

/* What _upper_line makes of a line whose first word (up to a blank, as
 * str.split() has it) is one _UPPER_WORDS dispatches on with _one, of a
 * fact in the line alone, or one of _DUMP_KIND_WORDS (no word of those
 * tables is a field: each has a small letter second, which _FIELD
 * refuses; and none is a word of hex digits, which _hex_line would read):
 * "Debug session time: ...", "System Uptime: ...", "Loading Dump File
 * [...]", "Built by: ..." and "Edition build lab: ...", "Windows ...
 * Kernel Version ...", and the dump kinds ("Mini Kernel Dump File", in any
 * case, a word's end after it).  The patterns as events.py has them;
 * LONG when the line is not that fact (_upper_line goes on with it). */
static int word_fact_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e,
                          PyObject **made) {
    Py_ssize_t q = p;
    while (q < e && !Py_UNICODE_ISSPACE(READ(q)))
        q++;
    Py_ssize_t w = q - p;
    Py_UCS4 c = READ(p);
#define WORD(x) (w == (Py_ssize_t)sizeof(x) - 1 && opens_with(kind, data, p, q, x))
    /* [ ]*+Debug session time:(?=.)[ ]*+(.*+)$, [ ]*+System Uptime:(?=.)[ ]*+(.*+)$: a value of blanks still counts */
    static const char SESSION[] = "Debug session time:", UPTIME[] = "System Uptime:", LOADING[] = "Loading Dump File [";
    if ((c == 'D' && WORD("Debug")) || (c == 'S' && WORD("System"))) {
        const char *head = c == 'D' ? SESSION : UPTIME;
        Py_ssize_t a = p + (Py_ssize_t)strlen(head);
        if (!opens_with(kind, data, p, e, head) || a >= e)
            return LONG;
        return stripped_event(text, kind, data, s, a, e, c == 'D' ? KIND_SESSION : KIND_UPTIME, made);
    }
    if (c == 'L' && WORD("Loading")) {
        /* [ ]*+Loading Dump File \[([^\]\n]++)\] */
        if (!opens_with(kind, data, p, e, LOADING))
            return LONG;
        Py_ssize_t a = p + (Py_ssize_t)sizeof LOADING - 1, b = a;
        while (b < e && READ(b) != ']')
            b++;
        if (b == a || b >= e)
            return LONG;
        return stripped_event(text, kind, data, s, a, b, KIND_LOADING, made);
    }
    if ((c == 'B' && WORD("Built")) || (c == 'E' && WORD("Edition"))) {
        /* [ ]*+(?:Built by|Edition build lab):[ ]*+(\S++) */
        const char *head = c == 'B' ? "Built by:" : "Edition build lab:";
        if (!opens_with(kind, data, p, e, head))
            return LONG;
        Py_ssize_t a = p + (Py_ssize_t)strlen(head);
        while (a < e && READ(a) == ' ')
            a++;
        Py_ssize_t b = a;
        while (b < e && !Py_UNICODE_ISSPACE(READ(b)))
            b++;
        if (b == a)
            return LONG;
        PyObject *value = PyUnicode_Substring(text, a, b);
        *made = value ? event(s, KIND_BUILT_BY, value) : NULL;
        return *made ? TAKEN : -1;
    }
    if (c == 'W' && WORD("Windows"))
        return kernel_version(text, kind, data, s, p, e, made);
    if (WORD("Mini") || WORD("Kernel") || WORD("Full") || WORD("Complete") || WORD("User") || WORD("Automatic")) {
        /* [ ]*+((?:Mini Kernel|Kernel Bitmap|Kernel Summary|Kernel Complete|Full Kernel|Complete|User Mini|Automatic) Dump File)\b, any case */
        static const char *const KINDS[] = {"mini kernel", "kernel bitmap", "kernel summary", "kernel complete",
                                            "full kernel", "complete", "user mini", "automatic", NULL};
        for (int i = 0; KINDS[i]; i++) {
            Py_ssize_t n = (Py_ssize_t)strlen(KINDS[i]);
            if (!opens_with_any_case(kind, data, p, e, KINDS[i]) || !opens_with_any_case(kind, data, p + n, e, " dump file"))
                continue;
            Py_ssize_t f = p + n + 10;
            if (f < e && is_word(READ(f)))
                return LONG;  /* no word's end: the pattern fails (no other kind opens the same) */
            PyObject *value = PyUnicode_Substring(text, p, f);
            *made = value ? event(s, KIND_DUMP_KIND, value) : NULL;
            return *made ? TAKEN : -1;
        }
        return LONG;
    }
#undef WORD
    return LONG;
}

/* Whether _hex_start (events.py) takes the line whose first character
 * that is not a blank is at p: a digit first, or a word (up to a blank) of
 * two hex digits or more. */
static int hex_start(int kind, const void *data, Py_ssize_t p, Py_ssize_t e) {
    Py_UCS4 c = READ(p);
    if (c >= '0' && c <= '9')
        return 1;
    if (p + 1 >= e || !is_hex(READ(p + 1)))
        return 0;
    Py_ssize_t q = p;
    while (q < e && READ(q) != ' ') {
        if (!is_hex(READ(q)))
            return 0;
        q++;
    }
    return q - p >= 2;
}

/* A line of a small letter first that _read reads nothing in, which the
 * line pattern matches for its opening of eight hex digits (the lines of
 * !chkimg, "fffff1e056a24906-fffff1e056a24907  2 bytes - win32kfull!x+76
 * (+0x9b)") or another branch: no number opens it (_hex_start: _hex_line
 * is not tried), and _lower_line finds nothing: it does not open with
 * "start" (_LM_HEADER), "bug" (a bug check code) or an lm detail's label
 * (and _PROMPT, tried with a ">", fails: prompt_line, tried first on a
 * line of "k" or "l", has read none); with a "!" or "+0x" it holds three
 * words or more (_INSTRUCTION and _FRAME_SITE are a call site alone, after
 * a short number at most).  TAKEN with no event, unless it is a line of a
 * mid-line word (other: _midline reads it); else LONG. */
static int lower_silent_line(int kind, const void *data, Py_ssize_t p, Py_ssize_t e, Py_UCS4 c, int other) {
    if (other || !(c >= 'a' && c <= 'z') || hex_start(kind, data, p, e) || lm_label_at(kind, data, p, e, c))
        return LONG;
    if (opens_with(kind, data, p, e, "start") || opens_with(kind, data, p, e, "bug"))
        return LONG;
    int site_mark = 0, words = 0;
    for (Py_ssize_t q = p; q < e; q++) {
        Py_UCS4 d = READ(q);
        if (d == '!' || (d == '+' && q + 2 < e && READ(q + 1) == '0' && READ(q + 2) == 'x'))
            site_mark = 1;
        if (d != ' ' && (q == p || READ(q - 1) == ' '))
            words++;
    }
    return site_mark && words < 3 ? LONG : TAKEN;
}

/* An argument line whose meaning WinDbg wrapped onto the lines after it,
 * "Arg2: 0000000000000000, X64: bit 0 set if the fault was due to a\n
 * <blanks>not-present PTE.": what _arg and go_on_wrap make of it (the
 * line pattern's arg branch, which arg_line reads, wants the next line not
 * to go on with it).  _ARG is read as arg_line reads its branch (": " and
 * a number, a word's end after it); each next line (as peek() cuts it)
 * that opens with three blanks, holds more than blanks and does not open
 * with "Arg" once stripped goes on with the meaning, stripped, while the
 * meaning is shorter than MAX_VALUE, and is taken.  At the text's end the
 * Python reader decides (what comes in a block after a block that is not
 * the last); LONG then, and for any other line.  TAKEN: *next past the
 * lines taken. */
static int arg_wrap_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e,
                         PyObject **made, Py_ssize_t *next) {
    Py_ssize_t da, db, ma;
    if (!arg_head(kind, data, p, e, &da, &db, &ma))
        return LONG;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), size = e - ma, room = size + 64, nxt = e + 1;
    Py_UCS4 *meaning = PyMem_Malloc(room * sizeof(Py_UCS4));
    if (!meaning) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = ma; i < e; i++)
        meaning[i - ma] = READ(i);
    int r = TAKEN;
    for (;;) {
        if (nxt >= n) {
            r = LONG;  /* the text's end: more may come (Scanner.go_on_wrap) */
            break;
        }
        Py_ssize_t le = line_from_end(kind, data, nxt, n), a = nxt, b = le;
        if (!(le - nxt >= 3 && READ(nxt) == ' ' && READ(nxt + 1) == ' ' && READ(nxt + 2) == ' '))
            break;
        while (a < b && Py_UNICODE_ISSPACE(READ(a)))
            a++;
        while (b > a && Py_UNICODE_ISSPACE(READ(b - 1)))
            b--;
        if (a == b || (b - a >= 3 && READ(a) == 'A' && READ(a + 1) == 'r' && READ(a + 2) == 'g'))
            break;
        if (size < MAX_VALUE) {
            if (size + 1 + (b - a) > room) {
                room = 2 * (size + 1 + (b - a));
                Py_UCS4 *grown = PyMem_Realloc(meaning, room * sizeof(Py_UCS4));
                if (!grown) {
                    PyMem_Free(meaning);
                    PyErr_NoMemory();
                    return -1;
                }
                meaning = grown;
            }
            meaning[size++] = ' ';
            for (Py_ssize_t i = a; i < b; i++)
                meaning[size++] = READ(i);
        }
        Py_ssize_t f = find_break(kind, data, nxt, n);  /* take_next */
        nxt = (f >= 0 ? f : n) + 1;
    }
    if (r == TAKEN) {
        PyObject *whole = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, meaning, size < MAX_VALUE ? size : MAX_VALUE);
        PyObject *single = whole ? single_blanks(PyUnicode_KIND(whole), PyUnicode_DATA(whole), 0, PyUnicode_GET_LENGTH(whole))
                                 : NULL;
        Py_XDECREF(whole);
        r = arg_event(text, kind, data, s, p, da, db, single, made);
        *next = nxt;
    }
    PyMem_Free(meaning);
    return r;
}

static int long_way_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t p, Py_ssize_t e,
                         Py_UCS4 c, int other, PyObject **made, Py_ssize_t *next) {
    if (e - s > MAX_LINE)
        return LONG;  /* read in pieces */
    if (c == '*' || c == '#')
        return star_line(kind, data, s, p, e, c, other, made);
    int r = LONG;
    if (c == 'A')
        r = arg_wrap_line(text, kind, data, s, p, e, made, next);
    if (r == LONG && is_hex(c))
        r = addr_line(text, kind, data, s, p, e, other, made);
    if (r == LONG && ((c >= '0' && c <= '9') || c == 'k' || c == 'l'))
        r = prompt_line(text, kind, data, s, p, e, made);
    if (r == LONG && c == 'P')
        r = caused_by_line(text, kind, data, s, p, e, made);
    if (r == LONG && is_upper(c))
        r = lm_detail_line(text, kind, data, s, p, e, made);
    if (r == LONG && is_upper(c))
        r = word_fact_line(text, kind, data, s, p, e, made);
    if (r == LONG && is_upper(c))
        r = name_code_line(text, kind, data, s, p, e, made);
    if (r == LONG && is_alpha(c))  /* (a line opening with "_" is neither _upper_line's nor _lower_line's) */
        r = site_line(text, kind, data, s, p, e, made);
    if (r == LONG)
        r = lower_silent_line(kind, data, p, e, c, other);
    return r;
}

/* "BugCheck D1, {ffffc30e`e36d9010, 2, 0, fffff8068e5a1b2e}", the line of
 * a crash's arguments (a line of a mid-line word, ", {", that the walk
 * stops at): what the long way makes of it, when the line is exactly that,
 * its arguments written with hex digits, backticks, commas and blanks
 * alone; events appended to out.  Read the long way, such a line is no
 * word _upper_line dispatches on but "BugCheck" (_whocrashed_or_cmd, whose
 * patterns want "code" or "name" after it), no field, number or site (it
 * has no ":", "_", "!" or "+0x", and its second letter is no hex digit),
 * and _midline finds _BUGCHECK_LINE in it and nothing else (no "x", so no
 * "0x" of a code in prose; no word of the other mid-line facts).  Its
 * arguments are _args' words: a value, None (an empty word, or one with a
 * blank between two digits once its backticks are gone, which int()
 * refuses), or one wider than 64 bits, flagged
 * as bad_arg (the stripped word as written, 64 characters at most).
 * TAKEN, or LONG: another line. */
static int bugcheck_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t e, PyObject *out) {
    static const char HEAD[] = "BugCheck ";
    Py_ssize_t p = s, n = (Py_ssize_t)sizeof HEAD - 1;
    if (e - s > MAX_LINE)
        return LONG;
    while (p < e && READ(p) == ' ')
        p++;
    if (e - p < n)
        return LONG;
    for (Py_ssize_t i = 0; i < n; i++)
        if (READ(p + i) != (Py_UCS4)HEAD[i])
            return LONG;
    Py_ssize_t ca = p + n, cb = ca;
    while (cb < e && cb - ca <= 8 && is_hex(READ(cb)))
        cb++;
    if (cb == ca || cb - ca > 8 || cb + 2 >= e || READ(cb) != ',' || READ(cb + 1) != ' ' || READ(cb + 2) != '{')
        return LONG;
    Py_ssize_t aa = cb + 3, ab = aa;
    while (ab < e && (is_hex(READ(ab)) || READ(ab) == '`' || READ(ab) == ',' || READ(ab) == ' '))
        ab++;
    if (ab >= e || READ(ab) != '}')
        return LONG;
    for (Py_ssize_t q = ab + 1; q < e; q++)
        if (READ(q) != ' ')
            return LONG;
    PyObject *values = PyList_New(0), *bad = PyList_New(0);
    if (!values || !bad)
        goto fail;
    Py_ssize_t wa = aa;
    for (long number = 1; number <= 4 && wa <= ab; number++) {
        Py_ssize_t wb = wa;
        while (wb < ab && READ(wb) != ',')
            wb++;
        Py_ssize_t ta = wa, tb = wb;  /* the word stripped */
        while (ta < tb && READ(ta) == ' ')
            ta++;
        while (tb > ta && READ(tb - 1) == ' ')
            tb--;
        /* _hex drops the backticks after stripping the word, and int()
         * strips the blanks that leaves at its ends ("` 1" is 1): a blank
         * counts only between two digits. */
        Py_ssize_t digits = 0, significant = 0;
        int blank = 0, gap = 0;
        unsigned long long v = 0;
        for (Py_ssize_t q = ta; q < tb; q++) {
            Py_UCS4 c = READ(q);
            if (c == '`')
                continue;
            if (c == ' ') {
                gap = digits > 0;
                continue;
            }
            if (gap) {
                blank = 1;
                break;
            }
            digits++;
            if (significant || c != '0')
                significant++;
            if (significant <= 16)
                v = v * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
        }
        PyObject *value;
        if (blank || !digits) {
            value = Py_None;
            Py_INCREF(value);
        } else if (significant > 16) {
            PyObject *flag = Py_BuildValue("(lN)", number, PyUnicode_Substring(text, ta, tb - ta > 64 ? ta + 64 : tb));
            if (!flag || PyList_Append(bad, flag) < 0) {
                Py_XDECREF(flag);
                goto fail;
            }
            Py_DECREF(flag);
            value = Py_None;
            Py_INCREF(value);
        } else {
            value = PyLong_FromUnsignedLongLong(v);
        }
        if (!value || PyList_Append(values, value) < 0) {
            Py_XDECREF(value);
            goto fail;
        }
        Py_DECREF(value);
        wa = wb + 1;
    }
    PyObject *made = event(s, KIND_BUGCHECK, Py_BuildValue("(NN)", hex_int(kind, data, ca, cb), values));
    values = NULL;  /* (stolen) */
    if (!made || PyList_Append(out, made) < 0) {
        Py_XDECREF(made);
        goto fail;
    }
    Py_DECREF(made);
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(bad); i++) {
        PyObject *flag = PyList_GET_ITEM(bad, i);
        Py_INCREF(flag);
        made = event(s, KIND_BAD_ARG, flag);
        if (!made || PyList_Append(out, made) < 0) {
            Py_XDECREF(made);
            goto fail;
        }
        Py_DECREF(made);
    }
    Py_DECREF(bad);
    return TAKEN;
fail:
    Py_XDECREF(values);
    Py_XDECREF(bad);
    return -1;
}

static PyObject *KIND_MENTIONED;
static PyObject *MISSING;  /* tuple: _MISSING's phrases, lower case */

/* The lower-case ASCII str w at q in text, in any case of its letters, within b. */
static int phrase_at(int kind, const void *data, Py_ssize_t q, Py_ssize_t b, PyObject *w) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(w);
    return q + n <= b && ascii_fold_equal(kind, data, q, q + n, w);
}

/* A line of a mid-line word that _read reads for what _midline finds in
 * it alone: a line in ASCII whose opening says nothing to _read, and whose
 * mid-line words are those of _MISSING's module names, "*** WARNING:
 * Unable to verify timestamp for nvlddmkm.sys", "Unable to load image
 * \SystemRoot\system32\DRIVERS\atikmpag.sys, Win32 error 0n2", or none
 * that finds anything, "Kernel base = 0xfffff805... PsLoadedModuleList =
 * 0x...".  An opening that says nothing: stars, which _star_line reads for
 * a banner or "Fatal System Error", or hashes without a name after them
 * (_NAME_CODE, _NAME_ONLY); the word "Unable", which no table of
 * _upper_line holds, or "unable", no prompt, lm detail or bug check code;
 * and of a line no branch of the line pattern matches (passed_over: the
 * line pattern takes each line whose opening _read reads, see
 * tests/test_text_gates.py), one of a capital and a small letter (no field
 * or name; and its first word, whose table's pattern the line pattern
 * would have matched, is not "Key", whose _key takes "Key:" without its
 * blank), of a small letter, or of another character than a letter or
 * digit, none of them of hex digits first (_hex_line).  No word another
 * test of _midline looks for may be there ("ug", "UG", "Owning Process",
 * "t fault", "following module", "code" in any of its cases, which covers
 * the codes in prose too), nor a "!" or "+0x" (a call site _site_line
 * would read).  Its modules: _MISSING.finditer, a phrase in any case,
 * blanks, the path's folders (possessive), and a name of [\w.$~-] whose
 * last ".sys", ".dll" or ".exe" within 255 characters ends it; each an
 * event (appended to out).  TAKEN, or LONG: another line. */
static int midline_line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t e, int passed_over,
                        PyObject *out) {
    if (e - s > MAX_LINE)
        return LONG;
    for (Py_ssize_t q = s; q < e; q++)
        if (READ(q) >= 128)
            return LONG;
    Py_ssize_t p = s;
    while (p < e && READ(p) == ' ')
        p++;
    if (p >= e)
        return LONG;
    Py_UCS4 c = READ(p);
    int says_nothing = 0;  /* what _read reads at the line's opening is nothing */
    if (c == '*') {
        says_nothing = 1;
    } else if (c == '#') {
        Py_ssize_t q = p;
        while (q < e && (READ(q) == ' ' || READ(q) == '#' || READ(q) == '*'))
            q++;
        says_nothing = !(q + 1 < e && is_upper(READ(q))
                         && (is_upper(READ(q + 1)) || (READ(q + 1) >= '0' && READ(q + 1) <= '9') || READ(q + 1) == '_'));
    } else if (c == 'U' || c == 'u') {
        static const char WORD[] = "nable";
        Py_ssize_t q = p + 1, i = 0;
        while (WORD[i] && q < e && READ(q) == (Py_UCS4)WORD[i]) {
            q++;
            i++;
        }
        /* (_upper_line looks "Unable" up as a word; _lower_line reads any "unable...") */
        says_nothing = !WORD[i] && !(c == 'U' && q < e && !Py_UNICODE_ISSPACE(READ(q)));
    }
    if (!says_nothing && passed_over) {
        if (is_upper(c))
            says_nothing = p + 1 < e && READ(p + 1) >= 'a' && READ(p + 1) <= 'z' && !hex_start(kind, data, p, e)
                           && !(opens_with(kind, data, p, e, "Key") && (p + 3 == e || Py_UNICODE_ISSPACE(READ(p + 3))));
        else if (c >= 'a' && c <= 'z')
            says_nothing = !hex_start(kind, data, p, e);
        else
            says_nothing = !(c >= '0' && c <= '9');
    }
    if (!says_nothing)
        return LONG;
    /* The words of _midline's other tests, "!" and "+0x": one pass, each
     * word tried where its first character is. */
    for (Py_ssize_t q = s; q < e; q++) {
        const char *w = NULL, *w2 = NULL;
        switch (READ(q)) {
        case '!': return LONG;
        case 'u': w = "ug"; break;
        case 'U': w = "UG"; break;
        case 'O': w = "Owning Process"; break;
        case 't': w = "t fault"; break;
        case 'f': w = "following module"; break;
        case 'c': w = "code"; break;
        case 'C': w = "Code"; w2 = "CODE"; break;
        case 'F': w = "Fatal System Error"; break;
        case '+': w = "+0x"; break;
        default: continue;
        }
        if (opens_with(kind, data, q, e, w) || (w2 && opens_with(kind, data, q, e, w2)))
            return LONG;
    }
    Py_ssize_t q = s;
    while (q < e) {
        PyObject *phrase = NULL;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(MISSING) && !phrase; i++)
            if (phrase_at(kind, data, q, e, PyTuple_GET_ITEM(MISSING, i)))
                phrase = PyTuple_GET_ITEM(MISSING, i);
        if (!phrase) {
            q++;
            continue;
        }
        Py_ssize_t r = q + PyUnicode_GET_LENGTH(phrase), blanks_from = r;
        while (r < e && READ(r) == ' ')
            r++;
        Py_ssize_t found = -1, name = r;
        if (r > blanks_from) {
            /* (?:[^\s\\]*+\\)*+ */
            for (;;) {
                Py_ssize_t t = name;
                while (t < e && READ(t) != '\\' && !Py_UNICODE_ISSPACE(READ(t)))
                    t++;
                if (t < e && READ(t) == '\\')
                    name = t + 1;
                else
                    break;
            }
            /* ([\w.$~-]{1,255}\.(?:sys|dll|exe)): the longest run, given back from its end */
            Py_ssize_t run = 0;
            while (name + run < e && run < 255) {
                Py_UCS4 d = READ(name + run);
                if (!(is_word(d) || d == '.' || d == '$' || d == '~' || d == '-'))
                    break;
                run++;
            }
            for (Py_ssize_t k = run; k >= 1 && found < 0; k--) {
                Py_ssize_t dot = name + k;
                if (dot + 4 <= e && READ(dot) == '.') {
                    char ext[4];
                    for (int i = 0; i < 3; i++) {
                        Py_UCS4 d = READ(dot + 1 + i);
                        ext[i] = (char)(d >= 'A' && d <= 'Z' ? d + 32 : d);
                    }
                    ext[3] = 0;
                    if (!strcmp(ext, "sys") || !strcmp(ext, "dll") || !strcmp(ext, "exe"))
                        found = dot + 4;
                }
            }
        }
        if (found < 0) {
            q++;
            continue;
        }
        PyObject *module = PyUnicode_Substring(text, name, found);
        PyObject *made = module ? event(s, KIND_MENTIONED, module) : NULL;
        if (!made)
            return -1;
        int bad = PyList_Append(out, made);
        Py_DECREF(made);
        if (bad < 0)
            return -1;
        q = found;
    }
    return TAKEN;
}

/* The line at s, up to e (a line break or the walk's stop): *next is
 * where the reading goes on when it is TAKEN. */
static int line(PyObject *text, int kind, const void *data, Py_ssize_t s, Py_ssize_t e, Py_ssize_t stop, int other,
                PyObject **made, Py_ssize_t *next) {
    *made = NULL;
    *next = e + 1;
    Py_ssize_t p = s;
    while (p < e && READ(p) == ' ')
        p++;
    if (p >= e)
        return SKIP;  /* (?=[!-~]) after the blanks */
    Py_UCS4 c = READ(p);
    if (c < '!' || c > '~')
        return SKIP;
    /* The branches in the pattern's order where they could overlap: a
     * field, a key, an argument, a plain frame. */
    int r = SKIP;
    if (is_upper(c))
        r = field_line(text, kind, data, s, p, e, made);
    if (r == SKIP && c == 'K')
        r = key_line(text, kind, data, s, p, e, stop, made, next);
    if (r == SKIP && c == 'A')
        r = arg_line(text, kind, data, s, p, e, stop, made);
    if (r == SKIP && is_hex(c))
        r = frame_line(text, kind, data, s, p, e, made);
    if (r != SKIP)
        return r;
    switch (may_match(kind, data, s, p, e, c)) {
    case 0: return SKIP;
    case 2: return STOP;
    default: return long_way_line(text, kind, data, s, p, e, c, other, made, next);
    }
}


/* The walk's tables are there, and stop is within the text. */
static int within(PyObject *text, Py_ssize_t *stop) {
    if (!EVENT_TYPE) {
        PyErr_SetString(PyExc_RuntimeError, "analysis._lines.setup() not called");
        return -1;
    }
    if (*stop > PyUnicode_GET_LENGTH(text))
        *stop = PyUnicode_GET_LENGTH(text);
    return 0;
}

/* scan(text, pos, bound, stop, cursor, out) -> (s, cursor, long_way).
 * The lines that start after a line break at pos - 1 or later and before
 * stop, from the first at or past cursor: each the Python reader would
 * match and read whole (a field, a plain frame, an argument, a key) is read
 * here (its event appended to out, cursor past it), each no branch can
 * match passed over.  Returns at the first line left to the Python reader
 * (long_way: it is none of the shapes the pattern reads whole, and goes to
 * Scanner._read without the pattern), or the first at or past bound (the
 * next line a mid-line word is in), with its start; or stop when no such
 * line is left.  long_way is 0 or 1 (a bool), or 2 when the line at bound
 * was read here (cursor is past it). */
static PyObject *scan(PyObject *self, PyObject *args) {
    PyObject *text, *out;
    Py_ssize_t pos, bound, stop, cursor;
    if (!PyArg_ParseTuple(args, "UnnnnO!", &text, &pos, &bound, &stop, &cursor, &PyList_Type, &out)
        || within(text, &stop) < 0)
        return NULL;
    if (pos < 1)
        pos = 1;
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t j = pos - 1;
    for (;;) {
        if (cursor > j + 1)  /* (not j < cursor - 1: no cursor, however negative, wraps round) */
            j = cursor - 1;  /* the lines before cursor were read with a fact before them */
        j = find_break(kind, data, j, stop);
        if (j < 0 || j + 1 >= stop)
            return Py_BuildValue("(nni)", stop, cursor, 0);
        Py_ssize_t s = j + 1;
        Py_ssize_t e = find_break(kind, data, s, stop);
        if (e < 0)
            e = stop;
        if (s >= bound) {
            /* The next line of a mid-line word (s is past the cursor).  One
             * of the shapes read here is read as Python reads it there: a
             * field, frame, argument or key line as _take reads the line
             * pattern's match (which says nothing mid-line), the long way's
             * shapes as _read reads them (each a line it has handled, so it
             * looks for nothing mid-line), and a crash's arguments.  Any
             * other is left to Python, which looks for the word. */
            PyObject *made = NULL;
            Py_ssize_t next = e + 1;
            int r = LONG;
            if (s == bound) {
                r = line(text, kind, data, s, e, stop, 1, &made, &next);
                if (r == LONG)
                    r = bugcheck_line(text, kind, data, s, e, out);
                if (r == LONG || r == SKIP)  /* (the lines no branch of the pattern matches are read the long way too) */
                    r = midline_line(text, kind, data, s, e, r == SKIP, out);
            }
            if (r < 0)
                return NULL;
            if (r != TAKEN)
                return Py_BuildValue("(nni)", s, cursor, 0);
            if (made) {
                int bad = PyList_Append(out, made);
                Py_DECREF(made);
                if (bad < 0)
                    return NULL;
            }
            return Py_BuildValue("(nni)", s, next, 2);
        }
        PyObject *made;
        Py_ssize_t next;
        int r = line(text, kind, data, s, e, stop, 0, &made, &next);
        if (r < 0)
            return NULL;
        if (r == STOP || r == LONG)
            return Py_BuildValue("(nni)", s, cursor, r == LONG);
        if (r == TAKEN) {
            if (made) {
                int bad = PyList_Append(out, made);
                Py_DECREF(made);
                if (bad < 0)
                    return NULL;
            }
            cursor = next;
        }
        j = e;
    }
}

/* classify(text, s, stop, other=False) -> (0 passed over | 1 left to Python | 2 read, event or None, where the
 * reading goes on): the walk's reading of the one line at s (other: a line of a mid-line word), for the tests. */
static PyObject *classify(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_ssize_t s, stop;
    int other = 0;
    if (!PyArg_ParseTuple(args, "Unn|p", &text, &s, &stop, &other) || within(text, &stop) < 0)
        return NULL;
    if (s < 0 || s > stop) {
        PyErr_SetString(PyExc_ValueError, "s out of the text");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t e = find_break(kind, data, s, stop);
    PyObject *made;
    Py_ssize_t next;
    int r = line(text, kind, data, s, e < 0 ? stop : e, stop, other, &made, &next);
    if (r < 0)
        return NULL;
    return Py_BuildValue("(iNn)", r, or_none(made), next);
}

/* How many of LF, CR and CR LF the code units d[0:n] hold: one loop the
 * compiler makes a vector one at -O3 (setup.py; str.count walks a text of
 * wide characters one character at a time, and is asked three times). */
#define COUNT_BREAKS(T)                                                    \
    static void count_breaks_##T(const T *d, Py_ssize_t n, Py_ssize_t *lf, Py_ssize_t *cr, Py_ssize_t *crlf) { \
        Py_ssize_t a = 0, b = 0, c = 0;                                    \
        for (Py_ssize_t i = 0; i < n; i++) {                               \
            a += d[i] == '\n';                                             \
            b += d[i] == '\r';                                             \
        }                                                                  \
        if (b)                                                             \
            for (Py_ssize_t i = 0; i + 1 < n; i++)                         \
                c += (d[i] == '\r') & (d[i + 1] == '\n');                  \
        *lf = a;                                                           \
        *cr = b;                                                           \
        *crlf = c;                                                         \
    }
COUNT_BREAKS(Py_UCS1)
COUNT_BREAKS(Py_UCS2)
COUNT_BREAKS(Py_UCS4)

/* line_breaks(text) -> (LF, CR, CR LF): how many of each the text holds
 * (text.count("\n"), text.count("\r"), text.count("\r\n")). */
static PyObject *line_breaks(PyObject *self, PyObject *args) {
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text))
        return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), lf, cr, crlf;
    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: count_breaks_Py_UCS1(PyUnicode_1BYTE_DATA(text), n, &lf, &cr, &crlf); break;
    case PyUnicode_2BYTE_KIND: count_breaks_Py_UCS2(PyUnicode_2BYTE_DATA(text), n, &lf, &cr, &crlf); break;
    default: count_breaks_Py_UCS4(PyUnicode_4BYTE_DATA(text), n, &lf, &cr, &crlf); break;
    }
    return Py_BuildValue("(nnn)", lf, cr, crlf);
}

/* long_lines(text, longer) -> list: where each line of more than
 * ``longer`` characters starts (clean._reflow's lines to look at; its
 * twin, a regex of the line break and that many characters, walked every
 * character of every line). */
static PyObject *long_lines(PyObject *self, PyObject *args) {
    PyObject *text;
    Py_ssize_t longer;
    if (!PyArg_ParseTuple(args, "Un", &text, &longer))
        return NULL;
    if (longer < 0) {
        PyErr_SetString(PyExc_ValueError, "longer must not be negative");
        return NULL;
    }
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), start = 0;
    PyObject *out = PyList_New(0);
    while (out && start <= n) {
        Py_ssize_t end = find_break(kind, data, start, n);
        if (end < 0)
            end = n;
        if (end - start > longer) {
            PyObject *v = PyLong_FromSsize_t(start);
            if (!v || PyList_Append(out, v) < 0)
                Py_CLEAR(out);
            Py_XDECREF(v);
        }
        start = end + 1;
    }
    return out;
}

static int check_tuple(PyObject *value, const char *what) {
    if (!PyTuple_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s must be a tuple", what);
        return -1;
    }
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(value); i++)
        if (!PyUnicode_Check(PyTuple_GET_ITEM(value, i)) || PyUnicode_GET_LENGTH(PyTuple_GET_ITEM(value, i)) == 0) {
            PyErr_Format(PyExc_TypeError, "%s must hold str that are not empty", what);
            return -1;
        }
    return 0;
}

static void set_ref(PyObject **slot, PyObject *value) {
    Py_INCREF(value);
    Py_XSETREF(*slot, value);
}

/* setup(Event, Frame, fields, value_next, opening, lm_first, lm_rest, dump_words, dump_seconds,
 *       not_modules, keys_read, max_line, max_value): the reader's tables. */
static PyObject *setup(PyObject *self, PyObject *args) {
    PyObject *event_type, *frame_type, *fields, *value_next, *opening, *lm_first, *lm_rest, *dump_words, *dump_seconds,
        *not_modules, *keys_read, *lm_words, *missing;
    Py_ssize_t max_line, max_value;
    if (!PyArg_ParseTuple(args, "O!O!O!O!OUOOOOOOOnn", &PyType_Type, &event_type, &PyType_Type, &frame_type, &PyDict_Type,
                          &fields, &PySet_Type, &value_next, &opening, &lm_first, &lm_rest, &dump_words, &dump_seconds,
                          &not_modules, &keys_read, &lm_words, &missing, &max_line, &max_value))
        return NULL;
    static const char *event_slots[3] = {"pos", "kind", "value"};
    static const char *frame_slots[8] = {"module", "function", "offset", "index", "child_sp", "return_address",
                                         "address", "args"};
    Py_ssize_t es[3], fs[8];
    for (int i = 0; i < 3; i++)
        if (slot_offset((PyTypeObject *)event_type, event_slots[i], &es[i]) < 0)
            return NULL;
    for (int i = 0; i < 8; i++)
        if (slot_offset((PyTypeObject *)frame_type, frame_slots[i], &fs[i]) < 0)
            return NULL;
    /* Every table is checked before any is set: a setup refused leaves the
     * walk with the tables it had, not with some of each (the loops over
     * one table index the other by its length). */
    if (check_tuple(opening, "opening") < 0 || check_tuple(lm_rest, "lm_rest") < 0
        || check_tuple(dump_words, "dump_words") < 0 || check_tuple(dump_seconds, "dump_seconds") < 0
        || check_tuple(not_modules, "not_modules") < 0 || check_tuple(keys_read, "keys_read") < 0
        || check_tuple(lm_words, "lm_words") < 0 || check_tuple(missing, "missing") < 0)
        return NULL;
    if (PyTuple_GET_SIZE(dump_words) != PyTuple_GET_SIZE(dump_seconds)) {
        PyErr_SetString(PyExc_ValueError, "one second word for each dump kind's first");
        return NULL;
    }
    if (PyUnicode_GET_LENGTH(lm_first) != PyTuple_GET_SIZE(lm_rest)) {
        PyErr_SetString(PyExc_ValueError, "one first letter for each lm label");
        return NULL;
    }
    if (max_line <= 6 || max_value < 0) {
        PyErr_SetString(PyExc_ValueError, "max_line and max_value must be positive");
        return NULL;
    }
    OpeningIndex ix;
    if (index_opening(opening, &ix) < 0)
        return NULL;
    OPENING_INDEX = ix;
    set_ref(&OPENING, opening);
    set_ref(&LM_REST, lm_rest);
    set_ref(&DUMP_WORDS, dump_words);
    set_ref(&DUMP_SECONDS, dump_seconds);
    set_ref(&NOT_MODULES, not_modules);
    set_ref(&KEYS_READ, keys_read);
    set_ref(&LM_WORDS, lm_words);
    set_ref(&MISSING, missing);
    memcpy(EVENT_SLOTS, es, sizeof es);
    memcpy(FRAME_SLOTS, fs, sizeof fs);
    Py_INCREF(event_type);
    Py_XSETREF(EVENT_TYPE, (PyTypeObject *)event_type);
    Py_INCREF(frame_type);
    Py_XSETREF(FRAME_TYPE, (PyTypeObject *)frame_type);
    set_ref(&FIELDS, fields);
    set_ref(&VALUE_NEXT, value_next);
    set_ref(&LM_FIRST, lm_first);
    MAX_LINE = max_line;
    MAX_VALUE = max_value;
    Py_RETURN_NONE;
}

static PyMethodDef METHODS[] = {
    {"setup", setup, METH_VARARGS, "setup(...): the reader's tables (analysis.text.events)."},
    {"scan", scan, METH_VARARGS, "scan(text, pos, bound, stop, cursor, out) -> (line start, cursor, long way)."},
    {"classify", classify, METH_VARARGS,
     "classify(text, s, stop, other=False) -> (decision, event or None, where the reading goes on)."},
    {"long_lines", long_lines, METH_VARARGS, "long_lines(text, longer) -> the starts of the lines of more than longer characters."},
    {"line_breaks", line_breaks, METH_VARARGS, "line_breaks(text) -> (LF, CR, CR LF): how many of each the text holds."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "analysis._lines", NULL, -1, METHODS};

PyMODINIT_FUNC PyInit__lines(void) {
    KIND_FIELD = PyUnicode_InternFromString("field");
    KIND_FRAME = PyUnicode_InternFromString("frame");
    KIND_ARG = PyUnicode_InternFromString("arg");
    KIND_BAD_ARG = PyUnicode_InternFromString("bad_arg");
    KIND_NAME_CODE = PyUnicode_InternFromString("name_code");
    KIND_CAUSED_BY = PyUnicode_InternFromString("caused_by");
    KIND_BUGCHECK = PyUnicode_InternFromString("bugcheck");
    KIND_BANNER = PyUnicode_InternFromString("banner");
    KIND_PROMPT = PyUnicode_InternFromString("prompt");
    KIND_INSTRUCTION = PyUnicode_InternFromString("instruction");
    KIND_LM_DETAIL = PyUnicode_InternFromString("lm_detail");
    KIND_MENTIONED = PyUnicode_InternFromString("mentioned_module");
    KIND_SESSION = PyUnicode_InternFromString("session_time");
    KIND_UPTIME = PyUnicode_InternFromString("uptime");
    KIND_LOADING = PyUnicode_InternFromString("loading");
    KIND_BUILT_BY = PyUnicode_InternFromString("built_by");
    KIND_KERNEL_VERSION = PyUnicode_InternFromString("kernel_version");
    KIND_DUMP_KIND = PyUnicode_InternFromString("dump_kind");
    if (!KIND_SESSION || !KIND_UPTIME || !KIND_LOADING || !KIND_BUILT_BY || !KIND_KERNEL_VERSION || !KIND_DUMP_KIND)
        return NULL;
    KIND_FIELD_BUCKET = PyUnicode_InternFromString("FAILURE_BUCKET_ID");
    KIND_FIELD_HASH = PyUnicode_InternFromString("FAILURE_ID_HASH");
    KIND_FIELD_CODE = PyUnicode_InternFromString("BUGCHECK_CODE");
    if (!KIND_LM_DETAIL || !KIND_MENTIONED || !KIND_FIELD_BUCKET || !KIND_FIELD_HASH || !KIND_FIELD_CODE)
        return NULL;
    if (!KIND_FIELD || !KIND_FRAME || !KIND_ARG || !KIND_BAD_ARG || !KIND_NAME_CODE || !KIND_CAUSED_BY || !KIND_BUGCHECK
        || !KIND_BANNER || !KIND_PROMPT || !KIND_INSTRUCTION)
        return NULL;
    return PyModule_Create(&MODULE);
}
