/*
 * test_delivery.c — the at-least-once promise under the faults that broke it
 * or could: a partition at its in-flight cap, records too large for the
 * client or for a topic, a dead letter too large for the dead-letter topic,
 * malformed and keyless records, a broker killed or stopped mid-stream, a
 * group scaled 1 → 3 → 1, a member killed during a rebalance, the output
 * topic deleted and recreated, and a restart soak.
 *
 * Every test ends with the exact account of bench/faults/account.h: each
 * input record against the outputs that name it, and the group's committed
 * offsets against the high watermarks — nothing committed without an output,
 * nothing left unprocessed, and (where every stop was clean) nothing twice.
 *
 * These tests stop, kill and restart their broker, so they run on a broker of
 * their own (WEIR_FAULT_KAFKA_PORT, default 29192), never the shared one.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "it.h"
#include "support.h"
#include "../schemas/tx_example.h"

#define FAULT_PORT "29192"

static void fault_broker(void)
{
    const char *port = getenv("WEIR_FAULT_KAFKA_PORT");
    setenv("WEIR_KAFKA_PORT", port && *port ? port : FAULT_PORT, 1);
}

TestSuite(delivery, .init = fault_broker);

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void nap(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* The broker restarts in these tests; its old topics would slow that down. */
static void drop_topics(it_scenario_t *s)
{
    weir_it_delete_topic(s->in);
    weir_it_delete_topic(s->out);
    weir_it_delete_topic(s->dlq);
    it_teardown(s);
}

static weir_account_t account(const it_scenario_t *s)
{
    weir_account_t a;
    char err[512], line[512];
    cr_assert_eq(weir_account_run(weir_it_bootstrap(), s->group, s->in, s->out, s->dlq, &a, err,
                                  sizeof(err)),
                 0, "account: %s", err);
    weir_account_format(&a, line, sizeof(line));
    cr_log_info("%s: %s", s->in, line);
    return a;
}

/* Nothing committed without output, nothing left, every output for a known
 * input, committed to the end; and no duplicate unless a stop was unclean. */
static void assert_exact(const weir_account_t *a, int64_t input, int duplicates_allowed)
{
    cr_assert_eq(a->input, input, "input records");
    cr_assert_eq(a->lost, 0, "committed without a scored event or dead letter");
    cr_assert_eq(a->unprocessed, 0, "left without output");
    cr_assert_eq(a->orphans, 0, "outputs that name no input");
    cr_assert(a->committed_at_end, "committed offsets reach the high watermarks (%lld behind)",
              (long long)a->behind);
    if (!duplicates_allowed)
        cr_assert_eq(a->duplicates, 0, "written twice");
    cr_assert_eq(a->scored + a->dead, input + a->duplicates, "scored + dead letters = input");
}

static void wait_done(const it_scenario_t *s, int partitions, int n_logs)
{
    int done = it_wait_committed_all(s, partitions, 240000);
    for (int i = 1; !done && i <= n_logs; i++)
        it_dump_log(s, i);
    cr_assert(done, "every input partition committed to its high watermark");
}

/* Letters no compression codec can shrink much (xorshift). */
static void incompressible(char *out, size_t n)
{
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = (char)('!' + x % 90);
    }
}

/* A Transaction from tx_example.h, Confluent-framed with id 1, with an
 * incompressible merchant_id of @p pad bytes (0: the example's own). */
static size_t tx_record(weir_buf_t *b, int i, size_t pad)
{
    tx_t t;
    tx_example(&t, i);
    char *merchant = NULL;
    if (pad) {
        merchant = malloc(pad + 1);
        incompressible(merchant, pad);
        merchant[pad] = '\0';
        t.merchant_id = merchant;
    }
    weir_buf_reset(b);
    cr_assert_eq(weir_framing_write(b, WEIR_FRAMING_CONFLUENT, 1), 0);
    cr_assert_eq(tx_encode(b, &t, NULL), 0);
    free(merchant);
    return b->len;
}

static rd_kafka_t *big_producer(void)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", weir_it_bootstrap(), errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "message.max.bytes", "4000000", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    cr_assert_not_null(rk, "%s", errstr);
    return rk;
}

/* Produces @p n example transactions to one partition, keyed by card. */
static void produce_examples(rd_kafka_t *p, const char *topic, int32_t partition, int from, int n)
{
    weir_buf_t b;
    weir_buf_init(&b, 1 << 20);
    for (int i = from; i < from + n; i++) {
        size_t len = tx_record(&b, i, 0);
        char key[32];
        snprintf(key, sizeof(key), "card-%d", i % 97);
        weir_it_produce(p, topic, partition, key, strlen(key), b.data, len);
    }
    weir_buf_dispose(&b);
}

static const weir_it_record_t *find_dead(const weir_it_records_t *recs, const char *reason)
{
    for (size_t i = 0; i < recs->count; i++) {
        const char *r = weir_it_header(&recs->records[i], "weir.error");
        if (r && !strcmp(r, reason))
            return &recs->records[i];
    }
    return NULL;
}

Test(delivery, a_partition_at_its_in_flight_cap_pauses_and_loses_nothing, .timeout = 400)
{
    const size_t n = 15000;
    int port = weir_it_free_port();
    it_scenario_t s;
    /* 50 undelivered events per partition at most, against batches of 512
     * and deliveries that take 200 ms to come back */
    it_setup(&s, "cap", 6, NULL, port, "max.in.flight = 50\nkafka.producer.linger.ms = 200");
    it_gen(&s, n, 31, NULL);
    pid_t weir = it_start(&s, 1);
    wait_done(&s, 6, 1);
    double pauses = it_metric(port, "weir_in_flight_cap_pauses_total");
    cr_log_info("in-flight cap pauses: %.0f", pauses);
    cr_assert_gt(pauses, 0, "the cap was reached");
    cr_assert_eq(it_metric(port, "weir_in_flight_events"), 0);
    cr_assert_eq(it_stop(weir), 0);
    weir_account_t a = account(&s);
    assert_exact(&a, (int64_t)n, 0);
    drop_topics(&s);
}

Test(delivery, a_record_over_the_client_limit_becomes_a_too_large_dead_letter, .timeout = 300)
{
    int port = weir_it_free_port();
    it_scenario_t s;
    it_setup(&s, "client-limit", 2, NULL, port, NULL);
    weir_it_topic_config(s.in, "max.message.bytes", "4000000");
    rd_kafka_t *p = big_producer();
    produce_examples(p, s.in, 0, 0, 500);
    /* 1 MiB that is not Avro: its dead letter is over message.max.bytes */
    size_t big = (size_t)1 << 20;
    char *garbage = malloc(big);
    for (size_t i = 0; i < big; i++)
        garbage[i] = (char)('a' + i % 26);
    weir_it_produce(p, s.in, 0, "big-garbage", 11, garbage, big);
    produce_examples(p, s.in, 0, 500, 500);
    produce_examples(p, s.in, 1, 1000, 500);
    weir_it_producer_close(p);
    free(garbage);

    pid_t weir = it_start(&s, 1);
    wait_done(&s, 2, 1);
    cr_assert_eq(it_stop(weir), 0, "the record did not stop weir");
    weir_account_t a = account(&s);
    assert_exact(&a, 1501, 0);
    cr_assert_eq(a.dead, 1);

    weir_it_records_t dead;
    weir_it_read(s.dlq, 1, 60000, &dead);
    const weir_it_record_t *d = find_dead(&dead, "too_large");
    cr_assert_not_null(d, "a too_large dead letter");
    cr_assert_str_eq(weir_it_header(d, "weir.original.size"), "1048576");
    cr_assert_str_eq(weir_it_header(d, "weir.source.partition"), "0");
    cr_assert_str_eq(weir_it_header(d, "weir.source.offset"), "500");
    cr_assert_lt(d->len, (size_t)1000000, "cut to fit message.max.bytes");
    cr_assert_gt(d->len, (size_t)900000, "cut no more than needed");
    cr_assert_eq(memcmp(d->value, "abcdefghij", 10), 0, "the original's first bytes");
    cr_assert_eq(d->key_len, 11);
    cr_log_info("dead letter detail: %s", weir_it_header(d, "weir.error.detail"));
    weir_it_records_free(&dead);
    drop_topics(&s);
}

Test(delivery, an_output_the_topic_refuses_is_retried_alone_then_dead_lettered, .timeout = 300)
{
    int port = weir_it_free_port();
    it_scenario_t s;
    it_setup(&s, "topic-limit", 1, NULL, port, "kafka.producer.linger.ms = 50");
    weir_it_topic_config(s.in, "max.message.bytes", "4000000");
    weir_it_topic_config(s.out, "max.message.bytes", "131072");
    rd_kafka_t *p = big_producer();
    produce_examples(p, s.in, 0, 0, 3000);
    /* a valid event of about 300 KB between its batch mates */
    weir_buf_t b;
    weir_buf_init(&b, 1 << 20);
    size_t len = tx_record(&b, 3000, 300000);
    weir_it_produce(p, s.in, 0, "card-big", 8, b.data, len);
    weir_buf_dispose(&b);
    produce_examples(p, s.in, 0, 3001, 3000);
    weir_it_producer_close(p);

    pid_t weir = it_start(&s, 1);
    wait_done(&s, 1, 1);
    double retries = it_metric(port, "weir_size_retries_total");
    cr_log_info("records retried alone: %.0f", retries);
    cr_assert_gt(retries, 1, "the batch mates were written again");
    cr_assert_eq(it_metric(port, "weir_delivery_errors_total"), 0);
    cr_assert_eq(it_stop(weir), 0, "the refusal did not stop weir");
    weir_account_t a = account(&s);
    assert_exact(&a, 6001, 0);
    cr_assert_eq(a.scored, 6000, "every batch mate scored");
    cr_assert_eq(a.dead, 1);

    weir_it_records_t dead;
    weir_it_read(s.dlq, 1, 60000, &dead);
    const weir_it_record_t *d = find_dead(&dead, "too_large");
    cr_assert_not_null(d);
    cr_assert_eq(d->len, len, "the input, whole: it fits the dead-letter topic");
    cr_assert_str_eq(weir_it_header(d, "weir.source.offset"), "3000");
    cr_assert_not_null(strstr(weir_it_header(d, "weir.error.detail"), "refused by topic"));
    weir_it_records_free(&dead);
    drop_topics(&s);
}

Test(delivery, a_dead_letter_the_dlq_topic_refuses_is_cut_until_it_fits, .timeout = 300)
{
    int port = weir_it_free_port();
    it_scenario_t s;
    it_setup(&s, "dlq-limit", 1, NULL, port, NULL);
    weir_it_topic_config(s.in, "max.message.bytes", "4000000");
    weir_it_topic_config(s.dlq, "max.message.bytes", "65536");
    rd_kafka_t *p = big_producer();
    produce_examples(p, s.in, 0, 0, 1000);
    char *garbage = malloc(200000);
    incompressible(garbage, 200000);
    weir_it_produce(p, s.in, 0, "bad", 3, garbage, 200000);
    weir_it_produce(p, s.in, 0, "bad-small", 9, "not avro", 8);
    produce_examples(p, s.in, 0, 1000, 1000);
    weir_it_producer_close(p);
    free(garbage);

    pid_t weir = it_start(&s, 1);
    wait_done(&s, 1, 1);
    cr_assert_eq(it_stop(weir), 0);
    weir_account_t a = account(&s);
    assert_exact(&a, 2002, 0);
    cr_assert_eq(a.dead, 2);
    weir_it_records_t dead;
    weir_it_read(s.dlq, 2, 60000, &dead);
    const weir_it_record_t *d = find_dead(&dead, "too_large");
    cr_assert_not_null(d);
    cr_assert_lt(d->len, (size_t)65536);
    cr_assert_str_eq(weir_it_header(d, "weir.original.size"), "200000");
    cr_assert_not_null(find_dead(&dead, "bad_framing"), "its neighbour is an ordinary dead letter");
    weir_it_records_free(&dead);
    drop_topics(&s);
}

Test(delivery, malformed_and_keyless_records_each_get_exactly_one_output, .timeout = 300)
{
    int port = weir_it_free_port();
    it_scenario_t s;
    it_setup(&s, "malformed", 3, NULL, port, NULL);
    rd_kafka_t *p = weir_it_producer();
    weir_buf_t b;
    weir_buf_init(&b, 1 << 20);
    int inputs = 0;
    for (int i = 0; i < 3000; i++) {
        int32_t part = i % 3;
        size_t len = tx_record(&b, i, 0);
        switch (i % 100) {
        case 7: /* keyless, valid */
            weir_it_produce(p, s.in, part, NULL, 0, b.data, len);
            break;
        case 13: /* truncated */
            weir_it_produce(p, s.in, part, "k", 1, b.data, len / 2);
            break;
        case 29: /* an empty value */
            weir_it_produce(p, s.in, part, "k", 1, "", 0);
            break;
        case 41: /* not Avro, no key */
            weir_it_produce(p, s.in, part, NULL, 0, "{\"json\": true}", 14);
            break;
        case 53: /* an unknown schema id */
            b.data[4] = 9;
            weir_it_produce(p, s.in, part, "k", 1, b.data, len);
            break;
        default:
            weir_it_produce(p, s.in, part, "card", 4, b.data, len);
        }
        inputs++;
    }
    weir_buf_dispose(&b);
    weir_it_producer_close(p);
    pid_t weir = it_start(&s, 1);
    wait_done(&s, 3, 1);
    cr_assert_eq(it_stop(weir), 0);
    weir_account_t a = account(&s);
    assert_exact(&a, inputs, 0);
    cr_assert_eq(a.dead, 4 * 30, "truncated, empty, not Avro, unknown id: 30 each");
    drop_topics(&s);
}

/* The broker goes away mid-stream (SIGKILL or a clean stop) for longer than
 * the group session: the member's partitions are lost while the producer
 * still holds thousands of undelivered outputs, and the group hands the
 * partitions back when the broker returns. */
static void broker_outage(const char *name, const char *how, uint64_t seed)
{
    const size_t n = 60000;
    int port = weir_it_free_port();
    it_scenario_t s;
    it_setup(&s, name, 4, NULL, port,
             "kafka.session.timeout.ms = 6000\nkafka.heartbeat.interval.ms = 1000\n"
             "kafka.producer.queue.buffering.max.messages = 20000");
    it_gen(&s, n, seed, NULL);
    pid_t weir = it_start(&s, 1);
    cr_assert(it_wait_metric(port, "weir_events_scored_total", 15000, 120000));
    cr_assert_eq(weir_it_broker(how), 0);
    nap(10000); /* longer than the session: the assignment is lost */
    cr_assert_eq(weir_it_broker("start"), 0);
    wait_done(&s, 4, 1);
    cr_assert_eq(it_stop(weir), 0);
    weir_account_t a = account(&s);
    assert_exact(&a, (int64_t)n, 1);
    cr_log_info("%s: duplicates after the outage: %lld", name, (long long)a.duplicates);
    drop_topics(&s);
}

Test(delivery, a_broker_killed_mid_stream_loses_nothing, .timeout = 500)
{
    broker_outage("broker-kill", "kill", 41);
}

Test(delivery, a_clean_broker_stop_and_start_loses_nothing, .timeout = 500)
{
    broker_outage("broker-stop", "stop", 42);
}

static pid_t start_member(const it_scenario_t *s, int n, int port)
{
    char conf[4096], name[32];
    char *text = weir_test_read_file(s->conf, NULL);
    snprintf(conf, sizeof(conf), "%shttp.listen = 127.0.0.1:%d\n", text, port);
    free(text);
    snprintf(name, sizeof(name), "weir%d.conf", n);
    char *path = weir_it_write(s->dir, name, conf);
    char log[512];
    snprintf(log, sizeof(log), "%s/weir-%d.log", s->dir, n);
    const char *argv[] = {WEIR_BINARY, "run", "-c", path, NULL};
    pid_t pid = weir_it_spawn(argv, log);
    free(path);
    return pid;
}

Test(delivery, a_group_scaled_one_three_one_under_load_loses_nothing, .timeout = 600)
{
    int ports[3] = {weir_it_free_port(), 0, 0};
    it_scenario_t s;
    it_setup(&s, "scale", 6, NULL, ports[0], "kafka.session.timeout.ms = 6000");
    pid_t a = it_start(&s, 1);
    pid_t gen = it_gen_background(&s, "45000", "9000", "43");
    cr_assert(it_wait_metric(ports[0], "weir_events_scored_total", 10000, 120000));
    pid_t more[2];
    for (int i = 0; i < 2; i++) {
        do
            ports[i + 1] = weir_it_free_port();
        while (ports[i + 1] == ports[0] || (i == 1 && ports[2] == ports[1]));
        more[i] = start_member(&s, i + 2, ports[i + 1]);
    }
    for (int i = 0; i < 2; i++)
        cr_assert(it_wait_metric(ports[i + 1], "weir_assigned_partitions", 1, 120000),
                  "member %d got partitions", i + 2);
    cr_assert(it_wait_metric(ports[0], "weir_events_scored_total", 20000, 120000) ||
              it_metric(ports[1], "weir_events_scored_total") > 0);
    for (int i = 0; i < 2; i++)
        cr_assert_eq(it_stop(more[i]), 0, "member %d stopped cleanly", i + 2);
    cr_assert_eq(weir_it_wait(gen, 120000), 0);
    wait_done(&s, 6, 3);
    cr_assert_eq(it_stop(a), 0);
    weir_account_t acc = account(&s);
    assert_exact(&acc, 45000, 0);
    drop_topics(&s);
}

Test(delivery, a_member_killed_during_a_rebalance_then_restarted_loses_nothing, .timeout = 600)
{
    int p1 = weir_it_free_port(), p2, p3;
    do
        p2 = weir_it_free_port();
    while (p2 == p1);
    do
        p3 = weir_it_free_port();
    while (p3 == p1 || p3 == p2);
    it_scenario_t s;
    it_setup(&s, "kill-rebalance", 6, NULL, p1, "kafka.session.timeout.ms = 6000");
    pid_t a = it_start(&s, 1);
    pid_t gen = it_gen_background(&s, "40000", "8000", "44");
    pid_t b = start_member(&s, 2, p2);
    cr_assert(it_wait_metric(p2, "weir_events_scored_total", 2000, 120000));
    /* a third member starts a rebalance; the second dies in the middle of it:
     * as soon as the first has given its partitions up, before the group has
     * heard from the second again (it learns at its next heartbeat) */
    double before = it_metric(p1, "weir_rebalances_total");
    pid_t c = start_member(&s, 3, p3);
    cr_assert(it_wait_metric(p1, "weir_rebalances_total", before + 1, 60000));
    kill(b, SIGKILL);
    weir_it_wait(b, 10000);
    b = start_member(&s, 4, p2);
    cr_assert(it_wait_metric(p2, "weir_assigned_partitions", 1, 120000), "restarted and assigned");
    cr_assert_eq(weir_it_wait(gen, 120000), 0);
    wait_done(&s, 6, 4);
    cr_assert_eq(it_stop(a), 0);
    cr_assert_eq(it_stop(b), 0);
    cr_assert_eq(it_stop(c), 0);
    weir_account_t acc = account(&s);
    assert_exact(&acc, 40000, 1); /* a SIGKILL may write an event twice, never lose one */
    cr_log_info("duplicates after the SIGKILL: %lld", (long long)acc.duplicates);
    drop_topics(&s);
}

Test(delivery, the_output_topic_deleted_and_recreated_loses_nothing, .timeout = 600)
{
    const int n = 6000;
    int port = weir_it_free_port();
    it_scenario_t s;
    it_setup(&s, "out-deleted", 2, NULL, port, NULL);
    pid_t weir = it_start(&s, 1);
    cr_assert(it_wait_metric(port, "weir_assigned_partitions", 2, 120000));
    weir_it_delete_topic(s.out);
    it_gen(&s, (uint64_t)n, 45, NULL);
    /* weir may give the events up as undeliverable (exit 1) while the topic
     * is gone: as a supervisor would, start it again until all is done */
    int restarts = 0;
    int64_t recreate_at = now_ms() + 5000, deadline = now_ms() + 300000;
    int recreated = 0, committed = 0;
    while (!committed && now_ms() < deadline) {
        if (!recreated && now_ms() >= recreate_at) {
            weir_it_create_topic(s.out, 2);
            recreated = 1;
        }
        int code = weir_it_exited(weir, 200);
        if (code >= 0) {
            cr_assert_eq(code, 1, "a failure, not a crash");
            weir = it_start(&s, 2 + restarts++);
        }
        committed = recreated && it_wait_committed_all(&s, 2, 200);
    }
    cr_assert(committed);
    cr_log_info("restarts while the output topic was gone: %d", restarts);
    cr_assert_eq(it_stop(weir), 0);
    weir_account_t a = account(&s);
    assert_exact(&a, n, 1);
    drop_topics(&s);
}

Test(delivery, a_restart_soak_with_clean_stops_loses_and_repeats_nothing, .timeout = 600)
{
    int port = weir_it_free_port();
    it_scenario_t s;
    it_setup(&s, "soak", 4, NULL, port, NULL);
    pid_t gen = it_gen_background(&s, "40000", "2000", "46");
    pid_t weir = it_start(&s, 1);
    int restarts = 0;
    while (weir_it_exited(gen, 1500) < 0) {
        /* stops mid-stream, each once weir is in the group (a loaded machine
         * can take more than the 1.5 s between stops to start it) */
        cr_assert(it_wait_metric(port, "weir_rebalances_total", 1, 120000),
                  "weir %d joined the group", 1 + restarts);
        cr_assert_eq(it_stop(weir), 0, "clean stop %d", restarts);
        weir = it_start(&s, 2 + restarts++);
    }
    wait_done(&s, 4, 2 + restarts);
    cr_assert_eq(it_stop(weir), 0);
    cr_log_info("restarts: %d", restarts);
    cr_assert_gt(restarts, 3);
    weir_account_t a = account(&s);
    assert_exact(&a, 40000, 0);
    drop_topics(&s);
}
