/*
 * transform.c — the feature transforms: one event's field values in, one row
 * of the model's input out. This is the shared spec of weir.model/1 (see
 * docs/bundle.md), the code that training-time feature engineering must agree
 * with, so every rule here is spelled out there.
 *
 * The loader has already checked each chain's shape (impute only first, one
 * encoding step last for categorical features, a one-hot bucketize last), so
 * the code below only deals with values: missing ones, wrong types, unknown
 * categories and numbers that stop being finite. Arithmetic and the row are
 * in double, as in the Python libraries the models come from. A missing value
 * becomes NaN only where the bundle says so ("missing": "nan", for trees,
 * which route it). Nothing allocates.
 */
#include "scoring_int.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* A categorical value given as a number: "%lld" for integral values (within
 * long long), "%.17g" otherwise, so 7 and 7.0 are both "7" and 0.1 keeps all
 * of its digits. */
#define CATEGORY_NUMBER_SIZE 32

uint32_t weir_hash_fnv1a(const char *s, size_t len, uint32_t seed)
{
    uint32_t h = 2166136261u ^ seed;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* numpy.digitize(x, edges, right=False): the number of edges <= x. */
static size_t bucket_of(const weir_step_t *step, double x)
{
    const double *edges = step->u.bucketize.edges;
    size_t lo = 0, hi = step->u.bucketize.edge_count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (edges[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Stores a finite double, refusing what a float cannot hold: the format's
 * values stay within float range whatever the model computes in. */
static int store(double *column, double x)
{
    int rc = 0;

    if (!isfinite(x) || fabs(x) > FLT_MAX)
        rc = WEIR_ENONFINITE;
    else
        *column = x;
    return rc;
}

/* A NaN number is how pandas and numpy write a missing value: where the
 * bundle says what a missing value becomes, NaN is one. */
static int is_missing(const weir_feature_t *f, const weir_value_t *value)
{
    return value->kind == WEIR_VALUE_MISSING ||
           (value->kind == WEIR_VALUE_NUMBER && isnan(value->number) &&
            (f->info.missing == WEIR_MISSING_IMPUTE || f->info.missing == WEIR_MISSING_NAN));
}

static int numeric_feature(const weir_feature_t *f, const weir_value_t *value, double *columns)
{
    int rc = 0;
    size_t first = 0;
    double x = 0;

    if (is_missing(f, value)) {
        if (f->info.missing == WEIR_MISSING_NAN) {
            columns[0] = NAN;
            goto out;
        }
        if (f->info.missing != WEIR_MISSING_IMPUTE) {
            rc = WEIR_EMISSING;
            goto out;
        }
        x = f->steps[0].u.impute.number;
        first = 1;
    } else if (value->kind == WEIR_VALUE_NUMBER) {
        x = value->number;
        if (!isfinite(x)) {
            rc = WEIR_ENONFINITE;
            goto out;
        }
    } else {
        rc = WEIR_ETYPE;
        goto out;
    }

    if (f->info.type == WEIR_FEATURE_BOOLEAN) {
        columns[0] = x != 0 ? 1.0 : 0.0;
        goto out;
    }

    for (size_t i = first; i < f->step_count; i++) {
        const weir_step_t *step = &f->steps[i];
        switch (step->op) {
        case WEIR_STEP_CLIP:
            x = fmin(fmax(x, step->u.clip.min), step->u.clip.max);
            break;
        case WEIR_STEP_LOG1P:
            x = log1p(x);
            break;
        case WEIR_STEP_STANDARDIZE:
            x = (x - step->u.standardize.mean) / step->u.standardize.std;
            break;
        case WEIR_STEP_MIN_MAX:
            x = (x - step->u.min_max.min) / (step->u.min_max.max - step->u.min_max.min);
            break;
        case WEIR_STEP_BUCKETIZE:
            if (step->u.bucketize.one_hot) {
                /* The loader made this the last step: it writes the feature's columns. */
                memset(columns, 0, f->info.width * sizeof(*columns));
                columns[bucket_of(step, x)] = 1.0;
                goto out;
            }
            x = (double)bucket_of(step, x);
            break;
        case WEIR_STEP_IMPUTE:  /* the value is present: nothing to fill */
        case WEIR_STEP_ONE_HOT: /* never in a numeric chain */
        case WEIR_STEP_HASH:
        case WEIR_STEP_ORDINAL:
            break;
        }
        /* log1p(x <= -1), or a step that overflowed. */
        if (!isfinite(x)) {
            rc = WEIR_ENONFINITE;
            goto out;
        }
    }
    rc = store(&columns[0], x);

out:
    return rc;
}

size_t weir_category_format(double x, char *buf, size_t size)
{
    int n;

    if (x == trunc(x) && fabs(x) < 0x1p63)
        n = snprintf(buf, size, "%lld", (long long)x);
    else
        n = snprintf(buf, size, "%.17g", x);
    return (size_t)n;
}

/* one_hot: a 1 in the category's column; ordinal: its code in the one column. */
static int encode(const weir_step_t *encoding, const char *category, size_t length,
                  const weir_feature_t *f, double *columns)
{
    const weir_categories_t *c = &encoding->u.categories;
    long position = category ? weir_name_index_find(&c->index, category, length) : -1;
    int ordinal = encoding->op == WEIR_STEP_ORDINAL;
    int rc = 0;

    if (position >= 0) {
        if (ordinal)
            columns[0] = (double)c->column_of[position];
        else
            columns[c->column_of[position]] = 1.0;
        goto out;
    }
    if (!category && f->info.missing == WEIR_MISSING_NAN) {
        columns[0] = NAN;
        goto out;
    }
    switch (c->unknown) {
    case WEIR_UNKNOWN_ERROR:
        rc = WEIR_ECATEGORY;
        break;
    case WEIR_UNKNOWN_IGNORE:
        break;
    case WEIR_UNKNOWN_EXTRA:
        columns[f->info.width - 1] = 1.0;
        break;
    case WEIR_UNKNOWN_MISSING:
        columns[0] = NAN;
        break;
    case WEIR_UNKNOWN_VALUE:
        columns[0] = c->unknown_value;
        break;
    }

out:
    return rc;
}

static int categorical_feature(const weir_feature_t *f, const weir_value_t *value, double *columns)
{
    int rc = 0;
    const weir_step_t *encoding = &f->steps[f->step_count - 1];
    char number[CATEGORY_NUMBER_SIZE];
    const char *category = NULL; /* NULL: an unknown category, from a missing value */
    size_t length = 0;

    memset(columns, 0, f->info.width * sizeof(*columns));

    if (value->kind == WEIR_VALUE_MISSING ||
        (value->kind == WEIR_VALUE_NUMBER && isnan(value->number) &&
         f->info.missing != WEIR_MISSING_ERROR)) {
        if (f->info.missing == WEIR_MISSING_IMPUTE) {
            category = f->steps[0].u.impute.string;
            length = f->steps[0].u.impute.length;
        } else if (f->info.missing == WEIR_MISSING_ERROR) {
            rc = WEIR_EMISSING;
            goto out;
        }
    } else if (value->kind == WEIR_VALUE_NUMBER) {
        if (!isfinite(value->number)) {
            rc = WEIR_ENONFINITE;
            goto out;
        }
        length = weir_category_format(value->number, number, sizeof(number));
        category = number;
    } else if (value->kind == WEIR_VALUE_STRING) {
        category = value->string;
        length = value->length;
    } else {
        rc = WEIR_ETYPE;
        goto out;
    }

    if (encoding->op == WEIR_STEP_HASH) {
        if (category)
            columns[weir_hash_fnv1a(category, length, encoding->u.hash.seed) %
                    encoding->u.hash.buckets] = 1.0;
        goto out;
    }
    rc = encode(encoding, category, length, f, columns);

out:
    return rc;
}

int weir_transform_row(const weir_model_t *m, const weir_value_t *values, double *row,
                       size_t *bad_feature)
{
    int rc = 0;

    for (size_t i = 0; i < m->feature_count; i++) {
        const weir_feature_t *f = &m->features[i];
        double *columns = row + f->info.column;

        if (f->info.type == WEIR_FEATURE_CATEGORICAL)
            rc = categorical_feature(f, &values[i], columns);
        else
            rc = numeric_feature(f, &values[i], columns);
        if (rc != 0) {
            if (bad_feature)
                *bad_feature = i;
            break;
        }
    }
    return rc;
}
