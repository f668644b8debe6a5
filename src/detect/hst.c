/*
 * hst.c: Half-Space Trees (Tan, Ting and Liu, "Fast Anomaly Detection for
 * Streaming Data", IJCAI 2011), as River's anomaly.HalfSpaceTrees does it.
 *
 * Model. n_trees random binary trees of fixed height, built without data:
 * each internal node splits a feature at a value, a row goes right when
 * its value is >= the split. Every node counts the rows that passed
 * through it in two windows of window_size rows: the reference window
 * (the last complete one, `ref`) and the latest window (filling,
 * `latest`). When the latest window is full its counts become the
 * reference and the latest restart at zero: the model forgets in blocks
 * of window_size rows, as in the paper.
 *
 * Trees (River's make_padded_tree, in unit coordinates). Each feature's
 * range starts as [0, 1]; a node picks a feature with probability
 * proportional to the width of its remaining range, and a split uniform
 * in the middle 70% of that range (15% padding at each end, so no cell
 * is much thinner than its siblings); the left child keeps the lower
 * part, the right the upper. Unit coordinates map to the data by the
 * `limits` parameter:
 *   "window" (default) the first window_size rows are buffered; each
 *            feature's [min, max] over them, widened by HST_MARGIN of
 *            its width on each side (a constant feature gets a width of
 *            1e-9 of its magnitude, at least 1e-12), is the unit range.
 *            The trees are built then, and the buffered rows are
 *            counted as the first window, which becomes the reference.
 *            Feature widths are compared in unit coordinates, so a
 *            feature in metres and one in millimetres get splits alike.
 *   "unit"   rows are already scaled to [0, 1] (River's assumption, e.g.
 *            after a min-max scaler); the trees are built on the first
 *            row. This is River's algorithm exactly (but for the
 *            random number generator).
 * Values outside the range are fine: they fall in the outermost cells.
 *
 * Score (River's; higher = more anomalous), for a row x, before learning
 * it: walking each tree from the root (depth 0) to the leaf (depth
 * height) along x's path, add ref(node) * 2^depth for every node until
 * and including the first whose reference count is below size_limit =
 * 0.1 window_size (the paper's sizeLimit), then
 *   score = 1 - sum / (n_trees * window_size * (2^(height+1) - 1)),
 * in [0, 1]: 1 minus the mass of x's region relative to the largest
 * possible. The paper scores only the terminal node's r * 2^depth; River
 * sums the path; we follow River so the numbers compare with it. Rows
 * in dense regions score lower, rows in empty ones close to 1. Until the
 * first window is complete the score is 0 (there is no reference yet).
 *
 * Layout, for speed (one row: n_trees * (height + 1) node visits). A
 * tree is a complete binary tree in heap order: node i has children
 * 2i + 1 and 2i + 2; the internal nodes come first (split value and
 * feature side by side, 16 bytes) and the leaves need no split. Counts
 * are uint32 arrays, n_trees * (2^(height+1) - 1) each, the two windows
 * in one block: the window swap exchanges two pointers and zeroes one
 * array. Learning and scoring share one walk (the score reads `ref`,
 * learning increments `latest`), branch-free per level, the trees in
 * groups that descend together so their memory loads overlap.
 *
 * Memory: n_trees * (16 (2^height - 1) + 8 (2^(height+1) - 1)) bytes
 * (about 61 KB with the defaults), plus window_size * dims doubles for
 * the first window with limits = "window". Time per row: O(n_trees *
 * height), independent of the window.
 */
#include "detect/detect.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stats/rng.h"

enum { P_N_TREES, P_HEIGHT, P_WINDOW_SIZE, P_LIMITS, P_SEED };
enum { LIMITS_WINDOW, LIMITS_UNIT };

/* River's padding: splits fall in the middle 1 - 2 * 0.15 of a range. */
#define HST_PADDING 0.15
/* The first window's range, widened by this fraction of its width on each
 * side: rows slightly beyond what the first window saw still land in
 * cells of their own, sparse in the reference. */
#define HST_MARGIN 0.1
/* The paper's sizeLimit, as a fraction of window_size. */
#define HST_SIZE_LIMIT 0.1

static const char *const hst_limits_choices[] = {"window", "unit", NULL};

static const mw_param_spec hst_params[] = {
    {"n_trees", MW_PARAM_INT, 10, 1, 1000, 0, NULL, "number of trees"},
    {"height", MW_PARAM_INT, 8, 1, 20, 0, NULL,
     "depth of every tree (2^height leaves; memory grows as 2^height)"},
    {"window_size", MW_PARAM_INT, 250, 1, 1e7, 0, NULL,
     "rows per window: the reference is the last complete window"},
    {"limits", MW_PARAM_CHOICE, LIMITS_WINDOW, 0, 0, 0, hst_limits_choices,
     "feature ranges: 'window' (the first window's, widened) or 'unit' (rows scaled to [0, 1])"},
    {"seed", MW_PARAM_INT, 42, 0, 9007199254740991.0, 0, NULL,
     "random seed of the trees"},
};

typedef struct hst_node {
    double split;            /* go right when x[feature] >= split */
    uint32_t feature;
} hst_node;

typedef struct hst_state {
    /* From the parameters. */
    size_t n_trees, height, window_size;
    int limits;
    uint64_t seed;
    size_t n_internal;       /* per tree: 2^height - 1 */
    size_t n_nodes;          /* per tree: 2^(height+1) - 1 */
    uint32_t size_limit;     /* the descent of a score stops below this count */
    double inv_max_score;
    /* Allocated by set_dims. */
    hst_node *nodes;         /* n_trees * n_internal */
    uint32_t *mass_block;    /* 2 * n_trees * n_nodes: the two windows */
    double *first;           /* limits = "window": the first window's rows */
    double *box;             /* 2 * dims: ranges while building a tree */
    size_t nodes_bytes, mass_bytes, first_bytes, box_bytes;
    /* Learned. */
    uint32_t *ref, *latest;  /* the halves of mass_block, swapped */
    mw_rng rng;
    size_t counter;          /* rows in the latest window (or buffered) */
    int built;               /* the trees exist */
    int have_ref;            /* a window is complete: scores are defined */
} hst_state;

static mw_status hst_init(mw_detector *d, char *err)
{
    (void)err;
    hst_state *h = d->state;
    h->n_trees = (size_t)d->params[P_N_TREES];
    h->height = (size_t)d->params[P_HEIGHT];
    h->window_size = (size_t)d->params[P_WINDOW_SIZE];
    h->limits = (int)d->params[P_LIMITS];
    h->seed = (uint64_t)d->params[P_SEED];
    h->n_internal = ((size_t)1 << h->height) - 1;
    h->n_nodes = ((size_t)1 << (h->height + 1)) - 1;
    h->size_limit = (uint32_t)ceil(HST_SIZE_LIMIT * (double)h->window_size);
    h->inv_max_score = 1.0 / ((double)h->n_trees * (double)h->window_size *
                              (double)h->n_nodes);
    mw_rng_seed(&h->rng, h->seed);
    return MW_OK;
}

static void hst_free_arrays(mw_detector *d)
{
    hst_state *h = d->state;
    mw_detector_dealloc(d, h->nodes, h->nodes_bytes);
    mw_detector_dealloc(d, h->mass_block, h->mass_bytes);
    mw_detector_dealloc(d, h->first, h->first_bytes);
    mw_detector_dealloc(d, h->box, h->box_bytes);
    h->nodes = NULL;
    h->mass_block = NULL;
    h->first = NULL;
    h->box = NULL;
}

static void hst_destroy(mw_detector *d)
{
    hst_free_arrays(d);
}

/* River's make_padded_tree below node idx (at depth), in unit coordinates:
 * box holds the node's range per feature (lo[0..dims), hi[dims..2 dims)),
 * restored on return. Preorder, so the draws follow River's order. */
static void hst_grow(hst_state *h, hst_node *tree, size_t idx, size_t depth, size_t dims)
{
    if (depth == h->height)
        return;
    double *lo = h->box, *hi = h->box + dims;
    double total = 0.0;
    for (size_t k = 0; k < dims; k++)
        total += hi[k] - lo[k];
    double r = mw_rng_uniform(&h->rng) * total;
    size_t f = dims - 1;     /* if rounding leaves r at the very top */
    double acc = 0.0;
    for (size_t k = 0; k < dims; k++) {
        acc += hi[k] - lo[k];
        if (r < acc) {
            f = k;
            break;
        }
    }
    double a = lo[f], b = hi[f];
    double at = a + HST_PADDING * (b - a) + mw_rng_uniform(&h->rng) * (1.0 - 2.0 * HST_PADDING) * (b - a);
    tree[idx].feature = (uint32_t)f;
    tree[idx].split = at;
    hi[f] = at;
    hst_grow(h, tree, 2 * idx + 1, depth + 1, dims);
    hi[f] = b;
    lo[f] = at;
    hst_grow(h, tree, 2 * idx + 2, depth + 1, dims);
    lo[f] = a;
}

/* Grows every tree in unit coordinates (each feature's range [0, 1]). */
static void hst_grow_all(hst_state *h, size_t dims)
{
    for (size_t t = 0; t < h->n_trees; t++) {
        for (size_t k = 0; k < dims; k++) {
            h->box[k] = 0.0;
            h->box[dims + k] = 1.0;
        }
        hst_grow(h, h->nodes + t * h->n_internal, 0, 0, dims);
    }
    h->built = 1;
}

/* limits = "window": grows the trees, then maps each unit split u to
 * the first window's range [lo, hi] of its feature, widened (see the top
 * of the file): v = u (1 + 2 margin) - margin, split = (1 - v) lo + v hi,
 * which is lo - margin w + u (1 + 2 margin) w with w = hi - lo, written
 * so that it cannot overflow to a NaN for ranges near +-DBL_MAX; an
 * infinite split is clamped to the largest double. lo and hi go to the
 * box's two halves once the trees are grown. */
static void hst_build_from_first(mw_detector *d)
{
    hst_state *h = d->state;
    size_t dims = d->dims;
    hst_grow_all(h, dims);
    double *lo = h->box, *hi = h->box + dims;
    for (size_t k = 0; k < dims; k++) {
        double a = h->first[k], b = h->first[k];
        for (size_t i = 1; i < h->window_size; i++) {
            double v = h->first[i * dims + k];
            a = v < a ? v : a;
            b = v > b ? v : b;
        }
        double floor_w = 1e-9 * fmax(fabs(a), fabs(b));
        if (floor_w < 1e-12)
            floor_w = 1e-12;
        if (!(b - a > floor_w)) {   /* (nearly) constant: a narrow range around it */
            a -= 0.5 * floor_w;
            b += 0.5 * floor_w;
        }
        lo[k] = a;
        hi[k] = b;
    }
    for (size_t t = 0; t < h->n_trees; t++) {
        hst_node *tree = h->nodes + t * h->n_internal;
        for (size_t i = 0; i < h->n_internal; i++) {
            uint32_t f = tree[i].feature;
            double v = tree[i].split * (1.0 + 2.0 * HST_MARGIN) - HST_MARGIN;
            double split = (1.0 - v) * lo[f] + v * hi[f];
            tree[i].split = split > DBL_MAX ? DBL_MAX : split < -DBL_MAX ? -DBL_MAX : split;
        }
    }
}

/* Back to no rows learned: the unit trees are grown at once (their ranges
 * need no data), the window trees at the end of the first window. */
static void hst_clear(mw_detector *d)
{
    hst_state *h = d->state;
    mw_rng_seed(&h->rng, h->seed);
    h->counter = 0;
    h->built = 0;
    h->have_ref = 0;
    if (h->mass_block == NULL)
        return;
    memset(h->mass_block, 0, h->mass_bytes);
    h->ref = h->mass_block;
    h->latest = h->mass_block + h->n_trees * h->n_nodes;
    if (h->limits == LIMITS_UNIT)
        hst_grow_all(h, d->dims);
}

static void hst_reset(mw_detector *d)
{
    hst_clear(d);
}

static mw_status hst_set_dims(mw_detector *d, char *err)
{
    (void)err;
    hst_state *h = d->state;
    size_t dims = d->dims;
    /* Sizes in double first: huge parameters fail as memory, never wrap. */
    double nodes = (double)h->n_trees * (double)h->n_internal * sizeof(hst_node);
    double mass = 2.0 * (double)h->n_trees * (double)h->n_nodes * sizeof(uint32_t);
    double first = h->limits == LIMITS_WINDOW
                       ? (double)h->window_size * (double)dims * sizeof(double) : 0.0;
    if (nodes + mass + first > (double)(SIZE_MAX / 4))
        return MW_ENOMEM;
    h->nodes_bytes = (size_t)nodes;
    h->mass_bytes = (size_t)mass;
    h->first_bytes = (size_t)first;
    h->box_bytes = 2 * dims * sizeof(double);
    h->nodes = mw_detector_alloc(d, h->nodes_bytes);
    h->mass_block = h->nodes != NULL ? mw_detector_alloc(d, h->mass_bytes) : NULL;
    h->box = h->mass_block != NULL ? mw_detector_alloc(d, h->box_bytes) : NULL;
    if (h->box != NULL && h->first_bytes > 0)
        h->first = mw_detector_alloc(d, h->first_bytes);
    if (h->box == NULL || (h->first_bytes > 0 && h->first == NULL)) {
        mw_status status = d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
        hst_free_arrays(d);
        return status;
    }
    memset(h->nodes, 0, h->nodes_bytes);
    hst_clear(d);
    return MW_OK;
}

/* The walk of one row through every tree: the reference mass sum of the
 * score and, when learn, one count more in `latest` on the path. The
 * trees go down level by level in groups of HST_LANES, so the loads of
 * different trees overlap instead of waiting for each other (a tree's
 * next node depends on its last; the trees do not). The sum is of
 * integers, so the order changes nothing. */
#define HST_LANES 16

static inline uint64_t hst_walk(hst_state *h, const double *row, int learn)
{
    uint64_t sum = 0;
    size_t height = h->height, n_internal = h->n_internal, n_nodes = h->n_nodes;
    uint32_t limit = h->size_limit;
    for (size_t first = 0; first < h->n_trees; first += HST_LANES) {
        size_t lanes = h->n_trees - first < HST_LANES ? h->n_trees - first : HST_LANES;
        size_t idx[HST_LANES];
        uint64_t alive[HST_LANES];   /* all ones until a tree's descent stops */
        for (size_t l = 0; l < lanes; l++) {
            idx[l] = 0;
            alive[l] = ~(uint64_t)0;
        }
        const hst_node *trees = h->nodes + first * n_internal;
        const uint32_t *ref = h->ref + first * n_nodes;
        uint32_t *latest = h->latest + first * n_nodes;
        for (size_t depth = 0; depth < height; depth++) {
            for (size_t l = 0; l < lanes; l++) {
                size_t at = idx[l];
                uint64_t r = ref[l * n_nodes + at];
                sum += (r << depth) & alive[l];
                alive[l] &= -(uint64_t)(r >= limit);
                if (learn)
                    latest[l * n_nodes + at]++;
                const hst_node *node = &trees[l * n_internal + at];
                idx[l] = 2 * at + 1 + (row[node->feature] >= node->split);
            }
        }
        for (size_t l = 0; l < lanes; l++) {
            sum += ((uint64_t)ref[l * n_nodes + idx[l]] << height) & alive[l];
            if (learn)
                latest[l * n_nodes + idx[l]]++;
        }
    }
    return sum;
}

/* The latest window becomes the reference; a new latest starts empty. */
static void hst_pivot(hst_state *h)
{
    uint32_t *old_ref = h->ref;
    h->ref = h->latest;
    h->latest = old_ref;
    memset(h->latest, 0, h->n_trees * h->n_nodes * sizeof(uint32_t));
    h->counter = 0;
    h->have_ref = 1;
}

static double hst_update_row(mw_detector *d, const double *row, double t)
{
    (void)t;
    hst_state *h = d->state;
    if (!h->built) {         /* limits = "window", first window */
        memcpy(h->first + h->counter * d->dims, row, d->dims * sizeof(double));
        if (++h->counter == h->window_size) {
            hst_build_from_first(d);
            for (size_t i = 0; i < h->window_size; i++)
                (void)hst_walk(h, h->first + i * d->dims, 1);
            hst_pivot(h);
        }
        return 0.0;
    }
    double score = h->have_ref ? 1.0 - (double)hst_walk(h, row, 1) * h->inv_max_score
                               : ((void)hst_walk(h, row, 1), 0.0);
    if (++h->counter == h->window_size)
        hst_pivot(h);
    return score;
}

static double hst_score_row(const mw_detector *d, const double *row, double t)
{
    (void)t;
    hst_state *h = d->state;
    if (!h->have_ref)
        return 0.0;
    return 1.0 - (double)hst_walk(h, row, 0) * h->inv_max_score;
}

/* ---- saved state ---------------------------------------------------- */

static void hst_save(const mw_detector *d, mw_blob_writer *w)
{
    const hst_state *h = d->state;
    for (int i = 0; i < 4; i++)
        mw_blob_put_u64(w, h->rng.s[i]);
    mw_blob_put_u8(w, (uint8_t)h->built);
    mw_blob_put_u8(w, (uint8_t)h->have_ref);
    mw_blob_put_u64(w, h->counter);
    if (!h->built) {
        mw_blob_put_f64s(w, h->first, h->counter * d->dims);
        return;
    }
    size_t total_internal = h->n_trees * h->n_internal;
    for (size_t i = 0; i < total_internal; i++) {
        mw_blob_put_u32(w, h->nodes[i].feature);
        mw_blob_put_f64(w, h->nodes[i].split);
    }
    size_t total_nodes = h->n_trees * h->n_nodes;
    for (size_t i = 0; i < total_nodes; i++)
        mw_blob_put_u32(w, h->ref[i]);
    for (size_t i = 0; i < total_nodes; i++)
        mw_blob_put_u32(w, h->latest[i]);
}

static int hst_load(mw_detector *d, mw_blob_reader *r)
{
    hst_state *h = d->state;
    uint64_t s[4];
    for (int i = 0; i < 4; i++)
        s[i] = mw_blob_get_u64(r);
    if (!r->failed && (s[0] | s[1] | s[2] | s[3]) == 0)
        mw_blob_fail(r, "random generator state is all zeros");
    int built = mw_blob_get_u8(r);
    int have_ref = mw_blob_get_u8(r);
    size_t counter = (size_t)mw_blob_get_count(r, h->window_size - 1, "window count");
    if (r->failed)
        return 1;
    if (built > 1 || have_ref > 1 || (have_ref && !built) ||
        (!built && h->limits == LIMITS_UNIT)) {
        mw_blob_fail(r, "inconsistent tree flags (built %d, reference %d)", built, have_ref);
        return 1;
    }
    memcpy(h->rng.s, s, sizeof s);
    h->rng.has_spare = 0;
    h->counter = counter;
    h->built = built;
    h->have_ref = have_ref;
    memset(h->mass_block, 0, h->mass_bytes);
    h->ref = h->mass_block;
    h->latest = h->mass_block + h->n_trees * h->n_nodes;
    if (!built) {
        size_t n = counter * d->dims;
        mw_blob_get_f64s(r, h->first, n);
        for (size_t i = 0; i < n && !r->failed; i++)
            if (!isfinite(h->first[i]))
                mw_blob_fail(r, "buffered row value %zu is not finite", i);
        return r->failed;
    }
    size_t total_internal = h->n_trees * h->n_internal;
    for (size_t i = 0; i < total_internal && !r->failed; i++) {
        uint32_t f = mw_blob_get_u32(r);
        double split = mw_blob_get_finite(r, "split value");
        if (!r->failed && f >= d->dims)
            mw_blob_fail(r, "split feature %u out of range (rows of %zu)", f, d->dims);
        h->nodes[i].feature = f;
        h->nodes[i].split = split;
    }
    size_t total_nodes = h->n_trees * h->n_nodes;
    uint32_t ref_max = have_ref ? (uint32_t)h->window_size : 0;
    for (size_t i = 0; i < total_nodes && !r->failed; i++) {
        h->ref[i] = mw_blob_get_u32(r);
        if (h->ref[i] > ref_max)
            mw_blob_fail(r, "reference count %u out of range", h->ref[i]);
    }
    for (size_t i = 0; i < total_nodes && !r->failed; i++) {
        h->latest[i] = mw_blob_get_u32(r);
        if (h->latest[i] > counter)
            mw_blob_fail(r, "window count %u out of range", h->latest[i]);
    }
    return r->failed;
}

const mw_detector_type mw_detect_hst_type = {
    .name = "hst",
    .role = MW_ROLE_DETECTOR,
    .summary = "Half-Space Trees: 1 - the row's mass in the reference window (rows)",
    .params = hst_params,
    .n_params = sizeof hst_params / sizeof hst_params[0],
    .state_size = sizeof(hst_state),
    .init = hst_init,
    .destroy = hst_destroy,
    .reset = hst_reset,
    .update = mw_detect_row_update,
    .score = mw_detect_row_score,
    .save = hst_save,
    .load = hst_load,
    .set_dims = hst_set_dims,
    .update_row = hst_update_row,
    .score_row = hst_score_row,
};
