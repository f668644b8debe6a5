/*
 * l_timeline.c: memory over time while a script runs.
 *
 * A recorder observes the accounting allocator (mw_alloc_add_observer):
 * memory changes only when a block is allocated, resized or freed, so the
 * observer sees every change and hands the figures, with the monotonic
 * time since the start, to a bounded mw_timeline (report/timeline.h),
 * which keeps one sample per interval and the peak inside it. The
 * recorder's own memory is plain malloc, outside the figures it records.
 *
 * From Lua: `local tl = mw.mem.timeline{interval = 0.01, svg = "mem.svg",
 * csv = "mem.csv"}` starts it; `tl:stop()` stops it and writes the files
 * given; `tl:write{svg = ..., csv = ...}` writes again, `tl:samples()`
 * returns the samples. From the command: `--mem-timeline file.svg`.
 */
#include "lua/l_timeline.h"
#include "lua/sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

struct mw_lua_timeline {
    mw_alloc *alloc;
    mw_timeline samples;
    struct timespec start;
    int observing;
};

static double timeline_now(const mw_lua_timeline *tl)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - tl->start.tv_sec) +
           (double)(now.tv_nsec - tl->start.tv_nsec) * 1e-9;
}

static void timeline_record(mw_lua_timeline *tl)
{
    const mw_alloc *a = tl->alloc;
    double lua = (double)a->domain_bytes[MW_DOMAIN_LUA];
    double total = (double)a->current;
    mw_timeline_note(&tl->samples, timeline_now(tl), lua, total - lua, total);
}

static void timeline_observe(void *ud, mw_domain d, ptrdiff_t delta)
{
    (void)d;
    if (delta != 0)
        timeline_record(ud);
}

mw_lua_timeline *mw_lua_timeline_begin(mw_alloc *a, double interval, const char **why)
{
    mw_lua_timeline *tl = calloc(1, sizeof *tl);
    if (tl == NULL || mw_timeline_init(&tl->samples, interval) != 0) {
        free(tl);
        *why = "not enough memory";
        return NULL;
    }
    tl->alloc = a;
    clock_gettime(CLOCK_MONOTONIC, &tl->start);
    if (mw_alloc_add_observer(a, timeline_observe, tl) != 0) {
        mw_timeline_free(&tl->samples);
        free(tl);
        *why = "too many memory observers at once";
        return NULL;
    }
    tl->observing = 1;
    timeline_record(tl);     /* the figures at the start */
    return tl;
}

void mw_lua_timeline_stop(mw_lua_timeline *tl)
{
    if (!tl->observing)
        return;
    timeline_record(tl);     /* the figures at the end */
    mw_alloc_remove_observer(tl->alloc, timeline_observe, tl);
    mw_timeline_flush(&tl->samples);
    tl->samples.budget = (double)tl->alloc->budget;
    tl->observing = 0;
}

static int timeline_sink(void *ud, const char *text, size_t len)
{
    return fwrite(text, 1, len, ud) == len ? 0 : 1;
}

int mw_lua_timeline_write(mw_lua_timeline *tl, const char *title, const char *svg_path,
                          const char *csv_path, const char **bad)
{
    if (svg_path != NULL) {
        FILE *out = fopen(svg_path, "w");
        int failed = out == NULL ||
                     mw_timeline_write_svg(&tl->samples, title, timeline_sink, out) != 0;
        if (out != NULL && fclose(out) != 0)
            failed = 1;
        if (failed) {
            *bad = svg_path;
            return -1;
        }
    }
    if (csv_path != NULL) {
        FILE *out = fopen(csv_path, "w");
        int failed = out == NULL || mw_timeline_write_csv(&tl->samples, out) != 0;
        if (out != NULL && fclose(out) != 0)
            failed = 1;
        if (failed) {
            *bad = csv_path;
            return -1;
        }
    }
    return 0;
}

const mw_timeline *mw_lua_timeline_samples(const mw_lua_timeline *tl)
{
    return &tl->samples;
}

void mw_lua_timeline_free(mw_lua_timeline *tl)
{
    if (tl == NULL)
        return;
    mw_lua_timeline_stop(tl);
    mw_timeline_free(&tl->samples);
    free(tl);
}

/* ---- the Lua object ------------------------------------------------ */

typedef struct timeline_box {
    mw_lua_timeline *tl;     /* owned; NULL once freed */
} timeline_box;

static const char timeline_meta[] = "moonwatch.timeline";

static mw_lua_timeline *timeline_check(lua_State *L)
{
    timeline_box *box = luaL_checkudata(L, 1, timeline_meta);
    if (box->tl == NULL)
        luaL_error(L, "attempt to use a released timeline");
    return box->tl;
}

/* Reads the optional string field k of the table at idx (NULL if absent). */
static const char *timeline_field(lua_State *L, int idx, const char *k)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return NULL;
    lua_getfield(L, idx, k);
    if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
        luaL_error(L, "mw.mem.timeline: %s must be a string", k);
    const char *v = lua_tostring(L, -1);
    lua_pop(L, 1);   /* the string stays alive in the table */
    return v;
}

static void timeline_write_or_raise(lua_State *L, mw_lua_timeline *tl, int opts)
{
    const char *title = timeline_field(L, opts, "title");
    const char *bad = NULL;
    const char *svg = timeline_field(L, opts, "svg"), *csv = timeline_field(L, opts, "csv");
    if (svg != NULL)
        mw_lua_sandbox_writable(L, svg);
    if (csv != NULL)
        mw_lua_sandbox_writable(L, csv);
    if (mw_lua_timeline_write(tl, title != NULL ? title : "memory over time",
                              timeline_field(L, opts, "svg"), timeline_field(L, opts, "csv"),
                              &bad) != 0)
        luaL_error(L, "cannot write '%s'", bad);
}

/* tl:stop(): stops recording; writes the files named when it started. */
static int timeline_stop(lua_State *L)
{
    mw_lua_timeline *tl = timeline_check(L);
    int was_on = tl->observing;
    mw_lua_timeline_stop(tl);
    if (was_on) {
        lua_getiuservalue(L, 1, 1);
        timeline_write_or_raise(L, tl, lua_gettop(L));
    }
    lua_settop(L, 1);
    return 1;
}

/* tl:write{svg = path, csv = path, title = text}. */
static int timeline_write(lua_State *L)
{
    mw_lua_timeline *tl = timeline_check(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    mw_timeline_flush(&tl->samples);
    timeline_write_or_raise(L, tl, 2);
    return 0;
}

/* tl:samples(): {{t, lua, native, total, peak}, ...} (bytes, seconds). */
static int timeline_samples(lua_State *L)
{
    mw_lua_timeline *tl = timeline_check(L);
    const mw_timeline *s = &tl->samples;
    lua_createtable(L, (int)s->n, 0);
    for (size_t i = 0; i < s->n; i++) {
        lua_createtable(L, 0, 5);
        lua_pushnumber(L, s->samples[i].t);
        lua_setfield(L, -2, "t");
        static const char *const names[] = {"lua", "native", "total", "peak"};
        const double v[4] = {s->samples[i].lua, s->samples[i].native, s->samples[i].total,
                             s->samples[i].peak};
        for (int k = 0; k < 4; k++) {
            lua_pushinteger(L, (lua_Integer)v[k]);
            lua_setfield(L, -2, names[k]);
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int timeline_gc(lua_State *L)
{
    timeline_box *box = luaL_checkudata(L, 1, timeline_meta);
    mw_lua_timeline_free(box->tl);
    box->tl = NULL;
    return 0;
}

int mw_lua_mem_timeline(lua_State *L)
{
    double interval = 0.01;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_getfield(L, 1, "interval");
        if (!lua_isnil(L, -1)) {
            interval = luaL_checknumber(L, -1);
            luaL_argcheck(L, interval > 0.0 && interval < 1e9, 1,
                          "interval must be a positive number of seconds");
        }
        lua_pop(L, 1);
        timeline_field(L, 1, "svg");     /* type checks now, not at stop */
        timeline_field(L, 1, "csv");
        timeline_field(L, 1, "title");
    }
    void *ud = NULL;
    if (lua_getallocf(L, &ud) != mw_alloc_lua)
        return luaL_error(L, "mw.mem.timeline needs a Lua state on moonwatch's allocator "
                             "(as the moonwatch command makes)");
    timeline_box *box = lua_newuserdatauv(L, sizeof *box, 1);
    box->tl = NULL;
    if (luaL_newmetatable(L, timeline_meta)) {
        static const luaL_Reg methods[] = {
            {"stop", timeline_stop},
            {"write", timeline_write},
            {"samples", timeline_samples},
            {"release", timeline_gc},
            {NULL, NULL},
        };
        luaL_newlib(L, methods);
        lua_setfield(L, -2, "__index");
        lua_pushcfunction(L, timeline_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, timeline_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    if (lua_istable(L, 1)) {
        lua_pushvalue(L, 1);
        lua_setiuservalue(L, -2, 1);
    }
    const char *why = NULL;
    box->tl = mw_lua_timeline_begin(ud, interval, &why);
    if (box->tl == NULL)
        return luaL_error(L, "mw.mem.timeline: %s", why);
    return 1;
}
