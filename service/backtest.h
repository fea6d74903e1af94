/**
 * @file backtest.h
 * @brief What a replay gathers as it scores — per model and event the score
 *        and decision, per model the dead letters, the drift timeline and the
 *        alerts — and the `weir.backtest/1` report made from it
 *        (docs/reports.md), metrics computed by eval/.
 *
 * No Kafka, no I/O: `weir replay` feeds it and writes what it returns. The
 * report holds nothing that depends on the wall clock or on how the input
 * was fetched, so two replays of the same range give identical reports.
 */
#ifndef WEIR_BACKTEST_H
#define WEIR_BACKTEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"
#include "scoring.h"

/** @brief Most models one backtest compares. */
#define WEIR_BACKTEST_MAX_MODELS 16
/** @brief Most time buckets of the per-bucket metrics; a finer --bucket is widened. */
#define WEIR_BACKTEST_MAX_BUCKETS 2000

typedef struct weir_backtest weir_backtest_t;

typedef struct {
    const weir_model_t
        *models[WEIR_BACKTEST_MAX_MODELS]; /**< borrowed; the first is the champion */
    size_t n_models;
    int64_t bucket_ms;       /**< width of the per-bucket metrics */
    double cost_fp, cost_fn; /**< of the threshold sweep */
    uint64_t drift_window;   /**< events of the drift window (for the alerts' histograms) */
    size_t calibration_bins; /**< reliability bins [10] */
} weir_backtest_config_t;

int weir_backtest_new(const weir_backtest_config_t *cfg, weir_backtest_t **out, char *err,
                      size_t errsz);
void weir_backtest_destroy(weir_backtest_t *b);

/**
 * @brief A label, joined to events later by id. The value is the label
 * record's: @p is_string selects @p string or @p number.
 * @returns its index, or a negative code (WEIR_ENOMEM).
 */
int64_t weir_backtest_add_label(weir_backtest_t *b, const char *event_id, size_t id_len,
                                int is_string, double number, const char *string, size_t len,
                                int64_t label_time_ms);
/** @brief The label of an event id (the first read), or -1. */
int64_t weir_backtest_find_label(const weir_backtest_t *b, const char *event_id, size_t len);
/** @brief Records that a label arrived in the simulation (counts in the metrics). */
void weir_backtest_label_arrived(weir_backtest_t *b, int64_t label);
/** @brief A label that could not be read, by reason (and the first few, with detail). */
void weir_backtest_label_invalid(weir_backtest_t *b, weir_reason_t reason, const char *detail,
                                 const char *where);

/**
 * @brief A new event of the input, in replay order.
 * @returns its index, or a negative code (WEIR_ENOMEM, WEIR_ELIMIT).
 */
int64_t weir_backtest_add_event(weir_backtest_t *b, int64_t event_time_ms);
/** @brief Ties event @p ev to label @p label. */
void weir_backtest_set_label(weir_backtest_t *b, int64_t ev, int64_t label);

/**
 * @brief Model @p m scored event @p ev: its score, class (-1 regression),
 * class probabilities (multiclass; may be NULL) and raw feature values (for
 * the drift histograms).
 */
void weir_backtest_scored(weir_backtest_t *b, size_t m, int64_t ev, double score, int class_index,
                          const float *probabilities, const weir_value_t *values);
/** @brief Model @p m could not score event @p ev. */
void weir_backtest_dead(weir_backtest_t *b, size_t m, int64_t ev, weir_reason_t reason,
                        const char *detail, const char *topic, int32_t partition, int64_t offset);

/**
 * @brief After weir_monitor_evaluate(): records every evaluation that ran
 * (each key's statistic, effect, p-value and state) and the alerts raised or
 * recovered, at simulated time @p now_ms after @p events events.
 */
int weir_backtest_monitor(weir_backtest_t *b, size_t m, const weir_monitor_t *mon, size_t n_alerts,
                          int64_t now_ms, uint64_t events);

/** @brief What the report says about the input and the run (borrowed strings). */
typedef struct {
    json_t *input;       /**< taken: the input section */
    json_t *labels;      /**< taken: the labels section (source, delay, grace), or NULL */
    json_t *warnings;    /**< taken: an array of strings */
    json_t *training;    /**< taken: per model, the training window and any overlap */
    uint64_t records;    /**< records read inside the range */
    uint64_t skipped;    /**< records outside the time bounds */
    uint64_t input_dead; /**< records that were dead letters before any model (a file's) */
} weir_backtest_context_t;

/** @brief The weir.backtest/1 report (a new reference), or NULL out of memory. */
json_t *weir_backtest_report(weir_backtest_t *b, weir_backtest_context_t *ctx);

/** @brief Events added so far. */
uint64_t weir_backtest_events(const weir_backtest_t *b);

/** @brief The earliest and latest event time seen; 0 when no event. */
int weir_backtest_time_span(const weir_backtest_t *b, int64_t *first, int64_t *last);

#endif
