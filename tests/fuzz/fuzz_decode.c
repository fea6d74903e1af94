/*
 * fuzz_decode.c — the event decoder, with the writer schema taken from the
 * input too, so that the fuzzer explores schemas (nesting, unions, arrays,
 * maps, enums, fixed, recursion) as well as the bytes of one datum.
 *
 * Input: the schema's JSON text (at most 16 KiB), a NUL byte, a mode byte,
 * then the Kafka message value. The schema goes through what `input.schema`
 * goes through in weir: weir_schema_parse() and the bounded plan compiler
 * (weir_decoder_add_schema()). Mode bit 0 picks the framing: set, the value is
 * Confluent-framed and the schema is registered as id 1; clear, it is the raw
 * Avro body. What decodes is then read the way weir reads it: every field a
 * dotted path reaches (weir_field_resolve() once, weir_field_get() per
 * value), every part of the avro-c value (avro_walk.h), and, for a record
 * schema, the ScoredEvent that nests it (weir_scored_schema(),
 * weir_scored_encode()) must read back through the bounded reader.
 *
 * Invariants, each an abort(): a refusal carries WEIR_EDECODE, a dead-letter
 * reason and a detail; a schema refusal carries a message; avro-c never
 * refuses a datum the checker passed (reason decode_error); a decoded value
 * has the shape of its schema; every resolved field reads; the scored event
 * of a decoded event is itself a valid datum.
 *
 * The schema of the previous input is kept while the next input starts with
 * the same text, as weir keeps one reader per schema for every message; the
 * fuzzer then mostly mutates datums against a schema it already holds. A
 * schema that fails to load is not kept, and an input that repeats the last
 * one exactly (libFuzzer runs an input twice when it suspects a leak) loads
 * its schema afresh, so that leaks on the way in are caught per input too.
 * What is kept is released at exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_walk.h"
#include "schemas.h"

#define MAX_SCHEMA_TEXT (16u << 10)
#define MAX_FIELDS 256
#define MAX_PATH 512
#define SCORED_MAX (WEIR_AVRO_MAX_DATUM + (1u << 16))
#define SCHEMA_ID 1

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
    char *text; /* the schema text the rest was built from */
    size_t text_len;
    int usable; /* it parsed and compiled */
    avro_schema_t schema;
    weir_decoder_t *raw;
    weir_decoder_t *confluent;
    weir_field_t fields[MAX_FIELDS];
    size_t n_fields;
    size_t attempts; /* field paths tried, resolved or not */
    weir_reader_t *scored;
    weir_buf_t out;
} st;

static void forget_schema(void)
{
    weir_decoder_destroy(st.raw);
    weir_decoder_destroy(st.confluent);
    weir_reader_destroy(st.scored);
    if (st.schema)
        avro_schema_decref(st.schema);
    free(st.text);
    weir_buf_dispose(&st.out);
    memset(&st, 0, sizeof(st));
}

static void require_message(int rc, const char *err, const char *what)
{
    if (rc >= 0 || !err[0]) {
        fprintf(stderr, "fuzz_decode: %s failed with %d and no message\n", what, rc);
        abort();
    }
}

/* Tries every dotted path of a record, depth first, up to the field caps. */
static void collect_fields(avro_schema_t record, char *path, size_t len, size_t depth)
{
    size_t n = avro_schema_record_size(record);
    for (size_t i = 0; i < n && st.attempts < MAX_FIELDS; i++) {
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
            st.attempts++;
            int rc = weir_field_resolve(st.schema, path, &st.fields[st.n_fields], err, sizeof(err));
            if (rc == 0)
                st.n_fields++;
            else
                require_message(rc, err, "weir_field_resolve");
        }
        path[len] = '\0';
    }
}

/* Parses and compiles @p text as weir does an input.schema (again when
 * @p fresh); 1 if usable. */
static int load_schema(const char *text, size_t len, int fresh)
{
    char err[512] = "";
    int rc;
    if (st.usable && !fresh && st.text_len == len && !memcmp(st.text, text, len))
        return 1;
    forget_schema();
    weir_buf_init(&st.out, SCORED_MAX);
    st.text = malloc(len + 1);
    if (!st.text)
        abort();
    memcpy(st.text, text, len);
    st.text[len] = '\0';
    st.text_len = len;
    if ((rc = weir_schema_parse(st.text, &st.schema, err, sizeof(err))) != 0) {
        require_message(rc, err, "weir_schema_parse");
        return 0;
    }
    if (weir_decoder_new(WEIR_FRAMING_RAW, &st.raw) != 0 ||
        weir_decoder_new(WEIR_FRAMING_CONFLUENT, &st.confluent) != 0)
        abort();
    if ((rc = weir_decoder_add_schema(st.raw, 0, st.schema, err, sizeof(err))) != 0) {
        require_message(rc, err, "weir_decoder_add_schema");
        return 0;
    }
    /* The same schema compiles the same way under any framing. */
    if (weir_decoder_add_schema(st.confluent, SCHEMA_ID, st.schema, err, sizeof(err)) != 0)
        abort();
    if (is_avro_record(st.schema)) {
        char path[MAX_PATH] = "";
        avro_schema_t scored = NULL;
        collect_fields(st.schema, path, 0, 0);
        rc = weir_scored_schema(st.schema, &scored, err, sizeof(err));
        if (rc == 0) {
            rc = weir_reader_new(scored, &st.scored, err, sizeof(err));
            avro_schema_decref(scored);
            if (rc != 0) {
                fprintf(stderr, "fuzz_decode: the scored schema does not compile: %s\n", err);
                abort();
            }
        } else {
            require_message(rc, err, "weir_scored_schema");
        }
    }
    st.usable = 1;
    return 1;
}

/* Whether this input is the previous one again; remembers it. */
static int repeated(const uint8_t *data, size_t size)
{
    static uint8_t *last;
    static size_t last_size;
    int same = last && last_size == size && !memcmp(last, data, size);
    if (!same) {
        uint8_t *copy = realloc(last, size ? size : 1);
        if (!copy)
            abort();
        memcpy(copy, data, size);
        last = copy;
        last_size = size;
    }
    return same;
}

/* The ScoredEvent nesting a decoded event must be a datum of its schema. */
static void check_scored(const uint8_t *body, size_t len)
{
    static const float scores[2] = {0.25f, 0.75f};
    weir_scored_event_t e = {
        .event_id = "fuzz",
        .event_id_len = 4,
        .event_time_ms = 1,
        .model_name = "m",
        .model_version = "1",
        .score = 0.75,
        .scores = scores,
        .n_scores = 2,
        .label = "yes",
        .scored_at_ms = 2,
        .event_body = body,
        .event_body_len = len,
    };
    weir_reason_t reason;
    char detail[512] = "";
    avro_value_t *value = NULL;
    weir_buf_reset(&st.out);
    if (weir_scored_encode(&st.out, &e) != 0)
        return; /* past the buffer cap: refused, not written */
    if (weir_reader_read(st.scored, st.out.data, st.out.len, 1, &value, NULL, &reason, detail,
                         sizeof(detail)) != 0) {
        fprintf(stderr, "fuzz_decode: the scored event does not read back: %s\n", detail);
        abort();
    }
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
    if (!load_schema((const char *)data, text_len, repeated(data, size)))
        return 0;

    weir_decoder_t *d = (mode & 1) ? st.confluent : st.raw;
    weir_decoded_t out;
    weir_reason_t reason = WEIR_REASON__COUNT;
    char detail[512] = "";
    int rc = weir_decoder_decode(d, value, value_len, &out, &reason, detail, sizeof(detail));
    if (rc != 0) {
        if (rc != WEIR_EDECODE || reason <= WEIR_REASON_NONE || reason >= WEIR_REASON__COUNT ||
            !detail[0]) {
            fprintf(stderr, "fuzz_decode: refusal %d, reason %d, detail \"%s\"\n", rc, (int)reason,
                    detail);
            abort();
        }
        if (reason == WEIR_REASON_DECODE) {
            fprintf(stderr, "fuzz_decode: avro-c refused what the checker passed: %s\n", detail);
            abort();
        }
        return 0;
    }
    size_t header = (mode & 1) ? 5 : 0;
    if (reason != WEIR_REASON_NONE || out.body != value + header ||
        out.body_len + header != value_len || out.schema != st.schema ||
        out.schema_id != ((mode & 1) ? SCHEMA_ID : -1))
        abort();
    avro_walk(out.value, 0);
    for (size_t i = 0; i < st.n_fields; i++) {
        weir_value_t v;
        if (weir_field_get(&st.fields[i], out.value, &v) != 0)
            abort();
        if (v.kind == WEIR_VALUE_STRING)
            avro_walk_bytes(v.string, v.length);
    }
    if (st.scored)
        check_scored(out.body, out.body_len);
    return 0;
}
