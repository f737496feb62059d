/*
 * Reading a file's bytes (docs/files.md, "Reading files"): the bytes of
 * one file, decompressed when its first bytes are a gzip or zstd magic
 * (the content decides, never the name), in a growing window that the
 * record parsers (read_csv.c, read_jsonl.c) look at. Offsets are in the
 * decompressed stream. An uncompressed file can start at any offset (a
 * chunk that is a byte range); a compressed one is read from its start.
 * A compressed stream that ends early (truncated) is an error naming the
 * file and the offset reached.
 */
#include "file_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IN_CHUNK (256u << 10)

int file_in_sniff(const char *path, int *comp)
{
	unsigned char m[4] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return barge_error_set(BARGE_ENOTFOUND, "file: cannot open %s: %s", path,
				       strerror(errno));
	ssize_t k = read(fd, m, sizeof m);
	close(fd);
	*comp = FILE_COMP_NONE;
	if (k >= 2 && m[0] == 0x1f && m[1] == 0x8b)
		*comp = FILE_COMP_GZIP;
	else if (k >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
		*comp = FILE_COMP_ZSTD;
	return 0;
}

int file_in_open(struct file_in *in, const char *path, uint64_t at)
{
	int err;
	memset(in, 0, sizeof *in);
	in->fd = -1;
	in->path = path;
	if ((err = file_in_sniff(path, &in->comp)) < 0)
		return err;
	if ((in->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return barge_error_set(BARGE_ENOTFOUND, "file: cannot open %s: %s", path,
				       strerror(errno));
	if (!(in->ibuf = malloc(IN_CHUNK)))
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	if (in->comp == FILE_COMP_GZIP) {
		/* 15 + 32: gzip or zlib header, detected */
		if (inflateInit2(&in->z, 15 + 32) != Z_OK)
			return barge_error_set(BARGE_ENOMEM, "file: zlib cannot start");
		in->z_live = 1;
	} else if (in->comp == FILE_COMP_ZSTD) {
		if (!(in->zd = ZSTD_createDStream()))
			return barge_error_set(BARGE_ENOMEM, "file: zstd cannot start");
		ZSTD_initDStream(in->zd);
	} else if (at && lseek(in->fd, (off_t)at, SEEK_SET) < 0)
		return barge_error_set(BARGE_ERROR, "file: cannot seek %s: %s", path,
				       strerror(errno));
	else
		in->base = at;
	return 0;
}

void file_in_close(struct file_in *in)
{
	if (in->fd >= 0)
		close(in->fd);
	if (in->z_live)
		inflateEnd(&in->z);
	ZSTD_freeDStream(in->zd);
	free(in->ibuf);
	free(in->p);
	memset(in, 0, sizeof *in);
	in->fd = -1;
}

/* Raw bytes from the file into ibuf; 0 at its end. */
static int raw_read(struct file_in *in)
{
	for (;;) {
		ssize_t k = read(in->fd, in->ibuf, IN_CHUNK);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return barge_error_set(BARGE_ERROR, "file: cannot read %s: %s",
					       in->path, strerror(errno));
		in->ilen = (size_t)k;
		in->ipos = 0;
		in->raw_off += (uint64_t)k;
		return (int)(k > 0);
	}
}

static int truncated(struct file_in *in, const char *what)
{
	return barge_error_set(BARGE_EDATA, "file: %s is a truncated or damaged %s "
			       "stream (at byte %llu of its data, %llu of the file)",
			       in->path, what,
			       (unsigned long long)(in->base + in->len),
			       (unsigned long long)in->raw_off);
}

/* Decompress into `out` (room n); *got bytes. */
static int inflate_some(struct file_in *in, char *out, size_t n, size_t *got)
{
	*got = 0;
	while (*got == 0 && !in->eof) {
		if (in->ipos == in->ilen) {
			int r = raw_read(in);
			if (r < 0)
				return r;
			if (r == 0) {
				if (!in->zend)
					return truncated(in, in->comp == FILE_COMP_GZIP ? "gzip"
										 : "zstd");
				in->eof = 1;
				break;
			}
		}
		if (in->comp == FILE_COMP_GZIP) {
			if (in->zend) { /* another gzip member follows */
				if (inflateReset(&in->z) != Z_OK)
					return truncated(in, "gzip");
				in->zend = 0;
			}
			in->z.next_in = in->ibuf + in->ipos;
			in->z.avail_in = (uInt)(in->ilen - in->ipos);
			in->z.next_out = (Bytef *)out;
			in->z.avail_out = (uInt)n;
			int r = inflate(&in->z, Z_NO_FLUSH);
			if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
				return truncated(in, "gzip");
			in->ipos = in->ilen - in->z.avail_in;
			*got = n - in->z.avail_out;
			if (r == Z_STREAM_END)
				in->zend = 1;
		} else {
			ZSTD_inBuffer ib = {in->ibuf, in->ilen, in->ipos};
			ZSTD_outBuffer ob = {out, n, 0};
			size_t r = ZSTD_decompressStream(in->zd, &ob, &ib);
			if (ZSTD_isError(r))
				return truncated(in, "zstd");
			in->ipos = ib.pos;
			*got = ob.pos;
			in->zend = r == 0; /* a frame ended; another may follow */
		}
	}
	return 0;
}

int file_in_more(struct file_in *in, size_t want)
{
	size_t got = 0;
	if (in->eof)
		return 0;
	if (in->pos > 0 && in->pos >= in->len / 2) { /* slide */
		memmove(in->p, in->p + in->pos, in->len - in->pos);
		in->len -= in->pos;
		in->base += in->pos;
		in->pos = 0;
	}
	if (in->len - in->pos > FILE_RECORD_MAX)
		return barge_error_set(BARGE_EDATA, "file: %s: a record at byte %llu is "
				       "longer than %u MiB (an unterminated quote?)",
				       in->path, (unsigned long long)(in->base + in->pos),
				       FILE_RECORD_MAX >> 20);
	if (want < IN_CHUNK)
		want = IN_CHUNK;
	if (in->len + want + 1 > in->alloc) {
		size_t na = in->alloc ? in->alloc : IN_CHUNK;
		while (na < in->len + want + 1)
			na *= 2;
		char *np = realloc(in->p, na);
		if (!np)
			return barge_error_set(BARGE_ENOMEM, "out of memory");
		in->p = np;
		in->alloc = na;
	}
	want = in->alloc - in->len - 1;
	if (in->comp == FILE_COMP_NONE) {
		for (;;) {
			ssize_t k = read(in->fd, in->p + in->len, want);
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0)
				return barge_error_set(BARGE_ERROR, "file: cannot read %s: %s",
						       in->path, strerror(errno));
			got = (size_t)k;
			break;
		}
		if (got == 0)
			in->eof = 1;
	} else {
		int err = inflate_some(in, in->p + in->len, want, &got);
		if (err < 0)
			return err;
	}
	in->len += got;
	in->p[in->len] = '\0';
	return (int)(got > 0);
}

int file_in_record(struct file_in *in, const struct file_opts *o, int jsonl,
		   struct file_rec *r, uint64_t *start, const char **raw,
		   size_t *rawn)
{
	for (;;) {
		size_t used = 0;
		int got = 0, err;
		if (in->base + in->pos == 0 && in->len >= 3 &&
		    memcmp(in->p, "\xef\xbb\xbf", 3) == 0)
			in->pos = 3; /* a UTF-8 BOM */
		if (in->len > in->pos || in->eof)
			got = jsonl ? file_jsonl_parse(in->p + in->pos, in->len - in->pos,
						       in->eof, r, &used)
				    : file_csv_parse(o, in->p + in->pos, in->len - in->pos,
						     in->eof, r, &used);
		if (got < 0)
			return got;
		if (got == 0) {
			if (in->eof)
				return 0;
			if ((err = file_in_more(in, 0)) < 0)
				return err;
			continue;
		}
		*start = in->base + in->pos;
		*raw = in->p + in->pos;
		*rawn = used;
		in->pos += used;
		return 1;
	}
}
