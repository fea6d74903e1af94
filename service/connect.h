/**
 * @file connect.h
 * @brief The start-up check that the Kafka cluster answers with weir's
 *        settings: a wrong password, an untrusted certificate or a plaintext
 *        client on a TLS port ends in a clear error instead of endless retries.
 */
#ifndef WEIR_CONNECT_H
#define WEIR_CONNECT_H

#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdint.h>

#include "config.h"

/**
 * @brief Whether a librdkafka client error means the cluster refused this
 * client's security settings (SASL authentication, TLS handshake or certificate
 * verification), which retrying cannot cure.
 */
int weir_connect_refused(rd_kafka_resp_err_t err);

/**
 * @brief Connects with the kafka.* settings of @p cfg and waits until a broker
 * answers a metadata request, at most @p timeout_ms (0: returns 0 at once).
 * Blocks the calling thread: call it before the event loop runs.
 * @returns 0 once a broker answered; WEIR_EKAFKA at the first refusal (see
 *          weir_connect_refused()), WEIR_ETIMEDOUT when no broker answered in
 *          time (a broker down, or a plaintext client on a TLS listener);
 *          WEIR_ESTOPPED as soon as @p stop (if not NULL) is set, by a
 *          signal handler say; WEIR_ECONFIG when the client cannot be created. @p err then says
 *          what librdkafka reported last, with secret values redacted.
 */
int weir_connect_check(const weir_config_t *cfg, int64_t timeout_ms, volatile sig_atomic_t *stop,
                       char *err, size_t errsz);

#endif
