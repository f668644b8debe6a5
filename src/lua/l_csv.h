/*
 * l_csv.h: mw.csv, the streaming CSV source.
 */
#ifndef MW_L_CSV_H
#define MW_L_CSV_H

#include "lua/state.h"

/* Sets mw.csv in the module table at the top of the stack. */
void mw_lua_open_csv(lua_State *L, mw_lua_state *st);

#endif /* MW_L_CSV_H */
