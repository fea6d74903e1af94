/*
 * fuzz_plan.c — the decoding plan against the path it replaces: every input
 * is decoded both through weir_decoder_decode() + weir_field_get() (the
 * bounded check, an avro-c value, field lookups) and through
 * weir_decoder_read_fields() (the same walk reading the fields as it goes),
 * and the two must agree exactly: the same refusal, reason and detail text,
 * the same body, and for a decoded event the same value of every field (kind,
 * number bit for bit, string bytes, and for an int or long field the exact
 * integer avro-c holds).
 *
 * Input: as fuzz_decode — the schema's JSON text (at most 16 KiB), a NUL
 * byte, a mode byte (bit 0: Confluent framing with the schema as id 1, else
 * raw), then the Kafka message value. The fields planned are every dotted
 * path of the schema that weir_field_resolve() takes (each twice, the second
 * time in reverse order, so that a leaf filling two requested fields is
 * covered). The corpus starts as fuzz_decode's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schemas.h"

#define MAX_SCHEMA_TEXT (16u << 10)
#define MAX_FIELDS 128
#define MAX_PATH 512
#define SCHEMA_ID 1

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
    char *text;
    size_t text_len;
    int usable;
    avro_schema_t schema;
    weir_decoder_t *raw;
    weir_decoder_t *confluent;
    weir_field_t fields[2 * MAX_FIELDS];
    size_t n_fields;
    weir_field_value_t values[2 * MAX_FIELDS];
} st;

static void forget_schema(void)
{
    weir_decoder_destroy(st.raw);
    weir_decoder_destroy(st.confluent);
    if (st.schema)
        avro_schema_decref(st.schema);
    free(st.text);
    memset(&st, 0, sizeof(st));
}

static void collect_fields(avro_schema_t record, char *path, size_t len, size_t depth)
{
    size_t n = avro_schema_record_size(record);
    for (size_t i = 0; i < n && st.n_fields < MAX_FIELDS; i++) {
        const char *name = avro_schema_record_field_name(record, (int)i);
        avro_schema_t type = avro_schema_record_field_get_by_index(record, (int)i);
        size_t name_len = name ? strlen(name) : 0;
        if (!name || len + name_len + 2 > MAX_PATH)
            continue;
        if (len)
            path[len] = '.';
        memcpy(path + len + (len ? 1 : 0), name, name_len + 1);
        size_t end = len + (len ? 1 : 0) + name_len;
        if (is_avro_link(type))
            type = avro_schema_link_target(type);
        if (is_avro_record(type) && depth + 1 < WEIR_FIELD_MAX_DEPTH) {
            collect_fields(type, path, end, depth + 1);
        } else {
            char err[256] = "";
            if (weir_field_resolve(st.schema, path, &st.fields[st.n_fields], err, sizeof(err)) == 0)
                st.n_fields++;
        }
        path[len] = '\0';
    }
}

static int load_schema(const char *text, size_t len)
{
    char err[512] = "";
    if (st.usable && st.text_len == len && !memcmp(st.text, text, len))
        return 1;
    forget_schema();
    st.text = malloc(len + 1);
    if (!st.text)
        abort();
    memcpy(st.text, text, len);
    st.text[len] = '\0';
    st.text_len = len;
    if (weir_schema_parse(st.text, &st.schema, err, sizeof(err)) != 0)
        return 0;
    if (weir_decoder_new(WEIR_FRAMING_RAW, &st.raw) != 0 ||
        weir_decoder_new(WEIR_FRAMING_CONFLUENT, &st.confluent) != 0)
        abort();
    if (weir_decoder_add_schema(st.raw, 0, st.schema, err, sizeof(err)) != 0)
        return 0;
    if (weir_decoder_add_schema(st.confluent, SCHEMA_ID, st.schema, err, sizeof(err)) != 0)
        abort();
    if (!is_avro_record(st.schema))
        return 0; /* fields, and so plans, are of records only */
    char path[MAX_PATH] = "";
    collect_fields(st.schema, path, 0, 0);
    size_t n = st.n_fields;
    for (size_t i = 0; i < n; i++)
        st.fields[n + i] = st.fields[n - 1 - i];
    st.n_fields = 2 * n;
    if (weir_decoder_plan_fields(st.raw, st.schema, st.fields, st.n_fields, err, sizeof(err)) !=
            0 ||
        weir_decoder_plan_fields(st.confluent, st.schema, st.fields, st.n_fields, err,
                                 sizeof(err)) != 0) {
        fprintf(stderr, "fuzz_plan: a resolved field list does not plan: %s\n", err);
        abort();
    }
    st.usable = 1;
    return 1;
}

/* The exact integer avro-c holds for an int or long field; 0 if null. */
static int64_t avro_integer(const weir_field_t *f, avro_value_t *record)
{
    avro_value_t current = *record, next;
    int64_t out = 0;
    for (size_t i = 0; i < f->depth; i++) {
        if (avro_value_get_by_index(&current, f->index[i], &next, NULL) != 0)
            abort();
        current = next;
    }
    if (f->nullable) {
        if (avro_value_get_current_branch(&current, &next) != 0)
            abort();
        current = next;
    }
    if (avro_value_get_type(&current) == AVRO_INT64) {
        if (avro_value_get_long(&current, &out) != 0)
            abort();
    } else if (avro_value_get_type(&current) == AVRO_INT32) {
        int32_t v = 0;
        if (avro_value_get_int(&current, &v) != 0)
            abort();
        out = v;
    }
    return out;
}

static void differ(size_t field, const char *what)
{
    fprintf(stderr, "fuzz_plan: field %zu: the plan reads a different %s\n", field, what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    const uint8_t *nul = memchr(data, 0, size < MAX_SCHEMA_TEXT + 1 ? size : MAX_SCHEMA_TEXT + 1);
    if (!nul || (size_t)(nul - data) + 1 >= size)
        return 0;
    size_t text_len = (size_t)(nul - data);
    uint8_t mode = nul[1];
    const uint8_t *value = nul + 2;
    size_t value_len = size - text_len - 2;
    if (!initialised) {
        atexit(forget_schema);
        initialised = 1;
    }
    if (!load_schema((const char *)data, text_len))
        return 0;
    weir_decoder_t *d = (mode & 1) ? st.confluent : st.raw;
    weir_decoded_t generic, planned;
    weir_reason_t generic_reason = WEIR_REASON__COUNT, planned_reason = WEIR_REASON__COUNT;
    char generic_detail[512] = "", planned_detail[512] = "";
    int grc = weir_decoder_decode(d, value, value_len, &generic, &generic_reason, generic_detail,
                                  sizeof(generic_detail));
    int prc = weir_decoder_read_fields(d, value, value_len, &planned, st.values, &planned_reason,
                                       planned_detail, sizeof(planned_detail));
    if (grc != prc || generic_reason != planned_reason ||
        strcmp(generic_detail, planned_detail) != 0) {
        fprintf(stderr, "fuzz_plan: decode %d %d \"%s\", plan %d %d \"%s\"\n", grc,
                (int)generic_reason, generic_detail, prc, (int)planned_reason, planned_detail);
        abort();
    }
    if (grc != 0)
        return 0;
    if (planned.value != NULL || planned.body != generic.body ||
        planned.body_len != generic.body_len || planned.schema_id != generic.schema_id)
        abort();
    for (size_t i = 0; i < st.n_fields; i++) {
        weir_value_t v;
        const weir_value_t *p = &st.values[i].value;
        if (weir_field_get(&st.fields[i], generic.value, &v) != 0)
            abort();
        if (v.kind != p->kind)
            differ(i, "kind");
        if (v.kind == WEIR_VALUE_NUMBER && memcmp(&v.number, &p->number, sizeof(double)) != 0)
            differ(i, "number");
        if (v.kind == WEIR_VALUE_STRING &&
            (v.length != p->length || memcmp(v.string, p->string, v.length) != 0))
            differ(i, "string");
        if (v.kind == WEIR_VALUE_NUMBER &&
            (st.fields[i].leaf == AVRO_INT32 || st.fields[i].leaf == AVRO_INT64) &&
            avro_integer(&st.fields[i], generic.value) != st.values[i].integer)
            differ(i, "integer");
    }
    return 0;
}
