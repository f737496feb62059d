/*
 * src/lib/binding.c: a plan's table bound as both run and verify bind it.
 * The integration scenario verify_binding.sh checks that verify refuses
 * what the run refuses; here, what the resolution gives.
 */
#include "binding.h"
#include "harness.h"

static struct barge_column_def pcols[2] = {
	{.name = "id", .type = BARGE_T_INT64, .scale = -1},
	{.name = "name", .type = BARGE_T_TEXT, .scale = -1}};
static struct barge_column_def ccols[2] = {
	{.name = "id", .type = BARGE_T_INT64, .scale = -1},
	{.name = "p_id", .type = BARGE_T_INT64, .scale = -1}};
static size_t key0[1] = {0};
static struct barge_table_def pdef = {.name = "p", .ncols = 2, .cols = pcols,
				      .nkey = 1, .key = key0};
static struct barge_table_def cdef = {.name = "c", .ncols = 2, .cols = ccols,
				      .nkey = 1, .key = key0};

/* Bind `def` with plan table `jt`: columns, then the mapping. */
static int bind(struct barge_bind_table *bt, size_t *src, const char **names,
		struct barge_table_def *def, const struct barge_job_table *jt,
		const char *target)
{
	memset(bt, 0, sizeof *bt);
	bt->src = def;
	bt->target = target;
	barge_bind_columns(src, names, &bt->ncols, def, jt);
	bt->src_cols = src;
	bt->dst_names = names;
	return barge_bind_mapping(&bt->xf, def, jt, bt->ncols, src, names);
}

/* The child first (the order verify reads a plan in): its reference is
 * still rewritten to the parent's new key. */
static void test_keymaps(const char *padd, int seq)
{
	char *rfrom[] = {"id"}, *rto[] = {"legacy_id"};
	char *pon[] = {"id"}, *pot[] = {NULL}, *pox[] = {"{to: legacy_id}"};
	char *con[] = {"p_id"}, *cot[] = {NULL}, *cox[] = {"{references: p.id}"};
	struct barge_job_table pj = {.name = "p", .nrename = 1, .rename_from = rfrom,
				     .rename_to = rto, .nopts = 1, .opt_name = pon,
				     .opt_type = pot, .opt_text = pox};
	struct barge_job_table cj = {.name = "c", .nopts = 1, .opt_name = con,
				     .opt_type = cot, .opt_text = cox};
	struct barge_bind_table bt[2];
	struct barge_bind_keys keys;
	size_t psrc[3], csrc[3];
	const char *pnames[3], *cnames[3];

	pj.add = (char *)padd;
	CHECK_OK(bind(&bt[0], csrc, cnames, &cdef, &cj, "c"));
	CHECK_OK(bind(&bt[1], psrc, pnames, &pdef, &pj, "parents"));
	CHECK(bt[0].xf && bt[1].xf);
	if (!bt[0].xf || !bt[1].xf)
		return;
	CHECK_STR(pnames[0], "legacy_id");
	CHECK_OK(barge_bind_keymaps(&keys, 2, bt));
	CHECK(!keys.keys[0].on);
	CHECK(keys.keys[1].on && keys.keys[1].seq == seq);
	CHECK(keys.keys[1].legacy == 0 && keys.keys[1].col == 2);
	CHECK(keys.nrefs == 1);
	if (keys.nrefs == 1) {
		const struct barge_bind_ref *r = &keys.refs[0];
		CHECK(r->table == 0 && r->xcol == 1 && r->scol == 1 && r->parent == 1);
		CHECK_STR(r->look_table, "parents");
		CHECK_STR(r->look_column, "legacy_id");
		CHECK(r->fed == seq && !r->self);
		/* rewritten to the new key's type */
		CHECK(barge_xf_col(bt[0].xf, 1)->type ==
		      (seq ? BARGE_T_INT64 : BARGE_T_UUID));
	}
	barge_bind_keys_dispose(&keys);
	barge_xf_free(bt[0].xf);
	barge_xf_free(bt[1].xf);
}

/* Renames and skips only: no mapping; a key column's type kept. */
static void test_mapping(void)
{
	char *skip[] = {"name"};
	char *on[] = {"id"}, *ot[] = {"text"}, *ox[] = {NULL};
	struct barge_job_table plain = {.name = "p", .nskip = 1, .skip = skip};
	struct barge_job_table keytype = {.name = "p", .nopts = 1, .opt_name = on,
					  .opt_type = ot, .opt_text = ox};
	struct barge_bind_table bt;
	size_t src[3];
	const char *names[3];

	CHECK_OK(bind(&bt, src, names, &pdef, &plain, "p"));
	CHECK(bt.xf == NULL && bt.ncols == 1 && src[0] == 0);
	CHECK(bind(&bt, src, names, &pdef, &keytype, "p") == BARGE_EUSAGE);
	CHECK(bt.xf == NULL);
	CHECK(strstr(barge_error_last(), "cannot change its type") != NULL);
	barge_error_clear();
}

int main(void)
{
	test_keymaps("{id: {uuid_v5: {namespace: 6ba7b811-9dad-11d1-80b4-00c04fd430c8, "
		     "from: id}}}", 0);
	test_keymaps("{id: {sequence: {from: id}}}", 1);
	test_mapping();
	return harness_done();
}
