/*
 * cbpe.c — performance without labels for binary classifiers: confidence-
 * based performance estimation (NannyML's CBPE) over the score window.
 *
 * A calibrated score p is the probability that the prediction is positive,
 * so a prediction of class 1 adds p expected true positives and 1 - p false
 * positives, one of class 0 adds p false negatives and 1 - p true negatives.
 * The window keeps the four sums (compensated, so that millions of additions
 * and evictions leave no residue) and, per slot of the score's numeric window,
 * the sum of p: the expected ROC AUC is then one pass over the slots, each
 * slot's expected negatives counting the expected positives above them and
 * half of their own. Scores inside one interval between reference values count
 * as ties, so the estimate is exact for the reference's own values and within
 * the slot width elsewhere (tests/drift/test_cbpe.c bounds it).
 *
 * The baseline is the estimate on the reference score sample (what the
 * model's scores look like when nothing changed), and its noise at the
 * window's size comes from windows drawn from that sample at load time.
 */
#include "drift_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { TP, FP, FN, TN };

double weir_cbpe_probability(const weir_cbpe_window_t *c, double score)
{
    if (c->points == 0)
        return score < 0.0 ? 0.0 : score > 1.0 ? 1.0 : score;
    if (score <= c->cal_x[0])
        return c->cal_y[0];
    if (score >= c->cal_x[c->points - 1])
        return c->cal_y[c->points - 1];
    size_t lo = 0, hi = c->points - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->cal_x[mid] <= score)
            lo = mid;
        else
            hi = mid;
    }
    double t = (score - c->cal_x[lo]) / (c->cal_x[hi] - c->cal_x[lo]);
    return c->cal_y[lo] + t * (c->cal_y[hi] - c->cal_y[lo]);
}

/* The estimate from counts per distinct reference value (load-time draws and
 * the baseline): exact, since equal scores are ties. */
static void estimate_distinct(const weir_numeric_window_t *w, const double *p, const uint8_t *pred,
                              const uint64_t *count, weir_cbpe_t *out)
{
    memset(out, 0, sizeof(*out));
    double n = 0.0, above = 0.0, area = 0.0, pos_total = 0.0, neg_total = 0.0;
    for (size_t j = w->distinct; j-- > 0;) {
        double c = (double)count[j], pos = c * p[j], neg = c - pos;
        if (pred[j]) {
            out->tp += pos;
            out->fp += neg;
        } else {
            out->fn += pos;
            out->tn += neg;
        }
        area += neg * (above + pos / 2.0);
        above += pos;
        pos_total += pos;
        neg_total += neg;
        n += c;
    }
    weir__cbpe_finish(out, n);
    out->auc = pos_total > 0.0 && neg_total > 0.0 ? area / (pos_total * neg_total) : NAN;
}

static double stdev(const double *x, size_t n)
{
    double mean = 0.0, ss = 0.0;
    size_t used = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i])) {
            mean += x[i];
            used++;
        }
    if (used < 2)
        return NAN;
    mean /= (double)used;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i]))
            ss += (x[i] - mean) * (x[i] - mean);
    return sqrt(ss / (double)(used - 1));
}

int weir_cbpe_window_init(weir_cbpe_window_t *c, const weir_numeric_window_t *w,
                          const weir_model_t *model, uint64_t expected_n, uint32_t draws,
                          uint64_t seed)
{
    int rc = WEIR_ENOMEM;
    const weir_calibration_t *cal = weir_model_calibration(model);
    size_t dm = w->distinct, r = w->sample_size;
    double *p = NULL, *f1 = NULL, *auc = NULL;
    uint8_t *pred = NULL;
    uint64_t *count = NULL;
    uint32_t *distinct_of = NULL;
    memset(c, 0, sizeof(*c));
    c->threshold = weir_model_threshold(model);
    c->sample_size = r;
    if (cal) {
        c->points = cal->points;
        c->cal_x = malloc(c->points * sizeof(double));
        c->cal_y = malloc(c->points * sizeof(double));
        if (!c->cal_x || !c->cal_y)
            goto out;
        memcpy(c->cal_x, cal->scores, c->points * sizeof(double));
        memcpy(c->cal_y, cal->probabilities, c->points * sizeof(double));
    }
    c->p = malloc(w->capacity * sizeof(double));
    c->pred = malloc(w->capacity);
    c->slot_p = calloc(2 * dm + 1, sizeof(weir_ksum_t));
    p = malloc(dm * sizeof(double));
    pred = malloc(dm);
    count = malloc(dm * sizeof(uint64_t));
    distinct_of = malloc(r * sizeof(uint32_t));
    f1 = malloc(draws * sizeof(double));
    auc = malloc(draws * sizeof(double));
    if (!c->p || !c->pred || !c->slot_p || !p || !pred || !count || !distinct_of || !f1 || !auc)
        goto out;
    memset(c->pred, 2, w->capacity);
    for (size_t j = 0, i = 0; j < dm; j++) {
        p[j] = weir_cbpe_probability(c, w->values[j]);
        pred[j] = w->values[j] >= c->threshold;
        count[j] = w->cum[j] - (j ? w->cum[j - 1] : 0);
        while (i < w->cum[j])
            distinct_of[i++] = (uint32_t)j;
    }
    estimate_distinct(w, p, pred, count, &c->reference);
    /* the estimate's own noise: windows of the expected size (capped, and
       scaled back by sqrt(n) at evaluation) drawn from the sample */
    c->sim_n = (uint64_t)weir__n_eff(expected_n, r);
    if (c->sim_n > 2000)
        c->sim_n = 2000;
    if (c->sim_n < 1)
        c->sim_n = 1;
    weir_rng_t rng = {seed};
    for (uint32_t t = 0; t < draws; t++) {
        weir_cbpe_t e;
        memset(count, 0, dm * sizeof(uint64_t));
        for (uint64_t i = 0; i < c->sim_n; i++)
            count[distinct_of[weir__rng_next(&rng) % r]]++;
        estimate_distinct(w, p, pred, count, &e);
        f1[t] = e.f1;
        auc[t] = e.auc;
    }
    c->f1_sd = stdev(f1, draws);
    c->auc_sd = stdev(auc, draws);
    rc = 0;
out:
    free(p);
    free(pred);
    free(count);
    free(distinct_of);
    free(f1);
    free(auc);
    if (rc)
        weir_cbpe_window_dispose(c);
    return rc;
}

void weir_cbpe_window_dispose(weir_cbpe_window_t *c)
{
    free(c->cal_x);
    free(c->cal_y);
    free(c->p);
    free(c->pred);
    free(c->slot_p);
    memset(c, 0, sizeof(*c));
}

void weir_cbpe_window_push(weir_cbpe_window_t *c, const weir_numeric_window_t *w, uint32_t pos,
                           double v)
{
    double p = weir_cbpe_probability(c, v);
    int pred = v >= c->threshold;
    c->p[pos] = p;
    c->pred[pos] = (uint8_t)pred;
    weir_ksum_add(&c->sum[pred ? TP : FN], p);
    weir_ksum_add(&c->sum[pred ? FP : TN], 1.0 - p);
    weir_ksum_add(&c->slot_p[w->slot[pos]], p);
    c->n++;
}

void weir_cbpe_window_evict(weir_cbpe_window_t *c, const weir_numeric_window_t *w, uint32_t pos)
{
    if (c->pred[pos] == 2)
        return;
    double p = c->p[pos];
    int pred = c->pred[pos];
    weir_ksum_add(&c->sum[pred ? TP : FN], -p);
    weir_ksum_add(&c->sum[pred ? FP : TN], -(1.0 - p));
    weir_ksum_add(&c->slot_p[w->slot[pos]], -p);
    c->pred[pos] = 2;
    if (--c->n == 0) {
        memset(c->sum, 0, sizeof(c->sum));
        memset(c->slot_p, 0, (2 * w->distinct + 1) * sizeof(weir_ksum_t));
    }
}

void weir_cbpe_window_estimate(const weir_cbpe_window_t *c, const weir_numeric_window_t *w,
                               weir_cbpe_t *out)
{
    memset(out, 0, sizeof(*out));
    out->tp = weir_ksum_value(&c->sum[TP]);
    out->fp = weir_ksum_value(&c->sum[FP]);
    out->fn = weir_ksum_value(&c->sum[FN]);
    out->tn = weir_ksum_value(&c->sum[TN]);
    weir__cbpe_finish(out, (double)c->n);
    double above = 0.0, area = 0.0, pos_total = 0.0, neg_total = 0.0;
    for (size_t s = 2 * w->distinct + 1; s-- > 0;) {
        double cnt = (double)w->slot_count[s];
        if (cnt == 0.0)
            continue;
        double pos = weir_ksum_value(&c->slot_p[s]), neg = cnt - pos;
        area += neg * (above + pos / 2.0);
        above += pos;
        pos_total += pos;
        neg_total += neg;
    }
    out->auc = pos_total > 0.0 && neg_total > 0.0 ? area / (pos_total * neg_total) : NAN;
}
