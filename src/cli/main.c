/*
 * main.c: the `moonwatch` command, a stand-alone Lua 5.4 interpreter with
 * the moonwatch module preloaded.
 *
 * For plain Lua it behaves like the reference `lua` command (lua.c of Lua
 * 5.4.6): the same options (-e -l -i -v -E -W -- -), the same `arg` table
 * and script arguments, LUA_INIT_5_4 / LUA_INIT, the same messages, usage
 * text and exit statuses, and the same SIGINT handling. tests/cli/compat.lua
 * checks this against the system's lua5.4 binary, so any change in what this
 * file prints must keep that test passing.
 *
 * Where it differs from lua.c, on purpose:
 *   - the state runs on moonwatch's accounting allocator (core/alloc.h), so
 *     it installs the panic and warning functions luaL_newstate would have;
 *   - package.preload.moonwatch is luaopen_moonwatch and the global `mw` is
 *     require("moonwatch"), set up before LUA_INIT runs, even with -E;
 *   - the version line names moonwatch before the Lua release;
 *   - its own long options: --max-mem, --max-time, --max-instructions,
 *     --max-coroutines (lua/limits.h, armed on every chunk run), and
 *     --sandbox with --allow-read (lua/sandbox.h): then every chunk of
 *     the run (LUA_INIT, -e, -l, the script) is text only and shares one
 *     script environment over the frozen globals, and the prompt and the
 *     built-in commands are refused.
 *   With none of those options given, nothing of the limits or the
 *   sandbox is set up, and the command stays lua's.
 * Where 5.4.6 differs from older 5.4 releases (the "-l mod-suffix" global
 * name, the REPL's message at end of input inside a statement), it follows
 * 5.4.6 whatever Lua it is linked with.
 *
 * Invariants: every chunk runs through cli_docall (message handler for the
 * traceback, SIGINT hook armed only while Lua code runs); all of it runs
 * inside cli_pmain under lua_pcall, so an error outside a chunk (out of
 * memory, a bad `arg`) is still reported, and the traceback ends in the
 * same "[C]: in ?" frame as lua.c's. The state is closed before exit.
 *
 * It must never write to argv (lua.c does, for -l); the `arg` table and the
 * strings given to -l stay as the user typed them.
 *
 * The read-eval-print loop for piped input is the plain one of lua.c built
 * without readline (the cli_repl_* functions); a terminal gets the
 * interactive prompt of repl.c (line editing, completion, pretty printing,
 * :commands), given cli_docall and cli_report to run and report with.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* sigaction, isatty */
#endif

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cli/embedded.h"
#include "cli/repl.h"
#include "core/alloc.h"
#include "iter/parse.h"
#include "lua/state.h"
#include "lua/l_profile.h"
#include "lua/l_timeline.h"
#include "lua/limits.h"
#include "lua/sandbox.h"
#include "moonwatch.h"

/* Name used in messages when the system gives no argv[0]. */
#define CLI_PROGNAME "moonwatch"

/* Environment variables read at start-up, the versioned one first, as
 * lua.c does: "LUA_INIT_5_4" lets one machine hold init code for several
 * Lua versions. */
#define CLI_INIT_VAR "LUA_INIT"
#define CLI_INIT_VAR_VERSIONED CLI_INIT_VAR LUA_VERSUFFIX

/* With `-l name-suffix`, the global is named without the suffix after this
 * mark (loadlib's LUA_IGMARK, which no public header exports). */
#define CLI_IGNORE_MARK '-'

/* Chunk name of -e code, as it appears in messages and tracebacks. */
#define CLI_CMDLINE_CHUNK "=(command line)"

/* Bits of the mask cli_collect_args returns. */
enum {
    CLI_HAS_ERROR = 1, /* a bad option: nothing else is valid */
    CLI_HAS_I = 2,     /* -i */
    CLI_HAS_V = 4,     /* -v, also implied by -i */
    CLI_HAS_E = 8,     /* -e */
    CLI_HAS_NOENV = 16, /* -E */
    CLI_HAS_HELP = 32   /* --help */
};

/* What cli_pmain needs from main, passed as a light userdata so that no
 * file-scope variable carries it. */
typedef struct cli_ctx {
    int argc;
    char **argv;
    /* Prefix of error messages: argv[0] as typed, or NULL while the REPL
     * runs, where lua.c prints messages bare. Borrowed from argv. */
    const char *progname;
    int succeeded; /* set by cli_pmain when everything ran without error */
    int failure;   /* the exit status on failure: EXIT_FAILURE, or a
                    * command's own (2 for a usage error) */
    mw_alloc *alloc;      /* the runtime's allocator (Lua's and native) */
    const char *max_mem;  /* --max-mem's value, or NULL */
    /* --mem-timeline file.svg: memory recorded over the whole run, the
     * chart written to the file and the samples beside it (.csv). */
    const char *timeline_path;
    mw_lua_timeline *timeline;
    /* --mem-profile[=file] and --mem-profile-format=: the script runs
     * under the memory profiler and the report goes to the file (borrowed
     * from argv) or, if NULL, standard output. */
    int mem_profile;
    const char *mem_profile_path;
    mw_lua_profile_format mem_profile_format;
    /* --max-instructions, --max-time, --max-coroutines (values borrowed
     * from argv, or NULL), and the limits they set. */
    const char *max_instructions;
    const char *max_time;
    const char *max_coroutines;
    mw_lua_limits limits;
    /* --sandbox and each --allow-read DIR (allow_read has room for argc
     * entries and a NULL; the strings are borrowed from argv). */
    int sandbox;
    const char **allow_read;
    int n_allow_read;
} cli_ctx;

/* The registry key of the sandbox's script environment, which every
 * chunk of a sandboxed run shares. */
static const char cli_env_key = 'E';

/*
 * The state a SIGINT must interrupt. A signal handler receives only the
 * signal number, so the state has to be reachable from file scope; this is
 * the command's one piece of global mutable state (lua.c has the same).
 * It is written only by cli_docall, before the handler is installed, and
 * the handler only calls lua_sethook, which Lua documents as safe to call
 * asynchronously. Being in main.c, it cannot stop two runtimes of the
 * library from sharing a process.
 */
static lua_State *cli_sigint_state = NULL;

static int cli_takes_value(const char *opt);

/* {====================================================================
 * What luaL_newstate would have installed
 * ===================================================================== */

/* The panic function: an error outside any protected call. Lua aborts
 * after it returns, so all that can be done is say why. */
static int cli_panic(lua_State *L)
{
    const char *msg = lua_type(L, -1) == LUA_TSTRING
                          ? lua_tostring(L, -1)
                          : "error object is not a string";
    fprintf(stderr, "PANIC: unprotected error in call to Lua API (%s)\n", msg);
    fflush(stderr);
    return 0;
}

/*
 * The warning system, with lauxlib's semantics: three warning functions
 * form a small state machine, the current one being the state. Warnings
 * start off; "@on" and "@off" (single-part messages only) switch; a
 * message in several parts (tocont) is written as one line with the
 * "Lua warning: " prefix only before its first part. The ud of each is
 * the main lua_State, which lua_setwarnf needs to switch state.
 */
static void cli_warn_off(void *ud, const char *msg, int tocont);
static void cli_warn_on(void *ud, const char *msg, int tocont);
static void cli_warn_cont(void *ud, const char *msg, int tocont);

/* Returns 1 if msg was a control message (and acts on it), 0 otherwise.
 * Unknown "@..." messages are control messages that do nothing, so that
 * future controls are ignored rather than printed. */
static int cli_warn_control(lua_State *L, const char *msg, int tocont)
{
    if (tocont || msg[0] != '@')
        return 0;
    if (strcmp(msg + 1, "off") == 0)
        lua_setwarnf(L, cli_warn_off, L);
    else if (strcmp(msg + 1, "on") == 0)
        lua_setwarnf(L, cli_warn_on, L);
    return 1;
}

static void cli_warn_off(void *ud, const char *msg, int tocont)
{
    cli_warn_control((lua_State *)ud, msg, tocont);
}

/* Writes one part of a message; the last part ends the line and makes the
 * next message start with the prefix again. */
static void cli_warn_cont(void *ud, const char *msg, int tocont)
{
    lua_State *L = (lua_State *)ud;
    fputs(msg, stderr);
    if (tocont) {
        lua_setwarnf(L, cli_warn_cont, L);
    } else {
        fputs("\n", stderr);
        lua_setwarnf(L, cli_warn_on, L);
    }
    fflush(stderr);
}

static void cli_warn_on(void *ud, const char *msg, int tocont)
{
    if (cli_warn_control((lua_State *)ud, msg, tocont))
        return;
    fputs("Lua warning: ", stderr);
    cli_warn_cont(ud, msg, tocont);
}

/* }==================================================================== */

/* {====================================================================
 * Running chunks
 * ===================================================================== */

/* Prints msg on stderr, after "<progname>: " unless progname is NULL. */
static void cli_message(const char *progname, const char *msg)
{
    if (progname != NULL)
        fprintf(stderr, "%s: ", progname);
    fprintf(stderr, "%s\n", msg);
    fflush(stderr);
}

/* If status is an error, prints and pops the message on top of the stack
 * (a string: cli_msghandler made it one). Returns status. */
static int cli_report(lua_State *L, const cli_ctx *ctx, int status)
{
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        char with_budget[256];
        if (msg == NULL) /* only an error raised outside cli_docall */
            msg = "(error message not a string)";
        /* Lua's own allocation failures carry its fixed message; under a
         * budget, say which limit refused what. */
        if (status == LUA_ERRMEM && ctx->alloc != NULL && ctx->alloc->budget != 0 &&
            ctx->alloc->last_error == MW_EBUDGET) {
            char detail[96];
            mw_lua_budget_detail(ctx->alloc, detail, sizeof detail);
            snprintf(with_budget, sizeof with_budget, "%s (memory limit exceeded: %s)", msg,
                     detail);
            msg = with_budget;
        }
        cli_message(ctx->progname, msg);
        lua_pop(L, 1);
    }
    return status;
}

/* The message handler of every chunk: turns the error object into a string
 * (its __tostring if it has one that gives a string, then returned without a
 * traceback, as lua.c does) and appends the traceback from where the error
 * was raised, which is lost once lua_pcall unwinds. */
static int cli_msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = mw_lua_limits_message(L, 1); /* a limit: with the traceback */
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)",
                              luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* The hook the SIGINT handler arms: runs in the interrupted state, at a
 * point where raising an error is safe, which the handler itself is not. */
static void cli_interrupt_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    luaL_error(L, "interrupted!");
}

/* Installs handler for sig without SA_RESTART, as signal() would not on
 * every system, and with no signal masked. */
static void cli_set_signal(int sig, void (*handler)(int))
{
    struct sigaction action;
    action.sa_handler = handler;
    action.sa_flags = 0;
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, NULL);
}

/* The SIGINT handler. It may not touch the state beyond lua_sethook, so it
 * arms a hook that fires at the next instruction (count 1) or call. It
 * restores the default action first: a second ^C while Lua does not reach
 * a hook (a long C call) kills the process, as the user expects. */
static void cli_on_sigint(int sig)
{
    int mask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT;
    cli_set_signal(sig, SIG_DFL);
    lua_sethook(cli_sigint_state, cli_interrupt_hook, mask, 1);
}

/* Calls the function below the narg arguments on top of the stack, with the
 * message handler and the SIGINT handler in place only for the call.
 * Leaves nres results (or the error message) like lua_pcall. */
static int cli_docall(lua_State *L, int narg, int nres)
{
    int base = lua_gettop(L) - narg;
    int status;
    mw_lua_limits *lim = mw_lua_limits_get(L); /* NULL unless limits were set */
    int arm = lim != NULL && !lim->armed;
    lua_pushcfunction(L, cli_msghandler);
    lua_insert(L, base);
    cli_sigint_state = L;
    if (arm)
        mw_lua_limits_arm(L, lim);
    cli_set_signal(SIGINT, cli_on_sigint);
    status = lua_pcall(L, narg, nres, base);
    cli_set_signal(SIGINT, SIG_DFL);
    if (arm)
        mw_lua_limits_disarm(L, lim);
    lua_remove(L, base);
    return status;
}

/* In a sandboxed run, gives the chunk loaded with status (on top) the
 * run's script environment. Returns status. */
static int cli_sandbox_chunk(lua_State *L, const cli_ctx *ctx, int status)
{
    if (ctx->sandbox && status == LUA_OK) {
        lua_rawgetp(L, LUA_REGISTRYINDEX, &cli_env_key);
        lua_setupvalue(L, -2, 1);
    }
    return status;
}

/* luaL_loadfile, text only and in the script environment in a sandbox. */
static int cli_loadfile(lua_State *L, const cli_ctx *ctx, const char *name)
{
    if (!ctx->sandbox)
        return luaL_loadfile(L, name);
    return cli_sandbox_chunk(L, ctx, luaL_loadfilex(L, name, "t"));
}

/* Pushes global name (of the script environment in a sandbox). */
static int cli_getglobal(lua_State *L, const cli_ctx *ctx, const char *name)
{
    if (!ctx->sandbox)
        return lua_getglobal(L, name);
    lua_rawgetp(L, LUA_REGISTRYINDEX, &cli_env_key);
    int type = lua_getfield(L, -1, name);
    lua_remove(L, -2);
    return type;
}

/* Pops a value into global name (of the script environment in a
 * sandbox). */
static void cli_setglobal(lua_State *L, const cli_ctx *ctx, const char *name)
{
    if (!ctx->sandbox) {
        lua_setglobal(L, name);
        return;
    }
    lua_rawgetp(L, LUA_REGISTRYINDEX, &cli_env_key);
    lua_insert(L, -2);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

/* Runs the chunk loaded with status (or reports why it failed to load). */
static int cli_dochunk(lua_State *L, const cli_ctx *ctx, int status)
{
    if (status == LUA_OK)
        status = cli_docall(L, 0, 0);
    return cli_report(L, ctx, status);
}

/* Runs file `name`, or standard input if name is NULL. */
static int cli_dofile(lua_State *L, const cli_ctx *ctx, const char *name)
{
    return cli_dochunk(L, ctx, cli_loadfile(L, ctx, name));
}

static int cli_dostring(lua_State *L, const cli_ctx *ctx, const char *code,
                        const char *chunkname)
{
    if (!ctx->sandbox)
        return cli_dochunk(L, ctx, luaL_loadbuffer(L, code, strlen(code), chunkname));
    return cli_dochunk(L, ctx, cli_sandbox_chunk(L, ctx, luaL_loadbufferx(L, code, strlen(code),
                                                                          chunkname, "t")));
}

/* Runs -l spec, "global=module" or "module": global = require(module). In
 * the second form, a suffix from CLI_IGNORE_MARK on is left out of the
 * global's name ("-l mod-2" sets `mod`), so versioned module files can be
 * loaded under their plain name. Borrows spec; does not modify it. */
static int cli_dolibrary(lua_State *L, const cli_ctx *ctx, const char *spec)
{
    const char *equals = strchr(spec, '=');
    const char *modname;
    size_t globname_len;
    const char *globname;
    int status;
    if (equals != NULL) {
        globname_len = (size_t)(equals - spec);
        modname = equals + 1;
    } else {
        const char *mark = strchr(spec, CLI_IGNORE_MARK);
        globname_len = mark != NULL ? (size_t)(mark - spec) : strlen(spec);
        modname = spec;
    }
    /* The name stays on the stack, under the call, to keep it alive. */
    globname = lua_pushlstring(L, spec, globname_len);
    cli_getglobal(L, ctx, "require");
    lua_pushstring(L, modname);
    status = cli_docall(L, 1, 1);
    if (status == LUA_OK)
        cli_setglobal(L, ctx, globname);
    cli_report(L, ctx, status);
    lua_pop(L, 1);
    return status;
}

/* Pushes arg[1] .. arg[#arg], the script's `...`, and returns how many.
 * Raises an error if `arg` is no longer a table (LUA_INIT or -e may have
 * replaced it); lua.c reports that without a traceback, and so do we, by
 * letting it reach cli_pmain's caller. */
static int cli_push_script_args(lua_State *L, const cli_ctx *ctx)
{
    int n;
    int i;
    if (cli_getglobal(L, ctx, "arg") != LUA_TTABLE)
        luaL_error(L, "'arg' is not a table");
    n = (int)luaL_len(L, -1);
    luaL_checkstack(L, n + 3, "too many arguments to script");
    for (i = 1; i <= n; i++)
        lua_rawgeti(L, -i, i);
    lua_remove(L, -i);
    return n;
}

/* Writes a stopped memory profile where the options say; returns 0 after
 * reporting why it could not. */
static int cli_write_profile(const cli_ctx *ctx, const mw_lua_profile *profile)
{
    FILE *out = stdout;
    int ok;
    if (ctx->mem_profile_path != NULL) {
        out = fopen(ctx->mem_profile_path, "w");
        if (out == NULL) {
            fprintf(stderr, "%s: cannot open '%s' for the memory profile\n",
                    ctx->progname, ctx->mem_profile_path);
            fflush(stderr);
            return 0;
        }
    }
    if (mw_lua_profile_incomplete(profile)) {
        fprintf(stderr, "%s: the memory profile is incomplete (out of memory)\n",
                ctx->progname);
        fflush(stderr);
    }
    ok = mw_lua_profile_write(profile, out, ctx->mem_profile_format);
    if (out != stdout && fclose(out) != 0)
        ok = 0;
    if (!ok) {
        fprintf(stderr, "%s: cannot write the memory profile\n", ctx->progname);
        fflush(stderr);
    }
    return ok;
}

/* Runs the script argv[0] with the script arguments. "-" means standard
 * input, unless it came after "--", where it is a file named "-". */
static int cli_handle_script(lua_State *L, const cli_ctx *ctx, char **argv)
{
    const char *fname = argv[0];
    int status;
    if (strcmp(fname, "-") == 0 && strcmp(argv[-1], "--") != 0)
        fname = NULL;
    status = cli_loadfile(L, ctx, fname);
    if (status == LUA_OK) {
        int n = cli_push_script_args(L, ctx);
        mw_lua_profile *profile = NULL;
        if (ctx->mem_profile) {
            const char *why = NULL;
            profile = mw_lua_profile_start(L, &why);
            if (profile == NULL)
                luaL_error(L, "--mem-profile: %s", why);
        }
        status = cli_docall(L, n, LUA_MULTRET);
        if (profile != NULL) {
            mw_lua_profile_stop(profile, L);
            cli_report(L, ctx, status);
            if (!cli_write_profile(ctx, profile) && status == LUA_OK)
                status = LUA_ERRRUN; /* already reported */
            mw_lua_profile_free(profile);
            return status;
        }
    }
    return cli_report(L, ctx, status);
}

/* Whether the script word is one of the commands built into moonwatch
 * (`moonwatch detect ...`, `moonwatch eval ...`, `moonwatch worker ...`);
 * a script file of that
 * name runs as `moonwatch ./detect`. */
static int cli_is_command(const char *word)
{
    return strcmp(word, "detect") == 0 || strcmp(word, "eval") == 0 ||
           strcmp(word, "worker") == 0;
}

/* Runs a built-in command: the embedded commands.lua, given the command's
 * name and a table of the command's embedded files; its result is the
 * exit status (the pipelines it finds in package.preload). Returns 1 when the command succeeded. */
static int cli_handle_command(lua_State *L, cli_ctx *ctx, const char *name)
{
    const mw_embedded *commands = NULL;
    lua_newtable(L);
    for (const mw_embedded *e = mw_cli_embedded; e->name != NULL; e++) {
        if (strcmp(e->name, "commands") == 0)
            commands = e;
        lua_pushlstring(L, e->text, e->len);
        lua_setfield(L, -2, e->name);
    }
    int status = commands == NULL ? (lua_pushliteral(L, "no commands built in"), LUA_ERRRUN)
                                  : luaL_loadbufferx(L, commands->text, commands->len,
                                                     "=(moonwatch commands)", "t");
    if (status == LUA_OK) {
        lua_insert(L, -2);
        lua_pushstring(L, name);
        lua_insert(L, -2);
        status = cli_docall(L, 2, 1);
    }
    if (status != LUA_OK) {
        cli_report(L, ctx, status);
        return 0;
    }
    int code = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (code > 0 && code < 126)
        ctx->failure = code;
    return code == 0;
}

/* Runs LUA_INIT_5_4, or else LUA_INIT: "@file" runs the file, anything else
 * is code whose chunk name is the variable's name. */
static int cli_handle_luainit(lua_State *L, const cli_ctx *ctx)
{
    const char *chunkname = "=" CLI_INIT_VAR_VERSIONED;
    const char *init = getenv(chunkname + 1);
    if (init == NULL) {
        chunkname = "=" CLI_INIT_VAR;
        init = getenv(chunkname + 1);
    }
    if (init == NULL)
        return LUA_OK;
    if (init[0] == '@')
        return cli_dofile(L, ctx, init + 1);
    return cli_dostring(L, ctx, init, chunkname);
}

/* Makes require("moonwatch") open the module and sets the global `mw` to
 * it. Preloading, rather than calling luaopen_moonwatch directly, leaves
 * package.loaded.moonwatch == mw, as any other module. The module
 * registers the shipped pipelines ("moonwatch.pipelines.default") itself. */
static int cli_open_moonwatch(lua_State *L, const cli_ctx *ctx)
{
    int status;
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_moonwatch);
    lua_setfield(L, -2, "moonwatch");
    lua_pop(L, 1);
    lua_getglobal(L, "require");
    lua_pushliteral(L, "moonwatch");
    status = cli_docall(L, 1, 1);
    if (status == LUA_OK)
        lua_setglobal(L, "mw");
    return cli_report(L, ctx, status);
}

/* }==================================================================== */

/* {====================================================================
 * The read-eval-print loop (plain, as lua.c without readline)
 * ===================================================================== */

#define CLI_REPL_PROMPT "> "
#define CLI_REPL_PROMPT2 ">> "

/* Longest line read at once; a longer one is read in several pieces, each
 * taken as a line, as lua.c does. */
#define CLI_REPL_MAXINPUT 512

/* How the parser ends the message of a chunk cut short: the mark of a
 * statement that more lines may complete. */
#define CLI_REPL_EOFMARK "<eof>"

/* Pushes the prompt's anchor (the _PROMPT or _PROMPT2 global, converted by
 * tostring, or nil) and returns the prompt text, valid while the anchor
 * stays on the stack. */
static const char *cli_repl_prompt(lua_State *L, int firstline)
{
    const char *prompt;
    if (lua_getglobal(L, firstline ? "_PROMPT" : "_PROMPT2") == LUA_TNIL)
        return firstline ? CLI_REPL_PROMPT : CLI_REPL_PROMPT2;
    prompt = luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
    return prompt;
}

/* Prompts, reads a line and pushes it without its newline; returns 0, with
 * nothing pushed, at end of input. A first line "=expr" becomes
 * "return expr", as in Lua 5.2's interpreter. */
static int cli_repl_pushline(lua_State *L, int firstline)
{
    char buffer[CLI_REPL_MAXINPUT];
    size_t len;
    int got_line;
    fputs(cli_repl_prompt(L, firstline), stdout);
    fflush(stdout);
    got_line = fgets(buffer, (int)sizeof buffer, stdin) != NULL;
    lua_pop(L, 1);
    if (!got_line)
        return 0;
    len = strlen(buffer);
    if (len > 0 && buffer[len - 1] == '\n')
        buffer[--len] = '\0';
    if (firstline && buffer[0] == '=')
        lua_pushfstring(L, "return %s", buffer + 1);
    else
        lua_pushlstring(L, buffer, len);
    return 1;
}

/* Returns 1 if status and the message on top say the chunk merely ended
 * too early (more lines could complete it). */
static int cli_repl_incomplete(lua_State *L, int status)
{
    size_t len;
    size_t mark_len = sizeof CLI_REPL_EOFMARK - 1;
    const char *msg;
    if (status != LUA_ERRSYNTAX)
        return 0;
    msg = lua_tolstring(L, -1, &len);
    return len >= mark_len && strcmp(msg + len - mark_len, CLI_REPL_EOFMARK) == 0;
}

/* Tries the line on top as an expression, "return <line>;", so that typing
 * an expression prints its value. On success the compiled chunk is pushed
 * above the line; on failure the stack is as it was. */
static int cli_repl_addreturn(lua_State *L)
{
    const char *line = lua_tostring(L, -1);
    const char *retline = lua_pushfstring(L, "return %s;", line);
    int status = luaL_loadbuffer(L, retline, strlen(retline), "=stdin");
    if (status == LUA_OK)
        lua_remove(L, -2);
    else
        lua_pop(L, 2);
    return status;
}

/* Compiles the code at index 1 as a statement, reading more lines while it
 * is incomplete. Leaves the code at 1 and above it the chunk or, when it
 * cannot be completed (a real error, or end of input), the message. */
static int cli_repl_multiline(lua_State *L)
{
    for (;;) {
        size_t len;
        const char *code = lua_tolstring(L, 1, &len);
        int status = luaL_loadbuffer(L, code, len, "=stdin");
        if (!cli_repl_incomplete(L, status) || !cli_repl_pushline(L, 0))
            return status;
        lua_remove(L, -2); /* the message of the incomplete chunk */
        lua_pushliteral(L, "\n");
        lua_insert(L, -2);
        lua_concat(L, 3);
    }
}

/* Reads one entry (a line, with continuation lines if needed) and compiles
 * it. Returns -1 at end of input; otherwise the load status, with exactly
 * one value on the stack: the chunk or the error message. */
static int cli_repl_loadline(lua_State *L)
{
    int status;
    lua_settop(L, 0);
    if (!cli_repl_pushline(L, 1))
        return -1;
    status = cli_repl_addreturn(L);
    if (status != LUA_OK)
        status = cli_repl_multiline(L);
    lua_remove(L, 1);
    return status;
}

/* Prints the values on the stack with the global `print`, whatever the
 * user made of it; an error there is reported, not raised. */
static void cli_repl_print(lua_State *L, const cli_ctx *ctx)
{
    int n = lua_gettop(L);
    if (n == 0)
        return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    lua_getglobal(L, "print");
    lua_insert(L, 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK)
        cli_message(ctx->progname,
                    lua_pushfstring(L, "error calling 'print' (%s)",
                                    lua_tostring(L, -1)));
}

/* repl_host's report: cli_report with the command's context. */
static int cli_repl_report(lua_State *L, void *ud, int status)
{
    return cli_report(L, (const cli_ctx *)ud, status);
}

/* Reads, evaluates and prints until end of input. Messages go without the
 * program name, as the user is at the keyboard. A terminal gets repl.c's
 * prompt; anything else the plain loop, as lua.c without readline. */
static void cli_repl_run(lua_State *L, cli_ctx *ctx)
{
    const char *saved_progname = ctx->progname;
    int status;
    ctx->progname = NULL;
    if (isatty(STDIN_FILENO)) {
        repl_host host = {cli_docall, cli_repl_report, ctx, ctx->alloc};
        repl_run(L, &host);
        ctx->progname = saved_progname;
        return;
    }
    while ((status = cli_repl_loadline(L)) != -1) {
        if (status == LUA_OK)
            status = cli_docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK)
            cli_repl_print(L, ctx);
        else
            cli_report(L, ctx, status);
    }
    lua_settop(L, 0);
    fputs("\n", stdout);
    fflush(stdout);
    ctx->progname = saved_progname;
}

/* }==================================================================== */

/* {====================================================================
 * Command line
 * ===================================================================== */

static void cli_print_version(void)
{
    printf("moonwatch %s -- %s\n", MW_VERSION, LUA_COPYRIGHT);
    fflush(stdout);
}

static void cli_print_usage(const char *progname, const char *badoption)
{
    if (badoption[1] == 'e' || badoption[1] == 'l' || cli_takes_value(badoption))
        fprintf(stderr, "%s: '%s' needs argument\n", progname, badoption);
    else
        fprintf(stderr, "%s: unrecognized option '%s'\n", progname, badoption);
    fprintf(stderr,
            "usage: %s [options] [script [args]]\n"
            "Available options are:\n"
            "  -e stat   execute string 'stat'\n"
            "  -i        enter interactive mode after executing 'script'\n"
            "  -l mod    require library 'mod' into global 'mod'\n"
            "  -l g=mod  require library 'mod' into global 'g'\n"
            "  -v        show version information\n"
            "  -E        ignore environment variables\n"
            "  -W        turn warnings on\n"
            "  --        stop handling options\n"
            "  -         stop handling options and execute stdin\n",
            progname);
    fflush(stderr);
}

/* --help: lua's usage with moonwatch's own options, on stdout. */
static void cli_print_help(const char *progname)
{
    printf("usage: %s [options] [script [args]]\n"
           "Available options are:\n"
           "  -e stat         execute string 'stat'\n"
           "  -i              enter interactive mode after executing 'script'\n"
           "  -l mod          require library 'mod' into global 'mod'\n"
           "  -l g=mod        require library 'mod' into global 'g'\n"
           "  -v              show version information\n"
           "  -E              ignore environment variables\n"
           "  -W              turn warnings on\n"
           "  --max-mem size  one memory budget for the Lua and native heaps,\n"
           "                  in bytes or with K, M, G (e.g. 256M)\n"
           "  --max-time s    wall time of each chunk run, in seconds\n"
           "  --max-instructions n\n"
           "                  Lua instructions of each chunk run\n"
           "  --max-coroutines n\n"
           "                  coroutines each chunk run may make\n"
           "  --sandbox       run untrusted code: safe libraries only, read-only\n"
           "                  globals, no files (docs/security.md); limits\n"
           "                  default to 256M, 5 s and 10000 coroutines\n"
           "  --allow-read dir\n"
           "                  with --sandbox: scripts may read files under dir\n"
           "  --mem-profile[=file]\n"
           "                  profile the script's memory line by line\n"
           "  --mem-profile-format=table|csv|json\n"
           "                  the profile's format (table)\n"
           "  --mem-timeline file.svg\n"
           "                  memory over the run as a chart (and file.csv)\n"
           "  --help          show this help\n"
           "  --              stop handling options\n"
           "  -               stop handling options and execute stdin\n",
           progname);
    fflush(stdout);
}

/* Applies --max-mem once the libraries are open (their bytes count too).
 * Returns 0 after reporting a bad size or one below what is in use. */
static int cli_set_max_mem(const cli_ctx *ctx)
{
    size_t budget;
    char message[160];
    if (mw_parse_size(ctx->max_mem, strlen(ctx->max_mem), &budget) != MW_PARSE_OK ||
        budget == 0) {
        snprintf(message, sizeof message,
                 "--max-mem: '%.40s' is not a size (bytes, or a number with K, M, G or T)",
                 ctx->max_mem);
        cli_message(ctx->progname, message);
        return 0;
    }
    if (mw_alloc_set_budget(ctx->alloc, budget) != MW_OK) {
        char limit[32], used[32];
        mw_lua_format_bytes(limit, sizeof limit, budget);
        mw_lua_format_bytes(used, sizeof used, ctx->alloc->current);
        snprintf(message, sizeof message,
                 "--max-mem: %s is below the %s the runtime already uses", limit, used);
        cli_message(ctx->progname, message);
        return 0;
    }
    return 1;
}

/* The long options that take a value ("--opt value" or "--opt=value"),
 * and where it goes. */
static const char **cli_value_slot(const char *opt, size_t len, cli_ctx *ctx)
{
    static const struct {
        const char *name;
        size_t offset;
    } opts[] = {
        {"--max-mem", offsetof(cli_ctx, max_mem)},
        {"--mem-timeline", offsetof(cli_ctx, timeline_path)},
        {"--max-time", offsetof(cli_ctx, max_time)},
        {"--max-instructions", offsetof(cli_ctx, max_instructions)},
        {"--max-coroutines", offsetof(cli_ctx, max_coroutines)},
        {"--allow-read", 0},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        if (strlen(opts[i].name) != len || strncmp(opt, opts[i].name, len) != 0)
            continue;
        if (ctx == NULL)
            return (const char **)opts; /* any non-NULL: it takes one */
        if (opts[i].offset == 0)
            return &ctx->allow_read[ctx->n_allow_read++];
        return (const char **)(void *)((char *)ctx + opts[i].offset);
    }
    return NULL;
}

/* Whether opt (a whole word) is a long option that takes a value. */
static int cli_takes_value(const char *opt)
{
    return cli_value_slot(opt, strlen(opt), NULL) != NULL;
}

/* moonwatch's own long options (lua has none): those of cli_value_slot,
 * "--mem-profile[=file]", "--mem-profile-format=F", "--sandbox" and
 * "--help". opt[0] is the option. Returns the number of words it takes
 * beyond the first (0 or 1), 2 for --help, or -1 for an unknown option or
 * a missing value (then the usage, as lua prints it). */
static int cli_long_option(char **opt, cli_ctx *ctx)
{
    const char *equals = strchr(opt[0], '=');
    size_t name_len = equals != NULL ? (size_t)(equals - opt[0]) : strlen(opt[0]);
    if (cli_value_slot(opt[0], name_len, NULL) != NULL) {
        const char *value = equals != NULL ? equals + 1 : opt[1];
        if (value == NULL || *value == '\0')
            return -1;
        *cli_value_slot(opt[0], name_len, ctx) = value;
        return equals != NULL ? 0 : 1;
    }
    static const char profile[] = "--mem-profile";
    static const char format[] = "--mem-profile-format=";
    if (strcmp(opt[0], "--help") == 0)
        return 2;
    if (strcmp(opt[0], "--sandbox") == 0) {
        ctx->sandbox = 1;
        return 0;
    }
    if (strncmp(opt[0], format, sizeof format - 1) == 0) {
        int f = mw_lua_profile_format_of(opt[0] + sizeof format - 1);
        if (f < 0)
            return -1;
        ctx->mem_profile_format = (mw_lua_profile_format)f;
        return 0;
    }
    if (strncmp(opt[0], profile, sizeof profile - 1) == 0) {
        const char *rest = opt[0] + sizeof profile - 1;
        if (*rest == '=' && rest[1] != '\0')
            ctx->mem_profile_path = rest + 1;
        else if (*rest != '\0')
            return -1;
        ctx->mem_profile = 1;
        return 0;
    }
    return -1;
}

/* With --sandbox: refuses what would run outside it (the prompt, the
 * built-in commands) before anything runs. Returns 0 after saying why. */
static int cli_sandbox_allows(const cli_ctx *ctx, char **argv, int script, int args)
{
    const char *why = NULL;
    if ((args & CLI_HAS_I) ||
        (script < 1 && !(args & (CLI_HAS_E | CLI_HAS_V)) && isatty(STDIN_FILENO)))
        why = "--sandbox: the interactive prompt is not available";
    else if (script > 0 && cli_is_command(argv[script]) && strcmp(argv[script - 1], "--") != 0)
        why = "--sandbox: runs scripts, not the built-in commands";
    if (why != NULL)
        cli_message(ctx->progname, why);
    return why == NULL;
}

/* Parses a positive count (--max-instructions, --max-coroutines) into
 * *out; returns 0 after reporting a bad one. */
static int cli_parse_count(const cli_ctx *ctx, const char *option, const char *text,
                           unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(text, &end, 10);
    if (text[0] < '1' || text[0] > '9' || *end != '\0' || errno != 0) {
        char message[160];
        snprintf(message, sizeof message, "%s: '%.40s' is not a positive integer", option, text);
        cli_message(ctx->progname, message);
        return 0;
    }
    *out = n;
    return 1;
}

/* Sets up the limits and the sandbox the options ask for, once the
 * libraries and the module are open. Returns 0 after reporting a bad
 * value. */
static int cli_set_limits(lua_State *L, cli_ctx *ctx)
{
    mw_lua_limits *lim = &ctx->limits;
    if (ctx->max_instructions != NULL &&
        !cli_parse_count(ctx, "--max-instructions", ctx->max_instructions, &lim->max_instructions))
        return 0;
    if (ctx->max_coroutines != NULL &&
        !cli_parse_count(ctx, "--max-coroutines", ctx->max_coroutines, &lim->max_coroutines))
        return 0;
    if (ctx->max_time != NULL) {
        char *end;
        lim->max_seconds = strtod(ctx->max_time, &end);
        if (end == ctx->max_time || *end != '\0' || !(lim->max_seconds > 0.0) ||
            !(lim->max_seconds < 1e9)) {
            char message[160];
            snprintf(message, sizeof message,
                     "--max-time: '%.40s' is not a positive number of seconds", ctx->max_time);
            cli_message(ctx->progname, message);
            return 0;
        }
    }
    if (ctx->sandbox) {
        if (ctx->max_mem == NULL &&
            mw_alloc_set_budget(ctx->alloc, MW_SANDBOX_MAX_MEMORY) != MW_OK) {
            cli_message(ctx->progname, "--sandbox: the runtime already uses more than 256 MiB");
            return 0;
        }
        if (ctx->max_time == NULL)
            lim->max_seconds = MW_SANDBOX_MAX_SECONDS;
        if (ctx->max_coroutines == NULL)
            lim->max_coroutines = MW_SANDBOX_MAX_COROUTINES;
    }
    if (lim->max_instructions == 0 && lim->max_seconds == 0.0 && lim->max_coroutines == 0)
        return 1;
    mw_lua_limits_open(L, lim);
    if (!ctx->sandbox)
        return 1;
    ctx->allow_read[ctx->n_allow_read] = NULL;
    mw_lua_sandbox_open(L, ctx->allow_read);
    mw_lua_sandbox_push_env(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &cli_env_key);
    return 1;
}

/*
 * Scans the options, before any Lua code runs, since -v and -E act before
 * the libraries open. Returns a mask of CLI_HAS_* bits, or CLI_HAS_ERROR
 * alone, with *first the index of the bad option. Otherwise *first is the
 * index of the script, 0 if there is none, or -1 if argv is empty (not
 * even a program name).
 */
static int cli_collect_args(char **argv, int *first, cli_ctx *ctx)
{
    int args = 0;
    int i;
    if (argv[0] == NULL) {
        *first = -1;
        return 0;
    }
    for (i = 1; argv[i] != NULL; i++) {
        *first = i;
        if (argv[i][0] != '-')
            return args; /* the script: the rest are its arguments */
        switch (argv[i][1]) {
        case '-': /* "--" ends the options; the next word, if any, is
                   * the script, taken as a file even if it is "-" */
            if (argv[i][2] != '\0') {
                int skip = cli_long_option(argv + i, ctx);
                if (skip < 0)
                    return CLI_HAS_ERROR;
                if (skip == 2)
                    args |= CLI_HAS_HELP;
                i += skip == 1;
                break;
            }
            *first = argv[i + 1] != NULL ? i + 1 : 0;
            return args;
        case '\0': /* "-": the script is standard input */
            return args;
        case 'E':
            if (argv[i][2] != '\0')
                return CLI_HAS_ERROR;
            args |= CLI_HAS_NOENV;
            break;
        case 'W':
            if (argv[i][2] != '\0')
                return CLI_HAS_ERROR;
            break;
        case 'i':
            args |= CLI_HAS_I; /* and -v: */
            /* fall through */
        case 'v':
            if (argv[i][2] != '\0')
                return CLI_HAS_ERROR;
            args |= CLI_HAS_V;
            break;
        case 'e':
            args |= CLI_HAS_E;
            /* fall through */
        case 'l': /* both take an argument, attached ("-lmod") or next */
            if (argv[i][2] == '\0') {
                i++;
                if (argv[i] == NULL || argv[i][0] == '-')
                    return CLI_HAS_ERROR;
            }
            break;
        default:
            return CLI_HAS_ERROR;
        }
    }
    *first = 0;
    return args;
}

/* Builds the global `arg`: the script at 0, its arguments from 1, the
 * interpreter and the options at negative indices. Without a script, the
 * interpreter's name is at 0. */
static void cli_create_arg_table(lua_State *L, const cli_ctx *ctx, char **argv, int argc,
                                 int script)
{
    int i;
    if (script < 0) /* no argv[0]: argc is 0, the table is empty */
        script = 0;
    lua_createtable(L, argc - (script + 1) > 0 ? argc - (script + 1) : 0,
                    script + 1);
    for (i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    cli_setglobal(L, ctx, "arg");
}

/* Runs -e, -l and -W in command-line order, up to argv[limit]. Returns 0
 * as soon as one fails (already reported). */
static int cli_run_args(lua_State *L, const cli_ctx *ctx, char **argv,
                        int limit)
{
    int i;
    for (i = 1; i < limit; i++) {
        int option = argv[i][1];
        if (cli_takes_value(argv[i])) {
            i++; /* its value, which may look like an option ("-e" ...) */
            continue;
        }
        if (option == 'e' || option == 'l') {
            const char *extra = argv[i] + 2;
            int status;
            if (*extra == '\0')
                extra = argv[++i]; /* cli_collect_args checked it exists */
            status = option == 'e'
                         ? cli_dostring(L, ctx, extra, CLI_CMDLINE_CHUNK)
                         : cli_dolibrary(L, ctx, extra);
            if (status != LUA_OK)
                return 0;
        } else if (option == 'W') {
            lua_warning(L, "@on", 0);
        }
    }
    return 1;
}

/*
 * The body of the command, run under lua_pcall so that errors outside the
 * chunks (memory, a broken `arg`) are caught too. Argument 1 is the
 * cli_ctx. Sets ctx->succeeded when every step ran without error.
 */
static int cli_pmain(lua_State *L)
{
    cli_ctx *ctx = (cli_ctx *)lua_touserdata(L, 1);
    char **argv = ctx->argv;
    int argc = ctx->argc;
    int script;
    int args = cli_collect_args(argv, &script, ctx);
    int options_end = script > 0 ? script : argc;
    luaL_checkversion(L);
    if (args == CLI_HAS_ERROR) {
        cli_print_usage(ctx->progname, argv[script]);
        return 0;
    }
    if (args & CLI_HAS_V)
        cli_print_version();
    if (args & CLI_HAS_NOENV) {
        /* The signal for the package library to ignore LUA_PATH and
         * LUA_CPATH; it must be set before the libraries open. */
        lua_pushboolean(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
    }
    if (args & CLI_HAS_HELP) {
        cli_print_help(ctx->progname);
        ctx->succeeded = 1;
        return 0;
    }
    if (ctx->sandbox && !cli_sandbox_allows(ctx, argv, script, args))
        return 0;
    if (!ctx->sandbox && ctx->n_allow_read > 0) {
        cli_message(ctx->progname, "--allow-read: only with --sandbox");
        return 0;
    }
    luaL_openlibs(L);
    if (cli_open_moonwatch(L, ctx) != LUA_OK)
        return 0;
    if (ctx->max_mem != NULL && !cli_set_max_mem(ctx))
        return 0;
    if (ctx->timeline_path != NULL) {
        const char *why = NULL;
        ctx->timeline = mw_lua_timeline_begin(ctx->alloc, 0.01, &why);
        if (ctx->timeline == NULL) {
            char message[128];
            snprintf(message, sizeof message, "--mem-timeline: %s", why);
            cli_message(ctx->progname, message);
            return 0;
        }
    }
    if (!cli_set_limits(L, ctx))
        return 0;
    cli_create_arg_table(L, ctx, argv, argc, script);
    /* The state was built with the collector stopped (nothing to collect
     * yet); run it from here in generational mode, as lua.c does, so that
     * collectgarbage() answers the same. */
    lua_gc(L, LUA_GCRESTART);
    lua_gc(L, LUA_GCGEN, 0, 0);
    if (!(args & CLI_HAS_NOENV) && cli_handle_luainit(L, ctx) != LUA_OK)
        return 0;
    if (!cli_run_args(L, ctx, argv, options_end))
        return 0;
    if (script > 0 && cli_is_command(argv[script]) && strcmp(argv[script - 1], "--") != 0) {
        if (cli_handle_command(L, ctx, argv[script]))
            ctx->succeeded = 1;
        return 0;
    }
    if (script > 0 && cli_handle_script(L, ctx, argv + script) != LUA_OK)
        return 0;
    if (args & CLI_HAS_I) {
        cli_repl_run(L, ctx);
    } else if (script < 1 && !(args & (CLI_HAS_E | CLI_HAS_V))) {
        /* No script and nothing to do: a terminal gets the REPL, a pipe or
         * file is run as a script. lua.c ignores that run's status (an
         * error is reported, yet the exit status is 0), and so must we. */
        if (isatty(STDIN_FILENO)) {
            cli_print_version();
            cli_repl_run(L, ctx);
        } else {
            cli_dofile(L, ctx, NULL);
        }
    }
    ctx->succeeded = 1;
    return 0;
}

/* }==================================================================== */

/* Stops the --mem-timeline recorder and writes the chart and, beside it,
 * the CSV (file.svg -> file.csv; any other name gets ".csv" appended).
 * Returns 0 after reporting a file that cannot be written. */
static int cli_write_timeline(cli_ctx *ctx)
{
    const char *svg = ctx->timeline_path;
    size_t len = strlen(svg);
    char csv[4096];
    int ok = 0;
    if (len >= 4 && strcmp(svg + len - 4, ".svg") == 0)
        ok = snprintf(csv, sizeof csv, "%.*s.csv", (int)(len - 4), svg) < (int)sizeof csv;
    else
        ok = snprintf(csv, sizeof csv, "%s.csv", svg) < (int)sizeof csv;
    mw_lua_timeline_stop(ctx->timeline);
    const char *bad = NULL;
    if (!ok || mw_lua_timeline_write(ctx->timeline, "moonwatch: memory over the run", svg,
                                     csv, &bad) != 0) {
        char message[4200];
        snprintf(message, sizeof message, "--mem-timeline: cannot write '%s'",
                 ok ? bad : svg);
        cli_message(ctx->progname, message);
        ok = 0;
    }
    mw_lua_timeline_free(ctx->timeline);
    ctx->timeline = NULL;
    return ok;
}

/* glibc serves blocks over 32 MiB with mmap and gives them back to the
 * kernel when freed, so every new large series (a rolling result over
 * 1e7 values is 80 MB) faults in fresh pages: measured, that was 10x the
 * kernel's own time (docs/PERFORMANCE.md). The command owns its process,
 * so it keeps large blocks in the heap for reuse; the library leaves the
 * host's malloc alone. */
static void cli_tune_malloc(void)
{
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
}

int main(int argc, char **argv)
{
    mw_alloc alloc;
    cli_ctx ctx;
    lua_State *L;
    int status;

    ctx.argc = argc;
    ctx.argv = argv;
    ctx.progname = argv[0] != NULL && argv[0][0] != '\0' ? argv[0] : CLI_PROGNAME;
    ctx.succeeded = 0;
    ctx.failure = EXIT_FAILURE;
    ctx.alloc = NULL;
    ctx.max_mem = NULL;
    ctx.timeline_path = NULL;
    ctx.timeline = NULL;
    ctx.mem_profile = 0;
    ctx.mem_profile_path = NULL;
    ctx.mem_profile_format = MW_LUA_PROFILE_TABLE;
    ctx.max_instructions = NULL;
    ctx.max_time = NULL;
    ctx.max_coroutines = NULL;
    memset(&ctx.limits, 0, sizeof ctx.limits);
    ctx.sandbox = 0;
    ctx.n_allow_read = 0;
    ctx.allow_read = malloc(((size_t)(argc > 0 ? argc : 0) + 1) * sizeof *ctx.allow_read);
    if (ctx.allow_read == NULL) {
        cli_message(ctx.progname, "cannot start: not enough memory");
        return EXIT_FAILURE;
    }

    cli_tune_malloc();
    mw_alloc_init(&alloc);
    ctx.alloc = &alloc;
    L = lua_newstate(mw_alloc_lua, &alloc);
    if (L == NULL) {
        cli_message(ctx.progname, "cannot create state: not enough memory");
        return EXIT_FAILURE;
    }
    lua_atpanic(L, cli_panic);
    lua_setwarnf(L, cli_warn_off, L);
    lua_gc(L, LUA_GCSTOP); /* restarted by cli_pmain once the state is built */

    lua_pushcfunction(L, cli_pmain);
    lua_pushlightuserdata(L, &ctx);
    status = lua_pcall(L, 1, 0, 0);
    cli_report(L, &ctx, status);
    if (ctx.timeline != NULL && !cli_write_timeline(&ctx))
        ctx.succeeded = 0;
    lua_close(L);
    free(ctx.allow_read);
    return ctx.succeeded && status == LUA_OK ? EXIT_SUCCESS : ctx.failure;
}
