/*
 * The proleptic Gregorian calendar as day numbers (days since 1970-01-01),
 * after Howard Hinnant's civil-date algorithms: exact for every int64 year
 * the callers use. Shared by the drivers, the transforms and time zones.
 */
#ifndef BARGE_CIVIL_H
#define BARGE_CIVIL_H

#include <stdint.h>

int64_t barge_days_from_civil(int64_t y, int m, int d);
void barge_civil_from_days(int64_t z, int64_t *y, int *m, int *d);
int barge_days_in_month(int64_t y, int m); /* m in 1..12 */

#endif
