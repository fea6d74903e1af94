/*
 * log.c — logfmt lines on stderr. Each line is written with one fputs so that
 * lines from the process never interleave mid-line.
 */
#include "log.h"
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static weir_log_level_t min_level = WEIR_LOG_INFO;

#define MAX_SECRETS 64
#define REDACTED "[redacted]"
/* Written while setting up, read by whoever logs afterwards. */
static char *secrets[MAX_SECRETS];
static size_t secret_count;

static const char *level_names[] = {"debug", "info", "warn", "error", "off"};

void weir_log_set_level(weir_log_level_t level)
{
    min_level = level;
}

int weir_log_parse_level(const char *s, weir_log_level_t *out)
{
    for (int i = 0; i <= WEIR_LOG_OFF; i++) {
        if (!strcasecmp(s, level_names[i])) {
            *out = (weir_log_level_t)i;
            return 0;
        }
    }
    if (!strcasecmp(s, "warning")) {
        *out = WEIR_LOG_WARN;
        return 0;
    }
    return WEIR_EINVAL;
}

int weir_log_enabled(weir_log_level_t level)
{
    return level >= min_level && level < WEIR_LOG_OFF;
}

weir_log_level_t weir_log_from_syslog(int severity)
{
    return severity <= 3   ? WEIR_LOG_ERROR
           : severity == 4 ? WEIR_LOG_WARN
           : severity <= 6 ? WEIR_LOG_INFO
                           : WEIR_LOG_DEBUG;
}

void weir_log_add_secret(const char *value)
{
    /* shorter values would blank out ordinary letters of every line */
    if (!value || strlen(value) < WEIR_LOG_SECRET_MIN || secret_count == MAX_SECRETS)
        return;
    for (size_t i = 0; i < secret_count; i++)
        if (!strcmp(secrets[i], value))
            return;
    char *copy = strdup(value);
    if (copy)
        secrets[secret_count++] = copy;
}

void weir_log_clear_secrets(void)
{
    for (size_t i = 0; i < secret_count; i++)
        free(secrets[i]);
    secret_count = 0;
}

/* Copies @p s into @p out with every registered secret replaced; returns
 * @p s itself when there is nothing to replace. */
static const char *redact(const char *s, char *out, size_t outsz)
{
    if (!s || secret_count == 0)
        return s;
    int found = 0;
    for (size_t i = 0; i < secret_count && !found; i++)
        found = strstr(s, secrets[i]) != NULL;
    if (!found)
        return s;
    size_t o = 0;
    while (*s && o + 1 < outsz) {
        size_t hit = 0;
        for (size_t i = 0; i < secret_count && !hit; i++) {
            size_t n = strlen(secrets[i]);
            if (!strncmp(s, secrets[i], n))
                hit = n;
        }
        if (hit) {
            o += (size_t)snprintf(out + o, outsz - o, "%s", REDACTED);
            if (o >= outsz)
                o = outsz - 1;
            s += hit;
        } else {
            out[o++] = *s++;
        }
    }
    out[o] = '\0';
    return out;
}

void weir_log_quote(char *out, size_t outsz, const char *s)
{
    if (outsz == 0)
        return;
    if (!s)
        s = "";
    int needs = *s == '\0';
    for (const char *p = s; *p && !needs; p++)
        needs = *p == ' ' || *p == '"' || *p == '=' || *p == '\\' || (unsigned char)*p < 0x20;
    size_t o = 0;
    if (!needs) {
        snprintf(out, outsz, "%s", s);
        return;
    }
    out[o++] = '"';
    for (const char *p = s; *p && o + 3 < outsz; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c < 0x20) {
            out[o++] = ' ';
        } else {
            out[o++] = (char)c;
        }
    }
    if (o < outsz - 1)
        out[o++] = '"';
    out[o] = '\0';
}

void weir_log(weir_log_level_t level, const char *msg, ...)
{
    if (!weir_log_enabled(level))
        return;
    char line[4096];
    char quoted[1024], clean[1024];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(line, sizeof(line), "ts=%Y-%m-%dT%H:%M:%S", &tm);
    weir_log_quote(quoted, sizeof(quoted), redact(msg, clean, sizeof(clean)));
    n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ level=%s msg=%s",
                          ts.tv_nsec / 1000000L, level_names[level], quoted);
    va_list ap;
    va_start(ap, msg);
    const char *key;
    while ((key = va_arg(ap, const char *)) != NULL && n < sizeof(line) - 2) {
        const char *value = va_arg(ap, const char *);
        weir_log_quote(quoted, sizeof(quoted), redact(value, clean, sizeof(clean)));
        n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%s", key, quoted);
    }
    va_end(ap);
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    line[n] = '\0';
    fputs(line, stderr);
}
