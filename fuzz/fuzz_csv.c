/*
 * fuzz_csv.c: the CSV reader (src/iter/csv.c), its field parsers
 * (src/iter/parse.c) and mw.csv (src/lua/l_csv.c), on any bytes.
 *
 * The first three bytes choose the options; the rest is the file:
 *   byte 0: delimiter (bits 0-2: detect , ; tab | space : x), quote '
 *           instead of " (bit 3), header (bits 4-5: detect, none, yes,
 *           detect), empty lines kept (bit 6), mw.csv too (bit 7);
 *   byte 1: chunk size (bits 0-2: 1 2 3 5 16 64 4096 65536), and the
 *           k-th allocation of the second pass failing (bits 3-7, 0: none);
 *   byte 2: mw.csv's options: batch (bit 0), on_error = "skip" (bit 1),
 *           columns (bits 2-3: all, {2, 1}, the first header name, {1}),
 *           batch size (bits 4-6: 1 2 3 7 50 1024), header given as
 *           bit 7 (when byte 0 says none or yes).
 *
 * What must hold:
 *   - the rows (fields, lines), the header, the width checks and the final
 *     error are the same read with 64 KiB chunks and with the chosen chunk
 *     size under an allocation failure, the reader resumed after it (a
 *     memory error loses and repeats nothing, csv.h);
 *   - every field is NUL-terminated at its length;
 *   - a field mw_parse_number accepts is what strtod reads from it, to the
 *     bit, with nothing left over; a timestamp mw_parse_time accepts
 *     (years 1-9999) formats back to the same instant;
 *   - mw.csv on the same bytes ends (a row count or an error message,
 *     never anything else), and closing the state gives every byte back.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "core/alloc.h"
#include "fuzz.h"
#include "iter/csv.h"
#include "iter/parse.h"
#include "moonwatch.h"

static const char delimiters[8] = {0, ',', ';', '\t', '|', ' ', ':', 'x'};
static const size_t chunks[8] = {1, 2, 3, 5, 16, 64, 4096, 65536};
static const int batch_sizes[8] = {1, 2, 3, 7, 50, 1024, 1024, 1024};

/* FNV-1a over what a pass saw. */
typedef struct digest {
    uint64_t h;
} digest;

static void digest_bytes(digest *d, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        d->h ^= b[i];
        d->h *= 1099511628211u;
    }
}

static void digest_u64(digest *d, uint64_t v)
{
    digest_bytes(d, &v, sizeof v);
}

static void digest_row(digest *d, const mw_csv_row *row)
{
    FUZZ_CHECK(row->n_fields >= 1);
    digest_u64(d, row->n_fields);
    digest_u64(d, row->line);
    for (size_t i = 0; i < row->n_fields; i++) {
        const mw_csv_field *f = &row->fields[i];
        FUZZ_CHECK(f->data[f->len] == '\0');
        digest_u64(d, f->len);
        digest_bytes(d, f->data, f->len);
    }
}

/* The parsers on one field, against strtod and their own inverse. */
static void check_field(const mw_csv_field *f)
{
    double x;
    if (mw_parse_number(f->data, f->len, &x) == MW_PARSE_OK) {
        size_t start = 0, end = f->len;
        while (start < end && (f->data[start] == ' ' || f->data[start] == '\t'))
            start++;
        while (end > start && (f->data[end - 1] == ' ' || f->data[end - 1] == '\t'))
            end--;
        char text[512];
        if (end - start < sizeof text) {
            memcpy(text, f->data + start, end - start);
            text[end - start] = '\0';
            char *stop = NULL;
            double want = strtod(text, &stop);
            FUZZ_CHECK(stop == text + (end - start));
            FUZZ_CHECK(memcmp(&want, &x, sizeof x) == 0);
        }
    }
    int64_t ms;
    if (mw_parse_time(f->data, f->len, &ms) == MW_PARSE_OK &&
        ms >= -62135596800000LL && ms <= 253402300799999LL) {
        char text[MW_TIME_TEXT];
        size_t n = mw_format_time(ms, text);
        int64_t back = 0;
        FUZZ_CHECK(mw_parse_time(text, n, &back) == MW_PARSE_OK);
        FUZZ_CHECK(back == ms);
    }
    (void)mw_parse_infer(f->data, f->len);
    size_t size;
    (void)mw_parse_size(f->data, f->len, &size);
}

/* One pass of the C reader: returns its digest. With fail_at, that
 * allocation fails once and the reader is called again after it. */
static uint64_t read_pass(const mw_csv_options *opts, const uint8_t *data, size_t size,
                          uint64_t fail_at, int check_fields)
{
    mw_alloc a;
    mw_alloc_init(&a);
    mw_alloc_set_budget(&a, FUZZ_BUDGET);
    digest d = {14695981039346656037u};
    mw_csv_memory_source src = {(const char *)data, size, 0};
    if (fail_at != 0)
        mw_alloc_fail_nth(&a, fail_at, 0);
    mw_csv_reader *r = mw_csv_open(opts, mw_csv_read_memory, &src, &a);
    if (r == NULL) {
        /* only memory can refuse valid options: open again */
        FUZZ_CHECK(a.last_error == MW_ENOMEM && fail_at != 0);
        r = mw_csv_open(opts, mw_csv_read_memory, &src, &a);
        FUZZ_CHECK(r != NULL);
    }
    mw_csv_row row;
    mw_csv_result res;
    int retries = 0;
    while ((res = mw_csv_header(r, &row)) == MW_CSV_ERROR &&
           mw_csv_last_error(r)->kind == MW_CSV_ERR_MEMORY && retries++ < 2)
        ;
    digest_u64(&d, (uint64_t)res);
    if (res == MW_CSV_ROW)
        digest_row(&d, &row);
    for (;;) {
        res = mw_csv_next(r, &row);
        if (res == MW_CSV_ERROR && mw_csv_last_error(r)->kind == MW_CSV_ERR_MEMORY) {
            FUZZ_CHECK(retries++ < 2);   /* one failure only: the retry gets memory */
            continue;
        }
        digest_u64(&d, (uint64_t)res);
        if (res != MW_CSV_ROW)
            break;
        digest_row(&d, &row);
        digest_u64(&d, mw_csv_check_width(r, &row, 0) == MW_OK);
        if (check_fields)
            for (size_t i = 0; i < row.n_fields; i++)
                check_field(&row.fields[i]);
    }
    if (res == MW_CSV_ERROR) {
        const mw_csv_error *e = mw_csv_last_error(r);
        FUZZ_CHECK(e->kind == MW_CSV_ERR_SYNTAX);
        digest_bytes(&d, e->message, strlen(e->message));
        /* a syntax error is final */
        FUZZ_CHECK(mw_csv_next(r, &row) == MW_CSV_ERROR);
    }
    digest_u64(&d, (uint64_t)(unsigned char)mw_csv_delimiter(r));
    mw_csv_close(r);
    FUZZ_CHECK(a.current == 0);
    return d.h;
}

/* {==================================================================
 * mw.csv
 * =================================================================== */

typedef struct lua_job {
    const uint8_t *data;
    size_t size;
    uint8_t opt0, opt1, opt2;
} lua_job;

static int close_memfile(lua_State *L)
{
    luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
    int res = fclose(p->f);
    return luaL_fileresult(L, res == 0, NULL);
}

static const char csv_script[] =
    "local f, opts = ...\n"
    "local rows, seen = 0, 0\n"
    "local it = mw.csv(f, opts)\n"
    "for item in it do\n"
    "  if opts.batch then\n"
    "    rows = rows + #item\n"
    "    for _, name in ipairs(item:columns()) do seen = seen + item[name]:count() end\n"
    "  else\n"
    "    rows = rows + 1\n"
    "    for _, v in pairs(item) do if v == v then seen = seen + 1 end end\n"
    "  end\n"
    "end\n"
    "return rows, seen, it:errors()\n";

/* Runs under lua_pcall: opens everything, makes the file and the options
 * and runs the script. */
static int lua_run(lua_State *L)
{
    lua_job *job = lua_touserdata(L, 1);
    luaL_openlibs(L);
    luaL_requiref(L, "moonwatch", luaopen_moonwatch, 0);
    lua_setglobal(L, "mw");
    if (luaL_loadbufferx(L, csv_script, sizeof csv_script - 1, "=csv", "t") != LUA_OK)
        return lua_error(L);
    luaL_Stream *p = lua_newuserdatauv(L, sizeof *p, 0);
    p->closef = NULL;
    luaL_setmetatable(L, LUA_FILEHANDLE);
    p->f = fmemopen((void *)job->data, job->size, "r");
    if (p->f == NULL)
        return luaL_error(L, "fmemopen failed");
    p->closef = close_memfile;

    lua_createtable(L, 0, 6);
    char delim = delimiters[job->opt0 & 7];
    if (delim != 0) {
        lua_pushlstring(L, &delim, 1);
        lua_setfield(L, -2, "delimiter");
    }
    int header = (job->opt0 >> 4) & 3;
    if (header == 1 || header == 2) {
        lua_pushboolean(L, (job->opt2 >> 7) & 1);
        lua_setfield(L, -2, "header");
    }
    if (job->opt2 & 1) {
        lua_pushinteger(L, batch_sizes[(job->opt2 >> 4) & 7]);
        lua_setfield(L, -2, "batch");
    }
    if (job->opt2 & 2) {
        lua_pushliteral(L, "skip");
        lua_setfield(L, -2, "on_error");
    }
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "progress");
    lua_pushinteger(L, (lua_Integer)chunks[job->opt1 & 7]);
    lua_setfield(L, -2, "chunk");
    switch ((job->opt2 >> 2) & 3) {
    case 1:
        lua_createtable(L, 2, 0);
        lua_pushinteger(L, 2);
        lua_rawseti(L, -2, 1);
        lua_pushinteger(L, 1);
        lua_rawseti(L, -2, 2);
        lua_setfield(L, -2, "columns");
        break;
    case 2: {
        /* the first name of the first line, up to a comma or line end */
        size_t n = 0;
        while (n < job->size && n < 32 && job->data[n] != ',' && job->data[n] != '\n')
            n++;
        lua_createtable(L, 1, 0);
        lua_pushlstring(L, (const char *)job->data, n);
        lua_rawseti(L, -2, 1);
        lua_setfield(L, -2, "columns");
        break;
    }
    case 3:
        lua_createtable(L, 1, 0);
        lua_pushinteger(L, 1);
        lua_rawseti(L, -2, 1);
        lua_setfield(L, -2, "columns");
        break;
    default:
        break;
    }
    lua_call(L, 2, 3);
    return 3;
}

static void lua_pass(const uint8_t *data, size_t size, uint8_t opt0, uint8_t opt1,
                     uint8_t opt2)
{
    if (size == 0)
        return;   /* fmemopen wants a buffer */
    mw_alloc a;
    mw_alloc_init(&a);
    lua_State *L = lua_newstate(mw_alloc_lua, &a);
    FUZZ_CHECK(L != NULL);
    mw_alloc_set_budget(&a, FUZZ_BUDGET);
    lua_job job = {data, size, opt0, opt1, opt2};
    lua_pushcfunction(L, lua_run);
    lua_pushlightuserdata(L, &job);
    if (lua_pcall(L, 1, 3, 0) != LUA_OK) {
        /* a clean error: a message */
        FUZZ_CHECK(lua_type(L, -1) == LUA_TSTRING);
    } else {
        FUZZ_CHECK(lua_isinteger(L, -3) && lua_tointeger(L, -3) >= 0);
    }
    lua_close(L);
    FUZZ_CHECK(a.current == 0);
}

/* }================================================================== */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint8_t opt0 = data[0], opt1 = data[1], opt2 = data[2];
    data += 3;
    size -= 3;

    mw_csv_options opts;
    mw_csv_options_init(&opts);
    opts.delimiter = delimiters[opt0 & 7];
    opts.quote = (opt0 & 8) ? '\'' : '"';
    static const int headers[4] = {-1, 0, 1, -1};
    opts.header = headers[(opt0 >> 4) & 3];
    opts.skip_empty_lines = !(opt0 & 64);
    if (opts.delimiter == opts.quote)
        return 0;   /* refused by mw_csv_open; not a case to fuzz */

    opts.chunk_size = 65536;
    uint64_t want = read_pass(&opts, data, size, 0, 1);
    opts.chunk_size = chunks[opt1 & 7];
    uint64_t got = read_pass(&opts, data, size, opt1 >> 3, 0);
    FUZZ_CHECK(got == want);

    if (opt0 & 128)
        lua_pass(data, size, opt0, opt1, opt2);
    return 0;
}
