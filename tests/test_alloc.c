/*
 * test_alloc.c: the accounting allocator: exact figures, peaks, budget,
 * fault injection, and its behaviour as a lua_Alloc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/alloc.h"

static void test_figures_are_exact(void **state)
{
    (void)state;
    mw_alloc a;
    mw_alloc_init(&a);
    void *p = mw_alloc_malloc(&a, MW_DOMAIN_NATIVE, 100);
    void *q = mw_alloc_malloc(&a, MW_DOMAIN_LUA, 28);
    assert_non_null(p);
    assert_non_null(q);
    assert_int_equal(a.current, 128);
    assert_int_equal(a.domain_bytes[MW_DOMAIN_NATIVE], 100);
    assert_int_equal(a.domain_bytes[MW_DOMAIN_LUA], 28);
    p = mw_alloc_realloc(&a, MW_DOMAIN_NATIVE, p, 100, 1000);
    assert_non_null(p);
    assert_int_equal(a.current, 1028);
    p = mw_alloc_realloc(&a, MW_DOMAIN_NATIVE, p, 1000, 10);
    assert_int_equal(a.current, 38);
    assert_int_equal(a.peak, 1028);
    assert_int_equal(a.domain_peak[MW_DOMAIN_NATIVE], 1000);
    mw_alloc_free(&a, MW_DOMAIN_NATIVE, p, 10);
    mw_alloc_free(&a, MW_DOMAIN_LUA, q, 28);
    assert_int_equal(a.current, 0);
    assert_int_equal(a.domain_bytes[MW_DOMAIN_NATIVE], 0);
    mw_alloc_reset_peak(&a);
    assert_int_equal(a.peak, 0);
    /* Two mallocs and one growth were admitted; shrinking is not counted. */
    assert_int_equal(a.n_allocs, 3);
}

static void test_budget_refuses_growth_only(void **state)
{
    (void)state;
    mw_alloc a;
    mw_alloc_init(&a);
    void *p = mw_alloc_malloc(&a, MW_DOMAIN_NATIVE, 600);
    assert_int_equal(mw_alloc_set_budget(&a, 500), MW_EINVAL);
    assert_int_equal(a.budget, 0);
    assert_int_equal(mw_alloc_set_budget(&a, 1000), MW_OK);
    assert_null(mw_alloc_malloc(&a, MW_DOMAIN_NATIVE, 401));
    assert_int_equal(a.last_error, MW_EBUDGET);
    assert_int_equal(a.last_refused, 401);
    assert_int_equal(a.n_failed, 1);
    assert_int_equal(a.current, 600);
    /* A failed realloc leaves the block and the figures as they were; the
     * request refused is the growth. */
    assert_null(mw_alloc_realloc(&a, MW_DOMAIN_NATIVE, p, 600, 1001));
    assert_int_equal(a.last_refused, 401);
    assert_int_equal(a.current, 600);
    void *q = mw_alloc_malloc(&a, MW_DOMAIN_NATIVE, 400);
    assert_non_null(q);
    assert_int_equal(a.current, 1000);
    /* Shrinking is always allowed, even at the limit. */
    p = mw_alloc_realloc(&a, MW_DOMAIN_NATIVE, p, 600, 100);
    assert_non_null(p);
    assert_int_equal(a.current, 500);
    mw_alloc_free(&a, MW_DOMAIN_NATIVE, p, 100);
    mw_alloc_free(&a, MW_DOMAIN_NATIVE, q, 400);
    assert_int_equal(a.current, 0);
    assert_int_equal(a.n_frees, 2);
    mw_alloc_free(&a, MW_DOMAIN_NATIVE, NULL, 0);   /* nothing: not counted */
    assert_int_equal(a.n_frees, 2);
}

static void test_fail_nth(void **state)
{
    (void)state;
    mw_alloc a;
    mw_alloc_init(&a);
    mw_alloc_fail_nth(&a, 3, 0);
    void *p1 = mw_alloc_malloc(&a, MW_DOMAIN_NATIVE, 8);
    void *p2 = mw_alloc_malloc(&a, MW_DOMAIN_NATIVE, 8);
    void *p3 = mw_alloc_malloc(&a, MW_DOMAIN_NATIVE, 8);
    void *p4 = mw_alloc_malloc(&a, MW_DOMAIN_NATIVE, 8);
    assert_non_null(p1);
    assert_non_null(p2);
    assert_null(p3);
    assert_int_equal(a.last_error, MW_ENOMEM);
    assert_non_null(p4);   /* one-shot: later requests succeed */
    mw_alloc_fail_nth(&a, 1, 1);
    assert_null(mw_alloc_malloc(&a, MW_DOMAIN_NATIVE, 8));
    assert_null(mw_alloc_malloc(&a, MW_DOMAIN_NATIVE, 8));   /* sticky */
    mw_alloc_fail_nth(&a, 0, 0);
    void *p5 = mw_alloc_malloc(&a, MW_DOMAIN_NATIVE, 8);
    assert_non_null(p5);
    mw_alloc_free(&a, MW_DOMAIN_NATIVE, p1, 8);
    mw_alloc_free(&a, MW_DOMAIN_NATIVE, p2, 8);
    mw_alloc_free(&a, MW_DOMAIN_NATIVE, p4, 8);
    mw_alloc_free(&a, MW_DOMAIN_NATIVE, p5, 8);
    assert_int_equal(a.current, 0);
}

/* Lua's whole heap goes through the allocator and comes back to zero. */
static void test_lua_state_accounted(void **state)
{
    (void)state;
    mw_alloc a;
    mw_alloc_init(&a);
    lua_State *L = lua_newstate(mw_alloc_lua, &a);
    assert_non_null(L);
    luaL_openlibs(L);
    size_t after_open = a.domain_bytes[MW_DOMAIN_LUA];
    assert_true(after_open > 10000);
    assert_int_equal(a.domain_bytes[MW_DOMAIN_NATIVE], 0);
    /* Lua's own count agrees with ours to the byte. */
    size_t lua_count = (size_t)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + (size_t)lua_gc(L, LUA_GCCOUNTB, 0);
    assert_int_equal(lua_count, a.domain_bytes[MW_DOMAIN_LUA]);
    assert_int_equal(luaL_dostring(L, "t = {} for i = 1, 100000 do t[i] = i end"), LUA_OK);
    assert_true(a.domain_bytes[MW_DOMAIN_LUA] > after_open + 100000 * 8);
    lua_close(L);
    assert_int_equal(a.current, 0);
}

/* Over budget, Lua raises its memory error and stays usable. */
static void test_lua_budget_error_is_catchable(void **state)
{
    (void)state;
    mw_alloc a;
    mw_alloc_init(&a);
    lua_State *L = lua_newstate(mw_alloc_lua, &a);
    luaL_openlibs(L);
    assert_int_equal(mw_alloc_set_budget(&a, a.current + 200000), MW_OK);
    int rc = luaL_dostring(L,
        "local ok, err = pcall(function() local t = {} for i = 1, 1e7 do t[i] = i end end)\n"
        "assert(not ok and err == 'not enough memory', tostring(err))\n"
        "collectgarbage()\n"
        "x = string.rep('a', 1000)\n");
    if (rc != LUA_OK)
        fail_msg("%s", lua_tostring(L, -1));
    assert_true(a.n_failed > 0);
    assert_true(a.current <= a.budget);
    lua_close(L);
    assert_int_equal(a.current, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures_are_exact),
        cmocka_unit_test(test_budget_refuses_growth_only),
        cmocka_unit_test(test_fail_nth),
        cmocka_unit_test(test_lua_state_accounted),
        cmocka_unit_test(test_lua_budget_error_is_catchable),
    };
    return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
