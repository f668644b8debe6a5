/*
 * l_frame.c: mw.frame, named columns of equal length, and mw.ring, a
 * fixed-capacity window of doubles.
 *
 * f.name reads a column (the very series stored: writes to it are writes
 * to the frame); a column name shadows a method of the same name, and the
 * functions of mw.frame always work (mw.frame.columns(f)). Columns built
 * from a Lua table are ordered by name (a Lua table has no order); add
 * them one by one, or use f:select, to choose the order.
 */
#include "lua/l_frame.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iter/parse.h"
#include "lua/handle.h"
#include "lua/l_series.h"
#include "types/frame.h"
#include "types/ring.h"

#define FRAME_SHOW_ROWS 5

static mw_frame *frame_check(lua_State *L, int idx)
{
    return mw_frame_cast(mw_lua_check_object(L, idx, &mw_frame_type));
}

mw_frame *mw_lua_push_new_frame(lua_State *L, mw_lua_state *st)
{
    mw_handle *h = mw_lua_new_handle(L, st, &mw_frame_type);
    mw_frame *f = mw_frame_new(st->heap);
    if (f == NULL)
        mw_lua_status_error(L, mw_heap_last_error(st->heap));
    mw_lua_bind(L, st, h, &f->ob);
    return f;
}

/* Sets column `name` of the frame at fidx to the series handle at sidx. */
static void frame_set_column(lua_State *L, mw_lua_state *st, int fidx, const char *name,
                             size_t len, int sidx)
{
    mw_frame *f = frame_check(L, fidx);
    mw_series *s = mw_lua_check_series(L, sidx);
    mw_status status = mw_frame_set(st->heap, f, name, len, s);
    if (status == MW_ERANGE)
        luaL_error(L, "column '%s' has %I rows, the frame has %I", name,
                   (LUAI_UACINT)s->len, (LUAI_UACINT)f->nrows);
    if (status != MW_OK)
        mw_lua_status_error(L, status);
}

typedef struct frame_name {
    const char *bytes;
    size_t len;
    lua_Integer key;         /* index in the table of names */
} frame_name;

static int frame_name_cmp(const void *a, const void *b)
{
    const frame_name *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->bytes, y->bytes, n);
    return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* mw.frame([{name = series or table, ...}]) */
static int frame_call(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    if (!lua_isnoneornil(L, 2) && !lua_istable(L, 2))
        return luaL_error(L, "bad argument #1 to 'frame' (table expected, got %s)",
                          luaL_typename(L, 2));
    lua_settop(L, 2);
    mw_lua_push_new_frame(L, st);                   /* 3 */
    if (lua_isnil(L, 2))
        return 1;
    /* Collect the names (sorted, for a deterministic column order). The
     * names are Lua strings anchored in table 4; they may hold any bytes,
     * so they go by pointer and length. */
    lua_newtable(L);                         /* 4: names */
    lua_Integer n = 0;
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            return luaL_error(L, "bad argument #1 to 'frame' (column names must be strings, got %s)",
                              luaL_typename(L, -1));
        lua_pushvalue(L, -1);
        lua_rawseti(L, 4, ++n);
    }
    frame_name *names = lua_newuserdatauv(L, (size_t)n * sizeof *names + 1, 0);   /* 5 */
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 4, i);
        names[i - 1].bytes = lua_tolstring(L, -1, &names[i - 1].len);
        names[i - 1].key = i;
        lua_pop(L, 1);
    }
    qsort(names, (size_t)n, sizeof *names, frame_name_cmp);
    for (lua_Integer i = 0; i < n; i++) {
        lua_rawgeti(L, 4, names[i].key);
        lua_rawget(L, 2);
        mw_lua_push_series_arg(L, st, -1, "column", names[i].bytes, 0, NULL);
        frame_set_column(L, st, 3, names[i].bytes, names[i].len, lua_gettop(L));
        lua_pop(L, 2);
    }
    lua_settop(L, 3);
    return 1;
}

/* A column by name, read through the frame's handle (see handle.h). */
typedef struct frame_col_ctx {
    int frame_idx;
    int name_idx;
} frame_col_ctx;

static int frame_col_read(lua_State *L, void *ctx, mw_value *out)
{
    frame_col_ctx *c = ctx;
    mw_handle *h = lua_touserdata(L, c->frame_idx);
    if (h->obj == NULL)
        return 0;
    mw_frame *f = mw_frame_cast(h->obj);
    size_t len;
    const char *name = lua_tolstring(L, c->name_idx, &len);
    long at = mw_frame_find(f, name, len);
    if (at < 0)
        return 0;
    *out = mw_objval(MW_TOBJECT, &f->cols[at]->ob);
    return 1;
}

/* The string at kidx names a column of the frame at fidx: pushes its
 * series handle and returns 1, or returns 0 (nothing pushed). */
static int frame_push_named(lua_State *L, mw_lua_state *st, int fidx, int kidx)
{
    frame_col_ctx ctx = { lua_absindex(L, fidx), lua_absindex(L, kidx) };
    mw_value v;
    frame_check(L, fidx);
    if (!frame_col_read(L, &ctx, &v))
        return 0;
    mw_lua_push_read(L, st, frame_col_read, &ctx);
    if (lua_isnil(L, -1)) {
        /* A finalizer run by the push released the frame or dropped the
         * column: say which. */
        frame_check(L, fidx);
        luaL_error(L, "frame changed while reading column '%s'", lua_tostring(L, kidx));
    }
    return 1;
}

static int frame_index(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_handle *h = lua_touserdata(L, 1);
    if (lua_type(L, 2) == LUA_TSTRING) {
        if (h->obj != NULL && frame_push_named(L, st, 1, 2))
            return 1;
        lua_pushvalue(L, 2);
        if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL)
            return 1;
    }
    frame_check(L, 1);
    lua_pushnil(L);
    return 1;
}

/* f.name = series or table (adds or replaces), f.name = nil (removes). */
static int frame_newindex(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_frame *f = frame_check(L, 1);
    size_t len;
    const char *name = luaL_checklstring(L, 2, &len);
    if (lua_isnil(L, 3)) {
        mw_frame_remove(st->heap, f, name, len);
        return 0;
    }
    lua_settop(L, 3);
    mw_lua_push_series_arg(L, st, 3, "column", name, 0, NULL);
    frame_set_column(L, st, 1, name, len, 4);
    return 0;
}

static int frame_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)frame_check(L, 1)->nrows);
    return 1;
}

/* f:columns(): the names in order. */
static int frame_columns(lua_State *L)
{
    mw_frame *f = frame_check(L, 1);
    size_t n = f->ncols;
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        f = frame_check(L, 1);
        if (i >= f->ncols)
            break;
        lua_pushlstring(L, f->names[i]->bytes, f->names[i]->len);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* f:row(i): {name = value, ...} of row i. */
static int frame_row(lua_State *L)
{
    mw_frame *f = frame_check(L, 1);
    lua_Integer i = luaL_checkinteger(L, 2);
    if (i < 1 || (lua_Unsigned)i > f->nrows)
        return luaL_error(L, "frame row %I out of range (%I rows)", (LUAI_UACINT)i,
                          (LUAI_UACINT)f->nrows);
    size_t n = f->ncols;
    lua_createtable(L, 0, (int)n);
    for (size_t c = 0; c < n; c++) {
        f = frame_check(L, 1);
        if (c >= f->ncols || (lua_Unsigned)i > f->nrows)
            break;
        double v = mw_series_values(f->cols[c])[i - 1];
        lua_pushlstring(L, f->names[c]->bytes, f->names[c]->len);
        lua_pushnumber(L, (lua_Number)v);
        lua_rawset(L, -3);
    }
    return 1;
}

/* Pushes a new frame whose columns are slices [start, start + count) of
 * f's columns (views: no copy). */
static int frame_push_slice(lua_State *L, mw_lua_state *st, size_t start, size_t count)
{
    mw_lua_push_new_frame(L, st);
    int out = lua_gettop(L);
    for (size_t c = 0;; c++) {
        mw_frame *f = frame_check(L, 1);
        if (c >= f->ncols)
            break;
        mw_handle *h = mw_lua_new_handle(L, st, &mw_series_type);
        f = frame_check(L, 1);
        if (c >= f->ncols || start + count > f->nrows)
            return luaL_error(L, "frame changed during slice");
        mw_series *v = mw_series_slice(st->heap, f->cols[c], start, count);
        if (v == NULL)
            return mw_lua_status_error(L, mw_heap_last_error(st->heap));
        mw_lua_bind(L, st, h, &v->ob);
        mw_str *name = f->names[c];
        mw_incref(&name->ob);
        mw_status status = mw_frame_set(st->heap, frame_check(L, out), name->bytes, name->len, v);
        mw_decref(st->heap, &name->ob);
        if (status != MW_OK)
            return mw_lua_status_error(L, status);
        lua_pop(L, 1);
    }
    return 1;
}

/* f:slice([i [, j]]): rows i..j (string.sub's rules), sharing buffers. */
static int frame_slice(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_frame *f = frame_check(L, 1);
    size_t start, count;
    mw_lua_sub_range(f->nrows, luaL_optinteger(L, 2, 1), luaL_optinteger(L, 3, -1),
                     &start, &count);
    lua_settop(L, 1);
    return frame_push_slice(L, st, start, count);
}

/* f:head([n]): the first n rows (5 by default). */
static int frame_head(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_frame *f = frame_check(L, 1);
    lua_Integer n = luaL_optinteger(L, 2, FRAME_SHOW_ROWS);
    luaL_argcheck(L, n >= 0, 2, "row count must not be negative");
    size_t count = (lua_Unsigned)n < f->nrows ? (size_t)n : f->nrows;
    lua_settop(L, 1);
    return frame_push_slice(L, st, 0, count);
}

/* f:select{names}: a new frame of those columns (shared), in that order. */
static int frame_select(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    frame_check(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    mw_lua_push_new_frame(L, st);                   /* 3 */
    lua_Integer n = luaL_len(L, 2);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, 2, i) != LUA_TSTRING)
            return luaL_error(L, "bad argument #1 to 'select' (column names must be strings)");
        if (!frame_push_named(L, st, 1, -1))
            return luaL_error(L, "bad argument #1 to 'select' (no column '%s')", lua_tostring(L, -1));
        size_t len;
        const char *name = lua_tolstring(L, -2, &len);
        frame_set_column(L, st, 3, name, len, lua_gettop(L));
        lua_pop(L, 2);
    }
    return 1;
}

/* f:add(name, series or table): adds or replaces a column; returns f. */
static int frame_add(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    frame_check(L, 1);
    size_t len;
    const char *name = luaL_checklstring(L, 2, &len);
    lua_settop(L, 3);
    mw_lua_push_series_arg(L, st, 3, "column", name, 0, NULL);
    frame_set_column(L, st, 1, name, len, 4);
    lua_settop(L, 1);
    return 1;
}

/* frame(4032 rows, 2 columns)
 *          timestamp       value
 *     1   1396310400000   19.7613
 * ... the first FRAME_SHOW_ROWS rows, values with %.6g (a timestamp
 * column of epoch milliseconds as UTC times). All read before
 * the first Lua call. */
static int frame_tostring(lua_State *L)
{
    mw_handle *h = mw_lua_test_handle(L, 1);
    if (h == NULL)
        return luaL_typeerror(L, 1, "frame");
    if (h->obj == NULL) {
        lua_pushliteral(L, "frame (released)");
        return 1;
    }
    const mw_frame *f = mw_frame_cast(h->obj);
    char text[4096];
    size_t len = 0, cap = sizeof text;
#define FRAME_PRINT(...) do { \
        int k = snprintf(text + len, cap - len, __VA_ARGS__); \
        if (k > 0) len = (size_t)k < cap - len ? len + (size_t)k : cap - 1; \
    } while (0)
    FRAME_PRINT("frame(%zu row%s, %zu column%s)", f->nrows, f->nrows == 1 ? "" : "s", f->ncols,
                f->ncols == 1 ? "" : "s");
    size_t rows = f->nrows < FRAME_SHOW_ROWS ? f->nrows : FRAME_SHOW_ROWS;
    size_t cols = f->ncols < 12 ? f->ncols : 12;
    if (cols > 0) {
        /* A column called timestamp whose shown values are whole epoch
         * milliseconds (as the readers make them) prints as UTC times. */
        int is_time[12];
        for (size_t c = 0; c < cols; c++) {
            is_time[c] = strcmp(f->names[c]->bytes, "timestamp") == 0;
            for (size_t r = 0; is_time[c] && r < rows; r++) {
                double t = mw_series_values(f->cols[c])[r];
                is_time[c] = t == floor(t) && fabs(t) < 9.2e18;
            }
        }
        FRAME_PRINT("\n%6s", "");
        for (size_t c = 0; c < cols; c++)
            FRAME_PRINT(is_time[c] ? " %19.19s" : " %14.14s", f->names[c]->bytes);
        for (size_t r = 0; r < rows; r++) {
            FRAME_PRINT("\n%6zu", r + 1);
            for (size_t c = 0; c < cols; c++) {
                double v = mw_series_values(f->cols[c])[r];
                if (is_time[c]) {
                    char when[MW_TIME_TEXT];
                    mw_format_time((int64_t)v, when);
                    FRAME_PRINT(" %19s", when);
                } else {
                    FRAME_PRINT(" %14.6g", v);
                }
            }
        }
        if (f->nrows > rows)
            FRAME_PRINT("\n%6s ... %zu more rows", "", f->nrows - rows);
        if (f->ncols > cols)
            FRAME_PRINT("\n%6s ... %zu more columns", "", f->ncols - cols);
    }
#undef FRAME_PRINT
    lua_pushlstring(L, text, len);
    return 1;
}

void mw_lua_open_frame(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg meta[] = {
        {"__newindex", frame_newindex},
        {"__len", frame_len},
        {"__tostring", frame_tostring},
        {NULL, NULL}
    };
    static const luaL_Reg methods[] = {
        {"columns", frame_columns},
        {"row", frame_row},
        {"slice", frame_slice},
        {"head", frame_head},
        {"select", frame_select},
        {"add", frame_add},
        {NULL, NULL}
    };
    mw_lua_newclass(L, st, &mw_frame_type, meta, methods, frame_index);
    mw_lua_push_callable(L, st, methods, frame_call);
}

/* ---- rings ----------------------------------------------------------- */

static mw_ring *ring_check(lua_State *L, int idx)
{
    return mw_ring_cast(mw_lua_check_object(L, idx, &mw_ring_type));
}

/* mw.ring(capacity) */
static int ring_call(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    int isint;
    lua_Integer cap = lua_tointegerx(L, 2, &isint);
    if (!isint || lua_type(L, 2) != LUA_TNUMBER)
        return luaL_error(L, "bad argument #1 to 'ring' (integer capacity expected, got %s)",
                          lua_type(L, 2) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, 2));
    if (cap < 1 || (lua_Unsigned)cap > SIZE_MAX / 64)
        return luaL_error(L, "bad argument #1 to 'ring' (capacity must be 1 or more)");
    mw_handle *h = mw_lua_new_handle(L, st, &mw_ring_type);
    mw_ring *r = mw_ring_new(st->heap, (size_t)cap);
    if (r == NULL)
        return mw_lua_status_error(L, mw_heap_last_error(st->heap));
    mw_lua_bind(L, st, h, &r->ob);
    return 1;
}

/* r:push(x): returns the value that left the window, or nil. */
static int ring_push(lua_State *L)
{
    mw_ring *r = ring_check(L, 1);
    double evicted;
    if (mw_ring_push(r, (double)luaL_checknumber(L, 2), &evicted))
        lua_pushnumber(L, (lua_Number)evicted);
    else
        lua_pushnil(L);
    return 1;
}

static int ring_index(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TNUMBER) {
        mw_ring *r = ring_check(L, 1);
        lua_Integer i = luaL_checkinteger(L, 2);
        if (i < 1 || (lua_Unsigned)i > r->count)
            return luaL_error(L, "ring index %I out of range (%I values)", (LUAI_UACINT)i,
                              (LUAI_UACINT)r->count);
        lua_pushnumber(L, (lua_Number)mw_ring_get(r, (size_t)i - 1));
        return 1;
    }
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(2)) == LUA_TNIL)
        ring_check(L, 1);
    return 1;
}

static int ring_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)ring_check(L, 1)->count);
    return 1;
}

static int ring_full(lua_State *L)
{
    mw_ring *r = ring_check(L, 1);
    lua_pushboolean(L, r->count == r->cap);
    return 1;
}

static int ring_capacity(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)ring_check(L, 1)->cap);
    return 1;
}

static int ring_mean(lua_State *L)
{
    mw_ring *r = ring_check(L, 1);
    lua_pushnumber(L, r->n_valid > 0 ? (lua_Number)r->mean : (lua_Number)NAN);
    return 1;
}

static int ring_var_std(lua_State *L, int want_std)
{
    mw_ring *r = ring_check(L, 1);
    lua_Integer ddof = luaL_optinteger(L, 2, 1);
    luaL_argcheck(L, ddof >= 0, 2, "ddof must be 0 or more");
    double v = mw_ring_var(r, (size_t)ddof);
    lua_pushnumber(L, (lua_Number)(want_std ? sqrt(v) : v));
    return 1;
}

static int ring_var(lua_State *L) { return ring_var_std(L, 0); }
static int ring_std(lua_State *L) { return ring_var_std(L, 1); }

static int ring_clear(lua_State *L)
{
    mw_ring_clear(ring_check(L, 1));
    return 0;
}

/* r:toseries(): the window, oldest first, as a new series. */
static int ring_toseries(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    size_t n = ring_check(L, 1)->count;
    mw_series *s = mw_lua_push_new_series(L, st, n, 0, 0);
    mw_ring *r = ring_check(L, 1);
    if (r->count != n)
        return luaL_error(L, "ring changed during toseries (by a finalizer)");
    double *x = mw_series_values(s);
    for (size_t i = 0; i < n; i++)
        x[i] = mw_ring_get(r, i);
    return 1;
}

static int ring_tostring(lua_State *L)
{
    mw_handle *h = mw_lua_test_handle(L, 1);
    if (h == NULL)
        return luaL_typeerror(L, 1, "ring");
    if (h->obj == NULL) {
        lua_pushliteral(L, "ring (released)");
        return 1;
    }
    const mw_ring *r = mw_ring_cast(h->obj);
    char text[128];
    snprintf(text, sizeof text, "ring(%zu of %zu, mean %.6g, std %.6g)", r->count, r->cap,
             r->n_valid > 0 ? r->mean : NAN, sqrt(mw_ring_var(r, 1)));
    lua_pushstring(L, text);
    return 1;
}

void mw_lua_open_ring(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg meta[] = {
        {"__len", ring_len},
        {"__tostring", ring_tostring},
        {NULL, NULL}
    };
    static const luaL_Reg methods[] = {
        {"push", ring_push},
        {"full", ring_full},
        {"capacity", ring_capacity},
        {"mean", ring_mean},
        {"var", ring_var},
        {"std", ring_std},
        {"clear", ring_clear},
        {"toseries", ring_toseries},
        {NULL, NULL}
    };
    mw_lua_newclass(L, st, &mw_ring_type, meta, methods, ring_index);
    mw_lua_push_callable(L, st, NULL, ring_call);
}
