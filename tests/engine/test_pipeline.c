/*
 * test_pipeline.c — one micro-batch through decode → transform → score →
 * encode on the example bundle (examples/model.json) and transaction.avsc:
 * scored items decode as ScoredEvents carrying the input's id, time and bytes
 * and the score weir_model_predict() gives for the same row; every kind of bad
 * item becomes a dead letter with its reason, independently of its
 * neighbours; the batch cap, field binding and a model swap behave.
 *
 * Expected rows are computed here from the test's own transaction structs
 * (not read back from the pipeline), through weir_transform_row() and
 * weir_model_predict() on one row at a time.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../schemas/tx_example.h"
#include "engine.h"
#include "schemas.h"
#include "scoring.h"
#include "support.h"

#define NOW_MS INT64_C(1767312000000)
#define MODEL_PATH WEIR_SOURCE_DIR "/examples/model.json"

static char err[1024];

/* ---- bundles ------------------------------------------------------- */

static weir_model_t *load_example(void)
{
    weir_model_t *m = NULL;
    cr_assert_eq(weir_model_load(MODEL_PATH, &m, err, sizeof(err)), 0, "%s", err);
    return m;
}

static json_t *example_json(void)
{
    json_error_t error;
    json_t *b = json_load_file(MODEL_PATH, 0, &error);
    cr_assert_not_null(b, "%s", error.text);
    return b;
}

static json_t *feature_json(json_t *bundle, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(bundle, "features"), i, f)
    {
        if (!strcmp(json_string_value(json_object_get(f, "name")), name))
            return f;
    }
    cr_assert_fail("no feature %s in the example bundle", name);
    return NULL;
}

static weir_model_t *parse_bundle(json_t *bundle)
{
    char *text = json_dumps(bundle, JSON_COMPACT);
    cr_assert_not_null(text);
    weir_model_t *m = NULL;
    int rc = weir_model_parse(text, strlen(text), "<test bundle>", &m, err, sizeof(err));
    cr_assert_eq(rc, 0, "%s", err);
    free(text);
    json_decref(bundle);
    return m;
}

/* The example with customer_age mandatory: "missing": "error", no impute step. */
static weir_model_t *strict_age_model(void)
{
    json_t *b = example_json();
    json_t *f = feature_json(b, "customer_age");
    json_object_set_new(f, "missing", json_string("error"));
    json_array_remove(json_object_get(f, "transform"), 0);
    return parse_bundle(b);
}

/* The example with currency's one-hot refusing unknown currencies: the extra
 * column goes, and with it its weight. */
static weir_model_t *strict_currency_model(void)
{
    weir_model_t *example = load_example();
    size_t extra_column = 0;
    for (size_t i = 0; i < weir_model_feature_count(example); i++) {
        const weir_feature_info_t *fi = weir_model_feature(example, i);
        if (!strcmp(fi->name, "currency"))
            extra_column = fi->column + fi->width - 1;
    }
    cr_assert_gt(extra_column, 0);
    weir_model_destroy(example);
    json_t *b = example_json();
    json_t *step = json_array_get(json_object_get(feature_json(b, "currency"), "transform"), 0);
    json_object_set_new(step, "unknown", json_string("error"));
    json_t *weights = json_object_get(json_object_get(b, "model"), "weights");
    cr_assert_eq(json_array_remove(weights, extra_column), 0);
    json_object_set_new(b, "name", json_string("fraud-lr-strict-currency"));
    json_object_set_new(b, "version", json_string("2.0.0"));
    return parse_bundle(b);
}

/* ---- events -------------------------------------------------------- */

/* The i-th test transaction: tx_example() with values the example bundle
 * knows, and every 7th one shaped like card-not-present fraud. */
static void make_tx(tx_t *t, int i)
{
    static const char *const categories[] = {"grocery", "restaurant", "travel", "electronics",
                                             "jewelry"};
    static const char *const currencies[] = {"USD", "EUR", "GBP", "BRL"};
    tx_example(t, i);
    t->merchant_category = categories[i % 5];
    t->currency = currencies[i % 4];
    if (i % 7 == 3) {
        t->amount = 2400.0 + i;
        t->channel = 1; /* online */
        t->card_present = 0;
        t->local_hour = 3;
        t->is_foreign = 1;
        t->distance_from_home_km = 6200;
        t->ip_risk_score = 0.95f;
        t->has_device_trust_score = 1;
        t->device_trust_score = 0.05f;
        t->tx_count_1h = 4;
        t->chargebacks_90d = 2;
    }
}

typedef struct {
    weir_buf_t buf; /* framed (or raw) values, back to back */
    size_t offset[64], len[64], body_offset[64];
    size_t n;
} values_t;

static void values_init(values_t *v)
{
    memset(v, 0, sizeof(*v));
    weir_buf_init(&v->buf, 1 << 20);
}

/* Appends a Transaction; @p framing says whether it gets the Confluent header. */
static size_t add_tx(values_t *v, const tx_t *t, weir_framing_t framing, int32_t id)
{
    cr_assert_lt(v->n, 64);
    size_t i = v->n++;
    v->offset[i] = v->buf.len;
    cr_assert_eq(weir_framing_write(&v->buf, framing, id), 0);
    v->body_offset[i] = v->buf.len;
    cr_assert_eq(tx_encode(&v->buf, t, NULL), 0);
    v->len[i] = v->buf.len - v->offset[i];
    return i;
}

static size_t add_raw(values_t *v, const void *bytes, size_t len)
{
    size_t i = v->n++;
    v->offset[i] = v->body_offset[i] = v->buf.len;
    if (len)
        cr_assert_eq(weir_buf_append(&v->buf, bytes, len), 0);
    v->len[i] = len;
    return i;
}

/* Points items at the values (after every add: the buffer may have moved). */
static void fill_items(const values_t *v, weir_pipeline_item_t *items)
{
    for (size_t i = 0; i < v->n; i++) {
        memset(&items[i], 0, sizeof(items[i]));
        items[i].value = v->len[i] ? v->buf.data + v->offset[i] : NULL;
        items[i].value_len = v->len[i];
        items[i].fallback_time_ms = 42;
    }
}

/* The value a bundle source reads from a transaction, as the field reader gives it. */
static weir_value_t tx_value(const tx_t *t, const char *source)
{
    weir_value_t v = {.kind = WEIR_VALUE_NUMBER};
#define NUM(name, expr)                                                                            \
    if (!strcmp(source, name)) {                                                                   \
        v.number = (double)(expr);                                                                 \
        return v;                                                                                  \
    }
#define OPT(name, has, expr)                                                                       \
    if (!strcmp(source, name)) {                                                                   \
        if (has)                                                                                   \
            v.number = (double)(expr);                                                             \
        else                                                                                       \
            v.kind = WEIR_VALUE_MISSING;                                                           \
        return v;                                                                                  \
    }
#define STR(name, expr)                                                                            \
    if (!strcmp(source, name)) {                                                                   \
        v.kind = WEIR_VALUE_STRING;                                                                \
        v.string = (expr);                                                                         \
        v.length = strlen(v.string);                                                               \
        return v;                                                                                  \
    }
    NUM("amount", t->amount);
    NUM("amount_avg_30d", t->amount_avg_30d);
    STR("merchant_category", t->merchant_category);
    STR("channel", tx_channels[t->channel]);
    NUM("card_present", t->card_present);
    NUM("local_hour", t->local_hour);
    NUM("day_of_week", t->day_of_week);
    OPT("customer_age", t->has_customer_age, t->customer_age);
    NUM("account_age_days", t->account_age_days);
    NUM("distance_from_home_km", t->distance_from_home_km);
    OPT("distance_from_last_tx_km", t->has_distance_from_last_tx_km, t->distance_from_last_tx_km);
    OPT("seconds_since_last_tx", t->has_seconds_since_last_tx, t->seconds_since_last_tx);
    NUM("tx_count_1h", t->tx_count_1h);
    NUM("tx_count_24h", t->tx_count_24h);
    NUM("failed_pin_attempts", t->failed_pin_attempts);
    NUM("is_foreign", t->is_foreign);
    OPT("device_trust_score", t->has_device_trust_score, t->device_trust_score);
    NUM("ip_risk_score", t->ip_risk_score);
    NUM("chargebacks_90d", t->chargebacks_90d);
    NUM("credit_limit", t->credit_limit);
    NUM("balance_utilization", t->balance_utilization);
    STR("country", t->country);
    STR("currency", t->currency);
    STR("merchant_id", t->merchant_id);
#undef NUM
#undef OPT
#undef STR
    cr_assert_fail("no test value for source %s", source);
    return v;
}

/* The expected transformed row and P(fraud) of one transaction, one row at a time. */
static double expected_score(const weir_model_t *m, const tx_t *t, double *row)
{
    size_t nf = weir_model_feature_count(m), bad = 0;
    weir_value_t *values = calloc(nf, sizeof(*values));
    for (size_t f = 0; f < nf; f++)
        values[f] = tx_value(t, weir_model_feature(m, f)->source);
    cr_assert_eq(weir_transform_row(m, values, row, &bad), 0, "%s: feature %zu", t->event_id, bad);
    double *ws = calloc(weir_model_workspace_size(m, 1) + 1, sizeof(double));
    float out = -1;
    cr_assert_eq(weir_model_predict(m, row, 1, ws, &out), 0);
    free(ws);
    free(values);
    return out;
}

/* ---- pipelines and outputs ----------------------------------------- */

static avro_schema_t transaction;

static void setup(void)
{
    transaction = tx_schema();
    cr_assert_not_null(transaction);
}

static void teardown(void)
{
    avro_schema_decref(transaction);
}

static weir_pipeline_t *new_pipeline(weir_framing_t framing, size_t batch_max)
{
    weir_pipeline_config_t cfg = {
        .input_schema = transaction,
        .input_framing = framing,
        .input_schema_id = 1,
        .id_field = "event_id",
        .time_field = "event_time",
        .output_framing = WEIR_FRAMING_CONFLUENT,
        .output_schema_id = 2,
        .batch_max = batch_max,
    };
    weir_pipeline_t *p = NULL;
    cr_assert_eq(weir_pipeline_new(&cfg, &p, err, sizeof(err)), 0, "%s", err);
    return p;
}

typedef struct {
    char event_id[64];
    int64_t event_time, scored_at;
    char model_name[64], model_version[32];
    double score;
    double scores[4];
    size_t n_scores;
    char label[32]; /* "" when null */
    char nested_event_id[64];
    const uint8_t *body; /* the nested event's bytes inside the output */
    size_t body_len;
} scored_t;

static void get_string(avro_value_t *record, const char *name, char *out, size_t outsz)
{
    avro_value_t field;
    const char *s = NULL;
    size_t size = 0;
    cr_assert_eq(avro_value_get_by_name(record, name, &field, NULL), 0, "field %s", name);
    cr_assert_eq(avro_value_get_string(&field, &s, &size), 0, "%s is a string", name);
    snprintf(out, outsz, "%s", s);
}

static int64_t get_long(avro_value_t *record, const char *name)
{
    avro_value_t field;
    int64_t v = 0;
    cr_assert_eq(avro_value_get_by_name(record, name, &field, NULL), 0, "field %s", name);
    cr_assert_eq(avro_value_get_long(&field, &v), 0, "%s is a long", name);
    return v;
}

/* Decodes one scored output as a framed ScoredEvent of the pipeline's output schema. */
static void decode_scored(weir_pipeline_t *p, const weir_pipeline_item_t *it, size_t input_body_len,
                          scored_t *s)
{
    memset(s, 0, sizeof(*s));
    const uint8_t *out = weir_pipeline_output(p) + it->out_offset;
    cr_assert_geq(it->out_len, 5);
    static const uint8_t header[5] = {0, 0, 0, 0, 2};
    cr_assert_eq(memcmp(out, header, 5), 0, "magic byte 0 and schema id 2");

    weir_reader_t *reader = NULL;
    cr_assert_eq(weir_reader_new(weir_pipeline_output_schema(p), &reader, err, sizeof(err)), 0,
                 "%s", err);
    avro_value_t *v;
    weir_reason_t reason;
    char detail[256];
    int rc = weir_reader_read(reader, out + 5, it->out_len - 5, 1, &v, NULL, &reason, detail,
                              sizeof(detail));
    cr_assert_eq(rc, 0, "the output is exactly one ScoredEvent: %s", detail);
    get_string(v, "event_id", s->event_id, sizeof(s->event_id));
    s->event_time = get_long(v, "event_time");
    s->scored_at = get_long(v, "scored_at");
    get_string(v, "model_name", s->model_name, sizeof(s->model_name));
    get_string(v, "model_version", s->model_version, sizeof(s->model_version));
    avro_value_t field, elem, branch, nested;
    cr_assert_eq(avro_value_get_by_name(v, "score", &field, NULL), 0);
    cr_assert_eq(avro_value_get_double(&field, &s->score), 0);
    cr_assert_eq(avro_value_get_by_name(v, "scores", &field, NULL), 0);
    cr_assert_eq(avro_value_get_size(&field, &s->n_scores), 0);
    cr_assert_leq(s->n_scores, 4);
    for (size_t k = 0; k < s->n_scores; k++) {
        cr_assert_eq(avro_value_get_by_index(&field, k, &elem, NULL), 0);
        cr_assert_eq(avro_value_get_double(&elem, &s->scores[k]), 0);
    }
    cr_assert_eq(avro_value_get_by_name(v, "label", &field, NULL), 0);
    cr_assert_eq(avro_value_get_current_branch(&field, &branch), 0);
    if (avro_value_get_type(&branch) == AVRO_STRING) {
        const char *l;
        size_t size;
        avro_value_get_string(&branch, &l, &size);
        snprintf(s->label, sizeof(s->label), "%s", l);
    }
    cr_assert_eq(avro_value_get_by_name(v, "event", &nested, NULL), 0);
    get_string(&nested, "event_id", s->nested_event_id, sizeof(s->nested_event_id));
    weir_reader_destroy(reader);
    /* `event` is the last field: its bytes end the output */
    cr_assert_geq(it->out_len - 5, input_body_len);
    s->body = out + it->out_len - input_body_len;
    s->body_len = input_body_len;
}

/* Checks one scored item against its transaction, the model and its input bytes. */
static void check_scored(weir_pipeline_t *p, const weir_model_t *m, const weir_pipeline_item_t *it,
                         const tx_t *t, const uint8_t *input_body, size_t input_body_len)
{
    cr_assert(it->scored, "%s: %s (%s)", t->event_id, weir_reason_name(it->reason), it->detail);
    cr_assert_str_eq(it->event_id, t->event_id);
    cr_assert_eq(it->event_time_ms, t->event_time);
    double *row = calloc(weir_model_columns(m), sizeof(double));
    double expect = expected_score(m, t, row);
    cr_assert_eq(memcmp(weir_pipeline_matrix(p) + it->row * weir_model_columns(m), row,
                        weir_model_columns(m) * sizeof(double)),
                 0, "%s: the batch row is the row transformed on its own", t->event_id);
    free(row);

    scored_t s;
    decode_scored(p, it, input_body_len, &s);
    cr_assert_str_eq(s.event_id, t->event_id);
    cr_assert_eq(s.event_time, t->event_time);
    cr_assert_eq(s.scored_at, NOW_MS);
    cr_assert_str_eq(s.model_name, weir_model_name(m));
    cr_assert_str_eq(s.model_version, weir_model_version(m));
    cr_assert_float_eq(s.score, expect, 1e-6, "%s: pipeline %.9g, one-row predict %.9g",
                       t->event_id, s.score, expect);
    cr_assert_eq(s.score, it->score, "the item and the record agree");
    cr_assert_eq(s.n_scores, 2);
    cr_assert_float_eq(s.scores[1], s.score, 1e-7);
    cr_assert_float_eq(s.scores[0], 1.0 - s.score, 1e-6);
    const char *label =
        s.score >= weir_model_threshold(m) ? weir_model_class(m, 1) : weir_model_class(m, 0);
    cr_assert_str_eq(s.label, label, "%s: score %g, threshold %g", t->event_id, s.score,
                     weir_model_threshold(m));
    cr_assert_eq(it->class_index, s.score >= weir_model_threshold(m) ? 1 : 0);
    cr_assert_str_eq(s.nested_event_id, t->event_id);
    cr_assert_eq(memcmp(s.body, input_body, input_body_len), 0,
                 "%s: the nested event is the input's bytes", t->event_id);
}

TestSuite(pipeline, .init = setup, .fini = teardown);

Test(pipeline, scored_events_carry_id_time_model_score_label_and_the_input_bytes)
{
    weir_model_t *m = load_example();
    weir_pipeline_t *p = new_pipeline(WEIR_FRAMING_CONFLUENT, 64);
    values_t v;
    values_init(&v);
    tx_t txs[48];
    for (int i = 0; i < 48; i++) {
        make_tx(&txs[i], i);
        add_tx(&v, &txs[i], WEIR_FRAMING_CONFLUENT, 1);
    }
    weir_pipeline_item_t items[48];
    fill_items(&v, items);
    cr_assert_eq(weir_pipeline_run(p, m, items, 48, NOW_MS, err, sizeof(err)), 0, "%s", err);
    int labels[2] = {0, 0};
    for (int i = 0; i < 48; i++) {
        check_scored(p, m, &items[i], &txs[i], v.buf.data + v.body_offset[i],
                     v.len[i] - (v.body_offset[i] - v.offset[i]));
        cr_assert_eq(items[i].row, (size_t)i, "rows in item order");
        labels[items[i].class_index]++;
    }
    cr_assert(labels[0] > 0 && labels[1] > 0, "both labels occur (%d legit, %d fraud)", labels[0],
              labels[1]);
    /* the raw values kept for drift are the transaction's own */
    const weir_value_t *kept = weir_pipeline_values(p, 5);
    for (size_t f = 0; f < weir_model_feature_count(m); f++) {
        weir_value_t want = tx_value(&txs[5], weir_model_feature(m, f)->source);
        cr_assert_eq(kept[f].kind, want.kind, "feature %zu", f);
        if (want.kind == WEIR_VALUE_NUMBER)
            cr_assert_eq(kept[f].number, want.number, "feature %zu", f);
        else if (want.kind == WEIR_VALUE_STRING)
            cr_assert(kept[f].length == want.length &&
                          !memcmp(kept[f].string, want.string, want.length),
                      "feature %zu", f);
    }
    weir_buf_dispose(&v.buf);
    weir_pipeline_destroy(p);
    weir_model_destroy(m);
}

Test(pipeline, raw_framing_reads_bare_avro_bodies)
{
    weir_model_t *m = load_example();
    weir_pipeline_t *p = new_pipeline(WEIR_FRAMING_RAW, 4);
    values_t v;
    values_init(&v);
    tx_t t;
    make_tx(&t, 3);
    add_tx(&v, &t, WEIR_FRAMING_RAW, 0);
    weir_pipeline_item_t item;
    fill_items(&v, &item);
    cr_assert_eq(weir_pipeline_run(p, m, &item, 1, NOW_MS, err, sizeof(err)), 0, "%s", err);
    check_scored(p, m, &item, &t, v.buf.data, v.len[0]);
    weir_buf_dispose(&v.buf);
    weir_pipeline_destroy(p);
    weir_model_destroy(m);
}

/* A bad value and the reason it must get. */
typedef struct {
    const char *what;
    weir_reason_t reason;
} expect_dead_t;

static void check_dead(const weir_pipeline_item_t *it, const expect_dead_t *e)
{
    cr_assert_not(it->scored, "%s: scored", e->what);
    cr_assert_eq(it->reason, e->reason, "%s: %s, expected %s (%s)", e->what,
                 weir_reason_name(it->reason), weir_reason_name(e->reason), it->detail);
    cr_assert_gt(strlen(it->detail), 0, "%s: a detail", e->what);
    cr_assert_eq(it->out_len, 0, "%s: no output", e->what);
}

Test(pipeline, bad_values_become_dead_letters_with_their_reason)
{
    weir_model_t *m = load_example();
    weir_pipeline_t *p = new_pipeline(WEIR_FRAMING_CONFLUENT, 16);
    tx_t t;
    make_tx(&t, 1);
    weir_buf_t good;
    weir_buf_init(&good, 4096);
    weir_framing_write(&good, WEIR_FRAMING_CONFLUENT, 1);
    tx_encode(&good, &t, NULL);

    values_t v;
    values_init(&v);
    expect_dead_t expect[16];
    size_t n = 0;
    uint8_t buf[4096];

    add_raw(&v, NULL, 0);
    expect[n++] = (expect_dead_t){"empty value", WEIR_REASON_EMPTY_VALUE};
    memcpy(buf, good.data, good.len);
    buf[0] = 0x7b; /* '{': JSON where Avro was expected */
    add_raw(&v, buf, good.len);
    expect[n++] = (expect_dead_t){"bad magic byte", WEIR_REASON_BAD_FRAMING};
    add_raw(&v, good.data, 3);
    expect[n++] = (expect_dead_t){"shorter than the header", WEIR_REASON_BAD_FRAMING};
    memcpy(buf, good.data, good.len);
    buf[4] = 9;
    add_raw(&v, buf, good.len);
    expect[n++] = (expect_dead_t){"unknown schema id", WEIR_REASON_UNKNOWN_SCHEMA};
    add_raw(&v, good.data, good.len - 4);
    expect[n++] = (expect_dead_t){"truncated datum", WEIR_REASON_TRUNCATED};
    add_raw(&v, good.data, 5);
    expect[n++] = (expect_dead_t){"header only", WEIR_REASON_TRUNCATED};
    memcpy(buf, good.data, good.len);
    memcpy(buf + good.len, "zz", 2);
    add_raw(&v, buf, good.len + 2);
    expect[n++] = (expect_dead_t){"trailing bytes", WEIR_REASON_TRAILING_BYTES};
    /* a negative string length for event_id: zig-zag 0x01 is -1 */
    memcpy(buf, good.data, 5);
    buf[5] = 0x01;
    add_raw(&v, buf, good.len);
    expect[n++] = (expect_dead_t){"negative length", WEIR_REASON_BAD_LENGTH};

    weir_pipeline_item_t items[16];
    fill_items(&v, items);
    cr_assert_eq(weir_pipeline_run(p, m, items, n, NOW_MS, err, sizeof(err)), 0, "%s", err);
    for (size_t i = 0; i < n; i++)
        check_dead(&items[i], &expect[i]);
    cr_assert(strstr(items[1].detail, "magic"), "%s", items[1].detail);
    cr_assert(strstr(items[3].detail, "9"), "the detail names the id: %s", items[3].detail);
    weir_buf_dispose(&good);
    weir_buf_dispose(&v.buf);
    weir_pipeline_destroy(p);
    weir_model_destroy(m);
}

Test(pipeline, null_age_is_missing_value_when_the_bundle_refuses_missing_ages)
{
    weir_model_t *m = strict_age_model();
    weir_pipeline_t *p = new_pipeline(WEIR_FRAMING_CONFLUENT, 8);
    values_t v;
    values_init(&v);
    tx_t txs[6];
    for (int i = 0; i < 6; i++) {
        make_tx(&txs[i], i); /* i % 3 == 0: customer_age is null */
        add_tx(&v, &txs[i], WEIR_FRAMING_CONFLUENT, 1);
    }
    weir_pipeline_item_t items[6];
    fill_items(&v, items);
    cr_assert_eq(weir_pipeline_run(p, m, items, 6, NOW_MS, err, sizeof(err)), 0, "%s", err);
    for (int i = 0; i < 6; i++) {
        if (i % 3 == 0) {
            check_dead(&items[i], &(expect_dead_t){"null customer_age", WEIR_REASON_MISSING_VALUE});
            cr_assert(strstr(items[i].detail, "customer_age"), "%s", items[i].detail);
            cr_assert_str_eq(items[i].event_id, txs[i].event_id, "the id is known all the same");
        } else {
            check_scored(p, m, &items[i], &txs[i], v.buf.data + v.body_offset[i], v.len[i] - 5);
        }
    }
    weir_buf_dispose(&v.buf);
    weir_pipeline_destroy(p);
    weir_model_destroy(m);
}

Test(pipeline, unknown_currency_is_unknown_category_under_one_hot_error)
{
    weir_model_t *m = strict_currency_model();
    weir_pipeline_t *p = new_pipeline(WEIR_FRAMING_CONFLUENT, 8);
    values_t v;
    values_init(&v);
    tx_t txs[3];
    make_tx(&txs[0], 1);
    make_tx(&txs[1], 2);
    txs[1].currency = "XAU";
    make_tx(&txs[2], 3);
    for (int i = 0; i < 3; i++)
        add_tx(&v, &txs[i], WEIR_FRAMING_CONFLUENT, 1);
    weir_pipeline_item_t items[3];
    fill_items(&v, items);
    cr_assert_eq(weir_pipeline_run(p, m, items, 3, NOW_MS, err, sizeof(err)), 0, "%s", err);
    check_dead(&items[1], &(expect_dead_t){"currency XAU", WEIR_REASON_UNKNOWN_CATEGORY});
    cr_assert(strstr(items[1].detail, "currency"), "%s", items[1].detail);
    check_scored(p, m, &items[0], &txs[0], v.buf.data + v.body_offset[0], v.len[0] - 5);
    check_scored(p, m, &items[2], &txs[2], v.buf.data + v.body_offset[2], v.len[2] - 5);
    cr_assert_eq(items[2].row, 1, "the dead letter takes no row");
    weir_buf_dispose(&v.buf);
    weir_pipeline_destroy(p);
    weir_model_destroy(m);
}

Test(pipeline, good_and_bad_items_in_one_batch_stay_independent)
{
    weir_model_t *m = load_example();
    weir_pipeline_t *p = new_pipeline(WEIR_FRAMING_CONFLUENT, 16);
    tx_t txs[3];
    for (int i = 0; i < 3; i++)
        make_tx(&txs[i], 10 + i);

    /* the good ones alone */
    values_t alone;
    values_init(&alone);
    for (int i = 0; i < 3; i++)
        add_tx(&alone, &txs[i], WEIR_FRAMING_CONFLUENT, 1);
    weir_pipeline_item_t solo[3];
    fill_items(&alone, solo);
    cr_assert_eq(weir_pipeline_run(p, m, solo, 3, NOW_MS, err, sizeof(err)), 0, "%s", err);
    uint8_t *solo_out[3];
    for (int i = 0; i < 3; i++) {
        cr_assert(solo[i].scored);
        solo_out[i] = malloc(solo[i].out_len);
        memcpy(solo_out[i], weir_pipeline_output(p) + solo[i].out_offset, solo[i].out_len);
    }

    /* the same between bad ones: bad, good, bad, good, bad, good, bad */
    values_t mixed;
    values_init(&mixed);
    static const uint8_t junk[] = {0, 0, 0, 0, 1, 0x80};
    add_raw(&mixed, NULL, 0);
    add_tx(&mixed, &txs[0], WEIR_FRAMING_CONFLUENT, 1);
    add_raw(&mixed, junk, sizeof(junk));
    add_tx(&mixed, &txs[1], WEIR_FRAMING_CONFLUENT, 1);
    add_raw(&mixed, "\x01zzzzzz", 7);
    add_tx(&mixed, &txs[2], WEIR_FRAMING_CONFLUENT, 1);
    add_raw(&mixed, junk, 3);
    weir_pipeline_item_t items[7];
    fill_items(&mixed, items);
    cr_assert_eq(weir_pipeline_run(p, m, items, 7, NOW_MS, err, sizeof(err)), 0, "%s", err);
    for (int i = 0; i < 7; i += 2)
        cr_assert_not(items[i].scored, "item %d is bad", i);
    for (int k = 0; k < 3; k++) {
        const weir_pipeline_item_t *it = &items[2 * k + 1];
        check_scored(p, m, it, &txs[k], mixed.buf.data + mixed.body_offset[2 * k + 1],
                     mixed.len[2 * k + 1] - 5);
        cr_assert_eq(it->out_len, solo[k].out_len);
        cr_assert_eq(memcmp(weir_pipeline_output(p) + it->out_offset, solo_out[k], it->out_len), 0,
                     "event %d: the same record as when scored without bad neighbours", k);
        free(solo_out[k]);
    }
    weir_buf_dispose(&alone.buf);
    weir_buf_dispose(&mixed.buf);
    weir_pipeline_destroy(p);
    weir_model_destroy(m);
}

Test(pipeline, batch_max_is_enforced)
{
    weir_model_t *m = load_example();
    weir_pipeline_t *p = new_pipeline(WEIR_FRAMING_CONFLUENT, 4);
    values_t v;
    values_init(&v);
    tx_t t;
    for (int i = 0; i < 5; i++) {
        make_tx(&t, i);
        add_tx(&v, &t, WEIR_FRAMING_CONFLUENT, 1);
    }
    weir_pipeline_item_t items[5];
    fill_items(&v, items);
    int rc = weir_pipeline_run(p, m, items, 5, NOW_MS, err, sizeof(err));
    cr_assert_eq(rc, WEIR_EINVAL);
    cr_assert(strstr(err, "batch of 5 exceeds batch.max"), "%s", err);
    cr_assert_eq(weir_pipeline_run(p, m, items, 4, NOW_MS, err, sizeof(err)), 0, "%s", err);
    for (int i = 0; i < 4; i++)
        cr_assert(items[i].scored);
    weir_buf_dispose(&v.buf);
    weir_pipeline_destroy(p);
    weir_model_destroy(m);
}

Test(pipeline, bind_names_the_feature_and_the_field_missing_from_the_schema)
{
    json_t *b = example_json();
    json_object_set_new(feature_json(b, "ip_risk_score"), "source", json_string("ip_risk"));
    weir_model_t *m = parse_bundle(b);
    weir_pipeline_t *p = new_pipeline(WEIR_FRAMING_CONFLUENT, 4);
    int rc = weir_pipeline_bind(p, m, err, sizeof(err));
    cr_assert_eq(rc, WEIR_ESCHEMA);
    cr_assert(strstr(err, "model feature \"ip_risk_score\""), "names the feature: %s", err);
    cr_assert(strstr(err, "ip_risk"), "names the field: %s", err);
    /* run refuses the batch as a whole, with the same message */
    weir_pipeline_item_t item = {0};
    char err2[1024];
    cr_assert_eq(weir_pipeline_run(p, m, &item, 1, NOW_MS, err2, sizeof(err2)), WEIR_ESCHEMA);
    cr_assert_str_eq(err2, err);

    /* a nested path on a flat schema, and a field of a type no feature can read */
    b = example_json();
    json_object_set_new(feature_json(b, "country"), "source", json_string("card.country"));
    weir_model_t *nested = parse_bundle(b);
    cr_assert_eq(weir_pipeline_bind(p, nested, err, sizeof(err)), WEIR_ESCHEMA);
    cr_assert(strstr(err, "\"country\"") && strstr(err, "card"), "%s", err);
    weir_pipeline_destroy(p);
    weir_model_destroy(nested);
    weir_model_destroy(m);
}

Test(pipeline, bind_refuses_a_numeric_feature_on_a_string_field)
{
    /* Every event would otherwise be a dead letter (invalid_value): the
     * bundle and the schema do not fit, which is a configuration error. */
    json_t *b = example_json();
    json_object_set_new(feature_json(b, "amount"), "source", json_string("currency"));
    weir_model_t *m = parse_bundle(b);
    weir_pipeline_t *p = new_pipeline(WEIR_FRAMING_CONFLUENT, 4);
    cr_assert_eq(weir_pipeline_bind(p, m, err, sizeof(err)), WEIR_ESCHEMA);
    cr_assert(strstr(err, "model feature \"amount\"") && strstr(err, "currency") &&
                  strstr(err, "numeric"),
              "%s", err);
    weir_model_destroy(m);

    b = example_json();
    json_object_set_new(feature_json(b, "is_foreign"), "source", json_string("channel"));
    m = parse_bundle(b);
    cr_assert_eq(weir_pipeline_bind(p, m, err, sizeof(err)), WEIR_ESCHEMA);
    cr_assert(strstr(err, "model feature \"is_foreign\"") && strstr(err, "channel"), "%s", err);
    weir_model_destroy(m);

    /* a categorical feature may read a number: it is formatted as text */
    b = example_json();
    json_object_set_new(feature_json(b, "country"), "source", json_string("local_hour"));
    m = parse_bundle(b);
    cr_assert_eq(weir_pipeline_bind(p, m, err, sizeof(err)), 0, "%s", err);
    weir_model_destroy(m);
    weir_pipeline_destroy(p);
}

Test(pipeline, new_refuses_id_and_time_fields_the_schema_lacks_or_cannot_hold)
{
    weir_pipeline_config_t cfg = {
        .input_schema = transaction,
        .input_framing = WEIR_FRAMING_CONFLUENT,
        .input_schema_id = 1,
        .id_field = "transaction_id",
        .time_field = "event_time",
        .batch_max = 4,
    };
    weir_pipeline_t *p = (weir_pipeline_t *)&cfg;
    cr_assert_eq(weir_pipeline_new(&cfg, &p, err, sizeof(err)), WEIR_ESCHEMA);
    cr_assert_null(p);
    cr_assert(!strncmp(err, "input.id.field: ", 16) && strstr(err, "transaction_id"), "%s", err);
    cfg.id_field = "amount";
    cr_assert_eq(weir_pipeline_new(&cfg, &p, err, sizeof(err)), WEIR_ESCHEMA);
    cr_assert(strstr(err, "input.id.field") && strstr(err, "string, int or long"), "%s", err);
    cfg.id_field = "event_id";
    cfg.time_field = "currency";
    cr_assert_eq(weir_pipeline_new(&cfg, &p, err, sizeof(err)), WEIR_ESCHEMA);
    cr_assert(strstr(err, "input.time.field") && strstr(err, "currency"), "%s", err);
}

Test(pipeline, numeric_ids_are_written_as_decimals_and_no_time_field_takes_the_fallback)
{
    weir_model_t *m = load_example();
    weir_pipeline_config_t cfg = {
        .input_schema = transaction,
        .input_framing = WEIR_FRAMING_CONFLUENT,
        .input_schema_id = 1,
        .id_field = "account_age_days",
        .time_field = "",
        .output_framing = WEIR_FRAMING_RAW,
        .batch_max = 2,
    };
    weir_pipeline_t *p = NULL;
    cr_assert_eq(weir_pipeline_new(&cfg, &p, err, sizeof(err)), 0, "%s", err);
    values_t v;
    values_init(&v);
    tx_t t;
    make_tx(&t, 17);
    add_tx(&v, &t, WEIR_FRAMING_CONFLUENT, 1);
    weir_pipeline_item_t item;
    fill_items(&v, &item);
    item.fallback_time_ms = 1234567;
    cr_assert_eq(weir_pipeline_run(p, m, &item, 1, NOW_MS, err, sizeof(err)), 0, "%s", err);
    cr_assert(item.scored);
    char id[32];
    snprintf(id, sizeof(id), "%d", (int)t.account_age_days);
    cr_assert_str_eq(item.event_id, id);
    cr_assert_eq(item.event_time_ms, 1234567);
    /* raw output framing: the record starts at once, with the id string */
    const uint8_t *out = weir_pipeline_output(p) + item.out_offset;
    cr_assert_eq(out[0], 2 * strlen(id), "zig-zag length of the id");
    cr_assert_eq(memcmp(out + 1, id, strlen(id)), 0);
    weir_buf_dispose(&v.buf);
    weir_pipeline_destroy(p);
    weir_model_destroy(m);
}

Test(pipeline, a_second_model_rebinds_and_the_first_comes_back)
{
    weir_model_t *a = load_example();
    weir_model_t *b = strict_currency_model();
    cr_assert_neq(weir_model_columns(a), weir_model_columns(b));
    weir_pipeline_t *p = new_pipeline(WEIR_FRAMING_CONFLUENT, 8);
    values_t v;
    values_init(&v);
    tx_t txs[8];
    for (int i = 0; i < 8; i++) {
        make_tx(&txs[i], 20 + i);
        add_tx(&v, &txs[i], WEIR_FRAMING_CONFLUENT, 1);
    }
    weir_pipeline_item_t items[8];
    weir_model_t *order[] = {a, b, b, a, b};
    for (size_t round = 0; round < sizeof(order) / sizeof(order[0]); round++) {
        weir_model_t *m = order[round];
        fill_items(&v, items);
        cr_assert_eq(weir_pipeline_run(p, m, items, 8, NOW_MS, err, sizeof(err)), 0, "%s", err);
        for (int i = 0; i < 8; i++)
            check_scored(p, m, &items[i], &txs[i], v.buf.data + v.body_offset[i], v.len[i] - 5);
    }
    weir_buf_dispose(&v.buf);
    weir_pipeline_destroy(p);
    weir_model_destroy(b);
    weir_model_destroy(a);
}

Test(pipeline, a_batch_of_events_from_weir_gen_scores_like_one_row_at_a_time)
{
    /* `weir gen` output read back through the container reader: realistic
     * values (nulls, every category) in batches of the size weir run uses. */
    char path[] = "/tmp/weir-test-pipeline-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s gen --out file:%s --count 2000 --seed 5 -q", WEIR_BINARY, path);
    cr_assert_eq(system(cmd), 0, "%s", cmd);

    weir_model_t *m = load_example();
    weir_container_reader_t *r = NULL;
    cr_assert_eq(weir_container_reader_open(path, &r, err, sizeof(err)), 0, "%s", err);
    weir_pipeline_config_t cfg = {
        .input_schema = weir_container_reader_schema(r),
        .input_framing = WEIR_FRAMING_RAW,
        .id_field = "event_id",
        .time_field = "event_time",
        .output_framing = WEIR_FRAMING_RAW,
        .batch_max = 512,
    };
    weir_pipeline_t *p = NULL;
    cr_assert_eq(weir_pipeline_new(&cfg, &p, err, sizeof(err)), 0, "%s", err);
    weir_buf_t bodies;
    weir_buf_init(&bodies, 16 << 20);
    size_t offsets[2000], n = 0;
    for (;;) {
        avro_value_t *value;
        const uint8_t *body;
        size_t len, skipped;
        weir_reason_t reason;
        char detail[256];
        int got = weir_container_reader_next(r, &value, &body, &len, &skipped, &reason, detail,
                                             sizeof(detail));
        if (got == 0)
            break;
        cr_assert_eq(got, 1, "%s", detail);
        offsets[n++] = bodies.len;
        weir_buf_append(&bodies, body, len);
    }
    cr_assert_eq(n, 2000);
    weir_pipeline_item_t *items = calloc(512, sizeof(*items));
    size_t scored = 0, positives = 0;
    double *row = calloc(weir_model_columns(m), sizeof(double));
    double *ws = calloc(weir_model_workspace_size(m, 1) + 1, sizeof(double));
    for (size_t start = 0; start < n; start += 512) {
        size_t k = n - start < 512 ? n - start : 512;
        for (size_t i = 0; i < k; i++) {
            size_t at = start + i;
            items[i].value = bodies.data + offsets[at];
            items[i].value_len = (at + 1 < n ? offsets[at + 1] : bodies.len) - offsets[at];
        }
        cr_assert_eq(weir_pipeline_run(p, m, items, k, NOW_MS, err, sizeof(err)), 0, "%s", err);
        for (size_t i = 0; i < k; i++) {
            cr_assert(items[i].scored, "event %zu: %s", start + i, items[i].detail);
            /* the same values, transformed and predicted alone */
            size_t bad;
            cr_assert_eq(weir_transform_row(m, weir_pipeline_values(p, items[i].row), row, &bad),
                         0);
            float one;
            weir_model_predict(m, row, 1, ws, &one);
            cr_assert_float_eq(items[i].score, one, 1e-6, "event %zu", start + i);
            scored++;
            positives += items[i].class_index == 1;
        }
    }
    cr_assert_eq(scored, 2000);
    cr_assert(positives > 0 && positives < 200, "%zu flagged as fraud", positives);
    free(ws);
    free(row);
    free(items);
    weir_buf_dispose(&bodies);
    weir_pipeline_destroy(p);
    weir_container_reader_close(r);
    weir_model_destroy(m);
    unlink(path);
}

Test(pipeline, long_event_ids_keep_every_digit)
{
    /* A one-feature bundle over a record keyed by a 64-bit id: ids past 2^53
     * (snowflake ids, say) must not pass through a double. */
    static const char bundle[] =
        "{\"format\": \"weir.model/1\", \"name\": \"tiny\", \"version\": \"1\","
        " \"task\": \"binary\", \"features\": [{\"name\": \"x\", \"source\": \"x\","
        " \"type\": \"numeric\"}], \"model\": {\"kind\": \"logistic\", \"weights\": [1.0],"
        " \"bias\": 0.0}}";
    static const char schema_json[] =
        "{\"type\": \"record\", \"name\": \"Keyed\", \"fields\": [{\"name\": \"id\","
        " \"type\": \"long\"}, {\"name\": \"x\", \"type\": \"double\"}]}";
    weir_model_t *m = NULL;
    cr_assert_eq(weir_model_parse(bundle, strlen(bundle), "<tiny>", &m, err, sizeof(err)), 0, "%s",
                 err);
    avro_schema_t schema;
    cr_assert_eq(weir_schema_parse(schema_json, &schema, err, sizeof(err)), 0, "%s", err);
    weir_pipeline_config_t cfg = {
        .input_schema = schema,
        .input_framing = WEIR_FRAMING_RAW,
        .id_field = "id",
        .time_field = "",
        .output_framing = WEIR_FRAMING_RAW,
        .batch_max = 4,
    };
    weir_pipeline_t *p = NULL;
    cr_assert_eq(weir_pipeline_new(&cfg, &p, err, sizeof(err)), 0, "%s", err);
    const int64_t ids[] = {INT64_C(9007199254740993), INT64_MAX, INT64_MIN, -42};
    const char *expect[] = {"9007199254740993", "9223372036854775807", "-9223372036854775808",
                            "-42"};
    values_t v;
    values_init(&v);
    for (int i = 0; i < 4; i++) {
        weir_buf_t body;
        weir_buf_init(&body, 64);
        weir_avro_write_long(&body, ids[i]);
        weir_avro_write_double(&body, 0.5 * i);
        add_raw(&v, body.data, body.len);
        weir_buf_dispose(&body);
    }
    weir_pipeline_item_t items[4];
    fill_items(&v, items);
    cr_assert_eq(weir_pipeline_run(p, m, items, 4, NOW_MS, err, sizeof(err)), 0, "%s", err);
    for (int i = 0; i < 4; i++) {
        cr_assert(items[i].scored, "%s", items[i].detail);
        cr_assert_str_eq(items[i].event_id, expect[i]);
        cr_assert_float_eq(items[i].score, 1 / (1 + exp(-0.5 * i)), 1e-6);
    }
    weir_buf_dispose(&v.buf);
    weir_pipeline_destroy(p);
    avro_schema_decref(schema);
    weir_model_destroy(m);
}

/* ---- events at the datum cap ---------------------------------------- */

static const char blob_bundle[] =
    "{\"format\": \"weir.model/1\", \"name\": \"blob\", \"version\": \"1\","
    " \"task\": \"binary\", \"features\": [{\"name\": \"x\", \"source\": \"x\","
    " \"type\": \"numeric\"}], \"model\": {\"kind\": \"logistic\", \"weights\": [1.0],"
    " \"bias\": 0.0}}";
static const char blob_schema[] =
    "{\"type\": \"record\", \"name\": \"Blob\", \"fields\": [{\"name\": \"id\","
    " \"type\": \"string\"}, {\"name\": \"x\", \"type\": \"double\"}, {\"name\": \"blob\","
    " \"type\": \"string\"}]}";

/* A Blob datum of exactly @p size bytes (id "big"), or a small one (id "small")
 * when @p size is 0. */
static void blob_datum(weir_buf_t *out, size_t size)
{
    size_t blob = 0;
    weir_buf_reset(out);
    if (size > 0) {
        /* id (1 + 3 bytes), x (8), the blob's length varint (4 bytes at this size) */
        blob = size - 16;
    }
    const char *id = size > 0 ? "big" : "small";
    cr_assert_eq(weir_avro_write_long(out, (int64_t)strlen(id)), 0);
    cr_assert_eq(weir_buf_append(out, id, strlen(id)), 0);
    cr_assert_eq(weir_avro_write_double(out, 0.25), 0);
    cr_assert_eq(weir_avro_write_long(out, (int64_t)blob), 0);
    if (blob > 0) {
        cr_assert_eq(weir_buf_reserve(out, blob), 0);
        memset(out->data + out->len, 'b', blob);
        out->len += blob;
    }
    if (size > 0)
        cr_assert_eq(out->len, size);
}

Test(pipeline, a_scored_event_over_the_datum_cap_is_a_too_large_dead_letter)
{
    weir_model_t *m = NULL;
    cr_assert_eq(weir_model_parse(blob_bundle, strlen(blob_bundle), "<blob>", &m, err, sizeof(err)),
                 0, "%s", err);
    avro_schema_t schema;
    cr_assert_eq(weir_schema_parse(blob_schema, &schema, err, sizeof(err)), 0, "%s", err);
    weir_pipeline_config_t cfg = {
        .input_schema = schema,
        .input_framing = WEIR_FRAMING_RAW,
        .id_field = "id",
        .time_field = "",
        .output_framing = WEIR_FRAMING_RAW,
        .batch_max = 2,
    };
    weir_pipeline_t *p = NULL;
    cr_assert_eq(weir_pipeline_new(&cfg, &p, err, sizeof(err)), 0, "%s", err);
    /* The input is exactly at the cap, so it decodes; its ScoredEvent, which
     * nests it, is past the cap, which no reader of the output would take. */
    weir_buf_t big, small;
    weir_buf_init(&big, WEIR_AVRO_MAX_DATUM);
    weir_buf_init(&small, 1 << 10);
    blob_datum(&big, WEIR_AVRO_MAX_DATUM);
    blob_datum(&small, 0);
    weir_pipeline_item_t items[2] = {
        {.value = big.data, .value_len = big.len},
        {.value = small.data, .value_len = small.len},
    };
    cr_assert_eq(weir_pipeline_run(p, m, items, 2, NOW_MS, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(items[0].scored, 0, "the big event is not scored");
    cr_assert_eq(items[0].reason, WEIR_REASON_TOO_LARGE);
    cr_assert_str_eq(weir_reason_name(items[0].reason), "too_large");
    cr_assert(strstr(items[0].detail, "16777216"), "the detail names the cap: %s", items[0].detail);
    cr_assert(items[1].scored, "its neighbour is: %s", items[1].detail);
    cr_assert_str_eq(items[1].event_id, "small");
    cr_assert_lt(items[1].out_offset + items[1].out_len, (size_t)1 << 20,
                 "the big event left nothing in the output");
    weir_buf_dispose(&big);
    weir_buf_dispose(&small);
    weir_pipeline_destroy(p);
    avro_schema_decref(schema);
    weir_model_destroy(m);
}

/* Eight categorical features on one string field, each value 8 MiB: the
 * batch's copies of those values for drift once took 64 MiB per event. */
static const char wide_bundle[] =
    "{\"format\": \"weir.model/1\", \"name\": \"wide\", \"version\": \"1\","
    " \"task\": \"binary\", \"features\": ["
#define WIDE_FEATURE(k)                                                                            \
    "{\"name\": \"c" #k "\", \"source\": \"blob\", \"type\": \"categorical\", \"transform\":"      \
    " [{\"op\": \"one_hot\", \"categories\": [\"a\"], \"unknown\": \"ignore\"}]}"
    WIDE_FEATURE(0) "," WIDE_FEATURE(1) "," WIDE_FEATURE(2) "," WIDE_FEATURE(3) "," WIDE_FEATURE(
        4) "," WIDE_FEATURE(5) "," WIDE_FEATURE(6) "," WIDE_FEATURE(7)
#undef WIDE_FEATURE
        "], \"model\": {\"kind\": \"logistic\", \"weights\": [1, 1, 1, 1, 1, 1, 1, 1],"
        " \"bias\": 0.0}}";

Test(pipeline, large_category_values_fill_no_batch_memory_and_every_neighbour_is_scored)
{
    weir_model_t *m = NULL;
    cr_assert_eq(weir_model_parse(wide_bundle, strlen(wide_bundle), "<wide>", &m, err, sizeof(err)),
                 0, "%s", err);
    avro_schema_t schema;
    cr_assert_eq(weir_schema_parse(blob_schema, &schema, err, sizeof(err)), 0, "%s", err);
    const size_t n = 7; /* 56 MiB of input: within WEIR_PIPELINE_BATCH_BYTES */
    weir_pipeline_config_t cfg = {
        .input_schema = schema,
        .input_framing = WEIR_FRAMING_RAW,
        .id_field = "id",
        .time_field = "",
        .output_framing = WEIR_FRAMING_RAW,
        .batch_max = n,
    };
    weir_pipeline_t *p = NULL;
    cr_assert_eq(weir_pipeline_new(&cfg, &p, err, sizeof(err)), 0, "%s", err);
    weir_buf_t big;
    weir_buf_init(&big, WEIR_AVRO_MAX_DATUM);
    blob_datum(&big, (size_t)8 << 20);
    cr_assert_leq(n * big.len, WEIR_PIPELINE_BATCH_BYTES);
    weir_pipeline_item_t items[7];
    for (size_t i = 0; i < n; i++)
        items[i] = (weir_pipeline_item_t){.value = big.data, .value_len = big.len};
    cr_assert_eq(weir_pipeline_run(p, m, items, n, NOW_MS, err, sizeof(err)), 0, "%s", err);
    for (size_t i = 0; i < n; i++) {
        cr_assert(items[i].scored, "event %zu: %s (%s)", i, weir_reason_name(items[i].reason),
                  items[i].detail);
        const weir_value_t *kept = weir_pipeline_values(p, items[i].row);
        cr_assert_eq(kept[7].kind, WEIR_VALUE_STRING);
        cr_assert_eq(kept[7].length, WEIR_BUNDLE_MAX_LABEL + 1,
                     "drift keeps one byte more than any category");
    }
    weir_buf_dispose(&big);
    weir_pipeline_destroy(p);
    avro_schema_decref(schema);
    weir_model_destroy(m);
}

/* Runs the weir binary with @p args (NULL-terminated), stderr into @p err_path. */
static int run_weir(const char *const *args, const char *err_path)
{
    const char *argv[32] = {WEIR_BINARY};
    size_t n = 1;
    for (size_t i = 0; args[i]; i++) {
        cr_assert_lt(n, 30);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        if (!freopen(err_path, "w", stderr))
            _exit(127);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Test(pipeline, weir_batch_writes_an_event_too_large_to_score_as_a_dead_letter_and_goes_on)
{
    char dir[] = "/tmp/weir-test-blob-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char model[256], in[256], out[256], report[256], dlq[256], errs[256];
    snprintf(model, sizeof(model), "%s/blob.json", dir);
    snprintf(in, sizeof(in), "%s/in.avro", dir);
    snprintf(out, sizeof(out), "%s/out.avro", dir);
    snprintf(report, sizeof(report), "%s/report.json", dir);
    snprintf(dlq, sizeof(dlq), "%s/dead.jsonl", dir);
    snprintf(errs, sizeof(errs), "%s/stderr", dir);
    FILE *f = fopen(model, "w");
    cr_assert_not_null(f);
    fputs(blob_bundle, f);
    fclose(f);

    avro_schema_t schema;
    cr_assert_eq(weir_schema_parse(blob_schema, &schema, err, sizeof(err)), 0, "%s", err);
    weir_container_writer_t *w = NULL;
    cr_assert_eq(weir_container_writer_open(in, schema, "null", &w, err, sizeof(err)), 0, "%s",
                 err);
    weir_buf_t datum;
    weir_buf_init(&datum, WEIR_AVRO_MAX_DATUM);
    blob_datum(&datum, 0);
    cr_assert_eq(weir_container_writer_append(w, datum.data, datum.len), 0);
    blob_datum(&datum, WEIR_AVRO_MAX_DATUM);
    cr_assert_eq(weir_container_writer_append(w, datum.data, datum.len), 0);
    blob_datum(&datum, 0);
    cr_assert_eq(weir_container_writer_append(w, datum.data, datum.len), 0);
    cr_assert_eq(weir_container_writer_close(w, err, sizeof(err)), 0, "%s", err);
    weir_buf_dispose(&datum);
    avro_schema_decref(schema);

    int code = run_weir((const char *const[]){"batch", "--model", model, "--in", in, "--out", out,
                                              "--report", report, "--dlq", dlq, "--id-field", "id",
                                              "--time-field", "", "-q", NULL},
                        errs);
    char *stderr_text = weir_test_read_file(errs, NULL);
    cr_assert_not_null(stderr_text);
    cr_assert_eq(code, 0, "exit %d: %s", code, stderr_text);
    cr_assert(strstr(stderr_text, "3 events: 2 scored, 1 dead letters"), "%s", stderr_text);

    json_error_t error;
    json_t *rep = json_load_file(report, 0, &error);
    cr_assert_not_null(rep, "%s", error.text);
    cr_assert_eq(json_integer_value(json_object_get(rep, "events")), 3);
    cr_assert_eq(json_integer_value(json_object_get(rep, "scored")), 2);
    cr_assert_eq(json_integer_value(json_object_get(rep, "dead_letters_total")), 1);
    cr_assert_eq(
        json_integer_value(json_object_get(json_object_get(rep, "dead_letters"), "too_large")), 1);
    json_decref(rep);

    json_t *line = json_load_file(dlq, 0, &error);
    cr_assert_not_null(line, "%s", error.text);
    cr_assert_eq(json_integer_value(json_object_get(line, "index")), 1);
    cr_assert_str_eq(json_string_value(json_object_get(line, "reason")), "too_large");
    json_decref(line);

    free(stderr_text);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Runs @p n values through a pipeline reading with the decoding plan and one
 * reading avro-c values, and expects the same items and the same output. */
static void expect_same_batch(const weir_model_t *m, const values_t *v, size_t n)
{
    weir_pipeline_t *planned = new_pipeline(WEIR_FRAMING_CONFLUENT, 64);
    weir_pipeline_config_t cfg = {
        .input_schema = transaction,
        .input_framing = WEIR_FRAMING_CONFLUENT,
        .input_schema_id = 1,
        .id_field = "event_id",
        .time_field = "event_time",
        .output_framing = WEIR_FRAMING_CONFLUENT,
        .output_schema_id = 2,
        .batch_max = 64,
        .avro_values = 1,
    };
    weir_pipeline_t *generic = NULL;
    cr_assert_eq(weir_pipeline_new(&cfg, &generic, err, sizeof(err)), 0, "%s", err);
    weir_pipeline_item_t a[64], b[64];
    fill_items(v, a);
    fill_items(v, b);
    cr_assert_eq(weir_pipeline_run(planned, m, a, n, NOW_MS, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_pipeline_run(generic, m, b, n, NOW_MS, err, sizeof(err)), 0, "%s", err);
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(a[i].scored, b[i].scored, "item %zu", i);
        cr_assert_eq(a[i].reason, b[i].reason, "item %zu", i);
        cr_assert_str_eq(a[i].detail, b[i].detail, "item %zu", i);
        if (!a[i].scored)
            continue;
        cr_assert_str_eq(a[i].event_id, b[i].event_id);
        cr_assert_eq(a[i].event_time_ms, b[i].event_time_ms);
        cr_assert_eq(a[i].score, b[i].score);
        cr_assert_eq(a[i].out_len, b[i].out_len);
        cr_assert_eq(memcmp(weir_pipeline_output(planned) + a[i].out_offset,
                            weir_pipeline_output(generic) + b[i].out_offset, a[i].out_len),
                     0, "item %zu: the same scored event", i);
        size_t features = weir_model_feature_count(m);
        const weir_value_t *pa = weir_pipeline_values(planned, a[i].row);
        const weir_value_t *pb = weir_pipeline_values(generic, b[i].row);
        for (size_t f = 0; f < features; f++) {
            cr_assert_eq(pa[f].kind, pb[f].kind);
            if (pa[f].kind == WEIR_VALUE_STRING)
                cr_assert_str_eq(pa[f].string, pb[f].string);
            else
                cr_assert_eq(memcmp(&pa[f].number, &pb[f].number, sizeof(double)), 0);
        }
    }
    weir_pipeline_destroy(planned);
    weir_pipeline_destroy(generic);
}

Test(pipeline, the_decoding_plan_scores_and_refuses_as_avro_c_values_do)
{
    weir_model_t *strict[] = {load_example(), strict_age_model(), strict_currency_model()};
    for (size_t s = 0; s < 3; s++) {
        values_t v;
        values_init(&v);
        for (int i = 0; i < 24; i++) {
            tx_t t;
            make_tx(&t, i);
            if (i % 5 == 2)
                t.has_customer_age = 0; /* null: missing_value under the strict bundle */
            if (i % 6 == 1)
                t.currency = "XYZ"; /* unknown_category under the strict bundle */
            add_tx(&v, &t, WEIR_FRAMING_CONFLUENT, 1);
        }
        /* cut and changed values: the same refusals, byte for byte */
        tx_t t;
        make_tx(&t, 3);
        for (size_t cut = 0; cut < 40; cut += 3) {
            size_t i = add_tx(&v, &t, WEIR_FRAMING_CONFLUENT, 1);
            v.len[i] = cut;
        }
        expect_same_batch(strict[s], &v, v.n);
        weir_buf_dispose(&v.buf);
        weir_model_destroy(strict[s]);
    }
}

#if defined(__SANITIZE_ADDRESS__)
/* AddressSanitizer calls these on every allocation and free of the process. */
int __sanitizer_install_malloc_and_free_hooks(void (*on_malloc)(const volatile void *, size_t),
                                              void (*on_free)(const volatile void *));
static volatile size_t allocations;
static int counting;

static void on_malloc(const volatile void *p, size_t size)
{
    (void)p, (void)size;
    if (counting)
        allocations++;
}

static void on_free(const volatile void *p)
{
    (void)p;
}
#endif

Test(pipeline, allocates_nothing_per_event_once_its_buffers_have_grown)
{
#if defined(__SANITIZE_ADDRESS__)
    weir_model_t *m = load_example();
    weir_pipeline_t *p = new_pipeline(WEIR_FRAMING_CONFLUENT, 64);
    values_t v;
    values_init(&v);
    for (int i = 0; i < 64; i++) {
        tx_t t;
        make_tx(&t, i);
        add_tx(&v, &t, WEIR_FRAMING_CONFLUENT, 1);
    }
    weir_pipeline_item_t items[64];
    fill_items(&v, items);
    cr_assert_eq(weir_pipeline_run(p, m, items, v.n, NOW_MS, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(__sanitizer_install_malloc_and_free_hooks(on_malloc, on_free), 1);
    counting = 1;
    for (int round = 0; round < 3; round++) {
        fill_items(&v, items);
        weir_pipeline_run(p, m, items, v.n, NOW_MS, err, sizeof(err));
    }
    counting = 0;
    for (size_t i = 0; i < v.n; i++)
        cr_assert(items[i].scored, "item %zu: %s", i, items[i].detail);
    cr_assert_eq(allocations, 0, "%zu allocations for %zu events", (size_t)allocations, 3 * v.n);
    weir_buf_dispose(&v.buf);
    weir_pipeline_destroy(p);
    weir_model_destroy(m);
#else
    cr_skip_test("allocations are counted through AddressSanitizer's hooks (WEIR_SANITIZE=ON)");
#endif
}

/* transaction.avsc with a field appended (@p add, a JSON field) and/or one removed (@p drop). */
static char *evolved_transaction(const char *add, const char *drop)
{
    json_t *s = json_loads(weir_schema_text("transaction"), 0, NULL);
    cr_assert_not_null(s);
    json_t *fields = json_object_get(s, "fields");
    if (add)
        json_array_append_new(fields, json_loads(add, 0, NULL));
    for (size_t i = 0; drop && i < json_array_size(fields); i++)
        if (!strcmp(json_string_value(json_object_get(json_array_get(fields, i), "name")), drop))
            json_array_remove(fields, i);
    char *text = json_dumps(s, JSON_COMPACT);
    json_decref(s);
    return text;
}

Test(pipeline, events_of_a_resolved_writer_schema_score_as_the_reader_and_refused_ids_dead_letter)
{
    weir_model_t *m = load_example();
    weir_pipeline_t *p = new_pipeline(WEIR_FRAMING_CONFLUENT, 8);
    weir_writers_t *writers = NULL;
    cr_assert_eq(weir_writers_new(weir_schema_text("transaction"), &writers, err, sizeof(err)), 0);
    char *added = evolved_transaction("{\"name\":\"note\",\"type\":\"string\"}", NULL);
    char *no_amount = evolved_transaction(NULL, "amount");
    cr_assert_eq(weir_writers_add(writers, 7, added, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_writers_add(writers, 9, no_amount, err, sizeof(err)), WEIR_ESCHEMA);
    cr_assert_not_null(strstr(err, "amount"), "the refusal names the field: %s", err);
    cr_assert_eq(weir_writers_refuse(writers, 8, WEIR_REASON_UNREGISTERED, "not in the registry"),
                 0);
    weir_pipeline_use_writers(p, writers);

    values_t v, bodies;
    values_init(&v);
    values_init(&bodies);
    tx_t txs[4];
    for (int i = 0; i < 4; i++) {
        make_tx(&txs[i], i);
        add_tx(&bodies, &txs[i], WEIR_FRAMING_RAW, 0);
    }
    add_tx(&v, &txs[0], WEIR_FRAMING_CONFLUENT, 7);
    cr_assert_eq(weir_avro_write_string(&v.buf, "a note", 6), 0);
    v.len[0] = v.buf.len - v.offset[0];
    add_tx(&v, &txs[1], WEIR_FRAMING_CONFLUENT, 8);
    add_tx(&v, &txs[2], WEIR_FRAMING_CONFLUENT, 9);
    add_tx(&v, &txs[3], WEIR_FRAMING_CONFLUENT, 1);
    weir_pipeline_item_t items[4];
    fill_items(&v, items);
    cr_assert_eq(weir_pipeline_run(p, m, items, 4, NOW_MS, err, sizeof(err)), 0, "%s", err);
    /* the nested event is the reader's encoding: the note is gone */
    check_scored(p, m, &items[0], &txs[0], bodies.buf.data + bodies.offset[0], bodies.len[0]);
    cr_assert_not(items[1].scored);
    cr_assert_eq(items[1].reason, WEIR_REASON_UNREGISTERED);
    cr_assert_not(items[2].scored);
    cr_assert_eq(items[2].reason, WEIR_REASON_INCOMPATIBLE);
    cr_assert_not_null(strstr(items[2].detail, "amount"), "%s", items[2].detail);
    check_scored(p, m, &items[3], &txs[3], bodies.buf.data + bodies.offset[3], bodies.len[3]);
    free(added);
    free(no_amount);
    weir_buf_dispose(&v.buf);
    weir_buf_dispose(&bodies.buf);
    weir_pipeline_destroy(p);
    weir_writers_destroy(writers);
    weir_model_destroy(m);
}
