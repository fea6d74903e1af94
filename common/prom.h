/**
 * @file prom.h
 * @brief The one Prometheus text-format (0.0.4) writer: every metric weir
 *        exposes is written through it, so names are checked and label
 *        values escaped in one place.
 *
 * A page is a sequence of families. weir_prom_family() opens one (its HELP and
 * TYPE lines, written once); the samples that follow belong to it, each with
 * its own label pairs, given as NULL-terminated name/value arguments:
 *
 *     weir_prom_t p;
 *     weir_prom_init(&p, &body);
 *     weir_prom_family(&p, "weir_dead_letters_total", WEIR_PROM_COUNTER, "Dead letters.");
 *     weir_prom_sample_u64(&p, n, "reason", "bad_framing", NULL);
 *     weir_prom_family(&p, "weir_batch_duration_seconds", WEIR_PROM_HISTOGRAM, "...");
 *     weir_prom_histogram(&p, bounds, counts, 12, count, sum, NULL);
 *     rc = weir_prom_finish(&p);
 *
 * The writer refuses what Prometheus (and `promtool check metrics`) would:
 * an invalid metric or label name, a family opened twice, a sample outside a
 * family, a duplicate label name, a counter not named `*_total`, a gauge or
 * histogram named like a counter or a histogram's own series, an empty help.
 * Label values and help texts may hold anything: backslash, double quote and
 * newline are escaped, and bytes that are not UTF-8 become U+FFFD.
 *
 * Errors are sticky: the first one is kept, later calls write nothing, and
 * weir_prom_finish() returns it. A refused sample or family leaves nothing
 * half-written in the buffer. Pure: appends to the caller's capped buffer,
 * no I/O, no allocation beyond the buffer's own growth.
 */
#ifndef WEIR_PROM_H
#define WEIR_PROM_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/** @brief Appends printf-formatted text to a buffer (all of it or nothing). */
int weir_buf_printf(weir_buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** @brief The kinds of family weir writes. */
typedef enum {
    WEIR_PROM_COUNTER = 0,
    WEIR_PROM_GAUGE,
    WEIR_PROM_HISTOGRAM,
} weir_prom_type_t;

/** @brief Most families one writer accepts (each is remembered to refuse a second TYPE). */
#define WEIR_PROM_MAX_FAMILIES 256
/** @brief Longest metric name, in bytes. */
#define WEIR_PROM_MAX_NAME 127
/** @brief Most label pairs on one sample (a histogram's `le` included). */
#define WEIR_PROM_MAX_LABELS 8

/**
 * @brief The writer's state; embed it, weir_prom_init() it, no dispose needed.
 * Its fields are private.
 */
typedef struct {
    weir_buf_t *out;
    int rc;
    int open; /* a family is open */
    weir_prom_type_t type;
    char family[WEIR_PROM_MAX_NAME + 1];
    size_t n_families;
    uint64_t families[WEIR_PROM_MAX_FAMILIES]; /* hashes of the names written */
} weir_prom_t;

/** @brief Starts a page that appends to @p out (which the caller owns). */
void weir_prom_init(weir_prom_t *p, weir_buf_t *out);

/**
 * @brief Opens a family: writes `# HELP name help` and `# TYPE name type`.
 * @returns 0; WEIR_EINVAL for a bad or repeated name, an empty help, a
 *          counter not named `*_total` or another kind named like one (or like
 *          a histogram's `_bucket`/`_sum`/`_count`); WEIR_ELIMIT when the
 *          buffer is full or past WEIR_PROM_MAX_FAMILIES; or an earlier error.
 */
int weir_prom_family(weir_prom_t *p, const char *name, weir_prom_type_t type, const char *help);

/**
 * @brief Writes one sample of the open counter or gauge family, with the label
 * pairs that follow @p value (`"name", "value", ...`, then NULL).
 * NaN is written `NaN`, infinities `+Inf`/`-Inf`, other values in the shortest
 * form that reads back exactly.
 * @returns 0; WEIR_EINVAL outside a counter or gauge family, for a bad or
 *          repeated label name, or more than WEIR_PROM_MAX_LABELS pairs;
 *          WEIR_ELIMIT when the buffer is full; or an earlier error.
 */
int weir_prom_sample(weir_prom_t *p, double value, ...) __attribute__((sentinel));

/** @brief weir_prom_sample() for an integer count, written exactly. */
int weir_prom_sample_u64(weir_prom_t *p, uint64_t value, ...) __attribute__((sentinel));

/**
 * @brief Writes one histogram of the open histogram family: a cumulative
 * `_bucket` per bound and `+Inf`, then `_sum` and `_count`, each with the
 * label pairs that follow @p sum (then NULL) and, for buckets, `le` last.
 * @param bounds @p n finite upper bounds, strictly ascending
 * @param counts @p n observations per bucket (not cumulative): those above the
 *        previous bound and at most this one
 * @param count every observation, those above the last bound included
 * @param sum the sum of the observations
 * @returns 0; WEIR_EINVAL outside a histogram family, for bounds that are not
 *          finite and ascending, bucket counts that add up to more than
 *          @p count, a label named `le`, or what weir_prom_sample() refuses;
 *          WEIR_ELIMIT when the buffer is full; or an earlier error.
 */
int weir_prom_histogram(weir_prom_t *p, const double *bounds, const uint64_t *counts, size_t n,
                        uint64_t count, double sum, ...) __attribute__((sentinel));

/** @brief The first error of the page, or 0. */
int weir_prom_finish(const weir_prom_t *p);

/**
 * @brief Formats a sample value as the writer does (NaN, +Inf, -Inf, or the
 * shortest decimal that reads back as @p v). @p out holds at least 32 bytes.
 */
void weir_prom_format_double(char *out, size_t outsz, double v);

#endif
