/* What both serving kernels (_item_weights.c, _factors.c) share: reading numpy arrays, the
 * ranking order, and the answer, [(book, score, because)], with recommend.reasons' rule for the
 * reasons. */
#ifndef READCRUMBS_KERNEL_H
#define READCRUMBS_KERNEL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A C-contiguous buffer, of any shape, of `itemsize`-byte numbers whose format is one of `kinds`
 * ("ilq" integers, "bc" bytes, "f" or "d" floats), writable when asked. -1 with TypeError (or
 * the buffer protocol's error) set otherwise. */
static int get_array(PyObject *obj, Py_buffer *view, const char *kinds, Py_ssize_t itemsize, int writable,
                     const char *name) {
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, view, flags) < 0) return -1;
    const char *format = view->format ? view->format : "B";
    if (*format == '@' || *format == '=' || *format == '<') format++;
    if (view->itemsize != itemsize || format[0] == '\0' || format[1] != '\0' || strchr(kinds, format[0]) == NULL) {
        PyErr_Format(PyExc_TypeError, "%s must be an array of %zd-byte %s", name, itemsize,
                     kinds[0] == 'f' || kinds[0] == 'd' ? "floats" : "integers");
        PyBuffer_Release(view);
        view->obj = NULL;
        return -1;
    }
    return 0;
}

/* How many numbers the buffer holds, whatever its shape. */
static inline Py_ssize_t length(const Py_buffer *view) { return view->len / view->itemsize; }

/* Release the first `count` views that get_array filled (the others have no object). */
static void release(Py_buffer *views, int count) {
    for (int v = 0; v < count; v++)
        if (views[v].obj) PyBuffer_Release(&views[v]);
}

/* recommend.py's MAX_REASONS and REASON_SHARE: test_item_weights_kernel.py fails if they part. */
#define MAX_REASONS 3
#define REASON_SHARE 0.3

/* Whether book c with score s ranks above book d with score t. */
static inline int ranks_above(float s, int64_t c, float t, int64_t d) { return s > t || (s == t && c < d); }

/* Insert book c with score s into best[0..*found), the k best so far in ranking order. */
static inline void keep_best(int64_t *best, float *best_score, Py_ssize_t *found, Py_ssize_t k, int64_t c, float s) {
    Py_ssize_t at;
    if (*found < k) at = (*found)++;
    else if (ranks_above(s, c, best_score[k - 1], best[k - 1])) at = k - 1;
    else return;
    for (; at > 0 && ranks_above(s, c, best_score[at - 1], best[at - 1]); at--) {
        best_score[at] = best_score[at - 1];
        best[at] = best[at - 1];
    }
    best_score[at] = s;
    best[at] = c;
}

static PyObject *name_of(const int64_t *names, int64_t index) {
    return PyLong_FromLongLong(names ? names[index] : index);
}

/* The reasons of one shown book: the indices (into books) of its strongest favourites, at most
 * MAX_REASONS, strongest first; `row` holds each book's term (zero for dislikes). */
static Py_ssize_t reasons_of(const double *row, Py_ssize_t n, Py_ssize_t *order) {
    double total = 0.0;
    for (Py_ssize_t i = 0; i < n; i++) total += row[i];
    double threshold = REASON_SHARE * total;
    Py_ssize_t strong = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (row[i] > 0.0 && row[i] >= threshold) order[strong++] = i;
    if (strong == 0 && total > 0.0) { /* four or more even terms: the first strongest */
        Py_ssize_t best = 0;
        for (Py_ssize_t i = 1; i < n; i++)
            if (row[i] > row[best]) best = i;
        order[strong++] = best;
    }
    for (Py_ssize_t a = 1; a < strong; a++) { /* insertion sort, strongest first, ties in book order */
        Py_ssize_t moving = order[a], b = a;
        while (b > 0 && row[order[b - 1]] < row[moving]) {
            order[b] = order[b - 1];
            b--;
        }
        order[b] = moving;
    }
    return strong < MAX_REASONS ? strong : MAX_REASONS;
}

/* [(book, score, because)] for the k shown books best[j] (scores best_score[j]), named through
 * `names` (NULL: indices). terms[j * n + i] is the reader's book i's term in shown book j's score,
 * zero for a dislike; the reasons are the books[i] that reasons_of picks. NULL on an error. */
static PyObject *ranked_answer(const int64_t *best, const float *best_score, Py_ssize_t k, const float *terms,
                               const int64_t *books, Py_ssize_t n, const int64_t *names) {
    double *row = malloc(sizeof(double) * (n ? n : 1));
    Py_ssize_t *order = malloc(sizeof(Py_ssize_t) * (n ? n : 1));
    PyObject *result = row && order ? PyList_New(k) : PyErr_NoMemory();
    if (!result) goto done;
    for (Py_ssize_t j = 0; j < k; j++) {
        for (Py_ssize_t i = 0; i < n; i++) {
            float term = terms[j * n + i];
            row[i] = term > 0.0f ? (double)term : 0.0;
        }
        Py_ssize_t named = reasons_of(row, n, order);
        PyObject *because = PyList_New(named);
        PyObject *item = because ? PyTuple_New(3) : NULL;
        if (!item) {
            Py_XDECREF(because);
            Py_CLEAR(result);
            goto done;
        }
        PyList_SET_ITEM(result, j, item);
        PyTuple_SET_ITEM(item, 2, because);
        PyObject *book = name_of(names, best[j]), *score = PyFloat_FromDouble((double)best_score[j]);
        if (book) PyTuple_SET_ITEM(item, 0, book);
        if (score) PyTuple_SET_ITEM(item, 1, score);
        if (!book || !score) {
            Py_CLEAR(result);
            goto done;
        }
        for (Py_ssize_t a = 0; a < named; a++) {
            PyObject *reason = name_of(names, books[order[a]]);
            if (!reason) {
                Py_CLEAR(result);
                goto done;
            }
            PyList_SET_ITEM(because, a, reason);
        }
    }
done:
    free(row);
    free(order);
    return result;
}

#endif
