/*
 * bundle.c — loading a weir.model/1 bundle: JSON text in, a validated,
 * immutable weir_model_t out (docs/bundle.md is the format's reference).
 *
 * Validation is the point of this file. Every key is checked for presence,
 * type, range and dimension, unknown keys are refused (a "stdev" typo must not
 * quietly become a default), and the first problem found is reported with the
 * path of the offending value: `model.json: features[3].transform[1].std:
 * must be > 0`. Each parse_* function receives the path of the JSON value it
 * reads ("at") and builds its children's paths on the stack.
 *
 * Everything the model keeps is copied out of the jansson tree into the
 * model's arena, so the tree is freed before returning and a failed load
 * releases everything with one weir_model_destroy().
 */
#include "scoring_int.h"

#include <errno.h>
#include <float.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FORMAT "weir.model/1"
/* Room for any path the loader builds; longer ones (huge feature names) are cut. */
#define WHERE_SIZE 512
#define MESSAGE_SIZE 256
#define ARENA_BLOCK_SIZE ((size_t)64 << 10)
/* A bundle within the caps holds at most 4M values (8 bytes each once read)
 * and 64 MiB of strings; with their indexes this stays well below. */
#define MODEL_MEMORY_MAX ((size_t)512 << 20)
#define READ_CHUNK ((size_t)64 << 10)
/* Tolerance on proportions that must sum to 1. */
#define PROPORTION_SLACK 1e-6

typedef struct {
    const char *origin; /* the file, or the caller's name for a text */
    weir_model_t *model;
    weir_feature_t *features; /* model->features, writable while loading */
    weir_name_index_t feature_names;
    char *err;
    size_t errsz;
} loader_t;

static const char *const bundle_keys[] = {
    "format",    "name",    "version",  "created", "training",  "description", "task",
    "threshold", "classes", "features", "model",   "reference", NULL};
static const char *const training_keys[] = {"from", "to", "rows", "reference_split", NULL};
static const char *const feature_keys[] = {"name", "source", "type", "missing", "transform", NULL};
static const char *const reference_keys[] = {"features", "score",       "performance",
                                             "pca",      "calibration", NULL};
static const char *const pca_keys[] = {"features", "center", "scale", "components", "error", NULL};
static const char *const pca_error_keys[] = {"n", "mean", "std", NULL};
static const char *const calibration_keys[] = {"scores", "probabilities", NULL};
/* Tolerance on the orthonormality of PCA components. */
#define ORTHONORMAL_SLACK 1e-6
static const char *const distribution_keys[] = {"n",    "missing_rate", "sample",     "bins",
                                                "mean", "std",          "categories", NULL};
static const char *const bins_keys[] = {"edges", "proportions", NULL};

/* Choices, in the order of the enums they map to. */
static const char *const task_names[] = {"binary", "multiclass", "regression", NULL};
static const char *const feature_type_names[] = {"numeric", "categorical", "boolean", NULL};
static const char *const missing_names[] = {"error", "impute", "unknown", "nan", NULL};
static const char *const kind_names[] = {"linear", "logistic", "softmax", "mlp", "trees", NULL};
static const char *const activation_names[] = {"identity", "relu",    "tanh",
                                               "sigmoid",  "softmax", NULL};
static const char *const unknown_names[] = {"error", "ignore", "extra", NULL};
static const char *const ordinal_unknown_names[] = {"error", "missing", "value", NULL};
static const char *const bucketize_output_names[] = {"index", "one_hot", NULL};
static const char *const step_names[] = {"impute",    "clip",    "log1p", "standardize", "min_max",
                                         "bucketize", "one_hot", "hash",  "ordinal",     NULL};

/* The keys each step takes, by weir_step_op_t. */
static const char *const *const step_keys[] = {
    [WEIR_STEP_IMPUTE] = (const char *const[]){"op", "value", NULL},
    [WEIR_STEP_CLIP] = (const char *const[]){"op", "min", "max", NULL},
    [WEIR_STEP_LOG1P] = (const char *const[]){"op", NULL},
    [WEIR_STEP_STANDARDIZE] = (const char *const[]){"op", "mean", "std", NULL},
    [WEIR_STEP_MIN_MAX] = (const char *const[]){"op", "min", "max", NULL},
    [WEIR_STEP_BUCKETIZE] = (const char *const[]){"op", "edges", "output", NULL},
    [WEIR_STEP_ONE_HOT] = (const char *const[]){"op", "categories", "unknown", "infrequent", NULL},
    [WEIR_STEP_HASH] = (const char *const[]){"op", "buckets", "seed", NULL},
    [WEIR_STEP_ORDINAL] = (const char *const[]){"op", "categories", "unknown", "value", NULL},
};

/* ---- messages and paths ---- */

static int fail(loader_t *ld, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies @p in, control characters written as \xNN: messages echo names and
 * values from the bundle, which must not drive the terminal they are read on. */
static void escape_controls(char *out, size_t outsz, const char *in)
{
    size_t o = 0;

    for (; *in && o + 5 < outsz; in++) {
        unsigned char c = (unsigned char)*in;
        if (c < 0x20 || c == 0x7f)
            o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

static int fail(loader_t *ld, const char *at, const char *fmt, ...)
{
    char message[MESSAGE_SIZE], safe_at[WHERE_SIZE], safe_message[MESSAGE_SIZE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    escape_controls(safe_at, sizeof(safe_at), at);
    escape_controls(safe_message, sizeof(safe_message), message);
    return weir_seterr(ld->err, ld->errsz, WEIR_EMODEL, "%s: %s%s%s", ld->origin, safe_at,
                       *at ? ": " : "", safe_message);
}

static int out_of_memory(loader_t *ld)
{
    return weir_seterr(ld->err, ld->errsz, WEIR_ENOMEM, "%s: out of memory", ld->origin);
}

/* "at.key", or "key" at the top. */
static const char *at_key(char *where, const char *at, const char *key)
{
    int n = snprintf(where, WHERE_SIZE, "%s%s%s", at, *at ? "." : "", key);

    (void)n; /* a cut path still points at the right place */
    return where;
}

/* "at[i]" */
static const char *at_index(char *where, const char *at, size_t i)
{
    int n = snprintf(where, WHERE_SIZE, "%s[%zu]", at, i);

    (void)n;
    return where;
}

/* ---- allocation from the model's arena ---- */

/* count × size bytes, or *out = NULL when count is 0. */
static int alloc_array(loader_t *ld, void *out, size_t count, size_t size)
{
    int rc = 0;
    void *p = NULL;

    if (count > 0) {
        p = count > SIZE_MAX / size ? NULL : weir_arena_alloc(&ld->model->memory, count * size);
        if (!p)
            rc = out_of_memory(ld);
    }
    memcpy(out, &p, sizeof(p));
    return rc;
}

static int copy_string(loader_t *ld, const json_t *string, const char **out)
{
    int rc = 0;
    char *copy = weir_arena_strndup(&ld->model->memory, json_string_value(string),
                                    json_string_length(string));

    if (!copy)
        rc = out_of_memory(ld);
    *out = copy;
    return rc;
}

/* Names end up in keys, labels, headers and log lines: each has a length cap,
 * and those that name things (not data) have no control characters. */
static int check_text(loader_t *ld, const char *at, const char *text, size_t len, size_t min,
                      size_t max, int controls_allowed)
{
    int bad = len < min || len > max;

    for (size_t i = 0; i < len && !bad && !controls_allowed; i++)
        bad = (unsigned char)text[i] < 0x20 || text[i] == 0x7f;
    if (!bad)
        return 0;
    if (min == 0)
        return fail(ld, at, "must be at most %zu bytes%s", max,
                    controls_allowed ? "" : ", without control characters");
    return fail(ld, at, "must be %zu to %zu bytes, without control characters", min, max);
}

/* ---- typed getters: absent optional keys leave *out as the caller set it ---- */

static int check_keys(loader_t *ld, json_t *object, const char *at, const char *const *known)
{
    int rc = 0;
    char where[WHERE_SIZE];

    for (void *it = json_object_iter(object); it && rc == 0;
         it = json_object_iter_next(object, it)) {
        const char *key = json_object_iter_key(it);
        size_t i = 0;

        while (known[i] && strcmp(known[i], key) != 0)
            i++;
        if (!known[i])
            rc = fail(ld, at_key(where, at, key), "unknown key");
    }
    return rc;
}

/* The value of @p key, NULL when absent; an error when absent and required. */
static int get(loader_t *ld, json_t *object, const char *at, const char *key, int required,
               json_t **value)
{
    int rc = 0;
    char where[WHERE_SIZE];

    *value = json_object_get(object, key);
    if (!*value && required)
        rc = fail(ld, at_key(where, at, key), "required");
    return rc;
}

static int expect_object(loader_t *ld, json_t *value, const char *at)
{
    return json_is_object(value) ? 0 : fail(ld, at, "expected an object");
}

static int expect_array(loader_t *ld, json_t *value, const char *at)
{
    return json_is_array(value) ? 0 : fail(ld, at, "expected an array");
}

static int get_object(loader_t *ld, json_t *object, const char *at, const char *key, int required,
                      json_t **out)
{
    char where[WHERE_SIZE];
    int rc = get(ld, object, at, key, required, out);

    if (rc == 0 && *out)
        rc = expect_object(ld, *out, at_key(where, at, key));
    return rc;
}

static int get_array(loader_t *ld, json_t *object, const char *at, const char *key, int required,
                     json_t **out)
{
    char where[WHERE_SIZE];
    int rc = get(ld, object, at, key, required, out);

    if (rc == 0 && *out)
        rc = expect_array(ld, *out, at_key(where, at, key));
    return rc;
}

static int get_string(loader_t *ld, json_t *object, const char *at, const char *key, int required,
                      const char **out)
{
    char where[WHERE_SIZE];
    json_t *value;
    int rc = get(ld, object, at, key, required, &value);

    if (rc == 0 && value) {
        if (!json_is_string(value))
            rc = fail(ld, at_key(where, at, key), "expected a string");
        else
            rc = copy_string(ld, value, out);
    }
    return rc;
}

static int get_number(loader_t *ld, json_t *object, const char *at, const char *key, int required,
                      double *out)
{
    char where[WHERE_SIZE];
    json_t *value;
    int rc = get(ld, object, at, key, required, &value);

    if (rc == 0 && value) {
        if (!json_is_number(value))
            rc = fail(ld, at_key(where, at, key), "expected a number");
        else
            *out = json_number_value(value);
    }
    return rc;
}

static int get_integer(loader_t *ld, json_t *object, const char *at, const char *key, int required,
                       json_int_t min, json_int_t max, json_int_t *out)
{
    char where[WHERE_SIZE];
    json_t *value;
    int rc = get(ld, object, at, key, required, &value);

    if (rc == 0 && value) {
        at_key(where, at, key);
        if (!json_is_integer(value))
            rc = fail(ld, where, "expected an integer");
        else if (json_integer_value(value) < min || json_integer_value(value) > max)
            rc = fail(ld, where, "must be from %" JSON_INTEGER_FORMAT " to %" JSON_INTEGER_FORMAT,
                      min, max);
        else
            *out = json_integer_value(value);
    }
    return rc;
}

/* A string that must be one of @p choices; *out receives its position. */
static int get_choice(loader_t *ld, json_t *object, const char *at, const char *key, int required,
                      const char *const *choices, int *out)
{
    char where[WHERE_SIZE];
    char listed[MESSAGE_SIZE] = "";
    json_t *value;
    int rc = get(ld, object, at, key, required, &value);
    int i = 0;

    if (rc != 0 || !value)
        goto out;
    at_key(where, at, key);
    if (json_is_string(value))
        while (choices[i] && strcmp(choices[i], json_string_value(value)) != 0)
            i++;
    if (json_is_string(value) && choices[i]) {
        *out = i;
        goto out;
    }
    for (i = 0; choices[i]; i++) {
        size_t used = strlen(listed);
        const char *separator = ", ";

        if (i == 0)
            separator = "";
        else if (!choices[i + 1])
            separator = " or ";
        snprintf(listed + used, sizeof(listed) - used, "%s\"%s\"", separator, choices[i]);
    }
    if (json_is_string(value))
        rc = fail(ld, where, "expected %s, got \"%s\"", listed, json_string_value(value));
    else
        rc = fail(ld, where, "expected %s", listed);

out:
    return rc;
}

/* A number that a float can hold: weights and biases. */
static int read_float(loader_t *ld, json_t *value, const char *at, float *out)
{
    int rc = 0;
    double v;

    if (!json_is_number(value)) {
        rc = fail(ld, at, "expected a number");
        goto out;
    }
    v = json_number_value(value);
    if (fabs(v) > FLT_MAX) {
        rc = fail(ld, at, "%g is out of the range of a float", v);
        goto out;
    }
    *out = (float)v;

out:
    return rc;
}

/* A weight or bias: kept in double, but within a float's range as the
 * format has always required. */
static int read_weight(loader_t *ld, json_t *value, const char *at, double *out)
{
    float f = 0;
    int rc = read_float(ld, value, at, &f);

    if (rc == 0)
        *out = json_number_value(value);
    return rc;
}

/* An array of exactly @p expected numbers (any count when @p expected is
 * (size_t)-1) into doubles or floats; @p note explains the expected count. */
static int read_numbers(loader_t *ld, json_t *array, const char *at, size_t expected,
                        const char *note, double *doubles, float *floats)
{
    char where[WHERE_SIZE];
    int rc = expect_array(ld, array, at);
    size_t count;

    if (rc != 0)
        goto out;
    count = json_array_size(array);
    if (expected != (size_t)-1 && count != expected) {
        rc = fail(ld, at, "expected %zu numbers%s, got %zu", expected, note, count);
        goto out;
    }
    for (size_t i = 0; i < count && rc == 0; i++) {
        json_t *value = json_array_get(array, i);
        at_index(where, at, i);
        if (floats)
            rc = read_float(ld, value, where, &floats[i]);
        else if (!json_is_number(value))
            rc = fail(ld, where, "expected a number");
        else
            doubles[i] = json_number_value(value);
    }

out:
    return rc;
}

/* An array of exactly @p expected weights into @p out. */
static int read_weights(loader_t *ld, json_t *array, const char *at, size_t expected,
                        const char *note, double *out)
{
    char where[WHERE_SIZE];
    int rc = expect_array(ld, array, at);

    if (rc != 0)
        goto out;
    if (json_array_size(array) != expected) {
        rc =
            fail(ld, at, "expected %zu numbers%s, got %zu", expected, note, json_array_size(array));
        goto out;
    }
    for (size_t i = 0; i < expected && rc == 0; i++)
        rc = read_weight(ld, json_array_get(array, i), at_index(where, at, i), &out[i]);

out:
    return rc;
}

/* A non-empty array of strictly increasing numbers. */
static int read_edges(loader_t *ld, json_t *array, const char *at, const double **edges,
                      size_t *count)
{
    char where[WHERE_SIZE];
    double *values = NULL;
    int rc = expect_array(ld, array, at);

    if (rc != 0)
        goto out;
    *count = json_array_size(array);
    if (*count == 0) {
        rc = fail(ld, at, "expected at least one edge");
        goto out;
    }
    if ((rc = alloc_array(ld, &values, *count, sizeof(*values))) != 0 ||
        (rc = read_numbers(ld, array, at, *count, "", values, NULL)) != 0)
        goto out;
    for (size_t i = 1; i < *count; i++) {
        if (!(values[i] > values[i - 1])) {
            rc = fail(ld, at_index(where, at, i), "must be greater than the edge before it (%g)",
                      values[i - 1]);
            goto out;
        }
    }
    *edges = values;

out:
    return rc;
}

/* Proportions of a distribution: each >= 0, summing to 1. */
static int check_proportions(loader_t *ld, const double *proportions, size_t count, const char *at)
{
    char where[WHERE_SIZE];
    double sum = 0;
    int rc = 0;

    for (size_t i = 0; i < count; i++) {
        if (proportions[i] < 0) {
            rc = fail(ld, at_index(where, at, i), "must be >= 0");
            goto out;
        }
        sum += proportions[i];
    }
    if (fabs(sum - 1) > PROPORTION_SLACK)
        rc = fail(ld, at, "sums to %.9g, not 1", sum);

out:
    return rc;
}

/* An array of unique strings into names/lengths, indexed when @p index is not
 * NULL: class labels (@p labels: not empty, no control characters) or
 * categories (any bytes); either at most WEIR_BUNDLE_MAX_LABEL bytes. */
static int read_names(loader_t *ld, json_t *array, const char *at, int labels, const char ***names,
                      size_t **lengths, weir_name_index_t *index)
{
    char where[WHERE_SIZE];
    weir_name_index_t local;
    size_t count = json_array_size(array);
    size_t duplicate;
    int rc;

    if ((rc = alloc_array(ld, names, count, sizeof(**names))) != 0 ||
        (rc = alloc_array(ld, lengths, count, sizeof(**lengths))) != 0)
        goto out;
    for (size_t i = 0; i < count; i++) {
        json_t *value = json_array_get(array, i);
        if (!json_is_string(value)) {
            rc = fail(ld, at_index(where, at, i), "expected a string");
            goto out;
        }
        if ((rc = check_text(ld, at_index(where, at, i), json_string_value(value),
                             json_string_length(value), labels ? 1 : 0, WEIR_BUNDLE_MAX_LABEL,
                             !labels)) != 0 ||
            (rc = copy_string(ld, value, &(*names)[i])) != 0)
            goto out;
        (*lengths)[i] = json_string_length(value);
    }
    rc = weir_name_index_build(index ? index : &local, &ld->model->memory,
                               (const char *const *)*names, *lengths, count, &duplicate);
    if (rc != 0)
        rc = out_of_memory(ld);
    else if (duplicate != (size_t)-1)
        rc = fail(ld, at_index(where, at, duplicate), "duplicate \"%s\"", (*names)[duplicate]);

out:
    return rc;
}

/* ---- top-level metadata ---- */

static int parse_name(loader_t *ld, json_t *root)
{
    const char *name = NULL;
    size_t length;
    int rc = get_string(ld, root, "", "name", 1, &name);

    if (rc != 0)
        goto out;
    length = strlen(name);
    if (length == 0 || length > WEIR_BUNDLE_MAX_NAME ||
        strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
            length) {
        rc = fail(ld, "name", "must be 1 to %d characters of A-Z a-z 0-9 . _ -",
                  WEIR_BUNDLE_MAX_NAME);
        goto out;
    }
    ld->model->name = name;

out:
    return rc;
}

/* The training window is kept as written (backtests compare it with their
 * range); its row count is validated, not kept. */
static int parse_training(loader_t *ld, json_t *root)
{
    json_t *training;
    const char *split;
    json_int_t rows;
    int rc = get_object(ld, root, "", "training", 0, &training);

    ld->model->training_from = ld->model->training_to = "";
    if (rc == 0 && training && (rc = check_keys(ld, training, "training", training_keys)) == 0 &&
        (rc = get_string(ld, training, "training", "from", 0, &ld->model->training_from)) == 0 &&
        (rc = get_string(ld, training, "training", "to", 0, &ld->model->training_to)) == 0 &&
        (rc = get_string(ld, training, "training", "reference_split", 0, &split)) == 0)
        rc = get_integer(ld, training, "training", "rows", 0, 0, LLONG_MAX, &rows);
    return rc;
}

static int parse_threshold(loader_t *ld, json_t *root)
{
    weir_model_t *m = ld->model;
    int rc = 0;

    m->threshold = 0.5;
    if (m->task != WEIR_TASK_BINARY) {
        if (json_object_get(root, "threshold"))
            rc = fail(ld, "threshold", "only for task \"binary\"");
        goto out;
    }
    if ((rc = get_number(ld, root, "", "threshold", 0, &m->threshold)) != 0)
        goto out;
    if (!(m->threshold > 0 && m->threshold < 1))
        rc = fail(ld, "threshold", "must be > 0 and < 1");

out:
    return rc;
}

static int parse_classes(loader_t *ld, json_t *root)
{
    static const char *const binary_default[] = {"0", "1"};
    weir_model_t *m = ld->model;
    json_t *classes;
    const char **names;
    size_t *lengths;
    size_t count;
    int rc = get_array(ld, root, "", "classes", m->task == WEIR_TASK_MULTICLASS, &classes);

    if (rc != 0)
        goto out;
    if (m->task == WEIR_TASK_REGRESSION) {
        if (classes)
            rc = fail(ld, "classes", "not allowed for task \"regression\"");
        goto out;
    }
    if (!classes) {
        m->classes = binary_default;
        m->class_count = 2;
        goto out;
    }
    count = json_array_size(classes);
    if (m->task == WEIR_TASK_BINARY && count != 2) {
        rc = fail(ld, "classes", "expected 2 class labels (negative first), got %zu", count);
        goto out;
    }
    if (m->task == WEIR_TASK_MULTICLASS && (count < 2 || count > WEIR_BUNDLE_MAX_UNITS)) {
        rc = fail(ld, "classes", "expected 2 to %zu class labels, got %zu", WEIR_BUNDLE_MAX_UNITS,
                  count);
        goto out;
    }
    if ((rc = read_names(ld, classes, "classes", 1, &names, &lengths, NULL)) != 0)
        goto out;
    m->classes = names;
    m->class_count = count;

out:
    return rc;
}

/* ---- features and their transform chains ---- */

/* Whether a step of kind @p op may appear at @p position of a chain of @p count
 * steps for a feature of type @p type; an error naming the op if not. */
static int check_step_place(loader_t *ld, const char *at, weir_feature_type_t type,
                            weir_step_op_t op, size_t position, size_t count)
{
    char where[WHERE_SIZE];
    int encoding = op == WEIR_STEP_ONE_HOT || op == WEIR_STEP_HASH || op == WEIR_STEP_ORDINAL;
    int rc = 0;

    at_key(where, at, "op");
    if (op == WEIR_STEP_IMPUTE && position != 0)
        rc = fail(ld, where, "\"impute\" is only allowed as the first step");
    else if (type == WEIR_FEATURE_BOOLEAN && op != WEIR_STEP_IMPUTE)
        rc = fail(ld, where, "\"%s\" is not a step for a boolean feature (only \"impute\" is)",
                  step_names[op]);
    else if (type == WEIR_FEATURE_NUMERIC && encoding)
        rc = fail(ld, where, "\"%s\" is not a step for a numeric feature", step_names[op]);
    else if (type == WEIR_FEATURE_CATEGORICAL && !encoding && op != WEIR_STEP_IMPUTE)
        rc = fail(ld, where,
                  "\"%s\" is not a step for a categorical feature (impute, then one_hot, "
                  "ordinal or hash)",
                  step_names[op]);
    else if (encoding && position != count - 1)
        rc = fail(ld, where, "\"%s\" must be the last step", step_names[op]);
    return rc;
}

static int parse_clip(loader_t *ld, json_t *json, const char *at, weir_step_t *step)
{
    char where[WHERE_SIZE];
    int rc;

    step->u.clip.min = -INFINITY;
    step->u.clip.max = INFINITY;
    if ((rc = get_number(ld, json, at, "min", 0, &step->u.clip.min)) != 0 ||
        (rc = get_number(ld, json, at, "max", 0, &step->u.clip.max)) != 0)
        goto out;
    if (!json_object_get(json, "min") && !json_object_get(json, "max"))
        rc = fail(ld, at, "clip needs min, max or both");
    else if (step->u.clip.min > step->u.clip.max)
        rc = fail(ld, at_key(where, at, "max"), "must be >= min");

out:
    return rc;
}

static int parse_bucketize(loader_t *ld, json_t *json, const char *at, weir_step_t *step,
                           size_t position, size_t count)
{
    char where[WHERE_SIZE];
    json_t *edges;
    int output = 0;
    int rc;

    if ((rc = get_array(ld, json, at, "edges", 1, &edges)) != 0 ||
        (rc = read_edges(ld, edges, at_key(where, at, "edges"), &step->u.bucketize.edges,
                         &step->u.bucketize.edge_count)) != 0 ||
        (rc = get_choice(ld, json, at, "output", 0, bucketize_output_names, &output)) != 0)
        goto out;
    step->u.bucketize.one_hot = output == 1;
    if (step->u.bucketize.one_hot && position != count - 1)
        rc = fail(ld, at_key(where, at, "output"),
                  "a one_hot bucketize writes columns, so it must be the last step");

out:
    return rc;
}

/* "1.0", "01", "-2.50", "1e3": a category that is a decimal number, written
 * maybe otherwise than weir_category_format() writes it; *value receives it. */
static int decimal_category(const char *s, size_t len, double *value)
{
    char text[WEIR_BUNDLE_MAX_LABEL + 1];
    size_t i = 0, digits = 0, exponent = 0;

    if (len == 0 || len > WEIR_BUNDLE_MAX_LABEL)
        return 0;
    if (s[i] == '-')
        i++;
    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
        digits++;
    if (i < len && s[i] == '.')
        for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            digits++;
    if (digits > 0 && i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
            exponent++;
        if (exponent == 0)
            return 0;
    }
    if (digits == 0 || i != len)
        return 0;
    memcpy(text, s, len);
    text[len] = '\0';
    *value = strtod(text, NULL);
    return isfinite(*value);
}

/* Aliases past this many collisions are given up: a hostile list of "1.0",
 * "1.00", ... must not make the loader rebuild its index for ever. */
#define MAX_ALIAS_COLLISIONS 16

/* The names of a one_hot or ordinal step (listed, then infrequent), indexed
 * with the canonical text of those written as numbers some other way. */
static int index_categories(loader_t *ld, const char *at, const char **names, size_t *lengths,
                            size_t listed, size_t infrequent, weir_categories_t *c)
{
    char where[WHERE_SIZE], number[32];
    size_t named = listed + infrequent, total = named, duplicate, collisions = 0;
    const char **all = NULL;
    size_t *all_lengths = NULL;
    uint32_t *column_of = NULL;
    weir_name_index_t plain;
    int rc;

    if ((rc = alloc_array(ld, &all, 2 * named, sizeof(*all))) != 0 ||
        (rc = alloc_array(ld, &all_lengths, 2 * named, sizeof(*all_lengths))) != 0 ||
        (rc = alloc_array(ld, &column_of, 2 * named, sizeof(*column_of))) != 0)
        goto out;
    memcpy(all, names, named * sizeof(*all));
    memcpy(all_lengths, lengths, named * sizeof(*all_lengths));
    for (size_t i = 0; i < named; i++)
        column_of[i] = (uint32_t)(i < listed ? i : listed);
    if (weir_name_index_build(&plain, &ld->model->memory, all, all_lengths, named, &duplicate) !=
        0) {
        rc = out_of_memory(ld);
        goto out;
    }
    if (duplicate != (size_t)-1) {
        rc = fail(ld, at_index(where, at, duplicate), "duplicate \"%s\"", all[duplicate]);
        goto out;
    }
    for (size_t i = 0; i < named; i++) {
        double value;
        size_t len;

        if (!decimal_category(all[i], all_lengths[i], &value))
            continue;
        len = weir_category_format(value, number, sizeof(number));
        if (weir_name_index_find(&plain, number, len) >= 0)
            continue; /* already listed as written (or listed on its own) */
        all[total] = weir_arena_strndup(&ld->model->memory, number, len);
        if (!all[total]) {
            rc = out_of_memory(ld);
            goto out;
        }
        all_lengths[total] = len;
        column_of[total++] = column_of[i];
    }
    /* Two texts of one number ("1.0" and "1.00") listed apart: neither gets the alias. */
    for (;;) {
        if (weir_name_index_build(&c->index, &ld->model->memory, all, all_lengths, total,
                                  &duplicate) != 0) {
            rc = out_of_memory(ld);
            goto out;
        }
        if (duplicate == (size_t)-1)
            break;
        if (++collisions > MAX_ALIAS_COLLISIONS) {
            total = named;
            continue;
        }
        memmove(&all[duplicate], &all[duplicate + 1], (total - duplicate - 1) * sizeof(*all));
        memmove(&all_lengths[duplicate], &all_lengths[duplicate + 1],
                (total - duplicate - 1) * sizeof(*all_lengths));
        memmove(&column_of[duplicate], &column_of[duplicate + 1],
                (total - duplicate - 1) * sizeof(*column_of));
        total--;
    }
    c->count = listed;
    c->column_of = column_of;

out:
    return rc;
}

/* An array of strings of up to WEIR_BUNDLE_MAX_LABEL bytes (categories are
 * data: any bytes) appended to names/lengths from position @p first. */
static int read_categories(loader_t *ld, json_t *array, const char *at, const char **names,
                           size_t *lengths, size_t first)
{
    char where[WHERE_SIZE];
    int rc = 0;

    for (size_t i = 0; i < json_array_size(array) && rc == 0; i++) {
        json_t *value = json_array_get(array, i);
        at_index(where, at, i);
        if (!json_is_string(value))
            rc = fail(ld, where, "expected a string");
        else if ((rc = check_text(ld, where, json_string_value(value), json_string_length(value), 0,
                                  WEIR_BUNDLE_MAX_LABEL, 1)) == 0 &&
                 (rc = copy_string(ld, value, &names[first + i])) == 0)
            lengths[first + i] = json_string_length(value);
    }
    return rc;
}

/* one_hot and ordinal: a list of categories and what an unknown one becomes. */
static int parse_categories_step(loader_t *ld, json_t *json, const char *at, weir_step_t *step)
{
    char where[WHERE_SIZE], infrequent_at[WHERE_SIZE];
    weir_categories_t *c = &step->u.categories;
    json_t *categories, *infrequent = NULL;
    const char **names = NULL;
    size_t *lengths = NULL;
    size_t listed, rare = 0;
    int ordinal = step->op == WEIR_STEP_ORDINAL;
    int unknown = 0;
    int rc;

    c->unknown_value = 0;
    if ((rc = get_array(ld, json, at, "categories", 1, &categories)) != 0 ||
        (rc = get_choice(ld, json, at, "unknown", 0,
                         ordinal ? ordinal_unknown_names : unknown_names, &unknown)) != 0 ||
        (!ordinal && (rc = get_array(ld, json, at, "infrequent", 0, &infrequent)) != 0))
        goto out;
    if (ordinal) {
        static const weir_unknown_policy_t policies[] = {WEIR_UNKNOWN_ERROR, WEIR_UNKNOWN_MISSING,
                                                         WEIR_UNKNOWN_VALUE};
        c->unknown = policies[unknown];
        if ((rc = get_number(ld, json, at, "value", c->unknown == WEIR_UNKNOWN_VALUE,
                             &c->unknown_value)) != 0)
            goto out;
        if (c->unknown != WEIR_UNKNOWN_VALUE && json_object_get(json, "value")) {
            rc = fail(ld, at_key(where, at, "value"), "only with \"unknown\": \"value\"");
            goto out;
        }
        if (!isfinite(c->unknown_value) || fabs(c->unknown_value) > FLT_MAX) {
            rc = fail(ld, at_key(where, at, "value"), "must be a finite number within a float");
            goto out;
        }
    } else {
        c->unknown = (weir_unknown_policy_t)unknown;
    }
    at_key(where, at, "categories");
    listed = json_array_size(categories);
    if (listed == 0) {
        rc = fail(ld, where, "expected at least one category");
        goto out;
    }
    if (listed > WEIR_BUNDLE_MAX_COLUMNS) {
        rc = fail(ld, where, "expected at most %zu categories, got %zu", WEIR_BUNDLE_MAX_COLUMNS,
                  listed);
        goto out;
    }
    rare = infrequent ? json_array_size(infrequent) : 0;
    at_key(infrequent_at, at, "infrequent");
    if ((rc = alloc_array(ld, &names, listed + rare, sizeof(*names))) != 0 ||
        (rc = alloc_array(ld, &lengths, listed + rare, sizeof(*lengths))) != 0 ||
        (rc = read_categories(ld, categories, where, names, lengths, 0)) != 0 ||
        (infrequent &&
         (rc = read_categories(ld, infrequent, infrequent_at, names, lengths, listed)) != 0))
        goto out;
    /* A duplicate among the infrequent ones is named from the categories' path;
     * the position says which. */
    rc = index_categories(ld, where, names, lengths, listed, rare, c);
    c->other_column = rare > 0 || c->unknown == WEIR_UNKNOWN_EXTRA;

out:
    return rc;
}

static int parse_step(loader_t *ld, json_t *json, const char *at, weir_feature_type_t type,
                      size_t position, size_t count, weir_step_t *step)
{
    char where[WHERE_SIZE];
    json_int_t buckets, seed = 0;
    int op;
    int rc;

    if ((rc = expect_object(ld, json, at)) != 0 ||
        (rc = get_choice(ld, json, at, "op", 1, step_names, &op)) != 0 ||
        (rc = check_step_place(ld, at, type, (weir_step_op_t)op, position, count)) != 0 ||
        (rc = check_keys(ld, json, at, step_keys[op])) != 0)
        goto out;
    step->op = (weir_step_op_t)op;

    switch (step->op) {
    case WEIR_STEP_IMPUTE:
        if (type == WEIR_FEATURE_CATEGORICAL) {
            rc = get_string(ld, json, at, "value", 1, &step->u.impute.string);
            if (rc == 0) {
                step->u.impute.length = strlen(step->u.impute.string);
                rc = check_text(ld, at_key(where, at, "value"), step->u.impute.string,
                                step->u.impute.length, 0, WEIR_BUNDLE_MAX_LABEL, 1);
            }
        } else {
            rc = get_number(ld, json, at, "value", 1, &step->u.impute.number);
        }
        break;
    case WEIR_STEP_CLIP:
        rc = parse_clip(ld, json, at, step);
        break;
    case WEIR_STEP_LOG1P:
        break;
    case WEIR_STEP_STANDARDIZE:
        if ((rc = get_number(ld, json, at, "mean", 1, &step->u.standardize.mean)) == 0 &&
            (rc = get_number(ld, json, at, "std", 1, &step->u.standardize.std)) == 0 &&
            !(step->u.standardize.std > 0))
            rc = fail(ld, at_key(where, at, "std"), "must be > 0");
        break;
    case WEIR_STEP_MIN_MAX:
        if ((rc = get_number(ld, json, at, "min", 1, &step->u.min_max.min)) == 0 &&
            (rc = get_number(ld, json, at, "max", 1, &step->u.min_max.max)) == 0 &&
            !(step->u.min_max.max > step->u.min_max.min))
            rc = fail(ld, at_key(where, at, "max"), "must be > min");
        break;
    case WEIR_STEP_BUCKETIZE:
        rc = parse_bucketize(ld, json, at, step, position, count);
        break;
    case WEIR_STEP_ONE_HOT:
    case WEIR_STEP_ORDINAL:
        rc = parse_categories_step(ld, json, at, step);
        break;
    case WEIR_STEP_HASH:
        if ((rc = get_integer(ld, json, at, "buckets", 1, 1, WEIR_BUNDLE_MAX_HASH_BUCKETS,
                              &buckets)) == 0 &&
            (rc = get_integer(ld, json, at, "seed", 0, 0, UINT32_MAX, &seed)) == 0) {
            step->u.hash.buckets = (uint32_t)buckets;
            step->u.hash.seed = (uint32_t)seed;
        }
        break;
    }

out:
    return rc;
}

/* A dotted path of non-empty field names: "amount", "card.country". */
static int valid_source(const char *source)
{
    size_t length = strlen(source);

    return length > 0 && source[0] != '.' && source[length - 1] != '.' && !strstr(source, "..");
}

/* The missing policy against the chain: the rules of docs/bundle.md, "Missing values". */
static int check_missing_policy(loader_t *ld, json_t *json, const char *at, weir_feature_t *f)
{
    char where[WHERE_SIZE], step_at[WHERE_SIZE];
    int leading_impute = f->step_count > 0 && f->steps[0].op == WEIR_STEP_IMPUTE;
    int rc = 0;

    at_key(where, at, "missing");
    if (f->info.type != WEIR_FEATURE_CATEGORICAL) {
        if (f->info.missing == WEIR_MISSING_UNKNOWN)
            rc = fail(ld, where, "\"unknown\" is for categorical features");
        else if (f->info.missing == WEIR_MISSING_IMPUTE && !leading_impute)
            rc = fail(ld, where, "\"impute\" needs the transform to start with an impute step");
        else if (f->info.missing != WEIR_MISSING_IMPUTE && leading_impute)
            rc = fail(ld, at_index(step_at, at_key(where, at, "transform"), 0),
                      "an impute step needs missing \"impute\"");
        else if (f->info.missing == WEIR_MISSING_NAN && f->step_count > 0 &&
                 f->steps[f->step_count - 1].op == WEIR_STEP_BUCKETIZE &&
                 f->steps[f->step_count - 1].u.bucketize.one_hot)
            rc = fail(ld, where, "\"nan\" writes one column: not with a one_hot bucketize");
        goto out;
    }
    if (f->info.missing == WEIR_MISSING_NAN &&
        f->steps[f->step_count - 1].op != WEIR_STEP_ORDINAL) {
        rc = fail(ld, where, "\"nan\" is for numeric, boolean and ordinal-encoded features");
        goto out;
    }
    if (f->info.missing == WEIR_MISSING_IMPUTE) {
        rc = fail(ld, where,
                  "\"impute\" is for numeric and boolean features; a categorical feature imputes "
                  "with a leading impute step");
    } else if (leading_impute) {
        /* The step decides what a missing value becomes: a policy would never apply. */
        if (json_object_get(json, "missing"))
            rc = fail(ld, where, "not allowed when the transform starts with an impute step");
        f->info.missing = WEIR_MISSING_IMPUTE;
    }

out:
    return rc;
}

static size_t feature_width(const weir_feature_t *f)
{
    const weir_step_t *last = f->step_count > 0 ? &f->steps[f->step_count - 1] : NULL;
    size_t width = 1;

    if (!last)
        goto out;
    if (last->op == WEIR_STEP_BUCKETIZE && last->u.bucketize.one_hot)
        width = last->u.bucketize.edge_count + 1;
    else if (last->op == WEIR_STEP_ONE_HOT)
        width = last->u.categories.count + (last->u.categories.other_column ? 1 : 0);
    else if (last->op == WEIR_STEP_HASH)
        width = last->u.hash.buckets;

out:
    return width;
}

static int parse_feature(loader_t *ld, json_t *json, const char *at, weir_feature_t *f)
{
    char where[WHERE_SIZE], step_at[WHERE_SIZE];
    json_t *transform;
    weir_step_t *steps = NULL;
    int type, missing = WEIR_MISSING_ERROR;
    int rc;

    if ((rc = expect_object(ld, json, at)) != 0 ||
        (rc = check_keys(ld, json, at, feature_keys)) != 0 ||
        (rc = get_string(ld, json, at, "name", 1, &f->info.name)) != 0 ||
        (rc = get_string(ld, json, at, "source", 1, &f->info.source)) != 0 ||
        (rc = get_choice(ld, json, at, "type", 1, feature_type_names, &type)) != 0 ||
        (rc = get_choice(ld, json, at, "missing", 0, missing_names, &missing)) != 0 ||
        (rc = get_array(ld, json, at, "transform", 0, &transform)) != 0)
        goto out;
    if ((rc = check_text(ld, at_key(where, at, "name"), f->info.name, strlen(f->info.name), 1,
                         WEIR_BUNDLE_MAX_NAME, 0)) != 0 ||
        (rc = check_text(ld, at_key(where, at, "source"), f->info.source, strlen(f->info.source), 1,
                         WEIR_BUNDLE_MAX_SOURCE, 0)) != 0)
        goto out;
    if (!valid_source(f->info.source)) {
        rc = fail(ld, at_key(where, at, "source"),
                  "must be a field name or a dotted path of field names");
        goto out;
    }
    f->info.type = (weir_feature_type_t)type;
    f->info.missing = (weir_missing_policy_t)missing;

    f->step_count = transform ? json_array_size(transform) : 0;
    if (f->step_count > WEIR_BUNDLE_MAX_STEPS) {
        rc = fail(ld, at_key(where, at, "transform"), "expected at most %d steps, got %zu",
                  WEIR_BUNDLE_MAX_STEPS, f->step_count);
        goto out;
    }
    if ((rc = alloc_array(ld, &steps, f->step_count, sizeof(*steps))) != 0)
        goto out;
    at_key(where, at, "transform");
    for (size_t i = 0; i < f->step_count; i++) {
        rc = parse_step(ld, json_array_get(transform, i), at_index(step_at, where, i), f->info.type,
                        i, f->step_count, &steps[i]);
        if (rc != 0)
            goto out;
    }
    f->steps = steps;

    if (f->info.type == WEIR_FEATURE_CATEGORICAL &&
        (f->step_count == 0 || (steps[f->step_count - 1].op != WEIR_STEP_ONE_HOT &&
                                steps[f->step_count - 1].op != WEIR_STEP_HASH &&
                                steps[f->step_count - 1].op != WEIR_STEP_ORDINAL))) {
        rc = fail(ld, where,
                  "a categorical feature needs an encoding step (one_hot, ordinal or hash), last");
        goto out;
    }
    if ((rc = check_missing_policy(ld, json, at, f)) != 0)
        goto out;
    f->info.width = feature_width(f);

out:
    return rc;
}

static int parse_features(loader_t *ld, json_t *root)
{
    char at[WHERE_SIZE], where[WHERE_SIZE];
    weir_model_t *m = ld->model;
    json_t *features;
    const char **names;
    size_t *lengths;
    size_t count, duplicate;
    int rc;

    if ((rc = get_array(ld, root, "", "features", 1, &features)) != 0)
        goto out;
    count = json_array_size(features);
    if (count < 1 || count > WEIR_BUNDLE_MAX_FEATURES) {
        rc = fail(ld, "features", "expected 1 to %d features, got %zu", WEIR_BUNDLE_MAX_FEATURES,
                  count);
        goto out;
    }
    if ((rc = alloc_array(ld, &ld->features, count, sizeof(*ld->features))) != 0 ||
        (rc = alloc_array(ld, &names, count, sizeof(*names))) != 0 ||
        (rc = alloc_array(ld, &lengths, count, sizeof(*lengths))) != 0)
        goto out;
    memset(ld->features, 0, count * sizeof(*ld->features));
    m->features = ld->features;
    m->feature_count = count;

    for (size_t i = 0; i < count; i++) {
        weir_feature_t *f = &ld->features[i];
        at_index(at, "features", i);
        if ((rc = parse_feature(ld, json_array_get(features, i), at, f)) != 0)
            goto out;
        f->info.column = m->columns;
        if (f->info.width > WEIR_BUNDLE_MAX_COLUMNS - m->columns) {
            rc = fail(ld, at, "the features need more than %zu columns", WEIR_BUNDLE_MAX_COLUMNS);
            goto out;
        }
        m->columns += f->info.width;
        names[i] = f->info.name;
        lengths[i] = strlen(f->info.name);
    }

    rc = weir_name_index_build(&ld->feature_names, &m->memory, names, lengths, count, &duplicate);
    if (rc != 0) {
        rc = out_of_memory(ld);
    } else if (duplicate != (size_t)-1) {
        at_index(at, "features", duplicate);
        rc = fail(ld, at_key(where, at, "name"), "duplicate \"%s\"", names[duplicate]);
    }

out:
    return rc;
}

/* ---- the model: every kind becomes dense layers ---- */

/* A weight matrix: an array of rows, one per output unit, each of @p in numbers. */
static int read_matrix(loader_t *ld, json_t *json, const char *at, size_t in, const char *note,
                       weir_layer_t *layer)
{
    char where[WHERE_SIZE];
    double *weights = NULL;
    size_t out;
    int rc = expect_array(ld, json, at);

    if (rc != 0)
        goto out;
    out = json_array_size(json);
    if (out < 1 || out > WEIR_BUNDLE_MAX_UNITS) {
        rc = fail(ld, at, "expected 1 to %zu rows (one per unit), got %zu", WEIR_BUNDLE_MAX_UNITS,
                  out);
        goto out;
    }
    /* Check every row's length before allocating out × in floats. */
    for (size_t j = 0; j < out; j++) {
        json_t *row = json_array_get(json, j);
        at_index(where, at, j);
        if (!json_is_array(row))
            rc = fail(ld, where, "expected an array of numbers");
        else if (json_array_size(row) != in)
            rc = fail(ld, where, "expected %zu numbers%s, got %zu", in, note, json_array_size(row));
        if (rc != 0)
            goto out;
    }
    if ((rc = alloc_array(ld, &weights, out * in, sizeof(*weights))) != 0)
        goto out;
    for (size_t j = 0; j < out && rc == 0; j++)
        rc = read_weights(ld, json_array_get(json, j), at_index(where, at, j), in, note,
                          weights + j * in);
    layer->in = in;
    layer->out = out;
    layer->weights = weights;

out:
    return rc;
}

static int read_bias(loader_t *ld, json_t *json, const char *at, const char *note,
                     weir_layer_t *layer)
{
    double *bias = NULL;
    int rc = alloc_array(ld, &bias, layer->out, sizeof(*bias));

    if (rc == 0)
        rc = read_weights(ld, json, at, layer->out, note, bias);
    layer->bias = bias;
    return rc;
}

/* linear and logistic: a weight vector over the columns and a scalar bias. */
static int parse_single_unit(loader_t *ld, json_t *model, weir_layer_t *layer)
{
    json_t *weights, *bias;
    double *w = NULL, *b = NULL;
    int rc;

    if ((rc = get(ld, model, "model", "weights", 1, &weights)) != 0 ||
        (rc = get(ld, model, "model", "bias", 1, &bias)) != 0 ||
        (rc = alloc_array(ld, &w, ld->model->columns, sizeof(*w))) != 0 ||
        (rc = alloc_array(ld, &b, 1, sizeof(*b))) != 0 ||
        (rc = read_weights(ld, weights, "model.weights", ld->model->columns,
                           " (the features' columns)", w)) != 0 ||
        (rc = read_weight(ld, bias, "model.bias", b)) != 0)
        goto out;
    layer->in = ld->model->columns;
    layer->out = 1;
    layer->weights = w;
    layer->bias = b;

out:
    return rc;
}

static int parse_softmax(loader_t *ld, json_t *model, weir_layer_t *layer)
{
    json_t *weights, *bias;
    int rc;

    if ((rc = get(ld, model, "model", "weights", 1, &weights)) != 0 ||
        (rc = get(ld, model, "model", "bias", 1, &bias)) != 0 ||
        (rc = read_matrix(ld, weights, "model.weights", ld->model->columns,
                          " (the features' columns)", layer)) != 0)
        goto out;
    if (layer->out != ld->model->class_count) {
        rc = fail(ld, "model.weights", "expected %zu rows (one per class), got %zu",
                  ld->model->class_count, layer->out);
        goto out;
    }
    rc = read_bias(ld, bias, "model.bias", " (one per class)", layer);

out:
    return rc;
}

/* The last layer must produce what the task promises (docs/bundle.md, "mlp"). */
static int check_last_layer(loader_t *ld, const char *at, const weir_layer_t *layer)
{
    const weir_model_t *m = ld->model;
    const char *got = activation_names[layer->activation];
    int rc = 0;

    switch (m->task) {
    case WEIR_TASK_BINARY:
        if (!(layer->out == 1 && layer->activation == WEIR_ACTIVATION_SIGMOID) &&
            !(layer->out == 2 && layer->activation == WEIR_ACTIVATION_SOFTMAX))
            rc = fail(ld, at,
                      "the last layer of a binary model must be 1 unit with sigmoid or 2 units "
                      "with softmax, got %zu with %s",
                      layer->out, got);
        break;
    case WEIR_TASK_MULTICLASS:
        if (layer->out != m->class_count || layer->activation != WEIR_ACTIVATION_SOFTMAX)
            rc = fail(ld, at,
                      "the last layer of a multiclass model must be %zu units (one per class) "
                      "with softmax, got %zu with %s",
                      m->class_count, layer->out, got);
        break;
    case WEIR_TASK_REGRESSION:
        if (layer->out != 1 || layer->activation != WEIR_ACTIVATION_IDENTITY)
            rc = fail(ld, at,
                      "the last layer of a regression model must be 1 unit with identity, got "
                      "%zu with %s",
                      layer->out, got);
        break;
    }
    return rc;
}

static int parse_layer(loader_t *ld, json_t *json, const char *at, size_t in, const char *in_note,
                       int last, weir_layer_t *layer)
{
    static const char *const layer_keys[] = {"weights", "bias", "activation", NULL};
    char where[WHERE_SIZE];
    json_t *weights, *bias;
    int activation;
    int rc;

    if ((rc = expect_object(ld, json, at)) != 0 ||
        (rc = check_keys(ld, json, at, layer_keys)) != 0 ||
        (rc = get(ld, json, at, "weights", 1, &weights)) != 0 ||
        (rc = get(ld, json, at, "bias", 1, &bias)) != 0 ||
        (rc = get_choice(ld, json, at, "activation", 1, activation_names, &activation)) != 0 ||
        (rc = read_matrix(ld, weights, at_key(where, at, "weights"), in, in_note, layer)) != 0 ||
        (rc = read_bias(ld, bias, at_key(where, at, "bias"), "", layer)) != 0)
        goto out;
    layer->activation = (weir_activation_t)activation;
    if (layer->activation == WEIR_ACTIVATION_SOFTMAX && !last)
        rc = fail(ld, at_key(where, at, "activation"), "softmax is only allowed on the last layer");
    else if (last)
        rc = check_last_layer(ld, at, layer);

out:
    return rc;
}

static int parse_mlp(loader_t *ld, json_t *model, weir_layer_t **layers, size_t *count)
{
    char at[WHERE_SIZE];
    json_t *json;
    size_t in = ld->model->columns;
    int rc;

    if ((rc = get_array(ld, model, "model", "layers", 1, &json)) != 0)
        goto out;
    *count = json_array_size(json);
    if (*count < 1 || *count > WEIR_BUNDLE_MAX_LAYERS) {
        rc = fail(ld, "model.layers", "expected 1 to %d layers, got %zu", WEIR_BUNDLE_MAX_LAYERS,
                  *count);
        goto out;
    }
    if ((rc = alloc_array(ld, layers, *count, sizeof(**layers))) != 0)
        goto out;
    for (size_t l = 0; l < *count && rc == 0; l++) {
        rc = parse_layer(ld, json_array_get(json, l), at_index(at, "model.layers", l), in,
                         l == 0 ? " (the features' columns)" : "", l == *count - 1, &(*layers)[l]);
        in = (*layers)[l].out;
    }

out:
    return rc;
}

/* ---- tree ensembles ---- */

static const char *const split_names[] = {"less_equal", "float32_less", "float32_less_equal", NULL};
static const char *const side_names[] = {"left", "right", NULL};
static const char *const link_names[] = {"identity", "sigmoid", "softmax", NULL};

/* The largest double that a cast to float takes to @p p or below: where a
 * float comparison's boundary lies on the doubles the transforms write. */
static double float_boundary(float p)
{
    float next = nextafterf(p, INFINITY);
    uint32_t bits;
    double mid;

    if (isinf(next))
        return INFINITY;                  /* the transforms never write more than FLT_MAX */
    mid = ((double)p + (double)next) / 2; /* exact: floats have 24-bit mantissas */
    memcpy(&bits, &p, sizeof(bits));
    /* A double halfway rounds to the float with the even mantissa. */
    return (bits & 1u) == 0 ? mid : nextafter(mid, -INFINITY);
}

/* Each library's test, as "x <= threshold" on the double x the transforms wrote. */
static double split_threshold(int split, double t)
{
    float f = (float)t;

    switch (split) {
    case 1: /* XGBoost: (float)x < f, f the float the written number stands for */
        return float_boundary(nextafterf(f, -INFINITY));
    case 2: /* scikit-learn's trees: (double)(float)x <= t */
        if ((double)f > t)
            f = nextafterf(f, -INFINITY);
        return float_boundary(f);
    default: /* LightGBM, HistGradientBoosting: x <= t in double */
        return t;
    }
}

typedef struct {
    size_t n;            /* nodes */
    json_int_t *feature; /* per node */
    json_int_t *left, *right;
    double *threshold;
    uint8_t *missing_left;
    int32_t *set_of; /* per node: its category set, or -1 */
    json_t *value, *sets;
} tree_arrays_t;

static int read_node_integers(loader_t *ld, json_t *tree, const char *at, const char *key, size_t n,
                              json_int_t min, json_int_t max, json_int_t *out)
{
    char where[WHERE_SIZE], item[WHERE_SIZE];
    json_t *array;
    int rc = get_array(ld, tree, at, key, 1, &array);

    if (rc != 0)
        goto out;
    at_key(where, at, key);
    if (json_array_size(array) != n) {
        rc = fail(ld, where, "expected %zu entries (one per node), got %zu", n,
                  json_array_size(array));
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(array, i);
        at_index(item, where, i);
        if (!json_is_integer(v)) {
            rc = fail(ld, item, "expected an integer");
            goto out;
        }
        out[i] = json_integer_value(v);
        if (out[i] < min || out[i] > max) {
            rc =
                fail(ld, item, "%" JSON_INTEGER_FORMAT " is not a %s", out[i],
                     max == (json_int_t)ld->model->columns - 1 ? "column of the features" : "node");
            goto out;
        }
    }

out:
    return rc;
}

/* Nodes, children in range, leaves consistent, and the shape a tree: every
 * node below the root reached exactly once, none deeper than the cap. */
static int check_tree_shape(loader_t *ld, const char *at, tree_arrays_t *a, uint32_t *order,
                            uint32_t *depth)
{
    char where[WHERE_SIZE];
    size_t head = 0, tail = 1;
    int rc = 0;

    for (size_t i = 0; i < a->n; i++) {
        int leaf = a->left[i] < 0;
        if (leaf != (a->right[i] < 0) || leaf != (a->feature[i] < 0)) {
            rc = fail(ld, at_index(where, at, i),
                      "a node is a leaf (feature, left and right all -1) or a split (none -1)");
            goto out;
        }
        depth[i] = UINT32_MAX;
    }
    order[0] = 0;
    depth[0] = 0;
    while (head < tail) {
        uint32_t i = order[head++];
        json_int_t children[2] = {a->left[i], a->right[i]};

        if (a->left[i] < 0)
            continue;
        for (int c = 0; c < 2; c++) {
            uint32_t child = (uint32_t)children[c];
            if (child == 0 || depth[child] != UINT32_MAX) {
                rc = fail(ld, at_index(where, at, i),
                          "its %s child, node %u, is reached twice: a cycle or a shared subtree",
                          c ? "right" : "left", child);
                goto out;
            }
            depth[child] = depth[i] + 1;
            if (depth[child] > WEIR_BUNDLE_MAX_TREE_DEPTH) {
                rc = fail(ld, at, "deeper than %d levels", WEIR_BUNDLE_MAX_TREE_DEPTH);
                goto out;
            }
            order[tail++] = child;
        }
    }
    if (tail != a->n) {
        for (size_t i = 0; i < a->n; i++)
            if (depth[i] == UINT32_MAX) {
                rc = fail(ld, at_index(where, at, i), "not reachable from the root (node 0)");
                goto out;
            }
    }

out:
    return rc;
}

typedef struct {
    weir_tree_node_t *nodes;
    size_t node_count;
    uint32_t *words;
    size_t word_count, word_capacity;
    double *leaf_values;
    size_t leaf_count;
} ensemble_t;

/* A categorical split's set of codes into bitset words. */
static int read_set(loader_t *ld, json_t *set, const char *at, ensemble_t *e,
                    weir_tree_node_t *node)
{
    char where[WHERE_SIZE];
    json_int_t max = -1;
    uint32_t words;
    int rc = expect_array(ld, set, at);

    if (rc != 0)
        goto out;
    for (size_t i = 0; i < json_array_size(set); i++) {
        json_t *v = json_array_get(set, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > WEIR_BUNDLE_MAX_CATEGORY_CODE) {
            rc = fail(ld, at_index(where, at, i), "expected a category code from 0 to %d",
                      WEIR_BUNDLE_MAX_CATEGORY_CODE);
            goto out;
        }
        if (json_integer_value(v) > max)
            max = json_integer_value(v);
    }
    words = max < 0 ? 1 : (uint32_t)(max / 32 + 1);
    if (words > e->word_capacity - e->word_count) {
        rc = fail(ld, at, "more category words than counted"); /* cannot happen: counted first */
        goto out;
    }
    for (size_t i = 0; i < json_array_size(set); i++) {
        json_int_t c = json_integer_value(json_array_get(set, i));
        e->words[e->word_count + (size_t)c / 32] |= 1u << (c % 32);
    }
    node->u.set.offset = (uint32_t)e->word_count;
    node->u.set.words = words;
    e->word_count += words;

out:
    return rc;
}

/* A leaf's value: one number, or leaf_width numbers into leaf_values. */
static int read_leaf(loader_t *ld, json_t *value, const char *at, size_t width, ensemble_t *e,
                     weir_tree_node_t *node)
{
    int rc = 0;

    if (width == 1) {
        if (!json_is_number(value) || !isfinite(json_number_value(value)))
            rc = fail(ld, at, "expected a finite number (the leaf's value)");
        else
            node->u.value = json_number_value(value);
        goto out;
    }
    node->child = (uint32_t)(e->leaf_count * width);
    rc = read_numbers(ld, value, at, width, " (the leaf's value per output)",
                      e->leaf_values + e->leaf_count * width, NULL);
    for (size_t k = 0; rc == 0 && k < width; k++)
        if (!isfinite(e->leaf_values[e->leaf_count * width + k]))
            rc = fail(ld, at, "expected finite numbers");
    e->leaf_count++;

out:
    return rc;
}

static int parse_tree(loader_t *ld, json_t *tree, const char *at, int split, size_t width,
                      size_t outputs, ensemble_t *e, uint32_t *output)
{
    static const char *const tree_keys[] = {
        "output",       "feature", "threshold",      "left",          "right",
        "missing_left", "value",   "category_nodes", "category_sets", NULL};
    char where[WHERE_SIZE], item[WHERE_SIZE];
    weir_arena_t *memory = &ld->model->memory;
    tree_arrays_t a = {0};
    json_t *feature, *threshold, *missing, *category_nodes;
    json_int_t output_index = 0;
    uint32_t *order = NULL, *depth = NULL, *position = NULL;
    weir_tree_node_t *nodes = e->nodes + e->node_count;
    int rc;

    if ((rc = expect_object(ld, tree, at)) != 0 ||
        (rc = check_keys(ld, tree, at, tree_keys)) != 0 ||
        (rc = get_integer(ld, tree, at, "output", 0, 0, (json_int_t)outputs - 1, &output_index)) !=
            0 ||
        (rc = get_array(ld, tree, at, "feature", 1, &feature)) != 0 ||
        (rc = get_array(ld, tree, at, "threshold", 1, &threshold)) != 0 ||
        (rc = get_array(ld, tree, at, "value", 1, &a.value)) != 0 ||
        (rc = get_array(ld, tree, at, "missing_left", 0, &missing)) != 0 ||
        (rc = get_array(ld, tree, at, "category_nodes", 0, &category_nodes)) != 0 ||
        (rc = get_array(ld, tree, at, "category_sets", category_nodes != NULL, &a.sets)) != 0)
        goto out;
    if (width > 1 && json_object_get(tree, "output")) {
        rc = fail(ld, at_key(where, at, "output"), "only for trees of scalar leaves");
        goto out;
    }
    *output = (uint32_t)output_index;
    a.n = json_array_size(feature);
    if (a.n < 1 || a.n > WEIR_BUNDLE_MAX_TREE_NODES) {
        rc = fail(ld, at_key(where, at, "feature"), "expected 1 to %zu nodes, got %zu",
                  WEIR_BUNDLE_MAX_TREE_NODES, a.n);
        goto out;
    }
    if (a.n > WEIR_BUNDLE_MAX_NODES - e->node_count) {
        rc = fail(ld, at, "the trees have more than %zu nodes in all", WEIR_BUNDLE_MAX_NODES);
        goto out;
    }
    a.feature = weir_arena_alloc(memory, a.n * sizeof(*a.feature));
    a.left = weir_arena_alloc(memory, a.n * sizeof(*a.left));
    a.right = weir_arena_alloc(memory, a.n * sizeof(*a.right));
    a.threshold = weir_arena_alloc(memory, a.n * sizeof(*a.threshold));
    a.missing_left = weir_arena_alloc(memory, a.n);
    a.set_of = weir_arena_alloc(memory, a.n * sizeof(*a.set_of));
    order = weir_arena_alloc(memory, a.n * sizeof(*order));
    depth = weir_arena_alloc(memory, a.n * sizeof(*depth));
    position = weir_arena_alloc(memory, a.n * sizeof(*position));
    if (!a.feature || !a.left || !a.right || !a.threshold || !a.missing_left || !a.set_of ||
        !order || !depth || !position) {
        rc = out_of_memory(ld);
        goto out;
    }
    if ((rc = read_node_integers(ld, tree, at, "feature", a.n, -1,
                                 (json_int_t)ld->model->columns - 1, a.feature)) != 0 ||
        (rc = read_node_integers(ld, tree, at, "left", a.n, -1, (json_int_t)a.n - 1, a.left)) !=
            0 ||
        (rc = read_node_integers(ld, tree, at, "right", a.n, -1, (json_int_t)a.n - 1, a.right)) !=
            0 ||
        (rc = read_numbers(ld, threshold, at_key(where, at, "threshold"), a.n, " (one per node)",
                           a.threshold, NULL)) != 0)
        goto out;
    memset(a.missing_left, 0, a.n);
    if (missing) {
        json_int_t *flags = weir_arena_alloc(memory, a.n * sizeof(*flags));
        if (!flags) {
            rc = out_of_memory(ld);
            goto out;
        }
        if ((rc = read_node_integers(ld, tree, at, "missing_left", a.n, 0, 1, flags)) != 0)
            goto out;
        for (size_t i = 0; i < a.n; i++)
            a.missing_left[i] = (uint8_t)flags[i];
    }
    if (json_array_size(a.value) != a.n) {
        rc = fail(ld, at_key(where, at, "value"), "expected %zu entries (one per node), got %zu",
                  a.n, json_array_size(a.value));
        goto out;
    }
    for (size_t i = 0; i < a.n; i++)
        a.set_of[i] = -1;
    if (category_nodes) {
        at_key(where, at, "category_nodes");
        if (json_array_size(a.sets) != json_array_size(category_nodes)) {
            rc = fail(ld, at_key(item, at, "category_sets"),
                      "expected %zu sets (one per category node), got %zu",
                      json_array_size(category_nodes), json_array_size(a.sets));
            goto out;
        }
        for (size_t j = 0; j < json_array_size(category_nodes); j++) {
            json_t *v = json_array_get(category_nodes, j);
            json_int_t node = json_is_integer(v) ? json_integer_value(v) : -1;
            if (node < 0 || node >= (json_int_t)a.n || a.left[node] < 0 || a.set_of[node] >= 0) {
                rc = fail(ld, at_index(item, where, j), "expected a split node, listed once");
                goto out;
            }
            a.set_of[node] = (int32_t)j;
        }
    }
    if ((rc = check_tree_shape(ld, at, &a, order, depth)) != 0)
        goto out;

    /* Breadth-first, the two children of each split placed side by side. */
    position[0] = 0;
    for (size_t i = 0, next = 1; i < a.n; i++) {
        uint32_t from = order[i];
        if (a.left[from] >= 0) {
            position[a.left[from]] = (uint32_t)next++;
            position[a.right[from]] = (uint32_t)next++;
        }
    }
    for (size_t i = 0; i < a.n; i++) {
        weir_tree_node_t *node = &nodes[position[i]];
        char node_at[WHERE_SIZE];

        memset(node, 0, sizeof(*node));
        if (a.left[i] < 0) {
            node->info = WEIR_NODE_LEAF;
            at_index(node_at, at_key(where, at, "value"), i);
            if ((rc = read_leaf(ld, json_array_get(a.value, i), node_at, width, e, node)) != 0)
                goto out;
            continue;
        }
        node->info = (uint32_t)a.feature[i] | (a.missing_left[i] ? WEIR_NODE_MISSING_LEFT : 0);
        node->child = (uint32_t)(e->node_count + position[a.left[i]]);
        if (a.set_of[i] >= 0) {
            node->info |= WEIR_NODE_CATEGORICAL;
            at_index(node_at, at_key(where, at, "category_sets"), (size_t)a.set_of[i]);
            if ((rc = read_set(ld, json_array_get(a.sets, (size_t)a.set_of[i]), node_at, e,
                               node)) != 0)
                goto out;
        } else {
            if (isnan(a.threshold[i])) {
                rc = fail(ld, at_index(node_at, at_key(where, at, "threshold"), i),
                          "expected a number");
                goto out;
            }
            node->u.threshold = split_threshold(split, a.threshold[i]);
        }
    }
    e->node_count += a.n;

out:
    return rc;
}

/* Bitset words the category sets of one tree take (what read_set() will use
 * for valid sets; an invalid one is refused there). */
static size_t set_words(json_t *sets)
{
    size_t words = 0;

    for (size_t j = 0; json_is_array(sets) && j < json_array_size(sets); j++) {
        json_t *set = json_array_get(sets, j);
        json_int_t max = -1;
        for (size_t i = 0; json_is_array(set) && i < json_array_size(set); i++) {
            json_int_t c = json_integer_value(json_array_get(set, i));
            if (c > max && c <= WEIR_BUNDLE_MAX_CATEGORY_CODE)
                max = c;
        }
        words += max < 0 ? 1 : (size_t)(max / 32 + 1);
    }
    return words;
}

static int parse_trees(loader_t *ld, json_t *model)
{
    static const char *const keys[] = {
        "kind", "average", "split", "category_side", "link", "base", "leaf_width", "trees", NULL};
    char at[WHERE_SIZE];
    weir_model_t *m = ld->model;
    weir_trees_t *t;
    ensemble_t e = {0};
    json_t *trees, *base, *average = NULL;
    json_int_t width = 1;
    int split = 0, side = 0, link = 0;
    size_t count, nodes = 0, leaves = 0;
    uint32_t *roots = NULL, *output_of = NULL;
    double *base_values = NULL;
    int rc;

    t = weir_arena_alloc(&m->memory, sizeof(*t));
    if (!t) {
        rc = out_of_memory(ld);
        goto out;
    }
    memset(t, 0, sizeof(*t));
    if ((rc = check_keys(ld, model, "model", keys)) != 0 ||
        (rc = get_choice(ld, model, "model", "split", 0, split_names, &split)) != 0 ||
        (rc = get_choice(ld, model, "model", "category_side", 0, side_names, &side)) != 0 ||
        (rc = get_choice(ld, model, "model", "link", 1, link_names, &link)) != 0 ||
        (rc = get_integer(ld, model, "model", "leaf_width", 0, 1, WEIR_BUNDLE_MAX_UNITS, &width)) !=
            0 ||
        (rc = get(ld, model, "model", "average", 0, &average)) != 0 ||
        (rc = get_array(ld, model, "model", "base", 0, &base)) != 0 ||
        (rc = get_array(ld, model, "model", "trees", 1, &trees)) != 0)
        goto out;
    if (average && !json_is_boolean(average)) {
        rc = fail(ld, "model.average", "expected true or false");
        goto out;
    }
    t->average = average && json_is_true(average);
    t->category_left = side == 0;
    t->link = link == 0   ? WEIR_ACTIVATION_IDENTITY
              : link == 1 ? WEIR_ACTIVATION_SIGMOID
                          : WEIR_ACTIVATION_SOFTMAX;
    t->leaf_width = (size_t)width;
    t->raw_outputs = width > 1                         ? (size_t)width
                     : m->task == WEIR_TASK_MULTICLASS ? m->class_count
                                                       : 1;
    /* What the task promises: P(positive), k probabilities, or a number. */
    if ((m->task == WEIR_TASK_BINARY && (t->raw_outputs != 1 || link == 2)) ||
        (m->task == WEIR_TASK_MULTICLASS && (t->raw_outputs != m->class_count || link == 1)) ||
        (m->task == WEIR_TASK_REGRESSION && (t->raw_outputs != 1 || link != 0))) {
        rc = fail(ld, "model", "a %s model's trees need %s, got leaf_width %zu and link \"%s\"",
                  task_names[m->task],
                  m->task == WEIR_TASK_BINARY       ? "scalar leaves and link sigmoid or identity"
                  : m->task == WEIR_TASK_MULTICLASS ? "scalar leaves or one value per class, and "
                                                      "link softmax or identity"
                                                    : "scalar leaves and link identity",
                  t->leaf_width, link_names[link]);
        goto out;
    }
    if ((rc = alloc_array(ld, &base_values, t->raw_outputs, sizeof(*base_values))) != 0)
        goto out;
    memset(base_values, 0, t->raw_outputs * sizeof(*base_values));
    if (base && (rc = read_numbers(ld, base, "model.base", t->raw_outputs,
                                   " (one per output of the trees)", base_values, NULL)) != 0)
        goto out;
    for (size_t g = 0; g < t->raw_outputs; g++)
        if (!isfinite(base_values[g])) {
            rc = fail(ld, at_index(at, "model.base", g), "expected a finite number");
            goto out;
        }

    count = json_array_size(trees);
    if (count < 1 || count > WEIR_BUNDLE_MAX_TREES) {
        rc = fail(ld, "model.trees", "expected 1 to %d trees, got %zu", WEIR_BUNDLE_MAX_TREES,
                  count);
        goto out;
    }
    /* Sizes first, so that the nodes and leaf values are one allocation each. */
    for (size_t k = 0; k < count; k++) {
        json_t *tree = json_array_get(trees, k);
        json_t *feature = json_is_object(tree) ? json_object_get(tree, "feature") : NULL;
        size_t n = json_is_array(feature) ? json_array_size(feature) : 0;
        if (n > WEIR_BUNDLE_MAX_NODES - nodes) {
            rc = fail(ld, at_index(at, "model.trees", k),
                      "the trees have more than %zu nodes in all", WEIR_BUNDLE_MAX_NODES);
            goto out;
        }
        nodes += n;
        for (size_t i = 0; i < n; i++)
            if (json_integer_value(json_array_get(feature, i)) < 0)
                leaves++;
        e.word_capacity +=
            set_words(json_is_object(tree) ? json_object_get(tree, "category_sets") : NULL);
    }
    if ((rc = alloc_array(ld, &e.words, e.word_capacity ? e.word_capacity : 1, sizeof(*e.words))) !=
        0)
        goto out;
    memset(e.words, 0, (e.word_capacity ? e.word_capacity : 1) * sizeof(*e.words));
    if ((rc = alloc_array(ld, &e.nodes, nodes ? nodes : 1, sizeof(*e.nodes))) != 0 ||
        (t->leaf_width > 1 &&
         (rc = alloc_array(ld, &e.leaf_values, leaves ? leaves * t->leaf_width : 1,
                           sizeof(double))) != 0) ||
        (rc = alloc_array(ld, &roots, count, sizeof(*roots))) != 0 ||
        (rc = alloc_array(ld, &output_of, count, sizeof(*output_of))) != 0)
        goto out;
    for (size_t k = 0; k < count; k++) {
        roots[k] = (uint32_t)e.node_count;
        if ((rc = parse_tree(ld, json_array_get(trees, k), at_index(at, "model.trees", k), split,
                             t->leaf_width, t->raw_outputs, &e, &output_of[k])) != 0)
            goto out;
    }
    t->nodes = e.nodes;
    t->node_count = e.node_count;
    t->roots = roots;
    t->output_of = output_of;
    t->tree_count = count;
    t->leaf_values = e.leaf_values;
    t->category_words = e.words;
    t->base = base_values;
    m->trees = t;

out:
    return rc;
}

/* NaN reaches the model only through these; only trees know what to do with it. */
static int check_nan_features(loader_t *ld)
{
    char at[WHERE_SIZE], where[WHERE_SIZE], step_at[WHERE_SIZE];
    int rc = 0;

    for (size_t i = 0; i < ld->model->feature_count && rc == 0; i++) {
        const weir_feature_t *f = &ld->features[i];
        const weir_step_t *last = f->step_count ? &f->steps[f->step_count - 1] : NULL;

        at_index(at, "features", i);
        if (f->info.missing == WEIR_MISSING_NAN)
            rc = fail(ld, at_key(where, at, "missing"),
                      "\"nan\" writes NaN, which only a model of kind \"trees\" takes");
        else if (last && last->op == WEIR_STEP_ORDINAL &&
                 last->u.categories.unknown == WEIR_UNKNOWN_MISSING)
            rc = fail(ld,
                      at_key(where,
                             at_index(step_at, at_key(where, at, "transform"), f->step_count - 1),
                             "unknown"),
                      "\"missing\" writes NaN, which only a model of kind \"trees\" takes");
    }
    return rc;
}

static int parse_model(loader_t *ld, json_t *root)
{
    static const char *const dense_keys[] = {"kind", "weights", "bias", NULL};
    static const char *const mlp_keys[] = {"kind", "layers", NULL};
    /* The task each single-layer kind serves, by weir_model_kind_t. */
    static const weir_task_t kind_task[] = {WEIR_TASK_REGRESSION, WEIR_TASK_BINARY,
                                            WEIR_TASK_MULTICLASS};
    static const weir_activation_t kind_activation[] = {
        WEIR_ACTIVATION_IDENTITY, WEIR_ACTIVATION_SIGMOID, WEIR_ACTIVATION_SOFTMAX};
    weir_model_t *m = ld->model;
    weir_layer_t *layers = NULL;
    json_t *model;
    int kind;
    int rc;

    if ((rc = get_object(ld, root, "", "model", 1, &model)) != 0 ||
        (rc = get_choice(ld, model, "model", "kind", 1, kind_names, &kind)) != 0)
        goto out;
    m->kind = (weir_model_kind_t)kind;

    if (m->kind == WEIR_MODEL_TREES) {
        rc = parse_trees(ld, model);
        m->outputs = m->task == WEIR_TASK_MULTICLASS ? m->class_count : 1;
        goto out;
    }
    if ((rc = check_nan_features(ld)) != 0)
        goto out;
    if (m->kind == WEIR_MODEL_MLP) {
        if ((rc = check_keys(ld, model, "model", mlp_keys)) != 0 ||
            (rc = parse_mlp(ld, model, &layers, &m->layer_count)) != 0)
            goto out;
    } else {
        if (kind_task[kind] != m->task) {
            rc = fail(ld, "model.kind", "\"%s\" is for task \"%s\", the bundle's is \"%s\"",
                      kind_names[kind], task_names[kind_task[kind]], task_names[m->task]);
            goto out;
        }
        if ((rc = check_keys(ld, model, "model", dense_keys)) != 0 ||
            (rc = alloc_array(ld, &layers, 1, sizeof(*layers))) != 0)
            goto out;
        m->layer_count = 1;
        rc = m->kind == WEIR_MODEL_SOFTMAX ? parse_softmax(ld, model, &layers[0])
                                           : parse_single_unit(ld, model, &layers[0]);
        layers[0].activation = kind_activation[kind];
        if (rc != 0)
            goto out;
    }

    m->layers = layers;
    for (size_t l = 0; l < m->layer_count; l++)
        if (layers[l].out > m->max_width)
            m->max_width = layers[l].out;
    /* Binary models output P(positive): the second unit of a two-unit softmax. */
    m->outputs = m->task == WEIR_TASK_MULTICLASS ? m->class_count : 1;
    m->output_unit = layers[m->layer_count - 1].out == 2 && m->task == WEIR_TASK_BINARY ? 1 : 0;

out:
    return rc;
}

/* ---- reference distributions and performance ---- */

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static int parse_sample(loader_t *ld, json_t *json, const char *at, weir_reference_t *ref)
{
    double *sample = NULL;
    size_t count;
    int rc = expect_array(ld, json, at);

    if (rc != 0)
        goto out;
    count = json_array_size(json);
    if (count > WEIR_BUNDLE_MAX_SAMPLE) {
        rc = fail(ld, at, "expected at most %d values, got %zu", WEIR_BUNDLE_MAX_SAMPLE, count);
        goto out;
    }
    if ((rc = alloc_array(ld, &sample, count, sizeof(*sample))) != 0 ||
        (rc = read_numbers(ld, json, at, count, "", sample, NULL)) != 0)
        goto out;
    if (count > 0)
        qsort(sample, count, sizeof(*sample), compare_doubles);
    ref->sample = sample;
    ref->sample_len = count;

out:
    return rc;
}

static int parse_bins(loader_t *ld, json_t *json, const char *at, weir_reference_t *ref)
{
    char where[WHERE_SIZE];
    json_t *edges, *proportions;
    const double *edge_values = NULL;
    double *proportion_values = NULL;
    size_t edge_count = 0;
    int rc;

    if ((rc = expect_object(ld, json, at)) != 0 ||
        (rc = check_keys(ld, json, at, bins_keys)) != 0 ||
        (rc = get_array(ld, json, at, "edges", 1, &edges)) != 0 ||
        (rc = get_array(ld, json, at, "proportions", 1, &proportions)) != 0)
        goto out;
    /* No edges is one bin holding everything: allowed, if pointless. */
    if (json_array_size(edges) > 0 &&
        (rc = read_edges(ld, edges, at_key(where, at, "edges"), &edge_values, &edge_count)) != 0)
        goto out;
    at_key(where, at, "proportions");
    if ((rc = alloc_array(ld, &proportion_values, edge_count + 1, sizeof(double))) != 0 ||
        (rc = read_numbers(ld, proportions, where, edge_count + 1, " (one more than the edges)",
                           proportion_values, NULL)) != 0 ||
        (rc = check_proportions(ld, proportion_values, edge_count + 1, where)) != 0)
        goto out;
    ref->edges = edge_values;
    ref->bin_proportions = proportion_values;
    ref->bin_count = edge_count + 1;

out:
    return rc;
}

static int parse_categories(loader_t *ld, json_t *json, const char *at, weir_reference_t *ref)
{
    char where[WHERE_SIZE];
    const char **names = NULL;
    double *proportions = NULL;
    size_t count, i = 0;
    int rc = expect_object(ld, json, at);

    if (rc != 0)
        goto out;
    count = json_object_size(json);
    if (count == 0) {
        rc = fail(ld, at, "expected at least one category");
        goto out;
    }
    if ((rc = alloc_array(ld, &names, count, sizeof(*names))) != 0 ||
        (rc = alloc_array(ld, &proportions, count, sizeof(*proportions))) != 0)
        goto out;
    /* jansson iterates in the order of the text: the order the bundle gave. */
    for (void *it = json_object_iter(json); it; it = json_object_iter_next(json, it)) {
        const char *key = json_object_iter_key(it);
        json_t *value = json_object_iter_value(it);

        at_key(where, at, key);
        if (!json_is_number(value)) {
            rc = fail(ld, where, "expected a number");
            goto out;
        }
        if ((rc = check_text(ld, where, key, strlen(key), 0, WEIR_BUNDLE_MAX_LABEL, 1)) != 0)
            goto out;
        names[i] = weir_arena_strndup(&ld->model->memory, key, strlen(key));
        if (!names[i]) {
            rc = out_of_memory(ld);
            goto out;
        }
        proportions[i++] = json_number_value(value);
    }
    for (i = 0; i < count; i++) {
        if (proportions[i] < 0) {
            rc = fail(ld, at_key(where, at, names[i]), "must be >= 0");
            goto out;
        }
    }
    if ((rc = check_proportions(ld, proportions, count, at)) != 0)
        goto out;
    ref->categories = names;
    ref->category_proportions = proportions;
    ref->category_count = count;

out:
    return rc;
}

/* One feature's (or the score's) training-time distribution. */
static int parse_distribution(loader_t *ld, json_t *json, const char *at, const char *name,
                              weir_feature_type_t type, const weir_reference_t **out)
{
    char where[WHERE_SIZE];
    weir_reference_t *ref = NULL;
    json_t *sample, *bins, *categories;
    json_int_t n = 0;
    int numeric = type != WEIR_FEATURE_CATEGORICAL;
    int rc;

    if ((rc = expect_object(ld, json, at)) != 0 ||
        (rc = check_keys(ld, json, at, distribution_keys)) != 0)
        goto out;
    ref = weir_arena_alloc(&ld->model->memory, sizeof(*ref));
    if (!ref) {
        rc = out_of_memory(ld);
        goto out;
    }
    memset(ref, 0, sizeof(*ref));
    ref->name = name;
    ref->type = type;
    ref->missing_rate = ref->mean = ref->std = NAN;
    if ((rc = get_integer(ld, json, at, "n", 0, 0, LLONG_MAX, &n)) != 0 ||
        (rc = get_number(ld, json, at, "missing_rate", 0, &ref->missing_rate)) != 0 ||
        (rc = get_number(ld, json, at, "mean", 0, &ref->mean)) != 0 ||
        (rc = get_number(ld, json, at, "std", 0, &ref->std)) != 0)
        goto out;
    ref->n = (uint64_t)n;
    if (ref->missing_rate < 0 || ref->missing_rate > 1) {
        rc = fail(ld, at_key(where, at, "missing_rate"), "must be from 0 to 1");
        goto out;
    }
    if (ref->std < 0) {
        rc = fail(ld, at_key(where, at, "std"), "must be >= 0");
        goto out;
    }

    sample = json_object_get(json, "sample");
    bins = json_object_get(json, "bins");
    categories = json_object_get(json, "categories");
    if (!numeric && (sample || bins)) {
        rc = fail(ld, at_key(where, at, sample ? "sample" : "bins"),
                  "only for numeric and boolean features");
        goto out;
    }
    if (numeric && categories) {
        rc = fail(ld, at_key(where, at, "categories"), "only for categorical features");
        goto out;
    }
    if ((sample && (rc = parse_sample(ld, sample, at_key(where, at, "sample"), ref)) != 0) ||
        (bins && (rc = parse_bins(ld, bins, at_key(where, at, "bins"), ref)) != 0) ||
        (categories &&
         (rc = parse_categories(ld, categories, at_key(where, at, "categories"), ref)) != 0))
        goto out;
    *out = ref;

out:
    return rc;
}

static int parse_performance(loader_t *ld, json_t *reference)
{
    /* Metrics that are fractions, then those that are only >= 0, then r2. */
    static const char *const keys[] = {
        "auc",      "precision", "recall", "f1", "accuracy", "positive_rate",
        "log_loss", "mae",       "rmse",   "r2", "n",        NULL};
    weir_performance_t *p = &ld->model->performance;
    double *const metrics[] = {&p->auc,           &p->precision, &p->recall, &p->f1,   &p->accuracy,
                               &p->positive_rate, &p->log_loss,  &p->mae,    &p->rmse, &p->r2};
    const size_t fractions = 6, non_negative = 9;
    char where[WHERE_SIZE];
    json_t *json;
    json_int_t n = 0;
    int rc;

    if ((rc = get_object(ld, reference, "reference", "performance", 0, &json)) != 0 || !json ||
        (rc = check_keys(ld, json, "reference.performance", keys)) != 0)
        goto out;
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
        if ((rc = get_number(ld, json, "reference.performance", keys[i], 0, metrics[i])) != 0)
            goto out;
        at_key(where, "reference.performance", keys[i]);
        if (i < fractions && (*metrics[i] < 0 || *metrics[i] > 1)) {
            rc = fail(ld, where, "must be from 0 to 1");
            goto out;
        }
        if (i >= fractions && i < non_negative && *metrics[i] < 0) {
            rc = fail(ld, where, "must be >= 0");
            goto out;
        }
        if (i >= non_negative && *metrics[i] > 1) {
            rc = fail(ld, where, "must be <= 1");
            goto out;
        }
    }
    if ((rc = get_integer(ld, json, "reference.performance", "n", 0, 0, LLONG_MAX, &n)) != 0)
        goto out;
    p->n = (uint64_t)n;

out:
    return rc;
}

/* reference.pca: inputs by feature name, their standardisation, orthonormal
 * components and the reconstruction error measured on the reference rows. */
static int parse_pca(loader_t *ld, json_t *json)
{
    const char *at = "reference.pca";
    char where[WHERE_SIZE];
    json_t *names, *center, *scale, *components, *error;
    weir_pca_reference_t *pca = NULL;
    size_t *feature = NULL;
    double *c = NULL, *sc = NULL, *w = NULL;
    json_int_t n = 0;
    size_t d, k;
    int rc;

    if ((rc = check_keys(ld, json, at, pca_keys)) != 0 ||
        (rc = get_array(ld, json, at, "features", 1, &names)) != 0 ||
        (rc = get_array(ld, json, at, "center", 1, &center)) != 0 ||
        (rc = get_array(ld, json, at, "scale", 1, &scale)) != 0 ||
        (rc = get_array(ld, json, at, "components", 1, &components)) != 0 ||
        (rc = get_object(ld, json, at, "error", 1, &error)) != 0 ||
        (rc = check_keys(ld, error, "reference.pca.error", pca_error_keys)) != 0)
        goto out;
    d = json_array_size(names);
    k = json_array_size(components);
    if (d < 2 || d > ld->model->feature_count) {
        rc = fail(ld, at_key(where, at, "features"), "expected 2 to %zu feature names",
                  ld->model->feature_count);
        goto out;
    }
    if (k < 1 || k >= d) {
        rc = fail(ld, at_key(where, at, "components"), "expected 1 to %zu components", d - 1);
        goto out;
    }
    if ((rc = alloc_array(ld, &feature, d, sizeof(*feature))) != 0 ||
        (rc = alloc_array(ld, &c, d, sizeof(*c))) != 0 ||
        (rc = alloc_array(ld, &sc, d, sizeof(*sc))) != 0 ||
        (rc = alloc_array(ld, &w, k * d, sizeof(*w))) != 0)
        goto out;
    for (size_t i = 0; i < d; i++) {
        json_t *name = json_array_get(names, i);
        long f;
        at_index(where, "reference.pca.features", i);
        if (!json_is_string(name)) {
            rc = fail(ld, where, "expected a feature name");
            goto out;
        }
        f = weir_name_index_find(&ld->feature_names, json_string_value(name),
                                 json_string_length(name));
        if (f < 0) {
            rc = fail(ld, where, "no feature has this name");
            goto out;
        }
        if (ld->features[f].info.type == WEIR_FEATURE_CATEGORICAL) {
            rc = fail(ld, where, "only numeric and boolean features");
            goto out;
        }
        for (size_t j = 0; j < i; j++) {
            if (feature[j] == (size_t)f) {
                rc = fail(ld, where, "named twice");
                goto out;
            }
        }
        feature[i] = (size_t)f;
    }
    if ((rc = read_numbers(ld, center, "reference.pca.center", d, " (one per feature)", c, NULL)) !=
            0 ||
        (rc = read_numbers(ld, scale, "reference.pca.scale", d, " (one per feature)", sc, NULL)) !=
            0)
        goto out;
    for (size_t i = 0; i < d; i++) {
        if (!(sc[i] > 0)) {
            rc = fail(ld, at_index(where, "reference.pca.scale", i), "must be > 0");
            goto out;
        }
    }
    for (size_t r = 0; r < k; r++) {
        at_index(where, "reference.pca.components", r);
        if ((rc = read_numbers(ld, json_array_get(components, r), where, d, " (one per feature)",
                               w + r * d, NULL)) != 0)
            goto out;
    }
    /* The error is computed as sqrt(|z|^2 - |Wz|^2): the rows must be orthonormal. */
    for (size_t r = 0; r < k; r++) {
        for (size_t q = 0; q <= r; q++) {
            double dot = 0;
            for (size_t j = 0; j < d; j++)
                dot += w[r * d + j] * w[q * d + j];
            if (fabs(dot - (r == q ? 1.0 : 0.0)) > ORTHONORMAL_SLACK) {
                rc = fail(ld, at_index(where, "reference.pca.components", r),
                          "components must be orthonormal (dot product with component %zu is %g)",
                          q, dot);
                goto out;
            }
        }
    }
    pca = weir_arena_alloc(&ld->model->memory, sizeof(*pca));
    if (!pca) {
        rc = out_of_memory(ld);
        goto out;
    }
    memset(pca, 0, sizeof(*pca));
    if ((rc = get_integer(ld, error, "reference.pca.error", "n", 1, 2, LLONG_MAX, &n)) != 0 ||
        (rc = get_number(ld, error, "reference.pca.error", "mean", 1, &pca->error_mean)) != 0 ||
        (rc = get_number(ld, error, "reference.pca.error", "std", 1, &pca->error_std)) != 0)
        goto out;
    if (!(pca->error_mean > 0) || !(pca->error_std > 0)) {
        rc = fail(ld, "reference.pca.error", "mean and std must be > 0");
        goto out;
    }
    pca->features = d;
    pca->feature = feature;
    pca->center = c;
    pca->scale = sc;
    pca->components = k;
    pca->weights = w;
    pca->n = (uint64_t)n;
    ld->model->pca = pca;

out:
    return rc;
}

/* reference.calibration: a monotone map from scores to probabilities. */
static int parse_calibration(loader_t *ld, json_t *json)
{
    const char *at = "reference.calibration";
    char where[WHERE_SIZE];
    json_t *scores, *probabilities;
    weir_calibration_t *cal = NULL;
    const double *x = NULL;
    double *y = NULL;
    size_t count = 0;
    int rc;

    if (ld->model->task != WEIR_TASK_BINARY) {
        rc = fail(ld, at, "only for task \"binary\"");
        goto out;
    }
    if ((rc = check_keys(ld, json, at, calibration_keys)) != 0 ||
        (rc = get_array(ld, json, at, "scores", 1, &scores)) != 0 ||
        (rc = get_array(ld, json, at, "probabilities", 1, &probabilities)) != 0 ||
        (rc = read_edges(ld, scores, "reference.calibration.scores", &x, &count)) != 0 ||
        (rc = alloc_array(ld, &y, count, sizeof(*y))) != 0 ||
        (rc = read_numbers(ld, probabilities, "reference.calibration.probabilities", count,
                           " (one per score)", y, NULL)) != 0)
        goto out;
    for (size_t i = 0; i < count; i++) {
        at_index(where, "reference.calibration.probabilities", i);
        if (!(y[i] >= 0 && y[i] <= 1)) {
            rc = fail(ld, where, "must be from 0 to 1");
            goto out;
        }
        if (i > 0 && y[i] < y[i - 1]) {
            rc = fail(ld, where, "must not be below the one before it (%g)", y[i - 1]);
            goto out;
        }
    }
    cal = weir_arena_alloc(&ld->model->memory, sizeof(*cal));
    if (!cal) {
        rc = out_of_memory(ld);
        goto out;
    }
    cal->points = count;
    cal->scores = x;
    cal->probabilities = y;
    ld->model->calibration = cal;

out:
    return rc;
}

static int parse_reference(loader_t *ld, json_t *root)
{
    char where[WHERE_SIZE];
    weir_performance_t *p = &ld->model->performance;
    json_t *reference, *features, *score, *pca, *calibration;
    int rc;

    p->auc = p->precision = p->recall = p->f1 = p->accuracy = p->positive_rate = NAN;
    p->log_loss = p->mae = p->rmse = p->r2 = NAN;
    p->n = 0;

    if ((rc = get_object(ld, root, "", "reference", 0, &reference)) != 0 || !reference ||
        (rc = check_keys(ld, reference, "reference", reference_keys)) != 0 ||
        (rc = get_object(ld, reference, "reference", "features", 0, &features)) != 0 ||
        (rc = get_object(ld, reference, "reference", "score", 0, &score)) != 0 ||
        (rc = get_object(ld, reference, "reference", "pca", 0, &pca)) != 0 ||
        (rc = get_object(ld, reference, "reference", "calibration", 0, &calibration)) != 0)
        goto out;

    if (features) {
        for (void *it = json_object_iter(features); it; it = json_object_iter_next(features, it)) {
            const char *key = json_object_iter_key(it);
            long i = weir_name_index_find(&ld->feature_names, key, strlen(key));
            weir_feature_t *f;

            at_key(where, "reference.features", key);
            if (i < 0) {
                rc = fail(ld, where, "no feature has this name");
                goto out;
            }
            f = &ld->features[i];
            if ((rc = parse_distribution(ld, json_object_iter_value(it), where, f->info.name,
                                         f->info.type, &f->reference)) != 0)
                goto out;
        }
    }
    if (score && (rc = parse_distribution(ld, score, "reference.score", "score",
                                          WEIR_FEATURE_NUMERIC, &ld->model->score_reference)) != 0)
        goto out;
    if ((pca && (rc = parse_pca(ld, pca)) != 0) ||
        (calibration && (rc = parse_calibration(ld, calibration)) != 0))
        goto out;
    rc = parse_performance(ld, reference);

out:
    return rc;
}

const weir_pca_reference_t *weir_model_pca_reference(const weir_model_t *m)
{
    return m->pca;
}

const weir_calibration_t *weir_model_calibration(const weir_model_t *m)
{
    return m->calibration;
}

/* ---- warnings: what loads but looks wrong ---- */

/* A reference share of unknown categories above this is worth a word. */
#define UNKNOWN_SHARE_WARNING 0.05
#define MAX_WARNINGS 64

/* Whether an encoding step knows @p name, as written or as a number's canonical text. */
static int knows_category(const weir_categories_t *c, const char *name)
{
    char number[32];
    double value;
    size_t len = strlen(name);

    if (weir_name_index_find(&c->index, name, len) >= 0)
        return 1;
    if (!decimal_category(name, len, &value))
        return 0;
    len = weir_category_format(value, number, sizeof(number));
    return weir_name_index_find(&c->index, number, len) >= 0;
}

/* Per one_hot or ordinal feature with a reference: the share of the
 * reference's values the step would treat as unknown. A bundle whose
 * categories were written "1.0" while the events carry 1 scores every event
 * as unknown; this is where it shows before the first event does. */
static int collect_warnings(loader_t *ld)
{
    weir_model_t *m = ld->model;
    const char **warnings = NULL;
    size_t count = 0;
    int rc = 0;

    for (size_t i = 0; i < m->feature_count && count < MAX_WARNINGS; i++) {
        const weir_feature_t *f = &m->features[i];
        const weir_step_t *last = f->step_count ? &f->steps[f->step_count - 1] : NULL;
        const weir_reference_t *ref = f->reference;
        double unknown = 0;
        const char *example = NULL;
        char text[MESSAGE_SIZE + WEIR_BUNDLE_MAX_NAME + WEIR_BUNDLE_MAX_LABEL];
        char safe[sizeof(text)];

        if (!ref || !ref->category_count || !last ||
            (last->op != WEIR_STEP_ONE_HOT && last->op != WEIR_STEP_ORDINAL))
            continue;
        for (size_t j = 0; j < ref->category_count; j++)
            if (!knows_category(&last->u.categories, ref->categories[j])) {
                unknown += ref->category_proportions[j];
                if (!example)
                    example = ref->categories[j];
            }
        if (unknown <= UNKNOWN_SHARE_WARNING)
            continue;
        if (!warnings && (rc = alloc_array(ld, &warnings, MAX_WARNINGS, sizeof(*warnings))) != 0)
            goto out;
        snprintf(text, sizeof(text),
                 "features[%zu] (%s): %.1f%% of the reference's values are categories the %s step "
                 "does not list (such as \"%s\"); events with them get its unknown policy",
                 i, f->info.name, 100 * unknown, step_names[last->op], example);
        escape_controls(safe, sizeof(safe), text);
        warnings[count] = weir_arena_strndup(&m->memory, safe, strlen(safe));
        if (!warnings[count]) {
            rc = out_of_memory(ld);
            goto out;
        }
        count++;
    }
    m->warnings = warnings;
    m->warning_count = count;

out:
    return rc;
}

/* ---- the bundle ---- */

static int parse_bundle(loader_t *ld, json_t *root)
{
    weir_model_t *m = ld->model;
    const char *format = NULL, *description;
    int task;
    int rc;

    if (!json_is_object(root)) {
        rc = fail(ld, "", "expected a JSON object with \"format\": \"%s\"", FORMAT);
        goto out;
    }
    if ((rc = check_keys(ld, root, "", bundle_keys)) != 0 ||
        (rc = get_string(ld, root, "", "format", 1, &format)) != 0)
        goto out;
    if (strcmp(format, FORMAT) != 0) {
        rc = fail(ld, "format", "expected \"%s\", got \"%s\"", FORMAT, format);
        goto out;
    }
    m->created = "";
    if ((rc = parse_name(ld, root)) != 0 ||
        (rc = get_string(ld, root, "", "version", 1, &m->version)) != 0)
        goto out;
    if ((rc = check_text(ld, "version", m->version, strlen(m->version), 1, WEIR_BUNDLE_MAX_NAME,
                         0)) != 0)
        goto out;
    /* The description is checked but not kept: no accessor reads it. */
    if ((rc = get_string(ld, root, "", "created", 0, &m->created)) != 0 ||
        (rc = check_text(ld, "created", m->created, strlen(m->created), 0, WEIR_BUNDLE_MAX_NAME,
                         0)) != 0 ||
        (rc = parse_training(ld, root)) != 0 ||
        (rc = get_string(ld, root, "", "description", 0, &description)) != 0 ||
        (rc = get_choice(ld, root, "", "task", 1, task_names, &task)) != 0)
        goto out;
    m->task = (weir_task_t)task;
    if ((rc = parse_threshold(ld, root)) == 0 && (rc = parse_classes(ld, root)) == 0 &&
        (rc = parse_features(ld, root)) == 0 && (rc = parse_model(ld, root)) == 0 &&
        (rc = parse_reference(ld, root)) == 0)
        rc = collect_warnings(ld);

out:
    return rc;
}

int weir_model_parse(const char *json, size_t len, const char *origin, weir_model_t **out,
                     char *err, size_t errsz)
{
    loader_t ld = {.origin = origin ? origin : "<memory>", .err = err, .errsz = errsz};
    char where[WHERE_SIZE], why[MESSAGE_SIZE];
    json_t *root = NULL;
    json_error_t error;
    int rc = 0;

    *out = NULL;
    if (len > WEIR_BUNDLE_MAX_BYTES) {
        rc = fail(&ld, "", "%zu bytes, more than the cap of %zu MiB", len,
                  WEIR_BUNDLE_MAX_BYTES >> 20);
        goto out;
    }
    /* Count before the parser allocates: its tree is what a hostile text inflates. */
    if (weir_bundle_skim(json, len, where, sizeof(where), why, sizeof(why)) != 0) {
        rc = fail(&ld, where, "%s", why);
        goto out;
    }
    ld.model = calloc(1, sizeof(*ld.model));
    if (!ld.model) {
        rc = out_of_memory(&ld);
        goto out;
    }
    weir_arena_init(&ld.model->memory, ARENA_BLOCK_SIZE, MODEL_MEMORY_MAX);

    root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &error);
    if (!root) {
        rc = json_error_code(&error) == json_error_out_of_memory
                 ? out_of_memory(&ld)
                 : fail(&ld, "", "line %d column %d: %s", error.line, error.column, error.text);
        goto out;
    }
    if ((rc = parse_bundle(&ld, root)) != 0)
        goto out;
    *out = ld.model;
    ld.model = NULL;

out:
    json_decref(root);
    weir_model_destroy(ld.model);
    return rc;
}

int weir_model_load(const char *path, weir_model_t **out, char *err, size_t errsz)
{
    weir_buf_t text;
    struct stat st;
    FILE *f = NULL;
    int rc = 0;

    *out = NULL;
    /* One byte past the cap, so that a file of exactly the cap still loads. */
    weir_buf_init(&text, WEIR_BUNDLE_MAX_BYTES + 1);
    f = fopen(path, "rb");
    if (!f) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    /* A file known to be too big is refused unread; a pipe is read up to the cap. */
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
        (uintmax_t)st.st_size > WEIR_BUNDLE_MAX_BYTES) {
        rc = weir_seterr(err, errsz, WEIR_EMODEL, "%s: %jd bytes, more than the cap of %zu MiB",
                         path, (intmax_t)st.st_size, WEIR_BUNDLE_MAX_BYTES >> 20);
        goto out;
    }
    for (;;) {
        size_t room = text.max - text.len, want = room < READ_CHUNK ? room : READ_CHUNK, got;
        if (want == 0)
            break; /* over the cap: weir_model_parse() says so */
        if (weir_buf_reserve(&text, want) != 0) {
            rc = weir_seterr(err, errsz, WEIR_ENOMEM, "%s: out of memory", path);
            goto out;
        }
        got = fread(text.data + text.len, 1, want, f);
        text.len += got;
        if (got < want)
            break;
    }
    if (ferror(f)) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: cannot read: %s", path, strerror(errno));
        goto out;
    }
    rc = weir_model_parse(text.len ? (const char *)text.data : "", text.len, path, out, err, errsz);

out:
    if (f)
        fclose(f);
    weir_buf_dispose(&text);
    return rc;
}
