/*
 * sandbox.h: running scripts the host did not write (docs/security.md).
 *
 * mw_lua_sandbox_open turns a state whose libraries, module (`mw`) and
 * limits (lua/limits.h) are open into a sandboxed one. The state's real
 * global table stays as it was, for the trusted code that runs in it
 * (moonwatch.pipeline, the built-in pipelines); scripts never see it.
 * Each script runs in an environment of its own (mw_lua_sandbox_push_env):
 * a writable table whose misses go to the frozen globals, one read-only
 * view shared by every script of the state, holding only:
 *
 *   - the base functions but dofile and loadfile; load for text chunks
 *     only, in the caller's environment unless given one; getmetatable,
 *     setmetatable, rawset and collectgarbage restricted (below); require
 *     of "moonwatch" and the built-in pipelines, frozen;
 *   - string without dump, its find, match, gmatch and gsub counted
 *     (lua/match.h), rep too; table with its loops counted
 *     (lua/counted.h); math, utf8, coroutine; os.clock, os.time, os.date
 *     and os.difftime; no io, debug or package;
 *   - `mw`, with what would reach outside the runtime or change it for
 *     every script (the memory profiler, timeline and tracer, the budget,
 *     the collector's settings) replaced by functions that refuse.
 *
 * Invariants (what keeps one script from planting code another runs):
 * - Every table a script reaches from the frozen globals is a proxy: an
 *   empty table whose metatable is locked (__metatable), sends reads to a
 *   hidden copy, refuses writes (__newindex), iterates the copy
 *   (__pairs) and forwards __call. rawset refuses proxies.
 * - The string metatable is locked and indexes the string proxy;
 *   getmetatable of any value but a table gives the locked marker, so the
 *   shared metatables of moonwatch objects are out of reach.
 * - load never gives a chunk the state's real global table, and never
 *   loads binary chunks; chunk names starting with '@' (a file to read)
 *   become '=' names.
 * - setmetatable refuses a metatable with a __gc field: finalizers run
 *   with hooks off, beyond every limit.
 * - Files: reading only under the readable directories given (checked on
 *   the canonical path, symbolic links resolved), regular files and
 *   directories only, never standard input, never writing (mw_lua_sandbox_readable, mw_lua_sandbox_writable, which
 *   the bindings call before they open anything).
 */
#ifndef MW_LUA_SANDBOX_H
#define MW_LUA_SANDBOX_H

#include <lua.h>

/* Sandboxes L's state: readable_dirs (NULL-terminated, or NULL for none)
 * are the directories whose files scripts may read; each must exist.
 * Raises on memory exhaustion or a directory that cannot be resolved. */
void mw_lua_sandbox_open(lua_State *L, const char *const *readable_dirs);

/* Whether L's state is sandboxed. */
int mw_lua_sandboxed(lua_State *L);

/* Pushes a new script environment (a sandboxed state only). */
void mw_lua_sandbox_push_env(lua_State *L);

/* The path to open for reading path on L's state: path itself when the
 * state is not sandboxed, else its canonical form (in buf, of PATH_MAX
 * bytes) if it lies in a readable directory. Raises "sandbox: reading
 * 'p' is not allowed (...)" otherwise, and "cannot open 'p': reason" for
 * a missing path in a readable directory, unless missing is not NULL:
 * then *missing gets the errno and NULL is returned. */
const char *mw_lua_sandbox_readable(lua_State *L, const char *path, char *buf, int *missing);

/* Raises "sandbox: writing 'p' is not allowed" on a sandboxed state. */
void mw_lua_sandbox_writable(lua_State *L, const char *path);

#endif /* MW_LUA_SANDBOX_H */
