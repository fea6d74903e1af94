/*
 * config.c — the drift configuration: documented defaults (docs/drift.md says
 * why each was chosen), "key=value" parsing for the drift.* keys that the
 * service's config file forwards, and a whole-configuration check. Every
 * refusal names the key at fault.
 */
#include "drift_int.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const test_names[WEIR_DRIFT_TEST__COUNT] = {
    "ks",          "psi",     "wasserstein", "js",    "chi2", "ddm",  "adwin",  "page_hinkley",
    "performance", "missing", "unknown",     "range", "pca",  "cbpe", "dataset"};

#define DISTRIBUTION_TESTS                                                                         \
    (WEIR_DRIFT_BIT(WEIR_DRIFT_KS) | WEIR_DRIFT_BIT(WEIR_DRIFT_PSI) |                              \
     WEIR_DRIFT_BIT(WEIR_DRIFT_WASSERSTEIN) | WEIR_DRIFT_BIT(WEIR_DRIFT_JS))
#define NUMERIC_TESTS                                                                              \
    (DISTRIBUTION_TESTS | WEIR_DRIFT_BIT(WEIR_DRIFT_MISSING) | WEIR_DRIFT_BIT(WEIR_DRIFT_RANGE))
#define SCORE_TESTS (DISTRIBUTION_TESTS | WEIR_DRIFT_BIT(WEIR_DRIFT_CBPE))
#define CATEGORICAL_TESTS                                                                          \
    (WEIR_DRIFT_BIT(WEIR_DRIFT_CHI2) | WEIR_DRIFT_BIT(WEIR_DRIFT_PSI) |                            \
     WEIR_DRIFT_BIT(WEIR_DRIFT_JS) | WEIR_DRIFT_BIT(WEIR_DRIFT_MISSING) |                          \
     WEIR_DRIFT_BIT(WEIR_DRIFT_UNKNOWN))
#define MULTIVARIATE_TESTS (WEIR_DRIFT_BIT(WEIR_DRIFT_DATASET) | WEIR_DRIFT_BIT(WEIR_DRIFT_PCA))
#define CONCEPT_TESTS                                                                              \
    (WEIR_DRIFT_BIT(WEIR_DRIFT_DDM) | WEIR_DRIFT_BIT(WEIR_DRIFT_ADWIN) |                           \
     WEIR_DRIFT_BIT(WEIR_DRIFT_PAGE_HINKLEY) | WEIR_DRIFT_BIT(WEIR_DRIFT_PERFORMANCE))

const char *weir_drift_test_name(weir_drift_test_t t)
{
    return (unsigned)t < WEIR_DRIFT_TEST__COUNT ? test_names[t] : "unknown";
}

int weir_drift_test_parse(const char *s, size_t len, weir_drift_test_t *out)
{
    for (int t = 0; t < WEIR_DRIFT_TEST__COUNT; t++)
        if (strlen(test_names[t]) == len && memcmp(test_names[t], s, len) == 0) {
            *out = (weir_drift_test_t)t;
            return 0;
        }
    return WEIR_EINVAL;
}

const char *weir_drift_kind_name(weir_drift_kind_t k)
{
    static const char *const names[] = {"data", "prediction", "concept", "recovered"};
    return (unsigned)k < 4 ? names[k] : "unknown";
}

const char *weir_drift_severity_name(weir_drift_severity_t s)
{
    static const char *const names[] = {"info", "warning", "critical"};
    return (unsigned)s < 3 ? names[s] : "unknown";
}

void weir_drift_config_default(weir_drift_config_t *c)
{
    memset(c, 0, sizeof(*c));
    c->enabled = 1;
    c->window = 5000;
    c->step = 1000;
    c->min_count = 100;
    c->alpha = 0.05;
    c->correction = WEIR_CORRECTION_BONFERRONI;
    c->numeric_tests = NUMERIC_TESTS;
    c->categorical_tests = CATEGORICAL_TESTS;
    c->score_tests = SCORE_TESTS;
    c->multivariate_tests = MULTIVARIATE_TESTS;
    c->share = 0.5;
    c->calibration_draws = 200;
    for (int t = 0; t < WEIR_DRIFT_TEST__COUNT; t++)
        c->min_effect[t] = NAN;
    c->min_effect[WEIR_DRIFT_KS] = 0.1;
    c->min_effect[WEIR_DRIFT_PSI] = 0.2;
    c->min_effect[WEIR_DRIFT_WASSERSTEIN] = 0.15;
    c->min_effect[WEIR_DRIFT_JS] = 0.1;
    c->min_effect[WEIR_DRIFT_CHI2] = 0.1;
    c->min_effect[WEIR_DRIFT_PERFORMANCE] = 0.3;
    /* Cohen's h of 0.2 ("small"): 2% -> 6% missing, 0% -> 1% */
    c->min_effect[WEIR_DRIFT_MISSING] = 0.2;
    c->min_effect[WEIR_DRIFT_UNKNOWN] = 0.2;
    c->min_effect[WEIR_DRIFT_RANGE] = 0.2;
    /* standardised increase of the mean reconstruction error */
    c->min_effect[WEIR_DRIFT_PCA] = 0.2;
    c->min_effect[WEIR_DRIFT_CBPE] = 0.1; /* the dataset's threshold is drift.share */
    c->critical_factor = 2.0;
    c->psi_epsilon = 1e-4;
    c->min_expected = 5.0;
    c->max_cells = 20;
    c->k_fail = 2;
    c->m_pass = 3;
    c->cooldown = 5;
    c->concept_window = 50000;
    c->concept_min_count = 500;
    c->concept_k_fail = 1;
    c->concept_tests = CONCEPT_TESTS;
    weir_ddm_params_default(&c->ddm);
    /* River's 30 lets p_min = 0 on a 1%-error stream; with 1000 the minimum
     * error rate, estimated from ~10 errors, still made DDM fire on stationary
     * streams (1 in 4 of 1M-pair runs); 20000 pairs (~200 errors) did not. */
    c->ddm.warm_start = 20000;
    weir_adwin_params_default(&c->adwin);
    weir_page_hinkley_params_default(&c->page_hinkley);
    c->page_hinkley.mode = WEIR_PH_UP;
}

/* ---- value parsers ------------------------------------------------------ */

static int parse_u64(const char *v, uint64_t *out)
{
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*v))
        return WEIR_EINVAL;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno || *end)
        return WEIR_EINVAL;
    *out = n;
    return 0;
}

static int parse_u32(const char *v, uint32_t *out)
{
    uint64_t n;
    if (parse_u64(v, &n) != 0 || n > UINT32_MAX)
        return WEIR_EINVAL;
    *out = (uint32_t)n;
    return 0;
}

static int parse_int(const char *v, int *out)
{
    uint64_t n;
    if (parse_u64(v, &n) != 0 || n > INT32_MAX)
        return WEIR_EINVAL;
    *out = (int)n;
    return 0;
}

static int parse_bool(const char *v, int *out)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
        *out = 1;
    else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
        *out = 0;
    else
        return WEIR_EINVAL;
    return 0;
}

static int parse_double(const char *v, double *out)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (end == v || *end || errno || !isfinite(d))
        return WEIR_EINVAL;
    *out = d;
    return 0;
}

static int parse_duration(const char *v, int64_t *out)
{
    return weir_parse_duration_ms(v, out) == 0 && *out >= 0 ? 0 : WEIR_EINVAL;
}

/* "ks,psi" -> a test set; "none" (or "") -> 0. Spaces around an item are
 * fine; an empty item ("ks,,psi", "ks,") is refused, as a typo would be. */
static int parse_tests(const char *v, unsigned *out)
{
    unsigned mask = 0;
    const char *p = v;
    while (*p == ' ')
        p++;
    if (*p == '\0') {
        *out = 0;
        return 0;
    }
    for (;;) {
        while (*p == ' ')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && end[-1] == ' ')
            end--;
        size_t len = (size_t)(end - start);
        weir_drift_test_t t;
        if (len == 0)
            return WEIR_EINVAL;
        if (!(len == 4 && memcmp(start, "none", 4) == 0)) {
            if (weir_drift_test_parse(start, len, &t) != 0)
                return WEIR_EINVAL;
            mask |= WEIR_DRIFT_BIT(t);
        }
        if (*p == '\0')
            break;
        p++; /* the comma */
    }
    *out = mask;
    return 0;
}

/* Every feature a bundle can name must be one an override can name. */
_Static_assert(WEIR_DRIFT_NAME_MAX >= WEIR_BUNDLE_MAX_NAME, "drift.feature.NAME: too short");

static weir_drift_override_t *override_for(weir_drift_config_t *c, const char *name, size_t len)
{
    for (size_t i = 0; i < c->n_overrides; i++)
        if (strlen(c->overrides[i].feature) == len &&
            memcmp(c->overrides[i].feature, name, len) == 0)
            return &c->overrides[i];
    if (c->n_overrides == WEIR_DRIFT_MAX_OVERRIDES || len == 0 || len > WEIR_DRIFT_NAME_MAX)
        return NULL;
    weir_drift_override_t *o = &c->overrides[c->n_overrides++];
    memset(o, 0, sizeof(*o));
    memcpy(o->feature, name, len);
    o->feature[len] = '\0';
    for (int t = 0; t < WEIR_DRIFT_TEST__COUNT; t++)
        o->threshold[t] = NAN;
    return o;
}

/* drift.feature.<name>.tests | drift.feature.<name>.<test>.threshold|min_effect */
static int set_feature(weir_drift_config_t *c, const char *key, const char *rest, const char *value,
                       char *err, size_t errsz)
{
    size_t len = strlen(rest);
    weir_drift_override_t *o;
    if (len > 6 && strcmp(rest + len - 6, ".tests") == 0) {
        unsigned tests;
        if (parse_tests(value, &tests) != 0)
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: expected a comma list of tests (ks, psi, wasserstein, js, "
                               "chi2) or none, got \"%s\"",
                               key, value);
        if (!(o = override_for(c, rest, len - 6)))
            goto full;
        o->has_tests = 1;
        o->tests = tests;
        return 0;
    }
    const char *suffix = NULL;
    if (len > 10 && strcmp(rest + len - 10, ".threshold") == 0)
        suffix = rest + len - 10;
    else if (len > 11 && strcmp(rest + len - 11, ".min_effect") == 0)
        suffix = rest + len - 11;
    if (!suffix)
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "%s: unknown key (expected drift.feature.NAME.tests or "
                           "drift.feature.NAME.TEST.threshold)",
                           key);
    const char *dot = suffix;
    while (dot > rest && dot[-1] != '.')
        dot--;
    weir_drift_test_t t;
    double d;
    if (dot == rest || weir_drift_test_parse(dot, (size_t)(suffix - dot), &t) != 0)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: unknown test \"%.*s\"", key,
                           (int)(suffix - dot), dot);
    if (parse_double(value, &d) != 0 || d < 0)
        return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: expected a number >= 0, got \"%s\"", key,
                           value);
    if (!(o = override_for(c, rest, (size_t)(dot - 1 - rest))))
        goto full;
    o->threshold[t] = d;
    return 0;
full:
    return weir_seterr(err, errsz, WEIR_ECONFIG,
                       "%s: feature name empty or longer than %d bytes, or more than %d "
                       "features overridden",
                       key, WEIR_DRIFT_NAME_MAX, WEIR_DRIFT_MAX_OVERRIDES);
}

typedef enum { K_BOOL, K_U64, K_U32, K_INT, K_DOUBLE, K_DURATION, K_TESTS } kind_t;

typedef struct {
    const char *name;
    kind_t kind;
    size_t offset;
} knob_t;

#define KNOB(name, kind, field)                                                                    \
    {                                                                                              \
        name, kind, offsetof(weir_drift_config_t, field)                                           \
    }

static const knob_t knobs[] = {
    KNOB("enabled", K_BOOL, enabled),
    KNOB("window", K_U64, window),
    KNOB("step", K_U64, step),
    KNOB("time_window", K_DURATION, time_window_ms),
    KNOB("step_time", K_DURATION, step_ms),
    KNOB("min_count", K_U64, min_count),
    KNOB("alpha", K_DOUBLE, alpha),
    KNOB("numeric.tests", K_TESTS, numeric_tests),
    KNOB("categorical.tests", K_TESTS, categorical_tests),
    KNOB("score.tests", K_TESTS, score_tests),
    KNOB("multivariate.tests", K_TESTS, multivariate_tests),
    KNOB("share", K_DOUBLE, share),
    KNOB("calibration.draws", K_U32, calibration_draws),
    KNOB("cbpe.max_drop", K_DOUBLE, min_effect[WEIR_DRIFT_CBPE]),
    KNOB("concept.tests", K_TESTS, concept_tests),
    KNOB("critical_factor", K_DOUBLE, critical_factor),
    KNOB("psi.epsilon", K_DOUBLE, psi_epsilon),
    KNOB("chi2.min_expected", K_DOUBLE, min_expected),
    KNOB("categorical.max_cells", K_U32, max_cells),
    KNOB("k_fail", K_U32, k_fail),
    KNOB("m_pass", K_U32, m_pass),
    KNOB("cooldown", K_U32, cooldown),
    KNOB("cooldown_time", K_DURATION, cooldown_ms),
    KNOB("concept.window", K_U64, concept_window),
    KNOB("concept.min_count", K_U64, concept_min_count),
    KNOB("concept.k_fail", K_U32, concept_k_fail),
    KNOB("performance.max_drop", K_DOUBLE, min_effect[WEIR_DRIFT_PERFORMANCE]),
    KNOB("ddm.warm_start", K_U64, ddm.warm_start),
    KNOB("ddm.warning_threshold", K_DOUBLE, ddm.warning_threshold),
    KNOB("ddm.drift_threshold", K_DOUBLE, ddm.drift_threshold),
    KNOB("adwin.delta", K_DOUBLE, adwin.delta),
    KNOB("adwin.clock", K_INT, adwin.clock),
    KNOB("adwin.max_buckets", K_INT, adwin.max_buckets),
    KNOB("adwin.min_window_length", K_INT, adwin.min_window_length),
    KNOB("adwin.grace_period", K_INT, adwin.grace_period),
    KNOB("page_hinkley.min_instances", K_U64, page_hinkley.min_instances),
    KNOB("page_hinkley.delta", K_DOUBLE, page_hinkley.delta),
    KNOB("page_hinkley.threshold", K_DOUBLE, page_hinkley.threshold),
    KNOB("page_hinkley.alpha", K_DOUBLE, page_hinkley.alpha),
};

int weir_drift_config_set(weir_drift_config_t *c, const char *key, const char *value, char *err,
                          size_t errsz)
{
    const char *k = strncmp(key, "drift.", 6) == 0 ? key + 6 : key;
    if (!value)
        value = "";
    if (strncmp(k, "feature.", 8) == 0)
        return set_feature(c, key, k + 8, value, err, errsz);
    if (strcmp(k, "correction") == 0) {
        if (strcmp(value, "bonferroni") == 0)
            c->correction = WEIR_CORRECTION_BONFERRONI;
        else if (strcmp(value, "bh") == 0)
            c->correction = WEIR_CORRECTION_BH;
        else if (strcmp(value, "none") == 0)
            c->correction = WEIR_CORRECTION_NONE;
        else
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: expected bonferroni, bh or none, got \"%s\"", key, value);
        return 0;
    }
    if (strcmp(k, "page_hinkley.mode") == 0) {
        if (strcmp(value, "up") == 0)
            c->page_hinkley.mode = WEIR_PH_UP;
        else if (strcmp(value, "down") == 0)
            c->page_hinkley.mode = WEIR_PH_DOWN;
        else if (strcmp(value, "both") == 0)
            c->page_hinkley.mode = WEIR_PH_BOTH;
        else
            return weir_seterr(err, errsz, WEIR_ECONFIG,
                               "%s: expected up, down or both, got \"%s\"", key, value);
        return 0;
    }
    /* drift.<test>.min_effect and drift.<test>.threshold */
    const char *dot = strchr(k, '.');
    weir_drift_test_t t;
    if (dot && (strcmp(dot, ".min_effect") == 0 || strcmp(dot, ".threshold") == 0) &&
        weir_drift_test_parse(k, (size_t)(dot - k), &t) == 0) {
        double d;
        if (parse_double(value, &d) != 0 || d < 0)
            return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: expected a number >= 0, got \"%s\"",
                               key, value);
        c->min_effect[t] = d;
        return 0;
    }
    for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
        const knob_t *kn = &knobs[i];
        if (strcmp(k, kn->name) != 0)
            continue;
        void *field = (char *)c + kn->offset;
        int rc;
        const char *expected;
        switch (kn->kind) {
        case K_BOOL:
            rc = parse_bool(value, field);
            expected = "true or false";
            break;
        case K_U64:
            rc = parse_u64(value, field);
            expected = "a non-negative integer";
            break;
        case K_U32:
            rc = parse_u32(value, field);
            expected = "a non-negative integer";
            break;
        case K_INT:
            rc = parse_int(value, field);
            expected = "a non-negative integer";
            break;
        case K_DOUBLE:
            rc = parse_double(value, field);
            expected = "a number";
            break;
        case K_DURATION:
            rc = parse_duration(value, field);
            expected = "a duration such as 30s, 5m, 24h or milliseconds";
            break;
        default:
            rc = parse_tests(value, field);
            expected = "a comma list of tests, or none";
            break;
        }
        if (rc != 0)
            return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: expected %s, got \"%s\"", key,
                               expected, value);
        return 0;
    }
    return weir_seterr(err, errsz, WEIR_ECONFIG, "%s: unknown drift setting", key);
}

int weir_drift_config_check(const weir_drift_config_t *c, char *err, size_t errsz)
{
#define BAD(key, ...) return weir_seterr(err, errsz, WEIR_ECONFIG, "drift." key ": " __VA_ARGS__)
    if (c->window < 1 || c->window > WEIR_DRIFT_WINDOW_MAX)
        BAD("window", "must be 1 to %llu", (unsigned long long)WEIR_DRIFT_WINDOW_MAX);
    if (c->step < 1)
        BAD("step", "must be >= 1");
    if (c->time_window_ms < 0 || c->step_ms < 0 || c->cooldown_ms < 0)
        BAD("time_window", "durations must be >= 0");
    if (c->min_count < 1)
        BAD("min_count", "must be >= 1");
    if (!(c->alpha > 0.0 && c->alpha < 1.0))
        BAD("alpha", "must be between 0 and 1");
    if ((unsigned)c->correction > WEIR_CORRECTION_NONE)
        BAD("correction", "unknown method");
    if (c->numeric_tests & ~NUMERIC_TESTS)
        BAD("numeric.tests",
            "only ks, psi, wasserstein, js, missing and range apply to numeric features");
    if (c->score_tests & ~SCORE_TESTS)
        BAD("score.tests", "only ks, psi, wasserstein, js and cbpe apply to the score");
    if (c->categorical_tests & ~CATEGORICAL_TESTS)
        BAD("categorical.tests",
            "only chi2, psi, js, missing and unknown apply to categorical features");
    if (c->multivariate_tests & ~MULTIVARIATE_TESTS)
        BAD("multivariate.tests", "only dataset and pca apply to the feature set");
    if (!(c->share > 0.0 && c->share <= 1.0))
        BAD("share", "must be in (0, 1]");
    if (c->calibration_draws < 20 || c->calibration_draws > 100000)
        BAD("calibration.draws", "must be 20 to 100000");
    if (c->concept_tests & ~CONCEPT_TESTS)
        BAD("concept.tests", "only ddm, adwin, page_hinkley and performance apply");
    for (int t = 0; t < WEIR_DRIFT_TEST__COUNT; t++) {
        int used = t <= WEIR_DRIFT_CHI2 || (t >= WEIR_DRIFT_PERFORMANCE && t != WEIR_DRIFT_DATASET);
        if (used && !(c->min_effect[t] >= 0.0 && isfinite(c->min_effect[t])))
            return weir_seterr(err, errsz, WEIR_ECONFIG, "drift.%s.min_effect: must be >= 0",
                               test_names[t]);
    }
    if (!(c->critical_factor >= 1.0))
        BAD("critical_factor", "must be >= 1");
    if (!(c->psi_epsilon > 0.0 && c->psi_epsilon < 1.0))
        BAD("psi.epsilon", "must be between 0 and 1");
    if (!(c->min_expected >= 0.0))
        BAD("chi2.min_expected", "must be >= 0");
    if (c->max_cells < 2 || c->max_cells > 65536)
        BAD("categorical.max_cells", "must be 2 to 65536");
    if (c->k_fail < 1)
        BAD("k_fail", "must be >= 1");
    if (c->m_pass < 1)
        BAD("m_pass", "must be >= 1");
    if (c->concept_window < 1 || c->concept_window > WEIR_DRIFT_WINDOW_MAX)
        BAD("concept.window", "must be 1 to %llu", (unsigned long long)WEIR_DRIFT_WINDOW_MAX);
    if (c->concept_k_fail < 1)
        BAD("concept.k_fail", "must be >= 1");
    if (!(c->ddm.warning_threshold > 0.0) || !(c->ddm.drift_threshold > 0.0))
        BAD("ddm.drift_threshold", "thresholds must be > 0");
    if (!(c->adwin.delta > 0.0 && c->adwin.delta < 1.0))
        BAD("adwin.delta", "must be between 0 and 1");
    if (c->adwin.clock < 1)
        BAD("adwin.clock", "must be >= 1");
    if (c->adwin.max_buckets < 1 || c->adwin.max_buckets > 1024)
        BAD("adwin.max_buckets", "must be 1 to 1024");
    if (c->adwin.min_window_length < 1)
        BAD("adwin.min_window_length", "must be >= 1");
    if (!(c->page_hinkley.alpha > 0.0 && c->page_hinkley.alpha <= 1.0))
        BAD("page_hinkley.alpha", "must be in (0, 1]");
    if (!(c->page_hinkley.threshold > 0.0))
        BAD("page_hinkley.threshold", "must be > 0");
    if ((unsigned)c->page_hinkley.mode > WEIR_PH_BOTH)
        BAD("page_hinkley.mode", "unknown mode");
    if (c->n_overrides > WEIR_DRIFT_MAX_OVERRIDES)
        BAD("feature", "too many overrides");
#undef BAD
    return 0;
}
