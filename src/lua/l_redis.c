/*
 * l_redis.c: mw.redis, Redis for scripts: connections (net/redis.h),
 * stream sources (conn:read, a generator iterator over XREADGROUP and
 * XAUTOCLAIM) and sinks (conn:sink, XADD in batches), and the shard
 * function producers and workers agree on.
 *
 *   local conn = mw.redis.connect{host = "127.0.0.1", port = 6379}
 *   conn:call("XGROUP", "CREATE", "in", "g", "0", "MKSTREAM")
 *   for id, fields, stream in conn:read{stream = "in", group = "g", consumer = "c1"} do ... end
 *
 * Conversions: arguments are strings (any bytes) or numbers (integers as
 * decimal, floats as "%.17g", so a value read back is the same double);
 * replies become strings (bulk and status), integers, tables (arrays),
 * and nil. A Redis error reply to conn:call is returned as nil and the
 * message; inside arrays (EXEC, pipelines) nil is `false` and an error
 * is {err = message}, so a list has no holes.
 *
 * Invariants:
 * - A hiredis reply is always owned by something Lua collects (a reply
 *   box userdata, or the reader iterator's data) before any call that can
 *   raise, so an error while converting never leaks it.
 * - Argument vectors point into Lua strings kept on the stack or in an
 *   anchor table until the command has been sent.
 * - A connection's log function lives in its user value; the client calls
 *   back into Lua only from inside a method of that connection (conn->L
 *   is set only then).
 *
 * Without hiredis (meson -Dredis=disabled) mw.redis.available is false
 * and connect raises that this build has no Redis support; shard works.
 */
#include "lua/l_redis.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a, 32 bits, of the series name: docs/scaling.md gives it for
 * producers written in other languages. */
static uint32_t redis_fnv1a(const char *s, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* mw.redis.shard(name, n): the shard (0..n-1) of a series name. */
static int redis_shard(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 1 && n <= 1000000, 2, "shard count must be in 1..1000000");
    lua_pushinteger(L, (lua_Integer)(redis_fnv1a(s, len) % (uint32_t)n));
    return 1;
}

#ifdef MW_HAVE_REDIS

#include <math.h>
#include <strings.h>
#include <time.h>

#include "lua/l_iter.h"
#include "net/redis.h"

#define CONN_TNAME "moonwatch.redis.connection"
#define SINK_TNAME "moonwatch.redis.sink"
#define REPLY_TNAME "moonwatch.redis.reply"

typedef struct conn {
    mw_redis *r;        /* NULL once closed */
    lua_State *L;       /* set while a method runs: for the log */
    int self;           /* the connection's stack index then */
} conn;

static conn *conn_check(lua_State *L, int idx, const char *fname)
{
    conn *c = luaL_checkudata(L, idx, CONN_TNAME);
    if (c->r == NULL) {
        lua_pushfstring(L, "bad argument #%d to '%s' (connection is closed)", idx, fname);
        lua_error(L);
    }
    return c;
}

/* The client's log: the connection's log function (user value 1), or
 * stderr when it has none; false silences it. */
static void conn_log(void *ud, const char *line)
{
    conn *c = ud;
    lua_State *L = c->L;
    if (L == NULL) {
        fprintf(stderr, "mw.redis: %s\n", line);
        return;
    }
    luaL_checkstack(L, 4, "log");
    int t = lua_getiuservalue(L, c->self, 1);
    if (t == LUA_TFUNCTION) {
        lua_pushstring(L, line);
        if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
            fprintf(stderr, "mw.redis: %s (the log function failed: %s)\n", line,
                    lua_isstring(L, -1) ? lua_tostring(L, -1) : "?");
            lua_pop(L, 1);
        }
        return;
    }
    lua_pop(L, 1);
    if (t != LUA_TBOOLEAN)
        fprintf(stderr, "mw.redis: %s\n", line);
}

/* {====================================================================
 * Replies and argument vectors
 * ===================================================================== */

typedef struct reply_box {
    redisReply **replies;
    size_t n;
} reply_box;

static int reply_box_gc(lua_State *L)
{
    reply_box *b = lua_touserdata(L, 1);
    for (size_t i = 0; i < b->n; i++)
        if (b->replies[i] != NULL)
            freeReplyObject(b->replies[i]);
    free(b->replies);
    b->replies = NULL;
    b->n = 0;
    return 0;
}

/* Pushes a box for n replies (all NULL). */
static reply_box *reply_box_new(lua_State *L, size_t n)
{
    reply_box *b = lua_newuserdatauv(L, sizeof *b, 0);
    b->replies = NULL;
    b->n = 0;
    luaL_setmetatable(L, REPLY_TNAME);
    b->replies = calloc(n > 0 ? n : 1, sizeof *b->replies);
    if (b->replies == NULL)
        luaL_error(L, "not enough memory");
    b->n = n;
    return b;
}

/* Pushes a reply as a Lua value; nested: nil as false, an error as
 * {err = message}. */
static void push_reply(lua_State *L, const redisReply *rep, int nested)
{
    luaL_checkstack(L, 4, "reply nested too deeply");
    switch (rep->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
        lua_pushlstring(L, rep->str, rep->len);
        break;
    case REDIS_REPLY_INTEGER:
        lua_pushinteger(L, (lua_Integer)rep->integer);
        break;
    case REDIS_REPLY_ARRAY:
        lua_createtable(L, rep->elements > INT32_MAX ? 0 : (int)rep->elements, 0);
        for (size_t i = 0; i < rep->elements; i++) {
            push_reply(L, rep->element[i], 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    case REDIS_REPLY_ERROR:
        lua_createtable(L, 0, 1);
        lua_pushlstring(L, rep->str, rep->len);
        lua_setfield(L, -2, "err");
        break;
    default:   /* NIL */
        if (nested)
            lua_pushboolean(L, 0);
        else
            lua_pushnil(L);
    }
}

/* The value at idx as a command argument: a string stays; a number is
 * replaced by its text. Returns 0 for any other type. */
static int arg_to_string(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    int t = lua_type(L, idx);
    if (t == LUA_TSTRING)
        return 1;
    if (t != LUA_TNUMBER)
        return 0;
    if (lua_isinteger(L, idx)) {
        lua_pushfstring(L, "%I", (LUAI_UACINT)lua_tointeger(L, idx));
    } else {
        char buf[40];
        snprintf(buf, sizeof buf, "%.17g", (double)lua_tonumber(L, idx));
        lua_pushstring(L, buf);
    }
    lua_replace(L, idx);
    return 1;
}

/* Argument vectors of n commands, in one userdata block. */
typedef struct cmd_vec {
    size_t n;
    int *argc;
    const char *const **argv;
    const size_t **lens;
    const char **flat_argv;
    size_t *flat_lens;
} cmd_vec;

/* Pushes a userdata with room for n commands of total arguments. */
static cmd_vec *cmd_vec_new(lua_State *L, size_t n, size_t total)
{
    size_t ptrs = n * 2 + total;
    size_t bytes = sizeof(cmd_vec) + ptrs * sizeof(void *) + total * sizeof(size_t) + n * sizeof(int);
    cmd_vec *v = lua_newuserdatauv(L, bytes, 0);
    char *p = (char *)(v + 1);
    v->n = n;
    v->argv = (const char *const **)p;
    p += n * sizeof(void *);
    v->lens = (const size_t **)p;
    p += n * sizeof(void *);
    v->flat_argv = (const char **)p;
    p += total * sizeof(void *);
    v->flat_lens = (size_t *)p;
    p += total * sizeof(size_t);
    v->argc = (int *)p;
    return v;
}

/* Runs the commands, storing the replies in box; raises on a lost
 * connection that did not come back. */
static void conn_run(lua_State *L, conn *c, int self, const cmd_vec *v, reply_box *box,
                     double extra_timeout)
{
    c->L = L;
    c->self = lua_absindex(L, self);
    int rc = mw_redis_run(c->r, v->n, v->argc, v->argv, v->lens, box->replies, extra_timeout);
    c->L = NULL;
    if (rc == MW_REDIS_ENOMEM)
        luaL_error(L, "not enough memory");
    if (rc != MW_REDIS_OK)
        luaL_error(L, "%s", mw_redis_error(c->r));
}

/* Runs the commands of the list at idx (each a list of arguments) and
 * pushes the box with their replies. */
static reply_box *run_list(lua_State *L, conn *c, int self, int idx, const char *fname,
                           double extra_timeout)
{
    idx = lua_absindex(L, idx);
    size_t n = (size_t)lua_rawlen(L, idx), total = 0;
    luaL_argcheck(L, n > 0, 2, "no commands");
    lua_newtable(L);   /* anchor for converted numbers */
    int anchor = lua_gettop(L);
    lua_Integer kept = 0;
    for (size_t i = 1; i <= n; i++) {
        if (lua_rawgeti(L, idx, (lua_Integer)i) != LUA_TTABLE)
            luaL_error(L, "bad argument #2 to '%s' (command %d is a %s, not a list)", fname, (int)i,
                       luaL_typename(L, -1));
        size_t argc = (size_t)lua_rawlen(L, -1);
        if (argc == 0 || argc > INT32_MAX)
            luaL_error(L, "bad argument #2 to '%s' (command %d is empty)", fname, (int)i);
        total += argc;
        lua_pop(L, 1);
    }
    cmd_vec *v = cmd_vec_new(L, n, total);
    size_t at = 0;
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, (lua_Integer)i);
        size_t argc = (size_t)lua_rawlen(L, -1);
        v->argc[i - 1] = (int)argc;
        v->argv[i - 1] = v->flat_argv + at;
        v->lens[i - 1] = v->flat_lens + at;
        for (size_t k = 1; k <= argc; k++) {
            lua_rawgeti(L, -1, (lua_Integer)k);
            if (!arg_to_string(L, -1))
                luaL_error(L, "bad argument #2 to '%s' (command %d, argument %d: string or number "
                           "expected, got %s)", fname, (int)i, (int)k, luaL_typename(L, -1));
            v->flat_argv[at] = lua_tolstring(L, -1, &v->flat_lens[at]);
            at++;
            lua_rawseti(L, anchor, ++kept);   /* keeps the string alive */
        }
        lua_pop(L, 1);
    }
    reply_box *box = reply_box_new(L, n);
    conn_run(L, c, self, v, box, extra_timeout);
    lua_replace(L, anchor);   /* the box in the anchor's slot */
    lua_settop(L, anchor);
    return box;
}

/* }==================================================================== */

/* {====================================================================
 * Connections
 * ===================================================================== */

static double opt_number(lua_State *L, int t, const char *name, double dflt)
{
    double x = dflt;
    int type = lua_getfield(L, t, name);
    if (type != LUA_TNIL) {
        if (type != LUA_TNUMBER)
            luaL_error(L, "bad argument #1 to 'connect' (%s must be a number, got %s)", name,
                       luaL_typename(L, -1));
        x = lua_tonumber(L, -1);
        if (!(x >= 0))
            luaL_error(L, "bad argument #1 to 'connect' (%s must be >= 0)", name);
    }
    lua_pop(L, 1);
    return x;
}

/* mw.redis.connect{host=, port=, timeout=, retry=, log=}: a connection. */
static int redis_connect(lua_State *L)
{
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    mw_redis_options o;
    memset(&o, 0, sizeof o);
    o.host = "127.0.0.1";
    if (lua_getfield(L, 1, "host") != LUA_TNIL) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "bad argument #1 to 'connect' (host must be a string)");
        o.host = lua_tostring(L, -1);
    }
    double port = opt_number(L, 1, "port", 6379);
    if (port != floor(port) || port < 1 || port > 65535)
        luaL_error(L, "bad argument #1 to 'connect' (port must be an integer in 1..65535)");
    o.port = (int)port;
    o.timeout = opt_number(L, 1, "timeout", 5);
    if (o.timeout <= 0)
        luaL_error(L, "bad argument #1 to 'connect' (timeout must be > 0)");
    o.retry_for = opt_number(L, 1, "retry", 30);
    o.backoff_min = 0.1;
    o.backoff_max = 5;
    o.log = conn_log;
    int lt = lua_getfield(L, 1, "log");   /* index 3 */
    if (lt != LUA_TNIL && lt != LUA_TFUNCTION && !(lt == LUA_TBOOLEAN && !lua_toboolean(L, -1)))
        luaL_error(L, "bad argument #1 to 'connect' (log must be a function or false)");

    conn *c = lua_newuserdatauv(L, sizeof *c, 1);
    c->r = NULL;
    c->L = NULL;
    luaL_setmetatable(L, CONN_TNAME);
    lua_pushvalue(L, 3);
    lua_setiuservalue(L, -2, 1);
    o.log_ud = c;
    char err[1400];
    c->L = L;
    c->self = lua_gettop(L);
    mw_redis *r = mw_redis_connect(&o, err, sizeof err);
    c->L = NULL;
    if (r == NULL) {
        luaL_pushfail(L);
        lua_pushstring(L, err);
        return 2;
    }
    c->r = r;
    return 1;
}

/* conn:call(cmd, ...): the reply; nil and the message for an error reply. */
static int conn_call(lua_State *L)
{
    conn *c = conn_check(L, 1, "call");
    int top = lua_gettop(L);
    luaL_argcheck(L, top >= 2, 2, "command expected");
    for (int i = 2; i <= top; i++)
        if (!arg_to_string(L, i))
            luaL_argerror(L, i, lua_pushfstring(L, "string or number expected, got %s", luaL_typename(L, i)));
    cmd_vec *v = cmd_vec_new(L, 1, (size_t)(top - 1));
    v->argc[0] = top - 1;
    v->argv[0] = v->flat_argv;
    v->lens[0] = v->flat_lens;
    for (int i = 2; i <= top; i++)
        v->flat_argv[i - 2] = lua_tolstring(L, i, &v->flat_lens[i - 2]);
    /* A blocking read waits longer than the reply timeout: BLOCK ms. */
    double extra = 0;
    for (int i = 2; i < top; i++) {
        if (lua_rawlen(L, i) == 5 && strncasecmp(lua_tostring(L, i), "BLOCK", 5) == 0)
            extra = atof(lua_tostring(L, i + 1)) / 1000.0;
    }
    reply_box *box = reply_box_new(L, 1);
    conn_run(L, c, 1, v, box, extra);
    const redisReply *rep = box->replies[0];
    if (rep->type == REDIS_REPLY_ERROR) {
        luaL_pushfail(L);
        lua_pushlstring(L, rep->str, rep->len);
        return 2;
    }
    push_reply(L, rep, 0);
    return 1;
}

/* conn:pipeline{{cmd, ...}, ...}: the replies in a list, from one round
 * trip (nil as false, an error as {err = message}). */
static int conn_pipeline(lua_State *L)
{
    conn *c = conn_check(L, 1, "pipeline");
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    reply_box *box = run_list(L, c, 1, 2, "pipeline", 0);
    lua_createtable(L, (int)box->n, 0);
    for (size_t i = 0; i < box->n; i++) {
        push_reply(L, box->replies[i], 1);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

/* conn:reconnects(): how often the connection was lost and made again. */
static int conn_reconnects(lua_State *L)
{
    conn *c = conn_check(L, 1, "reconnects");
    lua_pushinteger(L, (lua_Integer)mw_redis_reconnects(c->r));
    return 1;
}

static int conn_close(lua_State *L)
{
    conn *c = luaL_checkudata(L, 1, CONN_TNAME);
    if (c->r != NULL) {
        mw_redis_free(c->r);
        c->r = NULL;
    }
    return 0;
}

static int conn_tostring(lua_State *L)
{
    conn *c = luaL_checkudata(L, 1, CONN_TNAME);
    if (c->r == NULL)
        lua_pushliteral(L, "redis connection (closed)");
    else
        lua_pushfstring(L, "redis connection (%s)", mw_redis_address(c->r));
    return 1;
}

/* }==================================================================== */

/* {====================================================================
 * Stream source: conn:read{stream=, group=, consumer=, count=, block=,
 * claim_idle=, start=}
 *
 * User value 1: the connection; 2: a table {streams = {...}, ids =
 * {...} (the id each stream is read from: ">" for new entries, else the
 * last one returned), cursors = {...} (XAUTOCLAIM's), group, consumer}.
 * The current reply is owned by the iterator's data and freed at close.
 * ===================================================================== */

typedef struct reader {
    redisReply *reply;       /* the batch being handed out, or NULL */
    size_t stream_at;        /* XREADGROUP: which stream of the reply */
    size_t entry_at;
    int claimed;             /* the reply is XAUTOCLAIM's, of stream reply_stream */
    size_t reply_stream;
    size_t claim_stream;     /* the stream the claim round is at */
    size_t n_streams;
    lua_Integer count;
    lua_Integer block_ms;    /* < 0: do not block */
    lua_Integer claim_idle;  /* <= 0: do not claim */
    int pending_only;        /* start is not ">": read the consumer's own pending entries */
    double next_claim;       /* monotonic seconds: when to look for idle entries again */
} reader;

static double reader_now(lua_State *L)
{
    (void)L;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void reader_drop(reader *rd)
{
    if (rd->reply != NULL)
        freeReplyObject(rd->reply);
    rd->reply = NULL;
}

/* Runs one command whose arguments are the strings on the stack from
 * `first` to the top; takes the reply (popping the arguments). */
static redisReply *reader_command(lua_State *L, int self, int first, double extra)
{
    int top = lua_gettop(L);
    lua_getiuservalue(L, self, 1);
    conn *c = conn_check(L, -1, "read");
    int cidx = lua_gettop(L);
    cmd_vec *v = cmd_vec_new(L, 1, (size_t)(top - first + 1));
    v->argc[0] = top - first + 1;
    v->argv[0] = v->flat_argv;
    v->lens[0] = v->flat_lens;
    for (int i = first; i <= top; i++)
        v->flat_argv[i - first] = lua_tolstring(L, i, &v->flat_lens[i - first]);
    reply_box *box = reply_box_new(L, 1);
    conn_run(L, c, cidx, v, box, extra);
    redisReply *rep = box->replies[0];
    box->replies[0] = NULL;   /* ours now: the caller stores it in the reader */
    lua_settop(L, first - 1);
    return rep;
}

/* Refills the reader: idle entries of other consumers first (when due),
 * else XREADGROUP. Returns 0 when there is nothing to read. */
static int reader_refill(lua_State *L, mw_lua_iter *it, int self)
{
    reader *rd = it->data;
    lua_getiuservalue(L, self, 2);
    int opts = lua_gettop(L);
    /* A round of claims sweeps each stream's pending entries once, in
     * pages of count (the cursor), then waits half the idle time: a page
     * just claimed is not claimed again in the same round. */
    while (rd->claim_idle > 0 && reader_now(L) >= rd->next_claim) {
        if (rd->claim_stream >= rd->n_streams) {
            rd->claim_stream = 0;
            rd->next_claim = reader_now(L) + (double)rd->claim_idle / 2000.0;
            break;
        }
        size_t k = rd->claim_stream;
        int first = lua_gettop(L) + 1;
        lua_pushliteral(L, "XAUTOCLAIM");
        lua_getfield(L, opts, "streams");
        lua_rawgeti(L, -1, (lua_Integer)k + 1);
        lua_remove(L, -2);
        lua_getfield(L, opts, "group");
        lua_getfield(L, opts, "consumer");
        lua_pushinteger(L, rd->claim_idle);
        arg_to_string(L, -1);
        lua_getfield(L, opts, "cursors");
        lua_rawgeti(L, -1, (lua_Integer)k + 1);
        lua_remove(L, -2);
        lua_pushliteral(L, "COUNT");
        lua_pushinteger(L, rd->count);
        arg_to_string(L, -1);
        redisReply *rep = reader_command(L, self, first, 0);
        if (rep->type == REDIS_REPLY_ERROR) {
            lua_pushlstring(L, rep->str, rep->len);
            freeReplyObject(rep);
            return luaL_error(L, "XAUTOCLAIM: %s", lua_tostring(L, -1));
        }
        if (rep->type != REDIS_REPLY_ARRAY || rep->elements < 2 ||
            rep->element[0]->type != REDIS_REPLY_STRING || rep->element[1]->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(rep);
            return luaL_error(L, "XAUTOCLAIM: unexpected reply");
        }
        lua_getfield(L, opts, "cursors");
        lua_pushlstring(L, rep->element[0]->str, rep->element[0]->len);
        lua_rawseti(L, -2, (lua_Integer)k + 1);
        lua_pop(L, 1);
        if (strcmp(rep->element[0]->str, "0-0") == 0)
            rd->claim_stream++;   /* this stream's sweep is over */
        if (rep->element[1]->elements > 0) {
            rd->reply = rep;
            rd->claimed = 1;
            rd->reply_stream = k;
            rd->entry_at = 0;
            lua_settop(L, opts - 1);
            return 1;
        }
        freeReplyObject(rep);
    }
    int first = lua_gettop(L) + 1;
    lua_pushliteral(L, "XREADGROUP");
    lua_pushliteral(L, "GROUP");
    lua_getfield(L, opts, "group");
    lua_getfield(L, opts, "consumer");
    lua_pushliteral(L, "COUNT");
    lua_pushinteger(L, rd->count);
    arg_to_string(L, -1);
    double extra = 0;
    if (rd->block_ms >= 0 && !rd->pending_only) {
        lua_pushliteral(L, "BLOCK");
        lua_pushinteger(L, rd->block_ms);
        arg_to_string(L, -1);
        extra = (double)rd->block_ms / 1000.0;
    }
    lua_pushliteral(L, "STREAMS");
    luaL_checkstack(L, (int)rd->n_streams * 2 + 4, "too many streams");
    lua_getfield(L, opts, "streams");
    lua_getfield(L, opts, "ids");
    int streams = lua_gettop(L) - 1, ids = lua_gettop(L);
    for (size_t k = 1; k <= rd->n_streams; k++)
        lua_rawgeti(L, streams, (lua_Integer)k);
    for (size_t k = 1; k <= rd->n_streams; k++)
        lua_rawgeti(L, ids, (lua_Integer)k);
    lua_remove(L, ids);
    lua_remove(L, streams);
    redisReply *rep = reader_command(L, self, first, extra);
    lua_settop(L, opts - 1);
    if (rep->type == REDIS_REPLY_ERROR) {
        lua_pushlstring(L, rep->str, rep->len);
        freeReplyObject(rep);
        return luaL_error(L, "XREADGROUP: %s", lua_tostring(L, -1));
    }
    size_t total = 0;
    if (rep->type == REDIS_REPLY_ARRAY) {
        for (size_t s = 0; s < rep->elements; s++) {
            const redisReply *sr = rep->element[s];
            if (sr->type != REDIS_REPLY_ARRAY || sr->elements < 2 || sr->element[1]->type != REDIS_REPLY_ARRAY) {
                freeReplyObject(rep);
                return luaL_error(L, "XREADGROUP: unexpected reply");
            }
            total += sr->element[1]->elements;
        }
    }
    if (total == 0) {
        freeReplyObject(rep);
        return 0;
    }
    rd->reply = rep;
    rd->claimed = 0;
    rd->stream_at = 0;
    rd->entry_at = 0;
    return 1;
}

/* Pushes the fields of an entry ([f1, v1, f2, v2, ...]) as a table. */
static void push_fields(lua_State *L, const redisReply *fields)
{
    lua_createtable(L, 0, (int)(fields->elements / 2));
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *k = fields->element[i], *v = fields->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING)
            continue;
        lua_pushlstring(L, k->str, k->len);
        lua_pushlstring(L, v->str, v->len);
        lua_rawset(L, -3);
    }
}

static int reader_next(lua_State *L, mw_lua_iter *it, int self)
{
    reader *rd = it->data;
    for (;;) {
        if (rd->reply == NULL && !reader_refill(L, it, self))
            return 0;
        const redisReply *entries, *name = NULL;
        if (rd->claimed) {
            entries = rd->reply->element[1];
        } else {
            const redisReply *sr = rd->reply->element[rd->stream_at];
            name = sr->element[0];
            entries = sr->element[1];
        }
        if (rd->entry_at >= entries->elements) {
            if (!rd->claimed && rd->stream_at + 1 < rd->reply->elements) {
                rd->stream_at++;
                rd->entry_at = 0;
            } else {
                reader_drop(rd);
            }
            continue;
        }
        const redisReply *e = entries->element[rd->entry_at++];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->element[0]->type != REDIS_REPLY_STRING) {
            it->errors++;
            continue;
        }
        if (e->element[1]->type != REDIS_REPLY_ARRAY) {
            it->errors++;   /* deleted while pending: nothing to hand out */
            continue;
        }
        luaL_checkstack(L, 6, "read");
        lua_pushlstring(L, e->element[0]->str, e->element[0]->len);
        push_fields(L, e->element[1]);
        if (rd->claimed) {
            lua_getiuservalue(L, self, 2);
            lua_getfield(L, -1, "streams");
            lua_rawgeti(L, -1, (lua_Integer)rd->reply_stream + 1);
            lua_replace(L, -3);
            lua_pop(L, 1);
        } else {
            lua_pushlstring(L, name->str, name->len);
            if (rd->pending_only) {
                /* The next read of this stream starts after this entry. */
                lua_getiuservalue(L, self, 2);
                lua_getfield(L, -1, "streams");
                lua_getfield(L, -2, "ids");
                for (size_t k = 1; k <= rd->n_streams; k++) {
                    lua_rawgeti(L, -2, (lua_Integer)k);
                    int same = lua_rawequal(L, -1, -5);
                    lua_pop(L, 1);
                    if (same) {
                        lua_pushvalue(L, -6);
                        lua_rawseti(L, -2, (lua_Integer)k);
                        break;
                    }
                }
                lua_pop(L, 3);
            }
        }
        return 3;
    }
}

static void reader_close(lua_State *L, mw_lua_iter *it, int self)
{
    (void)L;
    (void)self;
    reader_drop(it->data);
}

static const mw_lua_iter_kind reader_kind = { "redis.read", reader_next, reader_close };

static lua_Integer read_opt_int(lua_State *L, const char *name, lua_Integer dflt, lua_Integer min)
{
    lua_Integer x = dflt;
    if (lua_getfield(L, 2, name) != LUA_TNIL) {
        int ok;
        x = lua_tointegerx(L, -1, &ok);
        if (!ok || x < min)
            luaL_error(L, "bad argument #1 to 'read' (%s must be an integer >= %d)", name, (int)min);
    }
    lua_pop(L, 1);
    return x;
}

static void read_opt_string(lua_State *L, int opts, const char *name, const char *dflt)
{
    int t = lua_getfield(L, 2, name);
    if (t == LUA_TNIL && dflt != NULL) {
        lua_pop(L, 1);
        lua_pushstring(L, dflt);
    } else if (t != LUA_TSTRING) {
        luaL_error(L, "bad argument #1 to 'read' (%s must be a string)", name);
    }
    lua_setfield(L, opts, name);
}

/* conn:read{...}: an iterator of (id, fields, stream) over the group's
 * entries; it ends when a read finds nothing (after block ms). */
static int conn_read(lua_State *L)
{
    conn_check(L, 1, "read");
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    lua_newtable(L);   /* 3: the reader's table */
    read_opt_string(L, 3, "group", NULL);
    read_opt_string(L, 3, "consumer", NULL);
    read_opt_string(L, 3, "start", ">");
    lua_newtable(L);
    int t = lua_getfield(L, 2, "stream");
    if (t == LUA_TSTRING) {
        lua_rawseti(L, -2, 1);
    } else if (t == LUA_TTABLE && lua_rawlen(L, -1) > 0) {
        lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
        for (lua_Integer k = 1; k <= n; k++) {
            if (lua_rawgeti(L, -1, k) != LUA_TSTRING)
                luaL_error(L, "bad argument #1 to 'read' (stream %d is not a string)", (int)k);
            lua_rawseti(L, -3, k);
        }
        lua_pop(L, 1);
    } else {
        luaL_error(L, "bad argument #1 to 'read' (stream must be a string or a list of strings)");
    }
    size_t n = (size_t)lua_rawlen(L, -1);
    lua_setfield(L, 3, "streams");
    lua_getfield(L, 3, "start");
    int pending_only = strcmp(lua_tostring(L, -1), ">") != 0;
    lua_newtable(L);   /* ids */
    lua_newtable(L);   /* cursors */
    for (size_t k = 1; k <= n; k++) {
        lua_pushvalue(L, -3);
        lua_rawseti(L, -3, (lua_Integer)k);
        lua_pushliteral(L, "0-0");
        lua_rawseti(L, -2, (lua_Integer)k);
    }
    lua_setfield(L, 3, "cursors");
    lua_setfield(L, 3, "ids");
    lua_pop(L, 1);

    lua_Integer count = read_opt_int(L, "count", 100, 1);
    lua_Integer block = read_opt_int(L, "block", -1, 0);
    lua_Integer claim = read_opt_int(L, "claim_idle", 0, 0);
    mw_lua_iter *it = mw_lua_iter_new(L, &reader_kind, sizeof(reader));
    reader *rd = it->data;
    rd->count = count;
    rd->block_ms = block;
    rd->claim_idle = claim;
    rd->n_streams = n;
    rd->pending_only = pending_only;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    lua_pushvalue(L, 3);
    lua_setiuservalue(L, -2, 2);
    return 1;
}

/* }==================================================================== */

/* {====================================================================
 * Stream sink: conn:sink{stream=, maxlen=, batch=}
 *
 * write(fields [, id]) queues one XADD (user value 2: the queue, a list
 * of argument lists); a full batch, flush() and close() send the queue
 * in one round trip. User value 1: the connection.
 * ===================================================================== */

typedef struct sink {
    lua_Integer batch;
    lua_Integer maxlen;      /* 0: no trimming */
    lua_Integer queued;
    lua_Integer written;
    int closed;
} sink;

static sink *sink_check(lua_State *L, const char *fname)
{
    sink *s = luaL_checkudata(L, 1, SINK_TNAME);
    if (s->closed) {
        lua_pushfstring(L, "bad argument #1 to '%s' (sink is closed)", fname);
        lua_error(L);
    }
    return s;
}

/* Sends the queue; pushes the list of new ids. */
static void sink_send(lua_State *L, sink *s)
{
    lua_getiuservalue(L, 1, 1);
    conn *c = conn_check(L, -1, "flush");
    int cidx = lua_gettop(L);
    lua_getiuservalue(L, 1, 2);
    int queue = lua_gettop(L);
    lua_createtable(L, (int)s->queued, 0);
    int ids = lua_gettop(L);
    if (s->queued > 0) {
        reply_box *box = run_list(L, c, cidx, queue, "flush", 0);
        for (size_t i = 0; i < box->n; i++) {
            const redisReply *rep = box->replies[i];
            if (rep->type == REDIS_REPLY_ERROR)
                luaL_error(L, "XADD: %s", rep->str);
            push_reply(L, rep, 1);
            lua_rawseti(L, ids, (lua_Integer)i + 1);
        }
        lua_pop(L, 1);
        s->written += s->queued;
        s->queued = 0;
        lua_newtable(L);
        lua_setiuservalue(L, 1, 2);
    }
    lua_replace(L, cidx);
    lua_settop(L, cidx);
}

/* sink:write(fields [, id]): queues an entry (fields: a table of
 * name = value, written in name order, or a list name, value, ...). */
static int sink_write(lua_State *L)
{
    sink *s = sink_check(L, "write");
    luaL_checktype(L, 2, LUA_TTABLE);
    const char *id = luaL_optstring(L, 3, "*");
    lua_settop(L, 3);
    lua_getiuservalue(L, 1, 2);   /* 4: queue */
    lua_newtable(L);              /* 5: the command */
    lua_Integer k = 0;
    lua_pushliteral(L, "XADD");
    lua_rawseti(L, 5, ++k);
    lua_getiuservalue(L, 1, 3);
    lua_rawseti(L, 5, ++k);
    if (s->maxlen > 0) {
        lua_pushliteral(L, "MAXLEN");
        lua_rawseti(L, 5, ++k);
        lua_pushliteral(L, "~");
        lua_rawseti(L, 5, ++k);
        lua_pushinteger(L, s->maxlen);
        lua_rawseti(L, 5, ++k);
    }
    lua_pushstring(L, id);
    lua_rawseti(L, 5, ++k);
    lua_Integer before = k;
    lua_Integer n = (lua_Integer)lua_rawlen(L, 2);
    if (n > 0) {
        if (n % 2 != 0)
            return luaL_argerror(L, 2, "a list of fields must be name, value pairs");
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, 2, i);
            if (!arg_to_string(L, -1))
                return luaL_argerror(L, 2, lua_pushfstring(L, "item %d is a %s", (int)i, luaL_typename(L, -1)));
            lua_rawseti(L, 5, ++k);
        }
    } else {
        /* name order: a stream stores entries with the same fields in the
         * same order compactly. Insertion sort: entries have few fields. */
        lua_pushnil(L);
        while (lua_next(L, 2) != 0) {
            if (lua_type(L, -2) != LUA_TSTRING)
                return luaL_argerror(L, 2, "field names must be strings");
            if (!arg_to_string(L, -1))
                return luaL_argerror(L, 2, lua_pushfstring(L, "field '%s' is a %s", lua_tostring(L, -2),
                                                           luaL_typename(L, -1)));
            lua_Integer at = k + 1;
            while (at > before + 1) {
                lua_rawgeti(L, 5, at - 2);
                int less = strcmp(lua_tostring(L, -3), lua_tostring(L, -1)) < 0;
                lua_pop(L, 1);
                if (!less)
                    break;
                lua_rawgeti(L, 5, at - 2);
                lua_rawseti(L, 5, at);
                lua_rawgeti(L, 5, at - 1);
                lua_rawseti(L, 5, at + 1);
                at -= 2;
            }
            lua_pushvalue(L, -2);
            lua_rawseti(L, 5, at);
            lua_rawseti(L, 5, at + 1);
            k += 2;
        }
        if (k == before)
            return luaL_argerror(L, 2, "an entry needs at least one field");
    }
    lua_rawseti(L, 4, ++s->queued);
    lua_settop(L, 1);
    if (s->queued >= s->batch) {
        sink_send(L, s);
        if (s->batch == 1) {
            lua_rawgeti(L, -1, 1);
            return 1;
        }
    }
    return 0;
}

/* sink:flush(): sends what is queued; returns the new ids. */
static int sink_flush(lua_State *L)
{
    sink *s = sink_check(L, "flush");
    lua_settop(L, 1);
    sink_send(L, s);
    return 1;
}

/* sink:close(): flushes, then refuses further writes. */
static int sink_close(lua_State *L)
{
    sink *s = luaL_checkudata(L, 1, SINK_TNAME);
    if (s->closed)
        return 0;
    lua_settop(L, 1);
    sink_send(L, s);
    s->closed = 1;
    return 0;
}

/* sink:count(): entries written (sent and acknowledged by the server). */
static int sink_count(lua_State *L)
{
    sink *s = luaL_checkudata(L, 1, SINK_TNAME);
    lua_pushinteger(L, s->written);
    return 1;
}

static int sink_tostring(lua_State *L)
{
    sink *s = luaL_checkudata(L, 1, SINK_TNAME);
    lua_getiuservalue(L, 1, 3);
    lua_pushfstring(L, "redis sink (%s, %I written, %I queued%s)", lua_tostring(L, -1),
                    (LUAI_UACINT)s->written, (LUAI_UACINT)s->queued, s->closed ? ", closed" : "");
    return 1;
}

/* conn:sink{stream=, maxlen=, batch=}: a sink writing to the stream. */
static int conn_sink(lua_State *L)
{
    conn_check(L, 1, "sink");
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_getfield(L, 2, "stream") != LUA_TSTRING)
        luaL_error(L, "bad argument #1 to 'sink' (stream must be a string)");
    lua_Integer batch = 1, maxlen = 0;
    if (lua_getfield(L, 2, "batch") != LUA_TNIL) {
        int ok;
        batch = lua_tointegerx(L, -1, &ok);
        if (!ok || batch < 1)
            luaL_error(L, "bad argument #1 to 'sink' (batch must be an integer >= 1)");
    }
    if (lua_getfield(L, 2, "maxlen") != LUA_TNIL) {
        int ok;
        maxlen = lua_tointegerx(L, -1, &ok);
        if (!ok || maxlen < 1)
            luaL_error(L, "bad argument #1 to 'sink' (maxlen must be an integer >= 1)");
    }
    lua_settop(L, 3);
    sink *s = lua_newuserdatauv(L, sizeof *s, 3);
    memset(s, 0, sizeof *s);
    s->batch = batch;
    s->maxlen = maxlen;
    luaL_setmetatable(L, SINK_TNAME);
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    lua_newtable(L);
    lua_setiuservalue(L, -2, 2);
    lua_pushvalue(L, 3);
    lua_setiuservalue(L, -2, 3);
    return 1;
}

/* }==================================================================== */

static void new_class(lua_State *L, const char *tname, const luaL_Reg *methods, const luaL_Reg *meta)
{
    luaL_newmetatable(L, tname);
    if (methods != NULL) {
        lua_newtable(L);
        luaL_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
    }
    luaL_setfuncs(L, meta, 0);
    lua_pop(L, 1);
}

void mw_lua_open_redis(lua_State *L, mw_lua_state *st)
{
    (void)st;
    static const luaL_Reg conn_methods[] = {
        {"call", conn_call},
        {"pipeline", conn_pipeline},
        {"read", conn_read},
        {"sink", conn_sink},
        {"reconnects", conn_reconnects},
        {"close", conn_close},
        {NULL, NULL}
    };
    static const luaL_Reg conn_meta[] = {
        {"__gc", conn_close},
        {"__close", conn_close},
        {"__tostring", conn_tostring},
        {NULL, NULL}
    };
    new_class(L, CONN_TNAME, conn_methods, conn_meta);
    static const luaL_Reg sink_methods[] = {
        {"write", sink_write},
        {"flush", sink_flush},
        {"close", sink_close},
        {"count", sink_count},
        {NULL, NULL}
    };
    static const luaL_Reg sink_meta[] = {
        {"__close", sink_close},
        {"__tostring", sink_tostring},
        {NULL, NULL}
    };
    new_class(L, SINK_TNAME, sink_methods, sink_meta);
    static const luaL_Reg reply_meta[] = {
        {"__gc", reply_box_gc},
        {NULL, NULL}
    };
    new_class(L, REPLY_TNAME, NULL, reply_meta);

    static const luaL_Reg funcs[] = {
        {"connect", redis_connect},
        {"shard", redis_shard},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "available");
}

#else /* !MW_HAVE_REDIS */

static int redis_unavailable(lua_State *L)
{
    return luaL_error(L, "mw.redis.connect: this build of moonwatch has no Redis support "
                         "(built without hiredis: meson setup -Dredis=enabled with libhiredis-dev)");
}

void mw_lua_open_redis(lua_State *L, mw_lua_state *st)
{
    (void)st;
    static const luaL_Reg funcs[] = {
        {"connect", redis_unavailable},
        {"shard", redis_shard},
        {NULL, NULL}
    };
    luaL_newlib(L, funcs);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "available");
}

#endif /* MW_HAVE_REDIS */
