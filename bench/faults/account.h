/**
 * @file account.h
 * @brief The exact account of an at-least-once run: every input record
 *        against the scored events and dead letters that name it, and the
 *        group's committed offsets against the high watermarks.
 *
 * Inputs are identified by their event id when they decode as Transactions
 * (`weir gen`'s records), and by (partition, offset) otherwise; scored events
 * name their input by event id, dead letters by their weir.source.* headers.
 * Used by the broker tests and by bench/faults/run.sh (through weir_account).
 */
#ifndef WEIR_ACCOUNT_H
#define WEIR_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    int64_t input;        /**< records in the input topic */
    int64_t scored;       /**< scored events that name an input */
    int64_t dead;         /**< dead letters that name an input */
    int64_t lost;         /**< below the committed offset, yet no output: must be 0 */
    int64_t unprocessed;  /**< at or past the committed offset, no output */
    int64_t duplicates;   /**< outputs beyond the first for one input */
    int64_t orphans;      /**< outputs that name no input */
    int64_t behind;       /**< sum over partitions of high watermark - committed offset */
    int committed_at_end; /**< every partition committed up to its high watermark */
} weir_account_t;

/**
 * @brief Reads the three topics whole and the group's committed offsets.
 * @param dlq may name a topic shared with other inputs (others are ignored).
 * @returns 0, or -1 with @p err filled.
 */
int weir_account_run(const char *bootstrap, const char *group, const char *input,
                     const char *output, const char *dlq, weir_account_t *a, char *err,
                     size_t errsz);

/** @brief One line: "input=… scored=… dead=… lost=… unprocessed=… duplicates=… …". */
void weir_account_format(const weir_account_t *a, char *out, size_t outsz);

#endif
