/*
 * consumer.c — the consumer-group member on the event loop: queue wakeups
 * through a pipe, bounded batch drains, rebalance handling with the 2.0.2
 * guards described in consumer.h, pause/resume for backpressure, offset
 * stores and commits.
 */
#include "consumer.h"
#include "bridge.h"
#include "common.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define KEEPALIVE_MS 250
#define FIRST_REBALANCE_WAIT_MS 15000

struct weir_consumer {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    weir_bridge_t *bridge; /* serves the queue on the loop */
    size_t batch_max;
    rd_kafka_message_t **batch;
    weir_consumer_callbacks_t cb;
    void *opaque;
    int reading;
    int paused;
    int rebalanced;  /* at least one rebalance event was handled */
    int cooperative; /* a cooperative assignor is configured */
    size_t assigned;
    rd_kafka_topic_partition_list_t *held; /* paused one by one, not by pause-all */
};

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    weir_consumer_t *c = opaque;
    int fatal = err == RD_KAFKA_RESP_ERR__FATAL;
    char fatal_reason[512];
    if (fatal) {
        rd_kafka_fatal_error(rk, fatal_reason, sizeof(fatal_reason));
        reason = fatal_reason;
    }
    if (c->cb.on_error)
        c->cb.on_error(c->opaque, (rd_kafka_resp_err_t)err, reason, fatal);
}

static void commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    weir_consumer_t *c = opaque;
    if (err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;
    for (int i = 0; !err && offsets && i < offsets->cnt; i++)
        err = offsets->elems[i].err;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return;
    weir_log(WEIR_LOG_WARN, "offset commit failed", "error", rd_kafka_err2str(err), NULL);
    if (c->cb.on_commit_failed)
        c->cb.on_commit_failed(c->opaque, err);
}

static int held_index(const weir_consumer_t *c, const char *topic, int32_t partition)
{
    for (int i = 0; c->held && i < c->held->cnt; i++)
        if (c->held->elems[i].partition == partition && !strcmp(c->held->elems[i].topic, topic))
            return i;
    return -1;
}

/* Forgets held partitions that are no longer assigned. */
static void forget_held(weir_consumer_t *c, const rd_kafka_topic_partition_list_t *parts)
{
    for (int i = 0; i < parts->cnt; i++) {
        int at = held_index(c, parts->elems[i].topic, parts->elems[i].partition);
        if (at >= 0)
            rd_kafka_topic_partition_list_del_by_idx(c->held, at);
    }
}

static void apply_pause(weir_consumer_t *c, rd_kafka_topic_partition_list_t *parts, int pause)
{
    if (!parts || parts->cnt == 0)
        return;
    rd_kafka_resp_err_t err =
        pause ? rd_kafka_pause_partitions(c->rk, parts) : rd_kafka_resume_partitions(c->rk, parts);
    if (err)
        weir_log(WEIR_LOG_WARN, pause ? "pause failed" : "resume failed", "error",
                 rd_kafka_err2str(err), NULL);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    weir_consumer_t *c = opaque;
    int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    char count[32];
    snprintf(count, sizeof(count), "%d", parts->cnt);
    c->rebalanced = 1;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        /* Applied even while closing: leaving an assignment unanswered is what
         * hangs close in 2.0.2. */
        rd_kafka_error_t *error = NULL;
        rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (cooperative)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            aerr = rd_kafka_assign(rk, parts);
        if (error) {
            weir_log(WEIR_LOG_ERROR, "assign failed", "error", rd_kafka_error_string(error), NULL);
            rd_kafka_error_destroy(error);
            return;
        }
        if (aerr) {
            weir_log(WEIR_LOG_ERROR, "assign failed", "error", rd_kafka_err2str(aerr), NULL);
            return;
        }
        c->assigned = cooperative ? c->assigned + (size_t)parts->cnt : (size_t)parts->cnt;
        /* librdkafka 2.0.2 keeps a partition's application pause across an
         * unassign and a new assign (only its own pause is reset): a partition
         * paused when it was lost would come back paused for good. Set the
         * state we want on every partition we are given. */
        apply_pause(c, parts, c->paused);
        weir_log(WEIR_LOG_INFO, "partitions assigned", "count", count, "protocol",
                 rd_kafka_rebalance_protocol(rk), NULL);
        if (c->cb.on_assign)
            c->cb.on_assign(c->opaque, parts);
        return;
    }

    int lost = rd_kafka_assignment_lost(rk);
    weir_log(lost ? WEIR_LOG_WARN : WEIR_LOG_INFO, lost ? "partitions lost" : "partitions revoked",
             "count", count, NULL);
    if (c->cb.on_revoke)
        c->cb.on_revoke(c->opaque, parts, lost);
    if (cooperative) {
        rd_kafka_error_t *error = rd_kafka_incremental_unassign(rk, parts);
        if (error) {
            weir_log(WEIR_LOG_ERROR, "unassign failed", "error", rd_kafka_error_string(error),
                     NULL);
            rd_kafka_error_destroy(error);
        }
        c->assigned = c->assigned >= (size_t)parts->cnt ? c->assigned - (size_t)parts->cnt : 0;
        forget_held(c, parts);
    } else {
        rd_kafka_assign(rk, NULL);
        c->assigned = 0;
        if (c->held)
            forget_held(c, c->held);
    }
}

/* Serves the queue once: callbacks always, messages when reading. Returns the
 * number of messages taken. */
static size_t serve(weir_consumer_t *c, int timeout_ms)
{
    ssize_t n = rd_kafka_consume_batch_queue(c->queue, timeout_ms, c->batch, c->batch_max);
    if (n <= 0)
        return 0;
    size_t kept = 0;
    for (ssize_t i = 0; i < n; i++) {
        rd_kafka_message_t *m = c->batch[i];
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                char topic[256];
                snprintf(topic, sizeof(topic), "%s", m->rkt ? rd_kafka_topic_name(m->rkt) : "");
                weir_log(WEIR_LOG_WARN, "consumer error", "topic", topic, "error",
                         rd_kafka_message_errstr(m), NULL);
                if (c->cb.on_error)
                    c->cb.on_error(c->opaque, m->err, rd_kafka_message_errstr(m), 0);
            }
            rd_kafka_message_destroy(m);
            continue;
        }
        if (!c->reading) {
            /* Shutting down: not processed, so never stored or committed. */
            rd_kafka_message_destroy(m);
            continue;
        }
        c->batch[kept++] = m;
    }
    if (kept > 0)
        c->cb.on_messages(c->opaque, c->batch, kept);
    return (size_t)n;
}

static size_t serve_now(void *opaque)
{
    return serve(opaque, 0);
}

int weir_consumer_new(uv_loop_t *loop, rd_kafka_conf_t *conf, const char *const *topics,
                      size_t batch_max, const weir_consumer_callbacks_t *cb, void *opaque,
                      weir_consumer_t **out, char *err, size_t errsz)
{
    int rc = 0;
    char errstr[512];
    rd_kafka_topic_partition_list_t *subscription = NULL;
    weir_consumer_t *c = calloc(1, sizeof(*c));
    if (!c || batch_max == 0) {
        rd_kafka_conf_destroy(conf);
        free(c);
        return weir_seterr(err, errsz, c ? WEIR_EINVAL : WEIR_ENOMEM, "cannot create consumer");
    }
    c->batch_max = batch_max;
    c->cb = *cb;
    c->opaque = opaque;
    c->reading = 1;
    c->batch = calloc(batch_max, sizeof(*c->batch));
    if (!c->batch) {
        rd_kafka_conf_destroy(conf);
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "cannot allocate the batch");
        goto out;
    }

    char strategy[256] = "";
    size_t strategy_len = sizeof(strategy);
    if (rd_kafka_conf_get(conf, "partition.assignment.strategy", strategy, &strategy_len) ==
        RD_KAFKA_CONF_OK)
        c->cooperative = strstr(strategy, "cooperative") != NULL;
    if ((rc = weir_bridge_conf(conf, err, errsz)) != 0) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_offset_commit_cb(conf, commit_cb);

    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!c->rk) {
        rd_kafka_conf_destroy(conf);
        rc = weir_seterr(err, errsz, WEIR_ECONFIG, "cannot create the consumer: %s", errstr);
        goto out;
    }
    rd_kafka_set_log_queue(c->rk, NULL); /* logs ride the main queue, served on the loop */
    rd_kafka_poll_set_consumer(c->rk);
    c->queue = rd_kafka_queue_get_consumer(c->rk);

    size_t n = 0;
    while (topics[n])
        n++;
    subscription = rd_kafka_topic_partition_list_new((int)n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(subscription, topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t kerr = rd_kafka_subscribe(c->rk, subscription);
    if (kerr) {
        rc = weir_seterr(err, errsz, WEIR_EKAFKA, "subscribe: %s", rd_kafka_err2str(kerr));
        goto out;
    }
    rc = weir_bridge_new(loop, c->queue, KEEPALIVE_MS, batch_max, serve_now, c, &c->bridge, err,
                         errsz);

out:
    if (subscription)
        rd_kafka_topic_partition_list_destroy(subscription);
    if (rc != 0) {
        /* never assigned, never read: no group to leave */
        weir_consumer_destroy(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

rd_kafka_t *weir_consumer_handle(weir_consumer_t *c)
{
    return c->rk;
}

static void pause_all(weir_consumer_t *c, int pause)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(c->rk, &parts) == RD_KAFKA_RESP_ERR_NO_ERROR && parts) {
        /* held partitions stay paused until they are resumed one by one */
        for (int i = parts->cnt - 1; !pause && i >= 0; i--)
            if (held_index(c, parts->elems[i].topic, parts->elems[i].partition) >= 0)
                rd_kafka_topic_partition_list_del_by_idx(parts, i);
        apply_pause(c, parts, pause);
        rd_kafka_topic_partition_list_destroy(parts);
    }
}

static void pause_one(weir_consumer_t *c, const char *topic, int32_t partition, int pause)
{
    rd_kafka_topic_partition_list_t *one = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(one, topic, partition);
    apply_pause(c, one, pause);
    rd_kafka_topic_partition_list_destroy(one);
}

void weir_consumer_pause_partition(weir_consumer_t *c, const char *topic, int32_t partition)
{
    if (held_index(c, topic, partition) >= 0)
        return;
    if (!c->held)
        c->held = rd_kafka_topic_partition_list_new(8);
    rd_kafka_topic_partition_list_add(c->held, topic, partition);
    pause_one(c, topic, partition, 1);
}

void weir_consumer_resume_partition(weir_consumer_t *c, const char *topic, int32_t partition)
{
    int at = held_index(c, topic, partition);
    if (at < 0)
        return;
    rd_kafka_topic_partition_list_del_by_idx(c->held, at);
    if (!c->paused) /* a pause-all still in force keeps it paused */
        pause_one(c, topic, partition, 0);
}

int weir_consumer_partition_paused(const weir_consumer_t *c, const char *topic, int32_t partition)
{
    return held_index(c, topic, partition) >= 0;
}

void weir_consumer_pause(weir_consumer_t *c)
{
    if (c->paused)
        return;
    c->paused = 1;
    pause_all(c, 1);
}

void weir_consumer_resume(weir_consumer_t *c)
{
    if (!c->paused)
        return;
    c->paused = 0;
    pause_all(c, 0);
}

int weir_consumer_paused(const weir_consumer_t *c)
{
    return c->paused;
}

void weir_consumer_stop_reading(weir_consumer_t *c)
{
    c->reading = 0;
    pause_all(c, 1);
    c->paused = 1;
}

int weir_consumer_store(weir_consumer_t *c, rd_kafka_topic_partition_list_t *offsets,
                        size_t *skipped)
{
    size_t skip = 0;
    int rc = 0;
    if (offsets->cnt > 0) {
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(c->rk, offsets);
        for (int i = 0; i < offsets->cnt; i++) {
            /* __STATE: no longer assigned; the next owner re-reads from its commit. */
            if (offsets->elems[i].err == RD_KAFKA_RESP_ERR__STATE)
                skip++;
            else if (offsets->elems[i].err)
                rc = WEIR_EKAFKA;
        }
        if (err && err != RD_KAFKA_RESP_ERR__STATE && rc == 0)
            rc = WEIR_EKAFKA;
    }
    if (skipped)
        *skipped = skip;
    return rc;
}

int weir_consumer_commit(weir_consumer_t *c, int sync, char *err, size_t errsz)
{
    rd_kafka_resp_err_t kerr = rd_kafka_commit(c->rk, NULL, !sync);
    if (kerr == RD_KAFKA_RESP_ERR_NO_ERROR || kerr == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return 0;
    return weir_seterr(err, errsz, WEIR_EKAFKA, "commit: %s", rd_kafka_err2str(kerr));
}

rd_kafka_topic_partition_list_t *weir_consumer_assignment(weir_consumer_t *c)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(c->rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return rd_kafka_topic_partition_list_new(0);
    return parts;
}

size_t weir_consumer_assigned_count(const weir_consumer_t *c)
{
    return c->assigned;
}

typedef struct {
    rd_kafka_t *rk;
    rd_kafka_resp_err_t err;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int done;
} close_job_t;

static void *close_thread(void *arg)
{
    close_job_t *job = arg;
    rd_kafka_resp_err_t err = rd_kafka_consumer_close(job->rk);
    pthread_mutex_lock(&job->lock);
    job->err = err;
    job->done = 1;
    pthread_cond_signal(&job->cond);
    pthread_mutex_unlock(&job->lock);
    return NULL;
}

int weir_consumer_close(weir_consumer_t *c, int timeout_ms)
{
    int rc = 0;
    if (!c || !c->rk) {
        if (c) {
            weir_bridge_close(c->bridge);
            c->bridge = NULL;
        }
        return 0;
    }
    c->reading = 0;
    weir_bridge_close(c->bridge);
    c->bridge = NULL;
    int64_t deadline = weir_clock_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);

    /* Guard (2.0.2, fixed 2.3.0): the cooperative-sticky assignor crashes when
     * closed before its first rebalance, so wait for one, bounded. */
    if (c->cooperative && !c->rebalanced && c->queue) {
        int64_t first_deadline = weir_clock_mono_ms() + FIRST_REBALANCE_WAIT_MS;
        if (first_deadline > deadline)
            first_deadline = deadline;
        while (!c->rebalanced && weir_clock_mono_ms() < first_deadline)
            serve(c, 100);
    }
    if (c->cooperative && !c->rebalanced) {
        weir_log(WEIR_LOG_WARN, "leaving the consumer to process exit", "reason",
                 "no rebalance before close (librdkafka 2.0.2 guard)", NULL);
        rc = WEIR_ETIMEDOUT;
        goto out;
    }

    /* Guard (2.0.2, fixed 2.4.0): close can hang when an assignment arrives
     * meanwhile, so it runs on a thread and is abandoned at the deadline. The
     * loop thread waits here, so callbacks on the close thread never race it. */
    close_job_t *job = calloc(1, sizeof(*job));
    if (!job) {
        rc = WEIR_ENOMEM;
        goto out;
    }
    job->rk = c->rk;
    pthread_mutex_init(&job->lock, NULL);
    pthread_cond_init(&job->cond, NULL);
    pthread_t thread;
    if (pthread_create(&thread, NULL, close_thread, job) != 0) {
        free(job);
        rc = WEIR_EIO;
        goto out;
    }
    int64_t remaining = deadline - weir_clock_mono_ms();
    if (remaining < 1000)
        remaining = 1000;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += remaining / 1000;
    until.tv_nsec += (remaining % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&job->lock);
    while (!job->done)
        if (pthread_cond_timedwait(&job->cond, &job->lock, &until) != 0)
            break;
    int done = job->done;
    pthread_mutex_unlock(&job->lock);
    if (!done) {
        weir_log(WEIR_LOG_ERROR, "consumer close timed out; leaving it to process exit", NULL);
        pthread_detach(thread);
        rc = WEIR_ETIMEDOUT;
        goto out; /* job and handle stay with the stuck thread */
    }
    pthread_join(thread, NULL);
    if (job->err)
        weir_log(WEIR_LOG_WARN, "consumer close", "error", rd_kafka_err2str(job->err), NULL);
    pthread_mutex_destroy(&job->lock);
    pthread_cond_destroy(&job->cond);
    free(job);
    rd_kafka_queue_destroy(c->queue);
    c->queue = NULL;
    rd_kafka_destroy(c->rk);
    c->rk = NULL;

out:
    if (rc != 0) {
        /* Abandoned: the handle is not touched again. */
        c->queue = NULL;
        c->rk = NULL;
    }
    return rc;
}

void weir_consumer_destroy(weir_consumer_t *c)
{
    if (!c)
        return;
    weir_bridge_close(c->bridge);
    if (c->queue)
        rd_kafka_queue_destroy(c->queue);
    if (c->rk)
        rd_kafka_destroy(c->rk);
    if (c->held)
        rd_kafka_topic_partition_list_destroy(c->held);
    free(c->batch);
    free(c);
}
