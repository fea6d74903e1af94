/*
 * scoring_test.h — what the scoring tests share: a model from a jansson tree
 * (the golden files embed their bundles), and golden-file event values as
 * weir_value_t. Golden values are JSON null (missing), a number, a string, or
 * {"number": "nan" | "inf" | "-inf"} for what JSON cannot write.
 */
#ifndef WEIR_SCORING_TEST_H
#define WEIR_SCORING_TEST_H

#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scoring.h"

/* Parses @p bundle as a weir.model/1 text; the test fails if it does not load. */
static inline weir_model_t *scoring_test_model(const json_t *bundle)
{
    char err[512] = "";
    weir_model_t *m = NULL;
    char *text = json_dumps(bundle, JSON_COMPACT);
    int rc;

    cr_assert_not_null(text);
    rc = weir_model_parse(text, strlen(text), "golden", &m, err, sizeof(err));
    free(text);
    cr_assert_eq(rc, 0, "bundle refused: %s", err);
    return m;
}

static inline weir_value_t scoring_test_value(const json_t *v)
{
    weir_value_t value = {.kind = WEIR_VALUE_MISSING};

    if (json_is_number(v)) {
        value.kind = WEIR_VALUE_NUMBER;
        value.number = json_number_value(v);
    } else if (json_is_string(v)) {
        value.kind = WEIR_VALUE_STRING;
        value.string = json_string_value(v);
        value.length = json_string_length(v);
    } else if (json_is_object(v)) {
        const char *special = json_string_value(json_object_get(v, "number"));
        cr_assert_not_null(special);
        value.kind = WEIR_VALUE_NUMBER;
        value.number = !strcmp(special, "nan")   ? NAN
                       : !strcmp(special, "inf") ? INFINITY
                                                 : -INFINITY;
    }
    return value;
}

#endif
