/*
 * fuzz_sandbox.c: generated Lua snippets run in a sandboxed runtime
 * (mw_runtime_config.sandbox, docs/security.md).
 *
 * Byte 0 chooses how the rest becomes a script: even, the bytes are the
 * script's text (the seed corpus is the red-team suite, tests/sandbox,
 * which libFuzzer mutates); odd, each byte picks a piece from a table of
 * Lua fragments that reach for the sandbox's edges (metatables, load,
 * coroutines, patterns, the string and table functions, moonwatch's
 * objects), so that mostly valid but odd programs come out.
 *
 * What must hold, for any script:
 *   - the host never crashes and every entry returns (the instruction
 *     and time limits end loops, wherever they are);
 *   - an entry that fails has a message; the status is one of the
 *     statuses documented for it;
 *   - the runtime goes on: a later chunk runs, sees the libraries as they
 *     were (nothing the script did changed them for the next script) and
 *     cannot see the script's globals;
 *   - memory stays within the budget, and freeing the runtime gives every
 *     byte back (the host allocator below counts them).
 */
#include <string.h>

#include "fuzz.h"
#include "moonwatch.h"

/* The host's allocator: counts what is live, to check the runtime gives
 * it all back. */
typedef struct fuzz_heap {
    size_t live;
} fuzz_heap;

static void *fuzz_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    fuzz_heap *h = ud;
    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        free(ptr);
        h->live -= osize;
        return NULL;
    }
    void *q = realloc(ptr, nsize);
    if (q != NULL)
        h->live = h->live - osize + nsize;
    return q;
}

static const char *const pieces[] = {
    "local t = {} ", "t = setmetatable({}, {__index = function(t, k) return k end}) ",
    "getmetatable('') ", "getmetatable('').__index = nil ", "string.rep('ab', 1e5) ",
    "('x'):rep(1e6) ", "load('return 1 + 1')() ", "load(string.dump(print)) ",
    "load('x = 1', 'c', 't', {}) ", "rawset(_G, 'print', nil) ", "rawset(string, 'upper', nil) ",
    "_G.string = nil ", "string.upper = nil ", "setmetatable(_G, nil) ", "_ENV = {} ",
    "coroutine.wrap(function() coroutine.yield(1) end)() ",
    "for i = 1, 100 do coroutine.create(print) end ",
    "string.find(string.rep('a', 3000), string.rep('a*', 20) .. 'b') ",
    "string.gsub('hello world', '%w+', function(w) return w:upper() end) ",
    "string.format('%5.2f %s %q', 1.5, 'x', 'y') ", "table.concat({1, 2, 3}, ',') ",
    "table.sort({3, 1, 2}, function(a, b) return a > b end) ",
    "pcall(error, {}) ", "xpcall(function() error('x') end, debug and debug.traceback or print) ",
    "local s = mw.series{1, 2, 3} ", "s = mw.series.zeros(1000) ", "s:release() ", "s:mean() ",
    "mw.detect.zscore{window = 1e12} ", "mw.detect.zscore{window = 10}:run(mw.series{1, 2}) ",
    "mw.csv('/etc/passwd') ", "io.open('/etc/passwd') ", "os.execute('true') ", "os.time() ",
    "require('os') ", "package.loadlib('libc.so.6', 'system') ", "collectgarbage('stop') ",
    "collectgarbage('count') ", "while true do end ", "repeat local x = {} until false ",
    "local function f() return f() end f() ", "local function g() g() end g() ",
    "do local x <close> = setmetatable({}, {__close = function() end}) end ",
    "setmetatable({}, {__gc = function() while true do end end}) = nil ",
    "t = nil ", "x = x or 0 x = x + 1 ", "goto done ::done:: ", "return ", "end ", "( ", ") ",
    "{ ", "} ", "function() ", "if x then ", "else ", "local a, b = ", "'", "\"", "[[", "]]",
    ", ", ". ", ": ", "1e308 ", "0/0 ", "math.mininteger // -1 ", "#t ", "t[1] = t ",
    "utf8.char(0x10FFFF) ", "select('#', ...) ", "next({}) ", "tostring(nil) ",
};

#define N_PIECES (sizeof pieces / sizeof *pieces)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    char *script;
    size_t len = 0;
    if ((data[0] & 1) == 0) {
        script = malloc(size);
        FUZZ_CHECK(script != NULL);
        memcpy(script, data + 1, size - 1);
        len = size - 1;
        script[len] = '\0';
        if (strlen(script) != len) {   /* a NUL inside: the C API takes C strings */
            free(script);
            return 0;
        }
    } else {
        size_t cap = 1;
        for (size_t i = 1; i < size; i++)
            cap += strlen(pieces[data[i] % N_PIECES]);
        script = malloc(cap);
        FUZZ_CHECK(script != NULL);
        for (size_t i = 1; i < size; i++) {
            const char *p = pieces[data[i] % N_PIECES];
            size_t n = strlen(p);
            memcpy(script + len, p, n);
            len += n;
        }
        script[len] = '\0';
    }

    fuzz_heap heap = {0};
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    cfg.sandbox = 1;
    cfg.max_memory = (size_t)16 << 20;
    cfg.max_instructions = 200000;
    cfg.max_seconds = 1.0;
    cfg.max_coroutines = 100;
    cfg.alloc = fuzz_alloc;
    cfg.alloc_ud = &heap;
    cfg.print = NULL;
    mw_runtime *rt = mw_runtime_new(&cfg);
    FUZZ_CHECK(rt != NULL);

    int status = mw_runtime_load_string(rt, script, "=fuzz");
    FUZZ_CHECK(status == MW_OK || status == MW_ESCRIPT || status == MW_EBUDGET ||
               status == MW_ENOMEM);
    if (status != MW_OK)
        FUZZ_CHECK(mw_runtime_error(rt)[0] != '\0');
    /* a second run of the same script in the same runtime: whatever the
     * first left behind must not break it or the host */
    status = mw_runtime_load_string(rt, script, "=fuzz again");
    FUZZ_CHECK(status == MW_OK || status == MW_ESCRIPT || status == MW_EBUDGET ||
               status == MW_ENOMEM);

    /* The next script sees the libraries intact and none of the fuzz
     * script's globals. */
    status = mw_runtime_load_string(rt,
        "assert(type(string.rep) == 'function' and ('ab'):upper() == 'AB')\n"
        "assert(string.format('%d', 42) == '42' and math.floor(2.5) == 2)\n"
        "assert(select('#', table.unpack({1, 2, 3})) == 3)\n"
        "assert(x == nil and t == nil and s == nil)\n"
        "assert(mw.series{1, 2, 3}:sum() == 6)\n"
        "function check() return 7 end\n", "=after");
    if (status != MW_OK)
        fprintf(stderr, "fuzz_sandbox: the runtime after the script: %s\n", mw_runtime_error(rt));
    FUZZ_CHECK(status == MW_OK);
    double seven = 0.0;
    FUZZ_CHECK(mw_runtime_call(rt, "check", NULL, 0, &seven) == MW_OK && seven == 7.0);

    mw_memory mem;
    FUZZ_CHECK(mw_runtime_memory(rt, &mem) == MW_OK);
    FUZZ_CHECK(mem.total <= mem.budget);
    mw_runtime_free(rt);
    FUZZ_CHECK(heap.live == 0);
    free(script);
    return 0;
}
