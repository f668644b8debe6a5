/*
 * l_detect.c: detectors and thresholders as Lua userdata (mw.detect,
 * mw.thresh).
 *
 * A detector's userdata holds a pointer to its mw_detector (native memory,
 * charged to the runtime's allocator) behind a marker that identifies the
 * class without a registry lookup: update is called once per sample from
 * Lua loops, so its checks are a type test, a length test and a pointer
 * compare.
 *
 * Each userdata has a metatable of its own whose __index is a table of its
 * fields (name, params) and of the methods (copied in: a dozen entries):
 * `d.params` is a plain field and `d:update` one table lookup, as cheap as
 * a method of a shared metatable (a second level of __index would cost a
 * third of an update). The native detector is freed by release(), __close
 * or __gc, whichever comes first.
 */
#include "lua/l_detect.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "detect/chain.h"
#include "detect/detect.h"
#include "lua/handle.h"
#include "lua/l_series.h"
#include "types/frame.h"
#include "types/series.h"

typedef struct lua_detector {
    const char *magic;       /* detector_magic: this is a detector */
    mw_detector *d;          /* owned; NULL once released */
    size_t kept;             /* its slot in the kept table (mw_lua_keep) */
} lua_detector;

static const char detector_magic[] = "moonwatch.detector";
/* Registry keys (their addresses): the metatable fields every detector
 * gets, the methods every __index gets, and the save box's metatable. */
static const char template_key = 0;
static const char methods_key = 0;
static const char box_key = 0;

/* Values per chunk when timestamps are converted for a run. */
#define RUN_CHUNK 1024

/* lua_touserdata gives a pointer only for a userdata, and lua_rawlen is 0
 * for a light one: a pointer and a length of exactly sizeof(lua_detector)
 * mean a full userdata of that size, whose marker tells ours apart. Two
 * API calls, as update is on the path of every sample. */
static lua_detector *detector_test(lua_State *L, int idx)
{
    lua_detector *u = lua_touserdata(L, idx);
    if (u == NULL || lua_rawlen(L, idx) != sizeof *u)
        return NULL;
    return u->magic == detector_magic ? u : NULL;
}

int mw_lua_is_detector(lua_State *L, int idx)
{
    return detector_test(L, idx) != NULL;
}

int mw_lua_is_live_detector(lua_State *L, int idx)
{
    lua_detector *u = detector_test(L, idx);
    return u != NULL && u->d != NULL;
}

static int detector_bad(lua_State *L, int idx, const lua_detector *u)
{
    if (u == NULL)
        return luaL_typeerror(L, idx, "detector");
    return luaL_error(L, "attempt to use a released detector");
}

mw_detector *mw_lua_check_detector(lua_State *L, int idx)
{
    lua_detector *u = detector_test(L, idx);
    if (u == NULL || u->d == NULL)
        detector_bad(L, idx, u);
    return u->d;
}

void mw_lua_release_detector(lua_State *L, int idx)
{
    lua_detector *u = detector_test(L, idx);
    if (u != NULL && u->d != NULL) {
        mw_lua_state *st = mw_lua_state_find(L);
        if (st != NULL)
            mw_lua_unkeep(st, u->kept);
        u->kept = 0;
        mw_detector_free(u->d);
        u->d = NULL;
    }
}

static void detector_drop_kept(mw_lua_state *st, void *resource)
{
    (void)st;
    mw_detector_free(resource);
}

/* Raises the error of a failed creation: a bad parameter as an argument
 * error on arg, memory as mw_lua_status_error. */
static int detector_fail(lua_State *L, int arg, mw_status status, const char *err)
{
    if (status == MW_EINVAL)
        return luaL_argerror(L, arg, err);
    return mw_lua_status_error(L, status);
}

/* ---- parameters ---------------------------------------------------- */

/* Reads the parameter table at arg into values (defaults first). */
static void detector_read_params(lua_State *L, int arg, const mw_detector_type *type,
                                 double *values)
{
    mw_detect_param_defaults(type, values);
    if (lua_isnoneornil(L, arg))
        return;
    luaL_checktype(L, arg, LUA_TTABLE);
    char err[MW_DETECT_ERRLEN];
    lua_pushnil(L);
    while (lua_next(L, arg) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            snprintf(err, sizeof err, "parameter names must be strings; ");
            mw_detect_param_list(type, err);
            luaL_argerror(L, arg, err);
        }
        const char *key = lua_tostring(L, -2);
        int i = mw_detect_param_index(type, key);
        if (i < 0) {
            snprintf(err, sizeof err, "unknown parameter '%s'; ", key);
            mw_detect_param_list(type, err);
            luaL_argerror(L, arg, err);
        }
        const mw_param_spec *p = &type->params[i];
        int vt = lua_type(L, -1);
        double number = 0.0;
        const char *text = NULL;
        if (p->kind == MW_PARAM_BOOL) {
            if (vt != LUA_TBOOLEAN)
                luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a boolean (got %s)",
                                                      key, luaL_typename(L, -1)));
            number = lua_toboolean(L, -1);
        } else if (p->kind == MW_PARAM_CHOICE && vt == LUA_TSTRING) {
            text = lua_tostring(L, -1);
        } else if (vt == LUA_TNUMBER) {
            number = lua_tonumber(L, -1);
        } else {
            luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a %s (got %s)", key,
                                                  p->kind == MW_PARAM_CHOICE ? "string"
                                                                             : "number",
                                                  luaL_typename(L, -1)));
        }
        if (mw_detect_param_set(type, values, i, number, text, err) != MW_OK)
            luaL_argerror(L, arg, err);
        lua_pop(L, 1);
    }
}

/* Pushes parameter i of d as a Lua value. */
static void detector_push_param(lua_State *L, const mw_detector *d, size_t i)
{
    const mw_param_spec *p = &d->type->params[i];
    double v = d->params[i];
    switch (p->kind) {
    case MW_PARAM_INT:    lua_pushinteger(L, (lua_Integer)v); break;
    case MW_PARAM_BOOL:   lua_pushboolean(L, v != 0.0); break;
    case MW_PARAM_CHOICE: lua_pushstring(L, mw_detect_choice_name(p, v)); break;
    default:              lua_pushnumber(L, v); break;
    }
}

/* ---- the userdata -------------------------------------------------- */

/* Pushes an empty detector userdata with its own metatable (its __gc
 * already set) and returns it: made before the native detector, so that
 * once detector_fill stores that detector, any later Lua error frees it
 * through __gc. */
static lua_detector *detector_slot(lua_State *L)
{
    lua_detector *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->magic = detector_magic;
    u->d = NULL;
    u->kept = 0;
    lua_createtable(L, 0, 8);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &template_key);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -5);
    }
    lua_pop(L, 1);
    lua_setmetatable(L, -2);
    return u;
}

/* Gives the slot u (at the top of the stack) the detector d, which it owns
 * from then on, and its fields: the methods, name, role, params. */
static void detector_fill(lua_State *L, lua_detector *u, mw_detector *d)
{
    u->d = d;
    u->kept = mw_lua_keep(L, mw_lua_state_find(L), d, detector_drop_kept);
    lua_getmetatable(L, -1);
    lua_createtable(L, 0, 16);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &methods_key);
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -5);
    }
    lua_pop(L, 1);
    lua_pushstring(L, d->type->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, d->type->role == MW_ROLE_THRESHOLD ? "threshold" : "detector");
    lua_setfield(L, -2, "role");
    lua_createtable(L, 0, (int)d->type->n_params);
    for (size_t i = 0; i < d->type->n_params; i++) {
        detector_push_param(L, d, i);
        lua_setfield(L, -2, d->type->params[i].name);
    }
    lua_setfield(L, -2, "params");
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
}

/* Fills the slot at the top with d, or raises (a bad parameter as an
 * argument error on arg) if d is NULL. */
static void detector_fill_or_fail(lua_State *L, lua_detector *u, mw_detector *d, int arg,
                                  mw_status status, const char *err)
{
    if (d == NULL)
        detector_fail(L, arg, status, err);
    detector_fill(L, u, d);
}

/* mw.detect.<name>{params}: the constructor of one kind (upvalue 2). */
static int detector_new(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    const mw_detector_type *type = lua_touserdata(L, lua_upvalueindex(2));
    double values[MW_DETECT_MAX_PARAMS];
    detector_read_params(L, 1, type, values);
    lua_settop(L, 1);
    mw_status status;
    char err[MW_DETECT_ERRLEN];
    lua_detector *u = detector_slot(L);
    mw_detector *d = mw_detector_new(st->alloc, type, values, &status, err);
    detector_fill_or_fail(L, u, d, 1, status, err);
    return 1;
}

static int detector_gc(lua_State *L)
{
    mw_lua_release_detector(L, 1);
    return 0;
}

static int detector_release(lua_State *L)
{
    if (detector_test(L, 1) == NULL)
        return luaL_typeerror(L, 1, "detector");
    mw_lua_release_detector(L, 1);
    return 0;
}

/* Appends d's description to b: name{param=value, ...}, or
 * chain(stage -> stage). */
static void detector_describe(lua_State *L, luaL_Buffer *b, const mw_detector *d)
{
    mw_detector *const *stages;
    size_t n_stages = d->type->children != NULL ? d->type->children(d, &stages) : 0;
    luaL_addstring(b, d->type->name);
    if (d->type->children != NULL) {
        luaL_addchar(b, '(');
        for (size_t i = 0; i < n_stages; i++) {
            if (i > 0)
                luaL_addstring(b, " -> ");
            detector_describe(L, b, stages[i]);
        }
        luaL_addchar(b, ')');
        return;
    }
    luaL_addchar(b, '{');
    for (size_t i = 0; i < d->type->n_params; i++) {
        const mw_param_spec *p = &d->type->params[i];
        char text[64];
        switch (p->kind) {
        case MW_PARAM_INT:
            snprintf(text, sizeof text, "%.0f", d->params[i]);
            break;
        case MW_PARAM_BOOL:
            snprintf(text, sizeof text, "%s", d->params[i] != 0.0 ? "true" : "false");
            break;
        case MW_PARAM_CHOICE:
            snprintf(text, sizeof text, "\"%s\"", mw_detect_choice_name(p, d->params[i]));
            break;
        default:
            snprintf(text, sizeof text, "%.14g", d->params[i]);
            break;
        }
        luaL_addstring(b, i > 0 ? ", " : "");
        luaL_addstring(b, p->name);
        luaL_addchar(b, '=');
        luaL_addstring(b, text);
    }
    luaL_addchar(b, '}');
}

static int detector_tostring(lua_State *L)
{
    lua_detector *u = detector_test(L, 1);
    if (u == NULL)
        return luaL_typeerror(L, 1, "detector");
    if (u->d == NULL) {
        lua_pushliteral(L, "detector (released)");
        return 1;
    }
    luaL_Buffer b;
    char count[64];
    if (mw_detector_is_multi(u->d))
        snprintf(count, sizeof count, " (%llu rows of %zu learned)",
                 (unsigned long long)u->d->n_learned, u->d->dims);
    else
        snprintf(count, sizeof count, " (%llu values learned)",
                 (unsigned long long)u->d->n_learned);
    luaL_buffinit(L, &b);
    detector_describe(L, &b, u->d);
    luaL_addstring(&b, count);
    luaL_pushresult(&b);
    return 1;
}

/* ---- learning and scoring ------------------------------------------ */

/* The arguments of update and score: x, and t (NaN when absent). One
 * lua_tonumberx each; the type checks only on the error path. */
static double detector_arg(lua_State *L, int idx, int optional)
{
    int ok;
    double v = lua_tonumberx(L, idx, &ok);
    if (!ok) {
        if (optional && lua_isnoneornil(L, idx))
            return NAN;
        luaL_checknumber(L, idx);
    }
    return v;
}

/* Rows on the stack: up to this many values; longer ones in a userdata. */
#define ROW_STACK 256

size_t mw_lua_read_row(lua_State *L, int idx, double *buf, size_t cap, int copy,
                       const char *expected, double **out)
{
    size_t n;
    const double *src = NULL;
    mw_handle *h = NULL;
    if (lua_type(L, idx) == LUA_TTABLE) {
        n = (size_t)lua_rawlen(L, idx);
    } else {
        h = mw_lua_test_handle(L, idx);
        if (h == NULL || h->obj == NULL || !mw_is_series(h->obj))
            luaL_typeerror(L, idx, expected);
        n = mw_series_cast(h->obj)->len;
    }
    if (n == 0 || n > MW_DETECT_MAX_DIMS)
        luaL_argerror(L, idx, lua_pushfstring(L, "a row has 1 to %d values (got %d)",
                                              MW_DETECT_MAX_DIMS, (int)n));
    if (h != NULL && !copy) {
        *out = mw_series_values(mw_series_cast(h->obj));
        return n;
    }
    double *dst = n <= cap ? buf : lua_newuserdatauv(L, n * sizeof(double), 0);
    if (h != NULL) {
        /* Fetched again: the userdata above may have run a finalizer. */
        h = mw_lua_test_handle(L, idx);
        if (h == NULL || h->obj == NULL || mw_series_cast(h->obj)->len != n)
            luaL_error(L, "the row changed while it was read");
        src = mw_series_values(mw_series_cast(h->obj));
        memcpy(dst, src, n * sizeof(double));
    } else {
        for (size_t k = 0; k < n; k++) {
            int ok;
            lua_rawgeti(L, idx, (lua_Integer)k + 1);
            dst[k] = lua_tonumberx(L, -1, &ok);
            if (!ok)
                luaL_argerror(L, idx, lua_pushfstring(L, "row value %d is %s, not a number",
                                                      (int)k + 1, luaL_typename(L, -1)));
            lua_pop(L, 1);
        }
    }
    *out = dst;
    return n;
}

/* d:update(row [, t]) and d:score(row [, t]): a row of several values. */
static int detector_call_row(lua_State *L, lua_detector *u, int learn)
{
    double buf[ROW_STACK];
    double *row;
    double t = lua_gettop(L) >= 3 ? detector_arg(L, 3, 1) : NAN;
    size_t dims = mw_lua_read_row(L, 2, buf, ROW_STACK, 0,
                                  "number, or a row (table of numbers or series)", &row);
    /* Reading a long row allocates, which may run a finalizer that
     * released the detector: fetched again. */
    u = detector_test(L, 1);
    if (u == NULL || u->d == NULL)
        return detector_bad(L, 1, u);
    double score;
    char err[MW_DETECT_ERRLEN];
    mw_status status = learn ? mw_detector_update_row(u->d, row, dims, t, &score, err)
                             : mw_detector_score_row(u->d, row, dims, t, &score, err);
    if (status == MW_EINVAL)
        return luaL_argerror(L, 2, err);
    if (status != MW_OK)
        return mw_lua_status_error(L, status);
    lua_pushnumber(L, score);
    return 1;
}

/* d:update(x [, t]) (learn non-zero) and d:score(x [, t]). */
static inline int detector_call(lua_State *L, int learn)
{
    lua_detector *u = detector_test(L, 1);
    if (u == NULL || u->d == NULL)
        return detector_bad(L, 1, u);
    int ok;
    double x = lua_tonumberx(L, 2, &ok);
    if (!ok) {
        /* Off the fast path: a row (table or series), or an error. */
        int type = lua_type(L, 2);
        if (type == LUA_TTABLE || type == LUA_TUSERDATA)
            return detector_call_row(L, u, learn);
        luaL_checknumber(L, 2);
    }
    double t = lua_gettop(L) >= 3 ? detector_arg(L, 3, 1) : NAN;
    lua_pushnumber(L, learn ? mw_detector_update(u->d, x, t) : mw_detector_score(u->d, x, t));
    return 1;
}

static int detector_update(lua_State *L) { return detector_call(L, 1); }
static int detector_score(lua_State *L) { return detector_call(L, 0); }

static int detector_reset(lua_State *L)
{
    mw_detector_reset(mw_lua_check_detector(L, 1));
    return 0;
}

static int detector_count(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)mw_lua_check_detector(L, 1)->n_learned);
    return 1;
}

static int detector_bytes(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)mw_lua_check_detector(L, 1)->bytes);
    return 1;
}

/* The input of a run: values and timestamps, re-read after every Lua
 * allocation (a finalizer may have changed the objects). */
typedef struct run_input {
    const double *x;
    const int64_t *stamps;   /* a series' own timestamps, or NULL */
    const double *tcol;      /* a frame's timestamp column, or NULL */
    size_t n;
} run_input;

/* Whether every value of a frame's timestamp column converts to int64. */
static int run_stamps_ok(const double *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(t[i] >= -9.2e18 && t[i] <= 9.2e18) || t[i] != floor(t[i]))
            return 0;
    return 1;
}

static void run_resolve(lua_State *L, run_input *in)
{
    mw_handle *h = mw_lua_test_handle(L, 2);
    memset(in, 0, sizeof *in);
    if (h == NULL || h->obj == NULL)
        luaL_typeerror(L, 2, h == NULL ? "series or frame" : "unreleased series or frame");
    if (mw_is_series(h->obj)) {
        mw_series *s = mw_series_cast(h->obj);
        in->x = mw_series_values(s);
        in->stamps = s->stamps != NULL ? mw_series_stamps(s) : NULL;
        in->n = s->len;
        return;
    }
    if (h->obj->type != &mw_frame_type)
        luaL_typeerror(L, 2, "series or frame");
    mw_frame *f = mw_frame_cast(h->obj);
    long tcol = mw_frame_find(f, "timestamp", 9);
    long col = -1;
    if (!lua_isnoneornil(L, 3)) {
        size_t len;
        const char *name = luaL_checklstring(L, 3, &len);
        col = mw_frame_find(f, name, len);
        if (col < 0)
            luaL_argerror(L, 3, lua_pushfstring(L, "no column '%s' in the frame", name));
    } else if ((col = mw_frame_find(f, "value", 5)) < 0) {
        size_t candidates = 0;
        for (size_t i = 0; i < f->ncols; i++) {
            if ((long)i != tcol) {
                col = (long)i;
                candidates++;
            }
        }
        if (candidates != 1)
            luaL_argerror(L, 2, candidates == 0
                                    ? "the frame has no value column"
                                    : "the frame has several columns and none is called "
                                      "'value': name one as argument #3");
    }
    in->x = mw_series_values(f->cols[col]);
    in->n = f->nrows;
    if (tcol >= 0 && tcol != col)
        in->tcol = mw_series_values(f->cols[tcol]);
}

/* Resolves the input of d:run or d:test (series or frame at 2, column at
 * 3) into in and pushes the new series of its length that receives the
 * scores, with the input's timestamps; returns it. The input is resolved
 * again after the series is made (a collection may have run). */
static mw_series *run_push_output(lua_State *L, run_input *in)
{
    mw_lua_state *st = mw_lua_upstate(L);
    lua_settop(L, 3);
    run_resolve(L, in);
    int with_stamps = in->stamps != NULL || (in->tcol != NULL && run_stamps_ok(in->tcol, in->n));
    mw_series *out = mw_lua_push_new_series(L, st, in->n, with_stamps, 0);
    run_resolve(L, in);
    if (in->n != out->len)
        luaL_error(L, "the input changed length while its scores were made");
    if (with_stamps && in->stamps != NULL) {
        memcpy(mw_series_stamps(out), in->stamps, in->n * sizeof(int64_t));
    } else if (with_stamps) {
        int64_t *stamps = mw_series_stamps(out);
        for (size_t i = 0; i < in->n; i++)
            stamps[i] = (int64_t)in->tcol[i];
    }
    return out;
}

/* d:run(series or frame [, column]): a series of the scores, the numbers
 * update would give value by value, with the input's timestamps. */
static int detector_run_rows(lua_State *L, mw_detector *d);

static int detector_run(lua_State *L)
{
    mw_detector *md = mw_lua_check_detector(L, 1);
    if (mw_detector_is_multi(md)) {
        mw_handle *h = mw_lua_test_handle(L, 2);
        if (!(h != NULL && h->obj != NULL && mw_is_series(h->obj)))
            return detector_run_rows(L, md);
    }
    run_input in;
    double *y = mw_series_values(run_push_output(L, &in));
    mw_detector *d = mw_lua_check_detector(L, 1);
    if (in.stamps == NULL) {
        mw_detector_run(d, in.x, in.tcol, in.n, y);
        return 1;
    }
    double t[RUN_CHUNK];
    for (size_t i = 0; i < in.n; i += RUN_CHUNK) {
        size_t m = in.n - i < RUN_CHUNK ? in.n - i : RUN_CHUNK;
        for (size_t k = 0; k < m; k++)
            t[k] = (double)in.stamps[i + k];
        mw_detector_run(d, in.x + i, t, m, y + i);
    }
    return 1;
}

/* ---- rows from frames, lists of series and tables of rows --------- */

/* Rows converted per call of the kind's run_rows. */
#define ROWS_CHUNK 1024

/* The input of a multivariate run or fit (l_detect.h): a frame, a list
 * of series or a list of rows. */
typedef mw_lua_rows rows_input;

/* The series at the top of the stack, as a column: its values and length. */
static const double *rows_column(lua_State *L, int arg, int k, size_t *len)
{
    mw_handle *h = mw_lua_test_handle(L, -1);
    if (h == NULL || h->obj == NULL || !mw_is_series(h->obj))
        luaL_argerror(L, arg, lua_pushfstring(L, "column %d is %s, not a series", k,
                                              h != NULL && h->obj == NULL ? "released"
                                                                          : luaL_typename(L, -1)));
    mw_series *s = mw_series_cast(h->obj);
    *len = s->len;
    return mw_series_values(s);
}

/* Reads the input's shape (pass 1: in->cols NULL) or its column pointers
 * (pass 2: in->cols has dims slots). Raises on a malformed input. */
/* Stores column k's pointer, refusing a width beyond the slots made
 * for the width first read (a finalizer may have changed the input). */
static void rows_store(lua_State *L, rows_input *in, size_t k, const double *col)
{
    if (k >= in->cols_cap)
        luaL_error(L, "the input changed shape while it was read");
    in->cols[k] = col;
}

static void rows_resolve(lua_State *L, rows_input *in)
{
    int arg = in->idx;
    mw_handle *h = mw_lua_test_handle(L, arg);
    in->tcol = NULL;
    if (h != NULL && h->obj != NULL && h->obj->type == &mw_frame_type) {
        mw_frame *f = mw_frame_cast(h->obj);
        in->kind = ROWS_COLUMNS;
        in->n = f->nrows;
        long tcol = mw_frame_find(f, "timestamp", 9);
        if (tcol >= 0)
            in->tcol = mw_series_values(f->cols[tcol]);
        size_t k = 0;
        if (in->cols_idx != 0) {
            size_t m = (size_t)lua_rawlen(L, in->cols_idx);
            for (size_t i = 0; i < m; i++) {
                lua_rawgeti(L, in->cols_idx, (lua_Integer)i + 1);
                size_t len;
                const char *name = lua_tolstring(L, -1, &len);
                long c = name != NULL ? mw_frame_find(f, name, len) : -1;
                if (c < 0)
                    luaL_argerror(L, in->cols_idx,
                                  lua_pushfstring(L, "no column '%s' in the frame",
                                                  name != NULL ? name : luaL_typename(L, -1)));
                lua_pop(L, 1);
                if (in->cols != NULL)
                    rows_store(L, in, k, mw_series_values(f->cols[c]));
                k++;
            }
        } else {
            for (size_t c = 0; c < f->ncols; c++) {
                if ((long)c == tcol)
                    continue;
                if (in->cols != NULL)
                    rows_store(L, in, k, mw_series_values(f->cols[c]));
                k++;
            }
        }
        if (k == 0)
            luaL_argerror(L, arg, "the frame has no columns to score");
        in->dims = k;
        return;
    }
    if (lua_type(L, arg) != LUA_TTABLE)
        luaL_typeerror(L, arg, "frame, list of series or list of rows");
    lua_rawgeti(L, arg, 1);
    int first = lua_type(L, -1);
    if (first == LUA_TTABLE || first == LUA_TNIL) {
        /* A list of rows: each a table of numbers, all of one width. */
        in->kind = ROWS_TABLE;
        in->n = (size_t)lua_rawlen(L, arg);
        in->dims = first == LUA_TNIL ? 0 : (size_t)lua_rawlen(L, -1);
        lua_pop(L, 1);
        return;
    }
    lua_pop(L, 1);
    in->kind = ROWS_COLUMNS;
    in->dims = (size_t)lua_rawlen(L, arg);
    if (in->dims > MW_DETECT_MAX_DIMS)
        luaL_argerror(L, arg, lua_pushfstring(L, "a row has 1 to %d values (got %d)",
                                              MW_DETECT_MAX_DIMS, (int)in->dims));
    for (size_t k = 0; k < in->dims; k++) {
        lua_rawgeti(L, arg, (lua_Integer)k + 1);
        size_t len;
        const double *col = rows_column(L, arg, (int)k + 1, &len);
        if (k == 0)
            in->n = len;
        else if (len != in->n)
            luaL_argerror(L, arg, lua_pushfstring(L, "column %d has %d values, column 1 has %d",
                                                  (int)k + 1, (int)len, (int)in->n));
        if (in->cols != NULL)
            rows_store(L, in, k, col);
        lua_pop(L, 1);
    }
}

/* Writes rows start..start+m of the input into buf, row-major. */
static void rows_fill(lua_State *L, const rows_input *in, size_t start, size_t m, double *buf)
{
    size_t dims = in->dims;
    if (in->kind == ROWS_COLUMNS) {
        for (size_t k = 0; k < dims; k++) {
            const double *col = in->cols[k] + start;
            for (size_t i = 0; i < m; i++)
                buf[i * dims + k] = col[i];
        }
        return;
    }
    for (size_t i = 0; i < m; i++) {
        if (lua_rawgeti(L, in->idx, (lua_Integer)(start + i) + 1) != LUA_TTABLE
            || (size_t)lua_rawlen(L, -1) != dims)
            luaL_argerror(L, in->idx,
                          lua_pushfstring(L, "row %d is not a table of %d numbers",
                                          (int)(start + i) + 1, (int)dims));
        for (size_t k = 0; k < dims; k++) {
            int ok;
            lua_rawgeti(L, -1, (lua_Integer)k + 1);
            buf[i * dims + k] = lua_tonumberx(L, -1, &ok);
            if (!ok)
                luaL_argerror(L, in->idx,
                              lua_pushfstring(L, "row %d, value %d is %s, not a number",
                                              (int)(start + i) + 1, (int)k + 1,
                                              luaL_typename(L, -1)));
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
}

/* Prepares a rows input at arg (columns list at arg + 1 for a frame):
 * checks its shape, and pushes the userdata for its column pointers and
 * one for `buffer_rows` rows of values (returned). Pointers are fetched
 * by rows_refresh after the caller's last Lua allocation. */
static double *rows_prepare(lua_State *L, rows_input *in, int arg, size_t buffer_rows)
{
    memset(in, 0, sizeof *in);
    in->idx = arg;
    if (!lua_isnoneornil(L, arg + 1)) {
        luaL_checktype(L, arg + 1, LUA_TTABLE);
        in->cols_idx = arg + 1;
    }
    rows_resolve(L, in);
    if (in->dims == 0 && in->n > 0)
        luaL_argerror(L, arg, "rows must have at least one value");
    in->cols = lua_newuserdatauv(L, (in->dims + 1) * sizeof *in->cols, 0);
    in->cols_cap = in->dims;
    size_t rows = buffer_rows < in->n ? buffer_rows : in->n;
    if (in->dims > 0 && rows > SIZE_MAX / sizeof(double) / in->dims)
        luaL_error(L, "not enough memory");
    return lua_newuserdatauv(L, rows * in->dims * sizeof(double) + 1, 0);
}

/* Fetches the column pointers again (after any Lua allocation). */
static void rows_refresh(lua_State *L, rows_input *in)
{
    size_t n = in->n, dims = in->dims;
    rows_resolve(L, in);
    if (in->n != n || in->dims != dims)
        luaL_error(L, "the input changed shape while it was read");
}

/* d:run(frame | {series...} | {{row}...} [, columns]) for a multivariate
 * kind: a series of the scores, as update on each row in turn; with a
 * frame's timestamps when it has them. */
static int detector_run_rows(lua_State *L, mw_detector *d)
{
    mw_lua_state *st = mw_lua_upstate(L);
    (void)d;
    lua_settop(L, 3);
    rows_input in;
    double *buf = rows_prepare(L, &in, 2, ROWS_CHUNK);
    int with_stamps = in.tcol != NULL && run_stamps_ok(in.tcol, in.n);
    mw_series *out = mw_lua_push_new_series(L, st, in.n, with_stamps, 0);
    rows_refresh(L, &in);
    double *y = mw_series_values(out);
    if (with_stamps) {
        int64_t *stamps = mw_series_stamps(out);
        for (size_t i = 0; i < in.n; i++)
            stamps[i] = (int64_t)in.tcol[i];
    }
    char err[MW_DETECT_ERRLEN];
    for (size_t start = 0; start < in.n; start += ROWS_CHUNK) {
        size_t m = in.n - start < ROWS_CHUNK ? in.n - start : ROWS_CHUNK;
        rows_fill(L, &in, start, m, buf);
        mw_status status = mw_detector_run_rows(mw_lua_check_detector(L, 1), buf, in.dims,
                                                in.tcol != NULL ? in.tcol + start : NULL, m,
                                                y + start, err);
        if (status == MW_EINVAL)
            return luaL_argerror(L, 2, err);
        if (status != MW_OK)
            return mw_lua_status_error(L, status);
    }
    return 1;
}

/* d:fit(frame | {series...} | {{row}...} [, columns]): the kind's batch
 * training on all the rows at once; returns d. */
static int detector_fit(lua_State *L)
{
    mw_detector *d = mw_lua_check_detector(L, 1);
    if (d->type->fit == NULL)
        return luaL_argerror(L, 1, lua_pushfstring(L, "%s has no fit (it learns as it scores)",
                                                   d->type->name));
    lua_settop(L, 3);
    rows_input in;
    double *rows = rows_prepare(L, &in, 2, SIZE_MAX);
    rows_refresh(L, &in);
    rows_fill(L, &in, 0, in.n, rows);
    char err[MW_DETECT_ERRLEN];
    mw_status status = mw_detector_fit(mw_lua_check_detector(L, 1), rows, in.dims, in.n, err);
    if (status == MW_EINVAL)
        return luaL_argerror(L, 2, err);
    if (status != MW_OK)
        return mw_lua_status_error(L, status);
    lua_settop(L, 1);
    return 1;
}

/* d:dims(): the row width a multivariate detector scores (nil until the
 * first row fixes it); 1 for the others. */
static int detector_dims(lua_State *L)
{
    mw_detector *d = mw_lua_check_detector(L, 1);
    if (mw_detector_is_multi(d) && d->dims == 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, mw_detector_is_multi(d) ? (lua_Integer)d->dims : 1);
    return 1;
}

/* d:test(series or frame [, column]): the kind's batch test on the whole
 * input (a series of the scores, with the input's timestamps) and the
 * list of the 1-based positions it calls outliers (score > 1), in order.
 * The detector's state is not used. */
static int detector_test_rows(lua_State *L);

static int detector_batch_test(lua_State *L)
{
    mw_detector *d = mw_lua_check_detector(L, 1);
    if (d->type->test_rows != NULL) {
        mw_handle *h = mw_lua_test_handle(L, 2);
        if (!(h != NULL && h->obj != NULL && mw_is_series(h->obj)))
            return detector_test_rows(L);
    }
    if (d->type->test == NULL)
        return luaL_argerror(L, 1, lua_pushfstring(L, "%s has no batch test", d->type->name));
    run_input in;
    mw_series *out = run_push_output(L, &in);
    double *y = mw_series_values(out);
    char err[MW_DETECT_ERRLEN];
    mw_status status = mw_detector_test(mw_lua_check_detector(L, 1), in.x, in.n, y, err);
    if (status == MW_EINVAL)
        return luaL_argerror(L, 2, err);
    if (status != MW_OK)
        return mw_lua_status_error(L, status);
    lua_newtable(L);
    lua_Integer found = 0;
    for (size_t i = 0; i < out->len; i++) {
        if (y[i] > 1.0) {
            lua_pushinteger(L, (lua_Integer)i + 1);
            lua_rawseti(L, -2, ++found);
        }
    }
    return 2;
}

/* Pushes the list of the 1-based positions of y[0..n) above 1. */
static void detector_push_outliers(lua_State *L, const double *y, size_t n)
{
    lua_newtable(L);
    lua_Integer found = 0;
    for (size_t i = 0; i < n; i++) {
        if (y[i] > 1.0) {
            lua_pushinteger(L, (lua_Integer)i + 1);
            lua_rawseti(L, -2, ++found);
        }
    }
}

/* d:test(frame | {series...} | {{row}...} [, columns]) for a kind with a
 * batch test of rows: each row scored against all the others (with the
 * frame's timestamps when it has them), and the positions above 1. */
static int detector_test_rows(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    lua_settop(L, 3);
    rows_input in;
    double *rows = rows_prepare(L, &in, 2, SIZE_MAX);
    int with_stamps = in.tcol != NULL && run_stamps_ok(in.tcol, in.n);
    mw_series *out = mw_lua_push_new_series(L, st, in.n, with_stamps, 0);
    rows_refresh(L, &in);
    rows_fill(L, &in, 0, in.n, rows);
    if (with_stamps) {
        int64_t *stamps = mw_series_stamps(out);
        for (size_t i = 0; i < in.n; i++)
            stamps[i] = (int64_t)in.tcol[i];
    }
    double *y = mw_series_values(out);
    char err[MW_DETECT_ERRLEN];
    mw_status status = mw_detector_test_rows(mw_lua_check_detector(L, 1), rows, in.dims, in.n,
                                             y, err);
    if (status == MW_EINVAL)
        return luaL_argerror(L, 2, err);
    if (status != MW_OK)
        return mw_lua_status_error(L, status);
    detector_push_outliers(L, y, in.n);
    return 2;
}

/* ---- rows for other modules (l_detect.h) --------------------------- */

double *mw_lua_rows_prepare(lua_State *L, mw_lua_rows *in, int arg, size_t buffer_rows)
{
    return rows_prepare(L, in, arg, buffer_rows);
}

void mw_lua_rows_refresh(lua_State *L, mw_lua_rows *in)
{
    rows_refresh(L, in);
}

void mw_lua_rows_fill(lua_State *L, const mw_lua_rows *in, size_t start, size_t m, double *buf)
{
    rows_fill(L, in, start, m, buf);
}

/* ---- saving, loading, copying, chaining ---------------------------- */

static int box_gc(lua_State *L)
{
    mw_blob_writer *w = lua_touserdata(L, 1);
    if (w->data != NULL)
        mw_blob_writer_free(w);
    return 0;
}

mw_blob_writer *mw_lua_push_blob_writer(lua_State *L, mw_lua_state *st)
{
    mw_blob_writer *w = lua_newuserdatauv(L, sizeof *w, 0);
    mw_blob_writer_init(w, st->alloc);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &box_key);
    lua_setmetatable(L, -2);
    return w;
}

int mw_lua_push_blob_result(lua_State *L, mw_blob_writer *w)
{
    mw_status status = w->status;
    if (status == MW_OK)
        lua_pushlstring(L, (const char *)w->data, w->len);
    mw_blob_writer_free(w);
    return status == MW_OK ? 1 : mw_lua_status_error(L, status);
}

/* d:save(): the detector's parameters and state as a string. */
static int detector_save(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_lua_check_detector(L, 1);
    mw_blob_writer *w = mw_lua_push_blob_writer(L, st);
    mw_detector_save(mw_lua_check_detector(L, 1), w);
    return mw_lua_push_blob_result(L, w);
}

/* mw.detect.load(s): the detector saved in s. */
static int detector_load(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    mw_status status;
    char err[MW_DETECT_ERRLEN];
    lua_detector *u = detector_slot(L);
    mw_detector *d = mw_detector_load(st->alloc, s, len, &status, err);
    if (d == NULL && status == MW_EINVAL)
        return luaL_argerror(L, 1, lua_pushfstring(L, "bad detector state: %s", err));
    detector_fill_or_fail(L, u, d, 1, status, err);
    return 1;
}

static int detector_clone(lua_State *L)
{
    mw_detector *d = mw_lua_check_detector(L, 1);
    mw_status status;
    char err[MW_DETECT_ERRLEN];
    lua_detector *u = detector_slot(L);
    mw_detector *copy = mw_detector_clone(d, &status, err);
    detector_fill_or_fail(L, u, copy, 1, status, err);
    return 1;
}

/* Pushes a chain of copies of the detectors at idx[0..n). */
static int detector_push_chain(lua_State *L, mw_lua_state *st, const int *idx, size_t n)
{
    mw_detector *stages[MW_CHAIN_MAX_STAGES];
    mw_status status = MW_OK;
    char err[MW_DETECT_ERRLEN];
    if (n == 0 || n > MW_CHAIN_MAX_STAGES)
        return luaL_error(L, "a chain has 1 to %d stages (got %d)", MW_CHAIN_MAX_STAGES,
                          (int)n);
    for (size_t i = 0; i < n; i++)
        mw_lua_check_detector(L, idx[i]);
    lua_detector *u = detector_slot(L);
    size_t made = 0;
    for (; made < n; made++) {
        stages[made] = mw_detector_clone(mw_lua_check_detector(L, idx[made]), &status, err);
        if (stages[made] == NULL)
            break;
    }
    if (made < n) {
        for (size_t i = 0; i < made; i++)
            mw_detector_free(stages[i]);
        return detector_fail(L, idx[made], status, err);
    }
    mw_detector *chain = mw_detect_chain_new(st->alloc, stages, n, &status, err);
    detector_fill_or_fail(L, u, chain, 1, status, err);
    return 1;
}

/* mw.detect.chain(d1, d2, ...): copies of the detectors in a row. */
static int detector_chain(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    int n = lua_gettop(L);
    int idx[MW_CHAIN_MAX_STAGES];
    if (n > MW_CHAIN_MAX_STAGES)
        return luaL_error(L, "a chain has 1 to %d stages (got %d)", MW_CHAIN_MAX_STAGES, n);
    for (int i = 0; i < n; i++)
        idx[i] = i + 1;
    return detector_push_chain(L, st, idx, (size_t)n);
}

/* t:wrap(d): a chain of copies of d then t (t scores d's output). */
static int detector_wrap(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    const int idx[2] = {2, 1};
    return detector_push_chain(L, st, idx, 2);
}

/* ---- the module tables --------------------------------------------- */

/* Thresholders' kinds are named "thresh.<name>" (type names are global,
 * and a detector may have the same short name); mw.thresh.<name> is the
 * part after the prefix. */
#define THRESH_PREFIX "thresh."

/* The name a kind has in its module table. */
static const char *detect_short_name(const mw_detector_type *type)
{
    size_t len = sizeof THRESH_PREFIX - 1;
    if (type->role == MW_ROLE_THRESHOLD && strncmp(type->name, THRESH_PREFIX, len) == 0)
        return type->name + len;
    return type->name;
}

/* Pushes the table of mw.detect.info for type. */
static int detector_push_info(lua_State *L, const mw_detector_type *type)
{
    lua_createtable(L, 0, 4);
    lua_pushstring(L, type->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, type->summary);
    lua_setfield(L, -2, "summary");
    lua_pushstring(L, type->role == MW_ROLE_THRESHOLD ? "threshold" : "detector");
    lua_setfield(L, -2, "role");
    lua_pushboolean(L, type->update_row != NULL);
    lua_setfield(L, -2, "rows");
    lua_pushboolean(L, type->fit != NULL);
    lua_setfield(L, -2, "fit");
    lua_createtable(L, (int)type->n_params, 0);
    for (size_t i = 0; i < type->n_params; i++) {
        const mw_param_spec *p = &type->params[i];
        lua_createtable(L, 0, 5);
        lua_pushstring(L, p->name);
        lua_setfield(L, -2, "name");
        static const char *const kinds[] = {"integer", "number", "boolean", "choice"};
        lua_pushstring(L, kinds[p->kind]);
        lua_setfield(L, -2, "kind");
        lua_pushstring(L, p->doc);
        lua_setfield(L, -2, "doc");
        if (p->kind == MW_PARAM_CHOICE) {
            lua_pushstring(L, mw_detect_choice_name(p, p->def));
        } else if (p->kind == MW_PARAM_BOOL) {
            lua_pushboolean(L, p->def != 0.0);
        } else if (p->kind == MW_PARAM_INT) {
            lua_pushinteger(L, (lua_Integer)p->def);
        } else {
            lua_pushnumber(L, p->def);
        }
        lua_setfield(L, -2, "default");
        if (p->kind == MW_PARAM_INT || p->kind == MW_PARAM_FLOAT) {
            lua_pushnumber(L, p->min);
            lua_setfield(L, -2, "min");
            lua_pushnumber(L, p->max);
            lua_setfield(L, -2, "max");
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "params");
    return 1;
}

/* mw.detect.info(name): the kind's summary and parameters. */
static int detector_info(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const mw_detector_type *type = mw_detect_find(name);
    if (type == NULL || type == &mw_detect_chain_type)
        return luaL_argerror(L, 1, lua_pushfstring(L, "no detector '%s'", name));
    return detector_push_info(L, type);
}

/* mw.thresh.info(name): the same for a thresholder, by its short name
 * ("quantile") or its full one ("thresh.quantile"). */
static int thresh_info(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *full = lua_pushfstring(L, "%s%s", THRESH_PREFIX, name);
    const mw_detector_type *type = mw_detect_find(full);
    if (type == NULL)
        type = mw_detect_find(name);
    if (type == NULL || type->role != MW_ROLE_THRESHOLD)
        return luaL_argerror(L, 1, lua_pushfstring(L, "no thresholder '%s'", name));
    return detector_push_info(L, type);
}

/* Pushes the table of one role's constructors, plus `funcs`, and a
 * `list()` of the kinds' names. */
static void detect_push_table(lua_State *L, mw_lua_state *st, mw_detector_role role,
                              const luaL_Reg *funcs)
{
    size_t n;
    const mw_detector_type *const *types = mw_detect_types(&n);
    lua_createtable(L, 0, (int)n + 4);
    lua_createtable(L, (int)n, 0);                  /* names, for list() */
    lua_Integer k = 0;
    for (size_t i = 0; i < n; i++) {
        if (types[i]->role != role || types[i] == &mw_detect_chain_type)
            continue;
        lua_pushlightuserdata(L, st);
        lua_pushlightuserdata(L, (void *)types[i]);
        lua_pushcclosure(L, detector_new, 2);
        lua_setfield(L, -3, detect_short_name(types[i]));
        lua_pushstring(L, detect_short_name(types[i]));
        lua_rawseti(L, -2, ++k);
    }
    lua_setfield(L, -2, "names");
    mw_lua_setfuncs(L, st, funcs);
}

static void detect_register_class(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg methods[] = {
        {"update", detector_update},
        {"score", detector_score},
        {"run", detector_run},
        {"fit", detector_fit},
        {"dims", detector_dims},
        {"test", detector_batch_test},
        {"reset", detector_reset},
        {"save", detector_save},
        {"clone", detector_clone},
        {"wrap", detector_wrap},
        {"count", detector_count},
        {"bytes", detector_bytes},
        {"release", detector_release},
        {NULL, NULL},
    };
    static const luaL_Reg meta[] = {
        {"__gc", detector_gc},
        {"__close", detector_gc},
        {"__tostring", detector_tostring},
        {NULL, NULL},
    };
    lua_createtable(L, 0, 12);                      /* copied into each __index */
    mw_lua_setfuncs(L, st, methods);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &methods_key);

    lua_createtable(L, 0, 6);                       /* every metatable's fields */
    mw_lua_setfuncs(L, st, meta);
    lua_pushstring(L, detector_magic);
    lua_setfield(L, -2, "__name");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &template_key);

    lua_createtable(L, 0, 1);                       /* the save box */
    lua_pushcfunction(L, box_gc);
    lua_setfield(L, -2, "__gc");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &box_key);
}

void mw_lua_open_detect(lua_State *L, mw_lua_state *st)
{
    detect_register_class(L, st);
    static const luaL_Reg funcs[] = {
        {"load", detector_load},
        {"chain", detector_chain},
        {"info", detector_info},
        {NULL, NULL},
    };
    detect_push_table(L, st, MW_ROLE_DETECTOR, funcs);
}

void mw_lua_open_thresh(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg funcs[] = {
        {"load", detector_load},
        {"info", thresh_info},
        {NULL, NULL},
    };
    detect_push_table(L, st, MW_ROLE_THRESHOLD, funcs);
}
