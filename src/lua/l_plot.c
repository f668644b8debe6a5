/*
 * l_plot.c: mw.plot, detection plots (report/plot.h) from Lua.
 *
 * mw.plot.svg{value =, time =, score =, anomalies =, threshold =,
 * windows =, title =, width =, height =, file =} returns the SVG text, or
 * writes it to `file` and returns true.
 *
 * Every column is a series or a table of numbers (mw_lua_push_series_arg).
 * Their handles, the anomaly mask and the windows (each a series made
 * here) and the title and path strings sit in fixed stack slots until the
 * plot is written, so nothing they point to can be collected meanwhile.
 * The series are fetched again from their handles after the last
 * allocation, because a script finalizer run by any allocation may have
 * released one (see handle.h); the writer itself then runs with no Lua
 * allocation at all: the text is measured in a first pass and written
 * into a buffer of exactly that size in a second (for a file, straight to
 * the file).
 */
#include "lua/l_plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lua/handle.h"
#include "lua/l_series.h"
#include "lua/sandbox.h"
#include "report/plot.h"

/* The stack slots of mw.plot.svg's inputs (1 is the table of fields). */
enum {
    SLOT_VALUE = 2,
    SLOT_TIME,
    SLOT_SCORE,
    SLOT_ANOMALY,
    SLOT_WINDOWS,
    SLOT_TITLE,
    SLOT_FILE,
    SLOT_LAST = SLOT_FILE
};

#define PLOT_MAX_SIZE 10000  /* pixels, either way */

static const char *const plot_fields[] = {
    "value", "time", "score", "anomalies", "threshold", "windows", "title", "width", "height",
    "file", NULL
};

static void plot_check_fields(lua_State *L)
{
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
        lua_pop(L, 1);
        int known = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; plot_fields[i] != NULL && !known; i++)
                known = strcmp(lua_tostring(L, -1), plot_fields[i]) == 0;
        if (!known) {
            lua_pushvalue(L, -1);
            const char *name = luaL_tolstring(L, -1, NULL);
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int i = 0; plot_fields[i] != NULL; i++) {
                luaL_addstring(&b, i > 0 ? ", " : "");
                luaL_addstring(&b, plot_fields[i]);
            }
            luaL_pushresult(&b);
            luaL_error(L, "bad argument #1 to 'svg' (unknown field '%s'; valid: %s)", name,
                       lua_tostring(L, -1));
        }
    }
}

/* The length of the series in slot (its handle was checked when made). */
static size_t plot_len(lua_State *L, int slot)
{
    return mw_lua_check_series(L, slot)->len;
}

/* Reads a column field into its slot: nil stays nil, anything else
 * becomes a series handle, which must have n values unless it is the
 * value column itself. */
static void plot_column(lua_State *L, mw_lua_state *st, const char *field, int slot, size_t n)
{
    if (lua_getfield(L, 1, field) == LUA_TNIL) {
        lua_replace(L, slot);
        return;
    }
    mw_lua_push_series_arg(L, st, -1, "field", field, 1, "svg");
    lua_replace(L, slot);
    lua_pop(L, 1);
    size_t len = plot_len(L, slot);
    if (slot != SLOT_VALUE && len != n)
        luaL_error(L, "bad argument #1 to 'svg' (field '%s' has %I values, 'value' has %I)",
                   field, (LUAI_UACINT)len, (LUAI_UACINT)n);
}

/* Times must not go back (NaN rows are skipped); a line that went back
 * and forth would be drawn as a scribble. */
static void plot_check_time(lua_State *L)
{
    mw_series *t = mw_lua_check_series(L, SLOT_TIME);
    const double *x = mw_series_values(t);
    double last = -INFINITY;
    for (size_t i = 0; i < t->len; i++) {
        if (isinf(x[i]))
            luaL_error(L, "bad argument #1 to 'svg' (field 'time': row %I is infinite)",
                       (LUAI_UACINT)i + 1);
        if (x[i] < last)
            luaL_error(L, "bad argument #1 to 'svg' (field 'time' goes back at row %I)",
                       (LUAI_UACINT)i + 1);
        if (!isnan(x[i]))
            last = x[i];
    }
}

/* Element i of the anomalies table as a mask entry: true or a non-zero
 * number is an anomaly. */
static double plot_mask_entry(lua_State *L, int t, lua_Integer i)
{
    double flag = 0.0;
    switch (lua_geti(L, t, i)) {
    case LUA_TBOOLEAN: flag = lua_toboolean(L, -1); break;
    case LUA_TNUMBER:  flag = lua_tonumber(L, -1) != 0 && !isnan(lua_tonumber(L, -1)); break;
    default:
        luaL_error(L, "bad argument #1 to 'svg' (field 'anomalies': element %I is a %s, not "
                   "a boolean or a number)", (LUAI_UACINT)i, luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return flag;
}

/* Element i of the anomalies table as a row number. */
static double plot_index_entry(lua_State *L, int t, lua_Integer i)
{
    if (lua_geti(L, t, i) != LUA_TNUMBER)
        luaL_error(L, "bad argument #1 to 'svg' (field 'anomalies': index %I is a %s, not a "
                   "row number)", (LUAI_UACINT)i, luaL_typename(L, -1));
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

/* The anomalies, as a mask of n flags in SLOT_ANOMALY: a series or table
 * of n entries is a mask already (a table may hold booleans); a shorter
 * one lists 1-based rows. */
static void plot_anomalies(lua_State *L, mw_lua_state *st, size_t n)
{
    int type = lua_getfield(L, 1, "anomalies");
    int given = lua_gettop(L);
    if (type == LUA_TNIL) {
        lua_replace(L, SLOT_ANOMALY);
        return;
    }
    mw_handle *h = mw_lua_test_handle(L, given);
    int is_series = h != NULL && (h->obj == NULL || mw_is_series(h->obj));
    if (!is_series && type != LUA_TTABLE)
        luaL_error(L, "bad argument #1 to 'svg' (field 'anomalies' must be a series or a "
                   "table, got %s)", h != NULL ? h->obj->type->name : luaL_typename(L, given));
    size_t len = is_series ? mw_lua_check_series(L, given)->len : (size_t)luaL_len(L, given);
    if (len > n)
        luaL_error(L, "bad argument #1 to 'svg' (field 'anomalies' has %I values, 'value' "
                   "has %I)", (LUAI_UACINT)len, (LUAI_UACINT)n);
    if (is_series && len == n) {
        lua_replace(L, SLOT_ANOMALY);
        return;
    }
    mw_lua_push_new_series(L, st, n, 0, 1);
    int mask_slot = lua_gettop(L);
    for (size_t k = 0; k < len; k++) {
        lua_Integer i = (lua_Integer)k + 1;
        double v;            /* a flag (a mask) or a row number (indices) */
        if (is_series) {
            const mw_series *rows = mw_lua_check_series(L, given);
            if (k >= rows->len)
                luaL_error(L, "bad argument #1 to 'svg' (field 'anomalies' changed length "
                           "while read)");
            v = mw_series_values(rows)[k];
        } else {
            v = len == n ? plot_mask_entry(L, given, i) : plot_index_entry(L, given, i);
        }
        /* lua_geti may run metamethods: the mask is fetched again */
        double *mask = mw_series_values(mw_lua_check_series(L, mask_slot));
        if (len == n) {
            mask[k] = v;
        } else {
            if (!(v >= 1.0 && v <= (double)n && v == floor(v))) {
                /* 0 reads "0", not Lua's "0.0" */
                if (v == floor(v) && fabs(v) < 9e15)
                    lua_pushfstring(L, "%I", (LUAI_UACINT)v);
                else
                    lua_pushfstring(L, "%f", (LUAI_UACNUMBER)v);
                luaL_error(L, "bad argument #1 to 'svg' (field 'anomalies': index %I is %s, "
                           "not a row from 1 to %I)", (LUAI_UACINT)i, lua_tostring(L, -1),
                           (LUAI_UACINT)n);
            }
            mask[(size_t)v - 1] = 1.0;
        }
    }
    lua_replace(L, SLOT_ANOMALY);
    lua_pop(L, 1);
}

/* Number j of window k (a table at the top), which must be finite. */
static double plot_window_end(lua_State *L, lua_Integer k, int j)
{
    if (lua_geti(L, -1, j) != LUA_TNUMBER || !isfinite(lua_tonumber(L, -1)))
        luaL_error(L, "bad argument #1 to 'svg' (field 'windows': window %I must be {start, "
                   "end}, two finite numbers)", (LUAI_UACINT)k);
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    return v;
}

/* The windows, as a series of start, end pairs in SLOT_WINDOWS. */
static void plot_windows(lua_State *L, mw_lua_state *st)
{
    int type = lua_getfield(L, 1, "windows");
    if (type == LUA_TNIL) {
        lua_replace(L, SLOT_WINDOWS);
        return;
    }
    if (type != LUA_TTABLE)
        luaL_error(L, "bad argument #1 to 'svg' (field 'windows' must be a table of {start, "
                   "end} pairs, got %s)", luaL_typename(L, -1));
    int given = lua_gettop(L);
    lua_Integer n = luaL_len(L, given);
    if (n < 0 || (lua_Unsigned)n > SIZE_MAX / 32)
        luaL_error(L, "bad argument #1 to 'svg' (field 'windows' has an invalid length)");
    mw_lua_push_new_series(L, st, 2 * (size_t)n, 0, 0);
    int pairs_slot = lua_gettop(L);
    for (lua_Integer k = 1; k <= n; k++) {
        if (lua_geti(L, given, k) != LUA_TTABLE)
            luaL_error(L, "bad argument #1 to 'svg' (field 'windows': window %I must be {start, "
                       "end}, got %s)", (LUAI_UACINT)k, luaL_typename(L, -1));
        double start = plot_window_end(L, k, 1), end = plot_window_end(L, k, 2);
        lua_pop(L, 1);
        if (end < start)
            luaL_error(L, "bad argument #1 to 'svg' (field 'windows': window %I ends before it "
                       "starts)", (LUAI_UACINT)k);
        double *pairs = mw_series_values(mw_lua_check_series(L, pairs_slot));
        pairs[2 * (k - 1)] = start;
        pairs[2 * (k - 1) + 1] = end;
    }
    lua_replace(L, SLOT_WINDOWS);
    lua_pop(L, 1);
}

/* An optional string field, kept in its slot (nil if absent). */
static void plot_string(lua_State *L, const char *field, int slot)
{
    int type = lua_getfield(L, 1, field);
    if (type != LUA_TNIL && type != LUA_TSTRING)
        luaL_error(L, "bad argument #1 to 'svg' (field '%s' must be a string, got %s)", field,
                   luaL_typename(L, -1));
    lua_replace(L, slot);
}

/* An optional size field: an integer from the minimum to PLOT_MAX_SIZE,
 * 0 when absent. */
static int plot_size(lua_State *L, const char *field, int min)
{
    int type = lua_getfield(L, 1, field);
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, -1, &isint);
    lua_pop(L, 1);
    if (type == LUA_TNIL)
        return 0;
    if (type != LUA_TNUMBER || !isint || v < min || v > PLOT_MAX_SIZE)
        luaL_error(L, "bad argument #1 to 'svg' (field '%s' must be an integer from %d to %d)",
                   field, min, PLOT_MAX_SIZE);
    return (int)v;
}

static double plot_threshold(lua_State *L)
{
    int type = lua_getfield(L, 1, "threshold");
    double v = lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (type == LUA_TNIL)
        return NAN;
    if (type != LUA_TNUMBER || !isfinite(v))
        luaL_error(L, "bad argument #1 to 'svg' (field 'threshold' must be a finite number)");
    return v;
}

/* The values of the series in slot (at least n of them), or NULL if
 * the slot is nil. */
static const double *plot_values(lua_State *L, int slot, size_t n)
{
    if (lua_isnil(L, slot))
        return NULL;
    const mw_series *s = mw_lua_check_series(L, slot);
    if (s->len < n)
        luaL_error(L, "bad argument #1 to 'svg' (a series changed length while read)");
    return mw_series_values(s);
}

/* Points p at the inputs in their slots: called after every allocation,
 * since a finalizer run by one may have released or changed a series. */
static void plot_fetch(lua_State *L, mw_plot *p, size_t n)
{
    p->n = n;
    p->value = plot_values(L, SLOT_VALUE, n);
    p->time = plot_values(L, SLOT_TIME, n);
    p->score = plot_values(L, SLOT_SCORE, n);
    p->anomaly = plot_values(L, SLOT_ANOMALY, n);
    p->windows = plot_values(L, SLOT_WINDOWS, 2 * p->n_windows);
}

static int plot_count_sink(void *ud, const char *text, size_t len)
{
    (void)text;
    *(size_t *)ud += len;
    return 0;
}

typedef struct plot_span {
    char *data;
    size_t len, cap;
} plot_span;

static int plot_span_sink(void *ud, const char *text, size_t len)
{
    plot_span *b = ud;
    if (len > b->cap - b->len)
        return 1;            /* the second pass wrote more than the first */
    memcpy(b->data + b->len, text, len);
    b->len += len;
    return 0;
}

static int plot_file_sink(void *ud, const char *text, size_t len)
{
    return fwrite(text, 1, len, ud) == len ? 0 : 1;
}

/* mw.plot.svg{...}: the SVG text, or true once written to `file`. */
static int plot_svg(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, SLOT_LAST);
    plot_check_fields(L);

    if (lua_getfield(L, 1, "value") == LUA_TNIL)
        luaL_error(L, "bad argument #1 to 'svg' (field 'value' is required)");
    lua_pop(L, 1);
    plot_column(L, st, "value", SLOT_VALUE, 0);
    size_t n = plot_len(L, SLOT_VALUE);
    plot_column(L, st, "time", SLOT_TIME, n);
    if (!lua_isnil(L, SLOT_TIME))
        plot_check_time(L);
    plot_column(L, st, "score", SLOT_SCORE, n);
    plot_anomalies(L, st, n);
    plot_windows(L, st);
    plot_string(L, "title", SLOT_TITLE);
    plot_string(L, "file", SLOT_FILE);
    mw_plot p = {
        .title = lua_tostring(L, SLOT_TITLE),
        .threshold = plot_threshold(L),
        .n_windows = lua_isnil(L, SLOT_WINDOWS) ? 0 : plot_len(L, SLOT_WINDOWS) / 2,
    };
    p.width = plot_size(L, "width", MW_PLOT_MIN_WIDTH);
    p.height = plot_size(L, "height", MW_PLOT_MIN_HEIGHT);
    /* The last allocation is behind us: the series are fetched again. */
    plot_fetch(L, &p, n);

    const char *path = lua_tostring(L, SLOT_FILE);
    if (path != NULL) {
        mw_lua_sandbox_writable(L, path);
        FILE *out = fopen(path, "wb");
        if (out == NULL)
            return luaL_error(L, "cannot write '%s': %s", path, strerror(errno));
        int failed = mw_plot_write(&p, plot_file_sink, out) != 0;
        int why = errno;
        if (fclose(out) != 0 && !failed) {
            failed = 1;
            why = errno;
        }
        if (failed) {
            remove(path);    /* nothing half-written is left behind */
            return luaL_error(L, "cannot write '%s': %s", path, strerror(why));
        }
        lua_pushboolean(L, 1);
        return 1;
    }

    size_t size = 0;
    mw_plot_write(&p, plot_count_sink, &size);
    luaL_Buffer b;
    plot_span span = {luaL_buffinitsize(L, &b, size), 0, size};
    /* The buffer's allocation may have run a finalizer: fetch again. */
    plot_fetch(L, &p, n);
    if (mw_plot_write(&p, plot_span_sink, &span) != 0 || span.len != size)
        return luaL_error(L, "bad argument #1 to 'svg' (the inputs changed while read)");
    luaL_pushresultsize(&b, size);
    return 1;
}

void mw_lua_open_plot(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg funcs[] = {
        {"svg", plot_svg},
        {NULL, NULL}
    };
    lua_createtable(L, 0, 1);
    mw_lua_setfuncs(L, st, funcs);
}
