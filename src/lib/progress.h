/*
 * Progress lines on stderr (copy/run and verify): one line per table,
 *   "NAME   done / total rows   R rows/s  ETA h:mm:ss"
 * redrawn in place on a terminal (the caller moves the cursor up).
 */
#ifndef BARGE_PROGRESS_H
#define BARGE_PROGRESS_H

#include <stdio.h>

/* Write one line; `rate` in rows a second; `final` writes ETA 0:00:00. */
void barge_progress_line(FILE *o, int tty, const char *name, long long done,
			 long long total, double rate, int final);

#endif
