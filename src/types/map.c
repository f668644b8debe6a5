/*
 * map.c: hash maps with open addressing (see map.h for the design).
 *
 * Lookups compare a probe (the key's kind, its hash and its bytes or
 * number) with each occupied slot along the probe sequence, so looking up
 * or setting an existing string key needs no allocation. Growth happens
 * before anything is written, so a failed set leaves the map as it was.
 */
#include "types/map.h"

#include <math.h>
#include <string.h>

#include "types/str.h"

#define MAP_MIN_SLOTS 8

typedef struct map_probe {
    mw_tag tag;              /* MW_TINT, MW_TFLOAT or MW_TSTRING */
    int64_t i;
    double f;
    const char *s;
    size_t len;
    uint64_t hash;
} map_probe;

static int map_is_tombstone(const mw_map_entry *e)
{
    return e->key.tag == MW_TNIL && e->value.tag == MW_TBOOL;
}

static void map_traverse(mw_object *self, mw_visit_fn visit, void *arg)
{
    mw_map *m = mw_map_cast(self);
    for (size_t i = 0; i < m->cap; i++) {
        mw_map_entry *e = &m->slots[i];
        if (e->key.tag == MW_TNIL)
            continue;
        if (mw_value_has_ref(e->key))
            visit(e->key.u.o, arg);
        if (mw_value_has_ref(e->value))
            visit(e->value.u.o, arg);
    }
}

static void map_clear(mw_heap *heap, mw_object *self)
{
    mw_map_clear(heap, mw_map_cast(self));
}

const mw_type mw_map_type = {
    .name = "map",
    .size = sizeof(mw_map),
    .flags = MW_TYPE_GC,
    .traverse = map_traverse,
    .clear = map_clear,
    .finalize = NULL,
    .free = map_clear,
};

static uint64_t map_mix(uint64_t x)
{
    /* splitmix64's finaliser: every input bit moves every output bit. */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

mw_status mw_map_key(mw_value key, mw_value *out)
{
    switch (key.tag) {
    case MW_TINT:
        *out = key;
        return MW_OK;
    case MW_TFLOAT: {
        double f = key.u.f;
        if (isnan(f))
            return MW_EKEY;
        if (f >= -9223372036854775808.0 && f < 9223372036854775808.0 && floor(f) == f)
            *out = mw_int((int64_t)f);
        else
            *out = key;
        return MW_OK;
    }
    case MW_TSTRING:
        *out = key;
        return MW_OK;
    case MW_TNIL:
        return MW_EKEY;
    default:
        return MW_ETYPE;
    }
}

/* Builds the probe for a normalised key. */
static map_probe map_probe_of(const mw_heap *heap, mw_value key)
{
    map_probe p;
    memset(&p, 0, sizeof p);
    p.tag = key.tag;
    if (key.tag == MW_TINT) {
        p.i = key.u.i;
        p.hash = map_mix((uint64_t)p.i ^ heap->hash_seed);
    } else if (key.tag == MW_TFLOAT) {
        uint64_t bits;
        p.f = key.u.f;
        memcpy(&bits, &p.f, sizeof bits);
        p.hash = map_mix(bits ^ heap->hash_seed ^ 0x5bd1e995ULL);
    } else {
        mw_str *s = mw_str_cast(key.u.o);
        p.s = s->bytes;
        p.len = s->len;
        p.hash = s->hash;
    }
    return p;
}

static int map_matches(const mw_map_entry *e, const map_probe *p)
{
    if (e->key.tag != p->tag)
        return 0;
    switch (p->tag) {
    case MW_TINT:
        return e->key.u.i == p->i;
    case MW_TFLOAT:
        return e->key.u.f == p->f;
    default: {
        const mw_str *s = mw_str_cast(e->key.u.o);
        return s->hash == p->hash && s->len == p->len
               && memcmp(s->bytes, p->s, p->len) == 0;
    }
    }
}

static uint64_t map_entry_hash(const mw_heap *heap, const mw_map_entry *e)
{
    return map_probe_of(heap, e->key).hash;
}

/* Returns the slot holding the probe's key, or NULL. */
static mw_map_entry *map_find(const mw_map *m, const map_probe *p)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = p->hash & mask;; i = (i + 1) & mask) {
        mw_map_entry *e = &m->slots[i];
        if (e->key.tag == MW_TNIL) {
            if (!map_is_tombstone(e))
                return NULL;
        } else if (map_matches(e, p)) {
            return e;
        }
    }
}

/* Rebuilds the slot array with new_cap slots, dropping tombstones. */
static mw_status map_resize(mw_heap *heap, mw_map *m, size_t new_cap)
{
    if (new_cap > SIZE_MAX / sizeof(mw_map_entry))
        return mw_heap_fail(heap, MW_ENOMEM);
    mw_map_entry *slots = mw_heap_malloc(heap, &mw_map_type,
                                         new_cap * sizeof(mw_map_entry));
    if (slots == NULL)
        return mw_heap_last_error(heap);
    memset(slots, 0, new_cap * sizeof(mw_map_entry));
    size_t mask = new_cap - 1;
    for (size_t i = 0; i < m->cap; i++) {
        mw_map_entry *e = &m->slots[i];
        if (e->key.tag == MW_TNIL)
            continue;
        size_t j = map_entry_hash(heap, e) & mask;
        while (slots[j].key.tag != MW_TNIL)
            j = (j + 1) & mask;
        slots[j] = *e;
    }
    mw_heap_free(heap, &mw_map_type, m->slots, m->cap * sizeof(mw_map_entry));
    m->slots = slots;
    m->cap = new_cap;
    m->used = m->count;
    return MW_OK;
}

/* The slot count that holds n entries under the 3/4 load limit. */
static size_t map_slots_for(size_t n)
{
    size_t cap = MAP_MIN_SLOTS;
    while (cap < SIZE_MAX / 4 && n * 4 > cap * 3)
        cap *= 2;
    return cap;
}

/* Makes sure one more entry can be inserted without passing the load. */
static mw_status map_make_room(mw_heap *heap, mw_map *m)
{
    if ((m->used + 1) * 4 <= m->cap * 3)
        return MW_OK;
    /* Double for the live entries; when tombstones filled the table, this
     * is a rehash at the same size that sweeps them away. */
    size_t want = m->count == 0 ? 1 : m->count * 2;
    return map_resize(heap, m, map_slots_for(want));
}

mw_map *mw_map_new(mw_heap *heap, size_t capacity)
{
    mw_object *o = mw_object_new(heap, &mw_map_type);
    if (o == NULL)
        return NULL;
    mw_map *m = mw_map_cast(o);
    if (capacity > 0 && map_resize(heap, m, map_slots_for(capacity)) != MW_OK) {
        mw_decref(heap, o);
        return NULL;
    }
    mw_gc_track(heap, o);
    return m;
}

mw_status mw_map_get(const mw_heap *heap, const mw_map *m, mw_value key,
                     mw_value *out)
{
    mw_value k;
    mw_status st = mw_map_key(key, &k);
    if (st != MW_OK)
        return st;
    map_probe p = map_probe_of(heap, k);
    const mw_map_entry *e = map_find(m, &p);
    *out = e != NULL ? e->value : mw_nil();
    return MW_OK;
}

static map_probe map_probe_lstr(const mw_heap *heap, const char *s, size_t len)
{
    map_probe p;
    memset(&p, 0, sizeof p);
    p.tag = MW_TSTRING;
    p.s = s;
    p.len = len;
    p.hash = mw_str_hash(heap, s, len);
    return p;
}

mw_value mw_map_get_lstr(const mw_heap *heap, const mw_map *m, const char *s,
                         size_t len)
{
    map_probe p = map_probe_lstr(heap, s, len);
    const mw_map_entry *e = map_find(m, &p);
    return e != NULL ? e->value : mw_nil();
}

/* Deletes the entry in slot e: a tombstone keeps probe chains intact. */
static void map_delete_slot(mw_heap *heap, mw_map *m, mw_map_entry *e)
{
    mw_value key = e->key, value = e->value;
    e->key = mw_nil();
    e->value = mw_bool(1);
    m->count--;
    mw_value_decref(heap, key);
    mw_value_decref(heap, value);
}

/* Sets the probe's key. `key` is the key as a value (with its reference
 * borrowed), or nil when the key is given as bytes and a str must be made
 * for a new entry. */
static mw_status map_set_probe(mw_heap *heap, mw_map *m, const map_probe *p,
                               mw_value key, mw_value value)
{
    mw_map_entry *e = map_find(m, p);
    if (e != NULL) {
        if (value.tag == MW_TNIL) {
            map_delete_slot(heap, m, e);
            return MW_OK;
        }
        mw_value old = e->value;
        mw_value_incref(value);
        e->value = value;
        mw_value_decref(heap, old);
        return MW_OK;
    }
    if (value.tag == MW_TNIL)
        return MW_OK;
    mw_status st = map_make_room(heap, m);
    if (st != MW_OK)
        return st;
    if (key.tag == MW_TNIL) {
        mw_str *s = mw_str_new(heap, p->s, p->len);
        if (s == NULL)
            return mw_heap_last_error(heap);
        key = mw_objval(MW_TSTRING, &s->ob);
    } else {
        mw_value_incref(key);
    }
    size_t mask = m->cap - 1;
    size_t i = p->hash & mask;
    while (m->slots[i].key.tag != MW_TNIL)
        i = (i + 1) & mask;
    e = &m->slots[i];
    if (!map_is_tombstone(e))
        m->used++;
    mw_value_incref(value);
    e->key = key;
    e->value = value;
    m->count++;
    return MW_OK;
}

mw_status mw_map_set(mw_heap *heap, mw_map *m, mw_value key, mw_value value)
{
    mw_value k;
    mw_status st = mw_map_key(key, &k);
    if (st != MW_OK)
        return st;
    map_probe p = map_probe_of(heap, k);
    return map_set_probe(heap, m, &p, k, value);
}

mw_status mw_map_set_lstr(mw_heap *heap, mw_map *m, const char *s, size_t len,
                          mw_value value)
{
    map_probe p = map_probe_lstr(heap, s, len);
    return map_set_probe(heap, m, &p, mw_nil(), value);
}

int mw_map_next(const mw_map *m, size_t *pos, mw_value *key, mw_value *value)
{
    for (size_t i = *pos; i < m->cap; i++) {
        const mw_map_entry *e = &m->slots[i];
        if (e->key.tag != MW_TNIL) {
            *key = e->key;
            *value = e->value;
            *pos = i + 1;
            return 1;
        }
    }
    *pos = m->cap;
    return 0;
}

void mw_map_clear(mw_heap *heap, mw_map *m)
{
    /* Detach first, as list.c does: the drops may reach this map again. */
    mw_map_entry *slots = m->slots;
    size_t cap = m->cap;
    m->slots = NULL;
    m->cap = 0;
    m->count = 0;
    m->used = 0;
    for (size_t i = 0; i < cap; i++) {
        if (slots[i].key.tag == MW_TNIL)
            continue;
        mw_value_decref(heap, slots[i].key);
        mw_value_decref(heap, slots[i].value);
    }
    mw_heap_free(heap, &mw_map_type, slots, cap * sizeof(mw_map_entry));
}
