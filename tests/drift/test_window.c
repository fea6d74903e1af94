/*
 * test_window.c — the incremental windows give what recomputing from scratch
 * gives: on random streams (continuous, rounded with ties, discrete, outside
 * the reference's range, with missing values) pushed through a FIFO ring with
 * eviction, the KS statistic is bit-equal to weir_ks_statistic() on the sorted
 * window, Wasserstein-1 equals weir_wasserstein1() (which test_stats checks
 * against scipy) to 1e-9 relative, and bin counts equal a recount. Categorical
 * windows: lookup, counts and the pooling of rare and unseen categories.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "drift_int.h"
#include "drift_test.h"

static int compare(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef enum { CONTINUOUS, ROUNDED, DISCRETE, WIDE } shape_t;

static double draw(drift_rng_t *r, shape_t shape, double shift)
{
    double z = drift_rng_normal(r) + shift;
    switch (shape) {
    case ROUNDED:
        return round(z * 10.0) / 10.0;
    case DISCRETE:
        return (double)(int)(fabs(z) * 2.0);
    case WIDE:
        return z * 3.0;
    default:
        return z;
    }
}

/* A reference of @p n values of a shape, sorted, with decile-like bins. */
static weir_reference_t make_reference(drift_rng_t *r, shape_t shape, size_t n, double **sample,
                                       double **edges, double **props)
{
    weir_reference_t ref;
    memset(&ref, 0, sizeof(ref));
    *sample = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++)
        (*sample)[i] = draw(r, shape == WIDE ? CONTINUOUS : shape, 0.0);
    qsort(*sample, n, sizeof(double), compare);
    *edges = malloc(4 * sizeof(double));
    *props = malloc(5 * sizeof(double));
    double e[4] = {-1.0, -0.25, 0.5, 1.5};
    memcpy(*edges, e, sizeof(e));
    for (int b = 0; b < 5; b++)
        (*props)[b] = 0.2;
    ref.name = "x";
    ref.type = WEIR_FEATURE_NUMERIC;
    ref.n = n * 10;
    ref.sample = *sample;
    ref.sample_len = n;
    ref.edges = *edges;
    ref.bin_proportions = *props;
    ref.bin_count = 5;
    ref.mean = 0.0;
    ref.std = 1.0;
    return ref;
}

/* Checks the window against recomputation from the ring's values. */
static void check_against_scratch(weir_numeric_window_t *w, const weir_reference_t *ref,
                                  const double *ring, const int *present, size_t cap)
{
    double *sorted = malloc(cap * sizeof(double));
    size_t n = 0;
    for (size_t i = 0; i < cap; i++)
        if (present[i])
            sorted[n++] = ring[i];
    cr_assert_eq(w->n, n);
    if (n == 0) {
        cr_assert(isnan(weir_numeric_window_ks(w)));
        free(sorted);
        return;
    }
    qsort(sorted, n, sizeof(double), compare);
    double ks = weir_numeric_window_ks(w);
    double ks_want = weir_ks_statistic(sorted, n, ref->sample, ref->sample_len);
    cr_assert_eq(ks, ks_want, "KS incremental %.17g, from scratch %.17g", ks, ks_want);
    double w1 = weir_numeric_window_wasserstein(w);
    double w1_want = weir_wasserstein1(sorted, n, ref->sample, ref->sample_len);
    cr_assert(fabs(w1 - w1_want) <= 1e-9 * w1_want + 1e-13,
              "W1 incremental %.17g, from scratch %.17g", w1, w1_want);
    double props[5];
    weir_numeric_window_bin_props(w, props);
    for (int b = 0; b < 5; b++) {
        size_t count = 0;
        for (size_t i = 0; i < n; i++) {
            int bin = 0;
            while (bin < 4 && ref->edges[bin] < sorted[i])
                bin++;
            count += bin == b;
        }
        cr_assert_float_eq(props[b], (double)count / (double)n, 1e-15);
    }
    free(sorted);
}

static void run_stream(shape_t shape, size_t ref_n, size_t cap, size_t events, double shift,
                       double missing_rate, uint64_t seed)
{
    drift_rng_t r;
    drift_rng_seed(&r, seed);
    double *sample, *edges, *props;
    weir_reference_t ref = make_reference(&r, shape, ref_n, &sample, &edges, &props);
    weir_numeric_window_t w;
    cr_assert_eq(weir_numeric_window_init(&w, &ref, cap, 1, 1, 1), 0);
    double *ring = calloc(cap, sizeof(double));
    int *present = calloc(cap, sizeof(int));
    size_t head = 0, count = 0, checks = 0;
    for (size_t e = 0; e < events; e++) {
        if (count == cap) {
            weir_numeric_window_evict(&w, (uint32_t)head);
            present[head] = 0;
            head = (head + 1) % cap;
            count--;
        }
        size_t pos = (head + count) % cap;
        count++;
        /* the distribution wanders, so that F_w crosses F_r often */
        double drift = shift * sin((double)e / 300.0);
        if (drift_rng_uniform(&r) >= missing_rate) {
            double v = draw(&r, shape, drift);
            /* sometimes exactly a reference value */
            if (drift_rng_uniform(&r) < 0.05)
                v = sample[drift_rng_below(&r, ref_n)];
            weir_numeric_window_push(&w, (uint32_t)pos, v);
            ring[pos] = v;
            present[pos] = 1;
        }
        if (e % 97 == 0 || e + 1 == events) {
            check_against_scratch(&w, &ref, ring, present, cap);
            checks++;
        }
    }
    cr_assert_geq(checks, 3);
    weir_numeric_window_dispose(&w);
    free(ring);
    free(present);
    free(sample);
    free(edges);
    free(props);
}

Test(window, continuous_stream_matches_recomputation_through_eviction)
{
    run_stream(CONTINUOUS, 500, 300, 5000, 0.8, 0.0, 1);
}

Test(window, rounded_values_with_ties_match_recomputation)
{
    run_stream(ROUNDED, 400, 250, 5000, 0.5, 0.0, 2);
}

Test(window, discrete_values_match_recomputation)
{
    run_stream(DISCRETE, 300, 200, 4000, 1.0, 0.0, 3);
}

Test(window, values_beyond_the_reference_range_match_recomputation)
{
    run_stream(WIDE, 200, 150, 4000, 2.0, 0.0, 4);
}

Test(window, missing_values_leave_gaps_that_eviction_skips)
{
    run_stream(CONTINUOUS, 300, 200, 3000, 0.3, 0.3, 5);
}

Test(window, window_larger_than_reference_matches_recomputation)
{
    run_stream(ROUNDED, 50, 2000, 6000, 0.7, 0.1, 6);
}

Test(window, tiny_window_and_single_value_reference)
{
    run_stream(DISCRETE, 1, 3, 500, 1.0, 0.0, 7);
    run_stream(CONTINUOUS, 2, 1, 300, 1.0, 0.2, 8);
}

Test(window, window_equal_to_reference_is_zero)
{
    double sample[5] = {1, 2, 2, 3, 7}, edges[1] = {2.5}, props[2] = {0.6, 0.4};
    weir_reference_t ref = {.name = "x",
                            .sample = sample,
                            .sample_len = 5,
                            .edges = edges,
                            .bin_proportions = props,
                            .bin_count = 2,
                            .std = 2.0,
                            .n = 5};
    weir_numeric_window_t w;
    cr_assert_eq(weir_numeric_window_init(&w, &ref, 10, 1, 1, 1), 0);
    for (uint32_t i = 0; i < 5; i++)
        weir_numeric_window_push(&w, i, sample[4 - i]);
    cr_assert_eq(weir_numeric_window_ks(&w), 0.0);
    cr_assert_float_eq(weir_numeric_window_wasserstein(&w), 0.0, 1e-15);
    weir_numeric_window_dispose(&w);
}

Test(window, numeric_window_without_sample_keeps_only_bins)
{
    double edges[2] = {0, 1}, props[3] = {0.2, 0.5, 0.3};
    weir_reference_t ref = {.name = "x", .edges = edges, .bin_proportions = props, .bin_count = 3};
    weir_numeric_window_t w;
    cr_assert_eq(weir_numeric_window_init(&w, &ref, 10, 1, 1, 1), 0);
    cr_assert_not(w.want_slots);
    cr_assert(w.want_bins);
    weir_numeric_window_push(&w, 0, 0.5);
    cr_assert(isnan(weir_numeric_window_ks(&w)));
    weir_numeric_window_dispose(&w);
    weir_reference_t none = {.name = "y"};
    cr_assert_eq(weir_numeric_window_init(&w, &none, 10, 1, 1, 1), WEIR_EINVAL);
}

static weir_value_t str(const char *s)
{
    return (weir_value_t){.kind = WEIR_VALUE_STRING, .string = s, .length = strlen(s)};
}

static weir_value_t num(double x)
{
    return (weir_value_t){.kind = WEIR_VALUE_NUMBER, .number = x};
}

Test(window, categories_are_kept_by_decreasing_reference_proportion)
{
    const char *names[4] = {"b", "a", "7", "c"};
    double p[4] = {0.2, 0.5, 0.25, 0.05};
    weir_reference_t ref = {.name = "cat",
                            .type = WEIR_FEATURE_CATEGORICAL,
                            .n = 1000,
                            .categories = names,
                            .category_proportions = p,
                            .category_count = 4};
    weir_categorical_window_t w;
    cr_assert_eq(weir_categorical_window_init(&w, &ref, WEIR_FEATURE_CATEGORICAL, 8), 0);
    weir_value_t a = str("a"), b = str("b"), seven = num(7.0), other = str("zzz");
    weir_value_t missing = {.kind = WEIR_VALUE_MISSING};
    cr_assert_eq(weir_categorical_window_lookup(&w, &a), 0);
    cr_assert_eq(weir_categorical_window_lookup(&w, &seven), 1, "7.0 is written \"7\"");
    cr_assert_eq(weir_categorical_window_lookup(&w, &b), 2);
    cr_assert_eq(weir_categorical_window_lookup(&w, &other), 4, "unseen");
    cr_assert_eq(weir_categorical_window_lookup(&w, &missing), WEIR_NONE);
    weir_value_t partial = {.kind = WEIR_VALUE_STRING, .string = "ab", .length = 1};
    cr_assert_eq(weir_categorical_window_lookup(&w, &partial), 0, "length-bounded strings");
    weir_categorical_window_dispose(&w);
}

Test(window, rare_and_unseen_categories_pool_into_other)
{
    const char *names[4] = {"a", "b", "c", "d"};
    double p[4] = {0.6, 0.3, 0.09, 0.01};
    weir_reference_t ref = {.name = "cat",
                            .n = 1000,
                            .categories = names,
                            .category_proportions = p,
                            .category_count = 4};
    weir_categorical_window_t w;
    cr_assert_eq(weir_categorical_window_init(&w, &ref, WEIR_FEATURE_CATEGORICAL, 200), 0);
    /* 100 values: expected counts 60, 30, 9, 1 -> "d" (1 < 5) pools with unseen */
    for (uint32_t i = 0; i < 100; i++)
        weir_categorical_window_push(&w, i, i < 55 ? 0 : i < 85 ? 1 : i < 95 ? 2 : 4);
    double obs[8], exp[8];
    weir_cells_t cells = {0, obs, exp};
    weir_categorical_window_cells(&w, 5.0, 20, &cells);
    cr_assert_eq(cells.cells, 4);
    cr_assert_float_eq(obs[3], 5.0, 0, "d and unseen together");
    cr_assert_float_eq(exp[3], 0.01, 1e-12);
    /* a cell cap of 3 keeps the two most frequent categories and "other" */
    weir_categorical_window_cells(&w, 5.0, 3, &cells);
    cr_assert_eq(cells.cells, 3);
    cr_assert_float_eq(obs[2], 15.0, 0);
    cr_assert_float_eq(exp[2], 0.1, 1e-12);
    weir_categorical_window_dispose(&w);
}

Test(window, unseen_category_gets_a_floored_reference_share)
{
    const char *names[2] = {"a", "b"};
    double p[2] = {0.5, 0.5};
    weir_reference_t ref = {.name = "cat",
                            .n = 1000,
                            .categories = names,
                            .category_proportions = p,
                            .category_count = 2};
    weir_categorical_window_t w;
    cr_assert_eq(weir_categorical_window_init(&w, &ref, WEIR_FEATURE_CATEGORICAL, 200), 0);
    for (uint32_t i = 0; i < 100; i++)
        weir_categorical_window_push(&w, i, i < 50 ? 0 : i < 99 ? 1 : 2);
    double obs[4], exp[4];
    weir_cells_t cells = {0, obs, exp};
    weir_categorical_window_cells(&w, 5.0, 20, &cells);
    cr_assert_eq(cells.cells, 3);
    cr_assert_gt(exp[2], 0.0, "never an expected count of 0");
    cr_assert_float_eq(exp[2], 0.0005 / 1.0005, 1e-12, "half a reference row, renormalised");
    weir_categorical_window_evict(&w, 99);
    weir_categorical_window_cells(&w, 5.0, 20, &cells);
    cr_assert_eq(cells.cells, 2, "no other cell when nothing falls in it");
    weir_categorical_window_dispose(&w);
}

Test(window, boolean_reference_gives_two_proportions)
{
    double sample[4] = {0, 0, 1, 1}, edges[2] = {0, 1}, props[3] = {0.7, 0.3, 0};
    weir_reference_t ref = {.name = "flag",
                            .type = WEIR_FEATURE_BOOLEAN,
                            .n = 100,
                            .sample = sample,
                            .sample_len = 4,
                            .edges = edges,
                            .bin_proportions = props,
                            .bin_count = 3,
                            .mean = NAN};
    weir_categorical_window_t w;
    cr_assert_eq(weir_categorical_window_init(&w, &ref, WEIR_FEATURE_BOOLEAN, 10), 0);
    weir_value_t zero = num(0), two = num(2), text = str("1");
    uint32_t c0 = weir_categorical_window_lookup(&w, &zero);
    uint32_t c1 = weir_categorical_window_lookup(&w, &two);
    cr_assert_eq(c0, 0, "0 is the more frequent value (bins: 0.7)");
    cr_assert_eq(c1, 1, "any nonzero number is 1");
    cr_assert_float_eq(w.proportion[0], 0.7, 1e-12);
    cr_assert_eq(weir_categorical_window_lookup(&w, &text), WEIR_NONE);
    weir_categorical_window_dispose(&w);
    ref.mean = 0.9;
    cr_assert_eq(weir_categorical_window_init(&w, &ref, WEIR_FEATURE_BOOLEAN, 10), 0);
    cr_assert_float_eq(w.proportion[0], 0.9, 1e-12, "the mean wins when present");
    weir_categorical_window_dispose(&w);
}

/* The slot of a value found through the guide table is the one a scan of the
 * reference gives, across signs, both zeros, subnormals and a span of 600
 * decades, where the table's buckets are very uneven. */
Test(window, every_value_lands_in_the_slot_a_scan_of_the_reference_gives)
{
    static const double sample[] = {-1e300, -5.5, -1.0, -1e-310, 0.0,  1e-300, 1e-10,
                                    0.25,   0.5,  1.0,  3.0,     1e10, 1e200,  1e300};
    static const double probes[] = {
        -INFINITY, -1e308, -1e300, -7.0,   -5.5,  -2.0,  -1.0,  -0.5,  -1e-310, -1e-320, -0.0,
        0.0,       1e-320, 1e-300, 1e-200, 1e-10, 0.1,   0.25,  0.3,   0.5,     1.0,     2.0,
        3.0,       4.0,    1e10,   1e100,  1e200, 1e250, 1e300, 1e308, INFINITY};
    size_t m = sizeof(sample) / sizeof(sample[0]), np = sizeof(probes) / sizeof(probes[0]);
    weir_reference_t ref = {0};
    ref.sample = (double *)sample;
    ref.sample_len = m;
    ref.n = m;
    ref.std = 1.0;
    weir_numeric_window_t w;
    cr_assert_eq(weir_numeric_window_init(&w, &ref, np, 1, 1, 0), 0);
    for (size_t i = 0; i < np; i++) {
        double v = probes[i];
        size_t below = 0;
        while (below < m && sample[below] < v)
            below++;
        uint32_t want =
            below < m && sample[below] == v ? (uint32_t)(2 * below + 1) : (uint32_t)(2 * below);
        weir_numeric_window_push(&w, (uint32_t)i, v);
        cr_assert_eq(w.slot[i], want, "%g: slot %u, a scan gives %u", v, w.slot[i], want);
    }
    weir_numeric_window_dispose(&w);
}
