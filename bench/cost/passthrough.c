/*
 * passthrough.c — the floor that bench/cost/run.sh measures weir against: a
 * raw librdkafka consume → produce loop that does nothing with the events but
 * copy them, with weir's own client settings and weir's offset rule.
 *
 * Client settings are those of weir_config_kafka() (service/config.c): the
 * consumer in a group with roundrobin assignment, 64 KB per-partition fetches,
 * a 16 MB consumer queue, no automatic offset store; the producer idempotent,
 * acks=all, linger 5 ms, lz4. Each input message is produced, with its key,
 * to the output topic (the default partitioner, as weir) in batches of up to
 * 512 (weir's batch.max). An input offset is stored only once every message
 * up to it has been delivered: per input partition, a ring of the offsets in
 * flight in consume order, and the stored offset is the lowest one still
 * pending (or the last delivered + 1). Stored offsets are committed every
 * second by librdkafka (weir commits its stored offsets on a 1 s timer).
 *
 *   passthrough BOOTSTRAP GROUP INPUT_TOPIC OUTPUT_TOPIC
 *
 * SIGTERM or SIGINT: stop consuming, wait for every delivery, store and commit
 * synchronously, close the group, exit 0.
 */
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_MAX 512
#define PARTITIONS_MAX 256
#define RING_BITS 16
#define RING_SIZE ((uint64_t)1 << RING_BITS)

/* The offsets of one input partition in flight, in consume order. */
typedef struct {
    int64_t *offset;  /* RING_SIZE */
    uint8_t *done;    /* RING_SIZE */
    uint64_t head;    /* oldest sequence not yet released */
    uint64_t next;    /* sequence of the next consumed message */
    int64_t released; /* the offset to store (last delivered + 1), -1 = none */
    int dirty;
} pending_t;

static volatile sig_atomic_t stopping;
static pending_t pending[PARTITIONS_MAX];
static const char *input_topic;
static rd_kafka_t *consumer;
static int failed;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static int set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "passthrough: %s=%s: %s\n", key, value, errstr);
        return -1;
    }
    return 0;
}

/* Releases the delivered prefix of a partition's ring. */
static void advance(pending_t *p)
{
    while (p->head < p->next && p->done[p->head & (RING_SIZE - 1)]) {
        p->released = p->offset[p->head & (RING_SIZE - 1)] + 1;
        p->dirty = 1;
        p->head++;
    }
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    (void)opaque;
    uintptr_t token = (uintptr_t)m->_private;
    pending_t *p = &pending[token & (PARTITIONS_MAX - 1)];
    uint64_t seq = (uint64_t)(token / PARTITIONS_MAX);
    if (m->err) {
        fprintf(stderr, "passthrough: delivery failed: %s\n", rd_kafka_err2str(m->err));
        failed = 1;
        return; /* never released: the offset stays uncommitted */
    }
    /* the token holds the sequence's low bits; the ring index is all that matters */
    p->done[seq & (RING_SIZE - 1)] = 1;
    advance(p);
}

/* Stores the released offsets of every partition that moved. */
static void store(void)
{
    rd_kafka_topic_partition_list_t *list = NULL;
    for (int i = 0; i < PARTITIONS_MAX; i++) {
        if (!pending[i].dirty)
            continue;
        if (!list)
            list = rd_kafka_topic_partition_list_new(8);
        rd_kafka_topic_partition_list_add(list, input_topic, i)->offset = pending[i].released;
        pending[i].dirty = 0;
    }
    if (list) {
        rd_kafka_resp_err_t err = rd_kafka_offsets_store(consumer, list);
        if (err && err != RD_KAFKA_RESP_ERR__STATE)
            fprintf(stderr, "passthrough: offsets_store: %s\n", rd_kafka_err2str(err));
        rd_kafka_topic_partition_list_destroy(list);
    }
}

static int track(const rd_kafka_message_t *m, rd_kafka_t *producer, uintptr_t *token)
{
    if (m->partition < 0 || m->partition >= PARTITIONS_MAX) {
        fprintf(stderr, "passthrough: partition %d beyond %d\n", (int)m->partition, PARTITIONS_MAX);
        return -1;
    }
    pending_t *p = &pending[m->partition];
    if (!p->offset) {
        p->offset = calloc(RING_SIZE, sizeof(*p->offset));
        p->done = calloc(RING_SIZE, 1);
        p->released = -1;
        if (!p->offset || !p->done)
            return -1;
    }
    while (p->next - p->head >= RING_SIZE) /* ring full: wait for deliveries */
        rd_kafka_poll(producer, 10);
    uint64_t i = p->next & (RING_SIZE - 1);
    p->offset[i] = m->offset;
    p->done[i] = 0;
    *token = (uintptr_t)(p->next * PARTITIONS_MAX + (uint64_t)m->partition);
    p->next++;
    return 0;
}

int main(int argc, char **argv)
{
    static const char *consumer_settings[][2] = {
        {"client.id", "weir"},
        {"partition.assignment.strategy", "roundrobin"},
        {"auto.offset.reset", "earliest"},
        {"enable.auto.commit", "true"},
        {"auto.commit.interval.ms", "1000"},
        {"enable.auto.offset.store", "false"},
        {"enable.partition.eof", "false"},
        {"queued.max.messages.kbytes", "16384"},
        {"max.partition.fetch.bytes", "65536"},
    };
    static const char *producer_settings[][2] = {
        {"client.id", "weir"}, {"enable.idempotence", "true"}, {"acks", "all"},
        {"linger.ms", "5"},    {"compression.type", "lz4"},
    };
    char errstr[512];
    int rc = 1;
    rd_kafka_t *producer = NULL;
    rd_kafka_topic_t *out_topic = NULL;
    rd_kafka_queue_t *queue = NULL;
    rd_kafka_message_t *batch[BATCH_MAX];
    if (argc != 5) {
        fprintf(stderr, "usage: passthrough BOOTSTRAP GROUP INPUT_TOPIC OUTPUT_TOPIC\n");
        return 2;
    }
    input_topic = argv[3];
    rd_kafka_conf_t *cconf = rd_kafka_conf_new(), *pconf = rd_kafka_conf_new();
    int bad = set(cconf, "bootstrap.servers", argv[1]) || set(cconf, "group.id", argv[2]) ||
              set(pconf, "bootstrap.servers", argv[1]);
    for (size_t i = 0; i < sizeof(consumer_settings) / sizeof(consumer_settings[0]); i++)
        bad = bad || set(cconf, consumer_settings[i][0], consumer_settings[i][1]);
    for (size_t i = 0; i < sizeof(producer_settings) / sizeof(producer_settings[0]); i++)
        bad = bad || set(pconf, producer_settings[i][0], producer_settings[i][1]);
    if (bad) {
        rd_kafka_conf_destroy(cconf);
        rd_kafka_conf_destroy(pconf);
        return 2;
    }
    rd_kafka_conf_set_dr_msg_cb(pconf, dr_msg_cb);
    producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr, sizeof(errstr));
    if (!producer) {
        rd_kafka_conf_destroy(cconf);
        rd_kafka_conf_destroy(pconf);
        fprintf(stderr, "passthrough: producer: %s\n", errstr);
        goto out;
    }
    consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, errstr, sizeof(errstr));
    if (!consumer) {
        rd_kafka_conf_destroy(cconf);
        fprintf(stderr, "passthrough: consumer: %s\n", errstr);
        goto out;
    }
    out_topic = rd_kafka_topic_new(producer, argv[4], NULL);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, input_topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (err) {
        fprintf(stderr, "passthrough: subscribe: %s\n", rd_kafka_err2str(err));
        goto out;
    }
    queue = rd_kafka_queue_get_consumer(consumer);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);

    while (!stopping && !failed) {
        /* Waits for one message, then takes what else is already there, as
         * weir drains its queue on a wakeup (consume_batch_queue alone would
         * wait for a full batch or the timeout, adding latency). */
        ssize_t n = 0;
        rd_kafka_message_t *first = rd_kafka_consumer_poll(consumer, 100);
        if (first) {
            batch[0] = first;
            n = rd_kafka_consume_batch_queue(queue, 0, batch + 1, BATCH_MAX - 1);
            n = n < 0 ? 1 : n + 1;
        }
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *m = batch[i];
            uintptr_t token;
            if (m->err) {
                if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                    fprintf(stderr, "passthrough: consume: %s\n", rd_kafka_message_errstr(m));
                rd_kafka_message_destroy(m);
                continue;
            }
            if (track(m, producer, &token) != 0) {
                failed = 1;
                rd_kafka_message_destroy(m);
                continue;
            }
            for (;;) {
                if (rd_kafka_produce(out_topic, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                     m->payload, m->len, m->key, m->key_len, (void *)token) == 0)
                    break;
                if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                    fprintf(stderr, "passthrough: produce: %s\n",
                            rd_kafka_err2str(rd_kafka_last_error()));
                    failed = 1;
                    break;
                }
                rd_kafka_poll(producer, 10); /* backpressure: wait for deliveries */
            }
            rd_kafka_message_destroy(m);
        }
        rd_kafka_poll(producer, 0);
        store();
    }
    rd_kafka_flush(producer, 30000);
    store();
    err = rd_kafka_commit(consumer, NULL, 0);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
        fprintf(stderr, "passthrough: commit: %s\n", rd_kafka_err2str(err));
    rc = failed;
out:
    if (queue)
        rd_kafka_queue_destroy(queue);
    if (consumer) {
        rd_kafka_consumer_close(consumer);
        rd_kafka_destroy(consumer);
    }
    if (out_topic)
        rd_kafka_topic_destroy(out_topic);
    if (producer)
        rd_kafka_destroy(producer);
    for (int i = 0; i < PARTITIONS_MAX; i++) {
        free(pending[i].offset);
        free(pending[i].done);
    }
    return rc;
}
