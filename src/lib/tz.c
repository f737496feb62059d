/*
 * TZif reader (RFC 8536): the version 2+ 64-bit block of transitions, and
 * the footer's POSIX TZ rule for instants after the last transition (the
 * "slim" files tzdata may ship stop their table early and rely on it).
 */
#include "tz.h"
#include "civil.h"
#include "barge/barge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TZ_FILE_MAX (1u << 20)

struct tz_rule_date {
	int month, week, wday; /* Mm.w.d */
	int32_t secs;          /* local time of day of the change */
};

struct barge_tz {
	char name[128];
	size_t ntrans;
	int64_t *trans;   /* UTC instants, ascending */
	uint8_t *idx;     /* type after each transition */
	size_t ntypes;
	int32_t *utoff;   /* per type */
	int32_t first_off; /* before the first transition */
	int has_rule;     /* the footer has a usable rule */
	int32_t std_off, dst_off;
	int rule_dst;     /* the rule has a daylight part */
	struct tz_rule_date start, end;
};

void barge_tz_free(struct barge_tz *z)
{
	if (!z)
		return;
	free(z->trans);
	free(z->idx);
	free(z->utoff);
	free(z);
}

const char *barge_tz_name(const struct barge_tz *z)
{
	return z->name;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* ---- the POSIX TZ footer, e.g. EST5EDT,M3.2.0,M11.1.0 ---------------- */

static const char *rule_name(const char *p)
{
	if (*p == '<') {
		const char *e = strchr(p, '>');
		return e ? e + 1 : NULL;
	}
	const char *s = p;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
		p++;
	return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] -> seconds; NULL on a bad form. */
static const char *rule_time(const char *p, int32_t *out)
{
	int neg = 0;
	long v[3] = {0, 0, 0};
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	for (int i = 0; i < 3; i++) {
		if (i && *p != ':')
			break;
		if (i)
			p++;
		if (*p < '0' || *p > '9')
			return NULL;
		char *e;
		v[i] = strtol(p, &e, 10);
		p = e;
	}
	if (v[0] > 167)
		return NULL;
	*out = (int32_t)((v[0] * 3600 + v[1] * 60 + v[2]) * (neg ? -1 : 1));
	return p;
}

static const char *rule_date(const char *p, struct tz_rule_date *d)
{
	char *e;
	if (*p != 'M')
		return NULL; /* Jn and n forms: no current zone uses them */
	d->month = (int)strtol(p + 1, &e, 10);
	if (*e != '.')
		return NULL;
	d->week = (int)strtol(e + 1, &e, 10);
	if (*e != '.')
		return NULL;
	d->wday = (int)strtol(e + 1, &e, 10);
	p = e;
	if (d->month < 1 || d->month > 12 || d->week < 1 || d->week > 5 ||
	    d->wday < 0 || d->wday > 6)
		return NULL;
	d->secs = 7200;
	if (*p == '/' && !(p = rule_time(p + 1, &d->secs)))
		return NULL;
	return p;
}

static void parse_rule(struct barge_tz *z, const char *p)
{
	int32_t off;
	if (!(p = rule_name(p)) || !(p = rule_time(p, &off)))
		return;
	z->std_off = -off; /* POSIX counts west */
	if (!*p) {
		z->has_rule = 1;
		return;
	}
	if (!(p = rule_name(p)))
		return;
	z->dst_off = z->std_off + 3600;
	if (*p && *p != ',') {
		if (!(p = rule_time(p, &off)))
			return;
		z->dst_off = -off;
	}
	if (*p++ != ',' || !(p = rule_date(p, &z->start)) || *p++ != ',' ||
	    !(p = rule_date(p, &z->end)) || *p)
		return;
	z->rule_dst = 1;
	z->has_rule = 1;
}

/* ---- calendar ---------------------------------------------------------- */

static int64_t year_of(int64_t secs)
{
	int64_t z = (secs >= 0 ? secs : secs - 86399) / 86400 + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	return yoe + era * 400 + (mp >= 10);
}

/* Local seconds of a rule date in year y. */
static int64_t rule_local(const struct tz_rule_date *d, int64_t y)
{
	static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	int dim = d->month == 2 && leap ? 29 : dm[d->month - 1];
	int64_t first = barge_days_from_civil(y, d->month, 1);
	int dow1 = (int)(((first + 4) % 7 + 7) % 7);
	int day = 1 + (d->wday - dow1 + 7) % 7 + 7 * (d->week - 1);
	while (day > dim)
		day -= 7;
	return (first + day - 1) * 86400 + d->secs;
}

static int32_t rule_offset(const struct barge_tz *z, int64_t utc)
{
	if (!z->rule_dst)
		return z->std_off;
	int64_t y = year_of(utc + z->std_off);
	int64_t s = rule_local(&z->start, y) - z->std_off;
	int64_t e = rule_local(&z->end, y) - z->dst_off;
	int in_dst = s < e ? (utc >= s && utc < e) : !(utc >= e && utc < s);
	return in_dst ? z->dst_off : z->std_off;
}

int32_t barge_tz_offset(const struct barge_tz *z, int64_t utc)
{
	if (z->ntrans == 0 || utc < z->trans[0])
		return z->ntrans == 0 && z->has_rule ? rule_offset(z, utc)
						     : z->first_off;
	if (utc >= z->trans[z->ntrans - 1] && z->has_rule)
		return rule_offset(z, utc);
	size_t lo = 0, hi = z->ntrans; /* last transition <= utc */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (z->trans[mid] <= utc)
			lo = mid;
		else
			hi = mid;
	}
	return z->utoff[z->idx[lo]];
}

int barge_tz_to_utc(const struct barge_tz *z, int64_t local, int64_t *utc,
		    int *repeated)
{
	/* The offsets in force a day either side cover every DST change
	 * (two changes less than a day apart do not occur in tzdata). */
	int32_t cand[3] = {barge_tz_offset(z, local - 86400),
			   barge_tz_offset(z, local),
			   barge_tz_offset(z, local + 86400)};
	int64_t sol[3];
	int n = 0;
	for (int i = 0; i < 3; i++) {
		int64_t u = local - cand[i];
		if (barge_tz_offset(z, u) != cand[i])
			continue;
		int dup = 0;
		for (int j = 0; j < n; j++)
			dup |= sol[j] == u;
		if (!dup)
			sol[n++] = u;
	}
	if (n == 0)
		return BARGE_ENOTFOUND;
	int64_t best = sol[0];
	for (int j = 1; j < n; j++)
		if (sol[j] < best)
			best = sol[j];
	*utc = best;
	*repeated = n > 1;
	return 0;
}

/* ---- loading ------------------------------------------------------------ */

static int name_ok(const char *name)
{
	if (!name[0] || name[0] == '/' || strlen(name) >= 100 || strstr(name, ".."))
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || strchr("/_+-", *p)))
			return 0;
	return 1;
}

static int parse_tzif(struct barge_tz *z, const unsigned char *p, size_t n)
{
	if (n < 44 || memcmp(p, "TZif", 4) != 0)
		return -1;
	uint32_t c[6];
	for (int i = 0; i < 6; i++)
		c[i] = be32(p + 20 + 4 * i);
	size_t v1 = (size_t)c[3] * 5 + (size_t)c[4] * 6 + c[5] + (size_t)c[2] * 8 +
		    c[1] + c[0];
	if (p[4] < '2' || 44 + v1 + 44 > n)
		return -1;
	p += 44 + v1;
	n -= 44 + v1;
	if (memcmp(p, "TZif", 4) != 0)
		return -1;
	for (int i = 0; i < 6; i++)
		c[i] = be32(p + 20 + 4 * i);
	size_t need = 44 + (size_t)c[3] * 9 + (size_t)c[4] * 6 + c[5] +
		      (size_t)c[2] * 12 + c[1] + c[0];
	if (c[4] == 0 || c[4] > 256 || need > n)
		return -1;
	z->ntrans = c[3];
	z->ntypes = c[4];
	z->trans = calloc(z->ntrans + 1, sizeof *z->trans);
	z->idx = calloc(z->ntrans + 1, 1);
	z->utoff = calloc(z->ntypes, sizeof *z->utoff);
	if (!z->trans || !z->idx || !z->utoff)
		return -1;
	const unsigned char *q = p + 44;
	for (size_t i = 0; i < z->ntrans; i++, q += 8)
		z->trans[i] = be64(q);
	for (size_t i = 0; i < z->ntrans; i++, q++) {
		z->idx[i] = *q;
		if (*q >= z->ntypes)
			return -1;
	}
	z->first_off = -1;
	for (size_t i = 0; i < z->ntypes; i++, q += 6) {
		z->utoff[i] = (int32_t)be32(q);
		if (z->first_off == -1 && !q[4])
			z->first_off = z->utoff[i];
	}
	if (z->first_off == -1)
		z->first_off = z->utoff[0];
	const unsigned char *f = p + need, *end = p + n;
	if (f < end && *f == '\n') {
		const unsigned char *nl = memchr(f + 1, '\n', (size_t)(end - f - 1));
		char rule[256];
		size_t len = nl ? (size_t)(nl - f - 1) : 0;
		if (nl && len < sizeof rule) {
			memcpy(rule, f + 1, len);
			rule[len] = '\0';
			parse_rule(z, rule);
		}
	}
	return 0;
}

int barge_tz_load(struct barge_tz **out, const char *name)
{
	struct barge_tz *z = NULL;
	unsigned char *buf = NULL;
	FILE *f = NULL;
	char path[512];
	int err = 0;

	*out = NULL;
	if (!name_ok(name))
		return barge_error_set(BARGE_EUSAGE, "unknown time zone '%s'", name);
	const char *dir = getenv("BARGE_TZDIR");
	snprintf(path, sizeof path, "%s/%s", dir ? dir : "/usr/share/zoneinfo", name);
	z = calloc(1, sizeof *z);
	buf = malloc(TZ_FILE_MAX);
	if (!z || !buf) {
		err = barge_error_set(BARGE_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(z->name, sizeof z->name, "%s", name);
	if (!(f = fopen(path, "rb"))) {
		err = barge_error_set(BARGE_EUSAGE,
				      "unknown time zone '%s' (no %s; is tzdata installed?)",
				      name, path);
		goto out;
	}
	size_t n = fread(buf, 1, TZ_FILE_MAX, f);
	if (parse_tzif(z, buf, n) < 0) {
		err = barge_error_set(BARGE_EUSAGE, "time zone '%s': %s is not a "
				      "TZif file barge can read", name, path);
		goto out;
	}
	*out = z;
	z = NULL;
out:
	if (f)
		fclose(f);
	free(buf);
	barge_tz_free(z);
	return err;
}
