/*
 * map.h: a hash map from strings and numbers to values, the second
 * container type.
 *
 * Keys are strings, integers or floats; a float with an integral value is
 * the same key as that integer (as in Lua tables: m[1] and m[1.0] are one
 * entry). nil and NaN are not keys; nor are booleans or objects here.
 * Setting a key to nil deletes it.
 *
 * Open addressing with linear probing over a power-of-two array of slots.
 * A deleted entry leaves a tombstone, so a traversal in progress is not
 * disturbed by deletions (assigning nil to the current key during a
 * `pairs` loop is allowed, as in Lua); inserting new keys during a
 * traversal may rehash and gives an unspecified order. The table grows
 * (doubling) when live entries plus tombstones would pass 3/4 of the
 * slots, and rehashes in place when tombstones are most of that.
 * Memory: MW_MAP_BASE_BYTES plus sizeof(mw_map_entry) per slot.
 */
#ifndef MW_MAP_H
#define MW_MAP_H

#include <stddef.h>

#include "core/heap.h"
#include "core/value.h"

typedef struct mw_map_entry {
    mw_value key;    /* MW_TNIL: empty slot, or a tombstone if value is true */
    mw_value value;
} mw_map_entry;

typedef struct mw_map {
    mw_object ob;
    size_t count;    /* live entries */
    size_t used;     /* live entries plus tombstones */
    size_t cap;      /* slots: 0 or a power of two */
    mw_map_entry *slots;
} mw_map;

extern const mw_type mw_map_type;

#define MW_MAP_BASE_BYTES (sizeof(mw_gchead) + sizeof(mw_map))

static inline mw_map *mw_map_cast(mw_object *o)
{
    return (mw_map *)(void *)o;
}

static inline int mw_is_map(const mw_object *o)
{
    return o->type == &mw_map_type;
}

/* Returns a new reference to an empty map sized for `capacity` entries,
 * or NULL if memory runs out. */
mw_map *mw_map_new(mw_heap *heap, size_t capacity);

/* Looks key up; *out gets the value (borrowed) or nil when absent.
 * MW_EKEY for a nil or NaN key, MW_ETYPE for a key of another type. */
mw_status mw_map_get(const mw_heap *heap, const mw_map *m, mw_value key,
                     mw_value *out);

/* The same for a string key given as bytes (no allocation). */
mw_value mw_map_get_lstr(const mw_heap *heap, const mw_map *m, const char *s,
                         size_t len);

/* Sets key to value (both borrowed); a nil value deletes the key.
 * Fails, leaving the map unchanged, on a bad key or when memory runs out. */
mw_status mw_map_set(mw_heap *heap, mw_map *m, mw_value key, mw_value value);

/* The same for a string key given as bytes: the key is copied to a new
 * str only if the map does not hold it yet. */
mw_status mw_map_set_lstr(mw_heap *heap, mw_map *m, const char *s, size_t len,
                          mw_value value);

/* Iterates: start with *pos = 0; each call stores the next entry (both
 * borrowed) and returns 1, or returns 0 at the end. */
int mw_map_next(const mw_map *m, size_t *pos, mw_value *key, mw_value *value);

/* Drops every entry and frees the slots. */
void mw_map_clear(mw_heap *heap, mw_map *m);

/* Normalises a key as the map does (integral floats to integers).
 * MW_EKEY for nil or NaN, MW_ETYPE for booleans and objects. */
mw_status mw_map_key(mw_value key, mw_value *out);

#endif /* MW_MAP_H */
