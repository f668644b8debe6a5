/*
 * value.c: what tagged values need beyond the inline helpers of value.h.
 */
#include "core/value.h"

const char *mw_value_typename(mw_value v)
{
    switch (v.tag) {
    case MW_TNIL:    return "nil";
    case MW_TBOOL:   return "boolean";
    case MW_TINT:
    case MW_TFLOAT:  return "number";
    case MW_TSTRING: return "string";
    case MW_TOBJECT: return v.u.o->type->name;
    }
    return "?";
}
