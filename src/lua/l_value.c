/*
 * l_value.c: Lua <-> tagged value conversion and the readable form of
 * containers (see l_value.h).
 *
 * Only values the native heap can hold cross into it: nil, booleans,
 * numbers, strings and handles. A Lua table or function never does (the
 * rule that keeps cycles between the two heaps impossible).
 */
#include "lua/l_value.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "lua/handle.h"
#include "types/list.h"
#include "types/map.h"
#include "types/str.h"

/* How much of a container tostring shows. */
#define REPR_MAX_DEPTH 4
#define REPR_MAX_ITEMS 40

mw_status mw_lua_tovalue(lua_State *L, mw_lua_state *st, int idx, mw_value *out)
{
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        *out = mw_nil();
        return MW_OK;
    case LUA_TBOOLEAN:
        *out = mw_bool(lua_toboolean(L, idx));
        return MW_OK;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            *out = mw_int((int64_t)lua_tointeger(L, idx));
        else
            *out = mw_float((double)lua_tonumber(L, idx));
        return MW_OK;
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        mw_str *str = mw_str_new(st->heap, s, len);
        if (str == NULL)
            return mw_heap_last_error(st->heap);
        *out = mw_objval(MW_TSTRING, &str->ob);
        return MW_OK;
    }
    case LUA_TUSERDATA: {
        mw_handle *h = mw_lua_test_handle(L, idx);
        if (h == NULL || h->obj == NULL)
            return MW_ETYPE;
        mw_incref(h->obj);
        *out = mw_objval(MW_TOBJECT, h->obj);
        return MW_OK;
    }
    default:
        return MW_ETYPE;
    }
}

mw_value mw_lua_checkvalue(lua_State *L, mw_lua_state *st, int idx, int arg,
                           const char *container)
{
    mw_value v;
    mw_status status = mw_lua_tovalue(L, st, idx, &v);
    if (status == MW_ETYPE) {
        mw_handle *h = mw_lua_test_handle(L, idx);
        const char *what = h != NULL ? "released object" : luaL_typename(L, idx);
        luaL_argerror(L, arg, lua_pushfstring(L,
            "cannot store a %s in a %s: only nil, booleans, numbers, strings "
            "and moonwatch objects", what, container));
    } else if (status != MW_OK) {
        mw_lua_status_error(L, status);
    }
    return v;
}

void mw_lua_pushvalue(lua_State *L, mw_lua_state *st, mw_value v)
{
    switch (v.tag) {
    case MW_TNIL:    lua_pushnil(L); break;
    case MW_TBOOL:   lua_pushboolean(L, v.u.b); break;
    case MW_TINT:    lua_pushinteger(L, (lua_Integer)v.u.i); break;
    case MW_TFLOAT:  lua_pushnumber(L, (lua_Number)v.u.f); break;
    case MW_TSTRING: {
        mw_str *s = mw_str_cast(v.u.o);
        lua_pushlstring(L, s->bytes, s->len);
        break;
    }
    case MW_TOBJECT: mw_lua_push_object(L, st, v.u.o); break;
    }
}

typedef struct repr_ctx {
    lua_State *L;
    mw_lua_state *st;
    luaL_Buffer *b;
    mw_object *path[REPR_MAX_DEPTH + 1];   /* containers being printed */
    int depth;
} repr_ctx;

static void repr_string(luaL_Buffer *b, const char *s, size_t len)
{
    luaL_addchar(b, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            luaL_addchar(b, '\\');
            luaL_addchar(b, (char)c);
        } else if (c == '\n') {
            luaL_addstring(b, "\\n");
        } else if (iscntrl(c)) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\%d", c);
            luaL_addstring(b, esc);
        } else {
            luaL_addchar(b, (char)c);
        }
    }
    luaL_addchar(b, '"');
}

static void repr_object(repr_ctx *ctx, mw_object *o);

static void repr_value(repr_ctx *ctx, mw_value v)
{
    lua_State *L = ctx->L;
    switch (v.tag) {
    case MW_TSTRING: {
        mw_str *s = mw_str_cast(v.u.o);
        repr_string(ctx->b, s->bytes, s->len);
        break;
    }
    case MW_TOBJECT:
        repr_object(ctx, v.u.o);
        break;
    default:
        mw_lua_pushvalue(L, ctx->st, v);
        luaL_tolstring(L, -1, NULL);
        lua_remove(L, -2);
        luaL_addvalue(ctx->b);
        break;
    }
}

static int repr_is_identifier(const mw_str *s)
{
    if (s->len == 0 || !(isalpha((unsigned char)s->bytes[0]) || s->bytes[0] == '_'))
        return 0;
    for (size_t i = 1; i < s->len; i++)
        if (!(isalnum((unsigned char)s->bytes[i]) || s->bytes[i] == '_'))
            return 0;
    return 1;
}

static void repr_key(repr_ctx *ctx, mw_value k)
{
    if (k.tag == MW_TSTRING && repr_is_identifier(mw_str_cast(k.u.o))) {
        mw_str *s = mw_str_cast(k.u.o);
        luaL_addlstring(ctx->b, s->bytes, s->len);
    } else {
        luaL_addchar(ctx->b, '[');
        repr_value(ctx, k);
        luaL_addchar(ctx->b, ']');
    }
    luaL_addstring(ctx->b, " = ");
}

static void repr_object(repr_ctx *ctx, mw_object *o)
{
    luaL_Buffer *b = ctx->b;
    luaL_addstring(b, o->type->name);
    if (!mw_is_list(o) && !mw_is_map(o)) {
        char addr[32];
        snprintf(addr, sizeof addr, ": %p", (void *)o);
        luaL_addstring(b, addr);
        return;
    }
    for (int i = 0; i < ctx->depth; i++) {
        if (ctx->path[i] == o) {
            luaL_addstring(b, "{<cycle>}");
            return;
        }
    }
    if (ctx->depth >= REPR_MAX_DEPTH) {
        luaL_addstring(b, "{...}");
        return;
    }
    ctx->path[ctx->depth++] = o;
    luaL_addchar(b, '{');
    size_t shown = 0, total;
    if (mw_is_list(o)) {
        mw_list *l = mw_list_cast(o);
        total = l->len;
        for (size_t i = 0; i < l->len && shown < REPR_MAX_ITEMS; i++, shown++) {
            if (i > 0)
                luaL_addstring(b, ", ");
            repr_value(ctx, l->items[i]);
        }
    } else {
        mw_map *m = mw_map_cast(o);
        total = m->count;
        size_t pos = 0;
        mw_value k, v;
        while (shown < REPR_MAX_ITEMS && mw_map_next(m, &pos, &k, &v)) {
            if (shown++ > 0)
                luaL_addstring(b, ", ");
            repr_key(ctx, k);
            repr_value(ctx, v);
        }
    }
    if (shown < total) {
        char more[48];
        snprintf(more, sizeof more, "%s... (%zu more)", shown > 0 ? ", " : "",
                 total - shown);
        luaL_addstring(b, more);
    }
    luaL_addchar(b, '}');
    ctx->depth--;
}

void mw_lua_pushrepr(lua_State *L, mw_lua_state *st, mw_object *o)
{
    luaL_Buffer b;
    repr_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.L = L;
    ctx.st = st;
    ctx.b = &b;
    luaL_buffinit(L, &b);
    repr_object(&ctx, o);
    luaL_pushresult(&b);
}
