/*
 * test_detectors.c — DDM, ADWIN and Page-Hinkley flag drift at exactly the
 * indices River 0.26.1 flags on the same streams with the same parameters
 * (golden/detectors.json: stationary, abrupt, gradual, recurring and long 0/1
 * error streams, and a real-valued absolute-error stream).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "drift.h"
#include "drift_test.h"
#include "support.h"

static json_t *golden;

static void load(void)
{
    golden = weir_test_load_json("drift/golden/detectors.json");
}

static void unload(void)
{
    json_decref(golden);
}

TestSuite(detectors, .init = load, .fini = unload);

/* The values of a named stream. */
static double *stream(const char *name, size_t *n)
{
    if (strcmp(name, "real") == 0)
        return drift_test_numbers(json_object_get(golden, "real"), n, 0);
    const char *bits = json_string_value(json_object_get(json_object_get(golden, "streams"), name));
    cr_assert_not_null(bits, "no stream %s", name);
    *n = strlen(bits);
    double *x = malloc(*n * sizeof(double));
    for (size_t i = 0; i < *n; i++)
        x[i] = bits[i] == '1';
    return x;
}

static double param(json_t *params, const char *key, double fallback)
{
    json_t *v = json_object_get(params, key);
    return v ? json_number_value(v) : fallback;
}

/* Runs every golden case of one detector and compares the detection indices. */
static void check(const char *detector)
{
    json_t *cases = json_object_get(golden, "cases"), *c;
    size_t i, ran = 0, detections = 0;
    json_array_foreach(cases, i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "detector")), detector) != 0)
            continue;
        json_t *params = json_object_get(c, "params"), *want = json_object_get(c, "drifts");
        const char *name = json_string_value(json_object_get(c, "stream"));
        size_t n, found = 0;
        double *x = stream(name, &n);
        weir_ddm_t ddm;
        weir_adwin_t adwin;
        weir_page_hinkley_t ph;
        if (!strcmp(detector, "ddm")) {
            weir_ddm_params_t p;
            weir_ddm_params_default(&p);
            p.warm_start = (uint64_t)param(params, "warm_start", (double)p.warm_start);
            p.warning_threshold = param(params, "warning_threshold", p.warning_threshold);
            p.drift_threshold = param(params, "drift_threshold", p.drift_threshold);
            weir_ddm_init(&ddm, &p);
        } else if (!strcmp(detector, "adwin")) {
            weir_adwin_params_t p;
            weir_adwin_params_default(&p);
            p.delta = param(params, "delta", p.delta);
            p.clock = (int)param(params, "clock", p.clock);
            p.max_buckets = (int)param(params, "max_buckets", p.max_buckets);
            p.min_window_length = (int)param(params, "min_window_length", p.min_window_length);
            p.grace_period = (int)param(params, "grace_period", p.grace_period);
            cr_assert_eq(weir_adwin_init(&adwin, &p), 0);
        } else {
            weir_ph_params_t p;
            weir_page_hinkley_params_default(&p);
            p.min_instances = (uint64_t)param(params, "min_instances", (double)p.min_instances);
            p.delta = param(params, "delta", p.delta);
            p.threshold = param(params, "threshold", p.threshold);
            p.alpha = param(params, "alpha", p.alpha);
            const char *mode = json_string_value(json_object_get(params, "mode"));
            if (mode)
                p.mode = !strcmp(mode, "up")     ? WEIR_PH_UP
                         : !strcmp(mode, "down") ? WEIR_PH_DOWN
                                                 : WEIR_PH_BOTH;
            weir_page_hinkley_init(&ph, &p);
        }
        for (size_t k = 0; k < n; k++) {
            int hit = !strcmp(detector, "ddm")     ? weir_ddm_update(&ddm, x[k])
                      : !strcmp(detector, "adwin") ? weir_adwin_update(&adwin, x[k])
                                                   : weir_page_hinkley_update(&ph, x[k]);
            if (!hit)
                continue;
            cr_assert_lt(found, json_array_size(want),
                         "%s on %s (case %zu): extra detection at %zu", detector, name, i, k);
            cr_assert_eq((size_t)json_integer_value(json_array_get(want, found)), k,
                         "%s on %s (case %zu): detection %zu at %zu, River at %lld", detector, name,
                         i, found, k, (long long)json_integer_value(json_array_get(want, found)));
            found++;
        }
        cr_assert_eq(found, json_array_size(want), "%s on %s (case %zu): %zu detections, River %zu",
                     detector, name, i, found, json_array_size(want));
        if (!strcmp(detector, "adwin"))
            weir_adwin_dispose(&adwin);
        detections += found;
        ran++;
        free(x);
    }
    cr_assert_gt(ran, 5);
    cr_assert_gt(detections, 5);
}

Test(detectors, ddm_flags_drift_at_rivers_indices)
{
    check("ddm");
}

Test(detectors, adwin_flags_drift_at_rivers_indices)
{
    check("adwin");
}

Test(detectors, page_hinkley_flags_drift_at_rivers_indices)
{
    check("page_hinkley");
}

Test(detectors, ddm_needs_more_than_warm_start_values)
{
    weir_ddm_t d;
    weir_ddm_init(&d, NULL);
    /* all errors after all-correct values: nothing before value 31 */
    for (int i = 0; i < 30; i++)
        cr_assert_eq(weir_ddm_update(&d, i < 15 ? 0.0 : 1.0), 0);
    cr_assert_eq(d.n, 30.0);
}

Test(detectors, detector_starts_afresh_after_a_detection)
{
    weir_page_hinkley_t ph;
    weir_ph_params_t p;
    weir_page_hinkley_params_default(&p);
    p.threshold = 1.0;
    p.min_instances = 5;
    weir_page_hinkley_init(&ph, &p);
    int hit = 0;
    for (int i = 0; i < 200 && !hit; i++)
        hit = weir_page_hinkley_update(&ph, i < 100 ? 0.0 : 5.0);
    cr_assert(hit);
    weir_page_hinkley_update(&ph, 5.0);
    cr_assert_eq(ph.n, 1.0, "the update after a detection sees a reset detector");
}

Test(detectors, adwin_refuses_bad_parameters)
{
    weir_adwin_t a;
    weir_adwin_params_t p;
    weir_adwin_params_default(&p);
    p.delta = 0.0;
    cr_assert_eq(weir_adwin_init(&a, &p), WEIR_EINVAL);
    weir_adwin_params_default(&p);
    p.max_buckets = 0;
    cr_assert_eq(weir_adwin_init(&a, &p), WEIR_EINVAL);
}

Test(detectors, adwin_keeps_a_logarithmic_number_of_rows)
{
    weir_adwin_t a;
    cr_assert_eq(weir_adwin_init(&a, NULL), 0);
    for (int i = 0; i < 1000000; i++)
        weir_adwin_update(&a, (double)(i % 2));
    cr_assert_eq(a.width, 1000000.0);
    cr_assert_leq(a.rows, 20);
    cr_assert_float_eq(weir_adwin_mean(&a), 0.5, 1e-12);
    weir_adwin_dispose(&a);
}
