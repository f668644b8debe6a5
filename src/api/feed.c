/*
 * feed.c: samples pushed from the host into per-series pipelines
 * (mw_runtime_pipeline, _push, _push_array, _on_anomaly, _poll of
 * moonwatch.h).
 *
 * The Lua side is moonwatch.pipeline's feed (src/lua/pipeline.lua): one
 * pipeline per series name, made at the first push, kept in the registry
 * under feed_key. The C side makes the series of values and timestamps,
 * runs Feed:push in an entry of the runtime (limits, errors as statuses),
 * copies the scores out and hands over the anomalies it lists.
 *
 * Invariants:
 * - Anomalies go to the host's callback as they are found, from inside
 *   the entry (the callback must not call into the runtime); without a
 *   callback they wait in a FIFO queue (from the runtime's allocator) for
 *   mw_runtime_poll. Room for every sample of a push is made in the queue
 *   before the pipeline runs, so a push whose pipeline has learned its
 *   samples never loses an anomaly for want of memory; what a large push
 *   reserved is given back after it (feed_trim).
 * - The series made for a push are not released by it: the pipeline owns
 *   what it is given and what it returns (it may keep either).
 * - Series names given in anomalies are Lua strings kept in the registry
 *   (names_key), valid until the runtime is freed.
 */
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "api/runtime.h"
#include "lua/l_series.h"
#include "lua/state.h"
#include "types/series.h"

static const char feed_key = 'F';   /* the Lua Feed object */
static const char names_key = 'N';  /* name -> the same string, kept */

struct mw_feed {
    mw_anomaly_fn fn;
    void *ud;
    mw_anomaly *queue;              /* a ring of cap entries */
    size_t head, count, cap;
};

mw_feed *mw_feed_new(mw_alloc *a)
{
    mw_feed *f = mw_alloc_malloc(a, MW_DOMAIN_NATIVE, sizeof *f);
    if (f != NULL)
        memset(f, 0, sizeof *f);
    return f;
}

void mw_feed_free(mw_feed *f, mw_alloc *a)
{
    if (f == NULL)
        return;
    mw_alloc_free(a, MW_DOMAIN_NATIVE, f->queue, f->cap * sizeof *f->queue);
    mw_alloc_free(a, MW_DOMAIN_NATIVE, f, sizeof *f);
}

/* Makes room for `more` entries beyond the queued ones, keeping their
 * order (the ring is straightened). Returns 0 when memory runs out. */
static int feed_reserve(mw_feed *f, mw_alloc *a, size_t more)
{
    if (f->count + more <= f->cap)
        return 1;
    if (more > ((size_t)-1 / sizeof *f->queue) / 2 - f->count)
        return 0;
    size_t cap = f->cap < 16 ? 16 : f->cap;
    while (cap < f->count + more)
        cap *= 2;
    mw_anomaly *q = mw_alloc_malloc(a, MW_DOMAIN_NATIVE, cap * sizeof *q);
    if (q == NULL)
        return 0;
    for (size_t i = 0; i < f->count; i++)
        q[i] = f->queue[(f->head + i) % f->cap];
    mw_alloc_free(a, MW_DOMAIN_NATIVE, f->queue, f->cap * sizeof *f->queue);
    f->queue = q;
    f->cap = cap;
    f->head = 0;
    return 1;
}

/* Gives back what a large push reserved: the queue keeps room for twice
 * its entries (at least 16). */
static void feed_trim(mw_feed *f, mw_alloc *a)
{
    size_t keep = f->count * 2 < 16 ? 16 : f->count * 2;
    if (f->cap <= keep * 2)
        return;
    mw_anomaly *q = mw_alloc_malloc(a, MW_DOMAIN_NATIVE, keep * sizeof *q);
    if (q == NULL)
        return;   /* shrinking is an economy, never needed */
    for (size_t i = 0; i < f->count; i++)
        q[i] = f->queue[(f->head + i) % f->cap];
    mw_alloc_free(a, MW_DOMAIN_NATIVE, f->queue, f->cap * sizeof *f->queue);
    f->queue = q;
    f->cap = keep;
    f->head = 0;
}

/* {====================================================================
 * Entries
 * ===================================================================== */

typedef struct feed_job {
    const char *pipeline;
    const char *params;
    const char *series;
    const double *timestamps;
    const double *values;
    size_t n;
    double *scores;
} feed_job;

/* Pushes require("moonwatch.pipeline").feed(spec, params). */
static void feed_new(lua_State *L, const char *spec, const char *params)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "moonwatch.pipeline");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "feed");
    lua_remove(L, -2);
    if (spec != NULL)
        lua_pushstring(L, spec);
    else
        lua_pushnil(L);
    if (params != NULL)
        lua_pushstring(L, params);
    else
        lua_pushnil(L);
    lua_call(L, 2, 1);
}

/* feed_new for the job at index 1, under lua_pcall. */
static int feed_new_protected(lua_State *L)
{
    const feed_job *job = lua_touserdata(L, 1);
    feed_new(L, job->pipeline, job->params);
    return 1;
}

/* mw_runtime_pipeline: a new feed, keeping the pipelines of the old. */
static int feed_choose(lua_State *L)
{
    const feed_job *job = lua_touserdata(L, 1);
    lua_pushcfunction(L, feed_new_protected);
    lua_pushlightuserdata(L, (void *)job);
    int status = lua_pcall(L, 1, 1, 0);
    if (status == LUA_ERRMEM) {
        mw_runtime_fail_as(L, MW_ENOMEM);
        return lua_error(L);
    }
    if (status != LUA_OK) {
        /* a bad name or parameter: the message says it all */
        mw_runtime_fail_plain(L, MW_ESCRIPT);
        return lua_error(L);
    }
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &feed_key) == LUA_TTABLE) {
        lua_getfield(L, -1, "pipes");
        lua_setfield(L, -3, "pipes");
        lua_getfield(L, -1, "count");
        lua_setfield(L, -3, "count");
    }
    lua_pop(L, 1);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &feed_key);
    return 0;
}

/* Pushes a new series of the n numbers at x (0 for each if x is NULL). */
static void feed_push_series(lua_State *L, const double *x, size_t n)
{
    mw_series *s = mw_lua_push_new_series(L, mw_lua_state_open(L), n, 0, x == NULL);
    if (x != NULL && n > 0)
        memcpy(mw_series_values(s), x, n * sizeof *x);
}

/* Score i of the scores at idx (a series or a list). */
static double feed_score(lua_State *L, int idx, size_t i)
{
    if (lua_type(L, idx) == LUA_TUSERDATA)
        return mw_series_values(mw_lua_check_series(L, idx))[i];
    lua_geti(L, idx, (lua_Integer)i + 1);
    double x = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return x;
}

/* mw_runtime_push/_array: Feed:push(name, values, times), then the
 * scores and anomalies out. */
static int feed_push(lua_State *L)
{
    const feed_job *job = lua_touserdata(L, 1);
    mw_runtime *rt = mw_runtime_of(L);
    mw_feed *f = *mw_runtime_feed(rt);
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &feed_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        feed_new(L, NULL, NULL);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &feed_key);
    }
    int feed = lua_gettop(L);
    /* the name, kept for the anomalies */
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &names_key) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_newtable(L);
        lua_pushvalue(L, -1);
        lua_rawsetp(L, LUA_REGISTRYINDEX, &names_key);
    }
    lua_pushstring(L, job->series);
    lua_pushvalue(L, -1);
    lua_pushvalue(L, -1);
    lua_rawset(L, -4);
    const char *name = lua_tostring(L, -1);
    int name_idx = lua_gettop(L);
    /* Read once: a callback that changes it mid-push (which it must
     * not) cannot send anomalies to a queue with no room made. */
    mw_anomaly_fn fn = f->fn;
    void *fn_ud = f->ud;
    if (fn == NULL && !feed_reserve(f, mw_runtime_alloc(rt), job->n)) {
        mw_alloc *a = mw_runtime_alloc(rt);
        mw_runtime_fail_as(L, a->last_error == MW_EBUDGET ? MW_EBUDGET : MW_ENOMEM);
        if (f->count > 0)
            return luaL_error(L, "no room for the anomalies of %zu samples in the queue (%zu "
                                 "waiting: poll them, or push fewer samples at once)",
                              job->n, f->count);
        return luaL_error(L, "no room for the anomalies of %zu samples in the queue (push fewer "
                             "samples at once, or set a callback)", job->n);
    }
    feed_push_series(L, job->values, job->n);
    int values = lua_gettop(L);
    feed_push_series(L, job->timestamps, job->n);
    lua_getfield(L, feed, "push");
    lua_pushvalue(L, feed);
    lua_pushvalue(L, name_idx);
    lua_pushvalue(L, values);
    lua_pushvalue(L, values + 1);
    lua_call(L, 4, 2);
    int scores = lua_gettop(L) - 1, hits = scores + 1;
    if (job->scores != NULL && lua_type(L, scores) == LUA_TUSERDATA) {
        /* a series: one copy (nothing below allocates, so the pointer holds) */
        memcpy(job->scores, mw_series_values(mw_lua_check_series(L, scores)),
               job->n * sizeof *job->scores);
    } else if (job->scores != NULL) {
        for (size_t i = 0; i < job->n; i++)
            job->scores[i] = feed_score(L, scores, i);
    }
    lua_Integer nhits = luaL_len(L, hits);
    for (lua_Integer k = 1; k <= nhits; k++) {
        lua_geti(L, hits, k);
        lua_Integer i = lua_tointeger(L, -1) - 1;
        lua_pop(L, 1);
        if (i < 0 || (size_t)i >= job->n)
            continue;
        mw_anomaly a = {name, job->timestamps != NULL ? job->timestamps[i] : 0.0,
                        job->values[i], feed_score(L, scores, (size_t)i)};
        if (fn != NULL) {
            fn(fn_ud, &a);
        } else {
            f->queue[(f->head + f->count) % f->cap] = a;
            f->count++;
        }
    }
    /* Nothing is released here: the pipeline may keep its input or
     * return a buffer it reuses. What it drops goes at Lua's next
     * collection (generational: soon; bench_feed.c measures the peak). */
    lua_settop(L, 0);
    if (fn == NULL)
        feed_trim(f, mw_runtime_alloc(rt));
    return 0;
}

/* }==================================================================== */

int mw_runtime_pipeline(mw_runtime *rt, const char *pipeline, const char *params)
{
    if (rt == NULL)
        return MW_EINVAL;
    feed_job job = {pipeline, params, NULL, NULL, NULL, 0, NULL};
    return mw_runtime_enter(rt, feed_choose, &job);
}

void mw_runtime_on_anomaly(mw_runtime *rt, mw_anomaly_fn fn, void *ud)
{
    if (rt == NULL)
        return;
    mw_feed *f = *mw_runtime_feed(rt);
    f->fn = fn;
    f->ud = fn != NULL ? ud : NULL;
}

int mw_runtime_push_array(mw_runtime *rt, const char *series, const double *timestamps,
                          const double *values, size_t n, double *scores)
{
    if (rt == NULL || series == NULL || (values == NULL && n > 0))
        return MW_EINVAL;
    if (n == 0)
        return MW_OK;
    feed_job job = {NULL, NULL, series, timestamps, values, n, scores};
    return mw_runtime_enter(rt, feed_push, &job);
}

int mw_runtime_push(mw_runtime *rt, const char *series, double timestamp, double value,
                    double *score)
{
    return mw_runtime_push_array(rt, series, &timestamp, &value, 1, score);
}

size_t mw_runtime_poll(mw_runtime *rt, mw_anomaly *out, size_t max)
{
    if (rt == NULL || out == NULL)
        return 0;
    mw_feed *f = *mw_runtime_feed(rt);
    size_t n = f->count < max ? f->count : max;
    for (size_t i = 0; i < n; i++)
        out[i] = f->queue[(f->head + i) % f->cap];
    if (n > 0) {
        f->head = (f->head + n) % f->cap;
        f->count -= n;
    }
    return n;
}
