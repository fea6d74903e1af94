/*
 * producer.c — the idempotent output producer and its delivery reports on the
 * loop. Owns the librdkafka producer handle and the cached topic handles.
 */
#include "producer.h"
#include "bridge.h"
#include "common.h"
#include "clock.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_TOPICS 16
#define KEEPALIVE_MS 250

struct weir_producer {
    rd_kafka_t *rk;
    rd_kafka_queue_t *queue;
    weir_bridge_t *bridge; /* serves delivery reports and logs on the loop */
    weir_delivery_cb on_delivery;
    weir_delivered_batch_cb on_batch;
    void *opaque;
    size_t in_flight;
    uint64_t failures;
    rd_kafka_topic_t *topics[MAX_TOPICS];
    size_t topic_count;
    size_t max_message_bytes;
};

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    weir_producer_t *p = opaque;
    p->in_flight--;
    if (m->err) {
        p->failures++;
        char topic[256];
        snprintf(topic, sizeof(topic), "%s", rd_kafka_topic_name(m->rkt));
        weir_log(weir_producer_too_large(m->err) ? WEIR_LOG_WARN : WEIR_LOG_ERROR,
                 "delivery failed", "topic", topic, "error", rd_kafka_err2str(m->err), NULL);
    }
    p->on_delivery(p->opaque, p, (uint64_t)(uintptr_t)m->_private, m);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    weir_bridge_log_error(rk, err, reason, "producer error");
}

static size_t serve(void *opaque)
{
    weir_producer_t *p = opaque;
    /* Bounded: a storm of reports must not starve the rest of the loop. */
    int served = 0;
    for (int i = 0; i < 64; i++) {
        int n = rd_kafka_poll(p->rk, 0);
        if (n <= 0)
            break;
        served += n;
    }
    if (served > 0 && p->on_batch)
        p->on_batch(p->opaque);
    return (size_t)served;
}

void weir_producer_serve(weir_producer_t *p)
{
    serve(p);
}

int weir_producer_new(uv_loop_t *loop, rd_kafka_conf_t *conf, weir_delivery_cb on_delivery,
                      weir_delivered_batch_cb on_batch, void *opaque, weir_producer_t **out,
                      char *err, size_t errsz)
{
    int rc = 0;
    char errstr[512];
    weir_producer_t *p = calloc(1, sizeof(*p));
    if (!p) {
        rd_kafka_conf_destroy(conf);
        return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    }
    p->on_delivery = on_delivery;
    p->on_batch = on_batch;
    p->opaque = opaque;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    if ((rc = weir_bridge_conf(conf, err, errsz)) != 0) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!p->rk) {
        rd_kafka_conf_destroy(conf);
        rc = weir_seterr(err, errsz, WEIR_ECONFIG, "cannot create the producer: %s", errstr);
        goto out;
    }
    char max_bytes[32] = "1000000";
    size_t max_len = sizeof(max_bytes);
    rd_kafka_conf_get(rd_kafka_conf(p->rk), "message.max.bytes", max_bytes, &max_len);
    p->max_message_bytes = (size_t)strtoull(max_bytes, NULL, 10);
    p->queue = rd_kafka_queue_get_main(p->rk);
    rd_kafka_set_log_queue(p->rk, p->queue);
    rc = weir_bridge_new(loop, p->queue, KEEPALIVE_MS, 0, serve, p, &p->bridge, err, errsz);

out:
    if (rc != 0) {
        weir_producer_destroy(p);
        p = NULL;
    }
    *out = p;
    return rc;
}

rd_kafka_topic_t *weir_producer_topic(weir_producer_t *p, const char *name)
{
    for (size_t i = 0; i < p->topic_count; i++)
        if (!strcmp(rd_kafka_topic_name(p->topics[i]), name))
            return p->topics[i];
    if (p->topic_count == MAX_TOPICS)
        return NULL;
    rd_kafka_topic_t *t = rd_kafka_topic_new(p->rk, name, NULL);
    if (t)
        p->topics[p->topic_count++] = t;
    return t;
}

int weir_producer_send(weir_producer_t *p, rd_kafka_topic_t *topic, const void *key, size_t key_len,
                       const void *value, size_t value_len, rd_kafka_headers_t *headers,
                       uint64_t token)
{
    rd_kafka_resp_err_t err =
        rd_kafka_producev(p->rk, RD_KAFKA_V_RKT(topic), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
                          RD_KAFKA_V_VALUE((void *)value, value_len), RD_KAFKA_V_HEADERS(headers),
                          RD_KAFKA_V_OPAQUE((void *)(uintptr_t)token), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return WEIR_EFULL;
    if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE)
        return WEIR_ELIMIT;
    if (err) {
        weir_log(WEIR_LOG_ERROR, "produce failed", "error", rd_kafka_err2str(err), NULL);
        return WEIR_EKAFKA;
    }
    p->in_flight++;
    return 0;
}

size_t weir_producer_max_message_bytes(const weir_producer_t *p)
{
    return p->max_message_bytes;
}

int weir_producer_too_large(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}

size_t weir_producer_in_flight(const weir_producer_t *p)
{
    return p->in_flight;
}

int weir_producer_flush(weir_producer_t *p, int timeout_ms)
{
    int64_t deadline = weir_clock_mono_ms() + timeout_ms;
    while (p->in_flight > 0) {
        int64_t left = deadline - weir_clock_mono_ms();
        if (left <= 0)
            return WEIR_ETIMEDOUT;
        if (rd_kafka_poll(p->rk, left > 100 ? 100 : (int)left) > 0 && p->on_batch)
            p->on_batch(p->opaque);
    }
    return 0;
}

uint64_t weir_producer_failures(const weir_producer_t *p)
{
    return p->failures;
}

rd_kafka_t *weir_producer_handle(weir_producer_t *p)
{
    return p->rk;
}

void weir_producer_close(weir_producer_t *p)
{
    if (!p)
        return;
    weir_bridge_close(p->bridge);
    p->bridge = NULL;
}

void weir_producer_destroy(weir_producer_t *p)
{
    if (!p)
        return;
    weir_bridge_close(p->bridge);
    for (size_t i = 0; i < p->topic_count; i++)
        rd_kafka_topic_destroy(p->topics[i]);
    if (p->queue)
        rd_kafka_queue_destroy(p->queue);
    if (p->rk) {
        /* Whatever is still queued is reported as purged, so owners see it. */
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_poll(p->rk, 0);
        rd_kafka_destroy(p->rk);
    }
    free(p);
}
