/*
 * test_batch_labels.c — `weir batch --labels file:P`: a file of Label records
 * joined by event id, so that concept drift and realised performance are
 * reported offline beside the performance estimated from the scores, and the
 * report's verdicts (docs/batch-report.md). Through the built binary.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "support.h"

#define EXAMPLE_MODEL WEIR_SOURCE_DIR "/examples/model.json"

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

TestSuite(batch_labels, .init = setup, .fini = teardown);

/* Runs a shell command line in the test's folder; @returns its exit code. */
static int run(const char *fmt, const char *a, const char *b)
{
    char cmd[2048];
    char line[1024];
    snprintf(line, sizeof(line), fmt, a, b);
    snprintf(cmd, sizeof(cmd), "cd '%s' && %s >out.txt 2>err.txt", dir, line);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static json_t *report(void)
{
    char path[600];
    json_error_t error;
    snprintf(path, sizeof(path), "%s/r.json", dir);
    json_t *r = json_load_file(path, 0, &error);
    cr_assert_not_null(r, "%s: %s", path, error.text);
    return r;
}

Test(batch_labels, labels_join_by_event_id_into_concept_drift_and_realised_performance)
{
    cr_assert_eq(run("%s gen --out file:e.avro --count 4000 --seed 6 --labels file:l.avro "
                     "--label-delay 0 -q%s",
                     WEIR_BINARY, ""),
                 0);
    cr_assert_eq(run("%s batch --model %s --in e.avro --out s.avro --report r.json "
                     "--labels file:l.avro -q",
                     WEIR_BINARY, EXAMPLE_MODEL),
                 0);
    json_t *r = report(), *concept = json_object_get(r, "concept");
    cr_assert_not_null(concept, "a concept section with --labels");
    cr_assert_eq(json_integer_value(json_object_get(concept, "labels_read")), 4000);
    cr_assert_eq(json_integer_value(json_object_get(concept, "pairs")), 4000, "every event joined");
    cr_assert_eq(json_integer_value(json_object_get(concept, "labels_unmatched")), 0);
    json_t *perf = json_object_get(concept, "performance");
    double auc = json_real_value(json_object_get(perf, "auc"));
    cr_assert(auc > 0.8 && auc <= 1.0, "realised auc %g", auc);
    json_t *conf = json_object_get(perf, "confusion");
    cr_assert_eq(json_integer_value(json_object_get(conf, "tp")) +
                     json_integer_value(json_object_get(conf, "fp")) +
                     json_integer_value(json_object_get(conf, "tn")) +
                     json_integer_value(json_object_get(conf, "fn")),
                 4000);

    json_t *drift = json_object_get(r, "drift"), *ds = json_object_get(drift, "dataset");
    cr_assert_eq(json_integer_value(json_object_get(ds, "features_evaluated")), 24);
    cr_assert(json_is_false(json_object_get(ds, "drifted")), "a stationary file");
    cr_assert_eq(json_array_size(json_object_get(drift, "features")), 24);
    json_t *est = json_object_get(json_object_get(drift, "estimated_performance"), "window");
    double est_auc = json_real_value(json_object_get(est, "auc"));
    cr_assert(est_auc > auc - 0.1 && est_auc < auc + 0.1, "estimated auc %g beside %g", est_auc,
              auc);
    json_decref(r);
}

Test(batch_labels, labels_need_a_file_spec)
{
    cr_assert_eq(run("%s gen --out file:e.avro --count 10 --seed 1 -q%s", WEIR_BINARY, ""), 0);
    cr_assert_neq(run("%s batch --model %s --in e.avro --out s.avro --report r.json "
                      "--labels l.avro -q",
                      WEIR_BINARY, EXAMPLE_MODEL),
                  0);
}

Test(batch_labels, the_drift_keys_of_x_set_the_windows_that_labels_are_judged_in)
{
    cr_assert_eq(run("%s gen --out file:e.avro --count 3000 --seed 6 --labels file:l.avro "
                     "--label-delay 0 -q%s",
                     WEIR_BINARY, ""),
                 0);
    cr_assert_eq(run("%s batch --model %s --in e.avro --out s.avro --report r.json "
                     "--labels file:l.avro -X drift.window=1000 -q",
                     WEIR_BINARY, EXAMPLE_MODEL),
                 0);
    json_t *r = report(), *windows = json_object_get(r, "windows");
    cr_assert_eq(json_array_size(windows), 3, "three windows of drift.window events");
    for (size_t i = 0; i < 3; i++) {
        json_t *w = json_array_get(windows, i);
        cr_assert_eq(json_integer_value(json_object_get(w, "events")), 1000);
        cr_assert_not_null(json_object_get(w, "realised"), "window %zu has realised metrics", i);
    }
    json_decref(r);
}

Test(batch_labels, labels_without_a_report_are_a_usage_error)
{
    cr_assert_eq(run("%s gen --out file:e.avro --count 10 --seed 1 --labels file:l.avro -q%s",
                     WEIR_BINARY, ""),
                 0);
    cr_assert_eq(run("%s batch --model %s --in e.avro --out s.avro --labels file:l.avro -q",
                     WEIR_BINARY, EXAMPLE_MODEL),
                 2);
}

Test(batch_labels, drift_enabled_false_leaves_drift_and_concept_out_of_the_report)
{
    cr_assert_eq(run("%s gen --out file:e.avro --count 2000 --seed 6 --labels file:l.avro "
                     "--label-delay 0 -q%s",
                     WEIR_BINARY, ""),
                 0);
    cr_assert_eq(run("%s batch --model %s --in e.avro --out s.avro --report r.json "
                     "--labels file:l.avro -X drift.enabled=false -X drift.window=1000 -q",
                     WEIR_BINARY, EXAMPLE_MODEL),
                 0);
    json_t *r = report(), *drift = json_object_get(r, "drift");
    cr_assert(json_is_false(json_object_get(drift, "enabled")), "the report says drift is off");
    cr_assert_null(json_object_get(drift, "tests"));
    cr_assert_eq(json_array_size(json_object_get(r, "windows")), 0, "no drift windows");
    cr_assert_null(json_object_get(r, "concept"));
    cr_assert_eq(json_integer_value(json_object_get(r, "scored")), 2000, "scoring is unchanged");
    json_decref(r);

    cr_assert_eq(run("%s batch --model %s --in e.avro --out s.avro --report r.json -q", WEIR_BINARY,
                     EXAMPLE_MODEL),
                 0);
    r = report();
    cr_assert(json_is_true(json_object_get(json_object_get(r, "drift"), "enabled")));
    json_decref(r);
}
