/**
 * @file sink.h
 * @brief Where `weir batch` stores predictions when the output is a database:
 *        `sqlite:PATH[#TABLE]` or `postgresql://…[#TABLE]`.
 *
 * A sink owns one connection and two tables: TABLE (default "predictions"),
 * one row per scored event keyed by (event_id, model_version), and
 * TABLE_dead_letters, one row per event that could not be scored, keyed by
 * (input, input_index, model_version). Both are written by upsert, so running
 * the same input again never duplicates and a new model version adds its own
 * rows. Writes go in transactions the caller delimits: the first write after
 * a commit begins one, weir_sink_commit() ends it; a failure rolls the open
 * one back, so a table holds whole batches only.
 *
 * The columns: event_id, event_time, model_name, model_version, score, scores
 * (every class probability), label (after the bundle's threshold; NULL for
 * regression), scored_at, then the input fields named by --keep, typed after
 * their Avro type. Single thread; the caller owns the sink.
 */
#ifndef WEIR_SINK_H
#define WEIR_SINK_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "scoring.h"

typedef struct weir_sink weir_sink_t;

/** @brief What a sink is opened with; every pointer is borrowed for the call. */
typedef struct {
    const char *target;         /**< "sqlite:PATH[#TABLE]" or "postgresql://…[#TABLE]" */
    const char *input;          /**< the input's name, recorded with every dead letter */
    const weir_model_t *model;  /**< name, version, classes and task */
    avro_schema_t input_schema; /**< where the --keep fields are looked up */
    const char *keep;           /**< comma list of input fields to store; NULL or "": none */
} weir_sink_config_t;

/**
 * @brief Whether @p target names a database (a sink) rather than a file.
 */
int weir_sink_is_target(const char *target);

/**
 * @brief Connects, creates the two tables if absent (or checks that existing
 * ones have the columns and keys weir writes) and prepares the upserts.
 * @returns 0; WEIR_EINVAL for a malformed target or --keep (the option is
 *          named in @p err: a usage error); WEIR_ESCHEMA for a --keep field
 *          the input lacks or cannot store (usage error too); WEIR_EIO when the
 *          database refuses (down, read-only, incompatible table: the target
 *          is named, the password never).
 */
int weir_sink_open(const weir_sink_config_t *cfg, weir_sink_t **out, char *err, size_t errsz);

/** @brief The target as it may be printed: any password replaced by "***". */
const char *weir_sink_display(const weir_sink_t *s);
/** @brief The dead-letter table's name. */
const char *weir_sink_dead_table(const weir_sink_t *s);

/**
 * @brief Upserts one scored event.
 * @param datum the raw input datum (its --keep fields are read from it).
 * @param outputs weir_model_outputs() floats as the model gave them.
 * @returns 0 or WEIR_EIO (the open transaction is then rolled back).
 */
int weir_sink_row(weir_sink_t *s, const char *event_id, int64_t event_time_ms, const float *outputs,
                  double score, int class_index, int64_t scored_at_ms, const uint8_t *datum,
                  size_t datum_len, char *err, size_t errsz);

/**
 * @brief Upserts one dead letter: its index in the input, the stable reason
 * code, the detail, and the raw datum (NULL when none could be delimited).
 */
int weir_sink_dead(weir_sink_t *s, uint64_t index, const char *reason, const char *detail,
                   const uint8_t *datum, size_t datum_len, int64_t now_ms, char *err, size_t errsz);

/** @brief Commits the open transaction (if any). @returns 0 or WEIR_EIO. */
int weir_sink_commit(weir_sink_t *s, char *err, size_t errsz);

/** @brief Rolls back what is not committed and disconnects. NULL is fine. */
void weir_sink_close(weir_sink_t *s);

#endif
