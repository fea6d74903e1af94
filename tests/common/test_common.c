/*
 * test_common.c — the shared buffer, arena, duration parser and reason names.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "common.h"

Test(buf, refuses_to_grow_past_its_cap)
{
    weir_buf_t b;
    weir_buf_init(&b, 10);
    cr_assert_eq(weir_buf_append(&b, "0123456789", 10), 0);
    cr_assert_eq(weir_buf_append(&b, "x", 1), WEIR_ELIMIT);
    cr_assert_eq(b.len, 10);
    weir_buf_reset(&b);
    cr_assert_eq(weir_buf_append(&b, "abc", 3), 0);
    cr_assert(memcmp(b.data, "abc", 3) == 0);
    weir_buf_dispose(&b);
}

Test(arena, reuses_blocks_after_reset_and_respects_cap)
{
    weir_arena_t a;
    weir_arena_init(&a, 1024, 4096);
    void *first = weir_arena_alloc(&a, 100);
    cr_assert_not_null(first);
    cr_assert_eq((uintptr_t)first % 16, 0);
    for (int i = 0; i < 20; i++)
        cr_assert_not_null(weir_arena_alloc(&a, 150));
    size_t reserved = a.reserved;
    weir_arena_reset(&a);
    cr_assert_eq(weir_arena_alloc(&a, 100), first, "the first block is reused");
    for (int i = 0; i < 20; i++)
        cr_assert_not_null(weir_arena_alloc(&a, 150));
    cr_assert_eq(a.reserved, reserved, "a steady state allocates nothing new");
    cr_assert_null(weir_arena_alloc(&a, 8192), "past the cap");
    char *s = weir_arena_strndup(&a, "hello world", 5);
    cr_assert_str_eq(s, "hello");
    weir_arena_dispose(&a);
}

Test(duration, parses_units_and_rejects_garbage)
{
    int64_t ms;
    cr_assert_eq(weir_parse_duration_ms("24h", &ms), 0);
    cr_assert_eq(ms, 24LL * 3600 * 1000);
    cr_assert_eq(weir_parse_duration_ms("250ms", &ms), 0);
    cr_assert_eq(ms, 250);
    cr_assert_eq(weir_parse_duration_ms("1500", &ms), 0);
    cr_assert_eq(ms, 1500);
    cr_assert_eq(weir_parse_duration_ms("1.5s", &ms), 0);
    cr_assert_eq(ms, 1500);
    cr_assert_eq(weir_parse_duration_ms("7d", &ms), 0);
    cr_assert_eq(ms, 7LL * 86400 * 1000);
    cr_assert_eq(weir_parse_duration_ms("5 parsecs", &ms), WEIR_EINVAL);
    cr_assert_eq(weir_parse_duration_ms("-3s", &ms), WEIR_EINVAL);
    cr_assert_eq(weir_parse_duration_ms("", &ms), WEIR_EINVAL);
}

Test(reason, names_are_stable_codes)
{
    cr_assert_str_eq(weir_reason_name(WEIR_REASON_BAD_FRAMING), "bad_framing");
    cr_assert_str_eq(weir_reason_name(WEIR_REASON_UNKNOWN_SCHEMA), "unknown_schema_id");
    cr_assert_str_eq(weir_reason_name(WEIR_REASON_MISSING_VALUE), "missing_value");
    cr_assert_str_eq(weir_reason_name(WEIR_REASON__COUNT), "unknown");
    for (int r = 0; r < WEIR_REASON__COUNT; r++)
        cr_assert_neq(strcmp(weir_reason_name((weir_reason_t)r), "unknown"), 0, "reason %d", r);
}

Test(errors, every_code_has_a_name)
{
    for (int c = WEIR_ESTATE; c <= 0; c++)
        cr_assert_neq(strcmp(weir_strerror(c), "unknown error"), 0, "code %d", c);
}

Test(clock, wall_time_is_epoch_milliseconds_and_monotonic_time_never_goes_back)
{
    int64_t wall = weir_clock_wall_ms();
    int64_t expected = (int64_t)time(NULL) * 1000;
    cr_assert(wall >= expected - 1000 && wall <= expected + 2000, "wall %lld", (long long)wall);
    int64_t a = weir_clock_mono_ms();
    double as = weir_clock_mono_s();
    for (int i = 0; i < 100000; i++)
        cr_assert_geq(weir_clock_mono_ms(), a);
    cr_assert_geq(weir_clock_mono_s(), as);
    cr_assert_lt(weir_clock_mono_s() - (double)weir_clock_mono_ms() / 1000.0, 0.01,
                 "both monotonic readings share one clock");
}
