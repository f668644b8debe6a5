/*
 * moonwatch.h: the public C interface of moonwatch.
 *
 * moonwatch is an embeddable scripting runtime for anomaly detection: Lua 5.4
 * with a native object heap (reference counting plus a cycle collector),
 * exact memory accounting, and detectors and iterators written in C.
 *
 * This header is the whole public surface. Everything under src/ is
 * internal and may change without notice.
 *
 * Thread rules: nothing here uses global mutable state. One Lua state (and
 * the heap it owns) belongs to one thread at a time; many may live in one
 * process.
 *
 * Linking: pkg-config --cflags --libs moonwatch. The shared library and
 * the Lua module export exactly the functions declared with MW_API (all
 * named mw_*, and luaopen_moonwatch); everything else is hidden.
 */
#ifndef MOONWATCH_H
#define MOONWATCH_H

#ifdef __cplusplus
extern "C" {
#endif

#define MW_VERSION_MAJOR 0
#define MW_VERSION_MINOR 1
#define MW_VERSION_PATCH 0
#define MW_VERSION "0.1.0"

/* Marks a function of the public interface: built with hidden visibility
 * by default, the library exports only these. */
#if defined(__GNUC__) || defined(__clang__)
#define MW_API __attribute__((visibility("default")))
#else
#define MW_API
#endif

/* Status codes returned by the functions of the library. MW_OK is zero;
 * every failure is a positive code that mw_strerror() turns into text. */
typedef enum mw_status {
    MW_OK = 0,
    MW_ENOMEM,      /* the system allocator failed */
    MW_EBUDGET,     /* the allocation would exceed the memory budget */
    MW_ERANGE,      /* an index or size out of range */
    MW_EKEY,        /* a key that cannot be used (nil, NaN, wrong type) */
    MW_ETYPE,       /* a value of the wrong type */
    MW_EINVAL,      /* an invalid argument */
    MW_ESCRIPT      /* a Lua script raised an error (mw_runtime_error) */
} mw_status;

/* Returns a static, human-readable description of a status code ("memory
 * limit exceeded" for MW_EBUDGET). Never returns NULL. */
MW_API const char *mw_strerror(int status);

/* Returns the library's version string, MW_VERSION of the build. */
MW_API const char *mw_version(void);

struct lua_State;

/* Opens the moonwatch Lua module on L and pushes its table (the `mw`
 * global of the moonwatch command). If L was created with the accounting
 * allocator of moonwatch, Lua's own heap is counted too; otherwise only
 * the native heap is. Also registers the shipped pipelines in
 * package.preload ("moonwatch.pipelines.default", ...) unless the host
 * already has loaders of those names. Raises a Lua error if memory runs
 * out. */
MW_API int luaopen_moonwatch(struct lua_State *L);

#include <stddef.h>
#include <stdio.h>

/* {====================================================================
 * The runtime: a Lua state with the module, for hosts that do not use Lua
 *
 * A runtime is a Lua 5.4 state on moonwatch's accounting allocator, with
 * the standard libraries, the module as the global `mw` (as in the
 * moonwatch command) and print routed to the host. Every script runs
 * protected: an error never unwinds into the host, it becomes a status
 * and a message (mw_runtime_error).
 *
 * Thread rules: a runtime belongs to one thread at a time; different
 * runtimes may run on different threads at once.
 * ===================================================================== */

typedef struct mw_runtime mw_runtime;

/* Receives what scripts print: one call per print(), text being the
 * values converted by tostring, separated by tabs and ending in "\n"
 * (len bytes, not NUL-terminated; borrowed for the call only). */
typedef void (*mw_print_fn)(void *ud, const char *text, size_t len);

/* A host's allocator, called as Lua's lua_Alloc: fn(ud, NULL, 0, n)
 * returns a new block of n bytes (or NULL), fn(ud, p, old, 0) frees p
 * (old bytes) and returns NULL, fn(ud, p, old, n) resizes p (a shrink
 * must not fail). moonwatch counts and limits on top of it. */
typedef void *(*mw_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef struct mw_runtime_config {
    size_t max_memory;     /* bytes for Lua and native objects; 0: no budget */
    unsigned long max_instructions; /* Lua VM instructions per entry (a
                            * load, a call, a push); 0: no limit. Counted
                            * in steps of 1000. */
    double max_seconds;    /* wall time per entry; 0: no limit. Checked
                            * every 1000 instructions: a long call of one
                            * C function (a huge string.rep) ends first. */
    mw_print_fn print;     /* NULL: print writes to stdout, as Lua's does */
    void *print_ud;        /* passed to print */
    mw_alloc_fn alloc;     /* NULL: the C library's malloc/realloc/free */
    void *alloc_ud;        /* passed to alloc */
    int sandbox;           /* non-zero: scripts run sandboxed, each
                            * chunk loaded in an environment of its own
                            * (docs/security.md); a limit left 0 then
                            * gets the sandbox's default */
    const char *const *readable_dirs; /* sandbox: the directories whose
                            * files scripts may read, NULL-terminated
                            * (resolved and copied by mw_runtime_new);
                            * NULL: none */
    unsigned long max_coroutines; /* coroutines made per entry; 0: no
                            * limit */
} mw_runtime_config;

/* The sandbox's defaults for limits left 0 (docs/security.md). */
#define MW_SANDBOX_MAX_MEMORY ((size_t)256 << 20)
#define MW_SANDBOX_MAX_SECONDS 5.0
#define MW_SANDBOX_MAX_COROUTINES 10000UL

/* Memory figures of a runtime, in bytes. */
typedef struct mw_memory {
    size_t lua;            /* Lua's own heap */
    size_t native;         /* the native heap and detectors (with pool pages) */
    size_t total;          /* lua + native */
    size_t peak;           /* the highest total seen */
    size_t budget;         /* the limit, 0 if none */
} mw_memory;

/* Fills cfg with the defaults: no budget, no limits, print to stdout,
 * the C library's allocator, no sandbox. */
MW_API void mw_runtime_config_init(mw_runtime_config *cfg);

/* Creates a runtime with cfg (NULL: the defaults; cfg is copied, not
 * kept). Returns a new runtime the caller owns (free it with
 * mw_runtime_free), or NULL when memory runs out, max_memory is below
 * what the libraries take once opened, max_seconds is negative or NaN,
 * or a readable directory cannot be resolved. */
MW_API mw_runtime *mw_runtime_new(const mw_runtime_config *cfg);

/* Closes the Lua state and frees everything the runtime holds (rt may be
 * NULL). Strings returned by mw_runtime_error, string and series results
 * and series names of anomalies become invalid. */
MW_API void mw_runtime_free(mw_runtime *rt);

/* Compiles and runs code as a chunk named chunkname ("=name" or "@file"
 * as in Lua; NULL: "=(string)"). Returns MW_OK; MW_ESCRIPT for a syntax
 * or runtime error, the instruction and time limits included; MW_EBUDGET
 * or MW_ENOMEM when Lua's own allocation failed (the module's native
 * allocations report as MW_ESCRIPT, "memory limit exceeded ..."),
 * MW_EINVAL for a NULL rt or code. On failure mw_runtime_error has the
 * message. In a sandbox the chunk must be text, and runs in a new
 * environment that replaces the last chunk's as the one calls look in
 * (a chunk that fails leaves none). */
MW_API int mw_runtime_load_string(mw_runtime *rt, const char *code, const char *chunkname);

/* As mw_runtime_load_string for the file at path (a missing or unreadable
 * file is MW_ESCRIPT, "cannot open ..."). */
MW_API int mw_runtime_load_file(mw_runtime *rt, const char *path);

/* Calls the global function fname with nargs numbers (args may be NULL if
 * nargs is 0) and stores its first result, which must be a number, in
 * *result (result may be NULL to drop it). Returns MW_OK; MW_ETYPE if
 * fname is not a function or its result not a number; the statuses of
 * mw_runtime_load_string for an error in the call. *result is untouched
 * on failure. The shorthand of mw_runtime_callv for numbers. */
MW_API int mw_runtime_call(mw_runtime *rt, const char *fname, const double *args,
                           size_t nargs, double *result);

/* The types of values passed to and from mw_runtime_callv. */
typedef enum mw_val_type {
    MW_VNIL = 0,
    MW_VBOOLEAN,           /* number is 0 or 1 */
    MW_VNUMBER,            /* number (integers too) */
    MW_VSTRING,            /* string, len bytes */
    MW_VSERIES             /* values, len doubles (an mw.series in Lua) */
} mw_val_type;

/* A value crossing between C and Lua. Arguments are borrowed for the
 * call; in results, string and values are owned by the runtime and stay
 * valid until its next entry (or its free). A result string has a NUL
 * after its len bytes. */
typedef struct mw_val {
    mw_val_type type;
    double number;
    const char *string;
    const double *values;
    size_t len;
} mw_val;

/* Shorthands for arguments. */
static inline mw_val mw_val_number(double x)
{
    mw_val v = {MW_VNUMBER, x, NULL, NULL, 0};
    return v;
}
static inline mw_val mw_val_string(const char *s, size_t len)
{
    mw_val v = {MW_VSTRING, 0.0, s, NULL, len};
    return v;
}
static inline mw_val mw_val_series(const double *values, size_t n)
{
    mw_val v = {MW_VSERIES, 0.0, NULL, values, n};
    return v;
}

/* Calls the global function fname (in a sandbox: of the environment of
 * the last chunk loaded) with nargs arguments (args may be NULL
 * if nargs is 0; a series argument becomes a new mw.series holding a copy
 * of the values) and stores its first nresults results in results
 * (missing ones are MW_VNIL; results may be NULL if nresults is 0). A
 * series result is an mw.series or a Lua list of numbers, copied into a
 * series. Returns MW_OK; MW_ETYPE if fname is not a function or a result
 * is of another type (a table that is not a list of numbers, a
 * function...); MW_EINVAL for a NULL argument or an argument of no known
 * type; the statuses of mw_runtime_load_string for an error in the call.
 * results are all MW_VNIL on failure. */
MW_API int mw_runtime_callv(mw_runtime *rt, const char *fname, const mw_val *args,
                            size_t nargs, mw_val *results, size_t nresults);

/* The message of the last failed entry of rt, with the Lua traceback
 * ("stack traceback: ...") for a runtime error; "" if the last entry
 * succeeded. Owned by the runtime, valid until its next entry. Lua
 * reports its own memory errors without a traceback. */
MW_API const char *mw_runtime_error(const mw_runtime *rt);

/* Fills *out with rt's memory figures. Returns MW_OK, or MW_EINVAL for a
 * NULL argument. */
MW_API int mw_runtime_memory(const mw_runtime *rt, mw_memory *out);

/* The runtime's Lua state, borrowed, for hosts that want the Lua API
 * itself. Errors raised on it outside a protected call abort. */
MW_API struct lua_State *mw_runtime_lua(mw_runtime *rt);

/* Formats of a memory profile report (docs/lua-api.md, mw.mem.profile). */
typedef enum mw_profile_format {
    MW_PROFILE_TABLE = 0,  /* aligned columns for a person */
    MW_PROFILE_CSV,        /* one row per executed line */
    MW_PROFILE_JSON        /* one object */
} mw_profile_format;

/* Starts the line-by-line memory profiler: from now on every change of
 * rt's memory figures is charged to the Lua line that caused it, across
 * entries, until mw_runtime_profile_stop. Returns MW_OK; MW_EINVAL if a
 * profile is already running (one at a time per runtime, a script's
 * mw.mem.profile included); MW_ENOMEM. */
MW_API int mw_runtime_profile_start(mw_runtime *rt);

/* Stops the profiler and writes its report in format to out (out may be
 * NULL to drop it). Returns MW_OK; MW_EINVAL if no profile is running;
 * MW_ENOMEM if the report could not be written whole (a write error, or
 * the profiler ran out of memory: the report then says so). */
MW_API int mw_runtime_profile_stop(mw_runtime *rt, FILE *out, mw_profile_format format);

/* }==================================================================== */

/* {====================================================================
 * Feeding samples into a pipeline, no Lua needed
 *
 * A runtime keeps one pipeline per series name: the first sample of a
 * name makes its pipeline (the built-in "default" unless
 * mw_runtime_pipeline chose another), and every sample is scored as it
 * comes, in order, before it is learned. Anomalies go to the callback
 * given with mw_runtime_on_anomaly or, without one, to a queue read with
 * mw_runtime_poll.
 * ===================================================================== */

/* One anomaly: the sample and its score. series is owned by the runtime
 * and valid until it is freed. */
typedef struct mw_anomaly {
    const char *series;
    double timestamp;      /* as pushed (epoch milliseconds if the pipeline
                            * reads times, as the command's do) */
    double value;
    double score;
} mw_anomaly;

/* Receives each anomaly (a borrowed for the call). It must not call any
 * function of the runtime that found it. */
typedef void (*mw_anomaly_fn)(void *ud, const mw_anomaly *a);

/* Chooses the pipeline for the series pushed from now on: a built-in
 * name ("default", "gaussian") or the path of a Lua file returning a
 * pipeline definition (docs/lua-api.md, Pipelines), with params as
 * "name=value,..." (NULL or "": its defaults). Series already pushed keep
 * theirs. Returns MW_OK, or MW_ESCRIPT with the reason in
 * mw_runtime_error ("no pipeline 'x' ...", "pipeline 'default' has no
 * parameter 'y' ..."), changing nothing. */
MW_API int mw_runtime_pipeline(mw_runtime *rt, const char *pipeline, const char *params);

/* Sends anomalies to fn (with ud) from now on, as each push finds them;
 * fn NULL queues them for mw_runtime_poll. */
MW_API void mw_runtime_on_anomaly(mw_runtime *rt, mw_anomaly_fn fn, void *ud);

/* Scores one sample of series (a NUL-terminated name) and stores its
 * score in *score (score may be NULL; NaN while the pipeline warms up).
 * Returns MW_OK; MW_EINVAL for a NULL rt or series; the statuses of
 * mw_runtime_call for an error in the pipeline, which leaves the
 * anomalies of earlier pushes where they were. */
MW_API int mw_runtime_push(mw_runtime *rt, const char *series, double timestamp, double value,
                           double *score);

/* Scores n samples of series at once, as n pushes would but faster
 * (timestamps may be NULL: then 0 for each; scores may be NULL, or
 * receives n scores). */
MW_API int mw_runtime_push_array(mw_runtime *rt, const char *series, const double *timestamps,
                                 const double *values, size_t n, double *scores);

/* Moves up to max queued anomalies, oldest first, into out and returns
 * how many. */
MW_API size_t mw_runtime_poll(mw_runtime *rt, mw_anomaly *out, size_t max);

/* }==================================================================== */

/* {====================================================================
 * Detectors without Lua
 *
 * The detectors of mw.detect (and the thresholders of mw.thresh) for C
 * hosts: each mw_det owns its detector and an accounting allocator of its
 * own, needs no runtime and never touches Lua. Scores are the same bits
 * as in Lua for the same parameters and input.
 *
 * Thread rules: one thread at a time per mw_det; different ones may be
 * used on different threads at once.
 * ===================================================================== */

typedef struct mw_det mw_det;

/* Creates a detector of kind ("zscore", "ewma", ...: the names of
 * mw.detect, and "thresh.likelihood" ... for mw.thresh) with params, a comma-separated list of
 * name=value ("window=500,side=up"; NULL or "" for the defaults; booleans
 * as true/false). Returns a new detector the caller owns (free it with
 * mw_det_free), or NULL with the reason in err (errlen bytes, always
 * NUL-terminated; err may be NULL): an unknown kind or parameter, or a
 * value out of range, named as "window must be an integer in [2, ...]". */
MW_API mw_det *mw_det_new(const char *kind, const char *params, char *err, size_t errlen);

/* Learns x and returns its score, computed before learning it. A NaN or
 * infinite x scores NaN and is not learned. */
MW_API double mw_det_update(mw_det *h, double x);

/* The score mw_det_update would return, without learning. */
MW_API double mw_det_score(const mw_det *h, double x);

/* out[i] = mw_det_update(h, x[i]) for i < n, the same numbers. */
MW_API void mw_det_run(mw_det *h, const double *x, size_t n, double *out);

/* The kind's name ("zscore"), static. */
MW_API const char *mw_det_kind(const mw_det *h);

/* Saves h's kind, parameters and learned state: on MW_OK, *data is a new
 * buffer of *len bytes from malloc, which the caller frees with free().
 * MW_ENOMEM, or MW_EINVAL for a NULL argument, with the outputs untouched. */
MW_API int mw_det_save(const mw_det *h, void **data, size_t *len);

/* Loads a detector saved by mw_det_save (or by d:save() in Lua) from len
 * bytes at data (borrowed). Returns a new detector the caller owns, which
 * continues exactly as the saved one would, or NULL with the reason in err
 * ("corrupt or truncated (checksum mismatch)", ...; err as for mw_det_new). */
MW_API mw_det *mw_det_load(const void *data, size_t len, char *err, size_t errlen);

/* Frees h and its detector (h may be NULL). */
MW_API void mw_det_free(mw_det *h);

/* }==================================================================== */

#ifdef __cplusplus
}
#endif

#endif /* MOONWATCH_H */
