/*
 * backtest.c — the accumulations of a replay and its weir.backtest/1 report.
 *
 * Owns, per event, its time and label; per model and event, the score, the
 * decision and (multiclass) the class probabilities; per model the dead
 * letters, the snapshots of every drift evaluation, the alerts with the
 * window distribution of each drifted feature (from a ring of the last
 * drift-window events' bins), and the labels read. The report computes every
 * metric with eval/ over all labelled events and per time bucket.
 */
#include "backtest.h"
#include "common.h"
#include "eval.h"
#include "source.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS ((uint64_t)1 << 31)
#define DEAD_EXAMPLES 10
#define CURVE_POINTS 400
#define SWEEP_POINTS 101
#define HIST_MISSING 0xFFFF

typedef struct {
    char *id;
    size_t id_len;
    int is_string;
    double number;
    char *string;
    size_t len;
    int64_t time;
    int arrived;
    int joined;
} label_t;

typedef struct {
    const char *kind, *of, *severity; /* static names */
    char *feature, *test;
    double statistic, effect, p_value, threshold;
    int64_t at, window_start, window_end;
    uint64_t window_count, reference_size, events;
    double *window; /* proportions over the feature's reference bins, or NULL */
    size_t n_bins;
} alert_t;

/* One series of snapshots: the keys of one kind of evaluation. */
typedef struct {
    size_t first, n_keys; /* keys [first, first + n_keys) of the monitor */
    json_t *keys;         /* descriptions */
    uint64_t seen;        /* evaluations already recorded */
    int64_t *at;
    uint64_t *events;
    double *values; /* n × n_keys × 4: statistic, effect, p-value, state */
    size_t n, cap;
} timeline_t;

typedef struct {
    size_t feature; /* model feature */
    size_t n_bins;  /* numeric: bin_count; categorical: categories + 1 ("other") */
} hist_t;

typedef struct {
    const weir_model_t *model;
    weir_task_t task;
    size_t classes;
    double *score;
    int32_t *cls; /* -2: not scored */
    float *proba; /* multiclass: classes per event */
    uint64_t scored, dead[WEIR_REASON__COUNT];
    json_t *dead_examples;
    timeline_t drift, concept;
    int keys_known;
    int drift_off; /* drift.enabled = false */
    alert_t *alerts;
    size_t n_alerts, alerts_cap;
    hist_t *hist;
    size_t n_hist;
    uint64_t *ring; /* ring_cap × n_hist: a numeric value's bits, or a category's hash */
    size_t ring_cap, ring_pos, ring_len;
} model_acc_t;

struct weir_backtest {
    weir_backtest_config_t cfg;
    model_acc_t models[WEIR_BACKTEST_MAX_MODELS];
    size_t n_models;
    /* events */
    int64_t *time;
    int64_t *label; /* index into labels, or -1 */
    size_t n_events, cap;
    /* labels */
    label_t *labels;
    size_t n_labels, labels_cap;
    int64_t *index; /* open addressing into labels, -1 empty */
    size_t index_cap;
    uint64_t labels_invalid[WEIR_REASON__COUNT], labels_duplicate;
    json_t *label_examples;
};

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static json_t *time_json(int64_t ms)
{
    char t[40];
    weir_source_format_time(ms, t, sizeof(t));
    return json_string(t);
}

/* ---- setup ------------------------------------------------------------ */

static int setup_hist(model_acc_t *a, uint64_t window)
{
    size_t nf = weir_model_feature_count(a->model);
    a->hist = calloc(nf ? nf : 1, sizeof(hist_t));
    if (!a->hist)
        return WEIR_ENOMEM;
    for (size_t f = 0; f < nf; f++) {
        const weir_reference_t *r = weir_model_reference(a->model, f);
        if (!r)
            continue;
        size_t bins = r->type == WEIR_FEATURE_CATEGORICAL
                          ? (r->category_count ? r->category_count + 1 : 0)
                          : r->bin_count;
        if (bins == 0 || bins >= HIST_MISSING)
            continue;
        a->hist[a->n_hist].feature = f;
        a->hist[a->n_hist].n_bins = bins;
        a->n_hist++;
    }
    a->ring_cap = window > (1u << 22) ? (1u << 22) : (size_t)(window ? window : 1);
    if (a->n_hist) {
        a->ring = malloc(a->ring_cap * a->n_hist * sizeof(uint64_t));
        if (!a->ring)
            return WEIR_ENOMEM;
    }
    return 0;
}

int weir_backtest_new(const weir_backtest_config_t *cfg, weir_backtest_t **out, char *err,
                      size_t errsz)
{
    int rc = 0;
    weir_backtest_t *b = calloc(1, sizeof(*b));
    *out = NULL;
    if (!b)
        return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    b->cfg = *cfg;
    if (b->cfg.calibration_bins == 0)
        b->cfg.calibration_bins = 10;
    if (b->cfg.bucket_ms <= 0)
        b->cfg.bucket_ms = 3600000;
    b->n_models = cfg->n_models;
    b->label_examples = json_array();
    for (size_t m = 0; m < b->n_models && rc == 0; m++) {
        model_acc_t *a = &b->models[m];
        a->model = cfg->models[m];
        a->task = weir_model_task(a->model);
        a->classes = weir_model_class_count(a->model);
        a->dead_examples = json_array();
        if (setup_hist(a, cfg->drift_window) != 0)
            rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    }
    if (rc) {
        weir_backtest_destroy(b);
        b = NULL;
    }
    *out = b;
    return rc;
}

static void timeline_free(timeline_t *t)
{
    json_decref(t->keys);
    free(t->at);
    free(t->events);
    free(t->values);
}

void weir_backtest_destroy(weir_backtest_t *b)
{
    if (!b)
        return;
    for (size_t m = 0; m < b->n_models; m++) {
        model_acc_t *a = &b->models[m];
        free(a->score);
        free(a->cls);
        free(a->proba);
        json_decref(a->dead_examples);
        timeline_free(&a->drift);
        timeline_free(&a->concept);
        for (size_t i = 0; i < a->n_alerts; i++) {
            free(a->alerts[i].feature);
            free(a->alerts[i].test);
            free(a->alerts[i].window);
        }
        free(a->alerts);
        free(a->hist);
        free(a->ring);
    }
    for (size_t i = 0; i < b->n_labels; i++) {
        free(b->labels[i].id);
        free(b->labels[i].string);
    }
    free(b->labels);
    free(b->index);
    free(b->time);
    free(b->label);
    json_decref(b->label_examples);
    free(b);
}

/* ---- labels ----------------------------------------------------------- */

static uint64_t hash_id(const char *s, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)s[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h ^ (h >> 29);
}

static int index_grow(weir_backtest_t *b)
{
    size_t cap = b->index_cap ? b->index_cap * 2 : 1024;
    int64_t *index = malloc(cap * sizeof(int64_t));
    if (!index)
        return WEIR_ENOMEM;
    for (size_t i = 0; i < cap; i++)
        index[i] = -1;
    for (size_t l = 0; l < b->n_labels; l++) {
        size_t at = (size_t)(hash_id(b->labels[l].id, b->labels[l].id_len) & (cap - 1));
        while (index[at] >= 0)
            at = (at + 1) & (cap - 1);
        index[at] = (int64_t)l;
    }
    free(b->index);
    b->index = index;
    b->index_cap = cap;
    return 0;
}

int64_t weir_backtest_find_label(const weir_backtest_t *b, const char *event_id, size_t len)
{
    if (!b->index_cap)
        return -1;
    size_t at = (size_t)(hash_id(event_id, len) & (b->index_cap - 1));
    while (b->index[at] >= 0) {
        const label_t *l = &b->labels[b->index[at]];
        if (l->id_len == len && !memcmp(l->id, event_id, len))
            return b->index[at];
        at = (at + 1) & (b->index_cap - 1);
    }
    return -1;
}

int64_t weir_backtest_add_label(weir_backtest_t *b, const char *event_id, size_t id_len,
                                int is_string, double number, const char *string, size_t len,
                                int64_t label_time_ms)
{
    int64_t found = weir_backtest_find_label(b, event_id, id_len);
    if (found >= 0) {
        b->labels_duplicate++;
        return found;
    }
    if ((b->n_labels + 1) * 2 > b->index_cap && index_grow(b) != 0)
        return WEIR_ENOMEM;
    if (b->n_labels == b->labels_cap) {
        size_t cap = b->labels_cap ? b->labels_cap * 2 : 1024;
        label_t *grown = realloc(b->labels, cap * sizeof(label_t));
        if (!grown)
            return WEIR_ENOMEM;
        b->labels = grown;
        b->labels_cap = cap;
    }
    label_t *l = &b->labels[b->n_labels];
    memset(l, 0, sizeof(*l));
    l->id = malloc(id_len + 1);
    l->string = is_string ? malloc(len + 1) : NULL;
    if (!l->id || (is_string && !l->string)) {
        free(l->id);
        free(l->string);
        return WEIR_ENOMEM;
    }
    memcpy(l->id, event_id, id_len);
    l->id[id_len] = '\0';
    l->id_len = id_len;
    if (is_string) {
        memcpy(l->string, string, len);
        l->string[len] = '\0';
        l->len = len;
    }
    l->is_string = is_string;
    l->number = number;
    l->time = label_time_ms;
    size_t at = (size_t)(hash_id(event_id, id_len) & (b->index_cap - 1));
    while (b->index[at] >= 0)
        at = (at + 1) & (b->index_cap - 1);
    b->index[at] = (int64_t)b->n_labels;
    return (int64_t)b->n_labels++;
}

void weir_backtest_label_arrived(weir_backtest_t *b, int64_t label)
{
    if (label >= 0 && (size_t)label < b->n_labels)
        b->labels[label].arrived = 1;
}

void weir_backtest_label_invalid(weir_backtest_t *b, weir_reason_t reason, const char *detail,
                                 const char *where)
{
    b->labels_invalid[reason < WEIR_REASON__COUNT ? reason : WEIR_REASON_DECODE]++;
    if (json_array_size(b->label_examples) < DEAD_EXAMPLES)
        json_array_append_new(b->label_examples,
                              json_pack("{s:s, s:s, s:s}", "reason", weir_reason_name(reason),
                                        "detail", detail ? detail : "", "where", where));
}

/* The class index (classification) or value (regression) a label stands for
 * to model @p m — as the monitor reads labels — or NaN. */
static double label_value(const model_acc_t *a, const label_t *l)
{
    if (a->task == WEIR_TASK_REGRESSION) {
        if (!l->is_string)
            return isfinite(l->number) ? l->number : NAN;
        char *end;
        double v = strtod(l->string, &end);
        return end != l->string && !*end && isfinite(v) ? v : NAN;
    }
    if (!l->is_string) {
        double v = l->number;
        return isfinite(v) && v == floor(v) && v >= 0 && v < (double)a->classes ? v : NAN;
    }
    for (size_t i = 0; i < a->classes; i++)
        if (!strcmp(weir_model_class(a->model, i), l->string))
            return (double)i;
    return NAN;
}

/* ---- events ------------------------------------------------------------ */

static int grow_events(weir_backtest_t *b)
{
    size_t cap = b->cap ? b->cap * 2 : 65536;
    if (cap > MAX_EVENTS)
        return WEIR_ELIMIT;
    int64_t *t = realloc(b->time, cap * sizeof(int64_t));
    if (!t)
        return WEIR_ENOMEM;
    b->time = t;
    int64_t *l = realloc(b->label, cap * sizeof(int64_t));
    if (!l)
        return WEIR_ENOMEM;
    b->label = l;
    for (size_t m = 0; m < b->n_models; m++) {
        model_acc_t *a = &b->models[m];
        double *s = realloc(a->score, cap * sizeof(double));
        if (!s)
            return WEIR_ENOMEM;
        a->score = s;
        int32_t *c = realloc(a->cls, cap * sizeof(int32_t));
        if (!c)
            return WEIR_ENOMEM;
        a->cls = c;
        if (a->task == WEIR_TASK_MULTICLASS) {
            float *p = realloc(a->proba, cap * a->classes * sizeof(float));
            if (!p)
                return WEIR_ENOMEM;
            a->proba = p;
        }
    }
    b->cap = cap;
    return 0;
}

int64_t weir_backtest_add_event(weir_backtest_t *b, int64_t event_time_ms)
{
    if (b->n_events == b->cap) {
        int rc = grow_events(b);
        if (rc)
            return rc;
    }
    size_t i = b->n_events++;
    b->time[i] = event_time_ms;
    b->label[i] = -1;
    for (size_t m = 0; m < b->n_models; m++) {
        b->models[m].score[i] = NAN;
        b->models[m].cls[i] = -2;
    }
    return (int64_t)i;
}

void weir_backtest_set_label(weir_backtest_t *b, int64_t ev, int64_t label)
{
    b->label[ev] = label;
    if (label >= 0)
        b->labels[label].joined = 1;
}

uint64_t weir_backtest_events(const weir_backtest_t *b)
{
    return b->n_events;
}

int weir_backtest_time_span(const weir_backtest_t *b, int64_t *first, int64_t *last)
{
    *first = *last = 0;
    for (size_t i = 0; i < b->n_events; i++) {
        if (i == 0 || b->time[i] < *first)
            *first = b->time[i];
        if (i == 0 || b->time[i] > *last)
            *last = b->time[i];
    }
    return b->n_events > 0;
}

static uint64_t hash_text(const char *s, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * UINT64_C(0x100000001b3);
    return h ? h : 1;
}

/* What the ring keeps of a raw value, cheaply: a number's bits, or a
 * category's hash (0: missing); binned only when an alert asks. */
static uint64_t slot_of(const weir_reference_t *r, const weir_value_t *v)
{
    uint64_t bits = 0;
    if (r->type == WEIR_FEATURE_CATEGORICAL) {
        char text[64];
        const char *s = v->string;
        size_t n = v->length;
        if (v->kind == WEIR_VALUE_MISSING)
            return 0;
        if (v->kind == WEIR_VALUE_NUMBER) {
            n = (size_t)(v->number == floor(v->number) && fabs(v->number) < 9e15
                             ? snprintf(text, sizeof(text), "%lld", (long long)v->number)
                             : snprintf(text, sizeof(text), "%.17g", v->number));
            s = text;
        }
        return hash_text(s, n);
    }
    double x = v->kind == WEIR_VALUE_NUMBER ? v->number : NAN;
    memcpy(&bits, &x, sizeof(bits));
    return bits;
}

/* The bin of a kept slot against a feature's reference, as drift reads it:
 * numbers by the reference's cut points, categories by name (the last bin,
 * "other", for a category the reference does not have). */
static uint16_t bin_of(const weir_reference_t *r, const uint64_t *category_hashes, uint64_t slot)
{
    if (r->type == WEIR_FEATURE_CATEGORICAL) {
        if (slot == 0)
            return HIST_MISSING;
        for (size_t c = 0; c < r->category_count; c++)
            if (category_hashes[c] == slot)
                return (uint16_t)c;
        return (uint16_t)r->category_count;
    }
    double x;
    memcpy(&x, &slot, sizeof(x));
    if (!isfinite(x))
        return HIST_MISSING;
    size_t lo = 0, hi = r->bin_count - 1; /* edges strictly below x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->edges[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint16_t)lo;
}

void weir_backtest_scored(weir_backtest_t *b, size_t m, int64_t ev, double score, int class_index,
                          const float *probabilities, const weir_value_t *values)
{
    model_acc_t *a = &b->models[m];
    a->scored++;
    a->score[ev] = score;
    a->cls[ev] = class_index;
    if (a->task == WEIR_TASK_MULTICLASS && probabilities)
        memcpy(a->proba + (size_t)ev * a->classes, probabilities, a->classes * sizeof(float));
    if (a->n_hist && values) {
        uint64_t *row = a->ring + a->ring_pos * a->n_hist;
        for (size_t h = 0; h < a->n_hist; h++)
            row[h] = slot_of(weir_model_reference(a->model, a->hist[h].feature),
                             &values[a->hist[h].feature]);
        a->ring_pos = (a->ring_pos + 1) % a->ring_cap;
        if (a->ring_len < a->ring_cap)
            a->ring_len++;
    }
}

void weir_backtest_dead(weir_backtest_t *b, size_t m, int64_t ev, weir_reason_t reason,
                        const char *detail, const char *topic, int32_t partition, int64_t offset)
{
    model_acc_t *a = &b->models[m];
    a->dead[reason < WEIR_REASON__COUNT ? reason : WEIR_REASON_DECODE]++;
    if (json_array_size(a->dead_examples) < DEAD_EXAMPLES) {
        json_t *e = json_pack("{s:s, s:s, s:I}", "reason", weir_reason_name(reason), "detail",
                              detail ? detail : "", "offset", (json_int_t)offset);
        if (topic) {
            json_object_set_new(e, "topic", json_string(topic));
            json_object_set_new(e, "partition", json_integer(partition));
        } else {
            json_object_set_new(e, "index", json_integer((json_int_t)offset));
            json_object_del(e, "offset");
        }
        json_array_append_new(a->dead_examples, e);
    }
}

/* ---- drift timeline ---------------------------------------------------- */

static json_t *key_json(const weir_drift_stat_t *s)
{
    json_t *k = json_pack("{s:s, s:s}", "kind", weir_drift_kind_name(s->kind), "test",
                          weir_drift_test_name(s->test));
    json_object_set_new(k, "feature",
                        s->feature
                            ? json_string(s->feature)
                            : json_string(s->kind == WEIR_DRIFT_PREDICTION ? "score" : "concept"));
    if (s->metric)
        json_object_set_new(k, "metric", json_string(s->metric));
    json_object_set_new(k, "threshold", num(s->threshold));
    return k;
}

static int snapshot(timeline_t *t, const weir_monitor_t *mon, int64_t now, uint64_t events)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        int64_t *at = realloc(t->at, cap * sizeof(int64_t));
        if (!at)
            return WEIR_ENOMEM;
        t->at = at;
        uint64_t *ev = realloc(t->events, cap * sizeof(uint64_t));
        if (!ev)
            return WEIR_ENOMEM;
        t->events = ev;
        double *v = realloc(t->values, cap * (t->n_keys ? t->n_keys : 1) * 4 * sizeof(double));
        if (!v)
            return WEIR_ENOMEM;
        t->values = v;
        t->cap = cap;
    }
    t->at[t->n] = now;
    t->events[t->n] = events;
    double *row = t->values + t->n * t->n_keys * 4;
    for (size_t k = 0; k < t->n_keys; k++) {
        const weir_drift_stat_t *s = weir_monitor_stat(mon, t->first + k);
        int ran = s && s->evaluated;
        row[4 * k + 0] = ran ? s->statistic : NAN;
        row[4 * k + 1] = ran ? s->effect : NAN;
        row[4 * k + 2] = ran ? (s->p_adjusted == s->p_adjusted ? s->p_adjusted : s->p_value) : NAN;
        row[4 * k + 3] = s ? (double)s->state : NAN;
    }
    t->n++;
    return 0;
}

/* The distribution of the last drift-window events over a feature's
 * reference bins, for a data alert on that feature. */
static int window_hist(const model_acc_t *a, const char *feature, alert_t *al)
{
    for (size_t h = 0; h < a->n_hist; h++) {
        const weir_feature_info_t *fi = weir_model_feature(a->model, a->hist[h].feature);
        if (strcmp(fi->name, feature) != 0)
            continue;
        size_t bins = a->hist[h].n_bins;
        const weir_reference_t *r = weir_model_reference(a->model, a->hist[h].feature);
        uint64_t *hashes = calloc(r->category_count + 1, sizeof(uint64_t));
        al->window = calloc(bins, sizeof(double));
        if (!al->window || !hashes) {
            free(hashes);
            return WEIR_ENOMEM;
        }
        for (size_t c = 0; c < r->category_count; c++)
            hashes[c] = hash_text(r->categories[c], strlen(r->categories[c]));
        al->n_bins = bins;
        uint64_t total = 0;
        for (size_t i = 0; i < a->ring_len; i++) {
            uint16_t v = bin_of(r, hashes, a->ring[i * a->n_hist + h]);
            if (v == HIST_MISSING || v >= bins)
                continue;
            al->window[v]++;
            total++;
        }
        free(hashes);
        for (size_t k = 0; k < bins; k++)
            al->window[k] = total ? al->window[k] / (double)total : 0.0;
        return 0;
    }
    return 0;
}

int weir_backtest_monitor(weir_backtest_t *b, size_t m, const weir_monitor_t *mon, size_t n_alerts,
                          int64_t now_ms, uint64_t events)
{
    model_acc_t *a = &b->models[m];
    if (!a->keys_known) {
        a->drift_off = !weir_monitor_drift_enabled(mon);
        /* data and prediction keys first, then concept ones */
        size_t n = weir_monitor_stat_count(mon);
        a->drift.keys = json_array();
        a->concept.keys = json_array();
        for (size_t i = 0; i < n; i++) {
            const weir_drift_stat_t *s = weir_monitor_stat(mon, i);
            if (s->kind == WEIR_DRIFT_CONCEPT) {
                if (a->concept.n_keys == 0)
                a->concept.first = i;
                a->concept.n_keys++;
                json_array_append_new(a->concept.keys, key_json(s));
            } else {
                a->drift.n_keys++;
                json_array_append_new(a->drift.keys, key_json(s));
            }
        }
        a->keys_known = 1;
    }
    uint64_t drift_evals, concept_evals;
    weir_monitor_evaluations(mon, &drift_evals, &concept_evals);
    if (drift_evals > a->drift.seen) {
        a->drift.seen = drift_evals;
        if (snapshot(&a->drift, mon, now_ms, events) != 0)
            return WEIR_ENOMEM;
    }
    if (concept_evals > a->concept.seen) {
        a->concept.seen = concept_evals;
        if (snapshot(&a->concept, mon, now_ms, events) != 0)
            return WEIR_ENOMEM;
    }
    for (size_t i = 0; i < n_alerts; i++) {
        const weir_monitor_alert_t *al = weir_monitor_alert(mon, i);
        const weir_drift_change_t *c = al->change;
        if (a->n_alerts == a->alerts_cap) {
            size_t cap = a->alerts_cap ? a->alerts_cap * 2 : 32;
            alert_t *grown = realloc(a->alerts, cap * sizeof(alert_t));
            if (!grown)
                return WEIR_ENOMEM;
            a->alerts = grown;
            a->alerts_cap = cap;
        }
        alert_t *out = &a->alerts[a->n_alerts];
        memset(out, 0, sizeof(*out));
        char test[64];
        snprintf(test, sizeof(test), "%s%s%s", weir_drift_test_name(c->test), c->metric ? ":" : "",
                 c->metric ? c->metric : "");
        weir_drift_kind_t of = c->kind == WEIR_DRIFT_RECOVERED ? c->recovered_from : c->kind;
        out->kind = weir_drift_kind_name(c->kind);
        out->of = weir_drift_kind_name(of);
        out->severity = weir_drift_severity_name(c->severity);
        out->feature = strdup(c->feature                    ? c->feature
                              : of == WEIR_DRIFT_PREDICTION ? "score"
                                                            : "concept");
        out->test = strdup(test);
        if (!out->feature || !out->test) {
            free(out->feature);
            free(out->test);
            return WEIR_ENOMEM;
        }
        out->statistic = c->statistic;
        out->effect = c->effect;
        out->p_value = c->p_adjusted == c->p_adjusted ? c->p_adjusted : c->p_value;
        out->threshold = c->threshold;
        out->at = now_ms;
        out->window_start = c->window_start_ms;
        out->window_end = c->window_end_ms;
        out->window_count = c->window_count;
        out->reference_size = c->reference_size;
        out->events = events;
        a->n_alerts++;
        if (c->kind == WEIR_DRIFT_DATA && c->feature && window_hist(a, c->feature, out) != 0)
            return WEIR_ENOMEM;
    }
    return 0;
}

/* ---- metrics ------------------------------------------------------------ */

/* The labelled, scored events of model @p a among @p idx (or all events):
 * scores, labels (class index or value) and predictions, in event order. */
typedef struct {
    size_t n;
    double *score, *label;
    uint8_t *positive;
    int *cls, *label_cls;
    double *proba;
} pairs_t;

static void pairs_free(pairs_t *p)
{
    free(p->score);
    free(p->label);
    free(p->positive);
    free(p->cls);
    free(p->label_cls);
    free(p->proba);
    memset(p, 0, sizeof(*p));
}

static int gather(const weir_backtest_t *b, const model_acc_t *a, size_t from, size_t to,
                  const size_t *order, pairs_t *p)
{
    size_t cap = to - from, k = a->classes;
    memset(p, 0, sizeof(*p));
    p->score = malloc((cap ? cap : 1) * sizeof(double));
    p->label = malloc((cap ? cap : 1) * sizeof(double));
    p->positive = malloc(cap ? cap : 1);
    p->cls = malloc((cap ? cap : 1) * sizeof(int));
    p->label_cls = malloc((cap ? cap : 1) * sizeof(int));
    if (a->task == WEIR_TASK_MULTICLASS)
        p->proba = malloc((cap ? cap : 1) * k * sizeof(double));
    if (!p->score || !p->label || !p->positive || !p->cls || !p->label_cls ||
        (a->task == WEIR_TASK_MULTICLASS && !p->proba)) {
        pairs_free(p);
        return WEIR_ENOMEM;
    }
    for (size_t j = from; j < to; j++) {
        size_t i = order ? order[j] : j;
        if (a->cls[i] == -2 || b->label[i] < 0 || !b->labels[b->label[i]].arrived)
            continue;
        double v = label_value(a, &b->labels[b->label[i]]);
        if (isnan(v))
            continue;
        p->score[p->n] = a->score[i];
        p->label[p->n] = v;
        p->positive[p->n] = v == 1.0;
        p->cls[p->n] = a->cls[i];
        p->label_cls[p->n] = (int)v;
        if (p->proba)
            for (size_t c = 0; c < k; c++)
                p->proba[p->n * k + c] = a->proba[i * k + c];
        p->n++;
    }
    return 0;
}

static json_t *binary_metrics(const model_acc_t *a, const pairs_t *p, int full, double cost_fp,
                              double cost_fn, size_t cal_bins, json_t **extras)
{
    json_t *o = json_object();
    weir_eval_curve_t *curve = NULL;
    double threshold = weir_model_threshold(a->model);
    uint64_t positives = 0;
    for (size_t i = 0; i < p->n; i++)
        positives += p->positive[i];
    json_object_set_new(o, "n", json_integer((json_int_t)p->n));
    json_object_set_new(o, "positives", json_integer((json_int_t)positives));
    json_object_set_new(o, "prevalence", num(p->n ? (double)positives / (double)p->n : NAN));
    weir_eval_confusion_t cm;
    weir_eval_confusion(p->score, p->positive, p->n, threshold, &cm);
    weir_eval_prf_t prf;
    weir_eval_prf(&cm, &prf);
    json_object_set_new(o, "precision", num(p->n ? prf.precision : NAN));
    json_object_set_new(o, "recall", num(p->n ? prf.recall : NAN));
    json_object_set_new(o, "f1", num(p->n ? prf.f1 : NAN));
    json_object_set_new(o, "accuracy", num(prf.accuracy));
    double auc = NAN, ap = NAN;
    if (weir_eval_curve_new(p->score, p->positive, p->n, &curve) == 0) {
        auc = weir_eval_curve_roc_auc(curve);
        ap = weir_eval_curve_average_precision(curve);
    }
    json_object_set_new(o, "roc_auc", num(auc));
    json_object_set_new(o, "pr_auc", num(ap));
    json_object_set_new(o, "log_loss", num(weir_eval_log_loss(p->score, p->positive, p->n)));
    json_object_set_new(o, "brier", num(weir_eval_brier(p->score, p->positive, p->n)));
    json_object_set_new(o, "confusion",
                        json_pack("{s:f, s:I, s:I, s:I, s:I}", "threshold", threshold, "tp",
                                  (json_int_t)cm.tp, "fp", (json_int_t)cm.fp, "tn",
                                  (json_int_t)cm.tn, "fn", (json_int_t)cm.fn));
    json_object_set_new(o, "cost", num(cost_fp * (double)cm.fp + cost_fn * (double)cm.fn));
    if (full && curve && extras) {
        json_t *x = json_object();
        /* ROC and PR curves, thinned to at most CURVE_POINTS points */
        size_t pts = weir_eval_curve_points(curve);
        uint64_t pos, neg;
        weir_eval_curve_totals(curve, &pos, &neg);
        json_t *fpr = json_array(), *tpr = json_array(), *thr = json_array();
        json_t *rec = json_array(), *pre = json_array();
        json_array_append_new(fpr, json_real(0));
        json_array_append_new(tpr, json_real(0));
        json_array_append_new(thr, json_null());
        size_t step = pts > CURVE_POINTS ? (pts + CURVE_POINTS - 1) / CURVE_POINTS : 1;
        for (size_t i = 0; i < pts; i++) {
            if (i % step != 0 && i + 1 != pts)
                continue;
            double t;
            uint64_t tp, fp;
            weir_eval_curve_point(curve, i, &t, &tp, &fp);
            json_array_append_new(fpr, num(neg ? (double)fp / (double)neg : NAN));
            json_array_append_new(tpr, num(pos ? (double)tp / (double)pos : NAN));
            json_array_append_new(thr, num(t));
            json_array_append_new(rec, num(pos ? (double)tp / (double)pos : NAN));
            json_array_append_new(pre, num((double)tp / (double)(tp + fp)));
        }
        json_object_set_new(
            x, "roc", json_pack("{s:o, s:o, s:o}", "fpr", fpr, "tpr", tpr, "thresholds", thr));
        json_object_set_new(x, "pr", json_pack("{s:o, s:o}", "recall", rec, "precision", pre));
        /* calibration */
        double *edges = malloc((cal_bins + 1) * sizeof(double));
        double *pt = malloc(cal_bins * sizeof(double)), *pp = malloc(cal_bins * sizeof(double));
        uint64_t *count = malloc(cal_bins * sizeof(uint64_t));
        if (edges && pt && pp && count &&
            weir_eval_calibration(p->score, p->positive, p->n, cal_bins, WEIR_EVAL_BINS_UNIFORM,
                                  edges, pt, pp, count) == 0) {
            json_t *e = json_array(), *jt = json_array(), *jp = json_array(), *jc = json_array();
            for (size_t i = 0; i <= cal_bins; i++)
                json_array_append_new(e, num(edges[i]));
            for (size_t i = 0; i < cal_bins; i++) {
                json_array_append_new(jt, num(pt[i]));
                json_array_append_new(jp, num(pp[i]));
                json_array_append_new(jc, json_integer((json_int_t)count[i]));
            }
            json_object_set_new(x, "calibration",
                                json_pack("{s:s, s:I, s:o, s:o, s:o, s:o}", "strategy", "uniform",
                                          "bins", (json_int_t)cal_bins, "edges", e, "prob_true", jt,
                                          "prob_pred", jp, "count", jc));
        }
        free(edges);
        free(pt);
        free(pp);
        free(count);
        /* the threshold sweep and the cost-optimal threshold */
        json_t *points = json_array();
        for (size_t i = 0; i < SWEEP_POINTS; i++) {
            double t = (double)i / (double)(SWEEP_POINTS - 1);
            weir_eval_confusion_t c;
            weir_eval_curve_confusion_at(curve, t, &c);
            weir_eval_prf_t f;
            weir_eval_prf(&c, &f);
            json_array_append_new(
                points, json_pack("{s:f, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o}", "threshold", t,
                                  "tp", (json_int_t)c.tp, "fp", (json_int_t)c.fp, "tn",
                                  (json_int_t)c.tn, "fn", (json_int_t)c.fn, "precision",
                                  num(f.precision), "recall", num(f.recall), "f1", num(f.f1),
                                  "cost", num(cost_fp * (double)c.fp + cost_fn * (double)c.fn)));
        }
        double best_t;
        weir_eval_confusion_t best;
        double best_cost = weir_eval_curve_min_cost(curve, cost_fp, cost_fn, &best_t, &best);
        weir_eval_prf_t bf;
        weir_eval_prf(&best, &bf);
        json_t *optimal =
            json_pack("{s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:o}", "threshold",
                      isinf(best_t) ? json_string("none") : num(best_t), "cost", num(best_cost),
                      "tp", (json_int_t)best.tp, "fp", (json_int_t)best.fp, "tn",
                      (json_int_t)best.tn, "fn", (json_int_t)best.fn, "precision",
                      num(bf.precision), "recall", num(bf.recall), "f1", num(bf.f1));
        json_object_set_new(
            x, "threshold_sweep",
            json_pack("{s:f, s:f, s:o, s:o, s:o}", "cost_false_positive", cost_fp,
                      "cost_false_negative", cost_fn, "points", points, "optimal", optimal,
                      "at_bundle_threshold",
                      json_pack("{s:f, s:o}", "threshold", threshold, "cost",
                                num(cost_fp * (double)cm.fp + cost_fn * (double)cm.fn))));
        *extras = x;
    }
    weir_eval_curve_destroy(curve);
    return o;
}

static json_t *multiclass_metrics(const model_acc_t *a, const pairs_t *p, int full)
{
    size_t k = a->classes;
    weir_eval_multiclass_t mc;
    double *prec = calloc(k, sizeof(double)), *rec = calloc(k, sizeof(double));
    double *f1 = calloc(k, sizeof(double));
    uint64_t *support = calloc(k, sizeof(uint64_t)), *cm = full ? calloc(k * k, 8) : NULL;
    json_t *o = json_object();
    if (prec && rec && f1 && support && (!full || cm) &&
        weir_eval_multiclass(p->cls, p->label_cls, p->proba, p->n, k, &mc, prec, rec, f1, support,
                             cm) == 0) {
        json_object_set_new(o, "n", json_integer((json_int_t)mc.n));
        json_object_set_new(o, "accuracy", num(mc.accuracy));
        json_object_set_new(o, "macro_precision", num(mc.macro_precision));
        json_object_set_new(o, "macro_recall", num(mc.macro_recall));
        json_object_set_new(o, "macro_f1", num(mc.macro_f1));
        json_object_set_new(o, "weighted_precision", num(mc.weighted_precision));
        json_object_set_new(o, "weighted_recall", num(mc.weighted_recall));
        json_object_set_new(o, "weighted_f1", num(mc.weighted_f1));
        json_object_set_new(o, "log_loss", num(mc.log_loss));
        json_object_set_new(o, "roc_auc_ovr", num(mc.roc_auc_ovr));
        if (full) {
            json_t *per = json_array(), *m = json_array();
            for (size_t c = 0; c < k; c++) {
                json_array_append_new(per,
                                      json_pack("{s:s, s:o, s:o, s:o, s:I}", "class",
                                                weir_model_class(a->model, c), "precision",
                                                num(prec[c]), "recall", num(rec[c]), "f1",
                                                num(f1[c]), "support", (json_int_t)support[c]));
                json_t *row = json_array();
                for (size_t d = 0; d < k; d++)
                    json_array_append_new(row, json_integer((json_int_t)cm[c * k + d]));
                json_array_append_new(m, row);
            }
            json_object_set_new(o, "per_class", per);
            json_object_set_new(o, "confusion", m);
        }
    }
    free(prec);
    free(rec);
    free(f1);
    free(support);
    free(cm);
    return o;
}

static json_t *regression_metrics(const pairs_t *p)
{
    weir_eval_regression_t r;
    json_t *o = json_object();
    if (weir_eval_regression(p->score, p->label, p->n, &r) == 0) {
        json_object_set_new(o, "n", json_integer((json_int_t)r.n));
        json_object_set_new(o, "mae", num(r.mae));
        json_object_set_new(o, "mse", num(r.mse));
        json_object_set_new(o, "rmse", num(r.rmse));
        json_object_set_new(o, "r2", num(r.r2));
        json_object_set_new(o, "mape", num(r.mape));
        json_object_set_new(o, "median_ae", num(r.median_ae));
        json_object_set_new(o, "max_error", num(r.max_error));
        json_object_set_new(o, "bias", num(r.bias));
    }
    return o;
}

static json_t *metrics_of(const weir_backtest_t *b, const model_acc_t *a, const pairs_t *p,
                          int full, json_t **extras)
{
    if (a->task == WEIR_TASK_BINARY)
        return binary_metrics(a, p, full, b->cfg.cost_fp, b->cfg.cost_fn, b->cfg.calibration_bins,
                              extras);
    if (a->task == WEIR_TASK_MULTICLASS)
        return multiclass_metrics(a, p, full);
    return regression_metrics(p);
}

/* The distribution of the scores of every scored event. */
static json_t *score_section(const weir_backtest_t *b, const model_acc_t *a)
{
    double *s = malloc((b->n_events ? b->n_events : 1) * sizeof(double));
    json_t *o = json_object();
    if (!s)
        return o;
    size_t n = 0;
    uint64_t positives = 0;
    for (size_t i = 0; i < b->n_events; i++) {
        if (a->cls[i] == -2)
            continue;
        s[n++] = a->score[i];
        positives += a->task == WEIR_TASK_BINARY && a->cls[i] == 1;
    }
    weir_eval_moments_t mo;
    weir_eval_moments(s, n, &mo);
    weir_eval_sort(s, n);
    json_object_set_new(o, "n", json_integer((json_int_t)n));
    json_object_set_new(o, "mean", num(mo.mean));
    json_object_set_new(o, "std", num(mo.std));
    json_object_set_new(o, "min", num(mo.min));
    json_object_set_new(o, "max", num(mo.max));
    json_t *q = json_object();
    static const double qs[] = {0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99};
    static const char *qn[] = {"p01", "p05", "p10", "p25", "p50", "p75", "p90", "p95", "p99"};
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
        json_object_set_new(q, qn[i], num(weir_eval_quantile(s, n, qs[i])));
    json_object_set_new(o, "quantiles", q);
    double lo = a->task == WEIR_TASK_REGRESSION ? mo.min : 0.0;
    double hi = a->task == WEIR_TASK_REGRESSION ? mo.max : 1.0;
    if (n > 0 && isfinite(lo) && isfinite(hi)) {
        if (hi <= lo)
            hi = lo + 1;
        json_t *edges = json_array(), *counts = json_array();
        uint64_t c[20] = {0};
        for (size_t i = 0; i < n; i++) {
            int bin = (int)floor((s[i] - lo) / (hi - lo) * 20);
            c[bin < 0 ? 0 : bin > 19 ? 19 : bin]++;
        }
        for (int i = 0; i <= 20; i++)
            json_array_append_new(edges, json_real(lo + (hi - lo) * i / 20.0));
        for (int i = 0; i < 20; i++)
            json_array_append_new(counts, json_integer((json_int_t)c[i]));
        json_object_set_new(o, "histogram",
                            json_pack("{s:o, s:o}", "edges", edges, "counts", counts));
    }
    if (a->task == WEIR_TASK_BINARY)
        json_object_set_new(o, "predicted_positive_rate",
                            num(n ? (double)positives / (double)n : NAN));
    free(s);
    return o;
}

static json_t *timeline_json(const timeline_t *t)
{
    json_t *at = json_array(), *events = json_array(), *series = json_array();
    for (size_t i = 0; i < t->n; i++) {
        json_array_append_new(at, json_integer(t->at[i]));
        json_array_append_new(events, json_integer((json_int_t)t->events[i]));
    }
    static const char *fields[] = {"statistic", "effect", "p_value", "state"};
    for (size_t k = 0; k < t->n_keys; k++) {
        json_t *s = json_deep_copy(json_array_get(t->keys, k));
        for (int f = 0; f < 4; f++) {
            json_t *v = json_array();
            for (size_t i = 0; i < t->n; i++) {
                double x = t->values[(i * t->n_keys + k) * 4 + (size_t)f];
                json_array_append_new(v,
                                      f == 3 && isfinite(x) ? json_integer((json_int_t)x) : num(x));
            }
            json_object_set_new(s, fields[f], v);
        }
        json_array_append_new(series, s);
    }
    return json_pack("{s:I, s:o, s:o, s:o}", "evaluations", (json_int_t)t->n, "at", at, "events",
                     events, "series", series);
}

static json_t *reference_bins(const weir_reference_t *r)
{
    json_t *o = json_object(), *props = json_array();
    if (r->type == WEIR_FEATURE_CATEGORICAL) {
        json_t *cats = json_array();
        for (size_t c = 0; c < r->category_count; c++) {
            json_array_append_new(cats, json_string(r->categories[c]));
            json_array_append_new(props, num(r->category_proportions[c]));
        }
        json_array_append_new(cats, json_string("(other)"));
        json_array_append_new(props, json_real(0));
        json_object_set_new(o, "categories", cats);
    } else {
        json_t *edges = json_array();
        for (size_t e = 0; e + 1 < r->bin_count; e++)
            json_array_append_new(edges, num(r->edges[e]));
        for (size_t k = 0; k < r->bin_count; k++)
            json_array_append_new(props, num(r->bin_proportions[k]));
        json_object_set_new(o, "edges", edges);
    }
    json_object_set_new(o, "reference", props);
    return o;
}

static json_t *alerts_json(const model_acc_t *a)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < a->n_alerts; i++) {
        const alert_t *al = &a->alerts[i];
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:o, "
            "s:I, s:I, s:I}",
            "kind", al->kind, "of", al->of, "feature", al->feature, "test", al->test, "severity",
            al->severity, "statistic", num(al->statistic), "effect", num(al->effect), "p_value",
            num(al->p_value), "threshold", num(al->threshold), "at", (json_int_t)al->at, "at_time",
            time_json(al->at), "window_start", time_json(al->window_start), "window_end",
            time_json(al->window_end), "window_count", (json_int_t)al->window_count,
            "reference_size", (json_int_t)al->reference_size, "events", (json_int_t)al->events);
        if (al->window) {
            for (size_t f = 0; f < weir_model_feature_count(a->model); f++) {
                if (strcmp(weir_model_feature(a->model, f)->name, al->feature) != 0)
                    continue;
                json_t *h = reference_bins(weir_model_reference(a->model, f));
                json_t *w = json_array();
                for (size_t k = 0; k < al->n_bins; k++)
                    json_array_append_new(w, num(al->window[k]));
                json_object_set_new(h, "window", w);
                json_object_set_new(o, "histogram", h);
            }
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

/* Bucket index of every event; the bucket widened so that there are at most
 * WEIR_BACKTEST_MAX_BUCKETS. Events are listed bucket by bucket, in event
 * order within each (a counting sort, so the order is reproducible). */
static int buckets_of(const weir_backtest_t *b, int64_t *width, int64_t *origin, size_t *n_buckets,
                      size_t **starts, size_t **order)
{
    int64_t first, last;
    *starts = NULL;
    *order = NULL;
    *n_buckets = 0;
    if (!weir_backtest_time_span(b, &first, &last))
        return 0;
    int64_t w = b->cfg.bucket_ms;
    int64_t o = first >= 0 ? first / w * w : -((-first + w - 1) / w) * w;
    while ((last - o) / w + 1 > WEIR_BACKTEST_MAX_BUCKETS) {
        w *= 2;
        o = first >= 0 ? first / w * w : -((-first + w - 1) / w) * w;
    }
    size_t nb = (size_t)((last - o) / w + 1);
    size_t *count = calloc(nb + 1, sizeof(size_t));
    size_t *ord = malloc((b->n_events ? b->n_events : 1) * sizeof(size_t));
    if (!count || !ord) {
        free(count);
        free(ord);
        return WEIR_ENOMEM;
    }
    for (size_t i = 0; i < b->n_events; i++)
        count[(size_t)((b->time[i] - o) / w) + 1]++;
    for (size_t k = 1; k <= nb; k++)
        count[k] += count[k - 1];
    size_t *fill = malloc((nb + 1) * sizeof(size_t));
    if (!fill) {
        free(count);
        free(ord);
        return WEIR_ENOMEM;
    }
    memcpy(fill, count, (nb + 1) * sizeof(size_t));
    for (size_t i = 0; i < b->n_events; i++)
        ord[fill[(size_t)((b->time[i] - o) / w)]++] = i;
    free(fill);
    *width = w;
    *origin = o;
    *n_buckets = nb;
    *starts = count;
    *order = ord;
    return 0;
}

static json_t *buckets_json(const weir_backtest_t *b, const model_acc_t *a, int64_t width,
                            int64_t origin, size_t nb, const size_t *starts, const size_t *order)
{
    json_t *arr = json_array();
    for (size_t k = 0; k < nb; k++) {
        size_t from = starts[k], to = starts[k + 1];
        if (from == to)
            continue;
        uint64_t scored = 0, positives = 0;
        double sum = 0;
        for (size_t j = from; j < to; j++) {
            size_t i = order[j];
            if (a->cls[i] == -2)
                continue;
            scored++;
            sum += a->score[i];
            positives += a->task == WEIR_TASK_BINARY && a->cls[i] == 1;
        }
        pairs_t p;
        if (gather(b, a, from, to, order, &p) != 0)
            break;
        int64_t start = origin + (int64_t)k * width;
        json_t *o =
            json_pack("{s:I, s:o, s:o, s:I, s:I, s:I, s:o}", "start", (json_int_t)start,
                      "start_time", time_json(start), "end_time", time_json(start + width),
                      "events", (json_int_t)(to - from), "scored", (json_int_t)scored, "labelled",
                      (json_int_t)p.n, "score_mean", num(scored ? sum / (double)scored : NAN));
        if (a->task == WEIR_TASK_BINARY)
            json_object_set_new(o, "predicted_positive_rate",
                                num(scored ? (double)positives / (double)scored : NAN));
        json_object_set_new(o, "metrics", metrics_of(b, a, &p, 0, NULL));
        pairs_free(&p);
        json_array_append_new(arr, o);
    }
    return arr;
}

static json_t *dead_json(const uint64_t *dead, uint64_t *total)
{
    json_t *o = json_object();
    *total = 0;
    for (int r = 1; r < WEIR_REASON__COUNT; r++) {
        if (dead[r])
            json_object_set_new(o, weir_reason_name((weir_reason_t)r),
                                json_integer((json_int_t)dead[r]));
        *total += dead[r];
    }
    return o;
}

/* Challenger minus champion, for every number the two metrics sections share. */
static json_t *deltas(json_t *champion, json_t *challenger)
{
    json_t *o = json_object();
    const char *key;
    json_t *v;
    json_object_foreach(challenger, key, v)
    {
        json_t *c = json_object_get(champion, key);
        if (json_is_number(v) && json_is_number(c))
            json_object_set_new(o, key, num(json_number_value(v) - json_number_value(c)));
    }
    return o;
}

static json_t *disagreement(const weir_backtest_t *b, const model_acc_t *champ,
                            const model_acc_t *chal)
{
    uint64_t both = 0, differ = 0;
    double abs_diff = 0;
    for (size_t i = 0; i < b->n_events; i++) {
        if (champ->cls[i] == -2 || chal->cls[i] == -2)
            continue;
        both++;
        differ += champ->cls[i] != chal->cls[i];
        abs_diff += fabs(champ->score[i] - chal->score[i]);
    }
    json_t *o = json_pack("{s:I, s:o}", "events", (json_int_t)both, "mean_abs_score_difference",
                          num(both ? abs_diff / (double)both : NAN));
    if (champ->task != WEIR_TASK_REGRESSION && chal->task != WEIR_TASK_REGRESSION) {
        json_object_set_new(o, "differing", json_integer((json_int_t)differ));
        json_object_set_new(o, "share", num(both ? (double)differ / (double)both : NAN));
    }
    return o;
}

static const char *task_name(weir_task_t t)
{
    return t == WEIR_TASK_BINARY       ? "binary"
           : t == WEIR_TASK_MULTICLASS ? "multiclass"
                                       : "regression";
}

json_t *weir_backtest_report(weir_backtest_t *b, weir_backtest_context_t *ctx)
{
    int64_t width = b->cfg.bucket_ms, origin = 0;
    size_t nb = 0, *starts = NULL, *order = NULL;
    json_t *root = json_object(), *models = json_array();
    json_t *warnings = ctx->warnings ? ctx->warnings : json_array();
    ctx->warnings = NULL;
    if (buckets_of(b, &width, &origin, &nb, &starts, &order) != 0) {
        json_decref(root);
        json_decref(models);
        json_decref(warnings);
        return NULL;
    }
    if (width != b->cfg.bucket_ms) {
        char w[160];
        snprintf(w, sizeof(w),
                 "buckets widened from %" PRId64 " ms to %" PRId64 " ms (at most %d buckets)",
                 b->cfg.bucket_ms, width, WEIR_BACKTEST_MAX_BUCKETS);
        json_array_append_new(warnings, json_string(w));
    }
    json_t *champion_metrics = NULL;
    for (size_t m = 0; m < b->n_models; m++) {
        model_acc_t *a = &b->models[m];
        json_t *mo = json_object();
        json_object_set_new(mo, "name", json_string(weir_model_name(a->model)));
        json_object_set_new(mo, "version", json_string(weir_model_version(a->model)));
        json_object_set_new(mo, "role", json_string(m == 0 ? "champion" : "challenger"));
        json_object_set_new(mo, "task", json_string(task_name(a->task)));
        if (a->task == WEIR_TASK_BINARY)
            json_object_set_new(mo, "threshold", json_real(weir_model_threshold(a->model)));
        if (a->task != WEIR_TASK_REGRESSION) {
            json_t *classes = json_array();
            for (size_t c = 0; c < a->classes; c++)
                json_array_append_new(classes, json_string(weir_model_class(a->model, c)));
            json_object_set_new(mo, "classes", classes);
        }
        uint64_t dead_total, labels_unusable = 0;
        json_t *dead = dead_json(a->dead, &dead_total);
        pairs_t p;
        if (gather(b, a, 0, b->n_events, NULL, &p) != 0) {
            json_decref(mo);
            json_decref(dead);
            break;
        }
        for (size_t i = 0; i < b->n_events; i++)
            if (a->cls[i] != -2 && b->label[i] >= 0 && b->labels[b->label[i]].arrived &&
                isnan(label_value(a, &b->labels[b->label[i]])))
                labels_unusable++;
        json_object_set_new(mo, "counts",
                            json_pack("{s:I, s:I, s:I, s:o, s:I, s:I}", "events",
                                      (json_int_t)b->n_events, "scored", (json_int_t)a->scored,
                                      "dead_letters_total", (json_int_t)dead_total, "dead_letters",
                                      dead, "labelled", (json_int_t)p.n, "labels_not_a_class",
                                      (json_int_t)labels_unusable));
        json_object_set_new(mo, "dead_letter_examples", json_incref(a->dead_examples));
        json_object_set_new(mo, "score", score_section(b, a));
        json_t *extras = NULL;
        json_t *metrics = metrics_of(b, a, &p, 1, &extras);
        pairs_free(&p);
        json_object_set_new(mo, "metrics", metrics);
        if (extras) {
            const char *key;
            json_t *v;
            json_object_foreach(extras, key, v) json_object_set(mo, key, v);
            json_decref(extras);
        }
        json_object_set_new(mo, "buckets", buckets_json(b, a, width, origin, nb, starts, order));
        json_object_set_new(mo, "drift",
                            json_pack("{s:b, s:o, s:o, s:o}", "enabled", !a->drift_off, "data",
                                      timeline_json(&a->drift), "concept",
                                      timeline_json(&a->concept), "alerts", alerts_json(a)));
        if (m == 0) {
            champion_metrics = metrics;
        } else {
            json_object_set_new(mo, "vs_champion",
                                json_pack("{s:o, s:o}", "decision",
                                          disagreement(b, &b->models[0], a), "delta",
                                          deltas(champion_metrics, metrics)));
        }
        json_array_append_new(models, mo);
    }
    free(starts);
    free(order);

    uint64_t invalid_total = 0;
    json_t *invalid = dead_json(b->labels_invalid, &invalid_total);
    uint64_t arrived = 0, joined = 0;
    for (size_t l = 0; l < b->n_labels; l++) {
        arrived += b->labels[l].arrived;
        joined += b->labels[l].joined;
    }
    json_t *labels = ctx->labels ? ctx->labels : json_object();
    ctx->labels = NULL;
    json_object_set_new(labels, "read",
                        json_integer((json_int_t)(b->n_labels + b->labels_duplicate)));
    json_object_set_new(labels, "distinct", json_integer((json_int_t)b->n_labels));
    json_object_set_new(labels, "duplicates", json_integer((json_int_t)b->labels_duplicate));
    json_object_set_new(labels, "joined", json_integer((json_int_t)joined));
    json_object_set_new(labels, "arrived", json_integer((json_int_t)arrived));
    json_object_set_new(labels, "unmatched", json_integer((json_int_t)(b->n_labels - joined)));
    json_object_set_new(labels, "invalid_total", json_integer((json_int_t)invalid_total));
    json_object_set_new(labels, "invalid", invalid);
    json_object_set_new(labels, "invalid_examples", json_incref(b->label_examples));

    int64_t first, last;
    int any = weir_backtest_time_span(b, &first, &last);
    json_object_set_new(root, "format", json_string("weir.backtest/1"));
    json_object_set_new(root, "weir_version", json_string(WEIR_VERSION));
    json_object_set_new(root, "input", ctx->input ? ctx->input : json_object());
    ctx->input = NULL;
    json_object_set_new(root, "order", json_string("event_time, topic, partition, offset"));
    json_object_set_new(root, "counts",
                        json_pack("{s:I, s:I, s:I, s:I}", "records", (json_int_t)ctx->records,
                                  "outside_range", (json_int_t)ctx->skipped, "events",
                                  (json_int_t)b->n_events, "unreadable",
                                  (json_int_t)ctx->input_dead));
    json_object_set_new(
        root, "event_time",
        any ? json_pack("{s:o, s:o}", "first", time_json(first), "last", time_json(last))
            : json_null());
    json_object_set_new(root, "bucket_ms", json_integer(width));
    json_object_set_new(root, "labels", labels);
    json_object_set_new(root, "training", ctx->training ? ctx->training : json_array());
    ctx->training = NULL;
    json_object_set_new(root, "warnings", warnings);
    json_object_set_new(root, "models", models);
    return root;
}
