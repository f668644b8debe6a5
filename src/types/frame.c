/*
 * frame.c: named columns of equal length (see frame.h).
 *
 * Lookup by name is a linear scan: frames have a handful of columns, and
 * the scan touches one small array. Growth of the column arrays happens
 * before anything is written, so a failed set leaves the frame as it was.
 */
#include "types/frame.h"

#include <string.h>

static void frame_free(mw_heap *heap, mw_object *self)
{
    mw_frame *f = mw_frame_cast(self);
    mw_str **names = f->names;
    mw_series **cols = f->cols;
    size_t n = f->ncols, cap = f->cap;
    f->names = NULL;
    f->cols = NULL;
    f->ncols = f->cap = 0;
    for (size_t i = 0; i < n; i++) {
        mw_decref(heap, &names[i]->ob);
        mw_decref(heap, &cols[i]->ob);
    }
    mw_heap_free(heap, &mw_frame_type, names, cap * sizeof *names);
    mw_heap_free(heap, &mw_frame_type, cols, cap * sizeof *cols);
}

const mw_type mw_frame_type = {
    .name = "frame",
    .size = sizeof(mw_frame),
    .free = frame_free,
};

mw_frame *mw_frame_new(mw_heap *heap)
{
    mw_object *o = mw_object_new(heap, &mw_frame_type);
    return o != NULL ? mw_frame_cast(o) : NULL;
}

long mw_frame_find(const mw_frame *f, const char *name, size_t len)
{
    for (size_t i = 0; i < f->ncols; i++) {
        const mw_str *s = f->names[i];
        if (s->len == len && memcmp(s->bytes, name, len) == 0)
            return (long)i;
    }
    return -1;
}

static mw_status frame_reserve(mw_heap *heap, mw_frame *f, size_t cap)
{
    if (cap <= f->cap)
        return MW_OK;
    mw_str **names = mw_heap_malloc(heap, &mw_frame_type, cap * sizeof *names);
    if (names == NULL)
        return mw_heap_last_error(heap);
    mw_series **cols = mw_heap_malloc(heap, &mw_frame_type, cap * sizeof *cols);
    if (cols == NULL) {
        mw_heap_free(heap, &mw_frame_type, names, cap * sizeof *names);
        return mw_heap_last_error(heap);
    }
    if (f->ncols > 0) {
        memcpy(names, f->names, f->ncols * sizeof *names);
        memcpy(cols, f->cols, f->ncols * sizeof *cols);
    }
    mw_heap_free(heap, &mw_frame_type, f->names, f->cap * sizeof *names);
    mw_heap_free(heap, &mw_frame_type, f->cols, f->cap * sizeof *cols);
    f->names = names;
    f->cols = cols;
    f->cap = cap;
    return MW_OK;
}

mw_status mw_frame_set(mw_heap *heap, mw_frame *f, const char *name, size_t len,
                       mw_series *col)
{
    long at = mw_frame_find(f, name, len);
    if (f->ncols > 0 && col->len != f->nrows && !(f->ncols == 1 && at == 0))
        return MW_ERANGE;
    if (at < 0 && f->ncols == f->cap) {
        mw_status st = frame_reserve(heap, f, f->cap < 4 ? 4 : f->cap * 2);
        if (st != MW_OK)
            return st;
    }
    mw_series *view = mw_series_slice(heap, col, 0, col->len);
    if (view == NULL)
        return mw_heap_last_error(heap);
    if (at >= 0) {
        mw_series *old = f->cols[at];
        f->cols[at] = view;
        f->nrows = view->len;
        mw_decref(heap, &old->ob);
        return MW_OK;
    }
    mw_str *s = mw_str_new(heap, name, len);
    if (s == NULL) {
        mw_decref(heap, &view->ob);
        return mw_heap_last_error(heap);
    }
    f->names[f->ncols] = s;
    f->cols[f->ncols] = view;
    f->ncols++;
    f->nrows = view->len;
    return MW_OK;
}

void mw_frame_remove(mw_heap *heap, mw_frame *f, const char *name, size_t len)
{
    long at = mw_frame_find(f, name, len);
    if (at < 0)
        return;
    mw_str *s = f->names[at];
    mw_series *c = f->cols[at];
    memmove(&f->names[at], &f->names[at + 1], (f->ncols - (size_t)at - 1) * sizeof *f->names);
    memmove(&f->cols[at], &f->cols[at + 1], (f->ncols - (size_t)at - 1) * sizeof *f->cols);
    f->ncols--;
    if (f->ncols == 0)
        f->nrows = 0;
    mw_decref(heap, &s->ob);
    mw_decref(heap, &c->ob);
}
