/**
 * @file scoring_int.h
 * @brief What a loaded model is made of, shared by the files of scoring/ and
 *        by nobody else: features and their transform steps, dense layers,
 *        references, and the name index that one-hot encoding and the loader
 *        look strings up with.
 *
 * A model owns all of its memory through one arena (weir_model.memory): the
 * loader allocates from it and weir_model_destroy() releases it in one go, so
 * the structures below hold plain pointers and never free anything themselves.
 * After weir_model_parse() returns, nothing here is written again.
 */
#ifndef WEIR_SCORING_INT_H
#define WEIR_SCORING_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "scoring.h"

/**
 * @brief The first pass over a bundle's text, before the JSON parser builds a
 * tree of it: one scan, no allocation, that refuses a text whose tree would
 * break the caps (nesting, values, arrays and objects, and the arrays of
 * features, steps, classes, layers, units and samples), so that a hostile
 * bundle costs a scan of at most WEIR_BUNDLE_MAX_BYTES and no more.
 * @param at receives the path of the array or object at fault ("features",
 *        "model.layers[0].weights"; "" for the top level).
 * @param why receives what was exceeded ("expected 1 to 4096 features, got 5000").
 * @returns 0 when the text keeps within the caps, or is not JSON enough to
 *          tell (the parser then says where, having read no further than this
 *          scan did); WEIR_ELIMIT otherwise.
 */
int weir_bundle_skim(const char *text, size_t len, char *at, size_t atsz, char *why, size_t whysz);

/**
 * @brief A read-only index from strings to their positions in a list, built
 * once by the loader (open addressing on weir_hash_fnv1a). The strings are
 * borrowed from the model; slots hold position + 1, 0 meaning empty.
 */
typedef struct {
    const char *const *names;
    const size_t *lengths;
    uint32_t *slots;
    size_t mask; /**< slot count - 1; the slot count is a power of two */
} weir_name_index_t;

/**
 * @brief Builds an index over @p count names, allocating from @p memory.
 * @param duplicate receives the position of the first name seen twice, or
 *        (size_t)-1 when all are unique.
 * @returns 0 or WEIR_ENOMEM.
 */
int weir_name_index_build(weir_name_index_t *index, weir_arena_t *memory, const char *const *names,
                          const size_t *lengths, size_t count, size_t *duplicate);

/** @brief Position of the @p len bytes at @p s, or -1 when the index lacks them. */
long weir_name_index_find(const weir_name_index_t *index, const char *s, size_t len);

typedef enum {
    WEIR_STEP_IMPUTE = 0,
    WEIR_STEP_CLIP,
    WEIR_STEP_LOG1P,
    WEIR_STEP_STANDARDIZE,
    WEIR_STEP_MIN_MAX,
    WEIR_STEP_BUCKETIZE,
    WEIR_STEP_ONE_HOT,
    WEIR_STEP_HASH
} weir_step_op_t;

/** @brief What a one-hot step does with a category it does not list. */
typedef enum {
    WEIR_UNKNOWN_ERROR = 0, /**< WEIR_ECATEGORY */
    WEIR_UNKNOWN_IGNORE,    /**< all of the feature's columns stay 0 */
    WEIR_UNKNOWN_EXTRA      /**< a last, extra column is set */
} weir_unknown_policy_t;

/** @brief One step of a transform chain; which member of @p u is valid follows @p op. */
typedef struct {
    weir_step_op_t op;
    union {
        struct {
            double number;      /**< numeric and boolean features */
            const char *string; /**< categorical features */
            size_t length;
        } impute;
        struct {
            double min, max; /**< -inf / +inf for an omitted bound */
        } clip;
        struct {
            double mean, std;
        } standardize;
        struct {
            double min, max;
        } min_max;
        struct {
            const double *edges; /**< strictly increasing */
            size_t edge_count;
            int one_hot; /**< 1: edge_count + 1 columns; 0: the bucket number */
        } bucketize;
        struct {
            weir_name_index_t categories;
            size_t category_count;
            weir_unknown_policy_t unknown;
        } one_hot;
        struct {
            uint32_t buckets;
            uint32_t seed;
        } hash;
    } u;
} weir_step_t;

/** @brief A feature as the transforms see it; @p info is its public view. */
typedef struct {
    weir_feature_info_t info;
    const weir_step_t *steps;
    size_t step_count;
    const weir_reference_t *reference; /**< NULL when the bundle has none */
} weir_feature_t;

typedef enum {
    WEIR_ACTIVATION_IDENTITY = 0,
    WEIR_ACTIVATION_RELU,
    WEIR_ACTIVATION_TANH,
    WEIR_ACTIVATION_SIGMOID,
    WEIR_ACTIVATION_SOFTMAX
} weir_activation_t;

/**
 * @brief A dense layer: y = activation(x · Wᵀ + b). Linear, logistic and
 * softmax models are one such layer; an MLP is several.
 */
typedef struct {
    size_t in, out;
    const float *weights; /**< out × in, row-major: one row per output unit */
    const float *bias;    /**< out */
    weir_activation_t activation;
} weir_layer_t;

struct weir_model {
    weir_arena_t memory; /**< owns everything below */

    const char *name;
    const char *version;
    const char *created; /**< "" when absent */
    weir_task_t task;
    weir_model_kind_t kind;
    double threshold;
    const char *const *classes;
    size_t class_count;

    const weir_feature_t *features;
    size_t feature_count;
    size_t columns;

    const weir_layer_t *layers;
    size_t layer_count;
    size_t max_width;   /**< widest layer output: the workspace's row stride */
    size_t outputs;     /**< floats per row in weir_model_predict()'s output */
    size_t output_unit; /**< the last layer's unit that becomes output 0 */

    const weir_reference_t *score_reference; /**< NULL when absent */
    const weir_pca_reference_t *pca;         /**< NULL when absent */
    const weir_calibration_t *calibration;   /**< NULL when absent */
    weir_performance_t performance;
};

#endif
