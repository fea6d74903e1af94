/*
 * test_bundle.c — loading weir.model/1 bundles: a good bundle exposes exactly
 * what its JSON says, defaults fill what it leaves out, and each class of
 * mistake is refused with a message naming the offending path. Most tests
 * start from one good bundle and break a single value in it.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scoring.h"
#include "support.h"

/*
 * Columns: amount 1, country 30 (hash), is_foreign 1, hour 1, merchant 4
 * (one-hot with an extra column) = 37, which the logistic weights must match.
 */
static const char *good_text =
    "{'format': 'weir.model/1', 'name': 'fraud-lr', 'version': '1.2.0',"
    " 'created': '2026-11-26T00:00:00Z',"
    " 'training': {'from': '2026-01-01', 'to': '2026-10-31', 'rows': 120000},"
    " 'description': 'card fraud', 'task': 'binary', 'threshold': 0.3,"
    " 'classes': ['legit', 'fraud'],"
    " 'features': ["
    "  {'name': 'amount', 'source': 'amount', 'type': 'numeric', 'missing': 'impute',"
    "   'transform': [{'op': 'impute', 'value': 0}, {'op': 'log1p'},"
    "                 {'op': 'standardize', 'mean': 3, 'std': 2}]},"
    "  {'name': 'country', 'source': 'card.country', 'type': 'categorical', 'missing': 'unknown',"
    "   'transform': [{'op': 'hash', 'buckets': 30, 'seed': 7}]},"
    "  {'name': 'is_foreign', 'source': 'card.foreign', 'type': 'boolean', 'transform': []},"
    "  {'name': 'hour', 'source': 'hour', 'type': 'numeric',"
    "   'transform': [{'op': 'clip', 'min': 0, 'max': 23}, {'op': 'standardize', 'mean': 12,"
    "                 'std': 6.9}]},"
    "  {'name': 'merchant', 'source': 'merchant.category', 'type': 'categorical',"
    "   'transform': [{'op': 'one_hot', 'categories': ['grocery', 'travel', 'online'],"
    "                  'unknown': 'extra'}]}],"
    " 'model': {'kind': 'logistic', 'weights': [], 'bias': -1.5},"
    " 'reference': {"
    "  'features': {"
    "   'amount': {'n': 50000, 'missing_rate': 0.01, 'sample': [5, 1, 3, 2],"
    "              'bins': {'edges': [1, 10], 'proportions': [0.2, 0.5, 0.3]},"
    "              'mean': 42.5, 'std': 17.25},"
    "   'merchant': {'n': 50000, 'missing_rate': 0,"
    "                'categories': {'travel': 0.2, 'grocery': 0.5, 'online': 0.3}}},"
    "  'score': {'n': 50000, 'sample': [0.9, 0.1], 'bins': {'edges': [0.5],"
    "            'proportions': [0.75, 0.25]}},"
    "  'performance': {'auc': 0.91, 'precision': 0.5, 'n': 10000}}}";

/* Parses JSON written with single quotes, which reads better in C strings. */
static json_t *relaxed(const char *text)
{
    char *strict = strdup(text);
    json_error_t error;
    json_t *root;

    for (char *c = strict; *c; c++)
        if (*c == '\'')
            *c = '"';
    root = json_loads(strict, 0, &error);
    cr_assert_not_null(root, "test JSON: line %d: %s", error.line, error.text);
    free(strict);
    return root;
}

static json_t *numbers(size_t count, double first, double step)
{
    json_t *array = json_array();

    for (size_t i = 0; i < count; i++)
        json_array_append_new(array, json_real(first + step * (double)i));
    return array;
}

static json_t *good_bundle(void)
{
    json_t *root = relaxed(good_text);

    json_object_set_new(json_object_get(root, "model"), "weights", numbers(37, -0.5, 0.03));
    return root;
}

/* The node at a path like "features[3].transform[1]"; "" is the root. */
static json_t *find(json_t *node, const char *path)
{
    char key[128];

    while (node && *path) {
        if (*path == '.')
            path++;
        if (*path == '[') {
            char *end;
            size_t i = strtoul(path + 1, &end, 10);
            node = json_array_get(node, i);
            path = end + 1;
        } else {
            size_t n = strcspn(path, ".[");
            cr_assert_lt(n, sizeof(key));
            memcpy(key, path, n);
            key[n] = '\0';
            node = json_object_get(node, key);
            path += n;
        }
    }
    cr_assert_not_null(node, "test path %s", path);
    return node;
}

/* Sets (or with a NULL value, removes) the value at @p path; returns @p root. */
static json_t *with(json_t *root, const char *path, json_t *value)
{
    const char *dot = strrchr(path, '.'), *bracket = strrchr(path, '[');
    const char *last = dot > bracket ? dot : bracket;
    char parent_path[256];
    json_t *parent;

    snprintf(parent_path, sizeof(parent_path), "%.*s", last ? (int)(last - path) : 0, path);
    parent = find(root, parent_path);
    if (last && *last == '[') {
        size_t i = strtoul(last + 1, NULL, 10);
        if (value)
            json_array_set_new(parent, i, value);
        else
            json_array_remove(parent, i);
    } else {
        const char *key = last ? last + 1 : path;
        if (value)
            json_object_set_new(parent, key, value);
        else
            json_object_del(parent, key);
    }
    return root;
}

static json_t *without(json_t *root, const char *path)
{
    return with(root, path, NULL);
}

static int parse(json_t *bundle, weir_model_t **m, char *err, size_t errsz)
{
    char *text = json_dumps(bundle, JSON_COMPACT);
    int rc = weir_model_parse(text, strlen(text), "model.json", m, err, errsz);

    free(text);
    json_decref(bundle);
    return rc;
}

/* The bundle is refused as invalid with exactly "model.json: <message>". */
static void expect_refused(json_t *bundle, const char *message)
{
    char err[512] = "", expected[512];
    weir_model_t *m = (weir_model_t *)1;
    int rc = parse(bundle, &m, err, sizeof(err));

    snprintf(expected, sizeof(expected), "model.json: %s", message);
    cr_expect_eq(rc, WEIR_EMODEL, "rc %d for: %s", rc, message);
    cr_expect_null(m, "no model on failure");
    cr_expect_str_eq(err, expected);
}

static weir_model_t *load(json_t *bundle)
{
    char err[512] = "";
    weir_model_t *m = NULL;
    int rc = parse(bundle, &m, err, sizeof(err));

    cr_assert_eq(rc, 0, "refused: %s", err);
    return m;
}

Test(bundle, loads_a_good_bundle_and_every_accessor_returns_what_the_json_said)
{
    weir_model_t *m = load(good_bundle());
    const weir_feature_info_t *f;
    const weir_reference_t *r;
    const weir_performance_t *p;
    static const struct {
        const char *name, *source;
        weir_feature_type_t type;
        weir_missing_policy_t missing;
        size_t column, width;
    } features[] = {
        {"amount", "amount", WEIR_FEATURE_NUMERIC, WEIR_MISSING_IMPUTE, 0, 1},
        {"country", "card.country", WEIR_FEATURE_CATEGORICAL, WEIR_MISSING_UNKNOWN, 1, 30},
        {"is_foreign", "card.foreign", WEIR_FEATURE_BOOLEAN, WEIR_MISSING_ERROR, 31, 1},
        {"hour", "hour", WEIR_FEATURE_NUMERIC, WEIR_MISSING_ERROR, 32, 1},
        {"merchant", "merchant.category", WEIR_FEATURE_CATEGORICAL, WEIR_MISSING_ERROR, 33, 4},
    };

    cr_assert_str_eq(weir_model_name(m), "fraud-lr");
    cr_assert_str_eq(weir_model_version(m), "1.2.0");
    cr_assert_str_eq(weir_model_created(m), "2026-11-26T00:00:00Z");
    cr_assert_eq(weir_model_task(m), WEIR_TASK_BINARY);
    cr_assert_eq(weir_model_kind(m), WEIR_MODEL_LOGISTIC);
    cr_assert_eq(weir_model_threshold(m), 0.3);
    cr_assert_eq(weir_model_class_count(m), 2);
    cr_assert_str_eq(weir_model_class(m, 0), "legit");
    cr_assert_str_eq(weir_model_class(m, 1), "fraud");
    cr_assert_null(weir_model_class(m, 2));
    cr_assert_eq(weir_model_columns(m), 37);
    cr_assert_eq(weir_model_outputs(m), 1);

    cr_assert_eq(weir_model_feature_count(m), 5);
    for (size_t i = 0; i < 5; i++) {
        f = weir_model_feature(m, i);
        cr_assert_str_eq(f->name, features[i].name);
        cr_assert_str_eq(f->source, features[i].source);
        cr_assert_eq(f->type, features[i].type, "feature %zu", i);
        cr_assert_eq(f->missing, features[i].missing, "feature %zu", i);
        cr_assert_eq(f->column, features[i].column, "feature %zu", i);
        cr_assert_eq(f->width, features[i].width, "feature %zu", i);
    }
    cr_assert_null(weir_model_feature(m, 5));

    r = weir_model_reference(m, 0);
    cr_assert_not_null(r);
    cr_assert_str_eq(r->name, "amount");
    cr_assert_eq(r->type, WEIR_FEATURE_NUMERIC);
    cr_assert_eq(r->n, 50000);
    cr_assert_eq(r->missing_rate, 0.01);
    cr_assert_eq(r->sample_len, 4);
    cr_assert(r->sample[0] == 1 && r->sample[1] == 2 && r->sample[2] == 3 && r->sample[3] == 5,
              "the sample is sorted ascending");
    cr_assert_eq(r->bin_count, 3);
    cr_assert(r->edges[0] == 1 && r->edges[1] == 10);
    cr_assert(r->bin_proportions[0] == 0.2 && r->bin_proportions[1] == 0.5 &&
              r->bin_proportions[2] == 0.3);
    cr_assert_eq(r->mean, 42.5);
    cr_assert_eq(r->std, 17.25);
    cr_assert_eq(r->category_count, 0);

    cr_assert_null(weir_model_reference(m, 1), "country has no reference");
    cr_assert_null(weir_model_reference(m, 5));
    r = weir_model_reference(m, 4);
    cr_assert_not_null(r);
    cr_assert_eq(r->type, WEIR_FEATURE_CATEGORICAL);
    cr_assert_eq(r->category_count, 3);
    cr_assert_str_eq(r->categories[0], "travel", "the JSON order is kept");
    cr_assert_str_eq(r->categories[1], "grocery");
    cr_assert_str_eq(r->categories[2], "online");
    cr_assert(r->category_proportions[0] == 0.2 && r->category_proportions[1] == 0.5 &&
              r->category_proportions[2] == 0.3);
    cr_assert_eq(r->sample_len, 0);
    cr_assert_eq(r->bin_count, 0);
    cr_assert(isnan(r->mean) && isnan(r->std), "absent mean and std are NaN");

    r = weir_model_score_reference(m);
    cr_assert_not_null(r);
    cr_assert_str_eq(r->name, "score");
    cr_assert_eq(r->sample_len, 2);
    cr_assert(r->sample[0] == 0.1 && r->sample[1] == 0.9);
    cr_assert_eq(r->bin_count, 2);
    cr_assert(isnan(r->missing_rate), "an absent missing_rate is NaN");

    p = weir_model_performance(m);
    cr_assert_eq(p->auc, 0.91);
    cr_assert_eq(p->precision, 0.5);
    cr_assert_eq(p->n, 10000);
    cr_assert(isnan(p->recall) && isnan(p->f1) && isnan(p->accuracy) && isnan(p->positive_rate) &&
              isnan(p->log_loss) && isnan(p->mae) && isnan(p->rmse) && isnan(p->r2));
    weir_model_destroy(m);
}

Test(bundle, fills_the_defaults_of_optional_keys)
{
    json_t *b = good_bundle();
    weir_model_t *m;
    const weir_performance_t *p;

    without(b, "created");
    without(b, "training");
    without(b, "description");
    without(b, "threshold");
    without(b, "classes");
    without(b, "reference");
    without(b, "features[3].transform");
    m = load(b);

    cr_assert_str_eq(weir_model_created(m), "");
    cr_assert_eq(weir_model_threshold(m), 0.5);
    cr_assert_eq(weir_model_class_count(m), 2);
    cr_assert_str_eq(weir_model_class(m, 0), "0");
    cr_assert_str_eq(weir_model_class(m, 1), "1");
    cr_assert_eq(weir_model_feature(m, 3)->missing, WEIR_MISSING_ERROR);
    cr_assert_eq(weir_model_feature(m, 3)->width, 1, "no transform is one column as is");
    cr_assert_null(weir_model_score_reference(m));
    for (size_t i = 0; i < weir_model_feature_count(m); i++)
        cr_assert_null(weir_model_reference(m, i));
    p = weir_model_performance(m);
    cr_assert_not_null(p, "never NULL");
    cr_assert(isnan(p->auc) && isnan(p->precision) && isnan(p->recall) && isnan(p->f1) &&
              isnan(p->accuracy) && isnan(p->positive_rate) && isnan(p->log_loss) &&
              isnan(p->mae) && isnan(p->rmse) && isnan(p->r2));
    cr_assert_eq(p->n, 0);
    weir_model_destroy(m);
}

Test(bundle, loads_a_bundle_file)
{
    json_t *b = good_bundle();
    char *text = json_dumps(b, JSON_INDENT(2));
    char *path = weir_test_write_temp(".json", text, strlen(text));
    char err[512] = "";
    weir_model_t *m = NULL;

    cr_assert_eq(weir_model_load(path, &m, err, sizeof(err)), 0, "%s", err);
    cr_assert_str_eq(weir_model_name(m), "fraud-lr");
    cr_assert_eq(weir_model_columns(m), 37);
    weir_model_destroy(m);

    /* Messages about a file's contents name the file. */
    with(b, "features[3].transform[1].std", json_integer(0));
    free(text);
    text = json_dumps(b, JSON_INDENT(2));
    unlink(path);
    free(path);
    path = weir_test_write_temp(".json", text, strlen(text));
    cr_assert_eq(weir_model_load(path, &m, err, sizeof(err)), WEIR_EMODEL);
    cr_assert_null(m);
    cr_assert(strstr(err, path) == err, "%s", err);
    cr_assert(strstr(err, ": features[3].transform[1].std: must be > 0"), "%s", err);

    unlink(path);
    free(path);
    free(text);
    json_decref(b);
}

Test(bundle, reports_an_unreadable_file_as_an_io_error_naming_it)
{
    char err[512] = "";
    weir_model_t *m = (weir_model_t *)1;

    cr_assert_eq(weir_model_load("/nonexistent/model.json", &m, err, sizeof(err)), WEIR_EIO);
    cr_assert_null(m);
    cr_assert_str_eq(err, "/nonexistent/model.json: cannot open: No such file or directory");
}

Test(bundle, reports_bad_json_with_its_line_and_column)
{
    const char *text = "{\n  \"format\": \"weir.model/1\",\n  \"name\": \"x\",\n ]\n}\n";
    char err[512] = "";
    weir_model_t *m = NULL;

    cr_assert_eq(weir_model_parse(text, strlen(text), "model.json", &m, err, sizeof(err)),
                 WEIR_EMODEL);
    cr_assert_str_eq(err, "model.json: line 4 column 2: string or '}' expected near ']'");
    cr_assert_eq(weir_model_parse("", 0, NULL, &m, err, sizeof(err)), WEIR_EMODEL);
    cr_assert(strstr(err, "<memory>: line 1 column 0: ") == err, "%s", err);
}

Test(bundle, refuses_a_key_given_twice)
{
    const char *text = "{\"format\": \"weir.model/1\",\n\"format\": \"weir.model/1\"}";
    char err[512] = "";
    weir_model_t *m = NULL;

    cr_assert_eq(weir_model_parse(text, strlen(text), "model.json", &m, err, sizeof(err)),
                 WEIR_EMODEL);
    cr_assert_str_eq(err, "model.json: line 2 column 8: duplicate object key near '\"format\"'");
}

Test(bundle, refuses_a_top_level_that_is_not_an_object_or_another_format)
{
    expect_refused(relaxed("[1, 2]"), "expected a JSON object with \"format\": \"weir.model/1\"");
    expect_refused(with(good_bundle(), "format", json_string("weir.model/2")),
                   "format: expected \"weir.model/1\", got \"weir.model/2\"");
    expect_refused(without(good_bundle(), "format"), "format: required");
}

Test(bundle, names_a_missing_required_key)
{
    expect_refused(without(good_bundle(), "name"), "name: required");
    expect_refused(without(good_bundle(), "version"), "version: required");
    expect_refused(without(good_bundle(), "task"), "task: required");
    expect_refused(without(good_bundle(), "features"), "features: required");
    expect_refused(without(good_bundle(), "model"), "model: required");
    expect_refused(without(good_bundle(), "features[2].type"), "features[2].type: required");
    expect_refused(without(good_bundle(), "features[2].source"), "features[2].source: required");
    expect_refused(without(good_bundle(), "features[3].transform[1].mean"),
                   "features[3].transform[1].mean: required");
    expect_refused(without(good_bundle(), "model.bias"), "model.bias: required");
}

Test(bundle, names_a_value_of_the_wrong_type)
{
    expect_refused(with(good_bundle(), "version", json_integer(1)), "version: expected a string");
    expect_refused(with(good_bundle(), "created", json_null()), "created: expected a string");
    expect_refused(with(good_bundle(), "training.rows", json_real(1.5)),
                   "training.rows: expected an integer");
    expect_refused(with(good_bundle(), "features", json_object()), "features: expected an array");
    expect_refused(with(good_bundle(), "features[1]", json_string("country")),
                   "features[1]: expected an object");
    expect_refused(with(good_bundle(), "features[0].transform[2].mean", json_string("3")),
                   "features[0].transform[2].mean: expected a number");
    expect_refused(with(good_bundle(), "features[0].transform", json_object()),
                   "features[0].transform: expected an array");
    expect_refused(with(good_bundle(), "model.weights[5]", json_string("0.1")),
                   "model.weights[5]: expected a number");
}

Test(bundle, refuses_a_model_name_outside_the_allowed_characters_or_length)
{
    char name[130];

    expect_refused(with(good_bundle(), "name", json_string("fraud lr")),
                   "name: must be 1 to 128 characters of A-Z a-z 0-9 . _ -");
    expect_refused(with(good_bundle(), "name", json_string("")),
                   "name: must be 1 to 128 characters of A-Z a-z 0-9 . _ -");
    memset(name, 'a', 129);
    name[129] = '\0';
    expect_refused(with(good_bundle(), "name", json_string(name)),
                   "name: must be 1 to 128 characters of A-Z a-z 0-9 . _ -");
    name[128] = '\0';
    weir_model_destroy(load(with(good_bundle(), "name", json_string(name))));
    expect_refused(with(good_bundle(), "version", json_string("")),
                   "version: must be 1 to 128 bytes, without control characters");
}

Test(bundle, refuses_unknown_keys_at_every_level)
{
    expect_refused(with(good_bundle(), "colour", json_string("red")), "colour: unknown key");
    expect_refused(with(good_bundle(), "training.until", json_string("x")),
                   "training.until: unknown key");
    expect_refused(with(good_bundle(), "features[2].sorce", json_string("x")),
                   "features[2].sorce: unknown key");
    expect_refused(with(good_bundle(), "features[0].transform[2].stdev", json_integer(2)),
                   "features[0].transform[2].stdev: unknown key");
    expect_refused(with(good_bundle(), "features[0].transform[1].base", json_integer(2)),
                   "features[0].transform[1].base: unknown key");
    expect_refused(with(good_bundle(), "model.layers", json_array()), "model.layers: unknown key");
    expect_refused(with(good_bundle(), "reference.drift", json_object()),
                   "reference.drift: unknown key");
    expect_refused(with(good_bundle(), "reference.features.amount.median", json_integer(3)),
                   "reference.features.amount.median: unknown key");
    expect_refused(with(good_bundle(), "reference.features.amount.bins.counts", json_array()),
                   "reference.features.amount.bins.counts: unknown key");
    expect_refused(with(good_bundle(), "reference.performance.mse", json_real(0.1)),
                   "reference.performance.mse: unknown key");
}

Test(bundle, refuses_a_value_outside_a_fixed_set_of_choices)
{
    expect_refused(with(good_bundle(), "task", json_string("ranking")),
                   "task: expected \"binary\", \"multiclass\" or \"regression\", got \"ranking\"");
    expect_refused(with(good_bundle(), "features[3].type", json_string("float")),
                   "features[3].type: expected \"numeric\", \"categorical\" or \"boolean\", got "
                   "\"float\"");
    expect_refused(
        with(good_bundle(), "features[3].missing", json_string("skip")),
        "features[3].missing: expected \"error\", \"impute\", \"unknown\" or \"nan\", got "
        "\"skip\"");
    expect_refused(
        with(good_bundle(), "features[0].transform[1].op", json_string("log")),
        "features[0].transform[1].op: expected \"impute\", \"clip\", \"log1p\", "
        "\"standardize\", \"min_max\", \"bucketize\", \"one_hot\", \"hash\" or \"ordinal\", got "
        "\"log\"");
    expect_refused(with(good_bundle(), "features[4].transform[0].unknown", json_integer(1)),
                   "features[4].transform[0].unknown: expected \"error\", \"ignore\" or "
                   "\"extra\"");
    expect_refused(
        with(good_bundle(), "model.kind", json_string("forest")),
        "model.kind: expected \"linear\", \"logistic\", \"softmax\", \"mlp\" or \"trees\", got "
        "\"forest\"");
}

Test(bundle, refuses_a_threshold_outside_zero_to_one_or_for_another_task)
{
    expect_refused(with(good_bundle(), "threshold", json_integer(1)),
                   "threshold: must be > 0 and < 1");
    expect_refused(with(good_bundle(), "threshold", json_integer(0)),
                   "threshold: must be > 0 and < 1");
    expect_refused(with(good_bundle(), "task", json_string("regression")),
                   "threshold: only for task \"binary\"");
}

Test(bundle, checks_the_class_labels_against_the_task)
{
    json_t *b;

    expect_refused(with(good_bundle(), "classes", relaxed("['a', 'b', 'c']")),
                   "classes: expected 2 class labels (negative first), got 3");
    expect_refused(with(good_bundle(), "classes", relaxed("['a', 'a']")),
                   "classes[1]: duplicate \"a\"");
    expect_refused(with(good_bundle(), "classes", relaxed("['a', 1]")),
                   "classes[1]: expected a string");

    b = without(good_bundle(), "threshold");
    with(b, "task", json_string("multiclass"));
    expect_refused(without(b, "classes"), "classes: required");
    b = without(good_bundle(), "threshold");
    with(b, "task", json_string("multiclass"));
    expect_refused(with(b, "classes", relaxed("['only']")),
                   "classes: expected 2 to 65536 class labels, got 1");

    b = without(good_bundle(), "threshold");
    expect_refused(with(b, "task", json_string("regression")),
                   "classes: not allowed for task \"regression\"");
}

Test(bundle, refuses_an_empty_or_oversized_feature_list)
{
    json_t *b = good_bundle(), *features = json_array(), *weights = json_array();

    expect_refused(with(good_bundle(), "features", json_array()),
                   "features: expected 1 to 4096 features, got 0");
    for (int i = 0; i < 4097; i++) {
        char name[16];
        snprintf(name, sizeof(name), "f%d", i);
        json_array_append_new(features, json_pack("{s:s, s:s, s:s}", "name", name, "source", name,
                                                  "type", "numeric"));
        json_array_append_new(weights, json_real(0));
    }
    with(b, "model.weights", weights);
    without(b, "reference");
    expect_refused(with(b, "features", features),
                   "features: expected 1 to 4096 features, got 4097");
}

Test(bundle, refuses_duplicate_feature_names_and_bad_sources)
{
    expect_refused(with(good_bundle(), "features[3].name", json_string("amount")),
                   "features[3].name: duplicate \"amount\"");
    expect_refused(with(good_bundle(), "features[3].name", json_string("")),
                   "features[3].name: must be 1 to 128 bytes, without control characters");
    expect_refused(with(good_bundle(), "features[1].source", json_string("card..country")),
                   "features[1].source: must be a field name or a dotted path of field names");
    expect_refused(with(good_bundle(), "features[1].source", json_string(".country")),
                   "features[1].source: must be a field name or a dotted path of field names");
}

/* A string of @p n copies of @p c. */
static json_t *repeated(char c, size_t n)
{
    char *text = malloc(n + 1);
    json_t *string;

    cr_assert_not_null(text);
    memset(text, c, n);
    text[n] = '\0';
    string = json_string(text);
    free(text);
    return string;
}

Test(bundle, holds_names_labels_and_categories_to_their_length_caps)
{
    static const char *const names = "must be 1 to 128 bytes, without control characters";
    static const char *const labels = "must be 1 to 256 bytes, without control characters";
    static const char *const sources = "must be 1 to 256 bytes, without control characters";
    static const char *const categories = "must be at most 256 bytes";
    static const struct {
        const char *path;
        size_t cap;
        const char *message;
    } caps[] = {
        {"features[2].name", 128, names},
        {"version", 128, names},
        {"created", 128, "must be at most 128 bytes, without control characters"},
        {"features[2].source", 256, sources},
        {"classes[1]", 256, labels},
        {"features[4].transform[0].categories[2]", 256, categories},
    };
    char expected[512];

    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        weir_model_destroy(load(with(good_bundle(), caps[i].path, repeated('a', caps[i].cap))));
        snprintf(expected, sizeof(expected), "%s: %s", caps[i].path, caps[i].message);
        expect_refused(with(good_bundle(), caps[i].path, repeated('a', caps[i].cap + 1)), expected);
    }

    /* A reference category and an imputed category: data, not names. */
    json_t *b = with(good_bundle(), "reference.features.merchant.categories", json_object());
    json_object_set_new(find(b, "reference.features.merchant.categories"), "x", json_real(1));
    weir_model_destroy(load(json_deep_copy(b)));
    json_object_clear(find(b, "reference.features.merchant.categories"));
    json_t *long_category = repeated('c', 257);
    json_object_set_new(find(b, "reference.features.merchant.categories"),
                        json_string_value(long_category), json_real(1));
    snprintf(expected, sizeof(expected), "reference.features.merchant.categories.%s: %s",
             json_string_value(long_category), categories);
    expect_refused(b, expected);
    json_decref(long_category);
    b = with(good_bundle(), "features[1].transform",
             relaxed("[{'op': 'impute', 'value': ''},"
                     " {'op': 'hash', 'buckets': 30}]"));
    without(b, "features[1].missing");
    weir_model_destroy(load(json_deep_copy(b)));
    with(b, "features[1].transform[0].value", repeated('v', 257));
    expect_refused(b, "features[1].transform[0].value: must be at most 256 bytes");

    /* Control characters: refused in names and labels, kept in categories. */
    expect_refused(with(good_bundle(), "features[2].name", json_string("is\nforeign")),
                   "features[2].name: must be 1 to 128 bytes, without control characters");
    expect_refused(with(good_bundle(), "classes[0]", json_string("le\tgit")),
                   "classes[0]: must be 1 to 256 bytes, without control characters");
    expect_refused(with(good_bundle(), "classes[0]", json_string("")),
                   "classes[0]: must be 1 to 256 bytes, without control characters");
    weir_model_destroy(load(
        with(good_bundle(), "features[4].transform[0].categories[2]", json_string("on\tline"))));
}

Test(bundle, writes_control_characters_it_echoes_as_escapes)
{
    expect_refused(with(good_bundle(), "task", json_string("\x1b[2Jbinary")),
                   "task: expected \"binary\", \"multiclass\" or \"regression\", got "
                   "\"\\x1b[2Jbinary\"");
    expect_refused(
        with(with(good_bundle(), "features[4].transform[0].categories[1]", json_string("\a\x7f")),
             "features[4].transform[0].categories[2]", json_string("\a\x7f")),
        "features[4].transform[0].categories[2]: duplicate \"\\x07\\x7f\"");
}

Test(bundle, names_the_path_of_a_bad_std)
{
    expect_refused(with(good_bundle(), "features[3].transform[1].std", json_integer(0)),
                   "features[3].transform[1].std: must be > 0");
    expect_refused(with(good_bundle(), "features[3].transform[1].std", json_real(-1.5)),
                   "features[3].transform[1].std: must be > 0");
}

Test(bundle, refuses_a_clip_without_bounds_or_with_min_above_max)
{
    expect_refused(with(good_bundle(), "features[3].transform[0]", relaxed("{'op': 'clip'}")),
                   "features[3].transform[0]: clip needs min, max or both");
    expect_refused(with(good_bundle(), "features[3].transform[0].min", json_integer(24)),
                   "features[3].transform[0].max: must be >= min");
    weir_model_destroy(load(without(good_bundle(), "features[3].transform[0].max")));
}

Test(bundle, refuses_a_min_max_with_an_empty_range)
{
    expect_refused(with(good_bundle(), "features[3].transform[1]",
                        relaxed("{'op': 'min_max', 'min': 5, 'max': 5}")),
                   "features[3].transform[1].max: must be > min");
    expect_refused(
        with(good_bundle(), "features[3].transform[1]", relaxed("{'op': 'min_max', 'min': 5}")),
        "features[3].transform[1].max: required");
}

Test(bundle, refuses_bucketize_edges_that_do_not_increase)
{
    expect_refused(
        with(good_bundle(), "features[3].transform[1]",
             relaxed("{'op': 'bucketize', 'edges': [0, 6, 6, 12]}")),
        "features[3].transform[1].edges[2]: must be greater than the edge before it (6)");
    expect_refused(with(good_bundle(), "features[3].transform[1]",
                        relaxed("{'op': 'bucketize', 'edges': []}")),
                   "features[3].transform[1].edges: expected at least one edge");
    expect_refused(with(good_bundle(), "features[3].transform[1]",
                        relaxed("{'op': 'bucketize', 'edges': [1], 'output': 'bits'}")),
                   "features[3].transform[1].output: expected \"index\" or \"one_hot\", got "
                   "\"bits\"");
}

Test(bundle, refuses_a_one_hot_bucketize_before_another_step)
{
    json_t *b = with(good_bundle(), "features[3].transform[0]",
                     relaxed("{'op': 'bucketize', 'edges': [6, 12, 18], 'output': 'one_hot'}"));
    weir_model_t *m;

    expect_refused(b, "features[3].transform[0].output: a one_hot bucketize writes columns, so "
                      "it must be the last step");

    /* Last, it widens the feature to edges + 1 columns. */
    b = without(good_bundle(), "features[3].transform[1]");
    with(b, "features[3].transform[0]",
         relaxed("{'op': 'bucketize', 'edges': [6, 12, 18], 'output': 'one_hot'}"));
    with(b, "model.weights", numbers(40, 0, 0.1));
    m = load(b);
    cr_assert_eq(weir_model_feature(m, 3)->width, 4);
    cr_assert_eq(weir_model_feature(m, 4)->column, 36);
    weir_model_destroy(m);
}

Test(bundle, refuses_impute_anywhere_but_first)
{
    expect_refused(
        with(good_bundle(), "features[3].transform[1]", relaxed("{'op': 'impute', 'value': 1}")),
        "features[3].transform[1].op: \"impute\" is only allowed as the first step");
    expect_refused(with(good_bundle(), "features[0].transform[0].value", json_string("zero")),
                   "features[0].transform[0].value: expected a number");
    expect_refused(with(good_bundle(), "features[4].transform",
                        relaxed("[{'op': 'impute', 'value': 7}, {'op': 'one_hot', "
                                "'categories': ['a']}]")),
                   "features[4].transform[0].value: expected a string");
}

Test(bundle, holds_the_missing_policy_to_the_chain)
{
    expect_refused(without(good_bundle(), "features[0].transform[0]"),
                   "features[0].missing: \"impute\" needs the transform to start with an impute "
                   "step");
    expect_refused(without(good_bundle(), "features[0].missing"),
                   "features[0].transform[0]: an impute step needs missing \"impute\"");
    expect_refused(with(good_bundle(), "features[3].missing", json_string("unknown")),
                   "features[3].missing: \"unknown\" is for categorical features");
    expect_refused(with(good_bundle(), "features[4].missing", json_string("impute")),
                   "features[4].missing: \"impute\" is for numeric and boolean features; a "
                   "categorical feature imputes with a leading impute step");
    expect_refused(with(good_bundle(), "features[1].transform",
                        relaxed("[{'op': 'impute', 'value': 'XX'}, {'op': 'hash', "
                                "'buckets': 30}]")),
                   "features[1].missing: not allowed when the transform starts with an impute "
                   "step");
}

Test(bundle, reports_a_categorical_impute_step_as_policy_impute)
{
    weir_model_t *m = load(with(good_bundle(), "features[4].transform",
                                relaxed("[{'op': 'impute', 'value': 'none'}, {'op': 'one_hot', "
                                        "'categories': ['none', 'a', 'b'], 'unknown': 'extra'}]")));

    cr_assert_eq(weir_model_feature(m, 4)->missing, WEIR_MISSING_IMPUTE);
    weir_model_destroy(m);
}

Test(bundle, refuses_steps_that_do_not_fit_the_feature_type)
{
    expect_refused(
        with(good_bundle(), "features[3].transform[1]", relaxed("{'op': 'hash', 'buckets': 4}")),
        "features[3].transform[1].op: \"hash\" is not a step for a numeric feature");
    expect_refused(with(good_bundle(), "features[2].transform", relaxed("[{'op': 'log1p'}]")),
                   "features[2].transform[0].op: \"log1p\" is not a step for a boolean feature "
                   "(only \"impute\" is)");
    expect_refused(with(good_bundle(), "features[4].transform",
                        relaxed("[{'op': 'clip', 'min': 0}, {'op': 'one_hot', 'categories': "
                                "['a']}]")),
                   "features[4].transform[0].op: \"clip\" is not a step for a categorical feature "
                   "(impute, then one_hot, ordinal or hash)");
}

Test(bundle, needs_one_encoding_step_last_in_a_categorical_chain)
{
    expect_refused(with(good_bundle(), "features[4].transform", json_array()),
                   "features[4].transform: a categorical feature needs an encoding step (one_hot, "
                   "ordinal or hash), last");
    expect_refused(without(good_bundle(), "features[4].transform"),
                   "features[4].transform: a categorical feature needs an encoding step (one_hot, "
                   "ordinal or hash), last");
    expect_refused(
        with(good_bundle(), "features[4].transform", relaxed("[{'op': 'impute', 'value': 'x'}]")),
        "features[4].transform: a categorical feature needs an encoding step (one_hot, "
        "ordinal or hash), last");
    expect_refused(with(good_bundle(), "features[4].transform",
                        relaxed("[{'op': 'hash', 'buckets': 4}, {'op': 'one_hot', 'categories': "
                                "['a']}]")),
                   "features[4].transform[0].op: \"hash\" must be the last step");
}

Test(bundle, refuses_empty_or_duplicate_one_hot_categories)
{
    expect_refused(with(good_bundle(), "features[4].transform[0].categories", json_array()),
                   "features[4].transform[0].categories: expected at least one category");
    expect_refused(with(good_bundle(), "features[4].transform[0].categories",
                        relaxed("['grocery', 'travel', 'grocery']")),
                   "features[4].transform[0].categories[2]: duplicate \"grocery\"");
    expect_refused(with(good_bundle(), "features[4].transform[0].categories[1]", json_integer(3)),
                   "features[4].transform[0].categories[1]: expected a string");
}

Test(bundle, refuses_hash_buckets_and_seeds_out_of_range)
{
    expect_refused(with(good_bundle(), "features[1].transform[0].buckets", json_integer(0)),
                   "features[1].transform[0].buckets: must be from 1 to 1048576");
    expect_refused(with(good_bundle(), "features[1].transform[0].buckets", json_integer(1048577)),
                   "features[1].transform[0].buckets: must be from 1 to 1048576");
    expect_refused(with(good_bundle(), "features[1].transform[0].buckets", json_real(30.5)),
                   "features[1].transform[0].buckets: expected an integer");
    expect_refused(with(good_bundle(), "features[1].transform[0].seed", json_integer(-1)),
                   "features[1].transform[0].seed: must be from 0 to 4294967295");
    expect_refused(with(good_bundle(), "features[1].transform[0].seed", json_integer(4294967296LL)),
                   "features[1].transform[0].seed: must be from 0 to 4294967295");
    weir_model_destroy(
        load(with(good_bundle(), "features[1].transform[0].seed", json_integer(4294967295LL))));
}

Test(bundle, counts_the_weights_against_the_features_columns)
{
    expect_refused(with(good_bundle(), "model.weights", numbers(36, 0, 0.1)),
                   "model.weights: expected 37 numbers (the features' columns), got 36");
    expect_refused(with(good_bundle(), "model.bias", json_array()),
                   "model.bias: expected a number");
}

Test(bundle, refuses_weights_a_float_cannot_hold)
{
    expect_refused(with(good_bundle(), "model.weights[3]", json_real(1e39)),
                   "model.weights[3]: 1e+39 is out of the range of a float");
    expect_refused(with(good_bundle(), "model.bias", json_real(-4e38)),
                   "model.bias: -4e+38 is out of the range of a float");
}

Test(bundle, refuses_a_model_kind_that_does_not_fit_the_task)
{
    json_t *b = without(good_bundle(), "threshold");

    without(b, "classes");
    expect_refused(with(b, "task", json_string("regression")),
                   "model.kind: \"logistic\" is for task \"binary\", the bundle's is "
                   "\"regression\"");
    expect_refused(with(good_bundle(), "model.kind", json_string("linear")),
                   "model.kind: \"linear\" is for task \"regression\", the bundle's is \"binary\"");
    expect_refused(with(good_bundle(), "model.kind", json_string("softmax")),
                   "model.kind: \"softmax\" is for task \"multiclass\", the bundle's is "
                   "\"binary\"");
}

/* A multiclass bundle with a single numeric feature "x" and the given model. */
static json_t *multiclass_bundle(const char *model)
{
    json_t *b = relaxed("{'format': 'weir.model/1', 'name': 'm', 'version': '1', "
                        "'task': 'multiclass', 'classes': ['a', 'b', 'c'], "
                        "'features': [{'name': 'x', 'source': 'x', 'type': 'numeric'}]}");

    json_object_set_new(b, "model", relaxed(model));
    return b;
}

Test(bundle, needs_a_softmax_row_and_bias_per_class)
{
    weir_model_t *m;

    expect_refused(multiclass_bundle("{'kind': 'softmax', 'weights': [[1], [2]], 'bias': [0, 0]}"),
                   "model.weights: expected 3 rows (one per class), got 2");
    expect_refused(multiclass_bundle("{'kind': 'softmax', 'weights': [[1], [2, 3], [4]], "
                                     "'bias': [0, 0, 0]}"),
                   "model.weights[1]: expected 1 numbers (the features' columns), got 2");
    expect_refused(multiclass_bundle("{'kind': 'softmax', 'weights': [[1], [2], [3]], "
                                     "'bias': [0, 0]}"),
                   "model.bias: expected 3 numbers (one per class), got 2");
    m = load(multiclass_bundle("{'kind': 'softmax', 'weights': [[1], [2], [3]], "
                               "'bias': [0, 0, 0]}"));
    cr_assert_eq(weir_model_kind(m), WEIR_MODEL_SOFTMAX);
    cr_assert_eq(weir_model_outputs(m), 3);
    weir_model_destroy(m);
}

/* An MLP over the good bundle's 37 columns: 16 relu units, then @p last. */
static json_t *mlp_bundle(json_t *last)
{
    json_t *b = good_bundle(), *hidden = json_array(), *layers = json_array();

    for (int j = 0; j < 16; j++)
        json_array_append_new(hidden, numbers(37, 0.01 * j, 0.001));
    json_array_append_new(layers, json_pack("{s:o, s:o, s:s}", "weights", hidden, "bias",
                                            numbers(16, 0, 0), "activation", "relu"));
    json_array_append_new(layers, last);
    return with(b, "model", json_pack("{s:s, s:o}", "kind", "mlp", "layers", layers));
}

static json_t *layer(size_t out, size_t in, const char *activation)
{
    json_t *weights = json_array();

    for (size_t j = 0; j < out; j++)
        json_array_append_new(weights, numbers(in, 0.1, 0.01));
    return json_pack("{s:o, s:o, s:s}", "weights", weights, "bias", numbers(out, 0, 0),
                     "activation", activation);
}

Test(bundle, names_the_row_of_an_mlp_weight_matrix_with_the_wrong_width)
{
    weir_model_t *m;

    expect_refused(mlp_bundle(layer(1, 15, "sigmoid")),
                   "model.layers[1].weights[0]: expected 16 numbers, got 15");
    m = load(mlp_bundle(layer(1, 16, "sigmoid")));
    cr_assert_eq(weir_model_kind(m), WEIR_MODEL_MLP);
    cr_assert_eq(weir_model_outputs(m), 1);
    weir_model_destroy(m);
}

Test(bundle, checks_mlp_biases_and_activations)
{
    json_t *last = layer(1, 16, "sigmoid");

    json_object_set_new(last, "bias", numbers(2, 0, 0));
    expect_refused(mlp_bundle(last), "model.layers[1].bias: expected 1 numbers, got 2");
    expect_refused(mlp_bundle(layer(1, 16, "gelu")),
                   "model.layers[1].activation: expected \"identity\", \"relu\", \"tanh\", "
                   "\"sigmoid\" or \"softmax\", got \"gelu\"");
    expect_refused(with(mlp_bundle(layer(1, 16, "sigmoid")), "model.layers[0].activation",
                        json_string("softmax")),
                   "model.layers[0].activation: softmax is only allowed on the last layer");
    expect_refused(
        with(mlp_bundle(layer(1, 16, "sigmoid")), "model.layers[0].weights[15]", numbers(36, 0, 0)),
        "model.layers[0].weights[15]: expected 37 numbers (the features' columns), "
        "got 36");
    expect_refused(with(mlp_bundle(layer(1, 16, "sigmoid")), "model.layers", json_array()),
                   "model.layers: expected 1 to 64 layers, got 0");
}

Test(bundle, holds_the_last_mlp_layer_to_the_task)
{
    json_t *b;
    weir_model_t *m;

    expect_refused(mlp_bundle(layer(1, 16, "identity")),
                   "model.layers[1]: the last layer of a binary model must be 1 unit with "
                   "sigmoid or 2 units with softmax, got 1 with identity");
    expect_refused(mlp_bundle(layer(2, 16, "sigmoid")),
                   "model.layers[1]: the last layer of a binary model must be 1 unit with "
                   "sigmoid or 2 units with softmax, got 2 with sigmoid");
    m = load(mlp_bundle(layer(2, 16, "softmax")));
    cr_assert_eq(weir_model_outputs(m), 1, "a binary model outputs P(positive) only");
    weir_model_destroy(m);

    b = without(without(mlp_bundle(layer(1, 16, "sigmoid")), "threshold"), "classes");
    expect_refused(with(b, "task", json_string("regression")),
                   "model.layers[1]: the last layer of a regression model must be 1 unit with "
                   "identity, got 1 with sigmoid");

    b = with(without(mlp_bundle(layer(2, 16, "softmax")), "threshold"), "task",
             json_string("multiclass"));
    expect_refused(with(b, "classes", relaxed("['a', 'b', 'c']")),
                   "model.layers[1]: the last layer of a multiclass model must be 3 units (one "
                   "per class) with softmax, got 2 with softmax");
}

Test(bundle, enforces_the_caps_on_layers_units_and_columns)
{
    json_t *layers = json_array(), *units = json_array(), *b;

    for (int l = 0; l < 65; l++)
        json_array_append_new(layers, json_object());
    expect_refused(with(mlp_bundle(layer(1, 16, "sigmoid")), "model.layers", layers),
                   "model.layers: expected 1 to 64 layers, got 65");

    for (int j = 0; j < 65537; j++)
        json_array_append_new(units, json_array());
    expect_refused(with(mlp_bundle(layer(1, 16, "sigmoid")), "model.layers[0].weights", units),
                   "model.layers[0].weights: expected 1 to 65536 rows (one per unit), got 65537");

    /* Features 0 to 3 fill the 2^20 columns exactly; feature 4 is one too many. */
    b = with(good_bundle(), "features[1].transform[0].buckets", json_integer((1 << 20) - 3));
    expect_refused(b, "features[4]: the features need more than 1048576 columns");
}

/* The good bundle's text padded with spaces to @p len bytes (malloc'd). */
static char *padded_good_text(size_t len)
{
    json_t *b = good_bundle();
    char *json = json_dumps(b, JSON_COMPACT), *text = malloc(len);
    size_t n = strlen(json);

    cr_assert(text && n <= len);
    memcpy(text, json, n);
    memset(text + n, ' ', len - n);
    free(json);
    json_decref(b);
    return text;
}

Test(bundle, refuses_a_bundle_larger_than_64_mib_and_loads_one_of_exactly_64_mib)
{
    size_t cap = (size_t)64 << 20;
    char *text = padded_good_text(cap + 1);
    char err[512] = "";
    weir_model_t *m = NULL;

    cr_assert_eq(weir_model_parse(text, cap + 1, "big.json", &m, err, sizeof(err)), WEIR_EMODEL);
    cr_assert_str_eq(err, "big.json: 67108865 bytes, more than the cap of 64 MiB");
    cr_assert_null(m);
    cr_assert_eq(weir_model_parse(text, cap, "big.json", &m, err, sizeof(err)), 0, "%s", err);
    weir_model_destroy(m);
    free(text);
}

Test(bundle, refuses_a_bundle_file_past_the_cap_without_reading_it)
{
    /* A sparse file: over the cap in size, a good bundle in its first bytes. */
    json_t *b = good_bundle();
    char *json = json_dumps(b, JSON_COMPACT);
    char *path = weir_test_write_temp(".json", json, strlen(json));
    char err[512] = "", expected[700];
    weir_model_t *m = (weir_model_t *)1;

    cr_assert_eq(truncate(path, ((off_t)64 << 20) + 1), 0);
    cr_assert_eq(weir_model_load(path, &m, err, sizeof(err)), WEIR_EMODEL);
    cr_assert_null(m);
    snprintf(expected, sizeof(expected), "%s: 67108865 bytes, more than the cap of 64 MiB", path);
    cr_assert_str_eq(err, expected);
    unlink(path);
    free(path);
    free(json);
    json_decref(b);
}

/* Appends printf-formatted text to a growing buffer. */
static void append(char **text, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char **text, size_t *len, size_t *cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*cap - *len < 256) {
        *cap = *cap * 2 + 256;
        *text = realloc(*text, *cap);
        cr_assert_not_null(*text);
    }
    va_start(ap, fmt);
    n = vsnprintf(*text + *len, *cap - *len, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < *cap - *len);
    *len += (size_t)n;
}

Test(bundle, refuses_a_million_features_at_their_cap_before_parsing_them)
{
    /* 1,000,000 features (about 50 MB) and then a JSON error: the cap on
     * features refuses the text before the parser has built any of it, so
     * the message is about the features, not the error at the end. */
    size_t len = 0, cap = 0;
    char *text = NULL, *path, err[512] = "", expected[700];
    weir_model_t *m = (weir_model_t *)1;

    append(&text, &len, &cap, "{\"format\": \"weir.model/1\", \"features\": [");
    for (int i = 0; i < 1000000; i++)
        append(&text, &len, &cap, "%s{\"name\":\"f%d\",\"source\":\"x\",\"type\":\"numeric\"}",
               i ? "," : "", i);
    append(&text, &len, &cap, "], \"model\": }");
    path = weir_test_write_temp(".json", text, len);

    cr_assert_eq(weir_model_load(path, &m, err, sizeof(err)), WEIR_EMODEL);
    cr_assert_null(m);
    snprintf(expected, sizeof(expected), "%s: features: expected 1 to 4096 features, got 1000000",
             path);
    cr_assert_str_eq(err, expected);

    /* Cut off inside the list, the count is what was there. */
    cr_assert_eq(weir_model_parse(text, len / 2, "cut.json", &m, err, sizeof(err)), WEIR_EMODEL);
    cr_assert(strstr(err, "cut.json: features: expected 1 to 4096 features, got at least ") == err,
              "%s", err);
    unlink(path);
    free(path);
    free(text);
}

/* {"format": "weir.model/1", "description": X} where X is @p count copies of
 * @p element in an array; expects @p message for it. */
static void expect_description_refused(const char *element, size_t count, const char *message)
{
    size_t len = 0, cap = 0;
    char *text = NULL, err[512] = "", expected[512];
    weir_model_t *m = (weir_model_t *)1;

    append(&text, &len, &cap, "{\"format\": \"weir.model/1\", \"description\": [");
    for (size_t i = 0; i < count; i++)
        append(&text, &len, &cap, "%s%s", i ? "," : "", element);
    append(&text, &len, &cap, "]}");
    snprintf(expected, sizeof(expected), "model.json: %s", message);
    cr_expect_eq(weir_model_parse(text, len, "model.json", &m, err, sizeof(err)), WEIR_EMODEL);
    cr_expect_null(m);
    cr_expect_str_eq(err, expected);
    free(text);
}

Test(bundle, refuses_more_values_arrays_objects_or_nesting_than_the_caps_before_parsing)
{
    /* Within a cap, the text is parsed and then refused for what it lacks;
     * one past it, it is refused unparsed. Before the caps, jansson built
     * the whole tree first and the loader then said "name: required". */
    expect_description_refused("0", 4194304 - 3, "name: required");
    expect_description_refused("0", 4194304 - 2,
                               "description: more than 4194304 values in the bundle");
    expect_description_refused("[]", 262144 - 2, "name: required");
    expect_description_refused("{}", 262144 - 1,
                               "description: more than 262144 arrays and objects in the bundle");

    /* The top level and "description" are two levels; 14 more make 16. */
    char nested[64] = "", path[128] = "description";
    for (int i = 0; i < 14; i++)
        strcat(nested, "[");
    strcat(nested, "0");
    for (int i = 0; i < 14; i++)
        strcat(nested, "]");
    expect_description_refused(nested, 1, "name: required");
    memmove(nested + 1, nested, strlen(nested) + 1);
    nested[0] = '[';
    strcat(nested, "]");
    for (int i = 0; i < 14; i++)
        strcat(path, "[0]");
    strcat(path, ": more than 16 levels of nesting");
    expect_description_refused(nested, 1, path);
}

Test(bundle, caps_a_transform_at_16_steps)
{
    json_t *steps = json_array();

    json_array_append_new(steps, relaxed("{'op': 'clip', 'min': 0}"));
    for (int i = 0; i < 15; i++)
        json_array_append_new(steps, relaxed("{'op': 'log1p'}"));
    weir_model_destroy(load(with(good_bundle(), "features[3].transform", json_deep_copy(steps))));
    json_array_append_new(steps, relaxed("{'op': 'log1p'}"));
    expect_refused(with(good_bundle(), "features[3].transform", steps),
                   "features[3].transform: expected at most 16 steps, got 17");
}

Test(bundle, refuses_a_reference_for_a_feature_that_does_not_exist)
{
    expect_refused(with(good_bundle(), "reference.features.amout", json_object()),
                   "reference.features.amout: no feature has this name");
}

Test(bundle, refuses_reference_parts_that_do_not_fit_the_feature_type)
{
    expect_refused(with(good_bundle(), "reference.features.merchant.sample", relaxed("[1, 2]")),
                   "reference.features.merchant.sample: only for numeric and boolean features");
    expect_refused(with(good_bundle(), "reference.features.amount.categories", relaxed("{'a': 1}")),
                   "reference.features.amount.categories: only for categorical features");
    expect_refused(with(good_bundle(), "reference.score.categories", relaxed("{'a': 1}")),
                   "reference.score.categories: only for categorical features");
}

Test(bundle, refuses_reference_distributions_that_do_not_add_up)
{
    expect_refused(with(good_bundle(), "reference.features.amount.bins.proportions",
                        relaxed("[0.2, 0.5, 0.2]")),
                   "reference.features.amount.bins.proportions: sums to 0.9, not 1");
    expect_refused(
        with(good_bundle(), "reference.features.amount.bins.proportions", relaxed("[0.5, 0.5]")),
        "reference.features.amount.bins.proportions: expected 3 numbers (one more "
        "than the edges), got 2");
    expect_refused(with(good_bundle(), "reference.features.amount.bins.proportions",
                        relaxed("[1.2, -0.2, 0]")),
                   "reference.features.amount.bins.proportions[1]: must be >= 0");
    expect_refused(with(good_bundle(), "reference.features.amount.bins.edges", relaxed("[10, 1]")),
                   "reference.features.amount.bins.edges[1]: must be greater than the edge "
                   "before it (10)");
    expect_refused(
        with(good_bundle(), "reference.features.merchant.categories.online", json_real(0.4)),
        "reference.features.merchant.categories: sums to 1.1, not 1");
    expect_refused(
        with(good_bundle(), "reference.features.merchant.categories.online", json_string("0.3")),
        "reference.features.merchant.categories.online: expected a number");
    expect_refused(with(good_bundle(), "reference.features.amount.missing_rate", json_real(1.5)),
                   "reference.features.amount.missing_rate: must be from 0 to 1");
    expect_refused(with(good_bundle(), "reference.features.amount.std", json_real(-1)),
                   "reference.features.amount.std: must be >= 0");
    expect_refused(with(good_bundle(), "reference.features.amount.n", json_integer(-1)),
                   "reference.features.amount.n: must be from 0 to 9223372036854775807");
    /* Within the 1e-6 tolerance. */
    weir_model_destroy(load(with(good_bundle(), "reference.features.amount.bins.proportions",
                                 relaxed("[0.2, 0.5, 0.3000005]"))));
}

Test(bundle, caps_the_reference_sample_at_100000_values)
{
    expect_refused(with(good_bundle(), "reference.features.amount.sample", numbers(100001, 0, 1)),
                   "reference.features.amount.sample: expected at most 100000 values, got 100001");
    weir_model_destroy(
        load(with(good_bundle(), "reference.features.amount.sample", numbers(100000, 0, 1))));
}

Test(bundle, checks_the_ranges_of_reference_performance)
{
    expect_refused(with(good_bundle(), "reference.performance.auc", json_real(1.01)),
                   "reference.performance.auc: must be from 0 to 1");
    expect_refused(with(good_bundle(), "reference.performance.rmse", json_real(-0.1)),
                   "reference.performance.rmse: must be >= 0");
    expect_refused(with(good_bundle(), "reference.performance.r2", json_real(1.5)),
                   "reference.performance.r2: must be <= 1");
    expect_refused(with(good_bundle(), "reference.performance.n", json_real(10.5)),
                   "reference.performance.n: expected an integer");
}
