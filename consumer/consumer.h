/**
 * @file consumer.h
 * @brief A Kafka consumer-group member on the libuv loop.
 *
 * The librdkafka consumer queue signals a pipe (rd_kafka_queue_io_event_enable)
 * that a uv_poll watches; on each wakeup up to `batch_max` messages are drained
 * without blocking, and a keep-alive timer serves the queue well inside
 * max.poll.interval.ms. Rebalances use the cooperative-sticky assignor and are
 * handed to the owner before partitions are released, so it can flush and
 * commit. librdkafka's logs arrive through the same queue, on the loop.
 *
 * Guards for librdkafka 2.0.2 (fixed only in later releases):
 *  - closing a cooperative-sticky consumer before its first assignment can
 *    crash (fixed 2.3.0): weir_consumer_close() first waits, bounded, for the
 *    first rebalance, and if none comes it leaves the handle to process exit;
 *  - an assignment arriving during close can hang (fixed 2.4.0): every
 *    rebalance event is applied even while closing, and close is bounded by a
 *    watchdog;
 *  - a commit during an incremental rebalance can mark the assignment lost
 *    (fixed 2.10.0): lost partitions are reported as such (no commit is tried
 *    for them; their in-flight work is re-read by the next owner);
 *  - rd_kafka_offsets_store() fails with __STATE for partitions no longer
 *    assigned: weir_consumer_store() reports and skips those;
 *  - a partition's application pause survives its unassignment, so one
 *    paused when its assignment was lost comes back paused: every newly
 *    assigned partition gets its pause state set explicitly.
 *
 * The loop thread owns the object; nothing here is thread-safe.
 */
#ifndef WEIR_CONSUMER_H
#define WEIR_CONSUMER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct weir_consumer weir_consumer_t;

typedef struct {
    /**
     * Messages consumed, in order per partition. The callee takes ownership of
     * every message (rd_kafka_message_destroy). Error events are not passed.
     */
    void (*on_messages)(void *opaque, rd_kafka_message_t **msgs, size_t n);
    /** Partitions were added to the assignment (after incremental_assign). */
    void (*on_assign)(void *opaque, const rd_kafka_topic_partition_list_t *parts);
    /**
     * Partitions are about to be released (before incremental_unassign): flush
     * and commit what is done. @p lost: the group already gave them away, do
     * not commit.
     */
    void (*on_revoke)(void *opaque, const rd_kafka_topic_partition_list_t *parts, int lost);
    /** A client error; @p fatal means the consumer cannot go on. */
    void (*on_error)(void *opaque, rd_kafka_resp_err_t err, const char *reason, int fatal);
    /**
     * An asynchronous commit failed (for the whole request or some partition);
     * the stored offsets stay uncommitted until a later commit. May be NULL.
     */
    void (*on_commit_failed)(void *opaque, rd_kafka_resp_err_t err);
} weir_consumer_callbacks_t;

/**
 * @brief Creates the consumer, subscribes and starts watching its queue.
 * @param conf taken on success (and on failure: always consumed).
 * @param topics NULL-terminated topic list.
 */
int weir_consumer_new(uv_loop_t *loop, rd_kafka_conf_t *conf, const char *const *topics,
                      size_t batch_max, const weir_consumer_callbacks_t *cb, void *opaque,
                      weir_consumer_t **out, char *err, size_t errsz);

/** @brief The librdkafka handle (for metadata, positions, lag). */
rd_kafka_t *weir_consumer_handle(weir_consumer_t *c);

/** @brief Pauses all assigned partitions, and any assigned later, until resumed. */
void weir_consumer_pause(weir_consumer_t *c);
void weir_consumer_resume(weir_consumer_t *c);
int weir_consumer_paused(const weir_consumer_t *c);

/**
 * @brief Pauses one partition until weir_consumer_resume_partition(),
 * independently of weir_consumer_pause(): resuming all leaves it paused. A
 * revoke forgets it. Messages already handed over stay with the owner.
 */
void weir_consumer_pause_partition(weir_consumer_t *c, const char *topic, int32_t partition);
void weir_consumer_resume_partition(weir_consumer_t *c, const char *topic, int32_t partition);
/** @brief Whether weir_consumer_pause_partition() holds this partition. */
int weir_consumer_partition_paused(const weir_consumer_t *c, const char *topic, int32_t partition);

/** @brief Stops taking messages from the queue (callbacks are still served). */
void weir_consumer_stop_reading(weir_consumer_t *c);

/**
 * @brief Stores offsets (offset = next to consume) for later commit. Partitions
 * no longer assigned are skipped and counted in @p skipped (may be NULL).
 */
int weir_consumer_store(weir_consumer_t *c, rd_kafka_topic_partition_list_t *offsets,
                        size_t *skipped);

/** @brief Commits stored offsets now; @p sync blocks until the broker answers. */
int weir_consumer_commit(weir_consumer_t *c, int sync, char *err, size_t errsz);

/** @brief The current assignment (a copy; the caller destroys it). */
rd_kafka_topic_partition_list_t *weir_consumer_assignment(weir_consumer_t *c);

/** @brief Number of partitions currently assigned. */
size_t weir_consumer_assigned_count(const weir_consumer_t *c);

/**
 * @brief Leaves the group: commits stored offsets, closes and destroys the
 * handle, within @p timeout_ms. Serves rebalance callbacks while doing so.
 * @returns 0, or WEIR_ETIMEDOUT when the close was abandoned: the handle is
 *          then left to process exit (see the guards above), and the process
 *          should exit promptly without running library destructors (_exit).
 */
int weir_consumer_close(weir_consumer_t *c, int timeout_ms);

/**
 * @brief Frees the object. Call after weir_consumer_close() and after the loop
 * has run once more (uv_run UV_RUN_NOWAIT), so its handles' close callbacks ran.
 */
void weir_consumer_destroy(weir_consumer_t *c);

/**
 * @name Range reader
 * A bounded read of fixed offset ranges of partitions, with no consumer
 * group: the partitions are assign()ed (never subscribed), nothing is ever
 * committed, and the group id is one of the reader's own, so the service's
 * group and its committed offsets are never touched. Each range is fixed at
 * open — the start from offsets-for-times or given offsets, the end from
 * offsets-for-times, given offsets or the high watermark at open — so a read
 * always ends. Every partition has its own queue, read at the owner's pace
 * (for a merge whose order does not depend on how fetches interleave).
 * Blocking, without a loop: for batch commands (weir replay, weir profile).
 * One thread at a time.
 */
/**@{*/
typedef struct weir_range_reader weir_range_reader_t;

/** @brief One partition's offsets: @p topic NULL names that partition of every topic read. */
typedef struct {
    const char *topic;
    int32_t partition;
    int64_t offset;
} weir_range_offset_t;

/**
 * @brief Where a range starts or ends: given offsets (partitions not named
 * start at their low watermark and end at their high one), or else a time in
 * ms, resolved by offsets-for-times to the first offset whose timestamp is
 * at or after it (INT64_MIN: the low watermark, INT64_MAX: the high one).
 */
typedef struct {
    int64_t time_ms;
    const weir_range_offset_t *offsets; /**< NULL: use time_ms */
    size_t n_offsets;
} weir_range_bound_t;

/** @brief One partition's range, as resolved at open, and how far it was read. */
typedef struct {
    char *topic;
    int32_t partition;
    int64_t low, high;  /**< watermarks at open */
    int64_t start, end; /**< [start, end), clamped to the watermarks */
    uint64_t read;      /**< messages handed out */
    int done;           /**< the range was read to its end */
} weir_range_partition_t;

/**
 * @brief Resolves the ranges of every partition of @p topics and assigns them.
 * @param conf always consumed; group.id, commits, EOF reporting and
 *        auto.offset.reset (error: a range gone by retention is an error) are
 *        set here.
 * @param timeout_ms for each metadata, watermark and offsets-for-times request.
 * @returns 0, WEIR_ECONFIG (a topic that does not exist, an offset naming no
 *          partition; the message names it), WEIR_EKAFKA or WEIR_ENOMEM.
 */
int weir_range_reader_new(rd_kafka_conf_t *conf, const char *const *topics,
                          const weir_range_bound_t *from, const weir_range_bound_t *to,
                          int timeout_ms, weir_range_reader_t **out, char *err, size_t errsz);

/** @brief Partitions of the read, in topic order then metadata order. */
size_t weir_range_reader_count(const weir_range_reader_t *r);
const weir_range_partition_t *weir_range_reader_partition(const weir_range_reader_t *r, size_t i);
rd_kafka_t *weir_range_reader_handle(weir_range_reader_t *r);

/**
 * @brief The next message of partition @p i, waiting up to @p timeout_ms.
 * @param out receives the message (the caller destroys it, before the reader).
 * @returns 1 with a message, 0 when the partition's range is read,
 *          WEIR_ETIMEDOUT when nothing came in time (call again), or
 *          WEIR_EKAFKA (the range cannot be read: deleted by retention, a
 *          fatal client error) with @p err naming the partition and offset.
 */
int weir_range_reader_next(weir_range_reader_t *r, size_t i, int timeout_ms,
                           rd_kafka_message_t **out, char *err, size_t errsz);

/** @brief Unassigns, closes and frees. NULL is fine. */
void weir_range_reader_destroy(weir_range_reader_t *r);
/**@}*/

#endif
