/*
 * test_replay.c — `weir replay` on Avro files, without a broker, through the
 * built binary: byte-identical output and report from run to run, champion
 * and challengers side by side, a shift seen at its time, labels arriving
 * late, the training-window guard, clear errors for bad ranges and options,
 * and the progress line.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "replay.h"
#include "schemas.h"
#include "support.h"

#define EXAMPLE_MODEL WEIR_SOURCE_DIR "/examples/model.json"
/* 2026-03-01T00:00:00Z: after the example model's training window */
#define MARCH "1772323200000"
#define MARCH_MS INT64_C(1772323200000)

static char *dir;

static void setup(void)
{
    dir = weir_it_tmpdir();
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(dir);
}

TestSuite(replay, .init = setup, .fini = teardown, .timeout = 240);

static const char *path_of(const char *name)
{
    static __thread char path[8][512];
    static __thread int which;
    which = (which + 1) % 8;
    snprintf(path[which], sizeof(path[which]), "%s/%s", dir, name);
    return path[which];
}

typedef struct {
    int code;
    char *out, *err;
} result_t;

static result_t weir(const char *const args[])
{
    const char *argv[48] = {WEIR_BINARY};
    size_t n = 1;
    for (size_t i = 0; args[i]; i++) {
        cr_assert_lt(n, 46);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    char out_path[512], err_path[512];
    snprintf(out_path, sizeof(out_path), "%s/stdout", dir);
    snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int o = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0)
            _exit(127);
        dup2(o, 1);
        dup2(e, 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    result_t r;
    r.code = weir_it_wait(pid, 200000);
    r.out = weir_test_read_file(out_path, NULL);
    r.err = weir_test_read_file(err_path, NULL);
    cr_assert(r.out && r.err);
    return r;
}

static void result_free(result_t *r)
{
    free(r->out);
    free(r->err);
}

#define WEIR(...) weir((const char *const[]){__VA_ARGS__, NULL})

/* `weir gen` of @p count events (and labels) into the test's folder. */
static void gen(const char *name, const char *count, const char *start, const char *extra1,
                const char *extra2)
{
    char out[600], labels[600];
    snprintf(out, sizeof(out), "file:%s/%s.avro", dir, name);
    snprintf(labels, sizeof(labels), "file:%s/%s-labels.avro", dir, name);
    result_t r = WEIR("gen", "--out", out, "--labels", labels, "--count", count, "--seed", "11",
                      "--start-time", start, "--interval", "100", "--label-delay", "50", "-q",
                      extra1 ? extra1 : "-q", extra2 ? extra2 : "-q");
    cr_assert_eq(r.code, 0, "weir gen: %s", r.err);
    result_free(&r);
}

/* A challenger: the example model renamed, its threshold moved, its weights
 * shrunk a little. */
static const char *challenger(void)
{
    json_error_t e;
    json_t *m = json_load_file(EXAMPLE_MODEL, 0, &e);
    cr_assert_not_null(m);
    json_object_set_new(m, "name", json_string("fraud-lr-b"));
    json_object_set_new(m, "version", json_string("2.0.0"));
    json_object_set_new(m, "threshold", json_real(0.3));
    json_t *w = json_object_get(json_object_get(m, "model"), "weights");
    for (size_t i = 0; i < json_array_size(w); i++)
        json_array_set_new(w, i, json_real(json_number_value(json_array_get(w, i)) * 0.8));
    const char *path = path_of("challenger.json");
    cr_assert_eq(json_dump_file(m, path, 0), 0);
    json_decref(m);
    return path;
}

static json_t *load(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    cr_assert_not_null(j, "%s: %s", path, e.text);
    return j;
}

static int same_bytes(const char *a, const char *b)
{
    size_t na, nb;
    char *x = weir_test_read_file(a, &na), *y = weir_test_read_file(b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

Test(replay, two_replays_give_byte_identical_output_and_report)
{
    gen("ev", "6000", MARCH, NULL, NULL);
    char out1[512], out2[512];
    snprintf(out1, sizeof(out1), "%s", path_of("out1.avro"));
    snprintf(out2, sizeof(out2), "%s", path_of("out2.avro"));
    char o1[600], o2[600], in[600], labels[600];
    snprintf(o1, sizeof(o1), "file:%s", out1);
    snprintf(o2, sizeof(o2), "file:%s", out2);
    snprintf(in, sizeof(in), "file:%s", path_of("ev.avro"));
    snprintf(labels, sizeof(labels), "file:%s", path_of("ev-labels.avro"));
    const char *chal = challenger();
    for (int run = 0; run < 2; run++) {
        result_t r =
            WEIR("replay", "--in", in, "--model", EXAMPLE_MODEL, "--model", chal, "--labels",
                 labels, "--out", run ? o2 : o1, "--report", path_of(run ? "r2.json" : "r1.json"),
                 "-X", "drift.window=1000", "-X", "drift.step=250", "-q");
        cr_assert_eq(r.code, 0, "run %d: %s", run, r.err);
        result_free(&r);
    }
    cr_assert(same_bytes(out1, out2), "the scored outputs differ");
    cr_assert(same_bytes(path_of("r1.json"), path_of("r2.json")), "the reports differ");
    json_t *rep = load(path_of("r1.json"));
    cr_assert_str_eq(json_string_value(json_object_get(rep, "format")), "weir.backtest/1");
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(rep, "counts"), "events")),
                 6000);
    /* the output holds every model's scored event of every event */
    weir_container_reader_t *reader;
    char err[512];
    cr_assert_eq(weir_container_reader_open(out1, &reader, err, sizeof(err)), 0, "%s", err);
    size_t datums = 0;
    avro_value_t *value;
    const uint8_t *body;
    size_t body_len, skipped;
    weir_reason_t reason;
    while (weir_container_reader_next(reader, &value, &body, &body_len, &skipped, &reason, err,
                                      sizeof(err)) == 1)
        datums++;
    weir_container_reader_close(reader);
    cr_assert_eq(datums, 12000);
    json_decref(rep);
}

Test(replay, champion_and_challenger_are_compared_side_by_side)
{
    gen("ev", "5000", MARCH, NULL, NULL);
    char in[600], labels[600];
    snprintf(in, sizeof(in), "file:%s", path_of("ev.avro"));
    snprintf(labels, sizeof(labels), "file:%s", path_of("ev-labels.avro"));
    result_t r = WEIR("replay", "--in", in, "--model", EXAMPLE_MODEL, "--model", challenger(),
                      "--labels", labels, "--report", path_of("r.json"), "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(strstr(r.err, "champion") && strstr(r.err, "challenger"), "%s", r.err);
    result_free(&r);
    json_t *rep = load(path_of("r.json"));
    json_t *models = json_object_get(rep, "models");
    cr_assert_eq(json_array_size(models), 2);
    json_t *champ = json_array_get(models, 0), *chal = json_array_get(models, 1);
    cr_assert_str_eq(json_string_value(json_object_get(champ, "role")), "champion");
    cr_assert_str_eq(json_string_value(json_object_get(chal, "name")), "fraud-lr-b");
    json_t *vs = json_object_get(chal, "vs_champion");
    json_t *decision = json_object_get(vs, "decision");
    cr_assert_eq(json_integer_value(json_object_get(decision, "events")), 5000);
    double share = json_number_value(json_object_get(decision, "share"));
    cr_assert(share > 0 && share < 1, "share of differing decisions %g", share);
    /* the delta is the difference of the two metrics */
    double a = json_number_value(json_object_get(json_object_get(champ, "metrics"), "roc_auc"));
    double b = json_number_value(json_object_get(json_object_get(chal, "metrics"), "roc_auc"));
    double d = json_number_value(json_object_get(json_object_get(vs, "delta"), "roc_auc"));
    cr_assert_float_eq(d, b - a, 1e-12);
    /* every labelled event is in the champion's confusion matrix */
    json_t *m = json_object_get(champ, "metrics"), *cm = json_object_get(m, "confusion");
    json_int_t sum = 0;
    const char *keys[] = {"tp", "fp", "tn", "fn"};
    for (int k = 0; k < 4; k++)
        sum += json_integer_value(json_object_get(cm, keys[k]));
    cr_assert_eq(sum, json_integer_value(json_object_get(m, "n")));
    cr_assert_eq(json_integer_value(json_object_get(m, "n")), 5000);
    cr_assert_not_null(json_object_get(champ, "roc"));
    cr_assert_not_null(json_object_get(champ, "calibration"));
    json_t *sweep = json_object_get(champ, "threshold_sweep");
    cr_assert_eq(json_array_size(json_object_get(sweep, "points")), 101);
    cr_assert_not_null(json_object_get(json_object_get(sweep, "optimal"), "cost"));
    json_decref(rep);
}

Test(replay, a_shift_raises_its_alert_after_it_and_not_before)
{
    /* amount doubled from event 3000 on: at 100 ms a step, 300 s after the start */
    gen("ev", "6000", MARCH, "--shift", "amount=2.5@3000");
    char in[600];
    snprintf(in, sizeof(in), "file:%s", path_of("ev.avro"));
    result_t r = WEIR("replay", "--in", in, "--model", EXAMPLE_MODEL, "--report", path_of("r.json"),
                      "--bucket", "1m", "-X", "drift.window=1000", "-X", "drift.step=250", "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    json_t *rep = load(path_of("r.json"));
    json_t *champ = json_array_get(json_object_get(rep, "models"), 0);
    json_t *alerts = json_object_get(json_object_get(champ, "drift"), "alerts");
    int64_t first_amount = -1;
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a)
    {
        if (!strcmp(json_string_value(json_object_get(a, "kind")), "data") &&
            !strcmp(json_string_value(json_object_get(a, "feature")), "amount")) {
            first_amount = json_integer_value(json_object_get(a, "at"));
            cr_assert_not_null(json_object_get(a, "histogram"), "no window histogram");
            break;
        }
    }
    cr_assert_geq(first_amount, 0, "no alert on amount");
    /* the shift is at about 300 s; the alert comes after it, within the window */
    cr_assert_gt(first_amount, MARCH_MS + 290000);
    cr_assert_lt(first_amount, MARCH_MS + 420000);
    /* and the drift timeline holds every evaluation */
    json_t *data = json_object_get(json_object_get(champ, "drift"), "data");
    /* due every 250 events, evaluated once per batch of 512 as weir run does */
    cr_assert_geq(json_integer_value(json_object_get(data, "evaluations")), 10);
    json_t *series = json_array_get(json_object_get(data, "series"), 0);
    cr_assert_eq(json_array_size(json_object_get(series, "effect")),
                 (size_t)json_integer_value(json_object_get(data, "evaluations")));
    json_decref(rep);
}

Test(replay, late_labels_count_only_when_they_arrive)
{
    gen("ev", "4000", MARCH, NULL, NULL);
    char in[600], labels[600];
    snprintf(in, sizeof(in), "file:%s", path_of("ev.avro"));
    snprintf(labels, sizeof(labels), "file:%s", path_of("ev-labels.avro"));
    json_int_t labelled[2];
    for (int run = 0; run < 2; run++) {
        /* 4000 events span ~400 s; a 5 min delay with a 1 min grace loses the last ~4 min */
        result_t r = WEIR("replay", "--in", in, "--model", EXAMPLE_MODEL, "--labels", labels,
                          "--label-delay", run ? "5m" : "0", "--label-grace", "1m", "--report",
                          path_of("r.json"), "-q");
        cr_assert_eq(r.code, 0, "%s", r.err);
        result_free(&r);
        json_t *rep = load(path_of("r.json"));
        json_t *champ = json_array_get(json_object_get(rep, "models"), 0);
        labelled[run] =
            json_integer_value(json_object_get(json_object_get(champ, "counts"), "labelled"));
        json_t *lab = json_object_get(rep, "labels");
        cr_assert_eq(json_integer_value(json_object_get(lab, "delay_ms")), run ? 300000 : 0);
        json_decref(rep);
    }
    cr_assert_eq(labelled[0], 4000);
    cr_assert(labelled[1] > 500 && labelled[1] < 2500, "labelled with the delay: %lld",
              (long long)labelled[1]);
}

Test(replay, the_training_window_overlap_is_loud_and_only_when_it_overlaps)
{
    /* the example model was trained on 2026-01-01T00:00:00Z to 01:56:40Z */
    gen("jan", "2000", "1767225600000", NULL, NULL);
    gen("mar", "2000", MARCH, NULL, NULL);
    char jan[600], mar[600];
    snprintf(jan, sizeof(jan), "file:%s", path_of("jan.avro"));
    snprintf(mar, sizeof(mar), "file:%s", path_of("mar.avro"));
    result_t r = WEIR("replay", "--in", jan, "--model", EXAMPLE_MODEL, "--report",
                      path_of("jan.json"), "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(strstr(r.err, "WARNING") && strstr(r.err, "training window"), "%s", r.err);
    result_free(&r);
    json_t *rep = load(path_of("jan.json"));
    json_t *t = json_array_get(json_object_get(rep, "training"), 0);
    cr_assert(json_is_true(json_object_get(t, "overlap")));
    cr_assert_eq(json_array_size(json_object_get(rep, "warnings")), 1);
    json_decref(rep);

    r = WEIR("replay", "--in", mar, "--model", EXAMPLE_MODEL, "--report", path_of("mar.json"),
             "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_null(strstr(r.err, "WARNING"), "%s", r.err);
    result_free(&r);
    rep = load(path_of("mar.json"));
    t = json_array_get(json_object_get(rep, "training"), 0);
    cr_assert(json_is_false(json_object_get(t, "overlap")));
    cr_assert_eq(json_array_size(json_object_get(rep, "warnings")), 0);
    json_decref(rep);

    /* --strict-time: an error, decided before reading when the range is given */
    r = WEIR("replay", "--in", jan, "--model", EXAMPLE_MODEL, "--strict-time", "-q");
    cr_assert_eq(r.code, 2, "%s", r.err);
    result_free(&r);
    r = WEIR("replay", "--in", mar, "--model", EXAMPLE_MODEL, "--from", "2026-01-01T01:00:00Z",
             "--to", "2026-01-02", "--strict-time", "-q");
    cr_assert_eq(r.code, 2, "%s", r.err);
    cr_assert(strstr(r.err, "overlaps"), "%s", r.err);
    result_free(&r);
}

Test(replay, bad_ranges_and_options_are_usage_errors)
{
    struct {
        const char *args[8];
        const char *says;
    } cases[] = {
        {{"--from", "2026-03-02", "--to", "2026-03-01", NULL}, "not before"},
        {{"--from", "2026-03-01", "--to", "2026-03-01", NULL}, "not before"},
        {{"--from", "yesterday", NULL}, "--from"},
        {{"--from", "2026-02-31", NULL}, "--from"},
        {{"--to", "offsets:0=x", NULL}, "--to"},
        {{"--from", "offsets:0=10", "--to", "offsets:0=5", NULL}, "after"},
        {{"--in", "kafka:tx", NULL}, "--in"},
        {{"--bucket", "soon", NULL}, "--bucket"},
        {{"--labels", "labels.avro", NULL}, "--labels"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *args[16] = {"replay", "--model", EXAMPLE_MODEL};
        size_t n = 3;
        for (size_t k = 0; cases[i].args[k]; k++)
            args[n++] = cases[i].args[k];
        args[n] = NULL;
        result_t r = weir(args);
        cr_assert_eq(r.code, 2, "case %zu: exit %d: %s", i, r.code, r.err);
        cr_assert(strstr(r.err, cases[i].says), "case %zu: %s", i, r.err);
        result_free(&r);
    }
    result_t r = WEIR("replay", "-h");
    cr_assert_eq(r.code, 0);
    cr_assert(strstr(r.out, "--strict-time"));
    result_free(&r);
}

Test(replay, a_range_without_events_is_a_clear_error)
{
    gen("ev", "500", MARCH, NULL, NULL);
    char in[600];
    snprintf(in, sizeof(in), "file:%s", path_of("ev.avro"));
    result_t r = WEIR("replay", "--in", in, "--model", EXAMPLE_MODEL, "--from", "2027-01-01",
                      "--to", "2027-01-02", "--report", path_of("r.json"), "-q");
    cr_assert_eq(r.code, 1, "%s", r.err);
    cr_assert(strstr(r.err, "no events between 2027-01-01 and 2027-01-02"), "%s", r.err);
    cr_assert(strstr(r.err, "500 outside the time bounds"), "%s", r.err);
    cr_assert_neq(access(path_of("r.json"), F_OK), 0, "a report for nothing");
    result_free(&r);
}

Test(replay, time_bounds_of_a_file_apply_to_event_time)
{
    gen("ev", "3000", MARCH, NULL, NULL);
    char in[600];
    snprintf(in, sizeof(in), "file:%s", path_of("ev.avro"));
    /* [00:01:00, 00:02:00) of the events' time */
    result_t r =
        WEIR("replay", "--in", in, "--model", EXAMPLE_MODEL, "--from", "2026-03-01T00:01:00Z",
             "--to", "2026-03-01T00:02:00Z", "--report", path_of("r.json"), "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    json_t *rep = load(path_of("r.json"));
    json_t *et = json_object_get(rep, "event_time");
    const char *first = json_string_value(json_object_get(et, "first"));
    const char *last = json_string_value(json_object_get(et, "last"));
    cr_assert(strncmp(first, "2026-03-01T00:01:00", 19) == 0, "first %s", first);
    cr_assert(strncmp(last, "2026-03-01T00:01:59", 19) == 0, "last %s", last);
    json_int_t events =
        json_integer_value(json_object_get(json_object_get(rep, "counts"), "events"));
    json_int_t outside =
        json_integer_value(json_object_get(json_object_get(rep, "counts"), "outside_range"));
    cr_assert_eq(events + outside, 3000);
    cr_assert(events > 450 && events < 750, "%lld events in a minute", (long long)events);
    json_decref(rep);
}

Test(replay, labels_that_are_not_a_class_are_counted)
{
    gen("ev", "1000", MARCH, NULL, NULL);
    /* 100 labels of 7 (no class of a binary model), 100 of "fraud" (a class
     * name), one for an event that is not in the input */
    avro_schema_t schema;
    char err[512];
    cr_assert_eq(weir_schema_parse(weir_schema_text("label"), &schema, err, sizeof(err)), 0);
    weir_container_writer_t *w;
    cr_assert_eq(
        weir_container_writer_open(path_of("labels.avro"), schema, "null", &w, err, sizeof(err)), 0,
        "%s", err);
    weir_buf_t body;
    weir_buf_init(&body, 1 << 16);
    for (int i = 0; i < 201; i++) {
        char id[32];
        snprintf(id, sizeof(id), i < 200 ? "tx-11-%d" : "nope", i);
        weir_label_t l = {.event_id = id,
                          .event_id_len = strlen(id),
                          .is_string = i >= 100,
                          .value = 7,
                          .string = "fraud",
                          .string_len = 5,
                          .label_time_ms = MARCH_MS};
        weir_buf_reset(&body);
        cr_assert_eq(weir_label_encode(&body, &l), 0);
        cr_assert_eq(weir_container_writer_append(w, body.data, body.len), 0);
    }
    cr_assert_eq(weir_container_writer_close(w, err, sizeof(err)), 0);
    weir_buf_dispose(&body);
    avro_schema_decref(schema);
    char in[600], labels[600];
    snprintf(in, sizeof(in), "file:%s", path_of("ev.avro"));
    snprintf(labels, sizeof(labels), "file:%s", path_of("labels.avro"));
    result_t r = WEIR("replay", "--in", in, "--model", EXAMPLE_MODEL, "--labels", labels,
                      "--report", path_of("r.json"), "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    json_t *rep = load(path_of("r.json"));
    json_t *lab = json_object_get(rep, "labels");
    cr_assert_eq(json_integer_value(json_object_get(lab, "read")), 201);
    cr_assert_eq(json_integer_value(json_object_get(lab, "joined")), 200);
    cr_assert_eq(json_integer_value(json_object_get(lab, "unmatched")), 1);
    json_t *counts = json_object_get(json_array_get(json_object_get(rep, "models"), 0), "counts");
    cr_assert_eq(json_integer_value(json_object_get(counts, "labelled")), 100);
    cr_assert_eq(json_integer_value(json_object_get(counts, "labels_not_a_class")), 100);
    json_t *m = json_object_get(json_array_get(json_object_get(rep, "models"), 0), "metrics");
    cr_assert_eq(json_integer_value(json_object_get(m, "positives")), 100);
    json_decref(rep);
}

/* A challenger that refuses a missing customer_age (the champion imputes it):
 * each event it cannot score is a dead letter counted by reason, with an
 * example naming the feature, and the comparison keeps to the events both
 * models scored. */
Test(replay, events_a_model_cannot_score_are_counted_dead_letters_with_their_reason)
{
    gen("ev", "2000", MARCH, NULL, NULL);
    json_error_t e;
    json_t *m = json_load_file(EXAMPLE_MODEL, 0, &e);
    cr_assert_not_null(m);
    json_object_set_new(m, "name", json_string("fraud-lr-strict"));
    json_t *features = json_object_get(m, "features"), *f;
    size_t i;
    int found = 0;
    json_array_foreach(features, i, f)
    {
        if (strcmp(json_string_value(json_object_get(f, "name")), "customer_age"))
            continue;
        json_object_set_new(f, "missing", json_string("error"));
        json_array_remove(json_object_get(f, "transform"), 0); /* the impute step */
        found = 1;
    }
    cr_assert(found);
    cr_assert_eq(json_dump_file(m, path_of("strict.json"), 0), 0);
    json_decref(m);
    char in[600];
    snprintf(in, sizeof(in), "file:%s", path_of("ev.avro"));
    result_t r = WEIR("replay", "--in", in, "--model", EXAMPLE_MODEL, "--model",
                      path_of("strict.json"), "--report", path_of("r.json"), "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    json_t *rep = load(path_of("r.json"));
    json_t *champ = json_array_get(json_object_get(rep, "models"), 0);
    json_t *strict = json_array_get(json_object_get(rep, "models"), 1);
    json_t *cc = json_object_get(champ, "counts"), *sc = json_object_get(strict, "counts");
    cr_assert_eq(json_integer_value(json_object_get(cc, "scored")), 2000);
    cr_assert_eq(json_integer_value(json_object_get(cc, "dead_letters_total")), 0);
    json_int_t dead = json_integer_value(json_object_get(sc, "dead_letters_total"));
    cr_assert_gt(dead, 0, "weir gen leaves some customer_age out");
    cr_assert_eq(json_integer_value(json_object_get(sc, "scored")) + dead, 2000);
    cr_assert_eq(
        json_integer_value(json_object_get(json_object_get(sc, "dead_letters"), "missing_value")),
        dead);
    json_t *example = json_array_get(json_object_get(strict, "dead_letter_examples"), 0);
    cr_assert_str_eq(json_string_value(json_object_get(example, "reason")), "missing_value");
    cr_assert(strstr(json_string_value(json_object_get(example, "detail")), "customer_age"));
    cr_assert(json_is_integer(json_object_get(example, "index")));
    json_t *decision = json_object_get(json_object_get(strict, "vs_champion"), "decision");
    cr_assert_eq(json_integer_value(json_object_get(decision, "events")), 2000 - dead);
    json_decref(rep);
}

Test(replay, progress_shows_events_rate_and_time_left)
{
    char line[256];
    weir_replay_progress(line, sizeof(line), 250000, 1000000, 2.0, 1);
    cr_assert(strstr(line, "25%"), "%s", line);
    cr_assert(strstr(line, "250.0k/1.00M events"), "%s", line);
    cr_assert(strstr(line, "125.0k/s"), "%s", line);
    cr_assert(strstr(line, "ETA 0:06"), "%s", line);
    cr_assert(strstr(line, "[=======>"), "%s", line);
    weir_replay_progress(line, sizeof(line), 250000, 1000000, 2.0, 0);
    cr_assert_str_eq(line, "weir replay: 250.0k of 1.00M records (25%), 125.0k/s, ETA 0:06");
    weir_replay_progress(line, sizeof(line), 1234, 0, 1.0, 0);
    cr_assert_str_eq(line, "weir replay: 1234 records, 1234/s");
}

/* stderr is a file here, not a terminal: plain progress lines, never the
 * bar's carriage returns or escape sequences; -q leaves only the summary. */
Test(replay, progress_on_a_stderr_that_is_not_a_terminal_is_plain_lines)
{
    gen("ev", "800", MARCH, NULL, NULL);
    char in[600];
    snprintf(in, sizeof(in), "file:%s", path_of("ev.avro"));
    result_t r = WEIR("replay", "--in", in, "--model", EXAMPLE_MODEL);
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert(strstr(r.err, "weir replay: 800 records, "), "%s", r.err);
    cr_assert_null(strchr(r.err, '\r'), "%s", r.err);
    cr_assert_null(strchr(r.err, '\033'), "%s", r.err);
    result_free(&r);
    r = WEIR("replay", "--in", in, "--model", EXAMPLE_MODEL, "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_assert_null(strstr(r.err, "records, "), "%s", r.err);
    cr_assert(strstr(r.err, "weir replay: 800 events from 800 records"), "%s", r.err);
    result_free(&r);
}
