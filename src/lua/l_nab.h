/*
 * l_nab.h: mw.nab, scoring detections as the Numenta Anomaly Benchmark
 * does (eval/nab.h), and its label files.
 */
#ifndef MW_L_NAB_H
#define MW_L_NAB_H

#include "lua/state.h"

/* Pushes the mw.nab table. */
void mw_lua_open_nab(lua_State *L, mw_lua_state *st);

#endif /* MW_L_NAB_H */
