/*
 * l_source.h: opening the input of a streaming source (mw.csv, mw.jsonl):
 * a path, or "-" for standard input, with the errors users should see.
 */
#ifndef MW_L_SOURCE_H
#define MW_L_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

typedef struct mw_source {
    int fd;                  /* -1 when not open */
    int owns_fd;             /* close it when done (not standard input) */
    uint64_t total_bytes;    /* size of a regular file, else 0 */
    char name[128];          /* for messages: the path, or "stdin" */
} mw_source;

/* Opens path ("-": standard input) into *src. Raises "cannot open 'p':
 * reason" or "cannot read 'p': it is a directory", leaving src closed;
 * in a sandbox, the sandbox's refusal of a path outside the readable
 * directories, and of standard input (lua/sandbox.h). */
void mw_source_open(lua_State *L, mw_source *src, const char *path);

/* Closes what mw_source_open opened; idempotent. */
void mw_source_close(mw_source *src);

#endif /* MW_L_SOURCE_H */
