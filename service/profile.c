/*
 * profile.c — `weir profile --in topic:NAME[@from..to]|file:PATH`: the
 * exploratory statistics of a stream, before a model is trained on it.
 *
 * Every primitive field of the input schema (nested records as dotted
 * paths, nullable fields included) is profiled with eval/'s field profile;
 * the target's balance comes from a label field of the record or from labels
 * joined by event id; the output is an aligned table on stdout, and with
 * --out a weir.profile/1 report whose `reference` block is a bundle's
 * reference section as it stands (docs/reports.md). The input is read
 * through the same bounded source as `weir replay`: no consumer group, the
 * end fixed when it opens.
 */
#include "profile.h"
#include "cli.h"
#include "common.h"
#include "config.h"
#include "eval.h"
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

#define MAX_FIELDS 4096
#define TOP_SHOWN 10
#define REF_CATEGORIES 256
#define HIST_BINS 20

typedef struct {
    weir_config_args_t config;
    const char *in, *out, *html, *label_field, *labels, *model, *sample;
    int quiet, help;
    /* parsed */
    char topic[256];
    weir_source_bound_t from, to;
    uint64_t sample_size;
} profile_options_t;

typedef struct {
    char *name;
    weir_field_t field;
    weir_profile_kind_t kind;
} field_t;

/* The labels of an input, by event id, for the target's balance. */
typedef struct {
    char **ids, **values;
    size_t n, cap;
    int64_t *index;
    size_t index_cap;
} label_map_t;

static void usage(FILE *out)
{
    fprintf(out, "usage: weir profile --in topic:NAME[@FROM..TO]|file:PATH [--out profile.json]\n"
                 "\n"
                 "Per field of the input: count, missing share, mean, std, min, quantiles, max,\n"
                 "distinct values (estimated past 65536), the most frequent categories; the\n"
                 "target's balance with --label-field or --labels; the correlation matrix of the\n"
                 "numeric fields. An aligned table on stdout; the JSON holds a `reference` block\n"
                 "that drops into a bundle as its reference section.\n"
                 "\n"
                 "  --in topic:NAME[@FROM..TO]  a topic range (FROM, TO: times in the forms of\n"
                 "                       weir replay's --from and --to, either may be left\n"
                 "                       out), or file:PATH\n"
                 "  --out PATH           the weir.profile/1 report (docs/reports.md)\n"
                 "  --html PATH          the report as one self-contained HTML page\n"
                 "  --label-field F      the record's field holding the target\n"
                 "  --labels topic:L|file:P  labels (schemas/label.avsc) joined by event id\n"
                 "  --model M            key the reference by M's feature names, for M's features\n"
                 "  --sample N           values of each numeric field's reference sample [5000]\n"
                 "  -c, --config FILE    a weir.conf: kafka.*, input.* (schema, format, id field)\n"
                 "  -X key=value         set or override one key (repeatable; after the file)\n"
                 "  -q, --quiet          no table\n"
                 "  -h, --help           this help\n");
}

static int profile_parse(int argc, char **argv, profile_options_t *o, char *err, size_t errsz)
{
    static const struct option opts[] = {
        {"in", required_argument, NULL, 'i'},
        {"out", required_argument, NULL, 'o'},
        {"html", required_argument, NULL, 'H'},
        {"label-field", required_argument, NULL, 'L'},
        {"labels", required_argument, NULL, 'l'},
        {"model", required_argument, NULL, 'm'},
        {"sample", required_argument, NULL, 'S'},
        {"config", required_argument, NULL, 'c'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, rc = 0;
    memset(o, 0, sizeof(*o));
    weir_source_bound_none(&o->from, 0);
    weir_source_bound_none(&o->to, 1);
    o->sample_size = 5000;
    optind = 1;
    opterr = 0;
    while (rc == 0 && (opt = getopt_long(argc, argv, ":c:X:qh", opts, NULL)) != -1) {
        switch (opt) {
        case 'i':
            o->in = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'H':
            o->html = optarg;
            break;
        case 'L':
            o->label_field = optarg;
            break;
        case 'l':
            o->labels = optarg;
            break;
        case 'm':
            o->model = optarg;
            break;
        case 'S':
            o->sample = optarg;
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
            rc = weir_cli_option_error("profile", opt, argc, argv, err, errsz);
            break;
        }
    }
    if (rc || o->help)
        return rc;
    if (optind < argc)
        return weir_cli_stray_argument("profile", argv[optind], err, errsz);
    if (!o->in)
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "--in topic:NAME or --in file:PATH is required (see weir profile -h)");
    if (o->sample && (rc = weir_cli_parse_u64("--sample", o->sample, WEIR_BUNDLE_MAX_SAMPLE,
                                              &o->sample_size, err, errsz)) != 0)
        return rc;
    if (o->label_field && o->labels)
        return weir_seterr(err, errsz, WEIR_EINVAL, "--label-field and --labels: one or the other");
    if (o->labels && strncmp(o->labels, "file:", 5) && strncmp(o->labels, "topic:", 6))
        return weir_seterr(err, errsz, WEIR_EINVAL, "--labels: expected topic:NAME or file:PATH");
    if (!strncmp(o->in, "file:", 5) && o->in[5])
        return 0;
    if (strncmp(o->in, "topic:", 6) != 0 || !o->in[6])
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "--in: expected topic:NAME[@FROM..TO] or file:PATH, got \"%.64s\"",
                           o->in);
    const char *spec = o->in + 6, *at = strchr(spec, '@');
    size_t len = at ? (size_t)(at - spec) : strlen(spec);
    if (len == 0 || len >= sizeof(o->topic))
        return weir_seterr(err, errsz, WEIR_EINVAL, "--in: no topic name in \"%.64s\"", o->in);
    memcpy(o->topic, spec, len);
    o->topic[len] = '\0';
    if (!weir_config_topic_ok(o->topic))
        return weir_seterr(err, errsz, WEIR_EINVAL, "--in: \"%.64s\" is not a topic name",
                           o->topic);
    if (at) {
        const char *dots = strstr(at + 1, "..");
        if (!dots)
            return weir_seterr(err, errsz, WEIR_EINVAL,
                               "--in: expected NAME@FROM..TO (either side may be empty)");
        char from[128] = "", to[128] = "";
        snprintf(from, sizeof(from), "%.*s", (int)(dots - at - 1), at + 1);
        snprintf(to, sizeof(to), "%s", dots + 2);
        if ((*from && (rc = weir_source_parse_bound("--in FROM", from, &o->from, err, errsz))) ||
            (*to && (rc = weir_source_parse_bound("--in TO", to, &o->to, err, errsz))))
            return rc;
        if (!o->from.is_offsets && !o->to.is_offsets && o->from.time_ms >= o->to.time_ms)
            return weir_seterr(err, errsz, WEIR_EINVAL,
                               "--in: FROM is not before TO: the range is empty");
    }
    return 0;
}

/* ---- fields -------------------------------------------------------------- */

static int add_field(field_t *fields, size_t *n, avro_schema_t root, const char *name,
                     weir_profile_kind_t kind)
{
    if (*n == MAX_FIELDS)
        return 0;
    char why[256];
    field_t *f = &fields[*n];
    if (weir_field_resolve(root, name, &f->field, why, sizeof(why)) != 0)
        return 0; /* a shape the field reader does not take: left out */
    f->name = strdup(name);
    if (!f->name)
        return WEIR_ENOMEM;
    f->kind = kind;
    (*n)++;
    return 0;
}

/* Every primitive leaf of @p s (records as dotted paths; a union of null and
 * one primitive counts as that primitive). */
static int walk(avro_schema_t root, avro_schema_t s, const char *prefix, int depth, field_t *fields,
                size_t *n)
{
    int rc = 0;
    for (size_t i = 0; i < avro_schema_record_size(s) && rc == 0; i++) {
        const char *fname = avro_schema_record_field_name(s, (int)i);
        avro_schema_t t = avro_schema_record_field_get_by_index(s, (int)i);
        char path[1024];
        snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", fname);
        if (is_avro_union(t)) {
            avro_schema_t only = NULL;
            size_t non_null = 0;
            for (size_t k = 0; k < avro_schema_union_size(t); k++) {
                avro_schema_t br = avro_schema_union_branch(t, (int)k);
                if (!is_avro_null(br)) {
                    only = br;
                    non_null++;
                }
            }
            if (non_null != 1)
                continue;
            t = only;
        }
        if (is_avro_record(t)) {
            if (depth + 1 < WEIR_FIELD_MAX_DEPTH)
                rc = walk(root, t, path, depth + 1, fields, n);
        } else if (is_avro_string(t) || is_avro_enum(t)) {
            rc = add_field(fields, n, root, path, WEIR_PROFILE_CATEGORICAL);
        } else if (is_avro_boolean(t)) {
            rc = add_field(fields, n, root, path, WEIR_PROFILE_BOOLEAN);
        } else if (is_avro_int32(t) || is_avro_int64(t) || is_avro_float(t) || is_avro_double(t)) {
            rc = add_field(fields, n, root, path, WEIR_PROFILE_NUMERIC);
        }
    }
    return rc;
}

/* ---- labels --------------------------------------------------------------- */

static uint64_t hash_id(const char *s, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * UINT64_C(0x100000001b3);
    return h ^ (h >> 29);
}

static int64_t map_find(const label_map_t *m, const char *id, size_t len)
{
    if (!m->index_cap)
        return -1;
    size_t at = (size_t)(hash_id(id, len) & (m->index_cap - 1));
    while (m->index[at] >= 0) {
        const char *k = m->ids[m->index[at]];
        if (strlen(k) == len && !memcmp(k, id, len))
            return m->index[at];
        at = (at + 1) & (m->index_cap - 1);
    }
    return -1;
}

static int map_put(label_map_t *m, const char *id, size_t len, const char *value)
{
    if (map_find(m, id, len) >= 0)
        return 0;
    if ((m->n + 1) * 2 > m->index_cap) {
        size_t cap = m->index_cap ? m->index_cap * 2 : 1024;
        int64_t *index = malloc(cap * sizeof(int64_t));
        if (!index)
            return WEIR_ENOMEM;
        for (size_t i = 0; i < cap; i++)
            index[i] = -1;
        for (size_t i = 0; i < m->n; i++) {
            size_t at = (size_t)(hash_id(m->ids[i], strlen(m->ids[i])) & (cap - 1));
            while (index[at] >= 0)
                at = (at + 1) & (cap - 1);
            index[at] = (int64_t)i;
        }
        free(m->index);
        m->index = index;
        m->index_cap = cap;
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        char **ids = realloc(m->ids, cap * sizeof(char *));
        if (ids)
            m->ids = ids;
        char **values = realloc(m->values, cap * sizeof(char *));
        if (values)
            m->values = values;
        if (!ids || !values)
            return WEIR_ENOMEM;
        m->cap = cap;
    }
    m->ids[m->n] = strndup(id, len);
    m->values[m->n] = strdup(value);
    if (!m->ids[m->n] || !m->values[m->n]) {
        free(m->ids[m->n]);
        free(m->values[m->n]);
        return WEIR_ENOMEM;
    }
    size_t at = (size_t)(hash_id(id, len) & (m->index_cap - 1));
    while (m->index[at] >= 0)
        at = (at + 1) & (m->index_cap - 1);
    m->index[at] = (int64_t)m->n++;
    return 0;
}

static void map_free(label_map_t *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->ids[i]);
        free(m->values[i]);
    }
    free(m->ids);
    free(m->values);
    free(m->index);
}

static int read_labels(const weir_config_t *cfg, const char *spec, label_map_t *map,
                       uint64_t *invalid, char *err, size_t errsz)
{
    int rc = 0;
    avro_schema_t schema = NULL;
    weir_decoder_t *dec = NULL;
    weir_source_t *src = NULL;
    const char *topics[2] = {spec + 6, NULL};
    int is_file = !strncmp(spec, "file:", 5);
    weir_source_config_t sc = {.stall_ms = 60000};
    if ((rc = weir_schema_parse(weir_schema_text("label"), &schema, err, errsz)) != 0 ||
        (rc = weir_decoder_new(is_file ? WEIR_FRAMING_RAW : cfg->input_framing, &dec)) != 0 ||
        (rc = weir_decoder_add_schema(dec, cfg->labels_schema_id, schema, err, errsz)) != 0)
        goto out;
    if (is_file) {
        sc.file = spec + 5;
    } else {
        sc.topics = topics;
        sc.schema = schema;
        sc.framing = cfg->input_framing;
        sc.schema_id = cfg->labels_schema_id;
        if ((rc = weir_config_kafka(cfg, 1, &sc.kafka, err, errsz)) != 0)
            goto out;
    }
    if ((rc = weir_source_open(&sc, &src, err, errsz)) != 0)
        goto out;
    weir_source_record_t rec;
    while ((rc = weir_source_next(src, &rec, err, errsz)) == 1) {
        weir_decoded_t d;
        weir_reason_t reason;
        char detail[128], value[128];
        if (rec.bad || weir_decoder_decode(dec, rec.value, rec.len, &d, &reason, detail,
                                           sizeof(detail)) != 0) {
            (*invalid)++;
            continue;
        }
        avro_value_t id, label, branch;
        const char *s = NULL, *ls = NULL;
        size_t n = 0, ln = 0;
        avro_value_get_by_index(d.value, 0, &id, NULL);
        avro_value_get_by_index(d.value, 1, &label, NULL);
        avro_value_get_string(&id, &s, &n);
        avro_value_get_current_branch(&label, &branch);
        if (avro_value_get_type(&branch) == AVRO_STRING) {
            avro_value_get_string(&branch, &ls, &ln);
            snprintf(value, sizeof(value), "%.*s", (int)(ln ? ln - 1 : 0), ls);
        } else {
            double v = 0;
            avro_value_get_double(&branch, &v);
            snprintf(value, sizeof(value), "%.17g", v);
        }
        if (n > 1 && (rc = map_put(map, s, n - 1, value)) != 0)
            break;
    }
out:
    weir_source_close(src);
    weir_decoder_destroy(dec);
    if (schema)
        avro_schema_decref(schema);
    return rc < 0 ? rc : 0;
}

/* ---- the report ----------------------------------------------------------- */

static json_t *num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

static const char *kind_name(weir_profile_kind_t k)
{
    return k == WEIR_PROFILE_NUMERIC   ? "numeric"
           : k == WEIR_PROFILE_BOOLEAN ? "boolean"
                                       : "categorical";
}

static json_t *top_json(const weir_profile_field_t *s, size_t max)
{
    json_t *arr = json_array();
    for (size_t k = 0; k < s->top_count && k < max; k++)
        json_array_append_new(
            arr, json_pack("{s:s, s:I, s:o}", "value", s->top[k].value, "count",
                           (json_int_t)s->top[k].count, "share",
                           num(s->count ? (double)s->top[k].count / (double)s->count : NAN)));
    return arr;
}

/* The field's reference, as docs/bundle.md's Reference section writes it. */
static json_t *reference_of(const weir_profile_t *p, size_t i, const weir_profile_field_t *s,
                            uint64_t sample_size, const double *kept, size_t n_kept,
                            json_t *warnings, const char *name)
{
    json_t *r = json_pack("{s:I, s:o}", "n", (json_int_t)s->rows, "missing_rate",
                          num(s->rows ? (double)s->missing / (double)s->rows : NAN));
    if (s->kind == WEIR_PROFILE_CATEGORICAL) {
        json_t *cats = json_object();
        uint64_t total = 0;
        size_t kept_cats = 0;
        for (size_t k = 0; k < s->top_count && kept_cats < REF_CATEGORIES; k++) {
            if (strlen(s->top[k].value) > WEIR_BUNDLE_MAX_LABEL)
                continue;
            total += s->top[k].count;
            kept_cats++;
        }
        kept_cats = 0;
        for (size_t k = 0; k < s->top_count && kept_cats < REF_CATEGORIES && total; k++) {
            if (strlen(s->top[k].value) > WEIR_BUNDLE_MAX_LABEL)
                continue;
            json_object_set_new(cats, s->top[k].value,
                                json_real((double)s->top[k].count / (double)total));
            kept_cats++;
        }
        if (kept_cats < s->top_count || s->top_estimated) {
            char w[400];
            snprintf(w, sizeof(w),
                     "%.200s: %" PRIu64 " distinct values; the reference keeps the %zu most "
                     "frequent, their proportions renormalised",
                     name, s->distinct, kept_cats);
            json_array_append_new(warnings, json_string(w));
        }
        if (json_object_size(cats) > 0)
            json_object_set_new(r, "categories", cats);
        else
            json_decref(cats);
        return r;
    }
    if (s->count == 0)
        return r;
    double *sample = malloc((sample_size ? sample_size : 1) * sizeof(double));
    size_t ns = sample ? weir_profile_sample(p, i, sample, sample_size) : 0;
    json_t *arr = json_array();
    for (size_t k = 0; k < ns; k++)
        json_array_append_new(arr, json_real(sample[k]));
    free(sample);
    json_object_set_new(r, "sample", arr);
    /* decile bins, their cut points strictly increasing */
    double edges[9];
    size_t ne = 0;
    for (int q = 1; q <= 9; q++) {
        double e = weir_eval_quantile(kept, n_kept, q / 10.0);
        if (isfinite(e) && (ne == 0 || e > edges[ne - 1]) && e < kept[n_kept - 1])
            edges[ne++] = e;
    }
    if (ne > 0) {
        double props[10] = {0};
        for (size_t k = 0; k < n_kept; k++) {
            size_t bin = 0;
            while (bin < ne && edges[bin] < kept[k])
                bin++;
            props[bin]++;
        }
        json_t *je = json_array(), *jp = json_array();
        for (size_t k = 0; k < ne; k++)
            json_array_append_new(je, json_real(edges[k]));
        for (size_t k = 0; k <= ne; k++)
            json_array_append_new(jp, json_real(props[k] / (double)n_kept));
        json_object_set_new(r, "bins", json_pack("{s:o, s:o}", "edges", je, "proportions", jp));
    }
    json_object_set_new(r, "mean", num(s->mean));
    json_object_set_new(r, "std", num(s->std));
    return r;
}

static json_t *histogram_of(const weir_profile_field_t *s, const double *kept, size_t n)
{
    if (n == 0 || !(s->max > s->min))
        return NULL;
    uint64_t counts[HIST_BINS] = {0};
    double w = (s->max - s->min) / HIST_BINS;
    for (size_t k = 0; k < n; k++) {
        int bin = (int)((kept[k] - s->min) / w);
        counts[bin < 0 ? 0 : bin >= HIST_BINS ? HIST_BINS - 1 : bin]++;
    }
    json_t *edges = json_array(), *jc = json_array();
    for (int k = 0; k <= HIST_BINS; k++)
        json_array_append_new(edges, json_real(s->min + w * k));
    /* counts of the kept values, scaled to the field's count when sampled */
    double scale = (double)s->count / (double)n;
    for (int k = 0; k < HIST_BINS; k++)
        json_array_append_new(jc, json_integer((json_int_t)llround((double)counts[k] * scale)));
    return json_pack("{s:o, s:o}", "edges", edges, "counts", jc);
}

static void print_table(const weir_profile_t *p, const field_t *fields, size_t n, uint64_t rows)
{
    size_t w = 5;
    for (size_t i = 0; i < n; i++)
        if (strlen(fields[i].name) > w)
            w = strlen(fields[i].name);
    if (w > 40)
        w = 40;
    printf("%" PRIu64 " rows, %zu fields\n\n", rows, n);
    printf("%-*s %-11s %9s %8s %11s %11s %11s %11s %11s %11s %9s  %s\n", (int)w, "field", "type",
           "count", "missing", "mean", "std", "min", "p25", "p50", "p75", "distinct", "top");
    for (size_t i = 0; i < n; i++) {
        const weir_profile_field_t *s = weir_profile_field(p, i);
        char v[6][24], d[24], top[64] = "";
        double vals[6] = {s->mean,
                          s->std,
                          s->min,
                          weir_profile_quantile(p, i, 0.25),
                          weir_profile_quantile(p, i, 0.5),
                          weir_profile_quantile(p, i, 0.75)};
        for (int k = 0; k < 6; k++) {
            if (isnan(vals[k]))
                snprintf(v[k], sizeof(v[k]), "-");
            else
                snprintf(v[k], sizeof(v[k]), "%.5g", vals[k]);
        }
        snprintf(d, sizeof(d), "%s%" PRIu64, s->distinct_estimated ? "~" : "", s->distinct);
        if (s->top_count > 0 && s->kind == WEIR_PROFILE_CATEGORICAL)
            snprintf(top, sizeof(top), "%.24s (%.1f%%)", s->top[0].value,
                     s->count ? 100.0 * (double)s->top[0].count / (double)s->count : 0.0);
        printf("%-*.*s %-11s %9" PRIu64 " %7.2f%% %11s %11s %11s %11s %11s %11s %9s  %s\n", (int)w,
               (int)w, fields[i].name, kind_name(s->kind), s->count,
               s->rows ? 100.0 * (double)s->missing / (double)s->rows : 0.0, v[0], v[1], v[2], v[3],
               v[4], v[5], d, top);
    }
}

/* ---- the run ---------------------------------------------------------------- */

static int profile_run(const profile_options_t *o)
{
    int code = 2, rc;
    char err[2048];
    weir_config_t cfg;
    weir_source_t *src = NULL;
    weir_decoder_t *dec = NULL;
    weir_profile_t *prof = NULL;
    weir_model_t *model = NULL;
    avro_schema_t schema = NULL;
    field_t *fields = calloc(MAX_FIELDS, sizeof(field_t));
    weir_profile_kind_t *kinds = calloc(MAX_FIELDS, sizeof(weir_profile_kind_t));
    weir_value_t *values = calloc(MAX_FIELDS, sizeof(weir_value_t));
    size_t n_fields = 0;
    label_map_t labels;
    memset(&labels, 0, sizeof(labels));
    uint64_t labels_invalid = 0, unreadable = 0, rows = 0;
    json_t *root = NULL, *warnings = json_array();
    int is_file = !strncmp(o->in, "file:", 5);
    weir_config_init(&cfg);
    if (!fields || !kinds || !values) {
        code = 1;
        goto out;
    }
    if ((rc = weir_config_apply_args(&cfg, &o->config, err, sizeof(err))) != 0 ||
        (rc = weir_config_check(&cfg, err, sizeof(err))) != 0) {
        fprintf(stderr, "weir profile: %s\n", err);
        goto out;
    }
    weir_log_set_level(weir_config_origin(&cfg, "log.level") ? cfg.log_level : WEIR_LOG_ERROR);
    openblas_set_num_threads(1);
    if (o->model && weir_model_load(o->model, &model, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir profile: %s\n", err);
        goto out;
    }
    if (o->labels && read_labels(&cfg, o->labels, &labels, &labels_invalid, err, sizeof(err))) {
        fprintf(stderr, "weir profile: --labels %s: %s\n", o->labels, err);
        goto out;
    }
    weir_source_config_t sc = {.from = &o->from, .to = &o->to, .stall_ms = 60000};
    const char *topics[2] = {o->topic, NULL};
    if (is_file) {
        sc.file = o->in + 5;
    } else {
        if (!*cfg.input_schema_path) {
            fprintf(stderr, "weir profile: input.schema: the writer schema of the topic is "
                            "required (-c weir.conf or -X input.schema=FILE)\n");
            goto out;
        }
        if (weir_schema_load_file(cfg.input_schema_path, &schema, err, sizeof(err)) != 0 ||
            weir_config_kafka(&cfg, 1, &sc.kafka, err, sizeof(err)) != 0) {
            fprintf(stderr, "weir profile: %s\n", err);
            goto out;
        }
        sc.topics = topics;
        sc.schema = schema;
        sc.framing = cfg.input_framing;
        sc.schema_id = cfg.input_schema_id;
        rd_kafka_conf_set(sc.kafka, "max.partition.fetch.bytes", "1048576", NULL, 0);
    }
    if ((rc = weir_source_open(&sc, &src, err, sizeof(err))) != 0) {
        fprintf(stderr, "weir profile: %s\n", err);
        code = rc == WEIR_ECONFIG || rc == WEIR_EINVAL ? 2 : 1;
        goto out;
    }
    avro_schema_t input = weir_source_schema(src);
    if (!is_avro_record(input) || walk(input, input, "", 0, fields, &n_fields) != 0 ||
        n_fields == 0) {
        fprintf(stderr, "weir profile: the input schema has no field to profile\n");
        goto out;
    }
    weir_field_t label_field, id_field;
    int has_label_field = 0, has_id = 0;
    char why[256];
    if (o->label_field) {
        if (weir_field_resolve(input, o->label_field, &label_field, why, sizeof(why)) != 0) {
            fprintf(stderr, "weir profile: --label-field: %s\n", why);
            goto out;
        }
        has_label_field = 1;
    }
    if (o->labels) {
        if (weir_field_resolve(input, cfg.input_id_field, &id_field, why, sizeof(why)) != 0) {
            fprintf(stderr, "weir profile: input.id.field: %s\n", why);
            goto out;
        }
        has_id = 1;
    }
    for (size_t i = 0; i < n_fields; i++)
        kinds[i] = fields[i].kind;
    weir_profile_kind_t target_kind = WEIR_PROFILE_CATEGORICAL;
    weir_profile_t *target = NULL;
    if ((rc = weir_profile_new(kinds, n_fields, NULL, &prof)) != 0 ||
        ((has_label_field || has_id) && (rc = weir_profile_new(&target_kind, 1, NULL, &target)))) {
        fprintf(stderr, "weir profile: %s\n", weir_strerror(rc));
        code = 1;
        goto out;
    }
    if ((rc = weir_decoder_new(is_file ? WEIR_FRAMING_RAW : cfg.input_framing, &dec)) != 0 ||
        (rc = weir_decoder_add_schema(dec, cfg.input_schema_id, input, err, sizeof(err))) != 0) {
        fprintf(stderr, "weir profile: %s\n", err);
        weir_profile_destroy(target);
        goto out;
    }
    code = 1;
    weir_source_record_t rec;
    uint64_t joined = 0;
    while ((rc = weir_source_next(src, &rec, err, sizeof(err))) == 1) {
        weir_decoded_t d;
        weir_reason_t reason;
        char detail[128];
        if (rec.bad ||
            weir_decoder_decode(dec, rec.value, rec.len, &d, &reason, detail, sizeof(detail))) {
            unreadable++;
            continue;
        }
        rows++;
        for (size_t i = 0; i < n_fields; i++)
            if (weir_field_get(&fields[i].field, d.value, &values[i]) != 0)
                values[i].kind = WEIR_VALUE_MISSING;
        if (weir_profile_add(prof, values) != 0) {
            fprintf(stderr, "weir profile: out of memory\n");
            break;
        }
        if (has_label_field) {
            weir_value_t v;
            if (weir_field_get(&label_field, d.value, &v) != 0)
                v.kind = WEIR_VALUE_MISSING;
            weir_profile_add(target, &v);
        } else if (has_id) {
            weir_value_t id, v = {.kind = WEIR_VALUE_MISSING};
            char idtext[64];
            if (weir_field_get(&id_field, d.value, &id) == 0) {
                const char *s = id.string;
                size_t n = id.length;
                if (id.kind == WEIR_VALUE_NUMBER) {
                    n = (size_t)snprintf(idtext, sizeof(idtext), "%.0f", id.number);
                    s = idtext;
                }
                int64_t at = id.kind != WEIR_VALUE_MISSING ? map_find(&labels, s, n) : -1;
                if (at >= 0) {
                    v = (weir_value_t){.kind = WEIR_VALUE_STRING,
                                       .string = labels.values[at],
                                       .length = strlen(labels.values[at])};
                    joined++;
                }
            }
            weir_profile_add(target, &v);
        }
    }
    if (rc < 0) {
        fprintf(stderr, "weir profile: %s\n", err);
        weir_profile_destroy(target);
        goto out;
    }
    if (rows == 0) {
        fprintf(stderr, "weir profile: no readable record in %s (%" PRIu64 " unreadable)\n", o->in,
                unreadable);
        weir_profile_destroy(target);
        goto out;
    }
    weir_profile_finish(prof);
    if (target)
        weir_profile_finish(target);

    /* the report */
    json_t *jfields = json_array(), *features = json_object();
    for (size_t i = 0; i < n_fields; i++) {
        const weir_profile_field_t *s = weir_profile_field(prof, i);
        json_t *f = json_pack("{s:s, s:s, s:I, s:I, s:o, s:I, s:b}", "name", fields[i].name, "type",
                              kind_name(s->kind), "count", (json_int_t)s->count, "missing",
                              (json_int_t)s->missing, "missing_share",
                              num(s->rows ? (double)s->missing / (double)s->rows : NAN), "distinct",
                              (json_int_t)s->distinct, "distinct_estimated", s->distinct_estimated);
        double *kept = NULL;
        size_t n_kept = 0;
        if (s->kind != WEIR_PROFILE_CATEGORICAL) {
            kept = malloc(((size_t)s->count ? (size_t)s->count : 1) * sizeof(double));
            n_kept = kept ? weir_profile_sample(prof, i, kept, (size_t)s->count) : 0;
            json_object_set_new(f, "nonfinite", json_integer((json_int_t)s->nonfinite));
            json_object_set_new(f, "mean", num(s->mean));
            json_object_set_new(f, "std", num(s->std));
            json_object_set_new(f, "min", num(s->min));
            json_object_set_new(f, "max", num(s->max));
            json_t *q = json_object();
            static const double qs[] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};
            static const char *qn[] = {"p01", "p05", "p25", "p50", "p75", "p95", "p99"};
            for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++)
                json_object_set_new(q, qn[k], num(weir_profile_quantile(prof, i, qs[k])));
            json_object_set_new(f, "quantiles", q);
            json_object_set_new(f, "quantiles_estimated", json_boolean(s->quantiles_estimated));
            json_t *h = histogram_of(s, kept, n_kept);
            if (h)
                json_object_set_new(f, "histogram", h);
        }
        if (s->top_count > 0) {
            json_object_set_new(f, "top", top_json(s, TOP_SHOWN));
            json_object_set_new(f, "top_estimated", json_boolean(s->top_estimated));
        }
        /* the reference: every field, or the model's features under their names */
        const char *ref_name = fields[i].name;
        if (model) {
            ref_name = NULL;
            for (size_t k = 0; k < weir_model_feature_count(model) && !ref_name; k++)
                if (!strcmp(weir_model_feature(model, k)->source, fields[i].name))
                    ref_name = weir_model_feature(model, k)->name;
        }
        if (ref_name)
            json_object_set_new(
                features, ref_name,
                reference_of(prof, i, s, o->sample_size, kept, n_kept, warnings, fields[i].name));
        free(kept);
        json_array_append_new(jfields, f);
    }
    size_t m;
    const size_t *idx;
    const double *corr = weir_profile_correlation(prof, &m, &idx);
    json_t *cf = json_array(), *cm = json_array();
    for (size_t a = 0; a < m; a++) {
        json_array_append_new(cf, json_string(fields[idx[a]].name));
        json_t *row = json_array();
        for (size_t c = 0; c < m; c++)
            json_array_append_new(row, num(corr[a * m + c]));
        json_array_append_new(cm, row);
    }
    root = json_pack("{s:s, s:s, s:{s:s, s:s}, s:I, s:I, s:o, s:{s:s, s:o, s:o}, s:{s:o}}",
                     "format", "weir.profile/1", "weir_version", WEIR_VERSION, "input", "source",
                     o->in, "kind", is_file ? "file" : "topic", "rows", (json_int_t)rows,
                     "unreadable", (json_int_t)unreadable, "fields", jfields, "correlation",
                     "method", "pearson, pairwise complete", "fields", cf, "matrix", cm,
                     "reference", "features", features);
    if (target) {
        const weir_profile_field_t *t = weir_profile_field(target, 0);
        json_t *classes = top_json(t, t->top_count);
        json_t *tj = json_pack(
            "{s:s, s:I, s:I, s:o}", "field", o->label_field ? o->label_field : o->labels, "rows",
            (json_int_t)t->rows, "labelled", (json_int_t)t->count, "classes", classes);
        if (o->labels)
            json_object_set_new(tj, "labels_invalid", json_integer((json_int_t)labels_invalid));
        json_object_set_new(root, "target", tj);
        weir_profile_destroy(target);
        target = NULL;
    }
    json_object_set_new(root, "warnings", warnings);
    warnings = NULL;
    if (!o->quiet) {
        print_table(prof, fields, n_fields, rows);
        json_t *t = json_object_get(root, "target");
        if (t) {
            printf("\ntarget %s: %" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
                   " rows labelled\n",
                   json_string_value(json_object_get(t, "field")),
                   json_integer_value(json_object_get(t, "labelled")),
                   json_integer_value(json_object_get(t, "rows")));
            size_t k;
            json_t *c;
            json_array_foreach(json_object_get(t, "classes"), k, c)
                printf("  %-20s %10" JSON_INTEGER_FORMAT " %7.3f%%\n",
                       json_string_value(json_object_get(c, "value")),
                       json_integer_value(json_object_get(c, "count")),
                       100 * json_number_value(json_object_get(c, "share")));
        }
    }
    if (o->out && json_dump_file(root, o->out, JSON_INDENT(1) | JSON_SORT_KEYS) != 0) {
        fprintf(stderr, "weir profile: %s: cannot write the report\n", o->out);
        goto out;
    }
    if (o->html && weir_report_html_file(root, o->html, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir profile: %s\n", err);
        goto out;
    }
    code = 0;
out:
    json_decref(root);
    json_decref(warnings);
    weir_profile_destroy(prof);
    weir_decoder_destroy(dec);
    weir_source_close(src);
    weir_model_destroy(model);
    if (schema)
        avro_schema_decref(schema);
    for (size_t i = 0; fields && i < n_fields; i++)
        free(fields[i].name);
    free(fields);
    free(kinds);
    free(values);
    map_free(&labels);
    weir_config_dispose(&cfg);
    return code;
}

int weir_profile_main(int argc, char **argv)
{
    profile_options_t o;
    char err[1024];
    int code;
    if (profile_parse(argc, argv, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir profile: %s\n", err);
        weir_source_bound_dispose(&o.from);
        weir_source_bound_dispose(&o.to);
        return 2;
    }
    if (o.help) {
        usage(stdout);
        code = 0;
    } else {
        code = profile_run(&o);
    }
    weir_source_bound_dispose(&o.from);
    weir_source_bound_dispose(&o.to);
    return code;
}
