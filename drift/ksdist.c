/*
 * ksdist.c — the distribution of the two-sided Kolmogorov-Smirnov statistic,
 * for p-values that equal scipy's ks_2samp(..., method='asymp').
 *
 * scipy evaluates that p-value as kstwo.sf(D, n) with n the rounded effective
 * sample size n1·n2/(n1+n2), and kstwo follows Simard & L'Ecuyer (2011,
 * "Computing the two-sided Kolmogorov-Smirnov distribution", J. Stat. Softw.
 * 39(11)): which method is used depends on n and on n·d², because each is
 * accurate (or fast) in a different region. We keep the same regions so that
 * the same approximations are made in the same places:
 *
 *  - Ruben-Gambino closed forms for n·d <= 1 and n·d >= n - 1;
 *  - for d >= 0.5, exactly twice the one-sided (Smirnov) tail, since the two
 *    one-sided events cannot both happen;
 *  - n <= 140: exact below n·d² = 4 (scipy switches from Durbin's matrix to
 *    Pomeranz's recursion at 0.754693; both are exact, we use the matrix for
 *    both), else twice the Smirnov tail;
 *  - n > 140, upper tail: 0 from n·d² >= 370, twice the Smirnov tail from
 *    n·d² >= 2.2, and below that 1 - CDF with the CDF from Durbin's matrix
 *    when n <= 100000 and n·d^1.5 < 1.4, else from the Pelz-Good expansion.
 *
 * Durbin's matrix is evaluated as Marsaglia, Tsang & Wang (2003) describe:
 * the k-th diagonal element of H^n (repeated squaring, with power-of-two
 * rescaling) times n!/n^n. The one-sided tail uses the Birnbaum-Tingey sum,
 * whose terms are all positive, in logarithms. Pelz-Good (1976) is the
 * expansion K0 + K1/√n + K2/n + K3/n^1.5 of the Li-Chien/Korolyuk series,
 * rewritten for small z = d√n.
 */
#include "drift_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SCALE_EXP 128
#define PI_SQUARED (M_PI * M_PI)

/* Pr(D+_n >= d), the one-sided tail, by the Birnbaum-Tingey formula
 *   d · sum_{v=0}^{floor(n(1-d))} C(n,v) (d + v/n)^(v-1) (1 - d - v/n)^(n-v). */
double weir_smirnov_sf(uint64_t n, double d)
{
    if (!(d > 0.0))
        return 1.0;
    if (d >= 1.0)
        return 0.0;
    double nd = (double)n * d;
    double last = floor((double)n - nd);
    double log_d = log(d), sum = 0.0;
    double log_binom = 0.0; /* log C(n, v), by the ratio recurrence */
    double dn = (double)n;
    for (uint64_t v = 0; (double)v <= last; v++) {
        double vd = (double)v;
        double below = d + vd / dn;           /* d + v/n */
        double above = ((dn - vd) - nd) / dn; /* 1 - d - v/n, without cancellation */
        if (v > 0)
            log_binom += log((dn - vd + 1.0) / vd);
        if (above <= 0.0)
            break;
        double t = log_binom + log_d + (vd - 1.0) * log(below) + (dn - vd) * log(above);
        if (t > -745.0)
            sum += exp(t);
    }
    return sum < 1.0 ? sum : 1.0;
}

/* C = A · B for m x m row-major matrices. */
static void matmul(const double *a, const double *b, double *c, int m)
{
    memset(c, 0, (size_t)m * (size_t)m * sizeof(*c));
    for (int i = 0; i < m; i++)
        for (int k = 0; k < m; k++) {
            double aik = a[i * m + k];
            if (aik == 0.0)
                continue;
            const double *brow = b + k * m;
            double *crow = c + i * m;
            for (int j = 0; j < m; j++)
                crow[j] += aik * brow[j];
        }
}

/* Keeps the largest entry of a matrix within [2^-128, 2^128] by an exact
 * power-of-two rescaling, accumulating the exponent in *e. */
static void rescale(double *a, int m, long *e)
{
    double big = 0.0;
    for (int i = 0; i < m * m; i++)
        if (fabs(a[i]) > big)
            big = fabs(a[i]);
    if (big > ldexp(1.0, SCALE_EXP) || (big > 0.0 && big < ldexp(1.0, -SCALE_EXP))) {
        int ex;
        frexp(big, &ex);
        for (int i = 0; i < m * m; i++)
            a[i] = ldexp(a[i], -ex);
        *e += ex;
    }
}

/* P(D_n < d) by Durbin's matrix (Marsaglia-Tsang-Wang). NaN when scratch
 * memory cannot be had. */
static double durbin_cdf(uint64_t n, double d)
{
    double nd = (double)n * d;
    if (nd <= 0.5)
        return 0.0;
    if (d >= 1.0)
        return 1.0;
    int k = (int)ceil(nd);
    double h = (double)k - nd;
    int m = 2 * k - 1;
    size_t cells = (size_t)m * (size_t)m;
    double *mem = malloc(4 * cells * sizeof(double));
    double result = NAN;
    if (!mem)
        goto out;
    double *hm = mem, *pw = mem + cells, *res = mem + 2 * cells, *tmp = mem + 3 * cells;

    /* H[i][j] = 1/(i-j+1)! on and below the superdiagonal, with the first
       column and the last row corrected for the fractional part h. */
    memset(hm, 0, cells * sizeof(double));
    for (int i = 0; i < m; i++) {
        double fact = 1.0; /* 1/(i-j+1)! built from j = i+1 downwards */
        for (int j = i + 1; j >= 0; j--) {
            if (j < m)
                hm[i * m + j] = fact;
            fact /= (double)(i - j + 2);
        }
    }
    double hpow = 1.0, fact = 1.0;
    for (int i = 0; i < m; i++) {
        hpow *= h;               /* h^(i+1) */
        fact /= (double)(i + 1); /* 1/(i+1)! */
        hm[i * m] = (1.0 - hpow) * fact;
        hm[(m - 1) * m + (m - 1 - i)] = (1.0 - hpow) * fact;
    }
    double corner = 2.0 * h - 1.0 > 0.0 ? pow(2.0 * h - 1.0, m) : 0.0;
    hm[(m - 1) * m] = (1.0 - 2.0 * pow(h, m) + corner) * fact;

    /* res = H^n by repeated squaring, exponents of 2 kept aside. */
    long e_res = 0, e_pw = 0;
    memcpy(pw, hm, cells * sizeof(double));
    memset(res, 0, cells * sizeof(double));
    for (int i = 0; i < m; i++)
        res[i * m + i] = 1.0;
    for (uint64_t left = n; left > 0; left >>= 1) {
        if (left & 1) {
            matmul(res, pw, tmp, m);
            memcpy(res, tmp, cells * sizeof(double));
            e_res += e_pw;
            rescale(res, m, &e_res);
        }
        if (left > 1) {
            matmul(pw, pw, tmp, m);
            memcpy(pw, tmp, cells * sizeof(double));
            e_pw *= 2;
            rescale(pw, m, &e_pw);
        }
    }
    double p = res[(k - 1) * m + (k - 1)];
    /* times n!/n^n, one factor i/n at a time, rescaling on the way */
    for (uint64_t i = 1; i <= n; i++) {
        p = p * (double)i / (double)n;
        if (p != 0.0 && fabs(p) < ldexp(1.0, -SCALE_EXP)) {
            p = ldexp(p, SCALE_EXP);
            e_res -= SCALE_EXP;
        }
    }
    result = ldexp(p, (int)(e_res < -100000 ? -100000 : e_res > 100000 ? 100000 : e_res));
out:
    free(mem);
    return result;
}

/* P(D_n <= d) by the Pelz-Good expansion in z = d·√n. */
static double pelz_good_cdf(uint64_t n, double d)
{
    if (d <= 0.0)
        return 0.0;
    if (d >= 1.0)
        return 1.0;
    double z = sqrt((double)n) * d;
    double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2, z8 = z4 * z4;
    double qlog = -PI_SQUARED / 8.0 / z2;
    if (qlog < -708.0)
        return 0.0;
    double q = exp(qlog);
    int terms = (int)ceil(16.0 * z / M_PI);
    if (terms < 1)
        terms = 1;

    /* Sums over odd m = 2k-1 of polynomial(m²) · q^(m²), Horner in q^8k. */
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int k = terms; k >= 1; k--) {
        double m = 2.0 * k - 1.0, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
        double qk = pow(q, 8.0 * k);
        s0 = s0 * qk + 1.0;
        s1 = s1 * qk + (PI_SQUARED / 4.0 * m2 - z2);
        s2 = s2 * qk + (6.0 * z6 + 2.0 * z4 + (2.0 * z4 - 5.0 * z2) * PI_SQUARED / 4.0 * m2 +
                        PI_SQUARED * PI_SQUARED * (1.0 - 2.0 * z2) / 16.0 * m4);
        s3 = s3 * qk + (-30.0 * z6 - 90.0 * z8 + PI_SQUARED * (135.0 * z4 - 96.0 * z6) / 4.0 * m2 +
                        PI_SQUARED * PI_SQUARED * (-60.0 * z2 + 212.0 * z4) / 16.0 * m4 +
                        PI_SQUARED * PI_SQUARED * PI_SQUARED * (5.0 - 30.0 * z2) / 64.0 * m6);
    }
    double root2pi = sqrt(2.0 * M_PI);
    double k0 = s0 * q * root2pi / z;
    double k1 = s1 * q * root2pi / (6.0 * z4);
    double k2 = s2 * q * root2pi / (72.0 * z * z6);
    double k3 = s3 * q * root2pi / (6480.0 * z4 * z6);

    /* Terms over all integers k with q' = exp(-π²/(2z²)). */
    double qq = exp(-PI_SQUARED / 2.0 / z2), extra2 = 0, extra3 = 0;
    for (int k = terms; k >= 1; k--) {
        double kk = (double)k * k, w = pow(qq, kk);
        extra2 += kk * w;
        extra3 += (3.0 * z2 - PI_SQUARED * kk) * kk * w;
    }
    k2 += extra2 * PI_SQUARED * root2pi / (-36.0 * z3);
    k3 += extra3 * PI_SQUARED * root2pi / (216.0 * z6);

    double rn = sqrt((double)n);
    return k0 + k1 / rn + k2 / (double)n + k3 / ((double)n * rn);
}

static double clip01(double p)
{
    return p < 0.0 ? 0.0 : p > 1.0 ? 1.0 : p;
}

double weir_ks_sf(double d, uint64_t n)
{
    if (n == 0 || isnan(d))
        return NAN;
    if (d >= 1.0)
        return 0.0;
    if (d <= 0.0)
        return 1.0;
    double dn = (double)n;
    double t = dn * d;
    if (t <= 1.0) {
        if (t <= 0.5)
            return 1.0;
        /* Ruben-Gambino: P(D_n <= d) = n!/n^n (2t - 1)^n */
        double cdf;
        if (n <= 140) {
            cdf = 1.0;
            for (uint64_t i = 1; i <= n; i++)
                cdf *= (double)i / dn * (2.0 * t - 1.0);
        } else {
            cdf = exp(lgamma(dn + 1.0) - dn * log(dn) + dn * log(2.0 * t - 1.0));
        }
        return clip01(1.0 - cdf);
    }
    if (t >= dn - 1.0)
        return clip01(2.0 * pow(1.0 - d, dn));
    if (d >= 0.5)
        return clip01(2.0 * weir_smirnov_sf(n, d));

    double nd2 = t * d;
    if (n <= 140) {
        if (nd2 <= 4.0)
            return clip01(1.0 - durbin_cdf(n, d));
        return clip01(2.0 * weir_smirnov_sf(n, d));
    }
    if (nd2 >= 370.0)
        return 0.0;
    if (nd2 >= 2.2)
        return clip01(2.0 * weir_smirnov_sf(n, d));
    double cdf;
    if (n <= 100000 && dn * pow(d, 1.5) <= 1.4)
        cdf = durbin_cdf(n, d);
    else
        cdf = pelz_good_cdf(n, d);
    return clip01(1.0 - cdf);
}

double weir_ks_pvalue(double d, uint64_t n1, uint64_t n2)
{
    if (n1 == 0 || n2 == 0 || isnan(d))
        return NAN;
    double a = (double)(n1 > n2 ? n1 : n2), b = (double)(n1 > n2 ? n2 : n1);
    /* numpy.round: half to even, which nearbyint does in the default mode */
    double en = nearbyint(a * b / (a + b));
    /* n1 = n2 = 1 rounds to 0, where scipy's answer is NaN too */
    return en >= 1.0 ? weir_ks_sf(d, (uint64_t)en) : NAN;
}
