/* keyfort offload: the engine's life cycle and its synchronous entry point. */
#include <errno.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "offload/engine_impl.h"

#define ENGINE_MAX_BATCH 64
#define ENGINE_QUEUE_DEPTH 4096
#define ENGINE_FLUSH_US 100
/* Below three jobs a kernel call costs more per job than OpenSSL does (docs/offload.md). */
#define ENGINE_MIN_LANES 3

static kf_result engine_resolve(const struct kf_offload_config *in, struct kf_offload_config *out)
{
    *out = in != NULL ? *in : (struct kf_offload_config){ 0 };
    out->max_batch = out->max_batch != 0 ? out->max_batch : ENGINE_MAX_BATCH;
    out->queue_depth = out->queue_depth != 0 ? out->queue_depth : ENGINE_QUEUE_DEPTH;
    out->flush_us = out->flush_us != 0 ? out->flush_us : ENGINE_FLUSH_US;
    out->min_lanes = out->min_lanes != 0 ? out->min_lanes : ENGINE_MIN_LANES;
    if (out->backend == KF_OFFLOAD_BACKEND_AUTO) {
        out->backend = kf_offload_backend_default();
    } else if (!kf_offload_backend_available(out->backend)) {
        kf_err_note_context("offload backend %s: not available on this CPU",
                            kf_offload_backend_name(out->backend));
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    if (out->workers > 256 || out->max_batch > 65536 || out->queue_depth > (1u << 24)) {
        kf_err_note_context("offload engine: %u workers, batch %u, queue %u (limits 256, 65536, "
                            "16777216)",
                            out->workers, out->max_batch, out->queue_depth);
        KF_BAIL(KF_ERR_INVALID_ARG);
    }
    return KF_OK;
}

static kf_result engine_sync_init(struct kf_offload_engine *e)
{
    pthread_condattr_t ca;
    KF_ENSURE(pthread_condattr_init(&ca) == 0, KF_ERR_THREAD);
    /* Flush deadlines are on the monotonic clock; wall-clock steps must not stall a batch. */
    bool ok = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
              pthread_cond_init(&e->work, &ca) == 0;
    if (ok && pthread_cond_init(&e->idle, NULL) != 0) {
        pthread_cond_destroy(&e->work);
        ok = false;
    }
    if (ok && pthread_mutex_init(&e->mu, NULL) != 0) {
        pthread_cond_destroy(&e->work);
        pthread_cond_destroy(&e->idle);
        ok = false;
    }
    pthread_condattr_destroy(&ca);
    KF_ENSURE(ok, KF_ERR_THREAD);
    return KF_OK;
}

static kf_result engine_start(struct kf_offload_engine *e)
{
    e->ring = calloc(e->cfg.queue_depth, sizeof(*e->ring));
    e->workers = calloc(e->cfg.workers, sizeof(*e->workers));
    KF_ENSURE(e->ring != NULL && e->workers != NULL, KF_ERR_NOMEM);
    if (e->cfg.on_done == NULL) {
        e->done = calloc(e->cfg.queue_depth, sizeof(*e->done));
        KF_ENSURE(e->done != NULL, KF_ERR_NOMEM);
        e->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        KF_GUARD_ERRNO(e->efd >= 0, KF_ERR_IO);
    }
    for (unsigned i = 0; i < e->cfg.workers; i++) {
        struct engine_worker *w = &e->workers[i];
        w->e = e;
        w->jobs = calloc(e->cfg.max_batch, sizeof(*w->jobs));
        w->done = calloc(e->cfg.max_batch, sizeof(*w->done));
        KF_ENSURE(w->jobs != NULL && w->done != NULL, KF_ERR_NOMEM);
    }
    for (unsigned i = 0; i < e->cfg.workers; i++) {
        KF_ENSURE(
            pthread_create(&e->workers[i].thread, NULL, offload_queue_worker, &e->workers[i]) == 0,
            KF_ERR_THREAD);
        e->n_started = i + 1;
    }
    return KF_OK;
}

kf_result kf_offload_engine_new(const struct kf_offload_config *cfg,
                                struct kf_offload_engine **out_engine)
{
    KF_ENSURE_REF(out_engine);
    struct kf_offload_config c;
    KF_GUARD(engine_resolve(cfg, &c));
    struct kf_offload_engine *e = calloc(1, sizeof(*e));
    KF_ENSURE(e != NULL, KF_ERR_NOMEM);
    e->cfg = c;
    e->efd = -1;
    e->run =
        (struct offload_run){ .backend = c.backend, .min_lanes = c.min_lanes, .stats = &e->stats };
    kf_result r = engine_sync_init(e);
    if (!kf_ok(r)) {
        free(e);
        return r;
    }
    if (c.workers > 0) {
        r = engine_start(e);
        if (!kf_ok(r)) {
            kf_offload_engine_free(e);
            return r;
        }
    }
    *out_engine = e;
    return KF_OK;
}

void kf_offload_engine_free(struct kf_offload_engine *e)
{
    if (e == NULL) {
        return;
    }
    /* Workers leave only once the queue is empty: every accepted job gets its verdict. */
    pthread_mutex_lock(&e->mu);
    e->stop = true;
    pthread_cond_broadcast(&e->work);
    pthread_mutex_unlock(&e->mu);
    for (unsigned i = 0; i < e->n_started; i++) {
        (void)pthread_join(e->workers[i].thread, NULL);
    }
    if (e->workers != NULL) {
        for (unsigned i = 0; i < e->cfg.workers; i++) {
            free(e->workers[i].jobs);
            free(e->workers[i].done);
        }
    }
    if (e->efd >= 0) {
        close(e->efd);
    }
    free(e->workers);
    free(e->ring);
    free(e->done);
    pthread_cond_destroy(&e->work);
    pthread_cond_destroy(&e->idle);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

enum kf_offload_backend kf_offload_engine_backend(const struct kf_offload_engine *e)
{
    return e != NULL ? e->cfg.backend : kf_offload_backend_default();
}

int kf_offload_eventfd(const struct kf_offload_engine *e)
{
    return e != NULL ? e->efd : -1;
}

void kf_offload_verify_many(const struct kf_offload_engine *e, struct kf_offload_job *jobs,
                            size_t n)
{
    struct offload_run run = { .backend = kf_offload_backend_default(),
                               .min_lanes = ENGINE_MIN_LANES };
    if (e != NULL) {
        run = e->run;
    }
    struct kf_offload_job *ptr[OFFLOAD_PASS];
    for (size_t at = 0; at < n; at += OFFLOAD_PASS) {
        size_t take = n - at < OFFLOAD_PASS ? n - at : OFFLOAD_PASS;
        for (size_t i = 0; i < take; i++) {
            ptr[i] = &jobs[at + i];
        }
        offload_batch_run(&run, ptr, take);
    }
}

void kf_offload_engine_stats(const struct kf_offload_engine *e, struct kf_offload_stats *out)
{
    *out = (struct kf_offload_stats){ 0 };
    if (e == NULL) {
        return;
    }
    const struct offload_stats *s = &e->stats;
    out->jobs = atomic_load(&s->jobs);
    out->lane_calls = atomic_load(&s->lane_calls);
    out->lane_jobs = atomic_load(&s->lane_jobs);
    out->scalar_jobs = atomic_load(&s->scalar_jobs);
    out->early_jobs = atomic_load(&s->early_jobs);
    out->deadline_flushes = atomic_load(&s->deadline_flushes);
}
