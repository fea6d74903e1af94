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
    WEIR_STEP_HASH,
    WEIR_STEP_ORDINAL
} weir_step_op_t;

/** @brief What a one-hot step does with a category it does not list. */
typedef enum {
    WEIR_UNKNOWN_ERROR = 0, /**< WEIR_ECATEGORY */
    WEIR_UNKNOWN_IGNORE,    /**< all of the feature's columns stay 0 */
    WEIR_UNKNOWN_EXTRA,     /**< a last, extra column is set */
    WEIR_UNKNOWN_MISSING,   /**< ordinal: NaN, a missing value for the trees */
    WEIR_UNKNOWN_VALUE      /**< ordinal: a number the bundle gives */
} weir_unknown_policy_t;

/**
 * @brief The category list of a one_hot or ordinal step, as an index. The
 * index holds the listed categories (positions 0 to count-1), then a one_hot
 * step's infrequent categories, then aliases: the canonical text of every
 * category written as a number in another form ("1.0" also matches "1", the
 * text a numeric 1 becomes). @p column_of maps any position to the column
 * (one_hot) or code (ordinal) it stands for.
 */
typedef struct {
    weir_name_index_t index;
    size_t count;              /**< listed categories */
    const uint32_t *column_of; /**< per index position */
    weir_unknown_policy_t unknown;
    int other_column;     /**< one_hot: a last column for infrequent (and, with extra, unknown) */
    double unknown_value; /**< ordinal with WEIR_UNKNOWN_VALUE */
} weir_categories_t;

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
        weir_categories_t categories; /**< one_hot and ordinal */
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
    const double *weights; /**< out × in, row-major: one row per output unit */
    const double *bias;    /**< out */
    weir_activation_t activation;
} weir_layer_t;

/** @name Bits of weir_tree_node_t.info above the column number. */
/**@{*/
#define WEIR_NODE_LEAF 0x80000000u
#define WEIR_NODE_MISSING_LEFT 0x40000000u /**< NaN goes left */
#define WEIR_NODE_CATEGORICAL 0x20000000u
#define WEIR_NODE_COLUMN 0x00ffffffu
/**@}*/

/**
 * @brief One node of a flattened tree, 16 bytes. The two children of a split
 * are adjacent (right = left + 1), so a step down is one index computation.
 * A numeric split goes left iff x <= threshold, NaN by MISSING_LEFT: the
 * loader turned each library's own comparison into this one.
 */
typedef struct {
    union {
        double threshold; /**< numeric split */
        double value;     /**< leaf of a scalar-leaf ensemble */
        struct {
            uint32_t offset; /**< first word in weir_trees_t.category_words */
            uint32_t words;
        } set; /**< categorical split: codes of the set go to category_side */
    } u;
    uint32_t info;  /**< column | WEIR_NODE_* */
    uint32_t child; /**< split: left child; vector leaf: offset in leaf_values */
} weir_tree_node_t;

/** @brief A tree ensemble: raw[g] = base[g] + Σ leaves of group g (÷ trees when averaged). */
typedef struct {
    const weir_tree_node_t *nodes; /**< every tree's nodes, each tree contiguous */
    const uint32_t *roots;         /**< per tree: its root in nodes */
    const uint32_t *output_of;     /**< per tree: the raw output its scalar leaves add to */
    size_t tree_count;
    size_t node_count;
    const double *leaf_values; /**< vector leaves: leaf_width values each */
    size_t leaf_width;         /**< 1: scalar leaves; k: one value per raw output */
    const uint32_t *category_words;
    const double *base; /**< raw_outputs */
    size_t raw_outputs;
    int average;            /**< forests: the mean of the trees, not the sum */
    int category_left;      /**< a code in a categorical split's set goes left */
    weir_activation_t link; /**< identity, sigmoid or softmax */
} weir_trees_t;

struct weir_model {
    weir_arena_t memory; /**< owns everything below */

    const char *name;
    const char *version;
    const char *created;                     /**< "" when absent */
    const char *training_from, *training_to; /**< "" when absent */
    weir_task_t task;
    weir_model_kind_t kind;
    double threshold;
    const char *const *classes;
    size_t class_count;

    const weir_feature_t *features;
    size_t feature_count;
    size_t columns;

    const weir_layer_t *layers; /**< dense kinds; NULL for trees */
    size_t layer_count;
    const weir_trees_t *trees; /**< WEIR_MODEL_TREES; NULL otherwise */
    size_t max_width;          /**< widest layer output: the workspace's row stride */
    size_t outputs;            /**< floats per row in weir_model_predict()'s output */
    size_t output_unit;        /**< the last layer's unit that becomes output 0 */

    const weir_reference_t *score_reference; /**< NULL when absent */
    const weir_pca_reference_t *pca;         /**< NULL when absent */
    const weir_calibration_t *calibration;   /**< NULL when absent */
    weir_performance_t performance;

    const char *const *warnings;
    size_t warning_count;
};

/**
 * @brief Runs every tree of @p t over @p rows rows of @p x (row-major,
 * @p columns wide) and writes raw[r × raw_outputs + g] = base[g] + the sum
 * (or, averaged, the mean) of the leaves each row reaches (trees.c). No link.
 */
void weir__trees_predict(const weir_trees_t *t, const double *x, size_t rows, size_t columns,
                         double *raw);

/** @brief Whether a code (a double holding a category's position) is in a split's set. */
int weir__trees_in_set(const weir_trees_t *t, const weir_tree_node_t *node, double code);

#endif
