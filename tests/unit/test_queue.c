#include "queue.h"
#include "barge/barge.h"
#include "harness.h"

#include <pthread.h>
#include <stdint.h>

#define N 20000

static void *producer(void *arg)
{
	struct barge_queue *q = arg;
	for (intptr_t i = 1; i <= N; i++)
		if (barge_queue_push(q, (void *)i) != 0)
			break;
	barge_queue_close(q);
	return NULL;
}

int main(void)
{
	struct barge_queue *q = NULL;
	pthread_t t;
	CHECK_OK(barge_queue_new(&q, 3));
	pthread_create(&t, NULL, producer, q);
	intptr_t expect = 1;
	int in_order = 1;
	void *item;
	while (barge_queue_pop(q, &item) == 0) {
		if ((intptr_t)item != expect)
			in_order = 0;
		expect++;
	}
	pthread_join(t, NULL);
	CHECK(in_order);
	CHECK(expect == N + 1); /* everything pushed was popped, then the end */
	CHECK(barge_queue_push(q, (void *)1) == BARGE_EABORT);
	barge_queue_free(q);

	/* a full queue pushes back; close releases a blocked consumer */
	CHECK_OK(barge_queue_new(&q, 1));
	CHECK_OK(barge_queue_push(q, (void *)7));
	barge_queue_close(q);
	CHECK(barge_queue_pop(q, &item) == 0 && (intptr_t)item == 7);
	CHECK(barge_queue_pop(q, &item) == BARGE_ENOTFOUND);
	barge_queue_free(q);
	return harness_done();
}
