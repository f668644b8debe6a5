/*
 * match.c: string.find, match, gmatch and gsub with counted work (see
 * match.h).
 *
 * A backtracking matcher over the pattern as written, as Lua's: match()
 * walks the pattern item by item, recursing for the rest of the pattern
 * after a quantifier, a capture's end or an optional item, so a pattern's
 * recursion depth is bounded (MATCH_MAX_DEPTH, "pattern too complex") and
 * its time by the steps it charges. The pattern syntax and every error
 * message are Lua 5.4's: tests/lua/sandbox_match.lua compares the two
 * over a corpus of patterns and subjects.
 *
 * Lua strings end with a NUL after their length, which %f reads as the
 * character past the end; this file never reads further.
 */
#include "lua/match.h"

#include <ctype.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lua/limits.h"

/* How deep match() may recurse before "pattern too complex" (Lua's
 * MAXCCALLS for patterns). */
#define MATCH_MAX_DEPTH 200

/* Captures a pattern may have (Lua's LUA_MAXCAPTURES). */
#define MATCH_MAX_CAPTURES 32

/* Marks of a capture's len before it is closed, and of a position
 * capture "()". */
#define CAPTURE_OPEN (-1)
#define CAPTURE_POSITION (-2)

#define ESC '%'
#define SPECIALS "^$*+?.([%-"

typedef struct match_state {
    lua_State *L;
    const char *src;             /* the subject */
    const char *src_end;
    const char *pat_end;
    int depth_left;              /* recursion allowed from here */
    int level;                   /* captures opened */
    unsigned long steps;         /* not yet charged */
    struct {
        const char *init;
        ptrdiff_t len;           /* or CAPTURE_OPEN, CAPTURE_POSITION */
    } capture[MATCH_MAX_CAPTURES];
} match_state;

/* Counts n steps; every MW_LUA_MATCH_BATCH they go to the limits, which
 * may raise. */
static void match_step(match_state *ms, unsigned long n)
{
    ms->steps += n;
    if (ms->steps >= MW_LUA_MATCH_BATCH) {
        unsigned long steps = ms->steps;
        ms->steps = 0;
        mw_lua_limits_charge(ms->L, steps);
    }
}

static void match_init(match_state *ms, lua_State *L, const char *s, size_t len,
                       const char *p, size_t plen)
{
    ms->L = L;
    ms->src = s;
    ms->src_end = s + len;
    ms->pat_end = p + plen;
    ms->steps = 0;
}

/* Ready for a match attempt at a new position. */
static void match_reset(match_state *ms)
{
    ms->level = 0;
    ms->depth_left = MATCH_MAX_DEPTH;
}

/* string.sub's rule for a start position: 1-based, negative from the
 * end, clamped to 1. */
static size_t match_start(lua_Integer pos, size_t len)
{
    if (pos > 0)
        return (size_t)pos;
    if (pos == 0 || pos < -(lua_Integer)len)
        return 1;
    return len + (size_t)pos + 1;
}

/* {====================================================================
 * Single characters and classes
 * ===================================================================== */

/* Whether c is in class cl (the letter after '%'); an upper-case letter
 * is the complement, anything else stands for itself. */
static int match_class(int c, int cl)
{
    int in;
    switch (tolower(cl)) {
    case 'a': in = isalpha(c); break;
    case 'c': in = iscntrl(c); break;
    case 'd': in = isdigit(c); break;
    case 'g': in = isgraph(c); break;
    case 'l': in = islower(c); break;
    case 'p': in = ispunct(c); break;
    case 's': in = isspace(c); break;
    case 'u': in = isupper(c); break;
    case 'w': in = isalnum(c); break;
    case 'x': in = isxdigit(c); break;
    case 'z': in = c == 0; break; /* gone from the manual, kept by Lua */
    default: return cl == c;
    }
    if (isupper(cl))
        in = !in;
    return in != 0;
}

/* Whether c is in the set from '[' at p to its ']' at close. */
static int match_set(int c, const char *p, const char *close)
{
    int want = 1;
    p++;
    if (*p == '^') {
        want = 0;
        p++;
    }
    for (; p < close; p++) {
        if (*p == ESC) {
            p++;
            if (match_class(c, (unsigned char)*p))
                return want;
        } else if (p[1] == '-' && p + 2 < close) {
            if ((unsigned char)p[0] <= c && c <= (unsigned char)p[2])
                return want;
            p += 2;
        } else if ((unsigned char)*p == c) {
            return want;
        }
    }
    return !want;
}

/* The end of the single-character class starting at p. */
static const char *match_item_end(match_state *ms, const char *p)
{
    char c = *p++;
    if (c == ESC) {
        if (p >= ms->pat_end)
            luaL_error(ms->L, "malformed pattern (ends with '%%')");
        return p + 1;
    }
    if (c == '[') {
        if (*p == '^')
            p++;
        /* The first character is in the set even if it is ']'. */
        do {
            if (p >= ms->pat_end)
                luaL_error(ms->L, "malformed pattern (missing ']')");
            c = *p++;
            if (c == ESC && p < ms->pat_end)
                p++;
        } while (*p != ']');
        return p + 1;
    }
    return p;
}

/* Whether the character at s matches the class from p to end. */
static int match_one(match_state *ms, const char *s, const char *p, const char *end)
{
    if (s >= ms->src_end)
        return 0;
    int c = (unsigned char)*s;
    switch (*p) {
    case '.': return 1;
    case ESC: return match_class(c, (unsigned char)p[1]);
    case '[': return match_set(c, p, end - 1);
    default: return (unsigned char)*p == c;
    }
}

/* }==================================================================== */

/* {====================================================================
 * The matcher
 * ===================================================================== */

static const char *match_here(match_state *ms, const char *s, const char *p);

/* %bxy at s: the end of the balanced run, or NULL. */
static const char *match_balance(match_state *ms, const char *s, const char *p)
{
    if (p >= ms->pat_end - 1)
        luaL_error(ms->L, "malformed pattern (missing arguments to '%%b')");
    if (s >= ms->src_end || *s != *p)
        return NULL;
    char open = p[0], close = p[1];
    int depth = 1;
    while (++s < ms->src_end) {
        match_step(ms, 1);
        if (*s == close) {
            if (--depth == 0)
                return s + 1;
        } else if (*s == open) {
            depth++;
        }
    }
    return NULL;
}

/* The longest run of the item (p to end) from s, then the rest, giving
 * back one character at a time. */
static const char *match_greedy(match_state *ms, const char *s, const char *p,
                                const char *end)
{
    ptrdiff_t n = 0;
    while (match_one(ms, s + n, p, end)) {
        n++;
        match_step(ms, 1);
    }
    for (; n >= 0; n--) {
        const char *rest = match_here(ms, s + n, end + 1);
        if (rest != NULL)
            return rest;
    }
    return NULL;
}

/* The shortest run of the item that lets the rest match. */
static const char *match_lazy(match_state *ms, const char *s, const char *p,
                              const char *end)
{
    for (;;) {
        const char *rest = match_here(ms, s, end + 1);
        if (rest != NULL)
            return rest;
        if (!match_one(ms, s, p, end))
            return NULL;
        s++;
        match_step(ms, 1);
    }
}

static const char *match_open_capture(match_state *ms, const char *s, const char *p,
                                      ptrdiff_t what)
{
    if (ms->level >= MATCH_MAX_CAPTURES)
        luaL_error(ms->L, "too many captures");
    ms->capture[ms->level].init = s;
    ms->capture[ms->level].len = what;
    ms->level++;
    const char *res = match_here(ms, s, p);
    if (res == NULL)
        ms->level--;
    return res;
}

static const char *match_close_capture(match_state *ms, const char *s, const char *p)
{
    int l = ms->level - 1;
    while (l >= 0 && ms->capture[l].len != CAPTURE_OPEN)
        l--;
    if (l < 0)
        luaL_error(ms->L, "invalid pattern capture");
    ms->capture[l].len = s - ms->capture[l].init;
    const char *res = match_here(ms, s, p);
    if (res == NULL)
        ms->capture[l].len = CAPTURE_OPEN;
    return res;
}

/* %1 .. %9 at s: the end of the repeated capture, or NULL. */
static const char *match_backref(match_state *ms, const char *s, int digit)
{
    int l = digit - '1';
    if (l < 0 || l >= ms->level || ms->capture[l].len == CAPTURE_OPEN)
        luaL_error(ms->L, "invalid capture index %%%d", l + 1);
    size_t len = (size_t)ms->capture[l].len;
    match_step(ms, len / 64);
    if ((size_t)(ms->src_end - s) >= len && memcmp(ms->capture[l].init, s, len) == 0)
        return s + len;
    return NULL;
}

/* Matches pattern p at s: returns the end of the match, or NULL. */
static const char *match_here(match_state *ms, const char *s, const char *p)
{
    if (ms->depth_left-- == 0)
        luaL_error(ms->L, "pattern too complex");
    while (p != ms->pat_end) {
        match_step(ms, 1);
        const char *end;
        switch (*p) {
        case '(':
            s = p + 1 < ms->pat_end && p[1] == ')'
                    ? match_open_capture(ms, s, p + 2, CAPTURE_POSITION)
                    : match_open_capture(ms, s, p + 1, CAPTURE_OPEN);
            goto done;
        case ')':
            s = match_close_capture(ms, s, p + 1);
            goto done;
        case '$':
            if (p + 1 == ms->pat_end) {
                if (s != ms->src_end)
                    s = NULL;
                goto done;
            }
            goto single;
        case ESC:
            if (p + 1 >= ms->pat_end)
                goto single; /* reports the malformed pattern */
            switch (p[1]) {
            case 'b':
                s = match_balance(ms, s, p + 2);
                if (s == NULL)
                    goto done;
                p += 4;
                continue;
            case 'f': {
                p += 2;
                if (p >= ms->pat_end || *p != '[')
                    luaL_error(ms->L, "missing '[' after '%%f' in pattern");
                end = match_item_end(ms, p);
                int prev = s == ms->src ? '\0' : (unsigned char)s[-1];
                int cur = s < ms->src_end ? (unsigned char)*s : '\0';
                if (!match_set(prev, p, end - 1) && match_set(cur, p, end - 1)) {
                    p = end;
                    continue;
                }
                s = NULL;
                goto done;
            }
            case '0': case '1': case '2': case '3': case '4':
            case '5': case '6': case '7': case '8': case '9':
                s = match_backref(ms, s, (unsigned char)p[1]);
                if (s == NULL)
                    goto done;
                p += 2;
                continue;
            default:
                goto single;
            }
        default:
        single:
            end = match_item_end(ms, p);
            if (!match_one(ms, s, p, end)) {
                if (*end == '*' || *end == '?' || *end == '-') {
                    p = end + 1; /* the item may match nothing */
                    continue;
                }
                s = NULL;
                goto done;
            }
            switch (*end) {
            case '?': {
                const char *res = match_here(ms, s + 1, end + 1);
                if (res != NULL) {
                    s = res;
                    goto done;
                }
                p = end + 1;
                continue;
            }
            case '+':
                s = match_greedy(ms, s + 1, p, end);
                goto done;
            case '*':
                s = match_greedy(ms, s, p, end);
                goto done;
            case '-':
                s = match_lazy(ms, s, p, end);
                goto done;
            default:
                s++;
                p = end;
                continue;
            }
        }
    }
done:
    ms->depth_left++;
    return s;
}

/* }==================================================================== */

/* {====================================================================
 * Captures
 * ===================================================================== */

/* Pushes capture i (the whole match s..e when the pattern has none and
 * i is 0). */
static void match_push_capture(match_state *ms, int i, const char *s, const char *e)
{
    if (i >= ms->level) {
        if (i != 0)
            luaL_error(ms->L, "invalid capture index %%%d", i + 1);
        lua_pushlstring(ms->L, s, (size_t)(e - s));
        return;
    }
    ptrdiff_t len = ms->capture[i].len;
    if (len == CAPTURE_OPEN)
        luaL_error(ms->L, "unfinished capture");
    if (len == CAPTURE_POSITION)
        lua_pushinteger(ms->L, (ms->capture[i].init - ms->src) + 1);
    else
        lua_pushlstring(ms->L, ms->capture[i].init, (size_t)len);
}

/* Pushes every capture (or the whole match if there are none and s is
 * not NULL) and returns how many. */
static int match_push_captures(match_state *ms, const char *s, const char *e)
{
    int n = ms->level == 0 && s != NULL ? 1 : ms->level;
    luaL_checkstack(ms->L, n, "too many captures");
    for (int i = 0; i < n; i++)
        match_push_capture(ms, i, s, e);
    return n;
}

/* }==================================================================== */

/* {====================================================================
 * The library functions
 * ===================================================================== */

static int match_has_specials(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != '\0' && strchr(SPECIALS, p[i]) != NULL)
            return 1;
    return 0;
}

/* The first place of needle in hay, or NULL; each candidate costs a
 * step and a step per 64 bytes compared. */
static const char *match_plain(match_state *ms, const char *hay, size_t hay_len,
                               const char *needle, size_t len)
{
    if (len == 0)
        return hay;
    if (len > hay_len)
        return NULL;
    const char *last = hay + (hay_len - len);
    while (hay <= last) {
        const char *at = memchr(hay, needle[0], (size_t)(last - hay) + 1);
        if (at == NULL)
            return NULL;
        match_step(ms, 1 + len / 64);
        if (memcmp(at + 1, needle + 1, len - 1) == 0)
            return at;
        hay = at + 1;
    }
    return NULL;
}

/* string.find (find 1) and string.match (find 0). */
static int match_find_aux(lua_State *L, int find)
{
    size_t len, plen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *p = luaL_checklstring(L, 2, &plen);
    size_t init = match_start(luaL_optinteger(L, 3, 1), len) - 1;
    if (init > len) {
        luaL_pushfail(L);
        return 1;
    }
    match_state ms;
    if (find && (lua_toboolean(L, 4) || !match_has_specials(p, plen))) {
        match_init(&ms, L, s, len, p, plen);
        const char *at = match_plain(&ms, s + init, len - init, p, plen);
        if (at != NULL) {
            lua_pushinteger(L, (at - s) + 1);
            lua_pushinteger(L, (lua_Integer)((size_t)(at - s) + plen));
            return 2;
        }
    } else {
        int anchor = *p == '^';
        if (anchor) {
            p++;
            plen--;
        }
        match_init(&ms, L, s, len, p, plen);
        const char *at = s + init;
        do {
            match_reset(&ms);
            const char *e = match_here(&ms, at, p);
            if (e != NULL) {
                if (!find)
                    return match_push_captures(&ms, at, e);
                lua_pushinteger(L, (at - s) + 1);
                lua_pushinteger(L, e - s);
                return match_push_captures(&ms, NULL, NULL) + 2;
            }
        } while (at++ < ms.src_end && !anchor);
    }
    luaL_pushfail(L);
    return 1;
}

static int match_find(lua_State *L)
{
    return match_find_aux(L, 1);
}

static int match_match(lua_State *L)
{
    return match_find_aux(L, 0);
}

/* The iterator of gmatch: upvalues the subject, the pattern and this
 * state (a userdata). */
typedef struct match_iter {
    match_state ms;
    const char *at;              /* where the next attempt starts */
    const char *last;            /* the end of the last match, or NULL */
} match_iter;

static int match_gmatch_next(lua_State *L)
{
    match_iter *it = lua_touserdata(L, lua_upvalueindex(3));
    const char *p = lua_tostring(L, lua_upvalueindex(2));
    it->ms.L = L; /* the thread calling now, not the one that made it */
    for (const char *at = it->at; at <= it->ms.src_end; at++) {
        match_reset(&it->ms);
        const char *e = match_here(&it->ms, at, p);
        if (e != NULL && e != it->last) {
            it->at = it->last = e;
            return match_push_captures(&it->ms, at, e);
        }
    }
    it->at = it->ms.src_end + 1;
    return 0;
}

static int match_gmatch(lua_State *L)
{
    size_t len, plen;
    const char *s = luaL_checklstring(L, 1, &len);
    const char *p = luaL_checklstring(L, 2, &plen);
    size_t init = match_start(luaL_optinteger(L, 3, 1), len) - 1;
    lua_settop(L, 2);
    match_iter *it = lua_newuserdatauv(L, sizeof *it, 0);
    if (init > len)
        init = len + 1;
    match_init(&it->ms, L, s, len, p, plen);
    it->at = s + init;
    it->last = NULL;
    lua_pushcclosure(L, match_gmatch_next, 3);
    return 1;
}

/* Appends the replacement string (argument 3) for the match s..e, with
 * its %0 .. %9 and %%. */
static void match_add_string(match_state *ms, luaL_Buffer *b, const char *s, const char *e)
{
    lua_State *L = ms->L;
    size_t len;
    const char *r = lua_tolstring(L, 3, &len);
    const char *esc;
    while ((esc = memchr(r, ESC, len)) != NULL) {
        luaL_addlstring(b, r, (size_t)(esc - r));
        esc++; /* a '%' at the end is followed by the string's NUL */
        if (*esc == ESC) {
            luaL_addchar(b, ESC);
        } else if (*esc == '0') {
            luaL_addlstring(b, s, (size_t)(e - s));
        } else if (isdigit((unsigned char)*esc)) {
            match_push_capture(ms, *esc - '1', s, e);
            luaL_addvalue(b); /* a position capture too, as its digits */
        } else {
            luaL_error(L, "invalid use of '%c' in replacement string", ESC);
        }
        len -= (size_t)(esc + 1 - r);
        r = esc + 1;
    }
    luaL_addlstring(b, r, len);
}

/* Appends the replacement of the match s..e (repl of type kind at
 * argument 3); returns 0 when it kept the match as it was. */
static int match_add_value(match_state *ms, luaL_Buffer *b, const char *s, const char *e,
                           int kind)
{
    lua_State *L = ms->L;
    if (kind == LUA_TFUNCTION) {
        lua_pushvalue(L, 3);
        int n = match_push_captures(ms, s, e);
        lua_call(L, n, 1);
    } else if (kind == LUA_TTABLE) {
        match_push_capture(ms, 0, s, e);
        lua_gettable(L, 3);
    } else {
        match_add_string(ms, b, s, e);
        return 1;
    }
    if (!lua_toboolean(L, -1)) {
        lua_pop(L, 1);
        luaL_addlstring(b, s, (size_t)(e - s));
        return 0;
    }
    if (!lua_isstring(L, -1))
        return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1));
    luaL_addvalue(b);
    return 1;
}

static int match_gsub(lua_State *L)
{
    size_t len, plen;
    const char *src = luaL_checklstring(L, 1, &len);
    const char *p = luaL_checklstring(L, 2, &plen);
    int kind = lua_type(L, 3);
    lua_Integer max = luaL_optinteger(L, 4, (lua_Integer)len + 1);
    luaL_argexpected(L, kind == LUA_TNUMBER || kind == LUA_TSTRING || kind == LUA_TFUNCTION ||
                            kind == LUA_TTABLE,
                     3, "string/function/table");
    int anchor = *p == '^';
    if (anchor) {
        p++;
        plen--;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    match_state ms;
    match_init(&ms, L, src, len, p, plen);
    const char *last = NULL;
    lua_Integer n = 0;
    int changed = 0;
    while (n < max) {
        match_reset(&ms);
        const char *e = match_here(&ms, src, p);
        if (e != NULL && e != last) {
            n++;
            changed |= match_add_value(&ms, &b, src, e, kind);
            src = last = e;
        } else if (src < ms.src_end) {
            luaL_addchar(&b, *src++);
        } else {
            break;
        }
        if (anchor)
            break;
    }
    if (!changed) {
        lua_pushvalue(L, 1);
    } else {
        luaL_addlstring(&b, src, (size_t)(ms.src_end - src));
        luaL_pushresult(&b);
    }
    lua_pushinteger(L, n);
    return 2;
}

/* }==================================================================== */

void mw_lua_match_open(lua_State *L)
{
    static const luaL_Reg funcs[] = {
        {"find", match_find},
        {"match", match_match},
        {"gmatch", match_gmatch},
        {"gsub", match_gsub},
        {NULL, NULL}
    };
    luaL_setfuncs(L, funcs, 0);
}
