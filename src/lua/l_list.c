/*
 * l_list.c: the Lua binding of lists, mw.list.
 *
 * Indices are 1-based as in Lua. Reading past the end gives nil (so
 * ipairs stops there); writing at #l + 1 appends; writing elsewhere
 * outside 1..#l + 1 is an error. Keys that are not integers look up
 * methods.
 */
#include "lua/l_list.h"

#include <limits.h>
#include <stdint.h>

#include "lua/handle.h"
#include "lua/l_value.h"
#include "types/list.h"

static mw_list *list_check(lua_State *L, int idx)
{
    return mw_list_cast(mw_lua_check_object(L, idx, &mw_list_type));
}

/* A value of a list, read through the handle at handle_idx: gone if the
 * handle no longer holds the list (released meanwhile) or the list got
 * shorter. */
typedef struct list_slot {
    int handle_idx;
    mw_list *list;
    size_t index;
} list_slot;

static int list_read(lua_State *L, void *ctx, mw_value *out)
{
    list_slot *slot = ctx;
    mw_handle *h = lua_touserdata(L, slot->handle_idx);
    if (h->obj != &slot->list->ob || slot->index >= slot->list->len)
        return 0;
    *out = slot->list->items[slot->index];
    return 1;
}

/* Pushes value `index` (0-based) of the list of the handle at idx. */
static void list_push_item(lua_State *L, mw_lua_state *st, int idx, mw_list *l,
                           size_t index)
{
    list_slot slot = { lua_absindex(L, idx), l, index };
    mw_lua_push_read(L, st, list_read, &slot);
}

/* Reads a 1-based index argument (integers and integral floats). */
static lua_Integer list_checkindex(lua_State *L, int arg)
{
    int isnum;
    lua_Integer i = lua_tointegerx(L, arg, &isnum);
    if (!isnum)
        luaL_argerror(L, arg, lua_type(L, arg) == LUA_TNUMBER
                      ? "number has no integer representation"
                      : lua_pushfstring(L, "integer index expected, got %s",
                                        luaL_typename(L, arg)));
    return i;
}

/* Pushes a new list handle, empty, with room for n values. */
static mw_list *list_push_new(lua_State *L, mw_lua_state *st, size_t n)
{
    mw_handle *h = mw_lua_new_handle(L, st, &mw_list_type);
    mw_list *l = mw_list_new(st->heap, n);
    if (l == NULL)
        mw_lua_status_error(L, mw_heap_last_error(st->heap));
    mw_lua_bind(L, st, h, &l->ob);
    return l;
}

static void list_append_checked(lua_State *L, mw_lua_state *st, mw_list *l,
                                int idx, int arg)
{
    mw_value v = mw_lua_checkvalue(L, st, idx, arg, "list");
    mw_status status = mw_list_append(st->heap, l, v);
    mw_value_decref(st->heap, v);
    if (status != MW_OK)
        mw_lua_status_error(L, status);
}

/* mw.list([t]): a new list holding t[1] .. t[#t]. */
static int list_call(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    /* Argument 1 is the mw.list table itself (__call). */
    lua_Integer n = 0;
    if (!lua_isnoneornil(L, 2)) {
        /* Name the user's argument #1, not #2 as __call's own count says. */
        if (!lua_istable(L, 2))
            return luaL_error(L, "bad argument #1 to 'list' (table expected, got %s)",
                              luaL_typename(L, 2));
        n = luaL_len(L, 2);
        if (n < 0 || (lua_Unsigned)n > SIZE_MAX / sizeof(mw_value))
            return luaL_error(L, "bad argument #1 to 'list' (length %I out of range)",
                              (LUAI_UACINT)n);
    }
    mw_list *l = list_push_new(L, st, (size_t)(n > 0 ? n : 0));
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 2, i);
        list_append_checked(L, st, l, -1, 1);
        lua_pop(L, 1);
    }
    return 1;
}

/* mw.list.rep(n [, value]): a list of n copies of value (nil by default),
 * allocated once at its exact size. */
static int list_rep(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0, 1, "negative length");
    luaL_argcheck(L, (lua_Unsigned)n <= SIZE_MAX / sizeof(mw_value), 1, "length too large");
    lua_settop(L, 2);
    mw_list *l = list_push_new(L, st, (size_t)n);
    mw_value v = mw_lua_checkvalue(L, st, 2, 2, "list");
    for (lua_Integer i = 0; i < n; i++)
        mw_list_append(st->heap, l, v);   /* cannot fail: capacity is n */
    mw_value_decref(st->heap, v);
    return 1;
}

/* Methods are found on released handles too, so l:release() twice and
 * tostring work; reading an element of a released list raises. */
static int list_index(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    if (lua_type(L, 2) == LUA_TNUMBER) {
        mw_list *l = list_check(L, 1);
        lua_Integer i = list_checkindex(L, 2);
        if (i >= 1 && (lua_Unsigned)i <= l->len)
            list_push_item(L, st, 1, l, (size_t)i - 1);
        else
            lua_pushnil(L);
        return 1;
    }
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(2));
    if (lua_isnil(L, -1))
        list_check(L, 1);   /* not a method: a released handle raises */
    return 1;
}

static int list_newindex(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_list *l = list_check(L, 1);
    lua_Integer i = list_checkindex(L, 2);
    if (i < 1 || (lua_Unsigned)i > l->len + 1)
        return luaL_error(L, "list index %I out of range (length %I)",
                          (LUAI_UACINT)i, (LUAI_UACINT)l->len);
    if ((lua_Unsigned)i == l->len + 1) {
        list_append_checked(L, st, l, 3, 3);
        return 0;
    }
    mw_value v = mw_lua_checkvalue(L, st, 3, 3, "list");
    mw_list_set(st->heap, l, (size_t)i - 1, v);
    mw_value_decref(st->heap, v);
    return 0;
}

static int list_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)list_check(L, 1)->len);
    return 1;
}

static int list_pairs_next(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_list *l = list_check(L, 1);
    lua_Integer prev = luaL_optinteger(L, 2, 0);
    if (prev < 0 || (lua_Unsigned)prev >= l->len)
        return 0;
    lua_pushinteger(L, prev + 1);
    list_push_item(L, st, 1, l, (size_t)prev);
    return 2;
}

/* pairs(l) visits every index 1..#l, nil values included. */
static int list_pairs(lua_State *L)
{
    list_check(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushcclosure(L, list_pairs_next, 1);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    return 3;
}

static int list_append(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_list *l = list_check(L, 1);
    list_append_checked(L, st, l, 2, 2);
    lua_settop(L, 1);
    return 1;
}

/* l:insert(v) appends; l:insert(i, v) inserts before index i. */
static int list_insert(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_list *l = list_check(L, 1);
    if (lua_gettop(L) <= 2)
        return list_append(L);
    lua_Integer i = list_checkindex(L, 2);
    luaL_argcheck(L, i >= 1 && (lua_Unsigned)i <= l->len + 1, 2, "position out of bounds");
    mw_value v = mw_lua_checkvalue(L, st, 3, 3, "list");
    mw_status status = mw_list_insert(st->heap, l, (size_t)i - 1, v);
    mw_value_decref(st->heap, v);
    if (status != MW_OK)
        return mw_lua_status_error(L, status);
    lua_settop(L, 1);
    return 1;
}

/* l:pop([i]): removes and returns the value at i (the last by default). */
static int list_pop(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_list *l = list_check(L, 1);
    if (l->len == 0 && lua_isnoneornil(L, 2)) {
        lua_pushnil(L);   /* as table.remove of an empty table */
        return 1;
    }
    lua_Integer i = lua_isnoneornil(L, 2) ? (lua_Integer)l->len : list_checkindex(L, 2);
    luaL_argcheck(L, i >= 1 && (lua_Unsigned)i <= l->len, 2, "position out of bounds");
    /* Push first: if that raises, the list still holds the value. */
    mw_value before = l->items[i - 1];
    list_push_item(L, st, 1, l, (size_t)i - 1);
    /* The push may have run a script's __gc: remove only if the list is
     * still held and the value still there. */
    list_slot slot = { 1, l, (size_t)i - 1 };
    mw_value now;
    if (!list_read(L, &slot, &now) || now.tag != before.tag || now.u.i != before.u.i)
        return luaL_error(L, "list changed during pop (by a finalizer)");
    mw_value v;
    mw_list_remove(st->heap, l, (size_t)i - 1, &v);
    mw_value_decref(st->heap, v);
    return 1;
}

static int list_clear_m(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_list_clear(st->heap, list_check(L, 1));
    return 0;
}

static int list_totable(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_list *l = list_check(L, 1);
    lua_createtable(L, l->len > INT_MAX ? INT_MAX : (int)l->len, 0);
    /* The length is read again each time: a finalizer run by a push may
     * shorten the list (or release it: then the copy stops). */
    list_slot slot = { 1, l, 0 };
    mw_value v;
    for (size_t i = 0; (slot.index = i, list_read(L, &slot, &v)); i++) {
        mw_lua_push_read(L, st, list_read, &slot);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

void mw_lua_open_list(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg meta[] = {
        {"__newindex", list_newindex},
        {"__len", list_len},
        {"__pairs", list_pairs},
        {NULL, NULL}
    };
    static const luaL_Reg methods[] = {
        {"append", list_append},
        {"insert", list_insert},
        {"pop", list_pop},
        {"clear", list_clear_m},
        {"totable", list_totable},
        {NULL, NULL}
    };
    mw_lua_newclass(L, st, &mw_list_type, meta, methods, list_index);

    /* mw.list: a table of functions, callable as the constructor. */
    static const luaL_Reg funcs[] = {
        {"rep", list_rep},
        {NULL, NULL}
    };
    mw_lua_push_callable(L, st, funcs, list_call);
}
