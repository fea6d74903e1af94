/*
 * test_stats.c — the standalone statistics against scipy (golden/stats.json,
 * made by golden/make_golden.py): KS p-values over every region of the
 * Simard-L'Ecuyer method selection, KS statistics bit-equal on samples with
 * ties, Wasserstein-1, chi-square tails and tests, PSI, JS and ROC AUC.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "drift.h"
#include "drift_int.h"
#include "drift_test.h"
#include "support.h"

static json_t *golden;

static void load(void)
{
    golden = weir_test_load_json("drift/golden/stats.json");
}

static void unload(void)
{
    json_decref(golden);
}

TestSuite(stats, .init = load, .fini = unload);

/* |a - b| <= atol, or relatively close for tiny values */
static int close_to(double a, double b, double atol, double rtol)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return fabs(a - b) <= atol || fabs(a - b) <= rtol * fabs(b);
}

Test(stats, ks_pvalue_matches_scipy_kstwo_in_every_region)
{
    json_t *cases = json_object_get(golden, "ks_pvalue");
    size_t i;
    json_t *c;
    double worst = 0.0, worst_rel = 0.0;
    cr_assert_gt(json_array_size(cases), 300);
    json_array_foreach(cases, i, c)
    {
        double d = json_number_value(json_array_get(c, 0));
        uint64_t n1 = (uint64_t)json_integer_value(json_array_get(c, 1));
        uint64_t n2 = (uint64_t)json_integer_value(json_array_get(c, 2));
        double want = json_number_value(json_array_get(c, 3));
        double got = weir_ks_pvalue(d, n1, n2);
        cr_assert(fabs(got - want) <= 1e-6,
                  "ks_2samp p(d=%.12g, n1=%llu, n2=%llu): %.17g, scipy %.17g", d,
                  (unsigned long long)n1, (unsigned long long)n2, got, want);
        /* and relatively close where the value is small, down to 1e-300 */
        if (want > 1e-300)
            cr_assert(fabs(got - want) <= 1e-7 * want + 1e-15,
                      "relative: p(d=%.12g, n1=%llu, n2=%llu) = %.17g, scipy %.17g", d,
                      (unsigned long long)n1, (unsigned long long)n2, got, want);
        if (fabs(got - want) > worst)
            worst = fabs(got - want);
        if (want > 1e-300 && fabs(got - want) / want > worst_rel)
            worst_rel = fabs(got - want) / want;
    }
    cr_log_info("ks p-values: worst absolute difference %.3g, worst relative %.3g", worst,
                worst_rel);
}

Test(stats, ks_statistic_is_bit_equal_to_scipy_on_samples_with_ties)
{
    json_t *cases = json_object_get(golden, "ks_samples");
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        size_t na, nb;
        double *a = drift_test_numbers(json_object_get(c, "a"), &na, 1);
        double *b = drift_test_numbers(json_object_get(c, "b"), &nb, 1);
        double d = weir_ks_statistic(a, na, b, nb);
        cr_assert_eq(d, json_number_value(json_object_get(c, "d")), "case %zu: D %.17g vs %.17g", i,
                     d, json_number_value(json_object_get(c, "d")));
        double p = weir_ks_pvalue(d, na, nb), want = json_number_value(json_object_get(c, "p"));
        cr_assert(close_to(p, want, 1e-6, 1e-7), "case %zu (n1=%zu n2=%zu): p %.17g vs %.17g", i,
                  na, nb, p, want);
        double w = weir_wasserstein1(a, na, b, nb),
               w_want = json_number_value(json_object_get(c, "w1"));
        cr_assert(close_to(w, w_want, 1e-12, 1e-10), "case %zu: W1 %.17g vs %.17g", i, w, w_want);
        free(a);
        free(b);
    }
}

Test(stats, chi2_sf_matches_scipy_down_to_tiny_tails_and_large_df)
{
    json_t *cases = json_object_get(golden, "chi2_sf");
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        double x = json_number_value(json_array_get(c, 0));
        double df = json_number_value(json_array_get(c, 1));
        double want = json_number_value(json_array_get(c, 2));
        double got = weir_chi2_sf(x, df);
        cr_assert(fabs(got - want) <= 1e-6, "chi2.sf(%g, %g) = %.17g, scipy %.17g", x, df, got,
                  want);
        cr_assert(close_to(got, want, 1e-300, 1e-9),
                  "relative: chi2.sf(%g, %g) = %.17g, scipy %.17g", x, df, got, want);
    }
}

Test(stats, chisquare_matches_scipy)
{
    json_t *cases = json_object_get(golden, "chisquare");
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        size_t k, k2;
        double *obs = drift_test_numbers(json_object_get(c, "observed"), &k, 0);
        double *exp = drift_test_numbers(json_object_get(c, "expected"), &k2, 0);
        double stat, p;
        cr_assert_eq(weir_chisquare(obs, exp, k, &stat, &p), 0);
        cr_assert(close_to(stat, json_number_value(json_object_get(c, "statistic")), 1e-9, 1e-12));
        cr_assert(close_to(p, json_number_value(json_object_get(c, "p")), 1e-300, 1e-9),
                  "case %zu: p %.17g vs %.17g", i, p, json_number_value(json_object_get(c, "p")));
        free(obs);
        free(exp);
    }
}

Test(stats, chisquare_refuses_a_zero_expected_count)
{
    double obs[2] = {1, 2}, exp[2] = {3, 0}, stat, p;
    cr_assert_eq(weir_chisquare(obs, exp, 2, &stat, &p), WEIR_EINVAL);
    cr_assert_eq(weir_chisquare(obs, exp, 1, &stat, &p), WEIR_EINVAL);
}

Test(stats, psi_with_epsilon_floor_and_js_distance_match_numpy)
{
    json_t *cases = json_object_get(golden, "divergences");
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        size_t k, k2;
        double *a = drift_test_numbers(json_object_get(c, "actual"), &k, 0);
        double *e = drift_test_numbers(json_object_get(c, "expected"), &k2, 0);
        double eps = json_number_value(json_object_get(c, "epsilon"));
        double psi = weir_psi(a, e, k, eps), js = weir_js_distance(a, e, k);
        cr_assert(close_to(psi, json_number_value(json_object_get(c, "psi")), 1e-12, 1e-10));
        cr_assert(close_to(js, json_number_value(json_object_get(c, "js")), 1e-12, 1e-10),
                  "case %zu: js %.17g vs %.17g", i, js,
                  json_number_value(json_object_get(c, "js")));
        free(a);
        free(e);
    }
}

Test(stats, js_distance_is_zero_for_equal_and_one_for_disjoint)
{
    double p[3] = {0.2, 0.3, 0.5}, q[3] = {2, 3, 5}, r[3] = {0, 0, 1}, s[3] = {1, 0, 0};
    cr_assert_float_eq(weir_js_distance(p, q, 3), 0.0, 1e-12);
    cr_assert_float_eq(weir_js_distance(r, s, 3), 1.0, 1e-12);
    double zero[3] = {0, 0, 0};
    cr_assert(isnan(weir_js_distance(zero, p, 3)));
}

Test(stats, roc_auc_counts_ties_half)
{
    json_t *cases = json_object_get(golden, "auc");
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        json_t *scores = json_object_get(c, "scores"), *labels = json_object_get(c, "labels");
        size_t n = json_array_size(scores);
        weir_auc_pair_t *pairs = malloc(n * sizeof(*pairs));
        for (size_t k = 0; k < n; k++)
            pairs[k] = (weir_auc_pair_t){json_number_value(json_array_get(scores, k)),
                                         (int)json_integer_value(json_array_get(labels, k))};
        double auc = weir_roc_auc(pairs, n);
        cr_assert(close_to(auc, json_number_value(json_object_get(c, "auc")), 1e-12, 0));
        free(pairs);
    }
    weir_auc_pair_t one_class[2] = {{0.1, 1}, {0.2, 1}};
    cr_assert(isnan(weir_roc_auc(one_class, 2)));
}

Test(stats, ks_and_wasserstein_of_empty_samples_are_nan)
{
    double a[1] = {1.0};
    cr_assert(isnan(weir_ks_statistic(a, 1, a, 0)));
    cr_assert(isnan(weir_wasserstein1(a, 0, a, 1)));
    cr_assert(isnan(weir_ks_pvalue(0.5, 0, 10)));
    cr_assert(isnan(weir_ks_pvalue(1.0, 1, 1))); /* scipy: n rounds to 0 */
    cr_assert_eq(weir_ks_sf(0.0, 10), 1.0);
    cr_assert_eq(weir_ks_sf(1.0, 10), 0.0);
}
