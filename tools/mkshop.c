/*
 * mkshop: writes the sample databases barge's demo, tests and bench use.
 *
 *   mkshop OUT.db [--customers N] [--orders N] [--items-per-order N]
 *                 [--seed N] [--force]
 *   mkshop OUT.db --bench-rows N [--seed N] [--force]
 *
 * The first form makes a "legacy shop": customers, orders, order_items
 * (foreign keys, a composite key) and a keyless audit_log with duplicate
 * rows, with 1-3% of values dirty in meaning (stray spaces, bad emails,
 * unknown countries, 'y'/'1' flags, orphan orders, non-ASCII text) while
 * still of their column's storage class. The second makes one wide table
 * `bench` of N rows for bench/sqlite.sh.
 *
 * Output is a pure function of the arguments: a fixed-seed PCG32, no clock,
 * no rand(). The database is written to OUT.db.tmp and renamed into place
 * only when complete, so a failed run leaves no half-made OUT.db. An
 * existing OUT.db is kept unless --force.
 *
 * Exit status: 0 done, 1 failure while writing, 2 usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

/* ---- deterministic random numbers: PCG32 (O'Neill, pcg-random.org) ---- */

typedef struct {
	uint64_t state;
	uint64_t inc;
} pcg32;

static uint32_t pcg32_next(pcg32 *r)
{
	uint64_t old = r->state;
	r->state = old * 6364136223846793005ULL + r->inc;
	uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
	uint32_t rot = (uint32_t)(old >> 59u);
	return (xorshifted >> rot) | (xorshifted << ((32u - rot) & 31u));
}

static void pcg32_seed(pcg32 *r, uint64_t seed, uint64_t stream)
{
	r->state = 0;
	r->inc = (stream << 1u) | 1u;
	pcg32_next(r);
	r->state += seed;
	pcg32_next(r);
}

/* Uniform in [0, n), n > 0, without modulo bias (Lemire's method). */
static uint32_t rnd_below(pcg32 *r, uint32_t n)
{
	uint64_t m = (uint64_t)pcg32_next(r) * n;
	uint32_t low = (uint32_t)m;
	if (low < n) {
		uint32_t threshold = (uint32_t)(-n) % n;
		while (low < threshold) {
			m = (uint64_t)pcg32_next(r) * n;
			low = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

/* Uniform in [lo, hi]. */
static int64_t rnd_range(pcg32 *r, int64_t lo, int64_t hi)
{
	uint64_t span = (uint64_t)(hi - lo) + 1;
	if (span <= UINT32_MAX)
		return lo + (int64_t)rnd_below(r, (uint32_t)span);
	uint64_t v = ((uint64_t)pcg32_next(r) << 32) | pcg32_next(r);
	return lo + (int64_t)(v % span);
}

/* True with probability per_mille / 1000. */
static int chance(pcg32 *r, uint32_t per_mille)
{
	return rnd_below(r, 1000) < per_mille;
}

#define PICK(r, arr) ((arr)[rnd_below((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

/* ---- the shop's vocabulary ---- */

/* A display name and the ASCII form a legacy signup form made its email from. */
struct name {
	const char *text;
	const char *ascii;
};

static const struct name first_names[] = {
	{"James", "james"},       {"Mary", "mary"},       {"José", "jose"},
	{"Zoë", "zoe"},           {"Søren", "soren"},     {"François", "francois"},
	{"Łukasz", "lukasz"},     {"Ana", "ana"},         {"Mohammed", "mohammed"},
	{"Yuki", "yuki"},         {"Olga", "olga"},       {"Chloé", "chloe"},
	{"Björn", "bjorn"},       {"Aoife", "aoife"},     {"Raj", "raj"},
	{"Fatima", "fatima"},     {"Noah", "noah"},       {"Emma", "emma"},
	{"Liam", "liam"},         {"Ingrid", "ingrid"},   {"Mateo", "mateo"},
	{"Priya", "priya"},       {"Kwame", "kwame"},     {"Sarah", "sarah"},
};

static const struct name last_names[] = {
	{"Smith", "smith"},       {"Müller", "muller"},     {"García", "garcia"},
	{"Núñez", "nunez"},       {"O'Brien", "obrien"},    {"Dubois", "dubois"},
	{"Kowalski", "kowalski"}, {"Tanaka", "tanaka"},     {"Nguyen", "nguyen"},
	{"Ivanova", "ivanova"},   {"Johansson", "johansson"}, {"Rossi", "rossi"},
	{"Silva", "silva"},       {"Brown", "brown"},       {"Schröder", "schroder"},
	{"Okafor", "okafor"},     {"Patel", "patel"},       {"Jensen", "jensen"},
};

/* Whole names in scripts without a first/last split that fits the above. */
static const struct name cjk_names[] = {
	{"王伟", "wang.wei"},       {"李娜", "li.na"},
	{"田中 太郎", "tanaka.taro"}, {"김민준", "kim.minjun"},
	{"陳美玲", "chen.meiling"},  {"佐藤 花子", "sato.hanako"},
};

static const char *const domains[] = {
	"example.com", "mail.example.org", "shop.example.net", "example.co.uk",
	"post.example.de",
};

static const char *const countries[] = {
	"US", "US", "US", "GB", "GB", "DE", "DE", "FR", "ES", "IT", "NL", "SE",
	"PL", "JP", "CN", "KR", "BR", "IN", "NG", "CA", "AU", "IE", "DK", "MX",
};

/* Not ISO 3166 alpha-2, but what old rows hold anyway. */
static const char *const bad_countries[] = {
	"UK", "XX", "ZZ", "Germany", "usa", "EU", "??",
};

static const char *const statuses[] = {
	"pending", "paid", "shipped", "shipped", "delivered", "delivered",
	"delivered", "cancelled", "returned",
};

static const char *const dirty_statuses[] = {
	"SHIPPED", "Delivered", "shipped ", "canceled",
};

static const char *const notes[] = {
	"Leave at the door",
	"Call before delivery",
	"Gift wrap, please",
	"Livraison après 18h",
	"Bitte beim Nachbarn abgeben",
	"請在工作日送貨",
	"置き配希望",
	"Fragile — handle with care",
	"Happy birthday! 🎂🎉",
	"Deliver to back entrance 🚪",
	"Customer says: \"urgent\"",
	"Line one\nline two",
};

static const char *const audit_who[] = {
	"admin", "batch", "j.smith", "ops", "cron", "système",
};

static const char *const audit_what[] = {
	"login",           "price update",   "export customers",
	"nightly reindex", "refund issued",  "password reset",
	"order edited",    "mise à jour ✓",
};

/* ---- small helpers ---- */

static int die_usage(const char *fmt, ...)
{
	va_list ap;
	fputs("mkshop: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nusage: mkshop OUT.db [--customers N] [--orders N] [--items-per-order N]"
	      " [--seed N] [--force]\n"
	      "       mkshop OUT.db --bench-rows N [--seed N] [--force]\n",
	      stderr);
	return 2;
}

/* Parses a non-negative decimal integer no larger than max; 0 on success. */
static int parse_count(const char *s, long long max, long long *out)
{
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* 'YYYY-MM-DD HH:MM:SS' of a Unix time, in UTC. */
static void fmt_datetime(char *buf, size_t len, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void lower_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

static void upper_ascii(char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs SQL with no result rows; prints the error and returns -1 on failure. */
static int exec_sql(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		fprintf(stderr, "mkshop: %s\n", err ? err : sqlite3_errmsg(db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **out)
{
	if (sqlite3_prepare_v2(db, sql, -1, out, NULL) != SQLITE_OK) {
		fprintf(stderr, "mkshop: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* Steps an INSERT once and resets it; -1 on failure. */
static int step_insert(sqlite3 *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "mkshop: insert: %s\n", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int col, const char *s)
{
	if (s)
		sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st, col);
}

/* ---- the shop ---- */

struct shop_opts {
	long long customers;
	long long orders;
	long long items_per_order;
};

struct shop_counts {
	long long customers, orders, items, audit;
	long long dirty, orphans, duplicates;
};

static const char shop_schema[] =
	"CREATE TABLE customers(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  name TEXT,\n"
	"  email TEXT,\n"
	"  country TEXT,\n"
	"  signup DATETIME,\n"
	"  balance NUMERIC(14,2),\n"
	"  active TEXT,\n"
	"  fax TEXT\n"
	");\n"
	"CREATE TABLE orders(\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  customer_id INTEGER REFERENCES customers(id),\n"
	"  ordered_at DATETIME,\n"
	"  status TEXT,\n"
	"  total NUMERIC(12,2),\n"
	"  note TEXT\n"
	");\n"
	"CREATE TABLE order_items(\n"
	"  order_id INTEGER REFERENCES orders(id),\n"
	"  line INTEGER,\n"
	"  sku TEXT,\n"
	"  qty INTEGER,\n"
	"  price NUMERIC(10,2),\n"
	"  PRIMARY KEY(order_id, line)\n"
	");\n"
	"CREATE TABLE audit_log(at DATETIME, who TEXT, what TEXT);\n";

/* 2005-01-01 .. 2024-12-31, UTC. */
#define T_START INT64_C(1104537600)
#define T_END INT64_C(1735689599)

static int make_customers(sqlite3 *db, pcg32 *r, const struct shop_opts *o,
			  int64_t *signup, struct shop_counts *c)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	char name[128], email[192], when[32], fax[32];

	if (prepare(db, "INSERT INTO customers VALUES(?,?,?,?,?,?,?,?)", &st) < 0)
		goto out;
	for (long long id = 1; id <= o->customers; id++) {
		const char *ascii1, *ascii2 = NULL;
		int dirty = 0;

		if (chance(r, 30)) {
			const struct name *n = &PICK(r, cjk_names);
			snprintf(name, sizeof(name), "%s", n->text);
			ascii1 = n->ascii;
		} else {
			const struct name *f = &PICK(r, first_names);
			const struct name *l = &PICK(r, last_names);
			snprintf(name, sizeof(name), "%s %s", f->text, l->text);
			ascii1 = f->ascii;
			ascii2 = l->ascii;
		}
		if (chance(r, 20)) { /* typed with stray spaces */
			char tmp[128];
			snprintf(tmp, sizeof(tmp), "%s", name);
			uint32_t k = rnd_below(r, 3);
			snprintf(name, sizeof(name), "%s%s%s", k != 1 ? " " : "", tmp,
				 k != 0 ? "  " : "");
			dirty = 1;
		}

		const char *domain = PICK(r, domains);
		if (ascii2)
			snprintf(email, sizeof(email), "%s.%s%lld@%s", ascii1, ascii2, id % 1000, domain);
		else
			snprintf(email, sizeof(email), "%s%lld@%s", ascii1, id % 1000, domain);
		lower_ascii(email);
		const char *email_val = email;
		uint32_t e = rnd_below(r, 1000);
		if (e < 20) { /* entered in capitals */
			upper_ascii(email);
			dirty = 1;
		} else if (e < 35) { /* malformed */
			char *at = strchr(email, '@');
			switch (rnd_below(r, 4)) {
			case 0: /* no @ */
				if (at)
					*at = '.';
				break;
			case 1: /* double @ */
				if (at) {
					char tmp[192];
					snprintf(tmp, sizeof(tmp), "%.*s@@%s", (int)(at - email), email, at + 1);
					snprintf(email, sizeof(email), "%s", tmp);
				}
				break;
			case 2: /* no domain */
				if (at)
					at[1] = '\0';
				break;
			default:
				snprintf(email, sizeof(email), "n/a");
				break;
			}
			dirty = 1;
		} else if (e < 45) {
			email_val = NULL;
			dirty = 1;
		}

		const char *country = PICK(r, countries);
		uint32_t k = rnd_below(r, 1000);
		if (k < 12) {
			country = NULL;
			dirty = 1;
		} else if (k < 22) {
			country = "";
			dirty = 1;
		} else if (k < 32) {
			country = PICK(r, bad_countries);
			dirty = 1;
		}

		signup[id - 1] = rnd_range(r, T_START, T_END - 86400 * 30);
		fmt_datetime(when, sizeof(when), signup[id - 1]);

		int64_t cents = rnd_range(r, 0, 500000);
		if (chance(r, 20)) { /* refunds gone wrong */
			cents = -rnd_range(r, 1, 20000);
			dirty = 1;
		} else if (chance(r, 300)) {
			cents = 0;
		}

		const char *active = chance(r, 850) ? "Y" : "N";
		uint32_t a = rnd_below(r, 1000);
		if (a < 25) {
			active = a < 10 ? "y" : a < 18 ? "n" : "1";
			dirty = 1;
		}

		const char *fax_val = NULL;
		uint32_t f = rnd_below(r, 1000);
		if (f < 60) {
			snprintf(fax, sizeof(fax), "+%u %03u %04u", 1 + rnd_below(r, 98),
				 rnd_below(r, 1000), rnd_below(r, 10000));
			fax_val = fax;
		} else if (f < 80) {
			fax_val = "";
		}

		sqlite3_bind_int64(st, 1, id);
		bind_text_or_null(st, 2, name);
		bind_text_or_null(st, 3, email_val);
		bind_text_or_null(st, 4, country);
		bind_text_or_null(st, 5, when);
		sqlite3_bind_double(st, 6, (double)cents / 100.0);
		bind_text_or_null(st, 7, active);
		bind_text_or_null(st, 8, fax_val);
		if (step_insert(db, st) < 0)
			goto out;
		c->customers++;
		c->dirty += dirty;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static int make_orders(sqlite3 *db, pcg32 *r, const struct shop_opts *o,
		       const int64_t *signup, struct shop_counts *c)
{
	sqlite3_stmt *ord = NULL, *item = NULL;
	int ret = -1;
	char when[32], sku[32];
	long long max_lines = o->items_per_order > 0 ? 2 * o->items_per_order - 1 : 0;

	if (prepare(db, "INSERT INTO orders VALUES(?,?,?,?,?,?)", &ord) < 0 ||
	    prepare(db, "INSERT INTO order_items VALUES(?,?,?,?,?)", &item) < 0)
		goto out;
	for (long long id = 1; id <= o->orders; id++) {
		int dirty = 0;
		int64_t cust, t;

		if (o->customers == 0 || chance(r, 5)) { /* customer deleted long ago */
			cust = o->customers + rnd_range(r, 1, 1000);
			t = rnd_range(r, T_START, T_END);
			c->orphans++;
			dirty = 1;
		} else {
			cust = rnd_range(r, 1, o->customers);
			t = rnd_range(r, signup[cust - 1], T_END);
		}
		fmt_datetime(when, sizeof(when), t);

		const char *status = PICK(r, statuses);
		if (chance(r, 15)) {
			status = PICK(r, dirty_statuses);
			dirty = 1;
		}

		const char *note = NULL;
		uint32_t n = rnd_below(r, 1000);
		if (n < 150)
			note = "";
		else if (n < 300)
			note = PICK(r, notes);

		/* Lines first: the order's total is their sum. */
		long long lines = max_lines > 0 ? rnd_range(r, 1, max_lines) : 0;
		int64_t total = 0;
		for (long long line = 1; line <= lines; line++) {
			int64_t qty = rnd_range(r, 1, 5);
			if (chance(r, 5)) { /* a return booked as a negative line */
				qty = -qty;
				dirty = 1;
			}
			int64_t price = rnd_range(r, 99, 25000);
			snprintf(sku, sizeof(sku), "SKU-%05u", rnd_below(r, 20000));
			total += qty * price;

			sqlite3_bind_int64(item, 1, id);
			sqlite3_bind_int64(item, 2, line);
			sqlite3_bind_text(item, 3, sku, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(item, 4, qty);
			sqlite3_bind_double(item, 5, (double)price / 100.0);
			if (step_insert(db, item) < 0)
				goto out;
			c->items++;
		}

		sqlite3_bind_int64(ord, 1, id);
		sqlite3_bind_int64(ord, 2, cust);
		sqlite3_bind_text(ord, 3, when, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(ord, 4, status, -1, SQLITE_STATIC);
		sqlite3_bind_double(ord, 5, (double)total / 100.0);
		bind_text_or_null(ord, 6, note);
		if (step_insert(db, ord) < 0)
			goto out;
		c->orders++;
		c->dirty += dirty;
	}
	ret = 0;
out:
	sqlite3_finalize(ord);
	sqlite3_finalize(item);
	return ret;
}

/* About one audit row per ten orders; some written twice, as a retrying
 * logger did, so the keyless table holds exact duplicates. */
static int make_audit(sqlite3 *db, pcg32 *r, const struct shop_opts *o, struct shop_counts *c)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	char when[32];
	long long rows = o->orders / 10 + 10;
	int64_t t = T_START;

	if (prepare(db, "INSERT INTO audit_log VALUES(?,?,?)", &st) < 0)
		goto out;
	for (long long i = 0; i < rows; i++) {
		t += rnd_range(r, 0, 2 * (T_END - T_START) / rows);
		fmt_datetime(when, sizeof(when), t);
		const char *who = PICK(r, audit_who);
		const char *what = PICK(r, audit_what);
		int copies = chance(r, 30) ? 2 : 1;
		for (int k = 0; k < copies; k++) {
			sqlite3_bind_text(st, 1, when, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 2, who, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, what, -1, SQLITE_STATIC);
			if (step_insert(db, st) < 0)
				goto out;
			c->audit++;
		}
		c->duplicates += copies - 1;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static int make_shop(sqlite3 *db, pcg32 *r, const struct shop_opts *o, struct shop_counts *c)
{
	int64_t *signup = NULL;
	int ret = -1;

	signup = calloc(o->customers > 0 ? (size_t)o->customers : 1, sizeof(*signup));
	if (!signup) {
		fprintf(stderr, "mkshop: out of memory for %lld customers\n", o->customers);
		goto out;
	}
	if (exec_sql(db, shop_schema) < 0 ||
	    make_customers(db, r, o, signup, c) < 0 ||
	    make_orders(db, r, o, signup, c) < 0 ||
	    make_audit(db, r, o, c) < 0)
		goto out;
	ret = 0;
out:
	free(signup);
	return ret;
}

/* ---- the bench table ---- */

static const char alnum[] =
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ";

static void rnd_text(pcg32 *r, char *buf, size_t minlen, size_t maxlen)
{
	size_t n = (size_t)rnd_range(r, (int64_t)minlen, (int64_t)maxlen);
	for (size_t i = 0; i < n; i++)
		buf[i] = alnum[rnd_below(r, sizeof(alnum) - 1)];
	buf[n] = '\0';
}

static int make_bench(sqlite3 *db, pcg32 *r, long long rows)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	char c[48], d[32];

	if (exec_sql(db, "CREATE TABLE bench(id INTEGER PRIMARY KEY, a INTEGER, b REAL,"
			 " c TEXT, d TEXT, e INTEGER)") < 0 ||
	    prepare(db, "INSERT INTO bench VALUES(?,?,?,?,?,?)", &st) < 0)
		goto out;
	for (long long id = 1; id <= rows; id++) {
		int64_t a = (int64_t)(((uint64_t)pcg32_next(r) << 32) | pcg32_next(r));
		double b = (double)(int32_t)pcg32_next(r) / 1000.0 + (double)pcg32_next(r) / 4294967296.0;
		rnd_text(r, c, 10, 40);
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_int64(st, 2, a);
		sqlite3_bind_double(st, 3, b);
		sqlite3_bind_text(st, 4, c, -1, SQLITE_STATIC);
		if (chance(r, 100)) {
			sqlite3_bind_null(st, 5);
		} else {
			rnd_text(r, d, 5, 20);
			sqlite3_bind_text(st, 5, d, -1, SQLITE_STATIC);
		}
		sqlite3_bind_int64(st, 6, rnd_range(r, 0, 999));
		if (step_insert(db, st) < 0)
			goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* ---- main ---- */

static void remove_db_files(const char *path)
{
	static const char *const suffixes[] = {"", "-journal", "-wal", "-shm"};
	char p[PATH_MAX];
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		unlink(p);
	}
}

int main(int argc, char **argv)
{
	struct shop_opts o = {.customers = 10000, .orders = 30000, .items_per_order = 2};
	struct shop_counts c = {0};
	const char *out_path = NULL;
	long long bench_rows = -1, seed = 20240601;
	int force = 0, ret = 1;
	sqlite3 *db = NULL;
	char tmp_path[PATH_MAX];
	struct stat sb;
	pcg32 rng;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		long long *dst = NULL;
		long long max = 100000000;

		if (strcmp(a, "--force") == 0) {
			force = 1;
			continue;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			die_usage("writes a sample legacy-shop or bench SQLite database");
			return 0;
		}
		if (strcmp(a, "--customers") == 0)
			dst = &o.customers;
		else if (strcmp(a, "--orders") == 0)
			dst = &o.orders;
		else if (strcmp(a, "--items-per-order") == 0) {
			dst = &o.items_per_order;
			max = 1000;
		} else if (strcmp(a, "--bench-rows") == 0) {
			dst = &bench_rows;
			max = 2000000000;
		} else if (strcmp(a, "--seed") == 0) {
			dst = &seed;
			max = LLONG_MAX;
		} else if (a[0] == '-')
			return die_usage("unknown option %s", a);
		else if (out_path)
			return die_usage("one output file only (got %s and %s)", out_path, a);
		else {
			out_path = a;
			continue;
		}
		if (i + 1 >= argc)
			return die_usage("%s needs a number", a);
		if (parse_count(argv[++i], max, dst) < 0)
			return die_usage("%s: not a number from 0 to %lld: %s", a, max, argv[i]);
	}
	if (!out_path)
		return die_usage("no output file");
	if (stat(out_path, &sb) == 0 && !force) {
		fprintf(stderr, "mkshop: %s exists; pass --force to replace it\n", out_path);
		return 2;
	}
	if ((size_t)snprintf(tmp_path, sizeof(tmp_path), "%s.tmp", out_path) >= sizeof(tmp_path)) {
		fprintf(stderr, "mkshop: output path too long: %s\n", out_path);
		return 2;
	}

	double t0 = now_seconds();
	remove_db_files(tmp_path);
	if (sqlite3_open(tmp_path, &db) != SQLITE_OK) {
		fprintf(stderr, "mkshop: cannot create %s: %s\n", tmp_path,
			db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	/* Nothing to recover if we crash: the .tmp file is thrown away. */
	if (exec_sql(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
			 " PRAGMA cache_size=-65536; BEGIN") < 0)
		goto out;

	pcg32_seed(&rng, (uint64_t)seed, 54);
	if (bench_rows >= 0) {
		if (make_bench(db, &rng, bench_rows) < 0)
			goto out;
	} else if (make_shop(db, &rng, &o, &c) < 0) {
		goto out;
	}
	if (exec_sql(db, "COMMIT") < 0)
		goto out;
	if (sqlite3_close(db) != SQLITE_OK) {
		fprintf(stderr, "mkshop: closing %s: %s\n", tmp_path, sqlite3_errmsg(db));
		goto out;
	}
	db = NULL;
	if (force)
		remove_db_files(out_path);
	if (rename(tmp_path, out_path) != 0) {
		fprintf(stderr, "mkshop: cannot rename %s to %s: %s\n", tmp_path, out_path,
			strerror(errno));
		goto out;
	}

	double secs = now_seconds() - t0;
	if (bench_rows >= 0)
		fprintf(stderr, "mkshop: %s: bench %lld rows in %.1f s\n", out_path, bench_rows, secs);
	else
		fprintf(stderr,
			"mkshop: %s: %lld customers, %lld orders, %lld order_items, %lld audit_log"
			" (%lld dirty rows, %lld orphan orders, %lld duplicate audit rows) in %.1f s\n",
			out_path, c.customers, c.orders, c.items, c.audit, c.dirty, c.orphans,
			c.duplicates, secs);
	ret = 0;
out:
	if (db) {
		sqlite3_close(db);
		remove_db_files(tmp_path);
	} else if (ret != 0) {
		remove_db_files(tmp_path);
	}
	return ret;
}
