/*
 * test_drift.c — data and prediction drift end to end on the example bundle
 * (examples/model.json: 24 features, 5000-value samples, decile bins,
 * category frequencies, a score reference). Synthetic events are drawn from
 * the reference itself (numeric and score values resampled from the samples,
 * categories and booleans by their proportions, missing values at the
 * reference's missing rate), so a stationary stream must raise nothing, and a
 * shift of one feature must raise data changes for exactly that feature.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "drift_test.h"

typedef struct {
    weir_model_t *model;
    size_t features;
    weir_value_t *values;
    char shifted_category[32];
} stream_t;

static size_t feature_index(const weir_model_t *m, const char *name)
{
    for (size_t i = 0; i < weir_model_feature_count(m); i++)
        if (!strcmp(weir_model_feature(m, i)->name, name))
            return i;
    cr_assert_fail("no feature %s", name);
    return 0;
}

/* One event drawn from the reference; @p amount_factor scales "amount",
 * @p travel_share pushes that share of merchant_category to "travel". */
static double draw_event(stream_t *s, drift_rng_t *r, double amount_factor, double travel_share)
{
    for (size_t i = 0; i < s->features; i++) {
        const weir_reference_t *ref = weir_model_reference(s->model, i);
        weir_value_t *v = &s->values[i];
        v->kind = WEIR_VALUE_MISSING;
        if (!ref)
            continue;
        if (isfinite(ref->missing_rate) && drift_rng_uniform(r) < ref->missing_rate)
            continue;
        if (ref->type == WEIR_FEATURE_CATEGORICAL) {
            double u = drift_rng_uniform(r), acc = 0.0;
            size_t c = 0;
            while (c + 1 < ref->category_count && (acc += ref->category_proportions[c]) <= u)
                c++;
            v->kind = WEIR_VALUE_STRING;
            v->string = ref->categories[c];
            v->length = strlen(ref->categories[c]);
            if (!strcmp(ref->name, "merchant_category") && drift_rng_uniform(r) < travel_share) {
                v->string = "travel";
                v->length = 6;
            }
        } else {
            v->kind = WEIR_VALUE_NUMBER;
            v->number = ref->sample[drift_rng_below(r, ref->sample_len)];
            if (!strcmp(ref->name, "amount"))
                v->number = round(v->number * amount_factor * 100) / 100;
        }
    }
    const weir_reference_t *score = weir_model_score_reference(s->model);
    return score->sample[drift_rng_below(r, score->sample_len)];
}

static void stream_open(stream_t *s)
{
    s->model = drift_test_example_model();
    s->features = weir_model_feature_count(s->model);
    s->values = calloc(s->features, sizeof(weir_value_t));
}

static void stream_close(stream_t *s)
{
    free(s->values);
    weir_model_destroy(s->model);
}

/* Runs @p events events (the shift starts at @p shift_at) and counts changes
 * per feature into @p per_feature (indexed like the model's features; the
 * last slot counts prediction changes). Returns the first alert's event index
 * after the shift, or -1. */
static long run(stream_t *s, weir_drift_t *d, uint64_t seed, long events, long shift_at,
                double amount_factor, double travel_share, int *per_feature)
{
    drift_rng_t r;
    long first = -1;
    drift_rng_seed(&r, seed);
    for (long e = 0; e < events; e++) {
        int shifted = shift_at >= 0 && e >= shift_at;
        double score =
            draw_event(s, &r, shifted ? amount_factor : 1.0, shifted ? travel_share : 0.0);
        weir_drift_observe(d, s->values, score, e * 50);
        if (!weir_drift_due(d, e * 50))
            continue;
        const weir_drift_change_t *changes;
        size_t n;
        cr_assert_eq(weir_drift_evaluate(d, e * 50, &changes, &n), 0);
        for (size_t i = 0; i < n; i++) {
            const weir_drift_change_t *c = &changes[i];
            if (c->kind == WEIR_DRIFT_RECOVERED)
                continue;
            /* the feature set's keys: the resampled stream keeps no correlation
               between features, and a shift of one moves the PCA error too */
            if (c->test == WEIR_DRIFT_PCA || c->test == WEIR_DRIFT_DATASET)
                continue;
            if (c->feature)
                per_feature[feature_index(s->model, c->feature)]++;
            else
                per_feature[s->features]++;
            if (first < 0 && shifted)
                first = e;
            cr_assert_geq(c->effect, c->threshold);
        }
    }
    return first;
}

Test(drift, example_bundle_monitors_every_feature_and_the_score)
{
    stream_t s;
    stream_open(&s);
    weir_drift_t *d;
    char err[256];
    cr_assert_eq(weir_drift_new(s.model, NULL, &d, err, sizeof(err)), 0, "%s", err);
    /* 17 numeric x 6 (ks, psi, wasserstein, js, missing, range) + 5 categorical x 5
       (chi2, psi, js, missing, unknown) + 2 boolean x 4 (chi2, psi, js, missing) + the
       score x 5 (ks, psi, wasserstein, js, cbpe) + the dataset verdict + pca */
    size_t keys = weir_drift_stat_count(d), numeric = 0, categorical = 0, score = 0, dataset = 0,
           pca = 0;
    for (size_t i = 0; i < keys; i++) {
        const weir_drift_stat_t *st = weir_drift_stat(d, i);
        if (st->test == WEIR_DRIFT_DATASET)
            dataset++;
        else if (st->test == WEIR_DRIFT_PCA)
            pca++;
        else if (!st->feature)
            score++;
        else if (st->test == WEIR_DRIFT_CHI2)
            categorical++;
        else if (st->test == WEIR_DRIFT_KS)
            numeric++;
        cr_assert(isnan(st->statistic));
    }
    cr_assert_eq(numeric, 17);
    cr_assert_eq(categorical, 7, "5 categorical and 2 boolean features");
    cr_assert_eq(score, 5);
    cr_assert_eq(dataset, 1);
    cr_assert_eq(pca, 1);
    cr_assert_eq(keys, 17 * 6 + 5 * 5 + 2 * 4 + 5 + 1 + 1);
    cr_assert_eq(weir_drift_feature_count(d), 24);
    weir_drift_destroy(d);
    stream_close(&s);
}

Test(drift, stationary_stream_raises_no_change)
{
    stream_t s;
    stream_open(&s);
    weir_drift_t *d;
    char err[256];
    int per_feature[64] = {0};
    cr_assert_eq(weir_drift_new(s.model, NULL, &d, err, sizeof(err)), 0, "%s", err);
    run(&s, d, 11, 80000, -1, 1.0, 0.0, per_feature);
    for (size_t i = 0; i <= s.features; i++)
        cr_assert_eq(per_feature[i], 0, "%s: %d changes on a stationary stream",
                     i < s.features ? weir_model_feature(s.model, i)->name : "score",
                     per_feature[i]);
    cr_assert_eq(weir_drift_evaluations(d), 80);
    /* every key ran */
    for (size_t i = 0; i < weir_drift_stat_count(d); i++) {
        const weir_drift_stat_t *st = weir_drift_stat(d, i);
        cr_assert(st->evaluated, "%s/%s did not run", st->feature ? st->feature : "score",
                  weir_drift_test_name(st->test));
        cr_assert_eq(st->state, WEIR_SEVERITY_INFO);
    }
    weir_drift_destroy(d);
    stream_close(&s);
}

Test(drift, amount_scaled_by_1_5_alerts_on_amount_only)
{
    stream_t s;
    stream_open(&s);
    weir_drift_t *d;
    char err[256];
    int per_feature[64] = {0};
    cr_assert_eq(weir_drift_new(s.model, NULL, &d, err, sizeof(err)), 0, "%s", err);
    long first = run(&s, d, 12, 40000, 20000, 1.5, 0.0, per_feature);
    size_t amount = feature_index(s.model, "amount");
    cr_assert_gt(per_feature[amount], 0, "amount drift not flagged");
    cr_assert(first >= 20000 && first < 20000 + 10000, "detected at %ld", first);
    cr_log_info("amount x1.5: first alert %ld events after the shift", first - 20000);
    for (size_t i = 0; i <= s.features; i++)
        if (i != amount)
            cr_assert_eq(per_feature[i], 0, "%s flagged too",
                         i < s.features ? weir_model_feature(s.model, i)->name : "score");
    weir_drift_destroy(d);
    stream_close(&s);
}

Test(drift, half_of_merchant_category_pushed_to_travel_alerts_on_it_only)
{
    stream_t s;
    stream_open(&s);
    weir_drift_t *d;
    char err[256];
    int per_feature[64] = {0};
    cr_assert_eq(weir_drift_new(s.model, NULL, &d, err, sizeof(err)), 0, "%s", err);
    long first = run(&s, d, 13, 40000, 20000, 1.0, 0.5, per_feature);
    size_t cat = feature_index(s.model, "merchant_category");
    cr_assert_gt(per_feature[cat], 0);
    cr_assert(first >= 20000 && first < 20000 + 4000, "detected at %ld", first);
    cr_log_info("merchant_category: first alert %ld events after the shift", first - 20000);
    for (size_t i = 0; i <= s.features; i++)
        if (i != cat)
            cr_assert_eq(per_feature[i], 0, "%s flagged too",
                         i < s.features ? weir_model_feature(s.model, i)->name : "score");
    const weir_drift_stat_t *chi2 = NULL;
    for (size_t i = 0; i < weir_drift_stat_count(d); i++) {
        const weir_drift_stat_t *st = weir_drift_stat(d, i);
        if (st->feature && !strcmp(st->feature, "merchant_category") && st->test == WEIR_DRIFT_CHI2)
            chi2 = st;
    }
    cr_assert_not_null(chi2);
    cr_assert_eq(chi2->state, WEIR_SEVERITY_CRITICAL);
    cr_assert_lt(chi2->p_adjusted, 1e-10);
    weir_drift_destroy(d);
    stream_close(&s);
}

Test(drift, shift_recovers_after_it_ends)
{
    stream_t s;
    stream_open(&s);
    weir_drift_t *d;
    char err[256];
    drift_rng_t r;
    int alerts = 0, recoveries = 0;
    cr_assert_eq(weir_drift_new(s.model, NULL, &d, err, sizeof(err)), 0, "%s", err);
    drift_rng_seed(&r, 14);
    for (long e = 0; e < 40000; e++) {
        int shifted = e >= 10000 && e < 20000;
        double score = draw_event(&s, &r, 1.0, shifted ? 0.5 : 0.0);
        weir_drift_observe(d, s.values, score, e);
        if (weir_drift_due(d, e)) {
            const weir_drift_change_t *c;
            size_t n;
            weir_drift_evaluate(d, e, &c, &n);
            for (size_t i = 0; i < n; i++) {
                if (c[i].kind == WEIR_DRIFT_RECOVERED) {
                    recoveries++;
                    cr_assert_eq(c[i].recovered_from, WEIR_DRIFT_DATA);
                    cr_assert_eq(c[i].severity, WEIR_SEVERITY_INFO);
                } else {
                    cr_assert_eq(c[i].kind, WEIR_DRIFT_DATA);
                    alerts++;
                }
            }
        }
    }
    cr_assert_gt(alerts, 0);
    cr_assert_gt(recoveries, 0);
    for (size_t i = 0; i < weir_drift_stat_count(d); i++)
        cr_assert_eq(weir_drift_stat(d, i)->state, WEIR_SEVERITY_INFO, "every key recovered");
    weir_drift_destroy(d);
    stream_close(&s);
}

Test(drift, batch_report_is_one_evaluation_of_a_window_holding_the_whole_file)
{
    stream_t s;
    stream_open(&s);
    weir_drift_config_t cfg;
    weir_drift_config_default(&cfg);
    cfg.window = 30000; /* >= the file */
    cfg.k_fail = 1;
    weir_drift_t *d;
    char err[256];
    drift_rng_t r;
    cr_assert_eq(weir_drift_new(s.model, &cfg, &d, err, sizeof(err)), 0, "%s", err);
    drift_rng_seed(&r, 15);
    for (long e = 0; e < 12345; e++) {
        double score = draw_event(&s, &r, 1.6, 0.0);
        weir_drift_observe(d, s.values, score, 1000 + e);
    }
    const weir_drift_change_t *c;
    size_t n;
    cr_assert_eq(weir_drift_evaluate(d, 1000 + 12345, &c, &n), 0);
    cr_assert_geq(n, 1);
    for (size_t i = 0; i < n; i++) {
        if (c[i].test == WEIR_DRIFT_PCA) /* amount is one of the PCA's inputs */
            continue;
        cr_assert_str_eq(c[i].feature, "amount");
        cr_assert_eq(c[i].window_start_ms, 1000);
        cr_assert_eq(c[i].window_end_ms, 1000 + 12344);
        cr_assert_eq(c[i].window_count, 12345, "amount is never missing");
    }
    cr_assert_eq(weir_drift_window_count(d), 12345);
    weir_drift_destroy(d);
    stream_close(&s);
}

Test(drift, time_window_keeps_only_the_last_t_milliseconds)
{
    stream_t s;
    stream_open(&s);
    weir_drift_config_t cfg;
    weir_drift_config_default(&cfg);
    cfg.time_window_ms = 1000;
    cfg.window = 100000;
    weir_drift_t *d;
    char err[256];
    drift_rng_t r;
    cr_assert_eq(weir_drift_new(s.model, &cfg, &d, err, sizeof(err)), 0, "%s", err);
    drift_rng_seed(&r, 16);
    for (long e = 0; e < 5000; e++) {
        double score = draw_event(&s, &r, 1.0, 0.0);
        weir_drift_observe(d, s.values, score, e); /* one event per ms */
    }
    cr_assert_eq(weir_drift_window_count(d), 1000, "events 4000..4999");
    const weir_drift_change_t *c;
    size_t n;
    weir_drift_evaluate(d, 5500, &c, &n); /* now: events after 4500 remain */
    cr_assert_eq(weir_drift_window_count(d), 499);
    weir_drift_destroy(d);
    stream_close(&s);
}

Test(drift, due_after_step_events_or_step_time)
{
    stream_t s;
    stream_open(&s);
    weir_drift_config_t cfg;
    weir_drift_config_default(&cfg);
    cfg.step = 10;
    cfg.step_ms = 100;
    weir_drift_t *d;
    char err[256];
    drift_rng_t r;
    cr_assert_eq(weir_drift_new(s.model, &cfg, &d, err, sizeof(err)), 0, "%s", err);
    drift_rng_seed(&r, 17);
    cr_assert_not(weir_drift_due(d, 0));
    for (int e = 0; e < 9; e++)
        weir_drift_observe(d, s.values, draw_event(&s, &r, 1, 0), e);
    cr_assert_not(weir_drift_due(d, 9));
    cr_assert(weir_drift_due(d, 100), "step_ms passed");
    weir_drift_observe(d, s.values, draw_event(&s, &r, 1, 0), 9);
    cr_assert(weir_drift_due(d, 9), "step events");
    const weir_drift_change_t *c;
    size_t n;
    weir_drift_evaluate(d, 9, &c, &n);
    cr_assert_not(weir_drift_due(d, 9));
    weir_drift_destroy(d);
    stream_close(&s);
}

Test(drift, unknown_and_missing_values_are_tolerated)
{
    stream_t s;
    stream_open(&s);
    weir_drift_t *d;
    char err[256];
    cr_assert_eq(weir_drift_new(s.model, NULL, &d, err, sizeof(err)), 0, "%s", err);
    for (size_t i = 0; i < s.features; i++)
        s.values[i] = (weir_value_t){.kind = WEIR_VALUE_STRING, .string = "???", .length = 3};
    for (int e = 0; e < 10; e++)
        weir_drift_observe(d, s.values, NAN, e);
    for (size_t i = 0; i < s.features; i++)
        s.values[i] = (weir_value_t){.kind = WEIR_VALUE_NUMBER, .number = INFINITY};
    for (int e = 0; e < 10; e++)
        weir_drift_observe(d, s.values, INFINITY, e);
    const weir_drift_change_t *c;
    size_t n;
    cr_assert_eq(weir_drift_evaluate(d, 10, &c, &n), 0);
    cr_assert_eq(n, 0);
    weir_drift_destroy(d);
    stream_close(&s);
}
