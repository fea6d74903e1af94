/*
 * monitor.c — the service side of drift monitoring: owns the data/prediction
 * drift monitor, the concept monitor, the label join, the label decoder and
 * the buffer of encoded DriftAlert records of the last evaluation. Renders
 * every key's latest statistic, the per-feature and dataset verdicts and the
 * performance estimated without labels (CBPE) beside the realised one.
 *
 * With drift.enabled = false it builds neither the drift nor the concept
 * monitor: events cost nothing here, and /metrics says `weir_drift_enabled 0`
 * and nothing else of drift. Labels, when configured, are still joined, since
 * a rollout's guard reads its counts.
 */
#include "engine.h"
#include "log.h"
#include "prom.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ALERTS 4096

struct weir_monitor {
    weir_monitor_config_t cfg;
    const weir_model_t *model;
    weir_drift_t *drift;
    weir_concept_t *concept;
    weir_label_join_t *join;
    weir_decoder_t *labels;
    uint64_t alerts_by_kind[4];
    uint64_t labels_invalid;
    uint64_t concept_evaluations;
    uint64_t labels_joined, labels_wrong; /* for a rollout's guard */
    /* the last evaluation's records */
    weir_buf_t keys, values;
    weir_monitor_alert_t alerts[MAX_ALERTS];
    size_t n_alerts;
    uint64_t dropped_alerts;
};

int weir_monitor_new(const weir_monitor_config_t *cfg, weir_monitor_t **out, char *err,
                     size_t errsz)
{
    int rc = 0;
    avro_schema_t label_schema = NULL;
    weir_monitor_t *m = calloc(1, sizeof(*m));
    if (!m)
        return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    m->cfg = *cfg;
    m->model = cfg->model;
    weir_buf_init(&m->keys, (size_t)1 << 20);
    weir_buf_init(&m->values, (size_t)8 << 20);
    if (cfg->drift.enabled) {
        if ((rc = weir_drift_new(cfg->model, &cfg->drift, &m->drift, err, errsz)) != 0)
            goto out;
        /* what the reference cannot support is said once, at start */
        for (size_t i = 0; weir_drift_warning(m->drift, i); i++)
            weir_log(WEIR_LOG_WARN, "drift reference", "model", weir_model_name(cfg->model),
                     "detail", weir_drift_warning(m->drift, i), NULL);
    }
    if (cfg->labels) {
        if (cfg->drift.enabled &&
            (rc = weir_concept_new(cfg->model, &cfg->drift, &m->concept, err, errsz)) != 0)
            goto out;
        if ((rc = weir_label_join_new(cfg->labels_max_pending, cfg->labels_ttl_ms, &m->join)) !=
            0) {
            rc =
                weir_seterr(err, errsz, rc, "labels.max_pending/labels.ttl: %s", weir_strerror(rc));
            goto out;
        }
        if ((rc = weir_schema_parse(weir_schema_text("label"), &label_schema, err, errsz)) != 0 ||
            (rc = weir_decoder_new(cfg->label_framing, &m->labels)) != 0 ||
            (rc = weir_decoder_add_schema(m->labels, cfg->label_schema_id, label_schema, err,
                                          errsz)) != 0)
            goto out;
    }
out:
    if (label_schema)
        avro_schema_decref(label_schema);
    if (rc) {
        weir_monitor_destroy(m);
        m = NULL;
    }
    *out = m;
    return rc;
}

void weir_monitor_destroy(weir_monitor_t *m)
{
    if (!m)
        return;
    weir_drift_destroy(m->drift);
    weir_concept_destroy(m->concept);
    weir_label_join_destroy(m->join);
    weir_decoder_destroy(m->labels);
    weir_buf_dispose(&m->keys);
    weir_buf_dispose(&m->values);
    free(m);
}

void weir_monitor_observe(weir_monitor_t *m, const weir_value_t *values, double score,
                          int class_index, const char *event_id, int64_t event_time_ms,
                          int64_t now_ms)
{
    if (m->drift)
        weir_drift_observe(m->drift, values, score, event_time_ms);
    if (m->join)
        weir_label_join_put(m->join, event_id, strlen(event_id), score, class_index, now_ms);
}

static int label_value(const weir_monitor_t *m, avro_value_t *label, double *out, char *detail,
                       size_t detailsz)
{
    return weir_monitor_label_value(m->model, label, out, detail, detailsz);
}

int weir_monitor_label_value(const weir_model_t *model, avro_value_t *label, double *out,
                             char *detail, size_t detailsz)
{
    avro_value_t branch;
    if (avro_value_get_current_branch(label, &branch) != 0)
        return weir_seterr(detail, detailsz, WEIR_EDECODE, "label: no branch");
    weir_task_t task = weir_model_task(model);
    size_t classes = weir_model_class_count(model);
    if (avro_value_get_type(&branch) == AVRO_DOUBLE) {
        double v = NAN;
        avro_value_get_double(&branch, &v);
        if (!isfinite(v))
            return weir_seterr(detail, detailsz, WEIR_EDECODE, "label: not finite");
        if (task != WEIR_TASK_REGRESSION && (v != floor(v) || v < 0 || v >= (double)classes))
            return weir_seterr(detail, detailsz, WEIR_EDECODE,
                               "label: %g is not a class index of %zu classes", v, classes);
        *out = v;
        return 0;
    }
    const char *s = NULL;
    size_t n = 0;
    avro_value_get_string(&branch, &s, &n);
    n = n ? n - 1 : 0; /* avro-c counts the NUL */
    if (task == WEIR_TASK_REGRESSION) {
        char buf[64], *end;
        snprintf(buf, sizeof(buf), "%.*s", (int)(n < 63 ? n : 63), s);
        double v = strtod(buf, &end);
        if (end == buf || *end || !isfinite(v))
            return weir_seterr(detail, detailsz, WEIR_EDECODE, "label: \"%s\" is not a number",
                               buf);
        *out = v;
        return 0;
    }
    for (size_t i = 0; i < classes; i++) {
        const char *name = weir_model_class(model, i);
        if (strlen(name) == n && !memcmp(name, s, n)) {
            *out = (double)i;
            return 0;
        }
    }
    return weir_seterr(detail, detailsz, WEIR_EDECODE, "label: \"%.*s\" is not a class of %s",
                       (int)(n < 64 ? n : 64), s, weir_model_name(model));
}

int weir_monitor_drift_enabled(const weir_monitor_t *m)
{
    return m->drift != NULL;
}

int weir_monitor_observes(const weir_monitor_t *m)
{
    return m->drift != NULL || m->join != NULL;
}

int weir_monitor_label(weir_monitor_t *m, const void *value, size_t len, weir_reason_t *reason,
                       char *detail, size_t detailsz)
{
    weir_decoded_t d;
    if (!m->labels) {
        *reason = WEIR_REASON_INVALID_VALUE;
        return weir_seterr(detail, detailsz, WEIR_EDECODE, "labels are not configured");
    }
    if (weir_decoder_decode(m->labels, value, len, &d, reason, detail, detailsz) != 0)
        return WEIR_EDECODE;
    avro_value_t id, label;
    const char *s = NULL;
    size_t n = 0;
    double v = 0; /* label_value() sets it on success; -O3 cannot see that */
    avro_value_get_by_index(d.value, 0, &id, NULL);
    avro_value_get_by_index(d.value, 1, &label, NULL);
    avro_value_get_string(&id, &s, &n);
    if (label_value(m, &label, &v, detail, detailsz) != 0) {
        m->labels_invalid++;
        *reason = WEIR_REASON_INVALID_VALUE;
        return WEIR_EDECODE;
    }
    double score;
    int predicted;
    int64_t at;
    if (weir_label_join_take(m->join, s, n ? n - 1 : 0, &score, &predicted, &at) == 1) {
        if (m->concept)
            weir_concept_observe(m->concept, score, predicted, v, at);
        m->labels_joined++;
        if (weir_model_task(m->model) != WEIR_TASK_REGRESSION && (double)predicted != v)
            m->labels_wrong++;
    }
    return 0;
}

/* What a key without a feature is about: the score, the error stream, the
 * dataset verdict or the multivariate (PCA) test. */
static const char *subject_of(const char *feature, weir_drift_kind_t of, weir_drift_test_t test)
{
    if (feature)
        return feature;
    if (test == WEIR_DRIFT_DATASET)
        return "dataset";
    if (test == WEIR_DRIFT_PCA)
        return "multivariate";
    return of == WEIR_DRIFT_PREDICTION ? "score" : "concept";
}

void weir_monitor_label_counts(const weir_monitor_t *m, uint64_t *joined, uint64_t *wrong)
{
    *joined = m->labels_joined;
    *wrong = m->labels_wrong;
}

static const char *alert_subject(const weir_drift_change_t *c)
{
    return subject_of(c->feature, c->kind == WEIR_DRIFT_RECOVERED ? c->recovered_from : c->kind,
                      c->test);
}

static void log_change(const weir_monitor_t *m, const weir_drift_change_t *c)
{
    char stat[32], eff[32], p[32], thr[32], count[32], test[64];
    snprintf(stat, sizeof(stat), "%.6g", c->statistic);
    snprintf(eff, sizeof(eff), "%.6g", c->effect);
    double pv = c->p_adjusted == c->p_adjusted ? c->p_adjusted : c->p_value;
    if (pv == pv)
        snprintf(p, sizeof(p), "%.6g", pv);
    else
        snprintf(p, sizeof(p), "none");
    snprintf(thr, sizeof(thr), "%.6g", c->threshold);
    snprintf(count, sizeof(count), "%" PRIu64, c->window_count);
    snprintf(test, sizeof(test), "%s%s%s", weir_drift_test_name(c->test), c->metric ? ":" : "",
             c->metric ? c->metric : "");
    weir_log(c->kind == WEIR_DRIFT_RECOVERED ? WEIR_LOG_INFO : WEIR_LOG_WARN,
             c->kind == WEIR_DRIFT_RECOVERED ? "drift recovered" : "drift alert", "kind",
             weir_drift_kind_name(c->kind), "of",
             weir_drift_kind_name(c->kind == WEIR_DRIFT_RECOVERED ? c->recovered_from : c->kind),
             "model", weir_model_name(m->model), "feature", alert_subject(c), "test", test,
             "statistic", stat, "effect", eff, "p_value", p, "threshold", thr, "severity",
             weir_drift_severity_name(c->severity), "window_count", count, NULL);
}

static void add_changes(weir_monitor_t *m, const weir_drift_change_t *changes, size_t n,
                        int64_t now_ms)
{
    for (size_t i = 0; i < n; i++) {
        const weir_drift_change_t *c = &changes[i];
        log_change(m, c);
        m->alerts_by_kind[c->kind]++;
        if (m->n_alerts == MAX_ALERTS) {
            m->dropped_alerts++;
            continue;
        }
        char test[64];
        snprintf(test, sizeof(test), "%s%s%s", weir_drift_test_name(c->test), c->metric ? ":" : "",
                 c->metric ? c->metric : "");
        weir_drift_alert_t a = {
            .kind = (int)c->kind,
            .model_name = weir_model_name(m->model),
            .model_version = weir_model_version(m->model),
            .feature = c->feature,
            .test = test,
            .statistic = c->statistic,
            .p_value = c->p_adjusted == c->p_adjusted ? c->p_adjusted : c->p_value,
            .threshold = c->threshold,
            .window_start_ms = c->window_start_ms,
            .window_end_ms = c->window_end_ms,
            .window_count = (int64_t)c->window_count,
            .reference_size = (int64_t)c->reference_size,
            .severity = (int)c->severity,
            .instance = m->cfg.instance,
            .detected_at_ms = now_ms,
            .effect = &c->effect,
            .feature_drifted = c->feature_drifted >= 0 ? &c->feature_drifted : NULL,
            .dataset_drifted = c->dataset_drifted >= 0 ? &c->dataset_drifted : NULL,
            .drifted_share = &c->drifted_share,
            .drifted_features = c->drifted_features,
            .n_drifted_features = c->n_drifted_features,
        };
        size_t key_at = m->keys.len, value_at = m->values.len;
        /* Written straight into the key buffer: names are as long as the bundle
         * allows, and a key cut short would merge two features' states. */
        if (weir_buf_printf(&m->keys, "%s/%s/%s", weir_model_name(m->model), alert_subject(c),
                            test) != 0 ||
            weir_framing_write(&m->values, m->cfg.alert_framing, m->cfg.alert_schema_id) != 0 ||
            weir_drift_alert_encode(&m->values, &a) != 0) {
            m->keys.len = key_at;
            m->values.len = value_at;
            m->dropped_alerts++;
            continue;
        }
        weir_monitor_alert_t *out = &m->alerts[m->n_alerts++];
        out->kind = c->kind;
        out->change = c;
        /* offsets for now: the buffers may still move while growing */
        out->key = (const char *)(uintptr_t)key_at;
        out->key_len = m->keys.len - key_at;
        out->value = (const uint8_t *)(uintptr_t)value_at;
        out->len = m->values.len - value_at;
    }
}

size_t weir_monitor_evaluate(weir_monitor_t *m, int64_t now_ms)
{
    const weir_drift_change_t *changes;
    size_t n;
    m->n_alerts = 0;
    weir_buf_reset(&m->keys);
    weir_buf_reset(&m->values);
    if (m->drift && weir_drift_due(m->drift, now_ms) &&
        weir_drift_evaluate(m->drift, now_ms, &changes, &n) == 0)
        add_changes(m, changes, n, now_ms);
    if (m->join)
        weir_label_join_expire(m->join, now_ms);
    if (m->concept && weir_concept_due(m->concept, now_ms) &&
        weir_concept_evaluate(m->concept, now_ms, &changes, &n) == 0) {
        m->concept_evaluations++;
        add_changes(m, changes, n, now_ms);
    }
    for (size_t i = 0; i < m->n_alerts; i++) {
        m->alerts[i].key = (const char *)m->keys.data + (uintptr_t)m->alerts[i].key;
        m->alerts[i].value = m->values.data + (uintptr_t)m->alerts[i].value;
    }
    return m->n_alerts;
}

const weir_monitor_alert_t *weir_monitor_alert(const weir_monitor_t *m, size_t i)
{
    return i < m->n_alerts ? &m->alerts[i] : NULL;
}

size_t weir_monitor_stat_count(const weir_monitor_t *m)
{
    return (m->drift ? weir_drift_stat_count(m->drift) : 0) +
           (m->concept ? weir_concept_stat_count(m->concept) : 0);
}

const weir_drift_stat_t *weir_monitor_stat(const weir_monitor_t *m, size_t i)
{
    size_t nd = m->drift ? weir_drift_stat_count(m->drift) : 0;
    return i < nd       ? weir_drift_stat(m->drift, i)
           : m->concept ? weir_concept_stat(m->concept, i - nd)
                        : NULL;
}

void weir_monitor_evaluations(const weir_monitor_t *m, uint64_t *drift, uint64_t *concept)
{
    *drift = m->drift ? weir_drift_evaluations(m->drift) : 0;
    *concept = m->concept_evaluations;
}

/* The label value naming what a statistic is about: its feature, or the score
 * or the error stream. */
static const char *stat_subject(const weir_drift_stat_t *s)
{
    return subject_of(s->feature, s->kind, s->test);
}

static void render_stats(weir_prom_t *p, const weir_drift_stat_t *const *stats, size_t n, int what)
{
    for (size_t i = 0; i < n; i++) {
        const weir_drift_stat_t *s = stats[i];
        double v = what == 0   ? s->statistic
                   : what == 1 ? s->effect
                   : what == 2 ? (s->p_adjusted == s->p_adjusted ? s->p_adjusted : s->p_value)
                               : (double)s->state;
        if (v != v)
            continue;
        char test[64];
        snprintf(test, sizeof(test), "%s%s%s", weir_drift_test_name(s->test), s->metric ? ":" : "",
                 s->metric ? s->metric : "");
        weir_prom_sample(p, v, "kind", weir_drift_kind_name(s->kind), "feature", stat_subject(s),
                         "test", test, NULL);
    }
}

static void render_join(const weir_monitor_t *m, weir_prom_t *p)
{
    weir_label_join_counters_t j;
    weir_label_join_counters(m->join, &j);
    weir_prom_family(p, "weir_label_join_pending", WEIR_PROM_GAUGE,
                     "Predictions waiting for their label.");
    weir_prom_sample_u64(p, j.pending, NULL);
    weir_prom_family(p, "weir_label_join_capacity", WEIR_PROM_GAUGE,
                     "Predictions the label join holds at most (labels.max_pending).");
    weir_prom_sample_u64(p, j.capacity, NULL);
    weir_prom_family(p, "weir_labels_total", WEIR_PROM_COUNTER, "Labels read, by outcome.");
    weir_prom_sample_u64(p, j.matched, "outcome", "matched", NULL);
    weir_prom_sample_u64(p, j.unmatched, "outcome", "unmatched", NULL);
    weir_prom_sample_u64(p, m->labels_invalid, "outcome", "invalid", NULL);
    weir_prom_family(p, "weir_label_join_dropped_total", WEIR_PROM_COUNTER,
                     "Predictions dropped before their label came.");
    weir_prom_sample_u64(p, j.evicted, "why", "full", NULL);
    weir_prom_sample_u64(p, j.expired, "why", "ttl", NULL);
}

static void render_concept(const weir_monitor_t *m, weir_prom_t *p)
{
    weir_concept_summary_t s;
    weir_concept_summary(m->concept, &s);
    struct {
        const char *name;
        double v;
    } perf[] = {{"error_rate", s.error_rate},
                {"precision", s.precision},
                {"recall", s.recall},
                {"f1", s.f1},
                {"auc", s.auc},
                {"accuracy", s.accuracy},
                {"mae", s.mae},
                {"rmse", s.rmse},
                {"r2", s.r2}};
    weir_prom_family(p, "weir_concept_performance", WEIR_PROM_GAUGE,
                     "Windowed performance on joined labels.");
    for (size_t i = 0; i < sizeof(perf) / sizeof(perf[0]); i++)
        if (perf[i].v == perf[i].v)
            weir_prom_sample(p, perf[i].v, "metric", perf[i].name, NULL);
    weir_prom_family(p, "weir_concept_detections_total", WEIR_PROM_COUNTER,
                     "Drift detections on the error stream, by detector.");
    weir_prom_sample_u64(p, s.ddm_detections, "detector", "ddm", NULL);
    weir_prom_sample_u64(p, s.adwin_detections, "detector", "adwin", NULL);
    weir_prom_sample_u64(p, s.page_hinkley_detections, "detector", "page_hinkley", NULL);
    weir_prom_family(p, "weir_concept_pairs_total", WEIR_PROM_COUNTER,
                     "Predictions joined with labels.");
    weir_prom_sample_u64(p, s.pairs, NULL);
    if (weir_model_task(m->model) == WEIR_TASK_BINARY) {
        /* class names come from the bundle: the writer escapes them */
        const char *neg = weir_model_class(m->model, 0), *pos = weir_model_class(m->model, 1);
        weir_prom_family(p, "weir_concept_confusion", WEIR_PROM_GAUGE,
                         "Confusion matrix of the window.");
        weir_prom_sample_u64(p, s.tp, "actual", pos, "predicted", pos, NULL);
        weir_prom_sample_u64(p, s.fp, "actual", neg, "predicted", pos, NULL);
        weir_prom_sample_u64(p, s.tn, "actual", neg, "predicted", neg, NULL);
        weir_prom_sample_u64(p, s.fn, "actual", pos, "predicted", neg, NULL);
    }
}

static void render_verdicts(const weir_monitor_t *m, weir_prom_t *p)
{
    weir_drift_dataset_verdict_t ds;
    weir_drift_dataset_verdict(m->drift, &ds);
    weir_prom_family(p, "weir_drift_feature_drifted", WEIR_PROM_GAUGE,
                     "Feature verdict at the last evaluation: 1 when one of its tests failed.");
    for (size_t i = 0; i < weir_drift_feature_count(m->drift); i++) {
        const weir_drift_feature_verdict_t *v = weir_drift_feature_verdict(m->drift, i);
        if (v->evaluated)
            weir_prom_sample(p, v->drifted, "feature", v->feature, NULL);
    }
    weir_prom_family(p, "weir_drift_dataset_drifted", WEIR_PROM_GAUGE,
                     "Dataset verdict at the last evaluation: 1 when the drifted share of "
                     "features reached drift.share.");
    if (ds.evaluated)
        weir_prom_sample(p, ds.drifted, NULL);
    weir_prom_family(p, "weir_drift_drifted_share", WEIR_PROM_GAUGE,
                     "Share of the evaluated features that drifted at the last evaluation.");
    if (ds.evaluated)
        weir_prom_sample(p, ds.share, NULL);
}

static void render_cbpe(const weir_monitor_t *m, weir_prom_t *p)
{
    weir_drift_cbpe_summary_t c;
    weir_drift_cbpe(m->drift, &c);
    if (!c.enabled)
        return;
    const struct {
        const char *name;
        double estimate, reference;
    } metrics[] = {{"precision", c.estimate.precision, c.reference.precision},
                   {"recall", c.estimate.recall, c.reference.recall},
                   {"f1", c.estimate.f1, c.reference.f1},
                   {"accuracy", c.estimate.accuracy, c.reference.accuracy},
                   {"auc", c.estimate.auc, c.reference.auc}};
    weir_prom_family(p, "weir_performance_estimated", WEIR_PROM_GAUGE,
                     "Performance estimated from the scores without labels (CBPE), on the drift "
                     "window; the realised one is weir_concept_performance.");
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
        if (metrics[i].estimate == metrics[i].estimate && c.window_count > 0)
            weir_prom_sample(p, metrics[i].estimate, "metric", metrics[i].name, NULL);
    weir_prom_family(
        p, "weir_performance_estimated_reference", WEIR_PROM_GAUGE,
        "The same estimate on the reference scores: the baseline it is compared with.");
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
        if (metrics[i].reference == metrics[i].reference)
            weir_prom_sample(p, metrics[i].reference, "metric", metrics[i].name, NULL);
}

int weir_monitor_render(const weir_monitor_t *m, weir_buf_t *b)
{
    weir_prom_t p;
    weir_prom_init(&p, b);
    weir_prom_family(&p, "weir_drift_enabled", WEIR_PROM_GAUGE,
                     "1 when drift is monitored, 0 when drift.enabled = false.");
    weir_prom_sample_u64(&p, m->drift != NULL, NULL);
    if (!m->drift) {
        if (m->join)
            render_join(m, &p);
        return weir_prom_finish(&p);
    }
    size_t nd = weir_drift_stat_count(m->drift);
    size_t nc = m->concept ? weir_concept_stat_count(m->concept) : 0;
    const weir_drift_stat_t **stats = calloc(nd + nc + 1, sizeof(*stats));
    if (!stats)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < nd; i++)
        stats[i] = weir_drift_stat(m->drift, i);
    for (size_t i = 0; i < nc; i++)
        stats[nd + i] = weir_concept_stat(m->concept, i);
    static const char *names[] = {"weir_drift_statistic", "weir_drift_effect", "weir_drift_p_value",
                                  "weir_drift_state"};
    static const char *helps[] = {
        "Latest statistic of a drift test (KS D, PSI, W1/std, JS distance, chi-square, ...).",
        "Latest effect size, compared with the test's threshold.",
        "Latest p-value after the multiple-testing correction.",
        "Alert state: 0 ok, 1 warning, 2 critical."};
    for (int w = 0; w < 4; w++) {
        weir_prom_family(&p, names[w], WEIR_PROM_GAUGE, helps[w]);
        render_stats(&p, stats, nd + nc, w);
    }
    free(stats);
    weir_prom_family(&p, "weir_drift_alerts_total", WEIR_PROM_COUNTER,
                     "Drift state changes published, by kind.");
    for (int k = 0; k < 4; k++)
        weir_prom_sample_u64(&p, m->alerts_by_kind[k], "kind",
                             weir_drift_kind_name((weir_drift_kind_t)k), NULL);
    render_verdicts(m, &p);
    render_cbpe(m, &p);
    weir_prom_family(&p, "weir_drift_window_events", WEIR_PROM_GAUGE,
                     "Events in the drift window.");
    weir_prom_sample_u64(&p, weir_drift_window_count(m->drift), NULL);
    weir_prom_family(&p, "weir_drift_evaluations_total", WEIR_PROM_COUNTER,
                     "Drift evaluations run.");
    weir_prom_sample_u64(&p, weir_drift_evaluations(m->drift), NULL);
    if (m->join)
        render_join(m, &p);
    if (m->concept)
        render_concept(m, &p);
    if (m->dropped_alerts) {
        weir_prom_family(&p, "weir_drift_alerts_dropped_total", WEIR_PROM_COUNTER,
                         "State changes not encoded (over 4096 in one evaluation).");
        weir_prom_sample_u64(&p, m->dropped_alerts, NULL);
    }
    return weir_prom_finish(&p);
}
