/**
 * @file scoring.h
 * @brief The model bundle (`weir.model/1`), its feature transforms and batched
 *        inference on OpenBLAS.
 *
 * Pure: no Kafka, no libuv, no I/O beyond reading the bundle file in
 * weir_model_load(), no global state. Everything takes arrays and returns
 * numbers, so the service, the benchmarks and (later) the Python training
 * package run the very same code.
 *
 * Threading: a loaded model is immutable; any number of threads may call the
 * const functions on it at once. The caller owns workspaces and outputs.
 * OpenBLAS threading is the caller's business (weir sets it to one thread).
 *
 * The bundle format is documented in docs/bundle.md.
 */
#ifndef WEIR_SCORING_H
#define WEIR_SCORING_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/**
 * @name Caps of the weir.model/1 format (docs/bundle.md, "Limits").
 * A bundle past any of them is refused as invalid. The text caps bound what
 * loading costs before a single value is checked: the JSON tree of a bundle
 * within them takes at most a few hundred MiB, whatever its contents.
 */
/**@{*/
#define WEIR_BUNDLE_MAX_BYTES ((size_t)64 << 20)     /**< the bundle's text */
#define WEIR_BUNDLE_MAX_VALUES ((size_t)1 << 22)     /**< JSON values of any kind */
#define WEIR_BUNDLE_MAX_CONTAINERS ((size_t)1 << 18) /**< JSON arrays and objects */
#define WEIR_BUNDLE_MAX_DEPTH 16                     /**< levels of nested arrays and objects */
#define WEIR_BUNDLE_MAX_FEATURES 4096
#define WEIR_BUNDLE_MAX_STEPS 16 /**< steps in one feature's transform */
#define WEIR_BUNDLE_MAX_COLUMNS ((size_t)1 << 20)
#define WEIR_BUNDLE_MAX_UNITS ((size_t)1 << 16)
#define WEIR_BUNDLE_MAX_LAYERS 64
#define WEIR_BUNDLE_MAX_HASH_BUCKETS ((uint32_t)1 << 20)
#define WEIR_BUNDLE_MAX_SAMPLE 100000
/** Bytes of the model's name, its version and each feature's name: what
 *  alert keys, metric labels and log lines are built from. */
#define WEIR_BUNDLE_MAX_NAME 128
#define WEIR_BUNDLE_MAX_SOURCE 256                   /**< bytes of a feature's source field path */
#define WEIR_BUNDLE_MAX_LABEL 256                    /**< bytes of a class label or a category */
#define WEIR_BUNDLE_MAX_TREES 32768                  /**< trees of one ensemble */
#define WEIR_BUNDLE_MAX_TREE_NODES ((size_t)1 << 20) /**< nodes of one tree */
#define WEIR_BUNDLE_MAX_NODES ((size_t)1 << 22)      /**< nodes of all trees together */
#define WEIR_BUNDLE_MAX_TREE_DEPTH 128               /**< edges from a root to its deepest leaf */
#define WEIR_BUNDLE_MAX_CATEGORY_CODE 65535          /**< largest code in a categorical split */
/**@}*/

typedef enum { WEIR_TASK_BINARY = 0, WEIR_TASK_MULTICLASS, WEIR_TASK_REGRESSION } weir_task_t;

typedef enum {
    WEIR_FEATURE_NUMERIC = 0,
    WEIR_FEATURE_CATEGORICAL,
    WEIR_FEATURE_BOOLEAN
} weir_feature_type_t;

/** @brief What happens when a feature's source value is missing (null/absent). */
typedef enum {
    WEIR_MISSING_ERROR = 0, /**< the event is a dead letter (reason missing_value) */
    WEIR_MISSING_IMPUTE,    /**< the chain's leading impute step fills it (numeric/boolean:
                                 "missing": "impute"; categorical: any leading impute step) */
    WEIR_MISSING_UNKNOWN,   /**< categorical: treated as an unknown category */
    WEIR_MISSING_NAN        /**< written as NaN for a tree model to route ("missing": "nan") */
} weir_missing_policy_t;

typedef enum {
    WEIR_MODEL_LINEAR = 0,
    WEIR_MODEL_LOGISTIC,
    WEIR_MODEL_SOFTMAX,
    WEIR_MODEL_MLP,
    WEIR_MODEL_TREES /**< a boosted or averaged tree ensemble */
} weir_model_kind_t;

typedef struct weir_model weir_model_t;

/** @brief One input feature: a source field and the columns its chain writes. */
typedef struct {
    const char *name;   /**< unique feature name */
    const char *source; /**< record field it reads; dotted for nested records ("card.country") */
    weir_feature_type_t type;
    weir_missing_policy_t missing;
    size_t column; /**< first column it writes in a transformed row */
    size_t width;  /**< number of columns it writes (1, or more for one-hot/hash) */
} weir_feature_info_t;

/**
 * @brief The training-time distribution of one feature's raw source value, or
 * of the score. Arrays are owned by the model and live as long as it does.
 *
 * Quantile bins: @p edges holds the bin_count-1 interior cut points, ascending;
 * a value v falls in bin i = (number of edges strictly less than v), so bins
 * are (e[i-1], e[i]], the first open below and the last open above.
 */
typedef struct {
    const char *name; /**< feature name, or "score" */
    weir_feature_type_t type;
    uint64_t n;          /**< training rows it describes */
    double missing_rate; /**< fraction of rows where the value was missing */
    /* numeric and boolean */
    const double *sample; /**< sorted ascending, for exact tests; may be empty */
    size_t sample_len;
    const double *edges;           /**< interior quantile cut points */
    const double *bin_proportions; /**< bin_count entries summing to 1 */
    size_t bin_count;              /**< 0 when absent */
    double mean, std;
    /* categorical */
    const char *const *categories;      /**< category names */
    const double *category_proportions; /**< same order, summing to 1 */
    size_t category_count;              /**< 0 when absent */
} weir_reference_t;

/** @brief Reference performance measured on held-out data at training time. */
typedef struct {
    /* binary / multiclass; NaN when absent */
    double auc, precision, recall, f1, accuracy, positive_rate, log_loss;
    /* regression; NaN when absent */
    double mae, rmse, r2;
    uint64_t n; /**< rows it was measured on; 0 when the bundle has none */
} weir_performance_t;

/**
 * @brief The multivariate reference (`reference.pca`): a PCA fitted on the raw
 * values of some numeric and boolean features. A row is standardised,
 * z_j = (v_j - center_j) / scale_j, a missing or unusable value giving z_j = 0
 * (the center); its reconstruction error is the Euclidean distance between z
 * and its projection on the components, sqrt(|z|^2 - |W z|^2).
 */
typedef struct {
    size_t features;       /**< d: the inputs */
    const size_t *feature; /**< model feature index of each input */
    const double *center;  /**< d values */
    const double *scale;   /**< d values, > 0 */
    size_t components;     /**< k, 1 <= k < d */
    const double *weights; /**< k x d, row-major, orthonormal rows */
    uint64_t n;            /**< reference rows the error was measured on */
    double error_mean;     /**< mean reconstruction error on them */
    double error_std;      /**< and its standard deviation */
} weir_pca_reference_t;

/**
 * @brief The score calibration map (`reference.calibration`): the probability
 * that a prediction of score s is positive, linear between the points and
 * constant beyond the ends. Binary models only.
 */
typedef struct {
    size_t points;
    const double *scores;        /**< strictly ascending */
    const double *probabilities; /**< non-decreasing, in [0, 1] */
} weir_calibration_t;

/**
 * @brief Loads and validates a bundle file. Refuses a bad bundle with a message
 * naming the file and the offending path, e.g.
 * `model.json: features[3].transform[1].std: must be > 0`.
 * @param out receives a new model on success; free with weir_model_destroy().
 * The work is bounded by the format's caps: a file past WEIR_BUNDLE_MAX_BYTES
 * is refused from its size, and a text past the other caps before it is parsed.
 * @returns 0, WEIR_EIO (unreadable file), WEIR_EMODEL (invalid bundle, or past
 *          a cap) or WEIR_ENOMEM.
 */
int weir_model_load(const char *path, weir_model_t **out, char *err, size_t errsz);

/**
 * @brief Same as weir_model_load() from a JSON text in memory; @p origin names
 * it in messages (a path, or "<memory>").
 */
int weir_model_parse(const char *json, size_t len, const char *origin, weir_model_t **out,
                     char *err, size_t errsz);

/** @brief Frees a model. NULL is fine. */
void weir_model_destroy(weir_model_t *m);

const char *weir_model_name(const weir_model_t *m);
const char *weir_model_version(const weir_model_t *m);
const char *weir_model_created(const weir_model_t *m); /**< may be "" */
/**
 * @brief The training window (`training.from`, `training.to`) as the bundle
 * writes it (RFC 3339 by convention); "" for a bound the bundle leaves out.
 */
void weir_model_training(const weir_model_t *m, const char **from, const char **to);
weir_task_t weir_model_task(const weir_model_t *m);
weir_model_kind_t weir_model_kind(const weir_model_t *m);
/** @brief Decision threshold on the positive-class probability (binary). */
double weir_model_threshold(const weir_model_t *m);
/** @brief Class labels (binary: 2, negative first; multiclass: k; regression: 0). */
size_t weir_model_class_count(const weir_model_t *m);
const char *weir_model_class(const weir_model_t *m, size_t i);

size_t weir_model_feature_count(const weir_model_t *m);
const weir_feature_info_t *weir_model_feature(const weir_model_t *m, size_t i);
/** @brief Width of a transformed row: the model's input dimension. */
size_t weir_model_columns(const weir_model_t *m);
/** @brief Outputs per row: 1 for binary (P(positive)) and regression, k for multiclass. */
size_t weir_model_outputs(const weir_model_t *m);

/** @brief Reference of feature @p i, or NULL when the bundle has none for it. */
const weir_reference_t *weir_model_reference(const weir_model_t *m, size_t i);
/** @brief Reference of the score distribution, or NULL. */
const weir_reference_t *weir_model_score_reference(const weir_model_t *m);
const weir_performance_t *weir_model_performance(const weir_model_t *m);
/** @brief The multivariate (PCA) reference, or NULL when the bundle has none. */
const weir_pca_reference_t *weir_model_pca_reference(const weir_model_t *m);
/** @brief The score calibration map, or NULL (scores are then taken as calibrated). */
const weir_calibration_t *weir_model_calibration(const weir_model_t *m);

/**
 * @brief Applies every feature's transform chain to one event.
 * @param values one value per feature, in feature order (weir_model_feature()).
 * @param row receives weir_model_columns() doubles. A feature with
 *        `"missing": "nan"` (tree models only) writes NaN for a missing value.
 * @param bad_feature on error, receives the index of the feature at fault.
 * @returns 0; WEIR_EMISSING (missing value under policy error), WEIR_ECATEGORY
 *          (unknown category under policy error), WEIR_ETYPE (a string for a
 *          numeric or boolean feature; a number for a categorical one is
 *          allowed, written as weir_category_format() does),
 *          WEIR_ENONFINITE (NaN/inf input or output of a step; a NaN input is
 *          a missing value instead where the feature's policy is impute or nan).
 */
int weir_transform_row(const weir_model_t *m, const weir_value_t *values, double *row,
                       size_t *bad_feature);

/** @brief Doubles of workspace weir_model_predict() needs for @p rows rows. */
size_t weir_model_workspace_size(const weir_model_t *m, size_t rows);

/**
 * @brief Scores a batch: one dgemm per layer for all rows at once, or every
 * tree over blocks of rows for a tree ensemble.
 * @param x rows × weir_model_columns() doubles, row-major.
 * @param workspace weir_model_workspace_size(m, rows) doubles (caller-owned, reusable).
 * @param out rows × weir_model_outputs() floats: P(positive) for binary,
 *            class probabilities for multiclass, the prediction for regression.
 *            Computed in double; a binary P(positive) is rounded to the float
 *            on the same side of the threshold as the double, so that
 *            weir_model_decide() makes the decision the double would.
 * @returns 0 or WEIR_EINVAL.
 */
int weir_model_predict(const weir_model_t *m, const double *x, size_t rows, double *workspace,
                       float *out);

/**
 * @brief Turns one row of outputs into the score and the predicted class.
 * Binary: score = P(positive), class = positive iff score >= threshold.
 * Multiclass: score = max probability, class = its index.
 * Regression: score = the prediction, class = -1.
 */
void weir_model_decide(const weir_model_t *m, const float *outputs, double *score,
                       int *class_index);

/**
 * @brief Things about a bundle that load but look wrong, such as a one-hot
 * feature whose reference profile has much of its mass on categories the
 * encoder does not list (the "1.0" written for 1 trap). One line each,
 * naming the feature; valid as long as the model.
 */
size_t weir_model_warning_count(const weir_model_t *m);
const char *weir_model_warning(const weir_model_t *m, size_t i);

/**
 * @brief The one text a number has as a category, shared by the loader, the
 * transforms and the Python exporter: "%lld" when it is integral and below
 * 2^63 in magnitude, "%.17g" otherwise (7 and 7.0 are "7", 0.1 is
 * "0.10000000000000001").
 * @param size at least 32 bytes for any finite number.
 * @returns the length written (as snprintf).
 */
size_t weir_category_format(double x, char *buf, size_t size);

/** @brief A stable, 32-bit FNV-1a hash: the `hash` transform's bucket function. */
uint32_t weir_hash_fnv1a(const char *s, size_t len, uint32_t seed);

#endif
