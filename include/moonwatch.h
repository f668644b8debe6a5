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
    MW_EINVAL       /* an invalid argument */
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

#ifdef __cplusplus
}
#endif

#endif /* MOONWATCH_H */
