/*
 * match.h: Lua 5.4's pattern matching (string.find, match, gmatch, gsub)
 * with its work counted against the limits of the run (lua/limits.h).
 *
 * Lua's own matcher runs in C, where no hook fires: a backtracking
 * pattern (string.rep("a*", 20) .. "b" against 50000 "a"s) or a plain
 * find of a long needle in a long haystack can keep the host busy for
 * hours whatever the instruction and time limits say. These functions
 * give the same results and the same errors as Lua 5.4's (the patterns
 * of the reference manual, section 6.4.1, with 5.4's init argument of
 * gmatch), and charge every step of the matcher to
 * mw_lua_limits_charge, which ends the run at the instruction or time
 * limit as the count hook would.
 *
 * Invariants: a step is one attempt of the matcher at one position (a
 * pattern item tried, a character of a %b scan, 64 bytes of a
 * back-reference or plain-search comparison); steps are charged in
 * batches of MW_LUA_MATCH_BATCH, so the limits are exact to within one
 * batch. Nothing is allocated while matching; an error (a malformed
 * pattern, a limit) unwinds with nothing to free.
 */
#ifndef MW_LUA_MATCH_H
#define MW_LUA_MATCH_H

#include <lua.h>

/* Steps between two charges to the limits. */
#define MW_LUA_MATCH_BATCH 1000

/* Sets find, match, gmatch and gsub of the table on top of the stack
 * (a copy of the string library) to the counted versions. */
void mw_lua_match_open(lua_State *L);

#endif /* MW_LUA_MATCH_H */
