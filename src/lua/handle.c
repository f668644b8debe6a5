/*
 * handle.c: handles, their cache and their shared metamethods (see
 * handle.h).
 *
 * Invariant: while a handle is live (obj != NULL) it owns one reference
 * and the cache maps the object's address to it. Releasing removes the
 * cache entry (leaving it costs nothing per release, but a script that
 * makes and releases a million handles then keeps a million dead entries
 * until Lua's next cycle, and the measured collection of bench/
 * gc_collect.lua doubles). Lookups also check that a cached handle still
 * holds the very object looked up, so a stale entry is never returned.
 * Lua clears weak values of collected handles before running their __gc.
 */
#include "lua/handle.h"

#include <string.h>

#include "lua/l_value.h"
#include "types/str.h"

/* Metatables of handle classes carry this key (its address), which no
 * script can forge, so any moonwatch handle is recognised in one lookup. */
static const char handle_key = 'H';

mw_handle *mw_lua_test_handle(lua_State *L, int idx)
{
    mw_handle *h = lua_touserdata(L, idx);
    if (h == NULL || lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
        return NULL;
    int is_handle = lua_rawgetp(L, -1, &handle_key) != LUA_TNIL;
    lua_pop(L, 2);
    return is_handle ? h : NULL;
}

void mw_lua_release(lua_State *L, mw_lua_state *st, mw_handle *h)
{
    if (h->obj == NULL)
        return;
    mw_object *o = h->obj;
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->cache_ref);
    if (lua_rawgetp(L, -1, o) == LUA_TUSERDATA && lua_touserdata(L, -1) == h) {
        lua_pushnil(L);
        lua_rawsetp(L, -3, o);   /* assigning nil to an existing key never raises */
    }
    lua_pop(L, 2);
    h->obj = NULL;
    mw_lua_unkeep(st, h->kept);
    h->kept = 0;
    if (st->heap != NULL)
        mw_decref(st->heap, o);
}

/* Drops a handle's reference that its __gc never dropped (see
 * mw_lua_keep). */
static void handle_drop_kept(mw_lua_state *st, void *resource)
{
    if (st->heap != NULL)
        mw_decref(st->heap, resource);
}

/* Pushes a handle of class t holding nothing yet. */
/* Native memory Lua cannot see: a handle is a few bytes of userdata to
 * Lua's collector, whatever its object holds (a batch of a million
 * values), so a loop that drops handles without releasing them would let
 * native memory grow for a long time before Lua's collector next runs.
 * Each time the native heap has grown by half since the last time (and
 * by at least HANDLE_PRESSURE_MIN bytes), a step of Lua's collector runs
 * here: the handles dropped since then are collected and their objects
 * freed. (V8's AdjustAmountOfExternalAllocatedMemory does the same.) */
#define HANDLE_PRESSURE_MIN ((size_t)16 << 20)

static void handle_pressure(lua_State *L, mw_lua_state *st)
{
    size_t native = st->alloc->domain_bytes[MW_DOMAIN_NATIVE];
    size_t base = st->native_at_step;
    size_t grow = base / 2 > HANDLE_PRESSURE_MIN ? base / 2 : HANDLE_PRESSURE_MIN;
    if (native > base && native - base > grow) {
        lua_gc(L, LUA_GCSTEP, 0);
        st->native_at_step = st->alloc->domain_bytes[MW_DOMAIN_NATIVE];
    } else if (native < base) {
        st->native_at_step = native;
    }
}

mw_handle *mw_lua_new_handle(lua_State *L, mw_lua_state *st, const mw_type *t)
{
    handle_pressure(L, st);
    mw_handle *h = lua_newuserdatauv(L, sizeof *h, 1);
    h->obj = NULL;
    h->kept = 0;
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, t) != LUA_TTABLE)
        luaL_error(L, "moonwatch: no handle class for type '%s'", t->name);
    lua_setmetatable(L, -2);
    return h;
}

void mw_lua_bind(lua_State *L, mw_lua_state *st, mw_handle *h, mw_object *o)
{
    h->obj = o;
    h->kept = 0;
    /* The handle owns o from here on, so if keeping it or recording it in
     * the cache raises, its __gc still releases o: nothing leaks. */
    h->kept = mw_lua_keep(L, st, o, handle_drop_kept);
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->cache_ref);
    lua_pushvalue(L, -2);
    lua_rawsetp(L, -2, o);
    lua_pop(L, 1);
}

/* Pushes the cached handle of o if it has a live one; returns 1 if so.
 * Reading the cache allocates nothing, so no script code runs. */
static int handle_push_cached(lua_State *L, mw_lua_state *st, mw_object *o)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, st->cache_ref);
    int found = lua_rawgetp(L, -1, o) == LUA_TUSERDATA
                && ((mw_handle *)lua_touserdata(L, -1))->obj == o;
    lua_remove(L, -2);
    if (!found)
        lua_pop(L, 1);
    return found;
}

void mw_lua_push_plain(lua_State *L, mw_value v)
{
    switch (v.tag) {
    case MW_TBOOL:   lua_pushboolean(L, v.u.b); break;
    case MW_TINT:    lua_pushinteger(L, (lua_Integer)v.u.i); break;
    case MW_TFLOAT:  lua_pushnumber(L, (lua_Number)v.u.f); break;
    case MW_TSTRING: {
        /* lua_pushlstring copies the bytes before its collector step. */
        mw_str *s = mw_str_cast(v.u.o);
        lua_pushlstring(L, s->bytes, s->len);
        break;
    }
    default:         lua_pushnil(L); break;
    }
}

void mw_lua_push_read(lua_State *L, mw_lua_state *st, mw_lua_reader read, void *ctx)
{
    mw_value v;
    if (!read(L, ctx, &v) || v.tag != MW_TOBJECT) {
        mw_lua_push_plain(L, v.tag == MW_TOBJECT ? mw_nil() : v);
        return;
    }
    if (handle_push_cached(L, st, v.u.o))
        return;
    /* The allocation may run finalizers: read again afterwards. A blank
     * userdata without a metatable is plain garbage if unused. */
    mw_handle *h = lua_newuserdatauv(L, sizeof *h, 1);
    h->obj = NULL;
    h->kept = 0;
    if (!read(L, ctx, &v) || v.tag != MW_TOBJECT) {
        lua_pop(L, 1);
        mw_lua_push_plain(L, v.tag == MW_TOBJECT ? mw_nil() : v);
        return;
    }
    mw_object *o = v.u.o;
    if (handle_push_cached(L, st, o)) {
        lua_remove(L, -2);
        return;
    }
    /* From here on nothing runs script code: metatable lookups allocate
     * nothing, and a cache insertion that fails only raises. */
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, o->type) != LUA_TTABLE)
        luaL_error(L, "moonwatch: no handle class for type '%s'", o->type->name);
    lua_setmetatable(L, -2);
    mw_incref(o);
    mw_lua_bind(L, st, h, o);
}

mw_object *mw_lua_check_object(lua_State *L, int idx, const mw_type *t)
{
    mw_handle *h = lua_touserdata(L, idx);
    int ok = 0;
    if (h != NULL && lua_type(L, idx) == LUA_TUSERDATA && lua_getmetatable(L, idx)) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, t);
        ok = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    if (!ok) {
        luaL_typeerror(L, idx, t->name);
        return NULL;
    }
    if (h->obj == NULL)
        luaL_error(L, "attempt to use a released %s", t->name);
    return h->obj;
}

int mw_lua_release_fn(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate_raw(L);
    mw_handle *h = mw_lua_test_handle(L, 1);
    if (h == NULL)
        return luaL_typeerror(L, 1, "moonwatch object");
    mw_lua_release(L, st, h);
    return 0;
}

static int handle_gc(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate_raw(L);
    mw_handle *h = mw_lua_test_handle(L, 1);
    if (h != NULL && h->obj != NULL) {
        mw_object *o = h->obj;
        h->obj = NULL;
        mw_lua_unkeep(st, h->kept);
        h->kept = 0;
        if (st->heap != NULL)
            mw_decref(st->heap, o);
    }
    return 0;
}

/* tostring of any handle: the readable form of its object (l_value.c),
 * or "<type> (released)". */
static int handle_tostring(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate_raw(L);
    mw_handle *h = mw_lua_test_handle(L, 1);
    if (h == NULL)
        return luaL_typeerror(L, 1, "moonwatch object");
    if (h->obj != NULL && st->heap != NULL) {
        mw_lua_pushrepr(L, st, h->obj);
        return 1;
    }
    luaL_getmetafield(L, 1, "__name");
    const char *name = lua_tostring(L, -1);
    if (name != NULL && strncmp(name, "moonwatch.", 10) == 0)
        name += 10;
    lua_pushfstring(L, "%s (released)", name ? name : "object");
    return 1;
}

void mw_lua_newclass(lua_State *L, mw_lua_state *st, const mw_type *t,
                     const luaL_Reg *meta, const luaL_Reg *methods,
                     lua_CFunction index_fn)
{
    /* The type's statistics slot exists from now on, so mw.mem.stats()
     * lists the type (with count 0) before its first object. */
    mw_heap_type_stats(st->heap, t);
    lua_createtable(L, 0, 12);
    lua_pushfstring(L, "moonwatch.%s", t->name);
    lua_setfield(L, -2, "__name");
    lua_pushboolean(L, 1);
    lua_rawsetp(L, -2, &handle_key);
    /* Scripts cannot reach the metatable (and call __gc on anything). */
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");

    static const luaL_Reg defaults[] = {
        {"__gc", handle_gc},
        {"__close", mw_lua_release_fn},
        {"__tostring", handle_tostring},
        {NULL, NULL}
    };
    mw_lua_setfuncs(L, st, defaults);
    if (meta != NULL)
        mw_lua_setfuncs(L, st, meta);

    lua_createtable(L, 0, 8);
    static const luaL_Reg base_methods[] = {
        {"release", mw_lua_release_fn},
        {NULL, NULL}
    };
    mw_lua_setfuncs(L, st, base_methods);
    if (methods != NULL)
        mw_lua_setfuncs(L, st, methods);
    if (index_fn != NULL) {
        lua_pushlightuserdata(L, st);
        lua_insert(L, -2);
        lua_pushcclosure(L, index_fn, 2);
    }
    lua_setfield(L, -2, "__index");
    lua_rawsetp(L, LUA_REGISTRYINDEX, t);
}
