/*
 * test_report.c — the HTML reports in a real browser: a backtest (two
 * models, labels, a shift), a batch report and a profile are rendered by
 * headless Chromium (Debian's chromium, scripts/setup.sh), which must log no
 * console message at all (a script error, a blocked fetch, a CSP violation
 * would each show there); the pages hold no script and nothing to fetch; the
 * screenshots are kept in the build folder (test-artifacts/) for a person to
 * look at. A page that does fetch something is caught by the same check.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"
#include "support.h"

#define EXAMPLE_MODEL WEIR_SOURCE_DIR "/examples/model.json"

static char *dir;
static char artifacts[1024];

static void setup(void)
{
    dir = weir_it_tmpdir();
    char bin[1024];
    snprintf(bin, sizeof(bin), "%s", WEIR_BINARY);
    snprintf(artifacts, sizeof(artifacts), "%s/test-artifacts", dirname(bin));
    mkdir(artifacts, 0755);
}

static void teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    free(dir);
}

TestSuite(report, .init = setup, .fini = teardown, .timeout = 300);

static const char *path_of(const char *name)
{
    static __thread char path[8][512];
    static __thread int which;
    which = (which + 1) % 8;
    snprintf(path[which], sizeof(path[which]), "%s/%s", dir, name);
    return path[which];
}

/* Runs a command with stdout and stderr into @p log; returns its exit code. */
static int run(const char *const argv[], const char *log)
{
    return weir_it_run(argv, log, 240000);
}

static int weir(const char *const args[])
{
    const char *argv[40] = {WEIR_BINARY};
    size_t n = 1;
    for (size_t i = 0; args[i]; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return run(argv, path_of("weir.log"));
}

#define WEIR(...) weir((const char *const[]){__VA_ARGS__, NULL})

typedef struct {
    int code;
    int console; /* console messages the page logged */
    char first[512];
} browser_t;

/* Renders @p html in headless Chromium into @p png; counts the console
 * messages of its log. */
static browser_t render(const char *html, const char *png)
{
    browser_t b = {0};
    char url[700], shot[700], profile[600], log[600];
    snprintf(url, sizeof(url), "file://%s", html);
    snprintf(shot, sizeof(shot), "--screenshot=%s", png);
    snprintf(profile, sizeof(profile), "--user-data-dir=%s/chromium-%d", dir, (int)getpid());
    snprintf(log, sizeof(log), "%s/chromium.log", dir);
    unlink(log);
    const char *argv[] = {"chromium",
                          "--headless",
                          "--no-sandbox",
                          "--disable-gpu",
                          "--disable-background-networking",
                          "--disable-component-update",
                          "--disable-sync",
                          "--no-first-run",
                          "--hide-scrollbars",
                          "--enable-logging=stderr",
                          "--v=0",
                          profile,
                          "--window-size=1280,3000",
                          shot,
                          url,
                          NULL};
    b.code = run(argv, log);
    char *text = weir_test_read_file(log, NULL);
    cr_assert_not_null(text, "no chromium log");
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strstr(line, ":CONSOLE"))
            continue;
        if (b.console++ == 0)
            snprintf(b.first, sizeof(b.first), "%s", line);
    }
    free(text);
    return b;
}

static void expect_clean_page(const char *html, const char *png_name)
{
    size_t len;
    char *text = weir_test_read_file(html, &len);
    cr_assert_not_null(text, "%s not written", html);
    cr_assert(len > 2000, "%s: %zu bytes", html, len);
    const char *forbidden[] = {"<script", "http://", "https://", "url(",
                               "@import", "<link",   "<img",     "<iframe"};
    for (size_t i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++)
        cr_assert_null(strstr(text, forbidden[i]), "%s holds %s", html, forbidden[i]);
    cr_assert(strstr(text, "Content-Security-Policy"), "no CSP in %s", html);
    cr_assert(strstr(text, "<svg"), "no chart in %s", html);
    free(text);
    char png[1200];
    snprintf(png, sizeof(png), "%s/%s", artifacts, png_name);
    unlink(png);
    browser_t b = render(html, png);
    cr_assert_eq(b.code, 0, "chromium exited %d (is Debian's chromium installed?)", b.code);
    cr_assert_eq(b.console, 0, "%s: %d console message(s), the first: %s", html, b.console,
                 b.first);
    size_t plen;
    char *img = weir_test_read_file(png, &plen);
    cr_assert_not_null(img, "no screenshot %s", png);
    cr_assert(plen > 10000 && !memcmp(img, "\x89PNG", 4), "%s is not a picture", png);
    free(img);
    cr_log_info("screenshot: %s", png);
}

Test(report, a_backtest_page_renders_in_chromium_without_a_console_message)
{
    char out[600], labels[600];
    snprintf(out, sizeof(out), "file:%s", path_of("ev.avro"));
    snprintf(labels, sizeof(labels), "file:%s", path_of("labels.avro"));
    cr_assert_eq(WEIR("gen", "--out", out, "--labels", labels, "--count", "6000", "--seed", "5",
                      "--start-time", "1772323200000", "--interval", "100", "--label-delay", "50",
                      "--shift", "amount=2.5@3000", "--concept-change-at", "3000", "-q"),
                 0);
    /* a challenger: a lower threshold */
    json_error_t e;
    json_t *m = json_load_file(EXAMPLE_MODEL, 0, &e);
    json_object_set_new(m, "name", json_string("fraud-lr-low"));
    json_object_set_new(m, "threshold", json_real(0.08));
    cr_assert_eq(json_dump_file(m, path_of("challenger.json"), 0), 0);
    json_decref(m);
    char html[600];
    snprintf(html, sizeof(html), "%s", path_of("backtest.html"));
    cr_assert_eq(WEIR("replay", "--in", out, "--model", EXAMPLE_MODEL, "--model",
                      path_of("challenger.json"), "--labels", labels, "--bucket", "1m", "--report",
                      path_of("backtest.json"), "--html", html, "-X", "drift.window=1000", "-X",
                      "drift.step=250", "-q"),
                 0);
    expect_clean_page(html, "report-backtest.png");
    /* weir report makes the same page from the JSON */
    cr_assert_eq(WEIR("report", path_of("backtest.json"), "-o", path_of("again.html")), 0);
    size_t a, b;
    char *x = weir_test_read_file(html, &a), *y = weir_test_read_file(path_of("again.html"), &b);
    cr_assert(a == b && !memcmp(x, y, a), "weir report and --html differ");
    free(x);
    free(y);
}

Test(report, batch_and_profile_pages_render_in_chromium_without_a_console_message)
{
    char out[600];
    snprintf(out, sizeof(out), "file:%s", path_of("ev.avro"));
    cr_assert_eq(WEIR("gen", "--out", out, "--count", "3000", "--seed", "6", "-q"), 0);
    cr_assert_eq(WEIR("batch", "--model", EXAMPLE_MODEL, "--in", path_of("ev.avro"), "--out",
                      path_of("scored.avro"), "--report", path_of("batch.json"), "-q"),
                 0);
    cr_assert_eq(WEIR("report", path_of("batch.json"), "-o", path_of("batch.html")), 0);
    expect_clean_page(path_of("batch.html"), "report-batch.png");
    cr_assert_eq(WEIR("profile", "--in", out, "--out", path_of("profile.json"), "-q"), 0);
    cr_assert_eq(WEIR("report", path_of("profile.json"), "-o", path_of("profile.html")), 0);
    expect_clean_page(path_of("profile.html"), "report-profile.png");
}

Test(report, a_page_that_fetches_is_caught)
{
    const char *page = "<!doctype html><html><head><meta charset=\"utf-8\">"
                       "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                       "'none'\"><title>x</title></head><body><p>x</p>"
                       "<img src=\"http://127.0.0.1:9/x.png\"></body></html>";
    FILE *f = fopen(path_of("bad.html"), "w");
    fputs(page, f);
    fclose(f);
    char png[600];
    snprintf(png, sizeof(png), "%s", path_of("bad.png"));
    browser_t b = render(path_of("bad.html"), png);
    cr_assert_eq(b.code, 0);
    cr_assert_gt(b.console, 0, "a blocked fetch went unnoticed");
}

Test(report, not_a_report_is_refused)
{
    FILE *f = fopen(path_of("x.json"), "w");
    fputs("{\"format\": \"something/1\"}", f);
    fclose(f);
    cr_assert_eq(WEIR("report", path_of("x.json"), "-o", path_of("x.html")), 2);
    cr_assert_eq(WEIR("report", path_of("missing.json"), "-o", path_of("x.html")), 2);
    cr_assert_eq(WEIR("report", path_of("x.json")), 2);
}
