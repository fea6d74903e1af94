/*
 * test_faults.c — `weir run` under pressure and group churn on the real
 * broker: a producer queue too small for a batch (backpressure), a member
 * joining mid-stream (a revoke with work in flight), a member frozen
 * past its session timeout (assignment lost, librdkafka 2.0.2's lost path), and
 * a stop before any rebalance (with a cooperative assignor: the 2.0.2
 * close-before-assignment guard).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "it.h"
#include "support.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int status(int port, const char *path)
{
    char *body;
    int s = weir_it_http_get(port, path, &body);
    free(body);
    return s;
}

static size_t distinct_events(const char *topic)
{
    int64_t total = weir_it_count(topic);
    weir_it_records_t recs;
    weir_it_read(topic, (size_t)total, 120000, &recs);
    cr_assert_eq(recs.count, (size_t)total);
    it_scored_t *scored = calloc(recs.count ? recs.count : 1, sizeof(*scored));
    weir_reader_t *reader = it_scored_reader();
    for (size_t i = 0; i < recs.count; i++)
        it_decode_scored(reader, &recs.records[i], &scored[i]);
    weir_reader_destroy(reader);
    /* event ids are tx-SEED-INDEX: count each once in a bitmap, with room
     * for 2^20 indexes of each of 4 seeds (seed mod 4) */
    size_t d = 0, cap = 1 << 22;
    unsigned char *bits = calloc(cap / 8, 1);
    for (size_t i = 0; i < recs.count; i++) {
        const char *dash = strrchr(scored[i].event_id, '-');
        size_t index = (size_t)strtoull(dash + 1, NULL, 10);
        size_t seed = (size_t)strtoull(scored[i].event_id + 3, NULL, 10);
        cr_assert_lt(index, (size_t)1 << 20);
        size_t idx = (seed % 4) << 20 | index;
        if (!(bits[idx / 8] & (1u << (idx % 8)))) {
            bits[idx / 8] |= (unsigned char)(1u << (idx % 8));
            d++;
        }
    }
    free(bits);
    free(scored);
    weir_it_records_free(&recs);
    return d;
}

static pid_t start_second(const it_scenario_t *s, int port)
{
    char conf[4096];
    char *text = weir_test_read_file(s->conf, NULL);
    snprintf(conf, sizeof(conf), "%shttp.listen = 127.0.0.1:%d\n", text, port);
    free(text);
    char *path = weir_it_write(s->dir, "weir2.conf", conf);
    char log[512];
    snprintf(log, sizeof(log), "%s/weir-2.log", s->dir);
    const char *argv[] = {WEIR_BINARY, "run", "-c", path, NULL};
    pid_t pid = weir_it_spawn(argv, log);
    free(path);
    return pid;
}

static int log_contains(const it_scenario_t *s, int n, const char *needle)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/weir-%d.log", s->dir, n);
    char *text = weir_test_read_file(path, NULL);
    int found = text && strstr(text, needle) != NULL;
    free(text);
    return found;
}

Test(faults, a_full_producer_queue_pauses_and_loses_nothing, .timeout = 300)
{
    const size_t n = 6000;
    int port = weir_it_free_port();
    it_scenario_t s;
    /* a producer queue of 200 records against batches of 512 */
    it_setup(&s, "backpressure", 3, NULL, port,
             "kafka.producer.queue.buffering.max.messages = 200\nbatch.max = 512");
    it_gen(&s, n, 21, NULL);
    pid_t weir = it_start(&s, 1);
    int done = it_wait_metric(port, "weir_produced_total{kind=\"scored\"}", (double)n, 180000);
    if (!done)
        it_dump_log(&s, 1);
    cr_assert(done, "every event delivered");
    double pauses = it_metric(port, "weir_backpressure_pauses_total");
    cr_log_info("backpressure pauses: %.0f", pauses);
    cr_assert_gt(pauses, 0, "the full queue paused consumption");
    cr_assert_eq(it_metric(port, "weir_paused"), 0, "resumed once drained");
    cr_assert_eq(it_stop(weir), 0);
    cr_assert_eq(weir_it_count(s.out), (int64_t)n, "no event twice, none lost");
    cr_assert_eq(distinct_events(s.out), n);
    it_teardown(&s);
}

Test(faults, a_member_joining_mid_stream_takes_partitions_without_loss, .timeout = 400)
{
    const size_t n = 60000;
    int port1 = weir_it_free_port(), port2;
    do
        port2 = weir_it_free_port();
    while (port2 == port1);
    it_scenario_t s;
    it_setup(&s, "join", 6, NULL, port1, "kafka.session.timeout.ms = 6000");
    pid_t a = it_start(&s, 1);
    pid_t gen = it_gen_background(&s, "30000", "12000", "22");
    cr_assert(it_wait_metric(port1, "weir_events_scored_total", 10000, 120000));
    pid_t b = start_second(&s, port2);
    cr_assert_eq(weir_it_wait(gen, 120000), 0);
    /* the second half once the new member has partitions, however fast the
     * first half went by */
    cr_assert(it_wait_metric(port2, "weir_rebalances_total", 1, 120000), "the new member joined");
    gen = it_gen_background(&s, "30000", "12000", "23");
    cr_assert_eq(weir_it_wait(gen, 120000), 0);
    int committed = it_wait_committed_all(&s, 6, 240000);
    if (!committed) {
        it_dump_log(&s, 1);
        it_dump_log(&s, 2);
    }
    cr_assert(committed);
    double sa = it_metric(port1, "weir_events_scored_total");
    double sb = it_metric(port2, "weir_events_scored_total");
    cr_log_info("first member scored %.0f, the one that joined %.0f", sa, sb);
    cr_assert_gt(sb, 0, "the new member got partitions");
    cr_assert(log_contains(&s, 1, "partitions revoked"), "the first member went through a revoke");
    cr_assert_eq(it_stop(a), 0);
    cr_assert_eq(it_stop(b), 0);
    size_t d = distinct_events(s.out);
    cr_log_info("%lld records for %zu events", (long long)weir_it_count(s.out), n);
    cr_assert_eq(d, n, "every event scored");
    it_teardown(&s);
}

Test(faults, a_member_frozen_past_its_session_loses_its_partitions_safely, .timeout = 400)
{
    const size_t n = 40000;
    int port1 = weir_it_free_port(), port2;
    do
        port2 = weir_it_free_port();
    while (port2 == port1);
    it_scenario_t s;
    it_setup(&s, "lost", 4, NULL, port1,
             "kafka.session.timeout.ms = 6000\nkafka.heartbeat.interval.ms = 500");
    pid_t a = it_start(&s, 1);
    pid_t gen = it_gen_background(&s, "40000", "8000", "23");
    cr_assert(it_wait_metric(port1, "weir_events_scored_total", 5000, 120000));

    /* Freeze A; B joins; the group expels A when its session times out and
     * gives B every partition. */
    kill(a, SIGSTOP);
    pid_t b = start_second(&s, port2);
    int took_all = it_wait_metric(port2, "weir_assigned_partitions", 4, 120000);
    kill(a, SIGCONT);
    if (!took_all)
        it_dump_log(&s, 2);
    cr_assert(took_all, "the group gave the frozen member's partitions away");

    cr_assert_eq(weir_it_wait(gen, 120000), 0);
    int committed = it_wait_committed_all(&s, 4, 240000);
    if (!committed) {
        it_dump_log(&s, 1);
        it_dump_log(&s, 2);
    }
    cr_assert(committed);
    /* A learns on waking that its assignment is gone: the lost path. */
    int64_t deadline = now_ms() + 60000;
    while (!log_contains(&s, 1, "partitions lost") && now_ms() < deadline) {
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
    cr_assert(log_contains(&s, 1, "partitions lost"), "the frozen member saw its partitions lost");
    cr_assert_eq(it_stop(a), 0);
    cr_assert_eq(it_stop(b), 0);
    cr_assert_eq(distinct_events(s.out), n, "every event scored");
    it_teardown(&s);
}

/* No broker answers on this port: the group never rebalances, which is what
 * crashes librdkafka 2.0.2's cooperative-sticky close. Returns the log text. */
static char *stop_before_any_rebalance(const char *assignor)
{
    char *dir = weir_it_tmpdir();
    int port = weir_it_free_port(), dead_port = weir_it_free_port();
    char conf[2048];
    snprintf(conf, sizeof(conf),
             "kafka.bootstrap.servers = 127.0.0.1:%d\n"
             "input.topics = nowhere\n"
             "input.schema = %s/schemas/transaction.avsc\n"
             "output.topic = nowhere-scored\n"
             "dlq.topic = nowhere-dlq\n"
             "model.path = %s/examples/model.json\n"
             "http.listen = 127.0.0.1:%d\n"
             "shutdown.timeout = 3s\n"
             /* the guard is about a consumer that never had an assignment:
              * no start-up check, which would wait for the broker */
             "connect.timeout = 0\n"
             "%s%s\n",
             dead_port, WEIR_SOURCE_DIR, WEIR_SOURCE_DIR, port,
             assignor ? "kafka.consumer.partition.assignment.strategy = " : "",
             assignor ? assignor : "");
    char *path = weir_it_write(dir, "weir.conf", conf);
    char log[512];
    snprintf(log, sizeof(log), "%s/weir.log", dir);
    const char *argv[] = {WEIR_BINARY, "run", "-c", path, NULL};
    pid_t weir = weir_it_spawn(argv, log);
    int64_t deadline = now_ms() + 30000;
    while (status(port, "/healthz") != 200) {
        cr_assert_lt(now_ms(), deadline, "weir answers /healthz");
        struct timespec ts = {0, 50 * 1000000};
        nanosleep(&ts, NULL);
    }
    cr_assert_eq(status(port, "/readyz"), 503, "not ready without partitions");
    int64_t t0 = now_ms();
    kill(weir, SIGTERM);
    int code = weir_it_wait(weir, 60000);
    cr_log_info("stopped in %lld ms", (long long)(now_ms() - t0));
    cr_assert_eq(code, 0, "exit 0, no crash (see %s)", log);
    char *text = weir_test_read_file(log, NULL);
    free(path);
    free(dir);
    return text;
}

Test(faults, a_stop_before_any_rebalance_exits_cleanly, .timeout = 120)
{
    char *text = stop_before_any_rebalance(NULL);
    cr_assert(text && strstr(text, "shutting down"));
    cr_assert_null(strstr(text, "leaving the consumer to process exit"),
                   "the eager default needs no guard");
    free(text);
}

Test(faults, a_cooperative_stop_before_any_rebalance_exits_cleanly, .timeout = 120)
{
    char *text = stop_before_any_rebalance("cooperative-sticky");
    cr_assert(text && strstr(text, "leaving the consumer to process exit"), "the guard ran");
    free(text);
}
