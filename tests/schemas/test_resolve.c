/*
 * test_resolve.c — writer -> reader resolution: the evolutions the Avro
 * specification allows are resolved (added fields with defaults, removed
 * fields, promotions, reordering, aliases, enum symbols added, unions), and
 * what it does not allow is refused naming the field.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common.h"
#include "schemas.h"

static char err[1024];

#define REC(fields)                                                                                \
    "{\"type\":\"record\",\"name\":\"Tx\",\"namespace\":\"n\",\"fields\":[" fields "]}"
#define F(name, type) "{\"name\":\"" name "\",\"type\":" type "}"

static weir_resolution_t *ok(const char *w, const char *r)
{
    weir_resolution_t *res = NULL;
    cr_assert_eq(weir_resolve_new(w, r, &res, err, sizeof(err)), 0, "%s", err);
    cr_assert_not_null(res);
    return res;
}

static void refused(const char *w, const char *r, const char *field)
{
    weir_resolution_t *res = NULL;
    cr_assert_eq(weir_resolve_new(w, r, &res, err, sizeof(err)), WEIR_ESCHEMA);
    cr_assert_null(res);
    cr_assert_not_null(strstr(err, field), "the refusal names %s: %s", field, err);
}

Test(resolve, the_same_schema_is_an_identity)
{
    const char *s = REC(F("a", "\"long\"") "," F("b", "\"string\""));
    weir_resolution_t *res = ok(s, s);
    cr_assert(weir_resolve_identity(res));
    cr_assert_eq(
        weir_resolve_defaults(res) + weir_resolve_promotions(res) + weir_resolve_skipped(res), 0);
    weir_resolve_destroy(res);
}

Test(resolve, a_reader_field_missing_from_the_writer_takes_its_default)
{
    weir_resolution_t *res =
        ok(REC(F("a", "\"long\"")),
           REC(F("a", "\"long\"") ",{\"name\":\"b\",\"type\":\"double\",\"default\":0.5}"));
    cr_assert_eq(weir_resolve_defaults(res), 1);
    cr_assert_not(weir_resolve_identity(res));
    weir_resolve_destroy(res);
}

Test(resolve, a_reader_field_missing_from_the_writer_without_default_is_refused_by_name)
{
    refused(REC(F("a", "\"long\"")), REC(F("a", "\"long\"") "," F("risk", "\"double\"")), "risk");
}

Test(resolve, writer_fields_the_reader_lacks_are_skipped)
{
    weir_resolution_t *res =
        ok(REC(F("a", "\"long\"") "," F("gone", "\"string\"")), REC(F("a", "\"long\"")));
    cr_assert_eq(weir_resolve_skipped(res), 1);
    weir_resolve_destroy(res);
}

Test(resolve, every_promotion_of_the_specification_is_resolved)
{
    const char *pairs[][2] = {{"int", "long"},     {"int", "float"},   {"int", "double"},
                              {"long", "float"},   {"long", "double"}, {"float", "double"},
                              {"string", "bytes"}, {"bytes", "string"}};
    for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
        char w[256], r[256];
        snprintf(w, sizeof(w), REC("{\"name\":\"x\",\"type\":\"%s\"}"), pairs[i][0]);
        snprintf(r, sizeof(r), REC("{\"name\":\"x\",\"type\":\"%s\"}"), pairs[i][1]);
        weir_resolution_t *res = ok(w, r);
        cr_assert_eq(weir_resolve_promotions(res), 1, "%s -> %s", pairs[i][0], pairs[i][1]);
        weir_resolve_destroy(res);
    }
}

Test(resolve, a_narrowing_is_refused_naming_the_field)
{
    refused(REC(F("amount", "\"double\"")), REC(F("amount", "\"float\"")), "amount");
    refused(REC(F("n", "\"long\"")), REC(F("n", "\"int\"")), "n");
    refused(REC(F("s", "\"string\"")), REC(F("s", "\"long\"")), "s");
}

Test(resolve, reordered_fields_are_found_by_name)
{
    weir_resolution_t *res = ok(REC(F("b", "\"string\"") "," F("a", "\"long\"")),
                                REC(F("a", "\"long\"") "," F("b", "\"string\"")));
    cr_assert_eq(weir_resolve_defaults(res) + weir_resolve_skipped(res), 0);
    weir_resolve_destroy(res);
}

Test(resolve, a_renamed_field_is_found_by_its_alias)
{
    weir_resolution_t *res =
        ok(REC(F("amt", "\"double\"")),
           REC("{\"name\":\"amount\",\"type\":\"double\",\"aliases\":[\"amt\"]}"));
    cr_assert_eq(weir_resolve_defaults(res) + weir_resolve_skipped(res), 0);
    weir_resolve_destroy(res);
}

Test(resolve, enum_symbols_added_on_either_side_are_resolved)
{
    const char *e2 = "{\"type\":\"enum\",\"name\":\"Ch\",\"symbols\":[\"web\",\"pos\"]}";
    const char *e3 = "{\"type\":\"enum\",\"name\":\"Ch\",\"symbols\":[\"web\",\"pos\",\"app\"]}";
    char w[512], r[512];
    snprintf(w, sizeof(w), REC("{\"name\":\"channel\",\"type\":%s}"), e2);
    snprintf(r, sizeof(r), REC("{\"name\":\"channel\",\"type\":%s}"), e3);
    weir_resolve_destroy(ok(w, r));
    weir_resolve_destroy(ok(r, w));
}

Test(resolve, a_record_of_another_name_is_refused)
{
    refused(REC(F("m", "{\"type\":\"record\",\"name\":\"A\",\"fields\":[]}")),
            REC(F("m", "{\"type\":\"record\",\"name\":\"B\",\"fields\":[]}")), "m");
}

Test(resolve, nested_fields_are_named_by_their_path)
{
    refused(REC(F("merchant",
                  "{\"type\":\"record\",\"name\":\"M\",\"fields\":[" F("mcc", "\"long\"") "]}")),
            REC(F("merchant",
                  "{\"type\":\"record\",\"name\":\"M\",\"fields\":[" F("mcc", "\"int\"") "]}")),
            "merchant.mcc");
}

Test(resolve, unions_resolve_branch_by_branch)
{
    /* a field made optional, and a nullable int widened */
    weir_resolve_destroy(ok(REC(F("a", "\"long\"")), REC(F("a", "[\"null\",\"long\"]"))));
    weir_resolve_destroy(ok(REC(F("a", "[\"null\",\"int\"]")), REC(F("a", "[\"null\",\"long\"]"))));
    refused(REC(F("a", "\"string\"")), REC(F("a", "[\"null\",\"long\"]")), "a");
}

Test(resolve, named_types_are_resolved_through_references)
{
    const char *w = REC(F("m", "{\"type\":\"record\",\"name\":\"M\",\"fields\":[" F(
                                   "x", "\"int\"") "]}") "," F("m2", "\"M\""));
    const char *r = REC(F("m", "{\"type\":\"record\",\"name\":\"M\",\"fields\":[" F(
                                   "x", "\"long\"") "]}") "," F("m2", "\"n.M\""));
    weir_resolution_t *res = ok(w, r);
    cr_assert_geq(weir_resolve_promotions(res), 1);
    weir_resolve_destroy(res);
}

Test(resolve, the_transaction_schema_resolves_to_itself)
{
    const char *tx = weir_schema_text("transaction");
    weir_resolution_t *res = ok(tx, tx);
    cr_assert(weir_resolve_identity(res));
    weir_resolve_destroy(res);
}

Test(resolve, text_that_is_not_a_schema_is_invalid)
{
    weir_resolution_t *res;
    cr_assert_eq(weir_resolve_new("{", REC(F("a", "\"long\"")), &res, err, sizeof(err)),
                 WEIR_EINVAL);
    cr_assert_not_null(strstr(err, "writer"));
}

Test(resolve, a_recursive_record_resolves)
{
    const char *list = "{\"type\":\"record\",\"name\":\"L\",\"fields\":[" F(
        "v", "\"int\"") ",{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}";
    const char *wider = "{\"type\":\"record\",\"name\":\"L\",\"fields\":[" F(
        "v", "\"long\"") ",{\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}";
    weir_resolve_destroy(ok(list, wider));
    refused(wider, list, "v");
}

/* ---- reading a writer's datum as the reader's -------------------------- */

/* Runs @p w -> @p r over @p in and returns the reader bytes in @p out. */
static int transcode(const char *w, const char *r, const weir_buf_t *in, weir_buf_t *out)
{
    weir_resolution_t *res = ok(w, r);
    weir_buf_init(out, 1 << 20);
    int rc = weir_resolve_read(res, in->data, in->len, out, err, sizeof(err));
    weir_resolve_destroy(res);
    return rc;
}

static void same_bytes(const weir_buf_t *got, const weir_buf_t *want)
{
    cr_assert_eq(got->len, want->len, "%zu bytes, expected %zu", got->len, want->len);
    cr_assert_eq(memcmp(got->data, want->data, got->len), 0);
}

Test(resolve_read, reorders_fields_skips_removed_ones_and_writes_added_defaults)
{
    weir_buf_t in, want, got;
    weir_buf_init(&in, 1024);
    weir_buf_init(&want, 1024);
    /* writer: a int, gone string, b string; reader: b string, a long, c double = 1.5 */
    weir_avro_write_long(&in, -7);
    weir_avro_write_string(&in, "xyz", 3);
    weir_avro_write_string(&in, "hi", 2);
    weir_avro_write_string(&want, "hi", 2);
    weir_avro_write_long(&want, -7);
    weir_avro_write_double(&want, 1.5);
    cr_assert_eq(
        transcode(REC(F("a", "\"int\"") "," F("gone", "\"string\"") "," F("b", "\"string\"")),
                  REC(F("b", "\"string\"") "," F("a", "\"long\"") ",{\"name\":\"c\","
                                                                  "\"type\":\"double\","
                                                                  "\"default\":1.5}"),
                  &in, &got),
        0, "%s", err);
    same_bytes(&got, &want);
    weir_buf_dispose(&in);
    weir_buf_dispose(&want);
    weir_buf_dispose(&got);
}

Test(resolve_read, promotes_numbers_and_strings_and_follows_aliases)
{
    weir_buf_t in, want, got;
    weir_buf_init(&in, 1024);
    weir_buf_init(&want, 1024);
    weir_avro_write_long(&in, 3);
    weir_avro_write_float(&in, 0.25f);
    weir_avro_write_string(&in, "ab", 2);
    weir_avro_write_long(&in, 1); /* union branch int */
    weir_avro_write_long(&in, 9);
    weir_avro_write_double(&want, 3.0);
    weir_avro_write_double(&want, 0.25);
    weir_avro_write_string(&want, "ab", 2);
    weir_avro_write_long(&want, 1); /* reader branch double */
    weir_avro_write_double(&want, 9.0);
    cr_assert_eq(
        transcode(
            REC(F("n", "\"int\"") "," F("f", "\"float\"") "," F("s", "\"string\"") "," F(
                "u", "[\"null\",\"int\"]")),
            REC(F("n", "\"double\"") "," F(
                "f", "\"double\"") ","
                                   "{\"name\":\"t\",\"aliases\":[\"s\"],\"type\":\"bytes\"}," F(
                                       "u", "[\"null\",\"double\"]")),
            &in, &got),
        0, "%s", err);
    same_bytes(&got, &want);
    weir_buf_dispose(&in);
    weir_buf_dispose(&want);
    weir_buf_dispose(&got);
}

Test(resolve_read, maps_enum_symbols_by_name_and_reads_arrays_and_maps_of_records)
{
    weir_buf_t in, want, got;
    weir_buf_init(&in, 1024);
    weir_buf_init(&want, 1024);
    const char *inner_w = "{\"type\":\"record\",\"name\":\"I\",\"fields\":[" F(
        "x", "\"int\"") "," F("y", "\"string\"") "]}";
    const char *inner_r =
        "{\"type\":\"record\",\"name\":\"I\",\"fields\":[" F("y", "\"string\"") "]}";
    char w[2048], r[2048];
    snprintf(
        w, sizeof(w),
        REC(F("e",
              "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"B\",\"A\"]}") ","
                                                                              "{\"name\":\"l\","
                                                                              "\"type\":{\"type\":"
                                                                              "\"array\",\"items\":"
                                                                              "%s}},"
                                                                              "{\"name\":\"m\","
                                                                              "\"type\":{\"type\":"
                                                                              "\"map\",\"values\":"
                                                                              "\"I\"}}"),
        inner_w);
    snprintf(
        r, sizeof(r),
        REC(F(
            "e",
            "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\",\"C\"]}") ","
                                                                                  "{\"name\":\"l\","
                                                                                  "\"type\":{"
                                                                                  "\"type\":"
                                                                                  "\"array\","
                                                                                  "\"items\":%s}},"
                                                                                  "{\"name\":\"m\","
                                                                                  "\"type\":{"
                                                                                  "\"type\":"
                                                                                  "\"map\","
                                                                                  "\"values\":"
                                                                                  "\"I\"}}"),
        inner_r);
    weir_avro_write_long(&in, 1);  /* A */
    weir_avro_write_long(&in, -1); /* a block of 1 item with its size */
    weir_avro_write_long(&in, 3);
    weir_avro_write_long(&in, 5);
    weir_avro_write_string(&in, "q", 1);
    weir_avro_write_long(&in, 0);
    weir_avro_write_long(&in, 1);
    weir_avro_write_string(&in, "k", 1);
    weir_avro_write_long(&in, 6);
    weir_avro_write_string(&in, "v", 1);
    weir_avro_write_long(&in, 0);
    weir_avro_write_long(&want, 0); /* A in the reader */
    weir_avro_write_long(&want, 1);
    weir_avro_write_string(&want, "q", 1);
    weir_avro_write_long(&want, 0);
    weir_avro_write_long(&want, 1);
    weir_avro_write_string(&want, "k", 1);
    weir_avro_write_string(&want, "v", 1);
    weir_avro_write_long(&want, 0);
    cr_assert_eq(transcode(w, r, &in, &got), 0, "%s", err);
    same_bytes(&got, &want);
    weir_buf_dispose(&in);
    weir_buf_dispose(&want);
    weir_buf_dispose(&got);
}

Test(resolve_read, an_enum_symbol_the_reader_lacks_without_a_default_names_the_field)
{
    weir_buf_t in, got;
    weir_buf_init(&in, 1024);
    weir_avro_write_long(&in, 1);
    cr_assert_eq(
        transcode(REC(F("kind", "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"NEW\"]}")),
                  REC(F("kind", "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}")), &in,
                  &got),
        WEIR_EDECODE);
    cr_assert_not_null(strstr(err, "kind"), "%s", err);
    weir_buf_dispose(&in);
    weir_buf_dispose(&got);
}

Test(resolve_read, a_truncated_datum_is_refused)
{
    weir_buf_t in, got;
    weir_buf_init(&in, 1024);
    weir_avro_write_long(&in, 1);
    cr_assert_eq(transcode(REC(F("a", "\"long\"") "," F("b", "\"double\"")),
                           REC(F("b", "\"double\"") "," F("a", "\"long\"")), &in, &got),
                 WEIR_EDECODE);
    weir_buf_dispose(&in);
    weir_buf_dispose(&got);
}

Test(resolve_read, a_result_that_does_not_fit_the_buffer_is_a_limit_not_a_bad_datum)
{
    weir_buf_t in, out;
    weir_buf_init(&in, 1024);
    weir_buf_init(&out, 4);
    weir_avro_write_long(&in, 1);
    weir_resolution_t *res = ok(REC(F("a", "\"int\"")), REC(F("a", "\"double\"")));
    cr_assert_eq(weir_resolve_read(res, in.data, in.len, &out, err, sizeof(err)), WEIR_ELIMIT);
    weir_resolve_destroy(res);
    weir_buf_dispose(&in);
    weir_buf_dispose(&out);
}
