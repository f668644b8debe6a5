/*
 * l_synth.c: mw.synth, synthetic series with known anomalies (the
 * generator is src/iter/synth.c).
 *
 *   local s, anomalies = mw.synth{n = 10000, period = 288, noise = 0.1,
 *                                 anomalies = 5, seed = 42}
 *
 * Unknown parameters are an error listing the valid ones.
 */
#include "lua/l_synth.h"

#include <stdint.h>
#include <string.h>

#include "iter/synth.h"
#include "lua/l_series.h"
#include "stats/rng.h"

#define SYNTH_MAX_ANOMALIES 100000

static const char *const synth_params[] = {
    "n", "level", "trend", "amplitude", "period", "noise", "seed", "anomalies",
    "start", "step", NULL
};

static double synth_number(lua_State *L, const char *key, double def, double lo, double hi)
{
    lua_getfield(L, 1, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return def;
    }
    if (lua_type(L, -1) != LUA_TNUMBER)
        luaL_error(L, "bad argument #1 to 'synth' (%s must be a number, got %s)", key,
                   luaL_typename(L, -1));
    double v = (double)lua_tonumber(L, -1);
    lua_pop(L, 1);
    if (!(v >= lo && v <= hi))
        luaL_error(L, "bad argument #1 to 'synth' (%s = %f is out of range [%f, %f])", key,
                   (LUAI_UACNUMBER)v, (LUAI_UACNUMBER)lo, (LUAI_UACNUMBER)hi);
    return v;
}

static void synth_check_keys(lua_State *L)
{
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
        lua_pop(L, 1);
        int known = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; synth_params[i] != NULL && !known; i++)
                known = strcmp(lua_tostring(L, -1), synth_params[i]) == 0;
        if (!known) {
            luaL_Buffer b;
            lua_pushvalue(L, -1);
            const char *name = luaL_tolstring(L, -1, NULL);
            luaL_buffinit(L, &b);
            for (int i = 0; synth_params[i] != NULL; i++) {
                luaL_addstring(&b, i > 0 ? ", " : "");
                luaL_addstring(&b, synth_params[i]);
            }
            luaL_pushresult(&b);
            luaL_error(L, "bad argument #1 to 'synth' (unknown parameter '%s'; valid: %s)",
                       name, lua_tostring(L, -1));
        }
    }
}

static mw_synth_kind synth_kind(lua_State *L, const char *name)
{
    if (strcmp(name, "spike") == 0)
        return MW_SYNTH_SPIKE;
    if (strcmp(name, "level") == 0)
        return MW_SYNTH_LEVEL;
    if (strcmp(name, "variance") == 0)
        return MW_SYNTH_VARIANCE;
    luaL_error(L, "bad argument #1 to 'synth' (anomaly kind '%s'; valid: spike, level, variance)",
               name);
    return MW_SYNTH_SPIKE;
}

/* mw.synth{...} -> series, anomalies */
static int mw_synth(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    synth_check_keys(L);
    mw_synth_params p;
    memset(&p, 0, sizeof p);
    double n = synth_number(L, "n", -1, -1, 1e12);
    if (n < 0)
        return luaL_error(L, "bad argument #1 to 'synth' (n, the number of samples, is required)");
    p.n = (size_t)n;
    p.level = synth_number(L, "level", 0, -1e300, 1e300);
    p.trend = synth_number(L, "trend", 0, -1e300, 1e300);
    p.amplitude = synth_number(L, "amplitude", 1, -1e300, 1e300);
    p.period = synth_number(L, "period", 0, 0, 1e300);
    p.noise = synth_number(L, "noise", 0.1, 0, 1e300);
    p.seed = (uint64_t)synth_number(L, "seed", 1, 0, 9007199254740992.0);
    lua_getfield(L, 1, "start");
    int has_start = !lua_isnil(L, -1);
    lua_pop(L, 1);
    double start = synth_number(L, "start", 0, -9.2e18, 9.2e18);
    double step = synth_number(L, "step", 60000, 1, 9.2e18);
    if (has_start && p.n > 1 && (start + (double)(p.n - 1) * step > 9.2e18))
        return luaL_error(L, "bad argument #1 to 'synth' (timestamps from start by step overflow)");

    /* The anomalies: a list of {kind, at (1-based), len, size}, or a
     * count to place at random (after the first tenth, apart). */
    mw_synth_anomaly *list = NULL;
    size_t count = 0;
    lua_getfield(L, 1, "anomalies");                 /* 2 */
    if (lua_type(L, 2) == LUA_TNUMBER) {
        lua_Integer k = lua_tointeger(L, 2);
        if (k < 0 || k > SYNTH_MAX_ANOMALIES || (p.n > 0 && (size_t)k > p.n / 20 + 1))
            return luaL_error(L, "bad argument #1 to 'synth' (anomalies = %I is out of range for n = %I)",
                              (LUAI_UACINT)k, (LUAI_UACINT)p.n);
        count = (size_t)k;
        list = lua_newuserdatauv(L, count * sizeof *list + 1, 0);   /* 3 */
        mw_rng rng;
        mw_rng_seed(&rng, p.seed ^ 0x5eedULL);
        size_t span = p.n - p.n / 10, slot = count > 0 ? span / count : 0;
        for (size_t i = 0; i < count; i++) {
            mw_synth_anomaly *a = &list[i];
            /* Variance changes mean nothing without noise. */
            a->kind = (mw_synth_kind)(i % (p.noise > 0 ? 3 : 2));
            /* One per slot, somewhere in its first half: never overlapping. */
            a->at = p.n / 10 + i * slot + (slot > 1 ? (size_t)mw_rng_below(&rng, slot / 2) : 0);
            a->len = a->kind == MW_SYNTH_SPIKE ? 1 : (slot / 2 > 1 ? slot / 2 : 1);
            a->size = a->kind == MW_SYNTH_SPIKE ? 8 : a->kind == MW_SYNTH_LEVEL ? 5 : 4;
        }
    } else if (lua_istable(L, 2)) {
        count = (size_t)lua_rawlen(L, 2);
        if (count > SYNTH_MAX_ANOMALIES)
            return luaL_error(L, "bad argument #1 to 'synth' (too many anomalies)");
        list = lua_newuserdatauv(L, count * sizeof *list + 1, 0);   /* 3 */
        for (size_t i = 0; i < count; i++) {
            lua_rawgeti(L, 2, (lua_Integer)i + 1);
            if (!lua_istable(L, -1))
                return luaL_error(L, "bad argument #1 to 'synth' (anomaly %d must be a table)", (int)i + 1);
            lua_getfield(L, -1, "kind");
            const char *kind = lua_tostring(L, -1);
            list[i].kind = synth_kind(L, kind != NULL ? kind : "?");
            lua_getfield(L, -2, "at");
            lua_Integer at = lua_tointeger(L, -1);
            if (at < 1)
                return luaL_error(L, "bad argument #1 to 'synth' (anomaly %d needs a position 'at' >= 1)",
                                  (int)i + 1);
            list[i].at = (size_t)at - 1;
            lua_getfield(L, -3, "len");
            lua_Integer len = luaL_optinteger(L, -1, 0);
            if (len < 0)
                return luaL_error(L, "bad argument #1 to 'synth' (anomaly %d: len must not be negative)",
                                  (int)i + 1);
            list[i].len = list[i].kind == MW_SYNTH_SPIKE ? 1 : (size_t)len;
            lua_getfield(L, -4, "size");
            list[i].size = (double)luaL_optnumber(L, -1, list[i].kind == MW_SYNTH_VARIANCE ? 4 : 6);
            lua_pop(L, 5);
        }
    } else if (!lua_isnil(L, 2)) {
        return luaL_error(L, "bad argument #1 to 'synth' (anomalies must be a count or a list)");
    } else {
        lua_pushnil(L);                              /* 3 */
    }

    mw_series *s = mw_lua_push_new_series(L, st, p.n, has_start, 0);   /* 4 */
    mw_synth_fill(&p, list, count, mw_series_values(s));
    if (has_start) {
        int64_t *t = mw_series_stamps(s);
        for (size_t i = 0; i < p.n; i++)
            t[i] = (int64_t)start + (int64_t)i * (int64_t)step;
    }
    lua_createtable(L, (int)count, 0);               /* 5 */
    for (size_t i = 0; i < count; i++) {
        lua_createtable(L, 0, 4);
        lua_pushstring(L, mw_synth_kind_name(list[i].kind));
        lua_setfield(L, -2, "kind");
        lua_pushinteger(L, (lua_Integer)list[i].at + 1);
        lua_setfield(L, -2, "at");
        lua_pushinteger(L, (lua_Integer)(list[i].kind == MW_SYNTH_SPIKE ? 1 : list[i].len));
        lua_setfield(L, -2, "len");
        lua_pushnumber(L, (lua_Number)list[i].size);
        lua_setfield(L, -2, "size");
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 2;
}

void mw_lua_open_synth(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg funcs[] = {
        {"synth", mw_synth},
        {NULL, NULL}
    };
    mw_lua_setfuncs(L, st, funcs);
}
