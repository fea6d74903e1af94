/**
 * @file drift.h
 * @brief Drift monitoring for one model: data drift (each feature against its
 *        training-time reference), prediction drift (the score against its
 *        reference), concept drift (errors once labels arrive), the bounded
 *        label join that pairs labels with predictions, and the alert policy
 *        that turns test results into state changes.
 *
 * Pure: no Kafka, no libuv, no I/O, no global state, no printing. Arrays and
 * values in, numbers out, so that the service, the benchmarks and (later) a
 * Python package run the same code. docs/drift.md defines every test, every
 * default and why it was chosen.
 *
 * Memory: every object allocates what it needs in its _new() (or _init())
 * call, sized by the model and the configuration, and nothing afterwards:
 * observing an event, joining a label or evaluating allocates nothing (the one
 * exception is weir_ks_sf() and the KS p-values, which take up to ~420 KB of
 * scratch, freed before returning, for the exact small-statistic case).
 *
 * Threading: an object is used by one thread at a time; distinct objects are
 * independent. The standalone statistics are reentrant.
 *
 * Ownership: weir_drift_new() and weir_concept_new() copy what they need from
 * the model (names, reference samples, bins, categories, reference
 * performance), so the model may be destroyed or replaced (hot reload) while
 * they live. Records and statistics returned by the objects point into them
 * and stay valid until the next evaluate call (records) or the object's
 * destruction (statistics' names).
 */
#ifndef WEIR_DRIFT_H
#define WEIR_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "scoring.h"

/* ------------------------------------------------------------------------ */
/** @name Tests, kinds and severities */
/**@{*/

/** @brief A test or detector. The names are part of the external contract. */
typedef enum {
    WEIR_DRIFT_KS = 0,       /**< "ks": two-sample Kolmogorov-Smirnov (numeric) */
    WEIR_DRIFT_PSI,          /**< "psi": population stability index */
    WEIR_DRIFT_WASSERSTEIN,  /**< "wasserstein": W1 / reference std (numeric) */
    WEIR_DRIFT_JS,           /**< "js": Jensen-Shannon distance, base 2 */
    WEIR_DRIFT_CHI2,         /**< "chi2": chi-square goodness of fit (categorical) */
    WEIR_DRIFT_DDM,          /**< "ddm": Drift Detection Method on the error stream */
    WEIR_DRIFT_ADWIN,        /**< "adwin": adaptive windowing on the error stream */
    WEIR_DRIFT_PAGE_HINKLEY, /**< "page_hinkley": Page-Hinkley on the error stream */
    WEIR_DRIFT_PERFORMANCE,  /**< "performance": windowed metrics against the reference */
    WEIR_DRIFT_MISSING,      /**< "missing": missing-value rate against the reference's */
    WEIR_DRIFT_UNKNOWN,      /**< "unknown": rate of categories the reference lacks */
    WEIR_DRIFT_RANGE,        /**< "range": values outside the reference sample's range */
    WEIR_DRIFT_PCA,          /**< "pca": mean PCA reconstruction error (multivariate) */
    WEIR_DRIFT_CBPE,         /**< "cbpe": performance estimated from the scores, no labels */
    WEIR_DRIFT_DATASET,      /**< "dataset": share of drifted features against drift.share */
    WEIR_DRIFT_TEST__COUNT
} weir_drift_test_t;

/** @brief "ks", "psi", ...; "unknown" out of range. */
const char *weir_drift_test_name(weir_drift_test_t t);
/** @brief The test named by @p len bytes at @p s. @returns 0 or WEIR_EINVAL. */
int weir_drift_test_parse(const char *s, size_t len, weir_drift_test_t *out);
/** @brief Bit of a test in a test set (weir_drift_config_t's test masks). */
#define WEIR_DRIFT_BIT(t) (1u << (t))

typedef enum {
    WEIR_DRIFT_DATA = 0,   /**< "data": a feature's distribution moved */
    WEIR_DRIFT_PREDICTION, /**< "prediction": the score's distribution moved */
    WEIR_DRIFT_CONCEPT,    /**< "concept": the model's errors changed */
    WEIR_DRIFT_RECOVERED   /**< "recovered": an alerting key passes again */
} weir_drift_kind_t;

/** @brief "data", "prediction", "concept", "recovered". */
const char *weir_drift_kind_name(weir_drift_kind_t k);

typedef enum {
    WEIR_SEVERITY_INFO = 0, /**< "info": no alert (also the state of a passing key) */
    WEIR_SEVERITY_WARNING,  /**< "warning": the effect reached its threshold */
    WEIR_SEVERITY_CRITICAL  /**< "critical": the effect reached critical_factor x threshold */
} weir_drift_severity_t;

/** @brief "info", "warning", "critical". */
const char *weir_drift_severity_name(weir_drift_severity_t s);

typedef enum {
    WEIR_CORRECTION_BONFERRONI = 0, /**< "bonferroni": p x m (default) */
    WEIR_CORRECTION_BH,             /**< "bh": Benjamini-Hochberg step-up adjusted p-values */
    WEIR_CORRECTION_NONE            /**< "none" */
} weir_drift_correction_t;
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Concept-drift detectors, standalone (River-compatible) */
/**@{*/

/** @brief DDM parameters; River's drift.binary.DDM defaults are 30, 2.0, 3.0. */
typedef struct {
    uint64_t warm_start;      /**< no detection while at most this many values were seen */
    double warning_threshold; /**< w_l */
    double drift_threshold;   /**< d_l */
} weir_ddm_params_t;

/**
 * @brief DDM (Gama et al. 2004) on a 0/1 error stream, update for update the
 * same as River's drift.binary.DDM. Embed it; weir_ddm_init() it. Fields are
 * read-only for the caller.
 */
typedef struct {
    weir_ddm_params_t params;
    double n, p; /**< values seen since the last reset, error rate */
    double p_min, s_min, ps_min;
    int warning; /**< in the warning zone after the last update */
    int drift;   /**< the last update detected drift */
} weir_ddm_t;

/** @brief Sets River's defaults. */
void weir_ddm_params_default(weir_ddm_params_t *p);
/** @brief Starts a detector; @p params NULL means the defaults. */
void weir_ddm_init(weir_ddm_t *d, const weir_ddm_params_t *params);
/** @brief Forgets everything seen (the parameters stay). */
void weir_ddm_reset(weir_ddm_t *d);
/**
 * @brief Feeds one value (1 = error, 0 = correct). As in River, the update
 * after a detection starts from a reset detector.
 * @returns 1 when this update detects drift, else 0.
 */
int weir_ddm_update(weir_ddm_t *d, double x);

/** @brief ADWIN parameters; River's drift.ADWIN defaults are 0.002, 32, 5, 5, 10. */
typedef struct {
    double delta;          /**< confidence of the cut test */
    int clock;             /**< cut points are checked every this many updates */
    int max_buckets;       /**< buckets of each size kept before two are merged (1 to 1024) */
    int min_window_length; /**< sub-windows shorter than this are not compared */
    int grace_period;      /**< no check until the window is longer than this */
} weir_adwin_params_t;

/** @brief Rows of the exponential histogram: row i holds buckets of 2^i values. */
#define WEIR_ADWIN_ROWS 64

/**
 * @brief ADWIN (Bifet & Gavaldà 2007) with River's bucket compression, clock,
 * grace period and reset-after-detection. Embed it; pair weir_adwin_init()
 * with weir_adwin_dispose(). Fields are read-only for the caller.
 */
typedef struct {
    weir_adwin_params_t params;
    double total, variance, width; /**< of the current window */
    uint64_t tick;
    size_t rows; /**< rows in use */
    uint32_t count[WEIR_ADWIN_ROWS];
    double *totals, *variances; /**< WEIR_ADWIN_ROWS x (max_buckets + 1) */
    uint64_t detections;
    int drift; /**< the last update detected drift */
} weir_adwin_t;

/** @brief Sets River's defaults. */
void weir_adwin_params_default(weir_adwin_params_t *p);
/** @brief @returns 0, WEIR_EINVAL (bad parameters) or WEIR_ENOMEM. @p params NULL: defaults. */
int weir_adwin_init(weir_adwin_t *a, const weir_adwin_params_t *params);
/** @brief Frees the histogram; the struct may be weir_adwin_init()ed again. */
void weir_adwin_dispose(weir_adwin_t *a);
/** @brief Empties the window (the parameters and the detection count stay). */
void weir_adwin_reset(weir_adwin_t *a);
/** @brief Feeds one value. @returns 1 when this update detects drift (the next update
 *         starts from an empty window, as River's ADWIN.update does). */
int weir_adwin_update(weir_adwin_t *a, double x);
/** @brief Mean of the current window (0 when empty). */
double weir_adwin_mean(const weir_adwin_t *a);

typedef enum {
    WEIR_PH_UP = 0, /**< "up": increases of the mean */
    WEIR_PH_DOWN,   /**< "down": decreases */
    WEIR_PH_BOTH    /**< "both" (River's default) */
} weir_ph_mode_t;

/** @brief Page-Hinkley parameters; River's defaults are 30, 0.005, 50, 1 - 1e-4, both. */
typedef struct {
    uint64_t min_instances;
    double delta;     /**< magnitude of changes that are tolerated */
    double threshold; /**< lambda */
    double alpha;     /**< forgetting factor of the cumulative sums */
    weir_ph_mode_t mode;
} weir_ph_params_t;

/** @brief Page-Hinkley, update for update the same as River's drift.PageHinkley. */
typedef struct {
    weir_ph_params_t params;
    double n, mean;
    double sum_increase, sum_decrease, min_increase, max_decrease;
    int drift;
} weir_page_hinkley_t;

/** @brief Sets River's defaults (mode both). */
void weir_page_hinkley_params_default(weir_ph_params_t *p);
/** @brief Starts a detector; @p params NULL means the defaults. */
void weir_page_hinkley_init(weir_page_hinkley_t *ph, const weir_ph_params_t *params);
/** @brief Forgets everything seen (the parameters stay). */
void weir_page_hinkley_reset(weir_page_hinkley_t *ph);
/** @brief @returns 1 when this update detects drift (then the next one starts afresh). */
int weir_page_hinkley_update(weir_page_hinkley_t *ph, double x);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Statistics, standalone */
/**@{*/

/**
 * @brief Survival function of the two-sided one-sample Kolmogorov-Smirnov
 * statistic D_n, P(D_n >= d): scipy.stats.kstwo.sf(d, n), computed with the
 * method selection of Simard & L'Ecuyer (2011): exact Durbin matrix (as
 * Marsaglia-Tsang-Wang) where scipy is exact, Pelz-Good where scipy uses it,
 * and twice the exact one-sided Smirnov tail for larger statistics.
 * May allocate up to ~420 KB of scratch (freed before returning) for the
 * Durbin matrix; returns NaN if that fails or @p n is 0.
 */
double weir_ks_sf(double d, uint64_t n);

/**
 * @brief The p-value of scipy.stats.ks_2samp(a, b, method='asymp') for a
 * statistic @p d between samples of sizes @p n1 and @p n2: kstwo.sf(d, n)
 * with n = round-half-even(n1·n2 / (n1 + n2)).
 */
double weir_ks_pvalue(double d, uint64_t n1, uint64_t n2);

/**
 * @brief The two-sample KS statistic sup |F_a - F_b| of two samples, both
 * sorted ascending, with scipy's arithmetic (so the result is bit-equal).
 * @returns the statistic, or NaN when a sample is empty.
 */
double weir_ks_statistic(const double *a, size_t na, const double *b, size_t nb);

/**
 * @brief Wasserstein-1 distance between the empirical distributions of two
 * sorted samples, integral of |F_a - F_b| (scipy.stats.wasserstein_distance).
 * @returns the distance, or NaN when a sample is empty.
 */
double weir_wasserstein1(const double *a, size_t na, const double *b, size_t nb);

/** @brief Upper tail of the chi-square distribution, Q(df/2, x/2): scipy.stats.chi2.sf. */
double weir_chi2_sf(double x, double df);

/**
 * @brief scipy.stats.chisquare(observed, expected): the statistic
 * sum (o - e)^2 / e and its p-value with k - 1 degrees of freedom.
 * @returns 0, or WEIR_EINVAL when k < 2 or an expected count is <= 0.
 */
int weir_chisquare(const double *observed, const double *expected, size_t k, double *statistic,
                   double *p_value);

/**
 * @brief Population stability index sum (a_i - e_i) ln(a_i / e_i) of the
 * proportions @p actual (the window) against @p expected (the reference),
 * each first floored at @p epsilon (no renormalisation), so that an empty
 * bin costs a finite amount. Both should sum to 1.
 */
double weir_psi(const double *actual, const double *expected, size_t k, double epsilon);

/**
 * @brief Jensen-Shannon distance with base-2 logarithms, in [0, 1]:
 * scipy.spatial.distance.jensenshannon(p, q, base=2). Both vectors are
 * normalised to sum 1 first; NaN when one sums to 0.
 */
double weir_js_distance(const double *p, const double *q, size_t k);

/** @brief One scored example for weir_roc_auc(). */
typedef struct {
    double score;
    int positive;
} weir_auc_pair_t;

/**
 * @brief scipy.stats.chi2_contingency(table) for a 2 x k table whose rows are
 * @p a (the window) and @p b (the reference): the statistic and p-value with
 * (k' - 1) degrees of freedom, k' the columns whose total is not 0, and, as
 * scipy does by default, Yates' continuity correction when k' = 2 and @p yates
 * is nonzero. Counts may be fractional.
 * @returns 0; fewer than two usable columns give statistic 0 and p-value 1.
 */
int weir_chi2_contingency(const double *a, const double *b, size_t k, int yates, double *statistic,
                          double *p_value);

/**
 * @brief P(X >= k) for X beta-binomial(n, alpha, beta):
 * scipy.stats.betabinom.sf(k - 1, n, alpha, beta). Under no change, the
 * number of window values outside the range of a reference sample of R
 * continuous values is beta-binomial(n, 2, R - 1).
 */
double weir_betabinom_sf(uint64_t k, uint64_t n, double alpha, double beta);

/** @brief Cohen's h between two proportions, |2 asin sqrt(p1) - 2 asin sqrt(p2)|. */
double weir_cohen_h(double p1, double p2);

/** @brief Expected binary performance from calibrated probabilities (CBPE). */
typedef struct {
    double tp, fp, tn, fn; /**< expected confusion matrix (sums of probabilities) */
    double precision, recall, f1, accuracy, auc; /**< NaN when undefined */
} weir_cbpe_t;

/**
 * @brief Confidence-based performance estimation (NannyML's CBPE) of @p n
 * predictions: the probability @p p[i] that prediction i is positive and its
 * predicted class @p predicted[i] (0 or 1), ordered by the model's @p score[i].
 * Expected TP = sum of p over predicted positives, FP = sum of 1 - p over
 * them, and so on; the expected ROC AUC is the AUC of the scores against the
 * fractional labels p (sklearn's roc_auc_score with each row counted as a
 * positive of weight p and a negative of weight 1 - p, ties counted half).
 * Allocates n pairs of scratch. @returns 0 or WEIR_ENOMEM.
 */
int weir_cbpe_estimate(const double *score, const double *p, const int *predicted, size_t n,
                       weir_cbpe_t *out);

/**
 * @brief Area under the ROC curve, exact, ties counted half (the average-rank
 * Mann-Whitney form; sklearn's roc_auc_score). Sorts @p pairs in place.
 * @returns NaN unless both classes are present.
 */
double weir_roc_auc(weir_auc_pair_t *pairs, size_t n);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Configuration */
/**@{*/

/** @brief Room for per-feature overrides in a configuration. */
#define WEIR_DRIFT_MAX_OVERRIDES 64
/** @brief Longest feature name an override can name (bytes, without NUL). */
#define WEIR_DRIFT_NAME_MAX 128

/** @brief Settings for one feature (or "score", the prediction). */
typedef struct {
    char feature[WEIR_DRIFT_NAME_MAX + 1];
    int has_tests;  /**< @p tests replaces the type's default test set */
    unsigned tests; /**< WEIR_DRIFT_BIT() set; 0 turns the feature's monitoring off */
    double threshold[WEIR_DRIFT_TEST__COUNT]; /**< NaN: the global min_effect */
} weir_drift_override_t;

/**
 * @brief Every knob of data, prediction and concept drift. A plain value:
 * copy it freely, nothing to free. Fill it with weir_drift_config_default()
 * and change fields or call weir_drift_config_set(). docs/drift.md gives the
 * reason for each default.
 */
typedef struct {
    int enabled; /**< 0: no data, prediction or concept drift monitoring at all, for users who
                      monitor elsewhere [1]; the commands then never build a monitor */
    /* windows */
    uint64_t window; /**< events in the sliding window [5000]; also the cap of a time window */
    uint64_t step;   /**< evaluation every this many events [1000] */
    int64_t time_window_ms; /**< > 0: the window holds the events of the last T ms (at most
                                 @p window of them) [0: a count window] */
    int64_t step_ms;        /**< > 0: also due when this much time passed since the last
                                 evaluation [0: off] */
    uint64_t min_count;     /**< a test runs only on at least this many values [100] */
    /* tests */
    double alpha;                       /**< family-wise (or FDR) level of p-value tests [0.05] */
    weir_drift_correction_t correction; /**< across the p-value tests of one evaluation */
    unsigned numeric_tests;             /**< [ks, psi, wasserstein, js, missing, range] */
    unsigned categorical_tests;         /**< also booleans [chi2, psi, js, missing, unknown] */
    unsigned score_tests;               /**< [ks, psi, wasserstein, js, cbpe] */
    unsigned multivariate_tests;        /**< tests of the feature set as a whole [dataset, pca] */
    double share;                       /**< the dataset drifts when this share of its evaluated
                                             features drifts [0.5] */
    uint32_t calibration_draws;         /**< windows drawn from the reference at load time to
                                             calibrate PSI, JS, Wasserstein and CBPE [200] */
    double min_effect[WEIR_DRIFT_TEST__COUNT]; /**< the threshold of each test, see docs;
                                                    cbpe: the relative drop of the estimated
                                                    F1 or AUC that fails [0.1] */
    double critical_factor; /**< critical when effect >= factor x threshold [2] */
    double psi_epsilon;     /**< floor on proportions in PSI [1e-4] */
    double min_expected;    /**< a category gets its own cell when its expected count
                                 in the window reaches this [5] */
    uint32_t max_cells;     /**< cells of a categorical test, "other" included [20] */
    /* policy */
    uint32_t k_fail;     /**< consecutive failing evaluations that raise an alert [2] */
    uint32_t m_pass;     /**< consecutive passing evaluations that recover [3] */
    uint32_t cooldown;   /**< evaluations after a recovery with no new alert for the key [5] */
    int64_t cooldown_ms; /**< and at least this much time [0] */
    /* concept drift */
    uint64_t concept_window;    /**< joined pairs of the windowed performance [50000] */
    uint64_t concept_min_count; /**< performance is judged on at least this many pairs [500] */
    uint32_t concept_k_fail;    /**< evaluations with a detection that raise an alert [1] */
    unsigned concept_tests;     /**< [ddm, adwin, page_hinkley, performance]; the performance
                                     threshold is min_effect[WEIR_DRIFT_PERFORMANCE], the relative
                                     degradation of F1/AUC (or MAE/RMSE/R2) that fails [0.3] */
    weir_ddm_params_t ddm;
    weir_adwin_params_t adwin;
    weir_ph_params_t page_hinkley; /**< mode [up]: only more errors are drift */
    /* per feature */
    weir_drift_override_t overrides[WEIR_DRIFT_MAX_OVERRIDES];
    size_t n_overrides;
} weir_drift_config_t;

/** @brief Fills @p c with the documented defaults. */
void weir_drift_config_default(weir_drift_config_t *c);

/**
 * @brief Sets one knob from a "key=value" pair, with or without the "drift."
 * prefix: `drift.window=20000`, `drift.correction=bh`, `drift.ks.min_effect=0.1`,
 * `drift.numeric.tests=ks,psi`, `drift.feature.amount.tests=ks,psi`,
 * `drift.feature.amount.psi.threshold=0.3`, `drift.adwin.delta=0.01`.
 * docs/drift.md lists every key.
 * @returns 0, or WEIR_ECONFIG with a message naming the key.
 */
int weir_drift_config_set(weir_drift_config_t *c, const char *key, const char *value, char *err,
                          size_t errsz);

/**
 * @brief Checks a configuration as a whole (ranges, k/m >= 1, ...).
 * @returns 0 or WEIR_ECONFIG with a message naming the key at fault.
 */
int weir_drift_config_check(const weir_drift_config_t *c, char *err, size_t errsz);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name State changes and statistics */
/**@{*/

/**
 * @brief One state change of one key (model, feature, test): an alert (kind
 * data, prediction or concept), an escalation to critical (same kind again,
 * severity critical), or a recovery (kind recovered, @p recovered_from says
 * of what). Strings point into the object that produced it.
 */
typedef struct {
    weir_drift_kind_t kind;
    weir_drift_kind_t recovered_from; /**< for kind recovered; else equals kind */
    const char *feature;              /**< NULL for prediction and concept */
    weir_drift_test_t test;
    const char
        *metric;       /**< performance: the metric at fault ("f1", "auc", "mae", ...); else NULL */
    double statistic;  /**< the test's statistic (D, PSI, W1/std, JS, chi-square, ...) */
    double effect;     /**< the effect size compared with @p threshold (chi2: Cohen's w less
                            its null expectation, see docs/drift.md) */
    double p_value;    /**< raw p-value; NaN for tests without one */
    double p_adjusted; /**< after the multiple-testing correction; NaN without one */
    double threshold;  /**< the effect threshold (min effect) */
    int64_t window_start_ms, window_end_ms; /**< event times of the window's oldest and newest */
    uint64_t window_count;                  /**< values the test saw */
    uint64_t reference_size;                /**< reference values it compared against */
    weir_drift_severity_t severity;         /**< info for a recovery */
    /* verdicts of the evaluation that produced the record */
    int feature_drifted;  /**< the feature's verdict (any of its tests failed); -1 for the
                               score, concept and dataset-level keys */
    int dataset_drifted;  /**< the dataset verdict; -1 when none (concept drift) */
    double drifted_share; /**< share of evaluated features that drifted; NaN when none */
    const char *const *drifted_features; /**< for the dataset key: the drifted features */
    size_t n_drifted_features;
} weir_drift_change_t;

/** @brief The latest result of one key, for gauges (/metrics). */
typedef struct {
    const char *feature; /**< NULL: the score (prediction) or concept */
    weir_drift_kind_t kind;
    weir_drift_test_t test;
    const char *metric;
    double statistic, effect, p_value, p_adjusted, threshold; /**< NaN before the first run */
    weir_drift_severity_t state; /**< info (ok), or the severity of the open alert */
    uint32_t consecutive_fails, consecutive_passes;
    uint64_t window_count, reference_size;
    uint64_t alerts; /**< alerts raised on this key so far */
    int evaluated;   /**< the test ran at the last evaluation (enough values) */
    int failed;      /**< and failed (significant and past its threshold) */
} weir_drift_stat_t;

/** @brief One feature's verdict at the last evaluation. */
typedef struct {
    const char *feature;
    int evaluated;    /**< at least one of its tests ran */
    int drifted;      /**< at least one of its tests failed */
    unsigned failing; /**< WEIR_DRIFT_BIT() set of the tests that failed */
} weir_drift_feature_verdict_t;

/** @brief The dataset verdict at the last evaluation. */
typedef struct {
    size_t features_evaluated, features_drifted;
    double share;     /**< drifted / evaluated; NaN when none was evaluated */
    double threshold; /**< drift.share */
    int drifted;      /**< share >= threshold */
    int evaluated;
} weir_drift_dataset_verdict_t;

/** @brief Estimated performance without labels (CBPE), as of the last evaluation. */
typedef struct {
    int enabled;                /**< binary model with a score reference sample, cbpe on */
    uint64_t window_count;      /**< scores it was estimated on */
    weir_cbpe_t estimate;       /**< on the window */
    weir_cbpe_t reference;      /**< on the score reference sample: the baseline */
    double f1_noise, auc_noise; /**< standard deviation of the estimates at this window size
                                     under no change (from the load-time draws) */
} weir_drift_cbpe_summary_t;
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Data and prediction drift */
/**@{*/

typedef struct weir_drift weir_drift_t;

/**
 * @brief Creates the monitor of @p model's features and score. Every feature
 * with a usable reference is monitored (numeric: a sample and/or bins;
 * categorical: category frequencies; boolean: a 0/1 sample, bins or mean), and
 * the score when the bundle has a score reference.
 * @param cfg NULL for the defaults.
 * @returns 0, WEIR_ECONFIG (bad @p cfg, or an override naming no feature),
 *          WEIR_ENOMEM.
 */
int weir_drift_new(const weir_model_t *model, const weir_drift_config_t *cfg, weir_drift_t **out,
                   char *err, size_t errsz);
/** @brief Frees the monitor and everything it returned. NULL is fine. */
void weir_drift_destroy(weir_drift_t *d);

/**
 * @brief Adds one event to the window (evicting the oldest when full, or
 * those older than the time window). O(log R) per feature, R the reference
 * size, whatever the window's size; allocates nothing.
 * @param values one per model feature, in feature order: the raw source values
 *        (strings not NUL-terminated, borrowed for the call). Missing and
 *        non-finite values are left out of that feature's tests.
 * @param score the model's score; NaN leaves it out.
 */
void weir_drift_observe(weir_drift_t *d, const weir_value_t *values, double score,
                        int64_t event_time_ms);

/** @brief 1 when an evaluation is due: step events since the last one, or step_ms passed. */
int weir_drift_due(const weir_drift_t *d, int64_t now_ms);

/**
 * @brief Runs every test on the current window, applies the multiple-testing
 * correction and the alert policy.
 * @param now_ms time of the evaluation (time windows drop older events; cooldowns).
 * @param changes receives the state changes of this evaluation, owned by @p d
 *        and valid until the next call; @p n_changes their number.
 * @returns 0.
 */
int weir_drift_evaluate(weir_drift_t *d, int64_t now_ms, const weir_drift_change_t **changes,
                        size_t *n_changes);

/** @brief Number of keys (feature or score, test) monitored. */
size_t weir_drift_stat_count(const weir_drift_t *d);
/** @brief Key @p i's latest result, or NULL out of range. */
const weir_drift_stat_t *weir_drift_stat(const weir_drift_t *d, size_t i);
/** @brief Events currently in the window. */
uint64_t weir_drift_window_count(const weir_drift_t *d);
/** @brief Monitored features (the score, PCA and the dataset key are not features). */
size_t weir_drift_feature_count(const weir_drift_t *d);
/** @brief Feature @p i's verdict at the last evaluation, or NULL out of range. */
const weir_drift_feature_verdict_t *weir_drift_feature_verdict(const weir_drift_t *d, size_t i);
/** @brief The dataset verdict at the last evaluation. */
void weir_drift_dataset_verdict(const weir_drift_t *d, weir_drift_dataset_verdict_t *out);
/** @brief Estimated performance (CBPE) at the last evaluation. */
void weir_drift_cbpe(const weir_drift_t *d, weir_drift_cbpe_summary_t *out);
/**
 * @brief Warnings found when the monitor was created (a reference too small
 * for the window, categories that no number can match, ...), for the caller
 * to log: weir_drift_new() prints nothing. @returns NULL past the last one.
 */
const char *weir_drift_warning(const weir_drift_t *d, size_t i);
/** @brief Events observed, evaluations run so far. */
uint64_t weir_drift_events(const weir_drift_t *d);
/** @brief Evaluations run so far. */
uint64_t weir_drift_evaluations(const weir_drift_t *d);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Concept drift */
/**@{*/

typedef struct weir_concept weir_concept_t;

/** @brief Where concept drift stands, as of the last evaluation (metrics) and now (detectors). */
typedef struct {
    uint64_t pairs;        /**< joined pairs observed */
    uint64_t window_count; /**< pairs in the performance window */
    double error_rate;     /**< of the window (regression: mean absolute error) */
    uint64_t ddm_detections, adwin_detections, page_hinkley_detections;
    int ddm_warning;
    double adwin_width, adwin_mean;
    /* binary classification; NaN when undefined */
    uint64_t tp, fp, tn, fn;
    double precision, recall, f1, auc, accuracy;
    /* multiclass: accuracy above, and the confusion matrix (row = label,
       column = prediction) when there are at most 64 classes, else NULL */
    size_t classes;
    const uint64_t *confusion;
    /* regression; NaN otherwise */
    double mae, rmse, r2;
} weir_concept_summary_t;

/**
 * @brief Creates the concept-drift monitor of @p model: detectors on the error
 * stream (error = predicted class != label; regression: |score - label|, and
 * DDM is off since it needs 0/1 errors) and windowed performance against the
 * bundle's reference performance.
 * @returns 0, WEIR_ECONFIG or WEIR_ENOMEM.
 */
int weir_concept_new(const weir_model_t *model, const weir_drift_config_t *cfg,
                     weir_concept_t **out, char *err, size_t errsz);
/** @brief Frees the monitor and everything it returned. NULL is fine. */
void weir_concept_destroy(weir_concept_t *c);

/**
 * @brief Adds one joined pair: the prediction's score and class, and the true
 * @p label (the class index for classification, the value for regression).
 * Runs the detectors (O(1) amortised; ADWIN O(log n) on its clock ticks).
 */
void weir_concept_observe(weir_concept_t *c, double score, int predicted_class, double label,
                          int64_t event_time_ms);

/**
 * @brief Computes the windowed performance (sorting the window for AUC) and
 * applies the alert policy to the detectors (a detection since the last
 * evaluation counts as failing) and the performance.
 * @param changes owned by @p c, valid until the next call.
 * @returns 0.
 */
int weir_concept_evaluate(weir_concept_t *c, int64_t now_ms, const weir_drift_change_t **changes,
                          size_t *n_changes);

/** @brief 1 when step pairs were observed since the last evaluation. */
int weir_concept_due(const weir_concept_t *c, int64_t now_ms);

/** @brief Metrics as of the last evaluation, detector counters as of now. The
 *  confusion matrix points into @p c. */
void weir_concept_summary(const weir_concept_t *c, weir_concept_summary_t *out);
/** @brief Number of concept keys (enabled detectors and performance). */
size_t weir_concept_stat_count(const weir_concept_t *c);
/** @brief Key @p i's latest result (feature NULL), or NULL out of range. */
const weir_drift_stat_t *weir_concept_stat(const weir_concept_t *c, size_t i);
/**@}*/

/* ------------------------------------------------------------------------ */
/** @name Label join */
/**@{*/

/** @brief Longest event id the join keeps (longer ones are refused). */
#define WEIR_LABEL_ID_MAX 96

typedef struct weir_label_join weir_label_join_t;

typedef struct {
    uint64_t pending;   /**< predictions waiting for their label */
    uint64_t matched;   /**< labels that found their prediction */
    uint64_t evicted;   /**< predictions dropped because the join was full (oldest first) */
    uint64_t expired;   /**< predictions dropped by the TTL */
    uint64_t unmatched; /**< labels with no pending prediction: unknown, late, or repeated */
    uint64_t rejected;  /**< predictions refused: event id empty or too long */
    uint64_t replaced;  /**< predictions put again under a pending id (the newest wins) */
    uint64_t capacity;  /**< max_pending */
} weir_label_join_counters_t;

/**
 * @brief Creates a join of at most @p max_pending predictions, each kept for
 * at most @p ttl_ms after its time. Memory grows by doubling as predictions
 * arrive, up to the cap (about 150 bytes per pending prediction), and never
 * shrinks.
 * @returns 0, WEIR_EINVAL (max_pending 0 or above 2^31, ttl_ms <= 0) or WEIR_ENOMEM.
 */
int weir_label_join_new(size_t max_pending, int64_t ttl_ms, weir_label_join_t **out);
/** @brief Frees the join. NULL is fine. */
void weir_label_join_destroy(weir_label_join_t *j);

/**
 * @brief Remembers a prediction until its label comes. When full, the oldest
 * pending prediction is evicted. The id is copied.
 * @returns 0, WEIR_ELIMIT (id empty or longer than WEIR_LABEL_ID_MAX: refused)
 *          or WEIR_ENOMEM (growing failed; the prediction is dropped).
 */
int weir_label_join_put(weir_label_join_t *j, const char *event_id, size_t len, double score,
                        int predicted_class, int64_t time_ms);

/**
 * @brief Looks a label's event id up.
 * @returns 1 when matched (the outputs are set and the prediction removed),
 *          0 when unknown, expired, evicted or already taken.
 */
int weir_label_join_take(weir_label_join_t *j, const char *event_id, size_t len, double *score,
                         int *predicted_class, int64_t *time_ms);

/** @brief Drops the predictions whose time is at or before now_ms - ttl (oldest put first). */
void weir_label_join_expire(weir_label_join_t *j, int64_t now_ms);

/** @brief The counters as of now. */
void weir_label_join_counters(const weir_label_join_t *j, weir_label_join_counters_t *out);
/**@}*/

#endif
