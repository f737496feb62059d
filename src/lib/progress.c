#include "progress.h"

#include <time.h>

static void fmt_eta(char *buf, size_t n, double s)
{
	if (s < 0 || s > 360000) {
		snprintf(buf, n, "--:--");
		return;
	}
	long v = (long)(s + 0.5);
	snprintf(buf, n, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
}

void barge_progress_line(FILE *o, int tty, const char *name, long long done,
			 long long total, double rate, int final)
{
	char eta[32];
	fmt_eta(eta, sizeof eta,
		total > 0 && rate > 0 ? (double)(total - done) / rate : -1);
	fprintf(o, "%s%-24s %12lld / %-12lld rows %10.0f rows/s  ETA %s\n",
		tty ? "\033[2K" : "", name, done, total < 0 ? 0 : total, rate,
		final ? "0:00:00" : eta);
}

void barge_progress_loop(pthread_mutex_t *lock, pthread_cond_t *cond,
			 const int *done, int tty, void (*draw)(void *arg),
			 void *arg)
{
	double every = tty ? 0.5 : 5.0;
	pthread_mutex_lock(lock);
	while (!*done) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		double when = (double)ts.tv_sec + ts.tv_nsec / 1e9 + every;
		ts.tv_sec = (time_t)when;
		ts.tv_nsec = (long)((when - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(cond, lock, &ts);
		if (!*done)
			draw(arg);
	}
	pthread_mutex_unlock(lock);
}
