/*
 * drift_test.c — helpers shared by the drift tests (see drift_test.h).
 */
#include "drift_test.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

weir_model_t *drift_test_example_model(void)
{
    char err[512] = "";
    weir_model_t *m = NULL;
    int rc = weir_model_load(WEIR_SOURCE_DIR "/examples/model.json", &m, err, sizeof(err));
    cr_assert_eq(rc, 0, "examples/model.json: %s", err);
    return m;
}

weir_model_t *drift_test_model(const char *relaxed_json)
{
    char err[512] = "";
    weir_model_t *m = NULL;
    char *text = strdup(relaxed_json);
    cr_assert_not_null(text);
    for (char *c = text; *c; c++)
        if (*c == '\'')
            *c = '"';
    int rc = weir_model_parse(text, strlen(text), "test", &m, err, sizeof(err));
    free(text);
    cr_assert_eq(rc, 0, "bundle refused: %s", err);
    return m;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void drift_rng_seed(drift_rng_t *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix(&seed);
}

static uint64_t next(drift_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

double drift_rng_uniform(drift_rng_t *r)
{
    return (double)(next(r) >> 11) * 0x1.0p-53;
}

double drift_rng_normal(drift_rng_t *r)
{
    double u1 = drift_rng_uniform(r), u2 = drift_rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

uint64_t drift_rng_below(drift_rng_t *r, uint64_t n)
{
    return next(r) % n;
}

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double *drift_test_numbers(const json_t *array, size_t *n, int sorted)
{
    size_t len = json_array_size(array);
    double *out = malloc((len + 1) * sizeof(double));
    cr_assert_not_null(out);
    for (size_t i = 0; i < len; i++)
        out[i] = json_number_value(json_array_get(array, i));
    if (sorted)
        qsort(out, len, sizeof(double), compare);
    *n = len;
    return out;
}
