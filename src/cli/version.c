/*
 * barge --version: barge's version, the git revision it was built from,
 * and the version of each library as it runs (not as compiled: a system
 * update changes them), like curl --version and pgcopydb --version.
 */
#include "cli.h"
#include "barge/barge.h"
#include "barge_gitrev.h" /* generated: tools/gitrev.cmake */

#include <libpq-fe.h>
#ifdef BARGE_HAVE_MYSQL
#include <mysql.h>
#endif
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>
#include <yaml.h>
#include <sodium.h>
#include <zlib.h>
#include <zstd.h>

/* "15.18" from PQlibVersion's 150018 (major * 10000 + minor since 10). */
static void pq_version(char *buf, size_t n)
{
	int v = PQlibVersion();
	if (v >= 100000)
		snprintf(buf, n, "%d.%d", v / 10000, v % 10000);
	else
		snprintf(buf, n, "%d.%d.%d", v / 10000, v / 100 % 100, v % 100);
}

int cli_version(void)
{
	char pq[32], pcre[32], xxh[32];
	unsigned x = XXH_versionNumber();
	pq_version(pq, sizeof pq);
	if (pcre2_config(PCRE2_CONFIG_VERSION, pcre) < 0)
		snprintf(pcre, sizeof pcre, "unknown");
	/* "10.42 2022-12-11": the number only */
	pcre[strcspn(pcre, " ")] = '\0';
	snprintf(xxh, sizeof xxh, "%u.%u.%u", x / 10000, x / 100 % 100, x % 100);
	printf("barge %s (git %s)\n", barge_version(), BARGE_GIT_REVISION);
	/* A library linked for a new driver adds its entry here (snappy
	 * has no call that says its version). */
	printf("libraries: libpq/%s sqlite/%s", pq, sqlite3_libversion());
#ifdef BARGE_HAVE_MYSQL
	printf(" libmariadb/%s", mysql_get_client_info());
#endif
	printf(" libyaml/%s xxhash/%s pcre2/%s zlib/%s zstd/%s libsodium/%s\n",
	       yaml_get_version_string(), xxh, pcre, zlibVersion(),
	       ZSTD_versionString(), sodium_version_string());
	return EXIT_DONE;
}
