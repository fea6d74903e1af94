/*
 * stats.c — the statistics of the drift tests on plain arrays: the KS
 * statistic and Wasserstein-1 distance of two sorted samples, the chi-square
 * tail, goodness-of-fit and contingency tests, the beta-binomial tail, PSI,
 * Jensen-Shannon distance, ROC AUC and the confidence-based performance
 * estimate (CBPE).
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
#include <string.h>

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

int weir_chi2_contingency(const double *a, const double *b, size_t k, int yates, double *statistic,
                          double *p_value)
{
    double na = 0.0, nb = 0.0;
    size_t used = 0;
    for (size_t i = 0; i < k; i++) {
        na += a[i];
        nb += b[i];
        used += a[i] + b[i] > 0.0;
    }
    double total = na + nb, stat = 0.0;
    *statistic = 0.0;
    *p_value = 1.0;
    if (used < 2 || !(na > 0.0) || !(nb > 0.0))
        return 0;
    for (size_t i = 0; i < k; i++) {
        double col = a[i] + b[i];
        if (!(col > 0.0))
            continue;
        const double obs[2] = {a[i], b[i]}, rows[2] = {na, nb};
        for (int r = 0; r < 2; r++) {
            double e = rows[r] * col / total, diff = obs[r] - e;
            if (yates && used == 2) {
                /* scipy moves each observation half a unit toward its expectation */
                double mag = fabs(diff) < 0.5 ? fabs(diff) : 0.5;
                diff = diff > 0 ? diff - mag : diff + mag;
            }
            stat += diff * diff / e;
        }
    }
    *statistic = stat;
    *p_value = weir_chi2_sf(stat, (double)(used - 1));
    return 0;
}

/* log of the beta-binomial pmf at x. */
static double betabinom_logpmf(double x, double n, double a, double b)
{
    return lgamma(n + 1.0) - lgamma(x + 1.0) - lgamma(n - x + 1.0) + lgamma(x + a) +
           lgamma(n - x + b) - lgamma(n + a + b) - (lgamma(a) + lgamma(b) - lgamma(a + b));
}

double weir_betabinom_sf(uint64_t k, uint64_t n, double alpha, double beta)
{
    if (k == 0)
        return 1.0;
    if (k > n)
        return 0.0;
    double dn = (double)n, mean = dn * alpha / (alpha + beta);
    if ((double)k <= mean) {
        /* the lower part is the short sum: 1 - P(X < k) */
        double pmf = exp(betabinom_logpmf(0.0, dn, alpha, beta)), cdf = 0.0;
        for (uint64_t x = 0; x < k; x++) {
            cdf += pmf;
            double dx = (double)x;
            pmf *= (dn - dx) / (dx + 1.0) * (dx + alpha) / (dn - dx - 1.0 + beta);
        }
        return cdf < 1.0 ? 1.0 - cdf : 0.0;
    }
    /* the tail from k up, its terms falling: stop when they no longer count */
    double pmf = exp(betabinom_logpmf((double)k, dn, alpha, beta)), sum = 0.0;
    for (uint64_t x = k; x <= n; x++) {
        sum += pmf;
        if (pmf < sum * 1e-17)
            break;
        double dx = (double)x;
        pmf *= (dn - dx) / (dx + 1.0) * (dx + alpha) / (dn - dx - 1.0 + beta);
    }
    return sum < 1.0 ? sum : 1.0;
}

double weir_cohen_h(double p1, double p2)
{
    p1 = p1 < 0.0 ? 0.0 : p1 > 1.0 ? 1.0 : p1;
    p2 = p2 < 0.0 ? 0.0 : p2 > 1.0 ? 1.0 : p2;
    return fabs(2.0 * asin(sqrt(p1)) - 2.0 * asin(sqrt(p2)));
}

typedef struct {
    double score, p;
} scored_p_t;

static int compare_scored_desc(const void *x, const void *y)
{
    const scored_p_t *a = x, *b = y;
    return (a->score < b->score) - (a->score > b->score);
}

void weir__cbpe_finish(weir_cbpe_t *m, double n)
{
    m->precision = m->tp + m->fp > 0.0 ? m->tp / (m->tp + m->fp) : NAN;
    m->recall = m->tp + m->fn > 0.0 ? m->tp / (m->tp + m->fn) : NAN;
    m->f1 = 2.0 * m->tp + m->fp + m->fn > 0.0 ? 2.0 * m->tp / (2.0 * m->tp + m->fp + m->fn) : NAN;
    m->accuracy = n > 0.0 ? (m->tp + m->tn) / n : NAN;
}

int weir_cbpe_estimate(const double *score, const double *p, const int *predicted, size_t n,
                       weir_cbpe_t *out)
{
    memset(out, 0, sizeof(*out));
    out->auc = NAN;
    for (size_t i = 0; i < n; i++) {
        if (predicted[i] == 1) {
            out->tp += p[i];
            out->fp += 1.0 - p[i];
        } else {
            out->fn += p[i];
            out->tn += 1.0 - p[i];
        }
    }
    weir__cbpe_finish(out, (double)n);
    if (n == 0)
        return 0;
    scored_p_t *pairs = malloc(n * sizeof(*pairs));
    if (!pairs)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < n; i++)
        pairs[i] = (scored_p_t){score[i], p[i]};
    qsort(pairs, n, sizeof(*pairs), compare_scored_desc);
    /* walk down the scores: each tie block's negatives count the positive
       weight above them, and half of the block's own */
    double pos_above = 0.0, area = 0.0, pos_total = 0.0, neg_total = 0.0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        double pos = 0.0, neg = 0.0;
        while (j < n && pairs[j].score == pairs[i].score) {
            pos += pairs[j].p;
            neg += 1.0 - pairs[j].p;
            j++;
        }
        area += neg * (pos_above + pos / 2.0);
        pos_above += pos;
        pos_total += pos;
        neg_total += neg;
        i = j;
    }
    free(pairs);
    out->auc = pos_total > 0.0 && neg_total > 0.0 ? area / (pos_total * neg_total) : NAN;
    return 0;
}
