/*
 * real_data.h — the real datasets of the false-alarm benchmark and test
 * (the CSV files of tests/drift/golden/real/, written by bench/drift_real/export.py):
 * loading a table, building a bundle whose reference profile is a set of its
 * rows (as examples/make_model.py profiles a training set, optionally with a
 * PCA), and judging one window of rows the way `weir batch --report` does.
 */
#ifndef WEIR_REAL_DATA_H
#define WEIR_REAL_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "drift.h"
#include "scoring.h"

typedef struct {
    size_t cols, rows;
    char **names;
    int *categorical;
    double *num; /**< rows x cols; NaN: missing (numeric columns) */
    char **cat;  /**< rows x cols; NULL: missing (categorical columns) */
} real_table_t;

/** @brief Reads a CSV of the export's format. @returns 0 or -1 (message on stderr). */
int real_table_load(const char *path, real_table_t *t);
void real_table_free(real_table_t *t);

/** @brief One event: a value per column, strings borrowed from the table. */
void real_table_values(const real_table_t *t, size_t row, weir_value_t *out);

/**
 * @brief A bundle whose reference is the rows @p rows[0..r): per column a
 * sample (numeric) or category frequencies, missing rate and n; with @p pca,
 * a PCA of the numeric columns (components explaining 65% of the variance,
 * the error measured by 2-fold cross-fitting). Its model is a fixed
 * logistic one: the drift tests never score with it.
 */
weir_model_t *real_table_bundle(const real_table_t *t, const size_t *rows, size_t r, int pca);

/** @brief One window's verdicts, from the keys' stats (k_fail = 1). */
typedef struct {
    size_t features, drifted; /**< evaluated features, drifted ones */
    int dataset;              /**< drifted / features >= 0.5 */
    int any;                  /**< some key failed */
    int pca;                  /**< the pca key failed */
    unsigned failing_tests;   /**< WEIR_DRIFT_BIT() of every failing test */
} real_verdict_t;

/** @brief Feeds rows[0..n) (one window), each numeric column c moved by
 *  @p shift[c] when @p shift is not NULL, and evaluates once. */
void real_window(weir_drift_t *d, const real_table_t *t, const size_t *rows, size_t n,
                 const double *shift, weir_value_t *scratch, real_verdict_t *out);

/** @brief The standard deviation of numeric column @p c over rows[0..n). */
double real_column_std(const real_table_t *t, size_t c, const size_t *rows, size_t n);

/** @brief Fisher-Yates shuffle of 0..n-1 with a fixed seed. */
void real_shuffle(size_t *idx, size_t n, uint64_t seed);

#endif
