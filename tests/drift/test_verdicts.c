/*
 * test_verdicts.c — the calibrated verdicts: the statistics they add against
 * scipy and scikit-learn (golden/verdicts.json, made by
 * golden/make_golden_verdicts.py), same-distribution windows on small
 * references that must raise no dataset verdict, the missing-value,
 * unknown-category, range, PCA and CBPE tests each catching the change it is
 * for, and the dataset verdict's share.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "drift_int.h"
#include "drift_test.h"
#include "prom.h"
#include "real_data.h"
#include "support.h"

static char err[512];

static int close_to(double a, double b, double atol, double rtol)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return fabs(a - b) <= atol || fabs(a - b) <= rtol * fabs(b);
}

Test(verdicts, chi2_contingency_matches_scipy_with_yates_at_one_degree_of_freedom)
{
    json_t *golden = weir_test_load_json("drift/golden/verdicts.json");
    json_t *cases = json_object_get(golden, "contingency"), *c;
    size_t i;
    json_array_foreach(cases, i, c)
    {
        size_t k = 0;
        double *a = drift_test_numbers(json_object_get(c, "a"), &k, 0);
        double *b = drift_test_numbers(json_object_get(c, "b"), &k, 0);
        double stat, p;
        weir_chi2_contingency(a, b, k, 1, &stat, &p);
        double want = json_real_value(json_object_get(c, "statistic"));
        cr_assert(close_to(stat, want, 1e-9, 1e-9), "case %zu: %.17g vs %.17g", i, stat, want);
        cr_assert(close_to(p, json_real_value(json_object_get(c, "p")), 1e-12, 1e-8),
                  "case %zu: p %.17g", i, p);
        free(a);
        free(b);
    }
    json_decref(golden);
}

/* scipy computes the tail as 1 - cdf past n = 300: below ~1e-11 it is noise there */
Test(verdicts, betabinom_tail_matches_exact_rationals_and_scipy)
{
    json_t *golden = weir_test_load_json("drift/golden/verdicts.json");
    json_t *cases = json_object_get(golden, "betabinom"), *c;
    size_t i;
    json_array_foreach(cases, i, c)
    {
        uint64_t k = (uint64_t)json_integer_value(json_object_get(c, "k"));
        uint64_t n = (uint64_t)json_integer_value(json_object_get(c, "n"));
        double sf = weir_betabinom_sf(k, n, json_real_value(json_object_get(c, "alpha")),
                                      json_real_value(json_object_get(c, "beta")));
        double want = json_real_value(json_object_get(c, "sf"));
        int exact = json_is_true(json_object_get(c, "exact"));
        cr_assert(close_to(sf, want, exact ? 1e-14 : 1e-11, exact ? 1e-9 : 1e-3),
                  "k %llu n %llu: %.17g vs %.17g", (unsigned long long)k, (unsigned long long)n, sf,
                  want);
    }
    json_decref(golden);
}

Test(verdicts, cbpe_estimate_matches_sklearn_auc_with_fractional_labels)
{
    json_t *golden = weir_test_load_json("drift/golden/verdicts.json");
    json_t *cases = json_object_get(golden, "cbpe"), *c;
    size_t i;
    json_array_foreach(cases, i, c)
    {
        size_t n = 0;
        double *score = drift_test_numbers(json_object_get(c, "score"), &n, 0);
        double *p = drift_test_numbers(json_object_get(c, "p"), &n, 0);
        double *pred_d = drift_test_numbers(json_object_get(c, "predicted"), &n, 0);
        int *pred = malloc(n * sizeof(int));
        for (size_t j = 0; j < n; j++)
            pred[j] = (int)pred_d[j];
        weir_cbpe_t e;
        cr_assert_eq(weir_cbpe_estimate(score, p, pred, n, &e), 0);
        cr_assert(close_to(e.auc, json_real_value(json_object_get(c, "auc")), 1e-12, 1e-10),
                  "case %zu: auc %.17g", i, e.auc);
        cr_assert(close_to(e.tp, json_real_value(json_object_get(c, "tp")), 1e-9, 1e-12));
        cr_assert(close_to(e.f1, json_real_value(json_object_get(c, "f1")), 1e-12, 1e-12));
        free(score);
        free(p);
        free(pred_d);
        free(pred);
    }
    json_decref(golden);
}

/* A bundle of @p nf numeric features whose samples are @p r standard normal
 * values each, plus, optionally, a categorical one. */
static weir_model_t *normal_model(size_t nf, size_t r, const char *extra_feature,
                                  const char *extra_reference, drift_rng_t *rng)
{
    weir_buf_t b;
    weir_buf_init(&b, (size_t)16 << 20);
    weir_buf_printf(&b, "{'format':'weir.model/1','name':'m','version':'1','task':'binary',"
                        "'features':[");
    for (size_t f = 0; f < nf; f++)
        weir_buf_printf(&b, "%s{'name':'x%zu','source':'x%zu','type':'numeric','transform':[]}",
                        f ? "," : "", f, f);
    if (extra_feature)
        weir_buf_printf(&b, ",%s", extra_feature);
    weir_buf_printf(&b, "],'model':{'kind':'logistic','weights':[");
    for (size_t f = 0; f < nf + (extra_feature ? 2 : 0); f++)
        weir_buf_printf(&b, "%s0", f ? "," : "");
    weir_buf_printf(&b, "],'bias':0},'reference':{'features':{");
    for (size_t f = 0; f < nf; f++) {
        weir_buf_printf(&b, "%s'x%zu':{'n':%zu,'missing_rate':0.02,'sample':[", f ? "," : "", f, r);
        for (size_t i = 0; i < r; i++)
            weir_buf_printf(&b, "%s%.6f", i ? "," : "", drift_rng_normal(rng));
        weir_buf_printf(&b, "]}");
    }
    if (extra_reference)
        weir_buf_printf(&b, ",%s", extra_reference);
    weir_buf_printf(&b, "}}}");
    weir_buf_append(&b, "", 1);
    weir_model_t *m = drift_test_model((const char *)b.data);
    weir_buf_dispose(&b);
    return m;
}

static void window_config(weir_drift_config_t *cfg, uint64_t n)
{
    weir_drift_config_default(cfg);
    cfg->window = cfg->step = n;
    cfg->k_fail = 1;
    cfg->m_pass = 1;
    cfg->cooldown = 0;
}

/* The case: a 170-row reference and 300-event windows from the same
 * distribution made every window "drift" (JS ~0.12 > 0.1 on every feature). */
Test(verdicts, small_reference_same_distribution_windows_raise_no_dataset_verdict)
{
    drift_rng_t rng;
    drift_rng_seed(&rng, 1700);
    weir_model_t *m = normal_model(20, 170, NULL, NULL, &rng);
    weir_drift_config_t cfg;
    window_config(&cfg, 300);
    weir_drift_t *d;
    cr_assert_eq(weir_drift_new(m, &cfg, &d, err, sizeof(err)), 0, "%s", err);
    cr_assert_not_null(weir_drift_warning(d, 0), "a reference smaller than the window is said");
    cr_assert(strstr(weir_drift_warning(d, 0), "170 values"), "%s", weir_drift_warning(d, 0));
    weir_value_t v[20];
    int dataset = 0, any = 0;
    double js_sum = 0;
    size_t js_n = 0;
    for (int w = 0; w < 20; w++) {
        for (int i = 0; i < 300; i++) {
            for (int f = 0; f < 20; f++) {
                v[f].kind = drift_rng_uniform(&rng) < 0.02 ? WEIR_VALUE_MISSING : WEIR_VALUE_NUMBER;
                v[f].number = drift_rng_normal(&rng);
            }
            weir_drift_observe(d, v, NAN, i);
        }
        const weir_drift_change_t *changes;
        size_t n;
        weir_drift_evaluate(d, 300, &changes, &n);
        weir_drift_dataset_verdict_t ds;
        weir_drift_dataset_verdict(d, &ds);
        cr_assert(ds.evaluated);
        dataset += ds.drifted;
        any += ds.features_drifted > 0;
        for (size_t k = 0; k < weir_drift_stat_count(d); k++) {
            const weir_drift_stat_t *s = weir_drift_stat(d, k);
            if (s->test == WEIR_DRIFT_JS && s->evaluated) {
                js_sum += s->statistic;
                js_n++;
            }
        }
    }
    cr_assert_gt(js_sum / (double)js_n, 0.1, "the JS distance alone is above its threshold");
    cr_assert_eq(dataset, 0, "no window drifts as a dataset");
    cr_assert_leq(any, 2, "a feature drifts in at most ~5%% of windows (%d of 20)", any);
    weir_drift_destroy(d);
    weir_model_destroy(m);
}

/* One feature's failing tests after one window of 1000 events built by @p fill. */
static unsigned failing_after(weir_model_t *m, size_t feature,
                              void (*fill)(weir_value_t *, size_t, drift_rng_t *))
{
    weir_drift_config_t cfg;
    window_config(&cfg, 1000);
    weir_drift_t *d;
    cr_assert_eq(weir_drift_new(m, &cfg, &d, err, sizeof(err)), 0, "%s", err);
    size_t nf = weir_model_feature_count(m);
    weir_value_t *v = calloc(nf, sizeof(weir_value_t));
    drift_rng_t rng;
    drift_rng_seed(&rng, 5);
    for (size_t i = 0; i < 1000; i++) {
        for (size_t f = 0; f < nf; f++) {
            /* the reference's 2% missing values */
            v[f].kind = drift_rng_uniform(&rng) < 0.02 ? WEIR_VALUE_MISSING : WEIR_VALUE_NUMBER;
            v[f].number = drift_rng_normal(&rng);
        }
        fill(v, i, &rng);
        weir_drift_observe(d, v, NAN, (int64_t)i);
    }
    const weir_drift_change_t *changes;
    size_t n;
    weir_drift_evaluate(d, 1000, &changes, &n);
    unsigned failing = weir_drift_feature_verdict(d, feature)->failing;
    free(v);
    weir_drift_destroy(d);
    return failing;
}

static void missing_jump(weir_value_t *v, size_t i, drift_rng_t *rng)
{
    (void)i;
    if (drift_rng_uniform(rng) < 0.25)
        v[0].kind = WEIR_VALUE_MISSING;
}

Test(verdicts, a_missing_rate_jump_from_2_to_25_percent_fails_the_missing_test)
{
    drift_rng_t rng;
    drift_rng_seed(&rng, 1);
    weir_model_t *m = normal_model(2, 2000, NULL, NULL, &rng);
    unsigned failing = failing_after(m, 0, missing_jump);
    cr_assert(failing & WEIR_DRIFT_BIT(WEIR_DRIFT_MISSING), "failing %#x", failing);
    cr_assert_eq(failing & ~WEIR_DRIFT_BIT(WEIR_DRIFT_MISSING), 0, "only the missing test");
    weir_model_destroy(m);
}

static void integral_codes(weir_value_t *v, size_t i, drift_rng_t *rng)
{
    v[1].kind = WEIR_VALUE_NUMBER;
    v[1].number = (double)(1 + drift_rng_below(rng, 3)); /* 1, 2, 3 as numbers */
    (void)i;
}

Test(verdicts, categories_written_1_0_against_numbers_1_warn_at_load_and_fail_unknown)
{
    drift_rng_t rng;
    drift_rng_seed(&rng, 2);
    weir_model_t *m =
        normal_model(1, 2000,
                     "{'name':'code','source':'code','type':'categorical','transform':"
                     "[{'op':'hash','buckets':2,'seed':0}]}",
                     "'code':{'n':5000,'missing_rate':0,'categories':{'1.0':0.5,'2.0':0.3,"
                     "'3.0':0.2}}",
                     &rng);
    weir_drift_t *d;
    cr_assert_eq(weir_drift_new(m, NULL, &d, err, sizeof(err)), 0, "%s", err);
    int warned = 0;
    for (size_t i = 0; weir_drift_warning(d, i); i++)
        warned |= strstr(weir_drift_warning(d, i), "feature code") != NULL;
    cr_assert(warned, "the bundle's \"1.0\" categories are named at load");
    weir_drift_destroy(d);
    unsigned failing = failing_after(m, 1, integral_codes);
    cr_assert(failing & WEIR_DRIFT_BIT(WEIR_DRIFT_UNKNOWN), "failing %#x", failing);
    weir_model_destroy(m);
}

static void beyond_range(weir_value_t *v, size_t i, drift_rng_t *rng)
{
    (void)rng;
    if (i % 10 == 0)
        v[0].number = 8.0 + (double)(i % 7); /* 10% far above any reference value */
}

static void nothing(weir_value_t *v, size_t i, drift_rng_t *rng)
{
    (void)v;
    (void)i;
    (void)rng;
}

Test(verdicts, values_beyond_the_reference_range_fail_the_range_test_and_none_do_otherwise)
{
    drift_rng_t rng;
    drift_rng_seed(&rng, 3);
    weir_model_t *m = normal_model(2, 1000, NULL, NULL, &rng);
    unsigned failing = failing_after(m, 0, beyond_range);
    cr_assert(failing & WEIR_DRIFT_BIT(WEIR_DRIFT_RANGE), "failing %#x", failing);
    cr_assert_eq(failing_after(m, 0, nothing), 0, "the same distribution fails nothing");
    weir_model_destroy(m);
}

/* Two features whose marginals stay N(0, 1) while their correlation goes
 * from 0.9 to -0.9: only the PCA test may see it. */
Test(verdicts, a_correlation_flip_with_fixed_marginals_alerts_pca_and_no_univariate_test)
{
    real_table_t t;
    memset(&t, 0, sizeof(t));
    t.cols = 5;
    t.rows = 6000;
    t.names = calloc(5, sizeof(char *));
    t.categorical = calloc(5, sizeof(int));
    t.num = malloc(t.rows * 5 * sizeof(double));
    t.cat = calloc(t.rows * 5, sizeof(char *));
    for (int c = 0; c < 5; c++) {
        t.names[c] = malloc(8);
        snprintf(t.names[c], 8, "x%d", c);
    }
    drift_rng_t rng;
    drift_rng_seed(&rng, 4);
    for (size_t i = 0; i < t.rows; i++) {
        double rho = i < 4000 ? 0.9 : -0.9, z0 = drift_rng_normal(&rng);
        t.num[i * 5] = z0;
        t.num[i * 5 + 1] = rho * z0 + sqrt(1 - rho * rho) * drift_rng_normal(&rng);
        for (int c = 2; c < 5; c++)
            t.num[i * 5 + c] = drift_rng_normal(&rng);
    }
    size_t *rows = malloc(t.rows * sizeof(size_t));
    for (size_t i = 0; i < t.rows; i++)
        rows[i] = i;
    weir_model_t *m = real_table_bundle(&t, rows, 2000, 1);
    cr_assert_not_null(m);
    cr_assert_not_null(weir_model_pca_reference(m));
    /* one window of 1000 events before the flip, one after, each judged once */
    weir_drift_config_t cfg;
    window_config(&cfg, 1000);
    weir_drift_t *d;
    cr_assert_eq(weir_drift_new(m, &cfg, &d, err, sizeof(err)), 0, "%s", err);
    weir_value_t v[5];
    int pca_alert_before = 0, pca_alert_after = 0, univariate = 0;
    for (size_t i = 3000; i < 5000; i++) {
        real_table_values(&t, i, v);
        weir_drift_observe(d, v, NAN, (int64_t)i);
        if (!weir_drift_due(d, (int64_t)i))
            continue;
        const weir_drift_change_t *changes;
        size_t n;
        weir_drift_evaluate(d, (int64_t)i, &changes, &n);
        for (size_t k = 0; k < weir_drift_stat_count(d); k++) {
            const weir_drift_stat_t *s = weir_drift_stat(d, k);
            if (s->test == WEIR_DRIFT_PCA)
                *(i < 4000 ? &pca_alert_before : &pca_alert_after) += s->failed;
            else if (s->failed)
                univariate++;
        }
    }
    cr_assert_eq(pca_alert_before, 0);
    cr_assert_eq(pca_alert_after, 1, "the flip fails the pca key");
    cr_assert_eq(univariate, 0, "and no univariate test, nor the dataset verdict");
    weir_drift_destroy(d);
    weir_model_destroy(m);
    free(rows);
    real_table_free(&t);
}

/* A binary model whose scores are calibrated: the reference is uniform, and
 * a window of scores crowded at the threshold estimates far lower F1/AUC. */
Test(verdicts, cbpe_alerts_when_scores_crowd_the_threshold_and_not_on_the_same_scores)
{
    drift_rng_t rng;
    drift_rng_seed(&rng, 6);
    weir_buf_t b;
    weir_buf_init(&b, 1 << 22);
    weir_buf_printf(&b, "{'format':'weir.model/1','name':'m','version':'1','task':'binary',"
                        "'features':[{'name':'x','source':'x','type':'numeric','transform':[]}],"
                        "'model':{'kind':'logistic','weights':[1],'bias':0},'reference':{"
                        "'score':{'n':5000,'sample':[");
    for (int i = 0; i < 5000; i++)
        weir_buf_printf(&b, "%s%.6f", i ? "," : "", drift_rng_uniform(&rng));
    weir_buf_printf(&b, "]},'calibration':{'scores':[0,1],'probabilities':[0,1]}}}");
    weir_buf_append(&b, "", 1);
    weir_model_t *m = drift_test_model((const char *)b.data);
    weir_buf_dispose(&b);
    for (int crowd = 0; crowd < 2; crowd++) {
        weir_drift_config_t cfg;
        window_config(&cfg, 2000);
        cfg.score_tests = WEIR_DRIFT_BIT(WEIR_DRIFT_CBPE);
        weir_drift_t *d;
        cr_assert_eq(weir_drift_new(m, &cfg, &d, err, sizeof(err)), 0, "%s", err);
        weir_value_t v = {.kind = WEIR_VALUE_MISSING};
        for (int i = 0; i < 2000; i++) {
            double s = drift_rng_uniform(&rng);
            if (crowd)
                s = 0.4 + 0.2 * s;
            weir_drift_observe(d, &v, s, i);
        }
        const weir_drift_change_t *changes;
        size_t n;
        weir_drift_evaluate(d, 2000, &changes, &n);
        weir_drift_cbpe_summary_t c;
        weir_drift_cbpe(d, &c);
        cr_assert(c.enabled);
        cr_assert(close_to(c.reference.auc, 0.8333, 0.01, 0), "%g", c.reference.auc);
        int cbpe_alerts = 0;
        for (size_t k = 0; k < n; k++)
            cbpe_alerts += changes[k].test == WEIR_DRIFT_CBPE;
        cr_assert_eq(cbpe_alerts, crowd, "crowd %d: estimated auc %g f1 %g", crowd, c.estimate.auc,
                     c.estimate.f1);
        weir_drift_destroy(d);
    }
    weir_model_destroy(m);
}

/* The CBPE window's AUC (scores inside one reference interval tie) against
 * the exact estimate on the same scores. */
Test(verdicts, cbpe_window_auc_is_within_a_slot_of_the_exact_estimate)
{
    drift_rng_t rng;
    drift_rng_seed(&rng, 8);
    weir_buf_t b;
    weir_buf_init(&b, 1 << 22);
    weir_buf_printf(&b, "{'format':'weir.model/1','name':'m','version':'1','task':'binary',"
                        "'features':[{'name':'x','source':'x','type':'numeric','transform':[]}],"
                        "'model':{'kind':'logistic','weights':[1],'bias':0},'reference':{"
                        "'score':{'n':5000,'sample':[");
    for (int i = 0; i < 5000; i++)
        weir_buf_printf(&b, "%s%.6f", i ? "," : "", drift_rng_uniform(&rng));
    weir_buf_printf(&b, "]}}}");
    weir_buf_append(&b, "", 1);
    weir_model_t *m = drift_test_model((const char *)b.data);
    weir_buf_dispose(&b);
    weir_drift_config_t cfg;
    window_config(&cfg, 3000);
    weir_drift_t *d;
    cr_assert_eq(weir_drift_new(m, &cfg, &d, err, sizeof(err)), 0, "%s", err);
    double score[6000], p[6000];
    int pred[6000];
    weir_value_t v = {.kind = WEIR_VALUE_MISSING};
    for (int i = 0; i < 6000; i++) {
        score[i] = drift_rng_uniform(&rng) * drift_rng_uniform(&rng);
        p[i] = score[i];
        pred[i] = score[i] >= 0.5;
        weir_drift_observe(d, &v, score[i], i);
    }
    const weir_drift_change_t *changes;
    size_t n;
    weir_drift_evaluate(d, 6000, &changes, &n);
    weir_drift_cbpe_summary_t c;
    weir_drift_cbpe(d, &c);
    weir_cbpe_t exact;
    cr_assert_eq(weir_cbpe_estimate(score + 3000, p + 3000, pred + 3000, 3000, &exact), 0);
    cr_assert(close_to(c.estimate.auc, exact.auc, 2e-3, 0), "%g vs %g", c.estimate.auc, exact.auc);
    cr_assert(close_to(c.estimate.f1, exact.f1, 1e-9, 0), "%g vs %g", c.estimate.f1, exact.f1);
    cr_assert(close_to(c.estimate.tp, exact.tp, 1e-6, 0));
    weir_drift_destroy(d);
    weir_model_destroy(m);
}

Test(verdicts, the_dataset_drifts_when_half_of_its_features_do)
{
    drift_rng_t rng;
    drift_rng_seed(&rng, 9);
    weir_model_t *m = normal_model(4, 2000, NULL, NULL, &rng);
    for (int shifted = 1; shifted <= 2; shifted++) {
        weir_drift_config_t cfg;
        window_config(&cfg, 1000);
        weir_drift_t *d;
        cr_assert_eq(weir_drift_new(m, &cfg, &d, err, sizeof(err)), 0, "%s", err);
        weir_value_t v[4];
        for (int i = 0; i < 1000; i++) {
            for (int f = 0; f < 4; f++) {
                v[f].kind = drift_rng_uniform(&rng) < 0.02 ? WEIR_VALUE_MISSING : WEIR_VALUE_NUMBER;
                v[f].number = drift_rng_normal(&rng) + (f < shifted ? 1.0 : 0.0);
            }
            weir_drift_observe(d, v, NAN, i);
        }
        const weir_drift_change_t *changes;
        size_t n;
        weir_drift_evaluate(d, 1000, &changes, &n);
        weir_drift_dataset_verdict_t ds;
        weir_drift_dataset_verdict(d, &ds);
        cr_assert_eq(ds.features_evaluated, 4);
        cr_assert_eq(ds.features_drifted, (size_t)shifted);
        cr_assert_eq(ds.drifted, shifted == 2, "share %g", ds.share);
        int dataset_alert = 0;
        for (size_t k = 0; k < n; k++)
            if (changes[k].test == WEIR_DRIFT_DATASET) {
                dataset_alert = 1;
                cr_assert_eq(changes[k].n_drifted_features, 2);
                cr_assert_str_eq(changes[k].drifted_features[0], "x0");
            }
        cr_assert_eq(dataset_alert, shifted == 2);
        weir_drift_destroy(d);
    }
    weir_model_destroy(m);
}

/* The CI bound of the real-data benchmark (bench/drift_real has the table):
 * four datasets shipped in scikit-learn and statsmodels wheels, a reference
 * of 100 rows, windows of 100 and 300 rows from the same distribution. */
Test(verdicts, real_datasets_raise_a_dataset_verdict_in_at_most_5_percent_of_windows,
     .timeout = 240)
{
    static const char *const names[] = {"breast_cancer", "digits", "fair", "anes96"};
    int windows = 0, dataset = 0, any = 0;
    uint64_t seed = 1;
    for (size_t ds = 0; ds < 4; ds++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/drift/golden/real/%s.csv", WEIR_TESTS_DIR, names[ds]);
        real_table_t t;
        cr_assert_eq(real_table_load(path, &t), 0, "%s", path);
        size_t *idx = malloc(t.rows * sizeof(size_t)), *win = malloc(t.rows * sizeof(size_t));
        weir_value_t *values = calloc(t.cols, sizeof(weir_value_t));
        real_shuffle(idx, t.rows, 7 + ds);
        weir_model_t *m = real_table_bundle(&t, idx, 100, 1);
        cr_assert_not_null(m);
        for (size_t n = 100; n <= 300; n += 200) {
            weir_drift_config_t cfg;
            window_config(&cfg, n);
            weir_drift_t *d;
            cr_assert_eq(weir_drift_new(m, &cfg, &d, err, sizeof(err)), 0, "%s", err);
            for (int w = 0; w < 20; w++) {
                /* n rows of the rest, without replacement */
                real_shuffle(win, t.rows - 100, seed++);
                for (size_t i = 0; i < n; i++)
                    win[i] = idx[100 + win[i]];
                real_verdict_t v;
                real_window(d, &t, win, n, NULL, values, &v);
                windows++;
                dataset += v.dataset;
                any += v.any || v.pca;
            }
            weir_drift_destroy(d);
        }
        weir_model_destroy(m);
        free(idx);
        free(win);
        free(values);
        real_table_free(&t);
    }
    cr_assert_eq(windows, 160);
    cr_assert_leq(dataset, windows / 20, "%d dataset verdicts in %d windows", dataset, windows);
    cr_assert_leq(any, windows / 5, "%d windows with any failing test", any);
}

Test(verdicts, the_new_keys_parse_and_bad_values_name_the_key)
{
    weir_drift_config_t c;
    weir_drift_config_default(&c);
    cr_assert_float_eq(c.share, 0.5, 0);
    cr_assert_eq(c.calibration_draws, 200);
    cr_assert_eq(weir_drift_config_set(&c, "drift.share", "0.3", err, sizeof(err)), 0);
    cr_assert_eq(weir_drift_config_set(&c, "drift.multivariate.tests", "pca", err, sizeof(err)), 0);
    cr_assert_eq(c.multivariate_tests, WEIR_DRIFT_BIT(WEIR_DRIFT_PCA));
    cr_assert_eq(weir_drift_config_set(&c, "drift.cbpe.max_drop", "0.2", err, sizeof(err)), 0);
    cr_assert_float_eq(c.min_effect[WEIR_DRIFT_CBPE], 0.2, 0);
    cr_assert_eq(weir_drift_config_set(&c, "drift.missing.threshold", "0.3", err, sizeof(err)), 0);
    cr_assert_eq(weir_drift_config_check(&c, err, sizeof(err)), 0, "%s", err);

    c.share = 0;
    cr_assert_eq(weir_drift_config_check(&c, err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(strstr(err, "drift.share"), "%s", err);
    weir_drift_config_default(&c);
    c.calibration_draws = 5;
    cr_assert_eq(weir_drift_config_check(&c, err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(strstr(err, "drift.calibration.draws"), "%s", err);
    weir_drift_config_default(&c);
    cr_assert_eq(weir_drift_config_set(&c, "drift.numeric.tests", "unknown", err, sizeof(err)), 0);
    cr_assert_eq(weir_drift_config_check(&c, err, sizeof(err)), WEIR_ECONFIG,
                 "unknown applies to categorical features only");
    cr_assert(strstr(err, "drift.numeric.tests"), "%s", err);
}

/* The same bundle and configuration calibrate the same nulls: two monitors
 * give the same p-values on the same window. */
Test(verdicts, calibration_is_deterministic)
{
    drift_rng_t rng;
    drift_rng_seed(&rng, 12);
    weir_model_t *m = normal_model(3, 300, NULL, NULL, &rng);
    weir_drift_config_t cfg;
    window_config(&cfg, 300);
    double p[2][64] = {{0}};
    for (int run = 0; run < 2; run++) {
        weir_drift_t *d;
        drift_rng_t w;
        drift_rng_seed(&w, 99);
        cr_assert_eq(weir_drift_new(m, &cfg, &d, err, sizeof(err)), 0, "%s", err);
        weir_value_t v[3];
        for (int i = 0; i < 300; i++) {
            for (int f = 0; f < 3; f++) {
                v[f].kind = WEIR_VALUE_NUMBER;
                v[f].number = drift_rng_normal(&w);
            }
            weir_drift_observe(d, v, NAN, i);
        }
        const weir_drift_change_t *changes;
        size_t n;
        weir_drift_evaluate(d, 300, &changes, &n);
        for (size_t k = 0; k < weir_drift_stat_count(d) && k < 64; k++)
            p[run][k] = weir_drift_stat(d, k)->p_value;
        weir_drift_destroy(d);
    }
    for (size_t k = 0; k < 64; k++)
        cr_assert(memcmp(&p[0][k], &p[1][k], sizeof(double)) == 0 ||
                      (isnan(p[0][k]) && isnan(p[1][k])),
                  "key %zu", k);
    weir_model_destroy(m);
}
