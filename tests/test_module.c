/*
 * test_module.c: the moonwatch module in a Lua state the host made with
 * luaL_newstate (as a stock lua5.4 does with require "moonwatch"): it
 * works, and a host finalizer that runs after the module's own at
 * lua_close gets a clear error, never freed memory. The shipped
 * pipelines come with the module, without overriding a host's own loader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "moonwatch.h"

typedef struct warnings {
    char text[512];
    size_t len;
} warnings;

static void record_warning(void *ud, const char *msg, int tocont)
{
    warnings *w = ud;
    (void)tocont;
    if (msg[0] == '@')
        return;   /* a control message, as "@on" */
    size_t n = strlen(msg);
    if (w->len + n < sizeof w->text) {
        memcpy(w->text + w->len, msg, n + 1);
        w->len += n;
    }
}

static lua_State *new_host_state(warnings *w)
{
    lua_State *L = luaL_newstate();
    assert_non_null(L);
    luaL_openlibs(L);
    lua_setwarnf(L, record_warning, w);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_moonwatch);
    lua_setfield(L, -2, "moonwatch");
    lua_pop(L, 1);
    return L;
}

static void run(lua_State *L, const char *code)
{
    if (luaL_dostring(L, code) != LUA_OK)
        fail_msg("%s", lua_tostring(L, -1));
}

static void test_require_in_stock_state(void **state)
{
    (void)state;
    warnings w = {{0}, 0};
    lua_State *L = new_host_state(&w);
    run(L,
        "local mw = require 'moonwatch'\n"
        "assert(require 'moonwatch' == mw)\n"
        "local l = mw.list{1, 2, mw.map{a = 1}}\n"
        "assert(#l == 3 and l[3].a == 1)\n"
        "local s = mw.mem.stats()\n"
        "assert(s.lua > 0 and s.native > 0 and s.lua_peak == nil)\n"
        "local a, b = mw.list(), mw.list(); a:append(b); b:append(a)\n"
        "a:release(); b:release()\n"
        "assert(mw.gc.collect() == 2)\n");
    lua_close(L);
    assert_int_equal(w.len, 0);
}

static void test_use_after_module_closed(void **state)
{
    (void)state;
    warnings w = {{0}, 0};
    lua_State *L = new_host_state(&w);
    /* This finalizer is older than the module state, so lua_close runs it
     * after the module's heap is gone. */
    run(L,
        "KEEP = setmetatable({}, {__gc = function()\n"
        "  local l = MW.list{1}\n"
        "end})\n"
        "MW = require 'moonwatch'\n"
        "HELD = MW.list{1, 2}\n");
    lua_close(L);
    assert_non_null(strstr(w.text, "the Lua state is closing"));
}

static void test_pipelines_preloaded(void **state)
{
    (void)state;
    warnings w = {{0}, 0};
    lua_State *L = new_host_state(&w);
    run(L,
        "package.preload['moonwatch.pipelines.gaussian'] = function() return 'host' end\n"
        "local mw = require 'moonwatch'\n"
        "assert(require 'moonwatch.pipelines.gaussian' == 'host')\n"
        "local d = require 'moonwatch.pipelines.default'\n"
        "assert(d.name == 'default' and type(d.new) == 'function')\n"
        "local p = d.new(d.params)\n"
        "local scores = p:run(mw.series{1, 2, 3})\n"
        "assert(mw.type(scores) == 'series' and #scores == 3)\n"
        "p:release()\n");
    lua_close(L);
    assert_int_equal(w.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_require_in_stock_state),
        cmocka_unit_test(test_use_after_module_closed),
        cmocka_unit_test(test_pipelines_preloaded),
    };
    return cmocka_run_group_tests_name("module", tests, NULL, NULL);
}
