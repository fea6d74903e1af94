/*
 * test_prom.c — the one Prometheus text writer (common/prom.h): a family's
 * HELP and TYPE lines once, then its samples; label values and help texts
 * escaped (backslash, double quote, newline) and made valid UTF-8; values in
 * the shortest exact form; cumulative histograms; and every rule of the format
 * it enforces, each refusal leaving nothing half-written and sticking until
 * weir_prom_finish(). The last test hands a page of hostile label values to
 * `promtool check metrics` when promtool is installed.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prom.h"
#include "support.h"

static weir_buf_t buf;
static weir_prom_t page;

static void setup(void)
{
    weir_buf_init(&buf, 1 << 20);
    weir_prom_init(&page, &buf);
}

static void teardown(void)
{
    weir_buf_dispose(&buf);
}

/* The page so far, NUL-terminated. */
static const char *text(void)
{
    cr_assert_eq(weir_buf_reserve(&buf, 1), 0);
    buf.data[buf.len] = '\0';
    return (const char *)buf.data;
}

TestSuite(prom, .init = setup, .fini = teardown);

Test(prom, a_family_writes_help_and_type_once_then_its_samples)
{
    cr_assert_eq(weir_prom_family(&page, "weir_events_total", WEIR_PROM_COUNTER, "Events."), 0);
    cr_assert_eq(weir_prom_sample_u64(&page, 3, NULL), 0);
    cr_assert_eq(weir_prom_family(&page, "weir_lag", WEIR_PROM_GAUGE, "Lag."), 0);
    cr_assert_eq(weir_prom_sample_u64(&page, 7, "topic", "in", "partition", "0", NULL), 0);
    cr_assert_eq(weir_prom_sample(&page, 0.5, "topic", "in", "partition", "1", NULL), 0);
    cr_assert_eq(weir_prom_finish(&page), 0);
    cr_assert_str_eq(text(), "# HELP weir_events_total Events.\n"
                             "# TYPE weir_events_total counter\n"
                             "weir_events_total 3\n"
                             "# HELP weir_lag Lag.\n"
                             "# TYPE weir_lag gauge\n"
                             "weir_lag{topic=\"in\",partition=\"0\"} 7\n"
                             "weir_lag{topic=\"in\",partition=\"1\"} 0.5\n");
}

/* Undoes the escaping of a label value (the reading side of the format). */
static void unescape(const char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '\\' && i + 1 < n) {
            i++;
            out[o++] = in[i] == 'n' ? '\n' : in[i];
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
}

Test(prom, label_values_escape_backslash_quote_and_newline_and_read_back_whole)
{
    const char *values[] = {"plain-topic.1",
                            "a\\b\"c\nd",
                            "",
                            "\"",
                            "\\",
                            "\n\n",
                            "x\\n",
                            "tab\tand\rcr",
                            "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"};
    weir_prom_family(&page, "weir_x", WEIR_PROM_GAUGE, "X.");
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        size_t start = buf.len;
        cr_assert_eq(weir_prom_sample(&page, 1, "feature", values[i], NULL), 0);
        const char *line = text() + start;
        cr_assert(!strncmp(line, "weir_x{feature=\"", 16), "%s", line);
        const char *end = strstr(line, "\"} 1\n");
        cr_assert_not_null(end, "%s", line);
        cr_assert_null(memchr(line, '\n', (size_t)(end - line)), "one line per sample");
        char back[256];
        unescape(line + 16, (size_t)(end - line - 16), back);
        cr_assert_str_eq(back, values[i], "value %zu reads back as written", i);
    }
    cr_assert(strstr(text(), "weir_x{feature=\"a\\\\b\\\"c\\nd\"} 1\n"), "%s", text());
}

Test(prom, help_text_escapes_backslash_and_newline_but_not_quotes)
{
    cr_assert_eq(weir_prom_family(&page, "weir_x", WEIR_PROM_GAUGE, "a \"b\" c\\d\ne"), 0);
    cr_assert_str_eq(text(), "# HELP weir_x a \"b\" c\\\\d\\ne\n# TYPE weir_x gauge\n");
}

Test(prom, bytes_that_are_not_utf8_become_replacement_characters)
{
    /* a lone continuation byte, a truncated sequence, an overlong "/", a
     * surrogate, a code point past U+10FFFF; valid sequences are kept */
    weir_prom_family(&page, "weir_x", WEIR_PROM_GAUGE, "X.");
    weir_prom_sample(&page, 1, "v",
                     "a\x80"
                     "b\xC3"
                     "c\xC0\xAF"
                     "d\xED\xA0\x80"
                     "e\xF4\x90\x80\x80"
                     "f\xC3\xA9",
                     NULL);
    cr_assert_eq(weir_prom_finish(&page), 0);
    const char *fffd = "\xEF\xBF\xBD";
    char want[128];
    snprintf(want, sizeof(want), "weir_x{v=\"a%sb%sc%s%sd%s%s%se%s%s%s%sf\xC3\xA9\"} 1\n", fffd,
             fffd, fffd, fffd, fffd, fffd, fffd, fffd, fffd, fffd, fffd);
    cr_assert(strstr(text(), want), "%s", text());
}

Test(prom, values_are_exact_integers_or_the_shortest_double_that_reads_back)
{
    weir_prom_family(&page, "weir_x", WEIR_PROM_GAUGE, "X.");
    weir_prom_sample_u64(&page, UINT64_MAX, "k", "max", NULL);
    weir_prom_sample(&page, 0.1, "k", "tenth", NULL);
    weir_prom_sample(&page, 1.0 / 3.0, "k", "third", NULL);
    weir_prom_sample(&page, 1e-300, "k", "tiny", NULL);
    weir_prom_sample(&page, NAN, "k", "nan", NULL);
    weir_prom_sample(&page, INFINITY, "k", "inf", NULL);
    weir_prom_sample(&page, -INFINITY, "k", "ninf", NULL);
    weir_prom_sample(&page, 1767225600.123, "k", "time", NULL);
    cr_assert_eq(weir_prom_finish(&page), 0);
    const char *t = text();
    cr_assert(strstr(t, "{k=\"max\"} 18446744073709551615\n"), "%s", t);
    cr_assert(strstr(t, "{k=\"tenth\"} 0.1\n"), "%s", t);
    cr_assert(strstr(t, "{k=\"nan\"} NaN\n"), "%s", t);
    cr_assert(strstr(t, "{k=\"inf\"} +Inf\n"), "%s", t);
    cr_assert(strstr(t, "{k=\"ninf\"} -Inf\n"), "%s", t);
    cr_assert(strstr(t, "{k=\"time\"} 1767225600.123\n"), "%s", t);
    const char *third = strstr(t, "{k=\"third\"} ");
    cr_assert_not_null(third);
    cr_assert_eq(strtod(third + 12, NULL), 1.0 / 3.0, "exact after reading back");
    const char *tiny = strstr(t, "{k=\"tiny\"} ");
    cr_assert_eq(strtod(tiny + 11, NULL), 1e-300);
}

Test(prom, histogram_buckets_are_cumulative_labels_come_first_and_inf_equals_count)
{
    const double bounds[] = {0.001, 0.01, 0.1};
    const uint64_t counts[] = {2, 0, 5};
    cr_assert_eq(
        weir_prom_family(&page, "weir_batch_duration_seconds", WEIR_PROM_HISTOGRAM, "Batches."), 0);
    cr_assert_eq(weir_prom_histogram(&page, bounds, counts, 3, 9, 1.25, "model", "m\"1", NULL), 0);
    cr_assert_str_eq(text(), "# HELP weir_batch_duration_seconds Batches.\n"
                             "# TYPE weir_batch_duration_seconds histogram\n"
                             "weir_batch_duration_seconds_bucket{model=\"m\\\"1\",le=\"0.001\"} 2\n"
                             "weir_batch_duration_seconds_bucket{model=\"m\\\"1\",le=\"0.01\"} 2\n"
                             "weir_batch_duration_seconds_bucket{model=\"m\\\"1\",le=\"0.1\"} 7\n"
                             "weir_batch_duration_seconds_bucket{model=\"m\\\"1\",le=\"+Inf\"} 9\n"
                             "weir_batch_duration_seconds_sum{model=\"m\\\"1\"} 1.25\n"
                             "weir_batch_duration_seconds_count{model=\"m\\\"1\"} 9\n");
}

Test(prom, histogram_without_labels_has_only_le)
{
    const double bounds[] = {1};
    const uint64_t counts[] = {0};
    weir_prom_family(&page, "weir_h", WEIR_PROM_HISTOGRAM, "H.");
    cr_assert_eq(weir_prom_histogram(&page, bounds, counts, 1, 0, 0, NULL), 0);
    cr_assert(strstr(text(), "weir_h_bucket{le=\"1\"} 0\nweir_h_bucket{le=\"+Inf\"} 0\n"
                             "weir_h_sum 0\nweir_h_count 0\n"),
              "%s", text());
}

/* Asserts that @p rc is @p code, that the page did not change, and that the
 * error sticks: a valid family afterwards writes nothing and returns it. */
static void assert_refused(int rc, int code, size_t len_before)
{
    cr_assert_eq(rc, code, "got %d", rc);
    cr_assert_eq(buf.len, len_before, "nothing half-written: %s", text());
    cr_assert_eq(weir_prom_finish(&page), code);
    cr_assert_eq(weir_prom_family(&page, "weir_later", WEIR_PROM_GAUGE, "Later."), code);
    cr_assert_eq(buf.len, len_before, "nothing written after an error");
}

Test(prom, a_sample_outside_a_family_is_refused)
{
    assert_refused(weir_prom_sample(&page, 1, NULL), WEIR_EINVAL, 0);
}

Test(prom, a_family_opened_twice_is_refused)
{
    weir_prom_family(&page, "weir_x", WEIR_PROM_GAUGE, "X.");
    weir_prom_family(&page, "weir_y", WEIR_PROM_GAUGE, "Y.");
    size_t len = buf.len;
    assert_refused(weir_prom_family(&page, "weir_x", WEIR_PROM_GAUGE, "X again."), WEIR_EINVAL,
                   len);
}

Test(prom, counters_end_in_total_and_nothing_else_does)
{
    struct {
        const char *name;
        weir_prom_type_t type;
        int ok;
    } cases[] = {
        {"weir_events_total", WEIR_PROM_COUNTER, 1},
        {"weir_events", WEIR_PROM_COUNTER, 0},
        {"weir_events_total", WEIR_PROM_GAUGE, 0},
        {"weir_events_total", WEIR_PROM_HISTOGRAM, 0},
        {"weir_lag_count", WEIR_PROM_GAUGE, 0},
        {"weir_lag_sum", WEIR_PROM_GAUGE, 0},
        {"weir_seconds_bucket", WEIR_PROM_HISTOGRAM, 0},
        {"weir_lag", WEIR_PROM_GAUGE, 1},
        {"weir_seconds", WEIR_PROM_HISTOGRAM, 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        weir_buf_reset(&buf);
        weir_prom_init(&page, &buf);
        int rc = weir_prom_family(&page, cases[i].name, cases[i].type, "Help.");
        cr_assert_eq(rc, cases[i].ok ? 0 : WEIR_EINVAL, "%s as type %d", cases[i].name,
                     cases[i].type);
        if (!cases[i].ok)
            cr_assert_eq(buf.len, 0);
    }
}

Test(prom, invalid_metric_names_and_empty_help_are_refused)
{
    char long_name[WEIR_PROM_MAX_NAME + 2];
    memset(long_name, 'a', sizeof(long_name) - 1);
    long_name[sizeof(long_name) - 1] = '\0';
    const char *bad[] = {"", "1abc", "weir-lag", "weir lag", "weir_lag\n", "wéir", long_name};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        weir_prom_init(&page, &buf);
        cr_assert_eq(weir_prom_family(&page, bad[i], WEIR_PROM_GAUGE, "Help."), WEIR_EINVAL,
                     "\"%s\"", bad[i]);
    }
    long_name[WEIR_PROM_MAX_NAME] = '\0';
    weir_prom_init(&page, &buf);
    cr_assert_eq(weir_prom_family(&page, long_name, WEIR_PROM_GAUGE, "Help."), 0,
                 "a name of the longest length is fine");
    weir_prom_init(&page, &buf);
    cr_assert_eq(weir_prom_family(&page, "weir:recorded_lag", WEIR_PROM_GAUGE, "Help."), 0);
    size_t len = buf.len;
    weir_prom_init(&page, &buf);
    assert_refused(weir_prom_family(&page, "weir_x", WEIR_PROM_GAUGE, ""), WEIR_EINVAL, len);
}

Test(prom, bad_duplicate_or_too_many_label_names_are_refused)
{
    const char *bad[] = {"", "1a", "a-b", "__name__", "le\n", "a:b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        weir_buf_reset(&buf);
        weir_prom_init(&page, &buf);
        weir_prom_family(&page, "weir_x", WEIR_PROM_GAUGE, "X.");
        size_t len = buf.len;
        assert_refused(weir_prom_sample(&page, 1, "ok", "1", bad[i], "v", NULL), WEIR_EINVAL, len);
    }
    weir_buf_reset(&buf);
    weir_prom_init(&page, &buf);
    weir_prom_family(&page, "weir_x", WEIR_PROM_GAUGE, "X.");
    size_t len = buf.len;
    assert_refused(weir_prom_sample(&page, 1, "a", "1", "b", "2", "a", "3", NULL), WEIR_EINVAL,
                   len);

    weir_buf_reset(&buf);
    weir_prom_init(&page, &buf);
    weir_prom_family(&page, "weir_x", WEIR_PROM_GAUGE, "X.");
    cr_assert_eq(weir_prom_sample(&page, 1, "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f",
                                  "6", "g", "7", "h", "8", NULL),
                 0, "WEIR_PROM_MAX_LABELS pairs fit");
    len = buf.len;
    assert_refused(weir_prom_sample(&page, 1, "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f",
                                    "6", "g", "7", "h", "8", "i", "9", NULL),
                   WEIR_EINVAL, len);

    weir_buf_reset(&buf);
    weir_prom_init(&page, &buf);
    weir_prom_family(&page, "weir_x", WEIR_PROM_GAUGE, "X.");
    len = buf.len;
    assert_refused(weir_prom_sample(&page, 1, "a", (const char *)NULL, NULL), WEIR_EINVAL, len);
}

Test(prom, samples_and_histograms_must_match_their_family_kind)
{
    const double bounds[] = {1};
    const uint64_t counts[] = {1};
    weir_prom_family(&page, "weir_h", WEIR_PROM_HISTOGRAM, "H.");
    size_t len = buf.len;
    assert_refused(weir_prom_sample(&page, 1, NULL), WEIR_EINVAL, len);

    weir_buf_reset(&buf);
    weir_prom_init(&page, &buf);
    weir_prom_family(&page, "weir_g", WEIR_PROM_GAUGE, "G.");
    len = buf.len;
    assert_refused(weir_prom_histogram(&page, bounds, counts, 1, 1, 1, NULL), WEIR_EINVAL, len);
}

Test(prom, histograms_refuse_unordered_bounds_overfull_buckets_and_an_le_label)
{
    struct {
        double bounds[3];
        uint64_t counts[3];
        uint64_t count;
        const char *label;
    } bad[] = {
        {{1, 1, 2}, {0, 0, 0}, 0, "x"},   {{2, 1, 3}, {0, 0, 0}, 0, "x"},
        {{1, NAN, 3}, {0, 0, 0}, 0, "x"}, {{1, 2, INFINITY}, {0, 0, 0}, 0, "x"},
        {{1, 2, 3}, {1, 1, 1}, 2, "x"},   {{1, 2, 3}, {UINT64_MAX, 1, 0}, UINT64_MAX, "x"},
        {{1, 2, 3}, {0, 0, 0}, 0, "le"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        weir_buf_reset(&buf);
        weir_prom_init(&page, &buf);
        weir_prom_family(&page, "weir_h", WEIR_PROM_HISTOGRAM, "H.");
        size_t len = buf.len;
        int rc = weir_prom_histogram(&page, bad[i].bounds, bad[i].counts, 3, bad[i].count, 0,
                                     bad[i].label, "v", NULL);
        cr_assert_eq(rc, WEIR_EINVAL, "case %zu", i);
        cr_assert_eq(buf.len, len, "case %zu wrote nothing", i);
    }
}

Test(prom, a_full_buffer_is_elimit_and_the_page_ends_with_a_whole_line)
{
    weir_buf_t small;
    weir_buf_init(&small, 100);
    weir_prom_init(&page, &small);
    cr_assert_eq(weir_prom_family(&page, "weir_x", WEIR_PROM_GAUGE, "X."), 0);
    int rc = 0;
    for (int i = 0; i < 100 && rc == 0; i++)
        rc = weir_prom_sample(&page, i, "feature", "a\"b\\c", NULL);
    cr_assert_eq(rc, WEIR_ELIMIT);
    cr_assert_eq(weir_prom_finish(&page), WEIR_ELIMIT);
    cr_assert_leq(small.len, 100);
    cr_assert_eq(small.data[small.len - 1], '\n');
    weir_buf_dispose(&small);
}

Test(prom, too_many_families_is_elimit)
{
    char name[32];
    int rc = 0;
    for (int i = 0; i <= WEIR_PROM_MAX_FAMILIES && rc == 0; i++) {
        snprintf(name, sizeof(name), "weir_f%d", i);
        rc = weir_prom_family(&page, name, WEIR_PROM_GAUGE, "F.");
        cr_assert(rc == 0 || i == WEIR_PROM_MAX_FAMILIES, "family %d: %d", i, rc);
    }
    cr_assert_eq(rc, WEIR_ELIMIT);
}

Test(prom, a_page_of_hostile_label_values_passes_promtool)
{
    if (system("command -v promtool >/dev/null 2>&1") != 0)
        cr_skip_test("promtool is not installed (Debian package prometheus)");
    const double bounds[] = {0.5, 1};
    const uint64_t counts[] = {1, 2};
    weir_prom_family(&page, "weir_drift_statistic", WEIR_PROM_GAUGE,
                     "Latest statistic \"of\" a test\\n with a\nnewline.");
    weir_prom_sample(&page, 0.25, "feature", "amount \"usd\"", "test", "ks", NULL);
    weir_prom_sample(&page, 0.5, "feature", "C:\\path\\", "test", "ks", NULL);
    weir_prom_sample(&page, 0.75, "feature", "two\nlines", "test", "ks", NULL);
    weir_prom_sample(&page, NAN, "feature", "bad \xFF utf8", "test", "ks", NULL);
    weir_prom_family(&page, "weir_concept_confusion", WEIR_PROM_GAUGE, "Confusion.");
    weir_prom_sample_u64(&page, 3, "actual", "\"fraud\"", "predicted", "le\\git\n", NULL);
    weir_prom_family(&page, "weir_labels_total", WEIR_PROM_COUNTER, "Labels.");
    weir_prom_sample_u64(&page, 5, "outcome", "matched", NULL);
    weir_prom_family(&page, "weir_batch_duration_seconds", WEIR_PROM_HISTOGRAM, "Batches.");
    weir_prom_histogram(&page, bounds, counts, 2, 4, 2.5, "model", "m\\\"\n", NULL);
    cr_assert_eq(weir_prom_finish(&page), 0);
    char *path = weir_test_write_temp(".prom", buf.data, buf.len);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "promtool check metrics < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    char out[4096] = "";
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    unlink(path);
    free(path);
    cr_assert_eq(status, 0, "promtool exit %d:\n%s\npage:\n%s", status, out, text());
    cr_assert_eq(n, 0, "promtool complained:\n%s\npage:\n%s", out, text());
}
