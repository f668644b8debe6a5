/*
 * embedded.h: text files built into the moonwatch command (tools/embed.c
 * writes the array): the detect and eval commands. The pipelines are the
 * library's (lua/embedded.h).
 */
#ifndef MW_CLI_EMBEDDED_H
#define MW_CLI_EMBEDDED_H

#include "lua/embedded.h"

/* The command's files, ending with a {NULL, NULL, 0} entry. */
extern const mw_embedded mw_cli_embedded[];

#endif /* MW_CLI_EMBEDDED_H */
