/*
 * status.c: the library's status codes as text, and its version.
 *
 * Static strings only: nothing here allocates or keeps state.
 */
#include "moonwatch.h"

const char *mw_strerror(int status)
{
    switch (status) {
    case MW_OK:      return "no error";
    case MW_ENOMEM:  return "not enough memory";
    case MW_EBUDGET: return "memory limit exceeded";
    case MW_ERANGE:  return "index out of range";
    case MW_EKEY:    return "invalid key";
    case MW_ETYPE:   return "wrong type";
    case MW_EINVAL:  return "invalid argument";
    case MW_ESCRIPT: return "script error";
    default:         return "unknown error";
    }
}

const char *mw_version(void)
{
    return MW_VERSION;
}
