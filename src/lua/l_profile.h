/*
 * l_profile.h: the line-by-line memory profiler, behind mw.mem.profile and
 * the command's --mem-profile.
 *
 * A profile charges every change of the accounting allocator's figures
 * (Lua heap and native heap, see core/alloc.h) to the Lua source line that
 * was current when it happened: the innermost Lua line on the stack, so a
 * native allocation made inside a C function goes to the line that called
 * it. It needs a Lua state created with mw_alloc_lua; its own bookkeeping
 * lives outside that allocator and is never charged to a line. See
 * docs/internals.md for how attribution works and where it is approximate.
 */
#ifndef MW_L_PROFILE_H
#define MW_L_PROFILE_H

#include <stdio.h>

#include <lua.h>

typedef enum mw_lua_profile_format {
    MW_LUA_PROFILE_TABLE = 0, /* aligned columns for a person */
    MW_LUA_PROFILE_CSV = 1,   /* RFC 4180, one row per executed line */
    MW_LUA_PROFILE_JSON = 2   /* one object, the same fields as the Lua table */
} mw_lua_profile_format;

typedef struct mw_lua_profile mw_lua_profile;

/* Returns the format named `name` ("table", "csv", "json"), or -1. */
int mw_lua_profile_format_of(const char *name);

/* Starts profiling thread L and the coroutines created from it from now on
 * (they inherit its hook). Returns a new profile that the caller owns and
 * frees with mw_lua_profile_free, or NULL with a static message in *why:
 * the state is not on mw_alloc_lua, a profile is already running, or
 * memory ran out. Never raises. Replaces L's debug hook until stopped. */
mw_lua_profile *mw_lua_profile_start(lua_State *L, const char **why);

/* Stops collecting (L is the thread given to start): removes the observer,
 * gives L its previous hook back and reads the profiled source lines.
 * Never raises; a second call does nothing. */
void mw_lua_profile_stop(mw_lua_profile *p, lua_State *L);

/* 1 if the profiler ran out of memory and stopped early. */
int mw_lua_profile_incomplete(const mw_lua_profile *p);

/* Writes the report of a stopped profile. Returns 0 on a write error. */
int mw_lua_profile_write(const mw_lua_profile *p, FILE *out,
                         mw_lua_profile_format format);

/* Pushes a stopped profile as a new Lua table (fields in docs/lua-api.md,
 * the same as the JSON report). Raises on memory exhaustion. */
void mw_lua_profile_push(lua_State *L, const mw_lua_profile *p);

/* Frees p (stopping it first if needed is the caller's job). */
void mw_lua_profile_free(mw_lua_profile *p);

/* mw.mem.profile(fn [, opts]): registered by l_mem.c with the module state
 * as upvalue 1. */
int mw_lua_mem_profile(lua_State *L);

#endif /* MW_L_PROFILE_H */
