/*
 * test_drift.c — drift monitoring in `weir run` on the real broker: a
 * covariate shift raises a data-drift alert for the shifted feature only and a
 * recovered record once it is reverted; a concept change with labels raises a
 * concept-drift alert; a stationary stream raises none.
 */
#include <avro.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "it.h"
#include "schemas.h"
#include "support.h"

typedef struct {
    int kind; /* 0 data, 1 prediction, 2 concept, 3 recovered */
    char feature[64];
    char test[64];
    int64_t window_end;
    int severity;
} alert_t;

static const char *kinds[] = {"data", "prediction", "concept", "recovered"};

/* Reads every DriftAlert of a topic, in partition order (one partition). */
static alert_t *read_alerts(const char *topic, size_t *n)
{
    int64_t total = weir_it_count(topic);
    weir_it_records_t recs;
    weir_it_read(topic, (size_t)total, 60000, &recs);
    avro_schema_t schema;
    weir_reader_t *reader;
    char err[256];
    cr_assert_eq(weir_schema_parse(weir_schema_text("drift_alert"), &schema, err, sizeof(err)), 0);
    cr_assert_eq(weir_reader_new(schema, &reader, err, sizeof(err)), 0);
    avro_schema_decref(schema);
    alert_t *alerts = calloc(recs.count + 1, sizeof(*alerts));
    for (size_t i = 0; i < recs.count; i++) {
        const weir_it_record_t *r = &recs.records[i];
        avro_value_t *v, f, b;
        weir_reason_t reason;
        cr_assert(r->len > 5 && r->value[0] == 0, "alerts are Confluent-framed");
        cr_assert_eq(weir_reader_read(reader, r->value + 5, r->len - 5, 1, &v, NULL, &reason, err,
                                      sizeof(err)),
                     0, "alert %zu does not decode: %s", i, err);
        avro_value_get_by_name(v, "kind", &f, NULL);
        avro_value_get_enum(&f, &alerts[i].kind);
        avro_value_get_by_name(v, "feature", &f, NULL);
        avro_value_get_current_branch(&f, &b);
        const char *s = "";
        size_t len = 1;
        if (avro_value_get_type(&b) == AVRO_STRING)
            avro_value_get_string(&b, &s, &len);
        snprintf(alerts[i].feature, sizeof(alerts[i].feature), "%s", s);
        avro_value_get_by_name(v, "test", &f, NULL);
        avro_value_get_string(&f, &s, &len);
        snprintf(alerts[i].test, sizeof(alerts[i].test), "%s", s);
        avro_value_get_by_name(v, "window_end", &f, NULL);
        avro_value_get_long(&f, &alerts[i].window_end);
        avro_value_get_by_name(v, "severity", &f, NULL);
        avro_value_get_enum(&f, &alerts[i].severity);
        /* the key names the model, feature and test */
        char key[256];
        snprintf(key, sizeof(key), "fraud-lr/%s/", alerts[i].feature[0] ? alerts[i].feature : "");
        if (alerts[i].feature[0])
            cr_assert(!strncmp(r->key, key, strlen(key)), "key %s", r->key);
        cr_log_info("alert %s %s %s severity %d window_end %lld", kinds[alerts[i].kind],
                    alerts[i].feature, alerts[i].test, alerts[i].severity,
                    (long long)alerts[i].window_end);
    }
    weir_reader_destroy(reader);
    *n = recs.count;
    weir_it_records_free(&recs);
    return alerts;
}

/* weir gen COUNT events with SEED at event times START + ~1 ms each. */
static void gen_block(const it_scenario_t *s, const char *count, const char *seed,
                      const char *start, const char *shift, const char *extra1, const char *extra2)
{
    char out[256], log[512];
    snprintf(out, sizeof(out), "topic:%s", s->in);
    snprintf(log, sizeof(log), "%s/gen.log", s->dir);
    const char *argv[24] = {
        WEIR_BINARY, "gen",    "-b", weir_it_bootstrap(), "--out", out,          "--count",
        count,       "--seed", seed, "--start-time",      start,   "--interval", "1",
        "-q"};
    int n = 15;
    if (shift) {
        argv[n++] = "--shift";
        argv[n++] = shift;
    }
    if (extra1)
        argv[n++] = extra1;
    if (extra2)
        argv[n++] = extra2;
    argv[n] = NULL;
    cr_assert_eq(weir_it_run(argv, log, 300000), 0, "weir gen failed (see %s)", log);
}

static char *alerts_conf(char *buf, size_t n, const char *alerts, const char *labels)
{
    snprintf(buf, n, "alerts.topic = %s\n%s%s%s", alerts, labels ? "labels.topic = " : "",
             labels ? labels : "", labels ? "\n" : "");
    return buf;
}

Test(drift, a_shift_alerts_on_the_shifted_feature_only_and_recovers_when_reverted, .timeout = 400)
{
    int port = weir_it_free_port();
    char alerts[200], extra[512];
    it_scenario_t s;
    weir_it_unique("it-alerts", alerts, sizeof(alerts));
    weir_it_create_topic(alerts, 1);
    it_setup(&s, "shift", 3, NULL, port, alerts_conf(extra, sizeof(extra), alerts, NULL));
    pid_t weir = it_start(&s, 1);

    /* normal, then amount x1.5, then normal again; each block is consumed
     * before the next is written, so the window sees them in order */
    gen_block(&s, "20000", "31", "1767225600000", NULL, NULL, NULL);
    cr_assert(it_wait_metric(port, "weir_events_scored_total", 20000, 120000));
    gen_block(&s, "20000", "32", "1767225700000", "amount=1.5@0", NULL, NULL);
    cr_assert(it_wait_metric(port, "weir_events_scored_total", 40000, 120000));
    gen_block(&s, "30000", "33", "1767225800000", NULL, NULL, NULL);
    int recovered = it_wait_metric(port, "weir_drift_alerts_total{kind=\"recovered\"}", 1, 120000);
    if (!recovered)
        it_dump_log(&s, 1);
    cr_assert(it_wait_metric(port, "weir_events_scored_total", 70000, 120000));
    cr_assert_eq(it_stop(weir), 0);
    cr_assert(recovered, "a recovered record after the revert");

    size_t n;
    alert_t *a = read_alerts(alerts, &n);
    size_t amount_alerts = 0, amount_recovered = 0;
    int64_t first = -1;
    for (size_t i = 0; i < n; i++) {
        if (a[i].kind == 0) {
            cr_assert_str_eq(a[i].feature, "amount", "no data alert for an unshifted feature");
            cr_assert(a[i].window_end >= 1767225700000, "no alert before the shift");
            amount_alerts++;
            if (first < 0)
                first = a[i].window_end - 1767225700000;
        }
        if (a[i].kind == 3 && !strcmp(a[i].feature, "amount"))
            amount_recovered++;
    }
    cr_assert_gt(amount_alerts, 0, "the shift of amount raised a data-drift alert");
    cr_assert_gt(amount_recovered, 0, "amount recovered");
    cr_log_info("first amount alert about %lld events after the shift (1 ms apart)",
                (long long)first);
    cr_assert_lt(first, 10000, "detected within 10,000 events");
    free(a);
    it_teardown(&s);
}

/* Alerts are produced outside the scored stream: with a producer queue far
 * smaller than a batch they wait in the outbox for room, and never make a
 * batch wait or run inside another (the old flush did both). */
Test(drift, alerts_meeting_a_full_producer_queue_are_all_delivered, .timeout = 400)
{
    int port = weir_it_free_port();
    char alerts[200], extra[768];
    it_scenario_t s;
    weir_it_unique("it-qalerts", alerts, sizeof(alerts));
    weir_it_create_topic(alerts, 1);
    snprintf(extra, sizeof(extra),
             "alerts.topic = %s\nkafka.producer.queue.buffering.max.messages = 40\n"
             "batch.max = 512\ndrift.window = 1000\ndrift.step = 200\n",
             alerts);
    it_setup(&s, "qalerts", 3, NULL, port, extra);
    pid_t weir = it_start(&s, 1);
    gen_block(&s, "8000", "35", "1767225600000", NULL, NULL, NULL);
    gen_block(&s, "8000", "36", "1767225700000", "amount=2.0@0", NULL, NULL);
    gen_block(&s, "8000", "37", "1767225800000", NULL, NULL, NULL);
    int done = it_wait_metric(port, "weir_produced_total{kind=\"scored\"}", 24000, 180000);
    if (!done)
        it_dump_log(&s, 1);
    cr_assert(done);
    double raised = 0;
    const char *ks[] = {"data", "prediction", "concept", "recovered"};
    for (int k = 0; k < 4; k++) {
        char sample[96];
        snprintf(sample, sizeof(sample), "weir_drift_alerts_total{kind=\"%s\"}", ks[k]);
        raised += it_metric(port, sample);
    }
    cr_assert_gt(raised, 0, "the shift raised alerts");
    cr_assert(it_wait_metric(port, "weir_alerts_produced_total", raised, 60000),
              "every alert raised was delivered");
    cr_assert_gt(it_metric(port, "weir_backpressure_pauses_total"), 0, "the queue was full");
    cr_assert_eq(it_metric(port, "weir_alert_errors_total"), 0);
    cr_assert_eq(it_stop(weir), 0);
    cr_assert_eq(weir_it_count(alerts), (int64_t)raised, "the alerts topic holds each one once");
    it_teardown(&s);
}

Test(drift, a_concept_change_with_labels_raises_a_concept_alert, .timeout = 400)
{
    int port = weir_it_free_port();
    char alerts[200], labels[200], extra[512], labels_out[256], out[256], ignored[512];
    it_scenario_t s;
    weir_it_unique("it-calerts", alerts, sizeof(alerts));
    weir_it_unique("it-labels", labels, sizeof(labels));
    weir_it_create_topic(alerts, 1);
    weir_it_create_topic(labels, 3);
    it_setup(&s, "concept", 3, NULL, port, alerts_conf(extra, sizeof(extra), alerts, labels));
    pid_t weir = it_start(&s, 1);

    /* The events first; their labels once they are scored (labels come late
     * in real life: a label that arrives before its prediction is unmatched).
     * The same seed gives the same events, so the second run's labels are
     * those of the first run's events. From event 40,000 (event time about
     * 2,000 s after the start) fraud follows a pattern the model never saw. */
    snprintf(out, sizeof(out), "topic:%s", s.in);
    snprintf(labels_out, sizeof(labels_out), "topic:%s", labels);
    snprintf(ignored, sizeof(ignored), "file:%s/ignored.avro", s.dir);
    const char *events[] = {
        WEIR_BINARY, "gen",    "-b", weir_it_bootstrap(),   "--out", out,  "--count",
        "140000",    "--seed", "34", "--concept-change-at", "40000", "-q", NULL};
    cr_assert_eq(weir_it_run(events, NULL, 300000), 0);
    cr_assert(it_wait_metric(port, "weir_events_scored_total", 140000, 240000));
    const char *truth[] = {WEIR_BINARY,
                           "gen",
                           "-b",
                           weir_it_bootstrap(),
                           "--out",
                           ignored,
                           "--count",
                           "140000",
                           "--seed",
                           "34",
                           "--concept-change-at",
                           "40000",
                           "--labels",
                           labels_out,
                           "--label-delay",
                           "0",
                           "-q",
                           NULL};
    cr_assert_eq(weir_it_run(truth, NULL, 300000), 0);
    int joined = it_wait_metric(port, "weir_labels_total{outcome=\"matched\"}", 140000, 240000);
    int alerted = it_wait_metric(port, "weir_drift_alerts_total{kind=\"concept\"}", 1, 60000);
    cr_log_info("labels matched %.0f, unmatched %.0f; concept detections: ddm %.0f, adwin %.0f, "
                "page_hinkley %.0f",
                it_metric(port, "weir_labels_total{outcome=\"matched\"}"),
                it_metric(port, "weir_labels_total{outcome=\"unmatched\"}"),
                it_metric(port, "weir_concept_detections_total{detector=\"ddm\"}"),
                it_metric(port, "weir_concept_detections_total{detector=\"adwin\"}"),
                it_metric(port, "weir_concept_detections_total{detector=\"page_hinkley\"}"));
    if (!alerted || !joined)
        it_dump_log(&s, 1);
    cr_assert(joined, "every label joins its prediction");
    cr_assert(alerted, "a concept-drift alert");
    cr_assert_eq(it_stop(weir), 0);

    /* Concept windows run on prediction (wall) time: the label join's TTL
     * needs a clock that moves with the service, not replayed event times. */
    size_t n;
    alert_t *a = read_alerts(alerts, &n);
    size_t concept = 0, performance = 0;
    for (size_t i = 0; i < n; i++) {
        concept += a[i].kind == 2;
        performance += a[i].kind == 2 && !strncmp(a[i].test, "performance", 11);
    }
    cr_assert_gt(concept, 0);
    cr_assert_gt(performance, 0, "the windowed F1/AUC fell below the reference");
    free(a);
    it_teardown(&s);
}

Test(drift, a_stationary_stream_raises_no_alert, .timeout = 400)
{
    int port = weir_it_free_port();
    char alerts[200], extra[512];
    it_scenario_t s;
    weir_it_unique("it-salerts", alerts, sizeof(alerts));
    weir_it_create_topic(alerts, 1);
    it_setup(&s, "stationary", 3, NULL, port, alerts_conf(extra, sizeof(extra), alerts, NULL));
    /* the whole stream first: weir catches up, reading partitions in chunks
     * (the case where a window could hold one partition's keys only) */
    it_gen(&s, 200000, 35, NULL);
    pid_t weir = it_start(&s, 1);
    cr_assert(it_wait_metric(port, "weir_events_scored_total", 200000, 240000));
    double evaluations = it_metric(port, "weir_drift_evaluations_total");
    cr_log_info("%.0f drift evaluations", evaluations);
    cr_assert_geq(evaluations, 190, "drift was evaluated every 1000 events");
    for (int k = 0; k < 3; k++) {
        char sample[128];
        snprintf(sample, sizeof(sample), "weir_drift_alerts_total{kind=\"%s\"}", kinds[k]);
        cr_assert_eq(it_metric(port, sample), 0, "no %s alert", kinds[k]);
    }
    cr_assert_eq(it_stop(weir), 0);
    cr_assert_eq(weir_it_count(alerts), 0, "the alert topic stays empty");
    it_teardown(&s);
}
