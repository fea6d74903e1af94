/**
 * @file source.h
 * @brief A bounded input for the batch commands (`weir replay`, `weir
 *        profile`): ranges of Kafka topics read without a consumer group, or
 *        an Avro container file, yielded one record at a time in a defined,
 *        reproducible order.
 *
 * The order: a topic's partitions are merged by event time, then topic (in
 * the order given), partition and offset. The merge takes, at every step,
 * the smallest head among the partitions not yet read to their end, waiting
 * for a partition whose next record has not arrived; each partition keeps
 * its offset order. So the sequence depends only on what the partitions
 * hold, never on how their fetches interleave, and memory stays bounded by
 * one fetch per partition. Event time is the input's time field when it has
 * one (input.time.field), else the record's Kafka timestamp. A file is read
 * in its own order.
 *
 * Time bounds: a topic range holds the records whose Kafka timestamp t has
 * from <= t < to, read from the offsets-for-times of `from` to those of `to`
 * (fixed when the source opens, so a read always ends); a record inside the
 * offsets but outside the times (timestamps out of order) is skipped and
 * counted. A file's bounds apply to the event time.
 */
#ifndef WEIR_SOURCE_H
#define WEIR_SOURCE_H

#include <avro.h>
#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>

#include "consumer.h"
#include "schemas.h"

/** @brief Most offsets one bound may name. */
#define WEIR_SOURCE_MAX_OFFSETS 256

/** @brief A parsed --from or --to: a time, or per-partition offsets. */
typedef struct {
    int is_offsets;
    int64_t time_ms; /**< when !is_offsets; INT64_MIN / INT64_MAX: unbounded */
    weir_range_offset_t offsets[WEIR_SOURCE_MAX_OFFSETS];
    size_t n_offsets;
    char *topics[WEIR_SOURCE_MAX_OFFSETS]; /**< owned copies of the offsets' topic names */
} weir_source_bound_t;

/**
 * @brief Parses a time: RFC 3339 (`2026-03-01T12:00:00Z`, with optional
 * fraction and offset `+02:00`), a date (`2026-03-01`, midnight UTC), or
 * milliseconds since the epoch (digits only).
 * @returns 0 or WEIR_EINVAL.
 */
int weir_source_parse_time(const char *s, int64_t *ms);

/**
 * @brief Parses a bound: a time (weir_source_parse_time()) or
 * `offsets:P=O,P=O` / `offsets:TOPIC/P=O,...` (a partition without a topic
 * is that partition of every input topic). Free with weir_source_bound_dispose().
 * @returns 0 or WEIR_EINVAL with @p err naming @p opt.
 */
int weir_source_parse_bound(const char *opt, const char *s, weir_source_bound_t *out, char *err,
                            size_t errsz);
void weir_source_bound_dispose(weir_source_bound_t *b);
/** @brief An unbounded bound (the whole range on that side). */
void weir_source_bound_none(weir_source_bound_t *b, int is_end);

/** @brief Writes @p ms as RFC 3339 UTC with milliseconds ("2026-03-01T12:00:00.000Z"). */
void weir_source_format_time(int64_t ms, char *out, size_t outsz);

typedef struct {
    /* one of the two */
    const char *file;                /**< an Avro container file */
    const char *const *topics;       /**< NULL-terminated topics */
    rd_kafka_conf_t *kafka;          /**< for topics; consumed by open (also on failure) */
    avro_schema_t schema;            /**< for topics: the writer schema; borrowed */
    weir_framing_t framing;          /**< for topics */
    int32_t schema_id;               /**< for topics */
    const weir_source_bound_t *from; /**< NULL: from the start */
    const weir_source_bound_t *to;   /**< NULL: to the end (as of open) */
    const char *time_field;          /**< event time for the order; "" or NULL: the timestamp */
    int stall_ms;                    /**< fail when no record arrives for this long [60000] */
} weir_source_config_t;

typedef struct weir_source weir_source_t;

/** @brief One record, valid until the next call. */
typedef struct {
    const uint8_t *value; /**< the raw value (framed as the topic's; a file's datum, raw) */
    size_t len;
    const void *key;
    size_t key_len;
    const char *topic;  /**< NULL for a file */
    int32_t partition;  /**< -1 for a file */
    int64_t offset;     /**< a file's datum index */
    int64_t timestamp;  /**< the Kafka timestamp; a file's event time (or 0) */
    int64_t event_time; /**< the order key: the event time or the timestamp */
    /* a file datum that cannot be read (value NULL): a dead letter */
    int bad;
    weir_reason_t reason;
    char detail[256];
} weir_source_record_t;

/**
 * @brief Opens the input and, for topics, fixes every partition's range.
 * @returns 0, WEIR_ECONFIG / WEIR_EINVAL (a topic that does not exist, a file
 *          that cannot be read, an offset naming no partition), WEIR_EKAFKA,
 *          WEIR_ENOMEM; @p err says which.
 */
int weir_source_open(const weir_source_config_t *cfg, weir_source_t **out, char *err, size_t errsz);
void weir_source_close(weir_source_t *s);

/**
 * @brief The next record in the order above.
 * @returns 1 with @p rec filled, 0 at the end, or a negative code (the broker
 *          stalled past stall_ms, a range cannot be read, a broken file)
 *          with @p err naming the partition or the file.
 */
int weir_source_next(weir_source_t *s, weir_source_record_t *rec, char *err, size_t errsz);

/** @brief The input's writer schema (a file's, or the topics'); borrowed. */
avro_schema_t weir_source_schema(const weir_source_t *s);

/** @brief Records the range holds at most (topics: offsets), 0 when unknown (files). */
uint64_t weir_source_total(const weir_source_t *s);
/** @brief Records read so far (handed out or skipped). */
uint64_t weir_source_read(const weir_source_t *s);
/** @brief Records inside the offsets but outside the time bounds, skipped. */
uint64_t weir_source_skipped(const weir_source_t *s);

/** @brief The partitions' ranges (topics); 0 for a file. */
size_t weir_source_partition_count(const weir_source_t *s);
const weir_range_partition_t *weir_source_partition(const weir_source_t *s, size_t i);

#endif
