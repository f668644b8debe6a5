/*
 * l_iter.h: generator iterators for Lua: the protocol, the combinators
 * and the sources that need no parser (range, iter, lines, gen).
 */
#ifndef MW_L_ITER_H
#define MW_L_ITER_H

#include "lua/state.h"

/* Registers the iterator class and sets mw.range, mw.iter, mw.lines and
 * mw.gen in the module table at the top of the stack. */
void mw_lua_open_iter(lua_State *L, mw_lua_state *st);

#endif /* MW_L_ITER_H */
