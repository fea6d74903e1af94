/*
 * test_profile.c — the field profile: counts and missing values, moments and
 * quantiles against direct computation, distinct counts exact then
 * estimated, frequent categories under Misra-Gries, and the pairwise
 * correlation matrix against a direct two-pass computation.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

static weir_value_t number(double v)
{
    return (weir_value_t){.kind = WEIR_VALUE_NUMBER, .number = v};
}

static weir_value_t text(const char *s)
{
    return (weir_value_t){.kind = WEIR_VALUE_STRING, .string = s, .length = strlen(s)};
}

static const weir_value_t missing = {.kind = WEIR_VALUE_MISSING};

Test(profile, counts_missing_moments_and_quantiles)
{
    weir_profile_kind_t kinds[] = {WEIR_PROFILE_NUMERIC};
    weir_profile_t *p;
    cr_assert_eq(weir_profile_new(kinds, 1, NULL, &p), 0);
    double xs[] = {3, 1, 4, 1, 5, 9, 2, 6};
    for (size_t i = 0; i < 8; i++)
        cr_assert_eq(weir_profile_add(p, (weir_value_t[]){number(xs[i])}), 0);
    weir_profile_add(p, &missing);
    weir_profile_add(p, (weir_value_t[]){number(NAN)});
    cr_assert_eq(weir_profile_finish(p), 0);
    const weir_profile_field_t *f = weir_profile_field(p, 0);
    cr_assert_eq(f->rows, 10);
    cr_assert_eq(f->count, 8);
    cr_assert_eq(f->missing, 2);
    cr_assert_eq(f->nonfinite, 1);
    cr_assert_float_eq(f->mean, 31.0 / 8, 1e-12);
    double ss = 0;
    for (size_t i = 0; i < 8; i++)
        ss += (xs[i] - 31.0 / 8) * (xs[i] - 31.0 / 8);
    cr_assert_float_eq(f->std, sqrt(ss / 8), 1e-12);
    cr_assert_eq(f->min, 1);
    cr_assert_eq(f->max, 9);
    cr_assert_eq(f->distinct, 7);
    cr_assert_not(f->distinct_estimated);
    /* numpy.quantile([1,1,2,3,4,5,6,9], .5) = 3.5, .25 = 1.75 */
    cr_assert_float_eq(weir_profile_quantile(p, 0, 0.5), 3.5, 1e-12);
    cr_assert_float_eq(weir_profile_quantile(p, 0, 0.25), 1.75, 1e-12);
    double sample[4];
    cr_assert_eq(weir_profile_sample(p, 0, sample, 4), 4);
    cr_assert_eq(sample[0], 1);
    cr_assert_eq(sample[3], 9);
    weir_profile_destroy(p);
}

Test(profile, categories_are_counted_and_ordered)
{
    weir_profile_kind_t kinds[] = {WEIR_PROFILE_CATEGORICAL, WEIR_PROFILE_BOOLEAN};
    weir_profile_t *p;
    cr_assert_eq(weir_profile_new(kinds, 2, NULL, &p), 0);
    const char *cats[] = {"b", "a", "b", "c", "b", "a"};
    for (size_t i = 0; i < 6; i++)
        weir_profile_add(p, (weir_value_t[]){text(cats[i]), number(i % 3 == 0)});
    weir_profile_add(p, (weir_value_t[]){number(7), missing});
    weir_profile_finish(p);
    const weir_profile_field_t *f = weir_profile_field(p, 0);
    cr_assert_eq(f->count, 7);
    cr_assert_eq(f->distinct, 4);
    cr_assert_eq(f->top_count, 4);
    cr_assert_str_eq(f->top[0].value, "b");
    cr_assert_eq(f->top[0].count, 3);
    cr_assert_str_eq(f->top[1].value, "a");
    cr_assert_str_eq(f->top[2].value, "7"); /* a number counted as its text; ties by value */
    const weir_profile_field_t *b = weir_profile_field(p, 1);
    cr_assert_eq(b->count, 6);
    cr_assert_float_eq(b->mean, 2.0 / 6, 1e-12);
    cr_assert_str_eq(b->top[0].value, "false");
    cr_assert_eq(b->top[0].count, 4);
    weir_profile_destroy(p);
}

Test(profile, distinct_counts_turn_into_estimates_past_the_cap)
{
    weir_profile_kind_t kinds[] = {WEIR_PROFILE_NUMERIC};
    weir_profile_config_t cfg;
    weir_profile_config_default(&cfg);
    cfg.distinct_max = 1000;
    cfg.sample_max = 5000;
    weir_profile_t *p;
    cr_assert_eq(weir_profile_new(kinds, 1, &cfg, &p), 0);
    for (int i = 0; i < 100000; i++)
        weir_profile_add(p, (weir_value_t[]){number(i % 50000)});
    weir_profile_finish(p);
    const weir_profile_field_t *f = weir_profile_field(p, 0);
    cr_assert(f->distinct_estimated);
    cr_assert(fabs((double)f->distinct - 50000) < 50000 * 0.03, "estimate %llu of 50000",
              (unsigned long long)f->distinct);
    cr_assert(f->quantiles_estimated);
    /* the reservoir is a uniform sample: its median is near the true one */
    cr_assert(fabs(weir_profile_quantile(p, 0, 0.5) - 25000) < 2500);
    weir_profile_destroy(p);
}

Test(profile, a_frequent_category_survives_misra_gries)
{
    weir_profile_kind_t kinds[] = {WEIR_PROFILE_CATEGORICAL};
    weir_profile_config_t cfg;
    weir_profile_config_default(&cfg);
    cfg.top_max = 16;
    weir_profile_t *p;
    cr_assert_eq(weir_profile_new(kinds, 1, &cfg, &p), 0);
    char id[32];
    for (int i = 0; i < 10000; i++) {
        if (i % 4 == 0)
            snprintf(id, sizeof(id), "frequent");
        else
            snprintf(id, sizeof(id), "id-%d", i);
        weir_profile_add(p, (weir_value_t[]){text(id)});
    }
    weir_profile_finish(p);
    const weir_profile_field_t *f = weir_profile_field(p, 0);
    cr_assert(f->top_estimated);
    cr_assert_leq(f->top_count, 16);
    cr_assert_str_eq(f->top[0].value, "frequent");
    /* a lower bound, low by at most rows / (k + 1) */
    cr_assert_leq(f->top[0].count, 2500);
    cr_assert_geq(f->top[0].count, 2500 - 10000 / 17);
    weir_profile_destroy(p);
}

Test(profile, correlation_is_pearson_on_pairwise_complete_rows)
{
    weir_profile_kind_t kinds[] = {WEIR_PROFILE_NUMERIC, WEIR_PROFILE_CATEGORICAL,
                                   WEIR_PROFILE_NUMERIC, WEIR_PROFILE_NUMERIC};
    weir_profile_t *p;
    cr_assert_eq(weir_profile_new(kinds, 4, NULL, &p), 0);
    enum { N = 1000 };
    static double a[N], b[N], c[N];
    static int b_present[N];
    unsigned s = 7;
    for (int i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        double u = (double)(s >> 8) / 16777216.0;
        s = s * 1103515245u + 12345u;
        double v = (double)(s >> 8) / 16777216.0;
        a[i] = 1e6 + u; /* a large offset: the shift keeps the sums accurate */
        b[i] = 2 * u + v;
        c[i] = -u + 0.1 * v;
        b_present[i] = i % 7 != 0;
        weir_profile_add(p, (weir_value_t[]){number(a[i]), text("x"),
                                             b_present[i] ? number(b[i]) : missing, number(c[i])});
    }
    weir_profile_finish(p);
    size_t m;
    const size_t *fields;
    const double *r = weir_profile_correlation(p, &m, &fields);
    cr_assert_eq(m, 3);
    cr_assert_eq(fields[0], 0);
    cr_assert_eq(fields[1], 2);
    cr_assert_eq(fields[2], 3);
    /* direct two-pass Pearson on the rows where both are present */
    const double *cols[] = {a, b, c};
    for (size_t x = 0; x < 3; x++) {
        for (size_t y = 0; y < 3; y++) {
            double sx = 0, sy = 0, n = 0;
            for (int i = 0; i < N; i++) {
                if ((x == 1 || y == 1) && !b_present[i])
                    continue;
                sx += cols[x][i];
                sy += cols[y][i];
                n++;
            }
            double mx = sx / n, my = sy / n, sxy = 0, sxx = 0, syy = 0;
            for (int i = 0; i < N; i++) {
                if ((x == 1 || y == 1) && !b_present[i])
                    continue;
                sxy += (cols[x][i] - mx) * (cols[y][i] - my);
                sxx += (cols[x][i] - mx) * (cols[x][i] - mx);
                syy += (cols[y][i] - my) * (cols[y][i] - my);
            }
            double want = sxy / sqrt(sxx * syy);
            cr_assert(fabs(r[x * 3 + y] - want) < 1e-7, "r[%zu][%zu] = %.12g, want %.12g", x, y,
                      r[x * 3 + y], want);
        }
    }
    weir_profile_destroy(p);
}
