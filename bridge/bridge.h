/**
 * @file bridge.h
 * @brief The one bridge between librdkafka and the libuv loop, shared by the
 *        consumer, the producer and `weir gen`.
 *
 * librdkafka signals a queue's events by writing a byte to a pipe
 * (rd_kafka_queue_io_event_enable); a uv_poll watches the read end and runs
 * the owner's serve function on the loop, and a keep-alive timer runs it too,
 * so that callbacks are served even when nothing is written. Serving never
 * blocks. librdkafka's logs are routed through the same queue (log.queue)
 * and written as weir's logfmt lines, with registered secrets redacted
 * (log.h).
 *
 * The bridge owns its handles and frees itself in their close callbacks, as
 * libuv requires; its owner may free its own memory as soon as it has called
 * weir_bridge_close(). Loop thread only.
 */
#ifndef WEIR_BRIDGE_H
#define WEIR_BRIDGE_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>
#include <uv.h>

typedef struct weir_bridge weir_bridge_t;

/** @brief Serves the queue once, without blocking; returns how many events it took. */
typedef size_t (*weir_bridge_serve_fn)(void *opaque);

/**
 * @brief Sets what every weir client shares on a conf before rd_kafka_new():
 * logs delivered as events (log.queue) and written through weir_log.
 * @returns 0 or WEIR_ECONFIG with @p err filled.
 */
int weir_bridge_conf(rd_kafka_conf_t *conf, char *err, size_t errsz);

/** @brief The log callback weir_bridge_conf() installs (for clients without a loop). */
void weir_bridge_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

/**
 * @brief Logs a client error once, the same way for every client: its name,
 * the reason (for a fatal error, librdkafka's fatal reason).
 * @returns 1 when the error is fatal for the client, else 0.
 */
int weir_bridge_log_error(rd_kafka_t *rk, int err, const char *reason, const char *what);

/**
 * @brief Starts serving @p queue (borrowed; keep it alive until
 * weir_bridge_close()) on @p loop.
 * @param keepalive_ms how often @p serve runs even without a wakeup.
 * @param batch when a serve takes this many events or more, the next one runs
 *        on the next loop iteration instead of waiting for a wakeup (0: never).
 */
int weir_bridge_new(uv_loop_t *loop, rd_kafka_queue_t *queue, int keepalive_ms, size_t batch,
                    weir_bridge_serve_fn serve, void *opaque, weir_bridge_t **out, char *err,
                    size_t errsz);

/**
 * @brief Stops serving and closes the handles; the bridge frees itself once
 * libuv has closed them. Call it while the queue is still alive. NULL does
 * nothing; a second call does nothing. librdkafka stops writing the pipe at
 * once, so the client handle may outlive the bridge (even be left to a stuck
 * thread at exit).
 */
void weir_bridge_close(weir_bridge_t *b);

#endif
