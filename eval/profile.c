/*
 * profile.c — the field profile of a stream: per field the count, missing
 * share, moments, quantiles (from every value, or from a seeded reservoir
 * sample past a cap), distinct count (exact up to a cap, then HyperLogLog),
 * frequent categories (exact up to a cap, then Misra-Gries), and the Pearson
 * correlation of the numeric fields on pairwise-complete rows, accumulated
 * with BLAS over blocks of rows.
 *
 * Owns every accumulator; memory is bounded by the caps of its configuration
 * (weir_profile_config_t) and the number of fields.
 */
#include "eval.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HLL_P 14
#define HLL_M (1u << HLL_P)
#define BLOCK 256

typedef struct {
    uint64_t *slots; /* hashes; 0 = empty (a hash of 0 is stored as 1) */
    size_t cap, len;
} hash_set_t;

typedef struct {
    char *value;
    size_t len;
    uint64_t hash;
    uint64_t count;
} counter_t;

typedef struct {
    weir_profile_kind_t kind;
    weir_profile_field_t out;
    /* numbers */
    double mean, m2, min, max, shift;
    int shifted;
    double *values;
    size_t values_len;
    uint64_t seen; /* finite values offered to the reservoir */
    /* distinct */
    hash_set_t exact;
    int overflowed;
    uint8_t *hll;
    /* frequent categories (Misra-Gries past top_max) */
    counter_t *counters;
    size_t n_counters;
    size_t *index; /* open addressing into counters; SIZE_MAX = empty */
    size_t index_cap;
    uint64_t decremented; /* total subtracted from every counter */
    weir_profile_category_t *top;
} field_t;

struct weir_profile {
    weir_profile_config_t cfg;
    size_t n_fields;
    field_t *fields;
    uint64_t rows;
    uint64_t rng;
    /* correlation: numeric and boolean fields */
    size_t m;
    size_t *numeric; /* field index of each matrix column */
    size_t *column;  /* matrix column of each field, SIZE_MAX if none */
    double *x, *x2, *mask;
    size_t block_rows;
    double *sxy, *sx, *sxx, *nn, *corr;
};

void weir_profile_config_default(weir_profile_config_t *c)
{
    c->sample_max = (size_t)1 << 20;
    c->distinct_max = 65536;
    c->top_max = 4096;
    c->seed = 1;
}

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= UINT64_C(0x100000001b3);
    }
    return mix64(h);
}

static uint64_t hash_double(double v)
{
    uint64_t bits;
    if (v == 0)
        v = 0; /* -0 and 0 are one value */
    memcpy(&bits, &v, sizeof(bits));
    return mix64(bits ^ UINT64_C(0x9e3779b97f4a7c15));
}

static uint64_t next_random(weir_profile_t *p)
{
    p->rng += UINT64_C(0x9e3779b97f4a7c15);
    return mix64(p->rng);
}

/* ---- distinct values ---- */

static int set_insert(hash_set_t *s, uint64_t h)
{
    if (h == 0)
        h = 1;
    if ((s->len + 1) * 2 > s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        uint64_t *slots = calloc(cap, sizeof(uint64_t));
        if (!slots)
            return WEIR_ENOMEM;
        for (size_t i = 0; i < s->cap; i++) {
            if (!s->slots[i])
                continue;
            size_t at = (size_t)(s->slots[i] & (cap - 1));
            while (slots[at])
                at = (at + 1) & (cap - 1);
            slots[at] = s->slots[i];
        }
        free(s->slots);
        s->slots = slots;
        s->cap = cap;
    }
    size_t at = (size_t)(h & (s->cap - 1));
    while (s->slots[at]) {
        if (s->slots[at] == h)
            return 0;
        at = (at + 1) & (s->cap - 1);
    }
    s->slots[at] = h;
    s->len++;
    return 0;
}

static void hll_add(uint8_t *regs, uint64_t h)
{
    size_t idx = (size_t)(h >> (64 - HLL_P));
    uint64_t rest = h << HLL_P;
    uint8_t rank = rest ? (uint8_t)(__builtin_clzll(rest) + 1) : (uint8_t)(64 - HLL_P + 1);
    if (rank > regs[idx])
        regs[idx] = rank;
}

static double hll_estimate(const uint8_t *regs)
{
    double sum = 0, m = HLL_M;
    size_t zeros = 0;
    for (size_t i = 0; i < HLL_M; i++) {
        sum += ldexp(1.0, -regs[i]);
        zeros += regs[i] == 0;
    }
    double alpha = 0.7213 / (1 + 1.079 / m);
    double e = alpha * m * m / sum;
    if (e <= 2.5 * m && zeros)
        e = m * log(m / (double)zeros); /* linear counting for small cardinalities */
    return e;
}

static int add_distinct(weir_profile_t *p, field_t *f, uint64_t h)
{
    hll_add(f->hll, h);
    if (f->overflowed)
        return 0;
    int rc = set_insert(&f->exact, h);
    if (rc == 0 && f->exact.len > p->cfg.distinct_max) {
        f->overflowed = 1;
        free(f->exact.slots);
        memset(&f->exact, 0, sizeof(f->exact));
    }
    return rc;
}

/* ---- frequent categories ---- */

static int index_rebuild(field_t *f, size_t cap)
{
    size_t *index = malloc(cap * sizeof(size_t));
    if (!index)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        index[i] = SIZE_MAX;
    for (size_t c = 0; c < f->n_counters; c++) {
        size_t at = (size_t)(f->counters[c].hash & (cap - 1));
        while (index[at] != SIZE_MAX)
            at = (at + 1) & (cap - 1);
        index[at] = c;
    }
    free(f->index);
    f->index = index;
    f->index_cap = cap;
    return 0;
}

/* Misra-Gries: a table full of counters takes a new value by lowering every
 * counter by one and dropping those at zero (the new value is one of the
 * decrements), so any value seen more than rows / (top_max + 1) times stays. */
static int count_category(weir_profile_t *p, field_t *f, const char *s, size_t n)
{
    uint64_t h = hash_bytes(s, n);
    if (!f->index && index_rebuild(f, 64) != 0)
        return WEIR_ENOMEM;
    size_t at = (size_t)(h & (f->index_cap - 1));
    while (f->index[at] != SIZE_MAX) {
        counter_t *c = &f->counters[f->index[at]];
        if (c->hash == h && c->len == n && !memcmp(c->value, s, n)) {
            c->count++;
            return 0;
        }
        at = (at + 1) & (f->index_cap - 1);
    }
    if (f->n_counters == p->cfg.top_max) {
        size_t kept = 0;
        for (size_t i = 0; i < f->n_counters; i++) {
            if (--f->counters[i].count == 0) {
                free(f->counters[i].value);
                continue;
            }
            f->counters[kept++] = f->counters[i];
        }
        f->n_counters = kept;
        f->decremented++;
        f->out.top_estimated = 1;
        return index_rebuild(f, f->index_cap);
    }
    char *copy = malloc(n + 1);
    if (!copy)
        return WEIR_ENOMEM;
    memcpy(copy, s, n);
    copy[n] = '\0';
    f->counters[f->n_counters] = (counter_t){copy, n, h, 1};
    f->n_counters++;
    if (f->n_counters * 2 > f->index_cap)
        return index_rebuild(f, f->index_cap * 2);
    f->index[at] = f->n_counters - 1;
    return 0;
}

/* ---- setup ---- */

int weir_profile_new(const weir_profile_kind_t *kinds, size_t n_fields,
                     const weir_profile_config_t *cfg, weir_profile_t **out)
{
    int rc = 0;
    weir_profile_t *p = calloc(1, sizeof(*p));
    *out = NULL;
    if (!p)
        return WEIR_ENOMEM;
    if (cfg)
        p->cfg = *cfg;
    else
        weir_profile_config_default(&p->cfg);
    if (n_fields == 0 || n_fields > 65536 || p->cfg.top_max == 0 || p->cfg.sample_max == 0) {
        rc = WEIR_EINVAL;
        goto out;
    }
    p->rng = p->cfg.seed;
    p->n_fields = n_fields;
    p->fields = calloc(n_fields, sizeof(field_t));
    p->column = malloc(n_fields * sizeof(size_t));
    p->numeric = malloc(n_fields * sizeof(size_t));
    if (!p->fields || !p->column || !p->numeric) {
        rc = WEIR_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n_fields; i++) {
        field_t *f = &p->fields[i];
        f->kind = kinds[i];
        f->out.kind = kinds[i];
        f->hll = calloc(HLL_M, 1);
        if (!f->hll) {
            rc = WEIR_ENOMEM;
            goto out;
        }
        if (kinds[i] != WEIR_PROFILE_CATEGORICAL) {
            p->column[i] = p->m;
            p->numeric[p->m++] = i;
        } else {
            p->column[i] = SIZE_MAX;
        }
        if (kinds[i] != WEIR_PROFILE_NUMERIC) {
            f->counters = malloc(p->cfg.top_max * sizeof(counter_t));
            if (!f->counters) {
                rc = WEIR_ENOMEM;
                goto out;
            }
        }
    }
    if (p->m) {
        size_t mm = p->m * p->m;
        p->x = calloc(BLOCK * p->m, sizeof(double));
        p->x2 = calloc(BLOCK * p->m, sizeof(double));
        p->mask = calloc(BLOCK * p->m, sizeof(double));
        p->sxy = calloc(mm, sizeof(double));
        p->sx = calloc(mm, sizeof(double));
        p->sxx = calloc(mm, sizeof(double));
        p->nn = calloc(mm, sizeof(double));
        p->corr = calloc(mm, sizeof(double));
        if (!p->x || !p->x2 || !p->mask || !p->sxy || !p->sx || !p->sxx || !p->nn || !p->corr) {
            rc = WEIR_ENOMEM;
            goto out;
        }
    }
out:
    if (rc) {
        weir_profile_destroy(p);
        p = NULL;
    }
    *out = p;
    return rc;
}

void weir_profile_destroy(weir_profile_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; p->fields && i < p->n_fields; i++) {
        field_t *f = &p->fields[i];
        free(f->values);
        free(f->exact.slots);
        free(f->hll);
        for (size_t c = 0; c < f->n_counters; c++)
            free(f->counters[c].value);
        free(f->counters);
        free(f->index);
        free(f->top);
    }
    free(p->fields);
    free(p->column);
    free(p->numeric);
    free(p->x);
    free(p->x2);
    free(p->mask);
    free(p->sxy);
    free(p->sx);
    free(p->sxx);
    free(p->nn);
    free(p->corr);
    free(p);
}

/* ---- rows ---- */

/* The block's sums into the pairwise accumulators: four products of the
 * block's (shifted) values, squares and presence masks. */
static void flush_block(weir_profile_t *p)
{
    if (p->block_rows == 0)
        return;
    int m = (int)p->m, b = (int)p->block_rows;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, m, b, 1.0, p->x, m, p->x, m, 1.0,
                p->sxy, m);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, m, b, 1.0, p->x, m, p->mask, m, 1.0,
                p->sx, m);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, m, b, 1.0, p->x2, m, p->mask, m, 1.0,
                p->sxx, m);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, m, b, 1.0, p->mask, m, p->mask, m, 1.0,
                p->nn, m);
    p->block_rows = 0;
}

static int add_number(weir_profile_t *p, size_t i, double v)
{
    field_t *f = &p->fields[i];
    if (!isfinite(v)) {
        f->out.nonfinite++;
        return 0;
    }
    f->out.count++;
    uint64_t k = f->out.count;
    double delta = v - f->mean;
    f->mean += delta / (double)k;
    f->m2 += delta * (v - f->mean);
    if (k == 1 || v < f->min)
        f->min = v;
    if (k == 1 || v > f->max)
        f->max = v;
    /* Algorithm R, with the profile's own seeded generator */
    f->seen++;
    if (f->values_len < p->cfg.sample_max) {
        if (!f->values) {
            f->values = malloc(p->cfg.sample_max * sizeof(double));
            if (!f->values)
                return WEIR_ENOMEM;
        }
        f->values[f->values_len++] = v;
    } else {
        f->out.quantiles_estimated = 1;
        uint64_t j = next_random(p) % f->seen;
        if (j < p->cfg.sample_max)
            f->values[j] = v;
    }
    if (!f->shifted) {
        f->shift = v;
        f->shifted = 1;
    }
    size_t col = p->column[i];
    double x = v - f->shift;
    p->x[p->block_rows * p->m + col] = x;
    p->x2[p->block_rows * p->m + col] = x * x;
    p->mask[p->block_rows * p->m + col] = 1.0;
    return add_distinct(p, f, hash_double(v));
}

int weir_profile_add(weir_profile_t *p, const weir_value_t *values)
{
    int rc = 0;
    char text[64];
    p->rows++;
    if (p->m) {
        size_t at = p->block_rows * p->m;
        memset(p->x + at, 0, p->m * sizeof(double));
        memset(p->x2 + at, 0, p->m * sizeof(double));
        memset(p->mask + at, 0, p->m * sizeof(double));
    }
    for (size_t i = 0; i < p->n_fields; i++) {
        field_t *f = &p->fields[i];
        const weir_value_t *v = &values[i];
        int r = 0;
        f->out.rows++;
        if (f->kind == WEIR_PROFILE_CATEGORICAL) {
            const char *s = v->string;
            size_t n = v->length;
            if (v->kind == WEIR_VALUE_MISSING)
                continue;
            if (v->kind == WEIR_VALUE_NUMBER) {
                double d = v->number;
                n = (size_t)(d == floor(d) && fabs(d) < 9e15
                                 ? snprintf(text, sizeof(text), "%lld", (long long)d)
                                 : snprintf(text, sizeof(text), "%.17g", d));
                s = text;
            }
            f->out.count++;
            r = count_category(p, f, s, n);
            if (r == 0)
                r = add_distinct(p, f, hash_bytes(s, n));
        } else {
            if (v->kind != WEIR_VALUE_NUMBER)
                continue;
            r = add_number(p, i, v->number);
            if (r == 0 && f->kind == WEIR_PROFILE_BOOLEAN && isfinite(v->number))
                r = count_category(p, f, v->number != 0 ? "true" : "false", v->number != 0 ? 4 : 5);
        }
        if (r && !rc)
            rc = r;
    }
    if (p->m && ++p->block_rows == BLOCK)
        flush_block(p);
    return rc;
}

/* ---- results ---- */

static int by_count_desc(const void *a, const void *b)
{
    const weir_profile_category_t *x = a, *y = b;
    if (x->count != y->count)
        return x->count < y->count ? 1 : -1;
    return strcmp(x->value, y->value);
}

int weir_profile_finish(weir_profile_t *p)
{
    if (p->m)
        flush_block(p);
    for (size_t i = 0; i < p->n_fields; i++) {
        field_t *f = &p->fields[i];
        weir_profile_field_t *o = &f->out;
        o->missing = o->rows - o->count;
        if (f->kind != WEIR_PROFILE_CATEGORICAL) {
            o->mean = o->count ? f->mean : NAN;
            o->std = o->count ? sqrt(f->m2 / (double)o->count) : NAN;
            o->min = o->count ? f->min : NAN;
            o->max = o->count ? f->max : NAN;
            weir_eval_sort(f->values, f->values_len);
        } else {
            o->mean = o->std = o->min = o->max = NAN;
        }
        o->distinct_estimated = f->overflowed;
        o->distinct = f->overflowed ? (uint64_t)llround(hll_estimate(f->hll)) : f->exact.len;
        if (f->counters) {
            free(f->top);
            f->top = malloc((f->n_counters ? f->n_counters : 1) * sizeof(*f->top));
            if (!f->top)
                return WEIR_ENOMEM;
            uint64_t kept = 0;
            for (size_t c = 0; c < f->n_counters; c++) {
                f->top[c].value = f->counters[c].value;
                f->top[c].count = f->counters[c].count;
                kept += f->counters[c].count;
            }
            qsort(f->top, f->n_counters, sizeof(*f->top), by_count_desc);
            o->top = f->top;
            o->top_count = f->n_counters;
            o->top_other = o->count > kept ? o->count - kept : 0;
        }
    }
    size_t m = p->m;
    for (size_t a = 0; a < m; a++) {
        for (size_t b = 0; b < m; b++) {
            double n = p->nn[a * m + b];
            double sa = p->sx[a * m + b], sb = p->sx[b * m + a];
            double saa = p->sxx[a * m + b], sbb = p->sxx[b * m + a];
            double sab = p->sxy[a * m + b];
            double cov = n * sab - sa * sb;
            double va = n * saa - sa * sa, vb = n * sbb - sb * sb;
            double r = n >= 2 && va > 0 && vb > 0 ? cov / sqrt(va * vb) : NAN;
            if (r > 1)
                r = 1;
            if (r < -1)
                r = -1;
            p->corr[a * m + b] = r;
        }
    }
    return 0;
}

const weir_profile_field_t *weir_profile_field(const weir_profile_t *p, size_t i)
{
    return i < p->n_fields ? &p->fields[i].out : NULL;
}

double weir_profile_quantile(const weir_profile_t *p, size_t field, double q)
{
    if (field >= p->n_fields)
        return NAN;
    const field_t *f = &p->fields[field];
    return weir_eval_quantile(f->values, f->values_len, q);
}

size_t weir_profile_sample(const weir_profile_t *p, size_t field, double *out, size_t max)
{
    if (field >= p->n_fields || max == 0)
        return 0;
    const field_t *f = &p->fields[field];
    size_t n = f->values_len;
    if (n <= max) {
        memcpy(out, f->values, n * sizeof(double));
        return n;
    }
    for (size_t i = 0; i < max; i++) {
        size_t at = max > 1 ? (size_t)((double)i * (double)(n - 1) / (double)(max - 1)) : 0;
        out[i] = f->values[at];
    }
    return max;
}

const double *weir_profile_correlation(const weir_profile_t *p, size_t *m, const size_t **fields)
{
    *m = p->m;
    if (fields)
        *fields = p->numeric;
    return p->corr;
}
