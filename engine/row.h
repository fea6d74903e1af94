/**
 * @file row.h
 * @brief The row interface of the engine: a bundle's values by feature
 *        source name in, scores out — no Kafka, no libuv, no Avro.
 *
 * This is the whole API of the static library libweir_row.a (engine/score.c
 * with scoring/ and common/: the bundle loader, the transforms and the
 * models), for embedding the very code `weir run` scores with in a program of
 * your own (examples/embed/), and of the WebAssembly build. Load a bundle
 * with weir_model_load() or weir_model_parse() (scoring.h), score frames with
 * weir_engine_score_columns(), name an error code with weir_strerror()
 * (common.h), free with weir_model_destroy(). A loaded model is immutable and
 * may be shared by threads; each call allocates one block of rows and frees
 * it. Links jansson, a CBLAS (OpenBLAS) and libm.
 */
#ifndef WEIR_ROW_H
#define WEIR_ROW_H

#include <stddef.h>

#include "common.h"
#include "scoring.h"

/*
 * Row scoring: a frame of rows, given as named columns, through the bundle's
 * transforms and model — what the Python package's Bundle.predict() calls,
 * so a notebook scores with the code `weir run` scores with. No Avro.
 */

/** @brief One input field for every row of a frame. Exactly one of @p numbers
 *  and @p strings is set. */
typedef struct {
    const char *name;           /**< the field: a feature's source ("amount", "card.country") */
    const double *numbers;      /**< per row; NaN is a missing value (pandas' way) */
    const char *const *strings; /**< per row, NUL-terminated; NULL is a missing value */
} weir_column_t;

/**
 * @brief Scores @p rows rows: each feature reads the column named as its
 * source, then the transforms and the model run as in weir_pipeline_run(),
 * in blocks of rows.
 * @param outputs rows × weir_model_outputs() floats (NaN for a row not scored).
 * @param scores, classes per row, as weir_model_decide() gives them (may be NULL).
 * @param reasons per row: WEIR_REASON_NONE when scored, else the dead-letter
 *        reason the row would have in `weir run` (may be NULL).
 * @param bad_features per row not scored: the feature at fault (may be NULL).
 * @returns 0 (per-row failures are in @p reasons); WEIR_ESCHEMA when a
 *          feature's source is not among the columns (named in @p err);
 *          WEIR_EINVAL or WEIR_ENOMEM.
 */
int weir_engine_score_columns(const weir_model_t *m, const weir_column_t *columns,
                              size_t column_count, size_t rows, float *outputs, double *scores,
                              int *classes, int *reasons, size_t *bad_features, char *err,
                              size_t errsz);

#endif
