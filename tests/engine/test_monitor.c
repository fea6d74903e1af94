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

#include <avro.h>
#include <jansson.h>

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

static weir_monitor_t *new_monitor_with(const weir_model_t *m, unsigned multivariate)
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
    cfg.drift.multivariate_tests = multivariate;
    weir_monitor_t *mon = NULL;
    cr_assert_eq(weir_monitor_new(&cfg, &mon, err, sizeof(err)), 0, "%s", err);
    return mon;
}

/* Without the dataset verdict: one key per feature and test. */
static weir_monitor_t *new_monitor(const weir_model_t *m)
{
    return new_monitor_with(m, 0);
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

/* The record's field @p name, read back with avro-c through the embedded schema. */
static void read_alert(const weir_monitor_alert_t *a, avro_value_iface_t **iface, avro_value_t *v)
{
    avro_schema_t schema = NULL;
    cr_assert_eq(weir_schema_parse(weir_schema_text("drift_alert"), &schema, err, sizeof(err)), 0);
    *iface = avro_generic_class_from_schema(schema);
    avro_generic_value_new(*iface, v);
    avro_reader_t r = avro_reader_memory((const char *)a->value, (int64_t)a->len);
    cr_assert_eq(avro_value_read(r, v), 0, "%s", avro_strerror());
    avro_reader_free(r);
    avro_schema_decref(schema);
}

Test(monitor, the_dataset_verdict_alerts_keyed_model_dataset_dataset_naming_the_drifted_features)
{
    weir_model_t *m = one_feature_model("tiny", "x");
    weir_monitor_t *mon = new_monitor_with(m, WEIR_DRIFT_BIT(WEIR_DRIFT_DATASET));
    cr_assert_eq(shift_and_evaluate(mon), 2, "x/ks and the dataset");
    const weir_monitor_alert_t *ks = weir_monitor_alert(mon, 0), *ds = weir_monitor_alert(mon, 1);
    cr_assert_eq(memcmp(ks->key, "tiny/x/ks", ks->key_len), 0, "%.*s", (int)ks->key_len, ks->key);
    cr_assert_eq(ds->key_len, strlen("tiny/dataset/dataset"));
    cr_assert_eq(memcmp(ds->key, "tiny/dataset/dataset", ds->key_len), 0);

    avro_value_iface_t *iface;
    avro_value_t v, field, branch, item;
    int b = 0;
    double share = 0;
    const char *name;
    size_t n, len;
    read_alert(ks, &iface, &v);
    cr_assert_eq(avro_value_get_by_name(&v, "feature_drifted", &field, NULL), 0);
    cr_assert_eq(avro_value_get_current_branch(&field, &branch), 0);
    cr_assert_eq(avro_value_get_boolean(&branch, &b), 0, "the feature's verdict is there");
    cr_assert_eq(b, 1);
    avro_value_get_by_name(&v, "drifted_features", &field, NULL);
    avro_value_get_size(&field, &n);
    cr_assert_eq(n, 0, "only the dataset record lists features");
    avro_value_decref(&v);
    avro_value_iface_decref(iface);

    read_alert(ds, &iface, &v);
    avro_value_get_by_name(&v, "feature", &field, NULL);
    int disc = -1;
    avro_value_get_discriminant(&field, &disc);
    cr_assert_eq(disc, 0, "no feature");
    avro_value_get_by_name(&v, "drifted_share", &field, NULL);
    avro_value_get_current_branch(&field, &branch);
    avro_value_get_double(&branch, &share);
    cr_assert_eq(share, 1.0);
    avro_value_get_by_name(&v, "dataset_drifted", &field, NULL);
    avro_value_get_current_branch(&field, &branch);
    avro_value_get_boolean(&branch, &b);
    cr_assert_eq(b, 1);
    avro_value_get_by_name(&v, "drifted_features", &field, NULL);
    avro_value_get_size(&field, &n);
    cr_assert_eq(n, 1);
    avro_value_get_by_index(&field, 0, &item, NULL);
    avro_value_get_string(&item, &name, &len);
    cr_assert_str_eq(name, "x");
    avro_value_decref(&v);
    avro_value_iface_decref(iface);

    weir_buf_t text;
    weir_buf_init(&text, 1 << 20);
    cr_assert_eq(weir_monitor_render(mon, &text), 0);
    cr_assert(strstr((const char *)text.data, "weir_drift_dataset_drifted 1\n"), "%.*s",
              (int)text.len, (const char *)text.data);
    cr_assert(strstr((const char *)text.data, "weir_drift_feature_drifted{feature=\"x\"} 1\n"));
    cr_assert(
        strstr((const char *)text.data,
               "weir_drift_statistic{kind=\"data\",feature=\"dataset\",test=\"dataset\"} 1\n"));
    weir_buf_dispose(&text);
    weir_monitor_destroy(mon);
    weir_model_destroy(m);
}

/* The schema as it was before the verdict fields: the same fields minus the
 * five added at the end. */
static avro_schema_t schema_before_verdicts(void)
{
    json_error_t error;
    json_t *s = json_loads(weir_schema_text("drift_alert"), 0, &error);
    cr_assert_not_null(s, "%s", error.text);
    json_t *fields = json_object_get(s, "fields");
    for (int i = 0; i < 5; i++)
        json_array_remove(fields, json_array_size(fields) - 1);
    char *text = json_dumps(s, 0);
    avro_schema_t schema = NULL;
    cr_assert_eq(weir_schema_parse(text, &schema, err, sizeof(err)), 0, "%s", err);
    free(text);
    json_decref(s);
    return schema;
}

Test(monitor, alerts_with_verdicts_read_through_the_schema_before_them_and_back)
{
    avro_schema_t now = NULL, before = schema_before_verdicts();
    cr_assert_eq(weir_schema_parse(weir_schema_text("drift_alert"), &now, err, sizeof(err)), 0);
    weir_buf_t b;
    weir_buf_init(&b, 4096);
    double effect = 0.3, share = 0.5;
    int yes = 1;
    const char *names[] = {"amount"};
    weir_drift_alert_t a = {.kind = 0,
                            .model_name = "m",
                            .model_version = "1",
                            .feature = "amount",
                            .test = "ks",
                            .statistic = 0.3,
                            .p_value = 1e-6,
                            .threshold = 0.1,
                            .window_count = 10,
                            .reference_size = 20,
                            .severity = 1,
                            .instance = "i",
                            .effect = &effect,
                            .feature_drifted = &yes,
                            .dataset_drifted = &yes,
                            .drifted_share = &share,
                            .drifted_features = names,
                            .n_drifted_features = 1};
    cr_assert_eq(weir_drift_alert_encode(&b, &a), 0);

    /* an older reader: the new fields are skipped */
    avro_value_iface_t *old_iface = avro_generic_class_from_schema(before);
    avro_value_iface_t *resolver = avro_resolved_writer_new(now, before);
    cr_assert_not_null(resolver, "%s", avro_strerror());
    avro_value_t old_value, resolved, field;
    avro_generic_value_new(old_iface, &old_value);
    avro_resolved_writer_new_value(resolver, &resolved);
    avro_resolved_writer_set_dest(&resolved, &old_value);
    avro_reader_t r = avro_reader_memory((const char *)b.data, (int64_t)b.len);
    cr_assert_eq(avro_value_read(r, &resolved), 0, "%s", avro_strerror());
    avro_reader_free(r);
    double stat = 0;
    avro_value_get_by_name(&old_value, "statistic", &field, NULL);
    avro_value_get_double(&field, &stat);
    cr_assert_eq(stat, 0.3);
    avro_value_decref(&resolved);
    avro_value_decref(&old_value);
    avro_value_iface_decref(resolver);
    avro_value_iface_decref(old_iface);

    /* an older writer: the same record without the new fields has no trailing
       bytes of them (4 null unions and an empty array: five zero bytes) */
    weir_buf_reset(&b);
    weir_drift_alert_t plain = a;
    plain.effect = plain.drifted_share = NULL;
    plain.feature_drifted = plain.dataset_drifted = NULL;
    plain.n_drifted_features = 0;
    cr_assert_eq(weir_drift_alert_encode(&b, &plain), 0);
    cr_assert_eq(memcmp(b.data + b.len - 5, "\0\0\0\0\0", 5), 0);
    weir_buf_t old_bytes;
    weir_buf_init(&old_bytes, 4096);
    weir_buf_append(&old_bytes, b.data, b.len - 5);
    avro_value_iface_t *old_writer = avro_generic_class_from_schema(before);
    avro_value_t written;
    avro_generic_value_new(old_writer, &written);
    r = avro_reader_memory((const char *)old_bytes.data, (int64_t)old_bytes.len);
    cr_assert_eq(avro_value_read(r, &written), 0, "the older schema reads the older bytes");
    avro_reader_free(r);
    avro_value_decref(&written);
    avro_value_iface_decref(old_writer);
    /* (a newer reader of older bytes takes the defaults: Avro's resolution
       rules; avro-c 1.11's resolver does not implement defaults, so this is
       left to readers that do, such as Java's and fastavro) */
    weir_buf_dispose(&old_bytes);
    weir_buf_dispose(&b);
    avro_schema_decref(now);
    avro_schema_decref(before);
}

Test(monitor, drift_disabled_monitors_nothing_and_metrics_say_it_is_off)
{
    weir_model_t *m = one_feature_model("tiny", "x");
    weir_monitor_config_t cfg = {
        .model = m,
        .alert_framing = WEIR_FRAMING_RAW,
        .instance = "test",
    };
    weir_drift_config_default(&cfg.drift);
    cfg.drift.window = 200;
    cfg.drift.step = 200;
    cfg.drift.k_fail = 1;
    cfg.drift.enabled = 0;
    weir_monitor_t *mon = NULL;
    cr_assert_eq(weir_monitor_new(&cfg, &mon, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_monitor_drift_enabled(mon), 0);
    cr_assert_eq(weir_monitor_observes(mon), 0, "no drift and no labels: nothing to feed");
    cr_assert_eq(shift_and_evaluate(mon), 0, "a shifted stream raises nothing");
    cr_assert_eq(weir_monitor_stat_count(mon), 0);
    uint64_t drift_evals = 1, concept_evals = 1;
    weir_monitor_evaluations(mon, &drift_evals, &concept_evals);
    cr_assert_eq(drift_evals, 0);
    cr_assert_eq(concept_evals, 0);

    weir_buf_t text;
    weir_buf_init(&text, 1 << 20);
    cr_assert_eq(weir_monitor_render(mon, &text), 0);
    const char *page = (const char *)text.data;
    cr_assert(strstr(page, "weir_drift_enabled 0\n"), "%.*s", (int)text.len, page);
    cr_assert_null(strstr(page, "weir_drift_statistic"), "%.*s", (int)text.len, page);
    cr_assert_null(strstr(page, "weir_drift_window_events"), "%.*s", (int)text.len, page);
    weir_buf_dispose(&text);
    weir_monitor_destroy(mon);

    cfg.drift.enabled = 1;
    cr_assert_eq(weir_monitor_new(&cfg, &mon, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_monitor_drift_enabled(mon), 1);
    weir_buf_init(&text, 1 << 20);
    cr_assert_eq(weir_monitor_render(mon, &text), 0);
    cr_assert(strstr((const char *)text.data, "weir_drift_enabled 1\n"));
    weir_buf_dispose(&text);
    weir_monitor_destroy(mon);
    weir_model_destroy(m);
}
