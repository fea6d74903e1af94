/*
 * fuzz_report.c — a libFuzzer target for the HTML renderer of `weir report`
 * (weir_report_html()): any bytes that parse as JSON, as the report to render.
 * A report is a file a person may have edited or truncated, so every field
 * may be missing, of the wrong type, out of range or huge.
 *
 * What it holds to, by abort():
 * - a refusal carries a message, and writes no page;
 * - a page starts with the doctype and its Content-Security-Policy, and every
 *   `<` in it opens (or closes) one of the elements the renderer writes: a
 *   string of the report (a feature's name, a model's, a reason) is always
 *   escaped, so it can never add an element, a script or a fetch;
 * - no attribute holds "nan" or "inf" (a browser refuses such a coordinate
 *   with a console error), whatever numbers the report holds;
 * - it ends: an axis of a huge or tiny range still has a bounded number of
 *   ticks (the replay program's timeout catches a loop).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const elements[] = {
    "html", "head", "meta",   "title",    "style", "body",  "h1",     "h2", "h3",
    "p",    "b",    "br",     "div",      "span",  "table", "tr",     "td", "th",
    "svg",  "rect", "circle", "polyline", "line",  "text",  "figure", NULL,
};

/* Whether @p p (just after a '<', or after "</") names an element of the list,
 * followed by a space, '>' or '/'. */
static int known_element(const char *p, const char *end)
{
    for (size_t i = 0; elements[i]; i++) {
        size_t n = strlen(elements[i]);
        if ((size_t)(end - p) > n && !strncmp(p, elements[i], n) &&
            (p[n] == ' ' || p[n] == '>' || p[n] == '/'))
            return 1;
    }
    return 0;
}

/* Whether the tag from @p p to @p end holds "nan" or "inf" as a word. */
static int tag_has_nonfinite(const char *p, const char *end)
{
    for (const char *q = p; q + 3 <= end; q++) {
        if (strncasecmp(q, "nan", 3) && strncasecmp(q, "inf", 3))
            continue;
        int word_start = q == p || !isalnum((unsigned char)q[-1]);
        int word_end = q + 3 == end || !isalnum((unsigned char)q[3]);
        if (word_start && word_end)
            return 1;
    }
    return 0;
}

static void check_page(const weir_buf_t *page)
{
    static const char head[] = "<!doctype html>\n<html";
    static const char csp[] = "Content-Security-Policy\" content=\"default-src 'none'";
    const char *text = (const char *)page->data, *end = text + page->len;
    if (page->len < sizeof(head) || memcmp(text, head, sizeof(head) - 1))
        abort();
    if (!memmem(text, page->len < 512 ? page->len : 512, csp, sizeof(csp) - 1))
        abort();
    for (const char *p = text + sizeof(head) - 1; p < end; p++) {
        if (*p != '<')
            continue;
        const char *name = p + 1 < end && p[1] == '/' ? p + 2 : p + 1;
        if (!known_element(name, end))
            abort();
        const char *close = memchr(p, '>', (size_t)(end - p));
        if (!close || tag_has_nonfinite(p, close))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *report = json_loadb((const char *)data, size, 0, &jerr);
    if (!report)
        return 0;
    weir_buf_t page;
    char err[512] = "";
    weir_buf_init(&page, (size_t)4 << 20);
    int rc = weir_report_html(report, &page, err, sizeof(err));
    if (rc == 0)
        check_page(&page);
    else if (rc > 0 || !err[0])
        abort();
    weir_buf_dispose(&page);
    json_decref(report);
    return 0;
}
