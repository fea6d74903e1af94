/*
 * test_training.c — the bundle's training window is kept as written, and a
 * bundle without one reads as "".
 */
#include <criterion/criterion.h>
#include <string.h>

#include "scoring.h"

static const char *with_window =
    "{\"format\":\"weir.model/1\",\"name\":\"m\",\"version\":\"1\","
    "\"training\":{\"from\":\"2026-01-01T00:00:00Z\",\"to\":\"2026-03-31T23:59:59Z\","
    "\"rows\":10},\"task\":\"binary\","
    "\"features\":[{\"name\":\"x\",\"source\":\"x\",\"type\":\"numeric\"}],"
    "\"model\":{\"kind\":\"logistic\",\"weights\":[1],\"bias\":0}}";

Test(training, window_is_kept_as_written)
{
    weir_model_t *m;
    char err[512];
    cr_assert_eq(
        weir_model_parse(with_window, strlen(with_window), "<memory>", &m, err, sizeof(err)), 0,
        "%s", err);
    const char *from, *to;
    weir_model_training(m, &from, &to);
    cr_assert_str_eq(from, "2026-01-01T00:00:00Z");
    cr_assert_str_eq(to, "2026-03-31T23:59:59Z");
    weir_model_destroy(m);
}

Test(training, absent_window_reads_empty)
{
    const char *text = "{\"format\":\"weir.model/1\",\"name\":\"m\",\"version\":\"1\","
                       "\"task\":\"binary\","
                       "\"features\":[{\"name\":\"x\",\"source\":\"x\",\"type\":\"numeric\"}],"
                       "\"model\":{\"kind\":\"logistic\",\"weights\":[1],\"bias\":0}}";
    weir_model_t *m;
    char err[512];
    cr_assert_eq(weir_model_parse(text, strlen(text), "<memory>", &m, err, sizeof(err)), 0, "%s",
                 err);
    const char *from, *to;
    weir_model_training(m, &from, &to);
    cr_assert_str_eq(from, "");
    cr_assert_str_eq(to, "");
    weir_model_destroy(m);
}
