/*
 * l_timeline.h: memory over time while a script runs (mw.mem.timeline,
 * moonwatch --mem-timeline).
 */
#ifndef MW_L_TIMELINE_H
#define MW_L_TIMELINE_H

#include <lua.h>

#include "core/alloc.h"
#include "report/timeline.h"

typedef struct mw_lua_timeline mw_lua_timeline;

/* Starts recording a's figures every `interval` seconds. Returns NULL
 * with *why set when it cannot (no memory, too many observers). */
mw_lua_timeline *mw_lua_timeline_begin(mw_alloc *a, double interval, const char **why);

/* Stops recording (idempotent). */
void mw_lua_timeline_stop(mw_lua_timeline *tl);

/* Writes the chart to svg_path and the samples to csv_path (either may be
 * NULL). Returns 0, or -1 with the failing path in *bad. */
int mw_lua_timeline_write(mw_lua_timeline *tl, const char *title, const char *svg_path,
                          const char *csv_path, const char **bad);

/* The recorded samples. */
const mw_timeline *mw_lua_timeline_samples(const mw_lua_timeline *tl);

/* Stops and frees (tl may be NULL). */
void mw_lua_timeline_free(mw_lua_timeline *tl);

/* mw.mem.timeline{interval =, svg =, csv =, title =}: a recorder object. */
int mw_lua_mem_timeline(lua_State *L);

#endif /* MW_L_TIMELINE_H */
