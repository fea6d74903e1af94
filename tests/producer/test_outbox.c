/*
 * test_outbox.c — the outbox keeps owned copies in order, frees what it holds
 * (headers included, unless a producer took them), and says when it holds
 * more than its soft cap.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "common.h"
#include "producer.h"

Test(outbox, keeps_copies_in_order)
{
    weir_outbox_t *o;
    cr_assert_eq(weir_outbox_new(1 << 20, &o), 0);
    char key[8] = "k1", value[16] = "first";
    cr_assert_eq(weir_outbox_push(o, NULL, NULL, key, 2, value, 5, NULL, 1), 0);
    strcpy(key, "k2");
    strcpy(value, "second");
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    rd_kafka_header_add(h, "weir.error", -1, "too_large", -1);
    cr_assert_eq(weir_outbox_push(o, NULL, NULL, key, 2, value, 6, h, 2), 0);
    strcpy(value, "changed"); /* the outbox holds its own copy */
    cr_assert_eq(weir_outbox_count(o), 2);

    weir_outbox_record_t *rec = weir_outbox_peek(o);
    cr_assert_eq(rec->token, 1);
    cr_assert_eq(rec->value_len, 5);
    cr_assert_eq(memcmp(rec->value, "first", 5), 0);
    cr_assert_null(rec->headers);
    weir_outbox_pop(o, 0);
    rec = weir_outbox_peek(o);
    cr_assert_eq(rec->token, 2);
    cr_assert_eq(memcmp(rec->key, "k2", 2), 0);
    cr_assert_eq(memcmp(rec->value, "second", 6), 0);
    cr_assert_eq(rec->headers, h);
    weir_outbox_destroy(o); /* frees the record left and its headers */
}

Test(outbox, a_record_without_key_or_value_is_kept_as_such)
{
    weir_outbox_t *o;
    cr_assert_eq(weir_outbox_new(1 << 20, &o), 0);
    cr_assert_eq(weir_outbox_push(o, NULL, NULL, NULL, 5, NULL, 7, NULL, 9), 0);
    weir_outbox_record_t *rec = weir_outbox_peek(o);
    cr_assert_null(rec->key);
    cr_assert_null(rec->value);
    cr_assert_eq(rec->key_len, 0);
    cr_assert_eq(rec->value_len, 0);
    weir_outbox_pop(o, 0);
    cr_assert_null(weir_outbox_peek(o));
    weir_outbox_pop(o, 0); /* popping an empty outbox is harmless */
    weir_outbox_destroy(o);
}

Test(outbox, reports_full_past_its_soft_cap_and_still_accepts)
{
    weir_outbox_t *o;
    cr_assert_eq(weir_outbox_new(100, &o), 0);
    char big[64] = {0};
    cr_assert_eq(weir_outbox_push(o, NULL, NULL, NULL, 0, big, 64, NULL, 1), 0);
    cr_assert_not(weir_outbox_full(o));
    cr_assert_eq(weir_outbox_push(o, NULL, NULL, NULL, 0, big, 64, NULL, 2), 0);
    cr_assert(weir_outbox_full(o), "128 bytes held past a soft cap of 100");
    weir_outbox_pop(o, 0);
    cr_assert_not(weir_outbox_full(o));
    weir_outbox_destroy(o);
}

Test(outbox, a_producer_that_took_the_headers_owns_them)
{
    weir_outbox_t *o;
    cr_assert_eq(weir_outbox_new(100, &o), 0);
    rd_kafka_headers_t *h = rd_kafka_headers_new(1);
    cr_assert_eq(weir_outbox_push(o, NULL, NULL, NULL, 0, "v", 1, h, 1), 0);
    weir_outbox_pop(o, 1);
    rd_kafka_headers_destroy(h); /* still ours: a double free would abort under ASan */
    weir_outbox_destroy(o);
}
