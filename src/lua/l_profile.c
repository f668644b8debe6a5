/*
 * l_profile.c: the line-by-line memory profiler (see l_profile.h).
 *
 * Two pieces cooperate. A Lua hook (line and return events) keeps
 * `cur`, the record of the line now running, up to date: a line event
 * enters the line and counts an occurrence; the return of a Lua function
 * re-enters the innermost Lua line left on the stack (the caller's), and so
 * does the return of a C function when the current line belongs to another
 * thread (a coroutine that yielded). The allocator's observer (core/alloc.h)
 * then charges each signed change of the figures to `cur` without asking
 * Lua anything: it may run in the middle of a stack reallocation, where
 * lua_getinfo would be unsafe. Changes made while no profiled line is
 * current (before the first line, after the profiled function returned)
 * go to the `outside` record, so the increments always add up to the
 * change of the totals.
 *
 * Invariants: everything here is allocated with the C library's malloc,
 * never with the accounting allocator, so the profile does not charge its
 * own bookkeeping to the lines it measures; no function here raises while
 * profiling (only mw_lua_mem_profile and mw_lua_profile_push do, outside
 * it); when memory runs out in the hook, the profile stops for good, marked
 * incomplete, with one Lua warning.
 */
#include "lua/l_profile.h"
#include "lua/limits.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "core/alloc.h"
#include "lua/state.h"
#include "lua/sandbox.h"

/* Heaps a profile reports apart: Lua's, and the native one (its objects
 * and the free part of its pool pages, which it also owns). */
enum { PROFILE_LUA = 0, PROFILE_NATIVE = 1, PROFILE_HEAPS = 2 };

/* A source is matched to its file record by the address of its string
 * (the hook's fast path), checked against this many leading bytes, since
 * a collected chunk's address can be reused by another. */
#define PROFILE_SOURCE_CHECK 64

typedef struct profile_line {
    int64_t increment[PROFILE_HEAPS]; /* net bytes charged, per heap */
    size_t mem[PROFILE_HEAPS];        /* live bytes after its last run */
    size_t peak;                      /* highest total while current */
    uint64_t allocs;                  /* growing requests charged */
    uint64_t occurrences;             /* line events */
} profile_line;

typedef struct profile_file {
    char *source;               /* copy of the chunk's source, NUL-ended */
    size_t srclen;
    char short_src[LUA_IDSIZE]; /* the name Lua shows in messages */
    profile_line *lines;        /* indexed by line number */
    int n_lines;                /* entries in lines */
    int first, last;            /* range of the lines that ran */
    char *text;                 /* the source text, read at stop */
    const char **text_lines;    /* into text, NUL-ended, 1-based */
    int n_text;
} profile_file;

struct mw_lua_profile {
    mw_alloc *alloc;
    profile_file **files; /* in order of first execution */
    int n_files, cap_files;
    const char *last_source; /* fast path of profile_file_of */
    profile_file *last_file;
    profile_line *cur;      /* NULL: outside profiled lines */
    lua_State *cur_thread;  /* thread whose line is cur */
    profile_line outside;
    size_t start[PROFILE_HEAPS], end[PROFILE_HEAPS];
    size_t peak;            /* highest total during the profile */
    int incomplete, stopped;
    lua_Hook saved_hook;
    int saved_mask, saved_count;
};

static void profile_observe(void *ud, mw_domain d, ptrdiff_t delta);

static void profile_figures(const mw_alloc *a, size_t out[PROFILE_HEAPS])
{
    out[PROFILE_LUA] = a->domain_bytes[MW_DOMAIN_LUA];
    out[PROFILE_NATIVE] = a->current - a->domain_bytes[MW_DOMAIN_LUA];
}

/* The profile observing a, or NULL. */
static mw_lua_profile *profile_running(const mw_alloc *a)
{
    for (int i = 0; i < a->n_observers; i++)
        if (a->observers[i] == profile_observe)
            return a->observer_uds[i];
    return NULL;
}

/* The profile running on L's allocator, or NULL. */
static mw_lua_profile *profile_of(lua_State *L)
{
    void *ud = NULL;
    if (lua_getallocf(L, &ud) != mw_alloc_lua)
        return NULL;
    return profile_running(ud);
}

static void profile_observe(void *ud, mw_domain d, ptrdiff_t delta)
{
    mw_lua_profile *p = ud;
    profile_line *line = p->cur != NULL ? p->cur : &p->outside;
    line->increment[d == MW_DOMAIN_LUA ? PROFILE_LUA : PROFILE_NATIVE] += delta;
    if (delta >= 0)
        line->allocs++;
    size_t total = p->alloc->current;
    if (total > line->peak)
        line->peak = total;
    if (total > p->peak)
        p->peak = total;
}

/* Out of memory for the bookkeeping: stop measuring, keep what was
 * measured, say so once. The hooks left on other threads remove
 * themselves (profile_of no longer finds the profile). */
static void profile_fail(mw_lua_profile *p, lua_State *L)
{
    if (p->cur != NULL)
        profile_figures(p->alloc, p->cur->mem);
    p->cur = NULL;
    p->incomplete = 1;
    profile_figures(p->alloc, p->end);
    mw_alloc_remove_observer(p->alloc, profile_observe, p);
    lua_sethook(L, NULL, 0, 0);
    lua_warning(L, "moonwatch: the memory profiler ran out of memory; "
                   "the profile stops here", 0);
}

/* The record of the chunk whose source ar describes, created on first use;
 * NULL when memory runs out. */
static profile_file *profile_file_of(mw_lua_profile *p, const lua_Debug *ar)
{
    size_t check = ar->srclen < PROFILE_SOURCE_CHECK ? ar->srclen : PROFILE_SOURCE_CHECK;
    if (ar->source == p->last_source && p->last_file->srclen == ar->srclen
        && memcmp(p->last_file->source, ar->source, check) == 0)
        return p->last_file;
    profile_file *f = NULL;
    for (int i = 0; i < p->n_files; i++) {
        profile_file *g = p->files[i];
        if (g->srclen == ar->srclen && memcmp(g->source, ar->source, ar->srclen) == 0) {
            f = g;
            break;
        }
    }
    if (f == NULL) {
        if (p->n_files == p->cap_files) {
            int cap = p->cap_files == 0 ? 8 : 2 * p->cap_files;
            profile_file **files = realloc(p->files, (size_t)cap * sizeof *files);
            if (files == NULL)
                return NULL;
            p->files = files;
            p->cap_files = cap;
        }
        f = calloc(1, sizeof *f);
        if (f == NULL)
            return NULL;
        f->source = malloc(ar->srclen + 1);
        if (f->source == NULL) {
            free(f);
            return NULL;
        }
        memcpy(f->source, ar->source, ar->srclen);
        f->source[ar->srclen] = '\0';
        f->srclen = ar->srclen;
        memcpy(f->short_src, ar->short_src, sizeof f->short_src);
        f->first = 0;
        f->last = 0;
        p->files[p->n_files++] = f;
    }
    p->last_source = ar->source;
    p->last_file = f;
    return f;
}

/* The record of line `line` of f, created on first use if `create`;
 * NULL when it does not exist or memory runs out. */
static profile_line *profile_line_of(profile_file *f, int line, int create)
{
    if (line >= f->n_lines) {
        if (!create)
            return NULL;
        int n = f->n_lines == 0 ? 64 : f->n_lines;
        while (n <= line)
            n *= 2;
        profile_line *lines = realloc(f->lines, (size_t)n * sizeof *lines);
        if (lines == NULL)
            return NULL;
        memset(lines + f->n_lines, 0, (size_t)(n - f->n_lines) * sizeof *lines);
        f->lines = lines;
        f->n_lines = n;
    }
    if (f->first == 0 || line < f->first)
        f->first = line;
    if (line > f->last)
        f->last = line;
    return &f->lines[line];
}

/* Makes `line` (NULL: outside) the current line of thread L. */
static void profile_enter(mw_lua_profile *p, lua_State *L, profile_line *line)
{
    if (p->cur != NULL)
        profile_figures(p->alloc, p->cur->mem);
    p->cur = line;
    p->cur_thread = L;
    if (line != NULL && p->alloc->current > line->peak)
        line->peak = p->alloc->current;
}

/* After a return: the innermost Lua line on L's stack becomes current
 * again, if it ran inside the profile (a line that never did, such as
 * the one calling mw.mem.profile, is outside it). */
static void profile_resume(mw_lua_profile *p, lua_State *L)
{
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline < 0)
            continue;
        profile_file *f = profile_file_of(p, &ar);
        if (f == NULL) {
            profile_fail(p, L);
            return;
        }
        profile_line *line = ar.currentline < f->n_lines ? &f->lines[ar.currentline] : NULL;
        profile_enter(p, L, line != NULL && line->occurrences > 0 ? line : NULL);
        return;
    }
    profile_enter(p, L, NULL);
}

static void profile_hook(lua_State *L, lua_Debug *ar)
{
    mw_lua_profile *p = profile_of(L);
    if (p == NULL) {
        /* a coroutine of a finished profile: the limits' hook back, if
         * a run has them armed, else none */
        mw_lua_limits_rehook(L);
        return;
    }
    if (ar->event == LUA_HOOKCOUNT) {
        /* the count hook found when the profile started (the limits of
         * lua/limits.c): it keeps running under the profile */
        if (p->saved_hook != NULL)
            p->saved_hook(L, ar);
        return;
    }
    if (ar->event == LUA_HOOKLINE) {
        if (ar->currentline < 1 || !lua_getinfo(L, "S", ar))
            return; /* no line information (stripped bytecode) */
        profile_file *f = profile_file_of(p, ar);
        profile_line *line = f != NULL ? profile_line_of(f, ar->currentline, 1) : NULL;
        if (line == NULL) {
            profile_fail(p, L);
            return;
        }
        profile_enter(p, L, line);
        line->occurrences++;
    } else if (ar->event == LUA_HOOKRET) {
        /* A C function runs no line of its own: the current line is still
         * its caller's, unless it resumed a coroutine that ran lines. Most
         * returns are of C functions (every s[i] is one), so tell them
         * apart with "f" (push the function), not "S", which formats the
         * source's short name each time. */
        if (!lua_getinfo(L, "f", ar))
            return;
        int is_c = lua_iscfunction(L, -1);
        lua_pop(L, 1);
        if (is_c && p->cur_thread == L)
            return;
        profile_resume(p, L);
    }
}

int mw_lua_profile_format_of(const char *name)
{
    static const char *const names[] = {"table", "csv", "json"};
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

mw_lua_profile *mw_lua_profile_start(lua_State *L, const char **why)
{
    void *ud = NULL;
    if (lua_getallocf(L, &ud) != mw_alloc_lua) {
        *why = "the memory profiler needs a Lua state on moonwatch's allocator "
               "(lua_newstate(mw_alloc_lua, ...), as the moonwatch command makes)";
        return NULL;
    }
    mw_alloc *a = ud;
    if (profile_running(a) != NULL) {
        *why = "a memory profile is already running";
        return NULL;
    }
    mw_lua_profile *p = calloc(1, sizeof *p);
    if (p == NULL) {
        *why = "not enough memory";
        return NULL;
    }
    p->alloc = a;
    profile_figures(a, p->start);
    p->peak = a->current;
    p->outside.peak = a->current;
    p->saved_hook = lua_gethook(L);
    p->saved_mask = lua_gethookmask(L);
    p->saved_count = lua_gethookcount(L);
    if (mw_alloc_add_observer(a, profile_observe, p) != 0) {
        free(p);
        *why = "too many memory observers at once";
        return NULL;
    }
    /* A count hook already there (instruction and time limits) goes on
     * being called, through profile_hook. */
    int counting = p->saved_hook != NULL && (p->saved_mask & LUA_MASKCOUNT) != 0;
    lua_sethook(L, profile_hook, LUA_MASKLINE | LUA_MASKRET | (counting ? LUA_MASKCOUNT : 0),
                counting ? p->saved_count : 0);
    return p;
}

/* Reads the text of f's chunk: the file of an "@name" source, the source
 * itself for a chunk loaded from a string. Leaves no text on failure. */
static void profile_read_text(profile_file *f)
{
    size_t len = 0;
    char *text = NULL;
    if (f->source[0] == '@') {
        FILE *in = fopen(f->source + 1, "rb");
        if (in == NULL)
            return;
        size_t cap = 0;
        for (;;) {
            if (len == cap) {
                size_t new_cap = cap == 0 ? 4096 : 2 * cap;
                char *grown = realloc(text, new_cap + 1);
                if (grown == NULL) {
                    free(text);
                    fclose(in);
                    return;
                }
                text = grown;
                cap = new_cap;
            }
            size_t got = fread(text + len, 1, cap - len, in);
            len += got;
            if (got == 0)
                break;
        }
        fclose(in);
    } else if (f->source[0] != '=') {
        len = f->srclen;
        text = malloc(len + 1);
        if (text == NULL)
            return;
        memcpy(text, f->source, len);
    } else {
        return;
    }
    text[len] = '\0';
    int n = 1;
    for (size_t i = 0; i < len; i++)
        n += text[i] == '\n';
    const char **lines = malloc((size_t)(n + 1) * sizeof *lines);
    if (lines == NULL) {
        free(text);
        return;
    }
    int k = 1;
    lines[0] = "";
    lines[1] = text;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            text[i] = '\0';
            if (i > 0 && text[i - 1] == '\r')
                text[i - 1] = '\0';
            lines[++k] = text + i + 1;
        }
    }
    f->text = text;
    f->text_lines = lines;
    f->n_text = k;
}

void mw_lua_profile_stop(mw_lua_profile *p, lua_State *L)
{
    if (p->stopped)
        return;
    p->stopped = 1;
    if (!p->incomplete) {
        if (p->cur != NULL)
            profile_figures(p->alloc, p->cur->mem);
        p->cur = NULL;
        profile_figures(p->alloc, p->end);
        mw_alloc_remove_observer(p->alloc, profile_observe, p);
    }
    lua_sethook(L, p->saved_hook, p->saved_mask, p->saved_count);
    for (int i = 0; i < p->n_files; i++)
        profile_read_text(p->files[i]);
}

int mw_lua_profile_incomplete(const mw_lua_profile *p)
{
    return p->incomplete;
}

void mw_lua_profile_free(mw_lua_profile *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->n_files; i++) {
        profile_file *f = p->files[i];
        free(f->source);
        free(f->lines);
        free(f->text);
        free((void *)f->text_lines);
        free(f);
    }
    free(p->files);
    free(p);
}

/* {====================================================================
 * Reports
 * ===================================================================== */

/* The text of line n of f, or "" when unknown. */
static const char *profile_text(const profile_file *f, int n)
{
    return f->text_lines != NULL && n >= 1 && n <= f->n_text ? f->text_lines[n] : "";
}

/* The name of f for people: the file name of an "@name" source, else
 * what Lua shows in messages. */
static const char *profile_name(const profile_file *f)
{
    return f->source[0] == '@' || f->source[0] == '=' ? f->source + 1 : f->short_src;
}

/* 1 if a line of f ran (a file can be known only as a caller's). */
static int profile_has_lines(const profile_file *f)
{
    return f->lines != NULL && f->first > 0;
}

static int64_t profile_sum(const int64_t v[PROFILE_HEAPS])
{
    return v[PROFILE_LUA] + v[PROFILE_NATIVE];
}

/* Writes n bytes with a binary unit (mw_lua_format_bytes), signed (+/-)
 * if `sign`. */
static void profile_put_bytes(FILE *out, int width, int64_t n, int sign)
{
    char mag[32], buf[40];
    mw_lua_format_bytes(mag, sizeof mag, n < 0 ? (size_t)-n : (size_t)n);
    snprintf(buf, sizeof buf, "%s%s", n < 0 ? "-" : sign ? "+" : "", mag);
    fprintf(out, "%*s", width, buf);
}

static void profile_write_table(const mw_lua_profile *p, FILE *out)
{
    int64_t start = (int64_t)(p->start[0] + p->start[1]);
    int64_t end = (int64_t)(p->end[0] + p->end[1]);
    fputs("moonwatch memory profile: total ", out);
    profile_put_bytes(out, 0, end - start, 1);
    fputs(" (Lua ", out);
    profile_put_bytes(out, 0, (int64_t)p->end[0] - (int64_t)p->start[0], 1);
    fputs(", native ", out);
    profile_put_bytes(out, 0, (int64_t)p->end[1] - (int64_t)p->start[1], 1);
    fputs("), from ", out);
    profile_put_bytes(out, 0, start, 0);
    fputs(" to ", out);
    profile_put_bytes(out, 0, end, 0);
    fputs(", peak ", out);
    profile_put_bytes(out, 0, (int64_t)p->peak, 0);
    fputs("\noutside profiled lines: ", out);
    profile_put_bytes(out, 0, profile_sum(p->outside.increment), 1);
    fprintf(out, " in %llu allocations\n", (unsigned long long)p->outside.allocs);
    if (p->incomplete)
        fputs("incomplete: the profiler ran out of memory\n", out);
    for (int i = 0; i < p->n_files; i++) {
        const profile_file *f = p->files[i];
        if (!profile_has_lines(f))
            continue;
        fprintf(out, "\nFile: %s\n\n", profile_name(f));
        fprintf(out, "%6s %11s %11s %11s %11s %11s %8s %11s  %s\n", "Line",
                "Mem usage", "Increment", "Lua", "Native", "Peak", "Allocs",
                "Occurrences", "Line contents");
        fputs("================================================================"
              "==========================================\n", out);
        for (int n = f->first; n <= f->last; n++) {
            const profile_line *l = &f->lines[n];
            if (l->occurrences == 0) {
                fprintf(out, "%6d %11s %11s %11s %11s %11s %8s %11s  %s\n", n, "",
                        "", "", "", "", "", "", profile_text(f, n));
                continue;
            }
            fprintf(out, "%6d ", n);
            profile_put_bytes(out, 11, (int64_t)(l->mem[0] + l->mem[1]), 0);
            fputc(' ', out);
            profile_put_bytes(out, 11, profile_sum(l->increment), 1);
            fputc(' ', out);
            profile_put_bytes(out, 11, l->increment[PROFILE_LUA], 1);
            fputc(' ', out);
            profile_put_bytes(out, 11, l->increment[PROFILE_NATIVE], 1);
            fputc(' ', out);
            profile_put_bytes(out, 11, (int64_t)l->peak, 0);
            fprintf(out, " %8llu %11llu  %s\n", (unsigned long long)l->allocs,
                    (unsigned long long)l->occurrences, profile_text(f, n));
        }
    }
}

/* Writes s as a CSV field: always quoted, quotes doubled. */
static void profile_put_csv(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != '\0'; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
}

static void profile_csv_row(FILE *out, const char *file, int n, const profile_line *l,
                            const char *text)
{
    profile_put_csv(out, file);
    fprintf(out, ",%d,%llu,%llu,%llu,%lld,%lld,%lld,%llu,%llu,%llu,", n,
            (unsigned long long)(l->mem[0] + l->mem[1]), (unsigned long long)l->mem[0],
            (unsigned long long)l->mem[1], (long long)profile_sum(l->increment),
            (long long)l->increment[0], (long long)l->increment[1],
            (unsigned long long)l->peak, (unsigned long long)l->allocs,
            (unsigned long long)l->occurrences);
    profile_put_csv(out, text);
    fputs("\r\n", out);
}

static void profile_write_csv(const mw_lua_profile *p, FILE *out)
{
    fputs("file,line,mem_usage,mem_lua,mem_native,increment,increment_lua,"
          "increment_native,peak,allocs,occurrences,contents\r\n", out);
    profile_line outside = p->outside;
    memcpy(outside.mem, p->end, sizeof outside.mem);
    profile_csv_row(out, "", 0, &outside, "(outside profiled lines)");
    for (int i = 0; i < p->n_files; i++) {
        const profile_file *f = p->files[i];
        if (!profile_has_lines(f))
            continue;
        for (int n = f->first; n <= f->last; n++)
            if (f->lines[n].occurrences > 0)
                profile_csv_row(out, profile_name(f), n, &f->lines[n], profile_text(f, n));
    }
}

/* Writes s as a JSON string; bytes from 0x80 pass through (UTF-8). */
static void profile_put_json(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void profile_json_heaps(FILE *out, const char *key, const size_t v[PROFILE_HEAPS])
{
    fprintf(out, "\"%s\":{\"total\":%llu,\"lua\":%llu,\"native\":%llu}", key,
            (unsigned long long)(v[0] + v[1]), (unsigned long long)v[0],
            (unsigned long long)v[1]);
}

static void profile_json_line(FILE *out, const profile_line *l)
{
    fprintf(out, "\"mem_usage\":%llu,\"mem_lua\":%llu,\"mem_native\":%llu,"
                 "\"increment\":%lld,\"increment_lua\":%lld,\"increment_native\":%lld,"
                 "\"peak\":%llu,\"allocs\":%llu,\"occurrences\":%llu",
            (unsigned long long)(l->mem[0] + l->mem[1]), (unsigned long long)l->mem[0],
            (unsigned long long)l->mem[1], (long long)profile_sum(l->increment),
            (long long)l->increment[0], (long long)l->increment[1],
            (unsigned long long)l->peak, (unsigned long long)l->allocs,
            (unsigned long long)l->occurrences);
}

static void profile_write_json(const mw_lua_profile *p, FILE *out)
{
    fprintf(out, "{\"incomplete\":%s,", p->incomplete ? "true" : "false");
    profile_json_heaps(out, "start", p->start);
    fputc(',', out);
    profile_json_heaps(out, "end", p->end);
    fprintf(out, ",\"peak\":%llu,\"outside\":{", (unsigned long long)p->peak);
    profile_line outside = p->outside;
    memcpy(outside.mem, p->end, sizeof outside.mem);
    profile_json_line(out, &outside);
    fputs("},\"files\":[", out);
    int first_file = 1;
    for (int i = 0; i < p->n_files; i++) {
        const profile_file *f = p->files[i];
        if (!profile_has_lines(f))
            continue;
        fputs(!first_file ? ",\n{\"name\":" : "\n{\"name\":", out);
        profile_put_json(out, profile_name(f));
        first_file = 0;
        fputs(",\"lines\":[", out);
        int first = 1;
        for (int n = f->first; n <= f->last; n++) {
            const profile_line *l = &f->lines[n];
            if (l->occurrences == 0)
                continue;
            fprintf(out, "%s\n {\"line\":%d,", first ? "" : ",", n);
            first = 0;
            profile_json_line(out, l);
            fputs(",\"contents\":", out);
            profile_put_json(out, profile_text(f, n));
            fputc('}', out);
        }
        fputs("]}", out);
    }
    fputs("]}\n", out);
}

int mw_lua_profile_write(const mw_lua_profile *p, FILE *out, mw_lua_profile_format format)
{
    if (format == MW_LUA_PROFILE_CSV)
        profile_write_csv(p, out);
    else if (format == MW_LUA_PROFILE_JSON)
        profile_write_json(p, out);
    else
        profile_write_table(p, out);
    return fflush(out) == 0 && !ferror(out);
}

static void profile_setint(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void profile_push_heaps(lua_State *L, const size_t v[PROFILE_HEAPS])
{
    lua_createtable(L, 0, 3);
    profile_setint(L, "total", (lua_Integer)(v[0] + v[1]));
    profile_setint(L, "lua", (lua_Integer)v[0]);
    profile_setint(L, "native", (lua_Integer)v[1]);
}

static void profile_push_line(lua_State *L, const profile_line *l)
{
    lua_createtable(L, 0, 12);
    profile_setint(L, "mem_usage", (lua_Integer)(l->mem[0] + l->mem[1]));
    profile_setint(L, "mem_lua", (lua_Integer)l->mem[0]);
    profile_setint(L, "mem_native", (lua_Integer)l->mem[1]);
    profile_setint(L, "increment", (lua_Integer)profile_sum(l->increment));
    profile_setint(L, "increment_lua", (lua_Integer)l->increment[0]);
    profile_setint(L, "increment_native", (lua_Integer)l->increment[1]);
    profile_setint(L, "peak", (lua_Integer)l->peak);
    profile_setint(L, "allocs", (lua_Integer)l->allocs);
    profile_setint(L, "occurrences", (lua_Integer)l->occurrences);
}

void mw_lua_profile_push(lua_State *L, const mw_lua_profile *p)
{
    lua_createtable(L, 0, 6);
    lua_pushboolean(L, p->incomplete);
    lua_setfield(L, -2, "incomplete");
    profile_push_heaps(L, p->start);
    lua_setfield(L, -2, "start");
    profile_push_heaps(L, p->end);
    lua_setfield(L, -2, "end");
    profile_setint(L, "peak", (lua_Integer)p->peak);
    profile_line outside = p->outside;
    memcpy(outside.mem, p->end, sizeof outside.mem);
    profile_push_line(L, &outside);
    lua_setfield(L, -2, "outside");
    lua_createtable(L, p->n_files, 0);
    lua_Integer n_files = 0;
    for (int i = 0; i < p->n_files; i++) {
        const profile_file *f = p->files[i];
        if (!profile_has_lines(f))
            continue;
        lua_createtable(L, 0, 2);
        lua_pushstring(L, profile_name(f));
        lua_setfield(L, -2, "name");
        lua_newtable(L);
        lua_Integer k = 0;
        for (int n = f->first; n <= f->last; n++) {
            const profile_line *l = &f->lines[n];
            if (l->occurrences == 0)
                continue;
            profile_push_line(L, l);
            profile_setint(L, "line", n);
            lua_pushstring(L, profile_text(f, n));
            lua_setfield(L, -2, "contents");
            lua_rawseti(L, -2, ++k);
        }
        lua_setfield(L, -2, "lines");
        lua_rawseti(L, -2, ++n_files);
    }
    lua_setfield(L, -2, "files");
}

/* }==================================================================== */

/* {====================================================================
 * mw.mem.profile
 * ===================================================================== */

#define PROFILE_BOX "moonwatch.profile"

/* The box holds the profile while Lua code runs, so that an error (or an
 * out-of-memory while pushing the result) cannot leak it. */
static int profile_box_gc(lua_State *L)
{
    mw_lua_profile **box = lua_touserdata(L, 1);
    if (*box != NULL) {
        mw_lua_profile_stop(*box, L);
        mw_lua_profile_free(*box);
        *box = NULL;
    }
    return 0;
}

/* mw.mem.profile(fn [, opts]): runs fn() under the profiler and returns
 * the profile table followed by fn's results. opts: format ("table",
 * "csv", "json"), file (a path; default standard output), quiet (write
 * nothing). If fn raises, the report is written and the error re-raised. */
int mw_lua_mem_profile(lua_State *L)
{
    (void)mw_lua_upstate(L);
    luaL_checktype(L, 1, LUA_TFUNCTION);
    int format = MW_LUA_PROFILE_TABLE;
    const char *path = NULL;
    int quiet = 0;
    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        if (lua_getfield(L, 2, "format") != LUA_TNIL) {
            const char *name = lua_tostring(L, -1);
            format = name != NULL ? mw_lua_profile_format_of(name) : -1;
            if (format < 0)
                return luaL_argerror(L, 2, "format must be \"table\", \"csv\" or \"json\"");
        }
        if (lua_getfield(L, 2, "file") != LUA_TNIL) {
            path = lua_tostring(L, -1);
            if (path == NULL)
                return luaL_argerror(L, 2, "file must be a string");
        }
        lua_getfield(L, 2, "quiet");
        quiet = lua_toboolean(L, -1);
        lua_settop(L, 2);
        if (path != NULL) {
            lua_getfield(L, 2, "file"); /* anchors path at index 3 */
            path = lua_tostring(L, 3);
        }
    }
    lua_settop(L, 3);
    if (path != NULL)
        mw_lua_sandbox_writable(L, path);
    mw_lua_profile **box = lua_newuserdatauv(L, sizeof *box, 0); /* 4 */
    *box = NULL;
    if (luaL_newmetatable(L, PROFILE_BOX)) {
        lua_pushcfunction(L, profile_box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    lua_pushvalue(L, 1);
    const char *why = NULL;
    *box = mw_lua_profile_start(L, &why);
    if (*box == NULL)
        return luaL_error(L, "%s", why);
    int status = lua_pcall(L, 0, LUA_MULTRET, 0);
    mw_lua_profile_stop(*box, L);
    if (!quiet) {
        FILE *out = path != NULL ? fopen(path, "w") : stdout;
        if (out == NULL)
            return luaL_error(L, "cannot open '%s' for the memory profile", path);
        int ok = mw_lua_profile_write(*box, out, (mw_lua_profile_format)format);
        if (path != NULL && fclose(out) != 0)
            ok = 0;
        if (!ok)
            return luaL_error(L, "cannot write the memory profile");
    }
    if (status != LUA_OK)
        return lua_error(L);
    int n_results = lua_gettop(L) - 4;
    mw_lua_profile_push(L, *box);
    lua_insert(L, 5);
    mw_lua_profile_free(*box);
    *box = NULL;
    return n_results + 1;
}

/* }==================================================================== */
