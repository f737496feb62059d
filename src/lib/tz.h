/*
 * Time zones from the system tz database (tzdata): TZif files under
 * /usr/share/zoneinfo, parsed here. A loaded zone is read-only, so workers
 * share it without locks. Not setenv("TZ") + mktime: TZ is process-wide
 * state, and mktime guesses at repeated and skipped local times.
 */
#ifndef BARGE_TZ_H
#define BARGE_TZ_H

#include <stdint.h>

struct barge_tz;

/*
 * Load zone `name` (an IANA name such as America/New_York, or UTC).
 * BARGE_EUSAGE with the error set when there is no such zone. The caller
 * frees it with barge_tz_free (accepts NULL). BARGE_TZDIR, when set,
 * replaces /usr/share/zoneinfo (tests).
 */
int barge_tz_load(struct barge_tz **out, const char *name);
void barge_tz_free(struct barge_tz *z);
const char *barge_tz_name(const struct barge_tz *z);

/* Offset east of UTC, in seconds, at UTC instant `utc` (unix seconds). */
int32_t barge_tz_offset(const struct barge_tz *z, int64_t utc);

/*
 * The UTC instant of local wall time `local` (seconds since 1970-01-01
 * 00:00 local). Returns 0 with *utc set; when the local time occurs twice
 * (clocks set back) it is the earlier instant and *repeated is 1; when it
 * does not occur (clocks set forward) BARGE_ENOTFOUND, no error set.
 */
int barge_tz_to_utc(const struct barge_tz *z, int64_t local, int64_t *utc,
		    int *repeated);

#endif
