/*
 * test_policy.c — alert hygiene: k consecutive failures raise one alert, m
 * consecutive passes recover it, the cooldown holds a recovered key back,
 * severity bands, the multiple-testing corrections, the minimum effect size
 * that p-values alone never override, and the configuration keys.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "drift_int.h"
#include "drift_test.h"

static weir_key_t fresh_key(void)
{
    weir_key_t key;
    memset(&key, 0, sizeof(key));
    key.kind = WEIR_DRIFT_DATA;
    key.stat.feature = "amount";
    key.stat.test = WEIR_DRIFT_KS;
    key.stat.threshold = 0.1;
    return key;
}

/* Feeds a verdict string ('F' fail, 'P' pass, 'S' skip, 'C' critical fail)
 * and returns the transitions as a string of kinds ('d' data, 'c' critical
 * escalation or critical alert, 'r' recovered, '.' nothing). */
static void run(const weir_policy_t *p, weir_key_t *key, const char *verdicts, char *out)
{
    uint64_t eval = 0;
    for (const char *v = verdicts; *v; v++, out++) {
        weir_drift_change_t change;
        weir_verdict_t verdict = *v == 'P'   ? WEIR_VERDICT_PASS
                                 : *v == 'S' ? WEIR_VERDICT_SKIP
                                             : WEIR_VERDICT_FAIL;
        weir_drift_severity_t sev = *v == 'C' ? WEIR_SEVERITY_CRITICAL : WEIR_SEVERITY_WARNING;
        eval++;
        *out = '.';
        if (weir_policy_apply(p, key, verdict, sev, eval, (int64_t)eval * 1000, &change))
            *out = change.kind == WEIR_DRIFT_RECOVERED         ? 'r'
                   : change.severity == WEIR_SEVERITY_CRITICAL ? 'c'
                                                               : 'd';
    }
    *out = '\0';
}

Test(policy, alert_needs_k_consecutive_failures)
{
    weir_policy_t p = {2, 3, 0, 0};
    weir_key_t key = fresh_key();
    char out[64];
    run(&p, &key, "FPFPFFFF", out);
    cr_assert_str_eq(out, ".....d..", "one alert, at the second consecutive failure");
    cr_assert_eq(key.stat.alerts, 1);
}

Test(policy, recovery_needs_m_consecutive_passes)
{
    weir_policy_t p = {2, 3, 0, 0};
    weir_key_t key = fresh_key();
    char out[64];
    run(&p, &key, "FFPPFPPPP", out);
    cr_assert_str_eq(out, ".d.....r.");
    cr_assert_eq(key.stat.state, WEIR_SEVERITY_INFO);
}

Test(policy, skipped_evaluations_neither_count_nor_reset)
{
    weir_policy_t p = {2, 2, 0, 0};
    weir_key_t key = fresh_key();
    char out[64];
    run(&p, &key, "FSFSPSP", out);
    cr_assert_str_eq(out, "..d...r");
}

Test(policy, cooldown_holds_a_recovered_key_back)
{
    weir_policy_t p = {1, 1, 4, 0};
    weir_key_t key = fresh_key();
    char out[64];
    /* alert at 1, recover at 2, failures at 3..5 are inside the cooldown
       (evaluations 2 + 4 = 6 onwards may alert again) */
    run(&p, &key, "FPFFFFF", out);
    cr_assert_str_eq(out, "dr...d.");
}

Test(policy, cooldown_in_time_holds_a_recovered_key_back)
{
    weir_policy_t p = {1, 1, 0, 3500};
    weir_key_t key = fresh_key();
    char out[64];
    run(&p, &key, "FPFFFF", out); /* recovered at t=2000: no alert before t=5500 */
    cr_assert_str_eq(out, "dr...d");
}

Test(policy, warning_escalates_to_critical_once)
{
    weir_policy_t p = {2, 2, 0, 0};
    weir_key_t key = fresh_key();
    char out[64];
    run(&p, &key, "FFCCFCPP", out);
    cr_assert_str_eq(out, ".dc....r");
    cr_assert_eq(key.stat.alerts, 1, "an escalation is not a new alert");
}

Test(policy, critical_band_starts_at_factor_times_threshold)
{
    cr_assert_eq(weir_policy_severity(0.19, 0.1, 2.0), WEIR_SEVERITY_WARNING);
    cr_assert_eq(weir_policy_severity(0.2, 0.1, 2.0), WEIR_SEVERITY_CRITICAL);
}

Test(policy, bonferroni_multiplies_by_the_number_of_tests)
{
    double p[4] = {0.01, 0.2, 0.5, 0.0001}, adj[4];
    size_t order[4];
    weir_correct_pvalues(WEIR_CORRECTION_BONFERRONI, p, 4, adj, order);
    cr_assert_float_eq(adj[0], 0.04, 1e-15);
    cr_assert_float_eq(adj[1], 0.8, 1e-15);
    cr_assert_float_eq(adj[2], 1.0, 0);
    cr_assert_float_eq(adj[3], 0.0004, 1e-15);
}

Test(policy, benjamini_hochberg_gives_step_up_q_values)
{
    /* statsmodels.stats.multitest.multipletests(p, method='fdr_bh') */
    double p[6] = {0.01, 0.04, 0.03, 0.005, 0.5, 0.04}, adj[6];
    double want[6] = {0.03, 0.048, 0.048, 0.03, 0.5, 0.048};
    size_t order[6];
    weir_correct_pvalues(WEIR_CORRECTION_BH, p, 6, adj, order);
    for (int i = 0; i < 6; i++)
        cr_assert_float_eq(adj[i], want[i], 1e-12, "q[%d] = %g, want %g", i, adj[i], want[i]);
}

/* A bundle with two numeric features whose reference samples are a uniform
 * grid of @p n values over [0, 1000). */
static weir_model_t *grid_model_n(int n)
{
    size_t cap = (size_t)n * 40 + 4096;
    char *json = malloc(cap);
    size_t at =
        (size_t)snprintf(json, cap,
                         "{'format':'weir.model/1','name':'m','version':'1','task':'binary',"
                         "'features':[{'name':'x','source':'x','type':'numeric','transform':[]},"
                         "{'name':'y','source':'y','type':'numeric','transform':[]}],"
                         "'model':{'kind':'logistic','weights':[1,1],'bias':0},"
                         "'reference':{'features':{'x':{'n':1000,'std':288.7,'sample':[");
    for (int i = 0; i < n; i++)
        at += (size_t)snprintf(json + at, cap - at, "%s%.6f", i ? "," : "", i * 1000.0 / n);
    at += (size_t)snprintf(json + at, cap - at, "]},'y':{'n':1000,'std':288.7,'sample':[");
    for (int i = 0; i < n; i++)
        at += (size_t)snprintf(json + at, cap - at, "%s%.6f", i ? "," : "", i * 1000.0 / n);
    snprintf(json + at, cap - at, "]}}}}");
    weir_model_t *m = drift_test_model(json);
    free(json);
    return m;
}

static weir_model_t *grid_model(void)
{
    return grid_model_n(1000);
}

Test(policy, significant_but_tiny_shift_raises_no_alert)
{
    weir_model_t *m = grid_model_n(50000);
    weir_drift_config_t cfg;
    weir_drift_config_default(&cfg);
    cfg.window = 200000;
    cfg.step = 200000;
    cfg.numeric_tests = WEIR_DRIFT_BIT(WEIR_DRIFT_KS);
    cfg.multivariate_tests = 0; /* x alone is half the features: no dataset verdict here */
    cfg.k_fail = 1;
    weir_drift_t *d;
    char err[256];
    cr_assert_eq(weir_drift_new(m, &cfg, &d, err, sizeof(err)), 0, "%s", err);
    /* x: the reference shifted by 3% of its range: p ~ 0 at n = 200000, D ~ 0.03 */
    for (int i = 0; i < 200000; i++) {
        weir_value_t v[2] = {
            {.kind = WEIR_VALUE_NUMBER, .number = fmod(i * 0.618034 * 1000, 1000) + 30},
            {.kind = WEIR_VALUE_NUMBER, .number = fmod(i * 0.618034 * 1000, 1000)}};
        weir_drift_observe(d, v, NAN, i);
    }
    const weir_drift_change_t *changes;
    size_t n;
    weir_drift_evaluate(d, 200000, &changes, &n);
    const weir_drift_stat_t *ks = weir_drift_stat(d, 0);
    cr_assert_str_eq(ks->feature, "x");
    cr_assert_lt(ks->p_adjusted, 1e-6, "the shift is significant");
    cr_assert_lt(ks->effect, 0.1);
    cr_assert_eq(n, 0, "but it is smaller than the minimum effect: no alert");
    weir_drift_destroy(d);

    cfg.min_effect[WEIR_DRIFT_KS] = 0.02;
    cr_assert_eq(weir_drift_new(m, &cfg, &d, err, sizeof(err)), 0, "%s", err);
    for (int i = 0; i < 200000; i++) {
        weir_value_t v[2] = {
            {.kind = WEIR_VALUE_NUMBER, .number = fmod(i * 0.618034 * 1000, 1000) + 30},
            {.kind = WEIR_VALUE_NUMBER, .number = fmod(i * 0.618034 * 1000, 1000)}};
        weir_drift_observe(d, v, NAN, i);
    }
    weir_drift_evaluate(d, 200000, &changes, &n);
    cr_assert_eq(n, 1, "with a smaller minimum effect it alerts");
    cr_assert_eq(changes[0].kind, WEIR_DRIFT_DATA);
    cr_assert_str_eq(changes[0].feature, "x");
    cr_assert_eq(changes[0].window_count, 200000);
    cr_assert_eq(changes[0].reference_size, 50000);
    cr_assert_eq(changes[0].window_start_ms, 0);
    cr_assert_eq(changes[0].window_end_ms, 199999);
    weir_drift_destroy(d);
    weir_model_destroy(m);
}

Test(policy, large_effect_on_a_small_window_needs_significance)
{
    weir_model_t *m = grid_model();
    weir_drift_config_t cfg;
    weir_drift_config_default(&cfg);
    cfg.window = 20;
    cfg.min_count = 10;
    cfg.numeric_tests = WEIR_DRIFT_BIT(WEIR_DRIFT_KS);
    cfg.k_fail = 1;
    weir_drift_t *d;
    char err[256];
    cr_assert_eq(weir_drift_new(m, &cfg, &d, err, sizeof(err)), 0, "%s", err);
    /* 12 values of x from the upper 70%: D = 0.3, yet not significant at n = 12 */
    for (int i = 0; i < 12; i++) {
        weir_value_t v[2] = {{.kind = WEIR_VALUE_NUMBER, .number = 300 + i * 58},
                             {.kind = WEIR_VALUE_NUMBER, .number = i * 83}};
        weir_drift_observe(d, v, NAN, i);
    }
    const weir_drift_change_t *changes;
    size_t n;
    weir_drift_evaluate(d, 12, &changes, &n);
    const weir_drift_stat_t *ks = weir_drift_stat(d, 0);
    cr_assert_geq(ks->effect, 0.1);
    cr_assert_gt(ks->p_adjusted, 0.05);
    cr_assert_eq(n, 0);
    weir_drift_destroy(d);
    weir_model_destroy(m);
}

Test(policy, config_keys_set_knobs_and_name_the_key_on_error)
{
    weir_drift_config_t c;
    char err[256];
    weir_drift_config_default(&c);
    cr_assert_eq(weir_drift_config_set(&c, "drift.window", "20000", err, sizeof(err)), 0);
    cr_assert_eq(c.window, 20000);
    cr_assert_eq(weir_drift_config_set(&c, "drift.correction", "bh", err, sizeof(err)), 0);
    cr_assert_eq(c.correction, WEIR_CORRECTION_BH);
    cr_assert_eq(weir_drift_config_set(&c, "drift.ks.min_effect", "0.15", err, sizeof(err)), 0);
    cr_assert_float_eq(c.min_effect[WEIR_DRIFT_KS], 0.15, 0);
    cr_assert_eq(weir_drift_config_set(&c, "drift.time_window", "10m", err, sizeof(err)), 0);
    cr_assert_eq(c.time_window_ms, 600000);
    cr_assert_eq(
        weir_drift_config_set(&c, "drift.feature.amount.tests", "ks,psi", err, sizeof(err)), 0);
    cr_assert_eq(
        weir_drift_config_set(&c, "drift.feature.amount.psi.threshold", "0.3", err, sizeof(err)),
        0);
    cr_assert_eq(weir_drift_config_set(&c, "drift.feature.card.country.js.min_effect", "0.2", err,
                                       sizeof(err)),
                 0);
    cr_assert_eq(c.n_overrides, 2);
    cr_assert_str_eq(c.overrides[0].feature, "amount");
    cr_assert_eq(c.overrides[0].tests,
                 WEIR_DRIFT_BIT(WEIR_DRIFT_KS) | WEIR_DRIFT_BIT(WEIR_DRIFT_PSI));
    cr_assert_float_eq(c.overrides[0].threshold[WEIR_DRIFT_PSI], 0.3, 0);
    cr_assert_str_eq(c.overrides[1].feature, "card.country", "feature names may hold dots");
    cr_assert_eq(weir_drift_config_set(&c, "page_hinkley.mode", "both", err, sizeof(err)), 0);
    cr_assert_eq(c.page_hinkley.mode, WEIR_PH_BOTH);

    cr_assert_eq(weir_drift_config_set(&c, "drift.window", "lots", err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(strstr(err, "drift.window"), "%s", err);
    cr_assert_eq(weir_drift_config_set(&c, "drift.bogus", "1", err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(strstr(err, "drift.bogus"), "%s", err);
    cr_assert_eq(
        weir_drift_config_set(&c, "drift.feature.amount.tests", "ks,nope", err, sizeof(err)),
        WEIR_ECONFIG);
    cr_assert(strstr(err, "drift.feature.amount.tests"), "%s", err);
    cr_assert_eq(
        weir_drift_config_set(&c, "drift.feature.amount.zz.threshold", "1", err, sizeof(err)),
        WEIR_ECONFIG);
    cr_assert(strstr(err, "zz"), "%s", err);
    cr_assert_eq(weir_drift_config_set(&c, "drift.correction", "holm", err, sizeof(err)),
                 WEIR_ECONFIG);

    weir_drift_config_default(&c);
    c.k_fail = 0;
    cr_assert_eq(weir_drift_config_check(&c, err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(strstr(err, "drift.k_fail"), "%s", err);
}

Test(policy, override_naming_no_feature_is_refused)
{
    weir_model_t *m = grid_model();
    weir_drift_config_t c;
    weir_drift_t *d = NULL;
    char err[256];
    weir_drift_config_default(&c);
    cr_assert_eq(weir_drift_config_set(&c, "drift.feature.amout.tests", "ks", err, sizeof(err)), 0);
    cr_assert_eq(weir_drift_new(m, &c, &d, err, sizeof(err)), WEIR_ECONFIG);
    cr_assert(strstr(err, "drift.feature.amout"), "%s", err);
    weir_drift_config_default(&c);
    cr_assert_eq(weir_drift_config_set(&c, "drift.feature.x.tests", "chi2", err, sizeof(err)), 0);
    cr_assert_eq(weir_drift_new(m, &c, &d, err, sizeof(err)), WEIR_ECONFIG, "chi2 on numeric");
    weir_model_destroy(m);
}

Test(policy, per_feature_threshold_and_test_set_apply)
{
    weir_model_t *m = grid_model();
    weir_drift_config_t c;
    weir_drift_t *d = NULL;
    char err[256];
    weir_drift_config_default(&c);
    cr_assert_eq(
        weir_drift_config_set(&c, "drift.feature.x.tests", "ks,wasserstein", err, sizeof(err)), 0);
    cr_assert_eq(weir_drift_config_set(&c, "drift.feature.x.ks.threshold", "0.3", err, sizeof(err)),
                 0);
    cr_assert_eq(weir_drift_config_set(&c, "drift.feature.y.tests", "none", err, sizeof(err)), 0);
    cr_assert_eq(weir_drift_new(m, &c, &d, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_drift_stat_count(d), 3,
                 "y is off; x has ks and wasserstein; and the dataset verdict");
    cr_assert_eq(weir_drift_stat(d, 0)->test, WEIR_DRIFT_KS);
    cr_assert_float_eq(weir_drift_stat(d, 0)->threshold, 0.3, 0);
    cr_assert_eq(weir_drift_stat(d, 1)->test, WEIR_DRIFT_WASSERSTEIN);
    weir_drift_destroy(d);
    weir_model_destroy(m);
}

Test(policy, drift_enabled_is_on_by_default_and_takes_true_or_false)
{
    weir_drift_config_t c;
    char err[256];
    weir_drift_config_default(&c);
    cr_assert_eq(c.enabled, 1);
    cr_assert_eq(weir_drift_config_set(&c, "drift.enabled", "false", err, sizeof(err)), 0);
    cr_assert_eq(c.enabled, 0);
    cr_assert_eq(weir_drift_config_set(&c, "drift.enabled", "true", err, sizeof(err)), 0);
    cr_assert_eq(c.enabled, 1);
    cr_assert_eq(weir_drift_config_set(&c, "drift.enabled", "maybe", err, sizeof(err)),
                 WEIR_ECONFIG);
    cr_assert(strstr(err, "drift.enabled"), "%s", err);
}
