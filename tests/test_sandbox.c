/*
 * test_sandbox.c: the sandbox of mw_runtime_config.sandbox (lua/sandbox.h,
 * docs/security.md).
 *
 * - The red-team suite: every Lua file of tests/sandbox (run from that
 *   directory, which meson makes the working directory) is a hostile
 *   script whose first line says what must happen: "-- expect: <part of
 *   the error>", or "-- expect: ok". A second line "-- runtime: time"
 *   runs it where only the time limit is set. Each runs twice: in one
 *   long-lived runtime shared by the whole suite, and in a fresh one.
 *   After each, the long-lived runtime must still run a script and a
 *   call, its peak must be within the budget, and a full collection
 *   must bring its memory back to within SANDBOX_SLACK of where it was.
 * - Scripts cannot reach each other: what one writes (globals, library
 *   tables, metatables) is not what the next one sees.
 * - The counted pattern, table and string.rep functions give what Lua's
 *   give, on corpora run in a plain runtime and in a sandboxed one.
 * - The configuration: defaults, readable directories, bytecode refused.
 */
#include <dirent.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "moonwatch.h"

/* The budget of the red-team runtimes, and how far above its starting
 * point a runtime's memory may stay after a hostile script and a full
 * collection (Lua keeps its string table and stack grown). */
#define SANDBOX_BUDGET ((size_t)8 << 20)
#define SANDBOX_SLACK ((size_t)256 << 10)
#define SANDBOX_INSTRUCTIONS 2000000UL

static void discard_print(void *ud, const char *text, size_t len)
{
    (void)ud;
    (void)text;
    (void)len;
}

/* A sandboxed runtime as the red-team suite uses it: 32 MiB, and either
 * the instruction limit (with a wall-time limit far beyond it, as a
 * guard) or only a short time limit. */
static mw_runtime *sandbox_new(int time_only)
{
    static const char *const dirs[] = {"data", NULL};
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    cfg.sandbox = 1;
    cfg.readable_dirs = dirs;
    cfg.max_memory = SANDBOX_BUDGET;
    cfg.max_instructions = time_only ? 0 : SANDBOX_INSTRUCTIONS;
    cfg.max_seconds = time_only ? 0.3 : 60.0;
    cfg.max_coroutines = 1000;
    cfg.print = discard_print;
    return mw_runtime_new(&cfg);
}

/* Runs a trivial script and call in rt: both must work. */
static void assert_usable(mw_runtime *rt, const char *after)
{
    int status = mw_runtime_load_string(rt, "function ping(x) return x + 1 end", "=ping");
    if (status != MW_OK)
        fail_msg("after %s: a trivial script fails: %s", after, mw_runtime_error(rt));
    double x = 41, y = 0;
    status = mw_runtime_call(rt, "ping", &x, 1, &y);
    if (status != MW_OK || y != 42)
        fail_msg("after %s: a trivial call fails: %s", after, mw_runtime_error(rt));
}

/* Collects everything and returns rt's total bytes. (Lua frees half of
 * a thread's unused call records per collection: after a deep recursion
 * it takes a few.) */
static size_t collected_total(mw_runtime *rt)
{
    assert_int_equal(mw_runtime_load_string(rt, "mw.gc.collect() for i = 1, 10 do collectgarbage() end",
                                            "=collect"),
                     MW_OK);
    mw_memory m;
    assert_int_equal(mw_runtime_memory(rt, &m), MW_OK);
    return m.total;
}

/* {====================================================================
 * The red-team suite
 * ===================================================================== */

typedef struct script {
    char name[128];
    char *text;
    char expect[160];        /* "ok" or part of the error */
    int time_only;
} script;

/* Reads name (in the working directory) and its header. */
static int script_read(const char *name, script *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    FILE *f = fopen(name, "rb");
    if (f == NULL)
        return 0;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    s->text = malloc((size_t)len + 1);
    if (s->text == NULL || fread(s->text, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        return 0;
    }
    fclose(f);
    s->text[len] = '\0';
    static const char mark[] = "-- expect: ";
    if (strncmp(s->text, mark, sizeof mark - 1) != 0)
        return 0;
    const char *from = s->text + sizeof mark - 1;
    size_t n = strcspn(from, "\n");
    if (n == 0 || n >= sizeof s->expect)
        return 0;
    memcpy(s->expect, from, n);
    s->time_only = strstr(s->text, "\n-- runtime: time\n") != NULL;
    return 1;
}

/* Runs s in rt and checks its outcome. */
static void script_check(mw_runtime *rt, const script *s, const char *where)
{
    char chunkname[140];
    snprintf(chunkname, sizeof chunkname, "=%s", s->name);
    int status = mw_runtime_load_string(rt, s->text, chunkname);
    if (strcmp(s->expect, "ok") == 0) {
        if (status != MW_OK)
            fail_msg("%s (%s): expected success, got: %s", s->name, where, mw_runtime_error(rt));
        return;
    }
    if (status == MW_OK)
        fail_msg("%s (%s): expected an error with '%s', the script succeeded", s->name, where,
                 s->expect);
    if (strstr(mw_runtime_error(rt), s->expect) == NULL)
        fail_msg("%s (%s): expected an error with '%s', got: %s", s->name, where, s->expect,
                 mw_runtime_error(rt));
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_red_team(void **state)
{
    (void)state;
    DIR *d = opendir(".");
    assert_non_null(d);
    char *names[256];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 256) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".lua") == 0)
            names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, name_cmp);
    if (n < 35)
        fail_msg("only %zu scripts in tests/sandbox: is it the working directory?", n);

    mw_runtime *shared[2] = {sandbox_new(0), sandbox_new(1)};
    assert_non_null(shared[0]);
    assert_non_null(shared[1]);
    size_t baseline[2];
    for (int k = 0; k < 2; k++) {
        assert_usable(shared[k], "start");
        /* The native heap keeps its first pool arena (1 MiB) once made:
         * the baseline is taken with it. */
        assert_int_equal(mw_runtime_load_string(shared[k], "mw.list{1}:release()", "=warm"), MW_OK);
        baseline[k] = collected_total(shared[k]);
    }
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        script s;
        if (!script_read(names[i], &s))
            fail_msg("%s: unreadable, or no '-- expect: ' first line", names[i]);
        mw_runtime *rt = shared[s.time_only];
        script_check(rt, &s, "shared runtime");
        assert_usable(rt, s.name);
        mw_memory m;
        assert_int_equal(mw_runtime_memory(rt, &m), MW_OK);
        if (m.peak > SANDBOX_BUDGET)
            fail_msg("%s: peak %zu over the budget", s.name, m.peak);
        size_t after = collected_total(rt);
        if (after > baseline[s.time_only] + SANDBOX_SLACK) {
            print_message("%s: %zu bytes left after a full collection (started at %zu)\n",
                          s.name, after, baseline[s.time_only]);
            failures++;
        }

        mw_runtime *fresh = sandbox_new(s.time_only);
        assert_non_null(fresh);
        script_check(fresh, &s, "fresh runtime");
        assert_usable(fresh, s.name);
        mw_runtime_free(fresh);
        free(s.text);
        free(names[i]);
    }
    assert_int_equal(failures, 0);
    mw_runtime_free(shared[0]);
    mw_runtime_free(shared[1]);
}

/* }==================================================================== */

/* {====================================================================
 * Isolation between scripts
 * ===================================================================== */

/* Each chunk plants what it can, then the next checks the world is as
 * Lua made it. */
static void test_no_planting(void **state)
{
    (void)state;
    mw_runtime *rt = sandbox_new(0);
    assert_non_null(rt);
    static const char *const plants[] = {
        "tostring = function() return 'planted' end",
        "_G.print = nil _G.string = {}",
        "setmetatable(_G, {__index = function() return 'planted' end})",
        "pcall(function() string.upper = function() return 'planted' end end)",
        "pcall(function() getmetatable('').__index.upper = nil end)",
        "pcall(rawset, string, 'upper', function() return 'planted' end)",
        "pcall(rawset, getmetatable(_G).__index, 'tostring', print)",
        "pcall(function() mw.detect.zscore = nil end)",
        "pcall(function() local env = getmetatable(_G).__index env.x = 1 end)",
        "helper = function() return 'planted' end",
        "pcall(load('tostring = nil', 'x', 't', getmetatable(_G).__index))",
    };
    static const char check[] =
        "assert(tostring(1) == '1') assert(string.upper('a') == 'A')\n"
        "assert(('a'):upper() == 'A') assert(type(print) == 'function')\n"
        "assert(mw.detect.zscore ~= nil) assert(helper == nil) assert(x == nil)\n"
        "assert(unknown_global == nil)";
    for (size_t i = 0; i < sizeof plants / sizeof *plants; i++) {
        mw_runtime_load_string(rt, plants[i], "=plant");
        if (mw_runtime_load_string(rt, check, "=check") != MW_OK)
            fail_msg("after '%s': %s", plants[i], mw_runtime_error(rt));
        /* and a call finds nothing of the planting chunk */
        assert_int_equal(mw_runtime_call(rt, "helper", NULL, 0, NULL), MW_ETYPE);
    }
    mw_runtime_free(rt);
}

/* A chunk's functions are what calls find, until the next load; a chunk
 * that fails leaves nothing to call. */
static void test_script_environment(void **state)
{
    (void)state;
    mw_runtime *rt = sandbox_new(0);
    assert_non_null(rt);
    double x = 2, y = 0;
    assert_int_equal(mw_runtime_load_string(rt, "local k = 10 function f(x) return k * x end "
                                                "function g() k = k + 1 return k end", "=a"),
                     MW_OK);
    assert_int_equal(mw_runtime_call(rt, "f", &x, 1, &y), MW_OK);
    assert_true(y == 20);
    assert_int_equal(mw_runtime_call(rt, "g", NULL, 0, &y), MW_OK);
    assert_int_equal(mw_runtime_call(rt, "g", NULL, 0, &y), MW_OK);
    assert_true(y == 12);   /* state lives across calls */
    assert_int_equal(mw_runtime_load_string(rt, "function h() return 1 end", "=b"), MW_OK);
    assert_int_equal(mw_runtime_call(rt, "f", &x, 1, &y), MW_ETYPE);
    assert_int_equal(mw_runtime_call(rt, "h", NULL, 0, &y), MW_OK);
    assert_int_equal(mw_runtime_load_string(rt, "function h() return 2 end error('no')", "=c"),
                     MW_ESCRIPT);
    assert_int_equal(mw_runtime_call(rt, "h", NULL, 0, &y), MW_ETYPE);
    assert_non_null(strstr(mw_runtime_error(rt), "'h' is not a function"));
    /* a limit ends a call; the script's state stays for the next call */
    assert_int_equal(mw_runtime_load_string(rt, "n = 0 function spin() n = n + 1 while true do end "
                                                "end function count() return n end", "=d"),
                     MW_OK);
    assert_int_equal(mw_runtime_call(rt, "spin", NULL, 0, NULL), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "instruction limit exceeded"));
    assert_int_equal(mw_runtime_call(rt, "count", NULL, 0, &y), MW_OK);
    assert_true(y == 1);
    mw_runtime_free(rt);
}

/* A pipeline file the host chooses is a script too: it runs sandboxed. */
static void test_pipeline_file(void **state)
{
    (void)state;
    static const char benign[] =
        "return {params = {}, new = function()\n"
        "  return {threshold = 0.5, run = function(self, values) return values end}\n"
        "end}\n";
    static const char reads[] =
        "return {params = {}, new = function()\n"
        "  return {run = function(self, values) return io.open('/etc/passwd') end}\n"
        "end}\n";
    static const char plants[] = "string.upper = nil return {new = function() end}\n";
    const char *texts[] = {benign, reads, plants};
    char paths[3][64];
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof paths[i], "test_sandbox_pipeline_%d.lua", i);
        FILE *f = fopen(paths[i], "w");
        assert_non_null(f);
        fputs(texts[i], f);
        fclose(f);
    }
    mw_runtime *rt = sandbox_new(0);
    assert_non_null(rt);
    double score = 0;
    assert_int_equal(mw_runtime_pipeline(rt, paths[0], NULL), MW_OK);
    assert_int_equal(mw_runtime_push(rt, "a", 0, 0.25, &score), MW_OK);
    assert_true(score == 0.25);
    assert_int_equal(mw_runtime_pipeline(rt, paths[1], NULL), MW_OK);
    assert_int_equal(mw_runtime_push(rt, "b", 0, 1.0, &score), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "attempt to index a nil value (global 'io')"));
    assert_int_equal(mw_runtime_pipeline(rt, paths[2], NULL), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "cannot set 'upper' of 'string'"));
    /* the series of the first pipeline still works */
    assert_int_equal(mw_runtime_push(rt, "a", 1, 0.5, &score), MW_OK);
    assert_true(score == 0.5);
    mw_runtime_free(rt);
    for (int i = 0; i < 3; i++)
        remove(paths[i]);
}

/* }==================================================================== */

/* {====================================================================
 * The counted functions against Lua's
 * ===================================================================== */

static const char match_corpus[] =
    "local subjects = {'', 'hello world', 'aaa', '  key = value  ', '(foo(bar))baz',\n"
    "  'THE (quick) fox', 'abc123def', 'a.b.c', 'x=1, y=2', '\\0a\\0b', 'one two  three',\n"
    "  '[[nested]]', '%d%a', 'aaab', 'ab\\nab', 'caf\\xc3\\xa9 12.5e3', 'THE END'}\n"
    "local patterns = {'', 'a', '^a', 'a$', '^$', '.', '%a+', '%d+', '(%a+)%s*=%s*(%a+)',\n"
    "  '()a()', '%bxy', '%b()', '%f[%w]%w+', '%f[%W]', '[%a_][%w_]*', '[^%s]+', 'a-b', 'a*',\n"
    "  '.-', '(a)(b)?', '%s*$', '[a-c]+', '[]]', '[^]]', '[%]]', '(%a)%1', '%', '[a', '(()',\n"
    "  '%b', '%f', '%fx', '%1', '(a)%2', '%0', '%g+', '[%d%.]+', '^(%s*)(.-)(%s*)$', '((a)(b))',\n"
    "  'x*$', '[a-]', '[-a]', '%w-%d', '()', '(.)%1', '%z', '\\0', '[%z]', 'a?a?a?aaa', '^(a+)$',\n"
    "  '(%d+)(%a*)', '[%p]', '[%U]+', '%S+', '%c', '%x+', '%l%u', '.-(%s)', 'a)', '(a',\n"
    "  '(()())', '[^%a%d]', 'e$', '$a', 'a$b', '%$', '%.', '[.]', '(h)(e)(l)(l)(o)', '^%s*(.-)%s*$'}\n"
    "local inits = {false, -2, 100}\n"
    "local repls = {'<%0>', '%1-%1', '%%', '%2', 'x%', '%a',\n"
    "  function(...) return select('#', ...) .. ':' .. table.concat({...}, ',') end,\n"
    "  function() return false end, function() return {} end,\n"
    "  {a = 'A', hello = false, e = 1, [' '] = '_'}}\n"
    "local function norm(...)\n"
    "  local t = table.pack(...)\n"
    "  for i = 1, t.n do\n"
    "    local v = t[i]\n"
    "    if type(v) == 'string' then v = string.format('%q', v)\n"
    "      v = v:gsub(\"to '[^']*'\", \"to '?'\") end\n"
    "    t[i] = tostring(v)\n"
    "  end\n"
    "  return table.concat(t, '|', 1, t.n)\n"
    "end\n"
    "function corpus()\n"
    "  local out = {}\n"
    "  for _, s in ipairs(subjects) do\n"
    "    for _, p in ipairs(patterns) do\n"
    "      for _, i in ipairs(inits) do\n"
    "        local init = i or nil\n"
    "        out[#out + 1] = norm(pcall(string.find, s, p, init))\n"
    "        out[#out + 1] = norm(pcall(string.find, s, p, init, true))\n"
    "        out[#out + 1] = norm(pcall(string.match, s, p, init))\n"
    "        out[#out + 1] = norm(pcall(function()\n"
    "          local got = {}\n"
    "          for a, b in string.gmatch(s, p, init) do\n"
    "            got[#got + 1] = tostring(a) .. '/' .. tostring(b)\n"
    "            if #got > 40 then break end\n"
    "          end\n"
    "          return table.concat(got, ';')\n"
    "        end))\n"
    "      end\n"
    "      for k, r in ipairs(repls) do\n"
    "        out[#out + 1] = norm(pcall(string.gsub, s, p, r))\n"
    "        if k <= 3 then out[#out + 1] = norm(pcall(string.gsub, s, p, r, 1)) end\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "  return table.concat(out, '\\n')\n"
    "end\n";

/* The counted table functions and string.rep (lua/counted.c), on cases
 * of every branch and error. */
static const char table_corpus[] =
    "local function dump(t)\n"
    "  local out = {}\n"
    "  for i = -1, 8 do\n"
    "    local v = rawget(t, i)\n"
    "    out[#out + 1] = type(v) == 'table' and 'table' or tostring(v)\n"
    "  end\n"
    "  return table.concat(out, ',')\n"
    "end\n"
    "local function norm(...)\n"
    "  local t = table.pack(...)\n"
    "  for i = 1, t.n do\n"
    "    local v = t[i]\n"
    "    if type(v) == 'table' then v = dump(v) end\n"
    "    if type(v) == 'string' then v = v:gsub(\"to '[^']*'\", \"to '?'\") end\n"
    "    t[i] = tostring(v)\n"
    "  end\n"
    "  return table.concat(t, '|', 1, t.n)\n"
    "end\n"
    "local proxy = setmetatable({}, {__index = function(_, k) return 'v' .. k end,\n"
    "  __newindex = function() end, __len = function() return 5 end})\n"
    "local udlike = setmetatable({}, {__len = function() return 3 end})\n"
    "local cases = {\n"
    "  {'insert', {1, 2, 3}, 'x'}, {'insert', {1, 2, 3}, 1, 'x'}, {'insert', {1, 2, 3}, 4, 'x'},\n"
    "  {'insert', {1, 2, 3}, 5, 'x'}, {'insert', {1, 2, 3}, 0, 'x'}, {'insert', {1, 2, 3}, -1, 'x'},\n"
    "  {'insert', {}, 'x'}, {'insert', {1}, 1, 2, 3}, {'insert', {1}}, {'insert', 'str', 1},\n"
    "  {'insert', proxy, 2, 'x'}, {'insert', {1, 2}, 1.5, 'x'}, {'insert', {1, 2}, 'a', 'x'},\n"
    "  {'remove', {1, 2, 3}}, {'remove', {1, 2, 3}, 1}, {'remove', {1, 2, 3}, 3},\n"
    "  {'remove', {1, 2, 3}, 4}, {'remove', {1, 2, 3}, 5}, {'remove', {1, 2, 3}, 0},\n"
    "  {'remove', {}}, {'remove', {}, 0}, {'remove', {}, 1}, {'remove', {}, -1},\n"
    "  {'remove', proxy, 2}, {'remove', nil}, {'remove', udlike, 1},\n"
    "  {'move', {1, 2, 3, 4, 5}, 1, 3, 2}, {'move', {1, 2, 3, 4, 5}, 2, 4, 1},\n"
    "  {'move', {1, 2, 3, 4, 5}, 1, 5, 3}, {'move', {1, 2, 3}, 1, 3, 1, {}},\n"
    "  {'move', {1, 2, 3}, 3, 1, 1}, {'move', {1, 2, 3}, 1, 3, 5, {9}},\n"
    "  {'move', {1, 2, 3}, math.mininteger, -1, 1}, {'move', {1, 2, 3}, 1, 3, math.maxinteger},\n"
    "  {'move', {1, 2, 3}, 1, 2}, {'move', {1, 2, 3}, 1, 2, 3, 'no'}, {'move', proxy, 1, 3, 2},\n"
    "  {'move', {1, 2}, 'a', 2, 1}, {'move', {1, 2, 3}, 0, 2, 1}, {'move', {1, 2, 3}, -2, 1, 2},\n"
    "  {'concat', {1, 2, 3}}, {'concat', {1, 2, 3}, ', '}, {'concat', {1, 2, 3}, '-', 2},\n"
    "  {'concat', {1, 2, 3}, '-', 2, 3}, {'concat', {1, 2, 3}, '-', 3, 2}, {'concat', {}},\n"
    "  {'concat', {1, {}, 3}}, {'concat', {1, 2}, '', 1, 3}, {'concat', {'a', 1.5, 2}},\n"
    "  {'concat', proxy, '+'}, {'concat', {1, 2}, {}}, {'concat', 'str'}, {'concat', {1}, nil, 0, 1},\n"
    "  {'sort', {3, 1, 2}}, {'sort', {3, 1, 2}, function(a, b) return a > b end},\n"
    "  {'sort', {'b', 'a', 'c'}}, {'sort', {3, 'a', 1}}, {'sort', {3, 1}, 'no'},\n"
    "  {'sort', {5, 4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 4, 3, 2, 1}, function() return true end},\n"
    "  {'sort', {}}, {'sort', {{}, {}}}, {'sort', proxy}, {'sort', 'str'},\n"
    "}\n"
    "local reps = {{'ab', 3, ','}, {'', 5}, {'', 5, ','}, {'x', 0}, {'x', -1}, {'', 0, 'y'},\n"
    "  {'', 3, ''}, {'ab', 3.0}, {'ab', 3.5}, {'ab'}, {nil, 2}, {'a', 2, {}}}\n"
    "function corpus()\n"
    "  local out = {}\n"
    "  for _, c in ipairs(cases) do\n"
    "    local f = table[c[1]]\n"
    "    local args = {table.unpack(c, 2, #c)}\n"
    "    local t = args[1]\n"
    "    out[#out + 1] = c[1] .. ': ' .. norm(pcall(f, table.unpack(args, 1, #c - 1)))\n"
    "    if type(t) == 'table' and t ~= proxy then out[#out + 1] = '  ' .. dump(t) end\n"
    "  end\n"
    "  for _, r in ipairs(reps) do\n"
    "    out[#out + 1] = 'rep: ' .. norm(pcall(string.rep, r[1], r[2], r[3]))\n"
    "  end\n"
    "  return table.concat(out, '\\n')\n"
    "end\n";

/* Runs a corpus (text, defining corpus()) in rt and returns its output
 * (malloc'd). */
static char *corpus_run(mw_runtime *rt, const char *text)
{
    if (mw_runtime_load_string(rt, text, "=corpus") != MW_OK)
        fail_msg("corpus: %s", mw_runtime_error(rt));
    mw_val out;
    if (mw_runtime_callv(rt, "corpus", NULL, 0, &out, 1) != MW_OK)
        fail_msg("corpus: %s", mw_runtime_error(rt));
    assert_int_equal(out.type, MW_VSTRING);
    char *copy = malloc(out.len + 1);
    assert_non_null(copy);
    memcpy(copy, out.string, out.len + 1);
    return copy;
}

/* Runs the corpus text in a plain runtime and in a sandboxed one, and
 * checks they give the same, at least min_len bytes of it. */
static void corpus_compare(const char *text, size_t min_len)
{
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    cfg.sandbox = 1;
    cfg.max_seconds = 600.0; /* valgrind is slow */
    mw_runtime *plain = mw_runtime_new(NULL);
    mw_runtime *sandboxed = mw_runtime_new(&cfg);
    assert_non_null(plain);
    assert_non_null(sandboxed);
    char *want = corpus_run(plain, text);
    char *got = corpus_run(sandboxed, text);
    if (strcmp(want, got) != 0) {
        const char *w = want, *g = got;
        int line = 1;
        for (;;) {
            size_t wl = strcspn(w, "\n"), gl = strcspn(g, "\n");
            if (wl != gl || memcmp(w, g, wl) != 0)
                fail_msg("the counted functions differ from Lua's at result %d:\nLua:  %.*s\n"
                         "ours: %.*s", line, (int)wl, w, (int)gl, g);
            w += wl + (w[wl] != '\0');
            g += gl + (g[gl] != '\0');
            line++;
        }
    }
    assert_true(strlen(want) >= min_len); /* the corpus ran whole */
    free(want);
    free(got);
    mw_runtime_free(plain);
    mw_runtime_free(sandboxed);
}

static void test_match_as_lua(void **state)
{
    (void)state;
    corpus_compare(match_corpus, 50000);
}

static void test_table_as_lua(void **state)
{
    (void)state;
    corpus_compare(table_corpus, 3000);
}

/* }==================================================================== */

/* {====================================================================
 * Configuration
 * ===================================================================== */

static void test_config(void **state)
{
    (void)state;
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    assert_int_equal(cfg.sandbox, 0);
    assert_null(cfg.readable_dirs);
    assert_int_equal(cfg.max_coroutines, 0);
    cfg.sandbox = 1;
    mw_runtime *rt = mw_runtime_new(&cfg);
    assert_non_null(rt);
    /* the defaults of a sandbox */
    mw_memory m;
    assert_int_equal(mw_runtime_memory(rt, &m), MW_OK);
    assert_int_equal(m.budget, MW_SANDBOX_MAX_MEMORY);
    assert_int_equal(mw_runtime_load_string(rt, "for i = 1, 20000 do coroutine.wrap(print) end",
                                            NULL),
                     MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "coroutine limit exceeded (10000 coroutines)"));
    /* no directory given: nothing is readable */
    assert_int_equal(mw_runtime_load_string(rt, "mw.csv('data/series.csv')", NULL), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "(readable directories: none)"));
    /* bytecode from the host is refused too */
    static const char bytecode[] = "\x1bLuaT\x00\x19\x93\r\n\x1a\n";
    assert_int_equal(mw_runtime_load_string(rt, bytecode, "=bin"), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "attempt to load a binary chunk"));
    mw_runtime_free(rt);

    /* a directory that does not exist */
    static const char *const missing[] = {"data", "no/such/directory", NULL};
    cfg.readable_dirs = missing;
    assert_null(mw_runtime_new(&cfg));
    /* the directories are copied */
    char dir[16] = "data";
    const char *dirs[] = {dir, NULL};
    cfg.readable_dirs = dirs;
    rt = mw_runtime_new(&cfg);
    assert_non_null(rt);
    strcpy(dir, "elsewhere");
    assert_int_equal(mw_runtime_load_string(rt, "local n = 0 for r in mw.csv('data/series.csv') "
                                                "do n = n + 1 end assert(n == 6)", NULL),
                     MW_OK);
    mw_runtime_free(rt);

    /* a FIFO in a readable directory would block: refused */
    char fifo_dir[] = "/tmp/mw-sandbox-XXXXXX";
    assert_non_null(mkdtemp(fifo_dir));
    char fifo[64];
    snprintf(fifo, sizeof fifo, "%s/fifo", fifo_dir);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    const char *fifo_dirs[] = {fifo_dir, NULL};
    cfg.readable_dirs = fifo_dirs;
    rt = mw_runtime_new(&cfg);
    assert_non_null(rt);
    char code[160];
    snprintf(code, sizeof code, "for l in mw.lines('%s') do end", fifo);
    assert_int_equal(mw_runtime_load_string(rt, code, NULL), MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "is not allowed (not a regular file)"));
    mw_runtime_free(rt);
    remove(fifo);
    rmdir(fifo_dir);

    /* the coroutine limit without a sandbox */
    mw_runtime_config_init(&cfg);
    cfg.max_coroutines = 5;
    rt = mw_runtime_new(&cfg);
    assert_non_null(rt);
    assert_int_equal(mw_runtime_load_string(rt, "for i = 1, 5 do coroutine.create(print) end", NULL),
                     MW_OK);
    assert_int_equal(mw_runtime_load_string(rt, "for i = 1, 6 do mw.gen(print) end", NULL),
                     MW_ESCRIPT);
    assert_non_null(strstr(mw_runtime_error(rt), "coroutine limit exceeded (5 coroutines)"));
    mw_runtime_free(rt);
}

/* Lua's own limits on recursion give clean errors in a sandbox: the
 * stack's ("stack overflow") under a budget that lets the stack reach
 * it, the C stack's through C functions (an error pcall can catch, as
 * any but a limit). */
static void test_recursion(void **state)
{
    (void)state;
    mw_runtime_config cfg;
    mw_runtime_config_init(&cfg);
    cfg.sandbox = 1;
    cfg.max_memory = (size_t)128 << 20;
    cfg.max_seconds = 600.0; /* not the default 5 s: valgrind is slow */
    mw_runtime *rt = mw_runtime_new(&cfg);
    assert_non_null(rt);
    assert_int_equal(mw_runtime_load_string(rt, "local function f() return 1 + f() end f()", NULL),
                     MW_ESCRIPT);
    if (strstr(mw_runtime_error(rt), "stack overflow") == NULL)
        fail_msg("expected a stack overflow, got: %s", mw_runtime_error(rt));
    assert_int_equal(mw_runtime_load_string(rt, "local function f() return pcall(f) end\n"
                                                "local r = table.pack(f())\n"
                                                "assert(r[r.n] == 'C stack overflow')",
                                            NULL),
                     MW_OK);
    assert_usable(rt, "deep recursion");
    mw_runtime_free(rt);
}

/* }==================================================================== */

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_script_environment),
        cmocka_unit_test(test_no_planting),
        cmocka_unit_test(test_pipeline_file),
        cmocka_unit_test(test_match_as_lua),
        cmocka_unit_test(test_table_as_lua),
        cmocka_unit_test(test_recursion),
        cmocka_unit_test(test_red_team),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
