/*
 * model.c — batched inference and the read side of a loaded model: its
 * accessors, the workspace it needs, predict, decide and destroy.
 *
 * Every model kind is a stack of dense layers (linear, logistic and softmax
 * are one layer), so predict is one loop: per layer, the bias is copied into
 * the rows of the output buffer and a single cblas_sgemm adds x · Wᵀ for the
 * whole batch, then the activation runs in place. Activations ping-pong
 * between two halves of the caller's workspace; nothing here allocates, and a
 * model is never written after loading, so threads may share it.
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

/* Two buffers when activations must ping-pong between layers, one otherwise. */
static size_t workspace_buffers(const weir_model_t *m)
{
    return m->layer_count > 1 ? 2 : 1;
}

size_t weir_model_workspace_size(const weir_model_t *m, size_t rows)
{
    size_t per_row = m->max_width * workspace_buffers(m);

    return rows > SIZE_MAX / per_row ? SIZE_MAX : rows * per_row;
}

static float sigmoid(float v)
{
    /* exp of a non-positive number only, so a large |v| cannot overflow. */
    float e = expf(-fabsf(v));

    return v >= 0 ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

static void softmax(float *y, size_t width)
{
    float max = y[0];
    double sum = 0;

    for (size_t j = 1; j < width; j++)
        if (y[j] > max)
            max = y[j];
    /* Shifted by the row's maximum, every exp is in (0, 1]: no overflow. */
    for (size_t j = 0; j < width; j++) {
        y[j] = expf(y[j] - max);
        sum += y[j];
    }
    for (size_t j = 0; j < width; j++)
        y[j] = (float)(y[j] / sum);
}

static void activate(weir_activation_t activation, float *y, size_t rows, size_t width)
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
            y[i] = tanhf(y[i]);
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

int weir_model_predict(const weir_model_t *m, const float *x, size_t rows, float *workspace,
                       float *out)
{
    int rc = 0;
    const float *input = x;
    const weir_layer_t *last;
    float *buffers[2];

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

    buffers[0] = workspace;
    buffers[1] = workspace + (workspace_buffers(m) - 1) * rows * m->max_width;
    for (size_t l = 0; l < m->layer_count; l++) {
        const weir_layer_t *layer = &m->layers[l];
        float *y = buffers[l % 2];

        for (size_t r = 0; r < rows; r++)
            memcpy(y + r * layer->out, layer->bias, layer->out * sizeof(*y));
        /* y = x · Wᵀ + y, with W stored out × in: the bias rides in as beta = 1. */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)rows, (blasint)layer->out,
                    (blasint)layer->in, 1.0f, input, (blasint)layer->in, layer->weights,
                    (blasint)layer->in, 1.0f, y, (blasint)layer->out);
        activate(layer->activation, y, rows, layer->out);
        input = y;
    }

    last = &m->layers[m->layer_count - 1];
    for (size_t r = 0; r < rows; r++)
        memcpy(out + r * m->outputs, input + r * last->out + m->output_unit,
               m->outputs * sizeof(*out));

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
