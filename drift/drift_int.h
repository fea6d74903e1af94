/**
 * @file drift_int.h
 * @brief What the files of drift/ share and nobody else includes (the tests
 *        do, to check the incremental windows against recomputation): the
 *        per-feature window structures, the alert policy of one key and a few
 *        helpers.
 *
 * A window's entries live at ring positions 0..capacity-1 that the owner
 * (weir_drift_t, or a test) assigns: it pushes a value at the position of a
 * new event and evicts the value at the position of the oldest one. A
 * position holds at most one value at a time.
 */
#ifndef WEIR_DRIFT_INT_H
#define WEIR_DRIFT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "drift.h"
#include "scoring.h"

/** @brief Largest window (ring capacity) a configuration may ask for. */
#define WEIR_DRIFT_WINDOW_MAX UINT64_C(50000000)
/** @brief Marks an empty ring position or list end. */
#define WEIR_NONE UINT32_MAX

/** @brief One-sided Smirnov tail P(D+_n >= d) (scipy.special.smirnov). */
double weir_smirnov_sf(uint64_t n, double d);

/** @brief A running sum that also keeps its rounding error (Neumaier), so that
 *  adding and later subtracting the same values returns to (nearly) zero. */
typedef struct {
    double sum, error;
} weir_ksum_t;

static inline void weir_ksum_add(weir_ksum_t *s, double x)
{
    double t = s->sum + x;
    if ((s->sum >= 0 ? s->sum : -s->sum) >= (x >= 0 ? x : -x))
        s->error += (s->sum - t) + x;
    else
        s->error += (x - t) + s->sum;
    s->sum = t;
}

static inline double weir_ksum_value(const weir_ksum_t *s)
{
    return s->sum + s->error;
}

/* ---- numeric window ---------------------------------------------------- */

/**
 * @brief The sliding window of one numeric series (a feature or the score)
 * against its reference, maintained so that every test is computed exactly
 * without sorting the window:
 *
 * - the line is cut by the M distinct reference sample values u_1 < ... < u_M
 *   into 2M+1 slots: the open interval below u_1, the point u_1, the interval
 *   (u_1, u_2), ..., the point u_M, the interval above u_M; a window value is
 *   counted in its slot, found through a guide table of the reference (a
 *   bucket of the value's key narrows the search to a few u_j) and a short
 *   binary search among those;
 * - for Wasserstein-1, each open interval also keeps the sum of its values'
 *   distances to the interval's upper end (to u_1 below it, from u_M above
 *   it) and the FIFO list of its values through the ring (O(1) to add; the
 *   evicted value is always the head of its interval's list);
 * - for PSI and JS, counts per reference quantile bin.
 */
typedef struct {
    /* reference (copies) */
    size_t distinct;      /**< M */
    double *values;       /**< u_1..u_M */
    uint32_t *cum;        /**< cum[j-1] = reference values <= u_j */
    uint64_t sample_size; /**< R */
    size_t bins;          /**< B; 0 when there are none */
    double *edges;        /**< B-1 interior edges: bin = number of edges < v */
    double *bin_ref;      /**< B reference proportions */
    double scale;         /**< Wasserstein divisor: the reference std (see docs) */
    uint64_t reference_n;
    int want_slots, want_lists, want_bins;
    /* window */
    uint64_t n;
    uint32_t *slot_count; /**< 2M+1 */
    weir_ksum_t *gap;     /**< M+1 intervals */
    uint32_t *head, *tail;
    uint32_t *bin_count;
    uint32_t *slot_bin; /**< 2M+1 with slots and bins: a slot's bin, or WEIR_NONE when a
                             bin edge falls inside it (then a binary search decides) */
    /* the guide to a value's slot: the span of reference keys (doubles mapped
       to integers in the same order) cut into 2^k equal buckets, each giving
       the range of u_j a value of that bucket can fall between */
    uint32_t *guide;      /**< buckets + 1: reference values below each bucket's start */
    uint64_t guide_min;   /**< key of u_1 */
    unsigned guide_shift; /**< bucket = (key - guide_min) >> guide_shift */
    size_t guide_buckets;
    /* per ring position */
    double *value;
    uint32_t *slot; /**< WEIR_NONE: no value at this position */
    uint32_t *next;
    /* evaluation scratch: the values of one interval */
    double *scratch;
    uint64_t capacity;
} weir_numeric_window_t;

/**
 * @brief Builds the window of a numeric reference. @p ks, @p wasserstein and
 * @p binned say which structures to keep (a test that is off costs nothing).
 * Boolean references are not numeric windows (see categorical).
 * @returns 0, WEIR_EINVAL (no usable reference for what was asked) or WEIR_ENOMEM.
 */
int weir_numeric_window_init(weir_numeric_window_t *w, const weir_reference_t *ref,
                             uint64_t capacity, int ks, int wasserstein, int binned);
void weir_numeric_window_dispose(weir_numeric_window_t *w);
/** @brief Adds @p v (finite) at ring position @p pos (which must be empty). */
void weir_numeric_window_push(weir_numeric_window_t *w, uint32_t pos, double v);
/** @brief Removes the value at @p pos, if any. With lists, it must be the
 *  oldest value of the window (FIFO). */
void weir_numeric_window_evict(weir_numeric_window_t *w, uint32_t pos);
/** @brief Exact KS statistic of the window against the reference sample (NaN if empty). */
double weir_numeric_window_ks(const weir_numeric_window_t *w);
/** @brief Exact Wasserstein-1 distance (unnormalised; NaN if empty). */
double weir_numeric_window_wasserstein(weir_numeric_window_t *w);
/** @brief Window proportions per reference bin into @p out (B values). */
void weir_numeric_window_bin_props(const weir_numeric_window_t *w, double *out);

/* ---- categorical window ------------------------------------------------ */

/**
 * @brief The sliding window of one categorical (or boolean) feature: a count
 * per reference category plus one for categories the reference lacks.
 * Categories are kept by decreasing reference proportion, so that the cells of
 * a test are always a prefix plus "other" (docs/drift.md: pooling).
 */
typedef struct {
    size_t categories;
    double *proportion; /**< by decreasing proportion */
    char *names;        /**< all names, NUL-separated */
    size_t *name_at, *name_len;
    uint32_t *index; /**< open addressing: category + 1, 0 empty */
    size_t mask;
    int boolean; /**< categories "0" and "1" */
    uint32_t bool_cat[2];
    uint64_t reference_n;
    uint64_t n;
    uint32_t *count; /**< categories + 1: the last counts unseen categories */
    uint32_t *entry; /**< per ring position: category, or WEIR_NONE */
    uint64_t capacity;
} weir_categorical_window_t;

int weir_categorical_window_init(weir_categorical_window_t *w, const weir_reference_t *ref,
                                 weir_feature_type_t type, uint64_t capacity);
void weir_categorical_window_dispose(weir_categorical_window_t *w);
/** @brief The category of a raw value; WEIR_NONE for missing or unusable values. */
uint32_t weir_categorical_window_lookup(const weir_categorical_window_t *w, const weir_value_t *v);
void weir_categorical_window_push(weir_categorical_window_t *w, uint32_t pos, uint32_t category);
void weir_categorical_window_evict(weir_categorical_window_t *w, uint32_t pos);

/** @brief The cells of a categorical test on the current window. */
typedef struct {
    size_t cells;     /**< own cells + "other" when it has mass */
    double *observed; /**< counts */
    double *expected; /**< reference proportions (sum 1) */
} weir_cells_t;

/**
 * @brief Pools the window into cells: categories whose expected count
 * p·n reaches @p min_expected get a cell (at most max_cells - 1 of them, the
 * most frequent), the rest and unseen categories share "other", whose
 * reference proportion is floored at half a reference row (docs/drift.md).
 * @p out's arrays need max_cells entries.
 */
void weir_categorical_window_cells(const weir_categorical_window_t *w, double min_expected,
                                   uint32_t max_cells, weir_cells_t *out);
/** @brief The same cells as a window of @p n values would get (load-time calibration). */
void weir_categorical_window_cells_at(const weir_categorical_window_t *w, uint64_t n,
                                      double min_expected, uint32_t max_cells, weir_cells_t *out);

/* ---- calibrated null distributions (calibrate.c) ----------------------- */

/** @brief A small deterministic generator (splitmix64): calibration draws
 *  the same windows at every load. */
typedef struct {
    uint64_t state;
} weir_rng_t;

uint64_t weir__rng_next(weir_rng_t *r);
double weir__rng_uniform(weir_rng_t *r);

/**
 * @brief The null distribution of a distance statistic T, scaled by the
 * effective sample size: Q = n_eff * T^power is taken as scale * chi2(df),
 * scale and df matched to the mean and variance of Q over windows drawn from
 * the reference at load time (Satterthwaite's two-moment fit).
 */
typedef struct {
    int fitted;   /**< 0: no null (the test has no p-value) */
    int power;    /**< 1 (PSI) or 2 (JS, Wasserstein) */
    double scale; /**< Q / scale ~ chi2(df) */
    double df;
    double max; /**< a degenerate null (variance 0): its only value */
} weir_null_t;

/** @brief n_eff = n N / (n + N), the size of one sample that is as noisy as two. */
double weir__n_eff(uint64_t n, uint64_t reference);
/** @brief The p-value of statistic @p t at effective size @p n_eff; NaN without a null. */
double weir__null_pvalue(const weir_null_t *nl, double t, double n_eff);

/**
 * @brief Calibrates PSI and JS on the bins and Wasserstein-1 (divided by
 * @p scale) of a numeric window: @p draws windows of @p m_bins values drawn
 * from the bin proportions and of @p m_sample values drawn from the reference
 * sample. A NULL output is not calibrated. @returns 0 or WEIR_ENOMEM.
 */
int weir__calibrate_numeric(const weir_numeric_window_t *w, uint64_t m_bins, uint64_t m_sample,
                            uint32_t draws, double psi_epsilon, uint64_t seed, weir_null_t *psi,
                            weir_null_t *js, weir_null_t *wasserstein);

/** @brief Calibrates PSI and JS on categorical cells (expected proportions). */
int weir__calibrate_cells(const double *expected, size_t cells, uint64_t m, uint32_t draws,
                          double psi_epsilon, uint64_t seed, weir_null_t *psi, weir_null_t *js);

/* ---- multivariate: PCA reconstruction error (pca.c) -------------------- */

/**
 * @brief The window of reconstruction errors. Rows are standardised into a
 * staging matrix as events come, and projected on the components by BLAS
 * (dgemm) a block at a time; each event's error is kept at its ring position
 * and in a running sum, so the window's mean costs nothing to read.
 */
typedef struct {
    size_t d, k;
    size_t *feature;
    double *center, *scale, *weights;
    double mean_ref, std_ref;
    uint64_t n_ref;
    size_t stage_cap, staged;
    double *stage, *proj, *norm2;
    uint32_t *stage_pos;
    double *error;  /**< per ring position */
    uint8_t *state; /**< per ring position: 0 empty, 1 error kept, 2 staged */
    weir_ksum_t sum;
    uint64_t n, capacity;
} weir_pca_window_t;

int weir_pca_window_init(weir_pca_window_t *w, const weir_pca_reference_t *ref, uint64_t capacity);
void weir_pca_window_dispose(weir_pca_window_t *w);
void weir_pca_window_push(weir_pca_window_t *w, uint32_t pos, const weir_value_t *values);
void weir_pca_window_evict(weir_pca_window_t *w, uint32_t pos);
/** @brief Projects what is staged; the window's errors are then all known. */
void weir_pca_window_flush(weir_pca_window_t *w);
/** @brief Mean error of the window (NaN when empty), after a flush. */
double weir_pca_window_mean(const weir_pca_window_t *w);
/**
 * @brief The upper-tail p-value of a window mean error @p mean over @p n
 * events: the mean of n errors taken as gamma-distributed with the
 * reference's mean and the variance std^2 / n_eff.
 */
double weir_pca_pvalue(double mean, uint64_t n, double mean_ref, double std_ref, uint64_t n_ref);

/* ---- performance estimation without labels (cbpe.c) ------------------- */

/**
 * @brief CBPE over the score window: per event its calibrated probability
 * and predicted class, running sums of the expected confusion matrix and,
 * per slot of the score's numeric window (the reference sample's points and
 * intervals), the sum of probabilities, from which the expected AUC is read
 * in one pass over the slots (values inside one interval count as ties).
 */
typedef struct {
    double threshold;
    size_t points;
    double *cal_x, *cal_y;
    double *p;          /**< per ring position */
    uint8_t *pred;      /**< per ring position: 0, 1, or 2 (no value) */
    weir_ksum_t sum[4]; /**< tp, fp, fn, tn */
    weir_ksum_t *slot_p;
    uint64_t n;
    weir_cbpe_t reference; /**< on the reference sample */
    double f1_sd, auc_sd;  /**< at sim_n values */
    uint64_t sim_n, sample_size;
} weir_cbpe_window_t;

/** @brief The calibrated probability of a score. */
double weir_cbpe_probability(const weir_cbpe_window_t *c, double score);
int weir_cbpe_window_init(weir_cbpe_window_t *c, const weir_numeric_window_t *w,
                          const weir_model_t *model, uint64_t expected_n, uint32_t draws,
                          uint64_t seed);
void weir_cbpe_window_dispose(weir_cbpe_window_t *c);
/** @brief After the numeric window pushed @p v at @p pos. */
void weir_cbpe_window_push(weir_cbpe_window_t *c, const weir_numeric_window_t *w, uint32_t pos,
                           double v);
/** @brief Before the numeric window evicts @p pos. */
void weir_cbpe_window_evict(weir_cbpe_window_t *c, const weir_numeric_window_t *w, uint32_t pos);
/** @brief The estimate on the current window. */
void weir_cbpe_window_estimate(const weir_cbpe_window_t *c, const weir_numeric_window_t *w,
                               weir_cbpe_t *out);
/** @brief Precision, recall, F1 and accuracy from the expected confusion matrix. */
void weir__cbpe_finish(weir_cbpe_t *m, double n);

/* ---- alert policy of one key ------------------------------------------- */

typedef struct {
    uint32_t k_fail, m_pass, cooldown;
    int64_t cooldown_ms;
} weir_policy_t;

/** @brief One key's statistics and alert state. */
typedef struct {
    weir_drift_stat_t stat;
    weir_drift_kind_t kind; /**< what an alert of this key is */
    int recovered;          /**< has recovered at least once */
    uint64_t recovered_eval;
    int64_t recovered_ms;
} weir_key_t;

/** @brief What one evaluation says about a key. */
typedef enum {
    WEIR_VERDICT_SKIP = -1,
    WEIR_VERDICT_PASS = 0,
    WEIR_VERDICT_FAIL = 1
} weir_verdict_t;

/**
 * @brief Applies one evaluation's verdict. On a state change (alert,
 * escalation to critical, recovery) fills @p change from the key's stat and
 * returns 1; else returns 0.
 */
int weir_policy_apply(const weir_policy_t *p, weir_key_t *key, weir_verdict_t verdict,
                      weir_drift_severity_t severity, uint64_t eval_index, int64_t now_ms,
                      weir_drift_change_t *change);

/**
 * @brief Adjusts @p n p-values for multiple testing into @p adjusted
 * (Bonferroni: min(1, p·n); BH: step-up q-values). @p order is scratch of n.
 */
void weir_correct_pvalues(weir_drift_correction_t method, const double *p, size_t n,
                          double *adjusted, size_t *order);

/** @brief Severity of an effect against its threshold. */
weir_drift_severity_t weir_policy_severity(double effect, double threshold, double critical_factor);

#endif
