/*
 * state.h: the per-Lua-state data of the moonwatch module.
 *
 * One mw_lua_state per Lua state, created by luaopen_moonwatch and kept in
 * a full userdata in the registry; its __gc destroys the native heap when
 * the Lua state closes, after every handle's __gc (it is the oldest
 * finalizable object, and Lua finalizes newest first). Every C function of
 * the module gets it as upvalue 1.
 *
 * When the Lua state was created with mw_alloc_lua, the heap is accounted
 * by the same mw_alloc, so Lua and native bytes add up in one place. A
 * stock lua5.4 requiring the module gets an mw_alloc of its own for the
 * native heap; Lua's bytes are then read from lua_gc.
 */
#ifndef MW_LUA_STATE_H
#define MW_LUA_STATE_H

#include <lua.h>
#include <lauxlib.h>

#include "core/alloc.h"
#include "core/heap.h"

/* Frees a resource kept with mw_lua_keep (see below). */
struct mw_lua_state;
typedef void (*mw_lua_drop_fn)(struct mw_lua_state *st, void *resource);

/* A slot of the kept table: a resource and how to free it; a free slot
 * has drop NULL and the next free slot's number in next_free. */
typedef struct mw_lua_kept {
    void *resource;
    mw_lua_drop_fn drop;
    size_t next_free;
} mw_lua_kept;

typedef struct mw_lua_state {
    mw_alloc *alloc;         /* the accounting allocator in use */
    mw_alloc own_alloc;      /* used when Lua's allocator is not ours */
    mw_heap *heap;           /* NULL once the Lua state is closing */
    int cache_ref;           /* registry ref: handle cache (weak values) */
    size_t native_at_step;   /* native bytes at the last pressure step */
    char *scratch;           /* text buffer for tostring, reused */
    size_t scratch_cap;
    struct mw_lua_trace *trace; /* heap tracing (l_snapshot.c), or NULL */
    /* What userdata own outside Lua's heap (objects of handles,
     * detectors, scalers), kept here too: see mw_lua_keep. */
    mw_lua_kept *kept;
    size_t kept_len, kept_cap;
    size_t kept_free;        /* first free slot's number, 0 if none */
} mw_lua_state;

/* Returns the module state, creating it on first use. Raises on memory
 * exhaustion. */
mw_lua_state *mw_lua_state_open(lua_State *L);

/* The module state of a C function registered with it as upvalue 1, as
 * is: its heap is NULL once the Lua state is closing. For __gc, release
 * and tostring, which must work then too. */
#define mw_lua_upstate_raw(L) ((mw_lua_state *)lua_touserdata((L), lua_upvalueindex(1)))

/* The module state, for every other function: raises "moonwatch: the Lua
 * state is closing" if the heap is gone (a host finalizer that runs after
 * the module's own, at lua_close). */
mw_lua_state *mw_lua_live(lua_State *L);
#define mw_lua_upstate(L) mw_lua_live(L)

/*
 * Kept resources. Lua runs a userdata's __gc only if it can call it: with
 * memory exhausted the call itself can fail ("error in __gc (not enough
 * memory)"), and Lua then frees the userdata without ever running it. A
 * userdata owning native memory (a handle's object, a detector) would
 * leak it, past lua_close. So each such resource is also kept in a table
 * of the module state: __gc and release take it out (mw_lua_unkeep), and
 * whatever is still there when the state closes is dropped then, before
 * the heap is destroyed. A resource whose __gc could not run thus lives
 * until lua_close, never longer. The table (24 bytes a slot, grown by
 * half, never shrunk) is charged to the Lua domain: it is the handles'
 * own bookkeeping, as their userdata are, and the native figure stays
 * the objects' bytes alone.
 *
 * mw_lua_keep returns the resource's slot number (never 0), or raises a
 * memory error, the resource not kept (its owner frees it as before).
 * mw_lua_unkeep never fails; slot 0 does nothing.
 */
size_t mw_lua_keep(lua_State *L, mw_lua_state *st, void *resource, mw_lua_drop_fn drop);
void mw_lua_unkeep(mw_lua_state *st, size_t slot);

/* The module state of L if the module is open, else NULL; allocates
 * nothing (for finalizers). */
mw_lua_state *mw_lua_state_find(lua_State *L);

/* Raises the Lua error for a failed native operation: "memory limit
 * exceeded (limit 256.0 MiB, requested 4096 bytes)", "not enough memory",
 * or the status's text. Never returns. */
int mw_lua_status_error(lua_State *L, mw_status status);

/* Writes bytes as "812 B", "3.5 KiB", "256.0 MiB" ... into buf. */
void mw_lua_format_bytes(char *buf, size_t cap, size_t bytes);
/* Writes "limit 256.0 MiB, requested 4096 bytes" for a's last refusal. */
void mw_lua_budget_detail(const mw_alloc *a, char *buf, size_t cap);
/* Bytes used by the Lua heap. */
size_t mw_lua_heap_bytes(lua_State *L, const mw_lua_state *st);

/* Registers funcs into the table at the top of the stack, each with the
 * module state as upvalue 1. */
void mw_lua_setfuncs(lua_State *L, mw_lua_state *st, const luaL_Reg *funcs);

/* Pushes a table of funcs (each with the state as upvalue 1) that can be
 * called as `call` (__call): mw.list, mw.map, mw.series, ... */
void mw_lua_push_callable(lua_State *L, mw_lua_state *st, const luaL_Reg *funcs,
                          lua_CFunction call);

/* string.sub's range rules on a sequence of len elements: i and j are
 * 1-based and inclusive, negative counts from the end, out-of-range ends
 * are clamped. Stores the 0-based start and the element count. */
void mw_lua_sub_range(size_t len, lua_Integer i, lua_Integer j, size_t *start,
                      size_t *count);

/* Lua 5.4's numeric for: the loop is on integers when the start and the
 * step are integers, whatever the limit; a float limit is floored (or
 * ceiled for a negative step) and clipped to the integer range, as
 * lvm.c's forlimit does. Reads the limit at idx into *limit and returns
 * 0 when the loop runs no step at all (a NaN limit, or one out of range
 * on the far side). */
int mw_lua_for_limit(lua_State *L, int idx, lua_Integer step, lua_Integer *limit);

/* The number of values of `for v = init, limit, step` on integers (step
 * non-zero), saturated at LUA_MAXINTEGER. */
lua_Integer mw_lua_for_count(lua_Integer init, lua_Integer limit, lua_Integer step);

#endif /* MW_LUA_STATE_H */
