/*
 * prom.c — the Prometheus text exposition writer shared by every metric:
 * formatted appends to a capped buffer and label-value escaping.
 */
#include "prom.h"

#include <stdarg.h>
#include <stdio.h>

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

void weir_prom_escape(char *out, size_t outsz, const char *value)
{
    size_t o = 0;
    if (outsz == 0)
        return;
    for (const char *p = value; *p && o + 3 < outsz; p++) {
        if (*p == '\\' || *p == '"') {
            out[o++] = '\\';
            out[o++] = *p;
        } else if (*p == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}
