/*
 * test_rollout.c — model versions without a broker: the model folder's
 * pointer moved by promote and rollback (and the commands that do it), and
 * the probation guard's verdicts on the three limits.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "broker.h"
#include "guard.h"
#include "rollout.h"
#include "support.h"

#define EXAMPLE_MODEL WEIR_SOURCE_DIR "/examples/model.json"

static char *dir;
static char err[1024];

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

TestSuite(models, .init = setup, .fini = teardown);

/* DIR/<file> holding the example bundle with version @p version. */
static void bundle(const char *file, const char *version)
{
    char path[600];
    json_t *m = json_load_file(EXAMPLE_MODEL, 0, NULL);
    cr_assert_not_null(m);
    json_object_set_new(m, "version", json_string(version));
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    cr_assert_eq(json_dump_file(m, path, 0), 0);
    json_decref(m);
}

static char *pointer(void)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/current", dir);
    return weir_test_read_file(path, NULL);
}

Test(models, promote_names_the_version_and_remembers_the_ones_before)
{
    bundle("a.json", "a");
    bundle("b.json", "b");
    cr_assert_eq(weir_models_promote(dir, "a", err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_models_promote(dir, "b", err, sizeof(err)), 0, "%s", err);
    char *text = pointer();
    cr_assert_str_eq(text, "b\na\n");
    free(text);
    char file[4096], expect[4096];
    cr_assert_eq(weir_models_resolve(dir, file, sizeof(file), err, sizeof(err)), 0, "%s", err);
    snprintf(expect, sizeof(expect), "%s/b.json", dir);
    cr_assert_str_eq(file, expect);
    /* promoting the current one changes nothing */
    cr_assert_eq(weir_models_promote(dir, "b", err, sizeof(err)), 0);
    text = pointer();
    cr_assert_str_eq(text, "b\na\n");
    free(text);
}

Test(models, rollback_brings_the_previous_version_back_and_forgets_the_current_one)
{
    bundle("a.json", "a");
    bundle("b.json", "b");
    char to[200];
    cr_assert_eq(weir_models_promote(dir, "a", err, sizeof(err)), 0);
    cr_assert_eq(weir_models_rollback(dir, to, sizeof(to), err, sizeof(err)), WEIR_ESTATE,
                 "one version: nothing to roll back to");
    cr_assert_eq(weir_models_promote(dir, "b", err, sizeof(err)), 0);
    cr_assert_eq(weir_models_rollback(dir, to, sizeof(to), err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(to, "a");
    char *text = pointer();
    cr_assert_str_eq(text, "a\n");
    free(text);
}

Test(models, promote_refuses_bad_names_invalid_bundles_and_a_version_filed_under_another)
{
    bundle("a.json", "a");
    bundle("c.json", "not-c");
    cr_assert_eq(weir_models_promote(dir, "../a", err, sizeof(err)), WEIR_EINVAL);
    cr_assert_eq(weir_models_promote(dir, ".hidden", err, sizeof(err)), WEIR_EINVAL);
    cr_assert_eq(weir_models_promote(dir, "missing", err, sizeof(err)), WEIR_EMODEL);
    cr_assert_eq(weir_models_promote(dir, "c", err, sizeof(err)), WEIR_EMODEL);
    cr_assert(strstr(err, "not-c"), "the message says what the bundle calls itself: %s", err);
    char path[600];
    snprintf(path, sizeof(path), "%s/current", dir);
    struct stat st;
    cr_assert_neq(stat(path, &st), 0, "no pointer written for a refused version");
}

Test(models, a_folder_without_a_pointer_does_not_resolve)
{
    char file[4096];
    cr_assert_eq(weir_models_resolve(dir, file, sizeof(file), err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(strstr(err, "current"), "%s", err);
    cr_assert_eq(weir_models_resolve(EXAMPLE_MODEL, file, sizeof(file), err, sizeof(err)), 0);
    cr_assert_str_eq(file, EXAMPLE_MODEL, "a bundle stands for itself");
}

Test(models, the_commands_promote_roll_back_and_inspect_a_folder)
{
    bundle("1.json", "1");
    bundle("2.json", "2");
    char log[600];
    snprintf(log, sizeof(log), "%s/cmd.log", dir);
    const char *promote1[] = {WEIR_BINARY, "model", "promote", dir, "1", NULL};
    const char *promote2[] = {WEIR_BINARY, "model", "promote", dir, "2", NULL};
    const char *rollback[] = {WEIR_BINARY, "model", "rollback", dir, NULL};
    const char *inspect[] = {WEIR_BINARY, "model", "inspect", dir, NULL};
    const char *bad[] = {WEIR_BINARY, "model", "promote", dir, "3", NULL};
    cr_assert_eq(weir_it_run(promote1, log, 30000), 0);
    cr_assert_eq(weir_it_run(promote2, log, 30000), 0);
    cr_assert_eq(weir_it_run(bad, log, 30000), 2, "a version without a bundle is exit 2");
    cr_assert_eq(weir_it_run(rollback, log, 30000), 0);
    cr_assert_eq(weir_it_run(inspect, log, 30000), 0);
    char *text = weir_test_read_file(log, NULL);
    cr_assert(strstr(text, "current version is 1"), "%s", text);
    cr_assert(strstr(text, "fraud-lr 1 "), "inspect shows the current version: %s", text);
    free(text);
    cr_assert_eq(weir_it_run(rollback, log, 30000), 2, "nothing left to roll back to");
}

/* ---- the guard ----------------------------------------------------- */

static weir_score_ring_t ring;

static void base_scores(double centre)
{
    memset(&ring, 0, sizeof(ring));
    for (int i = 0; i < 2000; i++)
        weir_score_ring_add(&ring, centre + (double)(i % 100) / 1000.0);
}

Test(guard, a_version_that_dead_letters_more_than_the_limit_is_rolled_back)
{
    weir_guard_t g = {0};
    weir_guard_limits_t l = {1000, 0.05, 0.3, 0.05};
    weir_guard_verdict_t v;
    base_scores(0.1);
    cr_assert_eq(weir_guard_start(&g, &l, &ring, 0.01), 0);
    for (int i = 0; i < 99; i++)
        weir_guard_dead(&g);
    cr_assert_eq(weir_guard_check(&g, 0, 0, 0, 0, &v), WEIR_GUARD_WATCHING, "too few to judge");
    weir_guard_dead(&g);
    cr_assert_eq(weir_guard_check(&g, 0, 0, 0, 0, &v), WEIR_GUARD_ROLLBACK);
    cr_assert_str_eq(v.reason, "dead_letter_share");
    cr_assert_eq(v.kind, 0);
    cr_assert_float_eq(v.value, 1.0, 1e-12);
    cr_assert_float_eq(v.limit, 0.06, 1e-12);
    cr_assert_eq(g.active, 0);
    weir_guard_dispose(&g);
}

Test(guard, the_input_s_own_faults_are_not_blamed_on_the_model)
{
    weir_guard_t g = {0};
    weir_guard_limits_t l = {500, 0.05, 1.0, 1.0};
    weir_guard_verdict_t v;
    base_scores(0.1);
    cr_assert_eq(weir_guard_start(&g, &l, &ring, 0.0), 0);
    for (int i = 0; i < 500; i++)
        weir_guard_other(&g);
    cr_assert_eq(weir_guard_check(&g, 0, 0, 0, 0, &v), WEIR_GUARD_PASSED);
    weir_guard_dispose(&g);
}

Test(guard, scores_far_from_the_previous_versions_are_rolled_back_near_ones_pass)
{
    weir_guard_t g = {0};
    weir_guard_limits_t l = {1000, 0.05, 0.3, 0.05};
    weir_guard_verdict_t v;
    base_scores(0.1);
    cr_assert_eq(weir_guard_start(&g, &l, &ring, 0.0), 0);
    for (int i = 0; i < 1000; i++)
        weir_guard_scored(&g, 0.1 + (double)(i % 100) / 1000.0 + 0.001);
    cr_assert_eq(weir_guard_check(&g, 0, 0, 0, 0, &v), WEIR_GUARD_PASSED);
    weir_guard_dispose(&g);

    cr_assert_eq(weir_guard_start(&g, &l, &ring, 0.0), 0);
    for (int i = 0; i < 1000; i++)
        weir_guard_scored(&g, 0.6 + (double)(i % 100) / 1000.0);
    cr_assert_eq(weir_guard_check(&g, 0, 0, 0, 0, &v), WEIR_GUARD_ROLLBACK);
    cr_assert_str_eq(v.reason, "score_drift");
    cr_assert_eq(v.kind, 1);
    cr_assert_float_eq(v.value, 1.0, 1e-12);
    weir_guard_dispose(&g);
}

Test(guard, a_worse_error_rate_on_joined_labels_is_rolled_back)
{
    weir_guard_t g = {0};
    weir_guard_limits_t l = {100000, 1.0, 1.0, 0.05};
    weir_guard_verdict_t v;
    base_scores(0.1);
    cr_assert_eq(weir_guard_start(&g, &l, &ring, 0.0), 0);
    weir_guard_scored(&g, 0.1);
    cr_assert_eq(weir_guard_check(&g, 200, 20, 50, 0, &v), WEIR_GUARD_WATCHING,
                 "too few labels on the previous version to compare");
    cr_assert_eq(weir_guard_check(&g, 200, 20, 1000, 80, &v), WEIR_GUARD_WATCHING,
                 "10%% against 8%%: within 5 points");
    cr_assert_eq(weir_guard_check(&g, 200, 30, 1000, 80, &v), WEIR_GUARD_ROLLBACK);
    cr_assert_str_eq(v.reason, "label_error_rate");
    cr_assert_eq(v.kind, 2);
    weir_guard_dispose(&g);
}

Test(guard, no_probation_means_no_guard)
{
    weir_guard_t g = {0};
    weir_guard_limits_t l = {0, 0.05, 0.3, 0.05};
    weir_guard_verdict_t v;
    base_scores(0.1);
    cr_assert_eq(weir_guard_start(&g, &l, &ring, 0.0), 0);
    cr_assert_eq(g.active, 0);
    weir_guard_dead(&g);
    cr_assert_eq(weir_guard_check(&g, 0, 0, 0, 0, &v), WEIR_GUARD_PASSED);
    weir_guard_dispose(&g);
}

/* ---- the commands -------------------------------------------------- */

Test(models, serve_answers_help_and_refuses_a_config_without_a_model)
{
    char log[600], conf[600];
    snprintf(log, sizeof(log), "%s/cmd.log", dir);
    const char *help[] = {WEIR_BINARY, "serve", "-h", NULL};
    cr_assert_eq(weir_it_run(help, log, 30000), 0);
    const char *bare[] = {WEIR_BINARY, "serve", NULL};
    cr_assert_eq(weir_it_run(bare, log, 30000), 2, "-c is required");
    char *path = weir_it_write(dir, "serve.conf",
                               "input.schema = " WEIR_SOURCE_DIR "/schemas/transaction.avsc\n");
    snprintf(conf, sizeof(conf), "%s", path);
    free(path);
    const char *no_model[] = {WEIR_BINARY, "serve", "-c", conf, NULL};
    cr_assert_eq(weir_it_run(no_model, log, 30000), 2);
    char *text = weir_test_read_file(log, NULL);
    cr_assert(strstr(text, "model.path"), "the message names the key: %s", text);
    free(text);
}

Test(models, schema_scored_with_shadow_adds_the_optional_field_last)
{
    char log[600];
    snprintf(log, sizeof(log), "%s/schema.json", dir);
    const char *plain[] = {
        WEIR_BINARY, "schema", "scored", "--input", WEIR_SOURCE_DIR "/schemas/transaction.avsc",
        NULL};
    const char *shadow[] = {
        WEIR_BINARY, "schema", "scored", "--input", WEIR_SOURCE_DIR "/schemas/transaction.avsc",
        "--shadow",  NULL};
    for (int with = 0; with < 2; with++) {
        cr_assert_eq(weir_it_run(with ? shadow : plain, log, 30000), 0);
        json_t *j = json_load_file(log, 0, NULL);
        cr_assert_not_null(j);
        json_t *fields = json_object_get(j, "fields");
        json_t *last = json_array_get(fields, json_array_size(fields) - 1);
        cr_assert_str_eq(json_string_value(json_object_get(last, "name")),
                         with ? "shadow" : "event");
        json_decref(j);
        remove(log);
    }
}
