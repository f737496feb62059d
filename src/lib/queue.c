#include "queue.h"
#include "barge/barge.h"

#include <pthread.h>
#include <stdlib.h>

struct barge_queue {
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	void **items;
	size_t cap, head, count;
	int closed;
};

int barge_queue_new(struct barge_queue **out, size_t cap)
{
	struct barge_queue *q = calloc(1, sizeof *q);
	*out = NULL;
	if (!q || !(q->items = calloc(cap ? cap : 1, sizeof *q->items))) {
		free(q);
		return barge_error_set(BARGE_ENOMEM, "out of memory");
	}
	q->cap = cap ? cap : 1;
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	*out = q;
	return 0;
}

void barge_queue_free(struct barge_queue *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->lock);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	free(q->items);
	free(q);
}

int barge_queue_push(struct barge_queue *q, void *item)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == q->cap && !q->closed)
		pthread_cond_wait(&q->not_full, &q->lock);
	if (q->closed) {
		pthread_mutex_unlock(&q->lock);
		return BARGE_EABORT;
	}
	q->items[(q->head + q->count) % q->cap] = item;
	q->count++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

int barge_queue_pop(struct barge_queue *q, void **item)
{
	pthread_mutex_lock(&q->lock);
	while (q->count == 0 && !q->closed)
		pthread_cond_wait(&q->not_empty, &q->lock);
	if (q->count == 0) {
		pthread_mutex_unlock(&q->lock);
		*item = NULL;
		return BARGE_ENOTFOUND;
	}
	*item = q->items[q->head];
	q->head = (q->head + 1) % q->cap;
	q->count--;
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return 0;
}

void barge_queue_close(struct barge_queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->closed = 1;
	pthread_cond_broadcast(&q->not_full);
	pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
}
