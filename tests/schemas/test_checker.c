/*
 * test_checker.c — the bounded checker and the decoder in front of it: one
 * hand-built malicious buffer per dead-letter reason they produce, with the
 * offset and field path the detail must name, and valid data of every Avro
 * type read back through avro-c to the right values.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "schemas.h"
#include "support.h"
#include "tx_example.h"

#define DETAIL 512

static avro_schema_t parse(const char *json)
{
    avro_schema_t schema = NULL;
    char err[256];
    int rc = weir_schema_parse(json, &schema, err, sizeof(err));
    cr_assert_eq(rc, 0, "%s", err);
    return schema;
}

static weir_reader_t *reader_for(const char *json)
{
    avro_schema_t schema = parse(json);
    weir_reader_t *r = NULL;
    char err[256];
    cr_assert_eq(weir_reader_new(schema, &r, err, sizeof(err)), 0, "%s", err);
    avro_schema_decref(schema);
    return r;
}

/* Checks @p buf with exact=1 and expects a refusal with @p reason whose
 * detail contains @p needle. */
static void expect_refusal(weir_reader_t *r, const void *buf, size_t len, weir_reason_t reason,
                           const char *needle)
{
    weir_reason_t got = WEIR_REASON_NONE;
    char detail[DETAIL] = "";
    int rc = weir_reader_check(r, buf, len, 1, NULL, &got, detail, sizeof(detail));
    cr_assert_eq(rc, WEIR_EDECODE, "expected a refusal, detail \"%s\"", detail);
    cr_assert_eq(got, reason, "reason %s, expected %s (detail \"%s\")", weir_reason_name(got),
                 weir_reason_name(reason), detail);
    cr_assert(strstr(detail, needle), "detail \"%s\" lacks \"%s\"", detail, needle);
    /* weir_reader_read refuses the same way, before avro-c sees a byte. */
    avro_value_t *value = NULL;
    got = WEIR_REASON_NONE;
    rc = weir_reader_read(r, buf, len, 1, &value, NULL, &got, detail, sizeof(detail));
    cr_assert_eq(rc, WEIR_EDECODE);
    cr_assert_eq(got, reason);
}

static const char *string_record =
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"s\",\"type\":\"string\"}]}";
static const char *int_array_record =
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"xs\",\"type\":"
    "{\"type\":\"array\",\"items\":\"int\"}}]}";
static const char *null_array_record =
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"nothing\",\"type\":"
    "{\"type\":\"array\",\"items\":\"null\"}}]}";
static const char *linked_list =
    "{\"type\":\"record\",\"name\":\"Node\",\"fields\":[{\"name\":\"value\",\"type\":\"int\"},"
    "{\"name\":\"next\",\"type\":[\"null\",\"Node\"]}]}";

/* A valid Transaction, and the offsets of its fields. */
static void tx_bytes(weir_buf_t *b, int i, size_t offsets[TX_FIELDS])
{
    tx_t t;
    tx_example(&t, i);
    weir_buf_init(b, 1 << 20);
    cr_assert_eq(tx_encode(b, &t, offsets), 0);
}

static weir_reader_t *tx_reader(void)
{
    avro_schema_t schema = tx_schema();
    weir_reader_t *r = NULL;
    char err[256];
    cr_assert_not_null(schema);
    cr_assert_eq(weir_reader_new(schema, &r, err, sizeof(err)), 0, "%s", err);
    avro_schema_decref(schema);
    return r;
}

Test(checker, rejects_negative_string_length)
{
    weir_reader_t *r = reader_for(string_record);
    const uint8_t buf[] = {0x05, 'a', 'b', 'c'}; /* length -3 */
    expect_refusal(r, buf, sizeof(buf), WEIR_REASON_BAD_LENGTH,
                   "at byte 0 (s): negative string length -3");
    weir_reader_destroy(r);
}

Test(checker, rejects_a_string_cut_short_as_truncated)
{
    weir_reader_t *r = reader_for(string_record);
    const uint8_t buf[] = {0x14, 'a', 'b', 'c'}; /* length 10, 3 bytes follow */
    expect_refusal(r, buf, sizeof(buf), WEIR_REASON_TRUNCATED,
                   "at byte 0 (s): string length 10 past the end (3 bytes left)");
    weir_reader_destroy(r);
}

Test(checker, rejects_a_string_length_beyond_any_datum_as_bad_length)
{
    weir_reader_t *r = reader_for(string_record);
    /* zig-zag 2^40: a terabyte string announced in a 9-byte value */
    const uint8_t buf[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 'a', 'b', 'c'};
    expect_refusal(r, buf, sizeof(buf), WEIR_REASON_BAD_LENGTH,
                   "at byte 0 (s): string length 1099511627776 past the end (3 bytes left)");
    weir_reader_destroy(r);
}

Test(checker, rejects_an_array_block_count_of_two_to_the_62)
{
    weir_reader_t *r = reader_for(int_array_record);
    weir_buf_t b;
    weir_buf_init(&b, 64);
    weir_avro_write_long(&b, INT64_C(1) << 62);
    weir_avro_write_long(&b, 1);
    weir_avro_write_long(&b, 0);
    expect_refusal(r, b.data, b.len, WEIR_REASON_BAD_LENGTH,
                   "at byte 0 (xs): array block of 4611686018427387904 items cannot fit");
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, rejects_a_negative_block_count_whose_size_runs_past_the_end)
{
    weir_reader_t *r = reader_for(int_array_record);
    /* count -2, then a byte size of 100 with only 3 bytes left */
    const uint8_t buf[] = {0x03, 0xc8, 0x01, 0x02, 0x04, 0x00};
    expect_refusal(r, buf, sizeof(buf), WEIR_REASON_BAD_LENGTH,
                   "at byte 1 (xs): array block size 100 with 3 bytes left");
    weir_reader_destroy(r);
}

Test(checker, rejects_a_negative_block_count_whose_size_disagrees_with_its_items)
{
    weir_reader_t *r = reader_for(int_array_record);
    /* count -2, size 3, but the two ints take 2 bytes */
    const uint8_t buf[] = {0x03, 0x06, 0x02, 0x04, 0x00, 0x00};
    expect_refusal(r, buf, sizeof(buf), WEIR_REASON_BAD_LENGTH,
                   "at byte 2 (xs): array block size 3 but its items take 2 bytes");
    weir_reader_destroy(r);
}

Test(checker, rejects_a_negative_block_size)
{
    weir_reader_t *r = reader_for(int_array_record);
    const uint8_t buf[] = {0x03, 0x01, 0x02, 0x04, 0x00}; /* count -2, size -1 */
    expect_refusal(r, buf, sizeof(buf), WEIR_REASON_BAD_LENGTH, "array block size -1");
    weir_reader_destroy(r);
}

Test(checker, reads_negative_block_counts_with_their_byte_size)
{
    weir_reader_t *r = reader_for(int_array_record);
    /* block 1: count -2, size 2, items 1 and 2; block 2: count 1, item 3; end */
    const uint8_t buf[] = {0x03, 0x04, 0x02, 0x04, 0x02, 0x06, 0x00};
    avro_value_t *v = NULL;
    avro_value_t xs, item;
    weir_reason_t reason;
    char detail[DETAIL];
    size_t n = 0, consumed = 0;
    cr_assert_eq(
        weir_reader_read(r, buf, sizeof(buf), 1, &v, &consumed, &reason, detail, sizeof(detail)), 0,
        "%s", detail);
    cr_assert_eq(consumed, sizeof(buf));
    cr_assert_eq(avro_value_get_by_index(v, 0, &xs, NULL), 0);
    cr_assert_eq(avro_value_get_size(&xs, &n), 0);
    cr_assert_eq(n, 3);
    for (size_t i = 0; i < 3; i++) {
        int32_t x = 0;
        avro_value_get_by_index(&xs, i, &item, NULL);
        avro_value_get_int(&item, &x);
        cr_assert_eq(x, (int32_t)i + 1);
    }
    weir_reader_destroy(r);
}

Test(checker, rejects_a_million_and_one_items)
{
    weir_reader_t *r = reader_for(int_array_record);
    weir_buf_t b;
    weir_buf_init(&b, 2u << 20);
    weir_avro_write_long(&b, (int64_t)WEIR_AVRO_MAX_ITEMS + 1);
    cr_assert_eq(weir_buf_reserve(&b, WEIR_AVRO_MAX_ITEMS + 2), 0);
    memset(b.data + b.len, 0, WEIR_AVRO_MAX_ITEMS + 2); /* the ints, then the end */
    b.len += WEIR_AVRO_MAX_ITEMS + 2;
    expect_refusal(r, b.data, b.len, WEIR_REASON_TOO_LARGE,
                   "at byte 0 (xs): array block of 1048577 items: more than 1048576");
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, counts_items_across_blocks_against_the_cap)
{
    weir_reader_t *r = reader_for(int_array_record);
    weir_buf_t b;
    weir_reason_t reason;
    char detail[DETAIL];
    weir_buf_init(&b, 2u << 20);
    weir_avro_write_long(&b, (int64_t)WEIR_AVRO_MAX_ITEMS);
    cr_assert_eq(weir_buf_reserve(&b, WEIR_AVRO_MAX_ITEMS), 0);
    memset(b.data + b.len, 0, WEIR_AVRO_MAX_ITEMS);
    b.len += WEIR_AVRO_MAX_ITEMS;
    size_t full = b.len;
    weir_avro_write_long(&b, 0);
    /* exactly the cap passes the checker */
    cr_assert_eq(weir_reader_check(r, b.data, b.len, 1, NULL, &reason, detail, sizeof(detail)), 0,
                 "%s", detail);
    b.len = full;
    weir_avro_write_long(&b, 1);
    weir_avro_write_long(&b, 7);
    weir_avro_write_long(&b, 0);
    expect_refusal(r, b.data, b.len, WEIR_REASON_TOO_LARGE, "more than 1048576 items");
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, rejects_more_than_4096_items_that_take_no_bytes)
{
    /* Nulls fit anywhere: five bytes could otherwise claim a million of them. */
    weir_reader_t *r = reader_for(null_array_record);
    weir_buf_t b;
    weir_reason_t reason;
    char detail[DETAIL];
    weir_buf_init(&b, 64);
    weir_avro_write_long(&b, 4000);
    weir_avro_write_long(&b, 96);
    weir_avro_write_long(&b, 0);
    cr_assert_eq(weir_reader_check(r, b.data, b.len, 1, NULL, &reason, detail, sizeof(detail)), 0,
                 "%s", detail);
    b.len = 0;
    weir_avro_write_long(&b, 4000);
    weir_avro_write_long(&b, 97);
    weir_avro_write_long(&b, 0);
    expect_refusal(r, b.data, b.len, WEIR_REASON_TOO_LARGE,
                   "(nothing): array block of 97 items: more than 4096 items of no bytes");
    b.len = 0;
    weir_avro_write_long(&b, (int64_t)WEIR_AVRO_MAX_ITEMS);
    weir_avro_write_long(&b, 0);
    expect_refusal(r, b.data, b.len, WEIR_REASON_TOO_LARGE, "at byte 0 (nothing)");
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, rejects_a_union_index_out_of_range)
{
    weir_reader_t *r = tx_reader();
    weir_buf_t b;
    size_t off[TX_FIELDS];
    char needle[128];
    tx_bytes(&b, 1, off);
    b.len = off[TX_CUSTOMER_AGE];
    weir_avro_write_long(&b, 5);
    weir_avro_write_long(&b, 40);
    snprintf(needle, sizeof(needle), "at byte %zu (customer_age): union index 5 of 2 branches",
             off[TX_CUSTOMER_AGE]);
    expect_refusal(r, b.data, b.len, WEIR_REASON_BAD_UNION, needle);
    b.len = off[TX_CUSTOMER_AGE];
    weir_avro_write_long(&b, -1);
    expect_refusal(r, b.data, b.len, WEIR_REASON_BAD_UNION, "union index -1 of 2 branches");
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, rejects_an_enum_index_out_of_range)
{
    weir_reader_t *r = tx_reader();
    weir_buf_t b;
    size_t off[TX_FIELDS];
    char needle[128];
    tx_bytes(&b, 1, off);
    b.data[off[TX_CHANNEL]] = 0x0e; /* index 7 */
    snprintf(needle, sizeof(needle), "at byte %zu (channel): enum Channel index 7 of 4 symbols",
             off[TX_CHANNEL]);
    expect_refusal(r, b.data, b.len, WEIR_REASON_BAD_ENUM, needle);
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, rejects_a_truncated_double)
{
    weir_reader_t *r = tx_reader();
    weir_buf_t b;
    size_t off[TX_FIELDS];
    char needle[128];
    tx_bytes(&b, 1, off);
    snprintf(needle, sizeof(needle), "at byte %zu (amount): truncated double", off[TX_AMOUNT]);
    expect_refusal(r, b.data, off[TX_AMOUNT] + 5, WEIR_REASON_TRUNCATED, needle);
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, rejects_truncation_inside_a_varint_and_an_empty_body)
{
    weir_reader_t *r = tx_reader();
    weir_buf_t b;
    size_t off[TX_FIELDS];
    char needle[128];
    tx_bytes(&b, 1, off);
    b.len = off[TX_EVENT_TIME] + 2; /* the long takes 6 bytes */
    snprintf(needle, sizeof(needle), "at byte %zu (event_time): truncated long",
             off[TX_EVENT_TIME]);
    expect_refusal(r, b.data, b.len, WEIR_REASON_TRUNCATED, needle);
    expect_refusal(r, b.data, 0, WEIR_REASON_TRUNCATED, "at byte 0 (event_id): truncated");
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, rejects_a_varint_longer_than_ten_bytes)
{
    weir_reader_t *r = tx_reader();
    weir_buf_t b;
    size_t off[TX_FIELDS];
    tx_bytes(&b, 1, off);
    weir_buf_t bad;
    weir_buf_init(&bad, 1 << 20);
    weir_buf_append(&bad, b.data, off[TX_EVENT_TIME]);
    for (int i = 0; i < 11; i++)
        weir_buf_append(&bad, "\xff", 1);
    weir_buf_append(&bad, "\x01", 1);
    char needle[128];
    snprintf(needle, sizeof(needle), "at byte %zu (event_time): long: varint longer than 10",
             off[TX_EVENT_TIME]);
    expect_refusal(r, bad.data, bad.len, WEIR_REASON_INVALID_VALUE, needle);
    /* ten bytes, but the last carries more than bit 63 */
    bad.len = off[TX_EVENT_TIME];
    weir_buf_append(&bad, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x02", 10);
    expect_refusal(r, bad.data, bad.len, WEIR_REASON_INVALID_VALUE, "past 64 bits");
    weir_buf_dispose(&bad);
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, rejects_an_int_outside_32_bits)
{
    weir_reader_t *r = tx_reader();
    weir_buf_t b, bad;
    size_t off[TX_FIELDS];
    tx_bytes(&b, 1, off);
    weir_buf_init(&bad, 1 << 20);
    weir_buf_append(&bad, b.data, off[TX_LOCAL_HOUR]);
    weir_avro_write_long(&bad, INT64_C(1) << 31);
    weir_buf_append(&bad, b.data + off[TX_DAY_OF_WEEK], b.len - off[TX_DAY_OF_WEEK]);
    char needle[128];
    snprintf(needle, sizeof(needle), "at byte %zu (local_hour): int 2147483648 out of 32-bit",
             off[TX_LOCAL_HOUR]);
    expect_refusal(r, bad.data, bad.len, WEIR_REASON_INVALID_VALUE, needle);
    weir_buf_dispose(&bad);
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, rejects_a_boolean_that_is_not_0_or_1)
{
    weir_reader_t *r = tx_reader();
    weir_buf_t b;
    size_t off[TX_FIELDS];
    char needle[128];
    tx_bytes(&b, 1, off);
    b.data[off[TX_IS_FOREIGN]] = 2;
    snprintf(needle, sizeof(needle), "at byte %zu (is_foreign): boolean byte 0x02",
             off[TX_IS_FOREIGN]);
    expect_refusal(r, b.data, b.len, WEIR_REASON_INVALID_VALUE, needle);
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, rejects_trailing_bytes_only_when_exact)
{
    weir_reader_t *r = tx_reader();
    weir_buf_t b;
    size_t off[TX_FIELDS];
    size_t len, consumed = 0;
    char needle[128];
    weir_reason_t reason;
    char detail[DETAIL];
    tx_bytes(&b, 1, off);
    len = b.len;
    weir_buf_append(&b, "xyz", 3);
    snprintf(needle, sizeof(needle), "at byte %zu: 3 bytes after the datum", len);
    expect_refusal(r, b.data, b.len, WEIR_REASON_TRAILING_BYTES, needle);
    cr_assert_eq(weir_reader_check(r, b.data, b.len, 0, &consumed, &reason, detail, sizeof(detail)),
                 0);
    cr_assert_eq(consumed, len);
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, rejects_recursion_past_the_depth_cap)
{
    weir_reader_t *r = reader_for(linked_list);
    weir_buf_t b;
    weir_reason_t reason;
    char detail[DETAIL];
    avro_value_t *v = NULL;
    weir_buf_init(&b, 1024);
    /* Each list node is two levels (record, union): 16 nodes fit in 32. */
    for (int i = 0; i < 16; i++) {
        weir_avro_write_long(&b, i);
        weir_avro_write_long(&b, i < 15 ? 1 : 0);
    }
    cr_assert_eq(weir_reader_read(r, b.data, b.len, 1, &v, NULL, &reason, detail, sizeof(detail)),
                 0, "%s", detail);
    avro_value_t node = *v, next, branch, value;
    for (int i = 0; i < 15; i++) {
        avro_value_get_by_name(&node, "next", &next, NULL);
        cr_assert_eq(avro_value_get_current_branch(&next, &branch), 0);
        node = branch;
    }
    int32_t last = 0;
    avro_value_get_by_name(&node, "value", &value, NULL);
    avro_value_get_int(&value, &last);
    cr_assert_eq(last, 15);

    b.len = 0;
    for (int i = 0; i < 40; i++) {
        weir_avro_write_long(&b, i);
        weir_avro_write_long(&b, i < 39 ? 1 : 0);
    }
    expect_refusal(r, b.data, b.len, WEIR_REASON_TOO_LARGE, "nested deeper than 32 levels");
    expect_refusal(r, b.data, b.len, WEIR_REASON_TOO_LARGE,
                   "(next.next.next.next.next.next.next.next.next.next.next.next.next.next.next."
                   "next):");
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, rejects_a_datum_past_the_size_cap)
{
    weir_reader_t *r = reader_for(
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"blob\",\"type\":\"bytes\"}]}");
    size_t n = WEIR_AVRO_MAX_DATUM + 16;
    uint8_t *buf = calloc(1, n);
    weir_buf_t b;
    weir_reason_t reason;
    char detail[DETAIL];
    weir_buf_init(&b, 16);
    weir_avro_write_long(&b, (int64_t)n - 4);
    memcpy(buf, b.data, b.len);
    /* not exact: the walk reaches the cap */
    cr_assert_eq(weir_reader_check(r, buf, n, 0, NULL, &reason, detail, sizeof(detail)),
                 WEIR_EDECODE);
    cr_assert_eq(reason, WEIR_REASON_TOO_LARGE, "%s", detail);
    cr_assert(strstr(detail, "at byte 0 (blob): datum longer than 16777216 bytes"), "%s", detail);
    /* exact: refused before the walk */
    expect_refusal(r, buf, n, WEIR_REASON_TOO_LARGE, "at byte 0: datum of 16777232 bytes");
    free(buf);
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, names_map_keys_and_array_indexes_in_paths)
{
    weir_reader_t *r = reader_for(
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"attrs\",\"type\":{\"type\":"
        "\"map\",\"values\":{\"type\":\"array\",\"items\":[\"null\",\"double\"]}}}]}");
    weir_buf_t b;
    weir_buf_init(&b, 256);
    weir_avro_write_long(&b, 1);
    weir_avro_write_string(&b, "weights", 7);
    weir_avro_write_long(&b, 2);
    weir_avro_write_long(&b, 1);
    weir_avro_write_double(&b, 1.0);
    weir_avro_write_long(&b, 1);
    weir_buf_append(&b, "\x00\x00", 2);
    expect_refusal(r, b.data, b.len, WEIR_REASON_TRUNCATED,
                   "at byte 20 (attrs[\"weights\"][1]): truncated double");
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, rejects_a_map_key_with_a_bad_length)
{
    weir_reader_t *r = reader_for(
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"attrs\",\"type\":{\"type\":"
        "\"map\",\"values\":\"null\"}}]}");
    const uint8_t buf[] = {0x02, 0x7f, 'k', 0x00};
    expect_refusal(r, buf, sizeof(buf), WEIR_REASON_BAD_LENGTH,
                   "at byte 1 (attrs): negative map key length -64");
    weir_reader_destroy(r);
}

/* ------------------------------------------------------------------ */
/* Decoder: framing and the schema table                               */

static weir_decoder_t *tx_decoder(int32_t id)
{
    weir_decoder_t *d = NULL;
    avro_schema_t schema = tx_schema();
    char err[256];
    cr_assert_eq(weir_decoder_new(WEIR_FRAMING_CONFLUENT, &d), 0);
    cr_assert_eq(weir_decoder_add_schema(d, id, schema, err, sizeof(err)), 0, "%s", err);
    avro_schema_decref(schema);
    return d;
}

static void expect_decode_refusal(weir_decoder_t *d, const void *buf, size_t len,
                                  weir_reason_t reason, const char *needle)
{
    weir_decoded_t out;
    weir_reason_t got = WEIR_REASON_NONE;
    char detail[DETAIL] = "";
    int rc = weir_decoder_decode(d, buf, len, &out, &got, detail, sizeof(detail));
    cr_assert_eq(rc, WEIR_EDECODE);
    cr_assert_eq(got, reason, "reason %s, expected %s (detail \"%s\")", weir_reason_name(got),
                 weir_reason_name(reason), detail);
    cr_assert(strstr(detail, needle), "detail \"%s\" lacks \"%s\"", detail, needle);
}

Test(decoder, rejects_an_empty_value)
{
    weir_decoder_t *d = tx_decoder(7);
    expect_decode_refusal(d, NULL, 0, WEIR_REASON_EMPTY_VALUE, "empty value");
    expect_decode_refusal(d, "", 0, WEIR_REASON_EMPTY_VALUE, "empty value");
    weir_decoder_destroy(d);
}

Test(decoder, rejects_a_value_shorter_than_the_header)
{
    weir_decoder_t *d = tx_decoder(7);
    expect_decode_refusal(d, "\x00\x00\x00", 3, WEIR_REASON_BAD_FRAMING,
                          "value of 3 bytes is shorter than the 5-byte Confluent header");
    weir_decoder_destroy(d);
}

Test(decoder, rejects_a_bad_magic_byte)
{
    weir_decoder_t *d = tx_decoder(7);
    const char *json = "{\"event_id\":\"x\"}";
    expect_decode_refusal(d, json, strlen(json), WEIR_REASON_BAD_FRAMING,
                          "at byte 0: magic byte 0x7b, expected 0x00");
    weir_decoder_destroy(d);
}

Test(decoder, rejects_an_unknown_schema_id)
{
    weir_decoder_t *d = tx_decoder(7);
    weir_buf_t b;
    weir_buf_init(&b, 1 << 20);
    weir_framing_write(&b, WEIR_FRAMING_CONFLUENT, 70000);
    tx_t t;
    tx_example(&t, 3);
    tx_encode(&b, &t, NULL);
    expect_decode_refusal(d, b.data, b.len, WEIR_REASON_UNKNOWN_SCHEMA,
                          "schema id 70000 is not registered");
    weir_buf_dispose(&b);
    weir_decoder_destroy(d);
}

Test(decoder, counts_offsets_from_the_start_of_the_message)
{
    weir_decoder_t *d = tx_decoder(7);
    weir_buf_t b;
    size_t off[TX_FIELDS];
    char needle[128];
    tx_t t;
    tx_example(&t, 1);
    weir_buf_init(&b, 1 << 20);
    weir_framing_write(&b, WEIR_FRAMING_CONFLUENT, 7);
    tx_encode(&b, &t, off);
    b.data[5 + off[TX_CUSTOMER_AGE]] = 0x0a;
    snprintf(needle, sizeof(needle), "at byte %zu (customer_age): union index 5 of 2 branches",
             5 + off[TX_CUSTOMER_AGE]);
    expect_decode_refusal(d, b.data, b.len, WEIR_REASON_BAD_UNION, needle);
    b.data[5 + off[TX_CUSTOMER_AGE]] = 0x02;
    weir_buf_append(&b, "!", 1);
    expect_decode_refusal(d, b.data, b.len, WEIR_REASON_TRAILING_BYTES, "1 byte after the datum");
    weir_buf_dispose(&b);
    weir_decoder_destroy(d);
}

Test(decoder, decodes_a_confluent_framed_transaction)
{
    weir_decoder_t *d = tx_decoder(42);
    weir_buf_t b;
    weir_decoded_t out;
    weir_reason_t reason = WEIR_REASON_DECODE;
    char detail[DETAIL];
    tx_t t;
    tx_example(&t, 4);
    weir_buf_init(&b, 1 << 20);
    weir_framing_write(&b, WEIR_FRAMING_CONFLUENT, 42);
    cr_assert(memcmp(b.data, "\x00\x00\x00\x00\x2a", 5) == 0);
    tx_encode(&b, &t, NULL);
    cr_assert_eq(weir_decoder_decode(d, b.data, b.len, &out, &reason, detail, sizeof(detail)), 0,
                 "%s", detail);
    cr_assert_eq(reason, WEIR_REASON_NONE);
    cr_assert_eq(out.schema_id, 42);
    cr_assert_eq(out.body, b.data + 5);
    cr_assert_eq(out.body_len, b.len - 5);
    cr_assert_str_eq(avro_schema_name(out.schema), "Transaction");
    avro_value_t field;
    const char *s = NULL;
    size_t n = 0;
    cr_assert_eq(avro_value_get_by_name(out.value, "event_id", &field, NULL), 0);
    avro_value_get_string(&field, &s, &n);
    cr_assert_str_eq(s, "tx-000004");
    weir_buf_dispose(&b);
    weir_decoder_destroy(d);
}

Test(decoder, raw_framing_reads_the_whole_value_with_one_schema)
{
    weir_decoder_t *d = NULL;
    avro_schema_t schema = tx_schema();
    char err[256];
    weir_decoded_t out;
    weir_reason_t reason;
    weir_buf_t b;
    tx_t t;
    cr_assert_eq(weir_decoder_new(WEIR_FRAMING_RAW, &d), 0);
    expect_decode_refusal(d, "\x02x", 2, WEIR_REASON_UNKNOWN_SCHEMA, "no schema registered");
    cr_assert_eq(weir_decoder_add_schema(d, 99, schema, err, sizeof(err)), 0, "%s", err);
    cr_assert_eq(weir_decoder_add_schema(d, 100, schema, err, sizeof(err)), WEIR_EINVAL);
    avro_schema_decref(schema);
    tx_example(&t, 5);
    weir_buf_init(&b, 1 << 20);
    tx_encode(&b, &t, NULL);
    cr_assert_eq(weir_decoder_decode(d, b.data, b.len, &out, &reason, err, sizeof(err)), 0, "%s",
                 err);
    cr_assert_eq(out.schema_id, -1);
    cr_assert_eq(out.body, b.data);
    cr_assert_eq(out.body_len, b.len);
    weir_buf_dispose(&b);
    weir_decoder_destroy(d);
}

Test(decoder, refuses_to_register_an_id_twice)
{
    weir_decoder_t *d = tx_decoder(7);
    avro_schema_t schema = tx_schema();
    char err[256];
    cr_assert_eq(weir_decoder_add_schema(d, 7, schema, err, sizeof(err)), WEIR_EINVAL);
    cr_assert(strstr(err, "schema id 7 is already registered"), "%s", err);
    cr_assert_eq(weir_decoder_add_schema(d, 8, schema, err, sizeof(err)), 0, "%s", err);
    avro_schema_decref(schema);
    weir_decoder_destroy(d);
}

/* ------------------------------------------------------------------ */
/* Valid data of every type                                            */

static const char *everything =
    "{\"type\":\"record\",\"name\":\"Everything\",\"namespace\":\"t\",\"fields\":["
    "{\"name\":\"n\",\"type\":\"null\"},"
    "{\"name\":\"b\",\"type\":\"boolean\"},"
    "{\"name\":\"i_min\",\"type\":\"int\"},{\"name\":\"i_max\",\"type\":\"int\"},"
    "{\"name\":\"l_min\",\"type\":\"long\"},{\"name\":\"l_max\",\"type\":\"long\"},"
    "{\"name\":\"f\",\"type\":\"float\"},{\"name\":\"d\",\"type\":\"double\"},"
    "{\"name\":\"s\",\"type\":\"string\"},{\"name\":\"by\",\"type\":\"bytes\"},"
    "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"Hash\",\"size\":4}},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"Color\",\"symbols\":"
    "[\"red\",\"green\",\"blue\"]}},"
    "{\"name\":\"a\",\"type\":{\"type\":\"array\",\"items\":\"long\"}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"string\"}},"
    "{\"name\":\"u\",\"type\":[\"null\",\"string\",\"Color\"]},"
    "{\"name\":\"inner\",\"type\":{\"type\":\"record\",\"name\":\"Inner\",\"fields\":["
    "{\"name\":\"x\",\"type\":\"double\"},{\"name\":\"h\",\"type\":\"Hash\"}]}}]}";

/* One Everything datum; @p items long items, @p with_map a 2-entry map. */
static void everything_bytes(weir_buf_t *b, int items, int union_branch)
{
    weir_buf_reset(b);
    weir_avro_write_boolean(b, 1);
    weir_avro_write_long(b, INT32_MIN);
    weir_avro_write_long(b, INT32_MAX);
    weir_avro_write_long(b, INT64_MIN);
    weir_avro_write_long(b, INT64_MAX);
    weir_avro_write_float(b, -1.5f);
    weir_avro_write_double(b, 3.0e300);
    weir_avro_write_string(b, "h\xc3\xa9llo", 6);
    weir_avro_write_string(b, "\x00\x01\x02", 3);
    weir_buf_append(b, "\xde\xad\xbe\xef", 4);
    weir_avro_write_long(b, 2); /* blue */
    if (items > 0) {
        weir_avro_write_long(b, items);
        for (int i = 0; i < items; i++)
            weir_avro_write_long(b, (int64_t)i * -1000000007LL);
    }
    weir_avro_write_long(b, 0);
    weir_avro_write_long(b, 2);
    weir_avro_write_string(b, "k1", 2);
    weir_avro_write_string(b, "v1", 2);
    weir_avro_write_string(b, "k2", 2);
    weir_avro_write_string(b, "", 0);
    weir_avro_write_long(b, 0);
    weir_avro_write_long(b, union_branch);
    if (union_branch == 1)
        weir_avro_write_string(b, "branch", 6);
    else if (union_branch == 2)
        weir_avro_write_long(b, 1);
    weir_avro_write_double(b, -0.25);
    weir_buf_append(b, "\x01\x02\x03\x04", 4);
}

static avro_value_t get(avro_value_t *record, const char *name)
{
    avro_value_t field;
    cr_assert_eq(avro_value_get_by_name(record, name, &field, NULL), 0, "no field %s", name);
    return field;
}

Test(checker, reads_every_avro_type_back_through_avro_c)
{
    weir_reader_t *r = reader_for(everything);
    weir_buf_t b;
    avro_value_t *v = NULL;
    weir_reason_t reason;
    char detail[DETAIL];
    size_t consumed = 0;
    weir_buf_init(&b, 1 << 16);
    everything_bytes(&b, 3, 1);
    cr_assert_eq(
        weir_reader_read(r, b.data, b.len, 1, &v, &consumed, &reason, detail, sizeof(detail)), 0,
        "%s", detail);
    cr_assert_eq(consumed, b.len);

    avro_value_t f = get(v, "n");
    cr_assert_eq(avro_value_get_type(&f), AVRO_NULL);
    int bo = 0;
    f = get(v, "b");
    avro_value_get_boolean(&f, &bo);
    cr_assert_eq(bo, 1);
    int32_t i32 = 0;
    f = get(v, "i_min");
    avro_value_get_int(&f, &i32);
    cr_assert_eq(i32, INT32_MIN);
    f = get(v, "i_max");
    avro_value_get_int(&f, &i32);
    cr_assert_eq(i32, INT32_MAX);
    int64_t i64 = 0;
    f = get(v, "l_min");
    avro_value_get_long(&f, &i64);
    cr_assert_eq(i64, INT64_MIN);
    f = get(v, "l_max");
    avro_value_get_long(&f, &i64);
    cr_assert_eq(i64, INT64_MAX);
    float fl = 0;
    f = get(v, "f");
    avro_value_get_float(&f, &fl);
    cr_assert_eq(fl, -1.5f);
    double d = 0;
    f = get(v, "d");
    avro_value_get_double(&f, &d);
    cr_assert_eq(d, 3.0e300);
    const char *s = NULL;
    size_t n = 0;
    f = get(v, "s");
    avro_value_get_string(&f, &s, &n);
    cr_assert_eq(n, 7);
    cr_assert_str_eq(s, "h\xc3\xa9llo");
    const void *bytes = NULL;
    f = get(v, "by");
    avro_value_get_bytes(&f, &bytes, &n);
    cr_assert_eq(n, 3);
    cr_assert(memcmp(bytes, "\x00\x01\x02", 3) == 0);
    f = get(v, "fx");
    avro_value_get_fixed(&f, &bytes, &n);
    cr_assert_eq(n, 4);
    cr_assert(memcmp(bytes, "\xde\xad\xbe\xef", 4) == 0);
    int sym = -1;
    f = get(v, "e");
    avro_value_get_enum(&f, &sym);
    cr_assert_eq(sym, 2);
    f = get(v, "a");
    avro_value_get_size(&f, &n);
    cr_assert_eq(n, 3);
    for (size_t i = 0; i < 3; i++) {
        avro_value_t item;
        avro_value_get_by_index(&f, i, &item, NULL);
        avro_value_get_long(&item, &i64);
        cr_assert_eq(i64, (int64_t)i * -1000000007LL);
    }
    f = get(v, "m");
    avro_value_get_size(&f, &n);
    cr_assert_eq(n, 2);
    avro_value_t entry = get(&f, "k1");
    avro_value_get_string(&entry, &s, &n);
    cr_assert_str_eq(s, "v1");
    entry = get(&f, "k2");
    avro_value_get_string(&entry, &s, &n);
    cr_assert_str_eq(s, "");
    avro_value_t branch;
    f = get(v, "u");
    avro_value_get_discriminant(&f, &sym);
    cr_assert_eq(sym, 1);
    avro_value_get_current_branch(&f, &branch);
    avro_value_get_string(&branch, &s, &n);
    cr_assert_str_eq(s, "branch");
    avro_value_t inner = get(v, "inner");
    f = get(&inner, "x");
    avro_value_get_double(&f, &d);
    cr_assert_eq(d, -0.25);
    f = get(&inner, "h");
    avro_value_get_fixed(&f, &bytes, &n);
    cr_assert(memcmp(bytes, "\x01\x02\x03\x04", 4) == 0);

    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, reuses_the_value_without_leftovers_from_the_previous_read)
{
    weir_reader_t *r = reader_for(everything);
    weir_buf_t b;
    avro_value_t *first = NULL, *second = NULL;
    weir_reason_t reason;
    char detail[DETAIL];
    size_t n = 0;
    int sym = -1;
    weir_buf_init(&b, 1 << 16);
    everything_bytes(&b, 5, 1);
    cr_assert_eq(
        weir_reader_read(r, b.data, b.len, 1, &first, NULL, &reason, detail, sizeof(detail)), 0,
        "%s", detail);
    everything_bytes(&b, 1, 2);
    cr_assert_eq(
        weir_reader_read(r, b.data, b.len, 1, &second, NULL, &reason, detail, sizeof(detail)), 0,
        "%s", detail);
    cr_assert_eq(first, second, "one value, reused");
    avro_value_t f = get(second, "a");
    avro_value_get_size(&f, &n);
    cr_assert_eq(n, 1, "the array was reset, not appended to");
    f = get(second, "m");
    avro_value_get_size(&f, &n);
    cr_assert_eq(n, 2);
    f = get(second, "u");
    avro_value_get_discriminant(&f, &sym);
    cr_assert_eq(sym, 2);
    everything_bytes(&b, 0, 0);
    cr_assert_eq(
        weir_reader_read(r, b.data, b.len, 1, &second, NULL, &reason, detail, sizeof(detail)), 0,
        "%s", detail);
    f = get(second, "a");
    avro_value_get_size(&f, &n);
    cr_assert_eq(n, 0);
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, accepts_every_example_transaction)
{
    weir_reader_t *r = tx_reader();
    weir_buf_t b;
    weir_reason_t reason;
    char detail[DETAIL];
    weir_buf_init(&b, 1 << 20);
    for (int i = 0; i < 100; i++) {
        tx_t t;
        avro_value_t *v = NULL;
        tx_example(&t, i);
        weir_buf_reset(&b);
        tx_encode(&b, &t, NULL);
        cr_assert_eq(
            weir_reader_read(r, b.data, b.len, 1, &v, NULL, &reason, detail, sizeof(detail)), 0,
            "%s", detail);
    }
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(checker, compiles_named_type_references_and_mutual_recursion)
{
    weir_reader_t *r = reader_for(
        "{\"type\":\"record\",\"name\":\"Tree\",\"fields\":[{\"name\":\"label\",\"type\":"
        "\"string\"},{\"name\":\"children\",\"type\":{\"type\":\"array\",\"items\":"
        "{\"type\":\"record\",\"name\":\"Edge\",\"fields\":[{\"name\":\"weight\",\"type\":"
        "\"float\"},{\"name\":\"to\",\"type\":\"Tree\"}]}}}]}");
    weir_buf_t b;
    weir_reason_t reason;
    char detail[DETAIL];
    avro_value_t *v = NULL;
    weir_buf_init(&b, 256);
    weir_avro_write_string(&b, "root", 4);
    weir_avro_write_long(&b, 1);
    weir_avro_write_float(&b, 0.5f);
    weir_avro_write_string(&b, "leaf", 4);
    weir_avro_write_long(&b, 0);
    weir_avro_write_long(&b, 0);
    cr_assert_eq(weir_reader_read(r, b.data, b.len, 1, &v, NULL, &reason, detail, sizeof(detail)),
                 0, "%s", detail);
    b.data[b.len - 2] = 0x7f; /* the leaf's children count: -64, then a bad size */
    expect_refusal(r, b.data, b.len, WEIR_REASON_BAD_LENGTH, "(children[0].to.children)");
    weir_buf_dispose(&b);
    weir_reader_destroy(r);
}

Test(schema, load_file_names_the_file_in_errors)
{
    avro_schema_t schema = NULL;
    char err[256];
    cr_assert_eq(weir_schema_load_file("/nonexistent/x.avsc", &schema, err, sizeof(err)), WEIR_EIO);
    cr_assert(strstr(err, "/nonexistent/x.avsc"), "%s", err);
    char *path = weir_test_write_temp(".avsc", "{\"type\":\"record\"", 16);
    cr_assert_eq(weir_schema_load_file(path, &schema, err, sizeof(err)), WEIR_ESCHEMA);
    cr_assert(strstr(err, path), "%s", err);
    unlink(path);
    free(path);
    cr_assert_eq(weir_schema_load_file(WEIR_SOURCE_DIR "/schemas/transaction.avsc", &schema, err,
                                       sizeof(err)),
                 0, "%s", err);
    cr_assert_str_eq(avro_schema_name(schema), "Transaction");
    avro_schema_decref(schema);
}

Test(checker, compiles_and_reads_records_with_no_fields)
{
    /* The root alone, then inside another record, an array and a union. */
    weir_reader_t *r = reader_for("{\"type\":\"record\",\"name\":\"Empty\",\"fields\":[]}");
    weir_reason_t reason;
    char detail[DETAIL];
    avro_value_t *v = NULL;
    size_t consumed = 99;
    cr_assert_eq(weir_reader_read(r, NULL, 0, 1, &v, &consumed, &reason, detail, sizeof(detail)), 0,
                 "%s", detail);
    cr_assert_eq(consumed, 0);
    expect_refusal(r, "\x00", 1, WEIR_REASON_TRAILING_BYTES, "at byte 0: 1 byte after the datum");
    weir_reader_destroy(r);

    r = reader_for("{\"type\":\"record\",\"name\":\"Outer\",\"fields\":["
                   "{\"name\":\"e\",\"type\":{\"type\":\"record\",\"name\":\"E\",\"fields\":[]}},"
                   "{\"name\":\"es\",\"type\":{\"type\":\"array\",\"items\":\"E\"}},"
                   "{\"name\":\"u\",\"type\":[\"null\",\"E\"]},"
                   "{\"name\":\"x\",\"type\":\"int\"}]}");
    /* es: 3 empty records; u: branch E; x: 5 */
    cr_assert_eq(weir_reader_read(r, (const uint8_t *)"\x06\x00\x02\x0a", 4, 1, &v, NULL, &reason,
                                  detail, sizeof(detail)),
                 0, "%s", detail);
    avro_value_t es, x;
    size_t n = 0;
    int32_t i = 0;
    cr_assert_eq(avro_value_get_by_name(v, "es", &es, NULL), 0);
    avro_value_get_size(&es, &n);
    cr_assert_eq(n, 3);
    cr_assert_eq(avro_value_get_by_name(v, "x", &x, NULL), 0);
    avro_value_get_int(&x, &i);
    cr_assert_eq(i, 5);
    expect_refusal(r, "\x06\x00\x04\x0a", 4, WEIR_REASON_BAD_UNION, "(u): union index 2");
    weir_reader_destroy(r);
}

Test(schema, refuses_a_named_type_defined_twice_before_avro_c_leaks_it)
{
    /* avro-c refuses these too, but leaks the schema it was building. */
    static const struct {
        const char *json;
        const char *name;
    } twice[] = {
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"
         "\"fixed\",\"name\":\"X\",\"size\":1}},{\"name\":\"b\",\"type\":{\"type\":\"fixed\","
         "\"name\":\"X\",\"size\":1}}]}",
         "the type X is defined twice"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"
         "\"record\",\"name\":\"R\",\"fields\":[]}}]}",
         "the type R is defined twice"},
        {"{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"n\",\"fields\":[{\"name\":\"a\","
         "\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}},{\"name\":\"b\","
         "\"type\":"
         "[\"null\",{\"type\":\"enum\",\"name\":\"n.E\",\"symbols\":[\"A\"]}]}]}",
         "the type n.E is defined twice"},
        {"{\"type\":\"record\",\"name\":\"a.R\",\"fields\":[{\"name\":\"m\",\"type\":{\"type\":"
         "\"map\",\"values\":{\"type\":\"array\",\"items\":{\"type\":\"fixed\",\"name\":\"X\","
         "\"size\":1}}}},{\"name\":\"b\",\"type\":{\"type\":\"fixed\",\"name\":\"a.X\",\"size\":1}}"
         "]}",
         "the type a.X is defined twice"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"
         "\"fixed\",\"name\":\"X\",\"namespace\":\"\",\"size\":1}},{\"name\":\"b\",\"type\":{"
         "\"type\":\"fixed\",\"name\":\"X\",\"size\":1}}]}",
         "the type X is defined twice"},
    };
    for (size_t i = 0; i < sizeof(twice) / sizeof(twice[0]); i++) {
        avro_schema_t schema = NULL;
        char err[256] = "";
        cr_assert_eq(weir_schema_parse(twice[i].json, &schema, err, sizeof(err)), WEIR_ESCHEMA,
                     "case %zu", i);
        cr_assert_null(schema);
        cr_assert(strstr(err, twice[i].name), "case %zu: %s", i, err);
    }
    /* The same names in other namespaces, as avro-c qualifies them, are taken. */
    static const char *const distinct[] = {
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"
        "\"fixed\",\"name\":\"X\",\"size\":1}},{\"name\":\"b\",\"type\":{\"type\":\"fixed\","
        "\"name\":\"X\",\"namespace\":\"n\",\"size\":1}}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"n\",\"fields\":[{\"name\":\"a\","
        "\"type\":{\"type\":\"fixed\",\"name\":\"X\",\"size\":1}},{\"name\":\"b\",\"type\":{"
        "\"type\":\"fixed\",\"name\":\"X\",\"namespace\":\"\",\"size\":1}}]}",
        "{\"type\":\"record\",\"name\":\"a.R\",\"namespace\":\"b\",\"fields\":[{\"name\":\"a\","
        "\"type\":{\"type\":\"fixed\",\"name\":\"X\",\"size\":1}},{\"name\":\"b\",\"type\":{"
        "\"type\":\"fixed\",\"name\":\"b.X\",\"size\":1}}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"n\",\"fields\":[{\"name\":\"a\","
        "\"type\":{\"type\":\"record\",\"name\":\"S\",\"namespace\":\"m\",\"fields\":[{\"name\":"
        "\"x\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}}]}},{\"name\":\"b\","
        "\"type\":{\"type\":\"enum\",\"name\":\"n.E\",\"symbols\":[\"A\"]}}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"
        "\"fixed\",\"name\":\"X\",\"namespace\":\"\",\"size\":1}},{\"name\":\"b\",\"type\":{"
        "\"type\":\"fixed\",\"name\":\".X\",\"size\":1}}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"
        "\"record\",\"name\":\"I\",\"fields\":[]}},{\"name\":\"b\",\"type\":\"I\"}]}",
    };
    for (size_t i = 0; i < sizeof(distinct) / sizeof(distinct[0]); i++) {
        avro_schema_t schema = NULL;
        char err[256] = "";
        cr_assert_eq(weir_schema_parse(distinct[i], &schema, err, sizeof(err)), 0, "case %zu: %s",
                     i, err);
        avro_schema_decref(schema);
    }
}

Test(checker, refuses_schemas_whose_datums_avro_c_cannot_hold)
{
    /* avro-c cannot allocate a fixed of no bytes, nor grow an array of
     * records that hold nothing: every datum would pass the checker and then
     * be refused by avro-c (a decode_error dead letter each), so the schema
     * is refused instead. */
    static const struct {
        const char *json;
        const char *why;
    } refused[] = {
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"f\",\"type\":{\"type\":"
         "\"fixed\",\"name\":\"F\",\"size\":0}},{\"name\":\"x\",\"type\":\"int\"}]}",
         "fixed F has size 0"},
        {"{\"type\":\"fixed\",\"name\":\"F\",\"size\":0}", "fixed F has size 0"},
        {"{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"E\",\"fields\":[]}}",
         "array of E, a record that holds no data"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"
         "\"array\",\"items\":{\"type\":\"record\",\"name\":\"N\",\"fields\":[{\"name\":\"e\","
         "\"type\":{\"type\":\"record\",\"name\":\"E\",\"fields\":[]}}]}}}]}",
         "array of N, a record that holds no data"},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        avro_schema_t schema = parse(refused[i].json);
        weir_reader_t *r = NULL;
        char err[256] = "";
        cr_assert_eq(weir_reader_new(schema, &r, err, sizeof(err)), WEIR_ESCHEMA, "case %zu", i);
        cr_assert_null(r);
        cr_assert(strstr(err, refused[i].why), "case %zu: %s", i, err);
        avro_schema_decref(schema);
    }
    /* What avro-c does hold: an array of such records named by reference,
     * a map of them, an array of nulls. */
    static const char *const taken[] = {
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"e\",\"type\":{\"type\":"
        "\"record\",\"name\":\"E\",\"fields\":[]}},{\"name\":\"a\",\"type\":{\"type\":\"array\","
        "\"items\":\"E\"}}]}",
        "{\"type\":\"map\",\"values\":{\"type\":\"record\",\"name\":\"E\",\"fields\":[]}}",
        "{\"type\":\"array\",\"items\":\"null\"}",
    };
    static const uint8_t datums[][8] = {{0x02, 0x00}, {0x02, 0x02, 'k', 0x00}, {0x04, 0x00}};
    static const size_t lengths[] = {2, 4, 2};
    for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
        weir_reader_t *r = reader_for(taken[i]);
        weir_reason_t reason;
        char detail[DETAIL];
        avro_value_t *v = NULL;
        cr_assert_eq(weir_reader_read(r, datums[i], lengths[i], 1, &v, NULL, &reason, detail,
                                      sizeof(detail)),
                     0, "case %zu: %s", i, detail);
        weir_reader_destroy(r);
    }
}

Test(checker, refuses_a_record_that_contains_itself_with_nothing_in_between)
{
    /* No datum of these can end, and avro-c recursed until the stack ran out
     * making a value of one. */
    static const struct {
        const char *json;
        const char *why;
    } endless[] = {
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"v\",\"type\":\"R\"}]}",
         "record R contains itself"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},"
         "{\"name\":\"s\",\"type\":{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":"
         "\"r\",\"type\":\"R\"}]}}]}",
         "contains itself"},
        {"{\"type\":\"array\",\"items\":{\"type\":\"record\",\"name\":\"T\",\"fields\":[{\"name\":"
         "\"b\",\"type\":\"boolean\"},{\"name\":\"t\",\"type\":\"T\"}]}}",
         "record T contains itself"},
    };
    for (size_t i = 0; i < sizeof(endless) / sizeof(endless[0]); i++) {
        avro_schema_t schema = parse(endless[i].json);
        weir_reader_t *r = NULL;
        char err[256] = "";
        cr_assert_eq(weir_reader_new(schema, &r, err, sizeof(err)), WEIR_ESCHEMA, "case %zu", i);
        cr_assert(strstr(err, endless[i].why), "case %zu: %s", i, err);
        avro_schema_decref(schema);
    }
    /* Through an array, a map or a union a record may hold itself. */
    static const char *const finite[] = {
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"v\",\"type\":{\"type\":"
        "\"array\",\"items\":\"R\"}}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"v\",\"type\":{\"type\":"
        "\"map\",\"values\":\"R\"}}]}",
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"s\",\"type\":{\"type\":"
        "\"record\",\"name\":\"S\",\"fields\":[{\"name\":\"r\",\"type\":[\"null\",\"R\"]}]}}]}",
    };
    for (size_t i = 0; i < sizeof(finite) / sizeof(finite[0]); i++) {
        weir_reader_t *r = reader_for(finite[i]);
        weir_reason_t reason;
        char detail[DETAIL];
        avro_value_t *v = NULL;
        cr_assert_eq(weir_reader_read(r, (const uint8_t *)"\x00", 1, 1, &v, NULL, &reason, detail,
                                      sizeof(detail)),
                     0, "case %zu: %s", i, detail);
        weir_reader_destroy(r);
    }
}

Test(checker, refuses_schemas_whose_datums_could_not_fit_the_datum_cap)
{
    /* avro-c allocates a value's fixed bytes up front: a fixed of 22 GB made
     * weir_reader_new() allocate 22 GB before any datum arrived. */
    static const struct {
        const char *json;
        const char *why;
    } refused[] = {
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"f\",\"type\":{\"type\":"
         "\"fixed\",\"name\":\"F\",\"size\":16777217}}]}",
         "fixed F of 16777217 bytes is larger than a datum may be (16777216 bytes)"},
        {"{\"type\":\"array\",\"items\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":22222222220}}",
         "fixed F of 22222222220 bytes"},
        {"{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":"
         "\"fixed\",\"name\":\"F\",\"size\":6000000}},{\"name\":\"b\",\"type\":\"F\"},{\"name\":"
         "\"c\",\"type\":\"F\"}]}",
         "every datum of the schema takes at least 18000000 bytes"},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        avro_schema_t schema = parse(refused[i].json);
        weir_reader_t *r = NULL;
        char err[256] = "";
        cr_assert_eq(weir_reader_new(schema, &r, err, sizeof(err)), WEIR_ESCHEMA, "case %zu", i);
        cr_assert_null(r);
        cr_assert(strstr(err, refused[i].why), "case %zu: %s", i, err);
        avro_schema_decref(schema);
    }
}
