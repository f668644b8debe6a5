/*
 * l_source.c: opening the input of a streaming source (see l_source.h).
 */
#include "lua/l_source.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>

#include "lua/sandbox.h"

void mw_source_open(lua_State *L, mw_source *src, const char *path)
{
    char resolved[PATH_MAX];
    const char *open_path = mw_lua_sandbox_readable(L, path, resolved, NULL);
    src->fd = -1;
    src->owns_fd = 0;
    src->total_bytes = 0;
    int is_stdin = strcmp(path, "-") == 0;
    /* (a copy by hand: gcc -O2 with ASan takes snprintf's "%s" of the
     * conditional for a possible null argument and warns) */
    const char *name = is_stdin ? "stdin" : path;
    size_t name_len = strlen(name);
    if (name_len >= sizeof src->name)
        name_len = sizeof src->name - 1;
    memcpy(src->name, name, name_len);
    src->name[name_len] = '\0';
    if (is_stdin) {
        src->fd = 0;
    } else {
        src->fd = open(open_path, O_RDONLY | O_CLOEXEC);
        if (src->fd < 0)
            luaL_error(L, "cannot open '%s': %s", path, strerror(errno));
        src->owns_fd = 1;
    }
    struct stat sb;
    if (fstat(src->fd, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            mw_source_close(src);
            luaL_error(L, "cannot read '%s': it is a directory", path);
        }
        if (S_ISREG(sb.st_mode))
            src->total_bytes = (uint64_t)sb.st_size;
    }
}

void mw_source_close(mw_source *src)
{
    if (src->owns_fd && src->fd >= 0)
        close(src->fd);
    src->fd = -1;
    src->owns_fd = 0;
}
