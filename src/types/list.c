/*
 * list.c: growable arrays of values (see list.h for the invariants).
 *
 * A list is a container: it is tracked by the cycle collector once built,
 * and its traverse and clear let the collector find and break cycles made
 * of lists and maps. Every function that can fail leaves the list as it
 * was: storage grows before a value is written.
 */
#include "types/list.h"

#include <string.h>

static void list_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    mw_list *l = mw_list_cast(self);
    for (size_t i = 0; i < l->len; i++)
        if (mw_value_has_ref(l->items[i]))
            visit(l->items[i].u.o, arg);
}

static void list_clear(mw_heap *heap, mw_object *self)
{
    mw_list_clear(heap, mw_list_cast(self));
}

const mw_type mw_list_type = {
    .name = "list",
    .size = sizeof(mw_list),
    .flags = MW_TYPE_GC,
    .traverse = list_traverse,
    .clear = list_clear,
    .finalize = NULL,
    .free = list_clear,
};

mw_list *mw_list_new(mw_heap *heap, size_t capacity)
{
    mw_object *o = mw_object_new(heap, &mw_list_type);
    if (o == NULL)
        return NULL;
    mw_list *l = mw_list_cast(o);
    if (capacity > 0 && mw_list_reserve(heap, l, capacity) != MW_OK) {
        mw_decref(heap, o);
        return NULL;
    }
    mw_gc_track(heap, o);
    return l;
}

mw_status mw_list_reserve(mw_heap *heap, mw_list *l, size_t capacity)
{
    if (capacity <= l->cap)
        return MW_OK;
    if (capacity > SIZE_MAX / sizeof(mw_value))
        return mw_heap_fail(heap, MW_ENOMEM);
    mw_value *items = mw_heap_realloc(heap, &mw_list_type, l->items,
                                      l->cap * sizeof(mw_value),
                                      capacity * sizeof(mw_value));
    if (items == NULL)
        return mw_heap_last_error(heap);
    l->items = items;
    l->cap = capacity;
    return MW_OK;
}

/* Makes room for one more value, growing by half. */
static mw_status list_grow(mw_heap *heap, mw_list *l)
{
    if (l->len < l->cap)
        return MW_OK;
    size_t cap = l->cap < 4 ? 4 : l->cap + l->cap / 2;
    if (cap < l->cap)
        return mw_heap_fail(heap, MW_ENOMEM);
    return mw_list_reserve(heap, l, cap);
}

mw_status mw_list_append(mw_heap *heap, mw_list *l, mw_value v)
{
    mw_status st = list_grow(heap, l);
    if (st != MW_OK)
        return st;
    mw_value_incref(v);
    l->items[l->len++] = v;
    return MW_OK;
}

mw_value mw_list_get(const mw_list *l, size_t i)
{
    return i < l->len ? l->items[i] : mw_nil();
}

mw_status mw_list_set(mw_heap *heap, mw_list *l, size_t i, mw_value v)
{
    if (i >= l->len)
        return MW_ERANGE;
    mw_value old = l->items[i];
    mw_value_incref(v);
    l->items[i] = v;
    /* Last: dropping the old value may run arbitrary frees. */
    mw_value_decref(heap, old);
    return MW_OK;
}

mw_status mw_list_insert(mw_heap *heap, mw_list *l, size_t i, mw_value v)
{
    if (i > l->len)
        return MW_ERANGE;
    mw_status st = list_grow(heap, l);
    if (st != MW_OK)
        return st;
    memmove(&l->items[i + 1], &l->items[i], (l->len - i) * sizeof(mw_value));
    mw_value_incref(v);
    l->items[i] = v;
    l->len++;
    return MW_OK;
}

mw_status mw_list_remove(mw_heap *heap, mw_list *l, size_t i, mw_value *out)
{
    (void)heap;
    if (i >= l->len)
        return MW_ERANGE;
    *out = l->items[i];
    memmove(&l->items[i], &l->items[i + 1], (l->len - i - 1) * sizeof(mw_value));
    l->len--;
    return MW_OK;
}

void mw_list_clear(mw_heap *heap, mw_list *l)
{
    /* Detach the storage first: the drops below may free objects that
     * reach this list again (through a cycle) and must find it empty. */
    mw_value *items = l->items;
    size_t len = l->len, cap = l->cap;
    l->items = NULL;
    l->len = 0;
    l->cap = 0;
    for (size_t i = 0; i < len; i++)
        mw_value_decref(heap, items[i]);
    mw_heap_free(heap, &mw_list_type, items, cap * sizeof(mw_value));
}
