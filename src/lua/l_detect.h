/*
 * l_detect.h: the Lua binding of detectors and thresholders (mw.detect,
 * mw.thresh).
 */
#ifndef MW_L_DETECT_H
#define MW_L_DETECT_H

#include "lua/state.h"

struct mw_detector;

/* Registers the detector class and pushes the mw.detect table. */
void mw_lua_open_detect(lua_State *L, mw_lua_state *st);
/* Pushes the mw.thresh table (after mw_lua_open_detect). */
void mw_lua_open_thresh(lua_State *L, mw_lua_state *st);
/* Whether the value at idx is a detector (released or not). */
int mw_lua_is_detector(lua_State *L, int idx);
/* Whether the detector at idx is still usable (not released). */
int mw_lua_is_live_detector(lua_State *L, int idx);
/* Releases the detector at idx (a no-op if already released). */
void mw_lua_release_detector(lua_State *L, int idx);
/* The detector at idx; raises a type error, or "attempt to use a released
 * detector". */
struct mw_detector *mw_lua_check_detector(lua_State *L, int idx);

#endif /* MW_L_DETECT_H */
