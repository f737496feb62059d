/*
 * The registry of compiled-in drivers, looked up by URL scheme.
 */
#include "barge/barge.h"

#include <string.h>

extern const struct barge_driver barge_sqlite_driver;
extern const struct barge_driver barge_postgres_driver;

static const struct barge_driver *const all_drivers[] = {
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
