/**
 * @file pipeline.h
 * @brief One micro-batch through decode → transform → score → encode, with no
 *        Kafka in sight: `weir run`, `weir batch` and (later) replay share it.
 *
 * The caller fills items with input values; the pipeline decodes each through
 * the bounded codec, reads the bundle's source fields, applies the transforms
 * into a preallocated row-major matrix, runs the model once for the batch and
 * encodes every scored event (framed) into one reused output buffer. An item
 * that fails anywhere is marked a dead letter with its reason and detail.
 *
 * The model is passed per batch and never cached across batches beyond the
 * field resolution it implies, so a new bundle can be swapped in between
 * batches. Nothing is allocated per event once the buffers have grown.
 */
#ifndef WEIR_PIPELINE_H
#define WEIR_PIPELINE_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "schemas.h"
#include "scoring.h"

typedef struct weir_pipeline weir_pipeline_t;

typedef struct {
    avro_schema_t input_schema; /**< borrowed; the pipeline takes its own reference */
    weir_framing_t input_framing;
    int32_t input_schema_id;
    const char *id_field;   /**< input field with the event id */
    const char *time_field; /**< input field with the event time (ms); "" or NULL: none */
    weir_framing_t output_framing;
    int32_t output_schema_id;
    size_t batch_max;
} weir_pipeline_config_t;

typedef struct {
    /* filled by the caller */
    const uint8_t *value; /**< the raw input (framed per input_framing); borrowed */
    size_t value_len;
    int64_t fallback_time_ms; /**< event time when the record has none (Kafka timestamp) */
    /* filled by weir_pipeline_run() */
    int scored;           /**< 1: output holds a scored event; 0: a dead letter */
    weir_reason_t reason; /**< when !scored */
    char detail[256];     /**< when !scored: what and where */
    size_t out_offset;    /**< the framed ScoredEvent in weir_pipeline_output() */
    size_t out_len;
    double score;
    int class_index;
    size_t row; /**< row in weir_pipeline_matrix() when scored */
    int64_t event_time_ms;
    const char *event_id; /**< NUL-terminated, valid until the next run */
} weir_pipeline_item_t;

/** @brief Creates a pipeline for one input schema. */
int weir_pipeline_new(const weir_pipeline_config_t *cfg, weir_pipeline_t **out, char *err,
                      size_t errsz);
void weir_pipeline_destroy(weir_pipeline_t *p);

/**
 * @brief Checks that every source field of @p model (and the id/time fields)
 * exists in the input schema with a usable type; also done lazily by run.
 * @returns 0 or WEIR_ESCHEMA with the feature and field named.
 */
int weir_pipeline_bind(weir_pipeline_t *p, const weir_model_t *model, char *err, size_t errsz);

/**
 * @brief Runs up to batch_max items through the model.
 * @param now_ms the scored_at time written on every scored event.
 * @returns 0 (per-item failures are in the items) or a negative code when the
 *          batch as a whole cannot run (model not bindable, out of memory).
 */
int weir_pipeline_run(weir_pipeline_t *p, const weir_model_t *model, weir_pipeline_item_t *items,
                      size_t n, int64_t now_ms, char *err, size_t errsz);

/** @brief The buffer holding this batch's encoded outputs. */
const uint8_t *weir_pipeline_output(const weir_pipeline_t *p);

/** @brief The transformed rows of this batch's scored items (row-major). */
const float *weir_pipeline_matrix(const weir_pipeline_t *p);
/** @brief The raw feature values of scored row @p row (valid until the next run). */
const weir_value_t *weir_pipeline_values(const weir_pipeline_t *p, size_t row);
/** @brief Model outputs of this batch's scored items (rows × outputs). */
const float *weir_pipeline_outputs(const weir_pipeline_t *p);

/** @brief The ScoredEvent schema this pipeline writes (borrowed). */
avro_schema_t weir_pipeline_output_schema(const weir_pipeline_t *p);

#endif
