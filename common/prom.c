/*
 * prom.c — the Prometheus text exposition writer shared by every metric
 * weir exposes (service/metrics.c, the drift monitor, `weir run`'s own
 * gauges). It owns the format's rules: which names are valid, how a family is
 * announced, how label values and help texts are escaped (backslash, double
 * quote, newline; bytes that are not UTF-8 replaced), how numbers are written
 * and how a histogram's cumulative buckets are laid out. Callers only say what
 * they measure.
 */
#include "prom.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD in UTF-8 */

int weir_buf_printf(weir_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (need < 0)
        return WEIR_EINVAL;
    int rc = weir_buf_reserve(b, (size_t)need + 1);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)need + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)need;
    return 0;
}

static int fail(weir_prom_t *p, int rc)
{
    if (!p->rc)
        p->rc = rc;
    return p->rc;
}

static int is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* [a-zA-Z_:][a-zA-Z0-9_:]*, at most WEIR_PROM_MAX_NAME bytes. */
static int valid_metric_name(const char *s)
{
    size_t i = 0;
    if (!s || !(is_alpha(s[0]) || s[0] == ':'))
        return 0;
    for (; s[i]; i++)
        if (!(is_alpha(s[i]) || is_digit(s[i]) || s[i] == ':') || i == WEIR_PROM_MAX_NAME)
            return 0;
    return 1;
}

/* [a-zA-Z_][a-zA-Z0-9_]*, not the reserved __ prefix, at most WEIR_PROM_MAX_NAME bytes. */
static int valid_label_name(const char *s)
{
    if (!s || !is_alpha(s[0]) || (s[0] == '_' && s[1] == '_'))
        return 0;
    for (size_t i = 0; s[i]; i++)
        if (!(is_alpha(s[i]) || is_digit(s[i])) || i == WEIR_PROM_MAX_NAME)
            return 0;
    return 1;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && !memcmp(s + ls - lx, suffix, lx);
}

/* FNV-1a: families are remembered by hash, so the writer owns no copies. */
static uint64_t name_hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

/* Length of the well-formed UTF-8 sequence at @p s (NUL-terminated), 0 when
 * it is not one: overlong forms, surrogates and code points past U+10FFFF are
 * refused (RFC 3629). */
static size_t utf8_length(const unsigned char *s)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* Appends @p s with backslash and newline escaped, the double quote too when
 * @p quote (label values), and every byte that starts no UTF-8 sequence
 * replaced with U+FFFD. */
static int put_escaped(weir_buf_t *b, const char *s, int quote)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t run = 0, i = 0;
    int rc = 0;
    while (u[i] && !rc) {
        size_t n = utf8_length(u + i);
        const char *escape = NULL;
        if (n == 0)
            escape = REPLACEMENT;
        else if (u[i] == '\\')
            escape = "\\\\";
        else if (u[i] == '\n')
            escape = "\\n";
        else if (quote && u[i] == '"')
            escape = "\\\"";
        if (!escape) {
            i += n;
            continue;
        }
        rc = weir_buf_append(b, s + run, i - run);
        if (!rc)
            rc = weir_buf_append(b, escape, strlen(escape));
        i += n ? n : 1;
        run = i;
    }
    if (!rc)
        rc = weir_buf_append(b, s + run, i - run);
    return rc;
}

void weir_prom_format_double(char *out, size_t outsz, double v)
{
    if (isnan(v)) {
        snprintf(out, outsz, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, outsz, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(out, outsz, "%.*g", precision, v);
        if (strtod(out, NULL) == v)
            return;
    }
}

void weir_prom_init(weir_prom_t *p, weir_buf_t *out)
{
    memset(p, 0, sizeof(*p));
    p->out = out;
}

int weir_prom_finish(const weir_prom_t *p)
{
    return p->rc;
}

static const char *type_name(weir_prom_type_t type)
{
    switch (type) {
    case WEIR_PROM_COUNTER:
        return "counter";
    case WEIR_PROM_GAUGE:
        return "gauge";
    case WEIR_PROM_HISTOGRAM:
        return "histogram";
    }
    return NULL;
}

int weir_prom_family(weir_prom_t *p, const char *name, weir_prom_type_t type, const char *help)
{
    const char *kind = type_name(type);
    if (p->rc)
        return p->rc;
    p->open = 0;
    if (!kind || !valid_metric_name(name) || !help || !*help)
        return fail(p, WEIR_EINVAL);
    /* promtool's naming rules: only counters end in _total, and only a
     * histogram's own series in _bucket, _sum or _count */
    if ((type == WEIR_PROM_COUNTER) != ends_with(name, "_total") || ends_with(name, "_bucket") ||
        ends_with(name, "_sum") || ends_with(name, "_count"))
        return fail(p, WEIR_EINVAL);
    uint64_t h = name_hash(name);
    for (size_t i = 0; i < p->n_families; i++)
        if (p->families[i] == h)
            return fail(p, WEIR_EINVAL);
    if (p->n_families == WEIR_PROM_MAX_FAMILIES)
        return fail(p, WEIR_ELIMIT);
    weir_buf_t *b = p->out;
    size_t start = b->len;
    int rc = weir_buf_printf(b, "# HELP %s ", name);
    if (!rc)
        rc = put_escaped(b, help, 0);
    if (!rc)
        rc = weir_buf_printf(b, "\n# TYPE %s %s\n", name, kind);
    if (rc) {
        b->len = start;
        return fail(p, rc);
    }
    p->families[p->n_families++] = h;
    snprintf(p->family, sizeof(p->family), "%s", name);
    p->type = type;
    p->open = 1;
    return 0;
}

/* One sample line: family + suffix, the label pairs of @p ap (then `le` when
 * given), the value. Nothing is left in the buffer when it fails. */
static int write_sample(weir_prom_t *p, const char *suffix, const char *le, const char *value,
                        va_list ap)
{
    weir_buf_t *b = p->out;
    size_t start = b->len, n = 0;
    const char *names[WEIR_PROM_MAX_LABELS];
    int rc = weir_buf_printf(b, "%s%s", p->family, suffix);
    for (const char *name; !rc && (name = va_arg(ap, const char *)) != NULL;) {
        const char *label = va_arg(ap, const char *);
        if (!valid_label_name(name) || !label || (le && !strcmp(name, "le")) ||
            n == WEIR_PROM_MAX_LABELS - (le != NULL)) {
            rc = WEIR_EINVAL;
            break;
        }
        for (size_t i = 0; i < n && !rc; i++)
            if (!strcmp(names[i], name))
                rc = WEIR_EINVAL;
        names[n] = name;
        if (!rc)
            rc = weir_buf_printf(b, "%s%s=\"", n ? "," : "{", name);
        if (!rc)
            rc = put_escaped(b, label, 1);
        if (!rc)
            rc = weir_buf_append(b, "\"", 1);
        n++;
    }
    if (!rc && le) {
        rc = weir_buf_printf(b, "%sle=\"%s\"", n ? "," : "{", le);
        n++;
    }
    if (!rc)
        rc = weir_buf_printf(b, "%s %s\n", n ? "}" : "", value);
    if (rc) {
        b->len = start;
        return fail(p, rc);
    }
    return 0;
}

static int sample_ready(weir_prom_t *p)
{
    if (p->rc)
        return p->rc;
    if (!p->open || p->type == WEIR_PROM_HISTOGRAM)
        return fail(p, WEIR_EINVAL);
    return 0;
}

int weir_prom_sample(weir_prom_t *p, double value, ...)
{
    char text[32];
    int rc = sample_ready(p);
    if (rc)
        return rc;
    weir_prom_format_double(text, sizeof(text), value);
    va_list ap;
    va_start(ap, value);
    rc = write_sample(p, "", NULL, text, ap);
    va_end(ap);
    return rc;
}

int weir_prom_sample_u64(weir_prom_t *p, uint64_t value, ...)
{
    char text[32];
    int rc = sample_ready(p);
    if (rc)
        return rc;
    snprintf(text, sizeof(text), "%llu", (unsigned long long)value);
    va_list ap;
    va_start(ap, value);
    rc = write_sample(p, "", NULL, text, ap);
    va_end(ap);
    return rc;
}

int weir_prom_histogram(weir_prom_t *p, const double *bounds, const uint64_t *counts, size_t n,
                        uint64_t count, double sum, ...)
{
    char value[32], le[32];
    uint64_t cumulative = 0;
    int rc = 0;
    va_list ap, each;
    if (p->rc)
        return p->rc;
    if (!p->open || p->type != WEIR_PROM_HISTOGRAM)
        return fail(p, WEIR_EINVAL);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1])) ||
            counts[i] > count - cumulative)
            return fail(p, WEIR_EINVAL);
        cumulative += counts[i];
    }
    size_t start = p->out->len;
    va_start(ap, sum);
    cumulative = 0;
    for (size_t i = 0; i <= n && !rc; i++) {
        cumulative = i < n ? cumulative + counts[i] : count;
        if (i < n)
            weir_prom_format_double(le, sizeof(le), bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        snprintf(value, sizeof(value), "%llu", (unsigned long long)cumulative);
        va_copy(each, ap);
        rc = write_sample(p, "_bucket", le, value, each);
        va_end(each);
    }
    if (!rc) {
        weir_prom_format_double(value, sizeof(value), sum);
        va_copy(each, ap);
        rc = write_sample(p, "_sum", NULL, value, each);
        va_end(each);
    }
    if (!rc) {
        snprintf(value, sizeof(value), "%llu", (unsigned long long)count);
        va_copy(each, ap);
        rc = write_sample(p, "_count", NULL, value, each);
        va_end(each);
    }
    va_end(ap);
    if (rc)
        p->out->len = start;
    return rc;
}
