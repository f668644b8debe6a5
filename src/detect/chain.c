/*
 * chain.c: stages in a row; update(x) is stage_n(... stage_1(x)), each
 * stage learning its input. A stage that gets a NaN (its predecessor
 * skipped the value) skips it too, so the chain's output is NaN and no
 * stage changes. The saved state holds every stage's own container.
 */
#include "detect/chain.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct chain_state {
    size_t n;
    mw_detector *stages[MW_CHAIN_MAX_STAGES]; /* owned */
} chain_state;

static void chain_destroy(mw_detector *d)
{
    chain_state *c = d->state;
    for (size_t i = 0; i < c->n; i++)
        mw_detector_free(c->stages[i]);
    c->n = 0;
}

static void chain_reset(mw_detector *d)
{
    chain_state *c = d->state;
    for (size_t i = 0; i < c->n; i++)
        mw_detector_reset(c->stages[i]);
}

static double chain_update(mw_detector *d, double x, double t)
{
    chain_state *c = d->state;
    for (size_t i = 0; i < c->n; i++)
        x = mw_detector_update(c->stages[i], x, t);
    return x;
}

static double chain_score(const mw_detector *d, double x, double t)
{
    const chain_state *c = d->state;
    for (size_t i = 0; i < c->n; i++)
        x = mw_detector_score(c->stages[i], x, t);
    return x;
}

static void chain_save(const mw_detector *d, mw_blob_writer *w)
{
    const chain_state *c = d->state;
    mw_blob_put_u8(w, (uint8_t)c->n);
    for (size_t i = 0; i < c->n; i++) {
        size_t at = w->len;
        mw_blob_put_u64(w, 0);
        mw_detector_save(c->stages[i], w);
        if (w->status == MW_OK) {
            uint64_t len = w->len - at - 8;
            for (int b = 0; b < 8; b++)
                w->data[at + (size_t)b] = (unsigned char)(len >> (8 * b));
        }
    }
}

static int chain_load(mw_detector *d, mw_blob_reader *r)
{
    chain_state *c = d->state;
    size_t n = mw_blob_get_u8(r);
    if (!r->failed && (n == 0 || n > MW_CHAIN_MAX_STAGES))
        mw_blob_fail(r, "%zu stages (1 to %d allowed)", n, MW_CHAIN_MAX_STAGES);
    for (size_t i = 0; i < n && !r->failed; i++) {
        size_t len = mw_blob_get_count(r, r->len - r->pos, "stage length");
        const void *bytes = mw_blob_get_bytes(r, len);
        if (bytes == NULL)
            break;
        mw_status status;
        char err[MW_DETECT_ERRLEN];
        mw_detector *stage = mw_detector_load(d->alloc, bytes, len, &status, err);
        if (stage == NULL) {
            if (status == MW_EINVAL)
                mw_blob_fail(r, "stage %zu: %s", i + 1, err);
            else
                mw_blob_fail_memory(r, status);
            break;
        }
        c->stages[c->n++] = stage;
        d->bytes += stage->bytes;
    }
    return r->failed;
}

static size_t chain_children(const mw_detector *d, mw_detector *const **out)
{
    const chain_state *c = d->state;
    *out = c->stages;
    return c->n;
}

const mw_detector_type mw_detect_chain_type = {
    .name = "chain",
    .role = MW_ROLE_DETECTOR,
    .summary = "stages in a row, each fed the previous one's output",
    .params = NULL,
    .n_params = 0,
    .state_size = sizeof(chain_state),
    .destroy = chain_destroy,
    .reset = chain_reset,
    .update = chain_update,
    .score = chain_score,
    .save = chain_save,
    .load = chain_load,
    .children = chain_children,
};

mw_detector *mw_detect_chain_new(mw_alloc *alloc, mw_detector **stages, size_t n,
                                 mw_status *status, char *err)
{
    mw_detector *d = NULL;
    if (n == 0 || n > MW_CHAIN_MAX_STAGES) {
        *status = MW_EINVAL;
        snprintf(err, MW_DETECT_ERRLEN, "a chain has 1 to %d stages (got %zu)",
                 MW_CHAIN_MAX_STAGES, n);
    } else {
        d = mw_detector_new(alloc, &mw_detect_chain_type, NULL, status, err);
    }
    if (d == NULL) {
        for (size_t i = 0; i < n; i++)
            mw_detector_free(stages[i]);
        return NULL;
    }
    chain_state *c = d->state;
    for (size_t i = 0; i < n; i++) {
        c->stages[c->n++] = stages[i];
        d->bytes += stages[i]->bytes;
    }
    return d;
}
