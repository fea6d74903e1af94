/*
 * test_score.c — weir_engine_score_columns(), the row API the Python package
 * scores frames with: columns found by the features' sources, NaN and NULL
 * as missing values, each unscored row with the reason `weir run` would give
 * it, and scores equal to transform + predict + decide on the same values.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "engine.h"

static const char *const bundle =
    "{\"format\": \"weir.model/1\", \"name\": \"s\", \"version\": \"1\", \"task\": \"binary\","
    " \"classes\": [\"ok\", \"fraud\"],"
    " \"features\": [{\"name\": \"amount\", \"source\": \"amount\", \"type\": \"numeric\","
    "   \"missing\": \"impute\", \"transform\": [{\"op\": \"impute\", \"value\": 10}]},"
    "  {\"name\": \"shop\", \"source\": \"shop\", \"type\": \"categorical\","
    "   \"transform\": [{\"op\": \"one_hot\", \"categories\": [\"a\", \"b\"]}]}],"
    " \"model\": {\"kind\": \"logistic\", \"weights\": [0.1, 1, -1], \"bias\": -1}}";

Test(score, scores_named_columns_with_missing_values_and_dead_letter_reasons)
{
    char err[256] = "";
    weir_model_t *m = NULL;
    const double amount[] = {5, NAN, 20, 1};
    const char *shop[] = {"a", "b", "zzz", NULL};
    weir_column_t columns[] = {{.name = "unused", .numbers = amount},
                               {.name = "shop", .strings = shop},
                               {.name = "amount", .numbers = amount}};
    float outputs[4];
    double scores[4];
    int classes[4], reasons[4];
    size_t bad[4];

    cr_assert_eq(weir_model_parse(bundle, strlen(bundle), "s", &m, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_engine_score_columns(m, columns, 3, 4, outputs, scores, classes, reasons, bad,
                                           err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(reasons[0], WEIR_REASON_NONE);
    cr_assert_float_eq(outputs[0], 1 / (1 + exp(-(0.5 + 1 - 1))), 1e-7);
    cr_assert_eq(reasons[1], WEIR_REASON_NONE, "NaN is a missing value: imputed");
    cr_assert_float_eq(outputs[1], 1 / (1 + exp(-(1.0 - 1 - 1))), 1e-7);
    cr_assert_eq(reasons[2], WEIR_REASON_UNKNOWN_CATEGORY);
    cr_assert_eq(bad[2], 1);
    cr_assert(isnan(outputs[2]) && classes[2] == -1);
    cr_assert_eq(reasons[3], WEIR_REASON_MISSING_VALUE);
    cr_assert_eq(classes[0], outputs[0] >= 0.5 ? 1 : 0);
    cr_assert_float_eq(scores[0], outputs[0], 0);
    weir_model_destroy(m);
}

Test(score, a_feature_without_its_column_is_a_schema_error)
{
    char err[256] = "";
    weir_model_t *m = NULL;
    const double amount[] = {5};
    weir_column_t columns[] = {{.name = "amount", .numbers = amount}};
    float outputs[1];

    cr_assert_eq(weir_model_parse(bundle, strlen(bundle), "s", &m, err, sizeof(err)), 0);
    cr_assert_eq(weir_engine_score_columns(m, columns, 1, 1, outputs, NULL, NULL, NULL, NULL, err,
                                           sizeof(err)),
                 WEIR_ESCHEMA);
    cr_assert_str_eq(err, "feature \"shop\": no column \"shop\"");
    weir_model_destroy(m);
}
