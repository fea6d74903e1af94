/*
 * test_fields.c — resolving dotted field names against a schema once and
 * reading them from decoded values: every leaf kind of transaction.avsc,
 * nullable fields in both states and both branch orders, nested records,
 * and the messages that point at the component at fault.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "schemas.h"
#include "tx_example.h"

typedef struct {
    weir_reader_t *reader;
    weir_buf_t buf;
    avro_value_t *value;
} fixture_t;

/* Decodes example transaction @p i. */
static void read_tx(fixture_t *fx, int i)
{
    tx_t t;
    weir_reason_t reason;
    char detail[256];
    tx_example(&t, i);
    weir_buf_reset(&fx->buf);
    cr_assert_eq(tx_encode(&fx->buf, &t, NULL), 0);
    cr_assert_eq(weir_reader_read(fx->reader, fx->buf.data, fx->buf.len, 1, &fx->value, NULL,
                                  &reason, detail, sizeof(detail)),
                 0, "%s", detail);
}

static void fixture_init(fixture_t *fx)
{
    avro_schema_t schema = tx_schema();
    char err[256];
    cr_assert_not_null(schema);
    cr_assert_eq(weir_reader_new(schema, &fx->reader, err, sizeof(err)), 0, "%s", err);
    avro_schema_decref(schema);
    weir_buf_init(&fx->buf, 1 << 20);
}

static void fixture_dispose(fixture_t *fx)
{
    weir_buf_dispose(&fx->buf);
    weir_reader_destroy(fx->reader);
}

static weir_field_t resolve(avro_schema_t schema, const char *name)
{
    weir_field_t f;
    char err[256];
    cr_assert_eq(weir_field_resolve(schema, name, &f, err, sizeof(err)), 0, "%s: %s", name, err);
    return f;
}

static weir_value_t get(const weir_field_t *f, avro_value_t *record)
{
    weir_value_t v;
    cr_assert_eq(weir_field_get(f, record, &v), 0);
    return v;
}

static void assert_string(weir_value_t v, const char *expected)
{
    cr_assert_eq(v.kind, WEIR_VALUE_STRING);
    cr_assert_eq(v.length, strlen(expected));
    cr_assert(memcmp(v.string, expected, v.length) == 0, "\"%.*s\" != \"%s\"", (int)v.length,
              v.string, expected);
}

Test(fields, reads_strings_and_enum_symbols_without_copying)
{
    fixture_t fx;
    fixture_init(&fx);
    avro_schema_t schema = weir_reader_schema(fx.reader);
    weir_field_t country = resolve(schema, "country");
    weir_field_t channel = resolve(schema, "channel");
    weir_field_t merchant = resolve(schema, "merchant_id");
    cr_assert_eq(country.leaf, AVRO_STRING);
    cr_assert_eq(channel.leaf, AVRO_ENUM);
    cr_assert_eq(country.nullable, 0);
    read_tx(&fx, 5);
    assert_string(get(&country, fx.value), "FR");
    assert_string(get(&channel, fx.value), "online");
    assert_string(get(&merchant, fx.value), "m-coffee");
    read_tx(&fx, 6);
    assert_string(get(&country, fx.value), "DE");
    assert_string(get(&channel, fx.value), "atm");
    assert_string(get(&merchant, fx.value), "m-electronics-and-appliances");
    fixture_dispose(&fx);
}

Test(fields, reads_numbers_booleans_and_floats)
{
    fixture_t fx;
    fixture_init(&fx);
    avro_schema_t schema = weir_reader_schema(fx.reader);
    weir_field_t amount = resolve(schema, "amount");
    weir_field_t hour = resolve(schema, "local_hour");
    weir_field_t time = resolve(schema, "event_time");
    weir_field_t present = resolve(schema, "card_present");
    weir_field_t ip = resolve(schema, "ip_risk_score");
    read_tx(&fx, 7);
    weir_value_t v = get(&amount, fx.value);
    cr_assert_eq(v.kind, WEIR_VALUE_NUMBER);
    cr_assert_eq(v.number, 12.5 + 7 * 0.25);
    cr_assert_eq(get(&hour, fx.value).number, 7);
    cr_assert_eq(get(&time, fx.value).number, 1700000007000.0);
    v = get(&present, fx.value);
    cr_assert_eq(v.kind, WEIR_VALUE_NUMBER);
    cr_assert_eq(v.number, 1.0);
    cr_assert_eq(get(&ip, fx.value).number, 0.75);
    read_tx(&fx, 8);
    cr_assert_eq(get(&present, fx.value).number, 0.0);
    cr_assert_eq(get(&ip, fx.value).number, 0.0);
    fixture_dispose(&fx);
}

Test(fields, gives_missing_for_null_and_the_number_otherwise)
{
    fixture_t fx;
    fixture_init(&fx);
    avro_schema_t schema = weir_reader_schema(fx.reader);
    weir_field_t age = resolve(schema, "customer_age");
    weir_field_t trust = resolve(schema, "device_trust_score");
    weir_field_t since = resolve(schema, "seconds_since_last_tx");
    cr_assert_eq(age.nullable, 1);
    cr_assert_eq(age.leaf, AVRO_INT32);
    cr_assert_eq(trust.leaf, AVRO_FLOAT);
    cr_assert_eq(since.leaf, AVRO_INT64);
    read_tx(&fx, 3); /* i % 3 == 0: nulls */
    cr_assert_eq(get(&age, fx.value).kind, WEIR_VALUE_MISSING);
    cr_assert_eq(get(&trust, fx.value).kind, WEIR_VALUE_MISSING);
    cr_assert_eq(get(&since, fx.value).kind, WEIR_VALUE_MISSING);
    read_tx(&fx, 4);
    weir_value_t v = get(&age, fx.value);
    cr_assert_eq(v.kind, WEIR_VALUE_NUMBER);
    cr_assert_eq(v.number, 22);
    cr_assert_eq(get(&trust, fx.value).number, 0.5 + 4 * 0.125);
    cr_assert_eq(get(&since, fx.value).number, 240);
    fixture_dispose(&fx);
}

static const char *nested =
    "{\"type\":\"record\",\"name\":\"Payment\",\"fields\":["
    "{\"name\":\"card\",\"type\":{\"type\":\"record\",\"name\":\"Card\",\"fields\":["
    "{\"name\":\"country\",\"type\":\"string\"},"
    "{\"name\":\"limit\",\"type\":[\"double\",\"null\"]},"
    "{\"name\":\"issuer\",\"type\":{\"type\":\"record\",\"name\":\"Issuer\",\"fields\":["
    "{\"name\":\"bin\",\"type\":\"long\"}]}}]}},"
    "{\"name\":\"backup\",\"type\":\"Card\"},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
    "{\"name\":\"choice\",\"type\":[\"null\",\"int\",\"string\"]},"
    "{\"name\":\"blob\",\"type\":\"bytes\"}]}";

static void put_card(weir_buf_t *b, const char *country, int has_limit, double limit, int64_t bin)
{
    weir_avro_write_string(b, country, strlen(country));
    weir_avro_write_long(b, has_limit ? 0 : 1); /* ["double", "null"]: null is branch 1 */
    if (has_limit)
        weir_avro_write_double(b, limit);
    weir_avro_write_long(b, bin);
}

Test(fields, follows_dotted_paths_through_nested_and_named_records)
{
    avro_schema_t schema = NULL;
    weir_reader_t *r = NULL;
    weir_buf_t b;
    avro_value_t *v = NULL;
    weir_reason_t reason;
    char err[256];
    cr_assert_eq(weir_schema_parse(nested, &schema, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_reader_new(schema, &r, err, sizeof(err)), 0, "%s", err);
    weir_field_t country = resolve(schema, "card.country");
    weir_field_t limit = resolve(schema, "card.limit");
    weir_field_t bin = resolve(schema, "card.issuer.bin");
    weir_field_t backup_bin = resolve(schema, "backup.issuer.bin");
    weir_field_t backup_limit = resolve(schema, "backup.limit");
    cr_assert_eq(bin.depth, 3);
    cr_assert_eq(limit.nullable, 1);
    cr_assert_eq(limit.leaf, AVRO_DOUBLE);

    weir_buf_init(&b, 1024);
    put_card(&b, "NL", 1, 2500.0, 424242);
    put_card(&b, "BE", 0, 0, 515151);
    weir_avro_write_long(&b, 0);
    weir_avro_write_long(&b, 0);
    weir_avro_write_string(&b, "", 0);
    cr_assert_eq(weir_reader_read(r, b.data, b.len, 1, &v, NULL, &reason, err, sizeof(err)), 0,
                 "%s", err);
    assert_string(get(&country, v), "NL");
    cr_assert_eq(get(&limit, v).number, 2500.0);
    cr_assert_eq(get(&bin, v).number, 424242);
    cr_assert_eq(get(&backup_bin, v).number, 515151);
    cr_assert_eq(get(&backup_limit, v).kind, WEIR_VALUE_MISSING);

    weir_buf_dispose(&b);
    weir_reader_destroy(r);
    avro_schema_decref(schema);
}

static void expect_error(avro_schema_t schema, const char *name, const char *message)
{
    weir_field_t f;
    char err[256] = "";
    cr_assert_eq(weir_field_resolve(schema, name, &f, err, sizeof(err)), WEIR_ESCHEMA, "%s", name);
    cr_assert_str_eq(err, message);
}

Test(fields, names_the_component_at_fault)
{
    avro_schema_t tx = tx_schema();
    avro_schema_t schema = NULL;
    char err[256];
    cr_assert_eq(weir_schema_parse(nested, &schema, err, sizeof(err)), 0, "%s", err);
    expect_error(tx, "amout", "no field \"amout\" in record Transaction");
    expect_error(tx, "amount.cents", "field \"amount\" is a double: not a record");
    expect_error(schema, "card.contry", "no field \"contry\" in record Card");
    expect_error(schema, "tags", "field \"tags\" is an array: not a primitive");
    expect_error(schema, "card", "field \"card\" is a record: not a primitive");
    expect_error(schema, "blob", "field \"blob\" is bytes: not a primitive");
    expect_error(schema, "choice",
                 "field \"choice\" is a union: only null and one primitive or enum are "
                 "supported");
    expect_error(schema, "card..country", "field \"card..country\": bad component \"\"");
    expect_error(schema, "", "empty field name");
    expect_error(schema, "a.b.c.d.e.f.g.h.i", "no field \"a\" in record Payment");
    expect_error(schema, "card.issuer.bin.x.y.z.w.v.u", "field \"bin\" is a long: not a record");
    avro_schema_decref(schema);
    avro_schema_decref(tx);
}

Test(fields, refuses_paths_deeper_than_the_cap)
{
    /* nine nested records */
    char json[2048] = "";
    char path[64] = "";
    for (int i = 0; i < 9; i++) {
        char part[128];
        snprintf(part, sizeof(part),
                 "{\"type\":\"record\",\"name\":\"L%d\",\"fields\":[{\"name\":\"f\",\"type\":", i);
        strcat(json, part);
        strcat(path, i ? ".f" : "f");
    }
    strcat(json, "\"int\"");
    for (int i = 0; i < 9; i++)
        strcat(json, "}]}");
    avro_schema_t schema = NULL;
    char err[256];
    cr_assert_eq(weir_schema_parse(json, &schema, err, sizeof(err)), 0, "%s", err);
    weir_field_t f;
    cr_assert_eq(weir_field_resolve(schema, path, &f, err, sizeof(err)), WEIR_ESCHEMA);
    cr_assert(strstr(err, "more than 8 components"), "%s", err);
    avro_schema_decref(schema);
}

Test(fields, refuses_a_schema_that_is_not_a_record)
{
    avro_schema_t schema = avro_schema_int();
    weir_field_t f;
    char err[256];
    cr_assert_eq(weir_field_resolve(schema, "x", &f, err, sizeof(err)), WEIR_ESCHEMA);
    cr_assert(strstr(err, "not a record"), "%s", err);
    avro_schema_decref(schema);
}
