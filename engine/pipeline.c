/*
 * pipeline.c — decode → transform → score → encode for one micro-batch.
 *
 * Owns the decoder, the resolved source fields of the current model, the
 * feature matrix, the model outputs, the per-batch arena (event ids, copied
 * category strings) and the output buffer; all grow to the batch size once
 * and are reused.
 *
 * Binding a model compiles the decoder's plan for the fields it reads (the
 * event id, the event time, each feature's source field): an event's bytes
 * are then read into those values in the same pass that bounds them
 * (weir_decoder_read_fields()), with no avro-c value and no field lookup.
 * Where no plan can be compiled, events go through the bounded check, an
 * avro-c value and weir_field_get(), with the same results.
 */
#include "engine.h"

#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUTPUT_MAX ((size_t)512 << 20)
/* bytes of a string value kept for drift: one more than any category */
#define KEPT_STRING_MAX (WEIR_BUNDLE_MAX_LABEL + 1)

struct weir_pipeline {
    weir_pipeline_config_t cfg;
    char *id_field, *time_field;
    avro_schema_t input_schema;
    avro_schema_t output_schema;
    weir_decoder_t *decoder;
    /* bound to one model */
    const weir_model_t *bound;
    size_t features, columns, outputs;
    weir_field_t *fields;
    weir_field_t id, time;
    int has_time;
    /* per batch */
    double *matrix;
    float *model_out;
    double *workspace;
    size_t workspace_len;
    weir_value_t *values; /* batch_max × features, strings copied into the arena */
    weir_value_t *scratch_values;
    /* the decoding plan's output: id, time, then one per feature; NULL when
     * the model's fields could not be planned (the avro-c path is used) */
    weir_field_value_t *planned;
    weir_arena_t arena;
    weir_buf_t output;
    float *class_scores;
    /* per item: its body was resolved from another writer schema and lies in
     * the decoder's buffer of resolved bodies, not in the item's value */
    unsigned char *resolved;
};

static int resolve(avro_schema_t schema, const char *name, const char *what, weir_field_t *f,
                   char *err, size_t errsz)
{
    char why[256];
    if (weir_field_resolve(schema, name, f, why, sizeof(why)) != 0)
        return weir_seterr(err, errsz, WEIR_ESCHEMA, "%s: %s", what, why);
    return 0;
}

int weir_pipeline_new(const weir_pipeline_config_t *cfg, weir_pipeline_t **out, char *err,
                      size_t errsz)
{
    int rc = 0;
    weir_pipeline_t *p = calloc(1, sizeof(*p));
    if (!p)
        return weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
    p->cfg = *cfg;
    p->id_field = strdup(cfg->id_field ? cfg->id_field : "event_id");
    p->time_field = strdup(cfg->time_field ? cfg->time_field : "");
    p->input_schema = avro_schema_incref(cfg->input_schema);
    weir_arena_init(&p->arena, 64 * 1024, (size_t)256 << 20);
    weir_buf_init(&p->output, OUTPUT_MAX);
    if (!p->id_field || !p->time_field) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = resolve(p->input_schema, p->id_field, "input.id.field", &p->id, err, errsz)) != 0)
        goto out;
    if (p->id.leaf != AVRO_STRING && p->id.leaf != AVRO_INT64 && p->id.leaf != AVRO_INT32) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                         "input.id.field: field \"%s\" must be a string, int or long", p->id_field);
        goto out;
    }
    if (*p->time_field) {
        if ((rc = resolve(p->input_schema, p->time_field, "input.time.field", &p->time, err,
                          errsz)) != 0)
            goto out;
        if (p->time.leaf != AVRO_INT64 && p->time.leaf != AVRO_INT32) {
            rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                             "input.time.field: field \"%s\" must be a long (ms since epoch)",
                             p->time_field);
            goto out;
        }
        p->has_time = 1;
    }
    if (!(p->resolved = calloc(cfg->batch_max ? cfg->batch_max : 1, 1))) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = weir_decoder_new(cfg->input_framing, &p->decoder)) != 0 ||
        (rc = weir_decoder_add_schema(p->decoder, cfg->input_schema_id, p->input_schema, err,
                                      errsz)) != 0)
        goto out;
    if ((rc = weir_scored_schema_with(p->input_schema, cfg->with_shadow, &p->output_schema, err,
                                      errsz)) != 0)
        goto out;

out:
    if (rc) {
        weir_pipeline_destroy(p);
        p = NULL;
    }
    *out = p;
    return rc;
}

void weir_pipeline_destroy(weir_pipeline_t *p)
{
    if (!p)
        return;
    weir_decoder_destroy(p->decoder);
    free(p->resolved);
    if (p->output_schema)
        avro_schema_decref(p->output_schema);
    if (p->input_schema)
        avro_schema_decref(p->input_schema);
    free(p->id_field);
    free(p->time_field);
    free(p->fields);
    free(p->matrix);
    free(p->model_out);
    free(p->workspace);
    free(p->values);
    free(p->scratch_values);
    free(p->planned);
    free(p->class_scores);
    weir_arena_dispose(&p->arena);
    weir_buf_dispose(&p->output);
    free(p);
}

int weir_pipeline_bind(weir_pipeline_t *p, const weir_model_t *model, char *err, size_t errsz)
{
    if (p->bound == model)
        return 0;
    int rc = 0;
    size_t nf = weir_model_feature_count(model);
    size_t cols = weir_model_columns(model);
    size_t outs = weir_model_outputs(model);
    size_t n = p->cfg.batch_max;
    weir_field_t *fields = calloc(nf ? nf : 1, sizeof(*fields));
    double *matrix = calloc(n * cols, sizeof(double));
    float *model_out = calloc(n * outs, sizeof(float));
    size_t ws = weir_model_workspace_size(model, n);
    double *workspace = calloc(ws ? ws : 1, sizeof(double));
    weir_value_t *values = calloc(n * (nf ? nf : 1), sizeof(weir_value_t));
    weir_value_t *scratch = calloc(nf ? nf : 1, sizeof(weir_value_t));
    size_t classes = weir_model_class_count(model);
    float *class_scores = calloc(classes ? classes : 1, sizeof(float));
    weir_field_value_t *planned = calloc(nf + 2, sizeof(*planned));
    weir_field_t *wanted = calloc(nf + 2, sizeof(*wanted));
    if (!fields || !matrix || !model_out || !workspace || !values || !scratch || !class_scores ||
        !planned || !wanted) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "cannot allocate the batch matrices");
        goto out;
    }
    for (size_t i = 0; i < nf && rc == 0; i++) {
        const weir_feature_info_t *fi = weir_model_feature(model, i);
        char what[300];
        snprintf(what, sizeof(what), "model feature \"%s\"", fi->name);
        rc = resolve(p->input_schema, fi->source, what, &fields[i], err, errsz);
        /* A string for a numeric or boolean feature would make every event a
         * dead letter: the bundle does not fit the schema. (A number for a
         * categorical feature is fine: it is formatted as text.) */
        if (rc == 0 && fi->type != WEIR_FEATURE_CATEGORICAL &&
            (fields[i].leaf == AVRO_STRING || fields[i].leaf == AVRO_ENUM))
            rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                             "%s: field \"%s\" is a %s; a %s feature needs a number or a boolean",
                             what, fi->source, fields[i].leaf == AVRO_ENUM ? "enum" : "string",
                             fi->type == WEIR_FEATURE_NUMERIC ? "numeric" : "boolean");
    }
    if (rc == 0 && p->cfg.avro_values) {
        free(planned);
        planned = NULL;
    } else if (rc == 0) {
        /* the plan reads the id first, the time second (the id again when
         * there is none: it is ignored), then the features in order */
        wanted[0] = p->id;
        wanted[1] = p->has_time ? p->time : p->id;
        memcpy(wanted + 2, fields, nf * sizeof(*fields));
        char why[256];
        if (weir_decoder_plan_fields(p->decoder, p->input_schema, wanted, nf + 2, why,
                                     sizeof(why)) != 0) {
            free(planned); /* not a refusal: the avro-c path reads the same */
            planned = NULL;
        }
    }

out:
    free(wanted);
    if (rc) {
        free(planned);
        free(fields);
        free(matrix);
        free(model_out);
        free(workspace);
        free(values);
        free(scratch);
        free(class_scores);
        return rc;
    }
    free(p->fields);
    free(p->matrix);
    free(p->model_out);
    free(p->workspace);
    free(p->values);
    free(p->scratch_values);
    free(p->planned);
    free(p->class_scores);
    p->planned = planned;
    p->fields = fields;
    p->matrix = matrix;
    p->model_out = model_out;
    p->workspace = workspace;
    p->workspace_len = ws;
    p->values = values;
    p->scratch_values = scratch;
    p->class_scores = class_scores;
    p->features = nf;
    p->columns = cols;
    /* ids come from the input bytes, kept values are cut: what a batch
     * within WEIR_PIPELINE_BATCH_BYTES copies always fits (twice over, for
     * the ends of blocks) */
    p->arena.max = 2 * (WEIR_PIPELINE_BATCH_BYTES + WEIR_AVRO_MAX_DATUM +
                        n * (32 + nf * (KEPT_STRING_MAX + 1))) +
                   ((size_t)1 << 20);
    p->outputs = outs;
    p->bound = model;
    return 0;
}

static void dead(weir_pipeline_item_t *it, weir_reason_t reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void dead(weir_pipeline_item_t *it, weir_reason_t reason, const char *fmt, ...)
{
    it->scored = 0;
    it->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->detail, sizeof(it->detail), fmt, ap);
    va_end(ap);
}

static weir_reason_t transform_reason(int rc)
{
    switch (rc) {
    case WEIR_EMISSING:
        return WEIR_REASON_MISSING_VALUE;
    case WEIR_ECATEGORY:
        return WEIR_REASON_UNKNOWN_CATEGORY;
    default:
        return WEIR_REASON_INVALID_VALUE;
    }
}

/* Copies the raw feature values into the batch (strings into the arena), so
 * that drift can read them after the reused avro value moved on. */
static int keep_values(weir_pipeline_t *p, size_t row)
{
    weir_value_t *dst = p->values + row * p->features;
    for (size_t f = 0; f < p->features; f++) {
        dst[f] = p->scratch_values[f];
        if (dst[f].kind == WEIR_VALUE_STRING) {
            /* drift compares the value with the reference's categories, none
             * longer than WEIR_BUNDLE_MAX_LABEL: a longer prefix tells no more */
            size_t keep = dst[f].length > KEPT_STRING_MAX ? KEPT_STRING_MAX : dst[f].length;
            char *s = weir_arena_strndup(&p->arena, dst[f].string, keep);
            if (!s)
                return WEIR_ELIMIT;
            dst[f].string = s;
            dst[f].length = keep;
        }
    }
    return 0;
}

/* Reads an int or long event id exactly: weir_field_get() yields numbers as
 * doubles, which hold integers only up to 2^53, and ids (snowflake ids, say)
 * go beyond. Returns 0, or -1 when the id is null or unreadable. */
static int get_integer_id(const weir_field_t *f, avro_value_t *record, int64_t *out)
{
    avro_value_t current = *record, next;
    for (size_t i = 0; i < f->depth; i++) {
        if (avro_value_get_by_index(&current, f->index[i], &next, NULL) != 0)
            return -1;
        current = next;
    }
    if (f->nullable) {
        if (avro_value_get_current_branch(&current, &next) != 0)
            return -1;
        current = next;
    }
    if (avro_value_get_type(&current) == AVRO_INT64)
        return avro_value_get_long(&current, out) != 0 ? -1 : 0;
    if (avro_value_get_type(&current) == AVRO_INT32) {
        int32_t v = 0;
        if (avro_value_get_int(&current, &v) != 0)
            return -1;
        *out = v;
        return 0;
    }
    return -1;
}

/* The transform and the copy for drift of one event whose feature values are
 * in p->scratch_values, into row @p row. */
static int transform(weir_pipeline_t *p, const weir_model_t *model, weir_pipeline_item_t *it,
                     size_t row)
{
    size_t bad = 0;
    int rc = weir_transform_row(model, p->scratch_values, p->matrix + row * p->columns, &bad);
    if (rc != 0) {
        const weir_feature_info_t *fi = weir_model_feature(model, bad < p->features ? bad : 0);
        dead(it, transform_reason(rc), "feature %s (field %s): %s", fi->name, fi->source,
             weir_strerror(rc));
        return -1;
    }
    if (keep_values(p, row) != 0) {
        dead(it, WEIR_REASON_TOO_LARGE, "batch arena full");
        return -1;
    }
    return 0;
}

/* extract() for values read by the decoding plan: the same outcomes. */
static int extract_planned(weir_pipeline_t *p, const weir_model_t *model,
                           const weir_field_value_t *planned, weir_pipeline_item_t *it, size_t row)
{
    char idbuf[32];
    const char *id;
    size_t idlen;
    if (planned[0].value.kind == WEIR_VALUE_MISSING) {
        dead(it, WEIR_REASON_MISSING_VALUE, "event id field %s: missing", p->id_field);
        return -1;
    }
    if (p->id.leaf == AVRO_STRING) {
        id = planned[0].value.string;
        idlen = planned[0].value.length;
    } else {
        idlen = (size_t)snprintf(idbuf, sizeof(idbuf), "%" PRId64, planned[0].integer);
        id = idbuf;
    }
    it->event_id = weir_arena_strndup(&p->arena, id, idlen);
    if (!it->event_id) {
        dead(it, WEIR_REASON_TOO_LARGE, "batch arena full");
        return -1;
    }
    it->event_time_ms = it->fallback_time_ms;
    if (p->has_time && planned[1].value.kind == WEIR_VALUE_NUMBER)
        it->event_time_ms = (int64_t)planned[1].value.number;
    for (size_t f = 0; f < p->features; f++)
        p->scratch_values[f] = planned[2 + f].value;
    return transform(p, model, it, row);
}

/* Reads the id, time and features of one decoded event into row @p row. */
static int extract(weir_pipeline_t *p, const weir_model_t *model, avro_value_t *record,
                   weir_pipeline_item_t *it, size_t row)
{
    weir_value_t v;
    char idbuf[32];
    const char *id;
    size_t idlen;
    if (p->id.leaf == AVRO_STRING) {
        if (weir_field_get(&p->id, record, &v) != 0 || v.kind != WEIR_VALUE_STRING) {
            dead(it, WEIR_REASON_MISSING_VALUE, "event id field %s: missing", p->id_field);
            return -1;
        }
        id = v.string;
        idlen = v.length;
    } else {
        int64_t number;
        if (get_integer_id(&p->id, record, &number) != 0) {
            dead(it, WEIR_REASON_MISSING_VALUE, "event id field %s: missing", p->id_field);
            return -1;
        }
        idlen = (size_t)snprintf(idbuf, sizeof(idbuf), "%" PRId64, number);
        id = idbuf;
    }
    it->event_id = weir_arena_strndup(&p->arena, id, idlen);
    if (!it->event_id) {
        dead(it, WEIR_REASON_TOO_LARGE, "batch arena full");
        return -1;
    }
    it->event_time_ms = it->fallback_time_ms;
    if (p->has_time && weir_field_get(&p->time, record, &v) == 0 && v.kind == WEIR_VALUE_NUMBER)
        it->event_time_ms = (int64_t)v.number;

    for (size_t f = 0; f < p->features; f++) {
        if (weir_field_get(&p->fields[f], record, &p->scratch_values[f]) != 0) {
            dead(it, WEIR_REASON_INVALID_VALUE, "feature %s: unreadable field %s",
                 weir_model_feature(model, f)->name, weir_model_feature(model, f)->source);
            return -1;
        }
    }
    return transform(p, model, it, row);
}

static int encode(weir_pipeline_t *p, const weir_model_t *model, weir_pipeline_item_t *it,
                  const uint8_t *body, size_t body_len, int64_t now_ms)
{
    const float *out = p->model_out + it->row * p->outputs;
    weir_model_decide(model, out, &it->score, &it->class_index);
    size_t classes = weir_model_class_count(model);
    const float *scores = NULL;
    size_t n_scores = 0;
    if (weir_model_task(model) == WEIR_TASK_BINARY) {
        p->class_scores[0] = 1.0f - out[0];
        p->class_scores[1] = out[0];
        scores = p->class_scores;
        n_scores = 2;
    } else if (weir_model_task(model) == WEIR_TASK_MULTICLASS) {
        scores = out;
        n_scores = classes;
    }
    weir_scored_event_t ev = {
        .event_id = it->event_id,
        .event_id_len = strlen(it->event_id),
        .event_time_ms = it->event_time_ms,
        .model_name = weir_model_name(model),
        .model_version = weir_model_version(model),
        .score = it->score,
        .scores = scores,
        .n_scores = n_scores,
        .label = it->class_index >= 0 ? weir_model_class(model, (size_t)it->class_index) : NULL,
        .scored_at_ms = now_ms,
        .event_body = body,
        .event_body_len = body_len,
        .with_shadow = p->cfg.with_shadow,
        .shadow = it->shadow,
    };
    size_t start = p->output.len, body_at;
    int rc = weir_framing_write(&p->output, p->cfg.output_framing, p->cfg.output_schema_id);
    body_at = p->output.len;
    if (rc == 0)
        rc = weir_scored_encode(&p->output, &ev);
    if (rc != 0) {
        p->output.len = start;
        dead(it, WEIR_REASON_TOO_LARGE, "scored event does not fit the output buffer");
        return -1;
    }
    /* The scored event nests the input, so an input near the datum cap makes
     * an output past it, which no reader (weir's own included) would take. */
    if (p->output.len - body_at > WEIR_AVRO_MAX_DATUM) {
        size_t len = p->output.len - body_at;
        p->output.len = start;
        dead(it, WEIR_REASON_TOO_LARGE, "scored event of %zu bytes, more than the datum cap of %u",
             len, WEIR_AVRO_MAX_DATUM);
        return -1;
    }
    it->out_offset = start;
    it->out_len = p->output.len - start;
    return 0;
}

int weir_pipeline_run(weir_pipeline_t *p, const weir_model_t *model, weir_pipeline_item_t *items,
                      size_t n, int64_t now_ms, char *err, size_t errsz)
{
    if (n > p->cfg.batch_max)
        return weir_seterr(err, errsz, WEIR_EINVAL, "batch of %zu exceeds batch.max", n);
    int rc = weir_pipeline_bind(p, model, err, errsz);
    if (rc)
        return rc;
    weir_arena_reset(&p->arena);
    weir_buf_reset(&p->output);
    weir_decoder_batch_reset(p->decoder);

    /* Bodies stay inside the callers' buffers; remember where, per item. */
    size_t rows = 0;
    for (size_t i = 0; i < n; i++) {
        weir_pipeline_item_t *it = &items[i];
        it->scored = 0;
        it->reason = WEIR_REASON_NONE;
        it->detail[0] = '\0';
        it->event_id = NULL;
        it->out_len = 0;
        weir_decoded_t d;
        weir_reason_t reason = WEIR_REASON_NONE;
        int got = p->planned ? weir_decoder_read_fields(p->decoder, it->value, it->value_len, &d,
                                                        p->planned, &reason, it->detail,
                                                        sizeof(it->detail))
                             : weir_decoder_decode(p->decoder, it->value, it->value_len, &d,
                                                   &reason, it->detail, sizeof(it->detail));
        if (got != 0) {
            it->reason = reason;
            continue;
        }
        if (p->planned ? extract_planned(p, model, p->planned, it, rows) != 0
                       : extract(p, model, d.value, it, rows) != 0)
            continue;
        it->row = rows++;
        it->scored = 1;
        /* out_offset temporarily holds the body's offset inside the value,
         * or inside the resolved bodies */
        p->resolved[i] = (unsigned char)d.resolved;
        it->out_offset = d.resolved ? d.body_at : (size_t)(d.body - it->value);
        it->out_len = d.body_len;
    }

    if (rows > 0 &&
        (rc = weir_model_predict(model, p->matrix, rows, p->workspace, p->model_out)) != 0)
        return weir_seterr(err, errsz, rc, "model prediction failed: %s", weir_strerror(rc));

    for (size_t i = 0; i < n; i++) {
        weir_pipeline_item_t *it = &items[i];
        if (!it->scored)
            continue;
        const uint8_t *body =
            (p->resolved[i] ? weir_decoder_resolved(p->decoder) : it->value) + it->out_offset;
        encode(p, model, it, body, it->out_len, now_ms);
    }
    return 0;
}

void weir_pipeline_use_writers(weir_pipeline_t *p, weir_writers_t *writers)
{
    weir_decoder_use_writers(p->decoder, writers);
}

const uint8_t *weir_pipeline_output(const weir_pipeline_t *p)
{
    return p->output.data;
}

const double *weir_pipeline_matrix(const weir_pipeline_t *p)
{
    return p->matrix;
}

const weir_value_t *weir_pipeline_values(const weir_pipeline_t *p, size_t row)
{
    return p->values + row * p->features;
}

const float *weir_pipeline_outputs(const weir_pipeline_t *p)
{
    return p->model_out;
}

avro_schema_t weir_pipeline_output_schema(const weir_pipeline_t *p)
{
    return p->output_schema;
}
