#include "md5.h"
#include "harness.h"

/* RFC 1321's test suite, and lengths around the 56- and 64-byte padding
 * edges (checked against md5sum). */
static void vec(const char *in, size_t n, const char *want)
{
	unsigned char h[16];
	char hex[33];
	barge_md5(in, n, h);
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	CHECK_STR(hex, want);
}

int main(void)
{
	char a[200];
	memset(a, 'a', sizeof a);
	vec("", 0, "d41d8cd98f00b204e9800998ecf8427e");
	vec("a", 1, "0cc175b9c0f1b6a831c399e269772661");
	vec("abc", 3, "900150983cd24fb0d6963f7d28e17f72");
	vec("message digest", 14, "f96b697d7cb7938d525a2f31aaf161d0");
	vec("abcdefghijklmnopqrstuvwxyz", 26, "c3fcd3d76192e4007dfb496cca67e13b");
	vec("12345678901234567890123456789012345678901234567890123456789012345678901234567890",
	    80, "57edf4a22be3c955ac49da2e2107b67a");
	vec(a, 55, "ef1772b6dff9a122358552954ad0df65");
	vec(a, 56, "3b0c8ac703f828b04c6c197006d17218");
	vec(a, 63, "b06521f39153d618550606be297466d5");
	vec(a, 64, "014842d480b571495a4a0363793f7367");
	vec(a, 65, "c743a45e0d2e6a95cb859adae0248435");
	vec(a, 200, "887f30b43b2867f4a9accceee7d16e6c");
	return harness_done();
}
