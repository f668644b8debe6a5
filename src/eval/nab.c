/*
 * nab.c: NAB's scoring rules (see nab.h): weights of the rows, one
 * series at a threshold, and the corpus threshold by one sorted sweep.
 */
#include "eval/nab.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const mw_nab_profile mw_nab_profiles[MW_NAB_N_PROFILES] = {
    {"standard", 1.0, 0.11, 1.0},
    {"reward_low_FP_rate", 1.0, 0.22, 1.0},
    {"reward_low_FN_rate", 1.0, 0.11, 2.0},
};

const mw_nab_profile *mw_nab_profile_named(const char *name)
{
    for (size_t i = 0; i < MW_NAB_N_PROFILES; i++)
        if (strcmp(mw_nab_profiles[i].name, name) == 0)
            return &mw_nab_profiles[i];
    return NULL;
}

size_t mw_nab_probation(size_t n, double fraction)
{
    double a = floor(fraction * (double)n), b = fraction * 5000.0;
    double p = a < b ? a : b;
    if (!(p > 0))
        return 0;
    /* A non-integral cap (fraction 0.1234) still leaves whole rows: row i
     * is probationary when i < p. */
    return (size_t)ceil(p);
}

/* NAB's scaled sigmoid: 2 sigmoid(-5y) - 1, and -1 from y = 3 on. */
static double scaled_sigmoid(double y)
{
    if (y >= 3.0)
        return -1.0;
    return 2.0 / (1.0 + exp(5.0 * y)) - 1.0;
}

mw_status mw_nab_check(const mw_nab_series *s, size_t *bad)
{
    for (size_t w = 0; w < s->n_windows; w++) {
        const mw_nab_window *win = &s->windows[w];
        if (win->first > win->last || win->last >= s->n
            || (w > 0 && win->first <= s->windows[w - 1].last)) {
            if (bad)
                *bad = w;
            return MW_ERANGE;
        }
    }
    return MW_OK;
}

/* A score as the sweep and the scorer compare it: +inf as the largest
 * finite number, so that the threshold INFINITY always means "nothing
 * fires" (NaN never fires). */
static inline double score_of(const mw_nab_series *s, size_t i)
{
    double x = s->score[i];
    return x == INFINITY ? DBL_MAX : x;
}

/* Walks the scored rows of s in order, calling fn with each row's index,
 * its weight and its window (-1 outside every window). */
typedef void (*row_fn)(void *ud, size_t i, double weight, ptrdiff_t window);

static void walk(const mw_nab_series *s, const mw_nab_profile *p,
                 double fraction, row_fn fn, void *ud)
{
    size_t start = mw_nab_probation(s->n, fraction);
    double max_tp = scaled_sigmoid(-1.0);
    size_t w = 0;            /* the first window not yet left behind */
    for (size_t i = start; i < s->n; i++) {
        while (w < s->n_windows && s->windows[w].last < i)
            w++;
        if (w < s->n_windows && s->windows[w].first <= i) {
            const mw_nab_window *win = &s->windows[w];
            double width = (double)(win->last - win->first + 1);
            double y = -(double)(win->last - i + 1) / width;
            fn(ud, i, scaled_sigmoid(y) * p->tp / max_tp, (ptrdiff_t)w);
        } else {
            double d = 3.0;
            if (w > 0) {
                const mw_nab_window *prev = &s->windows[w - 1];
                size_t width = prev->last - prev->first + 1;
                if (width > 1)
                    d = (double)(i - prev->last) / (double)(width - 1);
            }
            fn(ud, i, scaled_sigmoid(d) * p->fp, -1);
        }
    }
}

/* The number of windows with a row past the probation. */
static size_t scored_windows(const mw_nab_series *s, size_t start)
{
    size_t k = 0;
    for (size_t w = 0; w < s->n_windows; w++)
        if (s->windows[w].last >= start)
            k++;
    return k;
}

typedef struct score_walk {
    const mw_nab_series *s;
    const mw_nab_profile *p;
    double threshold;
    ptrdiff_t window;        /* the window being walked, -1 for none yet */
    double best;             /* its best detection's weight, NaN for none */
    mw_nab_result *out;
} score_walk;

/* Settles the window just walked: its best detection, or a miss. */
static void settle(score_walk *sw)
{
    if (sw->window < 0)
        return;
    if (isnan(sw->best)) {
        sw->out->fn++;
        sw->out->raw -= sw->p->fn;
    } else {
        sw->out->tp++;
        sw->out->raw += sw->best;
    }
    sw->window = -1;
}

static void score_row(void *ud, size_t i, double weight, ptrdiff_t window)
{
    score_walk *sw = ud;
    if (window >= 0 && window != sw->window) {
        settle(sw);
        sw->window = window;
        sw->best = NAN;
        sw->out->windows++;
        sw->out->null -= sw->p->fn;
    }
    double x = score_of(sw->s, i);
    if (!(x >= sw->threshold))
        return;
    sw->out->detections++;
    if (window < 0) {
        sw->out->fp++;
        sw->out->raw += weight;
    } else if (isnan(sw->best) || weight > sw->best) {
        sw->best = weight;
    }
}

void mw_nab_score(const mw_nab_series *s, const mw_nab_profile *p,
                  double fraction, double threshold, mw_nab_result *out)
{
    memset(out, 0, sizeof *out);
    size_t start = mw_nab_probation(s->n, fraction);
    out->probation = start < s->n ? start : s->n;
    score_walk sw = {s, p, threshold, -1, NAN, out};
    walk(s, p, fraction, score_row, &sw);
    settle(&sw);
}

double mw_nab_row_weight(const mw_nab_series *s, const mw_nab_profile *p,
                         double fraction, size_t i)
{
    /* Direct, for tests and tools: the walk's rule for one row. */
    if (i < mw_nab_probation(s->n, fraction) || i >= s->n)
        return 0.0;
    size_t w = 0;
    while (w < s->n_windows && s->windows[w].last < i)
        w++;
    double max_tp = scaled_sigmoid(-1.0);
    if (w < s->n_windows && s->windows[w].first <= i) {
        const mw_nab_window *win = &s->windows[w];
        double width = (double)(win->last - win->first + 1);
        return scaled_sigmoid(-(double)(win->last - i + 1) / width) * p->tp / max_tp;
    }
    double d = 3.0;
    if (w > 0) {
        size_t width = s->windows[w - 1].last - s->windows[w - 1].first + 1;
        if (width > 1)
            d = (double)(i - s->windows[w - 1].last) / (double)(width - 1);
    }
    return scaled_sigmoid(d) * p->fp;
}

/* One scored row in the corpus sweep. */
typedef struct sweep_row {
    double score;
    double weight;
    ptrdiff_t window;        /* corpus-wide window number, -1 for none */
} sweep_row;

typedef struct sweep_fill {
    const mw_nab_series *s;
    sweep_row *rows;
    size_t n;
    ptrdiff_t base;          /* the series' first window's corpus number */
} sweep_fill;

static void fill_row(void *ud, size_t i, double weight, ptrdiff_t window)
{
    sweep_fill *f = ud;
    double x = score_of(f->s, i);
    if (isnan(x))
        return;              /* never fires */
    f->rows[f->n++] = (sweep_row){x, weight, window < 0 ? -1 : f->base + window};
}

static int by_score_desc(const void *a, const void *b)
{
    double x = ((const sweep_row *)a)->score, y = ((const sweep_row *)b)->score;
    return (x < y) - (x > y);
}

mw_status mw_nab_optimize(const mw_nab_series *s, size_t n_series,
                          const mw_nab_profile *p, double fraction,
                          mw_alloc *a, double *threshold, double *raw)
{
    size_t n_rows = 0, n_windows = 0;
    double total = 0.0;      /* nothing fires: every scored window missed */
    for (size_t k = 0; k < n_series; k++) {
        size_t start = mw_nab_probation(s[k].n, fraction);
        if (start < s[k].n)
            n_rows += s[k].n - start;
        n_windows += s[k].n_windows;
        total -= p->fn * (double)scored_windows(&s[k], start);
    }
    if (n_rows > SIZE_MAX / sizeof(sweep_row)
        || n_windows > SIZE_MAX / sizeof(double))
        return MW_ENOMEM;
    sweep_row *rows = mw_alloc_malloc(a, MW_DOMAIN_NATIVE, n_rows * sizeof *rows);
    double *best = mw_alloc_malloc(a, MW_DOMAIN_NATIVE, n_windows * sizeof *best);
    if ((n_rows && !rows) || (n_windows && !best)) {
        mw_status st = a->last_error;
        mw_alloc_free(a, MW_DOMAIN_NATIVE, rows, rows ? n_rows * sizeof *rows : 0);
        mw_alloc_free(a, MW_DOMAIN_NATIVE, best, best ? n_windows * sizeof *best : 0);
        return st;
    }
    sweep_fill f = {NULL, rows, 0, 0};
    for (size_t k = 0; k < n_series; k++) {
        f.s = &s[k];
        walk(&s[k], p, fraction, fill_row, &f);
        f.base += (ptrdiff_t)s[k].n_windows;
    }
    for (size_t w = 0; w < n_windows; w++)
        best[w] = -p->fn;
    qsort(rows, f.n, sizeof *rows, by_score_desc);

    /* Lower the threshold one distinct score at a time: each row that
     * starts firing adds its false-positive cost, or improves its window. */
    double best_sum = total, best_threshold = INFINITY;
    for (size_t i = 0; i < f.n;) {
        double x = rows[i].score;
        for (; i < f.n && rows[i].score == x; i++) {
            const sweep_row *r = &rows[i];
            if (r->window < 0) {
                total += r->weight;
            } else if (r->weight > best[r->window]) {
                total += r->weight - best[r->window];
                best[r->window] = r->weight;
            }
        }
        if (total > best_sum) {
            best_sum = total;
            best_threshold = x;
        }
    }
    mw_alloc_free(a, MW_DOMAIN_NATIVE, rows, n_rows * sizeof *rows);
    mw_alloc_free(a, MW_DOMAIN_NATIVE, best, n_windows * sizeof *best);
    *threshold = best_threshold;
    *raw = best_sum;
    return MW_OK;
}
