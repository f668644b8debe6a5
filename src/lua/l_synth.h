/*
 * l_synth.h: mw.synth, synthetic series with known anomalies.
 */
#ifndef MW_L_SYNTH_H
#define MW_L_SYNTH_H

#include "lua/state.h"

/* Sets mw.synth in the module table at the top of the stack. */
void mw_lua_open_synth(lua_State *L, mw_lua_state *st);

#endif /* MW_L_SYNTH_H */
