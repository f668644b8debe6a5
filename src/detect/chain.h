/*
 * chain.h: a composite detector that feeds each stage's output into the
 * next (a detector, then thresholders or calibrators).
 */
#ifndef MW_DETECT_CHAIN_H
#define MW_DETECT_CHAIN_H

#include "detect/detect.h"

#define MW_CHAIN_MAX_STAGES 16

extern const mw_detector_type mw_detect_chain_type;

/* A chain of the n stages (1 <= n <= MW_CHAIN_MAX_STAGES), which it
 * steals: they belong to the chain on success and are freed on failure.
 * Returns NULL with *status and err set on failure. */
mw_detector *mw_detect_chain_new(mw_alloc *alloc, mw_detector **stages, size_t n,
                                 mw_status *status, char *err);

#endif /* MW_DETECT_CHAIN_H */
