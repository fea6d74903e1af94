/*
 * test_pipeline.c — `weir run` against the real local broker: every event is
 * scored exactly once with the right score, bad input lands in the DLQ with
 * its reason, SIGKILL loses nothing, two instances share a group, SIGTERM
 * commits the consumed position.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "it.h"
#include "support.h"

static int by_id(const void *a, const void *b)
{
    return strcmp(((const it_scored_t *)a)->event_id, ((const it_scored_t *)b)->event_id);
}

static int by_expected_id(const void *a, const void *b)
{
    return strcmp(((const it_expected_t *)a)->event_id, ((const it_expected_t *)b)->event_id);
}

/* Decodes every scored record; returns them sorted by event id. */
static it_scored_t *decode_all(const weir_it_records_t *recs)
{
    it_scored_t *scored = calloc(recs->count ? recs->count : 1, sizeof(*scored));
    weir_reader_t *reader = it_scored_reader();
    for (size_t i = 0; i < recs->count; i++)
        it_decode_scored(reader, &recs->records[i], &scored[i]);
    weir_reader_destroy(reader);
    qsort(scored, recs->count, sizeof(*scored), by_id);
    return scored;
}

static size_t distinct(const it_scored_t *sorted, size_t n)
{
    size_t d = n ? 1 : 0;
    for (size_t i = 1; i < n; i++)
        d += strcmp(sorted[i].event_id, sorted[i - 1].event_id) != 0;
    return d;
}

Test(pipeline, scores_every_event_once_and_as_the_bundle_says, .timeout = 400)
{
    const size_t n = 20000;
    it_scenario_t s;
    it_setup(&s, "exact", 4, NULL, 0, NULL);
    char file[512];
    snprintf(file, sizeof(file), "%s/events.avro", s.dir);
    it_gen(&s, n, 11, file);

    pid_t weir = it_start(&s, 1);
    int64_t seen = weir_it_wait_count(s.out, (int64_t)n, 180000);
    if (seen < (int64_t)n)
        it_dump_log(&s, 1);
    cr_assert_eq(seen, (int64_t)n, "only %lld of %zu scored events", (long long)seen, n);
    cr_assert_eq(it_stop(weir), 0, "weir run did not exit 0 on SIGTERM");
    cr_assert_eq(weir_it_count(s.out), (int64_t)n, "exactly N scored records");
    cr_assert_eq(weir_it_count(s.dlq), 0, "no dead letters for valid events");

    weir_it_records_t recs;
    weir_it_read(s.out, n, 60000, &recs);
    cr_assert_eq(recs.count, n);
    for (size_t i = 0; i < recs.count; i++) {
        const weir_it_record_t *r = &recs.records[i];
        const char *model = weir_it_header(r, "weir.model");
        cr_assert(model && !strcmp(model, "fraud-lr"), "weir.model header on every record");
        cr_assert_not_null(weir_it_header(r, "weir.model.version"));
        cr_assert(!strncmp(r->key, "card-", 5), "keyed like the input (card id), got %s", r->key);
    }
    it_scored_t *scored = decode_all(&recs);
    cr_assert_eq(distinct(scored, n), n, "every event id once");

    size_t ne;
    it_expected_t *expected = it_expected(s.model, file, &ne);
    cr_assert_eq(ne, n);
    qsort(expected, ne, sizeof(*expected), by_expected_id);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        cr_assert_str_eq(scored[i].event_id, expected[i].event_id);
        cr_assert(!expected[i].dead, "%s: the reference rejects it", expected[i].event_id);
        double diff = scored[i].score - expected[i].score;
        if (diff < 0)
            diff = -diff;
        if (diff > worst)
            worst = diff;
        cr_assert_leq(diff, 1e-6, "%s: weir %.9f, reference %.9f", scored[i].event_id,
                      scored[i].score, expected[i].score);
        cr_assert_str_eq(scored[i].label, expected[i].label_or_reason, "%s: label",
                         scored[i].event_id);
    }
    cr_log_info("%zu events scored; largest score difference from the reference: %.3g", n, worst);
    free(expected);
    free(scored);
    weir_it_records_free(&recs);
    it_teardown(&s);
}

/* A valid framed Transaction taken from the input topic, to mangle. */
static void first_input_record(const it_scenario_t *s, uint8_t **value, size_t *len)
{
    weir_it_records_t recs;
    weir_it_read(s->in, 1, 30000, &recs);
    cr_assert_eq(recs.count, 1);
    *len = recs.records[0].len;
    *value = malloc(*len + 16);
    memcpy(*value, recs.records[0].value, *len);
    weir_it_records_free(&recs);
}

static char *strict_bundle(const char *dir)
{
    /* The example bundle with customer_age made mandatory: the ~3% of events
     * without an age must become dead letters (missing_value). */
    json_error_t error;
    json_t *b = json_load_file(WEIR_SOURCE_DIR "/examples/model.json", 0, &error);
    cr_assert_not_null(b, "%s", error.text);
    json_t *features = json_object_get(b, "features");
    size_t i;
    json_t *f;
    int found = 0;
    json_array_foreach(features, i, f)
    {
        if (!strcmp(json_string_value(json_object_get(f, "name")), "customer_age")) {
            json_object_set_new(f, "missing", json_string("error"));
            json_array_remove(json_object_get(f, "transform"), 0); /* the impute step */
            found = 1;
        }
    }
    cr_assert(found);
    char *path = malloc(strlen(dir) + 32);
    sprintf(path, "%s/strict.json", dir);
    cr_assert_eq(json_dump_file(b, path, 0), 0);
    json_decref(b);
    return path;
}

Test(pipeline, sends_every_bad_event_to_the_dlq_with_its_reason, .timeout = 300)
{
    const size_t n = 3000;
    it_scenario_t s;
    char *dir = weir_it_tmpdir();
    char *model = strict_bundle(dir);
    it_setup(&s, "dlq", 2, model, 0, NULL);
    char file[512];
    snprintf(file, sizeof(file), "%s/events.avro", s.dir);
    it_gen(&s, n, 12, file);

    uint8_t *good;
    size_t good_len;
    first_input_record(&s, &good, &good_len);
    struct {
        const char *reason;
        uint8_t value[64];
        size_t len;
        int use_good; /* 1 good truncated, 2 good + trailing, 3 good with bad id, 4 NULL */
    } bad[] = {
        {"bad_framing", {1, 0, 0, 0, 1, 2}, 6, 0},
        {"bad_framing", {0, 0}, 2, 0},
        {"unknown_schema_id", {0}, 0, 3},
        {"truncated", {0}, 0, 1},
        {"trailing_bytes", {0}, 0, 2},
        {"empty_value", {0}, 0, 4},
    };
    size_t nbad = sizeof(bad) / sizeof(bad[0]);
    rd_kafka_t *p = weir_it_producer();
    for (size_t i = 0; i < nbad; i++) {
        uint8_t buf[4096];
        const uint8_t *v = bad[i].value;
        size_t len = bad[i].len;
        if (bad[i].use_good == 1) {
            v = good;
            len = good_len / 2;
        } else if (bad[i].use_good == 2) {
            memcpy(buf, good, good_len);
            memcpy(buf + good_len, "xx", 2);
            v = buf;
            len = good_len + 2;
        } else if (bad[i].use_good == 3) {
            memcpy(buf, good, good_len);
            buf[4] = 99; /* schema id 99 */
            v = buf;
            len = good_len;
        } else if (bad[i].use_good == 4) {
            v = NULL;
            len = 0;
        }
        char key[32];
        snprintf(key, sizeof(key), "bad-%zu", i);
        rd_kafka_resp_err_t err =
            rd_kafka_producev(p, RD_KAFKA_V_TOPIC(s.in), RD_KAFKA_V_PARTITION((int32_t)(i % 2)),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_KEY(key, strlen(key)), RD_KAFKA_V_VALUE((void *)v, len),
                              RD_KAFKA_V_HEADER("trace-id", key, -1), RD_KAFKA_V_END);
        cr_assert_eq(err, 0);
    }
    weir_it_producer_close(p);

    size_t ne;
    it_expected_t *expected = it_expected(model, file, &ne);
    size_t missing = 0;
    for (size_t i = 0; i < ne; i++)
        missing += expected[i].dead && !strcmp(expected[i].label_or_reason, "missing_value");
    cr_assert_gt(missing, 0, "the strict bundle rejects some generated events");

    pid_t weir = it_start(&s, 1);
    int64_t want_dlq = (int64_t)(nbad + missing), want_out = (int64_t)(n - missing);
    int64_t got_dlq = weir_it_wait_count(s.dlq, want_dlq, 120000);
    int64_t got_out = weir_it_wait_count(s.out, want_out, 120000);
    if (got_dlq != want_dlq || got_out != want_out)
        it_dump_log(&s, 1);
    cr_assert_eq(got_dlq, want_dlq);
    cr_assert_eq(got_out, want_out);
    cr_assert_eq(it_stop(weir), 0);

    weir_it_records_t dl;
    weir_it_read(s.dlq, (size_t)want_dlq, 60000, &dl);
    cr_assert_eq(dl.count, (size_t)want_dlq);
    size_t seen_bad = 0, seen_missing = 0;
    for (size_t i = 0; i < dl.count; i++) {
        const weir_it_record_t *r = &dl.records[i];
        cr_assert_not_null(weir_it_header(r, "weir.error"), "every dead letter has weir.error");
        char reason[64];
        snprintf(reason, sizeof(reason), "%s", weir_it_header(r, "weir.error"));
        cr_assert_not_null(weir_it_header(r, "weir.error.detail"));
        cr_assert_str_eq(weir_it_header(r, "weir.source.topic"), s.in);
        cr_assert_not_null(weir_it_header(r, "weir.source.partition"));
        cr_assert_not_null(weir_it_header(r, "weir.source.offset"));
        if (!strncmp(r->key, "bad-", 4)) {
            size_t i_bad = (size_t)atoi(r->key + 4);
            cr_assert_str_eq(reason, bad[i_bad].reason, "%s", r->key);
            cr_assert_str_eq(weir_it_header(r, "trace-id"), r->key, "original headers kept");
            seen_bad++;
        } else {
            cr_assert_str_eq(reason, "missing_value");
            cr_assert(strstr(weir_it_header(r, "weir.error.detail"), "customer_age"));
            seen_missing++;
        }
    }
    cr_assert_eq(seen_bad, nbad);
    cr_assert_eq(seen_missing, missing);
    weir_it_records_free(&dl);
    free(expected);
    free(good);
    free(model);
    free(dir);
    it_teardown(&s);
}

Test(pipeline, sigkill_mid_stream_and_restart_loses_no_event, .timeout = 500)
{
    const size_t n = 60000;
    it_scenario_t s;
    /* a short session, so the group notices the killed member quickly */
    it_setup(&s, "kill", 4, NULL, 0, "kafka.session.timeout.ms = 6000");
    pid_t weir = it_start(&s, 1);
    pid_t gen = it_gen_background(&s, "60000", "15000", "13");
    int64_t partial = weir_it_wait_count(s.out, 15000, 120000);
    cr_assert_geq(partial, 15000);
    kill(weir, SIGKILL);
    cr_assert_eq(weir_it_wait(weir, 30000), 128 + SIGKILL);
    int64_t at_kill = weir_it_count(s.out);

    weir = it_start(&s, 2);
    cr_assert_eq(weir_it_wait(gen, 120000), 0);
    cr_assert_eq(weir_it_count(s.in), (int64_t)n);
    int committed = it_wait_committed_all(&s, 4, 240000);
    if (!committed)
        it_dump_log(&s, 2);
    cr_assert(committed, "the restarted instance commits every input offset");
    cr_assert_eq(it_stop(weir), 0);

    int64_t total = weir_it_count(s.out);
    weir_it_records_t recs;
    weir_it_read(s.out, (size_t)total, 120000, &recs);
    it_scored_t *scored = decode_all(&recs);
    size_t d = distinct(scored, recs.count);
    cr_log_info("SIGKILL with %lld of %zu events scored: %zu records in the end, %zu duplicates",
                (long long)at_kill, n, recs.count, recs.count - d);
    cr_assert_lt(at_kill, (int64_t)n, "the kill landed mid-stream");
    cr_assert_eq(d, n, "every input event has a scored record");
    free(scored);
    weir_it_records_free(&recs);
    it_teardown(&s);
}

static int ready(int port)
{
    char *body;
    int status = weir_it_http_get(port, "/readyz", &body);
    free(body);
    return status == 200;
}

static double scored_total(int port)
{
    char *body;
    cr_assert_eq(weir_it_http_get(port, "/metrics", &body), 200);
    double v = weir_it_metric(body, "weir_events_scored_total");
    free(body);
    return v;
}

Test(pipeline, two_instances_share_the_partitions_and_cover_every_event, .timeout = 500)
{
    const size_t n = 30000;
    int port1 = weir_it_free_port(), port2;
    do
        port2 = weir_it_free_port();
    while (port2 == port1);
    it_scenario_t s;
    it_setup(&s, "group", 6, NULL, port1, NULL);
    /* the second instance: same group and topics, its own HTTP port */
    char conf2[4096], http2[64];
    char *text = weir_test_read_file(s.conf, NULL);
    snprintf(http2, sizeof(http2), "http.listen = 127.0.0.1:%d\n", port2);
    snprintf(conf2, sizeof(conf2), "%s%s", text, http2);
    free(text);
    char *path2 = weir_it_write(s.dir, "weir2.conf", conf2);

    pid_t a = it_start(&s, 1);
    char log2[512];
    snprintf(log2, sizeof(log2), "%s/weir-2.log", s.dir);
    const char *argv2[] = {WEIR_BINARY, "run", "-c", path2, NULL};
    pid_t b = weir_it_spawn(argv2, log2);

    /* Both members assigned before the events flow. */
    for (int tries = 0; !(ready(port1) && ready(port2)); tries++) {
        cr_assert_lt(tries, 600, "both instances ready within 60 s");
        struct timespec ts = {0, 100 * 1000000};
        nanosleep(&ts, NULL);
    }
    it_gen(&s, n, 14, NULL);
    int committed = it_wait_committed_all(&s, 6, 240000);
    if (!committed) {
        it_dump_log(&s, 1);
        it_dump_log(&s, 2);
    }
    cr_assert(committed);
    double sa = scored_total(port1), sb = scored_total(port2);
    cr_log_info("instance 1 scored %.0f, instance 2 scored %.0f", sa, sb);
    cr_assert_gt(sa, 0);
    cr_assert_gt(sb, 0);
    cr_assert_geq(sa + sb, (double)n);
    cr_assert_eq(it_stop(a), 0);
    cr_assert_eq(it_stop(b), 0);

    int64_t total = weir_it_count(s.out);
    weir_it_records_t recs;
    weir_it_read(s.out, (size_t)total, 120000, &recs);
    it_scored_t *scored = decode_all(&recs);
    cr_assert_eq(distinct(scored, recs.count), n, "together they cover every event");
    free(scored);
    weir_it_records_free(&recs);
    free(path2);
    it_teardown(&s);
}

Test(pipeline, sigterm_mid_stream_exits_0_with_the_consumed_position_committed, .timeout = 300)
{
    const size_t n = 60000;
    it_scenario_t s;
    it_setup(&s, "term", 3, NULL, 0, NULL);
    pid_t weir = it_start(&s, 1);
    /* Events keep arriving while weir is told to stop. */
    pid_t gen = it_gen_background(&s, "60000", "15000", "15");
    cr_assert_geq(weir_it_wait_count(s.out, 10000, 120000), 10000);
    cr_assert_eq(it_stop(weir), 0, "exit code 0 after SIGTERM");
    cr_assert_eq(weir_it_wait(gen, 120000), 0);
    cr_assert_eq(weir_it_count(s.in), (int64_t)n);

    int64_t committed_total = 0;
    for (int p = 0; p < 3; p++) {
        int64_t committed = weir_it_committed(s.group, s.in, p);
        cr_assert_geq(committed, 0, "partition %d has a commit", p);
        cr_assert_leq(committed, weir_it_high(s.in, p));
        committed_total += committed;
    }
    /* One run from scratch: the outputs are exactly the committed prefix of
     * every partition, no more (nothing consumed was left uncommitted) and no
     * less (nothing committed lacks its output). */
    int64_t outputs = weir_it_count(s.out);
    cr_log_info("stopped after %lld of %zu events; committed %lld", (long long)outputs, n,
                (long long)committed_total);
    cr_assert_eq(outputs, committed_total);
    cr_assert_lt(outputs, (int64_t)n, "the stop landed mid-stream");
    weir_it_records_t recs;
    weir_it_read(s.out, (size_t)outputs, 60000, &recs);
    it_scored_t *scored = decode_all(&recs);
    cr_assert_eq(distinct(scored, recs.count), (size_t)outputs);
    free(scored);
    weir_it_records_free(&recs);
    it_teardown(&s);
}
