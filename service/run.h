/**
 * @file run.h
 * @brief `weir run`: the consumer-group scoring service.
 */
#ifndef WEIR_RUN_H
#define WEIR_RUN_H

#include "config.h"

/**
 * @brief Runs the service until SIGTERM/SIGINT or a fatal error.
 * @returns the process exit code: 0 after a clean shutdown, 1 on a runtime
 *          failure, 2 for a configuration error (named on stderr).
 */
int weir_run(const weir_config_t *cfg);

#endif
