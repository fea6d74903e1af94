/*
 * encode.c — writing Avro without avro-c values: the binary primitives,
 * Confluent framing, the ScoredEvent schema built around an input schema, and
 * the ScoredEvent and Label bodies written field by field.
 *
 * A record's encoding is the concatenation of its fields' encodings, so a
 * ScoredEvent ends with the input event's Avro body copied verbatim: the
 * event is never decoded into a value and encoded again. The encoders follow
 * the field order of schemas/scored_event.avsc and schemas/label.avsc;
 * weir_scored_schema() refuses a template whose fields no longer match what
 * weir_scored_encode() writes, so the two cannot drift apart silently.
 *
 * Every encoder appends to a capped weir_buf_t and, on failure, leaves the
 * buffer as it found it.
 */
#include "schemas_int.h"

#include <string.h>

/* ------------------------------------------------------------------ */
/* Primitives                                                          */

int weir_avro_write_long(weir_buf_t *b, int64_t v)
{
    uint8_t bytes[WEIR_VARINT_MAX];
    size_t n = weir_varint_encode(v, bytes);
    return weir_buf_append(b, bytes, n);
}

int weir_avro_write_double(weir_buf_t *b, double v)
{
    uint64_t bits = 0;
    uint8_t bytes[8];
    memcpy(&bits, &v, sizeof(bits));
    for (int i = 0; i < 8; i++)
        bytes[i] = (uint8_t)(bits >> (8 * i));
    return weir_buf_append(b, bytes, sizeof(bytes));
}

int weir_avro_write_float(weir_buf_t *b, float v)
{
    uint32_t bits = 0;
    uint8_t bytes[4];
    memcpy(&bits, &v, sizeof(bits));
    for (int i = 0; i < 4; i++)
        bytes[i] = (uint8_t)(bits >> (8 * i));
    return weir_buf_append(b, bytes, sizeof(bytes));
}

int weir_avro_write_boolean(weir_buf_t *b, int v)
{
    uint8_t byte = v ? 1 : 0;
    return weir_buf_append(b, &byte, 1);
}

int weir_avro_write_string(weir_buf_t *b, const char *s, size_t n)
{
    size_t mark = b->len;
    int rc = 0;
    if ((!s && n > 0) || n > (size_t)INT64_MAX) {
        rc = WEIR_EINVAL;
        goto out;
    }
    rc = weir_buf_reserve(b, WEIR_VARINT_MAX + n);
    if (rc == 0)
        rc = weir_avro_write_long(b, (int64_t)n);
    if (rc == 0)
        rc = weir_buf_append(b, s, n);
out:
    if (rc)
        b->len = mark;
    return rc;
}

int weir_framing_write(weir_buf_t *b, weir_framing_t framing, int32_t id)
{
    int rc = 0;
    if (framing == WEIR_FRAMING_CONFLUENT) {
        uint32_t u = (uint32_t)id;
        uint8_t header[5] = {0, (uint8_t)(u >> 24), (uint8_t)(u >> 16), (uint8_t)(u >> 8),
                             (uint8_t)u};
        rc = weir_buf_append(b, header, sizeof(header));
    } else if (framing != WEIR_FRAMING_RAW) {
        rc = WEIR_EINVAL;
    }
    return rc;
}

/* ------------------------------------------------------------------ */
/* ScoredEvent                                                         */

/* What weir_scored_encode() writes, in order; "event" is the input record. */
static const struct {
    const char *name;
    const char *type; /* avro_schema_type_name(), or "array<double>", "[null,string]" */
} scored_fields[] = {
    {"event_id", "string"},           {"event_time", "long"}, {"model_name", "string"},
    {"model_version", "string"},      {"score", "double"},    {"scores", "array<double>"},
    {"label", "[null,string]"},       {"scored_at", "long"},  {"event", "null"},
    {"shadow", "[null,ShadowScore]"},
};
/* The last field is written only by a pipeline that has a shadow model. */
#define SCORED_OPTIONAL_FIELDS 1

static int field_matches(avro_schema_t type, const char *expected)
{
    int ok = 0;
    if (!strcmp(expected, "array<double>")) {
        ok = is_avro_array(type) && is_avro_double(avro_schema_array_items(type));
    } else if (!strcmp(expected, "[null,ShadowScore]")) {
        ok = is_avro_union(type) && avro_schema_union_size(type) == 2 &&
             is_avro_null(avro_schema_union_branch(type, 0)) &&
             is_avro_record(avro_schema_union_branch(type, 1)) &&
             avro_schema_record_size(avro_schema_union_branch(type, 1)) == 5;
    } else if (!strcmp(expected, "[null,string]")) {
        ok = is_avro_union(type) && avro_schema_union_size(type) == 2 &&
             is_avro_null(avro_schema_union_branch(type, 0)) &&
             is_avro_string(avro_schema_union_branch(type, 1));
    } else {
        ok = !strcmp(avro_schema_type_name(type), expected);
    }
    return ok;
}

static int same_full_name(avro_schema_t a, avro_schema_t b)
{
    const char *na = avro_schema_namespace(a);
    const char *nb = avro_schema_namespace(b);
    return !strcmp(avro_schema_name(a), avro_schema_name(b)) && !strcmp(na ? na : "", nb ? nb : "");
}

int weir_scored_schema(avro_schema_t input, avro_schema_t *out, char *err, size_t errsz)
{
    return weir_scored_schema_with(input, 0, out, err, errsz);
}

int weir_scored_schema_with(avro_schema_t input, int with_shadow, avro_schema_t *out, char *err,
                            size_t errsz)
{
    const size_t n_fields = sizeof(scored_fields) / sizeof(scored_fields[0]);
    const size_t n_written = with_shadow ? n_fields : n_fields - SCORED_OPTIONAL_FIELDS;
    avro_schema_t scored_template = NULL;
    avro_schema_t scored = NULL;
    avro_schema_t parsed = NULL;
    char *json = NULL;
    size_t json_len = 0;
    int rc = 0;
    *out = NULL;
    if (!is_avro_record(input)) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "the input schema is not a record");
        goto out;
    }
    rc = weir_schema_parse(weir_schema_text("scored_event"), &scored_template, err, errsz);
    if (rc)
        goto out;
    if (avro_schema_record_size(scored_template) != n_fields) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                         "scored_event.avsc has %zu fields, the encoder writes %zu",
                         avro_schema_record_size(scored_template), n_fields);
        goto out;
    }
    if (same_full_name(input, scored_template)) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "the input record may not be named %s.%s",
                         avro_schema_namespace(scored_template), avro_schema_name(scored_template));
        goto out;
    }
    scored = avro_schema_record(avro_schema_name(scored_template),
                                avro_schema_namespace(scored_template));
    if (!scored) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "cannot create the ScoredEvent record: %s",
                         avro_strerror());
        goto out;
    }
    for (size_t i = 0; i < n_written; i++) {
        const char *name = avro_schema_record_field_name(scored_template, (int)i);
        avro_schema_t type = avro_schema_record_field_get_by_index(scored_template, (int)i);
        if (strcmp(name, scored_fields[i].name) || !field_matches(type, scored_fields[i].type)) {
            rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                             "scored_event.avsc field %zu is \"%s\" of type %s; the encoder "
                             "writes \"%s\" of type %s",
                             i, name, avro_schema_type_name(type), scored_fields[i].name,
                             scored_fields[i].type);
            goto out;
        }
        if (!strcmp(name, "event"))
            type = input;
        if (avro_schema_record_field_append(scored, name, type) != 0) {
            rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "cannot add field %s: %s", name,
                             avro_strerror());
            goto out;
        }
    }
    /* What is registered and written into files is the JSON: it must read back
     * as the same schema (avro-c drops docs, defaults and logical types). */
    rc = weir_schema_json(scored, &json, &json_len, err, errsz);
    if (rc)
        goto out;
    char why[256];
    if (weir_schema_from_json(json, json_len, &parsed, why, sizeof(why)) != 0) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                         "the ScoredEvent schema does not parse back from its JSON: %s", why);
        goto out;
    }
    if (!avro_schema_equal(scored, parsed)) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA,
                         "the ScoredEvent schema reads back from its JSON as another schema");
        goto out;
    }
    *out = scored;
    scored = NULL;
out:
    free(json);
    if (parsed)
        avro_schema_decref(parsed);
    if (scored)
        avro_schema_decref(scored);
    if (scored_template)
        avro_schema_decref(scored_template);
    return rc;
}

int weir_scored_encode(weir_buf_t *b, const weir_scored_event_t *e)
{
    size_t mark = b->len;
    int rc = 0;
    if (!e || (!e->event_id && e->event_id_len) || !e->model_name || !e->model_version ||
        (!e->scores && e->n_scores) || (!e->event_body && e->event_body_len) ||
        e->n_scores > (size_t)INT64_MAX) {
        rc = WEIR_EINVAL;
        goto out;
    }
    rc = weir_avro_write_string(b, e->event_id, e->event_id_len);
    if (rc == 0)
        rc = weir_avro_write_long(b, e->event_time_ms);
    if (rc == 0)
        rc = weir_avro_write_string(b, e->model_name, strlen(e->model_name));
    if (rc == 0)
        rc = weir_avro_write_string(b, e->model_version, strlen(e->model_version));
    if (rc == 0)
        rc = weir_avro_write_double(b, e->score);
    /* scores: one block of all items, then the zero count that ends the array. */
    if (rc == 0 && e->n_scores > 0) {
        rc = weir_avro_write_long(b, (int64_t)e->n_scores);
        for (size_t i = 0; rc == 0 && i < e->n_scores; i++)
            rc = weir_avro_write_double(b, (double)e->scores[i]);
    }
    if (rc == 0)
        rc = weir_avro_write_long(b, 0);
    /* label: ["null", "string"] */
    if (rc == 0)
        rc = weir_avro_write_long(b, e->label ? 1 : 0);
    if (rc == 0 && e->label)
        rc = weir_avro_write_string(b, e->label, strlen(e->label));
    if (rc == 0)
        rc = weir_avro_write_long(b, e->scored_at_ms);
    if (rc == 0)
        rc = weir_buf_append(b, e->event_body, e->event_body_len);
    /* shadow: ["null", ShadowScore], after the event (fields are read by name) */
    if (rc == 0 && e->with_shadow) {
        const weir_shadow_score_t *s = e->shadow;
        if (s && (!s->model_name || !s->model_version || (!s->scores && s->n_scores))) {
            rc = WEIR_EINVAL;
            goto out;
        }
        rc = weir_avro_write_long(b, s ? 1 : 0);
        if (rc == 0 && s) {
            rc = weir_avro_write_string(b, s->model_name, strlen(s->model_name));
            if (rc == 0)
                rc = weir_avro_write_string(b, s->model_version, strlen(s->model_version));
            if (rc == 0)
                rc = weir_avro_write_double(b, s->score);
            if (rc == 0 && s->n_scores > 0) {
                rc = weir_avro_write_long(b, (int64_t)s->n_scores);
                for (size_t i = 0; rc == 0 && i < s->n_scores; i++)
                    rc = weir_avro_write_double(b, (double)s->scores[i]);
            }
            if (rc == 0)
                rc = weir_avro_write_long(b, 0);
            if (rc == 0)
                rc = weir_avro_write_long(b, s->label ? 1 : 0);
            if (rc == 0 && s->label)
                rc = weir_avro_write_string(b, s->label, strlen(s->label));
        }
    }
out:
    if (rc)
        b->len = mark;
    return rc;
}

int weir_label_encode(weir_buf_t *b, const weir_label_t *l)
{
    size_t mark = b->len;
    int rc = 0;
    if (!l || (!l->event_id && l->event_id_len) || (l->is_string && !l->string && l->string_len)) {
        rc = WEIR_EINVAL;
        goto out;
    }
    rc = weir_avro_write_string(b, l->event_id, l->event_id_len);
    /* label: ["double", "string"] */
    if (rc == 0)
        rc = weir_avro_write_long(b, l->is_string ? 1 : 0);
    if (rc == 0)
        rc = l->is_string ? weir_avro_write_string(b, l->string, l->string_len)
                          : weir_avro_write_double(b, l->value);
    if (rc == 0)
        rc = weir_avro_write_long(b, l->label_time_ms);
out:
    if (rc)
        b->len = mark;
    return rc;
}

static int put_cstring(weir_buf_t *b, const char *s)
{
    return weir_avro_write_string(b, s ? s : "", s ? strlen(s) : 0);
}

/* ["null", "double"]: NULL or NaN is null. */
static int put_optional_double(weir_buf_t *b, const double *v)
{
    if (!v || *v != *v)
        return weir_avro_write_long(b, 0);
    return weir_avro_write_long(b, 1) | weir_avro_write_double(b, *v);
}

/* ["null", "boolean"] */
static int put_optional_boolean(weir_buf_t *b, const int *v)
{
    if (!v)
        return weir_avro_write_long(b, 0);
    return weir_avro_write_long(b, 1) | weir_avro_write_boolean(b, *v);
}

int weir_drift_alert_encode(weir_buf_t *b, const weir_drift_alert_t *a)
{
    size_t mark = b->len;
    int rc = 0;
    if (!a || a->kind < 0 || a->kind > 3 || a->severity < 0 || a->severity > 2 || !a->test) {
        rc = WEIR_EINVAL;
        goto out;
    }
    /* field order of drift_alert.avsc */
    rc |= weir_avro_write_long(b, a->kind);
    rc |= put_cstring(b, a->model_name);
    rc |= put_cstring(b, a->model_version);
    if (a->feature) { /* feature: ["null", "string"] */
        rc |= weir_avro_write_long(b, 1);
        rc |= put_cstring(b, a->feature);
    } else {
        rc |= weir_avro_write_long(b, 0);
    }
    rc |= put_cstring(b, a->test);
    rc |= weir_avro_write_double(b, a->statistic);
    if (a->p_value == a->p_value) { /* p_value: ["null", "double"]; NaN is null */
        rc |= weir_avro_write_long(b, 1);
        rc |= weir_avro_write_double(b, a->p_value);
    } else {
        rc |= weir_avro_write_long(b, 0);
    }
    rc |= weir_avro_write_double(b, a->threshold);
    rc |= weir_avro_write_long(b, a->window_start_ms);
    rc |= weir_avro_write_long(b, a->window_end_ms);
    rc |= weir_avro_write_long(b, a->window_count);
    rc |= weir_avro_write_long(b, a->reference_size);
    rc |= weir_avro_write_long(b, a->severity);
    rc |= put_cstring(b, a->instance);
    rc |= weir_avro_write_long(b, a->detected_at_ms);
    rc |= put_optional_double(b, a->effect);
    rc |= put_optional_boolean(b, a->feature_drifted);
    rc |= put_optional_boolean(b, a->dataset_drifted);
    rc |= put_optional_double(b, a->drifted_share);
    if (a->n_drifted_features > 0) { /* one block, then the end of the array */
        rc |= weir_avro_write_long(b, (int64_t)a->n_drifted_features);
        for (size_t i = 0; i < a->n_drifted_features; i++)
            rc |= put_cstring(b, a->drifted_features[i]);
    }
    rc |= weir_avro_write_long(b, 0);
    if (rc)
        rc = WEIR_ELIMIT;
out:
    if (rc)
        b->len = mark;
    return rc;
}
