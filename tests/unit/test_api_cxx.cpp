/*
 * The public headers from C++: <barge/barge.h> compiles as C++ and its
 * functions link unmangled (the extern "C" guards). Built only when a C++
 * compiler is found (CMakeLists.txt).
 */
#include <barge/barge.h>

#include <cstdio>
#include <cstring>

static int failed;

static void check(bool ok, const char *what)
{
	if (!ok) {
		std::fprintf(stderr, "CHECK failed: %s\n", what);
		failed++;
	}
}

int main()
{
	check(std::strlen(barge_version()) > 0, "barge_version");

	struct barge_settings s;
	barge_settings_builtin(&s);
	check(s.jobs == 1 && s.mode == BARGE_MODE_INSERT, "builtin settings");
	check(std::strcmp(barge_mode_name(BARGE_MODE_UPSERT), "upsert") == 0,
	      "barge_mode_name");

	struct barge_url *u = nullptr;
	check(barge_url_parse(&u, "sqlite:x.db") == 0, "barge_url_parse");
	check(u && std::strcmp(u->path, "x.db") == 0, "URL path");
	barge_url_free(u);

	check(barge_error_set(BARGE_EDATA, "from %s", "C++") == BARGE_EDATA &&
		      std::strcmp(barge_error_last(), "from C++") == 0,
	      "error slot");

	/* zeroed results dispose cleanly */
	struct barge_job_result jr;
	std::memset(&jr, 0, sizeof jr);
	barge_job_result_dispose(&jr);
	struct barge_verify_result vr;
	std::memset(&vr, 0, sizeof vr);
	barge_verify_result_dispose(&vr);

	std::printf("%d failed\n", failed);
	return failed ? 1 : 0;
}
