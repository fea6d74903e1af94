/**
 * @file prom.h
 * @brief The one Prometheus text-format writer: every metric weir exposes is
 *        written through it, so label values are escaped in one place.
 *
 * Pure: appends to a caller's capped buffer, no I/O.
 */
#ifndef WEIR_PROM_H
#define WEIR_PROM_H

#include <stddef.h>

#include "common.h"

/** @brief Appends printf-formatted text to a buffer. */
int weir_buf_printf(weir_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * @brief Escapes a label value (backslash, double quote, newline) into @p out,
 *        cut at a character boundary of the escaping when @p outsz is short.
 */
void weir_prom_escape(char *out, size_t outsz, const char *value);

#endif
