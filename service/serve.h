/**
 * @file serve.h
 * @brief `weir serve`: real-time scoring over HTTP (POST /score), with
 *        /metrics, /healthz and /readyz on the same port. No Kafka.
 */
#ifndef WEIR_SERVE_H
#define WEIR_SERVE_H

#include "config.h"

/** @brief The address `weir serve` listens on when score.listen is empty. */
#define WEIR_SERVE_DEFAULT_LISTEN "127.0.0.1:9480"

/**
 * @brief What `weir serve` needs of a configuration: model.path and
 * input.schema, readable. @returns 0 or WEIR_ECONFIG naming the key.
 */
int weir_config_check_serve(const weir_config_t *cfg, char *err, size_t errsz);

/**
 * @brief Serves until SIGTERM/SIGINT; SIGHUP or a change of model.path loads
 * the new version between two requests.
 * @returns the exit code: 0 after a clean stop, 1 at run time, 2 for a
 *          configuration error (named on stderr).
 */
int weir_serve(const weir_config_t *cfg);

#endif
