/*
 * verify: prove a copy exact, and name every differing row (issue 4,
 * docs/verify.md).
 *
 *   one integer key: each side read whole, every row's canonical hash
 *   summed into its key's bucket (~leaf_rows / 2 keys); other keys: chunks
 *   planned on the source's key (chunker.c), count and digest per chunk on
 *   both sides (each side read in one snapshot) -> a bucket or chunk that
 *   differs is split 16 ways on the source's keys until the pieces are
 *   small -> the pieces are read in key order on both sides and
 *   merged: missing (source only), extra (target only), changed (with the
 *   columns whose encodings differ). Keyless tables compare as multisets
 *   of row hashes.
 *
 * barge_verify_fix re-copies exactly the differing keys. Everything works
 * through the driver interface (drv.h), so any pair of endpoints.
 */
#ifndef BARGE_LIB_VERIFY_H /* BARGE_VERIFY_H is barge/verify.h's */
#define BARGE_LIB_VERIFY_H

#include "barge/verify.h" /* the public part: barge_verify and its result */
#include "engine.h"

#include <stdint.h>
#include <stdio.h>

#endif
