/*
 * repl.c: the interactive prompt of the moonwatch command, when standard
 * input is a terminal.
 *
 * The C half: reading lines (libedit when the build found it, with
 * history in ~/.moonwatch_history and Tab bound to completion; plain
 * fgets otherwise), putting lines together into entries as lua.c does
 * (an expression is tried as "return <line>;" first, an incomplete
 * statement asks for more with ">>"), running them through the host's
 * docall (message handler, Ctrl-C hook) and Ctrl-C at the prompt. The Lua
 * half (src/cli/repl.lua, built in) prints values, shortens tracebacks,
 * finds completions and runs the ":" commands.
 *
 * Invariants: every entry and command runs through host->docall, so
 * Ctrl-C interrupts any of them and leaves the state usable; an error is
 * reported, never raised out of repl_run. The allocator observer of :time
 * is removed after every entry, whatever happened during it, so it never
 * outlives repl_run's frame. The C locale is switched to the user's only
 * while libedit reads a line: Lua's string library keeps its "C" ctype.
 */
#include "cli/repl.h"

#include <dirent.h>
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wchar.h>

#include <lauxlib.h>

#ifdef MW_HAVE_LIBEDIT
#include <histedit.h>
#endif

#include "cli/embedded.h"

#define REPL_PROMPT "> "
#define REPL_PROMPT2 ">> "
#define REPL_CHUNKNAME "=stdin"
/* The parser's message for a chunk cut short: more lines may complete it. */
#define REPL_EOFMARK "<eof>"
/* Longest line read at once without libedit (a longer one is taken in
 * pieces, each as a line, as lua.c does). */
#define REPL_MAXINPUT 4096
/* History: file name under $HOME, and how many entries it keeps. */
#define REPL_HISTORY_FILE ".moonwatch_history"
#define REPL_HISTORY_SIZE 1000
/* Directory entries offered for completing a file name: past this many a
 * huge directory is cut short rather than read whole at each Tab. */
#define REPL_MAX_FILES 4096
/* Width the completion list is laid out in. */
#define REPL_LIST_WIDTH 80

/* What reading an entry can give besides a load status (LUA_OK, ...). */
enum {
    REPL_EOF = -1,         /* Ctrl-D on an empty line, or end of input */
    REPL_INTERRUPTED = -2, /* Ctrl-C while reading: the entry is dropped */
    REPL_COMMAND = -3      /* a ":command" line, on the stack */
};

typedef struct repl {
    lua_State *L;
    const repl_host *host;
    int module_ref; /* registry reference to repl.lua's table */
    char prompt[128];
    /* :time's allocator observer: growing requests outside the pool. */
    int metering;
    size_t meter_bytes;
    lua_Integer meter_allocs;
#ifdef MW_HAVE_LIBEDIT
    EditLine *el;
    History *history;
    char *history_path; /* malloc'd, or NULL without $HOME */
    mbstate_t mbstate;  /* of the bytes repl_getc decodes */
#endif
} repl;

/*
 * Set by the SIGINT handler while a line is being read. A signal handler
 * gets only the signal number, so this flag is the module's one piece of
 * file-scope state; only one prompt reads the one terminal at a time.
 */
static volatile sig_atomic_t repl_sigint = 0;

static void repl_on_sigint(int sig)
{
    (void)sig;
    repl_sigint = 1;
}

/* Without SA_RESTART, so that a read in progress returns EINTR. */
static void repl_set_signal(void (*handler)(int))
{
    struct sigaction action;
    action.sa_handler = handler;
    action.sa_flags = 0;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
}

/* Pushes field `name` of repl.lua's table. */
static void repl_push_fn(repl *r, const char *name)
{
    lua_rawgeti(r->L, LUA_REGISTRYINDEX, r->module_ref);
    lua_getfield(r->L, -1, name);
    lua_remove(r->L, -2);
}

/* Copies the prompt (_PROMPT or _PROMPT2 by tostring, as lua.c, or the
 * default) into r->prompt. */
static void repl_set_prompt(repl *r, int firstline)
{
    lua_State *L = r->L;
    int top = lua_gettop(L);
    const char *text = firstline ? REPL_PROMPT : REPL_PROMPT2;
    if (lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2") != LUA_TNIL)
        text = luaL_tolstring(L, -1, NULL);
    snprintf(r->prompt, sizeof r->prompt, "%s", text);
    lua_settop(L, top);
}

/* {====================================================================
 * Line input
 * ===================================================================== */

#ifdef MW_HAVE_LIBEDIT

static char *repl_prompt_fn(EditLine *el)
{
    repl *r = NULL;
    el_get(el, EL_CLIENTDATA, &r);
    return r->prompt;
}

/* libedit's character reader, replaced so that Ctrl-C ends the read:
 * libedit's own retries a read interrupted by a signal. Decodes the
 * user's multibyte encoding; a byte that is not valid in it is taken
 * as is. Returns 1 with a character, 0 at end of input, -1 on error or
 * Ctrl-C. */
static int repl_getc(EditLine *el, wchar_t *wc)
{
    repl *r = NULL;
    el_get(el, EL_CLIENTDATA, &r);
    for (;;) {
        char byte;
        ssize_t n = read(STDIN_FILENO, &byte, 1);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR && !repl_sigint)
                continue;
            return -1;
        }
        size_t k = mbrtowc(wc, &byte, 1, &r->mbstate);
        if (k == (size_t)-2)
            continue; /* more bytes to come */
        if (k == (size_t)-1) {
            memset(&r->mbstate, 0, sizeof r->mbstate);
            *wc = (wchar_t)(unsigned char)byte;
        }
        return 1;
    }
}

/* Lays out candidates (a table on top of the stack) in columns. */
static void repl_list_candidates(lua_State *L, lua_Integer n)
{
    size_t width = 0;
    for (lua_Integer i = 1; i <= n; i++) {
        size_t len;
        lua_rawgeti(L, -1, i);
        lua_tolstring(L, -1, &len);
        if (len > width)
            width = len;
        lua_pop(L, 1);
    }
    width += 2;
    size_t columns = width < REPL_LIST_WIDTH ? REPL_LIST_WIDTH / width : 1;
    fputs("\n", stdout);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, -1, i);
        const char *name = lua_tostring(L, -1);
        int last_in_row = (size_t)i % columns == 0 || i == n;
        if (last_in_row)
            printf("%s\n", name);
        else
            printf("%-*s", (int)width, name);
        lua_pop(L, 1);
    }
    fflush(stdout);
}

/* Tab: completes the word before the cursor as far as every candidate
 * agrees, or lists the candidates when that adds nothing. */
static unsigned char repl_complete(EditLine *el, int ch)
{
    (void)ch;
    repl *r = NULL;
    el_get(el, EL_CLIENTDATA, &r);
    lua_State *L = r->L;
    int top = lua_gettop(L);
    const LineInfo *line = el_line(el);
    size_t typed = (size_t)(line->cursor - line->buffer);
    unsigned char result = CC_REFRESH_BEEP;

    repl_push_fn(r, "complete");
    lua_pushlstring(L, line->buffer, typed);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK || !lua_istable(L, -1)) {
        lua_settop(L, top);
        return CC_REFRESH_BEEP;
    }
    lua_Integer start = lua_tointeger(L, -2);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    size_t word_len = start >= 0 && (size_t)start <= typed ? typed - (size_t)start : 0;
    const char *word = line->buffer + typed - word_len;
    size_t common = 0;
    const char *first = NULL;
    for (lua_Integer i = 1; i <= n; i++) {
        size_t len;
        lua_rawgeti(L, -1, i);
        const char *cand = lua_tolstring(L, -1, &len);
        if (cand == NULL || len < word_len || memcmp(cand, word, word_len) != 0) {
            first = NULL; /* not an extension of what is typed */
            lua_pop(L, 1);
            break;
        }
        if (i == 1) {
            first = cand;
            common = len;
        } else {
            size_t k = word_len;
            while (k < common && k < len && cand[k] == first[k])
                k++;
            common = k;
        }
        lua_pop(L, 1); /* still referenced by the table */
    }
    if (n > 0 && first != NULL && common > word_len) {
        lua_pushlstring(L, first + word_len, common - word_len);
        result = el_insertstr(el, lua_tostring(L, -1)) == 0 ? CC_REFRESH : CC_ERROR;
        lua_pop(L, 1);
    } else if (n == 1) {
        result = CC_REFRESH;
    } else if (n > 1) {
        repl_list_candidates(L, n);
        result = CC_REDISPLAY;
    }
    lua_settop(L, top);
    return result;
}

static void repl_history_save(repl *r, const char *line)
{
    HistEvent ev;
    const char *p = line;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return;
    history(r->history, &ev, H_ENTER, line);
    if (r->history_path != NULL)
        history(r->history, &ev, H_SAVE, r->history_path);
}

static void repl_editor_open(repl *r)
{
    HistEvent ev;
    const char *home = getenv("HOME");
    r->history = history_init();
    if (r->history != NULL) {
        history(r->history, &ev, H_SETSIZE, REPL_HISTORY_SIZE);
        history(r->history, &ev, H_SETUNIQUE, 1);
        if (home != NULL && home[0] != '\0') {
            size_t len = strlen(home) + sizeof "/" REPL_HISTORY_FILE;
            r->history_path = malloc(len);
            if (r->history_path != NULL) {
                snprintf(r->history_path, len, "%s/%s", home, REPL_HISTORY_FILE);
                history(r->history, &ev, H_LOAD, r->history_path);
            }
        }
    }
    r->el = el_init("moonwatch", stdin, stdout, stderr);
    if (r->el == NULL)
        return;
    el_set(r->el, EL_CLIENTDATA, r);
    el_set(r->el, EL_EDITOR, "emacs");
    el_set(r->el, EL_PROMPT, repl_prompt_fn);
    el_set(r->el, EL_GETCFN, repl_getc);
    if (r->history != NULL)
        el_set(r->el, EL_HIST, history, r->history);
    /* The wide call keeps the static names; the narrow one would copy
     * them and never free the copies. */
    el_wset(r->el, EL_ADDFN, L"mw-complete", L"complete the word before the cursor",
            repl_complete);
    el_set(r->el, EL_BIND, "^I", "mw-complete", NULL);
    el_source(r->el, NULL); /* the user's ~/.editrc, if any */
}

static void repl_editor_close(repl *r)
{
    if (r->el != NULL)
        el_end(r->el);
    if (r->history != NULL)
        history_end(r->history);
    free(r->history_path);
    r->el = NULL;
    r->history = NULL;
    r->history_path = NULL;
}

/* Reads a line with libedit in the user's locale (for the display of
 * multibyte characters), restoring the "C" ctype Lua expects after. */
static const char *repl_editor_read(repl *r, int *count)
{
    const char *saved = setlocale(LC_CTYPE, NULL);
    char *restore = saved != NULL ? strdup(saved) : NULL;
    setlocale(LC_CTYPE, "");
    memset(&r->mbstate, 0, sizeof r->mbstate);
    const char *line = el_gets(r->el, count);
    if (restore != NULL) {
        setlocale(LC_CTYPE, restore);
        free(restore);
    }
    return line;
}

#endif /* MW_HAVE_LIBEDIT */

int repl_has_line_editing(void)
{
#ifdef MW_HAVE_LIBEDIT
    return 1;
#else
    return 0;
#endif
}

/* Reads a line with fgets, after the prompt: without libedit, or when
 * it could not start. Returns the line (in buffer) or NULL. */
static const char *repl_plain_read(repl *r, char *buffer, int size)
{
    fputs(r->prompt, stdout);
    fflush(stdout);
    const char *line = fgets(buffer, size, stdin);
    if (line == NULL)
        clearerr(stdin); /* an interrupted read is not the end */
    return line;
}

/* Prompts and reads a line; pushes it without its newline and returns
 * LUA_OK, or returns REPL_EOF or REPL_INTERRUPTED with nothing pushed. */
static int repl_getline(repl *r, int firstline)
{
    char buffer[REPL_MAXINPUT];
    const char *line = NULL;
    size_t len = 0;
    repl_set_prompt(r, firstline);
    repl_sigint = 0;
    repl_set_signal(repl_on_sigint);
#ifdef MW_HAVE_LIBEDIT
    if (r->el != NULL) {
        int count = 0;
        line = repl_editor_read(r, &count);
        len = line != NULL && count > 0 ? (size_t)count : 0;
    } else
#endif
    {
        line = repl_plain_read(r, buffer, (int)sizeof buffer);
        len = line != NULL ? strlen(line) : 0;
    }
    repl_set_signal(SIG_DFL);
    int interrupted = repl_sigint;
    repl_sigint = 0;
    if (interrupted) {
        fputs("\n", stdout);
        fflush(stdout);
        return REPL_INTERRUPTED;
    }
    if (line == NULL || len == 0)
        return REPL_EOF;
    if (line[len - 1] == '\n')
        len--;
    lua_pushlstring(r->L, line, len);
#ifdef MW_HAVE_LIBEDIT
    if (r->history != NULL)
        repl_history_save(r, lua_tostring(r->L, -1));
#endif
    return LUA_OK;
}

/* }==================================================================== */

/* {====================================================================
 * Entries
 * ===================================================================== */

static int repl_incomplete(lua_State *L, int status)
{
    size_t len;
    size_t mark_len = sizeof REPL_EOFMARK - 1;
    if (status != LUA_ERRSYNTAX)
        return 0;
    const char *msg = lua_tolstring(L, -1, &len);
    return len >= mark_len && strcmp(msg + len - mark_len, REPL_EOFMARK) == 0;
}

/* Reads one entry into an empty stack. Returns REPL_EOF, REPL_INTERRUPTED
 * (stack empty), REPL_COMMAND (the line on the stack) or the load status
 * with one value on the stack: the chunk or the error message. */
static int repl_read_entry(repl *r)
{
    lua_State *L = r->L;
    int status = repl_getline(r, 1);
    if (status != LUA_OK)
        return status;
    const char *line = lua_tostring(L, 1);
    const char *p = line + strspn(line, " \t");
    if (*p == ':')
        return REPL_COMMAND;
    if (line[0] == '=') { /* "=expr", as in Lua 5.2's interpreter */
        lua_pushfstring(L, "return %s", line + 1);
        lua_replace(L, 1);
    }
    /* An expression first, so that its value prints. */
    const char *retline = lua_pushfstring(L, "return %s;", lua_tostring(L, 1));
    if (luaL_loadbuffer(L, retline, strlen(retline), REPL_CHUNKNAME) == LUA_OK) {
        lua_remove(L, 1);
        lua_remove(L, 1);
        return LUA_OK;
    }
    lua_settop(L, 1);
    for (;;) {
        size_t len;
        const char *code = lua_tolstring(L, 1, &len);
        status = luaL_loadbuffer(L, code, len, REPL_CHUNKNAME);
        if (!repl_incomplete(L, status))
            break;
        int got = repl_getline(r, 0);
        if (got == REPL_INTERRUPTED) {
            lua_settop(L, 0);
            return REPL_INTERRUPTED;
        }
        if (got == REPL_EOF)
            break; /* the message of the incomplete chunk stays */
        lua_remove(L, -2);
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
    lua_remove(L, 1);
    return status;
}

/* Shortens the error message on top (repl.lua's error) and reports it. */
static void repl_report(repl *r, int status)
{
    lua_State *L = r->L;
    repl_push_fn(r, "error");
    lua_pushvalue(L, -2);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
        lua_remove(L, -2);
    else
        lua_pop(L, 1);
    r->host->report(L, r->host->ud, status);
}

/* Prints the values on the stack (all of it) with repl.lua's show. */
static void repl_print(repl *r)
{
    lua_State *L = r->L;
    int n = lua_gettop(L);
    if (n == 0)
        return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    repl_push_fn(r, "show");
    lua_insert(L, 1);
    int status = r->host->docall(L, n, 1);
    if (status != LUA_OK) {
        repl_report(r, status);
        return;
    }
    size_t len;
    const char *text = lua_tolstring(L, -1, &len);
    if (text != NULL) {
        fwrite(text, 1, len, stdout);
        fputs("\n", stdout);
    }
    fflush(stdout);
}

static void repl_observe(void *ud, mw_domain d, ptrdiff_t delta)
{
    repl *r = ud;
    if (delta > 0 && d != MW_DOMAIN_POOL) {
        r->meter_bytes += (size_t)delta;
        r->meter_allocs++;
    }
}

static void repl_meter_stop(repl *r)
{
    if (r->metering)
        mw_alloc_remove_observer(r->host->alloc, repl_observe, r);
    r->metering = 0;
}

/* C.meter(true): start counting the bytes allocated (false if it cannot:
 * no allocator, or two observers already). C.meter(false): stop; returns
 * the bytes and the growing requests, or nothing if it was not counting. */
static int repl_meter(lua_State *L)
{
    repl *r = lua_touserdata(L, lua_upvalueindex(1));
    if (lua_toboolean(L, 1)) {
        repl_meter_stop(r);
        r->meter_bytes = 0;
        r->meter_allocs = 0;
        r->metering = r->host->alloc != NULL &&
                      mw_alloc_add_observer(r->host->alloc, repl_observe, r) == MW_OK;
        lua_pushboolean(L, r->metering);
        return 1;
    }
    if (!r->metering)
        return 0;
    repl_meter_stop(r);
    lua_pushinteger(L, (lua_Integer)r->meter_bytes);
    lua_pushinteger(L, r->meter_allocs);
    return 2;
}

/* C.listdir(dir): {{name, isdir}, ...}, or nil if it cannot be read. */
static int repl_listdir(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    lua_newtable(L);
    lua_Integer n = 0;
    struct dirent *entry;
    while (n < REPL_MAX_FILES && (entry = readdir(d)) != NULL) {
        struct stat st;
        const char *path = lua_pushfstring(L, "%s/%s", dir, entry->d_name);
        int isdir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        lua_pop(L, 1);
        lua_createtable(L, 2, 0);
        lua_pushstring(L, entry->d_name);
        lua_rawseti(L, -2, 1);
        lua_pushboolean(L, isdir);
        lua_rawseti(L, -2, 2);
        lua_rawseti(L, -2, ++n);
    }
    closedir(d);
    return 1;
}

/* Runs repl.lua with its C helpers and keeps its table in the registry.
 * Returns 0 after reporting why it could not. */
static int repl_open_module(repl *r)
{
    lua_State *L = r->L;
    const mw_embedded *e = mw_cli_embedded;
    while (e->name != NULL && strcmp(e->name, "repl") != 0)
        e++;
    if (e->name == NULL) {
        lua_pushliteral(L, "the prompt's Lua part is not built in");
        r->host->report(L, r->host->ud, LUA_ERRRUN);
        return 0;
    }
    int status = luaL_loadbufferx(L, e->text, e->len, "=(moonwatch repl)", "t");
    if (status == LUA_OK) {
        lua_createtable(L, 0, 2);
        lua_pushcfunction(L, repl_listdir);
        lua_setfield(L, -2, "listdir");
        lua_pushlightuserdata(L, r);
        lua_pushcclosure(L, repl_meter, 1);
        lua_setfield(L, -2, "meter");
        status = r->host->docall(L, 1, 1);
    }
    if (status != LUA_OK) {
        r->host->report(L, r->host->ud, status);
        return 0;
    }
    r->module_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 1;
}

/* Runs the ":command" line on the stack. Returns 1 to leave the prompt. */
static int repl_command(repl *r)
{
    lua_State *L = r->L;
    repl_push_fn(r, "command");
    lua_insert(L, 1);
    int status = r->host->docall(L, 1, 1);
    if (status != LUA_OK) {
        repl_report(r, status);
        return 0;
    }
    fflush(stdout);
    return lua_toboolean(L, -1);
}

void repl_run(lua_State *L, const repl_host *host)
{
    repl r;
    memset(&r, 0, sizeof r);
    r.L = L;
    r.host = host;
    r.module_ref = LUA_NOREF;
    lua_settop(L, 0);
    if (!repl_open_module(&r))
        return;
#ifdef MW_HAVE_LIBEDIT
    repl_editor_open(&r);
#endif
    for (;;) {
        lua_settop(L, 0);
        int status = repl_read_entry(&r);
        if (status == REPL_EOF) {
            fputs("\n", stdout);
            break;
        }
        if (status == REPL_INTERRUPTED)
            continue;
        if (status == REPL_COMMAND) {
            int quit = repl_command(&r);
            repl_meter_stop(&r);
            if (quit)
                break;
            continue;
        }
        if (status == LUA_OK)
            status = host->docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK)
            repl_print(&r);
        else
            repl_report(&r, status);
        repl_meter_stop(&r);
    }
    fflush(stdout);
    lua_settop(L, 0);
#ifdef MW_HAVE_LIBEDIT
    repl_editor_close(&r);
#endif
    luaL_unref(L, LUA_REGISTRYINDEX, r.module_ref);
}

/* }==================================================================== */
