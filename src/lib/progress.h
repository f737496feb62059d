/*
 * Progress lines on stderr (copy/run and verify): one line per table,
 *   "NAME   done / total rows   R rows/s  ETA h:mm:ss"
 * redrawn in place on a terminal (the caller moves the cursor up).
 */
#ifndef BARGE_PROGRESS_H
#define BARGE_PROGRESS_H

#include <pthread.h>
#include <stdio.h>

/* Write one line; `rate` in rows a second; `final` writes ETA 0:00:00. */
void barge_progress_line(FILE *o, int tty, const char *name, long long done,
			 long long total, double rate, int final);

/*
 * The drawing thread's loop: draw(arg) every half second on a terminal,
 * every 5 s otherwise, until *done is set (under `lock`, with `cond`
 * signalled). Called with `lock` not held; draw runs with it held.
 */
void barge_progress_loop(pthread_mutex_t *lock, pthread_cond_t *cond,
			 const int *done, int tty, void (*draw)(void *arg),
			 void *arg);

#endif
