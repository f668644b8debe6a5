/*
 * l_list.h: the Lua binding of lists.
 */
#ifndef MW_L_LIST_H
#define MW_L_LIST_H

#include "lua/state.h"

/* Registers the list handle class and pushes the mw.list table. */
void mw_lua_open_list(lua_State *L, mw_lua_state *st);

#endif /* MW_L_LIST_H */
