/*
 * test_offsets.c — the at-least-once ledger: an offset is stored only when
 * every message below it is done, failures freeze, stale tokens are ignored.
 */
#include <criterion/criterion.h>

#include "common.h"
#include "offsets.h"

static weir_offsets_t *o;
static int released;

static void count_release(void *attachment)
{
    released += *(int *)attachment;
}

static void setup(void)
{
    released = 0;
    cr_assert_eq(weir_offsets_new(1000, count_release, &o), 0);
    cr_assert_eq(weir_offsets_assign(o, "in", 0), 0);
}

static void teardown(void)
{
    weir_offsets_destroy(o);
}

TestSuite(offsets, .init = setup, .fini = teardown);

Test(offsets, stores_only_the_contiguous_done_prefix)
{
    uint64_t t[4];
    for (int i = 0; i < 4; i++)
        cr_assert_eq(weir_offsets_begin(o, "in", 0, 10 + i, &t[i]), 0);
    cr_assert_eq(weir_offsets_store_offset(o, "in", 0), -1);
    cr_assert_eq(weir_offsets_done(o, t[1], 1), 0, "10 still pending");
    cr_assert_eq(weir_offsets_done(o, t[3], 1), 0);
    cr_assert_eq(weir_offsets_store_offset(o, "in", 0), -1);
    cr_assert_eq(weir_offsets_done(o, t[0], 1), 1);
    cr_assert_eq(weir_offsets_store_offset(o, "in", 0), 12, "10 and 11 done: store 12");
    cr_assert_eq(weir_offsets_done(o, t[2], 1), 1);
    cr_assert_eq(weir_offsets_store_offset(o, "in", 0), 14);
    cr_assert_eq(weir_offsets_in_flight(o), 0);
}

Test(offsets, gaps_in_offsets_are_fine)
{
    uint64_t a, b;
    cr_assert_eq(weir_offsets_begin(o, "in", 0, 5, &a), 0);
    cr_assert_eq(weir_offsets_begin(o, "in", 0, 9, &b), 0);
    weir_offsets_done(o, a, 1);
    weir_offsets_done(o, b, 1);
    cr_assert_eq(weir_offsets_store_offset(o, "in", 0), 10);
}

Test(offsets, a_failed_delivery_freezes_the_partition)
{
    uint64_t t[3];
    for (int i = 0; i < 3; i++)
        weir_offsets_begin(o, "in", 0, i, &t[i]);
    weir_offsets_done(o, t[0], 1);
    weir_offsets_done(o, t[1], 0);
    weir_offsets_done(o, t[2], 1);
    cr_assert_eq(weir_offsets_store_offset(o, "in", 0), 1, "nothing past the failure");
    cr_assert(weir_offsets_any_failed(o));
}

Test(offsets, stale_tokens_after_revoke_are_ignored)
{
    uint64_t t;
    weir_offsets_begin(o, "in", 0, 100, &t);
    weir_offsets_revoke(o, "in", 0);
    cr_assert_eq(weir_offsets_done(o, t, 1), WEIR_ESTATE);
    cr_assert_eq(weir_offsets_assign(o, "in", 0), 0);
    cr_assert_eq(weir_offsets_done(o, t, 1), WEIR_ESTATE, "re-assignment bumps the epoch");
    cr_assert_eq(weir_offsets_store_offset(o, "in", 0), -1);
    cr_assert_eq(weir_offsets_in_flight(o), 0);
}

Test(offsets, refuses_unassigned_and_out_of_order)
{
    uint64_t t;
    cr_assert_eq(weir_offsets_begin(o, "in", 1, 0, &t), WEIR_ESTATE);
    cr_assert_eq(weir_offsets_begin(o, "in", 0, 7, &t), 0);
    cr_assert_eq(weir_offsets_begin(o, "in", 0, 7, &t), WEIR_EINVAL);
    cr_assert_eq(weir_offsets_done(o, t, 1), 1);
    cr_assert_eq(weir_offsets_done(o, t, 1), WEIR_ESTATE, "done twice");
}

Test(offsets, caps_in_flight_per_partition)
{
    uint64_t t;
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(weir_offsets_begin(o, "in", 0, i, &t), 0);
    cr_assert_eq(weir_offsets_begin(o, "in", 0, 1000, &t), WEIR_ELIMIT);
}

Test(offsets, ring_grows_and_keeps_order_across_wraps)
{
    /* Interleave begin/done so the ring wraps and grows several times. */
    uint64_t tokens[900];
    int64_t next = 0;
    size_t begun = 0, finished = 0;
    for (int round = 0; round < 30; round++) {
        for (int i = 0; i < 30; i++, begun++)
            cr_assert_eq(weir_offsets_begin(o, "in", 0, next++, &tokens[begun]), 0);
        /* finish in reverse so only the last done advances the prefix */
        for (size_t k = begun; k-- > finished + 10;)
            weir_offsets_done(o, tokens[k], 1);
        for (size_t k = finished; k < finished + 10; k++)
            weir_offsets_done(o, tokens[k], 1);
        finished = begun;
        cr_assert_eq(weir_offsets_store_offset(o, "in", 0), next);
    }
    cr_assert_eq(weir_offsets_in_flight(o), 0);
}

static int collect(void *opaque, const weir_offsets_entry_t *e)
{
    int *count = opaque;
    (*count)++;
    cr_assert_str_eq(e->topic, "in");
    return 0;
}

Test(offsets, reports_each_moved_partition_once)
{
    cr_assert_eq(weir_offsets_assign(o, "in", 3), 0);
    uint64_t a, b;
    weir_offsets_begin(o, "in", 0, 0, &a);
    weir_offsets_begin(o, "in", 3, 0, &b);
    weir_offsets_done(o, a, 1);
    weir_offsets_done(o, b, 1);
    int count = 0;
    weir_offsets_foreach_dirty(o, collect, &count);
    cr_assert_eq(count, 2);
    count = 0;
    weir_offsets_foreach_dirty(o, collect, &count);
    cr_assert_eq(count, 0);
}

Test(offsets, an_attachment_is_taken_back_or_released_exactly_once)
{
    int one = 1;
    uint64_t t[3];
    for (int i = 0; i < 3; i++)
        cr_assert_eq(weir_offsets_begin(o, "in", 0, 40 + i, &t[i]), 0);
    cr_assert_eq(weir_offsets_attach(o, t[0], &one), 0);
    cr_assert_eq(weir_offsets_attach(o, t[0], &one), WEIR_ESTATE, "one attachment per entry");
    cr_assert_eq(weir_offsets_attach(o, t[1], &one), 0);
    cr_assert_eq(weir_offsets_attach(o, t[2], &one), 0);
    cr_assert_eq(weir_offsets_detach(o, t[0]), &one, "taken back by its owner");
    cr_assert_null(weir_offsets_detach(o, t[0]));
    weir_offsets_done(o, t[1], 1);
    cr_assert_eq(released, 1, "done releases what is still attached");
    weir_offsets_revoke(o, "in", 0);
    cr_assert_eq(released, 2, "revoke releases the rest");
    cr_assert_null(weir_offsets_detach(o, t[2]), "stale after revoke");
    cr_assert_eq(weir_offsets_attach(o, t[2], &one), WEIR_ESTATE);
}

Test(offsets, attachments_survive_the_ring_growing)
{
    static int marks[300];
    uint64_t t[300];
    for (int i = 0; i < 300; i++) {
        marks[i] = 1;
        cr_assert_eq(weir_offsets_begin(o, "in", 0, i, &t[i]), 0);
        cr_assert_eq(weir_offsets_attach(o, t[i], &marks[i]), 0);
    }
    for (int i = 0; i < 300; i++)
        cr_assert_eq(weir_offsets_detach(o, t[i]), &marks[i]);
    cr_assert_eq(released, 0);
}

Test(offsets, destroy_releases_what_is_left)
{
    int one = 1;
    uint64_t t;
    weir_offsets_begin(o, "in", 0, 7, &t);
    weir_offsets_attach(o, t, &one);
    weir_offsets_destroy(o);
    cr_assert_eq(released, 1);
    cr_assert_eq(weir_offsets_new(1000, count_release, &o), 0, "for the teardown");
}

Test(offsets, lookup_names_the_source_of_a_live_token)
{
    uint64_t t;
    weir_offsets_begin(o, "in", 0, 77, &t);
    const char *topic;
    int32_t partition;
    int64_t offset;
    cr_assert_eq(weir_offsets_lookup(o, t, &topic, &partition, &offset), 0);
    cr_assert_str_eq(topic, "in");
    cr_assert_eq(partition, 0);
    cr_assert_eq(offset, 77);
    weir_offsets_done(o, t, 1);
    cr_assert_eq(weir_offsets_lookup(o, t, &topic, &partition, &offset), WEIR_ESTATE);
}

Test(offsets, room_is_what_is_left_under_the_cap)
{
    cr_assert_eq(weir_offsets_partition_room(o, "in", 0), 1000);
    uint64_t t;
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(weir_offsets_begin(o, "in", 0, i, &t), 0);
    cr_assert_eq(weir_offsets_partition_room(o, "in", 0), 0);
    cr_assert_eq(weir_offsets_begin(o, "in", 0, 1000, &t), WEIR_ELIMIT);
    cr_assert_eq(weir_offsets_partition_room(o, "other", 0), 0, "not assigned");
}
