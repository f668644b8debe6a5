/*
 * l_mem.c: mw.mem, the figures of the accounting allocator as Lua sees
 * them, and the memory budget.
 *
 * All figures are exact byte counts from the allocator (not RSS): what the
 * runtime's blocks hold, without the C library's own overhead per block.
 */
#include "lua/l_mem.h"
#include "lua/l_profile.h"
#include "lua/l_snapshot.h"
#include "lua/l_timeline.h"

#include "iter/parse.h"

static void mem_setfield(lua_State *L, const char *k, size_t v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

/* mw.mem.stats(): {lua, native, pool, total, peak, lua_peak, native_peak,
 * budget, allocations, failed, frees, objects = {<type> = {count, bytes}}}. */
static int mem_stats(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    const mw_alloc *a = st->alloc;
    size_t lua_bytes = mw_lua_heap_bytes(L, st);
    size_t native = a->domain_bytes[MW_DOMAIN_NATIVE];
    size_t pool = a->domain_bytes[MW_DOMAIN_POOL];
    lua_createtable(L, 0, 12);
    mem_setfield(L, "lua", lua_bytes);
    mem_setfield(L, "native", native);
    mem_setfield(L, "pool", pool);
    mem_setfield(L, "total", lua_bytes + native + pool);
    if (a == &st->own_alloc) {
        /* Lua's allocator is not ours: no exact Lua peak is known. */
        mem_setfield(L, "peak", a->peak + lua_bytes);
    } else {
        mem_setfield(L, "peak", a->peak);
        mem_setfield(L, "lua_peak", a->domain_peak[MW_DOMAIN_LUA]);
    }
    mem_setfield(L, "native_peak", a->domain_peak[MW_DOMAIN_NATIVE]);
    if (a->budget != 0)
        mem_setfield(L, "budget", a->budget);
    lua_pushinteger(L, (lua_Integer)a->n_allocs);
    lua_setfield(L, -2, "allocations");
    lua_pushinteger(L, (lua_Integer)a->n_failed);
    lua_setfield(L, -2, "failed");
    lua_pushinteger(L, (lua_Integer)a->n_frees);
    lua_setfield(L, -2, "frees");

    lua_createtable(L, 0, 4);
    for (int i = 0; i < MW_HEAP_MAX_TYPES; i++) {
        const mw_type_stats *s = &st->heap->types[i];
        if (s->type == NULL)
            break;
        lua_createtable(L, 0, 2);
        mem_setfield(L, "count", s->count);
        mem_setfield(L, "bytes", s->bytes);
        lua_setfield(L, -2, s->type->name);
    }
    lua_setfield(L, -2, "objects");
    return 1;
}

/* mw.mem.limit([bytes]) (also mw.mem.budget): sets the budget (0 or
 * false: none; a number of bytes or a size such as "256M") and returns
 * the budget in force, or nil for none. Over budget, allocations fail
 * with the error "memory limit exceeded (limit ..., requested N bytes)",
 * which pcall catches. */
static int mem_budget(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_alloc *a = st->alloc;
    if (!lua_isnone(L, 1)) {
        size_t budget = 0;
        if (lua_type(L, 1) == LUA_TSTRING) {
            size_t len;
            const char *text = lua_tolstring(L, 1, &len);
            if (mw_parse_size(text, len, &budget) != MW_PARSE_OK)
                return luaL_argerror(L, 1, lua_pushfstring(L,
                    "'%s' is not a size (bytes, or a number with K, M, G or T)", text));
        } else if (lua_toboolean(L, 1)) {
            lua_Integer b = luaL_checkinteger(L, 1);
            luaL_argcheck(L, b >= 0, 1, "budget must not be negative");
            budget = (size_t)b;
        }
        size_t in_use = a->current;
        if (a == &st->own_alloc)
            in_use += mw_lua_heap_bytes(L, st);
        if (budget != 0 && budget < in_use)
            return luaL_argerror(L, 1, lua_pushfstring(L,
                "budget of %I bytes is below the %I bytes in use",
                (LUAI_UACINT)budget, (LUAI_UACINT)in_use));
        mw_alloc_set_budget(a, budget);
    }
    if (a->budget == 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, (lua_Integer)a->budget);
    return 1;
}

/* mw.mem.resetpeak(): starts a new peak measurement from now. */
static int mem_resetpeak(lua_State *L)
{
    mw_alloc_reset_peak(mw_lua_upstate(L)->alloc);
    return 0;
}

/* mw.mem.top([n [, by]]): the n largest groups of a snapshot taken now
 * (snapshot:top). Upvalues as mw.mem.snapshot's. */
static int mem_top(lua_State *L)
{
    lua_settop(L, 2);
    mw_lua_mem_snapshot(L);                 /* 3: the snapshot */
    lua_getfield(L, 3, "top");
    lua_pushvalue(L, 3);
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 3, 1);
    return 1;
}

void mw_lua_open_mem(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg funcs[] = {
        {"stats", mem_stats},
        {"limit", mem_budget},
        {"budget", mem_budget},
        {"reset_peak", mem_resetpeak},
        {"resetpeak", mem_resetpeak},
        {"profile", mw_lua_mem_profile},
        {"timeline", mw_lua_mem_timeline},
        {"trace", mw_lua_mem_trace},
        {NULL, NULL}
    };
    lua_createtable(L, 0, 10);
    mw_lua_setfuncs(L, st, funcs);
    /* snapshot and top: the state and the snapshot methods as upvalues */
    lua_pushlightuserdata(L, st);
    mw_lua_open_snapshot(L, st);
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_pushcclosure(L, mw_lua_mem_snapshot, 2);
    lua_setfield(L, -4, "snapshot");
    lua_pushcclosure(L, mem_top, 2);
    lua_setfield(L, -2, "top");
}
