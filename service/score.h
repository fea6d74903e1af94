/**
 * @file score.h
 * @brief POST /score: one event in (a JSON object, or Avro Confluent-framed or
 *        raw with a schema id), its score, decision, class probabilities and
 *        model version out — through the same engine as the stream.
 *
 * Used by `weir serve` and, with `score.listen`, inside `weir run`. The
 * endpoint answers on the loop; the caller passes the bundle in use per
 * request, so a reload takes effect between two requests.
 */
#ifndef WEIR_SCORE_H
#define WEIR_SCORE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "http.h"
#include "metrics.h"
#include "prom.h"
#include "rollout.h"

/** @brief The endpoint's state and counters. */
typedef struct {
    avro_schema_t input; /**< the input schema (JSON events are encoded against it) */
    int32_t input_schema_id;
    const char *token;     /**< "" or NULL: no token required; borrowed */
    weir_buf_t event;      /**< the framed event being scored */
    uint64_t by_status[6]; /**< 200, 400, 401, 413/415, 422, other */
    uint64_t latency_buckets[WEIR_LATENCY_BUCKETS];
    uint64_t count;
    double latency_sum;
} weir_score_t;

/** @brief Prepares the endpoint from the configuration (the input schema read once). */
int weir_score_init(weir_score_t *s, const weir_config_t *cfg, char *err, size_t errsz);
void weir_score_dispose(weir_score_t *s);

/**
 * @brief Answers POST /score with @p b (the champion in use); NULL @p b is 503.
 * @returns the HTTP status; @p body holds the JSON answer.
 */
int weir_score_handle(weir_score_t *s, const weir_bundle_t *b, const weir_http_call_t *call,
                      weir_buf_t *body, const char **content_type);

/** @brief The endpoint's families: requests by status, latency histogram. */
void weir_score_render(const weir_score_t *s, weir_prom_t *p);

/** @brief The HTTP limits of the endpoint: those of /metrics, and score.body.max. */
void weir_score_limits(const weir_config_t *cfg, weir_http_limits_t *limits);

#endif
