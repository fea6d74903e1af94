/*
 * binary.c — metrics of a binary classifier: the confusion matrix at a
 * threshold and what follows from it, the sorted curve behind ROC AUC,
 * average precision and the cost-optimal threshold, log loss, Brier score and
 * the reliability bins of calibration_curve. Each follows scikit-learn's
 * definition, including its clipping and its handling of ties.
 */
#include "eval.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct weir_eval_curve {
    size_t points;
    double *threshold; /* distinct scores, descending */
    uint64_t *tp, *fp; /* cumulative at or above threshold[i] */
    uint64_t positives, negatives;
};

typedef struct {
    double score;
    uint8_t positive;
} example_t;

static int by_score_desc(const void *a, const void *b)
{
    double x = ((const example_t *)a)->score, y = ((const example_t *)b)->score;
    return x < y ? 1 : x > y ? -1 : 0;
}

void weir_eval_prf(const weir_eval_confusion_t *c, weir_eval_prf_t *out)
{
    double tp = (double)c->tp, fp = (double)c->fp, fn = (double)c->fn, tn = (double)c->tn;
    out->precision = c->tp + c->fp ? tp / (tp + fp) : 0.0;
    out->recall = c->tp + c->fn ? tp / (tp + fn) : 0.0;
    /* F-beta as scikit-learn computes it: from the counts, 0 when undefined */
    out->f1 = 2 * c->tp + c->fp + c->fn ? 2 * tp / (2 * tp + fp + fn) : 0.0;
    double n = tp + fp + fn + tn;
    out->accuracy = n > 0 ? (tp + tn) / n : NAN;
}

void weir_eval_confusion(const double *score, const uint8_t *positive, size_t n, double threshold,
                         weir_eval_confusion_t *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        int decided = score[i] >= threshold;
        if (positive[i])
            decided ? out->tp++ : out->fn++;
        else
            decided ? out->fp++ : out->tn++;
    }
}

int weir_eval_curve_new(const double *score, const uint8_t *positive, size_t n,
                        weir_eval_curve_t **out)
{
    int rc = 0;
    example_t *ex = NULL;
    weir_eval_curve_t *c = calloc(1, sizeof(*c));
    *out = NULL;
    if (!c)
        return WEIR_ENOMEM;
    if (n > SIZE_MAX / sizeof(example_t) / 2) {
        rc = WEIR_EINVAL;
        goto out;
    }
    ex = malloc((n ? n : 1) * sizeof(*ex));
    if (!ex) {
        rc = WEIR_ENOMEM;
        goto out;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(score[i]))
            continue;
        ex[kept].score = score[i];
        ex[kept].positive = positive[i] ? 1 : 0;
        kept++;
    }
    qsort(ex, kept, sizeof(*ex), by_score_desc);
    size_t distinct = 0;
    for (size_t i = 0; i < kept; i++)
        if (i == 0 || ex[i].score != ex[i - 1].score)
            distinct++;
    c->threshold = malloc((distinct ? distinct : 1) * sizeof(double));
    c->tp = malloc((distinct ? distinct : 1) * sizeof(uint64_t));
    c->fp = malloc((distinct ? distinct : 1) * sizeof(uint64_t));
    if (!c->threshold || !c->tp || !c->fp) {
        rc = WEIR_ENOMEM;
        goto out;
    }
    uint64_t tp = 0, fp = 0;
    size_t at = 0;
    for (size_t i = 0; i < kept; i++) {
        ex[i].positive ? tp++ : fp++;
        if (i + 1 == kept || ex[i + 1].score != ex[i].score) {
            c->threshold[at] = ex[i].score;
            c->tp[at] = tp;
            c->fp[at] = fp;
            at++;
        }
    }
    c->points = distinct;
    c->positives = tp;
    c->negatives = fp;
out:
    free(ex);
    if (rc) {
        weir_eval_curve_destroy(c);
        c = NULL;
    }
    *out = c;
    return rc;
}

void weir_eval_curve_destroy(weir_eval_curve_t *c)
{
    if (!c)
        return;
    free(c->threshold);
    free(c->tp);
    free(c->fp);
    free(c);
}

size_t weir_eval_curve_points(const weir_eval_curve_t *c)
{
    return c->points;
}

void weir_eval_curve_point(const weir_eval_curve_t *c, size_t i, double *threshold, uint64_t *tp,
                           uint64_t *fp)
{
    *threshold = c->threshold[i];
    *tp = c->tp[i];
    *fp = c->fp[i];
}

void weir_eval_curve_totals(const weir_eval_curve_t *c, uint64_t *positives, uint64_t *negatives)
{
    *positives = c->positives;
    *negatives = c->negatives;
}

double weir_eval_curve_roc_auc(const weir_eval_curve_t *c)
{
    if (c->positives == 0 || c->negatives == 0)
        return NAN;
    /* trapezoids between consecutive (fpr, tpr) points, from (0, 0) */
    double area = 0, prev_fpr = 0, prev_tpr = 0;
    double p = (double)c->positives, n = (double)c->negatives;
    for (size_t i = 0; i < c->points; i++) {
        double fpr = (double)c->fp[i] / n, tpr = (double)c->tp[i] / p;
        area += (fpr - prev_fpr) * (tpr + prev_tpr) / 2;
        prev_fpr = fpr;
        prev_tpr = tpr;
    }
    return area;
}

double weir_eval_curve_average_precision(const weir_eval_curve_t *c)
{
    if (c->positives == 0)
        return NAN;
    double ap = 0, prev_recall = 0, p = (double)c->positives;
    for (size_t i = 0; i < c->points; i++) {
        double recall = (double)c->tp[i] / p;
        double precision = (double)c->tp[i] / (double)(c->tp[i] + c->fp[i]);
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
    }
    return ap;
}

double weir_eval_curve_min_cost(const weir_eval_curve_t *c, double cost_fp, double cost_fn,
                                double *threshold, weir_eval_confusion_t *confusion)
{
    if (c->positives + c->negatives == 0) {
        *threshold = NAN;
        if (confusion)
            memset(confusion, 0, sizeof(*confusion));
        return NAN;
    }
    /* "no positive at all" first: every positive is missed */
    double best = cost_fn * (double)c->positives;
    size_t best_i = SIZE_MAX;
    for (size_t i = 0; i < c->points; i++) {
        double cost = cost_fp * (double)c->fp[i] + cost_fn * (double)(c->positives - c->tp[i]);
        if (cost < best) {
            best = cost;
            best_i = i;
        }
    }
    *threshold = best_i == SIZE_MAX ? INFINITY : c->threshold[best_i];
    if (confusion) {
        uint64_t tp = best_i == SIZE_MAX ? 0 : c->tp[best_i];
        uint64_t fp = best_i == SIZE_MAX ? 0 : c->fp[best_i];
        confusion->tp = tp;
        confusion->fp = fp;
        confusion->fn = c->positives - tp;
        confusion->tn = c->negatives - fp;
    }
    return best;
}

void weir_eval_curve_confusion_at(const weir_eval_curve_t *c, double threshold,
                                  weir_eval_confusion_t *out)
{
    /* the last point whose threshold is >= threshold (thresholds descend) */
    size_t lo = 0, hi = c->points;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->threshold[mid] >= threshold)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t tp = lo ? c->tp[lo - 1] : 0, fp = lo ? c->fp[lo - 1] : 0;
    out->tp = tp;
    out->fp = fp;
    out->fn = c->positives - tp;
    out->tn = c->negatives - fp;
}

double weir_eval_log_loss(const double *score, const uint8_t *positive, size_t n)
{
    if (n == 0)
        return NAN;
    const double eps = DBL_EPSILON;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double p = positive[i] ? score[i] : 1 - score[i];
        p = p < eps ? eps : p > 1 - eps ? 1 - eps : p;
        sum -= log(p);
    }
    return sum / (double)n;
}

double weir_eval_brier(const double *score, const uint8_t *positive, size_t n)
{
    if (n == 0)
        return NAN;
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        double d = score[i] - (positive[i] ? 1.0 : 0.0);
        sum += d * d;
    }
    return sum / (double)n;
}

int weir_eval_calibration(const double *score, const uint8_t *positive, size_t n, size_t bins,
                          weir_eval_bins_t strategy, double *edges, double *prob_true,
                          double *prob_pred, uint64_t *count)
{
    int rc = 0;
    double *e = NULL, *sorted = NULL;
    double *sum_score = NULL, *sum_true = NULL;
    if (bins == 0 || bins > (1u << 20))
        return WEIR_EINVAL;
    e = malloc((bins + 1) * sizeof(double));
    sum_score = calloc(bins, sizeof(double));
    sum_true = calloc(bins, sizeof(double));
    if (!e || !sum_score || !sum_true) {
        rc = WEIR_ENOMEM;
        goto out;
    }
    if (strategy == WEIR_EVAL_BINS_UNIFORM) {
        for (size_t i = 0; i < n; i++)
            if (!(score[i] >= 0 && score[i] <= 1)) {
                rc = WEIR_EINVAL;
                goto out;
            }
        /* numpy.linspace(0, 1, bins + 1): i * step, the last edge exactly 1 */
        double step = 1.0 / (double)bins;
        for (size_t i = 0; i <= bins; i++)
            e[i] = (double)i * step;
        e[bins] = 1.0;
    } else {
        sorted = malloc((n ? n : 1) * sizeof(double));
        if (!sorted) {
            rc = WEIR_ENOMEM;
            goto out;
        }
        memcpy(sorted, score, n * sizeof(double));
        weir_eval_sort(sorted, n);
        size_t finite = n;
        while (finite > 0 && isnan(sorted[finite - 1]))
            finite--;
        double step = 1.0 / (double)bins;
        for (size_t i = 0; i <= bins; i++) {
            /* percentile(q * 100) is quantile(q * 100 / 100) */
            double q = (double)i * step;
            if (i == bins)
                q = 1.0;
            e[i] = weir_eval_quantile(sorted, finite, q * 100 / 100);
        }
    }
    for (size_t b = 0; b < bins; b++)
        count[b] = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(score[i]))
            continue;
        /* numpy.searchsorted(edges[1:-1], score): interior edges strictly below */
        size_t lo = 0, hi = bins - 1;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (e[1 + mid] < score[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        count[lo]++;
        sum_score[lo] += score[i];
        sum_true[lo] += positive[i] ? 1.0 : 0.0;
    }
    for (size_t b = 0; b < bins; b++) {
        prob_true[b] = count[b] ? sum_true[b] / (double)count[b] : NAN;
        prob_pred[b] = count[b] ? sum_score[b] / (double)count[b] : NAN;
    }
    if (edges)
        memcpy(edges, e, (bins + 1) * sizeof(double));
out:
    free(e);
    free(sorted);
    free(sum_score);
    free(sum_true);
    return rc;
}
