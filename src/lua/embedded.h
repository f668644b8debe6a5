/*
 * embedded.h: text files built into the library or the command as C
 * arrays (tools/embed.c writes them at build time), so that nothing they
 * need has to be found beside the binary at run time.
 *
 * The library carries the shipped pipelines (the files of pipelines/), which
 * luaopen_moonwatch registers in package.preload; the command carries
 * its own Lua parts (src/cli/embedded.h).
 */
#ifndef MW_LUA_EMBEDDED_H
#define MW_LUA_EMBEDDED_H

#include <stddef.h>

typedef struct mw_embedded {
    const char *name;        /* "commands", "pipelines/default", ... */
    const char *text;
    size_t len;
} mw_embedded;

/* The shipped pipelines, named "pipelines/<name>", ending with a
 * {NULL, NULL, 0} entry. */
extern const mw_embedded mw_lua_pipelines[];

#endif /* MW_LUA_EMBEDDED_H */
