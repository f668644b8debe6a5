/*
 * moonwatch.c: luaopen_moonwatch, the module table that scripts see as
 * `mw`.
 *
 * It creates (or finds) the module state, registers the handle classes
 * and assembles the sub-tables. Opening the module twice in one Lua state
 * returns tables over the same heap.
 *
 * It is both the `mw` of the moonwatch command and a Lua C module that a
 * stock lua5.4 loads with require "moonwatch" (moonwatch.so); either way
 * the shipped pipelines come with it, built in (lua/embedded.h), as
 * package.preload["moonwatch.pipelines.<name>"], with moonwatch.pipeline
 * (lua/pipeline.lua) that loads and runs them.
 */
#include "moonwatch.h"

#include "lua/embedded.h"
#include "lua/handle.h"
#include "lua/l_gc.h"
#include "lua/l_csv.h"
#include "lua/l_detect.h"
#include "lua/l_scale.h"
#include "lua/l_fs.h"
#include "lua/l_nab.h"
#include "lua/l_parallel.h"
#include "lua/l_time.h"
#include "lua/l_iter.h"
#include "lua/l_jsonl.h"
#include "lua/l_synth.h"
#include "lua/l_list.h"
#include "lua/l_map.h"
#include "lua/l_frame.h"
#include "lua/l_series.h"
#include "lua/l_mem.h"
#include "lua/l_plot.h"
#include "lua/l_redis.h"
#include "lua/state.h"
#include "types/series.h"
#include "types/str.h"

/* mw.release(obj): releases a handle or a detector. */
static int mw_release(lua_State *L)
{
    if (mw_lua_is_detector(L, 1)) {
        mw_lua_release_detector(L, 1);
        return 0;
    }
    return mw_lua_release_fn(L);
}

/* mw.isreleased(obj): whether obj's handle was released. */
static int mw_isreleased(lua_State *L)
{
    if (mw_lua_is_detector(L, 1)) {
        lua_pushboolean(L, !mw_lua_is_live_detector(L, 1));
        return 1;
    }
    mw_handle *h = mw_lua_test_handle(L, 1);
    if (h == NULL)
        return luaL_typeerror(L, 1, "moonwatch object");
    lua_pushboolean(L, h->obj == NULL);
    return 1;
}

/* mw.type(v): "list", "map", ... for a moonwatch object, else nil. */
static int mw_typeof(lua_State *L)
{
    if (mw_lua_is_detector(L, 1)) {
        lua_pushliteral(L, "detector");
        return 1;
    }
    mw_handle *h = mw_lua_test_handle(L, 1);
    if (h == NULL) {
        lua_pushnil(L);
        return 1;
    }
    luaL_getmetafield(L, 1, "__name");
    const char *name = lua_tostring(L, -1);
    lua_pushstring(L, name != NULL ? name + sizeof("moonwatch.") - 1 : "?");
    return 1;
}

/* package.preload["moonwatch.pipelines.<name>"]: runs the built-in
 * pipeline file (upvalue 1, an mw_embedded) and returns its table. */
static int mw_load_pipeline(lua_State *L)
{
    const mw_embedded *e = lua_touserdata(L, lua_upvalueindex(1));
    lua_pushfstring(L, "=%s.lua", e->name);
    if (luaL_loadbufferx(L, e->text, e->len, lua_tostring(L, -1), "t") != LUA_OK)
        return lua_error(L);
    lua_call(L, 0, 1);
    return 1;
}

/* Registers a loader for each built-in pipeline ("pipelines/default"
 * becomes "moonwatch.pipelines.default"), leaving alone any the host has
 * already put in package.preload under that name. */
static void mw_preload_pipelines(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const mw_embedded *e = mw_lua_pipelines; e->name != NULL; e++) {
        luaL_gsub(L, e->name, "/", ".");
        const char *name = lua_pushfstring(L, "moonwatch.%s", lua_tostring(L, -1));
        if (lua_getfield(L, -3, name) == LUA_TNIL) {
            lua_pushlightuserdata(L, (void *)e);
            lua_pushcclosure(L, mw_load_pipeline, 1);
            lua_setfield(L, -5, name);
        }
        lua_pop(L, 3);
    }
    lua_pop(L, 1);
}

int luaopen_moonwatch(lua_State *L)
{
    mw_lua_state *st = mw_lua_state_open(L);
    /* Types without a handle class of their own are listed from the start
     * too, so mw.mem.stats().objects has them before their first object. */
    mw_heap_type_stats(st->heap, &mw_str_type);
    mw_heap_type_stats(st->heap, &mw_buffer_type);
    lua_createtable(L, 0, 13);

    /* The sub-tables: each opener pushes one. */
    static const struct {
        const char *name;
        void (*open)(lua_State *, mw_lua_state *);
    } parts[] = {
        {"list", mw_lua_open_list},
        {"map", mw_lua_open_map},
        {"series", mw_lua_open_series},
        {"frame", mw_lua_open_frame},
        {"ring", mw_lua_open_ring},
        {"gc", mw_lua_open_gc},
        {"mem", mw_lua_open_mem},
        {"detect", mw_lua_open_detect},
        {"thresh", mw_lua_open_thresh},
        {"scale", mw_lua_open_scale},
        {"time", mw_lua_open_time},
        {"nab", mw_lua_open_nab},
        {"fs", mw_lua_open_fs},
        {"plot", mw_lua_open_plot},
        {"parallel", mw_lua_open_parallel},
        {"redis", mw_lua_open_redis},
    };
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        parts[i].open(L, st);
        lua_setfield(L, -2, parts[i].name);
    }

    static const luaL_Reg funcs[] = {
        {"release", mw_release},
        {"isreleased", mw_isreleased},
        {"type", mw_typeof},
        {NULL, NULL}
    };
    mw_lua_setfuncs(L, st, funcs);
    mw_lua_open_iter(L, st);
    mw_lua_open_synth(L, st);
    mw_lua_open_csv(L, st);
    mw_lua_open_jsonl(L, st);
    lua_pushliteral(L, MW_VERSION);
    lua_setfield(L, -2, "version");
    mw_preload_pipelines(L);
    return 1;
}
