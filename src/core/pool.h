/*
 * pool.h: pages of fixed-size blocks for small objects.
 *
 * Small objects (a list, a map, a short string: up to MW_POOL_MAX_BLOCK
 * bytes) are carved from pages of MW_POOL_PAGE_SIZE bytes, one size class
 * (a multiple of 16 bytes) per page, as CPython's pymalloc does. Objects
 * allocated one after another then sit next to each other in memory,
 * whatever else (Lua's own allocations) happens in between, which is what
 * makes the collector's passes over them fast; and a block costs a pointer
 * pop instead of a malloc call.
 *
 * Accounting stays exact: a page is charged to MW_DOMAIN_POOL when it is
 * allocated; a block moves from POOL to NATIVE when carved and back when
 * freed. So the NATIVE figure is exactly the bytes of live objects, and
 * POOL is memory reserved but not holding any.
 *
 * Pages come from arenas of MW_POOL_ARENA_PAGES pages, allocated at once
 * and aligned to their size, so consecutive pages are contiguous (and a
 * page finds its arena, as a block finds its page, by masking its
 * address). The arena's first page holds its header. A page with free
 * blocks is on its class's `usable` list; an empty page goes back to its
 * arena (unless it is the only usable page of its class), and an arena
 * whose pages are all free goes back to the allocator, unless it is the
 * only arena with free pages.
 *
 * Invariants: a page is on its class's usable list exactly when it is in
 * use and n_used < n_blocks; an arena is on the `arenas` list while it
 * has a page that was never carved or was given back.
 */
#ifndef MW_POOL_H
#define MW_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"

#define MW_POOL_PAGE_SIZE 16384u
#define MW_POOL_ARENA_PAGES 64u
#define MW_POOL_GRAIN 16u
#define MW_POOL_MAX_BLOCK 256u
#define MW_POOL_CLASSES (MW_POOL_MAX_BLOCK / MW_POOL_GRAIN)

typedef struct mw_pool_page mw_pool_page;
typedef struct mw_pool_arena mw_pool_arena;

typedef struct mw_pool {
    mw_pool_page *usable[MW_POOL_CLASSES];   /* pages with a free block */
    mw_pool_arena *arenas;                   /* arenas with a free page */
    mw_pool_arena *full;                     /* arenas with none */
    size_t n_arenas;
} mw_pool;

/* Initialises an empty pool. */
void mw_pool_init(mw_pool *pool);

/* The block size a request of `size` bytes gets (size rounded up to the
 * grain), or 0 if the pool does not serve that size. */
static inline size_t mw_pool_block_size(size_t size)
{
    if (size == 0 || size > MW_POOL_MAX_BLOCK)
        return 0;
    return (size + MW_POOL_GRAIN - 1) / MW_POOL_GRAIN * MW_POOL_GRAIN;
}

/* Returns a block of mw_pool_block_size(size) bytes (uninitialised), or
 * NULL on failure (reason in a->last_error). Counts as one request of a. */
void *mw_pool_alloc(mw_pool *pool, mw_alloc *a, size_t size);

/* Gives back a block obtained from mw_pool_alloc with the same size. */
void mw_pool_free(mw_pool *pool, mw_alloc *a, void *block, size_t size);

/* Frees every page. Blocks still in use are freed with them. */
void mw_pool_destroy(mw_pool *pool, mw_alloc *a);

#endif /* MW_POOL_H */
