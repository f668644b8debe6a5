/*
 * str.h: immutable byte strings on the native heap.
 *
 * A str is a plain (not collected) object: it holds no references, so it
 * can never be part of a cycle. Its bytes follow the header in the same
 * block, NUL-terminated for convenience (the length is authoritative: the
 * bytes may contain NULs). The hash is computed once, at creation, with
 * the heap's seed.
 */
#ifndef MW_STR_H
#define MW_STR_H

#include <stddef.h>
#include <stdint.h>

#include "core/heap.h"

typedef struct mw_str {
    mw_object ob;
    size_t len;
    uint64_t hash;
    char bytes[];
} mw_str;

extern const mw_type mw_str_type;

/* Returns a new reference to a str holding a copy of len bytes at s, or
 * NULL if memory runs out. */
mw_str *mw_str_new(mw_heap *heap, const char *s, size_t len);

/* Checks whether two strs hold the same bytes. */
int mw_str_equal(const mw_str *a, const mw_str *b);

/* The heap's string hash of len bytes at s. */
uint64_t mw_str_hash(const mw_heap *heap, const char *s, size_t len);

static inline mw_str *mw_str_cast(mw_object *o)
{
    return (mw_str *)(void *)o;
}

#endif /* MW_STR_H */
