/*
 * counted.c: string.rep, table.insert, remove, move, concat and sort with
 * their loops counted (see counted.h).
 *
 * rep and sort wrap Lua's own: rep answers the empty repetition itself
 * (any other result is at least n - 1 bytes, which the budget bounds
 * before Lua's loop starts); sort is given a comparator of ours, a C
 * function that charges each comparison and then compares as asked, so
 * Lua's sort stays Lua's. The four loops are written here after the
 * reference manual (section 6.6) and checked against Lua's by
 * tests/test_sandbox.c, errors included.
 */
#include "lua/counted.h"

#include <lauxlib.h>
#include <lua.h>

#include "lua/limits.h"

/* What a table argument must allow when it is not a table: the
 * metamethods that stand in for reading, writing and the length. */
enum { COUNTED_R = 1, COUNTED_W = 2, COUNTED_L = 4 };

/* The argument table.remove names for a position out of bounds: Lua
 * 5.4.4 says #1, later releases #2. */
#if LUA_VERSION_RELEASE_NUM <= 50404
#define COUNTED_REMOVE_POS_ARG 1
#else
#define COUNTED_REMOVE_POS_ARG 2
#endif

typedef struct counted_steps {
    lua_State *L;
    unsigned n;
} counted_steps;

static void counted_step(counted_steps *c)
{
    if (++c->n == MW_LUA_COUNTED_BATCH) {
        c->n = 0;
        mw_lua_limits_charge(c->L, MW_LUA_COUNTED_BATCH);
    }
}

/* Checks that argument arg is a table, or has the metamethods `what`
 * asks for; raises the type error otherwise. */
static void counted_check_table(lua_State *L, int arg, int what)
{
    if (lua_type(L, arg) == LUA_TTABLE)
        return;
    static const char *const fields[] = {"__index", "__newindex", "__len"};
    int ok = lua_getmetatable(L, arg);
    for (int i = 0; ok && i < 3; i++) {
        if (what & (1 << i)) {
            lua_pushstring(L, fields[i]);
            ok = lua_rawget(L, -2) != LUA_TNIL;
            lua_pop(L, 1);
        }
    }
    if (ok) {
        lua_pop(L, 1);
        return;
    }
    luaL_checktype(L, arg, LUA_TTABLE);
}

/* The length of the table argument 1, checked for what. */
static lua_Integer counted_len(lua_State *L, int what)
{
    counted_check_table(L, 1, what | COUNTED_L);
    return luaL_len(L, 1);
}

/* {====================================================================
 * string.rep
 * ===================================================================== */

/* string.rep (upvalue 1: Lua's). */
static int counted_rep(lua_State *L)
{
    size_t len, seplen;
    luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &seplen);
    if (n > 0 && len == 0 && seplen == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    int args = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, args, 1);
    return 1;
}

/* }==================================================================== */

/* {====================================================================
 * table
 * ===================================================================== */

static int counted_insert(lua_State *L)
{
    counted_steps steps = {L, 0};
    lua_Integer end = counted_len(L, COUNTED_R | COUNTED_W);
    lua_Integer pos;
    end = (lua_Integer)((lua_Unsigned)end + 1u); /* the first empty slot */
    switch (lua_gettop(L)) {
    case 2:
        pos = end;
        break;
    case 3:
        pos = luaL_checkinteger(L, 2);
        luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)end, 2, "position out of bounds");
        for (lua_Integer i = end; i > pos; i--) {
            lua_geti(L, 1, i - 1);
            lua_seti(L, 1, i);
            counted_step(&steps);
        }
        break;
    default:
        return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, pos);
    return 0;
}

static int counted_remove(lua_State *L)
{
    counted_steps steps = {L, 0};
    lua_Integer size = counted_len(L, COUNTED_R | COUNTED_W);
    lua_Integer pos = luaL_optinteger(L, 2, size);
    if (pos != size)
        luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, COUNTED_REMOVE_POS_ARG,
                      "position out of bounds");
    lua_geti(L, 1, pos);
    for (; pos < size; pos++) {
        lua_geti(L, 1, pos + 1);
        lua_seti(L, 1, pos);
        counted_step(&steps);
    }
    lua_pushnil(L);
    lua_seti(L, 1, pos);
    return 1;
}

static int counted_move(lua_State *L)
{
    counted_steps steps = {L, 0};
    lua_Integer from = luaL_checkinteger(L, 2);
    lua_Integer end = luaL_checkinteger(L, 3);
    lua_Integer to = luaL_checkinteger(L, 4);
    int dest = !lua_isnoneornil(L, 5) ? 5 : 1;
    counted_check_table(L, 1, COUNTED_R);
    counted_check_table(L, dest, COUNTED_W);
    if (end >= from) {
        luaL_argcheck(L, from > 0 || end < LUA_MAXINTEGER + from, 3, "too many elements to move");
        lua_Integer n = end - from + 1;
        luaL_argcheck(L, to <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
        /* Backwards when the ranges overlap with the destination after
         * the source, so nothing is overwritten before it is read. */
        if (to > end || to <= from || (dest != 1 && !lua_compare(L, 1, dest, LUA_OPEQ))) {
            for (lua_Integer i = 0; i < n; i++) {
                lua_geti(L, 1, from + i);
                lua_seti(L, dest, to + i);
                counted_step(&steps);
            }
        } else {
            for (lua_Integer i = n - 1; i >= 0; i--) {
                lua_geti(L, 1, from + i);
                lua_seti(L, dest, to + i);
                counted_step(&steps);
            }
        }
    }
    lua_pushvalue(L, dest);
    return 1;
}

/* Appends t[i] (t at 1) to b, or raises if it is not a string or a
 * number. */
static void counted_add_field(lua_State *L, luaL_Buffer *b, lua_Integer i)
{
    lua_geti(L, 1, i);
    if (!lua_isstring(L, -1))
        luaL_error(L, "invalid value (%s) at index %I in table for 'concat'", luaL_typename(L, -1),
                   (LUAI_UACINT)i);
    luaL_addvalue(b);
}

static int counted_concat(lua_State *L)
{
    counted_steps steps = {L, 0};
    lua_Integer last = counted_len(L, COUNTED_R);
    size_t seplen;
    const char *sep = luaL_optlstring(L, 2, "", &seplen);
    lua_Integer i = luaL_optinteger(L, 3, 1);
    last = luaL_optinteger(L, 4, last);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (; i < last; i++) {
        counted_add_field(L, &b, i);
        luaL_addlstring(&b, sep, seplen);
        counted_step(&steps);
    }
    if (i == last)
        counted_add_field(L, &b, i);
    luaL_pushresult(&b);
    return 1;
}

/* The comparator sort is given (upvalue 1: the script's, or nil for
 * '<'): charges one step per comparison, through the limits' own batch
 * (upvalue 2, a light userdata on a counted_steps of the sort). */
static int counted_compare(lua_State *L)
{
    counted_steps *steps = lua_touserdata(L, lua_upvalueindex(2));
    steps->L = L;
    counted_step(steps);
    if (lua_isnil(L, lua_upvalueindex(1))) {
        lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
        return 1;
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

/* table.sort (upvalue 1: Lua's) with counted_compare. */
static int counted_sort(lua_State *L)
{
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    counted_steps steps = {L, 0};
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushlightuserdata(L, &steps);
    lua_pushcclosure(L, counted_compare, 2);
    lua_call(L, 2, 0);
    return 0;
}

/* }==================================================================== */

void mw_lua_counted_open_string(lua_State *L)
{
    lua_getfield(L, -1, "rep");
    lua_pushcclosure(L, counted_rep, 1);
    lua_setfield(L, -2, "rep");
}

void mw_lua_counted_open_table(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"insert", counted_insert},
        {"remove", counted_remove},
        {"move", counted_move},
        {"concat", counted_concat},
        {NULL, NULL}
    };
    luaL_setfuncs(L, funcs, 0);
    lua_getfield(L, -1, "sort");
    lua_pushcclosure(L, counted_sort, 1);
    lua_setfield(L, -2, "sort");
}
