/*
 * fuzz_bundle.c — a libFuzzer target for the bundle loader: any bytes as the
 * text of a weir.model/1 bundle through weir_model_parse().
 *
 * A refusal must be WEIR_EMODEL (or WEIR_ENOMEM), leave no model, and carry a
 * message that names the origin and echoes no control character. A bundle
 * that loads must describe itself consistently (the features' columns add
 * up, names keep to their caps, the outputs fit the task) and must then
 * transform and score rows of missing, numeric and string values without
 * touching memory it does not own. Anything else aborts, which is what a
 * fuzzer reports. The seeds (tests/fuzz/corpus/bundle/) cover every model
 * kind, every transform step and every part of a reference.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring.h"

#define ORIGIN "fuzz.json"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_name(const char *s, size_t max, int empty_allowed)
{
    size_t len;

    check(s != NULL);
    len = strlen(s);
    check(len <= max && (empty_allowed || len > 0));
}

static void check_refusal(int rc, const weir_model_t *m, const char *err)
{
    check(m == NULL);
    check(rc == WEIR_EMODEL || rc == WEIR_ENOMEM);
    check(strncmp(err, ORIGIN ": ", strlen(ORIGIN ": ")) == 0);
    check(err[strlen(ORIGIN ": ")] != '\0');
    for (const char *c = err; *c; c++)
        check((unsigned char)*c >= 0x20 && *c != 0x7f);
}

static void check_description(const weir_model_t *m)
{
    size_t columns = 0, features = weir_model_feature_count(m);
    weir_task_t task = weir_model_task(m);

    check_name(weir_model_name(m), WEIR_BUNDLE_MAX_NAME, 0);
    check_name(weir_model_version(m), WEIR_BUNDLE_MAX_NAME, 0);
    check_name(weir_model_created(m), WEIR_BUNDLE_MAX_NAME, 1);
    check(features >= 1 && features <= WEIR_BUNDLE_MAX_FEATURES);
    for (size_t i = 0; i < features; i++) {
        const weir_feature_info_t *f = weir_model_feature(m, i);
        const weir_reference_t *r = weir_model_reference(m, i);
        check_name(f->name, WEIR_BUNDLE_MAX_NAME, 0);
        check_name(f->source, WEIR_BUNDLE_MAX_SOURCE, 0);
        check(f->column == columns && f->width >= 1);
        columns += f->width;
        if (r) {
            check(r->type == f->type && strcmp(r->name, f->name) == 0);
            check(r->sample_len <= WEIR_BUNDLE_MAX_SAMPLE);
            for (size_t k = 1; k < r->sample_len; k++)
                check(!(r->sample[k] < r->sample[k - 1]));
            for (size_t k = 0; k < r->category_count; k++)
                check_name(r->categories[k], WEIR_BUNDLE_MAX_LABEL, 1);
        }
    }
    check(columns == weir_model_columns(m) && columns <= WEIR_BUNDLE_MAX_COLUMNS);
    if (task == WEIR_TASK_REGRESSION) {
        check(weir_model_class_count(m) == 0 && weir_model_outputs(m) == 1);
    } else {
        check(weir_model_class_count(m) == (task == WEIR_TASK_BINARY ? 2 : weir_model_outputs(m)));
        for (size_t k = 0; k < weir_model_class_count(m); k++)
            check_name(weir_model_class(m, k), WEIR_BUNDLE_MAX_LABEL, 0);
    }
}

/* Transforms and scores one row of @p values; errors are allowed, as long as
 * they are the documented ones and name a feature of the model. */
static void score_row(const weir_model_t *m, const weir_value_t *values, double *row,
                      double *workspace, float *outputs)
{
    size_t bad = (size_t)-1, features = weir_model_feature_count(m);
    double score;
    int class_index, rc = weir_transform_row(m, values, row, &bad);

    if (rc != 0) {
        check(rc == WEIR_EMISSING || rc == WEIR_ECATEGORY || rc == WEIR_ETYPE ||
              rc == WEIR_ENONFINITE);
        check(bad < features);
        return;
    }
    check(weir_model_predict(m, row, 1, workspace, outputs) == 0);
    weir_model_decide(m, outputs, &score, &class_index);
    if (weir_model_task(m) == WEIR_TASK_REGRESSION)
        check(class_index == -1);
    else
        check(class_index >= 0 && (size_t)class_index < weir_model_class_count(m));
}

static void exercise(const weir_model_t *m)
{
    static const char *const strings[] = {"x", "", "grocery", "none"};
    static const double numbers[] = {0.0, 1.5, -1.0, 1e300};
    size_t features = weir_model_feature_count(m);
    weir_value_t *values = calloc(features, sizeof(*values));
    double *row = calloc(weir_model_columns(m), sizeof(*row));
    double *workspace = calloc(weir_model_workspace_size(m, 1) + 1, sizeof(*workspace));
    float *outputs = calloc(weir_model_outputs(m), sizeof(*outputs));

    check(values && row && workspace && outputs);
    for (int round = 0; round < 6; round++) {
        for (size_t i = 0; i < features; i++) {
            weir_value_t *v = &values[i];
            int as_string = weir_model_feature(m, i)->type == WEIR_FEATURE_CATEGORICAL;
            memset(v, 0, sizeof(*v));
            if (round == 0) {
                v->kind = WEIR_VALUE_MISSING;
            } else if (round == 5) {
                v->kind = WEIR_VALUE_NUMBER; /* NaN, and numbers for categories */
                v->number = i % 2 ? NAN : 7.0;
            } else if (as_string) {
                v->kind = WEIR_VALUE_STRING;
                v->string = strings[round - 1];
                v->length = strlen(v->string);
            } else {
                v->kind = WEIR_VALUE_NUMBER;
                v->number = numbers[round - 1];
            }
        }
        score_row(m, values, row, workspace, outputs);
    }
    free(values);
    free(row);
    free(workspace);
    free(outputs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[1024] = "";
    weir_model_t *m = (weir_model_t *)1;
    int rc = weir_model_parse((const char *)data, size, ORIGIN, &m, err, sizeof(err));

    if (rc != 0) {
        check_refusal(rc, m, err);
        return 0;
    }
    check(m != NULL);
    check_description(m);
    exercise(m);
    weir_model_destroy(m);
    return 0;
}
