/*
 * alloc_fixture.h: the cmocka fixture of the tests that need only an
 * allocator (detectors, rows, neighbours): a fresh mw_alloc per test, and
 * a teardown that fails the test unless every byte went back.
 */
#ifndef MW_TEST_ALLOC_FIXTURE_H
#define MW_TEST_ALLOC_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/alloc.h"

static int alloc_setup(void **state)
{
    mw_alloc *a = calloc(1, sizeof *a);
    if (a == NULL)
        return -1;
    mw_alloc_init(a);
    *state = a;
    return 0;
}

static int alloc_teardown(void **state)
{
    mw_alloc *a = *state;
    size_t left = a->current;
    free(a);
    assert_int_equal(left, 0);
    return 0;
}

#endif /* MW_TEST_ALLOC_FIXTURE_H */
