/*
 * l_value.h: conversion between Lua values and tagged values, and the
 * readable form of containers used by tostring.
 */
#ifndef MW_L_VALUE_H
#define MW_L_VALUE_H

#include "core/value.h"
#include "lua/state.h"

/* Converts the Lua value at idx. On success *out holds a new reference
 * (a new str for a string). Returns MW_ETYPE, leaving *out untouched, for
 * Lua values the heap cannot hold (tables, functions, threads, other
 * userdata, released handles), or an allocation failure. */
mw_status mw_lua_tovalue(lua_State *L, mw_lua_state *st, int idx, mw_value *out);

/* As mw_lua_tovalue, but raises "bad argument #arg to 'fname' (cannot
 * store a <type> in a <container>: ...)" or the memory error. */
mw_value mw_lua_checkvalue(lua_State *L, mw_lua_state *st, int idx, int arg,
                           const char *container);

/* Pushes the readable form of object o: list{1, "a", map{x = 2}}, with
 * nesting and length bounded and cycles shown as list{<cycle>}. */
void mw_lua_pushrepr(lua_State *L, mw_lua_state *st, const mw_object *o);

#endif /* MW_L_VALUE_H */
