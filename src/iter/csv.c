/*
 * csv.c: the streaming CSV reader (see csv.h for what it accepts).
 *
 * The buffer holds [row_begin, data_end): the row being parsed, then input
 * not yet looked at. Parsing is a state machine over the bytes from `pos`,
 * and all of its state lives in the reader as offsets into the buffer. When
 * the buffer runs dry in the middle of a row, the parser saves where it is,
 * the buffer is refilled (first compacted so the row starts at offset 0,
 * grown only if that leaves less than a chunk free) and parsing resumes
 * where it stopped. No byte is examined twice, however small the chunks:
 * a 10 MB field read one byte at a time costs linear time.
 *
 * Unquoted fields are left where they are. Quoted fields are unescaped in
 * place: their bytes are moved down to `out`, which trails `pos` by the
 * quotes dropped so far, so a field without doubled quotes is never moved.
 * Fields are recorded as spans (offsets), turned into pointers only when
 * the row is handed out, since a refill may move the buffer.
 *
 * Invariants:
 *  - row_begin <= line_start <= pos <= data_end < buf_cap: one spare byte
 *    always follows the data, so the last field of the input can be
 *    NUL-terminated like every other one.
 *  - spans[0..n_spans) are the fields of the current row, all at or after
 *    row_begin; field_start and out mean something only in the states
 *    that use them.
 *  - A memory failure returns before changing any state a retry would
 *    redo differently: the failed step runs again, whole, next time.
 *  - A syntax or read error sets `failed`; nothing is read after it.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* read(2) */
#endif

#include "iter/csv.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "iter/parse.h"

/* Under AddressSanitizer the free part of the buffer, [data_end + 1,
 * buf_cap), is poisoned until a read fills it. A compaction leaves the old
 * copy of the row behind, so a field offset that missed the shift would
 * still read the right bytes and pass every test; poisoned, it fails
 * loudly. Other builds compile this away. */
#if defined(__SANITIZE_ADDRESS__)
#define CSV_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CSV_ASAN 1
#endif
#endif
#ifdef CSV_ASAN
#include <sanitizer/asan_interface.h>
#endif

/* The smallest buffer: with tiny chunks, a few rows share the buffer
 * before a compaction has to move the partial row down. */
#define CSV_MIN_BUFFER ((size_t)4096)

/* Field slots of a new reader; doubled as wider rows come. */
#define CSV_MIN_FIELDS ((size_t)16)

/* Where the row parser is within the current field. */
typedef enum csv_state {
    CSV_FIELD_START,         /* before a field's first byte */
    CSV_UNQUOTED,            /* in an unquoted field */
    CSV_QUOTED,              /* inside quotes */
    CSV_QUOTE_SEEN,          /* just past a quote inside quotes: end or "" */
    CSV_AFTER_QUOTE          /* literal text after the closing quote */
} csv_state;

/* What the start of the input still needs. */
typedef enum csv_stage {
    CSV_STAGE_BOM,
    CSV_STAGE_DETECT,        /* the delimiter, if not given */
    CSV_STAGE_FIRST_ROW,     /* header or not */
    CSV_STAGE_SECOND_ROW,    /* only when detecting the header */
    CSV_STAGE_ROWS
} csv_stage;

typedef enum csv_outcome {
    CSV_PARSED_ROW,
    CSV_NEED_INPUT,
    CSV_PARSED_EOF,
    CSV_PARSE_FAILED
} csv_outcome;

typedef struct csv_span {
    size_t start;
    size_t len;
} csv_span;

struct mw_csv_reader {
    mw_alloc *alloc;
    mw_csv_read_fn read_fn;
    void *ud;
    size_t chunk_size;
    int header_mode;         /* the header option: -1, 0, 1 */
    int skip_empty_lines;
    unsigned char delimiter; /* 0 until detected */
    unsigned char quote;

    char *buf;
    size_t buf_cap;
    size_t data_end;
    int at_eof;
    uint64_t bytes_read;

    /* The row being parsed. */
    csv_state state;
    size_t row_begin;
    size_t pos;
    size_t field_start;
    size_t out;              /* next byte of a quoted field goes here */
    int field_quoted;
    csv_span *spans;
    size_t n_spans;
    size_t spans_cap;
    uint64_t line;           /* physical line `pos` is on */
    size_t line_start;       /* offset of that line's first byte */
    uint64_t row_line;
    uint64_t quote_line;     /* where the open quoted field began */
    uint64_t quote_column;
    int row_ready;           /* spans hold a complete row */
    int row_handed;          /* ...already returned: drop it on the next call */

    mw_csv_field *fields;    /* the handed-out row's fields */
    size_t fields_cap;

    /* The start of the input. */
    csv_stage stage;
    size_t detect_pos;
    int detect_in_quote;
    int detect_line_has_data;
    size_t detect_counts[4];

    /* A row copied out of the buffer, in one block (field table, then the
     * bytes): the header, or the first row when detection found it was
     * data and a second row had to be read to know. */
    char *saved;
    size_t saved_size;
    mw_csv_row saved_row;
    int has_header;
    int saved_is_data;       /* the copy is a data row not yet returned */

    size_t first_width;      /* field count of the first data row */
    int width_known;
    int failed;
    mw_csv_error error;
};

static const unsigned char csv_delimiter_candidates[4] = {',', ';', '\t', '|'};
static const unsigned char csv_bom[3] = {0xEF, 0xBB, 0xBF};

/* Marks [from, from + len) of the buffer unusable, or usable again (see
 * CSV_ASAN). Callers pass only ranges that changed, so a 1-byte read costs
 * O(1) however large the buffer. */
static void csv_poison(mw_csv_reader *r, size_t from, size_t len)
{
#ifdef CSV_ASAN
    if (r->buf != NULL && len > 0)
        ASAN_POISON_MEMORY_REGION(r->buf + from, len);
#else
    (void)r;
    (void)from;
    (void)len;
#endif
}

static void csv_unpoison(mw_csv_reader *r, size_t from, size_t len)
{
#ifdef CSV_ASAN
    if (r->buf != NULL && len > 0)
        ASAN_UNPOISON_MEMORY_REGION(r->buf + from, len);
#else
    (void)r;
    (void)from;
    (void)len;
#endif
}

void mw_csv_options_init(mw_csv_options *opts)
{
    opts->delimiter = 0;
    opts->quote = '"';
    opts->header = -1;
    opts->chunk_size = MW_CSV_DEFAULT_CHUNK;
    opts->skip_empty_lines = 1;
}

static int csv_is_line_end(char c)
{
    return c == '\n' || c == '\r';
}

mw_csv_reader *mw_csv_open(const mw_csv_options *opts, mw_csv_read_fn read_fn,
                           void *ud, mw_alloc *a)
{
    mw_csv_options defaults;
    if (opts == NULL) {
        mw_csv_options_init(&defaults);
        opts = &defaults;
    }
    char quote = opts->quote != 0 ? opts->quote : '"';
    size_t chunk = opts->chunk_size != 0 ? opts->chunk_size : MW_CSV_DEFAULT_CHUNK;
    if (read_fn == NULL || csv_is_line_end(quote) || csv_is_line_end(opts->delimiter) ||
        opts->delimiter == quote || opts->header < -1 || opts->header > 1 ||
        chunk > PTRDIFF_MAX / 4) {
        a->last_error = MW_EINVAL;
        return NULL;
    }
    mw_csv_reader *r = mw_alloc_malloc(a, MW_DOMAIN_NATIVE, sizeof *r);
    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof *r);
    r->alloc = a;
    r->read_fn = read_fn;
    r->ud = ud;
    r->chunk_size = chunk;
    r->header_mode = opts->header;
    r->skip_empty_lines = opts->skip_empty_lines != 0;
    r->delimiter = (unsigned char)opts->delimiter;
    r->quote = (unsigned char)quote;
    r->state = CSV_FIELD_START;
    r->line = 1;
    r->row_line = 1;
    r->stage = CSV_STAGE_BOM;
    r->error.kind = MW_CSV_ERR_NONE;
    r->error.status = MW_OK;
    return r;
}

void mw_csv_close(mw_csv_reader *r)
{
    if (r == NULL)
        return;
    mw_alloc *a = r->alloc;
    csv_unpoison(r, 0, r->buf_cap);
    mw_alloc_free(a, MW_DOMAIN_NATIVE, r->buf, r->buf_cap);
    mw_alloc_free(a, MW_DOMAIN_NATIVE, r->spans, r->spans_cap * sizeof(csv_span));
    mw_alloc_free(a, MW_DOMAIN_NATIVE, r->fields, r->fields_cap * sizeof(mw_csv_field));
    mw_alloc_free(a, MW_DOMAIN_NATIVE, r->saved, r->saved_size);
    mw_alloc_free(a, MW_DOMAIN_NATIVE, r, sizeof *r);
}

/* Errors */

static void csv_set_error(mw_csv_reader *r, mw_csv_error_kind kind, mw_status status,
                          uint64_t line, uint64_t column, const char *fmt, ...)
{
    r->error.kind = kind;
    r->error.status = status;
    r->error.sys_errno = 0;
    r->error.line = line;
    r->error.column = column;
    va_list args;
    va_start(args, fmt);
    vsnprintf(r->error.message, sizeof r->error.message, fmt, args);
    va_end(args);
}

/* Records the allocator's refusal; returns 0 for the caller to pass on. */
static int csv_fail_memory(mw_csv_reader *r)
{
    mw_status status = r->alloc->last_error;
    if (status != MW_EBUDGET)
        status = MW_ENOMEM;
    csv_set_error(r, MW_CSV_ERR_MEMORY, status, r->line, 0, "line %" PRIu64 ": %s",
                  r->line, mw_strerror(status));
    return 0;
}

static int csv_fail_read(mw_csv_reader *r, ptrdiff_t returned, int sys_errno)
{
    if (returned == -1 && sys_errno != 0)
        csv_set_error(r, MW_CSV_ERR_READ, MW_EINVAL, r->line, 0,
                      "line %" PRIu64 ": read error: %s", r->line, strerror(sys_errno));
    else if (returned == -1)
        csv_set_error(r, MW_CSV_ERR_READ, MW_EINVAL, r->line, 0,
                      "line %" PRIu64 ": read error", r->line);
    else
        csv_set_error(r, MW_CSV_ERR_READ, MW_EINVAL, r->line, 0,
                      "line %" PRIu64 ": read callback returned %td for a %zu-byte buffer",
                      r->line, returned, r->chunk_size);
    r->error.sys_errno = sys_errno;
    r->failed = 1;
    return 0;
}

static int csv_fail_unterminated(mw_csv_reader *r)
{
    csv_set_error(r, MW_CSV_ERR_SYNTAX, MW_EINVAL, r->quote_line, r->quote_column,
                  "line %" PRIu64 ", column %" PRIu64
                  ": unterminated quoted field (input ended inside it)",
                  r->quote_line, r->quote_column);
    r->failed = 1;
    return 0;
}

/* Input */

/* Moves the current row to the start of the buffer. */
static void csv_compact(mw_csv_reader *r)
{
    size_t shift = r->row_begin;
    memmove(r->buf, r->buf + shift, r->data_end - shift);
    r->data_end -= shift;
    csv_poison(r, r->data_end + 1, shift);
    r->pos -= shift;
    r->line_start -= shift;
    r->row_begin = 0;
    if (r->stage == CSV_STAGE_DETECT)
        r->detect_pos -= shift;
    /* Each of these means something only in some states (see csv_state). */
    if (r->state != CSV_FIELD_START)
        r->field_start -= shift;
    if (r->state == CSV_QUOTED || r->state == CSV_QUOTE_SEEN || r->state == CSV_AFTER_QUOTE)
        r->out -= shift;
    for (size_t i = 0; i < r->n_spans; i++)
        r->spans[i].start -= shift;
}

/* Makes room for a chunk (and the spare byte) after the data and reads
 * one. Returns 1, or 0 with the error recorded; at end of input sets
 * at_eof. */
static int csv_refill(mw_csv_reader *r)
{
    size_t needed = r->chunk_size + 1;
    if (r->buf_cap - r->data_end < needed && r->row_begin > 0)
        csv_compact(r);
    if (r->buf_cap - r->data_end < needed) {
        csv_unpoison(r, 0, r->buf_cap);     /* realloc copies the whole block */
        size_t new_cap = r->buf_cap != 0 ? r->buf_cap : 2 * r->chunk_size + 1;
        if (new_cap < CSV_MIN_BUFFER)
            new_cap = CSV_MIN_BUFFER;
        while (new_cap - r->data_end < needed) {
            if (new_cap > SIZE_MAX / 2) {
                r->alloc->last_error = MW_ENOMEM;
                return csv_fail_memory(r);
            }
            new_cap *= 2;
        }
        char *grown = mw_alloc_realloc(r->alloc, MW_DOMAIN_NATIVE, r->buf, r->buf_cap, new_cap);
        if (grown != NULL) {
            r->buf = grown;
            r->buf_cap = new_cap;
        }
        if (r->buf != NULL)
            csv_poison(r, r->data_end + 1, r->buf_cap - r->data_end - 1);
        if (grown == NULL)
            return csv_fail_memory(r);
    }
    csv_unpoison(r, r->data_end, r->chunk_size + 1);
    errno = 0;
    ptrdiff_t n = r->read_fn(r->ud, r->buf + r->data_end, r->chunk_size);
    if (n < 0 || (size_t)n > r->chunk_size) {
        csv_poison(r, r->data_end + 1, r->chunk_size);
        return csv_fail_read(r, n, n == -1 ? errno : 0);
    }
    if (n == 0)
        r->at_eof = 1;
    r->data_end += (size_t)n;
    r->bytes_read += (uint64_t)n;
    csv_poison(r, r->data_end + 1, r->chunk_size - (size_t)n);
    return 1;
}

/* The row parser */

static int csv_grow_spans(mw_csv_reader *r)
{
    size_t new_cap = r->spans_cap != 0 ? r->spans_cap * 2 : CSV_MIN_FIELDS;
    if (new_cap > SIZE_MAX / sizeof(csv_span)) {
        r->alloc->last_error = MW_ENOMEM;
        return csv_fail_memory(r);
    }
    csv_span *grown = mw_alloc_realloc(r->alloc, MW_DOMAIN_NATIVE, r->spans,
                                       r->spans_cap * sizeof(csv_span),
                                       new_cap * sizeof(csv_span));
    if (grown == NULL)
        return csv_fail_memory(r);
    r->spans = grown;
    r->spans_cap = new_cap;
    return 1;
}

static inline int csv_push_span(mw_csv_reader *r, size_t start, size_t len)
{
    if (r->n_spans == r->spans_cap && !csv_grow_spans(r))
        return 0;
    r->spans[r->n_spans].start = start;
    r->spans[r->n_spans].len = len;
    r->n_spans++;
    return 1;
}

/* Counts the line ends inside quotes in [from, to), so that rows and
 * errors after a multi-line field still name the right line. */
static void csv_count_lines(mw_csv_reader *r, size_t from, size_t to)
{
    const char *p = r->buf + from, *end = r->buf + to;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        p++;
        r->line++;
        r->line_start = (size_t)(p - r->buf);
    }
}

/* Starts a new row at pos (the one before it is dropped). */
static void csv_start_row(mw_csv_reader *r)
{
    r->row_ready = 0;
    r->row_handed = 0;
    r->n_spans = 0;
    r->row_begin = r->pos;
    r->row_line = r->line;
    r->state = CSV_FIELD_START;
}

static int csv_row_is_empty_line(const mw_csv_reader *r)
{
    return r->n_spans == 1 && r->spans[0].len == 0 && !r->field_quoted;
}

/* Word-at-a-time search: a non-zero result iff some byte of `word` equals
 * the byte repeated in `pattern` (the classic has-zero-byte test on
 * word ^ pattern). */
#define CSV_ONES ((uint64_t)0x0101010101010101u)
#define CSV_HIGHS ((uint64_t)0x8080808080808080u)

static inline uint64_t csv_word_has(uint64_t word, uint64_t pattern)
{
    uint64_t x = word ^ pattern;
    return (x - CSV_ONES) & ~x & CSV_HIGHS;
}

/* Returns the offset of the first delimiter or LF in [pos, end), or end.
 * Eight bytes per step: an unquoted numeric field is usually found in one
 * or two words instead of ten byte compares. */
static inline size_t csv_scan_unquoted(const unsigned char *buf, size_t pos, size_t end,
                                       unsigned char delim)
{
    const uint64_t delims = CSV_ONES * delim, newlines = CSV_ONES * '\n';
    while (end - pos >= 8) {
        uint64_t word;
        memcpy(&word, buf + pos, 8);
        if (csv_word_has(word, delims) | csv_word_has(word, newlines))
            break;
        pos += 8;
    }
    while (pos < end && buf[pos] != delim && buf[pos] != '\n')
        pos++;
    return pos;
}

/* Parses from pos until a row is complete, the input runs out, or an
 * error. The hot loop keeps pos in a local and stores it back on exit. */
static csv_outcome csv_parse(mw_csv_reader *r)
{
    unsigned char *buf = (unsigned char *)r->buf;
    const unsigned char delim = r->delimiter, quote = r->quote;
    const size_t end = r->data_end;
    size_t pos = r->pos;

    for (;;) {
        switch (r->state) {
        case CSV_FIELD_START:
            if (pos == end)
                goto out_of_input;
            if (buf[pos] == quote) {
                r->quote_line = r->line;
                r->quote_column = pos - r->line_start + 1;
                pos++;
                r->field_start = r->out = pos;
                r->field_quoted = 1;
                r->state = CSV_QUOTED;
                continue;
            }
            r->field_start = pos;
            r->field_quoted = 0;
            r->state = CSV_UNQUOTED;
            /* fall through */
        case CSV_UNQUOTED: {
            /* The hot loop: field after unquoted field without leaving
             * this state, until a line end, a quote or the input's end. */
            size_t field_start = r->field_start;
            for (;;) {
                pos = csv_scan_unquoted(buf, pos, end, delim);
                if (pos == end || buf[pos] != delim)
                    break;
                if (!csv_push_span(r, field_start, pos - field_start)) {
                    r->field_start = field_start;
                    goto failed;
                }
                pos++;
                if (pos == end || buf[pos] == quote) {
                    r->state = CSV_FIELD_START;
                    break;
                }
                field_start = pos;
            }
            r->field_start = field_start;
            if (r->state == CSV_FIELD_START)
                continue;
            if (pos == end)
                goto out_of_input;
            size_t len = pos - field_start;
            if (len > 0 && buf[pos - 1] == '\r')
                len--;
            if (!csv_push_span(r, field_start, len))
                goto failed;
            goto end_of_line;
        }
        case CSV_QUOTED: {
            const unsigned char *q = memchr(buf + pos, quote, end - pos);
            size_t stop = q != NULL ? (size_t)(q - buf) : end;
            csv_count_lines(r, pos, stop);
            if (r->out != pos)
                memmove(buf + r->out, buf + pos, stop - pos);
            r->out += stop - pos;
            pos = stop;
            if (q == NULL)
                goto out_of_input;
            pos++;
            r->state = CSV_QUOTE_SEEN;
            continue;
        }
        case CSV_QUOTE_SEEN: {
            if (pos == end)
                goto out_of_input;
            unsigned char c = buf[pos];
            if (c == quote) {
                buf[r->out++] = quote;
                pos++;
                r->state = CSV_QUOTED;
                continue;
            }
            if (c == delim || c == '\n') {
                if (!csv_push_span(r, r->field_start, r->out - r->field_start))
                    goto failed;
                if (c == '\n')
                    goto end_of_line;
                pos++;
                r->state = CSV_FIELD_START;
                continue;
            }
            r->state = CSV_AFTER_QUOTE;
        }
            /* fall through */
        case CSV_AFTER_QUOTE: {
            size_t out = r->out;
            while (pos < end && buf[pos] != delim && buf[pos] != '\n')
                buf[out++] = buf[pos++];
            r->out = out;
            if (pos == end)
                goto out_of_input;
            size_t len = out - r->field_start;
            if (buf[pos] == delim) {
                if (!csv_push_span(r, r->field_start, len))
                    goto failed;
                pos++;
                r->state = CSV_FIELD_START;
                continue;
            }
            /* The text after the quote is never empty (it starts with the
             * byte that was neither quote, delimiter nor LF), so this CR
             * came after the quote: part of the line end, not the field. */
            if (buf[out - 1] == '\r')
                len--;
            if (!csv_push_span(r, r->field_start, len))
                goto failed;
            goto end_of_line;
        }
        }

    end_of_line:
        /* pos is at the LF ending the row. */
        pos++;
        r->line++;
        r->line_start = pos;
        r->pos = pos;
        r->state = CSV_FIELD_START;
        if (r->skip_empty_lines && csv_row_is_empty_line(r)) {
            csv_start_row(r);
            continue;
        }
        r->row_ready = 1;
        return CSV_PARSED_ROW;
    }

out_of_input:
    r->pos = pos;
    if (!r->at_eof)
        return CSV_NEED_INPUT;
    switch (r->state) {
    case CSV_FIELD_START:
        if (r->n_spans == 0)
            return CSV_PARSED_EOF;
        /* After a final delimiter: one more, empty, field. */
        if (!csv_push_span(r, pos, 0))
            return CSV_PARSE_FAILED;
        break;
    case CSV_UNQUOTED: {
        size_t len = pos - r->field_start;
        if (len > 0 && buf[pos - 1] == '\r')
            len--;
        if (!csv_push_span(r, r->field_start, len))
            return CSV_PARSE_FAILED;
        break;
    }
    case CSV_QUOTED:
        csv_fail_unterminated(r);
        return CSV_PARSE_FAILED;
    case CSV_QUOTE_SEEN:
        if (!csv_push_span(r, r->field_start, r->out - r->field_start))
            return CSV_PARSE_FAILED;
        break;
    case CSV_AFTER_QUOTE: {
        size_t len = r->out - r->field_start;
        if (buf[r->out - 1] == '\r')
            len--;
        if (!csv_push_span(r, r->field_start, len))
            return CSV_PARSE_FAILED;
        break;
    }
    }
    r->state = CSV_FIELD_START;
    if (r->skip_empty_lines && csv_row_is_empty_line(r)) {
        csv_start_row(r);
        return CSV_PARSED_EOF;
    }
    r->row_ready = 1;
    return CSV_PARSED_ROW;

failed:
    r->pos = pos;
    return CSV_PARSE_FAILED;
}

size_t mw_csv_buffered(const mw_csv_reader *r)
{
    /* A row saved while the header was detected, or parsed and not yet
     * handed out, counts as buffered; the row handed out last does not. */
    return (size_t)(r->saved_is_data != 0) + (size_t)(r->row_ready && !r->row_handed)
           + (r->data_end - r->pos);
}

/* Makes a complete row ready in spans, reading as needed. */
static mw_csv_result csv_fill_row(mw_csv_reader *r)
{
    if (r->row_ready)
        return MW_CSV_ROW;
    for (;;) {
        switch (csv_parse(r)) {
        case CSV_PARSED_ROW:
            return MW_CSV_ROW;
        case CSV_PARSED_EOF:
            return MW_CSV_EOF;
        case CSV_PARSE_FAILED:
            return MW_CSV_ERROR;
        case CSV_NEED_INPUT:
            if (!csv_refill(r))
                return MW_CSV_ERROR;
            break;
        }
    }
}

/* Turns the ready row's spans into NUL-terminated fields. Idempotent, so
 * a retry after a memory failure is safe. */
static int csv_export_row(mw_csv_reader *r, mw_csv_row *row)
{
    if (r->fields_cap < r->n_spans) {
        size_t new_cap = r->spans_cap;
        mw_csv_field *grown = mw_alloc_realloc(r->alloc, MW_DOMAIN_NATIVE, r->fields,
                                               r->fields_cap * sizeof(mw_csv_field),
                                               new_cap * sizeof(mw_csv_field));
        if (grown == NULL)
            return csv_fail_memory(r);
        r->fields = grown;
        r->fields_cap = new_cap;
    }
    char *buf = r->buf;
    for (size_t i = 0; i < r->n_spans; i++) {
        const csv_span *s = &r->spans[i];
        buf[s->start + s->len] = '\0';
        r->fields[i].data = buf + s->start;
        r->fields[i].len = s->len;
    }
    row->fields = r->fields;
    row->n_fields = r->n_spans;
    row->line = r->row_line;
    return 1;
}

/* The start of the input */

/* Skips a UTF-8 byte order mark, reading only while what has arrived is
 * still a prefix of one (a source's first short line is not waited on). */
static int csv_skip_bom(mw_csv_reader *r)
{
    for (;;) {
        size_t have = r->data_end - r->pos;
        size_t n = have < sizeof csv_bom ? have : sizeof csv_bom;
        if (n > 0 && memcmp(r->buf + r->pos, csv_bom, n) != 0)
            return 1;
        if (n == sizeof csv_bom) {
            r->pos += n;
            r->row_begin = r->line_start = r->pos;
            return 1;
        }
        if (r->at_eof)
            return 1;
        if (!csv_refill(r))
            return 0;
    }
}

/* Reads until the first non-empty line is complete and picks the
 * delimiter from it (the rule is in csv.h). Nothing is consumed. */
static int csv_detect_delimiter(mw_csv_reader *r)
{
    const size_t n_candidates = sizeof csv_delimiter_candidates;
    for (;;) {
        const unsigned char *buf = (const unsigned char *)r->buf;
        size_t p = r->detect_pos;
        int line_done = 0;
        for (; p < r->data_end && !line_done; p++) {
            unsigned char c = buf[p];
            if (c == r->quote) {
                r->detect_in_quote = !r->detect_in_quote;
                r->detect_line_has_data = 1;
            } else if (r->detect_in_quote) {
                continue;
            } else if (c == '\n') {
                line_done = r->detect_line_has_data;
            } else if (c != '\r') {
                r->detect_line_has_data = 1;
                for (size_t k = 0; k < n_candidates; k++)
                    r->detect_counts[k] += c == csv_delimiter_candidates[k];
            }
        }
        r->detect_pos = p;
        if (line_done || r->at_eof)
            break;
        if (!csv_refill(r))
            return 0;
    }
    unsigned char best = 0;
    size_t best_count = 0;
    for (size_t k = 0; k < n_candidates; k++) {
        unsigned char c = csv_delimiter_candidates[k];
        if (c == r->quote)
            continue;
        if (best == 0 || r->detect_counts[k] > best_count) {
            best = c;
            best_count = r->detect_counts[k];
        }
    }
    r->delimiter = best;
    return 1;
}

static int csv_row_has_typed_field(const mw_csv_row *row)
{
    for (size_t i = 0; i < row->n_fields; i++) {
        mw_field_kind kind = mw_parse_infer(row->fields[i].data, row->fields[i].len);
        if (kind == MW_FIELD_NUMBER || kind == MW_FIELD_TIME)
            return 1;
    }
    return 0;
}

/* Copies row into the reader's own block, so it outlives the buffer. */
static int csv_save_row(mw_csv_reader *r, const mw_csv_row *row)
{
    size_t size = row->n_fields * sizeof(mw_csv_field);
    for (size_t i = 0; i < row->n_fields; i++)
        size += row->fields[i].len + 1;
    char *block = mw_alloc_malloc(r->alloc, MW_DOMAIN_NATIVE, size);
    if (block == NULL)
        return csv_fail_memory(r);
    mw_csv_field *fields = (mw_csv_field *)(void *)block;
    char *text = block + row->n_fields * sizeof(mw_csv_field);
    for (size_t i = 0; i < row->n_fields; i++) {
        memcpy(text, row->fields[i].data, row->fields[i].len);
        text[row->fields[i].len] = '\0';
        fields[i].data = text;
        fields[i].len = row->fields[i].len;
        text += row->fields[i].len + 1;
    }
    r->saved = block;
    r->saved_size = size;
    r->saved_row.fields = fields;
    r->saved_row.n_fields = row->n_fields;
    r->saved_row.line = row->line;
    return 1;
}

/* Runs the stages the start of the input needs, each at most once; a
 * memory failure leaves the stage in place to be retried. */
static int csv_prologue(mw_csv_reader *r)
{
    mw_csv_row row;
    mw_csv_result second;
    switch (r->stage) {
    case CSV_STAGE_BOM:
        if (!csv_skip_bom(r))
            return 0;
        r->detect_pos = r->pos;
        r->stage = CSV_STAGE_DETECT;
        /* fall through */
    case CSV_STAGE_DETECT:
        if (r->delimiter == 0 && !csv_detect_delimiter(r))
            return 0;
        r->stage = CSV_STAGE_FIRST_ROW;
        /* fall through */
    case CSV_STAGE_FIRST_ROW:
        if (r->header_mode == 0) {
            r->stage = CSV_STAGE_ROWS;
            return 1;
        }
        switch (csv_fill_row(r)) {
        case MW_CSV_ERROR:
            return 0;
        case MW_CSV_EOF:
            r->stage = CSV_STAGE_ROWS;
            return 1;
        case MW_CSV_ROW:
            break;
        }
        if (!csv_export_row(r, &row) || !csv_save_row(r, &row))
            return 0;
        csv_start_row(r);
        if (r->header_mode == 1) {
            r->has_header = 1;
            r->stage = CSV_STAGE_ROWS;
            return 1;
        }
        r->stage = CSV_STAGE_SECOND_ROW;
        /* fall through */
    case CSV_STAGE_SECOND_ROW:
        second = csv_fill_row(r);
        if (second == MW_CSV_ERROR && !r->failed)
            return 0;
        if (second == MW_CSV_ROW && !csv_export_row(r, &row))
            return 0;
        /* A final error in the second row decides as if the input ended
         * before it, so a first row of data is still returned before the
         * error is. */
        if (!csv_row_has_typed_field(&r->saved_row) &&
            (second != MW_CSV_ROW || csv_row_has_typed_field(&row)))
            r->has_header = 1;
        else
            r->saved_is_data = 1;
        r->stage = CSV_STAGE_ROWS;
        return 1;
    case CSV_STAGE_ROWS:
        return 1;
    }
    return 1;
}

static void csv_note_width(mw_csv_reader *r, size_t n_fields)
{
    if (!r->width_known) {
        r->first_width = n_fields;
        r->width_known = 1;
    }
}

mw_csv_result mw_csv_next(mw_csv_reader *r, mw_csv_row *row)
{
    if (!r->failed && !csv_prologue(r))
        return MW_CSV_ERROR;
    if (r->saved_is_data) {
        r->saved_is_data = 0;
        csv_note_width(r, r->saved_row.n_fields);
        *row = r->saved_row;
        return MW_CSV_ROW;
    }
    if (r->failed)
        return MW_CSV_ERROR;
    if (r->saved != NULL && !r->has_header) {
        /* The first row's copy was returned by the previous call. */
        mw_alloc_free(r->alloc, MW_DOMAIN_NATIVE, r->saved, r->saved_size);
        r->saved = NULL;
        r->saved_size = 0;
    }
    if (r->row_handed)
        csv_start_row(r);
    mw_csv_result result = csv_fill_row(r);
    if (result != MW_CSV_ROW)
        return result;
    mw_csv_row out;
    if (!csv_export_row(r, &out))
        return MW_CSV_ERROR;
    r->row_handed = 1;
    csv_note_width(r, out.n_fields);
    *row = out;
    return MW_CSV_ROW;
}

mw_csv_result mw_csv_header(mw_csv_reader *r, mw_csv_row *header)
{
    if (!r->failed && !csv_prologue(r))
        return MW_CSV_ERROR;
    if (!r->has_header)   /* an error only if it came before the answer */
        return r->failed && r->stage != CSV_STAGE_ROWS ? MW_CSV_ERROR : MW_CSV_EOF;
    *header = r->saved_row;
    return MW_CSV_ROW;
}

char mw_csv_delimiter(const mw_csv_reader *r)
{
    return (char)r->delimiter;
}

uint64_t mw_csv_bytes_read(const mw_csv_reader *r)
{
    return r->bytes_read;
}

const mw_csv_error *mw_csv_last_error(const mw_csv_reader *r)
{
    return &r->error;
}

mw_status mw_csv_check_width(mw_csv_reader *r, const mw_csv_row *row, size_t expected)
{
    if (expected == 0) {
        if (r->has_header)
            expected = r->saved_row.n_fields;
        else if (r->width_known)
            expected = r->first_width;
        else
            return MW_OK;
    }
    if (row->n_fields == expected)
        return MW_OK;
    csv_set_error(r, MW_CSV_ERR_WIDTH, MW_EINVAL, row->line, 0,
                  "line %" PRIu64 ": expected %zu fields, found %zu",
                  row->line, expected, row->n_fields);
    return MW_EINVAL;
}

/* Sources */

ptrdiff_t mw_csv_read_memory(void *ud, char *buf, size_t cap)
{
    mw_csv_memory_source *src = ud;
    size_t left = src->len - src->pos;
    size_t n = left < cap ? left : cap;
    if (n > 0)
        memcpy(buf, src->data + src->pos, n);
    src->pos += n;
    return (ptrdiff_t)n;
}

ptrdiff_t mw_csv_read_fd(void *ud, char *buf, size_t cap)
{
    int fd = *(const int *)ud;
    if (cap > SSIZE_MAX)
        cap = SSIZE_MAX;
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n >= 0)
            return (ptrdiff_t)n;
        if (errno != EINTR)
            return -1;
    }
}
