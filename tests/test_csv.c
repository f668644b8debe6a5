/*
 * test_csv.c: the streaming CSV reader (src/iter/csv.c) and the field
 * parsers (src/iter/parse.c).
 *
 * Every reader case runs at each of the chunk sizes below and must give
 * the same rows: chunk boundaries then fall everywhere, inside quoted
 * fields, between a CR and its LF, inside the BOM. A run is turned into a
 * canonical text ("H1:[a][b]" for a header, "2:[1][x\ny]" for a data row
 * starting on line 2, then "EOF" or "ERROR ...") compared as a string.
 *
 * The NAB test parses the 41 files of the Numenta Anomaly Benchmark with
 * the reader and compares every row with a reference parser written here
 * (split on commas, strtod, calendar arithmetic by counting days). It
 * reads the data directory from argv[1] or MW_NAB_DIR and is skipped
 * when neither names a readable directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "iter/csv.h"
#include "iter/parse.h"

static const size_t chunk_sizes[] = {1, 2, 3, 7, 64, 65536};
#define N_CHUNK_SIZES (sizeof chunk_sizes / sizeof chunk_sizes[0])

/* Fixture: one accounting allocator per test; teardown fails the test if
 * a byte is left allocated. */

typedef struct fixture {
    mw_alloc alloc;
    const char *nab_dir;     /* from the test's prestate, if any */
} fixture;

static int fixture_setup(void **state)
{
    const char *const *nab_dir = *state;
    fixture *f = calloc(1, sizeof *f);
    if (f == NULL)
        return -1;
    mw_alloc_init(&f->alloc);
    f->nab_dir = nab_dir != NULL ? *nab_dir : NULL;
    *state = f;
    return 0;
}

static int fixture_teardown(void **state)
{
    fixture *f = *state;
    size_t left = f->alloc.current;
    free(f);
    if (left != 0) {
        print_error("csv teardown: %zu bytes left allocated\n", left);
        return -1;
    }
    return 0;
}

/* A growable string for the canonical texts (test memory, not counted). */

typedef struct text {
    char *data;
    size_t len;
    size_t cap;
} text;

static void text_add(text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 256;
        while (cap < t->len + n + 1)
            cap *= 2;
        t->data = realloc(t->data, cap);
        assert_non_null(t->data);
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void text_addf(text *t, const char *fmt, ...)
{
    char piece[512];
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(piece, sizeof piece, fmt, args);
    va_end(args);
    assert_true(n >= 0 && (size_t)n < sizeof piece);
    text_add(t, piece, (size_t)n);
}

static void text_add_escaped(text *t, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n')
            text_add(t, "\\n", 2);
        else if (c == '\r')
            text_add(t, "\\r", 2);
        else if (c == '\\' || c == ']')
            text_addf(t, "\\%c", c);
        else if (c < 0x20 || c >= 0x7f)
            text_addf(t, "\\x%02X", c);
        else
            text_add(t, (const char *)&c, 1);
    }
}

static void text_free(text *t)
{
    free(t->data);
    memset(t, 0, sizeof *t);
}

/* Sources */

/* Hands out a buffer in reads of at most `cap` (the reader's chunk) and
 * can be told to fail: after fail_at bytes it returns -1 with EIO, or,
 * with overflow set, more bytes than asked. */
typedef struct test_source {
    const char *data;
    size_t len;
    size_t pos;
    size_t fail_at;          /* 0: never */
    int overflow;
    size_t n_reads;
} test_source;

static ptrdiff_t test_source_read(void *ud, char *buf, size_t cap)
{
    test_source *src = ud;
    src->n_reads++;
    if (src->fail_at != 0 && src->pos >= src->fail_at) {
        if (src->overflow)
            return (ptrdiff_t)cap + 1;
        errno = EIO;
        return -1;
    }
    size_t n = src->len - src->pos;
    if (n > cap)
        n = cap;
    if (src->fail_at != 0 && n > src->fail_at - src->pos)
        n = src->fail_at - src->pos;
    memcpy(buf, src->data + src->pos, n);
    src->pos += n;
    return (ptrdiff_t)n;
}

/* Like a pipe fed line by line: a read returns at most one line. */
typedef struct line_source {
    const char *data;
    size_t len;
    size_t pos;
    size_t lines_delivered;
} line_source;

static ptrdiff_t line_source_read(void *ud, char *buf, size_t cap)
{
    line_source *src = ud;
    size_t n = 0;
    while (src->pos + n < src->len && n < cap) {
        char c = src->data[src->pos + n++];
        if (c == '\n') {
            src->lines_delivered++;
            break;
        }
    }
    memcpy(buf, src->data + src->pos, n);
    src->pos += n;
    return (ptrdiff_t)n;
}

/* Running the reader */

static const char *kind_name(mw_csv_error_kind kind)
{
    switch (kind) {
    case MW_CSV_ERR_NONE:   return "none";
    case MW_CSV_ERR_SYNTAX: return "syntax";
    case MW_CSV_ERR_READ:   return "read";
    case MW_CSV_ERR_MEMORY: return "memory";
    case MW_CSV_ERR_WIDTH:  return "width";
    }
    return "?";
}

static void add_row(text *t, const char *prefix, const mw_csv_row *row)
{
    text_addf(t, "%s%llu:", prefix, (unsigned long long)row->line);
    for (size_t i = 0; i < row->n_fields; i++) {
        /* Every field is NUL-terminated in place. */
        assert_int_equal(row->fields[i].data[row->fields[i].len], '\0');
        text_add(t, "[", 1);
        text_add_escaped(t, row->fields[i].data, row->fields[i].len);
        text_add(t, "]", 1);
    }
    text_add(t, "\n", 1);
}

static void add_error(text *t, const mw_csv_reader *r)
{
    const mw_csv_error *e = mw_csv_last_error(r);
    text_addf(t, "ERROR %s %llu:%llu %s\n", kind_name(e->kind),
              (unsigned long long)e->line, (unsigned long long)e->column, e->message);
}

/* Reads every row of r into a canonical text: the header line first (if
 * any), the rows, then EOF or the error. With header_first the header is
 * asked for before any row, else after the last; with resume, memory
 * errors are retried (the reader must then lose and repeat nothing). */
static char *drive(mw_csv_reader *r, int header_first, int resume)
{
    text head = {0}, body = {0};
    mw_csv_row row;
    mw_csv_result result;
    int header_done = !header_first;
    for (;;) {
        if (!header_done) {
            result = mw_csv_header(r, &row);
            if (result == MW_CSV_ROW)
                add_row(&head, "H", &row);
            if (result != MW_CSV_ERROR) {
                header_done = 1;
                continue;
            }
        } else {
            result = mw_csv_next(r, &row);
            if (result == MW_CSV_ROW) {
                add_row(&body, "", &row);
                continue;
            }
        }
        if (result == MW_CSV_ERROR && resume &&
            mw_csv_last_error(r)->kind == MW_CSV_ERR_MEMORY)
            continue;
        if (result == MW_CSV_ERROR)
            add_error(&body, r);
        else
            text_add(&body, "EOF\n", 4);
        break;
    }
    /* Asked after the end (or an error), the header is still there. */
    mw_csv_result final = result;
    if (mw_csv_header(r, &row) == MW_CSV_ROW && !header_first)
        add_row(&head, "H", &row);
    if (final == MW_CSV_EOF)
        assert_int_equal(mw_csv_next(r, &row), MW_CSV_EOF);
    if (head.len == 0)
        text_add(&head, "", 0);
    text_add(&head, body.data, body.len);
    text_free(&body);
    return head.data;
}

/* Parses input with opts at one chunk size; returns the canonical text
 * (the caller frees it). Checks that closing returns every byte. */
static char *parse_text_at(mw_alloc *a, const char *input, size_t len,
                           const mw_csv_options *base, size_t chunk, int header_first)
{
    mw_csv_options opts = *base;
    opts.chunk_size = chunk;
    test_source src = {.data = input, .len = len};
    mw_csv_reader *r = mw_csv_open(&opts, test_source_read, &src, a);
    assert_non_null(r);
    char *result = drive(r, header_first, 0);
    mw_csv_close(r);
    assert_int_equal(a->current, 0);
    return result;
}

/* Checks input parses to `expected` at every chunk size, the header asked
 * for first at some sizes and last at others. */
static void check_parse(mw_alloc *a, const char *input, size_t len,
                        const mw_csv_options *opts, const char *expected)
{
    for (size_t i = 0; i < N_CHUNK_SIZES; i++) {
        char *got = parse_text_at(a, input, len, opts, chunk_sizes[i], (int)(i % 2));
        if (strcmp(got, expected) != 0)
            print_error("chunk size %zu, input \"%s\"\n", chunk_sizes[i], input);
        assert_string_equal(got, expected);
        free(got);
    }
}

static mw_csv_options options(char delimiter, int header)
{
    mw_csv_options opts;
    mw_csv_options_init(&opts);
    opts.delimiter = delimiter;
    opts.header = header;
    return opts;
}

#define CHECK(input, opts, expected) \
    check_parse(&f->alloc, (input), sizeof(input) - 1, &(opts), (expected))

/* Line ends, BOM, empty lines */

static void test_line_ends(void **state)
{
    fixture *f = *state;
    mw_csv_options plain = options(',', 0);
    CHECK("a,b\n1,2\n", plain, "1:[a][b]\n2:[1][2]\nEOF\n");
    CHECK("a,b\r\n1,2\r\n", plain, "1:[a][b]\n2:[1][2]\nEOF\n");
    CHECK("a,b\n1,2", plain, "1:[a][b]\n2:[1][2]\nEOF\n");
    CHECK("a,b\r\n1,2\r", plain, "1:[a][b]\n2:[1][2]\nEOF\n");
    CHECK("a,b\r\n1,", plain, "1:[a][b]\n2:[1][]\nEOF\n");
    CHECK("a,\n,\n", plain, "1:[a][]\n2:[][]\nEOF\n");
    /* A lone CR is data; only the CR of a CRLF is dropped. */
    CHECK("a\rb,c\r\r\n", plain, "1:[a\\rb][c\\r]\nEOF\n");
    CHECK("", plain, "EOF\n");
    CHECK("x", plain, "1:[x]\nEOF\n");
}

static void test_bom(void **state)
{
    fixture *f = *state;
    mw_csv_options plain = options(',', 0);
    CHECK("\xEF\xBB\xBF" "a,b\n1,2\n", plain, "1:[a][b]\n2:[1][2]\nEOF\n");
    CHECK("\xEF\xBB\xBF", plain, "EOF\n");
    CHECK("\xEF\xBB\xBF\"q\",b\n", plain, "1:[q][b]\nEOF\n");
    /* Only at the very start, and only whole. */
    CHECK("\xEF\xBB" "a\n", plain, "1:[\\xEF\\xBBa]\nEOF\n");
    CHECK("a\n\xEF\xBB\xBF" "b\n", plain, "1:[a]\n2:[\\xEF\\xBB\\xBFb]\nEOF\n");
    mw_csv_options detect = options(0, -1);
    CHECK("\xEF\xBB\xBF" "t;v\n2014-01-01;1\n", detect, "H1:[t][v]\n2:[2014-01-01][1]\nEOF\n");
}

static void test_empty_lines(void **state)
{
    fixture *f = *state;
    const char input[] = "\n\na,b\n\n\r\n1,2\n\n";
    mw_csv_options skip = options(',', 0);
    CHECK(input, skip, "3:[a][b]\n6:[1][2]\nEOF\n");
    mw_csv_options keep = options(',', 0);
    keep.skip_empty_lines = 0;
    CHECK(input, keep, "1:[]\n2:[]\n3:[a][b]\n4:[]\n5:[]\n6:[1][2]\n7:[]\nEOF\n");
    /* Blanks are not empty; a quoted empty field is a value. */
    CHECK(" \n\"\"\n\n", skip, "1:[ ]\n2:[]\nEOF\n");
    CHECK("\r", skip, "EOF\n");
    CHECK("\r", keep, "1:[]\nEOF\n");
}

/* Quoting */

static void test_quoted_fields(void **state)
{
    fixture *f = *state;
    mw_csv_options plain = options(',', 0);
    CHECK("\"a,b\",\"c\"\"d\",\"e\nf\"\n1,\"\",3\n", plain,
          "1:[a,b][c\"d][e\\nf]\n3:[1][][3]\nEOF\n");
    CHECK("\"x\r\ny\"\r\nz\r\n", plain, "1:[x\\r\\ny]\n3:[z]\nEOF\n");
    CHECK("\"1\n2\n3\",x\ny,z\n", plain, "1:[1\\n2\\n3][x]\n4:[y][z]\nEOF\n");
    CHECK("\"\"\"\"\n\"\"\"a\"\"\"\n", plain, "1:[\"]\n2:[\"a\"]\nEOF\n");
    CHECK("\"a\",\"b\"", plain, "1:[a][b]\nEOF\n");
    CHECK("\"a\",", plain, "1:[a][]\nEOF\n");
}

static void test_quote_leniency(void **state)
{
    fixture *f = *state;
    mw_csv_options plain = options(',', 0);
    /* A quote inside an unquoted field is a literal character. */
    CHECK("a\"b,c\"\n", plain, "1:[a\"b][c\"]\nEOF\n");
    CHECK(" \"a\",b\n", plain, "1:[ \"a\"][b]\nEOF\n");
    /* Text after a closing quote is appended as it is. */
    CHECK("\"c\"d,\"e\"\r\n", plain, "1:[cd][e]\nEOF\n");
    CHECK("\"a\"x\r\n\"a\"x\r", plain, "1:[ax]\n2:[ax]\nEOF\n");
    CHECK("\"a\"x\"y\",z\n", plain, "1:[ax\"y\"][z]\nEOF\n");
    /* A CR inside the quotes is data even right before the line end. */
    CHECK("\"a\r\"\n\"b\r\"\r\n", plain, "1:[a\\r]\n2:[b\\r]\nEOF\n");
    CHECK("\"a\r\"x\r\n", plain, "1:[a\\rx]\nEOF\n");
}

static void test_custom_quote_and_delimiter(void **state)
{
    fixture *f = *state;
    mw_csv_options opts = options(';', 0);
    opts.quote = '\'';
    CHECK("'a;b';'it''s';\"x\"\n", opts, "1:[a;b][it's][\"x\"]\nEOF\n");
    mw_csv_options tabs = options('\t', 0);
    CHECK("a b\tc,d\n", tabs, "1:[a b][c,d]\nEOF\n");
}

/* Chunk boundaries: a random CSV, built from a known table, must read
 * back the same at every chunk size (quotes, CRLF, doubled quotes and
 * delimiters inside fields end up split between reads everywhere). */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void random_csv(uint64_t seed, char delim, size_t max_rows, text *input,
                       text *expected)
{
    const char alphabet[] = "ab1 \"\r\n,;.x";
    uint64_t s = seed;
    unsigned long long line = 1;
    size_t n_rows = 1 + rng_next(&s) % max_rows;
    for (size_t r = 0; r < n_rows; r++) {
        size_t n_fields = 1 + rng_next(&s) % 6;
        text_addf(expected, "%llu:", line);
        for (size_t k = 0; k < n_fields; k++) {
            char field[16];
            size_t len = rng_next(&s) % sizeof field;
            int must_quote = len == 0 && n_fields == 1;
            for (size_t i = 0; i < len; i++) {
                field[i] = alphabet[rng_next(&s) % (sizeof alphabet - 1)];
                if (field[i] == '"' || field[i] == '\r' || field[i] == '\n' || field[i] == delim)
                    must_quote = 1;
            }
            if (k > 0)
                text_add(input, &delim, 1);
            if (must_quote || rng_next(&s) % 4 == 0) {
                text_add(input, "\"", 1);
                for (size_t i = 0; i < len; i++) {
                    text_add(input, &field[i], 1);
                    if (field[i] == '"')
                        text_add(input, "\"", 1);
                    line += field[i] == '\n';
                }
                text_add(input, "\"", 1);
            } else {
                text_add(input, field, len);
            }
            text_add(expected, "[", 1);
            text_add_escaped(expected, field, len);
            text_add(expected, "]", 1);
        }
        text_add(expected, "\n", 1);
        int last = r + 1 == n_rows;
        unsigned ending = (unsigned)(rng_next(&s) % 3);
        if (!last || ending != 2)
            text_add(input, ending == 1 ? "\r\n" : "\n", ending == 1 ? 2 : 1);
        line++;
    }
    text_add(expected, "EOF\n", 4);
}

static void test_chunk_boundaries_random(void **state)
{
    fixture *f = *state;
    for (uint64_t seed = 1; seed <= 300; seed++) {
        char delim = seed % 3 == 0 ? ';' : ',';
        /* Every tenth input outgrows the smallest buffer, so rows are
         * moved down (compacted) mid-field, mid-quote, mid-CRLF. */
        size_t max_rows = seed % 10 == 0 ? 2000 : 40;
        text input = {0}, expected = {0};
        random_csv(seed * 0x9E3779B97F4A7C15ULL, delim, max_rows, &input, &expected);
        mw_csv_options opts = options(delim, 0);
        check_parse(&f->alloc, input.data, input.len, &opts, expected.data);
        text_free(&input);
        text_free(&expected);
    }
}

/* A 10 MB field, quoted (with delimiters, line ends and doubled quotes
 * inside) and unquoted, at every chunk size. */
static void test_huge_field(void **state)
{
    fixture *f = *state;
    const size_t field_len = 10u * 1000 * 1000;
    char *field = malloc(field_len);
    char *input = malloc(2 * field_len + 64);
    assert_non_null(field);
    assert_non_null(input);
    uint64_t s = 42;
    for (size_t i = 0; i < field_len; i++) {
        unsigned v = (unsigned)(rng_next(&s) % 64);
        field[i] = v == 0 ? '"' : v == 1 ? ',' : v == 2 ? '\n' : (char)('a' + v % 26);
    }
    size_t n_newlines = 0, len = 0;
    input[len++] = '"';
    for (size_t i = 0; i < field_len; i++) {
        input[len++] = field[i];
        if (field[i] == '"')
            input[len++] = '"';
        n_newlines += field[i] == '\n';
    }
    len += (size_t)sprintf(input + len, "\",end\r\nx,y\n");

    for (int unquoted = 0; unquoted <= 1; unquoted++) {
        if (unquoted) {
            for (size_t i = 0; i < field_len; i++)
                field[i] = (char)('a' + i % 26);
            memcpy(input, field, field_len);
            len = field_len + (size_t)sprintf(input + field_len, ",end\r\nx,y\n");
            n_newlines = 0;
        }
        for (size_t c = 0; c < N_CHUNK_SIZES; c++) {
            mw_alloc_init(&f->alloc);
            mw_csv_options opts = options(',', 0);
            opts.chunk_size = chunk_sizes[c];
            test_source src = {.data = input, .len = len};
            mw_csv_reader *r = mw_csv_open(&opts, test_source_read, &src, &f->alloc);
            assert_non_null(r);
            mw_csv_row row;
            assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
            assert_int_equal(row.n_fields, 2);
            assert_int_equal(row.line, 1);
            assert_int_equal(row.fields[0].len, field_len);
            assert_memory_equal(row.fields[0].data, field, field_len);
            assert_string_equal(row.fields[1].data, "end");
            assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
            assert_int_equal(row.line, 2 + n_newlines);
            assert_string_equal(row.fields[1].data, "y");
            assert_int_equal(mw_csv_next(r, &row), MW_CSV_EOF);
            /* The buffer holds one row, not the input: under twice the field. */
            assert_true(f->alloc.peak < 2 * field_len + 2 * 65536 + 4096);
            mw_csv_close(r);
            assert_int_equal(f->alloc.current, 0);
        }
    }
    free(field);
    free(input);
}

/* A source that delivers one line per read gets each row back as soon as
 * its line is in, without the reader waiting for a full chunk. */
static void check_line_by_line(fixture *f, char delimiter, int header,
                               const size_t *lines_after_row, size_t n_rows)
{
    static const char input[] =
        "time,value\n2014-01-01 00:00:00,1\n\"quoted\nfield\",2\nlast,3\n";
    mw_csv_options opts = options(delimiter, header);
    line_source src = {.data = input, .len = sizeof input - 1};
    mw_csv_reader *r = mw_csv_open(&opts, line_source_read, &src, &f->alloc);
    assert_non_null(r);
    mw_csv_row row;
    for (size_t i = 0; i < n_rows; i++) {
        assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
        assert_int_equal(src.lines_delivered, lines_after_row[i]);
    }
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_EOF);
    mw_csv_close(r);
}

static void test_line_by_line_source(void **state)
{
    fixture *f = *state;
    const size_t no_header[] = {1, 2, 4, 5};
    check_line_by_line(f, ',', 0, no_header, 4);
    check_line_by_line(f, 0, 0, no_header, 4);
    const size_t with_header[] = {2, 4, 5};
    check_line_by_line(f, ',', 1, with_header, 3);
    check_line_by_line(f, 0, -1, with_header, 3);

    /* A first line shorter than a BOM is not held back looking for one. */
    static const char short_lines[] = "1\n2\n3\n";
    mw_csv_options opts = options(',', 0);
    line_source src = {.data = short_lines, .len = sizeof short_lines - 1};
    mw_csv_reader *r = mw_csv_open(&opts, line_source_read, &src, &f->alloc);
    mw_csv_row row;
    for (size_t i = 1; i <= 3; i++) {
        assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
        assert_int_equal(src.lines_delivered, i);
    }
    mw_csv_close(r);
}

/* Detection */

static void check_delimiter(fixture *f, const char *input, char expected_delim,
                            const char *expected_rows)
{
    mw_csv_options opts = options(0, 0);
    test_source src = {.data = input, .len = strlen(input)};
    mw_csv_reader *r = mw_csv_open(&opts, test_source_read, &src, &f->alloc);
    assert_non_null(r);
    assert_int_equal(mw_csv_delimiter(r), 0);
    char *got = drive(r, 0, 0);
    assert_int_equal(mw_csv_delimiter(r), expected_delim);
    mw_csv_close(r);
    assert_string_equal(got, expected_rows);
    free(got);
    check_parse(&f->alloc, input, strlen(input), &opts, expected_rows);
}

static void test_delimiter_detection(void **state)
{
    fixture *f = *state;
    check_delimiter(f, "a;b;c\n1;2;3\n", ';', "1:[a][b][c]\n2:[1][2][3]\nEOF\n");
    check_delimiter(f, "a\tb\n1\t2\n", '\t', "1:[a][b]\n2:[1][2]\nEOF\n");
    check_delimiter(f, "a|b\n1|2\n", '|', "1:[a][b]\n2:[1][2]\nEOF\n");
    check_delimiter(f, "\"x,y,z\";b\n1;2\n", ';', "1:[x,y,z][b]\n2:[1][2]\nEOF\n");
    check_delimiter(f, "a,b;c\n", ',', "1:[a][b;c]\nEOF\n");
    check_delimiter(f, "a|b;c;d\n", ';', "1:[a|b][c][d]\nEOF\n");
    check_delimiter(f, "\n\r\na;b\n", ';', "3:[a][b]\nEOF\n");
    check_delimiter(f, "single\n1\n", ',', "1:[single]\n2:[1]\nEOF\n");
    check_delimiter(f, "a;b", ';', "1:[a][b]\nEOF\n");
    check_delimiter(f, "\"a;\nb\",c\n", ',', "1:[a;\\nb][c]\nEOF\n");
    check_delimiter(f, "", ',', "EOF\n");
}

static void test_header_detection(void **state)
{
    fixture *f = *state;
    mw_csv_options detect = options(',', -1);
    CHECK("timestamp,value\n2014-04-01 00:00:00,20.0\n", detect,
          "H1:[timestamp][value]\n2:[2014-04-01 00:00:00][20.0]\nEOF\n");
    CHECK("1,2\n3,4\n", detect, "1:[1][2]\n2:[3][4]\nEOF\n");
    CHECK("a,b\nc,d\ne,f\n", detect, "1:[a][b]\n2:[c][d]\n3:[e][f]\nEOF\n");
    CHECK("time\n2014-01-01\n", detect, "H1:[time]\n2:[2014-01-01]\nEOF\n");
    CHECK("name,value\n", detect, "H1:[name][value]\nEOF\n");
    CHECK("name,value", detect, "H1:[name][value]\nEOF\n");
    CHECK("1,2\n", detect, "1:[1][2]\nEOF\n");
    CHECK("name,3\nx,4\n", detect, "1:[name][3]\n2:[x][4]\nEOF\n");
    CHECK("a,b\n,\n", detect, "1:[a][b]\n2:[][]\nEOF\n");
    CHECK("a,b\nNA,1\n", detect, "H1:[a][b]\n2:[NA][1]\nEOF\n");
    CHECK("\n\nv\n\n7\n", detect, "H3:[v]\n5:[7]\nEOF\n");
    CHECK("", detect, "EOF\n");
    mw_csv_options yes = options(',', 1);
    CHECK("1,2\n3,4\n", yes, "H1:[1][2]\n2:[3][4]\nEOF\n");
    CHECK("", yes, "EOF\n");
    mw_csv_options no = options(',', 0);
    CHECK("a,b\n1,2\n", no, "1:[a][b]\n2:[1][2]\nEOF\n");
}

/* The header stays valid after the rows are read and the buffer reused. */
static void test_header_outlives_rows(void **state)
{
    fixture *f = *state;
    const char input[] = "alpha,beta\n1,2\n3,4\n5,6\n";
    mw_csv_options opts = options(0, -1);
    opts.chunk_size = 3;
    test_source src = {.data = input, .len = sizeof input - 1};
    mw_csv_reader *r = mw_csv_open(&opts, test_source_read, &src, &f->alloc);
    mw_csv_row header, row;
    assert_int_equal(mw_csv_header(r, &header), MW_CSV_ROW);
    size_t n = 0;
    while (mw_csv_next(r, &row) == MW_CSV_ROW)
        n++;
    assert_int_equal(n, 3);
    assert_int_equal(header.n_fields, 2);
    assert_string_equal(header.fields[0].data, "alpha");
    assert_string_equal(header.fields[1].data, "beta");
    assert_int_equal(mw_csv_bytes_read(r), sizeof input - 1);
    mw_csv_close(r);

    /* When the first row turns out to be data, its copy is freed once the
     * caller has moved past it. */
    const char numbers[] = "1,2\n3,4\n5,6\n";
    src = (test_source){.data = numbers, .len = sizeof numbers - 1};
    r = mw_csv_open(&opts, test_source_read, &src, &f->alloc);
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
    assert_string_equal(row.fields[0].data, "1");
    size_t holding_copy = f->alloc.current;
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
    assert_string_equal(row.fields[0].data, "3");
    assert_true(f->alloc.current < holding_copy);
    assert_int_equal(mw_csv_header(r, &header), MW_CSV_EOF);
    mw_csv_close(r);
}

/* Errors */

static void test_unterminated_quote(void **state)
{
    fixture *f = *state;
    mw_csv_options plain = options(',', 0);
    CHECK("a,b\n1,\"xy\nz\n", plain,
          "1:[a][b]\nERROR syntax 2:3 line 2, column 3: unterminated quoted field"
          " (input ended inside it)\n");
    CHECK("\xEF\xBB\xBF\"abc", plain,
          "ERROR syntax 1:1 line 1, column 1: unterminated quoted field"
          " (input ended inside it)\n");
    /* The quote opens on the second line of a row whose first field spans two. */
    CHECK("\"a\nb\",\"c\n", plain,
          "ERROR syntax 2:4 line 2, column 4: unterminated quoted field"
          " (input ended inside it)\n");
    /* Detecting the header, a first row of data still comes out before
     * an error in the second; a first row of names is the header. */
    mw_csv_options detect = options(',', -1);
    CHECK("1,2\n\"open", detect,
          "1:[1][2]\nERROR syntax 2:1 line 2, column 1: unterminated quoted field"
          " (input ended inside it)\n");
    CHECK("a,b\n\"open", detect,
          "H1:[a][b]\nERROR syntax 2:1 line 2, column 1: unterminated quoted field"
          " (input ended inside it)\n");
    CHECK("x\n\"\"\"", plain,
          "1:[x]\nERROR syntax 2:1 line 2, column 1: unterminated quoted field"
          " (input ended inside it)\n");
    /* The error is final. */
    mw_csv_options opts = options(',', 0);
    test_source src = {.data = "\"open", .len = 5};
    mw_csv_reader *r = mw_csv_open(&opts, test_source_read, &src, &f->alloc);
    mw_csv_row row = {.n_fields = 99};
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_ERROR);
    assert_int_equal(row.n_fields, 99);
    assert_int_equal(mw_csv_last_error(r)->status, MW_EINVAL);
    size_t reads = src.n_reads;
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_ERROR);
    assert_int_equal(src.n_reads, reads);
    mw_csv_close(r);
}

/* Far into a long input, after many compactions, the error still names
 * the right line and column. */
static void test_unterminated_quote_late(void **state)
{
    fixture *f = *state;
    text input = {0}, expected = {0};
    for (int i = 1; i <= 3000; i++) {
        text_addf(&input, "%d,\"q\"\"%d\"\r\n", i, i);
        text_addf(&expected, "%d:[%d][q\"%d]\n", i, i, i);
    }
    /* The row is compacted and grown before its quote opens. */
    text_add(&input, "last,", 5);
    for (int i = 0; i < 5000; i++)
        text_add(&input, "x", 1);
    text_addf(&input, "%s", ",\"open\n,,\n");
    text_addf(&expected, "%s", "ERROR syntax 3001:5007 line 3001, column 5007: unterminated"
                               " quoted field (input ended inside it)\n");
    mw_csv_options plain = options(',', 0);
    check_parse(&f->alloc, input.data, input.len, &plain, expected.data);
    text_free(&input);
    text_free(&expected);
}

/* Memory is bounded by the longest row, not the input: a megabyte of
 * short rows fits in the smallest buffer (tiny chunks) or two chunks. */
static void test_memory_stays_constant(void **state)
{
    fixture *f = *state;
    text input = {0};
    while (input.len < 1000 * 1000)
        text_addf(&input, "2014-04-01 00:00:%02zu,%zu.25,\"a,b\"\n", input.len % 60, input.len);
    for (size_t c = 0; c < N_CHUNK_SIZES; c++) {
        mw_alloc_init(&f->alloc);
        mw_csv_options opts = options(0, -1);
        opts.chunk_size = chunk_sizes[c];
        test_source src = {.data = input.data, .len = input.len};
        mw_csv_reader *r = mw_csv_open(&opts, test_source_read, &src, &f->alloc);
        mw_csv_row row;
        size_t rows = 0;
        while (mw_csv_next(r, &row) == MW_CSV_ROW)
            rows++;
        assert_true(rows > 20000);
        size_t buffer = 2 * chunk_sizes[c] + 1 > 4096 ? 2 * chunk_sizes[c] + 1 : 4096;
        assert_true(f->alloc.peak <= buffer + 2048);  /* + reader, field tables */
        mw_csv_close(r);
    }
    text_free(&input);
}

static void test_read_error(void **state)
{
    fixture *f = *state;
    const char input[] = "a,b\n1,2\n3,4\n";
    for (size_t c = 0; c < N_CHUNK_SIZES; c++) {
        mw_csv_options opts = options(',', 0);
        opts.chunk_size = chunk_sizes[c];
        test_source src = {.data = input, .len = sizeof input - 1, .fail_at = 10};
        mw_csv_reader *r = mw_csv_open(&opts, test_source_read, &src, &f->alloc);
        char *got = drive(r, 0, 0);
        char expected[256];
        snprintf(expected, sizeof expected,
                 "1:[a][b]\n2:[1][2]\nERROR read 3:0 line 3: read error: %s\n", strerror(EIO));
        assert_string_equal(got, expected);
        free(got);
        assert_int_equal(mw_csv_last_error(r)->sys_errno, EIO);
        mw_csv_row row;
        size_t reads = src.n_reads;
        assert_int_equal(mw_csv_next(r, &row), MW_CSV_ERROR);
        assert_int_equal(src.n_reads, reads);
        mw_csv_close(r);
    }
    /* A callback returning more than it was asked for is an error too. */
    mw_csv_options opts = options(',', 0);
    opts.chunk_size = 4;
    test_source src = {.data = input, .len = sizeof input - 1, .fail_at = 4, .overflow = 1};
    mw_csv_reader *r = mw_csv_open(&opts, test_source_read, &src, &f->alloc);
    char *got = drive(r, 0, 0);
    assert_string_equal(got, "1:[a][b]\nERROR read 2:0 line 2: read callback returned 5"
                             " for a 4-byte buffer\n");
    free(got);
    mw_csv_close(r);
}

static void test_invalid_options(void **state)
{
    fixture *f = *state;
    test_source src = {.data = "", .len = 0};
    mw_csv_options bad[5];
    for (int i = 0; i < 5; i++)
        mw_csv_options_init(&bad[i]);
    bad[0].delimiter = '\n';
    bad[1].quote = '\r';
    bad[2].delimiter = '"';
    bad[3].header = 2;
    bad[4].chunk_size = (size_t)-1;
    for (int i = 0; i < 5; i++) {
        f->alloc.last_error = MW_OK;
        assert_null(mw_csv_open(&bad[i], test_source_read, &src, &f->alloc));
        assert_int_equal(f->alloc.last_error, MW_EINVAL);
    }
    assert_null(mw_csv_open(NULL, NULL, &src, &f->alloc));
    mw_csv_reader *r = mw_csv_open(NULL, test_source_read, &src, &f->alloc);
    assert_non_null(r);
    mw_csv_close(r);
    mw_csv_close(NULL);
    assert_int_equal(f->alloc.current, 0);
}

static void test_check_width(void **state)
{
    fixture *f = *state;
    const char input[] = "a,b\n1,2\n3\n4,5,6\n";
    mw_csv_options opts = options(',', 1);
    test_source src = {.data = input, .len = sizeof input - 1};
    mw_csv_reader *r = mw_csv_open(&opts, test_source_read, &src, &f->alloc);
    mw_csv_row row;
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
    assert_int_equal(mw_csv_check_width(r, &row, 0), MW_OK);
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
    assert_int_equal(mw_csv_check_width(r, &row, 0), MW_EINVAL);
    const mw_csv_error *e = mw_csv_last_error(r);
    assert_int_equal(e->kind, MW_CSV_ERR_WIDTH);
    assert_int_equal(e->line, 3);
    assert_string_equal(e->message, "line 3: expected 2 fields, found 1");
    assert_int_equal(mw_csv_check_width(r, &row, 1), MW_OK);
    /* The reader goes on after a width error. */
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
    assert_int_equal(mw_csv_check_width(r, &row, 0), MW_EINVAL);
    assert_string_equal(mw_csv_last_error(r)->message, "line 4: expected 2 fields, found 3");
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_EOF);
    mw_csv_close(r);

    /* Without a header, the first data row sets the width. */
    opts.header = 0;
    src.pos = 0;
    r = mw_csv_open(&opts, test_source_read, &src, &f->alloc);
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
    assert_int_equal(mw_csv_check_width(r, &row, 0), MW_OK);
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
    assert_int_equal(mw_csv_check_width(r, &row, 0), MW_OK);
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
    assert_int_equal(mw_csv_check_width(r, &row, 0), MW_EINVAL);
    mw_csv_close(r);
}

/* Memory: allocation failure at every point */

/* An input that makes the reader allocate everywhere it can: detection of
 * the delimiter and header (saved first row), a row wider than the
 * initial field table, a field longer than the initial buffer. */
static char *failure_input(size_t *len)
{
    text t = {0};
    text_addf(&t, "%s", "\xEF\xBB\xBFtime;\"va;lue\"\r\n");
    for (int i = 0; i < 30; i++)
        text_addf(&t, "2014-01-01 00:00:%02d;%d.5\r\n", i, i);
    for (int i = 0; i < 40; i++)
        text_addf(&t, "%s%d", i ? ";" : "", i);
    text_add(&t, "\n\"", 2);
    for (int i = 0; i < 3000; i++)
        text_add(&t, i % 100 == 0 ? "\"\"\n" : "z", i % 100 == 0 ? 3 : 1);
    text_add(&t, "\";end", 5);
    *len = t.len;
    return t.data;
}

/* The rows of a canonical text, past its header line if it has one. */
static const char *skip_header_line(const char *s)
{
    return s[0] == 'H' ? strchr(s, '\n') + 1 : s;
}

static void test_allocation_failure_sweep(void **state)
{
    fixture *f = *state;
    size_t len;
    char *input = failure_input(&len);
    const size_t sweep_chunks[] = {3, 64, 65536};
    mw_csv_options opts = options(0, -1);
    for (size_t c = 0; c < 3; c++) {
        char *expected = parse_text_at(&f->alloc, input, len, &opts, sweep_chunks[c], 1);
        assert_non_null(strstr(expected, "EOF\n"));
        for (int sticky = 0; sticky <= 1; sticky++) {
            int completed = 0;
            for (uint64_t n = 1; !completed; n++) {
                mw_alloc_init(&f->alloc);
                mw_alloc_fail_nth(&f->alloc, n, sticky);
                mw_csv_options o = opts;
                o.chunk_size = sweep_chunks[c];
                test_source src = {.data = input, .len = len};
                mw_csv_reader *r = mw_csv_open(&o, test_source_read, &src, &f->alloc);
                if (r == NULL) {
                    assert_int_equal(f->alloc.last_error, MW_ENOMEM);
                    assert_int_equal(f->alloc.current, 0);
                    continue;
                }
                char *got = drive(r, (int)(n % 2), 0);
                mw_csv_close(r);
                assert_int_equal(f->alloc.current, 0);
                char *error = strstr(got, "ERROR");
                if (error == NULL) {
                    assert_string_equal(got, expected);
                    completed = 1;
                } else {
                    /* A clean error: a memory one, after a prefix of the rows. */
                    assert_non_null(strstr(error, "ERROR memory"));
                    assert_non_null(strstr(error, "not enough memory"));
                    const char *rows = skip_header_line(got);
                    assert_memory_equal(rows, skip_header_line(expected),
                                        (size_t)(error - rows));
                }
                free(got);
            }
        }
        /* Resumed after each failure, the reader loses and repeats nothing. */
        for (uint64_t n = 1; n < 200; n++) {
            mw_alloc_init(&f->alloc);
            mw_alloc_fail_nth(&f->alloc, n, 0);
            mw_csv_options o = opts;
            o.chunk_size = sweep_chunks[c];
            test_source src = {.data = input, .len = len};
            mw_csv_reader *r = mw_csv_open(&o, test_source_read, &src, &f->alloc);
            if (r == NULL)
                continue;
            char *got = drive(r, (int)(n % 2), 1);
            mw_csv_close(r);
            assert_int_equal(f->alloc.current, 0);
            assert_string_equal(got, expected);
            free(got);
        }
        free(expected);
    }
    free(input);
}

/* Over a budget: a clean error naming the limit; raising it resumes. */
static void test_budget(void **state)
{
    fixture *f = *state;
    size_t len = 100000;
    char *input = malloc(len + 8);
    memset(input, 'q', len);
    memcpy(input + len, ",x\ny,z\n", 7);
    len += 7;
    mw_csv_options opts = options(',', 0);
    opts.chunk_size = 1000;
    test_source src = {.data = input, .len = len};
    mw_csv_reader *r = mw_csv_open(&opts, test_source_read, &src, &f->alloc);
    assert_int_equal(mw_alloc_set_budget(&f->alloc, 20000), MW_OK);
    mw_csv_row row;
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_ERROR);
    const mw_csv_error *e = mw_csv_last_error(r);
    assert_int_equal(e->kind, MW_CSV_ERR_MEMORY);
    assert_int_equal(e->status, MW_EBUDGET);
    assert_string_equal(e->message, "line 1: memory limit exceeded");
    assert_true(f->alloc.current <= 20000);
    assert_int_equal(mw_alloc_set_budget(&f->alloc, 0), MW_OK);
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
    assert_int_equal(row.fields[0].len, 100000);
    assert_string_equal(row.fields[1].data, "x");
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
    assert_string_equal(row.fields[0].data, "y");
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_EOF);
    mw_csv_close(r);
    free(input);
}

static void test_fd_source(void **state)
{
    fixture *f = *state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    const char input[] = "k;v\n\"a\"\";b\";2\n";
    assert_int_equal(write(fds[1], input, sizeof input - 1), (ssize_t)(sizeof input - 1));
    close(fds[1]);
    mw_csv_reader *r = mw_csv_open(NULL, mw_csv_read_fd, &fds[0], &f->alloc);
    char *got = drive(r, 1, 0);
    assert_string_equal(got, "H1:[k][v]\n2:[a\";b][2]\nEOF\n");
    free(got);
    mw_csv_close(r);
    close(fds[0]);

    mw_csv_memory_source mem = {.data = input, .len = sizeof input - 1};
    r = mw_csv_open(NULL, mw_csv_read_memory, &mem, &f->alloc);
    got = drive(r, 0, 0);
    assert_string_equal(got, "H1:[k][v]\n2:[a\";b][2]\nEOF\n");
    free(got);
    mw_csv_close(r);
}

/* Number parsing */

static double reference_strtod(const char *s)
{
    return strtod(s, NULL);
}

static void check_number(const char *s, double expected)
{
    double got = -12345.0;
    mw_parse_result result = mw_parse_number(s, strlen(s), &got);
    if (result != MW_PARSE_OK || memcmp(&got, &expected, sizeof got) != 0)
        print_error("mw_parse_number(\"%s\") = %d, %.17g; expected %.17g\n",
                    s, (int)result, got, expected);
    assert_int_equal(result, MW_PARSE_OK);
    assert_memory_equal(&got, &expected, sizeof got);
}

/* Sizes for --max-mem and mw.mem.limit: units are powers of 1024. */
static void test_parse_size(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        size_t bytes;
    } good[] = {
        {"4096", 4096}, {"4096B", 4096}, {"1k", 1024}, {"1K", 1024}, {"2KB", 2048},
        {"3KiB", 3072}, {"256M", 268435456}, {" 256 MiB ", 268435456},
        {"1.5G", 1610612736}, {"1gib", 1073741824}, {"1T", 1099511627776u},
        {"1e3", 1000}, {"0.5K", 512}, {"0", 0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t out = 1;
        assert_int_equal(mw_parse_size(good[i].text, strlen(good[i].text), &out),
                         MW_PARSE_OK);
        assert_true(out == good[i].bytes);
    }
    static const char *const bad[] = {"", "M", "12Q", "-1M", "1MM", "nan", "1e300T",
                                      "NA", "12 3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t out = 7;
        assert_int_equal(mw_parse_size(bad[i], strlen(bad[i]), &out), MW_PARSE_INVALID);
        assert_int_equal(out, 7);
    }
}

static void test_parse_number_valid(void **state)
{
    (void)state;
    static const char *const same_as_strtod[] = {
        "0", "-0", "+0", "0.0", "-0.0", "1", "-1", "1.5", "20.0", "0.0819647350000",
        ".5", "5.", "-.5", "+3", "007", "1e10", "1E-5", "1e+5", "-2.5e-3",
        "123456789012345678", "1234567890123456789", "12345678901234567890",
        "123456789012345678901234567890", "9007199254740992", "9007199254740993",
        "9007199254740995", "0.1", "0.2", "0.3", "3.14159265358979323846264338327950288",
        "1e22", "1e23", "1e-22", "1e-23", "8.98846567431158e307",
        "1.7976931348623157e308", "1.7976931348623158e308", "2.2250738585072014e-308",
        "2.2250738585072011e-308", "4.9406564584124654e-324", "2.4703282292062328e-324",
        "1e400", "-1e400", "1e-400", "0e999999999999", "0.000000000000000000000000001",
        "100000000000000000000000000000000000000000000000000000000000000e-40",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "-1.00035107164e-05", "0.109326923077", "12345.678e-2", "1e-7",
        "4503599627370497.5", "0.000123456789012345678901", "1e0000000000000000000000001",
    };
    for (size_t i = 0; i < sizeof same_as_strtod / sizeof same_as_strtod[0]; i++)
        check_number(same_as_strtod[i], reference_strtod(same_as_strtod[i]));
    check_number("  42  ", 42.0);
    check_number("\t-7.25\t", -7.25);
    check_number("inf", INFINITY);
    check_number("-Infinity", -INFINITY);
    check_number("+INF", INFINITY);
    double neg_zero = -0.0, got;
    assert_int_equal(mw_parse_number("-0", 2, &got), MW_PARSE_OK);
    assert_memory_equal(&got, &neg_zero, sizeof got);
    /* Not NUL-terminated: the length is what counts. */
    assert_int_equal(mw_parse_number("12345", 3, &got), MW_PARSE_OK);
    assert_true(got == 123.0);

    /* 1 + 2^-53 lies exactly halfway between two doubles and rounds to
     * even (1.0); any non-zero digit after it, however far (here past the
     * 768 digits kept for strtod), must round up instead. */
    text long_number = {0};
    text_addf(&long_number, "%s", "1.00000000000000011102230246251565404236316680908203125");
    check_number(long_number.data, 1.0);
    for (int i = 0; i < 2000; i++)
        text_add(&long_number, "0", 1);
    check_number(long_number.data, 1.0);
    text_add(&long_number, "1", 1);
    check_number(long_number.data, nextafter(1.0, 2.0));
    check_number(long_number.data, reference_strtod(long_number.data));
    text_free(&long_number);
}

/* Random decimal spellings, bit-compared with strtod. */
static void test_parse_number_random(void **state)
{
    (void)state;
    uint64_t s = 7;
    char buf[64];
    for (int i = 0; i < 200000; i++) {
        size_t n = 0;
        if (rng_next(&s) % 4 == 0)
            buf[n++] = '-';
        size_t int_digits = rng_next(&s) % 21, frac_digits = rng_next(&s) % 21;
        if (int_digits + frac_digits == 0)
            int_digits = 1;
        for (size_t k = 0; k < int_digits; k++)
            buf[n++] = (char)('0' + rng_next(&s) % 10);
        if (frac_digits > 0 || rng_next(&s) % 8 == 0) {
            buf[n++] = '.';
            for (size_t k = 0; k < frac_digits; k++)
                buf[n++] = (char)('0' + rng_next(&s) % 10);
        }
        if (rng_next(&s) % 3 == 0)
            n += (size_t)sprintf(buf + n, "e%d", (int)(rng_next(&s) % 700) - 350);
        buf[n] = '\0';
        check_number(buf, reference_strtod(buf));
    }
}

/* Under a locale whose decimal point is ',', parsing is unchanged: the
 * slow path hands strtod a spelling with no decimal point at all. */
static void test_parse_number_locale(void **state)
{
    (void)state;
    static const char *const comma_locales[] = {
        "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "de_DE", "fr_FR",
    };
    const char *set = NULL;
    for (size_t i = 0; i < sizeof comma_locales / sizeof comma_locales[0] && set == NULL; i++)
        set = setlocale(LC_NUMERIC, comma_locales[i]);
    if (set == NULL) {
        print_message("no locale with a ',' decimal point installed\n");
        skip();
    }
    double got = 0;
    const char *slow = "0.1000000000000000055511151231257827021181583404541015625";
    assert_int_equal(mw_parse_number("2.5", 3, &got), MW_PARSE_OK);
    int fast_ok = got == 2.5;
    assert_int_equal(mw_parse_number(slow, strlen(slow), &got), MW_PARSE_OK);
    int slow_ok = got == 0.1;
    int comma_invalid = mw_parse_number("2,5", 3, &got) == MW_PARSE_INVALID;
    setlocale(LC_NUMERIC, "C");
    assert_true(fast_ok);
    assert_true(slow_ok);
    assert_true(comma_invalid);
}

static void test_parse_number_invalid_and_missing(void **state)
{
    (void)state;
    static const char *const invalid[] = {
        "abc", "1.2.3", "1e", "1e+", "e5", "--1", "+-1", "1 2", "0x10", ".", "+", "-",
        "1,5", "inf x", "infinit", "1e5.0", "1f", "١", "1_000", "$5", "5%", "nan1",
        "NaNa", "#N/A N/A", "- 1",
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        double out = 99.0;
        if (mw_parse_number(invalid[i], strlen(invalid[i]), &out) != MW_PARSE_INVALID)
            print_error("\"%s\" should be invalid\n", invalid[i]);
        assert_int_equal(mw_parse_number(invalid[i], strlen(invalid[i]), &out), MW_PARSE_INVALID);
        assert_true(out == 99.0);
        assert_int_equal(mw_parse_infer(invalid[i], strlen(invalid[i])), MW_FIELD_STRING);
    }
    static const char *const missing[] = {
        "", " ", "\t \t", "NA", "na", "N/A", "n/a", "#N/A", "<NA>", "NaN", "nan", "NAN",
        "-nan", "+NaN", "null", "NULL", "Null", "None", "none", " NA ",
    };
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        double out = 99.0;
        assert_int_equal(mw_parse_number(missing[i], strlen(missing[i]), &out), MW_PARSE_MISSING);
        assert_true(isnan(out));
        assert_true(mw_parse_is_missing(missing[i], strlen(missing[i])));
        assert_int_equal(mw_parse_infer(missing[i], strlen(missing[i])), MW_FIELD_MISSING);
        int64_t ms = 5;
        assert_int_equal(mw_parse_time(missing[i], strlen(missing[i]), &ms), MW_PARSE_MISSING);
        assert_int_equal(ms, 5);
    }
    assert_false(mw_parse_is_missing("0", 1));
    assert_false(mw_parse_is_missing("nah", 3));
}

/* Time parsing */

static void check_time(const char *s, int64_t expected)
{
    int64_t got = INT64_MIN;
    mw_parse_result result = mw_parse_time(s, strlen(s), &got);
    if (result != MW_PARSE_OK || got != expected)
        print_error("mw_parse_time(\"%s\") = %d, %lld; expected %lld\n", s, (int)result,
                    (long long)got, (long long)expected);
    assert_int_equal(result, MW_PARSE_OK);
    assert_true(got == expected);
}

static void test_parse_time_valid(void **state)
{
    (void)state;
    /* Expected values from Python's datetime, an independent calendar. */
    check_time("1970-01-01", 0);
    check_time("1970-01-01T00:00:00Z", 0);
    check_time("2014-04-10T07:15:00", 1397114100000);
    check_time("2014-04-10T07:15:00Z", 1397114100000);
    check_time("2014-04-10t07:15:00z", 1397114100000);
    check_time("2014-04-10 07:15:00", 1397114100000);
    check_time("2014-04-10T07:15", 1397114100000);
    check_time("2014-04-10T07:15Z", 1397114100000);
    check_time("2014-04-10T07:15:00+02:00", 1397106900000);
    check_time("2014-04-10T07:15:00+0200", 1397106900000);
    check_time("2014-04-10T07:15:00+02", 1397106900000);
    check_time("2014-04-10T07:15:00-05:30", 1397133900000);
    check_time("2014-04-10T07:15:00+05:45", 1397093400000);
    check_time("2012-02-29T23:59:59+14:00", 1330509599000);
    check_time("2014-04-10 07:15:00.123456", 1397114100123);
    check_time("2014-04-10T07:15:00.5Z", 1397114100500);
    check_time("2014-04-10 07:15:00,25", 1397114100250);
    check_time("2014-04-10T07:15:00.999999999+02:00", 1397106900999);
    check_time("1969-12-31T23:59:59.999", -1);
    check_time("1900-01-01", -2208988800000);
    check_time("2000-02-29", 951782400000);
    check_time("2004-02-29T12:00:00", 1078056000000);
    check_time("2016-12-31T23:59:59", 1483228799000);
    check_time("9999-12-31", 253402214400000);
    check_time("0001-01-01", -62135596800000);
    check_time("  2014-04-10T07:15:00  ", 1397114100000);
    /* Not NUL-terminated: the length is what counts. */
    int64_t ms;
    assert_int_equal(mw_parse_time("2014-04-10T07:15:00XYZ", 19, &ms), MW_PARSE_OK);
    assert_true(ms == 1397114100000);
}

static void test_parse_time_invalid(void **state)
{
    (void)state;
    static const char *const invalid[] = {
        "2014-13-01", "2014-00-10", "2014-01-00", "2014-01-32", "2014-02-29", "2014-02-30",
        "2014-04-31", "1900-02-29", "2100-02-29", "2014-04-10T24:00:00", "2014-04-10T07:60",
        "2014-04-10T07:15:60", "2014-04-10T07:15:00+", "2014-04-10T07:15:00+24:00",
        "2014-04-10T07:15:00+02:60", "2014-04-10T07:15:00+2", "2014-4-10", "2014/04/10",
        "20140410", "2014-04-10T", "2014-04-10T07", "2014-04-10T07:1",
        "2014-04-10T07:15:00.", "2014-04-10T07:15:", "2014-04-10Z", "2014-04-10 07:15:00 Z",
        "2014-04-10T07:15:00Zx", "2014-04-10X07:15", "abc", "12345", "1.5", "-2014-04-10",
        "+2014-04-10", "2014-04-10T07:15:00.5.5",
    };
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        int64_t ms = 77;
        if (mw_parse_time(invalid[i], strlen(invalid[i]), &ms) != MW_PARSE_INVALID)
            print_error("\"%s\" should be an invalid time\n", invalid[i]);
        assert_int_equal(mw_parse_time(invalid[i], strlen(invalid[i]), &ms), MW_PARSE_INVALID);
        assert_int_equal(ms, 77);
    }
}

/* Leap years over four centuries against a day count done by hand. */
static void test_parse_time_calendar(void **state)
{
    (void)state;
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t days = 0;
    char s[64];
    for (int year = 1970; year < 2400; year++) {
        int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        for (int month = 1; month <= 12; month++) {
            int n = month_days[month - 1] + (month == 2 && leap);
            for (int day = 1; day <= n; day++) {
                if (day == 1 || day >= 28) {
                    snprintf(s, sizeof s, "%04d-%02d-%02dT12:34:56.789", year, month, day);
                    check_time(s, days * 86400000 + 45296789);
                }
                days++;
            }
            snprintf(s, sizeof s, "%04d-%02d-%02d", year, month, n + 1);
            int64_t ms;
            assert_int_equal(mw_parse_time(s, strlen(s), &ms), MW_PARSE_INVALID);
        }
    }
}

static void test_parse_infer(void **state)
{
    (void)state;
    static const struct {
        const char *field;
        mw_field_kind kind;
    } cases[] = {
        {"", MW_FIELD_MISSING}, {"NaN", MW_FIELD_MISSING}, {"null", MW_FIELD_MISSING},
        {"1", MW_FIELD_NUMBER}, {"-2.5e3", MW_FIELD_NUMBER}, {" 7 ", MW_FIELD_NUMBER},
        {"inf", MW_FIELD_NUMBER}, {"2014-04-10", MW_FIELD_TIME},
        {"2014-04-10 07:15:00", MW_FIELD_TIME}, {"2014-04-10T07:15:00+02:00", MW_FIELD_TIME},
        {"timestamp", MW_FIELD_STRING}, {"2014-02-30", MW_FIELD_STRING},
        {"1,5", MW_FIELD_STRING}, {"value", MW_FIELD_STRING},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(mw_parse_infer(cases[i].field, strlen(cases[i].field)), cases[i].kind);
}

/* NAB: the reader and mw_parse_* against a reference parser */

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long size = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, fp), (size_t)size);
    data[size] = '\0';
    fclose(fp);
    *len = (size_t)size;
    return data;
}

/* "YYYY-MM-DD HH:MM:SS" to epoch ms by counting days, year by year. */
static int64_t reference_epoch_ms(const char *s)
{
    int y, mo, d, h, mi, sec;
    assert_int_equal(sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec), 6);
    static const int month_days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t days = 0;
    for (int year = 1970; year < y; year++)
        days += ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0) ? 366 : 365;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    for (int month = 1; month < mo; month++)
        days += month_days[month - 1] + (month == 2 && leap);
    days += d - 1;
    return ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000;
}

/* Compares one file, read through mw_csv_read_fd at `chunk`, with the
 * reference split of its text. Returns the number of data rows. */
static size_t check_nab_file(fixture *f, const char *path, size_t chunk)
{
    size_t len;
    char *data = slurp(path, &len);
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    mw_csv_options opts;
    mw_csv_options_init(&opts);
    opts.chunk_size = chunk;
    mw_csv_reader *r = mw_csv_open(&opts, mw_csv_read_fd, &fd, &f->alloc);
    assert_non_null(r);

    mw_csv_row header, row;
    assert_int_equal(mw_csv_header(r, &header), MW_CSV_ROW);
    assert_int_equal(mw_csv_delimiter(r), ',');
    size_t rows = 0;
    unsigned long long line_no = 0;
    char *line = data;
    while (line < data + len) {
        char *nl = memchr(line, '\n', (size_t)(data + len - line));
        char *end = nl != NULL ? nl : data + len;
        char *next = nl != NULL ? nl + 1 : data + len;
        line_no++;
        if (end > line && end[-1] == '\r')
            end--;
        if (end == line) {
            line = next;
            continue;
        }
        *end = '\0';
        char *comma = strchr(line, ',');
        assert_non_null(comma);
        *comma = '\0';
        if (line_no == 1) {
            assert_int_equal(header.n_fields, 2);
            assert_string_equal(header.fields[0].data, line);
            assert_string_equal(header.fields[1].data, comma + 1);
            line = next;
            continue;
        }
        assert_int_equal(mw_csv_next(r, &row), MW_CSV_ROW);
        assert_int_equal(row.n_fields, 2);
        assert_int_equal(row.line, line_no);
        assert_int_equal(mw_csv_check_width(r, &row, 0), MW_OK);
        assert_string_equal(row.fields[0].data, line);
        assert_string_equal(row.fields[1].data, comma + 1);
        double value = 0, expected_value = strtod(comma + 1, NULL);
        assert_int_equal(mw_parse_number(row.fields[1].data, row.fields[1].len, &value), MW_PARSE_OK);
        assert_memory_equal(&value, &expected_value, sizeof value);
        int64_t stamp = 0;
        assert_int_equal(mw_parse_time(row.fields[0].data, row.fields[0].len, &stamp), MW_PARSE_OK);
        assert_true(stamp == reference_epoch_ms(line));
        rows++;
        line = next;
    }
    assert_int_equal(mw_csv_next(r, &row), MW_CSV_EOF);
    assert_int_equal(mw_csv_bytes_read(r), len);
    mw_csv_close(r);
    close(fd);
    free(data);
    assert_true(rows > 0);
    return rows;
}

static void test_nab_files(void **state)
{
    fixture *f = *state;
    const char *dir = f->nab_dir != NULL ? f->nab_dir : getenv("MW_NAB_DIR");
    DIR *top = dir != NULL ? opendir(dir) : NULL;
    if (top == NULL) {
        print_message("NAB data not found (pass its data/ directory as argv[1] or MW_NAB_DIR)\n");
        skip();
    }
    size_t n_files = 0, n_rows = 0;
    struct dirent *group;
    while ((group = readdir(top)) != NULL) {
        if (group->d_name[0] == '.')
            continue;
        char group_path[1024];
        snprintf(group_path, sizeof group_path, "%s/%s", dir, group->d_name);
        DIR *sub = opendir(group_path);
        if (sub == NULL)
            continue;
        struct dirent *entry;
        while ((entry = readdir(sub)) != NULL) {
            size_t name_len = strlen(entry->d_name);
            if (name_len < 5 || strcmp(entry->d_name + name_len - 4, ".csv") != 0)
                continue;
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", group_path, entry->d_name);
            size_t rows = check_nab_file(f, path, MW_CSV_DEFAULT_CHUNK);
            assert_int_equal(check_nab_file(f, path, 4093), rows);
            n_rows += rows;
            n_files++;
        }
        closedir(sub);
    }
    closedir(top);
    print_message("NAB: %zu files, %zu rows compared\n", n_files, n_rows);
    assert_true(n_files > 0);
}

#define TEST(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)

int main(int argc, char **argv)
{
    const char *nab_dir = argc > 1 ? argv[1] : NULL;
    const struct CMUnitTest reader_tests[] = {
        TEST(test_line_ends),
        TEST(test_bom),
        TEST(test_empty_lines),
        TEST(test_quoted_fields),
        TEST(test_quote_leniency),
        TEST(test_custom_quote_and_delimiter),
        TEST(test_chunk_boundaries_random),
        TEST(test_huge_field),
        TEST(test_line_by_line_source),
        TEST(test_delimiter_detection),
        TEST(test_header_detection),
        TEST(test_header_outlives_rows),
        TEST(test_unterminated_quote),
        TEST(test_unterminated_quote_late),
        TEST(test_memory_stays_constant),
        TEST(test_read_error),
        TEST(test_invalid_options),
        TEST(test_check_width),
        TEST(test_allocation_failure_sweep),
        TEST(test_budget),
        TEST(test_fd_source),
        cmocka_unit_test_prestate_setup_teardown(test_nab_files, fixture_setup,
                                                 fixture_teardown, &nab_dir),
    };
    const struct CMUnitTest parse_tests[] = {
        cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_parse_number_valid),
        cmocka_unit_test(test_parse_number_random),
        cmocka_unit_test(test_parse_number_locale),
        cmocka_unit_test(test_parse_number_invalid_and_missing),
        cmocka_unit_test(test_parse_time_valid),
        cmocka_unit_test(test_parse_time_invalid),
        cmocka_unit_test(test_parse_time_calendar),
        cmocka_unit_test(test_parse_infer),
    };
    int failed = cmocka_run_group_tests_name("csv reader", reader_tests, NULL, NULL);
    failed += cmocka_run_group_tests_name("field parsers", parse_tests, NULL, NULL);
    return failed;
}
