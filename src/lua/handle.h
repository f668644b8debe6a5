/*
 * handle.h: Lua handles for native heap objects.
 *
 * A handle is a full userdata holding one reference to its object. Its
 * __gc drops the reference; __close and :release() drop it early, after
 * which any use raises "attempt to use a released <type>". One object has
 * at most one live handle: a weak-valued cache keyed by the object's
 * address returns the existing one, so `==` and table keys work. Each
 * handle has one user value slot, where Lua values an object needs (a
 * callback, say) live: the native heap never holds them.
 *
 * Each handle class has one metatable, stored in the registry under the
 * address of its mw_type, so pushing an object finds its class from the
 * object alone.
 */
#ifndef MW_LUA_HANDLE_H
#define MW_LUA_HANDLE_H

#include "core/value.h"
#include "lua/state.h"

typedef struct mw_handle {
    mw_object *obj;          /* NULL once released */
    size_t kept;             /* the reference's slot in the module state's
                              * kept table (mw_lua_keep), 0 if none */
} mw_handle;

/* Creates the metatable of a handle class for type t: __name is
 * "moonwatch.<name>", `meta` are its metamethods, `methods` go into a
 * table that index_fn receives as upvalue 2 (index_fn may be NULL: then
 * __index is the methods table). __gc, __close, release and a default
 * __tostring are added unless given. Leaves nothing on the stack. */
void mw_lua_newclass(lua_State *L, mw_lua_state *st, const mw_type *t,
                     const luaL_Reg *meta, const luaL_Reg *methods,
                     lua_CFunction index_fn);

/* Reads the value a push is for, again if need be: returns 0 if it is
 * gone (its container released, shrunk or changed), else stores it in
 * *out (borrowed). ctx is the reader's own. */
typedef int (*mw_lua_reader)(lua_State *L, void *ctx, mw_value *out);

/* Pushes the Lua value of what `read` reads from a container, or nil if
 * it is gone.
 *
 * Why a reader and not a value: making a handle allocates a Lua userdata,
 * and any Lua allocation may run a script's __gc, which may clear the
 * container or release its handle, freeing the very object being pushed.
 * So the handle is allocated first, then the value read again, and only
 * then is the reference taken. Raises on memory exhaustion; nothing leaks. */
void mw_lua_push_read(lua_State *L, mw_lua_state *st, mw_lua_reader read, void *ctx);

/* Pushes v when it needs no handle (nil, boolean, number, string): no
 * script code can run before its bytes are copied. */
void mw_lua_push_plain(lua_State *L, mw_value v);

/* Pushes a new handle of class t that holds nothing yet: constructors
 * push it first, then build the object and bind it, so that an error
 * raised while the object is filled in leaves it owned by the handle. */
mw_handle *mw_lua_new_handle(lua_State *L, mw_lua_state *st, const mw_type *t);

/* Gives the handle h, at the top of the stack, the caller's reference to o
 * (steals) and records it in the cache. */
void mw_lua_bind(lua_State *L, mw_lua_state *st, mw_handle *h, mw_object *o);

/* Returns the object of the handle of type t at idx (borrowed). Raises
 * "bad argument #idx ... (<type> expected, got ...)" for anything else and
 * "attempt to use a released <type>" for a released handle. */
mw_object *mw_lua_check_object(lua_State *L, int idx, const mw_type *t);

/* Returns the handle at idx if it is a moonwatch handle of any class
 * (released or not), else NULL. */
mw_handle *mw_lua_test_handle(lua_State *L, int idx);

/* The Lua function release(obj): obj:release(), __close and
 * mw.release. Raises for anything but a handle. */
int mw_lua_release_fn(lua_State *L);

/* Drops the handle's reference (no-op if released already). */
void mw_lua_release(lua_State *L, mw_lua_state *st, mw_handle *h);

#endif /* MW_LUA_HANDLE_H */
