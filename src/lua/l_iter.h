/*
 * l_iter.h: generator iterators for Lua: the protocol, the combinators
 * and the sources that need no parser (range, iter, lines, gen).
 */
#ifndef MW_L_ITER_H
#define MW_L_ITER_H

#include <stdio.h>

#include "lua/state.h"

typedef struct mw_lua_iter mw_lua_iter;

/* What an iterator is: its name, its next and its close (see l_iter.c). */
typedef struct mw_lua_iter_kind {
    const char *name;
    /* Pushes the next item (its values) and returns their count, 0 at
     * the end. self is the iterator's stack index. May raise. */
    int (*next)(lua_State *L, mw_lua_iter *it, int self);
    /* Releases what the iterator holds outside Lua (a file, memory).
     * Called once, never while next runs; self is the iterator's stack
     * index. May be NULL. */
    void (*close)(lua_State *L, mw_lua_iter *it, int self);
} mw_lua_iter_kind;

struct mw_lua_iter {
    const mw_lua_iter_kind *kind;
    int done;                /* exhausted or closed: next is never called */
    lua_Integer count;       /* items produced (enumerate, take, skip...) */
    lua_Integer limit;       /* take/skip/batch/window sizes */
    lua_Integer step;
    double from, to, by;     /* range */
    FILE *file;              /* lines: the open file, or NULL */
    int owns_file;           /* close the file on close (not for stdin) */
    size_t pos;              /* window: start of the last window */
    size_t end;              /* window: values held in the buffer */
    void *data;              /* a source's own state (data_size bytes) */
    lua_Integer errors;      /* malformed items skipped (it:errors()) */
    int running;             /* next is running: a close must wait */
    int close_pending;       /* closed while next ran */
    int closed;              /* kind->close has run */
    int depth;               /* stages of the pipeline up to this one */
    unsigned uncharged;      /* items pulled, not yet charged to the limits */
};

/* Pushes a new iterator of the given kind, with data_size bytes of its
 * own (zeroed, at it->data, aligned for any type), and returns it. */
mw_lua_iter *mw_lua_iter_new(lua_State *L, const mw_lua_iter_kind *kind, size_t data_size);

/* Registers the iterator class and sets mw.range, mw.iter, mw.lines and
 * mw.gen in the module table at the top of the stack. */
void mw_lua_open_iter(lua_State *L, mw_lua_state *st);

#endif /* MW_L_ITER_H */
