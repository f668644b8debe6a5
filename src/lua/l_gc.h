/*
 * l_gc.h: mw.gc, the Lua interface to the native heap's cycle collector.
 */
#ifndef MW_L_GC_H
#define MW_L_GC_H

#include "lua/state.h"

/* Pushes the mw.gc table. */
void mw_lua_open_gc(lua_State *L, mw_lua_state *st);

#endif /* MW_L_GC_H */
