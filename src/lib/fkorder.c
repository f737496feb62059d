/*
 * Foreign-key load order: parents before children.
 *
 * The tables and their references form a graph; its strongly connected
 * components (Tarjan) are the cycles. Kahn's algorithm then runs on the
 * components, always taking the ready one with the smallest name, so the
 * output is stable; a cycle's tables come out together in name order, and
 * tables that depend on a cycle still come after it.
 */
#include "plan.h"
#include "util.h"
#include "barge/barge.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CYCLES_MAX_BYTES (1u << 20)

struct graph {
	size_t n;
	const struct barge_table_def *const *t;
	size_t *adj_start; /* n + 1 offsets into adj */
	size_t *adj;       /* child i -> parents adj[adj_start[i] ..] */
	/* Tarjan's state */
	size_t *index, *low, *stack, *comp;
	unsigned char *on_stack;
	size_t next_index, sp, ncomp;
};

/* The table named `name`: exact match first, then ignoring case (SQLite
 * matches a REFERENCES clause's table name without regard to case). */
static size_t find_table(const struct graph *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->t[i]->name, name) == 0)
			return i;
	for (size_t i = 0; i < g->n; i++)
		if (strcasecmp(g->t[i]->name, name) == 0)
			return i;
	return (size_t)-1;
}

/* Edges child -> parent; self-references and outside tables are dropped. */
static int build_edges(struct graph *g)
{
	size_t total = 0;
	for (size_t i = 0; i < g->n; i++)
		total += g->t[i]->nfks;
	g->adj_start = calloc(g->n + 1, sizeof *g->adj_start);
	g->adj = calloc(total ? total : 1, sizeof *g->adj);
	if (!g->adj_start || !g->adj)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	size_t k = 0;
	for (size_t i = 0; i < g->n; i++) {
		g->adj_start[i] = k;
		for (size_t f = 0; f < g->t[i]->nfks; f++) {
			const char *ref = g->t[i]->fks[f].ref_table;
			size_t j = ref ? find_table(g, ref) : (size_t)-1;
			if (j == (size_t)-1 || j == i)
				continue;
			g->adj[k++] = j;
		}
	}
	g->adj_start[g->n] = k;
	return 0;
}

/* Tarjan's strongly connected components. Recursion depth is at most the
 * number of tables, which stays in the thousands. */
static void strongconnect(struct graph *g, size_t v)
{
	g->index[v] = g->low[v] = ++g->next_index;
	g->stack[g->sp++] = v;
	g->on_stack[v] = 1;
	for (size_t e = g->adj_start[v]; e < g->adj_start[v + 1]; e++) {
		size_t w = g->adj[e];
		if (!g->index[w]) {
			strongconnect(g, w);
			if (g->low[w] < g->low[v])
				g->low[v] = g->low[w];
		} else if (g->on_stack[w] && g->index[w] < g->low[v]) {
			g->low[v] = g->index[w];
		}
	}
	if (g->low[v] != g->index[v])
		return;
	size_t w;
	do {
		w = g->stack[--g->sp];
		g->on_stack[w] = 0;
		g->comp[w] = g->ncomp;
	} while (w != v);
	g->ncomp++;
}

static int by_name_cmp(const void *a, const void *b, void *arg)
{
	const struct barge_table_def *const *t = arg;
	return strcmp(t[*(const size_t *)a]->name, t[*(const size_t *)b]->name);
}

/*
 * Describe the cycle through component `c`: from its first table by name,
 * the shortest walk along references back to it, "a -> b -> a" (a refers
 * to b). `bfs_prev` and `queue` are scratch arrays of n.
 */
static void describe_cycle(struct barge_buf *b, const struct graph *g,
			   size_t start, size_t *prev, size_t *queue)
{
	size_t head = 0, tail = 0, found = (size_t)-1;
	for (size_t i = 0; i < g->n; i++)
		prev[i] = (size_t)-1;
	queue[tail++] = start;
	while (head < tail && found == (size_t)-1) {
		size_t v = queue[head++];
		for (size_t e = g->adj_start[v]; e < g->adj_start[v + 1]; e++) {
			size_t w = g->adj[e];
			if (g->comp[w] != g->comp[start])
				continue;
			if (w == start) {
				found = v;
				break;
			}
			if (prev[w] == (size_t)-1) {
				prev[w] = v;
				queue[tail++] = w;
			}
		}
	}
	/* walk back from the last table before `start`, then print forwards */
	size_t len = 0;
	for (size_t v = found; v != start && v != (size_t)-1; v = prev[v])
		queue[len++] = v;
	barge_buf_adds(b, "cycle: ");
	barge_buf_adds(b, g->t[start]->name);
	while (len)
		barge_buf_printf(b, " -> %s", g->t[queue[--len]]->name);
	barge_buf_printf(b, " -> %s", g->t[start]->name);
}

int barge_fk_order(size_t *order, const struct barge_table_def *const *tables,
		   size_t n, char **cycles)
{
	struct graph g = {.n = n, .t = tables};
	size_t *byname = NULL, *indeg = NULL, *members = NULL;
	unsigned char *done = NULL;
	struct barge_buf desc;
	int err = 0;

	*cycles = NULL;
	barge_buf_init(&desc, CYCLES_MAX_BYTES);
	if (n == 0)
		goto out;
	size_t m = n;
	g.index = calloc(m, sizeof *g.index);
	g.low = calloc(m, sizeof *g.low);
	g.stack = calloc(m, sizeof *g.stack);
	g.comp = calloc(m, sizeof *g.comp);
	g.on_stack = calloc(m, 1);
	byname = calloc(m, sizeof *byname);
	indeg = calloc(m, sizeof *indeg); /* per component */
	members = calloc(m, sizeof *members);
	done = calloc(m, 1); /* per component */
	if (!g.index || !g.low || !g.stack || !g.comp || !g.on_stack ||
	    !byname || !indeg || !members || !done) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	err = build_edges(&g);
	if (err)
		goto out;
	for (size_t v = 0; v < n; v++)
		if (!g.index[v])
			strongconnect(&g, v);

	for (size_t i = 0; i < n; i++)
		byname[i] = i;
	qsort_r(byname, n, sizeof *byname, by_name_cmp, (void *)tables);

	/* a component waits on each edge into it from another component */
	for (size_t v = 0; v < n; v++)
		for (size_t e = g.adj_start[v]; e < g.adj_start[v + 1]; e++)
			if (g.comp[g.adj[e]] != g.comp[v])
				indeg[g.comp[v]]++;

	/* Kahn on components: the ready component whose first name is
	 * smallest goes next; all its tables, in name order. */
	size_t out_n = 0;
	while (out_n < n) {
		size_t pick = (size_t)-1;
		for (size_t i = 0; i < n && pick == (size_t)-1; i++) {
			size_t c = g.comp[byname[i]];
			if (!done[c] && indeg[c] == 0)
				pick = c;
		}
		/* every component is ready eventually: the condensation is a DAG */
		if (pick == (size_t)-1) {
			err = barge_error_set(BARGE_ERROR, "fk order: no table is ready");
			goto out;
		}
		done[pick] = 1;
		size_t nmem = 0;
		for (size_t i = 0; i < n; i++)
			if (g.comp[byname[i]] == pick)
				members[nmem++] = byname[i];
		if (nmem > 1) {
			if (desc.len)
				barge_buf_adds(&desc, "; ");
			/* scratch: g.low and g.stack are no longer needed */
			describe_cycle(&desc, &g, members[0], g.low, g.stack);
		}
		for (size_t k = 0; k < nmem; k++) {
			size_t v = members[k];
			order[out_n++] = v;
			/* children of v wait on one edge less */
			for (size_t w = 0; w < n; w++)
				for (size_t e = g.adj_start[w];
				     e < g.adj_start[w + 1]; e++)
					if (g.adj[e] == v && g.comp[w] != pick)
						indeg[g.comp[w]]--;
		}
	}
	if (desc.len)
		err = barge_buf_detach(&desc, cycles);
	else
		err = desc.err;
out:
	barge_buf_dispose(&desc);
	free(g.adj_start);
	free(g.adj);
	free(g.index);
	free(g.low);
	free(g.stack);
	free(g.comp);
	free(g.on_stack);
	free(byname);
	free(indeg);
	free(members);
	free(done);
	return err;
}
