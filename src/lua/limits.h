/*
 * limits.h: instruction and wall-time limits on the Lua code of one run.
 *
 * A run is one entry into a Lua state from its host (a chunk, a call):
 * mw_lua_limits_arm starts it, mw_lua_limits_disarm ends it. While armed,
 * a count hook (on the thread armed and on every coroutine created from
 * it, which inherit hooks) counts VM instructions in steps and reads a
 * monotonic clock, and raises once a limit is reached: "instruction limit
 * exceeded (N instructions)" or "time limit exceeded (S s)". Work done in
 * C on a script's behalf (the sandbox's pattern matcher) is charged as
 * instructions with mw_lua_limits_charge, which checks both limits the
 * same way; the coroutines a run makes are counted with
 * mw_lua_limits_coroutine: "coroutine limit exceeded (N coroutines)".
 *
 * Invariants:
 * - Once a limit is reached the run is "tripped" until disarmed: the hook
 *   fires at every instruction and raises again, and pcall, xpcall,
 *   coroutine.resume and coroutine.close (replaced by
 *   mw_lua_limits_open) pass the error on instead of returning it, so no
 *   script can catch a limit and carry on. The error value is a userdata
 *   whose __tostring is the message (mw_lua_limits_message reads it).
 * - An error raised from a hook leaves its thread marked as inside the
 *   hook (Lua's allowhook) until a pcall or resume catches it: no hook
 *   runs there meanwhile. So xpcall's message handler is skipped for a
 *   tripped limit, coroutine.close does not run the pending __close
 *   handlers of a coroutine that died by an error (lua/l_iter.c's
 *   generators neither), and coroutine.wrap's function does not close a
 *   coroutine a tripped limit ended: Lua code run there could not be
 *   stopped.
 * - The hook is found from the state through the registry, so several
 *   states each have their own limits; no global mutable state.
 * - Lua runs no hook inside a C function (a long string.rep, a pattern
 *   match) nor in __gc finalizers, which the collector runs with hooks
 *   off: the limits are checked at the next instruction after them. The
 *   sandbox (lua/sandbox.h) closes those routes: its pattern functions
 *   charge their steps here, and its setmetatable refuses __gc
 *   (docs/security.md).
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
    unsigned long max_coroutines;   /* coroutines made per run; 0: none */
    /* The run's state, set by arm. */
    unsigned long counted;          /* instructions run, in steps */
    unsigned long coroutines;       /* coroutines made */
    double deadline;                /* monotonic seconds */
    int armed;
    int tripped;                    /* an MW_LUA_LIMIT_* */
    lua_Hook chained;               /* the hook found when armed */
    int chained_mask;
    int chained_count;
} mw_lua_limits;

/* Which limit was reached (the value of tripped). */
enum {
    MW_LUA_LIMIT_INSTRUCTIONS = 1,
    MW_LUA_LIMIT_TIME,
    MW_LUA_LIMIT_COROUTINES
};

/* Replaces pcall, xpcall, coroutine.resume, coroutine.close and
 * coroutine.wrap in L's globals (the base and coroutine libraries must
 * be open) with versions that re-raise a tripped limit (see above), and
 * coroutine.create and coroutine.wrap with versions that count
 * (mw_lua_limits_coroutine), and registers lim
 * (borrowed: it must outlive L) as L's limits. Raises on memory
 * exhaustion. */
void mw_lua_limits_open(lua_State *L, mw_lua_limits *lim);

/* Starts a run on thread L: the limits count from now. Does nothing but
 * reset the state when all three limits are 0. */
void mw_lua_limits_arm(lua_State *L, mw_lua_limits *lim);

/* Ends the run on thread L: removes the hook, giving back the one found
 * when armed. Returns the limit that was reached (0 if none). */
int mw_lua_limits_disarm(lua_State *L, mw_lua_limits *lim);

/* Charges work units of C code run for the script (about one VM
 * instruction's worth each) to the run on L's state, and checks the
 * instruction and time limits as the hook does: raises the limit error
 * if one is reached (or was, earlier in the run). Does nothing outside a
 * run, or on a state whose limits were not opened. */
void mw_lua_limits_charge(lua_State *L, unsigned long work);

/* Counts one coroutine made by the running script: raises "coroutine
 * limit exceeded (N coroutines)" past max_coroutines. As
 * mw_lua_limits_charge outside a run. */
void mw_lua_limits_coroutine(lua_State *L);

/* Gives thread L the limits' count hook if a run is armed, else no
 * hook: for a hook of its own that is done with the thread (a memory
 * profile that has ended). */
void mw_lua_limits_rehook(lua_State *L);

/* The limits opened on L's state, or NULL. */
mw_lua_limits *mw_lua_limits_get(lua_State *L);

/* The message of the limit error at idx, or NULL if the value there is
 * not one. */
const char *mw_lua_limits_message(lua_State *L, int idx);

#endif /* MW_LUA_LIMITS_H */
