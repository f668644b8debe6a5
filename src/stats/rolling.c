/*
 * rolling.c: moving-window statistics. out[i] summarises the non-NaN
 * values of x[i - window + 1 .. i] (fewer at the start), and is NaN where
 * there are fewer than min_periods of them.
 *
 * Every kernel is one pass that adds x[i] to a running state and removes
 * x[i - window], so the cost does not grow with the window:
 *   - sum/mean: a compensated sum (TwoSum error terms gathered in a second
 *     accumulator) of the finite values, with infinities counted apart so
 *     that one infinity leaving the window does not leave NaN behind;
 *   - var/std: Welford's mean and sum of squared deviations, updated for
 *     the value that enters and the one that leaves, over values shifted
 *     by a centre near the window mean. Every `window` steps the centre
 *     moves to the current mean and the state is recomputed from the
 *     window (O(window) once per window: amortised O(1)), so rounding
 *     error cannot accumulate for longer than one window, and a large
 *     offset (1e9 + noise) costs no digits of the variance. The state is
 *     also recomputed as soon as the sum of squares falls far below its
 *     value at the last recomputation: when an outlier leaves, the
 *     rounding error it left behind (eps times its square) would
 *     otherwise dwarf the variance of what remains for up to a window.
 *     (A value stays `window` steps, so some recomputation sees every
 *     value: one that entered after the last one leaves after the next.);
 *   - min/max: a monotonic deque of indices (ring buffer in `work`): each
 *     index enters and leaves it once;
 *   - quantile/median: two heaps over the window's values, the lower a
 *     max-heap of the smallest floor(q * (count - 1)) + 1, the upper a
 *     min-heap of the rest, so their tops are the two order statistics the
 *     quantile interpolates between. `where` maps each ring slot to its
 *     heap position, so the value leaving the window is removed in
 *     O(log window) wherever it is.
 *
 * A window longer than the data behaves as one of length n, so each
 * kernel works in min(window, n) slots and needs only that much `work`.
 * NaN never enters any state; it is only counted out. Never allocates;
 * writes exactly out[0..n); out must not alias x (x[i - window] is read
 * after out[i - window] is written). The compensated sums and the NaN
 * tests rely on IEEE semantics: never to be built with -ffast-math.
 */
#include "stats/stats.h"

#include <float.h>
#include <math.h>
#include <stdint.h>

static int rolling_is_value(double v)
{
    return v == v;
}

static int rolling_is_finite(double v)
{
    return fabs(v) <= DBL_MAX;   /* false for infinities and NaN */
}

static size_t rolling_span(size_t window, size_t n)
{
    return window < n ? window : n;
}

/* The statistic of an empty window, when min_periods = 0 asks for one. */
static void rolling_fill(double *out, size_t n, double value)
{
    for (size_t i = 0; i < n; i++)
        out[i] = value;
}

/* ---- sum and mean ------------------------------------------------------- */

typedef struct {
    double sum, compensation;    /* sum + compensation: the finite values' sum */
    size_t count;                /* non-NaN values, infinities included */
    size_t n_pos_inf, n_neg_inf;
} rolling_sum_state;

/* Knuth's TwoSum: `compensation` gathers the exact rounding error of each
 * addition, branch-free, so removal cancels what addition added. */
static void rolling_sum_accumulate(rolling_sum_state *s, double v)
{
    double t = s->sum + v;
    double v_part = t - s->sum;
    s->compensation += (s->sum - (t - v_part)) + (v - v_part);
    s->sum = t;
}

static void rolling_sum_add(rolling_sum_state *s, double v)
{
    if (!rolling_is_value(v))
        return;
    s->count++;
    if (rolling_is_finite(v))
        rolling_sum_accumulate(s, v);
    else if (v > 0)
        s->n_pos_inf++;
    else
        s->n_neg_inf++;
}

static void rolling_sum_remove(rolling_sum_state *s, double v)
{
    if (!rolling_is_value(v))
        return;
    s->count--;
    if (rolling_is_finite(v))
        rolling_sum_accumulate(s, -v);
    else if (v > 0)
        s->n_pos_inf--;
    else
        s->n_neg_inf--;
    /* With no finite value left the exact sum is 0: drop the residue. */
    if (s->count == s->n_pos_inf + s->n_neg_inf) {
        s->sum = 0.0;
        s->compensation = 0.0;
    }
}

static double rolling_sum_value(const rolling_sum_state *s)
{
    if (s->n_pos_inf > 0)
        return s->n_neg_inf > 0 ? NAN : INFINITY;
    if (s->n_neg_inf > 0)
        return -INFINITY;
    return s->sum + s->compensation;
}

static void rolling_sums(const double *x, size_t n, size_t window, size_t min_periods,
                         int want_mean, double *out)
{
    if (window == 0) {
        rolling_fill(out, n, min_periods == 0 && !want_mean ? 0.0 : NAN);
        return;
    }
    rolling_sum_state s = {0.0, 0.0, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        double entering = x[i];
        double leaving = i >= window ? x[i - window] : NAN;
        if (rolling_is_finite(entering) && rolling_is_finite(leaving)) {
            /* The steady state: count unchanged, two compensated adds. */
            rolling_sum_accumulate(&s, entering);
            rolling_sum_accumulate(&s, -leaving);
        } else {
            rolling_sum_remove(&s, leaving);
            rolling_sum_add(&s, entering);
        }
        if (s.count < min_periods)
            out[i] = NAN;
        else if (want_mean)
            out[i] = s.count == 0 ? NAN : rolling_sum_value(&s) / (double)s.count;
        else
            out[i] = rolling_sum_value(&s);
    }
}

void mw_stats_rolling_sum(const double *x, size_t n, size_t window, size_t min_periods, double *out)
{
    rolling_sums(x, n, window, min_periods, 0, out);
}

void mw_stats_rolling_mean(const double *x, size_t n, size_t window, size_t min_periods, double *out)
{
    rolling_sums(x, n, window, min_periods, 1, out);
}

/* ---- variance and standard deviation ------------------------------------ */

/* Recompute when m2 falls below this fraction of its value at the last
 * recomputation: the error left behind (a few eps * that value) is then at
 * most ~1e-11 of the variance. Each such recomputation needs m2 to have
 * fallen 16 bits, so even data built to trigger them (outliers of
 * decreasing size leaving one after another) pays at most a constant
 * (the exponent range / 16) per element. */
#define ROLLING_VAR_MAX_LOSS 0x1.0p-16

typedef struct {
    double center;      /* the finite values are taken as y = x - center */
    double mean;        /* mean of y */
    double m2;          /* sum of (y - mean)^2 */
    size_t count;       /* finite values */
    size_t n_inf;       /* infinities: the variance is NaN while any is in */
    double inv_count;   /* 1 / count: the steady state divides by nothing */
    /* When to recompute: every `span` updates, or when m2 falls below
     * m2_floor (ROLLING_VAR_MAX_LOSS of its value at the last time). */
    size_t since_recenter;
    double m2_floor;
    /* How many of the latest non-NaN inputs equal the last one: when that
     * covers the window, its variance is exactly 0. */
    size_t equal_run;
    double last_value;
} rolling_var_state;

static void rolling_var_reset(rolling_var_state *s)
{
    s->mean = 0.0;
    s->m2 = 0.0;
    s->count = 0;
    s->inv_count = 0.0;
}

static void rolling_var_add(rolling_var_state *s, double v)
{
    if (!rolling_is_value(v))
        return;
    if (!rolling_is_finite(v)) {
        s->n_inf++;
        return;
    }
    if (s->count == 0) {
        /* The first value is the best centre known so far. */
        s->center = v;
        s->mean = 0.0;
        s->m2 = 0.0;
        s->count = 1;
        s->inv_count = 1.0;
        return;
    }
    double y = v - s->center;
    s->count++;
    s->inv_count = 1.0 / (double)s->count;
    double delta = y - s->mean;
    s->mean += delta * s->inv_count;
    s->m2 += delta * (y - s->mean);
}

static void rolling_var_remove(rolling_var_state *s, double v)
{
    if (!rolling_is_value(v))
        return;
    if (!rolling_is_finite(v)) {
        s->n_inf--;
        return;
    }
    if (s->count == 1) {
        rolling_var_reset(s);
        return;
    }
    double y = v - s->center;
    s->count--;
    s->inv_count = 1.0 / (double)s->count;
    double delta = y - s->mean;
    s->mean -= delta * s->inv_count;
    s->m2 -= delta * (y - s->mean);
}

/* One value in, one out, count unchanged: Welford's two updates folded
 * into one, with a single rounding of the mean. */
static void rolling_var_replace(rolling_var_state *s, double entering, double leaving)
{
    double y_in = entering - s->center;
    double y_out = leaving - s->center;
    double step = y_in - y_out;
    double old_mean = s->mean;
    s->mean = old_mean + step * s->inv_count;
    s->m2 += step * ((y_in - s->mean) + (y_out - old_mean));
}

typedef struct {
    double sum, sum_sq;
} rolling_var_sums;

/* Sums of y and y^2, y = x - center, over the finite values of
 * x[first .. last]. Four lanes: this pass costs about one more read per
 * element, so it must not be latency-bound. A NaN or infinity spoils the
 * lanes, and the careful loop then skips it. Takes no pointer to the
 * state, so the state stays in registers in the loops that call it. */
static rolling_var_sums rolling_var_window_sums(const double *x, size_t first, size_t last,
                                                double center)
{
    double sum0 = 0.0, sum1 = 0.0, sum2 = 0.0, sum3 = 0.0;
    double sq0 = 0.0, sq1 = 0.0, sq2 = 0.0, sq3 = 0.0;
    size_t j = first;
    for (; j + 4 <= last + 1; j += 4) {
        double y0 = x[j] - center, y1 = x[j + 1] - center;
        double y2 = x[j + 2] - center, y3 = x[j + 3] - center;
        sum0 += y0;
        sum1 += y1;
        sum2 += y2;
        sum3 += y3;
        sq0 += y0 * y0;
        sq1 += y1 * y1;
        sq2 += y2 * y2;
        sq3 += y3 * y3;
    }
    rolling_var_sums r = {(sum0 + sum1) + (sum2 + sum3), (sq0 + sq1) + (sq2 + sq3)};
    for (; j <= last; j++) {
        double y = x[j] - center;
        r.sum += y;
        r.sum_sq += y * y;
    }
    if (!rolling_is_finite(r.sum_sq)) {
        r.sum = r.sum_sq = 0.0;
        for (j = first; j <= last; j++) {
            if (rolling_is_finite(x[j])) {
                double y = x[j] - center;
                r.sum += y;
                r.sum_sq += y * y;
            }
        }
    }
    return r;
}

/* After every update: is a recomputation due (see the top of the file)?
 * One predictable branch in the steady state; a running peak of m2
 * instead of the floor would cost a mispredicted branch every other step. */
static int rolling_var_due(rolling_var_state *s, size_t span)
{
    return ++s->since_recenter >= span || s->m2 < s->m2_floor;
}

/* The state recomputed from the window ending at x[last]: the centre
 * moves to the current mean, and mean and m2 are taken afresh, so they
 * carry no history. By value, so that the callers' state never has its
 * address taken and stays in registers. */
static rolling_var_state rolling_var_recentered(rolling_var_state s, const double *x,
                                                size_t last, size_t window)
{
    if (s.count > 0) {
        size_t first = last + 1 >= window ? last + 1 - window : 0;
        double center = s.center + s.mean;
        rolling_var_sums r = rolling_var_window_sums(x, first, last, center);
        s.center = center;
        s.mean = r.sum * s.inv_count;
        /* sum is tiny next to sum_sq (the centre is the mean), so this
         * subtraction cancels nothing. */
        s.m2 = r.sum_sq - r.sum * s.mean;
    }
    s.since_recenter = 0;
    /* With m2 at 0 (a constant window) rounding can take it a hair below
     * 0 later: that must not trigger a recomputation at every step. */
    s.m2_floor = s.m2 > 0.0 ? s.m2 * ROLLING_VAR_MAX_LOSS : -INFINITY;
    return s;
}

static void rolling_var_track_equal(rolling_var_state *s, double entering)
{
    s->equal_run = entering == s->last_value ? s->equal_run + 1 : 1;
    s->last_value = entering;
}

/* inv_dof: 1 / (count - ddof), cached by the caller. */
static double rolling_var_value(const rolling_var_state *s, size_t ddof, double inv_dof)
{
    if (s->n_inf > 0 || s->count <= ddof)
        return NAN;
    /* A constant window has variance exactly 0, whatever rounding left in
     * m2 from values that have since left: a z-score must see 0, not 1e-17. */
    if (s->count == 1 || s->equal_run >= s->count + s->n_inf)
        return 0.0;
    /* Rounding can leave m2 a hair below 0 when the true value is 0. */
    double m2 = s->m2 > 0.0 ? s->m2 : 0.0;
    return m2 * inv_dof;
}

/* The steady state, where nearly all the time goes: a full window of
 * `window` >= 2 finite values, enough for min_periods and ddof, so the
 * count, the divisor and the validity of the output never change. Runs
 * from i while the values entering and leaving are finite, with the state
 * in locals (out cannot alias them); returns the first index not done. */
static size_t rolling_var_steady(rolling_var_state *state, const double *x, size_t i, size_t n,
                                 size_t window, size_t ddof, int want_std, double *out)
{
    rolling_var_state s = *state;
    double inv_dof = 1.0 / (double)(window - ddof);
    for (; i < n; i++) {
        double entering = x[i], leaving = x[i - window];
        /* One test for both: a NaN or an infinity on either side makes
         * the difference non-finite (so, rarely, does overflow, which the
         * general path then handles as well). */
        if (!rolling_is_finite(entering - leaving))
            break;
        rolling_var_replace(&s, entering, leaving);
        rolling_var_track_equal(&s, entering);
        if (rolling_var_due(&s, window))
            s = rolling_var_recentered(s, x, i, window);
        double m2 = s.m2 > 0.0 ? s.m2 : 0.0;
        double var = s.equal_run >= window ? 0.0 : m2 * inv_dof;
        out[i] = want_std ? sqrt(var) : var;
    }
    *state = s;
    return i;
}

static void rolling_variance(const double *x, size_t n, size_t window, size_t min_periods,
                             size_t ddof, int want_std, double *out)
{
    if (window == 0) {
        rolling_fill(out, n, NAN);
        return;
    }
    size_t span = rolling_span(window, n);
    rolling_var_state s = {0.0, 0.0, 0.0, 0, 0, 0.0, 0, -INFINITY, 0, NAN};
    int steady_possible = window >= 2 && window >= min_periods && window > ddof;
    size_t dof_count = SIZE_MAX;   /* the count inv_dof was computed for */
    double inv_dof = NAN;
    for (size_t i = 0; i < n; i++) {
        if (steady_possible && i >= window && s.count == window && s.n_inf == 0) {
            i = rolling_var_steady(&s, x, i, n, window, ddof, want_std, out);
            if (i == n)
                break;
        }
        double entering = x[i];
        double leaving = i >= window ? x[i - window] : NAN;
        if (rolling_is_finite(entering) && rolling_is_finite(leaving)) {
            rolling_var_replace(&s, entering, leaving);
        } else {
            rolling_var_remove(&s, leaving);
            rolling_var_add(&s, entering);
        }
        if (rolling_is_value(entering))
            rolling_var_track_equal(&s, entering);
        if (rolling_var_due(&s, span))
            s = rolling_var_recentered(s, x, i, window);
        if (s.count + s.n_inf < min_periods) {
            out[i] = NAN;
            continue;
        }
        if (s.count != dof_count) {
            dof_count = s.count;
            inv_dof = s.count > ddof ? 1.0 / (double)(s.count - ddof) : NAN;
        }
        double var = rolling_var_value(&s, ddof, inv_dof);
        out[i] = want_std ? sqrt(var) : var;
    }
}

void mw_stats_rolling_var(const double *x, size_t n, size_t window, size_t min_periods,
                          size_t ddof, double *out)
{
    rolling_variance(x, n, window, min_periods, ddof, 0, out);
}

void mw_stats_rolling_std(const double *x, size_t n, size_t window, size_t min_periods,
                          size_t ddof, double *out)
{
    rolling_variance(x, n, window, min_periods, ddof, 1, out);
}

/* ---- min and max -------------------------------------------------------- */

size_t mw_stats_rolling_minmax_work_size(size_t window)
{
    if (window > SIZE_MAX / sizeof(size_t))
        return SIZE_MAX;
    return window * sizeof(size_t);
}

/* The deque holds, oldest first, the indices of the window's values that
 * could still become its extreme: each beats every value after it. */
static void rolling_extreme(const double *x, size_t n, size_t window, size_t min_periods,
                            void *work, int want_max, double *out)
{
    if (window == 0 || n == 0) {   /* (no work memory for an empty input) */
        rolling_fill(out, n, NAN);
        return;
    }
    size_t capacity = rolling_span(window, n);
    size_t *deque = work;
    size_t head = 0, len = 0;
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (i >= window) {
            size_t leaving = i - window;
            if (rolling_is_value(x[leaving]))
                count--;
            if (len > 0 && deque[head] == leaving) {
                head = head + 1 == capacity ? 0 : head + 1;
                len--;
            }
        }
        double v = x[i];
        if (rolling_is_value(v)) {
            count++;
            /* Values no better than v can never be the extreme again. */
            while (len > 0) {
                size_t back = head + len - 1;
                if (back >= capacity)
                    back -= capacity;
                double b = x[deque[back]];
                if (want_max ? b > v : b < v)
                    break;
                len--;
            }
            size_t tail = head + len;
            if (tail >= capacity)
                tail -= capacity;
            deque[tail] = i;
            len++;
        }
        out[i] = (count < min_periods || count == 0) ? NAN : x[deque[head]];
    }
}

void mw_stats_rolling_min(const double *x, size_t n, size_t window, size_t min_periods,
                          void *work, double *out)
{
    rolling_extreme(x, n, window, min_periods, work, 0, out);
}

void mw_stats_rolling_max(const double *x, size_t n, size_t window, size_t min_periods,
                          void *work, double *out)
{
    rolling_extreme(x, n, window, min_periods, work, 1, out);
}

/* ---- quantile and median ------------------------------------------------ */

/* Both heaps are max-heaps of `key`: the lower stores the value, the upper
 * its negation (exact), so one set of sift functions serves both. */
typedef struct {
    double key;
    size_t slot;        /* ring slot of the window element */
} rolling_heap_entry;

enum { ROLLING_LOWER = 0, ROLLING_UPPER = 1 };

/* where[slot] for a slot whose value is NaN or not in the window. */
#define ROLLING_ABSENT SIZE_MAX

typedef struct {
    rolling_heap_entry *heap[2];
    size_t len[2];
    size_t *where;      /* per slot: heap position << 1 | side */
} rolling_heaps;

size_t mw_stats_rolling_quantile_work_size(size_t window)
{
    size_t per_slot = sizeof(size_t) + 2 * sizeof(rolling_heap_entry);
    if (window > SIZE_MAX / per_slot)
        return SIZE_MAX;
    return window * per_slot;
}

static void rolling_heap_put(rolling_heaps *h, int side, size_t pos, rolling_heap_entry e)
{
    h->heap[side][pos] = e;
    h->where[e.slot] = pos << 1 | (size_t)side;
}

static void rolling_heap_sift_up(rolling_heaps *h, int side, size_t pos)
{
    rolling_heap_entry *a = h->heap[side];
    rolling_heap_entry e = a[pos];
    while (pos > 0) {
        size_t parent = (pos - 1) / 2;
        if (!(a[parent].key < e.key))
            break;
        rolling_heap_put(h, side, pos, a[parent]);
        pos = parent;
    }
    rolling_heap_put(h, side, pos, e);
}

static void rolling_heap_sift_down(rolling_heaps *h, int side, size_t pos)
{
    rolling_heap_entry *a = h->heap[side];
    size_t len = h->len[side];
    rolling_heap_entry e = a[pos];
    for (;;) {
        size_t child = 2 * pos + 1;
        if (child >= len)
            break;
        if (child + 1 < len && a[child + 1].key > a[child].key)
            child++;
        if (!(a[child].key > e.key))
            break;
        rolling_heap_put(h, side, pos, a[child]);
        pos = child;
    }
    rolling_heap_put(h, side, pos, e);
}

/* Restores the heap order around pos after its key changed either way. */
static void rolling_heap_fix(rolling_heaps *h, int side, size_t pos)
{
    const rolling_heap_entry *a = h->heap[side];
    if (pos > 0 && a[(pos - 1) / 2].key < a[pos].key)
        rolling_heap_sift_up(h, side, pos);
    else
        rolling_heap_sift_down(h, side, pos);
}

static void rolling_heap_push(rolling_heaps *h, int side, rolling_heap_entry e)
{
    size_t pos = h->len[side]++;
    h->heap[side][pos] = e;
    rolling_heap_sift_up(h, side, pos);
}

static rolling_heap_entry rolling_heap_remove_at(rolling_heaps *h, int side, size_t pos)
{
    rolling_heap_entry *a = h->heap[side];
    rolling_heap_entry removed = a[pos];
    size_t last = --h->len[side];
    h->where[removed.slot] = ROLLING_ABSENT;
    if (pos != last) {
        rolling_heap_put(h, side, pos, a[last]);
        rolling_heap_fix(h, side, pos);
    }
    return removed;
}

static double rolling_heap_top(const rolling_heaps *h, int side)
{
    double key = h->heap[side][0].key;
    return side == ROLLING_LOWER ? key : -key;
}

static void rolling_heap_move_top(rolling_heaps *h, int from)
{
    rolling_heap_entry e = rolling_heap_remove_at(h, from, 0);
    e.key = -e.key;
    rolling_heap_push(h, 1 - from, e);
}

/* Size of the lower heap for count values: it ends at the order statistic
 * just below position q * (count - 1). */
static size_t rolling_lower_size(size_t count, double q)
{
    if (count == 0)
        return 0;
    size_t k = (size_t)floor(q * (double)(count - 1));
    return k < count ? k + 1 : count;
}

static void rolling_heaps_balance(rolling_heaps *h, double q)
{
    size_t target = rolling_lower_size(h->len[0] + h->len[1], q);
    while (h->len[ROLLING_LOWER] > target)
        rolling_heap_move_top(h, ROLLING_LOWER);
    while (h->len[ROLLING_LOWER] < target)
        rolling_heap_move_top(h, ROLLING_UPPER);
}

/* Any value no greater than the upper heap's minimum may join the lower
 * heap without breaking lower <= upper. */
static int rolling_belongs_lower(const rolling_heaps *h, double v)
{
    return h->len[ROLLING_UPPER] == 0 || v <= rolling_heap_top(h, ROLLING_UPPER);
}

static void rolling_heaps_insert(rolling_heaps *h, double v, size_t slot)
{
    int side = rolling_belongs_lower(h, v) ? ROLLING_LOWER : ROLLING_UPPER;
    rolling_heap_entry e = {side == ROLLING_LOWER ? v : -v, slot};
    rolling_heap_push(h, side, e);
}

/* The steady state: the value in `slot` leaves and v takes its slot. When
 * v belongs on the same side it takes the leaving entry's place; when not,
 * the other heap's top crosses over into that place and v takes the top's:
 * two sifts, the sizes never change. */
static void rolling_heaps_replace(rolling_heaps *h, size_t slot, double v)
{
    size_t code = h->where[slot];
    int side = (int)(code & 1);
    size_t pos = code >> 1;
    int fits = side == ROLLING_LOWER
        ? rolling_belongs_lower(h, v)
        : (h->len[ROLLING_LOWER] == 0 || v >= rolling_heap_top(h, ROLLING_LOWER));
    if (fits) {
        h->heap[side][pos].key = side == ROLLING_LOWER ? v : -v;
        rolling_heap_fix(h, side, pos);
        return;
    }
    int other = 1 - side;
    rolling_heap_entry crossing = h->heap[other][0];
    crossing.key = -crossing.key;
    rolling_heap_put(h, side, pos, crossing);
    rolling_heap_fix(h, side, pos);
    rolling_heap_entry e = {other == ROLLING_LOWER ? v : -v, slot};
    rolling_heap_put(h, other, 0, e);
    rolling_heap_sift_down(h, other, 0);
}

void mw_stats_rolling_quantile(const double *x, size_t n, size_t window, size_t min_periods,
                               double q, void *work, double *out)
{
    if (window == 0 || n == 0) {   /* (no work memory for an empty input) */
        rolling_fill(out, n, NAN);
        return;
    }
    size_t capacity = rolling_span(window, n);
    rolling_heaps h;
    h.where = work;
    h.heap[ROLLING_LOWER] = (rolling_heap_entry *)(h.where + capacity);
    h.heap[ROLLING_UPPER] = h.heap[ROLLING_LOWER] + capacity;
    h.len[ROLLING_LOWER] = h.len[ROLLING_UPPER] = 0;
    for (size_t slot = 0; slot < capacity; slot++)
        h.where[slot] = ROLLING_ABSENT;

    size_t slot = 0;     /* x[i] lives in slot i mod capacity */
    for (size_t i = 0; i < n; i++) {
        double v = x[i];
        /* The leaving value x[i - window] held this very slot. */
        int leaving = i >= window && h.where[slot] != ROLLING_ABSENT;
        if (leaving && rolling_is_value(v)) {
            rolling_heaps_replace(&h, slot, v);
        } else if (leaving) {
            size_t code = h.where[slot];
            rolling_heap_remove_at(&h, (int)(code & 1), code >> 1);
            rolling_heaps_balance(&h, q);
        } else if (rolling_is_value(v)) {
            rolling_heaps_insert(&h, v, slot);
            rolling_heaps_balance(&h, q);
        }
        slot = slot + 1 == capacity ? 0 : slot + 1;

        size_t count = h.len[ROLLING_LOWER] + h.len[ROLLING_UPPER];
        if (count < min_periods || count == 0) {
            out[i] = NAN;
            continue;
        }
        double position = q * (double)(count - 1);
        double t = position - floor(position);
        double below = rolling_heap_top(&h, ROLLING_LOWER);
        out[i] = (t == 0.0 || h.len[ROLLING_UPPER] == 0)
            ? below
            : mw_stats_interpolate(below, rolling_heap_top(&h, ROLLING_UPPER), t);
    }
}

void mw_stats_rolling_median(const double *x, size_t n, size_t window, size_t min_periods,
                             void *work, double *out)
{
    mw_stats_rolling_quantile(x, n, window, min_periods, 0.5, work, out);
}
