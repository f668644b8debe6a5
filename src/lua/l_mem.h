/*
 * l_mem.h: mw.mem, memory figures and the budget.
 */
#ifndef MW_L_MEM_H
#define MW_L_MEM_H

#include "lua/state.h"

/* Pushes the mw.mem table. */
void mw_lua_open_mem(lua_State *L, mw_lua_state *st);

#endif /* MW_L_MEM_H */
