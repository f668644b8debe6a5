/*
 * fuzz_jsonl.c: the JSON Lines reader (src/iter/jsonl.c) on any bytes.
 *
 * Byte 0 chooses how the input arrives and what fails: bits 0-2 the
 * most bytes one read returns (1 2 3 7 64 4096 65536, or all: a pipe
 * delivers what it has), bits 3-7 the k-th allocation of the second pass
 * failing (0: none). The rest is the input.
 *
 * What must hold:
 *   - read all at once and read in small pieces, the objects (keys,
 *     types, values, lines) and the errors are the same: the reader's
 *     buffering never shows;
 *   - a syntax error spoils its own line only (the reader goes on); a
 *     memory error is final, and the objects before it are exactly the
 *     first ones of the clean pass;
 *   - strings and keys lie inside what the reader holds, and closing it
 *     gives every byte back.
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "fuzz.h"
#include "iter/jsonl.h"

static const size_t trickles[8] = {1, 2, 3, 7, 64, 4096, 65536, SIZE_MAX};

typedef struct trickle_source {
    const uint8_t *data;
    size_t len, pos, most;
} trickle_source;

static ptrdiff_t read_trickle(void *ud, char *buf, size_t cap)
{
    trickle_source *s = ud;
    size_t n = s->len - s->pos;
    if (n > cap)
        n = cap;
    if (n > s->most)
        n = s->most;
    memcpy(buf, s->data + s->pos, n);
    s->pos += n;
    return (ptrdiff_t)n;
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211u;
    }
    return h;
}

/* The hash of one object, or of one error. */
static uint64_t hash_object(const mw_jsonl_object *o)
{
    uint64_t h = hash_bytes(14695981039346656037u, &o->line, sizeof o->line);
    h = hash_bytes(h, &o->n_pairs, sizeof o->n_pairs);
    for (size_t i = 0; i < o->n_pairs; i++) {
        const mw_jsonl_pair *p = &o->pairs[i];
        h = hash_bytes(h, p->key, p->key_len);
        h = hash_bytes(h, &p->key_len, sizeof p->key_len);
        h = hash_bytes(h, &p->type, sizeof p->type);
        if (p->type == MW_JSONL_NUMBER) {
            FUZZ_CHECK(!isnan(p->number));
            h = hash_bytes(h, &p->number, sizeof p->number);
        } else if (p->type == MW_JSONL_STRING) {
            h = hash_bytes(h, p->str, p->str_len);
            h = hash_bytes(h, &p->str_len, sizeof p->str_len);
        }
    }
    return h;
}

#define MAX_ITEMS 4096

typedef struct pass {
    uint64_t items[MAX_ITEMS];   /* objects and syntax errors, in order */
    size_t n;
    int memory_error;            /* ended on a memory error */
} pass;

static void run_pass(const uint8_t *data, size_t size, size_t most, uint64_t fail_at,
                     pass *out)
{
    mw_alloc a;
    mw_alloc_init(&a);
    mw_alloc_set_budget(&a, FUZZ_BUDGET);
    out->n = 0;
    out->memory_error = 0;
    trickle_source src = {data, size, 0, most};
    if (fail_at != 0)
        mw_alloc_fail_nth(&a, fail_at, 0);
    mw_jsonl_reader *r = mw_jsonl_open(read_trickle, &src, &a, 0);
    if (r == NULL) {
        FUZZ_CHECK(fail_at != 0);
        out->memory_error = 1;
        FUZZ_CHECK(a.current == 0);
        return;
    }
    mw_jsonl_object o;
    mw_jsonl_result res;
    while ((res = mw_jsonl_next(r, &o)) != MW_JSONL_EOF) {
        uint64_t h;
        if (res == MW_JSONL_ERROR) {
            const char *msg = mw_jsonl_error(r);
            FUZZ_CHECK(msg != NULL && msg[0] != '\0');
            if (!mw_jsonl_error_is_syntax(r)) {
                FUZZ_CHECK(mw_jsonl_error_status(r) == MW_ENOMEM ||
                           mw_jsonl_error_status(r) == MW_EBUDGET);
                out->memory_error = 1;
                /* final */
                FUZZ_CHECK(mw_jsonl_next(r, &o) == MW_JSONL_ERROR);
                break;
            }
            h = hash_bytes(7, msg, strlen(msg));
        } else {
            h = hash_object(&o);
        }
        if (out->n < MAX_ITEMS)
            out->items[out->n++] = h;
    }
    mw_jsonl_close(r);
    FUZZ_CHECK(a.current == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    data++;
    size--;
    pass want, got;   /* 64 KiB together */
    run_pass(data, size, SIZE_MAX, 0, &want);
    /* no failure: a budget refusal is possible only for a line of tens of
     * megabytes, which a fuzzer's inputs are not */
    FUZZ_CHECK(!want.memory_error);
    uint64_t fail_at = opt >> 3;
    run_pass(data, size, trickles[opt & 7], fail_at, &got);
    if (got.memory_error) {
        FUZZ_CHECK(fail_at != 0);
        FUZZ_CHECK(got.n <= want.n);
    } else {
        FUZZ_CHECK(got.n == want.n);
    }
    for (size_t i = 0; i < got.n; i++)
        FUZZ_CHECK(got.items[i] == want.items[i]);
    return 0;
}
