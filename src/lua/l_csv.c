/*
 * l_csv.c: mw.csv, the streaming CSV source (the reader itself is
 * src/iter/csv.c; field parsing src/iter/parse.c).
 *
 *   for row in mw.csv("data.csv") do ... end            -- records
 *   for batch in mw.csv("data.csv", {batch = 65536}) do  -- frames
 *
 * The file is read in chunks through read(2), so memory stays bounded by
 * the longest row (and a batch), whatever the file's size, and a pipe's
 * rows arrive as they are written ("-" is standard input:
 * `tail -f log.csv | moonwatch job.lua`).
 *
 * Columns: the header names them (or, without one, their positions 1..n).
 * Each selected column's kind is inferred from its first non-missing
 * value: number, timestamp (epoch milliseconds, an integer) or string.
 * Missing values (empty, NA, NaN, null, ...) read as NaN in number and
 * timestamp columns and as nil in string columns. Frames (batch mode)
 * hold number and timestamp columns (timestamps as float64 milliseconds);
 * string columns are left out of them.
 *
 * Errors name the file, the line and the column. With on_error = "skip"
 * a malformed row (wrong field count, a value that does not parse in its
 * column) is counted (it:errors()) and skipped instead. A syntax error
 * (an unterminated quote) ends the stream either way. Rows delivered
 * before an error stay delivered.
 */
#include "lua/l_csv.h"

#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "iter/csv.h"
#include "iter/parse.h"
#include "lua/handle.h"
#include "lua/l_frame.h"
#include "lua/l_iter.h"
#include "lua/l_progress.h"
#include "lua/l_source.h"
#include "lua/l_series.h"
#include "types/frame.h"
#include "types/series.h"

#define CSV_NAME_SIZE 128

typedef enum csv_kind {
    CSV_UNKNOWN = 0,
    CSV_NUMBER,
    CSV_TIME,
    CSV_STRING
} csv_kind;

typedef struct csv_state {
    mw_alloc *alloc;
    mw_csv_reader *reader;
    mw_source src;           /* a path or standard input */
    FILE *file;              /* a Lua file given as the source, or NULL */
    int started;             /* header and columns settled */
    int has_pending_error;   /* batch mode: raise pending_error next */
    char pending_error[256];
    int header_opt;          /* -1 detect, 0 none, 1 header */
    int on_error_skip;
    mw_progress bar;
    size_t chunk;
    char delimiter;
    size_t ncols;            /* fields a row must have */
    size_t nsel;             /* columns kept */
    size_t sel_cap;          /* entries allocated in sel and kinds */
    size_t *sel;             /* their indices (alloc'd, nsel) */
    csv_kind *kinds;         /* their kinds (alloc'd, nsel) */
    uint64_t rows;
    char name[CSV_NAME_SIZE];
} csv_state;

/* Reads a Lua file through stdio. */
static ptrdiff_t csv_read_file(void *ud, char *buf, size_t cap)
{
    FILE *f = ud;
    size_t got = fread(buf, 1, cap, f);
    if (got == 0 && ferror(f))
        return -1;
    return (ptrdiff_t)got;
}

static void csv_free(csv_state *cs)
{
    if (cs->reader != NULL)
        mw_progress_finish(&cs->bar, mw_csv_bytes_read(cs->reader), cs->rows);
    mw_csv_close(cs->reader);
    cs->reader = NULL;
    mw_source_close(&cs->src);
    mw_alloc_free(cs->alloc, MW_DOMAIN_NATIVE, cs->sel, cs->sel_cap * sizeof *cs->sel);
    mw_alloc_free(cs->alloc, MW_DOMAIN_NATIVE, cs->kinds, cs->sel_cap * sizeof *cs->kinds);
    cs->sel = NULL;
    cs->kinds = NULL;
}

static void csv_close(lua_State *L, mw_lua_iter *it, int self)
{
    (void)L;
    (void)self;
    csv_free(it->data);
}

/* Raises the reader's error, prefixed with the file's name. */
static int csv_reader_error(lua_State *L, csv_state *cs)
{
    const mw_csv_error *e = mw_csv_last_error(cs->reader);
    if (e->kind == MW_CSV_ERR_MEMORY)
        return mw_lua_status_error(L, e->status);
    return luaL_error(L, "%s: %s", cs->name, e->message);
}

/* Reads the next row, or returns 0 at the end; raises on errors. */
static int csv_read_row(lua_State *L, csv_state *cs, mw_csv_row *row)
{
    mw_csv_result r = mw_csv_next(cs->reader, row);
    if (r == MW_CSV_EOF)
        return 0;
    if (r == MW_CSV_ERROR)
        return csv_reader_error(L, cs);
    mw_progress_update(&cs->bar, mw_csv_bytes_read(cs->reader), cs->rows, 0);
    return 1;
}

/* Settles the header, the column count and the selection; user value 1
 * gets the names of the kept columns (strings from the header, or
 * positions). Reads the first data row into *first for the caller to use
 * at once; returns 0 if the input holds none. */
static int csv_start(lua_State *L, csv_state *cs, int self, mw_csv_row *first)
{
    mw_csv_row header;
    int has_header = 0;
    if (cs->header_opt != 0) {
        mw_csv_result r = mw_csv_header(cs->reader, &header);
        if (r == MW_CSV_ERROR)
            return csv_reader_error(L, cs);
        has_header = r == MW_CSV_ROW;
    }
    int got = csv_read_row(L, cs, first);
    cs->ncols = has_header ? header.n_fields : got ? first->n_fields : 0;
    /* Selection: option columns (user value 2) or every column. */
    lua_getiuservalue(L, self, 2);
    int wanted = lua_gettop(L);
    size_t nsel = lua_istable(L, wanted) ? (size_t)lua_rawlen(L, wanted) : cs->ncols;
    /* One spare entry, so an empty selection still allocates. The sizes
     * are recorded at once: a raise below leaves them for csv_free (or
     * for the next attempt, which starts by freeing them). */
    mw_alloc_free(cs->alloc, MW_DOMAIN_NATIVE, cs->sel, cs->sel_cap * sizeof *cs->sel);
    mw_alloc_free(cs->alloc, MW_DOMAIN_NATIVE, cs->kinds, cs->sel_cap * sizeof *cs->kinds);
    cs->sel = NULL;
    cs->kinds = NULL;
    cs->sel_cap = 0;
    cs->sel = mw_alloc_malloc(cs->alloc, MW_DOMAIN_NATIVE, (nsel + 1) * sizeof *cs->sel);
    if (cs->sel == NULL)
        return mw_lua_status_error(L, cs->alloc->last_error);
    cs->kinds = mw_alloc_malloc(cs->alloc, MW_DOMAIN_NATIVE, (nsel + 1) * sizeof *cs->kinds);
    if (cs->kinds == NULL) {
        mw_alloc_free(cs->alloc, MW_DOMAIN_NATIVE, cs->sel, (nsel + 1) * sizeof *cs->sel);
        cs->sel = NULL;
        return mw_lua_status_error(L, cs->alloc->last_error);
    }
    cs->sel_cap = nsel + 1;
    memset(cs->kinds, 0, (nsel + 1) * sizeof *cs->kinds);
    lua_createtable(L, (int)nsel, 0);
    int names = lua_gettop(L);
    for (size_t k = 0; k < nsel; k++) {
        size_t index = k;
        if (lua_istable(L, wanted)) {
            lua_rawgeti(L, wanted, (lua_Integer)k + 1);
            if (lua_type(L, -1) == LUA_TNUMBER) {
                int isint;
                lua_Integer i = lua_tointegerx(L, -1, &isint);
                if (!isint)
                    return luaL_error(L, "%s: column positions must be integers", cs->name);
                if (i < 1 || (size_t)i > cs->ncols)
                    return luaL_error(L, "%s: column %I does not exist (%I columns)", cs->name,
                                      (LUAI_UACINT)i, (LUAI_UACINT)cs->ncols);
                index = (size_t)i - 1;
            } else {
                size_t len;
                const char *want = luaL_tolstring(L, -1, &len);
                lua_pop(L, 1);
                index = SIZE_MAX;
                for (size_t c = 0; has_header && c < header.n_fields; c++)
                    if (header.fields[c].len == len && memcmp(header.fields[c].data, want, len) == 0)
                        index = c;
                if (index == SIZE_MAX)
                    return luaL_error(L, "%s: no column '%s'%s", cs->name, want,
                                      has_header ? "" : " (the file has no header: use positions)");
            }
            lua_pop(L, 1);
        }
        cs->sel[k] = index;
        if (has_header)
            lua_pushlstring(L, header.fields[index].data, header.fields[index].len);
        else
            lua_pushinteger(L, (lua_Integer)index + 1);
        lua_rawseti(L, names, (lua_Integer)k + 1);
    }
    cs->nsel = nsel;
    lua_setiuservalue(L, self, 1);
    lua_pop(L, 1);
    cs->started = 1;
    return got != 0;
}

/* Parses field k of the row by its column's kind (inferring the kind on
 * its first non-missing value). Pushes nothing; stores a number (NaN for
 * missing) in *num for number and time columns. Returns 1, or 0 if the
 * value does not parse (*why says why). */
static int csv_parse(csv_state *cs, size_t k, const mw_csv_field *f, double *num,
                     const char **why)
{
    if (cs->kinds[k] == CSV_UNKNOWN) {
        mw_field_kind fk = mw_parse_infer(f->data, f->len);
        if (fk == MW_FIELD_MISSING) {
            *num = NAN;
            return 1;
        }
        cs->kinds[k] = fk == MW_FIELD_NUMBER ? CSV_NUMBER
                     : fk == MW_FIELD_TIME ? CSV_TIME : CSV_STRING;
    }
    if (cs->kinds[k] == CSV_NUMBER) {
        if (mw_parse_number(f->data, f->len, num) == MW_PARSE_INVALID) {
            *why = "not a number";
            return 0;
        }
        return 1;
    }
    if (cs->kinds[k] == CSV_TIME) {
        int64_t ms;
        mw_parse_result r = mw_parse_time(f->data, f->len, &ms);
        if (r == MW_PARSE_INVALID) {
            *why = "not a timestamp";
            return 0;
        }
        *num = r == MW_PARSE_OK ? (double)ms : NAN;
        return 1;
    }
    *num = NAN;
    return 1;
}

/* Whether a number field was written as an integer ("42", not "42.0" or
 * "4.2e1"): records then hold a Lua integer, as Lua's own tonumber("42")
 * would give. Frames hold float64 either way. */
static int csv_is_integer_text(const mw_csv_field *f, double num)
{
    if (!(num >= -9007199254740992.0 && num <= 9007199254740992.0) || floor(num) != num)
        return 0;
    for (size_t i = 0; i < f->len; i++) {
        char c = f->data[i];
        if (c == '.' || c == 'e' || c == 'E' || c == 'n' || c == 'N' || c == 'i' || c == 'I')
            return 0;
    }
    return 1;
}

/* Writes the message for a malformed row: a wrong field count (k ==
 * SIZE_MAX) or a value of column k that does not parse. */
static void csv_row_message(lua_State *L, csv_state *cs, int self, const mw_csv_row *row,
                            size_t k, const char *why, char *out, size_t size)
{
    if (k == SIZE_MAX) {
        snprintf(out, size, "%s:%llu: expected %zu fields, found %zu", cs->name,
                 (unsigned long long)row->line, cs->ncols, row->n_fields);
        return;
    }
    const mw_csv_field *f = &row->fields[cs->sel[k]];
    lua_getiuservalue(L, self, 1);
    lua_rawgeti(L, -1, (lua_Integer)k + 1);
    const char *name = luaL_tolstring(L, -1, NULL);
    snprintf(out, size, "%s:%llu: column '%s' (%zu): %s: '%.40s%s'", cs->name,
             (unsigned long long)row->line, name, cs->sel[k] + 1, why, f->data,
             f->len > 40 ? "..." : "");
    lua_pop(L, 3);
}

/* Handles a malformed row: raises, or counts it (skip). */
static void csv_bad_row(lua_State *L, mw_lua_iter *it, int self, const mw_csv_row *row,
                        size_t k, const char *why)
{
    csv_state *cs = it->data;
    if (cs->on_error_skip) {
        it->errors++;
        return;
    }
    char message[256];
    csv_row_message(L, cs, self, row, k, why, message, sizeof message);
    luaL_error(L, "%s", message);
}

/* Row mode: one record {name = value} per row. */
static int csv_next_record(lua_State *L, mw_lua_iter *it, int self)
{
    csv_state *cs = it->data;
    mw_csv_row row;
    for (;;) {
        int got = !cs->started ? csv_start(L, cs, self, &row) : csv_read_row(L, cs, &row);
        if (got == 0)
            return 0;
        if (row.n_fields != cs->ncols) {
            csv_bad_row(L, it, self, &row, SIZE_MAX, NULL);
            continue;
        }
        lua_getiuservalue(L, self, 1);
        int names = lua_gettop(L);
        lua_createtable(L, 0, (int)cs->nsel);
        int rec = lua_gettop(L);
        int ok = 1;
        for (size_t k = 0; k < cs->nsel && ok; k++) {
            const mw_csv_field *f = &row.fields[cs->sel[k]];
            double num;
            const char *why = NULL;
            if (!csv_parse(cs, k, f, &num, &why)) {
                lua_settop(L, names - 1);
                csv_bad_row(L, it, self, &row, k, why);
                ok = 0;
                break;
            }
            lua_rawgeti(L, names, (lua_Integer)k + 1);
            if (cs->kinds[k] == CSV_STRING) {
                if (mw_parse_is_missing(f->data, f->len))
                    lua_pushnil(L);
                else
                    lua_pushlstring(L, f->data, f->len);
            } else if (cs->kinds[k] == CSV_TIME && !isnan(num)) {
                lua_pushinteger(L, (lua_Integer)num);
            } else if (csv_is_integer_text(f, num)) {
                lua_pushinteger(L, (lua_Integer)num);
            } else {
                lua_pushnumber(L, (lua_Number)num);
            }
            lua_rawset(L, rec);
        }
        if (!ok)
            continue;
        lua_remove(L, names);
        cs->rows++;
        return 1;
    }
}

/* Batch mode: frames of up to `limit` rows, the number and timestamp
 * columns (kinds settled by the first row: a missing value there counts
 * as a number). The values go straight from the reader into the series
 * buffers: no Lua value per row. */
/* Whether reading on would wait: a pipe or terminal with nothing ready
 * and nothing buffered. A batch ends there, so rows that arrive slowly
 * (tail -f) are delivered at once rather than when the batch fills. */
static int csv_input_idle(const csv_state *cs)
{
    if (cs->file != NULL || cs->src.fd < 0 || cs->src.total_bytes > 0
        || mw_csv_buffered(cs->reader) > 0)
        return 0;
    struct pollfd p = {cs->src.fd, POLLIN, 0};
    return poll(&p, 1, 0) == 0;
}

static int csv_next_batch(lua_State *L, mw_lua_iter *it, int self)
{
    mw_lua_state *st = mw_lua_upstate(L);
    csv_state *cs = it->data;
    mw_csv_row row;
    if (cs->has_pending_error) {
        cs->has_pending_error = 0;
        return luaL_error(L, "%s", cs->pending_error);
    }
    int got = !cs->started ? csv_start(L, cs, self, &row) : csv_read_row(L, cs, &row);
    if (got == 0)
        return 0;
    /* A column known to hold strings stays out of frames; the others
     * are inferred by their first non-missing value, batch after batch. */
    size_t n = (size_t)it->limit;
    int base = lua_gettop(L);
    luaL_checkstack(L, (int)cs->nsel + 8, "too many columns");
    for (size_t k = 0; k < cs->nsel; k++) {
        if (cs->kinds[k] == CSV_STRING)
            lua_pushnil(L);
        else
            mw_lua_push_new_series(L, st, n, 0, 0);
    }
    /* The series pointers, fetched after every Lua allocation above; the
     * loop below makes none (only an error it raises does). */
    double *cols[256];
    double **out = cs->nsel <= 256 ? cols
                 : lua_newuserdatauv(L, cs->nsel * sizeof *out, 0);
    for (size_t k = 0; k < cs->nsel; k++)
        out[k] = cs->kinds[k] == CSV_STRING ? NULL
               : mw_series_values(mw_lua_check_series(L, base + 1 + (int)k));
    size_t count = 0;
    while (got) {
        if (row.n_fields != cs->ncols && !cs->on_error_skip && count > 0) {
            /* Deliver the rows read so far; the error comes next. */
            csv_row_message(L, cs, self, &row, SIZE_MAX, NULL, cs->pending_error,
                            sizeof cs->pending_error);
            cs->has_pending_error = 1;
            break;
        }
        if (row.n_fields != cs->ncols) {
            csv_bad_row(L, it, self, &row, SIZE_MAX, NULL);
        } else {
            size_t k;
            for (k = 0; k < cs->nsel; k++) {
                if (out[k] == NULL)
                    continue;
                const char *why = NULL;
                if (!csv_parse(cs, k, &row.fields[cs->sel[k]], &out[k][count], &why))
                    break;
            }
            if (k < cs->nsel && !cs->on_error_skip && count > 0) {
                csv_row_message(L, cs, self, &row, k,
                                cs->kinds[k] == CSV_TIME ? "not a timestamp" : "not a number",
                                cs->pending_error, sizeof cs->pending_error);
                cs->has_pending_error = 1;
                break;
            }
            if (k < cs->nsel)
                csv_bad_row(L, it, self, &row, k, cs->kinds[k] == CSV_TIME ? "not a timestamp"
                                                                          : "not a number");
            else
                count++;
        }
        if (count == n || csv_input_idle(cs))
            break;
        got = csv_read_row(L, cs, &row);
    }
    cs->rows += count;
    if (count == 0) {
        lua_settop(L, base);
        return 0;
    }
    mw_frame *f = mw_lua_push_new_frame(L, st);
    int frame_idx = lua_gettop(L);
    lua_getiuservalue(L, self, 1);
    int names = lua_gettop(L);
    for (size_t k = 0; k < cs->nsel; k++) {
        if (cs->kinds[k] == CSV_STRING)
            continue;
        mw_series *s = mw_lua_check_series(L, base + 1 + (int)k);
        mw_series_truncate(s, count);
        if (count < n / 2)
            mw_series_compact(st->heap, s);   /* a short last batch */
        lua_rawgeti(L, names, (lua_Integer)k + 1);
        size_t len;
        const char *name = luaL_tolstring(L, -1, &len);
        f = mw_frame_cast(mw_lua_check_object(L, frame_idx, &mw_frame_type));
        mw_status status = mw_frame_set(st->heap, f, name, len, s);
        if (status != MW_OK)
            return mw_lua_status_error(L, status);
        lua_pop(L, 2);
    }
    /* The frame's views hold the buffers now: release the columns'
     * handles, so releasing the frame frees the batch at once. */
    for (size_t k = 0; k < cs->nsel; k++) {
        mw_handle *h = mw_lua_test_handle(L, base + 1 + (int)k);
        if (h != NULL)
            mw_lua_release(L, st, h);
    }
    lua_settop(L, frame_idx);
    lua_replace(L, base + 1);
    lua_settop(L, base + 1);
    return 1;
}

static const mw_lua_iter_kind csv_record_kind = { "csv", csv_next_record, csv_close };
static const mw_lua_iter_kind csv_batch_kind = { "csv batch", csv_next_batch, csv_close };

static const char *const csv_option_names[] = {
    "delimiter", "header", "columns", "batch", "on_error", "progress", "chunk", NULL
};

static void csv_check_options(lua_State *L, int opts)
{
    lua_pushnil(L);
    while (lua_next(L, opts) != 0) {
        lua_pop(L, 1);
        int known = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; csv_option_names[i] != NULL && !known; i++)
                known = strcmp(lua_tostring(L, -1), csv_option_names[i]) == 0;
        if (!known)
            luaL_error(L, "bad argument #2 to 'csv' (unknown option '%s'; valid: delimiter, "
                       "header, columns, batch, on_error, progress, chunk)",
                       luaL_tolstring(L, -1, NULL));
    }
}

/* mw.csv(path | "-" | file [, options]) */
static int mw_csv(lua_State *L)
{
    mw_lua_state *st = mw_lua_upstate(L);
    int opts = 2;
    lua_settop(L, 2);
    if (lua_isnil(L, 2)) {
        lua_newtable(L);
        lua_replace(L, 2);
    }
    luaL_checktype(L, 2, LUA_TTABLE);
    csv_check_options(L, opts);

    mw_csv_options o;
    mw_csv_options_init(&o);
    if (lua_getfield(L, opts, "delimiter") != LUA_TNIL) {
        size_t len;
        const char *d = lua_tolstring(L, -1, &len);
        if (d == NULL || len != 1)
            return luaL_error(L, "bad argument #2 to 'csv' (delimiter must be one character)");
        o.delimiter = d[0];
    }
    int header = -1;
    if (lua_getfield(L, opts, "header") != LUA_TNIL) {
        header = lua_toboolean(L, -1);
    } else if (lua_getfield(L, opts, "columns") == LUA_TTABLE) {
        /* Columns chosen by name need a header: imply one. */
        for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -1) && header < 0; i++) {
            if (lua_rawgeti(L, -1, i) == LUA_TSTRING)
                header = 1;
            lua_pop(L, 1);
        }
    }
    o.header = header;
    lua_Integer batch = 0;
    if (lua_getfield(L, opts, "batch") != LUA_TNIL) {
        batch = lua_tointeger(L, -1);
        if (batch < 1 || batch > (1 << 26))
            return luaL_error(L, "bad argument #2 to 'csv' (batch must be 1 to %d rows)", 1 << 26);
    }
    int skip = 0;
    if (lua_getfield(L, opts, "on_error") != LUA_TNIL) {
        const char *e = lua_tostring(L, -1);
        if (e == NULL || (strcmp(e, "raise") != 0 && strcmp(e, "skip") != 0))
            return luaL_error(L, "bad argument #2 to 'csv' (on_error must be \"raise\" or \"skip\")");
        skip = strcmp(e, "skip") == 0;
    }
    int progress = 1;
    if (lua_getfield(L, opts, "progress") != LUA_TNIL)
        progress = lua_toboolean(L, -1);
    if (lua_getfield(L, opts, "chunk") != LUA_TNIL) {
        lua_Integer c = lua_tointeger(L, -1);
        if (c < 1 || c > (1 << 30))
            return luaL_error(L, "bad argument #2 to 'csv' (chunk must be 1 byte to 1 GiB)");
        o.chunk_size = (size_t)c;
    }
    if (lua_getfield(L, opts, "columns") != LUA_TNIL && !lua_istable(L, -1))
        return luaL_error(L, "bad argument #2 to 'csv' (columns must be a list of names or positions)");
    int columns = lua_gettop(L);

    mw_lua_iter *it = mw_lua_iter_new(L, batch > 0 ? &csv_batch_kind : &csv_record_kind,
                                      sizeof(csv_state));
    int self = lua_gettop(L);
    csv_state *cs = it->data;
    cs->alloc = st->alloc;
    cs->src.fd = -1;
    cs->header_opt = header;
    cs->on_error_skip = skip;
    it->limit = batch;
    if (lua_istable(L, columns)) {
        lua_pushvalue(L, columns);
        lua_setiuservalue(L, self, 2);
    }

    luaL_Stream *stream = luaL_testudata(L, 1, LUA_FILEHANDLE);
    if (stream != NULL) {
        if (stream->closef == NULL)
            return luaL_error(L, "bad argument #1 to 'csv' (attempt to use a closed file)");
        /* Read through the FILE (what stdio has buffered comes first) and
         * keep the file alive as long as the iterator. */
        cs->file = stream->f;
        lua_pushvalue(L, 1);
        lua_setiuservalue(L, self, 3);
        snprintf(cs->name, sizeof cs->name, "%s", "file");
    } else {
        mw_source_open(L, &cs->src, luaL_checkstring(L, 1));
        snprintf(cs->name, sizeof cs->name, "%s", cs->src.name);
    }
    mw_progress_start(&cs->bar, cs->name, cs->src.total_bytes, progress);
    cs->reader = cs->file != NULL ? mw_csv_open(&o, csv_read_file, cs->file, st->alloc)
                                  : mw_csv_open(&o, mw_csv_read_fd, &cs->src.fd, st->alloc);
    if (cs->reader == NULL)
        return mw_lua_status_error(L, st->alloc->last_error);
    lua_settop(L, self);
    return 1;
}

void mw_lua_open_csv(lua_State *L, mw_lua_state *st)
{
    static const luaL_Reg funcs[] = {
        {"csv", mw_csv},
        {NULL, NULL}
    };
    mw_lua_setfuncs(L, st, funcs);
}
