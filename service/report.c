/*
 * report.c — `weir report R.json -o R.html`, and the HTML of every report
 * weir writes: a backtest (metrics over time, ROC and precision-recall
 * curves, calibration, threshold and cost, drift statistics over time per
 * feature with thresholds and alerts, reference against window histograms,
 * champion against challengers), a batch report, a profile.
 *
 * One page, self-contained: inline CSS and SVG drawn here from the numbers
 * of the report, no script, no web font, no image, and a
 * Content-Security-Policy that forbids fetching anything. Owns nothing past
 * a call; every chart is written straight into the caller's buffer.
 */
#include "report.h"
#include "cli.h"
#include "common.h"
#include "prom.h"

#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HTML_MAX ((size_t)256 << 20)
#define W 560
#define H 250
#define ML 58
#define MR 14
#define MT 30
#define MB 42
/* A report is a file a person may edit: a value past this is drawn at it,
 * so an axis's width stays a finite number. */
#define AXIS_LIMIT 1e300
#define MAX_TICKS 32

static const char *const palette[] = {"#1f6fb4", "#d2452f", "#2a9d4a", "#e08a12",
                                      "#7b52ab", "#8c564b", "#d05fa8", "#6f6f6f"};
#define COLOR(i) palette[(i) % (sizeof(palette) / sizeof(palette[0]))]

#define P(...) weir_buf_printf(b, __VA_ARGS__)

/* ---- text ----------------------------------------------------------------- */

static void esc(weir_buf_t *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<':
            P("&lt;");
            break;
        case '>':
            P("&gt;");
            break;
        case '&':
            P("&amp;");
            break;
        case '"':
            P("&quot;");
            break;
        default:
            if ((unsigned char)*s < 0x20)
                P(" ");
            else
                weir_buf_append(b, s, 1);
        }
    }
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static double dbl(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void fmt(char *out, size_t n, double v)
{
    if (isnan(v))
        snprintf(out, n, "–");
    else if (v != 0 && (fabs(v) >= 1e6 || fabs(v) < 1e-3))
        snprintf(out, n, "%.3g", v);
    else if (fabs(v) >= 1000)
        snprintf(out, n, "%.0f", v);
    else
        snprintf(out, n, "%.4g", v);
}

/* Years 1 to 9999 in ms since the epoch: the times a label can show. */
#define LABEL_TIME_MIN -62135596800000.0
#define LABEL_TIME_MAX 253402300800000.0

static void time_label(char *out, size_t n, double ms, int with_date)
{
    struct tm tm;
    time_t t = 0;
    int shown = ms >= LABEL_TIME_MIN && ms < LABEL_TIME_MAX;
    if (shown) {
        t = (time_t)floor(ms / 1000);
        shown = gmtime_r(&t, &tm) != NULL;
    }
    /* a time no calendar shows (an edited report) is shown as its number */
    if (shown)
        strftime(out, n, with_date ? "%m-%d %H:%M" : "%H:%M:%S", &tm);
    else
        fmt(out, n, ms);
}

/* The numbers of a JSON array (null: NaN); the caller frees. */
static double *numbers(const json_t *a, size_t *n)
{
    *n = json_array_size(a);
    double *x = malloc((*n ? *n : 1) * sizeof(double));
    if (!x) {
        *n = 0;
        return NULL;
    }
    for (size_t i = 0; i < *n; i++) {
        json_t *v = json_array_get(a, i);
        x[i] = json_is_number(v) ? json_number_value(v) : NAN;
    }
    return x;
}

/* ---- charts -------------------------------------------------------------- */

typedef struct {
    const char *name;
    double *x, *y;
    size_t n;
    const char *color;
    int dashed, dots;
} series_t;

typedef struct {
    double x;
    const char *color, *label;
} vmark_t;

typedef struct {
    const char *title, *xlabel, *ylabel;
    int x_time, unit, diagonal;
    double x0, x1, y0, y1; /* NaN: from the data */
    const vmark_t *vmarks;
    size_t n_vmarks;
    const double *hlines;
    size_t n_hlines;
} chart_t;

static double nice_step(double range)
{
    if (!(range > 0))
        return 1;
    double raw = range / 5, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

static double axis_clamp(double v)
{
    return fmax(-AXIS_LIMIT, fmin(AXIS_LIMIT, v));
}

/* An axis from @p lo up: @p hi, or when that is not above @p lo, a width of
 * at least @p unit that adding to @p lo does not lose. */
static double axis_top(double lo, double hi, double unit)
{
    return hi > lo ? hi : lo + fmax(unit, fabs(lo) * 1e-6);
}

/* The ticks from @p lo to @p hi every @p step: the first multiple of @p step
 * at or above @p lo in @p first, and how many (at most MAX_TICKS; none when
 * the step is of no use). Counted, never found by adding steps: a step below
 * the values' precision would never reach @p hi. */
static int axis_ticks(double lo, double hi, double step, double *first)
{
    if (!(step > 0) || !isfinite(step) || !isfinite(lo) || !isfinite(hi) || hi < lo)
        return 0;
    double f = ceil(lo / step) * step, n = floor((hi - f) / step + 1e-9) + 1;
    if (!isfinite(f) || !(n >= 1))
        return 0;
    *first = f;
    return n > MAX_TICKS ? MAX_TICKS : (int)n;
}

static void svg_open(weir_buf_t *b, const char *title)
{
    P("<figure><svg viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\"><title>", W, H, W,
      H);
    esc(b, title);
    P("</title><text x=\"%d\" y=\"18\" class=\"t\">", ML);
    esc(b, title);
    P("</text>");
}

static void line_chart(weir_buf_t *b, const chart_t *c, const series_t *s, size_t ns)
{
    double x0 = c->x0, x1 = c->x1, y0 = c->y0, y1 = c->y1;
    double dx0 = INFINITY, dx1 = -INFINITY, dy0 = INFINITY, dy1 = -INFINITY;
    for (size_t k = 0; k < ns; k++)
        for (size_t i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i]))
                continue;
            dx0 = fmin(dx0, s[k].x[i]);
            dx1 = fmax(dx1, s[k].x[i]);
            dy0 = fmin(dy0, s[k].y[i]);
            dy1 = fmax(dy1, s[k].y[i]);
        }
    for (size_t i = 0; i < c->n_hlines; i++) {
        dy0 = fmin(dy0, c->hlines[i]);
        dy1 = fmax(dy1, c->hlines[i]);
    }
    if (isnan(x0))
        x0 = isfinite(dx0) ? dx0 : 0;
    if (isnan(x1))
        x1 = isfinite(dx1) ? dx1 : 1;
    if (isnan(y0))
        y0 = isfinite(dy0) ? (dy0 > 0 && dy0 < (dy1 - dy0) ? 0 : dy0) : 0;
    if (isnan(y1))
        y1 = isfinite(dy1) ? dy1 : 1;
    x0 = axis_clamp(x0);
    x1 = axis_top(x0, axis_clamp(x1), c->x_time ? 3600000 : 1);
    y0 = axis_clamp(y0);
    y1 = axis_clamp(y1);
    if (y1 <= y0) {
        y1 = y0 + (fabs(y0) > 0 ? fabs(y0) * 0.1 : 1);
        y0 -= fabs(y0) > 0 ? fabs(y0) * 0.1 : 0;
    }
    double pw = W - ML - MR, ph = H - MT - MB;
#define SX(v) (ML + ((v)-x0) / (x1 - x0) * pw)
#define SY(v) (MT + ph - ((v)-y0) / (y1 - y0) * ph)
    svg_open(b, c->title);
    P("<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" class=\"pa\"/>", ML, MT, pw, ph);
    /* y ticks */
    double step = nice_step(y1 - y0), first = 0;
    int ticks = axis_ticks(y0, y1, step, &first);
    for (int i = 0; i < ticks; i++) {
        double v = first + step * i;
        char t[32];
        fmt(t, sizeof(t), fabs(v) < step * 1e-9 ? 0 : v);
        P("<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"g\"/>"
          "<text x=\"%d\" y=\"%.1f\" class=\"yl\">%s</text>",
          ML, ML + pw, SY(v), SY(v), ML - 4, SY(v) + 4, t);
    }
    /* x ticks */
    int with_date = c->x_time && x1 - x0 > 86400000.0;
    double xstep = c->x_time ? (x1 - x0) / 4 : nice_step(x1 - x0), xstart = x0;
    int xticks = c->x_time ? 5 : axis_ticks(x0, x1, xstep, &xstart);
    for (int i = 0; i < xticks; i++) {
        double v = xstart + xstep * i;
        char t[32];
        if (c->x_time)
            time_label(t, sizeof(t), v, with_date);
        else
            fmt(t, sizeof(t), fabs(v) < xstep * 1e-9 ? 0 : v);
        P("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\" class=\"g\"/>"
          "<text x=\"%.1f\" y=\"%.1f\" class=\"xl\">%s</text>",
          SX(v), SX(v), MT, MT + ph, SX(v), MT + ph + 14, t);
    }
    if (c->xlabel) {
        P("<text x=\"%.1f\" y=\"%d\" class=\"al\">", ML + pw / 2, H - 6);
        esc(b, c->x_time ? "event time (UTC)" : c->xlabel);
        P("</text>");
    }
    if (c->ylabel) {
        P("<text transform=\"translate(12 %.1f) rotate(-90)\" class=\"al\">", MT + ph / 2);
        esc(b, c->ylabel);
        P("</text>");
    }
    if (c->diagonal)
        P("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"d\"/>", SX(x0), SY(y0),
          SX(x1), SY(y1));
    for (size_t i = 0; i < c->n_hlines; i++)
        P("<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"th\"/>", ML, ML + pw,
          SY(c->hlines[i]), SY(c->hlines[i]));
    for (size_t i = 0; i < c->n_vmarks; i++) {
        const vmark_t *m = &c->vmarks[i];
        if (!(m->x >= x0 && m->x <= x1))
            continue;
        P("<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\" stroke=\"%s\" class=\"vm\">"
          "<title>",
          SX(m->x), SX(m->x), MT, MT + ph, m->color);
        esc(b, m->label ? m->label : "");
        P("</title></line>");
    }
    for (size_t k = 0; k < ns; k++) {
        int open = 0;
        for (size_t i = 0; i < s[k].n; i++) {
            if (!isfinite(s[k].x[i]) || !isfinite(s[k].y[i])) {
                if (open)
                    P("\"/>");
                open = 0;
                continue;
            }
            double px = SX(s[k].x[i]), py = SY(fmax(y0, fmin(y1, s[k].y[i])));
            if (!open) {
                P("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\"%s points=\"",
                  s[k].color, s[k].dashed ? " stroke-dasharray=\"5 3\"" : "");
                open = 1;
            }
            P("%.1f,%.1f ", px, py);
        }
        if (open)
            P("\"/>");
        if (s[k].dots)
            for (size_t i = 0; i < s[k].n; i++)
                if (isfinite(s[k].x[i]) && isfinite(s[k].y[i]))
                    P("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.6\" fill=\"%s\"/>", SX(s[k].x[i]),
                      SY(fmax(y0, fmin(y1, s[k].y[i]))), s[k].color);
    }
    /* legend */
    double lx = ML + 8;
    for (size_t k = 0; k < ns && ns > 1; k++) {
        if (!s[k].name)
            continue;
        P("<rect x=\"%.1f\" y=\"%d\" width=\"10\" height=\"3\" fill=\"%s\"/>"
          "<text x=\"%.1f\" y=\"%d\" class=\"lg\">",
          lx, MT + 8, s[k].color, lx + 13, MT + 12);
        esc(b, s[k].name);
        P("</text>");
        lx += 22 + 6.2 * (double)strlen(s[k].name);
    }
    P("</svg></figure>");
#undef SX
#undef SY
}

/* Grouped bars: @p groups series of @p n values over @p n labels. */
static void bar_chart(weir_buf_t *b, const char *title, const char *const *labels, size_t n,
                      const double *const *values, const char *const *names, size_t groups,
                      const char *ylabel)
{
    double top = 0;
    for (size_t g = 0; g < groups; g++)
        for (size_t i = 0; i < n; i++)
            if (isfinite(values[g][i]))
                top = fmax(top, values[g][i]);
    if (top <= 0)
        top = 1;
    top = axis_clamp(top);
    double pw = W - ML - MR, ph = H - MT - MB, slot = pw / (double)(n ? n : 1);
    double bw = fmax(1, (slot * 0.8) / (double)groups);
    svg_open(b, title);
    P("<rect x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\" class=\"pa\"/>", ML, MT, pw, ph);
    double step = nice_step(top), first = 0;
    int ticks = axis_ticks(0, top, step, &first);
    for (int i = 0; i < ticks; i++) {
        double v = first + step * i;
        char t[32];
        fmt(t, sizeof(t), v);
        double y = MT + ph - v / top * ph;
        P("<line x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"g\"/>"
          "<text x=\"%d\" y=\"%.1f\" class=\"yl\">%s</text>",
          ML, ML + pw, y, y, ML - 4, y + 4, t);
    }
    if (ylabel) {
        P("<text transform=\"translate(12 %.1f) rotate(-90)\" class=\"al\">", MT + ph / 2);
        esc(b, ylabel);
        P("</text>");
    }
    size_t label_every = n > 12 ? (n + 11) / 12 : 1;
    for (size_t i = 0; i < n; i++) {
        for (size_t g = 0; g < groups; g++) {
            /* a bar is never below the axis nor above the chart */
            double v = isfinite(values[g][i]) ? fmax(0, fmin(top, values[g][i])) : 0;
            double h = v / top * ph;
            P("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>",
              ML + slot * (double)i + slot * 0.1 + bw * (double)g, MT + ph - h, bw, h, COLOR(g));
            esc(b, labels[i]);
            char t[32];
            fmt(t, sizeof(t), values[g][i]);
            P(": %s</title></rect>", t);
        }
        if (i % label_every == 0) {
            P("<text x=\"%.1f\" y=\"%.1f\" class=\"xl\">", ML + slot * ((double)i + 0.5),
              MT + ph + 14);
            char cut[24];
            snprintf(cut, sizeof(cut), "%.14s", labels[i]);
            esc(b, cut);
            P("</text>");
        }
    }
    double lx = ML + 8;
    for (size_t g = 0; g < groups && groups > 1; g++) {
        P("<rect x=\"%.1f\" y=\"%d\" width=\"10\" height=\"8\" fill=\"%s\"/>"
          "<text x=\"%.1f\" y=\"%d\" class=\"lg\">",
          lx, MT + 5, COLOR(g), lx + 13, MT + 12);
        esc(b, names[g]);
        P("</text>");
        lx += 22 + 6.2 * (double)strlen(names[g]);
    }
    P("</svg></figure>");
}

static void free_series(series_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].x);
        free(s[i].y);
    }
}

/* ---- the page --------------------------------------------------------------- */

static void page_open(weir_buf_t *b, const char *title)
{
    P("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
      "style-src 'unsafe-inline'\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>");
    esc(b, title);
    P("</title><style>"
      "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
      "margin:24px auto;max-width:1200px;padding:0 16px;color:#1d2330;background:#fff}"
      "h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;"
      "border-bottom:1px solid #d8dce3;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}"
      ".sub{color:#5b6475;font-size:13px}.grid{display:flex;flex-wrap:wrap;gap:6px}"
      "figure{margin:0}svg{background:#fff;border:1px solid #e3e6ec;border-radius:4px}"
      "table{border-collapse:collapse;font-size:13px;margin:6px 0}"
      "th,td{border-bottom:1px solid #e3e6ec;padding:3px 10px;text-align:right}"
      "th:first-child,td:first-child{text-align:left}th{background:#f4f6f9}"
      ".warn{background:#fff4e0;border:1px solid #e8b04a;padding:8px 12px;border-radius:4px;"
      "margin:10px 0;font-size:14px}.good{color:#217a3c}.bad{color:#b3261e}"
      ".t{font-size:13px;font-weight:600;fill:#1d2330}.yl{font-size:10px;text-anchor:end;"
      "fill:#5b6475}.xl{font-size:10px;text-anchor:middle;fill:#5b6475}"
      ".al{font-size:11px;text-anchor:middle;fill:#3b4252}.lg{font-size:10.5px;fill:#3b4252}"
      ".pa{fill:none;stroke:#c9ced8}.g{stroke:#eef0f4}.d{stroke:#9aa1ad;stroke-dasharray:4 4}"
      ".th{stroke:#b3261e;stroke-dasharray:6 3;stroke-width:1.2}.vm{stroke-width:1.5;opacity:.7}"
      "</style></head><body>");
}

static void page_close(weir_buf_t *b)
{
    P("<p class=\"sub\">Made by weir %s. Every number comes from the report file.</p>"
      "</body></html>\n",
      WEIR_VERSION);
}

static void warnings_box(weir_buf_t *b, const json_t *warnings)
{
    size_t i;
    json_t *w;
    json_array_foreach(warnings, i, w)
    {
        P("<div class=\"warn\"><b>Warning:</b> ");
        esc(b, json_string_value(w));
        P("</div>");
    }
}

static void kv_row(weir_buf_t *b, const char *k, const char *v)
{
    P("<tr><td>");
    esc(b, k);
    P("</td><td>");
    esc(b, v);
    P("</td></tr>");
}

static void dead_table(weir_buf_t *b, const json_t *dead)
{
    const char *key;
    json_t *v;
    if (json_object_size(dead) == 0) {
        P("<p class=\"sub\">No dead letters.</p>");
        return;
    }
    P("<table><tr><th>reason</th><th>events</th></tr>");
    json_object_foreach((json_t *)dead, key, v)
    {
        char n[32];
        snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        kv_row(b, key, n);
    }
    P("</table>");
}

/* ---- backtest ----------------------------------------------------------------- */

static const char *const binary_keys[] = {"roc_auc",  "pr_auc",   "precision", "recall", "f1",
                                          "accuracy", "log_loss", "brier",     "cost",   NULL};
static const char *const multi_keys[] = {"accuracy",     "macro_f1",    "macro_precision",
                                         "macro_recall", "weighted_f1", "log_loss",
                                         "roc_auc_ovr",  NULL};
static const char *const regression_keys[] = {"mae",       "rmse", "r2", "mape",
                                              "median_ae", "bias", NULL};
/* for each metric, whether higher is better (the colour of a delta) */
static int higher_better(const char *k)
{
    return strcmp(k, "log_loss") && strcmp(k, "brier") && strcmp(k, "cost") && strcmp(k, "mae") &&
           strcmp(k, "rmse") && strcmp(k, "mape") && strcmp(k, "median_ae") && strcmp(k, "mse");
}

static const char *const *keys_of(const char *task)
{
    return !strcmp(task, "binary")       ? binary_keys
           : !strcmp(task, "multiclass") ? multi_keys
                                         : regression_keys;
}

static void comparison_table(weir_buf_t *b, const json_t *models)
{
    json_t *champ = json_array_get(models, 0);
    const char *const *keys = keys_of(str(champ, "task"));
    P("<table><tr><th>metric</th>");
    for (size_t m = 0; m < json_array_size(models); m++) {
        json_t *mo = json_array_get(models, m);
        P("<th>");
        esc(b, str(mo, "name"));
        P(" ");
        esc(b, str(mo, "version"));
        P("<br><span class=\"sub\">%s</span></th>", m == 0 ? "champion" : "challenger");
        if (m > 0)
            P("<th>Δ vs champion</th>");
    }
    P("</tr>");
    for (size_t k = 0; keys[k]; k++) {
        P("<tr><td>%s</td>", keys[k]);
        double c = dbl(json_object_get(champ, "metrics"), keys[k]);
        for (size_t m = 0; m < json_array_size(models); m++) {
            double v = dbl(json_object_get(json_array_get(models, m), "metrics"), keys[k]);
            char t[32];
            fmt(t, sizeof(t), v);
            P("<td>%s</td>", t);
            if (m > 0) {
                double d = v - c;
                fmt(t, sizeof(t), d);
                int good = (d > 0) == higher_better(keys[k]);
                P("<td class=\"%s\">%s%s</td>",
                  isnan(d) || d == 0 ? ""
                  : good             ? "good"
                                     : "bad",
                  d > 0 ? "+" : "", t);
            }
        }
        P("</tr>");
    }
    P("<tr><td>labelled events</td>");
    for (size_t m = 0; m < json_array_size(models); m++) {
        json_t *counts = json_object_get(json_array_get(models, m), "counts");
        P("<td>%" JSON_INTEGER_FORMAT "</td>%s",
          json_integer_value(json_object_get(counts, "labelled")), m > 0 ? "<td></td>" : "");
    }
    P("</tr><tr><td>decisions differing from the champion</td><td></td>");
    for (size_t m = 1; m < json_array_size(models); m++) {
        json_t *d =
            json_object_get(json_object_get(json_array_get(models, m), "vs_champion"), "decision");
        char t[32];
        fmt(t, sizeof(t), dbl(d, "share") * 100);
        P("<td>%s%%</td><td class=\"sub\">%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
          "</td>",
          t, json_integer_value(json_object_get(d, "differing")),
          json_integer_value(json_object_get(d, "events")));
    }
    P("</tr></table>");
}

/* One line per model of a per-bucket number (metrics.KEY, or KEY of the bucket). */
static void bucket_chart(weir_buf_t *b, const json_t *models, const char *key, int in_metrics,
                         const char *title)
{
    series_t s[8];
    size_t ns = 0;
    for (size_t m = 0; m < json_array_size(models) && ns < 8; m++) {
        json_t *mo = json_array_get(models, m), *buckets = json_object_get(mo, "buckets");
        size_t n = json_array_size(buckets);
        series_t *x = &s[ns];
        memset(x, 0, sizeof(*x));
        x->x = malloc((n ? n : 1) * sizeof(double));
        x->y = malloc((n ? n : 1) * sizeof(double));
        if (!x->x || !x->y) {
            free(x->x);
            free(x->y);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            json_t *bk = json_array_get(buckets, i);
            x->x[i] = dbl(bk, "start");
            x->y[i] = dbl(in_metrics ? json_object_get(bk, "metrics") : bk, key);
        }
        x->n = n;
        x->name = str(mo, "name");
        x->color = COLOR(m);
        x->dots = 1;
        ns++;
    }
    chart_t c = {
        .title = title, .xlabel = "time", .x_time = 1, .x0 = NAN, .x1 = NAN, .y0 = NAN, .y1 = NAN};
    line_chart(b, &c, s, ns);
    free_series(s, ns);
}

static void curve_chart(weir_buf_t *b, const json_t *models, const char *section, const char *xk,
                        const char *yk, const char *title, const char *xl, const char *yl,
                        int diagonal)
{
    series_t s[8];
    size_t ns = 0;
    for (size_t m = 0; m < json_array_size(models) && ns < 8; m++) {
        json_t *mo = json_array_get(models, m), *sec = json_object_get(mo, section);
        if (!sec)
            continue;
        size_t nx, ny;
        s[ns] = (series_t){.name = str(mo, "name"), .color = COLOR(m)};
        s[ns].x = numbers(json_object_get(sec, xk), &nx);
        s[ns].y = numbers(json_object_get(sec, yk), &ny);
        s[ns].n = nx < ny ? nx : ny;
        s[ns].dots = !strcmp(section, "calibration");
        ns++;
    }
    chart_t c = {.title = title,
                 .xlabel = xl,
                 .ylabel = yl,
                 .x0 = 0,
                 .x1 = 1,
                 .y0 = 0,
                 .y1 = 1,
                 .diagonal = diagonal};
    line_chart(b, &c, s, ns);
    free_series(s, ns);
}

static void cost_chart(weir_buf_t *b, const json_t *models)
{
    series_t s[8];
    vmark_t marks[16];
    size_t ns = 0, nm = 0;
    char labels[16][96];
    for (size_t m = 0; m < json_array_size(models) && ns < 8; m++) {
        json_t *mo = json_array_get(models, m), *sw = json_object_get(mo, "threshold_sweep");
        json_t *points = json_object_get(sw, "points");
        if (!sw)
            continue;
        size_t n = json_array_size(points);
        s[ns] = (series_t){.name = str(mo, "name"), .color = COLOR(m)};
        s[ns].x = malloc((n ? n : 1) * sizeof(double));
        s[ns].y = malloc((n ? n : 1) * sizeof(double));
        if (!s[ns].x || !s[ns].y) {
            free(s[ns].x);
            free(s[ns].y);
            continue;
        }
        for (size_t i = 0; i < n; i++) {
            s[ns].x[i] = dbl(json_array_get(points, i), "threshold");
            s[ns].y[i] = dbl(json_array_get(points, i), "cost");
        }
        s[ns].n = n;
        json_t *opt = json_object_get(sw, "optimal");
        double t = dbl(opt, "threshold");
        if (isfinite(t) && nm < 16) {
            snprintf(labels[nm], sizeof(labels[nm]), "%s: cost-optimal threshold %.4g (cost %.6g)",
                     str(mo, "name"), t, dbl(opt, "cost"));
            marks[nm] = (vmark_t){t, COLOR(m), labels[nm]};
            nm++;
        }
        double bt = dbl(mo, "threshold");
        if (isfinite(bt) && nm < 16) {
            snprintf(labels[nm], sizeof(labels[nm]), "%s: the bundle's threshold %.4g",
                     str(mo, "name"), bt);
            marks[nm] = (vmark_t){bt, "#9aa1ad", labels[nm]};
            nm++;
        }
        ns++;
    }
    json_t *sw0 = json_object_get(json_array_get(models, 0), "threshold_sweep");
    char title[160];
    snprintf(title, sizeof(title), "Cost by threshold (FP %g, FN %g; lines: optimum, bundle)",
             dbl(sw0, "cost_false_positive"), dbl(sw0, "cost_false_negative"));
    chart_t c = {.title = title,
                 .xlabel = "threshold",
                 .ylabel = "cost",
                 .x0 = 0,
                 .x1 = 1,
                 .y0 = NAN,
                 .y1 = NAN,
                 .vmarks = marks,
                 .n_vmarks = nm};
    line_chart(b, &c, s, ns);
    free_series(s, ns);
}

/* Effect over threshold of every test of one feature (1 is the threshold),
 * with its alerts marked. */
static void drift_feature_chart(weir_buf_t *b, const json_t *timeline, const json_t *alerts,
                                const char *feature)
{
    series_t s[8];
    vmark_t marks[64];
    char labels[64][128];
    size_t ns = 0, nm = 0, n_at;
    double *at = numbers(json_object_get(timeline, "at"), &n_at);
    size_t i;
    json_t *se;
    json_array_foreach(json_object_get(timeline, "series"), i, se)
    {
        if (strcmp(str(se, "feature"), feature) != 0 || ns == 8)
            continue;
        size_t n;
        double thr = dbl(se, "threshold");
        double *effect = numbers(json_object_get(se, "effect"), &n);
        double *x = malloc((n ? n : 1) * sizeof(double));
        if (!effect || !x) {
            free(effect);
            free(x);
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            x[k] = k < n_at ? at[k] : NAN;
            effect[k] = thr > 0 ? effect[k] / thr : effect[k];
        }
        s[ns] =
            (series_t){.name = str(se, "test"), .x = x, .y = effect, .n = n, .color = COLOR(ns)};
        ns++;
    }
    json_t *al;
    json_array_foreach(alerts, i, al)
    {
        if (strcmp(str(al, "feature"), feature) != 0 || nm == 64)
            continue;
        int recovered = !strcmp(str(al, "kind"), "recovered");
        snprintf(labels[nm], sizeof(labels[nm]), "%s %s (%s) at %s",
                 recovered ? "recovered" : "alert", str(al, "test"), str(al, "severity"),
                 str(al, "at_time"));
        marks[nm] = (vmark_t){dbl(al, "at"), recovered ? "#2a9d4a" : "#b3261e", labels[nm]};
        nm++;
    }
    if (ns > 0) {
        char title[200];
        snprintf(title, sizeof(title), "%.120s: effect ÷ threshold (dashed: 1)", feature);
        double one = 1;
        chart_t c = {.title = title,
                     .xlabel = "time",
                     .x_time = 1,
                     .x0 = NAN,
                     .x1 = NAN,
                     .y0 = 0,
                     .y1 = NAN,
                     .vmarks = marks,
                     .n_vmarks = nm,
                     .hlines = &one,
                     .n_hlines = 1};
        line_chart(b, &c, s, ns);
    }
    free_series(s, ns);
    free(at);
}

static void drift_section(weir_buf_t *b, const json_t *mo)
{
    json_t *drift = json_object_get(mo, "drift"), *data = json_object_get(drift, "data");
    json_t *alerts = json_object_get(drift, "alerts");
    P("<h3>");
    esc(b, str(mo, "name"));
    P(" — %" JSON_INTEGER_FORMAT " drift evaluations, %zu state changes</h3>",
      json_integer_value(json_object_get(data, "evaluations")), json_array_size(alerts));
    if (json_integer_value(json_object_get(data, "evaluations")) == 0) {
        P("<p class=\"sub\">No drift evaluation ran (fewer events than drift.step, or no "
          "reference in the bundle).</p>");
        return;
    }
    /* features with an alert first, then the rest, each once */
    const char *done[512];
    size_t n_done = 0;
    for (int pass = 0; pass < 2; pass++) {
        size_t i;
        json_t *se;
        json_array_foreach(json_object_get(data, "series"), i, se)
        {
            const char *f = str(se, "feature");
            int seen = 0, alerted = 0;
            for (size_t k = 0; k < n_done && !seen; k++)
                seen = !strcmp(done[k], f);
            size_t a;
            json_t *al;
            json_array_foreach(alerts, a, al) alerted |= !strcmp(str(al, "feature"), f);
            if (seen || (pass == 0) != alerted || n_done == 512)
                continue;
            done[n_done++] = f;
            if (pass == 0 && n_done == 1)
                P("<div class=\"grid\">");
            if (pass == 1 && (n_done == 1 || i == 0)) {
                /* nothing */
            }
            drift_feature_chart(b, data, alerts, f);
        }
        if (pass == 0 && n_done > 0)
            P("</div><p class=\"sub\">Features without an alert:</p>");
        if (pass == 0)
            P("<div class=\"grid\">");
    }
    P("</div>");
    json_t *concept = json_object_get(drift, "concept");
    if (json_integer_value(json_object_get(concept, "evaluations")) > 0) {
        P("<div class=\"grid\">");
        drift_feature_chart(b, concept, alerts, "concept");
        P("</div>");
    }
    /* reference against window for the drifted features (first alert of each) */
    const char *shown[256];
    size_t n_shown = 0, a;
    json_t *al;
    int opened = 0;
    json_array_foreach(alerts, a, al)
    {
        json_t *h = json_object_get(al, "histogram");
        const char *f = str(al, "feature");
        int seen = 0;
        for (size_t k = 0; k < n_shown && !seen; k++)
            seen = !strcmp(shown[k], f);
        if (!h || seen || n_shown == 256)
            continue;
        shown[n_shown++] = f;
        if (!opened) {
            P("<h3>Reference against the drift window at the alert</h3><div class=\"grid\">");
            opened = 1;
        }
        size_t nr, nw;
        double *ref = numbers(json_object_get(h, "reference"), &nr);
        double *win = numbers(json_object_get(h, "window"), &nw);
        size_t n = nr < nw ? nr : nw;
        json_t *cats = json_object_get(h, "categories"), *edges = json_object_get(h, "edges");
        char **labels = calloc(n ? n : 1, sizeof(char *));
        for (size_t k = 0; labels && k < n; k++) {
            char t[64], lo[32], hi[32];
            if (cats) {
                snprintf(t, sizeof(t), "%s", json_string_value(json_array_get(cats, k)));
            } else {
                fmt(lo, sizeof(lo), k ? json_number_value(json_array_get(edges, k - 1)) : NAN);
                fmt(hi, sizeof(hi), k + 1 < n ? json_number_value(json_array_get(edges, k)) : NAN);
                snprintf(t, sizeof(t), "%s…%s", k ? lo : "", k + 1 < n ? hi : "");
            }
            labels[k] = strdup(t);
        }
        if (ref && win && labels) {
            const double *vals[2] = {ref, win};
            const char *names[2] = {"reference", "window"};
            char title[200];
            snprintf(title, sizeof(title), "%.100s at %s", f, str(al, "at_time"));
            bar_chart(b, title, (const char *const *)labels, n, vals, names, 2, "share");
        }
        for (size_t k = 0; labels && k < n; k++)
            free(labels[k]);
        free(labels);
        free(ref);
        free(win);
    }
    if (opened)
        P("</div>");
    if (json_array_size(alerts) > 0) {
        P("<table><tr><th>at (event time)</th><th>kind</th><th>feature</th><th>test</th>"
          "<th>severity</th><th>statistic</th><th>effect</th><th>threshold</th><th>p-value</th>"
          "<th>window</th></tr>");
        json_array_foreach(alerts, a, al)
        {
            char st[32], ef[32], th[32], pv[32];
            fmt(st, sizeof(st), dbl(al, "statistic"));
            fmt(ef, sizeof(ef), dbl(al, "effect"));
            fmt(th, sizeof(th), dbl(al, "threshold"));
            fmt(pv, sizeof(pv), dbl(al, "p_value"));
            P("<tr><td>");
            esc(b, str(al, "at_time"));
            P("</td><td class=\"%s\">", strcmp(str(al, "kind"), "recovered") ? "bad" : "good");
            esc(b, str(al, "kind"));
            P("</td><td>");
            esc(b, str(al, "feature"));
            P("</td><td>");
            esc(b, str(al, "test"));
            P("</td><td>");
            esc(b, str(al, "severity"));
            P("</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%" JSON_INTEGER_FORMAT
              " events</td></tr>",
              st, ef, th, pv, json_integer_value(json_object_get(al, "window_count")));
        }
        P("</table>");
    }
}

static void render_backtest(weir_buf_t *b, const json_t *r)
{
    json_t *models = json_object_get(r, "models"), *champ = json_array_get(models, 0);
    json_t *input = json_object_get(r, "input"), *counts = json_object_get(r, "counts");
    const char *task = str(champ, "task");
    page_open(b, "weir backtest");
    P("<h1>Backtest: ");
    for (size_t m = 0; m < json_array_size(models); m++) {
        json_t *mo = json_array_get(models, m);
        P("%s", m ? " vs " : "");
        esc(b, str(mo, "name"));
        P(" ");
        esc(b, str(mo, "version"));
    }
    P("</h1><p class=\"sub\">");
    if (!strcmp(str(input, "kind"), "file")) {
        P("file ");
        esc(b, str(input, "file"));
    } else {
        P("topics ");
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(input, "topics"), i, t)
        {
            P("%s", i ? ", " : "");
            esc(b, json_string_value(t));
        }
    }
    json_t *et = json_object_get(r, "event_time");
    P(" · from ");
    esc(b, json_is_string(json_object_get(input, "from")) ? str(input, "from") : "the start");
    P(" to ");
    esc(b, json_is_string(json_object_get(input, "to")) ? str(input, "to") : "the end");
    P(" · events ");
    esc(b, str(et, "first"));
    P(" to ");
    esc(b, str(et, "last"));
    P(" · %" JSON_INTEGER_FORMAT " events, %" JSON_INTEGER_FORMAT " outside the time bounds</p>",
      json_integer_value(json_object_get(counts, "events")),
      json_integer_value(json_object_get(counts, "outside_range")));
    warnings_box(b, json_object_get(r, "warnings"));

    P("<h2>Champion and challengers</h2>");
    comparison_table(b, models);

    P("<h2>Metrics over time</h2><div class=\"grid\">");
    const char *const *keys = keys_of(task);
    for (size_t k = 0; keys[k] && k < 5; k++) {
        char title[96];
        snprintf(title, sizeof(title), "%s by %s", keys[k],
                 json_integer_value(json_object_get(r, "bucket_ms")) % 3600000 == 0 ? "hour bucket"
                                                                                    : "bucket");
        bucket_chart(b, models, keys[k], 1, title);
    }
    bucket_chart(b, models, "score_mean", 0, "mean score");
    if (!strcmp(task, "binary"))
        bucket_chart(b, models, "predicted_positive_rate", 0, "predicted positive rate");
    bucket_chart(b, models, "events", 0, "events");
    P("</div>");

    if (!strcmp(task, "binary")) {
        P("<h2>Ranking, calibration and the cost of being wrong</h2><div class=\"grid\">");
        json_t *sub = json_object_get(champ, "roc");
        (void)sub;
        curve_chart(b, models, "roc", "fpr", "tpr", "ROC curve", "false positive rate",
                    "true positive rate", 1);
        curve_chart(b, models, "pr", "recall", "precision", "Precision–recall curve", "recall",
                    "precision", 0);
        curve_chart(b, models, "calibration", "prob_pred", "prob_true",
                    "Calibration (reliability bins)", "mean predicted probability",
                    "fraction of positives", 1);
        cost_chart(b, models);
        P("</div>");
        P("<table><tr><th>model</th><th>cost-optimal threshold</th><th>its cost</th>"
          "<th>precision</th><th>recall</th><th>bundle threshold</th><th>its cost</th></tr>");
        for (size_t m = 0; m < json_array_size(models); m++) {
            json_t *mo = json_array_get(models, m), *sw = json_object_get(mo, "threshold_sweep");
            json_t *opt = json_object_get(sw, "optimal");
            json_t *at = json_object_get(sw, "at_bundle_threshold");
            char t1[32], c1[32], p1[32], r1[32], t2[32], c2[32];
            if (json_is_string(json_object_get(opt, "threshold")))
                snprintf(t1, sizeof(t1), "none (all negative)");
            else
                fmt(t1, sizeof(t1), dbl(opt, "threshold"));
            fmt(c1, sizeof(c1), dbl(opt, "cost"));
            fmt(p1, sizeof(p1), dbl(opt, "precision"));
            fmt(r1, sizeof(r1), dbl(opt, "recall"));
            fmt(t2, sizeof(t2), dbl(at, "threshold"));
            fmt(c2, sizeof(c2), dbl(at, "cost"));
            P("<tr><td>");
            esc(b, str(mo, "name"));
            P("</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>", t1,
              c1, p1, r1, t2, c2);
        }
        P("</table>");
    }

    P("<h2>Drift over time</h2><p class=\"sub\">Each line is a test's effect divided by its "
      "threshold: above the dashed line the test fails; red marks are alerts, green ones "
      "recoveries (hover for details).</p>");
    for (size_t m = 0; m < json_array_size(models); m++)
        drift_section(b, json_array_get(models, m));

    P("<h2>Dead letters and labels</h2><div class=\"grid\">");
    for (size_t m = 0; m < json_array_size(models); m++) {
        json_t *mo = json_array_get(models, m);
        P("<div><h3>");
        esc(b, str(mo, "name"));
        P("</h3>");
        dead_table(b, json_object_get(json_object_get(mo, "counts"), "dead_letters"));
        P("</div>");
    }
    json_t *labels = json_object_get(r, "labels");
    P("<div><h3>labels</h3><table>");
    static const char *lk[] = {"read",      "joined",     "arrived",
                               "unmatched", "duplicates", "invalid_total"};
    for (size_t k = 0; k < sizeof(lk) / sizeof(lk[0]); k++) {
        char n[32];
        snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(labels, lk[k])));
        kv_row(b, lk[k], n);
    }
    P("</table></div></div>");
    page_close(b);
}

/* ---- batch report ---------------------------------------------------------------- */

static void render_batch(weir_buf_t *b, const json_t *r)
{
    json_t *model = json_object_get(r, "model"), *score = json_object_get(r, "score");
    page_open(b, "weir batch report");
    P("<h1>Batch: ");
    esc(b, str(model, "name"));
    P(" ");
    esc(b, str(model, "version"));
    P("</h1><p class=\"sub\">");
    esc(b, str(r, "input"));
    P(" → ");
    esc(b, str(r, "output"));
    P("</p><table>");
    char n[64];
    static const char *ck[] = {"events", "scored", "dead_letters_total"};
    for (size_t k = 0; k < 3; k++) {
        snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(r, ck[k])));
        kv_row(b, ck[k], n);
    }
    static const char *sk[] = {"mean", "min", "max", "predicted_positive_rate"};
    for (size_t k = 0; k < 4; k++) {
        fmt(n, sizeof(n), dbl(score, sk[k]));
        kv_row(b, sk[k], n);
    }
    P("</table><div class=\"grid\">");
    size_t nh;
    double *h = numbers(json_object_get(score, "histogram_0_to_1_by_0.05"), &nh);
    if (h && nh > 0) {
        char *labels[64];
        size_t nl = nh < 64 ? nh : 64;
        for (size_t i = 0; i < nl; i++) {
            char t[32];
            snprintf(t, sizeof(t), "%.2f", (double)i * 0.05);
            labels[i] = strdup(t);
        }
        const double *vals[1] = {h};
        const char *names[1] = {"events"};
        bar_chart(b, "Scores (bins of 0.05)", (const char *const *)labels, nl, vals, names, 1,
                  "events");
        for (size_t i = 0; i < nl; i++)
            free(labels[i]);
    }
    free(h);
    json_t *tests = json_object_get(json_object_get(r, "drift"), "tests");
    size_t nt = json_array_size(tests);
    if (nt > 0) {
        char **labels = calloc(nt, sizeof(char *));
        double *ratio = calloc(nt, sizeof(double));
        for (size_t i = 0; labels && ratio && i < nt; i++) {
            json_t *t = json_array_get(tests, i);
            char l[160];
            snprintf(l, sizeof(l), "%s %s", str(t, "feature"), str(t, "test"));
            labels[i] = strdup(l);
            double thr = dbl(t, "threshold");
            ratio[i] = thr > 0 ? dbl(t, "effect") / thr : NAN;
        }
        if (labels && ratio) {
            const double *vals[1] = {ratio};
            const char *names[1] = {"effect / threshold"};
            bar_chart(b, "Drift: effect ÷ threshold per test (above 1 fails)",
                      (const char *const *)labels, nt, vals, names, 1, "ratio");
        }
        for (size_t i = 0; labels && i < nt; i++)
            free(labels[i]);
        free(labels);
        free(ratio);
    }
    P("</div><h2>Dead letters</h2>");
    dead_table(b, json_object_get(r, "dead_letters"));
    if (nt > 0) {
        P("<h2>Drift against the reference</h2><table><tr><th>kind</th><th>feature</th>"
          "<th>test</th><th>statistic</th><th>effect</th><th>threshold</th><th>drifted</th></tr>");
        for (size_t i = 0; i < nt; i++) {
            json_t *t = json_array_get(tests, i);
            char st[32], ef[32], th[32];
            fmt(st, sizeof(st), dbl(t, "statistic"));
            fmt(ef, sizeof(ef), dbl(t, "effect"));
            fmt(th, sizeof(th), dbl(t, "threshold"));
            int drifted = json_is_true(json_object_get(t, "drifted"));
            P("<tr><td>");
            esc(b, str(t, "kind"));
            P("</td><td>");
            esc(b, str(t, "feature"));
            P("</td><td>");
            esc(b, str(t, "test"));
            P("</td><td>%s</td><td>%s</td><td>%s</td><td class=\"%s\">%s</td></tr>", st, ef, th,
              drifted ? "bad" : "good", drifted ? "yes" : "no");
        }
        P("</table>");
    }
    page_close(b);
}

/* ---- profile ------------------------------------------------------------------- */

static void heat_color(char *out, size_t n, double r)
{
    if (isnan(r)) {
        snprintf(out, n, "#f0f0f0");
        return;
    }
    int a = (int)(fmin(1, fabs(r)) * 200); /* a correlation past 1 is an edited report */
    if (r >= 0)
        snprintf(out, n, "rgb(%d,%d,255)", 255 - a, 255 - a);
    else
        snprintf(out, n, "rgb(255,%d,%d)", 255 - a, 255 - a);
}

static void correlation_chart(weir_buf_t *b, const json_t *corr)
{
    json_t *fields = json_object_get(corr, "fields"), *matrix = json_object_get(corr, "matrix");
    size_t m = json_array_size(fields);
    if (m < 2)
        return;
    double cell = m > 30 ? 12 : m > 15 ? 18 : 26, left = 150, top = 40;
    double size = left + cell * (double)m + 20;
    P("<figure><svg viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" role=\"img\">"
      "<title>Correlation of the numeric fields</title>"
      "<text x=\"10\" y=\"18\" class=\"t\">Correlation (Pearson, pairwise complete; blue +, red "
      "−)</text>",
      size, top + cell * (double)m + 10, size, top + cell * (double)m + 10);
    for (size_t i = 0; i < m; i++) {
        char name[32];
        snprintf(name, sizeof(name), "%.22s", json_string_value(json_array_get(fields, i)));
        P("<text x=\"%.1f\" y=\"%.1f\" class=\"yl\">", left - 4, top + cell * ((double)i + 0.7));
        esc(b, name);
        P("</text>");
        for (size_t j = 0; j < m; j++) {
            json_t *v = json_array_get(json_array_get(matrix, i), j);
            double r = json_is_number(v) ? json_number_value(v) : NAN;
            char color[32], t[32];
            heat_color(color, sizeof(color), r);
            fmt(t, sizeof(t), r);
            P("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>",
              left + cell * (double)j, top + cell * (double)i, cell - 1, cell - 1, color);
            esc(b, name);
            P(" × ");
            esc(b, json_string_value(json_array_get(fields, j)));
            P(": %s</title></rect>", t);
        }
    }
    P("</svg></figure>");
}

static void render_profile(weir_buf_t *b, const json_t *r)
{
    json_t *fields = json_object_get(r, "fields");
    page_open(b, "weir profile");
    P("<h1>Profile of ");
    esc(b, str(json_object_get(r, "input"), "source"));
    P("</h1><p class=\"sub\">%" JSON_INTEGER_FORMAT " rows, %zu fields</p>",
      json_integer_value(json_object_get(r, "rows")), json_array_size(fields));
    warnings_box(b, json_object_get(r, "warnings"));
    P("<table><tr><th>field</th><th>type</th><th>count</th><th>missing</th><th>mean</th>"
      "<th>std</th><th>min</th><th>p50</th><th>max</th><th>distinct</th><th>top</th></tr>");
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        char c[32], ms[32], mean[32], sd[32], mn[32], med[32], mx[32], d[32];
        snprintf(c, sizeof(c), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(f, "count")));
        fmt(ms, sizeof(ms), dbl(f, "missing_share") * 100);
        fmt(mean, sizeof(mean), dbl(f, "mean"));
        fmt(sd, sizeof(sd), dbl(f, "std"));
        fmt(mn, sizeof(mn), dbl(f, "min"));
        fmt(med, sizeof(med), dbl(json_object_get(f, "quantiles"), "p50"));
        fmt(mx, sizeof(mx), dbl(f, "max"));
        snprintf(d, sizeof(d), "%s%" JSON_INTEGER_FORMAT,
                 json_is_true(json_object_get(f, "distinct_estimated")) ? "≈" : "",
                 json_integer_value(json_object_get(f, "distinct")));
        P("<tr><td>");
        esc(b, str(f, "name"));
        P("</td><td>");
        esc(b, str(f, "type"));
        P("</td><td>%s</td><td>%s%%</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
          "<td>%s</td><td>",
          c, ms, mean, sd, mn, med, mx, d);
        json_t *top = json_array_get(json_object_get(f, "top"), 0);
        if (top)
            esc(b, str(top, "value"));
        P("</td></tr>");
    }
    P("</table>");
    json_t *target = json_object_get(r, "target");
    P("<div class=\"grid\">");
    if (target) {
        json_t *classes = json_object_get(target, "classes");
        size_t n = json_array_size(classes);
        char **labels = calloc(n ? n : 1, sizeof(char *));
        double *share = calloc(n ? n : 1, sizeof(double));
        for (size_t k = 0; labels && share && k < n; k++) {
            labels[k] = strdup(str(json_array_get(classes, k), "value"));
            share[k] = dbl(json_array_get(classes, k), "share");
        }
        if (labels && share && n > 0) {
            const double *vals[1] = {share};
            const char *names[1] = {"share"};
            char title[160];
            snprintf(title, sizeof(title), "Target balance (%.100s)", str(target, "field"));
            bar_chart(b, title, (const char *const *)labels, n, vals, names, 1, "share");
        }
        for (size_t k = 0; labels && k < n; k++)
            free(labels[k]);
        free(labels);
        free(share);
    }
    json_array_foreach(fields, i, f)
    {
        json_t *h = json_object_get(f, "histogram");
        if (h) {
            size_t ne, nc;
            double *edges = numbers(json_object_get(h, "edges"), &ne);
            double *counts = numbers(json_object_get(h, "counts"), &nc);
            char **labels = calloc(nc ? nc : 1, sizeof(char *));
            for (size_t k = 0; labels && edges && k < nc && k < ne; k++) {
                char t[32];
                fmt(t, sizeof(t), edges[k]);
                labels[k] = strdup(t);
            }
            if (labels && counts && nc > 0 && ne > nc) {
                const double *vals[1] = {counts};
                const char *names[1] = {"rows"};
                bar_chart(b, str(f, "name"), (const char *const *)labels, nc, vals, names, 1,
                          "rows");
            }
            for (size_t k = 0; labels && k < nc; k++)
                free(labels[k]);
            free(labels);
            free(edges);
            free(counts);
        }
        json_t *top = json_object_get(f, "top");
        /* identifiers (nearly every value distinct) have no frequent category to show */
        double distinct = dbl(f, "distinct"), count = dbl(f, "count");
        if (!h && json_array_size(top) > 0 && !(distinct > 0.5 * count && distinct > 50)) {
            size_t n = json_array_size(top) > 15 ? 15 : json_array_size(top);
            char *labels[15];
            double share[15];
            for (size_t k = 0; k < n; k++) {
                labels[k] = strdup(str(json_array_get(top, k), "value"));
                share[k] = dbl(json_array_get(top, k), "share");
            }
            const double *vals[1] = {share};
            const char *names[1] = {"share"};
            bar_chart(b, str(f, "name"), (const char *const *)labels, n, vals, names, 1, "share");
            for (size_t k = 0; k < n; k++)
                free(labels[k]);
        }
    }
    P("</div><h2>Correlation</h2>");
    correlation_chart(b, json_object_get(r, "correlation"));
    page_close(b);
}

/* ---- entry points ---------------------------------------------------------------- */

int weir_report_html(const json_t *report, weir_buf_t *out, char *err, size_t errsz)
{
    const char *format = str(report, "format");
    weir_buf_t *b = out;
    if (!strcmp(format, "weir.backtest/1")) {
        if (json_array_size(json_object_get(report, "models")) == 0)
            return weir_seterr(err, errsz, WEIR_EINVAL, "the backtest report has no model");
        render_backtest(b, report);
    } else if (!strcmp(format, "weir.batch-report/1")) {
        render_batch(b, report);
    } else if (!strcmp(format, "weir.profile/1")) {
        render_profile(b, report);
    } else {
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "not a weir report (format \"%.64s\"; expected weir.backtest/1, "
                           "weir.batch-report/1 or weir.profile/1)",
                           format);
    }
    /* a page cut at the cap would show less than the report says */
    if (out->len + 1 >= out->max)
        return weir_seterr(err, errsz, WEIR_ELIMIT, "the page is larger than %zu bytes", out->max);
    return 0;
}

int weir_report_html_file(const json_t *report, const char *path, char *err, size_t errsz)
{
    weir_buf_t b;
    weir_buf_init(&b, HTML_MAX);
    int rc = weir_report_html(report, &b, err, errsz);
    if (rc == 0) {
        FILE *f = fopen(path, "w");
        if (!f || fwrite(b.data, 1, b.len, f) != b.len) {
            rc = weir_seterr(err, errsz, WEIR_EIO, "%s: cannot write the page", path);
        }
        if (f && fclose(f) != 0 && rc == 0)
            rc = weir_seterr(err, errsz, WEIR_EIO, "%s: cannot write the page", path);
    }
    weir_buf_dispose(&b);
    return rc;
}

typedef struct {
    const char *in, *out;
    int help;
} report_options_t;

static void usage(FILE *out)
{
    fprintf(out, "usage: weir report R.json -o R.html\n"
                 "\n"
                 "Renders a report of weir replay (weir.backtest/1), weir batch\n"
                 "(weir.batch-report/1) or weir profile (weir.profile/1) as one self-contained\n"
                 "HTML page: inline SVG charts and CSS, no script, nothing fetched.\n"
                 "\n"
                 "  -o, --out R.html   the page to write\n"
                 "  -h, --help         this help\n");
}

static int report_parse(int argc, char **argv, report_options_t *o, char *err, size_t errsz)
{
    static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int opt, rc = 0;
    memset(o, 0, sizeof(*o));
    optind = 1;
    opterr = 0;
    while (rc == 0 && (opt = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1) {
        if (opt == 'o')
            o->out = optarg;
        else if (opt == 'h')
            o->help = 1;
        else
            rc = weir_cli_option_error("report", opt, argc, argv, err, errsz);
    }
    if (rc || o->help)
        return rc;
    if (optind < argc)
        o->in = argv[optind++];
    if (optind < argc)
        return weir_cli_stray_argument("report", argv[optind], err, errsz);
    if (!o->in || !o->out)
        return weir_seterr(err, errsz, WEIR_EINVAL,
                           "a report and -o R.html are required (see weir report -h)");
    return 0;
}

int weir_report_main(int argc, char **argv)
{
    report_options_t o;
    char err[1024];
    if (report_parse(argc, argv, &o, err, sizeof(err)) != 0) {
        fprintf(stderr, "weir report: %s\n", err);
        return 2;
    }
    if (o.help) {
        usage(stdout);
        return 0;
    }
    json_error_t jerr;
    json_t *report = json_load_file(o.in, 0, &jerr);
    if (!report) {
        fprintf(stderr, "weir report: %s: line %d: %s\n", o.in, jerr.line, jerr.text);
        return 2;
    }
    int rc = weir_report_html_file(report, o.out, err, sizeof(err));
    json_decref(report);
    if (rc) {
        fprintf(stderr, "weir report: %s: %s\n", o.in, err);
        return rc == WEIR_EINVAL ? 2 : 1;
    }
    fprintf(stderr, "weir report: wrote %s\n", o.out);
    return 0;
}
