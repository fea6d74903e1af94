/*
 * drift_alarms.c — false alarms and detection delays on real `weir gen`
 * streams: reads an Avro container file of transactions, scores every event
 * with the bundle (transforms + model, in batches), feeds the drift monitor
 * exactly as the service does (raw source values, score, event time), and
 * prints every state change with its event index. With --labels, the labels
 * file is joined to the predictions (weir_label_join) and fed to concept
 * drift afterwards.
 *
 *   weir gen --out file:s.avro --count 1000000 --seed 3
 *   weir gen --out file:x.avro --count 400000 --seed 4 --shift amount=1.5@200000
 *   drift_alarms [-m model.json] [--shift-at N] [--labels labels.avro] [-X drift.key=value]... FILE
 *
 * The summary counts alerts before --shift-at as false alarms and reports,
 * per feature, the delay from --shift-at to its first alert.
 */
#include "drift.h"
#include "schemas.h"

#include <avro.h>

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One event at a time: strings borrow from the datum until the next read. */
#define BATCH 1
#define MAX_FEATURES 4096

typedef struct {
    const char *feature; /* NULL: score or concept */
    weir_drift_kind_t kind;
    long first;
} first_alert_t;

static void print_change(uint64_t index, const weir_drift_change_t *c)
{
    printf(
        "event %-9llu %-10s %-22s %-13s stat %-11.5g effect %-9.4g p %-10.3g sev %-8s n %llu%s%s\n",
        (unsigned long long)index, weir_drift_kind_name(c->kind),
        c->feature ? c->feature
                   : (c->kind == WEIR_DRIFT_CONCEPT || c->recovered_from == WEIR_DRIFT_CONCEPT
                          ? "(concept)"
                          : "(score)"),
        weir_drift_test_name(c->test), c->statistic, c->effect, c->p_value,
        weir_drift_severity_name(c->severity), (unsigned long long)c->window_count,
        c->metric ? " metric " : "", c->metric ? c->metric : "");
}

int main(int argc, char **argv)
{
    const char *model_path = WEIR_SOURCE_DIR "/examples/model.json", *labels_path = NULL;
    long shift_at = -1;
    char err[512], detail[256];
    weir_drift_config_t cfg;
    weir_model_t *m = NULL;
    weir_drift_t *d = NULL;
    weir_concept_t *concept = NULL;
    weir_label_join_t *join = NULL;
    weir_container_reader_t *r = NULL;
    double *rows = NULL, *work = NULL;
    float *out = NULL;
    weir_value_t *values = NULL;
    int64_t *times = NULL;
    char(*ids)[WEIR_LABEL_ID_MAX + 1] = NULL;
    weir_field_t *fields = NULL, time_field, id_field;
    int code = 2, opt;
    static const struct option longopts[] = {{"labels", required_argument, NULL, 'l'},
                                             {"shift-at", required_argument, NULL, 's'},
                                             {NULL, 0, NULL, 0}};

    weir_drift_config_default(&cfg);
    while ((opt = getopt_long(argc, argv, "m:X:", longopts, NULL)) != -1) {
        if (opt == 'm') {
            model_path = optarg;
        } else if (opt == 'l') {
            labels_path = optarg;
        } else if (opt == 's') {
            shift_at = atol(optarg);
        } else if (opt == 'X') {
            char *eq = strchr(optarg, '=');
            if (!eq) {
                fprintf(stderr, "drift_alarms: -X expects key=value\n");
                goto out;
            }
            *eq = '\0';
            if (weir_drift_config_set(&cfg, optarg, eq + 1, err, sizeof(err)) != 0) {
                fprintf(stderr, "drift_alarms: %s\n", err);
                goto out;
            }
        } else {
            goto out;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "usage: drift_alarms [-m model] [--shift-at N] [--labels FILE] "
                        "[-X key=value]... EVENTS.avro\n");
        goto out;
    }
    code = 1;
    if (weir_model_load(model_path, &m, err, sizeof(err)) != 0 ||
        weir_drift_new(m, &cfg, &d, err, sizeof(err)) != 0 ||
        weir_container_reader_open(argv[optind], &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "drift_alarms: %s\n", err);
        goto out;
    }
    size_t nf = weir_model_feature_count(m), cols = weir_model_columns(m);
    size_t outs = weir_model_outputs(m);
    avro_schema_t schema = weir_container_reader_schema(r);
    fields = calloc(nf, sizeof(*fields));
    values = calloc(BATCH * nf, sizeof(*values));
    rows = calloc(BATCH * cols, sizeof(double));
    work = calloc(weir_model_workspace_size(m, BATCH) + 1, sizeof(double));
    out = calloc(BATCH * outs, sizeof(float));
    times = calloc(BATCH, sizeof(int64_t));
    ids = calloc(BATCH, sizeof(*ids));
    if (!fields || !values || !rows || !work || !out || !times || !ids)
        goto out;
    for (size_t i = 0; i < nf; i++)
        if (weir_field_resolve(schema, weir_model_feature(m, i)->source, &fields[i], err,
                               sizeof(err)) != 0) {
            fprintf(stderr, "drift_alarms: %s\n", err);
            goto out;
        }
    if (weir_field_resolve(schema, "event_time", &time_field, err, sizeof(err)) != 0 ||
        weir_field_resolve(schema, "event_id", &id_field, err, sizeof(err)) != 0) {
        fprintf(stderr, "drift_alarms: %s\n", err);
        goto out;
    }
    if (labels_path) {
        if (weir_concept_new(m, &cfg, &concept, err, sizeof(err)) != 0 ||
            weir_label_join_new(2000000, INT64_C(24) * 3600 * 1000, &join) != 0) {
            fprintf(stderr, "drift_alarms: %s\n", err);
            goto out;
        }
    }

    /* the largest effect / threshold each key reached: the margin of the defaults */
    size_t n_keys = weir_drift_stat_count(d);
    double *margin = calloc(n_keys + 1, sizeof(double)),
           *min_p = calloc(n_keys + 1, sizeof(double));
    double *both = calloc(n_keys + 1, sizeof(double)); /* largest margin while significant */
    uint64_t *margin_at = calloc(n_keys + 1, sizeof(uint64_t));
    if (!margin || !min_p || !both || !margin_at)
        goto out;
    for (size_t k = 0; k < n_keys; k++)
        min_p[k] = 1.0;
    first_alert_t firsts[MAX_FEATURES + 2];
    size_t n_firsts = 0;
    uint64_t index = 0, false_alarms = 0, alerts = 0, recoveries = 0, refused = 0;
    size_t batch = 0;
    int done = 0;
    while (!done) {
        avro_value_t *value;
        const uint8_t *body;
        size_t body_len, skipped;
        weir_reason_t reason;
        int rc = weir_container_reader_next(r, &value, &body, &body_len, &skipped, &reason, detail,
                                            sizeof(detail));
        if (rc == 1) {
            size_t bad;
            weir_value_t t, id;
            for (size_t i = 0; i < nf; i++)
                weir_field_get(&fields[i], value, &values[batch * nf + i]);
            weir_field_get(&time_field, value, &t);
            weir_field_get(&id_field, value, &id);
            times[batch] = (int64_t)t.number;
            size_t len = id.length < WEIR_LABEL_ID_MAX ? id.length : WEIR_LABEL_ID_MAX;
            memcpy(ids[batch], id.string, len);
            ids[batch][len] = '\0';
            if (weir_transform_row(m, &values[batch * nf], &rows[batch * cols], &bad) != 0) {
                refused++;
                continue;
            }
            batch++;
        } else if (rc < 0) {
            refused++;
            continue;
        }
        if (rc == 0)
            done = 1;
        if (batch == 0)
            continue;
        weir_model_predict(m, rows, batch, work, out);
        for (size_t b = 0; b < batch; b++, index++) {
            double score;
            int cls;
            weir_model_decide(m, &out[b * outs], &score, &cls);
            weir_drift_observe(d, &values[b * nf], score, times[b]);
            if (join)
                weir_label_join_put(join, ids[b], strlen(ids[b]), score, cls, times[b]);
            if (!weir_drift_due(d, times[b]))
                continue;
            const weir_drift_change_t *c;
            size_t n;
            weir_drift_evaluate(d, times[b], &c, &n);
            for (size_t k = 0; k < n_keys && (shift_at < 0 || (long)index < shift_at); k++) {
                const weir_drift_stat_t *st = weir_drift_stat(d, k);
                if (st->evaluated && st->effect / st->threshold > margin[k]) {
                    margin[k] = st->effect / st->threshold;
                    margin_at[k] = index;
                }
                if (st->evaluated && (isnan(st->p_adjusted) || st->p_adjusted <= cfg.alpha) &&
                    st->effect / st->threshold > both[k])
                    both[k] = st->effect / st->threshold;
                if (st->evaluated && st->p_adjusted < min_p[k])
                    min_p[k] = st->p_adjusted;
            }
            for (size_t k = 0; k < n; k++) {
                print_change(index, &c[k]);
                if (c[k].kind == WEIR_DRIFT_RECOVERED) {
                    recoveries++;
                    continue;
                }
                alerts++;
                if (shift_at < 0 || (long)index < shift_at) {
                    false_alarms++;
                    continue;
                }
                size_t f = 0;
                while (f < n_firsts && !(firsts[f].kind == c[k].kind &&
                                         ((!firsts[f].feature && !c[k].feature) ||
                                          (firsts[f].feature && c[k].feature &&
                                           !strcmp(firsts[f].feature, c[k].feature)))))
                    f++;
                if (f == n_firsts && n_firsts < MAX_FEATURES + 2)
                    firsts[n_firsts++] = (first_alert_t){c[k].feature, c[k].kind, (long)index};
            }
        }
        batch = 0;
    }

    uint64_t concept_alerts = 0;
    if (labels_path) {
        weir_container_reader_t *lr = NULL;
        weir_field_t lid;
        if (weir_container_reader_open(labels_path, &lr, err, sizeof(err)) != 0 ||
            weir_field_resolve(weir_container_reader_schema(lr), "event_id", &lid, err,
                               sizeof(err)) != 0) {
            fprintf(stderr, "drift_alarms: %s\n", err);
            weir_container_reader_close(lr);
            goto out;
        }
        uint64_t pairs = 0;
        double worst_perf = 0.0;
        const char *worst_metric = "";
        for (;;) {
            avro_value_t *value;
            const uint8_t *body;
            size_t body_len, skipped;
            weir_reason_t reason;
            int rc = weir_container_reader_next(lr, &value, &body, &body_len, &skipped, &reason,
                                                detail, sizeof(detail));
            if (rc == 0)
                break;
            if (rc < 0)
                continue;
            weir_value_t id;
            double score, label = NAN;
            int cls;
            int64_t t;
            avro_value_t field, branch;
            weir_field_get(&lid, value, &id);
            /* label is a union of double and string: weir gen writes doubles */
            if (avro_value_get_by_name(value, "label", &field, NULL) == 0 &&
                avro_value_get_current_branch(&field, &branch) == 0 &&
                avro_value_get_type(&branch) == AVRO_DOUBLE)
                avro_value_get_double(&branch, &label);
            if (!weir_label_join_take(join, id.string, id.length, &score, &cls, &t))
                continue;
            weir_concept_observe(concept, score, cls, label, t);
            pairs++;
            if (!weir_concept_due(concept, t))
                continue;
            const weir_drift_change_t *c;
            size_t n;
            weir_concept_evaluate(concept, t, &c, &n);
            for (size_t k = 0; k < weir_concept_stat_count(concept); k++) {
                const weir_drift_stat_t *st = weir_concept_stat(concept, k);
                if (st->test == WEIR_DRIFT_PERFORMANCE && st->evaluated &&
                    (shift_at < 0 || (long)pairs < shift_at) && st->effect > worst_perf) {
                    worst_perf = st->effect;
                    worst_metric = st->metric ? st->metric : "";
                }
            }
            for (size_t k = 0; k < n; k++) {
                printf("pair %-10llu ", (unsigned long long)pairs);
                print_change(pairs, &c[k]);
                concept_alerts += c[k].kind != WEIR_DRIFT_RECOVERED;
            }
        }
        weir_container_reader_close(lr);
        printf("concept: largest performance degradation before the shift %.3f (%s)\n", worst_perf,
               worst_metric);
        weir_concept_summary_t s;
        weir_label_join_counters_t jc;
        weir_concept_summary(concept, &s);
        weir_label_join_counters(join, &jc);
        printf("concept: %llu pairs, %llu alerts; window: precision %.3f recall %.3f f1 %.3f "
               "auc %.4f; detections ddm %llu adwin %llu ph %llu; join matched %llu pending %llu\n",
               (unsigned long long)s.pairs, (unsigned long long)concept_alerts, s.precision,
               s.recall, s.f1, s.auc, (unsigned long long)s.ddm_detections,
               (unsigned long long)s.adwin_detections,
               (unsigned long long)s.page_hinkley_detections, (unsigned long long)jc.matched,
               (unsigned long long)jc.pending);
    }

    printf("summary: %llu events (%llu refused), %llu evaluations, %llu alerts, %llu recoveries, "
           "%llu before the shift (false alarms)\n",
           (unsigned long long)index, (unsigned long long)refused,
           (unsigned long long)weir_drift_evaluations(d), (unsigned long long)alerts,
           (unsigned long long)recoveries, (unsigned long long)false_alarms);
    printf("largest effect/threshold before the shift (top 8 keys):\n");
    for (int top = 0; top < 8; top++) {
        size_t best = n_keys;
        for (size_t k = 0; k < n_keys; k++)
            if (margin[k] >= 0 && (best == n_keys || margin[k] > margin[best]))
                best = k;
        if (best == n_keys)
            break;
        const weir_drift_stat_t *st = weir_drift_stat(d, best);
        printf("  %-24s %-12s max effect/threshold %.3f (event %llu)  min adjusted p %.3g  "
               "max effect/threshold when significant %.3f\n",
               st->feature ? st->feature : "(score)", weir_drift_test_name(st->test), margin[best],
               (unsigned long long)margin_at[best], min_p[best], both[best]);
        margin[best] = -1;
    }
    free(margin);
    free(min_p);
    free(both);
    free(margin_at);
    for (size_t f = 0; f < n_firsts; f++)
        printf("first alert: %-10s %-24s %ld events after the shift\n",
               weir_drift_kind_name(firsts[f].kind),
               firsts[f].feature ? firsts[f].feature : "(score)", firsts[f].first - shift_at);
    code = 0;
out:
    weir_container_reader_close(r);
    weir_concept_destroy(concept);
    weir_label_join_destroy(join);
    weir_drift_destroy(d);
    weir_model_destroy(m);
    free(fields);
    free(values);
    free(rows);
    free(work);
    free(out);
    free(times);
    free(ids);
    return code;
}
