/*
 * guard.c — the probation of a new model version (guard.h): counts what it
 * does, compares it with the version it replaced, and says when to roll back.
 *
 * The KS distance is computed on sorted copies at most ten times per
 * probation (and once at its end), so its cost does not grow with the
 * batch rate; the dead-letter share and the label error rate are checked
 * after every batch, being counters.
 */
#include "guard.h"
#include "drift.h"

#include <stdlib.h>
#include <string.h>

void weir_score_ring_add(weir_score_ring_t *r, double score)
{
    r->scores[r->at] = score;
    r->at = (r->at + 1) % WEIR_GUARD_RECENT;
    if (r->n < WEIR_GUARD_RECENT)
        r->n++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void weir_guard_dispose(weir_guard_t *g)
{
    free(g->base);
    free(g->scores);
    free(g->sorted);
    memset(g, 0, sizeof(*g));
}

int weir_guard_start(weir_guard_t *g, const weir_guard_limits_t *limits,
                     const weir_score_ring_t *base, double base_dead_share)
{
    weir_guard_dispose(g);
    g->limits = *limits;
    if (limits->probation == 0)
        return 0;
    size_t cap =
        limits->probation < WEIR_GUARD_RECENT ? (size_t)limits->probation : WEIR_GUARD_RECENT;
    g->base = malloc((base->n ? base->n : 1) * sizeof(double));
    g->scores = malloc(cap * sizeof(double));
    g->sorted = malloc(cap * sizeof(double));
    if (!g->base || !g->scores || !g->sorted) {
        weir_guard_dispose(g);
        return WEIR_ENOMEM;
    }
    memcpy(g->base, base->scores, base->n * sizeof(double));
    g->base_n = base->n;
    qsort(g->base, g->base_n, sizeof(double), cmp_double);
    g->cap = cap;
    g->base_dead_share = base_dead_share;
    g->next_ks = limits->probation / 10 > WEIR_GUARD_MIN_SCORES ? limits->probation / 10
                                                                : WEIR_GUARD_MIN_SCORES;
    g->active = 1;
    return 0;
}

void weir_guard_scored(weir_guard_t *g, double score)
{
    if (!g->active)
        return;
    g->events++;
    if (g->n < g->cap)
        g->scores[g->n++] = score;
}

void weir_guard_dead(weir_guard_t *g)
{
    if (!g->active)
        return;
    g->events++;
    g->dead++;
}

void weir_guard_other(weir_guard_t *g)
{
    if (g->active)
        g->events++;
}

static weir_guard_state_t roll_back(weir_guard_t *g, weir_guard_verdict_t *v, const char *reason,
                                    int kind, double value, double limit)
{
    v->reason = reason;
    v->kind = kind;
    v->value = value;
    v->limit = limit;
    v->events = g->events;
    g->active = 0;
    return WEIR_GUARD_ROLLBACK;
}

weir_guard_state_t weir_guard_check(weir_guard_t *g, uint64_t joined, uint64_t wrong,
                                    uint64_t base_joined, uint64_t base_wrong,
                                    weir_guard_verdict_t *v)
{
    memset(v, 0, sizeof(*v));
    if (!g->active)
        return WEIR_GUARD_PASSED;
    const weir_guard_limits_t *l = &g->limits;
    int over = g->events >= l->probation;
    if (g->events >= WEIR_GUARD_MIN_EVENTS || (over && g->events > 0)) {
        double share = (double)g->dead / (double)g->events;
        double limit = g->base_dead_share + l->dead_share;
        if (share > limit)
            return roll_back(g, v, "dead_letter_share", 0, share, limit);
    }
    if ((g->n >= g->next_ks || over) && g->n >= WEIR_GUARD_MIN_SCORES &&
        g->base_n >= WEIR_GUARD_MIN_SCORES) {
        memcpy(g->sorted, g->scores, g->n * sizeof(double));
        qsort(g->sorted, g->n, sizeof(double), cmp_double);
        double d = weir_ks_statistic(g->base, g->base_n, g->sorted, g->n);
        g->next_ks = g->n + (l->probation / 10 > WEIR_GUARD_MIN_SCORES ? l->probation / 10
                                                                       : WEIR_GUARD_MIN_SCORES);
        if (d > l->score_drift)
            return roll_back(g, v, "score_drift", 1, d, l->score_drift);
    }
    if (joined >= WEIR_GUARD_MIN_LABELS && base_joined >= WEIR_GUARD_MIN_LABELS) {
        double rate = (double)wrong / (double)joined;
        double limit = (double)base_wrong / (double)base_joined + l->error_rate;
        if (rate > limit)
            return roll_back(g, v, "label_error_rate", 2, rate, limit);
    }
    if (over) {
        g->active = 0;
        return WEIR_GUARD_PASSED;
    }
    return WEIR_GUARD_WATCHING;
}
