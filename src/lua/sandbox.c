/*
 * sandbox.c: the sandbox of untrusted scripts (see sandbox.h).
 *
 * The registry holds, under the address of sandbox_key, a table: the
 * canonical readable directories at 1..n, and the frozen globals
 * ("globals"), the locked marker ("locked"), the frozen `mw` ("mw"), the
 * built-in pipelines required so far, frozen ("modules"), and what
 * freezing them needs ("memo": originals to proxies, "next").
 * All of it is built once, by mw_lua_sandbox_open; a script environment
 * costs one table and its metatable.
 *
 * A frozen table is a proxy: an empty table with a metatable of its own
 * holding __index (the hidden copy, whose tables are frozen in turn),
 * __newindex (refuses), __pairs, __len, __call if the original had one,
 * __metatable (the locked marker) and, under frozen_key, a mark rawset
 * looks for. The copy is reachable only through that metatable, which
 * getmetatable does not give out, so nothing a script holds can change
 * what another script reads.
 *
 * It must never hand a script the real global table, a library table
 * other than a proxy, or a function that reads or writes files without
 * the checks below.
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* realpath */
#endif

#include "lua/sandbox.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lua/counted.h"
#include "lua/limits.h"
#include "lua/match.h"

static const char sandbox_key = 'X';
static const char frozen_key = 'F';

/* The sandbox table of L's state, pushed; returns 0 (and pushes nil) for
 * a state that is not sandboxed. */
static int sandbox_push(lua_State *L)
{
    return lua_rawgetp(L, LUA_REGISTRYINDEX, &sandbox_key) == LUA_TTABLE;
}

int mw_lua_sandboxed(lua_State *L)
{
    int on = sandbox_push(L);
    lua_pop(L, 1);
    return on;
}

/* {====================================================================
 * Frozen tables
 * ===================================================================== */

/* __newindex of a proxy (upvalue 1: its name). */
static int frozen_newindex(lua_State *L)
{
    const char *name = lua_tostring(L, lua_upvalueindex(1));
    lua_settop(L, 2);
    const char *key = luaL_tolstring(L, 2, NULL);
    return luaL_error(L, "sandbox: cannot set '%s' of '%s' (the libraries are read-only)", key,
                      name);
}

/* __pairs of a proxy (upvalue 1: next, 2: the copy). */
static int frozen_pairs(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushnil(L);
    return 3;
}

/* __len of a proxy (upvalue 1: the copy). */
static int frozen_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)lua_rawlen(L, lua_upvalueindex(1)));
    return 1;
}

/* __call of a proxy (upvalue 1: the original's __call, 2: the original):
 * the original is called as itself. */
static int frozen_call(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_replace(L, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_insert(L, 2);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* Whether the table at idx is frozen (a proxy or the locked marker). */
static int frozen_is(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx))
        return 0;
    int frozen = lua_rawgetp(L, -1, &frozen_key) != LUA_TNIL;
    lua_pop(L, 2);
    return frozen;
}

/* Replaces the table on top with its proxy, named name; memo (an
 * absolute index) maps originals to proxies already made, locked is the
 * marker's index and next the index of `next`. */
static void frozen_make(lua_State *L, int memo, int locked, int next, const char *name)
{
    int t = lua_gettop(L);
    lua_pushvalue(L, t);
    if (lua_rawget(L, memo) == LUA_TTABLE) {
        lua_replace(L, t);
        return;
    }
    lua_pop(L, 1);
    luaL_checkstack(L, 12, "sandbox: tables nested too deep");
    lua_newtable(L); /* the proxy */
    int proxy = t + 1;
    lua_pushvalue(L, t);
    lua_pushvalue(L, proxy);
    lua_rawset(L, memo);
    lua_newtable(L); /* the copy */
    int copy = t + 2;
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
        if (lua_type(L, -1) == LUA_TTABLE && !frozen_is(L, -1)) {
            const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
            lua_pushfstring(L, "%s.%s", name, key);
            lua_insert(L, -2);
            frozen_make(L, memo, locked, next, lua_tostring(L, -2));
            lua_remove(L, -2);
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, copy);
    }
    lua_createtable(L, 0, 8); /* the metatable */
    lua_pushvalue(L, copy);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, name);
    lua_pushcclosure(L, frozen_newindex, 1);
    lua_setfield(L, -2, "__newindex");
    lua_pushvalue(L, next);
    lua_pushvalue(L, copy);
    lua_pushcclosure(L, frozen_pairs, 2);
    lua_setfield(L, -2, "__pairs");
    lua_pushvalue(L, copy);
    lua_pushcclosure(L, frozen_len, 1);
    lua_setfield(L, -2, "__len");
    lua_pushvalue(L, locked);
    lua_setfield(L, -2, "__metatable");
    lua_pushboolean(L, 1);
    lua_rawsetp(L, -2, &frozen_key);
    if (luaL_getmetafield(L, t, "__call") != LUA_TNIL) {
        lua_pushvalue(L, t);
        lua_pushcclosure(L, frozen_call, 2);
        lua_setfield(L, -2, "__call");
    }
    lua_setmetatable(L, proxy);
    lua_pop(L, 1); /* the copy */
    lua_replace(L, t);
}

/* __index and __newindex of the locked marker. */
static int locked_error(lua_State *L)
{
    return luaL_error(L, "sandbox: the metatables of strings, libraries and moonwatch objects "
                         "are locked");
}

/* Pushes the locked marker: what getmetatable gives for them. */
static void locked_push_new(lua_State *L)
{
    lua_newtable(L);
    lua_createtable(L, 0, 4);
    lua_pushcfunction(L, locked_error);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, locked_error);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pushboolean(L, 1);
    lua_rawsetp(L, -2, &frozen_key);
    lua_setmetatable(L, -2);
}

/* }==================================================================== */

/* {====================================================================
 * Restricted base functions
 * ===================================================================== */

/* A function a script may not call (upvalue 1: what it is, 2: why). */
static int sandbox_refuse(lua_State *L)
{
    return luaL_error(L, "sandbox: %s is not allowed (%s)", lua_tostring(L, lua_upvalueindex(1)),
                      lua_tostring(L, lua_upvalueindex(2)));
}

/* A setting a script may read but not change (upvalue 1: the function,
 * 2: its name): called with arguments, it refuses. */
static int sandbox_read_only(lua_State *L)
{
    if (lua_gettop(L) > 0)
        return luaL_error(L, "sandbox: %s can only read the setting (it is the runtime's, "
                             "shared by every script)",
                          lua_tostring(L, lua_upvalueindex(2)));
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_call(L, 0, LUA_MULTRET);
    return lua_gettop(L);
}

/* rawset, refusing frozen tables. */
static int sandbox_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    if (frozen_is(L, 1))
        return luaL_error(L, "sandbox: rawset on a read-only table");
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

/* setmetatable (upvalue 1: the original), refusing finalizers. */
static int sandbox_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "sandbox: metatables with __gc are not allowed (finalizers run "
                                 "outside the limits)");
        lua_pop(L, 1);
    }
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, 1);
    return 1;
}

/* getmetatable (upvalue 1: the original, 2: the locked marker): the
 * metatable of anything but a table is locked. */
static int sandbox_getmetatable(lua_State *L)
{
    luaL_checkany(L, 1);
    if (lua_type(L, 1) != LUA_TTABLE) {
        if (!lua_getmetatable(L, 1))
            return 0;
        lua_pushvalue(L, lua_upvalueindex(2));
        return 1;
    }
    lua_settop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 1, 1);
    return 1;
}

/* collectgarbage (upvalue 1: the original) with the options that do not
 * change the collector. */
static int sandbox_collectgarbage(lua_State *L)
{
    static const char *const allowed[] = {"collect", "count", "step", "isrunning", NULL};
    const char *opt = luaL_optstring(L, 1, "collect");
    for (int i = 0; allowed[i] != NULL; i++) {
        if (strcmp(opt, allowed[i]) == 0) {
            int n = lua_gettop(L);
            lua_pushvalue(L, lua_upvalueindex(1));
            lua_insert(L, 1);
            lua_call(L, n, LUA_MULTRET);
            return lua_gettop(L);
        }
    }
    return luaL_error(L, "sandbox: collectgarbage('%s') is not allowed (only 'collect', 'count', "
                         "'step' and 'isrunning')",
                      opt);
}

/* require (upvalue 1: the frozen mw, 2: the real require): "moonwatch",
 * and the built-in pipelines (package.preload["moonwatch.pipelines.*"]),
 * frozen, made once per state. Nothing is searched for on disk. */
static int sandbox_require(lua_State *L)
{
    static const char pipelines[] = "moonwatch.pipelines.";
    const char *name = luaL_checkstring(L, 1);
    lua_settop(L, 1);
    if (strcmp(name, "moonwatch") == 0) {
        lua_pushvalue(L, lua_upvalueindex(1));
        return 1;
    }
    int preloaded = 0;
    if (strncmp(name, pipelines, sizeof pipelines - 1) == 0) {
        luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
        preloaded = lua_getfield(L, -1, name) != LUA_TNIL;
        lua_settop(L, 1);
    }
    if (!preloaded)
        return luaL_error(L, "sandbox: require '%s' is not allowed (only 'moonwatch' and the "
                             "built-in pipelines, 'moonwatch.pipelines.<name>')",
                          name);
    sandbox_push(L);                      /* 2 */
    lua_getfield(L, 2, "modules");        /* 3 */
    if (lua_getfield(L, 3, name) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);                    /* 4: the module */
    if (lua_type(L, 4) == LUA_TTABLE) {
        lua_getfield(L, 2, "memo");       /* 5 */
        lua_getfield(L, 2, "locked");     /* 6 */
        lua_getfield(L, 2, "next");       /* 7 */
        lua_pushvalue(L, 4);
        frozen_make(L, 5, 6, 7, name);
        lua_replace(L, 4);
        lua_settop(L, 4);
    }
    lua_pushvalue(L, 4);
    lua_setfield(L, 3, name);
    return 1;
}

/* Pushes the environment of the nearest Lua function on the call stack
 * that has one, or a new script environment if there is none or it is
 * the real global table (trusted code calling a script's callback). */
static void sandbox_push_caller_env(lua_State *L)
{
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "f", &ar);
        if (lua_iscfunction(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        const char *name;
        for (int i = 1; (name = lua_getupvalue(L, -1, i)) != NULL; i++) {
            if (strcmp(name, "_ENV") == 0)
                break;
            lua_pop(L, 1);
        }
        if (name == NULL) {
            lua_pop(L, 1);
            continue;
        }
        lua_remove(L, -2);
        lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
        int real = lua_rawequal(L, -1, -2);
        lua_pop(L, real ? 2 : 1);
        if (!real)
            return;
        break;
    }
    mw_lua_sandbox_push_env(L);
}

/* load (upvalue 1: the original): text only, '@' names made '=', and the
 * caller's environment unless one is given. */
static int sandbox_load(lua_State *L)
{
    int given_env = lua_gettop(L) >= 4;
    const char *mode = luaL_optstring(L, 3, "bt");
    if (strchr(mode, 't') == NULL)
        return luaL_error(L, "sandbox: load: binary chunks are not allowed (mode '%s')", mode);
    lua_settop(L, 4);
    if (lua_isnil(L, 2) && lua_type(L, 1) == LUA_TSTRING) {
        lua_pushvalue(L, 1); /* the default name: the text itself */
        lua_replace(L, 2);
    }
    const char *name = lua_tostring(L, 2);
    if (name != NULL && name[0] == '@') {
        lua_pushfstring(L, "=%s", name + 1);
        lua_replace(L, 2);
    }
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    if (!given_env) {
        sandbox_push_caller_env(L);
        lua_replace(L, 4);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 4, LUA_MULTRET);
    return lua_gettop(L);
}

/* The real global table's loadfile in a sandboxed state, for the trusted
 * code that loads files the host chose (moonwatch.pipeline): the chunk
 * is text, and runs in a new script environment. */
static int sandbox_host_loadfile(lua_State *L)
{
    const char *path = luaL_optstring(L, 1, NULL);
    if (path == NULL)
        return luaL_error(L, "sandbox: loadfile of standard input is not allowed");
    if (luaL_loadfilex(L, path, "t") != LUA_OK) {
        luaL_pushfail(L);
        lua_insert(L, -2);
        return 2;
    }
    mw_lua_sandbox_push_env(L);
    lua_setupvalue(L, -2, 1);
    return 1;
}

/* }==================================================================== */

/* {====================================================================
 * Building the frozen globals
 * ===================================================================== */

/* Copies the fields names (NULL-terminated) of the table at src into
 * the table on top. */
static void sandbox_copy_fields(lua_State *L, int src, const char *const *names)
{
    for (; *names != NULL; names++) {
        lua_getfield(L, src, *names);
        lua_setfield(L, -2, *names);
    }
}

/* Pushes a shallow copy of the table at idx. */
static void sandbox_push_copy(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

/* Sets field name of the table on top to a function refusing with why. */
static void sandbox_set_refuse(lua_State *L, const char *what, const char *name, const char *why)
{
    lua_pushstring(L, what);
    lua_pushstring(L, why);
    lua_pushcclosure(L, sandbox_refuse, 2);
    lua_setfield(L, -2, name);
}

/* Wraps field name of the table on top with sandbox_read_only. */
static void sandbox_set_read_only(lua_State *L, const char *what, const char *name)
{
    lua_getfield(L, -1, name);
    lua_pushstring(L, what);
    lua_pushcclosure(L, sandbox_read_only, 2);
    lua_setfield(L, -2, name);
}

/* Pushes the sandbox's copy of mw (at idx): what reaches outside the
 * runtime or changes it for every script refuses. */
static void sandbox_push_mw(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    static const char outside_budget[] = "its records are kept outside the memory budget";
    static const char shared[] = "it changes the collector of every script";
    sandbox_push_copy(L, idx);
    lua_getfield(L, idx, "mem");
    sandbox_push_copy(L, -1);
    lua_remove(L, -2);
    sandbox_set_refuse(L, "mw.mem.profile", "profile", outside_budget);
    sandbox_set_refuse(L, "mw.mem.timeline", "timeline", outside_budget);
    sandbox_set_refuse(L, "mw.mem.trace", "trace", outside_budget);
    sandbox_set_refuse(L, "mw.mem.reset_peak", "reset_peak", "the peak is the host's figure");
    sandbox_set_refuse(L, "mw.mem.resetpeak", "resetpeak", "the peak is the host's figure");
    sandbox_set_read_only(L, "mw.mem.budget", "budget");
    sandbox_set_read_only(L, "mw.mem.limit", "limit");
    lua_setfield(L, -2, "mem");
    lua_getfield(L, idx, "gc");
    sandbox_push_copy(L, -1);
    lua_remove(L, -2);
    sandbox_set_refuse(L, "mw.gc.enable", "enable", shared);
    sandbox_set_refuse(L, "mw.gc.disable", "disable", shared);
    sandbox_set_refuse(L, "mw.gc.freeze", "freeze", shared);
    sandbox_set_refuse(L, "mw.gc.unfreeze", "unfreeze", shared);
    sandbox_set_read_only(L, "mw.gc.threshold", "threshold");
    sandbox_set_read_only(L, "mw.gc.debug", "debug");
    lua_setfield(L, -2, "gc");
    /* Other threads and the network are outside the sandbox. */
    if (lua_getfield(L, idx, "parallel") == LUA_TTABLE) {
        sandbox_push_copy(L, -1);
        lua_remove(L, -2);
        sandbox_set_refuse(L, "mw.parallel.map", "map",
                           "its runtimes would run outside the sandbox and its limits");
        lua_setfield(L, -2, "parallel");
    } else {
        lua_pop(L, 1);
    }
    if (lua_getfield(L, idx, "redis") == LUA_TTABLE) {
        sandbox_push_copy(L, -1);
        lua_remove(L, -2);
        sandbox_set_refuse(L, "mw.redis.connect", "connect", "the network is outside the sandbox");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "available");
        lua_setfield(L, -2, "redis");
    } else {
        lua_pop(L, 1);
    }
}

/* Pushes the table of safe globals, its libraries not yet frozen. */
static void sandbox_push_globals(lua_State *L, int real, int mw, int locked)
{
    static const char *const base[] = {
        "assert", "error", "ipairs", "next", "pairs", "pcall", "print", "rawequal", "rawget",
        "rawlen", "select", "tonumber", "tostring", "type", "xpcall", "_VERSION", NULL};
    static const char *const os_names[] = {"clock", "time", "date", "difftime", NULL};
    lua_newtable(L);
    sandbox_copy_fields(L, real, base);
    lua_pushcfunction(L, sandbox_rawset);
    lua_setfield(L, -2, "rawset");
    lua_getfield(L, real, "setmetatable");
    lua_pushcclosure(L, sandbox_setmetatable, 1);
    lua_setfield(L, -2, "setmetatable");
    lua_getfield(L, real, "getmetatable");
    lua_pushvalue(L, locked);
    lua_pushcclosure(L, sandbox_getmetatable, 2);
    lua_setfield(L, -2, "getmetatable");
    lua_getfield(L, real, "collectgarbage");
    lua_pushcclosure(L, sandbox_collectgarbage, 1);
    lua_setfield(L, -2, "collectgarbage");
    lua_getfield(L, real, "load");
    lua_pushcclosure(L, sandbox_load, 1);
    lua_setfield(L, -2, "load");
    lua_pushvalue(L, mw);
    lua_getfield(L, real, "require");
    lua_pushcclosure(L, sandbox_require, 2);
    lua_setfield(L, -2, "require");
    lua_pushvalue(L, mw);
    lua_setfield(L, -2, "mw");

    static const char *const libs[] = {"table", "math", "utf8", "coroutine", "string", NULL};
    for (const char *const *lib = libs; *lib != NULL; lib++) {
        lua_getfield(L, real, *lib);
        sandbox_push_copy(L, -1);
        lua_remove(L, -2);
        if (strcmp(*lib, "table") == 0) {
            mw_lua_counted_open_table(L);
        } else if (strcmp(*lib, "string") == 0) {
            lua_pushnil(L);
            lua_setfield(L, -2, "dump");
            mw_lua_match_open(L);
            mw_lua_counted_open_string(L);
        }
        lua_setfield(L, -2, *lib);
    }
    lua_getfield(L, real, "os");
    int os = lua_gettop(L);
    lua_newtable(L);
    sandbox_copy_fields(L, os, os_names);
    lua_remove(L, os);
    lua_setfield(L, -2, "os");
}

/* Resolves each readable directory into the sandbox table at t (1..n). */
static void sandbox_set_dirs(lua_State *L, int t, const char *const *dirs)
{
    char buf[PATH_MAX];
    lua_Integer n = 0;
    for (; dirs != NULL && *dirs != NULL; dirs++) {
        if (realpath(*dirs, buf) == NULL)
            luaL_error(L, "sandbox: readable directory '%s': %s", *dirs, strerror(errno));
        lua_pushstring(L, buf);
        lua_rawseti(L, t, ++n);
    }
}

void mw_lua_sandbox_open(lua_State *L, const char *const *readable_dirs)
{
    luaL_checkstack(L, 24, NULL);
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
    int real = lua_gettop(L);
    lua_newtable(L);
    int sandbox = real + 1;
    sandbox_set_dirs(L, sandbox, readable_dirs);
    lua_newtable(L);
    int memo = real + 2;
    locked_push_new(L);
    int locked = real + 3;
    lua_getfield(L, real, "next");
    int next = real + 4;

    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "moonwatch");
    lua_remove(L, -2);
    if (!lua_istable(L, -1))
        luaL_error(L, "sandbox: the moonwatch module is not loaded");
    sandbox_push_mw(L, -1);
    lua_remove(L, -2);
    frozen_make(L, memo, locked, next, "mw");
    int mw = real + 5;

    sandbox_push_globals(L, real, mw, locked);
    int globals = mw + 1;
    /* The libraries' proxies, then the globals' own. */
    lua_pushnil(L);
    while (lua_next(L, globals) != 0) {
        if (lua_type(L, -1) != LUA_TTABLE || frozen_is(L, -1)) {
            lua_pop(L, 1);
            continue;
        }
        /* (a field's value changes, not the keys: next can go on) */
        frozen_make(L, memo, locked, next, lua_tostring(L, -2));
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, globals);
    }
    frozen_make(L, memo, locked, next, "_G");

    /* Strings index the string proxy, through a locked metatable. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_getfield(L, globals, "string");
    lua_setfield(L, -2, "__index");
    lua_pushvalue(L, locked);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    /* Trusted code loading a host's file gets it sandboxed too. */
    lua_pushcfunction(L, sandbox_host_loadfile);
    lua_setfield(L, real, "loadfile");

    lua_setfield(L, sandbox, "globals");
    lua_pushvalue(L, mw);
    lua_setfield(L, sandbox, "mw");
    lua_pushvalue(L, locked);
    lua_setfield(L, sandbox, "locked");
    lua_pushvalue(L, memo);
    lua_setfield(L, sandbox, "memo");
    lua_pushvalue(L, next);
    lua_setfield(L, sandbox, "next");
    lua_newtable(L);
    lua_setfield(L, sandbox, "modules");
    lua_pushvalue(L, sandbox);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &sandbox_key);
    lua_settop(L, real - 1);
}

void mw_lua_sandbox_push_env(lua_State *L)
{
    lua_createtable(L, 0, 4);
    lua_createtable(L, 0, 1);
    if (!sandbox_push(L))
        luaL_error(L, "sandbox: not a sandboxed state");
    lua_getfield(L, -1, "globals");
    lua_remove(L, -2);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    lua_setfield(L, -2, "_G");
}

/* }==================================================================== */

/* {====================================================================
 * Files
 * ===================================================================== */

/* Whether canonical path lies in one of the directories of the sandbox
 * table on top. */
static int sandbox_in_dirs(lua_State *L, const char *path)
{
    size_t len = strlen(path);
    for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TSTRING; i++) {
        size_t dlen;
        const char *dir = lua_tolstring(L, -1, &dlen);
        int inside = len >= dlen && memcmp(path, dir, dlen) == 0 &&
                     (path[dlen] == '\0' || path[dlen] == '/' || dir[dlen - 1] == '/');
        lua_pop(L, 1);
        if (inside)
            return 1;
    }
    lua_pop(L, 1);
    return 0;
}

/* Raises the refusal of reading path, listing the readable directories
 * (sandbox table on top). */
static int sandbox_refuse_read(lua_State *L, const char *path)
{
    luaL_Buffer b;
    int t = lua_gettop(L);
    luaL_buffinit(L, &b);
    lua_Integer i = 1;
    for (; lua_rawgeti(L, t, i) == LUA_TSTRING; i++) {
        if (i > 1)
            luaL_addstring(&b, ", ");
        luaL_addvalue(&b);
    }
    lua_pop(L, 1);
    if (i == 1)
        luaL_addstring(&b, "none");
    luaL_pushresult(&b);
    return luaL_error(L, "sandbox: reading '%s' is not allowed (readable directories: %s)", path,
                      lua_tostring(L, -1));
}

const char *mw_lua_sandbox_readable(lua_State *L, const char *path, char *buf, int *missing)
{
    if (!sandbox_push(L)) {
        lua_pop(L, 1);
        return path;
    }
    if (strcmp(path, "-") == 0)
        luaL_error(L, "sandbox: reading standard input is not allowed");
    if (realpath(path, buf) != NULL) {
        struct stat sb;
        if (!sandbox_in_dirs(L, buf))
            sandbox_refuse_read(L, path);
        /* A FIFO or a device could block or never end: reads that no
         * limit interrupts. */
        if (stat(buf, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISDIR(sb.st_mode))
            luaL_error(L, "sandbox: reading '%s' is not allowed (not a regular file)", path);
        lua_pop(L, 1);
        return buf;
    }
    /* A missing file is reported as such only inside a readable
     * directory: elsewhere, nothing tells what exists. */
    int why = errno;
    size_t len = strlen(path);
    if (len >= PATH_MAX)
        sandbox_refuse_read(L, path);
    memcpy(buf, path, len + 1);
    char *slash = strrchr(buf, '/');
    if (slash == NULL)
        strcpy(buf, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
    char parent[PATH_MAX];
    if (realpath(buf, parent) == NULL || !sandbox_in_dirs(L, parent))
        sandbox_refuse_read(L, path);
    lua_pop(L, 1);
    if (missing != NULL) {
        *missing = why;
        return NULL;
    }
    luaL_error(L, "cannot open '%s': %s", path, strerror(why));
    return NULL;
}

void mw_lua_sandbox_writable(lua_State *L, const char *path)
{
    if (mw_lua_sandboxed(L))
        luaL_error(L, "sandbox: writing '%s' is not allowed", path);
}

/* }==================================================================== */
