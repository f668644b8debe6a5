/*
 * l_scale.h: mw.scale, streaming feature scaling (detect/scale.h).
 */
#ifndef MW_L_SCALE_H
#define MW_L_SCALE_H

#include "lua/state.h"

/* Registers the scaler class and pushes the mw.scale table. */
void mw_lua_open_scale(lua_State *L, mw_lua_state *st);

#endif /* MW_L_SCALE_H */
