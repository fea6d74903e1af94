/**
 * @file guard.h
 * @brief The probation of a newly swapped-in model version: what it does in
 *        its first `model.probation` events against what the version it
 *        replaced did, and the verdict — keep going, passed, or roll back.
 *
 * Three limits, each on the new version's excess over the previous one:
 * its share of dead letters the model causes (missing values, unknown
 * categories, invalid values — not bad framing, which is the input's fault),
 * the Kolmogorov-Smirnov distance between its scores and the previous
 * version's most recent scores, and its error rate on labels joined to its
 * predictions. Pure: no I/O, no loop; the run loop feeds it.
 */
#ifndef WEIR_GUARD_H
#define WEIR_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/** @brief Recent scores kept per version: the previous version's side of the KS test. */
#define WEIR_GUARD_RECENT 5000
/** @brief Events before the dead-letter share is judged. */
#define WEIR_GUARD_MIN_EVENTS 100
/** @brief Scores on each side before the KS distance is judged. */
#define WEIR_GUARD_MIN_SCORES 200
/** @brief Joined labels on each side before the error rates are compared. */
#define WEIR_GUARD_MIN_LABELS 100

/** @brief The last WEIR_GUARD_RECENT scores of one version. */
typedef struct {
    double scores[WEIR_GUARD_RECENT];
    size_t n, at;
} weir_score_ring_t;

void weir_score_ring_add(weir_score_ring_t *r, double score);

typedef struct {
    uint64_t probation; /**< events to watch; 0: no guard */
    double dead_share;  /**< the new share may pass the previous one by this much */
    double score_drift; /**< KS distance to the previous version's scores, at most */
    double error_rate;  /**< the new error rate may pass the previous one by this much */
} weir_guard_limits_t;

typedef enum {
    WEIR_GUARD_WATCHING = 0, /**< still on probation */
    WEIR_GUARD_PASSED,       /**< probation over, within every limit */
    WEIR_GUARD_ROLLBACK,     /**< a limit passed: roll back */
} weir_guard_state_t;

/** @brief Why a version is rolled back, for the log, /metrics and the alert. */
typedef struct {
    const char *reason; /**< "dead_letter_share", "score_drift" or "label_error_rate" */
    int kind;           /**< DriftKind of its alert: 0 data, 1 prediction, 2 concept */
    double value;       /**< what the new version did */
    double limit;       /**< what it was allowed */
    uint64_t events;    /**< events it had scored or dead-lettered */
} weir_guard_verdict_t;

typedef struct {
    weir_guard_limits_t limits;
    int active;
    double base_dead_share;
    double *base; /**< the previous version's recent scores, sorted */
    size_t base_n;
    uint64_t events, dead;
    double *scores; /**< the new version's scores, up to probation */
    size_t n, cap;
    uint64_t next_ks; /**< events at which the KS distance is next computed */
    double *sorted;   /**< scratch for sorting */
} weir_guard_t;

/**
 * @brief Starts a probation against the previous version's recent scores
 * (@p base, copied) and dead-letter share.
 * @returns 0 or WEIR_ENOMEM. With limits->probation 0 the guard stays inactive.
 */
int weir_guard_start(weir_guard_t *g, const weir_guard_limits_t *limits,
                     const weir_score_ring_t *base, double base_dead_share);
/** @brief Frees what the guard holds; it is inactive after. */
void weir_guard_dispose(weir_guard_t *g);

/** @brief One event of the new version: scored (with its score) or a model-caused dead letter. */
void weir_guard_scored(weir_guard_t *g, double score);
void weir_guard_dead(weir_guard_t *g);
/** @brief An event dead-lettered for the input's fault: counted, never blamed on the model. */
void weir_guard_other(weir_guard_t *g);

/**
 * @brief The verdict so far, from the events fed and the label counts of both
 * versions (joined, wrong; pass 0 joined when a version has no labels).
 * After ROLLBACK or PASSED the guard is inactive.
 */
weir_guard_state_t weir_guard_check(weir_guard_t *g, uint64_t joined, uint64_t wrong,
                                    uint64_t base_joined, uint64_t base_wrong,
                                    weir_guard_verdict_t *v);

#endif
