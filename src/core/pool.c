/*
 * pool.c: arenas of pages of fixed-size blocks (see pool.h for the design
 * and the accounting).
 *
 * A page starts with its header; blocks follow, 16-byte aligned. Blocks
 * never used yet are handed out by bumping a counter (so a new page costs
 * no initialisation pass); freed blocks go on the page's free list, a
 * pointer stored in the block itself. Arenas work the same way one level
 * up: pages never used are carved in address order, pages given back go
 * on the arena's free-page list.
 */
#include "core/pool.h"

#include <string.h>

struct mw_pool_page {
    mw_pool_page *next_usable, *prev_usable;
    void *free_list;
    uint32_t block_size;
    uint32_t n_blocks;
    uint32_t n_used;
    uint32_t n_carved;       /* blocks handed out by bumping, ever */
};

struct mw_pool_arena {
    mw_pool_arena *next, *prev;   /* on pool->arenas or pool->full */
    mw_pool_page *free_pages;     /* given back, linked by next_usable */
    uint32_t n_used;              /* pages in use */
    uint32_t n_carved;            /* pages handed out by bumping, ever */
    int on_full;                  /* which list the arena is on */
};

#define POOL_ARENA_SIZE ((size_t)MW_POOL_PAGE_SIZE * MW_POOL_ARENA_PAGES)
/* Page 0 of an arena holds the arena header. */
#define POOL_PAGES_PER_ARENA (MW_POOL_ARENA_PAGES - 1)

#define POOL_HEADER_SIZE \
    ((sizeof(mw_pool_page) + MW_POOL_GRAIN - 1) / MW_POOL_GRAIN * MW_POOL_GRAIN)

void mw_pool_init(mw_pool *pool)
{
    memset(pool, 0, sizeof *pool);
}

static mw_pool_page *pool_page_of(void *block)
{
    return (mw_pool_page *)((uintptr_t)block & ~(uintptr_t)(MW_POOL_PAGE_SIZE - 1));
}

static mw_pool_arena *pool_arena_of(void *page)
{
    return (mw_pool_arena *)((uintptr_t)page & ~(uintptr_t)(POOL_ARENA_SIZE - 1));
}

static void pool_arena_unlink(mw_pool *pool, mw_pool_arena *arena)
{
    mw_pool_arena **head = arena->on_full ? &pool->full : &pool->arenas;
    if (arena->prev != NULL)
        arena->prev->next = arena->next;
    else
        *head = arena->next;
    if (arena->next != NULL)
        arena->next->prev = arena->prev;
    arena->next = arena->prev = NULL;
}

static void pool_arena_link(mw_pool *pool, mw_pool_arena *arena, int full)
{
    mw_pool_arena **head = full ? &pool->full : &pool->arenas;
    arena->on_full = full;
    arena->prev = NULL;
    arena->next = *head;
    if (*head != NULL)
        (*head)->prev = arena;
    *head = arena;
}

static int pool_arena_has_free_page(const mw_pool_arena *arena)
{
    return arena->free_pages != NULL || arena->n_carved < POOL_PAGES_PER_ARENA;
}

static void usable_push(mw_pool *pool, unsigned cls, mw_pool_page *page)
{
    page->prev_usable = NULL;
    page->next_usable = pool->usable[cls];
    if (page->next_usable != NULL)
        page->next_usable->prev_usable = page;
    pool->usable[cls] = page;
}

static void usable_remove(mw_pool *pool, unsigned cls, mw_pool_page *page)
{
    if (page->prev_usable != NULL)
        page->prev_usable->next_usable = page->next_usable;
    else
        pool->usable[cls] = page->next_usable;
    if (page->next_usable != NULL)
        page->next_usable->prev_usable = page->prev_usable;
    page->next_usable = page->prev_usable = NULL;
}

/* Takes a free page, from an arena with one or from a new arena. */
static mw_pool_page *pool_take_page(mw_pool *pool, mw_alloc *a, size_t block_size)
{
    mw_pool_arena *arena = pool->arenas;
    if (arena == NULL) {
        arena = mw_alloc_aligned(a, MW_DOMAIN_POOL, POOL_ARENA_SIZE, POOL_ARENA_SIZE);
        if (arena == NULL)
            return NULL;
        memset(arena, 0, sizeof *arena);
        pool_arena_link(pool, arena, 0);
        pool->n_arenas++;
    } else if (!mw_alloc_admit_reserved(a)) {
        return NULL;
    }
    mw_pool_page *page;
    if (arena->free_pages != NULL) {
        page = arena->free_pages;
        arena->free_pages = page->next_usable;
    } else {
        arena->n_carved++;
        page = (mw_pool_page *)(void *)((char *)arena
                                        + (size_t)arena->n_carved * MW_POOL_PAGE_SIZE);
    }
    arena->n_used++;
    if (!pool_arena_has_free_page(arena)) {
        pool_arena_unlink(pool, arena);
        pool_arena_link(pool, arena, 1);
    }
    memset(page, 0, sizeof *page);
    page->block_size = (uint32_t)block_size;
    page->n_blocks = (uint32_t)((MW_POOL_PAGE_SIZE - POOL_HEADER_SIZE) / block_size);
    return page;
}

/* Gives an empty page back to its arena, and the arena back to the
 * allocator when none of its pages is in use (unless it is the last
 * arena with free pages: a loop allocating and freeing must not thrash). */
static void pool_give_page(mw_pool *pool, mw_alloc *a, mw_pool_page *page)
{
    mw_pool_arena *arena = pool_arena_of(page);
    page->next_usable = arena->free_pages;
    arena->free_pages = page;
    arena->n_used--;
    if (arena->on_full) {
        pool_arena_unlink(pool, arena);
        pool_arena_link(pool, arena, 0);
    }
    if (arena->n_used == 0 && (arena->next != NULL || arena->prev != NULL)) {
        pool_arena_unlink(pool, arena);
        pool->n_arenas--;
        mw_alloc_free_aligned(a, MW_DOMAIN_POOL, arena, POOL_ARENA_SIZE);
    }
}

void *mw_pool_alloc(mw_pool *pool, mw_alloc *a, size_t size)
{
    size_t block_size = mw_pool_block_size(size);
    unsigned cls = (unsigned)(block_size / MW_POOL_GRAIN) - 1;
    mw_pool_page *page = pool->usable[cls];
    if (page == NULL) {
        /* Taking the page is this request's one admission. */
        page = pool_take_page(pool, a, block_size);
        if (page == NULL)
            return NULL;
        usable_push(pool, cls, page);
    } else if (!mw_alloc_admit_reserved(a)) {
        return NULL;
    }
    void *block;
    if (page->free_list != NULL) {
        block = page->free_list;
        memcpy(&page->free_list, block, sizeof(void *));
    } else {
        block = (char *)page + POOL_HEADER_SIZE + (size_t)page->n_carved * block_size;
        page->n_carved++;
    }
    page->n_used++;
    if (page->n_used == page->n_blocks)
        usable_remove(pool, cls, page);
    mw_alloc_transfer(a, MW_DOMAIN_POOL, MW_DOMAIN_NATIVE, block_size);
    return block;
}

void mw_pool_free(mw_pool *pool, mw_alloc *a, void *block, size_t size)
{
    size_t block_size = mw_pool_block_size(size);
    unsigned cls = (unsigned)(block_size / MW_POOL_GRAIN) - 1;
    mw_pool_page *page = pool_page_of(block);
    mw_alloc_transfer(a, MW_DOMAIN_NATIVE, MW_DOMAIN_POOL, block_size);
    mw_alloc_count_free(a);
    memcpy(block, &page->free_list, sizeof(void *));
    page->free_list = block;
    if (page->n_used == page->n_blocks)
        usable_push(pool, cls, page);
    page->n_used--;
    if (page->n_used == 0
        && (page->prev_usable != NULL || page->next_usable != NULL)) {
        usable_remove(pool, cls, page);
        pool_give_page(pool, a, page);
    }
}

static void pool_free_arenas(mw_pool *pool, mw_alloc *a, mw_pool_arena *arena)
{
    while (arena != NULL) {
        mw_pool_arena *next = arena->next;
        /* Blocks still in use go with the arena: their bytes leave NATIVE. */
        for (uint32_t i = 1; i <= arena->n_carved; i++) {
            mw_pool_page *page = (mw_pool_page *)(void *)((char *)arena
                                                          + (size_t)i * MW_POOL_PAGE_SIZE);
            mw_alloc_transfer(a, MW_DOMAIN_NATIVE, MW_DOMAIN_POOL,
                              (size_t)page->n_used * page->block_size);
            page->n_used = 0;
        }
        mw_alloc_free_aligned(a, MW_DOMAIN_POOL, arena, POOL_ARENA_SIZE);
        arena = next;
    }
}

void mw_pool_destroy(mw_pool *pool, mw_alloc *a)
{
    pool_free_arenas(pool, a, pool->arenas);
    pool_free_arenas(pool, a, pool->full);
    mw_pool_init(pool);
}
