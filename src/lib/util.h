/*
 * Small internal helpers: a capped growable buffer (curl's dynbuf), UTF-8
 * validation, hex digits and UUID text, clocks, and JSON string escaping.
 */
#ifndef BARGE_UTIL_H
#define BARGE_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * A growable byte buffer with a cap: growing past `cap` is BARGE_ENOMEM
 * (and the buffer keeps what it had). Always NUL-terminated after a
 * successful add. The caller owns it: barge_buf_dispose frees the bytes.
 */
struct barge_buf {
	char *p;
	size_t len;
	size_t alloc;
	size_t cap;
	int err; /* sticky: the first failure */
};

void barge_buf_init(struct barge_buf *b, size_t cap);
void barge_buf_dispose(struct barge_buf *b);
void barge_buf_clear(struct barge_buf *b);
int barge_buf_add_slow(struct barge_buf *b, const void *p, size_t n);
/* Append n bytes. Inline: the COPY encoders and the canonical encoder add
 * a few bytes per value, millions of times a run. */
static inline int barge_buf_add(struct barge_buf *b, const void *p, size_t n)
{
	if (b->err || b->len + n + 1 > b->alloc)
		return barge_buf_add_slow(b, p, n);
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}
int barge_buf_adds(struct barge_buf *b, const char *s);
int barge_buf_printf(struct barge_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Append `s` (n bytes) as a JSON string literal, quotes included. */
int barge_buf_json_str(struct barge_buf *b, const char *s, size_t n);
/* Hand the bytes to *out (malloc'd, NUL-terminated); the buffer is reset.
 * Returns the sticky error if any add failed. */
int barge_buf_detach(struct barge_buf *b, char **out);

/*
 * Room for item n of the array p (of `size`-byte items, room for *cap):
 * p itself when it has it, else p grown (doubled, from `first` items) and
 * *cap updated. NULL when out of memory, with the error slot set (return
 * BARGE_ENOMEM); p and *cap are then as they were. For the arrays whose
 * size only the data knows (tables, units, rejects); each has a cap of
 * its own where the data could make it grow without bound.
 */
void *barge_grow(void *p, size_t *cap, size_t n, size_t size, size_t first);

int barge_utf8_valid(const char *p, size_t n);

/* One hex digit, either case -> 0..15; -1 if `c` is not one. */
int barge_hex_digit(int c);
/* n bytes -> 2n lowercase hex digits at `out` (no NUL added). */
void barge_hex_encode(char *out, const void *p, size_t n);

/*
 * UUID text <-> 16 bytes. Parsing takes the 36-character 8-4-4-4-12 form,
 * hex digits in either case, and nothing else (no braces, no hyphen-less
 * 32 digits, no URN): 0 or BARGE_EDATA, no message set (the caller names
 * the value). Formatting writes lowercase 8-4-4-4-12 and a NUL.
 */
int barge_uuid_parse(unsigned char out[16], const char *p, size_t n);
void barge_uuid_format(char out[37], const unsigned char u[16]);

double barge_now(void);       /* wall clock, unix seconds */
double barge_monotonic(void); /* seconds, monotonic */
void barge_sleep(double seconds);

/*
 * A test hook (as BARGE_FAULT): with BARGE_TEST_PAUSE=POINT:FILE in the
 * environment, reaching `point` creates FILE and waits (up to a minute)
 * until the test removes it, so a test can act at an exact moment (e.g.
 * terminate the source's planning connection before the workers join its
 * snapshot). Anything else: returns at once.
 */
void barge_test_pause(const char *point);

/* Parse a whole decimal integer; BARGE_EUSAGE naming `what` otherwise. */
int barge_parse_i64(int64_t *out, const char *s, const char *what);

#endif
