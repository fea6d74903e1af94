/*
 * test_promtool.c — the /metrics page of a real `weir run` on the real broker,
 * checked by Prometheus's own `promtool check metrics`. The model is the
 * example bundle with hostile names: features, classes and the version hold
 * double quotes and backslashes (a bundle may not hold control characters in
 * a name; newlines are escaped too, see tests/common/test_prom.c), so every
 * label weir writes from a bundle must be escaped. Drift runs with a small window and labels flow,
 * so the drift, concept and confusion-matrix families (feature and class labels) are on the page
 * when it is checked. Any complaint of promtool fails the test.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "it.h"
#include "support.h"

/* Names a bundle may hold that the text format must escape. */
static const char *hostile_features[] = {"amount \"usd\"", "amount_avg_30d\\",
                                         "merchant\\ncategory", "channel \\\"\\n"};
static const char *hostile_classes[] = {"legit \"ok\"", "fraud\\\"confirmed"};

/* The example bundle with the names above; returns its path (malloc'd). */
static char *hostile_bundle(const char *dir)
{
    json_error_t jerr;
    json_t *m = json_load_file(WEIR_SOURCE_DIR "/examples/model.json", 0, &jerr);
    cr_assert_not_null(m, "examples/model.json: %s", jerr.text);
    json_t *features = json_object_get(m, "features");
    json_t *reference = json_object_get(json_object_get(m, "reference"), "features");
    for (size_t i = 0; i < sizeof(hostile_features) / sizeof(hostile_features[0]); i++) {
        json_t *f = json_array_get(features, i);
        const char *old = json_string_value(json_object_get(f, "name"));
        cr_assert_not_null(old);
        json_t *ref = json_object_get(reference, old);
        cr_assert_not_null(ref, "reference of %s", old);
        json_incref(ref);
        json_object_del(reference, old);
        json_object_set_new(reference, hostile_features[i], ref);
        /* the multivariate reference names its inputs too */
        json_t *pca =
            json_object_get(json_object_get(json_object_get(m, "reference"), "pca"), "features");
        for (size_t j = 0; j < json_array_size(pca); j++)
            if (!strcmp(json_string_value(json_array_get(pca, j)), old))
                json_array_set_new(pca, j, json_string(hostile_features[i]));
        json_object_set_new(f, "name", json_string(hostile_features[i]));
    }
    json_t *classes = json_array();
    for (size_t i = 0; i < 2; i++)
        json_array_append_new(classes, json_string(hostile_classes[i]));
    json_object_set_new(m, "classes", classes);
    json_object_set_new(m, "version", json_string("1.0 \"beta\"\\next"));
    char *text = json_dumps(m, JSON_INDENT(1));
    char *path = weir_it_write(dir, "hostile.json", text);
    free(text);
    json_decref(m);
    return path;
}

/* Runs promtool on @p page; returns its exit status, its output in @p out. */
static int promtool(const char *dir, const char *page, char *out, size_t outsz)
{
    char *path = weir_it_write(dir, "metrics.prom", page);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "promtool check metrics < '%s' 2>&1", path);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, outsz - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    free(path);
    return status;
}

Test(promtool, a_running_services_metrics_pass_promtool_with_hostile_names, .timeout = 400)
{
    cr_assert_eq(system("command -v promtool >/dev/null 2>&1"), 0,
                 "promtool is missing (Debian package prometheus; scripts/setup.sh installs it)");
    int port = weir_it_free_port();
    char alerts[200], labels[200], extra[1024], out[256], labels_out[256], ignored[512];
    weir_it_unique("it-palerts", alerts, sizeof(alerts));
    weir_it_unique("it-plabels", labels, sizeof(labels));
    weir_it_create_topic(alerts, 1);
    weir_it_create_topic(labels, 2);
    char *dir = weir_it_tmpdir();
    char *model = hostile_bundle(dir);
    snprintf(extra, sizeof(extra),
             "alerts.topic = %s\nlabels.topic = %s\ndrift.window = 1000\ndrift.step = 250\n",
             alerts, labels);
    it_scenario_t s;
    it_setup(&s, "promtool", 2, model, port, extra);
    pid_t weir = it_start(&s, 1);

    /* events, then their labels once they are scored */
    snprintf(out, sizeof(out), "topic:%s", s.in);
    snprintf(labels_out, sizeof(labels_out), "topic:%s", labels);
    snprintf(ignored, sizeof(ignored), "file:%s/ignored.avro", s.dir);
    const char *events[] = {WEIR_BINARY, "gen", "-b",      weir_it_bootstrap(),
                            "--out",     out,   "--count", "6000",
                            "--seed",    "41",  "-q",      NULL};
    cr_assert_eq(weir_it_run(events, NULL, 300000), 0);
    int scored = it_wait_metric(port, "weir_events_scored_total", 6000, 120000);
    const char *truth[] = {WEIR_BINARY,     "gen",   "-b",       weir_it_bootstrap(),
                           "--out",         ignored, "--count",  "6000",
                           "--seed",        "41",    "--labels", labels_out,
                           "--label-delay", "0",     "-q",       NULL};
    cr_assert_eq(weir_it_run(truth, NULL, 300000), 0);
    int joined = it_wait_metric(port, "weir_concept_pairs_total", 6000, 120000);
    if (!scored || !joined)
        it_dump_log(&s, 1);
    cr_assert(scored, "the events were scored");
    cr_assert(joined, "the labels joined their predictions");
    cr_assert(it_wait_metric(port, "weir_drift_evaluations_total", 1, 60000));

    char *page = NULL;
    cr_assert_eq(weir_it_http_get(port, "/metrics", &page), 200);
    cr_assert_eq(it_stop(weir), 0);

    /* the hostile names are on the page, escaped */
    const char *expect[] = {
        "feature=\"amount \\\"usd\\\"\"",       "feature=\"amount_avg_30d\\\\\"",
        "feature=\"merchant\\\\ncategory\"",    "actual=\"legit \\\"ok\\\"\"",
        "predicted=\"fraud\\\\\\\"confirmed\"", "version=\"1.0 \\\"beta\\\"\\\\next\"",
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
        cr_assert(strstr(page, expect[i]), "%s is on the page:\n%s", expect[i], page);

    char complaints[8192];
    int status = promtool(dir, page, complaints, sizeof(complaints));
    cr_assert_eq(status, 0, "promtool check metrics exit %d:\n%s", status, complaints);
    cr_assert_str_empty(complaints, "promtool complained:\n%s", complaints);
    cr_log_info("promtool accepted %zu bytes of /metrics", strlen(page));
    free(page);
    free(model);
    free(dir);
    it_teardown(&s);
}
