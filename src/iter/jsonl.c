/*
 * jsonl.c: JSON Lines of flat objects (see jsonl.h).
 *
 * The buffer holds [start, end) of unread input; a line is found with
 * memchr, parsed in place, and the next call starts after it. When no
 * full line is buffered, the unread tail moves to the front and more is
 * read (the buffer doubles when a line is longer than it).
 */
#include "iter/jsonl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "iter/parse.h"

#define JSONL_MIN_CHUNK 4096

struct mw_jsonl_reader {
    mw_alloc *alloc;
    mw_jsonl_read_fn read_fn;
    void *ud;
    char *buf;
    size_t cap, start, end;
    size_t scanned;          /* [start, scanned) holds no newline */
    size_t chunk;
    int eof;
    int final_error;
    int syntax_error;
    mw_status status;
    uint64_t line;
    uint64_t bytes;
    mw_jsonl_pair *pairs;
    size_t pairs_cap;
    char message[160];
};

mw_jsonl_reader *mw_jsonl_open(mw_jsonl_read_fn read_fn, void *ud, mw_alloc *a,
                               size_t chunk_size)
{
    mw_jsonl_reader *r = mw_alloc_malloc(a, MW_DOMAIN_NATIVE, sizeof *r);
    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof *r);
    r->alloc = a;
    r->read_fn = read_fn;
    r->ud = ud;
    r->chunk = chunk_size >= 1 ? chunk_size : 65536;
    r->cap = r->chunk < JSONL_MIN_CHUNK ? JSONL_MIN_CHUNK : r->chunk;
    r->buf = mw_alloc_malloc(a, MW_DOMAIN_NATIVE, r->cap + 1);
    if (r->buf == NULL) {
        mw_alloc_free(a, MW_DOMAIN_NATIVE, r, sizeof *r);
        return NULL;
    }
    return r;
}

void mw_jsonl_close(mw_jsonl_reader *r)
{
    if (r == NULL)
        return;
    mw_alloc_free(r->alloc, MW_DOMAIN_NATIVE, r->buf, r->cap + 1);
    mw_alloc_free(r->alloc, MW_DOMAIN_NATIVE, r->pairs, r->pairs_cap * sizeof *r->pairs);
    mw_alloc_free(r->alloc, MW_DOMAIN_NATIVE, r, sizeof *r);
}

const char *mw_jsonl_error(const mw_jsonl_reader *r) { return r->message; }
int mw_jsonl_error_is_syntax(const mw_jsonl_reader *r) { return r->syntax_error; }
mw_status mw_jsonl_error_status(const mw_jsonl_reader *r) { return r->status; }
uint64_t mw_jsonl_bytes_read(const mw_jsonl_reader *r) { return r->bytes; }

static mw_jsonl_result jsonl_fail(mw_jsonl_reader *r, int syntax, const char *fmt,
                                  uint64_t column, const char *what)
{
    r->syntax_error = syntax;
    if (!syntax)
        r->final_error = 1;
    if (column > 0)
        snprintf(r->message, sizeof r->message, "line %llu, column %llu: %s%s",
                 (unsigned long long)r->line, (unsigned long long)column, fmt, what ? what : "");
    else
        snprintf(r->message, sizeof r->message, "%s%s", fmt, what ? what : "");
    return MW_JSONL_ERROR;
}

/* Makes sure a whole line (or the end of input) is buffered; returns the
 * line's end (index of '\n' or end), or SIZE_MAX on error. */
static size_t jsonl_fill(mw_jsonl_reader *r)
{
    for (;;) {
        size_t from = r->scanned > r->start ? r->scanned : r->start;
        char *nl = from < r->end ? memchr(r->buf + from, '\n', r->end - from) : NULL;
        if (nl != NULL) {
            r->scanned = 0;
            return (size_t)(nl - r->buf);
        }
        r->scanned = r->end;
        if (r->eof)
            return r->end;
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->scanned -= r->start;
            r->start = 0;
        }
        if (r->cap - r->end < r->chunk / 2 + 1) {
            size_t cap = r->cap * 2;
            char *buf = mw_alloc_realloc(r->alloc, MW_DOMAIN_NATIVE, r->buf, r->cap + 1, cap + 1);
            if (buf == NULL) {
                r->status = r->alloc->last_error;
                return SIZE_MAX;
            }
            r->buf = buf;
            r->cap = cap;
        }
        size_t want = r->cap - r->end < r->chunk ? r->cap - r->end : r->chunk;
        ptrdiff_t got = r->read_fn(r->ud, r->buf + r->end, want);
        if (got < 0) {
            snprintf(r->message, sizeof r->message, "read error: %s", strerror(errno));
            r->final_error = 1;
            return SIZE_MAX;
        }
        if (got == 0)
            r->eof = 1;
        r->end += (size_t)got;
        r->bytes += (uint64_t)got;
    }
}

static void jsonl_skip_ws(const char *s, size_t *i, size_t n)
{
    while (*i < n && (s[*i] == ' ' || s[*i] == '\t' || s[*i] == '\r'))
        (*i)++;
}

static int jsonl_hex(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = s[k];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = v;
    return 1;
}

static size_t jsonl_utf8(unsigned cp, char *out)
{
    if (cp < 0x80) { out[0] = (char)cp; return 1; }
    if (cp < 0x800) { out[0] = (char)(0xC0 | (cp >> 6)); out[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12)); out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18)); out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses the string starting at s[*i] == '"', unescaping in place; sets
 * *out and *len. Returns NULL or an error message. */
static const char *jsonl_string(char *s, size_t *i, size_t n, const char **out, size_t *len)
{
    size_t w = ++*i;
    *out = s + w;
    while (*i < n) {
        char c = s[*i];
        if (c == '"') {
            *len = w - (size_t)(*out - s);
            (*i)++;
            return NULL;
        }
        if ((unsigned char)c < 0x20)
            return "control character in a string";
        if (c != '\\') {
            s[w++] = c;
            (*i)++;
            continue;
        }
        if (*i + 1 >= n)
            return "unterminated string";
        char e = s[*i + 1];
        *i += 2;
        switch (e) {
        case '"': s[w++] = '"'; break;
        case '\\': s[w++] = '\\'; break;
        case '/': s[w++] = '/'; break;
        case 'b': s[w++] = '\b'; break;
        case 'f': s[w++] = '\f'; break;
        case 'n': s[w++] = '\n'; break;
        case 'r': s[w++] = '\r'; break;
        case 't': s[w++] = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (*i + 4 > n || !jsonl_hex(s + *i, &cp))
                return "bad \\u escape";
            *i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (*i + 6 > n || s[*i] != '\\' || s[*i + 1] != 'u' || !jsonl_hex(s + *i + 2, &lo)
                    || lo < 0xDC00 || lo > 0xDFFF)
                    return "unpaired surrogate in a \\u escape";
                *i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return "unpaired surrogate in a \\u escape";
            }
            w += jsonl_utf8(cp, s + w);   /* never longer than the escape */
            break;
        }
        default:
            return "bad escape in a string";
        }
    }
    return "unterminated string";
}

/* Checks JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int jsonl_is_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return 0;
    if (s[i] == '0')
        i++;
    else
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    return i == n;
}

mw_jsonl_result mw_jsonl_next(mw_jsonl_reader *r, mw_jsonl_object *obj)
{
    r->syntax_error = 0;
    if (r->final_error)
        return MW_JSONL_ERROR;
    for (;;) {
        size_t line_end = jsonl_fill(r);
        if (line_end == SIZE_MAX) {
            if (r->status != MW_OK)
                snprintf(r->message, sizeof r->message, "%s", mw_strerror(r->status));
            return MW_JSONL_ERROR;
        }
        if (r->start >= r->end && r->eof)
            return MW_JSONL_EOF;
        char *s = r->buf + r->start;
        size_t n = line_end - r->start;
        r->start = line_end < r->end ? line_end + 1 : line_end;
        r->line++;
        r->status = MW_OK;
        size_t i = 0;
        jsonl_skip_ws(s, &i, n);
        if (i == n)
            continue;   /* an empty line */
        if (s[i] != '{')
            return jsonl_fail(r, 1, "expected '{'", i + 1, NULL);
        i++;
        size_t count = 0;
        jsonl_skip_ws(s, &i, n);
        if (i < n && s[i] == '}') {
            i++;
        } else {
            for (;;) {
                jsonl_skip_ws(s, &i, n);
                if (i >= n || s[i] != '"')
                    return jsonl_fail(r, 1, "expected a key in quotes", i + 1, NULL);
                if (count == r->pairs_cap) {
                    size_t cap = r->pairs_cap < 8 ? 8 : r->pairs_cap * 2;
                    mw_jsonl_pair *p = mw_alloc_realloc(r->alloc, MW_DOMAIN_NATIVE, r->pairs,
                                                        r->pairs_cap * sizeof *p, cap * sizeof *p);
                    if (p == NULL) {
                        r->status = r->alloc->last_error;
                        r->final_error = 1;
                        snprintf(r->message, sizeof r->message, "%s", mw_strerror(r->status));
                        return MW_JSONL_ERROR;
                    }
                    r->pairs = p;
                    r->pairs_cap = cap;
                }
                mw_jsonl_pair *pair = &r->pairs[count];
                memset(pair, 0, sizeof *pair);
                size_t col = i + 1;
                const char *err = jsonl_string(s, &i, n, &pair->key, &pair->key_len);
                if (err != NULL)
                    return jsonl_fail(r, 1, err, col, NULL);
                jsonl_skip_ws(s, &i, n);
                if (i >= n || s[i] != ':')
                    return jsonl_fail(r, 1, "expected ':'", i + 1, NULL);
                i++;
                jsonl_skip_ws(s, &i, n);
                if (i >= n)
                    return jsonl_fail(r, 1, "expected a value", i + 1, NULL);
                col = i + 1;
                char c = s[i];
                if (c == '"') {
                    err = jsonl_string(s, &i, n, &pair->str, &pair->str_len);
                    if (err != NULL)
                        return jsonl_fail(r, 1, err, col, NULL);
                    pair->type = MW_JSONL_STRING;
                } else if (c == '{' || c == '[') {
                    return jsonl_fail(r, 1, "nested objects and arrays are not supported", col, NULL);
                } else {
                    size_t j = i;
                    while (j < n && s[j] != ',' && s[j] != '}' && s[j] != ' ' && s[j] != '\t'
                           && s[j] != '\r')
                        j++;
                    size_t len = j - i;
                    if (len == 4 && memcmp(s + i, "null", 4) == 0) {
                        pair->type = MW_JSONL_NULL;
                    } else if (len == 4 && memcmp(s + i, "true", 4) == 0) {
                        pair->type = MW_JSONL_TRUE;
                    } else if (len == 5 && memcmp(s + i, "false", 5) == 0) {
                        pair->type = MW_JSONL_FALSE;
                    } else if (jsonl_is_number(s + i, len)
                               && mw_parse_number(s + i, len, &pair->number) == MW_PARSE_OK) {
                        pair->type = MW_JSONL_NUMBER;
                    } else {
                        return jsonl_fail(r, 1, "not a JSON value", col, NULL);
                    }
                    i = j;
                }
                count++;
                jsonl_skip_ws(s, &i, n);
                if (i < n && s[i] == ',') {
                    i++;
                    continue;
                }
                if (i < n && s[i] == '}') {
                    i++;
                    break;
                }
                return jsonl_fail(r, 1, "expected ',' or '}'", i + 1, NULL);
            }
        }
        jsonl_skip_ws(s, &i, n);
        if (i != n)
            return jsonl_fail(r, 1, "text after the object", i + 1, NULL);
        obj->pairs = r->pairs;
        obj->n_pairs = count;
        obj->line = r->line;
        return MW_JSONL_OBJECT;
    }
}
