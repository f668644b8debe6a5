/*
 * l_jsonl.h: mw.jsonl, JSON Lines of flat objects.
 */
#ifndef MW_L_JSONL_H
#define MW_L_JSONL_H

#include "lua/state.h"

/* Sets mw.jsonl in the module table at the top of the stack. */
void mw_lua_open_jsonl(lua_State *L, mw_lua_state *st);

#endif /* MW_L_JSONL_H */
