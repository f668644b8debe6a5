/*
 * test_embed.c: what a host does with a runtime beyond loading scripts
 * (test_api.c has those): calls with strings and series, the time limit
 * and limits a script cannot catch, the host's allocator, the memory
 * profiler, and samples pushed into pipelines with anomalies by callback
 * and by polling.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <lua.h>

#include "core/alloc.h"
#include "moonwatch.h"
#include "runtime_fixture.h"

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* {====================================================================
 * mw_runtime_callv
 * ===================================================================== */

static void test_callv_types(void **state)
{
    mw_runtime *rt = *state;
    assert_int_equal(mw_runtime_load_string(rt,
        "function describe(name, s, flag)\n"
        "  return string.format('%s: %d values, mean %.2f', name, #s, s:mean()), s * 2, not flag\n"
        "end\n"
        "function list() return {1, 2.5, 3} end\n"
        "function nothing() end\n"
        "function text() return 'a\\0b' end\n", NULL), MW_OK);
    const double x[4] = {1.0, 2.0, 3.0, 6.0};
    mw_val args[3] = {mw_val_string("cpu", 3), mw_val_series(x, 4),
                      {MW_VBOOLEAN, 0.0, NULL, NULL, 0}};
    mw_val out[4];
    assert_int_equal(mw_runtime_callv(rt, "describe", args, 3, out, 4), MW_OK);
    assert_int_equal(out[0].type, MW_VSTRING);
    assert_string_equal(out[0].string, "cpu: 4 values, mean 3.00");
    assert_int_equal(out[0].len, strlen("cpu: 4 values, mean 3.00"));
    assert_int_equal(out[1].type, MW_VSERIES);
    assert_int_equal(out[1].len, 4);
    for (int i = 0; i < 4; i++)
        assert_true(out[1].values[i] == 2.0 * x[i]);
    assert_int_equal(out[2].type, MW_VBOOLEAN);
    assert_true(out[2].number == 1.0);
    assert_int_equal(out[3].type, MW_VNIL);     /* fewer results than asked */

    /* a list of numbers comes back as a series */
    assert_int_equal(mw_runtime_callv(rt, "list", NULL, 0, out, 1), MW_OK);
    assert_int_equal(out[0].type, MW_VSERIES);
    assert_int_equal(out[0].len, 3);
    assert_true(out[0].values[1] == 2.5);
    assert_int_equal(mw_runtime_callv(rt, "nothing", NULL, 0, out, 1), MW_OK);
    assert_int_equal(out[0].type, MW_VNIL);
    /* strings keep embedded zeros */
    assert_int_equal(mw_runtime_callv(rt, "text", NULL, 0, out, 1), MW_OK);
    assert_int_equal(out[0].len, 3);
    assert_memory_equal(out[0].string, "a\0b", 3);
    /* no results wanted */
    assert_int_equal(mw_runtime_callv(rt, "text", NULL, 0, NULL, 0), MW_OK);
}

static void test_callv_errors(void **state)
{
    mw_runtime *rt = *state;
    assert_int_equal(mw_runtime_load_string(rt,
        "function fn() return print end\n"
        "function map() return {a = 1} end\n"
        "function words() return {'a', 'b'} end\n"
        "function echo(x) return x end\n", NULL), MW_OK);
    mw_val out[1];
    assert_int_equal(mw_runtime_callv(rt, "fn", NULL, 0, out, 1), MW_ETYPE);
    assert_non_null(strstr(mw_runtime_error(rt), "'fn' returned a function value as result 1"));
    assert_int_equal(out[0].type, MW_VNIL);
    assert_int_equal(mw_runtime_callv(rt, "words", NULL, 0, out, 1), MW_ETYPE);
    assert_non_null(strstr(mw_runtime_error(rt), "'words' returned a table as result 1"));
    assert_int_equal(mw_runtime_callv(rt, "missing", NULL, 0, out, 1), MW_ETYPE);
    assert_non_null(strstr(mw_runtime_error(rt), "'missing' is not a function"));
    /* an argument of no known type, or with NULL data */
    mw_val bad = {(mw_val_type)42, 0.0, NULL, NULL, 0};
    assert_int_equal(mw_runtime_callv(rt, "echo", &bad, 1, out, 1), MW_EINVAL);
    assert_non_null(strstr(mw_runtime_error(rt), "argument 1"));
    mw_val nulls = mw_val_series(NULL, 3);
    assert_int_equal(mw_runtime_callv(rt, "echo", &nulls, 1, out, 1), MW_EINVAL);
    assert_int_equal(mw_runtime_callv(rt, "echo", NULL, 1, out, 1), MW_EINVAL);
    assert_int_equal(mw_runtime_callv(NULL, "echo", NULL, 0, NULL, 0), MW_EINVAL);
    /* mw_runtime_call insists on a number */
    assert_int_equal(mw_runtime_call(rt, "words", NULL, 0, NULL), MW_ETYPE);
    assert_non_null(strstr(mw_runtime_error(rt), "not a number"));
    /* and the runtime goes on */
    mw_val one = mw_val_number(1.5);
    assert_int_equal(mw_runtime_callv(rt, "echo", &one, 1, out, 1), MW_OK);
    assert_true(out[0].type == MW_VNUMBER && out[0].number == 1.5);
    assert_string_equal(mw_runtime_error(rt), "");
}

/* A list too big for the budget is a memory error, not a type error. */
static void test_callv_memory(void **state)
{
    (void)state;
    mw_runtime *rt = mw_runtime_new(NULL);
    assert_non_null(rt);
    /* the list is made, then the budget leaves no room for its copy */
    assert_int_equal(mw_runtime_load_string(rt,
        "t = {} for i = 1, 200000 do t[i] = i end\n"
        "function big() mw.mem.limit(mw.mem.stats().total + 500000) return t end", NULL), MW_OK);
    mw_val out;
    int status = mw_runtime_callv(rt, "big", NULL, 0, &out, 1);
    assert_true(status == MW_ESCRIPT || status == MW_EBUDGET);
    assert_non_null(strstr(mw_runtime_error(rt), "memory limit exceeded"));
    mw_runtime_free(rt);
}

/* }==================================================================== */

/* {====================================================================
 * Limits
 * ===================================================================== */

static void test_time_limit(void **state)
{
    (void)state;
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    cfg.max_seconds = 0.2;
    mw_runtime *rt = mw_runtime_new(&cfg);
    assert_non_null(rt);
    double t0 = seconds();
    assert_int_equal(mw_runtime_load_string(rt, "while true do end", "=spin"), MW_ESCRIPT);
    double took = seconds() - t0;
    assert_non_null(strstr(mw_runtime_error(rt), "time limit exceeded (0.2 s)"));
    assert_non_null(strstr(mw_runtime_error(rt), "stack traceback"));
    assert_true(took >= 0.2 && took < 2.0);
    /* the limit is per entry: the next one has its full time */
    assert_int_equal(mw_runtime_load_string(rt, "x = 0 for i = 1, 1e3 do x = x + i end", NULL),
                     MW_OK);
    /* a negative or NaN limit is refused */
    cfg.max_seconds = -1.0;
    assert_null(mw_runtime_new(&cfg));
    cfg.max_seconds = NAN;
    assert_null(mw_runtime_new(&cfg));
    mw_runtime_free(rt);
}

/* A script cannot catch a limit and carry on: pcall, xpcall (whatever its
 * handler returns), coroutine.resume and coroutine.close all pass it on. */
static void test_limits_not_catchable(void **state)
{
    (void)state;
    static const char *const escapes[] = {
        "while true do pcall(function() while true do end end) end",
        "while true do xpcall(function() while true do end end, function() return 'fine' end) end",
        "while true do\n"
        "  local co = coroutine.create(function() while true do end end)\n"
        "  coroutine.resume(co)\n"
        "end",
        "local ok = pcall(function() while true do end end)\n"
        "caught = true",
        "for i = 1, 1e9 do\n"
        "  local t <close> = setmetatable({}, {__close = function() while true do end end})\n"
        "end",
    };
    for (int limit = 0; limit < 2; limit++) {
        mw_runtime_config cfg;
        mw_runtime_config_init(&cfg);
        if (limit == 0)
            cfg.max_instructions = 200000;
        else
            cfg.max_seconds = 0.05;
        mw_runtime *rt = mw_runtime_new(&cfg);
        assert_non_null(rt);
        for (size_t i = 0; i < sizeof escapes / sizeof *escapes; i++) {
            assert_int_equal(mw_runtime_load_string(rt, escapes[i], "=escape"), MW_ESCRIPT);
            assert_non_null(strstr(mw_runtime_error(rt),
                                   limit == 0 ? "instruction limit exceeded" : "time limit exceeded"));
        }
        /* the pcall that caught the limit did not let the script go on */
        mw_val out;
        assert_int_equal(mw_runtime_load_string(rt, "function caught_() return caught end", NULL),
                         MW_OK);
        assert_int_equal(mw_runtime_callv(rt, "caught_", NULL, 0, &out, 1), MW_OK);
        assert_int_equal(out.type, MW_VNIL);
        /* runtimes on other threads would run outside the limits */
        assert_int_equal(mw_runtime_load_string(rt,
            "mw.parallel.map(1, 'return function(x) return x end', {1})", NULL), MW_ESCRIPT);
        assert_non_null(strstr(mw_runtime_error(rt), "not available under instruction or time limits"));
        /* and ordinary errors are still caught as usual */
        assert_int_equal(mw_runtime_load_string(rt,
            "local ok, err = pcall(error, 'x') assert(not ok and err == 'x')", NULL), MW_OK);
        mw_runtime_free(rt);
    }
}

/* Coroutines cannot slip under the instruction limit: short ones are
 * counted (each one made is charged), and one made under a memory profile
 * that has since ended gets the limit's hook back when resumed. */
static void test_limits_coroutines(void **state)
{
    (void)state;
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    cfg.max_instructions = 1000000;
    mw_runtime *rt = mw_runtime_new(&cfg);
    assert_non_null(rt);
    assert_int_equal(mw_runtime_load_string(rt,
        "n = 0\n"
        "function spin() while true do\n"
        "  coroutine.wrap(function() local x = 0 for i = 1, 100 do x = x + i end end)()\n"
        "  n = n + 1 end end\n"
        "function made() return n end", NULL), MW_OK);
    assert_int_equal(mw_runtime_call(rt, "spin", NULL, 0, NULL), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "instruction limit exceeded"));
    double n = 0.0;
    assert_int_equal(mw_runtime_call(rt, "made", NULL, 0, &n), MW_OK);
    assert_true(n > 100 && n < 5000);   /* 111,110 when they were not charged */
    assert_int_equal(mw_runtime_load_string(rt,
        "mw.mem.profile(function()\n"
        "  co = coroutine.create(function() local x = 0 for i = 1, 1e8 do x = x + i end end)\n"
        "end, {quiet = true})\n"
        "coroutine.resume(co)", NULL), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "instruction limit exceeded"));
    mw_runtime_free(rt);
}

/* }==================================================================== */

/* {====================================================================
 * The host's allocator
 * ===================================================================== */

typedef struct host_heap {
    size_t live;        /* bytes handed out and not freed */
    size_t calls;
    size_t limit;       /* refuse growth beyond this many live bytes; 0: none */
} host_heap;

static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    host_heap *h = ud;
    h->calls++;
    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        free(ptr);
        h->live -= osize;
        return NULL;
    }
    if (h->limit != 0 && nsize > osize && h->live + (nsize - osize) > h->limit)
        return NULL;
    void *q = realloc(ptr, nsize);
    if (q != NULL)
        h->live = h->live - osize + nsize;
    return q;
}

static void test_host_allocator(void **state)
{
    (void)state;
    host_heap heap = {0, 0, 0};
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    cfg.alloc = host_alloc;
    cfg.alloc_ud = &heap;
    mw_runtime *rt = mw_runtime_new(&cfg);
    assert_non_null(rt);
    assert_true(heap.calls > 100);
    /* lists, maps and series use the pool pages (aligned blocks) */
    assert_int_equal(mw_runtime_load_string(rt,
        "keep = {}\n"
        "for i = 1, 200 do keep[i] = mw.list{i, mw.map{k = i}} end\n"
        "s = mw.series.zeros(10000)\n"
        "d = mw.detect.zscore{window = 50}\n"
        "scores = d:run(mw.series{1, 2, 3, 4, 5})", NULL), MW_OK);
    /* what moonwatch counts is what the host's allocator handed out,
     * besides the runtime's own struct */
    mw_memory mem;
    assert_int_equal(mw_runtime_memory(rt, &mem), MW_OK);
    assert_true(mem.native > 80000);
    assert_true(heap.live > mem.total);
    size_t struct_bytes = heap.live - mem.total;
    assert_true(struct_bytes < 4096);
    assert_int_equal(mw_runtime_load_string(rt, "keep = nil s:release() collectgarbage() mw.gc.collect()", NULL), MW_OK);
    assert_int_equal(mw_runtime_memory(rt, &mem), MW_OK);
    assert_int_equal(heap.live - mem.total, struct_bytes);
    mw_runtime_free(rt);
    assert_int_equal(heap.live, 0);

    /* a host allocator that runs dry: a clean error, nothing leaks */
    heap.calls = 0;
    heap.limit = 0;
    rt = mw_runtime_new(&cfg);
    assert_non_null(rt);
    heap.limit = heap.live + 200000;
    int status = mw_runtime_load_string(rt, "t = {} for i = 1, 1e6 do t[i] = i end", NULL);
    assert_int_equal(status, MW_ENOMEM);
    assert_non_null(strstr(mw_runtime_error(rt), "not enough memory"));
    assert_int_equal(mw_runtime_load_string(rt, "t = nil collectgarbage() x = 1", NULL), MW_OK);
    mw_runtime_free(rt);
    assert_int_equal(heap.live, 0);
}

/* }==================================================================== */

/* {====================================================================
 * The memory profiler
 * ===================================================================== */

static void test_profile(void **state)
{
    mw_runtime *rt = *state;
    assert_int_equal(mw_runtime_profile_stop(rt, NULL, MW_PROFILE_TABLE), MW_EINVAL);
    assert_int_equal(mw_runtime_profile_start(rt), MW_OK);
    assert_int_equal(mw_runtime_profile_start(rt), MW_EINVAL);
    assert_int_equal(mw_runtime_load_string(rt,
        "big = mw.series.zeros(100000)\n"
        "small = {}\n"
        "function more() for i = 1, 1000 do small[i] = i end end\n", "=profiled"), MW_OK);
    assert_int_equal(mw_runtime_callv(rt, "more", NULL, 0, NULL, 0), MW_OK);
    /* a script cannot start a second profile meanwhile */
    assert_int_equal(mw_runtime_load_string(rt, "mw.mem.profile(function() end)", NULL),
                     MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "already running"));
    FILE *out = tmpfile();
    assert_non_null(out);
    assert_int_equal(mw_runtime_profile_stop(rt, out, MW_PROFILE_CSV), MW_OK);
    rewind(out);
    char text[8192];
    size_t n = fread(text, 1, sizeof text - 1, out);
    text[n] = '\0';
    fclose(out);
    /* line 1 of the chunk made the 800 kB series: its increment */
    const char *line1 = strstr(text, "\"profiled\",1,");
    assert_non_null(line1);
    unsigned long long usage, lua, native;
    long long increment = 0;
    assert_int_equal(sscanf(line1 + strlen("\"profiled\",1,"), "%llu,%llu,%llu,%lld", &usage,
                            &lua, &native, &increment), 4);
    assert_true(increment >= 800000);
    /* line 3 ran in the later call */
    assert_non_null(strstr(text, "\"profiled\",3,"));
    assert_int_equal(mw_runtime_profile_stop(rt, NULL, MW_PROFILE_CSV), MW_EINVAL);
    /* and a script's own profile works again */
    assert_int_equal(mw_runtime_load_string(rt, "mw.mem.profile(function() end, {quiet = true})", NULL), MW_OK);
}

/* The profiler and the instruction limit together: the limit still ends
 * a loop while the profile runs. */
static void test_profile_with_limits(void **state)
{
    (void)state;
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    cfg.max_instructions = 100000;
    mw_runtime *rt = mw_runtime_new(&cfg);
    assert_non_null(rt);
    assert_int_equal(mw_runtime_profile_start(rt), MW_OK);
    assert_int_equal(mw_runtime_load_string(rt, "while true do end", "=spin"), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "instruction limit exceeded"));
    assert_int_equal(mw_runtime_profile_stop(rt, NULL, MW_PROFILE_JSON), MW_OK);
    /* a script's profile keeps the limit running too */
    assert_int_equal(mw_runtime_load_string(rt,
        "mw.mem.profile(function() while true do end end, {quiet = true})", NULL), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "instruction limit exceeded"));
    mw_runtime_free(rt);
}

/* }==================================================================== */

/* {====================================================================
 * Feeding samples
 * ===================================================================== */

#define N_FEED 2000
#define SPIKE_AT 1500

/* A noisy daily pattern of 5-minute samples with one spike. */
static void make_series(double *t, double *x, size_t n, double phase)
{
    uint64_t state = 12345;
    for (size_t i = 0; i < n; i++) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        double noise = (double)(state >> 11) / 9007199254740992.0 - 0.5;
        t[i] = 1.4e9 + 300.0 * (double)i;
        x[i] = 50.0 + 10.0 * sin((double)i * 2.0 * 3.14159265358979323846 / 288.0 + phase) + noise;
        if (i == SPIKE_AT)
            x[i] += 80.0;
    }
}

typedef struct found {
    char series[16][32];
    double timestamps[16];
    double scores[16];
    int n;
} found;

static void on_anomaly(void *ud, const mw_anomaly *a)
{
    found *f = ud;
    if (f->n < 16) {
        snprintf(f->series[f->n], sizeof f->series[f->n], "%s", a->series);
        f->timestamps[f->n] = a->timestamp;
        f->scores[f->n] = a->score;
    }
    f->n++;
}

static void test_feed_push(void **state)
{
    mw_runtime *rt = *state;
    static double t[N_FEED], x[N_FEED], one[N_FEED], all[N_FEED];
    make_series(t, x, N_FEED, 0.0);
    /* one at a time, polled: the default pipeline with its defaults */
    for (size_t i = 0; i < N_FEED; i++)
        assert_int_equal(mw_runtime_push(rt, "cpu", t[i], x[i], &one[i]), MW_OK);
    for (size_t i = 0; i < 288; i++)
        assert_true(isnan(one[i]));     /* the warm-up */
    mw_anomaly got[8];
    size_t n = mw_runtime_poll(rt, got, 8);
    assert_true(n >= 1);
    int spike = 0;
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(got[i].series, "cpu");
        assert_true(got[i].score >= 0.5);
        if (got[i].timestamp == t[SPIKE_AT]) {
            spike = 1;
            assert_true(got[i].value == x[SPIKE_AT]);
            assert_true(got[i].score == one[SPIKE_AT]);
        }
    }
    assert_true(spike);
    assert_int_equal(mw_runtime_poll(rt, got, 8), 0);   /* drained */

    /* the same samples as one array, to another series, with a callback:
     * the same scores, bit for bit, and the same anomalies */
    found f = {{{0}}, {0}, {0}, 0};
    mw_runtime_on_anomaly(rt, on_anomaly, &f);
    assert_int_equal(mw_runtime_push_array(rt, "cpu2", t, x, N_FEED, all), MW_OK);
    assert_memory_equal(one, all, sizeof one);
    assert_int_equal((size_t)f.n, n);
    assert_string_equal(f.series[0], "cpu2");
    assert_int_equal(mw_runtime_poll(rt, got, 8), 0);   /* none queued */
    mw_runtime_on_anomaly(rt, NULL, NULL);
    /* series kept apart: "cpu" goes on from where it was */
    double next;
    assert_int_equal(mw_runtime_push(rt, "cpu", t[N_FEED - 1] + 300.0, 50.0, &next), MW_OK);
    assert_false(isnan(next));
}

static void test_feed_pipeline_choice(void **state)
{
    mw_runtime *rt = *state;
    static double t[N_FEED], x[N_FEED], a[N_FEED], b[N_FEED];
    make_series(t, x, N_FEED, 1.0);
    /* errors name what is wrong and change nothing */
    assert_int_equal(mw_runtime_pipeline(rt, "nosuch", NULL), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "no pipeline 'nosuch'"));
    assert_int_equal(mw_runtime_pipeline(rt, "default", "colour=red"), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "has no parameter 'colour'"));
    assert_int_equal(mw_runtime_pipeline(rt, "default", "warmup=ten"), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "must be a number"));
    assert_int_equal(mw_runtime_pipeline(rt, "default", "window=1"), MW_OK); /* checked at new */
    assert_int_equal(mw_runtime_push(rt, "s", 0.0, 1.0, NULL), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "window must be 0"));
    /* the gaussian pipeline, its window shortened */
    assert_int_equal(mw_runtime_pipeline(rt, "gaussian", NULL), MW_OK);
    assert_int_equal(mw_runtime_push_array(rt, "g", t, x, N_FEED, a), MW_OK);
    assert_int_equal(mw_runtime_pipeline(rt, "default", "warmup=100, window=500"), MW_OK);
    assert_int_equal(mw_runtime_push_array(rt, "d", t, x, N_FEED, b), MW_OK);
    assert_true(isnan(b[99]) && !isnan(b[100]));
    assert_true(memcmp(a, b, sizeof a) != 0);
    /* a pipeline file of the host's, scoring |x - 50| */
    char path[] = "/tmp/mw-feed-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fh = fdopen(fd, "w");
    fputs("return {params = {centre = 50.0}, new = function(p)\n"
          "  return {threshold = 60, run = function(_, v) return (v - p.centre):abs() end}\n"
          "end}\n", fh);
    fclose(fh);
    char spec[64];
    snprintf(spec, sizeof spec, "%s", path);
    assert_int_equal(mw_runtime_pipeline(rt, spec, "centre=40.0"), MW_OK);
    mw_anomaly got[4];
    while (mw_runtime_poll(rt, got, 4) > 0)
        ;   /* the anomalies of the series above */
    assert_int_equal(mw_runtime_push_array(rt, "f", t, x, N_FEED, a), MW_OK);
    assert_true(fabs(a[0] - fabs(x[0] - 40.0)) < 1e-12);
    assert_int_equal(mw_runtime_poll(rt, got, 4), 1);
    assert_true(got[0].timestamp == t[SPIKE_AT]);
    remove(path);
}

/* A pipeline may keep what it is given and return a buffer it reuses;
 * a large push in queue mode gives its reserved room back. */
static void test_feed_ownership(void **state)
{
    mw_runtime *rt = *state;
    char path[] = "/tmp/mw-keep-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fh = fdopen(fd, "w");
    fputs("return {params = {}, new = function()\n"
          "  local p = {threshold = 1e300}\n"
          "  function p:run(values)\n"
          "    local lag = self.last and (values - self.last[#self.last]) or values * 0\n"
          "    self.last = values\n"
          "    return lag\n"
          "  end\n"
          "  return p\n"
          "end}\n", fh);
    fclose(fh);
    assert_int_equal(mw_runtime_pipeline(rt, path, NULL), MW_OK);
    double score;
    assert_int_equal(mw_runtime_push(rt, "k", 0.0, 5.0, &score), MW_OK);
    assert_true(score == 0.0);
    assert_int_equal(mw_runtime_push(rt, "k", 1.0, 7.5, &score), MW_OK);
    assert_true(score == 2.5);
    remove(path);

    static double x[200000];
    for (size_t i = 0; i < 200000; i++)
        x[i] = (double)(i % 17);
    assert_int_equal(mw_runtime_pipeline(rt, "gaussian", NULL), MW_OK);
    mw_memory before, after;
    assert_int_equal(mw_runtime_memory(rt, &before), MW_OK);
    assert_int_equal(mw_runtime_push_array(rt, "big", NULL, x, 200000, NULL), MW_OK);
    assert_int_equal(mw_runtime_load_string(rt, "collectgarbage()", NULL), MW_OK);
    assert_int_equal(mw_runtime_memory(rt, &after), MW_OK);
    /* 200,000 reserved entries would be 6.4 MB */
    assert_true(after.native < before.native + (1u << 20));
}

/* Every push that fails for want of memory leaves the runtime usable and
 * loses no anomaly that was queued. */
static void test_feed_allocation_failures(void **state)
{
    mw_runtime *rt = *state;
    void *ud = NULL;
    lua_getallocf(mw_runtime_lua(rt), &ud);
    mw_alloc *alloc = ud;
    static double t[400], x[400];
    make_series(t, x, 400, 0.0);
    x[350] += 500.0;
    assert_int_equal(mw_runtime_pipeline(rt, "default", "warmup=300"), MW_OK);
    int failures = 0;
    for (uint64_t n = 1;; n++) {
        uint64_t failed_before = alloc->n_failed;
        char name[32];
        snprintf(name, sizeof name, "s%llu", (unsigned long long)n);
        mw_alloc_fail_nth(alloc, n, 0);
        int status = mw_runtime_push_array(rt, name, t, x, 400, NULL);
        mw_alloc_fail_nth(alloc, 0, 0);
        if (status != MW_OK) {
            failures++;
            assert_true(strlen(mw_runtime_error(rt)) > 0);
        }
        mw_anomaly got[16];
        size_t k = mw_runtime_poll(rt, got, 16);
        if (status == MW_OK) {
            assert_true(k >= 1);
            int spike = 0;
            for (size_t i = 0; i < k; i++)
                spike |= got[i].timestamp == t[350];
            assert_true(spike);
        }
        if (alloc->n_failed == failed_before)
            break;
        assert_true(n < 20000);
    }
    assert_true(failures > 20);
}

/* }==================================================================== */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_callv_types, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_callv_errors, rt_setup, rt_teardown),
        cmocka_unit_test(test_callv_memory),
        cmocka_unit_test(test_time_limit),
        cmocka_unit_test(test_limits_not_catchable),
        cmocka_unit_test(test_limits_coroutines),
        cmocka_unit_test(test_host_allocator),
        cmocka_unit_test_setup_teardown(test_profile, rt_setup, rt_teardown),
        cmocka_unit_test(test_profile_with_limits),
        cmocka_unit_test_setup_teardown(test_feed_push, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_feed_pipeline_choice, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_feed_ownership, rt_setup, rt_teardown),
        cmocka_unit_test_setup_teardown(test_feed_allocation_failures, rt_setup, rt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
