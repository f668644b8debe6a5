/*
 * l_plot.h: mw.plot, detection plots (report/plot.h) from Lua.
 */
#ifndef MW_L_PLOT_H
#define MW_L_PLOT_H

#include "lua/state.h"

/* Pushes the mw.plot table. */
void mw_lua_open_plot(lua_State *L, mw_lua_state *st);

#endif /* MW_L_PLOT_H */
