/*
 * test_encode.c — weir's Avro writers: the binary primitives against the
 * Avro specification's own examples, the ScoredEvent schema built around the
 * input schema, and ScoredEvent and Label bodies read back by avro-c itself
 * (not by weir's reader) field by field, the nested event included.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "schemas.h"
#include "tx_example.h"

static void assert_bytes(const weir_buf_t *b, const char *expected, size_t n)
{
    cr_assert_eq(b->len, n, "length %zu, expected %zu", b->len, n);
    cr_assert(memcmp(b->data, expected, n) == 0, "bytes differ");
}

Test(encode, writes_zigzag_varints_as_in_the_avro_spec)
{
    /* The table of the specification's "Binary Encoding" section, and extremes. */
    static const struct {
        int64_t value;
        const char *bytes;
        size_t n;
    } vectors[] = {
        {0, "\x00", 1},
        {-1, "\x01", 1},
        {1, "\x02", 1},
        {-2, "\x03", 1},
        {2, "\x04", 1},
        {-64, "\x7f", 1},
        {64, "\x80\x01", 2},
        {INT32_MAX, "\xfe\xff\xff\xff\x0f", 5},
        {INT32_MIN, "\xff\xff\xff\xff\x0f", 5},
        {INT64_MAX, "\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10},
        {INT64_MIN, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10},
    };
    weir_buf_t b;
    weir_buf_init(&b, 64);
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        weir_buf_reset(&b);
        cr_assert_eq(weir_avro_write_long(&b, vectors[i].value), 0);
        assert_bytes(&b, vectors[i].bytes, vectors[i].n);
    }
    weir_buf_dispose(&b);
}

Test(encode, writes_strings_floats_doubles_and_booleans)
{
    weir_buf_t b;
    weir_buf_init(&b, 64);
    cr_assert_eq(weir_avro_write_string(&b, "foo", 3), 0);
    assert_bytes(&b, "\x06\x66\x6f\x6f", 4); /* the spec's example */
    weir_buf_reset(&b);
    cr_assert_eq(weir_avro_write_string(&b, NULL, 0), 0);
    assert_bytes(&b, "\x00", 1);
    weir_buf_reset(&b);
    weir_avro_write_float(&b, 1.0f);
    assert_bytes(&b, "\x00\x00\x80\x3f", 4);
    weir_buf_reset(&b);
    weir_avro_write_double(&b, 1.0);
    assert_bytes(&b, "\x00\x00\x00\x00\x00\x00\xf0\x3f", 8);
    weir_buf_reset(&b);
    weir_avro_write_double(&b, -2.5);
    assert_bytes(&b, "\x00\x00\x00\x00\x00\x00\x04\xc0", 8);
    weir_buf_reset(&b);
    weir_avro_write_boolean(&b, 7);
    weir_avro_write_boolean(&b, 0);
    assert_bytes(&b, "\x01\x00", 2);
    weir_buf_dispose(&b);
}

Test(encode, writes_the_confluent_header_and_nothing_for_raw)
{
    weir_buf_t b;
    weir_buf_init(&b, 64);
    cr_assert_eq(weir_framing_write(&b, WEIR_FRAMING_CONFLUENT, 0x01020304), 0);
    assert_bytes(&b, "\x00\x01\x02\x03\x04", 5);
    weir_buf_reset(&b);
    cr_assert_eq(weir_framing_write(&b, WEIR_FRAMING_RAW, 77), 0);
    cr_assert_eq(b.len, 0);
    weir_buf_dispose(&b);
}

Test(encode, leaves_the_buffer_unchanged_when_the_cap_is_reached)
{
    weir_buf_t b;
    weir_buf_init(&b, 4);
    weir_buf_append(&b, "ab", 2);
    cr_assert_eq(weir_avro_write_string(&b, "xyz", 3), WEIR_ELIMIT);
    cr_assert_eq(b.len, 2);
    weir_scored_event_t e = {
        .event_id = "e", .event_id_len = 1, .model_name = "m", .model_version = "1"};
    cr_assert_eq(weir_scored_encode(&b, &e), WEIR_ELIMIT);
    cr_assert_eq(b.len, 2);
    weir_buf_dispose(&b);
}

/* ------------------------------------------------------------------ */
/* ScoredEvent                                                         */

static avro_schema_t scored_schema(void)
{
    avro_schema_t input = tx_schema();
    avro_schema_t scored = NULL;
    char err[256];
    cr_assert_eq(weir_scored_schema(input, &scored, err, sizeof(err)), 0, "%s", err);
    avro_schema_decref(input);
    return scored;
}

Test(encode, builds_the_scored_event_schema_around_the_input)
{
    avro_schema_t scored = scored_schema();
    static const char *fields[] = {"event_id", "event_time", "model_name", "model_version", "score",
                                   "scores",   "label",      "scored_at",  "event"};
    cr_assert_str_eq(avro_schema_name(scored), "ScoredEvent");
    cr_assert_str_eq(avro_schema_namespace(scored), "dev.weir");
    cr_assert_eq(avro_schema_record_size(scored), 9);
    for (int i = 0; i < 9; i++)
        cr_assert_str_eq(avro_schema_record_field_name(scored, i), fields[i]);
    avro_schema_t event = avro_schema_record_field_get(scored, "event");
    cr_assert(is_avro_record(event));
    cr_assert_str_eq(avro_schema_name(event), "Transaction");
    cr_assert_str_eq(avro_schema_namespace(event), "dev.weir.examples");

    /* It round-trips through JSON, as written into registries and files. */
    avro_writer_t w = NULL;
    char json[16384];
    avro_schema_t back = NULL;
    w = avro_writer_memory(json, sizeof(json) - 1);
    cr_assert_eq(avro_schema_to_json(scored, w), 0, "%s", avro_strerror());
    json[avro_writer_tell(w)] = '\0';
    avro_writer_free(w);
    cr_assert_eq(avro_schema_from_json_length(json, strlen(json), &back), 0, "%s", avro_strerror());
    cr_assert(avro_schema_equal(scored, back));
    cr_assert(strstr(json, "\"namespace\":\"dev.weir.examples\""), "%s", json);
    avro_schema_decref(back);
    avro_schema_decref(scored);
}

Test(encode, refuses_an_input_that_is_not_a_usable_record)
{
    avro_schema_t scored = NULL;
    avro_schema_t not_record = avro_schema_string();
    char err[256];
    cr_assert_eq(weir_scored_schema(not_record, &scored, err, sizeof(err)), WEIR_ESCHEMA);
    cr_assert(strstr(err, "not a record"), "%s", err);
    avro_schema_decref(not_record);
    avro_schema_t clash = avro_schema_record("ScoredEvent", "dev.weir");
    cr_assert_eq(weir_scored_schema(clash, &scored, err, sizeof(err)), WEIR_ESCHEMA);
    cr_assert(strstr(err, "may not be named dev.weir.ScoredEvent"), "%s", err);
    avro_schema_decref(clash);
}

static avro_value_t get(avro_value_t *record, const char *name)
{
    avro_value_t field;
    cr_assert_eq(avro_value_get_by_name(record, name, &field, NULL), 0, "no field %s", name);
    return field;
}

static void assert_string_field(avro_value_t *record, const char *name, const char *expected)
{
    avro_value_t f = get(record, name);
    const char *s = NULL;
    size_t n = 0;
    cr_assert_eq(avro_value_get_string(&f, &s, &n), 0);
    cr_assert_str_eq(s, expected, "%s", name);
}

static int64_t long_field(avro_value_t *record, const char *name)
{
    avro_value_t f = get(record, name);
    int64_t v = 0;
    cr_assert_eq(avro_value_get_long(&f, &v), 0, "%s", name);
    return v;
}

static int32_t int_field(avro_value_t *record, const char *name)
{
    avro_value_t f = get(record, name);
    int32_t v = 0;
    cr_assert_eq(avro_value_get_int(&f, &v), 0, "%s", name);
    return v;
}

static double double_field(avro_value_t *record, const char *name)
{
    avro_value_t f = get(record, name);
    double v = 0;
    cr_assert_eq(avro_value_get_double(&f, &v), 0, "%s", name);
    return v;
}

/* Reads @p body with avro-c alone: a generic value and a memory reader. */
static void avro_c_read(avro_schema_t schema, const weir_buf_t *body, avro_value_iface_t **iface,
                        avro_value_t *value)
{
    avro_reader_t reader = avro_reader_memory((const char *)body->data, (int64_t)body->len);
    *iface = avro_generic_class_from_schema(schema);
    cr_assert_not_null(*iface);
    cr_assert_eq(avro_generic_value_new(*iface, value), 0);
    cr_assert_eq(avro_value_read(reader, value), 0, "%s", avro_strerror());
    char extra;
    cr_assert_neq(avro_read(reader, &extra, 1), 0, "avro-c read the whole body");
    avro_reader_free(reader);
}

static void assert_transaction(avro_value_t *event, int i)
{
    tx_t t;
    tx_example(&t, i);
    assert_string_field(event, "event_id", t.event_id);
    cr_assert_eq(long_field(event, "event_time"), t.event_time);
    assert_string_field(event, "card_id", t.card_id);
    assert_string_field(event, "merchant_id", t.merchant_id);
    assert_string_field(event, "merchant_category", t.merchant_category);
    cr_assert_eq(double_field(event, "amount"), t.amount);
    assert_string_field(event, "currency", t.currency);
    assert_string_field(event, "country", t.country);
    avro_value_t f = get(event, "channel");
    int sym = -1;
    avro_value_get_enum(&f, &sym);
    cr_assert_eq(sym, t.channel);
    f = get(event, "card_present");
    int bo = -1;
    avro_value_get_boolean(&f, &bo);
    cr_assert_eq(bo, t.card_present);
    cr_assert_eq(int_field(event, "local_hour"), t.local_hour);
    cr_assert_eq(int_field(event, "day_of_week"), t.day_of_week);
    avro_value_t branch;
    f = get(event, "customer_age");
    avro_value_get_discriminant(&f, &sym);
    cr_assert_eq(sym, t.has_customer_age);
    if (t.has_customer_age) {
        int32_t age = 0;
        avro_value_get_current_branch(&f, &branch);
        avro_value_get_int(&branch, &age);
        cr_assert_eq(age, t.customer_age);
    }
    cr_assert_eq(int_field(event, "account_age_days"), t.account_age_days);
    cr_assert_eq(double_field(event, "distance_from_home_km"), t.distance_from_home_km);
    f = get(event, "seconds_since_last_tx");
    avro_value_get_discriminant(&f, &sym);
    cr_assert_eq(sym, t.has_seconds_since_last_tx);
    cr_assert_eq(int_field(event, "tx_count_24h"), t.tx_count_24h);
    cr_assert_eq(double_field(event, "amount_avg_30d"), t.amount_avg_30d);
    f = get(event, "is_foreign");
    avro_value_get_boolean(&f, &bo);
    cr_assert_eq(bo, t.is_foreign);
    f = get(event, "ip_risk_score");
    float fl = -1;
    avro_value_get_float(&f, &fl);
    cr_assert_eq(fl, t.ip_risk_score);
    cr_assert_eq(int_field(event, "chargebacks_90d"), t.chargebacks_90d);
    cr_assert_eq(double_field(event, "credit_limit"), t.credit_limit);
    cr_assert_eq(double_field(event, "balance_utilization"), t.balance_utilization);
}

Test(encode, scored_event_reads_back_through_avro_c_with_the_nested_event)
{
    avro_schema_t scored = scored_schema();
    weir_buf_t event, body;
    tx_t t;
    const float probabilities[] = {0.125f, 0.875f};
    avro_value_iface_t *iface = NULL;
    avro_value_t v;
    weir_buf_init(&event, 1 << 16);
    weir_buf_init(&body, 1 << 16);
    tx_example(&t, 4);
    cr_assert_eq(tx_encode(&event, &t, NULL), 0);

    weir_scored_event_t e = {
        .event_id = t.event_id,
        .event_id_len = strlen(t.event_id),
        .event_time_ms = t.event_time,
        .model_name = "fraud-lr",
        .model_version = "2024.06.1",
        .score = 0.875,
        .scores = probabilities,
        .n_scores = 2,
        .label = "fraud",
        .scored_at_ms = 1700000123456LL,
        .event_body = event.data,
        .event_body_len = event.len,
    };
    cr_assert_eq(weir_scored_encode(&body, &e), 0);
    avro_c_read(scored, &body, &iface, &v);

    assert_string_field(&v, "event_id", "tx-000004");
    cr_assert_eq(long_field(&v, "event_time"), t.event_time);
    assert_string_field(&v, "model_name", "fraud-lr");
    assert_string_field(&v, "model_version", "2024.06.1");
    cr_assert_eq(double_field(&v, "score"), 0.875);
    avro_value_t scores = get(&v, "scores"), item;
    size_t n = 0;
    avro_value_get_size(&scores, &n);
    cr_assert_eq(n, 2);
    double d = 0;
    avro_value_get_by_index(&scores, 0, &item, NULL);
    avro_value_get_double(&item, &d);
    cr_assert_eq(d, 0.125);
    avro_value_get_by_index(&scores, 1, &item, NULL);
    avro_value_get_double(&item, &d);
    cr_assert_eq(d, 0.875);
    avro_value_t label = get(&v, "label"), branch;
    int disc = -1;
    avro_value_get_discriminant(&label, &disc);
    cr_assert_eq(disc, 1);
    avro_value_get_current_branch(&label, &branch);
    const char *s = NULL;
    avro_value_get_string(&branch, &s, &n);
    cr_assert_str_eq(s, "fraud");
    cr_assert_eq(long_field(&v, "scored_at"), 1700000123456LL);
    avro_value_t nested = get(&v, "event");
    assert_transaction(&nested, 4);

    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    weir_buf_dispose(&event);
    weir_buf_dispose(&body);
    avro_schema_decref(scored);
}

Test(encode, scored_event_for_regression_has_no_scores_and_a_null_label)
{
    avro_schema_t scored = scored_schema();
    weir_buf_t event, body;
    tx_t t;
    avro_value_iface_t *iface = NULL;
    avro_value_t v;
    weir_buf_init(&event, 1 << 16);
    weir_buf_init(&body, 1 << 16);
    tx_example(&t, 3);
    tx_encode(&event, &t, NULL);
    weir_scored_event_t e = {
        .event_id = t.event_id,
        .event_id_len = strlen(t.event_id),
        .model_name = "amount-reg",
        .model_version = "1",
        .score = -3.5,
        .event_body = event.data,
        .event_body_len = event.len,
    };
    cr_assert_eq(weir_scored_encode(&body, &e), 0);
    avro_c_read(scored, &body, &iface, &v);
    avro_value_t scores = get(&v, "scores");
    size_t n = 99;
    avro_value_get_size(&scores, &n);
    cr_assert_eq(n, 0);
    avro_value_t label = get(&v, "label");
    int disc = -1;
    avro_value_get_discriminant(&label, &disc);
    cr_assert_eq(disc, 0);
    cr_assert_eq(double_field(&v, "score"), -3.5);
    avro_value_t nested = get(&v, "event");
    assert_transaction(&nested, 3);

    /* weir's own reader agrees, bytes for bytes. */
    weir_reader_t *r = NULL;
    char err[256];
    weir_reason_t reason;
    size_t consumed = 0;
    cr_assert_eq(weir_reader_new(scored, &r, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_reader_check(r, body.data, body.len, 1, &consumed, &reason, err, sizeof(err)),
                 0, "%s", err);
    cr_assert_eq(consumed, body.len);
    weir_reader_destroy(r);

    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    weir_buf_dispose(&event);
    weir_buf_dispose(&body);
    avro_schema_decref(scored);
}

Test(encode, refuses_a_scored_event_with_missing_pieces)
{
    weir_buf_t b;
    weir_buf_init(&b, 1024);
    weir_scored_event_t e = {
        .event_id = "e", .event_id_len = 1, .model_name = "m", .model_version = "1", .n_scores = 2};
    cr_assert_eq(weir_scored_encode(&b, &e), WEIR_EINVAL);
    e.n_scores = 0;
    e.model_name = NULL;
    cr_assert_eq(weir_scored_encode(&b, &e), WEIR_EINVAL);
    cr_assert_eq(b.len, 0);
    weir_buf_dispose(&b);
}

/* ------------------------------------------------------------------ */
/* Label                                                               */

Test(encode, label_reads_back_through_avro_c_in_both_branches)
{
    avro_schema_t schema = NULL;
    char err[256];
    cr_assert_eq(weir_schema_parse(weir_schema_text("label"), &schema, err, sizeof(err)), 0, "%s",
                 err);
    weir_buf_t b;
    weir_buf_init(&b, 1024);
    weir_label_t numeric = {
        .event_id = "tx-000009", .event_id_len = 9, .value = 1.0, .label_time_ms = 1700000999000LL};
    cr_assert_eq(weir_label_encode(&b, &numeric), 0);
    avro_value_iface_t *iface = NULL;
    avro_value_t v, branch;
    int disc = -1;
    double d = 0;
    avro_c_read(schema, &b, &iface, &v);
    assert_string_field(&v, "event_id", "tx-000009");
    avro_value_t label = get(&v, "label");
    avro_value_get_discriminant(&label, &disc);
    cr_assert_eq(disc, 0);
    avro_value_get_current_branch(&label, &branch);
    avro_value_get_double(&branch, &d);
    cr_assert_eq(d, 1.0);
    cr_assert_eq(long_field(&v, "label_time"), 1700000999000LL);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);

    weir_buf_reset(&b);
    weir_label_t text = {.event_id = "tx-1",
                         .event_id_len = 4,
                         .is_string = 1,
                         .string = "chargeback",
                         .string_len = 10,
                         .label_time_ms = -5};
    cr_assert_eq(weir_label_encode(&b, &text), 0);
    avro_c_read(schema, &b, &iface, &v);
    label = get(&v, "label");
    avro_value_get_discriminant(&label, &disc);
    cr_assert_eq(disc, 1);
    avro_value_get_current_branch(&label, &branch);
    const char *s = NULL;
    size_t n = 0;
    avro_value_get_string(&branch, &s, &n);
    cr_assert_str_eq(s, "chargeback");
    cr_assert_eq(long_field(&v, "label_time"), -5);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);

    weir_buf_dispose(&b);
    avro_schema_decref(schema);
}

static int enum_field(avro_value_t *record, const char *name)
{
    avro_value_t f = get(record, name);
    int e = -1;
    cr_assert_eq(avro_value_get_enum(&f, &e), 0);
    return e;
}

static int union_branch(avro_value_t *record, const char *name, avro_value_t *branch)
{
    avro_value_t f = get(record, name);
    int disc = -1;
    avro_value_get_discriminant(&f, &disc);
    avro_value_get_current_branch(&f, branch);
    return disc;
}

Test(encode, drift_alert_reads_back_through_avro_c_with_nulls_and_values)
{
    avro_schema_t schema = NULL;
    char err[256];
    cr_assert_eq(weir_schema_parse(weir_schema_text("drift_alert"), &schema, err, sizeof(err)), 0,
                 "%s", err);
    weir_buf_t b;
    weir_buf_init(&b, 4096);
    weir_drift_alert_t a = {.kind = 0,
                            .model_name = "fraud-lr",
                            .model_version = "1.0.0",
                            .feature = "amount",
                            .test = "ks",
                            .statistic = 0.21,
                            .p_value = 1e-9,
                            .threshold = 0.1,
                            .window_start_ms = 1000,
                            .window_end_ms = 2000,
                            .window_count = 5000,
                            .reference_size = 4999,
                            .severity = 2,
                            .instance = "host-1",
                            .detected_at_ms = 3000};
    cr_assert_eq(weir_drift_alert_encode(&b, &a), 0);
    avro_value_iface_t *iface = NULL;
    avro_value_t v, branch;
    avro_c_read(schema, &b, &iface, &v);
    cr_assert_eq(enum_field(&v, "kind"), 0);
    assert_string_field(&v, "model_name", "fraud-lr");
    cr_assert_eq(union_branch(&v, "feature", &branch), 1);
    const char *s = NULL;
    size_t n = 0;
    avro_value_get_string(&branch, &s, &n);
    cr_assert_str_eq(s, "amount");
    assert_string_field(&v, "test", "ks");
    cr_assert_eq(double_field(&v, "statistic"), 0.21);
    cr_assert_eq(union_branch(&v, "p_value", &branch), 1);
    double p = 0;
    avro_value_get_double(&branch, &p);
    cr_assert_eq(p, 1e-9);
    cr_assert_eq(long_field(&v, "window_count"), 5000);
    cr_assert_eq(long_field(&v, "reference_size"), 4999);
    cr_assert_eq(enum_field(&v, "severity"), 2);
    assert_string_field(&v, "instance", "host-1");
    cr_assert_eq(long_field(&v, "detected_at"), 3000);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);

    /* concept drift: no feature, no p-value */
    weir_buf_reset(&b);
    a.kind = 2;
    a.feature = NULL;
    a.p_value = NAN;
    a.test = "ddm";
    cr_assert_eq(weir_drift_alert_encode(&b, &a), 0);
    avro_c_read(schema, &b, &iface, &v);
    cr_assert_eq(enum_field(&v, "kind"), 2);
    cr_assert_eq(union_branch(&v, "feature", &branch), 0);
    cr_assert_eq(union_branch(&v, "p_value", &branch), 0);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);

    a.kind = 4;
    size_t before = b.len;
    cr_assert_eq(weir_drift_alert_encode(&b, &a), WEIR_EINVAL, "no such DriftKind");
    cr_assert_eq(b.len, before);
    weir_buf_dispose(&b);
    avro_schema_decref(schema);
}
