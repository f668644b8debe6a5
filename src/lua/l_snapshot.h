/*
 * l_snapshot.h: heap snapshots (mw.mem.trace, mw.mem.snapshot,
 * mw.mem.top), tracemalloc's idea for the native heap.
 */
#ifndef MW_L_SNAPSHOT_H
#define MW_L_SNAPSHOT_H

#include "lua/state.h"

typedef struct mw_lua_trace mw_lua_trace;

/* Stops tracing and frees what it holds (at state close). */
void mw_lua_trace_free(mw_lua_state *st);

int mw_lua_mem_trace(lua_State *L);
int mw_lua_mem_snapshot(lua_State *L);

/* Registers the snapshot methods (a Lua chunk) into the table at the top
 * of the stack's field `snapshot_mt`. */
void mw_lua_open_snapshot(lua_State *L, mw_lua_state *st);

#endif /* MW_L_SNAPSHOT_H */
