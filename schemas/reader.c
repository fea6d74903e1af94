/*
 * reader.c — schemas in, values out: parsing .avsc text, the reader (a
 * compiled plan plus one reused avro value) and the decoder that puts
 * Confluent or raw framing and the schema-id table in front of readers.
 *
 * A reader owns everything it needs for the life of a consumer: the schema
 * reference, its plan, avro-c's generic value class, one value of it and one
 * memory reader that is re-pointed at each datum. avro_value_read() resets
 * the destination value itself in avro-c 1.11.1 (value-read.c calls
 * avro_value_reset() before reading), so a read never sees the previous
 * record's array items or map entries. avro-c still allocates the strings
 * and bytes it reads; that is the price of its value API.
 *
 * The decoder's table maps a schema id to a reader. The static
 * `input.schema`/`input.schema.id` configuration registers one entry; a
 * registry client will register more as ids appear.
 *
 * Every schema text weir parses goes through weir_schema_from_json(), which
 * refuses a named type defined twice before avro-c sees it: avro-c 1.11.1
 * refuses it too, but leaks the schema it was building (its
 * save_named_schemas() fails and nothing releases what was made). Names are
 * qualified the way avro-c qualifies them, so that no schema avro-c would
 * take is refused.
 */
#include "schemas_int.h"

#include <errno.h>
#include <stdint.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SCHEMA_FILE (4u << 20)
#define MAX_JSON_DEPTH 4096
#define MAX_DECODER_SCHEMAS 4096
#define CONFLUENT_HEADER 5

struct weir_reader {
    avro_schema_t schema;
    weir_plan_t plan;
    weir_capture_t capture; /* the decoder's planned fields, if any */
    avro_value_iface_t *iface;
    avro_value_t value;
    int has_value;
    avro_reader_t source;
};

typedef struct {
    int32_t id;
    weir_reader_t *reader;
} registered_t;

struct weir_decoder {
    weir_framing_t framing;
    registered_t *schemas;
    size_t n_schemas;
    size_t cap;
    weir_writers_t *writers; /* borrowed: ids read through a resolution */
    weir_buf_t resolved;     /* the batch's resolved bodies */
};

/* Resolved bodies a batch holds at most (past it: too_large dead letters). */
#define MAX_RESOLVED ((size_t)256 << 20)

/* ------------------------------------------------------------------ */
/* Schemas                                                             */

typedef struct {
    char **names; /* full names of the named types defined, malloc'd */
    size_t n;
    size_t cap;
    int failed; /* out of memory */
} defined_t;

/* Records a definition under avro-c's full name: a dotted name is full as
 * written; otherwise the namespace (if any) and the name, joined by a dot. */
static void define(defined_t *d, const char *name, const char *space)
{
    int qualify = space && !strchr(name, '.');
    size_t len = strlen(name) + (qualify ? strlen(space) + 1 : 0);
    char *full = NULL;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        char **grown = realloc(d->names, cap * sizeof(*grown));
        if (!grown) {
            d->failed = 1;
            return;
        }
        d->names = grown;
        d->cap = cap;
    }
    full = malloc(len + 1);
    if (!full) {
        d->failed = 1;
        return;
    }
    if (qualify)
        snprintf(full, len + 1, "%s.%s", space, name);
    else
        memcpy(full, name, len + 1);
    d->names[d->n++] = full;
}

/* The namespace a named type's definition gives it and its fields, in a
 * malloc'd copy (NULL for none): the part of a dotted name before the last
 * dot, else a non-empty "namespace", else the enclosing one. */
static char *own_namespace(defined_t *d, const char *name, json_t *json, const char *parent)
{
    const char *dot = strrchr(name, '.');
    const char *space = json_string_value(json_object_get(json, "namespace"));
    char *copy = NULL;
    if (dot)
        copy = strndup(name, (size_t)(dot - name));
    else if (space)
        copy = space[0] ? strdup(space) : NULL;
    else
        copy = parent ? strdup(parent) : NULL;
    if (!copy && (dot || (space && space[0]) || (!space && parent)))
        d->failed = 1;
    return copy;
}

/* Collects the full names of the types @p json defines, as avro-c walks it. */
static void collect_definitions(defined_t *d, json_t *json, const char *parent, unsigned depth)
{
    if (depth > MAX_JSON_DEPTH || d->failed)
        return;
    if (json_is_array(json)) {
        for (size_t i = 0; i < json_array_size(json); i++)
            collect_definitions(d, json_array_get(json, i), parent, depth + 1);
        return;
    }
    const char *type = json_string_value(json_object_get(json, "type"));
    const char *name = json_string_value(json_object_get(json, "name"));
    if (!type)
        return;
    if (!strcmp(type, "array")) {
        collect_definitions(d, json_object_get(json, "items"), parent, depth + 1);
    } else if (!strcmp(type, "map")) {
        collect_definitions(d, json_object_get(json, "values"), parent, depth + 1);
    } else if (name &&
               (!strcmp(type, "record") || !strcmp(type, "enum") || !strcmp(type, "fixed"))) {
        char *space = own_namespace(d, name, json, parent);
        json_t *fields = json_object_get(json, "fields");
        if (!d->failed)
            define(d, name, space);
        if (!strcmp(type, "record") && json_is_array(fields)) {
            for (size_t i = 0; i < json_array_size(fields); i++)
                collect_definitions(d, json_object_get(json_array_get(fields, i), "type"), space,
                                    depth + 1);
        }
        free(space);
    }
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int weir_schema_from_json(const char *json, size_t len, avro_schema_t *out, char *err, size_t errsz)
{
    defined_t d = {0};
    json_error_t error;
    int rc = 0;
    *out = NULL;
    /* Parsed as avro-c parses it; what jansson refuses, avro-c reports. */
    json_t *root = json_loadb(json, len, JSON_DECODE_ANY, &error);
    if (root) {
        collect_definitions(&d, root, NULL, 0);
        json_decref(root);
    }
    if (d.failed) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory reading a schema");
        goto out;
    }
    if (d.n > 1)
        qsort(d.names, d.n, sizeof(*d.names), compare_names);
    for (size_t i = 1; i < d.n; i++) {
        if (!strcmp(d.names[i - 1], d.names[i])) {
            rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "the type %.200s is defined twice",
                             d.names[i]);
            goto out;
        }
    }
    if (avro_schema_from_json_length(json, len, out) != 0) {
        *out = NULL;
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "%s", avro_strerror());
    }
out:
    for (size_t i = 0; i < d.n; i++)
        free(d.names[i]);
    free(d.names);
    return rc;
}

int weir_schema_parse(const char *json, avro_schema_t *out, char *err, size_t errsz)
{
    char why[256];
    int rc = 0;
    *out = NULL;
    if (!json) {
        rc = weir_seterr(err, errsz, WEIR_EINVAL, "no schema text");
        goto out;
    }
    rc = weir_schema_from_json(json, strlen(json), out, why, sizeof(why));
    if (rc)
        weir_seterr(err, errsz, rc, "cannot parse schema: %s", why);
out:
    return rc;
}

int weir_schema_load_file(const char *path, avro_schema_t *out, char *err, size_t errsz)
{
    int rc = 0;
    char *text = NULL;
    size_t len = 0;
    FILE *f = fopen(path, "rb");
    *out = NULL;
    if (!f) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    text = malloc(MAX_SCHEMA_FILE + 1);
    if (!text) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    len = fread(text, 1, MAX_SCHEMA_FILE + 1, f);
    if (ferror(f)) {
        rc = weir_seterr(err, errsz, WEIR_EIO, "%s: read failed", path);
        goto out;
    }
    if (len > MAX_SCHEMA_FILE) {
        rc = weir_seterr(err, errsz, WEIR_ELIMIT, "%s: schema larger than %u bytes", path,
                         MAX_SCHEMA_FILE);
        goto out;
    }
    text[len] = '\0';
    char why[256];
    rc = weir_schema_from_json(text, len, out, why, sizeof(why));
    if (rc)
        weir_seterr(err, errsz, rc, "%s: cannot parse schema: %s", path, why);
out:
    free(text);
    if (f)
        fclose(f);
    return rc;
}

int weir_schema_json(avro_schema_t schema, char **json, size_t *len, char *err, size_t errsz)
{
    int rc = 0;
    char *text = NULL;
    avro_writer_t writer = NULL;
    size_t cap = 4096;
    *json = NULL;
    /* avro-c writes JSON only into a fixed buffer: retry with a larger one. */
    for (;;) {
        char *grown = realloc(text, cap);
        if (!grown) {
            rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory writing schema JSON");
            goto out;
        }
        text = grown;
        writer = avro_writer_memory(text, (int64_t)cap - 1);
        if (!writer) {
            rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory writing schema JSON");
            goto out;
        }
        if (avro_schema_to_json(schema, writer) == 0)
            break;
        avro_writer_free(writer);
        writer = NULL;
        if (cap >= MAX_SCHEMA_FILE) {
            rc = weir_seterr(err, errsz, WEIR_ELIMIT, "schema JSON longer than %u bytes",
                             MAX_SCHEMA_FILE);
            goto out;
        }
        cap *= 2;
    }
    size_t n = (size_t)avro_writer_tell(writer);
    text[n] = '\0';
    *json = text;
    text = NULL;
    if (len)
        *len = n;
out:
    if (writer)
        avro_writer_free(writer);
    free(text);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Readers                                                             */

int weir_reader_new(avro_schema_t schema, weir_reader_t **out, char *err, size_t errsz)
{
    int rc = 0;
    weir_reader_t *r = NULL;
    *out = NULL;
    if (!is_avro_schema(schema)) {
        rc = weir_seterr(err, errsz, WEIR_EINVAL, "no schema");
        goto out;
    }
    r = calloc(1, sizeof(*r));
    if (!r) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
        goto out;
    }
    r->schema = avro_schema_incref(schema);
    rc = weir_plan_compile(schema, &r->plan, err, errsz);
    if (rc)
        goto out;
    r->iface = avro_generic_class_from_schema(schema);
    if (!r->iface) {
        rc = weir_seterr(err, errsz, WEIR_ESCHEMA, "avro-c cannot read this schema: %s",
                         avro_strerror());
        goto out;
    }
    if (avro_generic_value_new(r->iface, &r->value) != 0) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "cannot create a value: %s", avro_strerror());
        goto out;
    }
    r->has_value = 1;
    r->source = avro_reader_memory("", 0);
    if (!r->source) {
        rc = weir_seterr(err, errsz, WEIR_ENOMEM, "cannot create a memory reader");
        goto out;
    }
    *out = r;
    r = NULL;
out:
    weir_reader_destroy(r);
    return rc;
}

void weir_reader_destroy(weir_reader_t *r)
{
    if (!r)
        return;
    if (r->source)
        avro_reader_free(r->source);
    if (r->has_value)
        avro_value_decref(&r->value);
    if (r->iface)
        avro_value_iface_decref(r->iface);
    weir_plan_dispose(&r->plan);
    weir_capture_dispose(&r->capture);
    if (r->schema)
        avro_schema_decref(r->schema);
    free(r);
}

avro_schema_t weir_reader_schema(const weir_reader_t *r)
{
    return r->schema;
}

const weir_plan_t *weir_reader_plan(const weir_reader_t *r)
{
    return &r->plan;
}

int weir_reader_check(weir_reader_t *r, const uint8_t *buf, size_t len, int exact, size_t *consumed,
                      weir_reason_t *reason, char *detail, size_t detailsz)
{
    return weir_plan_check(&r->plan, buf, len, exact, 0, consumed, reason, detail, detailsz);
}

int weir_reader_read_at(weir_reader_t *r, const uint8_t *buf, size_t len, int exact, size_t base,
                        avro_value_t **value, size_t *consumed, weir_reason_t *reason, char *detail,
                        size_t detailsz)
{
    size_t used = 0;
    int rc = weir_plan_check(&r->plan, buf, len, exact, base, &used, reason, detail, detailsz);
    if (rc)
        goto out;
    avro_reader_memory_set_source(r->source, (const char *)buf, (int64_t)used);
    if (avro_value_read(r->source, &r->value) != 0) {
        if (reason)
            *reason = WEIR_REASON_DECODE;
        rc = weir_seterr(detail, detailsz, WEIR_EDECODE,
                         "at byte %zu: avro-c refused the datum: %s", base, avro_strerror());
        goto out;
    }
    if (value)
        *value = &r->value;
    if (consumed)
        *consumed = used;
out:
    return rc;
}

int weir_reader_read(weir_reader_t *r, const uint8_t *buf, size_t len, int exact,
                     avro_value_t **value, size_t *consumed, weir_reason_t *reason, char *detail,
                     size_t detailsz)
{
    return weir_reader_read_at(r, buf, len, exact, 0, value, consumed, reason, detail, detailsz);
}

/* ------------------------------------------------------------------ */
/* Decoder                                                             */

int weir_decoder_new(weir_framing_t framing, weir_decoder_t **out)
{
    int rc = 0;
    weir_decoder_t *d = NULL;
    *out = NULL;
    if (framing != WEIR_FRAMING_CONFLUENT && framing != WEIR_FRAMING_RAW) {
        rc = WEIR_EINVAL;
        goto out;
    }
    d = calloc(1, sizeof(*d));
    if (!d) {
        rc = WEIR_ENOMEM;
        goto out;
    }
    d->framing = framing;
    weir_buf_init(&d->resolved, MAX_RESOLVED);
    *out = d;
out:
    return rc;
}

void weir_decoder_destroy(weir_decoder_t *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n_schemas; i++)
        weir_reader_destroy(d->schemas[i].reader);
    free(d->schemas);
    weir_buf_dispose(&d->resolved);
    free(d);
}

static weir_reader_t *find_reader(const weir_decoder_t *d, int32_t id)
{
    weir_reader_t *found = NULL;
    for (size_t i = 0; i < d->n_schemas && !found; i++)
        if (d->schemas[i].id == id)
            found = d->schemas[i].reader;
    return found;
}

int weir_decoder_add_schema(weir_decoder_t *d, int32_t id, avro_schema_t schema, char *err,
                            size_t errsz)
{
    int rc = 0;
    weir_reader_t *reader = NULL;
    if (d->framing == WEIR_FRAMING_RAW) {
        if (d->n_schemas > 0) {
            rc = weir_seterr(err, errsz, WEIR_EINVAL, "raw framing takes a single schema");
            goto out;
        }
        id = -1;
    } else if (find_reader(d, id)) {
        rc =
            weir_seterr(err, errsz, WEIR_EINVAL, "schema id %" PRId32 " is already registered", id);
        goto out;
    }
    if (d->n_schemas == d->cap) {
        if (d->cap >= MAX_DECODER_SCHEMAS) {
            rc = weir_seterr(err, errsz, WEIR_ELIMIT, "more than %d schema ids",
                             MAX_DECODER_SCHEMAS);
            goto out;
        }
        size_t cap = d->cap ? d->cap * 2 : 4;
        registered_t *grown = realloc(d->schemas, cap * sizeof(*grown));
        if (!grown) {
            rc = weir_seterr(err, errsz, WEIR_ENOMEM, "out of memory");
            goto out;
        }
        d->schemas = grown;
        d->cap = cap;
    }
    rc = weir_reader_new(schema, &reader, err, errsz);
    if (rc)
        goto out;
    d->schemas[d->n_schemas].id = id;
    d->schemas[d->n_schemas].reader = reader;
    d->n_schemas++;
out:
    return rc;
}

/* The framing and schema lookup in front of both ways of decoding: finds the
 * reader of a value and where its body is. */
static int frame(weir_decoder_t *d, const uint8_t *bytes, size_t len, weir_reader_t **found,
                 int32_t *schema_id, size_t *base, size_t *resolved_at, weir_reason_t *why,
                 char *detail, size_t detailsz)
{
    int32_t id = -1;
    weir_reader_t *reader = NULL;
    int rc = 0;
    *base = 0;
    if (!bytes || len == 0) {
        *why = WEIR_REASON_EMPTY_VALUE;
        rc = weir_seterr(detail, detailsz, WEIR_EDECODE, "empty value");
        goto out;
    }
    if (d->framing == WEIR_FRAMING_CONFLUENT) {
        if (len < CONFLUENT_HEADER) {
            *why = WEIR_REASON_BAD_FRAMING;
            rc = weir_seterr(detail, detailsz, WEIR_EDECODE,
                             "value of %zu bytes is shorter than the 5-byte Confluent header", len);
            goto out;
        }
        if (bytes[0] != 0) {
            *why = WEIR_REASON_BAD_FRAMING;
            rc = weir_seterr(detail, detailsz, WEIR_EDECODE,
                             "at byte 0: magic byte 0x%02x, expected 0x00", bytes[0]);
            goto out;
        }
        id = (int32_t)(((uint32_t)bytes[1] << 24) | ((uint32_t)bytes[2] << 16) |
                       ((uint32_t)bytes[3] << 8) | (uint32_t)bytes[4]);
        *base = CONFLUENT_HEADER;
        reader = find_reader(d, id);
        if (!reader && d->writers && d->n_schemas && weir_writers_known(d->writers, id)) {
            size_t at = d->resolved.len;
            rc = weir__writers_resolve(d->writers, id, bytes + CONFLUENT_HEADER,
                                       len - CONFLUENT_HEADER, CONFLUENT_HEADER, &d->resolved, why,
                                       detail, detailsz);
            if (rc)
                goto out;
            *resolved_at = at;
            reader = d->schemas[0].reader;
        }
    } else {
        reader = d->n_schemas ? d->schemas[0].reader : NULL;
    }
    if (!reader) {
        *why = WEIR_REASON_UNKNOWN_SCHEMA;
        rc = d->framing == WEIR_FRAMING_CONFLUENT
                 ? weir_seterr(detail, detailsz, WEIR_EDECODE,
                               "schema id %" PRId32 " is not registered", id)
                 : weir_seterr(detail, detailsz, WEIR_EDECODE, "no schema registered");
        goto out;
    }
    *found = reader;
    *schema_id = id;
out:
    return rc;
}

int weir_decoder_decode(weir_decoder_t *d, const void *buf, size_t len, weir_decoded_t *out,
                        weir_reason_t *reason, char *detail, size_t detailsz)
{
    const uint8_t *bytes = buf;
    size_t base = 0;
    int32_t id = -1;
    weir_reader_t *reader = NULL;
    weir_reason_t why = WEIR_REASON_NONE;
    if (detail && detailsz)
        detail[0] = '\0';
    size_t at = SIZE_MAX;
    int rc = frame(d, bytes, len, &reader, &id, &base, &at, &why, detail, detailsz);
    if (rc)
        goto out;
    if (at != SIZE_MAX) {
        bytes = d->resolved.data + at;
        len = d->resolved.len - at;
        base = 0;
    }
    avro_value_t *value = NULL;
    rc = weir_reader_read_at(reader, bytes + base, len - base, 1, base, &value, NULL, &why, detail,
                             detailsz);
    if (rc)
        goto out;
    out->value = value;
    out->schema = reader->schema;
    out->schema_id = id;
    out->body = bytes + base;
    out->body_len = len - base;
    out->resolved = at != SIZE_MAX;
    out->body_at = at;
out:
    if (reason)
        *reason = why;
    return rc;
}

int weir_decoder_plan_fields(weir_decoder_t *d, avro_schema_t schema, const weir_field_t *fields,
                             size_t n, char *err, size_t errsz)
{
    int rc = 0;
    for (size_t i = 0; i < d->n_schemas && rc == 0; i++)
        if (!avro_schema_equal(d->schemas[i].reader->schema, schema))
            rc = weir_seterr(err, errsz, WEIR_EINVAL,
                             "schema id %" PRId32 " is not the schema the fields belong to",
                             d->schemas[i].id);
    for (size_t i = 0; i < d->n_schemas && rc == 0; i++) {
        weir_reader_t *r = d->schemas[i].reader;
        weir_capture_t compiled;
        rc = weir_capture_compile(r->schema, fields, n, &compiled, err, errsz);
        if (rc == 0) {
            weir_capture_dispose(&r->capture);
            r->capture = compiled;
        }
    }
    return rc;
}

int weir_decoder_read_fields(weir_decoder_t *d, const void *buf, size_t len, weir_decoded_t *out,
                             weir_field_value_t *values, weir_reason_t *reason, char *detail,
                             size_t detailsz)
{
    const uint8_t *bytes = buf;
    size_t base = 0;
    int32_t id = -1;
    weir_reader_t *reader = NULL;
    weir_reason_t why = WEIR_REASON_NONE;
    if (detail && detailsz)
        detail[0] = '\0';
    size_t at = SIZE_MAX;
    int rc = frame(d, bytes, len, &reader, &id, &base, &at, &why, detail, detailsz);
    if (rc)
        goto out;
    if (at != SIZE_MAX) {
        bytes = d->resolved.data + at;
        len = d->resolved.len - at;
        base = 0;
    }
    if (!reader->capture.n_nodes) {
        why = WEIR_REASON_DECODE;
        rc = weir_seterr(detail, detailsz, WEIR_EDECODE,
                         "schema id %" PRId32 " has no decoding plan", id);
        goto out;
    }
    rc = weir_plan_read(&reader->plan, &reader->capture, values, bytes + base, len - base, 1, base,
                        NULL, &why, detail, detailsz);
    if (rc)
        goto out;
    out->value = NULL;
    out->schema = reader->schema;
    out->schema_id = id;
    out->body = bytes + base;
    out->body_len = len - base;
    out->resolved = at != SIZE_MAX;
    out->body_at = at;
out:
    if (reason)
        *reason = why;
    return rc;
}

void weir_decoder_use_writers(weir_decoder_t *d, weir_writers_t *writers)
{
    d->writers = writers;
}

void weir_decoder_batch_reset(weir_decoder_t *d)
{
    weir_buf_reset(&d->resolved);
}

const uint8_t *weir_decoder_resolved(const weir_decoder_t *d)
{
    return d->resolved.data;
}
