/*
 * test_monitor.c — the drift monitor as the run loop uses it: scored events
 * in, encoded DriftAlert records out, each keyed "model/feature/test" so that
 * a compacted alerts topic keeps one current state per feature and test.
 *
 * The bundles here are built in the test: one numeric feature with a
 * reference sample, and a stream shifted far from it, so that the first
 * evaluation past the window raises data drift on that feature.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "prom.h"

#define NOW_MS INT64_C(1767312000000)

static char err[1024];

/* A one-feature binary bundle; the feature's reference sample is 0..199. */
static weir_model_t *one_feature_model(const char *model_name, const char *feature_name)
{
    weir_buf_t text;
    weir_buf_init(&text, 1 << 20);
    int rc = weir_buf_printf(&text,
                             "{\"format\": \"weir.model/1\", \"name\": \"%s\", \"version\": \"1\","
                             " \"task\": \"binary\", \"features\": [{\"name\": \"%s\", \"source\":"
                             " \"x\", \"type\": \"numeric\"}], \"model\": {\"kind\": \"logistic\","
                             " \"weights\": [1.0], \"bias\": 0.0}, \"reference\": {\"features\":"
                             " {\"%s\": {\"n\": 200, \"sample\": [",
                             model_name, feature_name, feature_name);
    for (int i = 0; i < 200 && rc == 0; i++)
        rc = weir_buf_printf(&text, "%s%d", i ? ", " : "", i);
    if (rc == 0)
        rc = weir_buf_printf(&text, "]}}}}");
    cr_assert_eq(rc, 0);
    weir_model_t *m = NULL;
    cr_assert_eq(
        weir_model_parse((const char *)text.data, text.len, "<monitor test>", &m, err, sizeof(err)),
        0, "%s", err);
    weir_buf_dispose(&text);
    return m;
}

static weir_monitor_t *new_monitor(const weir_model_t *m)
{
    weir_monitor_config_t cfg = {
        .model = m,
        .alert_framing = WEIR_FRAMING_RAW,
        .instance = "test",
    };
    weir_drift_config_default(&cfg.drift);
    cfg.drift.window = 200;
    cfg.drift.step = 200;
    cfg.drift.k_fail = 1;
    cfg.drift.numeric_tests = WEIR_DRIFT_BIT(WEIR_DRIFT_KS);
    cfg.drift.score_tests = 0;
    weir_monitor_t *mon = NULL;
    cr_assert_eq(weir_monitor_new(&cfg, &mon, err, sizeof(err)), 0, "%s", err);
    return mon;
}

/* Feeds a window of values far above the reference and evaluates. */
static size_t shift_and_evaluate(weir_monitor_t *mon)
{
    for (int i = 0; i < 200; i++) {
        weir_value_t v = {.kind = WEIR_VALUE_NUMBER, .number = 1000.0 + i};
        weir_monitor_observe(mon, &v, 0.5, 1, "id", NOW_MS + i, NOW_MS);
    }
    return weir_monitor_evaluate(mon, NOW_MS + 1000);
}

TestSuite(monitor);

Test(monitor, a_drifted_feature_raises_one_alert_keyed_model_feature_test)
{
    weir_model_t *m = one_feature_model("tiny", "x");
    weir_monitor_t *mon = new_monitor(m);
    cr_assert_eq(shift_and_evaluate(mon), 1);
    const weir_monitor_alert_t *a = weir_monitor_alert(mon, 0);
    cr_assert_eq(a->kind, WEIR_DRIFT_DATA);
    cr_assert_eq(a->key_len, strlen("tiny/x/ks"));
    cr_assert_eq(memcmp(a->key, "tiny/x/ks", a->key_len), 0, "%.*s", (int)a->key_len, a->key);
    cr_assert_gt(a->len, 0);
    weir_monitor_destroy(mon);
    weir_model_destroy(m);
}

Test(monitor, the_alert_key_holds_the_longest_names_a_bundle_allows_whole)
{
    char model_name[WEIR_BUNDLE_MAX_NAME + 1], feature_name[WEIR_BUNDLE_MAX_NAME + 2];
    char key[3 * WEIR_BUNDLE_MAX_NAME];
    memset(model_name, 'm', WEIR_BUNDLE_MAX_NAME);
    model_name[WEIR_BUNDLE_MAX_NAME] = '\0';
    memset(feature_name, 'f', WEIR_BUNDLE_MAX_NAME);
    feature_name[WEIR_BUNDLE_MAX_NAME] = '\0';
    weir_model_t *m = one_feature_model(model_name, feature_name);
    weir_monitor_t *mon = new_monitor(m);
    cr_assert_eq(shift_and_evaluate(mon), 1);
    const weir_monitor_alert_t *a = weir_monitor_alert(mon, 0);
    int n = snprintf(key, sizeof(key), "%s/%s/ks", model_name, feature_name);
    cr_assert_eq(a->key_len, (size_t)n);
    cr_assert_eq(memcmp(a->key, key, a->key_len), 0);
    weir_monitor_destroy(mon);
    weir_model_destroy(m);

    /* One byte longer never reaches a monitor: the bundle is refused. */
    strcat(feature_name, "f");
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"format\": \"weir.model/1\", \"name\": \"tiny\", \"version\": \"1\","
             " \"task\": \"binary\", \"features\": [{\"name\": \"%s\", \"source\": \"x\","
             " \"type\": \"numeric\"}], \"model\": {\"kind\": \"logistic\", \"weights\": [1.0],"
             " \"bias\": 0.0}}",
             feature_name);
    cr_assert_eq(weir_model_parse(text, strlen(text), "<long>", &m, err, sizeof(err)), WEIR_EMODEL);
    cr_assert(strstr(err, "features[0].name"), "%s", err);
}
