/*
 * counted.h: the standard library functions whose C loops have no bound
 * of their own, counted against the limits of the run (lua/limits.h), for
 * the sandbox.
 *
 * string.rep("", 1e15) loops 1e15 times without allocating a byte;
 * table.move({}, 1, 1e15, 1) moves 1e15 nils; table.insert, table.remove
 * and table.concat loop up to a length that a __len metamethod makes up,
 * over elements that C metamethods supply; table.sort of such a table
 * compares for hours. None of these calls a hook. The versions here give
 * Lua 5.4's results and errors and charge each element (each comparison
 * for sort) to mw_lua_limits_charge, in batches of
 * MW_LUA_COUNTED_BATCH, so the instruction and time limits end them.
 *
 * Invariants: they allocate nothing of their own (table.concat's buffer
 * is Lua's), so an error (a limit) unwinds with nothing to free.
 */
#ifndef MW_LUA_COUNTED_H
#define MW_LUA_COUNTED_H

#include <lua.h>

/* Elements between two charges to the limits. */
#define MW_LUA_COUNTED_BATCH 1024

/* Sets rep in the table on top of the stack (a copy of the string
 * library) to the counted version; the original is taken from there. */
void mw_lua_counted_open_string(lua_State *L);

/* Sets insert, remove, move, concat and sort in the table on top of the
 * stack (a copy of the table library) to the counted versions; sort's
 * original is taken from there. */
void mw_lua_counted_open_table(lua_State *L);

#endif /* MW_LUA_COUNTED_H */
