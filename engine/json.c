/*
 * json.c — one event given as a JSON object (fields by name, as a person or a
 * web service writes it) turned into the Avro binary body of the input
 * schema, so that it goes through the very decoder, transforms and model that
 * score the stream.
 *
 * The JSON is checked against the schema as it is encoded: every field of the
 * record must be there (a nullable one may be absent or null), no field the
 * schema lacks may be, and each value must have its field's type; the first
 * problem is reported with the field's path (`card.country`, `items[2]`).
 * Unions take the first branch the value fits, or the branch named by
 * Avro's own JSON form (`{"string": "x"}`).
 */
#include "engine.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define PATH_MAX_LEN 256

typedef struct {
    weir_buf_t *out;
    char path[PATH_MAX_LEN];
    char *err;
    size_t errsz;
} encoder_t;

static const char *json_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static const char *where(const encoder_t *e)
{
    return e->path[0] ? e->path : "(the event)";
}

static int wrong_type(encoder_t *e, const char *expected, const json_t *v)
{
    return weir_seterr(e->err, e->errsz, WEIR_ETYPE, "field %s: expected %s, got %s", where(e),
                       expected, json_kind(v));
}

static avro_schema_t resolve_link(avro_schema_t s)
{
    while (is_avro_link(s))
        s = avro_schema_link_target(s);
    return s;
}

static int encode_value(encoder_t *e, avro_schema_t schema, const json_t *v);

/* Appends ".name" or "[i]" to the path; returns the old length to restore. */
static size_t push_path(encoder_t *e, const char *name, long index)
{
    size_t at = strlen(e->path);
    if (name)
        snprintf(e->path + at, sizeof(e->path) - at, "%s%s", at ? "." : "", name);
    else
        snprintf(e->path + at, sizeof(e->path) - at, "[%ld]", index);
    return at;
}

static int nullable(avro_schema_t s)
{
    s = resolve_link(s);
    if (is_avro_null(s))
        return 1;
    if (!is_avro_union(s))
        return 0;
    for (size_t i = 0; i < avro_schema_union_size(s); i++)
        if (is_avro_null(avro_schema_union_branch(s, (int)i)))
            return 1;
    return 0;
}

static int encode_record(encoder_t *e, avro_schema_t schema, const json_t *v)
{
    if (!json_is_object(v))
        return wrong_type(e, "an object", v);
    size_t n = avro_schema_record_size(schema);
    const char *key;
    json_t *item;
    json_object_foreach((json_t *)v, key, item)
    {
        if (avro_schema_record_field_get_index(schema, key) < 0) {
            size_t at = push_path(e, key, 0);
            int rc = weir_seterr(e->err, e->errsz, WEIR_ETYPE, "field %s: not in the input schema",
                                 where(e));
            e->path[at] = '\0';
            return rc;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *name = avro_schema_record_field_name(schema, (int)i);
        avro_schema_t type = avro_schema_record_field_get_by_index(schema, (int)i);
        const json_t *field = json_object_get(v, name);
        size_t at = push_path(e, name, 0);
        int rc;
        if (!field && !nullable(type))
            rc = weir_seterr(e->err, e->errsz, WEIR_EMISSING, "field %s: missing", where(e));
        else
            rc = encode_value(e, type, field ? field : json_null());
        if (rc)
            return rc;
        e->path[at] = '\0';
    }
    return 0;
}

/* The branch a value takes: the one Avro's JSON form names, else the first it fits. */
static int encode_union(encoder_t *e, avro_schema_t schema, const json_t *v)
{
    size_t n = avro_schema_union_size(schema);
    if (json_is_object(v) && json_object_size(v) == 1) {
        const char *key = json_object_iter_key(json_object_iter((json_t *)v));
        for (size_t i = 0; i < n; i++) {
            avro_schema_t b = resolve_link(avro_schema_union_branch(schema, (int)i));
            const char *name =
                is_avro_named_type(b) ? avro_schema_name(b) : avro_schema_type_name(b);
            const char *full = is_avro_named_type(b) ? avro_schema_type_name(b) : name;
            if (name && (!strcmp(key, name) || (full && !strcmp(key, full)))) {
                int rc = weir_avro_write_long(e->out, (int64_t)i);
                return rc ? rc : encode_value(e, b, json_object_get(v, key));
            }
        }
    }
    size_t mark = e->out->len;
    int first_rc = 0;
    char first_err[256] = "";
    for (size_t i = 0; i < n; i++) {
        avro_schema_t b = avro_schema_union_branch(schema, (int)i);
        if (is_avro_null(resolve_link(b)) != json_is_null(v))
            continue;
        int rc = weir_avro_write_long(e->out, (int64_t)i);
        if (rc == 0)
            rc = encode_value(e, b, v);
        if (rc == 0)
            return 0;
        if (rc == WEIR_ELIMIT || rc == WEIR_ENOMEM)
            return rc;
        if (!first_rc) {
            first_rc = rc;
            snprintf(first_err, sizeof(first_err), "%s", e->err ? e->err : "");
        }
        e->out->len = mark;
    }
    if (first_rc) {
        if (e->err && e->errsz)
            snprintf(e->err, e->errsz, "%s", first_err);
        return first_rc;
    }
    return wrong_type(e, "a value of one of the union's types", v);
}

static int encode_value(encoder_t *e, avro_schema_t schema, const json_t *v)
{
    schema = resolve_link(schema);
    weir_buf_t *b = e->out;
    switch (avro_typeof(schema)) {
    case AVRO_NULL:
        return json_is_null(v) ? 0 : wrong_type(e, "null", v);
    case AVRO_BOOLEAN:
        return json_is_boolean(v) ? weir_avro_write_boolean(b, json_is_true(v))
                                  : wrong_type(e, "a boolean", v);
    case AVRO_INT32:
        if (!json_is_integer(v))
            return wrong_type(e, "an integer", v);
        if (json_integer_value(v) < INT32_MIN || json_integer_value(v) > INT32_MAX)
            return weir_seterr(e->err, e->errsz, WEIR_ETYPE, "field %s: %lld is outside an int",
                               where(e), (long long)json_integer_value(v));
        return weir_avro_write_long(b, json_integer_value(v));
    case AVRO_INT64:
        return json_is_integer(v) ? weir_avro_write_long(b, json_integer_value(v))
                                  : wrong_type(e, "an integer", v);
    case AVRO_FLOAT:
        return json_is_number(v) ? weir_avro_write_float(b, (float)json_number_value(v))
                                 : wrong_type(e, "a number", v);
    case AVRO_DOUBLE:
        return json_is_number(v) ? weir_avro_write_double(b, json_number_value(v))
                                 : wrong_type(e, "a number", v);
    case AVRO_STRING:
    case AVRO_BYTES:
        return json_is_string(v)
                   ? weir_avro_write_string(b, json_string_value(v), json_string_length(v))
                   : wrong_type(e, "a string", v);
    case AVRO_ENUM: {
        if (!json_is_string(v))
            return wrong_type(e, "a string (an enum symbol)", v);
        int index = avro_schema_enum_get_by_name(schema, json_string_value(v));
        if (index < 0)
            return weir_seterr(e->err, e->errsz, WEIR_ETYPE,
                               "field %s: \"%.64s\" is not a symbol of %s", where(e),
                               json_string_value(v), avro_schema_name(schema));
        return weir_avro_write_long(b, index);
    }
    case AVRO_FIXED: {
        int64_t size = avro_schema_fixed_size(schema);
        if (!json_is_string(v) || (int64_t)json_string_length(v) != size)
            return weir_seterr(e->err, e->errsz, WEIR_ETYPE,
                               "field %s: expected a string of %lld bytes", where(e),
                               (long long)size);
        return weir_buf_append(b, json_string_value(v), (size_t)size);
    }
    case AVRO_ARRAY: {
        if (!json_is_array(v))
            return wrong_type(e, "an array", v);
        size_t n = json_array_size(v);
        int rc = n ? weir_avro_write_long(b, (int64_t)n) : 0;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            size_t at = push_path(e, NULL, (long)i);
            rc = encode_value(e, avro_schema_array_items(schema), json_array_get(v, i));
            if (rc == 0)
                e->path[at] = '\0';
        }
        return rc ? rc : weir_avro_write_long(b, 0);
    }
    case AVRO_MAP: {
        if (!json_is_object(v))
            return wrong_type(e, "an object (a map)", v);
        size_t n = json_object_size(v);
        int rc = n ? weir_avro_write_long(b, (int64_t)n) : 0;
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item)
        {
            if (rc)
                break;
            size_t at = push_path(e, key, 0);
            rc = weir_avro_write_string(b, key, strlen(key));
            if (rc == 0)
                rc = encode_value(e, avro_schema_map_values(schema), item);
            if (rc == 0)
                e->path[at] = '\0';
        }
        return rc ? rc : weir_avro_write_long(b, 0);
    }
    case AVRO_RECORD:
        return encode_record(e, schema, v);
    case AVRO_UNION:
        return encode_union(e, schema, v);
    default:
        return weir_seterr(e->err, e->errsz, WEIR_ESCHEMA,
                           "field %s: a type JSON input cannot fill", where(e));
    }
}

int weir_json_to_avro(avro_schema_t schema, const char *text, size_t len, weir_buf_t *out,
                      char *err, size_t errsz)
{
    json_error_t jerr;
    size_t mark = out->len;
    int rc = 0;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rc = weir_seterr(err, errsz, WEIR_EDECODE, "malformed JSON at line %d, column %d: %s",
                         jerr.line, jerr.column, jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        rc = weir_seterr(err, errsz, WEIR_ETYPE, "the event must be a JSON object, got %s",
                         json_kind(root));
        goto out;
    }
    encoder_t e = {.out = out, .err = err, .errsz = errsz};
    rc = encode_value(&e, schema, root);
    if (rc == WEIR_ELIMIT || rc == WEIR_ENOMEM)
        weir_seterr(err, errsz, rc, "the event does not fit: %s", weir_strerror(rc));
out:
    if (rc)
        out->len = mark;
    json_decref(root);
    return rc;
}
