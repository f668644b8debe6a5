/*
 * l_series.h: the Lua binding of series (mw.series) and of their rolling
 * and exponentially weighted views.
 */
#ifndef MW_L_SERIES_H
#define MW_L_SERIES_H

#include "lua/state.h"
#include "types/series.h"

/* Registers the series classes and pushes the mw.series table. */
void mw_lua_open_series(lua_State *L, mw_lua_state *st);

/* The series of the handle at idx (raises as mw_lua_check_object). */
mw_series *mw_lua_check_series(lua_State *L, int idx);

/* Pushes a new series handle holding a new series of n values (with
 * timestamps if with_stamps; zeroed if zero) and returns the series.
 * Raises on memory exhaustion. Any series pointer the caller holds must
 * be fetched again afterwards: the allocation may run script finalizers
 * (see handle.h). */
mw_series *mw_lua_push_new_series(lua_State *L, mw_lua_state *st, size_t n,
                                  int with_stamps, int zero);

#endif /* MW_L_SERIES_H */
