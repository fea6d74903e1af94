/*
 * test_join.c — the bounded label join: labels find their predictions once,
 * the TTL expires old predictions, a full join evicts the oldest, every
 * outcome is counted, and memory stays within the cap however many
 * predictions go through it.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "drift.h"

static void put(weir_label_join_t *j, const char *id, double score, int cls, int64_t t)
{
    cr_assert_eq(weir_label_join_put(j, id, strlen(id), score, cls, t), 0, "put %s", id);
}

static int take(weir_label_join_t *j, const char *id, double *score, int *cls, int64_t *t)
{
    return weir_label_join_take(j, id, strlen(id), score, cls, t);
}

Test(join, label_takes_its_prediction_once)
{
    weir_label_join_t *j;
    weir_label_join_counters_t c;
    double score;
    int cls;
    int64_t t;
    cr_assert_eq(weir_label_join_new(100, 60000, &j), 0);
    put(j, "tx-1", 0.9, 1, 1000);
    put(j, "tx-2", 0.1, 0, 1001);
    cr_assert_eq(take(j, "tx-1", &score, &cls, &t), 1);
    cr_assert_float_eq(score, 0.9, 0);
    cr_assert_eq(cls, 1);
    cr_assert_eq(t, 1000);
    cr_assert_eq(take(j, "tx-1", &score, &cls, &t), 0, "already taken");
    cr_assert_eq(take(j, "tx-9", &score, &cls, &t), 0, "unknown");
    weir_label_join_counters(j, &c);
    cr_assert_eq(c.pending, 1);
    cr_assert_eq(c.matched, 1);
    cr_assert_eq(c.unmatched, 2);
    weir_label_join_destroy(j);
}

Test(join, ttl_expires_predictions_at_or_before_now_minus_ttl)
{
    weir_label_join_t *j;
    weir_label_join_counters_t c;
    double score;
    int cls;
    int64_t t;
    cr_assert_eq(weir_label_join_new(100, 1000, &j), 0);
    put(j, "a", 0.1, 0, 0);
    put(j, "b", 0.2, 0, 500);
    put(j, "c", 0.3, 0, 1500);
    weir_label_join_expire(j, 1500); /* drops time <= 500 */
    weir_label_join_counters(j, &c);
    cr_assert_eq(c.expired, 2);
    cr_assert_eq(c.pending, 1);
    cr_assert_eq(take(j, "b", &score, &cls, &t), 0, "late label");
    cr_assert_eq(take(j, "c", &score, &cls, &t), 1);
    weir_label_join_destroy(j);
}

Test(join, full_join_evicts_the_oldest_prediction)
{
    weir_label_join_t *j;
    weir_label_join_counters_t c;
    double score;
    int cls;
    int64_t t;
    cr_assert_eq(weir_label_join_new(3, 1000000, &j), 0);
    put(j, "a", 0, 0, 1);
    put(j, "b", 0, 0, 2);
    put(j, "c", 0, 0, 3);
    put(j, "d", 0, 0, 4);
    weir_label_join_counters(j, &c);
    cr_assert_eq(c.evicted, 1);
    cr_assert_eq(c.pending, 3);
    cr_assert_eq(take(j, "a", &score, &cls, &t), 0);
    cr_assert_eq(take(j, "d", &score, &cls, &t), 1);
    weir_label_join_destroy(j);
}

Test(join, repeated_id_replaces_the_prediction_and_makes_it_young)
{
    weir_label_join_t *j;
    weir_label_join_counters_t c;
    double score;
    int cls;
    int64_t t;
    cr_assert_eq(weir_label_join_new(2, 1000000, &j), 0);
    put(j, "a", 0.1, 0, 1);
    put(j, "b", 0.2, 0, 2);
    put(j, "a", 0.7, 1, 3); /* a is now the newest */
    put(j, "c", 0.3, 0, 4); /* evicts b */
    weir_label_join_counters(j, &c);
    cr_assert_eq(c.replaced, 1);
    cr_assert_eq(c.evicted, 1);
    cr_assert_eq(take(j, "b", &score, &cls, &t), 0);
    cr_assert_eq(take(j, "a", &score, &cls, &t), 1);
    cr_assert_float_eq(score, 0.7, 0);
    weir_label_join_destroy(j);
}

Test(join, empty_or_too_long_ids_are_refused_and_counted)
{
    weir_label_join_t *j;
    weir_label_join_counters_t c;
    char longid[WEIR_LABEL_ID_MAX + 2];
    memset(longid, 'x', sizeof(longid));
    cr_assert_eq(weir_label_join_new(10, 1000, &j), 0);
    cr_assert_eq(weir_label_join_put(j, longid, WEIR_LABEL_ID_MAX + 1, 0, 0, 0), WEIR_ELIMIT);
    cr_assert_eq(weir_label_join_put(j, "", 0, 0, 0, 0), WEIR_ELIMIT);
    cr_assert_eq(weir_label_join_put(j, longid, WEIR_LABEL_ID_MAX, 0, 0, 0), 0, "exactly the max");
    weir_label_join_counters(j, &c);
    cr_assert_eq(c.rejected, 2);
    cr_assert_eq(c.pending, 1);
    weir_label_join_destroy(j);
    cr_assert_eq(weir_label_join_new(0, 1000, &j), WEIR_EINVAL);
    cr_assert_eq(weir_label_join_new(10, 0, &j), WEIR_EINVAL);
}

Test(join, a_million_predictions_never_hold_more_than_the_cap)
{
    weir_label_join_t *j;
    weir_label_join_counters_t c;
    char id[32];
    double score;
    int cls;
    int64_t t;
    uint64_t matched = 0;
    cr_assert_eq(weir_label_join_new(5000, 100000, &j), 0);
    for (int i = 0; i < 1000000; i++) {
        snprintf(id, sizeof(id), "tx-%d", i);
        put(j, id, i * 1e-6, i & 1, i);
        /* labels for 2 of 3 predictions, 3000 events late; the rest never come */
        if (i >= 3000 && (i - 3000) % 3 != 0) {
            snprintf(id, sizeof(id), "tx-%d", i - 3000);
            matched += (uint64_t)take(j, id, &score, &cls, &t);
        }
        if (i % 1000 == 0)
            weir_label_join_expire(j, i);
        weir_label_join_counters(j, &c);
        cr_assert_leq(c.pending, 5000);
    }
    weir_label_join_counters(j, &c);
    cr_assert_eq(c.matched, matched);
    cr_assert_gt(matched, 600000);
    cr_assert_gt(c.evicted + c.expired, 300000, "the unlabelled third leaves by cap or TTL");
    cr_assert_eq(c.matched + c.evicted + c.expired + c.pending, 1000000,
                 "every prediction is accounted for");
    weir_label_join_destroy(j);
}

Test(join, deletions_keep_every_remaining_id_findable)
{
    weir_label_join_t *j;
    char id[32];
    double score;
    int cls;
    int64_t t;
    cr_assert_eq(weir_label_join_new(4096, 1000000, &j), 0);
    for (int i = 0; i < 4000; i++) {
        snprintf(id, sizeof(id), "e%d", i);
        put(j, id, i, 0, i);
    }
    for (int i = 0; i < 4000; i += 2) {
        snprintf(id, sizeof(id), "e%d", i);
        cr_assert_eq(take(j, id, &score, &cls, &t), 1);
    }
    for (int i = 1; i < 4000; i += 2) {
        snprintf(id, sizeof(id), "e%d", i);
        cr_assert_eq(take(j, id, &score, &cls, &t), 1, "e%d lost after deletions", i);
        cr_assert_float_eq(score, i, 0);
    }
    weir_label_join_destroy(j);
}
