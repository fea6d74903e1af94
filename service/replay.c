/*
 * replay.c — `weir replay`: backtest a champion and its challengers on a
 * bounded range of the input.
 *
 * The data flow of one batch is replay_batch():
 *   source (bounded, merged by event time) → decode/transform/score/encode
 *   per model (weir_pipeline_run) → labels due by now (label heap →
 *   weir_monitor_label) → drift (weir_monitor_observe, weir_monitor_evaluate)
 *   → the backtest's accumulations → the scored output, in order.
 *
 * Time in a replay is the events' time, never the wall clock: scored_at is
 * the latest event time of the event's batch, the monitors and the label join run on the largest
 * event time seen, and a label arrives at its label time, or --label-delay after its event when
 * that is later. So two replays of a range give the same output and report byte for byte. The input
 * is read through the range reader (assign, never subscribe): no group is joined and no offset
 * moves.
 */
#include "replay.h"
#include "backtest.h"
#include "cli.h"
#include "clock.h"
#include "common.h"
#include "config.h"
#include "engine.h"
#include "log.h"
#include "report.h"
#include "schemas.h"
#include "scoring.h"
#include "source.h"

#include <cblas.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROGRESS_TTY_S 0.2
#define PROGRESS_LINE_S 5.0

typedef struct {
    weir_config_args_t config;
    const char *from, *to, *in, *labels, *out, *report, *html;
    const char *label_delay, *label_grace, *bucket;
    const char *models[WEIR_BACKTEST_MAX_MODELS];
    size_t n_models;
    int strict_time, quiet, help;
    /* parsed */
    weir_source_bound_t from_bound, to_bound;
    int64_t delay_ms, grace_ms, bucket_ms;
} replay_options_t;

/* A label waiting for its arrival in the simulation. */
typedef struct {
    int64_t arrival;
    uint64_t seq;
    int64_t label;
} pending_t;

/* The labels as read, kept for their re-encoding at arrival. */
typedef struct {
    weir_label_t *items;
    char **ids;
    char **strings;
    size_t n, cap;
} label_store_t;

typedef struct {
    weir_model_t *model;
    weir_pipeline_t *pipeline;
    weir_monitor_t *monitor;
    weir_pipeline_item_t *items;
} model_run_t;

typedef struct {
    const replay_options_t *o;
    weir_config_t cfg;
    model_run_t models[WEIR_BACKTEST_MAX_MODELS];
    size_t n_models;
    weir_backtest_t *bt;
    weir_source_t *source;
    const char *topics[WEIR_CONFIG_MAX_TOPICS + 1];
    char *topic_list; /* --in topic:A,B, split in place */
    avro_schema_t input_schema;
    /* the batch */
    weir_buf_t values;
    size_t *value_at, *value_len, *key_at, *key_len;
    int64_t *rec_time, *rec_ts, *rec_offset;
    int32_t *rec_partition;
    const char **rec_topic; /* points into the source's topic names (stable) */
    int *rec_bad;
    weir_buf_t keys;
    size_t batch_n;
    /* labels */
    pending_t *heap;
    size_t heap_n, heap_cap;
    uint64_t heap_seq;
    weir_buf_t label_body;
    label_store_t store;
    int labels_on;
    /* output */
    weir_container_writer_t *writer;
    rd_kafka_t *producer;
    rd_kafka_topic_t *out_topic;
    uint64_t produce_errors;
    /* time */
    int64_t now;
    int now_set;
    uint64_t input_dead;
    double t0, last_progress;
    int tty;
} replay_t;

/* ---- options ----------------------------------------------------------- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: weir replay -c weir.conf --from T --to T [--model M ...] [options]\n"
            "       weir replay --in file:EVENTS.avro --model M [--model M2 ...] [options]\n"
            "\n"
            "Backtests a champion (the first --model, or model.path) and challengers on a\n"
            "bounded range of the input topics, with the decode, transform, scoring and drift\n"
            "code of weir run. No consumer group is joined and no committed offset moves.\n"
            "The same range and bundles give byte-identical output and report.\n"
            "\n"
            "  --from T, --to T     the range [from, to) of Kafka timestamps: RFC 3339\n"
            "                       (2026-03-01T12:00:00Z), a date, or ms since the epoch; or\n"
            "                       per-partition offsets: offsets:P=O[,P=O...] (TOPIC/P=O)\n"
            "                       [the whole topic as it is at the start]\n"
            "  --in topic:A[,B]|file:PATH  the input [input.topics]; a file needs no broker\n"
            "  --model M            a bundle; repeat for challengers [model.path]\n"
            "  --labels topic:L|file:P  ground truth, joined by event id [labels.topic]\n"
            "  --label-delay D      a label arrives D after its event, or at its label time\n"
            "                       when later [0]\n"
            "  --label-grace D      labels arriving up to D after the range count [1h]\n"
            "  --out topic:NAME|file:PATH  the scored events of every model, in order\n"
            "  --report R.json      the weir.backtest/1 report (docs/reports.md)\n"
            "  --html R.html        the report as one self-contained HTML page\n"
            "  --bucket D           width of the per-bucket metrics [1h]\n"
            "  --strict-time        a range that overlaps a bundle's training window is an\n"
            "                       error (exit 2), not a warning\n"
            "  -c, --config FILE    a weir.conf: kafka.*, input.*, model.path, labels.*,\n"
            "                       drift.*, eval.cost.* apply\n"
            "  -X key=value         set or override one key (repeatable; after the file)\n"
            "  -q, --quiet          no progress\n"
            "  -h, --help           this help\n"
            "\n"
            "Order: events are taken by event time (input.time.field, else the Kafka\n"
            "timestamp), then topic, partition and offset, merging the partitions.\n"
            "Exit codes: 0 done; 1 runtime failure or an empty range; 2 usage, configuration,\n"
            "a missing topic, or (with --strict-time) a training-window overlap.\n");
}

static int parse_duration(const char *opt, const char *v, int64_t min, int64_t *out, char *err,
                          size_t errsz)
{
    if (weir_parse_duration_ms(v, out) != 0 || *out < min) {
        char quoted[96];
        weir_config_quote(quoted, sizeof(quoted), v, strlen(v));
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "%s: expected a duration such as 30s, 15m, 1h, 7d, got %s", opt, quoted);
    }
    return 0;
}

static int check_io(const char *opt, const char *v, int allow_topic, char *err, size_t errsz)
{
    if ((!strncmp(v, "file:", 5) && v[5]) || (allow_topic && !strncmp(v, "topic:", 6) && v[6]))
        return 0;
    char quoted[96];
    weir_config_quote(quoted, sizeof(quoted), v, strlen(v));
    return weir_seterr(err, errsz, WEIR_EINVAL, "%s: expected %sfile:PATH, got %s", opt,
                       allow_topic ? "topic:NAME or " : "", quoted);
}

static int replay_parse(int argc, char **argv, replay_options_t *o, char *err, size_t errsz)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"from", required_argument, NULL, 'F'},
        {"to", required_argument, NULL, 'T'},
        {"in", required_argument, NULL, 'i'},
        {"model", required_argument, NULL, 'm'},
        {"labels", required_argument, NULL, 'l'},
        {"label-delay", required_argument, NULL, 'd'},
        {"label-grace", required_argument, NULL, 'g'},
        {"out", required_argument, NULL, 'o'},
        {"report", required_argument, NULL, 'r'},
        {"html", required_argument, NULL, 'H'},
        {"bucket", required_argument, NULL, 'b'},
        {"strict-time", no_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, rc = 0;
    memset(o, 0, sizeof(*o));
    weir_source_bound_none(&o->from_bound, 0);
    weir_source_bound_none(&o->to_bound, 1);
    optind = 1;
    opterr = 0;
    while (rc == 0 && (opt = getopt_long(argc, argv, ":c:X:qh", opts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            rc = weir_cli_config_file(&o->config, optarg, err, errsz);
            break;
        case 'X':
            rc = weir_cli_config_override(&o->config, optarg, err, errsz);
            break;
        case 'F':
            o->from = optarg;
            break;
        case 'T':
            o->to = optarg;
            break;
        case 'i':
            o->in = optarg;
            break;
        case 'm':
            if (o->n_models == WEIR_BACKTEST_MAX_MODELS)
                rc = weir_seterr(err, errsz, WEIR_EINVAL, "--model: at most %d models",
                                 WEIR_BACKTEST_MAX_MODELS);
            else
                o->models[o->n_models++] = optarg;
            break;
        case 'l':
            o->labels = optarg;
            break;
        case 'd':
            o->label_delay = optarg;
            break;
        case 'g':
            o->label_grace = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'r':
            o->report = optarg;
            break;
        case 'H':
            o->html = optarg;
            break;
        case 'b':
            o->bucket = optarg;
            break;
        case 's':
            o->strict_time = 1;
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            o->help = 1;
            break;
        default:
            rc = weir_cli_option_error("replay", opt, argc, argv, err, errsz);
            break;
        }
    }
    if (rc || o->help)
        return rc;
    if (optind < argc)
        return weir_cli_stray_argument("replay", argv[optind], err, errsz);
    o->grace_ms = 3600000;
    o->bucket_ms = 3600000;
    if ((o->from &&
         (rc = weir_source_parse_bound("--from", o->from, &o->from_bound, err, errsz))) ||
        (o->to && (rc = weir_source_parse_bound("--to", o->to, &o->to_bound, err, errsz))) ||
        (o->label_delay &&
         (rc = parse_duration("--label-delay", o->label_delay, 0, &o->delay_ms, err, errsz))) ||
        (o->label_grace &&
         (rc = parse_duration("--label-grace", o->label_grace, 0, &o->grace_ms, err, errsz))) ||
        (o->bucket &&
         (rc = parse_duration("--bucket", o->bucket, 1000, &o->bucket_ms, err, errsz))) ||
        (o->in && (rc = check_io("--in", o->in, 1, err, errsz))) ||
        (o->labels && (rc = check_io("--labels", o->labels, 1, err, errsz))) ||
        (o->out && (rc = check_io("--out", o->out, 1, err, errsz))))
        return rc;
    if (o->from && o->to && !o->from_bound.is_offsets && !o->to_bound.is_offsets &&
        o->from_bound.time_ms >= o->to_bound.time_ms)
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "--from %s is not before --to %s: the range [from, to) is empty",
                           o->from, o->to);
    if (o->from_bound.is_offsets && o->to_bound.is_offsets) {
        for (size_t i = 0; i < o->from_bound.n_offsets; i++)
            for (size_t j = 0; j < o->to_bound.n_offsets; j++) {
                const weir_range_offset_t *a = &o->from_bound.offsets[i];
                const weir_range_offset_t *b = &o->to_bound.offsets[j];
                if (a->partition == b->partition &&
                    ((!a->topic && !b->topic) ||
                     (a->topic && b->topic && !strcmp(a->topic, b->topic))) &&
                    a->offset > b->offset)
                    return weir_seterr(err, errsz, WEIR_EINVAL,
                                       "--from offset %" PRId64 " is after --to offset %" PRId64
                                       " on partition %" PRId32,
                                       a->offset, b->offset, a->partition);
            }
    }
    if (o->in && !strncmp(o->in, "file:", 5) &&
        (o->from_bound.is_offsets || o->to_bound.is_offsets))
        return weir_seterr(err, errsz, WEIR_EINVAL, "offsets bound a topic, not --in file:");
    return 0;
}

static void options_dispose(replay_options_t *o)
{
    weir_source_bound_dispose(&o->from_bound);
    weir_source_bound_dispose(&o->to_bound);
}

/* ---- progress ---------------------------------------------------------- */

static void human_count(char *out, size_t outsz, double n)
{
    if (n >= 1e6)
        snprintf(out, outsz, "%.2fM", n / 1e6);
    else if (n >= 1e4)
        snprintf(out, outsz, "%.1fk", n / 1e3);
    else
        snprintf(out, outsz, "%.0f", n);
}

void weir_replay_progress(char *out, size_t outsz, uint64_t done, uint64_t total, double seconds,
                          int bar)
{
    char d[32], t[32], r[32], eta[32] = "";
    double rate = seconds > 0 ? (double)done / seconds : 0;
    human_count(d, sizeof(d), (double)done);
    human_count(t, sizeof(t), (double)total);
    human_count(r, sizeof(r), rate);
    if (total > 0 && rate > 0 && done <= total) {
        double left = (double)(total - done) / rate;
        snprintf(eta, sizeof(eta), "%d:%02d", (int)(left / 60), (int)fmod(left, 60));
    }
    double frac = total > 0 ? (double)done / (double)total : 0;
    if (frac > 1)
        frac = 1;
    if (!bar) {
        if (total > 0)
            snprintf(out, outsz, "weir replay: %s of %s records (%.0f%%), %s/s%s%s", d, t,
                     frac * 100, r, *eta ? ", ETA " : "", eta);
        else
            snprintf(out, outsz, "weir replay: %s records, %s/s", d, r);
        return;
    }
    char cells[41];
    int width = 30, full = (int)(frac * width);
    for (int i = 0; i < width; i++)
        cells[i] = total == 0  ? (i == (int)fmod(seconds * 8, width) ? '=' : ' ')
                   : i < full  ? '='
                   : i == full ? '>'
                               : ' ';
    cells[width] = '\0';
    if (total > 0)
        snprintf(out, outsz, "[%s] %3.0f%% %s/%s events  %s/s  ETA %s", cells, frac * 100, d, t, r,
                 *eta ? eta : "-");
    else
        snprintf(out, outsz, "[%s] %s events  %s/s", cells, d, r);
}

static void show_progress(replay_t *r, int final)
{
    if (r->o->quiet)
        return;
    double now = weir_clock_mono_s();
    if (!final && now - r->last_progress < (r->tty ? PROGRESS_TTY_S : PROGRESS_LINE_S))
        return;
    r->last_progress = now;
    char line[256];
    weir_replay_progress(line, sizeof(line), weir_source_read(r->source),
                         weir_source_total(r->source), now - r->t0, r->tty);
    if (r->tty)
        fprintf(stderr, "\r\033[K%s%s", line, final ? "\n" : "");
    else
        fprintf(stderr, "%s\n", line);
}

/* ---- labels -------------------------------------------------------------- */

static int heap_push(replay_t *r, int64_t arrival, int64_t label)
{
    if (r->heap_n == r->heap_cap) {
        size_t cap = r->heap_cap ? r->heap_cap * 2 : 1024;
        pending_t *h = realloc(r->heap, cap * sizeof(*h));
        if (!h)
            return WEIR_ENOMEM;
        r->heap = h;
        r->heap_cap = cap;
    }
    pending_t e = {arrival, r->heap_seq++, label};
    size_t i = r->heap_n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        pending_t *p = &r->heap[parent];
        if (p->arrival < e.arrival || (p->arrival == e.arrival && p->seq < e.seq))
            break;
        r->heap[i] = *p;
        i = parent;
    }
    r->heap[i] = e;
    return 0;
}

static pending_t heap_pop(replay_t *r)
{
    pending_t top = r->heap[0], last = r->heap[--r->heap_n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= r->heap_n)
            break;
        if (c + 1 < r->heap_n &&
            (r->heap[c + 1].arrival < r->heap[c].arrival ||
             (r->heap[c + 1].arrival == r->heap[c].arrival && r->heap[c + 1].seq < r->heap[c].seq)))
            c++;
        if (last.arrival < r->heap[c].arrival ||
            (last.arrival == r->heap[c].arrival && last.seq < r->heap[c].seq))
            break;
        r->heap[i] = r->heap[c];
        i = c;
    }
    if (r->heap_n > 0)
        r->heap[i] = last;
    return top;
}

/* Hands every model's monitor the labels that have arrived by @p now, as
 * Label records (the path labels take in production). */
static void deliver_labels(replay_t *r, int64_t now)
{
    const weir_label_t *labels = r->store.items;
    while (r->heap_n > 0 && r->heap[0].arrival <= now) {
        pending_t p = heap_pop(r);
        weir_backtest_label_arrived(r->bt, p.label);
        const weir_label_t *l = &labels[p.label];
        weir_buf_reset(&r->label_body);
        if (weir_label_encode(&r->label_body, l) != 0)
            continue;
        for (size_t m = 0; m < r->n_models; m++) {
            weir_reason_t reason;
            char detail[256];
            weir_monitor_label(r->models[m].monitor, r->label_body.data, r->label_body.len, &reason,
                               detail, sizeof(detail));
        }
    }
}

static void label_store_free(label_store_t *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->ids[i]);
        free(s->strings[i]);
    }
    free(s->items);
    free(s->ids);
    free(s->strings);
    memset(s, 0, sizeof(*s));
}

/* Reads one Label value into the backtest and the store. */
static int take_label(replay_t *r, weir_decoder_t *dec, const uint8_t *value, size_t len,
                      const char *where)
{
    weir_decoded_t d;
    weir_reason_t reason = WEIR_REASON_NONE;
    char detail[256];
    if (weir_decoder_decode(dec, value, len, &d, &reason, detail, sizeof(detail)) != 0) {
        weir_backtest_label_invalid(r->bt, reason, detail, where);
        return 0;
    }
    avro_value_t id, label, time, branch;
    const char *s = NULL, *ls = NULL;
    size_t n = 0, ln = 0;
    int64_t t = 0;
    double v = NAN;
    avro_value_get_by_index(d.value, 0, &id, NULL);
    avro_value_get_by_index(d.value, 1, &label, NULL);
    avro_value_get_by_index(d.value, 2, &time, NULL);
    avro_value_get_string(&id, &s, &n);
    avro_value_get_long(&time, &t);
    avro_value_get_current_branch(&label, &branch);
    int is_string = avro_value_get_type(&branch) == AVRO_STRING;
    if (is_string) {
        avro_value_get_string(&branch, &ls, &ln);
        ln = ln ? ln - 1 : 0;
    } else {
        avro_value_get_double(&branch, &v);
    }
    n = n ? n - 1 : 0;
    if (n == 0) {
        weir_backtest_label_invalid(r->bt, WEIR_REASON_MISSING_VALUE, "empty event_id", where);
        return 0;
    }
    int64_t idx = weir_backtest_add_label(r->bt, s, n, is_string, v, ls, ln, t);
    if (idx < 0)
        return (int)idx;
    if ((size_t)idx < r->store.n)
        return 0; /* a duplicate: the first is kept */
    label_store_t *st = &r->store;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 1024;
        weir_label_t *items = realloc(st->items, cap * sizeof(*items));
        char **ids = realloc(st->ids, cap * sizeof(char *));
        char **strings = ids ? realloc(st->strings, cap * sizeof(char *)) : NULL;
        if (items)
            st->items = items;
        if (ids)
            st->ids = ids;
        if (strings)
            st->strings = strings;
        if (!items || !ids || !strings)
            return WEIR_ENOMEM;
        st->cap = cap;
    }
    char *idc = strndup(s, n), *lsc = is_string ? strndup(ls, ln) : NULL;
    if (!idc || (is_string && !lsc)) {
        free(idc);
        free(lsc);
        return WEIR_ENOMEM;
    }
    st->ids[st->n] = idc;
    st->strings[st->n] = lsc;
    st->items[st->n] = (weir_label_t){.event_id = idc,
                                      .event_id_len = n,
                                      .is_string = is_string,
                                      .value = v,
                                      .string = lsc,
                                      .string_len = ln,
                                      .label_time_ms = t};
    st->n++;
    return 0;
}

/* Reads every label of the range (plus the grace) before the events. */
static int read_labels(replay_t *r, const char *spec, char *err, size_t errsz)
{
    int rc = 0;
    avro_schema_t schema = NULL;
    weir_decoder_t *dec = NULL;
    weir_source_t *src = NULL;
    const replay_options_t *o = r->o;
    const char *topics[2] = {NULL, NULL};
    weir_source_bound_t from, to;
    weir_source_bound_none(&from, 0);
    weir_source_bound_none(&to, 1);
    int is_file = !strncmp(spec, "file:", 5);
    if ((rc = weir_schema_parse(weir_schema_text("label"), &schema, err, errsz)) != 0)
        goto out;
    weir_source_config_t sc = {.stall_ms = 60000};
    if (is_file) {
        sc.file = spec + 5;
        if ((rc = weir_decoder_new(WEIR_FRAMING_RAW, &dec)) != 0)
            goto out;
    } else {
        topics[0] = spec + 6;
        sc.topics = topics;
        sc.schema = schema;
        sc.framing = r->cfg.input_framing;
        sc.schema_id = r->cfg.labels_schema_id;
        /* labels come after their events: from the range's start to its end plus the grace */
        if (!o->from_bound.is_offsets)
            from.time_ms = o->from_bound.time_ms;
        if (!o->to_bound.is_offsets && o->to_bound.time_ms != INT64_MAX)
            to.time_ms = o->to_bound.time_ms + o->grace_ms;
        sc.from = &from;
        sc.to = &to;
        if ((rc = weir_config_kafka(&r->cfg, 1, &sc.kafka, err, errsz)) != 0)
            goto out;
        if ((rc = weir_decoder_new(r->cfg.input_framing, &dec)) != 0)
            goto out;
    }
    if ((rc = weir_decoder_add_schema(dec, r->cfg.labels_schema_id, schema, err, errsz)) != 0)
        goto out;
    if ((rc = weir_source_open(&sc, &src, err, errsz)) != 0) {
        char what[1024];
        snprintf(what, sizeof(what), "--labels %s: %s", spec, err);
        snprintf(err, errsz, "%s", what);
        goto out;
    }
    weir_source_record_t rec;
    char where[512];
    while ((rc = weir_source_next(src, &rec, err, errsz)) == 1) {
        if (is_file)
            snprintf(where, sizeof(where), "%s datum %" PRId64, spec + 5, rec.offset);
        else
            snprintf(where, sizeof(where), "%s [%" PRId32 "] offset %" PRId64, rec.topic,
                     rec.partition, rec.offset);
        if (rec.bad) {
            weir_backtest_label_invalid(r->bt, rec.reason, rec.detail, where);
            continue;
        }
        if ((rc = take_label(r, dec, rec.value, rec.len, where)) != 0)
            break;
    }
out:
    weir_source_close(src);
    weir_decoder_destroy(dec);
    if (schema)
        avro_schema_decref(schema);
    return rc < 0 ? rc : 0;
}

/* ---- output -------------------------------------------------------------- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    replay_t *r = opaque;
    if (m->err) {
        if (r->produce_errors++ == 0)
            fprintf(stderr, "weir replay: writing to %s failed: %s\n", rd_kafka_topic_name(m->rkt),
                    rd_kafka_err2str(m->err));
    }
}

static int open_output(replay_t *r, char *err, size_t errsz)
{
    const char *out = r->o->out;
    if (!out)
        return 0;
    if (!strncmp(out, "file:", 5)) {
        /* a sync marker of the run's own, so the file is the same every time */
        uint8_t sync[16];
        uint64_t h = UINT64_C(0xcbf29ce484222325);
        for (size_t m = 0; m < r->n_models; m++) {
            const char *parts[] = {weir_model_name(r->models[m].model),
                                   weir_model_version(r->models[m].model)};
            for (int k = 0; k < 2; k++)
                for (const char *p = parts[k]; *p; p++)
                    h = (h ^ (uint8_t)*p) * UINT64_C(0x100000001b3);
        }
        for (int i = 0; i < 16; i++) {
            h = (h ^ (uint64_t)(i + 1)) * UINT64_C(0x100000001b3);
            sync[i] = (uint8_t)(h >> 24);
        }
        return weir_container_writer_open_sync(out + 5,
                                               weir_pipeline_output_schema(r->models[0].pipeline),
                                               "deflate", sync, &r->writer, err, errsz);
    }
    rd_kafka_conf_t *conf;
    char errstr[512];
    int rc = weir_config_kafka(&r->cfg, 0, &conf, err, errsz);
    if (rc)
        return rc;
    rd_kafka_conf_set_opaque(conf, r);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    r->producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!r->producer) {
        rd_kafka_conf_destroy(conf);
        weir_config_redact(&r->cfg, errstr, sizeof(errstr));
        return weir_seterr(err, errsz, WEIR_ECONFIG, "cannot create the producer: %s", errstr);
    }
    r->out_topic = rd_kafka_topic_new(r->producer, out + 6, NULL);
    return r->out_topic ? 0 : weir_seterr(err, errsz, WEIR_EKAFKA, "topic %s", out + 6);
}

static int write_scored(replay_t *r, size_t m, const uint8_t *value, size_t len, const void *key,
                        size_t key_len)
{
    if (r->writer)
        return weir_container_writer_append(r->writer, value, len);
    if (!r->producer)
        return 0;
    const weir_model_t *model = r->models[m].model;
    rd_kafka_headers_t *h = rd_kafka_headers_new(2);
    rd_kafka_header_add(h, "weir.model", -1, weir_model_name(model), -1);
    rd_kafka_header_add(h, "weir.model.version", -1, weir_model_version(model), -1);
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            r->producer, RD_KAFKA_V_RKT(r->out_topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, len),
            RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(r->producer, 50);
            continue;
        }
        if (e) {
            rd_kafka_headers_destroy(h);
            fprintf(stderr, "weir replay: producing to %s: %s\n", r->o->out + 6,
                    rd_kafka_err2str(e));
            return WEIR_EKAFKA;
        }
        rd_kafka_poll(r->producer, 0);
        return 0;
    }
}

/* ---- the batch ------------------------------------------------------------ */

static int grow_batch(replay_t *r, size_t n)
{
    r->value_at = calloc(n, sizeof(size_t));
    r->value_len = calloc(n, sizeof(size_t));
    r->key_at = calloc(n, sizeof(size_t));
    r->key_len = calloc(n, sizeof(size_t));
    r->rec_time = calloc(n, sizeof(int64_t));
    r->rec_ts = calloc(n, sizeof(int64_t));
    r->rec_offset = calloc(n, sizeof(int64_t));
    r->rec_partition = calloc(n, sizeof(int32_t));
    r->rec_topic = calloc(n, sizeof(char *));
    r->rec_bad = calloc(n, sizeof(int));
    return r->value_at && r->value_len && r->key_at && r->key_len && r->rec_time && r->rec_ts &&
                   r->rec_offset && r->rec_partition && r->rec_topic && r->rec_bad
               ? 0
               : WEIR_ENOMEM;
}

/* Copies a record into the batch (the source reuses its memory). */
static int add_record(replay_t *r, const weir_source_record_t *rec)
{
    size_t i = r->batch_n;
    r->rec_bad[i] = rec->bad;
    r->rec_time[i] = rec->event_time;
    r->rec_ts[i] = rec->timestamp;
    r->rec_offset[i] = rec->offset;
    r->rec_partition[i] = rec->partition;
    r->rec_topic[i] = rec->topic;
    r->value_at[i] = r->values.len;
    r->value_len[i] = rec->len;
    r->key_at[i] = r->keys.len;
    r->key_len[i] = rec->key_len;
    if (rec->bad) {
        weir_backtest_dead(r->bt, 0, -1, rec->reason, rec->detail, NULL, -1, rec->offset);
        for (size_t m = 1; m < r->n_models; m++)
            weir_backtest_dead(r->bt, m, -1, rec->reason, rec->detail, NULL, -1, rec->offset);
        r->input_dead++;
    }
    int rc = weir_buf_append(&r->values, rec->value, rec->len);
    if (rc == 0 && rec->key_len)
        rc = weir_buf_append(&r->keys, rec->key, rec->key_len);
    r->batch_n++;
    return rc;
}

/* decode → transform → score → encode per model, then, event by event in
 * replay order, the labels due, the monitors and the output; then each
 * monitor's evaluation, once per batch as in weir run. */
static int replay_batch(replay_t *r, char *err, size_t errsz)
{
    size_t n = r->batch_n;
    int rc = 0;
    /* scored_at is the simulated clock when the batch is scored: its latest
     * event time (never the wall clock, so the output is reproducible) */
    int64_t scored_at = r->now_set ? r->now : INT64_MIN;
    for (size_t i = 0; i < n; i++)
        if (!r->rec_bad[i] && r->rec_time[i] > scored_at)
            scored_at = r->rec_time[i];
    /* the items of every model point at the same values */
    for (size_t m = 0; m < r->n_models; m++) {
        model_run_t *mr = &r->models[m];
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
            if (r->rec_bad[i])
                continue;
            weir_pipeline_item_t *it = &mr->items[k++];
            it->value = r->values.data + r->value_at[i];
            it->value_len = r->value_len[i];
            it->fallback_time_ms = r->rec_ts[i];
        }
        if ((rc = weir_pipeline_run(mr->pipeline, mr->model, mr->items, k, scored_at, err,
                                    errsz)) != 0)
            return rc;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (r->rec_bad[i])
            continue;
        int64_t t = r->rec_time[i];
        if (!r->now_set || t > r->now) {
            r->now = t;
            r->now_set = 1;
        }
        deliver_labels(r, r->now);
        int64_t ev = weir_backtest_add_event(r->bt, t);
        if (ev < 0)
            return weir_seterr(err, errsz, (int)ev, "too many events to keep (%s)",
                               weir_strerror((int)ev));
        const char *event_id = NULL;
        for (size_t m = 0; m < r->n_models; m++) {
            model_run_t *mr = &r->models[m];
            weir_pipeline_item_t *it = &mr->items[k];
            if (!it->scored) {
                weir_backtest_dead(r->bt, m, ev, it->reason, it->detail, r->rec_topic[i],
                                   r->rec_partition[i], r->rec_offset[i]);
                continue;
            }
            const weir_value_t *values = weir_pipeline_values(mr->pipeline, it->row);
            const float *probs = NULL;
            if (weir_model_task(mr->model) == WEIR_TASK_MULTICLASS)
                probs =
                    weir_pipeline_outputs(mr->pipeline) + it->row * weir_model_outputs(mr->model);
            if (weir_monitor_observes(mr->monitor))
                weir_monitor_observe(mr->monitor, values, it->score, it->class_index, it->event_id,
                                     t, r->now);
            weir_backtest_scored(r->bt, m, ev, it->score, it->class_index, probs, values);
            if (!event_id)
                event_id = it->event_id;
            if ((rc = write_scored(r, m, weir_pipeline_output(mr->pipeline) + it->out_offset,
                                   it->out_len, r->keys.data + r->key_at[i], r->key_len[i])) != 0)
                return weir_seterr(err, errsz, rc, "writing the scored output failed");
        }
        if (event_id && r->labels_on) {
            int64_t label = weir_backtest_find_label(r->bt, event_id, strlen(event_id));
            if (label >= 0) {
                weir_backtest_set_label(r->bt, ev, label);
                int64_t arrival = r->store.items[label].label_time_ms;
                if (t + r->o->delay_ms > arrival)
                    arrival = t + r->o->delay_ms;
                if (heap_push(r, arrival, label) != 0)
                    return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
            }
        }
        k++;
    }
    uint64_t events = weir_backtest_events(r->bt);
    for (size_t m = 0; m < r->n_models && r->now_set; m++) {
        size_t alerts = weir_monitor_evaluate(r->models[m].monitor, r->now);
        if (weir_backtest_monitor(r->bt, m, r->models[m].monitor, alerts, r->now, events) != 0)
            return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    }
    weir_buf_reset(&r->values);
    weir_buf_reset(&r->keys);
    r->batch_n = 0;
    return 0;
}

/* ---- setup ---------------------------------------------------------------- */

/* Whether [from, to) overlaps model m's training window, said loudly; the
 * report's training section. */
static json_t *training_check(replay_t *r, int64_t from, int64_t to, const char *how,
                              json_t *warnings, int *overlaps)
{
    json_t *arr = json_array();
    char fa[40], ta[40];
    weir_source_format_time(from, fa, sizeof(fa));
    weir_source_format_time(to, ta, sizeof(ta));
    *overlaps = 0;
    for (size_t m = 0; m < r->n_models; m++) {
        const weir_model_t *model = r->models[m].model;
        const char *tf, *tt;
        weir_model_training(model, &tf, &tt);
        json_t *o = json_pack("{s:s, s:s}", "model", weir_model_name(model), "version",
                              weir_model_version(model));
        int64_t f = INT64_MIN, t = INT64_MAX;
        int known = (*tf || *tt) && (!*tf || weir_source_parse_time(tf, &f) == 0) &&
                    (!*tt || weir_source_parse_time(tt, &t) == 0);
        json_object_set_new(o, "training_from", *tf ? json_string(tf) : json_null());
        json_object_set_new(o, "training_to", *tt ? json_string(tt) : json_null());
        if (!known) {
            json_object_set_new(o, "overlap", json_null());
            json_object_set_new(o, "note",
                                json_string(*tf || *tt ? "the training window is not an RFC 3339 "
                                                         "time: not checked"
                                                       : "the bundle has no training window"));
            json_array_append_new(arr, o);
            continue;
        }
        /* the window is inclusive ([from, to]), the range half-open */
        int overlap = from <= t && to > f;
        json_object_set_new(o, "overlap", json_boolean(overlap));
        json_object_set_new(o, "checked_against", json_string(how));
        if (overlap) {
            char of[40], ot[40], msg[600];
            weir_source_format_time(from > f ? from : f, of, sizeof(of));
            weir_source_format_time(to - 1 < t ? to - 1 : t, ot, sizeof(ot));
            json_object_set_new(o, "overlap_from", json_string(of));
            json_object_set_new(o, "overlap_to", json_string(ot));
            snprintf(msg, sizeof(msg),
                     "the %s %s to %s overlaps the training window of %s %s (%s to %s) from %s to "
                     "%s: metrics on training data flatter the model",
                     how, fa, ta, weir_model_name(model), weir_model_version(model), *tf ? tf : "-",
                     *tt ? tt : "-", of, ot);
            fprintf(stderr,
                    "\nweir replay: WARNING: %s\n"
                    "weir replay: WARNING: choose a range after the training window, or use "
                    "--strict-time to make this an error\n\n",
                    msg);
            json_array_append_new(warnings, json_string(msg));
            *overlaps = 1;
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

static int setup_models(replay_t *r, char *err, size_t errsz)
{
    int rc = 0;
    const replay_options_t *o = r->o;
    size_t n = o->n_models;
    const char *paths[WEIR_BACKTEST_MAX_MODELS];
    for (size_t i = 0; i < n; i++)
        paths[i] = o->models[i];
    if (n == 0 && *r->cfg.model_path)
        paths[n++] = r->cfg.model_path;
    if (n == 0)
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "no model: give --model M (repeat it for challengers) or model.path");
    for (size_t i = 0; i < n; i++) {
        model_run_t *mr = &r->models[i];
        if ((rc = weir_model_load(paths[i], &mr->model, err, errsz)) != 0)
            return rc == WEIR_ENOMEM ? rc : WEIR_ECONFIG;
        r->n_models++;
        if ((rc = weir_config_check_model(&r->cfg, mr->model, err, errsz)) != 0)
            return rc;
    }
    return 0;
}

static int setup_pipelines(replay_t *r, int is_file, char *err, size_t errsz)
{
    int rc = 0;
    weir_pipeline_config_t pc = {
        .input_schema = weir_source_schema(r->source),
        .input_framing = is_file ? WEIR_FRAMING_RAW : r->cfg.input_framing,
        .input_schema_id = r->cfg.input_schema_id,
        .id_field = r->cfg.input_id_field,
        .time_field = r->cfg.input_time_field,
        .output_framing = r->o->out && !strncmp(r->o->out, "topic:", 6) ? r->cfg.output_framing
                                                                        : WEIR_FRAMING_RAW,
        .output_schema_id = r->cfg.output_schema_id,
        .batch_max = r->cfg.batch_max,
    };
    for (size_t m = 0; m < r->n_models && rc == 0; m++) {
        model_run_t *mr = &r->models[m];
        mr->items = calloc(r->cfg.batch_max, sizeof(*mr->items));
        if (!mr->items)
            return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
        if ((rc = weir_pipeline_new(&pc, &mr->pipeline, err, errsz)) != 0 ||
            (rc = weir_pipeline_bind(mr->pipeline, mr->model, err, errsz)) != 0) {
            char what[1024];
            snprintf(what, sizeof(what), "%s: %s", weir_model_name(mr->model), err);
            snprintf(err, errsz, "%s", what);
            return WEIR_ECONFIG;
        }
        weir_monitor_config_t mc = {
            .model = mr->model,
            .drift = r->cfg.drift,
            .labels = r->labels_on,
            .labels_max_pending = r->cfg.labels_max_pending,
            .labels_ttl_ms = r->cfg.labels_ttl_ms,
            .label_framing = WEIR_FRAMING_RAW, /* labels are handed over re-encoded */
            .label_schema_id = 0,
            .alert_framing = WEIR_FRAMING_RAW,
            .alert_schema_id = 0,
            .instance = "replay",
        };
        if ((rc = weir_monitor_new(&mc, &mr->monitor, err, errsz)) != 0)
            return rc == WEIR_ENOMEM ? rc : WEIR_ECONFIG;
    }
    return rc;
}

static int open_source(replay_t *r, int is_file, char *err, size_t errsz)
{
    const replay_options_t *o = r->o;
    weir_source_config_t sc = {
        .from = &o->from_bound,
        .to = &o->to_bound,
        .time_field = r->cfg.input_time_field,
        .framing = r->cfg.input_framing,
        .schema_id = r->cfg.input_schema_id,
    };
    int rc;
    if (is_file) {
        sc.file = o->in + 5;
        return weir_source_open(&sc, &r->source, err, errsz);
    }
    size_t nt = 0;
    if (o->in) {
        r->topic_list = strdup(o->in + 6);
        if (!r->topic_list)
            return WEIR_ENOMEM;
        for (char *save = NULL, *t = strtok_r(r->topic_list, ",", &save);
             t && nt < WEIR_CONFIG_MAX_TOPICS; t = strtok_r(NULL, ",", &save)) {
            if (!weir_config_topic_ok(t))
                return weir_seterr(err, errsz, WEIR_EINVAL, "--in: \"%.64s\" is not a topic name",
                                   t);
            r->topics[nt++] = t;
        }
    } else {
        for (; nt < r->cfg.input_topic_count; nt++)
            r->topics[nt] = r->cfg.input_topics[nt];
    }
    r->topics[nt] = NULL;
    if (nt == 0)
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "no input: give --in topic:NAME or file:PATH, or input.topics");
    if (!*r->cfg.input_schema_path)
        return weir_seterr(err, errsz, WEIR_ECONFIG,
                           "input.schema: the writer schema of the topics is required");
    if ((rc = weir_schema_load_file(r->cfg.input_schema_path, &r->input_schema, err, errsz)) != 0)
        return WEIR_ECONFIG;
    sc.topics = r->topics;
    sc.schema = r->input_schema;
    if ((rc = weir_config_kafka(&r->cfg, 1, &sc.kafka, err, errsz)) != 0)
        return rc;
    /* the range reader reads at its own pace: whole fetches per partition */
    rd_kafka_conf_set(sc.kafka, "max.partition.fetch.bytes", "1048576", NULL, 0);
    return weir_source_open(&sc, &r->source, err, errsz);
}

static json_t *input_json(replay_t *r, int is_file)
{
    const replay_options_t *o = r->o;
    json_t *in = json_object();
    if (is_file) {
        json_object_set_new(in, "kind", json_string("file"));
        json_object_set_new(in, "file", json_string(o->in + 5));
    } else {
        json_t *topics = json_array(), *parts = json_array();
        for (size_t t = 0; r->topics[t]; t++)
            json_array_append_new(topics, json_string(r->topics[t]));
        for (size_t i = 0; i < weir_source_partition_count(r->source); i++) {
            const weir_range_partition_t *p = weir_source_partition(r->source, i);
            json_array_append_new(parts, json_pack("{s:s, s:i, s:I, s:I, s:I}", "topic", p->topic,
                                                   "partition", (int)p->partition, "start",
                                                   (json_int_t)p->start, "end", (json_int_t)p->end,
                                                   "read", (json_int_t)p->read));
        }
        json_object_set_new(in, "kind", json_string("topic"));
        json_object_set_new(in, "topics", topics);
        json_object_set_new(in, "partitions", parts);
    }
    json_object_set_new(in, "from", o->from ? json_string(o->from) : json_null());
    json_object_set_new(in, "to", o->to ? json_string(o->to) : json_null());
    if (!o->from_bound.is_offsets && o->from_bound.time_ms != INT64_MIN)
        json_object_set_new(in, "from_ms", json_integer(o->from_bound.time_ms));
    if (!o->to_bound.is_offsets && o->to_bound.time_ms != INT64_MAX)
        json_object_set_new(in, "to_ms", json_integer(o->to_bound.time_ms));
    json_object_set_new(in, "bounds", json_string(is_file ? "event time" : "Kafka timestamp"));
    return in;
}

/* ---- the run --------------------------------------------------------------- */

static int replay_run(const replay_options_t *o)
{
    replay_t r;
    char err[2048];
    int code = 2, rc;
    json_t *report = NULL, *warnings = json_array(), *training = NULL;
    memset(&r, 0, sizeof(r));
    r.o = o;
    weir_config_init(&r.cfg);
    weir_buf_init(&r.values, (size_t)1 << 30);
    weir_buf_init(&r.keys, (size_t)1 << 28);
    weir_buf_init(&r.label_body, (size_t)1 << 20);
    int is_file = o->in && !strncmp(o->in, "file:", 5);
    const char *labels = o->labels;

    if ((rc = weir_config_apply_args(&r.cfg, &o->config, err, sizeof(err))) != 0 ||
        (rc = weir_config_check(&r.cfg, err, sizeof(err))) != 0) {
        fprintf(stderr, "weir replay: %s\n", err);
        goto out;
    }
    /* drift alerts are in the report: the terminal keeps the progress */
    weir_log_set_level(weir_config_origin(&r.cfg, "log.level") ? r.cfg.log_level : WEIR_LOG_ERROR);
    openblas_set_num_threads(1);
    if (!labels && *r.cfg.labels_topic && !is_file) {
        static char spec[300];
        snprintf(spec, sizeof(spec), "topic:%s", r.cfg.labels_topic);
        labels = spec;
    }
    r.labels_on = labels != NULL;
    if ((rc = setup_models(&r, err, sizeof(err))) != 0) {
        fprintf(stderr, "weir replay: %s\n", err);
        code = weir_cli_exit_code(rc == WEIR_ENOMEM ? rc : WEIR_ECONFIG);
        goto out;
    }
    /* the guard against evaluating on training time, when the range is times */
    int overlap = 0, checked_early = 0;
    if (o->from && o->to && !o->from_bound.is_offsets && !o->to_bound.is_offsets) {
        training = training_check(&r, o->from_bound.time_ms, o->to_bound.time_ms, "range", warnings,
                                  &overlap);
        checked_early = 1;
        if (overlap && o->strict_time) {
            fprintf(stderr, "weir replay: --strict-time: the range overlaps a training window\n");
            goto out;
        }
    }
    weir_backtest_config_t bc = {
        .n_models = r.n_models,
        .bucket_ms = o->bucket_ms,
        .cost_fp = r.cfg.eval_cost_fp,
        .cost_fn = r.cfg.eval_cost_fn,
        .drift_window = r.cfg.drift.window,
        .calibration_bins = 10,
    };
    for (size_t m = 0; m < r.n_models; m++)
        bc.models[m] = r.models[m].model;
    if ((rc = weir_backtest_new(&bc, &r.bt, err, sizeof(err))) != 0 ||
        grow_batch(&r, r.cfg.batch_max) != 0) {
        fprintf(stderr, "weir replay: out of memory\n");
        code = 1;
        goto out;
    }
    if (labels && (rc = read_labels(&r, labels, err, sizeof(err))) != 0) {
        fprintf(stderr, "weir replay: %s\n", err);
        code = weir_cli_exit_code(rc == WEIR_ECONFIG || rc == WEIR_EINVAL ? WEIR_ECONFIG : rc);
        goto out;
    }
    if ((rc = open_source(&r, is_file, err, sizeof(err))) != 0) {
        fprintf(stderr, "weir replay: %s\n", err);
        code = rc == WEIR_ECONFIG || rc == WEIR_EINVAL ? 2 : 1;
        goto out;
    }
    if ((rc = setup_pipelines(&r, is_file, err, sizeof(err))) != 0) {
        fprintf(stderr, "weir replay: %s\n", err);
        code = weir_cli_exit_code(rc == WEIR_ENOMEM ? rc : WEIR_ECONFIG);
        goto out;
    }
    code = 1;
    if ((rc = open_output(&r, err, sizeof(err))) != 0) {
        fprintf(stderr, "weir replay: %s\n", err);
        goto out;
    }

    r.tty = isatty(2);
    r.t0 = r.last_progress = weir_clock_mono_s();
    weir_source_record_t rec;
    while ((rc = weir_source_next(r.source, &rec, err, sizeof(err))) == 1) {
        if ((rc = add_record(&r, &rec)) != 0) {
            snprintf(err, sizeof(err), "a batch past its memory cap");
            break;
        }
        if (r.batch_n == r.cfg.batch_max || r.values.len >= WEIR_PIPELINE_BATCH_BYTES) {
            if ((rc = replay_batch(&r, err, sizeof(err))) != 0)
                break;
            show_progress(&r, 0);
        }
    }
    if (rc == 0 && r.batch_n > 0)
        rc = replay_batch(&r, err, sizeof(err));
    if (rc != 0) {
        if (r.tty && !o->quiet)
            fputc('\n', stderr);
        fprintf(stderr, "weir replay: %s\n", err);
        goto out;
    }
    show_progress(&r, 1);
    if (weir_backtest_events(r.bt) == 0 && r.input_dead == 0) {
        char f[40] = "the start", t[40] = "the end";
        if (o->from)
            snprintf(f, sizeof(f), "%s", o->from);
        if (o->to)
            snprintf(t, sizeof(t), "%s", o->to);
        fprintf(stderr,
                "weir replay: no events between %s and %s (%" PRIu64 " records read, %" PRIu64
                " outside the time bounds)\n",
                f, t, weir_source_read(r.source), weir_source_skipped(r.source));
        goto out;
    }
    /* labels that arrive by the end of the range plus the grace window */
    int64_t first, last;
    weir_backtest_time_span(r.bt, &first, &last);
    int64_t end = !o->to_bound.is_offsets && o->to_bound.time_ms != INT64_MAX ? o->to_bound.time_ms
                                                                              : last + 1;
    if (r.labels_on) {
        deliver_labels(&r, end + o->grace_ms);
        uint64_t events = weir_backtest_events(r.bt);
        for (size_t m = 0; m < r.n_models; m++) {
            size_t alerts = weir_monitor_evaluate(r.models[m].monitor, end + o->grace_ms);
            if (weir_backtest_monitor(r.bt, m, r.models[m].monitor, alerts, end + o->grace_ms,
                                      events) != 0)
                goto out;
        }
    }
    if (!checked_early) {
        training = training_check(&r, first, last + 1, "event times", warnings, &overlap);
        if (overlap && o->strict_time) {
            fprintf(stderr, "weir replay: --strict-time: the events overlap a training window\n");
            code = 2;
            goto out;
        }
    }
    if (r.writer) {
        rc = weir_container_writer_close(r.writer, err, sizeof(err));
        r.writer = NULL;
        if (rc) {
            fprintf(stderr, "weir replay: %s\n", err);
            goto out;
        }
    }
    if (r.producer) {
        if (rd_kafka_flush(r.producer, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR || r.produce_errors) {
            fprintf(stderr, "weir replay: %" PRIu64 " scored events were not written to %s\n",
                    r.produce_errors ? r.produce_errors : (uint64_t)rd_kafka_outq_len(r.producer),
                    o->out + 6);
            goto out;
        }
    }
    json_t *labels_json = NULL;
    if (labels)
        labels_json = json_pack("{s:s, s:I, s:I}", "source", labels, "delay_ms",
                                (json_int_t)o->delay_ms, "grace_ms", (json_int_t)o->grace_ms);
    weir_backtest_context_t ctx = {
        .input = input_json(&r, is_file),
        .labels = labels_json,
        .warnings = warnings,
        .training = training,
        .records = weir_source_read(r.source) - weir_source_skipped(r.source),
        .skipped = weir_source_skipped(r.source),
        .input_dead = r.input_dead,
    };
    warnings = NULL;
    training = NULL;
    report = weir_backtest_report(r.bt, &ctx);
    json_decref(ctx.input);
    json_decref(ctx.labels);
    json_decref(ctx.warnings);
    json_decref(ctx.training);
    if (!report) {
        fprintf(stderr, "weir replay: out of memory building the report\n");
        goto out;
    }
    if (o->report && json_dump_file(report, o->report, JSON_INDENT(1) | JSON_SORT_KEYS) != 0) {
        fprintf(stderr, "weir replay: %s: cannot write the report\n", o->report);
        goto out;
    }
    if (o->html && weir_report_html_file(report, o->html, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir replay: %s\n", err);
        goto out;
    }
    double seconds = weir_clock_mono_s() - r.t0;
    fprintf(stderr, "weir replay: %" PRIu64 " events from %" PRIu64 " records in %.2fs (%.0f/s)\n",
            weir_backtest_events(r.bt), weir_source_read(r.source), seconds,
            seconds > 0 ? (double)weir_source_read(r.source) / seconds : 0.0);
    json_t *models = json_object_get(report, "models");
    for (size_t m = 0; m < json_array_size(models); m++) {
        json_t *mo = json_array_get(models, m), *mx = json_object_get(mo, "metrics");
        json_t *counts = json_object_get(mo, "counts");
        char line[512];
        int at = snprintf(line, sizeof(line),
                          "  %-10s %s %s: %" JSON_INTEGER_FORMAT " scored, %" JSON_INTEGER_FORMAT
                          " dead letters, %" JSON_INTEGER_FORMAT " labelled",
                          json_string_value(json_object_get(mo, "role")),
                          json_string_value(json_object_get(mo, "name")),
                          json_string_value(json_object_get(mo, "version")),
                          json_integer_value(json_object_get(counts, "scored")),
                          json_integer_value(json_object_get(counts, "dead_letters_total")),
                          json_integer_value(json_object_get(counts, "labelled")));
        static const char *shown[] = {"roc_auc",  "pr_auc", "f1", "accuracy",
                                      "macro_f1", "rmse",   "r2"};
        for (size_t s = 0; s < sizeof(shown) / sizeof(shown[0]) && at < (int)sizeof(line); s++) {
            json_t *v = json_object_get(mx, shown[s]);
            if (json_is_number(v))
                at += snprintf(line + at, sizeof(line) - (size_t)at, " %s %.4f", shown[s],
                               json_number_value(v));
        }
        json_t *alerts = json_object_get(json_object_get(mo, "drift"), "alerts");
        if (at < (int)sizeof(line))
            snprintf(line + at, sizeof(line) - (size_t)at, ", %zu drift state changes",
                     json_array_size(alerts));
        fprintf(stderr, "%s\n", line);
    }
    code = 0;
out:
    json_decref(report);
    json_decref(warnings);
    json_decref(training);
    if (r.writer)
        weir_container_writer_close(r.writer, err, sizeof(err));
    if (r.producer) {
        if (r.out_topic)
            rd_kafka_topic_destroy(r.out_topic);
        rd_kafka_destroy(r.producer);
    }
    weir_source_close(r.source);
    for (size_t m = 0; m < WEIR_BACKTEST_MAX_MODELS; m++) {
        weir_monitor_destroy(r.models[m].monitor);
        weir_pipeline_destroy(r.models[m].pipeline);
        weir_model_destroy(r.models[m].model);
        free(r.models[m].items);
    }
    weir_backtest_destroy(r.bt);
    label_store_free(&r.store);
    if (r.input_schema)
        avro_schema_decref(r.input_schema);
    free(r.topic_list);
    free(r.heap);
    free(r.value_at);
    free(r.value_len);
    free(r.key_at);
    free(r.key_len);
    free(r.rec_time);
    free(r.rec_ts);
    free(r.rec_offset);
    free(r.rec_partition);
    free(r.rec_topic);
    free(r.rec_bad);
    weir_buf_dispose(&r.values);
    weir_buf_dispose(&r.keys);
    weir_buf_dispose(&r.label_body);
    weir_config_dispose(&r.cfg);
    return code;
}

int weir_replay_main(int argc, char **argv)
{
    replay_options_t o;
    char err[1024];
    int code;
    if (replay_parse(argc, argv, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir replay: %s\n", err);
        options_dispose(&o);
        return 2;
    }
    if (o.help) {
        usage(stdout);
        options_dispose(&o);
        return 0;
    }
    code = replay_run(&o);
    options_dispose(&o);
    return code;
}
