/*
 * alloc.h: the accounting allocator, the single source of truth for memory.
 *
 * Every byte the runtime allocates goes through one mw_alloc: the native
 * heap's objects and buffers (domain NATIVE), the free part of the pages
 * that small objects are carved from (domain POOL, see pool.h) and, as its
 * lua_Alloc, the Lua state's own heap (domain LUA). Sizes are passed back on free and realloc
 * (as Lua does), so the figures are exact without a per-block header.
 *
 * Invariants: `current` is the sum of the sizes of the live blocks, and
 * `domain_bytes` splits it by domain; `peak` is the largest `current` seen
 * since init or the last mw_alloc_reset_peak.
 *
 * Failure: a growing allocation fails (returns NULL, sets last_error) when
 * it would take `current` above a non-zero `budget`, when the system
 * allocator fails, or when the test hook says so. Shrinking and freeing
 * never fail, as Lua requires of its allocator.
 *
 * The allocator is not thread-safe: one per runtime, used by one thread.
 */
#ifndef MW_ALLOC_H
#define MW_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#include "moonwatch.h"

typedef enum mw_domain {
    MW_DOMAIN_LUA = 0,
    MW_DOMAIN_NATIVE = 1,
    MW_DOMAIN_POOL = 2,      /* reserved in pool pages, not holding objects */
    MW_DOMAIN_COUNT
} mw_domain;

/* An observer of the live figures (see mw_alloc_add_observer). */
typedef void (*mw_alloc_observer)(void *ud, mw_domain d, ptrdiff_t delta);

/* Observers at once: the memory profiler and the timeline. */
#define MW_ALLOC_MAX_OBSERVERS 2

typedef struct mw_alloc {
    size_t current;                       /* live bytes, all domains */
    size_t peak;                          /* highest `current` seen */
    size_t domain_bytes[MW_DOMAIN_COUNT]; /* live bytes per domain */
    size_t domain_peak[MW_DOMAIN_COUNT];  /* highest per-domain figure */
    size_t budget;                        /* 0: no budget */
    uint64_t n_allocs;                    /* growing requests, all domains */
    uint64_t n_failed;                    /* growing requests refused */
    uint64_t n_frees;                     /* blocks freed, all domains */
    mw_status last_error;                 /* why the last refusal happened */
    size_t last_refused;                  /* bytes the last refused request
                                           * would have added */
    /* Test hook: when fail_countdown is non-zero, the request that takes
     * it to zero fails; with fail_sticky, every later request fails too. */
    uint64_t fail_countdown;
    int fail_sticky;
    /* Observers (the memory profiler, the timeline): see
     * mw_alloc_add_observer. */
    int n_observers;
    mw_alloc_observer observers[MW_ALLOC_MAX_OBSERVERS];
    void *observer_uds[MW_ALLOC_MAX_OBSERVERS];
    /* The system allocator underneath (a host's override, see
     * mw_alloc_set_system); NULL: the C library's. */
    mw_alloc_fn sys;
    void *sys_ud;
} mw_alloc;

/* Initialises a with zero figures, no budget and the test hook off. */
void mw_alloc_init(mw_alloc *a);

/* Returns a block of `size` bytes charged to domain d, or NULL on failure.
 * A request for 0 bytes returns NULL without failing. */
void *mw_alloc_malloc(mw_alloc *a, mw_domain d, size_t size);

/* Resizes block p of old_size bytes (p may be NULL with old_size 0) to
 * new_size bytes. On failure returns NULL and p is untouched. A new_size of
 * 0 frees p and returns NULL. */
void *mw_alloc_realloc(mw_alloc *a, mw_domain d, void *p, size_t old_size,
                       size_t new_size);

/* Frees block p of `size` bytes (p may be NULL). */
void mw_alloc_free(mw_alloc *a, mw_domain d, void *p, size_t size);

/* The lua_Alloc for a Lua state whose heap is accounted by ud, an mw_alloc:
 * lua_newstate(mw_alloc_lua, a). */
void *mw_alloc_lua(void *ud, void *ptr, size_t osize, size_t nsize);

/* Returns a block of `size` bytes aligned to `align` (a power of two, a
 * multiple of sizeof(void *)), charged to domain d, or NULL on failure.
 * Free it with mw_alloc_free_aligned. */
void *mw_alloc_aligned(mw_alloc *a, mw_domain d, size_t size, size_t align);
void mw_alloc_free_aligned(mw_alloc *a, mw_domain d, void *p, size_t size);

/* Counts one growing request that needs no new memory (a block carved
 * from memory already charged) and runs the test hook on it: returns 0 if
 * the hook makes it fail. The budget is not consulted: the bytes were
 * admitted when reserved. */
int mw_alloc_admit_reserved(mw_alloc *a);

/* Counts one block given back without freeing memory (a block returned
 * to its pool page), as mw_alloc_admit_reserved counts one carved. */
static inline void mw_alloc_count_free(mw_alloc *a)
{
    a->n_frees++;
}
/* Moves `size` bytes of the live figure from domain `from` to domain `to`
 * (a block carved from a pool page becomes native, and back). */
void mw_alloc_transfer(mw_alloc *a, mw_domain from, mw_domain to, size_t size);

/* Sets the budget in bytes (0: none). Returns MW_EINVAL, changing nothing,
 * if the budget is below what is already allocated. */
mw_status mw_alloc_set_budget(mw_alloc *a, size_t budget);

/* Puts fn (with ud) under a, in place of malloc/realloc/free: fn is
 * called as a lua_Alloc (fn(ud, NULL, 0, n) allocates, fn(ud, p, old, 0)
 * frees, anything else resizes; a shrink may not fail). Only for an a
 * with no live block. An aligned block takes align + 2 pointers more
 * from fn, its header, and counts them: the figures stay what was taken
 * from the allocator underneath. */
void mw_alloc_set_system(mw_alloc *a, mw_alloc_fn fn, void *ud);

/* Test hook: the n-th growing request from now fails (n >= 1); with sticky
 * non-zero, every request after it fails too. n == 0 turns the hook off. */
void mw_alloc_fail_nth(mw_alloc *a, uint64_t n, int sticky);

/* Starts a new peak measurement from the current figures. */
void mw_alloc_reset_peak(mw_alloc *a);

/* Adds fn, to be called with ud after every change of the live figures:
 * a block allocated, resized or freed in domain d, with the signed change
 * in bytes (never 0); a block carved from reserved memory
 * (mw_alloc_admit_reserved) is reported once with delta 0, domain NATIVE.
 * The figures are already updated when fn runs. fn must not use this
 * allocator nor fail; moving bytes between domains is not reported.
 * Returns 0, or -1 when MW_ALLOC_MAX_OBSERVERS are already there. */
int mw_alloc_add_observer(mw_alloc *a, mw_alloc_observer fn, void *ud);
/* Removes the observer added with fn and ud (if it is there). */
void mw_alloc_remove_observer(mw_alloc *a, mw_alloc_observer fn, void *ud);

#endif /* MW_ALLOC_H */
