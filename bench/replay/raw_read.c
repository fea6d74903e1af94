/*
 * raw_read.c — the baseline of bench/replay/run.sh: a plain librdkafka read
 * of every partition of a topic, from its low to its high watermark as they
 * are when it starts (the range `weir replay` reads), assigned without a
 * group, counting records and bytes and nothing else.
 *
 *   replay_raw_read BOOTSTRAP TOPIC   → prints "records bytes seconds"
 */
#include <inttypes.h>
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: replay_raw_read BOOTSTRAP TOPIC\n");
        return 2;
    }
    char errstr[512], group[64];
    double t0 = now_s();
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    snprintf(group, sizeof(group), "raw-read-%d", (int)getpid());
    const char *settings[][2] = {{"bootstrap.servers", argv[1]},
                                 {"group.id", group},
                                 {"enable.auto.commit", "false"},
                                 {"enable.partition.eof", "true"},
                                 {"max.partition.fetch.bytes", "1048576"}};
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        if (rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr, sizeof(errstr))) {
            fprintf(stderr, "%s\n", errstr);
            return 1;
        }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "%s\n", errstr);
        return 1;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, argv[2], NULL);
    const struct rd_kafka_metadata *md;
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) || md->topics[0].err) {
        fprintf(stderr, "no metadata for %s\n", argv[2]);
        return 1;
    }
    int parts = md->topics[0].partition_cnt;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(parts);
    int64_t expected = 0;
    int open = 0;
    for (int p = 0; p < parts; p++) {
        int64_t lo, hi;
        rd_kafka_query_watermark_offsets(rk, argv[2], p, &lo, &hi, 10000);
        if (hi > lo) {
            rd_kafka_topic_partition_list_add(list, argv[2], p)->offset = lo;
            expected += hi - lo;
            open++;
        }
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_queue_t *q = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *batch[1024];
    uint64_t records = 0, bytes = 0;
    while (open > 0) {
        ssize_t n = rd_kafka_consume_batch_queue(q, 1000, batch, 1024);
        for (ssize_t i = 0; i < n; i++) {
            if (batch[i]->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                open--;
            else if (!batch[i]->err) {
                records++;
                bytes += batch[i]->len;
            }
            rd_kafka_message_destroy(batch[i]);
        }
    }
    double seconds = now_s() - t0;
    rd_kafka_queue_destroy(q);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    printf("%" PRIu64 " %" PRIu64 " %.3f\n", records, bytes, seconds);
    return records == (uint64_t)expected ? 0 : 1;
}
