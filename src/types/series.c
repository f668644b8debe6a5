/*
 * series.c: buffers and series (see series.h for the sharing rules).
 *
 * Growth happens before anything is written, and a series with
 * timestamps grows both buffers before changing either length, so a
 * failed append leaves the series exactly as it was.
 */
#include "types/series.h"

#include <string.h>

static void buffer_free(mw_heap *heap, mw_object *self)
{
    mw_buffer *b = (mw_buffer *)(void *)self;
    mw_heap_free(heap, &mw_buffer_type, b->data.f, b->cap * sizeof(double));
    b->data.f = NULL;
    b->cap = b->len = 0;
}

const mw_type mw_buffer_type = {
    .name = "buffer",
    .size = sizeof(mw_buffer),
    .free = buffer_free,
};

static void series_free(mw_heap *heap, mw_object *self)
{
    mw_series *s = mw_series_cast(self);
    mw_buffer *values = s->values, *stamps = s->stamps;
    s->values = s->stamps = NULL;
    if (values != NULL)
        mw_decref(heap, &values->ob);
    if (stamps != NULL)
        mw_decref(heap, &stamps->ob);
}

const mw_type mw_series_type = {
    .name = "series",
    .size = sizeof(mw_series),
    .free = series_free,
};

/* Returns a new buffer of cap elements, len of them in use. */
static mw_buffer *buffer_new(mw_heap *heap, size_t len, size_t cap, int zero)
{
    if (cap > SIZE_MAX / sizeof(double)) {
        mw_heap_fail(heap, MW_ENOMEM);
        return NULL;
    }
    mw_object *o = mw_object_new(heap, &mw_buffer_type);
    if (o == NULL)
        return NULL;
    mw_buffer *b = (mw_buffer *)(void *)o;
    if (cap > 0) {
        b->data.f = mw_heap_malloc(heap, &mw_buffer_type, cap * sizeof(double));
        if (b->data.f == NULL) {
            mw_decref(heap, o);
            return NULL;
        }
        if (zero)
            memset(b->data.f, 0, cap * sizeof(double));
    }
    b->cap = cap;
    b->len = len;
    return b;
}

static mw_status buffer_reserve(mw_heap *heap, mw_buffer *b, size_t cap)
{
    if (cap <= b->cap)
        return MW_OK;
    if (cap > SIZE_MAX / sizeof(double))
        return mw_heap_fail(heap, MW_ENOMEM);
    double *data = mw_heap_realloc(heap, &mw_buffer_type, b->data.f,
                                   b->cap * sizeof(double), cap * sizeof(double));
    if (data == NULL)
        return mw_heap_last_error(heap);
    b->data.f = data;
    b->cap = cap;
    return MW_OK;
}

mw_series *mw_series_new(mw_heap *heap, size_t n, int with_stamps, int zero)
{
    mw_object *o = mw_object_new(heap, &mw_series_type);
    if (o == NULL)
        return NULL;
    mw_series *s = mw_series_cast(o);
    s->values = buffer_new(heap, n, n, zero);
    if (s->values == NULL || (with_stamps && (s->stamps = buffer_new(heap, n, n, 1)) == NULL)) {
        mw_decref(heap, o);
        return NULL;
    }
    s->len = n;
    return s;
}

mw_series *mw_series_slice(mw_heap *heap, mw_series *s, size_t start, size_t n)
{
    if (start > s->len || n > s->len - start) {
        mw_heap_fail(heap, MW_ERANGE);
        return NULL;
    }
    mw_object *o = mw_object_new(heap, &mw_series_type);
    if (o == NULL)
        return NULL;
    mw_series *v = mw_series_cast(o);
    mw_incref(&s->values->ob);
    v->values = s->values;
    if (s->stamps != NULL) {
        mw_incref(&s->stamps->ob);
        v->stamps = s->stamps;
    }
    v->offset = s->offset + start;
    v->len = n;
    v->view = 1;
    return v;
}

mw_series *mw_series_copy(mw_heap *heap, const mw_series *s)
{
    mw_series *c = mw_series_new(heap, s->len, s->stamps != NULL, 0);
    if (c == NULL)
        return NULL;
    if (s->len > 0) {
        memcpy(mw_series_values(c), mw_series_values(s), s->len * sizeof(double));
        if (s->stamps != NULL)
            memcpy(mw_series_stamps(c), mw_series_stamps(s), s->len * sizeof(int64_t));
    }
    return c;
}

int mw_series_owns_buffers(const mw_series *s)
{
    return !s->view && s->offset == 0 && s->values->len == s->len
           && (s->stamps == NULL || s->stamps->len == s->len);
}

mw_status mw_series_append(mw_heap *heap, mw_series *s, double value, int64_t stamp)
{
    if (!mw_series_owns_buffers(s))
        return MW_EINVAL;
    if (s->len == s->values->cap) {
        size_t cap = s->len < 8 ? 8 : s->len + s->len / 2;
        mw_status st = buffer_reserve(heap, s->values, cap);
        if (st == MW_OK && s->stamps != NULL)
            st = buffer_reserve(heap, s->stamps, cap);
        if (st != MW_OK)
            return st;
    }
    s->values->data.f[s->len] = value;
    s->values->len++;
    if (s->stamps != NULL) {
        s->stamps->data.i[s->len] = stamp;
        s->stamps->len++;
    }
    s->len++;
    return MW_OK;
}

mw_status mw_series_add_stamps(mw_heap *heap, mw_series *s)
{
    if (s->stamps != NULL)
        return MW_OK;
    if (!mw_series_owns_buffers(s))
        return MW_EINVAL;
    s->stamps = buffer_new(heap, s->len, s->values->cap, 1);
    return s->stamps != NULL ? MW_OK : mw_heap_last_error(heap);
}

mw_status mw_series_truncate(mw_series *s, size_t n)
{
    if (!mw_series_owns_buffers(s) || n > s->len)
        return MW_EINVAL;
    s->len = n;
    s->values->len = n;
    if (s->stamps != NULL)
        s->stamps->len = n;
    return MW_OK;
}

static void buffer_compact(mw_heap *heap, mw_buffer *b)
{
    if (b->cap == b->len || b->len == 0)
        return;
    double *data = mw_heap_realloc(heap, &mw_buffer_type, b->data.f,
                                   b->cap * sizeof(double), b->len * sizeof(double));
    if (data != NULL) {
        b->data.f = data;
        b->cap = b->len;
    }
}

void mw_series_compact(mw_heap *heap, mw_series *s)
{
    if (!mw_series_owns_buffers(s))
        return;
    buffer_compact(heap, s->values);
    if (s->stamps != NULL)
        buffer_compact(heap, s->stamps);
}
