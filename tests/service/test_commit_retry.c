/*
 * test_commit_retry.c — a failed offset commit is retried until it lands, even
 * when nothing new is stored meanwhile, and counted in /metrics. The failures
 * are injected with librdkafka's mock cluster (a small fault-injection test;
 * the mock stalls on large volumes, so it carries a few thousand events).
 */
#include <criterion/criterion.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker.h"
#include "support.h"
#include "../schemas/tx_example.h"

#define API_OFFSET_COMMIT 8 /* the Kafka protocol ApiKey of OffsetCommit */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t committed(const char *bootstrap, const char *group, int32_t partition)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    cr_assert_not_null(rk, "%s", errstr);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, "in", partition);
    int64_t offset = -1;
    if (rd_kafka_committed(rk, parts, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        offset = parts->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
    return offset;
}

Test(commit_retry, a_failed_commit_is_retried_without_new_offsets_and_counted, .timeout = 180)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log_level", "0", errstr, sizeof(errstr));
    rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    cr_assert_not_null(p, "%s", errstr);
    rd_kafka_mock_cluster_t *mc = rd_kafka_handle_mock_cluster(p);
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "in", 2, 1), 0);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "out", 2, 1), 0);
    cr_assert_eq(rd_kafka_mock_topic_create(mc, "dlq", 1, 1), 0);

    const int n = 1000;
    weir_buf_t b;
    weir_buf_init(&b, 1 << 16);
    for (int i = 0; i < n; i++) {
        tx_t t;
        tx_example(&t, i);
        weir_buf_reset(&b);
        cr_assert_eq(weir_framing_write(&b, WEIR_FRAMING_CONFLUENT, 1), 0);
        cr_assert_eq(tx_encode(&b, &t, NULL), 0);
        cr_assert_eq(rd_kafka_producev(p, RD_KAFKA_V_TOPIC("in"), RD_KAFKA_V_PARTITION(i % 2),
                                       RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                       RD_KAFKA_V_VALUE(b.data, b.len), RD_KAFKA_V_END),
                     0);
    }
    weir_buf_dispose(&b);
    cr_assert_eq(rd_kafka_flush(p, 30000), 0);

    /* the first five commits fail; by then every event is long delivered */
    rd_kafka_mock_push_request_errors(
        mc, API_OFFSET_COMMIT, 5, RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE,
        RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE, RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE,
        RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE, RD_KAFKA_RESP_ERR_OFFSET_METADATA_TOO_LARGE);

    char *dir = weir_it_tmpdir();
    int port = weir_it_free_port();
    char text[2048];
    snprintf(text, sizeof(text),
             "kafka.bootstrap.servers = %s\n"
             "kafka.group.id = retry\n"
             "input.topics = in\n"
             "input.schema = %s/schemas/transaction.avsc\n"
             "output.topic = out\n"
             "dlq.topic = dlq\n"
             "model.path = %s/examples/model.json\n"
             "http.listen = 127.0.0.1:%d\n"
             "commit.interval = 100ms\n",
             bootstrap, WEIR_SOURCE_DIR, WEIR_SOURCE_DIR, port);
    char *path = weir_it_write(dir, "weir.conf", text);
    char log[512];
    snprintf(log, sizeof(log), "%s/weir.log", dir);
    const char *argv[] = {WEIR_BINARY, "run", "-c", path, NULL};
    pid_t weir = weir_it_spawn(argv, log);

    int64_t deadline = now_ms() + 120000;
    int done = 0;
    while (!done && now_ms() < deadline) {
        done =
            committed(bootstrap, "retry", 0) == n / 2 && committed(bootstrap, "retry", 1) == n / 2;
        if (!done) {
            struct timespec ts = {0, 200 * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    char *page = NULL;
    cr_assert_eq(weir_it_http_get(port, "/metrics", &page), 200);
    double failures = weir_it_metric(page, "weir_commit_failures_total");
    free(page);
    kill(weir, SIGTERM);
    cr_assert_eq(weir_it_wait(weir, 60000), 0, "see %s", log);
    cr_assert(done, "the offsets were committed in the end (see %s)", log);
    cr_log_info("commit failures counted: %.0f", failures);
    cr_assert_geq(failures, 5, "every failed commit counted");
    free(path);
    free(dir);
    rd_kafka_destroy(p);
}
