/*
 * test_api.c: the C API of moonwatch.h for hosts: the runtime (scripts,
 * calls, errors with tracebacks, the memory budget, the instruction
 * limit, print, memory figures) and the detectors without Lua (run ==
 * update, parameter errors, save/load continuation, bad state refused).
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <lua.h>

#include "core/alloc.h"
#include "moonwatch.h"
#include "runtime_fixture.h"

/* {====================================================================
 * The runtime
 * ===================================================================== */

typedef struct printed {
    char text[256];
    size_t len;
    int calls;
} printed;

static void record_print(void *ud, const char *text, size_t len)
{
    printed *p = ud;
    if (p->len + len < sizeof p->text) {
        memcpy(p->text + p->len, text, len);
        p->len += len;
        p->text[p->len] = '\0';
    }
    p->calls++;
}

static void test_runtime_call_detector(void **state)
{
    mw_runtime *rt = *state;
    assert_int_equal(mw_runtime_load_string(rt,
        "local d = mw.detect.zscore{window = 10}\n"
        "function score(x) return d:update(x) end\n"
        "function add(a, b, c) return a + b + c end\n", "=setup"), MW_OK);
    assert_string_equal(mw_runtime_error(rt), "");
    double result = -1.0;
    double args[3] = {1.0, 2.0, 4.5};
    assert_int_equal(mw_runtime_call(rt, "add", args, 3, &result), MW_OK);
    assert_true(result == 7.5);
    /* the same scores as a detector made from C */
    mw_det *h = mw_det_new("zscore", "window=10", NULL, 0);
    assert_non_null(h);
    for (int i = 0; i < 50; i++) {
        double x = sin(i * 0.7) * 3.0 + (i == 40 ? 20.0 : 0.0);
        double from_lua = -1.0;
        assert_int_equal(mw_runtime_call(rt, "score", &x, 1, &from_lua), MW_OK);
        double from_c = mw_det_update(h, x);
        assert_memory_equal(&from_lua, &from_c, sizeof from_c); /* NaN too */
    }
    mw_det_free(h);
}

static void test_runtime_call_errors(void **state)
{
    mw_runtime *rt = *state;
    double result = 42.0;
    assert_int_equal(mw_runtime_call(rt, "no_such_function", NULL, 0, &result), MW_ETYPE);
    assert_non_null(strstr(mw_runtime_error(rt), "'no_such_function' is not a function"));
    assert_int_equal(mw_runtime_load_string(rt, "function str() return 'x' end", NULL), MW_OK);
    assert_int_equal(mw_runtime_call(rt, "str", NULL, 0, &result), MW_ETYPE);
    assert_non_null(strstr(mw_runtime_error(rt), "returned a string value, not a number"));
    assert_true(result == 42.0); /* untouched */
    assert_int_equal(mw_runtime_call(rt, "str", NULL, 1, &result), MW_EINVAL);
    assert_int_equal(mw_runtime_load_string(NULL, "x = 1", NULL), MW_EINVAL);
}

static void test_runtime_script_error(void **state)
{
    mw_runtime *rt = *state;
    assert_int_equal(mw_runtime_load_string(rt,
        "function inner() error('boom in inner') end\n"
        "function outer(x) inner() return x end\n", "=errs"), MW_OK);
    double x = 1.0, result = 5.0;
    assert_int_equal(mw_runtime_call(rt, "outer", &x, 1, &result), MW_ESCRIPT);
    const char *msg = mw_runtime_error(rt);
    assert_non_null(strstr(msg, "errs:1: boom in inner"));
    assert_non_null(strstr(msg, "stack traceback"));
    assert_non_null(strstr(msg, "in function 'inner'"));
    assert_true(result == 5.0);
    /* syntax errors, and a missing file */
    assert_int_equal(mw_runtime_load_string(rt, "local = 1", "=bad"), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "bad:1:"));
    assert_int_equal(mw_runtime_load_file(rt, "/nonexistent/x.lua"), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "cannot open"));
    /* a success clears the error */
    assert_int_equal(mw_runtime_call(rt, "outer", NULL, 0, NULL), MW_ESCRIPT);
    assert_int_equal(mw_runtime_load_string(rt, "y = 2", NULL), MW_OK);
    assert_string_equal(mw_runtime_error(rt), "");
    assert_string_equal(mw_strerror(MW_ESCRIPT), "script error");
}

static void test_runtime_budget(void **state)
{
    (void)state;
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    cfg.max_memory = 8u << 20;
    mw_runtime *rt = mw_runtime_new(&cfg);
    assert_non_null(rt);
    mw_memory mem;
    assert_int_equal(mw_runtime_memory(rt, &mem), MW_OK);
    assert_int_equal(mem.budget, 8u << 20);
    /* Lua's own allocation refused */
    assert_int_equal(mw_runtime_load_string(rt, "s = string.rep('x', 64 << 20)", NULL),
                     MW_EBUDGET);
    assert_non_null(strstr(mw_runtime_error(rt), "memory limit exceeded"));
    /* a table grown until refused */
    assert_int_equal(mw_runtime_load_string(rt, "t = {} for i = 1, 1e9 do t[i] = i end",
                                            NULL), MW_EBUDGET);
    /* the native heap refused: a script error naming the limit */
    int status = mw_runtime_load_string(rt, "l = mw.list() for i = 1, 1e9 do l:append(i) end",
                                        NULL);
    assert_true(status == MW_ESCRIPT || status == MW_EBUDGET);
    assert_non_null(strstr(mw_runtime_error(rt), "memory limit exceeded"));
    /* still usable once the garbage is gone */
    assert_int_equal(mw_runtime_load_string(rt, "t = nil l = nil collectgarbage()", NULL),
                     MW_OK);
    assert_int_equal(mw_runtime_load_string(rt,
        "function f(x) local d = mw.detect.ewma{} return d:update(x) + 1 end", NULL), MW_OK);
    double x = 3.0, result = 0.0;
    assert_int_equal(mw_runtime_call(rt, "f", &x, 1, &result), MW_OK);
    assert_int_equal(mw_runtime_memory(rt, &mem), MW_OK);
    assert_true(mem.total <= mem.budget);
    assert_true(mem.peak <= mem.budget);
    mw_runtime_free(rt);

    /* a budget below what the libraries take refuses the runtime */
    cfg.max_memory = 1024;
    assert_null(mw_runtime_new(&cfg));
}

static void test_runtime_instruction_limit(void **state)
{
    (void)state;
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    cfg.max_instructions = 1000000;
    mw_runtime *rt = mw_runtime_new(&cfg);
    assert_non_null(rt);
    assert_int_equal(mw_runtime_load_string(rt, "while true do end", "=spin"), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "instruction limit exceeded"));
    assert_non_null(strstr(mw_runtime_error(rt), "stack traceback"));
    /* the limit is per call: many short calls pass, each under it */
    assert_int_equal(mw_runtime_load_string(rt,
        "function work(n) local s = 0 for i = 1, n do s = s + i end return s end\n"
        "function spin() while true do end end", NULL), MW_OK);
    double n = 1000.0, result = 0.0;
    for (int i = 0; i < 2000; i++)
        assert_int_equal(mw_runtime_call(rt, "work", &n, 1, &result), MW_OK);
    assert_true(result == 500500.0);
    assert_int_equal(mw_runtime_call(rt, "spin", NULL, 0, NULL), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "instruction limit exceeded"));
    /* a loop in a coroutine is stopped too */
    assert_int_equal(mw_runtime_load_string(rt,
        "coroutine.wrap(function() while true do end end)()", NULL), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "instruction limit exceeded"));
    assert_int_equal(mw_runtime_call(rt, "work", &n, 1, &result), MW_OK);
    mw_runtime_free(rt);
}

static void test_runtime_print(void **state)
{
    (void)state;
    printed out = {{0}, 0, 0};
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    cfg.print = record_print;
    cfg.print_ud = &out;
    mw_runtime *rt = mw_runtime_new(&cfg);
    assert_non_null(rt);
    assert_int_equal(mw_runtime_load_string(rt, "print('hello', 42, nil, true) print()", NULL),
                     MW_OK);
    assert_int_equal(out.calls, 2);
    assert_string_equal(out.text, "hello\t42\tnil\ttrue\n\n");
    mw_runtime_free(rt);
}

static void test_runtime_memory(void **state)
{
    mw_runtime *rt = *state;
    mw_memory before, after;
    assert_int_equal(mw_runtime_memory(rt, &before), MW_OK);
    assert_true(before.lua > 0);
    assert_int_equal(before.total, before.lua + before.native);
    assert_true(before.peak >= before.total);
    assert_int_equal(before.budget, 0);
    assert_int_equal(mw_runtime_load_string(rt, "big = mw.list() for i = 1, 100000 do "
                                                "big:append(i) end", NULL), MW_OK);
    assert_int_equal(mw_runtime_memory(rt, &after), MW_OK);
    assert_true(after.native >= before.native + 100000 * 8);
    assert_int_equal(after.total, after.lua + after.native);
    assert_true(after.peak >= after.total);
    assert_int_equal(mw_runtime_memory(rt, NULL), MW_EINVAL);
    assert_non_null(mw_runtime_lua(rt));
}

/* Every allocation of a script and a call failing in turn (the n-th, for
 * each n until one run meets no failure), alone (Lua then collects and
 * retries its own, so the native heap's fail) and with every one after
 * it (sticky: Lua's fail too): each gives MW_OK or an error
 * status with a message, never a crash or a leak, and the runtime keeps
 * working afterwards. The runtime's mw_alloc is reached through its Lua
 * state's allocator, an internal detail the public API does not give. */
static void test_runtime_allocation_failures(void **state)
{
    mw_runtime *rt = *state;
    void *ud = NULL;
    lua_getallocf(mw_runtime_lua(rt), &ud);
    mw_alloc *alloc = ud;
    const char *script =
        "local d = mw.detect.zscore{window = 20}\n"
        "local s = mw.series{1, 2, 3, 4, 5, 6, 7, 8}\n"
        "function f(x) local scores = d:run(s) scores:release() return d:update(x) end\n";
    int n_failures = 0, n_nomem = 0;
    for (int sticky = 0; sticky <= 1; sticky++)
    for (uint64_t n = 1;; n++) {
        uint64_t failed_before = alloc->n_failed;
        mw_alloc_fail_nth(alloc, n, sticky);
        int status = mw_runtime_load_string(rt, script, "=sweep");
        if (status == MW_OK) {
            double x = 3.0, result;
            status = mw_runtime_call(rt, "f", &x, 1, &result);
        }
        mw_alloc_fail_nth(alloc, 0, 0);
        if (status != MW_OK) {
            assert_true(status == MW_ENOMEM || status == MW_ESCRIPT);
            assert_true(strlen(mw_runtime_error(rt)) > 0);
            n_failures++;
            n_nomem += status == MW_ENOMEM;
        }
        /* still usable */
        assert_int_equal(mw_runtime_load_string(rt, "function g(a) return a * 2 end", NULL),
                         MW_OK);
        double two = 2.0, four = 0.0;
        assert_int_equal(mw_runtime_call(rt, "g", &two, 1, &four), MW_OK);
        assert_true(four == 4.0);
        if (alloc->n_failed == failed_before)
            break;    /* the n-th request was never made: all covered */
        assert_true(n < 100000);
    }
    assert_true(n_failures > 50);
    assert_true(n_nomem > 10);
}

/* Runtimes and detectors on four threads at once, each its own: every
 * thread gets the scores of a single-threaded run (the thread rules of
 * moonwatch.h; the sanitizer build runs this too). */
#define N_THREADS 4
#define N_THREAD_VALUES 2000

typedef struct thread_job {
    double lua_sum, c_sum;
    int ok;
} thread_job;

static void *thread_work(void *arg)
{
    thread_job *job = arg;
    job->ok = 0;
    mw_runtime *rt = mw_runtime_new(NULL);
    mw_det *h = mw_det_new("ewma", NULL, NULL, 0);
    if (rt == NULL || h == NULL ||
        mw_runtime_load_string(rt, "local d = mw.detect.ewma{}\n"
                                   "function f(x) return d:update(x) end", NULL) != MW_OK)
        goto done;
    job->lua_sum = job->c_sum = 0.0;
    for (int i = 0; i < N_THREAD_VALUES; i++) {
        double x = sin(i * 0.1) + (i % 500 == 499 ? 5.0 : 0.0), score;
        if (mw_runtime_call(rt, "f", &x, 1, &score) != MW_OK)
            goto done;
        if (!isnan(score))
            job->lua_sum += score;
        score = mw_det_update(h, x);
        if (!isnan(score))
            job->c_sum += score;
    }
    job->ok = 1;
done:
    mw_det_free(h);
    mw_runtime_free(rt);
    return NULL;
}

static void test_runtime_threads(void **state)
{
    (void)state;
    thread_job alone, jobs[N_THREADS];
    pthread_t threads[N_THREADS];
    thread_work(&alone);
    assert_true(alone.ok);
    assert_true(alone.lua_sum == alone.c_sum);
    for (int i = 0; i < N_THREADS; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, thread_work, &jobs[i]), 0);
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(threads[i], NULL), 0);
        assert_true(jobs[i].ok);
        assert_true(jobs[i].lua_sum == alone.lua_sum);
        assert_true(jobs[i].c_sum == alone.c_sum);
    }
}

/* }==================================================================== */

/* {====================================================================
 * Detectors without Lua
 * ===================================================================== */

#define N_VALUES 500

static void fill(double *x, size_t n)
{
    uint64_t s = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        x[i] = 10.0 + (double)(s % 1000) / 100.0 + (i % 97 == 0 ? 40.0 : 0.0);
    }
    x[17] = NAN;
}

static void test_det_run_equals_update(void **state)
{
    (void)state;
    double x[N_VALUES], by_run[N_VALUES], by_update[N_VALUES];
    fill(x, N_VALUES);
    const char *kinds[] = {"zscore", "ewma", "mad", "hst", "thresh.likelihood"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        mw_det *a = mw_det_new(kinds[k], NULL, NULL, 0);
        mw_det *b = mw_det_new(kinds[k], "", NULL, 0);
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(mw_det_kind(a), kinds[k]);
        mw_det_run(a, x, N_VALUES, by_run);
        for (size_t i = 0; i < N_VALUES; i++)
            by_update[i] = mw_det_update(b, x[i]);
        assert_memory_equal(by_run, by_update, sizeof by_run);
        assert_true(isnan(by_run[17]));
        mw_det_free(a);
        mw_det_free(b);
    }
}

static void test_det_params(void **state)
{
    (void)state;
    char err[256];
    mw_det *h = mw_det_new("zscore", " window = 50 , side=up ", err, sizeof err);
    assert_non_null(h);
    /* side=up: a value far below scores 0 */
    for (int i = 0; i < 60; i++)
        mw_det_update(h, 10.0 + (i % 3));
    assert_true(mw_det_score(h, -1000.0) == 0.0);
    assert_true(mw_det_score(h, 1000.0) > 10.0);
    mw_det_free(h);

    assert_null(mw_det_new("zscore", "window=1.5", err, sizeof err));
    assert_non_null(strstr(err, "window must be an integer"));
    assert_null(mw_det_new("zscore", "window=abc", err, sizeof err));
    assert_non_null(strstr(err, "window must be a number (got 'abc')"));
    assert_null(mw_det_new("zscore", "side=sideways", err, sizeof err));
    assert_non_null(strstr(err, "side must be one of"));
    assert_null(mw_det_new("zscore", "widow=10", err, sizeof err));
    assert_non_null(strstr(err, "unknown parameter 'widow'"));
    assert_non_null(strstr(err, "window"));
    assert_null(mw_det_new("zscore", "window", err, sizeof err));
    assert_non_null(strstr(err, "parameter 'window' has no value"));
    assert_null(mw_det_new("nope", NULL, err, sizeof err));
    assert_string_equal(err, "unknown detector 'nope'");
    assert_null(mw_det_new("chain", NULL, err, sizeof err));
    /* a short err buffer is cut, NUL-terminated; NULL is allowed */
    char small[8];
    assert_null(mw_det_new("zscore", "window=-1", small, sizeof small));
    assert_int_equal(strlen(small), 7);
    assert_null(mw_det_new("zscore", "window=-1", NULL, 0));
}

static void test_det_save_load(void **state)
{
    (void)state;
    double x[N_VALUES];
    fill(x, N_VALUES);
    const char *kinds[] = {"zscore", "ewma", "hst", "quantile"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        mw_det *a = mw_det_new(kinds[k], NULL, NULL, 0);
        assert_non_null(a);
        for (size_t i = 0; i < N_VALUES / 2; i++)
            mw_det_update(a, x[i]);
        void *data = NULL;
        size_t len = 0;
        assert_int_equal(mw_det_save(a, &data, &len), MW_OK);
        assert_true(len > 4);
        assert_memory_equal(data, "MWDS", 4);
        char err[256];
        mw_det *b = mw_det_load(data, len, err, sizeof err);
        assert_non_null(b);
        assert_string_equal(mw_det_kind(b), kinds[k]);
        for (size_t i = N_VALUES / 2; i < N_VALUES; i++) {
            double sa = mw_det_update(a, x[i]), sb = mw_det_update(b, x[i]);
            assert_memory_equal(&sa, &sb, sizeof sa);
        }
        /* bad state: truncated, corrupted, empty, NULL */
        assert_null(mw_det_load(data, len - 1, err, sizeof err));
        assert_true(strlen(err) > 0);
        unsigned char *bytes = data;
        bytes[len / 2] ^= 0x40;
        assert_null(mw_det_load(data, len, err, sizeof err));
        assert_non_null(strstr(err, "checksum mismatch"));
        assert_null(mw_det_load(data, 0, err, sizeof err));
        assert_null(mw_det_load(NULL, 10, err, sizeof err));
        free(data);
        mw_det_free(a);
        mw_det_free(b);
    }
    assert_int_equal(mw_det_save(NULL, NULL, NULL), MW_EINVAL);
    mw_det_free(NULL);
}

/* }==================================================================== */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_runtime_call_detector, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_runtime_call_errors, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_runtime_script_error, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_runtime_memory, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_runtime_allocation_failures, rt_setup,
                                        rt_teardown),
        cmocka_unit_test(test_runtime_budget),
        cmocka_unit_test(test_runtime_instruction_limit),
        cmocka_unit_test(test_runtime_print),
        cmocka_unit_test(test_runtime_threads),
        cmocka_unit_test(test_det_run_equals_update),
        cmocka_unit_test(test_det_params),
        cmocka_unit_test(test_det_save_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
