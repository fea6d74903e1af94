/*
 * test_model.c — batched inference: every model kind and activation against
 * golden vectors computed independently (numpy in float64, and real
 * scikit-learn models run end to end from raw events), batching against
 * row-by-row prediction, the decision rule, and the edges (no rows, one
 * column, huge logits).
 *
 * Tolerance: weir computes in float32 (sgemm), the references in float64, so
 * outputs are compared to 1e-5 absolute; the golden inputs keep outputs of
 * moderate size so that float32 rounding stays well inside that.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring.h"
#include "scoring_test.h"
#include "support.h"

#define OUTPUT_TOLERANCE 1e-5

static weir_model_t *model_from_text(const char *relaxed)
{
    char *text = strdup(relaxed);
    char err[512] = "";
    weir_model_t *m = NULL;
    int rc;

    for (char *c = text; *c; c++)
        if (*c == '\'')
            *c = '"';
    rc = weir_model_parse(text, strlen(text), "test", &m, err, sizeof(err));
    free(text);
    cr_assert_eq(rc, 0, "%s", err);
    return m;
}

/* Runs weir_model_predict() with a workspace of exactly the advertised size. */
static float *predict(const weir_model_t *m, const double *x, size_t rows)
{
    double *workspace = malloc(weir_model_workspace_size(m, rows) * sizeof(double) + 1);
    float *out = malloc(rows * weir_model_outputs(m) * sizeof(float) + 1);
    int rc = weir_model_predict(m, x, rows, workspace, out);

    cr_assert_eq(rc, 0);
    free(workspace);
    return out;
}

static void expect_outputs(const char *name, const weir_model_t *m, const float *out,
                           json_t *expected)
{
    size_t outputs = weir_model_outputs(m);

    for (size_t r = 0; r < json_array_size(expected); r++) {
        json_t *row = json_array_get(expected, r);
        cr_assert_eq(json_array_size(row), outputs, "%s row %zu", name, r);
        for (size_t k = 0; k < outputs; k++) {
            double want = json_number_value(json_array_get(row, k));
            double got = out[r * outputs + k];
            cr_assert(fabs(got - want) <= OUTPUT_TOLERANCE,
                      "%s row %zu output %zu: %.9g, expected %.17g", name, r, k, got, want);
        }
    }
}

static weir_model_kind_t kind_named(const char *kind)
{
    return !strcmp(kind, "linear")     ? WEIR_MODEL_LINEAR
           : !strcmp(kind, "logistic") ? WEIR_MODEL_LOGISTIC
           : !strcmp(kind, "softmax")  ? WEIR_MODEL_SOFTMAX
                                       : WEIR_MODEL_MLP;
}

Test(model, matches_numpy_for_every_kind_and_activation)
{
    json_t *golden = weir_test_load_json("scoring/golden/models.json");
    json_t *cases = json_object_get(golden, "cases");
    int seen[WEIR_MODEL_MLP + 1] = {0};

    for (size_t c = 0; c < json_array_size(cases); c++) {
        json_t *gcase = json_array_get(cases, c);
        const char *name = json_string_value(json_object_get(gcase, "name"));
        json_t *bundle = json_object_get(gcase, "bundle");
        json_t *x = json_object_get(gcase, "x");
        weir_model_t *m = scoring_test_model(bundle);
        size_t rows = json_array_size(x), columns = weir_model_columns(m);
        double *input = malloc(rows * columns * sizeof(double));
        float *out;
        weir_model_kind_t kind = kind_named(
            json_string_value(json_object_get(json_object_get(bundle, "model"), "kind")));

        cr_assert_eq(weir_model_kind(m), kind, "%s", name);
        seen[kind]++;
        for (size_t r = 0; r < rows; r++)
            for (size_t j = 0; j < columns; j++)
                input[r * columns + j] = json_number_value(json_array_get(json_array_get(x, r), j));
        out = predict(m, input, rows);
        expect_outputs(name, m, out, json_object_get(gcase, "expected"));
        free(out);
        free(input);
        weir_model_destroy(m);
    }
    cr_assert(seen[WEIR_MODEL_LINEAR] && seen[WEIR_MODEL_LOGISTIC] && seen[WEIR_MODEL_SOFTMAX] &&
              seen[WEIR_MODEL_MLP] >= 4);
    json_decref(golden);
}

Test(model, matches_scikit_learn_from_raw_events)
{
    json_t *golden = weir_test_load_json("scoring/golden/sklearn.json");
    json_t *cases = json_object_get(golden, "cases");

    cr_assert_eq(json_array_size(cases), 6);
    for (size_t c = 0; c < json_array_size(cases); c++) {
        json_t *gcase = json_array_get(cases, c);
        const char *name = json_string_value(json_object_get(gcase, "name"));
        json_t *events = json_object_get(gcase, "events");
        weir_model_t *m = scoring_test_model(json_object_get(gcase, "bundle"));
        size_t rows = json_array_size(events), columns = weir_model_columns(m);
        size_t features = weir_model_feature_count(m);
        double *x = malloc(rows * columns * sizeof(double));
        weir_value_t *values = malloc(features * sizeof(*values));
        float *out;

        for (size_t r = 0; r < rows; r++) {
            size_t bad = 0;
            int rc;
            for (size_t i = 0; i < features; i++)
                values[i] = scoring_test_value(json_array_get(json_array_get(events, r), i));
            rc = weir_transform_row(m, values, x + r * columns, &bad);
            cr_assert_eq(rc, 0, "%s event %zu: %s at feature %zu", name, r, weir_strerror(rc), bad);
        }
        out = predict(m, x, rows);
        expect_outputs(name, m, out, json_object_get(gcase, "expected"));
        free(out);
        free(values);
        free(x);
        weir_model_destroy(m);
    }
    json_decref(golden);
}

/* A model of models.json by case name. */
static weir_model_t *golden_model(const char *wanted)
{
    json_t *golden = weir_test_load_json("scoring/golden/models.json");
    json_t *cases = json_object_get(golden, "cases");
    weir_model_t *m = NULL;

    for (size_t c = 0; c < json_array_size(cases) && !m; c++) {
        json_t *gcase = json_array_get(cases, c);
        if (!strcmp(json_string_value(json_object_get(gcase, "name")), wanted))
            m = scoring_test_model(json_object_get(gcase, "bundle"));
    }
    json_decref(golden);
    cr_assert_not_null(m, "no golden model %s", wanted);
    return m;
}

/*
 * One sgemm over 1000 rows and 1000 sgemms over one row each: BLAS may block
 * the two differently and so sum in another order, hence a tolerance of a
 * few float ulps rather than bitwise equality.
 */
Test(model, a_batch_of_1000_rows_equals_row_by_row_prediction)
{
    const char *names[] = {"mlp_identity_relu_softmax", "mlp_relu_tanh_sigmoid", "logistic",
                           "mlp_sigmoid_softmax2"};
    const size_t rows = 1000;
    uint32_t state = 12345;

    for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
        weir_model_t *m = golden_model(names[n]);
        size_t columns = weir_model_columns(m), outputs = weir_model_outputs(m);
        double *x = malloc(rows * columns * sizeof(double));
        float *batch;

        for (size_t i = 0; i < rows * columns; i++) {
            state = state * 1664525u + 1013904223u;
            x[i] = (double)state / 4294967296.0 * 6.0 - 3.0;
        }
        batch = predict(m, x, rows);
        for (size_t r = 0; r < rows; r++) {
            float *single = predict(m, x + r * columns, 1);
            for (size_t k = 0; k < outputs; k++)
                cr_assert(fabsf(batch[r * outputs + k] - single[k]) <= 1e-6f,
                          "%s row %zu output %zu: batch %.9g, alone %.9g", names[n], r, k,
                          batch[r * outputs + k], single[k]);
            free(single);
        }
        free(batch);
        free(x);
        weir_model_destroy(m);
    }
}

Test(model, zero_rows_do_nothing)
{
    weir_model_t *m = golden_model("mlp_relu_tanh_sigmoid");
    float sentinel = 42;

    cr_assert_eq(weir_model_workspace_size(m, 0), 0);
    cr_assert_eq(weir_model_predict(m, NULL, 0, NULL, NULL), 0);
    cr_assert_eq(weir_model_predict(m, NULL, 0, NULL, &sentinel), 0);
    cr_assert_eq(sentinel, 42);
    weir_model_destroy(m);
}

Test(model, refuses_missing_buffers)
{
    weir_model_t *m = golden_model("logistic");
    double x[5] = {0}, workspace[1];
    float out[1];

    cr_assert_eq(weir_model_predict(NULL, x, 1, workspace, out), WEIR_EINVAL);
    cr_assert_eq(weir_model_predict(m, NULL, 1, workspace, out), WEIR_EINVAL);
    cr_assert_eq(weir_model_predict(m, x, 1, NULL, out), WEIR_EINVAL);
    cr_assert_eq(weir_model_predict(m, x, 1, workspace, NULL), WEIR_EINVAL);
    weir_model_destroy(m);
}

Test(model, sizes_the_workspace_by_the_widest_layer)
{
    weir_model_t *one_layer = golden_model("softmax");                  /* 4 units */
    weir_model_t *three_layers = golden_model("mlp_relu_tanh_sigmoid"); /* 8, 6, 1 units */

    cr_assert_eq(weir_model_workspace_size(one_layer, 10), 10 * 4);
    cr_assert_eq(weir_model_workspace_size(three_layers, 10), 2 * 10 * 8);
    cr_assert_eq(weir_model_workspace_size(three_layers, SIZE_MAX / 4), SIZE_MAX,
                 "an overflowing size saturates");
    weir_model_destroy(one_layer);
    weir_model_destroy(three_layers);
}

Test(model, predicts_with_a_single_column)
{
    weir_model_t *logistic = model_from_text(
        "{'format': 'weir.model/1', 'name': 'one', 'version': '1', 'task': 'binary',"
        " 'features': [{'name': 'x', 'source': 'x', 'type': 'numeric'}],"
        " 'model': {'kind': 'logistic', 'weights': [2], 'bias': -1}}");
    weir_model_t *linear = model_from_text(
        "{'format': 'weir.model/1', 'name': 'one', 'version': '1', 'task': 'regression',"
        " 'features': [{'name': 'x', 'source': 'x', 'type': 'numeric'}],"
        " 'model': {'kind': 'linear', 'weights': [3], 'bias': 1}}");
    const double x[] = {0.5, 1.0, 2.0};
    float *p = predict(logistic, x, 3), *y = predict(linear, x, 3);

    cr_assert_eq(weir_model_columns(logistic), 1);
    cr_assert(fabsf(p[0] - 0.5f) <= 1e-6f);
    cr_assert(fabs(p[1] - 0.7310585786300049) <= 1e-6); /* sigmoid(1) */
    cr_assert(fabs(p[2] - 0.9525741268224334) <= 1e-6); /* sigmoid(3) */
    cr_assert(y[0] == 2.5f && y[1] == 4.0f && y[2] == 7.0f);
    free(p);
    free(y);
    weir_model_destroy(logistic);
    weir_model_destroy(linear);
}

Test(model, stays_finite_for_huge_logits)
{
    weir_model_t *logistic = model_from_text(
        "{'format': 'weir.model/1', 'name': 'big', 'version': '1', 'task': 'binary',"
        " 'features': [{'name': 'x', 'source': 'x', 'type': 'numeric'}],"
        " 'model': {'kind': 'logistic', 'weights': [1], 'bias': 0}}");
    weir_model_t *softmax = model_from_text(
        "{'format': 'weir.model/1', 'name': 'big', 'version': '1', 'task': 'multiclass',"
        " 'classes': ['a', 'b', 'c'],"
        " 'features': [{'name': 'x', 'source': 'x', 'type': 'numeric'}],"
        " 'model': {'kind': 'softmax', 'weights': [[1], [-1], [0.5]], 'bias': [0, 0, 0]}}");
    const double x[] = {1e4, -1e4};
    float *p = predict(logistic, x, 2), *q = predict(softmax, x, 2);

    cr_assert(p[0] == 1.0f && p[1] == 0.0f, "%g %g", p[0], p[1]);
    cr_assert(q[0] == 1.0f && q[1] == 0.0f && q[2] == 0.0f, "%g %g %g", q[0], q[1], q[2]);
    cr_assert(q[3] == 0.0f && q[4] == 1.0f && q[5] == 0.0f, "%g %g %g", q[3], q[4], q[5]);
    free(p);
    free(q);
    weir_model_destroy(logistic);
    weir_model_destroy(softmax);
}

Test(model, decides_by_threshold_argmax_or_not_at_all)
{
    weir_model_t *binary = golden_model("logistic"); /* threshold 0.3 */
    weir_model_t *multiclass = golden_model("softmax");
    weir_model_t *regression = golden_model("linear");
    const float at_threshold = 0.3f, below = 0.29f, probabilities[] = {0.1f, 0.5f, 0.15f, 0.25f};
    const float prediction = -4.25f;
    double score;
    int class_index;

    cr_assert_eq(weir_model_threshold(binary), 0.3);
    weir_model_decide(binary, &below, &score, &class_index);
    cr_assert_eq(class_index, 0);
    cr_assert_eq(score, (double)below);
    weir_model_decide(binary, &(const float){0.95f}, &score, &class_index);
    cr_assert_eq(class_index, 1);
    /* 0.3f is just above 0.3 in double; the rule is score >= threshold. */
    weir_model_decide(binary, &at_threshold, &score, &class_index);
    cr_assert_eq(class_index, 1);

    weir_model_decide(multiclass, probabilities, &score, &class_index);
    cr_assert_eq(class_index, 1);
    cr_assert_eq(score, 0.5);

    weir_model_decide(regression, &prediction, &score, &class_index);
    cr_assert_eq(class_index, -1);
    cr_assert_eq(score, -4.25);

    weir_model_destroy(binary);
    weir_model_destroy(multiclass);
    weir_model_destroy(regression);
}
