/*
 * list.h: a growable array of tagged values, the first container type.
 *
 * Invariants: items[0..len) are valid values, each holding its reference;
 * items[len..cap) are garbage; cap is 0 exactly when items is NULL.
 * Appending grows the capacity by half (at least to 4), so a run of appends
 * is amortised O(1); mw_list_new with a capacity reserves exactly that.
 * Memory: MW_LIST_BASE_BYTES for the object (collector link included)
 * plus sizeof(mw_value) per slot of capacity.
 *
 * Indices are 0-based here; the Lua binding adds one.
 */
#ifndef MW_LIST_H
#define MW_LIST_H

#include <stddef.h>

#include "core/heap.h"
#include "core/value.h"

typedef struct mw_list {
    mw_object ob;
    size_t len;
    size_t cap;
    mw_value *items;
} mw_list;

extern const mw_type mw_list_type;

#define MW_LIST_BASE_BYTES (sizeof(mw_gchead) + sizeof(mw_list))

static inline mw_list *mw_list_cast(mw_object *o)
{
    return (mw_list *)(void *)o;
}

static inline int mw_is_list(const mw_object *o)
{
    return o->type == &mw_list_type;
}

/* Returns a new reference to an empty list with room for `capacity`
 * values, or NULL if memory runs out. */
mw_list *mw_list_new(mw_heap *heap, size_t capacity);

/* Appends v (borrowed: the list adds its own reference). */
mw_status mw_list_append(mw_heap *heap, mw_list *l, mw_value v);

/* Returns the value at index i (borrowed), or nil past the end. */
mw_value mw_list_get(const mw_list *l, size_t i);

/* Replaces the value at index i < len with v (borrowed); MW_ERANGE if i is
 * out of range. */
mw_status mw_list_set(mw_heap *heap, mw_list *l, size_t i, mw_value v);

/* Inserts v (borrowed) before index i <= len. */
mw_status mw_list_insert(mw_heap *heap, mw_list *l, size_t i, mw_value v);

/* Removes the value at index i < len and stores it in *out, the caller
 * now owning its reference. MW_ERANGE if i is out of range. */
mw_status mw_list_remove(mw_heap *heap, mw_list *l, size_t i, mw_value *out);

/* Makes room for at least `capacity` values without changing len. */
mw_status mw_list_reserve(mw_heap *heap, mw_list *l, size_t capacity);

/* Drops every value (len becomes 0) and frees the storage. */
void mw_list_clear(mw_heap *heap, mw_list *l);

#endif /* MW_LIST_H */
