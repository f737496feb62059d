/*
 * The source snapshot and reconnections: every worker's source connection
 * joins the leader's snapshot; a lost one is renewed once for all workers
 * (the run then says it read more than one), and lost connections are
 * reopened, on the source in the run's snapshot.
 */
#include "engine_int.h"

#include <stdlib.h>
#include <string.h>

int engine_reconnect_target(struct worker *w)
{
	barge_drv_close(&w->cx->dst, w->tconn);
	w->tconn = NULL;
	return barge_drv_open(&w->cx->dst, &w->tconn, BARGE_OPEN_WRITE);
}

/*
 * The run's snapshot is gone: the transaction that exported it ended with
 * its connection (terminated, lost, the server restarted) before this
 * worker could join it. Take a new one on a new planning connection,
 * unless another worker already has (cx->token is no longer `stale`).
 * Caller holds leader_lock. Chunks read from then on see the source as it
 * is then: each chunk is still one consistent read, the run as a whole is
 * not, as after a resume; the log, the summary and the report say so.
 */
static int renew_snapshot(struct ctx *cx, const char *stale,
			  struct barge_conn *conn, int *joined)
{
	char *token = NULL;
	int err;

	*joined = 0;
	if (!cx->token || strcmp(cx->token, stale) != 0)
		return 0;
	barge_drv_close(&cx->src, cx->leader);
	cx->leader = NULL;
	/* the worker's connection joins it at once (under the hold, for a
	 * driver that has one) */
	if ((err = barge_drv_open(&cx->src, &cx->leader, BARGE_OPEN_READ)) < 0 ||
	    (err = barge_drv_snapshot_group(&cx->src, cx->leader, &token, 1,
					    &conn)) < 0) {
		free(token);
		barge_drv_close(&cx->src, cx->leader);
		cx->leader = NULL;
		return err;
	}
	if (!token) /* the driver has no snapshots after all */
		return barge_error_set(BARGE_ERROR, "the source gave no new snapshot");
	free(cx->token);
	cx->token = token;
	cx->renewals++;
	*joined = 1;
	barge_state_log(cx->st, cx->run, 0, "snapshot",
			"the run's source snapshot could not be joined (lost with "
			"the connection that exported it; MySQL: a write committed "
			"since); chunks read from now on use a new one "
			"(each chunk is consistent, the run as a whole is not: "
			"check it with barge verify)");
	return 0;
}

/* Join the run's snapshot on the worker's new source connection, or a new
 * snapshot when that one is gone. */
int engine_join_snapshot(struct worker *w)
{
	struct ctx *cx = w->cx;
	char *tried = NULL;
	int err;

	if (!cx->snapshots)
		return 0; /* an engine without snapshots */
	pthread_mutex_lock(&cx->leader_lock);
	tried = strdup(cx->token);
	pthread_mutex_unlock(&cx->leader_lock);
	if (!tried)
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	err = barge_drv_snapshot_join(&cx->src, w->sconn, tried);
	if (err == BARGE_ENOTFOUND) {
		int joined = 0;
		barge_error_clear();
		pthread_mutex_lock(&cx->leader_lock);
		err = renew_snapshot(cx, tried, w->sconn, &joined);
		free(tried);
		tried = NULL;
		if (err == 0 && !joined && !(tried = strdup(cx->token)))
			err = barge_error_set(BARGE_ENOMEM, "out of memory");
		pthread_mutex_unlock(&cx->leader_lock);
		if (err == 0 && !joined)
			err = barge_drv_snapshot_join(&cx->src, w->sconn, tried);
	}
	free(tried);
	return err;
}

/* A new source connection in the run's snapshot (the old one may be the
 * one that failed: a killed backend, a restarted server). On failure the
 * worker has none, and the next attempt tries again. */
int engine_reconnect_source(struct worker *w)
{
	struct ctx *cx = w->cx;
	int err;
	barge_drv_close(&cx->src, w->sconn);
	w->sconn = NULL;
	if ((err = barge_drv_open(&cx->src, &w->sconn, BARGE_OPEN_READ)) < 0)
		return err;
	if ((err = engine_join_snapshot(w)) < 0) {
		barge_drv_close(&cx->src, w->sconn);
		w->sconn = NULL;
	}
	return err;
}

/*
 * The planning connection was lost (its server restarted, its backend
 * terminated): a new one, for the finishing step's catalog reads. The
 * run's exported snapshot died with the old one, so the new connection
 * joins it only if it still exists; else it reads the source as it is now
 * (the finishing step reads definitions, not data). Workers keep the
 * snapshot in their own open transactions, so their chunks go on; only a
 * worker that must reconnect its own source connection can no longer
 * join it, and its chunk fails (a new run, --restart, takes a new one).
 */
int engine_reopen_leader(struct ctx *cx)
{
	int err;
	barge_drv_close(&cx->src, cx->leader);
	cx->leader = NULL;
	if ((err = barge_drv_open(&cx->src, &cx->leader, BARGE_OPEN_READ)) < 0)
		return err;
	if (cx->token && barge_drv_snapshot_join(&cx->src, cx->leader, cx->token) == 0)
		return 0;
	barge_state_log(cx->st, cx->run, 0, "reconnect",
			"the planning connection was lost, and the run's snapshot "
			"with it: finishing reads the source's catalog as it is now");
	barge_error_clear();
	barge_drv_close(&cx->src, cx->leader);
	cx->leader = NULL;
	/* (the token stays: a worker that must reconnect finds it gone and
	 * takes a new snapshot, renew_snapshot) */
	return barge_drv_open(&cx->src, &cx->leader, BARGE_OPEN_READ);
}
