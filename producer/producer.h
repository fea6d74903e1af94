/**
 * @file producer.h
 * @brief The output producer on the libuv loop: scored events, dead letters and
 *        alerts, with delivery reports served on the loop.
 *
 * One idempotent librdkafka producer per process. Every record carries a
 * 64-bit token (the produce opaque) that comes back in its delivery report,
 * which the owner uses to release input offsets only after the output is
 * durably written. The producer's main queue signals a pipe watched by a
 * uv_poll, so delivery reports are served without blocking the loop.
 *
 * The loop thread owns the object; nothing here is thread-safe.
 */
#ifndef WEIR_PRODUCER_H
#define WEIR_PRODUCER_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct weir_producer weir_producer_t;

/**
 * @brief Called on the loop once per produced record, with its token.
 * @param p the producer that wrote (or failed to write) it.
 * @param m the record as produced, with `err` (RD_KAFKA_RESP_ERR_NO_ERROR when
 *          durably written), topic, key, value and headers; valid only during the call.
 */
typedef void (*weir_delivery_cb)(void *opaque, weir_producer_t *p, uint64_t token,
                                 const rd_kafka_message_t *m);

/** @brief Called after each batch of delivery reports was served. */
typedef void (*weir_delivered_batch_cb)(void *opaque);

/**
 * @brief Creates the producer and starts serving its delivery reports.
 * @param conf always consumed.
 */
int weir_producer_new(uv_loop_t *loop, rd_kafka_conf_t *conf, weir_delivery_cb on_delivery,
                      weir_delivered_batch_cb on_batch, void *opaque, weir_producer_t **out,
                      char *err, size_t errsz);

/** @brief A topic handle, created once and kept by the producer. */
rd_kafka_topic_t *weir_producer_topic(weir_producer_t *p, const char *name);

/**
 * @brief Enqueues one record (value copied).
 * @param headers taken on success; left to the caller on failure.
 * @returns 0, WEIR_EFULL when the local queue is full (retry after deliveries),
 *          WEIR_ELIMIT when the record is larger than the client's
 *          message.max.bytes (it can never be written as it is), or WEIR_EKAFKA.
 */
int weir_producer_send(weir_producer_t *p, rd_kafka_topic_t *topic, const void *key, size_t key_len,
                       const void *value, size_t value_len, rd_kafka_headers_t *headers,
                       uint64_t token);

/** @brief The client's message.max.bytes: no record larger than this is sent. */
size_t weir_producer_max_message_bytes(const weir_producer_t *p);

/** @brief Whether a delivery error means the record itself is too large for the
 *         topic or the client (permanent for that record, not for the service). */
int weir_producer_too_large(rd_kafka_resp_err_t err);

/** @brief Records enqueued and not yet reported. */
size_t weir_producer_in_flight(const weir_producer_t *p);

/** @brief Serves delivery reports now (non-blocking). */
void weir_producer_serve(weir_producer_t *p);

/**
 * @brief Waits up to @p timeout_ms for every enqueued record's report, serving
 *        them. Blocks the loop: for revoke and shutdown only.
 * @returns 0 or WEIR_ETIMEDOUT.
 */
int weir_producer_flush(weir_producer_t *p, int timeout_ms);

/** @brief Delivery failures so far. */
uint64_t weir_producer_failures(const weir_producer_t *p);

rd_kafka_t *weir_producer_handle(weir_producer_t *p);

/** @brief Stops watching; call before destroy, then let the loop run once. */
void weir_producer_close(weir_producer_t *p);
/** @brief Destroys the handle (records still queued are purged and reported failed). */
void weir_producer_destroy(weir_producer_t *p);

/**
 * @name Outbox
 * Records produced outside a batch's scored stream — drift alerts, records
 * retried one by one, dead letters made after a delivery report — wait here
 * as owned copies until the loop drains them into a producer, in order. It
 * never blocks and never flushes; the owner drains it where the loop is in
 * charge (after delivery reports, before the next batch).
 */
/**@{*/
typedef struct weir_outbox weir_outbox_t;

/** @brief One waiting record; everything in it is owned by the outbox. */
typedef struct weir_outbox_record {
    weir_producer_t *via; /**< the producer to write it with */
    rd_kafka_topic_t *topic;
    void *key;
    size_t key_len;
    void *value;
    size_t value_len;
    rd_kafka_headers_t *headers; /**< may be NULL */
    uint64_t token;
    struct weir_outbox_record *next;
} weir_outbox_record_t;

/** @param soft_max bytes held past which weir_outbox_full() says so (it still accepts). */
int weir_outbox_new(size_t soft_max, weir_outbox_t **out);
/** @brief Frees every waiting record. */
void weir_outbox_destroy(weir_outbox_t *o);

/**
 * @brief Queues a copy of a record. @p headers is taken (also on failure).
 * @returns 0 or WEIR_ENOMEM.
 */
int weir_outbox_push(weir_outbox_t *o, weir_producer_t *via, rd_kafka_topic_t *topic,
                     const void *key, size_t key_len, const void *value, size_t value_len,
                     rd_kafka_headers_t *headers, uint64_t token);

/** @brief The oldest waiting record, or NULL. */
weir_outbox_record_t *weir_outbox_peek(weir_outbox_t *o);
/**
 * @brief Removes and frees the oldest record.
 * @param headers_taken its headers went to a producer (do not free them).
 */
void weir_outbox_pop(weir_outbox_t *o, int headers_taken);

size_t weir_outbox_count(const weir_outbox_t *o);
/** @brief Whether more than soft_max bytes are waiting (time to apply backpressure). */
int weir_outbox_full(const weir_outbox_t *o);
/**@}*/

#endif
