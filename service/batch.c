/*
 * batch.c — `weir batch --model M --in events.avro --out scored.avro`.
 *
 * Reads the input container through the bounded reader, scores it in
 * micro-batches with the pipeline `weir run` uses (raw framing: the container
 * already says the schema), writes ScoredEvents to a container file, and every
 * event that cannot be scored to a dead-letter file (JSON lines: index,
 * reason, detail, the datum in base64) — or, when the output is a database
 * (sink.h), upserts both into tables, one transaction per micro-batch.
 * Nothing is dropped silently: the summary counts every input event as scored
 * or dead.
 *
 * The report (docs/batch-report.md) judges the file in windows of
 * drift.window events, as `weir run` would, and with --labels joins a file of
 * Label records by event id for concept drift and realised performance,
 * beside the performance estimated from the scores alone (CBPE).
 */
#include "batch.h"
#include "cli.h"
#include "common.h"
#include "clock.h"
#include "config.h"
#include "drift.h"
#include "log.h"
#include "metrics.h"
#include "engine.h"
#include "schemas.h"
#include "scoring.h"
#include "sink.h"

#include <cblas.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define BATCH 512
/* Labels a run keeps at most (about 150 bytes each): past it, the oldest go. */
#define LABELS_MAX ((size_t)1 << 24)

/* --labels: the labels by event id, concept drift, and the current window's
 * realised confusion matrix and AUC pairs beside CBPE's estimate. */
typedef struct {
    weir_label_join_t *join;
    weir_concept_t *concept;
    uint64_t read, invalid;
    json_t *concept_alerts;
    uint64_t tp, fp, tn, fn, pairs;
    weir_auc_pair_t *auc;
    size_t auc_len, auc_cap;
} batch_labels_t;

typedef struct {
    weir_drift_t *drift; /* the file against the bundle's reference */
    FILE *dlq;
    char *dlq_path;
    weir_sink_t *sink; /* the output is a database: dead letters go to its table */
    uint64_t events, scored, dead[WEIR_REASON__COUNT];
    uint64_t positives;
    double score_sum, score_min, score_max;
    uint64_t score_hist[20]; /* scores in [0,1] by 0.05 (classification) */
    batch_labels_t labels;
    json_t *windows; /* one verdict per full drift window */
} batch_stats_t;

/* Everything `weir batch` takes from its command line. */
typedef struct {
    weir_config_args_t config; /* -c FILE, -X key=value */
    const char *model, *in, *out, *dlq, *report;
    const char *id_field, *time_field, *drift_window; /* onto their config keys */
    const char *codec;
    const char *labels; /* file:PATH of Label records */
    const char *keep;   /* input fields stored beside the predictions (database output) */
    int quiet, help;
} batch_options_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: weir batch --model M --in events.avro --out scored.avro|sqlite:PATH[#TABLE]|\n"
            "                  postgresql://...[#TABLE] [options]\n"
            "\n"
            "Scores an Avro object container file with a model bundle, offline, through the\n"
            "same decode, transform and scoring code as weir run.\n"
            "\n"
            "  --model M          the model bundle (weir.model/1 JSON) [model.path]\n"
            "  --in PATH          input Avro container file (any record schema the bundle reads)\n"
            "  --out PATH         output container file of ScoredEvent records, or a database:\n"
            "                     sqlite:PATH[#TABLE] or postgresql://USER@HOST:PORT/DB[#TABLE]\n"
            "                     (table [predictions], upserted by (event_id, model_version);\n"
            "                     dead letters in TABLE_dead_letters; one transaction per 512\n"
            "                     events)\n"
            "  --keep F,...       input fields stored as columns beside each prediction\n"
            "                     (database output only)\n"
            "  --dlq PATH         dead letters as JSON lines [OUT.dead.jsonl, only if any]\n"
            "  --report PATH      a JSON summary of the run\n"
            "  --id-field F       input field with the event id [input.id.field, event_id]\n"
            "  --time-field F     input field with the event time in ms [input.time.field,\n"
            "                     event_time]\n"
            "  --codec C          output codec: deflate, deflate:LEVEL (1-9) or null [deflate]\n"
            "  --drift-window N   the report's drift section compares the last N scored\n"
            "                     events with the bundle's reference [drift.window, 100000]\n"
            "  --labels file:P    an Avro container of Label records (schemas/label.avsc),\n"
            "                     joined by event id: concept drift and realised performance\n"
            "                     in the report\n"
            "  -c, --config FILE  a weir.conf: model.path, input.id.field, input.time.field,\n"
            "                     log.level and the drift.* keys apply; the options above\n"
            "                     override it\n"
            "  -X key=value       set or override one key (repeatable; after the file)\n"
            "  -q, --quiet        no progress lines\n"
            "  -h, --help         this help\n"
            "\n"
            "Exit codes: 0 done (dead letters, if any, are in the dlq file); 1 runtime failure,\n"
            "or a file broken past some point (what precedes it is scored and written); 2 usage,\n"
            "a bad model or configuration, or an input the model cannot read.\n");
}

static int batch_parse(int argc, char **argv, batch_options_t *o, char *err, size_t errsz)
{
    static const struct option long_opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"in", required_argument, NULL, 'i'},
        {"out", required_argument, NULL, 'o'},
        {"dlq", required_argument, NULL, 'd'},
        {"report", required_argument, NULL, 'r'},
        {"id-field", required_argument, NULL, 'I'},
        {"time-field", required_argument, NULL, 'T'},
        {"codec", required_argument, NULL, 'C'},
        {"keep", required_argument, NULL, 'K'},
        {"drift-window", required_argument, NULL, 'W'},
        {"config", required_argument, NULL, 'c'},
        {"labels", required_argument, NULL, 'L'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, rc = 0;
    memset(o, 0, sizeof(*o));
    o->codec = "deflate";
    optind = 1;
    opterr = 0;
    while (rc == 0 && (opt = getopt_long(argc, argv, ":c:X:qh", long_opts, NULL)) != -1) {
        switch (opt) {
        case 'm':
            o->model = optarg;
            break;
        case 'i':
            o->in = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'd':
            o->dlq = optarg;
            break;
        case 'r':
            o->report = optarg;
            break;
        case 'I':
            o->id_field = optarg;
            break;
        case 'T':
            o->time_field = optarg;
            break;
        case 'C':
            o->codec = optarg;
            break;
        case 'K':
            o->keep = optarg;
            break;
        case 'W':
            o->drift_window = optarg;
            break;
        case 'L':
            o->labels = optarg;
            break;
        case 'c':
            rc = weir_cli_config_file(&o->config, optarg, err, errsz);
            break;
        case 'X':
            rc = weir_cli_config_override(&o->config, optarg, err, errsz);
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            o->help = 1;
            break;
        default:
            rc = weir_cli_option_error("batch", opt, argc, argv, err, errsz);
            break;
        }
    }
    if (rc || o->help)
        return rc;
    if (optind < argc)
        return weir_cli_stray_argument("batch", argv[optind], err, errsz);
    if (o->labels && !o->report)
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "--labels: the labels are judged in the report; add --report PATH");
    int level;
    if (weir_container_codec_parse(o->codec, &level) != 0) {
        char quoted[96];
        weir_config_quote(quoted, sizeof(quoted), o->codec, strlen(o->codec));
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "--codec: deflate, deflate:1 to deflate:9 or null, got %s", quoted);
    }
    if (o->out && weir_sink_is_target(o->out) && o->dlq)
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "--dlq: a database output keeps its dead letters in a table");
    if (o->keep && !(o->out && weir_sink_is_target(o->out)))
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "--keep: only with a database output (sqlite: or postgresql://)");
    return 0;
}

/* The configuration of a run: the -c file, -X, then the options that stand
 * for keys, each remembered as the origin of its key. Without drift.window
 * set anywhere, the report's window is 100000 events; a file is judged once,
 * so drift.step is the window. */
static int batch_config(const batch_options_t *o, weir_config_t *cfg, char *err, size_t errsz)
{
    const char *const mapped[][3] = {
        {"model.path", "--model", o->model},
        {"input.id.field", "--id-field", o->id_field},
        {"input.time.field", "--time-field", o->time_field},
        {"drift.window", "--drift-window", o->drift_window},
    };
    int rc = weir_config_apply_args(cfg, &o->config, err, errsz);
    for (size_t i = 0; i < sizeof(mapped) / sizeof(mapped[0]) && rc == 0; i++)
        if (mapped[i][2])
            rc = weir_config_set_from(cfg, mapped[i][0], mapped[i][2], mapped[i][1], err, errsz);
    if (rc)
        return rc;
    if (!weir_config_origin(cfg, "drift.window"))
        cfg->drift.window = 100000;
    cfg->drift.step = cfg->drift.window;
    if ((rc = weir_config_check(cfg, err, errsz)) != 0)
        return rc;
    if (!*cfg->model_path || !o->in || !o->out)
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "--model, --in and --out are required (the model may come from "
                           "model.path in the -c file; see weir batch -h)");
    return 0;
}

static void base64(const uint8_t *in, size_t n, FILE *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        fputc(tbl[(v >> 18) & 63], out);
        fputc(tbl[(v >> 12) & 63], out);
        fputc(i + 1 < n ? tbl[(v >> 6) & 63] : '=', out);
        fputc(i + 2 < n ? tbl[v & 63] : '=', out);
    }
}

static int dead_letter(batch_stats_t *s, const char *out_path, uint64_t index, weir_reason_t reason,
                       const char *detail, const uint8_t *datum, size_t len)
{
    s->dead[reason]++;
    if (s->sink) {
        char err[1024];
        int rc = weir_sink_dead(s->sink, index, weir_reason_name(reason), detail, datum, len,
                                weir_clock_wall_ms(), err, sizeof(err));
        if (rc)
            fprintf(stderr, "weir batch: %s\n", err);
        return rc;
    }
    if (!s->dlq) {
        s->dlq = fopen(s->dlq_path, "w");
        if (!s->dlq) {
            fprintf(stderr, "weir batch: %s: cannot create the dead-letter file\n", s->dlq_path);
            return WEIR_EIO;
        }
    }
    json_t *line = json_pack("{s:I, s:s, s:s}", "index", (json_int_t)index, "reason",
                             weir_reason_name(reason), "detail", detail ? detail : "");
    char *text = json_dumps(line, JSON_COMPACT);
    json_decref(line);
    if (!text)
        return WEIR_ENOMEM;
    /* The datum goes last, in base64, appended to the compact object. */
    text[strlen(text) - 1] = '\0';
    fprintf(s->dlq, "%s,\"value_base64\":\"", text);
    free(text);
    if (datum)
        base64(datum, len, s->dlq);
    fputs("\"}\n", s->dlq);
    if (ferror(s->dlq)) {
        fprintf(stderr, "weir batch: %s: cannot write the dead-letter file\n", s->dlq_path);
        return WEIR_EIO;
    }
    return 0;
}

/* Reads every Label of the container at @p path into the join. */
static int labels_open(batch_labels_t *l, const char *spec, const weir_model_t *m,
                       const weir_drift_config_t *cfg)
{
    char err[1024], detail[256];
    weir_container_reader_t *r = NULL;
    int rc = 0;
    if (strncmp(spec, "file:", 5) != 0) {
        fprintf(stderr, "weir batch: --labels: expected file:PATH, got \"%s\"\n", spec);
        return WEIR_EINVAL;
    }
    if ((rc = weir_label_join_new(LABELS_MAX, INT64_MAX / 4, &l->join)) != 0 ||
        (rc = weir_concept_new(m, cfg, &l->concept, err, sizeof(err))) != 0 ||
        (rc = weir_container_reader_open(spec + 5, &r, err, sizeof(err))) != 0) {
        fprintf(stderr, "weir batch: --labels: %s\n", rc == WEIR_ENOMEM ? "out of memory" : err);
        return rc;
    }
    l->concept_alerts = json_array();
    for (;;) {
        avro_value_t *value, id, label;
        const uint8_t *body;
        size_t len = 0, skipped = 0, id_len = 0;
        weir_reason_t reason;
        const char *s = NULL;
        double v = 0;
        int got = weir_container_reader_next(r, &value, &body, &len, &skipped, &reason, detail,
                                             sizeof(detail));
        if (got == 0)
            break;
        if (got < 0 && got != WEIR_EDECODE) {
            fprintf(stderr, "weir batch: --labels: %s\n", detail);
            rc = got;
            break;
        }
        if (got == WEIR_EDECODE || avro_value_get_by_name(value, "event_id", &id, NULL) != 0 ||
            avro_value_get_by_name(value, "label", &label, NULL) != 0 ||
            avro_value_get_string(&id, &s, &id_len) != 0 ||
            weir_monitor_label_value(m, &label, &v, detail, sizeof(detail)) != 0 ||
            weir_label_join_put(l->join, s, id_len ? id_len - 1 : 0, v, 0, 0) != 0) {
            l->invalid += 1 + skipped;
            continue;
        }
        l->read++;
    }
    weir_container_reader_close(r);
    return rc;
}

/* The realised metrics of the window's labelled events, then a fresh window. */
static json_t *labels_window(batch_labels_t *l)
{
    json_t *o = json_pack("{s:I}", "pairs", (json_int_t)l->pairs);
    if (l->tp + l->fp > 0)
        json_object_set_new(o, "precision", json_real((double)l->tp / (double)(l->tp + l->fp)));
    if (l->tp + l->fn > 0)
        json_object_set_new(o, "recall", json_real((double)l->tp / (double)(l->tp + l->fn)));
    if (2 * l->tp + l->fp + l->fn > 0)
        json_object_set_new(o, "f1",
                            json_real(2.0 * (double)l->tp / (double)(2 * l->tp + l->fp + l->fn)));
    double auc = weir_roc_auc(l->auc, l->auc_len);
    if (auc == auc)
        json_object_set_new(o, "auc", json_real(auc));
    l->tp = l->fp = l->tn = l->fn = l->pairs = 0;
    l->auc_len = 0;
    return o;
}

/* One labelled prediction: concept drift, and the window's realised metrics. */
static void labels_observe(batch_labels_t *l, const weir_model_t *m, const char *id, double score,
                           int class_index, int64_t time_ms)
{
    double label;
    int unused;
    int64_t at;
    if (!l->join || weir_label_join_take(l->join, id, strlen(id), &label, &unused, &at) != 1)
        return;
    weir_concept_observe(l->concept, score, class_index, label, time_ms);
    if (weir_concept_due(l->concept, time_ms)) {
        const weir_drift_change_t *c;
        size_t n;
        weir_concept_evaluate(l->concept, time_ms, &c, &n);
        for (size_t i = 0; i < n; i++)
            json_array_append_new(
                l->concept_alerts,
                json_pack("{s:s, s:s, s:s?, s:f, s:f, s:s, s:I}", "kind",
                          weir_drift_kind_name(c[i].kind), "test", weir_drift_test_name(c[i].test),
                          "metric", c[i].metric, "statistic", c[i].statistic, "threshold",
                          c[i].threshold, "severity", weir_drift_severity_name(c[i].severity),
                          "pairs", (json_int_t)weir_concept_stat(l->concept, 0)->window_count));
    }
    if (weir_model_task(m) != WEIR_TASK_BINARY)
        return;
    int positive = label == 1.0, predicted = class_index == 1;
    l->tp += positive && predicted;
    l->fp += !positive && predicted;
    l->fn += positive && !predicted;
    l->tn += !positive && !predicted;
    l->pairs++;
    if (l->auc_len == l->auc_cap) {
        size_t cap = l->auc_cap ? 2 * l->auc_cap : 4096;
        weir_auc_pair_t *grown = realloc(l->auc, cap * sizeof(*grown));
        if (!grown)
            return;
        l->auc = grown;
        l->auc_cap = cap;
    }
    l->auc[l->auc_len++] = (weir_auc_pair_t){score, positive};
}

static json_t *cbpe_json(const weir_cbpe_t *e)
{
    json_t *o = json_object();
    const struct {
        const char *name;
        double v;
    } m[] = {{"precision", e->precision},
             {"recall", e->recall},
             {"f1", e->f1},
             {"accuracy", e->accuracy},
             {"auc", e->auc}};
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (m[i].v == m[i].v)
            json_object_set_new(o, m[i].name, json_real(m[i].v));
    return o;
}

/* One full window: its verdicts, and performance estimated and realised. */
static void window_report(batch_stats_t *s, const weir_model_t *m)
{
    const weir_drift_change_t *changes;
    size_t n_changes;
    weir_drift_dataset_verdict_t ds;
    weir_drift_cbpe_summary_t cbpe;
    weir_drift_evaluate(s->drift, 0, &changes, &n_changes);
    weir_drift_dataset_verdict(s->drift, &ds);
    weir_drift_cbpe(s->drift, &cbpe);
    json_t *drifted = json_array(), *w;
    for (size_t i = 0; i < weir_drift_feature_count(s->drift); i++)
        if (weir_drift_feature_verdict(s->drift, i)->drifted)
            json_array_append_new(drifted,
                                  json_string(weir_drift_feature_verdict(s->drift, i)->feature));
    w = json_pack("{s:I, s:I, s:b, s:o}", "index", (json_int_t)json_array_size(s->windows),
                  "events", (json_int_t)weir_drift_window_count(s->drift), "dataset_drifted",
                  ds.drifted, "drifted_features", drifted);
    if (ds.evaluated)
        json_object_set_new(w, "drifted_share", json_real(ds.share));
    for (size_t i = 0; i < weir_drift_stat_count(s->drift); i++) {
        const weir_drift_stat_t *st = weir_drift_stat(s->drift, i);
        if (st->test == WEIR_DRIFT_PCA && st->evaluated)
            json_object_set_new(
                w, "pca", json_pack("{s:f, s:b}", "error", st->statistic, "drifted", st->failed));
    }
    if (cbpe.enabled && cbpe.window_count > 0)
        json_object_set_new(w, "estimated", cbpe_json(&cbpe.estimate));
    if (s->labels.join && weir_model_task(m) == WEIR_TASK_BINARY)
        json_object_set_new(w, "realised", labels_window(&s->labels));
    json_array_append_new(s->windows, w);
}

/* The file's last drift.window events against the reference: one evaluation,
 * each test's statistic, effect and p-value, and whether it is past its
 * threshold (the alert policy's k consecutive failures need a stream; a file
 * is judged once). */
static json_t *drift_report(weir_drift_t *d)
{
    const weir_drift_change_t *changes;
    size_t n_changes;
    json_t *tests = json_array();
    weir_drift_evaluate(d, 0, &changes, &n_changes);
    size_t drifted = 0;
    for (size_t i = 0; i < weir_drift_stat_count(d); i++) {
        const weir_drift_stat_t *st = weir_drift_stat(d, i);
        if (!st->evaluated)
            continue;
        json_t *t = json_pack(
            "{s:s, s:s, s:s, s:f, s:f, s:f, s:b, s:I, s:I}", "kind", weir_drift_kind_name(st->kind),
            "feature", st->feature ? st->feature : "score", "test", weir_drift_test_name(st->test),
            "statistic", st->statistic, "effect", st->effect, "threshold", st->threshold, "drifted",
            st->consecutive_fails > 0, "window_count", (json_int_t)st->window_count,
            "reference_size", (json_int_t)st->reference_size);
        if (st->p_value == st->p_value)
            json_object_set_new(t, "p_value", json_real(st->p_value));
        if (st->p_adjusted == st->p_adjusted)
            json_object_set_new(t, "p_adjusted", json_real(st->p_adjusted));
        drifted += st->consecutive_fails > 0;
        json_array_append_new(tests, t);
    }
    json_t *features = json_array();
    for (size_t i = 0; i < weir_drift_feature_count(d); i++) {
        const weir_drift_feature_verdict_t *v = weir_drift_feature_verdict(d, i);
        json_t *failing = json_array();
        for (int t = 0; t < WEIR_DRIFT_TEST__COUNT; t++)
            if (v->failing & WEIR_DRIFT_BIT(t))
                json_array_append_new(failing, json_string(weir_drift_test_name(t)));
        json_array_append_new(features,
                              json_pack("{s:s, s:b, s:b, s:o}", "feature", v->feature, "evaluated",
                                        v->evaluated, "drifted", v->drifted, "failing", failing));
    }
    weir_drift_dataset_verdict_t ds;
    weir_drift_dataset_verdict(d, &ds);
    json_t *dataset =
        json_pack("{s:I, s:I, s:f, s:b}", "features_evaluated", (json_int_t)ds.features_evaluated,
                  "features_drifted", (json_int_t)ds.features_drifted, "threshold", ds.threshold,
                  "drifted", ds.drifted);
    if (ds.evaluated)
        json_object_set_new(dataset, "share", json_real(ds.share));
    json_t *out =
        json_pack("{s:b, s:I, s:I, s:o, s:o, s:o}", "enabled", 1, "events",
                  (json_int_t)weir_drift_window_count(d), "tests_drifted", (json_int_t)drifted,
                  "tests", tests, "features", features, "dataset", dataset);
    weir_drift_cbpe_summary_t cbpe;
    weir_drift_cbpe(d, &cbpe);
    if (cbpe.enabled)
        json_object_set_new(out, "estimated_performance",
                            json_pack("{s:o, s:o, s:I}", "window", cbpe_json(&cbpe.estimate),
                                      "reference", cbpe_json(&cbpe.reference), "window_count",
                                      (json_int_t)cbpe.window_count));
    return out;
}

static json_t *concept_report(batch_labels_t *l, const weir_model_t *m)
{
    const weir_drift_change_t *c;
    size_t n;
    weir_concept_summary_t s;
    weir_concept_evaluate(l->concept, 0, &c, &n);
    weir_concept_summary(l->concept, &s);
    weir_label_join_counters_t j;
    weir_label_join_counters(l->join, &j);
    json_t *o = json_pack(
        "{s:I, s:I, s:I, s:I, s:{s:I, s:I, s:I}, s:o}", "labels_read", (json_int_t)l->read,
        "labels_invalid", (json_int_t)l->invalid, "pairs", (json_int_t)s.pairs, "labels_unmatched",
        (json_int_t)j.pending, "detections", "ddm", (json_int_t)s.ddm_detections, "adwin",
        (json_int_t)s.adwin_detections, "page_hinkley", (json_int_t)s.page_hinkley_detections,
        "alerts", json_incref(l->concept_alerts));
    json_t *perf = json_object();
    const struct {
        const char *name;
        double v;
    } metrics[] = {
        {"precision", s.precision}, {"recall", s.recall}, {"f1", s.f1},     {"auc", s.auc},
        {"accuracy", s.accuracy},   {"mae", s.mae},       {"rmse", s.rmse}, {"r2", s.r2}};
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
        if (metrics[i].v == metrics[i].v)
            json_object_set_new(perf, metrics[i].name, json_real(metrics[i].v));
    if (weir_model_task(m) == WEIR_TASK_BINARY)
        json_object_set_new(perf, "confusion",
                            json_pack("{s:I, s:I, s:I, s:I}", "tp", (json_int_t)s.tp, "fp",
                                      (json_int_t)s.fp, "tn", (json_int_t)s.tn, "fn",
                                      (json_int_t)s.fn));
    json_object_set_new(o, "performance", perf);
    json_object_set_new(o, "window_count", json_integer((json_int_t)s.window_count));
    return o;
}

static int write_report(const char *path, batch_stats_t *s, const weir_model_t *m, const char *in,
                        const char *out, double seconds)
{
    json_t *dead = json_object();
    uint64_t dead_total = 0;
    for (int r = 1; r < WEIR_REASON__COUNT; r++) {
        if (s->dead[r])
            json_object_set_new(dead, weir_reason_name((weir_reason_t)r),
                                json_integer((json_int_t)s->dead[r]));
        dead_total += s->dead[r];
    }
    json_t *score = json_object();
    if (s->scored > 0) {
        json_object_set_new(score, "mean", json_real(s->score_sum / (double)s->scored));
        json_object_set_new(score, "min", json_real(s->score_min));
        json_object_set_new(score, "max", json_real(s->score_max));
        if (weir_model_task(m) != WEIR_TASK_REGRESSION) {
            json_t *hist = json_array();
            for (int i = 0; i < 20; i++)
                json_array_append_new(hist, json_integer((json_int_t)s->score_hist[i]));
            json_object_set_new(score, "histogram_0_to_1_by_0.05", hist);
            json_object_set_new(score, "predicted_positive_rate",
                                json_real((double)s->positives / (double)s->scored));
        }
    }
    json_t *root =
        json_pack("{s:s, s:{s:s, s:s}, s:s, s:s, s:I, s:I, s:I, s:o, s:o, s:f, s:f}", "format",
                  "weir.batch-report/1", "model", "name", weir_model_name(m), "version",
                  weir_model_version(m), "input", in, "output", out, "events",
                  (json_int_t)s->events, "scored", (json_int_t)s->scored, "dead_letters_total",
                  (json_int_t)dead_total, "dead_letters", dead, "score", score, "seconds", seconds,
                  "events_per_second", seconds > 0 ? (double)s->events / seconds : 0.0);
    if (s->sink && dead_total)
        json_object_set_new(root, "dead_letter_table", json_string(weir_sink_dead_table(s->sink)));
    else if (s->dlq_path && dead_total)
        json_object_set_new(root, "dead_letter_file", json_string(s->dlq_path));
    if (s->windows)
        json_object_set_new(root, "windows", json_incref(s->windows));
    json_object_set_new(root, "drift",
                        s->drift ? drift_report(s->drift) : json_pack("{s:b}", "enabled", 0));
    if (s->labels.join)
        json_object_set_new(root, "concept", concept_report((batch_labels_t *)&s->labels, m));
    int rc = json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    if (rc != 0) {
        fprintf(stderr, "weir batch: %s: cannot write the report\n", path);
        return WEIR_EIO;
    }
    return 0;
}

/* Scores the @p n datums gathered in @p bodies and writes their outcomes. */
static int flush_batch(weir_pipeline_t *p, const weir_model_t *m, weir_pipeline_item_t *items,
                       size_t *offsets, uint64_t *indexes, size_t n, weir_buf_t *bodies,
                       weir_container_writer_t *w, batch_stats_t *s, const char *out_path)
{
    char err[512];
    for (size_t i = 0; i < n; i++) {
        items[i].value = bodies->data + offsets[i];
        items[i].value_len = (i + 1 < n ? offsets[i + 1] : bodies->len) - offsets[i];
        items[i].fallback_time_ms = 0;
    }
    int64_t now_ms = weir_clock_wall_ms();
    int rc = weir_pipeline_run(p, m, items, n, now_ms, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "weir batch: %s\n", err);
        return rc;
    }
    const uint8_t *out = weir_pipeline_output(p);
    const float *outputs = weir_pipeline_outputs(p);
    size_t n_outputs = weir_model_outputs(m);
    for (size_t i = 0; i < n && rc == 0; i++) {
        weir_pipeline_item_t *it = &items[i];
        if (!it->scored) {
            rc = dead_letter(s, out_path, indexes[i], it->reason, it->detail, it->value,
                             it->value_len);
            continue;
        }
        if (s->sink) {
            rc = weir_sink_row(s->sink, it->event_id, it->event_time_ms,
                               outputs + it->row * n_outputs, it->score, it->class_index, now_ms,
                               it->value, it->value_len, err, sizeof(err));
            if (rc != 0) {
                fprintf(stderr, "weir batch: %s\n", err);
                break;
            }
        } else if ((rc = weir_container_writer_append(w, out + it->out_offset, it->out_len)) != 0) {
            /* The pipeline hands over only what the writer takes: a refusal
             * here is a failure of the run, never silent. */
            fprintf(stderr,
                    "weir batch: %s: cannot write the scored event of datum %" PRIu64 ": %s\n",
                    out_path, indexes[i], weir_strerror(rc));
            break;
        }
        if (s->drift) {
            weir_drift_observe(s->drift, weir_pipeline_values(p, it->row), it->score,
                               it->event_time_ms);
            labels_observe(&s->labels, m, it->event_id, it->score, it->class_index,
                           it->event_time_ms);
            if (weir_drift_due(s->drift, 0))
                window_report(s, m);
        }
        s->scored++;
        s->score_sum += it->score;
        if (s->scored == 1 || it->score < s->score_min)
            s->score_min = it->score;
        if (s->scored == 1 || it->score > s->score_max)
            s->score_max = it->score;
        if (weir_model_task(m) != WEIR_TASK_REGRESSION) {
            int bin = (int)floor(it->score * 20);
            s->score_hist[bin < 0 ? 0 : bin > 19 ? 19 : bin]++;
            if (weir_model_task(m) == WEIR_TASK_BINARY && it->class_index == 1)
                s->positives++;
        }
    }
    weir_buf_reset(bodies);
    /* A database output commits each micro-batch whole (its dead letters too). */
    if (rc == 0 && s->sink && (rc = weir_sink_commit(s->sink, err, sizeof(err))) != 0)
        fprintf(stderr, "weir batch: %s\n", err);
    return rc;
}

/* Scores o->in into o->out; returns the exit code. */
static int batch_run(const batch_options_t *o)
{
    const char *in = o->in, *out = o->out, *report = o->report;
    int code = 2;
    char err[1024];
    weir_config_t cfg;
    weir_model_t *model = NULL;
    weir_container_reader_t *reader = NULL;
    weir_container_writer_t *writer = NULL;
    weir_pipeline_t *pipeline = NULL;
    batch_stats_t stats;
    memset(&stats, 0, sizeof(stats));
    weir_buf_t bodies;
    weir_buf_init(&bodies, (size_t)1 << 30);
    weir_pipeline_item_t *items = calloc(BATCH, sizeof(*items));
    size_t offsets[BATCH];
    uint64_t indexes[BATCH];
    weir_config_init(&cfg);

    if (batch_config(o, &cfg, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir batch: %s\n", err);
        goto out;
    }
    weir_log_set_level(cfg.log_level);
    if (!items) {
        code = 1;
        goto out;
    }
    openblas_set_num_threads(1);
    if (weir_model_load(cfg.model_path, &model, err, sizeof(err)) != 0 ||
        weir_config_check_model(&cfg, model, err, sizeof(err)) != 0 ||
        weir_container_reader_open(in, &reader, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir batch: %s\n", err);
        goto out;
    }
    for (size_t i = 0; i < weir_model_warning_count(model); i++)
        fprintf(stderr, "weir batch: warning: %s\n", weir_model_warning(model, i));
    weir_pipeline_config_t pc = {
        .input_schema = weir_container_reader_schema(reader),
        .input_framing = WEIR_FRAMING_RAW,
        .input_schema_id = 0,
        .id_field = cfg.input_id_field,
        .time_field = cfg.input_time_field,
        .output_framing = WEIR_FRAMING_RAW,
        .output_schema_id = 0,
        .batch_max = BATCH,
    };
    if (weir_pipeline_new(&pc, &pipeline, err, sizeof(err)) != 0 ||
        weir_pipeline_bind(pipeline, model, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir batch: %s: %s\n", in, err);
        goto out;
    }
    if (report && cfg.drift.enabled) {
        if (weir_drift_new(model, &cfg.drift, &stats.drift, err, sizeof(err)) != 0) {
            fprintf(stderr, "weir batch: drift: %s\n", err);
            goto out;
        }
        for (size_t i = 0; weir_drift_warning(stats.drift, i); i++)
            weir_log(WEIR_LOG_WARN, "drift reference", "detail", weir_drift_warning(stats.drift, i),
                     NULL);
        stats.windows = json_array();
        if (o->labels && labels_open(&stats.labels, o->labels, model, &cfg.drift) != 0)
            goto out;
    }
    if (weir_sink_is_target(out)) {
        weir_sink_config_t sc = {
            .target = out,
            .input = in,
            .model = model,
            .input_schema = weir_container_reader_schema(reader),
            .keep = o->keep,
        };
        int src = weir_sink_open(&sc, &stats.sink, err, sizeof(err));
        if (src != 0) {
            fprintf(stderr, "weir batch: %s\n", err);
            /* a bad --keep is a usage error; a database that refuses, a failure */
            code = src == WEIR_EINVAL || src == WEIR_ESCHEMA ? 2 : 1;
            goto out;
        }
        out = weir_sink_display(stats.sink);
    }
    /* Opening the output truncates it: never the file being read. */
    struct stat in_st, out_st;
    if (!stats.sink && stat(in, &in_st) == 0 && stat(out, &out_st) == 0 &&
        in_st.st_dev == out_st.st_dev && in_st.st_ino == out_st.st_ino) {
        fprintf(stderr, "weir batch: --out %s is the input file\n", out);
        goto out;
    }
    code = 1;
    if (!stats.sink && weir_container_writer_open(out, weir_pipeline_output_schema(pipeline),
                                                  o->codec, &writer, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir batch: %s\n", err);
        goto out;
    }
    char default_dlq[4096];
    snprintf(default_dlq, sizeof(default_dlq), "%s.dead.jsonl", out);
    stats.dlq_path = (char *)(o->dlq ? o->dlq : default_dlq);

    double t0 = weir_clock_mono_s(), last = t0;
    size_t n = 0;
    int rc = 0, broken = 0;
    for (;;) {
        avro_value_t *value;
        const uint8_t *body;
        size_t body_len = 0, skipped = 0;
        weir_reason_t reason = WEIR_REASON_NONE;
        char detail[256] = "";
        int got = weir_container_reader_next(reader, &value, &body, &body_len, &skipped, &reason,
                                             detail, sizeof(detail));
        if (got == 0)
            break;
        if (got == WEIR_EDECODE) {
            uint64_t index = weir_container_reader_index(reader);
            stats.events += 1 + skipped;
            rc = dead_letter(&stats, out, index, reason, detail, NULL, 0);
            for (size_t k = 0; k < skipped && rc == 0; k++)
                rc =
                    dead_letter(&stats, out, index + 1 + k, WEIR_REASON_DECODE,
                                "not delimitable: follows a malformed datum in its block", NULL, 0);
            if (rc)
                goto out;
            continue;
        }
        if (got < 0) {
            /* A broken file: score what was read before it, then fail. */
            fprintf(stderr, "weir batch: %s\n", detail);
            broken = 1;
            break;
        }
        stats.events++;
        indexes[n] = weir_container_reader_index(reader);
        offsets[n] = bodies.len;
        if (weir_buf_append(&bodies, body, body_len) != 0) {
            fprintf(stderr, "weir batch: out of memory\n");
            goto out;
        }
        if (++n == BATCH || bodies.len >= WEIR_PIPELINE_BATCH_BYTES) {
            if ((rc = flush_batch(pipeline, model, items, offsets, indexes, n, &bodies, writer,
                                  &stats, out)) != 0)
                goto out;
            n = 0;
            double now = weir_clock_mono_s();
            if (!o->quiet && now - last >= 2.0) {
                char e[32], r[32];
                snprintf(e, sizeof(e), "%" PRIu64, stats.events);
                snprintf(r, sizeof(r), "%.0f", (double)stats.events / (now - t0));
                weir_log(WEIR_LOG_INFO, "batch progress", "events", e, "events_per_s", r, NULL);
                last = now;
            }
        }
    }
    if (n > 0 && (rc = flush_batch(pipeline, model, items, offsets, indexes, n, &bodies, writer,
                                   &stats, out)) != 0)
        goto out;
    if (stats.sink && weir_sink_commit(stats.sink, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir batch: %s\n", err);
        goto out;
    }
    if (writer && weir_container_writer_close(writer, err, sizeof(err)) != 0) {
        writer = NULL;
        fprintf(stderr, "weir batch: %s\n", err);
        goto out;
    }
    writer = NULL;
    double seconds = weir_clock_mono_s() - t0;
    uint64_t dead_total = 0;
    for (int r = 0; r < WEIR_REASON__COUNT; r++)
        dead_total += stats.dead[r];
    if (report && write_report(report, &stats, model, in, out, seconds) != 0)
        goto out;
    fprintf(stderr,
            "weir batch: %" PRIu64 " events: %" PRIu64 " scored, %" PRIu64
            " dead letters%s%s in %.2fs (%.0f events/s)\n",
            stats.events, stats.scored, dead_total, dead_total ? " in " : "",
            dead_total ? (stats.sink ? weir_sink_dead_table(stats.sink) : stats.dlq_path) : "",
            seconds, seconds > 0 ? (double)stats.events / seconds : 0.0);
    code = broken ? 1 : 0;

out:
    if (writer)
        weir_container_writer_close(writer, err, sizeof(err));
    if (stats.dlq)
        fclose(stats.dlq);
    weir_sink_close(stats.sink);
    weir_drift_destroy(stats.drift);
    weir_label_join_destroy(stats.labels.join);
    weir_concept_destroy(stats.labels.concept);
    json_decref(stats.labels.concept_alerts);
    free(stats.labels.auc);
    json_decref(stats.windows);
    weir_pipeline_destroy(pipeline);
    weir_container_reader_close(reader);
    weir_model_destroy(model);
    weir_buf_dispose(&bodies);
    free(items);
    weir_config_dispose(&cfg);
    return code;
}

int weir_batch_main(int argc, char **argv)
{
    batch_options_t o;
    char err[1024];
    if (batch_parse(argc, argv, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir batch: %s\n", err);
        return 2;
    }
    if (o.help) {
        usage(stdout);
        return 0;
    }
    return batch_run(&o);
}
