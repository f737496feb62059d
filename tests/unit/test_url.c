#include "barge/barge.h"
#include "harness.h"

int main(void)
{
	struct barge_url *u = NULL;

	CHECK_OK(barge_url_parse(&u, "sqlite:///abs/path.db"));
	CHECK_STR(u->scheme, "sqlite");
	CHECK_STR(u->path, "/abs/path.db");
	barge_url_free(u);

	CHECK_OK(barge_url_parse(&u, "sqlite:rel/p%20q.db?mode=ro"));
	CHECK_STR(u->path, "rel/p q.db");
	CHECK_STR(barge_url_param(u, "mode"), "ro");
	barge_url_free(u);

	/* hex digits in either case; a '%' without two of them stays */
	CHECK_OK(barge_url_parse(&u, "sqlite:a%2Fb%2fc%4a%zz%4.db"));
	CHECK_STR(u->path, "a/b/cJ%zz%4.db");
	barge_url_free(u);

	CHECK_OK(barge_url_parse(&u, "postgres://bob:s3cr%40t@db.local:6543/shop?sslmode=require"));
	CHECK_STR(u->scheme, "postgresql");
	CHECK_STR(u->user, "bob");
	CHECK_STR(u->password, "s3cr@t");
	CHECK_STR(u->host, "db.local");
	CHECK_STR(u->port, "6543");
	CHECK_STR(u->path, "shop");
	CHECK_STR(barge_url_param(u, "sslmode"), "require");
	CHECK_STR(barge_url_redacted(u), "postgres://bob:***@db.local:6543/shop?sslmode=require");
	barge_url_free(u);

	CHECK_OK(barge_url_parse(&u, "postgresql://root@[::1]:3306/x"));
	CHECK_STR(u->host, "::1");
	CHECK_STR(u->port, "3306");
	CHECK(u->password == NULL);
	barge_url_free(u);

	u = NULL;
	CHECK(barge_url_parse(&u, "oracle://scott:tiger@h/db") == BARGE_EUSAGE);
	CHECK(strstr(barge_error_last(), "oracle") != NULL);
	CHECK(strstr(barge_error_last(), "tiger") == NULL);
	CHECK(barge_url_parse(&u, "just-a-path.db") == BARGE_EUSAGE);
	CHECK(barge_url_parse(&u, "postgresql://u:pw@h:12x/db") == BARGE_EUSAGE);
	CHECK(strstr(barge_error_last(), "pw") == NULL);
	CHECK(barge_url_parse(&u, "sqlite:") == BARGE_EUSAGE);
	CHECK(u == NULL);
	return harness_done();
}
