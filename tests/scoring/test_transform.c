/*
 * test_transform.c — the feature transforms: each step and each missing and
 * unknown-category policy with exact expected values, then every event of
 * golden/transforms.json against the float64 reference that make_golden.py
 * implements independently with numpy.
 *
 * Rows are float: a value computed in double and stored as float is within
 * 1e-6 of the double reference as long as it stays below 16 in magnitude,
 * which the golden data keeps to; that is the tolerance used throughout.
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

#define ROW_TOLERANCE 1e-6
#define MAX_COLUMNS 64

/* A regression bundle over @p features (JSON with single quotes) whose zero
 * linear model takes @p columns columns. */
static weir_model_t *model_of(const char *features, size_t columns)
{
    char text[4096];
    char weights[MAX_COLUMNS * 2 + 1] = "";
    weir_model_t *m = NULL;
    char err[512] = "";
    int rc;

    cr_assert_leq(columns, MAX_COLUMNS);
    for (size_t i = 0; i < columns; i++)
        strcat(weights, i ? ",0" : "0");
    snprintf(text, sizeof(text),
             "{'format': 'weir.model/1', 'name': 't', 'version': '1', 'task': 'regression',"
             " 'features': %s, 'model': {'kind': 'linear', 'weights': [%s], 'bias': 0}}",
             features, weights);
    for (char *c = text; *c; c++)
        if (*c == '\'')
            *c = '"';
    rc = weir_model_parse(text, strlen(text), "test", &m, err, sizeof(err));
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_eq(weir_model_columns(m), columns);
    return m;
}

static weir_value_t number(double x)
{
    return (weir_value_t){.kind = WEIR_VALUE_NUMBER, .number = x};
}

static weir_value_t string(const char *s)
{
    return (weir_value_t){.kind = WEIR_VALUE_STRING, .string = s, .length = strlen(s)};
}

static const weir_value_t missing = {.kind = WEIR_VALUE_MISSING};

/* Transforms one value of a one-feature model and checks the columns. */
static void expect_row(const weir_model_t *m, weir_value_t value, const double *expected)
{
    double row[MAX_COLUMNS];
    size_t bad = 99;
    int rc = weir_transform_row(m, &value, row, &bad);

    cr_assert_eq(rc, 0, "rc %d (%s)", rc, weir_strerror(rc));
    cr_assert_eq(bad, 99, "bad_feature is left alone on success");
    for (size_t j = 0; j < weir_model_columns(m); j++)
        cr_expect(fabs(row[j] - expected[j]) <= ROW_TOLERANCE, "column %zu: %.9g, expected %.9g", j,
                  row[j], expected[j]);
}

static void expect_value(const weir_model_t *m, weir_value_t value, double expected)
{
    double one = (double)expected;
    expect_row(m, value, &one);
}

static void expect_error(const weir_model_t *m, const weir_value_t *values, int code,
                         size_t feature)
{
    double row[MAX_COLUMNS];
    size_t bad = 99;

    cr_expect_eq(weir_transform_row(m, values, row, &bad), code);
    cr_expect_eq(bad, feature);
}

Test(transform, imputes_a_missing_number_then_runs_the_rest_of_the_chain)
{
    weir_model_t *m = model_of(
        "[{'name': 'amount', 'source': 'amount', 'type': 'numeric', 'missing': 'impute',"
        "  'transform': [{'op': 'impute', 'value': -1}, {'op': 'clip', 'min': 0, 'max': 100},"
        "                {'op': 'log1p'}, {'op': 'standardize', 'mean': 0, 'std': 0.5}]}]",
        1);

    expect_value(m, missing, 0);                     /* -1, clipped to 0, log1p 0 */
    expect_value(m, number(M_E - 1), 2);             /* log1p = 1, / 0.5 */
    expect_value(m, number(1000), 9.23024103368252); /* clipped to 100 */
    expect_value(m, number(-1), 0);                  /* a present -1 is clipped, not imputed */
    weir_model_destroy(m);
}

Test(transform, clips_to_either_bound_or_both)
{
    weir_model_t *m = model_of("[{'name': 'a', 'source': 'a', 'type': 'numeric',"
                               "  'transform': [{'op': 'clip', 'min': -1, 'max': 1}]},"
                               " {'name': 'b', 'source': 'b', 'type': 'numeric',"
                               "  'transform': [{'op': 'clip', 'max': 3}]},"
                               " {'name': 'c', 'source': 'c', 'type': 'numeric',"
                               "  'transform': [{'op': 'clip', 'min': 3}]}]",
                               3);
    weir_value_t low[] = {number(-5), number(-100), number(-100)};
    weir_value_t high[] = {number(7), number(5), number(5)};
    weir_value_t inside[] = {number(0.25), number(2.5), number(4.5)};
    double row[3];

    cr_assert_eq(weir_transform_row(m, low, row, NULL), 0);
    cr_assert(row[0] == -1 && row[1] == -100 && row[2] == 3);
    cr_assert_eq(weir_transform_row(m, high, row, NULL), 0);
    cr_assert(row[0] == 1 && row[1] == 3 && row[2] == 5);
    cr_assert_eq(weir_transform_row(m, inside, row, NULL), 0);
    cr_assert(row[0] == 0.25f && row[1] == 2.5f && row[2] == 4.5f);
    weir_model_destroy(m);
}

Test(transform, log1p_refuses_minus_one_and_below)
{
    weir_model_t *m = model_of(
        "[{'name': 'r', 'source': 'r', 'type': 'numeric', 'transform': [{'op': 'log1p'}]}]", 1);
    weir_value_t minus_one = number(-1), below = number(-1.5);

    expect_value(m, number(-0.5), -0.6931471805599453);
    expect_value(m, number(0), 0);
    expect_error(m, &minus_one, WEIR_ENONFINITE, 0);
    expect_error(m, &below, WEIR_ENONFINITE, 0);
    weir_model_destroy(m);
}

Test(transform, standardizes_and_min_max_scales_without_clamping)
{
    weir_model_t *m = model_of("[{'name': 's', 'source': 's', 'type': 'numeric',"
                               "  'transform': [{'op': 'standardize', 'mean': 10, 'std': 4}]},"
                               " {'name': 'm', 'source': 'm', 'type': 'numeric',"
                               "  'transform': [{'op': 'min_max', 'min': -2, 'max': 6}]}]",
                               2);
    weir_value_t values[] = {number(18), number(0)}, outside[] = {number(-2), number(10)};
    double row[2];

    cr_assert_eq(weir_transform_row(m, values, row, NULL), 0);
    cr_assert(row[0] == 2.0f && row[1] == 0.25f);
    cr_assert_eq(weir_transform_row(m, outside, row, NULL), 0);
    cr_assert(row[0] == -3.0f && row[1] == 1.5f);
    weir_model_destroy(m);
}

Test(transform, bucketize_counts_the_edges_at_or_below_the_value)
{
    weir_model_t *m = model_of("[{'name': 'n', 'source': 'n', 'type': 'numeric',"
                               "  'transform': [{'op': 'bucketize', 'edges': [0, 10, 100]}]}]",
                               1);
    const double x[] = {-1, 0, 9.99, 10, 99, 100, 1e9};
    const double bucket[] = {0, 1, 1, 2, 2, 3, 3}; /* numpy.digitize(x, edges, right=False) */

    for (size_t i = 0; i < sizeof(x) / sizeof(x[0]); i++)
        expect_value(m, number(x[i]), bucket[i]);
    weir_model_destroy(m);
}

Test(transform, bucketize_one_hot_sets_the_bucket_column)
{
    weir_model_t *m =
        model_of("[{'name': 'd', 'source': 'd', 'type': 'numeric', 'missing': 'impute',"
                 "  'transform': [{'op': 'impute', 'value': 5}, "
                 "                {'op': 'bucketize', 'edges': [0, 1], 'output': 'one_hot'}]}]",
                 3);

    expect_row(m, number(-0.5), (const double[]){1, 0, 0});
    expect_row(m, number(0), (const double[]){0, 1, 0});
    expect_row(m, number(0.99), (const double[]){0, 1, 0});
    expect_row(m, number(1), (const double[]){0, 0, 1});
    expect_row(m, missing, (const double[]){0, 0, 1});
    weir_model_destroy(m);
}

Test(transform, a_boolean_is_one_for_any_nonzero_number)
{
    weir_model_t *m =
        model_of("[{'name': 'b', 'source': 'b', 'type': 'boolean', 'missing': 'impute',"
                 "  'transform': [{'op': 'impute', 'value': 2}]}]",
                 1);

    expect_value(m, number(0), 0);
    expect_value(m, number(-0.0), 0);
    expect_value(m, number(1), 1);
    expect_value(m, number(0.001), 1);
    expect_value(m, number(-7), 1);
    expect_value(m, missing, 1); /* the imputed 2 is nonzero too */
    weir_model_destroy(m);
}

Test(transform, one_hot_follows_its_unknown_policy)
{
    weir_model_t *m = model_of(
        "[{'name': 'e', 'source': 'c', 'type': 'categorical',"
        "  'transform': [{'op': 'one_hot', 'categories': ['a', 'b', 'c']}]},"
        " {'name': 'i', 'source': 'c', 'type': 'categorical',"
        "  'transform': [{'op': 'one_hot', 'categories': ['a', 'b', 'c'], 'unknown': 'ignore'}]},"
        " {'name': 'x', 'source': 'c', 'type': 'categorical',"
        "  'transform': [{'op': 'one_hot', 'categories': ['a', 'b', 'c'], 'unknown': 'extra'}]}]",
        10);
    weir_value_t known[] = {string("b"), string("c"), string("a")};
    weir_value_t unknown[] = {string("b"), string("zz"), string("zz")};
    weir_value_t unknown_first[] = {string("B"), string("a"), string("a")};
    const double expected_known[] = {0, 1, 0, 0, 0, 1, 1, 0, 0, 0};
    const double expected_unknown[] = {0, 1, 0, 0, 0, 0, 0, 0, 0, 1};
    double row[10];

    cr_assert_eq(weir_transform_row(m, known, row, NULL), 0);
    cr_assert_arr_eq(row, expected_known, sizeof(row));
    cr_assert_eq(weir_transform_row(m, unknown, row, NULL), 0);
    cr_assert_arr_eq(row, expected_unknown, sizeof(row), "ignore: zeros; extra: last column");
    expect_error(m, unknown_first, WEIR_ECATEGORY, 0); /* categories are case-sensitive */
    weir_model_destroy(m);
}

Test(transform, a_missing_category_under_policy_unknown_follows_the_encoding)
{
    weir_model_t *m =
        model_of("[{'name': 'e', 'source': 'c', 'type': 'categorical', 'missing': 'unknown',"
                 "  'transform': [{'op': 'one_hot', 'categories': ['a']}]},"
                 " {'name': 'i', 'source': 'c', 'type': 'categorical', 'missing': 'unknown',"
                 "  'transform': [{'op': 'one_hot', 'categories': ['a'], 'unknown': 'ignore'}]},"
                 " {'name': 'x', 'source': 'c', 'type': 'categorical', 'missing': 'unknown',"
                 "  'transform': [{'op': 'one_hot', 'categories': ['a'], 'unknown': 'extra'}]},"
                 " {'name': 'h', 'source': 'c', 'type': 'categorical', 'missing': 'unknown',"
                 "  'transform': [{'op': 'hash', 'buckets': 3}]}]",
                 7);
    weir_value_t first_missing[] = {missing, missing, missing, missing};
    weir_value_t others_missing[] = {string("a"), missing, missing, missing};
    const double expected[] = {1, 0, 0, 1, 0, 0, 0};
    double row[7];

    expect_error(m, first_missing, WEIR_ECATEGORY, 0);
    cr_assert_eq(weir_transform_row(m, others_missing, row, NULL), 0);
    cr_assert_arr_eq(row, expected, sizeof(row), "ignore: zeros; extra: extra; hash: zeros");
    weir_model_destroy(m);
}

Test(transform, hash_sets_the_column_of_the_seeded_fnv1a_hash)
{
    weir_model_t *m = model_of("[{'name': 'h', 'source': 'h', 'type': 'categorical',"
                               "  'transform': [{'op': 'hash', 'buckets': 16, 'seed': 5}]}]",
                               16);
    double expected[16] = {0};

    /* fnv1a("DE", seed 5) = 0x27d519ab, % 16 = 11; "FR" lands in 0. */
    cr_assert_eq(weir_hash_fnv1a("DE", 2, 5), 0x27d519abu);
    expected[11] = 1;
    expect_row(m, string("DE"), expected);
    expected[11] = 0;
    expected[0] = 1;
    expect_row(m, string("FR"), expected);
    weir_model_destroy(m);
}

Test(transform, fnv1a_matches_the_published_test_vectors)
{
    cr_assert_eq(weir_hash_fnv1a("", 0, 0), 0x811c9dc5u);
    cr_assert_eq(weir_hash_fnv1a("a", 1, 0), 0xe40c292cu);
    cr_assert_eq(weir_hash_fnv1a("foobar", 6, 0), 0xbf9cf968u);
    cr_assert_eq(weir_hash_fnv1a(NULL, 0, 0x1234), 0x811c9dc5u ^ 0x1234, "the seed xors the basis");
}

Test(transform, a_number_for_a_categorical_feature_is_formatted_first)
{
    weir_model_t *m = model_of("[{'name': 'c', 'source': 'c', 'type': 'categorical',"
                               "  'transform': [{'op': 'one_hot', 'categories':"
                               "     ['7', '-3', '0.10000000000000001', '2.5', '1e+20', '0']}]}]",
                               6);
    const double x[] = {7.0, -3, 0.1, 2.5, 1e20, -0.0};
    weir_value_t text = string("7.0");

    for (size_t i = 0; i < 6; i++) {
        double expected[6] = {0};
        expected[i] = 1;
        expect_row(m, number(x[i]), expected);
    }
    expect_error(m, &text, WEIR_ECATEGORY, 0); /* a string is taken as it is */
    weir_model_destroy(m);
}

Test(transform, a_leading_impute_fills_a_missing_category)
{
    weir_model_t *m =
        model_of("[{'name': 'c', 'source': 'c', 'type': 'categorical',"
                 "  'transform': [{'op': 'impute', 'value': 'none'},"
                 "                {'op': 'one_hot', 'categories': ['web', 'none']}]}]",
                 2);

    expect_row(m, missing, (const double[]){0, 1});
    expect_row(m, string("web"), (const double[]){1, 0});
    weir_model_destroy(m);
}

Test(transform, rejects_nan_and_infinite_input)
{
    weir_model_t *m = model_of("[{'name': 'ok', 'source': 'ok', 'type': 'numeric'},"
                               " {'name': 'n', 'source': 'n', 'type': 'numeric'},"
                               " {'name': 'b', 'source': 'b', 'type': 'boolean'},"
                               " {'name': 'c', 'source': 'c', 'type': 'categorical',"
                               "  'transform': [{'op': 'hash', 'buckets': 2}]}]",
                               5);
    const double bad[] = {NAN, INFINITY, -INFINITY};

    for (size_t i = 0; i < 3; i++) {
        weir_value_t numeric[] = {number(1), number(bad[i]), number(0), string("a")};
        weir_value_t boolean[] = {number(1), number(2), number(bad[i]), string("a")};
        weir_value_t categorical[] = {number(1), number(2), number(0), number(bad[i])};
        expect_error(m, numeric, WEIR_ENONFINITE, 1);
        expect_error(m, boolean, WEIR_ENONFINITE, 2);
        expect_error(m, categorical, WEIR_ENONFINITE, 3);
    }
    weir_model_destroy(m);
}

Test(transform, rejects_a_finite_value_a_float_cannot_hold)
{
    weir_model_t *m = model_of("[{'name': 'n', 'source': 'n', 'type': 'numeric'}]", 1);
    weir_value_t huge = number(1e300);

    expect_error(m, &huge, WEIR_ENONFINITE, 0);
    weir_model_destroy(m);
}

Test(transform, a_string_for_a_numeric_or_boolean_feature_is_a_type_error)
{
    weir_model_t *m = model_of("[{'name': 'n', 'source': 'n', 'type': 'numeric'},"
                               " {'name': 'b', 'source': 'b', 'type': 'boolean'}]",
                               2);
    weir_value_t numeric[] = {string("12.5"), number(1)};
    weir_value_t boolean[] = {number(12.5), string("true")};

    expect_error(m, numeric, WEIR_ETYPE, 0);
    expect_error(m, boolean, WEIR_ETYPE, 1);
    weir_model_destroy(m);
}

Test(transform, a_missing_value_under_policy_error_is_rejected)
{
    weir_model_t *m =
        model_of("[{'name': 'n', 'source': 'n', 'type': 'numeric'},"
                 " {'name': 'b', 'source': 'b', 'type': 'boolean'},"
                 " {'name': 'c', 'source': 'c', 'type': 'categorical',"
                 "  'transform': [{'op': 'one_hot', 'categories': ['a'], 'unknown': 'ignore'}]}]",
                 3);
    weir_value_t numeric[] = {missing, number(1), string("a")};
    weir_value_t boolean[] = {number(1), missing, string("a")};
    weir_value_t categorical[] = {number(1), number(1), missing};

    expect_error(m, numeric, WEIR_EMISSING, 0);
    expect_error(m, boolean, WEIR_EMISSING, 1);
    expect_error(m, categorical, WEIR_EMISSING, 2);
    weir_model_destroy(m);
}

static int error_code(const char *name)
{
    int code = 0;

    if (!strcmp(name, "missing"))
        code = WEIR_EMISSING;
    else if (!strcmp(name, "category"))
        code = WEIR_ECATEGORY;
    else if (!strcmp(name, "type"))
        code = WEIR_ETYPE;
    else if (!strcmp(name, "nonfinite"))
        code = WEIR_ENONFINITE;
    cr_assert_neq(code, 0, "unknown golden error %s", name);
    return code;
}

Test(transform, matches_the_float64_reference_on_every_golden_event)
{
    json_t *golden = weir_test_load_json("scoring/golden/transforms.json");
    json_t *cases = json_object_get(golden, "cases");
    size_t events_seen = 0, errors_seen = 0;

    cr_assert_gt(json_array_size(cases), 0);
    for (size_t c = 0; c < json_array_size(cases); c++) {
        json_t *gcase = json_array_get(cases, c);
        const char *name = json_string_value(json_object_get(gcase, "name"));
        json_t *events = json_object_get(gcase, "events");
        weir_model_t *m = scoring_test_model(json_object_get(gcase, "bundle"));
        size_t columns = weir_model_columns(m), features = weir_model_feature_count(m);
        weir_value_t *values = calloc(features, sizeof(*values));
        double *row = calloc(columns, sizeof(*row));

        cr_assert_eq(columns, (size_t)json_integer_value(json_object_get(gcase, "columns")));
        for (size_t e = 0; e < json_array_size(events); e++) {
            json_t *event = json_array_get(events, e);
            json_t *expected = json_object_get(event, "row");
            size_t bad = 99;
            int rc;

            for (size_t i = 0; i < features; i++)
                values[i] = scoring_test_value(json_array_get(json_object_get(event, "values"), i));
            rc = weir_transform_row(m, values, row, &bad);
            if (expected) {
                cr_assert_eq(rc, 0, "%s event %zu: %s (feature %zu)", name, e, weir_strerror(rc),
                             bad);
                cr_assert_eq(json_array_size(expected), columns);
                for (size_t j = 0; j < columns; j++) {
                    double want = json_number_value(json_array_get(expected, j));
                    cr_assert(fabs(row[j] - want) <= ROW_TOLERANCE,
                              "%s event %zu column %zu: %.9g, expected %.17g", name, e, j, row[j],
                              want);
                }
            } else {
                const char *error = json_string_value(json_object_get(event, "error"));
                cr_assert_eq(rc, error_code(error), "%s event %zu: rc %d, expected %s", name, e, rc,
                             error);
                cr_assert_eq(bad, (size_t)json_integer_value(json_object_get(event, "feature")),
                             "%s event %zu", name, e);
                errors_seen++;
            }
            events_seen++;
        }
        free(row);
        free(values);
        weir_model_destroy(m);
    }
    cr_assert_gt(events_seen, 80);
    cr_assert_gt(errors_seen, 15);
    json_decref(golden);
}
