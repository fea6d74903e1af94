/*
 * test_estimators.c — every estimator the Python package exports, checked in
 * C against the library's own predictions: golden/estimators.json holds each
 * case's bundle (made by weir.export()), raw test events with missing values
 * and categories the training never saw, and what scikit-learn, XGBoost or
 * LightGBM output and decided for them (golden/make_estimators.py).
 *
 * Tolerances, relative to the larger of 1 and the library's value: 1e-6 for
 * linear and MLP models, 1e-5 for trees (XGBoost computes in float32). The
 * decisions must be identical, the threshold included.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scoring.h"
#include "scoring_test.h"
#include "support.h"

static void check_case(json_t *gcase)
{
    const char *name = json_string_value(json_object_get(gcase, "name"));
    int trees = !strcmp(json_string_value(json_object_get(gcase, "kind")), "trees");
    double tolerance = trees ? 1e-5 : 1e-6;
    json_t *events = json_object_get(gcase, "events");
    json_t *expected = json_object_get(gcase, "expected");
    json_t *decisions = json_object_get(gcase, "decisions");
    weir_model_t *m = scoring_test_model(json_object_get(gcase, "bundle"));
    size_t rows = json_array_size(events), columns = weir_model_columns(m);
    size_t features = weir_model_feature_count(m), outputs = weir_model_outputs(m);
    double *x = calloc(rows * columns + 1, sizeof(*x));
    double *workspace = calloc(weir_model_workspace_size(m, rows) + 1, sizeof(*workspace));
    float *out = calloc(rows * outputs + 1, sizeof(*out));
    weir_value_t *values = calloc(features, sizeof(*values));

    cr_assert(rows > 0 && json_array_size(expected) == rows, "%s", name);
    for (size_t r = 0; r < rows; r++) {
        json_t *event = json_array_get(events, r);
        size_t bad = 0;
        int rc;
        for (size_t f = 0; f < features; f++)
            values[f] =
                scoring_test_value(json_object_get(event, weir_model_feature(m, f)->source));
        rc = weir_transform_row(m, values, x + r * columns, &bad);
        cr_assert_eq(rc, 0, "%s event %zu: %s at feature %s", name, r, weir_strerror(rc),
                     weir_model_feature(m, bad)->name);
    }
    cr_assert_eq(weir_model_predict(m, x, rows, workspace, out), 0, "%s", name);
    for (size_t r = 0; r < rows; r++) {
        json_t *want = json_array_get(expected, r);
        cr_assert_eq(json_array_size(want), outputs, "%s row %zu", name, r);
        for (size_t k = 0; k < outputs; k++) {
            double library = json_number_value(json_array_get(want, k));
            double got = out[r * outputs + k];
            cr_assert(fabs(got - library) <= tolerance * fmax(1.0, fabs(library)),
                      "%s row %zu output %zu: weir %.9g, library %.17g", name, r, k, got, library);
        }
        if (json_array_size(decisions) > 0) {
            int class_index;
            weir_model_decide(m, out + r * outputs, NULL, &class_index);
            cr_assert_eq(class_index, (int)json_integer_value(json_array_get(decisions, r)),
                         "%s row %zu: weir decides class %d, the library %d", name, r, class_index,
                         (int)json_integer_value(json_array_get(decisions, r)));
        }
    }
    free(x);
    free(workspace);
    free(out);
    free(values);
    weir_model_destroy(m);
}

Test(estimators, every_exported_estimator_scores_as_its_library)
{
    json_t *golden = weir_test_load_json("scoring/golden/estimators.json");
    json_t *cases = json_object_get(golden, "cases");
    size_t trees = 0, dense = 0;

    for (size_t c = 0; c < json_array_size(cases); c++) {
        json_t *gcase = json_array_get(cases, c);
        check_case(gcase);
        if (!strcmp(json_string_value(json_object_get(gcase, "kind")), "trees"))
            trees++;
        else
            dense++;
    }
    cr_assert_geq(trees, 20);
    cr_assert_geq(dense, 8);
    json_decref(golden);
}
