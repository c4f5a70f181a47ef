/* keyfort offload: the engine object, shared by engine.c (life cycle, synchronous use) and
 * queue.c (submission, workers, completions). Not part of the public API. */
#ifndef KF_OFFLOAD_ENGINE_IMPL_H
#define KF_OFFLOAD_ENGINE_IMPL_H

#include <pthread.h>

#include "offload/internal.h"

struct queue_slot {
    struct kf_offload_job job;
    uint64_t t_ns; /* when it was accepted (CLOCK_MONOTONIC): its flush deadline starts here */
};

struct engine_worker {
    struct kf_offload_engine *e;
    pthread_t thread;
    struct kf_offload_job *jobs; /* max_batch: the batch taken off the queue */
    struct kf_offload_completion *done;
};

struct kf_offload_engine {
    struct kf_offload_config cfg; /* resolved: no zero fields, backend never AUTO */
    struct offload_run run;
    struct offload_stats stats;

    /* Everything below is guarded by mu. */
    pthread_mutex_t mu;
    pthread_cond_t work;     /* workers: jobs arrived, or stop */
    pthread_cond_t idle;     /* drain: a batch finished */
    struct queue_slot *ring; /* pending jobs, cfg.queue_depth slots */
    size_t head, count;
    size_t outstanding; /* accepted, completion not yet handed over (<= queue_depth) */
    uint64_t submitted, finished;
    struct kf_offload_completion *done; /* poll mode: completions waiting, queue_depth slots */
    size_t done_head, done_count;
    bool stop;

    int efd; /* poll mode's eventfd, else -1 */
    struct engine_worker *workers;
    unsigned n_started;
};

/* queue.c: a worker thread's body. */
void *offload_queue_worker(void *arg);

#endif
