/*
 * l_map.h: the Lua binding of maps.
 */
#ifndef MW_L_MAP_H
#define MW_L_MAP_H

#include "lua/state.h"

/* Registers the map handle class and pushes the mw.map table. */
void mw_lua_open_map(lua_State *L, mw_lua_state *st);

#endif /* MW_L_MAP_H */
