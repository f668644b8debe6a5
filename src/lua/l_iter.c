/*
 * l_iter.c: generator iterators: one userdata class, driven directly by
 * Lua's generic for, with lazy combinators.
 *
 * The protocol: an iterator has a kind (its `next` and `close`), a few
 * numbers of state, and user values holding what it draws from (the
 * upstream iterators, a Lua function, a series). `next` pushes the next
 * item's values and returns how many (0: the end). Calling the iterator
 * (what a generic for does) runs `next`; at the end, or on close, the
 * iterator releases what it holds and stays exhausted for good.
 *
 * An iterator releases what it holds (a file) when it is exhausted, when
 * it is closed (it:close(), or a `local it <close> = ...` going out of
 * scope: the way to release early on a `break`), or when Lua collects it.
 * (Returning it as a generic for's closing value too would close it on
 * a break by itself, but a function returning four values surprises in
 * argument lists: mw.zip(a, mw.iter(t)).)
 *
 * Combinators live here, in the binding layer, because their items are
 * Lua values (numbers, strings, records as tables) and they call Lua
 * functions (map, filter, gen); the parsers behind the sources that need
 * one are plain C in src/iter.
 *
 * Items are never nil: nil ends a generic for.
 *
 * Under limits and in a sandbox (lua/limits.h, lua/sandbox.h): every
 * item pulled is charged as an instruction (count or skip of a huge
 * range loops in C); mw.lines opens only what the sandbox allows;
 * mw.gen counts its coroutine; a
 * generator's coroutine is never closed (its __close handlers never run)
 * from a finalizer in a sandbox, nor after a limit's error ended it,
 * since no hook would run there.
 */
#include "lua/l_iter.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lua/handle.h"
#include "lua/l_series.h"
#include "lua/limits.h"
#include "lua/sandbox.h"
#include "types/frame.h"
#include "types/list.h"
#include "types/series.h"

#define ITER_TNAME "moonwatch.iter"
#define ITER_NUSERVALUES 3

typedef mw_lua_iter iter;
typedef mw_lua_iter_kind iter_kind;

static iter *iter_check(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, ITER_TNAME);
}

/* The data area starts after the iterator, aligned as malloc aligns. */
#define ITER_DATA_OFFSET \
    ((sizeof(iter) + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t))

mw_lua_iter *mw_lua_iter_new(lua_State *L, const mw_lua_iter_kind *kind, size_t data_size)
{
    iter *it = lua_newuserdatauv(L, ITER_DATA_OFFSET + data_size, ITER_NUSERVALUES);
    memset(it, 0, ITER_DATA_OFFSET + data_size);
    it->kind = kind;
    it->data = data_size > 0 ? (char *)it + ITER_DATA_OFFSET : NULL;
    luaL_setmetatable(L, ITER_TNAME);
    return it;
}

static iter *iter_new(lua_State *L, const iter_kind *kind)
{
    return mw_lua_iter_new(L, kind, 0);
}

/* Longest pipeline: each stage is a level of C recursion in next and
 * close, so the depth is bounded well inside the C stack. */
#define ITER_MAX_DEPTH 200

/* Closes the iterator at idx and, through their own close, the
 * iterators it draws from (user value 1, and the list in user value 3
 * of zip and chain): idempotent. A close asked while the iterator's next
 * is running (a finalizer run by one of its allocations) waits until
 * next returns: next may be using what close frees. */
static void iter_close_at(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    iter *it = lua_touserdata(L, idx);
    if (it == NULL || it->kind == NULL || it->closed)
        return;
    it->done = 1;
    if (it->running) {
        it->close_pending = 1;
        return;
    }
    it->closed = 1;
    if (it->kind->close != NULL)
        it->kind->close(L, it, idx);
    luaL_checkstack(L, 4, "iterator pipeline too deep");
    if (lua_getiuservalue(L, idx, 1) == LUA_TUSERDATA && luaL_testudata(L, -1, ITER_TNAME) != NULL)
        iter_close_at(L, -1);
    lua_pop(L, 1);
    if (lua_getiuservalue(L, idx, 3) == LUA_TTABLE) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_rawgeti(L, -1, i) == LUA_TUSERDATA && luaL_testudata(L, -1, ITER_TNAME))
                iter_close_at(L, -1);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

/* Pulls the next item of the iterator at idx onto the stack; returns the
 * number of values (0 at the end, after which it is closed, with the
 * stack as it was). */
/* Items pulled between two charges to the limits. */
#define ITER_CHARGE_BATCH 256

static int iter_pull(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    iter *it = lua_touserdata(L, idx);
    if (it->running) {
        /* A next that raised left the flag: it is not running now. */
        it->running = 0;
        if (it->close_pending)
            iter_close_at(L, idx);
    }
    if (it->done)
        return 0;
    luaL_checkstack(L, 16, "iterator pipeline too deep");
    int top = lua_gettop(L);
    it->running = 1;
    int n = it->kind->next(L, it, idx);
    it->running = 0;
    /* Loops of pulls run in C (count, skip, a filter that rejects): each
     * item is charged as an instruction, so the limits end them. */
    if (++it->uncharged == ITER_CHARGE_BATCH) {
        it->uncharged = 0;
        mw_lua_limits_charge(L, ITER_CHARGE_BATCH);
    }
    if (n == 0) {
        lua_settop(L, top);
        iter_close_at(L, idx);
    } else if (it->close_pending) {
        iter_close_at(L, idx);   /* the items pushed are kept */
    }
    return n;
}

/* Returns the iterator at the top of the stack. */
static int iter_return(lua_State *L)
{
    (void)L;
    return 1;
}

/* Checks that the value at idx is an iterator, or makes one of it (a
 * series, frame, list or table: as mw.iter would) in its place. */
static void iter_coerce(lua_State *L, int idx, int arg, const char *fname);

/* ---- metamethods ----------------------------------------------------- */

static int iter_call(lua_State *L)
{
    iter_check(L, 1);
    lua_settop(L, 1);
    int n = iter_pull(L, 1);
    if (n == 0) {
        lua_pushnil(L);
        return 1;
    }
    return n;
}

static int iter_close_m(lua_State *L)
{
    iter_check(L, 1);
    iter_close_at(L, 1);
    return 0;
}

static void gen_close(lua_State *L, iter *it, int self);

static int iter_gc(lua_State *L)
{
    iter *it = lua_touserdata(L, 1);
    if (it != NULL && it->kind != NULL && !it->closed) {
        /* Nothing can be running an iterator Lua collects. */
        it->running = 0;
        it->done = 1;
        it->closed = 1;
        /* A generator's close runs its coroutine's pending __close
         * handlers, Lua code, which in a finalizer runs with hooks off,
         * beyond every limit: the sandbox leaves them to the collector,
         * unrun. */
        if (it->kind->close != NULL && !(it->kind->close == gen_close && mw_lua_sandboxed(L)))
            it->kind->close(L, it, 1);
    }
    return 0;
}

static int iter_tostring(lua_State *L)
{
    iter *it = iter_check(L, 1);
    lua_pushfstring(L, "iterator(%s%s)", it->kind ? it->kind->name : "?",
                    it->done ? ", exhausted" : "");
    return 1;
}

/* ---- sources ----------------------------------------------------------- */

/* mw.range(a, b [, step]): the numbers of Lua's `for v = a, b, step`. */
static int range_next(lua_State *L, iter *it, int self)
{
    (void)self;
    if (it->step != 0) {   /* integer loop: count holds the values left */
        if (it->count <= 0)
            return 0;
        lua_pushinteger(L, it->limit);
        it->limit = (lua_Integer)((lua_Unsigned)it->limit + (lua_Unsigned)it->step);
        it->count--;
        return 1;
    }
    if (it->by > 0 ? it->from > it->to : it->from < it->to)
        return 0;
    lua_pushnumber(L, (lua_Number)it->from);
    it->from += it->by;
    return 1;
}

static const iter_kind range_kind = { "range", range_next, NULL };

static int mw_range(lua_State *L)
{
    luaL_checknumber(L, 1);
    luaL_checknumber(L, 2);
    if (lua_isnoneornil(L, 3)) {
        lua_settop(L, 2);
        lua_pushinteger(L, 1);
    }
    luaL_checknumber(L, 3);
    if (lua_isinteger(L, 1) && lua_isinteger(L, 3)) {
        lua_Integer a = lua_tointeger(L, 1), s = lua_tointeger(L, 3), b;
        luaL_argcheck(L, s != 0, 3, "step must not be zero");
        iter *it = iter_new(L, &range_kind);
        it->limit = a;
        it->step = s;
        it->count = mw_lua_for_limit(L, 2, s, &b) ? mw_lua_for_count(a, b, s) : 0;
        return iter_return(L);
    }
    double s = (double)lua_tonumber(L, 3);
    luaL_argcheck(L, s != 0 && !isnan(s), 3, "step must not be zero");
    luaL_argcheck(L, !isnan(lua_tonumber(L, 1)) && !isnan(lua_tonumber(L, 2)), 1,
                  "start and stop must not be NaN");
    iter *it = iter_new(L, &range_kind);
    it->from = (double)lua_tonumber(L, 1);
    it->to = (double)lua_tonumber(L, 2);
    it->by = s;
    return iter_return(L);
}

/* mw.iter(series | frame | list | table): its values (rows of a frame as
 * tables {name = value}). A table is iterated as an array. */
static int over_next(lua_State *L, iter *it, int self)
{
    lua_getiuservalue(L, self, 1);
    int src = lua_gettop(L);
    lua_Integer i = it->count + 1;
    mw_handle *h = mw_lua_test_handle(L, src);
    if (h != NULL) {
        if (h->obj == NULL)
            return luaL_error(L, "iterator source was released");
        if (mw_is_series(h->obj)) {
            mw_series *s = mw_series_cast(h->obj);
            if ((lua_Unsigned)i > s->len) {
                lua_settop(L, src - 1);
                return 0;
            }
            lua_pushnumber(L, (lua_Number)mw_series_values(s)[i - 1]);
        } else if (h->obj->type == &mw_frame_type) {
            if ((lua_Unsigned)i > mw_frame_cast(h->obj)->nrows) {
                lua_settop(L, src - 1);
                return 0;
            }
            lua_getfield(L, src, "row");
            lua_pushvalue(L, src);
            lua_pushinteger(L, i);
            lua_call(L, 2, 1);
        } else {
            if ((lua_Unsigned)i > mw_list_cast(h->obj)->len) {
                lua_settop(L, src - 1);
                return 0;
            }
            lua_geti(L, src, i);
        }
    } else {
        if (lua_geti(L, src, i) == LUA_TNIL) {
            lua_settop(L, src - 1);
            return 0;
        }
    }
    lua_remove(L, src);
    it->count = i;
    return 1;
}

static const iter_kind over_kind = { "iter", over_next, NULL };

static void iter_coerce(lua_State *L, int idx, int arg, const char *fname)
{
    idx = lua_absindex(L, idx);
    if (luaL_testudata(L, idx, ITER_TNAME) != NULL)
        return;
    mw_handle *h = mw_lua_test_handle(L, idx);
    int ok = lua_istable(L, idx)
             || (h != NULL && h->obj != NULL
                 && (mw_is_series(h->obj) || h->obj->type == &mw_frame_type
                     || mw_is_list(h->obj)));
    if (!ok)
        luaL_error(L, "bad argument #%d to '%s' (iterator, series, frame, list or table expected, got %s)",
                   arg, fname, h != NULL && h->obj != NULL ? h->obj->type->name
                                                           : luaL_typename(L, idx));
    iter_new(L, &over_kind);
    lua_pushvalue(L, idx);
    lua_setiuservalue(L, -2, 1);
    lua_replace(L, idx);
}

static int mw_iter(lua_State *L)
{
    luaL_checkany(L, 1);
    lua_settop(L, 1);
    iter_coerce(L, 1, 1, "iter");
    return iter_return(L);
}

/* mw.lines(path | "-"): the lines of a file, without their newline,
 * read one at a time (constant memory whatever the file's size). */
static int lines_next(lua_State *L, iter *it, int self)
{
    (void)self;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    int c = EOF;
    size_t n = 0;
    char *p = luaL_prepbuffer(&b);
    while ((c = getc(it->file)) != EOF && c != '\n') {
        if (n == LUAL_BUFFERSIZE) {
            luaL_addsize(&b, n);
            p = luaL_prepbuffer(&b);
            n = 0;
        }
        p[n++] = (char)c;
    }
    luaL_addsize(&b, n);
    if (c == EOF && ferror(it->file))
        return luaL_error(L, "error reading line %I: %s", (LUAI_UACINT)(it->count + 1),
                          strerror(errno));
    if (c == EOF && n == 0 && luaL_bufflen(&b) == 0) {
        luaL_pushresult(&b);
        lua_pop(L, 1);
        return 0;
    }
    luaL_pushresult(&b);
    size_t len;
    const char *s = lua_tolstring(L, -1, &len);
    if (len > 0 && s[len - 1] == '\r') {   /* CRLF files */
        lua_pushlstring(L, s, len - 1);
        lua_remove(L, -2);
    }
    it->count++;
    return 1;
}

static void lines_close(lua_State *L, iter *it, int self)
{
    (void)L;
    (void)self;
    if (it->file != NULL && it->owns_file)
        fclose(it->file);
    it->file = NULL;
}

static const iter_kind lines_kind = { "lines", lines_next, lines_close };

static int mw_lines(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char resolved[PATH_MAX];
    const char *open_path = mw_lua_sandbox_readable(L, path, resolved, NULL);
    iter *it = iter_new(L, &lines_kind);
    if (strcmp(path, "-") == 0) {
        it->file = stdin;
        return iter_return(L);
    }
    it->file = fopen(open_path, "r");
    if (it->file == NULL) {
        it->done = 1;
        return luaL_error(L, "cannot open '%s': %s", path, strerror(errno));
    }
    it->owns_file = 1;
    return iter_return(L);
}

/* mw.gen(fn): items from a Lua function run as a coroutine; fn receives
 * a `yield` function: mw.gen(function(yield) for i = 1, 3 do yield(i) end end). */
static int gen_next(lua_State *L, iter *it, int self)
{
    lua_getiuservalue(L, self, 1);
    lua_State *co = lua_tothread(L, -1);
    lua_pop(L, 1);
    int status = lua_status(co);
    if (status != LUA_OK && status != LUA_YIELD)
        return 0;
    if (status == LUA_OK && lua_gettop(co) == 0)
        return 0;   /* finished earlier */
    /* The first resume starts fn with `yield` as its argument. */
    int nres, nargs = it->count == 0 ? 1 : 0;
    it->count++;
    status = lua_resume(co, L, nargs, &nres);
    if (status == LUA_YIELD) {
        if (nres == 0 || lua_isnil(co, -nres)) {
            lua_pop(co, nres);
            return luaL_error(L, "generator yielded nil (nil ends a for loop: yield a value)");
        }
        luaL_checkstack(L, nres, "too many values yielded");
        lua_xmove(co, L, nres);
        return nres;
    }
    if (status == LUA_OK) {
        lua_pop(co, nres);
        return 0;
    }
    /* An error inside the generator: raise it here; a message gets the
     * generator's traceback, any other error value passes unchanged. */
    lua_xmove(co, L, 1);
    if (lua_type(L, -1) == LUA_TSTRING)
        luaL_traceback(L, co, lua_tostring(L, -1), 0);
    return lua_error(L);
}

/* Closes a suspended generator's coroutine, so its pending to-be-closed
 * variables run now (a file it opened is closed at a break). */
static void gen_close(lua_State *L, iter *it, int self)
{
    (void)it;
    if (lua_getiuservalue(L, self, 1) == LUA_TTHREAD) {
        lua_State *co = lua_tothread(L, -1);
        /* A coroutine ended by a limit's error is still marked as inside
         * the hook that raised it: its __close handlers would run with no
         * hook, beyond every limit (lua/limits.h). */
        int limited = lua_status(co) != LUA_OK && lua_status(co) != LUA_YIELD &&
                      mw_lua_limits_get(L) != NULL;
        if (!limited && (lua_status(co) == LUA_YIELD || lua_gettop(co) > 0))
            lua_resetthread(co);
    }
    lua_pop(L, 1);
}

static const iter_kind gen_kind = { "gen", gen_next, gen_close };

static int gen_yield(lua_State *L)
{
    return lua_yield(L, lua_gettop(L));
}

static int mw_gen(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    mw_lua_limits_coroutine(L);
    iter_new(L, &gen_kind);
    lua_State *co = lua_newthread(L);
    lua_pushvalue(L, 1);
    lua_pushcfunction(L, gen_yield);
    lua_xmove(L, co, 2);                     /* co: fn, yield */
    lua_setiuservalue(L, -2, 1);
    return iter_return(L);
}

/* ---- combinators ------------------------------------------------------- */

/* Makes a combinator of `kind` over the iterator (or iterable) at arg 1;
 * extra user value 2 from the value at extra_idx if non-zero. */
static iter *comb_new(lua_State *L, const iter_kind *kind, const char *fname, int extra_idx)
{
    iter_coerce(L, 1, 1, fname);
    int depth = ((iter *)lua_touserdata(L, 1))->depth + 1;
    if (depth > ITER_MAX_DEPTH)
        luaL_error(L, "iterator pipeline too deep (more than %d stages)", ITER_MAX_DEPTH);
    iter *it = iter_new(L, kind);
    it->depth = depth;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    if (extra_idx != 0) {
        lua_pushvalue(L, extra_idx);
        lua_setiuservalue(L, -2, 2);
    }
    return it;
}

/* Pulls from upstream (user value 1 of self); returns the value count. */
static int comb_pull(lua_State *L, int self)
{
    lua_getiuservalue(L, self, 1);
    int up = lua_gettop(L);
    int n = iter_pull(L, up);
    lua_remove(L, up);
    return n;
}

static int take_next(lua_State *L, iter *it, int self)
{
    if (it->count >= it->limit)
        return 0;
    int n = comb_pull(L, self);
    if (n > 0)
        it->count++;
    return n;
}

static const iter_kind take_kind = { "take", take_next, NULL };

static int it_take(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 0, 2, "count must not be negative");
    iter *it = comb_new(L, &take_kind, "take", 0);
    it->limit = n;
    return iter_return(L);
}

static int skip_next(lua_State *L, iter *it, int self)
{
    while (it->count < it->limit) {
        int n = comb_pull(L, self);
        if (n == 0)
            return 0;
        lua_pop(L, n);
        it->count++;
    }
    return comb_pull(L, self);
}

static const iter_kind skip_kind = { "skip", skip_next, NULL };

static int it_skip(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 0, 2, "count must not be negative");
    iter *it = comb_new(L, &skip_kind, "skip", 0);
    it->limit = n;
    return iter_return(L);
}

/* map(fn): fn(item values...) -> new item (its first result; nil ends). */
static int map_next(lua_State *L, iter *it, int self)
{
    (void)it;
    int base = lua_gettop(L);
    lua_getiuservalue(L, self, 2);
    int n = comb_pull(L, self);
    if (n == 0) {
        lua_settop(L, base);
        return 0;
    }
    lua_call(L, n, 1);
    if (lua_isnil(L, -1))
        return luaL_error(L, "map function returned nil (nil would end the loop)");
    return 1;
}

static const iter_kind map_kind = { "map", map_next, NULL };

static int it_map(lua_State *L)
{
    luaL_checktype(L, 2, LUA_TFUNCTION);
    comb_new(L, &map_kind, "map", 2);
    return iter_return(L);
}

/* filter(fn): the items for which fn(item values...) is true. */
static int filter_next(lua_State *L, iter *it, int self)
{
    (void)it;
    for (;;) {
        int base = lua_gettop(L);
        int n = comb_pull(L, self);
        if (n == 0)
            return 0;
        lua_getiuservalue(L, self, 2);
        for (int i = 1; i <= n; i++)
            lua_pushvalue(L, base + i);
        lua_call(L, n, 1);
        int keep = lua_toboolean(L, -1);
        lua_pop(L, 1);
        if (keep)
            return n;
        lua_settop(L, base);
    }
}

static const iter_kind filter_kind = { "filter", filter_next, NULL };

static int it_filter(lua_State *L)
{
    luaL_checktype(L, 2, LUA_TFUNCTION);
    comb_new(L, &filter_kind, "filter", 2);
    return iter_return(L);
}

/* enumerate(): i, item values... */
static int enumerate_next(lua_State *L, iter *it, int self)
{
    int base = lua_gettop(L);
    lua_pushinteger(L, it->count + 1);
    int n = comb_pull(L, self);
    if (n == 0) {
        lua_settop(L, base);
        return 0;
    }
    it->count++;
    return n + 1;
}

static const iter_kind enumerate_kind = { "enumerate", enumerate_next, NULL };

static int it_enumerate(lua_State *L)
{
    comb_new(L, &enumerate_kind, "enumerate", 0);
    return iter_return(L);
}

/* zip(a, b, ...) and chain(a, b, ...): user value 3 is the array of
 * iterators. zip yields one value of each (their first values) and ends
 * with the shortest; chain yields all of a, then all of b, ... */
static void multi_new(lua_State *L, const iter_kind *kind, const char *fname)
{
    int n = lua_gettop(L);
    if (n == 0)
        luaL_error(L, "bad argument #1 to '%s' (iterator expected, got no value)", fname);
    luaL_checkstack(L, n + 8, "too many iterators");
    int depth = 0;
    for (int i = 1; i <= n; i++) {
        iter_coerce(L, i, i, fname);
        int d = ((iter *)lua_touserdata(L, i))->depth;
        depth = d > depth ? d : depth;
    }
    if (depth + 1 > ITER_MAX_DEPTH)
        luaL_error(L, "iterator pipeline too deep (more than %d stages)", ITER_MAX_DEPTH);
    iter *it = iter_new(L, kind);
    it->depth = depth + 1;
    lua_createtable(L, n, 0);
    for (int i = 1; i <= n; i++) {
        lua_pushvalue(L, i);
        lua_rawseti(L, -2, i);
    }
    lua_setiuservalue(L, -2, 3);
}

static int zip_next(lua_State *L, iter *it, int self)
{
    (void)it;
    int base = lua_gettop(L);
    lua_getiuservalue(L, self, 3);
    int list = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, list);
    luaL_checkstack(L, (int)n + 4, "too many iterators in zip");
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, list, i);
        int got = iter_pull(L, -1);
        if (got == 0) {
            lua_settop(L, base);
            return 0;
        }
        lua_settop(L, lua_gettop(L) - got + 1);   /* keep the first value */
        lua_remove(L, -2);                         /* the iterator */
    }
    lua_remove(L, list);
    return (int)n;
}

static const iter_kind zip_kind = { "zip", zip_next, NULL };

static int it_zip(lua_State *L)
{
    multi_new(L, &zip_kind, "zip");
    return iter_return(L);
}

static int chain_next(lua_State *L, iter *it, int self)
{
    lua_getiuservalue(L, self, 3);
    int list = lua_gettop(L);
    lua_Integer n = (lua_Integer)lua_rawlen(L, list);
    while (it->count < n) {
        lua_rawgeti(L, list, it->count + 1);
        int got = iter_pull(L, -1);
        if (got > 0) {
            lua_remove(L, -got - 1);
            lua_remove(L, list);
            return got;
        }
        lua_pop(L, 1);
        it->count++;
    }
    lua_pop(L, 1);
    return 0;
}

static const iter_kind chain_kind = { "chain", chain_next, NULL };

static int it_chain(lua_State *L)
{
    multi_new(L, &chain_kind, "chain");
    return iter_return(L);
}

/* window(n [, step]): series views of n consecutive items (numbers),
 * moving by step. The views share one buffer of n + max(n, step) values:
 * a window is valid until the next one is made (copy it to keep it), and
 * a step copies nothing except when the buffer slides back, once every
 * few windows. User value 2 is the buffer series. A last, incomplete
 * window is not yielded. */
static int window_next(lua_State *L, iter *it, int self)
{
    mw_lua_state *st = mw_lua_upstate(L);
    size_t n = (size_t)it->limit, step = (size_t)it->step;
    lua_getiuservalue(L, self, 2);
    int buf_idx = lua_gettop(L);
    size_t cap = mw_lua_check_series(L, buf_idx)->len;
    size_t start = it->count == 0 ? 0 : it->pos + step;
    size_t end = it->end, discard = 0;
    if (start + n > cap) {
        double *v = mw_series_values(mw_lua_check_series(L, buf_idx));
        if (start < end) {
            memmove(v, v + start, (end - start) * sizeof(double));
            end -= start;
        } else {
            discard = start - end;
            end = 0;
        }
        start = 0;
    }
    while (discard > 0 || end < start + n) {
        int got = comb_pull(L, self);
        if (got == 0)
            return 0;
        if (lua_type(L, -got) != LUA_TNUMBER)
            return luaL_error(L, "window: items must be numbers, got %s", luaL_typename(L, -got));
        double x = (double)lua_tonumber(L, -got);
        lua_pop(L, got);
        if (discard > 0) {
            discard--;
            continue;
        }
        /* Fetch the buffer again: the pull may have run any Lua code. */
        mw_series_values(mw_lua_check_series(L, buf_idx))[end++] = x;
    }
    it->pos = start;
    it->end = end;
    mw_handle *h = mw_lua_new_handle(L, st, &mw_series_type);
    mw_series *view = mw_series_slice(st->heap, mw_lua_check_series(L, buf_idx), start, n);
    if (view == NULL)
        return mw_lua_status_error(L, mw_heap_last_error(st->heap));
    mw_lua_bind(L, st, h, &view->ob);
    lua_remove(L, buf_idx);
    it->count++;
    return 1;
}

static const iter_kind window_kind = { "window", window_next, NULL };

static int it_window(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    lua_Integer n = luaL_checkinteger(L, 2);
    lua_Integer step = luaL_optinteger(L, 3, 1);
    luaL_argcheck(L, n >= 1 && n <= LUA_MAXINTEGER / 4, 2, "window size must be 1 or more");
    luaL_argcheck(L, step >= 1 && step <= LUA_MAXINTEGER / 4, 3, "step must be 1 or more");
    lua_settop(L, 3);
    mw_lua_push_new_series(L, st, (size_t)(n + (step > n ? step : n)), 0, 1);   /* 4 */
    iter *it = comb_new(L, &window_kind, "window", 4);
    it->limit = n;
    it->step = step;
    return iter_return(L);
}

/* ---- gathering: batch, collect, count ---------------------------------- */

/* Gathers up to max items of the iterator at src. Numbers become one
 * series; records (tables) become a frame with a column per string key
 * of the first record (ordered by name; a missing or non-number value is
 * NaN). Pushes the result and returns the number of items, or pushes
 * nothing and returns 0 at the end. If frame_of_numbers, numbers come as
 * a frame with one column, "value". */
static lua_Integer gather(lua_State *L, int src, lua_Integer max, int frame_of_numbers)
{
    mw_lua_state *st = mw_lua_upstate(L);
    src = lua_absindex(L, src);
    int got = iter_pull(L, src);
    if (got == 0)
        return 0;
    lua_settop(L, lua_gettop(L) - got + 1);        /* the item's first value */
    int item = lua_gettop(L);
    lua_Integer count = 0;
    if (lua_type(L, item) == LUA_TNUMBER) {
        mw_series *s = mw_lua_push_new_series(L, st, 0, 0, 0);
        int out = lua_gettop(L);
        for (;;) {
            if (lua_type(L, item) != LUA_TNUMBER)
                return luaL_error(L, "item %I is a %s, not a number like the first",
                                  (LUAI_UACINT)(count + 1), luaL_typename(L, item));
            s = mw_lua_check_series(L, out);
            mw_status status = mw_series_append(st->heap, s, (double)lua_tonumber(L, item), 0);
            if (status != MW_OK)
                return mw_lua_status_error(L, status);
            count++;
            lua_remove(L, item);
            out--;
            if (count >= max || (got = iter_pull(L, src)) == 0)
                break;
            lua_settop(L, lua_gettop(L) - got + 1);
            lua_insert(L, out);                     /* item below the result */
            item = out;
            out++;
        }
        if (frame_of_numbers) {
            lua_createtable(L, 0, 1);
            lua_pushvalue(L, -2);
            lua_setfield(L, -2, "value");
            lua_getfield(L, lua_upvalueindex(2), "frame");
            lua_insert(L, -2);
            lua_call(L, 1, 1);
            lua_remove(L, -2);
        }
        return count;
    }
    if (lua_type(L, item) != LUA_TTABLE)
        return luaL_error(L, "items must be numbers or records (tables), got %s",
                          luaL_typename(L, item));
    /* Columns from the first record's string keys, by name. */
    lua_newtable(L);
    int names = lua_gettop(L);
    lua_Integer ncols = 0;
    lua_pushnil(L);
    while (lua_next(L, item) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            lua_pushvalue(L, -1);
            lua_rawseti(L, names, ++ncols);
        }
    }
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_remove(L, -2);
    lua_pushvalue(L, names);
    lua_call(L, 1, 0);
    lua_createtable(L, (int)ncols, 0);              /* the column series */
    int cols = lua_gettop(L);
    for (lua_Integer c = 1; c <= ncols; c++) {
        mw_lua_push_new_series(L, st, 0, 0, 0);
        lua_rawseti(L, cols, c);
    }
    for (;;) {
        if (lua_type(L, item) != LUA_TTABLE)
            return luaL_error(L, "item %I is a %s, not a record like the first",
                              (LUAI_UACINT)(count + 1), luaL_typename(L, item));
        for (lua_Integer c = 1; c <= ncols; c++) {
            lua_rawgeti(L, names, c);
            lua_gettable(L, item);
            double v = lua_type(L, -1) == LUA_TNUMBER ? (double)lua_tonumber(L, -1) : NAN;
            lua_pop(L, 1);
            lua_rawgeti(L, cols, c);
            mw_status status = mw_series_append(st->heap, mw_lua_check_series(L, -1), v, 0);
            lua_pop(L, 1);
            if (status != MW_OK)
                return mw_lua_status_error(L, status);
        }
        count++;
        if (count >= max || (got = iter_pull(L, src)) == 0)
            break;
        lua_settop(L, lua_gettop(L) - got + 1);
        lua_replace(L, item);
    }
    /* The frame, through mw.frame's constructor (columns by name). */
    lua_getfield(L, lua_upvalueindex(2), "frame");
    lua_createtable(L, 0, (int)ncols);
    for (lua_Integer c = 1; c <= ncols; c++) {
        lua_rawgeti(L, names, c);
        lua_rawgeti(L, cols, c);
        lua_rawset(L, -3);
    }
    lua_call(L, 1, 1);
    lua_replace(L, item);
    lua_settop(L, item);
    return count;
}

static int batch_next(lua_State *L, iter *it, int self)
{
    lua_getiuservalue(L, self, 1);
    int up = lua_gettop(L);
    lua_Integer n = gather(L, up, it->limit, 1);
    if (n == 0) {
        lua_settop(L, up - 1);
        return 0;
    }
    lua_remove(L, up);
    it->count++;
    return 1;
}

static const iter_kind batch_kind = { "batch", batch_next, NULL };

/* batch(n): frames of up to n items (records as columns; numbers as a
 * column "value"): the bridge to batch processing. */
static int it_batch(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 1, 2, "batch size must be 1 or more");
    iter *it = comb_new(L, &batch_kind, "batch", 0);
    it->limit = n;
    return iter_return(L);
}

/* collect(): all items as a series (numbers) or a frame (records); an
 * empty series if there are none. */
static int it_collect(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    lua_settop(L, 1);
    iter_coerce(L, 1, 1, "collect");
    if (gather(L, 1, LUA_MAXINTEGER, 0) == 0)
        mw_lua_push_new_series(L, st, 0, 0, 0);
    return 1;
}

/* count(): the number of items left (consumes them). */
static int it_count(lua_State *L)
{
    lua_settop(L, 1);
    iter_coerce(L, 1, 1, "count");
    lua_Integer n = 0;
    int got;
    while ((got = iter_pull(L, 1)) > 0) {
        lua_pop(L, got);
        n++;
    }
    lua_pushinteger(L, n);
    return 1;
}

/* errors(): malformed items a source skipped (on_error = "skip"). */
static int it_errors(lua_State *L)
{
    lua_pushinteger(L, iter_check(L, 1)->errors);
    return 1;
}

/* ---- registration ------------------------------------------------------ */

void mw_lua_open_iter(lua_State *L, mw_lua_state *st)
{
    /* The module table is at -1: combinators reach mw.frame through it
     * (upvalue 2). */
    int module = lua_gettop(L);
    static const luaL_Reg methods[] = {
        {"take", it_take},
        {"skip", it_skip},
        {"map", it_map},
        {"filter", it_filter},
        {"enumerate", it_enumerate},
        {"zip", it_zip},
        {"chain", it_chain},
        {"window", it_window},
        {"batch", it_batch},
        {"collect", it_collect},
        {"count", it_count},
        {"close", iter_close_m},
        {"errors", it_errors},
        {NULL, NULL}
    };
    luaL_newmetatable(L, ITER_TNAME);
    lua_createtable(L, 0, 16);
    lua_pushlightuserdata(L, st);
    lua_pushvalue(L, module);
    luaL_setfuncs(L, methods, 2);
    lua_setfield(L, -2, "__index");
    static const luaL_Reg meta[] = {
        {"__call", iter_call},
        {"__close", iter_close_m},
        {"__gc", iter_gc},
        {"__tostring", iter_tostring},
        {NULL, NULL}
    };
    lua_pushlightuserdata(L, st);
    lua_pushvalue(L, module);
    luaL_setfuncs(L, meta, 2);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);

    static const luaL_Reg funcs[] = {
        {"range", mw_range},
        {"iter", mw_iter},
        {"lines", mw_lines},
        {"gen", mw_gen},
        {"zip", it_zip},
        {"chain", it_chain},
        {NULL, NULL}
    };
    lua_pushlightuserdata(L, st);
    lua_pushvalue(L, module);
    luaL_setfuncs(L, funcs, 2);
}
