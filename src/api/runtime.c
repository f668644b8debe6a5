/*
 * runtime.c: a Lua state with the module for C hosts (mw_runtime_* of
 * moonwatch.h).
 *
 * The state is built as the moonwatch command builds its own: Lua's heap
 * on the runtime's mw_alloc (mw_alloc_lua), the standard libraries, the
 * module preloaded and required as the global `mw`, and the budget set
 * once they are open (their bytes count too). print is replaced when the
 * host gives a callback.
 *
 * Invariants: Lua code and every Lua API call that can raise run inside
 * runtime_protected, under lua_pcall with a message handler adding the
 * traceback, so no error unwinds into the host; between calls the Lua
 * stack is empty. The last error message is a copy owned by the runtime,
 * from its allocator (domain NATIVE), kept until the next entry point.
 *
 * The instruction, time and coroutine limits are lua/limits.c's, armed
 * afresh on every entry (see api/runtime.h); with any set, pcall and
 * friends cannot catch them.
 *
 * In a sandbox (lua/sandbox.h) the host's chunks are text only and each
 * runs in a new script environment, kept in the registry under
 * runtime_env_key once the chunk has run without error: calls look the
 * function up there. Loading a chunk drops the last one's environment
 * first, so nothing a script defined outlives the next load, and nothing
 * it wrote is seen by any other (the shared globals are frozen). Results of mw_runtime_callv that point into Lua
 * (strings, series) are kept alive in a registry table until the next
 * entry. The runtime is found from the Lua state through
 * lua_getextraspace, which coroutines inherit from the main state.
 *
 * It must never keep global mutable state: two runtimes can live in one
 * process, each on its own thread.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "api/runtime.h"
#include "core/alloc.h"
#include "lua/l_profile.h"
#include "lua/handle.h"
#include "lua/l_series.h"
#include "lua/limits.h"
#include "lua/sandbox.h"
#include "lua/state.h"
#include "moonwatch.h"
#include "types/series.h"

struct mw_runtime {
    mw_alloc alloc;              /* Lua's heap and the native heap */
    lua_State *L;                /* owned */
    mw_runtime_config config;
    mw_lua_limits limits;        /* opened on L when a limit is set */
    int limited;
    mw_status fail_status;       /* set by mw_runtime_fail_as in an entry */
    int plain;                   /* the entry's error has no traceback */
    char *error;                 /* the last error, owned (NATIVE), or NULL */
    int failed;                  /* the last call failed (error may be NULL
                                  * if its copy could not be made) */
    size_t error_size;           /* bytes of error, for the free */
    mw_lua_profile *profile;     /* running or NULL */
    mw_feed *feed;               /* feed.c's, or NULL */
};

/* The registry key of the table keeping mw_runtime_callv's results. */
static const char runtime_results_key = 'R';

/* The registry key of the sandbox's script environment. */
static const char runtime_env_key = 'E';

/* What runtime_protected is asked to do. */
typedef enum runtime_op { RUNTIME_STRING, RUNTIME_FILE, RUNTIME_CALL } runtime_op;

typedef struct runtime_job {
    runtime_op op;
    const char *text;        /* code, a path, or the function's name */
    const char *chunkname;
    const mw_val *args;
    size_t nargs;
    mw_val *results;
    size_t nresults;
} runtime_job;

mw_runtime *mw_runtime_of(lua_State *L)
{
    return *(mw_runtime **)lua_getextraspace(L);
}

static mw_runtime *runtime_of(lua_State *L)
{
    return mw_runtime_of(L);
}

mw_alloc *mw_runtime_alloc(mw_runtime *rt)
{
    return &rt->alloc;
}

mw_feed **mw_runtime_feed(mw_runtime *rt)
{
    return &rt->feed;
}

void mw_runtime_fail_as(lua_State *L, mw_status s)
{
    runtime_of(L)->fail_status = s;
}

void mw_runtime_fail_plain(lua_State *L, mw_status s)
{
    runtime_of(L)->fail_status = s;
    runtime_of(L)->plain = 1;
}

/* {====================================================================
 * Errors
 * ===================================================================== */

/* Replaces the kept error message with msg (len bytes; NULL: no error).
 * If the copy cannot be made, mw_runtime_error gives a static text
 * instead, so a failure never reads as a success. */
static void runtime_set_error(mw_runtime *rt, const char *msg, size_t len)
{
    if (rt->error != NULL)
        mw_alloc_free(&rt->alloc, MW_DOMAIN_NATIVE, rt->error, rt->error_size);
    rt->error = NULL;
    rt->error_size = 0;
    rt->failed = msg != NULL;
    if (msg == NULL)
        return;
    /* The budget is lifted for the copy: it is small, and what the
     * script held has been released by the unwinding. */
    size_t budget = rt->alloc.budget;
    rt->alloc.budget = 0;
    rt->error = mw_alloc_malloc(&rt->alloc, MW_DOMAIN_NATIVE, len + 1);
    rt->alloc.budget = budget;
    if (rt->error != NULL) {
        memcpy(rt->error, msg, len);
        rt->error[len] = '\0';
        rt->error_size = len + 1;
    }
}

/* The message handler: the error as a string (its __tostring if it has
 * one), with the traceback from where it was raised. As lua.c's. */
static int runtime_msghandler(lua_State *L)
{
    if (runtime_of(L)->plain && lua_type(L, 1) == LUA_TSTRING)
        return 1;
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = mw_lua_limits_message(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* }==================================================================== */

/* {====================================================================
 * Building the state and running jobs
 * ===================================================================== */

/* print with the host's callback: Lua's print, the text given whole. */
static int runtime_print(lua_State *L)
{
    mw_runtime *rt = runtime_of(L);
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_addchar(&b, '\n');
    luaL_pushresult(&b);
    size_t len;
    const char *text = lua_tolstring(L, -1, &len);
    rt->config.print(rt->config.print_ud, text, len);
    return 0;
}

/* Builds the state: libraries, the module as `mw`, print. */
static int runtime_setup(lua_State *L)
{
    mw_runtime *rt = runtime_of(L);
    /* The collector in generational mode, as lua.c (so the moonwatch
     * command) sets it: a host feeding samples one at a time makes many
     * short-lived handles, which minor collections free at once; in
     * incremental mode the heap grew to tens of MiB of garbage (measured
     * with bench/bench_feed.c). Not in a sandbox: Lua shrinks a thread's
     * stack only in an incremental cycle, so a script that recursed deep
     * would leave megabytes of stack to the next script of another
     * tenant (tests/sandbox/recursion_*.lua measure what is left). */
    if (!rt->config.sandbox)
        lua_gc(L, LUA_GCGEN, 0, 0);
    luaL_openlibs(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_moonwatch);
    lua_setfield(L, -2, "moonwatch");
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "moonwatch");
    lua_call(L, 1, 1);
    lua_setglobal(L, "mw");
    if (rt->config.print != NULL) {
        lua_pushcfunction(L, runtime_print);
        lua_setglobal(L, "print");
    }
    if (rt->limited)
        mw_lua_limits_open(L, &rt->limits);
    if (rt->config.sandbox)
        mw_lua_sandbox_open(L, rt->config.readable_dirs);
    return 0;
}

/* Pushes argument v, or raises for one of no known type. */
static void runtime_push_value(lua_State *L, const mw_val *v, size_t i)
{
    switch (v->type) {
    case MW_VNIL:
        lua_pushnil(L);
        return;
    case MW_VBOOLEAN:
        lua_pushboolean(L, v->number != 0.0);
        return;
    case MW_VNUMBER:
        lua_pushnumber(L, v->number);
        return;
    case MW_VSTRING:
        if (v->string == NULL && v->len > 0)
            break;
        lua_pushlstring(L, v->string != NULL ? v->string : "", v->len);
        return;
    case MW_VSERIES: {
        if (v->values == NULL && v->len > 0)
            break;
        mw_series *s = mw_lua_push_new_series(L, mw_lua_state_open(L), v->len, 0, 0);
        if (v->len > 0)
            memcpy(mw_series_values(s), v->values, v->len * sizeof(double));
        return;
    }
    }
    mw_runtime_fail_as(L, MW_EINVAL);
    luaL_error(L, "argument %d: not a value (type %d, or NULL data)", (int)i + 1, (int)v->type);
}

/* Reads result idx (of the call of fname) into *out, keeping what it
 * points into alive in the results table at index keep. */
static void runtime_read_result(lua_State *L, int idx, int keep, const char *fname, size_t i,
                                mw_val *out)
{
    mw_val v = {MW_VNIL, 0.0, NULL, NULL, 0};
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
    case LUA_TNONE:
        break;
    case LUA_TBOOLEAN:
        v.type = MW_VBOOLEAN;
        v.number = lua_toboolean(L, idx);
        break;
    case LUA_TNUMBER:
        v.type = MW_VNUMBER;
        v.number = lua_tonumber(L, idx);
        break;
    case LUA_TSTRING:
        v.type = MW_VSTRING;
        v.string = lua_tolstring(L, idx, &v.len);
        lua_pushvalue(L, idx);
        lua_rawseti(L, keep, (lua_Integer)i + 1);
        break;
    case LUA_TTABLE:
    case LUA_TUSERDATA: {
        /* The type first (a wrong one is MW_ETYPE), then the copy (which
         * may fail for memory, reported as such). */
        int list = lua_type(L, idx) == LUA_TTABLE;
        if (list) {
            lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
            for (lua_Integer k = 1; k <= n && list; k++) {
                list = lua_rawgeti(L, idx, k) == LUA_TNUMBER;
                lua_pop(L, 1);
            }
            lua_pushnil(L);   /* no keys beyond 1..n */
            while (list && lua_next(L, idx) != 0) {
                list = lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
                       lua_tointeger(L, -2) <= n;
                lua_pop(L, 1);
            }
            if (!list)
                lua_pop(L, 1);
        } else {
            mw_handle *h = mw_lua_test_handle(L, idx);
            list = h != NULL && h->obj != NULL && mw_is_series(h->obj);
        }
        if (!list) {
            mw_runtime_fail_as(L, MW_ETYPE);
            luaL_error(L, "'%s' returned a %s as result %d, not a number, string, boolean, "
                          "series or list of numbers", fname, luaL_typename(L, idx), (int)i + 1);
        }
        char what[32];
        snprintf(what, sizeof what, "result %zu of", i + 1);
        mw_series *s = mw_lua_push_series_arg(L, mw_lua_state_open(L), idx, what, fname, 0, NULL);
        v.type = MW_VSERIES;
        v.values = mw_series_values(s);
        v.len = s->len;
        lua_rawseti(L, keep, (lua_Integer)i + 1);
        break;
    }
    default:
        mw_runtime_fail_as(L, MW_ETYPE);
        luaL_error(L, "'%s' returned a %s value as result %d, not a number, string, boolean or series",
                   fname, luaL_typename(L, idx), (int)i + 1);
    }
    *out = v;
}

/* Runs a job (light userdata 1): a chunk, or a call of a global. */
static int runtime_protected(lua_State *L)
{
    runtime_job *job = lua_touserdata(L, 1);
    lua_settop(L, 0);
    int sandbox = runtime_of(L)->config.sandbox;
    if (job->op == RUNTIME_CALL) {
        int found;
        if (sandbox) {
            found = lua_rawgetp(L, LUA_REGISTRYINDEX, &runtime_env_key) == LUA_TTABLE
                        ? lua_getfield(L, -1, job->text)
                        : LUA_TNIL;
            lua_replace(L, 1);
            lua_settop(L, 1);
        } else {
            found = lua_getglobal(L, job->text);
        }
        if (found != LUA_TFUNCTION) {
            mw_runtime_fail_as(L, MW_ETYPE);
            return luaL_error(L, "'%s' is not a function (a %s value)", job->text,
                              luaL_typename(L, -1));
        }
        if (job->nargs > (size_t)INT_MAX - 10 || job->nresults > (size_t)INT_MAX - 10 ||
            !lua_checkstack(L, (int)job->nargs + 10)) {
            mw_runtime_fail_as(L, MW_EINVAL);
            return luaL_error(L, "too many arguments or results (%zu, %zu)", job->nargs,
                              job->nresults);
        }
        for (size_t i = 0; i < job->nargs; i++)
            runtime_push_value(L, &job->args[i], i);
        lua_call(L, (int)job->nargs, (int)job->nresults);
        if (job->nresults == 0)
            return 0;
        if (!lua_checkstack(L, 4))
            return luaL_error(L, "stack overflow (reading results)");
        int first = lua_gettop(L) - (int)job->nresults + 1;
        lua_createtable(L, 0, 0);
        int keep = lua_gettop(L);
        for (size_t i = 0; i < job->nresults; i++)
            runtime_read_result(L, first + (int)i, keep, job->text, i, &job->results[i]);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &runtime_results_key);
        return 0;
    }
    const char *mode = sandbox ? "t" : NULL;
    if (sandbox) {
        lua_pushnil(L);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &runtime_env_key);
    }
    int status = job->op == RUNTIME_FILE
                     ? luaL_loadfilex(L, job->text, mode)
                     : luaL_loadbufferx(L, job->text, strlen(job->text), job->chunkname, mode);
    if (status != LUA_OK)
        return lua_error(L); /* the message handler is not run for load errors */
    if (!sandbox) {
        lua_call(L, 0, 0);
        return 0;
    }
    mw_lua_sandbox_push_env(L);
    lua_pushvalue(L, -1);
    lua_setupvalue(L, -3, 1);
    lua_insert(L, -2);
    lua_call(L, 0, 0);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &runtime_env_key);
    return 0;
}

int mw_runtime_enter(mw_runtime *rt, lua_CFunction fn, void *ud)
{
    lua_State *L = rt->L;
    runtime_set_error(rt, NULL, 0);
    rt->fail_status = MW_OK;
    rt->plain = 0;
    lua_settop(L, 0);
    /* The results of the last call go now (rawsetp cannot raise). */
    lua_pushnil(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &runtime_results_key);
    if (rt->limited)
        mw_lua_limits_arm(L, &rt->limits);
    lua_pushcfunction(L, runtime_msghandler);
    lua_pushcfunction(L, fn);
    lua_pushlightuserdata(L, ud);
    int status = lua_pcall(L, 1, 0, 1);
    if (rt->limited)
        mw_lua_limits_disarm(L, &rt->limits);
    if (status == LUA_OK) {
        lua_settop(L, 0);
        return MW_OK;
    }
    size_t len = 0;
    const char *msg = lua_tolstring(L, -1, &len);
    if (msg == NULL && (msg = mw_lua_limits_message(L, -1)) != NULL)
        len = strlen(msg); /* a limit raised where no handler ran */
    if (msg == NULL) {
        msg = "(error object is not a string)";
        len = strlen(msg);
    }
    if (status == LUA_ERRMEM) {
        char with_budget[256];
        int budget_refused = rt->alloc.budget != 0 && rt->alloc.last_error == MW_EBUDGET;
        if (budget_refused) {
            char detail[96];
            mw_lua_budget_detail(&rt->alloc, detail, sizeof detail);
            int n = snprintf(with_budget, sizeof with_budget,
                             "%s (memory limit exceeded: %s)", msg, detail);
            msg = with_budget;
            len = n < 0 ? 0 : (size_t)n < sizeof with_budget ? (size_t)n : sizeof with_budget - 1;
        }
        runtime_set_error(rt, msg, len);
        lua_settop(L, 0);
        lua_gc(L, LUA_GCCOLLECT);
        return budget_refused ? MW_EBUDGET : MW_ENOMEM;
    }
    runtime_set_error(rt, msg, len);
    lua_settop(L, 0);
    return rt->fail_status != MW_OK ? (int)rt->fail_status : MW_ESCRIPT;
}

/* }==================================================================== */

void mw_runtime_config_init(mw_runtime_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->max_memory = 0;
    cfg->max_instructions = 0;
    cfg->max_seconds = 0.0;
    cfg->print = NULL;
    cfg->print_ud = NULL;
    cfg->alloc = NULL;
    cfg->alloc_ud = NULL;
    cfg->sandbox = 0;
    cfg->readable_dirs = NULL;
    cfg->max_coroutines = 0;
}

mw_runtime *mw_runtime_new(const mw_runtime_config *cfg)
{
    mw_runtime_config config;
    if (cfg != NULL)
        config = *cfg;
    else
        mw_runtime_config_init(&config);
    if (!(config.max_seconds >= 0.0))   /* NaN too */
        return NULL;
    if (config.sandbox) {
        if (config.max_memory == 0)
            config.max_memory = MW_SANDBOX_MAX_MEMORY;
        if (config.max_seconds == 0.0)
            config.max_seconds = MW_SANDBOX_MAX_SECONDS;
        if (config.max_coroutines == 0)
            config.max_coroutines = MW_SANDBOX_MAX_COROUTINES;
    }
    /* The runtime itself comes from the host's allocator when there is
     * one, uncounted: it is not Lua's nor a native object. */
    mw_runtime *rt = config.alloc != NULL ? config.alloc(config.alloc_ud, NULL, 0, sizeof *rt)
                                          : malloc(sizeof *rt);
    if (rt == NULL)
        return NULL;
    memset(rt, 0, sizeof *rt);
    rt->config = config;
    rt->limits.max_instructions = config.max_instructions;
    rt->limits.max_seconds = config.max_seconds;
    rt->limits.max_coroutines = config.max_coroutines;
    rt->limited = config.max_instructions != 0 || config.max_seconds > 0.0 ||
                  config.max_coroutines != 0;
    mw_alloc_init(&rt->alloc);
    if (config.alloc != NULL)
        mw_alloc_set_system(&rt->alloc, config.alloc, config.alloc_ud);
    rt->feed = mw_feed_new(&rt->alloc);
    rt->L = rt->feed != NULL ? lua_newstate(mw_alloc_lua, &rt->alloc) : NULL;
    if (rt->L == NULL) {
        mw_runtime_free(rt);
        return NULL;
    }
    /* No warning function: lua_warning does nothing without one, as with
     * warnings off, their default. */
    *(mw_runtime **)lua_getextraspace(rt->L) = rt;
    lua_pushcfunction(rt->L, runtime_setup);
    if (lua_pcall(rt->L, 0, 0, 0) != LUA_OK ||
        (rt->config.max_memory != 0 &&
         mw_alloc_set_budget(&rt->alloc, rt->config.max_memory) != MW_OK)) {
        mw_runtime_free(rt);
        return NULL;
    }
    rt->config.readable_dirs = NULL; /* resolved into the state, not kept */
    return rt;
}

void mw_runtime_free(mw_runtime *rt)
{
    if (rt == NULL)
        return;
    if (rt->profile != NULL) {
        mw_lua_profile_stop(rt->profile, rt->L);
        mw_lua_profile_free(rt->profile);
    }
    if (rt->L != NULL)
        lua_close(rt->L);
    mw_feed_free(rt->feed, &rt->alloc);
    if (rt->error != NULL)
        mw_alloc_free(&rt->alloc, MW_DOMAIN_NATIVE, rt->error, rt->error_size);
    if (rt->config.alloc != NULL)
        rt->config.alloc(rt->config.alloc_ud, rt, sizeof *rt, 0);
    else
        free(rt);
}

int mw_runtime_load_string(mw_runtime *rt, const char *code, const char *chunkname)
{
    if (rt == NULL || code == NULL)
        return MW_EINVAL;
    runtime_job job = {RUNTIME_STRING, code, chunkname != NULL ? chunkname : "=(string)",
                       NULL, 0, NULL, 0};
    return mw_runtime_enter(rt, runtime_protected, &job);
}

int mw_runtime_load_file(mw_runtime *rt, const char *path)
{
    if (rt == NULL || path == NULL)
        return MW_EINVAL;
    runtime_job job = {RUNTIME_FILE, path, NULL, NULL, 0, NULL, 0};
    return mw_runtime_enter(rt, runtime_protected, &job);
}

int mw_runtime_callv(mw_runtime *rt, const char *fname, const mw_val *args, size_t nargs,
                     mw_val *results, size_t nresults)
{
    if (results != NULL)
        for (size_t i = 0; i < nresults; i++)
            results[i] = (mw_val){MW_VNIL, 0.0, NULL, NULL, 0};
    if (rt == NULL || fname == NULL || (args == NULL && nargs > 0) ||
        (results == NULL && nresults > 0))
        return MW_EINVAL;
    runtime_job job = {RUNTIME_CALL, fname, NULL, args, nargs, results, nresults};
    int status = mw_runtime_enter(rt, runtime_protected, &job);
    if (status != MW_OK)
        for (size_t i = 0; i < nresults; i++)
            results[i] = (mw_val){MW_VNIL, 0.0, NULL, NULL, 0};
    return status;
}

/* The numbers of mw_runtime_call, at most this many at once. */
#define RUNTIME_CALL_ARGS 16

int mw_runtime_call(mw_runtime *rt, const char *fname, const double *args, size_t nargs,
                    double *result)
{
    if (rt == NULL || fname == NULL || (args == NULL && nargs > 0))
        return MW_EINVAL;
    mw_val small[RUNTIME_CALL_ARGS] = {{MW_VNIL, 0.0, NULL, NULL, 0}};
    mw_val *values = small;
    if (nargs > RUNTIME_CALL_ARGS) {
        values = mw_alloc_malloc(&rt->alloc, MW_DOMAIN_NATIVE, nargs * sizeof *values);
        if (values == NULL)
            return rt->alloc.last_error == MW_EBUDGET ? MW_EBUDGET : MW_ENOMEM;
    }
    for (size_t i = 0; i < nargs; i++)
        values[i] = mw_val_number(args[i]);
    mw_val out;
    int status = mw_runtime_callv(rt, fname, values, nargs, &out, 1);
    if (values != small)
        mw_alloc_free(&rt->alloc, MW_DOMAIN_NATIVE, values, nargs * sizeof *values);
    if (status == MW_OK && out.type != MW_VNUMBER) {
        static const char *const names[] = {"nil", "boolean", "number", "string", "series"};
        char msg[160];
        int n = snprintf(msg, sizeof msg, "'%s' returned a %s value, not a number", fname,
                         names[out.type]);
        runtime_set_error(rt, msg, n > 0 ? (size_t)n : 0);
        return MW_ETYPE;
    }
    if (status == MW_OK && result != NULL)
        *result = out.number;
    return status;
}

const char *mw_runtime_error(const mw_runtime *rt)
{
    if (rt == NULL || !rt->failed)
        return "";
    return rt->error != NULL ? rt->error : "not enough memory (for the error message too)";
}

int mw_runtime_memory(const mw_runtime *rt, mw_memory *out)
{
    if (rt == NULL || out == NULL)
        return MW_EINVAL;
    out->lua = rt->alloc.domain_bytes[MW_DOMAIN_LUA];
    out->native = rt->alloc.domain_bytes[MW_DOMAIN_NATIVE] + rt->alloc.domain_bytes[MW_DOMAIN_POOL];
    out->total = rt->alloc.current;
    out->peak = rt->alloc.peak;
    out->budget = rt->alloc.budget;
    return MW_OK;
}

lua_State *mw_runtime_lua(mw_runtime *rt)
{
    return rt->L;
}

/* {====================================================================
 * The memory profiler
 * ===================================================================== */

int mw_runtime_profile_start(mw_runtime *rt)
{
    if (rt == NULL || rt->profile != NULL)
        return MW_EINVAL;
    const char *why = NULL;
    rt->profile = mw_lua_profile_start(rt->L, &why);
    if (rt->profile != NULL)
        return MW_OK;
    runtime_set_error(rt, why, strlen(why));
    return strcmp(why, "not enough memory") == 0 ? MW_ENOMEM : MW_EINVAL;
}

int mw_runtime_profile_stop(mw_runtime *rt, FILE *out, mw_profile_format format)
{
    if (rt == NULL || rt->profile == NULL ||
        (format != MW_PROFILE_TABLE && format != MW_PROFILE_CSV && format != MW_PROFILE_JSON))
        return MW_EINVAL;
    mw_lua_profile *p = rt->profile;
    rt->profile = NULL;
    mw_lua_profile_stop(p, rt->L);
    int ok = !mw_lua_profile_incomplete(p);
    if (out != NULL)
        ok = mw_lua_profile_write(p, out, (mw_lua_profile_format)format) && ok;
    mw_lua_profile_free(p);
    return ok ? MW_OK : MW_ENOMEM;
}

/* }==================================================================== */
