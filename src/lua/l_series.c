/*
 * l_series.c: mw.series, columns of float64 with optional timestamps.
 *
 * Every operation over values is one call into src/stats (or one C loop
 * here): scripts never need a per-sample Lua loop for batch work.
 *
 * Indices are 1-based; s[i] outside 1..#s is an error (iterate with
 * `for i = 1, #s` or pairs(s)). Results are new series; slices share
 * their base's buffer.
 *
 * Reentrancy (see handle.h): a function that allocates a Lua value (a
 * result handle) fetches its input series again from their handles
 * afterwards, because a script finalizer run by the allocation may have
 * released them.
 */
#include "lua/l_series.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lua/handle.h"
#include "stats/stats.h"

#define SPARK_WIDTH 40
#define SHOW_VALUES 3

mw_series *mw_lua_check_series(lua_State *L, int idx)
{
    return mw_series_cast(mw_lua_check_object(L, idx, &mw_series_type));
}

static size_t series_checksize(lua_State *L, int arg)
{
    lua_Integer n = luaL_checkinteger(L, arg);
    luaL_argcheck(L, n >= 0, arg, "length must not be negative");
    luaL_argcheck(L, (lua_Unsigned)n <= SIZE_MAX / 16, arg, "length too large");
    return (size_t)n;
}

mw_series *mw_lua_push_new_series(lua_State *L, mw_lua_state *st, size_t n,
                                  int with_stamps, int zero)
{
    mw_handle *h = mw_lua_new_handle(L, st, &mw_series_type);
    mw_series *s = mw_series_new(st->heap, n, with_stamps, zero);
    if (s == NULL)
        mw_lua_status_error(L, mw_heap_last_error(st->heap));
    mw_lua_bind(L, st, h, &s->ob);
    return s;
}

/* Pushes a new series of n values for the result of an operation on the
 * series at arg `from` (timestamps copied from it, if it has them), and
 * returns it. The input must be fetched again afterwards. */
static mw_series *series_push_result(lua_State *L, mw_lua_state *st, int from, size_t n)
{
    mw_series *in = mw_lua_check_series(L, from);
    int stamps = in->stamps != NULL && in->len == n;
    mw_series *out = mw_lua_push_new_series(L, st, n, stamps, 0);
    in = mw_lua_check_series(L, from);
    if (stamps && n > 0 && in->stamps != NULL && in->len == n)
        memcpy(mw_series_stamps(out), mw_series_stamps(in), n * sizeof(int64_t));
    return out;
}

/* ---- construction -------------------------------------------------- */

/* Reads number t[i] of a table argument, raising a clear error. */
static double series_table_number(lua_State *L, int t, lua_Integer i, int arg,
                                  const char *fname)
{
    /* Numbers only: a numeric string ("3") is a string, not a value. */
    if (lua_geti(L, t, i) != LUA_TNUMBER)
        luaL_error(L, "bad argument #%d to '%s' (element %I is a %s, not a number)",
                   arg, fname, (LUAI_UACINT)i, luaL_typename(L, -1));
    double v = (double)lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

/* Raises the error of mw_lua_push_series_arg: the message, formatted as
 * lua_pushfstring does, as is or as a bad argument of fname. */
static int series_arg_error(lua_State *L, int arg, const char *fname, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *msg = lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    if (fname != NULL)
        return luaL_error(L, "bad argument #%d to '%s' (%s)", arg, fname, msg);
    return luaL_error(L, "%s", msg);
}

mw_series *mw_lua_push_series_arg(lua_State *L, mw_lua_state *st, int idx, const char *kind,
                                  const char *name, int arg, const char *fname)
{
    idx = lua_absindex(L, idx);
    mw_handle *h = mw_lua_test_handle(L, idx);
    if (h != NULL && (h->obj == NULL || mw_is_series(h->obj))) {
        mw_series *s = mw_lua_check_series(L, idx);    /* raises if released */
        lua_pushvalue(L, idx);
        return s;
    }
    if (!lua_istable(L, idx))
        series_arg_error(L, arg, fname, "%s '%s' must be a series or a table of numbers, got %s",
                         kind, name, h != NULL ? h->obj->type->name : luaL_typename(L, idx));
    lua_Integer n = luaL_len(L, idx);
    if (n < 0 || (lua_Unsigned)n > SIZE_MAX / 16)
        series_arg_error(L, arg, fname, "%s '%s' has an invalid length", kind, name);
    mw_series *s = mw_lua_push_new_series(L, st, (size_t)n, 0, 0);
    int top = lua_gettop(L);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, idx, i) != LUA_TNUMBER)
            series_arg_error(L, arg, fname, "%s '%s': element %I is a %s, not a number", kind,
                             name, (LUAI_UACINT)i, luaL_typename(L, -1));
        double v = (double)lua_tonumber(L, -1);
        lua_pop(L, 1);
        s = mw_lua_check_series(L, top);   /* lua_geti may run metamethods */
        mw_series_values(s)[i - 1] = v;
    }
    return s;
}

/* mw.series(t [, {ts = stamps}]) or mw.series(other_series): a new series. */
static int series_call(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    /* Argument 1 is the mw.series table (__call); the user's #1 is 2. */
    mw_handle *arg = mw_lua_test_handle(L, 2);
    if (arg != NULL) {
        if (arg->obj != NULL && !mw_is_series(arg->obj))
            return luaL_error(L, "bad argument #1 to 'series' (table or series expected, got %s)",
                              arg->obj->type->name);
        mw_series *src = mw_lua_check_series(L, 2);
        mw_handle *h = mw_lua_new_handle(L, st, &mw_series_type);
        src = mw_lua_check_series(L, 2);
        mw_series *c = mw_series_copy(st->heap, src);
        if (c == NULL)
            return mw_lua_status_error(L, mw_heap_last_error(st->heap));
        mw_lua_bind(L, st, h, &c->ob);
        return 1;
    }
    if (!lua_istable(L, 2))
        return luaL_error(L, "bad argument #1 to 'series' (table or series expected, got %s)",
                          luaL_typename(L, 2));
    lua_Integer n = luaL_len(L, 2);
    if (n < 0 || (lua_Unsigned)n > SIZE_MAX / 16)
        return luaL_error(L, "bad argument #1 to 'series' (length out of range)");
    int has_ts = 0;
    if (lua_istable(L, 3)) {
        has_ts = lua_getfield(L, 3, "ts") != LUA_TNIL;
        if (has_ts && !lua_istable(L, -1))
            return luaL_error(L, "bad argument #2 to 'series' (field 'ts' must be a table of integers)");
        if (has_ts && luaL_len(L, -1) != n)
            return luaL_error(L, "bad argument #2 to 'series' (%I timestamps for %I values)",
                              (LUAI_UACINT)luaL_len(L, -1), (LUAI_UACINT)n);
        lua_replace(L, 3);
    } else if (!lua_isnoneornil(L, 3)) {
        return luaL_error(L, "bad argument #2 to 'series' (table expected, got %s)",
                          luaL_typename(L, 3));
    }
    lua_settop(L, 3);
    mw_series *s = mw_lua_push_new_series(L, st, (size_t)n, has_ts, 0);
    for (lua_Integer i = 1; i <= n; i++) {
        double v = series_table_number(L, 2, i, 1, "series");
        s = mw_lua_check_series(L, 4);   /* lua_geti may run metamethods */
        mw_series_values(s)[i - 1] = v;
    }
    for (lua_Integer i = 1; has_ts && i <= n; i++) {
        int isint = lua_geti(L, 3, i) == LUA_TNUMBER;
        lua_Integer t = lua_tointegerx(L, -1, &isint);
        if (!isint || !lua_isinteger(L, -1))
            return luaL_error(L, "bad argument #2 to 'series' (timestamp %I is not an integer)",
                              (LUAI_UACINT)i);
        lua_pop(L, 1);
        s = mw_lua_check_series(L, 4);
        mw_series_stamps(s)[i - 1] = (int64_t)t;
    }
    return 1;
}

/* mw.series.zeros(n), mw.series.full(n, v) */
static int series_zeros(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_lua_push_new_series(L, st, series_checksize(L, 1), 0, 1);
    return 1;
}

static int series_full(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    size_t n = series_checksize(L, 1);
    double v = (double)luaL_checknumber(L, 2);
    mw_series *s = mw_lua_push_new_series(L, st, n, 0, 0);
    double *x = mw_series_values(s);
    for (size_t i = 0; i < n; i++)
        x[i] = v;
    return 1;
}

/* mw.series.range(start, stop [, step]): the values of Lua's numeric
 * `for v = start, stop, step`, with the same rules: an integer loop when
 * start and step are integers (counted without overflow, as Lua's
 * forprep), a float loop by repeated addition otherwise. */
static int series_range(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    luaL_checknumber(L, 1);
    luaL_checknumber(L, 2);
    if (lua_isnoneornil(L, 3))
        lua_settop(L, 2), lua_pushinteger(L, 1);
    luaL_checknumber(L, 3);
    if (lua_isinteger(L, 1) && lua_isinteger(L, 3)) {
        lua_Integer init = lua_tointeger(L, 1), step = lua_tointeger(L, 3), limit;
        luaL_argcheck(L, step != 0, 3, "step must not be zero");
        lua_Unsigned count = mw_lua_for_limit(L, 2, step, &limit)
                             ? (lua_Unsigned)mw_lua_for_count(init, limit, step) : 0;
        luaL_argcheck(L, count <= SIZE_MAX / 16, 2, "range too long");
        mw_series *s = mw_lua_push_new_series(L, st, (size_t)count, 0, 0);
        double *x = mw_series_values(s);
        lua_Unsigned v = (lua_Unsigned)init;
        for (size_t i = 0; i < count; i++, v += (lua_Unsigned)step)
            x[i] = (double)(lua_Integer)v;
        return 1;
    }
    double init = (double)lua_tonumber(L, 1), limit = (double)lua_tonumber(L, 2);
    double step = (double)lua_tonumber(L, 3);
    luaL_argcheck(L, step != 0 && !isnan(step), 3, "step must not be zero");
    luaL_argcheck(L, isfinite(init) && isfinite(limit), 1, "start and stop must be finite");
    if ((limit - init) / step > (double)(SIZE_MAX / 16))
        return luaL_argerror(L, 2, "range too long");
    if ((step > 0 ? init <= limit : init >= limit) && init + step == init)
        return luaL_argerror(L, 3, "step too small to move from start");
    /* Count first, with the very additions the loop makes. */
    size_t count = 0;
    for (double v = init; step > 0 ? v <= limit : v >= limit; v += step) {
        if (++count > SIZE_MAX / 16)
            return luaL_argerror(L, 2, "range too long");
    }
    mw_series *s = mw_lua_push_new_series(L, st, count, 0, 0);
    double *x = mw_series_values(s);
    double v = init;
    for (size_t i = 0; i < count; i++, v += step)
        x[i] = v;
    return 1;
}

/* ---- indexing -------------------------------------------------------- */

static size_t series_checkindex(lua_State *L, const mw_series *s, int arg)
{
    int isnum;
    lua_Integer i = lua_tointegerx(L, arg, &isnum);
    if (!isnum)
        luaL_argerror(L, arg, lua_type(L, arg) == LUA_TNUMBER
                      ? "number has no integer representation"
                      : lua_pushfstring(L, "integer index expected, got %s",
                                        luaL_typename(L, arg)));
    if (i < 1 || (lua_Unsigned)i > s->len)
        luaL_error(L, "series index %I out of range (length %I)", (LUAI_UACINT)i,
                   (LUAI_UACINT)s->len);
    return (size_t)i - 1;
}

static int series_index(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TNUMBER) {
        mw_series *s = mw_lua_check_series(L, 1);
        lua_pushnumber(L, (lua_Number)mw_series_values(s)[series_checkindex(L, s, 2)]);
        return 1;
    }
    lua_pushvalue(L, 2);
    if (lua_rawget(L, lua_upvalueindex(2)) == LUA_TNIL)
        mw_lua_check_series(L, 1);
    return 1;
}

static int series_newindex(lua_State *L)
{
    mw_series *s = mw_lua_check_series(L, 1);
    size_t i = series_checkindex(L, s, 2);
    mw_series_values(s)[i] = (double)luaL_checknumber(L, 3);
    return 0;
}

static int series_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)mw_lua_check_series(L, 1)->len);
    return 1;
}

static int series_pairs_next(lua_State *L)
{
    mw_series *s = mw_lua_check_series(L, 1);
    lua_Integer prev = luaL_optinteger(L, 2, 0);
    if (prev < 0 || (lua_Unsigned)prev >= s->len)
        return 0;
    lua_pushinteger(L, prev + 1);
    lua_pushnumber(L, (lua_Number)mw_series_values(s)[prev]);
    return 2;
}

static int series_pairs(lua_State *L)
{
    mw_lua_check_series(L, 1);
    lua_pushcfunction(L, series_pairs_next);
    lua_pushvalue(L, 1);
    lua_pushinteger(L, 0);
    return 3;
}

/* s:slice([i [, j]]): the elements i..j as a view sharing s's buffer. */
static int series_slice(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_series *s = mw_lua_check_series(L, 1);
    size_t start, count;
    mw_lua_sub_range(s->len, luaL_optinteger(L, 2, 1), luaL_optinteger(L, 3, -1),
                     &start, &count);
    lua_settop(L, 3);
    mw_handle *h = mw_lua_new_handle(L, st, &mw_series_type);
    s = mw_lua_check_series(L, 1);
    if (start + count > s->len)
        return luaL_error(L, "series changed during slice");
    mw_series *v = mw_series_slice(st->heap, s, start, count);
    if (v == NULL)
        return mw_lua_status_error(L, mw_heap_last_error(st->heap));
    mw_lua_bind(L, st, h, &v->ob);
    return 1;
}

static int series_copy(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_lua_check_series(L, 1);
    mw_handle *h = mw_lua_new_handle(L, st, &mw_series_type);
    mw_series *c = mw_series_copy(st->heap, mw_lua_check_series(L, 1));
    if (c == NULL)
        return mw_lua_status_error(L, mw_heap_last_error(st->heap));
    mw_lua_bind(L, st, h, &c->ob);
    return 1;
}

static int series_totable(lua_State *L)
{
    mw_series *s = mw_lua_check_series(L, 1);
    size_t n = s->len;
    lua_createtable(L, n > INT_MAX ? INT_MAX : (int)n, 0);
    s = mw_lua_check_series(L, 1);
    for (size_t i = 0; i < n && i < s->len; i++) {
        lua_pushnumber(L, (lua_Number)mw_series_values(s)[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* s:append(x [, t]): returns s. */
static int series_append(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_series *s = mw_lua_check_series(L, 1);
    double v = (double)luaL_checknumber(L, 2);
    int64_t t = (int64_t)luaL_optinteger(L, 3, 0);
    int added_stamps = 0;
    if (!lua_isnoneornil(L, 3) && s->stamps == NULL) {
        mw_status status = mw_series_add_stamps(st->heap, s);
        if (status == MW_EINVAL)
            return luaL_error(L, "cannot append to a slice (copy it first)");
        if (status != MW_OK)
            return mw_lua_status_error(L, status);
        added_stamps = 1;
    }
    mw_status status = mw_series_append(st->heap, s, v, t);
    if (status != MW_OK && added_stamps) {
        /* Leave the series as it was: without timestamps. */
        mw_buffer *stamps = s->stamps;
        s->stamps = NULL;
        mw_decref(st->heap, &stamps->ob);
    }
    if (status == MW_EINVAL)
        return luaL_error(L, "cannot append to a slice (copy it first)");
    if (status != MW_OK)
        return mw_lua_status_error(L, status);
    lua_settop(L, 1);
    return 1;
}

/* s:time(i): the timestamp of element i, nil without timestamps. */
static int series_time(lua_State *L)
{
    mw_series *s = mw_lua_check_series(L, 1);
    size_t i = series_checkindex(L, s, 2);
    if (s->stamps == NULL)
        lua_pushnil(L);
    else
        lua_pushinteger(L, (lua_Integer)mw_series_stamps(s)[i]);
    return 1;
}

/* s:times(): a new series of the timestamps as numbers, nil without. */
static int series_times(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_series *s = mw_lua_check_series(L, 1);
    if (s->stamps == NULL) {
        lua_pushnil(L);
        return 1;
    }
    size_t n = s->len;
    mw_series *out = mw_lua_push_new_series(L, st, n, 0, 0);
    s = mw_lua_check_series(L, 1);
    const int64_t *t = mw_series_stamps(s);
    double *x = mw_series_values(out);
    for (size_t i = 0; i < n; i++)
        x[i] = (double)t[i];
    return 1;
}

static int series_hastimes(lua_State *L)
{
    lua_pushboolean(L, mw_lua_check_series(L, 1)->stamps != NULL);
    return 1;
}

/* ---- element-wise arithmetic and comparisons ------------------------ */

typedef enum series_op {
    OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_POW,
    OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE
} series_op;

static double series_apply(series_op op, double a, double b)
{
    switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV: return a / b;
    case OP_POW: return pow(a, b);
    case OP_LT:  return a < b;
    case OP_LE:  return a <= b;
    case OP_GT:  return a > b;
    case OP_GE:  return a >= b;
    case OP_EQ:  return a == b;
    case OP_NE:  return a != b;
    }
    return NAN;
}

/* One loop per case so the compiler vectorises the common operators. */
static void series_binary_loop(series_op op, const double *a, size_t astep,
                               const double *b, size_t bstep, double *out, size_t n)
{
    if (op == OP_ADD && astep && bstep) {
        for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
    } else if (op == OP_SUB && astep && bstep) {
        for (size_t i = 0; i < n; i++) out[i] = a[i] - b[i];
    } else if (op == OP_MUL && astep && bstep) {
        for (size_t i = 0; i < n; i++) out[i] = a[i] * b[i];
    } else if (op == OP_DIV && astep && bstep) {
        for (size_t i = 0; i < n; i++) out[i] = a[i] / b[i];
    } else {
        for (size_t i = 0; i < n; i++)
            out[i] = series_apply(op, a[i * astep], b[i * bstep]);
    }
}

static const char *const series_op_names[] = {
    "__add", "__sub", "__mul", "__div", "__pow", "lt", "le", "gt", "ge", "eq", "ne"
};

/* a op b where either is a series and the other a series or a number. */
static int series_binary(lua_State *L, series_op op)
{
    mw_lua_state *st = mw_lua_upstate(L);
    int a_is = mw_lua_test_handle(L, 1) != NULL, b_is = mw_lua_test_handle(L, 2) != NULL;
    int from = a_is ? 1 : 2;
    size_t n = mw_lua_check_series(L, from)->len;
    if (a_is && b_is) {
        size_t m = mw_lua_check_series(L, 2)->len;
        if (m != n)
            return luaL_argerror(L, 2, lua_pushfstring(L, "length mismatch: %I and %I",
                                                        (LUAI_UACINT)n, (LUAI_UACINT)m));
    } else {
        int other = a_is ? 2 : 1;
        if (lua_type(L, other) != LUA_TNUMBER)
            return luaL_argerror(L, other, lua_pushfstring(L,
                "series or number expected, got %s", luaL_typename(L, other)));
    }
    mw_series *out = series_push_result(L, st, from, n);
    /* Fetch the inputs again: the allocation may have run finalizers. */
    double sa = 0, sb = 0;
    const double *pa, *pb;
    if (a_is) {
        mw_series *s = mw_lua_check_series(L, 1);
        if (s->len != n)
            return luaL_error(L, "series changed during '%s'", series_op_names[op]);
        pa = mw_series_values(s);
    } else {
        sa = (double)lua_tonumber(L, 1);
        pa = &sa;
    }
    if (b_is) {
        mw_series *s = mw_lua_check_series(L, 2);
        if (s->len != n)
            return luaL_error(L, "series changed during '%s'", series_op_names[op]);
        pb = mw_series_values(s);
    } else {
        sb = (double)lua_tonumber(L, 2);
        pb = &sb;
    }
    series_binary_loop(op, pa, a_is, pb, b_is, mw_series_values(out), n);
    return 1;
}

static int series_add(lua_State *L) { return series_binary(L, OP_ADD); }
static int series_sub(lua_State *L) { return series_binary(L, OP_SUB); }
static int series_mul(lua_State *L) { return series_binary(L, OP_MUL); }
static int series_div(lua_State *L) { return series_binary(L, OP_DIV); }
static int series_pow(lua_State *L) { return series_binary(L, OP_POW); }
static int series_lt(lua_State *L) { return series_binary(L, OP_LT); }
static int series_le(lua_State *L) { return series_binary(L, OP_LE); }
static int series_gt(lua_State *L) { return series_binary(L, OP_GT); }
static int series_ge(lua_State *L) { return series_binary(L, OP_GE); }
static int series_eq(lua_State *L) { return series_binary(L, OP_EQ); }
static int series_ne(lua_State *L) { return series_binary(L, OP_NE); }

/* Unary operations: out = f(x), same length, timestamps kept. */
typedef enum series_unary_op { UN_NEG, UN_ABS, UN_LOG, UN_CUMSUM } series_unary_op;

static int series_unary(lua_State *L, series_unary_op op)
{
    mw_lua_state *st = mw_lua_upstate(L);
    size_t n = mw_lua_check_series(L, 1)->len;
    mw_series *out = series_push_result(L, st, 1, n);
    const double *x = mw_series_values(mw_lua_check_series(L, 1));
    double *y = mw_series_values(out);
    switch (op) {
    case UN_NEG:
        for (size_t i = 0; i < n; i++)
            y[i] = -x[i];
        break;
    case UN_ABS:    mw_stats_abs(x, n, y); break;
    case UN_LOG:    mw_stats_log(x, n, y); break;
    case UN_CUMSUM: mw_stats_cumsum(x, n, y); break;
    }
    return 1;
}

static int series_unm(lua_State *L) { return series_unary(L, UN_NEG); }
static int series_abs(lua_State *L) { return series_unary(L, UN_ABS); }
static int series_log(lua_State *L) { return series_unary(L, UN_LOG); }
static int series_cumsum(lua_State *L) { return series_unary(L, UN_CUMSUM); }

/* s:diff([lag]) */
static int series_diff(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    size_t n = mw_lua_check_series(L, 1)->len;
    lua_Integer lag = luaL_optinteger(L, 2, 1);
    luaL_argcheck(L, lag >= 0, 2, "lag must not be negative");
    mw_series *out = series_push_result(L, st, 1, n);
    mw_stats_diff(mw_series_values(mw_lua_check_series(L, 1)), n, (size_t)lag,
                  mw_series_values(out));
    return 1;
}

/* s:shift(k [, fill]) */
static int series_shift(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    size_t n = mw_lua_check_series(L, 1)->len;
    lua_Integer k = luaL_checkinteger(L, 2);
    double fill = (double)luaL_optnumber(L, 3, NAN);
    luaL_argcheck(L, k > -(lua_Integer)LONG_MAX && k < (lua_Integer)LONG_MAX, 2, "shift too large");
    mw_series *out = series_push_result(L, st, 1, n);
    mw_stats_shift(mw_series_values(mw_lua_check_series(L, 1)), n, (long)k, fill,
                   mw_series_values(out));
    return 1;
}

/* s:fillna(v) */
static int series_fillna(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    size_t n = mw_lua_check_series(L, 1)->len;
    double v = (double)luaL_checknumber(L, 2);
    mw_series *out = series_push_result(L, st, 1, n);
    mw_stats_fillna(mw_series_values(mw_lua_check_series(L, 1)), n, v, mw_series_values(out));
    return 1;
}

/* s:where(mask): s's value where mask is true (non-zero, not NaN), NaN
 * elsewhere; same length (pandas' where). */
static int series_where(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    size_t n = mw_lua_check_series(L, 1)->len;
    size_t m = mw_lua_check_series(L, 2)->len;
    if (m != n)
        return luaL_error(L, "bad argument #1 to 'where' (mask of length %I for a series of %I)",
                          (LUAI_UACINT)m, (LUAI_UACINT)n);
    mw_series *out = series_push_result(L, st, 1, n);
    const double *x = mw_series_values(mw_lua_check_series(L, 1));
    const double *mask = mw_series_values(mw_lua_check_series(L, 2));
    double *y = mw_series_values(out);
    for (size_t i = 0; i < n; i++)
        y[i] = (mask[i] != 0 && !isnan(mask[i])) ? x[i] : NAN;
    return 1;
}

/* ---- reductions ----------------------------------------------------- */

/* Raises unless s has at least `need` non-NaN values. */
static void series_need(lua_State *L, const mw_series *s, size_t need, const char *fname)
{
    size_t count = mw_stats_count(mw_series_values(s), s->len);
    if (count < need) {
        if (need == 1)
            luaL_error(L, "bad argument #1 to '%s' (no values: the series is empty or all NaN)",
                       fname);
        else
            luaL_error(L, "bad argument #1 to '%s' (needs at least %d values, has %d)", fname,
                       (int)need, (int)count);
    }
}

static int series_sum(lua_State *L)
{
    mw_series *s = mw_lua_check_series(L, 1);
    lua_pushnumber(L, (lua_Number)mw_stats_sum(mw_series_values(s), s->len));
    return 1;
}

static int series_count(lua_State *L)
{
    mw_series *s = mw_lua_check_series(L, 1);
    lua_pushinteger(L, (lua_Integer)mw_stats_count(mw_series_values(s), s->len));
    return 1;
}

/* The reductions below return NaN when they lack data (and only then,
 * or when the data holds infinities of both signs): the count is only
 * taken in that case, so the common case is one pass. */
static int series_reduce(lua_State *L, double (*reduce)(const double *, size_t),
                         const char *name)
{
    mw_series *s = mw_lua_check_series(L, 1);
    double r = reduce(mw_series_values(s), s->len);
    if (isnan(r))
        series_need(L, s, 1, name);
    lua_pushnumber(L, (lua_Number)r);
    return 1;
}

static int series_mean(lua_State *L) { return series_reduce(L, mw_stats_mean, "mean"); }

static size_t series_ddof(lua_State *L, int arg)
{
    lua_Integer ddof = luaL_optinteger(L, arg, 1);
    luaL_argcheck(L, ddof >= 0 && ddof < 1000000, arg, "ddof must be 0 or more");
    return (size_t)ddof;
}

static int series_var_std(lua_State *L, int want_std)
{
    mw_series *s = mw_lua_check_series(L, 1);
    size_t ddof = series_ddof(L, 2);
    double v = want_std ? mw_stats_std(mw_series_values(s), s->len, ddof)
                        : mw_stats_var(mw_series_values(s), s->len, ddof);
    if (isnan(v))
        series_need(L, s, ddof + 1, want_std ? "std" : "var");
    lua_pushnumber(L, (lua_Number)v);
    return 1;
}

static int series_var(lua_State *L) { return series_var_std(L, 0); }
static int series_std(lua_State *L) { return series_var_std(L, 1); }

static int series_min(lua_State *L) { return series_reduce(L, mw_stats_min, "min"); }

static int series_max(lua_State *L) { return series_reduce(L, mw_stats_max, "max"); }

static int series_arg(lua_State *L, int want_max)
{
    mw_series *s = mw_lua_check_series(L, 1);
    series_need(L, s, 1, want_max ? "argmax" : "argmin");
    size_t i = want_max ? mw_stats_argmax(mw_series_values(s), s->len)
                        : mw_stats_argmin(mw_series_values(s), s->len);
    lua_pushinteger(L, (lua_Integer)i + 1);
    return 1;
}

static int series_argmin(lua_State *L) { return series_arg(L, 0); }
static int series_argmax(lua_State *L) { return series_arg(L, 1); }

typedef enum series_order_stat { OS_QUANTILE, OS_MEDIAN, OS_MAD } series_order_stat;

/* Quantile, median and MAD need scratch memory as large as the series:
 * taken from the accounting allocator and given back before any Lua call
 * (the kernels are plain C and cannot raise), so nothing can leak. */
static int series_order(lua_State *L, series_order_stat which, const char *fname)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_series *s = mw_lua_check_series(L, 1);
    double q = 0.5;
    if (which == OS_QUANTILE) {
        q = (double)luaL_checknumber(L, 2);
        luaL_argcheck(L, q >= 0 && q <= 1, 2, "quantile must be in [0, 1]");
    }
    series_need(L, s, 1, fname);
    size_t bytes = s->len * sizeof(double);
    double *scratch = mw_alloc_malloc(st->alloc, MW_DOMAIN_NATIVE, bytes);
    if (scratch == NULL)
        return mw_lua_status_error(L, st->alloc->last_error);
    const double *x = mw_series_values(s);
    double r = which == OS_MAD ? mw_stats_mad(x, s->len, scratch)
             : mw_stats_quantile(x, s->len, q, scratch);
    mw_alloc_free(st->alloc, MW_DOMAIN_NATIVE, scratch, bytes);
    lua_pushnumber(L, (lua_Number)r);
    return 1;
}

static int series_quantile(lua_State *L) { return series_order(L, OS_QUANTILE, "quantile"); }
static int series_median(lua_State *L) { return series_order(L, OS_MEDIAN, "median"); }
static int series_mad(lua_State *L) { return series_order(L, OS_MAD, "mad"); }

/* ---- rolling and ewm views ------------------------------------------ */

/* s:rolling(window [, min_periods]) and s:ewm(alpha) return small
 * userdata that remember the series (in their user value) and the
 * parameters; their methods compute a new series. */
typedef struct series_rolling {
    size_t window;
    size_t min_periods;
} series_rolling;

typedef struct series_ewm {
    double alpha;
} series_ewm;

static int series_rolling_new(lua_State *L)
{
    mw_lua_check_series(L, 1);
    lua_Integer w = luaL_checkinteger(L, 2);
    luaL_argcheck(L, w >= 1 && (lua_Unsigned)w <= SIZE_MAX / 64, 2, "window must be 1 or more");
    lua_Integer mp = luaL_optinteger(L, 3, w);
    luaL_argcheck(L, mp >= 1 && mp <= w, 3, "min_periods must be in 1..window");
    series_rolling *r = lua_newuserdatauv(L, sizeof *r, 1);
    r->window = (size_t)w;
    r->min_periods = (size_t)mp;
    luaL_setmetatable(L, "moonwatch.rolling");
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

static int series_ewm_new(lua_State *L)
{
    mw_lua_check_series(L, 1);
    double alpha = (double)luaL_checknumber(L, 2);
    luaL_argcheck(L, alpha > 0 && alpha <= 1, 2, "alpha must be in (0, 1]");
    series_ewm *e = lua_newuserdatauv(L, sizeof *e, 1);
    e->alpha = alpha;
    luaL_setmetatable(L, "moonwatch.ewm");
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

typedef enum rolling_kind {
    RK_SUM, RK_MEAN, RK_VAR, RK_STD, RK_MIN, RK_MAX, RK_MEDIAN, RK_QUANTILE
} rolling_kind;

static int rolling_compute(lua_State *L, rolling_kind kind)
{
    mw_lua_state *st = mw_lua_upstate(L);
    series_rolling *r = luaL_checkudata(L, 1, "moonwatch.rolling");
    double q = 0.5;
    size_t ddof = 1;
    if (kind == RK_QUANTILE) {
        q = (double)luaL_checknumber(L, 2);
        luaL_argcheck(L, q >= 0 && q <= 1, 2, "quantile must be in [0, 1]");
    } else if (kind == RK_VAR || kind == RK_STD) {
        ddof = series_ddof(L, 2);
    }
    lua_settop(L, 2);
    lua_getiuservalue(L, 1, 1);              /* 3: the series handle */
    size_t n = mw_lua_check_series(L, 3)->len;
    mw_series *out = series_push_result(L, st, 3, n);   /* 4 */
    /* A window longer than the series never holds more than n values. */
    size_t span = r->window < n ? r->window : n;
    size_t work_bytes = 0;
    if (kind == RK_MIN || kind == RK_MAX)
        work_bytes = mw_stats_rolling_minmax_work_size(span);
    else if (kind == RK_MEDIAN || kind == RK_QUANTILE)
        work_bytes = mw_stats_rolling_quantile_work_size(span);
    if (work_bytes == SIZE_MAX)
        return mw_lua_status_error(L, MW_ENOMEM);
    void *work = NULL;
    if (work_bytes > 0) {
        work = mw_alloc_malloc(st->alloc, MW_DOMAIN_NATIVE, work_bytes);
        if (work == NULL)
            return mw_lua_status_error(L, st->alloc->last_error);
    }
    /* No Lua call from here until the work memory is freed. */
    const double *x = mw_series_values(mw_lua_check_series(L, 3));
    double *y = mw_series_values(out);
    size_t w = r->window, mp = r->min_periods;
    switch (kind) {
    case RK_SUM:      mw_stats_rolling_sum(x, n, w, mp, y); break;
    case RK_MEAN:     mw_stats_rolling_mean(x, n, w, mp, y); break;
    case RK_VAR:      mw_stats_rolling_var(x, n, w, mp, ddof, y); break;
    case RK_STD:      mw_stats_rolling_std(x, n, w, mp, ddof, y); break;
    case RK_MIN:      mw_stats_rolling_min(x, n, w, mp, work, y); break;
    case RK_MAX:      mw_stats_rolling_max(x, n, w, mp, work, y); break;
    case RK_MEDIAN:   mw_stats_rolling_median(x, n, w, mp, work, y); break;
    case RK_QUANTILE: mw_stats_rolling_quantile(x, n, w, mp, q, work, y); break;
    }
    mw_alloc_free(st->alloc, MW_DOMAIN_NATIVE, work, work_bytes);
    return 1;
}

static int rolling_sum(lua_State *L) { return rolling_compute(L, RK_SUM); }
static int rolling_mean(lua_State *L) { return rolling_compute(L, RK_MEAN); }
static int rolling_var(lua_State *L) { return rolling_compute(L, RK_VAR); }
static int rolling_std(lua_State *L) { return rolling_compute(L, RK_STD); }
static int rolling_min(lua_State *L) { return rolling_compute(L, RK_MIN); }
static int rolling_max(lua_State *L) { return rolling_compute(L, RK_MAX); }
static int rolling_median(lua_State *L) { return rolling_compute(L, RK_MEDIAN); }
static int rolling_quantile(lua_State *L) { return rolling_compute(L, RK_QUANTILE); }

static int ewm_compute(lua_State *L, int want_std)
{
    mw_lua_state *st = mw_lua_upstate(L);
    series_ewm *e = luaL_checkudata(L, 1, "moonwatch.ewm");
    lua_settop(L, 1);
    lua_getiuservalue(L, 1, 1);              /* 2: the series handle */
    size_t n = mw_lua_check_series(L, 2)->len;
    mw_series *out = series_push_result(L, st, 2, n);
    const double *x = mw_series_values(mw_lua_check_series(L, 2));
    if (want_std)
        mw_stats_ewm_std(x, n, e->alpha, mw_series_values(out));
    else
        mw_stats_ewm_mean(x, n, e->alpha, mw_series_values(out));
    return 1;
}

static int ewm_mean(lua_State *L) { return ewm_compute(L, 0); }
static int ewm_std(lua_State *L) { return ewm_compute(L, 1); }

static int rolling_tostring(lua_State *L)
{
    series_rolling *r = luaL_checkudata(L, 1, "moonwatch.rolling");
    lua_pushfstring(L, "rolling(window = %I, min_periods = %I)", (LUAI_UACINT)r->window,
                    (LUAI_UACINT)r->min_periods);
    return 1;
}

static int ewm_tostring(lua_State *L)
{
    series_ewm *e = luaL_checkudata(L, 1, "moonwatch.ewm");
    lua_pushfstring(L, "ewm(alpha = %f)", (LUAI_UACNUMBER)e->alpha);
    return 1;
}

/* ---- tostring -------------------------------------------------------- */

/* Writes a one-line sparkline into out (at least SPARK_WIDTH * 3 + 1
 * bytes): the series cut into up to SPARK_WIDTH buckets, each drawn by the
 * height of its mean between the lowest and highest bucket means; a
 * bucket with no value is a space. Pure C: no Lua call. */
static size_t series_sparkline(const double *x, size_t n, char *out)
{
    static const char *const bars[8] = {
        "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
        "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"
    };
    size_t width = n < SPARK_WIDTH ? n : SPARK_WIDTH;
    double means[SPARK_WIDTH];
    double lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < width; k++) {
        size_t from = k * n / width, to = (k + 1) * n / width;
        double sum = 0;
        size_t count = 0;
        for (size_t i = from; i < to; i++) {
            if (!isnan(x[i])) {
                sum += x[i];
                count++;
            }
        }
        means[k] = count > 0 ? sum / (double)count : NAN;
        if (isfinite(means[k])) {
            lo = means[k] < lo ? means[k] : lo;
            hi = means[k] > hi ? means[k] : hi;
        }
    }
    size_t len = 0;
    for (size_t k = 0; k < width; k++) {
        if (!isfinite(means[k])) {
            out[len++] = ' ';
            continue;
        }
        int level = hi > lo ? (int)((means[k] - lo) / (hi - lo) * 7.0 + 0.5) : 3;
        memcpy(out + len, bars[level < 0 ? 0 : level > 7 ? 7 : level], 3);
        len += 3;
    }
    out[len] = '\0';
    return len;
}

/* series(1000, float64, timestamps) [1, 2, 3, ..., 998, 999, 1000] ▁▂▃▄▅▆▇█
 * Everything shown is copied out of the series before the first Lua call
 * (which may run a finalizer that releases it). */
static int series_tostring(lua_State *L)
{
    mw_handle *h = mw_lua_test_handle(L, 1);
    if (h == NULL)
        return luaL_typeerror(L, 1, "series");
    if (h->obj == NULL) {
        lua_pushliteral(L, "series (released)");
        return 1;
    }
    const mw_series *s = mw_series_cast(h->obj);
    size_t n = s->len;
    const double *x = mw_series_values(s);
    char text[1024];
    int len = snprintf(text, sizeof text, "series(%zu, float64%s%s)", n,
                       s->stamps != NULL ? ", timestamps" : "",
                       mw_series_owns_buffers(s) ? "" : ", view");
    if (n > 0) {
        size_t nshow = n <= 2 * SHOW_VALUES ? n : SHOW_VALUES;
        len += snprintf(text + len, sizeof text - (size_t)len, " [");
        for (size_t i = 0; i < nshow; i++)
            len += snprintf(text + len, sizeof text - (size_t)len, "%s%.6g",
                            i > 0 ? ", " : "", x[i]);
        if (n > 2 * SHOW_VALUES) {
            len += snprintf(text + len, sizeof text - (size_t)len, ", ...");
            for (size_t i = n - SHOW_VALUES; i < n; i++)
                len += snprintf(text + len, sizeof text - (size_t)len, ", %.6g", x[i]);
        }
        len += snprintf(text + len, sizeof text - (size_t)len, "] ");
        if ((size_t)len + SPARK_WIDTH * 3 + 1 < sizeof text)
            len += (int)series_sparkline(x, n, text + len);
    }
    lua_pushlstring(L, text, (size_t)len);
    return 1;
}

void mw_lua_open_series(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg meta[] = {
        {"__newindex", series_newindex},
        {"__len", series_len},
        {"__pairs", series_pairs},
        {"__tostring", series_tostring},
        {"__add", series_add},
        {"__sub", series_sub},
        {"__mul", series_mul},
        {"__div", series_div},
        {"__pow", series_pow},
        {"__unm", series_unm},
        {NULL, NULL}
    };
    static const luaL_Reg methods[] = {
        {"slice", series_slice},
        {"copy", series_copy},
        {"totable", series_totable},
        {"append", series_append},
        {"time", series_time},
        {"times", series_times},
        {"hastimes", series_hastimes},
        {"lt", series_lt},
        {"le", series_le},
        {"gt", series_gt},
        {"ge", series_ge},
        {"eq", series_eq},
        {"ne", series_ne},
        {"where", series_where},
        {"abs", series_abs},
        {"log", series_log},
        {"diff", series_diff},
        {"cumsum", series_cumsum},
        {"shift", series_shift},
        {"fillna", series_fillna},
        {"sum", series_sum},
        {"count", series_count},
        {"mean", series_mean},
        {"var", series_var},
        {"std", series_std},
        {"min", series_min},
        {"max", series_max},
        {"argmin", series_argmin},
        {"argmax", series_argmax},
        {"median", series_median},
        {"quantile", series_quantile},
        {"mad", series_mad},
        {"rolling", series_rolling_new},
        {"ewm", series_ewm_new},
        {NULL, NULL}
    };
    mw_lua_newclass(L, st, &mw_series_type, meta, methods, series_index);

    static const luaL_Reg rolling_methods[] = {
        {"sum", rolling_sum},
        {"mean", rolling_mean},
        {"var", rolling_var},
        {"std", rolling_std},
        {"min", rolling_min},
        {"max", rolling_max},
        {"median", rolling_median},
        {"quantile", rolling_quantile},
        {NULL, NULL}
    };
    luaL_newmetatable(L, "moonwatch.rolling");
    lua_createtable(L, 0, 8);
    mw_lua_setfuncs(L, st, rolling_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, rolling_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);

    static const luaL_Reg ewm_methods[] = {
        {"mean", ewm_mean},
        {"std", ewm_std},
        {NULL, NULL}
    };
    luaL_newmetatable(L, "moonwatch.ewm");
    lua_createtable(L, 0, 2);
    mw_lua_setfuncs(L, st, ewm_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, ewm_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);

    /* mw.series: callable as the constructor, with zeros, full, range. */
    static const luaL_Reg funcs[] = {
        {"zeros", series_zeros},
        {"full", series_full},
        {"range", series_range},
        {NULL, NULL}
    };
    mw_lua_push_callable(L, st, funcs, series_call);
}
