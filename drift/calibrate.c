/*
 * calibrate.c — p-values for the distance tests (PSI, Jensen-Shannon,
 * Wasserstein-1), which have no sample-size term of their own: on a window
 * of 300 values against a reference of 170, the JS distance of two samples
 * of one distribution is about 0.12, above any fixed threshold.
 *
 * At load time, for each such test, windows are drawn from the reference
 * itself (fixed seed: the same windows at every load) and the statistic is
 * computed on each. Its null distribution, scaled by the effective sample
 * size n_eff = n N / (n + N) (the two-sample noise of a window of n against
 * a reference of N), is fitted by a scaled chi-square with matched mean and
 * variance (Satterthwaite): Q = n_eff T^power ~ scale chi2(df), power 1 for
 * PSI (a chi-square-like divergence), 2 for the JS distance and Wasserstein
 * (whose squares are). The evaluation then turns each statistic into a
 * p-value at the window's actual size, and the p-values of every test go
 * through the same multiple-testing correction. docs/drift.md has the
 * measurements that support the fit.
 */
#include "drift_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t weir__rng_next(weir_rng_t *r)
{
    uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

double weir__rng_uniform(weir_rng_t *r)
{
    return (double)(weir__rng_next(r) >> 11) * 0x1.0p-53;
}

double weir__n_eff(uint64_t n, uint64_t reference)
{
    if (reference == 0)
        return (double)n;
    return (double)n * (double)reference / ((double)n + (double)reference);
}

double weir__null_pvalue(const weir_null_t *nl, double t, double n_eff)
{
    if (!nl->fitted || isnan(t))
        return NAN;
    double q = n_eff * (nl->power == 2 ? t * t : t);
    if (!(nl->scale > 0.0))
        return q > nl->max * (1.0 + 1e-9) + 1e-12 ? 0.0 : 1.0;
    return weir_chi2_sf(q / nl->scale, nl->df);
}

static void fit(weir_null_t *nl, int power, const double *q, size_t n)
{
    double mean = 0.0, var = 0.0, max = 0.0;
    for (size_t i = 0; i < n; i++) {
        mean += q[i];
        if (q[i] > max)
            max = q[i];
    }
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        var += (q[i] - mean) * (q[i] - mean);
    var /= (double)(n - 1);
    nl->fitted = 1;
    nl->power = power;
    nl->max = max;
    /* a null with (almost) no spread: only a larger value is a change */
    if (!(var > 1e-12 * (mean * mean + 1e-300)) || !(mean > 0.0)) {
        nl->scale = 0.0;
        nl->df = 0.0;
        return;
    }
    nl->scale = var / (2.0 * mean);
    nl->df = 2.0 * mean * mean / var;
}

/* Index of the cumulative proportion that u falls in. */
static size_t draw_cell(const double *cum, size_t k, double u)
{
    size_t lo = 0, hi = k - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* Draws of m values over k cells of proportions @p p: PSI and JS of each. */
static int calibrate_proportions(const double *p, size_t k, uint64_t m, uint32_t draws,
                                 double psi_epsilon, uint64_t seed, weir_null_t *psi,
                                 weir_null_t *js)
{
    int rc = WEIR_ENOMEM;
    double *cum = malloc(k * sizeof(double)), *props = malloc(k * sizeof(double));
    uint64_t *counts = malloc(k * sizeof(uint64_t));
    double *q_psi = malloc(draws * sizeof(double)), *q_js = malloc(draws * sizeof(double));
    weir_rng_t rng = {seed};
    if (!cum || !props || !counts || !q_psi || !q_js)
        goto out;
    double acc = 0.0;
    for (size_t i = 0; i < k; i++)
        cum[i] = (acc += p[i]);
    for (size_t i = 0; i < k; i++)
        cum[i] /= acc;
    for (uint32_t t = 0; t < draws; t++) {
        memset(counts, 0, k * sizeof(uint64_t));
        for (uint64_t i = 0; i < m; i++)
            counts[draw_cell(cum, k, weir__rng_uniform(&rng))]++;
        for (size_t i = 0; i < k; i++)
            props[i] = (double)counts[i] / (double)m;
        q_psi[t] = (double)m * weir_psi(props, p, k, psi_epsilon);
        double j = weir_js_distance(props, p, k);
        q_js[t] = (double)m * j * j;
    }
    if (psi)
        fit(psi, 1, q_psi, draws);
    if (js)
        fit(js, 2, q_js, draws);
    rc = 0;
out:
    free(cum);
    free(props);
    free(counts);
    free(q_psi);
    free(q_js);
    return rc;
}

int weir__calibrate_cells(const double *expected, size_t cells, uint64_t m, uint32_t draws,
                          double psi_epsilon, uint64_t seed, weir_null_t *psi, weir_null_t *js)
{
    if (cells < 2 || m == 0)
        return 0;
    return calibrate_proportions(expected, cells, m, draws, psi_epsilon, seed, psi, js);
}

/* Draws of m values from the reference sample: W1 of each against the sample,
 * both on the sample's distinct values (the window's can be no others). */
static int calibrate_wasserstein(const weir_numeric_window_t *w, uint64_t m, uint32_t draws,
                                 uint64_t seed, weir_null_t *out)
{
    int rc = WEIR_ENOMEM;
    size_t r = w->sample_size, dm = w->distinct;
    uint32_t *distinct_of = malloc(r * sizeof(uint32_t));
    uint64_t *counts = malloc(dm * sizeof(uint64_t));
    double *q = malloc(draws * sizeof(double));
    weir_rng_t rng = {seed};
    if (!distinct_of || !counts || !q)
        goto out;
    for (size_t j = 0, i = 0; j < dm; j++)
        while (i < w->cum[j])
            distinct_of[i++] = (uint32_t)j;
    for (uint32_t t = 0; t < draws; t++) {
        memset(counts, 0, dm * sizeof(uint64_t));
        for (uint64_t i = 0; i < m; i++)
            counts[distinct_of[weir__rng_next(&rng) % r]]++;
        double below = 0.0, total = 0.0;
        for (size_t j = 0; j + 1 < dm; j++) {
            below += (double)counts[j];
            total += fabs(below / (double)m - (double)w->cum[j] / (double)r) *
                     (w->values[j + 1] - w->values[j]);
        }
        double t1 = total / w->scale;
        q[t] = (double)m * t1 * t1;
    }
    fit(out, 2, q, draws);
    rc = 0;
out:
    free(distinct_of);
    free(counts);
    free(q);
    return rc;
}

int weir__calibrate_numeric(const weir_numeric_window_t *w, uint64_t m_bins, uint64_t m_sample,
                            uint32_t draws, double psi_epsilon, uint64_t seed, weir_null_t *psi,
                            weir_null_t *js, weir_null_t *wasserstein)
{
    int rc = 0;
    if ((psi || js) && w->want_bins && w->bins >= 2 && m_bins > 0)
        rc = calibrate_proportions(w->bin_ref, w->bins, m_bins, draws, psi_epsilon, seed, psi, js);
    if (rc == 0 && wasserstein && w->want_lists && w->distinct > 0 && m_sample > 0)
        rc = calibrate_wasserstein(w, m_sample, draws, seed ^ UINT64_C(0x5DEECE66D), wasserstein);
    return rc;
}
