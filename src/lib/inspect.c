/*
 * Inspection of a source (include/barge/inspect.h): what `barge inspect`
 * reports and `barge init` builds its plan from. The endpoint is opened
 * through drv.c like every other use of a driver, so fault injection
 * (BARGE_FAULT) reaches it too. The report is rendered in inspect_print.c.
 */
#include "barge/barge.h"
#include "drv.h"
#include "plan.h" /* barge_fk_order */

#include <stdlib.h>
#include <string.h>

void barge_inspection_dispose(struct barge_inspection *in)
{
	for (size_t i = 0; i < in->ntables; i++)
		barge_table_def_free(in->tables[i]);
	free(in->tables);
	free(in->source);
	free(in->cycles);
	memset(in, 0, sizeof *in);
}

/*
 * The names to inspect: all of `all`, or those of the comma-separated
 * `only`, each checked to exist. *out is a NULL-terminated array of
 * pointers borrowed from `all` (the caller frees the array only).
 */
static int select_tables(const char ***out, char **all, const char *only,
			 const char *source)
{
	size_t nall = 0, n = 0;
	const char **sel = NULL;
	char *copy = NULL;
	int err = 0;

	*out = NULL;
	while (all[nall])
		nall++;
	sel = calloc(nall + 1, sizeof *sel);
	if (!sel) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	if (!only) {
		for (size_t i = 0; i < nall; i++)
			sel[n++] = all[i];
		goto done;
	}
	copy = strdup(only);
	if (!copy) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	char *save = NULL;
	for (char *name = strtok_r(copy, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		const char *found = NULL;
		for (size_t i = 0; i < nall && !found; i++)
			if (strcmp(all[i], name) == 0)
				found = all[i];
		if (!found) {
			err = barge_error_set(BARGE_ENOTFOUND, "no table '%s' in %s",
					      name, source);
			goto out;
		}
		int dup = 0;
		for (size_t i = 0; i < n; i++)
			dup |= sel[i] == found;
		if (!dup && n < nall)
			sel[n++] = found;
	}
	if (n == 0) {
		err = barge_error_set(BARGE_EUSAGE, "--tables names no table");
		goto out;
	}
done:
	*out = sel;
	sel = NULL;
out:
	free(sel);
	free(copy);
	return err;
}

int barge_inspect(struct barge_inspection *in, const char *src,
		  const char *only, unsigned flags)
{
	struct barge_ep ep;
	struct barge_conn *conn = NULL;
	char **names = NULL;
	const char **sel = NULL;
	struct barge_table_def **described = NULL;
	size_t *order = NULL;
	char *token = NULL;
	int in_snapshot = 0;
	int err = 0;

	memset(in, 0, sizeof *in);
	err = barge_ep_init(&ep, src); /* a scheme no driver has fails here */
	if (err)
		return err;
	in->source = strdup(barge_url_redacted(ep.url));
	if (!in->source) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	in->driver = ep.drv->name;
	in->typemap = barge_drv_typemap(&ep, &in->ntypemap);
	/* refused before connecting: reading the slots is not calling them */
	if (!ep.drv->list_tables || !ep.drv->describe) {
		err = barge_error_set(BARGE_EUSAGE,
				      "%s: the %s driver cannot describe a source yet",
				      in->source, ep.drv->name);
		goto out;
	}
	err = barge_drv_open(&ep, &conn, BARGE_OPEN_READ);
	if (err)
		goto out;
	/* one snapshot, so that counts and descriptions agree (nothing to do
	 * for a driver without snapshots) */
	err = barge_drv_snapshot_begin(&ep, conn, &token);
	free(token);
	if (err)
		goto out;
	in_snapshot = 1;
	err = barge_drv_list_tables(&ep, conn, &names);
	if (err)
		goto out;
	err = select_tables(&sel, names, only, in->source);
	if (err)
		goto out;
	size_t n = 0;
	while (sel[n])
		n++;
	described = calloc(n ? n : 1, sizeof *described);
	order = calloc(n ? n : 1, sizeof *order);
	if (!described || !order) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		struct barge_table_def *t = NULL;
		err = barge_drv_describe(&ep, conn, sel[i], &t);
		if (err)
			goto out;
		described[i] = t;
		if ((flags & BARGE_INSPECT_COUNT) && ep.drv->count_rows) {
			err = barge_drv_count_rows(&ep, conn, t, NULL, &t->rows);
			if (err)
				goto out;
		}
		if (flags & BARGE_INSPECT_AUDIT) {
			err = barge_drv_audit(&ep, conn, t);
			if (err)
				goto out;
		}
	}
	err = barge_fk_order(order, (const struct barge_table_def *const *)described,
			     n, &in->cycles);
	if (err)
		goto out;
	in->tables = calloc(n ? n : 1, sizeof *in->tables);
	if (!in->tables) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		in->tables[i] = described[order[i]];
		described[order[i]] = NULL;
	}
	in->ntables = n;
out:
	if (described) {
		for (size_t i = 0; sel && sel[i]; i++)
			barge_table_def_free(described[i]);
		free(described);
	}
	free(order);
	free(sel);
	barge_names_free(names);
	if (in_snapshot)
		barge_drv_snapshot_end(&ep, conn); /* read-only: nothing to lose */
	barge_drv_close(&ep, conn);
	barge_ep_dispose(&ep);
	return err;
}
