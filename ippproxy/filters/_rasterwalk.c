/*
 * _rasterwalk: skip the compressed pages of PWG raster / Apple raster (URF).
 *
 * Theory of operation
 * -------------------
 * This is the native twin of ``raster_walk.walk_page_py`` and must give
 * exactly the same results: the same end offset, the same colour verdict,
 * and on bad data the same message and byte offset.  The encoding
 * (PWG 5102.4 §4.3.5; URF uses the same line and run encoding after its
 * 32-byte page header):
 *
 *   line group := repeat byte r (the line occurs r+1 times), then runs
 *                 until ``width`` pixels are filled;
 *   run        := c < 128: the next pixel (bpp bytes) occurs c+1 times;
 *                 c > 128: 257-c literal pixels follow;
 *                 c == 128: the rest of the line is white (no pixel data).
 *
 * Pixels are never expanded.  ``walk()`` works on a window of bytes and keeps
 * its whole state (line y, pixel x, inside a line or not, colour) in a
 * struct, so it can stop before a line group or run that the window does not
 * hold entirely and resume after more bytes arrive.  Every read is checked
 * against the window end before it happens; a run spans at most
 * 1 + 128 * bpp bytes (bpp <= 8), so offsets cannot overflow.  When the
 * window ends at the true end of the data (``final``) running short is an
 * error, reported at the offset the pure-Python walker reports.
 *
 * Two entry points share ``walk()``:
 *   walk_page(buffer, pos, width, height, bpp, check_colour, threshold)
 *       -> (end, is_colour): one page of an in-memory buffer (bytes, mmap);
 *   FileWalker(fd, block_size=1 MiB): reads the file with pread() in large
 *       blocks into one reused buffer, so memory does not grow with the file
 *       (no mmap: the analysis workers run under RLIMIT_AS).  Methods:
 *       read(n) -> bytes (a page header; short at end of file), at_end(),
 *       tell(), skip_page(width, height, bpp, check_colour, threshold)
 *       -> is_colour.
 * Bad data raises RasterError(message, offset); impossible arguments raise
 * ValueError; I/O failures raise OSError.  The walk runs without the GIL.
 *
 * Colour: a pixel is colour when max(R,G,B) - min(R,G,B) > threshold, with
 * 8-bit samples at bpp 3 and the high byte of 16-bit big-endian samples at
 * bpp 6; other depths are never inspected.  Once a colour pixel is seen the
 * rest of the page is only skipped.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static PyObject *RasterError;

enum {
    OK = 0,
    NEED_MORE,          /* not final: the window ends before the next unit */
    ERR_PAGE_ENDS,      /* data ends before a line group starts */
    ERR_LINE_ENDS,      /* data ends before a run's control byte */
    ERR_RUN_ENDS,       /* data ends inside a run's pixels */
    ERR_RUN_CROSSES,    /* a run overflows the line */
    ERR_REPEAT_OVERFLOW,/* line repeats overflow the page */
    COLOUR_FOUND        /* internal: switch from the colour loop to counting */
};

typedef struct {
    long long width, height;
    int bpp, inspect, threshold;
    /* resumable state */
    long long y, x;
    int in_line, colour;
} page_state;

#define MAX_SIDE (1LL << 24)

static int
page_init(page_state *st, long long width, long long height, int bpp, int check_colour,
          int threshold)
{
    if (width <= 0 || width > MAX_SIDE || height < 0 || height > MAX_SIDE
        || bpp < 1 || bpp > 8 || threshold < 0) {
        PyErr_SetString(PyExc_ValueError, "raster walk: impossible page geometry");
        return -1;
    }
    memset(st, 0, sizeof *st);
    st->width = width;
    st->height = height;
    st->bpp = bpp;
    st->inspect = check_colour && (bpp == 3 || bpp == 6);
    st->threshold = threshold;
    return 0;
}

static int
chroma_exceeds_slow(const unsigned char *p, Py_ssize_t npix, int bpp, int threshold)
{
    /* The high byte of each sample: offsets 0,1,2 (bpp 3) or 0,2,4 (bpp 6). */
    const int step = bpp == 3 ? 1 : 2;
    for (Py_ssize_t i = 0; i < npix; i++, p += bpp) {
        int r = p[0], g = p[step], b = p[2 * step];
        int hi = r > g ? r : g, lo = r < g ? r : g;
        if (b > hi) hi = b;
        if (b < lo) lo = b;
        if (hi - lo > threshold)
            return 1;
    }
    return 0;
}

static inline int
chroma_exceeds(const unsigned char *p, Py_ssize_t npix, int bpp, int threshold)
{
    /* Fast path: a branch-free scan proves the common all-neutral run. */
    unsigned diff = 0;
    if (bpp == 3) {
        for (Py_ssize_t i = 0; i < npix; i++, p += 3)
            diff |= (unsigned)(p[0] ^ p[1]) | (unsigned)(p[1] ^ p[2]);
        p -= 3 * npix;
    } else {
        for (Py_ssize_t i = 0; i < npix; i++, p += 6)
            diff |= (unsigned)(p[0] ^ p[2]) | (unsigned)(p[2] ^ p[4]);
        p -= 6 * npix;
    }
    return diff != 0 && chroma_exceeds_slow(p, npix, bpp, threshold);
}

/* Walk buf[*pos, end).  On NEED_MORE *pos is the start of the unit that did
 * not fit; on an error it is the error's offset; on OK, the end of the page. */
static inline __attribute__((always_inline)) int
walk_generic(const unsigned char *buf, Py_ssize_t end, int final, Py_ssize_t *pos_io,
             page_state *st, const int inspect, const int bpp)
{
    Py_ssize_t pos = *pos_io;
    const long long width = st->width, height = st->height;
    long long y = st->y, x = st->x;
    int in_line = st->in_line, colour = st->colour, code = OK;

    while (in_line || y < height) {
        if (!in_line) {
            if (pos >= end) {
                code = final ? ERR_PAGE_ENDS : NEED_MORE;
                goto out;
            }
            y += (long long)buf[pos] + 1;
            pos++;
            x = 0;
            in_line = 1;
        }
        while (x < width) {
            if (pos >= end) {
                code = final ? ERR_LINE_ENDS : NEED_MORE;
                goto out;
            }
            unsigned c = buf[pos];
            Py_ssize_t n;                       /* pixels stored in this run */
            if (c < 128) {
                n = 1;
            } else if (c > 128) {
                n = 257 - (Py_ssize_t)c;
            } else {
                x = width;
                pos++;
                break;
            }
            Py_ssize_t nxt = pos + 1 + n * bpp;
            if (nxt > end) {
                code = final ? ERR_RUN_ENDS : NEED_MORE;
                goto out;
            }
            if (inspect) {
                const unsigned char *px = buf + pos + 1;
                const int step = bpp == 3 ? 1 : 2;
                if (n > 1 || ((px[0] ^ px[step]) | (px[step] ^ px[2 * step])))
                    colour = chroma_exceeds(px, n, bpp, st->threshold);
                if (colour) {       /* the verdict is in: only count from here */
                    x += c < 128 ? (long long)c + 1 : n;
                    pos = nxt;
                    code = COLOUR_FOUND;
                    goto out;
                }
            }
            x += c < 128 ? (long long)c + 1 : n;
            pos = nxt;
        }
        in_line = 0;
        if (x != width) {
            code = ERR_RUN_CROSSES;
            goto out;
        }
    }
    if (y != height)
        code = ERR_REPEAT_OVERFLOW;
out:
    *pos_io = pos;
    st->y = y;
    st->x = x;
    st->in_line = in_line;
    st->colour = colour;
    return code;
}

/* walk_generic() specialised: the compiler drops the colour test from the
 * counting loop and turns the pixel size into a constant in the colour loops. */
static int
walk(const unsigned char *buf, Py_ssize_t end, int final, Py_ssize_t *pos_io,
     page_state *st)
{
    if (st->inspect && !st->colour) {
        int code = st->bpp == 3 ? walk_generic(buf, end, final, pos_io, st, 1, 3)
                                : walk_generic(buf, end, final, pos_io, st, 1, 6);
        if (code != COLOUR_FOUND)
            return code;
    }
    return walk_generic(buf, end, final, pos_io, st, 0, st->bpp);
}

static PyObject *
raise_error(int code, const page_state *st, long long offset)
{
    char msg[160];
    switch (code) {
    case ERR_PAGE_ENDS:
        snprintf(msg, sizeof msg, "raster data ends inside a page at line %lld of %lld",
                 st->y, st->height);
        break;
    case ERR_LINE_ENDS:
        snprintf(msg, sizeof msg, "raster data ends inside a line");
        break;
    case ERR_RUN_ENDS:
        snprintf(msg, sizeof msg, "raster data ends inside a run");
        break;
    case ERR_RUN_CROSSES:
        snprintf(msg, sizeof msg, "a run crosses the end of a %lld-byte line",
                 st->width * st->bpp);
        break;
    default:
        snprintf(msg, sizeof msg, "line repeat overflows the page (%lld lines of %lld)",
                 st->y, st->height);
        break;
    }
    PyObject *args = Py_BuildValue("(sL)", msg, offset);
    if (args != NULL) {
        PyErr_SetObject(RasterError, args);
        Py_DECREF(args);
    }
    return NULL;
}

/* ---- walk_page(buffer, ...) ------------------------------------------- */

static PyObject *
walk_page(PyObject *self, PyObject *args)
{
    Py_buffer view;
    Py_ssize_t pos;
    long long width, height;
    int bpp, check_colour, threshold, code;
    page_state st;
    (void)self;

    if (!PyArg_ParseTuple(args, "y*nLLipi", &view, &pos, &width, &height, &bpp,
                          &check_colour, &threshold))
        return NULL;
    if (page_init(&st, width, height, bpp, check_colour, threshold) < 0 || pos < 0) {
        PyBuffer_Release(&view);
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_ValueError, "raster walk: negative offset");
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    code = walk((const unsigned char *)view.buf, view.len, 1, &pos, &st);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    if (code != OK)
        return raise_error(code, &st, pos);
    return Py_BuildValue("(nO)", pos, st.colour ? Py_True : Py_False);
}

/* ---- FileWalker --------------------------------------------------------- */

typedef struct {
    PyObject_HEAD
    int fd;
    int eof;            /* buf[0, len) reaches the end of the file */
    int busy;           /* a call is running without the GIL */
    unsigned char *buf;
    Py_ssize_t cap, start, len;
    long long base;     /* file offset of buf[0] */
} FileWalker;

/* Move unconsumed bytes to the front and read until the buffer is full or the
 * file ends.  Runs without the GIL; returns 0 or an errno value. */
static int
fill(FileWalker *w)
{
    if (w->start > 0) {
        memmove(w->buf, w->buf + w->start, (size_t)(w->len - w->start));
        w->base += w->start;
        w->len -= w->start;
        w->start = 0;
    }
    while (!w->eof && w->len < w->cap) {
        ssize_t n = pread(w->fd, w->buf + w->len, (size_t)(w->cap - w->len),
                          (off_t)(w->base + w->len));
        if (n < 0) {
            if (errno == EINTR)
                return EINTR;
            return errno ? errno : EIO;
        }
        if (n == 0)
            w->eof = 1;
        w->len += n;
    }
    return 0;
}

/* fill() with the GIL released; EINTR lets Python run signal handlers. */
static int
fill_py(FileWalker *w)
{
    for (;;) {
        int err;
        Py_BEGIN_ALLOW_THREADS
        err = fill(w);
        Py_END_ALLOW_THREADS
        if (err == 0)
            return 0;
        if (err == EINTR) {
            if (PyErr_CheckSignals() < 0)
                return -1;
            continue;
        }
        errno = err;
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
}

static int
enter(FileWalker *w)
{
    if (w->buf == NULL) {
        PyErr_SetString(PyExc_ValueError, "FileWalker is not initialised");
        return -1;
    }
    if (w->busy) {
        PyErr_SetString(PyExc_RuntimeError, "FileWalker used from two threads");
        return -1;
    }
    w->busy = 1;
    return 0;
}

static int
FileWalker_init(FileWalker *w, PyObject *args, PyObject *kw)
{
    static char *names[] = {"fd", "block_size", NULL};
    int fd;
    Py_ssize_t block = 1 << 20;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "i|n", names, &fd, &block))
        return -1;
    if (w->busy) {
        PyErr_SetString(PyExc_RuntimeError, "FileWalker is in use");
        return -1;
    }
    if (fd < 0 || block < 2048 || block > (1 << 28)) {
        PyErr_SetString(PyExc_ValueError, "FileWalker: bad fd or block_size");
        return -1;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);   /* a hint: larger read-ahead */
#endif
    unsigned char *buf = PyMem_RawMalloc((size_t)block);
    if (buf == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    PyMem_RawFree(w->buf);
    w->buf = buf;
    w->fd = fd;
    w->cap = block;
    w->eof = w->busy = 0;
    w->start = w->len = 0;
    w->base = 0;
    return 0;
}

static void
FileWalker_dealloc(FileWalker *w)
{
    PyMem_RawFree(w->buf);
    Py_TYPE(w)->tp_free((PyObject *)w);
}

static PyObject *
FileWalker_read(FileWalker *w, PyObject *arg)
{
    Py_ssize_t n = PyLong_AsSsize_t(arg);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (n < 0 || n > w->cap) {
        PyErr_SetString(PyExc_ValueError, "FileWalker.read: size out of range");
        return NULL;
    }
    if (enter(w) < 0)
        return NULL;
    PyObject *res = NULL;
    if (w->len - w->start >= n || fill_py(w) == 0) {
        Py_ssize_t got = w->len - w->start < n ? w->len - w->start : n;
        res = PyBytes_FromStringAndSize((const char *)w->buf + w->start, got);
        if (res != NULL)
            w->start += got;
    }
    w->busy = 0;
    return res;
}

static PyObject *
FileWalker_at_end(FileWalker *w, PyObject *unused)
{
    (void)unused;
    if (enter(w) < 0)
        return NULL;
    int err = w->len > w->start ? 0 : fill_py(w);
    w->busy = 0;
    if (err < 0)
        return NULL;
    return PyBool_FromLong(w->len == w->start);
}

static PyObject *
FileWalker_tell(FileWalker *w, PyObject *unused)
{
    (void)unused;
    return PyLong_FromLongLong(w->base + w->start);
}

static PyObject *
FileWalker_skip_page(FileWalker *w, PyObject *args)
{
    long long width, height;
    int bpp, check_colour, threshold, code;
    page_state st;

    if (!PyArg_ParseTuple(args, "LLipi", &width, &height, &bpp, &check_colour, &threshold))
        return NULL;
    if (page_init(&st, width, height, bpp, check_colour, threshold) < 0 || enter(w) < 0)
        return NULL;
    for (;;) {
        Py_ssize_t pos = w->start;
        Py_BEGIN_ALLOW_THREADS
        code = walk(w->buf, w->len, w->eof, &pos, &st);
        Py_END_ALLOW_THREADS
        w->start = pos;
        if (code != NEED_MORE)
            break;
        /* A unit is at most 1 + 128 * 8 bytes < 2048 <= cap: fill() progresses. */
        Py_ssize_t before = w->len - w->start;
        if (fill_py(w) < 0) {
            w->busy = 0;
            return NULL;
        }
        if (w->len - w->start == before && !w->eof) {
            w->busy = 0;
            PyErr_SetString(PyExc_RuntimeError, "FileWalker: no progress");
            return NULL;
        }
    }
    w->busy = 0;
    if (code != OK)
        return raise_error(code, &st, w->base + w->start);
    return PyBool_FromLong(st.colour);
}

static PyMethodDef FileWalker_methods[] = {
    {"read", (PyCFunction)FileWalker_read, METH_O,
     "read(n) -> bytes: the next n bytes (fewer at end of file)."},
    {"at_end", (PyCFunction)FileWalker_at_end, METH_NOARGS,
     "at_end() -> bool: no byte is left."},
    {"tell", (PyCFunction)FileWalker_tell, METH_NOARGS,
     "tell() -> int: the file offset of the next byte."},
    {"skip_page", (PyCFunction)FileWalker_skip_page, METH_VARARGS,
     "skip_page(width, height, bpp, check_colour, threshold) -> is_colour"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject FileWalkerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ippproxy.filters._rasterwalk.FileWalker",
    .tp_doc = "FileWalker(fd, block_size=1 MiB): walk raster pages read with pread().",
    .tp_basicsize = sizeof(FileWalker),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)FileWalker_init,
    .tp_dealloc = (destructor)FileWalker_dealloc,
    .tp_methods = FileWalker_methods,
};

/* ---- module ------------------------------------------------------------- */

static PyMethodDef methods[] = {
    {"walk_page", walk_page, METH_VARARGS,
     "walk_page(buffer, pos, width, height, bpp, check_colour, threshold) -> (end, is_colour)\n"
     "Skip one page of PWG/URF compressed raster data starting at pos."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_rasterwalk",
    "Native walker for PWG raster and URF page data (see raster_walk.py).",
    -1, methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__rasterwalk(void)
{
    if (PyType_Ready(&FileWalkerType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (RasterError == NULL) {
        RasterError = PyErr_NewExceptionWithDoc(
            "ippproxy.filters._rasterwalk.RasterError",
            "Bad raster data: args are (message, byte offset).", PyExc_ValueError, NULL);
        if (RasterError == NULL) {
            Py_DECREF(m);
            return NULL;
        }
    }
    if (PyModule_AddObjectRef(m, "RasterError", RasterError) < 0
        || PyModule_AddObjectRef(m, "FileWalker", (PyObject *)&FileWalkerType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
