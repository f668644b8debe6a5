/*
 * blob.c: little-endian fields in a growable buffer, and their checked
 * reading (see blob.h).
 */
#include "detect/blob.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mw_blob_writer_init(mw_blob_writer *w, mw_alloc *alloc)
{
    w->alloc = alloc;
    w->data = NULL;
    w->len = 0;
    w->cap = 0;
    w->status = MW_OK;
}

void mw_blob_writer_free(mw_blob_writer *w)
{
    mw_alloc_free(w->alloc, MW_DOMAIN_NATIVE, w->data, w->cap);
    w->data = NULL;
    w->len = 0;
    w->cap = 0;
}

/* Room for n more bytes; grows by half (at least 256 bytes). */
static unsigned char *blob_room(mw_blob_writer *w, size_t n)
{
    if (w->status != MW_OK)
        return NULL;
    if (n > w->cap - w->len) {
        if (n > SIZE_MAX / 2 - w->len) {
            w->status = MW_ENOMEM;
            return NULL;
        }
        size_t cap = w->cap + w->cap / 2;
        if (cap < w->len + n)
            cap = w->len + n;
        if (cap < 256)
            cap = 256;
        unsigned char *p = mw_alloc_realloc(w->alloc, MW_DOMAIN_NATIVE, w->data,
                                            w->cap, cap);
        if (p == NULL) {
            w->status = w->alloc->last_error != MW_OK ? w->alloc->last_error : MW_ENOMEM;
            return NULL;
        }
        w->data = p;
        w->cap = cap;
    }
    unsigned char *at = w->data + w->len;
    w->len += n;
    return at;
}

void mw_blob_put_bytes(mw_blob_writer *w, const void *p, size_t n)
{
    unsigned char *at = blob_room(w, n);
    if (at != NULL && n > 0)
        memcpy(at, p, n);
}

static void blob_store_le(unsigned char *at, uint64_t v, int width)
{
    for (int i = 0; i < width; i++)
        at[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t blob_load_le(const unsigned char *at, int width)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v |= (uint64_t)at[i] << (8 * i);
    return v;
}

static void blob_put_le(mw_blob_writer *w, uint64_t v, int width)
{
    unsigned char *at = blob_room(w, (size_t)width);
    if (at != NULL)
        blob_store_le(at, v, width);
}

void mw_blob_put_u8(mw_blob_writer *w, uint8_t v) { blob_put_le(w, v, 1); }
void mw_blob_put_u32(mw_blob_writer *w, uint32_t v) { blob_put_le(w, v, 4); }
void mw_blob_put_u64(mw_blob_writer *w, uint64_t v) { blob_put_le(w, v, 8); }

static uint64_t blob_f64_bits(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits;
}

void mw_blob_put_f64(mw_blob_writer *w, double v)
{
    blob_put_le(w, blob_f64_bits(v), 8);
}

void mw_blob_put_f64s(mw_blob_writer *w, const double *v, size_t n)
{
    if (n > SIZE_MAX / 8) {
        w->status = MW_ENOMEM;
        return;
    }
    unsigned char *at = blob_room(w, 8 * n);
    if (at == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        blob_store_le(at + 8 * i, blob_f64_bits(v[i]), 8);
}

void mw_blob_patch_u32(mw_blob_writer *w, size_t at, uint32_t v)
{
    if (w->status == MW_OK && at + 4 <= w->len)
        blob_store_le(w->data + at, v, 4);
}

void mw_blob_reader_init(mw_blob_reader *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->failed = 0;
    r->status = MW_OK;
    r->err[0] = '\0';
}

void mw_blob_fail(mw_blob_reader *r, const char *fmt, ...)
{
    if (r->failed)
        return;
    r->failed = 1;
    r->status = MW_EINVAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
}

void mw_blob_fail_memory(mw_blob_reader *r, mw_status status)
{
    if (r->failed)
        return;
    mw_blob_fail(r, "%s", mw_strerror(status));
    r->status = status;
}

const void *mw_blob_get_bytes(mw_blob_reader *r, size_t n)
{
    if (r->failed)
        return NULL;
    if (n > r->len - r->pos) {
        mw_blob_fail(r, "truncated (needs %zu more bytes at offset %zu of %zu)",
                     n - (r->len - r->pos), r->pos, r->len);
        return NULL;
    }
    const unsigned char *at = r->data + r->pos;
    r->pos += n;
    return at;
}

static uint64_t blob_get_le(mw_blob_reader *r, int width)
{
    const unsigned char *at = mw_blob_get_bytes(r, (size_t)width);
    return at != NULL ? blob_load_le(at, width) : 0;
}

uint8_t mw_blob_get_u8(mw_blob_reader *r) { return (uint8_t)blob_get_le(r, 1); }
uint32_t mw_blob_get_u32(mw_blob_reader *r) { return (uint32_t)blob_get_le(r, 4); }
uint64_t mw_blob_get_u64(mw_blob_reader *r) { return blob_get_le(r, 8); }

static double blob_bits_f64(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

double mw_blob_get_f64(mw_blob_reader *r)
{
    return blob_bits_f64(blob_get_le(r, 8));
}

void mw_blob_get_f64s(mw_blob_reader *r, double *out, size_t n)
{
    const unsigned char *at = n <= SIZE_MAX / 8 ? mw_blob_get_bytes(r, 8 * n) : NULL;
    if (at == NULL) {
        mw_blob_fail(r, "truncated");
        memset(out, 0, n * sizeof *out);
        return;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = blob_bits_f64(blob_load_le(at + 8 * i, 8));
}

uint64_t mw_blob_get_count(mw_blob_reader *r, uint64_t max, const char *what)
{
    uint64_t v = mw_blob_get_u64(r);
    if (!r->failed && v > max) {
        mw_blob_fail(r, "%s out of range (%llu, at most %llu)", what,
                     (unsigned long long)v, (unsigned long long)max);
        return 0;
    }
    return v;
}

double mw_blob_get_finite(mw_blob_reader *r, const char *what)
{
    double v = mw_blob_get_f64(r);
    if (!r->failed && !isfinite(v)) {
        mw_blob_fail(r, "%s is not a finite number", what);
        return 0.0;
    }
    return v;
}

/* Word-at-a-time multiply-rotate mixing, with the length folded in so
 * that a truncated string never shares the checksum of its prefix. */
uint64_t mw_blob_checksum(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 0x6a09e667f3bcc909u ^ (uint64_t)n;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = blob_load_le(p + i, 8);
        h ^= w * 0x9e3779b97f4a7c15u;
        h = (h << 27 | h >> 37) * 0xbf58476d1ce4e5b9u;
    }
    uint64_t tail = blob_load_le(p + i, (int)(n - i));
    h ^= tail * 0x94d049bb133111ebu;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9u;
    h ^= h >> 29;
    return h;
}
