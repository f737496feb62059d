/*
 * The driver registry (src/lib/drivers.c): lookup by any of a driver's
 * schemes, a driver of another BARGE_DRIVER_VERSION refused with one line,
 * an unknown scheme named with the known ones, and url.c taking its
 * schemes (and the canonical name) from the registry.
 */
#include "barge/barge.h"
#include "drv.h"
#include "harness.h"

static const char *const good_schemes[] = {"good", "alias", NULL};
static const char *const stale_schemes[] = {"stale", NULL};
static const struct barge_driver good = {
	.name = "gooddrv",
	.version = BARGE_DRIVER_VERSION,
	.schemes = good_schemes,
};
static const struct barge_driver stale = {
	.name = "staledrv",
	.version = BARGE_DRIVER_VERSION + 1,
	.schemes = stale_schemes,
};
static const struct barge_driver *const list[] = {&good, &stale, NULL};

int main(void)
{
	const struct barge_driver *d = NULL;

	CHECK_OK(barge_driver_find_in(&d, list, "good"));
	CHECK(d == &good);
	CHECK_OK(barge_driver_find_in(&d, list, "alias"));
	CHECK(d == &good);

	/* another interface version: refused, one line naming the driver and
	 * both versions */
	d = &good;
	CHECK(barge_driver_find_in(&d, list, "stale") == BARGE_EUSAGE);
	CHECK(d == NULL);
	CHECK(strstr(barge_error_last(), "staledrv") != NULL);
	CHECK(strstr(barge_error_last(), "version 2") != NULL);
	CHECK(strstr(barge_error_last(), "version 1") != NULL);
	CHECK(strchr(barge_error_last(), '\n') == NULL);

	/* unknown: named, with the schemes the list knows */
	CHECK(barge_driver_find_in(&d, list, "nosuch") == BARGE_EUSAGE);
	CHECK(strstr(barge_error_last(), "'nosuch'") != NULL);
	CHECK(strstr(barge_error_last(), "good:, alias:, stale:") != NULL);

	/* the compiled-in drivers all have this build's version */
	for (const struct barge_driver *const *p = barge_drivers(); *p; p++) {
		CHECK((*p)->version == BARGE_DRIVER_VERSION);
		for (const char *const *s = (*p)->schemes; s && *s; s++) {
			CHECK_OK(barge_driver_find(&d, *s));
			CHECK(d == *p);
		}
	}

	/* url.c asks the registry: the canonical scheme is the driver's first */
	struct barge_url *u = NULL;
	CHECK_OK(barge_url_parse(&u, "postgres://h/db"));
	CHECK(u && barge_driver_for_scheme("postgres") != NULL);
	CHECK_STR(u->scheme, barge_driver_for_scheme("postgres")->schemes[0]);
	barge_url_free(u);
	u = NULL;
	CHECK(barge_url_parse(&u, "nosuch://h/db") == BARGE_EUSAGE);
	CHECK(u == NULL);
	CHECK(strstr(barge_error_last(), "sqlite:") != NULL);
	CHECK(barge_driver_for_scheme("nosuch") == NULL);

	/* registration: another version and a taken scheme refused, one line
	 * each; a path driver's URLs parse as paths (BARGE_CAP_PATH) */
	static const char *const taken_schemes[] = {"mine", "sqlite", NULL};
	static const char *const mine_schemes[] = {"mine", NULL};
	const struct barge_driver stale_reg = {
		.name = "stalereg", .version = BARGE_DRIVER_VERSION + 1,
		.schemes = mine_schemes, .open = barge_drivers()[0]->open,
		.close = barge_drivers()[0]->close,
	};
	CHECK(barge_driver_register(&stale_reg) == BARGE_EUSAGE);
	CHECK(strstr(barge_error_last(), "stalereg") != NULL);
	CHECK(barge_driver_for_scheme("mine") == NULL);
	const struct barge_driver taken = {
		.name = "takenreg", .version = BARGE_DRIVER_VERSION,
		.caps = BARGE_CAP_PATH, .schemes = taken_schemes,
		.open = barge_drivers()[0]->open, .close = barge_drivers()[0]->close,
	};
	CHECK(barge_driver_register(&taken) == BARGE_EUSAGE);
	CHECK(strstr(barge_error_last(), "sqlite: is taken") != NULL);
	CHECK(strchr(barge_error_last(), '\n') == NULL);
	CHECK(barge_driver_for_scheme("mine") == NULL);
	const struct barge_driver mine = { /* lives until main returns */
		.name = "minereg", .version = BARGE_DRIVER_VERSION,
		.caps = BARGE_CAP_PATH, .schemes = mine_schemes,
		.open = barge_drivers()[0]->open, .close = barge_drivers()[0]->close,
	};
	CHECK_OK(barge_driver_register(&mine));
	CHECK(barge_driver_for_scheme("mine") == &mine);
	CHECK_OK(barge_url_parse(&u, "mine:rel/dir"));
	CHECK(u && u->path && strcmp(u->path, "rel/dir") == 0);
	barge_url_free(u);
	return harness_done();
}
