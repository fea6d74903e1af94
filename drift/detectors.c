/*
 * detectors.c — the concept-drift detectors that watch a model's error
 * stream one joined (prediction, label) pair at a time: DDM, ADWIN and
 * Page-Hinkley.
 *
 * Each one reproduces River's implementation update for update (River 0.26:
 * drift.binary.DDM, drift.ADWIN over its Rust AdaptiveWindowing, and
 * drift.PageHinkley), so that the same stream with the same parameters flags
 * drift at the same indices; tests/drift/golden holds River's indices. That
 * means keeping River's floating-point order of operations (its running mean
 * is mean += (1/n)(x - mean), not (x - mean)/n), its warm-up rules (DDM
 * detects only once more than warm_start values were seen, Page-Hinkley from
 * min_instances on, ADWIN only on clock ticks once the window is longer than
 * the grace period), and its reset: the update that follows a detection
 * first forgets everything, ADWIN included (classic ADWIN would keep the
 * shrunken window instead). docs/drift.md discusses these choices.
 *
 * ADWIN keeps the exponential histogram of ADWIN2: row i holds up to
 * max_buckets + 1 buckets of 2^i values each (total and variance); when a row
 * overflows, its two oldest buckets merge into one bucket of the next row.
 * A cut check walks the buckets from the oldest, so a check costs O(log n)
 * buckets, and inserting is amortised O(1).
 */
#include "drift_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- DDM ------------------------------------------------------------- */

void weir_ddm_params_default(weir_ddm_params_t *p)
{
    p->warm_start = 30;
    p->warning_threshold = 2.0;
    p->drift_threshold = 3.0;
}

void weir_ddm_reset(weir_ddm_t *d)
{
    d->n = 0.0;
    d->p = 0.0;
    d->p_min = NAN;
    d->s_min = NAN;
    d->ps_min = INFINITY;
    d->warning = 0;
    d->drift = 0;
}

void weir_ddm_init(weir_ddm_t *d, const weir_ddm_params_t *params)
{
    if (params)
        d->params = *params;
    else
        weir_ddm_params_default(&d->params);
    weir_ddm_reset(d);
}

int weir_ddm_update(weir_ddm_t *d, double x)
{
    if (d->drift)
        weir_ddm_reset(d);
    d->n += 1.0;
    d->p += (1.0 / d->n) * (x - d->p);
    double s = sqrt(d->p * (1.0 - d->p) / d->n);
    if (d->n > (double)d->params.warm_start) {
        if (d->p + s <= d->ps_min) {
            d->p_min = d->p;
            d->s_min = s;
            d->ps_min = d->p_min + d->s_min;
        }
        d->warning = d->p + s > d->p_min + d->params.warning_threshold * d->s_min;
        if (d->p + s > d->p_min + d->params.drift_threshold * d->s_min) {
            d->drift = 1;
            d->warning = 0;
        }
    }
    return d->drift;
}

/* ---- Page-Hinkley ---------------------------------------------------- */

void weir_page_hinkley_params_default(weir_ph_params_t *p)
{
    p->min_instances = 30;
    p->delta = 0.005;
    p->threshold = 50.0;
    p->alpha = 1.0 - 0.0001;
    p->mode = WEIR_PH_BOTH;
}

void weir_page_hinkley_reset(weir_page_hinkley_t *ph)
{
    ph->n = 0.0;
    ph->mean = 0.0;
    ph->sum_increase = 0.0;
    ph->sum_decrease = 0.0;
    ph->min_increase = INFINITY;
    ph->max_decrease = -1.0; /* River's starting value */
    ph->drift = 0;
}

void weir_page_hinkley_init(weir_page_hinkley_t *ph, const weir_ph_params_t *params)
{
    if (params)
        ph->params = *params;
    else
        weir_page_hinkley_params_default(&ph->params);
    weir_page_hinkley_reset(ph);
}

int weir_page_hinkley_update(weir_page_hinkley_t *ph, double x)
{
    const weir_ph_params_t *p = &ph->params;
    if (ph->drift)
        weir_page_hinkley_reset(ph);
    ph->n += 1.0;
    ph->mean += (1.0 / ph->n) * (x - ph->mean);
    double dev = x - ph->mean;
    ph->sum_increase = p->alpha * ph->sum_increase + dev - p->delta;
    ph->sum_decrease = p->alpha * ph->sum_decrease + dev + p->delta;
    if (ph->sum_increase < ph->min_increase)
        ph->min_increase = ph->sum_increase;
    if (ph->sum_decrease > ph->max_decrease)
        ph->max_decrease = ph->sum_decrease;
    if (ph->n >= (double)p->min_instances) {
        double up = ph->sum_increase - ph->min_increase;
        double down = ph->max_decrease - ph->sum_decrease;
        ph->drift = p->mode == WEIR_PH_UP     ? up > p->threshold
                    : p->mode == WEIR_PH_DOWN ? down > p->threshold
                                              : (up > p->threshold || down > p->threshold);
    }
    return ph->drift;
}

/* ---- ADWIN ----------------------------------------------------------- */

void weir_adwin_params_default(weir_adwin_params_t *p)
{
    p->delta = 0.002;
    p->clock = 32;
    p->max_buckets = 5;
    p->min_window_length = 5;
    p->grace_period = 10;
}

#define ROW_TOTAL(a, row) ((a)->totals + (size_t)(row) * (size_t)((a)->params.max_buckets + 1))
#define ROW_VARIANCE(a, row)                                                                       \
    ((a)->variances + (size_t)(row) * (size_t)((a)->params.max_buckets + 1))

void weir_adwin_reset(weir_adwin_t *a)
{
    size_t cells = (size_t)WEIR_ADWIN_ROWS * (size_t)(a->params.max_buckets + 1);
    a->total = 0.0;
    a->variance = 0.0;
    a->width = 0.0;
    a->tick = 0;
    a->rows = 1;
    memset(a->count, 0, sizeof(a->count));
    if (a->totals) {
        memset(a->totals, 0, cells * sizeof(double));
        memset(a->variances, 0, cells * sizeof(double));
    }
    a->drift = 0;
}

int weir_adwin_init(weir_adwin_t *a, const weir_adwin_params_t *params)
{
    int rc = WEIR_EINVAL;
    memset(a, 0, sizeof(*a));
    if (params)
        a->params = *params;
    else
        weir_adwin_params_default(&a->params);
    const weir_adwin_params_t *p = &a->params;
    if (!(p->delta > 0.0 && p->delta < 1.0) || p->clock < 1 || p->max_buckets < 1 ||
        p->max_buckets > 1024 || p->min_window_length < 1 || p->grace_period < 0)
        goto out;
    size_t cells = (size_t)WEIR_ADWIN_ROWS * (size_t)(p->max_buckets + 1);
    rc = WEIR_ENOMEM;
    a->totals = calloc(cells, sizeof(double));
    a->variances = calloc(cells, sizeof(double));
    if (!a->totals || !a->variances)
        goto out;
    weir_adwin_reset(a);
    rc = 0;
out:
    if (rc != 0)
        weir_adwin_dispose(a);
    return rc;
}

void weir_adwin_dispose(weir_adwin_t *a)
{
    free(a->totals);
    free(a->variances);
    a->totals = NULL;
    a->variances = NULL;
}

/* Drops the first @p k buckets of a row, keeping the others in order. */
static void row_drop_front(weir_adwin_t *a, size_t row, uint32_t k)
{
    double *t = ROW_TOTAL(a, row), *v = ROW_VARIANCE(a, row);
    uint32_t left = a->count[row] - k;
    memmove(t, t + k, left * sizeof(double));
    memmove(v, v + k, left * sizeof(double));
    for (uint32_t i = left; i < a->count[row]; i++)
        t[i] = v[i] = 0.0;
    a->count[row] = left;
}

static void row_push(weir_adwin_t *a, size_t row, double total, double variance)
{
    ROW_TOTAL(a, row)[a->count[row]] = total;
    ROW_VARIANCE(a, row)[a->count[row]] = variance;
    a->count[row]++;
}

static void compress(weir_adwin_t *a)
{
    uint32_t full = (uint32_t)a->params.max_buckets + 1;
    for (size_t row = 0; a->count[row] == full; row++) {
        double n1 = ldexp(1.0, (int)row);
        double t0 = ROW_TOTAL(a, row)[0], t1 = ROW_TOTAL(a, row)[1];
        double v0 = ROW_VARIANCE(a, row)[0], v1 = ROW_VARIANCE(a, row)[1];
        double mu1 = t0 / n1, mu2 = t1 / n1;
        double merged_variance = v0 + v1 + n1 * 0.5 * (mu1 - mu2) * (mu1 - mu2);
        if (row + 1 >= WEIR_ADWIN_ROWS)
            break; /* 2^64 values: cannot happen */
        if (row + 1 >= a->rows)
            a->rows = row + 2;
        row_push(a, row + 1, t0 + t1, merged_variance);
        row_drop_front(a, row, 2);
        if (a->count[row + 1] <= (uint32_t)a->params.max_buckets)
            break;
    }
}

static void insert(weir_adwin_t *a, double x)
{
    row_push(a, 0, x, 0.0);
    a->width += 1.0;
    double incremental = 0.0;
    if (a->width > 1.0) {
        double dv = x - a->total / (a->width - 1.0);
        incremental = (a->width - 1.0) * dv * dv / a->width;
    }
    a->variance += incremental;
    a->total += x;
    compress(a);
}

/* Drops the oldest bucket (the first of the last row). */
static void delete_oldest(weir_adwin_t *a)
{
    size_t last = a->rows - 1;
    double n = ldexp(1.0, (int)last);
    double u = ROW_TOTAL(a, last)[0], v = ROW_VARIANCE(a, last)[0];
    double mu = u / n;
    a->width -= n;
    a->total -= u;
    double mu_window = a->total / a->width;
    a->variance -= v + n * a->width * (mu - mu_window) * (mu - mu_window) / (n + a->width);
    row_drop_front(a, last, 1);
    if (a->count[last] == 0 && a->rows > 1)
        a->rows--;
}

static int cut(const weir_adwin_t *a, double n0, double n1, double delta_mean)
{
    double mwl = (double)a->params.min_window_length;
    double delta_prime = log(2.0 * log(a->width) / a->params.delta);
    double m_recip = 1.0 / (n0 - mwl + 1.0) + 1.0 / (n1 - mwl + 1.0);
    double epsilon = sqrt(2.0 * m_recip * (a->variance / a->width) * delta_prime) +
                     2.0 / 3.0 * delta_prime * m_recip;
    return fabs(delta_mean) > epsilon;
}

static int detect(weir_adwin_t *a)
{
    int detected = 0;
    double mwl = (double)a->params.min_window_length;
    a->tick++;
    if (a->tick % (uint64_t)a->params.clock != 0 || !(a->width > (double)a->params.grace_period))
        return 0;
    for (int again = 1; again;) {
        again = 0;
        double n0 = 0.0, n1 = a->width, u0 = 0.0, u1 = a->total;
        int done = 0;
        for (size_t r = a->rows; r-- > 0 && !done;) {
            double size = ldexp(1.0, (int)r);
            uint32_t buckets = a->count[r];
            for (uint32_t k = 0; k < buckets; k++) {
                double t = ROW_TOTAL(a, r)[k];
                n0 += size;
                n1 -= size;
                u0 += t;
                u1 -= t;
                if (r == 0 && k == buckets - 1) {
                    done = 1;
                    break;
                }
                double delta_mean = u0 / n0 - u1 / n1;
                if (n1 >= mwl && n0 >= mwl && cut(a, n0, n1, delta_mean)) {
                    again = 1;
                    detected = 1;
                    if (a->width > 0.0) {
                        delete_oldest(a);
                        done = 1;
                        break;
                    }
                }
            }
        }
    }
    if (detected)
        a->detections++;
    return detected;
}

int weir_adwin_update(weir_adwin_t *a, double x)
{
    if (a->drift)
        weir_adwin_reset(a);
    insert(a, x);
    a->drift = detect(a);
    return a->drift;
}

double weir_adwin_mean(const weir_adwin_t *a)
{
    return a->width > 0.0 ? a->total / a->width : 0.0;
}
