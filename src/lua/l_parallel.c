/*
 * l_parallel.c: mw.parallel.map, items spread over independent runtimes
 * on threads (see l_parallel.h).
 *
 * What crosses between states is bytes: the items, the source's extra
 * arguments, each result and each error are written into a transfer
 * buffer by the state they come from and read into a new value by the
 * state they go to. The format (one tag byte, then the value):
 *   nil, false, true; an integer or a float (8 bytes, host order);
 *   a string (u64 length, bytes); a series (u64 n, n doubles, a byte
 *   saying whether n int64 timestamps follow); a table (u64 pairs, then
 *   key and value of each pair).
 * Tables nest at most PAR_MAX_DEPTH deep (which also stops cycles);
 * functions, coroutines and other userdata cannot cross.
 *
 * Invariants:
 * - A worker state belongs to its thread from creation to lua_close; the
 *   states share nothing. The shared job is touched under its mutex only
 *   for the next item's index, the stop flag, the setup error and the
 *   peak sum; each item's result and error slots are written by the one
 *   thread that ran the item and read by the caller after every thread
 *   has been joined.
 * - Transfer buffers come from malloc, outside every runtime's accounting
 *   (they are in flight between two allocators, which are not
 *   thread-safe); they belong to the job, a userdata on the caller's stack
 *   whose __gc frees them, so an error raised in the caller leaks nothing.
 * - The caller raises nothing while threads run.
 * - After an item fails, no thread starts another: items not started have
 *   neither a result nor an error (stats.skipped counts them).
 */
#include "lua/l_parallel.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "core/alloc.h"
#include "lua/handle.h"
#include "lua/l_series.h"
#include "moonwatch.h"
#include "types/series.h"

#define PAR_MAX_RUNTIMES 256
#define PAR_MAX_DEPTH 32
#define PAR_MAX_TRANSFER (1 << 30)  /* bytes of one value in transit */
#define PAR_JOB "moonwatch.parallel_job"

enum { PAR_NIL, PAR_FALSE, PAR_TRUE, PAR_INT, PAR_FLOAT, PAR_STRING, PAR_SERIES, PAR_TABLE };

/* {====================================================================
 * Transfer buffers
 * ===================================================================== */

typedef struct par_buf {
    unsigned char *p;
    size_t len, cap;
    int failed;              /* a grow failed: the contents are not whole */
} par_buf;

static void buf_free(par_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void buf_put(par_buf *b, const void *data, size_t n)
{
    if (b->failed)
        return;
    if (n > b->cap - b->len) {
        size_t cap = b->cap < 64 ? 64 : b->cap;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = 1;
                return;
            }
            cap *= 2;
        }
        unsigned char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->len, data, n);
    b->len += n;
}

static void buf_byte(par_buf *b, unsigned char c)
{
    buf_put(b, &c, 1);
}

static void buf_u64(par_buf *b, uint64_t x)
{
    buf_put(b, &x, sizeof x);
}

/* Writes the value at idx into b. Returns 1, or 0 with the reason in why
 * (whycap bytes). Never raises (runs in worker states too, where a
 * failure becomes the item's error). */
static int par_write(lua_State *L, int idx, par_buf *b, int depth, char *why, size_t whycap)
{
    /* A table shared many times over (a DAG) is written each time: the
     * size is bounded so that no value grows without end in transit. */
    if (b->len > PAR_MAX_TRANSFER) {
        snprintf(why, whycap, "a value of more than %d MiB cannot go to another runtime",
                 PAR_MAX_TRANSFER >> 20);
        return 0;
    }
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
    case LUA_TNONE:
        buf_byte(b, PAR_NIL);
        return 1;
    case LUA_TBOOLEAN:
        buf_byte(b, lua_toboolean(L, idx) ? PAR_TRUE : PAR_FALSE);
        return 1;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            lua_Integer i = lua_tointeger(L, idx);
            buf_byte(b, PAR_INT);
            buf_put(b, &i, sizeof i);
        } else {
            lua_Number x = lua_tonumber(L, idx);
            buf_byte(b, PAR_FLOAT);
            buf_put(b, &x, sizeof x);
        }
        return 1;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        buf_byte(b, PAR_STRING);
        buf_u64(b, len);
        buf_put(b, s, len);
        return 1;
    }
    case LUA_TUSERDATA: {
        mw_handle *h = mw_lua_test_handle(L, idx);
        if (h != NULL && h->obj != NULL && mw_is_series(h->obj)) {
            const mw_series *s = mw_series_cast(h->obj);
            const int64_t *stamps = mw_series_stamps(s);
            buf_byte(b, PAR_SERIES);
            buf_u64(b, s->len);
            if (s->len > 0)
                buf_put(b, mw_series_values(s), s->len * sizeof(double));
            buf_byte(b, stamps != NULL);
            if (stamps != NULL && s->len > 0)
                buf_put(b, stamps, s->len * sizeof(int64_t));
            return 1;
        }
        if (h != NULL && h->obj == NULL) {
            snprintf(why, whycap, "a released object cannot go to another runtime");
            return 0;
        }
        break;
    }
    case LUA_TTABLE: {
        if (depth >= PAR_MAX_DEPTH) {
            snprintf(why, whycap, "tables nested more than %d deep (or a cycle) cannot go to "
                                  "another runtime", PAR_MAX_DEPTH);
            return 0;
        }
        if (!lua_checkstack(L, 4)) {
            snprintf(why, whycap, "stack overflow");
            return 0;
        }
        uint64_t pairs = 0;
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            pairs++;
            lua_pop(L, 1);
        }
        buf_byte(b, PAR_TABLE);
        buf_u64(b, pairs);
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            if (!par_write(L, -2, b, depth + 1, why, whycap) ||
                !par_write(L, -1, b, depth + 1, why, whycap)) {
                lua_pop(L, 2);
                return 0;
            }
            lua_pop(L, 1);
        }
        return 1;
    }
    default:
        break;
    }
    const char *name = luaL_typename(L, idx);
    if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING)
        name = lua_tostring(L, -1);
    snprintf(why, whycap, "a %s cannot go to another runtime (only nil, booleans, numbers, "
                          "strings, series and tables of them)", name);
    if (name != luaL_typename(L, idx))
        lua_pop(L, 1);
    return 0;
}

typedef struct par_reader {
    const unsigned char *p, *end;
} par_reader;

static int read_bytes(par_reader *r, void *out, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return 0;
    memcpy(out, r->p, n);
    r->p += n;
    return 1;
}

/* Pushes the value r is at. Raises on memory exhaustion; a buffer this
 * file did not write (it cannot happen) raises "corrupt transfer". */
static void par_read(lua_State *L, mw_lua_state *st, par_reader *r, int depth)
{
    unsigned char tag = 0;
    if (depth > PAR_MAX_DEPTH || !read_bytes(r, &tag, 1))
        luaL_error(L, "mw.parallel: corrupt transfer");
    luaL_checkstack(L, 4, "mw.parallel: values nested too deep");
    switch (tag) {
    case PAR_NIL:
        lua_pushnil(L);
        return;
    case PAR_FALSE:
    case PAR_TRUE:
        lua_pushboolean(L, tag == PAR_TRUE);
        return;
    case PAR_INT: {
        lua_Integer i;
        if (!read_bytes(r, &i, sizeof i))
            break;
        lua_pushinteger(L, i);
        return;
    }
    case PAR_FLOAT: {
        lua_Number x;
        if (!read_bytes(r, &x, sizeof x))
            break;
        lua_pushnumber(L, x);
        return;
    }
    case PAR_STRING: {
        uint64_t len;
        if (!read_bytes(r, &len, sizeof len) || (uint64_t)(r->end - r->p) < len)
            break;
        lua_pushlstring(L, (const char *)r->p, (size_t)len);
        r->p += len;
        return;
    }
    case PAR_SERIES: {
        uint64_t n;
        if (!read_bytes(r, &n, sizeof n) || (uint64_t)(r->end - r->p) / sizeof(double) < n)
            break;
        const unsigned char *values = r->p;
        r->p += n * sizeof(double);
        unsigned char stamps;
        if (!read_bytes(r, &stamps, 1) ||
            (stamps && (uint64_t)(r->end - r->p) / sizeof(int64_t) < n))
            break;
        mw_series *s = mw_lua_push_new_series(L, st, (size_t)n, stamps, 0);
        if (n > 0) {
            memcpy(mw_series_values(s), values, (size_t)n * sizeof(double));
            if (stamps)
                memcpy(mw_series_stamps(s), r->p, (size_t)n * sizeof(int64_t));
        }
        if (stamps)
            r->p += n * sizeof(int64_t);
        return;
    }
    case PAR_TABLE: {
        uint64_t pairs;
        if (!read_bytes(r, &pairs, sizeof pairs))
            break;
        lua_createtable(L, 0, pairs < 1024 ? (int)pairs : 1024);
        for (uint64_t k = 0; k < pairs; k++) {
            par_read(L, st, r, depth + 1);
            par_read(L, st, r, depth + 1);
            if (lua_isnil(L, -2)) {
                lua_pop(L, 2);
                continue;
            }
            lua_rawset(L, -3);
        }
        return;
    }
    default:
        break;
    }
    luaL_error(L, "mw.parallel: corrupt transfer");
}

static void par_push_buf(lua_State *L, mw_lua_state *st, const par_buf *b)
{
    par_reader r = {b->p, b->p + b->len};
    par_read(L, st, &r, 0);
}

/* }==================================================================== */

/* {====================================================================
 * The job and its workers
 * ===================================================================== */

typedef struct par_job {
    int n_items;
    par_buf *items;          /* n_items, written by the caller */
    par_buf *results;        /* n_items, each by the worker that ran it */
    par_buf *errors;         /* n_items: len 0 = no error */
    unsigned char *done;     /* n_items: 1 once run, 2 if it failed */
    par_buf args;            /* a list: the source's arguments */
    const char *source;      /* borrowed from the caller's stack */
    size_t source_len;
    const char *chunkname;   /* borrowed too */
    size_t budget;           /* per runtime; 0: none */
    pthread_mutex_t lock;
    int lock_ready;
    int next;                /* the next item to start */
    int stop;                /* an item failed: start no more */
    int setup_failed;
    char setup_error[512];
    size_t peak_sum;         /* the runtimes' peaks, added up */
} par_job;

/* The job's __gc: frees every buffer. */
static int par_job_gc(lua_State *L)
{
    par_job *job = luaL_checkudata(L, 1, PAR_JOB);
    for (int i = 0; i < job->n_items; i++) {
        if (job->items != NULL)
            buf_free(&job->items[i]);
        if (job->results != NULL)
            buf_free(&job->results[i]);
        if (job->errors != NULL)
            buf_free(&job->errors[i]);
    }
    free(job->items);
    free(job->results);
    free(job->errors);
    free(job->done);
    buf_free(&job->args);
    job->items = job->results = job->errors = NULL;
    job->done = NULL;
    job->n_items = 0;
    if (job->lock_ready)
        pthread_mutex_destroy(&job->lock);
    job->lock_ready = 0;
    return 0;
}

/* In a worker state: the libraries, the module as `mw`, then the
 * source, called with the arguments; leaves the function it returns. */
static int par_setup(lua_State *L)
{
    par_job *job = lua_touserdata(L, 1);
    lua_settop(L, 0);
    luaL_openlibs(L);
    luaL_requiref(L, "moonwatch", luaopen_moonwatch, 0);
    lua_setglobal(L, "mw");
    mw_lua_state *st = mw_lua_state_open(L);
    if (luaL_loadbufferx(L, job->source, job->source_len, job->chunkname, "t") != LUA_OK)
        return lua_error(L);
    par_push_buf(L, st, &job->args);
    int nargs = 0;
    lua_Integer n = luaL_len(L, 2);
    luaL_argcheck(L, n <= 200, 2, "too many arguments");
    luaL_checkstack(L, (int)n, "too many arguments");
    for (lua_Integer k = 1; k <= n; k++, nargs++)
        lua_geti(L, 2, k);
    lua_remove(L, 2);
    lua_call(L, nargs, 1);
    if (lua_type(L, -1) != LUA_TFUNCTION)
        return luaL_error(L, "the source must return a function (it returned a %s)",
                          luaL_typename(L, -1));
    return 1;
}

typedef struct par_call {
    par_job *job;
    int i;
    char why[256];
} par_call;

/* In a worker state, function at index 1: runs the item's call and writes
 * its result. */
static int par_item(lua_State *L)
{
    par_call *c = lua_touserdata(L, 2);
    lua_settop(L, 1);
    lua_pushvalue(L, 1);
    par_push_buf(L, mw_lua_state_open(L), &c->job->items[c->i]);
    lua_call(L, 1, 1);
    par_buf *out = &c->job->results[c->i];
    if (!par_write(L, -1, out, 0, c->why, sizeof c->why))
        return luaL_error(L, "result of item %d: %s", c->i + 1, c->why);
    if (out->failed)
        return luaL_error(L, "not enough memory for the result of item %d", c->i + 1);
    return 0;
}

/* In a worker state, error value at index 1, job and item as light
 * userdata 2 and 3: writes the error into the item's error slot, as a
 * value if it can cross, else as its text (a __tostring may run, and
 * raise: hence protected). */
static int par_error_protected(lua_State *L)
{
    par_job *job = lua_touserdata(L, 2);
    int i = (int)(intptr_t)lua_touserdata(L, 3);
    par_buf *err = &job->errors[i];
    char why[256];
    if (lua_isnil(L, 1)) {
        lua_pushliteral(L, "(error object is a nil value)");
        lua_replace(L, 1);
    }
    if (par_write(L, 1, err, 0, why, sizeof why) && !err->failed)
        return 0;
    buf_free(err);
    size_t len;
    const char *msg = luaL_tolstring(L, 1, &len);
    buf_byte(err, PAR_STRING);
    buf_u64(err, len);
    buf_put(err, msg, len);
    return 0;
}

/* Saves the error on top of L's stack as item i's error; if even that
 * fails (memory, a __tostring that raises), a fixed text. */
static void par_save_error(lua_State *L, par_job *job, int i)
{
    par_buf *err = &job->errors[i];
    lua_pushcfunction(L, par_error_protected);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, job);
    lua_pushlightuserdata(L, (void *)(intptr_t)i);
    if (lua_pcall(L, 3, 0, 0) != LUA_OK || err->failed || err->len == 0) {
        static const char text[] = "(error object could not be read)";
        buf_free(err);
        buf_byte(err, PAR_STRING);
        buf_u64(err, sizeof text - 1);
        buf_put(err, text, sizeof text - 1);
        if (err->failed)   /* not even that: the item still counts as failed */
            buf_free(err), err->len = 0;
    }
    lua_settop(L, 1);
}

static void par_fail_setup(par_job *job, const char *msg)
{
    pthread_mutex_lock(&job->lock);
    if (!job->setup_failed) {
        job->setup_failed = 1;
        snprintf(job->setup_error, sizeof job->setup_error, "%s", msg);
    }
    job->stop = 1;
    pthread_mutex_unlock(&job->lock);
}

static void *par_worker(void *arg)
{
    par_job *job = arg;
    mw_alloc alloc;
    mw_alloc_init(&alloc);
    /* The budget from the start: the libraries and the source's top
     * level count too. */
    alloc.budget = job->budget;
    lua_State *L = lua_newstate(mw_alloc_lua, &alloc);
    if (L == NULL) {
        par_fail_setup(job, "not enough memory for a runtime");
        return NULL;
    }
    lua_gc(L, LUA_GCGEN, 0, 0);
    lua_pushcfunction(L, par_setup);
    lua_pushlightuserdata(L, job);
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        char text[96];
        if (msg == NULL) {
            snprintf(text, sizeof text, "(error object is a %s value)", luaL_typename(L, -1));
            msg = text;
        }
        par_fail_setup(job, msg);
        lua_close(L);
        return NULL;
    }
    par_call c;
    c.job = job;
    for (;;) {
        pthread_mutex_lock(&job->lock);
        int i = job->stop || job->next >= job->n_items ? -1 : job->next++;
        pthread_mutex_unlock(&job->lock);
        if (i < 0)
            break;
        c.i = i;
        lua_settop(L, 1);
        lua_pushcfunction(L, par_item);
        lua_pushvalue(L, 1);
        lua_pushlightuserdata(L, &c);
        int status = lua_pcall(L, 2, 0, 0);
        job->done[i] = status == LUA_OK ? 1 : 2;
        if (status != LUA_OK) {
            buf_free(&job->results[i]);
            par_save_error(L, job, i);
            pthread_mutex_lock(&job->lock);
            job->stop = 1;
            pthread_mutex_unlock(&job->lock);
        }
    }
    lua_close(L);
    pthread_mutex_lock(&job->lock);
    job->peak_sum += alloc.peak;
    pthread_mutex_unlock(&job->lock);
    return NULL;
}

/* }==================================================================== */

/* mw.parallel.map(n, source, items [, opts]) -> results, errors, stats */
static int parallel_map(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 1 && n <= PAR_MAX_RUNTIMES, 1, "runtimes must be in [1, 256]");
    size_t source_len;
    const char *source = luaL_checklstring(L, 2, &source_len);
    luaL_checktype(L, 3, LUA_TTABLE);
    lua_Integer count = luaL_len(L, 3);
    luaL_argcheck(L, count >= 0 && count <= INT32_MAX, 3, "too many items");
    lua_settop(L, 4);
    const char *chunkname = "=(parallel)";
    size_t budget = 0;
    int explicit_budget = 0;
    /* Runtimes on other threads are outside the instruction and time
     * limits of this one (no hook can reach them): refused where those
     * limits are armed, rather than a way around them. */
    if ((lua_gethookmask(L) & LUA_MASKCOUNT) != 0)
        return luaL_error(L, "mw.parallel.map is not available under instruction or time limits "
                             "(its runtimes would run outside them)");
    int has_opts = !lua_isnil(L, 4);
    if (has_opts) {
        luaL_checktype(L, 4, LUA_TTABLE);
        int t = lua_getfield(L, 4, "name");                   /* index 5 */
        if (t == LUA_TSTRING) {
            chunkname = lua_pushfstring(L, "=%s", lua_tostring(L, 5));
            lua_replace(L, 5);
        } else if (t != LUA_TNIL) {
            return luaL_argerror(L, 4, "name must be a string");
        }
        if (lua_getfield(L, 4, "budget") != LUA_TNIL) {
            int isint;
            lua_Integer b = lua_tointegerx(L, -1, &isint);
            if (!isint || b < 0)
                return luaL_argerror(L, 4, "budget must be a whole number of bytes >= 0");
            budget = (size_t)b;
            explicit_budget = 1;
        }
        lua_pop(L, 1);
    } else {
        lua_pushnil(L);                                        /* index 5 */
    }

    /* Without a budget of their own, the runtimes share what is left of
     * the caller's, so that together they stay within it. */
    size_t want_runtimes = (size_t)(count < n ? count : n);
    if (!explicit_budget && st->alloc->budget != 0 && want_runtimes > 0) {
        size_t left = st->alloc->budget > st->alloc->current
                          ? st->alloc->budget - st->alloc->current : 0;
        budget = left / want_runtimes;
        if (budget == 0)
            budget = 1;   /* 0 would mean none: a runtime that cannot start */
    }

    par_job *job = lua_newuserdatauv(L, sizeof *job, 0);   /* index 6 */
    memset(job, 0, sizeof *job);
    if (luaL_newmetatable(L, PAR_JOB)) {
        lua_pushcfunction(L, par_job_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    size_t items = (size_t)count;
    job->items = calloc(items + 1, sizeof *job->items);
    job->results = calloc(items + 1, sizeof *job->results);
    job->errors = calloc(items + 1, sizeof *job->errors);
    job->done = calloc(items + 1, 1);
    if (job->items == NULL || job->results == NULL || job->errors == NULL || job->done == NULL)
        return luaL_error(L, "not enough memory");
    job->n_items = (int)count;
    char why[256];
    for (lua_Integer i = 1; i <= count; i++) {
        lua_geti(L, 3, i);
        if (!par_write(L, -1, &job->items[i - 1], 0, why, sizeof why))
            return luaL_error(L, "bad argument #3 to 'map' (item %d: %s)", (int)i, why);
        if (job->items[i - 1].failed)
            return luaL_error(L, "not enough memory");
        lua_pop(L, 1);
    }
    if (!has_opts || lua_getfield(L, 4, "args") == LUA_TNIL) {
        if (has_opts)
            lua_pop(L, 1);
        lua_createtable(L, 0, 0);
    }
    luaL_argcheck(L, lua_type(L, -1) == LUA_TTABLE, 4, "args must be a list");
    luaL_argcheck(L, luaL_len(L, -1) <= 200, 4, "at most 200 args");
    if (!par_write(L, -1, &job->args, 0, why, sizeof why))
        return luaL_error(L, "bad argument #4 to 'map' (args: %s)", why);
    if (job->args.failed)
        return luaL_error(L, "not enough memory");
    lua_pop(L, 1);
    job->source = source;
    job->source_len = source_len;
    job->chunkname = chunkname;
    job->budget = budget;
    if (pthread_mutex_init(&job->lock, NULL) != 0)
        return luaL_error(L, "cannot make a mutex");
    job->lock_ready = 1;

    /* From here until every thread is joined, nothing may raise. */
    int want = count < n ? (int)count : (int)n;
    pthread_t threads[PAR_MAX_RUNTIMES];
    int started = 0;
    for (int k = 0; k < want; k++) {
        if (pthread_create(&threads[started], NULL, par_worker, job) != 0)
            break;
        started++;
    }
    for (int k = 0; k < started; k++)
        pthread_join(threads[k], NULL);
    if (started == 0 && count > 0)
        return luaL_error(L, "mw.parallel.map: cannot start a thread");
    if (job->setup_failed)
        return luaL_error(L, "mw.parallel.map: a runtime could not start: %s", job->setup_error);

    lua_createtable(L, count < 1024 ? (int)count : 1024, 0);   /* results */
    lua_createtable(L, 0, 0);                                 /* errors */
    int failed = 0, skipped = 0;
    for (int i = 0; i < job->n_items; i++) {
        buf_free(&job->items[i]);
        if (!job->done[i]) {
            skipped++;
            continue;
        }
        if (job->done[i] == 2) {
            if (job->errors[i].len > 0)
                par_push_buf(L, st, &job->errors[i]);
            else
                lua_pushliteral(L, "not enough memory (for the error of this item too)");
            lua_rawseti(L, -2, i + 1);
            failed++;
        } else if (job->results[i].len > 0) {
            par_push_buf(L, st, &job->results[i]);
            lua_rawseti(L, -3, i + 1);
        }
        buf_free(&job->results[i]);
        buf_free(&job->errors[i]);
    }
    buf_free(&job->args);
    if (!failed) {
        lua_pop(L, 1);
        lua_pushnil(L);
    }
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, started);
    lua_setfield(L, -2, "runtimes");
    lua_pushinteger(L, (lua_Integer)job->peak_sum);
    lua_setfield(L, -2, "peak");
    lua_pushinteger(L, failed);
    lua_setfield(L, -2, "failed");
    lua_pushinteger(L, skipped);
    lua_setfield(L, -2, "skipped");
    return 3;
}

void mw_lua_open_parallel(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg funcs[] = {
        {"map", parallel_map},
        {NULL, NULL},
    };
    lua_createtable(L, 0, 1);
    mw_lua_setfuncs(L, st, funcs);
}
