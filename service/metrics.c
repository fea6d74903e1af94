/*
 * metrics.c — weir's service counters (consumed, scored, dead-lettered by
 * reason, produced, commits, rebalances) and the batch latency histogram, and
 * their families on a /metrics page, written through the one Prometheus
 * writer (common/prom.h).
 */
#include "metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const double weir_latency_bounds[WEIR_LATENCY_BUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0};

void weir_metrics_observe_batch(weir_metrics_t *m, double seconds)
{
    m->batches++;
    m->latency_sum += seconds;
    for (size_t i = 0; i < WEIR_LATENCY_BUCKETS; i++) {
        if (seconds <= weir_latency_bounds[i]) {
            m->latency_buckets[i]++;
            break;
        }
    }
}

uint64_t weir_metrics_dead_total(const weir_metrics_t *m)
{
    uint64_t n = 0;
    for (size_t r = 0; r < WEIR_REASON__COUNT; r++)
        n += m->dead_letters[r];
    return n;
}

static void counter(weir_prom_t *p, const char *name, const char *help, uint64_t v)
{
    weir_prom_family(p, name, WEIR_PROM_COUNTER, help);
    weir_prom_sample_u64(p, v, NULL);
}

int weir_metrics_render(const weir_metrics_t *m, weir_prom_t *p)
{
    counter(p, "weir_events_consumed_total", "Input events taken from Kafka.", m->consumed);
    counter(p, "weir_events_scored_total", "Input events scored.", m->scored);
    weir_prom_family(p, "weir_dead_letters_total", WEIR_PROM_COUNTER,
                     "Input events sent to the dead-letter topic, by reason.");
    for (size_t r = 1; r < WEIR_REASON__COUNT; r++)
        weir_prom_sample_u64(p, m->dead_letters[r], "reason", weir_reason_name((weir_reason_t)r),
                             NULL);
    weir_prom_family(p, "weir_produced_total", WEIR_PROM_COUNTER,
                     "Records durably written, by kind.");
    weir_prom_sample_u64(p, m->produced_scored, "kind", "scored", NULL);
    weir_prom_sample_u64(p, m->produced_dead, "kind", "dead_letter", NULL);
    counter(p, "weir_delivery_errors_total", "Records Kafka failed to write.", m->delivery_errors);
    counter(p, "weir_backpressure_pauses_total",
            "Times consumption paused because the producer queue was full.",
            m->backpressure_pauses);
    counter(p, "weir_commits_total", "Offset commits requested.", m->commits);
    counter(p, "weir_commit_failures_total", "Offset commits that failed.", m->commit_failures);
    counter(p, "weir_rebalances_total", "Rebalance events handled.", m->rebalances);
    counter(p, "weir_revoked_unfinished_total",
            "Events consumed but unfinished when their partition was revoked (the next owner "
            "re-reads them).",
            m->revoked_in_flight_dropped);
    counter(p, "weir_in_flight_cap_pauses_total",
            "Times a partition paused because max.in.flight of its events were undelivered.",
            m->in_flight_cap_pauses);
    counter(p, "weir_size_retries_total",
            "Records written again one at a time after the broker refused their batch as too "
            "large.",
            m->size_retries);
    weir_prom_family(p, "weir_batch_duration_seconds", WEIR_PROM_HISTOGRAM,
                     "Time to decode, transform, score and enqueue one batch.");
    weir_prom_histogram(p, weir_latency_bounds, m->latency_buckets, WEIR_LATENCY_BUCKETS,
                        m->batches, m->latency_sum, NULL);
    weir_prom_family(p, "process_start_time_seconds", WEIR_PROM_GAUGE,
                     "Start time of the process since the Unix epoch in seconds.");
    weir_prom_sample(p, (double)m->start_time_ms / 1000.0, NULL);
    return weir_prom_finish(p);
}
