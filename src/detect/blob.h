/*
 * blob.h: the byte strings that detector state is saved to and read from.
 *
 * A writer appends fixed-width little-endian fields to a growable buffer;
 * a reader takes them back, checking every read against the end. The
 * layout is the same on every platform (doubles as their IEEE-754 bits),
 * so state saved on one machine loads on another.
 *
 * Errors are sticky: after the first failure (out of memory while
 * writing, a read past the end or a bad value while reading) every call
 * does nothing and returns zeros, so callers check once at the end.
 */
#ifndef MW_BLOB_H
#define MW_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"

#define MW_BLOB_ERRLEN 160

typedef struct mw_blob_writer {
    mw_alloc *alloc;
    unsigned char *data;     /* owned, charged to NATIVE */
    size_t len, cap;
    mw_status status;        /* MW_OK, or why a write failed */
} mw_blob_writer;

typedef struct mw_blob_reader {
    const unsigned char *data; /* borrowed */
    size_t len, pos;
    int failed;
    mw_status status;        /* when failed: MW_EINVAL (bad data) or a
                              * memory error met while loading */
    char err[MW_BLOB_ERRLEN]; /* why, when failed */
} mw_blob_reader;

void mw_blob_writer_init(mw_blob_writer *w, mw_alloc *alloc);
/* Frees the buffer; the writer can be initialised again. */
void mw_blob_writer_free(mw_blob_writer *w);

void mw_blob_put_bytes(mw_blob_writer *w, const void *p, size_t n);
void mw_blob_put_u8(mw_blob_writer *w, uint8_t v);
void mw_blob_put_u32(mw_blob_writer *w, uint32_t v);
void mw_blob_put_u64(mw_blob_writer *w, uint64_t v);
void mw_blob_put_f64(mw_blob_writer *w, double v);
void mw_blob_put_f64s(mw_blob_writer *w, const double *v, size_t n);
/* Overwrites the u32 at offset at (written earlier) with v. */
void mw_blob_patch_u32(mw_blob_writer *w, size_t at, uint32_t v);

void mw_blob_reader_init(mw_blob_reader *r, const void *data, size_t len);
/* Marks r failed with a printf-style reason (the first reason stays). */
void mw_blob_fail(mw_blob_reader *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Marks r failed for want of memory (status MW_ENOMEM or MW_EBUDGET). */
void mw_blob_fail_memory(mw_blob_reader *r, mw_status status);
/* A pointer to the next n bytes, or NULL (failed: "truncated"). */
const void *mw_blob_get_bytes(mw_blob_reader *r, size_t n);
uint8_t mw_blob_get_u8(mw_blob_reader *r);
uint32_t mw_blob_get_u32(mw_blob_reader *r);
uint64_t mw_blob_get_u64(mw_blob_reader *r);
double mw_blob_get_f64(mw_blob_reader *r);
void mw_blob_get_f64s(mw_blob_reader *r, double *out, size_t n);
/* A u64 that must be at most max (a count or an index): fails with
 * "<what> out of range" otherwise. */
uint64_t mw_blob_get_count(mw_blob_reader *r, uint64_t max, const char *what);
/* A f64 that must be finite (fails naming what otherwise). For values
 * whose range matters to memory safety or to the kind's invariants; a
 * running figure that overflowed on extreme input loads as it was. */
double mw_blob_get_finite(mw_blob_reader *r, const char *what);

/* A 64-bit checksum of n bytes (not cryptographic: it catches truncation
 * and corruption, not tampering). */
uint64_t mw_blob_checksum(const void *data, size_t n);

#endif /* MW_BLOB_H */
