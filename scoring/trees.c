/*
 * trees.c — inference for tree ensembles: gradient-boosted trees (XGBoost,
 * LightGBM, scikit-learn's GradientBoosting and HistGradientBoosting) and
 * averaged forests (DecisionTree, RandomForest, ExtraTrees), flattened by the
 * loader into one array of 16-byte nodes.
 *
 * The loader has already turned each library's own comparison into "x <=
 * threshold" on the double the transforms wrote (a float32 threshold and a
 * float32 cast of x become the double boundary between the floats that go
 * left and those that go right), resolved each library's missing-value
 * direction into one bit per node, and made the two children of a split
 * adjacent. What is left here is the walk, batch-at-a-time: the rows are
 * taken in blocks small enough to stay in cache, and each tree walks the
 * whole block before the next tree starts, so a tree's nodes are read from
 * memory once per block instead of once per row. Nothing allocates.
 */
#include "scoring_int.h"

#include <math.h>
#include <string.h>

/* Rows walked by one tree before the next tree: a block of 64 rows of a few
 * hundred columns and a tree of a few thousand nodes stay in L2 together. */
#define BLOCK_ROWS 64

int weir__trees_in_set(const weir_trees_t *t, const weir_tree_node_t *node, double code)
{
    uint32_t bits = node->u.set.words * 32u;
    uint32_t c;

    /* The libraries cast the value to an int: truncation, and anything
     * negative or past the set's last word is simply not in it. */
    if (!(code > -1.0 && code < (double)bits))
        return 0;
    c = (uint32_t)code;
    return (t->category_words[node->u.set.offset + c / 32u] >> (c % 32u)) & 1u;
}

static inline const weir_tree_node_t *leaf_of(const weir_trees_t *t, const weir_tree_node_t *node,
                                              const double *row)
{
    const weir_tree_node_t *nodes = t->nodes;

    while (!(node->info & WEIR_NODE_LEAF)) {
        uint32_t info = node->info;
        double v = row[info & WEIR_NODE_COLUMN];
        uint32_t right;

        if (!(info & WEIR_NODE_CATEGORICAL))
            right = !(v <= node->u.threshold);
        else
            right = weir__trees_in_set(t, node, v) != t->category_left;
        if (isnan(v))
            right = !(info & WEIR_NODE_MISSING_LEFT);
        node = nodes + node->child + right;
    }
    return node;
}

void weir__trees_predict(const weir_trees_t *t, const double *x, size_t rows, size_t columns,
                         double *raw)
{
    size_t outputs = t->raw_outputs;

    memset(raw, 0, rows * outputs * sizeof(*raw));
    for (size_t start = 0; start < rows; start += BLOCK_ROWS) {
        size_t end = rows - start < BLOCK_ROWS ? rows : start + BLOCK_ROWS;

        for (size_t k = 0; k < t->tree_count; k++) {
            const weir_tree_node_t *root = t->nodes + t->roots[k];

            if (t->leaf_width == 1) {
                size_t g = t->output_of[k];
                for (size_t r = start; r < end; r++)
                    raw[r * outputs + g] += leaf_of(t, root, x + r * columns)->u.value;
            } else {
                for (size_t r = start; r < end; r++) {
                    const double *leaf = t->leaf_values + leaf_of(t, root, x + r * columns)->child;
                    for (size_t g = 0; g < outputs; g++)
                        raw[r * outputs + g] += leaf[g];
                }
            }
        }
    }
    for (size_t r = 0; r < rows; r++) {
        for (size_t g = 0; g < outputs; g++) {
            double *v = &raw[r * outputs + g];
            if (t->average)
                *v /= (double)t->tree_count;
            *v += t->base[g];
        }
    }
}
