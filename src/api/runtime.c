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
 * The instruction limit is a count hook armed afresh on every entry
 * point: it fires every `step` instructions (at most INT_MAX, what
 * lua_sethook takes) and raises once the call's total reaches the limit.
 * The runtime is found from the Lua state through lua_getextraspace,
 * which coroutines inherit from the main state.
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

#include "core/alloc.h"
#include "lua/state.h"
#include "moonwatch.h"

struct mw_runtime {
    mw_alloc alloc;              /* Lua's heap and the native heap */
    lua_State *L;                /* owned */
    mw_runtime_config config;
    unsigned long instructions;  /* counted in the current call */
    char *error;                 /* the last error, owned (NATIVE), or NULL */
    int failed;                  /* the last call failed (error may be NULL
                                  * if its copy could not be made) */
    size_t error_size;           /* bytes of error, for the free */
};

/* What runtime_protected is asked to do, and what it found. */
typedef enum runtime_op { RUNTIME_STRING, RUNTIME_FILE, RUNTIME_CALL } runtime_op;

typedef struct runtime_job {
    runtime_op op;
    const char *text;        /* code, a path, or the function's name */
    const char *chunkname;
    const double *args;
    size_t nargs;
    double result;
    mw_status status;        /* set for errors that are not the script's */
} runtime_job;

static mw_runtime *runtime_of(lua_State *L)
{
    return *(mw_runtime **)lua_getextraspace(L);
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
    const char *msg = lua_tostring(L, 1);
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
 * The instruction limit
 * ===================================================================== */

static int runtime_step(unsigned long remaining)
{
    return remaining > (unsigned long)INT_MAX ? INT_MAX : (int)remaining;
}

static void runtime_count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    mw_runtime *rt = runtime_of(L);
    unsigned long limit = rt->config.max_instructions;
    rt->instructions += (unsigned long)runtime_step(limit - rt->instructions);
    if (rt->instructions >= limit) {
        char detail[48];
        rt->instructions = 0;
        /* lua_pushfstring has no %lu */
        snprintf(detail, sizeof detail, "%lu", limit);
        luaL_error(L, "instruction limit exceeded (%s instructions)", detail);
    }
    lua_sethook(L, runtime_count_hook, LUA_MASKCOUNT,
                runtime_step(limit - rt->instructions));
}

/* Arms the limit for a new call (or leaves it off). */
static void runtime_arm(mw_runtime *rt)
{
    rt->instructions = 0;
    if (rt->config.max_instructions != 0)
        lua_sethook(rt->L, runtime_count_hook, LUA_MASKCOUNT,
                    runtime_step(rt->config.max_instructions));
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
    return 0;
}

/* Runs a job (light userdata 1): a chunk, or a call of a global. */
static int runtime_protected(lua_State *L)
{
    runtime_job *job = lua_touserdata(L, 1);
    lua_settop(L, 0);
    if (job->op == RUNTIME_CALL) {
        if (lua_getglobal(L, job->text) != LUA_TFUNCTION) {
            job->status = MW_ETYPE;
            return luaL_error(L, "'%s' is not a function (a %s value)", job->text,
                              luaL_typename(L, -1));
        }
        if (job->nargs > (size_t)INT_MAX - 1 || !lua_checkstack(L, (int)job->nargs)) {
            job->status = MW_EINVAL;
            return luaL_error(L, "too many arguments (%zu)", job->nargs);
        }
        for (size_t i = 0; i < job->nargs; i++)
            lua_pushnumber(L, job->args[i]);
        lua_call(L, (int)job->nargs, 1);
        if (lua_type(L, -1) != LUA_TNUMBER) {
            job->status = MW_ETYPE;
            return luaL_error(L, "'%s' returned a %s value, not a number", job->text,
                              luaL_typename(L, -1));
        }
        job->result = lua_tonumber(L, -1);
        return 0;
    }
    int status = job->op == RUNTIME_FILE
                     ? luaL_loadfilex(L, job->text, NULL)
                     : luaL_loadbufferx(L, job->text, strlen(job->text), job->chunkname, NULL);
    if (status != LUA_OK)
        return lua_error(L); /* the message handler is not run for load errors */
    lua_call(L, 0, 0);
    return 0;
}

/* Runs job protected and turns the outcome into a status, keeping the
 * error message. */
static int runtime_run(mw_runtime *rt, runtime_job *job)
{
    lua_State *L = rt->L;
    runtime_set_error(rt, NULL, 0);
    job->status = MW_OK;
    runtime_arm(rt);
    lua_settop(L, 0);
    lua_pushcfunction(L, runtime_msghandler);
    lua_pushcfunction(L, runtime_protected);
    lua_pushlightuserdata(L, job);
    int status = lua_pcall(L, 1, 0, 1);
    if (rt->config.max_instructions != 0)
        lua_sethook(L, NULL, 0, 0);
    if (status == LUA_OK) {
        lua_settop(L, 0);
        return MW_OK;
    }
    size_t len = 0;
    const char *msg = lua_tolstring(L, -1, &len);
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
    return job->status != MW_OK ? job->status : MW_ESCRIPT;
}

/* }==================================================================== */

void mw_runtime_config_init(mw_runtime_config *cfg)
{
    cfg->max_memory = 0;
    cfg->max_instructions = 0;
    cfg->print = NULL;
    cfg->print_ud = NULL;
}

mw_runtime *mw_runtime_new(const mw_runtime_config *cfg)
{
    mw_runtime *rt = malloc(sizeof *rt);
    if (rt == NULL)
        return NULL;
    if (cfg != NULL)
        rt->config = *cfg;
    else
        mw_runtime_config_init(&rt->config);
    rt->instructions = 0;
    rt->error = NULL;
    rt->error_size = 0;
    rt->failed = 0;
    mw_alloc_init(&rt->alloc);
    rt->L = lua_newstate(mw_alloc_lua, &rt->alloc);
    if (rt->L == NULL) {
        free(rt);
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
    return rt;
}

void mw_runtime_free(mw_runtime *rt)
{
    if (rt == NULL)
        return;
    lua_close(rt->L);
    if (rt->error != NULL)
        mw_alloc_free(&rt->alloc, MW_DOMAIN_NATIVE, rt->error, rt->error_size);
    free(rt);
}

int mw_runtime_load_string(mw_runtime *rt, const char *code, const char *chunkname)
{
    if (rt == NULL || code == NULL)
        return MW_EINVAL;
    runtime_job job = {RUNTIME_STRING, code, chunkname != NULL ? chunkname : "=(string)",
                       NULL, 0, 0.0, MW_OK};
    return runtime_run(rt, &job);
}

int mw_runtime_load_file(mw_runtime *rt, const char *path)
{
    if (rt == NULL || path == NULL)
        return MW_EINVAL;
    runtime_job job = {RUNTIME_FILE, path, NULL, NULL, 0, 0.0, MW_OK};
    return runtime_run(rt, &job);
}

int mw_runtime_call(mw_runtime *rt, const char *fname, const double *args, size_t nargs,
                    double *result)
{
    if (rt == NULL || fname == NULL || (args == NULL && nargs > 0))
        return MW_EINVAL;
    runtime_job job = {RUNTIME_CALL, fname, NULL, args, nargs, 0.0, MW_OK};
    int status = runtime_run(rt, &job);
    if (status == MW_OK && result != NULL)
        *result = job.result;
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
