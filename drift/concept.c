/*
 * concept.c — concept drift: the model's errors on joined (prediction, label)
 * pairs. Three sequential detectors watch the error stream pair by pair (DDM,
 * ADWIN, Page-Hinkley; detectors.c), and a window of the last
 * `concept_window` pairs gives the performance metrics that are compared with
 * the bundle's reference performance at each evaluation.
 *
 * The error of a pair is 1 when the predicted class differs from the label
 * (classification) and the absolute error |score - label| for regression.
 * DDM assumes 0/1 errors, so it is off for regression; ADWIN and
 * Page-Hinkley take the absolute error as it is.
 *
 * Performance fails when a metric degrades, relative to the reference, by at
 * least the performance threshold: AUC and F1 for binary models, accuracy for
 * multiclass ones, MAE and RMSE (relative increase) and R² (relative drop)
 * for regression. The metric at fault is named in the record.
 */
#include "drift_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CONFUSION_MAX_CLASSES 64

enum { K_DDM, K_ADWIN, K_PH, K_PERFORMANCE, K_COUNT };

struct weir_concept {
    weir_drift_config_t cfg;
    weir_policy_t policy;
    weir_task_t task;
    size_t classes;
    weir_performance_t reference;
    weir_ddm_t ddm;
    weir_adwin_t adwin;
    weir_page_hinkley_t ph;
    int enabled[K_COUNT];
    int detected[K_COUNT]; /* since the last evaluation */
    uint64_t detections[K_COUNT];
    /* the window of pairs */
    uint64_t capacity, head, count;
    double *score, *label;
    int32_t *predicted;
    int64_t *times;
    uint64_t pairs, since_eval, evaluations;
    /* keys and results */
    weir_key_t keys[K_COUNT];
    int key_of[K_COUNT]; /* index in keys, or -1 */
    size_t n_keys;
    weir_drift_change_t changes[K_COUNT];
    size_t n_changes;
    weir_auc_pair_t *auc_pairs;
    uint64_t *confusion;
    weir_concept_summary_t summary;
};

int weir_concept_new(const weir_model_t *model, const weir_drift_config_t *cfg,
                     weir_concept_t **out, char *err, size_t errsz)
{
    int rc = WEIR_ENOMEM;
    weir_concept_t *c = calloc(1, sizeof(*c));
    *out = NULL;
    if (!c)
        goto nomem;
    if (cfg)
        c->cfg = *cfg;
    else
        weir_drift_config_default(&c->cfg);
    if ((rc = weir_drift_config_check(&c->cfg, err, errsz)) != 0)
        goto out;
    c->policy =
        (weir_policy_t){c->cfg.concept_k_fail, c->cfg.m_pass, c->cfg.cooldown, c->cfg.cooldown_ms};
    c->task = weir_model_task(model);
    c->classes = weir_model_class_count(model);
    c->reference = *weir_model_performance(model);
    c->capacity = c->cfg.concept_window;
    weir_ddm_init(&c->ddm, &c->cfg.ddm);
    weir_page_hinkley_init(&c->ph, &c->cfg.page_hinkley);
    if ((rc = weir_adwin_init(&c->adwin, &c->cfg.adwin)) != 0) {
        rc = weir_seterr(err, errsz, rc == WEIR_EINVAL ? WEIR_ECONFIG : rc,
                         "drift.adwin: cannot start ADWIN");
        goto out;
    }
    unsigned tests = c->cfg.concept_tests;
    c->enabled[K_DDM] = (tests & WEIR_DRIFT_BIT(WEIR_DRIFT_DDM)) && c->task != WEIR_TASK_REGRESSION;
    c->enabled[K_ADWIN] = (tests & WEIR_DRIFT_BIT(WEIR_DRIFT_ADWIN)) != 0;
    c->enabled[K_PH] = (tests & WEIR_DRIFT_BIT(WEIR_DRIFT_PAGE_HINKLEY)) != 0;
    c->enabled[K_PERFORMANCE] = (tests & WEIR_DRIFT_BIT(WEIR_DRIFT_PERFORMANCE)) != 0;

    rc = WEIR_ENOMEM;
    c->score = malloc(c->capacity * sizeof(double));
    c->label = malloc(c->capacity * sizeof(double));
    c->predicted = malloc(c->capacity * sizeof(int32_t));
    c->times = malloc(c->capacity * sizeof(int64_t));
    c->auc_pairs = malloc(c->capacity * sizeof(weir_auc_pair_t));
    if (!c->score || !c->label || !c->predicted || !c->times || !c->auc_pairs)
        goto nomem;
    if (c->task == WEIR_TASK_MULTICLASS && c->classes <= CONFUSION_MAX_CLASSES) {
        c->confusion = calloc(c->classes * c->classes, sizeof(uint64_t));
        if (!c->confusion)
            goto nomem;
    }
    static const weir_drift_test_t tests_of[K_COUNT] = {
        WEIR_DRIFT_DDM, WEIR_DRIFT_ADWIN, WEIR_DRIFT_PAGE_HINKLEY, WEIR_DRIFT_PERFORMANCE};
    for (int k = 0; k < K_COUNT; k++) {
        c->key_of[k] = -1;
        if (!c->enabled[k])
            continue;
        weir_key_t *key = &c->keys[c->n_keys];
        c->key_of[k] = (int)c->n_keys++;
        key->kind = WEIR_DRIFT_CONCEPT;
        key->stat.kind = WEIR_DRIFT_CONCEPT;
        key->stat.test = tests_of[k];
        key->stat.statistic = key->stat.effect = NAN;
        key->stat.p_value = key->stat.p_adjusted = NAN;
        key->stat.threshold = k == K_DDM     ? c->cfg.ddm.drift_threshold
                              : k == K_ADWIN ? c->cfg.adwin.delta
                              : k == K_PH    ? c->cfg.page_hinkley.threshold
                                             : c->cfg.min_effect[WEIR_DRIFT_PERFORMANCE];
    }
    memset(&c->summary, 0, sizeof(c->summary));
    c->summary.classes = c->classes;
    *out = c;
    c = NULL;
    rc = 0;
    goto out;
nomem:
    rc = weir_seterr(err, errsz, WEIR_ENOMEM, "drift: out of memory for concept drift");
out:
    weir_concept_destroy(c);
    return rc;
}

void weir_concept_destroy(weir_concept_t *c)
{
    if (!c)
        return;
    weir_adwin_dispose(&c->adwin);
    free(c->score);
    free(c->label);
    free(c->predicted);
    free(c->times);
    free(c->auc_pairs);
    free(c->confusion);
    free(c);
}

void weir_concept_observe(weir_concept_t *c, double score, int predicted_class, double label,
                          int64_t event_time_ms)
{
    if (isnan(label))
        return;
    double error;
    if (c->task == WEIR_TASK_REGRESSION) {
        if (!isfinite(score))
            return;
        error = fabs(score - label);
    } else {
        error = (double)predicted_class != label ? 1.0 : 0.0;
    }
    if (c->enabled[K_DDM] && weir_ddm_update(&c->ddm, error)) {
        c->detected[K_DDM] = 1;
        c->detections[K_DDM]++;
    }
    if (c->enabled[K_ADWIN] && weir_adwin_update(&c->adwin, error)) {
        c->detected[K_ADWIN] = 1;
        c->detections[K_ADWIN]++;
    }
    if (c->enabled[K_PH] && weir_page_hinkley_update(&c->ph, error)) {
        c->detected[K_PH] = 1;
        c->detections[K_PH]++;
    }
    if (c->count == c->capacity) {
        c->head = c->head + 1 == c->capacity ? 0 : c->head + 1;
        c->count--;
    }
    uint64_t slot = c->head + c->count;
    if (slot >= c->capacity)
        slot -= c->capacity;
    c->score[slot] = score;
    c->label[slot] = label;
    c->predicted[slot] = predicted_class;
    c->times[slot] = event_time_ms;
    c->count++;
    c->pairs++;
    c->since_eval++;
}

int weir_concept_due(const weir_concept_t *c, int64_t now_ms)
{
    (void)now_ms;
    return c->since_eval >= c->cfg.step;
}

/* Relative degradation of a metric; NaN when either side is unknown. */
static double degradation(double current, double reference, int higher_is_better)
{
    if (!isfinite(current) || !isfinite(reference))
        return NAN;
    if (higher_is_better)
        return reference > 0.0 ? (reference - current) / reference : NAN;
    return reference > 0.0 ? (current - reference) / reference : NAN;
}

static void consider(double drop, const char *metric, double *worst, const char **worst_metric)
{
    if (!isnan(drop) && (isnan(*worst) || drop > *worst)) {
        *worst = drop;
        *worst_metric = metric;
    }
}

/* Metrics of the window into the summary; the worst degradation and its metric. */
static void measure(weir_concept_t *c, double *worst, const char **metric)
{
    weir_concept_summary_t *s = &c->summary;
    uint64_t n = c->count;
    *worst = NAN;
    *metric = NULL;
    s->window_count = n;
    s->precision = s->recall = s->f1 = s->auc = s->accuracy = NAN;
    s->mae = s->rmse = s->r2 = NAN;
    s->tp = s->fp = s->tn = s->fn = 0;
    s->error_rate = NAN;
    if (n == 0)
        return;
    if (c->task == WEIR_TASK_REGRESSION) {
        double abs_sum = 0.0, sq_sum = 0.0, mean = 0.0, ss_tot = 0.0;
        for (uint64_t i = 0; i < n; i++)
            mean += c->label[i];
        mean /= (double)n;
        for (uint64_t i = 0; i < n; i++) {
            double e = c->score[i] - c->label[i];
            abs_sum += fabs(e);
            sq_sum += e * e;
            ss_tot += (c->label[i] - mean) * (c->label[i] - mean);
        }
        s->mae = abs_sum / (double)n;
        s->rmse = sqrt(sq_sum / (double)n);
        s->r2 = ss_tot > 0.0 ? 1.0 - sq_sum / ss_tot : NAN;
        s->error_rate = s->mae;
        consider(degradation(s->mae, c->reference.mae, 0), "mae", worst, metric);
        consider(degradation(s->rmse, c->reference.rmse, 0), "rmse", worst, metric);
        if (isfinite(s->r2) && isfinite(c->reference.r2) && c->reference.r2 > 0.0)
            consider((c->reference.r2 - s->r2) / c->reference.r2, "r2", worst, metric);
        return;
    }
    uint64_t correct = 0;
    if (c->confusion)
        memset(c->confusion, 0, c->classes * c->classes * sizeof(uint64_t));
    size_t pairs = 0;
    for (uint64_t i = 0; i < n; i++) {
        int label = (int)c->label[i], pred = c->predicted[i];
        correct += (double)pred == c->label[i];
        if (c->task == WEIR_TASK_BINARY) {
            s->tp += pred == 1 && label == 1;
            s->fp += pred == 1 && label != 1;
            s->fn += pred != 1 && label == 1;
            s->tn += pred != 1 && label != 1;
            if (isfinite(c->score[i]))
                c->auc_pairs[pairs++] = (weir_auc_pair_t){c->score[i], label == 1};
        } else if (c->confusion && label >= 0 && (size_t)label < c->classes && pred >= 0 &&
                   (size_t)pred < c->classes) {
            c->confusion[(size_t)label * c->classes + (size_t)pred]++;
        }
    }
    s->accuracy = (double)correct / (double)n;
    s->error_rate = 1.0 - s->accuracy;
    if (c->task == WEIR_TASK_BINARY) {
        if (s->tp + s->fp > 0)
            s->precision = (double)s->tp / (double)(s->tp + s->fp);
        if (s->tp + s->fn > 0)
            s->recall = (double)s->tp / (double)(s->tp + s->fn);
        if (2 * s->tp + s->fp + s->fn > 0)
            s->f1 = 2.0 * (double)s->tp / (double)(2 * s->tp + s->fp + s->fn);
        s->auc = weir_roc_auc(c->auc_pairs, pairs);
        consider(degradation(s->auc, c->reference.auc, 1), "auc", worst, metric);
        consider(degradation(s->f1, c->reference.f1, 1), "f1", worst, metric);
    } else {
        consider(degradation(s->accuracy, c->reference.accuracy, 1), "accuracy", worst, metric);
    }
}

int weir_concept_evaluate(weir_concept_t *c, int64_t now_ms, const weir_drift_change_t **changes,
                          size_t *n_changes)
{
    const weir_drift_config_t *cfg = &c->cfg;
    double worst;
    const char *metric;
    c->evaluations++;
    c->n_changes = 0;
    measure(c, &worst, &metric);

    int64_t start = c->count ? c->times[c->head] : 0;
    uint64_t last = c->head + c->count - 1;
    int64_t end = c->count ? c->times[last >= c->capacity ? last - c->capacity : last] : 0;
    for (int k = 0; k < K_COUNT; k++) {
        if (c->key_of[k] < 0)
            continue;
        weir_key_t *key = &c->keys[c->key_of[k]];
        weir_drift_stat_t *s = &key->stat;
        weir_verdict_t verdict;
        weir_drift_severity_t severity = WEIR_SEVERITY_WARNING;
        s->window_count = c->count;
        switch (k) {
        case K_DDM:
            /* distance of p + s from the best level, in units of s_min */
            s->statistic =
                c->ddm.n > (double)c->ddm.params.warm_start && c->ddm.s_min > 0.0
                    ? (c->ddm.p + sqrt(c->ddm.p * (1.0 - c->ddm.p) / c->ddm.n) - c->ddm.p_min) /
                          c->ddm.s_min
                    : NAN;
            s->window_count = (uint64_t)c->ddm.n;
            break;
        case K_ADWIN:
            s->statistic = weir_adwin_mean(&c->adwin);
            s->window_count = (uint64_t)c->adwin.width;
            break;
        case K_PH:
            s->statistic = c->ph.params.mode == WEIR_PH_DOWN
                               ? c->ph.max_decrease - c->ph.sum_decrease
                               : c->ph.sum_increase - c->ph.min_increase;
            s->window_count = (uint64_t)c->ph.n;
            break;
        default:
            break;
        }
        if (k != K_PERFORMANCE) {
            s->effect = s->statistic;
            s->evaluated = 1;
            verdict = c->detected[k] ? WEIR_VERDICT_FAIL : WEIR_VERDICT_PASS;
            c->detected[k] = 0;
        } else {
            s->statistic = s->effect = worst;
            s->metric = metric;
            s->reference_size = c->reference.n;
            s->evaluated = c->count >= cfg->concept_min_count && !isnan(worst);
            verdict = !s->evaluated           ? WEIR_VERDICT_SKIP
                      : worst >= s->threshold ? WEIR_VERDICT_FAIL
                                              : WEIR_VERDICT_PASS;
            if (s->evaluated)
                severity = weir_policy_severity(worst, s->threshold, cfg->critical_factor);
        }
        weir_drift_change_t *change = &c->changes[c->n_changes];
        if (weir_policy_apply(&c->policy, key, verdict, severity, c->evaluations, now_ms, change)) {
            change->window_start_ms = start;
            change->window_end_ms = end;
            c->n_changes++;
        }
    }
    c->since_eval = 0;
    *changes = c->changes;
    *n_changes = c->n_changes;
    return 0;
}

void weir_concept_summary(const weir_concept_t *c, weir_concept_summary_t *out)
{
    *out = c->summary;
    out->pairs = c->pairs;
    out->ddm_detections = c->detections[K_DDM];
    out->adwin_detections = c->detections[K_ADWIN];
    out->page_hinkley_detections = c->detections[K_PH];
    out->ddm_warning = c->ddm.warning;
    out->adwin_width = c->adwin.width;
    out->adwin_mean = weir_adwin_mean(&c->adwin);
    out->classes = c->classes;
    out->confusion = c->confusion;
}

size_t weir_concept_stat_count(const weir_concept_t *c)
{
    return c->n_keys;
}

const weir_drift_stat_t *weir_concept_stat(const weir_concept_t *c, size_t i)
{
    return i < c->n_keys ? &c->keys[i].stat : NULL;
}
