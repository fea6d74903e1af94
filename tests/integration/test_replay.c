/*
 * test_replay.c — `weir replay` on the real broker. Events and labels made by
 * `weir gen` are produced to fresh topics with their event (or label) time as
 * the Kafka timestamp, over several partitions; then:
 *  - a shift and a concept change injected at a known event show as an alert
 *    at that time and as a drop of the per-bucket metrics after it;
 *  - two replays of one range, fetching in very different sizes, write the
 *    same scored records (per partition, in order) and byte-identical
 *    reports, and the production group's committed offsets do not move;
 *  - the time bounds are honoured exactly;
 *  - the training-window warning comes when the range overlaps, and only then;
 *  - an empty range, --from after --to, a missing topic, malformed labels and
 *    events end with a clear error or a counted dead letter, never a hang.
 */
#include <avro.h>
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "it.h"
#include "schemas.h"
#include "support.h"

#define EXAMPLE_MODEL WEIR_SOURCE_DIR "/examples/model.json"
#define MARCH_MS INT64_C(1772323200000) /* 2026-03-01T00:00:00Z */
#define PARTITIONS 3

TestSuite(replay, .timeout = 600);

typedef struct {
    it_scenario_t s;
    char labels[160];
    char conf[600];
    int64_t *times; /* Kafka timestamps of the events, in file order */
    size_t n;
} scenario_t;

/* An idempotent producer: a retry under load never writes a record twice,
 * so the tests can count records exactly. */
static rd_kafka_t *exact_producer(void)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *settings[][2] = {{"bootstrap.servers", weir_it_bootstrap()},
                                 {"enable.idempotence", "true"},
                                 {"acks", "all"},
                                 {"linger.ms", "5"},
                                 {"log_level", "3"}};
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
        cr_assert_eq(
            rd_kafka_conf_set(conf, settings[i][0], settings[i][1], errstr, sizeof(errstr)),
            RD_KAFKA_CONF_OK, "%s", errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    cr_assert_not_null(rk, "%s", errstr);
    return rk;
}

/* Produces a container file's datums, Confluent-framed with @p schema_id, to
 * @p topic, partition i % PARTITIONS, with the datum's @p time_field as the
 * Kafka timestamp; returns the timestamps. */
static int64_t *produce_file(const char *file, const char *topic, int32_t schema_id,
                             const char *time_field, size_t *n)
{
    weir_container_reader_t *r;
    char err[512];
    cr_assert_eq(weir_container_reader_open(file, &r, err, sizeof(err)), 0, "%s", err);
    rd_kafka_t *p = exact_producer();
    size_t cap = 1024, count = 0;
    int64_t *times = malloc(cap * sizeof(int64_t));
    uint8_t framed[1 << 16];
    avro_value_t *value;
    const uint8_t *body;
    size_t len, skipped;
    weir_reason_t reason;
    while (weir_container_reader_next(r, &value, &body, &len, &skipped, &reason, err,
                                      sizeof(err)) == 1) {
        avro_value_t f, id;
        int64_t t = 0;
        const char *key = NULL;
        size_t key_len = 0;
        cr_assert_eq(avro_value_get_by_name(value, time_field, &f, NULL), 0);
        avro_value_get_long(&f, &t);
        avro_value_get_by_name(value, "event_id", &id, NULL);
        avro_value_get_string(&id, &key, &key_len);
        cr_assert_lt(len + 5, sizeof(framed));
        framed[0] = 0;
        framed[1] = (uint8_t)(schema_id >> 24);
        framed[2] = (uint8_t)(schema_id >> 16);
        framed[3] = (uint8_t)(schema_id >> 8);
        framed[4] = (uint8_t)schema_id;
        memcpy(framed + 5, body, len);
        rd_kafka_resp_err_t e;
        do {
            e = rd_kafka_producev(
                p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION((int32_t)(count % PARTITIONS)),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key, key_len ? key_len - 1 : 0), RD_KAFKA_V_VALUE(framed, len + 5),
                RD_KAFKA_V_TIMESTAMP(t), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(p, 50);
        } while (e == RD_KAFKA_RESP_ERR__QUEUE_FULL);
        cr_assert_eq(e, 0, "produce: %s", rd_kafka_err2str(e));
        if (count == cap) {
            cap *= 2;
            times = realloc(times, cap * sizeof(int64_t));
        }
        times[count++] = t;
    }
    weir_container_reader_close(r);
    weir_it_producer_close(p);
    *n = count;
    return times;
}

/* Topics for events and labels, filled from `weir gen` files made with
 * @p gen_extra (NULL-terminated options), and a weir.conf naming the
 * production group. */
static void setup_scenario(scenario_t *sc, const char *name, const char *count,
                           const char *const *gen_extra)
{
    memset(sc, 0, sizeof(*sc));
    it_setup(&sc->s, name, PARTITIONS, EXAMPLE_MODEL, 0, NULL);
    snprintf(sc->labels, sizeof(sc->labels), "%s-labels", sc->s.in);
    weir_it_create_topic(sc->labels, PARTITIONS);
    char events[600], labels[600], log[600];
    snprintf(events, sizeof(events), "file:%s/events.avro", sc->s.dir);
    snprintf(labels, sizeof(labels), "file:%s/labels.avro", sc->s.dir);
    snprintf(log, sizeof(log), "%s/gen.log", sc->s.dir);
    const char *argv[32] = {WEIR_BINARY,  "gen",  "--out",         events,
                            "--labels",   labels, "--count",       count,
                            "--seed",     "21",   "--start-time",  "1772323200000",
                            "--interval", "100",  "--label-delay", "50",
                            "-q"};
    size_t n = 17;
    for (size_t i = 0; gen_extra && gen_extra[i]; i++)
        argv[n++] = gen_extra[i];
    argv[n] = NULL;
    cr_assert_eq(weir_it_run(argv, log, 300000), 0, "weir gen failed (see %s)", log);
    sc->times = produce_file(events + 5, sc->s.in, 1, "event_time", &sc->n);
    size_t nl;
    free(produce_file(labels + 5, sc->labels, 4, "label_time", &nl));
    snprintf(sc->conf, sizeof(sc->conf), "%s", sc->s.conf);
}

static void teardown_scenario(scenario_t *sc)
{
    free(sc->times);
    it_teardown(&sc->s);
}

typedef struct {
    int code;
    char *err;
} run_t;

/* `weir replay -c CONF ARGS...` with stderr kept; never longer than 5 minutes. */
static run_t replay(const scenario_t *sc, const char *const args[])
{
    static int n;
    const char *argv[48] = {WEIR_BINARY, "replay", "-c", sc->conf, "-q"};
    size_t k = 5;
    for (size_t i = 0; args[i]; i++)
        argv[k++] = args[i];
    argv[k] = NULL;
    char log[600];
    snprintf(log, sizeof(log), "%s/replay-%d.log", sc->s.dir, ++n);
    run_t r;
    r.code = weir_it_run(argv, log, 300000);
    r.err = weir_test_read_file(log, NULL);
    cr_assert_neq(r.code, -1, "weir replay hung (see %s)", log);
    return r;
}

#define REPLAY(sc, ...) replay(sc, (const char *const[]){__VA_ARGS__, NULL})

static const char *in_path(const scenario_t *sc, const char *name)
{
    static __thread char path[4][600];
    static __thread int which;
    which = (which + 1) % 4;
    snprintf(path[which], sizeof(path[which]), "%s/%s", sc->s.dir, name);
    return path[which];
}

static json_t *load(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    cr_assert_not_null(j, "%s: %s", path, e.text);
    return j;
}

/* Commits offset @p at on every partition of @p topic for @p group. */
static void commit_offsets(const char *group, const char *topic, int64_t at)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", weir_it_bootstrap(), errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    cr_assert_not_null(rk, "%s", errstr);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(PARTITIONS);
    for (int p = 0; p < PARTITIONS; p++)
        rd_kafka_topic_partition_list_add(list, topic, p)->offset = at;
    cr_assert_eq(rd_kafka_commit(rk, list, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

Test(replay, a_shift_and_a_concept_change_show_at_their_time)
{
    scenario_t sc;
    /* from event 3000 (300 s after the start): amount x2.5, and fraud of a new kind */
    const char *extra[] = {"--shift", "amount=2.5@3000", "--concept-change-at", "3000", NULL};
    setup_scenario(&sc, "replay-drift", "6000", extra);
    char labels[200];
    snprintf(labels, sizeof(labels), "topic:%s", sc.labels);
    run_t r = REPLAY(&sc, "--from", "2026-03-01T00:00:00Z", "--to", "2026-03-01T01:00:00Z",
                     "--labels", labels, "--bucket", "150s", "--report", in_path(&sc, "r.json"),
                     "-X", "drift.window=1000", "-X", "drift.step=250");
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    json_t *rep = load(in_path(&sc, "r.json"));
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(rep, "counts"), "events")),
                 6000);
    json_t *champ = json_array_get(json_object_get(rep, "models"), 0);
    int64_t shift_at = sc.times[3000];
    int64_t alert_at = -1;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(json_object_get(champ, "drift"), "alerts"), i, a)
    {
        const char *kind = json_string_value(json_object_get(a, "kind"));
        const char *feature = json_string_value(json_object_get(a, "feature"));
        int64_t at = json_integer_value(json_object_get(a, "at"));
        if (!strcmp(kind, "data") && !strcmp(feature, "amount") && alert_at < 0)
            alert_at = at;
        /* nothing about amount before the shift */
        if (!strcmp(feature, "amount"))
            cr_assert_geq(at, shift_at, "an amount alert at %lld, before the shift at %lld",
                          (long long)at, (long long)shift_at);
    }
    cr_assert_geq(alert_at, 0, "no alert on amount");
    /* raised within the drift window's reach of the shift (1000 events, 100 s) */
    cr_assert_lt(alert_at, shift_at + 150000, "alert at %lld, shift at %lld", (long long)alert_at,
                 (long long)shift_at);
    /* the concept change: recall per bucket falls after it */
    double before = 0, after = 0;
    int nb = 0, na = 0;
    json_t *bk;
    json_array_foreach(json_object_get(champ, "buckets"), i, bk)
    {
        int64_t start = json_integer_value(json_object_get(bk, "start"));
        json_t *recall = json_object_get(json_object_get(bk, "metrics"), "recall");
        json_int_t positives =
            json_integer_value(json_object_get(json_object_get(bk, "metrics"), "positives"));
        if (!json_is_number(recall) || positives == 0)
            continue;
        if (start + 150000 <= shift_at) {
            before += json_number_value(recall);
            nb++;
        } else if (start >= shift_at) {
            after += json_number_value(recall);
            na++;
        }
    }
    cr_assert(nb > 0 && na > 0, "buckets before %d, after %d", nb, na);
    cr_assert_gt(before / nb, after / na + 0.15, "recall before %.3f, after %.3f", before / nb,
                 after / na);
    json_decref(rep);
    teardown_scenario(&sc);
}

/* The records of a topic, per partition in offset order, as one byte string. */
static char *topic_bytes(const char *topic, size_t expected, size_t *len)
{
    weir_it_records_t recs;
    weir_it_read(topic, expected, 120000, &recs);
    cr_assert_eq(recs.count, expected, "%s: %zu of %zu records", topic, recs.count, expected);
    size_t total = 0;
    for (size_t i = 0; i < recs.count; i++)
        total += recs.records[i].len + recs.records[i].key_len + 32;
    char *out = malloc(total + 1);
    size_t at = 0;
    for (int p = 0; p < PARTITIONS; p++) {
        /* offset order within each partition (the reader may interleave partitions) */
        for (int64_t off = 0;; off++) {
            const weir_it_record_t *found = NULL;
            for (size_t i = 0; i < recs.count && !found; i++)
                if (recs.records[i].partition == p && recs.records[i].offset == off)
                    found = &recs.records[i];
            if (!found)
                break;
            at += (size_t)snprintf(out + at, 32, "|%d|", p);
            memcpy(out + at, found->key, found->key_len);
            at += found->key_len;
            memcpy(out + at, found->value, found->len);
            at += found->len;
        }
    }
    weir_it_records_free(&recs);
    *len = at;
    return out;
}

Test(replay, two_replays_are_byte_identical_and_move_no_committed_offset)
{
    scenario_t sc;
    setup_scenario(&sc, "replay-same", "4000", NULL);
    /* the production group has committed offset 7 everywhere */
    commit_offsets(sc.s.group, sc.s.in, 7);
    char out[2][200], labels[200];
    snprintf(labels, sizeof(labels), "topic:%s", sc.labels);
    for (int k = 0; k < 2; k++) {
        char topic[160];
        snprintf(topic, sizeof(topic), "%s-replay%d", sc.s.in, k);
        weir_it_create_topic(topic, PARTITIONS);
        snprintf(out[k], sizeof(out[k]), "topic:%s", topic);
        /* the second replay fetches at most 1 KiB per partition at a time:
         * the partitions' records arrive interleaved quite differently */
        run_t r = REPLAY(&sc, "--from", "2026-03-01T00:01:00Z", "--to", "2026-03-01T00:05:00Z",
                         "--labels", labels, "--out", out[k], "--report",
                         in_path(&sc, k ? "r1.json" : "r0.json"), "-X",
                         k ? "kafka.consumer.max.partition.fetch.bytes=1024"
                           : "kafka.consumer.max.partition.fetch.bytes=1048576");
        cr_assert_eq(r.code, 0, "%s", r.err);
        free(r.err);
    }
    size_t n0, n1;
    char *a = weir_test_read_file(in_path(&sc, "r0.json"), &n0);
    char *b = weir_test_read_file(in_path(&sc, "r1.json"), &n1);
    cr_assert(n0 == n1 && !memcmp(a, b, n0), "the reports differ");
    free(a);
    free(b);
    json_t *rep = load(in_path(&sc, "r0.json"));
    size_t events =
        (size_t)json_integer_value(json_object_get(json_object_get(rep, "counts"), "events"));
    json_decref(rep);
    cr_assert_gt(events, 2000);
    a = topic_bytes(out[0] + 6, events, &n0);
    b = topic_bytes(out[1] + 6, events, &n1);
    cr_assert(n0 == n1 && !memcmp(a, b, n0), "the scored outputs differ");
    free(a);
    free(b);
    for (int p = 0; p < PARTITIONS; p++)
        cr_assert_eq(weir_it_committed(sc.s.group, sc.s.in, p), 7,
                     "the production group's offset moved on partition %d", p);
    teardown_scenario(&sc);
}

Test(replay, time_bounds_are_honoured_exactly)
{
    scenario_t sc;
    setup_scenario(&sc, "replay-bounds", "3000", NULL);
    /* a range that starts and ends between two events' timestamps, and one on them */
    int64_t from = sc.times[700], to = sc.times[2100];
    for (int exact = 0; exact < 2; exact++) {
        int64_t f = exact ? from : from - 1, t = exact ? to : to + 1;
        char fs[32], ts[32];
        snprintf(fs, sizeof(fs), "%lld", (long long)f);
        snprintf(ts, sizeof(ts), "%lld", (long long)t);
        run_t r = REPLAY(&sc, "--from", fs, "--to", ts, "--report", in_path(&sc, "r.json"));
        cr_assert_eq(r.code, 0, "%s", r.err);
        free(r.err);
        size_t expected = 0;
        int64_t first = INT64_MAX, last = INT64_MIN;
        for (size_t i = 0; i < sc.n; i++) {
            if (sc.times[i] < f || sc.times[i] >= t)
                continue;
            expected++;
            first = sc.times[i] < first ? sc.times[i] : first;
            last = sc.times[i] > last ? sc.times[i] : last;
        }
        json_t *rep = load(in_path(&sc, "r.json"));
        cr_assert_eq(json_integer_value(json_object_get(json_object_get(rep, "counts"), "events")),
                     (json_int_t)expected);
        json_t *et = json_object_get(rep, "event_time");
        char want_first[40], want_last[40];
        time_t s0 = (time_t)(first / 1000), s1 = (time_t)(last / 1000);
        struct tm tm0, tm1;
        gmtime_r(&s0, &tm0);
        gmtime_r(&s1, &tm1);
        snprintf(want_first, sizeof(want_first), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm0.tm_year + 1900, tm0.tm_mon + 1, tm0.tm_mday, tm0.tm_hour, tm0.tm_min,
                 tm0.tm_sec, (int)(first % 1000));
        snprintf(want_last, sizeof(want_last), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm1.tm_year + 1900, tm1.tm_mon + 1, tm1.tm_mday, tm1.tm_hour, tm1.tm_min,
                 tm1.tm_sec, (int)(last % 1000));
        cr_assert_str_eq(json_string_value(json_object_get(et, "first")), want_first);
        cr_assert_str_eq(json_string_value(json_object_get(et, "last")), want_last);
        json_decref(rep);
    }
    /* per-partition offsets: [10, 20) of each partition */
    run_t r = REPLAY(&sc, "--from", "offsets:0=10,1=10,2=10", "--to", "offsets:0=20,1=20,2=20",
                     "--report", in_path(&sc, "o.json"));
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    json_t *rep = load(in_path(&sc, "o.json"));
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(rep, "counts"), "events")), 30);
    json_decref(rep);
    teardown_scenario(&sc);
}

Test(replay, the_training_window_warning_fires_when_it_should_and_only_then)
{
    scenario_t sc;
    setup_scenario(&sc, "replay-guard", "1000", NULL);
    /* the example model was trained on 2026-01-01T00:00:00Z to 01:56:40Z */
    run_t r = REPLAY(&sc, "--from", "2026-03-01", "--to", "2026-03-02", "--report",
                     in_path(&sc, "after.json"));
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_null(strstr(r.err, "WARNING"), "%s", r.err);
    free(r.err);
    r = REPLAY(&sc, "--from", "2026-01-01T01:00:00Z", "--to", "2026-03-02", "--report",
               in_path(&sc, "overlap.json"));
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(strstr(r.err, "WARNING") && strstr(r.err, "training window"), "%s", r.err);
    free(r.err);
    json_t *rep = load(in_path(&sc, "overlap.json"));
    json_t *t = json_array_get(json_object_get(rep, "training"), 0);
    cr_assert(json_is_true(json_object_get(t, "overlap")));
    cr_assert_str_eq(json_string_value(json_object_get(t, "overlap_to")),
                     "2026-01-01T01:56:40.000Z");
    json_decref(rep);
    rep = load(in_path(&sc, "after.json"));
    cr_assert(json_is_false(
        json_object_get(json_array_get(json_object_get(rep, "training"), 0), "overlap")));
    json_decref(rep);
    r = REPLAY(&sc, "--from", "2026-01-01T01:00:00Z", "--to", "2026-03-02", "--strict-time");
    cr_assert_eq(r.code, 2, "%s", r.err);
    free(r.err);
    teardown_scenario(&sc);
}

Test(replay, bad_input_ends_with_a_clear_error_or_a_counted_dead_letter)
{
    scenario_t sc;
    setup_scenario(&sc, "replay-bad", "1000", NULL);
    /* a range with no data */
    run_t r = REPLAY(&sc, "--from", "2027-01-01", "--to", "2027-02-01");
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert(strstr(r.err, "no events between"), "%s", r.err);
    free(r.err);
    /* --from after --to */
    r = REPLAY(&sc, "--from", "2026-03-02", "--to", "2026-03-01");
    cr_assert_eq(r.code, 2, "%s", r.err);
    cr_assert(strstr(r.err, "not before"), "%s", r.err);
    free(r.err);
    /* a topic that does not exist */
    char missing[200];
    snprintf(missing, sizeof(missing), "topic:%s-nope", sc.s.in);
    r = REPLAY(&sc, "--in", missing);
    cr_assert_eq(r.code, 2, "%s", r.err);
    cr_assert(strstr(r.err, "does not exist"), "%s", r.err);
    free(r.err);
    /* malformed labels and a malformed event: counted, the rest replayed */
    rd_kafka_t *p = exact_producer();
    weir_it_produce(p, sc.labels, 0, "k", 1, "not a label", 11);
    weir_it_produce(p, sc.labels, 1, "k", 1, "\0\0\0\0\4\2", 6);
    weir_it_produce(p, sc.s.in, 0, "k", 1, "not an event", 12);
    weir_it_producer_close(p);
    char labels[200];
    snprintf(labels, sizeof(labels), "topic:%s", sc.labels);
    r = REPLAY(&sc, "--labels", labels, "--report", in_path(&sc, "r.json"));
    cr_assert_eq(r.code, 0, "%s", r.err);
    free(r.err);
    json_t *rep = load(in_path(&sc, "r.json"));
    json_t *lab = json_object_get(rep, "labels");
    cr_assert_eq(json_integer_value(json_object_get(lab, "invalid_total")), 2);
    cr_assert_gt(json_array_size(json_object_get(lab, "invalid_examples")), 0);
    json_t *counts = json_object_get(json_array_get(json_object_get(rep, "models"), 0), "counts");
    cr_assert_eq(json_integer_value(json_object_get(counts, "dead_letters_total")), 1);
    cr_assert_eq(json_integer_value(json_object_get(counts, "scored")), 1000,
                 "scored %lld of %lld events",
                 (long long)json_integer_value(json_object_get(counts, "scored")),
                 (long long)json_integer_value(json_object_get(counts, "events")));
    cr_assert_eq(json_integer_value(json_object_get(counts, "labelled")), 1000);
    json_decref(rep);
    teardown_scenario(&sc);
}

/* weir profile reads a topic range as weir replay does: the same records,
 * the labels joined by event id, and a missing topic is a usage error. */
Test(replay, profile_reads_a_topic_range_as_replay_does)
{
    scenario_t sc;
    setup_scenario(&sc, "replay-profile", "1500", NULL);
    int64_t from = sc.times[300], to = sc.times[1200];
    size_t expected = 0;
    for (size_t i = 0; i < sc.n; i++)
        expected += sc.times[i] >= from && sc.times[i] < to;
    char in[300], labels[200], out[600], log[600];
    snprintf(in, sizeof(in), "topic:%s@%lld..%lld", sc.s.in, (long long)from, (long long)to);
    snprintf(labels, sizeof(labels), "topic:%s", sc.labels);
    snprintf(out, sizeof(out), "%s", in_path(&sc, "profile.json"));
    snprintf(log, sizeof(log), "%s", in_path(&sc, "profile.log"));
    const char *argv[] = {WEIR_BINARY, "profile", "-c",    sc.conf, "--in", in,
                          "--labels",  labels,    "--out", out,     "-q",   NULL};
    cr_assert_eq(weir_it_run(argv, log, 300000), 0, "weir profile failed (see %s)", log);
    json_t *p = load(out);
    cr_assert_str_eq(json_string_value(json_object_get(p, "format")), "weir.profile/1");
    cr_assert_eq(json_integer_value(json_object_get(p, "rows")), (json_int_t)expected);
    json_t *target = json_object_get(p, "target");
    cr_assert_eq(json_integer_value(json_object_get(target, "labelled")), (json_int_t)expected);
    cr_assert_not_null(
        json_object_get(json_object_get(json_object_get(p, "reference"), "features"), "amount"));
    json_decref(p);
    snprintf(in, sizeof(in), "topic:%s-nope", sc.s.in);
    argv[5] = in;
    cr_assert_eq(weir_it_run(argv, log, 300000), 2, "a missing topic (see %s)", log);
    char *err = weir_test_read_file(log, NULL);
    cr_assert(strstr(err, "does not exist"), "%s", err);
    free(err);
    teardown_scenario(&sc);
}
