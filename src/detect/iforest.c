/*
 * iforest.c: Isolation Forest (Liu, Ting and Zhou, "Isolation Forest",
 * ICDM 2008), a multivariate kind: it scores rows.
 *
 * Each of n_trees trees is built on psi = min(sample, rows) rows drawn
 * without replacement: a node picks a feature at random (among those not
 * constant on its rows) and a split value uniform between their minimum
 * and maximum, until one row is left or the depth reaches
 * ceil(log2(psi)). A row's path length in a tree is the depth e of the
 * leaf it falls in plus c(size), the average depth an unbuilt subtree of
 * that leaf's training rows would have added:
 *
 *   c(n) = 2 H(n - 1) - 2 (n - 1) / n  (n > 2),  c(2) = 1,  c(n) = 0 (n < 2)
 *   H(i) = ln(i) + 0.5772156649 (Euler's constant)
 *   s(x) = 2 ^ (-E[h(x)] / c(psi))     in (0, 1], higher = more anomalous
 *
 * Training: d:fit(rows) builds the forest on all of them. A stream that
 * was never fitted buffers its first `sample` rows (scoring them 0) and
 * builds the forest from them when the buffer is full; later rows are
 * scored and not learned (the forest stays as built: refit to follow
 * drift). A fit replaces the forest, whether or not the buffer was full.
 *
 * Layout, for the scoring loop: the nodes of all trees are one flat array
 * of 16-byte records, a tree's nodes contiguous, children after their
 * parent. An internal node goes to node `next` (its left child) plus one
 * when x[feature] >= threshold. A leaf's `next` is itself and its
 * threshold +inf, so a row takes exactly `depth` steps in every tree
 * without a test for leaves or a branch: rows in a block advance in
 * lockstep, independent loads the processor overlaps. The leaves' path
 * lengths are a second array beside the nodes.
 *
 * Invariants: when fitted, every tree has 1 to 2 psi - 1 nodes, each
 * internal node's children are inside its tree after it, every feature
 * is below dims, and every leaf is at depth at most `depth` (load checks
 * all of it). Memory: 28 n_trees (2 sample - 1) bytes for the trees
 * (node, path length, leaf size), allocated at creation, plus
 * sample (8 dims + 8) + 4 dims for the buffer once the row width is
 * known.
 */
#include "detect/detect.h"
#include "stats/rng.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { P_N_TREES, P_SAMPLE, P_SEED };

static const mw_param_spec iforest_params[] = {
    {"n_trees", MW_PARAM_INT, 100, 1, 10000, 0, NULL, "trees in the forest"},
    {"sample", MW_PARAM_INT, 256, 2, 65536, 0, NULL,
     "rows per tree, drawn without replacement; a stream fits itself on its first `sample` rows"},
    {"seed", MW_PARAM_INT, 42, 0, 9007199254740991.0, 0, NULL,
     "random seed (sampling and splits)"},
};

#define IFOREST_LEAF 0xffffffffu   /* saved feature of a leaf */
#define IFOREST_MAX_DEPTH 16       /* ceil(log2(65536)) */
#define IFOREST_BLOCK 64           /* rows advanced in lockstep */

typedef struct iforest_node {
    double threshold;        /* internal: right when x[feature] >= it; leaf: +inf */
    uint32_t feature;        /* leaf: 0 */
    uint32_t next;           /* internal: left child (right: next + 1); leaf: itself */
} iforest_node;

typedef struct iforest_state {
    size_t n_trees, sample;
    size_t tree_cap;         /* node slots per tree: 2 sample - 1 */
    iforest_node *nodes;     /* n_trees * tree_cap */
    double *path;            /* per node: a leaf's depth + c(size), else 0 */
    uint32_t *leaf_size;     /* per node: a leaf's training rows (saved) */
    uint32_t *n_nodes;       /* per tree */
    /* Known from the row width (set_dims). */
    double *buffer;          /* sample rows: a stream's first ones */
    size_t *pool;            /* sample row indices: the streaming fit's pool */
    uint32_t *perm;          /* dims feature indices: scratch of the split search */
    size_t buffered;
    int fitted;
    size_t psi;              /* rows per tree of the forest */
    unsigned depth;          /* ceil(log2(psi)): steps to a leaf */
    double inv_c;            /* 1 / c(psi) */
    uint64_t seed;
    mw_rng rng;
} iforest_state;

/* c(n): the average path length of an unsuccessful search in a binary
 * search tree of n keys, the paper's normaliser. */
static double iforest_c(double n)
{
    if (n > 2.0)
        return 2.0 * (log(n - 1.0) + 0.5772156649015329) - 2.0 * (n - 1.0) / n;
    return n == 2.0 ? 1.0 : 0.0;
}

static unsigned iforest_depth_of(size_t psi)
{
    unsigned depth = 0;
    while (((size_t)1 << depth) < psi)
        depth++;
    return depth;
}

static mw_status iforest_init(mw_detector *d, char *err)
{
    iforest_state *f = d->state;
    f->n_trees = (size_t)d->params[P_N_TREES];
    f->sample = (size_t)d->params[P_SAMPLE];
    f->seed = (uint64_t)d->params[P_SEED];
    f->tree_cap = 2 * f->sample - 1;
    mw_rng_seed(&f->rng, f->seed);
    size_t slots = f->n_trees * f->tree_cap;   /* at most 1.4e9: no overflow in 64 bits */
    if (slots > SIZE_MAX / sizeof(iforest_node)) {
        snprintf(err, MW_DETECT_ERRLEN, "n_trees * sample is too large for this machine");
        return MW_ENOMEM;
    }
    f->nodes = mw_detector_alloc(d, slots * sizeof *f->nodes);
    f->path = f->nodes != NULL ? mw_detector_alloc(d, slots * sizeof *f->path) : NULL;
    f->leaf_size = f->path != NULL ? mw_detector_alloc(d, slots * sizeof *f->leaf_size) : NULL;
    f->n_nodes = f->leaf_size != NULL ? mw_detector_alloc(d, f->n_trees * sizeof *f->n_nodes)
                                      : NULL;
    if (f->n_nodes == NULL) {
        if (f->leaf_size != NULL)
            mw_detector_dealloc(d, f->leaf_size, slots * sizeof *f->leaf_size);
        if (f->path != NULL)
            mw_detector_dealloc(d, f->path, slots * sizeof *f->path);
        if (f->nodes != NULL)
            mw_detector_dealloc(d, f->nodes, slots * sizeof *f->nodes);
        return d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
    }
    return MW_OK;
}

static void iforest_destroy(mw_detector *d)
{
    iforest_state *f = d->state;
    size_t slots = f->n_trees * f->tree_cap;
    mw_detector_dealloc(d, f->nodes, slots * sizeof *f->nodes);
    mw_detector_dealloc(d, f->path, slots * sizeof *f->path);
    mw_detector_dealloc(d, f->leaf_size, slots * sizeof *f->leaf_size);
    mw_detector_dealloc(d, f->n_nodes, f->n_trees * sizeof *f->n_nodes);
    if (f->buffer != NULL) {
        mw_detector_dealloc(d, f->buffer, f->sample * d->dims * sizeof *f->buffer);
        mw_detector_dealloc(d, f->pool, f->sample * sizeof *f->pool);
        mw_detector_dealloc(d, f->perm, d->dims * sizeof *f->perm);
    }
}

static mw_status iforest_set_dims(mw_detector *d, char *err)
{
    (void)err;
    iforest_state *f = d->state;
    size_t dims = d->dims;   /* at most MW_DETECT_MAX_DIMS: no overflow */
    double *buffer = mw_detector_alloc(d, f->sample * dims * sizeof *buffer);
    size_t *pool = buffer != NULL ? mw_detector_alloc(d, f->sample * sizeof *pool) : NULL;
    uint32_t *perm = pool != NULL ? mw_detector_alloc(d, dims * sizeof *perm) : NULL;
    if (perm == NULL) {
        if (pool != NULL)
            mw_detector_dealloc(d, pool, f->sample * sizeof *pool);
        if (buffer != NULL)
            mw_detector_dealloc(d, buffer, f->sample * dims * sizeof *buffer);
        return d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
    }
    f->buffer = buffer;
    f->pool = pool;
    f->perm = perm;
    return MW_OK;
}

static void iforest_reset(mw_detector *d)
{
    iforest_state *f = d->state;
    f->buffered = 0;
    f->fitted = 0;
    f->psi = 0;
    f->depth = 0;
    f->inv_c = 0.0;
    mw_rng_seed(&f->rng, f->seed);
}

/* Sets the figures that follow from psi. */
static void iforest_derive(iforest_state *f, size_t psi)
{
    f->psi = psi;
    f->depth = iforest_depth_of(psi);
    f->inv_c = 1.0 / iforest_c((double)psi);
}

/* Builds tree `tree` on the psi rows idx[0..psi) of rows (dims wide). */
static void iforest_build_tree(iforest_state *f, size_t tree, const double *rows, size_t dims,
                               size_t *idx, size_t psi)
{
    struct item { uint32_t node, depth; size_t lo, hi; } stack[2 * IFOREST_MAX_DEPTH + 2];
    iforest_node *nodes = f->nodes + tree * f->tree_cap;
    double *path = f->path + tree * f->tree_cap;
    uint32_t *leaf_size = f->leaf_size + tree * f->tree_cap;
    uint32_t n_nodes = 1;
    size_t top = 0;
    stack[top++] = (struct item){0, 0, 0, psi};
    for (size_t k = 0; k < dims; k++)
        f->perm[k] = (uint32_t)k;
    while (top > 0) {
        struct item it = stack[--top];
        size_t size = it.hi - it.lo;
        uint32_t feature = 0;
        double lo = 0.0, hi = 0.0;
        int split = 0;
        if (it.depth < f->depth && size > 1) {
            /* Features in a random order until one varies on these rows. */
            for (size_t tried = 0; tried < dims && !split; tried++) {
                size_t j = tried + (size_t)mw_rng_below(&f->rng, dims - tried);
                uint32_t swap = f->perm[tried];
                f->perm[tried] = f->perm[j];
                f->perm[j] = swap;
                feature = f->perm[tried];
                lo = hi = rows[idx[it.lo] * dims + feature];
                for (size_t i = it.lo + 1; i < it.hi; i++) {
                    double x = rows[idx[i] * dims + feature];
                    lo = x < lo ? x : lo;
                    hi = x > hi ? x : hi;
                }
                split = hi > lo;
            }
        }
        iforest_node *node = &nodes[it.node];
        if (!split) {
            node->threshold = INFINITY;
            node->feature = 0;
            node->next = it.node;
            leaf_size[it.node] = (uint32_t)size;
            path[it.node] = (double)it.depth + iforest_c((double)size);
            continue;
        }
        /* p in (lo, hi]: rows below p go left, so both sides keep a row
         * (the minimum left, the maximum right). */
        double p = lo + mw_rng_uniform(&f->rng) * (hi - lo);
        if (!(p > lo && p <= hi))
            p = hi;
        size_t mid = it.lo;
        for (size_t i = it.lo; i < it.hi; i++) {
            if (rows[idx[i] * dims + feature] < p) {
                size_t swap = idx[i];
                idx[i] = idx[mid];
                idx[mid++] = swap;
            }
        }
        node->threshold = p;
        node->feature = feature;
        node->next = n_nodes;
        leaf_size[it.node] = 0;
        path[it.node] = 0.0;
        stack[top++] = (struct item){n_nodes + 1, it.depth + 1, mid, it.hi};
        stack[top++] = (struct item){n_nodes, it.depth + 1, it.lo, mid};
        n_nodes += 2;
    }
    f->n_nodes[tree] = n_nodes;
}

/* Builds the forest on the n_pool rows pool[] of rows (which it
 * reorders): psi = min(sample, n_pool), each tree on psi of them drawn
 * without replacement (a partial Fisher-Yates shuffle). n_pool >= 2. */
static void iforest_build(iforest_state *f, const double *rows, size_t dims, size_t *pool,
                          size_t n_pool)
{
    size_t psi = n_pool < f->sample ? n_pool : f->sample;
    iforest_derive(f, psi);
    for (size_t tree = 0; tree < f->n_trees; tree++) {
        for (size_t i = 0; i < psi; i++) {
            size_t j = i + (size_t)mw_rng_below(&f->rng, n_pool - i);
            size_t swap = pool[i];
            pool[i] = pool[j];
            pool[j] = swap;
        }
        iforest_build_tree(f, tree, rows, dims, pool, psi);
    }
    f->fitted = 1;
}

/* The score of a row whose path lengths summed over the trees to sum. */
static inline double iforest_score_of(const iforest_state *f, double sum)
{
    return exp2(-(sum / (double)f->n_trees) * f->inv_c);
}

static double iforest_score_one(const iforest_state *f, const double *row)
{
    if (!f->fitted)
        return 0.0;
    double sum = 0.0;
    for (size_t tree = 0; tree < f->n_trees; tree++) {
        const iforest_node *nodes = f->nodes + tree * f->tree_cap;
        uint32_t i = 0;
        for (unsigned step = 0; step < f->depth; step++)
            i = nodes[i].next + (row[nodes[i].feature] >= nodes[i].threshold);
        sum += f->path[tree * f->tree_cap + i];
    }
    return iforest_score_of(f, sum);
}

/* Scores n rows of a fitted forest: blocks of rows go through each tree
 * in lockstep, summing in tree order as iforest_score_one does. */
static void iforest_score_block(const iforest_state *f, const double *rows, size_t dims,
                                size_t n, double *out)
{
    double sum[IFOREST_BLOCK];
    uint32_t at[IFOREST_BLOCK];
    for (size_t start = 0; start < n; start += IFOREST_BLOCK) {
        size_t m = n - start < IFOREST_BLOCK ? n - start : IFOREST_BLOCK;
        const double *block = rows + start * dims;
        for (size_t i = 0; i < m; i++)
            sum[i] = 0.0;
        for (size_t tree = 0; tree < f->n_trees; tree++) {
            const iforest_node *nodes = f->nodes + tree * f->tree_cap;
            for (size_t i = 0; i < m; i++)
                at[i] = 0;
            for (unsigned step = 0; step < f->depth; step++) {
                for (size_t i = 0; i < m; i++) {
                    const iforest_node *node = &nodes[at[i]];
                    at[i] = node->next + (block[i * dims + node->feature] >= node->threshold);
                }
            }
            const double *path = f->path + tree * f->tree_cap;
            for (size_t i = 0; i < m; i++)
                sum[i] += path[at[i]];
        }
        for (size_t i = 0; i < m; i++)
            out[start + i] = iforest_score_of(f, sum[i]);
    }
}

static double iforest_update_row(mw_detector *d, const double *row, double t)
{
    (void)t;
    iforest_state *f = d->state;
    if (f->fitted)
        return iforest_score_one(f, row);
    memcpy(f->buffer + f->buffered * d->dims, row, d->dims * sizeof *row);
    if (++f->buffered == f->sample) {
        for (size_t i = 0; i < f->sample; i++)
            f->pool[i] = i;
        iforest_build(f, f->buffer, d->dims, f->pool, f->sample);
    }
    return 0.0;
}

static double iforest_score_row(const mw_detector *d, const double *row, double t)
{
    (void)t;
    return iforest_score_one(d->state, row);
}

static void iforest_run_rows(mw_detector *d, const double *rows, const double *t, size_t n,
                             double *out)
{
    iforest_state *f = d->state;
    size_t i = 0;
    for (; i < n && !f->fitted; i++)
        out[i] = iforest_update_row(d, rows + i * d->dims, t != NULL ? t[i] : NAN);
    if (i < n)
        iforest_score_block(f, rows + i * d->dims, d->dims, n - i, out + i);
}

static mw_status iforest_fit(mw_detector *d, const double *rows, size_t n, char *err)
{
    iforest_state *f = d->state;
    size_t dims = d->dims, n_finite = 0;
    for (size_t i = 0; i < n; i++) {
        double acc = 0.0;
        for (size_t k = 0; k < dims; k++)
            acc += rows[i * dims + k] - rows[i * dims + k];
        n_finite += acc == 0.0;
    }
    if (n_finite < 2) {
        snprintf(err, MW_DETECT_ERRLEN, "iforest needs at least 2 rows to fit (got %zu)",
                 n_finite);
        return MW_EINVAL;
    }
    size_t *pool = mw_detector_scratch(d, n_finite * sizeof *pool);
    if (pool == NULL)
        return mw_detector_scratch_status(d);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double acc = 0.0;
        for (size_t j = 0; j < dims; j++)
            acc += rows[i * dims + j] - rows[i * dims + j];
        if (acc == 0.0)
            pool[k++] = i;
    }
    iforest_build(f, rows, dims, pool, n_finite);
    mw_detector_scratch_free(d, pool, n_finite * sizeof *pool);
    d->n_learned = n_finite;
    return MW_OK;
}

/* State: u8 fitted, the rng, then either the buffered rows (u64 count,
 * the values) or the forest (u64 psi; per tree u32 nodes, then per node
 * u32 feature and u32 next and f64 threshold, or IFOREST_LEAF and u32
 * size). */
static void iforest_save(const mw_detector *d, mw_blob_writer *w)
{
    const iforest_state *f = d->state;
    mw_blob_put_u8(w, (uint8_t)f->fitted);
    for (int i = 0; i < 4; i++)
        mw_blob_put_u64(w, f->rng.s[i]);
    mw_blob_put_u8(w, (uint8_t)f->rng.has_spare);
    mw_blob_put_f64(w, f->rng.spare);
    if (!f->fitted) {
        mw_blob_put_u64(w, f->buffered);
        mw_blob_put_f64s(w, f->buffer, f->buffered * d->dims);
        return;
    }
    mw_blob_put_u64(w, f->psi);
    for (size_t tree = 0; tree < f->n_trees; tree++) {
        const iforest_node *nodes = f->nodes + tree * f->tree_cap;
        const uint32_t *leaf_size = f->leaf_size + tree * f->tree_cap;
        mw_blob_put_u32(w, f->n_nodes[tree]);
        for (uint32_t i = 0; i < f->n_nodes[tree]; i++) {
            if (nodes[i].next == i) {
                mw_blob_put_u32(w, IFOREST_LEAF);
                mw_blob_put_u32(w, leaf_size[i]);
            } else {
                mw_blob_put_u32(w, nodes[i].feature);
                mw_blob_put_u32(w, nodes[i].next);
                mw_blob_put_f64(w, nodes[i].threshold);
            }
        }
    }
}

/* Reads one tree, checking its shape: children inside the tree after
 * their parent, features below dims, leaves no deeper than f->depth and
 * no larger than psi. Node depths are kept in path[] while reading. */
static void iforest_load_tree(iforest_state *f, size_t tree, size_t dims, mw_blob_reader *r)
{
    iforest_node *nodes = f->nodes + tree * f->tree_cap;
    double *path = f->path + tree * f->tree_cap;
    uint32_t *leaf_size = f->leaf_size + tree * f->tree_cap;
    uint32_t n_nodes = mw_blob_get_u32(r);
    if (!r->failed && (n_nodes == 0 || n_nodes > 2 * f->psi - 1))
        mw_blob_fail(r, "tree size out of range (%u, 1 to %zu)", n_nodes, 2 * f->psi - 1);
    if (r->failed)
        n_nodes = 0;
    for (uint32_t i = 0; i < n_nodes; i++)
        path[i] = i == 0 ? 0.0 : -1.0;   /* -1: no parent yet */
    for (uint32_t i = 0; i < n_nodes && !r->failed; i++) {
        uint32_t feature = mw_blob_get_u32(r);
        double depth = path[i];
        if (depth < 0.0)
            mw_blob_fail(r, "tree node %u has no parent", i);
        if (feature == IFOREST_LEAF) {
            uint32_t size = mw_blob_get_u32(r);
            if (!r->failed && (size == 0 || size > f->psi))
                mw_blob_fail(r, "leaf size out of range (%u, 1 to %zu)", size, f->psi);
            nodes[i] = (iforest_node){INFINITY, 0, i};
            leaf_size[i] = size;
            path[i] = depth + iforest_c((double)size);
            continue;
        }
        uint32_t next = mw_blob_get_u32(r);
        double threshold = mw_blob_get_finite(r, "split value");
        if (r->failed)
            break;
        if (feature >= dims)
            mw_blob_fail(r, "split feature out of range (%u, rows of %zu)", feature, dims);
        else if (next <= i || next >= n_nodes - 1 || path[next] >= 0.0 || path[next + 1] >= 0.0)
            mw_blob_fail(r, "tree node %u has misplaced children", i);
        else if (depth >= (double)f->depth)
            mw_blob_fail(r, "tree deeper than %u", f->depth);
        nodes[i] = (iforest_node){threshold, feature, next};
        leaf_size[i] = 0;
        path[i] = 0.0;
        if (!r->failed)
            path[next] = path[next + 1] = depth + 1.0;
    }
    f->n_nodes[tree] = n_nodes;
}

static int iforest_load(mw_detector *d, mw_blob_reader *r)
{
    iforest_state *f = d->state;
    int fitted = mw_blob_get_u8(r);
    for (int i = 0; i < 4; i++)
        f->rng.s[i] = mw_blob_get_u64(r);
    f->rng.has_spare = mw_blob_get_u8(r) != 0;
    f->rng.spare = mw_blob_get_f64(r);
    if (!r->failed && fitted > 1)
        mw_blob_fail(r, "bad fitted flag");
    if (r->failed)
        return 1;
    if (!fitted) {
        f->buffered = (size_t)mw_blob_get_count(r, f->sample - 1, "buffered rows");
        mw_blob_get_f64s(r, f->buffer, r->failed ? 0 : f->buffered * d->dims);
        return r->failed;
    }
    size_t psi = (size_t)mw_blob_get_count(r, f->sample, "rows per tree");
    if (!r->failed && psi < 2)
        mw_blob_fail(r, "rows per tree out of range (%zu, at least 2)", psi);
    if (r->failed)
        return 1;
    iforest_derive(f, psi);
    for (size_t tree = 0; tree < f->n_trees && !r->failed; tree++)
        iforest_load_tree(f, tree, d->dims, r);
    f->fitted = !r->failed;
    return r->failed;
}

const mw_detector_type mw_detect_iforest_type = {
    .name = "iforest",
    .role = MW_ROLE_DETECTOR,
    .summary = "isolation forest: 2^(-mean path length / c(sample)) of a row, in (0, 1]",
    .params = iforest_params,
    .n_params = sizeof iforest_params / sizeof iforest_params[0],
    .state_size = sizeof(iforest_state),
    .init = iforest_init,
    .destroy = iforest_destroy,
    .reset = iforest_reset,
    .update = mw_detect_row_update,
    .score = mw_detect_row_score,
    .save = iforest_save,
    .load = iforest_load,
    .set_dims = iforest_set_dims,
    .update_row = iforest_update_row,
    .score_row = iforest_score_row,
    .run_rows = iforest_run_rows,
    .fit = iforest_fit,
};
