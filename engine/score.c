/*
 * score.c — scoring a frame given as named columns: the row API of libweir
 * that the Python package's Bundle.predict() and check_parity() call.
 *
 * Each feature finds the column named as its source once, then rows go in
 * blocks through weir_transform_row() and weir_model_predict(), exactly the
 * calls the pipeline makes for `weir run` and `weir batch`; a row that would
 * be a dead letter there gets the same reason here. A NaN number is a missing
 * value, as in pandas. It allocates per call (one block of rows), never per row.
 */
#include "row.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Rows transformed and scored at a time. */
#define SCORE_BLOCK 256

static weir_reason_t reason_of(int rc)
{
    switch (rc) {
    case WEIR_EMISSING:
        return WEIR_REASON_MISSING_VALUE;
    case WEIR_ECATEGORY:
        return WEIR_REASON_UNKNOWN_CATEGORY;
    default:
        return WEIR_REASON_INVALID_VALUE;
    }
}

static weir_value_t value_at(const weir_column_t *c, size_t row)
{
    weir_value_t v = {.kind = WEIR_VALUE_MISSING};

    if (c->numbers && !isnan(c->numbers[row])) {
        v.kind = WEIR_VALUE_NUMBER;
        v.number = c->numbers[row];
    } else if (c->strings && c->strings[row]) {
        v.kind = WEIR_VALUE_STRING;
        v.string = c->strings[row];
        v.length = strlen(c->strings[row]);
    }
    return v;
}

int weir_engine_score_columns(const weir_model_t *m, const weir_column_t *columns,
                              size_t column_count, size_t rows, float *outputs, double *scores,
                              int *classes, int *reasons, size_t *bad_features, char *err,
                              size_t errsz)
{
    size_t features, width, outs, block_rows[SCORE_BLOCK];
    const weir_column_t **source = NULL;
    weir_value_t *values = NULL;
    double *x = NULL, *workspace = NULL;
    float *block_out = NULL;
    int rc = 0;

    if (!m || (!columns && column_count) || (rows && !outputs)) {
        rc = weir_seterr(err, errsz, WEIR_EINVAL, "invalid arguments");
        goto out;
    }
    features = weir_model_feature_count(m);
    width = weir_model_columns(m);
    outs = weir_model_outputs(m);
    source = calloc(features, sizeof(*source));
    values = calloc(features, sizeof(*values));
    x = calloc(SCORE_BLOCK * width, sizeof(*x));
    workspace = calloc(weir_model_workspace_size(m, SCORE_BLOCK) + 1, sizeof(*workspace));
    block_out = calloc(SCORE_BLOCK * outs, sizeof(*block_out));
    if (!source || !values || !x || !workspace || !block_out) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t f = 0; f < features; f++) {
        const weir_feature_info_t *fi = weir_model_feature(m, f);
        for (size_t c = 0; c < column_count && !source[f]; c++)
            if (columns[c].name && !strcmp(columns[c].name, fi->source) &&
                (columns[c].numbers || columns[c].strings))
                source[f] = &columns[c];
        if (!source[f]) {
            rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "feature \"%s\": no column \"%s\"", fi->name,
                             fi->source);
            goto out;
        }
    }

    for (size_t start = 0; start < rows; start += SCORE_BLOCK) {
        size_t end = rows - start < SCORE_BLOCK ? rows : start + SCORE_BLOCK, good = 0;

        for (size_t r = start; r < end; r++) {
            size_t bad = 0;
            int trc;

            for (size_t f = 0; f < features; f++)
                values[f] = value_at(source[f], r);
            trc = weir_transform_row(m, values, x + good * width, &bad);
            if (reasons)
                reasons[r] = trc ? (int)reason_of(trc) : WEIR_REASON_NONE;
            if (bad_features)
                bad_features[r] = trc ? bad : 0;
            if (trc) {
                for (size_t k = 0; k < outs; k++)
                    outputs[r * outs + k] = NAN;
                if (scores)
                    scores[r] = NAN;
                if (classes)
                    classes[r] = -1;
                continue;
            }
            block_rows[good++] = r;
        }
        if (good && (rc = weir_model_predict(m, x, good, workspace, block_out)) != 0) {
            rc = weir_seterr(err, errsz, rc, "model prediction failed");
            goto out;
        }
        for (size_t i = 0; i < good; i++) {
            size_t r = block_rows[i];
            double score;
            int class_index;

            memcpy(outputs + r * outs, block_out + i * outs, outs * sizeof(*outputs));
            weir_model_decide(m, block_out + i * outs, &score, &class_index);
            if (scores)
                scores[r] = score;
            if (classes)
                classes[r] = class_index;
        }
    }

out:
    free(source);
    free(values);
    free(x);
    free(workspace);
    free(block_out);
    return rc;
}
