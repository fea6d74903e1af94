/*
 * test_metrics.c — every metric of eval/ against scikit-learn's on the same
 * scores and labels (golden/metrics.json, made by golden/make_golden.py), to
 * 1e-9; and the cost-optimal threshold against a brute-force search.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>

#include "eval.h"
#include "support.h"

#define TOL 1e-9

static json_t *golden;

static void load(void)
{
    golden = weir_test_load_json("eval/golden/metrics.json");
}

static void unload(void)
{
    json_decref(golden);
}

TestSuite(metrics, .init = load, .fini = unload);

static void expect(double got, json_t *want, const char *what, const char *name)
{
    if (json_is_null(want)) {
        cr_assert(isnan(got), "%s %s: %.17g, scikit-learn says undefined", name, what, got);
        return;
    }
    double w = json_number_value(want);
    cr_assert(fabs(got - w) <= TOL * (fabs(w) > 1 ? fabs(w) : 1),
              "%s %s: %.17g, scikit-learn %.17g", name, what, got, w);
}

static double *doubles(json_t *a, size_t *n)
{
    *n = json_array_size(a);
    double *out = malloc((*n ? *n : 1) * sizeof(double));
    for (size_t i = 0; i < *n; i++)
        out[i] = json_number_value(json_array_get(a, i));
    return out;
}

static uint8_t *flags(json_t *a)
{
    size_t n = json_array_size(a);
    uint8_t *out = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++)
        out[i] = json_integer_value(json_array_get(a, i)) != 0;
    return out;
}

static int *ints(json_t *a)
{
    size_t n = json_array_size(a);
    int *out = malloc((n ? n : 1) * sizeof(int));
    for (size_t i = 0; i < n; i++)
        out[i] = (int)json_integer_value(json_array_get(a, i));
    return out;
}

Test(metrics, binary_metrics_equal_scikit_learn)
{
    size_t i;
    json_t *c;
    cr_assert_geq(json_array_size(json_object_get(golden, "binary")), 6);
    json_array_foreach(json_object_get(golden, "binary"), i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        size_t n;
        double *score = doubles(json_object_get(c, "scores"), &n);
        uint8_t *y = flags(json_object_get(c, "labels"));
        weir_eval_curve_t *curve;
        cr_assert_eq(weir_eval_curve_new(score, y, n, &curve), 0);
        expect(weir_eval_curve_roc_auc(curve), json_object_get(c, "roc_auc"), "roc_auc", name);
        expect(weir_eval_curve_average_precision(curve), json_object_get(c, "average_precision"),
               "average_precision", name);
        expect(weir_eval_log_loss(score, y, n), json_object_get(c, "log_loss"), "log_loss", name);
        expect(weir_eval_brier(score, y, n), json_object_get(c, "brier"), "brier", name);
        size_t k;
        json_t *at;
        json_array_foreach(json_object_get(c, "at_threshold"), k, at)
        {
            double t = json_number_value(json_object_get(at, "threshold"));
            weir_eval_confusion_t cm, from_curve;
            weir_eval_confusion(score, y, n, t, &cm);
            weir_eval_curve_confusion_at(curve, t, &from_curve);
            cr_assert_eq(cm.tp, json_integer_value(json_object_get(at, "tp")), "%s tp@%g", name, t);
            cr_assert_eq(cm.fp, json_integer_value(json_object_get(at, "fp")), "%s fp@%g", name, t);
            cr_assert_eq(cm.tn, json_integer_value(json_object_get(at, "tn")), "%s tn@%g", name, t);
            cr_assert_eq(cm.fn, json_integer_value(json_object_get(at, "fn")), "%s fn@%g", name, t);
            cr_assert(cm.tp == from_curve.tp && cm.fp == from_curve.fp && cm.tn == from_curve.tn &&
                          cm.fn == from_curve.fn,
                      "%s: the curve's confusion at %g differs", name, t);
            weir_eval_prf_t prf;
            weir_eval_prf(&cm, &prf);
            expect(prf.precision, json_object_get(at, "precision"), "precision", name);
            expect(prf.recall, json_object_get(at, "recall"), "recall", name);
            expect(prf.f1, json_object_get(at, "f1"), "f1", name);
            expect(prf.accuracy, json_object_get(at, "accuracy"), "accuracy", name);
        }
        json_t *cal;
        json_array_foreach(json_object_get(c, "calibration"), k, cal)
        {
            size_t bins = (size_t)json_integer_value(json_object_get(cal, "bins"));
            int quantile = !strcmp(json_string_value(json_object_get(cal, "strategy")), "quantile");
            double pt[64], pp[64];
            uint64_t count[64];
            cr_assert_eq(
                weir_eval_calibration(score, y, n, bins,
                                      quantile ? WEIR_EVAL_BINS_QUANTILE : WEIR_EVAL_BINS_UNIFORM,
                                      NULL, pt, pp, count),
                0);
            /* scikit-learn lists the non-empty bins only, in order */
            json_t *want_t = json_object_get(cal, "prob_true");
            json_t *want_p = json_object_get(cal, "prob_pred");
            size_t at_bin = 0;
            for (size_t b = 0; b < bins; b++) {
                if (count[b] == 0)
                    continue;
                cr_assert_lt(at_bin, json_array_size(want_t), "%s: more non-empty bins", name);
                expect(pt[b], json_array_get(want_t, at_bin), "calibration prob_true", name);
                expect(pp[b], json_array_get(want_p, at_bin), "calibration prob_pred", name);
                at_bin++;
            }
            cr_assert_eq(at_bin, json_array_size(want_t), "%s: %zu non-empty bins, sklearn %zu",
                         name, at_bin, json_array_size(want_t));
        }
        weir_eval_curve_destroy(curve);
        free(score);
        free(y);
    }
}

Test(metrics, min_cost_threshold_is_the_brute_force_optimum)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(golden, "binary"), i, c)
    {
        size_t n;
        double *score = doubles(json_object_get(c, "scores"), &n);
        uint8_t *y = flags(json_object_get(c, "labels"));
        weir_eval_curve_t *curve;
        cr_assert_eq(weir_eval_curve_new(score, y, n, &curve), 0);
        const double costs[][2] = {{1, 1}, {1, 10}, {5, 1}, {0, 1}};
        for (size_t k = 0; k < 4; k++) {
            double t;
            weir_eval_confusion_t at;
            double best = weir_eval_curve_min_cost(curve, costs[k][0], costs[k][1], &t, &at);
            /* every candidate threshold, and none at all */
            double brute = INFINITY;
            for (size_t j = 0; j <= n; j++) {
                weir_eval_confusion_t cm;
                weir_eval_confusion(score, y, n, j < n ? score[j] : INFINITY, &cm);
                double cost = costs[k][0] * (double)cm.fp + costs[k][1] * (double)cm.fn;
                if (cost < brute)
                    brute = cost;
            }
            cr_assert_float_eq(best, brute, 1e-9);
            cr_assert_float_eq(costs[k][0] * (double)at.fp + costs[k][1] * (double)at.fn, best,
                               1e-9);
            weir_eval_confusion_t check;
            weir_eval_confusion(score, y, n, t, &check);
            cr_assert(check.tp == at.tp && check.fp == at.fp, "threshold %g does not give it", t);
        }
        weir_eval_curve_destroy(curve);
        free(score);
        free(y);
    }
}

Test(metrics, multiclass_metrics_equal_scikit_learn)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(golden, "multiclass"), i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        size_t k = (size_t)json_integer_value(json_object_get(c, "k"));
        json_t *rows = json_object_get(c, "proba");
        size_t n = json_array_size(rows);
        double *proba = malloc(n * k * sizeof(double));
        for (size_t r = 0; r < n; r++)
            for (size_t j = 0; j < k; j++)
                proba[r * k + j] = json_number_value(json_array_get(json_array_get(rows, r), j));
        int *pred = ints(json_object_get(c, "predicted"));
        int *label = ints(json_object_get(c, "labels"));
        double p[16], r[16], f[16];
        uint64_t support[16], cm[256];
        weir_eval_multiclass_t m;
        cr_assert_eq(weir_eval_multiclass(pred, label, proba, n, k, &m, p, r, f, support, cm), 0);
        for (size_t j = 0; j < k; j++) {
            expect(p[j], json_array_get(json_object_get(c, "precision"), j), "precision", name);
            expect(r[j], json_array_get(json_object_get(c, "recall"), j), "recall", name);
            expect(f[j], json_array_get(json_object_get(c, "f1"), j), "f1", name);
            cr_assert_eq(support[j],
                         json_integer_value(json_array_get(json_object_get(c, "support"), j)));
            for (size_t l = 0; l < k; l++)
                cr_assert_eq(cm[j * k + l],
                             json_integer_value(json_array_get(
                                 json_array_get(json_object_get(c, "confusion"), j), l)));
        }
        json_t *macro = json_object_get(c, "macro"), *weighted = json_object_get(c, "weighted");
        expect(m.macro_precision, json_object_get(macro, "precision"), "macro precision", name);
        expect(m.macro_recall, json_object_get(macro, "recall"), "macro recall", name);
        expect(m.macro_f1, json_object_get(macro, "f1"), "macro f1", name);
        expect(m.weighted_precision, json_object_get(weighted, "precision"), "weighted p", name);
        expect(m.weighted_recall, json_object_get(weighted, "recall"), "weighted r", name);
        expect(m.weighted_f1, json_object_get(weighted, "f1"), "weighted f1", name);
        expect(m.accuracy, json_object_get(c, "accuracy"), "accuracy", name);
        expect(m.log_loss, json_object_get(c, "log_loss"), "log_loss", name);
        expect(m.roc_auc_ovr, json_object_get(c, "roc_auc_ovr"), "roc_auc_ovr", name);
        free(proba);
        free(pred);
        free(label);
    }
}

Test(metrics, regression_metrics_equal_scikit_learn)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(golden, "regression"), i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        size_t n, n2;
        double *y = doubles(json_object_get(c, "labels"), &n);
        double *p = doubles(json_object_get(c, "predicted"), &n2);
        weir_eval_regression_t m;
        cr_assert_eq(weir_eval_regression(p, y, n, &m), 0);
        expect(m.mae, json_object_get(c, "mae"), "mae", name);
        expect(m.mse, json_object_get(c, "mse"), "mse", name);
        expect(m.rmse, json_object_get(c, "rmse"), "rmse", name);
        expect(m.r2, json_object_get(c, "r2"), "r2", name);
        expect(m.mape, json_object_get(c, "mape"), "mape", name);
        expect(m.median_ae, json_object_get(c, "median_ae"), "median_ae", name);
        expect(m.max_error, json_object_get(c, "max_error"), "max_error", name);
        free(y);
        free(p);
    }
}

Test(metrics, quantiles_equal_numpy)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(golden, "quantiles"), i, c)
    {
        size_t n, nq;
        double *a = doubles(json_object_get(c, "values"), &n);
        double *q = doubles(json_object_get(c, "q"), &nq);
        for (size_t j = 0; j < nq; j++)
            expect(weir_eval_quantile(a, n, q[j]),
                   json_array_get(json_object_get(c, "quantiles"), j), "quantile", "numpy");
        free(a);
        free(q);
    }
}

Test(metrics, undefined_metrics_are_nan_and_empty_inputs_are_safe)
{
    weir_eval_curve_t *curve;
    cr_assert_eq(weir_eval_curve_new(NULL, NULL, 0, &curve), 0);
    cr_assert(isnan(weir_eval_curve_roc_auc(curve)));
    cr_assert(isnan(weir_eval_curve_average_precision(curve)));
    double t;
    cr_assert(isnan(weir_eval_curve_min_cost(curve, 1, 1, &t, NULL)));
    weir_eval_curve_destroy(curve);
    cr_assert(isnan(weir_eval_log_loss(NULL, NULL, 0)));
    cr_assert(isnan(weir_eval_brier(NULL, NULL, 0)));
    weir_eval_regression_t r;
    cr_assert_eq(weir_eval_regression(NULL, NULL, 0, &r), 0);
    cr_assert(isnan(r.mae));
    double bad = 1.5, pt, pp;
    uint8_t y = 1;
    uint64_t count;
    cr_assert_eq(
        weir_eval_calibration(&bad, &y, 1, 1, WEIR_EVAL_BINS_UNIFORM, NULL, &pt, &pp, &count),
        WEIR_EINVAL);
}

Test(metrics, nan_scores_are_left_out_of_the_curve)
{
    double score[] = {0.9, NAN, 0.1, 0.8};
    uint8_t y[] = {1, 1, 0, 0};
    weir_eval_curve_t *curve;
    cr_assert_eq(weir_eval_curve_new(score, y, 4, &curve), 0);
    uint64_t pos, neg;
    weir_eval_curve_totals(curve, &pos, &neg);
    cr_assert_eq(pos, 1);
    cr_assert_eq(neg, 2);
    cr_assert_float_eq(weir_eval_curve_roc_auc(curve), 1.0, 1e-12);
    weir_eval_curve_destroy(curve);
}
