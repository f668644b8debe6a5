/*
 * limits.h: instruction and wall-time limits on the Lua code of one run.
 *
 * A run is one entry into a Lua state from its host (a chunk, a call):
 * mw_lua_limits_arm starts it, mw_lua_limits_disarm ends it. While armed,
 * a count hook (on the thread armed and on every coroutine created from
 * it, which inherit hooks) counts VM instructions in steps and reads a
 * monotonic clock, and raises once a limit is reached: "instruction limit
 * exceeded (N instructions)" or "time limit exceeded (S s)".
 *
 * Invariants:
 * - Once a limit is reached the run is "tripped" until disarmed: the hook
 *   fires at every instruction and raises again, and pcall, xpcall,
 *   coroutine.resume and coroutine.close (replaced by
 *   mw_lua_limits_open) pass the error on instead of returning it, so no
 *   script can catch a limit and carry on. The error value is a userdata
 *   whose __tostring is the message (mw_lua_limits_message reads it).
 * - The hook is found from the state through the registry, so several
 *   states each have their own limits; no global mutable state.
 * - Lua runs no hook inside a C function (a long string.rep, a pattern
 *   match) nor in __gc finalizers, which the collector runs with hooks
 *   off: the limits are checked at the next instruction after them. The
 *   sandbox (#11) closes those routes; docs/security.md says how.
 * - Another hook present when the limits are armed (the memory profiler's
 *   line hook) keeps running: the limits' hook forwards every event but
 *   its own count to it.
 */
#ifndef MW_LUA_LIMITS_H
#define MW_LUA_LIMITS_H

#include <lua.h>

/* Instructions counted between two checks of the limits: the instruction
 * limit is enforced to within this many, the clock read this often. */
#define MW_LUA_LIMITS_STEP 1000

typedef struct mw_lua_limits {
    unsigned long max_instructions; /* per run; 0: none */
    double max_seconds;             /* wall time per run; 0: none */
    /* The run's state, set by arm. */
    unsigned long counted;          /* instructions run, in steps */
    double deadline;                /* monotonic seconds */
    int armed;
    int tripped;                    /* 1: instructions, 2: time */
    lua_Hook chained;               /* the hook found when armed */
    int chained_mask;
    int chained_count;
} mw_lua_limits;

/* Replaces pcall, xpcall, coroutine.resume and coroutine.close in L's
 * globals (the base and coroutine libraries must be open) with versions
 * that re-raise a tripped limit, and registers lim (borrowed: it must
 * outlive L) as L's limits. Raises on memory exhaustion. */
void mw_lua_limits_open(lua_State *L, mw_lua_limits *lim);

/* Starts a run on thread L: the limits count from now. Does nothing but
 * reset the state when both limits are 0. */
void mw_lua_limits_arm(lua_State *L, mw_lua_limits *lim);

/* Ends the run on thread L: removes the hook, giving back the one found
 * when armed. Returns the limit that was reached (0 if none). */
int mw_lua_limits_disarm(lua_State *L, mw_lua_limits *lim);

/* The message of the limit error at idx, or NULL if the value there is
 * not one. */
const char *mw_lua_limits_message(lua_State *L, int idx);

#endif /* MW_LUA_LIMITS_H */
