/*
 * test_json.c — weir_json_to_avro(): one event given as a JSON object becomes
 * the Avro body of the input schema (read back through weir's bounded
 * reader), and every way a JSON event can be wrong is refused with the path
 * of the field at fault.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "engine.h"

static const char *schema_json =
    "{\"type\": \"record\", \"name\": \"Event\", \"fields\": ["
    "{\"name\": \"id\", \"type\": \"string\"},"
    "{\"name\": \"amount\", \"type\": \"double\"},"
    "{\"name\": \"count\", \"type\": \"int\"},"
    "{\"name\": \"big\", \"type\": \"long\"},"
    "{\"name\": \"ok\", \"type\": \"boolean\"},"
    "{\"name\": \"age\", \"type\": [\"null\", \"int\"]},"
    "{\"name\": \"kind\", \"type\": {\"type\": \"enum\", \"name\": \"Kind\", \"symbols\": [\"a\", "
    "\"b\"]}},"
    "{\"name\": \"card\", \"type\": {\"type\": \"record\", \"name\": \"Card\", \"fields\": ["
    "  {\"name\": \"country\", \"type\": \"string\"}]}},"
    "{\"name\": \"tags\", \"type\": {\"type\": \"array\", \"items\": \"string\"}},"
    "{\"name\": \"attrs\", \"type\": {\"type\": \"map\", \"values\": \"float\"}}"
    "]}";

static avro_schema_t schema;
static weir_reader_t *reader;
static weir_buf_t out;
static char err[512];

static void setup(void)
{
    cr_assert_eq(weir_schema_parse(schema_json, &schema, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_reader_new(schema, &reader, err, sizeof(err)), 0, "%s", err);
    weir_buf_init(&out, 1 << 20);
}

static void teardown(void)
{
    weir_reader_destroy(reader);
    avro_schema_decref(schema);
    weir_buf_dispose(&out);
}

TestSuite(json, .init = setup, .fini = teardown);

static int encode(const char *text)
{
    weir_buf_reset(&out);
    return weir_json_to_avro(schema, text, strlen(text), &out, err, sizeof(err));
}

static const char *good =
    "{\"id\": \"e1\", \"amount\": 12.5, \"count\": 3, \"big\": 9007199254740993, \"ok\": true,"
    " \"age\": 41, \"kind\": \"b\", \"card\": {\"country\": \"FR\"}, \"tags\": [\"x\", \"y\"],"
    " \"attrs\": {\"w\": 0.5}}";

Test(json, an_event_reads_back_field_for_field)
{
    cr_assert_eq(encode(good), 0, "%s", err);
    avro_value_t *v, f, g;
    weir_reason_t reason;
    cr_assert_eq(
        weir_reader_read(reader, out.data, out.len, 1, &v, NULL, &reason, err, sizeof(err)), 0,
        "%s", err);
    const char *s;
    size_t n;
    double d;
    int32_t i;
    int64_t l;
    int b;
    avro_value_get_by_name(v, "id", &f, NULL);
    avro_value_get_string(&f, &s, &n);
    cr_assert_str_eq(s, "e1");
    avro_value_get_by_name(v, "amount", &f, NULL);
    avro_value_get_double(&f, &d);
    cr_assert_eq(d, 12.5);
    avro_value_get_by_name(v, "count", &f, NULL);
    avro_value_get_int(&f, &i);
    cr_assert_eq(i, 3);
    avro_value_get_by_name(v, "big", &f, NULL);
    avro_value_get_long(&f, &l);
    cr_assert_eq(l, INT64_C(9007199254740993), "integers beyond 2^53 stay exact");
    avro_value_get_by_name(v, "ok", &f, NULL);
    avro_value_get_boolean(&f, &b);
    cr_assert_eq(b, 1);
    avro_value_get_by_name(v, "age", &f, NULL);
    avro_value_get_current_branch(&f, &g);
    avro_value_get_int(&g, &i);
    cr_assert_eq(i, 41);
    avro_value_get_by_name(v, "kind", &f, NULL);
    avro_value_get_enum(&f, &i);
    cr_assert_eq(i, 1);
    avro_value_get_by_name(v, "card", &f, NULL);
    avro_value_get_by_name(&f, "country", &g, NULL);
    avro_value_get_string(&g, &s, &n);
    cr_assert_str_eq(s, "FR");
    avro_value_get_by_name(v, "tags", &f, NULL);
    avro_value_get_size(&f, &n);
    cr_assert_eq(n, 2);
}

Test(json, a_nullable_field_may_be_null_or_absent_and_unions_take_avros_json_form)
{
    const char *absent = "{\"id\": \"e\", \"amount\": 1, \"count\": 0, \"big\": 0, \"ok\": false,"
                         " \"kind\": \"a\", \"card\": {\"country\": \"\"}, \"tags\": [],"
                         " \"attrs\": {}}";
    cr_assert_eq(encode(absent), 0, "%s", err);
    const char *wrapped = "{\"id\": \"e\", \"amount\": 1, \"count\": 0, \"big\": 0, \"ok\": false,"
                          " \"age\": {\"int\": 7}, \"kind\": \"a\", \"card\": {\"country\": \"\"},"
                          " \"tags\": [], \"attrs\": {}}";
    cr_assert_eq(encode(wrapped), 0, "%s", err);
}

Test(json, a_missing_field_is_named)
{
    cr_assert_eq(encode("{\"id\": \"e\"}"), WEIR_EMISSING);
    cr_assert(strstr(err, "amount"), "%s", err);
}

Test(json, a_wrong_type_names_the_field_and_both_types)
{
    char text[1024];
    snprintf(text, sizeof(text), "%s", good);
    char *at = strstr(text, "12.5");
    memcpy(at, "\"xy\"", 4);
    cr_assert_eq(encode(text), WEIR_ETYPE);
    cr_assert(strstr(err, "field amount: expected a number, got a string"), "%s", err);

    snprintf(text, sizeof(text), "%s", good);
    at = strstr(text, "\"FR\"");
    memcpy(at, "1234", 4);
    cr_assert_eq(encode(text), WEIR_ETYPE);
    cr_assert(strstr(err, "card.country"), "a nested field is named by its path: %s", err);

    cr_assert_eq(encode("{\"id\": \"e\", \"amount\": 1, \"count\": 3000000000}"), WEIR_ETYPE);
    cr_assert(strstr(err, "count"), "%s", err);
}

Test(json, an_unknown_field_or_enum_symbol_is_refused)
{
    char text[1024];
    snprintf(text, sizeof(text), "{\"amout\": 1, %s", good + 1);
    cr_assert_eq(encode(text), WEIR_ETYPE);
    cr_assert(strstr(err, "amout"), "%s", err);
    snprintf(text, sizeof(text), "%s", good);
    memcpy(strstr(text, "\"b\""), "\"z\"", 3);
    cr_assert_eq(encode(text), WEIR_ETYPE);
    cr_assert(strstr(err, "kind"), "%s", err);
}

Test(json, text_that_is_not_a_json_object_is_refused_and_nothing_is_appended)
{
    weir_buf_reset(&out);
    weir_buf_append(&out, "hdr", 3);
    cr_assert_eq(weir_json_to_avro(schema, "{\"id\": ", 7, &out, err, sizeof(err)), WEIR_EDECODE);
    cr_assert(strstr(err, "line 1"), "%s", err);
    cr_assert_eq(out.len, 3);
    cr_assert_eq(weir_json_to_avro(schema, "[1]", 3, &out, err, sizeof(err)), WEIR_ETYPE);
    cr_assert_eq(
        weir_json_to_avro(schema, "{\"id\": \"a\", \"id\": \"b\"}", 22, &out, err, sizeof(err)),
        WEIR_EDECODE, "a key given twice is refused");
    cr_assert_eq(out.len, 3);
}
