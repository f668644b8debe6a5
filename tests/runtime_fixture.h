/*
 * runtime_fixture.h: the cmocka fixture of the tests that drive a
 * runtime through the public C API (test_api.c, test_embed.c): a fresh
 * mw_runtime with the defaults per test, freed afterwards.
 */
#ifndef MW_TEST_RUNTIME_FIXTURE_H
#define MW_TEST_RUNTIME_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "moonwatch.h"

static int rt_setup(void **state)
{
    mw_runtime *rt = mw_runtime_new(NULL);
    if (rt == NULL)
        return -1;
    *state = rt;
    return 0;
}

static int rt_teardown(void **state)
{
    mw_runtime_free(*state);
    return 0;
}

#endif /* MW_TEST_RUNTIME_FIXTURE_H */
