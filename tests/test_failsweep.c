/*
 * test_failsweep.c: the allocation-failure sweep of issue #12.
 *
 * Each workload runs in a Lua state built as the moonwatch command builds
 * its own (lua_newstate on an mw_alloc, the collector stopped while the
 * libraries and the module open, then generational), and is run again
 * and again with its 1st, 2nd, ... N-th growing allocation failing, for
 * every N, until a run completes without reaching the failure. The count
 * starts before lua_newstate, so the state's creation, the standard
 * libraries and luaopen_moonwatch are swept too.
 *
 * Two ways to fail, both swept:
 *   - single: only the N-th request fails. Lua answers a failure of its
 *     own by collecting and retrying, so most of these are absorbed; the
 *     native heap's, the readers' and the detectors' failures are not and
 *     must come back as clean Lua errors, after which the state must
 *     still work (a check chunk runs with memory available again);
 *   - sticky: the N-th and every later request fail, the close included,
 *     so every error path runs with no memory at all and must still
 *     unwind without crashing or leaking.
 *
 * What a run must give: either the reference run's results exactly (the
 * failure was absorbed: no lost or wrong data), or a clean error, a
 * string naming the memory ("not enough memory", "memory limit
 * exceeded"). After lua_close the allocator's figures must be back to
 * zero (no leak); valgrind and ASan see the C library's side.
 *
 * Workloads: heap and collector operations; a CSV -> batches -> detector
 * -> threshold -> NAB scoring pipeline with a save/load restart in the
 * middle; a REPL-like sequence of statements each run on its own, as the
 * REPL does (an error is reported and the next statement runs).
 *
 * The count of requests is deterministic up to a few: Lua seeds its
 * string hashes per state, so a table whose keys collide may be resized
 * a step earlier or later (SWEEP_JITTER). Results are deterministic.
 *
 * MW_SWEEP_STEP=k tests every k-th N only (1, 1 + k, ...): the valgrind
 * run of CI sets it, since the whole sweep under valgrind takes too long
 * (docs/RELIABILITY.md says what runs where).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/alloc.h"
#include "moonwatch.h"

#define SWEEP_TEXT 8192
#define SWEEP_MAX_N 200000
/* How far the requests of two clean runs may differ (see sweep). */
#define SWEEP_JITTER 16

/* {==================================================================
 * The workloads
 * =================================================================== */

/* Lists and maps in cycles through each other, the cycle collector,
 * freeze, releases, series and views. */
static const char heap_workload[] =
    "local out = {}\n"
    "local keep = mw.list()\n"
    "for i = 1, 60 do\n"
    "  local a = mw.list{i, 'item' .. i, i / 4}\n"
    "  local m = mw.map{id = i, name = 'm' .. i}\n"
    "  a:append(m)\n"
    "  m.owner = a\n"
    "  m[i] = a\n"
    "  if i % 5 == 0 then keep:append(m) end\n"
    "end\n"
    "collectgarbage() collectgarbage()\n"
    "out[#out + 1] = mw.gc.collect()\n"
    "out[#out + 1] = #keep\n"
    "out[#out + 1] = keep[1].id .. ' ' .. keep[1].owner[2] .. ' ' .. tostring(keep[1][5] == keep[1].owner)\n"
    "local m = keep[2]\n"
    "m.extra = mw.list.rep(10, 'x')\n"
    "m.name = nil\n"
    "local keys = {}\n"
    "for k in pairs(m) do keys[#keys + 1] = tostring(k) end\n"
    "table.sort(keys)\n"
    "out[#out + 1] = table.concat(keys, ',')\n"
    "while #keep > 3 do keep:pop(1) end\n"
    "keep:insert(1, 'front')\n"
    "out[#out + 1] = #keep .. ' ' .. keep[1] .. ' ' .. keep[2].id .. ' ' .. keep[4].name\n"
    "mw.gc.freeze()\n"
    "out[#out + 1] = tostring(mw.gc.frozen() > 0)\n"
    "mw.gc.unfreeze()\n"
    "local s = mw.series.range(1, 200)\n"
    "local r = (s * 2 + 1):rolling(10):mean()\n"
    "out[#out + 1] = string.format('%.6f', r:sum())\n"
    "local view = s:slice(50, 60)\n"
    "s:release()\n"
    "out[#out + 1] = view:sum()\n"
    "keep:release()\n"
    "m = nil\n"
    "collectgarbage() collectgarbage()\n"
    "out[#out + 1] = mw.gc.collect()\n"
    "return table.concat(out, ' | ')\n";

/* The CSV written by the test (path as the chunk's argument), read in
 * batches through a thresholded detector saved and loaded half-way,
 * then scored as NAB does. */
static const char pipeline_workload[] =
    "local path = ...\n"
    "local alarm = mw.thresh.constant{threshold = 4}:wrap(mw.detect.zscore{window = 48})\n"
    "local scores, times, batches = {}, {}, 0\n"
    "for batch in mw.csv(path, {batch = 50, columns = {'timestamp', 'value'}}) do\n"
    "  local s = alarm:run(batch)\n"
    "  local ts = batch.timestamp\n"
    "  for i = 1, #s do scores[#scores + 1] = s[i]; times[#times + 1] = ts[i] end\n"
    "  batches = batches + 1\n"
    "  if batches == 3 then\n"
    "    local saved = alarm:save()\n"
    "    alarm:release()\n"
    "    alarm = mw.detect.load(saved)\n"
    "  end\n"
    "end\n"
    "local alarms = 0\n"
    "for i = 1, #scores do if scores[i] == 1 then alarms = alarms + 1 end end\n"
    "local r = mw.nab.score({{name = 'synthetic.csv', score = scores, time = times,\n"
    "                         windows = {{times[190], times[215]}}}})\n"
    "return string.format('%d rows in %d batches, %d alarms, score %.6f, tp %d, fp %d, "
    "threshold %s', #scores, batches, alarms, r.score, r.tp, r.fp, tostring(r.threshold))\n";

/* Statements typed at a prompt, one at a time: each is tried as an
 * expression first ("return <line>"), as the REPL does, and the values
 * are printed with tostring. One raises on purpose. */
static const char *const repl_workload[] = {
    "x = 10",
    "x * 2",
    "t = {}",
    "for i = 1, 20 do t[i] = i * i end",
    "#t",
    "l = mw.list(t)",
    "l[5] + l[6]",
    "m = mw.map{a = l, b = 'text'}",
    "m.a == l",
    "m.b, #m, mw.type(m)",
    "s = mw.series(t)",
    "s:mean(), s:std()",
    "d = mw.detect.ewma{alpha = 0.1}",
    "d:update(1), d:update(2), d:update(50)",
    "saved = d:save()",
    "mw.detect.load(saved):update(3) == d:update(3)",
    "l:release()",
    "function f(n) if n < 2 then return n end return f(n - 1) + f(n - 2) end",
    "f(15)",
    "error('deliberate')",
    "mw.gc.collect()",
    "string.format('%5.2f|%q', math.pi, 'a\\nb')",
    "co = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)",
    "co(1), co(10)",
    "mw.mem.stats().native > 0",
    NULL,
};

/* Run with memory available again after a single failure: the state
 * must still work, the module included. */
static const char check_chunk[] =
    "local l = mw.list{1, 2, 3}\n"
    "local m = mw.map{a = l}\n"
    "l:append(m)\n"
    "assert(#l == 4 and m.a == l)\n"
    "l, m = nil, nil\n"
    "collectgarbage()\n"
    "mw.gc.collect()\n"
    "assert(mw.series{1, 2, 3}:sum() == 6)\n"
    "return 'ok'\n";

/* }================================================================== */

typedef struct sweep_workload {
    const char *name;
    const char *script;          /* one chunk, or NULL */
    const char *const *lines;    /* REPL statements, or NULL */
} sweep_workload;

typedef struct sweep_run {
    int opened;                  /* state made and module opened */
    uint64_t requests;           /* growing requests up to the check chunk */
    int n_errors;
    int n_memory_errors;
    int failed_finalizers;       /* "error in __gc" warnings */
    int first_error_line;        /* REPL: index of the first memory error, or -1 */
    char digest[SWEEP_TEXT];     /* what succeeded, in order */
    char first_error[640];
} sweep_run;

static int sweep_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    fail_msg("Lua panic (an unprotected error): %s", msg != NULL ? msg : "?");
    return 0;
}

/* Counts the finalizers Lua could not run ("error in __gc"): with
 * memory exhausted, calling one can fail, and Lua never retries it. */
static void sweep_warn(void *ud, const char *msg, int tocont)
{
    (void)tocont;
    if (ud != NULL && strcmp(msg, "__gc") == 0)
        (*(int *)ud)++;
}

/* Opens the libraries and the module as the command does; run under
 * lua_pcall. */
static int sweep_open(lua_State *L)
{
    luaL_openlibs(L);
    luaL_requiref(L, "moonwatch", luaopen_moonwatch, 0);
    lua_setglobal(L, "mw");
    lua_gc(L, LUA_GCRESTART);
    lua_gc(L, LUA_GCGEN, 0, 0);
    return 0;
}

/* The message handler of the REPL: the message with a traceback. */
static int sweep_msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Calls the function at 1 with the argument at 2 (a C string given as a
 * light userdata, or nil) and returns its results
 * joined into one string (tostring, tabs between); run under lua_pcall,
 * so converting can fail cleanly too. */
static int sweep_call(lua_State *L)
{
    lua_settop(L, 2);
    if (lua_islightuserdata(L, 2)) {
        lua_pushstring(L, lua_touserdata(L, 2));
        lua_replace(L, 2);
    }
    lua_call(L, 1, LUA_MULTRET);
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    return 1;
}

/* Entries of a digest end with this byte (a result may span lines). */
#define SWEEP_END '\x1e'

static void append_text(char *buf, const char *text)
{
    size_t len = strlen(buf);
    snprintf(buf + len, SWEEP_TEXT - len, "%s%c", text, SWEEP_END);
}

static int is_memory_error(const char *msg)
{
    return msg != NULL && (strstr(msg, "not enough memory") != NULL ||
                           strstr(msg, "memory limit exceeded") != NULL);
}

/* Records an error left on top of the stack by a failed call. */
static void record_error(lua_State *L, sweep_run *run, int line)
{
    const char *msg = lua_tostring(L, -1);
    char text[600];
    snprintf(text, sizeof text, "error: %s", msg != NULL ? msg : "(not a string)");
    if (run->n_errors == 0)
        snprintf(run->first_error, sizeof run->first_error, "%s", text);
    if (is_memory_error(msg)) {
        if (run->first_error_line < 0)
            run->first_error_line = line;
        run->n_memory_errors++;
    }
    run->n_errors++;
    append_text(run->digest, text);
    lua_pop(L, 1);
}

/* Loads and runs one chunk (code) with arg; appends its result or error. */
static void run_chunk(lua_State *L, sweep_run *run, const char *code, const char *chunkname,
                      const char *arg, int line)
{
    lua_settop(L, 0);
    lua_pushcfunction(L, sweep_msghandler);
    lua_pushcfunction(L, sweep_call);
    int status = luaL_loadbufferx(L, code, strlen(code), chunkname, "t");
    if (status != LUA_OK) {
        record_error(L, run, line);
        return;
    }
    /* the argument becomes a string inside the protected call: making
     * it can fail too */
    if (arg != NULL)
        lua_pushlightuserdata(L, (void *)arg);
    else
        lua_pushnil(L);
    status = lua_pcall(L, 2, 1, 1);
    if (status != LUA_OK) {
        record_error(L, run, line);
        return;
    }
    append_text(run->digest, lua_tostring(L, -1));
    lua_settop(L, 0);
}

/* A REPL line: "return <line>" if that compiles, else the line. */
static void run_repl_line(lua_State *L, sweep_run *run, const char *line, int index)
{
    char code[512];
    snprintf(code, sizeof code, "return %s;", line);
    int status = luaL_loadbufferx(L, code, strlen(code), "=stdin", "t");
    if (status == LUA_OK) {
        lua_pop(L, 1);
        run_chunk(L, run, code, "=stdin", NULL, index);
    } else {
        const char *msg = lua_tostring(L, -1);
        int memory = status == LUA_ERRMEM || is_memory_error(msg);
        lua_pop(L, 1);
        if (memory) {
            lua_pushstring(L, "not enough memory");
            record_error(L, run, index);
            return;
        }
        run_chunk(L, run, line, "=stdin", NULL, index);
    }
}

/* Runs workload w on allocator a (failures armed by the caller), then,
 * if check is set, disarms them and runs the check chunk; closes the
 * state. Returns whether the allocator reached its failure. */
static int run_workload(mw_alloc *a, const sweep_workload *w, const char *csv_path,
                        int check, sweep_run *run)
{
    memset(run, 0, sizeof *run);
    run->first_error_line = -1;
    lua_State *L = lua_newstate(mw_alloc_lua, a);
    if (L == NULL) {
        snprintf(run->first_error, sizeof run->first_error, "error: cannot create state: not enough memory");
        run->n_errors = 1;
        run->n_memory_errors = 1;
        run->first_error_line = 0;
        int hit = a->n_failed > 0;
        mw_alloc_fail_nth(a, 0, 0);
        return hit;
    }
    lua_atpanic(L, sweep_panic);
    lua_setwarnf(L, sweep_warn, &run->failed_finalizers);
    lua_gc(L, LUA_GCSTOP);
    lua_pushcfunction(L, sweep_open);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
        record_error(L, run, 0);
    } else {
        run->opened = 1;
        if (w->script != NULL) {
            run_chunk(L, run, w->script, w->name, csv_path, 0);
        } else {
            for (int i = 0; w->lines[i] != NULL; i++)
                run_repl_line(L, run, w->lines[i], i);
        }
    }
    int hit = a->n_failed > 0;
    run->requests = a->n_allocs;
    if (check) {
        mw_alloc_fail_nth(a, 0, 0);
        if (run->opened) {
            sweep_run after;
            memset(&after, 0, sizeof after);
            after.first_error_line = -1;
            run_chunk(L, &after, check_chunk, "=check", NULL, 0);
            if (strcmp(after.digest, "ok\x1e") != 0)
                fail_msg("%s: the state does not work after '%s': %s", w->name,
                         run->first_error, after.digest);
        }
    }
    lua_close(L);
    mw_alloc_fail_nth(a, 0, 0);
    return hit;
}

/* Checks a failing run against the reference run. */
static void check_run(const sweep_workload *w, const sweep_run *ref, const sweep_run *run,
                      uint64_t n, int sticky)
{
    const char *mode = sticky ? "sticky" : "single";
    if (run->n_errors == 0 || (w->lines != NULL && run->opened && run->first_error_line < 0)) {
        if (strcmp(run->digest, ref->digest) != 0)
            fail_msg("%s, %s failure of request %llu: completed with other results:\n%s\n"
                     "instead of\n%s", w->name, mode, (unsigned long long)n, run->digest,
                     ref->digest);
        return;
    }
    if (w->script != NULL || !run->opened) {
        /* A single chunk (or the opening) failed: the error must say memory. */
        if (!is_memory_error(run->first_error))
            fail_msg("%s, %s failure of request %llu: not a memory error: %s", w->name, mode,
                     (unsigned long long)n, run->first_error);
        return;
    }
    /* REPL: up to its first memory error, each line gives what it gave
     * in the reference run (its own deliberate error included); after it,
     * anything may fail (a variable never set), but as a message. */
    const char *a = run->digest, *b = ref->digest;
    for (int line = 0; line < run->first_error_line; line++) {
        const char *ea = strchr(a, SWEEP_END), *eb = strchr(b, SWEEP_END);
        if (ea == NULL || eb == NULL || ea - a != eb - b || memcmp(a, b, (size_t)(ea - a)) != 0)
            fail_msg("%s, %s failure of request %llu: statement %d before the failure gave "
                     "other results:\n%s\ninstead of\n%s", w->name, mode,
                     (unsigned long long)n, line + 1, run->digest, ref->digest);
        a = ea + 1;
        b = eb + 1;
    }
}

/* Writes the pipeline's CSV: 400 rows at 5-minute steps, a sine with a
 * little deterministic noise and a spike at row 200. Returns the path
 * (static storage of the caller). */
static void write_csv(char *path, size_t cap)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/mw-failsweep-XXXXXX", dir != NULL ? dir : "/tmp");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f, "timestamp,value,host\n");
    uint32_t seed = 12345;
    for (int i = 0; i < 400; i++) {
        int minutes = i * 5;
        seed = seed * 1664525u + 1013904223u;
        double noise = (double)(seed >> 8) / (double)(1u << 24) - 0.5;
        double v = 10.0 + 3.0 * (double)((i % 48) < 24 ? (i % 24) : 24 - (i % 24)) / 24.0 + noise;
        if (i == 200)
            v += 25.0;
        fprintf(f, "2024-03-%02d %02d:%02d:00,%.4f,db-%d\n", 1 + minutes / 1440,
                (minutes / 60) % 24, minutes % 60, v, i % 3);
    }
    assert_int_equal(fclose(f), 0);
}

static uint64_t sweep_step(void)
{
    const char *s = getenv("MW_SWEEP_STEP");
    if (s == NULL || *s == '\0')
        return 1;
    long v = strtol(s, NULL, 10);
    return v >= 1 ? (uint64_t)v : 1;
}

/* Sweeps workload w in both modes; reports the number of growing
 * requests of a complete run and what the failures gave. */
static void sweep(const sweep_workload *w, const char *csv_path)
{
    mw_alloc a;
    sweep_run ref, run;
    mw_alloc_init(&a);
    run_workload(&a, w, csv_path, 1, &ref);
    uint64_t total = ref.requests;
    assert_int_equal(a.current, 0);
    if (ref.n_errors > 0 && w->script != NULL)
        fail_msg("%s: the reference run failed: %s", w->name, ref.first_error);
    /* A second clean run gives the same results with (nearly) the same
     * requests: Lua seeds its string hashes per state (addresses and the
     * time), and where keys collide a table may be resized a step
     * earlier or later, so the count may move by a few. */
    mw_alloc_init(&a);
    run_workload(&a, w, csv_path, 1, &run);
    assert_string_equal(run.digest, ref.digest);
    uint64_t shortest = run.requests < total ? run.requests : total;
    if (run.requests > total)
        total = run.requests;
    assert_true(total - shortest <= SWEEP_JITTER);

    uint64_t step = sweep_step();
    for (int sticky = 0; sticky <= 1; sticky++) {
        uint64_t n, runs = 0, errors = 0, absorbed = 0, finalizers = 0;
        for (n = 1; n < SWEEP_MAX_N; n += step) {
            mw_alloc_init(&a);
            mw_alloc_fail_nth(&a, n, sticky);
            int hit = run_workload(&a, w, csv_path, !sticky, &run);
            if (a.current != 0)
                fail_msg("%s, %s failure of request %llu: %zu bytes leaked (%zu Lua, %zu "
                         "native, %zu pool) after '%s'", w->name, sticky ? "sticky" : "single",
                         (unsigned long long)n, a.current, a.domain_bytes[MW_DOMAIN_LUA],
                         a.domain_bytes[MW_DOMAIN_NATIVE], a.domain_bytes[MW_DOMAIN_POOL],
                         run.first_error);
            if (!hit && n > shortest)
                break;
            if (!hit)
                continue;   /* this run happened to need fewer */
            runs++;
            finalizers += (uint64_t)run.failed_finalizers;
            check_run(w, &ref, &run, n, sticky);
            if (run.n_memory_errors > 0)
                errors++;
            else
                absorbed++;
        }
        assert_true(n < SWEEP_MAX_N);
        if (n + SWEEP_JITTER <= shortest || n > total + SWEEP_JITTER + step)
            fail_msg("%s: the %s sweep ended at request %llu; a clean run makes %llu", w->name,
                     sticky ? "sticky" : "single", (unsigned long long)n,
                     (unsigned long long)total);
        /* The sweep ends exactly past the last request of a clean run. */
        print_message("%s: %llu allocations; %s failures: %llu runs (every %llu), %llu clean "
                      "errors, %llu absorbed with the reference results, %llu finalizers "
                      "Lua could not run\n",
                      w->name, (unsigned long long)total, sticky ? "sticky" : "single",
                      (unsigned long long)runs, (unsigned long long)step,
                      (unsigned long long)errors, (unsigned long long)absorbed,
                      (unsigned long long)finalizers);
        if (sticky)
            assert_int_equal(absorbed + errors, runs);
        assert_true(errors > 0);
    }
}

static void test_sweep_heap(void **state)
{
    (void)state;
    const sweep_workload w = {"heap", heap_workload, NULL};
    sweep(&w, NULL);
}

static void test_sweep_pipeline(void **state)
{
    (void)state;
    char path[512];
    write_csv(path, sizeof path);
    const sweep_workload w = {"pipeline", pipeline_workload, NULL};
    sweep(&w, path);
    unlink(path);
}

static void test_sweep_repl(void **state)
{
    (void)state;
    const sweep_workload w = {"repl", NULL, repl_workload};
    sweep(&w, NULL);
}

/* With memory exhausted, Lua cannot call finalizers (the call itself
 * needs memory) and frees their userdata without them: the objects of
 * such handles and such detectors must still be freed, at lua_close at
 * the latest (the kept table of lua/state.h). Before it, the sticky
 * sweep of the pipeline leaked 4208 bytes of series, frames and
 * detectors at request 1244. */
static void test_finalizers_without_memory(void **state)
{
    (void)state;
    mw_alloc a;
    mw_alloc_init(&a);
    int failed_finalizers = 0;
    lua_State *L = lua_newstate(mw_alloc_lua, &a);
    assert_non_null(L);
    lua_atpanic(L, sweep_panic);
    lua_setwarnf(L, sweep_warn, &failed_finalizers);
    lua_pushcfunction(L, sweep_open);
    assert_int_equal(lua_pcall(L, 0, 0, 0), LUA_OK);
    const char *code =
        "local t = {}\n"
        "for i = 1, 200 do\n"
        "  t[i] = {mw.series.zeros(100), mw.detect.zscore{window = 10}, mw.list{i},\n"
        "          mw.scale.standard()}\n"
        "end\n"
        "t = nil\n";
    assert_int_equal(luaL_dostring(L, code), LUA_OK);
    size_t native = a.domain_bytes[MW_DOMAIN_NATIVE];
    /* A finalizer is called on the stack of the thread whose allocation
     * ran the collection, and a C function needs LUA_MINSTACK free slots:
     * a new thread's stack (40 slots) holding 30 values must grow for
     * it, which fails when memory is exhausted. */
    lua_State *co = lua_newthread(L);
    assert_true(lua_checkstack(co, 30));
    for (int i = 0; i < 30; i++)
        lua_pushnil(co);
    mw_alloc_fail_nth(&a, 1, 1);
    lua_gc(co, LUA_GCCOLLECT);
    assert_true(failed_finalizers > 0);
    /* what those finalizers held is still there, held in the kept table */
    assert_true(a.domain_bytes[MW_DOMAIN_NATIVE] > native / 2);
    lua_close(L);
    assert_int_equal(a.current, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_heap),
        cmocka_unit_test(test_sweep_pipeline),
        cmocka_unit_test(test_sweep_repl),
        cmocka_unit_test(test_finalizers_without_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
