/*
 * det.c: detectors for C hosts, without Lua (mw_det_* of moonwatch.h).
 *
 * An mw_det is a heap block holding an mw_alloc and the detector made on
 * it: the detector keeps a pointer to the allocator, so the block never
 * moves and the allocator is freed last. Everything else (parameter
 * checks, NaN skipping, the saved-state container) is detect.c's; this
 * file only parses the "name=value,..." text and copies messages out.
 *
 * It must never include a Lua header: the detect layer stands without Lua.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "moonwatch.h"

struct mw_det {
    mw_alloc alloc;          /* the detector's, and only its */
    mw_detector *detector;   /* owned */
};

/* Longest "name=value" item of a parameter list, in bytes. */
#define DET_ITEM_MAX 128

/* Copies msg into the caller's err (errlen bytes, may be NULL / 0). */
static void det_error(char *err, size_t errlen, const char *msg)
{
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/* Trims the blanks around [*start, *end). */
static void det_trim(const char **start, const char **end)
{
    while (*start < *end && (**start == ' ' || **start == '\t'))
        (*start)++;
    while (*end > *start && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
        (*end)--;
}

/* Sets one "name=value" item (len bytes at item) into values. Returns
 * MW_OK or MW_EINVAL with the message in msg (MW_DETECT_ERRLEN). */
static mw_status det_param_item(const mw_detector_type *type, double *values,
                                const char *item, size_t len, char *msg)
{
    char name[DET_ITEM_MAX], text[DET_ITEM_MAX];
    const char *eq = memchr(item, '=', len);
    if (eq == NULL) {
        snprintf(msg, MW_DETECT_ERRLEN, "parameter '%.*s' has no value (expected name=value)",
                 (int)(len < 64 ? len : 64), item);
        return MW_EINVAL;
    }
    const char *name_start = item, *name_end = eq;
    const char *value_start = eq + 1, *value_end = item + len;
    det_trim(&name_start, &name_end);
    det_trim(&value_start, &value_end);
    size_t name_len = (size_t)(name_end - name_start);
    size_t value_len = (size_t)(value_end - value_start);
    if (name_len >= sizeof name || value_len >= sizeof text) {
        snprintf(msg, MW_DETECT_ERRLEN, "parameter '%.32s...' is too long", name_start);
        return MW_EINVAL;
    }
    memcpy(name, name_start, name_len);
    name[name_len] = '\0';
    memcpy(text, value_start, value_len);
    text[value_len] = '\0';

    int i = mw_detect_param_index(type, name);
    if (i < 0) {
        snprintf(msg, MW_DETECT_ERRLEN, "unknown parameter '%s'; ", name);
        mw_detect_param_list(type, msg);
        return MW_EINVAL;
    }
    const mw_param_spec *p = &type->params[i];
    if (p->kind == MW_PARAM_CHOICE)
        return mw_detect_param_set(type, values, i, 0.0, text, msg);
    if (p->kind == MW_PARAM_BOOL) {
        if (strcmp(text, "true") == 0 || strcmp(text, "false") == 0)
            return mw_detect_param_set(type, values, i, text[0] == 't', NULL, msg);
        return mw_detect_param_set(type, values, i, 0.0, text, msg);
    }
    char *rest;
    double number = strtod(text, &rest);
    if (text[0] == '\0' || *rest != '\0')
        return mw_detect_param_set(type, values, i, 0.0, text, msg);
    return mw_detect_param_set(type, values, i, number, NULL, msg);
}

/* Parses params ("a=1,b=up", NULL or "" for none) into values. */
static mw_status det_parse_params(const mw_detector_type *type, double *values,
                                  const char *params, char *msg)
{
    if (params == NULL)
        return MW_OK;
    const char *item = params;
    for (;;) {
        const char *comma = strchr(item, ',');
        size_t len = comma != NULL ? (size_t)(comma - item) : strlen(item);
        const char *start = item, *end = item + len;
        det_trim(&start, &end);
        if (end > start) {
            mw_status status = det_param_item(type, values, start, (size_t)(end - start), msg);
            if (status != MW_OK)
                return status;
        }
        if (comma == NULL)
            return MW_OK;
        item = comma + 1;
    }
}

mw_det *mw_det_new(const char *kind, const char *params, char *err, size_t errlen)
{
    char msg[MW_DETECT_ERRLEN];
    double values[MW_DETECT_MAX_PARAMS];
    if (kind == NULL) {
        det_error(err, errlen, "kind is NULL");
        return NULL;
    }
    const mw_detector_type *type = mw_detect_find(kind);
    if (type == NULL || type->children != NULL) {
        /* a chain is made of detectors, not of parameters */
        snprintf(msg, sizeof msg, "unknown detector '%.64s'", kind);
        det_error(err, errlen, msg);
        return NULL;
    }
    mw_detect_param_defaults(type, values);
    if (det_parse_params(type, values, params, msg) != MW_OK) {
        det_error(err, errlen, msg);
        return NULL;
    }
    mw_det *h = malloc(sizeof *h);
    if (h == NULL) {
        det_error(err, errlen, mw_strerror(MW_ENOMEM));
        return NULL;
    }
    mw_alloc_init(&h->alloc);
    mw_status status = MW_OK;
    msg[0] = '\0';
    h->detector = mw_detector_new(&h->alloc, type, values, &status, msg);
    if (h->detector == NULL) {
        det_error(err, errlen, msg[0] != '\0' ? msg : mw_strerror(status));
        free(h);
        return NULL;
    }
    return h;
}

double mw_det_update(mw_det *h, double x)
{
    return mw_detector_update(h->detector, x, NAN);
}

double mw_det_score(const mw_det *h, double x)
{
    return mw_detector_score(h->detector, x, NAN);
}

void mw_det_run(mw_det *h, const double *x, size_t n, double *out)
{
    mw_detector_run(h->detector, x, NULL, n, out);
}

const char *mw_det_kind(const mw_det *h)
{
    return h->detector->type->name;
}

int mw_det_save(const mw_det *h, void **data, size_t *len)
{
    if (h == NULL || data == NULL || len == NULL)
        return MW_EINVAL;
    mw_blob_writer w;
    /* the detector is const here but its allocator counts the buffer */
    mw_blob_writer_init(&w, h->detector->alloc);
    mw_detector_save(h->detector, &w);
    if (w.status != MW_OK) {
        mw_status status = w.status;
        mw_blob_writer_free(&w);
        return status;
    }
    void *copy = malloc(w.len > 0 ? w.len : 1);
    if (copy == NULL) {
        mw_blob_writer_free(&w);
        return MW_ENOMEM;
    }
    memcpy(copy, w.data, w.len);
    *data = copy;
    *len = w.len;
    mw_blob_writer_free(&w);
    return MW_OK;
}

mw_det *mw_det_load(const void *data, size_t len, char *err, size_t errlen)
{
    char msg[MW_DETECT_ERRLEN];
    if (data == NULL && len > 0) {
        det_error(err, errlen, "data is NULL");
        return NULL;
    }
    mw_det *h = malloc(sizeof *h);
    if (h == NULL) {
        det_error(err, errlen, mw_strerror(MW_ENOMEM));
        return NULL;
    }
    mw_alloc_init(&h->alloc);
    mw_status status = MW_OK;
    msg[0] = '\0';
    h->detector = mw_detector_load(&h->alloc, data != NULL ? data : "", len, &status, msg);
    if (h->detector == NULL) {
        det_error(err, errlen, msg[0] != '\0' ? msg : mw_strerror(status));
        free(h);
        return NULL;
    }
    return h;
}

void mw_det_free(mw_det *h)
{
    if (h == NULL)
        return;
    mw_detector_free(h->detector);
    free(h);
}
