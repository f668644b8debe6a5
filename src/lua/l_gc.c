/*
 * l_gc.c: mw.gc, control and figures of the native heap's cycle collector,
 * shaped after Python's gc module.
 *
 * Only the native heap is concerned: Lua's own collector is still driven
 * by collectgarbage(). Handles that Lua has not collected yet keep their
 * objects alive; collectgarbage() first, then mw.gc.collect(), frees
 * everything unreachable from both sides.
 */
#include "lua/l_gc.h"

#include <stdio.h>

static int gc_checkgen(lua_State *L, int arg, int def)
{
    lua_Integer g = luaL_optinteger(L, arg, def);
    luaL_argcheck(L, g >= 0 && g < MW_GC_NGEN, arg, "generation must be 0, 1 or 2");
    return (int)g;
}

/* mw.gc.collect([generation]): collects it (2, everything, by default);
 * returns the number of unreachable objects found. */
static int gc_collect(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    int g = gc_checkgen(L, 1, MW_GC_NGEN - 1);
    lua_pushinteger(L, (lua_Integer)mw_gc_collect(st->heap, g));
    return 1;
}

static int gc_enable(lua_State *L)
{
    mw_lua_upstate(L)->heap->gc.enabled = 1;
    return 0;
}

static int gc_disable(lua_State *L)
{
    mw_lua_upstate(L)->heap->gc.enabled = 0;
    return 0;
}

static int gc_isenabled(lua_State *L)
{
    lua_pushboolean(L, mw_lua_upstate(L)->heap->gc.enabled);
    return 1;
}

/* mw.gc.threshold([t0 [, t1 [, t2]]]): sets the given thresholds and
 * returns all three. */
static int gc_threshold(lua_State *L)
{
    mw_gc *gc = &mw_lua_upstate(L)->heap->gc;
    for (int i = 0; i < MW_GC_NGEN; i++) {
        if (lua_isnoneornil(L, i + 1))
            continue;
        lua_Integer t = luaL_checkinteger(L, i + 1);
        luaL_argcheck(L, t >= 0, i + 1, "threshold must not be negative");
        mw_gc_set_threshold(gc, i, (size_t)t);
    }
    for (int i = 0; i < MW_GC_NGEN; i++)
        lua_pushinteger(L, (lua_Integer)gc->gens[i].threshold);
    return MW_GC_NGEN;
}

/* mw.gc.count(): the three generation counters. */
static int gc_count(lua_State *L)
{
    mw_gc *gc = &mw_lua_upstate(L)->heap->gc;
    for (int i = 0; i < MW_GC_NGEN; i++)
        lua_pushinteger(L, (lua_Integer)gc->gens[i].count);
    return MW_GC_NGEN;
}

static void gc_setfield_int(lua_State *L, const char *k, uint64_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

/* mw.gc.stats(): an array with one table per generation. */
static int gc_stats(lua_State *L)
{
    mw_gc *gc = &mw_lua_upstate(L)->heap->gc;
    lua_createtable(L, MW_GC_NGEN, 0);
    for (int i = 0; i < MW_GC_NGEN; i++) {
        const mw_gc_stats *s = &gc->stats[i];
        lua_createtable(L, 0, 6);
        gc_setfield_int(L, "generation", (uint64_t)i);
        gc_setfield_int(L, "collections", s->collections);
        gc_setfield_int(L, "collected", s->collected);
        gc_setfield_int(L, "uncollectable", s->uncollectable);
        lua_pushnumber(L, (lua_Number)s->total_pause_ns / 1e9);
        lua_setfield(L, -2, "total_pause");
        lua_pushnumber(L, (lua_Number)s->max_pause_ns / 1e9);
        lua_setfield(L, -2, "max_pause");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int gc_freeze(lua_State *L)
{
    mw_gc_freeze(&mw_lua_upstate(L)->heap->gc);
    return 0;
}

static int gc_unfreeze(lua_State *L)
{
    mw_gc_unfreeze(&mw_lua_upstate(L)->heap->gc);
    return 0;
}

/* mw.gc.frozen(): the number of objects in the permanent generation. */
static int gc_frozen(lua_State *L)
{
    mw_gc *gc = &mw_lua_upstate(L)->heap->gc;
    lua_pushinteger(L, (lua_Integer)mw_gc_list_size(gc, MW_GC_PERMANENT));
    return 1;
}

/* mw.gc.uncollectable(): the number of objects found in garbage cycles
 * that clearing could not free (kept, never freed twice). */
static int gc_uncollectable(lua_State *L)
{
    mw_gc *gc = &mw_lua_upstate(L)->heap->gc;
    lua_pushinteger(L, (lua_Integer)mw_gc_list_size(gc, MW_GC_UNCOLLECTABLE));
    return 1;
}

/* The debug report, on stderr like Python's gc.set_debug. */
static void gc_debug_report(void *ud, const char *event, int generation,
                            const mw_object *o, size_t n)
{
    (void)ud;
    if (o != NULL)
        fprintf(stderr, "moonwatch gc: %s %s at %p\n", event, o->type->name,
                (const void *)o);
    else if (event[0] == 's')
        fprintf(stderr, "moonwatch gc: collecting generation %d (%zu objects)\n",
                generation, n);
    else
        fprintf(stderr, "moonwatch gc: done, %zu unreachable\n", n);
}

/* mw.gc.debug([flag]): turns the report of each collection and each
 * garbage object on stderr on or off; returns the previous setting. */
static int gc_debug(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    int was = st->heap->gc.debug_fn != NULL;
    if (!lua_isnone(L, 1)) {
        st->heap->gc.debug_fn = lua_toboolean(L, 1) ? gc_debug_report : NULL;
        st->heap->gc.debug_ud = st;
    }
    lua_pushboolean(L, was);
    return 1;
}

void mw_lua_open_gc(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg funcs[] = {
        {"collect", gc_collect},
        {"enable", gc_enable},
        {"disable", gc_disable},
        {"isenabled", gc_isenabled},
        {"threshold", gc_threshold},
        {"count", gc_count},
        {"stats", gc_stats},
        {"freeze", gc_freeze},
        {"unfreeze", gc_unfreeze},
        {"frozen", gc_frozen},
        {"uncollectable", gc_uncollectable},
        {"debug", gc_debug},
        {NULL, NULL}
    };
    lua_createtable(L, 0, 12);
    mw_lua_setfuncs(L, st, funcs);
}
