/*
 * MD5 (RFC 1321), only as the row hash of the verify fast path: it is the
 * one 128-bit hash PostgreSQL computes natively (md5()), so a digest made
 * in the database and one made here agree (docs/verify.md). Not for
 * anything that needs a secure hash.
 */
#ifndef BARGE_MD5_H
#define BARGE_MD5_H

#include <stddef.h>

/* The 16-byte digest of p[0..n). */
void barge_md5(const void *p, size_t n, unsigned char out[16]);

#endif
