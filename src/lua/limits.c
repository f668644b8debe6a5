/*
 * limits.c: instruction and wall-time limits on a run of Lua code (see
 * limits.h).
 *
 * The registry holds, under the address of limits_key, a full userdata
 * with a pointer to the mw_lua_limits and the error message of the
 * limit reached. The same userdata is the error value raised: it is
 * made once, when the limits are opened, so raising never allocates
 * (a limit can trip while memory is short). Its __tostring gives the
 * message, so every message handler that honours __tostring (lua.c's,
 * the runtime's) prints it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua/limits.h"

static const char limits_key = 'L';

#define LIMITS_MT "moonwatch.limit_error"

/* The registered userdata: the limits and the message of the last limit
 * reached. */
typedef struct limits_box {
    mw_lua_limits *lim;
    char message[96];
} limits_box;

static double limits_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The box of L, or NULL if no limits were opened on its state. Pushes
 * nothing. */
static limits_box *limits_box_of(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &limits_key);
    limits_box *box = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return box;
}

static int limits_step(const mw_lua_limits *lim)
{
    if (lim->max_instructions != 0 && lim->max_instructions < MW_LUA_LIMITS_STEP)
        return (int)lim->max_instructions;
    return MW_LUA_LIMITS_STEP;
}

/* Raises the box's error: the limit reached. */
static int limits_raise(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &limits_key);
    return lua_error(L);
}

static void limits_hook(lua_State *L, lua_Debug *ar);

/* Marks the run tripped by limit `which` (message already written) and
 * raises: from now on every instruction of this thread raises again, and
 * the wrapped pcall and friends pass the error on. */
static int limits_trip(lua_State *L, mw_lua_limits *lim, int which)
{
    lim->tripped = which;
    lua_sethook(L, limits_hook, LUA_MASKCOUNT | lim->chained_mask, 1);
    return limits_raise(L);
}

/* Adds work to the count and checks both limits; raises when one is
 * reached. */
static void limits_check_work(lua_State *L, limits_box *box, unsigned long work)
{
    mw_lua_limits *lim = box->lim;
    if (lim->tripped)
        limits_raise(L);
    lim->counted = work > ~0UL - lim->counted ? ~0UL : lim->counted + work;
    if (lim->max_instructions != 0 && lim->counted >= lim->max_instructions) {
        snprintf(box->message, sizeof box->message,
                 "instruction limit exceeded (%lu instructions)", lim->max_instructions);
        limits_trip(L, lim, MW_LUA_LIMIT_INSTRUCTIONS);
    } else if (lim->max_seconds > 0 && limits_now() >= lim->deadline) {
        snprintf(box->message, sizeof box->message, "time limit exceeded (%g s)",
                 lim->max_seconds);
        limits_trip(L, lim, MW_LUA_LIMIT_TIME);
    }
}

static void limits_hook(lua_State *L, lua_Debug *ar)
{
    limits_box *box = limits_box_of(L);
    mw_lua_limits *lim = box != NULL ? box->lim : NULL;
    if (lim == NULL || !lim->armed) {
        /* a coroutine made during an earlier run: nothing to count now */
        if (lim != NULL && lim->chained != NULL && ar->event != LUA_HOOKCOUNT)
            lim->chained(L, ar);
        return;
    }
    if (ar->event != LUA_HOOKCOUNT) {
        if (lim->chained != NULL)
            lim->chained(L, ar);
        return;
    }
    limits_check_work(L, box, (unsigned long)limits_step(lim));
}

void mw_lua_limits_charge(lua_State *L, unsigned long work)
{
    limits_box *box = limits_box_of(L);
    if (box != NULL && box->lim->armed)
        limits_check_work(L, box, work);
}

void mw_lua_limits_coroutine(lua_State *L)
{
    limits_box *box = limits_box_of(L);
    if (box == NULL || !box->lim->armed)
        return;
    mw_lua_limits *lim = box->lim;
    if (lim->tripped)
        limits_raise(L);
    /* A new thread's hook count starts afresh, so a coroutine that ends
     * before MW_LUA_LIMITS_STEP instructions would count for nothing:
     * each one made is charged half a step. */
    mw_lua_limits_charge(L, MW_LUA_LIMITS_STEP / 2);
    if (lim->max_coroutines != 0 && ++lim->coroutines > lim->max_coroutines) {
        snprintf(box->message, sizeof box->message, "coroutine limit exceeded (%lu coroutines)",
                 lim->max_coroutines);
        limits_trip(L, lim, MW_LUA_LIMIT_COROUTINES);
    }
}

/* {====================================================================
 * pcall and friends that pass a tripped limit on
 * ===================================================================== */

/* The continuation (and the end) of a wrapped function: its results are
 * the whole stack, unless a limit tripped, which is raised again. */
static int limits_check(lua_State *L, int status, lua_KContext ctx)
{
    (void)status;
    (void)ctx;
    const mw_lua_limits *lim = lua_touserdata(L, lua_upvalueindex(2));
    if (lim->armed && lim->tripped)
        return limits_raise(L);
    return lua_gettop(L);
}

/* Calls the original function (upvalue 1) with the arguments. */
static int limits_wrapped(lua_State *L)
{
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_callk(L, n, LUA_MULTRET, 0, limits_check);
    return limits_check(L, LUA_OK, 0);
}

/* The message handler xpcall is given (upvalue 1: the script's, 2: the
 * limits): a tripped limit goes through as it is. A limit is raised from
 * the hook, and Lua runs no hook until the error is caught: the
 * script's handler would run beyond every limit. */
static int limits_handler(lua_State *L)
{
    const mw_lua_limits *lim = lua_touserdata(L, lua_upvalueindex(2));
    if (lim->armed && lim->tripped) {
        lua_settop(L, 1);
        return 1;
    }
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* xpcall (upvalue 1) with its handler behind limits_handler, and the
 * limit passed on as by limits_wrapped. */
static int limits_xpcall(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TFUNCTION) {
        lua_pushvalue(L, 2);
        lua_pushvalue(L, lua_upvalueindex(2));
        lua_pushcclosure(L, limits_handler, 2);
        lua_replace(L, 2);
    }
    return limits_wrapped(L);
}

/* coroutine.close (upvalue 1) that leaves alone a coroutine that died
 * by an error: if a limit ended it, its thread is still marked as inside
 * the hook that raised, and the pending __close handlers that closing
 * it runs would run with no hook at all. They are not run; close returns
 * false and says so. */
static int limits_close(lua_State *L)
{
    lua_State *co = lua_tothread(L, 1);
    if (co != NULL && co != L && lua_status(co) != LUA_OK && lua_status(co) != LUA_YIELD) {
        luaL_pushfail(L);
        lua_pushliteral(L, "cannot close a coroutine that ended by an error while limits are "
                           "set (its pending to-be-closed variables are not closed)");
        return 2;
    }
    return limits_wrapped(L);
}

/* Before co runs: if a run is armed and co lost its count hook (a
 * profile that ended while co was suspended left it none), co gets the
 * limits' hook back. */
static void limits_hook_thread(lua_State *co, const mw_lua_limits *lim)
{
    if (co != NULL && lim->armed && (lua_gethookmask(co) & LUA_MASKCOUNT) == 0)
        lua_sethook(co, limits_hook, LUA_MASKCOUNT | lim->chained_mask, limits_step(lim));
}

/* The function coroutine.wrap returns (upvalue 1: the coroutine, 2: the
 * limits): Lua's, but a coroutine that a tripped limit ended is not
 * closed (see limits_close). */
static int limits_wrap_call(lua_State *L)
{
    lua_State *co = lua_tothread(L, lua_upvalueindex(1));
    const mw_lua_limits *lim = lua_touserdata(L, lua_upvalueindex(2));
    int narg = lua_gettop(L), nres;
    limits_hook_thread(co, lim);
    if (!lua_checkstack(co, narg))
        return luaL_error(L, "too many arguments to resume");
    lua_xmove(L, co, narg);
    int status = lua_resume(co, L, narg, &nres);
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            return luaL_error(L, "too many results to resume");
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    lua_xmove(co, L, 1);
    status = lua_status(co);
    if (status != LUA_OK && status != LUA_YIELD) { /* an error in the coroutine */
        if (lim->armed && lim->tripped)
            return lua_error(L);
        status = lua_resetthread(co); /* close its to-be-closed variables */
        lua_xmove(co, L, 1);
    }
    if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
    }
    return lua_error(L);
}

/* coroutine.resume (upvalue 1: the original, 2: the limits): the
 * coroutine hooked, then as limits_wrapped. */
static int limits_resume(lua_State *L)
{
    limits_hook_thread(lua_tothread(L, 1), lua_touserdata(L, lua_upvalueindex(2)));
    return limits_wrapped(L);
}

void mw_lua_limits_rehook(lua_State *L)
{
    limits_box *box = limits_box_of(L);
    if (box != NULL && box->lim->armed)
        lua_sethook(L, limits_hook, LUA_MASKCOUNT | box->lim->chained_mask,
                    limits_step(box->lim));
    else
        lua_sethook(L, NULL, 0, 0);
}

/* coroutine.wrap, counted, making limits_wrap_call (upvalue 1: unused,
 * 2: the limits). */
static int limits_cowrap(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    mw_lua_limits_coroutine(L);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_pushcclosure(L, limits_wrap_call, 2);
    return 1;
}

/* coroutine.create (upvalue 1), counting the coroutines a run makes. */
static int limits_counted(lua_State *L)
{
    mw_lua_limits_coroutine(L);
    int n = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, n, LUA_MULTRET);
    return lua_gettop(L);
}

/* Replaces field name of the table on top with wrapper, given the
 * original and lim as upvalues. */
static void limits_wrap(lua_State *L, mw_lua_limits *lim, const char *name, lua_CFunction wrapper)
{
    if (lua_getfield(L, -1, name) != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return;
    }
    lua_pushlightuserdata(L, lim);
    lua_pushcclosure(L, wrapper, 2);
    lua_setfield(L, -2, name);
}

/* }==================================================================== */

static int limits_tostring(lua_State *L)
{
    const limits_box *box = luaL_checkudata(L, 1, LIMITS_MT);
    lua_pushstring(L, box->message);
    return 1;
}

void mw_lua_limits_open(lua_State *L, mw_lua_limits *lim)
{
    limits_box *box = lua_newuserdatauv(L, sizeof *box, 0);
    box->lim = lim;
    strcpy(box->message, "limit exceeded");
    if (luaL_newmetatable(L, LIMITS_MT)) {
        lua_pushcfunction(L, limits_tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pushliteral(L, "limit error");
        lua_setfield(L, -2, "__name");
    }
    lua_setmetatable(L, -2);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &limits_key);
    lim->armed = 0;
    lim->tripped = 0;
    lua_pushglobaltable(L);
    limits_wrap(L, lim, "pcall", limits_wrapped);
    limits_wrap(L, lim, "xpcall", limits_xpcall);
    lua_pop(L, 1);
    if (lua_getglobal(L, "coroutine") == LUA_TTABLE) {
        limits_wrap(L, lim, "resume", limits_resume);
        limits_wrap(L, lim, "close", limits_close);
        limits_wrap(L, lim, "wrap", limits_cowrap);
        if (lua_getfield(L, -1, "create") == LUA_TFUNCTION) {
            lua_pushcclosure(L, limits_counted, 1);
            lua_setfield(L, -2, "create");
        } else {
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

void mw_lua_limits_arm(lua_State *L, mw_lua_limits *lim)
{
    lim->counted = 0;
    lim->coroutines = 0;
    lim->tripped = 0;
    lim->armed = 0;
    if (lim->max_instructions == 0 && !(lim->max_seconds > 0) && lim->max_coroutines == 0)
        return;
    lim->deadline = limits_now() + lim->max_seconds;
    lim->chained = lua_gethook(L);
    lim->chained_mask = lua_gethookmask(L) & ~LUA_MASKCOUNT;
    lim->chained_count = lua_gethookcount(L);
    if (lim->chained == limits_hook)   /* armed twice: keep the first */
        lim->chained = NULL, lim->chained_mask = 0;
    lim->armed = 1;
    lua_sethook(L, limits_hook, LUA_MASKCOUNT | lim->chained_mask, limits_step(lim));
}

int mw_lua_limits_disarm(lua_State *L, mw_lua_limits *lim)
{
    int tripped = lim->tripped;
    if (lim->armed) {
        lua_sethook(L, lim->chained, lim->chained != NULL ? lim->chained_mask : 0,
                    lim->chained_count);
        lim->chained = NULL;
        lim->chained_mask = 0;
    }
    lim->armed = 0;
    lim->tripped = 0;
    return tripped;
}

mw_lua_limits *mw_lua_limits_get(lua_State *L)
{
    limits_box *box = limits_box_of(L);
    return box != NULL ? box->lim : NULL;
}

const char *mw_lua_limits_message(lua_State *L, int idx)
{
    const limits_box *box = luaL_testudata(L, idx, LIMITS_MT);
    return box != NULL ? box->message : NULL;
}
