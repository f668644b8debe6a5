/*
 * l_scale.c: feature scalers as Lua userdata (mw.scale; detect/scale.h).
 *
 * A scaler's userdata holds a pointer to its mw_scaler (native memory,
 * charged to the runtime's allocator), freed by release(), __close or
 * __gc, whichever comes first; a released scaler raises on use. One
 * metatable for all scalers, its __index the methods.
 *
 * Rows come as a table of numbers or a series; s:run takes what a
 * detector's run takes (l_detect.h: a frame, a list of series or a list
 * of rows) and gives a frame. Values are scaled into C buffers before
 * any Lua allocation, so nothing a finalizer does can change them.
 */
#include "lua/l_scale.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "detect/scale.h"
#include "lua/handle.h"
#include "lua/l_detect.h"
#include "lua/l_frame.h"
#include "lua/l_series.h"
#include "types/frame.h"
#include "types/series.h"

#define SCALER_META "moonwatch.scaler"
/* Values of a row kept on the C stack; longer rows go to a userdata. */
#define SCALE_ROW_STACK 256
/* Rows per chunk of s:run. */
#define SCALE_CHUNK 1024

typedef struct lua_scaler {
    mw_scaler *s;            /* owned; NULL once released */
    size_t kept;             /* its slot in the kept table (mw_lua_keep) */
} lua_scaler;

static mw_scaler *scaler_check(lua_State *L, int idx)
{
    lua_scaler *u = luaL_checkudata(L, idx, SCALER_META);
    if (u->s == NULL)
        luaL_error(L, "attempt to use a released scaler");
    return u->s;
}

static int scaler_gc(lua_State *L)
{
    lua_scaler *u = luaL_checkudata(L, 1, SCALER_META);
    if (u->s != NULL) {
        mw_lua_state *st = mw_lua_state_find(L);
        if (st != NULL)
            mw_lua_unkeep(st, u->kept);
        u->kept = 0;
        mw_scaler_free(u->s);
        u->s = NULL;
    }
    return 0;
}

static void scaler_drop_kept(mw_lua_state *st, void *resource)
{
    (void)st;
    mw_scaler_free(resource);
}

/* Gives the slot u (at the top of the stack) the scaler s, or raises the
 * memory error of a failed creation (status). */
static void scaler_fill(lua_State *L, mw_lua_state *st, lua_scaler *u, mw_scaler *s,
                        mw_status status)
{
    if (s == NULL)
        mw_lua_status_error(L, status);
    u->s = s;
    u->kept = mw_lua_keep(L, st, s, scaler_drop_kept);
}

/* Pushes an empty scaler userdata (its metatable set, so a later error
 * frees what it is given) and returns it. */
static lua_scaler *scaler_slot(lua_State *L)
{
    lua_scaler *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->s = NULL;
    u->kept = 0;
    luaL_setmetatable(L, SCALER_META);
    return u;
}

/* ---- construction ---------------------------------------------------- */

/* Reads option `name` of the table at arg as a boolean (def if absent). */
static int scale_opt_bool(lua_State *L, int arg, const char *name, int def)
{
    int type = lua_getfield(L, arg, name);
    int v = def;
    if (type == LUA_TBOOLEAN)
        v = lua_toboolean(L, -1);
    else if (type != LUA_TNIL)
        luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a boolean (got %s)", name,
                                              luaL_typename(L, -1)));
    lua_pop(L, 1);
    return v;
}

/* Checks that every key of the options at arg is one of names. */
static void scale_opt_known(lua_State *L, int arg, const char *const *names)
{
    lua_pushnil(L);
    while (lua_next(L, arg) != 0) {
        lua_pop(L, 1);
        const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        size_t i = 0;
        while (key != NULL && names[i] != NULL && strcmp(names[i], key) != 0)
            i++;
        if (key == NULL || names[i] == NULL) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            luaL_addstring(&b, key != NULL ? "unknown parameter '" : "parameter names must be strings");
            if (key != NULL) {
                luaL_addstring(&b, key);
                luaL_addstring(&b, "'");
            }
            luaL_addstring(&b, "; valid parameters: ");
            for (size_t k = 0; names[k] != NULL; k++) {
                luaL_addstring(&b, k > 0 ? ", " : "");
                luaL_addstring(&b, names[k]);
            }
            luaL_pushresult(&b);
            luaL_argerror(L, arg, lua_tostring(L, -1));
        }
    }
}

/* mw.scale.minmax{...} and mw.scale.standard{...}. */
static int scale_new(lua_State *L, mw_scale_kind kind)
{
    mw_lua_state *st = mw_lua_upstate(L);
    static const char *const minmax_names[] = {"min_periods", "clip", NULL};
    static const char *const standard_names[] = {"min_periods", "with_mean", "with_std", NULL};
    uint64_t min_periods = 1;
    unsigned flags = 0;
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        scale_opt_known(L, 1, kind == MW_SCALE_MINMAX ? minmax_names : standard_names);
        int type = lua_getfield(L, 1, "min_periods");
        if (type != LUA_TNIL) {
            int ok;
            lua_Integer v = lua_tointegerx(L, -1, &ok);
            if (!ok || v < 1 || v > 1000000000)
                luaL_argerror(L, 1, lua_pushfstring(L, "min_periods must be an integer in "
                                                       "[1, 1e9] (got %s)",
                                                    luaL_tolstring(L, -1, NULL)));
            min_periods = (uint64_t)v;
        }
        lua_pop(L, 1);
        if (kind == MW_SCALE_MINMAX) {
            flags |= scale_opt_bool(L, 1, "clip", 0) ? MW_SCALE_CLIP : 0;
        } else {
            flags |= scale_opt_bool(L, 1, "with_mean", 1) ? 0 : MW_SCALE_NO_MEAN;
            flags |= scale_opt_bool(L, 1, "with_std", 1) ? 0 : MW_SCALE_NO_STD;
        }
    }
    lua_scaler *u = scaler_slot(L);
    mw_status status;
    scaler_fill(L, st, u, mw_scaler_new(st->alloc, kind, min_periods, flags, &status), status);
    return 1;
}

static int scale_minmax(lua_State *L) { return scale_new(L, MW_SCALE_MINMAX); }
static int scale_standard(lua_State *L) { return scale_new(L, MW_SCALE_STANDARD); }

/* ---- rows ------------------------------------------------------------ */

/* s:update(row [, out]) (learn non-zero) and s:transform(row [, out]):
 * the scaled row as a new table, or written into the series out. */
static int scale_call(lua_State *L, int learn)
{
    mw_scaler *s = scaler_check(L, 1);
    lua_settop(L, 3);
    double buf[SCALE_ROW_STACK];
    double *row;
    size_t dims = mw_lua_read_row(L, 2, buf, SCALE_ROW_STACK, 1,
                                  "row (table of numbers or series)", &row);
    s = scaler_check(L, 1);   /* a long row allocates: a finalizer may have run */
    char err[MW_SCALE_ERRLEN];
    mw_status status = learn ? mw_scaler_set_dims(s, dims, err)
                             : (s->dims == dims ? MW_OK : MW_EINVAL);
    if (status == MW_EINVAL && !learn)
        snprintf(err, sizeof err, "rows of %zu values, but this scaler %s", dims,
                 s->dims == 0 ? "has learned no row yet" : "scales rows of another width");
    if (status == MW_EINVAL)
        return luaL_argerror(L, 2, err);
    if (status != MW_OK)
        return mw_lua_status_error(L, status);
    if (learn)
        mw_scaler_update(s, row, row);
    else
        mw_scaler_transform(s, row, row);
    if (!lua_isnil(L, 3)) {
        mw_handle *h = mw_lua_test_handle(L, 3);
        if (h == NULL || h->obj == NULL || !mw_is_series(h->obj))
            return luaL_typeerror(L, 3, "series");
        mw_series *out = mw_series_cast(h->obj);
        if (out->len != dims)
            return luaL_argerror(L, 3, lua_pushfstring(L, "the series has %d values, the row %d",
                                                       (int)out->len, (int)dims));
        memcpy(mw_series_values(out), row, dims * sizeof(double));
        lua_pushvalue(L, 3);
        return 1;
    }
    /* row may be in a userdata on the stack: anchored until we return. */
    lua_createtable(L, (int)dims, 0);
    for (size_t k = 0; k < dims; k++) {
        lua_pushnumber(L, row[k]);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    return 1;
}

static int scale_update(lua_State *L) { return scale_call(L, 1); }
static int scale_transform(lua_State *L) { return scale_call(L, 0); }

/* Pushes the name of input column k (0-based) of the rows input in:
 * a frame's column name, or "x<k+1>". */
static void scale_push_name(lua_State *L, const mw_lua_rows *in, size_t k)
{
    mw_handle *h = mw_lua_test_handle(L, in->idx);
    if (h == NULL || h->obj == NULL || h->obj->type != &mw_frame_type) {
        lua_pushfstring(L, "x%d", (int)k + 1);
        return;
    }
    if (in->cols_idx != 0) {
        lua_rawgeti(L, in->cols_idx, (lua_Integer)k + 1);
        return;
    }
    mw_frame *f = mw_frame_cast(h->obj);
    for (size_t c = 0, seen = 0; c < f->ncols; c++) {
        if (f->names[c]->len == 9 && memcmp(f->names[c]->bytes, "timestamp", 9) == 0)
            continue;
        if (seen++ == k) {
            lua_pushlstring(L, f->names[c]->bytes, f->names[c]->len);
            return;
        }
    }
    lua_pushfstring(L, "x%d", (int)k + 1);
}

/* Adds the series at the top of the stack to the frame at fidx as the
 * column named by the string below it; pops both. */
static void scale_add_column(lua_State *L, mw_lua_state *st, int fidx)
{
    size_t len;
    const char *name = lua_tolstring(L, -2, &len);
    mw_frame *f = mw_frame_cast(mw_lua_test_handle(L, fidx)->obj);
    mw_status status = mw_frame_set(st->heap, f, name, len,
                                    mw_series_cast(mw_lua_test_handle(L, -1)->obj));
    if (status != MW_OK)
        mw_lua_status_error(L, status);
    lua_pop(L, 2);
}

/* s:run(frame | {series...} | {{row}...} [, columns]): a frame of the
 * scaled columns (the input's names; x1, x2, ... for lists), as update
 * on each row in turn, with the input frame's timestamp column. */
static int scale_run(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    scaler_check(L, 1);
    lua_settop(L, 3);
    mw_lua_rows in;
    double *buf = mw_lua_rows_prepare(L, &in, 2, SCALE_CHUNK);   /* 4, 5 */
    char err[MW_SCALE_ERRLEN];
    mw_status status = in.n > 0 ? mw_scaler_set_dims(scaler_check(L, 1), in.dims, err) : MW_OK;
    if (status == MW_EINVAL)
        return luaL_argerror(L, 2, err);
    if (status != MW_OK)
        return mw_lua_status_error(L, status);
    mw_lua_push_new_frame(L, st);                                /* 6 */
    int with_stamps = 0;
    for (size_t k = 0; k < in.dims; k++) {
        scale_push_name(L, &in, k);
        if (lua_rawlen(L, -1) == 9 && memcmp(lua_tostring(L, -1), "timestamp", 9) == 0)
            with_stamps = -1;                                    /* scaled as asked */
        mw_lua_push_new_series(L, st, in.n, 0, 0);
        scale_add_column(L, st, 6);
    }
    if (in.tcol != NULL && with_stamps == 0) {
        lua_pushliteral(L, "timestamp");
        mw_lua_push_new_series(L, st, in.n, 0, 0);
        scale_add_column(L, st, 6);
        with_stamps = 1;
    }
    mw_frame *f = mw_frame_cast(mw_lua_test_handle(L, 6)->obj);
    if (f->ncols != in.dims + (with_stamps == 1))
        return luaL_argerror(L, 3, "the columns must be distinct");
    mw_lua_rows_refresh(L, &in);
    if (with_stamps == 1)
        memcpy(mw_series_values(f->cols[in.dims]), in.tcol, in.n * sizeof(double));
    mw_scaler *s = scaler_check(L, 1);
    size_t dims = in.dims;
    for (size_t start = 0; start < in.n; start += SCALE_CHUNK) {
        size_t m = in.n - start < SCALE_CHUNK ? in.n - start : SCALE_CHUNK;
        mw_lua_rows_fill(L, &in, start, m, buf);
        for (size_t i = 0; i < m; i++)
            mw_scaler_update(s, buf + i * dims, buf + i * dims);
        for (size_t k = 0; k < dims; k++) {
            double *col = mw_series_values(f->cols[k]) + start;
            for (size_t i = 0; i < m; i++)
                col[i] = buf[i * dims + k];
        }
    }
    return 1;
}

/* ---- state ------------------------------------------------------------ */

static int scale_reset(lua_State *L)
{
    mw_scaler_reset(scaler_check(L, 1));
    return 0;
}

static int scale_bytes(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)scaler_check(L, 1)->bytes);
    return 1;
}

static int scale_count(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)scaler_check(L, 1)->count);
    return 1;
}

/* s:dims(): the row width, nil until the first row. */
static int scale_dims(lua_State *L)
{
    mw_scaler *s = scaler_check(L, 1);
    if (s->dims == 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, (lua_Integer)s->dims);
    return 1;
}

static int scale_kind(lua_State *L)
{
    lua_pushstring(L, mw_scale_kind_name(scaler_check(L, 1)->kind));
    return 1;
}

static int scale_release(lua_State *L)
{
    return scaler_gc(L);
}

static int scale_tostring(lua_State *L)
{
    lua_scaler *u = luaL_checkudata(L, 1, SCALER_META);
    if (u->s == NULL) {
        lua_pushliteral(L, "scaler (released)");
        return 1;
    }
    const mw_scaler *s = u->s;
    char text[160];
    if (s->kind == MW_SCALE_MINMAX)
        snprintf(text, sizeof text, "minmax{min_periods=%llu, clip=%s} (%llu rows learned)",
                 (unsigned long long)s->min_periods, s->flags & MW_SCALE_CLIP ? "true" : "false",
                 (unsigned long long)s->count);
    else
        snprintf(text, sizeof text,
                 "standard{min_periods=%llu, with_mean=%s, with_std=%s} (%llu rows learned)",
                 (unsigned long long)s->min_periods,
                 s->flags & MW_SCALE_NO_MEAN ? "false" : "true",
                 s->flags & MW_SCALE_NO_STD ? "false" : "true", (unsigned long long)s->count);
    lua_pushstring(L, text);
    return 1;
}

/* s:save(): the scaler as a string. */
static int scale_save(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    scaler_check(L, 1);
    mw_blob_writer *w = mw_lua_push_blob_writer(L, st);
    mw_scaler_save(scaler_check(L, 1), w);
    return mw_lua_push_blob_result(L, w);
}

/* mw.scale.load(s): the scaler saved in s. */
static int scale_load(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    size_t len;
    const char *data = luaL_checklstring(L, 1, &len);
    lua_scaler *u = scaler_slot(L);
    mw_status status;
    char err[MW_SCALE_ERRLEN];
    mw_scaler *s = mw_scaler_load(st->alloc, data, len, &status, err);
    if (s == NULL && status == MW_EINVAL)
        return luaL_argerror(L, 1, lua_pushfstring(L, "bad scaler state: %s", err));
    scaler_fill(L, st, u, s, status);
    return 1;
}

void mw_lua_open_scale(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg methods[] = {
        {"update", scale_update},
        {"transform", scale_transform},
        {"run", scale_run},
        {"reset", scale_reset},
        {"save", scale_save},
        {"bytes", scale_bytes},
        {"count", scale_count},
        {"dims", scale_dims},
        {"kind", scale_kind},
        {"release", scale_release},
        {NULL, NULL},
    };
    static const luaL_Reg meta[] = {
        {"__gc", scaler_gc},
        {"__close", scaler_gc},
        {"__tostring", scale_tostring},
        {NULL, NULL},
    };
    static const luaL_Reg funcs[] = {
        {"minmax", scale_minmax},
        {"standard", scale_standard},
        {"load", scale_load},
        {NULL, NULL},
    };
    luaL_newmetatable(L, SCALER_META);
    mw_lua_setfuncs(L, st, meta);
    lua_createtable(L, 0, 10);
    mw_lua_setfuncs(L, st, methods);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    lua_createtable(L, 0, 3);
    mw_lua_setfuncs(L, st, funcs);
}
