/**
 * @file eval.h
 * @brief How well a model did: binary, multiclass and regression metrics on
 *        scores and labels, threshold and cost sweeps, calibration, score
 *        distributions, and the field profile of a stream (the exploratory
 *        statistics a bundle's reference is made of).
 *
 * Pure: no Kafka, no libuv, no I/O, no global state, no printing. Arrays in,
 * numbers out, so that `weir replay`, `weir profile`, the benchmarks and the
 * Python package (through libweir.so) compute every metric with one code.
 *
 * Every metric is defined as scikit-learn defines it, and checked against it
 * to 1e-9 by golden vectors (tests/eval/golden/make_golden.py):
 * roc_auc_score, average_precision_score, log_loss, brier_score_loss,
 * precision_recall_fscore_support, confusion_matrix, calibration_curve,
 * accuracy_score, mean_absolute_error, mean_squared_error, r2_score,
 * mean_absolute_percentage_error, median_absolute_error and max_error. Where
 * scikit-learn raises or warns that a metric is undefined (one class only,
 * no positive prediction), the value here is NaN, or 0 where scikit-learn's
 * zero_division default gives 0 (precision, recall, F1).
 *
 * Memory: functions that sort take their scratch from malloc and free it
 * before returning (WEIR_ENOMEM when that fails); objects allocate in _new()
 * and on growth up to the caps given there. Threading: an object is used by
 * one thread at a time; the functions are reentrant.
 */
#ifndef WEIR_EVAL_H
#define WEIR_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* ------------------------------------------------------------------------ */
/** @name Binary classification */
/**@{*/

/** @brief A confusion matrix of a binary decision (positive iff score >= threshold). */
typedef struct {
    uint64_t tp, fp, tn, fn;
} weir_eval_confusion_t;

/** @brief Precision, recall and F1 from a confusion matrix (0 where undefined, as
 *  scikit-learn's zero_division default), accuracy (NaN on no rows). */
typedef struct {
    double precision, recall, f1, accuracy;
} weir_eval_prf_t;

/** @brief precision_recall_fscore_support(average='binary') and accuracy_score. */
void weir_eval_prf(const weir_eval_confusion_t *c, weir_eval_prf_t *out);

/**
 * @brief Counts the decisions "positive iff score[i] >= threshold" against
 * labels (nonzero = positive). NaN scores count as negative decisions.
 */
void weir_eval_confusion(const double *score, const uint8_t *positive, size_t n, double threshold,
                         weir_eval_confusion_t *out);

/**
 * @brief The ranking of scores against labels, sorted once: every distinct
 * score (descending) with the positives and negatives at or above it. ROC
 * and precision-recall curves, their areas, and cost sweeps read it.
 */
typedef struct weir_eval_curve weir_eval_curve_t;

/**
 * @brief Sorts @p n scored examples (NaN scores are left out and counted).
 * @returns 0, WEIR_EINVAL (n too large), or WEIR_ENOMEM.
 */
int weir_eval_curve_new(const double *score, const uint8_t *positive, size_t n,
                        weir_eval_curve_t **out);
void weir_eval_curve_destroy(weir_eval_curve_t *c);

/** @brief Distinct thresholds (distinct scores), descending. */
size_t weir_eval_curve_points(const weir_eval_curve_t *c);
/**
 * @brief Point @p i: its threshold, and the true and false positives of
 * "positive iff score >= threshold" (cumulative from the top).
 */
void weir_eval_curve_point(const weir_eval_curve_t *c, size_t i, double *threshold, uint64_t *tp,
                           uint64_t *fp);
/** @brief Positives and negatives among the examples kept. */
void weir_eval_curve_totals(const weir_eval_curve_t *c, uint64_t *positives, uint64_t *negatives);

/** @brief roc_auc_score: the area under the ROC curve (ties count half); NaN
 *  unless both classes are present. */
double weir_eval_curve_roc_auc(const weir_eval_curve_t *c);

/** @brief average_precision_score: sum over thresholds of (R_i - R_{i-1}) P_i;
 *  NaN without positives. */
double weir_eval_curve_average_precision(const weir_eval_curve_t *c);

/**
 * @brief The threshold that minimises cost_fp x FP + cost_fn x FN over every
 * distinct score (positive iff score >= threshold) and "no positive at all"
 * (threshold +infinity). Ties go to the highest threshold.
 * @param confusion receives the confusion matrix at that threshold (may be NULL).
 * @returns the cost; NaN when the curve is empty.
 */
double weir_eval_curve_min_cost(const weir_eval_curve_t *c, double cost_fp, double cost_fn,
                                double *threshold, weir_eval_confusion_t *confusion);

/**
 * @brief The confusion matrix at @p threshold, read from the curve in
 * O(log points).
 */
void weir_eval_curve_confusion_at(const weir_eval_curve_t *c, double threshold,
                                  weir_eval_confusion_t *out);

/** @brief log_loss on P(positive): the probability of the true class clipped
 *  to [eps, 1 - eps], eps = DBL_EPSILON (scikit-learn 1.5). NaN on no rows. */
double weir_eval_log_loss(const double *score, const uint8_t *positive, size_t n);

/** @brief brier_score_loss: mean of (score - label)^2. NaN on no rows. */
double weir_eval_brier(const double *score, const uint8_t *positive, size_t n);

typedef enum {
    WEIR_EVAL_BINS_UNIFORM = 0, /**< "uniform": equal-width bins on [0, 1] */
    WEIR_EVAL_BINS_QUANTILE     /**< "quantile": bins holding equal shares of the scores */
} weir_eval_bins_t;

/**
 * @brief calibration_curve(y, score, n_bins, strategy): bin edges (uniform:
 * linspace(0, 1, bins + 1); quantile: the scores' percentiles), each score in
 * bin (number of interior edges strictly below it); for every bin, its count,
 * the mean label (prob_true) and mean score (prob_pred). scikit-learn returns
 * the non-empty bins only; here every bin is written, NaN where empty.
 * @param edges receives bins + 1 edges (may be NULL).
 * @param prob_true, prob_pred, count receive @p bins values each.
 * @returns 0, WEIR_EINVAL (bins 0, or a score outside [0, 1] with uniform
 *          bins), WEIR_ENOMEM.
 */
int weir_eval_calibration(const double *score, const uint8_t *positive, size_t n, size_t bins,
                          weir_eval_bins_t strategy, double *edges, double *prob_true,
                          double *prob_pred, uint64_t *count);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Multiclass classification */
/**@{*/

/** @brief Averages of per-class metrics (precision_recall_fscore_support). */
typedef struct {
    double accuracy;
    double macro_precision, macro_recall, macro_f1;
    double weighted_precision, weighted_recall, weighted_f1;
    double log_loss;    /**< NaN without probabilities */
    double roc_auc_ovr; /**< roc_auc_score(multi_class='ovr', average='macro'); NaN
                             without probabilities or when a class is absent */
    uint64_t n;
} weir_eval_multiclass_t;

/**
 * @brief Multiclass metrics of predicted classes against labels, both in
 * [0, k). Rows with a label or prediction out of range are left out.
 * @param proba n x k class probabilities, row-major, or NULL.
 * @param precision, recall, f1 receive k per-class values (may be NULL);
 *        @p support k label counts (may be NULL).
 * @param confusion receives k x k counts, row = label, column = prediction
 *        (may be NULL).
 * @returns 0, WEIR_EINVAL (k < 2), WEIR_ENOMEM.
 */
int weir_eval_multiclass(const int *predicted, const int *label, const double *proba, size_t n,
                         size_t k, weir_eval_multiclass_t *out, double *precision, double *recall,
                         double *f1, uint64_t *support, uint64_t *confusion);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Regression */
/**@{*/

typedef struct {
    uint64_t n;
    double mae, mse, rmse, r2; /**< r2 as r2_score (force_finite: 1 or 0 on a constant target) */
    double mape;               /**< mean |y - p| / max(|y|, DBL_EPSILON) */
    double median_ae, max_error;
    double bias; /**< mean of prediction - label */
} weir_eval_regression_t;

/** @brief Regression metrics; rows with a non-finite value are left out. */
int weir_eval_regression(const double *predicted, const double *label, size_t n,
                         weir_eval_regression_t *out);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Distributions */
/**@{*/

/**
 * @brief numpy.quantile(a, q) (the default linear method) of @p n values
 * sorted ascending; NaN on none.
 */
double weir_eval_quantile(const double *sorted, size_t n, double q);

/** @brief Mean and population standard deviation (numpy.std, ddof 0). */
typedef struct {
    uint64_t n;
    double mean, std, min, max;
} weir_eval_moments_t;

/** @brief Moments of the finite values of @p x. */
void weir_eval_moments(const double *x, size_t n, weir_eval_moments_t *out);

/** @brief Sorts @p n doubles ascending in place (NaN last). */
void weir_eval_sort(double *x, size_t n);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Field profile */
/**@{*/

/** @brief What a profiled field is, for its statistics. */
typedef enum {
    WEIR_PROFILE_NUMERIC = 0, /**< numbers: moments, quantiles, histogram */
    WEIR_PROFILE_CATEGORICAL, /**< strings and enums: frequencies */
    WEIR_PROFILE_BOOLEAN      /**< booleans (0/1): numeric statistics and frequencies */
} weir_profile_kind_t;

/** @brief Caps of a profile. */
typedef struct {
    size_t sample_max;   /**< values kept per numeric field for quantiles; past it a
                              uniform reservoir sample (seeded) [1048576] */
    size_t distinct_max; /**< distinct values counted exactly per field; past it the
                              count is a HyperLogLog estimate (p = 14) [65536] */
    size_t top_max;      /**< categories counted per field; past it the counts are
                              Misra-Gries estimates [4096] */
    uint64_t seed;       /**< of the reservoirs [1] */
} weir_profile_config_t;

/** @brief Fills @p c with the defaults above. */
void weir_profile_config_default(weir_profile_config_t *c);

typedef struct weir_profile weir_profile_t;

/**
 * @brief Creates a profile of @p n_fields fields of the given kinds.
 * @param cfg NULL for the defaults.
 * @returns 0, WEIR_EINVAL or WEIR_ENOMEM.
 */
int weir_profile_new(const weir_profile_kind_t *kinds, size_t n_fields,
                     const weir_profile_config_t *cfg, weir_profile_t **out);
void weir_profile_destroy(weir_profile_t *p);

/**
 * @brief Adds one row: one value per field (missing, a number, or a string
 * not NUL-terminated; a number for a categorical field is counted as its
 * text, a string for a numeric field as missing).
 * @returns 0 or WEIR_ENOMEM (the row is then counted, its values may not be).
 */
int weir_profile_add(weir_profile_t *p, const weir_value_t *values);

/** @brief Computes what needs every row (quantiles, the correlation matrix);
 *  call once after the last row. @returns 0 or WEIR_ENOMEM. */
int weir_profile_finish(weir_profile_t *p);

/** @brief One category and how often it was seen. */
typedef struct {
    const char *value; /**< NUL-terminated, owned by the profile */
    uint64_t count;    /**< exact, or a lower bound when the field's counts are estimated */
} weir_profile_category_t;

/** @brief One field's statistics (after weir_profile_finish()). */
typedef struct {
    weir_profile_kind_t kind;
    uint64_t rows;    /**< rows added */
    uint64_t count;   /**< rows where the field had a value */
    uint64_t missing; /**< rows - count */
    /* numeric and boolean (finite values only; NaN when none) */
    double mean, std, min, max; /**< std: population (ddof 0) */
    uint64_t nonfinite;         /**< NaN or infinite values (also in missing) */
    int quantiles_estimated;    /**< quantiles come from a reservoir sample */
    /* every kind */
    uint64_t distinct;
    int distinct_estimated; /**< HyperLogLog past distinct_max */
    /* categorical and boolean: by count descending, then value */
    const weir_profile_category_t *top;
    size_t top_count;   /**< every category kept */
    int top_estimated;  /**< counts are Misra-Gries estimates (more than top_max
                             categories): every category seen more than
                             count / (top_max + 1) times is kept, its count
                             low by at most that much */
    uint64_t top_other; /**< values not counted under a kept category */
} weir_profile_field_t;

/** @brief Field @p i's statistics, or NULL out of range. */
const weir_profile_field_t *weir_profile_field(const weir_profile_t *p, size_t i);

/**
 * @brief numpy.quantile of a numeric field's values (kept or sampled); NaN
 * when the field has none.
 */
double weir_profile_quantile(const weir_profile_t *p, size_t field, double q);

/**
 * @brief A sample of a numeric field's values, sorted ascending, at most
 * @p max of them, evenly spaced over the kept values (all when fewer).
 * @returns the number written to @p out.
 */
size_t weir_profile_sample(const weir_profile_t *p, size_t field, double *out, size_t max);

/**
 * @brief The correlation matrix of the numeric and boolean fields (Pearson,
 * on the rows where both values are present: pandas' DataFrame.corr()),
 * computed with BLAS over blocks of rows.
 * @param fields receives the field indexes of the matrix's rows (may be NULL).
 * @returns the matrix (m x m, row-major, NaN where a variance is 0 or fewer
 *          than 2 rows pair up), owned by the profile, and its size in @p m.
 */
const double *weir_profile_correlation(const weir_profile_t *p, size_t *m, const size_t **fields);
/**@}*/

#endif
