/*
 * l_parallel.h: mw.parallel, work spread over independent runtimes on
 * threads of their own.
 *
 * mw.parallel.map(n, source, items [, opts]) makes n Lua states, each
 * with the standard libraries and the module (as the moonwatch command
 * has them) on an accounting allocator of its own, runs `source` in each
 * (it returns the function to apply), and hands out the items, in order,
 * to whichever state is free. Nothing is shared: items go in and results
 * come out as copies (plain values, series and tables of them), so the
 * states never touch each other's objects, and each runs on its own
 * thread. Results come back in the items' order.
 */
#ifndef MW_L_PARALLEL_H
#define MW_L_PARALLEL_H

#include "lua/state.h"

/* Pushes the mw.parallel table. */
void mw_lua_open_parallel(lua_State *L, mw_lua_state *st);

#endif /* MW_L_PARALLEL_H */
