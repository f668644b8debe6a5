/*
 * l_time.h: mw.time, timestamps as text and back.
 */
#ifndef MW_L_TIME_H
#define MW_L_TIME_H

#include "lua/state.h"

/* Pushes the mw.time table. */
void mw_lua_open_time(lua_State *L, mw_lua_state *st);

#endif /* MW_L_TIME_H */
