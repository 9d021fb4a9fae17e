/* One reader of a factor model (ALS, readcrumbs.recommenders.als) in C: fold-in, scores, the
 * exact top k and its reasons.
 *
 * rank(codes, bounds, factors, solved, books, signal, hidden, k, alpha, names) is the serving
 * path's plain case (favourites and dislikes, no genres, not one per series) in one call: the
 * reader's fold-in, the k best books above zero (score descending, index ascending among ties, as
 * ranking.top_k_positive), and recommend.reasons' reasons, as [(book, score, because)].
 *
 * It scores exactly only the books that can rank. Each book's factors y are also kept as int8
 * codes q with a scale s (y = s·q + d, |d_f| ≤ s/2), and the reader's u likewise (u = t·p + e,
 * |e_f| ≤ t/2). One integer product q·p per book (5 MB read for ALS-512 on 10,000 books, where
 * Y is 20 MB) gives an estimate s·t·(q·p) within
 *     bound = s·‖q‖·‖e‖ + (s/2)·‖u‖₁ + SLACK·‖y‖·‖u‖
 * of the book's exact score, since y·u − s·t·(q·p) = s·(q·e) + d·u, and SLACK covers the
 * float32 rounding of the exact score. The k-th best lower bound (estimate − bound) is at most
 * the k-th best score, so a book whose upper bound falls short of it cannot rank. The others (a
 * median of 13 of 10,000 books for ALS-512 and 3 favourites) are scored exactly and ranked.
 * rank returns None, and numpy ranks the reader, when fewer than k books score above zero, a
 * score or the reader's factors are not finite, the fold-in is singular, or k is out of range.
 *
 * Its parts, which the numpy path calls too, so that both give the same bits:
 *   dot_rows(factors, reader, rows, out): out[j] = factors[rows[j]] · reader in float32, each
 *     book's sum in one fixed order (16 lanes, each adding its factors in order, then the lanes
 *     in order): a book scores the same whether every book is scored or a few;
 *   fold_in(solved, factors, books, signal, alpha, weights, reader): ALS._fold_in's weights w of
 *     (I + D·Y_u·W_uᵀ) w = b, by Gaussian elimination with partial pivoting, and u = W_uᵀ w;
 *     False when the system is singular (numpy's solve then says so);
 *   explain(solved, factors, books, weights, shown, out): each of the reader's books' term in
 *     each shown book's score, w_i · (W_u[i] · y_j);
 *   encode(factors, codes, bounds): each book's codes and its rows of bounds, s, s·‖q‖ and ‖y‖
 *     (ValueError for a factor that is not finite);
 *   score_bounds(codes, bounds, reader, lower, upper): every book's lower and upper bound, as
 *     rank computes them (False, and nothing written, for a reader of zeros or not finite).
 *
 * Arrays: factors (n_books, n_factors) float32 is Y; solved (n_books, n_factors) float64 is
 * Y·(YᵀY + λI)⁻¹; codes (n_books, n_factors) int8; bounds (3, n_books) float64. Indices are
 * checked before they are used, so a corrupt array raises ValueError rather than reading out of
 * bounds. The GIL is held throughout (a call takes a fraction of a millisecond), and the module
 * keeps no state between calls.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_kernel.h"

#if defined(__GNUC__) && defined(__x86_64__) && defined(__linux__)
#include <immintrin.h>
#define X86_DISPATCH 1
/* The same lane arithmetic in every clone: vectors only change how many lanes move at once. */
#define CLONES __attribute__((target_clones("avx2", "default")))
#else
#define CLONES
#endif

#define LANES 16

/* y · u in float32: lane l adds y[f]·u[f] for f ≡ l (mod 16) in order, then the lanes in order. */
CLONES static float dot_row(const float *y, const float *u, Py_ssize_t n_factors) {
    float lane[LANES] = {0};
    Py_ssize_t f = 0;
    for (; f + LANES <= n_factors; f += LANES)
        for (int l = 0; l < LANES; l++) lane[l] += y[f + l] * u[f + l];
    for (int l = 0; f + l < n_factors; l++) lane[l] += y[f + l] * u[f + l];
    float sum = 0.0f;
    for (int l = 0; l < LANES; l++) sum += lane[l];
    return sum;
}

/* The products q_i · p of every book's codes with the reader's, exactly (integers). */
static void scan_plain(const int8_t *codes, const int8_t *p, int32_t *out, Py_ssize_t n_books, Py_ssize_t n_factors) {
    for (Py_ssize_t i = 0; i < n_books; i++) {
        const int8_t *q = codes + i * n_factors;
        int32_t sum = 0;
        for (Py_ssize_t f = 0; f < n_factors; f++) sum += (int32_t)q[f] * (int32_t)p[f];
        out[i] = sum;
    }
}

#ifdef X86_DISPATCH
/* scan_plain with 32 codes a step. maddubs multiplies unsigned by signed bytes, so |q| by p with
 * q's sign; a pair sums to at most 2·127·127 < 2^15, so nothing saturates and the sums are exact. */
__attribute__((target("avx2"))) static void scan_avx2(const int8_t *codes, const int8_t *p, int32_t *out,
                                                      Py_ssize_t n_books, Py_ssize_t n_factors) {
    const __m256i ones = _mm256_set1_epi16(1);
    Py_ssize_t wide = n_factors - n_factors % 32;
    for (Py_ssize_t i = 0; i < n_books; i++) {
        const int8_t *q = codes + i * n_factors;
        __m256i acc = _mm256_setzero_si256();
        for (Py_ssize_t f = 0; f < wide; f += 32) {
            __m256i qv = _mm256_loadu_si256((const __m256i *)(q + f));
            __m256i pv = _mm256_loadu_si256((const __m256i *)(p + f));
            __m256i pairs = _mm256_maddubs_epi16(_mm256_sign_epi8(qv, qv), _mm256_sign_epi8(pv, qv));
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones));
        }
        __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
        s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
        int32_t sum = _mm_cvtsi128_si32(s);
        for (Py_ssize_t f = wide; f < n_factors; f++) sum += (int32_t)q[f] * (int32_t)p[f];
        out[i] = sum;
    }
}
#endif

#ifdef X86_DISPATCH
/* Whether scan takes scan_avx2: the CPU has AVX2 and $READCRUMBS_PORTABLE_KERNELS is unset (the
 * tests set it to check scan_plain against it). Decided once, when the module is imported. */
static int use_avx2 = 0;
#endif

static void scan(const int8_t *codes, const int8_t *p, int32_t *out, Py_ssize_t n_books, Py_ssize_t n_factors) {
#ifdef X86_DISPATCH
    if (use_avx2) {
        scan_avx2(codes, p, out, n_books, n_factors);
        return;
    }
#endif
    scan_plain(codes, p, out, n_books, n_factors);
}

/* Σ_f y[f]·w[f] in float64, 8 lanes each adding in order, then the lanes in order. */
static double dot_wide(const float *y, const double *w, Py_ssize_t n_factors) {
    double lane[8] = {0};
    Py_ssize_t f = 0;
    for (; f + 8 <= n_factors; f += 8)
        for (int l = 0; l < 8; l++) lane[l] += (double)y[f + l] * w[f + l];
    for (int l = 0; f + l < n_factors; l++) lane[l] += (double)y[f + l] * w[f + l];
    double sum = 0.0;
    for (int l = 0; l < 8; l++) sum += lane[l];
    return sum;
}

/* Solve a·x = b (n × n row-major a, both overwritten; x in b) by Gaussian elimination with
 * partial pivoting. 1 when a pivot is zero or NaN: the system is singular. */
static int solve(double *a, double *b, Py_ssize_t n) {
    for (Py_ssize_t col = 0; col < n; col++) {
        Py_ssize_t pivot = col;
        for (Py_ssize_t r = col + 1; r < n; r++)
            if (fabs(a[r * n + col]) > fabs(a[pivot * n + col])) pivot = r;
        if (!(a[pivot * n + col] != 0.0) || isnan(a[pivot * n + col])) return 1;
        if (pivot != col) {
            for (Py_ssize_t c = 0; c < n; c++) {
                double held = a[col * n + c];
                a[col * n + c] = a[pivot * n + c];
                a[pivot * n + c] = held;
            }
            double held = b[col];
            b[col] = b[pivot];
            b[pivot] = held;
        }
        for (Py_ssize_t r = col + 1; r < n; r++) {
            double factor = a[r * n + col] / a[col * n + col];
            for (Py_ssize_t c = col + 1; c < n; c++) a[r * n + c] -= factor * a[col * n + c];
            b[r] -= factor * b[col];
        }
    }
    for (Py_ssize_t r = n - 1; r >= 0; r--) {
        double sum = b[r];
        for (Py_ssize_t c = r + 1; c < n; c++) sum -= a[r * n + c] * b[c];
        b[r] = sum / a[r * n + r];
    }
    return 0;
}

/* The fold-in of the module docstring: weights (n,) and reader u (n_factors,) float32.
 * 0, 1 when singular, -1 with MemoryError set. */
static int fold_in_core(const double *solved, const float *factors, Py_ssize_t n_factors, const int64_t *books,
                        const float *signal, Py_ssize_t n, double alpha, double *weights, float *u) {
    double *coupling = malloc(sizeof(double) * (n ? n * n : 1));
    if (!coupling) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        double confidence = alpha * fabs((double)signal[i]);
        weights[i] = signal[i] > 0.0f ? confidence : 0.0; /* b = c·p */
        for (Py_ssize_t j = 0; j < n; j++) /* (c_i − 1)·(W_u[i] · y_j), plus I */
            coupling[i * n + j] = (confidence - 1.0) * dot_wide(factors + books[j] * n_factors,
                                                                 solved + books[i] * n_factors, n_factors) +
                                  (i == j ? 1.0 : 0.0);
    }
    int singular = solve(coupling, weights, n);
    free(coupling);
    if (singular) return 1;
    for (Py_ssize_t f = 0; f < n_factors; f++) {
        double sum = 0.0;
        for (Py_ssize_t i = 0; i < n; i++) sum += solved[books[i] * n_factors + f] * weights[i];
        u[f] = (float)sum;
    }
    return 0;
}

/* terms[j * n + i] = w_i · (W_u[i] · y_shown[j]), float32. */
static void explain_core(const double *solved, const float *factors, Py_ssize_t n_factors, const int64_t *books,
                         const double *weights, Py_ssize_t n, const int64_t *shown, Py_ssize_t k, float *terms) {
    for (Py_ssize_t j = 0; j < k; j++)
        for (Py_ssize_t i = 0; i < n; i++)
            terms[j * n + i] =
                (float)(dot_wide(factors + shown[j] * n_factors, solved + books[i] * n_factors, n_factors) * weights[i]);
}

/* Push x into the min-heap of the `size` largest values seen so far, at most `cap` kept. */
static void keep_largest(double *heap, Py_ssize_t *size, Py_ssize_t cap, double x) {
    Py_ssize_t at;
    if (*size < cap) {
        at = (*size)++;
        while (at > 0 && heap[(at - 1) / 2] > x) {
            heap[at] = heap[(at - 1) / 2];
            at = (at - 1) / 2;
        }
        heap[at] = x;
        return;
    }
    if (!(x > heap[0])) return;
    at = 0;
    for (;;) { /* sift x down from the root */
        Py_ssize_t child = 2 * at + 1;
        if (child >= cap) break;
        if (child + 1 < cap && heap[child + 1] < heap[child]) child++;
        if (heap[child] >= x) break;
        heap[at] = heap[child];
        at = child;
    }
    heap[at] = x;
}

/* Books bounded at once: their bounds fit on the stack, 8 KB each. */
#define CHUNK 1024

/* The reader's side of the bound: codes p (n_factors int8, t = max|u|/127, p = round(u/t), so
 * e = u − t·p) and the terms t, ‖e‖, ‖u‖₁/2 and SLACK·‖u‖. */
typedef struct {
    int8_t *p;
    double t, e_share, d_share, f_share;
} ReaderCodes;

/* Encode reader u into `reader` (its p already allocated). 0 when u is all zero, not finite or
 * overflowing: numpy ranks that reader. */
static int encode_reader(const float *u, Py_ssize_t n_factors, ReaderCodes *reader) {
    double top = 0.0, l1 = 0.0, l2 = 0.0, e2 = 0.0;
    for (Py_ssize_t f = 0; f < n_factors; f++) {
        double v = fabs((double)u[f]);
        top = v > top ? v : top;
        l1 += v;
        l2 += v * v;
    }
    if (!(top > 0.0) || !isfinite(l2)) return 0;
    double t = top / 127.0;
    for (Py_ssize_t f = 0; f < n_factors; f++) {
        double code = nearbyint((double)u[f] / t);
        code = code > 127.0 ? 127.0 : (code < -127.0 ? -127.0 : code);
        reader->p[f] = (int8_t)code;
        double e = (double)u[f] - t * code;
        e2 += e * e;
    }
    /* float32 rounding of dot_row: at most depth·2^-24 of Σ|y_f·u_f| ≤ ‖y‖·‖u‖; twice that, kept. */
    double slack = (double)(n_factors / LANES + LANES + 2) * ldexp(1.0, -23);
    reader->t = t;
    reader->e_share = sqrt(e2);
    reader->d_share = 0.5 * l1;
    reader->f_share = slack * sqrt(l2);
    return 1;
}

/* Lower and upper bounds of `size` books' scores (module docstring), from their estimates
 * (products of codes) and their rows of bounds (s, s·‖q‖, ‖y‖, each `stride` apart). */
CLONES static void bound_books(const int32_t *estimate, const double *bounds, Py_ssize_t stride, Py_ssize_t size,
                               const ReaderCodes *reader, double *lower, double *upper) {
    const double *scales = bounds, *code_norms = bounds + stride, *norms = bounds + 2 * stride;
    double t = reader->t, e_share = reader->e_share, d_share = reader->d_share, f_share = reader->f_share;
    for (Py_ssize_t j = 0; j < size; j++) {
        double middle = scales[j] * t * (double)estimate[j];
        double bound = code_norms[j] * e_share + scales[j] * d_share + norms[j] * f_share;
        lower[j] = middle - bound;
        upper[j] = middle + bound;
    }
}

/* A book that may rank, and its upper bound. */
typedef struct {
    int64_t book;
    double upper;
} Candidate;

/* A hidden book's estimate, which no product of codes can equal: |q·p| ≤ 127²·n_factors < 2^31. */
#define HIDDEN INT32_MIN
#define MAX_FACTORS 100000

/* The k best books above zero for reader u, in ranking order, into best and best_score (module
 * docstring). 1 when found, 0 when numpy must rank (fewer than k above zero, not finite), -1
 * with MemoryError set. `hidden` holds valid indices. */
static int best_books(const int8_t *codes, const double *bounds, const float *factors, Py_ssize_t n_books,
                      Py_ssize_t n_factors, const float *u, const int64_t *hidden, Py_ssize_t n_hidden, Py_ssize_t k,
                      int64_t *best, float *best_score) {
    Py_ssize_t capacity = 256, kept = 0, n_candidates = 0, found = 0;
    ReaderCodes reader = {.p = malloc(n_factors)};
    int32_t *estimate = malloc(sizeof(int32_t) * n_books);
    double *heap = malloc(sizeof(double) * k);
    Candidate *candidates = malloc(sizeof(Candidate) * capacity);
    int status = -1;
    if (!reader.p || !estimate || !heap || !candidates) {
        PyErr_NoMemory();
        goto done;
    }
    if (!encode_reader(u, n_factors, &reader)) {
        status = 0;
        goto done;
    }
    scan(codes, reader.p, estimate, n_books, n_factors);
    for (Py_ssize_t h = 0; h < n_hidden; h++) estimate[hidden[h]] = HIDDEN;
    /* Bound every book, a chunk at a time (a vectorised loop); keep the k best lower bounds in a
     * heap, and as candidates the books whose upper bound reaches the heap's least so far (it
     * only rises, so no book left out could). */
    double lower[CHUNK], upper[CHUNK];
    for (Py_ssize_t start = 0; start < n_books; start += CHUNK) {
        Py_ssize_t size = n_books - start < CHUNK ? n_books - start : CHUNK;
        bound_books(estimate + start, bounds + start, n_books, size, &reader, lower, upper);
        for (Py_ssize_t j = 0; j < size; j++) {
            if (estimate[start + j] == HIDDEN || (kept == k && upper[j] < heap[0])) continue;
            keep_largest(heap, &kept, k, lower[j]);
            if (n_candidates == capacity) {
                Candidate *more = realloc(candidates, sizeof(Candidate) * 2 * capacity);
                if (!more) {
                    PyErr_NoMemory();
                    goto done;
                }
                candidates = more;
                capacity *= 2;
            }
            candidates[n_candidates++] = (Candidate){start + j, upper[j]};
        }
    }
    status = 0;
    if (kept < k) goto done;
    /* Score exactly the candidates that reach the k-th best lower bound; keep the k best above zero. */
    for (Py_ssize_t c = 0; c < n_candidates; c++) {
        if (candidates[c].upper < heap[0]) continue;
        int64_t i = candidates[c].book;
        float s = dot_row(factors + i * n_factors, u, n_factors);
        if (!isfinite(s)) goto done;
        if (s > 0.0f) keep_best(best, best_score, &found, k, i, s);
    }
    status = found == k;
done:
    free(reader.p);
    free(estimate);
    free(heap);
    free(candidates);
    return status;
}

/* ---- Python entry points ---- */

/* Whether every one of `n` indices is within 0..n_books − 1; else ValueError naming `what`. */
static int check_indices(const int64_t *indices, Py_ssize_t n, Py_ssize_t n_books, const char *what) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (indices[i] < 0 || indices[i] >= n_books) {
            PyErr_Format(PyExc_ValueError, "%s %lld is not a book", what, (long long)indices[i]);
            return -1;
        }
    return 0;
}

static PyObject *dot_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "dot_rows(factors, reader, rows, out)");
        return NULL;
    }
    Py_buffer views[4] = {{0}};
    PyObject *result = NULL;
    if (get_array(args[0], &views[0], "f", 4, 0, "factors") < 0 || get_array(args[1], &views[1], "f", 4, 0, "reader") < 0 ||
        (args[2] != Py_None && get_array(args[2], &views[2], "ilq", 8, 0, "rows") < 0) ||
        get_array(args[3], &views[3], "f", 4, 1, "out") < 0)
        goto done;
    const float *factors = views[0].buf, *u = views[1].buf;
    const int64_t *rows = args[2] == Py_None ? NULL : views[2].buf;
    float *out = views[3].buf;
    Py_ssize_t n_factors = length(&views[1]);
    Py_ssize_t n_books = n_factors ? length(&views[0]) / n_factors : 0;
    Py_ssize_t m = rows ? length(&views[2]) : n_books;
    if (n_factors * n_books != length(&views[0]) || length(&views[3]) != m) {
        PyErr_SetString(PyExc_ValueError, "array lengths disagree");
        goto done;
    }
    if (rows && check_indices(rows, m, n_books, "row") < 0) goto done;
    for (Py_ssize_t j = 0; j < m; j++) out[j] = dot_row(factors + (rows ? rows[j] : j) * n_factors, u, n_factors);
    result = Py_NewRef(Py_None);
done:
    release(views, 4);
    return result;
}

static PyObject *score_bounds(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "score_bounds(codes, bounds, reader, lower, upper)");
        return NULL;
    }
    Py_buffer views[5] = {{0}};
    PyObject *result = NULL;
    ReaderCodes reader = {0};
    int32_t *estimate = NULL;
    if (get_array(args[0], &views[0], "bc", 1, 0, "codes") < 0 || get_array(args[1], &views[1], "d", 8, 0, "bounds") < 0 ||
        get_array(args[2], &views[2], "f", 4, 0, "reader") < 0 || get_array(args[3], &views[3], "d", 8, 1, "lower") < 0 ||
        get_array(args[4], &views[4], "d", 8, 1, "upper") < 0)
        goto done;
    Py_ssize_t n_books = length(&views[1]) / 3, n_factors = length(&views[2]);
    if (length(&views[1]) != 3 * n_books || length(&views[0]) != n_books * n_factors || length(&views[3]) != n_books ||
        length(&views[4]) != n_books || n_factors > MAX_FACTORS) {
        PyErr_SetString(PyExc_ValueError, "array lengths disagree");
        goto done;
    }
    reader.p = malloc(n_factors ? n_factors : 1);
    estimate = malloc(sizeof(int32_t) * (n_books ? n_books : 1));
    if (!reader.p || !estimate) {
        PyErr_NoMemory();
        goto done;
    }
    if (!encode_reader(views[2].buf, n_factors, &reader)) {
        result = Py_NewRef(Py_False);
        goto done;
    }
    scan(views[0].buf, reader.p, estimate, n_books, n_factors);
    bound_books(estimate, views[1].buf, n_books, n_books, &reader, views[3].buf, views[4].buf);
    result = Py_NewRef(Py_True);
done:
    free(reader.p);
    free(estimate);
    release(views, 5);
    return result;
}

static PyObject *fold_in(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 7) {
        PyErr_SetString(PyExc_TypeError, "fold_in(solved, factors, books, signal, alpha, weights, reader)");
        return NULL;
    }
    Py_buffer views[6] = {{0}};
    PyObject *result = NULL;
    double alpha = PyFloat_AsDouble(args[4]);
    if (alpha == -1.0 && PyErr_Occurred()) return NULL;
    if (get_array(args[0], &views[0], "d", 8, 0, "solved") < 0 || get_array(args[1], &views[1], "f", 4, 0, "factors") < 0 ||
        get_array(args[2], &views[2], "ilq", 8, 0, "books") < 0 || get_array(args[3], &views[3], "f", 4, 0, "signal") < 0 ||
        get_array(args[5], &views[4], "d", 8, 1, "weights") < 0 || get_array(args[6], &views[5], "f", 4, 1, "reader") < 0)
        goto done;
    Py_ssize_t n_factors = length(&views[5]), n = length(&views[2]);
    Py_ssize_t n_books = n_factors ? length(&views[1]) / n_factors : 0;
    if (length(&views[0]) != length(&views[1]) || n_books * n_factors != length(&views[1]) ||
        length(&views[3]) != n || length(&views[4]) != n) {
        PyErr_SetString(PyExc_ValueError, "array lengths disagree");
        goto done;
    }
    const int64_t *books = views[2].buf;
    if (check_indices(books, n, n_books, "book") < 0) goto done;
    int status = fold_in_core(views[0].buf, views[1].buf, n_factors, books, views[3].buf, n, alpha, views[4].buf,
                              views[5].buf);
    if (status >= 0) result = PyBool_FromLong(status == 0);
done:
    release(views, 6);
    return result;
}

static PyObject *explain(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "explain(solved, factors, books, weights, shown, out)");
        return NULL;
    }
    Py_buffer views[6] = {{0}};
    PyObject *result = NULL;
    if (get_array(args[0], &views[0], "d", 8, 0, "solved") < 0 || get_array(args[1], &views[1], "f", 4, 0, "factors") < 0 ||
        get_array(args[2], &views[2], "ilq", 8, 0, "books") < 0 || get_array(args[3], &views[3], "d", 8, 0, "weights") < 0 ||
        get_array(args[4], &views[4], "ilq", 8, 0, "shown") < 0 || get_array(args[5], &views[5], "f", 4, 1, "out") < 0)
        goto done;
    Py_ssize_t n = length(&views[2]), k = length(&views[4]);
    Py_ssize_t n_factors = views[1].ndim == 2 ? views[1].shape[1] : 0;
    Py_ssize_t n_books = n_factors ? length(&views[1]) / n_factors : 0;
    if (views[1].ndim != 2 || length(&views[0]) != length(&views[1]) || length(&views[3]) != n ||
        length(&views[5]) != k * n) {
        PyErr_SetString(PyExc_ValueError, "array lengths disagree");
        goto done;
    }
    const int64_t *books = views[2].buf, *shown = views[4].buf;
    if (check_indices(books, n, n_books, "book") < 0 || check_indices(shown, k, n_books, "shown book") < 0) goto done;
    explain_core(views[0].buf, views[1].buf, n_factors, books, views[3].buf, n, shown, k, views[5].buf);
    result = Py_NewRef(Py_None);
done:
    release(views, 6);
    return result;
}

static PyObject *encode(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "encode(factors, codes, bounds)");
        return NULL;
    }
    Py_buffer views[3] = {{0}};
    PyObject *result = NULL;
    if (get_array(args[0], &views[0], "f", 4, 0, "factors") < 0 || get_array(args[1], &views[1], "bc", 1, 1, "codes") < 0 ||
        get_array(args[2], &views[2], "d", 8, 1, "bounds") < 0)
        goto done;
    Py_ssize_t n_books = length(&views[2]) / 3;
    Py_ssize_t n_factors = n_books ? length(&views[0]) / n_books : 0;
    if (length(&views[2]) != 3 * n_books || length(&views[0]) != n_books * n_factors ||
        length(&views[1]) != n_books * n_factors) {
        PyErr_SetString(PyExc_ValueError, "array lengths disagree");
        goto done;
    }
    const float *factors = views[0].buf;
    int8_t *codes = views[1].buf;
    double *scales = views[2].buf, *code_norms = scales + n_books, *norms = scales + 2 * n_books;
    for (Py_ssize_t i = 0; i < n_books; i++) {
        const float *y = factors + i * n_factors;
        double top = 0.0, square = 0.0, code_square = 0.0;
        for (Py_ssize_t f = 0; f < n_factors; f++) {
            double v = (double)y[f];
            if (!isfinite(v)) {
                PyErr_Format(PyExc_ValueError, "book %zd has a factor that is not finite", i);
                goto done;
            }
            top = fabs(v) > top ? fabs(v) : top;
            square += v * v;
        }
        /* y·(1/s) rather than y/s (a division a factor costs 5× the whole encoding): a code that
         * rounds the other way is off by at most 1e-13·s, far inside dot_row's slack. */
        double scale = top / 127.0, inverse = top > 0.0 ? 127.0 / top : 0.0;
        for (Py_ssize_t f = 0; f < n_factors; f++) {
            double code = nearbyint((double)y[f] * inverse);
            code = code > 127.0 ? 127.0 : (code < -127.0 ? -127.0 : code);
            codes[i * n_factors + f] = (int8_t)code;
            code_square += code * code;
        }
        scales[i] = scale;
        code_norms[i] = scale * sqrt(code_square);
        norms[i] = sqrt(square);
    }
    result = Py_NewRef(Py_None);
done:
    release(views, 3);
    return result;
}

static PyObject *rank(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 10) {
        PyErr_SetString(PyExc_TypeError, "rank(codes, bounds, factors, solved, books, signal, hidden, k, alpha, names)");
        return NULL;
    }
    Py_buffer views[8] = {{0}};
    PyObject *result = NULL;
    double *weights = NULL;
    float *u = NULL, *best_score = NULL, *terms = NULL;
    int64_t *best = NULL;
    Py_ssize_t k = PyLong_AsSsize_t(args[7]);
    if (k == -1 && PyErr_Occurred()) return NULL;
    double alpha = PyFloat_AsDouble(args[8]);
    if (alpha == -1.0 && PyErr_Occurred()) return NULL;
    if (get_array(args[0], &views[0], "bc", 1, 0, "codes") < 0 || get_array(args[1], &views[1], "d", 8, 0, "bounds") < 0 ||
        get_array(args[2], &views[2], "f", 4, 0, "factors") < 0 || get_array(args[3], &views[3], "d", 8, 0, "solved") < 0 ||
        get_array(args[4], &views[4], "ilq", 8, 0, "books") < 0 || get_array(args[5], &views[5], "f", 4, 0, "signal") < 0 ||
        get_array(args[6], &views[6], "ilq", 8, 0, "hidden") < 0 ||
        (args[9] != Py_None && get_array(args[9], &views[7], "ilq", 8, 0, "names") < 0))
        goto done;
    const int64_t *books = views[4].buf, *hidden = views[6].buf;
    const int64_t *names = args[9] == Py_None ? NULL : views[7].buf;
    const float *factors = views[2].buf, *signal = views[5].buf;
    const double *solved = views[3].buf;
    Py_ssize_t n_books = length(&views[1]) / 3, n = length(&views[4]), n_hidden = length(&views[6]);
    Py_ssize_t n_factors = views[2].ndim == 2 ? views[2].shape[1] : 0;
    if (views[2].ndim != 2 || length(&views[1]) != 3 * n_books || length(&views[2]) != n_books * n_factors ||
        length(&views[0]) != n_books * n_factors || length(&views[3]) != n_books * n_factors ||
        length(&views[5]) != n || (names && length(&views[7]) != n_books) || n_factors > MAX_FACTORS) {
        PyErr_SetString(PyExc_ValueError, "array lengths disagree");
        goto done;
    }
    if (check_indices(books, n, n_books, "book") < 0 || check_indices(hidden, n_hidden, n_books, "hidden book") < 0)
        goto done;
    if (k <= 0 || k > n_books || n == 0 || n_factors == 0) { /* numpy answers these */
        result = Py_NewRef(Py_None);
        goto done;
    }
    weights = malloc(sizeof(double) * n);
    u = malloc(sizeof(float) * n_factors);
    best = malloc(sizeof(int64_t) * k);
    best_score = malloc(sizeof(float) * k);
    terms = malloc(sizeof(float) * k * n);
    if (!weights || !u || !best || !best_score || !terms) {
        PyErr_NoMemory();
        goto done;
    }
    int folded = fold_in_core(solved, factors, n_factors, books, signal, n, alpha, weights, u);
    if (folded < 0) goto done;
    int ranked = folded == 0 ? best_books(views[0].buf, views[1].buf, factors, n_books, n_factors, u, hidden,
                                          n_hidden, k, best, best_score)
                             : 0;
    if (ranked <= 0) { /* an error, or numpy ranks the reader */
        if (ranked == 0) result = Py_NewRef(Py_None);
        goto done;
    }
    explain_core(solved, factors, n_factors, books, weights, n, best, k, terms);
    for (Py_ssize_t j = 0; j < k; j++) /* a dislike is never a reason */
        for (Py_ssize_t i = 0; i < n; i++)
            if (!(signal[i] > 0.0f)) terms[j * n + i] = 0.0f;
    result = ranked_answer(best, best_score, k, terms, books, n, names);
done:
    free(weights);
    free(u);
    free(best);
    free(best_score);
    free(terms);
    release(views, 8);
    return result;
}

static PyMethodDef methods[] = {
    {"dot_rows", (PyCFunction)(void (*)(void))dot_rows, METH_FASTCALL,
     "dot_rows(factors, reader, rows, out) -> None\n\n"
     "out[j] = factors[rows[j]] · reader in float32, in one fixed order (rows None: every row)."},
    {"score_bounds", (PyCFunction)(void (*)(void))score_bounds, METH_FASTCALL,
     "score_bounds(codes, bounds, reader, lower, upper) -> bool\n\n"
     "Every book's lower and upper bound on its score from the codes; False for a reader of zeros."},
    {"fold_in", (PyCFunction)(void (*)(void))fold_in, METH_FASTCALL,
     "fold_in(solved, factors, books, signal, alpha, weights, reader) -> bool\n\n"
     "A reader's fold-in weights and factors, into weights and reader; False when singular."},
    {"explain", (PyCFunction)(void (*)(void))explain, METH_FASTCALL,
     "explain(solved, factors, books, weights, shown, out) -> None\n\n"
     "out[j, i]: the reader's book i's term in shown book j's score."},
    {"encode", (PyCFunction)(void (*)(void))encode, METH_FASTCALL,
     "encode(factors, codes, bounds) -> None\n\n"
     "Each book's int8 codes, into codes (n_books, n_factors), and bounds (3, n_books): s, s·‖q‖, ‖y‖."},
    {"rank", (PyCFunction)(void (*)(void))rank, METH_FASTCALL,
     "rank(codes, bounds, factors, solved, books, signal, hidden, k, alpha, names) -> [(book, score, because)] or None\n\n"
     "The k best books for one reader of a factor model, with their reasons; None when numpy must\n"
     "rank them. See readcrumbs/_factors.c."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_factors", "One reader of a factor model, in C.",
                                    -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__factors(void) {
#ifdef X86_DISPATCH
    const char *portable = getenv("READCRUMBS_PORTABLE_KERNELS");
    use_avx2 = __builtin_cpu_supports("avx2") && !(portable && *portable);
#endif
    return PyModule_Create(&module);
}
