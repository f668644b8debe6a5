/*
 * l_nab.c: mw.nab.labels (NAB's combined_windows.json), mw.nab.score
 * (a corpus of runs scored by eval/nab.c, its threshold optimised per
 * profile or given) and mw.nab.profiles.
 *
 * Lua memory first, pointers last: every userdata the scoring needs is
 * made before any series' values are fetched, because an allocation may
 * run a finalizer that releases a series; from the first fetch to the
 * end of scoring nothing allocates from Lua.
 */
#include "lua/l_nab.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "eval/nab.h"
#include "iter/parse.h"
#include "lua/l_series.h"
#include "lua/handle.h"
#include "lua/sandbox.h"
#include "types/series.h"

/* ---- labels ----------------------------------------------------------- */

typedef struct json_in {
    lua_State *L;
    const char *path;
    const char *start, *p, *e;
} json_in;

static int json_fail(json_in *in, const char *what)
{
    int line = 1;
    for (const char *q = in->start; q < in->p && q < in->e; q++)
        line += *q == '\n';
    return luaL_error(in->L, "labels '%s': line %d: %s", in->path, line, what);
}

static void json_space(json_in *in)
{
    while (in->p < in->e && (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
        in->p++;
}

static int json_take(json_in *in, char c)
{
    json_space(in);
    if (in->p < in->e && *in->p == c) {
        in->p++;
        return 1;
    }
    return 0;
}

static void json_expect(json_in *in, char c, const char *what)
{
    if (!json_take(in, c))
        json_fail(in, what);
}

/* A string without escapes other than \" \\ \/ (NAB's names and
 * timestamps have none): pushes it. */
static void json_string(json_in *in, const char *what)
{
    json_expect(in, '"', what);
    luaL_Buffer b;
    luaL_buffinit(in->L, &b);
    while (in->p < in->e && *in->p != '"') {
        char c = *in->p++;
        if (c == '\\') {
            if (in->p == in->e || (*in->p != '"' && *in->p != '\\' && *in->p != '/'))
                json_fail(in, "unsupported escape in a string");
            c = *in->p++;
        } else if ((unsigned char)c < 0x20) {
            json_fail(in, "control character in a string");
        }
        luaL_addchar(&b, c);
    }
    if (in->p == in->e)
        json_fail(in, "unfinished string");
    in->p++;
    luaL_pushresult(&b);
}

static lua_Integer json_time(json_in *in)
{
    json_string(in, "expected a timestamp string");
    size_t len;
    const char *s = lua_tolstring(in->L, -1, &len);
    int64_t ms;
    if (mw_parse_time(s, len, &ms) != MW_PARSE_OK) {
        lua_pushfstring(in->L, "'%s' is not a timestamp", s);
        json_fail(in, lua_tostring(in->L, -1));
    }
    lua_pop(in->L, 1);
    return (lua_Integer)ms;
}

/* mw.nab.labels(path): {["category/name.csv"] = {{start_ms, end_ms}, ...}} */
static int nab_labels(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char resolved[PATH_MAX];
    const char *open_path = mw_lua_sandbox_readable(L, path, resolved, NULL);
    /* The whole file in a userdata made before the file is opened: no
     * Lua call (which could raise and leak the FILE) while it is open. */
    struct stat sb;
    if (stat(open_path, &sb) != 0)
        return luaL_error(L, "cannot open '%s': %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return luaL_error(L, "cannot read '%s': not a regular file", path);
    if ((uint64_t)sb.st_size > (uint64_t)1 << 30)
        return luaL_error(L, "labels '%s': larger than 1 GiB", path);
    size_t cap = (size_t)sb.st_size;
    char *text = lua_newuserdatauv(L, cap + 1, 0);
    FILE *f = fopen(open_path, "rb");
    if (f == NULL)
        return luaL_error(L, "cannot open '%s': %s", path, strerror(errno));
    size_t len = fread(text, 1, cap + 1, f);
    int failed = ferror(f);
    fclose(f);
    if (failed)
        return luaL_error(L, "cannot read '%s'", path);
    if (len > cap)
        return luaL_error(L, "labels '%s': the file grew while it was read", path);
    json_in in = {L, path, text, text, text + len};

    lua_newtable(L);
    json_expect(&in, '{', "expected '{' (an object of file names)");
    if (!json_take(&in, '}')) {
        do {
            json_string(&in, "expected a file name");
            json_expect(&in, ':', "expected ':'");
            json_expect(&in, '[', "expected '[' (a list of windows)");
            lua_newtable(L);
            lua_Integer k = 0;
            if (!json_take(&in, ']')) {
                do {
                    json_expect(&in, '[', "expected '[' (a window: [start, end])");
                    lua_Integer t0 = json_time(&in);
                    json_expect(&in, ',', "expected ',' between a window's start and end");
                    lua_Integer t1 = json_time(&in);
                    json_expect(&in, ']', "expected ']' after a window's end");
                    if (t1 < t0)
                        json_fail(&in, "a window ends before it starts");
                    lua_createtable(L, 2, 0);
                    lua_pushinteger(L, t0);
                    lua_rawseti(L, -2, 1);
                    lua_pushinteger(L, t1);
                    lua_rawseti(L, -2, 2);
                    lua_rawseti(L, -2, ++k);
                } while (json_take(&in, ','));
                json_expect(&in, ']', "expected ',' or ']' in a list of windows");
            }
            lua_rawset(L, -3);
        } while (json_take(&in, ','));
        json_expect(&in, '}', "expected ',' or '}' after a file's windows");
    }
    json_space(&in);
    if (in.p != in.e)
        json_fail(&in, "unexpected text after the object");
    return 1;
}

/* ---- scoring ---------------------------------------------------------- */

/* t[key] without metamethods (so no Lua code runs while pointers into
 * series are held), pushed; returns its type. idx must be absolute. */
static int raw_field(lua_State *L, int idx, const char *key)
{
    lua_pushstring(L, key);
    return lua_rawget(L, idx);
}

/* The length of a run's numbers (a series or a table of numbers) at idx,
 * checking its type; name is the field, for errors. */
static size_t numbers_len(lua_State *L, int idx, int run, const char *name)
{
    if (lua_type(L, idx) == LUA_TTABLE)
        return (size_t)lua_rawlen(L, idx);
    mw_handle *h = mw_lua_test_handle(L, idx);
    if (h == NULL || h->obj == NULL || !mw_is_series(h->obj))
        luaL_error(L, "bad argument #1 to 'score' (run %d: '%s' must be a series or a table of numbers, got %s)",
                   run, name, h != NULL && h->obj == NULL ? "a released handle" : luaL_typename(L, idx));
    return mw_series_cast(h->obj)->len;
}

/* The numbers at idx: a series' own values, or the table's copied to dst. */
static const double *numbers_get(lua_State *L, int idx, int run, const char *name, double *dst)
{
    if (lua_type(L, idx) != LUA_TTABLE)
        return mw_series_values(mw_series_cast(mw_lua_test_handle(L, idx)->obj));
    size_t n = (size_t)lua_rawlen(L, idx);
    for (size_t i = 0; i < n; i++) {
        int t = lua_rawgeti(L, idx, (lua_Integer)i + 1);
        if (t != LUA_TNUMBER)
            luaL_error(L, "bad argument #1 to 'score' (run %d: '%s'[%d] is %s, not a number)",
                       run, name, (int)i + 1, lua_typename(L, t));
        dst[i] = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    return dst;
}

/* A profile given as a table, with its name copied. */
typedef struct custom_profile {
    mw_nab_profile p;
    char name_buf[64];
} custom_profile;

static const mw_nab_profile *check_profile(lua_State *L, int opts, custom_profile *custom)
{
    int t = raw_field(L, opts, "profile");
    const mw_nab_profile *p = &mw_nab_profiles[0];
    if (t == LUA_TSTRING) {
        p = mw_nab_profile_named(lua_tostring(L, -1));
        if (p == NULL)
            luaL_error(L, "bad argument #2 to 'score' (unknown profile '%s': standard, reward_low_FP_rate or reward_low_FN_rate)",
                       lua_tostring(L, -1));
    } else if (t == LUA_TTABLE) {
        static const char *const keys[] = {"tp", "fp", "fn"};
        double *w[] = {&custom->p.tp, &custom->p.fp, &custom->p.fn};
        snprintf(custom->name_buf, sizeof custom->name_buf, "custom");
        custom->p.name = custom->name_buf;
        for (int k = 0; k < 3; k++) {
            raw_field(L, lua_gettop(L), keys[k]);
            int ok;
            double x = lua_tonumberx(L, -1, &ok);
            if (!ok || !(x >= 0) || !isfinite(x))
                luaL_error(L, "bad argument #2 to 'score' (profile.%s must be a finite number >= 0)", keys[k]);
            *w[k] = x;
            lua_pop(L, 1);
        }
        /* The name is copied: the table's string may be gone by the time
         * the result is pushed. */
        if (raw_field(L, lua_gettop(L), "name") == LUA_TSTRING)
            snprintf(custom->name_buf, sizeof custom->name_buf, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        p = &custom->p;
    } else if (t != LUA_TNIL) {
        luaL_error(L, "bad argument #2 to 'score' (profile must be a name or a table {tp, fp, fn}, got %s)",
                   lua_typename(L, t));
    }
    lua_pop(L, 1);
    return p;
}

/* The first row of timestamp t in the non-decreasing times (as NAB
 * takes a window's first and last rows), or SIZE_MAX. */
static size_t find_time(const double *time, size_t n, double t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (time[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && time[lo] == t ? lo : SIZE_MAX;
}

static void push_result(lua_State *L, const mw_nab_result *r, size_t rows)
{
    lua_createtable(L, 0, 9);
    lua_pushnumber(L, r->raw);
    lua_setfield(L, -2, "raw");
    lua_pushnumber(L, r->null);
    lua_setfield(L, -2, "null");
    static const char *const names[] = {"windows", "tp", "fn", "fp", "detections", "probation"};
    size_t values[] = {r->windows, r->tp, r->fn, r->fp, r->detections, r->probation};
    for (int k = 0; k < 6; k++) {
        lua_pushinteger(L, (lua_Integer)values[k]);
        lua_setfield(L, -2, names[k]);
    }
    lua_pushinteger(L, (lua_Integer)rows);
    lua_setfield(L, -2, "rows");
}

static const char *const score_fields[] = {"name", "score", "time", "windows", NULL};
static const char *const score_opts[] = {"profile", "probation", "threshold", NULL};

static void check_fields(lua_State *L, int idx, const char *const *valid, const char *what)
{
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        int ok = 0;
        if (lua_type(L, -2) == LUA_TSTRING)
            for (int k = 0; valid[k] != NULL; k++)
                ok |= strcmp(lua_tostring(L, -2), valid[k]) == 0;
        if (!ok) {
            luaL_Buffer b;
            lua_pushvalue(L, -2);
            const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1);
            luaL_buffinit(L, &b);
            for (int k = 0; valid[k] != NULL; k++) {
                if (k > 0)
                    luaL_addstring(&b, ", ");
                luaL_addstring(&b, valid[k]);
            }
            luaL_pushresult(&b);
            luaL_error(L, "bad argument #%s to 'score' (unknown field '%s' in %s; valid: %s)",
                       what[0] == 'o' ? "2" : "1", key, what, lua_tostring(L, -1));
        }
        lua_pop(L, 1);
    }
}

/* mw.nab.score(runs [, opts]) */
static int nab_score(lua_State *L)
{
    mw_lua_state *st = mw_lua_live(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    int has_opts = !lua_isnoneornil(L, 2);
    if (has_opts)
        luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    if (!has_opts) {
        lua_newtable(L);
        lua_replace(L, 2);
    }
    check_fields(L, 2, score_opts, "options");
    custom_profile custom;
    const mw_nab_profile *profile = check_profile(L, 2, &custom);
    double fraction = MW_NAB_PROBATION;
    if (raw_field(L, 2, "probation") != LUA_TNIL) {
        int ok;
        fraction = lua_tonumberx(L, -1, &ok);
        luaL_argcheck(L, ok && fraction >= 0 && fraction < 1, 2,
                      "probation must be a number in [0, 1)");
    }
    lua_pop(L, 1);
    int fixed = raw_field(L, 2, "threshold") != LUA_TNIL;
    double threshold = INFINITY;
    if (fixed) {
        int ok;
        threshold = lua_tonumberx(L, -1, &ok);
        luaL_argcheck(L, ok && !isnan(threshold), 2, "threshold must be a number");
    }
    lua_pop(L, 1);

    /* Pass 1: check every run, count rows to copy and windows. */
    int n_runs = (int)lua_rawlen(L, 1);
    size_t copy_rows = 0, n_windows = 0;
    for (int r = 1; r <= n_runs; r++) {
        if (lua_rawgeti(L, 1, r) != LUA_TTABLE)
            return luaL_error(L, "bad argument #1 to 'score' (run %d is %s, not a table)", r, luaL_typename(L, -1));
        int run = lua_gettop(L);
        check_fields(L, run, score_fields, "a run");
        if (raw_field(L, run, "score") == LUA_TNIL)
            return luaL_error(L, "bad argument #1 to 'score' (run %d has no 'score')", r);
        size_t n = numbers_len(L, -1, r, "score");
        if (lua_type(L, -1) == LUA_TTABLE)
            copy_rows += n;
        if (raw_field(L, run, "time") != LUA_TNIL) {
            size_t nt = numbers_len(L, -1, r, "time");
            if (nt != n)
                return luaL_error(L, "bad argument #1 to 'score' (run %d: 'time' has %d values, 'score' has %d)",
                                  r, (int)nt, (int)n);
            if (lua_type(L, -1) == LUA_TTABLE)
                copy_rows += n;
        }
        int t = raw_field(L, run, "windows");
        if (t == LUA_TTABLE)
            n_windows += (size_t)lua_rawlen(L, -1);
        else if (t != LUA_TNIL)
            return luaL_error(L, "bad argument #1 to 'score' (run %d: 'windows' must be a table, got %s)",
                              r, lua_typename(L, t));
        lua_settop(L, 2);
    }

    /* Every Lua allocation before the first pointer into a series. */
    mw_nab_series *series = lua_newuserdatauv(L, (size_t)n_runs * sizeof *series + 1, 0);
    mw_nab_window *windows = lua_newuserdatauv(L, n_windows * sizeof *windows + 1, 0);
    double *copies = lua_newuserdatauv(L, copy_rows * sizeof(double) + 1, 0);
    mw_nab_result *results = lua_newuserdatauv(L, (size_t)n_runs * sizeof *results + 1, 0);
    int top = lua_gettop(L);

    /* Pass 2: the numbers, and the windows as rows. Fields are read raw
     * and nothing allocates from Lua (but an error): no Lua code runs
     * while pointers into the series are held. The runs may have changed
     * since pass 1 (a finalizer ran during the allocations above), so
     * every count is checked against the room made for it. */
    size_t w_at = 0;
    const double *copies_end = copies + copy_rows;
    for (int r = 1; r <= n_runs; r++) {
        if (lua_rawgeti(L, 1, r) != LUA_TTABLE)
            return luaL_error(L, "bad argument #1 to 'score' (the runs changed while they were read)");
        int run = lua_gettop(L);
        raw_field(L, run, "score");
        size_t n = numbers_len(L, -1, r, "score");
        int copied = lua_type(L, -1) == LUA_TTABLE;
        if (copied && n > (size_t)(copies_end - copies))
            return luaL_error(L, "bad argument #1 to 'score' (the runs changed while they were read)");
        const double *score = numbers_get(L, -1, r, "score", copies);
        if (copied)
            copies += n;
        const double *time = NULL;
        if (raw_field(L, run, "time") != LUA_TNIL) {
            copied = lua_type(L, -1) == LUA_TTABLE;
            if (numbers_len(L, -1, r, "time") != n
                || (copied && n > (size_t)(copies_end - copies)))
                return luaL_error(L, "bad argument #1 to 'score' (the runs changed while they were read)");
            time = numbers_get(L, -1, r, "time", copies);
            if (copied)
                copies += n;
            for (size_t i = 1; i < n; i++)
                if (!(time[i] >= time[i - 1]))
                    return luaL_error(L, "bad argument #1 to 'score' (run %d: 'time' goes back in time at row %d)",
                                      r, (int)i + 1);
        }
        series[r - 1] = (mw_nab_series){score, n, windows + w_at, 0};
        if (raw_field(L, run, "windows") == LUA_TTABLE) {
            int wt = lua_gettop(L);
            size_t k = (size_t)lua_rawlen(L, wt);
            if (k > n_windows - w_at)
                return luaL_error(L, "bad argument #1 to 'score' (the runs changed while they were read)");
            for (size_t j = 0; j < k; j++) {
                size_t rows[2];
                if (lua_rawgeti(L, wt, (lua_Integer)j + 1) != LUA_TTABLE)
                    return luaL_error(L, "bad argument #1 to 'score' (run %d: window %d is not a table {start, end})",
                                      r, (int)j + 1);
                for (int e = 0; e < 2; e++) {
                    lua_rawgeti(L, -1 - e, e + 1);
                    int ok;
                    double x = lua_tonumberx(L, -1, &ok);
                    if (!ok)
                        return luaL_error(L, "bad argument #1 to 'score' (run %d: window %d has no %s)",
                                          r, (int)j + 1, e ? "end" : "start");
                    if (time != NULL) {
                        rows[e] = find_time(time, n, x);
                        if (rows[e] == SIZE_MAX) {
                            char buf[MW_TIME_TEXT];
                            if (isfinite(x) && fabs(x) < 9.2e18)
                                mw_format_time((int64_t)x, buf);
                            else
                                snprintf(buf, sizeof buf, "%g", x);
                            return luaL_error(L, "bad argument #1 to 'score' (run %d: window %d's %s %s is not a time of the run)",
                                              r, (int)j + 1, e ? "end" : "start", buf);
                        }
                    } else {
                        if (x != floor(x) || x < 1 || x > (double)n)
                            return luaL_error(L, "bad argument #1 to 'score' (run %d: window %d's %s must be a row number in 1..%d)",
                                              r, (int)j + 1, e ? "end" : "start", (int)n);
                        rows[e] = (size_t)x - 1;
                    }
                }
                lua_pop(L, 2);
                windows[w_at + j] = (mw_nab_window){rows[0], rows[1]};
            }
            series[r - 1].n_windows = k;
            size_t bad;
            if (mw_nab_check(&series[r - 1], &bad) != MW_OK)
                return luaL_error(L, "bad argument #1 to 'score' (run %d: window %d ends before it starts or overlaps the one before)",
                                  r, (int)bad + 1);
            w_at += k;
        }
        lua_settop(L, top);
    }

    /* Nothing below allocates from Lua until the results are pushed. */
    double raw = 0;
    if (!fixed) {
        mw_status s = mw_nab_optimize(series, (size_t)n_runs, profile, fraction, st->alloc,
                                      &threshold, &raw);
        if (s != MW_OK)
            return mw_lua_status_error(L, s);
    }
    double null = 0, total = 0;
    size_t sums[4] = {0, 0, 0, 0};
    for (int r = 0; r < n_runs; r++) {
        mw_nab_score(&series[r], profile, fraction, threshold, &results[r]);
        total += results[r].raw;
        null += results[r].null;
        sums[0] += results[r].tp;
        sums[1] += results[r].fn;
        sums[2] += results[r].fp;
        sums[3] += results[r].windows;
    }
    double perfect = profile->tp * (double)n_windows;

    lua_createtable(L, 0, 14);
    lua_pushstring(L, profile->name);
    lua_setfield(L, -2, "profile");
    lua_pushnumber(L, threshold);
    lua_setfield(L, -2, "threshold");
    lua_pushnumber(L, total);
    lua_setfield(L, -2, "raw");
    lua_pushnumber(L, null);
    lua_setfield(L, -2, "null");
    lua_pushnumber(L, perfect);
    lua_setfield(L, -2, "perfect");
    if (perfect != null) {
        lua_pushnumber(L, 100.0 * (total - null) / (perfect - null));
        lua_setfield(L, -2, "score");
    }
    static const char *const names[] = {"tp", "fn", "fp", "windows"};
    for (int k = 0; k < 4; k++) {
        lua_pushinteger(L, (lua_Integer)sums[k]);
        lua_setfield(L, -2, names[k]);
    }
    lua_pushinteger(L, (lua_Integer)n_windows);
    lua_setfield(L, -2, "labelled");
    lua_createtable(L, n_runs, 0);
    for (int r = 0; r < n_runs; r++) {
        push_result(L, &results[r], series[r].n);
        lua_rawgeti(L, 1, r + 1);
        raw_field(L, lua_gettop(L), "name");
        lua_setfield(L, -3, "name");
        lua_pop(L, 1);
        lua_rawseti(L, -2, r + 1);
    }
    lua_setfield(L, -2, "files");
    return 1;
}

/* mw.nab.probation(rows [, fraction]) */
static int nab_probation(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1);
    double fraction = luaL_optnumber(L, 2, MW_NAB_PROBATION);
    luaL_argcheck(L, n >= 0, 1, "rows must be >= 0");
    luaL_argcheck(L, fraction >= 0 && fraction < 1, 2, "fraction must be in [0, 1)");
    lua_pushinteger(L, (lua_Integer)mw_nab_probation((size_t)n, fraction));
    return 1;
}

void mw_lua_open_nab(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg funcs[] = {
        {"labels", nab_labels},
        {"score", nab_score},
        {"probation", nab_probation},
        {NULL, NULL}
    };
    lua_createtable(L, 0, 4);
    mw_lua_setfuncs(L, st, funcs);
    lua_createtable(L, 0, MW_NAB_N_PROFILES);
    for (int k = 0; k < MW_NAB_N_PROFILES; k++) {
        const mw_nab_profile *p = &mw_nab_profiles[k];
        lua_createtable(L, 0, 3);
        lua_pushnumber(L, p->tp);
        lua_setfield(L, -2, "tp");
        lua_pushnumber(L, p->fp);
        lua_setfield(L, -2, "fp");
        lua_pushnumber(L, p->fn);
        lua_setfield(L, -2, "fn");
        lua_setfield(L, -2, p->name);
    }
    lua_setfield(L, -2, "profiles");
}
