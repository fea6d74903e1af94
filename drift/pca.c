/*
 * pca.c — multivariate drift: the reconstruction error of a PCA fitted on the
 * reference (the bundle's `reference.pca`). A change in how features move
 * together (two features whose correlation flips while each keeps its
 * distribution) leaves every univariate test quiet but moves rows away from
 * the reference's principal subspace, which raises the mean error.
 *
 * Each event's inputs are standardised into a staging matrix; every
 * `stage_cap` events (and before an evaluation or an eviction that needs
 * them) the block is projected on the components with one cblas_dgemm, and
 * each row's error sqrt(|z|^2 - |Wz|^2) (the rows of W are orthonormal) is
 * kept at its ring position and in a compensated running sum. Per event:
 * d subtractions and divisions and the amortised share of the product.
 */
#include "drift_int.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STAGE_ROWS 64

int weir_pca_window_init(weir_pca_window_t *w, const weir_pca_reference_t *ref, uint64_t capacity)
{
    int rc = WEIR_ENOMEM;
    memset(w, 0, sizeof(*w));
    w->d = ref->features;
    w->k = ref->components;
    w->capacity = capacity;
    w->mean_ref = ref->error_mean;
    w->std_ref = ref->error_std;
    w->n_ref = ref->n;
    w->stage_cap = capacity < STAGE_ROWS ? (size_t)capacity : STAGE_ROWS;
    w->feature = malloc(w->d * sizeof(size_t));
    w->center = malloc(w->d * sizeof(double));
    w->scale = malloc(w->d * sizeof(double));
    w->weights = malloc(w->k * w->d * sizeof(double));
    w->stage = malloc(w->stage_cap * w->d * sizeof(double));
    w->proj = malloc(w->stage_cap * w->k * sizeof(double));
    w->norm2 = malloc(w->stage_cap * sizeof(double));
    w->stage_pos = malloc(w->stage_cap * sizeof(uint32_t));
    w->error = malloc(capacity * sizeof(double));
    w->state = calloc(capacity, 1);
    if (!w->feature || !w->center || !w->scale || !w->weights || !w->stage || !w->proj ||
        !w->norm2 || !w->stage_pos || !w->error || !w->state)
        goto out;
    memcpy(w->feature, ref->feature, w->d * sizeof(size_t));
    memcpy(w->center, ref->center, w->d * sizeof(double));
    memcpy(w->scale, ref->scale, w->d * sizeof(double));
    memcpy(w->weights, ref->weights, w->k * w->d * sizeof(double));
    rc = 0;
out:
    if (rc)
        weir_pca_window_dispose(w);
    return rc;
}

void weir_pca_window_dispose(weir_pca_window_t *w)
{
    free(w->feature);
    free(w->center);
    free(w->scale);
    free(w->weights);
    free(w->stage);
    free(w->proj);
    free(w->norm2);
    free(w->stage_pos);
    free(w->error);
    free(w->state);
    memset(w, 0, sizeof(*w));
}

void weir_pca_window_flush(weir_pca_window_t *w)
{
    size_t rows = w->staged;
    if (rows == 0)
        return;
    /* proj (rows x k) = stage (rows x d) . weights^T (d x k) */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)w->k, (int)w->d, 1.0,
                w->stage, (int)w->d, w->weights, (int)w->d, 0.0, w->proj, (int)w->k);
    for (size_t r = 0; r < rows; r++) {
        double kept = 0.0;
        for (size_t j = 0; j < w->k; j++)
            kept += w->proj[r * w->k + j] * w->proj[r * w->k + j];
        double rest = w->norm2[r] - kept;
        double e = rest > 0.0 ? sqrt(rest) : 0.0;
        uint32_t pos = w->stage_pos[r];
        w->error[pos] = e;
        w->state[pos] = 1;
        weir_ksum_add(&w->sum, e);
    }
    w->staged = 0;
}

void weir_pca_window_push(weir_pca_window_t *w, uint32_t pos, const weir_value_t *values)
{
    double *row = w->stage + w->staged * w->d, norm2 = 0.0;
    for (size_t j = 0; j < w->d; j++) {
        const weir_value_t *v = &values[w->feature[j]];
        double z = 0.0; /* missing or unusable: the center */
        if (v->kind == WEIR_VALUE_NUMBER && isfinite(v->number))
            z = (v->number - w->center[j]) / w->scale[j];
        row[j] = z;
        norm2 += z * z;
    }
    w->norm2[w->staged] = norm2;
    w->stage_pos[w->staged++] = pos;
    w->state[pos] = 2;
    w->n++;
    if (w->staged == w->stage_cap)
        weir_pca_window_flush(w);
}

void weir_pca_window_evict(weir_pca_window_t *w, uint32_t pos)
{
    if (w->state[pos] == 0)
        return;
    if (w->state[pos] == 2)
        weir_pca_window_flush(w);
    weir_ksum_add(&w->sum, -w->error[pos]);
    w->state[pos] = 0;
    w->n--;
    if (w->n == 0)
        w->sum.sum = w->sum.error = 0.0;
}

double weir_pca_window_mean(const weir_pca_window_t *w)
{
    return w->n ? weir_ksum_value(&w->sum) / (double)w->n : NAN;
}

double weir_pca_pvalue(double mean, uint64_t n, double mean_ref, double std_ref, uint64_t n_ref)
{
    if (isnan(mean) || n == 0 || !(mean_ref > 0.0) || !(std_ref > 0.0))
        return NAN;
    /* mean of n errors ~ gamma(shape, scale) with the reference's mean and
       variance std^2 / n_eff: its skewness is that of a mean of skewed,
       positive values, which a normal approximation would understate */
    double var = std_ref * std_ref / weir__n_eff(n, n_ref);
    double shape = mean_ref * mean_ref / var, scale = var / mean_ref;
    return weir_chi2_sf(2.0 * mean / scale, 2.0 * shape);
}
