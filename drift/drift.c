/*
 * drift.c — data and prediction drift of one model: the event ring, one
 * window per monitored feature (and the score), the evaluation that runs every
 * enabled test, corrects the p-values for multiple testing and hands each
 * key's verdict to the alert policy.
 *
 * The ring holds the last `window` events (their times); each column keeps
 * its own per-position entry, so that evicting the oldest event is one call
 * per column. Everything is allocated in weir_drift_new(): observing and
 * evaluating allocate nothing, except the KS p-value's small scratch matrix
 * in its exact region (see weir_ks_sf()).
 *
 * Every test has a p-value: KS, the chi-square contingency test (the
 * reference is a sample too), missing and unknown-category rates (2 x 2
 * contingency), values outside the reference range (beta-binomial), the PCA
 * reconstruction error (gamma), and PSI, JS and Wasserstein through a null
 * distribution calibrated on the reference at load time (calibrate.c). A key
 * fails an evaluation when its corrected p-value is at most alpha and its
 * effect size reaches its threshold: large windows make p-values flag
 * differences of no practical size, small windows make effects noisy, so
 * neither alone alerts. A feature drifts when one of its keys fails; the
 * dataset drifts when the share of drifted features reaches drift.share.
 * Estimated performance (CBPE) fails on its relative drop, when the drop is
 * also beyond three standard deviations of its own noise.
 */
#include "drift_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WARNINGS 8
#define WARNING_SIZE 320
/* Largest window drawn for the load-time calibration: beyond it the scaled
 * statistics' null no longer changes with the size. */
#define CALIBRATION_MAX_DRAW 1000

typedef struct {
    const char *name; /* feature name; NULL for the score */
    size_t feature;   /* model feature index; SIZE_MAX for the score */
    int categorical;
    weir_drift_kind_t kind;
    unsigned tests;
    double threshold[WEIR_DRIFT_TEST__COUNT];
    weir_numeric_window_t num;
    weir_categorical_window_t cat;
    weir_cbpe_window_t *cbpe; /* the score of a binary model */
    weir_null_t *null;        /* per test; apart, so that a column stays small in the event loop */
    double missing_rate;      /* of the reference; NaN: not tested */
    double unseen_rows;       /* reference rows of categories seen once (Good-Turing) */
    uint64_t reference_rows;
    size_t verdict; /* index in the feature verdicts; SIZE_MAX for the score */
    size_t first_key, n_keys;
} column_t;

struct weir_drift {
    weir_drift_config_t cfg;
    weir_policy_t policy;
    size_t n_features;
    column_t *columns;
    size_t n_columns;
    char *names;
    /* the ring of events */
    uint64_t capacity, head, count;
    int64_t *times;
    int64_t latest, first_time;
    uint64_t events, since_eval, evaluations;
    int64_t last_eval_ms;
    int has_eval;
    /* multivariate */
    weir_pca_window_t pca;
    int has_pca;
    size_t pca_key, dataset_key; /* SIZE_MAX when absent */
    /* verdicts */
    weir_drift_feature_verdict_t *verdicts;
    size_t n_verdicts;
    weir_drift_dataset_verdict_t dataset;
    const char **drifted;
    size_t n_drifted;
    weir_drift_cbpe_summary_t cbpe;
    char warnings[MAX_WARNINGS][WARNING_SIZE];
    size_t n_warnings;
    /* keys, results, scratch */
    weir_key_t *keys;
    size_t *key_column; /* SIZE_MAX: a key of the whole feature set */
    int *gate;          /* per key: a test-specific condition besides p and effect */
    size_t n_keys;
    weir_drift_change_t *changes;
    size_t n_changes;
    double *p_raw, *p_adj;
    size_t *p_key, *p_order;
    double *props;
    size_t props_len;
    weir_cells_t cells;
};

#define BIT(t) WEIR_DRIFT_BIT(WEIR_DRIFT_##t)
#define NUMERIC_SET (BIT(KS) | BIT(PSI) | BIT(WASSERSTEIN) | BIT(JS) | BIT(MISSING) | BIT(RANGE))
#define SCORE_SET (BIT(KS) | BIT(PSI) | BIT(WASSERSTEIN) | BIT(JS) | BIT(CBPE))
#define CATEGORICAL_SET (BIT(CHI2) | BIT(PSI) | BIT(JS) | BIT(MISSING) | BIT(UNKNOWN))

static void warn(weir_drift_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(weir_drift_t *d, const char *fmt, ...)
{
    if (d->n_warnings == MAX_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->warnings[d->n_warnings++], WARNING_SIZE, fmt, ap);
    va_end(ap);
}

/* A seed per column and test: the same draws at every load. */
static uint64_t seed_of(const char *name, int test)
{
    const char *s = name ? name : "score";
    return ((uint64_t)weir_hash_fnv1a(s, strlen(s), 0) << 32) ^
           ((uint64_t)test + 1) * UINT64_C(0x9E3779B97F4A7C15);
}

static uint64_t draw_size(uint64_t expected, uint64_t reference)
{
    double m = weir__n_eff(expected, reference);
    if (m > CALIBRATION_MAX_DRAW)
        m = CALIBRATION_MAX_DRAW;
    return m < 1.0 ? 1 : (uint64_t)llround(m);
}

/* Categories written like "1.0": a number given to the feature is looked up
 * as "1" (the transforms' rule), so such a reference can never match one. */
static int decimal_categories(const weir_reference_t *ref)
{
    size_t decimal = 0;
    for (size_t c = 0; c < ref->category_count; c++) {
        const char *s = ref->categories[c];
        char *end;
        double v = strtod(s, &end);
        if (end != s && *end == '\0' && isfinite(v) && v == trunc(v) && strchr(s, '.'))
            decimal++;
    }
    return ref->category_count > 0 && decimal * 2 >= ref->category_count;
}

static const weir_drift_override_t *find_override(const weir_drift_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_overrides; i++)
        if (strcmp(cfg->overrides[i].feature, name) == 0)
            return &cfg->overrides[i];
    return NULL;
}

static void column_dispose(column_t *col);

/* Sets up one column from its reference; a column whose reference cannot
 * serve any enabled test is left out (*used = 0). */
static int column_init(weir_drift_t *d, column_t *col, const weir_model_t *model,
                       const weir_reference_t *ref, weir_feature_type_t type, const char *name,
                       char *err, size_t errsz, int *used)
{
    const weir_drift_config_t *cfg = &d->cfg;
    const weir_drift_override_t *o = find_override(cfg, name ? name : "score");
    int rc = 0;
    col->categorical = type != WEIR_FEATURE_NUMERIC;
    unsigned allowed = !name ? SCORE_SET : col->categorical ? CATEGORICAL_SET : NUMERIC_SET;
    col->tests = !name              ? cfg->score_tests
                 : col->categorical ? cfg->categorical_tests
                                    : cfg->numeric_tests;
    if (o && o->has_tests) {
        if (o->tests & ~allowed) {
            rc = weir_seterr(err, errsz, WEIR_ECONFIG, "drift.feature.%s.tests: %s tests are %s",
                             o->feature,
                             !name              ? "score"
                             : col->categorical ? "categorical and boolean"
                                                : "numeric",
                             !name              ? "ks, psi, wasserstein, js and cbpe"
                             : col->categorical ? "chi2, psi, js, missing and unknown"
                                                : "ks, psi, wasserstein, js, missing and range");
            goto out;
        }
        col->tests = o->tests;
    }
    for (int t = 0; t < WEIR_DRIFT_TEST__COUNT; t++)
        col->threshold[t] = o && !isnan(o->threshold[t]) ? o->threshold[t] : cfg->min_effect[t];
    *used = 0;
    if (!ref || col->tests == 0)
        goto out;
    /* tests whose part of the reference is absent are dropped */
    col->missing_rate = isfinite(ref->missing_rate) && name ? ref->missing_rate : NAN;
    if (isnan(col->missing_rate) || ref->n == 0)
        col->tests &= ~BIT(MISSING);
    if (type != WEIR_FEATURE_CATEGORICAL || ref->n == 0)
        col->tests &= ~BIT(UNKNOWN);
    if (name || weir_model_task(model) != WEIR_TASK_BINARY)
        col->tests &= ~BIT(CBPE);
    col->reference_rows = ref->n;
    col->null = calloc(WEIR_DRIFT_TEST__COUNT, sizeof(weir_null_t));
    if (!col->null)
        goto nomem;
    if (col->categorical) {
        rc = weir_categorical_window_init(&col->cat, ref, type, d->capacity);
    } else {
        rc = weir_numeric_window_init(
            &col->num, ref, d->capacity,
            (col->tests & (BIT(KS) | BIT(WASSERSTEIN) | BIT(RANGE) | BIT(CBPE))) != 0,
            (col->tests & BIT(WASSERSTEIN)) != 0, (col->tests & (BIT(PSI) | BIT(JS))) != 0);
        if (rc == 0) {
            if (!col->num.want_slots)
                col->tests &= ~(BIT(KS) | BIT(WASSERSTEIN) | BIT(RANGE) | BIT(CBPE));
            if (!col->num.want_bins)
                col->tests &= ~(BIT(PSI) | BIT(JS));
        }
    }
    if (rc == WEIR_EINVAL) {
        rc = 0; /* no usable reference: not monitored */
        goto out;
    }
    if (rc != 0)
        goto nomem;
    if (col->tests == 0) {
        column_dispose(col);
        goto out;
    }

    /* load-time calibration of the distance tests for the expected window */
    uint64_t expected = d->capacity;
    if (!isnan(col->missing_rate))
        expected = (uint64_t)llround((double)d->capacity * (1.0 - col->missing_rate));
    if (expected < cfg->min_count)
        expected = cfg->min_count;
    uint32_t draws = cfg->calibration_draws;
    weir_null_t *psi = col->tests & BIT(PSI) ? &col->null[WEIR_DRIFT_PSI] : NULL;
    weir_null_t *js = col->tests & BIT(JS) ? &col->null[WEIR_DRIFT_JS] : NULL;
    if (col->categorical) {
        col->reference_rows = col->cat.reference_n;
        if (col->tests & BIT(UNKNOWN)) {
            for (size_t c = 0; c < col->cat.categories; c++)
                col->unseen_rows += llround(col->cat.proportion[c] * (double)ref->n) == 1;
        }
        if (psi || js) {
            weir_categorical_window_cells_at(&col->cat, expected, cfg->min_expected, cfg->max_cells,
                                             &d->cells);
            rc = weir__calibrate_cells(d->cells.expected, d->cells.cells,
                                       draw_size(expected, col->cat.reference_n), draws,
                                       cfg->psi_epsilon, seed_of(name, WEIR_DRIFT_PSI), psi, js);
        }
        if (rc == 0 && name && ref->category_count > 0 && decimal_categories(ref))
            warn(d,
                 "feature %s: its reference categories look like numbers written with a "
                 "decimal point (\"%s\"); a number in an event is looked up as an integer "
                 "(\"1\", not \"1.0\") and would be an unknown category",
                 name, ref->categories[0]);
    } else {
        col->reference_rows = col->num.reference_n;
        rc = weir__calibrate_numeric(
            &col->num, draw_size(expected, col->num.reference_n),
            draw_size(expected, col->num.sample_size), draws, cfg->psi_epsilon,
            seed_of(name, WEIR_DRIFT_PSI), psi, js,
            col->tests & BIT(WASSERSTEIN) ? &col->null[WEIR_DRIFT_WASSERSTEIN] : NULL);
        if (rc == 0 && (col->tests & BIT(CBPE))) {
            col->cbpe = calloc(1, sizeof(*col->cbpe));
            rc = col->cbpe ? weir_cbpe_window_init(col->cbpe, &col->num, model, expected, draws,
                                                   seed_of(name, WEIR_DRIFT_CBPE))
                           : WEIR_ENOMEM;
        }
    }
    if (rc != 0)
        goto nomem;
    col->name = name;
    col->kind = name ? WEIR_DRIFT_DATA : WEIR_DRIFT_PREDICTION;
    *used = 1;
    goto out;
nomem:
    rc = weir_seterr(err, errsz, WEIR_ENOMEM, "drift: out of memory for the window of %s",
                     name ? name : "the score");
out:
    return rc;
}

static void column_dispose(column_t *col)
{
    if (col->categorical)
        weir_categorical_window_dispose(&col->cat);
    else
        weir_numeric_window_dispose(&col->num);
    if (col->cbpe) {
        weir_cbpe_window_dispose(col->cbpe);
        free(col->cbpe);
        col->cbpe = NULL;
    }
    free(col->null);
    col->null = NULL;
}

static uint64_t column_count(const column_t *col)
{
    return col->categorical ? col->cat.n : col->num.n;
}

int weir_drift_new(const weir_model_t *model, const weir_drift_config_t *cfg, weir_drift_t **out,
                   char *err, size_t errsz)
{
    int rc = WEIR_ENOMEM;
    weir_drift_t *d = calloc(1, sizeof(*d));
    *out = NULL;
    if (!d)
        goto nomem;
    if (cfg)
        d->cfg = *cfg;
    else
        weir_drift_config_default(&d->cfg);
    if ((rc = weir_drift_config_check(&d->cfg, err, errsz)) != 0)
        goto out;
    d->policy = (weir_policy_t){d->cfg.k_fail, d->cfg.m_pass, d->cfg.cooldown, d->cfg.cooldown_ms};
    d->capacity = d->cfg.window;
    d->n_features = weir_model_feature_count(model);

    /* every override must name a feature (or the score) */
    for (size_t i = 0; i < d->cfg.n_overrides; i++) {
        const char *name = d->cfg.overrides[i].feature;
        int found = strcmp(name, "score") == 0;
        for (size_t f = 0; f < d->n_features && !found; f++)
            found = strcmp(weir_model_feature(model, f)->name, name) == 0;
        if (!found) {
            rc = weir_seterr(err, errsz, WEIR_ECONFIG, "drift.feature.%s: no feature has this name",
                             name);
            goto out;
        }
    }

    size_t names_len = 0;
    for (size_t f = 0; f < d->n_features; f++)
        names_len += strlen(weir_model_feature(model, f)->name) + 1;
    rc = WEIR_ENOMEM;
    d->names = malloc(names_len + 1);
    d->columns = calloc(d->n_features + 1, sizeof(column_t));
    d->times = malloc(d->capacity * sizeof(int64_t));
    d->cells.observed = calloc(d->cfg.max_cells, sizeof(double));
    d->cells.expected = calloc(d->cfg.max_cells, sizeof(double));
    d->verdicts = calloc(d->n_features + 1, sizeof(*d->verdicts));
    d->drifted = calloc(d->n_features + 1, sizeof(*d->drifted));
    if (!d->names || !d->columns || !d->times || !d->cells.observed || !d->cells.expected ||
        !d->verdicts || !d->drifted)
        goto nomem;

    char *name_at = d->names;
    uint64_t smallest = UINT64_MAX, small_refs = 0;
    const char *smallest_name = NULL;
    for (size_t f = 0; f <= d->n_features; f++) {
        const weir_reference_t *ref;
        weir_feature_type_t type = WEIR_FEATURE_NUMERIC;
        const char *name = NULL;
        if (f < d->n_features) {
            const weir_feature_info_t *info = weir_model_feature(model, f);
            size_t len = strlen(info->name);
            memcpy(name_at, info->name, len + 1);
            name = name_at;
            name_at += len + 1;
            type = info->type;
            ref = weir_model_reference(model, f);
        } else {
            ref = weir_model_score_reference(model);
        }
        column_t *col = &d->columns[d->n_columns];
        int used = 0;
        col->feature = f < d->n_features ? f : SIZE_MAX;
        rc = column_init(d, col, model, ref, type, name, err, errsz, &used);
        if (rc != 0 || !used) {
            column_dispose(col); /* whatever it got before it was left out */
            memset(col, 0, sizeof(*col));
            if (rc != 0)
                goto out;
            continue;
        }
        d->n_columns++;
        col->verdict = SIZE_MAX;
        if (name) {
            col->verdict = d->n_verdicts;
            d->verdicts[d->n_verdicts++].feature = name;
        }
        /* the reference's own noise caps what a window can show */
        uint64_t size = col->categorical       ? col->cat.reference_n
                        : col->num.sample_size ? col->num.sample_size
                                               : col->num.reference_n;
        if (size < d->capacity && size < 2000) {
            small_refs++;
            if (size < smallest) {
                smallest = size;
                smallest_name = name ? name : "score";
            }
        }
    }
    if (small_refs)
        warn(d,
             "%llu monitored series have a reference smaller than the window of %llu events "
             "(smallest: %s, %llu values): verdicts are calibrated for it, but a change smaller "
             "than the reference's own noise cannot be seen%s",
             (unsigned long long)small_refs, (unsigned long long)d->capacity, smallest_name,
             (unsigned long long)smallest,
             smallest < 100 ? "; below 100 values the false-alarm rate was not measured" : "");

    const weir_pca_reference_t *pca = weir_model_pca_reference(model);
    if (pca && (d->cfg.multivariate_tests & BIT(PCA))) {
        if (weir_pca_window_init(&d->pca, pca, d->capacity) != 0)
            goto nomem;
        d->has_pca = 1;
    }

    /* keys: one per column and enabled test, then the feature set's */
    size_t max_bins = 0;
    for (size_t c = 0; c < d->n_columns; c++) {
        column_t *col = &d->columns[c];
        col->first_key = d->n_keys;
        for (int t = 0; t < WEIR_DRIFT_TEST__COUNT; t++)
            if (col->tests & WEIR_DRIFT_BIT(t))
                col->n_keys++;
        d->n_keys += col->n_keys;
        if (!col->categorical && col->num.bins > max_bins)
            max_bins = col->num.bins;
    }
    d->pca_key = d->dataset_key = SIZE_MAX;
    if (d->has_pca)
        d->pca_key = d->n_keys++;
    if (d->n_verdicts > 0 && (d->cfg.multivariate_tests & BIT(DATASET)))
        d->dataset_key = d->n_keys++;
    d->keys = calloc(d->n_keys + 1, sizeof(weir_key_t));
    d->key_column = calloc(d->n_keys + 1, sizeof(size_t));
    d->gate = calloc(d->n_keys + 1, sizeof(int));
    d->changes = calloc(d->n_keys + 1, sizeof(weir_drift_change_t));
    d->p_raw = calloc(d->n_keys + 1, sizeof(double));
    d->p_adj = calloc(d->n_keys + 1, sizeof(double));
    d->p_key = calloc(d->n_keys + 1, sizeof(size_t));
    d->p_order = calloc(d->n_keys + 1, sizeof(size_t));
    d->props_len = max_bins > d->cfg.max_cells ? max_bins : d->cfg.max_cells;
    d->props = calloc(d->props_len + 1, sizeof(double));
    if (!d->keys || !d->key_column || !d->gate || !d->changes || !d->p_raw || !d->p_adj ||
        !d->p_key || !d->p_order || !d->props)
        goto nomem;
    for (size_t k = 0; k < d->n_keys; k++) {
        weir_key_t *key = &d->keys[k];
        key->stat.statistic = key->stat.effect = NAN;
        key->stat.p_value = key->stat.p_adjusted = NAN;
        d->key_column[k] = SIZE_MAX;
    }
    size_t k = 0;
    for (size_t c = 0; c < d->n_columns; c++) {
        column_t *col = &d->columns[c];
        for (int t = 0; t < WEIR_DRIFT_TEST__COUNT; t++) {
            if (!(col->tests & WEIR_DRIFT_BIT(t)))
                continue;
            weir_key_t *key = &d->keys[k];
            key->kind = col->kind;
            key->stat.feature = col->name;
            key->stat.kind = col->kind;
            key->stat.test = (weir_drift_test_t)t;
            key->stat.threshold = col->threshold[t];
            d->key_column[k] = c;
            k++;
        }
    }
    if (d->pca_key != SIZE_MAX) {
        weir_key_t *key = &d->keys[d->pca_key];
        key->kind = key->stat.kind = WEIR_DRIFT_DATA;
        key->stat.test = WEIR_DRIFT_PCA;
        key->stat.threshold = d->cfg.min_effect[WEIR_DRIFT_PCA];
    }
    if (d->dataset_key != SIZE_MAX) {
        weir_key_t *key = &d->keys[d->dataset_key];
        key->kind = key->stat.kind = WEIR_DRIFT_DATA;
        key->stat.test = WEIR_DRIFT_DATASET;
        key->stat.threshold = d->cfg.share;
    }
    d->dataset.share = NAN;
    d->dataset.threshold = d->cfg.share;
    *out = d;
    d = NULL;
    rc = 0;
    goto out;
nomem:
    rc = weir_seterr(err, errsz, WEIR_ENOMEM, "drift: out of memory");
out:
    weir_drift_destroy(d);
    return rc;
}

void weir_drift_destroy(weir_drift_t *d)
{
    if (!d)
        return;
    if (d->columns)
        for (size_t c = 0; c < d->n_columns; c++)
            column_dispose(&d->columns[c]);
    free(d->columns);
    free(d->names);
    free(d->times);
    if (d->has_pca)
        weir_pca_window_dispose(&d->pca);
    free(d->verdicts);
    free(d->drifted);
    free(d->keys);
    free(d->key_column);
    free(d->gate);
    free(d->changes);
    free(d->p_raw);
    free(d->p_adj);
    free(d->p_key);
    free(d->p_order);
    free(d->props);
    free(d->cells.observed);
    free(d->cells.expected);
    free(d);
}

static void evict_oldest(weir_drift_t *d)
{
    uint32_t pos = (uint32_t)d->head;
    for (size_t c = 0; c < d->n_columns; c++) {
        column_t *col = &d->columns[c];
        if (col->categorical) {
            weir_categorical_window_evict(&col->cat, pos);
        } else {
            if (col->cbpe)
                weir_cbpe_window_evict(col->cbpe, &col->num, pos);
            weir_numeric_window_evict(&col->num, pos);
        }
    }
    if (d->has_pca)
        weir_pca_window_evict(&d->pca, pos);
    d->head = d->head + 1 == d->capacity ? 0 : d->head + 1;
    d->count--;
}

/* Time windows keep the events whose time is after now - T. */
static void evict_before(weir_drift_t *d, int64_t now_ms)
{
    if (d->cfg.time_window_ms <= 0)
        return;
    while (d->count > 0 && d->times[d->head] <= now_ms - d->cfg.time_window_ms)
        evict_oldest(d);
}

void weir_drift_observe(weir_drift_t *d, const weir_value_t *values, double score,
                        int64_t event_time_ms)
{
    if (d->events == 0) {
        d->first_time = event_time_ms;
        d->latest = event_time_ms;
    } else if (event_time_ms > d->latest) {
        d->latest = event_time_ms;
    }
    evict_before(d, d->latest);
    if (d->count == d->capacity)
        evict_oldest(d);
    uint64_t slot = d->head + d->count;
    uint32_t pos = (uint32_t)(slot >= d->capacity ? slot - d->capacity : slot);
    d->times[pos] = event_time_ms;
    for (size_t c = 0; c < d->n_columns; c++) {
        column_t *col = &d->columns[c];
        if (col->categorical) {
            uint32_t cat = weir_categorical_window_lookup(&col->cat, &values[col->feature]);
            if (cat != WEIR_NONE)
                weir_categorical_window_push(&col->cat, pos, cat);
        } else {
            double v;
            if (col->feature == SIZE_MAX)
                v = score;
            else if (values[col->feature].kind == WEIR_VALUE_NUMBER)
                v = values[col->feature].number;
            else
                continue;
            if (isfinite(v)) {
                weir_numeric_window_push(&col->num, pos, v);
                if (col->cbpe)
                    weir_cbpe_window_push(col->cbpe, &col->num, pos, v);
            }
        }
    }
    if (d->has_pca)
        weir_pca_window_push(&d->pca, pos, values);
    d->count++;
    d->events++;
    d->since_eval++;
}

int weir_drift_due(const weir_drift_t *d, int64_t now_ms)
{
    if (d->since_eval >= d->cfg.step)
        return 1;
    if (d->cfg.step_ms > 0 && d->since_eval > 0)
        return now_ms - (d->has_eval ? d->last_eval_ms : d->first_time) >= d->cfg.step_ms;
    return 0;
}

/* A rate against the reference's, as a 2 x 2 contingency test: @p hits of
 * @p n in the window, @p ref_hits of @p ref_n in the reference. */
static void rate_test(weir_drift_stat_t *s, double hits, double n, double ref_hits, double ref_n)
{
    const double a[2] = {hits, n - hits}, b[2] = {ref_hits, ref_n - ref_hits};
    weir_chi2_contingency(a, b, 2, 1, &s->statistic, &s->p_value);
    s->effect = weir_cohen_h(hits / n, ref_hits / ref_n);
}

/* CBPE: the worst relative drop of the estimated F1 and AUC from the
 * reference's estimate; the gate asks it to be past 3 standard deviations of
 * the estimate's own noise at this window size. */
static void cbpe_test(weir_drift_t *d, column_t *col, weir_key_t *key, int *gate)
{
    weir_drift_stat_t *s = &key->stat;
    weir_cbpe_window_t *c = col->cbpe;
    weir_cbpe_t e;
    weir_cbpe_window_estimate(c, &col->num, &e);
    double noise = sqrt((double)c->sim_n / weir__n_eff(col->num.n, c->sample_size));
    struct {
        const char *name;
        double est, ref, sd;
    } m[2] = {{"f1", e.f1, c->reference.f1, c->f1_sd * noise},
              {"auc", e.auc, c->reference.auc, c->auc_sd * noise}};
    d->cbpe.estimate = e;
    d->cbpe.window_count = col->num.n;
    d->cbpe.f1_noise = m[0].sd;
    d->cbpe.auc_noise = m[1].sd;
    *gate = 0;
    for (int i = 0; i < 2; i++) {
        if (isnan(m[i].est) || !(m[i].ref > 0.0))
            continue;
        double drop = (m[i].ref - m[i].est) / m[i].ref;
        if (isnan(s->statistic) || drop > s->statistic) {
            s->statistic = drop;
            s->metric = m[i].name;
            *gate = !(m[i].ref - m[i].est < 3.0 * m[i].sd);
        }
    }
    s->effect = s->statistic;
    s->reference_size = c->sample_size;
}

/* Computes one key's statistic on its column; sets evaluated. */
static void run_test(weir_drift_t *d, column_t *col, weir_key_t *key, int *gate, int *cells_ready)
{
    weir_drift_stat_t *s = &key->stat;
    const weir_drift_config_t *cfg = &d->cfg;
    uint64_t n = column_count(col);
    s->window_count = n;
    s->statistic = s->effect = s->p_value = s->p_adjusted = NAN;
    s->evaluated = 0;
    s->failed = 0;
    *gate = 1;
    if (s->test == WEIR_DRIFT_MISSING) {
        /* every event of the window counts: a missing value is one of them */
        if (d->count < cfg->min_count)
            return;
        double rows = (double)col->reference_rows;
        s->window_count = d->count;
        s->reference_size = col->reference_rows;
        rate_test(s, (double)(d->count - n), (double)d->count, col->missing_rate * rows, rows);
        s->statistic = (double)(d->count - n) / (double)d->count;
        s->evaluated = 1;
        return;
    }
    if (n < cfg->min_count || n == 0)
        return;
    if (col->categorical) {
        if (s->test == WEIR_DRIFT_UNKNOWN) {
            /* Good-Turing: a new draw is of a category the reference never
               saw about as often as the reference saw a category once */
            double unknown = (double)col->cat.count[col->cat.categories];
            rate_test(s, unknown, (double)n, col->unseen_rows, (double)col->cat.reference_n);
            /* one-sided: fewer new categories than expected is no problem */
            if (unknown / (double)n > col->unseen_rows / (double)col->cat.reference_n) {
                s->p_value /= 2.0;
            } else {
                s->p_value = 1.0;
                s->effect = 0.0;
            }
            s->statistic = unknown / (double)n;
            s->reference_size = col->cat.reference_n;
            s->evaluated = 1;
            return;
        }
        if (!*cells_ready) {
            weir_categorical_window_cells(&col->cat, cfg->min_expected, cfg->max_cells, &d->cells);
            *cells_ready = 1;
        }
        weir_cells_t *cells = &d->cells;
        if (cells->cells < 2)
            return; /* one cell: nothing to compare */
        uint64_t rows = col->cat.reference_n;
        s->reference_size = rows;
        switch (s->test) {
        case WEIR_DRIFT_CHI2: {
            double stat = 0.0, df = (double)(cells->cells - 1);
            if (rows > 0) {
                /* the reference is a sample too: a two-sample contingency test */
                for (size_t i = 0; i < cells->cells; i++)
                    d->props[i] = cells->expected[i] * (double)rows;
                weir_chi2_contingency(cells->observed, d->props, cells->cells, 1, &stat,
                                      &s->p_value);
            } else {
                for (size_t i = 0; i < cells->cells; i++) {
                    double e = cells->expected[i] * (double)n, diff = cells->observed[i] - e;
                    stat += diff * diff / e;
                }
                s->p_value = weir_chi2_sf(stat, df);
            }
            s->statistic = stat;
            /* Cohen's w less the noise: X² has mean df under no change, so
               sqrt(X²/n) alone would be ~sqrt(df/n) on any small window */
            s->effect = stat > df ? sqrt((stat - df) / weir__n_eff(n, rows)) : 0.0;
            break;
        }
        case WEIR_DRIFT_PSI:
        case WEIR_DRIFT_JS:
            for (size_t i = 0; i < cells->cells; i++)
                d->props[i] = cells->observed[i] / (double)n;
            s->statistic = s->test == WEIR_DRIFT_PSI
                               ? weir_psi(d->props, cells->expected, cells->cells, cfg->psi_epsilon)
                               : weir_js_distance(d->props, cells->expected, cells->cells);
            s->effect = s->statistic;
            s->p_value = weir__null_pvalue(&col->null[s->test], s->statistic, weir__n_eff(n, rows));
            break;
        default:
            return;
        }
    } else {
        weir_numeric_window_t *w = &col->num;
        switch (s->test) {
        case WEIR_DRIFT_KS:
            s->statistic = s->effect = weir_numeric_window_ks(w);
            s->p_value = weir_ks_pvalue(s->statistic, n, w->sample_size);
            s->reference_size = w->sample_size;
            if (isnan(s->p_value))
                return;
            break;
        case WEIR_DRIFT_WASSERSTEIN:
            s->statistic = s->effect = weir_numeric_window_wasserstein(w) / w->scale;
            s->reference_size = w->sample_size;
            s->p_value = weir__null_pvalue(&col->null[s->test], s->statistic,
                                           weir__n_eff(n, w->sample_size));
            break;
        case WEIR_DRIFT_PSI:
        case WEIR_DRIFT_JS:
            weir_numeric_window_bin_props(w, d->props);
            s->statistic = s->test == WEIR_DRIFT_PSI
                               ? weir_psi(d->props, w->bin_ref, w->bins, cfg->psi_epsilon)
                               : weir_js_distance(d->props, w->bin_ref, w->bins);
            s->effect = s->statistic;
            s->reference_size = w->reference_n;
            s->p_value = weir__null_pvalue(&col->null[s->test], s->statistic,
                                           weir__n_eff(n, w->reference_n));
            break;
        case WEIR_DRIFT_RANGE: {
            /* under no change, a value falls outside the range of R values
               with a Beta(2, R - 1) probability: the count is beta-binomial */
            uint64_t outside = w->slot_count[0] + w->slot_count[2 * w->distinct];
            double r = (double)w->sample_size, expected = 2.0 / (r + 1.0);
            double share = (double)outside / (double)n;
            s->statistic = share;
            s->p_value = weir_betabinom_sf(outside, n, 2.0, r - 1.0);
            s->effect = share > expected ? weir_cohen_h(share, expected) : 0.0;
            s->reference_size = w->sample_size;
            break;
        }
        case WEIR_DRIFT_CBPE:
            cbpe_test(d, col, key, gate);
            break;
        default:
            return;
        }
    }
    s->evaluated = !isnan(s->effect);
}

static void run_pca(weir_drift_t *d, weir_key_t *key)
{
    weir_drift_stat_t *s = &key->stat;
    weir_pca_window_t *w = &d->pca;
    weir_pca_window_flush(w);
    s->statistic = s->effect = s->p_value = s->p_adjusted = NAN;
    s->window_count = w->n;
    s->reference_size = w->n_ref;
    s->evaluated = s->failed = 0;
    if (w->n < d->cfg.min_count)
        return;
    double mean = weir_pca_window_mean(w);
    s->statistic = mean;
    s->effect = (mean - w->mean_ref) / w->std_ref;
    s->p_value = weir_pca_pvalue(mean, w->n, w->mean_ref, w->std_ref, w->n_ref);
    s->evaluated = !isnan(s->p_value);
}

/* Each feature's verdict from its keys, then the dataset's. */
static void take_verdicts(weir_drift_t *d)
{
    for (size_t v = 0; v < d->n_verdicts; v++) {
        d->verdicts[v].evaluated = d->verdicts[v].drifted = 0;
        d->verdicts[v].failing = 0;
    }
    for (size_t c = 0; c < d->n_columns; c++) {
        column_t *col = &d->columns[c];
        if (col->verdict == SIZE_MAX)
            continue;
        weir_drift_feature_verdict_t *v = &d->verdicts[col->verdict];
        for (size_t k = col->first_key; k < col->first_key + col->n_keys; k++) {
            const weir_drift_stat_t *s = &d->keys[k].stat;
            v->evaluated |= s->evaluated;
            if (s->failed) {
                v->drifted = 1;
                v->failing |= WEIR_DRIFT_BIT(s->test);
            }
        }
    }
    weir_drift_dataset_verdict_t *ds = &d->dataset;
    ds->features_evaluated = ds->features_drifted = 0;
    d->n_drifted = 0;
    for (size_t v = 0; v < d->n_verdicts; v++) {
        ds->features_evaluated += d->verdicts[v].evaluated;
        if (d->verdicts[v].drifted) {
            ds->features_drifted++;
            d->drifted[d->n_drifted++] = d->verdicts[v].feature;
        }
    }
    ds->evaluated = ds->features_evaluated > 0;
    ds->share = ds->evaluated ? (double)ds->features_drifted / (double)ds->features_evaluated : NAN;
    ds->drifted = ds->evaluated && ds->share >= ds->threshold;
    if (d->dataset_key != SIZE_MAX) {
        weir_drift_stat_t *s = &d->keys[d->dataset_key].stat;
        s->statistic = s->effect = ds->share;
        s->p_value = s->p_adjusted = NAN;
        s->window_count = d->count;
        s->reference_size = ds->features_evaluated;
        s->evaluated = ds->evaluated;
        s->failed = ds->drifted;
    }
}

int weir_drift_evaluate(weir_drift_t *d, int64_t now_ms, const weir_drift_change_t **changes,
                        size_t *n_changes)
{
    const weir_drift_config_t *cfg = &d->cfg;
    size_t n_p = 0;
    evict_before(d, now_ms);
    d->evaluations++;
    d->n_changes = 0;

    for (size_t c = 0; c < d->n_columns; c++) {
        column_t *col = &d->columns[c];
        int cells_ready = 0;
        for (size_t k = col->first_key; k < col->first_key + col->n_keys; k++)
            run_test(d, col, &d->keys[k], &d->gate[k], &cells_ready);
    }
    if (d->pca_key != SIZE_MAX) {
        run_pca(d, &d->keys[d->pca_key]);
        d->gate[d->pca_key] = 1;
    }
    for (size_t k = 0; k < d->n_keys; k++) {
        const weir_drift_stat_t *s = &d->keys[k].stat;
        if (s->evaluated && !isnan(s->p_value)) {
            d->p_raw[n_p] = s->p_value;
            d->p_key[n_p++] = k;
        }
    }
    weir_correct_pvalues(cfg->correction, d->p_raw, n_p, d->p_adj, d->p_order);
    for (size_t i = 0; i < n_p; i++)
        d->keys[d->p_key[i]].stat.p_adjusted = d->p_adj[i];
    for (size_t k = 0; k < d->n_keys; k++) {
        weir_drift_stat_t *s = &d->keys[k].stat;
        if (k == d->dataset_key || !s->evaluated)
            continue;
        int large = s->effect >= s->threshold;
        int significant = isnan(s->p_value) || s->p_adjusted <= cfg->alpha;
        s->failed = large && significant && d->gate[k];
    }
    take_verdicts(d);

    int64_t start = d->count ? d->times[d->head] : 0;
    uint64_t last = d->head + d->count - 1;
    int64_t end = d->count ? d->times[last >= d->capacity ? last - d->capacity : last] : 0;
    for (size_t k = 0; k < d->n_keys; k++) {
        weir_key_t *key = &d->keys[k];
        weir_drift_stat_t *s = &key->stat;
        weir_verdict_t verdict = WEIR_VERDICT_SKIP;
        weir_drift_severity_t severity = WEIR_SEVERITY_WARNING;
        if (s->evaluated) {
            verdict = s->failed ? WEIR_VERDICT_FAIL : WEIR_VERDICT_PASS;
            severity = k == d->dataset_key
                           ? WEIR_SEVERITY_WARNING
                           : weir_policy_severity(s->effect, s->threshold, cfg->critical_factor);
            if (k == d->dataset_key && s->effect >= 0.999999)
                severity = WEIR_SEVERITY_CRITICAL; /* every feature drifted */
        }
        weir_drift_change_t *change = &d->changes[d->n_changes];
        if (weir_policy_apply(&d->policy, key, verdict, severity, d->evaluations, now_ms, change)) {
            size_t c = d->key_column[k];
            change->window_start_ms = start;
            change->window_end_ms = end;
            change->feature_drifted = c != SIZE_MAX && d->columns[c].verdict != SIZE_MAX
                                          ? d->verdicts[d->columns[c].verdict].drifted
                                          : -1;
            change->dataset_drifted = d->dataset.evaluated ? d->dataset.drifted : -1;
            change->drifted_share = d->dataset.share;
            if (k == d->dataset_key) {
                change->drifted_features = d->drifted;
                change->n_drifted_features = d->n_drifted;
            }
            d->n_changes++;
        }
    }
    d->since_eval = 0;
    d->last_eval_ms = now_ms;
    d->has_eval = 1;
    *changes = d->changes;
    *n_changes = d->n_changes;
    return 0;
}

size_t weir_drift_stat_count(const weir_drift_t *d)
{
    return d->n_keys;
}

const weir_drift_stat_t *weir_drift_stat(const weir_drift_t *d, size_t i)
{
    return i < d->n_keys ? &d->keys[i].stat : NULL;
}

uint64_t weir_drift_window_count(const weir_drift_t *d)
{
    return d->count;
}

uint64_t weir_drift_events(const weir_drift_t *d)
{
    return d->events;
}

uint64_t weir_drift_evaluations(const weir_drift_t *d)
{
    return d->evaluations;
}

size_t weir_drift_feature_count(const weir_drift_t *d)
{
    return d->n_verdicts;
}

const weir_drift_feature_verdict_t *weir_drift_feature_verdict(const weir_drift_t *d, size_t i)
{
    return i < d->n_verdicts ? &d->verdicts[i] : NULL;
}

void weir_drift_dataset_verdict(const weir_drift_t *d, weir_drift_dataset_verdict_t *out)
{
    *out = d->dataset;
}

void weir_drift_cbpe(const weir_drift_t *d, weir_drift_cbpe_summary_t *out)
{
    *out = d->cbpe;
    out->enabled = 0;
    for (size_t c = 0; c < d->n_columns; c++) {
        const column_t *col = &d->columns[c];
        if (col->cbpe) {
            out->enabled = 1;
            out->reference = col->cbpe->reference;
        }
    }
}

const char *weir_drift_warning(const weir_drift_t *d, size_t i)
{
    return i < d->n_warnings ? d->warnings[i] : NULL;
}
