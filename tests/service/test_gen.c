/*
 * test_gen.c — `weir gen` as a user runs it (the built binary, container
 * files read back through weir_container_reader): deterministic for a seed,
 * about 1% fraud, labels that match the events, shifts that change only the
 * shifted field, a concept change that changes only fraud events, and usage
 * errors that exit 2 with a message.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "schemas.h"
#include "support.h"

static char *dir;
static char err[1024];

static void setup(void)
{
    dir = weir_it_tmpdir();
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(dir);
}

TestSuite(gen, .init = setup, .fini = teardown);

static const char *path_of(const char *name)
{
    static __thread char path[2][512];
    static __thread int which;
    which ^= 1;
    snprintf(path[which], sizeof(path[which]), "%s/%s", dir, name);
    return path[which];
}

/* Runs `weir gen ARGS...` (NULL-terminated); stdout+stderr go to dir/NAME.log. */
static int gen_run(const char *log_name, const char *const args[])
{
    const char *argv[40] = {WEIR_BINARY, "gen"};
    size_t n = 2;
    for (size_t i = 0; args[i]; i++) {
        cr_assert_lt(n, 38);
        argv[n++] = args[i];
    }
    argv[n] = NULL;
    char log[512];
    snprintf(log, sizeof(log), "%s/%s.log", dir, log_name);
    unlink(log);
    return weir_it_run(argv, log, 120000);
}

/* Generates @p count events into dir/@p name with @p seed and extra options. */
static const char *gen_file(const char *name, const char *count, const char *seed,
                            const char *const extra[])
{
    char out[600];
    snprintf(out, sizeof(out), "file:%s", path_of(name));
    const char *args[32] = {"--out", out, "--count", count, "--seed", seed, "-q"};
    size_t n = 7;
    for (size_t i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    int code = gen_run(name, args);
    cr_assert_eq(code, 0, "weir gen %s exited %d", name, code);
    return path_of(name);
}

static char *log_text(const char *name)
{
    char log[512];
    snprintf(log, sizeof(log), "%s/%s.log", dir, name);
    char *text = weir_test_read_file(log, NULL);
    cr_assert_not_null(text, "%s", log);
    return text;
}

/* ---- reading events back ------------------------------------------ */

typedef struct {
    weir_container_reader_t *r;
    avro_value_t *value;
    const uint8_t *body;
    size_t len;
} events_t;

static void events_open(events_t *e, const char *path)
{
    memset(e, 0, sizeof(*e));
    cr_assert_eq(weir_container_reader_open(path, &e->r, err, sizeof(err)), 0, "%s", err);
}

/* Reads the next event; returns 0 at the end. */
static int events_next(events_t *e)
{
    size_t skipped = 0;
    weir_reason_t reason;
    char detail[256];
    int got = weir_container_reader_next(e->r, &e->value, &e->body, &e->len, &skipped, &reason,
                                         detail, sizeof(detail));
    cr_assert(got == 0 || got == 1, "a bad datum in weir gen output: %s", detail);
    return got;
}

static weir_value_t field(events_t *e, const char *name)
{
    weir_field_t f;
    cr_assert_eq(weir_field_resolve(weir_container_reader_schema(e->r), name, &f, err, sizeof(err)),
                 0, "%s", err);
    weir_value_t v;
    cr_assert_eq(weir_field_get(&f, e->value, &v), 0, "%s", name);
    return v;
}

static int field_is(events_t *e, const char *name, const char *s)
{
    weir_value_t v = field(e, name);
    return v.kind == WEIR_VALUE_STRING && v.length == strlen(s) && !memcmp(v.string, s, v.length);
}

/* Compares two events field by field; returns how many fields differ and
 * the name of the last one in @p which. */
static int differing_fields(events_t *a, events_t *b, const char **which)
{
    size_t n = 0;
    cr_assert_eq(avro_value_get_size(a->value, &n), 0);
    int differ = 0;
    for (size_t i = 0; i < n; i++) {
        avro_value_t fa, fb;
        const char *name = NULL;
        avro_value_get_by_index(a->value, i, &fa, &name);
        avro_value_get_by_index(b->value, i, &fb, NULL);
        if (!avro_value_equal_fast(&fa, &fb)) {
            differ++;
            *which = name;
        }
    }
    return differ;
}

static uint64_t count_events(const char *path)
{
    events_t e;
    events_open(&e, path);
    uint64_t n = 0;
    while (events_next(&e))
        n++;
    weir_container_reader_close(e.r);
    return n;
}

/* ---- determinism --------------------------------------------------- */

Test(gen, the_same_seed_gives_the_same_events_and_another_seed_others)
{
    const char *a = strdup(gen_file("a.avro", "5000", "9", NULL));
    const char *b = strdup(gen_file("b.avro", "5000", "9", NULL));
    const char *c = strdup(gen_file("c.avro", "5000", "10", NULL));
    /* Container files carry a random sync marker, so the files are compared
     * datum by datum; their sizes must match too. */
    struct stat sa, sb;
    cr_assert_eq(stat(a, &sa), 0);
    cr_assert_eq(stat(b, &sb), 0);
    cr_assert_eq(sa.st_size, sb.st_size);
    events_t ea, eb, ec;
    events_open(&ea, a);
    events_open(&eb, b);
    events_open(&ec, c);
    size_t n = 0, same_as_other_seed = 0;
    while (events_next(&ea)) {
        cr_assert_eq(events_next(&eb), 1, "as many events");
        cr_assert_eq(events_next(&ec), 1);
        cr_assert(ea.len == eb.len && !memcmp(ea.body, eb.body, ea.len),
                  "event %zu: identical bytes for the same seed", n);
        const char *which;
        same_as_other_seed += differing_fields(&ea, &ec, &which) <= 1; /* event_id always differs */
        n++;
    }
    cr_assert_eq(events_next(&eb), 0);
    cr_assert_eq(n, 5000);
    cr_assert_lt(same_as_other_seed, 10, "another seed gives other events (%zu alike)",
                 same_as_other_seed);
    weir_container_reader_close(ea.r);
    weir_container_reader_close(eb.r);
    weir_container_reader_close(ec.r);
    free((void *)a);
    free((void *)b);
    free((void *)c);
}

/* ---- fraud and labels ---------------------------------------------- */

Test(gen, about_one_percent_fraud_with_one_label_per_event_in_event_order)
{
    char labels[600];
    snprintf(labels, sizeof(labels), "file:%s", path_of("labels.avro"));
    const char *extra[] = {"--labels", labels, "--label-delay", "250", NULL};
    const char *events_path = strdup(gen_file("events.avro", "100000", "21", extra));
    events_t ev, lb;
    events_open(&ev, events_path);
    events_open(&lb, path_of("labels.avro"));
    uint64_t n = 0, fraud = 0;
    while (events_next(&ev)) {
        cr_assert_eq(events_next(&lb), 1, "a label for event %llu", (unsigned long long)n);
        weir_value_t id = field(&ev, "event_id"), lid = field(&lb, "event_id");
        cr_assert(id.length == lid.length && !memcmp(id.string, lid.string, id.length),
                  "label %llu is for event %.*s, not %.*s", (unsigned long long)n, (int)lid.length,
                  lid.string, (int)id.length, id.string);
        /* the label is a double 0 or 1, at the event time + delay × mean interval */
        avro_value_t label, branch, time;
        cr_assert_eq(avro_value_get_by_name(lb.value, "label", &label, NULL), 0);
        cr_assert_eq(avro_value_get_current_branch(&label, &branch), 0);
        double y = -1;
        cr_assert_eq(avro_value_get_double(&branch, &y), 0, "a double label");
        cr_assert(y == 0 || y == 1, "label %g", y);
        fraud += y == 1;
        int64_t lt = 0;
        avro_value_get_by_name(lb.value, "label_time", &time, NULL);
        avro_value_get_long(&time, &lt);
        cr_assert_eq(lt, (int64_t)field(&ev, "event_time").number + 250 * 50);
        n++;
    }
    cr_assert_eq(events_next(&lb), 0, "no label without an event");
    cr_assert_eq(n, 100000);
    double rate = (double)fraud / (double)n;
    cr_assert(rate > 0.007 && rate < 0.013, "fraud rate %.4f", rate);
    weir_container_reader_close(ev.r);
    weir_container_reader_close(lb.r);
    free((void *)events_path);
}

/* ---- shifts -------------------------------------------------------- */

Test(gen, numeric_shift_scales_only_its_field_from_its_index_on)
{
    const char *base = strdup(gen_file("base.avro", "10000", "4", NULL));
    const char *extra[] = {"--shift", "amount=2@5000", NULL};
    const char *shifted = strdup(gen_file("shifted.avro", "10000", "4", extra));
    events_t a, b;
    events_open(&a, base);
    events_open(&b, shifted);
    size_t i = 0, doubled = 0;
    while (events_next(&a)) {
        cr_assert_eq(events_next(&b), 1);
        const char *which = NULL;
        int differ = differing_fields(&a, &b, &which);
        double before = field(&a, "amount").number, after = field(&b, "amount").number;
        if (i < 5000) {
            cr_assert(a.len == b.len && !memcmp(a.body, b.body, a.len),
                      "event %zu before the shift is untouched", i);
        } else {
            cr_assert_leq(differ, 1, "event %zu: only amount may differ", i);
            if (differ)
                cr_assert_str_eq(which, "amount", "event %zu", i);
            cr_assert_float_eq(after, round(before * 200) / 100, 1e-9, "event %zu: %g -> %g", i,
                               before, after);
            doubled += after == 2 * before || fabs(after - 2 * before) <= 0.0051;
        }
        i++;
    }
    cr_assert_eq(events_next(&b), 0);
    cr_assert_eq(i, 10000);
    cr_assert_eq(doubled, 5000, "every amount from event 5000 on is doubled");
    weir_container_reader_close(a.r);
    weir_container_reader_close(b.r);
    free((void *)base);
    free((void *)shifted);
}

Test(gen, categorical_shift_pushes_half_the_events_to_the_value_and_nothing_else)
{
    const char *base = strdup(gen_file("base.avro", "20000", "6", NULL));
    const char *extra[] = {"--shift", "merchant_category=travel@0", NULL};
    const char *shifted = strdup(gen_file("shifted.avro", "20000", "6", extra));
    events_t a, b;
    events_open(&a, base);
    events_open(&b, shifted);
    size_t n = 0, travel_before = 0, travel_after = 0;
    while (events_next(&a)) {
        cr_assert_eq(events_next(&b), 1);
        const char *which = NULL;
        int differ = differing_fields(&a, &b, &which);
        cr_assert_leq(differ, 1, "event %zu: only merchant_category may differ", n);
        if (differ) {
            cr_assert_str_eq(which, "merchant_category", "event %zu", n);
            cr_assert(field_is(&b, "merchant_category", "travel"), "event %zu", n);
        }
        travel_before += field_is(&a, "merchant_category", "travel");
        travel_after += field_is(&b, "merchant_category", "travel");
        n++;
    }
    double before = (double)travel_before / (double)n, after = (double)travel_after / (double)n;
    cr_assert_lt(before, 0.1, "travel is rare without the shift (%.3f)", before);
    cr_assert(after > 0.45 && after < 0.6, "about half are travel with it (%.3f)", after);
    weir_container_reader_close(a.r);
    weir_container_reader_close(b.r);
    free((void *)base);
    free((void *)shifted);
}

Test(gen, concept_change_changes_only_fraud_events_from_its_index_on)
{
    char labels_base[600], labels_changed[600];
    snprintf(labels_base, sizeof(labels_base), "file:%s", path_of("labels-base.avro"));
    snprintf(labels_changed, sizeof(labels_changed), "file:%s", path_of("labels-changed.avro"));
    const char *extra_base[] = {"--labels", labels_base, "--label-delay", "0", NULL};
    const char *extra_changed[] = {
        "--labels", labels_changed, "--label-delay", "0", "--concept-change-at", "3000", NULL};
    const char *base = strdup(gen_file("base.avro", "20000", "8", extra_base));
    const char *changed = strdup(gen_file("changed.avro", "20000", "8", extra_changed));
    events_t a, b, la, lb;
    events_open(&a, base);
    events_open(&b, changed);
    events_open(&la, path_of("labels-base.avro"));
    events_open(&lb, path_of("labels-changed.avro"));
    size_t i = 0, fraud_after = 0, fraud_changed = 0, card_present_before = 0,
           card_present_after = 0, fraud_before = 0;
    while (events_next(&a)) {
        cr_assert_eq(events_next(&b), 1);
        cr_assert_eq(events_next(&la), 1);
        cr_assert_eq(events_next(&lb), 1);
        cr_assert(la.len == lb.len && !memcmp(la.body, lb.body, la.len),
                  "event %zu: the same label in both streams", i);
        avro_value_t label, branch;
        double y = 0;
        avro_value_get_by_name(la.value, "label", &label, NULL);
        avro_value_get_current_branch(&label, &branch);
        avro_value_get_double(&branch, &y);
        int same = a.len == b.len && !memcmp(a.body, b.body, a.len);
        if (i < 3000 || y == 0) {
            cr_assert(same, "event %zu (%s, %s the change) is untouched", i,
                      y == 1 ? "fraud" : "legit", i < 3000 ? "before" : "after");
        } else {
            fraud_after++;
            fraud_changed += !same;
            card_present_after += field(&b, "card_present").number == 1;
            card_present_before += field(&a, "card_present").number == 1;
        }
        fraud_before += i < 3000 && y == 1;
        i++;
    }
    cr_assert_eq(i, 20000);
    cr_assert_gt(fraud_after, 100);
    cr_assert_eq(fraud_changed, fraud_after, "every fraud event after the change is new");
    cr_assert_gt(card_present_after, 2 * card_present_before,
                 "the new fraud is card-present (%zu vs %zu of %zu)", card_present_after,
                 card_present_before, fraud_after);
    weir_container_reader_close(a.r);
    weir_container_reader_close(b.r);
    weir_container_reader_close(la.r);
    weir_container_reader_close(lb.r);
    free((void *)base);
    free((void *)changed);
}

/* ---- usage errors -------------------------------------------------- */

/* Runs weir gen with @p args, expects exit 2 and @p message in its output. */
static void expect_usage_error(const char *const args[], const char *message)
{
    int code = gen_run("usage", args);
    char *text = log_text("usage");
    cr_assert_eq(code, 2, "exit %d, output: %s", code, text);
    cr_assert(strstr(text, message), "expected \"%s\" in: %s", message, text);
    free(text);
}

Test(gen, bad_options_exit_2_with_a_message)
{
    char out[600];
    snprintf(out, sizeof(out), "file:%s", path_of("never.avro"));
    expect_usage_error(
        (const char *[]){"--out", out, "--count", "10", "--shift", "colour=2@5", NULL},
        "unknown field \"colour\"");
    expect_usage_error(
        (const char *[]){"--out", out, "--count", "10", "--shift", "amount=lots", NULL},
        "amount is numeric");
    expect_usage_error(
        (const char *[]){"--out", out, "--count", "10", "--shift", "channel=teleport", NULL},
        "channel must be pos, online, atm or moto");
    expect_usage_error(
        (const char *[]){"--out", out, "--count", "10", "--shift", "amount=2@x", NULL},
        "bad index after @");
    expect_usage_error((const char *[]){"--out", out, NULL}, "--count");
    expect_usage_error((const char *[]){"--count", "10", NULL}, "--out");
    expect_usage_error((const char *[]){"--out", out, "--count", "ten", NULL},
                       "--count: expected a non-negative integer, got \"ten\"");
    expect_usage_error((const char *[]){"--out", out, "--count", "-5", NULL},
                       "--count: expected a non-negative integer");
    expect_usage_error((const char *[]){"--out", out, "--count", "10", "--seed", "1.5", NULL},
                       "--seed: expected a non-negative integer");
    expect_usage_error((const char *[]){"--out", out, "--count", "10", "--fraud-rate", "2", NULL},
                       "--fraud-rate: expected a number from 0 to 1, got \"2\"");
    expect_usage_error((const char *[]){"--out", out, "--count", "10", "--rate", "fast", NULL},
                       "--rate: expected a number");
    expect_usage_error((const char *[]){"--out", out, "--count", "10", "--labels", out,
                                        "--label-delay", "18446744073709551615", NULL},
                       "--label-delay: at most 1000000000 events");
    expect_usage_error((const char *[]){"--out", "bucket:x", "--count", "10", NULL},
                       "expected topic:NAME or file:PATH");
    expect_usage_error((const char *[]){"--out", out, "--count", "10", "stray", NULL},
                       "unexpected argument \"stray\"");
    expect_usage_error((const char *[]){"--out", out, "--count", "10", "--frobnicate", NULL},
                       "see weir gen -h");
    struct stat st;
    cr_assert_neq(stat(path_of("never.avro"), &st), 0, "no output file for a usage error");
}

Test(gen, help_goes_to_stdout_and_exits_0)
{
    int code = gen_run("help", (const char *[]){"-h", NULL});
    cr_assert_eq(code, 0);
    char *text = log_text("help");
    cr_assert(strstr(text, "usage: weir gen --out topic:NAME|file:PATH --count N"), "%s", text);
    cr_assert(strstr(text, "--shift"), "%s", text);
    free(text);
}

Test(gen, count_zero_writes_an_empty_readable_file)
{
    const char *path = gen_file("empty.avro", "0", "1", NULL);
    cr_assert_eq(count_events(path), 0);
}

Test(gen, labels_delayed_past_the_end_of_the_stream_are_all_written_at_the_end)
{
    char labels[600];
    snprintf(labels, sizeof(labels), "file:%s", path_of("labels.avro"));
    /* a delay far beyond the count once crashed (a zero-sized ring) or ran out of memory */
    const char *extra[] = {"--labels", labels, "--label-delay", "1000000000", NULL};
    const char *events = strdup(gen_file("events.avro", "50", "3", extra));
    events_t ev, lb;
    events_open(&ev, events);
    events_open(&lb, path_of("labels.avro"));
    size_t n = 0;
    while (events_next(&ev)) {
        cr_assert_eq(events_next(&lb), 1, "a label for event %zu", n);
        weir_value_t id = field(&ev, "event_id"), lid = field(&lb, "event_id");
        cr_assert(id.length == lid.length && !memcmp(id.string, lid.string, id.length));
        n++;
    }
    cr_assert_eq(n, 50);
    cr_assert_eq(events_next(&lb), 0);
    weir_container_reader_close(ev.r);
    weir_container_reader_close(lb.r);
    free((void *)events);
}
