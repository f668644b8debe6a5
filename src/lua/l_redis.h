/*
 * l_redis.h: mw.redis, a Redis client for scripts (connections, stream
 * sources and sinks); in a build without hiredis, a table that says so.
 */
#ifndef MW_L_REDIS_H
#define MW_L_REDIS_H

#include "lua/state.h"

/* Pushes the mw.redis table. */
void mw_lua_open_redis(lua_State *L, mw_lua_state *st);

#endif /* MW_L_REDIS_H */
