/*
 * test_profile.c — `weir profile` on an Avro file through the built binary:
 * the aligned table, the weir.profile/1 report (every field, the target's
 * balance from joined labels, a square correlation matrix), a reference
 * block that a bundle takes as it stands, and clear usage errors.
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
#include "scoring.h"
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

TestSuite(profile, .init = setup, .fini = teardown, .timeout = 240);

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
    const char *argv[40] = {WEIR_BINARY};
    size_t n = 1;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
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

Test(profile, a_file_profile_has_every_field_the_target_and_a_bundle_reference)
{
    char events[600], labels[600];
    snprintf(events, sizeof(events), "file:%s", path_of("ev.avro"));
    snprintf(labels, sizeof(labels), "file:%s", path_of("labels.avro"));
    result_t r = WEIR("gen", "--out", events, "--labels", labels, "--count", "4000", "--seed", "3",
                      "--label-delay", "10", "-q");
    cr_assert_eq(r.code, 0, "%s", r.err);
    result_free(&r);
    r = WEIR("profile", "--in", events, "--labels", labels, "--model", EXAMPLE_MODEL, "--out",
             path_of("p.json"));
    cr_assert_eq(r.code, 0, "%s", r.err);
    /* the aligned table */
    cr_assert(strstr(r.out, "4000 rows, 27 fields"), "%s", r.out);
    cr_assert(strstr(r.out, "field ") && strstr(r.out, " missing ") && strstr(r.out, "distinct"));
    cr_assert(strstr(r.out, "\namount "), "%s", r.out);
    cr_assert(strstr(r.out, "target file:"), "%s", r.out);
    result_free(&r);

    json_error_t e;
    json_t *p = json_load_file(path_of("p.json"), 0, &e);
    cr_assert_not_null(p, "%s", e.text);
    cr_assert_str_eq(json_string_value(json_object_get(p, "format")), "weir.profile/1");
    cr_assert_eq(json_integer_value(json_object_get(p, "rows")), 4000);
    json_t *fields = json_object_get(p, "fields");
    cr_assert_eq(json_array_size(fields), 27);
    size_t i;
    json_t *f;
    int saw_amount = 0, saw_age = 0;
    json_array_foreach(fields, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        if (!strcmp(name, "amount")) {
            saw_amount = 1;
            json_t *q = json_object_get(f, "quantiles");
            double p25 = json_number_value(json_object_get(q, "p25"));
            double p50 = json_number_value(json_object_get(q, "p50"));
            double min = json_number_value(json_object_get(f, "min"));
            cr_assert(min <= p25 && p25 <= p50, "amount: min %g, p25 %g, p50 %g", min, p25, p50);
            cr_assert_not_null(json_object_get(f, "histogram"));
        }
        if (!strcmp(name, "customer_age")) {
            /* nullable in the schema: some rows miss it */
            saw_age = 1;
            cr_assert_gt(json_integer_value(json_object_get(f, "missing")), 0);
            cr_assert_eq(json_integer_value(json_object_get(f, "missing")) +
                             json_integer_value(json_object_get(f, "count")),
                         4000);
        }
    }
    cr_assert(saw_amount && saw_age);
    /* the target's balance from the joined labels */
    json_t *target = json_object_get(p, "target");
    cr_assert_eq(json_integer_value(json_object_get(target, "labelled")), 4000);
    json_int_t sum = 0;
    json_t *c;
    json_array_foreach(json_object_get(target, "classes"), i, c) sum +=
        json_integer_value(json_object_get(c, "count"));
    cr_assert_eq(sum, 4000);
    /* a square correlation matrix with ones on its diagonal */
    json_t *corr = json_object_get(p, "correlation");
    size_t m = json_array_size(json_object_get(corr, "fields"));
    cr_assert_gt(m, 10);
    json_t *matrix = json_object_get(corr, "matrix");
    cr_assert_eq(json_array_size(matrix), m);
    for (size_t k = 0; k < m; k++) {
        json_t *d = json_array_get(json_array_get(matrix, k), k);
        cr_assert(json_is_null(d) || fabs(json_number_value(d) - 1) < 1e-9);
    }
    /* the reference drops into the bundle as it stands */
    json_t *bundle = json_load_file(EXAMPLE_MODEL, 0, &e);
    json_object_set(json_object_get(bundle, "reference"), "features",
                    json_object_get(json_object_get(p, "reference"), "features"));
    char *text = json_dumps(bundle, 0);
    weir_model_t *model;
    char err[1024];
    cr_assert_eq(weir_model_parse(text, strlen(text), "<profiled>", &model, err, sizeof(err)), 0,
                 "%s", err);
    const weir_reference_t *ref = weir_model_reference(model, 0);
    cr_assert_not_null(ref);
    cr_assert_eq(ref->n, 4000);
    weir_model_destroy(model);
    free(text);
    json_decref(bundle);
    json_decref(p);
}

Test(profile, bad_options_are_usage_errors)
{
    struct {
        const char *args[6];
        const char *says;
    } cases[] = {
        {{"profile", NULL}, "--in"},
        {{"profile", "--in", "tx", NULL}, "--in"},
        {{"profile", "--in", "topic:tx@2026-03-02..2026-03-01", NULL}, "not before"},
        {{"profile", "--in", "topic:tx@2026-03-01", NULL}, "FROM..TO"},
        {{"profile", "--in", "topic:tx", NULL}, "input.schema"},
        {{"profile", "--in", "file:/nonexistent.avro", NULL}, "nonexistent"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        result_t r = weir(cases[i].args);
        cr_assert_eq(r.code, 2, "case %zu: exit %d: %s", i, r.code, r.err);
        cr_assert(strstr(r.err, cases[i].says), "case %zu: %s", i, r.err);
        result_free(&r);
    }
}
