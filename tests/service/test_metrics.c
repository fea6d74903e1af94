/*
 * test_metrics.c — the Prometheus text weir_metrics_render() writes: every
 * sample under a # TYPE of the right kind, a cumulative histogram that ends
 * with +Inf equal to its _count, one dead-letter line per reason. The
 * writer's own rules (escaping, names) are tested in tests/common/test_prom.c.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* A parsed exposition: the kind of each family and every sample line. */
typedef struct {
    char name[128];
    char labels[256];
    double value;
    char kind[16]; /* the # TYPE in force for its family */
} sample_t;

typedef struct {
    sample_t samples[256];
    size_t n;
} page_t;

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && !strcmp(s + ls - lx, suffix);
}

/* Parses @p text, asserting the format rules: comments are HELP or TYPE,
 * a sample's family has a TYPE line before it, the kind fits the name. */
static void parse(const char *text, page_t *page)
{
    char families[64][128], kinds[64][16];
    size_t nf = 0;
    memset(page, 0, sizeof(*page));
    cr_assert(ends_with(text, "\n"), "the page ends with a newline");
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        cr_assert_not_null(eol);
        char line[512];
        size_t len = (size_t)(eol - p);
        cr_assert_lt(len, sizeof(line));
        memcpy(line, p, len);
        line[len] = '\0';
        p = eol + 1;
        cr_assert_gt(len, 0, "no empty lines");
        if (line[0] == '#') {
            char what[16], name[128], rest[256] = "";
            int got = sscanf(line, "# %15s %127s %255[^\n]", what, name, rest);
            cr_assert_geq(got, 3, "comment line \"%s\"", line);
            if (!strcmp(what, "TYPE")) {
                cr_assert(!strcmp(rest, "counter") || !strcmp(rest, "gauge") ||
                              !strcmp(rest, "histogram"),
                          "kind in \"%s\"", line);
                for (size_t i = 0; i < nf; i++)
                    cr_assert_str_neq(families[i], name, "family %s typed twice", name);
                cr_assert_lt(nf, 64);
                snprintf(families[nf], sizeof(families[nf]), "%s", name);
                snprintf(kinds[nf], sizeof(kinds[nf]), "%s", rest);
                nf++;
            } else {
                cr_assert_str_eq(what, "HELP", "comment line \"%s\"", line);
            }
            continue;
        }
        cr_assert_lt(page->n, 256);
        sample_t *s = &page->samples[page->n++];
        const char *brace = strchr(line, '{'), *space = strrchr(line, ' ');
        cr_assert_not_null(space, "sample \"%s\" has a value", line);
        const char *name_end = brace && brace < space ? brace : space;
        snprintf(s->name, sizeof(s->name), "%.*s", (int)(name_end - line), line);
        if (brace && brace < space) {
            const char *close = strchr(brace, '}');
            cr_assert(close && close + 1 == space, "labels of \"%s\"", line);
            snprintf(s->labels, sizeof(s->labels), "%.*s", (int)(close - brace - 1), brace + 1);
        }
        char *end;
        s->value = strtod(space + 1, &end);
        cr_assert(*end == '\0' && end != space + 1, "value of \"%s\"", line);
        for (const char *c = s->name; *c; c++)
            cr_assert(strchr("abcdefghijklmnopqrstuvwxyz_:", *c) || (*c >= '0' && *c <= '9'),
                      "metric name %s", s->name);

        /* The family whose TYPE line governs this sample: the last TYPE seen
         * (samples of a family follow its TYPE line without interruption). */
        cr_assert_gt(nf, 0, "sample %s before any # TYPE", s->name);
        const char *family = families[nf - 1], *kind = kinds[nf - 1];
        snprintf(s->kind, sizeof(s->kind), "%s", kind);
        if (!strcmp(kind, "histogram")) {
            char base[160];
            int ok = 0;
            const char *suffixes[] = {"_bucket", "_sum", "_count"};
            for (int k = 0; k < 3; k++) {
                snprintf(base, sizeof(base), "%s%s", family, suffixes[k]);
                ok |= !strcmp(base, s->name);
            }
            cr_assert(ok, "%s is not a sample of histogram %s", s->name, family);
        } else {
            cr_assert_str_eq(s->name, family, "sample %s under the # TYPE of %s", s->name, family);
        }
        if (!strcmp(kind, "counter"))
            cr_assert(ends_with(s->name, "_total"), "counter %s ends in _total", s->name);
        else
            cr_assert(!ends_with(s->name, "_total"), "%s %s ends in _total", kind, s->name);
    }
}

static const sample_t *find(const page_t *page, const char *name, const char *labels)
{
    for (size_t i = 0; i < page->n; i++)
        if (!strcmp(page->samples[i].name, name) && !strcmp(page->samples[i].labels, labels))
            return &page->samples[i];
    return NULL;
}

static void render(const weir_metrics_t *m, page_t *page)
{
    weir_buf_t b;
    weir_buf_init(&b, 1 << 20);
    weir_prom_t p;
    weir_prom_init(&p, &b);
    cr_assert_eq(weir_metrics_render(m, &p), 0);
    cr_assert_eq(weir_buf_append(&b, "", 1), 0);
    parse((const char *)b.data, page);
    weir_buf_dispose(&b);
}

static void sample_metrics(weir_metrics_t *m)
{
    memset(m, 0, sizeof(*m));
    m->consumed = 1001;
    m->scored = 990;
    for (int r = 1; r < WEIR_REASON__COUNT; r++)
        m->dead_letters[r] = (uint64_t)r;
    m->produced_scored = 980;
    m->produced_dead = 7;
    m->delivery_errors = 2;
    m->backpressure_pauses = 3;
    m->commits = 40;
    m->commit_failures = 1;
    m->rebalances = 5;
    m->revoked_in_flight_dropped = 6;
    m->start_time_ms = 1767225600123;
}

Test(metrics, every_sample_has_a_type_line_of_the_right_kind)
{
    weir_metrics_t m;
    sample_metrics(&m);
    weir_metrics_observe_batch(&m, 0.003);
    page_t page;
    render(&m, &page);
    struct {
        const char *name, *kind;
        double value;
    } expect[] = {
        {"weir_events_consumed_total", "counter", 1001},
        {"weir_events_scored_total", "counter", 990},
        {"weir_delivery_errors_total", "counter", 2},
        {"weir_backpressure_pauses_total", "counter", 3},
        {"weir_commits_total", "counter", 40},
        {"weir_commit_failures_total", "counter", 1},
        {"weir_rebalances_total", "counter", 5},
        {"weir_revoked_unfinished_total", "counter", 6},
        {"process_start_time_seconds", "gauge", 1767225600.123},
        {"weir_batch_duration_seconds_count", "histogram", 1},
    };
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        const sample_t *s = find(&page, expect[i].name, "");
        cr_assert_not_null(s, "%s is rendered", expect[i].name);
        cr_assert_str_eq(s->kind, expect[i].kind, "%s", expect[i].name);
        cr_assert_float_eq(s->value, expect[i].value, 1e-6, "%s", expect[i].name);
    }
    const sample_t *scored = find(&page, "weir_produced_total", "kind=\"scored\"");
    const sample_t *dead = find(&page, "weir_produced_total", "kind=\"dead_letter\"");
    cr_assert(scored && dead, "weir_produced_total by kind");
    cr_assert_str_eq(scored->kind, "counter");
    cr_assert_eq(scored->value, 980);
    cr_assert_eq(dead->value, 7);
}

Test(metrics, dead_letters_have_one_line_per_reason_code)
{
    weir_metrics_t m;
    sample_metrics(&m);
    page_t page;
    render(&m, &page);
    size_t lines = 0;
    for (size_t i = 0; i < page.n; i++)
        lines += !strcmp(page.samples[i].name, "weir_dead_letters_total");
    cr_assert_eq(lines, WEIR_REASON__COUNT - 1, "one line per reason, none for NONE");
    for (int r = 1; r < WEIR_REASON__COUNT; r++) {
        char labels[128];
        snprintf(labels, sizeof(labels), "reason=\"%s\"", weir_reason_name((weir_reason_t)r));
        const sample_t *s = find(&page, "weir_dead_letters_total", labels);
        cr_assert_not_null(s, "a line for %s", labels);
        cr_assert_str_eq(s->kind, "counter");
        cr_assert_eq(s->value, (double)r, "%s counts its own reason", labels);
    }
    cr_assert_eq(weir_metrics_dead_total(&m),
                 (uint64_t)(WEIR_REASON__COUNT - 1) * WEIR_REASON__COUNT / 2);
}

Test(metrics, histogram_buckets_are_cumulative_and_end_with_inf_equal_to_count)
{
    weir_metrics_t m;
    memset(&m, 0, sizeof(m));
    /* one batch in each bucket, two on a bound exactly, two beyond the last bound */
    double observed[] = {0.00005, 0.0002, 0.0004, 0.001, 0.002, 0.004, 0.009, 0.02,
                         0.04,    0.09,   0.2,    0.9,   1.0,   2.5,   30};
    size_t nobs = sizeof(observed) / sizeof(observed[0]);
    double sum = 0;
    for (size_t i = 0; i < nobs; i++) {
        weir_metrics_observe_batch(&m, observed[i]);
        sum += observed[i];
    }
    page_t page;
    render(&m, &page);
    double last_le = -1, last_count = -1;
    size_t buckets = 0;
    const sample_t *inf = NULL;
    for (size_t i = 0; i < page.n; i++) {
        const sample_t *s = &page.samples[i];
        if (strcmp(s->name, "weir_batch_duration_seconds_bucket") != 0)
            continue;
        cr_assert_null(inf, "+Inf is the last bucket");
        cr_assert_str_eq(s->kind, "histogram");
        cr_assert(!strncmp(s->labels, "le=\"", 4), "%s", s->labels);
        if (!strcmp(s->labels, "le=\"+Inf\"")) {
            inf = s;
        } else {
            double le = strtod(s->labels + 4, NULL);
            cr_assert_gt(le, last_le, "bounds ascend");
            cr_assert_float_eq(le, weir_latency_bounds[buckets], 1e-12);
            last_le = le;
            /* cumulative: every observation at or below the bound */
            size_t below = 0;
            for (size_t k = 0; k < nobs; k++)
                below += observed[k] <= le;
            cr_assert_eq(s->value, (double)below, "bucket le=%g", le);
        }
        cr_assert_geq(s->value, last_count, "cumulative");
        last_count = s->value;
        buckets++;
    }
    cr_assert_eq(buckets, WEIR_LATENCY_BUCKETS + 1);
    cr_assert_not_null(inf, "a +Inf bucket");
    const sample_t *count = find(&page, "weir_batch_duration_seconds_count", "");
    const sample_t *total = find(&page, "weir_batch_duration_seconds_sum", "");
    cr_assert(count && total);
    cr_assert_eq(inf->value, count->value, "+Inf equals _count");
    cr_assert_eq(count->value, (double)nobs);
    cr_assert_float_eq(total->value, sum, 1e-6);
}

Test(metrics, empty_histogram_renders_zero_buckets)
{
    weir_metrics_t m;
    memset(&m, 0, sizeof(m));
    page_t page;
    render(&m, &page);
    const sample_t *inf = find(&page, "weir_batch_duration_seconds_bucket", "le=\"+Inf\"");
    cr_assert_not_null(inf);
    cr_assert_eq(inf->value, 0);
    cr_assert_eq(find(&page, "weir_batch_duration_seconds_count", "")->value, 0);
}

Test(metrics, render_reports_a_full_buffer)
{
    weir_metrics_t m;
    sample_metrics(&m);
    weir_buf_t b;
    weir_buf_init(&b, 256);
    weir_prom_t p;
    weir_prom_init(&p, &b);
    cr_assert_eq(weir_metrics_render(&m, &p), WEIR_ELIMIT);
    cr_assert_leq(b.len, 256);
    cr_assert(b.len > 0 && b.data[b.len - 1] == '\n', "the page ends with a whole line");
    weir_buf_dispose(&b);
}
