/*
 * drift_bench.c — what data and prediction drift cost: nanoseconds per event
 * (and per monitored series) of weir_drift_observe() at windows of 1k, 10k
 * and 100k events, and the cost of one weir_drift_evaluate() on a full
 * window, separately. The point is the first column staying flat as the
 * window grows: the per-event update is O(log R) in the reference size R and
 * independent of the window. The first line is the service's defaults
 * (window 5,000, step 1,000): observe and evaluate together, per event.
 *
 * Events are drawn from the example bundle's references (numeric values
 * resampled from the reference samples, categories by their frequencies) into
 * a pool before timing, so the timed loop is observe() alone.
 *
 *   drift_bench [model.json] [events-per-window-size] [number of test sets, 1: all only]
 */
#include "drift.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POOL 32768

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static double uniform(void)
{
    return (double)(rng_next() >> 11) * 0x1.0p-53;
}

/* CPU time of this thread: on a machine shared with other work, wall time
 * counts the time the scheduler gave to others. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Fills the pool: features x POOL values and POOL scores. */
static void fill_pool(const weir_model_t *m, weir_value_t *values, double *scores)
{
    size_t nf = weir_model_feature_count(m);
    const weir_reference_t *sref = weir_model_score_reference(m);
    for (size_t e = 0; e < POOL; e++) {
        for (size_t i = 0; i < nf; i++) {
            const weir_reference_t *ref = weir_model_reference(m, i);
            weir_value_t *v = &values[e * nf + i];
            v->kind = WEIR_VALUE_MISSING;
            if (!ref || (isfinite(ref->missing_rate) && uniform() < ref->missing_rate))
                continue;
            if (ref->category_count > 0) {
                double u = uniform(), acc = 0.0;
                size_t c = 0;
                while (c + 1 < ref->category_count && (acc += ref->category_proportions[c]) <= u)
                    c++;
                v->kind = WEIR_VALUE_STRING;
                v->string = ref->categories[c];
                v->length = strlen(ref->categories[c]);
            } else if (ref->sample_len > 0) {
                v->kind = WEIR_VALUE_NUMBER;
                v->number = ref->sample[rng_next() % ref->sample_len];
            }
        }
        scores[e] = sref ? sref->sample[rng_next() % sref->sample_len] : NAN;
    }
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : WEIR_SOURCE_DIR "/examples/model.json";
    uint64_t timed = argc > 2 ? strtoull(argv[2], NULL, 10) : 2000000;
    size_t only = argc > 3 ? (size_t)strtoull(argv[3], NULL, 10) : 0; /* first sets only */
    char err[512];
    weir_model_t *m = NULL;
    int code = 1;
    weir_value_t *values = NULL;
    double *scores = NULL;

    if (weir_model_load(path, &m, err, sizeof(err)) != 0) {
        fprintf(stderr, "drift_bench: %s\n", err);
        goto out;
    }
    size_t nf = weir_model_feature_count(m);
    values = malloc(POOL * nf * sizeof(*values));
    scores = malloc(POOL * sizeof(*scores));
    if (!values || !scores)
        goto out;
    fill_pool(m, values, scores);

    printf("drift_bench: %s, %zu features + score, %llu timed events per row\n", path, nf,
           (unsigned long long)timed);
    printf("(events resampled from the bundle's references; window full before timing)\n\n");
    printf("%-8s %-26s %10s %14s %12s %10s\n", "window", "tests", "ns/event", "ns/event/series",
           "evaluate ms", "us/key");
    static const struct {
        const char *name;
        unsigned numeric, categorical;
    } sets[] = {
        {"all (ks,psi,w1,js / chi2,psi,js)", 0, 0},
        {"ks only", WEIR_DRIFT_BIT(WEIR_DRIFT_KS), WEIR_DRIFT_BIT(WEIR_DRIFT_CHI2)},
        {"wasserstein only", WEIR_DRIFT_BIT(WEIR_DRIFT_WASSERSTEIN),
         WEIR_DRIFT_BIT(WEIR_DRIFT_CHI2)},
        {"psi,js only", WEIR_DRIFT_BIT(WEIR_DRIFT_PSI) | WEIR_DRIFT_BIT(WEIR_DRIFT_JS),
         WEIR_DRIFT_BIT(WEIR_DRIFT_PSI) | WEIR_DRIFT_BIT(WEIR_DRIFT_JS)},
    };
    /* The service's defaults: window 5,000 evaluated every 1,000 events, the
       evaluations inside the timed loop as weir run has them. */
    {
        weir_drift_config_t cfg;
        weir_drift_t *d = NULL;
        weir_drift_config_default(&cfg);
        if (weir_drift_new(m, &cfg, &d, err, sizeof(err)) != 0) {
            fprintf(stderr, "drift_bench: %s\n", err);
            goto out;
        }
        uint64_t e = 0;
        const weir_drift_change_t *changes;
        size_t n;
        for (; e < cfg.window; e++)
            weir_drift_observe(d, &values[(e % POOL) * nf], scores[e % POOL], (int64_t)e);
        double t0 = now_s();
        for (uint64_t i = 0; i < timed; i++, e++) {
            weir_drift_observe(d, &values[(e % POOL) * nf], scores[e % POOL], (int64_t)e);
            if (weir_drift_due(d, (int64_t)e))
                weir_drift_evaluate(d, (int64_t)e, &changes, &n);
        }
        double ns = (now_s() - t0) * 1e9 / (double)timed;
        printf("defaults (window %llu, step %llu): observe + evaluate %.1f ns per event, %.1f per "
               "series\n\n",
               (unsigned long long)cfg.window, (unsigned long long)cfg.step, ns,
               ns / (double)(nf + 1));
        weir_drift_destroy(d);
    }
    static const uint64_t windows[] = {1000, 10000, 100000};
    for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]) && (!only || s < only); s++) {
        for (size_t w = 0; w < sizeof(windows) / sizeof(windows[0]); w++) {
            weir_drift_config_t cfg;
            weir_drift_t *d = NULL;
            weir_drift_config_default(&cfg);
            cfg.window = windows[w];
            cfg.step = UINT64_MAX;
            if (sets[s].numeric) {
                cfg.numeric_tests = cfg.score_tests = sets[s].numeric;
                cfg.categorical_tests = sets[s].categorical;
            }
            if (weir_drift_new(m, &cfg, &d, err, sizeof(err)) != 0) {
                fprintf(stderr, "drift_bench: %s\n", err);
                goto out;
            }
            uint64_t e = 0;
            for (; e < windows[w]; e++) /* fill the window: evictions from here on */
                weir_drift_observe(d, &values[(e % POOL) * nf], scores[e % POOL], (int64_t)e);
            double t0 = now_s();
            for (uint64_t i = 0; i < timed; i++, e++)
                weir_drift_observe(d, &values[(e % POOL) * nf], scores[e % POOL], (int64_t)e);
            double observe_ns = (now_s() - t0) * 1e9 / (double)timed;

            const weir_drift_change_t *changes;
            size_t n;
            int evals = windows[w] >= 100000 ? 5 : 20;
            t0 = now_s();
            for (int i = 0; i < evals; i++)
                weir_drift_evaluate(d, (int64_t)e, &changes, &n);
            double eval_ms = (now_s() - t0) * 1e3 / evals;
            size_t keys = weir_drift_stat_count(d);
            printf("%-8llu %-26.26s %10.1f %14.1f %12.3f %10.1f\n", (unsigned long long)windows[w],
                   sets[s].name, observe_ns, observe_ns / (double)(nf + 1), eval_ms,
                   eval_ms * 1e3 / (double)keys);
            weir_drift_destroy(d);
        }
    }
    code = 0;
out:
    free(values);
    free(scores);
    weir_model_destroy(m);
    return code;
}
