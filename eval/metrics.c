/*
 * metrics.c — multiclass and regression metrics, and the distribution
 * summaries (numpy's quantile, moments) that reports and profiles share.
 */
#include "eval.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    return x < y ? -1 : x > y ? 1 : 0;
}

void weir_eval_sort(double *x, size_t n)
{
    qsort(x, n, sizeof(double), cmp_double);
}

double weir_eval_quantile(const double *sorted, size_t n, double q)
{
    if (n == 0 || isnan(q))
        return NAN;
    /* numpy's linear method, in numpy's own arithmetic: the virtual index
     * n*q + (alpha + q*(1 - alpha - beta)) - 1 with alpha = beta = 1, and a
     * lerp that runs from the nearer end */
    double virtual_index = (double)n * q + (1.0 + q * (1.0 - 1.0 - 1.0)) - 1.0;
    if (virtual_index <= 0)
        return sorted[0];
    if (virtual_index >= (double)(n - 1))
        return sorted[n - 1];
    double below = floor(virtual_index);
    double t = virtual_index - below;
    size_t i = (size_t)below;
    double a = sorted[i], b = sorted[i + 1 < n ? i + 1 : n - 1];
    double diff = b - a;
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

void weir_eval_moments(const double *x, size_t n, weir_eval_moments_t *out)
{
    uint64_t k = 0;
    double sum = 0, min = NAN, max = NAN;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            continue;
        sum += x[i];
        if (k == 0 || x[i] < min)
            min = x[i];
        if (k == 0 || x[i] > max)
            max = x[i];
        k++;
    }
    double mean = k ? sum / (double)k : NAN, ss = 0;
    for (size_t i = 0; i < n && k; i++)
        if (isfinite(x[i]))
            ss += (x[i] - mean) * (x[i] - mean);
    out->n = k;
    out->mean = mean;
    out->std = k ? sqrt(ss / (double)k) : NAN;
    out->min = min;
    out->max = max;
}

/* ROC AUC of one class against the rest, from its column of probabilities. */
static double ovr_auc(const double *proba, const int *label, const uint8_t *keep, size_t n,
                      size_t k, size_t cls, double *score, uint8_t *positive)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        score[m] = proba[i * k + cls];
        positive[m] = label[i] == (int)cls;
        m++;
    }
    weir_eval_curve_t *c;
    if (weir_eval_curve_new(score, positive, m, &c) != 0)
        return NAN;
    double auc = weir_eval_curve_roc_auc(c);
    weir_eval_curve_destroy(c);
    return auc;
}

int weir_eval_multiclass(const int *predicted, const int *label, const double *proba, size_t n,
                         size_t k, weir_eval_multiclass_t *out, double *precision, double *recall,
                         double *f1, uint64_t *support, uint64_t *confusion)
{
    int rc = 0;
    uint64_t *cm = NULL;
    uint8_t *keep = NULL, *positive = NULL;
    double *score = NULL;
    memset(out, 0, sizeof(*out));
    out->log_loss = out->roc_auc_ovr = NAN;
    if (k < 2 || k > (1u << 16))
        return WEIR_EINVAL;
    cm = calloc(k * k, sizeof(uint64_t));
    keep = calloc(n ? n : 1, 1);
    if (!cm || !keep) {
        rc = WEIR_ENOMEM;
        goto out;
    }
    uint64_t rows = 0, correct = 0;
    for (size_t i = 0; i < n; i++) {
        if (label[i] < 0 || (size_t)label[i] >= k || predicted[i] < 0 || (size_t)predicted[i] >= k)
            continue;
        keep[i] = 1;
        cm[(size_t)label[i] * k + (size_t)predicted[i]]++;
        correct += label[i] == predicted[i];
        rows++;
    }
    out->n = rows;
    out->accuracy = rows ? (double)correct / (double)rows : NAN;
    double sum_p = 0, sum_r = 0, sum_f = 0, w_p = 0, w_r = 0, w_f = 0;
    for (size_t c = 0; c < k; c++) {
        uint64_t tp = cm[c * k + c], predicted_c = 0, actual_c = 0;
        for (size_t j = 0; j < k; j++) {
            predicted_c += cm[j * k + c];
            actual_c += cm[c * k + j];
        }
        weir_eval_confusion_t one = {tp, predicted_c - tp, 0, actual_c - tp};
        weir_eval_prf_t prf;
        weir_eval_prf(&one, &prf);
        sum_p += prf.precision;
        sum_r += prf.recall;
        sum_f += prf.f1;
        w_p += prf.precision * (double)actual_c;
        w_r += prf.recall * (double)actual_c;
        w_f += prf.f1 * (double)actual_c;
        if (precision)
            precision[c] = prf.precision;
        if (recall)
            recall[c] = prf.recall;
        if (f1)
            f1[c] = prf.f1;
        if (support)
            support[c] = actual_c;
    }
    out->macro_precision = sum_p / (double)k;
    out->macro_recall = sum_r / (double)k;
    out->macro_f1 = sum_f / (double)k;
    out->weighted_precision = rows ? w_p / (double)rows : 0.0;
    out->weighted_recall = rows ? w_r / (double)rows : 0.0;
    out->weighted_f1 = rows ? w_f / (double)rows : 0.0;
    if (confusion)
        memcpy(confusion, cm, k * k * sizeof(uint64_t));

    if (proba && rows) {
        const double eps = DBL_EPSILON;
        double loss = 0;
        for (size_t i = 0; i < n; i++) {
            if (!keep[i])
                continue;
            double p = proba[i * k + (size_t)label[i]];
            p = p < eps ? eps : p > 1 - eps ? 1 - eps : p;
            loss -= log(p);
        }
        out->log_loss = loss / (double)rows;
        score = malloc(rows * sizeof(double));
        positive = malloc(rows);
        if (!score || !positive) {
            rc = WEIR_ENOMEM;
            goto out;
        }
        double auc_sum = 0;
        for (size_t c = 0; c < k; c++)
            auc_sum += ovr_auc(proba, label, keep, n, k, c, score, positive);
        out->roc_auc_ovr = auc_sum / (double)k;
    }
out:
    free(cm);
    free(keep);
    free(score);
    free(positive);
    return rc;
}

int weir_eval_regression(const double *predicted, const double *label, size_t n,
                         weir_eval_regression_t *out)
{
    int rc = 0;
    double *abs_err = malloc((n ? n : 1) * sizeof(double));
    memset(out, 0, sizeof(*out));
    out->mae = out->mse = out->rmse = out->r2 = out->mape = NAN;
    out->median_ae = out->max_error = out->bias = NAN;
    if (!abs_err)
        return WEIR_ENOMEM;
    size_t m = 0;
    double sum_y = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(predicted[i]) || !isfinite(label[i]))
            continue;
        sum_y += label[i];
        m++;
    }
    if (m == 0)
        goto out;
    double mean_y = sum_y / (double)m;
    double sum_abs = 0, sum_sq = 0, sum_tot = 0, sum_pct = 0, sum_err = 0, max_err = 0;
    m = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(predicted[i]) || !isfinite(label[i]))
            continue;
        double e = label[i] - predicted[i], a = fabs(e);
        sum_abs += a;
        sum_sq += e * e;
        sum_tot += (label[i] - mean_y) * (label[i] - mean_y);
        double denom = fabs(label[i]) > DBL_EPSILON ? fabs(label[i]) : DBL_EPSILON;
        sum_pct += a / denom;
        sum_err += predicted[i] - label[i];
        if (a > max_err)
            max_err = a;
        abs_err[m++] = a;
    }
    out->n = m;
    out->mae = sum_abs / (double)m;
    out->mse = sum_sq / (double)m;
    out->rmse = sqrt(out->mse);
    out->r2 = sum_tot != 0 ? 1.0 - sum_sq / sum_tot : sum_sq == 0 ? 1.0 : 0.0;
    out->mape = sum_pct / (double)m;
    out->bias = sum_err / (double)m;
    out->max_error = max_err;
    weir_eval_sort(abs_err, m);
    out->median_ae =
        m % 2 ? abs_err[m / 2] : (abs_err[m / 2 - 1] + abs_err[m / 2]) / 2; /* numpy.median */
out:
    free(abs_err);
    return rc;
}
