/*
 * l_map.c: the Lua binding of maps, mw.map.
 *
 * m[k] reads the entry for k; if there is none and k names a method, the
 * method is returned: a stored key shadows a method of the same name (the
 * functions of mw.map, e.g. mw.map.keys(m), always work). m[k] = nil
 * deletes. Keys are strings and numbers; 1 and 1.0 are the same key.
 */
#include "lua/l_map.h"

#include <limits.h>

#include "lua/handle.h"
#include "lua/l_value.h"
#include "types/map.h"
#include "types/str.h"

static mw_map *map_check(lua_State *L, int idx)
{
    return mw_map_cast(mw_lua_check_object(L, idx, &mw_map_type));
}

/* Raises the error for the key at kidx, which the map cannot use. */
static int map_key_error(lua_State *L, int kidx, int arg, mw_status status)
{
    if (status == MW_EKEY)
        return luaL_argerror(L, arg, lua_type(L, kidx) == LUA_TNIL
                             ? "map key is nil" : "map key is NaN");
    if (status == MW_ETYPE)
        return luaL_argerror(L, arg, lua_pushfstring(L,
            "map keys are strings or numbers, got %s", luaL_typename(L, kidx)));
    return mw_lua_status_error(L, status);
}

/* Reads the key at idx: returns 1 with *key set for a number, 0 for a
 * string (strings are looked up by their bytes), -1 for anything else. */
static int map_number_key(lua_State *L, int idx, mw_value *key)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        return 0;
    case LUA_TNUMBER:
        *key = lua_isinteger(L, idx) ? mw_int((int64_t)lua_tointeger(L, idx))
                                     : mw_float((double)lua_tonumber(L, idx));
        return 1;
    default:
        return -1;
    }
}

/* Looks up the key at idx; *out gets the value or nil. As with Lua
 * tables, a key that cannot be stored (nil, NaN, a boolean) reads as
 * absent. Allocates nothing and runs no script code. */
static mw_value map_lookup(lua_State *L, mw_lua_state *st, mw_map *m, int idx)
{
    mw_value key, out = mw_nil();
    int kind = map_number_key(L, idx, &key);
    if (kind == 1) {
        if (mw_map_get(st->heap, m, key, &out) != MW_OK)
            out = mw_nil();
    } else if (kind == 0) {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        out = mw_map_get_lstr(st->heap, m, s, len);
    }
    return out;
}

/* The value for a key, read through the map's handle (see handle.h on
 * why pushes read again). */
typedef struct map_key_read_ctx {
    mw_lua_state *st;
    int handle_idx;
    mw_map *map;
    int key_idx;
} map_key_read_ctx;

static int map_key_read(lua_State *L, void *ctx, mw_value *out)
{
    map_key_read_ctx *c = ctx;
    mw_handle *h = lua_touserdata(L, c->handle_idx);
    if (h->obj != &c->map->ob)
        return 0;
    *out = map_lookup(L, c->st, c->map, c->key_idx);
    return 1;
}

/* Looks up the key at idx in the map of the handle at 1 and pushes the
 * value or nil. */
static void map_push_get(lua_State *L, mw_lua_state *st, mw_map *m, int idx)
{
    map_key_read_ctx ctx = { st, 1, m, lua_absindex(L, idx) };
    mw_lua_push_read(L, st, map_key_read, &ctx);
}

/* The key or value of one slot, read through the map's handle: gone if
 * the handle no longer holds the map or the slot was emptied. */
typedef struct map_slot {
    int handle_idx;
    mw_map *map;
    size_t index;
    int want_value;
} map_slot;

static int map_slot_read(lua_State *L, void *ctx, mw_value *out)
{
    map_slot *slot = ctx;
    mw_handle *h = lua_touserdata(L, slot->handle_idx);
    const mw_map *m = slot->map;
    if (h->obj != &m->ob || slot->index >= m->cap || m->slots[slot->index].key.tag == MW_TNIL)
        return 0;
    *out = slot->want_value ? m->slots[slot->index].value : m->slots[slot->index].key;
    return 1;
}

/* The next occupied slot at or after *pos of the map of the handle at
 * handle_idx; returns 0 at the end (or if the handle was released). */
static int map_next_slot(lua_State *L, int handle_idx, mw_map *m, size_t *pos)
{
    mw_handle *h = lua_touserdata(L, handle_idx);
    if (h->obj != &m->ob)
        return 0;
    for (size_t i = *pos; i < m->cap; i++) {
        if (m->slots[i].key.tag != MW_TNIL) {
            *pos = i;
            return 1;
        }
    }
    return 0;
}

/* Pushes the key (want_value 0) or value of slot `index`. */
static void map_push_slot(lua_State *L, mw_lua_state *st, mw_map *m, size_t index,
                          int want_value)
{
    map_slot slot = { 1, m, index, want_value };
    mw_lua_push_read(L, st, map_slot_read, &slot);
}

/* Sets the key at kidx to the value at vidx; errors name argument arg
 * (the key) or arg + 1 (the value), or arg alone when both come from one
 * table argument. */
static void map_set(lua_State *L, mw_lua_state *st, mw_map *m, int kidx, int vidx,
                    int arg, int value_arg)
{
    mw_value key;
    mw_status status;
    int kind = map_number_key(L, kidx, &key);
    if (kind < 0)
        map_key_error(L, kidx, arg, lua_isnil(L, kidx) ? MW_EKEY : MW_ETYPE);
    mw_value v = mw_lua_checkvalue(L, st, vidx, value_arg, "map");
    if (kind == 1) {
        status = mw_map_set(st->heap, m, key, v);
    } else {
        size_t len;
        const char *s = lua_tolstring(L, kidx, &len);
        status = mw_map_set_lstr(st->heap, m, s, len, v);
    }
    mw_value_decref(st->heap, v);
    if (status != MW_OK)
        map_key_error(L, kidx, arg, status);
}

/* mw.map([t]): a new map holding the string and number keys of t. */
static int map_call(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    int has_table = !lua_isnoneornil(L, 2);
    if (has_table && !lua_istable(L, 2))
        return luaL_error(L, "bad argument #1 to 'map' (table expected, got %s)",
                          luaL_typename(L, 2));
    lua_settop(L, 2);
    mw_handle *h = mw_lua_new_handle(L, st, &mw_map_type);
    mw_map *m = mw_map_new(st->heap, 0);
    if (m == NULL)
        return mw_lua_status_error(L, mw_heap_last_error(st->heap));
    mw_lua_bind(L, st, h, &m->ob);
    if (has_table) {
        lua_pushnil(L);
        while (lua_next(L, 2) != 0) {
            map_set(L, st, m, lua_gettop(L) - 1, lua_gettop(L), 1, 1);
            lua_pop(L, 1);
        }
    }
    return 1;
}

static int map_index(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_handle *h = lua_touserdata(L, 1);
    if (h != NULL && h->obj == NULL && lua_type(L, 2) == LUA_TSTRING) {
        /* A released map still answers its methods (m:release() twice). */
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL)
            return 1;
    }
    mw_map *m = map_check(L, 1);
    map_push_get(L, st, m, 2);
    if (lua_isnil(L, -1) && lua_type(L, 2) == LUA_TSTRING) {
        lua_pushvalue(L, 2);
        lua_rawget(L, lua_upvalueindex(2));
    }
    return 1;
}

static int map_newindex(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    map_set(L, st, map_check(L, 1), 2, 3, 2, 3);
    return 0;
}

static int map_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)map_check(L, 1)->count);
    return 1;
}

/* The iterator of pairs(m): upvalue 2 holds the slot position. Deleting
 * the current key during the loop is allowed (it leaves a tombstone). */
static int map_pairs_next(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_map *m = map_check(L, 1);
    size_t pos = (size_t)lua_tointeger(L, lua_upvalueindex(2));
    if (!map_next_slot(L, 1, m, &pos))
        return 0;
    lua_pushinteger(L, (lua_Integer)pos + 1);
    lua_replace(L, lua_upvalueindex(2));
    map_push_slot(L, st, m, pos, 0);
    map_push_slot(L, st, m, pos, 1);
    return 2;
}

static int map_pairs(lua_State *L)
{
    map_check(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushinteger(L, 0);
    lua_pushcclosure(L, map_pairs_next, 2);
    lua_pushvalue(L, 1);
    lua_pushnil(L);
    return 3;
}

/* m:get(k [, default]) */
static int map_get(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_map *m = map_check(L, 1);
    map_push_get(L, st, m, 2);
    if (lua_isnil(L, -1) && lua_gettop(L) >= 4)
        lua_pushvalue(L, 3);
    return 1;
}

/* m:set(k, v): returns m, so sets chain. */
static int map_set_m(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    map_set(L, st, map_check(L, 1), 2, 3, 2, 3);
    lua_settop(L, 1);
    return 1;
}

/* m:has(k): whether k is a key of m. */
static int map_has(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_map *m = map_check(L, 1);
    lua_pushboolean(L, map_lookup(L, st, m, 2).tag != MW_TNIL);
    return 1;
}

/* Pushes a Lua array of the keys (which = 0) or values (which = 1). The
 * map is walked by slot and read again after each push (a finalizer run
 * by a push may change it). */
static int map_collect(lua_State *L, int which)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_map *m = map_check(L, 1);
    lua_createtable(L, m->count > INT_MAX ? INT_MAX : (int)m->count, 0);
    size_t pos = 0;
    lua_Integer n = 0;
    while (map_next_slot(L, 1, m, &pos)) {
        map_push_slot(L, st, m, pos, which);
        lua_rawseti(L, -2, ++n);
        pos++;
    }
    return 1;
}

static int map_keys(lua_State *L)
{
    return map_collect(L, 0);
}

static int map_values(lua_State *L)
{
    return map_collect(L, 1);
}

static int map_totable(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_map *m = map_check(L, 1);
    lua_createtable(L, 0, m->count > INT_MAX ? INT_MAX : (int)m->count);
    size_t pos = 0;
    while (map_next_slot(L, 1, m, &pos)) {
        map_push_slot(L, st, m, pos, 0);
        map_push_slot(L, st, m, pos, 1);
        if (lua_isnil(L, -2))
            lua_pop(L, 2);   /* the entry went away meanwhile */
        else
            lua_rawset(L, -3);
        pos++;
    }
    return 1;
}

static int map_clear_m(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_map_clear(st->heap, map_check(L, 1));
    return 0;
}

void mw_lua_open_map(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg meta[] = {
        {"__newindex", map_newindex},
        {"__len", map_len},
        {"__pairs", map_pairs},
        {NULL, NULL}
    };
    static const luaL_Reg methods[] = {
        {"get", map_get},
        {"set", map_set_m},
        {"has", map_has},
        {"keys", map_keys},
        {"values", map_values},
        {"totable", map_totable},
        {"clear", map_clear_m},
        {NULL, NULL}
    };
    mw_lua_newclass(L, st, &mw_map_type, meta, methods, map_index);

    /* mw.map: the methods as plain functions, callable as the constructor. */
    mw_lua_push_callable(L, st, methods, map_call);
}
