/*
 * state.c: creation and teardown of the module state (see state.h), and
 * the small helpers every binding shares.
 */
#include "lua/state.h"
#include "lua/l_snapshot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Registry key of the state userdata: the address of this constant. */
static const char state_key = 'S';

/* Drops what is still kept: resources whose __gc never ran. */
static void state_drop_kept(mw_lua_state *st)
{
    mw_lua_kept *kept = st->kept;
    size_t len = st->kept_len, cap = st->kept_cap;
    st->kept = NULL;
    st->kept_len = st->kept_cap = 0;
    st->kept_free = 0;
    for (size_t i = len; i-- > 0;)
        if (kept[i].drop != NULL)
            kept[i].drop(st, kept[i].resource);
    mw_alloc_free(st->alloc, MW_DOMAIN_LUA, kept, cap * sizeof *kept);
}

static int state_gc(lua_State *L)
{
    mw_lua_state *st = lua_touserdata(L, 1);
    mw_lua_trace_free(st);
    state_drop_kept(st);
    if (st->heap != NULL) {
        mw_heap_destroy(st->heap);
        st->heap = NULL;
    }
    mw_alloc_free(st->alloc, MW_DOMAIN_NATIVE, st->scratch, st->scratch_cap);
    st->scratch = NULL;
    st->scratch_cap = 0;
    return 0;
}

mw_lua_state *mw_lua_live(lua_State *L)
{
    mw_lua_state *st = lua_touserdata(L, lua_upvalueindex(1));
    if (st->heap == NULL)
        luaL_error(L, "moonwatch: the Lua state is closing");
    return st;
}

size_t mw_lua_keep(lua_State *L, mw_lua_state *st, void *resource, mw_lua_drop_fn drop)
{
    size_t slot = st->kept_free;
    if (slot == 0) {
        if (st->kept_len == st->kept_cap) {
            size_t cap = st->kept_cap < 16 ? 16 : st->kept_cap + st->kept_cap / 2;
            mw_lua_kept *grown = mw_alloc_realloc(st->alloc, MW_DOMAIN_LUA, st->kept,
                                                  st->kept_cap * sizeof *grown,
                                                  cap * sizeof *grown);
            if (grown == NULL)
                mw_lua_status_error(L, st->alloc->last_error);
            st->kept = grown;
            st->kept_cap = cap;
        }
        slot = ++st->kept_len;
    } else {
        st->kept_free = st->kept[slot - 1].next_free;
    }
    st->kept[slot - 1].resource = resource;
    st->kept[slot - 1].drop = drop;
    st->kept[slot - 1].next_free = 0;
    return slot;
}

void mw_lua_unkeep(mw_lua_state *st, size_t slot)
{
    if (slot == 0 || slot > st->kept_len)
        return;   /* not kept, or the state has dropped everything */
    st->kept[slot - 1].resource = NULL;
    st->kept[slot - 1].drop = NULL;
    st->kept[slot - 1].next_free = st->kept_free;
    st->kept_free = slot;
}

mw_lua_state *mw_lua_state_find(lua_State *L)
{
    mw_lua_state *st = NULL;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &state_key) == LUA_TUSERDATA)
        st = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return st;
}

mw_lua_state *mw_lua_state_open(lua_State *L)
{
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &state_key) == LUA_TUSERDATA) {
        mw_lua_state *st = lua_touserdata(L, -1);
        lua_pop(L, 1);
        return st;
    }
    lua_pop(L, 1);

    mw_lua_state *st = lua_newuserdatauv(L, sizeof *st, 0);
    memset(st, 0, sizeof *st);
    st->cache_ref = LUA_NOREF;
    void *ud = NULL;
    if (lua_getallocf(L, &ud) == mw_alloc_lua) {
        st->alloc = ud;
    } else {
        mw_alloc_init(&st->own_alloc);
        st->alloc = &st->own_alloc;
    }
    /* The metatable (and so the finalizer) goes on before the heap exists:
     * nothing can leak between the two steps. */
    lua_createtable(L, 0, 2);
    lua_pushcfunction(L, state_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushliteral(L, "moonwatch.state");
    lua_setfield(L, -2, "__name");
    lua_setmetatable(L, -2);
    st->heap = mw_heap_new(st->alloc);
    if (st->heap == NULL)
        mw_lua_status_error(L, st->alloc->last_error);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &state_key);

    lua_createtable(L, 0, 0);
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "v");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    st->cache_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return st;
}

void mw_lua_format_bytes(char *buf, size_t cap, size_t bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = (double)bytes;
    int unit = 0;
    while (value >= 1024.0 && unit < 4) {
        value /= 1024.0;
        unit++;
    }
    if (unit == 0)
        snprintf(buf, cap, "%zu B", bytes);
    else
        snprintf(buf, cap, "%.1f %s", value, units[unit]);
}

void mw_lua_budget_detail(const mw_alloc *a, char *buf, size_t cap)
{
    char limit[32];
    mw_lua_format_bytes(limit, sizeof limit, a->budget);
    snprintf(buf, cap, "limit %s, requested %zu bytes", limit, a->last_refused);
}

int mw_lua_status_error(lua_State *L, mw_status status)
{
    if (status == MW_EBUDGET) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &state_key);
        const mw_lua_state *st = lua_touserdata(L, -1);
        lua_pop(L, 1);
        if (st != NULL && st->alloc->budget != 0) {
            char detail[96];
            mw_lua_budget_detail(st->alloc, detail, sizeof detail);
            return luaL_error(L, "%s (%s)", mw_strerror(status), detail);
        }
    }
    return luaL_error(L, "%s", mw_strerror(status));
}

size_t mw_lua_heap_bytes(lua_State *L, const mw_lua_state *st)
{
    if (st->alloc != &st->own_alloc)
        return st->alloc->domain_bytes[MW_DOMAIN_LUA];
    return (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024u
           + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
}

void mw_lua_setfuncs(lua_State *L, mw_lua_state *st, const luaL_Reg *funcs)
{
    lua_pushlightuserdata(L, st);
    luaL_setfuncs(L, funcs, 1);
}

void mw_lua_push_callable(lua_State *L, mw_lua_state *st, const luaL_Reg *funcs,
                          lua_CFunction call)
{
    lua_createtable(L, 0, 8);
    if (funcs != NULL)
        mw_lua_setfuncs(L, st, funcs);
    lua_createtable(L, 0, 1);
    lua_pushlightuserdata(L, st);
    lua_pushcclosure(L, call, 1);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
}

void mw_lua_sub_range(size_t len, lua_Integer i, lua_Integer j, size_t *start,
                      size_t *count)
{
    lua_Integer n = (lua_Integer)len;
    if (i < 0)
        i = i < -n ? 1 : n + i + 1;
    else if (i == 0)
        i = 1;
    if (j < 0)
        j = j < -n ? 0 : n + j + 1;
    else if (j > n)
        j = n;
    if (i > j) {
        *start = 0;
        *count = 0;
        return;
    }
    *start = (size_t)i - 1;
    *count = (size_t)(j - i + 1);
}

int mw_lua_for_limit(lua_State *L, int idx, lua_Integer step, lua_Integer *limit)
{
    if (lua_isinteger(L, idx)) {
        *limit = lua_tointeger(L, idx);
        return 1;
    }
    double f = (double)lua_tonumber(L, idx);
    if (isnan(f))
        return 0;
    f = step < 0 ? ceil(f) : floor(f);
    if (f >= -9223372036854775808.0 && f < 9223372036854775808.0) {
        *limit = (lua_Integer)f;
        return 1;
    }
    if (f > 0) {
        *limit = LUA_MAXINTEGER;
        return step > 0;
    }
    *limit = LUA_MININTEGER;
    return step < 0;
}

lua_Integer mw_lua_for_count(lua_Integer init, lua_Integer limit, lua_Integer step)
{
    if (step > 0 ? init > limit : init < limit)
        return 0;
    lua_Unsigned count;
    if (step > 0)
        count = ((lua_Unsigned)limit - (lua_Unsigned)init) / (lua_Unsigned)step;
    else
        count = ((lua_Unsigned)init - (lua_Unsigned)limit)
                / ((lua_Unsigned)(-(step + 1)) + 1u);
    return count >= (lua_Unsigned)LUA_MAXINTEGER ? LUA_MAXINTEGER : (lua_Integer)count + 1;
}
