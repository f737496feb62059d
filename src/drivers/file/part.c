/*
 * Parts (driver.h, "Parts"): each chunk of a table is one file in the
 * table's folder, named by the chunk's number so that names sort in key
 * order and a re-run replaces its part:
 *   part-000042.csv.gz      the part
 *   .part-000042.meta       its record: rows, bytes, SHA-256, digest
 *   .part-000042.tmp        while it is written
 * part_begin opens the temporary file (0600: exports hold personal
 * data), the writes encode rows into it through the sink, and
 * part_commit ends the format, flushes the compressor, fsyncs, renames
 * the part into place, writes its record the same way and fsyncs the
 * folder. The record is written after the part, so a record always
 * speaks of a part that is complete; a crash between the two leaves the
 * unit not done, and its re-run writes both again. The canonical digest
 * is of the rows as written (the batch's columns, canon.c), the one a
 * verify computes on either side.
 */
#include "file_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct barge_writer {
	struct barge_conn *c;
	size_t ncols;
	int *from;                /* for each table column, its batch column or -1 */
	struct barge_value *vals; /* one row, in table order */
};

static const char *comp_ext(int comp)
{
	return comp == FILE_COMP_GZIP ? ".gz" : comp == FILE_COMP_ZSTD ? ".zst" : "";
}

void file_part_name(char *buf, size_t n, const struct file_opts *o, int64_t seq)
{
	snprintf(buf, n, "part-%06lld.%s%s", (long long)seq, o->format->ext,
		 comp_ext(o->comp));
}

static void part_reset(struct barge_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	if (c->sink_live)
		file_sink_dispose(&c->sink);
	c->sink_live = 0;
	file_enc_dispose(&c->enc);
	barge_buf_dispose(&c->out);
	barge_buf_dispose(&c->scratch);
	barge_table_def_free(c->t);
	c->t = NULL;
	c->begun = 0;
	c->tmp[0] = c->final[0] = c->meta[0] = '\0';
}

int file_part_begin(struct barge_conn *c, const struct barge_table_def *t,
		    const struct barge_chunk *chunk)
{
	char dir[4096], name[160];
	int err;

	if (c->fd >= 0)
		return barge_error_set(BARGE_ERROR, "file: a part is open already");
	if ((err = file_table_dir(dir, sizeof dir, c->root, t->name)) < 0)
		return err;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return barge_error_set(BARGE_ERROR, "cannot make the folder %s: %s", dir,
				       strerror(errno));
	file_part_name(name, sizeof name, &c->o, chunk->seq);
	snprintf(c->final, sizeof c->final, "%s/%s", dir, name);
	snprintf(c->tmp, sizeof c->tmp, "%s/.part-%06lld.tmp", dir, (long long)chunk->seq);
	snprintf(c->meta, sizeof c->meta, "%s/.part-%06lld.meta", dir,
		 (long long)chunk->seq);
	snprintf(c->table, sizeof c->table, "%s", t->name);
	c->seq = chunk->seq;
	unlink(c->tmp); /* an earlier attempt's */
	c->fd = open(c->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (c->fd < 0) {
		err = barge_error_set(BARGE_ERROR, "cannot create %s: %s", c->tmp,
				      strerror(errno));
		c->tmp[0] = '\0';
		return err;
	}
	if ((err = barge_table_def_dup(&c->t, t)) < 0)
		goto fail;
	c->sink_live = 1;
	if ((err = file_sink_init(&c->sink, c->fd, c->o.comp, c->o.level, c->tmp)) < 0)
		goto fail;
	file_enc_init(&c->enc, &c->o, c->t);
	barge_buf_init(&c->out, BARGE_BATCH_HARD_BYTES);
	barge_buf_init(&c->scratch, BARGE_BATCH_HARD_BYTES);
	barge_digest_init(&c->digest);
	if (c->o.format->begin && (err = c->o.format->begin(&c->enc, &c->out)) < 0)
		goto fail;
	c->begun = 1;
	return 0;
fail:
	file_part_abort(c);
	return err;
}

/* Hand the encoded bytes to the sink once there are enough of them. */
static int part_flush(struct barge_conn *c, size_t at_least)
{
	if (c->out.err)
		return barge_error_set(c->out.err, "file: %s: a value past the "
				       "buffer's cap", c->tmp);
	if (c->out.len < at_least || c->out.len == 0)
		return 0;
	int err = file_sink_write(&c->sink, c->out.p, c->out.len);
	barge_buf_clear(&c->out);
	return err;
}

static int rec_write(const struct barge_conn *c, const struct file_part_rec *r)
{
	char text[512];
	int n = snprintf(text, sizeof text, "%lld\t%s\t%lld\t%llu\t%s\t%s\n",
			 (long long)r->seq, r->file, (long long)r->rows,
			 (unsigned long long)r->bytes, r->sha256, r->digest);
	return file_write_atomic(c->meta, text, (size_t)n);
}

int file_part_rec_read(struct file_part_rec *r, const char *path)
{
	FILE *f = fopen(path, "r");
	long long seq, rows;
	unsigned long long bytes;
	memset(r, 0, sizeof *r);
	if (!f)
		return barge_error_set(BARGE_ENOTFOUND, "cannot read %s: %s", path,
				       strerror(errno));
	int n = fscanf(f, "%lld\t%127s\t%lld\t%llu\t%64s\t%32s", &seq, r->file, &rows,
		       &bytes, r->sha256, r->digest);
	fclose(f);
	if (n != 6 || strlen(r->sha256) != 64 || strlen(r->digest) != 32)
		return barge_error_set(BARGE_EDATA, "%s: not a part record", path);
	r->seq = seq;
	r->rows = rows;
	r->bytes = bytes;
	return 0;
}

int file_part_commit(struct barge_conn *c)
{
	struct file_part_rec r;
	char dir[4096];
	int err;

	if (c->fd < 0)
		return barge_error_set(BARGE_ERROR, "file: no part is open");
	memset(&r, 0, sizeof r);
	if (c->o.format->end && (err = c->o.format->end(&c->enc, &c->out)) < 0)
		goto fail;
	if ((err = part_flush(c, 0)) < 0 ||
	    (err = file_sink_finish(&c->sink, r.sha256)) < 0)
		goto fail;
	if (fsync(c->fd) != 0) {
		err = barge_error_set(BARGE_ERROR, "cannot fsync %s: %s", c->tmp,
				      strerror(errno));
		goto fail;
	}
	if (rename(c->tmp, c->final) != 0) {
		err = barge_error_set(BARGE_ERROR, "cannot rename %s: %s", c->tmp,
				      strerror(errno));
		goto fail;
	}
	c->tmp[0] = '\0';
	r.seq = c->seq;
	snprintf(r.file, sizeof r.file, "%s", strrchr(c->final, '/') + 1);
	r.rows = c->digest.rows;
	r.bytes = c->sink.bytes;
	barge_digest_hex(&c->digest, r.digest);
	if ((err = rec_write(c, &r)) < 0)
		goto fail;
	snprintf(dir, sizeof dir, "%s", c->final);
	*strrchr(dir, '/') = '\0';
	err = file_fsync_dir(dir);
fail:
	if (err < 0)
		file_part_abort(c);
	else
		part_reset(c);
	return err;
}

int file_part_abort(struct barge_conn *c)
{
	if (c->tmp[0])
		unlink(c->tmp);
	part_reset(c);
	return 0;
}

int file_write_open(struct barge_writer **out, struct barge_conn *c,
		    const struct barge_write_req *req)
{
	struct barge_writer *w = NULL;
	if (c->fd < 0)
		return barge_error_set(BARGE_ERROR, "file: a write with no part open "
				       "(a file target writes only parts)");
	if (!(w = calloc(1, sizeof *w)) ||
	    !(w->from = malloc((c->t->ncols + 1) * sizeof *w->from)) ||
	    !(w->vals = calloc(c->t->ncols + 1, sizeof *w->vals))) {
		file_write_close(w);
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	w->c = c;
	w->ncols = req->ncols;
	for (size_t j = 0; j < c->t->ncols; j++)
		w->from[j] = -1;
	for (size_t i = 0; i < req->ncols; i++)
		if (req->cols[i] < c->t->ncols)
			w->from[req->cols[i]] = (int)i;
	*out = w;
	return 0;
}

int file_write_batch(struct barge_writer *w, const struct barge_batch *b)
{
	struct barge_conn *c = w->c;
	int err;
	for (size_t r = 0; r < b->nrows; r++) {
		for (size_t j = 0; j < c->t->ncols; j++) {
			if (w->from[j] < 0) {
				memset(&w->vals[j], 0, sizeof w->vals[j]);
				w->vals[j].null = 1;
				w->vals[j].type = c->t->cols[j].type;
			} else
				barge_batch_get(b, (size_t)w->from[j], r, &w->vals[j]);
		}
		if ((err = file_enc_row(&c->enc, w->vals, &c->out)) < 0)
			return barge_error_wrap(err, "table '%s', part %lld", c->table,
						(long long)c->seq);
		if ((err = part_flush(c, 1u << 20)) < 0)
			return err;
	}
	/* the digest covers the columns written, not the row address */
	if ((err = barge_canon_digest_batch(&c->digest, &c->scratch, b, w->ncols)) < 0)
		return barge_error_set(err, "table '%s': cannot digest a batch", c->table);
	return 0;
}

void file_write_close(struct barge_writer *w)
{
	if (!w)
		return;
	free(w->from);
	free(w->vals);
	free(w);
}

int file_parts_remove(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096 + 300];
	int err = 0;
	if (!d)
		return errno == ENOENT ? 0
				       : barge_error_set(BARGE_ERROR, "cannot read %s: %s",
							 dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "part-", 5) != 0 && strncmp(e->d_name, ".part-", 6) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (unlink(path) != 0 && errno != ENOENT) {
			err = barge_error_set(BARGE_ERROR, "cannot remove %s: %s", path,
					      strerror(errno));
			break;
		}
	}
	closedir(d);
	return err < 0 ? err : file_fsync_dir(dir);
}
