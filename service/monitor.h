/**
 * @file monitor.h
 * @brief Drift monitoring inside the service: feeds every scored event to the
 *        data/prediction drift monitor, joins labels to predictions for concept
 *        drift, and turns state changes into DriftAlert records (and a log
 *        line each) for the run loop to produce. Renders the drift gauges.
 *
 * No Kafka here: the run loop hands in scored events and label values and
 * takes the encoded alert records out. The monitor is bound to one model; a
 * new model gets a new monitor. Loop thread only.
 */
#ifndef WEIR_MONITOR_H
#define WEIR_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "drift.h"
#include "schemas.h"
#include "scoring.h"

typedef struct weir_monitor weir_monitor_t;

typedef struct {
    const weir_model_t *model; /**< borrowed for the monitor's life */
    weir_drift_config_t drift; /**< windows, tests, thresholds, policy */
    int labels;                /**< join labels (labels.topic is set) */
    size_t labels_max_pending;
    int64_t labels_ttl_ms;
    weir_framing_t label_framing; /**< framing of label values */
    int32_t label_schema_id;
    weir_framing_t alert_framing; /**< framing of DriftAlert values */
    int32_t alert_schema_id;
    const char *instance; /**< written in every alert */
} weir_monitor_config_t;

/** @brief One encoded DriftAlert, ready to produce. */
typedef struct {
    const char *key; /**< "model/feature/test" (feature "score" or "concept" when none) */
    size_t key_len;
    const uint8_t *value;
    size_t len;
    weir_drift_kind_t kind; /**< recovered included */
} weir_monitor_alert_t;

int weir_monitor_new(const weir_monitor_config_t *cfg, weir_monitor_t **out, char *err,
                     size_t errsz);
void weir_monitor_destroy(weir_monitor_t *m);

/**
 * @brief Takes one scored event: its raw feature values (one per model
 * feature), score, predicted class (-1 for regression), event id and time.
 * @param now_ms wall time (the label join's TTL runs on it).
 */
void weir_monitor_observe(weir_monitor_t *m, const weir_value_t *values, double score,
                          int class_index, const char *event_id, int64_t event_time_ms,
                          int64_t now_ms);

/**
 * @brief Takes one value from the labels topic.
 * @returns 0 (joined, or counted as unmatched), or WEIR_EDECODE with the
 *          dead-letter @p reason and @p detail for a label that cannot be read.
 */
int weir_monitor_label(weir_monitor_t *m, const void *value, size_t len, weir_reason_t *reason,
                       char *detail, size_t detailsz);

/**
 * @brief Evaluates what is due (data/prediction drift every step events,
 * concept drift every step joined pairs), expires old predictions, logs one
 * line per state change and encodes them.
 * @returns the number of alerts now available through weir_monitor_alert(),
 *          valid until the next call.
 */
size_t weir_monitor_evaluate(weir_monitor_t *m, int64_t now_ms);
const weir_monitor_alert_t *weir_monitor_alert(const weir_monitor_t *m, size_t i);

/** @brief Appends the drift, concept and label-join gauges (Prometheus text). */
int weir_monitor_render(const weir_monitor_t *m, weir_buf_t *out);

#endif
