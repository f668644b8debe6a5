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
#include <inttypes.h>
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

/* The readable form is built in C, with no Lua call until the end: a Lua
 * allocation could run a script's __gc that changes the containers being
 * printed. The text goes in a buffer kept in the module state (so an
 * error raised while pushing it cannot leak it) and grows as needed. */
typedef struct repr_ctx {
    mw_lua_state *st;
    size_t len;
    int failed;                            /* the buffer could not grow */
    const mw_object *path[REPR_MAX_DEPTH + 1];   /* containers being printed */
    int depth;
} repr_ctx;

static void repr_add(repr_ctx *ctx, const char *s, size_t n)
{
    mw_lua_state *st = ctx->st;
    if (ctx->failed)
        return;
    if (ctx->len + n > st->scratch_cap) {
        size_t cap = st->scratch_cap < 256 ? 256 : st->scratch_cap;
        while (cap < ctx->len + n)
            cap *= 2;
        char *buf = mw_alloc_realloc(st->alloc, MW_DOMAIN_NATIVE, st->scratch,
                                     st->scratch_cap, cap);
        if (buf == NULL) {
            ctx->failed = 1;
            return;
        }
        st->scratch = buf;
        st->scratch_cap = cap;
    }
    memcpy(st->scratch + ctx->len, s, n);
    ctx->len += n;
}

static void repr_adds(repr_ctx *ctx, const char *s)
{
    repr_add(ctx, s, strlen(s));
}

static void repr_string(repr_ctx *ctx, const char *s, size_t len)
{
    repr_add(ctx, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = { '\\', (char)c };
            repr_add(ctx, esc, 2);
        } else if (c == '\n') {
            repr_adds(ctx, "\\n");
        } else if (iscntrl(c)) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\%d", c);
            repr_adds(ctx, esc);
        } else {
            repr_add(ctx, (const char *)&s[i], 1);
        }
    }
    repr_add(ctx, "\"", 1);
}

/* Numbers as Lua's tostring writes them: integers plainly, floats with
 * "%.14g" and a ".0" when that looks like an integer. */
static void repr_number(repr_ctx *ctx, mw_value v)
{
    char buf[64];
    if (v.tag == MW_TINT) {
        snprintf(buf, sizeof buf, "%" PRId64, v.u.i);
    } else {
        snprintf(buf, sizeof buf, "%.14g", v.u.f);
        if (buf[strspn(buf, "-0123456789")] == '\0')
            strcat(buf, ".0");
    }
    repr_adds(ctx, buf);
}

static void repr_object(repr_ctx *ctx, const mw_object *o);

static void repr_value(repr_ctx *ctx, mw_value v)
{
    switch (v.tag) {
    case MW_TNIL:    repr_adds(ctx, "nil"); break;
    case MW_TBOOL:   repr_adds(ctx, v.u.b ? "true" : "false"); break;
    case MW_TINT:
    case MW_TFLOAT:  repr_number(ctx, v); break;
    case MW_TSTRING: {
        const mw_str *s = mw_str_cast(v.u.o);
        repr_string(ctx, s->bytes, s->len);
        break;
    }
    case MW_TOBJECT: repr_object(ctx, v.u.o); break;
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
        const mw_str *s = mw_str_cast(k.u.o);
        repr_add(ctx, s->bytes, s->len);
    } else {
        repr_adds(ctx, "[");
        repr_value(ctx, k);
        repr_adds(ctx, "]");
    }
    repr_adds(ctx, " = ");
}

static void repr_object(repr_ctx *ctx, const mw_object *o)
{
    repr_adds(ctx, o->type->name);
    if (!mw_is_list(o) && !mw_is_map(o)) {
        char addr[32];
        snprintf(addr, sizeof addr, ": %p", (const void *)o);
        repr_adds(ctx, addr);
        return;
    }
    for (int i = 0; i < ctx->depth; i++) {
        if (ctx->path[i] == o) {
            repr_adds(ctx, "{<cycle>}");
            return;
        }
    }
    if (ctx->depth >= REPR_MAX_DEPTH) {
        repr_adds(ctx, "{...}");
        return;
    }
    ctx->path[ctx->depth++] = o;
    repr_adds(ctx, "{");
    size_t shown = 0, total;
    if (mw_is_list(o)) {
        const mw_list *l = (const mw_list *)(const void *)o;
        total = l->len;
        for (size_t i = 0; i < l->len && shown < REPR_MAX_ITEMS; i++, shown++) {
            if (i > 0)
                repr_adds(ctx, ", ");
            repr_value(ctx, l->items[i]);
        }
    } else {
        const mw_map *m = (const mw_map *)(const void *)o;
        total = m->count;
        size_t pos = 0;
        mw_value k, v;
        while (shown < REPR_MAX_ITEMS && mw_map_next(m, &pos, &k, &v)) {
            if (shown++ > 0)
                repr_adds(ctx, ", ");
            repr_key(ctx, k);
            repr_value(ctx, v);
        }
    }
    if (shown < total) {
        char more[48];
        snprintf(more, sizeof more, "%s... (%zu more)", shown > 0 ? ", " : "",
                 total - shown);
        repr_adds(ctx, more);
    }
    repr_adds(ctx, "}");
    ctx->depth--;
}

void mw_lua_pushrepr(lua_State *L, mw_lua_state *st, const mw_object *o)
{
    repr_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.st = st;
    repr_object(&ctx, o);
    if (ctx.failed)
        mw_lua_status_error(L, st->alloc->last_error);
    lua_pushlstring(L, st->scratch, ctx.len);
}
