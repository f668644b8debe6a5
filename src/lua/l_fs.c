/*
 * l_fs.c: mw.fs.list(dir [, suffix]), mw.fs.isdir(path),
 * mw.fs.mkdir(path): what `moonwatch detect DIR` and `moonwatch eval`
 * need to find their inputs and write results in NAB's layout.
 *
 * Listing recurses with opendir/readdir and stat (symbolic links are
 * followed; a link that loops ends at PATH_MAX, reported as an error).
 * In a sandbox (lua/sandbox.h) a directory is listed only inside the
 * readable directories, symbolic links are not followed (lstat), isdir
 * answers for those directories only and mkdir refuses.
 * Names are gathered in plain memory while a directory is open and
 * handed to Lua after it is closed, so an error never leaks a handle.
 */
#include "lua/l_fs.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "lua/sandbox.h"

/* Plain memory owned by a userdata: freed by its __gc. */
#define FS_BOX "moonwatch.fs.buffer"
typedef struct fs_box {
    char *p;
} fs_box;

static int fs_box_gc(lua_State *L)
{
    fs_box *box = luaL_checkudata(L, 1, FS_BOX);
    free(box->p);
    box->p = NULL;
    return 0;
}

/* Appends the regular files under base/rel (rel "" at the top) whose
 * names end in suffix to the table at index t, as paths relative to base. */
static void list_into(lua_State *L, int t, const char *base, const char *rel,
                      const char *suffix, int depth, int follow)
{
    if (depth > 64)
        luaL_error(L, "cannot list '%s/%s': directories nested too deep", base, rel);
    const char *dir = *rel ? lua_pushfstring(L, "%s/%s", base, rel) : lua_pushstring(L, base);
    /* The names are gathered in plain memory while the directory is open
     * (no Lua call, which could raise and leak the handle); the memory
     * belongs to a box made first, whose __gc frees it if a Lua error
     * comes later. */
    fs_box *box = lua_newuserdatauv(L, sizeof *box, 0);
    box->p = NULL;
    luaL_setmetatable(L, FS_BOX);
    DIR *d = opendir(dir);
    if (d == NULL)
        luaL_error(L, "cannot list '%s': %s", dir, strerror(errno));
    size_t used = 0, cap = 0;
    int k = 0, failed = 0;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;        /* ".", ".." and hidden names */
        size_t len = strlen(e->d_name) + 1;
        if (used + len > cap) {
            size_t grown = cap ? cap * 2 : 4096;
            while (grown < used + len)
                grown *= 2;
            char *p = realloc(box->p, grown);
            if (p == NULL) {
                failed = ENOMEM;
                break;
            }
            box->p = p;
            cap = grown;
        }
        memcpy(box->p + used, e->d_name, len);
        used += len;
        k++;
        errno = 0;
    }
    if (!failed)
        failed = errno;
    closedir(d);
    if (failed)
        luaL_error(L, "cannot list '%s': %s", dir, strerror(failed));
    const char *held = box->p;
    lua_newtable(L);
    int names = lua_gettop(L);
    size_t at = 0;
    for (int i = 1; i <= k; i++) {
        lua_pushstring(L, held + at);
        at += strlen(held + at) + 1;
        lua_rawseti(L, names, i);
    }
    size_t slen = strlen(suffix);
    for (int i = 1; i <= k; i++) {
        lua_rawgeti(L, names, i);
        const char *name = lua_tostring(L, -1);
        const char *sub = *rel ? lua_pushfstring(L, "%s/%s", rel, name) : lua_pushstring(L, name);
        const char *full = lua_pushfstring(L, "%s/%s", base, sub);
        struct stat sb;
        if ((follow ? stat(full, &sb) : lstat(full, &sb)) == 0) {
            if (S_ISDIR(sb.st_mode)) {
                list_into(L, t, base, sub, suffix, depth + 1, follow);
            } else if (S_ISREG(sb.st_mode)) {
                size_t len = strlen(sub);
                if (len >= slen && strcmp(sub + len - slen, suffix) == 0) {
                    lua_pushvalue(L, -2);
                    lua_rawseti(L, t, (lua_Integer)lua_rawlen(L, t) + 1);
                }
            }
        }
        lua_pop(L, 3);
    }
    lua_pop(L, 3);           /* the directory's name, the box, the names */
}

/* mw.fs.list(dir [, suffix]): the regular files under dir (recursively,
 * hidden names skipped) ending in suffix, as sorted relative paths. */
static int fs_list(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    const char *suffix = luaL_optstring(L, 2, "");
    char resolved[PATH_MAX];
    mw_lua_sandbox_readable(L, dir, resolved, NULL);
    lua_settop(L, 2);
    lua_newtable(L);
    list_into(L, 3, dir, "", suffix, 0, !mw_lua_sandboxed(L));
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_pushvalue(L, 3);
    lua_call(L, 1, 0);
    lua_settop(L, 3);
    return 1;
}

static int fs_isdir(lua_State *L)
{
    struct stat sb;
    char resolved[PATH_MAX];
    int missing = 0;
    const char *path = mw_lua_sandbox_readable(L, luaL_checkstring(L, 1), resolved, &missing);
    lua_pushboolean(L, path != NULL && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode));
    return 1;
}

/* mw.fs.mkdir(path): makes path and its missing parents (as mkdir -p);
 * returns true, or raises naming the part that could not be made. */
static int fs_mkdir(lua_State *L)
{
    size_t len;
    const char *path = luaL_checklstring(L, 1, &len);
    mw_lua_sandbox_writable(L, path);
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, len + 1);
    memcpy(p, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        struct stat sb;
        if (mkdir(p, 0777) != 0 && !(errno == EEXIST && stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)))
            return luaL_error(L, "cannot make directory '%s': %s", p,
                              errno == EEXIST ? "a file is in the way" : strerror(errno));
        p[i] = c;
    }
    lua_pushboolean(L, 1);
    return 1;
}

void mw_lua_open_fs(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg funcs[] = {
        {"list", fs_list},
        {"isdir", fs_isdir},
        {"mkdir", fs_mkdir},
        {NULL, NULL}
    };
    if (luaL_newmetatable(L, FS_BOX)) {
        lua_pushcfunction(L, fs_box_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_pop(L, 1);
    lua_createtable(L, 0, 3);
    mw_lua_setfuncs(L, st, funcs);
}
