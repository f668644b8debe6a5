/*
 * value.h: tagged values, what containers store.
 *
 * A value is nil, a boolean, an integer, a float, a string or an object.
 * Strings and objects hold a reference to a heap object (strings are str
 * objects, src/types/str.h); copying a value does not add a reference,
 * mw_value_incref does. A value never holds a Lua value.
 */
#ifndef MW_VALUE_H
#define MW_VALUE_H

#include <stdint.h>

#include "core/object.h"

typedef enum mw_tag {
    MW_TNIL = 0,
    MW_TBOOL,
    MW_TINT,
    MW_TFLOAT,
    MW_TSTRING,   /* u.o is a str object */
    MW_TOBJECT    /* u.o is any other object */
} mw_tag;

typedef struct mw_value {
    mw_tag tag;
    union {
        int b;
        int64_t i;
        double f;
        mw_object *o;
    } u;
} mw_value;

static inline mw_value mw_nil(void)
{
    mw_value v;
    v.tag = MW_TNIL;
    v.u.i = 0;
    return v;
}

static inline mw_value mw_bool(int b)
{
    mw_value v;
    v.tag = MW_TBOOL;
    v.u.i = 0;
    v.u.b = b != 0;
    return v;
}

static inline mw_value mw_int(int64_t i)
{
    mw_value v;
    v.tag = MW_TINT;
    v.u.i = i;
    return v;
}

static inline mw_value mw_float(double f)
{
    mw_value v;
    v.tag = MW_TFLOAT;
    v.u.f = f;
    return v;
}

/* Wraps o (a str object for MW_TSTRING) without adding a reference. */
static inline mw_value mw_objval(mw_tag tag, mw_object *o)
{
    mw_value v;
    v.tag = tag;
    v.u.i = 0;
    v.u.o = o;
    return v;
}

static inline int mw_value_has_ref(mw_value v)
{
    return v.tag == MW_TSTRING || v.tag == MW_TOBJECT;
}

static inline void mw_value_incref(mw_value v)
{
    if (mw_value_has_ref(v))
        mw_incref(v.u.o);
}

static inline void mw_value_decref(mw_heap *heap, mw_value v)
{
    if (mw_value_has_ref(v))
        mw_decref(heap, v.u.o);
}

/* The name of v's kind for messages: "nil", "boolean", "number",
 * "string", or the object's type name. */
const char *mw_value_typename(mw_value v);

#endif /* MW_VALUE_H */
