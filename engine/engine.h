/**
 * @file engine.h
 * @brief libweir: the scoring engine as a library — bytes in, decode →
 *        transforms → model → encode, and drift observe/evaluate — with no
 *        Kafka, no libuv and no I/O of its own.
 *
 * Every command of weir is a thin client of it (`weir run`, `weir batch`,
 * replay, HTTP scoring), as are the benchmarks and the Python package, so the
 * code that scores and monitors in production is exactly the code that is
 * tested and measured. It links avro-c, OpenBLAS and jansson only; it is built
 * static (for the weir binary) and shared with a versioned soname
 * (libweir.so.0, for the Python package).
 *
 * Two objects: a pipeline (one micro-batch through the model) and a monitor
 * (drift, label join and alerts for one model). Both belong to the thread that
 * calls them; neither is thread-safe.
 */
#ifndef WEIR_ENGINE_H
#define WEIR_ENGINE_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "drift.h"
#include "schemas.h"
#include "row.h"
#include "scoring.h"

/*
 * The pipeline: one micro-batch through decode → transform → score → encode.
 *
 * The caller fills items with input values; the pipeline decodes each through
 * the bounded codec's decoding plan, which reads the bundle's source fields in
 * the pass that bounds the event, applies the transforms
 * into a preallocated row-major matrix, runs the model once for the batch and
 * encodes every scored event (framed) into one reused output buffer. An item
 * that fails anywhere is marked a dead letter with its reason and detail.
 *
 * The model is passed per batch and never cached across batches beyond the
 * field resolution it implies, so a new bundle can be swapped in between
 * batches. Nothing is allocated per event once the buffers have grown.
 */

/** @brief The library's version ("MAJOR.MINOR.PATCH"); the soname carries MAJOR. */
const char *weir_engine_version(void);

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
    int with_shadow; /**< ScoredEvents carry the optional `shadow` field (items' shadow) */
    /** 1: read events through avro-c values and field lookups instead of the
     *  compiled decoding plan (the same results; for comparisons) */
    int avro_values;
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
    /** filled by the caller when with_shadow: the challenger's result written in
     *  the ScoredEvent (NULL: null); borrowed */
    const weir_shadow_score_t *shadow;
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
 * @brief Input bytes that fill a batch: a caller stops adding events once the
 * values it has added reach this many bytes (one event alone may be larger, up
 * to the datum cap). Within it, the pipeline's per-batch memory (copied ids
 * and category values, encoded outputs) cannot run out, so one large event
 * never turns its neighbours into dead letters.
 */
#define WEIR_PIPELINE_BATCH_BYTES ((size_t)64 << 20)

/**
 * @brief Runs up to batch_max items, of at most WEIR_PIPELINE_BATCH_BYTES
 * input bytes plus one event, through the model.
 * @param now_ms the scored_at time written on every scored event.
 * @returns 0 (per-item failures are in the items) or a negative code when the
 *          batch as a whole cannot run (model not bindable, out of memory).
 */
int weir_pipeline_run(weir_pipeline_t *p, const weir_model_t *model, weir_pipeline_item_t *items,
                      size_t n, int64_t now_ms, char *err, size_t errsz);

/** @brief The buffer holding this batch's encoded outputs. */
const uint8_t *weir_pipeline_output(const weir_pipeline_t *p);

/** @brief The transformed rows of this batch's scored items (row-major). */
const double *weir_pipeline_matrix(const weir_pipeline_t *p);
/** @brief The raw feature values of scored row @p row (valid until the next run). */
const weir_value_t *weir_pipeline_values(const weir_pipeline_t *p, size_t row);
/** @brief Model outputs of this batch's scored items (rows × outputs). */
const float *weir_pipeline_outputs(const weir_pipeline_t *p);

/**
 * @brief Encodes one event given as a JSON object (fields by name) as the
 * Avro binary body of the record schema @p schema, appended to @p out.
 * Every field must be present unless its type admits null; a field the
 * schema lacks is refused; a union takes the first branch the value fits or
 * the one Avro's JSON form names (`{"string": "x"}`). Nothing is appended on
 * failure.
 * @returns 0; WEIR_EDECODE for text that is not JSON (line and column in
 *          @p err); WEIR_EMISSING for a missing field, WEIR_ETYPE for a value
 *          of the wrong type or an unknown field (the field's path in @p err:
 *          `field card.country: expected a string, got an integer`);
 *          WEIR_ELIMIT when @p out's cap is reached.
 */
int weir_json_to_avro(avro_schema_t schema, const char *text, size_t len, weir_buf_t *out,
                      char *err, size_t errsz);

/** @brief The ScoredEvent schema this pipeline writes (borrowed). */
avro_schema_t weir_pipeline_output_schema(const weir_pipeline_t *p);

/**
 * @brief Lets the pipeline read events whose schema id is in @p writers
 * (borrowed, NULL: none) through their resolution to input_schema: they are
 * scored like events of input_schema_id (the ScoredEvent nests the event as
 * input_schema encodes it), or are dead letters with the table's reason.
 */
void weir_pipeline_use_writers(weir_pipeline_t *p, weir_writers_t *writers);

/*
 * The monitor: feeds every scored event to the data/prediction drift monitor,
 * joins labels to predictions for concept drift, and turns state changes into
 * DriftAlert records (and a log line each) for the caller to produce. Renders
 * the drift gauges. The caller hands in scored events and label values and
 * takes the encoded alert records out. The monitor is bound to one model; a
 * new model gets a new monitor. Loop thread only.
 */

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
    weir_drift_kind_t kind;            /**< recovered included */
    const weir_drift_change_t *change; /**< the state change it encodes, valid as the alert */
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

/** @brief 0 when drift.enabled = false: no data, prediction or concept drift is monitored. */
int weir_monitor_drift_enabled(const weir_monitor_t *m);
/** @brief 0 when weir_monitor_observe() would do nothing (drift off and no labels): the
 *  caller may skip its per-event loop. */
int weir_monitor_observes(const weir_monitor_t *m);

/**
 * @brief Takes one value from the labels topic.
 * @returns 0 (joined, or counted as unmatched), or WEIR_EDECODE with the
 *          dead-letter @p reason and @p detail for a label that cannot be read.
 */
int weir_monitor_label(weir_monitor_t *m, const void *value, size_t len, weir_reason_t *reason,
                       char *detail, size_t detailsz);

/**
 * @brief The class index (classification) or value (regression) that the
 * `label` union of a Label record (schemas/label.avsc) stands for under
 * @p model: a number, or a class name. `weir batch --labels` reads them too.
 * @returns 0, or WEIR_EDECODE with what is wrong in @p detail.
 */
int weir_monitor_label_value(const weir_model_t *model, avro_value_t *label, double *out,
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

/**
 * @brief The monitored keys: data and prediction drift first, then concept
 * drift (when labels are joined). Each key's latest result, valid until the
 * monitor is destroyed (its values change at every evaluation).
 */
size_t weir_monitor_stat_count(const weir_monitor_t *m);
const weir_drift_stat_t *weir_monitor_stat(const weir_monitor_t *m, size_t i);

/** @brief Evaluations run so far: of data and prediction drift, and of concept drift. */
void weir_monitor_evaluations(const weir_monitor_t *m, uint64_t *drift, uint64_t *concept);

/**
 * @brief Labels joined to a prediction so far, and how many of those the
 * prediction got wrong (classification: the predicted class is not the label;
 * regression: never counted wrong). What a rollout's guard compares.
 */
void weir_monitor_label_counts(const weir_monitor_t *m, uint64_t *joined, uint64_t *wrong);

/** @brief Appends the drift, concept and label-join gauges (Prometheus text). */
int weir_monitor_render(const weir_monitor_t *m, weir_buf_t *out);

#endif
