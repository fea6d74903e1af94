/*
 * test_trees.c — tree ensembles in the engine: each library's comparison
 * ("split"), missing-value directions, categorical sets on either side,
 * averaged and boosted outputs with their links, the ordinal encoding and
 * "missing": "nan" that feed them, the binary output that keeps the double's
 * decision, and every kind of broken tree refused with the path at fault.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scoring.h"
#include "support.h"

#define TEXT_MAX (1 << 16)

/* A bundle text from a relaxed one: single quotes become double quotes. */
static char *relaxed(const char *text)
{
    char *out = strdup(text);
    for (char *c = out; *c; c++)
        if (*c == '\'')
            *c = '"';
    return out;
}

static int parse(const char *text, weir_model_t **m, char *err, size_t errsz)
{
    char *json = relaxed(text);
    int rc = weir_model_parse(json, strlen(json), "t.json", m, err, errsz);
    free(json);
    return rc;
}

static weir_model_t *load(const char *text)
{
    char err[512] = "";
    weir_model_t *m = NULL;
    int rc = parse(text, &m, err, sizeof(err));
    cr_assert_eq(rc, 0, "%s", err);
    return m;
}

static void expect_refused(const char *text, const char *message)
{
    char err[512] = "";
    weir_model_t *m = NULL;
    int rc = parse(text, &m, err, sizeof(err));
    cr_assert_eq(rc, WEIR_EMODEL, "accepted; expected: %s", message);
    cr_assert_null(m);
    cr_assert_str_eq(err, message);
}

/* A one-feature regression bundle around a model. */
static char *one_feature(const char *missing, const char *model)
{
    char *text = malloc(TEXT_MAX);
    snprintf(text, TEXT_MAX,
             "{'format': 'weir.model/1', 'name': 't', 'version': '1', 'task': 'regression',"
             " 'features': [{'name': 'x', 'source': 'x', 'type': 'numeric'%s}],"
             " 'model': %s}",
             missing, model);
    return text;
}

/* Scores one value of x (NaN: missing) through transform and predict. */
static float score(const weir_model_t *m, double x)
{
    weir_value_t v = {.kind = isnan(x) ? WEIR_VALUE_MISSING : WEIR_VALUE_NUMBER, .number = x};
    double row[8], workspace[8];
    float out[4] = {0};
    size_t bad;
    cr_assert_eq(weir_transform_row(m, &v, row, &bad), 0);
    cr_assert_eq(weir_model_predict(m, row, 1, workspace, out), 0);
    return out[0];
}

static weir_model_t *stump(const char *split, double threshold, int missing_left)
{
    char model[1024], *text;
    weir_model_t *m;
    snprintf(model, sizeof(model),
             "{'kind': 'trees', 'split': '%s', 'link': 'identity', 'trees': [{"
             "'feature': [0, -1, -1], 'threshold': [%.17g, 0, 0], 'left': [1, -1, -1],"
             " 'right': [2, -1, -1], 'missing_left': [%d, 0, 0], 'value': [0, -1, 1]}]}",
             split, threshold, missing_left);
    text = one_feature(", 'missing': 'nan'", model);
    m = load(text);
    free(text);
    return m;
}

Test(trees, less_equal_compares_the_double_as_lightgbm_does)
{
    weir_model_t *m = stump("less_equal", 0.3, 0);
    cr_assert_eq(score(m, 0.3), -1);
    cr_assert_eq(score(m, nextafter(0.3, 1)), 1);
    cr_assert_eq(score(m, -5), -1);
    weir_model_destroy(m);
}

Test(trees, float32_less_equal_compares_the_float_as_scikit_learn_does)
{
    /* sklearn casts x to float32: 0.3f is 0.30000001192..., above 0.3. */
    weir_model_t *m = stump("float32_less_equal", 0.3, 0);
    cr_assert_eq(score(m, 0.3), 1);
    cr_assert_eq(score(m, (double)nextafterf(0.3f, 0)), -1);
    cr_assert_eq(score(m, 0.29999999), -1);
    weir_model_destroy(m);
}

Test(trees, float32_less_compares_the_float_as_xgboost_does)
{
    double t = (double)0.1f; /* XGBoost's thresholds are floats */
    weir_model_t *m = stump("float32_less", t, 0);
    cr_assert_eq(score(m, t), 1);
    /* Below the float in double, but it rounds to it: not less. */
    cr_assert_eq(score(m, nextafter(t, 0)), 1);
    cr_assert_eq(score(m, (double)nextafterf(0.1f, 0)), -1);
    weir_model_destroy(m);
}

Test(trees, float32_less_takes_the_float_nearest_to_the_written_threshold)
{
    /* XGBoost writes its float thresholds as short decimals: "0.1" stands
     * for 0.1f (0.100000001..., above the double 0.1), "0.7" for 0.7f
     * (0.699999988..., below 0.7). */
    weir_model_t *m = stump("float32_less", 0.1, 0), *down = stump("float32_less", 0.7, 0);
    cr_assert_eq(score(m, (double)nextafterf(0.1f, 0)), -1);
    cr_assert_eq(score(m, 0.1), 1);
    cr_assert_eq(score(m, (double)0.1f), 1);
    /* 0.7f is below 0.7: x = 0.7 is 0.7f as a float, which is not less than it. */
    cr_assert_eq(score(down, 0.7), 1);
    cr_assert_eq(score(down, (double)nextafterf(0.7f, 0)), -1);
    weir_model_destroy(m);
    weir_model_destroy(down);
}

Test(trees, a_missing_value_takes_the_node_s_direction)
{
    weir_model_t *right = stump("less_equal", 0.5, 0), *left = stump("less_equal", 0.5, 1);
    cr_assert_eq(score(right, NAN), 1);
    cr_assert_eq(score(left, NAN), -1);
    weir_model_destroy(right);
    weir_model_destroy(left);
}

Test(trees, a_nan_number_is_missing_under_missing_nan)
{
    weir_model_t *m = stump("less_equal", 0.5, 1);
    weir_value_t v = {.kind = WEIR_VALUE_NUMBER, .number = NAN};
    double row[1];
    size_t bad;
    cr_assert_eq(weir_transform_row(m, &v, row, &bad), 0);
    cr_assert(isnan(row[0]));
    weir_model_destroy(m);
}

static const char *const ordinal_bundle =
    "{'format': 'weir.model/1', 'name': 't', 'version': '1', 'task': 'regression',"
    " 'features': [{'name': 'c', 'source': 'c', 'type': 'categorical', 'missing': 'nan',"
    "   'transform': [{'op': 'ordinal', 'categories': ['a', 'b', 'c', '7.0'],"
    "                  'unknown': 'missing'}]}],"
    " 'model': {'kind': 'trees', 'split': 'float32_less', 'category_side': '%s',"
    "   'link': 'identity', 'trees': [{'feature': [0, -1, -1], 'threshold': [0, 0, 0],"
    "   'left': [1, -1, -1], 'right': [2, -1, -1], 'missing_left': [1, 0, 0],"
    "   'value': [0, 10, 20], 'category_nodes': [0], 'category_sets': [[1, 3]]}]}}";

static float category_score(const weir_model_t *m, weir_value_t v)
{
    double row[1], workspace[1];
    float out[1];
    size_t bad;
    cr_assert_eq(weir_transform_row(m, &v, row, &bad), 0);
    cr_assert_eq(weir_model_predict(m, row, 1, workspace, out), 0);
    return out[0];
}

static weir_value_t text(const char *s)
{
    return (weir_value_t){.kind = WEIR_VALUE_STRING, .string = s, .length = strlen(s)};
}

Test(trees, categorical_splits_send_the_set_to_its_side)
{
    char buf[2048];
    weir_model_t *lgb, *xgb;

    snprintf(buf, sizeof(buf), ordinal_bundle, "left");
    lgb = load(buf);
    snprintf(buf, sizeof(buf), ordinal_bundle, "right");
    xgb = load(buf);
    /* codes: a 0, b 1, c 2, 7 3; the set {1, 3} */
    cr_assert_eq(category_score(lgb, text("b")), 10);
    cr_assert_eq(category_score(lgb, text("a")), 20);
    cr_assert_eq(category_score(xgb, text("b")), 20);
    cr_assert_eq(category_score(xgb, text("c")), 10);
    /* "7.0" is listed; an event's number 7 is "7" and matches it */
    cr_assert_eq(category_score(lgb, (weir_value_t){.kind = WEIR_VALUE_NUMBER, .number = 7}), 10);
    /* unknown and missing categories are NaN: the node's missing direction */
    cr_assert_eq(category_score(lgb, text("zzz")), 10);
    cr_assert_eq(category_score(xgb, (weir_value_t){.kind = WEIR_VALUE_MISSING}), 10);
    weir_model_destroy(lgb);
    weir_model_destroy(xgb);
}

Test(trees, ordinal_writes_codes_and_its_unknown_policy)
{
    weir_model_t *m =
        load("{'format': 'weir.model/1', 'name': 't', 'version': '1', 'task': 'regression',"
             " 'features': [{'name': 'a', 'source': 'a', 'type': 'categorical',"
             "   'transform': [{'op': 'ordinal', 'categories': ['x', 'y'], 'unknown': 'value', "
             "'value': -1}]},"
             "  {'name': 'b', 'source': 'b', 'type': 'categorical',"
             "   'transform': [{'op': 'ordinal', 'categories': ['x', 'y']}]}],"
             " 'model': {'kind': 'linear', 'weights': [1, 1], 'bias': 0}}");
    weir_value_t values[2] = {text("y"), text("x")};
    double row[2];
    size_t bad = 9;
    cr_assert_eq(weir_transform_row(m, values, row, &bad), 0);
    cr_assert(row[0] == 1 && row[1] == 0);
    values[0] = text("q");
    cr_assert_eq(weir_transform_row(m, values, row, &bad), 0);
    cr_assert_eq(row[0], -1);
    values[1] = text("q");
    cr_assert_eq(weir_transform_row(m, values, row, &bad), WEIR_ECATEGORY);
    cr_assert_eq(bad, 1);
    weir_model_destroy(m);
}

Test(trees, forests_average_vector_leaves_and_boosting_adds_a_base_and_a_link)
{
    weir_model_t *forest =
        load("{'format': 'weir.model/1', 'name': 't', 'version': '1', 'task': 'multiclass',"
             " 'classes': ['a', 'b', 'c'],"
             " 'features': [{'name': 'x', 'source': 'x', 'type': 'numeric'}],"
             " 'model': {'kind': 'trees', 'average': true, 'link': 'identity', 'leaf_width': 3,"
             "  'trees': [{'feature': [0, -1, -1], 'threshold': [0, 0, 0], 'left': [1, -1, -1],"
             "             'right': [2, -1, -1], 'value': [0, [1, 0, 0], [0, 0.5, 0.5]]},"
             "            {'feature': [-1], 'threshold': [0], 'left': [-1], 'right': [-1],"
             "             'value': [[0, 0, 1]]}]}}");
    weir_model_t *boosted =
        load("{'format': 'weir.model/1', 'name': 't', 'version': '1', 'task': 'binary',"
             " 'features': [{'name': 'x', 'source': 'x', 'type': 'numeric'}],"
             " 'model': {'kind': 'trees', 'link': 'sigmoid', 'base': [-1],"
             "  'trees': [{'feature': [0, -1, -1], 'threshold': [0, 0, 0], 'left': [1, -1, -1],"
             "             'right': [2, -1, -1], 'value': [0, -2, 3]},"
             "            {'feature': [-1], 'threshold': [0], 'left': [-1], 'right': [-1],"
             "             'value': [0.5]}]}}");
    weir_value_t v = {.kind = WEIR_VALUE_NUMBER, .number = 1};
    double row[1], workspace[8];
    float out[3];
    size_t bad;

    cr_assert_eq(weir_transform_row(forest, &v, row, &bad), 0);
    cr_assert_eq(weir_model_predict(forest, row, 1, workspace, out), 0);
    cr_assert(out[0] == 0 && out[1] == 0.25f && out[2] == 0.75f);
    cr_assert_eq(weir_model_predict(boosted, row, 1, workspace, out), 0);
    cr_assert(fabsf(out[0] - (float)(1 / (1 + exp(-2.5)))) < 1e-7f);
    weir_model_destroy(forest);
    weir_model_destroy(boosted);
}

Test(trees, a_binary_output_keeps_the_decision_of_the_double)
{
    /* P = sigmoid(1e-12) is above 0.5 in double but rounds to 0.5f: the
     * library says class 1 (P > 0.5), and so must weir at the threshold
     * the exporter writes, the double just above 0.5. */
    weir_model_t *m = load("{'format': 'weir.model/1', 'name': 't', 'version': '1',"
                           " 'task': 'binary', 'threshold': 0.5000000000000001,"
                           " 'features': [{'name': 'x', 'source': 'x', 'type': 'numeric'}],"
                           " 'model': {'kind': 'logistic', 'weights': [1], 'bias': 0}}");
    int class_index;
    float p = score(m, 1e-12);
    weir_model_decide(m, &p, NULL, &class_index);
    cr_assert_eq(class_index, 1);
    cr_assert(p - 0.5f < 1e-7f);
    p = score(m, 0);
    weir_model_decide(m, &p, NULL, &class_index);
    cr_assert_eq(class_index, 0, "P = 0.5 exactly is class 0, as in every library");
    weir_model_destroy(m);
}

/* ---- broken trees ---- */

static char *tree_bundle(const char *tree)
{
    char model[TEXT_MAX / 2];
    snprintf(model, sizeof(model), "{'kind': 'trees', 'link': 'identity', 'trees': [%s]}", tree);
    return one_feature("", model);
}

static void expect_tree_refused(const char *tree, const char *message)
{
    char *text = tree_bundle(tree);
    expect_refused(text, message);
    free(text);
}

Test(trees, refuses_a_tree_that_references_a_missing_node)
{
    expect_tree_refused("{'feature': [0, -1, -1], 'threshold': [0, 0, 0], 'left': [1, -1, -1],"
                        " 'right': [3, -1, -1], 'value': [0, 1, 2]}",
                        "t.json: model.trees[0].right[0]: 3 is not a node");
}

Test(trees, refuses_a_cycle_and_a_shared_subtree)
{
    expect_tree_refused("{'feature': [0, 0, -1], 'threshold': [0, 0, 0], 'left': [1, 0, -1],"
                        " 'right': [2, 2, -1], 'value': [0, 0, 2]}",
                        "t.json: model.trees[0][1]: its left child, node 0, is reached twice: "
                        "a cycle or a shared subtree");
    expect_tree_refused("{'feature': [0, 0, -1, -1], 'threshold': [0, 0, 0, 0],"
                        " 'left': [1, 2, -1, -1], 'right': [2, 3, -1, -1], 'value': [0, 0, 1, 2]}",
                        "t.json: model.trees[0][1]: its left child, node 2, is reached twice: "
                        "a cycle or a shared subtree");
}

Test(trees, refuses_an_unreachable_node_and_a_half_leaf)
{
    expect_tree_refused(
        "{'feature': [0, -1, -1, -1], 'threshold': [0, 0, 0, 0],"
        " 'left': [1, -1, -1, -1], 'right': [2, -1, -1, -1], 'value': [0, 1, 2, 3]}",
        "t.json: model.trees[0][3]: not reachable from the root (node 0)");
    expect_tree_refused("{'feature': [0, -1, -1], 'threshold': [0, 0, 0], 'left': [1, -1, -1],"
                        " 'right': [-1, -1, -1], 'value': [0, 1, 2]}",
                        "t.json: model.trees[0][0]: a node is a leaf (feature, left and right "
                        "all -1) or a split (none -1)");
}

Test(trees, refuses_a_column_the_features_do_not_have)
{
    expect_tree_refused("{'feature': [1, -1, -1], 'threshold': [0, 0, 0], 'left': [1, -1, -1],"
                        " 'right': [2, -1, -1], 'value': [0, 1, 2]}",
                        "t.json: model.trees[0].feature[0]: 1 is not a column of the features");
}

Test(trees, refuses_a_tree_deeper_than_the_cap)
{
    size_t depth = WEIR_BUNDLE_MAX_TREE_DEPTH + 1, n = 2 * depth + 1;
    size_t size = n * 64 + 1024, used = 0;
    char *tree = malloc(size);
    const char *keys[] = {"feature", "threshold", "left", "right", "value"};

    used += (size_t)snprintf(tree + used, size - used, "{");
    for (int k = 0; k < 5; k++) {
        used += (size_t)snprintf(tree + used, size - used, "%s'%s': [", k ? ", " : "", keys[k]);
        for (size_t i = 0; i < n; i++) {
            /* node 2d splits into 2d+2 (left, the chain) and 2d+1 (a leaf) */
            int split = i % 2 == 0 && i + 1 < n;
            long v = k == 0   ? (split ? 0 : -1)
                     : k == 2 ? (split ? (long)i + 2 : -1)
                     : k == 3 ? (split ? (long)i + 1 : -1)
                              : 0;
            used += (size_t)snprintf(tree + used, size - used, "%s%ld", i ? ", " : "", v);
        }
        used += (size_t)snprintf(tree + used, size - used, "]");
    }
    snprintf(tree + used, size - used, "}");
    expect_tree_refused(tree, "t.json: model.trees[0]: deeper than 128 levels");
    free(tree);
}

Test(trees, refuses_more_trees_than_the_cap_before_parsing_them)
{
    size_t count = WEIR_BUNDLE_MAX_TREES + 1, size = count * 80 + 1024, used = 0;
    char *model = malloc(size), *text;
    const char *one = "{\"feature\": [-1], \"threshold\": [0], \"left\": [-1], "
                      "\"right\": [-1], \"value\": [1]}";

    used +=
        (size_t)snprintf(model, size, "{\"kind\": \"trees\", \"link\": \"identity\", \"trees\": [");
    for (size_t i = 0; i < count; i++)
        used += (size_t)snprintf(model + used, size - used, "%s%s", i ? ", " : "", one);
    snprintf(model + used, size - used, "]}");
    text = malloc(size + 512);
    snprintf(text, size + 512,
             "{\"format\": \"weir.model/1\", \"name\": \"t\", \"version\": \"1\", \"task\": "
             "\"regression\", \"features\": [{\"name\": \"x\", \"source\": \"x\", \"type\": "
             "\"numeric\"}], \"model\": %s}",
             model);
    expect_refused(text, "t.json: model.trees: expected 1 to 32768 trees, got 32769");
    free(model);
    free(text);
}

Test(trees, refuses_links_the_task_does_not_have)
{
    char *text = one_feature("", "{'kind': 'trees', 'link': 'sigmoid', 'trees': [{'feature': "
                                 "[-1], 'threshold': [0], 'left': [-1], 'right': [-1], "
                                 "'value': [1]}]}");
    expect_refused(text, "t.json: model: a regression model's trees need scalar leaves and link "
                         "identity, got leaf_width 1 and link \"sigmoid\"");
    free(text);
}

Test(trees, refuses_a_category_code_past_the_cap)
{
    expect_tree_refused("{'feature': [0, -1, -1], 'threshold': [0, 0, 0], 'left': [1, -1, -1],"
                        " 'right': [2, -1, -1], 'value': [0, 1, 2], 'category_nodes': [0],"
                        " 'category_sets': [[1, 70000]]}",
                        "t.json: model.trees[0].category_sets[0][1]: expected a category code "
                        "from 0 to 65535");
}

Test(trees, only_a_tree_model_takes_a_feature_that_writes_nan)
{
    char *text = one_feature(", 'missing': 'nan'", "{'kind': 'linear', 'weights': [1], 'bias': 0}");
    expect_refused(text, "t.json: features[0].missing: \"nan\" writes NaN, which only a model of "
                         "kind \"trees\" takes");
    free(text);
}

Test(trees, warns_when_the_reference_s_categories_are_not_listed)
{
    weir_model_t *m = load(
        "{'format': 'weir.model/1', 'name': 't', 'version': '1', 'task': 'regression',"
        " 'features': [{'name': 'c', 'source': 'c', 'type': 'categorical', 'missing': 'unknown',"
        "   'transform': [{'op': 'one_hot', 'categories': ['a', 'b'], 'unknown': 'ignore'}]}],"
        " 'model': {'kind': 'linear', 'weights': [1, 2], 'bias': 0},"
        " 'reference': {'features': {'c': {'n': 10, 'categories': {'a': 0.6, '1.0': 0.4}}}}}");
    cr_assert_eq(weir_model_warning_count(m), 1);
    cr_assert_not_null(strstr(weir_model_warning(m, 0), "features[0] (c): 40.0% of the reference"),
                       "%s", weir_model_warning(m, 0));
    weir_model_destroy(m);
}
