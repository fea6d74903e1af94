/**
 * @file metrics.h
 * @brief weir's counters and their Prometheus text rendering.
 *
 * Plain integers owned by the loop thread; rendered on each /metrics scrape.
 * Names follow Prometheus conventions (`_total` counters, base units).
 */
#ifndef WEIR_METRICS_H
#define WEIR_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "prom.h"

#define WEIR_LATENCY_BUCKETS 12

typedef struct {
    uint64_t consumed;
    uint64_t scored;
    uint64_t dead_letters[WEIR_REASON__COUNT];
    uint64_t produced_scored; /**< delivered scored events */
    uint64_t produced_dead;   /**< delivered dead letters */
    uint64_t delivery_errors;
    uint64_t batches;
    uint64_t latency_buckets[WEIR_LATENCY_BUCKETS]; /**< per bucket, not cumulative */
    double latency_sum;
    uint64_t backpressure_pauses;
    uint64_t commits;
    uint64_t commit_failures;
    uint64_t rebalances;
    uint64_t revoked_in_flight_dropped; /**< consumed, left for the next owner */
    uint64_t in_flight_cap_pauses;      /**< a partition reached max.in.flight and paused */
    uint64_t size_retries;              /**< records retried alone after a too-large batch */
    int64_t start_time_ms;
} weir_metrics_t;

/** @brief Upper bounds of the batch latency histogram, in seconds. */
extern const double weir_latency_bounds[WEIR_LATENCY_BUCKETS];

/** @brief Records one batch's processing time. */
void weir_metrics_observe_batch(weir_metrics_t *m, double seconds);

/** @brief Total dead letters over every reason. */
uint64_t weir_metrics_dead_total(const weir_metrics_t *m);

/**
 * @brief Writes the counters, the batch latency histogram and the start time
 * as families of the page @p p.
 * @returns 0, or the writer's first error (weir_prom_finish()).
 */
int weir_metrics_render(const weir_metrics_t *m, weir_prom_t *p);

#endif
