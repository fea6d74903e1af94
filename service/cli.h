/**
 * @file cli.h
 * @brief What every `weir` command's argument parser shares: getopt errors
 *        that name the option, -c/-X collection, number parsing, and the exit
 *        code of an error code.
 *
 * A command parses its argv into one options struct (nothing else reads
 * argv), then runs from that struct. Parsing reports problems in a caller's
 * buffer and returns WEIR_EINVAL; -h wins over a bad value but not over an
 * unknown option, so `weir CMD --opt X -h` tells whether --opt exists.
 */
#ifndef WEIR_CLI_H
#define WEIR_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/**
 * @brief Exit code of a WEIR_E* code: 0 for 0, 2 for a usage or configuration
 * error (WEIR_EINVAL, WEIR_ECONFIG), 1 for anything else.
 */
int weir_cli_exit_code(int rc);

/**
 * @brief Describes getopt_long's '?' (unknown option) or ':' (missing value)
 * for `weir @p cmd` in @p err, naming the option as typed; uses optind and
 * optopt, so call it right after getopt_long returned @p opt.
 * @returns WEIR_EINVAL.
 */
int weir_cli_option_error(const char *cmd, int opt, int argc, char *const argv[], char *err,
                          size_t errsz);

/** @brief Records -c @p path; a second -c is an error. */
int weir_cli_config_file(weir_config_args_t *a, const char *path, char *err, size_t errsz);

/** @brief Records one -X @p assignment (applied in order, after the -c file). */
int weir_cli_config_override(weir_config_args_t *a, const char *assignment, char *err,
                             size_t errsz);

/** @brief Parses a decimal integer from 0 to @p max for option @p opt. */
int weir_cli_parse_u64(const char *opt, const char *v, uint64_t max, uint64_t *out, char *err,
                       size_t errsz);

/** @brief Parses a finite number from @p lo to @p hi for option @p opt. */
int weir_cli_parse_double(const char *opt, const char *v, double lo, double hi, double *out,
                          char *err, size_t errsz);

/** @brief "unexpected argument "X" (see weir CMD -h)" in @p err. @returns WEIR_EINVAL. */
int weir_cli_stray_argument(const char *cmd, const char *arg, char *err, size_t errsz);

#endif
