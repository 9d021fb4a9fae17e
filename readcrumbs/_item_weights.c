/* One reader of an item-weight model (EASE, item-kNN, EDLAE, RP3beta), scored, ranked and
 * explained in one call: the serving path's plain case (favourites and dislikes, no genres, no
 * one-per-series), which numpy spread over some sixty calls on small arrays.
 *
 * It computes what readcrumbs/recommend.py's numpy path computes, bit for bit:
 *   - scores: sum over the reader's books b (ascending) of signal[b] * W[b], added in that order
 *     in float32, as np.add.at and scipy's CSR product add them;
 *   - ranking: the k best of the books that score above zero (hidden books excluded), score
 *     descending and book index ascending among ties, as ranking.top_k_positive ranks them;
 *   - reasons: recommend.reasons over the favourites' terms W[b, shown] (Python 3.11's sum of
 *     floats: plain double additions in order).
 * When fewer than k books score above zero, or a score is NaN, it returns None and the numpy path
 * answers (it knows how to rank zeros, ties and NaN).
 *
 * W is the CSR of readcrumbs.recommenders.neighbours.ItemWeights: indptr (n+1,) int64,
 * indices (nnz,) int32, data (nnz,) float32. Indices are checked before they are used, so a
 * corrupt artifact raises ValueError rather than reading out of bounds. The GIL is held
 * throughout (a call takes microseconds), so the module keeps no state between calls.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_kernel.h"

static PyObject *rank(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 8) {
        PyErr_SetString(PyExc_TypeError, "rank(indptr, indices, data, books, signal, hidden, k, names)");
        return NULL;
    }
    Py_buffer views[7] = {{0}};
    Py_buffer *indptr_v = &views[0], *indices_v = &views[1], *data_v = &views[2], *books_v = &views[3],
              *signal_v = &views[4], *hidden_v = &views[5], *names_v = &views[6];
    PyObject *result = NULL;
    float *scores = NULL, *best_score = NULL, *terms = NULL;
    int32_t *seen = NULL; /* per book: reached by the reader's rows, then its rank + 1 if shown */
    int64_t *touched = NULL, *best = NULL;

    Py_ssize_t k = PyLong_AsSsize_t(args[6]);
    if (k == -1 && PyErr_Occurred()) return NULL;
    if (get_array(args[0], indptr_v, "ilq", 8, 0, "indptr") < 0 || get_array(args[1], indices_v, "il", 4, 0, "indices") < 0 ||
        get_array(args[2], data_v, "f", 4, 0, "data") < 0 || get_array(args[3], books_v, "ilq", 8, 0, "books") < 0 ||
        get_array(args[4], signal_v, "f", 4, 0, "signal") < 0 || get_array(args[5], hidden_v, "ilq", 8, 0, "hidden") < 0 ||
        (args[7] != Py_None && get_array(args[7], names_v, "ilq", 8, 0, "names") < 0))
        goto done;
    const int64_t *indptr = indptr_v->buf, *books = books_v->buf, *hidden = hidden_v->buf;
    const int32_t *indices = indices_v->buf;
    const float *data = data_v->buf, *signal = signal_v->buf;
    const int64_t *names = args[7] == Py_None ? NULL : names_v->buf;
    Py_ssize_t n_books = length(indptr_v) - 1, nnz = length(indices_v), n = length(books_v);
    if (n_books < 0 || length(data_v) != nnz || length(signal_v) != n ||
        (names && length(names_v) != n_books)) {
        PyErr_SetString(PyExc_ValueError, "array lengths disagree");
        goto done;
    }
    if (k <= 0 || k > n_books || n == 0) { /* numpy answers these: nothing, or fewer than k */
        result = Py_NewRef(Py_None);
        goto done;
    }
    Py_ssize_t reached = 0; /* entries in the reader's rows */
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t b = books[i];
        if (b < 0 || b >= n_books || indptr[b] < 0 || indptr[b] > indptr[b + 1] || indptr[b + 1] > nnz) {
            PyErr_Format(PyExc_ValueError, "book %lld is not a row of the weights", (long long)b);
            goto done;
        }
        reached += indptr[b + 1] - indptr[b];
    }
    scores = calloc(n_books, sizeof(float));
    seen = calloc(n_books, sizeof(int32_t));
    touched = malloc(sizeof(int64_t) * (reached + 1));
    best = malloc(sizeof(int64_t) * k);
    best_score = malloc(sizeof(float) * k);
    if (!scores || !seen || !touched || !best || !best_score) {
        PyErr_NoMemory();
        goto done;
    }
    /* Score: each row in book order, each entry added into its book's score. */
    Py_ssize_t n_touched = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        float weight = signal[i];
        for (int64_t p = indptr[books[i]]; p < indptr[books[i] + 1]; p++) {
            int32_t c = indices[p];
            if (c < 0 || c >= n_books) {
                PyErr_Format(PyExc_ValueError, "column %d is not a book", (int)c);
                goto done;
            }
            if (!seen[c]) {
                seen[c] = 1;
                touched[n_touched++] = c;
            }
            scores[c] += weight * data[p]; /* weight 1.0f: the weight itself, exactly */
        }
    }
    for (Py_ssize_t h = 0; h < length(hidden_v); h++)
        if (hidden[h] >= 0 && hidden[h] < n_books) scores[hidden[h]] = -INFINITY;
    /* Rank: keep the k best books above zero in order, inserting each into its place. */
    Py_ssize_t found = 0;
    for (Py_ssize_t t = 0; t < n_touched; t++) {
        int64_t c = touched[t];
        float s = scores[c];
        if (isnan(s)) {
            result = Py_NewRef(Py_None);
            goto done;
        }
        if (s > 0.0f) keep_best(best, best_score, &found, k, c, s);
    }
    if (found < k) {
        result = Py_NewRef(Py_None);
        goto done;
    }
    /* Explain: terms[j * n + i] is favourite i's term in shown book j's score. `seen` now marks
     * the shown books by rank + 1, so each row is read once. */
    terms = calloc((size_t)k * n, sizeof(float));
    if (!terms) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t t = 0; t < n_touched; t++) seen[touched[t]] = 0;
    for (Py_ssize_t j = 0; j < k; j++) seen[best[j]] = (int32_t)(j + 1);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (!(signal[i] > 0.0f)) continue; /* a dislike is never a reason */
        for (int64_t p = indptr[books[i]]; p < indptr[books[i] + 1]; p++) {
            int32_t shown = seen[indices[p]];
            if (shown) terms[(shown - 1) * n + i] = signal[i] * data[p]; /* a repeated column: the last entry, as numpy's */
        }
    }
    result = ranked_answer(best, best_score, k, terms, books, n, names);
done:
    free(scores);
    free(seen);
    free(touched);
    free(best);
    free(best_score);
    free(terms);
    release(views, 7);
    return result;
}

static PyMethodDef methods[] = {
    {"rank", (PyCFunction)(void (*)(void))rank, METH_FASTCALL,
     "rank(indptr, indices, data, books, signal, hidden, k, names) -> [(book, score, because)] or None\n\n"
     "The k best books for one reader of an item-weight model, with their reasons; None when\n"
     "fewer than k books score above zero. See readcrumbs/_item_weights.c."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_item_weights", "One reader of an item-weight model, in C.",
                                    -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__item_weights(void) { return PyModule_Create(&module); }
