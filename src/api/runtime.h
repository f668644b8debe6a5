/*
 * runtime.h: what the modules of the C API built on mw_runtime (feed.c)
 * use of it. Internal: hosts see moonwatch.h only.
 *
 * An entry is one protected run of Lua code on behalf of the host:
 * mw_runtime_enter arms the instruction and time limits, clears the last
 * error and the kept results, runs fn under lua_pcall with a message
 * handler adding the traceback, and turns the outcome into a status,
 * keeping the message for mw_runtime_error.
 */
#ifndef MW_API_RUNTIME_H
#define MW_API_RUNTIME_H

#include <lua.h>

#include "core/alloc.h"
#include "moonwatch.h"

typedef struct mw_feed mw_feed;

/* Runs fn(L) protected, with ud as a light userdata at index 1 and
 * nothing else on the stack. Returns MW_OK; the status fn gave with
 * mw_runtime_fail_as before raising; MW_EBUDGET or MW_ENOMEM for Lua's
 * own allocation failures; MW_ESCRIPT for any other error. */
int mw_runtime_enter(mw_runtime *rt, lua_CFunction fn, void *ud);

/* Inside an entry: the error about to be raised is status s (MW_ETYPE,
 * MW_EINVAL ...), not the script's. */
void mw_runtime_fail_as(lua_State *L, mw_status s);

/* Inside an entry: as mw_runtime_fail_as, and the error about to be
 * raised is a plain message for the host (a bad parameter), shown without
 * a traceback. */
void mw_runtime_fail_plain(lua_State *L, mw_status s);

/* The runtime of a state made by mw_runtime_new (any of its threads). */
mw_runtime *mw_runtime_of(lua_State *L);

/* The runtime's allocator. */
mw_alloc *mw_runtime_alloc(mw_runtime *rt);

/* The runtime's feed, made with the runtime (mw_feed_new) and freed with
 * it (mw_feed_free). */
mw_feed **mw_runtime_feed(mw_runtime *rt);

/* A new feed from a, or NULL when memory runs out. In feed.c. */
mw_feed *mw_feed_new(mw_alloc *a);

/* Frees f (may be NULL), whose memory came from a. In feed.c. */
void mw_feed_free(mw_feed *f, mw_alloc *a);

#endif /* MW_API_RUNTIME_H */
