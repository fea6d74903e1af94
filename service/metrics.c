/*
 * metrics.c — weir's counters in the Prometheus text exposition format.
 */
#include "metrics.h"

#include <inttypes.h>
#include <stdarg.h>
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

static int counter(weir_buf_t *b, const char *name, const char *help, uint64_t v)
{
    return weir_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %" PRIu64 "\n", name, help, name,
                           name, v);
}

int weir_metrics_render(const weir_metrics_t *m, weir_buf_t *b)
{
    int rc = 0;
    rc |= counter(b, "weir_events_consumed_total", "Input events taken from Kafka.", m->consumed);
    rc |= counter(b, "weir_events_scored_total", "Input events scored.", m->scored);
    rc |= weir_buf_printf(b, "# HELP weir_dead_letters_total Input events sent to the dead-letter "
                             "topic, by reason.\n# TYPE weir_dead_letters_total counter\n");
    for (size_t r = 1; r < WEIR_REASON__COUNT; r++)
        rc |= weir_buf_printf(b, "weir_dead_letters_total{reason=\"%s\"} %" PRIu64 "\n",
                              weir_reason_name((weir_reason_t)r), m->dead_letters[r]);
    rc |= weir_buf_printf(b,
                          "# HELP weir_produced_total Records durably written, by kind.\n"
                          "# TYPE weir_produced_total counter\n"
                          "weir_produced_total{kind=\"scored\"} %" PRIu64 "\n"
                          "weir_produced_total{kind=\"dead_letter\"} %" PRIu64 "\n",
                          m->produced_scored, m->produced_dead);
    rc |= counter(b, "weir_delivery_errors_total", "Records Kafka failed to write.",
                  m->delivery_errors);
    rc |= counter(b, "weir_backpressure_pauses_total",
                  "Times consumption paused because the producer queue was full.",
                  m->backpressure_pauses);
    rc |= counter(b, "weir_commits_total", "Offset commits requested.", m->commits);
    rc |=
        counter(b, "weir_commit_failures_total", "Offset commits that failed.", m->commit_failures);
    rc |= counter(b, "weir_rebalances_total", "Rebalance events handled.", m->rebalances);
    rc |= counter(b, "weir_revoked_unfinished_total",
                  "Events consumed but unfinished when their partition was revoked (the next "
                  "owner re-reads them).",
                  m->revoked_in_flight_dropped);
    rc |= counter(b, "weir_in_flight_cap_pauses_total",
                  "Times a partition paused because max.in.flight of its events were undelivered.",
                  m->in_flight_cap_pauses);
    rc |= counter(b, "weir_size_retries_total",
                  "Records written again one at a time after the broker refused their batch as "
                  "too large.",
                  m->size_retries);
    rc |= weir_buf_printf(b, "# HELP weir_batch_duration_seconds Time to decode, transform, score "
                             "and enqueue one batch.\n# TYPE weir_batch_duration_seconds "
                             "histogram\n");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < WEIR_LATENCY_BUCKETS; i++) {
        cumulative += m->latency_buckets[i];
        rc |= weir_buf_printf(b, "weir_batch_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                              weir_latency_bounds[i], cumulative);
    }
    rc |= weir_buf_printf(b,
                          "weir_batch_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
                          "weir_batch_duration_seconds_sum %.9f\n"
                          "weir_batch_duration_seconds_count %" PRIu64 "\n",
                          m->batches, m->latency_sum, m->batches);
    rc |= weir_buf_printf(b,
                          "# HELP process_start_time_seconds Start time of the process.\n"
                          "# TYPE process_start_time_seconds gauge\n"
                          "process_start_time_seconds %.3f\n",
                          (double)m->start_time_ms / 1000.0);
    return rc ? WEIR_ELIMIT : 0;
}
