/*
 * reader.c — the range reader: a bounded, group-less read of fixed offset
 * ranges of partitions, for backtests and profiles.
 *
 * Its consumer never subscribes: the partitions are assign()ed, each with
 * its own queue (the partition's queue split from the consumer queue), so the
 * owner reads every partition at its own pace and can merge them in an order
 * that does not depend on how fetches interleave. The ranges are fixed when
 * the reader opens — start from offsets-for-times or given offsets, end from
 * offsets-for-times, given offsets or the high watermark then — so a read
 * always ends, however much is produced meanwhile. Nothing is committed, and
 * the group id is one of its own, never the service's.
 *
 * Owns the client, the partition queues and the messages it has fetched but
 * not yet handed out. Not thread-safe; blocking by design (no loop).
 */
#include "consumer.h"
#include "bridge.h"
#include "common.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FETCH_BATCH 512

typedef struct {
    weir_range_partition_t info;
    rd_kafka_queue_t *queue;
    rd_kafka_message_t *fetched[FETCH_BATCH];
    size_t head, count;
} part_t;

struct weir_range_reader {
    rd_kafka_t *rk;
    part_t *parts;
    size_t n_parts;
    int assigned;
};

static void reader_free(weir_range_reader_t *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_parts; i++) {
        part_t *p = &r->parts[i];
        for (size_t k = 0; k < p->count; k++)
            rd_kafka_message_destroy(p->fetched[(p->head + k) % FETCH_BATCH]);
        if (p->queue)
            rd_kafka_queue_destroy(p->queue);
        free(p->info.topic);
    }
    if (r->rk) {
        if (r->assigned)
            rd_kafka_assign(r->rk, NULL);
        /* never subscribed: closing leaves no group and commits nothing */
        rd_kafka_consumer_close(r->rk);
        rd_kafka_destroy(r->rk);
    }
    free(r->parts);
    free(r);
}

void weir_range_reader_destroy(weir_range_reader_t *r)
{
    reader_free(r);
}

/* The partitions of @p topics, from metadata; a topic that does not exist is
 * an error of the caller's input. */
static int list_partitions(weir_range_reader_t *r, const char *const *topics, int timeout_ms,
                           char *err, size_t errsz)
{
    int rc = 0;
    size_t cap = 16;
    r->parts = calloc(cap, sizeof(part_t));
    if (!r->parts)
        return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    for (size_t t = 0; topics[t] && rc == 0; t++) {
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(r->rk, topics[t], NULL);
        rd_kafka_resp_err_t kerr =
            rkt ? rd_kafka_metadata(r->rk, 0, rkt, &md, timeout_ms) : rd_kafka_last_error();
        if (rkt)
            rd_kafka_topic_destroy(rkt);
        if (kerr) {
            rc = weir_seterr(err, errsz, WEIR_EKAFKA, "topic %s: no metadata: %s", topics[t],
                             rd_kafka_err2str(kerr));
            break;
        }
        if (md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt == 0) {
            rd_kafka_resp_err_t terr = md->topic_cnt ? md->topics[0].err : kerr;
            rc = terr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || terr == 0
                     ? weir_seterr(err, errsz, WEIR_ECONFIG, "topic %s does not exist", topics[t])
                     : weir_seterr(err, errsz, WEIR_EKAFKA, "topic %s: %s", topics[t],
                                   rd_kafka_err2str(terr));
            rd_kafka_metadata_destroy(md);
            break;
        }
        for (int i = 0; i < md->topics[0].partition_cnt && rc == 0; i++) {
            if (r->n_parts == cap) {
                part_t *grown = realloc(r->parts, 2 * cap * sizeof(part_t));
                if (!grown) {
                    rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
                    break;
                }
                memset(grown + cap, 0, cap * sizeof(part_t));
                r->parts = grown;
                cap *= 2;
            }
            part_t *p = &r->parts[r->n_parts];
            p->info.topic = strdup(topics[t]);
            p->info.partition = md->topics[0].partitions[i].id;
            if (!p->info.topic)
                rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
            else
                r->n_parts++;
        }
        rd_kafka_metadata_destroy(md);
    }
    return rc;
}

/* Whether @p o names partition @p p (a NULL topic names that partition of
 * every topic). */
static int names(const weir_range_offset_t *o, const part_t *p)
{
    return o->partition == p->info.partition && (!o->topic || !strcmp(o->topic, p->info.topic));
}

/* Resolves one bound into @p out (one offset per partition): given offsets,
 * or offsets-for-times (the first offset whose timestamp is at or after the
 * time; the high watermark when there is none). @p is_end: a bound that does
 * not name a partition means its high watermark (else its low one). */
static int resolve(weir_range_reader_t *r, const weir_range_bound_t *b, int is_end, int timeout_ms,
                   int64_t *out, char *err, size_t errsz)
{
    int rc = 0;
    for (size_t i = 0; i < r->n_parts; i++)
        out[i] = is_end ? r->parts[i].info.high : r->parts[i].info.low;
    if (b->offsets) {
        for (size_t k = 0; k < b->n_offsets; k++) {
            int found = 0;
            for (size_t i = 0; i < r->n_parts; i++) {
                if (names(&b->offsets[k], &r->parts[i])) {
                    out[i] = b->offsets[k].offset;
                    found = 1;
                }
            }
            if (!found)
                return weir_seterr(err, errsz, WEIR_ECONFIG, "%s partition %" PRId32 " not found",
                                   b->offsets[k].topic ? b->offsets[k].topic : "input",
                                   b->offsets[k].partition);
        }
        return 0;
    }
    if (b->time_ms == INT64_MIN || b->time_ms == INT64_MAX)
        return 0;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new((int)r->n_parts);
    for (size_t i = 0; i < r->n_parts; i++)
        rd_kafka_topic_partition_list_add(list, r->parts[i].info.topic, r->parts[i].info.partition)
            ->offset = b->time_ms;
    rd_kafka_resp_err_t kerr = rd_kafka_offsets_for_times(r->rk, list, timeout_ms);
    if (kerr) {
        rc = weir_seterr(err, errsz, WEIR_EKAFKA, "offsets for time %" PRId64 ": %s", b->time_ms,
                         rd_kafka_err2str(kerr));
        goto out;
    }
    for (int k = 0; k < list->cnt; k++) {
        rd_kafka_topic_partition_t *tp = &list->elems[k];
        if (tp->err) {
            rc = weir_seterr(err, errsz, WEIR_EKAFKA, "%s [%" PRId32 "]: offsets for time: %s",
                             tp->topic, tp->partition, rd_kafka_err2str(tp->err));
            goto out;
        }
        for (size_t i = 0; i < r->n_parts; i++)
            if (r->parts[i].info.partition == tp->partition &&
                !strcmp(r->parts[i].info.topic, tp->topic))
                out[i] = tp->offset >= 0 ? tp->offset : r->parts[i].info.high;
    }
out:
    rd_kafka_topic_partition_list_destroy(list);
    return rc;
}

int weir_range_reader_new(rd_kafka_conf_t *conf, const char *const *topics,
                          const weir_range_bound_t *from, const weir_range_bound_t *to,
                          int timeout_ms, weir_range_reader_t **out, char *err, size_t errsz)
{
    int rc = 0;
    char errstr[512], group[64];
    int64_t *starts = NULL, *ends = NULL;
    rd_kafka_topic_partition_list_t *assignment = NULL;
    weir_range_reader_t *r = calloc(1, sizeof(*r));
    *out = NULL;
    if (!r) {
        rd_kafka_conf_destroy(conf);
        return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    }
    /* A group id of its own (librdkafka wants one for assign()); nothing is
     * ever committed under it. A partition's end is its high watermark at
     * open, so reaching EOF means its range was read. */
    snprintf(group, sizeof(group), "weir-range-%d", (int)getpid());
    static const char *settings[][2] = {
        {"enable.auto.commit", "false"},       {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "true"},      {"auto.offset.reset", "error"},
        {"allow.auto.create.topics", "false"},
    };
    if (rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        rc = weir_seterr(err, errsz, WEIR_ECONFIG, "group.id: %s", errstr);
    for (size_t i = 0; rc == 0 && i < sizeof(settings) / sizeof(settings[0]); i++)
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK)
            rc = weir_seterr(err, errsz, WEIR_ECONFIG, "%s: %s", settings[i][0], errstr);
    if (rc) {
        rd_kafka_conf_destroy(conf);
        goto out;
    }
    rd_kafka_conf_set_log_cb(conf, weir_bridge_log_cb);
    r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!r->rk) {
        rd_kafka_conf_destroy(conf);
        rc = weir_seterr(err, errsz, WEIR_ECONFIG, "cannot create the consumer: %s", errstr);
        goto out;
    }
    rd_kafka_poll_set_consumer(r->rk);
    if ((rc = list_partitions(r, topics, timeout_ms, err, errsz)) != 0)
        goto out;
    for (size_t i = 0; i < r->n_parts; i++) {
        part_t *p = &r->parts[i];
        rd_kafka_resp_err_t kerr = rd_kafka_query_watermark_offsets(
            r->rk, p->info.topic, p->info.partition, &p->info.low, &p->info.high, timeout_ms);
        if (kerr) {
            rc = weir_seterr(err, errsz, WEIR_EKAFKA, "%s [%" PRId32 "]: watermarks: %s",
                             p->info.topic, p->info.partition, rd_kafka_err2str(kerr));
            goto out;
        }
    }
    starts = malloc(r->n_parts * sizeof(int64_t));
    ends = malloc(r->n_parts * sizeof(int64_t));
    if (!starts || !ends) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = resolve(r, from, 0, timeout_ms, starts, err, errsz)) != 0 ||
        (rc = resolve(r, to, 1, timeout_ms, ends, err, errsz)) != 0)
        goto out;
    assignment = rd_kafka_topic_partition_list_new((int)r->n_parts);
    for (size_t i = 0; i < r->n_parts; i++) {
        part_t *p = &r->parts[i];
        p->info.start = starts[i] < p->info.low ? p->info.low : starts[i];
        p->info.end = ends[i] > p->info.high ? p->info.high : ends[i];
        if (p->info.end <= p->info.start) {
            p->info.end = p->info.start;
            p->info.done = 1;
            continue;
        }
        /* split before assigning, so not one message goes to the consumer queue */
        p->queue = rd_kafka_queue_get_partition(r->rk, p->info.topic, p->info.partition);
        if (!p->queue) {
            rc = weir_seterr(err, errsz, WEIR_EKAFKA, "%s [%" PRId32 "]: no partition queue",
                             p->info.topic, p->info.partition);
            goto out;
        }
        rd_kafka_queue_forward(p->queue, NULL);
        rd_kafka_topic_partition_list_add(assignment, p->info.topic, p->info.partition)->offset =
            p->info.start;
    }
    if (assignment->cnt > 0) {
        rd_kafka_resp_err_t kerr = rd_kafka_assign(r->rk, assignment);
        if (kerr) {
            rc = weir_seterr(err, errsz, WEIR_EKAFKA, "assign: %s", rd_kafka_err2str(kerr));
            goto out;
        }
        r->assigned = 1;
    }
out:
    if (assignment)
        rd_kafka_topic_partition_list_destroy(assignment);
    free(starts);
    free(ends);
    if (rc) {
        reader_free(r);
        r = NULL;
    }
    *out = r;
    return rc;
}

size_t weir_range_reader_count(const weir_range_reader_t *r)
{
    return r->n_parts;
}

const weir_range_partition_t *weir_range_reader_partition(const weir_range_reader_t *r, size_t i)
{
    return i < r->n_parts ? &r->parts[i].info : NULL;
}

rd_kafka_t *weir_range_reader_handle(weir_range_reader_t *r)
{
    return r->rk;
}

/* Client-level events (errors; messages never come here: every partition is
 * split off). A fatal error ends the read. */
static int serve_client(weir_range_reader_t *r, char *err, size_t errsz)
{
    rd_kafka_message_t *m;
    while ((m = rd_kafka_consumer_poll(r->rk, 0)) != NULL) {
        if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            char reason[512];
            snprintf(reason, sizeof(reason), "%s", rd_kafka_message_errstr(m));
            int fatal = weir_bridge_log_error(r->rk, m->err, reason, "range reader");
            rd_kafka_message_destroy(m);
            if (fatal)
                return weir_seterr(err, errsz, WEIR_EKAFKA, "the consumer failed: %s", reason);
            continue;
        }
        rd_kafka_message_destroy(m);
    }
    return 0;
}

int weir_range_reader_next(weir_range_reader_t *r, size_t i, int timeout_ms,
                           rd_kafka_message_t **out, char *err, size_t errsz)
{
    part_t *p = &r->parts[i];
    *out = NULL;
    for (;;) {
        if (p->info.done)
            return 0;
        if (p->count == 0) {
            int rc = serve_client(r, err, errsz);
            if (rc)
                return rc;
            /* what is there at once; else wait for one (a batch call would
             * wait for a full batch) */
            ssize_t got = rd_kafka_consume_batch_queue(p->queue, 0, p->fetched, FETCH_BATCH);
            if (got < 0)
                return weir_seterr(err, errsz, WEIR_EKAFKA, "%s [%" PRId32 "]: %s", p->info.topic,
                                   p->info.partition, rd_kafka_err2str(rd_kafka_last_error()));
            if (got == 0) {
                rd_kafka_message_t *one = rd_kafka_consume_queue(p->queue, timeout_ms);
                if (!one)
                    return WEIR_ETIMEDOUT;
                p->fetched[0] = one;
                got = 1;
            }
            p->head = 0;
            p->count = (size_t)got;
        }
        rd_kafka_message_t *m = p->fetched[p->head];
        p->head = (p->head + 1) % FETCH_BATCH;
        p->count--;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            /* everything up to the high watermark of the open was read */
            rd_kafka_message_destroy(m);
            p->info.done = 1;
            continue;
        }
        if (m->err) {
            int rc = weir_seterr(err, errsz, WEIR_EKAFKA,
                                 "%s [%" PRId32 "] at offset %" PRId64 ": %s", p->info.topic,
                                 p->info.partition, m->offset, rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            return rc;
        }
        if (m->offset >= p->info.end || m->offset < p->info.start) {
            if (m->offset >= p->info.end)
                p->info.done = 1;
            rd_kafka_message_destroy(m);
            continue;
        }
        if (m->offset + 1 >= p->info.end)
            p->info.done = 1;
        p->info.read++;
        *out = m;
        return 1;
    }
}
