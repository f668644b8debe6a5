/*
 * repl.h: the interactive prompt of the moonwatch command, for a terminal
 * (line editing, history, completion, pretty printing, :commands). The
 * plain lua.c loop for piped input stays in main.c.
 */
#ifndef MW_CLI_REPL_H
#define MW_CLI_REPL_H

#include <lua.h>

#include "core/alloc.h"

/* What the prompt borrows from the command that runs it. */
typedef struct repl_host {
    /* Calls the function below the narg arguments on top of the stack with
     * the command's message handler and Ctrl-C hook; lua_pcall's results. */
    int (*docall)(lua_State *L, int narg, int nres);
    /* Prints and pops the error message on top if status is an error;
     * returns status. */
    int (*report)(lua_State *L, void *ud, int status);
    void *ud;        /* report's first argument after L */
    mw_alloc *alloc; /* the runtime's allocator, for :time; may be NULL */
} repl_host;

/* Reads, evaluates and prints entries from the terminal on standard input
 * until Ctrl-D on an empty line or :quit. Leaves the stack empty. */
void repl_run(lua_State *L, const repl_host *host);

/* Whether the command was built with line editing (libedit). */
int repl_has_line_editing(void);

#endif /* MW_CLI_REPL_H */
