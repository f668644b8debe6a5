/*
 * l_snapshot.c: heap snapshots, tracemalloc's idea for the native heap.
 *
 * While tracing (mw.mem.trace(true)), the heap's tracer (core/heap.h)
 * reports every object and buffer made and freed; each block made is
 * recorded in a table keyed by its address with its type, size and site:
 * the Lua line that was running on the main thread (the innermost Lua
 * frame of its stack, found with lua_getstack/lua_getinfo; allocations
 * inside a coroutine go to the line that resumed it: the main thread's
 * stack is the one that is always safe to walk). A block freed leaves
 * the table. mw.mem.snapshot() groups the live blocks by (site, type);
 * blocks made before tracing started count under their type, at the site
 * "(before tracing)", from the heap's per-type figures.
 *
 * The tracer's own tables use the C library's malloc, outside the
 * accounting allocator, so tracing changes none of the figures it reports
 * and never counts against the budget; if they cannot grow, tracing stops
 * and snapshots say `incomplete`.
 */
#include "lua/l_snapshot.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/heap.h"

typedef struct trace_block {
    const void *block;       /* NULL: empty slot; TRACE_GONE: deleted */
    size_t size;
    uint32_t site;
    uint16_t type;           /* index into the heap's type stats */
} trace_block;

typedef struct trace_site {
    char *source;            /* malloc'd, the chunk name */
    int line;
} trace_site;

struct mw_lua_trace {
    lua_State *main;         /* the main thread: its stack gives the site */
    mw_heap *heap;
    trace_block *blocks;     /* open addressing, power-of-two capacity */
    size_t cap, used, live;  /* used counts deleted slots too */
    trace_site *sites;
    uint32_t n_sites, cap_sites;
    const char *last_source; /* the last site looked up, for repeats */
    int last_line;
    uint32_t last_site;
    int incomplete;
};

static const char trace_gone_mark = 0;
#define TRACE_GONE ((const void *)&trace_gone_mark)

static size_t trace_hash(const void *p, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15u;
    return (size_t)(h >> 17) & (cap - 1);
}

static void trace_stop(mw_lua_trace *tr, int incomplete)
{
    mw_heap_set_tracer(tr->heap, NULL, NULL);
    tr->incomplete |= incomplete;
}

/* The site index of the innermost Lua line on the main thread's stack;
 * site 0 is "(not in Lua)" when no Lua function is running. */
static uint32_t trace_site_now(mw_lua_trace *tr)
{
    lua_Debug ar;
    for (int level = 0; lua_getstack(tr->main, level, &ar); level++) {
        if (!lua_getinfo(tr->main, "Sl", &ar) || ar.currentline < 0)
            continue;
        if (ar.source == tr->last_source && ar.currentline == tr->last_line)
            return tr->last_site;
        uint32_t site = 0;
        for (uint32_t i = 1; i < tr->n_sites; i++) {
            if (tr->sites[i].line == ar.currentline &&
                strcmp(tr->sites[i].source, ar.source) == 0) {
                site = i;
                break;
            }
        }
        if (site == 0) {
            if (tr->n_sites == tr->cap_sites) {
                uint32_t cap = tr->cap_sites * 2;
                trace_site *sites = realloc(tr->sites, cap * sizeof *sites);
                if (sites == NULL)
                    return UINT32_MAX;
                tr->sites = sites;
                tr->cap_sites = cap;
            }
            char *copy = malloc(strlen(ar.source) + 1);
            if (copy == NULL)
                return UINT32_MAX;
            strcpy(copy, ar.source);
            site = tr->n_sites++;
            tr->sites[site].source = copy;
            tr->sites[site].line = ar.currentline;
        }
        tr->last_source = ar.source;
        tr->last_line = ar.currentline;
        tr->last_site = site;
        return site;
    }
    return 0;
}

static int trace_grow(mw_lua_trace *tr)
{
    size_t cap = tr->cap * 2;
    trace_block *blocks = calloc(cap, sizeof *blocks);
    if (blocks == NULL)
        return -1;
    for (size_t i = 0; i < tr->cap; i++) {
        const trace_block *b = &tr->blocks[i];
        if (b->block == NULL || b->block == TRACE_GONE)
            continue;
        size_t at = trace_hash(b->block, cap);
        while (blocks[at].block != NULL)
            at = (at + 1) & (cap - 1);
        blocks[at] = *b;
    }
    free(tr->blocks);
    tr->blocks = blocks;
    tr->cap = cap;
    tr->used = tr->live;
    return 0;
}

static uint16_t trace_type_index(const mw_heap *heap, const mw_type *t)
{
    for (int i = 0; i < MW_HEAP_MAX_TYPES; i++)
        if (heap->types[i].type == t)
            return (uint16_t)i;
    return MW_HEAP_MAX_TYPES - 1;
}

static void trace_block_event(void *ud, const mw_type *t, const void *block, size_t size,
                              int born, int object)
{
    (void)object;
    mw_lua_trace *tr = ud;
    if (!born) {
        size_t at = trace_hash(block, tr->cap);
        while (tr->blocks[at].block != NULL) {
            if (tr->blocks[at].block == block) {
                tr->blocks[at].block = TRACE_GONE;
                tr->live--;
                return;
            }
            at = (at + 1) & (tr->cap - 1);
        }
        return;             /* made before tracing */
    }
    if ((tr->used + 1) * 2 > tr->cap && trace_grow(tr) != 0) {
        trace_stop(tr, 1);
        return;
    }
    uint32_t site = trace_site_now(tr);
    if (site == UINT32_MAX) {
        trace_stop(tr, 1);
        return;
    }
    size_t at = trace_hash(block, tr->cap);
    while (tr->blocks[at].block != NULL && tr->blocks[at].block != TRACE_GONE)
        at = (at + 1) & (tr->cap - 1);
    if (tr->blocks[at].block == NULL)
        tr->used++;
    tr->blocks[at].block = block;
    tr->blocks[at].size = size;
    tr->blocks[at].site = site;
    tr->blocks[at].type = trace_type_index(tr->heap, t);
    tr->live++;
}

void mw_lua_trace_free(mw_lua_state *st)
{
    mw_lua_trace *tr = st->trace;
    if (tr == NULL)
        return;
    if (st->heap != NULL)
        mw_heap_set_tracer(st->heap, NULL, NULL);
    for (uint32_t i = 0; i < tr->n_sites; i++)
        free(tr->sites[i].source);
    free(tr->sites);
    free(tr->blocks);
    free(tr);
    st->trace = NULL;
}

/* mw.mem.trace([on]): starts (true) or stops (false) tracing; returns
 * whether tracing is on. Starting again starts afresh. */
int mw_lua_mem_trace(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    if (!lua_isnone(L, 1)) {
        int on = lua_toboolean(L, 1);
        mw_lua_trace_free(st);
        if (on) {
            mw_lua_trace *tr = calloc(1, sizeof *tr);
            if (tr != NULL) {
                tr->cap = 1024;
                tr->blocks = calloc(tr->cap, sizeof *tr->blocks);
                tr->cap_sites = 64;
                tr->sites = malloc(tr->cap_sites * sizeof *tr->sites);
            }
            if (tr == NULL || tr->blocks == NULL || tr->sites == NULL) {
                if (tr != NULL) {
                    free(tr->blocks);
                    free(tr->sites);
                    free(tr);
                }
                return luaL_error(L, "mw.mem.trace: not enough memory");
            }
            tr->sites[0].source = NULL;
            tr->sites[0].line = 0;
            tr->n_sites = 1;
            tr->last_site = UINT32_MAX;
            lua_State *main;
            lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
            main = lua_tothread(L, -1);
            lua_pop(L, 1);
            tr->main = main;
            tr->heap = st->heap;
            st->trace = tr;
            mw_heap_set_tracer(st->heap, trace_block_event, tr);
        }
    }
    lua_pushboolean(L, st->trace != NULL && st->heap->tracer != NULL);
    return 1;
}

/* The site's text: "file:line", "(not in Lua)". */
static void trace_push_site(lua_State *L, const mw_lua_trace *tr, uint32_t site)
{
    if (site == 0) {
        lua_pushliteral(L, "(not in Lua)");
        return;
    }
    const char *src = tr->sites[site].source;
    if (src[0] == '@' || src[0] == '=')
        src++;
    lua_pushfstring(L, "%s:%d", src, tr->sites[site].line);
}

/* mw.mem.snapshot(): {entries = {{site, type, count, bytes}, ...} (largest
 * first), total, traced, incomplete} with the methods of the snapshot
 * metatable (upvalue 2): top, diff. */
int mw_lua_mem_snapshot(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    mw_lua_trace *tr = st->trace;
    /* Group (site, type) with a Lua table keyed by "site\0type" index:
     * counts and bytes go in entries found through it. */
    lua_newtable(L);                     /* the snapshot */
    lua_newtable(L);                     /* entries */
    lua_newtable(L);                     /* index: key -> entry */
    size_t traced_bytes[MW_HEAP_MAX_TYPES] = {0};
    size_t traced_count[MW_HEAP_MAX_TYPES] = {0};
    lua_Integer n_entries = 0;
    for (size_t i = 0; tr != NULL && i < tr->cap; i++) {
        const trace_block *b = &tr->blocks[i];
        if (b->block == NULL || b->block == TRACE_GONE)
            continue;
        traced_bytes[b->type] += b->size;
        traced_count[b->type]++;
        lua_pushinteger(L, (lua_Integer)b->site * MW_HEAP_MAX_TYPES + b->type);
        if (lua_rawget(L, -2) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_createtable(L, 0, 4);
            trace_push_site(L, tr, b->site);
            lua_setfield(L, -2, "site");
            const mw_type *t = st->heap->types[b->type].type;
            lua_pushstring(L, t != NULL ? t->name : "?");
            lua_setfield(L, -2, "type");
            lua_pushinteger(L, 0);
            lua_setfield(L, -2, "count");
            lua_pushinteger(L, 0);
            lua_setfield(L, -2, "bytes");
            lua_pushvalue(L, -1);
            lua_rawseti(L, -4, ++n_entries);
            lua_pushinteger(L, (lua_Integer)b->site * MW_HEAP_MAX_TYPES + b->type);
            lua_pushvalue(L, -2);
            lua_rawset(L, -4);
        }
        lua_getfield(L, -1, "count");
        lua_pushinteger(L, lua_tointeger(L, -1) + 1);
        lua_setfield(L, -3, "count");
        lua_pop(L, 1);
        lua_getfield(L, -1, "bytes");
        lua_pushinteger(L, lua_tointeger(L, -1) + (lua_Integer)b->size);
        lua_setfield(L, -3, "bytes");
        lua_pop(L, 2);
    }
    lua_pop(L, 1);                       /* the index */
    /* What the tracer did not see: made before tracing (the heap's
     * per-type figures minus what is traced). */
    size_t total = 0;
    for (int k = 0; k < MW_HEAP_MAX_TYPES; k++) {
        const mw_type_stats *s = &st->heap->types[k];
        if (s->type == NULL)
            break;
        total += s->bytes;
        size_t bytes = s->bytes > traced_bytes[k] ? s->bytes - traced_bytes[k] : 0;
        size_t count = s->count > traced_count[k] ? s->count - traced_count[k] : 0;
        if (bytes == 0 && count == 0)
            continue;
        lua_createtable(L, 0, 4);
        lua_pushstring(L, tr != NULL ? "(before tracing)" : "(not traced)");
        lua_setfield(L, -2, "site");
        lua_pushstring(L, s->type->name);
        lua_setfield(L, -2, "type");
        lua_pushinteger(L, (lua_Integer)count);
        lua_setfield(L, -2, "count");
        lua_pushinteger(L, (lua_Integer)bytes);
        lua_setfield(L, -2, "bytes");
        lua_rawseti(L, -2, ++n_entries);
    }
    lua_setfield(L, -2, "entries");
    lua_pushinteger(L, (lua_Integer)total);
    lua_setfield(L, -2, "total");
    lua_pushboolean(L, tr != NULL);
    lua_setfield(L, -2, "traced");
    lua_pushboolean(L, tr != NULL && tr->incomplete);
    lua_setfield(L, -2, "incomplete");
    /* Sort and give it its methods (the Lua part, upvalue 2). */
    lua_pushvalue(L, lua_upvalueindex(2));
    lua_getfield(L, -1, "new");
    lua_pushvalue(L, -3);
    lua_call(L, 1, 1);
    return 1;
}

/* The snapshot methods: sorting, top, diff (tracemalloc's compare_to),
 * and tostring; plain Lua over the tables built above. */
static const char snapshot_lua[] =
    "local M = {}\n"
    "M.__index = M\n"
    "local function order(a, b)\n"
    "  if a.bytes ~= b.bytes then return a.bytes > b.bytes end\n"
    "  if a.site ~= b.site then return a.site < b.site end\n"
    "  return a.type < b.type\n"
    "end\n"
    "function M.new(s) table.sort(s.entries, order) return setmetatable(s, M) end\n"
    "-- The n largest (site, type) groups, or the n largest sites (by = 'site').\n"
    "function M:top(n, by)\n"
    "  local list = self.entries\n"
    "  if by == 'site' or by == 'type' then\n"
    "    local groups, out = {}, {}\n"
    "    for _, e in ipairs(self.entries) do\n"
    "      local g = groups[e[by]]\n"
    "      if not g then g = {[by] = e[by], count = 0, bytes = 0}; groups[e[by]] = g; out[#out + 1] = g end\n"
    "      g.count = g.count + e.count; g.bytes = g.bytes + e.bytes\n"
    "    end\n"
    "    table.sort(out, function(a, b) if a.bytes ~= b.bytes then return a.bytes > b.bytes end return a[by] < b[by] end)\n"
    "    list = out\n"
    "  elseif by ~= nil then error(\"bad argument #2 to 'top' (by must be 'site' or 'type')\", 2) end\n"
    "  local out = {}\n"
    "  for i = 1, math.min(n or 10, #list) do out[i] = list[i] end\n"
    "  return out\n"
    "end\n"
    "-- The differences from an older snapshot, largest change first.\n"
    "function M:diff(old)\n"
    "  if getmetatable(old) ~= M then error(\"bad argument #1 to 'diff' (snapshot expected)\", 2) end\n"
    "  local function key(e) return e.site .. '\\0' .. e.type end\n"
    "  local before, out = {}, {}\n"
    "  for _, e in ipairs(old.entries) do before[key(e)] = e end\n"
    "  for _, e in ipairs(self.entries) do\n"
    "    local o = before[key(e)]\n"
    "    before[key(e)] = nil\n"
    "    out[#out + 1] = {site = e.site, type = e.type, bytes = e.bytes, count = e.count,\n"
    "                     bytes_diff = e.bytes - (o and o.bytes or 0), count_diff = e.count - (o and o.count or 0)}\n"
    "  end\n"
    "  for _, o in pairs(before) do\n"
    "    out[#out + 1] = {site = o.site, type = o.type, bytes = 0, count = 0,\n"
    "                     bytes_diff = -o.bytes, count_diff = -o.count}\n"
    "  end\n"
    "  table.sort(out, function(a, b)\n"
    "    local x, y = math.abs(a.bytes_diff), math.abs(b.bytes_diff)\n"
    "    if x ~= y then return x > y end\n"
    "    if a.site ~= b.site then return a.site < b.site end\n"
    "    return a.type < b.type end)\n"
    "  return out\n"
    "end\n"
    "function M:__tostring()\n"
    "  local lines = {string.format('snapshot: %d bytes in the native heap%s', self.total,\n"
    "                               self.incomplete and ' (incomplete)' or '')}\n"
    "  for i, e in ipairs(self:top(10)) do\n"
    "    lines[#lines + 1] = string.format('%12d B %8d  %-8s %s', e.bytes, e.count, e.type, e.site)\n"
    "  end\n"
    "  return table.concat(lines, '\\n')\n"
    "end\n"
    "return M\n";

void mw_lua_open_snapshot(lua_State *L, mw_lua_state *st)
{
    (void)st;
    if (luaL_loadbufferx(L, snapshot_lua, sizeof snapshot_lua - 1, "=(moonwatch snapshot)",
                         "t") != LUA_OK)
        lua_error(L);
    lua_call(L, 0, 1);
}
