/*
 * The writer stack under a format (STYLE.md: encode -> compress -> sink):
 * the encoded bytes go through gzip (zlib, a gzip member with no name and
 * no time, so the same rows give the same bytes) or zstd (libzstd, one
 * frame), or through unchanged, to the part's file. What reaches the file
 * is counted and hashed with SHA-256 (libsodium) for the manifest.
 */
#include "file_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OBUF (256u << 10)

/* Write all of p[0..n) to the file, hashing and counting it. */
static int sink_out(struct file_sink *s, const void *p, size_t n)
{
	const char *c = p;
	crypto_hash_sha256_update(&s->sha, p, n);
	s->bytes += n;
	while (n) {
		ssize_t k = write(s->fd, c, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return barge_error_set(BARGE_ERROR, "cannot write %s: %s", s->path,
					       strerror(errno));
		c += k;
		n -= (size_t)k;
	}
	return 0;
}

int file_sink_init(struct file_sink *s, int fd, int comp, int level,
		   const char *path)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->comp = comp;
	s->path = path;
	crypto_hash_sha256_init(&s->sha);
	if (comp == FILE_COMP_NONE)
		return 0;
	s->ocap = OBUF;
	if (!(s->obuf = malloc(s->ocap)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if (comp == FILE_COMP_GZIP) {
		/* 15 + 16: a gzip wrapper around a 32 KiB-window deflate */
		if (deflateInit2(&s->z, level ? level : Z_DEFAULT_COMPRESSION, Z_DEFLATED,
				 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return barge_error_set(BARGE_ENOMEM, "gzip: cannot start a stream");
		s->z_live = 1;
		return 0;
	}
	if (!(s->zc = ZSTD_createCCtx()))
		return barge_error_set(BARGE_ENOMEM, "zstd: cannot start a stream");
	if (level)
		ZSTD_CCtx_setParameter(s->zc, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(s->zc, ZSTD_c_checksumFlag, 1);
	return 0;
}

/* Run the compressor over p[0..n) (n may be 0 with `end`). */
static int sink_compress(struct file_sink *s, const void *p, size_t n, int end)
{
	int err;
	if (s->comp == FILE_COMP_GZIP) {
		s->z.next_in = (Bytef *)(uintptr_t)p;
		s->z.avail_in = (uInt)n;
		for (;;) {
			s->z.next_out = s->obuf;
			s->z.avail_out = (uInt)s->ocap;
			int rc = deflate(&s->z, end ? Z_FINISH : Z_NO_FLUSH);
			if (rc == Z_STREAM_ERROR)
				return barge_error_set(BARGE_ERROR, "gzip: %s: stream error", s->path);
			if ((err = sink_out(s, s->obuf, s->ocap - s->z.avail_out)) < 0)
				return err;
			if (end ? rc == Z_STREAM_END : s->z.avail_in == 0 && s->z.avail_out != 0)
				return 0;
		}
	}
	ZSTD_inBuffer in = {p, n, 0};
	for (;;) {
		ZSTD_outBuffer o = {s->obuf, s->ocap, 0};
		size_t left = ZSTD_compressStream2(s->zc, &o, &in,
						   end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left))
			return barge_error_set(BARGE_ERROR, "zstd: %s: %s", s->path,
					       ZSTD_getErrorName(left));
		if ((err = sink_out(s, s->obuf, o.pos)) < 0)
			return err;
		if (end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

int file_sink_write(struct file_sink *s, const void *p, size_t n)
{
	if (s->comp == FILE_COMP_NONE)
		return sink_out(s, p, n);
	/* zlib counts in uInt: feed it at most 1 GiB at a time */
	const char *c = p;
	while (n) {
		size_t k = n < (1u << 30) ? n : (1u << 30);
		int err = sink_compress(s, c, k, 0);
		if (err < 0)
			return err;
		c += k;
		n -= k;
	}
	return 0;
}

int file_sink_finish(struct file_sink *s, char sha256[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	int err;
	if (s->comp != FILE_COMP_NONE && (err = sink_compress(s, NULL, 0, 1)) < 0)
		return err;
	crypto_hash_sha256_final(&s->sha, h);
	barge_hex_encode(sha256, h, sizeof h);
	sha256[64] = '\0';
	return 0;
}

void file_sink_dispose(struct file_sink *s)
{
	if (s->z_live)
		deflateEnd(&s->z);
	s->z_live = 0;
	ZSTD_freeCCtx(s->zc);
	s->zc = NULL;
	free(s->obuf);
	s->obuf = NULL;
}
