/*
 * l_fs.h: mw.fs, the few file-system calls the commands need (listing a
 * directory tree, making directories), in POSIX.
 */
#ifndef MW_L_FS_H
#define MW_L_FS_H

#include "lua/state.h"

/* Pushes the mw.fs table. */
void mw_lua_open_fs(lua_State *L, mw_lua_state *st);

#endif /* MW_L_FS_H */
