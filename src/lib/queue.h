/*
 * A bounded blocking FIFO of pointers between threads. push waits while
 * full (back-pressure), pop waits while empty. close wakes everyone: later
 * pushes fail and pops drain what is left, then report the end.
 * Thread-safe: that is its whole job.
 */
#ifndef BARGE_QUEUE_H
#define BARGE_QUEUE_H

#include <stddef.h>

struct barge_queue;

int barge_queue_new(struct barge_queue **out, size_t cap);
void barge_queue_free(struct barge_queue *q); /* accepts NULL */
/* 0, or BARGE_EABORT when the queue was closed. */
int barge_queue_push(struct barge_queue *q, void *item);
/* 0 with *item, or BARGE_ENOTFOUND when closed and empty. */
int barge_queue_pop(struct barge_queue *q, void **item);
void barge_queue_close(struct barge_queue *q);

#endif
