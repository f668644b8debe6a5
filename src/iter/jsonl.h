/*
 * jsonl.h: a streaming reader of JSON Lines holding flat objects:
 * one object per line, each value a number, a string, true, false or
 * null ({"ts": "2024-01-01T00:00:00Z", "cpu": 0.93, "host": "db-1"}).
 *
 * Input comes through a read callback, a chunk at a time (as csv.h), so
 * memory is bounded by the longest line. A line is parsed in place: keys
 * and string values are unescaped inside the reader's buffer (escapes
 * only ever shrink text; \uXXXX, surrogate pairs included, become UTF-8)
 * and stay valid until the next call. Empty lines are skipped. Nested
 * objects and arrays are errors, as is anything after the closing brace.
 *
 * Every byte the reader holds comes from its mw_alloc.
 */
#ifndef MW_JSONL_H
#define MW_JSONL_H

#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"

typedef ptrdiff_t (*mw_jsonl_read_fn)(void *ud, char *buf, size_t cap);

typedef enum mw_jsonl_type {
    MW_JSONL_NULL = 0,
    MW_JSONL_NUMBER,
    MW_JSONL_STRING,
    MW_JSONL_TRUE,
    MW_JSONL_FALSE
} mw_jsonl_type;

typedef struct mw_jsonl_pair {
    const char *key;
    size_t key_len;
    mw_jsonl_type type;
    double number;           /* MW_JSONL_NUMBER */
    const char *str;         /* MW_JSONL_STRING */
    size_t str_len;
} mw_jsonl_pair;

typedef struct mw_jsonl_object {
    const mw_jsonl_pair *pairs;  /* borrowed from the reader */
    size_t n_pairs;
    uint64_t line;               /* 1-based */
} mw_jsonl_object;

typedef enum mw_jsonl_result {
    MW_JSONL_OBJECT = 0,
    MW_JSONL_EOF,
    MW_JSONL_ERROR
} mw_jsonl_result;

typedef struct mw_jsonl_reader mw_jsonl_reader;

/* A new reader (NULL with a->last_error set when memory runs out). */
mw_jsonl_reader *mw_jsonl_open(mw_jsonl_read_fn read_fn, void *ud, mw_alloc *a,
                               size_t chunk_size);

/* Reads the next object. On MW_JSONL_ERROR, mw_jsonl_error() says what
 * ("line 3, column 9: expected ':'"); a syntax error only spoils its own
 * line, so reading on gives the next one (on_error = "skip"); a read or
 * memory error is final. */
mw_jsonl_result mw_jsonl_next(mw_jsonl_reader *r, mw_jsonl_object *obj);

const char *mw_jsonl_error(const mw_jsonl_reader *r);

/* Non-zero if the last error was a syntax error (the reader can go on). */
int mw_jsonl_error_is_syntax(const mw_jsonl_reader *r);

/* Memory status of the last error (MW_ENOMEM or MW_EBUDGET), else MW_OK. */
mw_status mw_jsonl_error_status(const mw_jsonl_reader *r);

uint64_t mw_jsonl_bytes_read(const mw_jsonl_reader *r);

void mw_jsonl_close(mw_jsonl_reader *r);

#endif /* MW_JSONL_H */
