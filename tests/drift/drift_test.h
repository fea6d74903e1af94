/*
 * drift_test.h — what the drift tests share: the example bundle, golden files,
 * a small deterministic random generator (so that tests need no seeds from
 * the environment) and JSON array readers.
 */
#ifndef WEIR_DRIFT_TEST_H
#define WEIR_DRIFT_TEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "drift.h"
#include "scoring.h"

/** @brief examples/model.json, loaded once per call; the test fails if it does not load. */
weir_model_t *drift_test_example_model(void);

/** @brief A model from a bundle text (single quotes allowed for double quotes). */
weir_model_t *drift_test_model(const char *relaxed_json);

/** @brief xoshiro-style generator: uniform [0, 1), normal, integer below n. */
typedef struct {
    uint64_t s[4];
} drift_rng_t;
void drift_rng_seed(drift_rng_t *r, uint64_t seed);
double drift_rng_uniform(drift_rng_t *r);
double drift_rng_normal(drift_rng_t *r);
uint64_t drift_rng_below(drift_rng_t *r, uint64_t n);

/** @brief A JSON array of numbers as a malloc'd double array (sorted if asked). */
double *drift_test_numbers(const json_t *array, size_t *n, int sorted);

#endif
