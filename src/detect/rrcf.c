/*
 * rrcf.c: Robust Random Cut Forest (Guha, Mishra, Roy and Schrijvers,
 * "Robust Random Cut Forest Based Anomaly Detection on Streams", ICML
 * 2016), streaming, as the kLabUM `rrcf` Python package does it.
 *
 * Model. n_trees random cut trees over the same sliding window of the
 * last tree_size points. A tree is a binary tree whose leaves are the
 * points; a branch cuts one dimension at a value (a point goes left when
 * its value is <= the cut) and keeps the bounding box of the points
 * below it. A new point x is inserted as in the paper (and the package's
 * insert_point): at a node with box [lo, hi], form the box extended by
 * x, pick a dimension with probability proportional to its extended
 * span and a cut uniform in it; if the cut separates x from the box, x
 * becomes a new leaf beside the node under a new branch with that cut;
 * otherwise x descends to the child its value falls in, and so on (at a
 * leaf the cut always separates). The result has the distribution of a
 * tree built from scratch on the window with x in it. Deleting a point
 * (the package's forget_point) replaces its parent branch by its
 * sibling, and boxes are relaxed upwards while the removed point was on
 * their edge. A point equal to one in the tree (every value) does not
 * get a leaf of its own: that leaf counts it once more (duplicates).
 *
 * Score. For each row: the point is inserted into every tree, scored,
 * and then the oldest point is deleted if the window holds more than
 * tree_size (so it is scored against the last tree_size points, as in
 * the package's streaming example, and a tree holds at most tree_size
 * points between rows). The score is the collusive displacement
 *   CoDisp(x) = max over the ancestors v of x's leaf (v below the root
 *               included, the leaf itself included) of
 *               n(sibling of v) / n(v),
 * n counting the points below a node, averaged over the trees (the
 * package's codisp). It is the largest number of points that would move
 * up per point removed with x's group, so an isolated point scores about
 * the window size and points inside a cluster about 1. The first point
 * (alone in its tree) scores 0. score(x) without learning is the CoDisp
 * x would get, the same number (the tree is not changed: the insertion
 * is followed from the root and the counts it would change are read
 * plus one; the same random numbers are drawn from a copy of the
 * generator).
 *
 * Shingles. With shingle = s > 1 the point is the last s rows laid end
 * to end (s values for a plain series: `d:update(x)`), the first s - 1
 * rows only fill it and score 0.
 *
 * Numbers. Values are clamped to +-1e300 (so that a span of the box
 * cannot overflow) and -0 becomes +0 (so that boxes compare bit for
 * bit); equal points are equal after that. Cuts are drawn in [lo, hi)
 * of the extended box, so that "x <= cut goes left" agrees with every
 * separation, and a branch's children satisfy
 *   max of left[dim] <= cut < min of right[dim].
 * Boxes are kept exact (min and max are exact), so a box recomputed
 * from the leaves is the same bits: state is saved as the points and
 * each tree's shape, and the boxes are rebuilt when loading.
 *
 * Memory, bounded: the window of tree_size + 1 points (shared by the
 * trees), and per tree tree_size branches (a box of 2 * dims doubles and
 * 32 bytes) and tree_size + 1 leaves (32 bytes), all allocated when the
 * row width is known. Time per row: O(n_trees * depth * dims), depth
 * about 2 ln(tree_size) on data without structure.
 */
#include "detect/detect.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "stats/rng.h"

enum { P_N_TREES, P_TREE_SIZE, P_SHINGLE, P_SEED };

/* Values are clamped to this magnitude (see Numbers above). */
#define RRCF_VALUE_MAX 1e300
/* The widest point (row width times shingle). */
#define RRCF_MAX_POINT 65536

static const mw_param_spec rrcf_params[] = {
    {"n_trees", MW_PARAM_INT, 40, 1, 1000, 0, NULL, "number of trees"},
    {"tree_size", MW_PARAM_INT, 256, 1, 1e6, 0, NULL,
     "points in each tree: the window of the last tree_size points"},
    {"shingle", MW_PARAM_INT, 1, 1, 1000, 0, NULL,
     "rows per point: the last shingle rows laid end to end (1: the row itself)"},
    {"seed", MW_PARAM_INT, 42, 0, 9007199254740991.0, 0, NULL,
     "random seed of the cuts"},
};

/* Node ids: [0, cap_branch) are branches, [cap_branch, cap_branch +
 * cap_leaf) leaves; -1 is none. */
typedef struct rrcf_node {
    int32_t parent;
    int32_t left, right;     /* branch: children; leaf: its oldest and newest slot */
    uint32_t n;              /* points below (a leaf: its duplicates) */
    uint32_t dim;            /* branch: the cut's dimension */
    double cut;              /* branch: left when x[dim] <= cut */
} rrcf_node;

typedef struct rrcf_tree {
    rrcf_node *nodes;
    double *box;             /* per branch: lo[pdims] then hi[pdims] */
    int32_t *leaf_of_slot;   /* per window slot: its leaf, or -1 */
    int32_t *next_slot;      /* per slot: the next newer slot of its leaf, or -1 */
    int32_t root;
    int32_t free_branch, free_leaf; /* free lists, linked through parent */
} rrcf_tree;

typedef struct rrcf_state {
    /* From the parameters. */
    size_t n_trees, tree_size, shingle;
    uint64_t seed;
    /* Set by set_dims. */
    size_t pdims;            /* values per point: dims * shingle */
    size_t ring_cap;         /* tree_size + 1 slots */
    size_t cap_branch, cap_leaf;
    double *block;           /* one allocation for everything below */
    size_t block_bytes;
    double *ring;            /* ring_cap points */
    double *shingle_rows;    /* the last shingle rows, oldest first */
    double *query;           /* a point being scored without learning */
    rrcf_tree *trees;
    /* Learned. */
    mw_rng rng;
    size_t oldest, count;    /* the window: count points from slot oldest */
    size_t rows_in_shingle;  /* rows in shingle_rows, up to shingle */
} rrcf_state;

static mw_status rrcf_init(mw_detector *d, char *err)
{
    (void)err;
    rrcf_state *s = d->state;
    s->n_trees = (size_t)d->params[P_N_TREES];
    s->tree_size = (size_t)d->params[P_TREE_SIZE];
    s->shingle = (size_t)d->params[P_SHINGLE];
    s->seed = (uint64_t)d->params[P_SEED];
    mw_rng_seed(&s->rng, s->seed);
    return MW_OK;
}

static void rrcf_destroy(mw_detector *d)
{
    rrcf_state *s = d->state;
    mw_detector_dealloc(d, s->block, s->block_bytes);
    s->block = NULL;
}

/* ---- one tree ------------------------------------------------------- */

static inline int rrcf_is_leaf(const rrcf_state *s, int32_t id)
{
    return (size_t)id >= s->cap_branch;
}

static inline const double *rrcf_leaf_point(const rrcf_state *s, const rrcf_tree *tr,
                                            int32_t leaf)
{
    return s->ring + (size_t)tr->nodes[leaf].left * s->pdims;
}

/* The box of a node: a branch's own, a leaf's point (lo = hi). */
static inline void rrcf_node_box(const rrcf_state *s, const rrcf_tree *tr, int32_t id,
                                 const double **lo, const double **hi)
{
    if (rrcf_is_leaf(s, id)) {
        *lo = *hi = rrcf_leaf_point(s, tr, id);
    } else {
        *lo = tr->box + (size_t)id * 2 * s->pdims;
        *hi = *lo + s->pdims;
    }
}

static void rrcf_tree_clear(const rrcf_state *s, rrcf_tree *tr)
{
    tr->root = -1;
    for (size_t i = 0; i < s->cap_branch; i++)
        tr->nodes[i].parent = i + 1 < s->cap_branch ? (int32_t)(i + 1) : -1;
    for (size_t i = 0; i < s->cap_leaf; i++)
        tr->nodes[s->cap_branch + i].parent =
            i + 1 < s->cap_leaf ? (int32_t)(s->cap_branch + i + 1) : -1;
    tr->free_branch = 0;
    tr->free_leaf = (int32_t)s->cap_branch;
    for (size_t i = 0; i < s->ring_cap; i++) {
        tr->leaf_of_slot[i] = -1;
        tr->next_slot[i] = -1;
    }
}

/* Takes a node from a free list (never empty: the caps bound the tree). */
static inline int32_t rrcf_take(rrcf_tree *tr, int32_t *list)
{
    int32_t id = *list;
    *list = tr->nodes[id].parent;
    return id;
}

static inline void rrcf_give(rrcf_tree *tr, int32_t *list, int32_t id)
{
    tr->nodes[id].parent = *list;
    *list = id;
}

/* The child of branch id that x falls in. */
static inline int32_t rrcf_step(const rrcf_tree *tr, int32_t id, const double *x)
{
    const rrcf_node *b = &tr->nodes[id];
    return x[b->dim] <= b->cut ? b->left : b->right;
}

/* A random cut of the box [lo, hi] extended by x: a dimension with
 * probability proportional to its extended span, a cut uniform in
 * [min, max) of it. Returns -1 (x goes left of the cut), 1 (right) when
 * the cut separates x from the box, 0 otherwise; *dim and *cut get the
 * cut. One uniform draw. */
static int rrcf_cut(const double *lo, const double *hi, const double *x, size_t pdims,
                    mw_rng *rng, uint32_t *dim, double *cut)
{
    double total = 0.0;
    for (size_t k = 0; k < pdims; k++) {
        double a = x[k] < lo[k] ? x[k] : lo[k];
        double b = x[k] > hi[k] ? x[k] : hi[k];
        total += b - a;
    }
    double r = mw_rng_uniform(rng) * total;
    double acc = 0.0;
    size_t j = pdims, last = pdims;
    double t = 0.0;
    for (size_t k = 0; k < pdims; k++) {
        double a = x[k] < lo[k] ? x[k] : lo[k];
        double b = x[k] > hi[k] ? x[k] : hi[k];
        if (b > a)
            last = k;
        double prev = acc;
        acc += b - a;
        if (r < acc) {
            j = k;
            t = r - prev;
            break;
        }
    }
    if (j == pdims) {        /* r rounded up to the total */
        if (last == pdims)
            return 0;        /* x inside a box of one point: cannot cut */
        j = last;
        t = 0.0;
    }
    double a = x[j] < lo[j] ? x[j] : lo[j];
    double b = x[j] > hi[j] ? x[j] : hi[j];
    double c = a + t;
    if (!(c < b))
        c = a;
    *dim = (uint32_t)j;
    *cut = c;
    if (c < lo[j])
        return -1;
    if (c >= hi[j])
        return 1;
    return 0;
}

static int rrcf_equal(const double *a, const double *b, size_t pdims)
{
    for (size_t k = 0; k < pdims; k++)
        if (a[k] != b[k])
            return 0;
    return 1;
}

/* The leaf x's path ends in. */
static int32_t rrcf_query(const rrcf_tree *tr, int32_t root, const rrcf_state *s,
                          const double *x)
{
    int32_t id = root;
    while (!rrcf_is_leaf(s, id))
        id = rrcf_step(tr, id, x);
    return id;
}

/* Inserts the point in slot (already in the ring) and returns its leaf. */
static int32_t rrcf_insert(rrcf_state *s, rrcf_tree *tr, size_t slot)
{
    const double *x = s->ring + slot * s->pdims;
    size_t pdims = s->pdims;
    if (tr->root < 0) {
        int32_t leaf = rrcf_take(tr, &tr->free_leaf);
        tr->nodes[leaf] = (rrcf_node){-1, (int32_t)slot, (int32_t)slot, 1, 0, 0.0};
        tr->root = leaf;
        tr->leaf_of_slot[slot] = leaf;
        tr->next_slot[slot] = -1;
        return leaf;
    }
    int32_t near = rrcf_query(tr, tr->root, s, x);
    if (rrcf_equal(rrcf_leaf_point(s, tr, near), x, pdims)) {
        rrcf_node *leaf = &tr->nodes[near];
        tr->next_slot[leaf->right] = (int32_t)slot;
        tr->next_slot[slot] = -1;
        leaf->right = (int32_t)slot;
        tr->leaf_of_slot[slot] = near;
        for (int32_t a = near; a >= 0; a = tr->nodes[a].parent)
            tr->nodes[a].n++;
        return near;
    }
    int32_t node = tr->root;
    uint32_t dim = 0;
    double cut = 0.0;
    int side;
    for (;;) {
        const double *lo, *hi;
        rrcf_node_box(s, tr, node, &lo, &hi);
        side = rrcf_cut(lo, hi, x, pdims, &s->rng, &dim, &cut);
        if (side != 0)
            break;
        node = rrcf_step(tr, node, x);
    }
    int32_t leaf = rrcf_take(tr, &tr->free_leaf);
    int32_t branch = rrcf_take(tr, &tr->free_branch);
    int32_t parent = tr->nodes[node].parent;
    tr->nodes[leaf] = (rrcf_node){branch, (int32_t)slot, (int32_t)slot, 1, 0, 0.0};
    tr->nodes[branch] = (rrcf_node){parent, side < 0 ? leaf : node, side < 0 ? node : leaf,
                                    tr->nodes[node].n + 1, dim, cut};
    tr->leaf_of_slot[slot] = leaf;
    tr->next_slot[slot] = -1;
    /* The new branch's box: the node's, extended by x. */
    const double *lo, *hi;
    rrcf_node_box(s, tr, node, &lo, &hi);
    double *blo = tr->box + (size_t)branch * 2 * pdims, *bhi = blo + pdims;
    for (size_t k = 0; k < pdims; k++) {
        blo[k] = x[k] < lo[k] ? x[k] : lo[k];
        bhi[k] = x[k] > hi[k] ? x[k] : hi[k];
    }
    tr->nodes[node].parent = branch;
    if (parent < 0) {
        tr->root = branch;
    } else if (tr->nodes[parent].left == node) {
        tr->nodes[parent].left = branch;
    } else {
        tr->nodes[parent].right = branch;
    }
    /* The ancestors: one point more, boxes extended by x. */
    for (int32_t a = parent; a >= 0; a = tr->nodes[a].parent) {
        tr->nodes[a].n++;
        double *alo = tr->box + (size_t)a * 2 * pdims, *ahi = alo + pdims;
        for (size_t k = 0; k < pdims; k++) {
            alo[k] = x[k] < alo[k] ? x[k] : alo[k];
            ahi[k] = x[k] > ahi[k] ? x[k] : ahi[k];
        }
    }
    return leaf;
}

/* Recomputes branch id's box from its children. */
static void rrcf_box_of_children(const rrcf_state *s, rrcf_tree *tr, int32_t id)
{
    const double *llo, *lhi, *rlo, *rhi;
    rrcf_node_box(s, tr, tr->nodes[id].left, &llo, &lhi);
    rrcf_node_box(s, tr, tr->nodes[id].right, &rlo, &rhi);
    double *lo = tr->box + (size_t)id * 2 * s->pdims, *hi = lo + s->pdims;
    for (size_t k = 0; k < s->pdims; k++) {
        lo[k] = llo[k] < rlo[k] ? llo[k] : rlo[k];
        hi[k] = lhi[k] > rhi[k] ? lhi[k] : rhi[k];
    }
}

/* Deletes the point in slot, the oldest of the window. */
static void rrcf_forget(rrcf_state *s, rrcf_tree *tr, size_t slot)
{
    int32_t leaf = tr->leaf_of_slot[slot];
    tr->leaf_of_slot[slot] = -1;
    rrcf_node *l = &tr->nodes[leaf];
    if (l->n > 1) {          /* a duplicate goes: its oldest slot is this one */
        l->left = tr->next_slot[slot];
        tr->next_slot[slot] = -1;
        for (int32_t a = leaf; a >= 0; a = tr->nodes[a].parent)
            tr->nodes[a].n--;
        return;
    }
    int32_t parent = l->parent;
    rrcf_give(tr, &tr->free_leaf, leaf);
    if (parent < 0) {
        tr->root = -1;
        return;
    }
    rrcf_node *p = &tr->nodes[parent];
    int32_t sibling = p->left == leaf ? p->right : p->left;
    int32_t grand = p->parent;
    tr->nodes[sibling].parent = grand;
    rrcf_give(tr, &tr->free_branch, parent);
    if (grand < 0) {
        tr->root = sibling;
        return;
    }
    if (tr->nodes[grand].left == parent)
        tr->nodes[grand].left = sibling;
    else
        tr->nodes[grand].right = sibling;
    for (int32_t a = grand; a >= 0; a = tr->nodes[a].parent)
        tr->nodes[a].n--;
    /* Relax the boxes that had the point on an edge. */
    const double *x = s->ring + slot * s->pdims;
    for (int32_t a = grand; a >= 0; a = tr->nodes[a].parent) {
        const double *lo = tr->box + (size_t)a * 2 * s->pdims, *hi = lo + s->pdims;
        int touches = 0;
        for (size_t k = 0; k < s->pdims && !touches; k++)
            touches = lo[k] == x[k] || hi[k] == x[k];
        if (!touches)
            break;
        rrcf_box_of_children(s, tr, a);
    }
}

/* CoDisp of a leaf in its tree (see the top of the file). */
static double rrcf_codisp(const rrcf_tree *tr, int32_t leaf)
{
    double best = 0.0;
    int32_t node = leaf;
    for (int32_t p = tr->nodes[node].parent; p >= 0; node = p, p = tr->nodes[p].parent) {
        const rrcf_node *b = &tr->nodes[p];
        int32_t sibling = b->left == node ? b->right : b->left;
        double ratio = (double)tr->nodes[sibling].n / (double)tr->nodes[node].n;
        best = ratio > best ? ratio : best;
    }
    return best;
}

/* The CoDisp that inserting x would give, the tree unchanged: the same
 * walk and draws as rrcf_insert, each count on the path read plus one. */
static double rrcf_codisp_if_inserted(const rrcf_state *s, const rrcf_tree *tr,
                                      const double *x, mw_rng *rng)
{
    if (tr->root < 0)
        return 0.0;
    double best = 0.0;
    int32_t near = rrcf_query(tr, tr->root, s, x);
    if (rrcf_equal(rrcf_leaf_point(s, tr, near), x, s->pdims)) {
        int32_t node = near;
        for (int32_t p = tr->nodes[node].parent; p >= 0; node = p, p = tr->nodes[p].parent) {
            const rrcf_node *b = &tr->nodes[p];
            int32_t sibling = b->left == node ? b->right : b->left;
            double ratio = (double)tr->nodes[sibling].n / (double)(tr->nodes[node].n + 1);
            best = ratio > best ? ratio : best;
        }
        return best;
    }
    int32_t node = tr->root;
    for (;;) {
        const double *lo, *hi;
        uint32_t dim;
        double cut;
        rrcf_node_box(s, tr, node, &lo, &hi);
        if (rrcf_cut(lo, hi, x, s->pdims, rng, &dim, &cut) != 0) {
            double ratio = (double)tr->nodes[node].n / 1.0;
            return ratio > best ? ratio : best;
        }
        const rrcf_node *b = &tr->nodes[node];
        int32_t child = rrcf_step(tr, node, x);
        int32_t sibling = b->left == child ? b->right : b->left;
        double ratio = (double)tr->nodes[sibling].n / (double)(tr->nodes[child].n + 1);
        best = ratio > best ? ratio : best;
        node = child;
    }
}

/* ---- the forest ------------------------------------------------------ */

static void rrcf_clear(rrcf_state *s)
{
    mw_rng_seed(&s->rng, s->seed);
    s->oldest = 0;
    s->count = 0;
    s->rows_in_shingle = 0;
    if (s->block == NULL)
        return;
    for (size_t t = 0; t < s->n_trees; t++)
        rrcf_tree_clear(s, &s->trees[t]);
}

static void rrcf_reset(mw_detector *d)
{
    rrcf_clear(d->state);
}

static mw_status rrcf_set_dims(mw_detector *d, char *err)
{
    rrcf_state *s = d->state;
    if ((double)d->dims * (double)s->shingle > RRCF_MAX_POINT) {
        snprintf(err, MW_DETECT_ERRLEN,
                 "rows of %zu values with shingle %zu make points of more than %d values",
                 d->dims, s->shingle, RRCF_MAX_POINT);
        return MW_EINVAL;
    }
    s->pdims = d->dims * s->shingle;
    s->ring_cap = s->tree_size + 1;
    s->cap_branch = s->tree_size;
    s->cap_leaf = s->tree_size + 1;
    /* Sizes in double first: huge parameters fail as memory, never wrap. */
    double pdims = (double)s->pdims, ring_cap = (double)s->ring_cap;
    double per_tree = (double)(s->cap_branch + s->cap_leaf) * sizeof(rrcf_node) +
                      (double)s->cap_branch * 2.0 * pdims * sizeof(double) +
                      2.0 * ring_cap * sizeof(int32_t);
    double bytes = (ring_cap + 2.0) * pdims * sizeof(double) +
                   (double)s->n_trees * (sizeof(rrcf_tree) + per_tree + 16.0);
    if (bytes > (double)(SIZE_MAX / 4))
        return MW_ENOMEM;
    /* One block: the doubles first, then the trees, nodes and slots (each
     * part a multiple of 8 bytes, so every part stays aligned). */
    size_t n_doubles = (s->ring_cap + 2) * s->pdims +
                       s->n_trees * s->cap_branch * 2 * s->pdims;
    size_t node_bytes = s->n_trees * (s->cap_branch + s->cap_leaf) * sizeof(rrcf_node);
    size_t slot_bytes = (s->n_trees * 2 * s->ring_cap * sizeof(int32_t) + 7) / 8 * 8;
    size_t tree_bytes = (s->n_trees * sizeof(rrcf_tree) + 7) / 8 * 8;
    s->block_bytes = n_doubles * sizeof(double) + node_bytes + slot_bytes + tree_bytes;
    s->block = mw_detector_alloc(d, s->block_bytes);
    if (s->block == NULL)
        return d->alloc->last_error != MW_OK ? d->alloc->last_error : MW_ENOMEM;
    memset(s->block, 0, s->block_bytes);
    double *dp = s->block;
    s->ring = dp;
    dp += s->ring_cap * s->pdims;
    s->shingle_rows = dp;
    dp += s->pdims;
    s->query = dp;
    dp += s->pdims;
    double *boxes = dp;
    dp += s->n_trees * s->cap_branch * 2 * s->pdims;
    rrcf_node *nodes = (rrcf_node *)(void *)dp;
    int32_t *slots = (int32_t *)(void *)(nodes + s->n_trees * (s->cap_branch + s->cap_leaf));
    s->trees = (rrcf_tree *)(void *)((char *)slots + slot_bytes);
    for (size_t t = 0; t < s->n_trees; t++) {
        rrcf_tree *tr = &s->trees[t];
        tr->nodes = nodes + t * (s->cap_branch + s->cap_leaf);
        tr->box = boxes + t * s->cap_branch * 2 * s->pdims;
        tr->leaf_of_slot = slots + t * 2 * s->ring_cap;
        tr->next_slot = tr->leaf_of_slot + s->ring_cap;
    }
    rrcf_clear(s);
    return MW_OK;
}

/* A value as the trees keep it (see Numbers at the top). */
static inline double rrcf_canon(double v)
{
    if (v > RRCF_VALUE_MAX)
        return RRCF_VALUE_MAX;
    if (v < -RRCF_VALUE_MAX)
        return -RRCF_VALUE_MAX;
    return v + 0.0;          /* -0 becomes +0 */
}

static double rrcf_update_row(mw_detector *d, const double *row, double t)
{
    (void)t;
    rrcf_state *s = d->state;
    size_t dims = d->dims;
    if (s->shingle > 1) {
        if (s->rows_in_shingle == s->shingle)
            memmove(s->shingle_rows, s->shingle_rows + dims, (s->pdims - dims) * sizeof(double));
        else
            s->rows_in_shingle++;
        memcpy(s->shingle_rows + (s->rows_in_shingle - 1) * dims, row, dims * sizeof(double));
        if (s->rows_in_shingle < s->shingle)
            return 0.0;
        row = s->shingle_rows;
    }
    size_t slot = (s->oldest + s->count) % s->ring_cap;
    double *x = s->ring + slot * s->pdims;
    for (size_t k = 0; k < s->pdims; k++)
        x[k] = rrcf_canon(row[k]);
    double sum = 0.0;
    for (size_t i = 0; i < s->n_trees; i++) {
        rrcf_tree *tr = &s->trees[i];
        sum += rrcf_codisp(tr, rrcf_insert(s, tr, slot));
    }
    if (++s->count > s->tree_size) {
        for (size_t i = 0; i < s->n_trees; i++)
            rrcf_forget(s, &s->trees[i], s->oldest);
        s->oldest = (s->oldest + 1) % s->ring_cap;
        s->count--;
    }
    return sum / (double)s->n_trees;
}

static double rrcf_score_row(const mw_detector *d, const double *row, double t)
{
    (void)t;
    const rrcf_state *s = d->state;
    size_t dims = d->dims;
    double *x = s->query;    /* scratch the detector owns for this */
    if (s->shingle > 1) {
        if (s->rows_in_shingle + 1 < s->shingle)
            return 0.0;
        /* The shingle update_row would form: the last shingle - 1 rows, then row. */
        size_t keep = s->shingle - 1;
        const double *from = s->shingle_rows + (s->rows_in_shingle - keep) * dims;
        for (size_t k = 0; k < keep * dims; k++)
            x[k] = rrcf_canon(from[k]);
        for (size_t k = 0; k < dims; k++)
            x[keep * dims + k] = rrcf_canon(row[k]);
    } else {
        for (size_t k = 0; k < dims; k++)
            x[k] = rrcf_canon(row[k]);
    }
    mw_rng rng = s->rng;
    double sum = 0.0;
    for (size_t i = 0; i < s->n_trees; i++)
        sum += rrcf_codisp_if_inserted(s, &s->trees[i], x, &rng);
    return sum / (double)s->n_trees;
}

/* ---- saved state ---------------------------------------------------- */

/* A tree in preorder: a branch as u8 1, u32 dim, f64 cut, then its left
 * and right subtrees; a leaf as u8 0, u32 count, its slots oldest first. */
static void rrcf_save_tree(const rrcf_state *s, const rrcf_tree *tr, mw_blob_writer *w)
{
    int32_t id = tr->root;
    int32_t from = -1;       /* where the walk came from: parent or a child */
    while (id >= 0) {
        const rrcf_node *nd = &tr->nodes[id];
        if (from == nd->parent) {              /* first visit */
            if (rrcf_is_leaf(s, id)) {
                mw_blob_put_u8(w, 0);
                mw_blob_put_u32(w, nd->n);
                for (int32_t slot = nd->left; slot >= 0; slot = tr->next_slot[slot])
                    mw_blob_put_u32(w, (uint32_t)slot);
                from = id;
                id = nd->parent;
                continue;
            }
            mw_blob_put_u8(w, 1);
            mw_blob_put_u32(w, nd->dim);
            mw_blob_put_f64(w, nd->cut);
            from = id;
            id = nd->left;
        } else if (from == nd->left) {         /* back from the left */
            from = id;
            id = nd->right;
        } else {                               /* back from the right */
            from = id;
            id = nd->parent;
        }
    }
}

static void rrcf_save(const mw_detector *d, mw_blob_writer *w)
{
    const rrcf_state *s = d->state;
    for (int i = 0; i < 4; i++)
        mw_blob_put_u64(w, s->rng.s[i]);
    mw_blob_put_u64(w, s->oldest);
    mw_blob_put_u64(w, s->count);
    mw_blob_put_u64(w, s->rows_in_shingle);
    if (s->shingle > 1)
        mw_blob_put_f64s(w, s->shingle_rows, s->rows_in_shingle * d->dims);
    for (size_t i = 0; i < s->count; i++)
        mw_blob_put_f64s(w, s->ring + (s->oldest + i) % s->ring_cap * s->pdims, s->pdims);
    for (size_t t = 0; t < s->n_trees; t++)
        rrcf_save_tree(s, &s->trees[t], w);
}

/* Age of a slot in the window: 0 for the oldest; >= count if not live. */
static inline size_t rrcf_age(const rrcf_state *s, size_t slot)
{
    return (slot + s->ring_cap - s->oldest) % s->ring_cap;
}

/* Reads a leaf's slots into a new leaf: live, unused in this tree, oldest
 * first, equal points. Returns the leaf id, or -1 (r failed). */
static int32_t rrcf_load_leaf(rrcf_state *s, rrcf_tree *tr, mw_blob_reader *r,
                              size_t *n_leaves)
{
    uint32_t n = mw_blob_get_u32(r);
    if (r->failed)
        return -1;
    if (n == 0 || n > s->count || *n_leaves == s->cap_leaf) {
        mw_blob_fail(r, "leaf with %u points in a window of %zu", n, s->count);
        return -1;
    }
    int32_t leaf = (int32_t)(s->cap_branch + (*n_leaves)++);
    int32_t prev = -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t slot = mw_blob_get_u32(r);
        if (r->failed)
            return -1;
        if (slot >= s->ring_cap || rrcf_age(s, slot) >= s->count ||
            tr->leaf_of_slot[slot] >= 0 ||
            (prev >= 0 && rrcf_age(s, slot) <= rrcf_age(s, (size_t)prev)) ||
            (prev >= 0 && !rrcf_equal(s->ring + (size_t)slot * s->pdims,
                                      s->ring + (size_t)prev * s->pdims, s->pdims))) {
            mw_blob_fail(r, "leaf slot %u invalid", slot);
            return -1;
        }
        tr->leaf_of_slot[slot] = leaf;
        if (prev >= 0)
            tr->next_slot[prev] = (int32_t)slot;
        else
            tr->nodes[leaf].left = (int32_t)slot;
        tr->next_slot[slot] = -1;
        prev = (int32_t)slot;
    }
    tr->nodes[leaf].right = prev;
    tr->nodes[leaf].n = n;
    return leaf;
}

/* Reads one tree (see rrcf_save_tree), then checks it and rebuilds the
 * counts and boxes. Nodes are numbered in preorder, so a branch's
 * children (branches) have larger ids: going down the ids computes every
 * child before its parent. Returns non-zero on failure (r failed). */
static int rrcf_load_tree(rrcf_state *s, rrcf_tree *tr, mw_blob_reader *r)
{
    if (s->count == 0)
        return 0;
    size_t n_branches = 0, n_leaves = 0;
    int32_t pending = -1;    /* the deepest branch still missing a child */
    for (;;) {
        uint8_t tag = mw_blob_get_u8(r);
        if (r->failed)
            return 1;
        int32_t id;
        if (tag == 1) {
            if (n_branches == s->cap_branch) {
                mw_blob_fail(r, "more than %zu branches in a tree", s->cap_branch);
                return 1;
            }
            id = (int32_t)n_branches++;
            uint32_t dim = mw_blob_get_u32(r);
            double cut = mw_blob_get_finite(r, "cut value");
            if (!r->failed && dim >= s->pdims)
                mw_blob_fail(r, "cut dimension %u out of range", dim);
            if (r->failed)
                return 1;
            tr->nodes[id] = (rrcf_node){-1, -1, -1, 0, dim, cut};
        } else if (tag == 0) {
            id = rrcf_load_leaf(s, tr, r, &n_leaves);
            if (id < 0)
                return 1;
            tr->nodes[id].parent = -1;
        } else {
            mw_blob_fail(r, "bad node tag %u", tag);
            return 1;
        }
        if (pending < 0 && tr->root < 0) {
            tr->root = id;
        } else {
            tr->nodes[id].parent = pending;
            if (tr->nodes[pending].left < 0)
                tr->nodes[pending].left = id;
            else
                tr->nodes[pending].right = id;
        }
        if (tag == 1) {
            pending = id;
            continue;
        }
        while (pending >= 0 && tr->nodes[pending].right >= 0)
            pending = tr->nodes[pending].parent;
        if (pending < 0)
            break;
    }
    /* Counts and boxes, children first; every cut must separate. */
    for (size_t i = n_branches; i-- > 0;) {
        rrcf_node *b = &tr->nodes[i];
        uint64_t n = (uint64_t)tr->nodes[b->left].n + tr->nodes[b->right].n;
        b->n = (uint32_t)n;
        rrcf_box_of_children(s, tr, (int32_t)i);
        const double *llo, *lhi, *rlo, *rhi;
        rrcf_node_box(s, tr, b->left, &llo, &lhi);
        rrcf_node_box(s, tr, b->right, &rlo, &rhi);
        if (!(lhi[b->dim] <= b->cut && b->cut < rlo[b->dim])) {
            mw_blob_fail(r, "a cut does not separate its branch");
            return 1;
        }
    }
    if (tr->nodes[tr->root].n != s->count) {
        mw_blob_fail(r, "a tree holds %u points, the window %zu", tr->nodes[tr->root].n,
                     s->count);
        return 1;
    }
    /* The free lists: the ids not used. */
    tr->free_branch = -1;
    for (size_t i = s->cap_branch; i-- > n_branches;)
        rrcf_give(tr, &tr->free_branch, (int32_t)i);
    tr->free_leaf = -1;
    for (size_t i = s->cap_leaf; i-- > n_leaves;)
        rrcf_give(tr, &tr->free_leaf, (int32_t)(s->cap_branch + i));
    return 0;
}

static int rrcf_load(mw_detector *d, mw_blob_reader *r)
{
    rrcf_state *s = d->state;
    uint64_t rs[4];
    for (int i = 0; i < 4; i++)
        rs[i] = mw_blob_get_u64(r);
    if (!r->failed && (rs[0] | rs[1] | rs[2] | rs[3]) == 0)
        mw_blob_fail(r, "random generator state is all zeros");
    size_t oldest = (size_t)mw_blob_get_count(r, s->ring_cap - 1, "window start");
    size_t count = (size_t)mw_blob_get_count(r, s->tree_size, "window count");
    size_t rows = (size_t)mw_blob_get_count(r, s->shingle, "shingle rows");
    if (!r->failed && s->shingle == 1 && rows != 0)
        mw_blob_fail(r, "shingle rows out of range (%zu without a shingle)", rows);
    if (r->failed)
        return 1;
    memcpy(s->rng.s, rs, sizeof rs);
    s->rng.has_spare = 0;
    s->oldest = oldest;
    s->count = count;
    s->rows_in_shingle = rows;
    if (s->shingle > 1) {
        mw_blob_get_f64s(r, s->shingle_rows, rows * d->dims);
        for (size_t k = 0; k < rows * d->dims && !r->failed; k++)
            if (!isfinite(s->shingle_rows[k]))
                mw_blob_fail(r, "shingle value is not finite");
    }
    for (size_t i = 0; i < count && !r->failed; i++) {
        double *x = s->ring + (oldest + i) % s->ring_cap * s->pdims;
        mw_blob_get_f64s(r, x, s->pdims);
        for (size_t k = 0; k < s->pdims && !r->failed; k++)
            if (!(fabs(x[k]) <= RRCF_VALUE_MAX))
                mw_blob_fail(r, "point value out of range");
    }
    for (size_t t = 0; t < s->n_trees && !r->failed; t++) {
        rrcf_tree_clear(s, &s->trees[t]);
        if (rrcf_load_tree(s, &s->trees[t], r) != 0)
            break;
    }
    return r->failed;
}

const mw_detector_type mw_detect_rrcf_type = {
    .name = "rrcf",
    .role = MW_ROLE_DETECTOR,
    .summary = "Robust Random Cut Forest: collusive displacement, averaged over trees (rows)",
    .params = rrcf_params,
    .n_params = sizeof rrcf_params / sizeof rrcf_params[0],
    .state_size = sizeof(rrcf_state),
    .init = rrcf_init,
    .destroy = rrcf_destroy,
    .reset = rrcf_reset,
    .update = mw_detect_row_update,
    .score = mw_detect_row_score,
    .save = rrcf_save,
    .load = rrcf_load,
    .set_dims = rrcf_set_dims,
    .update_row = rrcf_update_row,
    .score_row = rrcf_score_row,
};
