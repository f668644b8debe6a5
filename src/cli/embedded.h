/*
 * embedded.h: text files built into the moonwatch command (tools/embed.c
 * writes the array): the detect and eval commands and the pipelines.
 */
#ifndef MW_CLI_EMBEDDED_H
#define MW_CLI_EMBEDDED_H

#include <stddef.h>

typedef struct mw_embedded {
    const char *name;        /* "commands", "pipelines/default", ... */
    const char *text;
    size_t len;
} mw_embedded;

/* The command's files, ending with a {NULL, NULL, 0} entry. */
extern const mw_embedded mw_cli_embedded[];

#endif /* MW_CLI_EMBEDDED_H */
