/* keyfort offload: asynchronous submission. Jobs wait in one ring under one mutex; a worker
 * takes up to max_batch at once, or fewer once the oldest has waited flush_us (so a lone job
 * is not stuck waiting for batch-mates), runs them and hands the verdicts over by callback or
 * through the poll queue and its eventfd.
 *
 * One lock for the queue is deliberate: a batch costs tens of microseconds of arithmetic, the
 * critical sections are a few copies, so the lock is never the bottleneck at these rates. */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "offload/engine_impl.h"

static uint64_t queue_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void queue_signal_eventfd(int efd)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already huge: it is readable either way. */
    while (write(efd, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
}

kf_result kf_offload_submit(struct kf_offload_engine *e, const struct kf_offload_job *jobs,
                            size_t n, size_t *out_accepted)
{
    KF_ENSURE_REF(e);
    KF_ENSURE_REF(out_accepted);
    *out_accepted = 0;
    KF_ENSURE(n == 0 || jobs != NULL, KF_ERR_NULL);
    if (e->cfg.workers == 0) {
        kf_err_note_context("offload engine has no workers: use kf_offload_verify_many");
        KF_BAIL(KF_ERR_UNSUPPORTED);
    }
    uint64_t now = queue_now_ns();
    pthread_mutex_lock(&e->mu);
    size_t room = e->cfg.queue_depth - e->outstanding;
    size_t take = n < room ? n : room;
    for (size_t i = 0; i < take; i++) {
        struct queue_slot *s = &e->ring[(e->head + e->count) % e->cfg.queue_depth];
        s->job = jobs[i];
        s->job.verdict = KF_OFFLOAD_PENDING;
        s->job.err = 0;
        s->t_ns = now;
        e->count++;
    }
    e->outstanding += take;
    e->submitted += take;
    if (take > 0) {
        /* A full batch wakes one worker per batch; a partial one wakes a worker to start its
         * deadline. */
        if (e->count >= 2 * (size_t)e->cfg.max_batch) {
            pthread_cond_broadcast(&e->work);
        } else {
            pthread_cond_signal(&e->work);
        }
    }
    pthread_mutex_unlock(&e->mu);
    *out_accepted = take;
    if (take < n) {
        KF_BAIL(KF_ERR_RETRY);
    }
    return KF_OK;
}

size_t kf_offload_poll(struct kf_offload_engine *e, struct kf_offload_completion *out, size_t cap)
{
    if (e == NULL || out == NULL || e->done == NULL) {
        return 0;
    }
    pthread_mutex_lock(&e->mu);
    size_t take = cap < e->done_count ? cap : e->done_count;
    for (size_t i = 0; i < take; i++) {
        out[i] = e->done[(e->done_head + i) % e->cfg.queue_depth];
    }
    e->done_head = (e->done_head + take) % e->cfg.queue_depth;
    e->done_count -= take;
    e->outstanding -= take;
    bool left = e->done_count > 0;
    pthread_mutex_unlock(&e->mu);
    if (left) {
        /* The caller cleared the eventfd before polling: keep it readable for the rest. */
        queue_signal_eventfd(e->efd);
    }
    return take;
}

void kf_offload_drain(struct kf_offload_engine *e)
{
    if (e == NULL) {
        return;
    }
    pthread_mutex_lock(&e->mu);
    uint64_t target = e->submitted;
    while (e->finished < target) {
        pthread_cond_wait(&e->idle, &e->mu);
    }
    pthread_mutex_unlock(&e->mu);
}

/* With e->mu held: wait for work. Returns how many jobs to take (0: stop). */
static size_t queue_wait_batch(struct kf_offload_engine *e, bool *out_deadline)
{
    *out_deadline = false;
    for (;;) {
        if (e->count == 0) {
            if (e->stop) {
                return 0;
            }
            pthread_cond_wait(&e->work, &e->mu);
            continue;
        }
        if (e->count >= e->cfg.max_batch || e->stop) {
            break;
        }
        uint64_t deadline = e->ring[e->head].t_ns + (uint64_t)e->cfg.flush_us * 1000u;
        if (queue_now_ns() >= deadline) {
            *out_deadline = true;
            break;
        }
        struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000000u),
                               .tv_nsec = (long)(deadline % 1000000000u) };
        (void)pthread_cond_timedwait(&e->work, &e->mu, &ts);
    }
    return e->count < e->cfg.max_batch ? e->count : e->cfg.max_batch;
}

static void queue_run(struct engine_worker *w, size_t n)
{
    struct kf_offload_engine *e = w->e;
    struct kf_offload_job *ptr[OFFLOAD_PASS];
    for (size_t at = 0; at < n; at += OFFLOAD_PASS) {
        size_t take = n - at < OFFLOAD_PASS ? n - at : OFFLOAD_PASS;
        for (size_t i = 0; i < take; i++) {
            ptr[i] = &w->jobs[at + i];
        }
        offload_batch_run(&e->run, ptr, take);
    }
    for (size_t i = 0; i < n; i++) {
        w->done[i] = (struct kf_offload_completion){ .tag = w->jobs[i].tag,
                                                     .verdict = w->jobs[i].verdict,
                                                     .err = w->jobs[i].err };
    }
}

static void queue_hand_over(struct engine_worker *w, size_t n)
{
    struct kf_offload_engine *e = w->e;
    if (e->cfg.on_done != NULL) {
        e->cfg.on_done(e->cfg.on_done_arg, w->done, n);
        pthread_mutex_lock(&e->mu);
        e->outstanding -= n;
    } else {
        pthread_mutex_lock(&e->mu);
        /* outstanding <= queue_depth counts these too, so the poll queue has room. */
        for (size_t i = 0; i < n; i++) {
            e->done[(e->done_head + e->done_count + i) % e->cfg.queue_depth] = w->done[i];
        }
        e->done_count += n;
    }
    e->finished += n;
    pthread_cond_broadcast(&e->idle);
    pthread_mutex_unlock(&e->mu);
    if (e->cfg.on_done == NULL) {
        queue_signal_eventfd(e->efd);
    }
}

void *offload_queue_worker(void *arg)
{
    struct engine_worker *w = arg;
    struct kf_offload_engine *e = w->e;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        bool deadline = false;
        size_t n = queue_wait_batch(e, &deadline);
        if (n == 0) {
            break;
        }
        for (size_t i = 0; i < n; i++) {
            w->jobs[i] = e->ring[e->head].job;
            e->head = (e->head + 1) % e->cfg.queue_depth;
        }
        e->count -= n;
        if (e->count > 0) {
            pthread_cond_signal(&e->work); /* the rest is another worker's */
        }
        pthread_mutex_unlock(&e->mu);
        if (deadline) {
            atomic_fetch_add_explicit(&e->stats.deadline_flushes, 1, memory_order_relaxed);
        }
        queue_run(w, n);
        queue_hand_over(w, n);
        pthread_mutex_lock(&e->mu);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}
