/*
 * common.c — error names, capped byte buffers, the per-batch arena and small
 * parsers shared by every module. Pure: no I/O and no global state.
 */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *weir_strerror(int code)
{
    switch (code) {
    case WEIR_OK:
        return "success";
    case WEIR_EINVAL:
        return "invalid argument";
    case WEIR_ENOMEM:
        return "out of memory";
    case WEIR_EIO:
        return "I/O error";
    case WEIR_ELIMIT:
        return "size limit reached";
    case WEIR_ECONFIG:
        return "configuration error";
    case WEIR_EDECODE:
        return "malformed Avro data";
    case WEIR_ESCHEMA:
        return "unknown or unusable schema";
    case WEIR_EMISSING:
        return "missing value";
    case WEIR_ECATEGORY:
        return "unknown category";
    case WEIR_ENONFINITE:
        return "non-finite feature value";
    case WEIR_ETYPE:
        return "value of the wrong type";
    case WEIR_EMODEL:
        return "invalid model bundle";
    case WEIR_EKAFKA:
        return "Kafka client error";
    case WEIR_EFULL:
        return "queue full";
    case WEIR_ETIMEDOUT:
        return "timed out";
    case WEIR_ESTATE:
        return "invalid state";
    case WEIR_ESTOPPED:
        return "stopped";
    default:
        return "unknown error";
    }
}

const char *weir_reason_name(weir_reason_t reason)
{
    static const char *names[WEIR_REASON__COUNT] = {
        [WEIR_REASON_NONE] = "none",
        [WEIR_REASON_EMPTY_VALUE] = "empty_value",
        [WEIR_REASON_BAD_FRAMING] = "bad_framing",
        [WEIR_REASON_UNKNOWN_SCHEMA] = "unknown_schema_id",
        [WEIR_REASON_TRUNCATED] = "truncated",
        [WEIR_REASON_TRAILING_BYTES] = "trailing_bytes",
        [WEIR_REASON_BAD_LENGTH] = "bad_length",
        [WEIR_REASON_BAD_UNION] = "bad_union_index",
        [WEIR_REASON_BAD_ENUM] = "bad_enum_index",
        [WEIR_REASON_TOO_LARGE] = "too_large",
        [WEIR_REASON_MISSING_VALUE] = "missing_value",
        [WEIR_REASON_UNKNOWN_CATEGORY] = "unknown_category",
        [WEIR_REASON_INVALID_VALUE] = "invalid_value",
        [WEIR_REASON_DECODE] = "decode_error",
        [WEIR_REASON_UNREGISTERED] = "unregistered_schema_id",
        [WEIR_REASON_INCOMPATIBLE] = "incompatible_schema",
    };
    if ((int)reason < 0 || reason >= WEIR_REASON__COUNT)
        return "unknown";
    return names[reason];
}

int weir_seterr(char *err, size_t errsz, int code, const char *fmt, ...)
{
    if (err && errsz > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errsz, fmt, ap);
        va_end(ap);
    }
    return code;
}

void weir_buf_init(weir_buf_t *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void weir_buf_dispose(weir_buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int weir_buf_reserve(weir_buf_t *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return WEIR_ELIMIT;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > b->max / 2 ? b->max : cap * 2;
    uint8_t *p = realloc(b->data, cap);
    if (!p)
        return WEIR_ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int weir_buf_append(weir_buf_t *b, const void *p, size_t n)
{
    int rc = weir_buf_reserve(b, n);
    if (rc == 0 && n > 0) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
    return rc;
}

struct weir_arena_block {
    weir_arena_block_t *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

void weir_arena_init(weir_arena_t *a, size_t block_size, size_t max)
{
    memset(a, 0, sizeof(*a));
    a->block_size = block_size < 1024 ? 1024 : block_size;
    a->max = max;
}

void weir_arena_dispose(weir_arena_t *a)
{
    weir_arena_block_t *b = a->blocks;
    while (b) {
        weir_arena_block_t *next = b->next;
        free(b);
        b = next;
    }
    memset(a, 0, sizeof(*a));
}

void *weir_arena_alloc(weir_arena_t *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    weir_arena_block_t *b = a->current;
    /* Reuse the chain of blocks kept from earlier batches before growing. */
    while (b && b->size - b->used < n) {
        b = b->next;
        if (b)
            b->used = 0;
        a->current = b ? b : a->current;
    }
    if (!b) {
        size_t size = n > a->block_size ? n : a->block_size;
        if (size > a->max || a->reserved > a->max - size)
            return NULL;
        b = malloc(sizeof(*b) + size);
        if (!b)
            return NULL;
        b->next = NULL;
        b->size = size;
        b->used = 0;
        a->reserved += size;
        if (a->current)
            a->current->next = b;
        else
            a->blocks = b;
        a->current = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    a->used_total += n;
    return p;
}

char *weir_arena_strndup(weir_arena_t *a, const char *s, size_t n)
{
    char *p = weir_arena_alloc(a, n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void weir_arena_reset(weir_arena_t *a)
{
    a->current = a->blocks;
    if (a->current)
        a->current->used = 0;
    a->used_total = 0;
}

int weir_parse_duration_ms(const char *s, int64_t *ms)
{
    if (!s)
        return WEIR_EINVAL;
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return WEIR_EINVAL;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || v < 0)
        return WEIR_EINVAL;
    double scale;
    if (!strcmp(end, "") || !strcmp(end, "ms"))
        scale = 1;
    else if (!strcmp(end, "s"))
        scale = 1e3;
    else if (!strcmp(end, "m"))
        scale = 60e3;
    else if (!strcmp(end, "h"))
        scale = 3600e3;
    else if (!strcmp(end, "d"))
        scale = 86400e3;
    else
        return WEIR_EINVAL;
    double r = v * scale;
    if (r > 9.2e18)
        return WEIR_EINVAL;
    *ms = (int64_t)r;
    return 0;
}
