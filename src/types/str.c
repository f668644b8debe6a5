/*
 * str.c: immutable byte strings (see str.h).
 *
 * A string is one block: header, length, hash and the bytes with a NUL
 * after them, so it costs one allocation. The block's size varies with the
 * length, which the heap learns through the type's varsize.
 */
#include "types/str.h"

#include <string.h>

static size_t str_varsize(const mw_object *self)
{
    return sizeof(mw_str) + ((const mw_str *)(const void *)self)->len + 1;
}

const mw_type mw_str_type = {
    .name = "str",
    .size = sizeof(mw_str),
    .flags = 0,
    .varsize = str_varsize,
};

uint64_t mw_str_hash(const mw_heap *heap, const char *s, size_t len)
{
    /* FNV-1a over the bytes, seeded per heap, then a final mix so the low
     * bits used by the hash tables depend on every byte. */
    uint64_t h = 0xcbf29ce484222325ULL ^ heap->hash_seed;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 29;
    return h;
}

mw_str *mw_str_new(mw_heap *heap, const char *s, size_t len)
{
    if (len > SIZE_MAX / 2) {
        mw_heap_fail(heap, MW_ENOMEM);
        return NULL;
    }
    mw_object *o = mw_object_new_var(heap, &mw_str_type, sizeof(mw_str) + len + 1);
    if (o == NULL)
        return NULL;
    mw_str *str = mw_str_cast(o);
    str->len = len;
    if (len > 0)
        memcpy(str->bytes, s, len);
    str->bytes[len] = '\0';
    str->hash = mw_str_hash(heap, s, len);
    return str;
}

int mw_str_equal(const mw_str *a, const mw_str *b)
{
    return a == b || (a->len == b->len && a->hash == b->hash
                      && memcmp(a->bytes, b->bytes, a->len) == 0);
}
