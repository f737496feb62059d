/*
 * The registry of compiled-in drivers, looked up by URL scheme.
 */
#include "barge/barge.h"

#include <string.h>

extern const struct barge_driver barge_sqlite_driver;
extern const struct barge_driver barge_postgres_driver;

#define NBUILTIN 2
#define MAX_REGISTERED 8

/* the compiled-in drivers, then the registered ones (NULL-terminated) */
static const struct barge_driver *all_drivers[NBUILTIN + MAX_REGISTERED + 1] = {
	&barge_sqlite_driver,
	&barge_postgres_driver,
	NULL,
};

const struct barge_driver *const *barge_drivers(void)
{
	return all_drivers;
}

const struct barge_driver *barge_driver_for_scheme(const char *scheme)
{
	for (size_t i = 0; all_drivers[i]; i++)
		for (const char *const *s = all_drivers[i]->schemes; s && *s; s++)
			if (strcmp(*s, scheme) == 0)
				return all_drivers[i];
	return NULL;
}

int barge_driver_register(const struct barge_driver *d)
{
	size_t n = 0;
	if (!d || !d->name || !d->schemes || !d->open || !d->close)
		return barge_error_set(BARGE_EUSAGE, "a driver needs a name, schemes, "
				       "open and close");
	for (const char *const *s = d->schemes; *s; s++)
		if (barge_driver_for_scheme(*s))
			return barge_error_set(BARGE_EUSAGE, "the %s driver's scheme %s: "
					       "is taken", d->name, *s);
	while (all_drivers[n])
		n++;
	if (n >= NBUILTIN + MAX_REGISTERED)
		return barge_error_set(BARGE_EUSAGE, "no room to register the %s "
				       "driver (%d at most)", d->name, MAX_REGISTERED);
	all_drivers[n] = d;
	return 0;
}
