/*
 * fuzz_detload.c: loading saved detector and scaler states
 * (mw_detector_load, mw_scaler_load: what d:load, mw.detect.load,
 * mw.scale.load and mw_det_load run) on any bytes.
 *
 * Byte 0: bit 0 appends the checksum to the rest (so mutations get past
 * it to the kinds' own checks: a saved state's checksum is its last 8
 * bytes, and the seeds hold states without them), bit 1 loads a scaler
 * instead of a detector, bits 2-7 vary the values fed afterwards.
 *
 * What must hold:
 *   - a refused state is a clean status (invalid data, or memory under
 *     the budget) with a message;
 *   - a loaded one saves to bytes that load again and save the same;
 *   - the loaded detector and its reloaded copy give the same scores, bit
 *     for bit, on the same values (rows for a multivariate kind), NaN and
 *     extremes included, and what they save after that loads again;
 *   - every byte comes back when they are freed.
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "detect/blob.h"
#include "detect/detect.h"
#include "detect/scale.h"
#include "fuzz.h"

#define FEED 48
#define FEED_DIMS_DEFAULT 3

/* Value i of the feed: a wave, with NaN, infinities and extremes at
 * places the variant moves. */
static double feed_value(unsigned variant, size_t i)
{
    size_t k = (i + variant) % 23;
    if (k == 5)
        return NAN;
    if (k == 11)
        return variant & 1 ? INFINITY : -1e300;
    if (k == 17)
        return 1e12 * (double)(variant + 1);
    return sin((double)(i * (variant + 3))) * 10.0 + (double)(i % 7);
}

static int same_bits(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/* Saves d into a new writer; checks it worked (within the budget). */
static int save_detector(const mw_detector *d, mw_blob_writer *w, mw_alloc *a)
{
    mw_blob_writer_init(w, a);
    mw_detector_save(d, w);
    if (w->status != MW_OK) {
        FUZZ_CHECK(w->status == MW_EBUDGET || w->status == MW_ENOMEM);
        mw_blob_writer_free(w);
        return 0;
    }
    return 1;
}

static void feed_detector(mw_detector *d, mw_detector *copy, unsigned variant)
{
    char err[MW_DETECT_ERRLEN];
    if (mw_detector_is_multi(d)) {
        size_t dims = d->dims > 0 ? d->dims : FEED_DIMS_DEFAULT;
        if (dims > 64)
            return;   /* wide rows: the load itself was the test */
        double row[64];
        for (size_t i = 0; i < FEED; i++) {
            for (size_t j = 0; j < dims; j++)
                row[j] = feed_value(variant, i * dims + j);
            double s1 = -1, s2 = -2, p1 = -1, p2 = -2;
            mw_status a = mw_detector_score_row(d, row, dims, (double)i, &p1, err);
            mw_status b = mw_detector_score_row(copy, row, dims, (double)i, &p2, err);
            FUZZ_CHECK(a == b);
            FUZZ_CHECK(a != MW_OK || same_bits(p1, p2));
            a = mw_detector_update_row(d, row, dims, (double)i, &s1, err);
            b = mw_detector_update_row(copy, row, dims, (double)i, &s2, err);
            FUZZ_CHECK(a == b);
            if (a != MW_OK)
                return;   /* memory (the budget) or a width refused alike */
            FUZZ_CHECK(same_bits(s1, s2));
        }
        return;
    }
    for (size_t i = 0; i < FEED; i++) {
        double x = feed_value(variant, i);
        FUZZ_CHECK(same_bits(mw_detector_score(d, x, (double)i * 1000.0),
                             mw_detector_score(copy, x, (double)i * 1000.0)));
        FUZZ_CHECK(same_bits(mw_detector_update(d, x, (double)i * 1000.0),
                             mw_detector_update(copy, x, (double)i * 1000.0)));
    }
}

static void fuzz_detector(const uint8_t *data, size_t size, unsigned variant)
{
    mw_alloc a;
    mw_alloc_init(&a);
    mw_alloc_set_budget(&a, FUZZ_BUDGET);
    mw_status status = MW_OK;
    char err[MW_DETECT_ERRLEN] = "";
    mw_detector *d = mw_detector_load(&a, data, size, &status, err);
    if (d == NULL) {
        FUZZ_CHECK(status == MW_EINVAL || status == MW_EBUDGET || status == MW_ENOMEM);
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(a.current == 0);
        return;
    }
    mw_blob_writer w1, w2;
    if (save_detector(d, &w1, &a)) {
        mw_detector *copy = mw_detector_load(&a, w1.data, w1.len, &status, err);
        FUZZ_CHECK(copy != NULL || status != MW_EINVAL);
        if (copy != NULL) {
            if (save_detector(copy, &w2, &a)) {
                FUZZ_CHECK(w2.len == w1.len && memcmp(w1.data, w2.data, w1.len) == 0);
                mw_blob_writer_free(&w2);
            }
            feed_detector(d, copy, variant);
            /* what they learned saves to something that loads */
            if (save_detector(d, &w2, &a)) {
                mw_detector *again = mw_detector_load(&a, w2.data, w2.len, &status, err);
                FUZZ_CHECK(again != NULL || status != MW_EINVAL);
                mw_detector_free(again);
                mw_blob_writer_free(&w2);
            }
            mw_detector_free(copy);
        }
        mw_blob_writer_free(&w1);
    }
    mw_detector_free(d);
    FUZZ_CHECK(a.current == 0);
}

static void fuzz_scaler(const uint8_t *data, size_t size, unsigned variant)
{
    mw_alloc a;
    mw_alloc_init(&a);
    mw_alloc_set_budget(&a, FUZZ_BUDGET);
    mw_status status = MW_OK;
    char err[MW_SCALE_ERRLEN] = "";
    mw_scaler *s = mw_scaler_load(&a, data, size, &status, err);
    if (s == NULL) {
        FUZZ_CHECK(status == MW_EINVAL || status == MW_EBUDGET || status == MW_ENOMEM);
        FUZZ_CHECK(err[0] != '\0');
        FUZZ_CHECK(a.current == 0);
        return;
    }
    mw_blob_writer w1, w2;
    mw_blob_writer_init(&w1, &a);
    mw_scaler_save(s, &w1);
    if (w1.status == MW_OK) {
        mw_scaler *copy = mw_scaler_load(&a, w1.data, w1.len, &status, err);
        FUZZ_CHECK(copy != NULL || status != MW_EINVAL);
        if (copy != NULL) {
            mw_blob_writer_init(&w2, &a);
            mw_scaler_save(copy, &w2);
            FUZZ_CHECK(w2.status != MW_OK ||
                       (w2.len == w1.len && memcmp(w1.data, w2.data, w1.len) == 0));
            mw_blob_writer_free(&w2);
            size_t dims = s->dims > 0 ? s->dims : FEED_DIMS_DEFAULT;
            if (dims <= 64 && mw_scaler_set_dims(s, dims, err) == MW_OK &&
                mw_scaler_set_dims(copy, dims, err) == MW_OK) {
                double row[64], out1[64], out2[64];
                for (size_t i = 0; i < FEED; i++) {
                    for (size_t j = 0; j < dims; j++)
                        row[j] = feed_value(variant, i * dims + j);
                    mw_scaler_transform(s, row, out1);
                    mw_scaler_transform(copy, row, out2);
                    for (size_t j = 0; j < dims; j++)
                        FUZZ_CHECK(same_bits(out1[j], out2[j]));
                    mw_scaler_update(s, row, out1);
                    mw_scaler_update(copy, row, out2);
                    for (size_t j = 0; j < dims; j++)
                        FUZZ_CHECK(same_bits(out1[j], out2[j]));
                }
            }
            mw_scaler_free(copy);
        }
    }
    mw_blob_writer_free(&w1);
    mw_scaler_free(s);
    FUZZ_CHECK(a.current == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    uint8_t opt = data[0];
    data++;
    size--;
    unsigned variant = opt >> 2;
    unsigned char *with_sum = NULL;
    if (opt & 1) {
        with_sum = malloc(size + 8);
        FUZZ_CHECK(with_sum != NULL);
        memcpy(with_sum, data, size);
        uint64_t sum = mw_blob_checksum(data, size);
        for (int i = 0; i < 8; i++)
            with_sum[size + (size_t)i] = (unsigned char)(sum >> (8 * i));
        data = with_sum;
        size += 8;
    }
    if (opt & 2)
        fuzz_scaler(data, size, variant);
    else
        fuzz_detector(data, size, variant);
    free(with_sum);
    return 0;
}
