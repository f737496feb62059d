/*
 * The registry of compiled-in drivers, looked up by URL scheme. It is the
 * one list of drivers and, through each driver's `schemes`, of the URL
 * schemes barge knows: url.c asks here. A driver written for another
 * version of the driver interface (BARGE_DRIVER_VERSION) is refused.
 */
#include "drv.h"

#include <stdio.h>
#include <string.h>

extern const struct barge_driver barge_sqlite_driver;
extern const struct barge_driver barge_postgres_driver;
extern const struct barge_driver barge_file_driver;
#ifdef BARGE_HAVE_MYSQL
extern const struct barge_driver barge_mysql_driver;
#define NBUILTIN 4
#else
#define NBUILTIN 3
#endif
#define MAX_REGISTERED 8

/* the compiled-in drivers, then the registered ones (NULL-terminated) */
static const struct barge_driver *all_drivers[NBUILTIN + MAX_REGISTERED + 1] = {
	&barge_sqlite_driver,
	&barge_postgres_driver,
	&barge_file_driver,
#ifdef BARGE_HAVE_MYSQL
	&barge_mysql_driver,
#endif
	NULL,
};

const struct barge_driver *const *barge_drivers(void)
{
	return all_drivers;
}

/* "sqlite:, postgresql:, postgres:" into buf (cut short if it must be). */
static void scheme_list(char *buf, size_t size,
			const struct barge_driver *const *list)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; list[i]; i++)
		for (const char *const *s = list[i]->schemes; s && *s; s++) {
			int n = snprintf(buf + len, size - len, "%s%s:",
					 len ? ", " : "", *s);
			if (n < 0 || (size_t)n >= size - len)
				return;
			len += (size_t)n;
		}
}

void barge_driver_schemes(char *buf, size_t size)
{
	scheme_list(buf, size, all_drivers);
}

int barge_driver_find_in(const struct barge_driver **out,
			 const struct barge_driver *const *list,
			 const char *scheme)
{
	char known[256];

	*out = NULL;
	for (size_t i = 0; list[i]; i++)
		for (const char *const *s = list[i]->schemes; s && *s; s++) {
			if (strcmp(*s, scheme) != 0)
				continue;
			if (list[i]->version != BARGE_DRIVER_VERSION)
				return barge_error_set(BARGE_EUSAGE,
						       "the %s driver is written for driver interface "
						       "version %d, this build of barge has version %d: "
						       "rebuild the driver against include/barge/driver.h",
						       list[i]->name, list[i]->version,
						       BARGE_DRIVER_VERSION);
			*out = list[i];
			return 0;
		}
	scheme_list(known, sizeof known, list);
	return barge_error_set(BARGE_EUSAGE, "unknown URL scheme '%s' (this build knows %s)",
			       scheme, known);
}

int barge_driver_find(const struct barge_driver **out, const char *scheme)
{
	return barge_driver_find_in(out, all_drivers, scheme);
}

const struct barge_driver *barge_driver_for_scheme(const char *scheme)
{
	const struct barge_driver *d = NULL;
	barge_driver_find(&d, scheme);
	return d;
}

int barge_driver_register(const struct barge_driver *d)
{
	size_t n = 0;
	if (!d || !d->name || !d->schemes || !d->open || !d->close)
		return barge_error_set(BARGE_EUSAGE, "a driver needs a name, schemes, "
				       "open and close");
	if (d->version != BARGE_DRIVER_VERSION)
		return barge_error_set(BARGE_EUSAGE,
				       "the %s driver is written for driver interface "
				       "version %d, this build of barge has version %d",
				       d->name, d->version, BARGE_DRIVER_VERSION);
	for (const char *const *s = d->schemes; *s; s++) {
		const struct barge_driver *taken = NULL;
		if (barge_driver_find(&taken, *s) == 0 || taken)
			return barge_error_set(BARGE_EUSAGE, "the %s driver's scheme %s: "
					       "is taken", d->name, *s);
		barge_error_clear(); /* not found: the scheme is free */
	}
	while (all_drivers[n])
		n++;
	if (n >= NBUILTIN + MAX_REGISTERED)
		return barge_error_set(BARGE_EUSAGE, "no room to register the %s "
				       "driver (%d at most)", d->name, MAX_REGISTERED);
	all_drivers[n] = d;
	return 0;
}
