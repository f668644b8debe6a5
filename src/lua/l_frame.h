/*
 * l_frame.h: the Lua binding of frames (mw.frame) and rings (mw.ring).
 */
#ifndef MW_L_FRAME_H
#define MW_L_FRAME_H

#include "lua/state.h"

/* Registers the frame class and pushes the mw.frame table. */
void mw_lua_open_frame(lua_State *L, mw_lua_state *st);

/* Pushes a new, empty frame handle and returns the frame. Raises on
 * memory exhaustion. */
struct mw_frame *mw_lua_push_new_frame(lua_State *L, mw_lua_state *st);

/* Registers the ring class and pushes the mw.ring table. */
void mw_lua_open_ring(lua_State *L, mw_lua_state *st);

#endif /* MW_L_FRAME_H */
