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
 * A key fails an evaluation when its effect size reaches its threshold and,
 * for the tests with a p-value (KS, chi-square), the corrected p-value is at
 * most alpha as well: large windows make p-values flag differences of no
 * practical size, so significance alone never alerts.
 */
#include "drift_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name; /* feature name; NULL for the score */
    size_t feature;   /* model feature index; SIZE_MAX for the score */
    int categorical;
    weir_drift_kind_t kind;
    unsigned tests;
    double threshold[WEIR_DRIFT_TEST__COUNT];
    weir_numeric_window_t num;
    weir_categorical_window_t cat;
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
    /* keys, results, scratch */
    weir_key_t *keys;
    size_t *key_column;
    size_t n_keys;
    weir_drift_change_t *changes;
    size_t n_changes;
    double *p_raw, *p_adj;
    size_t *p_key, *p_order;
    double *props;
    size_t props_len;
    weir_cells_t cells;
};

#define NUMERIC_SET                                                                                \
    (WEIR_DRIFT_BIT(WEIR_DRIFT_KS) | WEIR_DRIFT_BIT(WEIR_DRIFT_PSI) |                              \
     WEIR_DRIFT_BIT(WEIR_DRIFT_WASSERSTEIN) | WEIR_DRIFT_BIT(WEIR_DRIFT_JS))
#define CATEGORICAL_SET                                                                            \
    (WEIR_DRIFT_BIT(WEIR_DRIFT_CHI2) | WEIR_DRIFT_BIT(WEIR_DRIFT_PSI) |                            \
     WEIR_DRIFT_BIT(WEIR_DRIFT_JS))

static const weir_drift_override_t *find_override(const weir_drift_config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_overrides; i++)
        if (strcmp(cfg->overrides[i].feature, name) == 0)
            return &cfg->overrides[i];
    return NULL;
}

/* Sets up one column from its reference; a column whose reference cannot
 * serve any enabled test is left out (*used = 0). */
static int column_init(weir_drift_t *d, column_t *col, const weir_reference_t *ref,
                       weir_feature_type_t type, const char *name, char *err, size_t errsz,
                       int *used)
{
    const weir_drift_config_t *cfg = &d->cfg;
    const weir_drift_override_t *o = find_override(cfg, name ? name : "score");
    int rc = 0;
    col->categorical = type != WEIR_FEATURE_NUMERIC;
    unsigned allowed = col->categorical ? CATEGORICAL_SET : NUMERIC_SET;
    col->tests = !name              ? cfg->score_tests
                 : col->categorical ? cfg->categorical_tests
                                    : cfg->numeric_tests;
    if (o && o->has_tests) {
        if (o->tests & ~allowed) {
            rc = weir_seterr(err, errsz, WEIR_ECONFIG, "drift.feature.%s.tests: %s tests are %s",
                             o->feature, col->categorical ? "categorical and boolean" : "numeric",
                             col->categorical ? "chi2, psi and js" : "ks, psi, wasserstein and js");
            goto out;
        }
        col->tests = o->tests;
    }
    for (int t = 0; t < WEIR_DRIFT_TEST__COUNT; t++)
        col->threshold[t] = o && !isnan(o->threshold[t]) ? o->threshold[t] : cfg->min_effect[t];
    *used = 0;
    if (!ref || col->tests == 0)
        goto out;
    if (col->categorical) {
        rc = weir_categorical_window_init(&col->cat, ref, type, d->capacity);
    } else {
        rc = weir_numeric_window_init(
            &col->num, ref, d->capacity, (col->tests & WEIR_DRIFT_BIT(WEIR_DRIFT_KS)) != 0,
            (col->tests & WEIR_DRIFT_BIT(WEIR_DRIFT_WASSERSTEIN)) != 0,
            (col->tests & (WEIR_DRIFT_BIT(WEIR_DRIFT_PSI) | WEIR_DRIFT_BIT(WEIR_DRIFT_JS))) != 0);
        if (rc == 0) {
            /* tests whose part of the reference is absent are dropped */
            if (!col->num.want_slots)
                col->tests &=
                    ~(WEIR_DRIFT_BIT(WEIR_DRIFT_KS) | WEIR_DRIFT_BIT(WEIR_DRIFT_WASSERSTEIN));
            if (!col->num.want_bins)
                col->tests &= ~(WEIR_DRIFT_BIT(WEIR_DRIFT_PSI) | WEIR_DRIFT_BIT(WEIR_DRIFT_JS));
        }
    }
    if (rc == WEIR_EINVAL) {
        rc = 0; /* no usable reference: not monitored */
        goto out;
    }
    if (rc != 0) {
        rc = weir_seterr(err, errsz, rc, "drift: out of memory for the window of %s",
                         name ? name : "the score");
        goto out;
    }
    col->name = name;
    col->kind = name ? WEIR_DRIFT_DATA : WEIR_DRIFT_PREDICTION;
    *used = 1;
out:
    return rc;
}

static void column_dispose(column_t *col)
{
    if (col->categorical)
        weir_categorical_window_dispose(&col->cat);
    else
        weir_numeric_window_dispose(&col->num);
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
    if (!d->names || !d->columns || !d->times)
        goto nomem;

    char *name_at = d->names;
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
        if ((rc = column_init(d, col, ref, type, name, err, errsz, &used)) != 0)
            goto out;
        if (used)
            d->n_columns++;
        else
            memset(col, 0, sizeof(*col));
    }

    /* keys: one per column and enabled test */
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
    d->keys = calloc(d->n_keys + 1, sizeof(weir_key_t));
    d->key_column = calloc(d->n_keys + 1, sizeof(size_t));
    d->changes = calloc(d->n_keys + 1, sizeof(weir_drift_change_t));
    d->p_raw = calloc(d->n_keys + 1, sizeof(double));
    d->p_adj = calloc(d->n_keys + 1, sizeof(double));
    d->p_key = calloc(d->n_keys + 1, sizeof(size_t));
    d->p_order = calloc(d->n_keys + 1, sizeof(size_t));
    d->props_len = max_bins > d->cfg.max_cells ? max_bins : d->cfg.max_cells;
    d->props = calloc(d->props_len + 1, sizeof(double));
    d->cells.observed = calloc(d->cfg.max_cells, sizeof(double));
    d->cells.expected = calloc(d->cfg.max_cells, sizeof(double));
    if (!d->keys || !d->key_column || !d->changes || !d->p_raw || !d->p_adj || !d->p_key ||
        !d->p_order || !d->props || !d->cells.observed || !d->cells.expected)
        goto nomem;
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
            key->stat.statistic = key->stat.effect = NAN;
            key->stat.p_value = key->stat.p_adjusted = NAN;
            key->stat.threshold = col->threshold[t];
            d->key_column[k] = c;
            k++;
        }
    }
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
    free(d->keys);
    free(d->key_column);
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
        if (col->categorical)
            weir_categorical_window_evict(&col->cat, pos);
        else
            weir_numeric_window_evict(&col->num, pos);
    }
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
            if (isfinite(v))
                weir_numeric_window_push(&col->num, pos, v);
        }
    }
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

/* Computes one key's statistic on its column; sets evaluated. */
static void run_test(weir_drift_t *d, column_t *col, weir_key_t *key, int *cells_ready)
{
    weir_drift_stat_t *s = &key->stat;
    const weir_drift_config_t *cfg = &d->cfg;
    uint64_t n = column_count(col);
    s->window_count = n;
    s->statistic = s->effect = s->p_value = s->p_adjusted = NAN;
    s->evaluated = 0;
    if (n < cfg->min_count || n == 0)
        return;
    if (col->categorical) {
        if (!*cells_ready) {
            weir_categorical_window_cells(&col->cat, cfg->min_expected, cfg->max_cells, &d->cells);
            *cells_ready = 1;
        }
        weir_cells_t *cells = &d->cells;
        if (cells->cells < 2)
            return; /* one cell: nothing to compare */
        s->reference_size = col->cat.reference_n;
        switch (s->test) {
        case WEIR_DRIFT_CHI2: {
            double stat = 0.0;
            for (size_t i = 0; i < cells->cells; i++) {
                double e = cells->expected[i] * (double)n, diff = cells->observed[i] - e;
                stat += diff * diff / e;
            }
            double df = (double)(cells->cells - 1);
            s->statistic = stat;
            s->p_value = weir_chi2_sf(stat, df);
            /* Cohen's w less the noise: X² has mean df under no change, so
               sqrt(X²/n) alone would be ~sqrt(df/n) on any small window */
            s->effect = stat > df ? sqrt((stat - df) / (double)n) : 0.0;
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
            break;
        case WEIR_DRIFT_PSI:
        case WEIR_DRIFT_JS:
            weir_numeric_window_bin_props(w, d->props);
            s->statistic = s->test == WEIR_DRIFT_PSI
                               ? weir_psi(d->props, w->bin_ref, w->bins, cfg->psi_epsilon)
                               : weir_js_distance(d->props, w->bin_ref, w->bins);
            s->effect = s->statistic;
            s->reference_size = w->reference_n;
            break;
        default:
            return;
        }
    }
    s->evaluated = !isnan(s->effect);
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
        for (size_t k = col->first_key; k < col->first_key + col->n_keys; k++) {
            weir_key_t *key = &d->keys[k];
            run_test(d, col, key, &cells_ready);
            if (key->stat.evaluated && !isnan(key->stat.p_value)) {
                d->p_raw[n_p] = key->stat.p_value;
                d->p_key[n_p++] = k;
            }
        }
    }
    weir_correct_pvalues(cfg->correction, d->p_raw, n_p, d->p_adj, d->p_order);
    for (size_t i = 0; i < n_p; i++)
        d->keys[d->p_key[i]].stat.p_adjusted = d->p_adj[i];

    int64_t start = d->count ? d->times[d->head] : 0;
    uint64_t last = d->head + d->count - 1;
    int64_t end = d->count ? d->times[last >= d->capacity ? last - d->capacity : last] : 0;
    for (size_t k = 0; k < d->n_keys; k++) {
        weir_key_t *key = &d->keys[k];
        weir_drift_stat_t *s = &key->stat;
        weir_verdict_t verdict = WEIR_VERDICT_SKIP;
        weir_drift_severity_t severity = WEIR_SEVERITY_WARNING;
        if (s->evaluated) {
            int large = s->effect >= s->threshold;
            int significant = isnan(s->p_value) || s->p_adjusted <= cfg->alpha;
            verdict = large && significant ? WEIR_VERDICT_FAIL : WEIR_VERDICT_PASS;
            severity = weir_policy_severity(s->effect, s->threshold, cfg->critical_factor);
        }
        weir_drift_change_t *change = &d->changes[d->n_changes];
        if (weir_policy_apply(&d->policy, key, verdict, severity, d->evaluations, now_ms, change)) {
            change->window_start_ms = start;
            change->window_end_ms = end;
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
