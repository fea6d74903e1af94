/*
 * drift_real.c — false alarms and detection delays of the drift verdicts on
 * real data (the datasets of tests/drift/golden/real/, exported from
 * scikit-learn and statsmodels wheels by bench/drift_real/export.py).
 *
 * False alarms: each dataset's rows are shuffled (fixed seed); the first R
 * rows are the reference (R = 100, 300, 1000 where the data allows), and 20
 * windows of n rows (n = 100, 300, 1000) are drawn without replacement from
 * the other rows, so every window comes from the reference's distribution.
 * Each window is judged once, as `weir batch --report` judges a file: a
 * feature drifts when one of its tests fails; the dataset drifts when half of
 * the evaluated features do. The table counts dataset alerts, the share of
 * drifted features and windows where any test failed.
 *
 * Detection (--detect): streams of reference-distribution events, then a
 * change, through the monitor as the service runs it (window 300, step 50,
 * k_fail 2): the delay in events from the change to the first alert of the
 * changed feature (or of the pca key, or of concept drift for a label flip).
 *
 *   drift_real [--pca] [--detect] [--windows FILE.json] [DATA_DIR]
 */
#include "drift.h"
#include "real_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOWS 20

static const char *const datasets[] = {"breast_cancer", "digits", "fair", "anes96"};
static const size_t ref_sizes[] = {100, 300, 1000};
static const size_t window_sizes[] = {100, 300, 1000};

static uint64_t rng_state = 42;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* n rows drawn without replacement from pool[0..m) into out. */
static void draw(const size_t *pool, size_t m, size_t n, size_t *scratch, size_t *out)
{
    memcpy(scratch, pool, m * sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        size_t j = i + (size_t)(rnd() % (m - i)), t = scratch[i];
        scratch[i] = scratch[j];
        scratch[j] = t;
        out[i] = scratch[i];
    }
}

static void window_config(weir_drift_config_t *cfg, size_t n)
{
    weir_drift_config_default(cfg);
    cfg->window = n;
    cfg->step = n;
    cfg->k_fail = 1;
    cfg->m_pass = 1;
    cfg->cooldown = 0;
}

static int false_alarms(const char *dir, int pca, FILE *json)
{
    char path[4096];
    unsigned long tot_windows = 0, tot_dataset = 0, tot_any = 0, tot_pca = 0;
    double tot_feature_share = 0;
    printf("%-14s %6s %6s %8s %10s %12s %10s %8s\n", "dataset", "R", "n", "windows", "dataset",
           "features %", "any test", "pca");
    if (json)
        fprintf(json, "[");
    int first_json = 1;
    for (size_t ds = 0; ds < sizeof(datasets) / sizeof(datasets[0]); ds++) {
        real_table_t t;
        snprintf(path, sizeof(path), "%s/%s.csv", dir, datasets[ds]);
        if (real_table_load(path, &t) != 0)
            return 1;
        size_t *idx = malloc(t.rows * sizeof(size_t)), *scratch = malloc(t.rows * sizeof(size_t));
        size_t *win = malloc(t.rows * sizeof(size_t));
        weir_value_t *values = calloc(t.cols, sizeof(weir_value_t));
        real_shuffle(idx, t.rows, 7 + ds);
        for (size_t ri = 0; ri < sizeof(ref_sizes) / sizeof(ref_sizes[0]); ri++) {
            size_t r = ref_sizes[ri];
            if (r + 100 > t.rows)
                continue;
            weir_model_t *m = real_table_bundle(&t, idx, r, pca);
            if (!m)
                return 1;
            const size_t *rest = idx + r;
            size_t m_rest = t.rows - r;
            double *shift = calloc(t.cols, sizeof(double));
            for (size_t c = 0; c < t.cols; c++)
                if (!t.categorical[c])
                    shift[c] = 0.5 * real_column_std(&t, c, idx, r);
            for (size_t wi = 0; wi < sizeof(window_sizes) / sizeof(window_sizes[0]); wi++) {
                size_t n = window_sizes[wi];
                if (n > m_rest)
                    continue;
                weir_drift_config_t cfg;
                weir_drift_t *d = NULL;
                char err[512];
                window_config(&cfg, n);
                if (weir_drift_new(m, &cfg, &d, err, sizeof(err)) != 0) {
                    fprintf(stderr, "%s\n", err);
                    return 1;
                }
                unsigned dataset = 0, any = 0, pca_alerts = 0;
                double share = 0;
                for (int w = 0; w < WINDOWS; w++) {
                    real_verdict_t v;
                    draw(rest, m_rest, n, scratch, win);
                    real_window(d, &t, win, n, NULL, values, &v);
                    dataset += (unsigned)v.dataset;
                    any += (unsigned)v.any;
                    pca_alerts += (unsigned)v.pca;
                    share += v.features ? (double)v.drifted / (double)v.features : 0;
                    if (json) {
                        /* the same window with every numeric column moved by half
                           its reference std: what the peers see as drift too */
                        real_verdict_t sv;
                        real_window(d, &t, win, n, shift, values, &sv);
                        fprintf(json, "%s\n{\"dataset\":\"%s\",\"R\":%zu,\"n\":%zu,\"window\":%d,",
                                first_json ? "" : ",", datasets[ds], r, n, w);
                        fprintf(json, "\"weir_dataset\":%d,\"weir_drifted\":%zu,\"features\":%zu,",
                                v.dataset, v.drifted, v.features);
                        fprintf(json, "\"weir_shifted_dataset\":%d,\"weir_shifted_drifted\":%zu,",
                                sv.dataset, sv.drifted);
                        fprintf(json, "\"shift\":[");
                        for (size_t c = 0; c < t.cols; c++)
                            fprintf(json, "%s%.17g", c ? "," : "", shift[c]);
                        fprintf(json, "],");
                        fprintf(json, "\"reference\":[");
                        for (size_t i = 0; i < r; i++)
                            fprintf(json, "%s%zu", i ? "," : "", idx[i]);
                        fprintf(json, "],\"rows\":[");
                        for (size_t i = 0; i < n; i++)
                            fprintf(json, "%s%zu", i ? "," : "", win[i]);
                        fprintf(json, "]}");
                        first_json = 0;
                    }
                }
                printf("%-14s %6zu %6zu %8d %10u %12.1f %10u %8u\n", datasets[ds], r, n, WINDOWS,
                       dataset, 100.0 * share / WINDOWS, any, pca_alerts);
                tot_windows += WINDOWS;
                tot_dataset += dataset;
                tot_any += any;
                tot_pca += pca_alerts;
                tot_feature_share += share;
                weir_drift_destroy(d);
            }
            weir_model_destroy(m);
            free(shift);
        }
        free(idx);
        free(scratch);
        free(win);
        free(values);
        real_table_free(&t);
    }
    if (json)
        fprintf(json, "\n]\n");
    printf("%-14s %6s %6s %8lu %10lu %12.1f %10lu %8lu\n", "all", "", "", tot_windows, tot_dataset,
           100.0 * tot_feature_share / (double)tot_windows, tot_any, tot_pca);
    printf("dataset-level false alarms: %lu of %lu windows (%.1f%%)\n", tot_dataset, tot_windows,
           100.0 * (double)tot_dataset / (double)tot_windows);
    return 0;
}

/* ---- detection --------------------------------------------------------- */

typedef enum { SHIFT, SCALE, CATEGORY, MISSING, UNKNOWN, CORRELATION } change_t;

typedef struct {
    const char *name, *dataset, *column;
    change_t change;
} case_t;

static size_t column_of(const real_table_t *t, const char *name)
{
    for (size_t c = 0; c < t->cols; c++)
        if (!strcmp(t->names[c], name))
            return c;
    fprintf(stderr, "no column %s\n", name);
    exit(1);
}

/* A synthetic table: x1, x2 correlated 0.9 (or -0.9 in rows >= flip_at),
 * four independent columns; every marginal is N(0, 1). */
static void correlated_table(real_table_t *t, size_t rows, size_t flip_at)
{
    memset(t, 0, sizeof(*t));
    t->cols = 6;
    t->rows = rows;
    t->names = calloc(6, sizeof(char *));
    t->categorical = calloc(6, sizeof(int));
    t->num = malloc(rows * 6 * sizeof(double));
    t->cat = calloc(rows * 6, sizeof(char *));
    for (size_t c = 0; c < 6; c++) {
        char name[16];
        snprintf(name, sizeof(name), "x%zu", c + 1);
        t->names[c] = strdup(name);
    }
    for (size_t i = 0; i < rows; i++) {
        double z[6];
        for (int c = 0; c < 6; c++) {
            double u1 = ((double)(rnd() >> 11) + 0.5) * 0x1.0p-53;
            double u2 = (double)(rnd() >> 11) * 0x1.0p-53;
            z[c] = sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
        }
        double rho = i >= flip_at ? -0.9 : 0.9;
        t->num[i * 6 + 0] = z[0];
        t->num[i * 6 + 1] = rho * z[0] + sqrt(1 - rho * rho) * z[1];
        for (int c = 2; c < 6; c++)
            t->num[i * 6 + c] = z[c];
    }
}

static long stream(const real_table_t *t, const weir_model_t *m, const size_t *order, size_t n,
                   size_t change_at, const case_t *cs, size_t column, long *false_alarms,
                   const char **first_test)
{
    weir_drift_config_t cfg;
    weir_drift_t *d = NULL;
    char err[512];
    weir_drift_config_default(&cfg);
    cfg.window = 300;
    cfg.step = 50;
    if (weir_drift_new(m, &cfg, &d, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    weir_value_t *values = calloc(t->cols, sizeof(weir_value_t));
    long found = -1;
    *false_alarms = 0;
    for (size_t i = 0; i < n && found < 0; i++) {
        real_table_values(t, order[i], values);
        if (i >= change_at) {
            weir_value_t *v = &values[column];
            double u = (double)(rnd() >> 11) * 0x1.0p-53;
            switch (cs->change) {
            case SHIFT:
                if (v->kind == WEIR_VALUE_NUMBER)
                    v->number += 0.5 * 10.0; /* fair's age: sd ~ 7 */
                break;
            case SCALE:
                if (v->kind == WEIR_VALUE_NUMBER)
                    v->number *= 1.5;
                break;
            case CATEGORY:
                if (u < 0.3) {
                    v->kind = WEIR_VALUE_STRING;
                    v->string = "1";
                    v->length = 1;
                }
                break;
            case MISSING:
                if (u < 0.25)
                    v->kind = WEIR_VALUE_MISSING;
                break;
            case UNKNOWN:
                if (u < 0.5) {
                    v->kind = WEIR_VALUE_STRING;
                    v->string = "9.0";
                    v->length = 3;
                }
                break;
            case CORRELATION:
                break; /* the table's rows past the change are flipped already */
            }
        }
        weir_drift_observe(d, values, NAN, (int64_t)i);
        if (!weir_drift_due(d, (int64_t)i))
            continue;
        const weir_drift_change_t *changes;
        size_t nc;
        weir_drift_evaluate(d, (int64_t)i, &changes, &nc);
        for (size_t k = 0; k < nc; k++) {
            if (changes[k].kind == WEIR_DRIFT_RECOVERED)
                continue;
#ifdef REAL_DATA_BEFORE
            int ours = changes[k].feature && !strcmp(changes[k].feature, cs->column);
#else
            int ours = cs->change == CORRELATION
                           ? changes[k].test == WEIR_DRIFT_PCA
                           : changes[k].feature && !strcmp(changes[k].feature, cs->column);
#endif
            if (i < change_at) {
                (*false_alarms)++;
            } else if (cs->change == CORRELATION && changes[k].feature) {
                (*false_alarms)++; /* no univariate test may see it */
            } else if (ours && found < 0) {
                found = (long)(i - change_at + 1);
                *first_test = weir_drift_test_name(changes[k].test);
            }
        }
    }
    free(values);
    weir_drift_destroy(d);
    return found;
}

static long label_flip(long *false_alarms, const char **first)
{
    /* scores calibrated by construction; labels drawn from them, then flipped */
    const char *bundle =
        "{\"format\":\"weir.model/1\",\"name\":\"m\",\"version\":\"1\",\"task\":\"binary\","
        "\"features\":[{\"name\":\"x\",\"source\":\"x\",\"type\":\"numeric\",\"transform\":[]}],"
        "\"model\":{\"kind\":\"logistic\",\"weights\":[1],\"bias\":0},"
        "\"reference\":{\"performance\":{\"n\":100000,\"auc\":0.83,\"f1\":0.75}}}";
    weir_model_t *m = NULL;
    weir_concept_t *c = NULL;
    weir_drift_config_t cfg;
    char err[512];
    weir_drift_config_default(&cfg);
    weir_model_parse(bundle, strlen(bundle), "<flip>", &m, err, sizeof(err));
    weir_concept_new(m, &cfg, &c, err, sizeof(err));
    long found = -1;
    size_t change_at = 40000;
    *false_alarms = 0;
    for (size_t i = 0; i < 100000 && found < 0; i++) {
        double u = (double)(rnd() >> 11) * 0x1.0p-53, p = (double)(rnd() >> 11) * 0x1.0p-53;
        double label = u < p ? 1 : 0;
        if (i >= change_at)
            label = 1 - label;
        weir_concept_observe(c, p, p >= 0.5, label, (int64_t)i);
        if (!weir_concept_due(c, (int64_t)i))
            continue;
        const weir_drift_change_t *changes;
        size_t nc;
        weir_concept_evaluate(c, (int64_t)i, &changes, &nc);
        for (size_t k = 0; k < nc; k++) {
            if (changes[k].kind != WEIR_DRIFT_CONCEPT)
                continue;
            if (i < change_at)
                (*false_alarms)++;
            else if (found < 0) {
                found = (long)(i - change_at + 1);
                *first = weir_drift_test_name(changes[k].test);
            }
        }
    }
    weir_concept_destroy(c);
    weir_model_destroy(m);
    return found;
}

static int detection(const char *dir)
{
    static const case_t cases[] = {
        {"numeric shift +0.7 sd", "fair", "age", SHIFT},
        {"numeric scale x1.5", "fair", "yrs_married", SCALE},
        {"category frequencies (30% to one)", "fair", "occupation", CATEGORY},
        {"missing rate 0% -> 25%", "fair", "educ", MISSING},
        {"unknown categories (50% \"9.0\")", "fair", "religious", UNKNOWN},
        {"correlation flip (marginals kept)", "synthetic", "x2", CORRELATION},
    };
    printf("\n%-36s %-10s %-14s %14s %12s %8s\n", "change", "dataset", "feature", "delay (events)",
           "first test", "false");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const case_t *cs = &cases[i];
        real_table_t t;
        char path[4096];
        size_t r = 500, pre = 600;
        if (cs->change == CORRELATION) {
            correlated_table(&t, 4000, 2000 + pre);
            r = 2000;
        } else {
            snprintf(path, sizeof(path), "%s/%s.csv", dir, cs->dataset);
            if (real_table_load(path, &t) != 0)
                return 1;
        }
        size_t *idx = malloc(t.rows * sizeof(size_t));
        if (cs->change == CORRELATION)
            for (size_t k = 0; k < t.rows; k++)
                idx[k] = k;
        else
            real_shuffle(idx, t.rows, 99 + i);
#ifdef REAL_DATA_BEFORE
        weir_model_t *m = real_table_bundle(&t, idx, r, 0); /* no pca section before */
#else
        weir_model_t *m = real_table_bundle(&t, idx, r, 1);
#endif
        long fa = 0;
        const char *first = "-";
        long delay =
            stream(&t, m, idx + r, t.rows - r, pre, cs, column_of(&t, cs->column), &fa, &first);
        char d[32];
        snprintf(d, sizeof(d), delay < 0 ? "not detected" : "%ld", delay);
        printf("%-36s %-10s %-14s %14s %12s %8ld\n", cs->name, cs->dataset, cs->column, d, first,
               fa);
        weir_model_destroy(m);
        free(idx);
        real_table_free(&t);
    }
    long fa = 0;
    const char *first = "-";
    long delay = label_flip(&fa, &first);
    printf("%-36s %-10s %-14s %14ld %12s %8ld\n", "label flip (concept, joined pairs)", "synthetic",
           "-", delay, first, fa);
    printf("(fair: reference 500 rows, 600 events before the change; synthetic: reference 2000 "
           "rows; window 300, step 50, k_fail 2; label flip: 40000 pairs before)\n");
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = WEIR_SOURCE_DIR "/tests/drift/golden/real", *json_path = NULL;
    int pca = 0, detect = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--pca"))
            pca = 1;
        else if (!strcmp(argv[i], "--detect"))
            detect = 1;
        else if (!strcmp(argv[i], "--windows") && i + 1 < argc)
            json_path = argv[++i];
        else
            dir = argv[i];
    }
    FILE *json = json_path ? fopen(json_path, "w") : NULL;
    printf("drift_real: same-distribution windows, one evaluation each (defaults, k_fail 1)%s\n\n",
           pca ? ", with the PCA test" : "");
    int rc = false_alarms(dir, pca, json);
    if (json)
        fclose(json);
    if (rc == 0 && detect)
        rc = detection(dir);
    return rc;
}
