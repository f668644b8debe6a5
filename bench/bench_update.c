/*
 * bench_update.c: the cost of d:update(x) called from a Lua loop, against
 * empty C functions called from the same kind of loop in the same Lua
 * state (the baseline the issue names: a call can cost no less).
 *
 *   bench_update [N]
 *
 * Loops of N iterations (1e7 by default), best of 5:
 *   nop(x)          a global C function that returns nothing
 *   id(x)           a C function returning its argument
 *   u:nop(x)        an empty method of a userdata (metatable __index)
 *   s = u:zero(x)   a method returning the number 0: the same call and
 *                   return as update, with no work (the fair baseline)
 *   d:update(x)     zscore (window 1000) and ewma, learning and scoring
 *   d:score(x)      zscore, scoring only
 * Each loop's body also reads x from a precomputed table; that part is
 * in every row. Prints ns per iteration and the ratio to nop(x) and to
 * u:nop(x).
 */
#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "moonwatch.h"

static int bench_nop(lua_State *L)
{
    (void)L;
    return 0;
}

static int bench_id(lua_State *L)
{
    lua_settop(L, 1);
    return 1;
}

/* The loops run in turns, 7 rounds, keeping each one's best: noise from
 * other processes then hits every row alike. */
static const char bench_script[] =
    "local N = ...\n"
    "local mw = require 'moonwatch'\n"
    "local xs = {}\n"
    "for i = 1, 1000 do xs[i] = math.sin(i) * 10 + (i % 97 == 0 and 50 or 0) end\n"
    "local nop, id, u = nop, id, newudata()\n"
    "local z = mw.detect.zscore{window = 1000}\n"
    "local e = mw.detect.ewma{}\n"
    "local rows = {\n"
    "  {'nop(x)', function() for i = 1, N do nop(xs[i % 1000 + 1]) end end},\n"
    "  {'id(x)', function() local s for i = 1, N do s = id(xs[i % 1000 + 1]) end end},\n"
    "  {'u:nop(x)', function() for i = 1, N do u:nop(xs[i % 1000 + 1]) end end},\n"
    "  {'s = u:zero(x)', function() local s for i = 1, N do s = u:zero(xs[i % 1000 + 1]) end end},\n"
    "  {'zscore d:update(x)', function() local s for i = 1, N do s = z:update(xs[i % 1000 + 1]) end end},\n"
    "  {'ewma d:update(x)', function() local s for i = 1, N do s = e:update(xs[i % 1000 + 1]) end end},\n"
    "  {'zscore d:score(x)', function() local s for i = 1, N do s = z:score(xs[i % 1000 + 1]) end end},\n"
    "}\n"
    "for _, r in ipairs(rows) do r[3] = math.huge end\n"
    "for _ = 1, 7 do\n"
    "  for _, r in ipairs(rows) do\n"
    "    local t0 = os.clock(); r[2](); local dt = (os.clock() - t0) / N * 1e9\n"
    "    if dt < r[3] then r[3] = dt end\n"
    "  end\n"
    "end\n"
    "print(string.format('update from a Lua loop, %d iterations, best of 7 rounds', N))\n"
    "print(string.format('  %-20s %8s %10s %12s %14s', 'loop body', 'ns/iter', 'vs nop(x)', 'vs u:nop(x)', 'vs u:zero(x)'))\n"
    "for _, r in ipairs(rows) do\n"
    "  print(string.format('  %-20s %8.1f %9.2fx %11.2fx %13.2fx', r[1], r[3], r[3] / rows[1][3], r[3] / rows[3][3], r[3] / rows[4][3]))\n"
    "end\n";

static int bench_zero(lua_State *L)
{
    lua_pushnumber(L, 0.0);
    return 1;
}

static int bench_newudata(lua_State *L)
{
    lua_newuserdatauv(L, 16, 0);
    luaL_setmetatable(L, "bench.udata");
    return 1;
}

int main(int argc, char **argv)
{
    lua_Integer n = argc > 1 ? (lua_Integer)strtod(argv[1], NULL) : 10000000;
    lua_State *L = luaL_newstate();
    if (L == NULL)
        return 1;
    luaL_openlibs(L);
    luaL_requiref(L, "moonwatch", luaopen_moonwatch, 0);
    lua_pop(L, 1);
    lua_register(L, "nop", bench_nop);
    lua_register(L, "id", bench_id);
    lua_register(L, "newudata", bench_newudata);
    luaL_newmetatable(L, "bench.udata");
    lua_newtable(L);
    lua_pushcfunction(L, bench_nop);
    lua_setfield(L, -2, "nop");
    lua_pushcfunction(L, bench_zero);
    lua_setfield(L, -2, "zero");
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    if (luaL_loadstring(L, bench_script) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        return 1;
    }
    lua_pushinteger(L, n);
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        return 1;
    }
    lua_close(L);
    return 0;
}
