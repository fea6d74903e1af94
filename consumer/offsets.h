/**
 * @file offsets.h
 * @brief Per-partition tracking of in-flight input offsets, for at-least-once.
 *
 * Every consumed message is registered with weir_offsets_begin() in offset
 * order and gets a token; the token travels as the produce opaque of the one
 * record (scored event or dead letter) the message turns into. When that
 * record's delivery report arrives, weir_offsets_done() marks it. The offset
 * that may be stored for a partition is one past the longest prefix of done
 * messages: an offset is never stored before everything below it was durably
 * written. A failed delivery freezes its partition's prefix for good.
 *
 * Tokens carry the partition's assignment epoch, so a delivery report that
 * arrives after the partition was revoked (and maybe re-assigned) is ignored
 * instead of advancing an offset this instance no longer owns.
 *
 * An in-flight entry can carry one attachment (the owner keeps the input
 * message there when it may need it again, e.g. to write a dead letter for an
 * output the broker refused). Attachments still held when their partition is
 * revoked or reassigned, or the table destroyed, go to the release function.
 *
 * Pure bookkeeping: no Kafka calls. Not thread-safe (the loop owns it).
 */
#ifndef WEIR_OFFSETS_H
#define WEIR_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

typedef struct weir_offsets weir_offsets_t;

/** @brief A partition's state as seen by weir_offsets_foreach_dirty(). */
typedef struct {
    const char *topic;
    int32_t partition;
    int64_t store_offset; /**< next offset to consume: last done + 1 */
    int failed;           /**< a delivery failed; the offset is frozen */
} weir_offsets_entry_t;

/** @brief Frees an attachment the table still held (may be NULL in weir_offsets_new). */
typedef void (*weir_offsets_release_fn)(void *attachment);

/**
 * @brief Creates an empty table.
 * @param max_in_flight cap on messages in flight per partition (begin fails past it).
 * @param release frees attachments left behind (NULL: attachments are not owned).
 */
int weir_offsets_new(size_t max_in_flight, weir_offsets_release_fn release, weir_offsets_t **out);
void weir_offsets_destroy(weir_offsets_t *o);

/** @brief Starts (or restarts) tracking a partition; bumps its epoch. */
int weir_offsets_assign(weir_offsets_t *o, const char *topic, int32_t partition);

/** @brief Stops tracking; in-flight tokens of the partition become stale. */
void weir_offsets_revoke(weir_offsets_t *o, const char *topic, int32_t partition);

/** @brief Whether the partition is currently assigned. */
int weir_offsets_assigned(const weir_offsets_t *o, const char *topic, int32_t partition);

/**
 * @brief Registers a consumed message. Offsets must increase per partition.
 * @returns 0 with @p token set, WEIR_ESTATE if the partition is not assigned,
 *          WEIR_EINVAL for an offset not above the last one, WEIR_ELIMIT past the cap.
 */
int weir_offsets_begin(weir_offsets_t *o, const char *topic, int32_t partition, int64_t offset,
                       uint64_t *token);

/**
 * @brief Marks the message of @p token delivered (@p ok) or failed.
 * @returns 1 if the partition's store offset advanced, 0 if not, or
 *          WEIR_ESTATE for a stale or unknown token (ignored).
 */
int weir_offsets_done(weir_offsets_t *o, uint64_t token, int ok);

/** @brief Messages begun and not yet done, over all assigned partitions. */
size_t weir_offsets_in_flight(const weir_offsets_t *o);

/**
 * @brief Attaches @p attachment to the in-flight entry of @p token (the table
 *        owns it from now on, until weir_offsets_detach() or release).
 * @returns 0, or WEIR_ESTATE for a stale or finished token (not taken).
 */
int weir_offsets_attach(weir_offsets_t *o, uint64_t token, void *attachment);

/** @brief Takes back the attachment of @p token (NULL when none or stale). */
void *weir_offsets_detach(weir_offsets_t *o, uint64_t token);

/**
 * @brief Where the message of a live token came from.
 * @returns 0, or WEIR_ESTATE for a stale or finished token.
 */
int weir_offsets_lookup(const weir_offsets_t *o, uint64_t token, const char **topic,
                        int32_t *partition, int64_t *offset);

/** @brief Room left under the in-flight cap of one partition (0 when not assigned). */
size_t weir_offsets_partition_room(const weir_offsets_t *o, const char *topic, int32_t partition);

/** @brief In-flight messages of one partition. */
size_t weir_offsets_partition_in_flight(const weir_offsets_t *o, const char *topic,
                                        int32_t partition);

/** @brief The offset to store for a partition (-1 when nothing is done yet). */
int64_t weir_offsets_store_offset(const weir_offsets_t *o, const char *topic, int32_t partition);

/**
 * @brief Calls @p fn for every assigned partition whose store offset moved
 * since the last call, then clears the mark. Stops early if @p fn returns nonzero.
 */
void weir_offsets_foreach_dirty(weir_offsets_t *o,
                                int (*fn)(void *opaque, const weir_offsets_entry_t *e),
                                void *opaque);

/** @brief Whether any assigned partition has a failed delivery. */
int weir_offsets_any_failed(const weir_offsets_t *o);

#endif
