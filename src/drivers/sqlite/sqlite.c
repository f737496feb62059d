/* Placeholder: the SQLite driver is being written (issue 2). */
#include "barge/barge.h"

static const char *const sqlite_schemes[] = {"sqlite", NULL};

const struct barge_driver barge_sqlite_driver = {
	.name = "sqlite",
	.version = 1,
	.schemes = sqlite_schemes,
};
