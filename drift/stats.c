/*
 * stats.c — the statistics of the drift tests on plain arrays: the KS
 * statistic and Wasserstein-1 distance of two sorted samples, the chi-square
 * tail and goodness-of-fit test, PSI, Jensen-Shannon distance and ROC AUC.
 *
 * These are the from-scratch definitions. The windows (window.c) compute the
 * same numbers incrementally, and the tests check one against the other and
 * both against scipy. Where scipy's arithmetic order decides the last bit
 * (the KS statistic is compared for equality), it is followed.
 */
#include "drift_int.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

double weir_ks_statistic(const double *a, size_t na, const double *b, size_t nb)
{
    if (na == 0 || nb == 0)
        return NAN;
    size_t i = 0, j = 0;
    double best = 0.0;
    while (i < na || j < nb) {
        /* the next distinct value of the union, and the counts <= it */
        double x = i < na && (j >= nb || a[i] <= b[j]) ? a[i] : b[j];
        while (i < na && a[i] <= x)
            i++;
        while (j < nb && b[j] <= x)
            j++;
        double diff = fabs((double)i / (double)na - (double)j / (double)nb);
        if (diff > best)
            best = diff;
    }
    return best;
}

double weir_wasserstein1(const double *a, size_t na, const double *b, size_t nb)
{
    if (na == 0 || nb == 0)
        return NAN;
    size_t i = 0, j = 0;
    double total = 0.0;
    while (i < na || j < nb) {
        double x = i < na && (j >= nb || a[i] <= b[j]) ? a[i] : b[j];
        while (i < na && a[i] <= x)
            i++;
        while (j < nb && b[j] <= x)
            j++;
        if (i == na && j == nb)
            break;
        double next = i < na && (j >= nb || a[i] <= b[j]) ? a[i] : b[j];
        total += fabs((double)i / (double)na - (double)j / (double)nb) * (next - x);
    }
    return total;
}

/* Regularised lower incomplete gamma P(a, x) by its series (x < a + 1). */
static double gamma_series(double a, double x)
{
    double term = 1.0 / a, sum = term, ap = a;
    for (int i = 0; i < 1000000; i++) {
        ap += 1.0;
        term *= x / ap;
        sum += term;
        if (fabs(term) < fabs(sum) * DBL_EPSILON)
            break;
    }
    return sum * exp(-x + a * log(x) - lgamma(a));
}

/* Regularised upper incomplete gamma Q(a, x) by its continued fraction
 * (x >= a + 1), evaluated with the modified Lentz method. */
static double gamma_fraction(double a, double x)
{
    const double tiny = DBL_MIN / DBL_EPSILON;
    double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
    for (int i = 1; i < 1000000; i++) {
        double an = -(double)i * ((double)i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < tiny)
            d = tiny;
        c = b + an / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1.0 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < DBL_EPSILON)
            break;
    }
    return exp(-x + a * log(x) - lgamma(a)) * h;
}

double weir_chi2_sf(double x, double df)
{
    if (isnan(x) || !(df > 0.0))
        return NAN;
    if (x <= 0.0)
        return 1.0;
    if (isinf(x))
        return 0.0;
    double a = df / 2.0, hx = x / 2.0;
    if (hx < a + 1.0)
        return 1.0 - gamma_series(a, hx);
    return gamma_fraction(a, hx);
}

int weir_chisquare(const double *observed, const double *expected, size_t k, double *statistic,
                   double *p_value)
{
    int rc = WEIR_EINVAL;
    double stat = 0.0;
    if (k < 2)
        goto out;
    for (size_t i = 0; i < k; i++) {
        if (!(expected[i] > 0.0))
            goto out;
        double diff = observed[i] - expected[i];
        stat += diff * diff / expected[i];
    }
    *statistic = stat;
    *p_value = weir_chi2_sf(stat, (double)(k - 1));
    rc = 0;
out:
    return rc;
}

double weir_psi(const double *actual, const double *expected, size_t k, double epsilon)
{
    double psi = 0.0;
    for (size_t i = 0; i < k; i++) {
        double a = actual[i] > epsilon ? actual[i] : epsilon;
        double e = expected[i] > epsilon ? expected[i] : epsilon;
        psi += (a - e) * log(a / e);
    }
    return psi;
}

double weir_js_distance(const double *p, const double *q, size_t k)
{
    double sp = 0.0, sq = 0.0;
    for (size_t i = 0; i < k; i++) {
        sp += p[i];
        sq += q[i];
    }
    if (!(sp > 0.0) || !(sq > 0.0))
        return NAN;
    double left = 0.0, right = 0.0;
    for (size_t i = 0; i < k; i++) {
        double a = p[i] / sp, b = q[i] / sq, m = (a + b) / 2.0;
        if (a > 0.0)
            left += a * log(a / m);
        if (b > 0.0)
            right += b * log(b / m);
    }
    double js = (left + right) / log(2.0);
    return js > 0.0 ? sqrt(js / 2.0) : 0.0;
}

static int compare_auc_pairs(const void *x, const void *y)
{
    const weir_auc_pair_t *a = x, *b = y;
    return (a->score > b->score) - (a->score < b->score);
}

double weir_roc_auc(weir_auc_pair_t *pairs, size_t n)
{
    uint64_t positives = 0;
    for (size_t i = 0; i < n; i++)
        positives += pairs[i].positive != 0;
    uint64_t negatives = n - positives;
    if (positives == 0 || negatives == 0)
        return NAN;
    qsort(pairs, n, sizeof(*pairs), compare_auc_pairs);
    /* Mann-Whitney U from average ranks: a tie block shares the mean of its ranks. */
    double rank_sum = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        uint64_t pos = 0;
        while (j < n && pairs[j].score == pairs[i].score) {
            pos += pairs[j].positive != 0;
            j++;
        }
        double mean_rank = ((double)(i + 1) + (double)j) / 2.0;
        rank_sum += mean_rank * (double)pos;
        i = j;
    }
    double u = rank_sum - (double)positives * ((double)positives + 1.0) / 2.0;
    return u / ((double)positives * (double)negatives);
}
