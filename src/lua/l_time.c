/*
 * l_time.c: mw.time.parse and mw.time.format, the CSV reader's timestamp
 * rules (iter/parse.h) for scripts: epoch milliseconds, UTC; and
 * mw.time.now, a monotonic clock in seconds.
 */
#include "lua/l_time.h"

#include <math.h>
#include <time.h>

#include "iter/parse.h"

/* mw.time.parse(text): epoch milliseconds (an integer), or nil and a
 * message when the text is not a timestamp. */
static int time_parse(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    int64_t ms;
    if (mw_parse_time(s, len, &ms) != MW_PARSE_OK) {
        luaL_pushfail(L);
        lua_pushfstring(L, "'%s' is not a timestamp (YYYY-MM-DD[ HH:MM[:SS[.fff]]][offset])", s);
        return 2;
    }
    lua_pushinteger(L, (lua_Integer)ms);
    return 1;
}

/* mw.time.format(ms): "YYYY-MM-DD HH:MM:SS[.mmm]" in UTC. */
static int time_format(lua_State *L)
{
    lua_Integer ms;
    if (lua_isinteger(L, 1)) {
        ms = lua_tointeger(L, 1);
    } else {
        lua_Number x = luaL_checknumber(L, 1);
        luaL_argcheck(L, isfinite(x) && x >= -9.2e18 && x <= 9.2e18, 1,
                      "number has no time representation");
        ms = (lua_Integer)floor(x);
    }
    char buf[MW_TIME_TEXT];
    size_t n = mw_format_time((int64_t)ms, buf);
    lua_pushlstring(L, buf, n);
    return 1;
}

/* mw.time.now(): seconds on a monotonic clock, for measuring intervals. */
static int time_now(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
    return 1;
}

void mw_lua_open_time(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg funcs[] = {
        {"parse", time_parse},
        {"format", time_format},
        {"now", time_now},
        {NULL, NULL}
    };
    lua_createtable(L, 0, 2);
    mw_lua_setfuncs(L, st, funcs);
}
