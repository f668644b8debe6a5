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

/* Pushes the value at idx as a series handle and returns its series: a
 * series stays itself, a Lua array of numbers becomes a new series (a
 * numeric string is not a number). kind and name say what the value is
 * in errors, "column 'x' must be a series or a table of numbers, got
 * string", "field 'score': element 3 is a string, not a number"; with
 * fname not NULL they are raised as "bad argument #arg to 'fname' (...)".
 * Any series pointer the caller holds must be fetched again afterwards
 * (see mw_lua_push_new_series). */
mw_series *mw_lua_push_series_arg(lua_State *L, mw_lua_state *st, int idx, const char *kind,
                                  const char *name, int arg, const char *fname);

#endif /* MW_L_SERIES_H */
