/*
 * test_concept.c — concept drift end to end: joined pairs drawn from the
 * example model's score reference with labels that follow the scores raise no
 * change; when the labels stop following the scores (a concept change), the
 * detectors and the windowed performance raise concept changes; windowed
 * metrics equal a recount; regression uses absolute errors.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "drift_test.h"

/* Pairs: score from the reference sample; before @p change_at the label is
 * 1 with probability score (calibrated), after it the errors multiply. */
static void run_pairs(weir_concept_t *c, const weir_model_t *m, uint64_t seed, long pairs,
                      long change_at, int *concept, int *recovered, long *first)
{
    const weir_reference_t *ref = weir_model_score_reference(m);
    double threshold = weir_model_threshold(m);
    drift_rng_t r;
    drift_rng_seed(&r, seed);
    *first = -1;
    for (long i = 0; i < pairs; i++) {
        double score = ref->sample[drift_rng_below(&r, ref->sample_len)];
        int predicted = score >= threshold;
        double p = change_at >= 0 && i >= change_at ? (predicted ? 0.2 : 0.08) : score;
        double label = drift_rng_uniform(&r) < p ? 1.0 : 0.0;
        weir_concept_observe(c, score, predicted, label, i);
        if (weir_concept_due(c, i)) {
            const weir_drift_change_t *ch;
            size_t n;
            weir_concept_evaluate(c, i, &ch, &n);
            for (size_t k = 0; k < n; k++) {
                cr_assert_null(ch[k].feature);
                if (ch[k].kind == WEIR_DRIFT_RECOVERED) {
                    (*recovered)++;
                    continue;
                }
                cr_assert_eq(ch[k].kind, WEIR_DRIFT_CONCEPT);
                concept[ch[k].test]++;
                if (*first < 0 && change_at >= 0 && i >= change_at)
                    *first = i - change_at;
            }
        }
    }
}

Test(concept, calibrated_labels_raise_no_concept_change)
{
    weir_model_t *m = drift_test_example_model();
    weir_concept_t *c;
    char err[256];
    int concept[WEIR_DRIFT_TEST__COUNT] = {0}, recovered = 0;
    long first;
    cr_assert_eq(weir_concept_new(m, NULL, &c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_concept_stat_count(c), 4);
    run_pairs(c, m, 21, 200000, -1, concept, &recovered, &first);
    for (int t = 0; t < WEIR_DRIFT_TEST__COUNT; t++)
        cr_assert_eq(concept[t], 0, "%s alerted on a stationary stream", weir_drift_test_name(t));
    weir_concept_summary_t s;
    weir_concept_summary(c, &s);
    cr_assert_eq(s.pairs, 200000);
    cr_assert_eq(s.window_count, 50000);
    cr_assert_eq(s.tp + s.fp + s.tn + s.fn, 50000);
    cr_assert(s.auc > 0.85 && s.auc <= 1.0, "auc %g", s.auc);
    cr_assert_float_eq(s.f1, 2.0 * s.tp / (2.0 * s.tp + s.fp + s.fn), 1e-15);
    cr_assert_float_eq(s.precision, (double)s.tp / (double)(s.tp + s.fp), 1e-15);
    weir_concept_destroy(c);
    weir_model_destroy(m);
}

Test(concept, labels_that_stop_following_the_scores_raise_concept_changes)
{
    weir_model_t *m = drift_test_example_model();
    weir_concept_t *c;
    char err[256];
    int concept[WEIR_DRIFT_TEST__COUNT] = {0}, recovered = 0;
    long first;
    cr_assert_eq(weir_concept_new(m, NULL, &c, err, sizeof(err)), 0, "%s", err);
    run_pairs(c, m, 22, 60000, 30000, concept, &recovered, &first);
    cr_assert_gt(concept[WEIR_DRIFT_PERFORMANCE], 0, "performance drop not flagged");
    cr_assert_gt(concept[WEIR_DRIFT_ADWIN] + concept[WEIR_DRIFT_DDM] +
                     concept[WEIR_DRIFT_PAGE_HINKLEY],
                 0, "no detector flagged");
    cr_assert(first >= 0 && first < 10000, "first concept change %ld pairs after", first);
    cr_log_info("concept change: first alert %ld pairs after; ddm %d adwin %d ph %d perf %d", first,
                concept[WEIR_DRIFT_DDM], concept[WEIR_DRIFT_ADWIN],
                concept[WEIR_DRIFT_PAGE_HINKLEY], concept[WEIR_DRIFT_PERFORMANCE]);
    const weir_drift_stat_t *perf = NULL;
    for (size_t i = 0; i < weir_concept_stat_count(c); i++)
        if (weir_concept_stat(c, i)->test == WEIR_DRIFT_PERFORMANCE)
            perf = weir_concept_stat(c, i);
    cr_assert_not_null(perf);
    cr_assert_not_null(perf->metric);
    cr_assert_geq(perf->effect, 0.3);
    weir_concept_destroy(c);
    weir_model_destroy(m);
}

Test(concept, regression_watches_absolute_errors_without_ddm)
{
    weir_model_t *m =
        drift_test_model("{'format':'weir.model/1','name':'r','version':'1','task':'regression',"
                         "'features':[{'name':'x','source':'x','type':'numeric','transform':[]}],"
                         "'model':{'kind':'linear','weights':[1],'bias':0},"
                         "'reference':{'performance':{'mae':0.8,'rmse':1.0,'r2':0.5,'n':1000}}}");
    weir_drift_config_t cfg;
    weir_drift_config_default(&cfg);
    cfg.step = 500;
    cfg.concept_window = 10000;
    /* PH in error units: the defaults (delta 0.005, threshold 50) suit 0/1 errors */
    cfg.page_hinkley.delta = 0.1;
    cfg.page_hinkley.threshold = 100;
    weir_concept_t *c;
    char err[256];
    drift_rng_t r;
    int concept = 0;
    cr_assert_eq(weir_concept_new(m, &cfg, &c, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_concept_stat_count(c), 3, "adwin, page_hinkley, performance");
    drift_rng_seed(&r, 23);
    for (long i = 0; i < 40000; i++) {
        double y = drift_rng_normal(&r) * 1.41;
        double noise = drift_rng_normal(&r) * (i < 20000 ? 1.0 : 2.5);
        weir_concept_observe(c, y + noise, -1, y, i);
        if (weir_concept_due(c, i)) {
            const weir_drift_change_t *ch;
            size_t n;
            weir_concept_evaluate(c, i, &ch, &n);
            for (size_t k = 0; k < n; k++) {
                if (ch[k].kind == WEIR_DRIFT_CONCEPT) {
                    cr_assert_geq(i, 20000, "%s alerted before the change",
                                  weir_drift_test_name(ch[k].test));
                    concept ++;
                }
            }
        }
    }
    cr_assert_gt(concept, 0);
    weir_concept_summary_t s;
    weir_concept_summary(c, &s);
    cr_assert(s.rmse > 2.0, "rmse %g", s.rmse);
    cr_assert(isnan(s.auc));
    weir_concept_destroy(c);
    weir_model_destroy(m);
}
