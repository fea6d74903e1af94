/**
 * @file schemas.h
 * @brief The Avro schemas weir reads and writes, and its bounded codec.
 *
 * avro-c 1.11.1 trusts lengths, counts and indexes in the bytes it reads: a
 * 5-byte record can make it allocate gigabytes or index past a union. So every
 * datum is first walked by weir's own checker, driven by a plan compiled once
 * per schema, that rejects negative or oversized lengths and counts, bad union
 * and enum indexes, truncation, excessive nesting and trailing bytes — before
 * avro-c sees a byte. Only then is it read into a reused avro value.
 *
 * Encoding needs no avro-c values: ScoredEvent, Label and DriftAlert bodies are
 * written field by field, and a ScoredEvent nests the input event by copying
 * its already-validated Avro body (a record's encoding is the concatenation of
 * its fields, and `event` is the last field).
 *
 * Schema lookup goes through weir_decoder_t (id → reader); today the static
 * `input.schema`/`input.schema.id` fills it, a registry client later.
 *
 * Not thread-safe per object: one decoder/reader per thread.
 */
#ifndef WEIR_SCHEMAS_H
#define WEIR_SCHEMAS_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

/** @name Caps of the bounded checker. */
/**@{*/
#define WEIR_AVRO_MAX_DEPTH 32          /**< nesting of records/arrays/maps/unions */
#define WEIR_AVRO_MAX_ITEMS (1u << 20)  /**< array items + map entries per datum */
#define WEIR_AVRO_MAX_EMPTY_ITEMS 4096  /**< of those, items that take no bytes (null) */
#define WEIR_AVRO_MAX_DATUM (16u << 20) /**< bytes in one datum */
#define WEIR_FIELD_MAX_DEPTH 8          /**< dotted path components */
/**@}*/

/** @name Schemas compiled into the binary (texts of schemas/\*.avsc). */
/**@{*/
/** @brief The text of an embedded schema: "transaction", "scored_event",
 *         "drift_alert" or "label"; NULL for another name. */
const char *weir_schema_text(const char *name);
/**@}*/

/** @brief Parses a schema from JSON text. @p out is owned by the caller (avro_schema_decref). */
int weir_schema_parse(const char *json, avro_schema_t *out, char *err, size_t errsz);
/** @brief Reads and parses an .avsc file; messages name the file. */
int weir_schema_load_file(const char *path, avro_schema_t *out, char *err, size_t errsz);

/* ------------------------------------------------------------------ */
/* Reading                                                             */

/** @brief A compiled plan and a reused value for one writer schema. */
typedef struct weir_reader weir_reader_t;

/** @brief Compiles @p schema (takes its own reference). */
int weir_reader_new(avro_schema_t schema, weir_reader_t **out, char *err, size_t errsz);
void weir_reader_destroy(weir_reader_t *r);
avro_schema_t weir_reader_schema(const weir_reader_t *r);

/**
 * @brief Checks the datum at @p buf against the plan, then reads it into the
 * reader's reused value.
 * @param exact nonzero: the datum must end exactly at @p len (else trailing_bytes).
 * @param value receives the reused value, valid until the next read.
 * @param consumed receives the datum's length in bytes (may be NULL).
 * @param reason on WEIR_EDECODE, receives the dead-letter reason (WEIR_REASON_NONE on
 *        success). Besides the caps above: a boolean byte other than 0 or 1, an int
 *        outside 32 bits and a varint longer than 10 bytes are invalid_value;
 *        decode_error means avro-c refused a datum the checker passed.
 * @param detail on WEIR_EDECODE, a message with the byte offset and field path,
 *        e.g. `at byte 17 (amount): truncated double`.
 * @returns 0 or WEIR_EDECODE.
 */
int weir_reader_read(weir_reader_t *r, const uint8_t *buf, size_t len, int exact,
                     avro_value_t **value, size_t *consumed, weir_reason_t *reason, char *detail,
                     size_t detailsz);

/** @brief Only checks a datum (no avro-c); same contract as weir_reader_read(). */
int weir_reader_check(weir_reader_t *r, const uint8_t *buf, size_t len, int exact, size_t *consumed,
                      weir_reason_t *reason, char *detail, size_t detailsz);

typedef enum {
    WEIR_FRAMING_CONFLUENT = 0, /**< magic byte 0 + 4-byte big-endian schema id + body */
    WEIR_FRAMING_RAW            /**< the Avro binary body alone */
} weir_framing_t;

/** @brief Writer schemas met in a stream, resolved to the reader (see weir_writers_new()). */
typedef struct weir_writers weir_writers_t;

/** @brief Framing + schema-id lookup in front of readers: the schema-lookup seam. */
typedef struct weir_decoder weir_decoder_t;

typedef struct {
    avro_value_t *value;  /**< borrowed, valid until the next decode */
    avro_schema_t schema; /**< the writer schema; borrowed */
    int32_t schema_id;    /**< -1 under raw framing */
    const uint8_t *body;  /**< the Avro body inside the input buffer */
    size_t body_len;
    int resolved;   /**< the body was written with another schema and resolved: it lies
                         at @p body_at in weir_decoder_resolved() (@p body is valid only
                         until the next decode) */
    size_t body_at; /**< when @p resolved */
} weir_decoded_t;

int weir_decoder_new(weir_framing_t framing, weir_decoder_t **out);
void weir_decoder_destroy(weir_decoder_t *d);
/**
 * @brief Registers the writer schema of @p id (raw framing: the single schema;
 * @p id is ignored). Takes its own schema reference.
 */
int weir_decoder_add_schema(weir_decoder_t *d, int32_t id, avro_schema_t schema, char *err,
                            size_t errsz);
/**
 * @brief Decodes one Kafka message value. Empty or NULL values are
 * empty_value; a wrong magic byte or a value shorter than the header is
 * bad_framing; an id not registered is unknown_schema_id. The body is then
 * read with exact=1. Byte offsets in @p detail count from the start of @p buf
 * (the whole Kafka value, header included).
 * @returns 0 or WEIR_EDECODE with @p reason and @p detail filled.
 */
int weir_decoder_decode(weir_decoder_t *d, const void *buf, size_t len, weir_decoded_t *out,
                        weir_reason_t *reason, char *detail, size_t detailsz);

/**
 * @brief Lets @p d read the ids of @p writers (borrowed; NULL: none) that it
 * has no reader of its own for: through their resolution to the decoder's
 * first registered schema. A resolved body lives in the decoder's batch
 * buffer (weir_decoded_t.resolved) until weir_decoder_batch_reset().
 */
void weir_decoder_use_writers(weir_decoder_t *d, weir_writers_t *writers);
/** @brief Empties the buffer of resolved bodies (call at the start of a batch). */
void weir_decoder_batch_reset(weir_decoder_t *d);
/** @brief The buffer of resolved bodies: weir_decoded_t.body_at counts from here. */
const uint8_t *weir_decoder_resolved(const weir_decoder_t *d);

/* ------------------------------------------------------------------ */
/* Field access                                                        */

/** @brief A resolved path to a primitive field; resolve once, read per record. */
typedef struct {
    size_t depth;
    size_t index[WEIR_FIELD_MAX_DEPTH]; /**< field index at each level */
    avro_type_t leaf;                   /**< type after stripping a nullable union */
    int nullable;                       /**< the leaf sits in a union with null */
} weir_field_t;

/**
 * @brief Resolves a dotted field name ("amount", "card.country") in a record
 * schema. The leaf must be a primitive (int, long, float, double, boolean,
 * string, enum) or a union of null and one of them.
 * @returns 0, or WEIR_ESCHEMA naming the missing/unsupported component.
 */
int weir_field_resolve(avro_schema_t record, const char *dotted, weir_field_t *out, char *err,
                       size_t errsz);

/**
 * @brief Reads a resolved field of @p record (a value of the schema it was
 * resolved against). Numbers and booleans give NUMBER, strings and enum
 * symbols give STRING (borrowed from the value), null gives MISSING.
 * Allocates nothing.
 * @returns 0, or WEIR_ETYPE when @p record does not have the resolved shape.
 */
int weir_field_get(const weir_field_t *f, avro_value_t *record, weir_value_t *out);

/**
 * @brief A field read by a decoding plan: @p value as weir_field_get() gives
 * it (strings borrowed from the decoded buffer, not NUL-terminated), and for
 * an int or long field that is present, its exact value in @p integer.
 */
typedef struct {
    weir_value_t value;
    int64_t integer;
} weir_field_value_t;

/**
 * @brief Compiles, for every writer schema registered in @p d, a decoding
 * plan that reads the @p n @p fields (resolved against @p schema) in the same
 * pass that bounds the datum, without avro-c. Every registered schema must be
 * @p schema (avro_schema_equal); schemas registered later have no plan.
 * Replaces an earlier list.
 * @returns 0, or WEIR_ESCHEMA / WEIR_EINVAL / WEIR_ENOMEM with @p err filled.
 */
int weir_decoder_plan_fields(weir_decoder_t *d, avro_schema_t schema, const weir_field_t *fields,
                             size_t n, char *err, size_t errsz);

/**
 * @brief weir_decoder_decode() through the plan of weir_decoder_plan_fields():
 * the same checks in the same order, so the same refusals, reasons and
 * details; on success @p values (one per planned field) are filled and
 * @p out->value is NULL. Allocates nothing. A schema id with no plan is
 * refused as decode_error.
 * @returns 0 or WEIR_EDECODE with @p reason and @p detail filled.
 */
int weir_decoder_read_fields(weir_decoder_t *d, const void *buf, size_t len, weir_decoded_t *out,
                             weir_field_value_t *values, weir_reason_t *reason, char *detail,
                             size_t detailsz);

/* ------------------------------------------------------------------ */
/* Writing                                                             */

/** @name Avro binary primitives appended to a capped buffer. Return 0 or WEIR_ELIMIT/ENOMEM. */
/**@{*/
int weir_avro_write_long(weir_buf_t *b, int64_t v); /**< int and long: zig-zag varint */
int weir_avro_write_double(weir_buf_t *b, double v);
int weir_avro_write_float(weir_buf_t *b, float v);
int weir_avro_write_boolean(weir_buf_t *b, int v);
int weir_avro_write_string(weir_buf_t *b, const char *s, size_t n); /**< also bytes */
/** @brief The header of @p framing: 0x00 + big-endian @p id, or nothing for raw. */
int weir_framing_write(weir_buf_t *b, weir_framing_t framing, int32_t id);
/**@}*/

/**
 * @brief The ScoredEvent schema for an input schema: schemas/scored_event.avsc
 * with its `event` field's type replaced by @p input. @p out is owned by the
 * caller and holds its own reference to @p input. Its JSON (avro_schema_to_json)
 * is checked to parse back to the same schema; avro-c's JSON carries no doc,
 * default or logicalType attributes.
 * @returns 0, or WEIR_ESCHEMA when @p input is not a record, is itself named
 *          dev.weir.ScoredEvent, or the template no longer matches the encoder.
 */
int weir_scored_schema(avro_schema_t input, avro_schema_t *out, char *err, size_t errsz);

/**
 * @brief weir_scored_schema() that, with @p with_shadow, keeps the optional
 * last field `shadow` (["null", ShadowScore], default null) of the template:
 * the schema weir writes while a shadow model scores beside the champion.
 */
int weir_scored_schema_with(avro_schema_t input, int with_shadow, avro_schema_t *out, char *err,
                            size_t errsz);

/** @brief A challenger's result on one event (the ScoredEvent's optional `shadow`). */
typedef struct {
    const char *model_name; /**< NUL-terminated */
    const char *model_version;
    double score;
    const float *scores; /**< class probabilities; may be NULL with n_scores 0 */
    size_t n_scores;
    const char *label; /**< NULL for regression */
} weir_shadow_score_t;

/** @brief One scored event, for weir_scored_encode(). Strings are not NUL-terminated. */
typedef struct {
    const char *event_id;
    size_t event_id_len;
    int64_t event_time_ms;
    const char *model_name;
    const char *model_version;
    double score;
    const float *scores; /**< class probabilities (binary: P(neg), P(pos)); may be NULL */
    size_t n_scores;
    const char *label; /**< predicted class label, NULL for regression */
    int64_t scored_at_ms;
    const uint8_t *event_body; /**< the input's validated Avro body */
    size_t event_body_len;
    int with_shadow;                   /**< the schema has the `shadow` field: write it */
    const weir_shadow_score_t *shadow; /**< its value; NULL writes null */
} weir_scored_event_t;

/** @brief Appends the Avro body of a ScoredEvent (no framing) to @p b. */
int weir_scored_encode(weir_buf_t *b, const weir_scored_event_t *e);

/** @brief A ground-truth label (schemas/label.avsc). */
typedef struct {
    const char *event_id;
    size_t event_id_len;
    int is_string;      /**< label branch: 0 double, 1 string */
    double value;       /**< when !is_string */
    const char *string; /**< when is_string */
    size_t string_len;
    int64_t label_time_ms;
} weir_label_t;

int weir_label_encode(weir_buf_t *b, const weir_label_t *l);

/** @brief A drift state change (schemas/drift_alert.avsc). Strings are NUL-terminated. */
typedef struct {
    int kind; /**< DriftKind symbol index: 0 data, 1 prediction, 2 concept, 3 recovered */
    const char *model_name;
    const char *model_version;
    const char *feature; /**< NULL for prediction and concept drift */
    const char *test;    /**< "ks", "psi", ... */
    double statistic;
    double p_value; /**< NaN: null */
    double threshold;
    int64_t window_start_ms;
    int64_t window_end_ms;
    int64_t window_count;
    int64_t reference_size;
    int severity; /**< Severity symbol index: 0 info, 1 warning, 2 critical */
    const char *instance;
    int64_t detected_at_ms;
    /* fields added later, optional in the schema: NULL (or 0 names) writes null
       (or an empty array), so a caller that does not know them stays valid */
    const double *effect;
    const int *feature_drifted; /**< 0 false, else true */
    const int *dataset_drifted;
    const double *drifted_share;
    const char *const *drifted_features;
    size_t n_drifted_features;
} weir_drift_alert_t;

/** @brief Appends the Avro body of a DriftAlert to @p b. WEIR_EINVAL for an out-of-range enum. */
int weir_drift_alert_encode(weir_buf_t *b, const weir_drift_alert_t *a);

/* ------------------------------------------------------------------ */
/* Object container files (weir batch, weir gen --out file:)           */

typedef struct weir_container_reader weir_container_reader_t;

/** @brief Opens a container file and reads its header. Codecs: null, deflate. */
int weir_container_reader_open(const char *path, weir_container_reader_t **out, char *err,
                               size_t errsz);
/** @brief The writer schema in the file header (borrowed). */
avro_schema_t weir_container_reader_schema(const weir_container_reader_t *r);
/**
 * @brief Reads the next datum through the bounded checker.
 * @param body receives the datum's Avro bytes (valid until the next call).
 * @returns 1 with a datum; 0 at the end; WEIR_EDECODE for a bad datum (its
 *          block's remaining @p *skipped datums cannot be delimited and are
 *          skipped; reading goes on at the next block); WEIR_EIO for a broken
 *          file, after which reading stops: a bad sync marker, an unreadable
 *          or truncated block, and a block whose count cannot be believed —
 *          more datums than its bytes can hold at the schema's smallest
 *          encoding (1,024 when that is 0 bytes), bytes in a block of no
 *          datums, deflate data that is corrupt or inflates past 64 MiB, a
 *          block that runs out of bytes before its count, or a malformed datum
 *          whose block claims more datums after it than one per 16 stored
 *          bytes. So @p *skipped never exceeds the block's stored size / 16.
 *          The last datum of a block must end where the block does (else
 *          trailing_bytes). @p detail names the datum index and the block's
 *          file offset; on WEIR_EIO it names the file and the byte offset.
 */
int weir_container_reader_next(weir_container_reader_t *r, avro_value_t **value,
                               const uint8_t **body, size_t *body_len, size_t *skipped,
                               weir_reason_t *reason, char *detail, size_t detailsz);
/** @brief Index of the datum last returned or refused, counting from 0. */
uint64_t weir_container_reader_index(const weir_container_reader_t *r);
void weir_container_reader_close(weir_container_reader_t *r);

typedef struct weir_container_writer weir_container_writer_t;

/** @brief The deflate level of codec "deflate" (chosen by bench/batch.sh). */
#define WEIR_CONTAINER_DEFLATE_LEVEL 1

/**
 * @brief Reads an output codec name: "null" (level 0), "deflate" (level
 * WEIR_CONTAINER_DEFLATE_LEVEL) or "deflate:1" to "deflate:9".
 * @returns 0, or -1 for any other name.
 */
int weir_container_codec_parse(const char *codec, int *deflate_level);

/** @brief Creates (truncates) @p path with @p schema; @p codec as weir_container_codec_parse()
 *         takes it (NULL is "null"); the sync marker comes from getrandom(). */
int weir_container_writer_open(const char *path, avro_schema_t schema, const char *codec,
                               weir_container_writer_t **out, char *err, size_t errsz);
/**
 * @brief weir_container_writer_open() with the 16-byte sync marker given
 * (NULL: random), for files that must be byte-identical from run to run.
 */
int weir_container_writer_open_sync(const char *path, avro_schema_t schema, const char *codec,
                                    const uint8_t *sync, weir_container_writer_t **out, char *err,
                                    size_t errsz);
/**
 * @brief Appends one datum (an Avro body of the file's schema); writes blocks of ~64 KiB.
 * @returns 0; WEIR_EDECODE when @p datum is not exactly one datum of the schema
 *          (nothing is written); or the writer's first I/O error, which close repeats.
 */
int weir_container_writer_append(weir_container_writer_t *w, const uint8_t *datum, size_t len);
/** @brief Flushes, closes and frees; returns the first error met, if any. */
int weir_container_writer_close(weir_container_writer_t *w, char *err, size_t errsz);

/* ---- schema resolution (writer -> reader), schemas/resolve.c ---------- */

typedef struct weir_resolution weir_resolution_t;

/** @brief Deepest nesting of records, arrays, maps and unions resolved. */
#define WEIR_RESOLVE_MAX_DEPTH 32

/**
 * @brief Works out, once per writer schema, how data written with
 * @p writer_json is read as @p reader_json by the rules of the Avro
 * specification: reader fields found by name or alias (in any order), added
 * reader fields taking their default, writer fields the reader lacks skipped,
 * promotions (int -> long -> float -> double, string <-> bytes), enum symbols
 * mapped by name (a writer symbol the reader lacks maps to the reader's
 * default symbol, or to none: an error only for an event that carries it),
 * unions branch by branch.
 * @returns 0 with the plan in @p out; WEIR_ESCHEMA when the writer cannot be
 *          read as the reader, with @p err naming the field path at fault
 *          ("field amount: ..."); WEIR_EINVAL when a text is not a schema.
 */
int weir_resolve_new(const char *writer_json, const char *reader_json, weir_resolution_t **out,
                     char *err, size_t errsz);

/** @brief Reader fields that take their default (none in the writer), over every record. */
size_t weir_resolve_defaults(const weir_resolution_t *r);
/** @brief Values promoted (int to long, ...), over the whole plan. */
size_t weir_resolve_promotions(const weir_resolution_t *r);
/** @brief Writer fields skipped (the reader lacks them), over every record. */
size_t weir_resolve_skipped(const weir_resolution_t *r);
/** @brief Whether writer and reader are the same (reading needs no resolution). */
int weir_resolve_identity(const weir_resolution_t *r);

/**
 * @brief Reads one datum written with the writer schema and appends it, as the
 * reader schema encodes it, to @p out: fields reordered, skipped or defaulted,
 * values promoted, enum symbols and union branches mapped. The program is
 * compiled by weir_resolve_new(); this does no schema work. Check the datum
 * with the writer's plan first: this bounds its reads but not its nesting.
 * Not thread-safe per resolution.
 * @returns 0; WEIR_EDECODE with @p detail naming the reader field when the
 *          datum carries a value the reader cannot take (an enum symbol
 *          without a reader default, an unreadable union branch) or is
 *          truncated; WEIR_ELIMIT when the result does not fit @p out.
 */
int weir_resolve_read(weir_resolution_t *r, const uint8_t *buf, size_t len, weir_buf_t *out,
                      char *detail, size_t detailsz);

void weir_resolve_destroy(weir_resolution_t *r);

/* ---- writer schemas met in a stream, schemas/writers.c ---------------- */

/** @brief The most writer schema ids a table holds. */
#define WEIR_WRITERS_MAX 4096

/**
 * @brief Writer schemas by id, each resolved once to one reader schema, or
 * refused with a dead-letter reason. Filled by the registry's side, read by
 * decoders (weir_decoder_use_writers()). Use from one thread.
 */
/** @brief A table whose writers are read as @p reader_json (the input.schema text, copied). */
int weir_writers_new(const char *reader_json, weir_writers_t **out, char *err, size_t errsz);
void weir_writers_destroy(weir_writers_t *w);
/** @brief Whether @p id is in the table, resolved or refused. */
int weir_writers_known(const weir_writers_t *w, int32_t id);
/**
 * @brief Resolves @p writer_json (the schema of @p id) to the reader schema.
 * @returns 0 (also when @p id is known already); WEIR_ESCHEMA when it cannot
 *          be read as the reader, with @p err naming the field, and the id
 *          then refused as incompatible_schema; WEIR_ELIMIT past
 *          WEIR_WRITERS_MAX; WEIR_ENOMEM.
 */
int weir_writers_add(weir_writers_t *w, int32_t id, const char *writer_json, char *err,
                     size_t errsz);
/** @brief Makes every event of @p id a dead letter with @p reason and @p detail. */
int weir_writers_refuse(weir_writers_t *w, int32_t id, weir_reason_t reason, const char *detail);

#endif
