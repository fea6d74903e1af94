/*
 * policy.c — alert hygiene: how test results become state changes.
 *
 * Each key (feature or score or concept detector, test) is a small state
 * machine. A failing evaluation counts toward k consecutive failures, which
 * raise an alert (kind data, prediction or concept) unless the key is in its
 * cooldown; a passing one counts toward m consecutive passes, which recover
 * an open alert (kind recovered) and start the cooldown: no new alert for that
 * key during `cooldown` evaluations and `cooldown_ms`. An open warning whose
 * effect reaches the critical band is escalated once (a second record of the
 * same kind, severity critical); a key that cannot be evaluated (too few
 * values) keeps its state and counters. One record per transition, never one
 * per evaluation: no alert storms.
 *
 * The multiple-testing correction is applied to the p-values of one
 * evaluation before the verdicts are taken: Bonferroni (family-wise error
 * rate) by default, Benjamini-Hochberg (false discovery rate) as an option.
 */
#include "drift_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

weir_drift_severity_t weir_policy_severity(double effect, double threshold, double critical_factor)
{
    return effect >= critical_factor * threshold ? WEIR_SEVERITY_CRITICAL : WEIR_SEVERITY_WARNING;
}

static void fill_change(const weir_key_t *key, weir_drift_kind_t kind,
                        weir_drift_severity_t severity, weir_drift_change_t *c)
{
    const weir_drift_stat_t *s = &key->stat;
    memset(c, 0, sizeof(*c));
    c->kind = kind;
    c->recovered_from = key->kind;
    c->feature = s->feature;
    c->test = s->test;
    c->metric = s->metric;
    c->statistic = s->statistic;
    c->effect = s->effect;
    c->p_value = s->p_value;
    c->p_adjusted = s->p_adjusted;
    c->threshold = s->threshold;
    c->window_count = s->window_count;
    c->reference_size = s->reference_size;
    c->severity = severity;
}

int weir_policy_apply(const weir_policy_t *p, weir_key_t *key, weir_verdict_t verdict,
                      weir_drift_severity_t severity, uint64_t eval_index, int64_t now_ms,
                      weir_drift_change_t *change)
{
    weir_drift_stat_t *s = &key->stat;
    int changed = 0;
    if (verdict == WEIR_VERDICT_SKIP)
        goto out;
    if (verdict == WEIR_VERDICT_FAIL) {
        s->consecutive_fails++;
        s->consecutive_passes = 0;
        if (s->state == WEIR_SEVERITY_INFO) {
            int cooling = key->recovered && (eval_index - key->recovered_eval < p->cooldown ||
                                             now_ms - key->recovered_ms < p->cooldown_ms);
            if (s->consecutive_fails >= p->k_fail && !cooling) {
                s->state = severity;
                s->alerts++;
                fill_change(key, key->kind, severity, change);
                changed = 1;
            }
        } else if (severity > s->state) {
            s->state = severity;
            fill_change(key, key->kind, severity, change);
            changed = 1;
        }
        goto out;
    }
    s->consecutive_passes++;
    s->consecutive_fails = 0;
    if (s->state != WEIR_SEVERITY_INFO && s->consecutive_passes >= p->m_pass) {
        s->state = WEIR_SEVERITY_INFO;
        key->recovered = 1;
        key->recovered_eval = eval_index;
        key->recovered_ms = now_ms;
        fill_change(key, WEIR_DRIFT_RECOVERED, WEIR_SEVERITY_INFO, change);
        changed = 1;
    }
out:
    return changed;
}

/* Heapsort of indices by their p-value (ties need no order: BH gives tied
 * p-values the same adjusted value). */
static void sift_down(const double *p, size_t *order, size_t root, size_t n)
{
    for (size_t child; (child = 2 * root + 1) < n; root = child) {
        if (child + 1 < n && p[order[child + 1]] > p[order[child]])
            child++;
        if (!(p[order[child]] > p[order[root]]))
            break;
        size_t t = order[root];
        order[root] = order[child];
        order[child] = t;
    }
}

static void sort_by_p(const double *p, size_t *order, size_t n)
{
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    for (size_t i = n / 2; i-- > 0;)
        sift_down(p, order, i, n);
    for (size_t end = n; end-- > 1;) {
        size_t t = order[0];
        order[0] = order[end];
        order[end] = t;
        sift_down(p, order, 0, end);
    }
}

void weir_correct_pvalues(weir_drift_correction_t method, const double *p, size_t n,
                          double *adjusted, size_t *order)
{
    if (method == WEIR_CORRECTION_NONE) {
        memcpy(adjusted, p, n * sizeof(*p));
        return;
    }
    if (method == WEIR_CORRECTION_BONFERRONI) {
        for (size_t i = 0; i < n; i++)
            adjusted[i] = p[i] * (double)n < 1.0 ? p[i] * (double)n : 1.0;
        return;
    }
    /* Benjamini-Hochberg: q_(i) = min over j >= i of p_(j)·n/j, capped at 1. */
    sort_by_p(p, order, n);
    double running = 1.0;
    for (size_t r = n; r-- > 0;) {
        double q = p[order[r]] * (double)n / (double)(r + 1);
        if (q < running)
            running = q;
        adjusted[order[r]] = running;
    }
}
