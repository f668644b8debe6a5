/*
 * l_detect.h: the Lua binding of detectors and thresholders (mw.detect,
 * mw.thresh).
 */
#ifndef MW_L_DETECT_H
#define MW_L_DETECT_H

#include <stddef.h>

#include "lua/state.h"

struct mw_detector;

/* Registers the detector class and pushes the mw.detect table. */
void mw_lua_open_detect(lua_State *L, mw_lua_state *st);
/* Pushes the mw.thresh table (after mw_lua_open_detect). */
void mw_lua_open_thresh(lua_State *L, mw_lua_state *st);
/* Whether the value at idx is a detector (released or not). */
int mw_lua_is_detector(lua_State *L, int idx);
/* Whether the detector at idx is still usable (not released). */
int mw_lua_is_live_detector(lua_State *L, int idx);
/* Releases the detector at idx (a no-op if already released). */
void mw_lua_release_detector(lua_State *L, int idx);
/* The detector at idx; raises a type error, or "attempt to use a released
 * detector". */
struct mw_detector *mw_lua_check_detector(lua_State *L, int idx);

/* ---- saved states ---------------------------------------------------- */

struct mw_blob_writer;
/* Pushes a userdata holding a blob writer on st's allocator, whose __gc
 * frees it: a Lua error while a state is written leaks nothing. */
struct mw_blob_writer *mw_lua_push_blob_writer(lua_State *L, mw_lua_state *st);
/* Pushes what w holds as a string and frees it (the userdata stays
 * inert), or raises w's memory error. Returns 1. */
int mw_lua_push_blob_result(lua_State *L, struct mw_blob_writer *w);

/* ---- rows: the input of d:run, d:fit, d:test and mw.scale's run ---- */

/* Reads the row at idx, a table of numbers or a series of 1 to
 * MW_DETECT_MAX_DIMS values, and returns its width; *out points at its
 * values: the series' own (copy 0) or a copy in buf (cap values) or, for
 * a longer row, in a userdata pushed on the stack. Raises naming what is
 * wrong: `expected` for another type, an element that is not a number,
 * a width out of range. */
size_t mw_lua_read_row(lua_State *L, int idx, double *buf, size_t cap, int copy,
                       const char *expected, double **out);

typedef enum mw_lua_rows_kind { ROWS_COLUMNS, ROWS_TABLE } mw_lua_rows_kind;

/* A frame (its columns but "timestamp", or those named by a list at
 * cols_idx), a list of series (columns of equal length) or a list of
 * rows (tables of numbers). The column pointers live in a userdata
 * (cols) and are fetched again after every Lua allocation. */
typedef struct mw_lua_rows {
    mw_lua_rows_kind kind;
    size_t n, dims;
    const double **cols;     /* ROWS_COLUMNS: dims pointers */
    size_t cols_cap;         /* slots in cols (the width first read) */
    const double *tcol;      /* a frame's timestamp column, or NULL */
    int idx, cols_idx;       /* the input and the column list (0: none) */
} mw_lua_rows;

/* Checks the input at arg (a column list at arg + 1 for a frame) and
 * pushes two userdata: its column pointers and room for buffer_rows rows
 * of values (returned). Call mw_lua_rows_refresh after the caller's
 * last Lua allocation, before mw_lua_rows_fill. Raises on bad input. */
double *mw_lua_rows_prepare(lua_State *L, mw_lua_rows *in, int arg, size_t buffer_rows);
/* Fetches the column pointers again; raises if the input changed shape. */
void mw_lua_rows_refresh(lua_State *L, mw_lua_rows *in);
/* Writes rows start..start+m of the input into buf, row-major. */
void mw_lua_rows_fill(lua_State *L, const mw_lua_rows *in, size_t start, size_t m, double *buf);

#endif /* MW_L_DETECT_H */
