/*
 * model.c — batched inference and the read side of a loaded model: its
 * accessors, the workspace it needs, predict, decide and destroy.
 *
 * The dense kinds are a stack of layers (linear, logistic and softmax are
 * one layer), so their predict is one loop: per layer, the bias is copied
 * into the rows of the output buffer and a single cblas_dgemm adds x · Wᵀ for
 * the whole batch, then the activation runs in place. Activations ping-pong
 * between two halves of the caller's workspace. Tree ensembles are walked in
 * trees.c into the same workspace, then take their link (sigmoid, softmax or
 * none). Everything is computed in double, as the libraries the models come
 * from do; the outputs are floats. Nothing here allocates, and a model is
 * never written after loading, so threads may share it.
 */
#include "scoring_int.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void weir_model_destroy(weir_model_t *m)
{
    if (m) {
        weir_arena_dispose(&m->memory);
        free(m);
    }
}

const char *weir_model_name(const weir_model_t *m)
{
    return m->name;
}

const char *weir_model_version(const weir_model_t *m)
{
    return m->version;
}

const char *weir_model_created(const weir_model_t *m)
{
    return m->created;
}

void weir_model_training(const weir_model_t *m, const char **from, const char **to)
{
    *from = m->training_from ? m->training_from : "";
    *to = m->training_to ? m->training_to : "";
}

weir_task_t weir_model_task(const weir_model_t *m)
{
    return m->task;
}

weir_model_kind_t weir_model_kind(const weir_model_t *m)
{
    return m->kind;
}

double weir_model_threshold(const weir_model_t *m)
{
    return m->threshold;
}

size_t weir_model_class_count(const weir_model_t *m)
{
    return m->class_count;
}

const char *weir_model_class(const weir_model_t *m, size_t i)
{
    return i < m->class_count ? m->classes[i] : NULL;
}

size_t weir_model_feature_count(const weir_model_t *m)
{
    return m->feature_count;
}

const weir_feature_info_t *weir_model_feature(const weir_model_t *m, size_t i)
{
    return i < m->feature_count ? &m->features[i].info : NULL;
}

size_t weir_model_columns(const weir_model_t *m)
{
    return m->columns;
}

size_t weir_model_outputs(const weir_model_t *m)
{
    return m->outputs;
}

const weir_reference_t *weir_model_reference(const weir_model_t *m, size_t i)
{
    return i < m->feature_count ? m->features[i].reference : NULL;
}

const weir_reference_t *weir_model_score_reference(const weir_model_t *m)
{
    return m->score_reference;
}

const weir_performance_t *weir_model_performance(const weir_model_t *m)
{
    return &m->performance;
}

size_t weir_model_warning_count(const weir_model_t *m)
{
    return m->warning_count;
}

const char *weir_model_warning(const weir_model_t *m, size_t i)
{
    return i < m->warning_count ? m->warnings[i] : NULL;
}

/* Two buffers when activations must ping-pong between layers, one otherwise. */
static size_t workspace_buffers(const weir_model_t *m)
{
    return m->layer_count > 1 ? 2 : 1;
}

size_t weir_model_workspace_size(const weir_model_t *m, size_t rows)
{
    size_t per_row = m->trees ? m->trees->raw_outputs : m->max_width * workspace_buffers(m);

    return rows > SIZE_MAX / per_row ? SIZE_MAX : rows * per_row;
}

static double sigmoid(double v)
{
    /* exp of a non-positive number only, so a large |v| cannot overflow. */
    double e = exp(-fabs(v));

    return v >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

static void softmax(double *y, size_t width)
{
    double max = y[0], sum = 0;

    for (size_t j = 1; j < width; j++)
        if (y[j] > max)
            max = y[j];
    /* Shifted by the row's maximum, every exp is in (0, 1]: no overflow. */
    for (size_t j = 0; j < width; j++) {
        y[j] = exp(y[j] - max);
        sum += y[j];
    }
    for (size_t j = 0; j < width; j++)
        y[j] /= sum;
}

static void activate(weir_activation_t activation, double *y, size_t rows, size_t width)
{
    size_t n = rows * width;

    switch (activation) {
    case WEIR_ACTIVATION_IDENTITY:
        break;
    case WEIR_ACTIVATION_RELU:
        for (size_t i = 0; i < n; i++)
            y[i] = y[i] > 0 ? y[i] : 0;
        break;
    case WEIR_ACTIVATION_TANH:
        for (size_t i = 0; i < n; i++)
            y[i] = tanh(y[i]);
        break;
    case WEIR_ACTIVATION_SIGMOID:
        for (size_t i = 0; i < n; i++)
            y[i] = sigmoid(y[i]);
        break;
    case WEIR_ACTIVATION_SOFTMAX:
        for (size_t r = 0; r < rows; r++)
            softmax(y + r * width, width);
        break;
    }
}

/* The float nearest to @p p, unless that float is on the other side of the
 * threshold than p itself: then the float next to it, which is not. */
static float binary_output(double p, double threshold)
{
    float f = (float)p;

    if (p >= threshold && (double)f < threshold)
        f = nextafterf(f, INFINITY);
    else if (p < threshold && (double)f >= threshold)
        f = nextafterf(f, -INFINITY);
    return f;
}

/* The dense kinds: per layer, the bias copied into the rows of y, then one
 * dgemm adds x · Wᵀ for the whole batch, then the activation in place. */
static const double *predict_layers(const weir_model_t *m, const double *x, size_t rows,
                                    double *workspace)
{
    const double *input = x;
    double *buffers[2];

    buffers[0] = workspace;
    buffers[1] = workspace + (workspace_buffers(m) - 1) * rows * m->max_width;
    for (size_t l = 0; l < m->layer_count; l++) {
        const weir_layer_t *layer = &m->layers[l];
        double *y = buffers[l % 2];

        for (size_t r = 0; r < rows; r++)
            memcpy(y + r * layer->out, layer->bias, layer->out * sizeof(*y));
        /* y = x · Wᵀ + y, with W stored out × in: the bias rides in as beta = 1. */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)rows, (blasint)layer->out,
                    (blasint)layer->in, 1.0, input, (blasint)layer->in, layer->weights,
                    (blasint)layer->in, 1.0, y, (blasint)layer->out);
        activate(layer->activation, y, rows, layer->out);
        input = y;
    }
    return input;
}

int weir_model_predict(const weir_model_t *m, const double *x, size_t rows, double *workspace,
                       float *out)
{
    int rc = 0;
    const double *result;
    size_t width, unit;

    if (!m) {
        rc = WEIR_EINVAL;
        goto out;
    }
    if (rows == 0)
        goto out;
    /* BLAS takes int dimensions; the workspace size must not have saturated. */
    if (!x || !workspace || !out || rows > INT_MAX ||
        weir_model_workspace_size(m, rows) == SIZE_MAX) {
        rc = WEIR_EINVAL;
        goto out;
    }

    if (m->trees) {
        weir__trees_predict(m->trees, x, rows, m->columns, workspace);
        activate(m->trees->link, workspace, rows, m->trees->raw_outputs);
        result = workspace;
        width = m->trees->raw_outputs;
        unit = m->task == WEIR_TASK_BINARY && width == 2 ? 1 : 0;
    } else {
        result = predict_layers(m, x, rows, workspace);
        width = m->layers[m->layer_count - 1].out;
        unit = m->output_unit;
    }
    for (size_t r = 0; r < rows; r++) {
        const double *y = result + r * width + unit;
        if (m->task == WEIR_TASK_BINARY) {
            out[r] = binary_output(y[0], m->threshold);
            continue;
        }
        for (size_t k = 0; k < m->outputs; k++)
            out[r * m->outputs + k] = (float)y[k];
    }

out:
    return rc;
}

void weir_model_decide(const weir_model_t *m, const float *outputs, double *score, int *class_index)
{
    double s = outputs[0];
    int c = -1;

    switch (m->task) {
    case WEIR_TASK_BINARY:
        c = s >= m->threshold ? 1 : 0;
        break;
    case WEIR_TASK_MULTICLASS:
        c = 0;
        for (size_t i = 1; i < m->outputs; i++)
            if (outputs[i] > outputs[c])
                c = (int)i;
        s = outputs[c];
        break;
    case WEIR_TASK_REGRESSION:
        break;
    }
    if (score)
        *score = s;
    if (class_index)
        *class_index = c;
}
