/*
 * csv.h: a streaming RFC 4180 CSV reader.
 *
 * The reader pulls input through a read callback, one chunk at a time, so
 * it works the same on a file, a pipe (stdin, `tail -f`) or a test buffer,
 * and its memory is bounded by the longest row, never the input size. It
 * asks for more input only when the row being parsed is incomplete, so a
 * source delivering one line per read gets each row back as soon as its
 * line has arrived.
 *
 * Rows come back as (pointer, length) fields that point into the reader's
 * buffer: quoted fields are unescaped in place (enclosing quotes dropped,
 * doubled quotes made single), and every field is also NUL-terminated.
 * They stay valid until the next call on the reader. No allocation is
 * made per row or per field; the buffer and the field table grow
 * geometrically and are kept.
 *
 * What is accepted (RFC 4180, and where it is silent or strict, lenient):
 *  - Lines end with LF or CRLF; the final line may lack one. A lone CR is
 *    data, not a line end. Inside quotes, line ends are kept verbatim.
 *  - A UTF-8 byte order mark at the very start is skipped.
 *  - A field is quoted only if the quote is its first byte. A quote later
 *    in an unquoted field is a literal character (a"b is the 3 bytes
 *    a"b). Text after a closing quote, up to the next delimiter or line
 *    end, is appended literally ("ab"c reads as abc), as Python's csv
 *    module does; RFC 4180 calls both malformed.
 *  - An empty line (nothing, or only CR, before the LF) is skipped when
 *    skip_empty_lines is set, else it is a row of one empty field. A line
 *    of blanks is not empty. A quoted empty field ("") is never skipped,
 *    so a single-column file keeps its missing values by quoting them.
 *  - Input ending inside a quoted field is an error naming the line and
 *    column (1-based, in bytes, BOM excluded) of the opening quote.
 *
 * Errors: mw_csv_next returns MW_CSV_ERROR and mw_csv_last_error() describes
 * it. A memory error (allocation refused or over budget) leaves the reader
 * as it was: calling again once memory is available resumes without
 * losing or repeating a row. A syntax or read error is final: every later
 * call returns MW_CSV_ERROR again.
 *
 * Every byte the reader holds is allocated from its mw_alloc (domain
 * NATIVE) and given back by mw_csv_close. The reader never reads more than
 * chunk_size bytes per callback and never holds the whole input.
 */
#ifndef MW_CSV_H
#define MW_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"

/* Reads up to cap bytes into buf. Returns the number read (a short read
 * is fine, and is all a pipe may have), 0 at end of input, or -1 on error
 * with errno set. */
typedef ptrdiff_t (*mw_csv_read_fn)(void *ud, char *buf, size_t cap);

#define MW_CSV_DEFAULT_CHUNK ((size_t)64 * 1024)

typedef struct mw_csv_options {
    /* Field separator; 0 detects it from the first non-empty line: the one
     * of ',' ';' '\t' '|' found most often outside quotes there, ties
     * going to the earlier in that list, ',' if none is found. */
    char delimiter;
    char quote;              /* quote character; 0 means '"' */
    /* 1: the first row is a header; 0: it is data; -1: detect. Detection
     * reads the first two rows: the first is a header if none of its
     * fields is a number or a timestamp (mw_parse_infer) and the second
     * row either has one that is, or does not exist (a lone row of names
     * is a header of an empty table). A final error while reading the
     * second row decides as if the input ended before it. */
    int header;
    size_t chunk_size;       /* bytes asked of the callback per read; 0: default */
    int skip_empty_lines;    /* non-zero: skip empty lines (see above) */
} mw_csv_options;

/* Fills opts with the defaults: detect the delimiter, '"' quotes, detect
 * the header, MW_CSV_DEFAULT_CHUNK, skip empty lines. */
void mw_csv_options_init(mw_csv_options *opts);

typedef struct mw_csv_field {
    const char *data;        /* NUL-terminated; may hold NULs of its own */
    size_t len;
} mw_csv_field;

typedef struct mw_csv_row {
    const mw_csv_field *fields;  /* borrowed from the reader */
    size_t n_fields;             /* at least 1 */
    uint64_t line;               /* physical line (1-based) the row starts on */
} mw_csv_row;

/* What mw_csv_next and mw_csv_header return. */
typedef enum mw_csv_result {
    MW_CSV_ROW = 0,          /* *row is filled */
    MW_CSV_EOF,              /* no more rows (or, for mw_csv_header, no header) */
    MW_CSV_ERROR             /* see mw_csv_last_error; *row untouched */
} mw_csv_result;

typedef enum mw_csv_error_kind {
    MW_CSV_ERR_NONE = 0,
    MW_CSV_ERR_SYNTAX,       /* malformed input (unterminated quote); final */
    MW_CSV_ERR_READ,         /* the callback failed or misbehaved; final */
    MW_CSV_ERR_MEMORY,       /* allocation refused; the reader can resume */
    MW_CSV_ERR_WIDTH         /* set by mw_csv_check_width only */
} mw_csv_error_kind;

#define MW_CSV_MESSAGE_SIZE 160

typedef struct mw_csv_error {
    mw_csv_error_kind kind;
    mw_status status;        /* MW_ENOMEM or MW_EBUDGET for memory, else MW_EINVAL */
    int sys_errno;           /* errno the callback left, for MW_CSV_ERR_READ */
    uint64_t line;           /* 1-based line the error is on, 0 if none */
    uint64_t column;         /* 1-based byte column, 0 if none */
    char message[MW_CSV_MESSAGE_SIZE];  /* "line 3, column 7: ..." */
} mw_csv_error;

typedef struct mw_csv_reader mw_csv_reader;

/* Returns a new reader, owned by the caller (free it with mw_csv_close),
 * reading through read_fn(ud, ...); opts may be NULL for the defaults.
 * Reads nothing yet. Returns NULL with a->last_error set when memory runs
 * out, or set to MW_EINVAL when the options are invalid (the delimiter or
 * quote a line end, the two equal, header outside -1..1). */
mw_csv_reader *mw_csv_open(const mw_csv_options *opts, mw_csv_read_fn read_fn,
                           void *ud, mw_alloc *a);

/* Reads the next data row into *row (the header, if any, is never
 * returned here). The fields are borrowed: valid until the next call on r. */
mw_csv_result mw_csv_next(mw_csv_reader *r, mw_csv_row *row);

/* Fills *header with the header row, reading the input as far as it takes
 * to decide (up to two rows), and returns MW_CSV_ROW; returns MW_CSV_EOF
 * if the input has no header. The header is owned by the reader and stays
 * valid until mw_csv_close. Data rows read to decide are not lost. */
mw_csv_result mw_csv_header(mw_csv_reader *r, mw_csv_row *header);

/* Bytes read from the input and not yet returned as rows (non-zero too
 * when a row is ready): 0 means the next mw_csv_next will read. A caller
 * reading a pipe uses it to deliver what it has instead of blocking. */
size_t mw_csv_buffered(const mw_csv_reader *r);

/* The delimiter in use: the option, or the one detected; 0 until the
 * first call to mw_csv_next or mw_csv_header has detected it. */
char mw_csv_delimiter(const mw_csv_reader *r);

/* Input bytes read so far (for progress reports). */
uint64_t mw_csv_bytes_read(const mw_csv_reader *r);

/* The last error: the reason for the latest MW_CSV_ERROR, or of a failed
 * mw_csv_check_width. Borrowed from the reader. */
const mw_csv_error *mw_csv_last_error(const mw_csv_reader *r);

/* Checks that row has `expected` fields; expected 0 means the header's
 * field count, or without a header the first data row's. Returns MW_OK,
 * or MW_EINVAL after recording an MW_CSV_ERR_WIDTH error ("line 9:
 * expected 2 fields, found 3"). The reader itself goes on working. */
mw_status mw_csv_check_width(mw_csv_reader *r, const mw_csv_row *row, size_t expected);

/* Frees the reader and every byte it allocated; r may be NULL. Does not
 * close the source. */
void mw_csv_close(mw_csv_reader *r);

/* A source reading from memory: ud is an mw_csv_memory_source. */
typedef struct mw_csv_memory_source {
    const char *data;
    size_t len;
    size_t pos;              /* bytes handed out so far; start at 0 */
} mw_csv_memory_source;

ptrdiff_t mw_csv_read_memory(void *ud, char *buf, size_t cap);

/* A source reading a file descriptor with read(2): ud points to an int.
 * Retries on EINTR; returns what one read(2) gives, so a pipe's lines
 * come through as they are written. */
ptrdiff_t mw_csv_read_fd(void *ud, char *buf, size_t cap);

#endif /* MW_CSV_H */
