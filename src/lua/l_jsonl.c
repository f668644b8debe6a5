/*
 * l_jsonl.c: mw.jsonl, JSON Lines of flat objects as records (the reader
 * is src/iter/jsonl.c).
 *
 *   for rec in mw.jsonl("events.jsonl") do ... end
 *   for batch in mw.jsonl("events.jsonl"):batch(65536) do ... end
 *
 * Values: numbers, strings, true/false; null is nil (a missing field).
 * Errors name the file, the line and the column; with on_error = "skip" a
 * malformed line is counted (it:errors()) and skipped. A progress bar
 * shows on a terminal for long files (progress = false turns it off).
 */
#include "lua/l_jsonl.h"

#include <stdio.h>
#include <string.h>

#include "iter/csv.h"
#include "iter/jsonl.h"
#include "lua/l_iter.h"
#include "lua/l_progress.h"
#include "lua/l_source.h"

typedef struct jsonl_state {
    mw_jsonl_reader *reader;
    mw_source src;
    int skip;
    uint64_t rows;
    mw_progress bar;
} jsonl_state;

static void jsonl_close(lua_State *L, mw_lua_iter *it, int self)
{
    (void)L;
    (void)self;
    jsonl_state *js = it->data;
    if (js->reader != NULL)
        mw_progress_finish(&js->bar, mw_jsonl_bytes_read(js->reader), js->rows);
    mw_jsonl_close(js->reader);
    js->reader = NULL;
    mw_source_close(&js->src);
}

static int jsonl_next(lua_State *L, mw_lua_iter *it, int self)
{
    (void)self;
    jsonl_state *js = it->data;
    mw_jsonl_object obj;
    for (;;) {
        mw_jsonl_result r = mw_jsonl_next(js->reader, &obj);
        if (r == MW_JSONL_EOF)
            return 0;
        if (r == MW_JSONL_ERROR) {
            if (mw_jsonl_error_is_syntax(js->reader) && js->skip) {
                it->errors++;
                continue;
            }
            if (mw_jsonl_error_status(js->reader) != MW_OK)
                return mw_lua_status_error(L, mw_jsonl_error_status(js->reader));
            return luaL_error(L, "%s: %s", js->src.name, mw_jsonl_error(js->reader));
        }
        js->rows++;
        mw_progress_update(&js->bar, mw_jsonl_bytes_read(js->reader), js->rows, 0);
        lua_createtable(L, 0, (int)obj.n_pairs);
        for (size_t i = 0; i < obj.n_pairs; i++) {
            const mw_jsonl_pair *p = &obj.pairs[i];
            lua_pushlstring(L, p->key, p->key_len);
            switch (p->type) {
            case MW_JSONL_NULL:   lua_pushnil(L); break;   /* the last value wins */
            case MW_JSONL_NUMBER: {
                lua_Number v = (lua_Number)p->number;
                lua_Integer iv;
                if (lua_numbertointeger(v, &iv) && (double)iv == p->number
                    && iv >= -(1LL << 53) && iv <= (1LL << 53))
                    lua_pushinteger(L, iv);
                else
                    lua_pushnumber(L, v);
                break;
            }
            case MW_JSONL_STRING: lua_pushlstring(L, p->str, p->str_len); break;
            case MW_JSONL_TRUE:   lua_pushboolean(L, 1); break;
            default:              lua_pushboolean(L, 0); break;
            }
            lua_rawset(L, -3);
        }
        return 1;
    }
}

static const mw_lua_iter_kind jsonl_kind = { "jsonl", jsonl_next, jsonl_close };

/* mw.jsonl(path | "-" [, {on_error = "raise" | "skip"}]) */
static int mw_jsonl(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    const char *path = luaL_checkstring(L, 1);
    int skip = 0, progress = 1;
    if (lua_istable(L, 2)) {
        lua_pushnil(L);
        while (lua_next(L, 2) != 0) {
            lua_pop(L, 1);
            if (lua_type(L, -1) != LUA_TSTRING || (strcmp(lua_tostring(L, -1), "on_error") != 0
                                                   && strcmp(lua_tostring(L, -1), "progress") != 0))
                return luaL_error(L, "bad argument #2 to 'jsonl' (unknown option '%s'; valid: on_error, progress)",
                                  luaL_tolstring(L, -1, NULL));
        }
        lua_getfield(L, 2, "progress");
        if (!lua_isnil(L, -1))
            progress = lua_toboolean(L, -1);
        lua_pop(L, 1);
        lua_getfield(L, 2, "on_error");
        const char *e = lua_tostring(L, -1);
        if (e != NULL && strcmp(e, "skip") != 0 && strcmp(e, "raise") != 0)
            return luaL_error(L, "bad argument #2 to 'jsonl' (on_error must be \"raise\" or \"skip\")");
        skip = e != NULL && strcmp(e, "skip") == 0;
        lua_pop(L, 1);
    } else if (!lua_isnoneornil(L, 2)) {
        return luaL_typeerror(L, 2, "table");
    }
    mw_lua_iter *it = mw_lua_iter_new(L, &jsonl_kind, sizeof(jsonl_state));
    jsonl_state *js = it->data;
    js->skip = skip;
    js->src.fd = -1;
    mw_source_open(L, &js->src, path);
    mw_progress_start(&js->bar, js->src.name, js->src.total_bytes, progress);
    js->reader = mw_jsonl_open(mw_csv_read_fd, &js->src.fd, st->alloc, 0);
    if (js->reader == NULL)
        return mw_lua_status_error(L, st->alloc->last_error);
    return 1;
}

void mw_lua_open_jsonl(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg funcs[] = {
        {"jsonl", mw_jsonl},
        {NULL, NULL}
    };
    mw_lua_setfuncs(L, st, funcs);
}
